/*
 * Linux's x86 boot protocol (Documentation/arch/x86/boot.rst) for a child
 * partition: validate a bzImage held in memory, say where its parts go,
 * and build the zero page (struct boot_params) the 32-bit entry reads, as
 * a boot loader that skips the real-mode setup code does. Untrusted
 * input: every offset and size in the setup header is checked against the
 * image before anything is read through it. Nothing is loaded here; the
 * caller checks the ranges against the partition's memory and copies.
 */
#ifndef KLIB_BZIMAGE_H
#define KLIB_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#define BZ_LOAD_ADDR      0x100000u     /* the protected-mode kernel */
#define BZ_ZERO_PAGE_SIZE 4096u
#define BZ_E820_MAX       128u          /* boot_params.e820_table[] */

/* boot_params offsets the loader writes (boot.rst, "zero page"). */
#define BZ_ACPI_RSDP_ADDR  0x070
#define BZ_EXT_RAMDISK_IMG 0x0c0
#define BZ_EXT_RAMDISK_SZ  0x0c4
#define BZ_EXT_CMD_LINE    0x0c8
#define BZ_E820_ENTRIES    0x1e8
#define BZ_SETUP_HEADER    0x1f1
#define BZ_E820_TABLE      0x2d0

/* e820 types */
#define BZ_E820_RAM      1
#define BZ_E820_RESERVED 2
#define BZ_E820_ACPI     3

struct bz_e820 {
	uint64_t addr, size;
	uint32_t type;
};

struct bzimage_plan {
	uint16_t version;               /* boot protocol, e.g. 0x020f */
	uint64_t kernel_offset;         /* protected-mode part in the file */
	uint64_t kernel_size;
	uint64_t load_addr;             /* where it goes (BZ_LOAD_ADDR) */
	uint64_t entry;                 /* the 32-bit entry point */
	uint32_t cmdline_max;           /* bytes, without the NUL */
	uint64_t initrd_max;            /* highest byte an initrd may use */
	/* RAM the kernel needs below this address to decompress and run:
	 * its preferred address (or the load address) plus init_size. */
	uint64_t needs_below;
	uint32_t header_end;            /* the setup header ends here */
};

/* What the loader put where, for the zero page. */
struct bzimage_layout {
	uint64_t cmdline_gpa;           /* 0: none */
	uint64_t initrd_gpa, initrd_size;
	uint64_t rsdp_gpa;              /* 0: none */
	const struct bz_e820 *e820;
	unsigned e820_count;
};

/* 0, or -1 with *err: too small, no 0xAA55 boot flag or "HdrS" magic, a
 * boot protocol older than 2.12 (64-bit kernels with xloadflags), not a
 * bzImage (LOADED_HIGH clear), setup sectors or the kernel part outside
 * the image. */
int bzimage_plan(const void *image, size_t size, struct bzimage_plan *plan,
		 const char **err);

/* The highest page-aligned address at which an initrd of `size` bytes
 * fits under both `ram_end` and the kernel's initrd_addr_max, at or above
 * `floor`; 0 when none does. */
uint64_t bzimage_initrd_addr(const struct bzimage_plan *plan, uint64_t ram_end,
			     uint64_t floor, uint64_t size);

/* Build the zero page: zeros, the image's setup header copied in, and
 * the loader's fields (type_of_loader, command line, initrd, e820 table,
 * ACPI RSDP). 0, or -1 with *err: too many e820 entries, a command line
 * or initrd above 4 GiB on a protocol without the ext_ fields. */
int bzimage_zero_page(const void *image, const struct bzimage_plan *plan,
		      const struct bzimage_layout *layout,
		      uint8_t zero_page[BZ_ZERO_PAGE_SIZE], const char **err);

#endif
