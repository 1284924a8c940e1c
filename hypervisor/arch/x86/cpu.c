/*
 * Per-CPU descriptor tables and data. Each CPU has its own GDT and TSS
 * (the TSS holds the IST stacks that NMI, #DF and #MC run on, so a broken
 * stack still gets a report) and finds its struct percpu through GS.
 */
#include <string.h>
#include "../../hv.h"
#include "cpu.h"

struct percpu *cpus[HV_MAX_CPUS];
unsigned cpu_count;
volatile unsigned cpus_online;

static uint64_t alloc_stack(unsigned pages)
{
	return (uint64_t)pages_alloc_zeroed(pages) + pages * PAGE_SIZE;
}

struct percpu *percpu_alloc(unsigned index, uint32_t apic)
{
	struct percpu *p = page_alloc_zeroed();
	uint64_t tss = (uint64_t)&p->tss;

	_Static_assert(sizeof(struct percpu) <= PAGE_SIZE, "percpu in a page");
	p->self = p;
	p->index = index;
	p->apic_id = apic;
	p->stack_top = alloc_stack(HV_STACK_SIZE / PAGE_SIZE);
	p->tss.ist[IST_NMI - 1] = alloc_stack(1);
	p->tss.ist[IST_DF - 1] = alloc_stack(1);
	p->tss.ist[IST_MC - 1] = alloc_stack(1);
	p->tss.iomap_base = sizeof(struct tss64);

	p->gdt[0] = 0;
	p->gdt[1] = 0x00af9a000000ffffull;      /* 64-bit code, DPL 0 */
	p->gdt[2] = 0x00cf92000000ffffull;      /* data */
	/* 16-byte available 64-bit TSS descriptor */
	p->gdt[3] = (sizeof(struct tss64) - 1) | ((tss & 0xffffff) << 16) |
		    (0x89ull << 40) | (((tss >> 24) & 0xff) << 56);
	p->gdt[4] = tss >> 32;
	cpus[index] = p;
	return p;
}

void cpu_load_tables(struct percpu *p)
{
	struct descriptor_table_ptr gdtr = { sizeof(p->gdt) - 1,
					     (uint64_t)p->gdt };

	lgdt(&gdtr);
	/* Reload CS with a far return, then the data segments. */
	__asm__ volatile("pushq %[cs]\n"
			 "leaq 1f(%%rip), %%rax\n"
			 "pushq %%rax\n"
			 "lretq\n"
			 "1:\n"
			 "movw %[ds], %%ax\n"
			 "movw %%ax, %%ds\n"
			 "movw %%ax, %%es\n"
			 "movw %%ax, %%ss\n"
			 : : [cs] "i"(GDT_CODE64), [ds] "i"(GDT_DATA)
			 : "rax", "memory");
	ltr(GDT_TSS);
	wrmsr(MSR_GS_BASE, (uint64_t)p);
	idt_load();
}
