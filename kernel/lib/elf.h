/*
 * ELF executables (ELF64 x86-64 and ELF32 i386) as partition kernels:
 * validate an image held in memory and describe what to load where,
 * without loading anything. The caller checks the destination ranges
 * against the partition's memory and copies. Also finds the multiboot2
 * header (first 32 KiB, 8-aligned) and the multiboot (1) header (first
 * 8 KiB, 4-aligned), and plans a multiboot (1) image by its header's
 * address fields (the "a.out kludge", flag 16), as GRUB does for any
 * image, ELF or not, that sets it.
 */
#ifndef KLIB_ELF_H
#define KLIB_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 8

struct elf_segment {
	uint64_t paddr;                 /* load address (physical) */
	uint64_t offset;                /* in the image */
	uint64_t filesz;
	uint64_t memsz;                 /* >= filesz; the rest is zeroed */
};

struct elf_plan {
	uint64_t entry;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
	unsigned count;
	uint64_t lowest, highest;       /* [lowest, highest) covers all */
	int64_t mb2_header_offset;      /* -1 when absent */
	int64_t mb1_header_offset;      /* multiboot 1 (first 8 KiB), -1 */
	bool elf32;                     /* an ELF32 i386 image */
};

/* Multiboot (1) header flags (the multiboot specification, 3.1.2). */
#define MB1_HEADER_MAGIC        0x1badb002u
#define MB1_FLAG_PAGE_ALIGN     (1u << 0)       /* modules on 4 KiB */
#define MB1_FLAG_MEMORY_INFO    (1u << 1)
#define MB1_FLAG_VIDEO_MODE     (1u << 2)
#define MB1_FLAG_AOUT_KLUDGE    (1u << 16)      /* use the address fields */

struct mb1_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
	uint32_t mode_type, width, height, depth;
};

/* The multiboot (1) header of an image: its offset, or -1. */
int64_t mb1_find_header(const void *image, size_t size);

/* 0, or -1 with *err: not ELF64 little-endian x86-64 ET_EXEC, program
 * headers outside the image, a segment whose file part is outside the
 * image, filesz > memsz, an address range that wraps, too many or no
 * PT_LOAD segments, or overlapping segments. */
int elf_plan(const void *image, size_t size, struct elf_plan *plan,
	     const char **err);

/* The multiboot (1) header at `off`: 0, or -1 with *err for a required
 * feature we do not have (flag bits 3-15 set: GRUB refuses them too) or,
 * with the a.out kludge, address fields that do not describe a load
 * inside the image (load_addr <= header_addr, load_end_addr 0 or past
 * load_addr and within the file, bss_end_addr 0 or past load_end_addr,
 * the entry inside what is loaded). With the kludge `plan` becomes the
 * one segment the fields say; without it `plan` is left as it is. */
int mb1_plan(const void *image, size_t size, int64_t off, struct elf_plan *plan,
	     const char **err);

#endif
