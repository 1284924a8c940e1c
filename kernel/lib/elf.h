/*
 * ELF64 executables as partition kernels: validate an image held in
 * memory and describe what to load where, without loading anything. The
 * caller checks the destination ranges against the partition's memory and
 * copies. Also finds the multiboot2 header (first 32 KiB, 8-aligned).
 */
#ifndef KLIB_ELF_H
#define KLIB_ELF_H

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
};

/* 0, or -1 with *err: not ELF64 little-endian x86-64 ET_EXEC, program
 * headers outside the image, a segment whose file part is outside the
 * image, filesz > memsz, an address range that wraps, too many or no
 * PT_LOAD segments, or overlapping segments. */
int elf_plan(const void *image, size_t size, struct elf_plan *plan,
	     const char **err);

#endif
