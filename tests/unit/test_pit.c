/*
 * Host tests for the 8254 PIT model (drivers/pit8254.c) against a fake
 * platform with a settable clock: the IRQ 0 rate and edge times of modes
 * 2 and 3, mode 0 and 4 one-shots, late owners, count/status latches and
 * read-back, access modes, channel 2 and port 0x61, and bad programming.
 * Expected edge times are computed here independently, in 128-bit
 * arithmetic, from the chip's rule: clock edge k is at ceil(k * 1e9 / F).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "pit8254.h"

#define MS      1000000ull
#define SEC     1000000000ull
#define MAX_RISES 200000

static struct {
	uint64_t now;
	bool level[16];
	unsigned rises[16];
	unsigned irq_calls;
	unsigned logs;
	uint64_t rise_ns[MAX_RISES];
	unsigned nrise;
} f;

static void f_irq(void *ctx, unsigned irq, bool level)
{
	f.irq_calls++;
	if (irq >= 16)
		return;
	if (level && !f.level[irq]) {
		f.rises[irq]++;
		if (irq == 0 && f.nrise < MAX_RISES)
			f.rise_ns[f.nrise++] = f.now;
	}
	f.level[irq] = level;
}

static uint64_t f_now(void *ctx)
{
	return f.now;
}

static void f_log(void *ctx, const char *msg)
{
	f.logs++;
}

static const struct platform plat = {
	.irq_set = f_irq, .now_ns = f_now, .log = f_log,
};

static struct pit pit;
static uint64_t epoch;

static void reset(uint64_t now)
{
	memset(&f, 0, sizeof(f));
	f.now = now;
	epoch = now;
	pit_init(&pit, &plat);
}

static void outb(uint16_t port, uint8_t v)
{
	uint32_t x = v;

	pit_io(&pit, port, 1, true, &x);
}

static uint8_t inb(uint16_t port)
{
	uint32_t x = 0xdeadbeef;

	pit_io(&pit, port, 1, false, &x);
	return (uint8_t)x;
}

/* Clock edges and their times, independently of the model. */
static uint64_t tick_at(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)(ns - epoch) * PIT_FREQ_HZ / SEC);
}

static uint64_t edge_ns(uint64_t tick)
{
	return epoch + (uint64_t)(((unsigned __int128)tick * SEC +
				   PIT_FREQ_HZ - 1) / PIT_FREQ_HZ);
}

/* Program channel 0 as control word `cw` with a lo/hi count at f.now;
 * returns the clock edge at which the count enters the counter. */
static uint64_t program0(uint8_t cw, uint16_t count)
{
	outb(PIT_PORT_CTRL, cw);
	outb(PIT_PORT_CH0, (uint8_t)count);
	outb(PIT_PORT_CH0, (uint8_t)(count >> 8));
	return tick_at(f.now) + 1;
}

/*
 * The owner's event loop until `until`: sleep until the next event,
 * oversleeping by `late` ns, then update. Counts loop steps whose next
 * event did not move past the current time (must stay 0).
 */
static unsigned stuck;

static void run_until(uint64_t until, uint64_t late)
{
	for (;;) {
		uint64_t t = pit_next_event_ns(&pit);

		if (t == UINT64_MAX || t > until)
			break;
		if (t + late > f.now)
			f.now = t + late > until ? until : t + late;
		pit_update(&pit);
		if (pit_next_event_ns(&pit) <= f.now)
			stuck++;
	}
	f.now = until;
	pit_update(&pit);
}

static unsigned rises_in(uint64_t from, uint64_t to)    /* [from, to] */
{
	unsigned n = 0;

	for (unsigned i = 0; i < f.nrise; i++)
		n += f.rise_ns[i] >= from && f.rise_ns[i] <= to;
	return n;
}

static void test_rate_100hz(void)
{
	const uint16_t latch = (PIT_FREQ_HZ + 50) / 100;        /* 11932 */
	uint64_t t0, start, until, want, bad = 0, first;

	reset(1234);
	f.now = 5 * MS;
	t0 = f.now;
	start = program0(0x34, latch);          /* ch0, lo/hi, mode 2 */
	CHECK(f.level[0] && f.rises[0] == 1,
	      "mode 2 control word sets OUT 0 high (the chip's initial level)");
	f.rises[0] = 0;
	f.nrise = 0;
	CHECK(pit_next_event_ns(&pit) == edge_ns(start + latch),
	      "first IRQ 0 due one period after the count loads: %llu",
	      (unsigned long long)pit_next_event_ns(&pit));

	until = t0 + 100 * SEC;
	stuck = 0;
	run_until(until, 0);
	want = (tick_at(until) - start) / latch;
	CHECK(f.rises[0] == want && want == 9999,
	      "100 s at count %u: %u IRQ 0 edges, want %llu (the chip's "
	      "99.9985 Hz)", latch, f.rises[0], (unsigned long long)want);
	for (unsigned i = 0; i < f.nrise; i++)
		bad += f.rise_ns[i] != edge_ns(start + (i + 1ull) * latch);
	CHECK(bad == 0, "every edge at its exact clock time, no drift "
	      "(%llu off)", (unsigned long long)bad);
	CHECK(stuck == 0, "next event always after the update time");
	first = f.rise_ns[0];
	CHECK(rises_in(first, first + SEC) == 100,
	      "100 IRQ 0 edges in one guest second from the first: %u",
	      rises_in(first, first + SEC));
	bad = 0;
	for (unsigned s = 0; s < 99; s++) {
		unsigned n = rises_in(t0 + s * SEC, t0 + (s + 1) * SEC - 1);

		bad += n != 99 && n != 100;
	}
	CHECK(bad == 0, "every guest second of 100 holds 99 or 100 edges");
	CHECK(pit.irq_edges == want && pit.irq_coalesced == 0,
	      "edge counter %llu, none coalesced when the owner is on time",
	      (unsigned long long)pit.irq_edges);

	/* A divisor that rounds the rate up: exactly 100 in the first second. */
	reset(0);
	f.now = 3 * MS;
	t0 = f.now;
	program0(0x34, 11931);
	f.rises[0] = 0;
	f.nrise = 0;
	run_until(t0 + SEC, 0);
	CHECK(f.rises[0] == 100, "count 11931: exactly 100 edges in the "
	      "first guest second, got %u", f.rises[0]);

	/* An owner waking 37 us late each time loses no edge and no phase. */
	reset(0);
	start = program0(0x34, latch);
	f.rises[0] = 0;
	f.nrise = 0;
	run_until(f.now + 10 * SEC, 37000);
	want = (tick_at(f.now) - start) / latch;
	CHECK(f.rises[0] == want && pit.irq_coalesced == 0,
	      "late-waking owner: %u edges over 10 s, want %llu",
	      f.rises[0], (unsigned long long)want);
}

static void test_late_owner(void)
{
	const uint16_t latch = 11932;
	uint64_t start, edges, next;

	reset(777);
	start = program0(0x34, latch);
	f.rises[0] = 0;
	f.now += SEC;                           /* the owner slept 1 s */
	pit_update(&pit);
	edges = (tick_at(f.now) - start) / latch;
	CHECK(f.rises[0] == 1, "late update: missed edges coalesce into one "
	      "pulse (%u)", f.rises[0]);
	CHECK(pit.irq_edges == edges && pit.irq_coalesced == edges - 1,
	      "late update: all %llu edges counted, %llu coalesced",
	      (unsigned long long)pit.irq_edges,
	      (unsigned long long)pit.irq_coalesced);
	next = pit_next_event_ns(&pit);
	CHECK(next == edge_ns(start + (edges + 1) * latch) && next > f.now,
	      "after a late update the next edge stays on the rate's grid");
	pit_update(&pit);
	CHECK(f.rises[0] == 1, "a second update at the same time adds nothing");
}

static void test_mode0(void)
{
	uint64_t start, next;
	uint8_t st;

	reset(100);
	f.now = 2 * MS;
	start = program0(0x30, 1000);           /* ch0, lo/hi, mode 0 */
	CHECK(!f.level[0], "mode 0: OUT 0 low after the count");
	next = pit_next_event_ns(&pit);
	CHECK(next == edge_ns(start + 1000),
	      "mode 0: terminal count due N clocks after the load");
	f.now = next - 1;
	pit_update(&pit);
	CHECK(f.rises[0] == 0, "mode 0: no IRQ 0 before terminal count");
	outb(PIT_PORT_CTRL, 0xe2);              /* read-back: status of ch0 */
	st = inb(PIT_PORT_CH0);
	CHECK(st == 0x30, "mode 0 status before TC: OUT low, lo/hi, mode 0 "
	      "(0x%02x)", st);
	f.now = next;
	pit_update(&pit);
	CHECK(f.rises[0] == 1 && f.level[0], "mode 0: one IRQ 0 at TC");
	CHECK(pit_next_event_ns(&pit) == UINT64_MAX,
	      "mode 0: no further event after the one-shot");
	f.now = edge_ns(start + 1005);
	run_until(f.now + SEC, 0);
	CHECK(f.rises[0] == 1, "mode 0: still one IRQ 0 a second later");
	f.now = edge_ns(start + 1005);
	outb(PIT_PORT_CTRL, 0x00);              /* latch ch0 */
	st = inb(PIT_PORT_CH0);
	CHECK(st == 0xfb && inb(PIT_PORT_CH0) == 0xff,
	      "mode 0: the counter wraps past 0 and keeps counting (0xfffb)");
	outb(PIT_PORT_CTRL, 0xe2);
	CHECK((inb(PIT_PORT_CH0) & 0x80) == 0x80, "mode 0 status after TC: "
	      "OUT high");

	/* Lo/hi order: the low byte alone stops the counter; the high
	 * byte completes the count and starts it. */
	reset(0);
	outb(PIT_PORT_CTRL, 0x30);
	outb(PIT_PORT_CH0, 0x34);
	CHECK(pit_next_event_ns(&pit) == UINT64_MAX,
	      "mode 0: half a lo/hi count does not start the counter");
	f.now += MS;
	outb(PIT_PORT_CH0, 0x12);
	start = tick_at(f.now) + 1;
	CHECK(pit_next_event_ns(&pit) == edge_ns(start + 0x1234),
	      "mode 0: lo then hi makes count 0x1234");
	f.now = edge_ns(start + 0x100);
	outb(PIT_PORT_CTRL, 0x00);
	CHECK(inb(PIT_PORT_CH0) == 0x34 && inb(PIT_PORT_CH0) == 0x11,
	      "lo/hi read order: LSB first (count 0x1134)");

	/* Rewriting the low byte mid-count stops it; OUT stays low. */
	f.now += MS;
	outb(PIT_PORT_CH0, 0xff);
	next = pit_next_event_ns(&pit);
	f.now += SEC;
	pit_update(&pit);
	CHECK(next == UINT64_MAX && f.rises[0] == 0,
	      "mode 0: a new first byte stops the count, no TC");
	outb(PIT_PORT_CH0, 0x00);
	start = tick_at(f.now) + 1;
	CHECK(pit_next_event_ns(&pit) == edge_ns(start + 0xff),
	      "mode 0: the completed new count 0x00ff restarts");
}

static void test_mode3_and_4(void)
{
	uint64_t start;
	uint8_t st;

	reset(0);
	start = program0(0x36, 1000);           /* mode 3 */
	f.rises[0] = 0;
	f.nrise = 0;
	run_until(edge_ns(start + 10000), 0);
	CHECK(f.rises[0] == 10, "mode 3: one IRQ 0 per period (%u in 10)",
	      f.rises[0]);
	f.now = edge_ns(start + 20100);
	outb(PIT_PORT_CTRL, 0xc2);              /* count and status */
	st = inb(PIT_PORT_CH0);
	CHECK(st == 0xb6, "mode 3 status in the first half: OUT high (0x%02x)",
	      st);
	CHECK(inb(PIT_PORT_CH0) == (uint8_t)800 &&
	      inb(PIT_PORT_CH0) == 800 >> 8,
	      "mode 3 count falls by two per clock (800 after 100)");
	f.now = edge_ns(start + 20600);
	outb(PIT_PORT_CTRL, 0xe2);
	CHECK((inb(PIT_PORT_CH0) & 0x80) == 0,
	      "mode 3 status in the second half: OUT low");

	reset(0);
	start = program0(0x38, 100);            /* mode 4 */
	CHECK(f.level[0] && pit_next_event_ns(&pit) == edge_ns(start + 101),
	      "mode 4: OUT high, strobe ends N+1 clocks after the load");
	f.rises[0] = 0;
	run_until(f.now + SEC, 0);
	CHECK(f.rises[0] == 1, "mode 4: one strobe, one IRQ 0 (%u)",
	      f.rises[0]);
}

static void test_latch_and_readback(void)
{
	uint64_t start;
	uint16_t latched, later;
	uint8_t lo, hi, st;

	reset(0);
	f.now = 7 * MS;
	start = program0(0x34, 50000);
	f.now = edge_ns(start + 1234) + 100;
	outb(PIT_PORT_CTRL, 0x00);              /* counter latch, ch0 */
	f.now += MS;
	outb(PIT_PORT_CTRL, 0x00);              /* ignored: already latched */
	lo = inb(PIT_PORT_CH0);
	hi = inb(PIT_PORT_CH0);
	latched = (uint16_t)(lo | hi << 8);
	CHECK(latched == 50000 - 1234, "latched count is the count at the "
	      "latch, not at the read (%u)", latched);
	lo = inb(PIT_PORT_CH0);
	hi = inb(PIT_PORT_CH0);
	later = (uint16_t)(lo | hi << 8);
	CHECK(later == 50000 - (tick_at(f.now) - start),
	      "after the latch is read, reads are live again (%u)", later);

	/* Read-back of count and status for two channels at once. */
	reset(0);
	f.now = MS;
	start = program0(0x34, 3000);
	outb(PIT_PORT_CTRL, 0xb4);              /* ch2, lo/hi, mode 2 */
	outb(PIT_PORT_CH0 + 2, 0x10);
	outb(PIT_PORT_CH0 + 2, 0x27);           /* 10000 */
	outb(PIT_PORT_CTRL, 0xc2 | 0x08);       /* ch0 and ch2 */
	st = inb(PIT_PORT_CH0 + 2);
	CHECK(st == 0xf4, "read-back status: OUT high, null count while the "
	      "count waits for its clock (0x%02x)", st);
	lo = inb(PIT_PORT_CH0 + 2);
	hi = inb(PIT_PORT_CH0 + 2);
	CHECK((lo | hi << 8) == 10000,
	      "read-back count follows the status (%u)", lo | hi << 8);
	st = inb(PIT_PORT_CH0);
	CHECK(st == 0xf4, "ch0 read-back status: OUT high, null count, "
	      "lo/hi, mode 2 (0x%02x)", st);
	f.now = edge_ns(start + 10);
	lo = inb(PIT_PORT_CH0);
	hi = inb(PIT_PORT_CH0);
	CHECK((lo | hi << 8) == 3000, "ch0 read-back count held across time "
	      "(%u)", lo | hi << 8);
	outb(PIT_PORT_CTRL, 0xe2);
	st = inb(PIT_PORT_CH0);
	CHECK(st == 0xb4, "status after the load: null count clear (0x%02x)",
	      st);
	outb(PIT_PORT_CTRL, 0xd2);              /* count only */
	outb(PIT_PORT_CTRL, 0xe2);              /* then status */
	st = inb(PIT_PORT_CH0);
	lo = inb(PIT_PORT_CH0);
	hi = inb(PIT_PORT_CH0);
	CHECK(st == 0xb4 && (lo | hi << 8) == 2990,
	      "status latched after a count latch still reads first");
}

static void test_count_readback(void)
{
	uint64_t start;
	unsigned bad = 0, last = 0x10000, decreasing = 1;

	reset(5);
	start = program0(0x34, 0x8000);
	for (unsigned i = 1; i <= 50; i++) {
		uint64_t e;
		unsigned n;

		f.now += 397 * 1000;            /* 397 us: some wrap */
		e = tick_at(f.now) - start;
		n = inb(PIT_PORT_CH0);
		n |= inb(PIT_PORT_CH0) << 8;
		bad += n != 0x8000 - e % 0x8000;
		if (i <= 20)
			decreasing &= n < last;
		last = n;
	}
	CHECK(bad == 0, "live count is N - (elapsed clocks mod N) (%u off)",
	      bad);
	CHECK(decreasing, "live count decreases with time");

	/* Access modes: LSB only and MSB only. */
	reset(0);
	outb(PIT_PORT_CTRL, 0x14);              /* ch0, LSB only, mode 2 */
	outb(PIT_PORT_CH0, 0x80);
	start = tick_at(f.now) + 1;
	CHECK(pit_next_event_ns(&pit) == edge_ns(start + 0x80),
	      "LSB-only access: one byte is the whole count 0x0080");
	f.now = edge_ns(start + 0x10);
	CHECK(inb(PIT_PORT_CH0) == 0x70 && inb(PIT_PORT_CH0) == 0x70,
	      "LSB-only reads return the low byte every time");
	outb(PIT_PORT_CTRL, 0x24);              /* ch0, MSB only, mode 2 */
	outb(PIT_PORT_CH0, 0x12);
	start = tick_at(f.now) + 1;
	CHECK(pit_next_event_ns(&pit) == edge_ns(start + 0x1200),
	      "MSB-only access: one byte is count 0x1200");
	f.now = edge_ns(start + 0x300);
	CHECK(inb(PIT_PORT_CH0) == 0x0f, "MSB-only reads return the high byte");

	/* Mode 2 count rewritten while counting: takes over at the reload. */
	reset(0);
	start = program0(0x34, 1000);
	f.now = edge_ns(start + 1500);
	outb(PIT_PORT_CH0, (uint8_t)3000);
	outb(PIT_PORT_CH0, 3000 >> 8);
	CHECK(pit_next_event_ns(&pit) == edge_ns(start + 2000),
	      "mode 2: a new count waits for the end of the period");
	f.rises[0] = 0;
	run_until(edge_ns(start + 2000 + 6000), 0);
	CHECK(f.rises[0] == 3 && pit_next_event_ns(&pit) ==
	      edge_ns(start + 2000 + 9000),
	      "mode 2: after the reload the new period rules (%u)",
	      f.rises[0]);
}

static void test_channel2(void)
{
	uint64_t start;
	uint8_t a, b, v;
	unsigned toggles = 0;

	/* Linux's TSC calibration: gate 2 on, speaker off, mode 0. */
	reset(0);
	f.now = MS;
	outb(PIT_PORT_SYSB, (inb(PIT_PORT_SYSB) & ~PIT_SYSB_SPKR) |
	     PIT_SYSB_GATE2);
	outb(PIT_PORT_CTRL, 0xb0);
	outb(PIT_PORT_CH0 + 2, 0xff);
	outb(PIT_PORT_CH0 + 2, 0xff);
	start = tick_at(f.now) + 1;
	CHECK((inb(PIT_PORT_SYSB) & 0x23) == 0x01,
	      "port 0x61: gate 2 set, OUT 2 low while counting");
	f.now = edge_ns(start + 0xffff) - 1;
	CHECK(!(inb(PIT_PORT_SYSB) & PIT_SYSB_OUT2), "OUT 2 low before TC");
	f.now++;
	CHECK(inb(PIT_PORT_SYSB) & PIT_SYSB_OUT2, "OUT 2 high at TC");
	CHECK(f.rises[0] == 0 && f.irq_calls == 0,
	      "channel 2 never touches IRQ 0");

	/* Gate low stops mode 0; gate high resumes from the same count. */
	reset(0);
	outb(PIT_PORT_SYSB, PIT_SYSB_GATE2);
	outb(PIT_PORT_CTRL, 0xb0);
	outb(PIT_PORT_CH0 + 2, 0x00);
	outb(PIT_PORT_CH0 + 2, 0x80);
	f.now += MS;
	outb(PIT_PORT_SYSB, 0);
	a = inb(PIT_PORT_CH0 + 2);
	a = inb(PIT_PORT_CH0 + 2);
	f.now += 5 * MS;
	(void)inb(PIT_PORT_CH0 + 2);
	b = inb(PIT_PORT_CH0 + 2);
	CHECK(a == b && a < 0x80, "gate 2 low: count frozen (0x%02x..)", a);
	outb(PIT_PORT_SYSB, PIT_SYSB_GATE2);
	f.now += 5 * MS;
	(void)inb(PIT_PORT_CH0 + 2);
	b = inb(PIT_PORT_CH0 + 2);
	CHECK(b < a, "gate 2 high again: counting resumes");

	/* Port 0x61: bits 2-3 stored, 4 toggles with time, 6-7 read 0. */
	reset(0);
	outb(PIT_PORT_SYSB, 0xff);
	v = inb(PIT_PORT_SYSB);
	CHECK((v & 0xcf) == 0x0f, "port 0x61 keeps bits 0-3, status bits "
	      "read-only (0x%02x)", v);
	for (unsigned i = 0; i < 100; i++) {
		uint8_t x = inb(PIT_PORT_SYSB) & PIT_SYSB_REFRESH;

		f.now += 5000;
		toggles += x != (inb(PIT_PORT_SYSB) & PIT_SYSB_REFRESH);
	}
	CHECK(toggles > 20 && toggles < 80, "port 0x61 bit 4 toggles about "
	      "every 15 us (%u of 100 5-us steps)", toggles);
}

static void test_bad_input(void)
{
	uint64_t start;
	uint32_t x;
	unsigned logs;

	reset(0);
	outb(PIT_PORT_CTRL, 0x35);              /* mode 2, BCD */
	outb(PIT_PORT_CH0, 0x00);
	outb(PIT_PORT_CH0, 0x01);
	start = tick_at(f.now) + 1;
	CHECK(f.logs == 1 && pit_next_event_ns(&pit) == edge_ns(start + 256),
	      "BCD rejected: logged, count 0x0100 counts 256 in binary");
	outb(PIT_PORT_CTRL, 0xe2);
	CHECK(inb(PIT_PORT_CH0) == 0xf4, "BCD rejected: status shows binary");

	reset(0);
	outb(PIT_PORT_CTRL, 0x3c);              /* mode 6 = mode 2 */
	outb(PIT_PORT_CH0, 0x01);
	outb(PIT_PORT_CH0, 0x00);
	start = tick_at(f.now) + 1;
	CHECK(f.logs == 1 && pit_next_event_ns(&pit) == edge_ns(start + 2),
	      "count 1 in mode 2 (written as mode 6): logged, runs as 2");
	f.rises[0] = 0;
	stuck = 0;
	run_until(edge_ns(start + 2000), 0);
	CHECK(f.rises[0] == 1000 && stuck == 0,
	      "the fastest rate still delivers every edge (%u)", f.rises[0]);
	outb(PIT_PORT_CTRL, 0xe2);
	CHECK(inb(PIT_PORT_CH0) == 0xbc, "status keeps the mode bits as "
	      "written (110)");

	reset(0);
	program0(0x30, 0);                      /* 0 means 65536 */
	CHECK(pit_next_event_ns(&pit) == edge_ns(tick_at(f.now) + 1 + 65536),
	      "count 0 is 65536");
	logs = f.logs;
	x = 0x12345678;
	CHECK(pit_io(&pit, PIT_PORT_CH0, 3, false, &x) && x == 0xffffffff &&
	      f.logs == logs + 1, "size 3 access: logged, reads all ones");
	x = 0x12345678;
	CHECK(!pit_io(&pit, 0x44, 1, false, &x) && x == 0x12345678 &&
	      !pit_io(&pit, 0x3f, 2, false, &x) &&
	      !pit_io(&pit, 0x60, 1, false, &x),
	      "ports outside 0x40-0x43 and 0x61 are not the PIT's");
	CHECK(inb(PIT_PORT_CTRL) == 0xff, "the control word reads 0xff");
	x = 0;
	CHECK(pit_io(&pit, PIT_PORT_CH0 + 2, 4, false, &x) &&
	      (x >> 8) == 0xffffff, "dword read at 0x42: ch2 byte, then "
	      "0x43 and two unclaimed ports read 0xff (0x%08x)", x);
	x = 0x34343434;
	pit_io(&pit, PIT_PORT_CH0 + 3, 4, true, &x);
	outb(PIT_PORT_CTRL, 0xe2);
	CHECK(inb(PIT_PORT_CH0) == 0xf4, "dword write at 0x43: the control "
	      "byte lands (mode 2, awaiting a count), the rest goes nowhere");

	/* The clock running backwards (a platform bug) must not wedge. */
	reset(10 * SEC);
	program0(0x34, 100);
	f.now = 1;
	pit_update(&pit);
	(void)inb(PIT_PORT_CH0);
	f.now = 10 * SEC + MS;
	pit_update(&pit);
	CHECK(pit.irq_edges > 0, "a clock that ran backwards is survived");
}

int main(void)
{
	test_rate_100hz();
	test_late_owner();
	test_mode0();
	test_mode3_and_4();
	test_latch_and_readback();
	test_count_readback();
	test_channel2();
	test_bad_input();
	return done_testing();
}
