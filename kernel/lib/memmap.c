/*
 * Physical memory range lists; see memmap.h. The list invariant, which
 * every function keeps and the allocator relies on: ranges are page
 * aligned, non-empty, sorted, and neither overlap nor touch (touching
 * ranges are merged), so r[i].end < r[i + 1].start.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <isovisor/multiboot2.h>
#include "memmap.h"

#define PAGE_MASK (PAGE_SIZE - 1)

static int fail(const char **err, const char *msg)
{
	if (err)
		*err = msg;
	return -1;
}

int memmap_add(struct memmap *mm, uint64_t start, uint64_t end)
{
	unsigned i, j;

	/* Inward: only whole pages are usable. */
	if (start > UINT64_MAX - PAGE_MASK)
		return 0;
	start = (start + PAGE_MASK) & ~PAGE_MASK;
	end &= ~PAGE_MASK;
	if (start >= end)
		return 0;

	/* First range that ends at or after `start`: it and the ones after
	 * it that start at or before `end` touch the new range. */
	for (i = 0; i < mm->count && mm->r[i].end < start; i++)
		;
	for (j = i; j < mm->count && mm->r[j].start <= end; j++)
		;
	if (j > i) {
		if (mm->r[i].start < start)
			start = mm->r[i].start;
		if (mm->r[j - 1].end > end)
			end = mm->r[j - 1].end;
		mm->r[i].start = start;
		mm->r[i].end = end;
		memmove(&mm->r[i + 1], &mm->r[j],
			(mm->count - j) * sizeof(mm->r[0]));
		mm->count -= j - i - 1;
		return 0;
	}
	if (mm->count >= MEMMAP_MAX_RANGES)
		return -1;
	memmove(&mm->r[i + 1], &mm->r[i], (mm->count - i) * sizeof(mm->r[0]));
	mm->r[i].start = start;
	mm->r[i].end = end;
	mm->count++;
	return 0;
}

int memmap_remove(struct memmap *mm, uint64_t start, uint64_t end)
{
	unsigned i;

	/* Outward: a partly reserved page is reserved. An end that cannot
	 * be rounded up is past every range, whose ends are page aligned. */
	start &= ~PAGE_MASK;
	if (end > UINT64_MAX - PAGE_MASK)
		end = UINT64_MAX;
	else
		end = (end + PAGE_MASK) & ~PAGE_MASK;
	if (start >= end)
		return 0;

	/* Ranges are disjoint, so at most one strictly contains the hole
	 * and needs a second slot; check before changing anything. */
	if (mm->count >= MEMMAP_MAX_RANGES) {
		for (i = 0; i < mm->count; i++)
			if (mm->r[i].start < start && mm->r[i].end > end)
				return -1;
	}

	for (i = 0; i < mm->count; ) {
		struct mem_range *r = &mm->r[i];

		if (r->end <= start || r->start >= end) {
			i++;
		} else if (r->start >= start && r->end <= end) {
			memmove(r, r + 1, (mm->count - i - 1) * sizeof(*r));
			mm->count--;
		} else if (r->start < start && r->end > end) {
			memmove(r + 1, r, (mm->count - i) * sizeof(*r));
			r[0].end = start;
			r[1].start = end;
			mm->count++;
			return 0;
		} else if (r->start < start) {
			r->end = start;
			i++;
		} else {
			r->start = end;
			i++;
		}
	}
	return 0;
}

uint64_t memmap_total(const struct memmap *mm)
{
	uint64_t sum = 0;
	unsigned i;

	for (i = 0; i < mm->count; i++)
		sum += mm->r[i].end - mm->r[i].start;
	return sum;
}

uint64_t memmap_top(const struct memmap *mm)
{
	return mm->count ? mm->r[mm->count - 1].end : 0;
}

static bool efi_usable(uint32_t type)
{
	switch (type) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
	case EFI_CONVENTIONAL_MEMORY:
		return true;
	default:
		return false;
	}
}

/*
 * Entry i of whichever map is in use, as [start, end) and usable or not.
 * Returns -1 when its end does not fit in 64 bits, 0 otherwise; an empty
 * entry comes back with start == end.
 */
static int map_entry(const struct mb2_info *mi, bool efi, unsigned i,
		     uint64_t *start, uint64_t *end, bool *usable)
{
	uint64_t len;

	if (efi) {
		struct efi_memory_descriptor d;

		memcpy(&d, mb2_efi_entry(mi, i), sizeof(d));
		if (d.number_of_pages > UINT64_MAX / PAGE_SIZE)
			return -1;
		*start = d.physical_start;
		len = d.number_of_pages * PAGE_SIZE;
		*usable = efi_usable(d.type);
	} else {
		struct mb2_mmap_entry e;

		memcpy(&e, mb2_mmap_entry(mi, i), sizeof(e));
		*start = e.addr;
		len = e.len;
		*usable = e.type == MB2_MEMORY_AVAILABLE;
	}
	if (len > UINT64_MAX - *start)
		return -1;
	*end = *start + len;
	return 0;
}

int memmap_from_mb2(struct memmap *mm, const struct mb2_info *mi,
		    const char **err)
{
	uint64_t start, end;
	unsigned i, count;
	bool efi, usable;
	int pass;

	mm->count = 0;
	/* An EFI tag with no descriptors says nothing; use the BIOS map. */
	efi = mi->efi_mmap && mi->efi_count;
	count = efi ? mi->efi_count : mi->mmap ? mi->mmap_count : 0;
	if (!count)
		return fail(err, "no memory map");

	/* Validate every entry before using any, so a bad map leaves `mm`
	 * empty rather than half built. */
	for (i = 0; i < count; i++)
		if (map_entry(mi, efi, i, &start, &end, &usable))
			return fail(err, efi ? "EFI descriptor overflows" :
					       "mmap entry overflows");

	/* Usable entries first, then every firmware entry carved out, so
	 * the firmware wins wherever two entries disagree. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < count; i++) {
			int ret;

			map_entry(mi, efi, i, &start, &end, &usable);
			if (start == end || usable != (pass == 0))
				continue;
			ret = usable ? memmap_add(mm, start, end) :
				       memmap_remove(mm, start, end);
			if (ret) {
				mm->count = 0;
				return fail(err, "memory map too fragmented");
			}
		}
	}
	return 0;
}
