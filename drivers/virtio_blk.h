/*
 * A virtio-blk driver for a modern (virtio 1.0) PCI device: the root
 * partition's physical disk. Portable: it reaches the hardware only
 * through struct vblk_hw (configuration space, BAR mapping, DMA memory),
 * which each image implements, so it also builds for the host.
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

#define VBLK_PCI_VENDOR         0x1af4
#define VBLK_PCI_DEVICE_MODERN  0x1042  /* 0x1040 + virtio device id 2 */
#define VBLK_SECTOR             512u
#define VBLK_QUEUE_MAX          256u    /* ring entries we use at most */
#define VBLK_BOUNCE_BYTES       (64u * 1024)
/* Bytes per device request of the _sg calls (a descriptor's length is
 * 32 bits; a request this size keeps a failure's retry short). */
#define VBLK_SG_REQUEST_MAX     (4u << 20)

/* bdf = bus << 8 | device << 3 | function. */
struct vblk_hw {
	void *ctx;
	uint32_t (*pci_read32)(void *ctx, uint32_t bdf, uint32_t off);
	void (*pci_write32)(void *ctx, uint32_t bdf, uint32_t off, uint32_t v);
	/* A CPU pointer to [phys, phys+len) of device memory, or NULL. */
	void *(*map_bar)(void *ctx, uint64_t phys, uint64_t len);
	/* Zeroed, physically contiguous, page-aligned memory the device
	 * can reach at *phys; NULL when none is left. */
	void *(*dma_alloc)(void *ctx, size_t bytes, uint64_t *phys);
	/* Optional, both or neither: the MSI message (address, data) that
	 * interrupts this CPU, and a wait until an interrupt may have come
	 * (HLT with interrupts on). Without them requests are polled. */
	bool (*msi_message)(void *ctx, uint64_t *addr, uint32_t *data);
	void (*wait_irq)(void *ctx);
};

/* The split virtqueue's shared layouts (virtio 1.0, 2.4). */
struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct vring_desc) == 16, "vring_desc layout");

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};
_Static_assert(sizeof(struct vring_used_elem) == 8, "vring_used_elem layout");

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

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
	volatile uint8_t *common;       /* VIRTIO_PCI_CAP_COMMON_CFG */
	volatile uint8_t *isr;
	volatile uint8_t *devcfg;
	volatile uint8_t *notify_base;
	uint32_t notify_len, notify_mul;
	volatile uint16_t *notify;      /* queue 0's doorbell */
	uint32_t devcfg_len;
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
	uint8_t msix_cap;               /* config offset of the capability */
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

/* The first modern virtio-blk function on bus 0, as bdf, or -1. */
int vblk_find(const struct vblk_hw *hw);

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
