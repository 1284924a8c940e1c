/*
 * The 82574L / 8254x uplink driver (see e1000e_nic.h): finding the
 * function, reset and bring-up, and the polled data path.
 *
 * Ring protocol (8254x manual 3.2.6 and 3.3.1; 82574L 7.1.4.3, 7.2.2),
 * the same on both rings: the descriptors from the head (RDH/TDH, which
 * the device moves) up to, not including, the tail (RDT/TDT, which the
 * driver moves) belong to the device; head == tail is a ring the device
 * has nothing in. The driver writes a descriptor, then (compiler
 * barrier: x86 keeps stores in order, and uncached MMIO stores are not
 * passed by earlier write-back stores) the tail. The device writes a
 * descriptor back with DD in its status byte last; the driver reads the
 * status once, then (barrier) the length, each field once, and checks
 * them before it touches the buffer.
 *
 *   - Receive: descriptor i always holds buffer i. RDT trails rx_next by
 *     one: the descriptor at RDT is the one the driver keeps back, so the
 *     device owns every other one and the ring never looks empty to it
 *     while the driver still has to read a frame. Taking the frame at
 *     rx_next clears its status and makes it the kept-back one (RDT =
 *     rx_next), which gives the previous kept-back descriptor to the
 *     device. rx_next is always a descriptor the device owns, so a DD
 *     there can only be the device's.
 *   - Transmit: descriptor i always sends buffer i; every descriptor has
 *     RS, so the device sets DD on each once sent. At most E1KE_RING - 1
 *     are in flight (a full ring would read as empty). Completions are
 *     taken in order from tx_clean, only among descriptors the driver
 *     handed out, before e1ke_send() looks for a free one.
 *
 * Interrupts (MSI, when the image gave a message and the function has
 * the capability; the 8254x parts QEMU offers have none and stay
 * polled): the NIC sends the message when a cause enabled in IMS is set
 * in ICR while none was pending, and sends no other until ICR is read,
 * which clears every cause (82574L 10.2.4.1, 7.4.3; QEMU keeps the
 * pending causes the same way). So reading ICR is what arms it: when
 * e1ke_recv() finds the ring empty it reads ICR, then looks at the
 * descriptor again, since a frame written back before the read raised a
 * cause the read cleared; one written back after it sends the MSI.
 * While frames come the causes stay pending and the NIC stays quiet,
 * with no register write. RXT0 is always enabled (RDTR 0: at once);
 * TXDW only while e1ke_send() says busy, so that a sent frame wakes the
 * sender. An idle caller whose e1ke_recv() returned 0 may halt: the next
 * frame interrupts.
 */
#include <string.h>
#include "e1000e_nic.h"

/* PCI configuration space. */
#define CFG_COMMAND             0x04
#define CFG_STATUS_CAPLIST      (1u << (16 + 4))        /* in dword 0x04 */
#define CFG_CAP_PTR             0x34
#define CAP_ID_MSI              0x05
#define CAP_WALK_MAX            48
#define MSI_CTRL_ENABLE         (1u << 0)       /* in the control word */
#define MSI_CTRL_MME            (7u << 4)       /* messages enabled: 1 */
#define MSI_CTRL_64BIT          (1u << 7)
#define CMD_MEMORY              (1u << 1)
#define CMD_BUS_MASTER          (1u << 2)
#define CMD_INTX_DISABLE        (1u << 10)

/* Registers (BAR0). */
#define REG_CTRL                0x0000
#define REG_STATUS              0x0008
#define REG_EECD                0x0010
#define REG_EERD                0x0014
#define REG_ICR                 0x00c0
#define REG_IMS                 0x00d0
#define REG_IMC                 0x00d8
#define REG_RCTL                0x0100
#define REG_TCTL                0x0400
#define REG_TIPG                0x0410
#define REG_RDBAL               0x2800
#define REG_RDBAH               0x2804
#define REG_RDLEN               0x2808
#define REG_RDH                 0x2810
#define REG_RDT                 0x2818
#define REG_RDTR                0x2820
#define REG_TDBAL               0x3800
#define REG_TDBAH               0x3804
#define REG_TDLEN               0x3808
#define REG_TDH                 0x3810
#define REG_TDT                 0x3818
#define REG_TXDCTL              0x3828
#define REG_RXCSUM              0x5000
#define REG_RFCTL               0x5008  /* 82574 family only */
#define REG_MTA                 0x5200  /* 128 dwords */
#define REG_RAL0                0x5400  /* 16 pairs of RAL, RAH */
#define REG_RAH0                0x5404
#define MTA_DWORDS              128u
#define RA_PAIRS                16u

#define CTRL_ILOS               (1u << 7)
#define CTRL_SLU                (1u << 6)
#define CTRL_FRCSPD             (1u << 11)
#define CTRL_FRCDPLX            (1u << 12)
#define CTRL_RST                (1u << 26)
#define CTRL_VME                (1u << 30)
#define CTRL_PHY_RST            (1u << 31)
#define STATUS_LU               (1u << 1)
#define EECD_AUTO_RD            (1u << 9)       /* 82574: NVM loaded after reset */
#define RAH_AV                  (1u << 31)

/* EERD: 8254x START 0, DONE 4, address 15:8; 82574 START 0, DONE 1,
 * address 15:2; both data 31:16. */
#define EERD_START              (1u << 0)
#define EERD_DONE_8254X         (1u << 4)
#define EERD_ADDR_SHIFT_8254X   8
#define EERD_DONE_82574         (1u << 1)
#define EERD_ADDR_SHIFT_82574   2
#define EERD_DATA_SHIFT         16

#define RCTL_EN                 (1u << 1)
#define RCTL_UPE                (1u << 3)
#define RCTL_MPE                (1u << 4)
#define RCTL_BAM                (1u << 15)
#define RCTL_SECRC              (1u << 26)      /* BSIZE 00, BSEX 0: 2048 bytes */
#define TCTL_EN                 (1u << 1)
#define TCTL_PSP                (1u << 3)
#define TCTL_CT(x)              ((uint32_t)(x) << 4)
#define TCTL_COLD(x)            ((uint32_t)(x) << 12)
/* TIPG for copper: IPGR1 8, IPGR2 6; IPGT 10 on the 8254x, 8 on the
 * 82574 (what their manuals recommend). */
#define TIPG_IPGR               (8u << 10 | 6u << 20)
#define TIPG_IPGT_8254X         10u
#define TIPG_IPGT_82574         8u
/* 82574 TXDCTL: WTHRESH 1 with GRAN (descriptors), and COUNT_DESC (bit
 * 22), as Linux's e1000e sets them for the 82571 family. */
#define TXDCTL_WTHRESH_MASK     (0x3fu << 16)
#define TXDCTL_WB_ONE           (1u << 24 | 1u << 16)
#define TXDCTL_COUNT_DESC       (1u << 22)

#define ICR_TXDW                (1u << 0)
#define ICR_RXT0                (1u << 7)

#define RXD_DD                  0x01
#define RXD_EOP                 0x02
/* Receive errors that mean the frame itself is bad (CRC, symbol,
 * sequence, carrier extension, RX data); the checksum errors (TCPE,
 * IPE) cannot come with RXCSUM off. */
#define RXE_FRAME               (0x01 | 0x02 | 0x04 | 0x10 | 0x80)
#define TXD_CMD_EOP             0x01
#define TXD_CMD_IFCS            0x02
#define TXD_CMD_RS              0x08
#define TXD_DD                  0x01
#define TXD_EC                  0x02    /* excess collisions */
#define TXD_LC                  0x04    /* late collision */

/* Bounded waits, in register reads: the reset (the manuals give it well
 * under a millisecond), the 82574's NVM auto-read after it, one EERD
 * word. A register read takes a microsecond or so on PCIe. */
#define RESET_SPINS             (1u << 20)
#define AUTO_RD_SPINS           (1u << 16)
#define EERD_SPINS              (1u << 16)

#define e1ke_barrier()          __asm__ volatile("" ::: "memory")

static int fail(struct e1ke *n, const char *why)
{
	n->err = why;
	return -1;
}

/* ---- register and configuration access ----------------------------------- */

static uint32_t rd(struct e1ke *n, uint32_t off)
{
	if (n->regs.rd)
		return n->regs.rd(n->regs.ctx, off);
	return *(volatile uint32_t *)(n->bar + off);
}

static void wr(struct e1ke *n, uint32_t off, uint32_t v)
{
	if (n->regs.wr)
		n->regs.wr(n->regs.ctx, off, v);
	else
		*(volatile uint32_t *)(n->bar + off) = v;
}

static uint32_t cfg_read32(struct e1ke *n, uint32_t off)
{
	return n->hw->pci_read32(n->hw->ctx, n->bdf, off);
}

static uint8_t cfg_read8(struct e1ke *n, uint32_t off)
{
	return (uint8_t)(cfg_read32(n, off & ~3u) >> (8 * (off & 3)));
}

/* ---- finding the function ----------------------------------------------- */

bool e1ke_supported(uint16_t vendor, uint16_t device)
{
	if (vendor != E1KE_VENDOR)
		return false;
	switch (device) {
	case E1KE_DEV_82540EM:
	case E1KE_DEV_82545EM:
	case E1KE_DEV_82574L:
	case E1KE_DEV_82574LA:
	case E1KE_DEV_82583V:
		return true;
	}
	return false;
}

static bool is_82574_family(uint16_t device)
{
	return device == E1KE_DEV_82574L || device == E1KE_DEV_82574LA ||
	       device == E1KE_DEV_82583V;
}

int e1ke_find_in(const struct pcienum *e)
{
	for (unsigned i = 0; i < e->count; i++)
		if (e1ke_supported(e->dev[i].vendor, e->dev[i].device))
			return e->dev[i].bdf;
	return -1;
}

int e1ke_find(const struct vblk_hw *hw)
{
	struct pcienum e;

	pcienum_scan(&e, hw);
	return e1ke_find_in(&e);
}

/* ---- bring-up ------------------------------------------------------------ */

/* BAR0 mapped: memory space, 32- or 64-bit, assigned. */
static int map_bar0(struct e1ke *n)
{
	struct pci_bar bar;

	if (pcienum_bar(n->hw, n->bdf, 0, &bar)) {
		fail(n, "BAR0 is malformed");
		return E1KE_ERR_UNMAPPED;
	}
	if (bar.io) {
		fail(n, "BAR0 is I/O space");
		return E1KE_ERR_UNMAPPED;
	}
	if (!bar.base) {
		fail(n, "BAR0 is unassigned");
		return E1KE_ERR_UNMAPPED;
	}
	n->bar = n->hw->map_bar(n->hw->ctx, bar.base, E1KE_BAR_BYTES);
	if (!n->bar) {
		fail(n, "BAR0 lies where this image cannot map it");
		return E1KE_ERR_UNMAPPED;
	}
	return 0;
}

/*
 * Quiesce, then CTRL.RST: a global reset of everything but the PCI
 * function, after which the NIC reloads RAL0/RAH0 from the NVM. The bit
 * clears itself when the reset is done; on the 82574 EECD.AUTO_RD then
 * says the NVM has been read (not every model sets it, so its wait is
 * short and not an error). Interrupts masked before and after, since a
 * reset unmasks nothing but may leave causes pending.
 */
static int reset(struct e1ke *n)
{
	unsigned spins = 0;

	wr(n, REG_IMC, 0xffffffffu);
	wr(n, REG_RCTL, 0);
	wr(n, REG_TCTL, 0);
	wr(n, REG_CTRL, rd(n, REG_CTRL) | CTRL_RST);
	while (rd(n, REG_CTRL) & CTRL_RST)
		if (++spins == RESET_SPINS)
			return fail(n, "CTRL.RST never cleared");
	if (n->family_82574)
		for (spins = 0; spins < AUTO_RD_SPINS; spins++)
			if (rd(n, REG_EECD) & EECD_AUTO_RD)
				break;
	wr(n, REG_IMC, 0xffffffffu);
	(void)rd(n, REG_ICR);                   /* read to clear */
	return 0;
}

/* One NVM word through EERD, in this part's layout; false on timeout. */
static bool nvm_read(struct e1ke *n, unsigned word, uint16_t *out)
{
	uint32_t done = n->family_82574 ? EERD_DONE_82574 : EERD_DONE_8254X;
	unsigned shift = n->family_82574 ? EERD_ADDR_SHIFT_82574 : EERD_ADDR_SHIFT_8254X;

	wr(n, REG_EERD, (uint32_t)word << shift | EERD_START);
	for (unsigned spins = 0; spins < EERD_SPINS; spins++) {
		uint32_t v = rd(n, REG_EERD);

		if (v & done) {
			*out = (uint16_t)(v >> EERD_DATA_SHIFT);
			return true;
		}
	}
	return false;
}

/*
 * The MAC from RAL0/RAH0 when RAH0.AV says the NIC loaded it; otherwise
 * NVM words 0-2 (little-endian byte pairs), written to RAL0/RAH0 so the
 * receive filter and pause frames use it too.
 */
static int read_mac(struct e1ke *n)
{
	uint32_t ral = rd(n, REG_RAL0), rah = rd(n, REG_RAH0);
	static const uint8_t zero[6];

	if (rah & RAH_AV) {
		for (unsigned i = 0; i < 4; i++)
			n->mac[i] = (uint8_t)(ral >> (8 * i));
		n->mac[4] = (uint8_t)rah;
		n->mac[5] = (uint8_t)(rah >> 8);
		return 0;
	}
	for (unsigned w = 0; w < 3; w++) {
		uint16_t v;

		if (!nvm_read(n, w, &v))
			return fail(n, "EERD read of the MAC address never completed");
		n->mac[2 * w] = (uint8_t)v;
		n->mac[2 * w + 1] = (uint8_t)(v >> 8);
	}
	if ((n->mac[0] & 1) || !memcmp(n->mac, zero, 6))
		return fail(n, "the NVM holds no unicast MAC address");
	n->mac_from_nvm = true;
	wr(n, REG_RAL0, (uint32_t)n->mac[0] | (uint32_t)n->mac[1] << 8 |
			(uint32_t)n->mac[2] << 16 | (uint32_t)n->mac[3] << 24);
	wr(n, REG_RAH0, (uint32_t)n->mac[4] | (uint32_t)n->mac[5] << 8 | RAH_AV);
	return 0;
}

/* Filters: no other exact addresses, no multicast hashes (the receiver
 * is promiscuous anyway, but a table left from firmware is not ours). */
static void clear_filters(struct e1ke *n)
{
	for (unsigned i = 1; i < RA_PAIRS; i++) {
		wr(n, REG_RAL0 + 8 * i, 0);
		wr(n, REG_RAH0 + 8 * i, 0);
	}
	for (unsigned i = 0; i < MTA_DWORDS; i++)
		wr(n, REG_MTA + 4 * i, 0);
}

/* Set link up, speed and duplex from autonegotiation (nothing forced),
 * no loss-of-signal inversion, no VLAN mode. */
static void link_setup(struct e1ke *n)
{
	uint32_t ctrl = rd(n, REG_CTRL);

	ctrl &= ~(CTRL_ILOS | CTRL_FRCSPD | CTRL_FRCDPLX | CTRL_VME | CTRL_PHY_RST | CTRL_RST);
	wr(n, REG_CTRL, ctrl | CTRL_SLU);
}

static int rings_alloc(struct e1ke *n)
{
	const struct vblk_hw *hw = n->hw;

	n->rxd = hw->dma_alloc(hw->ctx, E1KE_RING * sizeof(*n->rxd), &n->rxd_phys);
	n->txd = hw->dma_alloc(hw->ctx, E1KE_RING * sizeof(*n->txd), &n->txd_phys);
	n->rxbuf = hw->dma_alloc(hw->ctx, (size_t)E1KE_RING * E1KE_BUF_BYTES, &n->rxbuf_phys);
	n->txbuf = hw->dma_alloc(hw->ctx, (size_t)E1KE_RING * E1KE_BUF_BYTES, &n->txbuf_phys);
	if (!n->rxd || !n->txd || !n->rxbuf || !n->txbuf)
		return fail(n, "no DMA memory for the rings and their buffers");
	return 0;
}

static void rx_give(struct e1ke *n, unsigned i)
{
	n->rxd[i].addr = n->rxbuf_phys + (uint64_t)i * E1KE_BUF_BYTES;
	n->rxd[i].length = 0;
	n->rxd[i].status = 0;
	n->rxd[i].errors = 0;
}

/* Legacy descriptors on the 82574: RCTL.DTYP 00 (written below) and
 * RFCTL.EXTEN clear; no receive checksum offload on either family. */
static void rx_setup(struct e1ke *n)
{
	for (unsigned i = 0; i < E1KE_RING; i++)
		rx_give(n, i);
	if (n->family_82574)
		wr(n, REG_RFCTL, 0);
	wr(n, REG_RXCSUM, 0);
	wr(n, REG_RDTR, 0);
	wr(n, REG_RDBAL, (uint32_t)n->rxd_phys);
	wr(n, REG_RDBAH, (uint32_t)(n->rxd_phys >> 32));
	wr(n, REG_RDLEN, E1KE_RING * sizeof(struct e1ke_rx_desc));
	wr(n, REG_RDH, 0);
	e1ke_barrier();         /* the descriptors before the tail gives them */
	wr(n, REG_RDT, E1KE_RING - 1);
	n->rx_next = 0;
	wr(n, REG_RCTL, RCTL_EN | RCTL_UPE | RCTL_MPE | RCTL_BAM | RCTL_SECRC);
}

static void tx_setup(struct e1ke *n)
{
	uint32_t ipgt = n->family_82574 ? TIPG_IPGT_82574 : TIPG_IPGT_8254X;

	wr(n, REG_TDBAL, (uint32_t)n->txd_phys);
	wr(n, REG_TDBAH, (uint32_t)(n->txd_phys >> 32));
	wr(n, REG_TDLEN, E1KE_RING * sizeof(struct e1ke_tx_desc));
	wr(n, REG_TDH, 0);
	wr(n, REG_TDT, 0);
	if (n->family_82574)
		wr(n, REG_TXDCTL, (rd(n, REG_TXDCTL) & ~TXDCTL_WTHRESH_MASK) |
				  TXDCTL_WB_ONE | TXDCTL_COUNT_DESC);
	wr(n, REG_TIPG, ipgt | TIPG_IPGR);
	wr(n, REG_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT(0x0f) | TCTL_COLD(0x3f));
	n->tx_tail = n->tx_clean = n->tx_inflight = 0;
}

/* The MSI capability's offset, or 0. Pointers stay in 0x40..0xfc and
 * the walk ends after CAP_WALK_MAX entries, so a looping list cannot
 * hang us. */
static uint8_t msi_find(struct e1ke *n)
{
	uint8_t ptr;

	if (!(cfg_read32(n, CFG_COMMAND) & CFG_STATUS_CAPLIST))
		return 0;
	ptr = cfg_read8(n, CFG_CAP_PTR);
	for (unsigned i = 0; ptr && i < CAP_WALK_MAX; i++) {
		ptr &= 0xfc;
		if (ptr < 0x40)
			return 0;
		if (cfg_read8(n, ptr) == CAP_ID_MSI)
			return ptr;
		ptr = cfg_read8(n, ptr + 1u);
	}
	return 0;
}

/*
 * The image's message into the MSI capability (address, then data
 * after the high address dword when the capability has one), one
 * message, enabled; then RXT0 in IMS. Without the hook, the
 * capability, or a 64-bit address on a 32-bit capability, the NIC stays
 * polled with every cause masked.
 */
static void msi_setup(struct e1ke *n)
{
	const struct vblk_hw *hw = n->hw;
	uint32_t dw0, data;
	uint64_t addr;
	uint16_t ctrl;
	bool wide;

	if (!hw->msi_message || !(n->msi_cap = msi_find(n)))
		return;
	dw0 = cfg_read32(n, n->msi_cap);
	ctrl = (uint16_t)(dw0 >> 16);
	wide = (ctrl & MSI_CTRL_64BIT) != 0;
	if (!hw->msi_message(hw->ctx, &addr, &data) || (!wide && addr >> 32))
		return;
	hw->pci_write32(hw->ctx, n->bdf, n->msi_cap + 4u, (uint32_t)addr);
	if (wide)
		hw->pci_write32(hw->ctx, n->bdf, n->msi_cap + 8u, (uint32_t)(addr >> 32));
	hw->pci_write32(hw->ctx, n->bdf, n->msi_cap + (wide ? 12u : 8u), data & 0xffff);
	ctrl = (uint16_t)((ctrl & ~MSI_CTRL_MME) | MSI_CTRL_ENABLE);
	hw->pci_write32(hw->ctx, n->bdf, n->msi_cap, (dw0 & 0xffff) | (uint32_t)ctrl << 16);
	n->msi = true;
	n->msi_data = data;
	(void)rd(n, REG_ICR);                   /* nothing pending: the first frame sends it */
	n->rx_armed = true;
	wr(n, REG_IMS, ICR_RXT0);
}

int e1ke_init_regs(struct e1ke *n, const struct vblk_hw *hw, uint32_t bdf,
		   const struct e1ke_regs *regs)
{
	uint32_t id, cmd;
	int err;

	memset(n, 0, sizeof(*n));
	n->hw = hw;
	n->bdf = bdf;
	if (regs)
		n->regs = *regs;
	id = cfg_read32(n, 0);
	if (!e1ke_supported((uint16_t)id, (uint16_t)(id >> 16)))
		return fail(n, "not a supported Intel 8254x/82574 NIC");
	n->device = (uint16_t)(id >> 16);
	n->family_82574 = is_82574_family(n->device);
	if ((err = map_bar0(n)) != 0)
		return err;
	/* Polled or MSI: the INTx line is never wanted. */
	cmd = cfg_read32(n, CFG_COMMAND) & 0xffff;
	hw->pci_write32(hw->ctx, bdf, CFG_COMMAND,
			cmd | CMD_MEMORY | CMD_BUS_MASTER | CMD_INTX_DISABLE);
	if (reset(n) || read_mac(n) || rings_alloc(n))
		return -1;
	clear_filters(n);
	link_setup(n);
	tx_setup(n);
	rx_setup(n);
	msi_setup(n);
	n->ready = true;
	return 0;
}

int e1ke_init(struct e1ke *n, const struct vblk_hw *hw, uint32_t bdf)
{
	return e1ke_init_regs(n, hw, bdf, NULL);
}

/* ---- the data path ------------------------------------------------------- */

/* The descriptor at rx_next back to the device: cleared, it becomes the
 * kept-back one at RDT, which hands the previous one over. */
static void rx_recycle(struct e1ke *n)
{
	unsigned i = n->rx_next;

	rx_give(n, i);
	n->rx_next = (i + 1) & (E1KE_RING - 1);
	e1ke_barrier();         /* the cleared descriptor before the tail moves */
	wr(n, REG_RDT, i);
}

/*
 * One written-back descriptor: 1 a frame copied out (*got its length),
 * 0 nothing for the caller. A frame spanning buffers cannot come with
 * RCTL.LPE clear and 2048-byte buffers; if one does, its descriptors up
 * to EOP are counted once and skipped.
 */
static int rx_take(struct e1ke *n, uint8_t status, void *buf, size_t cap, size_t *got)
{
	volatile struct e1ke_rx_desc *d = &n->rxd[n->rx_next];
	uint16_t len = d->length;
	uint8_t errors = d->errors;

	if (!(status & RXD_EOP)) {
		if (!n->rx_discard)
			n->rx_errors++;
		n->rx_discard = true;
		return 0;
	}
	if (n->rx_discard) {
		n->rx_discard = false;          /* the split frame's last buffer */
		return 0;
	}
	if (len < E1KE_FRAME_MIN || len > E1KE_BUF_BYTES || (errors & RXE_FRAME)) {
		n->rx_errors++;
		return 0;
	}
	if (len > cap) {
		n->rx_dropped++;
		return 0;
	}
	memcpy(buf, n->rxbuf + (size_t)n->rx_next * E1KE_BUF_BYTES, len);
	*got = len;
	n->rx_frames++;
	n->rx_bytes += len;
	return 1;
}

/* The next good frame among the written-back descriptors, or 0. */
static size_t rx_poll(struct e1ke *n, void *buf, size_t cap)
{
	size_t got = 0;

	/* At most a ring's worth: a device that keeps writing bad
	 * descriptors cannot hold the caller here. */
	for (unsigned i = 0; i < E1KE_RING; i++) {
		uint8_t status = *(volatile uint8_t *)&n->rxd[n->rx_next].status;
		int r;

		if (!(status & RXD_DD))
			break;
		e1ke_barrier();         /* the rest of the descriptor after DD */
		r = rx_take(n, status, buf, cap, &got);
		rx_recycle(n);
		if (r)
			break;
	}
	return got;
}

/* Causes cleared, so the next one sends the MSI: true when the ring
 * must be looked at again (see the file comment). The ICR read is
 * uncached, so it is done before the descriptor is read again. */
static bool irq_arm(struct e1ke *n)
{
	if (!n->msi || n->rx_armed)
		return false;
	(void)rd(n, REG_ICR);
	n->rx_armed = true;
	n->arms++;
	e1ke_barrier();
	return true;
}

size_t e1ke_recv(struct e1ke *n, void *buf, size_t cap)
{
	size_t got;

	if (!n->ready)
		return 0;
	got = rx_poll(n, buf, cap);
	if (!got && irq_arm(n)) {
		got = rx_poll(n, buf, cap);
		n->rearm_found += got != 0;
	}
	if (got)
		n->rx_armed = false;    /* causes pending again: the NIC is quiet */
	return got;
}

/* Sent descriptors become free, oldest first, only those in flight. */
static void tx_reclaim(struct e1ke *n)
{
	while (n->tx_inflight) {
		volatile struct e1ke_tx_desc *d = &n->txd[n->tx_clean];
		uint8_t status = d->status;

		if (!(status & TXD_DD))
			break;
		if (status & (TXD_EC | TXD_LC))
			n->tx_errors++;
		d->status = 0;
		n->tx_clean = (n->tx_clean + 1) & (E1KE_RING - 1);
		n->tx_inflight--;
	}
}

int e1ke_send(struct e1ke *n, const void *frame, size_t len)
{
	struct e1ke_tx_desc *d;
	unsigned i;

	if (!n->ready)
		return fail(n, "device not initialized");
	if (len < E1KE_FRAME_MIN || len > E1KE_FRAME_MAX)
		return fail(n, "frame length outside 14..1514 bytes");
	tx_reclaim(n);
	/* Full: TXDW enabled, so a sent frame wakes the caller we tell
	 * "busy" (a cause already pending sends the MSI as IMS takes it);
	 * one sent meanwhile is reclaimed. */
	if (n->tx_inflight >= E1KE_RING - 1 && n->msi && !n->tx_armed) {
		wr(n, REG_IMS, ICR_TXDW);
		n->tx_armed = true;
		tx_reclaim(n);
	}
	if (n->tx_inflight >= E1KE_RING - 1) {
		n->tx_busy++;
		return 1;
	}
	if (n->tx_armed) {
		wr(n, REG_IMC, ICR_TXDW);
		n->tx_armed = false;
	}
	i = n->tx_tail;
	d = &n->txd[i];
	memcpy(n->txbuf + (size_t)i * E1KE_BUF_BYTES, frame, len);
	d->addr = n->txbuf_phys + (uint64_t)i * E1KE_BUF_BYTES;
	d->length = (uint16_t)len;
	d->cso = 0;
	d->cmd = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;
	d->status = 0;
	d->css = 0;
	d->special = 0;
	n->tx_tail = (i + 1) & (E1KE_RING - 1);
	n->tx_inflight++;
	e1ke_barrier();         /* the buffer and descriptor before the tail */
	wr(n, REG_TDT, n->tx_tail);
	n->tx_frames++;
	n->tx_bytes += len;
	return 0;
}

bool e1ke_link_up(struct e1ke *n)
{
	if (!n->ready)
		return false;
	return (rd(n, REG_STATUS) & STATUS_LU) != 0;
}
