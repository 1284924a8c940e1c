/*
 * virtio-blk over the virtio 1.0 PCI transport (virtio_pci.c): finding
 * the function, the handshake, feature negotiation, queue 0 as a split
 * virtqueue, and synchronous requests to completion.
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

#define F_BLK_SIZE_MAX          (1ull << 1)
#define F_BLK_SEG_MAX           (1ull << 2)
#define F_BLK_FLUSH             (1ull << 9)

/* struct virtio_blk_config (virtio 1.0, 5.2.4). */
#define BLKCFG_CAPACITY         0
#define BLKCFG_SIZE_MAX         8
#define BLKCFG_SEG_MAX          12

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

static int fail(struct vblk *d, const char *why)
{
	d->err = why;
	return -1;
}

/* The transport's error becomes ours. */
static int fail_transport(struct vblk *d)
{
	return fail(d, d->t.err);
}

/* ---- finding the function ----------------------------------------------- */

static const struct pci_id vblk_ids[] = {
	{ VBLK_PCI_VENDOR, VBLK_PCI_DEVICE_MODERN },
	{ VBLK_PCI_VENDOR, VBLK_PCI_DEVICE_TRANS },
};

/* 0x1001 is only a block device when its subsystem id says so. */
static bool is_vblk(uint16_t device, uint16_t subsys)
{
	return device == VBLK_PCI_DEVICE_MODERN ||
	       (device == VBLK_PCI_DEVICE_TRANS && subsys == VBLK_PCI_SUBSYS_BLK);
}

int vblk_find_in(const struct pcienum *e, bool *transitional)
{
	for (int i = 0; (i = pcienum_find(e, vblk_ids, 2, i)) >= 0; i++) {
		const struct pcienum_dev *f = &e->dev[i];

		if (!is_vblk(f->device, f->subsys))
			continue;
		if (transitional)
			*transitional = f->device == VBLK_PCI_DEVICE_TRANS;
		return f->bdf;
	}
	return -1;
}

int vblk_find(const struct vblk_hw *hw, bool *transitional)
{
	struct pcienum e;

	pcienum_scan(&e, hw);
	return vblk_find_in(&e, transitional);
}

/* ---- start-up ------------------------------------------------------------ */

static int identify(struct vblk *d)
{
	uint32_t id = d->hw->pci_read32(d->hw->ctx, d->bdf, PCI_CFG_ID);
	uint32_t sub = d->hw->pci_read32(d->hw->ctx, d->bdf, PCI_CFG_SUBSYSTEM);

	if ((id & 0xffff) != VBLK_PCI_VENDOR || !is_vblk((uint16_t)(id >> 16), (uint16_t)(sub >> 16)))
		return fail(d, "not a virtio-blk device");
	d->transitional = id >> 16 == VBLK_PCI_DEVICE_TRANS;
	return 0;
}

/* The segment limits only tell us something: taking them costs nothing
 * and a device may count on the driver knowing them. */
static int negotiate(struct vblk *d)
{
	uint64_t offered = vpci_features_offered(&d->t);

	if (vpci_features_accept(&d->t, offered, F_BLK_FLUSH | F_BLK_SEG_MAX | F_BLK_SIZE_MAX))
		return fail_transport(d);
	d->features = VIRTIO_F_VERSION_1 | (offered & (F_BLK_FLUSH | F_BLK_SEG_MAX | F_BLK_SIZE_MAX));
	d->has_flush = (d->features & F_BLK_FLUSH) != 0;
	return 0;
}

/*
 * Queue 0's completions through MSI-X table entry 0, when the image gave
 * us a message to use: the entry written, the queue pointed at it, and
 * what the device accepted read back (it answers NO_VECTOR when it
 * cannot). On any failure the driver stays in polling mode, which is
 * always correct.
 */
static void msix_setup(struct vblk *d)
{
	const struct vblk_hw *hw = d->hw;
	uint32_t data;
	uint64_t addr;

	if (!hw->msi_message || !hw->wait_irq || !d->t.msix_cap ||
	    !hw->msi_message(hw->ctx, &addr, &data) ||
	    !vpci_msix_enable(&d->t, 1, addr, data))
		return;
	vpci_queue_select(&d->t, 0);
	d->msix = vpci_queue_vector(&d->t, 0) == 0;
}

static int queue_setup(struct vblk *d)
{
	struct vpci_vq q;
	uint16_t dev_size;
	unsigned size;

	if (vpci_num_queues(&d->t) < 1)
		return fail(d, "device has no queues");
	dev_size = vpci_queue_select(&d->t, 0);
	if (dev_size < 3)
		return fail(d, "queue 0 has fewer than 3 entries");
	size = vpci_queue_fit(dev_size, VBLK_QUEUE_MAX);
	if (size < 4)
		return fail(d, "queue 0 is too small");
	if (vpci_queue_setup(&d->t, &q, 0, size))
		return fail_transport(d);
	d->qsize = q.size;
	d->notify = q.notify;
	d->desc = q.desc;
	d->avail = q.avail;
	d->used = q.used;
	msix_setup(d);          /* the vector is set before the queue runs */
	vpci_queue_enable(&d->t);
	return 0;
}

/* The capacity field, read until config_generation is stable so the two
 * halves belong together (virtio 1.0, 4.1.4.3.1). */
static uint64_t read_capacity(struct vblk *d)
{
	volatile uint8_t *cfg = d->t.devcfg;
	uint8_t gen;
	uint64_t cap;

	do {
		gen = vpci_config_generation(&d->t);
		cap = vpci_rd32(cfg, BLKCFG_CAPACITY) |
		      (uint64_t)vpci_rd32(cfg, BLKCFG_CAPACITY + 4) << 32;
	} while (gen != vpci_config_generation(&d->t));
	return cap;
}

/* seg_max and size_max: what one request may carry. */
static void read_limits(struct vblk *d)
{
	/* Data descriptors per request: the ring less the header and the
	 * status byte, and no more than the device's seg_max. */
	d->seg_max = d->qsize - 2u;
	if ((d->features & F_BLK_SEG_MAX) && d->t.devcfg_len >= BLKCFG_SEG_MAX + 4) {
		uint32_t m = vpci_rd32(d->t.devcfg, BLKCFG_SEG_MAX);

		if (m && m < d->seg_max)
			d->seg_max = m;
	}
	d->size_max = 0;
	if ((d->features & F_BLK_SIZE_MAX) && d->t.devcfg_len >= BLKCFG_SIZE_MAX + 4)
		d->size_max = vpci_rd32(d->t.devcfg, BLKCFG_SIZE_MAX);
	if (d->size_max && d->size_max < VBLK_SECTOR)
		d->size_max = VBLK_SECTOR;      /* nonsense: whole sectors still go */
}

/* The transport's regions; a transitional function without the virtio
 * 1.0 interface is legacy-only, which this driver does not speak. */
static int map_regions(struct vblk *d)
{
	int r = vpci_map(&d->t, d->hw, d->bdf,
			 VPCI_NEED(VIRTIO_PCI_CAP_ISR) | VPCI_NEED(VIRTIO_PCI_CAP_DEVICE));

	if (r == VPCI_ERR_UNMAPPED) {
		fail_transport(d);
		return VBLK_ERR_UNMAPPED;
	}
	if (r == VPCI_ERR_NO_MODERN && d->transitional)
		return fail(d, "legacy-only virtio-blk (no virtio 1.0 capabilities)");
	if (r)
		return fail_transport(d);
	if (d->t.devcfg_len < BLKCFG_CAPACITY + 8)
		return fail(d, "a virtio capability region is too short");
	return 0;
}

int vblk_init(struct vblk *d, const struct vblk_hw *hw, uint32_t bdf)
{
	void *page;
	int err;

	memset(d, 0, sizeof(*d));
	d->hw = hw;
	d->bdf = bdf;
	d->spins_before_halt = VBLK_SPINS_BEFORE_HALT;
	if (identify(d))
		return -1;
	if ((err = map_regions(d)) != 0)
		return err;
	vpci_enable_function(&d->t, false);
	if (vpci_reset(&d->t))
		return fail_transport(d);
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
	vpci_status_set(&d->t, VPCI_ST_DRIVER_OK);
	d->capacity = read_capacity(d);
	read_limits(d);
	d->ready = true;
	return 0;
failed:
	vpci_status_set(&d->t, VPCI_ST_FAILED);
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
