/*
 * A guest's memory: usable RAM from the multiboot2 map (natively
 * the firmware's, under isovisor the one the root built for the
 * partition), and its own page tables, which replace boot.S's. They
 * identity-map the first 4 GiB in 2 MiB pages, as boot.S's do, plus any
 * range the memory scan asks for above that. A 2 MiB page with no usable
 * RAM in it is mapped uncacheable (PCD|PWT: PAT entry 3 at reset), so a
 * read there reaches whatever decodes the address, once per access, as an
 * MMIO read would; RAM pages stay write-back. The tables are static, in
 * the image's .bss; a guest that wants more memory takes pages from `ram`
 * itself (images/enlightened/pages.c).
 */
#include <string.h>
#include "guest.h"
#include "x86/klib.h"

#define PT_ENTRIES 512
#define PAGE_2M (2 * MiB)
#define PD_POOL 8                       /* 4 for [0, 4 GiB), 4 spare */
#define PDPT_POOL 2

struct memmap ram;

static uint64_t pml4[PT_ENTRIES] __attribute__((aligned(4096)));
static uint64_t pdpts[PDPT_POOL][PT_ENTRIES] __attribute__((aligned(4096)));
static uint64_t pds[PD_POOL][PT_ENTRIES] __attribute__((aligned(4096)));
static unsigned pdpts_used, pds_used;

static bool page_has_ram(uint64_t start)
{
	for (unsigned i = 0; i < ram.count; i++)
		if (ram.r[i].start < start + PAGE_2M && ram.r[i].end > start)
			return true;
	return false;
}

/* The page directory for the GiB holding `addr`, created on first use;
 * NULL when the pools are spent. */
static uint64_t *pd_for(uint64_t addr)
{
	unsigned l4 = (unsigned)((addr >> 39) & 511);
	unsigned l3 = (unsigned)((addr >> 30) & 511);
	uint64_t *pdpt;

	if (!(pml4[l4] & PTE_P)) {
		if (pdpts_used == PDPT_POOL)
			return NULL;
		pml4[l4] = (uint64_t)pdpts[pdpts_used++] | PTE_P | PTE_W;
	}
	pdpt = (uint64_t *)(pml4[l4] & PTE_ADDR_MASK);
	if (!(pdpt[l3] & PTE_P)) {
		if (pds_used == PD_POOL)
			return NULL;
		pdpt[l3] = (uint64_t)pds[pds_used++] | PTE_P | PTE_W;
	}
	return (uint64_t *)(pdpt[l3] & PTE_ADDR_MASK);
}

static int map_range(uint64_t start, uint64_t end)
{
	for (uint64_t a = ALIGN_DOWN(start, PAGE_2M); a < end; a += PAGE_2M) {
		uint64_t *pd = pd_for(a);
		uint64_t attr = PTE_P | PTE_W | PTE_PS;

		if (!pd)
			return -1;
		if (!page_has_ram(a))
			attr |= PTE_PCD | PTE_PWT;
		pd[(a >> 21) & 511] = a | attr;
		if (a + PAGE_2M < a)
			break;                  /* top of the address space */
	}
	return 0;
}

void mm_init(void)
{
	const char *err;

	if (memmap_from_mb2(&ram, &boot.mb2, &err))
		panic("memory map: %s", err);
	if (!ram.count)
		panic("memory map: no usable RAM");
	if (map_range(0, 4 * GiB))
		panic("page tables: pool too small for 4 GiB");
	/* The image, its stack and these tables are all below 4 GiB, so
	 * everything in use stays mapped across the switch. */
	write_cr3((uint64_t)pml4);
}

int mm_map_extra(uint64_t start, uint64_t end)
{
	if (end <= start || map_range(start, end))
		return -1;
	/* Entries may have gone from not present to present, or (below
	 * 4 GiB) stayed as they were: a full flush covers both. */
	write_cr3((uint64_t)pml4);
	return 0;
}

/* Both forms of the map when the loader gave both: an address either
 * names is not free to probe. */
bool mm_map_covers(uint64_t addr, uint64_t *end)
{
	const struct mb2_info *mi = &boot.mb2;

	for (unsigned i = 0; mi->mmap && i < mi->mmap_count; i++) {
		const struct mb2_mmap_entry *e = mb2_mmap_entry(mi, i);

		if (addr >= e->addr && addr - e->addr < e->len) {
			*end = e->addr + e->len;
			return true;
		}
	}
	for (unsigned i = 0; mi->efi_mmap && i < mi->efi_count; i++) {
		const struct efi_memory_descriptor *d = mb2_efi_entry(mi, i);
		uint64_t len = d->number_of_pages * PAGE_SIZE;

		if (addr >= d->physical_start && addr - d->physical_start < len) {
			*end = d->physical_start + len;
			return true;
		}
	}
	return false;
}

/* The exception table entry format is traps.c's: the faulting
 * instruction's address, then its fixup's, as two quads. */
int write_u64_safe(uint64_t addr, uint64_t value)
{
	int err = 0;

	__asm__ volatile("1: movq %[v], (%[addr])\n"
			 "2:\n"
			 ".pushsection .fixup, \"ax\"\n"
			 "3: movl $-1, %[err]\n"
			 "   jmp 2b\n"
			 ".popsection\n"
			 ".pushsection .extable, \"a\"\n"
			 ".balign 8\n"
			 ".quad 1b, 3b\n"
			 ".popsection\n"
			 : [err] "+r"(err)
			 : [addr] "r"(addr), [v] "r"(value)
			 : "memory");
	return err;
}

/* Identity-mapped; the library only asks for this on paths (local APIC,
 * AP start-up) that the guests never take. */
void *phys_to_virt(uint64_t pa)
{
	return (void *)pa;
}
