/*
 * An emulated Intel 82540EM Gigabit Ethernet controller ("e1000", PCI
 * 8086:100e; Intel's PCI/PCI-X Family of Gigabit Ethernet Controllers
 * Software Developer's Manual, 8254x), for guests without integration
 * services: the NIC every OS has a driver for.
 *
 * What is modelled: the PCI function (BAR0 128 KiB of registers, BAR1 a
 * 64-byte IOADDR/IODATA window, interrupt pin A), CTRL (RST, SLU), STATUS
 * (link up, full duplex, 1000 Mb/s), a 64-word EEPROM with the MAC
 * address and a valid checksum, read through EERD or by bit-banging the
 * Microwire interface in EECD (as Linux's e1000 does on an 82540), MDIC
 * with an M88 PHY whose link is up, ICR/ICS/IMS/IMC and the interrupt
 * line, RCTL (EN, UPE, MPE, BAM, MO, BSIZE, BSEX, RDMTS; SECRC ignored:
 * there is no FCS), legacy receive descriptors, TCTL (EN), legacy transmit
 * descriptors (with the IC checksum) and the context/data descriptors
 * (IP and TCP/UDP checksum insertion; TSE refused), RAL/RAH receive
 * address filters, the multicast table, and the statistics registers a
 * driver reads (GPRC, GPTC, TPR, TPT, GORCL, GOTCL, MPC, RUC, ROC). The
 * registers a driver only programs (flow control, LEDCTL, PBA, RXDCTL,
 * ...) hold what was written; others read 0 and ignore writes, logged once
 * per 4 KiB page of the register space.
 *
 * Not modelled: the command register of the PCI function (bus master
 * enable, INTx disable) is the bus's (pcicfg), the model drives its line
 * and does DMA regardless; receive timers (RDTR/RADV: every frame
 * interrupts at once), receive checksum offload, VLAN filtering, jumbo
 * frames, flow control, wake-up.
 *
 * Every register write and every descriptor is guest input: a ring whose
 * base or length is outside the guest's RAM, a descriptor whose buffer
 * is, an oversized or runt frame, a head or tail beyond the ring: the
 * operation stops with a log line (a transmit is dropped, and the device
 * stops its ring until the guest writes it again, as a bus master abort
 * would), the rest of the partition goes on. Invariants the model keeps
 * whatever the guest writes: RDH and RDT are below the receive ring's
 * descriptor count, TDH and TDT below the transmit ring's (when that is
 * not 0), a gathered frame fits txbuf, the frames handed to `tx` are 14
 * to 1514 bytes, and one transmit pass reads at most a ring's worth of
 * descriptors.
 *
 * Portable (drivers/platform.h): DMA and the wire go through `struct
 * e1000_net`.
 */
#ifndef DRIVERS_E1000_H
#define DRIVERS_E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "platform.h"

#define E1000_VENDOR        0x8086
#define E1000_DEVICE        0x100e      /* 82540EM */
#define E1000_MMIO_SIZE     0x20000u
#define E1000_IO_SIZE       0x40u
#define E1000_FRAME_MAX     1514        /* without FCS; no jumbo frames */
#define E1000_FRAME_MIN     14

/* Register offsets (BAR0). */
#define E1000_CTRL      0x0000
#define E1000_STATUS    0x0008
#define E1000_EECD      0x0010
#define E1000_EERD      0x0014
#define E1000_CTRL_EXT  0x0018
#define E1000_MDIC      0x0020
#define E1000_ICR       0x00c0
#define E1000_ITR       0x00c4
#define E1000_ICS       0x00c8
#define E1000_IMS       0x00d0
#define E1000_IMC       0x00d8
#define E1000_RCTL      0x0100
#define E1000_TCTL      0x0400
#define E1000_TIPG      0x0410
#define E1000_RDBAL     0x2800
#define E1000_RDBAH     0x2804
#define E1000_RDLEN     0x2808
#define E1000_RDH       0x2810
#define E1000_RDT       0x2818
#define E1000_RDTR      0x2820
#define E1000_TDBAL     0x3800
#define E1000_TDBAH     0x3804
#define E1000_TDLEN     0x3808
#define E1000_TDH       0x3810
#define E1000_TDT       0x3818
#define E1000_TIDV      0x3820
#define E1000_MTA       0x5200          /* 128 dwords */
#define E1000_RAL0      0x5400
#define E1000_RAH0      0x5404          /* 16 pairs */
#define E1000_VFTA      0x5600          /* 128 dwords, not modelled */
#define E1000_STATS     0x4000          /* 0x4000-0x40ff: clear on read */
#define E1000_STATS_END 0x4100
#define E1000_MPC       0x4010
#define E1000_GPRC      0x4074
#define E1000_GPTC      0x4080
#define E1000_GORCL     0x4088
#define E1000_GOTCL     0x4090
#define E1000_RUC       0x40a4
#define E1000_ROC       0x40ac
#define E1000_TPR       0x40d0
#define E1000_TPT       0x40d4
/* BAR1 */
#define E1000_IOADDR    0x00
#define E1000_IODATA    0x04

#define E1000_CTRL_FD       (1u << 0)
#define E1000_CTRL_SLU      (1u << 6)
#define E1000_CTRL_SPD_1000 (2u << 8)
#define E1000_CTRL_RST      (1u << 26)
#define E1000_CTRL_PHY_RST  (1u << 31)
#define E1000_STATUS_FD     (1u << 0)
#define E1000_STATUS_LU     (1u << 1)
#define E1000_STATUS_1000   (2u << 6)
#define E1000_EECD_SK       (1u << 0)   /* Microwire clock, chip select, */
#define E1000_EECD_CS       (1u << 1)   /* data in and out */
#define E1000_EECD_DI       (1u << 2)
#define E1000_EECD_DO       (1u << 3)
#define E1000_EECD_FWE      (3u << 4)
#define E1000_EECD_REQ      (1u << 6)
#define E1000_EECD_GNT      (1u << 7)
#define E1000_EECD_PRES     (1u << 8)
#define E1000_EERD_START    (1u << 0)
#define E1000_EERD_DONE     (1u << 4)
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16
#define E1000_EEPROM_WORDS  64
#define E1000_EEPROM_SUM    0xbaba      /* words 0..0x3f add up to this */
#define E1000_MDIC_DATA     0xffffu
#define E1000_MDIC_REG_SHIFT 16
#define E1000_MDIC_PHY_SHIFT 21
#define E1000_MDIC_OP_WRITE (1u << 26)
#define E1000_MDIC_OP_READ  (2u << 26)
#define E1000_MDIC_READY    (1u << 28)
#define E1000_MDIC_INT      (1u << 29)
#define E1000_MDIC_ERROR    (1u << 30)
#define E1000_PHY_ADDR      1           /* the only PHY on the MDIO bus */
#define E1000_ICR_TXDW      (1u << 0)
#define E1000_ICR_TXQE      (1u << 1)
#define E1000_ICR_LSC       (1u << 2)
#define E1000_ICR_RXDMT0    (1u << 4)
#define E1000_ICR_RXO       (1u << 6)
#define E1000_ICR_RXT0      (1u << 7)
#define E1000_ICR_MDAC      (1u << 9)
#define E1000_ICR_CAUSES    0x0001ffffu /* the bits ICS and IMS hold */
#define E1000_ICR_INT_ASSERTED (1u << 31)
#define E1000_RCTL_EN       (1u << 1)
#define E1000_RCTL_UPE      (1u << 3)
#define E1000_RCTL_MPE      (1u << 4)
#define E1000_RCTL_RDMTS_SHIFT 8        /* 2 bits: 1/2, 1/4, 1/8 free */
#define E1000_RCTL_MO_SHIFT 12          /* 2 bits: multicast hash bits */
#define E1000_RCTL_BAM      (1u << 15)
#define E1000_RCTL_BSIZE_SHIFT 16       /* 2 bits: 2048 >> n */
#define E1000_RCTL_BSEX     (1u << 25)  /* sizes x16 */
#define E1000_RCTL_SECRC    (1u << 26)
#define E1000_TCTL_EN       (1u << 1)
#define E1000_RAH_AV        (1u << 31)
#define E1000_RING_LEN_MASK 0x000fff80u /* RDLEN/TDLEN: 128-byte multiples */

/* Legacy descriptors (16 bytes each). */
struct e1000_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;                 /* DD bit 0, EOP bit 1 */
	uint8_t errors;
	uint16_t special;
} __attribute__((packed));

struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;                    /* EOP 0, IFCS 1, RS 3, DEXT 5 */
	uint8_t status;                 /* DD 0 */
	uint8_t css;
	uint16_t special;
} __attribute__((packed));

/*
 * Extended transmit descriptors (DEXT in the command byte, offset 11)
 * reuse the layout: bytes 8-11 a dword with a 20-bit length (data) or
 * PAYLEN (context) in bits 19:0, DTYP in 23:20 and the command in 31:24;
 * byte 12 the status, 13 POPTS (data) or HDRLEN (context). A context
 * descriptor's bytes 0-7 are IPCSS, IPCSO, IPCSE (16 bits), TUCSS, TUCSO,
 * TUCSE (16 bits): where the IP and TCP/UDP checksums start, go, end
 * (inclusive; 0 is the end of the frame).
 */
struct e1000_tx_context {
	uint8_t ipcss, ipcso;
	uint16_t ipcse;
	uint8_t tucss, tucso;
	uint16_t tucse;
	uint32_t paylen_dtyp_cmd;
	uint8_t status;
	uint8_t hdrlen;
	uint16_t mss;
} __attribute__((packed));

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "receive descriptor layout");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "transmit descriptor layout");
_Static_assert(sizeof(struct e1000_tx_context) == 16, "context descriptor layout");

#define E1000_DESC_SIZE     16
#define E1000_DESC_STATUS   12          /* the status byte's offset */
#define E1000_RXD_DD        0x01
#define E1000_RXD_EOP       0x02
#define E1000_TXD_EOP       0x01
#define E1000_TXD_IFCS      0x02
#define E1000_TXD_IC        0x04        /* legacy: insert checksum (CSS, CSO) */
#define E1000_TXD_TSE       0x04        /* extended: TCP segmentation */
#define E1000_TXD_RS        0x08
#define E1000_TXD_DEXT      0x20
#define E1000_TXD_DD        0x01
#define E1000_TXD_DTYP_CTX  0x0
#define E1000_TXD_DTYP_DATA 0x1
#define E1000_TXD_POPTS_IXSM 0x01       /* insert the IP checksum */
#define E1000_TXD_POPTS_TXSM 0x02       /* insert the TCP/UDP checksum */
#define E1000_TXD_LEN_MASK  0x000fffffu /* an extended descriptor's length */

/* What the model reaches outside itself. */
struct e1000_net {
	void *ctx;
	/* Guest memory by guest-physical address: 0, or -1 when any byte
	 * of it is not the guest's RAM. */
	int (*dma_read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	int (*dma_write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	/* A frame for the wire: 0 sent, 1 busy (keep it, retry at the next
	 * e1000_poll), -1 refused (counted, the descriptor completes). */
	int (*tx)(void *ctx, const void *frame, size_t len);
};

struct e1000 {
	const struct platform *p;
	struct e1000_net net;
	unsigned irq;                   /* ISA-numbered line (platform irq_set) */
	bool line;                      /* the level we last drove */
	uint8_t mac[6];
	uint16_t eeprom[E1000_EEPROM_WORDS];

	/* Power-on state: a reset (e1000_init, CTRL.RST) zeroes everything
	 * from `phy` up to `rx_frames`, then sets the defaults. */
	uint16_t phy[32];
	uint32_t ctrl, status, eecd, eerd, ctrl_ext, mdic;
	/* The Microwire EEPROM behind EECD: bits shifted in since chip
	 * select, and once a READ command is in, the bit being shifted out
	 * (word * 16 + bit, MSB first, wrapping at the end). */
	struct {
		uint16_t in;
		uint8_t in_bits;
		bool reading;
		uint16_t out;
	} ee;
	uint32_t icr, ims, itr;
	uint32_t rctl, tctl, tipg, rdtr, tidv;
	uint32_t rdbal, rdbah, rdlen, rdh, rdt;
	uint32_t tdbal, tdbah, tdlen, tdh, tdt;
	uint32_t mta[128];
	uint32_t ral[16], rah[16];
	/* Registers a driver programs and the model only keeps. */
	uint32_t fcal, fcah, fct, vet, fcttv, txcw, rxcw, ait, ledctl, pba;
	uint32_t fcrtl, fcrth, rxdctl, radv, rsrpd, txdctl, tadv, tspmt;
	uint32_t rxcsum, wuc, wufc, wus, manc, ipav;
	uint32_t ioaddr;                /* BAR1's IOADDR */
	bool rx_stopped, tx_stopped;    /* a DMA error stopped the ring */
	bool tx_busy;                   /* the wire said busy: resume later */
	bool tx_busy_rs;                /* ...and the held EOP descriptor has RS */
	/* A frame being gathered from several data descriptors, and what to
	 * do with it at its EOP: the checksums to insert (POPTS of its first
	 * data descriptor, or a legacy descriptor's IC with its CSS/CSO), or
	 * drop it (txoverflow: longer than a frame; txtse: segmentation). */
	uint8_t txbuf[E1000_FRAME_MAX];
	size_t txlen;
	bool txoverflow, txtse;
	bool tx_in_frame;               /* a descriptor of it was taken */
	uint8_t tx_popts;
	bool tx_legacy_ic;
	uint8_t tx_css, tx_cso;
	struct e1000_tx_context txctx;  /* the last context descriptor */

	/* Statistics (the clear-on-read registers keep their own copies). */
	uint32_t gprc, gptc, tpr, tpt, gorcl, gotcl, mpc, roc, ruc;
	/* Totals since e1000_init (a reset keeps them). */
	uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped, dma_errors, rejected;
	uint64_t rx_filtered;           /* not for us (RCTL, RAL/RAH, MTA) */
	uint32_t unknown_logged;        /* bitmap of register pages logged */
};

/* Power-on state with `mac` in the EEPROM and RAL0/RAH0 (valid), link
 * up; `irq` the interrupt line the PCI function's INTx is wired to. */
void e1000_init(struct e1000 *e, const struct platform *p, const uint8_t mac[6],
		unsigned irq, const struct e1000_net *net);

/* The PCI configuration header (type 0) of the function: ids, class
 * 02 00 00, BAR0 memory (32-bit, non-prefetchable) at `mmio`, BAR1 I/O
 * at `io`, interrupt pin A and line `irq`, subsystem 8086:001e, and the
 * write mask (command: I/O, memory, bus master, INTx disable; cache line
 * size, latency timer, interrupt line) and BAR sizes pcicfg_add_device()
 * takes. */
void e1000_pci_header(uint8_t config[256], uint8_t wmask[256], uint32_t bar_sizes[6],
		      uint32_t mmio, uint16_t io, unsigned irq);

/* BAR0 accesses at offset `off` (4-byte aligned dword accesses; others
 * are logged and read 0). */
uint32_t e1000_mmio_read(struct e1000 *e, uint32_t off, unsigned size);
void e1000_mmio_write(struct e1000 *e, uint32_t off, unsigned size, uint32_t v);

/* BAR1 accesses (offset 0 IOADDR, 4 IODATA). */
uint32_t e1000_io_read(struct e1000 *e, uint32_t off, unsigned size);
void e1000_io_write(struct e1000 *e, uint32_t off, unsigned size, uint32_t v);

/* A frame from the wire. 0: taken (into the ring, or filtered out by
 * RCTL/RAL/MTA, which real hardware also drops silently); -1: the
 * receiver is enabled and would take it but has no free descriptor: the
 * caller keeps the frame and offers it again later (nothing lost). */
int e1000_receive(struct e1000 *e, const void *frame, size_t len);

/* True when e1000_receive() would return 0 now for any frame up to
 * E1000_FRAME_MAX bytes: the ring has room for it, or the receiver is
 * disabled or stopped (the frame would be dropped). */
bool e1000_can_receive(const struct e1000 *e);

/* Resume a transmit the wire refused with busy. */
void e1000_poll(struct e1000 *e);

#endif
