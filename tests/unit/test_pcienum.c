/*
 * Host tests for the PCI walk (drivers/pcienum.c) on synthetic
 * configuration spaces: bus 0 alone, multi-function devices, a device
 * whose functions answer without the multi-function bit, bridges and
 * bridges behind bridges (depth and secondary recorded), bridges that
 * must not be followed (pointing back, at themselves, at a bus already
 * scanned, unconfigured, a range outside their parent's or upside
 * down), the depth and bus caps, a machine where every address answers
 * as a bridge, all-ones and all-zero spaces, the table filling up, the
 * queries by id and class, the drivers' finds built on them, and the
 * BAR decoder on good and bad BARs.
 * Every walk must read only dword-aligned offsets below 0x100 and write
 * nothing.
 */
#include <string.h>
#include "check.h"
#include "pcienum.h"
#include "platform.h"
#include "virtio_blk.h"
#include "virtio_net.h"
#include "e1000e_nic.h"

#define FNS_MAX 512

struct fn {
	uint32_t bdf;
	uint8_t cfg[256];
};

static struct fn fns[FNS_MAX];
static unsigned nfns;
static unsigned long reads, bad_reads, writes;
/* What an address no function sits at answers (all-ones: master abort). */
static uint32_t absent_value = 0xffffffffu;
/* Every address answers as this function (NULL: only fns[]). */
static const uint8_t *everywhere;

static void put16(uint8_t *p, unsigned off, uint16_t v) { memcpy(p + off, &v, 2); }
static void put32(uint8_t *p, unsigned off, uint32_t v) { memcpy(p + off, &v, 4); }

static void reset(void)
{
	nfns = 0;
	reads = bad_reads = writes = 0;
	absent_value = 0xffffffffu;
	everywhere = NULL;
}

static uint32_t f_read32(void *ctx, uint32_t bdf, uint32_t off)
{
	uint32_t v;

	reads++;
	if ((off & 3) || off > 0xfc || bdf > 0xffff) {
		bad_reads++;
		return 0xffffffffu;
	}
	if (everywhere) {
		memcpy(&v, everywhere + off, 4);
		return v;
	}
	for (unsigned i = 0; i < nfns; i++)
		if (fns[i].bdf == bdf) {
			memcpy(&v, fns[i].cfg + off, 4);
			return v;
		}
	return absent_value;
}

static void f_write32(void *ctx, uint32_t bdf, uint32_t off, uint32_t v)
{
	writes++;
}

static const struct vblk_hw hw = { .pci_read32 = f_read32, .pci_write32 = f_write32 };

static uint8_t *add(uint32_t bdf, uint16_t vendor, uint16_t device, uint32_t class, uint8_t hdr)
{
	uint8_t *c = fns[nfns].cfg;

	fns[nfns++].bdf = bdf;
	memset(c, 0, 256);
	put16(c, 0, vendor);
	put16(c, 2, device);
	put32(c, 8, class << 8 | 0x01);         /* revision 1 */
	c[0x0e] = hdr;
	return c;
}

static uint8_t *add_dev(uint32_t bdf, uint16_t vendor, uint16_t device, uint32_t class,
			uint16_t subsys)
{
	uint8_t *c = add(bdf, vendor, device, class, 0);

	put16(c, 0x2c, vendor);
	put16(c, 0x2e, subsys);
	return c;
}

/* A PCI-to-PCI bridge (or a root port: the same header) on its bus,
 * forwarding [secondary, subordinate]. */
static uint8_t *add_bridge(uint32_t bdf, uint8_t hdr, unsigned secondary, unsigned subordinate)
{
	uint8_t *c = add(bdf, 0x1b36, 0x000c, 0x060400, hdr | 1);

	put32(c, 0x18, (uint32_t)subordinate << 16 | (uint32_t)secondary << 8 | (bdf >> 8));
	return c;
}

static bool clean(void)
{
	return bad_reads == 0 && writes == 0;
}

static int find1(const struct pcienum *e, uint16_t vendor, uint16_t device)
{
	const struct pci_id id = { vendor, device };
	int i = pcienum_find(e, &id, 1, 0);

	return i < 0 ? -1 : e->dev[i].bdf;
}

static struct pcienum e;

static void test_empty(void)
{
	reset();
	pcienum_scan(&e, &hw);
	CHECK(e.count == 0 && e.buses == 1 && e.bridges_refused == 0 && clean(),
	      "all-ones everywhere: nothing found, bus 0 scanned, no stray access");
	CHECK(reads == 32, "all-ones: one read per slot (%lu)", reads);
	reset();
	absent_value = 0;
	pcienum_scan(&e, &hw);
	CHECK(e.count == 0 && e.buses == 1 && clean(), "all-zero everywhere: vendor 0 is no function");
}

static void test_bus0(void)
{
	const struct pcienum_dev *d;
	bool trans;

	reset();
	add_dev(0x00, 0x8086, 0x1237, 0x060000, 0);             /* host bridge */
	add(0x08, 0x8086, 0x7000, 0x060100, 0x80);               /* ISA, multi-function */
	add_dev(0x09, 0x8086, 0x7010, 0x010180, 0);              /* IDE */
	add_dev(0x0b, 0x8086, 0x7113, 0x068000, 0);              /* ACPI, function 3 */
	add_dev(0x20, 0x1af4, 0x1001, 0x010000, 2);              /* transitional blk */
	add_dev(0x28, 0x8086, 0x2918, 0x060100, 0);              /* not multi-function ... */
	add_dev(0x2b, 0x1af4, 0x1041, 0x020000, 1);              /* ... so never seen */
	pcienum_scan(&e, &hw);
	CHECK(e.count == 6 && e.buses == 1 && clean(),
	      "bus 0: 6 functions, function 3 of a single-function device skipped (%u)", e.count);
	CHECK(e.dev[1].bdf == 0x08 && e.dev[2].bdf == 0x09 && e.dev[3].bdf == 0x0b,
	      "bus 0: the multi-function device's functions 0, 1 and 3 in order");
	d = &e.dev[4];
	CHECK(d->vendor == 0x1af4 && d->device == 0x1001 && d->class == 0x010000 &&
	      d->revision == 1 && d->subsys_vendor == 0x1af4 && d->subsys == 2 &&
	      d->header == 0 && d->depth == 0 && d->secondary == 0,
	      "bus 0: the virtio-blk's vendor, device, class, revision, subsystem, header");
	CHECK(e.dev[1].header == 0x80, "bus 0: the header type keeps the multi-function bit");
	CHECK(find1(&e, 0x1af4, 0x1041) == -1, "bus 0: the hidden function is not found");
	trans = false;
	CHECK(vblk_find(&hw, &trans) == 0x20 && trans,
	      "vblk_find: the transitional 1001 (subsystem 2) at 00:04.0");
	put16(fns[4].cfg, 0x2e, 3);
	CHECK(vblk_find(&hw, &trans) == -1, "vblk_find: a 1001 whose subsystem id is not block");
	CHECK(vnet_find(&hw) == -1 && e1ke_find(&hw) == -1, "vnet_find, e1ke_find: none on bus 0");
}

static void test_bridges(void)
{
	static const struct pci_id blk[] = { { 0x1af4, 0x1042 }, { 0x1af4, 0x1001 } };
	bool trans;
	int i;

	/* q35-like: two root ports, the second with a switch behind it. */
	reset();
	add_dev(0x00, 0x8086, 0x29c0, 0x060000, 0);
	add_bridge(0x10, 0x80, 1, 1);                           /* 00:02.0 -> 1 */
	add_bridge(0x11, 0, 2, 4);                              /* 00:02.1 -> 2..4 */
	add_dev(0x100, 0x1af4, 0x1042, 0x010000, 0x1100);        /* 01:00.0 */
	add_bridge(0x200, 0, 3, 4);                             /* switch upstream */
	add_bridge(0x300, 0x80, 4, 4);                          /* a downstream port */
	add_dev(0x400, 0x8086, 0x10d3, 0x020000, 0);             /* 04:00.0 */
	add_dev(0x18, 0x1af4, 0x1001, 0x010000, 2);              /* 00:03.0, after them */
	pcienum_scan(&e, &hw);
	CHECK(e.count == 8 && e.buses == 5 && e.bridges_refused == 0 && clean(),
	      "bridges: 8 functions on 5 buses, nothing refused (%u, %u, %u)",
	      e.count, e.buses, e.bridges_refused);
	CHECK(e.dev[1].secondary == 1 && e.dev[2].bdf == 0x100 && e.dev[2].depth == 1 &&
	      e.dev[3].bdf == 0x11 && e.dev[3].secondary == 2,
	      "bridges: depth first, the bus behind a bridge right after it");
	i = pcienum_find(&e, blk, 2, 0);
	CHECK(i >= 0 && e.dev[i].bdf == 0x100, "find: the first of the id list behind a root port");
	i = pcienum_find(&e, blk, 2, i + 1);
	CHECK(i >= 0 && e.dev[i].bdf == 0x18, "find: the next one, on bus 0");
	CHECK(pcienum_find(&e, blk, 2, i + 1) == -1, "find: then none");
	i = pcienum_find_class(&e, 0x020000, 0xffff00, 0);
	CHECK(i >= 0 && e.dev[i].bdf == 0x400 && e.dev[i].depth == 3,
	      "find by class: the NIC three bridges down (depth %d)", i >= 0 ? e.dev[i].depth : -1);
	trans = true;
	CHECK(vblk_find(&hw, &trans) == 0x100 && !trans && e1ke_find(&hw) == 0x400 &&
	      vnet_find(&hw) == -1, "vblk_find: the modern 1042 behind the root port first; "
	      "e1ke_find: the 82574L behind the switch");
	i = pcienum_find_class(&e, 0x060400, 0xffff00, 0);
	CHECK(i == 1, "find by class: the first PCI-to-PCI bridge");
	CHECK(pcienum_find_class(&e, 0x0c0300, 0xffff00, 0) == -1 &&
	      pcienum_find(&e, blk, 0, 0) == -1 && pcienum_find_class(&e, 0, 0, 99) == -1,
	      "find: no USB; an empty id list and a start past the end find nothing");
}

static void test_refused(void)
{
	reset();
	add_bridge(0x08, 0, 0, 0);                              /* unconfigured */
	add_bridge(0x10, 0, 1, 3);                              /* 00:02.0 -> 1..3 */
	add_bridge(0x100, 0x80, 1, 1);                          /* itself */
	add_bridge(0x101, 0, 0, 5);                             /* back to bus 0 */
	add_bridge(0x108, 0, 2, 9);                             /* beyond its parent's 1..3 */
	add_bridge(0x110, 0, 3, 2);                             /* upside down */
	add_bridge(0x118, 0, 2, 2);                             /* good: bus 2 */
	add_bridge(0x120, 0, 2, 3);                             /* bus 2 again */
	add_bridge(0x200, 0, 1, 1);                             /* back up to bus 1 */
	add_dev(0x208, 0x1af4, 0x1042, 0x010000, 0);
	add_bridge(0x18, 0, 2, 2);                              /* bus 0 -> 2: scanned */
	pcienum_scan(&e, &hw);
	CHECK(e.buses == 3 && clean(), "refused: buses 0, 1, 2 scanned once each (%u)", e.buses);
	CHECK(e.bridges_refused == 8,
	      "refused: unconfigured, itself, back, beyond, upside down, twice, up, visited (%u)",
	      e.bridges_refused);
	CHECK(find1(&e, 0x1af4, 0x1042) == 0x208, "refused: the disk behind the good bridge found");
}

/* Bus n's bridge forwards n+1..255: a chain as deep as there are buses. */
static void test_caps(void)
{
	static uint8_t any[256];

	reset();
	for (unsigned b = 0; b < 20; b++)
		add_bridge(b << 8, 0, b + 1, 255);
	pcienum_scan(&e, &hw);
	CHECK(e.buses == PCIENUM_DEPTH_MAX + 1 && e.bridges_refused == 1 && clean(),
	      "depth cap: %u buses of a 20-deep chain, the next bridge refused", e.buses);
	CHECK(e.dev[e.count - 1].depth == PCIENUM_DEPTH_MAX, "depth cap: the last at depth %u",
	      e.dev[e.count - 1].depth);

	/* 32 multi-function slots of 8 bridges, each to a bus of its own. */
	reset();
	for (unsigned i = 0; i < 256 && nfns < FNS_MAX; i++)
		add_bridge(i, i % 8 == 0 ? 0x80 : 0, i + 1 > 255 ? 255 : i + 1, i + 1 > 255 ? 255 : i + 1);
	pcienum_scan(&e, &hw);
	CHECK(e.buses == PCIENUM_BUSES_MAX && e.count == PCIENUM_DEVS_MAX &&
	      e.dropped == 256 - PCIENUM_DEVS_MAX && clean(),
	      "bus cap: %u buses scanned, the table full at %u, %u dropped", e.buses, e.count,
	      e.dropped);
	CHECK(e.bridges_refused == 256 - (PCIENUM_BUSES_MAX - 1),
	      "bus cap: the other bridges refused (%u)", e.bridges_refused);

	/* Every address answers as the same multi-function bridge. */
	reset();
	put16(any, 0, 0x1b36);
	put16(any, 2, 0x000c);
	any[0x0e] = 0x81;
	put32(any, 0x18, 0xff0100);                     /* secondary 1, subordinate 255 */
	everywhere = any;
	pcienum_scan(&e, &hw);
	CHECK(e.buses == 2 && e.count == PCIENUM_DEVS_MAX && clean(),
	      "everywhere a bridge to bus 1: buses 0 and 1 only (%u), table full", e.buses);
	CHECK(reads < 8u * 256 * 4 * PCIENUM_BUSES_MAX, "everywhere: a bounded walk (%lu reads)", reads);
	put32(any, 0x18, 0xffffffff);
	memset(any, 0xff, 8);
	pcienum_scan(&e, &hw);
	CHECK(e.buses == 1 && e.count == 0, "everywhere all-ones: nothing");
	memset(any, 0xff, sizeof(any));
	put16(any, 0, 0x1234);
	pcienum_scan(&e, &hw);
	CHECK(e.buses == 1 && e.count == PCIENUM_DEVS_MAX && e.dropped == 256 - PCIENUM_DEVS_MAX,
	      "a vendor with all-ones otherwise: 256 functions on bus 0, the table full (%u)",
	      e.count);
	CHECK(e.dev[0].header == 0xff && e.dev[0].subsys == 0 && e.bridges_refused == 0 && clean(),
	      "... header type 0x7f: no subsystem read, no bridge");
}

static void test_bars(void)
{
	struct pci_bar b;
	uint8_t *c;

	reset();
	c = add_dev(0x18, 0x1af4, 0x1042, 0x010000, 0);
	put32(c, 0x10, 0xfebd1000);                     /* 32-bit memory */
	put32(c, 0x14, 0xc001);                         /* I/O at 0xc000 */
	put32(c, 0x18, 0x0000000c);                     /* 64-bit prefetchable ... */
	put32(c, 0x1c, 0x00000008);                     /* ... at 0x8_0000_0000 */
	put32(c, 0x20, 0x00000006);                     /* reserved memory type */
	put32(c, 0x24, 0x00000004);                     /* 64-bit in the last BAR */
	CHECK(pcienum_bar(&hw, 0x18, 0, &b) == 0 && b.base == 0xfebd1000 && !b.io && !b.mem64 &&
	      !b.prefetchable, "BAR0: 32-bit memory at 0xfebd1000");
	CHECK(pcienum_bar(&hw, 0x18, 1, &b) == 0 && b.io && b.base == 0xc000,
	      "BAR1: I/O at 0xc000");
	CHECK(pcienum_bar(&hw, 0x18, 2, &b) == 0 && b.mem64 && b.prefetchable &&
	      b.base == 0x800000000ull, "BAR2: 64-bit prefetchable at 0x800000000");
	CHECK(pcienum_bar(&hw, 0x18, 4, &b) == -1, "BAR4: the reserved memory type refused");
	CHECK(pcienum_bar(&hw, 0x18, 5, &b) == -1 && b.base == 0,
	      "BAR5: 64-bit with no high half refused");
	CHECK(pcienum_bar(&hw, 0x18, 6, &b) == -1 && pcienum_bar(&hw, 0x18, ~0u, &b) == -1,
	      "BAR 6 and beyond refused");
	put32(c, 0x10, 0);
	CHECK(pcienum_bar(&hw, 0x18, 0, &b) == 0 && b.base == 0, "BAR0 unassigned: base 0");
	CHECK(pcienum_bar(&hw, 0x20, 0, &b) == -1, "a BAR of no device (all-ones) refused");
	CHECK(clean(), "BARs: read only, dword-aligned");
}

int main(void)
{
	test_empty();
	test_bus0();
	test_bridges();
	test_refused();
	test_caps();
	test_bars();
	return done_testing();
}
