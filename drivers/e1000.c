/*
 * The emulated 82540EM (see e1000.h).
 *
 * The rings (the manual's 3.2 and 3.3). Each is RDLEN/TDLEN / 16 descriptors at
 * RDBAH:RDBAL (TDBAH:TDBAL). The descriptors from the head up to, not
 * including, the tail belong to the device; head == tail is a ring the
 * device has nothing in (receive: no free buffer; transmit: nothing to
 * send). The guest moves the tail, the device the head.
 *   - Receive: a frame that passes the address filter takes as many
 *     descriptors as its length needs buffers (RCTL.BSIZE/BSEX); each is
 *     written back with its length and DD, the last with EOP, and the
 *     head moves past it; then RXT0 (and RXDMT0 when the free descriptors
 *     fall to RDMTS's fraction of the ring). A frame that does not fit
 *     the free descriptors is not taken at all: e1000_receive() says -1
 *     and the caller offers it again later.
 *   - Transmit: a TDT write (or TCTL.EN) sends what lies between head
 *     and tail, descriptor by descriptor: data is gathered until EOP,
 *     then the frame goes to the wire; a descriptor with RS gets DD in
 *     its status byte, and only that byte is written. When the wire says
 *     busy, the EOP descriptor stays at the head with its frame kept
 *     here, and e1000_poll() sends it and goes on. TXDW after write-backs,
 *     TXQE when the head reaches the tail.
 * Every descriptor is read once into a local copy, then used; lengths are
 * checked against our buffers before any DMA. A DMA error stops that
 * ring (as a master abort would) until the guest writes one of its
 * registers again. A pass over a ring is bounded by its descriptor count.
 *
 * The interrupt line is level: high while ICR & IMS is not zero, updated
 * after every change of either.
 */
#include <string.h>
#include "e1000.h"

#define PAGE_SHIFT      12
#define DESC            E1000_DESC_SIZE
/* Byte offsets in a transmit descriptor (legacy and extended). */
#define TXD_LENGTH      8
#define TXD_CSO         10
#define TXD_CMD         11
#define TXD_CSS         13              /* legacy */
#define TXD_POPTS       13              /* extended data */

/* PHY registers (IEEE 802.3 clause 22, and the M88E1011's own). */
#define PHY_CTRL        0x00
#define PHY_STATUS      0x01
#define PHY_ID1         0x02
#define PHY_ID2         0x03
#define PHY_AUTONEG_ADV 0x04
#define PHY_LP_ABILITY  0x05
#define PHY_1000T_CTRL  0x09
#define PHY_1000T_STATUS 0x0a
#define PHY_EXT_STATUS  0x0f
#define M88_PHY_SPEC_CTRL 0x10
#define M88_PHY_SPEC_STATUS 0x11
#define M88_EXT_PHY_SPEC_CTRL 0x14
#define PHY_CTRL_RESET      0x8000      /* self-clearing */
#define PHY_CTRL_RESTART_AN 0x0200      /* self-clearing */

static const uint16_t phy_defaults[32] = {
	[PHY_CTRL] = 0x1140,            /* autoneg on, full duplex, 1000 */
	[PHY_STATUS] = 0x796d,          /* link up, autoneg complete */
	[PHY_ID1] = 0x0141,             /* Marvell 88E1011 */
	[PHY_ID2] = 0x0c20,
	[PHY_AUTONEG_ADV] = 0x01e1,
	[PHY_LP_ABILITY] = 0x45e1,
	[PHY_1000T_CTRL] = 0x0300,      /* advertise 1000 full and half */
	[PHY_1000T_STATUS] = 0x3c00,    /* partner 1000 full/half, receivers ok */
	[PHY_EXT_STATUS] = 0x3000,
	[M88_PHY_SPEC_CTRL] = 0x0060,   /* automatic MDI crossover */
	[M88_PHY_SPEC_STATUS] = 0xac00, /* 1000 Mb/s, full duplex, link */
	[M88_EXT_PHY_SPEC_CTRL] = 0x0c60,
};

/* The registers status and abilities live in: writes do not land. */
static const uint32_t phy_read_only = 1u << PHY_STATUS | 1u << PHY_ID1 | 1u << PHY_ID2 |
				      1u << PHY_LP_ABILITY | 1u << PHY_1000T_STATUS |
				      1u << PHY_EXT_STATUS | 1u << M88_PHY_SPEC_STATUS;

/* EEPROM words other than the MAC (0-2) and the checksum (0x3f). */
#define EE_LED_SETTINGS 0x04
#define EE_SUBSYS_ID    0x0b
#define EE_SUBSYS_VENDOR 0x0c
#define EE_DEVICE_ID    0x0d
#define EE_VENDOR_ID    0x0e
#define EE_CHECKSUM     0x3f
#define E1000_SUBSYS_ID 0x001e
/* Microwire: a start bit, opcode 10 (READ), 6 address bits. */
#define EE_CMD_BITS     9
#define EE_READ_CMD     0x6             /* start bit and READ, bits 8:6 */
#define EE_ADDR_MASK    0x3f

/*
 * The registers that are a field of struct e1000 and no more to a read;
 * writes with side effects are reg_write()'s own and never reach here.
 * PLAIN holds what the guest writes, READ_ONLY ignores writes, COR (the
 * statistics) clears on read. `reset` is the power-on value. Besides the
 * modelled ones, the registers a driver only programs: flow control, LED
 * control, the packet buffer split, descriptor thresholds and timers,
 * receive checksum control, wake-up and manageability (Linux and the
 * BSDs write them at reset).
 */
enum reg_kind { PLAIN, READ_ONLY, COR };

#define FIELD(f)        ((uint16_t)offsetof(struct e1000, f))   /* uint32_t fields */

static const struct reg_field {
	uint32_t off;
	uint16_t field;
	uint8_t kind;
	uint32_t reset;
} reg_fields[] = {
	{ E1000_CTRL, FIELD(ctrl), PLAIN, E1000_CTRL_FD | E1000_CTRL_SLU | E1000_CTRL_SPD_1000 },
	/* The link is always up: a cable to the switch that never moves. */
	{ E1000_STATUS, FIELD(status), READ_ONLY,
	  E1000_STATUS_FD | E1000_STATUS_LU | E1000_STATUS_1000 },
	{ E1000_EERD, FIELD(eerd), PLAIN, 0 },
	{ E1000_CTRL_EXT, FIELD(ctrl_ext), PLAIN, 0 },
	{ E1000_MDIC, FIELD(mdic), PLAIN, 0 },
	{ E1000_ITR, FIELD(itr), PLAIN, 0 },
	{ E1000_IMS, FIELD(ims), PLAIN, 0 },
	{ E1000_RCTL, FIELD(rctl), PLAIN, 0 },
	{ E1000_TCTL, FIELD(tctl), PLAIN, 0 },
	{ E1000_TIPG, FIELD(tipg), PLAIN, 0 },
	{ E1000_RDBAL, FIELD(rdbal), PLAIN, 0 },
	{ E1000_RDBAH, FIELD(rdbah), PLAIN, 0 },
	{ E1000_RDLEN, FIELD(rdlen), PLAIN, 0 },
	{ E1000_RDH, FIELD(rdh), PLAIN, 0 },
	{ E1000_RDT, FIELD(rdt), PLAIN, 0 },
	{ E1000_RDTR, FIELD(rdtr), PLAIN, 0 },
	{ E1000_TDBAL, FIELD(tdbal), PLAIN, 0 },
	{ E1000_TDBAH, FIELD(tdbah), PLAIN, 0 },
	{ E1000_TDLEN, FIELD(tdlen), PLAIN, 0 },
	{ E1000_TDH, FIELD(tdh), PLAIN, 0 },
	{ E1000_TDT, FIELD(tdt), PLAIN, 0 },
	{ E1000_TIDV, FIELD(tidv), PLAIN, 0 },
	{ E1000_MPC, FIELD(mpc), COR, 0 },
	{ E1000_GPRC, FIELD(gprc), COR, 0 },
	{ E1000_GPTC, FIELD(gptc), COR, 0 },
	{ E1000_GORCL, FIELD(gorcl), COR, 0 },
	{ E1000_GOTCL, FIELD(gotcl), COR, 0 },
	{ E1000_RUC, FIELD(ruc), COR, 0 },
	{ E1000_ROC, FIELD(roc), COR, 0 },
	{ E1000_TPR, FIELD(tpr), COR, 0 },
	{ E1000_TPT, FIELD(tpt), COR, 0 },
	{ 0x0028, FIELD(fcal), PLAIN, 0 },
	{ 0x002c, FIELD(fcah), PLAIN, 0 },
	{ 0x0030, FIELD(fct), PLAIN, 0 },
	{ 0x0038, FIELD(vet), PLAIN, 0x8100 },
	{ 0x0170, FIELD(fcttv), PLAIN, 0 },
	{ 0x0178, FIELD(txcw), PLAIN, 0 },
	{ 0x0180, FIELD(rxcw), PLAIN, 0 },
	{ 0x0458, FIELD(ait), PLAIN, 0 },
	{ 0x0e00, FIELD(ledctl), PLAIN, 0x07068302 },
	{ 0x1000, FIELD(pba), PLAIN, 0x00000030 },      /* 48 KiB receive */
	{ 0x2160, FIELD(fcrtl), PLAIN, 0 },
	{ 0x2168, FIELD(fcrth), PLAIN, 0 },
	{ 0x2828, FIELD(rxdctl), PLAIN, 0 },
	{ 0x282c, FIELD(radv), PLAIN, 0 },
	{ 0x2c00, FIELD(rsrpd), PLAIN, 0 },
	{ 0x3828, FIELD(txdctl), PLAIN, 0 },
	{ 0x382c, FIELD(tadv), PLAIN, 0 },
	{ 0x3830, FIELD(tspmt), PLAIN, 0 },
	{ 0x5000, FIELD(rxcsum), PLAIN, 0x00000300 },
	{ 0x5800, FIELD(wuc), PLAIN, 0 },
	{ 0x5808, FIELD(wufc), PLAIN, 0 },
	{ 0x5810, FIELD(wus), PLAIN, 0 },
	{ 0x5820, FIELD(manc), PLAIN, 0 },
	{ 0x5838, FIELD(ipav), PLAIN, 0 },
};

#define NREG_FIELDS     (sizeof(reg_fields) / sizeof(reg_fields[0]))

_Static_assert(sizeof(struct e1000) <= 0xffff, "FIELD() offsets fit 16 bits");
_Static_assert(offsetof(struct e1000, phy) < offsetof(struct e1000, rx_frames),
	       "the power-on region runs from phy up to rx_frames");

/* ---- small helpers --------------------------------------------------- */

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t get32(const uint8_t *b)
{
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get64(const uint8_t *b)
{
	return get32(b) | (uint64_t)get32(b + 4) << 32;
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)v);
	put16(b + 2, (uint16_t)(v >> 16));
}

static uint32_t *reg_field(struct e1000 *e, const struct reg_field *r)
{
	return (uint32_t *)((uint8_t *)e + r->field);
}

static void note(const struct e1000 *e, const char *msg)
{
	if (e->p && e->p->log)
		e->p->log(e->p->ctx, msg);
}

/* A guest input the model refused (counted for the bench and tests). */
static void reject(struct e1000 *e, const char *msg)
{
	e->rejected++;
	note(e, msg);
}

/* "<what> 0x<v>": the value the guest sent, without a printf. */
static void reject_hex(struct e1000 *e, const char *what, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char msg[128];
	size_t n = strnlen(what, sizeof(msg) - 20);
	unsigned digits = 1;

	while (digits < 16 && (v >> (4 * digits)))
		digits++;
	memcpy(msg, what, n);
	msg[n++] = ' ';
	msg[n++] = '0';
	msg[n++] = 'x';
	while (digits--)
		msg[n++] = hex[(v >> (4 * digits)) & 15];
	msg[n] = 0;
	reject(e, msg);
}

static bool dma_read(struct e1000 *e, uint64_t gpa, void *buf, size_t len)
{
	return e->net.dma_read && e->net.dma_read(e->net.ctx, gpa, buf, len) == 0;
}

static bool dma_write(struct e1000 *e, uint64_t gpa, const void *buf, size_t len)
{
	return e->net.dma_write && e->net.dma_write(e->net.ctx, gpa, buf, len) == 0;
}

/* ---- the interrupt line ---------------------------------------------- */

static void update_irq(struct e1000 *e)
{
	bool level = (e->icr & e->ims) != 0;

	if (level == e->line)
		return;
	e->line = level;
	if (e->p && e->p->irq_set)
		e->p->irq_set(e->p->ctx, e->irq, level);
}

static void raise_cause(struct e1000 *e, uint32_t cause)
{
	e->icr |= cause & E1000_ICR_CAUSES;
	update_irq(e);
}

/* Read to clear: the causes, and whether they asserted the line. */
static uint32_t icr_read(struct e1000 *e)
{
	uint32_t v = e->icr;

	if (e->icr & e->ims)
		v |= E1000_ICR_INT_ASSERTED;
	e->icr = 0;
	update_irq(e);
	return v;
}

/* ---- EEPROM ------------------------------------------------------------ */

static void build_eeprom(struct e1000 *e)
{
	uint16_t *w = e->eeprom, sum = 0;

	memset(w, 0, sizeof(e->eeprom));
	for (unsigned i = 0; i < 3; i++)
		w[i] = (uint16_t)(e->mac[2 * i] | e->mac[2 * i + 1] << 8);
	w[EE_LED_SETTINGS] = 0xffff;    /* unprogrammed: the driver's defaults */
	w[EE_SUBSYS_ID] = E1000_SUBSYS_ID;
	w[EE_SUBSYS_VENDOR] = E1000_VENDOR;
	w[EE_DEVICE_ID] = E1000_DEVICE;
	w[EE_VENDOR_ID] = E1000_VENDOR;
	for (unsigned i = 0; i < EE_CHECKSUM; i++)
		sum = (uint16_t)(sum + w[i]);
	w[EE_CHECKSUM] = (uint16_t)(E1000_EEPROM_SUM - sum);
}

static void eerd_write(struct e1000 *e, uint32_t v)
{
	uint32_t addr = (v >> E1000_EERD_ADDR_SHIFT) & 0xff;
	uint16_t data = 0;

	if (!(v & E1000_EERD_START)) {
		e->eerd = addr << E1000_EERD_ADDR_SHIFT;
		return;
	}
	if (addr < E1000_EEPROM_WORDS)
		data = e->eeprom[addr];
	else
		reject_hex(e, "e1000: EERD read past the 64-word EEPROM (reads 0):", addr);
	e->eerd = (uint32_t)data << E1000_EERD_DATA_SHIFT | addr << E1000_EERD_ADDR_SHIFT |
		  E1000_EERD_DONE;
}

/*
 * The Microwire interface as software bit-bangs it through EECD: with CS
 * high, DI is sampled on each rising edge of SK; after a READ command
 * (start bit, 10, 6 address bits) DO shifts out the word MSB first, one
 * bit per falling edge, on into the following words. Write and erase
 * commands are not taken (the EEPROM is read-only here).
 */
static void eecd_write(struct e1000 *e, uint32_t v)
{
	uint32_t old = e->eecd;

	e->eecd = v & (E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI | E1000_EECD_FWE |
		       E1000_EECD_REQ);
	if (!(v & E1000_EECD_CS))
		return;
	if (!(old & E1000_EECD_CS))
		memset(&e->ee, 0, sizeof(e->ee));       /* selected: a new command */
	if (!((old ^ v) & E1000_EECD_SK))
		return;
	if (!(v & E1000_EECD_SK)) {
		if (e->ee.reading)
			e->ee.out = (uint16_t)((e->ee.out + 1) & (E1000_EEPROM_WORDS * 16 - 1));
		return;
	}
	if (e->ee.reading || e->ee.in_bits >= EE_CMD_BITS)
		return;
	e->ee.in = (uint16_t)(e->ee.in << 1 | !!(v & E1000_EECD_DI));
	if (++e->ee.in_bits < EE_CMD_BITS)
		return;
	if ((e->ee.in >> 6) == EE_READ_CMD) {
		e->ee.reading = true;
		/* The falling edge that ends the address bit moves to bit 15. */
		e->ee.out = (uint16_t)(((e->ee.in & EE_ADDR_MASK) * 16 - 1) &
				       (E1000_EEPROM_WORDS * 16 - 1));
	} else {
		reject_hex(e, "e1000: EEPROM command other than READ over EECD (ignored):",
			   e->ee.in);
	}
}

static uint32_t eecd_read(const struct e1000 *e)
{
	uint32_t v = e->eecd | E1000_EECD_PRES | E1000_EECD_DO;

	if (e->eecd & E1000_EECD_REQ)
		v |= E1000_EECD_GNT;
	if (e->ee.reading && (e->eecd & E1000_EECD_CS) &&
	    !((e->eeprom[e->ee.out >> 4] >> (15 - (e->ee.out & 15))) & 1))
		v &= ~E1000_EECD_DO;
	return v;
}

/* ---- PHY --------------------------------------------------------------- */

static void phy_write(struct e1000 *e, unsigned reg, uint16_t v)
{
	if (phy_read_only & (1u << reg))
		return;
	if (reg == PHY_CTRL) {
		if (v & PHY_CTRL_RESET)
			memcpy(e->phy, phy_defaults, sizeof(e->phy));
		v &= (uint16_t)~(PHY_CTRL_RESET | PHY_CTRL_RESTART_AN);
	}
	e->phy[reg] = v;
}

/* MDIC: one PHY, at address 1; an access completes at once. */
static void mdic_write(struct e1000 *e, uint32_t v)
{
	unsigned reg = (v >> E1000_MDIC_REG_SHIFT) & 31;
	unsigned phy = (v >> E1000_MDIC_PHY_SHIFT) & 31;
	uint32_t op = v & (3u << 26);

	v &= ~(E1000_MDIC_READY | E1000_MDIC_ERROR);
	if (op != E1000_MDIC_OP_READ && op != E1000_MDIC_OP_WRITE) {
		reject_hex(e, "e1000: MDIC with a reserved opcode:", v);
		v |= E1000_MDIC_ERROR;
	} else if (phy != E1000_PHY_ADDR) {
		v |= E1000_MDIC_ERROR;          /* nobody answers: a bus scan */
	} else if (op == E1000_MDIC_OP_READ) {
		v = (v & ~E1000_MDIC_DATA) | e->phy[reg];
	} else {
		phy_write(e, reg, (uint16_t)v);
	}
	e->mdic = v | E1000_MDIC_READY;
	if (v & E1000_MDIC_INT)
		raise_cause(e, E1000_ICR_MDAC);
}

/* ---- power-on state ---------------------------------------------------- */

/* The power-on state (CTRL.RST: all but the EEPROM and the totals). */
static void power_on(struct e1000 *e)
{
	memset(&e->phy, 0, offsetof(struct e1000, rx_frames) - offsetof(struct e1000, phy));
	memcpy(e->phy, phy_defaults, sizeof(e->phy));
	for (size_t i = 0; i < NREG_FIELDS; i++)
		*reg_field(e, &reg_fields[i]) = reg_fields[i].reset;
	/* The hardware loads RAL0/RAH0 from the EEPROM's MAC. */
	e->ral[0] = get32(e->mac);
	e->rah[0] = get16(e->mac + 4) | E1000_RAH_AV;
	update_irq(e);
}

void e1000_init(struct e1000 *e, const struct platform *p, const uint8_t mac[6],
		unsigned irq, const struct e1000_net *net)
{
	memset(e, 0, sizeof(*e));
	e->p = p;
	e->net = *net;
	e->irq = irq;
	memcpy(e->mac, mac, sizeof(e->mac));
	build_eeprom(e);
	power_on(e);
}

void e1000_pci_header(uint8_t config[256], uint8_t wmask[256], uint32_t bar_sizes[6],
		      uint32_t mmio, uint16_t io, unsigned irq)
{
	memset(config, 0, 256);
	memset(wmask, 0, 256);
	memset(bar_sizes, 0, 6 * sizeof(bar_sizes[0]));
	put16(&config[0x00], E1000_VENDOR);
	put16(&config[0x02], E1000_DEVICE);
	put16(&config[0x06], 0x0200);           /* DEVSEL medium */
	config[0x08] = 0;                       /* revision */
	config[0x0b] = 0x02;                    /* network controller, Ethernet */
	config[0x0e] = 0;                       /* header type 0, one function */
	put32(&config[0x10], mmio);             /* 32-bit, non-prefetchable */
	put32(&config[0x14], (uint32_t)io | 1); /* I/O */
	put16(&config[0x2c], E1000_VENDOR);
	put16(&config[0x2e], E1000_SUBSYS_ID);
	config[0x3c] = (uint8_t)irq;
	config[0x3d] = 1;                       /* INTA# */
	config[0x3e] = 0xff;                    /* MIN_GNT, as the 82540EM */
	wmask[0x04] = 0x07;                     /* I/O, memory, bus master */
	wmask[0x05] = 0x04;                     /* INTx disable (bit 10) */
	wmask[0x07] = 0xf9;                     /* status error bits, RW1C */
	wmask[0x0c] = 0xff;                     /* cache line size */
	wmask[0x0d] = 0xff;                     /* latency timer */
	wmask[0x3c] = 0xff;                     /* interrupt line */
	bar_sizes[0] = E1000_MMIO_SIZE;
	bar_sizes[1] = E1000_IO_SIZE;
}

/* ---- rings --------------------------------------------------------------- */

static uint32_t ring_descs(uint32_t len)
{
	return len / DESC;
}

static uint64_t ring_base(uint32_t hi, uint32_t lo)
{
	return (uint64_t)hi << 32 | lo;
}

/* Descriptors the device owns: from head up to the tail. */
static uint32_t ring_owned(uint32_t n, uint32_t head, uint32_t tail)
{
	return n ? (tail + n - head) % n : 0;
}

static void rx_stop(struct e1000 *e, const char *why, uint64_t gpa)
{
	e->rx_stopped = true;
	e->dma_errors++;
	reject_hex(e, why, gpa);
}

static void tx_stop(struct e1000 *e, const char *why, uint64_t gpa)
{
	e->tx_stopped = true;
	e->dma_errors++;
	reject_hex(e, why, gpa);
}

/* RDLEN/TDLEN: a nonzero multiple of 128 bytes; a head or tail the new
 * length leaves outside the ring goes back to 0 with the other. */
static bool ring_len_write(struct e1000 *e, uint32_t *len, uint32_t *head, uint32_t *tail,
			   uint32_t v)
{
	uint32_t n;

	if (!v || (v & ~E1000_RING_LEN_MASK)) {
		reject_hex(e, "e1000: ring length not a nonzero multiple of 128 (ignored):", v);
		return false;
	}
	*len = v;
	n = ring_descs(v);
	if (*head >= n || *tail >= n) {
		reject(e, "e1000: head or tail beyond the new ring length: both reset to 0");
		*head = 0;
		*tail = 0;
	}
	return true;
}

/* RDH/RDT/TDH/TDT: below the ring's descriptor count (16 bits while the
 * ring has no length yet). */
static bool ring_index_write(struct e1000 *e, uint32_t len, uint32_t *idx, uint32_t v)
{
	uint32_t n = ring_descs(len);

	if (v > 0xffff || (n && v >= n)) {
		reject_hex(e, "e1000: ring head or tail beyond the ring (ignored):", v);
		return false;
	}
	*idx = v;
	return true;
}

/* ---- receive ------------------------------------------------------------ */

static uint32_t rx_buffer_size(uint32_t rctl)
{
	unsigned bsize = (rctl >> E1000_RCTL_BSIZE_SHIFT) & 3;

	if ((rctl & E1000_RCTL_BSEX) && bsize)
		return 32768u >> bsize;         /* 16384, 8192, 4096 */
	return 2048u >> bsize;
}

static uint32_t rx_descs_needed(const struct e1000 *e, size_t len)
{
	uint32_t size = rx_buffer_size(e->rctl);

	return (uint32_t)((len + size - 1) / size);
}

/* The multicast table: 12 bits of the destination picked by
 * RCTL.MO index the 4096-bit table. */
static bool mta_match(const struct e1000 *e, const uint8_t *dst)
{
	static const uint8_t shift[4] = { 4, 3, 2, 0 };
	unsigned s = shift[(e->rctl >> E1000_RCTL_MO_SHIFT) & 3];
	uint32_t hash = ((uint32_t)dst[4] >> s | (uint32_t)dst[5] << (8 - s)) & 0xfff;

	return (e->mta[hash >> 5] >> (hash & 31)) & 1;
}

/* Destination address filtering: promiscuous modes, broadcast,
 * the exact-match RAL/RAH pairs, the multicast table. */
static bool rx_accept(const struct e1000 *e, const uint8_t *dst)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	bool multicast = dst[0] & 1;
	uint32_t lo = get32(dst), hi = get16(dst + 4);

	if (multicast && (e->rctl & E1000_RCTL_MPE))
		return true;
	if (!multicast && (e->rctl & E1000_RCTL_UPE))
		return true;
	if (!memcmp(dst, bcast, 6) && (e->rctl & E1000_RCTL_BAM))
		return true;
	for (unsigned i = 0; i < 16; i++)
		if ((e->rah[i] & E1000_RAH_AV) && e->ral[i] == lo && (e->rah[i] & 0xffff) == hi)
			return true;
	return multicast && mta_match(e, dst);
}

/* One buffer's worth into the descriptor at RDH, written back, RDH moved. */
static bool rx_put(struct e1000 *e, uint32_t n, const uint8_t *data, uint32_t len, bool eop)
{
	uint64_t da = ring_base(e->rdbah, e->rdbal) + (uint64_t)e->rdh * DESC;
	uint8_t d[DESC], wb[8] = { 0 };
	uint64_t buf;

	if (!dma_read(e, da, d, sizeof(d))) {
		rx_stop(e, "e1000: receive descriptor outside guest RAM, receive stopped:", da);
		return false;
	}
	buf = get64(d);
	if (!dma_write(e, buf, data, len)) {
		rx_stop(e, "e1000: receive buffer outside guest RAM, receive stopped:", buf);
		return false;
	}
	put16(&wb[0], (uint16_t)len);                   /* length; checksum 0 */
	wb[4] = E1000_RXD_DD | (eop ? E1000_RXD_EOP : 0);
	if (!dma_write(e, da + 8, wb, sizeof(wb))) {
		rx_stop(e, "e1000: receive descriptor not writable, receive stopped:", da);
		return false;
	}
	e->rdh = (e->rdh + 1) % n;
	return true;
}

static void rx_done(struct e1000 *e, size_t len, uint32_t n)
{
	uint32_t cause = E1000_ICR_RXT0;
	unsigned rdmts = (e->rctl >> E1000_RCTL_RDMTS_SHIFT) & 3;

	e->gprc++;
	e->tpr++;
	e->gorcl += (uint32_t)len;
	e->rx_frames++;
	if (ring_owned(n, e->rdh, e->rdt) <= n >> (1 + rdmts))
		cause |= E1000_ICR_RXDMT0;
	raise_cause(e, cause);
}

int e1000_receive(struct e1000 *e, const void *frame, size_t len)
{
	const uint8_t *f = frame;
	uint32_t n = ring_descs(e->rdlen), size = rx_buffer_size(e->rctl);

	if (len < E1000_FRAME_MIN || len > E1000_FRAME_MAX) {
		if (len < E1000_FRAME_MIN)
			e->ruc++;
		else
			e->roc++;
		e->tpr++;
		e->rx_dropped++;
		return 0;
	}
	if (!(e->rctl & E1000_RCTL_EN)) {
		e->rx_dropped++;
		return 0;
	}
	if (!rx_accept(e, f)) {
		e->rx_filtered++;
		return 0;
	}
	if (e->rx_stopped) {
		e->mpc++;
		e->rx_dropped++;
		return 0;
	}
	if (ring_owned(n, e->rdh, e->rdt) < rx_descs_needed(e, len)) {
		raise_cause(e, E1000_ICR_RXO);
		return -1;
	}
	for (size_t off = 0; off < len; off += size) {
		uint32_t chunk = (uint32_t)(len - off < size ? len - off : size);

		if (!rx_put(e, n, f + off, chunk, off + chunk == len)) {
			e->rx_dropped++;
			return 0;
		}
	}
	rx_done(e, len, n);
	return 0;
}

bool e1000_can_receive(const struct e1000 *e)
{
	if (!(e->rctl & E1000_RCTL_EN) || e->rx_stopped)
		return true;
	return ring_owned(ring_descs(e->rdlen), e->rdh, e->rdt) >=
	       rx_descs_needed(e, E1000_FRAME_MAX);
}

/* ---- transmit ------------------------------------------------------------ */

enum tx_step { TX_NEXT, TX_BUSY, TX_STOP };

static void tx_forget_frame(struct e1000 *e)
{
	e->txlen = 0;
	e->txoverflow = false;
	e->txtse = false;
	e->tx_in_frame = false;
	e->tx_popts = 0;
	e->tx_legacy_ic = false;
	e->tx_busy = false;
	e->tx_busy_rs = false;
}

/*
 * The 16-bit ones' complement checksum of frame[start..end] (inclusive
 * `end`, 0 for the frame's end), stored big-endian at `at`. The field
 * itself is summed as the driver left it (0, or the pseudo-header sum
 * for TCP/UDP); a result of 0 is sent as 0xffff, its other form, which a
 * UDP receiver must not take for "no checksum". Offsets outside the
 * frame: the checksum is not inserted.
 */
static void insert_checksum(struct e1000 *e, unsigned start, unsigned at, unsigned end)
{
	uint8_t *f = e->txbuf;
	size_t stop = e->txlen;
	uint32_t sum = 0;
	uint16_t c;
	size_t i;

	if (end && end < e->txlen)
		stop = (size_t)end + 1;
	if (start >= stop || (size_t)at + 2 > e->txlen) {
		reject(e, "e1000: checksum offsets outside the frame (not inserted)");
		return;
	}
	for (i = start; i + 1 < stop; i += 2)
		sum += (uint32_t)f[i] << 8 | f[i + 1];
	if (i < stop)
		sum += (uint32_t)f[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)~sum;
	if (!c)
		c = 0xffff;
	f[at] = (uint8_t)(c >> 8);
	f[at + 1] = (uint8_t)c;
}

static void tx_checksums(struct e1000 *e)
{
	const struct e1000_tx_context *c = &e->txctx;

	if (e->tx_legacy_ic) {
		insert_checksum(e, e->tx_css, e->tx_cso, 0);
		return;
	}
	/* IP first: a TCP/UDP checksum never covers the IP header's. */
	if (e->tx_popts & E1000_TXD_POPTS_IXSM)
		insert_checksum(e, c->ipcss, c->ipcso, c->ipcse);
	if (e->tx_popts & E1000_TXD_POPTS_TXSM)
		insert_checksum(e, c->tucss, c->tucso, c->tucse);
}

/* The frame in txbuf to the wire: TX_BUSY keeps it for e1000_poll. */
static enum tx_step tx_send(struct e1000 *e)
{
	int r = e->net.tx ? e->net.tx(e->net.ctx, e->txbuf, e->txlen) : -1;

	if (r == 1)
		return TX_BUSY;
	if (r == 0) {
		e->gptc++;
		e->tpt++;
		e->gotcl += (uint32_t)e->txlen;
		e->tx_frames++;
	} else {
		e->tx_dropped++;
	}
	tx_forget_frame(e);
	return TX_NEXT;
}

/* EOP: the gathered frame is checked, completed and sent (or dropped). */
static enum tx_step tx_end_frame(struct e1000 *e)
{
	const char *bad = NULL;

	if (e->txtse)
		bad = "e1000: TCP segmentation (TSE) is not supported: frame dropped";
	else if (e->txoverflow)
		bad = "e1000: transmit frame longer than 1514 bytes: dropped";
	else if (e->txlen < E1000_FRAME_MIN)
		bad = "e1000: transmit frame shorter than 14 bytes: dropped";
	if (bad) {
		reject(e, bad);
		e->tx_dropped++;
		tx_forget_frame(e);
		return TX_NEXT;
	}
	tx_checksums(e);
	return tx_send(e);
}

/* A buffer of the frame; lengths past a frame are not read at all. */
static enum tx_step tx_gather(struct e1000 *e, uint64_t addr, uint32_t len)
{
	e->tx_in_frame = true;
	if (e->txoverflow || e->txtse)
		return TX_NEXT;
	if (len > E1000_FRAME_MAX - e->txlen) {
		e->txoverflow = true;
		return TX_NEXT;
	}
	if (len && !dma_read(e, addr, e->txbuf + e->txlen, len)) {
		tx_forget_frame(e);
		tx_stop(e, "e1000: transmit buffer outside guest RAM, transmit stopped:", addr);
		return TX_STOP;
	}
	e->txlen += len;
	return TX_NEXT;
}

static enum tx_step tx_legacy(struct e1000 *e, const uint8_t *d)
{
	uint8_t cmd = d[TXD_CMD];
	enum tx_step s;

	if (!e->tx_in_frame) {
		e->tx_legacy_ic = cmd & E1000_TXD_IC;
		e->tx_css = d[TXD_CSS];
		e->tx_cso = d[TXD_CSO];
	}
	s = tx_gather(e, get64(d), get16(d + TXD_LENGTH));
	if (s != TX_NEXT || !(cmd & E1000_TXD_EOP))
		return s;
	return tx_end_frame(e);
}

static enum tx_step tx_extended(struct e1000 *e, const uint8_t *d)
{
	uint32_t word = get32(d + TXD_LENGTH);
	uint8_t cmd = d[TXD_CMD], dtyp = (uint8_t)((word >> 20) & 0xf);
	enum tx_step s;

	if (dtyp == E1000_TXD_DTYP_CTX) {
		memcpy(&e->txctx, d, sizeof(e->txctx));
		return TX_NEXT;
	}
	if (dtyp != E1000_TXD_DTYP_DATA) {
		reject_hex(e, "e1000: transmit descriptor of a reserved type (skipped):", dtyp);
		return TX_NEXT;
	}
	if (!e->tx_in_frame) {
		e->tx_legacy_ic = false;
		e->tx_popts = d[TXD_POPTS];
	}
	if (cmd & E1000_TXD_TSE)
		e->txtse = true;
	s = tx_gather(e, get64(d), word & E1000_TXD_LEN_MASK);
	if (s != TX_NEXT || !(cmd & E1000_TXD_EOP))
		return s;
	return tx_end_frame(e);
}

/* The descriptor at TDH is done: DD if it asked (the status byte only),
 * TDH moves on. */
static bool tx_complete(struct e1000 *e, uint32_t n, bool rs, uint32_t *cause)
{
	uint64_t da = ring_base(e->tdbah, e->tdbal) + (uint64_t)e->tdh * DESC;
	uint8_t status = E1000_TXD_DD;

	e->tdh = (e->tdh + 1) % n;
	if (!rs)
		return true;
	if (!dma_write(e, da + E1000_DESC_STATUS, &status, 1)) {
		tx_stop(e, "e1000: transmit descriptor not writable, transmit stopped:", da);
		return false;
	}
	*cause |= E1000_ICR_TXDW;
	return true;
}

static void tx_process(struct e1000 *e)
{
	uint32_t n = ring_descs(e->tdlen), cause = 0;

	if (!(e->tctl & E1000_TCTL_EN) || e->tx_stopped || !n)
		return;
	if (e->tx_busy) {
		bool rs = e->tx_busy_rs;

		if (tx_send(e) == TX_BUSY)
			return;
		if (!tx_complete(e, n, rs, &cause))
			goto out;
	}
	for (uint32_t i = 0; i < n && e->tdh != e->tdt; i++) {
		uint64_t da = ring_base(e->tdbah, e->tdbal) + (uint64_t)e->tdh * DESC;
		uint8_t d[DESC];
		enum tx_step s;
		bool rs;

		if (!dma_read(e, da, d, sizeof(d))) {
			tx_stop(e, "e1000: transmit descriptor outside guest RAM, transmit stopped:",
				da);
			break;
		}
		rs = d[TXD_CMD] & E1000_TXD_RS;
		s = (d[TXD_CMD] & E1000_TXD_DEXT) ? tx_extended(e, d) : tx_legacy(e, d);
		if (s == TX_BUSY) {
			e->tx_busy = true;
			e->tx_busy_rs = rs;
			break;
		}
		if (s == TX_STOP || !tx_complete(e, n, rs, &cause))
			break;
	}
out:
	if (!e->tx_busy && e->tdh == e->tdt)
		cause |= E1000_ICR_TXQE;
	raise_cause(e, cause);
}

void e1000_poll(struct e1000 *e)
{
	tx_process(e);
}

/* ---- registers ------------------------------------------------------------ */

static void log_unknown(struct e1000 *e, uint32_t off)
{
	uint32_t page = 1u << (off >> PAGE_SHIFT);

	if (e->unknown_logged & page)
		return;
	e->unknown_logged |= page;
	reject_hex(e, "e1000: register not modelled (reads 0, writes ignored; "
		   "logged once per 4 KiB):", off);
}

static const struct reg_field *reg_lookup(uint32_t off)
{
	for (size_t i = 0; i < NREG_FIELDS; i++)
		if (reg_fields[i].off == off)
			return &reg_fields[i];
	return NULL;
}

/* Registers that read 0 and ignore writes, as the model has them. */
static bool reads_zero(uint32_t off)
{
	return off == E1000_ICS || off == E1000_IMC ||          /* write-only */
	       (off >= E1000_STATS && off < E1000_STATS_END) ||  /* counters we lack */
	       (off >= E1000_VFTA && off < E1000_VFTA + 128 * 4);
}

static uint32_t reg_read(struct e1000 *e, uint32_t off)
{
	const struct reg_field *r;

	if (off == E1000_EECD)
		return eecd_read(e);
	if (off == E1000_ICR)
		return icr_read(e);
	if ((r = reg_lookup(off))) {
		uint32_t *f = reg_field(e, r), v = *f;

		if (r->kind == COR)
			*f = 0;
		return v;
	}
	if (off >= E1000_MTA && off < E1000_MTA + sizeof(e->mta))
		return e->mta[(off - E1000_MTA) / 4];
	if (off >= E1000_RAL0 && off < E1000_RAL0 + 16 * 8)
		return ((off & 4) ? e->rah : e->ral)[(off - E1000_RAL0) / 8];
	if (!reads_zero(off))
		log_unknown(e, off);
	return 0;
}

static void ctrl_write(struct e1000 *e, uint32_t v)
{
	if (v & E1000_CTRL_RST) {
		power_on(e);                    /* and RST reads back clear */
		return;
	}
	if ((v & E1000_CTRL_PHY_RST) && !(e->ctrl & E1000_CTRL_PHY_RST))
		memcpy(e->phy, phy_defaults, sizeof(e->phy));
	e->ctrl = v;
}

/* A rewrite of the transmit ring's place forgets the frame in flight. */
static void tx_ring_rewritten(struct e1000 *e)
{
	tx_forget_frame(e);
	e->tx_stopped = false;
}

/* The ring registers' writes; false if `off` is not one. */
static bool ring_write(struct e1000 *e, uint32_t off, uint32_t v)
{
	switch (off) {
	case E1000_RDBAL:
		e->rdbal = v & ~0xfu;           /* 16-byte aligned */
		e->rx_stopped = false;
		break;
	case E1000_RDBAH:
		e->rdbah = v;
		e->rx_stopped = false;
		break;
	case E1000_RDLEN:
		if (ring_len_write(e, &e->rdlen, &e->rdh, &e->rdt, v))
			e->rx_stopped = false;
		break;
	case E1000_RDH:
	case E1000_RDT:
		if (ring_index_write(e, e->rdlen, off == E1000_RDH ? &e->rdh : &e->rdt, v))
			e->rx_stopped = false;
		break;
	case E1000_TDBAL:
		e->tdbal = v & ~0xfu;
		tx_ring_rewritten(e);
		break;
	case E1000_TDBAH:
		e->tdbah = v;
		tx_ring_rewritten(e);
		break;
	case E1000_TDLEN:
		if (ring_len_write(e, &e->tdlen, &e->tdh, &e->tdt, v))
			tx_ring_rewritten(e);
		break;
	case E1000_TDH:
		if (ring_index_write(e, e->tdlen, &e->tdh, v))
			tx_ring_rewritten(e);
		break;
	case E1000_TDT:
		if (ring_index_write(e, e->tdlen, &e->tdt, v)) {
			e->tx_stopped = false;
			tx_process(e);
		}
		break;
	default:
		return false;
	}
	return true;
}

static void reg_write(struct e1000 *e, uint32_t off, uint32_t v)
{
	const struct reg_field *r;

	switch (off) {
	case E1000_CTRL:
		ctrl_write(e, v);
		return;
	case E1000_EECD:
		eecd_write(e, v);
		return;
	case E1000_EERD:
		eerd_write(e, v);
		return;
	case E1000_MDIC:
		mdic_write(e, v);
		return;
	case E1000_ICR:                         /* write one to clear */
		e->icr &= ~v;
		update_irq(e);
		return;
	case E1000_ICS:
		raise_cause(e, v);
		return;
	case E1000_IMS:
		e->ims |= v & E1000_ICR_CAUSES;
		update_irq(e);
		return;
	case E1000_IMC:
		e->ims &= ~v;
		update_irq(e);
		return;
	case E1000_TCTL:
		e->tctl = v;
		tx_process(e);
		return;
	}
	if (ring_write(e, off, v))
		return;
	if ((r = reg_lookup(off))) {
		if (r->kind == PLAIN)
			*reg_field(e, r) = v;
		return;
	}
	if (off >= E1000_MTA && off < E1000_MTA + sizeof(e->mta))
		e->mta[(off - E1000_MTA) / 4] = v;
	else if (off >= E1000_RAL0 && off < E1000_RAL0 + 16 * 8 && !(off & 4))
		e->ral[(off - E1000_RAL0) / 8] = v;
	else if (off >= E1000_RAL0 && off < E1000_RAL0 + 16 * 8)
		/* RAH: the address's last two bytes, AS (17:16), AV. */
		e->rah[(off - E1000_RAL0) / 8] = v & (0x3ffffu | E1000_RAH_AV);
	else if (!reads_zero(off))
		log_unknown(e, off);
}

static bool dword_access(struct e1000 *e, uint32_t off, unsigned size, uint32_t limit,
			 const char *what)
{
	if (size == 4 && !(off & 3) && off < limit)
		return true;
	reject_hex(e, what, off);
	return false;
}

uint32_t e1000_mmio_read(struct e1000 *e, uint32_t off, unsigned size)
{
	if (!dword_access(e, off, size, E1000_MMIO_SIZE,
			  "e1000: register read not a 32-bit aligned dword (reads 0):"))
		return 0;
	return reg_read(e, off);
}

void e1000_mmio_write(struct e1000 *e, uint32_t off, unsigned size, uint32_t v)
{
	if (!dword_access(e, off, size, E1000_MMIO_SIZE,
			  "e1000: register write not a 32-bit aligned dword (ignored):"))
		return;
	reg_write(e, off, v);
}

/* IODATA reaches the register IOADDR names, as BAR0 would. */
uint32_t e1000_io_read(struct e1000 *e, uint32_t off, unsigned size)
{
	if (!dword_access(e, off, size, E1000_IODATA + 4,
			  "e1000: I/O read not a dword of IOADDR or IODATA (reads 0):"))
		return 0;
	if (off == E1000_IOADDR)
		return e->ioaddr;
	return e1000_mmio_read(e, e->ioaddr, 4);
}

void e1000_io_write(struct e1000 *e, uint32_t off, unsigned size, uint32_t v)
{
	if (!dword_access(e, off, size, E1000_IODATA + 4,
			  "e1000: I/O write not a dword of IOADDR or IODATA (ignored):"))
		return;
	if (off == E1000_IOADDR)
		e->ioaddr = v;
	else
		e1000_mmio_write(e, e->ioaddr, 4, v);
}
