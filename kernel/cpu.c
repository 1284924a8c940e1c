/*
 * Per-VP descriptor tables and data. Each VP has its own GDT and TSS (the
 * TSS holds the IST stacks that NMI, #DF and #MC run on, so a broken stack
 * still gets a report) and finds its struct vp_cpu through GS.
 */
#include <string.h>
#include "root.h"

#define TSS_AVAILABLE 0x89ull           /* present, 64-bit TSS, not busy */

struct vp_cpu vps[ROOT_MAX_VPS];
unsigned vp_count;
volatile unsigned vps_online;

/* 16-byte 64-bit TSS descriptor: base split over both slots. */
static void gdt_set_tss(uint64_t *gdt, const struct tss64 *tss)
{
	uint64_t base = (uint64_t)tss;

	gdt[GDT_TSS / 8] = (sizeof(*tss) - 1) | ((base & 0xffffff) << 16) |
			   (TSS_AVAILABLE << 40) | (((base >> 24) & 0xff) << 56);
	gdt[GDT_TSS / 8 + 1] = base >> 32;
}

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
	v->gdt[0] = 0;
	v->gdt[GDT_CODE64 / 8] = 0x00af9a000000ffffull;   /* 64-bit code */
	v->gdt[GDT_DATA / 8] = 0x00cf92000000ffffull;     /* data */
	gdt_set_tss(v->gdt, &v->tss);
	if (slot >= vp_count)
		vp_count = slot + 1;
}

void vp_load_tables(struct vp_cpu *v)
{
	struct descriptor_table_ptr gdtr = { sizeof(v->gdt) - 1,
					     (uint64_t)v->gdt };

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
			 "xorl %%eax, %%eax\n"
			 "movw %%ax, %%fs\n"
			 "movw %%ax, %%gs\n"
			 : : [cs] "i"(GDT_CODE64), [ds] "i"(GDT_DATA)
			 : "rax", "memory");
	/* A VP started by HvCallStartVirtualProcessor already runs with TR
	 * loaded from its context (and the descriptor marked busy); ltr on
	 * a busy descriptor would #GP. */
	if (str() != GDT_TSS)
		ltr(GDT_TSS);
	wrmsr(MSR_GS_BASE, (uint64_t)v);
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
