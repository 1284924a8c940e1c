/*
 * A virtio-net driver for the root partition's physical NIC, the uplink
 * of the virtual switch. Portable: like virtio_blk.c it reaches the
 * hardware only through struct vblk_hw (configuration space, BAR
 * mapping, DMA memory), so it also builds for the host.
 *
 * Both PCI identities QEMU gives virtio-net-pci are driven through the
 * modern (virtio 1.0) interface: 0x1041 (modern only, on PCIe) and the
 * transitional 0x1000 with subsystem id 1 (conventional PCI, which also
 * has the legacy I/O BAR we never touch). A transitional function
 * without the virtio 1.0 capabilities (disable-modern=on) is refused.
 *
 * Features: VIRTIO_F_VERSION_1, and VIRTIO_NET_F_MAC and _STATUS when
 * offered; no offloads, no mergeable buffers, no control queue, one
 * queue pair. So every frame is one buffer of VNET_BUF_BYTES: the
 * 12-byte virtio_net_hdr_v1, then up to 1514 bytes of Ethernet.
 *
 * Queue 0 (receiveq) is kept full of device-writable buffers; queue 1
 * (transmitq) has one buffer per descriptor, lent to the device while a
 * frame is in flight. vnet_recv() and vnet_send() look at the used rings
 * themselves, and never wait. With the image's msi_message hook and an
 * MSI-X capability, the queues also send that MSI (receive on MSI-X
 * entry 0, transmit on entry 1) while the driver wants them to: the
 * receive queue once vnet_recv() found it empty, the transmit queue
 * while vnet_send() says busy. So a caller that got nothing (or "busy")
 * may halt until the interrupt; the image's handler only acknowledges
 * it. wait_irq is not used. Without the hook or the capability (a
 * legacy INTx-only setup) both stay polled. The device is trusted hardware, but every
 * index and length it reports is checked before use: nothing it says can
 * make the driver index outside its own arrays.
 */
#ifndef DRIVERS_VIRTIO_NET_H
#define DRIVERS_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtio_pci.h"         /* struct vblk_hw (pcienum.h), the vring layouts */

#define VNET_PCI_VENDOR         VIRTIO_PCI_VENDOR
#define VNET_PCI_DEVICE_MODERN  0x1041  /* 0x1040 + virtio device id 1 */
#define VNET_PCI_DEVICE_TRANS   0x1000  /* transitional: subsystem id says */
#define VNET_PCI_SUBSYS_NET     1       /* the transitional net's subsystem id */
#define VNET_QUEUE              128u    /* ring entries per queue at most */
#define VNET_FRAME_MIN          14u     /* Ethernet II without the FCS */
#define VNET_FRAME_MAX          1514u
#define VNET_HDR_BYTES          12u
#define VNET_BUF_BYTES          (VNET_HDR_BYTES + VNET_FRAME_MAX)       /* 1526 */
#define VNET_BUF_STRIDE         1536u   /* buffers lie this far apart */

/* The header before every frame with VIRTIO_F_VERSION_1 (virtio 1.0,
 * 5.1.6). We send it zeroed: no checksum or segmentation offload. */
struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
_Static_assert(sizeof(struct virtio_net_hdr_v1) == VNET_HDR_BYTES, "virtio_net_hdr_v1 layout");
_Static_assert(VNET_BUF_BYTES <= VNET_BUF_STRIDE, "a buffer fits its stride");
_Static_assert((VNET_QUEUE & (VNET_QUEUE - 1)) == 0, "VNET_QUEUE is a power of two");

/* One split virtqueue and the buffers behind it. Descriptor i always
 * describes buffer i (bufs + i * VNET_BUF_STRIDE); out[i] says whether
 * the device holds it now, so a used entry naming a buffer the device
 * does not hold is caught and never given back twice. */
struct vnet_queue {
	uint16_t index;                 /* 0 receiveq, 1 transmitq */
	uint16_t size;                  /* a power of two <= VNET_QUEUE */
	uint16_t avail_idx;             /* next free avail->idx */
	uint16_t used_seen;             /* used->idx consumed so far */
	unsigned nout;                  /* buffers the device holds */
	unsigned next;                  /* transmitq: where the free search starts */
	volatile uint16_t *notify;      /* this queue's doorbell */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint8_t *bufs;
	uint64_t bufs_phys;
	bool out[VNET_QUEUE];
	uint64_t kicks;                 /* doorbell writes */
	uint64_t kicks_saved;           /* skipped: the device said NO_NOTIFY */
	bool irq;                       /* the device took our MSI-X entry */
	bool armed;                     /* avail->flags asks for interrupts */
	uint64_t arms;                  /* interrupts turned back on */
	uint64_t rearm_found;           /* ... and the ring had news already */
};

struct vnet {
	const struct vblk_hw *hw;
	uint32_t bdf;
	bool transitional;              /* found as 0x1000 */
	struct vpci t;                  /* the virtio PCI transport */
	uint64_t features;              /* what we and the device agreed */
	bool has_mac;                   /* VIRTIO_NET_F_MAC: mac is the device's */
	bool has_status;                /* VIRTIO_NET_F_STATUS: link state readable */
	uint8_t mac[6];                 /* zero without VIRTIO_NET_F_MAC */
	bool msix;                      /* receive completions send the MSI */
	uint32_t msi_data;              /* the image's message data (its vector) */
	bool ready;
	struct vnet_queue rx, tx;

	uint64_t rx_frames, rx_bytes;   /* handed to vnet_recv's callers */
	uint64_t rx_errors;             /* used entries with a bad id or length */
	uint64_t rx_dropped;            /* frames longer than the caller's buffer */
	uint64_t tx_frames, tx_bytes;   /* queued for the device */
	uint64_t tx_errors;             /* used entries with a bad id */
	uint64_t tx_busy;               /* sends refused for want of a slot */
	const char *err;                /* why the last call failed */
	const char *warn;               /* vnet_init's remark (no MAC), or NULL */
};

/* vnet_init's answer when a BAR lies where this image cannot map it. */
#define VNET_ERR_UNMAPPED       (-2)

/* The first virtio-net function (modern, or transitional with subsystem
 * id 1) on any bus pcienum reaches, as bdf, or -1. */
int vnet_find(const struct vblk_hw *hw);
/* The same in a table already scanned. */
int vnet_find_in(const struct pcienum *e);

/* Reset and start the device at `bdf`, both queues set up and the
 * receive queue filled. 0 (n->warn may remark on it); VNET_ERR_UNMAPPED
 * when hw->map_bar refused a region; otherwise -1. n->err says why. */
int vnet_init(struct vnet *n, const struct vblk_hw *hw, uint32_t bdf);

/* Queue a frame of `len` bytes (VNET_FRAME_MIN..VNET_FRAME_MAX), copied,
 * so `frame` may be reused at once. 0 queued; 1 busy (every transmit
 * buffer is in flight: keep the frame and try again later, nothing was
 * dropped; with a transmit vector, the next completion interrupts); -1
 * bad length or a failed device, n->err says which. */
int vnet_send(struct vnet *n, const void *frame, size_t len);

/* The next received frame, copied into buf (the virtio header left
 * out), its buffer given back to the device. Its length, or 0 when none
 * came (with a receive vector, the next frame then interrupts). A frame
 * longer than cap is dropped (rx_dropped); a used entry
 * with a bad id or a length that cannot be a frame (under the header
 * plus VNET_FRAME_MIN, or over the buffer) is counted in rx_errors and
 * its buffer reused. cap >= VNET_FRAME_MAX takes every frame. */
size_t vnet_recv(struct vnet *n, void *buf, size_t cap);

/* VIRTIO_NET_S_LINK_UP from the device config when VIRTIO_NET_F_STATUS
 * was negotiated; true otherwise (the spec's "assume the link is up"). */
bool vnet_link_up(struct vnet *n);

#endif
