/*
 * Host tests for the emulated 82540EM (drivers/e1000.c), driven as a
 * guest driver would: the PCI function sized through pcicfg like an OS,
 * the EEPROM through EERD and by bit-banging EECD, the PHY through MDIC,
 * reset, the interrupt registers and the line, receive into a fake guest
 * RAM (address filtering, frames over several descriptors, a full ring),
 * transmit (single and gathered frames checked byte for byte, busy and
 * poll, write-back, context descriptors with checksum insertion), the
 * I/O window, the statistics, and hostile programming: rings and buffers
 * outside RAM, tails beyond the ring, oversized and runt frames, TSE.
 */
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "e1000.h"
#include "pcicfg.h"

#define IRQ             11
#define MEM_SIZE        0x20000u
#define RX_RING         0x1000u
#define RX_BUFS         0x4000u         /* 8 x 2 KiB */
#define TX_RING         0x8000u
#define TX_BUFS         0x9000u         /* 4 KiB apart */
#define FAR             0x10000000u     /* not guest RAM */

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* ---- the environment: guest RAM, the line, the log, the wire ---------- */

static uint8_t mem[MEM_SIZE];

static struct {
	bool line;
	unsigned irq_calls, bad_irq;
	unsigned logs;
	char last_log[160];
	unsigned dma_refused;
	uint64_t ro_from, ro_to;        /* DMA writes refused here */
	unsigned tx_calls, tx_bad_len;
	int tx_result;
	uint8_t tx_frame[2048];
	size_t tx_len;
} env;

static void f_irq(void *ctx, unsigned irq, bool level)
{
	(void)ctx;
	if (irq != IRQ || level == env.line)
		env.bad_irq++;
	env.line = level;
	env.irq_calls++;
}

static void f_log(void *ctx, const char *msg)
{
	(void)ctx;
	env.logs++;
	strncpy(env.last_log, msg, sizeof(env.last_log) - 1);
}

static bool outside(uint64_t gpa, size_t len)
{
	return gpa > MEM_SIZE || len > MEM_SIZE - gpa;
}

static int f_dma_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (outside(gpa, len)) {
		env.dma_refused++;
		return -1;
	}
	memcpy(buf, mem + gpa, len);
	return 0;
}

static int f_dma_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	if (outside(gpa, len) || (gpa < env.ro_to && gpa + len > env.ro_from)) {
		env.dma_refused++;
		return -1;
	}
	memcpy(mem + gpa, buf, len);
	return 0;
}

static int f_tx(void *ctx, const void *frame, size_t len)
{
	(void)ctx;
	env.tx_calls++;
	if (len < E1000_FRAME_MIN || len > E1000_FRAME_MAX) {
		env.tx_bad_len++;
		return -1;
	}
	memcpy(env.tx_frame, frame, len);
	env.tx_len = len;
	return env.tx_result;
}

static const struct platform plat = { .irq_set = f_irq, .log = f_log };
static const struct e1000_net net = {
	.dma_read = f_dma_read, .dma_write = f_dma_write, .tx = f_tx,
};
static struct e1000 nic;

static uint32_t rd(uint32_t off)
{
	return e1000_mmio_read(&nic, off, 4);
}

static void wr(uint32_t off, uint32_t v)
{
	e1000_mmio_write(&nic, off, 4, v);
}

static void fresh(void)
{
	memset(&env, 0, sizeof(env));
	memset(mem, 0, sizeof(mem));
	e1000_init(&nic, &plat, mac, IRQ, &net);
}

static uint16_t le16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static void put_le(uint8_t *b, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

/* A frame to `dst` of `len` bytes with a payload from `seed`. */
static void make_frame(uint8_t *f, const uint8_t *dst, size_t len, unsigned seed)
{
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x99 };

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seed);
}

/* ---- PCI --------------------------------------------------------------- */

static struct pcicfg pci;

static uint32_t cfg(unsigned reg, bool write, uint32_t v)
{
	uint32_t a = PCICFG_ENABLE | 3u << 11 | reg;

	pcicfg_io(&pci, PCICFG_PORT_ADDRESS, 4, true, &a);
	pcicfg_io(&pci, PCICFG_PORT_DATA, 4, write, &v);
	return v;
}

static void test_pci(void)
{
	uint8_t config[256], wmask[256];
	uint32_t sizes[6];

	pcicfg_init(&pci, &plat);
	e1000_pci_header(config, wmask, sizes, 0xfebc0000, 0xc000, IRQ);
	CHECK(pcicfg_add_device(&pci, 3, 0, config, wmask, sizes) == 0,
	      "pci: the header is one pcicfg takes");
	CHECK(cfg(0x00, false, 0) == 0x100e8086, "pci: 8086:100e");
	CHECK(cfg(0x08, false, 0) == 0x02000000, "pci: class 02 00 00, revision 0");
	CHECK(cfg(0x2c, false, 0) == 0x001e8086, "pci: subsystem 8086:001e");
	CHECK(((cfg(0x0c, false, 0) >> 16) & 0xff) == 0, "pci: header type 0");
	CHECK((cfg(0x3c, false, 0) & 0xffff) == (0x0100 | IRQ), "pci: INTA, line %u", IRQ);
	CHECK(cfg(0x10, false, 0) == 0xfebc0000 && cfg(0x14, false, 0) == 0xc001,
	      "pci: BAR0 memory at 0xfebc0000, BAR1 I/O at 0xc000");
	cfg(0x10, true, 0xffffffff);
	cfg(0x14, true, 0xffffffff);
	cfg(0x18, true, 0xffffffff);
	CHECK(cfg(0x10, false, 0) == 0xfffe0000, "pci: BAR0 sizes as 128 KiB, 32-bit, "
	      "non-prefetchable (0x%08x)", cfg(0x10, false, 0));
	CHECK(cfg(0x14, false, 0) == 0xffffffc1, "pci: BAR1 sizes as 64 bytes of I/O");
	CHECK(cfg(0x18, false, 0) == 0, "pci: no BAR2");
	cfg(0x04, true, 0xffff);
	CHECK((cfg(0x04, false, 0) & 0xffff) == 0x0407,
	      "pci: command writable bits are I/O, memory, master, INTx disable");
}

/* ---- EEPROM, PHY, reset ---------------------------------------------- */

static uint16_t eerd(unsigned word)
{
	uint32_t v;

	wr(E1000_EERD, word << E1000_EERD_ADDR_SHIFT | E1000_EERD_START);
	v = rd(E1000_EERD);
	if (!(v & E1000_EERD_DONE))
		return 0xdead;
	return (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
}

/* Linux's e1000 on an 82540: Microwire by hand through EECD. */
static uint32_t ee_ctl;

static void ee_clock(void)
{
	wr(E1000_EECD, ee_ctl | E1000_EECD_SK);
	wr(E1000_EECD, ee_ctl);
}

static void ee_out(unsigned data, unsigned bits)
{
	while (bits--) {
		ee_ctl = (ee_ctl & ~E1000_EECD_DI) | (((data >> bits) & 1) ? E1000_EECD_DI : 0);
		wr(E1000_EECD, ee_ctl);
		ee_clock();
	}
	ee_ctl &= ~E1000_EECD_DI;
	wr(E1000_EECD, ee_ctl);
}

static uint16_t ee_microwire(unsigned word)
{
	uint16_t data = 0;

	ee_ctl = E1000_EECD_REQ;
	wr(E1000_EECD, ee_ctl);
	ee_ctl |= E1000_EECD_CS;
	wr(E1000_EECD, ee_ctl);
	ee_out(0x6, 3);                         /* READ */
	ee_out(word, 6);
	for (unsigned i = 0; i < 16; i++) {
		wr(E1000_EECD, ee_ctl | E1000_EECD_SK);
		data = (uint16_t)(data << 1 | !!(rd(E1000_EECD) & E1000_EECD_DO));
		wr(E1000_EECD, ee_ctl);
	}
	ee_ctl = 0;
	wr(E1000_EECD, ee_ctl);                 /* deselect, release */
	return data;
}

static uint32_t mdic(unsigned phy, unsigned reg, uint32_t op, uint16_t data)
{
	wr(E1000_MDIC, op | phy << E1000_MDIC_PHY_SHIFT | reg << E1000_MDIC_REG_SHIFT | data);
	return rd(E1000_MDIC);
}

static void test_eeprom_phy(void)
{
	uint16_t sum = 0;
	uint32_t v;
	bool same = true;

	fresh();
	CHECK(eerd(0) == 0x5452 && eerd(1) == 0x1200 && eerd(2) == 0x5634,
	      "EERD: words 0-2 are the MAC, little-endian pairs");
	for (unsigned i = 0; i < 64; i++)
		sum = (uint16_t)(sum + eerd(i));
	CHECK(sum == 0xbaba, "EEPROM: the words add up to 0xBABA (0x%04x)", sum);
	CHECK(eerd(0x0d) == E1000_DEVICE && eerd(0x0e) == E1000_VENDOR,
	      "EEPROM: device and vendor words");
	env.logs = 0;
	CHECK(eerd(0x40) == 0 && env.logs == 1, "EERD past the 64 words: 0, logged");
	v = rd(E1000_EECD);
	CHECK((v & E1000_EECD_PRES) && !(v & E1000_EECD_GNT), "EECD: present, no grant unasked");
	wr(E1000_EECD, E1000_EECD_REQ);
	CHECK(rd(E1000_EECD) & E1000_EECD_GNT, "EECD: REQ is granted");
	for (unsigned i = 0; i < 64; i++)
		if (ee_microwire(i) != eerd(i))
			same = false;
	CHECK(same, "Microwire through EECD reads the same 64 words as EERD");

	v = mdic(1, 2, E1000_MDIC_OP_READ, 0);
	CHECK((v & E1000_MDIC_READY) && !(v & E1000_MDIC_ERROR) && (v & 0xffff) == 0x0141,
	      "MDIC: PHY 1 id 1 0x0141, ready");
	CHECK((mdic(1, 3, E1000_MDIC_OP_READ, 0) & 0xffff) == 0x0c20, "MDIC: PHY id 2 0x0c20");
	CHECK((mdic(1, 1, E1000_MDIC_OP_READ, 0) & 0xffff) == 0x796d,
	      "MDIC: PHY status link up, autoneg complete");
	CHECK((mdic(1, 0x11, E1000_MDIC_OP_READ, 0) & 0xffff) == 0xac00,
	      "MDIC: M88 status 1000 Mb/s full duplex");
	CHECK((mdic(1, 0, E1000_MDIC_OP_READ, 0) & 0xffff) == 0x1140 &&
	      (mdic(1, 4, E1000_MDIC_OP_READ, 0) & 0xffff) == 0x01e1 &&
	      (mdic(1, 5, E1000_MDIC_OP_READ, 0) & 0xffff) == 0x45e1,
	      "MDIC: control, advertisement, partner");
	v = mdic(2, 1, E1000_MDIC_OP_READ, 0);
	CHECK((v & E1000_MDIC_READY) && (v & E1000_MDIC_ERROR), "MDIC: PHY 2 answers ERROR");
	mdic(1, 4, E1000_MDIC_OP_WRITE, 0x0de1);
	mdic(1, 1, E1000_MDIC_OP_WRITE, 0);
	CHECK((mdic(1, 4, E1000_MDIC_OP_READ, 0) & 0xffff) == 0x0de1 &&
	      (mdic(1, 1, E1000_MDIC_OP_READ, 0) & 0xffff) == 0x796d,
	      "MDIC: advertisement writable, status not");
	mdic(1, 0, E1000_MDIC_OP_WRITE, 0x9340);
	CHECK((mdic(1, 0, E1000_MDIC_OP_READ, 0) & 0xffff) == 0x1140 &&
	      (mdic(1, 4, E1000_MDIC_OP_READ, 0) & 0xffff) == 0x01e1,
	      "PHY reset and autoneg restart self-clear, reset restores defaults");
	v = rd(E1000_STATUS);
	CHECK((v & (E1000_STATUS_FD | E1000_STATUS_LU)) == 3 && ((v >> 6) & 3) == 2,
	      "STATUS: full duplex, link up, 1000 Mb/s");
}

static void test_reset(void)
{
	fresh();
	wr(E1000_IMS, E1000_ICR_TXDW);
	wr(E1000_ICS, E1000_ICR_TXDW);
	wr(E1000_RCTL, E1000_RCTL_EN);
	wr(E1000_RDLEN, 4096);
	wr(E1000_RAL0, 0x11111111);
	wr(E1000_MTA + 8, 5);
	CHECK(env.line, "reset: the line is high before");
	wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_RST);
	CHECK(!(rd(E1000_CTRL) & E1000_CTRL_RST) && (rd(E1000_CTRL) & E1000_CTRL_SLU),
	      "CTRL.RST self-clears, CTRL back to its default");
	CHECK(rd(E1000_IMS) == 0 && rd(E1000_RCTL) == 0 && rd(E1000_RDLEN) == 0 &&
	      rd(E1000_MTA + 8) == 0, "reset: registers back to power-on");
	CHECK(!env.line && env.bad_irq == 0, "reset: the line goes low");
	CHECK(rd(E1000_RAL0) == 0x12005452 && rd(E1000_RAH0) == (0x5634 | E1000_RAH_AV),
	      "reset: RAL0/RAH0 reloaded from the EEPROM's MAC, valid");
	CHECK(eerd(2) == 0x5634, "reset: the EEPROM keeps the MAC");
}

/* ---- interrupts ----------------------------------------------------------- */

static void test_irq(void)
{
	uint32_t v;

	fresh();
	wr(E1000_ICS, E1000_ICR_TXDW);
	CHECK(!env.line && env.irq_calls == 0, "a cause masked: the line stays low");
	v = rd(E1000_ICR);
	CHECK(v == E1000_ICR_TXDW, "ICR: the cause, INT_ASSERTED clear (0x%08x)", v);
	CHECK(rd(E1000_ICR) == 0, "ICR: read clears it");
	wr(E1000_IMS, E1000_ICR_TXDW | E1000_ICR_RXT0);
	CHECK(rd(E1000_IMS) == (E1000_ICR_TXDW | E1000_ICR_RXT0), "IMS: sets mask bits");
	wr(E1000_ICS, E1000_ICR_RXT0);
	CHECK(env.line && env.irq_calls == 1, "ICS of an unmasked cause: line high on IRQ %u",
	      IRQ);
	v = rd(E1000_ICR);
	CHECK(v == (E1000_ICR_RXT0 | E1000_ICR_INT_ASSERTED) && !env.line,
	      "ICR read: cause and INT_ASSERTED, the line drops");
	wr(E1000_ICS, E1000_ICR_TXDW);
	wr(E1000_IMC, E1000_ICR_TXDW);
	CHECK(!env.line && rd(E1000_IMS) == E1000_ICR_RXT0, "IMC: masks, the line drops");
	wr(E1000_IMS, E1000_ICR_TXDW);
	CHECK(env.line, "IMS again: the pending cause raises it again");
	wr(E1000_ICR, E1000_ICR_TXDW);
	CHECK(!env.line && rd(E1000_ICR) == 0, "ICR write: one clears the cause");
	CHECK(env.bad_irq == 0, "the line only driven on changes, on IRQ %u", IRQ);
}

/* ---- receive -------------------------------------------------------------- */

static uint8_t *rxd(unsigned i)
{
	return mem + RX_RING + 16 * i;
}

static void rx_setup(unsigned descs, uint32_t rctl)
{
	for (unsigned i = 0; i < descs; i++) {
		memset(rxd(i), 0, 16);
		put_le(rxd(i), RX_BUFS + 2048u * i, 8);
	}
	wr(E1000_RDBAL, RX_RING);
	wr(E1000_RDBAH, 0);
	wr(E1000_RDLEN, descs * 16);
	wr(E1000_RDH, 0);
	wr(E1000_RDT, descs - 1);
	wr(E1000_RCTL, rctl);
}

static const uint8_t other[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };

/* Offered and taken into the ring (RDH moved)? */
static bool rx_taken(const uint8_t *dst)
{
	uint8_t f[64];
	uint32_t before = rd(E1000_RDH);

	make_frame(f, dst, sizeof(f), 1);
	return e1000_receive(&nic, f, sizeof(f)) == 0 && rd(E1000_RDH) != before;
}

static void test_rx_filter(void)
{
	unsigned hash = (mcast[4] >> 4) | (mcast[5] << 4);

	fresh();
	rx_setup(8, E1000_RCTL_EN);
	CHECK(rx_taken(mac), "filter: our own address (RAL0/RAH0)");
	CHECK(!rx_taken(other) && nic.rx_filtered == 1, "filter: another unicast dropped");
	CHECK(!rx_taken(bcast), "filter: broadcast without BAM dropped");
	CHECK(!rx_taken(mcast), "filter: multicast not in the table dropped");
	wr(E1000_MTA + 4 * (hash >> 5), 1u << (hash & 31));
	CHECK(rx_taken(mcast), "filter: multicast whose MTA bit (MO=00 hash) is set");
	wr(E1000_MTA + 4 * (hash >> 5), 0);
	wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_MPE);
	CHECK(rx_taken(bcast) && rx_taken(mcast), "filter: BAM broadcast, MPE multicast");
	wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_UPE);
	CHECK(rx_taken(other), "filter: UPE takes any unicast");
	wr(E1000_RCTL, E1000_RCTL_EN);
	wr(E1000_RAL0 + 8, 0x33221102);
	wr(E1000_RAL0 + 12, 0x5544);
	CHECK(!rx_taken(other), "filter: RAL1/RAH1 without AV do not match");
	wr(E1000_RAL0 + 12, 0x5544 | E1000_RAH_AV);
	CHECK(rx_taken(other), "filter: RAL1/RAH1 with AV match");
}

static void test_rx(void)
{
	uint8_t f[1514], big[1514];
	uint32_t v;
	bool same = true;

	fresh();
	rx_setup(8, E1000_RCTL_EN);
	wr(E1000_IMS, E1000_ICR_RXT0);
	make_frame(f, mac, 60, 3);
	CHECK(e1000_receive(&nic, f, 60) == 0, "receive: taken");
	CHECK(rxd(0)[12] == (E1000_RXD_DD | E1000_RXD_EOP) && le16(rxd(0) + 8) == 60,
	      "receive: descriptor 0 DD|EOP, length 60 (no FCS)");
	CHECK(!memcmp(mem + RX_BUFS, f, 60), "receive: the frame in its buffer");
	CHECK(rd(E1000_RDH) == 1, "receive: RDH moved to 1");
	CHECK(env.line && (rd(E1000_ICR) & E1000_ICR_RXT0), "receive: RXT0 raised the line");
	CHECK(rd(E1000_GPRC) == 1 && rd(E1000_GPRC) == 0 && rd(E1000_GORCL) == 60 &&
	      rd(E1000_TPR) == 1, "stats: GPRC, GORCL, TPR, clear on read");

	/* RXDMT0: half the ring (RDMTS 00) free. */
	e1000_receive(&nic, f, 60);
	CHECK(!(rd(E1000_ICR) & E1000_ICR_RXDMT0), "RXDMT0: not with 5 of 8 free");
	e1000_receive(&nic, f, 60);
	CHECK(rd(E1000_ICR) & E1000_ICR_RXDMT0, "RXDMT0: with 4 of 8 free");

	/* Several buffers: 256 bytes each (BSIZE 11). */
	fresh();
	rx_setup(8, E1000_RCTL_EN | 3u << E1000_RCTL_BSIZE_SHIFT);
	make_frame(big, mac, 1000, 5);
	CHECK(e1000_receive(&nic, big, 1000) == 0 && rd(E1000_RDH) == 4,
	      "multi: 1000 bytes in 4 buffers of 256");
	for (unsigned i = 0; i < 4; i++) {
		unsigned len = i < 3 ? 256 : 1000 - 768;

		if (le16(rxd(i) + 8) != len || memcmp(mem + RX_BUFS + 2048 * i, big + 256 * i, len) ||
		    rxd(i)[12] != (E1000_RXD_DD | (i == 3 ? E1000_RXD_EOP : 0)))
			same = false;
	}
	CHECK(same, "multi: lengths 256, 256, 256, 232, EOP on the last, data in order");
	CHECK(e1000_receive(&nic, big, 1000) == -1 && rd(E1000_RDH) == 4,
	      "multi: 4 buffers needed, 3 free: -1, nothing written");
	CHECK(!e1000_can_receive(&nic), "can_receive: false without room for a full frame");

	/* Ring full, then the guest gives buffers back. */
	fresh();
	rx_setup(8, E1000_RCTL_EN);
	make_frame(f, mac, 100, 9);
	for (unsigned i = 0; i < 7; i++)
		e1000_receive(&nic, f, 100);
	CHECK(rd(E1000_RDH) == 7 && rd(E1000_RDT) == 7, "full: 7 frames took the 7 buffers");
	CHECK(e1000_receive(&nic, f, 100) == -1 && !e1000_can_receive(&nic),
	      "full: -1, the caller keeps the frame");
	CHECK(rd(E1000_ICR) & E1000_ICR_RXO, "full: RXO raised");
	memset(rxd(7), 0, 16);
	put_le(rxd(7), RX_BUFS + 2048 * 7, 8);
	memset(rxd(0), 0, 16);
	put_le(rxd(0), RX_BUFS, 8);
	wr(E1000_RDT, 1);
	CHECK(e1000_can_receive(&nic) && e1000_receive(&nic, f, 100) == 0 &&
	      rd(E1000_RDH) == 0 && rxd(7)[12] == (E1000_RXD_DD | E1000_RXD_EOP),
	      "full: after RDT moved, taken into descriptor 7, RDH wraps to 0");

	/* Receiver off, runts, oversized frames. */
	wr(E1000_RCTL, 0);
	v = (uint32_t)nic.rx_dropped;
	CHECK(e1000_receive(&nic, f, 100) == 0 && rd(E1000_RDH) == 0 && nic.rx_dropped == v + 1,
	      "RCTL.EN clear: dropped, counted");
	CHECK(e1000_can_receive(&nic), "can_receive: a disabled receiver takes (drops) frames");
	wr(E1000_RCTL, E1000_RCTL_EN);
	CHECK(e1000_receive(&nic, f, 13) == 0 && e1000_receive(&nic, big, 1515) == 0 &&
	      rd(E1000_RDH) == 0 && rd(E1000_RUC) == 1 && rd(E1000_ROC) == 1,
	      "runt and oversized frames dropped, RUC and ROC count them");
}

/* ---- transmit -------------------------------------------------------------- */

static uint8_t *txd(unsigned i)
{
	return mem + TX_RING + 16 * i;
}

static void txd_legacy(unsigned i, uint64_t addr, uint16_t len, uint8_t cmd)
{
	memset(txd(i), 0, 16);
	put_le(txd(i), addr, 8);
	put_le(txd(i) + 8, len, 2);
	txd(i)[11] = cmd;
	txd(i)[13] = 0x5a;                      /* CSS: must survive write-back */
	put_le(txd(i) + 14, 0xbeef, 2);
}

static void txd_data(unsigned i, uint64_t addr, uint32_t len, uint8_t dcmd, uint8_t popts)
{
	memset(txd(i), 0, 16);
	put_le(txd(i), addr, 8);
	put_le(txd(i) + 8, len | (uint32_t)E1000_TXD_DTYP_DATA << 20 |
	       (uint32_t)(dcmd | E1000_TXD_DEXT) << 24, 4);
	txd(i)[13] = popts;
}

static void txd_context(unsigned i, const uint8_t cs[8], uint8_t tucmd)
{
	memset(txd(i), 0, 16);
	memcpy(txd(i), cs, 8);
	put_le(txd(i) + 8, (uint32_t)(tucmd | E1000_TXD_DEXT) << 24, 4);
}

static void tx_setup(void)
{
	wr(E1000_TDBAL, TX_RING);
	wr(E1000_TDBAH, 0);
	wr(E1000_TDLEN, 8 * 16);
	wr(E1000_TDH, 0);
	wr(E1000_TDT, 0);
	wr(E1000_TCTL, E1000_TCTL_EN);
}

static uint16_t csum(const uint8_t *b, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i++)
		sum += (i & 1) ? b[i] : (uint32_t)b[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void test_tx(void)
{
	uint8_t f[1514];
	uint32_t v;

	fresh();
	tx_setup();
	wr(E1000_IMS, E1000_ICR_TXDW);
	make_frame(f, other, 60, 11);
	memcpy(mem + TX_BUFS, f, 60);
	txd_legacy(0, TX_BUFS, 60, E1000_TXD_EOP | E1000_TXD_RS | E1000_TXD_IFCS);
	wr(E1000_TDT, 1);
	CHECK(env.tx_calls == 1 && env.tx_len == 60 && !memcmp(env.tx_frame, f, 60),
	      "tx: one descriptor, the frame byte for byte");
	CHECK(rd(E1000_TDH) == 1, "tx: TDH moved to 1");
	CHECK(txd(0)[12] == E1000_TXD_DD && txd(0)[13] == 0x5a && le16(txd(0) + 14) == 0xbeef &&
	      le16(txd(0) + 8) == 60, "tx: DD written to the status byte, nothing else");
	v = rd(E1000_ICR);
	CHECK((v & E1000_ICR_TXDW) && (v & E1000_ICR_TXQE) && (v & E1000_ICR_INT_ASSERTED),
	      "tx: TXDW and TXQE, the line was up");
	CHECK(rd(E1000_GPTC) == 1 && rd(E1000_TPT) == 1 && rd(E1000_GOTCL) == 60 &&
	      rd(E1000_GPTC) == 0, "stats: GPTC, TPT, GOTCL, clear on read");

	/* Gathered from three buffers, RS on the last only. */
	make_frame(f, other, 600, 13);
	memcpy(mem + TX_BUFS + 0x1000, f, 100);
	memcpy(mem + TX_BUFS + 0x2000, f + 100, 200);
	memcpy(mem + TX_BUFS + 0x3000, f + 300, 300);
	txd_legacy(1, TX_BUFS + 0x1000, 100, 0);
	txd_legacy(2, TX_BUFS + 0x2000, 200, 0);
	txd_legacy(3, TX_BUFS + 0x3000, 300, E1000_TXD_EOP | E1000_TXD_RS);
	wr(E1000_TDT, 4);
	CHECK(env.tx_calls == 2 && env.tx_len == 600 && !memcmp(env.tx_frame, f, 600),
	      "tx: three descriptors gathered into one 600-byte frame");
	CHECK(rd(E1000_TDH) == 4 && txd(1)[12] == 0 && txd(2)[12] == 0 &&
	      txd(3)[12] == E1000_TXD_DD, "tx: DD only where RS asked");

	/* Busy, then poll. */
	env.tx_result = 1;
	memcpy(mem + TX_BUFS, f, 80);
	txd_legacy(4, TX_BUFS, 80, E1000_TXD_EOP | E1000_TXD_RS);
	wr(E1000_TDT, 5);
	CHECK(env.tx_calls == 3 && rd(E1000_TDH) == 4 && txd(4)[12] == 0 && nic.tx_busy,
	      "busy: the descriptor stays at TDH, not written back");
	rd(E1000_ICR);
	e1000_poll(&nic);
	CHECK(env.tx_calls == 4 && rd(E1000_TDH) == 4, "busy: a poll while busy retries, waits");
	env.tx_result = 0;
	e1000_poll(&nic);
	CHECK(env.tx_calls == 5 && env.tx_len == 80 && !memcmp(env.tx_frame, f, 80) &&
	      rd(E1000_TDH) == 5 && txd(4)[12] == E1000_TXD_DD && !nic.tx_busy,
	      "busy: the next poll sends it, DD, TDH moves");
	CHECK(rd(E1000_ICR) & E1000_ICR_TXDW, "busy: TXDW after the poll");

	/* Refused by the wire: counted, the descriptor completes. */
	env.tx_result = -1;
	txd_legacy(5, TX_BUFS, 80, E1000_TXD_EOP | E1000_TXD_RS);
	wr(E1000_TDT, 6);
	CHECK(rd(E1000_TDH) == 6 && txd(5)[12] == E1000_TXD_DD && nic.tx_dropped == 1,
	      "refused: counted, completed");
	env.tx_result = 0;

	/* Ring wrap: descriptors 6, 7, 0. */
	txd_legacy(6, TX_BUFS, 60, E1000_TXD_EOP);
	txd_legacy(7, TX_BUFS, 60, E1000_TXD_EOP);
	txd_legacy(0, TX_BUFS, 60, E1000_TXD_EOP);
	v = env.tx_calls;
	wr(E1000_TDT, 1);
	CHECK(env.tx_calls == v + 3 && rd(E1000_TDH) == 1, "tx: wraps around the ring");
	CHECK(env.tx_bad_len == 0, "tx: every frame 14 to 1514 bytes");
}

/* An IPv4/UDP frame: the IP checksum 0, the UDP one the pseudo-header sum. */
static size_t udp_frame(uint8_t *f)
{
	static const uint8_t ip[20] = {
		0x45, 0, 0, 60, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0,
		10, 0, 0, 1, 10, 0, 0, 2,
	};
	uint8_t pseudo[12];
	uint16_t s;

	make_frame(f, other, 74, 17);
	memcpy(f + 14, ip, 20);
	f[34] = 0x30; f[35] = 0x39;             /* ports 12345 -> 53 */
	f[36] = 0x00; f[37] = 0x35;
	f[38] = 0; f[39] = 40;                  /* UDP length */
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0; pseudo[9] = 17; pseudo[10] = 0; pseudo[11] = 40;
	s = csum(pseudo, 12, 0);
	f[40] = (uint8_t)(s >> 8);
	f[41] = (uint8_t)s;
	return 74;
}

static void test_tx_extended(void)
{
	static const uint8_t cs[8] = { 14, 24, 33, 0, 34, 40, 0, 0 };
	uint8_t f[1514], pseudo[12];
	size_t len = udp_frame(f);
	unsigned logs;

	fresh();
	tx_setup();
	memcpy(mem + TX_BUFS, f, 34);
	memcpy(mem + TX_BUFS + 0x1000, f + 34, len - 34);
	txd_context(0, cs, E1000_TXD_RS | 0x02 /* IP */);
	txd_data(1, TX_BUFS, 34, 0, E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM);
	txd_data(2, TX_BUFS + 0x1000, (uint32_t)(len - 34), E1000_TXD_EOP | E1000_TXD_RS, 0);
	wr(E1000_TDT, 3);
	CHECK(env.tx_calls == 1 && env.tx_len == len, "extended: context + 2 data, one frame");
	CHECK(csum(env.tx_frame + 14, 20, 0) == 0xffff && (env.tx_frame[24] | env.tx_frame[25]),
	      "extended: IP header checksum inserted and valid");
	memcpy(pseudo, env.tx_frame + 26, 8);
	pseudo[8] = 0; pseudo[9] = 17; pseudo[10] = 0; pseudo[11] = 40;
	CHECK(csum(env.tx_frame + 34, 40, csum(pseudo, 12, 0)) == 0xffff,
	      "extended: UDP checksum inserted and valid");
	CHECK(!memcmp(env.tx_frame + 42, f + 42, len - 42) && !memcmp(env.tx_frame, f, 24),
	      "extended: the rest of the frame unchanged");
	CHECK(txd(0)[12] == E1000_TXD_DD && txd(1)[12] == 0 && txd(2)[12] == E1000_TXD_DD &&
	      rd(E1000_TDH) == 3, "extended: write-back where RS asked");

	/* Legacy IC: the checksum from CSS to the end, at CSO. */
	memcpy(mem + TX_BUFS, f, len);
	txd_legacy(3, TX_BUFS, (uint16_t)len, E1000_TXD_EOP | E1000_TXD_IC);
	txd(3)[10] = 40;                        /* CSO */
	txd(3)[13] = 34;                        /* CSS */
	wr(E1000_TDT, 4);
	CHECK(env.tx_calls == 2 && csum(env.tx_frame + 34, 40, csum(pseudo, 12, 0)) == 0xffff &&
	      csum(env.tx_frame + 14, 20, 0) != 0xffff, "legacy IC: only the UDP checksum");

	/* TSE: refused, logged, the descriptors complete. */
	logs = env.logs;
	txd_context(4, cs, 0x04 /* TSE */ | 0x01);
	txd_data(5, TX_BUFS, (uint32_t)len, E1000_TXD_EOP | E1000_TXD_RS | E1000_TXD_TSE,
		 E1000_TXD_POPTS_TXSM);
	wr(E1000_TDT, 6);
	CHECK(env.tx_calls == 2 && nic.tx_dropped == 1 && env.logs == logs + 1 &&
	      strstr(env.last_log, "TSE") && rd(E1000_TDH) == 6 && txd(5)[12] == E1000_TXD_DD,
	      "TSE: not sent, counted, logged, completed");
	/* A reserved descriptor type: skipped, logged. */
	txd_data(6, TX_BUFS, 60, E1000_TXD_EOP, 0);
	txd(6)[10] = 0x50;
	wr(E1000_TDT, 7);
	CHECK(env.tx_calls == 2 && env.logs == logs + 2 && rd(E1000_TDH) == 7,
	      "reserved DTYP: skipped, logged");
}

/* ---- hostile programming -------------------------------------------------- */

static void test_hostile(void)
{
	uint8_t f[200];
	unsigned logs;
	uint32_t v;

	fresh();
	rx_setup(8, E1000_RCTL_EN);
	tx_setup();
	make_frame(f, mac, sizeof(f), 21);

	/* A receive ring outside RAM. */
	wr(E1000_RDBAL, FAR);
	logs = env.logs;
	CHECK(e1000_receive(&nic, f, sizeof(f)) == 0 && nic.rx_stopped && nic.dma_errors == 1 &&
	      env.logs == logs + 1 && strstr(env.last_log, "receive"),
	      "rx ring outside RAM: DMA error, ring stopped, logged");
	CHECK(e1000_receive(&nic, f, sizeof(f)) == 0 && env.logs == logs + 1 && rd(E1000_MPC) == 1,
	      "rx stopped: frames dropped (MPC), no more log lines");
	wr(E1000_RDBAL, RX_RING);
	CHECK(!nic.rx_stopped && e1000_receive(&nic, f, sizeof(f)) == 0 && rd(E1000_RDH) == 1 &&
	      !memcmp(mem + RX_BUFS, f, sizeof(f)), "rx: rewriting RDBAL restarts it");
	/* A buffer outside RAM. */
	put_le(rxd(1), FAR, 8);
	CHECK(e1000_receive(&nic, f, sizeof(f)) == 0 && nic.rx_stopped && nic.dma_errors == 2 &&
	      rd(E1000_RDH) == 1, "rx buffer outside RAM: stopped, RDH stays");
	put_le(rxd(1), RX_BUFS + 2048, 8);
	wr(E1000_RDT, 7);
	CHECK(e1000_receive(&nic, f, sizeof(f)) == 0 && rd(E1000_RDH) == 2,
	      "rx: rewriting RDT restarts it");

	/* Descriptors that can be read but not written back. */
	env.ro_from = RX_RING;
	env.ro_to = RX_RING + 0x1000;
	CHECK(e1000_receive(&nic, f, sizeof(f)) == 0 && nic.rx_stopped &&
	      strstr(env.last_log, "not writable") && rd(E1000_RDH) == 2,
	      "rx descriptor not writable: stopped, RDH stays");
	env.ro_to = 0;
	wr(E1000_RDT, 7);
	CHECK(e1000_receive(&nic, f, sizeof(f)) == 0 && rd(E1000_RDH) == 3,
	      "rx: writable again, RDT rewritten: taken");

	/* Tails, heads and lengths that do not fit. */
	logs = env.logs;
	wr(E1000_RDT, 8);
	CHECK(rd(E1000_RDT) == 7 && env.logs == logs + 1, "RDT beyond the ring: ignored, logged");
	wr(E1000_RDH, 0x12345);
	CHECK(rd(E1000_RDH) == 3 && env.logs == logs + 2, "RDH beyond the ring: ignored");
	wr(E1000_RDLEN, 100);
	CHECK(rd(E1000_RDLEN) == 128 && env.logs == logs + 3,
	      "RDLEN not a multiple of 128: ignored, logged");
	wr(E1000_TDT, 9);
	CHECK(rd(E1000_TDT) == 0 && env.tx_calls == 0, "TDT beyond the ring: ignored, nothing sent");
	wr(E1000_TCTL, 0);
	wr(E1000_TDLEN, 64 * 16);
	wr(E1000_TDH, 40);
	wr(E1000_TDT, 5);
	CHECK(rd(E1000_TDH) == 40 && rd(E1000_TDT) == 5, "TDLEN 64 descriptors: TDH 40 fits");
	logs = env.logs;
	wr(E1000_TDLEN, 128);
	CHECK(rd(E1000_TDH) == 0 && rd(E1000_TDT) == 0 && env.logs == logs + 1,
	      "TDLEN shrunk under TDH: head and tail back to 0, logged");
	wr(E1000_TCTL, E1000_TCTL_EN);

	/* A transmit ring outside RAM, then rewritten. */
	wr(E1000_TDBAL, FAR);
	memcpy(mem + TX_BUFS, f, 60);
	txd_legacy(0, TX_BUFS, 60, E1000_TXD_EOP | E1000_TXD_RS);
	v = (uint32_t)nic.dma_errors;
	wr(E1000_TDT, 1);
	CHECK(nic.tx_stopped && nic.dma_errors == v + 1 && env.tx_calls == 0 && rd(E1000_TDH) == 0,
	      "tx ring outside RAM: stopped, nothing sent, TDH stays");
	wr(E1000_TDBAL, TX_RING);
	wr(E1000_TDT, 1);
	CHECK(!nic.tx_stopped && env.tx_calls == 1 && rd(E1000_TDH) == 1,
	      "tx: rewriting TDBAL and TDT restarts it");
	/* A transmit buffer outside RAM. */
	txd_legacy(1, FAR, 60, E1000_TXD_EOP | E1000_TXD_RS);
	wr(E1000_TDT, 2);
	CHECK(nic.tx_stopped && env.tx_calls == 1 && txd(1)[12] == 0,
	      "tx buffer outside RAM: stopped, not sent");
	txd_legacy(1, TX_BUFS, 60, E1000_TXD_EOP | E1000_TXD_RS);
	wr(E1000_TDT, 2);
	CHECK(env.tx_calls == 2 && rd(E1000_TDH) == 2, "tx: the next TDT write resumes");
	/* A descriptor asking for DD where it cannot be written. */
	env.ro_from = TX_RING;
	env.ro_to = TX_RING + 0x100;
	txd_legacy(2, TX_BUFS, 60, E1000_TXD_EOP | E1000_TXD_RS);
	wr(E1000_TDT, 3);
	CHECK(env.tx_calls == 3 && nic.tx_stopped && strstr(env.last_log, "not writable") &&
	      rd(E1000_TDH) == 3, "tx write-back refused: sent once, TDH past it, stopped");
	env.ro_to = 0;
	wr(E1000_TDT, 3);
	CHECK(env.tx_calls == 3 && !nic.tx_stopped, "tx: restarted, nothing sent twice");

	/* Oversized, runt, and a 1 MiB extended length. */
	logs = env.logs;
	txd_legacy(3, TX_BUFS, 1000, 0);
	txd_legacy(4, TX_BUFS, 1000, E1000_TXD_EOP | E1000_TXD_RS);
	wr(E1000_TDT, 5);
	CHECK(env.tx_calls == 3 && env.logs == logs + 1 && strstr(env.last_log, "1514") &&
	      rd(E1000_TDH) == 5 && txd(4)[12] == E1000_TXD_DD,
	      "2000 gathered bytes: dropped, logged, completed");
	txd_legacy(5, TX_BUFS, 10, E1000_TXD_EOP);
	txd_data(6, FAR, E1000_TXD_LEN_MASK, E1000_TXD_EOP, 0);
	wr(E1000_TDT, 7);
	CHECK(env.tx_calls == 3 && env.logs == logs + 3 && !nic.tx_stopped && rd(E1000_TDH) == 7,
	      "a 10-byte frame and a 1 MiB descriptor: dropped without DMA");
	make_frame(f, other, 60, 1);
	memcpy(mem + TX_BUFS, f, 60);
	txd_legacy(7, TX_BUFS, 60, E1000_TXD_EOP);
	wr(E1000_TDT, 0);
	CHECK(env.tx_calls == 4 && env.tx_len == 60 && !memcmp(env.tx_frame, f, 60) &&
	      rd(E1000_TDH) == 0, "after all that, a good frame goes out intact");

	/* Bad register accesses. */
	logs = env.logs;
	CHECK(rd(0x0f00) == 0 && env.logs == logs + 1, "unknown register: 0, logged");
	wr(0x0f04, 1);
	CHECK(rd(0x0f04) == 0 && env.logs == logs + 1, "same 4 KiB page: not logged again");
	wr(0x6000, 1);
	CHECK(env.logs == logs + 2, "another page: logged");
	CHECK(e1000_mmio_read(&nic, E1000_STATUS + 1, 4) == 0 &&
	      e1000_mmio_read(&nic, E1000_STATUS, 2) == 0 &&
	      e1000_mmio_read(&nic, E1000_MMIO_SIZE, 4) == 0 && env.logs == logs + 5,
	      "unaligned, word and out-of-window reads: 0, logged");
	CHECK(env.tx_bad_len == 0 && env.bad_irq == 0, "no bad frame, no spurious line change");
}

/* ---- the I/O window, plain registers --------------------------------------- */

static void test_io(void)
{
	fresh();
	e1000_io_write(&nic, E1000_IOADDR, 4, E1000_STATUS);
	CHECK(e1000_io_read(&nic, E1000_IOADDR, 4) == E1000_STATUS &&
	      e1000_io_read(&nic, E1000_IODATA, 4) == rd(E1000_STATUS),
	      "I/O: IOADDR selects, IODATA reads STATUS");
	e1000_io_write(&nic, E1000_IOADDR, 4, E1000_IMS);
	e1000_io_write(&nic, E1000_IODATA, 4, E1000_ICR_RXT0);
	CHECK(rd(E1000_IMS) == E1000_ICR_RXT0, "I/O: IODATA writes IMS");
	env.logs = 0;
	CHECK(e1000_io_read(&nic, 8, 4) == 0 && e1000_io_read(&nic, E1000_IODATA, 1) == 0 &&
	      env.logs == 2, "I/O: other offsets and sizes read 0, logged");
	wr(0x0e00, 0x12345678);                 /* LEDCTL */
	wr(E1000_TIPG, 0x0060200a);
	CHECK(rd(0x0e00) == 0x12345678 && rd(E1000_TIPG) == 0x0060200a && env.logs == 2,
	      "programmed-only registers hold their values, silently");
}

int main(void)
{
	test_pci();
	test_eeprom_phy();
	test_reset();
	test_irq();
	test_rx_filter();
	test_rx();
	test_tx();
	test_tx_extended();
	test_hostile();
	test_io();
	return done_testing();
}
