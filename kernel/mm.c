/*
 * Physical memory: usable RAM from the multiboot2 map (natively the
 * firmware's; under isovisor the hypervisor's, where its own memory is
 * "reserved"), minus what is already in use (page 0, this image, the boot
 * information, modules), handed to the page allocator. Then the root's own
 * identity map: all RAM, above 4 GiB included, and the 32-bit MMIO hole,
 * in 2 MiB pages.
 */
#include <string.h>
#include "root.h"

#define MiB2 (2ull << 20)
#define PT_ENTRIES 512

struct pmm root_pmm;
struct memmap root_ram;
static struct memmap free_mem;
static uint64_t map_end;

void *phys_to_virt(uint64_t pa)
{
	return (void *)pa;
}

void *page_alloc_zeroed(void)
{
	uint64_t pa = pmm_alloc(&root_pmm);

	if (!pa)
		panic("out of memory");
	memset((void *)pa, 0, PAGE_SIZE);
	return (void *)pa;
}

uint64_t stack_alloc(uint64_t bytes)
{
	uint64_t pages = ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;
	uint64_t pa = pmm_alloc_contig(&root_pmm, pages, PAGE_SIZE);

	if (!pa)
		panic("out of memory for a %lu KiB stack", bytes >> 10);
	memset((void *)pa, 0, pages * PAGE_SIZE);
	return pa + pages * PAGE_SIZE;
}

bool mm_is_ram(uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < root_ram.count; i++)
		if (addr >= root_ram.r[i].start && addr <= root_ram.r[i].end &&
		    len <= root_ram.r[i].end - addr)
			return true;
	return false;
}

uint64_t mm_map_end(void)
{
	return map_end;
}

static void reserve(uint64_t start, uint64_t end, const char *what)
{
	if (memmap_remove(&free_mem, ALIGN_DOWN(start, PAGE_SIZE),
			  ALIGN_UP(end, PAGE_SIZE)))
		panic("memory map too fragmented to reserve %s", what);
}

/* The allocator's bitmap goes in the first free range below 4 GiB (all
 * that boot.S maps) that holds it. */
static uint64_t *place_bitmap(uint64_t bytes)
{
	bytes = ALIGN_UP(bytes, PAGE_SIZE);
	for (unsigned i = 0; i < free_mem.count; i++) {
		const struct mem_range *r = &free_mem.r[i];

		if (r->end <= 4 * GiB && r->end - r->start >= bytes) {
			uint64_t start = r->start;

			reserve(start, start + bytes, "the page bitmap");
			return (uint64_t *)start;
		}
	}
	panic("no room below 4 GiB for a %lu KiB page bitmap", bytes >> 10);
}

/* Tables below 4 GiB: the native AP trampoline loads CR3 in 32-bit mode. */
static uint64_t *table_alloc(void)
{
	uint64_t pa = pmm_alloc_below(&root_pmm, 4 * GiB);

	if (!pa)
		panic("no memory below 4 GiB for page tables");
	memset((void *)pa, 0, PAGE_SIZE);
	return (uint64_t *)pa;
}

/*
 * 2 MiB pages, never larger: a 1 GiB page could span RAM and MMIO of
 * different MTRR types on real machines. The boot.S tables (first 4 GiB
 * only) are left behind for good once CR3 points here.
 */
static uint64_t *pml4;

/* Identity-map the GiB at `gb` in 2 MiB pages. */
static void map_gib(uint64_t gb)
{
	{
		unsigned l4 = (unsigned)((gb >> 39) & 511);
		unsigned l3 = (unsigned)((gb >> 30) & 511);
		uint64_t *pdpt, *pd;

		if (!(pml4[l4] & PTE_P))
			pml4[l4] = (uint64_t)table_alloc() | PTE_P | PTE_W;
		pdpt = (uint64_t *)(pml4[l4] & PTE_ADDR_MASK);
		pd = table_alloc();
		for (unsigned i = 0; i < PT_ENTRIES; i++)
			pd[i] = (gb + i * MiB2) | PTE_P | PTE_W | PTE_PS;
		pdpt[l3] = (uint64_t)pd | PTE_P | PTE_W;
	}
}

static void paging_init(uint64_t top)
{
	uint64_t end = ALIGN_UP(top > 4 * GiB ? top : 4 * GiB, GiB);

	if (end > 512 * 512 * GiB)
		panic("physical memory above 256 TiB is not supported");
	pml4 = table_alloc();
	for (uint64_t gb = 0; gb < end; gb += GiB)
		map_gib(gb);
	map_end = end;
	write_cr3((uint64_t)pml4);
}

/* Also identity-map the GiB(s) of [start, end) above the map (a device's
 * BAR where OVMF puts 64-bit BARs); -1 beyond what we support. New
 * entries only add translations, so no flush is needed. */
int mm_map_device(uint64_t start, uint64_t end)
{
	if (end <= start || end > 512 * 512 * GiB || start < map_end)
		return -1;
	for (uint64_t gb = ALIGN_DOWN(start, GiB); gb < end; gb += GiB)
		map_gib(gb);
	return 0;
}

void mm_init(uint64_t mbi_phys)
{
	const char *err;
	uint64_t *bitmap;

	if (memmap_from_mb2(&root_ram, &boot.mb2, &err))
		panic("memory map: %s", err);
	if (!root_ram.count)
		panic("memory map: no usable RAM");
	free_mem = root_ram;
	reserve(0, PAGE_SIZE, "page 0");
	reserve((uint64_t)__image_start, (uint64_t)__image_end, "the root image");
	reserve(mbi_phys, mbi_phys + boot.mb2.total_size, "the boot information");
	for (unsigned i = 0; i < boot.mb2.module_count; i++)
		reserve(boot.mb2.modules[i].start, boot.mb2.modules[i].end,
			"a module");
	bitmap = place_bitmap(pmm_bitmap_bytes(&free_mem));
	pmm_init(&root_pmm, bitmap, &free_mem);
	paging_init(memmap_top(&root_ram));
}
