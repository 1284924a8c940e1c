/*
 * What the root partition sees of the physical address space: everything
 * below `top`, RAM or device, except the memory the hypervisor keeps
 * (usable RAM that is not the root's) and the local APIC page, which is
 * mapped read-only apart. Portable, so a host test checks it with the
 * NPT builder.
 */
#ifndef HV_ROOTVIEW_H
#define HV_ROOTVIEW_H

#include <stdint.h>
#include "memmap.h"

/* Fill `hv_owned` and `visible`; -1 when a map overflows. */
int root_view(const struct memmap *usable, const struct memmap *root_ram,
	      uint64_t top, uint64_t apic_page, struct memmap *hv_owned,
	      struct memmap *visible);

#endif
