/*
 * The PCI walk (pcienum.h). Depth first, as an OS numbers devices: a
 * bridge's bus is scanned when the bridge is seen, so the table lists a
 * bus's devices before those of the next bridge on the same bus.
 *
 * What a bridge must say before we follow it (type 1 header, dword 0x18:
 * primary 7:0, secondary 15:8, subordinate 23:16): a secondary bus
 * greater than the bridge's own bus, not scanned already, and a range
 * [secondary, subordinate] inside the range its own bus is reached
 * through. That is what the hardware forwards: a bridge passes type 1
 * configuration cycles only for buses in its range, so a bus outside it
 * cannot be behind the bridge, and a "bus" that is, say, our own bus
 * again is the firmware's mistake or an unconfigured bridge (secondary
 * 0). Each refusal is counted. Together with the visited bitmap, the
 * depth cap and the bus cap, no configuration space, however wrong,
 * makes the walk read more than PCIENUM_BUSES_MAX buses' worth.
 */
#include "pcienum.h"

#define SLOTS                   32
#define FUNCTIONS               8
#define BAR_IO                  1u
#define BAR_MEM_TYPE(lo)        (((lo) >> 1) & 3)
#define BAR_MEM_TYPE_64         2
#define BAR_MEM_TYPE_RESERVED   3
#define BAR_PREFETCHABLE        (1u << 3)

struct walk {
	struct pcienum *e;
	const struct vblk_hw *hw;
};

static uint32_t cfg(const struct walk *w, uint32_t bdf, uint32_t off)
{
	return w->hw->pci_read32(w->hw->ctx, bdf, off);
}

static bool visited(const struct pcienum *e, unsigned bus)
{
	return (e->visited[bus / 32] >> (bus % 32)) & 1;
}

/* No function answers: all-ones is the master abort, zero is no vendor. */
static bool absent(uint32_t id)
{
	return (id & 0xffff) == 0xffff || (id & 0xffff) == 0;
}

/* The table entry for the function at `bdf`, or NULL when full. */
static struct pcienum_dev *record(const struct walk *w, uint32_t bdf, uint32_t id,
				  uint8_t hdr, unsigned depth)
{
	struct pcienum *e = w->e;
	struct pcienum_dev *d;
	uint32_t cls = cfg(w, bdf, PCI_CFG_CLASS), sub = 0;

	if (e->count == PCIENUM_DEVS_MAX) {
		e->dropped++;
		return NULL;
	}
	if ((hdr & PCI_HDR_TYPE_MASK) == 0)
		sub = cfg(w, bdf, PCI_CFG_SUBSYSTEM);
	d = &e->dev[e->count++];
	*d = (struct pcienum_dev){
		.vendor = (uint16_t)id, .device = (uint16_t)(id >> 16),
		.class = cls >> 8, .revision = (uint8_t)cls,
		.bdf = (uint16_t)bdf, .header = hdr,
		.subsys_vendor = (uint16_t)sub, .subsys = (uint16_t)(sub >> 16),
		.depth = (uint8_t)depth,
	};
	return d;
}

static void scan_bus(const struct walk *w, unsigned bus, unsigned last_bus, unsigned depth);

/* A bridge on `bus`, itself reached through buses bus..last_bus: its
 * secondary bus scanned when the checks of the file comment pass. */
static void follow(const struct walk *w, uint32_t bdf, struct pcienum_dev *d, unsigned bus,
		   unsigned last_bus, unsigned depth)
{
	struct pcienum *e = w->e;
	uint32_t buses = cfg(w, bdf, PCI_CFG_BRIDGE_BUSES);
	unsigned sec = (buses >> 8) & 0xff, sub = (buses >> 16) & 0xff;

	if (sec <= bus || sub < sec || sub > last_bus || visited(e, sec) ||
	    depth >= PCIENUM_DEPTH_MAX || e->buses >= PCIENUM_BUSES_MAX) {
		e->bridges_refused++;
		return;
	}
	if (d)
		d->secondary = (uint8_t)sec;
	scan_bus(w, sec, sub, depth + 1);
}

static void scan_bus(const struct walk *w, unsigned bus, unsigned last_bus, unsigned depth)
{
	struct pcienum *e = w->e;

	e->visited[bus / 32] |= 1u << (bus % 32);
	e->buses++;
	for (uint32_t slot = 0; slot < SLOTS; slot++) {
		unsigned nfn = 1;

		for (uint32_t fn = 0; fn < nfn; fn++) {
			uint32_t bdf = bus << 8 | slot << 3 | fn;
			uint32_t id = cfg(w, bdf, PCI_CFG_ID);
			struct pcienum_dev *d;
			uint8_t hdr;

			if (absent(id))
				continue;       /* function 0 absent: nfn stays 1 */
			hdr = (uint8_t)(cfg(w, bdf, PCI_CFG_HEADER) >> 16);
			if (fn == 0 && (hdr & PCI_HDR_MULTIFUNCTION))
				nfn = FUNCTIONS;
			d = record(w, bdf, id, hdr, depth);
			if ((hdr & PCI_HDR_TYPE_MASK) == PCI_HDR_TYPE_BRIDGE)
				follow(w, bdf, d, bus, last_bus, depth);
		}
	}
}

void pcienum_scan(struct pcienum *e, const struct vblk_hw *hw)
{
	struct walk w = { e, hw };

	*e = (struct pcienum){ .count = 0 };
	scan_bus(&w, 0, 0xff, 0);
}

int pcienum_find(const struct pcienum *e, const struct pci_id *ids, unsigned nids, int from)
{
	for (int i = from < 0 ? 0 : from; i < (int)e->count; i++)
		for (unsigned k = 0; k < nids; k++)
			if (e->dev[i].vendor == ids[k].vendor && e->dev[i].device == ids[k].device)
				return i;
	return -1;
}

int pcienum_find_class(const struct pcienum *e, uint32_t want, uint32_t mask, int from)
{
	for (int i = from < 0 ? 0 : from; i < (int)e->count; i++)
		if ((e->dev[i].class & mask) == want)
			return i;
	return -1;
}

int pcienum_bar(const struct vblk_hw *hw, uint32_t bdf, unsigned index, struct pci_bar *bar)
{
	uint32_t off = PCI_CFG_BAR0 + 4u * index, lo;

	*bar = (struct pci_bar){ .base = 0 };
	if (index >= PCI_BARS)
		return -1;
	lo = hw->pci_read32(hw->ctx, bdf, off);
	if (lo == 0xffffffffu)
		return -1;
	if (lo & BAR_IO) {
		bar->io = true;
		bar->base = lo & ~3u;
		return 0;
	}
	if (BAR_MEM_TYPE(lo) == BAR_MEM_TYPE_RESERVED)
		return -1;
	bar->prefetchable = (lo & BAR_PREFETCHABLE) != 0;
	bar->base = lo & ~0xfull;
	if (BAR_MEM_TYPE(lo) == BAR_MEM_TYPE_64) {
		if (index == PCI_BARS - 1)
			return -1;
		bar->mem64 = true;
		bar->base |= (uint64_t)hw->pci_read32(hw->ctx, bdf, off + 4) << 32;
	}
	return 0;
}
