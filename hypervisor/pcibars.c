/*
 * Where the firmware put 64-bit memory BARs. OVMF places them above RAM,
 * outside every memory map entry; the hypervisor's own map (monolithic:
 * it drives the disk) and the root's view (microkernelized: the root
 * does) must include those GiBs, and only those (mapping everything up
 * to them would cost a table page per GiB). Every bus is walked as the
 * drivers walk it (drivers/pcienum.c: behind bridges and root ports, so
 * a disk behind a PCIe root port is seen too) through configuration
 * mechanism 1 at boot, before any partition runs; nothing is written (a
 * BAR is aligned to its size, so a BAR below 1 GiB never crosses a GiB
 * boundary: its base names the GiB to map).
 */
#include "hv.h"
#include "pcienum.h"
#include "x86/pci.h"

#define GiB (1ull << 30)

static uint32_t cfg_read(void *ctx, uint32_t bdf, uint32_t off)
{
	return pci_cfg_read32(bdf, off);
}

/* The GiBs holding 64-bit memory BARs at or above `from`: up to max of
 * their bases into gib[]; how many. */
unsigned pci_bar_gibs(uint64_t from, uint64_t *gib, unsigned max)
{
	static const struct vblk_hw hw = { .pci_read32 = cfg_read };
	static struct pcienum e;
	unsigned n = 0;

	pcienum_scan(&e, &hw);
	for (unsigned d = 0; d < e.count; d++) {
		if ((e.dev[d].header & PCI_HDR_TYPE_MASK) != 0)
			continue;       /* bridges: their windows hold the BARs */
		for (unsigned bar = 0; bar < PCI_BARS; bar++) {
			struct pci_bar b;
			uint64_t base;

			if (pcienum_bar(&hw, e.dev[d].bdf, bar, &b) || b.io || !b.mem64)
				continue;
			bar++;          /* its high half */
			base = ALIGN_DOWN(b.base, GiB);
			if (!base || base < from)
				continue;
			for (unsigned i = 0; i < n && base; i++)
				if (gib[i] == base)
					base = 0;
			if (base && n < max)
				gib[n++] = base;
		}
	}
	return n;
}
