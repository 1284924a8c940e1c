/*
 * Per-VP descriptor tables and data. Each VP has its own GDT and TSS
 * (x86/gdt.h's layout; the TSS holds the IST stacks that NMI, #DF and #MC
 * run on, so a broken stack still gets a report) and finds its struct
 * vp_cpu through GS.
 */
#include <string.h>
#include "root.h"

struct vp_cpu vps[ROOT_MAX_VPS];
unsigned vp_count;
volatile unsigned vps_online;

void vp_setup(struct vp_cpu *v, unsigned slot, uint32_t apic_id,
	      uint64_t stack_top)
{
	memset(v, 0, sizeof(*v));
	v->self = v;
	v->slot = slot;
	v->apic_id = apic_id;
	v->vp_index = slot;
	v->stack_top = stack_top;
	v->tss.ist[IST_NMI - 1] = stack_alloc(PAGE_SIZE);
	v->tss.ist[IST_DF - 1] = stack_alloc(PAGE_SIZE);
	v->tss.ist[IST_MC - 1] = stack_alloc(PAGE_SIZE);
	v->tss.iomap_base = sizeof(struct tss64);  /* no I/O bitmap */
	gdt_build(v->gdt, &v->tss);
	if (slot >= vp_count)
		vp_count = slot + 1;
}

void vp_load_tables(struct vp_cpu *v)
{
	gdt_load(v->gdt);
	/* A VP started by HvCallStartVirtualProcessor already runs with TR
	 * loaded from its context (and the descriptor marked busy); ltr on
	 * a busy descriptor would #GP. */
	if (str() != GDT_TSS)
		ltr(GDT_TSS);
	wrmsr(MSR_GS_BASE, (uint64_t)v);
	idt_use_ist();
	idt_load();
}

/* The calling VP's slot; 0 before any VP has its GS set (only the boot VP
 * runs then) or when GS does not point into the table. */
unsigned current_vp_slot(void)
{
	uint64_t gs = rdmsr(MSR_GS_BASE);

	if (gs < (uint64_t)&vps[0] || gs >= (uint64_t)&vps[ROOT_MAX_VPS] ||
	    (gs - (uint64_t)&vps[0]) % sizeof(vps[0]))
		return 0;
	return ((struct vp_cpu *)gs)->slot;
}
