/*
 * Pages for the enlightened guest: the hypercall page and parameter
 * pages, the SynIC pages, and later the VMBus rings and data buffers
 * (tens of MiB in a large partition). The kernel library's bitmap
 * allocator over usable RAM, less what is in use before we start: the
 * first MiB (firmware, natively GRUB; the partition's boot information),
 * the image with its stack and page tables, the boot information
 * wherever the loader put it, and any modules. Only RAM below 4 GiB is
 * handed out: that is what mm.c maps.
 */
#include <string.h>
#include "enlightened.h"
#include "pmm.h"

#define PAGES_LIMIT (1 * GiB)           /* the bitmap's reach: 32 KiB */

static struct pmm pmm;
static uint64_t bitmap[PAGES_LIMIT / PAGE_SIZE / 64];
static struct memmap free_ram;

static void carve(uint64_t start, uint64_t end)
{
	if (memmap_remove(&free_ram, start, end))
		panic("pages: memory map too fragmented");
}

void pages_init(void)
{
	const struct mb2_info *mi = &boot.mb2;

	free_ram = ram;
	carve(0, 1 * MiB);
	carve((uint64_t)__image_start, (uint64_t)__image_end);
	carve(boot.mb2_pa, boot.mb2_pa + mi->total_size);
	for (unsigned i = 0; i < mi->module_count; i++)
		carve(mi->modules[i].start, mi->modules[i].end);
	carve(PAGES_LIMIT, UINT64_MAX);
	if (pmm_bitmap_bytes(&free_ram) > sizeof(bitmap))
		panic("pages: bitmap too small");       /* PAGES_LIMIT says not */
	pmm_init(&pmm, bitmap, &free_ram);
}

void *page_alloc(size_t bytes)
{
	uint64_t n = ALIGN_UP((uint64_t)bytes, PAGE_SIZE) / PAGE_SIZE;
	uint64_t pa;

	if (!n)
		return NULL;
	pa = pmm_alloc_contig(&pmm, n, PAGE_SIZE);
	if (!pa)
		return NULL;
	memset((void *)pa, 0, n * PAGE_SIZE);
	return (void *)pa;
}

void page_free(void *p, size_t bytes)
{
	uint64_t n = ALIGN_UP((uint64_t)bytes, PAGE_SIZE) / PAGE_SIZE;

	for (uint64_t i = 0; i < n; i++)
		if (!pmm_free(&pmm, virt_to_phys(p) + i * PAGE_SIZE))
			panic("page_free: page %#lx was not allocated",
			      (uint64_t)(virt_to_phys(p) + i * PAGE_SIZE));
}

uint64_t pages_free_bytes(void)
{
	return pmm.free_pages * PAGE_SIZE;
}
