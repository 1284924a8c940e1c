/*
 * Physical page allocator: one bit per 4 KiB page from address 0 to the top
 * of the free ranges it is given; a set bit is a free page. It only ever
 * hands out pages that lie in those ranges, so the caller removes the
 * image, the modules, the boot information and the firmware's ranges from
 * the map before pmm_init(). The bitmap's own storage is carved from the
 * map by the caller too (pmm_bitmap_bytes() says how much).
 */
#ifndef KLIB_PMM_H
#define KLIB_PMM_H

#include <stdbool.h>
#include <stdint.h>
#include "memmap.h"

struct pmm {
	uint64_t *bitmap;               /* virtual address of the bitmap */
	uint64_t npages;                /* pages covered: [0, npages*4K) */
	uint64_t free_pages;
	uint64_t next;                  /* next-fit cursor, in pages */
};

/* Bytes of bitmap needed to cover every range of `mm`. */
uint64_t pmm_bitmap_bytes(const struct memmap *mm);

/* Mark every page in `free` as free, everything else used. `bitmap` must
 * hold pmm_bitmap_bytes(free) bytes. */
void pmm_init(struct pmm *p, uint64_t *bitmap, const struct memmap *free);

/* One page, physical address, or 0 when none left (page 0 is never free:
 * pmm_init never marks it so, callers rely on 0 meaning failure). */
uint64_t pmm_alloc(struct pmm *p);

/* One page below `limit` (e.g. 4 GiB for 32-bit page tables, 1 MiB for
 * the AP trampoline), or 0. */
uint64_t pmm_alloc_below(struct pmm *p, uint64_t limit);

/* `n` physically contiguous pages aligned to `align` bytes (a power of two
 * >= 4096), or 0. */
uint64_t pmm_alloc_contig(struct pmm *p, uint64_t n, uint64_t align);

/* Return a page. Freeing a page that is free, not page-aligned or outside
 * the bitmap returns false and changes nothing (a double free is a bug the
 * caller logs). */
bool pmm_free(struct pmm *p, uint64_t addr);

bool pmm_is_free(const struct pmm *p, uint64_t addr);

#endif

#ifndef KLIB_PMM_EXTRA
#define KLIB_PMM_EXTRA
/* Take every page of [start, end) (page-aligned) if all are free; false,
 * changing nothing, otherwise. */
bool pmm_claim(struct pmm *p, uint64_t start, uint64_t end);

/* The first run of free pages at or above `from`: its start address, and
 * its end in *end; 0 when there is none. */
uint64_t pmm_next_free_run(const struct pmm *p, uint64_t from, uint64_t *end);
#endif
