/* Building and loading a CPU's GDT (see gdt.h). */
#include <isovisor/x86.h>
#include "x86/gdt.h"

#define TSS_AVAILABLE 0x89ull           /* present, 64-bit TSS, not busy */

void gdt_build(uint64_t gdt[GDT_ENTRIES], const struct tss64 *tss)
{
	uint64_t base = (uint64_t)tss;

	gdt[0] = 0;
	gdt[GDT_CODE64 / 8] = 0x00af9a000000ffffull;    /* 64-bit code, DPL 0 */
	gdt[GDT_DATA / 8] = 0x00cf92000000ffffull;      /* data */
	/* 16-byte 64-bit TSS descriptor: base split over both slots. */
	gdt[GDT_TSS / 8] = (sizeof(*tss) - 1) | ((base & 0xffffff) << 16) |
			   (TSS_AVAILABLE << 40) | (((base >> 24) & 0xff) << 56);
	gdt[GDT_TSS / 8 + 1] = base >> 32;
}

void gdt_load(const uint64_t gdt[GDT_ENTRIES])
{
	struct descriptor_table_ptr gdtr = { GDT_ENTRIES * 8 - 1,
					     (uint64_t)gdt };

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
}
