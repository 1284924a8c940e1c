/*
 * A virtio-blk driver for a virtio 1.0 PCI device: the root partition's
 * physical disk. Both identities QEMU gives virtio-blk-pci are driven
 * through the modern interface (virtio_pci.c): 0x1042 (modern only, as
 * on PCIe or with disable-legacy=on) and the transitional 0x1001 with
 * subsystem id 2 (conventional PCI, what -drive if=virtio gives, whose
 * legacy I/O BAR we never touch); a transitional function without the
 * virtio 1.0 capabilities is refused. Portable: it reaches the hardware
 * only through struct vblk_hw (configuration space, BAR mapping, DMA
 * memory), which each image implements, so it also builds for the host.
 *
 * One split virtqueue (queue 0), one request in flight at a time. With
 * the image's MSI hooks, queue 0 interrupts through MSI-X entry 0 and the
 * driver waits for that interrupt (HLT) instead of spinning; without,
 * it polls the used ring. Data
 * goes through a DMA bounce buffer owned by the driver, so callers pass
 * ordinary pointers. The device is trusted hardware, but every index and
 * length it reports is checked before use: nothing it says can make the
 * driver index outside its own arrays.
 */
#ifndef DRIVERS_VIRTIO_BLK_H
#define DRIVERS_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtio_pci.h"         /* struct vblk_hw (pcienum.h), the vring layouts */

#define VBLK_PCI_VENDOR         VIRTIO_PCI_VENDOR
#define VBLK_PCI_DEVICE_MODERN  0x1042  /* 0x1040 + virtio device id 2 */
#define VBLK_PCI_DEVICE_TRANS   0x1001  /* transitional: -drive if=virtio */
#define VBLK_PCI_SUBSYS_BLK     2       /* the transitional block's subsystem id */
#define VBLK_SECTOR             512u
#define VBLK_QUEUE_MAX          256u    /* ring entries we use at most */
#define VBLK_BOUNCE_BYTES       (64u * 1024)
/* Bytes per device request of the _sg calls (a descriptor's length is
 * 32 bits; a request this size keeps a failure's retry short). */
#define VBLK_SG_REQUEST_MAX     (4u << 20)

struct blk_seg;

/* The request header the device reads (virtio 1.0, 5.2.6). */
struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};
_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "outhdr layout");

struct vblk {
	const struct vblk_hw *hw;
	uint32_t bdf;
	bool transitional;              /* found as 0x1001, not 0x1042 */
	struct vpci t;                  /* the virtio PCI transport */
	volatile uint16_t *notify;      /* queue 0's doorbell */
	uint16_t qsize;                 /* a power of two <= VBLK_QUEUE_MAX */
	uint16_t avail_idx;             /* next free avail->idx */
	uint16_t used_seen;             /* used->idx consumed so far */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct virtio_blk_outhdr *hdr;  /* followed by the status byte */
	volatile uint8_t *status;
	uint64_t hdr_phys;
	uint8_t *bounce;
	uint64_t bounce_phys;
	uint64_t capacity;              /* in 512-byte sectors */
	bool has_flush;
	bool ready;
	uint64_t features;              /* what we and the device agreed */
	unsigned seg_max;               /* data descriptors per request */
	uint32_t size_max;              /* bytes per descriptor, 0: no limit */
	uint64_t sg_requests;           /* device requests of the _sg calls */
	bool msix;                      /* completions interrupt us (MSI-X) */
	uint64_t irq_waits;             /* waits for a completion interrupt */
	/* With MSI-X: polls of the used ring before a request halts for
	 * its interrupt (vblk_init sets VBLK_SPINS_BEFORE_HALT; 0 always
	 * halts, as the self-test of the interrupt path does). */
	unsigned spins_before_halt;
	const char *err;                /* why the last call failed */
};

/* vblk_init's answer when a BAR lies where this image cannot map it. */
#define VBLK_ERR_UNMAPPED       (-2)

/* Find, reset and start the device at `bdf`. 0; VBLK_ERR_UNMAPPED when
 * hw->map_bar refused a region; otherwise -1. d->err says why. */
int vblk_init(struct vblk *d, const struct vblk_hw *hw, uint32_t bdf);
/* `count` sectors at `lba`, to or from `buf`. 0, or -1 with d->err set
 * (range beyond the disk, device error, timeout, bad completion). */
int vblk_read(struct vblk *d, uint64_t lba, unsigned count, void *buf);
int vblk_write(struct vblk *d, uint64_t lba, unsigned count, const void *buf);
/* The same, the data moved by the device straight to or from the
 * physical segments (their lengths add up to count sectors; any
 * alignment): no bounce copy. */
int vblk_read_sg(struct vblk *d, uint64_t lba, unsigned count, const struct blk_seg *segs,
		 unsigned nsegs);
int vblk_write_sg(struct vblk *d, uint64_t lba, unsigned count, const struct blk_seg *segs,
		  unsigned nsegs);
/* Write the device's cache to media; a no-op success when the device
 * offers no VIRTIO_BLK_F_FLUSH (it has no volatile cache then). */
int vblk_flush(struct vblk *d);
uint64_t vblk_capacity(const struct vblk *d);

/* The first virtio-blk function, modern (0x1042) or transitional
 * (0x1001 with subsystem id 2), on any bus pcienum reaches, as bdf, or
 * -1. *transitional (when not NULL) says which. */
int vblk_find(const struct vblk_hw *hw, bool *transitional);
/* The same in a table already scanned. */
int vblk_find_in(const struct pcienum *e, bool *transitional);

struct block_backend;
/* `b` becomes a block backend over the started disk `d` (requests of any
 * length, in pieces the bounce buffer holds; failures logged by `log`). */
void vblk_backend(struct vblk *d, struct block_backend *b,
		  void (*log)(const char *line));

/* Most requests complete within this many polls; a halt costs more
 * than the wait (a world switch, and under QEMU's -icount the clock
 * jumps to the next timer when every CPU halts: a 20 us request looked
 * like 1 ms). */
#define VBLK_SPINS_BEFORE_HALT  20000u

#endif
