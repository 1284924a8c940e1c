/*
 * Fuzz target: the PCI walk (drivers/pcienum.c) over a configuration
 * space the input describes. Byte 0 picks what an address with no
 * function answers: all-ones, zero, a hash of the address (every bus
 * full of functions of random headers), or a bridge at every address
 * whose random bus numbers mostly point a little further down (trees
 * that hit the depth and bus caps). Then 8-byte records each set one dword
 * of one function: bdf (2 bytes), dword index (1), value (4), and a byte
 * that, when odd, makes the function answer all-ones from then on (a
 * function that vanishes). What must hold, abort() otherwise:
 *   - only dword-aligned offsets below 0x100 are read, nothing written;
 *   - at most PCIENUM_BUSES_MAX buses, each function's five reads at
 *     most: the walk is bounded whatever the space says;
 *   - the table holds at most PCIENUM_DEVS_MAX entries, each bdf once,
 *     each on a bus the walk scanned, at a depth within the cap, a bridge
 *     that was followed naming a bus above its own;
 *   - pcienum_find finds each entry's ids at or before it, and the BAR
 *     decoder answers 0 or -1 with a consistent result for every BAR.
 * Memory errors are AddressSanitizer's to report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pcienum.h"

#define FNS_MAX         64
#define RECORD          8

struct fn {
	uint32_t bdf;
	bool gone;
	uint8_t cfg[256];
};

static struct fn fns[FNS_MAX];
static unsigned nfns;
static unsigned absent_mode;
static unsigned long reads;

static struct fn *fn_at(uint32_t bdf)
{
	for (unsigned i = 0; i < nfns; i++)
		if (fns[i].bdf == bdf)
			return &fns[i];
	return NULL;
}

static uint32_t hash(uint32_t bdf, uint32_t off)
{
	uint32_t x = bdf * 0x9e3779b1u ^ off * 0x85ebca6bu;

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	return x;
}

/* Mode 3: every address a bridge (multi-function or not) to a bus a
 * little above its own with a random range: trees as deep and wide as
 * the caps allow. */
static uint32_t bridge_everywhere(uint32_t bdf, uint32_t off)
{
	uint32_t h = hash(bdf, off), bus = bdf >> 8, sec, sub;

	if (off == PCI_CFG_HEADER)
		return (h & 0x80) << 16 | PCI_HDR_TYPE_BRIDGE << 16;
	if (off != PCI_CFG_BRIDGE_BUSES)
		return h | 1;           /* a vendor that is never 0 or 0xffff */
	sec = bus + 1 + (h & 3);
	sub = (h >> 8) & 3 ? 0xff : sec + ((h >> 10) & 0x3f);  /* mostly "all below" */
	return (sub > 0xff ? 0xff : sub) << 16 | (sec & 0xff) << 8 | bus;
}

static uint32_t f_read32(void *ctx, uint32_t bdf, uint32_t off)
{
	struct fn *f = fn_at(bdf);
	uint32_t v;

	if ((off & 3) || off > 0xfc || bdf > 0xffff)
		abort();
	reads++;
	if (f) {
		if (f->gone)
			return 0xffffffffu;
		memcpy(&v, f->cfg + off, 4);
		return v;
	}
	switch (absent_mode) {
	case 0:
		return 0xffffffffu;
	case 1:
		return 0;
	case 2:
		return hash(bdf, off);
	default:
		return bridge_everywhere(bdf, off);
	}
}

static void f_write32(void *ctx, uint32_t bdf, uint32_t off, uint32_t v)
{
	abort();
}

static const struct vblk_hw hw = { .pci_read32 = f_read32, .pci_write32 = f_write32 };

static struct pcienum e;

/* A root port on bus 0 forwarding bus 1, a disk behind it, a
 * multi-function device, and a bridge pointing back. */
static const uint8_t seed[] = {
	0,
	0x10, 0x00, 0x00, 0x36, 0x1b, 0x0c, 0x00, 0,    /* 00:02.0 1b36:000c */
	0x10, 0x00, 0x03, 0x00, 0x00, 0x01, 0x00, 0,    /* header type 1 */
	0x10, 0x00, 0x06, 0x00, 0x01, 0x01, 0x00, 0,    /* buses 0, 1, 1 */
	0x00, 0x01, 0x00, 0xf4, 0x1a, 0x42, 0x10, 0,    /* 01:00.0 1af4:1042 */
	0x00, 0x01, 0x04, 0x0c, 0x00, 0x00, 0xfe, 0,    /* BAR0 64-bit */
	0x08, 0x01, 0x00, 0x36, 0x1b, 0x0c, 0x00, 0,    /* 01:01.0 a bridge ... */
	0x08, 0x01, 0x03, 0x00, 0x00, 0x81, 0x00, 0,
	0x08, 0x01, 0x06, 0x01, 0x00, 0xff, 0x00, 0,    /* ... back to bus 0 */
	0x18, 0x00, 0x00, 0x86, 0x80, 0x00, 0x70, 0,    /* 00:03.0 multi-function */
	0x18, 0x00, 0x03, 0x00, 0x00, 0x80, 0x00, 0,
	0x1a, 0x00, 0x00, 0xf4, 0x1a, 0x01, 0x10, 0,    /* 00:03.2 1af4:1001 */
	0x1a, 0x00, 0x0b, 0xf4, 0x1a, 0x02, 0x00, 0,
};

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	if (i > 3 || cap < sizeof(seed))
		return 0;
	memcpy(buf, seed, sizeof(seed));
	buf[0] = (uint8_t)i;            /* each absent-address mode */
	return sizeof(seed);
}

static void load(const uint8_t *d, size_t n)
{
	nfns = 0;
	absent_mode = n ? d[0] % 4 : 0;
	for (size_t i = 1; i + RECORD <= n; i += RECORD) {
		uint32_t bdf = (uint32_t)d[i] | (uint32_t)d[i + 1] << 8;
		unsigned off = (d[i + 2] & 0x3f) * 4u;
		struct fn *f = fn_at(bdf);

		if (!f) {
			if (nfns == FNS_MAX)
				continue;
			f = &fns[nfns++];
			memset(f, 0, sizeof(*f));
			f->bdf = bdf;
		}
		memcpy(f->cfg + off, d + i + 3, 4);
		f->gone |= d[i + 7] & 1;
	}
}

static void check_table(void)
{
	if (e.count > PCIENUM_DEVS_MAX || e.buses > PCIENUM_BUSES_MAX || e.buses < 1 ||
	    reads > 5ul * 256 * PCIENUM_BUSES_MAX)
		abort();
	for (unsigned i = 0; i < e.count; i++) {
		const struct pcienum_dev *d = &e.dev[i];
		struct pci_id id = { d->vendor, d->device };
		unsigned bus = d->bdf >> 8;
		int at = pcienum_find(&e, &id, 1, 0);

		if (!((e.visited[bus / 32] >> (bus % 32)) & 1) || d->depth > PCIENUM_DEPTH_MAX ||
		    (d->secondary && d->secondary <= bus) || at < 0 || at > (int)i ||
		    d->vendor == 0xffff || d->vendor == 0)
			abort();
		if (pcienum_find_class(&e, d->class, 0xffffff, 0) > (int)i)
			abort();
		for (unsigned k = 0; k < i; k++)
			if (e.dev[k].bdf == d->bdf)
				abort();
		for (unsigned b = 0; b <= PCI_BARS; b++) {
			struct pci_bar bar;
			int r = pcienum_bar(&hw, d->bdf, b, &bar);

			if ((r != 0 && r != -1) || (r == 0 && b == PCI_BARS) ||
			    (r == 0 && bar.mem64 && (b == PCI_BARS - 1 || bar.io)) ||
			    (r == 0 && bar.io && bar.base > 0xffffffffu))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	load(d, n);
	reads = 0;
	pcienum_scan(&e, &hw);
	check_table();
	return 0;
}
