/*
 * A driver for a physical Intel gigabit NIC as the root
 * partition's uplink: the 82574L ("e1000e", 8086:10d3, QEMU's -device
 * e1000e), its 82574LA and 82583V siblings (10f6, 150c), and the 8254x
 * parts QEMU offers as -device e1000 (82540EM, 100e) and e1000-82545em
 * (100f). Portable: like virtio_net.c it reaches the PCI function only
 * through struct vblk_hw (configuration space, BAR mapping, DMA memory),
 * and its registers through struct e1ke_regs (volatile MMIO on BAR0
 * unless a caller, such as the host test, routes them elsewhere).
 *
 * The subset used is the one these parts share: legacy receive and
 * transmit descriptors (the 82574L keeps them while RCTL.DTYP and
 * RFCTL.EXTEN are 0), one ring each of E1KE_RING descriptors with a
 * 2048-byte buffer behind every descriptor, no offloads, the receiver
 * promiscuous because a switch uplink carries frames for the guests'
 * addresses too. The caller polls; with the image's msi_message hook
 * and an MSI capability (the 82574 family) the NIC also sends that MSI
 * once e1ke_recv() found the ring empty (RXT0) and while e1ke_send()
 * says busy (TXDW), so an idle caller may halt until it comes; without,
 * every cause stays masked. What differs by part: EERD's layout (only
 * read when RAH0 holds no valid address), TXDCTL and RFCTL on the 82574
 * family, TIPG's IPGT.
 *
 * The device is trusted hardware, but every length and status it writes
 * back is checked before use: nothing it says can make the driver read
 * or write outside its own buffers, or take back a descriptor it did not
 * hand out.
 */
#ifndef DRIVERS_E1000E_NIC_H
#define DRIVERS_E1000E_NIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pcienum.h"           /* struct vblk_hw */

#define E1KE_VENDOR             0x8086
#define E1KE_DEV_82540EM        0x100e  /* QEMU -device e1000 */
#define E1KE_DEV_82545EM        0x100f  /* QEMU -device e1000-82545em */
#define E1KE_DEV_82574L         0x10d3  /* QEMU -device e1000e */
#define E1KE_DEV_82574LA        0x10f6
#define E1KE_DEV_82583V         0x150c
#define E1KE_RING               64u     /* descriptors per ring */
#define E1KE_BUF_BYTES          2048u   /* RCTL.BSIZE 00: one buffer per frame */
#define E1KE_BAR_BYTES          0x20000u        /* BAR0: 128 KiB of registers */
#define E1KE_FRAME_MIN          14u     /* Ethernet II without the FCS */
#define E1KE_FRAME_MAX          1514u

_Static_assert(E1KE_RING * 16 % 128 == 0, "RDLEN/TDLEN are multiples of 128 bytes");
_Static_assert((E1KE_RING & (E1KE_RING - 1)) == 0, "E1KE_RING is a power of two");
_Static_assert(E1KE_FRAME_MAX <= E1KE_BUF_BYTES, "a frame fits one buffer");

/* Legacy descriptors (8254x manual 3.2.3 and 3.3.3; 82574L 7.1.4, 7.2.10). */
struct e1ke_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;                 /* DD bit 0, EOP bit 1 */
	uint8_t errors;
	uint16_t special;
};

struct e1ke_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;                    /* EOP bit 0, IFCS 1, RS 3 */
	uint8_t status;                 /* DD bit 0 */
	uint8_t css;
	uint16_t special;
};

_Static_assert(sizeof(struct e1ke_rx_desc) == 16, "receive descriptor layout");
_Static_assert(sizeof(struct e1ke_tx_desc) == 16, "transmit descriptor layout");

/* Register access: `rd`/`wr` take a byte offset into BAR0 (dword
 * aligned). Without them (e1ke_init) the driver uses volatile 32-bit
 * loads and stores on the mapped BAR. */
struct e1ke_regs {
	void *ctx;
	uint32_t (*rd)(void *ctx, uint32_t off);
	void (*wr)(void *ctx, uint32_t off, uint32_t v);
};

struct e1ke {
	const struct vblk_hw *hw;
	struct e1ke_regs regs;          /* zero: MMIO on `bar` */
	uint32_t bdf;
	uint16_t device;                /* the PCI device id found */
	bool family_82574;              /* 82574L/LA, 82583V: EERD, TXDCTL, RFCTL */
	volatile uint8_t *bar;          /* BAR0, mapped */
	uint8_t mac[6];
	bool mac_from_nvm;              /* RAH0.AV was clear: read through EERD */
	bool ready;
	bool msi;                       /* RXT0 sends the image's MSI */
	uint8_t msi_cap;                /* config offset of the capability, or 0 */
	uint32_t msi_data;              /* the image's message data (its vector) */
	bool rx_armed;                  /* ICR read since the last frame taken */
	bool tx_armed;                  /* TXDW enabled: a sender was told busy */
	uint64_t arms;                  /* ICR reads that armed the receive MSI */
	uint64_t rearm_found;           /* ... after which a frame was there already */

	struct e1ke_rx_desc *rxd;
	uint8_t *rxbuf;
	uint64_t rxd_phys, rxbuf_phys;
	unsigned rx_next;               /* the descriptor the device fills next */
	bool rx_discard;                /* inside a frame that spans buffers */

	struct e1ke_tx_desc *txd;
	uint8_t *txbuf;
	uint64_t txd_phys, txbuf_phys;
	unsigned tx_tail;               /* the next free descriptor (TDT) */
	unsigned tx_clean;              /* the oldest one the device holds */
	unsigned tx_inflight;           /* descriptors the device holds */

	uint64_t rx_frames, rx_bytes;   /* handed to e1ke_recv's callers */
	uint64_t rx_errors;             /* impossible lengths, frame errors, split frames */
	uint64_t rx_dropped;            /* frames longer than the caller's buffer */
	uint64_t tx_frames, tx_bytes;   /* queued for the device */
	uint64_t tx_errors;             /* completions with a collision error */
	uint64_t tx_busy;               /* sends refused for want of a descriptor */
	const char *err;                /* why the last call failed */
};

/* e1ke_init's answer when BAR0 is unassigned, I/O space, or lies where
 * this image cannot map it. */
#define E1KE_ERR_UNMAPPED       (-2)

/* True for the vendor:device ids this driver takes. */
bool e1ke_supported(uint16_t vendor, uint16_t device);

/* The first supported function on any bus pcienum reaches, as bdf
 * (bus << 8 | dev << 3 | fn), or -1. */
int e1ke_find(const struct vblk_hw *hw);
/* The same in a table already scanned. */
int e1ke_find_in(const struct pcienum *e);

/* Reset and start the NIC at `bdf`: memory space and bus mastering on,
 * CTRL.RST, interrupts masked, link set up, the MAC read, both rings set
 * up and the receive ring given to the device, and MSI with RXT0 when
 * the image and the function allow. 0; E1KE_ERR_UNMAPPED when
 * BAR0 cannot be reached; otherwise -1. n->err says why. */
int e1ke_init(struct e1ke *n, const struct vblk_hw *hw, uint32_t bdf);

/* The same with register accesses through `regs` (copied). */
int e1ke_init_regs(struct e1ke *n, const struct vblk_hw *hw, uint32_t bdf,
		   const struct e1ke_regs *regs);

/* Queue a frame of `len` bytes (E1KE_FRAME_MIN..E1KE_FRAME_MAX), copied,
 * so `frame` may be reused at once. 0 queued; 1 busy (every transmit
 * descriptor is in flight: keep the frame and try again later, nothing
 * was dropped; with MSI, the next sent frame interrupts); -1 bad length
 * or a driver not started, n->err says which. */
int e1ke_send(struct e1ke *n, const void *frame, size_t len);

/* The next received frame, copied into buf, its descriptor given back
 * to the device. Its length, or 0 when none came (with MSI, the next
 * frame then interrupts). A frame longer than
 * cap is dropped (rx_dropped); a descriptor whose length cannot be a
 * frame (under E1KE_FRAME_MIN, over E1KE_BUF_BYTES), which reports a
 * frame error, or which is part of a frame spanning buffers, is counted
 * in rx_errors and reused. cap >= E1KE_BUF_BYTES takes every frame. */
size_t e1ke_recv(struct e1ke *n, void *buf, size_t cap);

/* STATUS.LU: the PHY has a link. */
bool e1ke_link_up(struct e1ke *n);

#endif
