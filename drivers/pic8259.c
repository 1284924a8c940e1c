/*
 * The cascaded 8259A model (pic8259.h).
 *
 * The slave's INT output is the master's IR2 input: after every change
 * the slave's INT is recomputed and fed to the master through the same
 * edge/level logic as a device line, so the master latches a slave
 * request on its rising edge exactly as the chip does. That keeps the
 * state consistent at all times, which is what lets pic_pending_vector()
 * be a pure read.
 */
#include <string.h>
#include "isa_io.h"
#include "pic8259.h"

static void pic_reject(struct pic *c, const char *msg)
{
	c->rejected++;
	if (c->p->log)
		c->p->log(c->p->ctx, msg);
}

/* ---- one chip --------------------------------------------------------- */

static uint8_t level_mask(const struct pic_chip *h)
{
	return h->ltim ? 0xff : h->elcr;
}

/* The highest-priority bit of `bits`, or -1. Priority runs from the IR
 * after `lowest` round to `lowest` itself (IR0 first after init). */
static int highest(const struct pic_chip *h, uint8_t bits)
{
	for (unsigned r = 1; r <= 8; r++) {
		unsigned i = (h->lowest + r) & 7;

		if (bits & (1u << i))
			return (int)i;
	}
	return -1;
}

static unsigned rank(const struct pic_chip *h, int irq)
{
	return ((unsigned)irq - h->lowest - 1) & 7;
}

/* The IR this chip would present now: the best unmasked request of
 * higher priority than the best level in service, or -1. */
static int chip_request(const struct pic_chip *h, bool master)
{
	uint8_t isr = h->isr;
	int req = highest(h, h->irr & ~h->imr), cur;

	if (req < 0)
		return -1;
	/* Special mask mode: masked levels in service do not block. */
	if (h->special_mask)
		isr &= ~h->imr;
	/* Special fully nested mode: the master lets a slave interrupt
	 * nest inside another from the same slave. */
	if (master && h->sfnm)
		isr &= ~(1u << PIC_CASCADE_IRQ);
	cur = highest(h, isr);
	if (cur >= 0 && rank(h, cur) <= rank(h, req))
		return -1;
	return req;
}

static void chip_line(struct pic_chip *h, unsigned i, bool level)
{
	uint8_t bit = (uint8_t)(1u << i);

	if (level_mask(h) & bit) {
		if (level)
			h->irr |= bit;
		else
			h->irr &= ~bit;
	} else if (level && !(h->line & bit)) {
		h->irr |= bit;
	}
	if (level)
		h->line |= bit;
	else
		h->line &= ~bit;
}

/* Level-triggered inputs request exactly while their line is high. */
static void chip_resample_levels(struct pic_chip *h)
{
	uint8_t lm = level_mask(h);

	h->irr = (uint8_t)((h->irr & ~lm) | (h->line & lm));
}

/* INTA on one chip for IR `i`. A level-triggered request stays in IRR
 * while its line is high; ISR then holds it off until the EOI. */
static void chip_ack(struct pic_chip *h, int i)
{
	uint8_t bit = (uint8_t)(1u << i);

	if (!(level_mask(h) & bit))
		h->irr &= ~bit;
	if (h->aeoi) {
		if (h->rotate_aeoi)
			h->lowest = (uint8_t)i;
	} else {
		h->isr |= bit;
	}
}

static uint8_t chip_poll(struct pic_chip *h, bool master)
{
	int i = chip_request(h, master);

	h->poll = false;
	if (i < 0)
		return 0;
	chip_ack(h, i);
	return (uint8_t)(0x80 | i);
}

/* ICW1: restart the initialization sequence. */
static void chip_icw1(struct pic_chip *h, uint8_t v)
{
	h->icw4_expected = v & 0x01;
	h->single = v & 0x02;
	h->ltim = v & 0x08;
	h->isr = 0;
	h->imr = 0;
	h->lowest = 7;
	h->aeoi = false;
	h->rotate_aeoi = false;
	h->sfnm = false;
	h->read_isr = false;
	h->poll = false;
	h->special_mask = false;
	/* The edge sense is reset: an edge input needs a new low-to-high
	 * transition; a level input keeps requesting while high. */
	h->irr = 0;
	chip_resample_levels(h);
	h->init_step = 2;
}

static void chip_ocw2(struct pic_chip *h, uint8_t v)
{
	unsigned l = v & 7;
	int i;

	switch (v >> 5) {
	case 0:                 /* rotate in AEOI mode: clear */
		h->rotate_aeoi = false;
		break;
	case 4:                 /* rotate in AEOI mode: set */
		h->rotate_aeoi = true;
		break;
	case 1:                 /* non-specific EOI */
	case 5:                 /* rotate on non-specific EOI */
		i = highest(h, h->isr);
		if (i < 0)
			break;  /* nothing in service: the chip ignores it */
		h->isr &= ~(1u << i);
		if (v >> 5 == 5)
			h->lowest = (uint8_t)i;
		break;
	case 3:                 /* specific EOI */
		h->isr &= ~(1u << l);
		break;
	case 7:                 /* rotate on specific EOI */
		h->isr &= ~(1u << l);
		h->lowest = (uint8_t)l;
		break;
	case 6:                 /* set priority */
		h->lowest = (uint8_t)l;
		break;
	default:                /* 2: no operation */
		break;
	}
}

static void chip_ocw3(struct pic_chip *h, uint8_t v)
{
	if (v & 0x04)
		h->poll = true;
	if (v & 0x02)
		h->read_isr = v & 0x01;
	if (v & 0x40)
		h->special_mask = v & 0x20;
}

/* ---- the pair --------------------------------------------------------- */

static bool cascaded(const struct pic *c)
{
	const struct pic_chip *m = &c->chip[0];

	return !m->single && (m->icw3 & (1u << PIC_CASCADE_IRQ));
}

/* Feed the slave's INT output into master IR2. */
static void pic_sync(struct pic *c)
{
	chip_line(&c->chip[0], PIC_CASCADE_IRQ,
		  chip_request(&c->chip[1], false) >= 0);
}

static void write_data(struct pic *c, unsigned n, uint8_t v)
{
	struct pic_chip *h = &c->chip[n];

	switch (h->init_step) {
	case 2:
		/* 8086 mode: bits 2-0 of ICW2 are ignored. */
		h->base = v & 0xf8;
		h->init_step = h->single ? 4 : 3;
		break;
	case 3:
		h->icw3 = v;
		if (n == 1 && (v & 7) != PIC_CASCADE_IRQ)
			pic_reject(c, "pic: slave ICW3 id is not 2, the slave "
				   "stays on IR2");
		h->init_step = 4;
		break;
	case 4:
		if (!(v & 0x01))
			pic_reject(c, "pic: ICW4 MCS-80 mode not supported, "
				   "8086 mode used");
		h->aeoi = v & 0x02;
		h->sfnm = v & 0x10;
		h->init_step = 0;
		return;
	default:
		h->imr = v;     /* OCW1 */
		return;
	}
	if (h->init_step == 4 && !h->icw4_expected) {
		/* No ICW4 means MCS-80 mode with all ICW4 bits clear. */
		pic_reject(c, "pic: no ICW4 (MCS-80 mode) not supported, "
			   "8086 mode used");
		h->init_step = 0;
	}
}

static void write_cmd(struct pic_chip *h, uint8_t v)
{
	if (v & 0x10)
		chip_icw1(h, v);
	else if (v & 0x08)
		chip_ocw3(h, v);
	else
		chip_ocw2(h, v);
}

static uint8_t read_port(struct pic_chip *h, bool master, bool cmd)
{
	/* A poll command turns the next read of either port into INTA. */
	if (h->poll)
		return chip_poll(h, master);
	if (!cmd)
		return h->imr;
	return h->read_isr ? h->isr : h->irr;
}

static void write_elcr(struct pic *c, unsigned n, uint8_t v)
{
	/* PIIX: IRQ 0, 1, 2, 8 and 13 are edge-only. */
	static const uint8_t implemented[2] = { 0xf8, 0xde };
	struct pic_chip *h = &c->chip[n];

	if (v & ~implemented[n])
		pic_reject(c, "pic: ELCR reserved bits set, masked");
	h->elcr = v & implemented[n];
	chip_resample_levels(h);
}

static bool own_port(uint16_t port)
{
	return port == PIC_MASTER_CMD || port == PIC_MASTER_DATA ||
	       port == PIC_SLAVE_CMD || port == PIC_SLAVE_DATA ||
	       port == PIC_ELCR_MASTER || port == PIC_ELCR_SLAVE;
}

static void byte_io(void *dev, uint16_t port, bool write, uint8_t *v)
{
	struct pic *c = dev;

	unsigned n = port == PIC_SLAVE_CMD || port == PIC_SLAVE_DATA ||
		     port == PIC_ELCR_SLAVE;
	struct pic_chip *h = &c->chip[n];

	if (port == PIC_ELCR_MASTER || port == PIC_ELCR_SLAVE) {
		if (write)
			write_elcr(c, n, *v);
		else
			*v = h->elcr;
	} else if (!write) {
		*v = read_port(h, n == 0, !(port & 1));
	} else if (port & 1) {
		write_data(c, n, *v);
	} else {
		write_cmd(h, *v);
	}
	pic_sync(c);
}

bool pic_io(struct pic *c, uint16_t port, unsigned size, bool write,
	    uint32_t *value)
{
	if (!own_port(port))
		return false;
	if (!isa_split_io(c, own_port, byte_io, port, size, write, value))
		pic_reject(c, "pic: bad port access size");
	return true;
}

void pic_set_irq(struct pic *c, unsigned irq, bool level)
{
	if (irq >= 16 || irq == PIC_CASCADE_IRQ) {
		pic_reject(c, "pic: no such device IRQ line, ignored");
		return;
	}
	chip_line(&c->chip[irq >> 3], irq & 7, level);
	pic_sync(c);
}

int pic_pending_vector(const struct pic *c)
{
	const struct pic_chip *m = &c->chip[0], *s = &c->chip[1];
	int i = chip_request(m, true), j;

	if (i < 0)
		return -1;
	if (i != PIC_CASCADE_IRQ || !cascaded(c))
		return m->base | i;
	j = chip_request(s, false);
	return s->base | (j < 0 ? 7 : j);
}

int pic_acknowledge(struct pic *c)
{
	struct pic_chip *m = &c->chip[0], *s = &c->chip[1];
	int i = chip_request(m, true), j, vector;

	c->acks++;
	if (i < 0) {
		c->spurious++;
		return m->base | 7;
	}
	chip_ack(m, i);
	if (i != PIC_CASCADE_IRQ || !cascaded(c)) {
		vector = m->base | i;
	} else {
		/* The slave's INT drops during the INTA cycle and rises
		 * again after it if another request is eligible (an AEOI
		 * slave with two requests): re-arm IR2's edge detector so
		 * that rise is latched. */
		m->line &= ~(1u << PIC_CASCADE_IRQ);
		j = chip_request(s, false);
		if (j < 0) {
			/* The slave's request went away: its IR7, and no
			 * slave ISR bit (the master's IR2 bit is set). */
			c->spurious++;
			vector = s->base | 7;
		} else {
			chip_ack(s, j);
			vector = s->base | j;
		}
	}
	pic_sync(c);
	return vector;
}

void pic_init(struct pic *c, const struct platform *p)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	for (unsigned n = 0; n < 2; n++) {
		struct pic_chip *h = &c->chip[n];

		h->base = n ? 0x70 : 0x08;
		h->icw3 = n ? PIC_CASCADE_IRQ : 1u << PIC_CASCADE_IRQ;
		h->icw4_expected = true;
		h->lowest = 7;
		h->imr = n ? 0xff : (uint8_t)~(1u << PIC_CASCADE_IRQ);
	}
}
