/*
 * virtio-blk over modern virtio PCI (virtio 1.0): capability walk, the
 * status handshake, feature negotiation, queue 0 as a split virtqueue, and
 * synchronous requests polled to completion.
 *
 * Request protocol: one chain per request, always descriptors 0-2 (only
 * one request is ever in flight): the header the device reads, the data
 * (device-writable for reads), and the status byte the device writes.
 * The driver fills the descriptors, puts head 0 in the avail ring, then
 * publishes avail->idx (the device may read the ring as soon as it sees
 * the index, so the index goes last), then writes the queue index to the
 * notify register. The device puts {id, len} in the used ring and then
 * bumps used->idx; the driver reads used->idx once, then the element once,
 * and validates both before trusting the status byte.
 */
#include <string.h>
#include "format.h"
#include "platform.h"
#include "virtio_blk.h"

/* PCI configuration space. */
#define CFG_COMMAND             0x04
#define CFG_STATUS_CAPLIST      (1u << (16 + 4))        /* in dword 0x04 */
#define CFG_BAR0                0x10
#define CFG_CAP_PTR             0x34
#define CMD_MEMORY              (1u << 1)
#define CMD_BUS_MASTER          (1u << 2)
#define CAP_ID_VENDOR           0x09
#define CAP_ID_MSIX             0x11
#define MSIX_CTRL_ENABLE        (1u << 15)
#define MSIX_CTRL_MASKALL       (1u << 14)
#define MSIX_NO_VECTOR          0xffff
#define CAP_WALK_MAX            48

/* virtio_pci_cap.cfg_type */
#define VIRTIO_PCI_CAP_COMMON   1
#define VIRTIO_PCI_CAP_NOTIFY   2
#define VIRTIO_PCI_CAP_ISR      3
#define VIRTIO_PCI_CAP_DEVICE   4

/* virtio_pci_common_cfg offsets. */
#define COM_DFSELECT            0x00
#define COM_DF                  0x04
#define COM_GFSELECT            0x08
#define COM_GF                  0x0c
#define COM_MSIX_CONFIG         0x10
#define COM_NUM_QUEUES          0x12
#define COM_STATUS              0x14
#define COM_CFGGEN              0x15
#define COM_Q_SELECT            0x16
#define COM_Q_SIZE              0x18
#define COM_Q_MSIX              0x1a
#define COM_Q_ENABLE            0x1c
#define COM_Q_NOFF              0x1e
#define COM_Q_DESC              0x20
#define COM_Q_AVAIL             0x28
#define COM_Q_USED              0x30
#define COM_LEN                 0x38

/* Device status bits. */
#define ST_ACKNOWLEDGE          1
#define ST_DRIVER               2
#define ST_DRIVER_OK            4
#define ST_FEATURES_OK          8
#define ST_FAILED               0x80

#define F_BLK_SIZE_MAX          (1ull << 1)
#define F_BLK_SEG_MAX           (1ull << 2)
#define F_BLK_FLUSH             (1ull << 9)
#define F_VERSION_1             (1ull << 32)

#define VRING_DESC_F_NEXT       1
#define VRING_DESC_F_WRITE      2

#define BLK_T_IN                0
#define BLK_T_OUT               1
#define BLK_T_FLUSH             4
#define BLK_S_OK                0

/* Spins of the used-ring poll before a request counts as lost. */
#define POLL_SPINS              (1u << 30)
/* Waits for the completion interrupt before it counts as lost (each
 * wait also ends at the image's timer tick). */
#define IRQ_WAITS               (1u << 16)

struct cap_region {
	bool found;
	uint8_t bar;
	uint32_t offset, length;
	uint32_t notify_mul;
};

static int fail(struct vblk *d, const char *why)
{
	d->err = why;
	return -1;
}

static uint8_t rd8(volatile uint8_t *base, unsigned off)
{
	return *(volatile uint8_t *)(base + off);
}

static uint16_t rd16(volatile uint8_t *base, unsigned off)
{
	return *(volatile uint16_t *)(base + off);
}

static uint32_t rd32(volatile uint8_t *base, unsigned off)
{
	return *(volatile uint32_t *)(base + off);
}

static void wr8(volatile uint8_t *base, unsigned off, uint8_t v)
{
	*(volatile uint8_t *)(base + off) = v;
}

static void wr16(volatile uint8_t *base, unsigned off, uint16_t v)
{
	*(volatile uint16_t *)(base + off) = v;
}

static void wr32(volatile uint8_t *base, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(base + off) = v;
}

/* 64-bit fields of the common config may be written as two dwords, low
 * first (virtio 1.0, 4.1.3.1). */
static void wr64(volatile uint8_t *base, unsigned off, uint64_t v)
{
	wr32(base, off, (uint32_t)v);
	wr32(base, off + 4, (uint32_t)(v >> 32));
}

static uint8_t cfg_read8(struct vblk *d, uint32_t off)
{
	return (uint8_t)(d->hw->pci_read32(d->hw->ctx, d->bdf, off & ~3u) >>
			 (8 * (off & 3)));
}

/* Record the first capability of each type: a device may list several,
 * in order of preference (virtio 1.0, 4.1.4). */
static void cap_parse(struct vblk *d, uint8_t ptr, struct cap_region caps[5])
{
	const struct vblk_hw *hw = d->hw;
	uint8_t len = cfg_read8(d, ptr + 2u);
	uint8_t type = cfg_read8(d, ptr + 3u);
	uint8_t bar = cfg_read8(d, ptr + 4u);

	if (type < VIRTIO_PCI_CAP_COMMON || type > VIRTIO_PCI_CAP_DEVICE ||
	    caps[type].found || len < 16 || bar > 5)
		return;
	if (type == VIRTIO_PCI_CAP_NOTIFY && (len < 20 || ptr + 20u > 0x100))
		return;
	caps[type].bar = bar;
	caps[type].offset = hw->pci_read32(hw->ctx, d->bdf, ptr + 8u);
	caps[type].length = hw->pci_read32(hw->ctx, d->bdf, ptr + 12u);
	if (type == VIRTIO_PCI_CAP_NOTIFY)
		caps[type].notify_mul = hw->pci_read32(hw->ctx, d->bdf, ptr + 16u);
	caps[type].found = true;
}

/* Walk the capability list: pointers must stay in 0x40..0xfc (dword
 * aligned, as PCI requires) and the walk ends after CAP_WALK_MAX entries,
 * so a looping list cannot hang us. */
static int caps_find(struct vblk *d, struct cap_region caps[5])
{
	const struct vblk_hw *hw = d->hw;
	uint8_t ptr;

	if (!(hw->pci_read32(hw->ctx, d->bdf, CFG_COMMAND) & CFG_STATUS_CAPLIST))
		return fail(d, "no PCI capability list");
	ptr = cfg_read8(d, CFG_CAP_PTR);
	for (unsigned n = 0; ptr && n < CAP_WALK_MAX; n++) {
		ptr &= 0xfc;
		if (ptr < 0x40)
			return fail(d, "capability pointer below 0x40");
		if (cfg_read8(d, ptr) == CAP_ID_VENDOR)
			cap_parse(d, ptr, caps);
		else if (cfg_read8(d, ptr) == CAP_ID_MSIX && !d->msix_cap)
			d->msix_cap = ptr;
		ptr = cfg_read8(d, ptr + 1u);
	}
	for (unsigned t = VIRTIO_PCI_CAP_COMMON; t <= VIRTIO_PCI_CAP_DEVICE; t++)
		if (!caps[t].found)
			return fail(d, "a virtio capability (common, notify, isr or device) is missing");
	return 0;
}

/* The region a capability describes, mapped; NULL when the BAR is I/O
 * space, unassigned, or the image cannot reach it. */
static volatile uint8_t *region_map(struct vblk *d, const struct cap_region *c)
{
	const struct vblk_hw *hw = d->hw;
	uint32_t off = CFG_BAR0 + 4u * c->bar;
	uint32_t lo = hw->pci_read32(hw->ctx, d->bdf, off);
	uint64_t base;

	if (lo & 1)
		return NULL;                    /* I/O BAR */
	base = lo & ~0xfull;
	if (((lo >> 1) & 3) == 2) {             /* 64-bit: the next BAR is high */
		if (c->bar == 5)
			return NULL;
		base |= (uint64_t)hw->pci_read32(hw->ctx, d->bdf, off + 4) << 32;
	}
	if (!base || base + c->offset < base)
		return NULL;
	return hw->map_bar(hw->ctx, base + c->offset, c->length);
}

static int map_regions(struct vblk *d)
{
	struct cap_region caps[5];
	volatile uint8_t *notify_base;
	const struct cap_region *n = &caps[VIRTIO_PCI_CAP_NOTIFY];

	memset(caps, 0, sizeof(caps));
	if (caps_find(d, caps))
		return -1;
	if (caps[VIRTIO_PCI_CAP_COMMON].length < COM_LEN ||
	    caps[VIRTIO_PCI_CAP_ISR].length < 1 ||
	    caps[VIRTIO_PCI_CAP_DEVICE].length < 8 || n->length < 2)
		return fail(d, "a virtio capability region is too short");
	d->common = region_map(d, &caps[VIRTIO_PCI_CAP_COMMON]);
	d->isr = region_map(d, &caps[VIRTIO_PCI_CAP_ISR]);
	d->devcfg = region_map(d, &caps[VIRTIO_PCI_CAP_DEVICE]);
	d->devcfg_len = caps[VIRTIO_PCI_CAP_DEVICE].length;
	notify_base = region_map(d, n);
	if (!d->common || !d->isr || !d->devcfg || !notify_base) {
		fail(d, "a virtio BAR is unassigned, I/O space or cannot be mapped");
		return VBLK_ERR_UNMAPPED;
	}
	/* Queue 0's doorbell offset is read once the queue is selected. */
	d->notify_base = notify_base;
	d->notify_len = n->length;
	d->notify_mul = n->notify_mul;
	return 0;
}

static void status_set(struct vblk *d, uint8_t bits)
{
	wr8(d->common, COM_STATUS, rd8(d->common, COM_STATUS) | bits);
}

static int negotiate(struct vblk *d)
{
	uint64_t offered, wanted;

	wr32(d->common, COM_DFSELECT, 0);
	offered = rd32(d->common, COM_DF);
	wr32(d->common, COM_DFSELECT, 1);
	offered |= (uint64_t)rd32(d->common, COM_DF) << 32;
	if (!(offered & F_VERSION_1))
		return fail(d, "device does not offer VIRTIO_F_VERSION_1");
	/* The segment limits only tell us something: taking them costs
	 * nothing and a device may count on the driver knowing them. */
	wanted = F_VERSION_1 | (offered & (F_BLK_FLUSH | F_BLK_SEG_MAX | F_BLK_SIZE_MAX));
	wr32(d->common, COM_GFSELECT, 0);
	wr32(d->common, COM_GF, (uint32_t)wanted);
	wr32(d->common, COM_GFSELECT, 1);
	wr32(d->common, COM_GF, (uint32_t)(wanted >> 32));
	status_set(d, ST_FEATURES_OK);
	if (!(rd8(d->common, COM_STATUS) & ST_FEATURES_OK))
		return fail(d, "device refused our features (FEATURES_OK clear)");
	d->has_flush = (wanted & F_BLK_FLUSH) != 0;
	d->features = wanted;
	return 0;
}

static void msix_setup(struct vblk *d);

/* Queue 0: descriptors at 0, the avail ring after them, the used ring at
 * the next 4-byte boundary, all in one zeroed DMA allocation. */
static int queue_setup(struct vblk *d)
{
	const struct vblk_hw *hw = d->hw;
	uint16_t dev_size, noff;
	unsigned q = VBLK_QUEUE_MAX;
	size_t avail_off, used_off, bytes;
	uint64_t ring_phys, doorbell;
	uint8_t *ring;

	if (rd16(d->common, COM_NUM_QUEUES) < 1)
		return fail(d, "device has no queues");
	wr16(d->common, COM_Q_SELECT, 0);
	dev_size = rd16(d->common, COM_Q_SIZE);
	if (dev_size < 3)
		return fail(d, "queue 0 has fewer than 3 entries");
	while (q > dev_size)            /* stay a power of two */
		q >>= 1;
	if (q < 4)
		return fail(d, "queue 0 is too small");
	noff = rd16(d->common, COM_Q_NOFF);
	doorbell = (uint64_t)noff * d->notify_mul;
	if (doorbell + 2 > d->notify_len)
		return fail(d, "queue 0's notify offset lies outside the notify region");
	d->notify = (volatile uint16_t *)(d->notify_base + doorbell);

	avail_off = 16u * q;
	used_off = (avail_off + 6 + 2u * q + 3) & ~(size_t)3;
	bytes = used_off + 6 + 8u * q;
	ring = hw->dma_alloc(hw->ctx, bytes, &ring_phys);
	if (!ring)
		return fail(d, "no memory for the virtqueue");
	d->qsize = (uint16_t)q;
	d->desc = (struct vring_desc *)ring;
	d->avail = (struct vring_avail *)(ring + avail_off);
	d->used = (struct vring_used *)(ring + used_off);
	wr16(d->common, COM_Q_SIZE, (uint16_t)q);
	wr64(d->common, COM_Q_DESC, ring_phys);
	wr64(d->common, COM_Q_AVAIL, ring_phys + avail_off);
	wr64(d->common, COM_Q_USED, ring_phys + used_off);
	msix_setup(d);          /* the vector is set before the queue runs */
	wr16(d->common, COM_Q_ENABLE, 1);
	return 0;
}

/* The capacity field, read until config_generation is stable so the two
 * halves belong together (virtio 1.0, 4.1.4.3.1). */
static uint64_t read_capacity(struct vblk *d)
{
	uint8_t gen;
	uint64_t cap;

	do {
		gen = rd8(d->common, COM_CFGGEN);
		cap = rd32(d->devcfg, 0) | (uint64_t)rd32(d->devcfg, 4) << 32;
	} while (gen != rd8(d->common, COM_CFGGEN));
	return cap;
}

/*
 * Queue 0's completions through MSI-X table entry 0, when the image gave
 * us a message to use: enable MSI-X (all entries masked but entry 0),
 * write the entry, point the queue at it and read back what the device
 * accepted (it answers NO_VECTOR when it cannot). On any failure the
 * driver stays in polling mode, which is always correct.
 */
static void msix_setup(struct vblk *d)
{
	const struct vblk_hw *hw = d->hw;
	struct cap_region table = { true, 0, 0, 16, 0 };
	volatile uint8_t *entry;
	uint32_t dw0, tbl, data;
	uint64_t addr;

	if (!hw->msi_message || !hw->wait_irq || !d->msix_cap ||
	    !hw->msi_message(hw->ctx, &addr, &data))
		return;
	dw0 = hw->pci_read32(hw->ctx, d->bdf, d->msix_cap);
	tbl = hw->pci_read32(hw->ctx, d->bdf, d->msix_cap + 4u);
	table.bar = tbl & 7;
	table.offset = tbl & ~7u;
	if (table.bar > 5 || !(entry = region_map(d, &table)))
		return;
	/* Enabled with the function masked while the entry is written. */
	hw->pci_write32(hw->ctx, d->bdf, d->msix_cap,
			dw0 | (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) << 16);
	wr32(entry, 0, (uint32_t)addr);
	wr32(entry, 4, (uint32_t)(addr >> 32));
	wr32(entry, 8, data);
	wr32(entry, 12, 0);                     /* vector control: unmasked */
	hw->pci_write32(hw->ctx, d->bdf, d->msix_cap,
			(dw0 & ~(MSIX_CTRL_MASKALL << 16)) | MSIX_CTRL_ENABLE << 16);
	wr16(d->common, COM_MSIX_CONFIG, MSIX_NO_VECTOR);
	wr16(d->common, COM_Q_SELECT, 0);
	wr16(d->common, COM_Q_MSIX, 0);
	d->msix = rd16(d->common, COM_Q_MSIX) == 0;
}

int vblk_init(struct vblk *d, const struct vblk_hw *hw, uint32_t bdf)
{
	uint32_t cmd;
	void *page;
	unsigned spins = 0;
	int err;

	memset(d, 0, sizeof(*d));
	d->hw = hw;
	d->bdf = bdf;
	d->spins_before_halt = VBLK_SPINS_BEFORE_HALT;
	if (hw->pci_read32(hw->ctx, bdf, 0) !=
	    ((uint32_t)VBLK_PCI_DEVICE_MODERN << 16 | VBLK_PCI_VENDOR))
		return fail(d, "not a modern virtio-blk device");
	if ((err = map_regions(d)) != 0)
		return err;
	cmd = hw->pci_read32(hw->ctx, bdf, CFG_COMMAND) & 0xffff;
	hw->pci_write32(hw->ctx, bdf, CFG_COMMAND, cmd | CMD_MEMORY | CMD_BUS_MASTER);

	/* Reset, and wait for the device to say it is done (4.1.4.3.2). */
	wr8(d->common, COM_STATUS, 0);
	while (rd8(d->common, COM_STATUS) != 0)
		if (++spins == POLL_SPINS)
			return fail(d, "device never finished its reset");
	status_set(d, ST_ACKNOWLEDGE);
	status_set(d, ST_DRIVER);
	if (negotiate(d) || queue_setup(d))
		goto failed;
	page = hw->dma_alloc(hw->ctx, 4096, &d->hdr_phys);
	d->bounce = hw->dma_alloc(hw->ctx, VBLK_BOUNCE_BYTES, &d->bounce_phys);
	if (!page || !d->bounce) {
		fail(d, "no memory for request buffers");
		goto failed;
	}
	d->hdr = page;
	d->status = (volatile uint8_t *)page + sizeof(struct virtio_blk_outhdr);
	status_set(d, ST_DRIVER_OK);
	if (d->devcfg_len < 8) {
		fail(d, "device config too short for the capacity");
		goto failed;
	}
	d->capacity = read_capacity(d);
	/* Data descriptors per request: the ring less the header and the
	 * status byte, and no more than the device's seg_max. */
	d->seg_max = d->qsize - 2u;
	if ((d->features & F_BLK_SEG_MAX) && d->devcfg_len >= 16) {
		uint32_t m = rd32(d->devcfg, 12);

		if (m && m < d->seg_max)
			d->seg_max = m;
	}
	d->size_max = 0;
	if ((d->features & F_BLK_SIZE_MAX) && d->devcfg_len >= 12)
		d->size_max = rd32(d->devcfg, 8);
	if (d->size_max && d->size_max < VBLK_SECTOR)
		d->size_max = VBLK_SECTOR;      /* nonsense: whole sectors still go */
	d->ready = true;
	return 0;
failed:
	status_set(d, ST_FAILED);
	return -1;
}

/* Submit the chain at descriptor 0 and poll until the device hands
 * it back; `writable` is how many bytes the device may write (the
 * largest used length it may report). */
static int submit(struct vblk *d, uint32_t writable)
{
	uint16_t used_idx;
	struct vring_used_elem e;
	unsigned spins = 0;

	*d->status = 0xff;      /* anything but OK until the device writes it */
	d->avail->ring[d->avail_idx & (d->qsize - 1)] = 0;
	/* The descriptors and the ring entry before the index the device
	 * polls; x86 keeps stores in order, the fence keeps the compiler. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*(volatile uint16_t *)&d->avail->idx = ++d->avail_idx;
	/* The index is visible before the doorbell: a full fence, since the
	 * device may read the ring from another thread as soon as notified. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*d->notify = 0;

	for (;;) {
		used_idx = *(volatile uint16_t *)&d->used->idx;
		if (used_idx != d->used_seen)
			break;
		if (++spins == (d->msix ? d->spins_before_halt + IRQ_WAITS : POLL_SPINS))
			return fail(d, "request timed out (no used-ring entry)");
		if (d->msix && spins > d->spins_before_halt) {
			d->irq_waits++;
			d->hw->wait_irq(d->hw->ctx);
		} else {
			__asm__ volatile("pause" ::: "memory");
		}
	}
	/* Read the element only after seeing the index that covers it. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if ((uint16_t)(used_idx - d->used_seen) != 1) {
		d->ready = false;
		return fail(d, "device completed more requests than were submitted");
	}
	e.id = *(volatile uint32_t *)&d->used->ring[d->used_seen & (d->qsize - 1)].id;
	e.len = *(volatile uint32_t *)&d->used->ring[d->used_seen & (d->qsize - 1)].len;
	d->used_seen = used_idx;
	if (e.id != 0) {
		d->ready = false;
		return fail(d, "used-ring entry names a descriptor we never submitted");
	}
	if (e.len > writable)
		return fail(d, "used length exceeds the writable buffers");
	if (*d->status != BLK_S_OK)
		return fail(d, *d->status == 1 ? "device reported an I/O error" :
			    *d->status == 2 ? "device reported an unsupported request" :
			    "device returned a bad status byte");
	return 0;
}

static void desc_set(struct vblk *d, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags)
{
	d->desc[i].addr = addr;
	d->desc[i].len = len;
	d->desc[i].flags = flags;
	d->desc[i].next = (uint16_t)(i + 1);
}

/* One request of at most VBLK_BOUNCE_BYTES through the bounce buffer. */
static int rw_chunk(struct vblk *d, uint32_t type, uint64_t lba, unsigned count)
{
	uint32_t bytes = count * VBLK_SECTOR;
	bool in = type == BLK_T_IN;

	d->hdr->type = type;
	d->hdr->reserved = 0;
	d->hdr->sector = lba;
	desc_set(d, 0, d->hdr_phys, sizeof(*d->hdr), VRING_DESC_F_NEXT);
	desc_set(d, 1, d->bounce_phys, bytes,
		 VRING_DESC_F_NEXT | (in ? VRING_DESC_F_WRITE : 0));
	desc_set(d, 2, d->hdr_phys + sizeof(*d->hdr), 1, VRING_DESC_F_WRITE);
	return submit(d, (in ? bytes : 0) + 1);
}

static int check_range(struct vblk *d, uint64_t lba, unsigned count)
{
	if (!d->ready)
		return fail(d, "device not initialized or failed");
	if (count > d->capacity || lba > d->capacity - count)
		return fail(d, "request beyond the end of the disk");
	return 0;
}

int vblk_read(struct vblk *d, uint64_t lba, unsigned count, void *buf)
{
	const unsigned per = VBLK_BOUNCE_BYTES / VBLK_SECTOR;
	uint8_t *p = buf;

	if (check_range(d, lba, count))
		return -1;
	while (count) {
		unsigned n = count < per ? count : per;

		if (rw_chunk(d, BLK_T_IN, lba, n))
			return -1;
		memcpy(p, d->bounce, (size_t)n * VBLK_SECTOR);
		p += (size_t)n * VBLK_SECTOR;
		lba += n;
		count -= n;
	}
	return 0;
}

int vblk_write(struct vblk *d, uint64_t lba, unsigned count, const void *buf)
{
	const unsigned per = VBLK_BOUNCE_BYTES / VBLK_SECTOR;
	const uint8_t *p = buf;

	if (check_range(d, lba, count))
		return -1;
	while (count) {
		unsigned n = count < per ? count : per;

		memcpy(d->bounce, p, (size_t)n * VBLK_SECTOR);
		if (rw_chunk(d, BLK_T_OUT, lba, n))
			return -1;
		p += (size_t)n * VBLK_SECTOR;
		lba += n;
		count -= n;
	}
	return 0;
}

int vblk_flush(struct vblk *d)
{
	if (!d->ready)
		return fail(d, "device not initialized or failed");
	if (!d->has_flush)
		return 0;
	d->hdr->type = BLK_T_FLUSH;
	d->hdr->reserved = 0;
	d->hdr->sector = 0;
	desc_set(d, 0, d->hdr_phys, sizeof(*d->hdr), VRING_DESC_F_NEXT);
	desc_set(d, 1, d->hdr_phys + sizeof(*d->hdr), 1, VRING_DESC_F_WRITE);
	return submit(d, 1);
}

uint64_t vblk_capacity(const struct vblk *d)
{
	return d->capacity;
}

int vblk_find(const struct vblk_hw *hw)
{
	for (uint32_t dev = 0; dev < 32; dev++) {
		unsigned nfn = 1;

		for (uint32_t fn = 0; fn < nfn; fn++) {
			uint32_t bdf = dev << 3 | fn;
			uint32_t id = hw->pci_read32(hw->ctx, bdf, 0);

			if ((id & 0xffff) == 0xffff)
				continue;
			if (fn == 0 && (hw->pci_read32(hw->ctx, bdf, 0x0c) >> 16) & 0x80)
				nfn = 8;        /* multi-function device */
			if (id == ((uint32_t)VBLK_PCI_DEVICE_MODERN << 16 | VBLK_PCI_VENDOR))
				return (int)bdf;
		}
	}
	return -1;
}

/*
 * Requests straight from and to the caller's memory: the data moves by
 * the device's DMA to the segments' physical addresses, with no bounce
 * copy. A request takes at most seg_max data descriptors of at most
 * size_max bytes each; a longer list goes as several requests, each cut
 * at a sector boundary (a piece of a segment carries over).
 */
static int rw_sg(struct vblk *d, uint32_t type, uint64_t lba, unsigned count,
		 const struct blk_seg *segs, unsigned nsegs)
{
	uint64_t left = (uint64_t)count * VBLK_SECTOR, seg_off = 0;
	unsigned si = 0;
	bool in = type == BLK_T_IN;

	if (check_range(d, lba, count))
		return -1;
	while (left) {
		unsigned nd = 0;
		uint64_t bytes = 0;
		int r;

		d->hdr->type = type;
		d->hdr->reserved = 0;
		d->hdr->sector = lba;
		desc_set(d, 0, d->hdr_phys, sizeof(*d->hdr), VRING_DESC_F_NEXT);
		while (bytes < left && nd < d->seg_max && bytes < VBLK_SG_REQUEST_MAX) {
			uint64_t len;

			while (si < nsegs && seg_off >= segs[si].len) {
				si++;
				seg_off = 0;
			}
			if (si == nsegs)
				return fail(d, "scatter list shorter than the request");
			len = segs[si].len - seg_off;
			if (d->size_max && len > d->size_max)
				len = d->size_max;
			if (len > left - bytes)
				len = left - bytes;
			if (len > VBLK_SG_REQUEST_MAX - bytes)
				len = VBLK_SG_REQUEST_MAX - bytes;
			desc_set(d, 1 + nd, segs[si].addr + seg_off, (uint32_t)len,
				 VRING_DESC_F_NEXT | (in ? VRING_DESC_F_WRITE : 0));
			nd++;
			bytes += len;
			seg_off += len;
		}
		/* Whole sectors per request: give back what follows the last
		 * sector boundary (it starts the next request). */
		while (bytes % VBLK_SECTOR) {
			uint32_t cut = (uint32_t)(bytes % VBLK_SECTOR), piece = d->desc[nd].len;
			uint64_t back = cut < piece ? cut : piece;

			if (cut < piece)
				d->desc[nd].len -= cut;
			else if (--nd == 0)
				return fail(d, "scatter list too fragmented for the device");
			bytes -= back;
			while (back > seg_off) {
				back -= seg_off;
				seg_off = segs[--si].len;
			}
			seg_off -= back;
		}
		desc_set(d, 1 + nd, d->hdr_phys + sizeof(*d->hdr), 1, VRING_DESC_F_WRITE);
		d->sg_requests++;
		r = submit(d, (in ? (uint32_t)bytes : 0) + 1);
		if (r)
			return r;
		lba += bytes / VBLK_SECTOR;
		left -= bytes;
	}
	return 0;
}

int vblk_read_sg(struct vblk *d, uint64_t lba, unsigned count, const struct blk_seg *segs,
		 unsigned nsegs)
{
	return rw_sg(d, BLK_T_IN, lba, count, segs, nsegs);
}

int vblk_write_sg(struct vblk *d, uint64_t lba, unsigned count, const struct blk_seg *segs,
		  unsigned nsegs)
{
	return rw_sg(d, BLK_T_OUT, lba, count, segs, nsegs);
}

/* ---- a block backend over the disk ------------------------------------------ */

static void (*backend_log)(const char *line);

static int backend_rw(struct vblk *d, uint64_t lba, unsigned count, void *buf, bool write)
{
	const unsigned chunk = VBLK_BOUNCE_BYTES / VBLK_SECTOR;

	while (count) {
		unsigned n = count < chunk ? count : chunk;
		int r = write ? vblk_write(d, lba, n, buf) : vblk_read(d, lba, n, buf);

		if (r) {
			if (backend_log) {
				char line[120];

				ksnprintf(line, sizeof(line), "blk: %s of %u sectors at %lu failed: %s",
					  write ? "write" : "read", n, lba, d->err);
				backend_log(line);
			}
			return -1;
		}
		lba += n;
		count -= n;
		buf = (uint8_t *)buf + (size_t)n * VBLK_SECTOR;
	}
	return 0;
}

static int backend_read(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	return backend_rw(ctx, lba, count, buf, false);
}

static int backend_write(void *ctx, uint64_t lba, unsigned count, const void *buf)
{
	return backend_rw(ctx, lba, count, (void *)buf, true);
}

static int backend_flush(void *ctx)
{
	return vblk_flush(ctx);
}

static int backend_sg(void *ctx, uint64_t lba, unsigned count, const struct blk_seg *segs,
		      unsigned nsegs, bool write)
{
	struct vblk *d = ctx;
	int r = write ? vblk_write_sg(d, lba, count, segs, nsegs)
		      : vblk_read_sg(d, lba, count, segs, nsegs);

	if (r && backend_log) {
		char line[120];

		ksnprintf(line, sizeof(line), "blk: %s of %u sectors at %lu (%u segments) failed: %s",
			  write ? "write" : "read", count, lba, nsegs, d->err);
		backend_log(line);
	}
	return r;
}

static int backend_read_sg(void *ctx, uint64_t lba, unsigned count, const struct blk_seg *segs,
			   unsigned nsegs)
{
	return backend_sg(ctx, lba, count, segs, nsegs, false);
}

static int backend_write_sg(void *ctx, uint64_t lba, unsigned count, const struct blk_seg *segs,
			    unsigned nsegs)
{
	return backend_sg(ctx, lba, count, segs, nsegs, true);
}

void vblk_backend(struct vblk *d, struct block_backend *b, void (*log)(const char *line))
{
	backend_log = log;
	*b = (struct block_backend){ d, vblk_capacity(d), backend_read, backend_write,
				     backend_flush, backend_read_sg, backend_write_sg };
}
