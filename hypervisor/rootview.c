/* The root partition's view of the address space; see rootview.h. */
#include <string.h>
#include "rootview.h"

int root_view(const struct memmap *usable, const struct memmap *root_ram,
	      uint64_t top, uint64_t apic_page, struct memmap *hv_owned,
	      struct memmap *visible)
{
	*hv_owned = *usable;
	for (unsigned i = 0; i < root_ram->count; i++)
		if (memmap_remove(hv_owned, root_ram->r[i].start, root_ram->r[i].end))
			return -1;
	memset(visible, 0, sizeof(*visible));
	if (memmap_add(visible, 0, top))
		return -1;
	for (unsigned i = 0; i < hv_owned->count; i++)
		if (memmap_remove(visible, hv_owned->r[i].start, hv_owned->r[i].end))
			return -1;
	return memmap_remove(visible, apic_page, apic_page + PAGE_SIZE);
}
