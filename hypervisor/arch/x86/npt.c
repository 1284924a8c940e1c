/*
 * Building nested page tables. Every present entry carries U (the CPU
 * walks nested tables as user accesses) and W unless the range is
 * read-only; NX is not used because the host runs with EFER.NXE clear,
 * which makes bit 63 reserved in the nested tables too. Each piece of a
 * range gets the largest leaf its alignment and length allow.
 */
#include <string.h>
#include <isovisor/x86.h>
#include "npt.h"

#define PAGE_BYTES 4096ull

#define LEVEL_SHIFT(l) (12 + 9 * (l))   /* level 0: 4K pages .. 3: PML4 */

static uint64_t *table_new(struct npt *n)
{
	uint64_t *t = page_alloc_zeroed();

	n->tables++;
	return t;
}

int npt_init(struct npt *n, bool gb_pages)
{
	memset(n, 0, sizeof(*n));
	n->pml4 = table_new(n);
	n->pml4_pa = virt_to_phys(n->pml4);
	n->gb_pages = gb_pages;
	return 0;
}

/* Replace a large leaf with a table of the next size down, same rights. */
static void split_leaf(struct npt *n, uint64_t *entry, int level)
{
	uint64_t *t = table_new(n);
	uint64_t base = *entry & PTE_ADDR_MASK & ~((1ull << LEVEL_SHIFT(level)) - 1);
	uint64_t flags = *entry & (PTE_P | PTE_W | PTE_U);
	uint64_t step = 1ull << LEVEL_SHIFT(level - 1);

	for (unsigned i = 0; i < 512; i++)
		t[i] = (base + i * step) | flags | (level - 1 ? PTE_PS : 0);
	*entry = virt_to_phys(t) | PTE_P | PTE_W | PTE_U;
}

static void map_one(struct npt *n, uint64_t gpa, uint64_t hpa, int leaf_level,
		    uint64_t flags)
{
	uint64_t *t = n->pml4;

	for (int level = 3; level > leaf_level; level--) {
		uint64_t *e = &t[(gpa >> LEVEL_SHIFT(level)) & 511];

		if (!(*e & PTE_P))
			*e = virt_to_phys(table_new(n)) | PTE_P | PTE_W | PTE_U;
		else if (*e & PTE_PS)
			split_leaf(n, e, level);
		t = phys_to_virt(*e & PTE_ADDR_MASK);
	}
	t[(gpa >> LEVEL_SHIFT(leaf_level)) & 511] =
		hpa | flags | (leaf_level ? PTE_PS : 0);
	n->leaves[leaf_level]++;
}

int npt_map(struct npt *n, uint64_t gpa, uint64_t hpa, uint64_t len,
	    unsigned rights)
{
	uint64_t flags = PTE_P | PTE_U | ((rights & GPA_WRITE) ? PTE_W : 0);

	if ((gpa | hpa | len) & (PAGE_BYTES - 1))
		return -1;
	if (!(rights & (GPA_READ | GPA_WRITE | GPA_EXEC)))
		flags = 0;              /* no access: leave it not present */
	while (len) {
		int level = 0;

		for (int l = n->gb_pages ? 2 : 1; l > 0; l--) {
			uint64_t size = 1ull << LEVEL_SHIFT(l);

			if (!((gpa | hpa) & (size - 1)) && len >= size) {
				level = l;
				break;
			}
		}
		map_one(n, gpa, hpa, level, flags);
		gpa += 1ull << LEVEL_SHIFT(level);
		hpa += 1ull << LEVEL_SHIFT(level);
		len -= 1ull << LEVEL_SHIFT(level);
	}
	return 0;
}

uint64_t npt_translate(const struct npt *n, uint64_t gpa, bool *writable)
{
	const uint64_t *t = n->pml4;

	for (int level = 3; level >= 0; level--) {
		uint64_t e = t[(gpa >> LEVEL_SHIFT(level)) & 511];

		if (!(e & PTE_P))
			return (uint64_t)-1;
		if (level == 0 || (e & PTE_PS)) {
			uint64_t mask = (1ull << LEVEL_SHIFT(level)) - 1;

			if (writable)
				*writable = e & PTE_W;
			return ((e & PTE_ADDR_MASK) & ~mask) | (gpa & mask);
		}
		t = phys_to_virt(e & PTE_ADDR_MASK);
	}
	return (uint64_t)-1;
}

static void free_level(struct npt *n, uint64_t *t, int level)
{
	if (level > 0)
		for (unsigned i = 0; i < 512; i++)
			if ((t[i] & PTE_P) && !(t[i] & PTE_PS))
				free_level(n, phys_to_virt(t[i] & PTE_ADDR_MASK), level - 1);
	page_free(t);
	n->tables--;
}

void npt_destroy(struct npt *n)
{
	if (n->pml4)
		free_level(n, n->pml4, 3);
	n->pml4 = NULL;
	n->pml4_pa = 0;
}
