/*
 * virtio-net over the virtio 1.0 PCI transport (virtio_pci.c): finding
 * the function (pcienum.c: behind bridges too), the handshake, feature
 * negotiation, the receive and transmit queues, and the polled data
 * path.
 *
 * Ring protocol (virtio 1.0, 2.4), the same on both queues: the driver
 * writes a buffer's descriptor, then the avail ring entry naming it,
 * then avail->idx, which is what the device looks at (so the index goes
 * last: a compiler barrier before it, x86 keeps stores in order); then a
 * full fence, because the next step is a load: used->flags, whose
 * VRING_USED_F_NO_NOTIFY says the device is still working through the
 * ring and will see the new entry without a doorbell. The fence pairs
 * with the device's own (clear NO_NOTIFY, fence, re-read avail->idx), so
 * a frame is never left unnoticed. Otherwise the driver writes the
 * queue's index to its doorbell. The device puts {id, len} in the used
 * ring and then bumps used->idx; the driver reads used->idx once, then
 * (barrier) each element once, and checks the id against the buffers the
 * device holds and the length against the buffer before using either.
 *
 * Buffers never move between descriptors: descriptor i is buffer i.
 * Receive buffers go straight back to the device once their frame is
 * copied out; a transmit buffer is free again once its used entry is
 * seen, which vnet_send() looks for before taking one.
 *
 * Interrupts (MSI-X, when the image gave a message): a queue with a
 * vector interrupts only while the driver wants it to, by
 * VRING_AVAIL_F_NO_INTERRUPT in its avail->flags (virtio 1.0, 2.4.7; no
 * VIRTIO_F_EVENT_IDX, so the flag is the whole protocol). The receive
 * queue is quiet while frames come (the caller polls again anyway) and
 * armed when vnet_recv() finds it empty; the transmit queue is armed
 * only while every buffer is in flight, so that a free one wakes a
 * sender that was told "busy". Arming is: clear the flag, full fence
 * (the store before the load that follows), read used->idx again; an
 * entry the device wrote before it could see the flag is found by that
 * read, one written after it comes with an interrupt. So when
 * vnet_recv() returns 0 (or vnet_send() 1) an idle caller may halt: the
 * next completion wakes it. The flag is only a hint; an interrupt that
 * comes anyway finds the ring as the poll would.
 */
#include <string.h>
#include "virtio_net.h"

#define MSIX_ENTRY_RX           0
#define MSIX_ENTRY_TX           1

#define F_NET_MAC               (1ull << 5)
#define F_NET_STATUS            (1ull << 16)

/* struct virtio_net_config (virtio 1.0, 5.1.4). */
#define NETCFG_MAC              0
#define NETCFG_STATUS           6
#define NET_S_LINK_UP           1

#define VRING_DESC_F_WRITE      2
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY  1

/* Reads of the MAC while the config generation keeps changing. */
#define CFG_READ_TRIES          16

/* Ordering for the ring protocol, x86 only (TSO: stores stay in order,
 * loads stay in order, a store may pass a later load): a compiler
 * barrier where stores or loads must keep their order, a fence where a
 * store must be seen before a later load. Both build for the host. */
#define vnet_barrier()          __asm__ volatile("" ::: "memory")
#define vnet_fence()            __asm__ volatile("mfence" ::: "memory")

static int fail(struct vnet *n, const char *why)
{
	n->err = why;
	return -1;
}

/* The transport's error becomes ours. */
static int fail_transport(struct vnet *n)
{
	return fail(n, n->t.err);
}

/* ---- finding the function ----------------------------------------------- */

static const struct pci_id vnet_ids[] = {
	{ VNET_PCI_VENDOR, VNET_PCI_DEVICE_MODERN },
	{ VNET_PCI_VENDOR, VNET_PCI_DEVICE_TRANS },
};

/* 0x1000 is any transitional virtio device whose subsystem id is not
 * yet known: the subsystem id is the virtio device id. */
static bool is_vnet(uint16_t device, uint16_t subsys)
{
	return device == VNET_PCI_DEVICE_MODERN ||
	       (device == VNET_PCI_DEVICE_TRANS && subsys == VNET_PCI_SUBSYS_NET);
}

int vnet_find_in(const struct pcienum *e)
{
	for (int i = 0; (i = pcienum_find(e, vnet_ids, 2, i)) >= 0; i++)
		if (is_vnet(e->dev[i].device, e->dev[i].subsys))
			return e->dev[i].bdf;
	return -1;
}

int vnet_find(const struct vblk_hw *hw)
{
	struct pcienum e;

	pcienum_scan(&e, hw);
	return vnet_find_in(&e);
}

/* ---- the handshake ------------------------------------------------------- */

/* Common config and doorbells are required; the device config (MAC,
 * link status) is used when there, as long as it holds the field. The
 * ISR is never read: the driver polls, or takes MSI-X, which needs no
 * ISR. A transitional function without the virtio 1.0 interface is
 * legacy-only, which this driver does not speak. */
static int map_regions(struct vnet *n)
{
	int r = vpci_map(&n->t, n->hw, n->bdf, 0);

	if (r == VPCI_ERR_UNMAPPED) {
		fail_transport(n);
		return VNET_ERR_UNMAPPED;
	}
	if (r == VPCI_ERR_NO_MODERN && n->transitional)
		return fail(n, "legacy-only virtio-net (no virtio 1.0 capabilities)");
	return r ? fail_transport(n) : 0;
}

/* VERSION_1, and the two fields of the device config we read, when the
 * device offers them and its config region is long enough to hold them.
 * Nothing else: every other feature changes the frame format or adds
 * queues. */
static int negotiate(struct vnet *n)
{
	uint64_t offered = vpci_features_offered(&n->t), wanted = VIRTIO_F_VERSION_1;

	if ((offered & F_NET_MAC) && n->t.devcfg_len >= NETCFG_MAC + 6)
		wanted |= F_NET_MAC;
	if ((offered & F_NET_STATUS) && n->t.devcfg_len >= NETCFG_STATUS + 2)
		wanted |= F_NET_STATUS;
	if (vpci_features_accept(&n->t, offered, wanted))
		return fail_transport(n);
	n->features = wanted;
	n->has_mac = (wanted & F_NET_MAC) != 0;
	n->has_status = (wanted & F_NET_STATUS) != 0;
	return 0;
}

/*
 * Completions through MSI-X, when the image gave us a message to use:
 * table entry 0 for the receive queue, entry 1 for the transmit queue
 * (entry 0 too when the table has one entry), both with the image's
 * message. The number of entries written (0: none, the driver polls);
 * each queue then asks for its entry and reads back what the device
 * accepted (queue_setup).
 */
static unsigned msix_setup(struct vnet *n)
{
	const struct vblk_hw *hw = n->hw;
	uint32_t data;
	uint64_t addr;
	unsigned entries;

	if (!hw->msi_message || !n->t.msix_cap || !hw->msi_message(hw->ctx, &addr, &data))
		return 0;
	entries = vpci_msix_enable(&n->t, 2, addr, data);
	if (entries)
		n->msi_data = data;
	return entries;
}

/* Queue `index`: up to VNET_QUEUE entries (a power of two no larger than
 * the device's), its ring from the transport and its buffers in one more
 * DMA allocation. The queue asks for MSI-X table entry `entry` (or
 * VPCI_NO_VECTOR: no interrupts at all) and has a vector when the device
 * kept it. A receive queue with one starts armed (it is empty: the first
 * frame interrupts), any other quiet. */
static int queue_setup(struct vnet *n, struct vnet_queue *q, uint16_t index, uint16_t entry)
{
	const struct vblk_hw *hw = n->hw;
	unsigned size = vpci_queue_fit(vpci_queue_select(&n->t, index), VNET_QUEUE);
	struct vpci_vq vq;

	if (size < 2)
		return fail(n, index ? "transmitq has fewer than 2 entries"
				     : "receiveq has fewer than 2 entries");
	if (vpci_queue_setup(&n->t, &vq, index, size))
		return fail_transport(n);
	q->bufs = hw->dma_alloc(hw->ctx, (size_t)size * VNET_BUF_STRIDE, &q->bufs_phys);
	if (!q->bufs)
		return fail(n, "no memory for a virtqueue's buffers");
	q->index = index;
	q->size = vq.size;
	q->notify = vq.notify;
	q->desc = vq.desc;
	q->avail = vq.avail;
	q->used = vq.used;
	q->irq = entry != VPCI_NO_VECTOR && vpci_queue_vector(&n->t, entry) == entry;
	q->armed = q->irq && index == 0;
	q->avail->flags = q->armed ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
	vnet_barrier();         /* the ring's flags before the device may look */
	vpci_queue_enable(&n->t);
	return 0;
}

/* The MAC, read until config_generation is stable so the six bytes
 * belong together (virtio 1.0, 4.1.4.3.1); a device whose generation
 * never settles gets the last reading. */
static void read_mac(struct vnet *n)
{
	for (unsigned t = 0; t < CFG_READ_TRIES; t++) {
		uint8_t gen = vpci_config_generation(&n->t);

		for (unsigned i = 0; i < 6; i++)
			n->mac[i] = vpci_rd8(n->t.devcfg, NETCFG_MAC + i);
		if (gen == vpci_config_generation(&n->t))
			return;
	}
}

/* ---- the rings ----------------------------------------------------------- */

/* Buffer `id` to the device with `len` bytes (device-writable with
 * VRING_DESC_F_WRITE): its descriptor and an avail entry, not yet
 * published. The caller checked that the device does not hold it. */
static void give(struct vnet_queue *q, uint16_t id, uint32_t len, uint16_t flags)
{
	q->desc[id].addr = q->bufs_phys + (uint64_t)id * VNET_BUF_STRIDE;
	q->desc[id].len = len;
	q->desc[id].flags = flags;
	q->desc[id].next = 0;
	q->avail->ring[q->avail_idx & (q->size - 1)] = id;
	q->avail_idx++;
	q->out[id] = true;
	q->nout++;
}

/* The entries given so far become visible: descriptors and ring entries
 * before the index. */
static void publish(struct vnet_queue *q)
{
	vnet_barrier();
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
}

/* The doorbell, unless the device said it is looking anyway. The fence
 * puts the published index before the read of used->flags. */
static void kick(struct vnet_queue *q)
{
	vnet_fence();
	if (*(volatile uint16_t *)&q->used->flags & VRING_USED_F_NO_NOTIFY) {
		q->kicks_saved++;
		return;
	}
	*q->notify = q->index;
	q->kicks++;
}

/* The device's used->idx, or -1 when it claims more completions than it
 * holds buffers: then nothing in the ring can be trusted and the device
 * is given up. */
static int used_pending(struct vnet *n, struct vnet_queue *q, uint16_t *used_idx)
{
	*used_idx = *(volatile uint16_t *)&q->used->idx;
	if ((uint16_t)(*used_idx - q->used_seen) > q->nout) {
		n->ready = false;
		vpci_status_set(&n->t, VPCI_ST_FAILED);
		return fail(n, "device's used index ran ahead of the buffers it holds");
	}
	vnet_barrier();         /* the elements only after the index covering them */
	return 0;
}

/* The next used element, each field read once, and whether its id names
 * a buffer the device holds (which it then no longer does). */
static bool used_take(struct vnet_queue *q, struct vring_used_elem *e)
{
	volatile struct vring_used_elem *u = &q->used->ring[q->used_seen & (q->size - 1)];

	e->id = u->id;
	e->len = u->len;
	q->used_seen++;
	if (e->id >= q->size || !q->out[e->id])
		return false;
	q->out[e->id] = false;
	q->nout--;
	return true;
}

/* ---- interrupt suppression ------------------------------------------------- */

/* The queue's interrupts on again: true when the device completed
 * something meanwhile (look at the ring once more before going idle).
 * The fence puts the flag's store before the used->idx load: the
 * device either saw the flag clear or wrote the entry we now read. */
static bool irq_arm(struct vnet_queue *q)
{
	if (!q->irq || q->armed)
		return false;
	*(volatile uint16_t *)&q->avail->flags = 0;
	q->armed = true;
	q->arms++;
	vnet_fence();
	return *(volatile uint16_t *)&q->used->idx != q->used_seen;
}

/* Interrupts off while the caller is busy with the queue anyway. */
static void irq_quiet(struct vnet_queue *q)
{
	if (!q->armed)
		return;
	*(volatile uint16_t *)&q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	q->armed = false;
}

/* ---- the data path ------------------------------------------------------- */

/* The next good frame among the used entries, or 0. */
static size_t rx_take(struct vnet *n, void *buf, size_t cap)
{
	struct vnet_queue *q = &n->rx;
	struct vring_used_elem e;
	uint16_t used_idx;
	size_t got = 0;
	bool gave = false;

	if (used_pending(n, q, &used_idx)) {
		n->rx_errors++;
		return 0;
	}
	while (q->used_seen != used_idx && !got) {
		if (!used_take(q, &e)) {
			n->rx_errors++;         /* no buffer of ours to give back */
			continue;
		}
		if (e.len < VNET_HDR_BYTES + VNET_FRAME_MIN || e.len > VNET_BUF_BYTES) {
			n->rx_errors++;
		} else if (e.len - VNET_HDR_BYTES > cap) {
			n->rx_dropped++;
		} else {
			got = e.len - VNET_HDR_BYTES;
			memcpy(buf, q->bufs + (size_t)e.id * VNET_BUF_STRIDE + VNET_HDR_BYTES, got);
			n->rx_frames++;
			n->rx_bytes += got;
		}
		give(q, (uint16_t)e.id, VNET_BUF_BYTES, VRING_DESC_F_WRITE);
		gave = true;
	}
	if (gave) {
		publish(q);
		kick(q);
	}
	return got;
}

/* Frames in: quiet while they come, armed once the ring is empty (and
 * looked at again after arming, see the file comment). */
size_t vnet_recv(struct vnet *n, void *buf, size_t cap)
{
	size_t got;

	if (!n->ready)
		return 0;
	got = rx_take(n, buf, cap);
	if (!got && irq_arm(&n->rx)) {
		n->rx.rearm_found++;
		got = rx_take(n, buf, cap);
	}
	if (got)
		irq_quiet(&n->rx);
	return got;
}

/* Transmit buffers whose frames the device has sent become free. */
static int tx_reclaim(struct vnet *n)
{
	struct vnet_queue *q = &n->tx;
	struct vring_used_elem e;
	uint16_t used_idx;

	if (used_pending(n, q, &used_idx)) {
		n->tx_errors++;
		return -1;
	}
	while (q->used_seen != used_idx)
		if (!used_take(q, &e))
			n->tx_errors++;
	return 0;
}

int vnet_send(struct vnet *n, const void *frame, size_t len)
{
	struct vnet_queue *q = &n->tx;
	unsigned id = q->next;
	uint8_t *b;

	if (!n->ready)
		return fail(n, "device not initialized or failed");
	if (len < VNET_FRAME_MIN || len > VNET_FRAME_MAX)
		return fail(n, "frame length outside 14..1514 bytes");
	if (tx_reclaim(n))
		return -1;
	/* Full: the transmit interrupt armed, so a completion wakes the
	 * caller we tell "busy"; one that came meanwhile is reclaimed. */
	if (q->nout >= q->size && irq_arm(q)) {
		q->rearm_found++;
		if (tx_reclaim(n))
			return -1;
	}
	if (q->nout >= q->size) {
		n->tx_busy++;
		return 1;
	}
	irq_quiet(q);
	while (q->out[id])                      /* one is free: nout < size */
		id = (id + 1) & (q->size - 1u);
	q->next = (id + 1) & (q->size - 1u);
	b = q->bufs + (size_t)id * VNET_BUF_STRIDE;
	memset(b, 0, VNET_HDR_BYTES);
	memcpy(b + VNET_HDR_BYTES, frame, len);
	give(q, (uint16_t)id, (uint32_t)(VNET_HDR_BYTES + len), 0);
	publish(q);
	kick(q);
	n->tx_frames++;
	n->tx_bytes += len;
	return 0;
}

bool vnet_link_up(struct vnet *n)
{
	if (!n->ready)
		return false;
	if (!n->has_status)
		return true;
	return (vpci_rd16(n->t.devcfg, NETCFG_STATUS) & NET_S_LINK_UP) != 0;
}

/* ---- start-up ------------------------------------------------------------ */

static int identify(struct vnet *n)
{
	uint32_t id = n->hw->pci_read32(n->hw->ctx, n->bdf, PCI_CFG_ID);
	uint32_t sub = n->hw->pci_read32(n->hw->ctx, n->bdf, PCI_CFG_SUBSYSTEM);

	if ((id & 0xffff) != VNET_PCI_VENDOR || !is_vnet((uint16_t)(id >> 16), (uint16_t)(sub >> 16)))
		return fail(n, "not a virtio-net device");
	n->transitional = id >> 16 == VNET_PCI_DEVICE_TRANS;
	return 0;
}

/* Every receive buffer to the device, published but not yet rung: the
 * doorbell waits for DRIVER_OK (virtio 1.0, 3.1.1). */
static void rx_fill(struct vnet *n)
{
	for (unsigned i = 0; i < n->rx.size; i++)
		give(&n->rx, (uint16_t)i, VNET_BUF_BYTES, VRING_DESC_F_WRITE);
	publish(&n->rx);
}

int vnet_init(struct vnet *n, const struct vblk_hw *hw, uint32_t bdf)
{
	unsigned entries;
	int err;

	memset(n, 0, sizeof(*n));
	n->hw = hw;
	n->bdf = bdf;
	if (identify(n))
		return -1;
	if ((err = map_regions(n)) != 0)
		return err;
	/* Polled, or MSI-X: the INTx line is never wanted. */
	vpci_enable_function(&n->t, true);
	if (vpci_reset(&n->t))
		return fail_transport(n);
	if (negotiate(n))
		goto failed;
	if (vpci_num_queues(&n->t) < 2) {
		fail(n, "device has fewer than 2 queues");
		goto failed;
	}
	entries = msix_setup(n);
	if (queue_setup(n, &n->rx, 0, entries ? MSIX_ENTRY_RX : VPCI_NO_VECTOR) ||
	    queue_setup(n, &n->tx, 1, entries > 1 ? MSIX_ENTRY_TX :
				      entries ? MSIX_ENTRY_RX : VPCI_NO_VECTOR))
		goto failed;
	n->msix = n->rx.irq;
	if (n->has_mac)
		read_mac(n);
	else
		n->warn = "device offers no MAC address (VIRTIO_NET_F_MAC): using 00:00:00:00:00:00";
	rx_fill(n);
	vpci_status_set(&n->t, VPCI_ST_DRIVER_OK);
	if (vpci_status(&n->t) & VPCI_ST_NEEDS_RESET) {
		fail(n, "device needs a reset right after DRIVER_OK");
		goto failed;
	}
	n->ready = true;
	kick(&n->rx);
	return 0;
failed:
	vpci_status_set(&n->t, VPCI_ST_FAILED);
	return -1;
}
