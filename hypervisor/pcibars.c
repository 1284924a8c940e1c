/*
 * Where the firmware put 64-bit memory BARs. OVMF places them above RAM,
 * outside every memory map entry; the hypervisor's own map (monolithic:
 * it drives the disk) and the root's view (microkernelized: the root
 * does) must include those GiBs, and only those (mapping everything up
 * to them would cost a table page per GiB). Bus 0 is read
 * through configuration mechanism 1 at boot, before any partition runs;
 * nothing is written (a BAR is aligned to its size, so a BAR below 1 GiB
 * never crosses a GiB boundary: its base names the GiB to map).
 */
#include "hv.h"
#include "x86/pci.h"

#define GiB (1ull << 30)

/* The GiBs holding 64-bit memory BARs at or above `from`: up to max of
 * their bases into gib[]; how many. */
unsigned pci_bar_gibs(uint64_t from, uint64_t *gib, unsigned max)
{
	unsigned n = 0;

	for (uint32_t dev = 0; dev < 32; dev++) {
		unsigned nfn = 1;

		for (uint32_t fn = 0; fn < nfn; fn++) {
			uint32_t bdf = dev << 3 | fn, hdr;

			if ((pci_cfg_read32(bdf, 0) & 0xffff) == 0xffff)
				continue;
			hdr = (pci_cfg_read32(bdf, 0x0c) >> 16) & 0xff;
			if (fn == 0 && (hdr & 0x80))
				nfn = 8;
			if ((hdr & 0x7f) != 0)
				continue;       /* bridges: their windows hold the BARs */
			for (uint32_t bar = 0; bar < 6; bar++) {
				uint32_t lo = pci_cfg_read32(bdf, 0x10 + bar * 4);
				uint64_t base;

				if ((lo & 1) || ((lo >> 1) & 3) != 2 || bar == 5)
					continue;       /* I/O, 32-bit, or no high half */
				base = (lo & ~0xfull) | (uint64_t)pci_cfg_read32(bdf, 0x14 + bar * 4) << 32;
				bar++;
				base = ALIGN_DOWN(base, GiB);
				if (!base || base < from)
					continue;
				for (unsigned i = 0; i < n && base; i++)
					if (gib[i] == base)
						base = 0;
				if (base && n < max)
					gib[n++] = base;
			}
		}
	}
	return n;
}
