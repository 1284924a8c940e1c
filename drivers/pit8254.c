/*
 * The 8254 PIT model (pit8254.h). Time is counted in clock edges of the
 * 1193182 Hz input since pit_init(): edge k happens at the first
 * nanosecond whose floor(ns * F / 1e9) is k, so counts, OUT levels and
 * event times are exact integer functions of now_ns(), with no drift and
 * no per-tick work.
 *
 * A count written to a channel enters its counting element at the next
 * clock edge (as on the chip): a mode 0 count N sets OUT N+1 edges after
 * the write when the write falls between edges, and a mode 2 rate N gives
 * its first edge N clocks after that load.
 */
#include <string.h>
#include "isa_io.h"
#include "pit8254.h"

#define NS_PER_S        1000000000ull
#define NO_EDGE         UINT64_MAX
#define REFRESH_NS      15085   /* port 0x61 bit 4 period/2 (DRAM refresh) */

static void pit_reject(struct pit *t, const char *msg)
{
	t->rejected++;
	if (t->p->log)
		t->p->log(t->p->ctx, msg);
}

/* floor(ns * F / 1e9), split so no 64-bit product overflows. */
static uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / NS_PER_S * PIT_FREQ_HZ +
	       ns % NS_PER_S * PIT_FREQ_HZ / NS_PER_S;
}

/* The time of clock edge k (its inverse: ceil(k * 1e9 / F) after the
 * epoch); UINT64_MAX when that lies beyond 64-bit nanoseconds. */
static uint64_t tick_to_ns(const struct pit *t, uint64_t k)
{
	uint64_t s = k / PIT_FREQ_HZ, r = k % PIT_FREQ_HZ, ns;

	if (s >= UINT64_MAX / NS_PER_S)
		return UINT64_MAX;
	ns = s * NS_PER_S + (r * NS_PER_S + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
	if (ns >= UINT64_MAX - t->epoch_ns)
		return UINT64_MAX;
	return t->epoch_ns + ns;
}

static uint64_t now_ns(const struct pit *t)
{
	return t->p->now_ns(t->p->ctx);
}

/* The last clock edge at or before now (0 if the clock ran backwards
 * past the epoch: a platform bug must not become a huge count). */
static uint64_t now_tick(const struct pit *t)
{
	uint64_t now = now_ns(t);

	return now > t->epoch_ns ? ns_to_ticks(now - t->epoch_ns) : 0;
}

/* ---- one channel as a function of time -------------------------------- */

static bool periodic(const struct pit_channel *ch)
{
	return ch->mode == 2 || ch->mode == 3;
}

static uint16_t ch_count(const struct pit_channel *ch, uint64_t now)
{
	uint64_t e, ph, half;

	if (!ch->counting)
		return ch->hold_count;
	if (now < ch->start_tick)
		return (uint16_t)ch->start;
	e = now - ch->start_tick;
	switch (ch->mode) {
	case 2:
		return (uint16_t)(ch->start - e % ch->start);
	case 3:
		/* Down by two per clock, through the high then the low half. */
		ph = e % ch->start;
		half = (ch->start + 1) / 2;
		if (ph >= half)
			ph -= half;
		return (uint16_t)(ch->start - 2 * ph);
	default:
		/* One-shot modes keep counting (and wrapping) after TC. */
		return (uint16_t)(ch->start - e);
	}
}

static bool ch_out(const struct pit_channel *ch, uint64_t now)
{
	uint64_t e;

	if (!ch->counting)
		return ch->hold_out;
	if (now < ch->start_tick)
		return ch->mode != 0;
	e = now - ch->start_tick;
	switch (ch->mode) {
	case 0:
	case 1:
		return !ch->armed || e >= ch->start;
	case 2:
		return e % ch->start != ch->start - 1;
	case 3:
		return e % ch->start < (ch->start + 1) / 2;
	default:                /* 4, 5: low for the one clock at TC */
		return !ch->armed || e != ch->start;
	}
}

/* Rising edges of OUT at clocks in (start_tick, T]. */
static uint64_t ch_edges_upto(const struct pit_channel *ch, uint64_t T)
{
	uint64_t e;

	if (!ch->counting || T <= ch->start_tick)
		return 0;
	e = T - ch->start_tick;
	switch (ch->mode) {
	case 0:
	case 1:
		return ch->armed && e >= ch->start;
	case 2:
	case 3:
		return e / ch->start;
	default:
		return ch->armed && e >= (uint64_t)ch->start + 1;
	}
}

static uint64_t ch_edges_between(const struct pit_channel *ch, uint64_t a,
				 uint64_t b)
{
	return b > a ? ch_edges_upto(ch, b) - ch_edges_upto(ch, a) : 0;
}

/* The first rising edge of OUT after clock `after`, or NO_EDGE. */
static uint64_t ch_next_edge(const struct pit_channel *ch, uint64_t after)
{
	uint64_t x;

	if (!ch->counting)
		return NO_EDGE;
	if (periodic(ch)) {
		if (after < ch->start_tick)
			return ch->start_tick + ch->start;
		return ch->start_tick +
		       ((after - ch->start_tick) / ch->start + 1) * ch->start;
	}
	if (!ch->armed)
		return NO_EDGE;
	x = ch->start_tick + ch->start + (ch->mode >= 4);
	return x > after ? x : NO_EDGE;
}

/* Modes 2 and 3: a count written while counting takes over at the end
 * of the current period (the chip reloads there). */
static void ch_apply_reload(struct pit_channel *ch)
{
	ch->start_tick = ch->reload_tick;
	ch->start = ch->cr;
	ch->reload_pending = false;
}

static void ch_sync(struct pit_channel *ch, uint64_t now)
{
	if (ch->counting && ch->reload_pending && now >= ch->reload_tick)
		ch_apply_reload(ch);
	if (ch->counting && !ch->reload_pending && now >= ch->start_tick)
		ch->null_count = false;
}

/* Stop the counting element where it is (gate low, or the first byte of
 * a mode 0 count): count and OUT hold until counting resumes. */
static void ch_freeze(struct pit_channel *ch, uint64_t now)
{
	if (!ch->counting)
		return;
	ch->hold_count = ch_count(ch, now);
	ch->hold_out = ch_out(ch, now);
	if (now >= ch->start_tick && now - ch->start_tick >= ch->start)
		ch->armed = false;
	ch->counting = false;
	ch->reload_pending = false;
}

/* ---- IRQ 0 ------------------------------------------------------------ */

static void irq_line(struct pit *t, bool level)
{
	if (t->irq_line == level)
		return;
	t->irq_line = level;
	t->p->irq_set(t->p->ctx, PIT_IRQ, level);
}

/* A rising edge of OUT 0, with the low phase before it squeezed in. */
static void irq_pulse(struct pit *t)
{
	irq_line(t, false);
	irq_line(t, true);
}

/* Deliver every OUT 0 edge in (irq_done_tick, now] as one pulse. */
static void irq_catch_up(struct pit *t, uint64_t now)
{
	struct pit_channel *ch = &t->ch[0];
	uint64_t done = t->irq_done_tick, edges = 0;

	if (now <= done)
		return;
	if (ch->counting && ch->reload_pending && ch->reload_tick <= now) {
		edges += ch_edges_between(ch, done, ch->reload_tick);
		if (done < ch->reload_tick)
			done = ch->reload_tick;
		ch_apply_reload(ch);
	}
	edges += ch_edges_between(ch, done, now);
	t->irq_done_tick = now;
	if (edges) {
		t->irq_edges += edges;
		t->irq_coalesced += edges - 1;
		irq_pulse(t);
	}
}

/* Bring everything up to `now` before the guest sees or changes state. */
static void pit_catch_up(struct pit *t, uint64_t now)
{
	irq_catch_up(t, now);
	for (unsigned i = 0; i < 3; i++)
		ch_sync(&t->ch[i], now);
}

/* OUT of channel `c` changed outside an edge (programming): channel 0
 * follows it on IRQ 0, a rising one included, as the chip's pin does. */
static void out_changed(struct pit *t, unsigned c, uint64_t now)
{
	if (c == 0)
		irq_line(t, ch_out(&t->ch[0], now));
}

/* ---- programming ------------------------------------------------------ */

static void set_mode(struct pit *t, unsigned c, uint8_t v, uint64_t now)
{
	struct pit_channel *ch = &t->ch[c];

	if (v & 1)
		pit_reject(t, "pit: BCD counting not supported, "
			   "counting in binary");
	ch->hold_count = ch_count(ch, now);
	ch->mode_bits = (v >> 1) & 7;
	ch->mode = ch->mode_bits >= 6 ? ch->mode_bits - 4 : ch->mode_bits;
	ch->access = (v >> 4) & 3;
	ch->write_hi_next = false;
	ch->read_hi_next = false;
	ch->count_latched = false;
	ch->latch_hi_next = false;
	ch->status_latched = false;
	ch->cr_written = false;
	ch->null_count = true;
	ch->counting = false;
	ch->armed = false;
	ch->reload_pending = false;
	/* The control word sets OUT to the mode's initial level at once. */
	ch->hold_out = ch->mode != 0;
	out_changed(t, c, now);
}

static void load_count(struct pit *t, unsigned c, uint32_t v, uint64_t now)
{
	struct pit_channel *ch = &t->ch[c];
	uint32_t cr = v ? v : 65536;

	if (periodic(ch) && cr == 1) {
		pit_reject(t, "pit: count 1 is illegal in modes 2 "
			   "and 3, using 2");
		cr = 2;
	}
	ch->cr = cr;
	ch->cr_written = true;
	ch->null_count = true;
	switch (ch->mode) {
	case 0:
	case 4:
		ch->armed = true;
		ch->start = cr;
		ch->hold_count = (uint16_t)cr;
		ch->hold_out = ch->mode == 4;
		ch->counting = ch->gate;
		ch->start_tick = now + 1;
		break;
	case 2:
	case 3:
		if (ch->counting && now >= ch->start_tick) {
			ch->reload_pending = true;
			ch->reload_tick = ch->start_tick +
				((now - ch->start_tick) / ch->start + 1) *
				ch->start;
		} else if (ch->counting) {
			ch->start = cr;         /* not loaded yet: replace */
		} else if (ch->gate) {
			ch->counting = true;
			ch->start_tick = now + 1;
			ch->start = cr;
		} else {
			/* CE loads; the low gate holds it. */
			ch->hold_count = (uint16_t)cr;
		}
		break;
	default:
		/* Modes 1 and 5 wait for a gate trigger; a running one-shot
		 * keeps its count until the next trigger. */
		break;
	}
	out_changed(t, c, now);
}

static void write_count(struct pit *t, unsigned c, uint8_t v, uint64_t now)
{
	struct pit_channel *ch = &t->ch[c];

	switch (ch->access) {
	case PIT_ACCESS_LO:
		load_count(t, c, v, now);
		break;
	case PIT_ACCESS_HI:
		load_count(t, c, (uint32_t)v << 8, now);
		break;
	default:
		if (!ch->write_hi_next) {
			ch->write_lo = v;
			ch->write_hi_next = true;
			/* Mode 0: the first byte stops counting and
			 * sets OUT low. */
			if (ch->mode == 0) {
				ch_freeze(ch, now);
				ch->hold_out = false;
				out_changed(t, c, now);
			}
			return;
		}
		ch->write_hi_next = false;
		load_count(t, c, ch->write_lo | (uint32_t)v << 8, now);
	}
}

static void latch_count(struct pit_channel *ch, uint64_t now)
{
	/* A second latch before the first is read is ignored. */
	if (ch->count_latched)
		return;
	ch->latch = ch_count(ch, now);
	ch->count_latched = true;
	ch->latch_hi_next = false;
}

static void latch_status(struct pit_channel *ch, uint64_t now)
{
	if (ch->status_latched)
		return;
	/* BCD (bit 0) reads clear: the model rejected it. */
	ch->status = (uint8_t)((ch_out(ch, now) ? 0x80 : 0) |
			       (ch->null_count ? 0x40 : 0) |
			       ch->access << 4 | ch->mode_bits << 1);
	ch->status_latched = true;
}

static void write_control(struct pit *t, uint8_t v, uint64_t now)
{
	unsigned sc = v >> 6;

	if (sc == 3) {
		/* Read-back: bit 5 clear latches counts, bit 4 clear
		 * latches status, bits 3-1 select channels 2-0. */
		for (unsigned c = 0; c < 3; c++) {
			if (!(v & (2u << c)))
				continue;
			if (!(v & 0x20))
				latch_count(&t->ch[c], now);
			if (!(v & 0x10))
				latch_status(&t->ch[c], now);
		}
		return;
	}
	if (((v >> 4) & 3) == PIT_ACCESS_LATCH) {
		latch_count(&t->ch[sc], now);
		return;
	}
	set_mode(t, sc, v, now);
}

static uint8_t read_count(struct pit *t, unsigned c, uint64_t now)
{
	struct pit_channel *ch = &t->ch[c];
	uint16_t n;

	if (ch->status_latched) {
		ch->status_latched = false;
		return ch->status;
	}
	if (ch->count_latched) {
		n = ch->latch;
		if (ch->access == PIT_ACCESS_LOHI && !ch->latch_hi_next) {
			ch->latch_hi_next = true;
			return (uint8_t)n;
		}
		ch->count_latched = false;
		ch->latch_hi_next = false;
		return (uint8_t)(ch->access == PIT_ACCESS_LO ? n : n >> 8);
	}
	n = ch_count(ch, now);
	switch (ch->access) {
	case PIT_ACCESS_LO:
		return (uint8_t)n;
	case PIT_ACCESS_HI:
		return (uint8_t)(n >> 8);
	default:
		ch->read_hi_next = !ch->read_hi_next;
		return (uint8_t)(ch->read_hi_next ? n : n >> 8);
	}
}

/* Gate 2 follows port 0x61 bit 0. */
static void set_gate(struct pit *t, unsigned c, bool gate, uint64_t now)
{
	struct pit_channel *ch = &t->ch[c];

	if (ch->gate == gate)
		return;
	ch->gate = gate;
	if (!gate) {
		/* Low gate stops modes 0, 2, 3, 4; modes 2 and 3 force OUT
		 * high. Modes 1 and 5 ignore a low gate. */
		if (ch->mode == 1 || ch->mode == 5)
			return;
		ch_freeze(ch, now);
		if (periodic(ch))
			ch->hold_out = true;
		return;
	}
	switch (ch->mode) {
	case 0:
	case 4:
		if (ch->cr_written && !ch->counting && !ch->write_hi_next) {
			ch->counting = true;
			ch->start_tick = now;
			ch->start = ch->hold_count ? ch->hold_count : 65536;
		}
		break;
	default:
		/* A rising gate triggers modes 1 and 5 and restarts modes 2
		 * and 3 from CR. */
		if (ch->cr_written) {
			ch->counting = true;
			ch->armed = true;
			ch->reload_pending = false;
			ch->start_tick = now + 1;
			ch->start = ch->cr;
		}
	}
}

static uint8_t read_sysb(struct pit *t, uint64_t now)
{
	uint8_t v = t->sysb;

	if ((now_ns(t) - t->epoch_ns) / REFRESH_NS & 1)
		v |= PIT_SYSB_REFRESH;
	if (ch_out(&t->ch[2], now))
		v |= PIT_SYSB_OUT2;
	return v;
}

static bool own_port(uint16_t port)
{
	return (port >= PIT_PORT_CH0 && port <= PIT_PORT_CTRL) ||
	       port == PIT_PORT_SYSB;
}

static void byte_io(void *dev, uint16_t port, bool write, uint8_t *v)
{
	struct pit *t = dev;

	uint64_t now = now_tick(t);

	pit_catch_up(t, now);
	if (port == PIT_PORT_SYSB) {
		if (write) {
			/* Bits 0-3 are writable; 4-7 are status. */
			t->sysb = *v & 0x0f;
			set_gate(t, 2, *v & PIT_SYSB_GATE2, now);
		} else {
			*v = read_sysb(t, now);
		}
	} else if (port == PIT_PORT_CTRL) {
		if (write)
			write_control(t, *v, now);
		else
			*v = 0xff;      /* the control register is write-only */
	} else if (write) {
		write_count(t, port - PIT_PORT_CH0, *v, now);
	} else {
		*v = read_count(t, port - PIT_PORT_CH0, now);
	}
}

bool pit_io(struct pit *t, uint16_t port, unsigned size, bool write,
	    uint32_t *value)
{
	if (!own_port(port))
		return false;
	if (!isa_split_io(t, own_port, byte_io, port, size, write, value))
		pit_reject(t, "pit: bad port access size");
	return true;
}

uint64_t pit_next_event_ns(struct pit *t)
{
	struct pit_channel ch = t->ch[0];
	uint64_t after = t->irq_done_tick, edge;

	/* A reload due at or before `after` already rules the edges. */
	if (ch.counting && ch.reload_pending && after >= ch.reload_tick)
		ch_apply_reload(&ch);
	edge = ch_next_edge(&ch, after);
	return edge == NO_EDGE ? UINT64_MAX : tick_to_ns(t, edge);
}

void pit_update(struct pit *t)
{
	pit_catch_up(t, now_tick(t));
}

void pit_init(struct pit *t, const struct platform *p)
{
	memset(t, 0, sizeof(*t));
	t->p = p;
	t->epoch_ns = now_ns(t);
	for (unsigned c = 0; c < 3; c++) {
		struct pit_channel *ch = &t->ch[c];

		ch->access = PIT_ACCESS_LOHI;
		ch->gate = c != 2;
		ch->cr = 65536;
		ch->start = 65536;
		ch->null_count = true;
	}
}
