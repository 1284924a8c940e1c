/*
 * Fuzz target: an 8254 PIT and the cascaded 8259A pair wired as in a PC
 * (the PIT's irq_set lands in pic_set_irq), driven by a byte stream of
 * operations: port writes and reads of any size on the PIT/PIC/ELCR ports
 * and their neighbours, clock advances from nanoseconds to years, owner
 * updates and event loops, INTA cycles and device line changes. Every
 * step checks the invariants the owner relies on and abort()s when one
 * breaks:
 *
 *   - pic_pending_vector() is -1 or a vector 0-255, and the next INTA
 *     returns exactly it (or the master's IR7 vector when it was -1);
 *     with nothing in service on the master, an unmasked request in its
 *     IRR always makes it >= 0;
 *   - the PIT only ever drives IRQ 0, at most one pulse per update, and
 *     after pit_update() its next event lies strictly in the future;
 *   - the io functions claim exactly their own ports, leave *value alone
 *     otherwise, and return reads that fit the access size;
 *   - statistics stay consistent (coalesced <= edges, spurious <= acks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pic8259.h"
#include "pit8254.h"

#define MAX_OPS         4096
#define MAX_LOOP        64
#define CLOCK_LIMIT     (1ull << 62)

static struct {
	uint64_t now;
	struct pic pic;
	struct pit pit;
	unsigned irq_calls;
} w;

static void w_irq(void *ctx, unsigned irq, bool level)
{
	if (irq != PIT_IRQ)
		abort();
	w.irq_calls++;
	pic_set_irq(&w.pic, irq, level);
}

static uint64_t w_now(void *ctx)
{
	return w.now;
}

static void w_log(void *ctx, const char *msg)
{
	if (!msg || !msg[0])
		abort();
}

static const struct platform plat = {
	.irq_set = w_irq, .now_ns = w_now, .log = w_log,
};

static const uint16_t ports[16] = {
	0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41,
	0x42, 0x43, 0x61, 0x22, 0x44, 0x60, 0x3f, 0x4cf,
};

static bool pic_port(uint16_t p)
{
	return p == 0x20 || p == 0x21 || p == 0xa0 || p == 0xa1 ||
	       p == 0x4d0 || p == 0x4d1;
}

static bool pit_port(uint16_t p)
{
	return (p >= 0x40 && p <= 0x43) || p == 0x61;
}

static void check_pending(void)
{
	const struct pic_chip *m = &w.pic.chip[0];
	int v = pic_pending_vector(&w.pic);

	if (v < -1 || v > 255)
		abort();
	/* Nothing in service on the master: any unmasked request wins. */
	if (!m->isr && (m->irr & ~m->imr) && v < 0)
		abort();
}

static void port_access(uint16_t port, unsigned size, bool write,
			uint32_t value)
{
	uint32_t x = write ? value : 0xa5a5a5a5;
	bool mine;

	mine = pic_io(&w.pic, port, size, write, &x);
	if (mine != pic_port(port))
		abort();
	if (!mine) {
		mine = pit_io(&w.pit, port, size, write, &x);
		if (mine != pit_port(port))
			abort();
	}
	if (!mine && x != (write ? value : 0xa5a5a5a5))
		abort();
	if (mine && !write && size < 4 && (size == 1 || size == 2) &&
	    x >> (8 * size))
		abort();
	check_pending();
}

static void owner_update(void)
{
	uint64_t next;

	w.irq_calls = 0;
	pit_update(&w.pit);
	if (w.irq_calls > 2)
		abort();
	next = pit_next_event_ns(&w.pit);
	if (next <= w.now)
		abort();
	if (w.pit.irq_coalesced > w.pit.irq_edges)
		abort();
	check_pending();
}

static void inta(void)
{
	int want = pic_pending_vector(&w.pic), got;

	got = pic_acknowledge(&w.pic);
	if (want >= 0 ? got != want : got != (w.pic.chip[0].base | 7))
		abort();
	if (w.pic.spurious > w.pic.acks)
		abort();
	check_pending();
}

static void advance(uint64_t delta)
{
	if (delta > CLOCK_LIMIT - w.now)
		delta = CLOCK_LIMIT - w.now;
	w.now += delta;
}

/* The owner's loop: sleep to each PIT event (within a second), update,
 * take the interrupt and EOI it as a guest would. */
static void event_loop(unsigned steps, bool eoi)
{
	for (unsigned i = 0; i < steps; i++) {
		uint64_t t = pit_next_event_ns(&w.pit);

		if (t == UINT64_MAX || t > w.now + 1000000000ull ||
		    t > CLOCK_LIMIT)
			return;
		if (t > w.now)
			w.now = t;
		owner_update();
		if (pic_pending_vector(&w.pic) >= 0) {
			inta();
			if (eoi) {
				port_access(0xa0, 1, true, 0x20);
				port_access(0x20, 1, true, 0x20);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	unsigned ops = 0;

	memset(&w, 0, sizeof(w));
	w.now = 1000;
	pic_init(&w.pic, &plat);
	pit_init(&w.pit, &plat);

#define NEED(n) do { if ((size_t)(end - p) < (n)) return 0; } while (0)
	while (p < end && ops++ < MAX_OPS) {
		uint8_t op = *p++;
		uint32_t v;

		switch (op & 7) {
		case 0:                 /* out: port, value */
			NEED(2);
			port_access(ports[p[0] & 15], 1, true, p[1]);
			p += 2;
			break;
		case 1:                 /* in: port */
			NEED(1);
			port_access(ports[p[0] & 15], 1, false, 0);
			p += 1;
			break;
		case 2:                 /* any size: port, size, value */
			NEED(6);
			memcpy(&v, p + 2, 4);
			port_access(ports[p[0] & 15], p[1] % 6, p[1] & 0x80,
				    v);
			p += 6;
			break;
		case 3:                 /* advance: shift, 16-bit mantissa */
			NEED(3);
			advance((uint64_t)(p[1] | p[2] << 8) << (p[0] % 48));
			p += 3;
			break;
		case 4:
			owner_update();
			break;
		case 5:
			inta();
			break;
		case 6:                 /* device line: irq, level */
			NEED(1);
			pic_set_irq(&w.pic, p[0] % 20, p[0] & 0x80);
			check_pending();
			p += 1;
			break;
		default:                /* event loop: steps, EOI or not */
			NEED(1);
			event_loop(p[0] % MAX_LOOP, p[0] & 0x80);
			p += 1;
			break;
		}
	}
#undef NEED
	return 0;
}

/* ---- seeds: valid init sequences -------------------------------------- */

struct seed {
	uint8_t *buf;
	size_t cap, n;
};

static void put(struct seed *s, const uint8_t *b, size_t n)
{
	if (s->n + n > s->cap)
		return;
	memcpy(s->buf + s->n, b, n);
	s->n += n;
}

static unsigned port_sel(uint16_t port)
{
	for (unsigned i = 0; i < 16; i++)
		if (ports[i] == port)
			return i;
	return 11;
}

static void out(struct seed *s, uint16_t port, uint8_t v)
{
	uint8_t b[3] = { 0, (uint8_t)port_sel(port), v };

	put(s, b, 3);
}

static void in(struct seed *s, uint16_t port)
{
	uint8_t b[2] = { 1, (uint8_t)port_sel(port) };

	put(s, b, 2);
}

static void op(struct seed *s, uint8_t o, uint8_t arg, bool has_arg)
{
	uint8_t b[2] = { o, arg };

	put(s, b, has_arg ? 2 : 1);
}

static void wait_ns(struct seed *s, uint16_t mantissa, uint8_t shift)
{
	uint8_t b[4] = { 3, shift, (uint8_t)mantissa, (uint8_t)(mantissa >> 8) };

	put(s, b, 4);
}

static void linux_pic_init(struct seed *s, uint8_t icw4)
{
	out(s, 0x21, 0xff);
	out(s, 0xa1, 0xff);
	out(s, 0x20, 0x11);
	out(s, 0x21, 0x20);
	out(s, 0x21, 0x04);
	out(s, 0x21, icw4);
	out(s, 0xa0, 0x11);
	out(s, 0xa1, 0x28);
	out(s, 0xa1, 0x02);
	out(s, 0xa1, 0x01);
	out(s, 0x21, 0xfa);
	out(s, 0xa1, 0xff);
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	struct seed s = { buf, cap, 0 };

	switch (i) {
	case 0:         /* PIC init, PIT 100 Hz, run with EOIs */
		linux_pic_init(&s, 0x01);
		out(&s, 0x43, 0x34);
		out(&s, 0x40, 0x9c);
		out(&s, 0x40, 0x2e);
		op(&s, 7, 0x80 | 50, true);
		wait_ns(&s, 0x1000, 20);
		op(&s, 4, 0, false);
		op(&s, 5, 0, false);
		out(&s, 0x20, 0x20);
		op(&s, 7, 0x80 | 20, true);
		break;
	case 1:         /* channel 2 calibration, latches, read-back */
		out(&s, 0x61, 0x01);
		out(&s, 0x43, 0xb0);
		out(&s, 0x42, 0xff);
		out(&s, 0x42, 0xff);
		in(&s, 0x61);
		wait_ns(&s, 50000, 0);
		out(&s, 0x43, 0x80);
		in(&s, 0x42);
		in(&s, 0x42);
		out(&s, 0x43, 0xc8);
		in(&s, 0x42);
		in(&s, 0x42);
		in(&s, 0x42);
		wait_ns(&s, 0xffff, 10);
		in(&s, 0x61);
		out(&s, 0x61, 0x00);
		in(&s, 0x42);
		break;
	case 2:         /* AEOI + SFNM master, slave IRQs, ELCR, poll */
		linux_pic_init(&s, 0x13);
		out(&s, 0xa1, 0x00);
		out(&s, 0x4d1, 0x0c);
		op(&s, 6, 0x80 | 10, true);
		op(&s, 6, 0x80 | 11, true);
		op(&s, 5, 0, false);
		op(&s, 6, 11, true);
		op(&s, 5, 0, false);
		out(&s, 0xa0, 0x0c);
		in(&s, 0xa0);
		out(&s, 0xa0, 0x0b);
		in(&s, 0xa0);
		out(&s, 0xa0, 0x20);
		op(&s, 5, 0, false);
		break;
	case 3:         /* mode 0 one-shot, then mode 3, with read-backs */
		linux_pic_init(&s, 0x01);
		out(&s, 0x43, 0x30);
		out(&s, 0x40, 0x00);
		out(&s, 0x40, 0x10);
		op(&s, 7, 0x80 | 4, true);
		out(&s, 0x43, 0xe2);
		in(&s, 0x40);
		out(&s, 0x43, 0x36);
		out(&s, 0x40, 0x00);
		out(&s, 0x40, 0x00);
		op(&s, 7, 0x80 | 8, true);
		out(&s, 0x43, 0xc2);
		in(&s, 0x40);
		in(&s, 0x40);
		in(&s, 0x40);
		out(&s, 0x43, 0x3c);
		out(&s, 0x40, 0x01);
		out(&s, 0x40, 0x00);
		op(&s, 7, 40, true);
		break;
	default:
		return 0;
	}
	return s.n;
}
