/*
 * Per-CPU descriptor tables and data. Each CPU has its own GDT and TSS
 * (x86/gdt.h's layout; the TSS holds the IST stacks that NMI, #DF and #MC
 * run on, so a broken stack still gets a report) and finds its struct
 * percpu through GS.
 */
#include <string.h>
#include "../../hv.h"
#include "cpu.h"

struct percpu *cpus[HV_MAX_CPUS];
unsigned cpu_count;
volatile unsigned cpus_online;

_Static_assert(HV_STACK_SIZE == KSTACK_SIZE, "backtraces walk one stack");

static uint64_t alloc_stack(unsigned pages)
{
	return (uint64_t)pages_alloc_zeroed(pages) + pages * PAGE_SIZE;
}

struct percpu *percpu_alloc(unsigned index, uint32_t apic)
{
	struct percpu *p = page_alloc_zeroed();

	_Static_assert(sizeof(struct percpu) <= PAGE_SIZE, "percpu in a page");
	p->self = p;
	p->index = index;
	p->apic_id = apic;
	p->stack_top = alloc_stack(HV_STACK_SIZE / PAGE_SIZE);
	p->tss.ist[IST_NMI - 1] = alloc_stack(1);
	p->tss.ist[IST_DF - 1] = alloc_stack(1);
	p->tss.ist[IST_MC - 1] = alloc_stack(1);
	p->tss.iomap_base = sizeof(struct tss64);
	gdt_build(p->gdt, &p->tss);
	cpus[index] = p;
	return p;
}

void cpu_load_tables(struct percpu *p)
{
	gdt_load(p->gdt);
	ltr(GDT_TSS);
	wrmsr(MSR_GS_BASE, (uint64_t)p);
	idt_use_ist();
	idt_load();
}
