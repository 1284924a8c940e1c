/*
 * The hypervisor's own page tables: an identity map of all RAM and the
 * 32-bit MMIO hole, in 2 MiB pages (small enough that a page never spans
 * two MTRR memory types on real machines' RAM/MMIO boundaries). Tables are
 * taken below 4 GiB, because the AP trampoline loads CR3 in 32-bit mode.
 */
#include "../../hv.h"
#include "cpu.h"

#define GiB (1ul << 30)
#define MiB2 (2ull << 20)

static uint64_t *table_alloc(void)
{
	uint64_t pa = pmm_alloc_below(&hv_pmm, 4 * GiB);
	uint64_t *t;

	if (!pa)
		panic("no memory below 4 GiB for page tables");
	t = phys_to_virt(pa);
	for (unsigned i = 0; i < 512; i++)
		t[i] = 0;
	return t;
}

static void map_gib(uint64_t *pml4, uint64_t gb)
{
	{
		unsigned l4 = (unsigned)((gb >> 39) & 511);
		unsigned l3 = (unsigned)((gb >> 30) & 511);
		uint64_t *pdpt, *pd;

		if (!(pml4[l4] & PTE_P))
			pml4[l4] = virt_to_phys(table_alloc()) | PTE_P | PTE_W;
		pdpt = phys_to_virt(pml4[l4] & PTE_ADDR_MASK);
		pd = table_alloc();
		for (unsigned i = 0; i < 512; i++)
			pd[i] = (gb + i * MiB2) | PTE_P | PTE_W | PTE_PS;
		pdpt[l3] = virt_to_phys(pd) | PTE_P | PTE_W;
	}
}

/* Also the GiBs of the firmware's 64-bit PCI BARs (the monolithic design
 * drives the disk itself). */
void paging_init(uint64_t top)
{
	uint64_t *pml4 = table_alloc();
	uint64_t end = ALIGN_UP(top > 4 * GiB ? top : 4 * GiB, GiB);
	uint64_t bars[PCI_BAR_GIBS_MAX];
	unsigned n = pci_bar_gibs(end, bars, PCI_BAR_GIBS_MAX);

	if (end > (512ull * GiB) * 512)
		panic("physical memory above 256 TiB is not supported");
	for (uint64_t gb = 0; gb < end; gb += GiB)
		map_gib(pml4, gb);
	for (unsigned i = 0; i < n; i++)
		if (bars[i] < (512ull * GiB) * 512)
			map_gib(pml4, bars[i]);
	write_cr3(virt_to_phys(pml4));
}
