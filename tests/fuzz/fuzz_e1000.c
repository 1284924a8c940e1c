/*
 * Fuzz target: the emulated 82540EM (drivers/e1000.c) under a byte stream
 * of guest accesses (MMIO of any offset and size, the I/O window, writes
 * to the ring and interrupt registers with small values, descriptors and
 * words stored into a small fake guest RAM that starts as the input
 * itself) and frames from the wire, while the wire answers sent, busy or
 * refused. The model may attempt DMA outside the RAM (the fake refuses it,
 * as the platform would); what must hold, abort() otherwise:
 *   - RDH/RDT below the receive ring's descriptor count, TDH/TDT below
 *     the transmit ring's (when nonzero), ring lengths 128-byte multiples;
 *   - a frame handed to the wire is 14 to 1514 bytes, and from txbuf;
 *   - the gathered length fits txbuf; a held (busy) frame is a whole one;
 *   - the interrupt line is what ICR & IMS says, and the last level the
 *     platform was told; ICR never stores INT_ASSERTED;
 *   - e1000_receive() returns 0 or -1, -1 only with the receiver enabled,
 *     never when e1000_can_receive() said it would take the frame;
 *   - STATUS keeps the link up.
 * Memory errors are AddressSanitizer's to report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "e1000.h"

#define MEM_SIZE        0x2000u
#define OP_SIZE         8

static uint8_t mem[MEM_SIZE];
static struct e1000 nic;
static bool line;
static int tx_answer;

static void f_log(void *c, const char *m) { (void)c; (void)m; }

static void f_irq(void *c, unsigned irq, bool level)
{
	(void)c;
	if (irq != 9 || level == line)
		abort();
	line = level;
}

static int f_dma_read(void *c, uint64_t gpa, void *buf, size_t len)
{
	(void)c;
	if (gpa > MEM_SIZE || len > MEM_SIZE - gpa)
		return -1;
	memcpy(buf, mem + gpa, len);
	return 0;
}

static int f_dma_write(void *c, uint64_t gpa, const void *buf, size_t len)
{
	(void)c;
	if (gpa > MEM_SIZE || len > MEM_SIZE - gpa)
		return -1;
	memcpy(mem + gpa, buf, len);
	return 0;
}

static int f_tx(void *c, const void *frame, size_t len)
{
	(void)c;
	if (len < E1000_FRAME_MIN || len > E1000_FRAME_MAX || frame != nic.txbuf)
		abort();
	return tx_answer;
}

static const struct platform plat = { .irq_set = f_irq, .log = f_log };
static const struct e1000_net net = {
	.dma_read = f_dma_read, .dma_write = f_dma_write, .tx = f_tx,
};
static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

/* The registers a driver programs, for the op that writes small values. */
static const uint32_t regs[] = {
	E1000_CTRL, E1000_EECD, E1000_EERD, E1000_MDIC, E1000_ICR, E1000_ICS,
	E1000_IMS, E1000_IMC, E1000_RCTL, E1000_TCTL, E1000_RDBAL, E1000_RDBAH,
	E1000_RDLEN, E1000_RDH, E1000_RDT, E1000_TDBAL, E1000_TDBAH, E1000_TDLEN,
	E1000_TDH, E1000_TDT, E1000_MTA, E1000_RAL0, E1000_RAH0, E1000_GPRC,
};

enum { OP_WRITE, OP_READ, OP_REG, OP_RECV, OP_STORE, OP_DESC, OP_POLL, OP_IO };

static void check_invariants(void)
{
	uint32_t nr = nic.rdlen / 16, nt = nic.tdlen / 16;

	if ((nic.rdlen & ~E1000_RING_LEN_MASK) || (nic.tdlen & ~E1000_RING_LEN_MASK))
		abort();
	if (nr && (nic.rdh >= nr || nic.rdt >= nr))
		abort();
	if (nt && (nic.tdh >= nt || nic.tdt >= nt))
		abort();
	if (nic.txlen > E1000_FRAME_MAX)
		abort();
	if (nic.tx_busy && (nic.txlen < E1000_FRAME_MIN || nic.txoverflow || nic.txtse))
		abort();
	if (nic.line != ((nic.icr & nic.ims) != 0) || nic.line != line)
		abort();
	if (nic.icr & E1000_ICR_INT_ASSERTED)
		abort();
	if (nic.ee.out >= E1000_EEPROM_WORDS * 16)
		abort();
	if ((nic.status & (E1000_STATUS_LU | E1000_STATUS_FD)) !=
	    (E1000_STATUS_LU | E1000_STATUS_FD))
		abort();
}

static void receive(const uint8_t *d, size_t n, size_t at, const uint8_t *op)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	static uint8_t frame[1600];
	size_t len = (size_t)(op[1] | op[2] << 8) % sizeof(frame);
	bool can = e1000_can_receive(&nic);
	int r;

	for (size_t i = 0; i < len; i++)
		frame[i] = d[(at + i) % n];
	if (len >= 6 && (op[3] & 3) == 0)
		memcpy(frame, mac, 6);
	else if (len >= 6 && (op[3] & 3) == 1)
		memcpy(frame, bcast, 6);
	else if (len >= 6 && (op[3] & 3) == 2)
		memcpy(frame, mcast, 6);
	r = e1000_receive(&nic, frame, len);
	if (r != 0 && r != -1)
		abort();
	if (r == -1 && (!(nic.rctl & E1000_RCTL_EN) || (can && len <= E1000_FRAME_MAX)))
		abort();
}

/* A descriptor in RAM: op[0] bits 7:5 and op[1] the slot, op[2] the
 * buffer (x32), op[3] the command (its top bit: a buffer outside RAM), v
 * the length dword (its top byte POPTS, and bit 31 the command's). */
static void store_desc(const uint8_t *op, uint32_t v)
{
	unsigned slot = ((unsigned)(op[0] >> 5) << 8 | op[1]) % (MEM_SIZE / 16);
	uint8_t *d = mem + slot * 16;
	uint64_t addr = (op[3] & 0x80) ? 0xfffffffffffff000ull : (uint64_t)op[2] * 32;

	for (unsigned i = 0; i < 8; i++)
		d[i] = (uint8_t)(addr >> (8 * i));
	d[8] = (uint8_t)v;
	d[9] = (uint8_t)(v >> 8);
	d[10] = (uint8_t)(v >> 16);
	d[11] = (uint8_t)(op[3] & 0x7f) | (uint8_t)(v >> 24 & 0x80);
	d[12] = 0;
	d[13] = (uint8_t)(v >> 24);
}

static void step(const uint8_t *d, size_t n, size_t at)
{
	const uint8_t *op = d + at;
	uint32_t v = (uint32_t)op[4] | (uint32_t)op[5] << 8 | (uint32_t)op[6] << 16 |
		     (uint32_t)op[7] << 24;
	uint32_t off = ((uint32_t)op[1] | (uint32_t)op[2] << 8 | (uint32_t)(op[3] & 1) << 16);
	static const unsigned sizes[4] = { 4, 4, 2, 1 };
	unsigned size = sizes[(op[0] >> 3) & 3];

	switch (op[0] & 7) {
	case OP_WRITE:
		e1000_mmio_write(&nic, off, size, v);
		break;
	case OP_READ:
		e1000_mmio_read(&nic, off, size);
		break;
	case OP_REG:
		/* Small values reach past the validation more often. */
		e1000_mmio_write(&nic, regs[op[1] % (sizeof(regs) / sizeof(regs[0]))], 4,
				 (op[2] & 1) ? v : v & 0x3ff);
		break;
	case OP_RECV:
		receive(d, n, at + OP_SIZE, op);
		break;
	case OP_STORE:
		memcpy(mem + (op[1] | op[2] << 8) % (MEM_SIZE - 3), &v, 4);
		break;
	case OP_DESC:
		store_desc(op, v);
		break;
	case OP_POLL:
		tx_answer = op[1] % 3 == 2 ? -1 : op[1] % 3;
		e1000_poll(&nic);
		break;
	default:
		if (op[1] & 1)
			e1000_io_write(&nic, op[2] & 0x3f, size, v);
		else
			e1000_io_read(&nic, op[2] & 0x3f, size);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < MEM_SIZE; i++)
		mem[i] = d[i % n];
	line = false;
	tx_answer = 0;
	e1000_init(&nic, &plat, mac, 9, &net);
	for (size_t at = 0; at + OP_SIZE <= n; at += OP_SIZE) {
		step(d, n, at);
		check_invariants();
	}
	return 0;
}

/* ---- seeds: a driver bringing up both rings and moving frames ---------- */

static size_t put_op(uint8_t *b, size_t at, uint8_t op, uint8_t a1, uint8_t a2, uint8_t a3,
		     uint32_t v)
{
	b[at] = op;
	b[at + 1] = a1;
	b[at + 2] = a2;
	b[at + 3] = a3;
	for (unsigned i = 0; i < 4; i++)
		b[at + 4 + i] = (uint8_t)(v >> (8 * i));
	return at + OP_SIZE;
}

static uint8_t reg_index(uint32_t reg)
{
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (regs[i] == reg)
			return (uint8_t)i;
	return 0;
}

/* OP_REG with the full value. */
static size_t put_reg(uint8_t *b, size_t at, uint32_t reg, uint32_t v)
{
	return put_op(b, at, OP_REG, reg_index(reg), 1, 0, v);
}

static size_t put_desc(uint8_t *b, size_t at, unsigned slot, uint32_t buf, uint8_t cmd,
		       uint32_t v)
{
	return put_op(b, at, (uint8_t)(OP_DESC | (slot >> 8) << 5), (uint8_t)slot,
		      (uint8_t)(buf / 32), cmd, v);
}

/* Linux's way to the EEPROM: READ of word 3 bit-banged through EECD, with
 * a read of EECD at each data clock; then a PHY write over MDIC. */
static size_t seed_microwire(uint8_t *buf)
{
	const uint32_t req = E1000_EECD_REQ | E1000_EECD_CS;
	const unsigned cmd = 0x6u << 6 | 3;
	size_t at = 0;

	at = put_reg(buf, at, E1000_EECD, E1000_EECD_REQ);
	at = put_reg(buf, at, E1000_EECD, req);
	for (int b = 8; b >= 0; b--) {
		uint32_t di = ((cmd >> b) & 1) ? E1000_EECD_DI : 0;

		at = put_reg(buf, at, E1000_EECD, req | di);
		at = put_reg(buf, at, E1000_EECD, req | di | E1000_EECD_SK);
		at = put_reg(buf, at, E1000_EECD, req | di);
	}
	for (unsigned b = 0; b < 16; b++) {
		at = put_reg(buf, at, E1000_EECD, req | E1000_EECD_SK);
		at = put_op(buf, at, OP_READ, E1000_EECD, 0, 0, 0);
		at = put_reg(buf, at, E1000_EECD, req);
	}
	at = put_reg(buf, at, E1000_EECD, 0);
	at = put_reg(buf, at, E1000_MDIC, E1000_MDIC_OP_WRITE | 1u << E1000_MDIC_PHY_SHIFT |
		     E1000_MDIC_INT | 0x9340);
	at = put_reg(buf, at, E1000_MDIC, E1000_MDIC_OP_READ | 1u << E1000_MDIC_PHY_SHIFT |
		     4u << E1000_MDIC_REG_SHIFT);
	return at;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	size_t at = 0;

	if (i > 3 || cap < 2048)
		return 0;
	if (i == 3)
		return seed_microwire(buf);
	/* Receive ring at 0 (8 descriptors, 256-byte buffers from 0x400). */
	for (unsigned k = 0; k < 8; k++)
		at = put_desc(buf, at, k, 0x400 + 256 * k, 0, 0);
	at = put_reg(buf, at, E1000_RDBAL, 0);
	at = put_reg(buf, at, E1000_RDLEN, 128);
	at = put_reg(buf, at, E1000_RDT, 7);
	at = put_reg(buf, at, E1000_IMS, 0x1ffff);
	at = put_reg(buf, at, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM |
		     (i == 1 ? E1000_RCTL_UPE | E1000_RCTL_MPE : 0) |
		     3u << E1000_RCTL_BSIZE_SHIFT);
	at = put_op(buf, at, OP_RECV, 60, 0, 0, 0);
	at = put_op(buf, at, OP_RECV, 0xea, 0x05, 1, 0);        /* 1514, broadcast */
	at = put_op(buf, at, OP_RECV, 0x00, 0x02, 2, 0);        /* 512, multicast */
	/* Transmit ring at 0x1000: legacy, gathered, and extended. */
	at = put_desc(buf, at, 0x100, 0x1400, E1000_TXD_EOP | E1000_TXD_RS, 60);
	at = put_desc(buf, at, 0x101, 0x1500, 0, 100);
	at = put_desc(buf, at, 0x102, 0x1600, E1000_TXD_EOP | E1000_TXD_RS, 200);
	at = put_desc(buf, at, 0x103, 0x0e00, E1000_TXD_DEXT | E1000_TXD_RS, 0);
	at = put_desc(buf, at, 0x104, 0x1700, E1000_TXD_DEXT | E1000_TXD_EOP | E1000_TXD_RS,
		      0x03100000 | 80);
	at = put_reg(buf, at, E1000_TDBAL, 0x1000);
	at = put_reg(buf, at, E1000_TDLEN, 128);
	at = put_reg(buf, at, E1000_TCTL, E1000_TCTL_EN);
	if (i == 2)
		at = put_op(buf, at, OP_POLL, 1, 0, 0, 0);      /* the wire busy */
	at = put_reg(buf, at, E1000_TDT, 5);
	at = put_op(buf, at, OP_POLL, 0, 0, 0, 0);
	at = put_op(buf, at, OP_READ, E1000_ICR, 0, 0, 0);
	at = put_op(buf, at, OP_READ, (uint8_t)E1000_GPRC, (uint8_t)(E1000_GPRC >> 8), 0, 0);
	at = put_reg(buf, at, E1000_EERD, 0x0101);
	at = put_reg(buf, at, E1000_MDIC, 0x08220000);
	at = put_reg(buf, at, E1000_CTRL, E1000_CTRL_RST);
	return at;
}
