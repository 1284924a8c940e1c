/*
 * Physical memory at boot: usable RAM from the multiboot2 map, minus what
 * is already in use (page 0, the hypervisor image, the boot information,
 * the modules), handed to the page allocator; then the hypervisor's own
 * identity map over all of it, above 4 GiB included.
 */
#include <string.h>
#include "hv.h"
#include "spinlock.h"
#include "arch/x86/cpu.h"

#define MiB (1ul << 20)
#define GiB (1ul << 30)

struct pmm hv_pmm;
struct mm_stats hv_mm_stats;
struct mem_range hv_reserved[HV_MAX_RESERVED];
unsigned hv_reserved_count;
struct memmap hv_usable;
static struct memmap free_mem;

void *phys_to_virt(uint64_t pa)
{
	return (void *)pa;
}

uint64_t virt_to_phys(const void *va)
{
	return (uint64_t)va;
}

static spinlock_t mm_lock;

void *pages_try_alloc_zeroed(unsigned n)
{
	uint64_t pa;

	spin_lock(&mm_lock);
	pa = n == 1 ? pmm_alloc(&hv_pmm) : pmm_alloc_contig(&hv_pmm, n, PAGE_SIZE);
	spin_unlock(&mm_lock);
	if (!pa)
		return NULL;
	memset(phys_to_virt(pa), 0, n * PAGE_SIZE);
	return phys_to_virt(pa);
}

void *pages_alloc_zeroed(unsigned n)
{
	void *p = pages_try_alloc_zeroed(n);

	if (!p)
		panic("out of memory (%u page(s) wanted, %lu free)", n,
		      hv_pmm.free_pages);
	return p;
}

void *page_alloc_zeroed(void)
{
	return pages_alloc_zeroed(1);
}

void pages_free(void *va, unsigned n)
{
	uint64_t pa = virt_to_phys(va);

	spin_lock(&mm_lock);
	for (unsigned i = 0; i < n; i++)
		pmm_free(&hv_pmm, pa + (uint64_t)i * PAGE_SIZE);
	spin_unlock(&mm_lock);
}

void page_free(void *va)
{
	pages_free(va, 1);
}

uint64_t mm_free_pages(void)
{
	uint64_t n;

	spin_lock(&mm_lock);
	n = hv_pmm.free_pages;
	spin_unlock(&mm_lock);
	return n;
}

static void reserve(uint64_t start, uint64_t end, const char *what)
{
	start = ALIGN_DOWN(start, PAGE_SIZE);
	end = ALIGN_UP(end, PAGE_SIZE);
	if (hv_reserved_count == HV_MAX_RESERVED)
		panic("too many reserved ranges at %s", what);
	hv_reserved[hv_reserved_count++] = (struct mem_range){ start, end };
	hv_mm_stats.reserved_bytes += end - start;
	if (memmap_remove(&free_mem, start, end))
		panic("memory map too fragmented to reserve %s", what);
}

/* The allocator's bitmap goes in the first free range below 4 GiB (all
 * the boot page tables map) that holds it. */
static uint64_t *place_bitmap(uint64_t bytes)
{
	bytes = ALIGN_UP(bytes, PAGE_SIZE);
	for (unsigned i = 0; i < free_mem.count; i++) {
		const struct mem_range *r = &free_mem.r[i];

		if (r->end <= 4 * GiB && r->end - r->start >= bytes) {
			uint64_t start = r->start;

			reserve(start, start + bytes, "the page bitmap");
			return phys_to_virt(start);
		}
	}
	panic("no room below 4 GiB for a %lu KiB page bitmap", bytes >> 10);
}

void mm_init(uint64_t mbi_phys)
{
	const char *err;
	uint64_t *bitmap;

	if (memmap_from_mb2(&hv_usable, &boot.mb2, &err))
		panic("memory map: %s", err);
	if (!hv_usable.count)
		panic("memory map: no usable RAM");
	hv_mm_stats.usable_bytes = memmap_total(&hv_usable);
	hv_mm_stats.usable_ranges = hv_usable.count;
	hv_mm_stats.top = memmap_top(&hv_usable);

	free_mem = hv_usable;
	reserve(0, PAGE_SIZE, "page 0");
	reserve(virt_to_phys(__image_start), virt_to_phys(__image_end),
		"the hypervisor image");
	reserve(mbi_phys, mbi_phys + boot.mb2.total_size, "the boot information");
	for (unsigned i = 0; i < boot.mb2.module_count; i++)
		reserve(boot.mb2.modules[i].start, boot.mb2.modules[i].end,
			"a module");

	bitmap = place_bitmap(pmm_bitmap_bytes(&free_mem));
	pmm_init(&hv_pmm, bitmap, &free_mem);
	paging_init(hv_mm_stats.top);
	hv_log("memory %lu MiB usable in %u ranges",
	       hv_mm_stats.usable_bytes / MiB, hv_mm_stats.usable_ranges);
}
