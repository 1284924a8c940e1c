/*
 * Host tests for the physical range list (kernel/lib/memmap.c): adding
 * and removing ranges, and building the usable set from BIOS and EFI
 * multiboot2 maps, including maps that overlap, disagree or overflow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <isovisor/multiboot2.h>
#include "check.h"
#include "memmap.h"

#define KiB 1024ull
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define TOP_PAGE (UINT64_MAX & ~(PAGE_SIZE - 1))

static struct memmap mm;

/* The list invariant every operation must keep. */
static bool well_formed(const struct memmap *m)
{
	for (unsigned i = 0; i < m->count; i++) {
		const struct mem_range *r = &m->r[i];

		if (r->start % PAGE_SIZE || r->end % PAGE_SIZE ||
		    r->start >= r->end)
			return false;
		if (i && m->r[i - 1].end >= r->start)
			return false;
	}
	return m->count <= MEMMAP_MAX_RANGES;
}

/* mm holds exactly the `n` ranges in `want` (start, end pairs). */
static bool is(const uint64_t *want, unsigned n)
{
	if (mm.count != n || !well_formed(&mm))
		return false;
	for (unsigned i = 0; i < n; i++)
		if (mm.r[i].start != want[2 * i] ||
		    mm.r[i].end != want[2 * i + 1])
			return false;
	return true;
}

#define IS(...) is((const uint64_t[]){ __VA_ARGS__ }, \
		   sizeof((const uint64_t[]){ __VA_ARGS__ }) / 16)

static void reset(void)
{
	memset(&mm, 0xa5, sizeof(mm));
	mm.count = 0;
}

static void test_add(void)
{
	reset();
	CHECK(memmap_top(&mm) == 0 && memmap_total(&mm) == 0, "empty map");
	CHECK(memmap_add(&mm, 0x1000, 0x3000) == 0 && IS(0x1000, 0x3000),
	      "add one range");
	CHECK(memmap_add(&mm, 0x1001, 0x2fff) == 0 && IS(0x1000, 0x3000),
	      "sub-page range inside adds nothing");
	CHECK(memmap_add(&mm, 0x5001, 0x5fff) == 0 && mm.count == 1,
	      "range with no whole page dropped");
	CHECK(memmap_add(&mm, 0x9000, 0x8000) == 0 && mm.count == 1,
	      "end before start dropped");
	CHECK(memmap_add(&mm, 0x7000, 0x7000) == 0 && mm.count == 1,
	      "empty range dropped");
	CHECK(memmap_add(&mm, 0x10800, 0x13800) == 0 &&
	      IS(0x1000, 0x3000, 0x11000, 0x13000), "unaligned rounded inward");
	CHECK(memmap_add(&mm, 0x6000, 0x8000) == 0 &&
	      IS(0x1000, 0x3000, 0x6000, 0x8000, 0x11000, 0x13000),
	      "unsorted add lands in order");
	CHECK(memmap_add(&mm, 0x3000, 0x4000) == 0 &&
	      IS(0x1000, 0x4000, 0x6000, 0x8000, 0x11000, 0x13000),
	      "adjacent range merged");
	CHECK(memmap_add(&mm, 0x5000, 0x6000) == 0 &&
	      IS(0x1000, 0x4000, 0x5000, 0x8000, 0x11000, 0x13000),
	      "adjacent on the left merged");
	CHECK(memmap_add(&mm, 0x2000, 0x12000) == 0 && IS(0x1000, 0x13000),
	      "range bridging three merges them");
	CHECK(memmap_add(&mm, 0x0, 0x20000) == 0 && IS(0x0, 0x20000),
	      "covering range swallows everything");
	CHECK(memmap_total(&mm) == 0x20000 && memmap_top(&mm) == 0x20000,
	      "total and top");

	reset();
	CHECK(memmap_add(&mm, 4 * GiB, 8 * GiB) == 0 &&
	      memmap_add(&mm, 1 * MiB, 2 * GiB) == 0 &&
	      IS(1 * MiB, 2 * GiB, 4 * GiB, 8 * GiB), "memory above 4 GiB");
	CHECK(memmap_total(&mm) == 6 * GiB - 1 * MiB &&
	      memmap_top(&mm) == 8 * GiB, "total and top above 4 GiB");

	reset();
	CHECK(memmap_add(&mm, UINT64_MAX - 10, UINT64_MAX) == 0 &&
	      mm.count == 0, "start that would round past 2^64 dropped");
	CHECK(memmap_add(&mm, TOP_PAGE - PAGE_SIZE, UINT64_MAX) == 0 &&
	      IS(TOP_PAGE - PAGE_SIZE, TOP_PAGE), "end at 2^64-1 rounds down");
	CHECK(memmap_add(&mm, 0, UINT64_MAX) == 0 && IS(0, TOP_PAGE),
	      "whole address space");
	CHECK(memmap_total(&mm) == TOP_PAGE, "total of the whole space");
}

static void test_full(void)
{
	unsigned i;
	int ret = 0;

	reset();
	/* Descending adds exercise insertion at the front every time. */
	for (i = MEMMAP_MAX_RANGES; i > 0; i--)
		ret |= memmap_add(&mm, i * 0x10000, i * 0x10000 + 0x1000);
	CHECK(ret == 0 && mm.count == MEMMAP_MAX_RANGES && well_formed(&mm),
	      "%u disjoint ranges fit", MEMMAP_MAX_RANGES);
	CHECK(memmap_add(&mm, 0x1000, 0x2000) == -1 &&
	      mm.count == MEMMAP_MAX_RANGES, "one more is refused");
	CHECK(mm.r[0].start == 0x10000, "refused add changed nothing");
	CHECK(memmap_add(&mm, 0x11000, 0x13000) == 0 &&
	      mm.count == MEMMAP_MAX_RANGES && mm.r[0].end == 0x13000,
	      "merging add still works when full");
	CHECK(memmap_remove(&mm, 0x11400, 0x11800) == -1 &&
	      mm.r[0].start == 0x10000 && mm.r[0].end == 0x13000 &&
	      mm.count == MEMMAP_MAX_RANGES,
	      "split when full refused, map unchanged");
	CHECK(memmap_remove(&mm, 0x12000, 0x13000) == 0 &&
	      mm.r[0].end == 0x12000, "trim when full works");
	CHECK(memmap_remove(&mm, 0x10000, 0x12000) == 0 &&
	      mm.count == MEMMAP_MAX_RANGES - 1, "remove whole when full");
	CHECK(memmap_add(&mm, 0x20000, 0x23000) == 0 &&
	      memmap_remove(&mm, 0x21000, 0x22000) == 0 &&
	      mm.count == MEMMAP_MAX_RANGES && well_formed(&mm) &&
	      mm.r[0].end == 0x21000 && mm.r[1].start == 0x22000,
	      "after freeing a slot, a split works");
}

static void test_remove(void)
{
	reset();
	memmap_add(&mm, 0x1000, 0x10000);
	CHECK(memmap_remove(&mm, 0x4000, 0x6000) == 0 &&
	      IS(0x1000, 0x4000, 0x6000, 0x10000), "remove from the middle");
	CHECK(memmap_remove(&mm, 0x0, 0x2000) == 0 &&
	      IS(0x2000, 0x4000, 0x6000, 0x10000), "trim the front");
	CHECK(memmap_remove(&mm, 0xf000, 0x20000) == 0 &&
	      IS(0x2000, 0x4000, 0x6000, 0xf000), "trim the back");
	CHECK(memmap_remove(&mm, 0x7fff, 0x8001) == 0 &&
	      IS(0x2000, 0x4000, 0x6000, 0x7000, 0x9000, 0xf000),
	      "unaligned remove rounds outward");
	CHECK(memmap_remove(&mm, 0x3000, 0xa000) == 0 &&
	      IS(0x2000, 0x3000, 0xa000, 0xf000), "remove spanning ranges");
	CHECK(memmap_remove(&mm, 0x2000, 0x3000) == 0 && IS(0xa000, 0xf000),
	      "remove an exact range");
	CHECK(memmap_remove(&mm, 0x5000, 0x5000) == 0 && IS(0xa000, 0xf000),
	      "empty remove is a no-op");
	CHECK(memmap_remove(&mm, 0xe000, 0xb000) == 0 && IS(0xa000, 0xf000),
	      "inverted remove is a no-op");
	CHECK(memmap_remove(&mm, 0x20000, 0x30000) == 0 && IS(0xa000, 0xf000),
	      "remove outside every range");
	CHECK(memmap_remove(&mm, 0xc000, UINT64_MAX) == 0 &&
	      IS(0xa000, 0xc000), "remove to 2^64-1 (round-up overflows)");
	CHECK(memmap_remove(&mm, 0, UINT64_MAX) == 0 && mm.count == 0,
	      "remove everything");

	reset();
	memmap_add(&mm, 0, UINT64_MAX);
	CHECK(memmap_remove(&mm, UINT64_MAX - 5, UINT64_MAX) == 0 &&
	      IS(0, TOP_PAGE), "remove past the last page changes nothing");
	CHECK(memmap_remove(&mm, 4 * GiB, 4 * GiB + 1) == 0 &&
	      IS(0, 4 * GiB, 4 * GiB + PAGE_SIZE, TOP_PAGE),
	      "one-byte remove above 4 GiB takes its page");
}

/* BIOS-style map built straight into a struct mb2_info. */
static struct mb2_info mi;
static struct mb2_mmap_entry ents[256];

static int from_bios(unsigned n)
{
	const char *err = NULL;

	memset(&mi, 0, sizeof(mi));
	mi.mmap = (const uint8_t *)ents;
	mi.mmap_entry_size = sizeof(ents[0]);
	mi.mmap_count = n;
	memset(&mm, 0xa5, sizeof(mm));
	return memmap_from_mb2(&mm, &mi, &err);
}

static void ent(unsigned i, uint64_t addr, uint64_t len, uint32_t type)
{
	ents[i].addr = addr;
	ents[i].len = len;
	ents[i].type = type;
	ents[i].zero = 0;
}

static void test_bios(void)
{
	const char *err = NULL;

	/* A typical PC map, out of order. */
	ent(0, 0x100000, 0x7fee0000, MB2_MEMORY_AVAILABLE);
	ent(1, 0, 0x9fc00, MB2_MEMORY_AVAILABLE);
	ent(2, 0x9fc00, 0x400, MB2_MEMORY_RESERVED);
	ent(3, 0xf0000, 0x10000, MB2_MEMORY_RESERVED);
	ent(4, 0x7ffe0000, 0x20000, MB2_MEMORY_RESERVED);
	ent(5, 0x100000000ull, 0x80000000, MB2_MEMORY_AVAILABLE);
	ent(6, 0xfffc0000, 0x40000, MB2_MEMORY_RESERVED);
	CHECK(from_bios(7) == 0 &&
	      IS(0, 0x9f000, 0x100000, 0x7ffe0000,
		 0x100000000ull, 0x180000000ull), "typical map, sorted");
	CHECK(memmap_total(&mm) == 0x9f000 + 0x7fee0000 + 0x80000000ull,
	      "typical map total");
	CHECK(memmap_top(&mm) == 0x180000000ull, "top above 4 GiB");

	/* Firmware entries overlapping usable ones win. */
	ent(0, 0x100000, 0x1000000, MB2_MEMORY_AVAILABLE);
	ent(1, 0x800000, 0x1800, MB2_MEMORY_RESERVED);
	ent(2, 0x0ff000, 0x2000, MB2_MEMORY_ACPI_RECLAIMABLE);
	ent(3, 0x10ff800, 0x1000, MB2_MEMORY_NVS);
	ent(4, 0x400000, 0x1000, MB2_MEMORY_BADRAM);
	CHECK(from_bios(5) == 0 &&
	      IS(0x101000, 0x400000, 0x401000, 0x800000, 0x802000, 0x10ff000),
	      "reserved/ACPI/NVS/bad entries carved out of usable");
	/* Order must not matter: firmware first. */
	ent(0, 0x800000, 0x1800, MB2_MEMORY_RESERVED);
	ent(1, 0x100000, 0x1000000, MB2_MEMORY_AVAILABLE);
	CHECK(from_bios(2) == 0 &&
	      IS(0x100000, 0x800000, 0x802000, 0x1100000),
	      "firmware entry listed before the usable one still wins");
	/* A usable entry covering a reserved one entirely. */
	ent(0, 0x100000, 0x100000, MB2_MEMORY_RESERVED);
	ent(1, 0x100000, 0x100000, MB2_MEMORY_AVAILABLE);
	CHECK(from_bios(2) == 0 && mm.count == 0,
	      "usable entry identical to a reserved one vanishes");

	/* Unknown types are not usable. */
	ent(0, 0x100000, 0x100000, MB2_MEMORY_AVAILABLE);
	ent(1, 0x140000, 0x1000, 12);
	CHECK(from_bios(2) == 0 &&
	      IS(0x100000, 0x140000, 0x141000, 0x200000),
	      "unknown type treated as reserved");

	/* Overlapping, duplicated and unaligned usable entries. */
	ent(0, 0x200800, 0x10000, MB2_MEMORY_AVAILABLE);
	ent(1, 0x100000, 0x108000, MB2_MEMORY_AVAILABLE);
	ent(2, 0x100000, 0x108000, MB2_MEMORY_AVAILABLE);
	ent(3, 0x300000, 0x7ff, MB2_MEMORY_AVAILABLE);
	CHECK(from_bios(4) == 0 && IS(0x100000, 0x210000),
	      "overlapping and unaligned usable entries merged inward");

	/* Zero-length entries. */
	ent(0, 0x100000, 0x100000, MB2_MEMORY_AVAILABLE);
	ent(1, 0x140000, 0, MB2_MEMORY_RESERVED);
	ent(2, 0x400000, 0, MB2_MEMORY_AVAILABLE);
	ent(3, UINT64_MAX, 0, MB2_MEMORY_RESERVED);
	ent(4, 0x180800, 0, MB2_MEMORY_RESERVED);
	CHECK(from_bios(5) == 0 && IS(0x100000, 0x200000),
	      "zero-length entries ignored, even unaligned ones");

	/* Overflow. */
	ent(0, 0x100000, 0x100000, MB2_MEMORY_AVAILABLE);
	ent(1, 0xfffffffffffff000ull, 0x1000, MB2_MEMORY_AVAILABLE);
	CHECK(from_bios(2) == -1 && mm.count == 0,
	      "entry ending exactly at 2^64 rejected");
	ent(1, 0x1000, UINT64_MAX, MB2_MEMORY_RESERVED);
	CHECK(from_bios(2) == -1, "reserved entry wrapping rejected");
	ent(1, 0x1000, UINT64_MAX - 0x1000, MB2_MEMORY_AVAILABLE);
	CHECK(from_bios(2) == 0 && IS(0x1000, TOP_PAGE),
	      "entry ending at 2^64-1 accepted");

	/* Too fragmented: more disjoint usable pieces than slots. */
	for (unsigned i = 0; i < MEMMAP_MAX_RANGES + 1; i++)
		ent(i, i * 0x10000ull, 0x1000, MB2_MEMORY_AVAILABLE);
	CHECK(from_bios(MEMMAP_MAX_RANGES + 1) == -1 && mm.count == 0,
	      "more than %u ranges rejected", MEMMAP_MAX_RANGES);

	/* No map at all. */
	memset(&mi, 0, sizeof(mi));
	CHECK(memmap_from_mb2(&mm, &mi, &err) == -1 && err,
	      "no map: rejected (%s)", err ? err : "");
	CHECK(from_bios(0) == -1, "BIOS map with no entries rejected");
	CHECK(memmap_from_mb2(&mm, &mi, NULL) == -1, "NULL err tolerated");
}

/* An entry_size of 32: the parser must step by entry_size. */
static void test_bios_stride(void)
{
	static uint64_t raw[3 * 4];
	const char *err;

	memset(raw, 0xee, sizeof(raw));
	for (unsigned i = 0; i < 3; i++) {
		struct mb2_mmap_entry e = { 0x100000 * (i + 1), 0x80000, 1, 0 };

		memcpy(&raw[i * 4], &e, sizeof(e));
	}
	memset(&mi, 0, sizeof(mi));
	mi.mmap = (const uint8_t *)raw;
	mi.mmap_entry_size = 32;
	mi.mmap_count = 3;
	CHECK(memmap_from_mb2(&mm, &mi, &err) == 0 &&
	      IS(0x100000, 0x180000, 0x200000, 0x280000, 0x300000, 0x380000),
	      "entry_size 32 stride");
}

static struct efi_memory_descriptor efi[64];

static void desc(unsigned i, uint32_t type, uint64_t start, uint64_t pages)
{
	memset(&efi[i], 0, sizeof(efi[i]));
	efi[i].type = type;
	efi[i].physical_start = start;
	efi[i].number_of_pages = pages;
}

static int from_efi(unsigned n, unsigned bios_n)
{
	const char *err = NULL;

	memset(&mi, 0, sizeof(mi));
	mi.efi_mmap = (const uint8_t *)efi;
	mi.efi_descr_size = sizeof(efi[0]);
	mi.efi_count = n;
	if (bios_n) {
		mi.mmap = (const uint8_t *)ents;
		mi.mmap_entry_size = sizeof(ents[0]);
		mi.mmap_count = bios_n;
	}
	memset(&mm, 0xa5, sizeof(mm));
	return memmap_from_mb2(&mm, &mi, &err);
}

static void test_efi(void)
{
	static const uint32_t usable[] = {
		EFI_LOADER_CODE, EFI_LOADER_DATA, EFI_BOOT_SERVICES_CODE,
		EFI_BOOT_SERVICES_DATA, EFI_CONVENTIONAL_MEMORY,
	};
	static const uint32_t unusable[] = {
		EFI_RESERVED_MEMORY, EFI_RUNTIME_SERVICES_CODE,
		EFI_RUNTIME_SERVICES_DATA, EFI_UNUSABLE_MEMORY,
		EFI_ACPI_RECLAIM_MEMORY, EFI_ACPI_MEMORY_NVS,
		EFI_MEMORY_MAPPED_IO, EFI_MEMORY_MAPPED_IO_PORT, EFI_PAL_CODE,
		EFI_PERSISTENT_MEMORY, 15, 0x70000000,
	};
	unsigned i;

	for (i = 0; i < sizeof(usable) / sizeof(usable[0]); i++) {
		desc(0, usable[i], 0x100000, 16);
		CHECK(from_efi(1, 0) == 0 && IS(0x100000, 0x110000),
		      "EFI type %u usable", usable[i]);
	}
	for (i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
		desc(0, unusable[i], 0x100000, 16);
		CHECK(from_efi(1, 0) == 0 && mm.count == 0,
		      "EFI type %u not usable", unusable[i]);
	}

	/* A typical UEFI map: runtime data inside conventional memory. */
	desc(0, EFI_CONVENTIONAL_MEMORY, 0x0, 0xa0);
	desc(1, EFI_BOOT_SERVICES_DATA, 0x100000, 0x700);
	desc(2, EFI_CONVENTIONAL_MEMORY, 0x800000, 0x7f800);
	desc(3, EFI_RUNTIME_SERVICES_DATA, 0x900000, 0x10);
	desc(4, EFI_ACPI_RECLAIM_MEMORY, 0x7fff0000, 0x10);
	desc(5, EFI_LOADER_DATA, 0x100000000ull, 0x40000);
	desc(6, EFI_MEMORY_MAPPED_IO, 0xfec00000, 0x1);
	CHECK(from_efi(7, 0) == 0 &&
	      IS(0x0, 0xa0000, 0x100000, 0x900000, 0x910000, 0x7fff0000,
		 0x100000000ull, 0x140000000ull),
	      "typical EFI map, runtime data carved out");

	/* Overflowing page counts. */
	desc(0, EFI_CONVENTIONAL_MEMORY, 0x100000, 0x100);
	desc(1, EFI_CONVENTIONAL_MEMORY, 0x1000, (UINT64_MAX >> 12) + 1);
	CHECK(from_efi(2, 0) == -1 && mm.count == 0,
	      "page count overflowing the multiply rejected");
	desc(1, EFI_RUNTIME_SERVICES_DATA, 0xfffffffffff00000ull, 0x100);
	CHECK(from_efi(2, 0) == -1, "descriptor ending at 2^64 rejected");
	desc(1, EFI_RUNTIME_SERVICES_DATA, 0x200000, UINT64_MAX);
	CHECK(from_efi(2, 0) == -1, "page count 2^64-1 rejected");
	desc(1, EFI_CONVENTIONAL_MEMORY, 0x200000, 0);
	CHECK(from_efi(2, 0) == 0 && IS(0x100000, 0x200000),
	      "descriptor of 0 pages ignored");

	/* EFI preferred over the BIOS map; an empty EFI map falls back. */
	ent(0, 0x400000, 0x100000, MB2_MEMORY_AVAILABLE);
	desc(0, EFI_CONVENTIONAL_MEMORY, 0x100000, 0x100);
	CHECK(from_efi(1, 1) == 0 && IS(0x100000, 0x200000),
	      "EFI map wins over BIOS map");
	CHECK(from_efi(0, 1) == 0 && IS(0x400000, 0x500000),
	      "EFI map of 0 descriptors: BIOS map used");
	CHECK(from_efi(0, 0) == -1, "EFI map of 0 descriptors, no BIOS map");

	/* descr_size larger than the struct. */
	{
		static uint64_t raw[3 * 6];
		const char *err;

		memset(raw, 0xcc, sizeof(raw));
		for (i = 0; i < 3; i++) {
			struct efi_memory_descriptor d = {
				EFI_CONVENTIONAL_MEMORY, 0,
				0x200000ull * (i + 1), 0, 0x100, 0,
			};

			memcpy(&raw[i * 6], &d, sizeof(d));
		}
		memset(&mi, 0, sizeof(mi));
		mi.efi_mmap = (const uint8_t *)raw;
		mi.efi_descr_size = 48;
		mi.efi_count = 3;
		CHECK(memmap_from_mb2(&mm, &mi, &err) == 0 &&
		      IS(0x200000, 0x300000, 0x400000, 0x500000,
			 0x600000, 0x700000), "EFI descr_size 48 stride");
	}
}

int main(void)
{
	test_add();
	test_full();
	test_remove();
	test_bios();
	test_bios_stride();
	test_efi();
	return done_testing();
}
