/*
 * Host tests for the virtio-net driver (drivers/virtio_net.c) against a
 * fake virtio-net-pci modelled on QEMU's: the modern (0x1041, q35) and
 * transitional (0x1000 with subsystem id 1, i440fx) identities with
 * QEMU's capability list (MSI-X at 0x98, the PCI-config-access, notify,
 * device, ISR and common capabilities, all in the 64-bit BAR 4), its
 * feature set, queue sizes of 256, three queues (the control queue
 * exists but is never used), notify_off_multiplier 4, rx notifications
 * suppressed while the device has buffers. The test "runs" the device:
 * it then consumes the transmit queue and fills injected frames into
 * receive buffers.
 *
 * Covered: finding the function (bus 0, multi-function, behind bridges,
 * a bridge loop), the handshake (reset of a device left running, the
 * features acked a subset of those offered, FEATURES_OK, DRIVER_OK last,
 * queue sizes, the prefilled receive queue), receive in order and byte
 * for byte across more frames than buffers, transmit byte for byte with
 * the zeroed header, busy and retry, bad lengths, MSI-X (table entries
 * 0 and 1, the queues' vectors) and interrupt suppression (the receive
 * queue quiet while frames come, armed when empty, the frame that comes
 * while arming found by the re-check; the transmit queue armed only
 * while busy), the 16-bit ring
 * indices wrapping, a hostile device (used ids out of range or repeated,
 * impossible lengths, a used index running ahead), and devices refused:
 * legacy-only, no VERSION_1, FEATURES_OK refused, unmappable BARs.
 *
 * How the fake sees register writes: the driver reaches the common
 * config through a plain pointer (map_bar), so the BAR's pages are
 * mapped read-only. A write faults (SIGSEGV, a write fault by the page
 * fault error code); the handler opens the page and sets the trap flag;
 * the write executes; the single-step trap (SIGTRAP) lets the device act
 * on the value written, rewrite every register the driver may read next
 * (device_feature for the selected half, the selected queue's fields)
 * and close the page again. Reads need no trap: the pages always hold
 * what the registers read now. Faults elsewhere go to the handler that
 * was there before (ASan's).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include "check.h"
#include "virtio_net.h"

/* ---- constants of the fake ---------------------------------------------- */

#define BAR4_BYTES      0x4000u         /* QEMU: common, ISR, device, notify */
#define OFF_COMMON      0x0000u
#define OFF_ISR         0x1000u
#define OFF_DEVICE      0x2000u
#define OFF_NOTIFY      0x3000u
#define NOTIFY_MUL      4u
#define MSIX_ENTRIES    4u              /* QEMU: 2 * queue pairs + 2 */
#define FAKE_QUEUES     3u              /* rx, tx, ctrl */
#define FAKE_DEVS       4
#define RXQ_MAX         512u            /* frames injected, not yet delivered */
#define TXLOG           512u
#define DMA_BYTES       (16u << 20)
#define DMA_PHYS        0x40000000ull   /* not the pointer: catches mix-ups */
#define PAGE            4096u
#define NO_VECTOR       0xffffu

#define ST_ACK          1
#define ST_DRIVER       2
#define ST_DRIVER_OK    4
#define ST_FEATURES_OK  8
#define ST_FAILED       0x80

#define F(b)            (1ull << (b))
#define F_MAC           F(5)
#define F_STATUS        F(16)
#define F_VERSION_1     F(32)
/* QEMU's virtio-net-pci with a tap peer: checksum and TSO offloads,
 * MAC, mergeable buffers, status, the control queue and its commands,
 * announce, notify-on-empty, any-layout, indirect descriptors, event
 * index, VERSION_1 and speed/duplex. */
#define QEMU_FEATURES   (F(0) | F(1) | F(2) | F_MAC | F(7) | F(8) | F(9) | F(10) | F(11) | \
			 F(12) | F(13) | F(14) | F(15) | F_STATUS | F(17) | F(18) | F(19) | \
			 F(20) | F(21) | F(23) | F(24) | F(27) | F(28) | F(29) | F_VERSION_1 | \
			 F(63))

#define VRING_DESC_F_NEXT       1
#define VRING_DESC_F_WRITE      2
#define VRING_DESC_F_INDIRECT   4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY  1

enum kind { MODERN, TRANSITIONAL, LEGACY_MSIX_ONLY, LEGACY_NO_CAPS };

struct fake_queue {
	uint16_t max, size, msix, enable;
	uint64_t desc, avail, used;
	uint16_t last_avail, used_idx;
	unsigned kicks;
};

struct txrec {
	size_t len;
	bool hdr_zero;
	uint8_t data[2048];
};

struct fake_dev {
	bool live;
	uint8_t cfg[256];
	uint8_t *bar4;                  /* mmap'd, read-only but while trapped */
	uint8_t *msix_table;
	uint64_t bar4_phys, bar1_phys;
	uint8_t msix_cap;

	uint64_t offered, driver_features;
	uint32_t dfsel, gfsel;
	uint8_t status, gen;
	uint16_t qsel, msix_config;
	struct fake_queue q[FAKE_QUEUES];
	uint8_t mac[6];
	uint16_t net_status;
	bool refuse_features;
	bool rx_suppress;               /* QEMU: NO_NOTIFY while it has rx buffers */
	bool rx_on_kick;                /* QEMU: queued frames go out when buffers come */

	unsigned resets, acked_unoffered, violations, status_writes;
	const char *last_violation;
	unsigned msis, intx;
	uint64_t msi_addr;
	uint32_t msi_data;

	uint8_t rxq[RXQ_MAX][VNET_FRAME_MAX];
	size_t rxlen[RXQ_MAX];
	unsigned rx_head, rx_count;
	struct txrec tx[TXLOG];
	unsigned tx_total, tx_hdr_bad;
};

static struct fake_dev devs[FAKE_DEVS];

/* ---- DMA memory: a bump allocator over one arena --------------------------- */

static uint8_t dma_mem[DMA_BYTES] __attribute__((aligned(PAGE)));
static size_t dma_used;
static size_t dma_limit = DMA_BYTES;    /* lowered to make dma_alloc fail */

static void *f_dma_alloc(void *ctx, size_t bytes, uint64_t *phys)
{
	size_t len = (bytes + PAGE - 1) & ~(size_t)(PAGE - 1);
	void *p;

	if (!len || len > dma_limit - dma_used)
		return NULL;
	p = dma_mem + dma_used;
	memset(p, 0, len);
	*phys = DMA_PHYS + dma_used;
	dma_used += len;
	return p;
}

static void violation(struct fake_dev *d, const char *what)
{
	d->violations++;
	d->last_violation = what;
}

/* A device-side pointer to [phys, phys + len) of DMA memory, or NULL
 * (a violation: the driver gave the device an address it does not own). */
static void *dma_ptr(struct fake_dev *d, uint64_t phys, size_t len)
{
	if (phys < DMA_PHYS || phys - DMA_PHYS > dma_used || len > dma_used - (phys - DMA_PHYS)) {
		violation(d, "DMA address outside the driver's memory");
		return NULL;
	}
	return dma_mem + (phys - DMA_PHYS);
}

/* ---- PCI configuration space of the bus ------------------------------------ */

struct pci_fn {
	uint32_t bdf;
	uint8_t *cfg;
	struct fake_dev *dev;
};

static struct pci_fn bus[32];
static unsigned bus_count;
static uint8_t plain_cfg[16][256];      /* bridges, host bridges, other devices */
static unsigned plain_count;
static unsigned cfg_bad_writes;

static void put16(uint8_t *p, unsigned off, uint16_t v) { memcpy(p + off, &v, 2); }
static void put32(uint8_t *p, unsigned off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, unsigned off, uint64_t v) { memcpy(p + off, &v, 8); }
static uint16_t get16(const uint8_t *p, unsigned off) { uint16_t v; memcpy(&v, p + off, 2); return v; }
static uint32_t get32(const uint8_t *p, unsigned off) { uint32_t v; memcpy(&v, p + off, 4); return v; }

static void bus_reset(void)
{
	bus_count = plain_count = 0;
	cfg_bad_writes = 0;
}

static struct pci_fn *fn_at(uint32_t bdf)
{
	for (unsigned i = 0; i < bus_count; i++)
		if (bus[i].bdf == bdf)
			return &bus[i];
	return NULL;
}

static void bus_add(uint32_t bdf, uint8_t *cfg, struct fake_dev *d)
{
	bus[bus_count++] = (struct pci_fn){ bdf, cfg, d };
}

/* A function that is no virtio-net: vendor:device, subsystem id, header
 * type (0x80 multi-function, 1 bridge), a bridge's secondary bus (also
 * its subordinate bus: no bridges behind it are reached). */
static void bus_add_plain(uint32_t bdf, uint16_t vendor, uint16_t device, uint16_t subsys,
			  uint8_t hdr, uint8_t secondary)
{
	uint8_t *c = plain_cfg[plain_count++];

	memset(c, 0, 256);
	put16(c, 0, vendor);
	put16(c, 2, device);
	c[0x0e] = hdr;
	if ((hdr & 0x7f) == 1) {
		c[0x19] = secondary;
		c[0x1a] = secondary;            /* subordinate: a leaf bridge */
	}
	else
		put16(c, 0x2e, subsys);
	bus_add(bdf, c, NULL);
}

static uint32_t f_pci_read32(void *ctx, uint32_t bdf, uint32_t off)
{
	struct pci_fn *f = fn_at(bdf);

	if (!f || off > 252)
		return 0xffffffffu;
	return get32(f->cfg, off & ~3u);
}

static void f_pci_write32(void *ctx, uint32_t bdf, uint32_t off, uint32_t v)
{
	struct pci_fn *f = fn_at(bdf);

	if (!f || (off & 3)) {
		cfg_bad_writes++;
		return;
	}
	if (off == 0x04) {
		put16(f->cfg, 4, (uint16_t)v);          /* the status half is RW1C */
	} else if (f->dev && f->dev->msix_cap && off == f->dev->msix_cap) {
		uint16_t ctrl = get16(f->cfg, off + 2);

		ctrl = (uint16_t)((ctrl & 0x07ff) | ((v >> 16) & 0xc000));
		put16(f->cfg, off + 2, ctrl);
	} else {
		cfg_bad_writes++;
	}
}

/* ---- the device's registers --------------------------------------------------- */

static void bar_protect(struct fake_dev *d, int prot)
{
	if (mprotect(d->bar4, BAR4_BYTES, prot))
		abort();
}

/* Every register as the driver would read it now. */
static void fake_sync(struct fake_dev *d)
{
	uint8_t *c = d->bar4 + OFF_COMMON, *dc = d->bar4 + OFF_DEVICE;
	struct fake_queue *q = d->qsel < FAKE_QUEUES ? &d->q[d->qsel] : NULL;

	bar_protect(d, PROT_READ | PROT_WRITE);
	memset(d->bar4, 0, BAR4_BYTES);
	put32(c, 0x00, d->dfsel);
	put32(c, 0x04, d->dfsel < 2 ? (uint32_t)(d->offered >> (32 * d->dfsel)) : 0);
	put32(c, 0x08, d->gfsel);
	put32(c, 0x0c, d->gfsel < 2 ? (uint32_t)(d->driver_features >> (32 * d->gfsel)) : 0);
	put16(c, 0x10, d->msix_config);
	put16(c, 0x12, FAKE_QUEUES);
	c[0x14] = d->status;
	c[0x15] = d->gen;
	put16(c, 0x16, d->qsel);
	if (q) {
		put16(c, 0x18, q->size);
		put16(c, 0x1a, q->msix);
		put16(c, 0x1c, q->enable);
		put16(c, 0x1e, d->qsel);                /* QEMU: notify_off = index */
		put64(c, 0x20, q->desc);
		put64(c, 0x28, q->avail);
		put64(c, 0x30, q->used);
	}
	memcpy(dc, d->mac, 6);
	put16(dc, 6, d->net_status);
	put16(dc, 8, 1);                                /* max_virtqueue_pairs */
	bar_protect(d, PROT_READ);
}

static void fake_reset(struct fake_dev *d)
{
	d->status = 0;
	d->driver_features = 0;
	d->dfsel = d->gfsel = 0;
	d->qsel = 0;
	d->msix_config = NO_VECTOR;
	for (unsigned i = 0; i < FAKE_QUEUES; i++) {
		struct fake_queue *q = &d->q[i];

		*q = (struct fake_queue){ .max = q->max, .size = q->max, .msix = NO_VECTOR };
	}
	d->resets++;
}

static uint16_t vector_accept(struct fake_dev *d, uint16_t v)
{
	return d->msix_cap && v < MSIX_ENTRIES ? v : NO_VECTOR;
}

static void status_write(struct fake_dev *d, uint8_t v)
{
	uint8_t old = d->status;
	uint16_t cmd = get16(d->cfg, 4);

	d->status_writes++;
	if (v == 0) {
		fake_reset(d);
		return;
	}
	if (old & ~v)
		violation(d, "status bits cleared without a reset");
	if (((v & ST_DRIVER) && !(v & ST_ACK)) || ((v & ST_FEATURES_OK) && !(v & ST_DRIVER)))
		violation(d, "status bits out of order");
	if ((v & ST_FEATURES_OK) && !(old & ST_FEATURES_OK)) {
		if (d->driver_features & ~d->offered) {
			d->acked_unoffered++;
			v &= (uint8_t)~ST_FEATURES_OK;
		} else if (!(d->driver_features & F_VERSION_1) || d->refuse_features) {
			v &= (uint8_t)~ST_FEATURES_OK;
		}
	}
	if ((v & ST_DRIVER_OK) && !(old & ST_DRIVER_OK)) {
		if (!(v & ST_FEATURES_OK))
			violation(d, "DRIVER_OK without FEATURES_OK");
		if ((cmd & 6) != 6)
			violation(d, "DRIVER_OK with memory or bus mastering off");
		if (!d->q[0].enable || !d->q[1].enable)
			violation(d, "DRIVER_OK with a data queue disabled");
	}
	d->status = v;
}

static bool pow2(unsigned v)
{
	return v && !(v & (v - 1));
}

static void queue_enable(struct fake_dev *d, struct fake_queue *q, uint16_t v)
{
	if (v != 1 || q->enable) {
		violation(d, "queue_enable written other than once with 1");
		return;
	}
	if ((q->desc & 15) || (q->avail & 1) || (q->used & 3))
		violation(d, "a ring is misaligned");
	if (!dma_ptr(d, q->desc, 16u * q->size) || !dma_ptr(d, q->avail, 6 + 2u * q->size) ||
	    !dma_ptr(d, q->used, 6 + 8u * q->size))
		return;
	q->enable = 1;
}

static void set_half(uint64_t *field, unsigned off, uint32_t v)
{
	if (off & 4)
		*field = (*field & 0xffffffffull) | (uint64_t)v << 32;
	else
		*field = (*field & ~0xffffffffull) | v;
}

static void common_write(struct fake_dev *d, unsigned off)
{
	const uint8_t *c = d->bar4 + OFF_COMMON;
	struct fake_queue *q = d->qsel < FAKE_QUEUES ? &d->q[d->qsel] : NULL;
	uint16_t v16 = get16(c, off & ~1u);
	uint32_t v32 = get32(c, off & ~3u);

	if (off >= 0x16 && off != 0x16 && !q) {
		violation(d, "queue register written with no queue selected");
		return;
	}
	switch (off) {
	case 0x00: d->dfsel = v32; break;
	case 0x08: d->gfsel = v32; break;
	case 0x0c:
		if (d->status & ST_FEATURES_OK)
			violation(d, "driver_feature written after FEATURES_OK");
		else if (d->gfsel < 2)
			set_half(&d->driver_features, d->gfsel * 4, v32);
		break;
	case 0x10: d->msix_config = vector_accept(d, v16); break;
	case 0x14: status_write(d, c[0x14]); break;
	case 0x16: d->qsel = v16; break;
	case 0x18:
		if (q->enable || !pow2(v16) || v16 > q->max)
			violation(d, "queue_size not a power of two up to the maximum");
		else
			q->size = v16;
		break;
	case 0x1a: q->msix = vector_accept(d, v16); break;
	case 0x1c: queue_enable(d, q, v16); break;
	case 0x20: case 0x24: set_half(&q->desc, off, v32); break;
	case 0x28: case 0x2c: set_half(&q->avail, off, v32); break;
	case 0x30: case 0x34: set_half(&q->used, off, v32); break;
	default: violation(d, "write to a read-only or unknown common config register");
	}
}

static unsigned fake_run_rx(struct fake_dev *d);

static void notify_write(struct fake_dev *d, unsigned off)
{
	unsigned qi = off / NOTIFY_MUL;

	if (off % NOTIFY_MUL || qi >= FAKE_QUEUES ||
	    get16(d->bar4 + OFF_NOTIFY, off) != qi) {
		violation(d, "doorbell write at the wrong place or with the wrong value");
		return;
	}
	if (!(d->status & ST_DRIVER_OK))
		violation(d, "doorbell before DRIVER_OK");
	d->q[qi].kicks++;
	if (qi == 0 && d->rx_on_kick)
		fake_run_rx(d);
}

static void mmio_write(struct fake_dev *d, unsigned off)
{
	if (off < OFF_ISR)
		common_write(d, off);
	else if (off >= OFF_NOTIFY)
		notify_write(d, off - OFF_NOTIFY);
	else
		violation(d, "write to the ISR or the device config");
}

/* ---- trapping the writes ---------------------------------------------------- */

static struct sigaction old_segv;
static struct fake_dev *trapped;
static unsigned trapped_off;
static unsigned mmio_writes;

static struct fake_dev *bar_owner(uintptr_t a)
{
	for (unsigned i = 0; i < FAKE_DEVS; i++)
		if (devs[i].bar4 && a >= (uintptr_t)devs[i].bar4 &&
		    a < (uintptr_t)devs[i].bar4 + BAR4_BYTES)
			return &devs[i];
	return NULL;
}

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct fake_dev *d = bar_owner((uintptr_t)si->si_addr);

	if (!d || trapped || !(uc->uc_mcontext.gregs[REG_ERR] & 2)) {
		/* Not a register write: the instruction faults again, and
		 * the handler from before (ASan's) reports it. */
		sigaction(SIGSEGV, &old_segv, NULL);
		return;
	}
	trapped = d;
	trapped_off = (unsigned)((uintptr_t)si->si_addr - (uintptr_t)d->bar4);
	bar_protect(d, PROT_READ | PROT_WRITE);
	uc->uc_mcontext.gregs[REG_EFL] |= 0x100;        /* TF: trap after the write */
}

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct fake_dev *d = trapped;

	uc->uc_mcontext.gregs[REG_EFL] &= ~0x100ll;
	if (!d)
		return;
	trapped = NULL;
	mmio_writes++;
	mmio_write(d, trapped_off);
	fake_sync(d);
}

static void traps_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, &old_segv);
	sa.sa_sigaction = on_trap;
	sigaction(SIGTRAP, &sa, NULL);
}

/* ---- building a device --------------------------------------------------------- */

static void vcap(uint8_t *c, uint8_t at, uint8_t next, uint8_t type, uint32_t off, uint32_t len)
{
	c[at] = 0x09;
	c[at + 1] = next;
	c[at + 2] = type == 2 || type == 5 ? 20 : 16;
	c[at + 3] = type;
	c[at + 4] = 4;                                  /* BAR 4 */
	put32(c, at + 8u, off);
	put32(c, at + 12u, len);
	if (type == 2)
		put32(c, at + 16u, NOTIFY_MUL);
}

static const uint8_t dev_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* Device `slot` as QEMU's virtio-net-pci of `kind` at `bdf`, left
 * running by whoever used it before (status and queue 0 live), so the
 * driver must reset it. */
static struct fake_dev *fake_new(unsigned slot, uint32_t bdf, enum kind k)
{
	struct fake_dev *d = &devs[slot];
	uint8_t *c = d->cfg;
	uint8_t *bar4 = d->bar4, *table = d->msix_table;

	memset(d, 0, sizeof(*d));
	d->bar4 = bar4;
	d->msix_table = table;
	memset(table, 0, PAGE);
	d->live = true;
	d->bar4_phys = (k == MODERN ? 0x800000000ull : 0xfe000000ull) + slot * 0x10000ull;
	d->bar1_phys = 0xfeb00000ull + slot * 0x1000ull;
	put16(c, 0, 0x1af4);
	put16(c, 2, k == MODERN ? 0x1041 : 0x1000);
	put16(c, 6, 0x0010);                            /* status: capability list */
	c[8] = k == MODERN ? 1 : 0;                     /* revision */
	c[0x0b] = 0x02;                                 /* class: network */
	if (k != MODERN)
		put32(c, 0x10, 0xc040 | 1);             /* the legacy I/O BAR */
	put32(c, 0x14, (uint32_t)d->bar1_phys);
	put32(c, 0x20, (uint32_t)d->bar4_phys | 0xc);   /* 64-bit, prefetchable */
	put32(c, 0x24, (uint32_t)(d->bar4_phys >> 32));
	put16(c, 0x2c, 0x1af4);
	put16(c, 0x2e, k == MODERN ? 0x1100 : 1);
	if (k == LEGACY_NO_CAPS) {
		put16(c, 6, 0);
	} else if (k == LEGACY_MSIX_ONLY) {
		c[0x34] = 0x40;
		c[0x40] = 0x11;
		put16(c, 0x42, MSIX_ENTRIES - 1);
		put32(c, 0x44, 1);
		put32(c, 0x48, 0x801);
	} else {
		c[0x34] = 0x98;
		c[0x98] = 0x11;
		c[0x99] = 0x84;
		put16(c, 0x9a, MSIX_ENTRIES - 1);
		put32(c, 0x9c, 1);                      /* table: BAR 1 offset 0 */
		put32(c, 0xa0, 0x801);                  /* PBA: BAR 1 offset 0x800 */
		d->msix_cap = 0x98;
		vcap(c, 0x84, 0x70, 5, 0, 0);           /* PCI config access: ignored */
		vcap(c, 0x70, 0x60, 2, OFF_NOTIFY, 0x1000);
		vcap(c, 0x60, 0x50, 4, OFF_DEVICE, 0x1000);
		vcap(c, 0x50, 0x40, 3, OFF_ISR, 0x1000);
		vcap(c, 0x40, 0x00, 1, OFF_COMMON, 0x1000);
	}
	d->offered = QEMU_FEATURES;
	memcpy(d->mac, dev_mac, 6);
	d->net_status = 1;                              /* VIRTIO_NET_S_LINK_UP */
	d->rx_suppress = true;
	d->q[0].max = d->q[1].max = 256;
	d->q[2].max = 64;
	fake_reset(d);
	d->resets = 0;
	d->status = ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK;
	d->q[0].enable = 1;
	d->q[0].desc = 0x12340000;
	fake_sync(d);
	bus_add(bdf, c, d);
	return d;
}

static bool refuse_maps;

static void *f_map_bar(void *ctx, uint64_t phys, uint64_t len)
{
	for (unsigned i = 0; i < FAKE_DEVS && !refuse_maps; i++) {
		struct fake_dev *d = &devs[i];

		if (!d->live)
			continue;
		if (phys >= d->bar4_phys && len <= BAR4_BYTES && phys - d->bar4_phys <= BAR4_BYTES - len)
			return d->bar4 + (phys - d->bar4_phys);
		if (phys >= d->bar1_phys && len <= PAGE && phys - d->bar1_phys <= PAGE - len)
			return d->msix_table + (phys - d->bar1_phys);
	}
	return NULL;
}

#define MSI_ADDR        0xfee03000ull
#define MSI_DATA        0x59u

static bool f_msi_message(void *ctx, uint64_t *addr, uint32_t *data)
{
	*addr = MSI_ADDR;
	*data = MSI_DATA;
	return true;
}

static const struct vblk_hw hw_poll = {
	.pci_read32 = f_pci_read32,
	.pci_write32 = f_pci_write32,
	.map_bar = f_map_bar,
	.dma_alloc = f_dma_alloc,
};

static const struct vblk_hw hw_msi = {
	.pci_read32 = f_pci_read32,
	.pci_write32 = f_pci_write32,
	.map_bar = f_map_bar,
	.dma_alloc = f_dma_alloc,
	.msi_message = f_msi_message,
};

/* ---- the device at work ----------------------------------------------------------- */

struct vring_view {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

static bool view(struct fake_dev *d, struct fake_queue *q, struct vring_view *v)
{
	if (!(d->status & ST_DRIVER_OK) || !q->enable)
		return false;
	v->desc = dma_ptr(d, q->desc, 16u * q->size);
	v->avail = dma_ptr(d, q->avail, 6 + 2u * q->size);
	v->used = dma_ptr(d, q->used, 6 + 8u * q->size);
	return v->desc && v->avail && v->used;
}

/* The next head the driver made available, as the device takes it. */
static bool avail_next(struct fake_dev *d, struct fake_queue *q, struct vring_view *v,
		       uint16_t *head)
{
	uint16_t idx = *(volatile uint16_t *)&v->avail->idx;

	if (idx == q->last_avail)
		return false;
	if ((uint16_t)(idx - q->last_avail) > q->size) {
		violation(d, "avail index more than a ring ahead");
		return false;
	}
	*head = v->avail->ring[q->last_avail % q->size];
	q->last_avail++;
	if (*head >= q->size) {
		violation(d, "avail ring names a descriptor beyond the queue");
		return false;
	}
	return true;
}

static void used_push(struct fake_queue *q, struct vring_view *v, uint32_t id, uint32_t len)
{
	v->used->ring[q->used_idx % q->size] = (struct vring_used_elem){ id, len };
	__asm__ volatile("" ::: "memory");
	*(volatile uint16_t *)&v->used->idx = ++q->used_idx;
}

/* Copy between the chain at `head` and buf: into the chain's writable
 * buffers (to_chain) or out of its readable ones; the chain's total
 * length in *total. False on a malformed chain. */
static bool chain_copy(struct fake_dev *d, struct fake_queue *q, struct vring_view *v,
		       uint16_t head, bool to_chain, uint8_t *buf, size_t cap, size_t *total)
{
	uint16_t i = head;

	*total = 0;
	for (unsigned n = 0; n < q->size; n++) {
		struct vring_desc e = v->desc[i];
		uint8_t *p;
		size_t take;

		if (e.flags & VRING_DESC_F_INDIRECT) {
			violation(d, "indirect descriptor (not negotiated)");
			return false;
		}
		if (!!(e.flags & VRING_DESC_F_WRITE) != to_chain) {
			violation(d, to_chain ? "receive buffer not device-writable"
					      : "transmit buffer device-writable");
			return false;
		}
		if (!(p = dma_ptr(d, e.addr, e.len)))
			return false;
		take = *total < cap ? cap - *total : 0;
		take = take < e.len ? take : e.len;
		if (to_chain)
			memcpy(p, buf + *total, take);
		else
			memcpy(buf + *total, p, take);
		*total += e.len;
		if (!(e.flags & VRING_DESC_F_NEXT))
			return true;
		if ((i = e.next) >= q->size) {
			violation(d, "descriptor chain leaves the table");
			return false;
		}
	}
	violation(d, "descriptor chain loops");
	return false;
}

/* The used-buffer interrupt of queue qi, as QEMU raises it. */
static void interrupt(struct fake_dev *d, unsigned qi, struct vring_view *v)
{
	uint16_t ctrl = d->msix_cap ? get16(d->cfg, d->msix_cap + 2u) : 0;
	const uint8_t *e;

	if (v->avail->flags & VRING_AVAIL_F_NO_INTERRUPT)
		return;
	if (!(ctrl & 0x8000)) {
		if (!(get16(d->cfg, 4) & (1u << 10)))
			d->intx++;
		return;
	}
	if (d->q[qi].msix == NO_VECTOR || (ctrl & 0x4000))
		return;
	e = d->msix_table + 16u * d->q[qi].msix;
	if (get32(e, 12) & 1)
		return;
	d->msis++;
	d->msi_addr = get32(e, 0) | (uint64_t)get32(e, 4) << 32;
	d->msi_data = get32(e, 8);
}

static void fake_inject(struct fake_dev *d, const uint8_t *frame, size_t len)
{
	unsigned slot = (d->rx_head + d->rx_count) % RXQ_MAX;

	if (d->rx_count == RXQ_MAX || len > VNET_FRAME_MAX)
		abort();
	memcpy(d->rxq[slot], frame, len);
	d->rxlen[slot] = len;
	d->rx_count++;
}

/* Injected frames into receive buffers while both last; QEMU's header
 * (no offload, num_buffers 1) in front of each. */
static unsigned fake_run_rx(struct fake_dev *d)
{
	struct fake_queue *q = &d->q[0];
	struct vring_view v;
	unsigned n = 0;
	uint16_t head;

	if (!view(d, q, &v))
		return 0;
	while (d->rx_count && avail_next(d, q, &v, &head)) {
		uint8_t pkt[VNET_HDR_BYTES + VNET_FRAME_MAX];
		struct virtio_net_hdr_v1 h = { .num_buffers = 1 };
		size_t len = d->rxlen[d->rx_head], total;

		memcpy(pkt, &h, sizeof(h));
		memcpy(pkt + sizeof(h), d->rxq[d->rx_head], len);
		if (!chain_copy(d, q, &v, head, true, pkt, sizeof(h) + len, &total))
			break;
		if (total < sizeof(h) + len) {
			violation(d, "receive buffer too small for the frame");
			break;
		}
		used_push(q, &v, head, (uint32_t)(sizeof(h) + len));
		d->rx_head = (d->rx_head + 1) % RXQ_MAX;
		d->rx_count--;
		n++;
	}
	/* QEMU: notifications off while it has buffers, on when it ran out. */
	if (d->rx_suppress)
		v.used->flags = *(volatile uint16_t *)&v.avail->idx == q->last_avail ?
				0 : VRING_USED_F_NO_NOTIFY;
	if (n)
		interrupt(d, 0, &v);
	return n;
}

/* Up to `max` transmitted frames, logged without their header. */
static unsigned fake_run_tx(struct fake_dev *d, unsigned max)
{
	struct fake_queue *q = &d->q[1];
	struct vring_view v;
	unsigned n = 0;
	uint16_t head;

	if (!view(d, q, &v))
		return 0;
	while (n < max && avail_next(d, q, &v, &head)) {
		static const uint8_t zero[VNET_HDR_BYTES];
		uint8_t pkt[VNET_HDR_BYTES + sizeof(d->tx[0].data)];
		struct txrec *r = &d->tx[d->tx_total % TXLOG];
		size_t total;

		if (!chain_copy(d, q, &v, head, false, pkt, sizeof(pkt), &total))
			break;
		if (total < VNET_HDR_BYTES || total > sizeof(pkt)) {
			violation(d, "transmit chain shorter than the header or too long");
			break;
		}
		r->len = total - VNET_HDR_BYTES;
		r->hdr_zero = memcmp(pkt, zero, VNET_HDR_BYTES) == 0;
		d->tx_hdr_bad += !r->hdr_zero;
		memcpy(r->data, pkt + VNET_HDR_BYTES, r->len);
		d->tx_total++;
		used_push(q, &v, head, 0);
		n++;
	}
	if (n)
		interrupt(d, 1, &v);
	return n;
}

/* A raw used entry {id, len} for the buffer the device takes next from
 * queue qi (hostile devices); the head it took, or -1. */
static int fake_used_raw(struct fake_dev *d, unsigned qi, int id, uint32_t len)
{
	struct fake_queue *q = &d->q[qi];
	struct vring_view v;
	uint16_t head;

	if (!view(d, q, &v) || !avail_next(d, q, &v, &head))
		return -1;
	used_push(q, &v, id < 0 ? head : (uint32_t)id, len);
	return head;
}

static void fake_used_jump(struct fake_dev *d, unsigned qi, uint16_t by)
{
	struct fake_queue *q = &d->q[qi];
	struct vring_view v;

	if (!view(d, q, &v))
		return;
	q->used_idx = (uint16_t)(q->used_idx + by);
	*(volatile uint16_t *)&v.used->idx = q->used_idx;
}

static uint16_t fake_used_flags(struct fake_dev *d, unsigned qi, int set)
{
	struct vring_view v;

	if (!view(d, &d->q[qi], &v))
		return 0xffff;
	if (set >= 0)
		v.used->flags = (uint16_t)set;
	return v.used->flags;
}

/* ---- frames ---------------------------------------------------------------------- */

static void mkframe(uint8_t *f, size_t len, unsigned seed)
{
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x0a };

	memcpy(f, dev_mac, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static const struct txrec *tx_rec(struct fake_dev *d, unsigned nth)
{
	return &d->tx[nth % TXLOG];
}

static bool tx_matches(struct fake_dev *d, unsigned nth, size_t len, unsigned seed)
{
	uint8_t f[VNET_FRAME_MAX];
	const struct txrec *r = tx_rec(d, nth);

	mkframe(f, len, seed);
	return r->len == len && r->hdr_zero && memcmp(r->data, f, len) == 0;
}

static size_t round_len(unsigned i)
{
	static const size_t lens[] = { 60, 14, 1514, 64, 1000, 15, 1513, 342 };

	return lens[i % 8];
}

/* ---- the tests -------------------------------------------------------------------- */

static void test_find(void)
{
	int bdf;

	/* i440fx-like: host bridge, ISA bridge, a transitional virtio-blk,
	 * a 0x1000 whose subsystem id is block, then the NIC. */
	bus_reset();
	bus_add_plain(0x00, 0x8086, 0x1237, 0, 0, 0);
	bus_add_plain(0x08, 0x8086, 0x7000, 0, 0x80, 0);
	bus_add_plain(0x18, 0x1af4, 0x1001, 2, 0, 0);
	bus_add_plain(0x20, 0x1af4, 0x1000, 2, 0, 0);
	CHECK(vnet_find(&hw_poll) == -1, "find: none among a virtio-blk and a 0x1000 of subsystem 2");
	fake_new(0, 0x28, TRANSITIONAL);
	CHECK(vnet_find(&hw_poll) == 0x28, "find: the transitional 0x1000 (subsystem 1) at 00:05.0");

	/* q35-like: the NIC behind a root port's bridge, past a bridge whose
	 * secondary bus is unassigned and one that points back at bus 0. */
	bus_reset();
	bus_add_plain(0x00, 0x8086, 0x29c0, 0, 0, 0);
	bus_add_plain(0x10, 0x1b36, 0x000c, 0, 0x01, 0);
	bus_add_plain(0x18, 0x1b36, 0x000c, 0, 0x81, 2);
	bus_add_plain(0x19, 0x1b36, 0x000c, 0, 0x01, 3);
	bus_add_plain(0x300, 0x1b36, 0x000c, 0, 0x01, 3);   /* a loop: bus 3 again */
	bus_add_plain(0x308, 0x1b36, 0x000c, 0, 0x01, 2);
	CHECK(vnet_find(&hw_poll) == -1, "find: bridges and a bridge loop, no NIC: -1 (terminates)");
	fake_new(0, 0x208, MODERN);
	CHECK(vnet_find(&hw_poll) == 0x208, "find: the modern 0x1041 behind a bridge at 02:01.0");

	/* Function 3 of a multi-function device, and a device without the
	 * multi-function bit whose function 3 is never looked at. */
	bus_reset();
	bus_add_plain(0x00, 0x8086, 0x29c0, 0, 0, 0);
	bus_add_plain(0x10, 0x8086, 0x2918, 0, 0, 0);
	fake_new(1, 0x13, MODERN);
	CHECK(vnet_find(&hw_poll) == -1, "find: function 3 of a single-function device is skipped");
	bus_reset();
	bus_add_plain(0x10, 0x8086, 0x2918, 0, 0x80, 0);
	fake_new(1, 0x13, MODERN);
	bdf = vnet_find(&hw_poll);
	CHECK(bdf == 0x13, "find: function 3 of a multi-function device (got %#x)", (unsigned)bdf);
	CHECK(cfg_bad_writes == 0, "find: no configuration writes while scanning");
	devs[0].live = devs[1].live = false;
}

static struct vnet net;

static void test_modern_init(struct fake_dev *d)
{
	struct vring_view v;
	bool descs_ok = true;
	int r;

	dma_used = 0;
	r = vnet_init(&net, &hw_poll, 0x20);
	CHECK(r == 0, "modern init: 0 (%s)", net.err ? net.err : "no error");
	CHECK(!net.transitional && net.ready, "modern init: ready, not transitional");
	CHECK(d->resets >= 1, "modern init: a device left running was reset first");
	CHECK(d->status == (ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK),
	      "modern init: status ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK (%#x)", d->status);
	CHECK(d->acked_unoffered == 0 && (d->driver_features & ~d->offered) == 0,
	      "modern init: no feature acked that was not offered");
	CHECK(d->driver_features == (F_VERSION_1 | F_MAC | F_STATUS),
	      "modern init: exactly VERSION_1, MAC and STATUS acked (%#llx)",
	      (unsigned long long)d->driver_features);
	CHECK(net.features == d->driver_features, "modern init: n->features is what was acked");
	CHECK(memcmp(net.mac, dev_mac, 6) == 0 && net.has_mac && !net.warn,
	      "modern init: MAC read from the device config, no warning");
	CHECK(d->q[0].size == 128 && d->q[1].size == 128 && net.rx.size == 128 &&
	      net.tx.size == 128, "modern init: both queues 128 entries (device offers 256)");
	CHECK(!d->q[2].enable, "modern init: the control queue left alone");
	CHECK(view(d, &d->q[0], &v) && v.avail->idx == 128,
	      "modern init: receive queue prefilled with 128 buffers");
	for (unsigned i = 0; i < 128; i++) {
		struct vring_desc e = v.desc[i];

		descs_ok &= e.len == VNET_BUF_BYTES && e.flags == VRING_DESC_F_WRITE &&
			    dma_ptr(d, e.addr, e.len) != NULL &&
			    (i == 0 || e.addr >= v.desc[i - 1].addr + VNET_BUF_BYTES);
	}
	CHECK(descs_ok, "modern init: rx buffers of 1526 device-writable bytes, in DMA memory, apart");
	CHECK((get16(d->cfg, 4) & 0x406) == 0x406,
	      "modern init: memory, bus mastering and INTx-disable set");
	CHECK(!net.msix && d->q[0].msix == NO_VECTOR && (v.avail->flags & VRING_AVAIL_F_NO_INTERRUPT),
	      "modern init: without msi_message, polled (no vector, NO_INTERRUPT)");
	CHECK(d->q[0].kicks == 1 && d->q[1].kicks == 0, "modern init: one rx doorbell, after DRIVER_OK");
	CHECK(d->violations == 0, "modern init: no protocol violation at the device (%s)",
	      d->last_violation ? d->last_violation : "none");
}

static void test_rx(struct fake_dev *d)
{
	uint8_t f[VNET_FRAME_MAX], got[2048];
	unsigned injected = 0, received = 0, rounds = 0;
	bool in_order = true;
	size_t len;

	CHECK(vnet_recv(&net, got, sizeof(got)) == 0, "rx: nothing received yet: 0");
	for (unsigned i = 0; i < 3; i++) {
		mkframe(f, round_len(i), i);
		fake_inject(d, f, round_len(i));
	}
	CHECK(fake_run_rx(d) == 3, "rx: the device delivers 3 frames");
	for (unsigned i = 0; i < 3; i++) {
		mkframe(f, round_len(i), i);
		len = vnet_recv(&net, got, sizeof(got));
		in_order &= len == round_len(i) && memcmp(got, f, len) == 0;
	}
	CHECK(in_order, "rx: 3 frames (60, 14, 1514 bytes) in order, byte for byte, header stripped");
	CHECK(vnet_recv(&net, got, sizeof(got)) == 0 && net.rx_frames == 3,
	      "rx: then none; rx_frames 3");
	CHECK(net.rx.kicks == 1 && net.rx.kicks_saved == 3,
	      "rx: buffers given back without a doorbell while the device has plenty");

	/* 700 frames, 300 injected at a time: more than the 128 buffers, so
	 * each round the device runs dry and waits for recycled ones. */
	in_order = true;
	while (received < 700) {
		while (injected < 700 && injected - received < 300) {
			mkframe(f, round_len(injected), 100 + injected);
			fake_inject(d, f, round_len(injected));
			injected++;
		}
		fake_run_rx(d);
		while ((len = vnet_recv(&net, got, sizeof(got))) != 0) {
			mkframe(f, round_len(received), 100 + received);
			in_order &= len == round_len(received) && memcmp(got, f, len) == 0;
			received++;
			fake_run_rx(d);         /* the recycled buffer is used at once */
		}
		if (++rounds > 1000)
			break;
	}
	CHECK(received == 700 && in_order,
	      "rx: 700 frames through 128 buffers in several rounds, in order, byte-exact (%u)",
	      received);
	CHECK(net.rx.nout == 128 && net.rx_errors == 0, "rx: every buffer back with the device");
	CHECK(d->q[0].kicks > 1, "rx: a doorbell once the device had run out (%u)", d->q[0].kicks);

	mkframe(f, 1000, 7);
	fake_inject(d, f, 1000);
	mkframe(f, 60, 8);
	fake_inject(d, f, 60);
	fake_run_rx(d);
	len = vnet_recv(&net, got, 999);
	CHECK(len == 60 && memcmp(got, f, 60) == 0 && net.rx_dropped == 1,
	      "rx: a frame longer than the caller's buffer dropped, the next one returned");
	CHECK(net.rx.nout == 128, "rx: the dropped frame's buffer reused");
	CHECK(d->violations == 0, "rx: no protocol violation (%s)",
	      d->last_violation ? d->last_violation : "none");
}

static void test_tx(struct fake_dev *d)
{
	uint8_t f[VNET_FRAME_MAX + 2];
	unsigned base = d->tx_total, kicks = d->q[1].kicks;
	uint16_t avail_before;
	struct vring_view v;
	bool all = true;
	int r;

	mkframe(f, 60, 1);
	CHECK(vnet_send(&net, f, 60) == 0, "tx: a 60-byte frame queued");
	CHECK(d->q[1].kicks == kicks + 1, "tx: the doorbell rung");
	CHECK(fake_run_tx(d, 100) == 1 && tx_matches(d, base, 60, 1),
	      "tx: the device got it byte for byte after a zeroed 12-byte header");
	mkframe(f, 14, 2);
	r = vnet_send(&net, f, 14);
	mkframe(f, 1514, 3);
	r |= vnet_send(&net, f, 1514);
	fake_run_tx(d, 100);
	CHECK(r == 0 && tx_matches(d, base + 1, 14, 2) && tx_matches(d, base + 2, 1514, 3),
	      "tx: 14 and 1514 bytes, the limits, byte-exact");

	view(d, &d->q[1], &v);
	avail_before = v.avail->idx;
	CHECK(vnet_send(&net, f, 0) == -1 && vnet_send(&net, f, 13) == -1 &&
	      vnet_send(&net, f, 1515) == -1 && vnet_send(&net, f, 65536) == -1,
	      "tx: lengths 0, 13, 1515, 65536 refused with -1");
	CHECK(net.err && strstr(net.err, "length") && v.avail->idx == avail_before,
	      "tx: ... with a reason, and nothing made available");

	/* The device stops consuming: 128 frames fill the ring, the 129th is
	 * busy; once the device ran, it goes. */
	base = d->tx_total;
	for (unsigned i = 0; i < 128; i++) {
		mkframe(f, round_len(i), 200 + i);
		all &= vnet_send(&net, f, round_len(i)) == 0;
	}
	CHECK(all, "tx: 128 frames queued while the device sleeps");
	mkframe(f, 70, 999);
	CHECK(vnet_send(&net, f, 70) == 1 && net.tx_busy == 1, "tx: the 129th is busy (1), counted");
	CHECK(vnet_send(&net, f, 70) == 1 && net.tx_busy == 2, "tx: still busy until the device runs");
	CHECK(fake_run_tx(d, 5) == 5, "tx: the device sends 5");
	CHECK(vnet_send(&net, f, 70) == 0, "tx: then the held frame goes (0)");
	for (unsigned i = 0; i < 4; i++)
		vnet_send(&net, f, 70);
	CHECK(vnet_send(&net, f, 70) == 1, "tx: 5 freed slots, 5 frames, the 6th busy again");
	fake_run_tx(d, 1000);
	all = d->tx_total == base + 133;
	for (unsigned i = 0; i < 128 && all; i++)
		all = tx_matches(d, base + i, round_len(i), 200 + i);
	for (unsigned i = 128; i < 133 && all; i++)
		all = tx_matches(d, base + i, 70, 999);
	CHECK(all, "tx: all 133 frames arrived once each, in order, byte-exact");
	CHECK(d->tx_hdr_bad == 0, "tx: every header the device saw was zero");

	/* The device says NO_NOTIFY (it is still working through the ring). */
	kicks = d->q[1].kicks;
	fake_used_flags(d, 1, VRING_USED_F_NO_NOTIFY);
	mkframe(f, 80, 5);
	vnet_send(&net, f, 80);
	CHECK(d->q[1].kicks == kicks && net.tx.kicks_saved == 1,
	      "tx: no doorbell while the device says NO_NOTIFY");
	fake_used_flags(d, 1, 0);
	fake_run_tx(d, 1000);
	CHECK(tx_matches(d, d->tx_total - 1, 80, 5), "tx: ... and it still sends the frame");
	CHECK(net.tx_frames == 137 && net.tx_errors == 0, "tx: tx_frames 137, no errors (%llu)",
	      (unsigned long long)net.tx_frames);
	CHECK(d->violations == 0, "tx: no protocol violation (%s)",
	      d->last_violation ? d->last_violation : "none");
}

static void test_link(struct fake_dev *d)
{
	CHECK(vnet_link_up(&net), "link: up when the device says VIRTIO_NET_S_LINK_UP");
	d->net_status = 0;
	fake_sync(d);
	CHECK(!vnet_link_up(&net), "link: down when the device clears it");
	d->net_status = 1;
	fake_sync(d);
}

static void test_hostile(struct fake_dev *d)
{
	uint8_t f[VNET_FRAME_MAX], got[2048];
	uint64_t err0 = net.rx_errors;
	struct vring_view v;
	uint16_t avail;
	unsigned sent;
	size_t len;

	view(d, &d->q[0], &v);
	avail = v.avail->idx;
	CHECK(fake_used_raw(d, 0, 500, 100) >= 0 && vnet_recv(&net, got, sizeof(got)) == 0 &&
	      net.rx_errors == err0 + 1, "hostile rx: used id 500 (beyond the ring) counted, 0");
	/* The driver cannot know which buffer the device kept: it stays the
	 * device's (nout unchanged) and nothing is reposted. */
	CHECK(net.rx.nout == 128 && v.avail->idx == avail,
	      "hostile rx: ... nothing reposted, no buffer of ours touched");
	CHECK(fake_used_raw(d, 0, -1, 5) >= 0 && vnet_recv(&net, got, sizeof(got)) == 0 &&
	      net.rx_errors == err0 + 2 && net.rx.nout == 128 && v.avail->idx == avail + 1,
	      "hostile rx: used length 5 (under the header) counted, buffer recycled");
	CHECK(fake_used_raw(d, 0, -1, VNET_HDR_BYTES) >= 0 && vnet_recv(&net, got, sizeof(got)) == 0 &&
	      net.rx_errors == err0 + 3, "hostile rx: used length 12 (a header, no frame) counted");
	CHECK(fake_used_raw(d, 0, -1, VNET_HDR_BYTES + 13) >= 0 &&
	      vnet_recv(&net, got, sizeof(got)) == 0 && net.rx_errors == err0 + 4,
	      "hostile rx: used length 25 (a 13-byte runt) counted");
	CHECK(fake_used_raw(d, 0, -1, 4000) >= 0 && vnet_recv(&net, got, sizeof(got)) == 0 &&
	      net.rx_errors == err0 + 5 && net.rx.nout == 128 && v.avail->idx == avail + 4,
	      "hostile rx: used length 4000 (over the 1526-byte buffer) counted, recycled");
	CHECK(fake_used_raw(d, 0, -1, 0xffffffffu) >= 0 && vnet_recv(&net, got, sizeof(got)) == 0 &&
	      net.rx_errors == err0 + 6, "hostile rx: used length 0xffffffff counted");
	mkframe(f, 333, 42);
	fake_inject(d, f, 333);
	fake_run_rx(d);
	len = vnet_recv(&net, got, sizeof(got));
	CHECK(len == 333 && memcmp(got, f, 333) == 0, "hostile rx: good frames still flow after");

	/* Transmit: a completion naming a slot beyond the ring, then one
	 * naming a slot the driver already has back (a duplicate). */
	sent = d->tx_total;
	vnet_send(&net, f, 60);
	CHECK(fake_used_raw(d, 1, 4242, 0) >= 0, "hostile tx: the device answers with id 4242");
	vnet_send(&net, f, 61);
	fake_run_tx(d, 10);
	view(d, &d->q[1], &v);
	used_push(&d->q[1], &v, v.used->ring[(uint16_t)(d->q[1].used_idx - 1) % d->q[1].size].id, 0);
	CHECK(vnet_send(&net, f, 62) == 0 && net.tx_errors == 2,
	      "hostile tx: both counted in tx_errors, the send still goes");
	CHECK(net.tx.nout == 2, "hostile tx: the lost slot stays held, the duplicate freed nothing twice");
	fake_run_tx(d, 10);
	CHECK(d->tx_total == sent + 2 && tx_rec(d, sent)->len == 61 && tx_rec(d, sent + 1)->len == 62,
	      "hostile tx: the frames after it sent");

	/* used->idx a thousand ahead of the buffers the device holds: the
	 * ring cannot be trusted, the device is given up. */
	fake_used_jump(d, 0, 1000);
	CHECK(vnet_recv(&net, got, sizeof(got)) == 0 && !net.ready && net.err &&
	      strstr(net.err, "used index"), "hostile rx: a used index far ahead fails the device");
	CHECK(d->status & ST_FAILED, "hostile rx: ... and the device is told (FAILED)");
	CHECK(vnet_send(&net, f, 60) == -1 && vnet_recv(&net, got, sizeof(got)) == 0,
	      "hostile: a failed device sends nothing and receives nothing");
	CHECK(!vnet_link_up(&net), "hostile: a failed device's link is down");
}

/* Interrupt suppression on queues of 8 with MSI-X: the receive queue
 * quiet while frames come and armed when found empty, with the frame
 * that comes while it is armed found by the re-check; the transmit
 * queue armed only while every buffer is in flight. */
static void test_suppression(struct fake_dev *d)
{
	uint8_t f[VNET_FRAME_MAX], got[2048];
	unsigned msis = d->msis, n = 0;
	uint64_t arms = net.rx.arms;
	bool ok = true;

	for (unsigned i = 0; i < 3; i++) {
		mkframe(f, 70 + i, 300 + i);
		fake_inject(d, f, 70 + i);
	}
	fake_run_rx(d);
	CHECK(d->msis == msis, "suppression: frames to a quiet queue send no MSI");
	while (vnet_recv(&net, got, sizeof(got)))
		n++;
	CHECK(n == 3 && net.rx.armed && net.rx.avail->flags == 0 && net.rx.arms == arms + 1,
	      "suppression: the 3 taken, then the empty queue armed (flag clear, one arm)");
	CHECK(vnet_recv(&net, got, sizeof(got)) == 0 && net.rx.arms == arms + 1,
	      "suppression: an armed queue found empty again is not armed twice");
	mkframe(f, 90, 310);
	fake_inject(d, f, 90);
	fake_run_rx(d);
	CHECK(d->msis == msis + 1 && d->msi_addr == MSI_ADDR && d->msi_data == MSI_DATA,
	      "suppression: a frame to the armed queue sends the MSI");
	CHECK(vnet_recv(&net, got, sizeof(got)) == 90 && !net.rx.armed,
	      "suppression: ... received, and quiet again");

	/* The race: the device fills a buffer after the driver read used->idx
	 * but before it armed (here: on the doorbell that recycles a bad
	 * entry's buffer, as QEMU flushes queued frames when buffers come).
	 * No MSI for it (the queue was quiet); the re-check after arming
	 * must find it, or it would wait for the next frame. */
	mkframe(f, 100, 315);                   /* a frame taken: quiet */
	fake_inject(d, f, 100);
	fake_run_rx(d);
	CHECK(vnet_recv(&net, got, sizeof(got)) == 100 && !net.rx.armed,
	      "suppression: quiet after a frame");
	d->rx_suppress = false;                 /* the doorbell is rung */
	fake_used_flags(d, 0, 0);
	d->rx_on_kick = true;
	mkframe(f, 111, 320);
	fake_inject(d, f, 111);
	msis = d->msis;
	fake_used_raw(d, 0, -1, 5);             /* a runt first: a buffer recycled */
	CHECK(vnet_recv(&net, got, sizeof(got)) == 111 && memcmp(got, f, 111) == 0 &&
	      net.rx.rearm_found == 1 && d->msis == msis,
	      "suppression: a frame that came while arming is found by the re-check (no MSI)");
	d->rx_on_kick = false;
	d->rx_suppress = true;
	while (vnet_recv(&net, got, sizeof(got)))
		;

	/* Transmit: 8 in flight, the 9th busy arms the queue; the device
	 * sending them interrupts, and the next send quiets it again. */
	arms = net.tx.arms;
	for (unsigned i = 0; i < 8; i++) {
		mkframe(f, 60, 400 + i);
		ok &= vnet_send(&net, f, 60) == 0 && !net.tx.armed;
	}
	CHECK(ok && net.tx.avail->flags == VRING_AVAIL_F_NO_INTERRUPT,
	      "suppression: 8 sends to the quiet transmit queue, flag set");
	CHECK(vnet_send(&net, f, 60) == 1 && net.tx.armed && net.tx.avail->flags == 0 &&
	      net.tx.arms == arms + 1, "suppression: the 9th is busy and arms the transmit queue");
	msis = d->msis;
	fake_run_tx(d, 100);
	CHECK(d->msis == msis + 1, "suppression: the device's transmit completions send the MSI");
	CHECK(vnet_send(&net, f, 60) == 0 && !net.tx.armed &&
	      net.tx.avail->flags == VRING_AVAIL_F_NO_INTERRUPT,
	      "suppression: the next send goes and quiets the transmit queue");
	fake_run_tx(d, 100);
	CHECK(d->violations == 0, "suppression: no protocol violation (%s)",
	      d->last_violation ? d->last_violation : "none");
}

/* Transitional, i440fx-like, queues of 8 and MSI-X: the 16-bit indices
 * wrap past 65535 in both directions. */
static void test_transitional(void)
{
	uint8_t f[VNET_FRAME_MAX], got[2048];
	struct fake_dev *d;
	unsigned ok_rx = 0, ok_tx = 0;
	const unsigned frames = 65536 + 300;
	int r;

	bus_reset();
	bus_add_plain(0x00, 0x8086, 0x1237, 0, 0, 0);
	d = fake_new(2, 0x18, TRANSITIONAL);
	d->q[0].max = d->q[1].max = 8;
	fake_reset(d);
	fake_sync(d);
	dma_used = 0;
	r = vnet_init(&net, &hw_msi, (uint32_t)vnet_find(&hw_msi));
	CHECK(r == 0 && net.transitional && net.rx.size == 8 && net.tx.size == 8,
	      "transitional init: 0, queues of 8 (the device's size) (%s)", net.err ? net.err : "-");
	CHECK(net.msix && net.rx.irq && net.tx.irq && d->q[0].msix == 0 && d->q[1].msix == 1 &&
	      d->msix_config == NO_VECTOR && net.msi_data == MSI_DATA,
	      "transitional init: MSI-X entry 0 for receive, 1 for transmit, none for config");
	CHECK(get32(d->msix_table, 0) == (uint32_t)MSI_ADDR && get32(d->msix_table, 4) == 0 &&
	      get32(d->msix_table, 8) == MSI_DATA && get32(d->msix_table, 12) == 0 &&
	      get32(d->msix_table, 16) == (uint32_t)MSI_ADDR && get32(d->msix_table, 24) == MSI_DATA &&
	      get32(d->msix_table, 28) == 0 && get32(d->msix_table, 32) == 0 &&
	      (get16(d->cfg, 0x9a) & 0xc000) == 0x8000,
	      "transitional init: entries 0 and 1 hold the image's message, unmasked, entry 2 "
	      "untouched, MSI-X on, function unmasked");
	CHECK(net.rx.armed && net.rx.avail->flags == 0 && !net.tx.armed &&
	      net.tx.avail->flags == VRING_AVAIL_F_NO_INTERRUPT,
	      "transitional init: the empty receive queue armed, the transmit queue quiet");
	mkframe(f, 60, 1);
	fake_inject(d, f, 60);
	fake_run_rx(d);
	CHECK(d->msis == 1 && d->msi_addr == MSI_ADDR && d->msi_data == MSI_DATA,
	      "transitional rx: the frame sends the MSI");
	CHECK(vnet_recv(&net, got, sizeof(got)) == 60 && memcmp(got, f, 60) == 0,
	      "transitional rx: the frame received");
	CHECK(!net.rx.armed && net.rx.avail->flags == VRING_AVAIL_F_NO_INTERRUPT,
	      "transitional rx: quiet once a frame came (the caller polls again)");
	vnet_send(&net, f, 60);
	fake_run_tx(d, 10);
	CHECK(d->msis == 1 && d->intx == 0, "transitional tx: no interrupt for transmits");
	test_suppression(d);

	for (unsigned i = 0; i < frames; i++) {
		size_t len = 14 + i % 200;

		mkframe(f, len, i);
		fake_inject(d, f, len);
		fake_run_rx(d);
		ok_rx += vnet_recv(&net, got, sizeof(got)) == len && memcmp(got, f, len) == 0;
		ok_tx += vnet_send(&net, f, len) == 0;
		fake_run_tx(d, 10);
		ok_tx -= !tx_matches(d, d->tx_total - 1, len, i);
	}
	CHECK(ok_rx == frames && ok_tx == frames,
	      "transitional: %u frames each way through 8-entry rings, past the index wrap (%u, %u)",
	      frames, ok_rx, ok_tx);
	CHECK(net.rx_errors == 1 && net.tx_errors == 0 && net.ready,
	      "transitional: no errors but the suppression test's runt, still ready");
	CHECK(d->violations == 0 && cfg_bad_writes == 0,
	      "transitional: no protocol violation, no stray config write (%s)",
	      d->last_violation ? d->last_violation : "none");
	d->live = false;
}

static void test_refused(void)
{
	struct fake_dev *d;
	int r;

	bus_reset();
	d = fake_new(3, 0x20, LEGACY_NO_CAPS);
	r = vnet_init(&net, &hw_poll, 0x20);
	CHECK(r == -1 && net.err && !strcmp(net.err, "legacy-only virtio-net (no virtio 1.0 capabilities)"),
	      "refused: transitional without a capability list: legacy-only (%s)", net.err);
	CHECK(d->status_writes == 0, "refused: ... the device not touched");
	bus_reset();
	d = fake_new(3, 0x20, LEGACY_MSIX_ONLY);
	r = vnet_init(&net, &hw_poll, 0x20);
	CHECK(r == -1 && net.err && strstr(net.err, "legacy-only"),
	      "refused: transitional with only MSI-X: legacy-only");

	bus_reset();
	d = fake_new(3, 0x20, MODERN);
	d->offered &= ~F_VERSION_1;
	fake_sync(d);
	dma_used = 0;
	r = vnet_init(&net, &hw_poll, 0x20);
	CHECK(r == -1 && strstr(net.err, "VERSION_1") && !(d->status & ST_FEATURES_OK) &&
	      (d->status & ST_FAILED), "refused: no VERSION_1 offered: -1, FAILED");

	bus_reset();
	d = fake_new(3, 0x20, MODERN);
	d->refuse_features = true;
	r = vnet_init(&net, &hw_poll, 0x20);
	CHECK(r == -1 && strstr(net.err, "FEATURES_OK") && (d->status & ST_FAILED),
	      "refused: FEATURES_OK that does not stick: -1, FAILED");

	bus_reset();
	d = fake_new(3, 0x20, MODERN);
	refuse_maps = true;
	r = vnet_init(&net, &hw_poll, 0x20);
	refuse_maps = false;
	CHECK(r == VNET_ERR_UNMAPPED, "refused: BAR the image cannot map: VNET_ERR_UNMAPPED");

	bus_reset();
	d = fake_new(3, 0x20, MODERN);
	put16(d->cfg, 2, 0x1042);
	r = vnet_init(&net, &hw_poll, 0x20);
	CHECK(r == -1 && strstr(net.err, "not a virtio-net"), "refused: a virtio-blk (0x1042)");
	put16(d->cfg, 2, 0x1000);
	put16(d->cfg, 0x2e, 2);
	r = vnet_init(&net, &hw_poll, 0x20);
	CHECK(r == -1 && strstr(net.err, "not a virtio-net"), "refused: 0x1000 with subsystem id 2");

	bus_reset();
	d = fake_new(3, 0x20, MODERN);
	dma_used = 0;
	dma_limit = 64 * 1024;
	r = vnet_init(&net, &hw_poll, 0x20);
	dma_limit = DMA_BYTES;
	CHECK(r == -1 && strstr(net.err, "memory"), "refused: no DMA memory for the buffers");

	/* Not refused: a device without MAC and STATUS works with a zero MAC. */
	bus_reset();
	d = fake_new(3, 0x20, MODERN);
	d->offered &= ~(F_MAC | F_STATUS);
	fake_sync(d);
	dma_used = 0;
	r = vnet_init(&net, &hw_poll, 0x20);
	CHECK(r == 0 && !net.has_mac && net.warn && strstr(net.warn, "MAC") &&
	      !memcmp(net.mac, "\0\0\0\0\0\0", 6), "no MAC offered: started, zero MAC, a warning");
	CHECK(d->driver_features == F_VERSION_1 && vnet_link_up(&net),
	      "no MAC or STATUS offered: only VERSION_1 acked, link assumed up");
	CHECK(d->violations == 0, "refusals: no protocol violation (%s)",
	      d->last_violation ? d->last_violation : "none");
	d->live = false;
}

int main(void)
{
	struct fake_dev *d;

	for (unsigned i = 0; i < FAKE_DEVS; i++) {
		devs[i].bar4 = mmap(NULL, BAR4_BYTES, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		devs[i].msix_table = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (devs[i].bar4 == MAP_FAILED || devs[i].msix_table == MAP_FAILED)
			return 2;
	}
	traps_install();

	test_find();

	bus_reset();
	bus_add_plain(0x00, 0x8086, 0x29c0, 0, 0, 0);
	d = fake_new(0, 0x20, MODERN);
	test_modern_init(d);
	test_rx(d);
	test_tx(d);
	test_link(d);
	test_hostile(d);
	d->live = false;

	test_transitional();
	test_refused();
	CHECK(mmio_writes > 0, "the fake saw %u register writes through the write trap", mmio_writes);
	return done_testing();
}
