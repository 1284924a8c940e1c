/*
 * virtio-net over modern virtio PCI (virtio 1.0): finding the function
 * (behind PCI-to-PCI bridges too), the capability walk, the status
 * handshake, feature negotiation, the receive and transmit queues, and
 * the polled data path.
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

/* PCI configuration space. */
#define CFG_COMMAND             0x04
#define CFG_STATUS_CAPLIST      (1u << (16 + 4))        /* in dword 0x04 */
#define CFG_HEADER              0x0c    /* header type in bits 23:16 */
#define CFG_BAR0                0x10
#define CFG_BRIDGE_BUSES        0x18    /* type 1: secondary bus in bits 15:8 */
#define CFG_SUBSYSTEM           0x2c    /* subsystem id in bits 31:16 */
#define CFG_CAP_PTR             0x34
#define CMD_MEMORY              (1u << 1)
#define CMD_BUS_MASTER          (1u << 2)
#define CMD_INTX_DISABLE        (1u << 10)
#define HDR_MULTIFUNCTION       0x80
#define HDR_TYPE_BRIDGE         0x01
#define CAP_ID_VENDOR           0x09
#define CAP_ID_MSIX             0x11
#define MSIX_CTRL_ENABLE        (1u << 15)
#define MSIX_CTRL_MASKALL       (1u << 14)
#define MSIX_CTRL_SIZE          0x7ffu  /* table entries - 1 */
#define MSIX_ENTRY_BYTES        16u
#define MSIX_ENTRY_RX           0
#define MSIX_ENTRY_TX           1
#define MSIX_NO_VECTOR          0xffff
#define CAP_WALK_MAX            48
#define FIND_BUSES              32      /* buses vnet_find scans at most */

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
#define ST_NEEDS_RESET          0x40
#define ST_FAILED               0x80

#define F_NET_MAC               (1ull << 5)
#define F_NET_STATUS            (1ull << 16)
#define F_VERSION_1             (1ull << 32)

/* struct virtio_net_config (virtio 1.0, 5.1.4). */
#define NETCFG_MAC              0
#define NETCFG_STATUS           6
#define NET_S_LINK_UP           1

#define VRING_DESC_F_WRITE      2
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY  1

/* Spins waiting for the reset to finish; reads of the MAC while the
 * config generation keeps changing. */
#define RESET_SPINS             (1u << 24)
#define CFG_READ_TRIES          16

/* Ordering for the ring protocol, x86 only (TSO: stores stay in order,
 * loads stay in order, a store may pass a later load): a compiler
 * barrier where stores or loads must keep their order, a fence where a
 * store must be seen before a later load. Both build for the host. */
#define vnet_barrier()          __asm__ volatile("" ::: "memory")
#define vnet_fence()            __asm__ volatile("mfence" ::: "memory")

struct cap_region {
	bool found;
	uint8_t bar;
	uint32_t offset, length;
	uint32_t notify_mul;
};

static int fail(struct vnet *n, const char *why)
{
	n->err = why;
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

/* 64-bit fields of the common config as two dwords, low first (4.1.3.1). */
static void wr64(volatile uint8_t *base, unsigned off, uint64_t v)
{
	wr32(base, off, (uint32_t)v);
	wr32(base, off + 4, (uint32_t)(v >> 32));
}

static uint32_t cfg_read32(struct vnet *n, uint32_t off)
{
	return n->hw->pci_read32(n->hw->ctx, n->bdf, off);
}

static uint8_t cfg_read8(struct vnet *n, uint32_t off)
{
	return (uint8_t)(cfg_read32(n, off & ~3u) >> (8 * (off & 3)));
}

/* ---- finding the function ----------------------------------------------- */

static bool is_vnet(const struct vblk_hw *hw, uint32_t bdf, uint32_t id)
{
	if ((id & 0xffff) != VBLK_PCI_VENDOR)
		return false;
	if (id >> 16 == VNET_PCI_DEVICE_MODERN)
		return true;
	/* 0x1000 is any transitional virtio device whose subsystem id is
	 * not yet known: the subsystem id is the virtio device id. */
	return id >> 16 == VNET_PCI_DEVICE_TRANS &&
	       hw->pci_read32(hw->ctx, bdf, CFG_SUBSYSTEM) >> 16 == VNET_PCI_SUBSYS_NET;
}

/*
 * Buses in the order found: bus 0, then the secondary bus of each
 * bridge as its bridge is seen. Each bus is scanned once (a bridge
 * naming a bus already queued, or bus 0, adds nothing), at most
 * FIND_BUSES of them, so a miswired topology cannot loop.
 */
int vnet_find(const struct vblk_hw *hw)
{
	uint8_t queue[FIND_BUSES];
	uint32_t queued[256 / 32] = { 1 };      /* bus 0 */
	unsigned head = 0, tail = 1;

	queue[0] = 0;
	while (head < tail) {
		uint32_t bus = queue[head++];

		for (uint32_t dev = 0; dev < 32; dev++) {
			unsigned nfn = 1;

			for (uint32_t fn = 0; fn < nfn; fn++) {
				uint32_t bdf = bus << 8 | dev << 3 | fn;
				uint32_t id = hw->pci_read32(hw->ctx, bdf, 0), hdr, sec;

				if ((id & 0xffff) == 0xffff)
					continue;
				if (is_vnet(hw, bdf, id))
					return (int)bdf;
				hdr = (hw->pci_read32(hw->ctx, bdf, CFG_HEADER) >> 16) & 0xff;
				if (fn == 0 && (hdr & HDR_MULTIFUNCTION))
					nfn = 8;
				if ((hdr & 0x7f) != HDR_TYPE_BRIDGE)
					continue;
				sec = (hw->pci_read32(hw->ctx, bdf, CFG_BRIDGE_BUSES) >> 8) & 0xff;
				if ((queued[sec / 32] >> (sec % 32)) & 1 || tail == FIND_BUSES)
					continue;
				queued[sec / 32] |= 1u << (sec % 32);
				queue[tail++] = (uint8_t)sec;
			}
		}
	}
	return -1;
}

/* ---- capabilities and regions ------------------------------------------- */

/* Record the first capability of each type: a device may list several,
 * in order of preference (virtio 1.0, 4.1.4). */
static void cap_parse(struct vnet *n, uint8_t ptr, struct cap_region caps[5])
{
	uint8_t len = cfg_read8(n, ptr + 2u);
	uint8_t type = cfg_read8(n, ptr + 3u);
	uint8_t bar = cfg_read8(n, ptr + 4u);

	if (type < VIRTIO_PCI_CAP_COMMON || type > VIRTIO_PCI_CAP_DEVICE ||
	    caps[type].found || len < 16 || bar > 5)
		return;
	if (type == VIRTIO_PCI_CAP_NOTIFY && (len < 20 || ptr + 20u > 0x100))
		return;
	caps[type].bar = bar;
	caps[type].offset = cfg_read32(n, ptr + 8u);
	caps[type].length = cfg_read32(n, ptr + 12u);
	if (type == VIRTIO_PCI_CAP_NOTIFY)
		caps[type].notify_mul = cfg_read32(n, ptr + 16u);
	caps[type].found = true;
}

/* The virtio 1.0 interface is there, or why not: a transitional device
 * that lacks it is legacy-only, which this driver does not speak. */
static int caps_check(struct vnet *n, const struct cap_region caps[5])
{
	if (!caps[VIRTIO_PCI_CAP_COMMON].found && n->transitional)
		return fail(n, "legacy-only virtio-net (no virtio 1.0 capabilities)");
	if (!caps[VIRTIO_PCI_CAP_COMMON].found || !caps[VIRTIO_PCI_CAP_NOTIFY].found)
		return fail(n, "a virtio capability (common or notify) is missing");
	return 0;
}

/* Walk the capability list: pointers must stay in 0x40..0xfc (dword
 * aligned, as PCI requires) and the walk ends after CAP_WALK_MAX entries,
 * so a looping list cannot hang us. */
static int caps_find(struct vnet *n, struct cap_region caps[5])
{
	uint8_t ptr;

	if (!(cfg_read32(n, CFG_COMMAND) & CFG_STATUS_CAPLIST))
		return n->transitional ? caps_check(n, caps) : fail(n, "no PCI capability list");
	ptr = cfg_read8(n, CFG_CAP_PTR);
	for (unsigned i = 0; ptr && i < CAP_WALK_MAX; i++) {
		uint8_t id;

		ptr &= 0xfc;
		if (ptr < 0x40)
			return fail(n, "capability pointer below 0x40");
		id = cfg_read8(n, ptr);
		if (id == CAP_ID_VENDOR)
			cap_parse(n, ptr, caps);
		else if (id == CAP_ID_MSIX && !n->msix_cap)
			n->msix_cap = ptr;
		ptr = cfg_read8(n, ptr + 1u);
	}
	return caps_check(n, caps);
}

/* The region a capability describes, mapped; NULL when the BAR is I/O
 * space, unassigned, or the image cannot reach it. */
static volatile uint8_t *region_map(struct vnet *n, const struct cap_region *c)
{
	uint32_t off = CFG_BAR0 + 4u * c->bar;
	uint32_t lo = cfg_read32(n, off);
	uint64_t base;

	if (lo & 1)
		return NULL;                    /* I/O BAR */
	base = lo & ~0xfull;
	if (((lo >> 1) & 3) == 2) {             /* 64-bit: the next BAR is high */
		if (c->bar == 5)
			return NULL;
		base |= (uint64_t)cfg_read32(n, off + 4) << 32;
	}
	if (!base || base + c->offset < base)
		return NULL;
	return n->hw->map_bar(n->hw->ctx, base + c->offset, c->length);
}

/* Common config and doorbells are required; the device config (MAC,
 * link status) is used when there, as long as it holds the field. The
 * ISR is never read: the driver polls, or takes MSI-X, which needs no
 * ISR. */
static int map_regions(struct vnet *n)
{
	struct cap_region caps[5];
	const struct cap_region *nt = &caps[VIRTIO_PCI_CAP_NOTIFY];
	const struct cap_region *dc = &caps[VIRTIO_PCI_CAP_DEVICE];

	memset(caps, 0, sizeof(caps));
	if (caps_find(n, caps))
		return -1;
	if (caps[VIRTIO_PCI_CAP_COMMON].length < COM_LEN || nt->length < 2)
		return fail(n, "a virtio capability region is too short");
	n->common = region_map(n, &caps[VIRTIO_PCI_CAP_COMMON]);
	n->notify_base = region_map(n, nt);
	if (dc->found && dc->length) {
		n->devcfg = region_map(n, dc);
		n->devcfg_len = n->devcfg ? dc->length : 0;
	}
	if (!n->common || !n->notify_base || (dc->found && dc->length && !n->devcfg)) {
		fail(n, "a virtio BAR is unassigned, I/O space or cannot be mapped");
		return VNET_ERR_UNMAPPED;
	}
	n->notify_len = nt->length;
	n->notify_mul = nt->notify_mul;
	return 0;
}

/* ---- the handshake ------------------------------------------------------- */

static void status_set(struct vnet *n, uint8_t bits)
{
	wr8(n->common, COM_STATUS, rd8(n->common, COM_STATUS) | bits);
}

/* VERSION_1, and the two fields of the device config we read, when the
 * device offers them and its config region is long enough to hold them.
 * Nothing else: every other feature changes the frame format or adds
 * queues. */
static int negotiate(struct vnet *n)
{
	uint64_t offered, wanted = F_VERSION_1;

	wr32(n->common, COM_DFSELECT, 0);
	offered = rd32(n->common, COM_DF);
	wr32(n->common, COM_DFSELECT, 1);
	offered |= (uint64_t)rd32(n->common, COM_DF) << 32;
	if (!(offered & F_VERSION_1))
		return fail(n, "device does not offer VIRTIO_F_VERSION_1");
	if ((offered & F_NET_MAC) && n->devcfg_len >= NETCFG_MAC + 6)
		wanted |= F_NET_MAC;
	if ((offered & F_NET_STATUS) && n->devcfg_len >= NETCFG_STATUS + 2)
		wanted |= F_NET_STATUS;
	wr32(n->common, COM_GFSELECT, 0);
	wr32(n->common, COM_GF, (uint32_t)wanted);
	wr32(n->common, COM_GFSELECT, 1);
	wr32(n->common, COM_GF, (uint32_t)(wanted >> 32));
	status_set(n, ST_FEATURES_OK);
	if (!(rd8(n->common, COM_STATUS) & ST_FEATURES_OK))
		return fail(n, "device refused our features (FEATURES_OK clear)");
	n->features = wanted;
	n->has_mac = (wanted & F_NET_MAC) != 0;
	n->has_status = (wanted & F_NET_STATUS) != 0;
	return 0;
}

/* MSI-X table entry `i` sends the image's message, unmasked. */
static void msix_entry(volatile uint8_t *table, unsigned i, uint64_t addr, uint32_t data)
{
	volatile uint8_t *e = table + i * MSIX_ENTRY_BYTES;

	wr32(e, 0, (uint32_t)addr);
	wr32(e, 4, (uint32_t)(addr >> 32));
	wr32(e, 8, data);
	wr32(e, 12, 0);                         /* vector control: unmasked */
}

/*
 * Completions through MSI-X, when the image gave us a message to use:
 * table entry 0 for the receive queue, entry 1 for the transmit queue
 * (entry 0 too when the table has one entry), both with the image's
 * message; the function masked while they are written, configuration
 * changes on no vector. The number of entries written (0: none, the
 * driver polls); each queue then asks for its entry and reads back what
 * the device accepted (queue_setup).
 */
static unsigned msix_setup(struct vnet *n)
{
	const struct vblk_hw *hw = n->hw;
	struct cap_region table = { true, 0, 0, 0, 0 };
	volatile uint8_t *entry;
	uint32_t dw0, tbl, data;
	unsigned entries;
	uint64_t addr;

	if (!hw->msi_message || !n->msix_cap || !hw->msi_message(hw->ctx, &addr, &data))
		return 0;
	dw0 = cfg_read32(n, n->msix_cap);
	tbl = cfg_read32(n, n->msix_cap + 4u);
	entries = ((dw0 >> 16) & MSIX_CTRL_SIZE) ? 2 : 1;
	table.bar = tbl & 7;
	table.offset = tbl & ~7u;
	table.length = entries * MSIX_ENTRY_BYTES;
	if (table.bar > 5 || !(entry = region_map(n, &table)))
		return 0;
	hw->pci_write32(hw->ctx, n->bdf, n->msix_cap,
			dw0 | (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) << 16);
	for (unsigned i = 0; i < entries; i++)
		msix_entry(entry, i, addr, data);
	hw->pci_write32(hw->ctx, n->bdf, n->msix_cap,
			(dw0 & ~(MSIX_CTRL_MASKALL << 16)) | MSIX_CTRL_ENABLE << 16);
	wr16(n->common, COM_MSIX_CONFIG, MSIX_NO_VECTOR);
	n->msi_data = data;
	return entries;
}

/* Queue `index`: up to VNET_QUEUE entries (a power of two no larger than
 * the device's), descriptors at 0, the avail ring after them, the used
 * ring at the next 4-byte boundary, in one zeroed DMA allocation, and
 * the queue's buffers in another. The queue asks for MSI-X table entry
 * `entry` (or MSIX_NO_VECTOR: no interrupts at all) and has a vector
 * when the device kept it. A receive queue with one starts armed (it is
 * empty: the first frame interrupts), any other quiet. */
static int queue_setup(struct vnet *n, struct vnet_queue *q, uint16_t index, uint16_t entry)
{
	const struct vblk_hw *hw = n->hw;
	uint16_t dev_size;
	unsigned size = VNET_QUEUE;
	size_t avail_off, used_off, bytes;
	uint64_t ring_phys, doorbell;
	uint8_t *ring;

	wr16(n->common, COM_Q_SELECT, index);
	dev_size = rd16(n->common, COM_Q_SIZE);
	while (size > dev_size)                 /* stay a power of two */
		size >>= 1;
	if (size < 2)
		return fail(n, index ? "transmitq has fewer than 2 entries"
				     : "receiveq has fewer than 2 entries");
	doorbell = (uint64_t)rd16(n->common, COM_Q_NOFF) * n->notify_mul;
	if (doorbell + 2 > n->notify_len)
		return fail(n, "a queue's notify offset lies outside the notify region");

	avail_off = 16u * size;
	used_off = (avail_off + 6 + 2u * size + 3) & ~(size_t)3;
	bytes = used_off + 6 + 8u * size;
	ring = hw->dma_alloc(hw->ctx, bytes, &ring_phys);
	q->bufs = hw->dma_alloc(hw->ctx, (size_t)size * VNET_BUF_STRIDE, &q->bufs_phys);
	if (!ring || !q->bufs)
		return fail(n, "no memory for a virtqueue and its buffers");
	q->index = index;
	q->size = (uint16_t)size;
	q->notify = (volatile uint16_t *)(n->notify_base + doorbell);
	q->desc = (struct vring_desc *)ring;
	q->avail = (struct vring_avail *)(ring + avail_off);
	q->used = (struct vring_used *)(ring + used_off);
	wr16(n->common, COM_Q_SIZE, (uint16_t)size);
	wr64(n->common, COM_Q_DESC, ring_phys);
	wr64(n->common, COM_Q_AVAIL, ring_phys + avail_off);
	wr64(n->common, COM_Q_USED, ring_phys + used_off);
	wr16(n->common, COM_Q_MSIX, entry);
	q->irq = entry != MSIX_NO_VECTOR && rd16(n->common, COM_Q_MSIX) == entry;
	q->armed = q->irq && index == 0;
	q->avail->flags = q->armed ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
	vnet_barrier();         /* the ring's flags before the device may look */
	wr16(n->common, COM_Q_ENABLE, 1);
	return 0;
}

/* The MAC, read until config_generation is stable so the six bytes
 * belong together (virtio 1.0, 4.1.4.3.1); a device whose generation
 * never settles gets the last reading. */
static void read_mac(struct vnet *n)
{
	for (unsigned t = 0; t < CFG_READ_TRIES; t++) {
		uint8_t gen = rd8(n->common, COM_CFGGEN);

		for (unsigned i = 0; i < 6; i++)
			n->mac[i] = rd8(n->devcfg, NETCFG_MAC + i);
		if (gen == rd8(n->common, COM_CFGGEN))
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
		status_set(n, ST_FAILED);
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
	return (rd16(n->devcfg, NETCFG_STATUS) & NET_S_LINK_UP) != 0;
}

/* ---- start-up ------------------------------------------------------------ */

static int identify(struct vnet *n)
{
	uint32_t id = cfg_read32(n, 0);

	if ((id & 0xffff) == VBLK_PCI_VENDOR && id >> 16 == VNET_PCI_DEVICE_MODERN)
		return 0;
	if ((id & 0xffff) == VBLK_PCI_VENDOR && id >> 16 == VNET_PCI_DEVICE_TRANS &&
	    cfg_read32(n, CFG_SUBSYSTEM) >> 16 == VNET_PCI_SUBSYS_NET) {
		n->transitional = true;
		return 0;
	}
	return fail(n, "not a virtio-net device");
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
	unsigned spins = 0;
	uint32_t cmd;
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
	cmd = cfg_read32(n, CFG_COMMAND) & 0xffff;
	hw->pci_write32(hw->ctx, bdf, CFG_COMMAND,
			cmd | CMD_MEMORY | CMD_BUS_MASTER | CMD_INTX_DISABLE);

	/* Reset, and wait for the device to say it is done (4.1.4.3.2). */
	wr8(n->common, COM_STATUS, 0);
	while (rd8(n->common, COM_STATUS) != 0)
		if (++spins == RESET_SPINS)
			return fail(n, "device never finished its reset");
	status_set(n, ST_ACKNOWLEDGE);
	status_set(n, ST_DRIVER);
	if (negotiate(n))
		goto failed;
	if (rd16(n->common, COM_NUM_QUEUES) < 2) {
		fail(n, "device has fewer than 2 queues");
		goto failed;
	}
	entries = msix_setup(n);
	if (queue_setup(n, &n->rx, 0, entries ? MSIX_ENTRY_RX : MSIX_NO_VECTOR) ||
	    queue_setup(n, &n->tx, 1, entries > 1 ? MSIX_ENTRY_TX :
				      entries ? MSIX_ENTRY_RX : MSIX_NO_VECTOR))
		goto failed;
	n->msix = n->rx.irq;
	if (n->has_mac)
		read_mac(n);
	else
		n->warn = "device offers no MAC address (VIRTIO_NET_F_MAC): using 00:00:00:00:00:00";
	rx_fill(n);
	status_set(n, ST_DRIVER_OK);
	if (rd8(n->common, COM_STATUS) & ST_NEEDS_RESET) {
		fail(n, "device needs a reset right after DRIVER_OK");
		goto failed;
	}
	n->ready = true;
	kick(&n->rx);
	return 0;
failed:
	status_set(n, ST_FAILED);
	return -1;
}
