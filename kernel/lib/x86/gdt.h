/*
 * The GDT and TSS every CPU of every image runs with: one flat 64-bit
 * code and one data segment, and a TSS whose IST stacks catch NMI, #DF
 * and #MC. Each CPU has its own GDT and TSS; the layout is the same
 * everywhere, so trap_entry.S's gates and the AP start-up agree with it.
 */
#ifndef KLIB_X86_GDT_H
#define KLIB_X86_GDT_H

#include <stdint.h>

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "tss64");

#define GDT_CODE64 0x08
#define GDT_DATA   0x10
#define GDT_TSS    0x18
#define GDT_ENTRIES 5                   /* null, code, data, TSS (2 slots) */

#define IST_NMI    1
#define IST_DF     2
#define IST_MC     3

/* Fill `gdt` with the layout above, its TSS descriptor naming `tss`
 * (available, not busy). */
void gdt_build(uint64_t gdt[GDT_ENTRIES], const struct tss64 *tss);
/* Load `gdt` and reload every segment register from it (FS and GS null:
 * their bases are MSRs). TR is the caller's: see ltr's busy rule. */
void gdt_load(const uint64_t gdt[GDT_ENTRIES]);

#endif
