/*
 * Host tests for the virtual Ethernet switch (drivers/vswitch.c): ports,
 * learning and unicast forwarding, flooding of broadcast, multicast and
 * unknown unicast, no reflection to the sender, refused frames, BUSY
 * (atomic, per-sender share), the busy generation, stalls on a fake clock
 * and recovery, port removal, the full table and aging, a port's
 * address change.
 */
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "vswitch.h"

static uint64_t clock_ns = 1000;
static unsigned logs;
static char last_log[256];

static uint64_t f_now(void *c) { (void)c; return clock_ns; }

static void f_log(void *c, const char *m)
{
	(void)c;
	logs++;
	strncpy(last_log, m, sizeof(last_log) - 1);
}

static const struct platform plat = { .now_ns = f_now, .log = f_log };
static struct vswitch sw;

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c };
static const uint8_t MAC_X[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

static uint8_t frame[VSWITCH_FRAME_MAX + 1];

/* A frame dst <- src of `len` bytes with a payload that says `tag`. */
static const uint8_t *mk(const uint8_t *dst, const uint8_t *src, size_t len, uint8_t tag)
{
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	frame[12] = 0x08;
	frame[13] = 0x00;
	for (size_t i = 14; i < len && i < sizeof(frame); i++)
		frame[i] = (uint8_t)(tag + i);
	return frame;
}

static enum vswitch_result tx(unsigned from, const uint8_t *dst, const uint8_t *src,
			      size_t len, uint8_t tag)
{
	return vswitch_send(&sw, from, mk(dst, src, len, tag), len);
}

static unsigned total_pending(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < VSWITCH_PORTS; i++)
		n += vswitch_pending(&sw, i);
	return n;
}

static void drain(unsigned port)
{
	uint8_t buf[VSWITCH_FRAME_MAX];

	while (vswitch_recv(&sw, port, buf, sizeof(buf)))
		;
}

static void drain_all(void)
{
	for (unsigned i = 0; i < VSWITCH_PORTS; i++)
		drain(i);
}

/* held[] of every queue matches the frames in it. */
static bool held_consistent(void)
{
	for (unsigned i = 0; i < VSWITCH_PORTS; i++) {
		const struct vswitch_port *p = &sw.port[i];
		unsigned n[VSWITCH_PORTS] = { 0 };

		for (unsigned j = 0; j < p->count; j++) {
			uint8_t from = p->q[(p->head + j) % VSWITCH_QUEUE].from;

			if (from < VSWITCH_PORTS)
				n[from]++;
		}
		for (unsigned k = 0; k < VSWITCH_PORTS; k++)
			if (n[k] != p->held[k])
				return false;
	}
	return true;
}

static void basics(int *a, int *b, int *c, int *up)
{
	uint8_t buf[VSWITCH_FRAME_MAX];
	int extra[VSWITCH_PORTS];
	int n = 0, full;

	vswitch_init(&sw, &plat, "a-switch-with-a-long-name");
	CHECK(strlen(sw.name) == VSWITCH_NAME - 1 && !memcmp(sw.name, "a-switch-with-a", 15),
	      "switch name cut to %d characters", VSWITCH_NAME - 1);
	*a = vswitch_add_port(&sw, "vm-a", MAC_A, false);
	*b = vswitch_add_port(&sw, "vm-b-has-a-very-long-name", MAC_B, false);
	*c = vswitch_add_port(&sw, "vm-c", MAC_C, false);
	*up = vswitch_add_port(&sw, "eth0", NULL, true);
	CHECK(*a == 0 && *b == 1 && *c == 2 && *up == 3, "four ports added: 0 1 2 3");
	CHECK(!strcmp(sw.port[*a].name, "vm-a") && strlen(sw.port[*b].name) == VSWITCH_NAME - 1,
	      "port names copied and cut");
	CHECK(sw.port[*up].uplink && !sw.port[*up].has_mac && sw.port[*a].has_mac &&
	      !memcmp(sw.port[*a].mac, MAC_A, 6), "uplink without a MAC, child with its MAC");
	CHECK(vswitch_add_port(&sw, "mc", MCAST, false) == -1, "a multicast port address: -1");
	while ((full = vswitch_add_port(&sw, "x", NULL, false)) >= 0)
		extra[n++] = full;
	CHECK(n == VSWITCH_PORTS - 4, "the switch fills at %d ports, then -1", VSWITCH_PORTS);
	for (int i = 0; i < n; i++)
		vswitch_remove_port(&sw, (unsigned)extra[i]);
	CHECK(vswitch_pending(&sw, 4) == 0 && !sw.port[4].used, "the extra ports are gone");

	/* Unknown unicast floods; the reply is forwarded to the learned port. */
	CHECK(tx(*a, MAC_B, MAC_A, 60, 1) == VSWITCH_SENT, "a -> B (unknown): sent");
	CHECK(vswitch_pending(&sw, *a) == 0 && vswitch_pending(&sw, *b) == 1 &&
	      vswitch_pending(&sw, *c) == 1 && vswitch_pending(&sw, *up) == 1 && sw.flooded == 1,
	      "unknown unicast flooded to every port but the sender");
	CHECK(vswitch_peek_len(&sw, *b) == 60, "peek: 60 bytes");
	CHECK(vswitch_recv(&sw, *b, buf, 59) == 0 && vswitch_pending(&sw, *b) == 1,
	      "recv into a buffer too small takes nothing");
	CHECK(vswitch_recv(&sw, *b, buf, sizeof(buf)) == 60 &&
	      !memcmp(buf, mk(MAC_B, MAC_A, 60, 1), 60) && sw.port[*b].rx_frames == 1 &&
	      sw.port[*b].rx_bytes == 60, "b receives the frame byte for byte, counted");
	CHECK(sw.port[*a].tx_frames == 1 && sw.port[*a].tx_bytes == 60 && sw.learned == 1,
	      "a's transmit counted, A learned");
	drain_all();
	CHECK(tx(*b, MAC_A, MAC_B, 100, 2) == VSWITCH_SENT && vswitch_pending(&sw, *a) == 1 &&
	      total_pending() == 1 && sw.forwarded == 1, "b -> A (learned): to a only");
	CHECK(tx(*a, MAC_B, MAC_A, 64, 3) == VSWITCH_SENT && vswitch_pending(&sw, *b) == 1 &&
	      total_pending() == 2, "a -> B (learned now): to b only");
	drain_all();

	CHECK(tx(*c, BCAST, MAC_C, 42, 4) == VSWITCH_SENT && vswitch_pending(&sw, *a) == 1 &&
	      vswitch_pending(&sw, *b) == 1 && vswitch_pending(&sw, *up) == 1 &&
	      vswitch_pending(&sw, *c) == 0, "broadcast flooded, not back to c");
	drain_all();
	CHECK(tx(*up, MCAST, MAC_X, 42, 5) == VSWITCH_SENT && vswitch_pending(&sw, *a) == 1 &&
	      vswitch_pending(&sw, *b) == 1 && vswitch_pending(&sw, *c) == 1 &&
	      vswitch_pending(&sw, *up) == 0, "multicast flooded, not back to the uplink");
	drain_all();
	CHECK(tx(*a, MAC_X, MAC_A, 42, 6) == VSWITCH_SENT && total_pending() == 1 &&
	      vswitch_pending(&sw, *up) == 1, "a -> X (learned on the uplink): uplink only");
	drain_all();
	/* A second host behind the uplink talks to X: the uplink's own port. */
	CHECK(tx(*up, MAC_X, MAC_C, 42, 7) == VSWITCH_SENT && total_pending() == 0 &&
	      sw.filtered == 1 && sw.moved == 1,
	      "uplink -> X (on the uplink itself): filtered, never reflected");
	CHECK(tx(*a, MAC_C, MAC_A, 42, 8) == VSWITCH_SENT && vswitch_pending(&sw, *up) == 1 &&
	      total_pending() == 1, "C moved to the uplink: a -> C goes there");
	drain_all();
	CHECK(tx(*c, MAC_C, MAC_C, 42, 9) == VSWITCH_SENT && total_pending() == 0 &&
	      sw.filtered == 2 && sw.moved == 2, "c -> itself: filtered (C moved back to c)");
	CHECK(held_consistent(), "held[] matches every queue");
}

static void refused(int a, int b, int c, int up)
{
	uint64_t bad = sw.port[a].bad, sent = sw.port[a].tx_frames;
	unsigned l = logs;

	drain_all();
	(void)c;
	CHECK(tx(a, MAC_B, MAC_A, 13, 1) == VSWITCH_BAD && sw.port[a].bad == bad + 1 &&
	      logs == l + 1 && strstr(last_log, "vm-a"), "13-byte runt: BAD, counted, logged");
	CHECK(tx(a, MAC_B, MAC_A, 1515, 1) == VSWITCH_BAD && sw.port[a].bad == bad + 2,
	      "1515 bytes: BAD");
	CHECK(vswitch_send(&sw, a, NULL, 60) == VSWITCH_BAD && sw.port[a].bad == bad + 3,
	      "no frame: BAD");
	CHECK(tx(a, MAC_B, MAC_A, 14, 1) == VSWITCH_SENT && tx(a, MAC_B, MAC_A, 1514, 1) ==
	      VSWITCH_SENT && vswitch_peek_len(&sw, b) == 14, "14 and 1514 bytes: sent");
	drain_all();
	CHECK(tx(up, MAC_B, MCAST, 60, 1) == VSWITCH_BAD && sw.port[up].bad == 1,
	      "a multicast source, even from the uplink: BAD");
	CHECK(tx(a, MAC_B, MAC_B, 60, 1) == VSWITCH_BAD && sw.port[a].bad == bad + 4,
	      "a spoofed source on a port with a MAC: BAD");
	CHECK(total_pending() == 0 && sw.port[a].tx_frames == sent + 2,
	      "nothing refused was queued or counted as sent");
	CHECK(vswitch_send(&sw, 9, mk(MAC_B, MAC_A, 60, 1), 60) == VSWITCH_BAD &&
	      vswitch_send(&sw, 99, frame, 60) == VSWITCH_BAD, "from a port not in use: BAD");
	CHECK(tx(up, MAC_B, MAC_A, 60, 1) == VSWITCH_SENT && vswitch_pending(&sw, b) == 1,
	      "the uplink may send any source");
	drain_all();
}

static void busy(int a, int b, int c, int up)
{
	uint8_t buf[VSWITCH_FRAME_MAX];
	unsigned n = 0;
	uint64_t g;

	/* Everyone has learned: a, b, c on their ports. */
	tx(b, BCAST, MAC_B, 60, 0);
	tx(c, BCAST, MAC_C, 60, 0);
	drain_all();
	while (n < 100 && tx(a, MAC_B, MAC_A, 60, (uint8_t)n) == VSWITCH_SENT)
		n++;
	CHECK(n == VSWITCH_SHARE && sw.port[b].held[a] == VSWITCH_SHARE &&
	      sw.port[a].busy == 1, "a sender stops at its share (%u) of b", VSWITCH_SHARE);
	n = 0;
	while (n < 100 && tx(c, MAC_B, MAC_C, 60, (uint8_t)n) == VSWITCH_SENT)
		n++;
	CHECK(n == VSWITCH_QUEUE - VSWITCH_SHARE && vswitch_pending(&sw, b) == VSWITCH_QUEUE,
	      "another sender still gets through to b, until b's queue is full");
	CHECK(tx(up, BCAST, MAC_X, 60, 0) == VSWITCH_BUSY && total_pending() == VSWITCH_QUEUE &&
	      vswitch_pending(&sw, a) == 0 && vswitch_pending(&sw, c) == 0 &&
	      sw.port[up].busy == 1, "a broadcast with b full: BUSY, queued nowhere");
	CHECK(tx(up, MAC_A, MAC_X, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, a) == 1,
	      "unicast to a is not held up by b");
	g = vswitch_busy_gen(&sw);
	CHECK(vswitch_busy_gen(&sw) == g, "the generation holds while nothing moves");
	CHECK(vswitch_recv(&sw, b, buf, sizeof(buf)) == 60 && vswitch_busy_gen(&sw) != g,
	      "a recv changes the generation");
	CHECK(sw.port[b].held[a] == VSWITCH_SHARE - 1, "held[] follows the recv");
	CHECK(tx(up, BCAST, MAC_X, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, b) ==
	      VSWITCH_QUEUE && vswitch_pending(&sw, c) == 1, "the retry after the recv: sent");
	CHECK(held_consistent(), "held[] matches every queue");
	drain_all();
}

static void stall(int a, int b, int c, int up)
{
	uint8_t buf[VSWITCH_FRAME_MAX];
	unsigned l;
	uint64_t g;

	for (unsigned i = 0; i < VSWITCH_SHARE; i++) {
		tx(a, MAC_B, MAC_A, 60, 0);
		tx(c, MAC_B, MAC_C, 60, 0);
	}
	CHECK(vswitch_pending(&sw, b) == VSWITCH_QUEUE && tx(up, MAC_B, MAC_X, 60, 0) ==
	      VSWITCH_BUSY, "b full: BUSY");
	g = vswitch_busy_gen(&sw);
	clock_ns += VSWITCH_STALL_NS - 1;
	CHECK(vswitch_busy_gen(&sw) == g && !sw.port[b].stalled &&
	      tx(up, MAC_B, MAC_X, 60, 0) == VSWITCH_BUSY, "just under the stall time: still BUSY");
	l = logs;
	clock_ns += 1;
	CHECK(vswitch_busy_gen(&sw) != g && sw.port[b].stalled && logs == l + 1,
	      "full for VSWITCH_STALL_NS: stalled, logged, the waiter is told");
	CHECK(tx(up, MAC_B, MAC_X, 60, 0) == VSWITCH_SENT && sw.port[b].stall_drops == 1 &&
	      vswitch_pending(&sw, b) == VSWITCH_QUEUE, "a frame for a stalled port: dropped, counted");
	CHECK(tx(a, BCAST, MAC_A, 60, 0) == VSWITCH_SENT && sw.port[b].stall_drops == 2 &&
	      vswitch_pending(&sw, c) == 1 && vswitch_pending(&sw, up) == 1 && logs == l + 1,
	      "a broadcast reaches the others; logged once per stall");
	CHECK(vswitch_recv(&sw, b, buf, sizeof(buf)) == 60 && !sw.port[b].stalled,
	      "live again at its next recv");
	CHECK(tx(up, MAC_B, MAC_X, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, b) ==
	      VSWITCH_QUEUE && sw.port[b].stall_drops == 2, "and queued to again");
	drain_all();

	/* One sender alone can hold up a dead port with half its queue. */
	for (unsigned i = 0; i < VSWITCH_SHARE; i++)
		tx(a, BCAST, MAC_A, 60, 0);
	drain(c);
	drain(up);
	CHECK(tx(a, BCAST, MAC_A, 60, 0) == VSWITCH_BUSY && vswitch_pending(&sw, b) ==
	      VSWITCH_SHARE, "a's share of b used up, b not full: BUSY");
	g = vswitch_busy_gen(&sw);
	clock_ns += VSWITCH_STALL_NS;
	CHECK(vswitch_busy_gen(&sw) != g && sw.port[b].stalled &&
	      tx(a, BCAST, MAC_A, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, c) == 1,
	      "no recv for VSWITCH_STALL_NS: b stalls, a's broadcasts go on");
	drain_all();
	CHECK(!sw.port[b].stalled && vswitch_pending(&sw, b) == 0, "drained: b live");
}

static void removal(int *a, int *b, int c, int up)
{
	uint8_t buf[VSWITCH_FRAME_MAX];
	uint64_t g;
	unsigned n = 0;
	int nb;

	tx(*b, BCAST, MAC_B, 60, 0);
	drain_all();
	/* b leaves frames in a's queue, then is removed while up waits on it. */
	for (unsigned i = 0; i < 3; i++)
		tx(*b, MAC_A, MAC_B, 70, (uint8_t)i);
	for (unsigned i = 0; i < VSWITCH_QUEUE; i++)
		tx(i & 1 ? *a : c, MAC_B, i & 1 ? MAC_A : MAC_C, 60, 0);
	CHECK(tx(up, MAC_B, MAC_X, 60, 0) == VSWITCH_BUSY, "up waits on a full b");
	g = vswitch_busy_gen(&sw);
	vswitch_remove_port(&sw, (unsigned)*b);
	CHECK(vswitch_busy_gen(&sw) != g && !sw.port[*b].used && vswitch_pending(&sw, *b) == 0,
	      "remove: the waiter is released, b's queue dropped");
	CHECK(tx(up, MAC_B, MAC_X, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, *a) == 4 &&
	      vswitch_pending(&sw, c) == 1, "B forgotten: the retry floods to a and c");
	CHECK(sw.port[*a].held[*b] == 0 && held_consistent(),
	      "b's frames left in a's queue are in no held[]");
	/* A new port in b's slot gets a clean share of a's queue. */
	nb = vswitch_add_port(&sw, "vm-b2", MAC_B, false);
	CHECK(nb == *b, "a new port takes the free slot");
	while (n < 100 && tx(nb, MAC_A, MAC_B, 80, (uint8_t)n) == VSWITCH_SENT)
		n++;
	CHECK(n == VSWITCH_SHARE, "the new port gets its whole share (%u sent)", n);
	CHECK(vswitch_recv(&sw, *a, buf, sizeof(buf)) == 70 && buf[14] == (uint8_t)14 &&
	      sw.port[*a].held[nb] == VSWITCH_SHARE && held_consistent(),
	      "the removed port's frame still delivered, the new port's share untouched");
	drain_all();
	*b = nb;
}

static void table(void)
{
	uint8_t mac[6] = { 0x02, 0xee, 0, 0, 0, 0 };
	int a, b, up, up2;
	unsigned kept = 0;
	bool ok = true;

	clock_ns = 5000;
	vswitch_init(&sw, &plat, "t");
	a = vswitch_add_port(&sw, "a", MAC_A, false);
	b = vswitch_add_port(&sw, "b", MAC_B, false);
	up = vswitch_add_port(&sw, "up", NULL, true);
	for (unsigned i = 0; i < VSWITCH_TABLE; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		clock_ns++;
		tx(up, MAC_A, mac, 60, 0);
		drain_all();
	}
	CHECK(sw.learned == VSWITCH_TABLE && sw.table_full == 0, "%d addresses learned",
	      VSWITCH_TABLE);
	/* Address 0 seen again: now 1 is the oldest. */
	mac[4] = mac[5] = 0;
	clock_ns++;
	tx(up, MAC_A, mac, 60, 0);
	mac[4] = 0x7f;
	clock_ns++;
	CHECK(tx(up, MAC_A, mac, 60, 0) == VSWITCH_SENT && sw.table_full == 1 &&
	      sw.learned == VSWITCH_TABLE + 1, "one more: the table is full, an entry replaced");
	drain_all();
	mac[4] = 0;
	mac[5] = 1;
	CHECK(tx(a, mac, MAC_A, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, b) == 1 &&
	      vswitch_pending(&sw, up) == 1, "the oldest (address 1) was replaced: it floods");
	drain_all();
	mac[5] = 0;
	CHECK(tx(a, mac, MAC_A, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, b) == 0 &&
	      vswitch_pending(&sw, up) == 1, "address 0, refreshed, stayed");
	drain_all();

	/* Removing a port forgets its addresses and keeps every other one
	 * reachable (the table is hashed: deletion must not cut a chain). */
	vswitch_init(&sw, &plat, "rm");
	a = vswitch_add_port(&sw, "a", MAC_A, false);
	b = vswitch_add_port(&sw, "b", MAC_B, false);
	up = vswitch_add_port(&sw, "up", NULL, true);
	up2 = vswitch_add_port(&sw, "up2", NULL, true);
	for (unsigned i = 0; i < 250; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)(i * 7);
		tx(i % 3 ? up : up2, MAC_A, mac, 60, 0);
		drain_all();
	}
	vswitch_remove_port(&sw, (unsigned)up);
	for (unsigned i = 0; i < VSWITCH_TABLE; i++)
		if (sw.table[i].used)
			kept += sw.table[i].port == up2 ? 1 : 1000;
	CHECK(kept == 84 && sw.learned == 250, "the removed port's 166 addresses forgotten, "
	      "84 left");
	for (unsigned i = 0; i < 250; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)(i * 7);
		tx(a, mac, MAC_A, 60, 0);
		if (vswitch_pending(&sw, up2) != 1 || vswitch_pending(&sw, b) != (i % 3 ? 1u : 0u))
			ok = false;
		drain_all();
	}
	CHECK(ok, "the others' addresses all still forwarded, the removed port's flooded");

	/* Aging: X learned now is forgotten VSWITCH_AGE_NS later. */
	vswitch_init(&sw, &plat, "age");
	a = vswitch_add_port(&sw, "a", MAC_A, false);
	b = vswitch_add_port(&sw, "b", MAC_B, false);
	up = vswitch_add_port(&sw, "up", NULL, true);
	tx(up, MAC_A, MAC_X, 60, 0);
	drain_all();
	clock_ns += VSWITCH_AGE_NS - 1;
	CHECK(tx(a, MAC_X, MAC_A, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, up) == 1 &&
	      vswitch_pending(&sw, b) == 0, "just under the age: still forwarded");
	drain_all();
	clock_ns += 1;
	CHECK(tx(a, MAC_X, MAC_A, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, up) == 1 &&
	      vswitch_pending(&sw, b) == 1, "aged out: flooded");
	drain_all();
	tx(up, MAC_A, MAC_X, 60, 0);
	drain_all();
	CHECK(tx(a, MAC_X, MAC_A, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, b) == 0 &&
	      sw.learned == 3, "learned again when it speaks again");
}

/* A child port's address change: the source check and the learned
 * entry follow it; refusals leave everything as it was. */
static void address_change(void)
{
	static const uint8_t MAC_N[6] = { 0x02, 0, 0, 0, 0, 0x4e };
	static const uint8_t ZERO[6];
	int a, b, up;
	unsigned bad, n = 0;

	vswitch_init(&sw, &plat, "mv");
	a = vswitch_add_port(&sw, "a", MAC_A, false);
	b = vswitch_add_port(&sw, "b", MAC_B, false);
	up = vswitch_add_port(&sw, "up", NULL, true);
	tx(a, BCAST, MAC_A, 60, 0);
	drain_all();
	CHECK(tx(b, MAC_A, MAC_B, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, a) == 1 &&
	      vswitch_pending(&sw, up) == 0, "before: A learned on a, forwarded there only");
	drain_all();
	bad = sw.port[a].bad;
	CHECK(vswitch_set_port_mac(&sw, (unsigned)a, MAC_N) == 0 &&
	      !memcmp(sw.port[a].mac, MAC_N, 6) && strstr(last_log, "address changed"),
	      "a moves to N: 0, logged");
	CHECK(tx(a, BCAST, MAC_N, 60, 0) == VSWITCH_SENT && sw.port[a].bad == bad,
	      "frames from N now pass the source check");
	drain_all();
	CHECK(tx(a, BCAST, MAC_A, 60, 0) == VSWITCH_BAD && sw.port[a].bad == bad + 1,
	      "frames from the old address A are refused");
	CHECK(tx(b, MAC_A, MAC_B, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, a) == 1 &&
	      vswitch_pending(&sw, up) == 1, "A forgotten: a frame for it floods");
	drain_all();
	CHECK(tx(b, MAC_N, MAC_B, 60, 0) == VSWITCH_SENT && vswitch_pending(&sw, a) == 1 &&
	      vswitch_pending(&sw, up) == 0, "N learned on a: forwarded there only");
	drain_all();
	for (unsigned i = 0; i < VSWITCH_TABLE; i++)
		n += sw.table[i].used && !memcmp(sw.table[i].mac, MAC_A, 6);
	CHECK(n == 0, "no entry for A is left in the table");
	CHECK(vswitch_set_port_mac(&sw, (unsigned)a, MAC_B) == -1 &&
	      vswitch_set_port_mac(&sw, (unsigned)a, MCAST) == -1 &&
	      vswitch_set_port_mac(&sw, (unsigned)a, ZERO) == -1 &&
	      !memcmp(sw.port[a].mac, MAC_N, 6),
	      "to b's address, a multicast or a zero address: -1, unchanged");
	CHECK(vswitch_set_port_mac(&sw, (unsigned)up, MAC_C) == -1 &&
	      vswitch_set_port_mac(&sw, VSWITCH_PORTS - 1, MAC_C) == -1 &&
	      vswitch_set_port_mac(&sw, 99, MAC_C) == -1 && !sw.port[up].has_mac,
	      "the uplink, a free slot, a port out of range: -1");
	CHECK(vswitch_set_port_mac(&sw, (unsigned)a, MAC_N) == 0 &&
	      tx(a, BCAST, MAC_N, 60, 0) == VSWITCH_SENT, "to its own address again: 0");
	drain_all();
}

int main(void)
{
	int a, b, c, up;

	basics(&a, &b, &c, &up);
	refused(a, b, c, up);
	busy(a, b, c, up);
	stall(a, b, c, up);
	removal(&a, &b, c, up);
	table();
	address_change();
	return done_testing();
}
