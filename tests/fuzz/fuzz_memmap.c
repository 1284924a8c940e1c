/*
 * Fuzz target: a multiboot2 structure whose memory map feeds
 * memmap_from_mb2(); the bytes after total_size (rounded up to 8) are a
 * list of add/remove operations on the result (17 bytes each: op, start,
 * end). The resulting free map then drives the page allocator. Every
 * step checks the invariants the kernel relies on and abort()s when one
 * breaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <isovisor/multiboot2.h>
#include "mb2.h"
#include "memmap.h"
#include "pmm.h"

#define MAX_OPS 64
#define MAX_BITMAP (1u << 20)
#define MAX_ALLOCS 512

static void well_formed(const struct memmap *mm)
{
	unsigned i;

	if (mm->count > MEMMAP_MAX_RANGES)
		abort();
	for (i = 0; i < mm->count; i++) {
		const struct mem_range *r = &mm->r[i];

		if (r->start % PAGE_SIZE || r->end % PAGE_SIZE ||
		    r->start >= r->end)
			abort();
		if (i && mm->r[i - 1].end >= r->start)
			abort();
	}
}

static bool in_map(const struct memmap *mm, uint64_t addr)
{
	for (unsigned i = 0; i < mm->count; i++)
		if (addr >= mm->r[i].start && addr < mm->r[i].end)
			return true;
	return false;
}

/* No byte of [start, end) may be left in the map after a remove. */
static void check_removed(const struct memmap *mm, uint64_t start,
			  uint64_t end)
{
	for (unsigned i = 0; i < mm->count; i++)
		if (start < end && mm->r[i].start < end && mm->r[i].end > start)
			abort();
}

/* The whole pages of [start, end) must be in the map after an add. */
static void check_added(const struct memmap *mm, uint64_t start,
			uint64_t end)
{
	if (start > UINT64_MAX - (PAGE_SIZE - 1))
		return;
	start = (start + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	end &= ~(PAGE_SIZE - 1);
	if (start >= end)
		return;
	if (!in_map(mm, start) || !in_map(mm, end - 1))
		abort();
}

static void run_ops(struct memmap *mm, const uint8_t *p, size_t n)
{
	unsigned ops = 0;

	for (; n >= 17 && ops < MAX_OPS; p += 17, n -= 17, ops++) {
		uint64_t start, end;
		int ret;

		memcpy(&start, p + 1, 8);
		memcpy(&end, p + 9, 8);
		/* Keep most operations near real addresses. */
		if (p[0] & 2) {
			start &= 0xfffffffffull;
			end = start + (end & 0xffffffffull);
		}
		if (p[0] & 1) {
			ret = memmap_add(mm, start, end);
			if (!ret)
				check_added(mm, start, end);
		} else {
			ret = memmap_remove(mm, start, end);
			if (!ret)
				check_removed(mm, start, end);
		}
		if (ret && mm->count != MEMMAP_MAX_RANGES)
			abort();
		well_formed(mm);
	}
}

static void run_pmm(const struct memmap *mm, uint8_t knob)
{
	static uint64_t got[MAX_ALLOCS];
	uint64_t bytes = pmm_bitmap_bytes(mm), expect, a;
	unsigned n = 0, i;
	uint64_t *bitmap;
	struct pmm p;

	if (bytes > MAX_BITMAP)
		return;
	bitmap = malloc(bytes ? bytes : 8);
	if (!bitmap)
		return;
	pmm_init(&p, bitmap, mm);
	expect = memmap_total(mm) / PAGE_SIZE - in_map(mm, 0);
	if (p.free_pages != expect || pmm_is_free(&p, 0))
		abort();

	while (n < MAX_ALLOCS / 2 && (a = pmm_alloc(&p)) != 0) {
		if (a % PAGE_SIZE || !in_map(mm, a) || pmm_is_free(&p, a))
			abort();
		got[n++] = a;
	}
	a = pmm_alloc_below(&p, (uint64_t)(knob & 0x3f) << 16);
	if (a) {
		if (a >= (uint64_t)(knob & 0x3f) << 16 || !in_map(mm, a))
			abort();
		got[n++] = a;
	}
	{
		uint64_t pages = 1 + (knob >> 5);
		uint64_t align = PAGE_SIZE << (knob & 7);

		a = pmm_alloc_contig(&p, pages, align);
		if (a) {
			if (a % align || !in_map(mm, a) ||
			    !in_map(mm, a + (pages - 1) * PAGE_SIZE))
				abort();
			for (i = 0; i < pages; i++)
				if (pmm_is_free(&p, a + i * PAGE_SIZE))
					abort();
			for (i = 0; i < pages && n < MAX_ALLOCS; i++)
				got[n++] = a + i * PAGE_SIZE;
		}
	}
	if (p.free_pages + n != expect)
		abort();
	for (i = n; i-- > 0; )
		if (!pmm_free(&p, got[i]))
			abort();
	if (n && pmm_free(&p, got[0]))
		abort();               /* double free accepted */
	if (pmm_free(&p, 0) || (n && pmm_free(&p, got[0] + 1)))
		abort();
	if (p.free_pages != expect)
		abort();
	free(bitmap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memmap *mm;
	struct mb2_info mi;
	const char *err;
	uint8_t *copy;
	size_t tail;

	copy = malloc(size ? size : 1);
	mm = malloc(sizeof(*mm));
	if (!copy || !mm)
		goto out;
	memcpy(copy, data, size);
	if (mb2_parse(copy, size, &mi, &err))
		goto out;
	if (memmap_from_mb2(mm, &mi, &err)) {
		if (mm->count)
			abort();
		goto out;
	}
	well_formed(mm);
	tail = ((size_t)mi.total_size + 7) & ~(size_t)7;
	if (tail < size) {
		run_ops(mm, copy + tail + 1, size - tail - 1);
		run_pmm(mm, copy[tail]);
	} else {
		run_pmm(mm, 0x21);
	}
out:
	free(mm);
	free(copy);
	return 0;
}

/* ---- seeds ------------------------------------------------------------ */

static size_t info(uint8_t *buf, size_t cap, uint32_t type, uint32_t esz,
		   const void *entries, uint32_t n, const uint8_t *ops,
		   size_t nops)
{
	uint32_t size = 16 + n * esz, end[2] = { 0, 8 }, total, ver = 0;
	size_t off = 8 + ((size + 7) & ~7u);

	if (cap < off + 8 + 8 + nops)
		return 0;
	memset(buf, 0, off + 8);
	memcpy(buf + 8, &type, 4);
	memcpy(buf + 12, &size, 4);
	memcpy(buf + 16, &esz, 4);
	memcpy(buf + 20, &ver, 4);
	memcpy(buf + 24, entries, (size_t)n * esz);
	memcpy(buf + off, end, 8);
	total = (uint32_t)(off + 8);
	memcpy(buf, &total, 4);
	memcpy(buf + total, ops, nops);
	return total + nops;
}

/* knob, then ops: remove the low 1 MiB, add a stray range, remove an
 * unaligned hole. */
static const uint8_t seed_ops[] = {
	0x43,
	0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0,
	0x03, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0,
	0x00, 0x34, 0x12, 0x20, 0, 0, 0, 0, 0, 0x78, 0x56, 0x30, 0, 0, 0,
	0, 0,
};

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	static const struct mb2_mmap_entry bios[] = {
		{ 0, 0x9fc00, MB2_MEMORY_AVAILABLE, 0 },
		{ 0x9fc00, 0x400, MB2_MEMORY_RESERVED, 0 },
		{ 0xf0000, 0x10000, MB2_MEMORY_RESERVED, 0 },
		{ 0x100000, 0x7ee0000, MB2_MEMORY_AVAILABLE, 0 },
		{ 0x7fe0000, 0x20000, MB2_MEMORY_ACPI_RECLAIMABLE, 0 },
		{ 0x1000000, 0x1800, MB2_MEMORY_RESERVED, 0 },
		{ 0xfffc0000, 0x40000, MB2_MEMORY_RESERVED, 0 },
	};
	static const struct mb2_mmap_entry high[] = {
		{ 0x100000, 0x100000, MB2_MEMORY_AVAILABLE, 0 },
		{ 0x100000000ull, 0x1000000, MB2_MEMORY_AVAILABLE, 0 },
		{ 0x100800000ull, 0x1000, MB2_MEMORY_NVS, 0 },
	};
	static const struct efi_memory_descriptor efi[] = {
		{ EFI_CONVENTIONAL_MEMORY, 0, 0x0, 0, 0xa0, 0 },
		{ EFI_BOOT_SERVICES_DATA, 0, 0x100000, 0, 0x700, 0 },
		{ EFI_CONVENTIONAL_MEMORY, 0, 0x800000, 0, 0x7800, 0 },
		{ EFI_RUNTIME_SERVICES_DATA, 0, 0x900000, 0, 0x10, 0 },
		{ EFI_ACPI_RECLAIM_MEMORY, 0, 0x7ff0000, 0, 0x10, 0 },
		{ EFI_LOADER_DATA, 0, 0x2000000, 0, 0x100, 0 },
	};

	switch (i) {
	case 0:
		return info(buf, cap, MB2_TAG_MMAP, 24, bios, 7, seed_ops,
			    sizeof(seed_ops));
	case 1:
		return info(buf, cap, MB2_TAG_EFI_MMAP, 40, efi, 6, seed_ops,
			    sizeof(seed_ops));
	case 2:
		return info(buf, cap, MB2_TAG_MMAP, 24, high, 3, seed_ops, 1);
	default:
		return 0;
	}
}
