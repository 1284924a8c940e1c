/*
 * Physical memory ranges: build the list of usable RAM from a multiboot2
 * memory map (BIOS or EFI form), and carve reserved ranges out of it.
 * Ranges are half-open [start, end) and kept sorted, merged and
 * page-aligned (start rounded up, end rounded down to 4 KiB).
 */
#ifndef KLIB_MEMMAP_H
#define KLIB_MEMMAP_H

#include <stdint.h>
#include "mb2.h"

#define MEMMAP_MAX_RANGES 128
#define PAGE_SIZE 4096ull

struct mem_range {
	uint64_t start;
	uint64_t end;
};

struct memmap {
	struct mem_range r[MEMMAP_MAX_RANGES];
	unsigned count;
};

/*
 * Fill `mm` with usable RAM from `mi`: the EFI map when present (types
 * LOADER_CODE/DATA, BOOT_SERVICES_CODE/DATA and CONVENTIONAL are usable;
 * descriptors whose page count overflows are rejected), else the BIOS map
 * (type 1 only; entries with addr+len overflowing are rejected). Ranges that
 * overlap a non-usable entry of the same map lose the overlap: a firmware
 * range is never usable even if another entry claims it is. Returns 0, or
 * -1 with *err when there is no map or an entry is malformed.
 */
int memmap_from_mb2(struct memmap *mm, const struct mb2_info *mi,
		    const char **err);

/* Add [start,end) (clamped, aligned, merged). -1 when the table is full. */
int memmap_add(struct memmap *mm, uint64_t start, uint64_t end);

/* Remove [start,end) (rounded outward to pages) from every range. -1 when
 * splitting would overflow the table. */
int memmap_remove(struct memmap *mm, uint64_t start, uint64_t end);

/* Total bytes in all ranges. */
uint64_t memmap_total(const struct memmap *mm);

/* Highest end address of any range, 0 if empty. */
uint64_t memmap_top(const struct memmap *mm);

#endif
