/*
 * The virtio 1.0 PCI transport the virtio drivers share (virtio_blk.c,
 * virtio_net.c): the vendor capability walk and the regions it names,
 * the device status handshake, feature negotiation, a split virtqueue's
 * memory and registers, and MSI-X table set-up. Only the modern
 * interface: a transitional function is driven through its virtio 1.0
 * capabilities, never its legacy I/O BAR.
 *
 * Portable like the drivers: the hardware is reached through struct
 * vblk_hw. The device is trusted hardware, but nothing it reports (a
 * capability pointer, a region's length, a queue's notify offset) can
 * make the transport read or write outside what it mapped.
 */
#ifndef DRIVERS_VIRTIO_PCI_H
#define DRIVERS_VIRTIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pcienum.h"

#define VIRTIO_PCI_VENDOR       0x1af4
/* Transitional functions: 0x1000 + virtio device id - 1, the subsystem
 * id naming the device; modern ones 0x1040 + virtio device id. */
#define VIRTIO_PCI_DEVICE_MODERN(id)    (0x1040 + (id))

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

/* Device status bits (virtio 1.0, 2.1). */
#define VPCI_ST_ACKNOWLEDGE     1
#define VPCI_ST_DRIVER          2
#define VPCI_ST_DRIVER_OK       4
#define VPCI_ST_FEATURES_OK     8
#define VPCI_ST_NEEDS_RESET     0x40
#define VPCI_ST_FAILED          0x80

#define VIRTIO_F_VERSION_1      (1ull << 32)
#define VPCI_NO_VECTOR          0xffff

/* virtio_pci_cap.cfg_type: vpci_map's `need` is a mask of 1 << type. */
#define VIRTIO_PCI_CAP_COMMON   1
#define VIRTIO_PCI_CAP_NOTIFY   2
#define VIRTIO_PCI_CAP_ISR      3
#define VIRTIO_PCI_CAP_DEVICE   4
#define VPCI_NEED(type)         (1u << (type))

/* vpci_map's answers besides 0. */
#define VPCI_ERR                (-1)
#define VPCI_ERR_UNMAPPED       (-2)    /* a region's BAR cannot be mapped */
#define VPCI_ERR_NO_MODERN      (-3)    /* no capability list or no common config */

struct vpci {
	const struct vblk_hw *hw;
	uint32_t bdf;
	volatile uint8_t *common;       /* VIRTIO_PCI_CAP_COMMON_CFG */
	volatile uint8_t *isr;          /* NULL unless needed */
	volatile uint8_t *devcfg;       /* NULL when the device has none */
	volatile uint8_t *notify_base;
	uint32_t devcfg_len, notify_len, notify_mul;
	uint8_t msix_cap;               /* config offset of MSI-X, 0: none */
	const char *err;                /* why the last call failed */
};

/* One queue's ring memory and doorbell (vpci_queue_setup). */
struct vpci_vq {
	uint16_t index;
	uint16_t size;                  /* a power of two */
	volatile uint16_t *notify;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/* Device registers, each access exactly as wide as the field. */
static inline uint8_t vpci_rd8(volatile uint8_t *base, unsigned off)
{
	return *(volatile uint8_t *)(base + off);
}

static inline uint16_t vpci_rd16(volatile uint8_t *base, unsigned off)
{
	return *(volatile uint16_t *)(base + off);
}

static inline uint32_t vpci_rd32(volatile uint8_t *base, unsigned off)
{
	return *(volatile uint32_t *)(base + off);
}

static inline void vpci_wr16(volatile uint8_t *base, unsigned off, uint16_t v)
{
	*(volatile uint16_t *)(base + off) = v;
}

static inline void vpci_wr32(volatile uint8_t *base, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(base + off) = v;
}

/* Walk the capability list of the function at `bdf` and map the common
 * config, the notify region, the device config when present and the
 * ISR when `need` asks for it; the types in `need` must be there.
 * Nothing is written to the device. 0, or a VPCI_ERR_* with t->err. */
int vpci_map(struct vpci *t, const struct vblk_hw *hw, uint32_t bdf, unsigned need);

/* Memory space and bus mastering on (and INTx off when asked). */
void vpci_enable_function(struct vpci *t, bool intx_off);

/* Reset the device and wait until it says it is done (4.1.4.3.2),
 * then ACKNOWLEDGE and DRIVER. 0, or -1 "never finished its reset". */
int vpci_reset(struct vpci *t);
void vpci_status_set(struct vpci *t, uint8_t bits);
uint8_t vpci_status(struct vpci *t);
uint8_t vpci_config_generation(struct vpci *t);
uint16_t vpci_num_queues(struct vpci *t);

/* The 64 feature bits the device offers. */
uint64_t vpci_features_offered(struct vpci *t);
/* Accept `wanted` (a subset of `offered`, VIRTIO_F_VERSION_1 added),
 * then FEATURES_OK, which must stick. 0, or -1: VERSION_1 not offered
 * or the features refused. */
int vpci_features_accept(struct vpci *t, uint64_t offered, uint64_t wanted);

/* Select queue `index`; its size as the device offers it. */
uint16_t vpci_queue_select(struct vpci *t, uint16_t index);
/* The largest power of two no larger than both. */
unsigned vpci_queue_fit(unsigned device_size, unsigned max);
/* Queue `index` of `size` entries (a power of two the device allows):
 * descriptors at 0, the avail ring after them, the used ring at the next
 * 4-byte boundary, in one zeroed DMA allocation, the addresses written
 * and the doorbell checked to lie in the notify region. The queue stays
 * selected and disabled. 0, or -1 with t->err. */
int vpci_queue_setup(struct vpci *t, struct vpci_vq *q, uint16_t index, unsigned size);
/* The selected queue asks for MSI-X entry `vector`; what the device
 * kept (VPCI_NO_VECTOR when it cannot). */
uint16_t vpci_queue_vector(struct vpci *t, uint16_t vector);
void vpci_queue_enable(struct vpci *t);

/* MSI-X on, table entries 0..n-1 sending (addr, data) unmasked, n the
 * smaller of `want` and the table's size; the function masked while the
 * entries are written, configuration changes on no vector. n, or 0 (no
 * capability, or the table cannot be mapped: MSI-X stays off). */
unsigned vpci_msix_enable(struct vpci *t, unsigned want, uint64_t addr, uint32_t data);

#endif
