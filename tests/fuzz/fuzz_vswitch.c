/*
 * Fuzz target: the virtual Ethernet switch (drivers/vswitch.c) under a
 * byte stream of operations: sends from any port (valid or not) of
 * frames built from the bytes (runts, oversized, multicast or spoofed
 * sources, broadcast, multicast, known, unknown and self-addressed
 * destinations), receives into exact or too small buffers, clock steps
 * (around the stall time and the age), port removal and addition.
 *
 * A shadow of every queue, filled from what each send observably did,
 * and a shadow of who last sent each source address stand beside the
 * switch. Invariants, abort() when one breaks, after every operation:
 * BAD exactly for an invalid frame; BAD and BUSY change no queue; a sent
 * frame reaches each destination once, never its sender, and only the
 * whole flood set, the port that last sent its destination address, or
 * (filtered) nothing; a received frame is byte for byte the one sent, in
 * order; held[] counts match the queues and stay within VSWITCH_SHARE,
 * queues within VSWITCH_QUEUE; learned entries name ports in use, once
 * each; the generation grows at every receive and never goes back; and
 * a sender told BUSY always gets through after at most three waits of
 * VSWITCH_STALL_NS (the stall rule), the first of which changes the
 * generation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vswitch.h"

#define MAP_MAX 2048
#define MAP_SLOTS (2 * MAP_MAX)
#define BURSTS 2                /* per input: each is hundreds of sends */

struct shadow_frame {
	uint16_t len;
	uint8_t from;
	uint8_t data[VSWITCH_FRAME_MAX];
};

static struct vswitch sw;
static uint64_t clk;
static uint64_t last_gen;
static unsigned serial;
static struct shadow_frame shq[VSWITCH_PORTS][VSWITCH_QUEUE];
static unsigned sh_head[VSWITCH_PORTS], sh_count[VSWITCH_PORTS];
static struct { uint8_t mac[6]; uint8_t port; } map[MAP_MAX];
static uint16_t idx[MAP_SLOTS];        /* 1 + index into map, or 0 */
static unsigned nmap, bursts;
static bool map_full;
/* Ports whose queue an operation touched: their frames are walked again;
 * the others must show the held[] they showed last time. */
static uint32_t dirty;
static uint8_t held_seen[VSWITCH_PORTS][VSWITCH_PORTS];

static uint64_t f_now(void *c) { (void)c; return clk; }
static void f_log(void *c, const char *m) { (void)c; if (!m || !m[0]) abort(); }

static const struct platform plat = { .now_ns = f_now, .log = f_log };

struct cursor {
	const uint8_t *d;
	size_t n, i;
};

static uint8_t get(struct cursor *c)
{
	return c->i < c->n ? c->d[c->i++] : 0;
}

static bool mcast(const uint8_t *mac) { return mac[0] & 1; }

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] &&
	       a[4] == b[4] && a[5] == b[5];
}

/* ---- the shadows ---- */

static unsigned map_hash(const uint8_t *mac)
{
	unsigned h = 0;

	for (unsigned i = 0; i < 6; i++)
		h = h * 167 + mac[i];
	return h % MAP_SLOTS;
}

/* The slot of idx[] that holds `mac`, or the empty one where it goes. */
static unsigned map_slot(const uint8_t *mac)
{
	unsigned h = map_hash(mac);

	while (idx[h] && !mac_eq(map[idx[h] - 1].mac, mac))
		h = (h + 1) % MAP_SLOTS;
	return h;
}

static void map_learn(const uint8_t *mac, unsigned port)
{
	unsigned h = map_slot(mac);

	if (!idx[h]) {
		if (nmap == MAP_MAX) {
			map_full = true;
			return;
		}
		memcpy(map[nmap].mac, mac, 6);
		idx[h] = (uint16_t)++nmap;
	}
	map[idx[h] - 1].port = (uint8_t)port;
}

/* The port that last sent `mac` as its source, or -1. */
static int map_port(const uint8_t *mac)
{
	unsigned h = map_slot(mac);

	return idx[h] ? map[idx[h] - 1].port : -1;
}

static void map_forget_port(unsigned port)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nmap; i++)
		if (map[i].port != port)
			map[n++] = map[i];
	nmap = n;
	memset(idx, 0, sizeof(idx));
	for (unsigned i = 0; i < nmap; i++)
		idx[map_slot(map[i].mac)] = (uint16_t)(i + 1);
}

static void sh_push(unsigned port, unsigned from, const uint8_t *frame, size_t len)
{
	struct shadow_frame *f;

	if (sh_count[port] >= VSWITCH_QUEUE)
		abort();
	f = &shq[port][(sh_head[port] + sh_count[port]++) % VSWITCH_QUEUE];
	f->len = (uint16_t)len;
	f->from = (uint8_t)from;
	memcpy(f->data, frame, len);
}

/* ---- invariants ---- */

static void check_port(unsigned i)
{
	const struct vswitch_port *p = &sw.port[i];
	unsigned held[VSWITCH_PORTS] = { 0 };

	if (!p->used) {
		if (p->count || sh_count[i] || vswitch_pending(&sw, i) || vswitch_peek_len(&sw, i))
			abort();
		return;
	}
	if (p->count > VSWITCH_QUEUE || p->head >= VSWITCH_QUEUE || p->count != sh_count[i] ||
	    vswitch_pending(&sw, i) != p->count)
		abort();
	if (p->stalled && !p->count)
		abort();
	if (!(dirty & (1u << i))) {
		if (memcmp(p->held, held_seen[i], sizeof(p->held)))
			abort();
		return;
	}
	for (unsigned j = 0; j < p->count; j++) {
		const struct vswitch_frame *f = &p->q[(p->head + j) % VSWITCH_QUEUE];
		const struct shadow_frame *s = &shq[i][(sh_head[i] + j) % VSWITCH_QUEUE];

		if (f->len < VSWITCH_FRAME_MIN || f->len > VSWITCH_FRAME_MAX || f->from == i ||
		    f->len != s->len || f->from != s->from)
			abort();
		if (f->from != VSWITCH_FROM_GONE) {
			if (f->from >= VSWITCH_PORTS || !sw.port[f->from].used)
				abort();
			held[f->from]++;
		}
	}
	for (unsigned k = 0; k < VSWITCH_PORTS; k++)
		if (held[k] != p->held[k] || p->held[k] > VSWITCH_SHARE)
			abort();
	memcpy(held_seen[i], p->held, sizeof(p->held));
	if (vswitch_peek_len(&sw, i) != (p->count ? shq[i][sh_head[i]].len : 0))
		abort();
}

/* Learned entries name ports in use; no address is live twice (found
 * through a little open-addressing hash, stamped so it needs no clear). */
static void check_table(void)
{
	static uint32_t stamp[2 * VSWITCH_TABLE], now_stamp;
	static uint16_t slot[2 * VSWITCH_TABLE];

	now_stamp++;
	for (unsigned i = 0; i < VSWITCH_TABLE; i++) {
		const struct vswitch_entry *e = &sw.table[i];
		unsigned h;

		if (!e->used)
			continue;
		if (e->port >= VSWITCH_PORTS || !sw.port[e->port].used || mcast(e->mac))
			abort();
		if (clk - e->seen_ns >= VSWITCH_AGE_NS)
			continue;
		/* Where the address was last seen as a source. */
		if (!map_full && map_port(e->mac) != e->port)
			abort();
		h = (e->mac[3] * 131u + e->mac[4] * 31u + e->mac[5]) % (2 * VSWITCH_TABLE);
		while (stamp[h] == now_stamp) {
			if (!memcmp(sw.table[slot[h]].mac, e->mac, 6))
				abort();
			h = (h + 1) % (2 * VSWITCH_TABLE);
		}
		stamp[h] = now_stamp;
		slot[h] = (uint16_t)i;
	}
}

static void check_all(void)
{
	for (unsigned i = 0; i < VSWITCH_PORTS; i++)
		check_port(i);
	check_table();
	dirty = 0;
	if (sw.gen < last_gen)
		abort();
	last_gen = sw.gen;
}

/* ---- operations ---- */

static bool expect_bad(unsigned from, const uint8_t *frame, size_t len)
{
	const struct vswitch_port *p;

	if (from >= VSWITCH_PORTS || !sw.port[from].used)
		return true;
	p = &sw.port[from];
	if (len < VSWITCH_FRAME_MIN || len > VSWITCH_FRAME_MAX)
		return true;
	return mcast(frame + 6) || (p->has_mac && memcmp(frame + 6, p->mac, 6));
}

/* The live entry the switch holds for `mac`, or NULL. */
static const struct vswitch_entry *live_entry(const uint8_t *mac)
{
	for (unsigned i = 0; i < VSWITCH_TABLE; i++) {
		const struct vswitch_entry *e = &sw.table[i];

		if (e->used && clk - e->seen_ns < VSWITCH_AGE_NS && mac_eq(e->mac, mac))
			return e;
	}
	return NULL;
}

/* What a send did, seen from the outside, is one of the allowed things. */
static enum vswitch_result do_send(unsigned from, const uint8_t *frame, size_t len)
{
	unsigned pend[VSWITCH_PORTS];
	uint64_t drops[VSWITCH_PORTS], bad = 0, busy = 0, tx = 0, gen = sw.gen;
	uint32_t set = 0, flood = 0;
	bool want_bad = expect_bad(from, frame, len);
	enum vswitch_result r;
	const struct vswitch_entry *e;
	uint8_t *copy;

	for (unsigned i = 0; i < VSWITCH_PORTS; i++) {
		pend[i] = vswitch_pending(&sw, i);
		drops[i] = sw.port[i].stall_drops;
		if (sw.port[i].used && i != from)
			flood |= 1u << i;
	}
	if (from < VSWITCH_PORTS) {
		bad = sw.port[from].bad;
		busy = sw.port[from].busy;
		tx = sw.port[from].tx_frames;
	}
	/* In a block of exactly len bytes, so ASan sees a read past it. */
	copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, frame, len);
	r = vswitch_send(&sw, from, copy, len);
	free(copy);
	if ((r == VSWITCH_BAD) != want_bad)
		abort();
	for (unsigned i = 0; i < VSWITCH_PORTS; i++) {
		unsigned dp = vswitch_pending(&sw, i) - pend[i];
		uint64_t dd = sw.port[i].stall_drops - drops[i];

		if (dp > 1 || dd > 1 || (dp && dd) || ((dp || dd) && r != VSWITCH_SENT))
			abort();
		if (dd && !sw.port[i].stalled)
			abort();
		if (dp || dd)
			set |= 1u << i;
		if (dp) {
			sh_push(i, from, frame, len);
			dirty |= 1u << i;
		}
	}
	if (r == VSWITCH_BAD) {
		if (sw.gen != gen || (from < VSWITCH_PORTS && sw.port[from].used &&
				      sw.port[from].bad != bad + 1))
			abort();
		return r;
	}
	map_learn(frame + 6, from);
	if (r == VSWITCH_BUSY) {
		if (sw.port[from].busy != busy + 1 || sw.port[from].tx_frames != tx)
			abort();
		return r;
	}
	if (r != VSWITCH_SENT || sw.port[from].tx_frames != tx + 1 || (set & (1u << from)))
		abort();
	/* The table after the send is what the lookup saw (it comes last). */
	e = mcast(frame) ? NULL : live_entry(frame);
	if (!e && set != flood)
		abort();
	if (e && (e->port == from ? set != 0 : set != 1u << e->port))
		abort();
	return r;
}

static void mac_small(uint8_t *mac, uint8_t b4, uint8_t b5)
{
	mac[0] = 0x02;
	mac[1] = mac[2] = mac[3] = 0;
	mac[4] = b4;
	mac[5] = b5;
}

static void op_send(struct cursor *c, uint8_t op)
{
	static uint8_t frame[VSWITCH_FRAME_MAX + 8];
	uint8_t pb = get(c), db = get(c), sb = get(c), lb = get(c), tag = get(c);
	unsigned from = pb % (VSWITCH_PORTS + 2), v;
	const struct vswitch_port *p = from < VSWITCH_PORTS ? &sw.port[from] : NULL;
	size_t len;
	enum vswitch_result r;
	uint64_t g;

	/* Source first: a destination may copy it. */
	if ((sb & 7) < 5 && p && p->has_mac)
		memcpy(frame + 6, p->mac, 6);
	else if ((sb & 7) < 5)
		mac_small(frame + 6, 0xff, sb >> 3);
	else if ((sb & 7) == 5)
		mac_small(frame + 6, 0, sb >> 3 & 31);
	else if ((sb & 7) == 6)
		memcpy(frame + 6, (const uint8_t[6]){ 0x03, 0, 0, 0, 0, sb }, 6);
	else
		memcpy(frame + 6, (const uint8_t[6]){ 0x06, 0, 0, tag, sb >> 3, db }, 6);

	switch (db & 7) {
	case 0:
		memset(frame, 0xff, 6);
		break;
	case 1:
		memcpy(frame, (const uint8_t[6]){ 0x01, 0x00, 0x5e, 0, 0, db >> 3 }, 6);
		break;
	case 2:
	case 3:
		mac_small(frame, 0, db >> 3 & 31);
		break;
	case 4:
		if (sw.port[(db >> 3) % VSWITCH_PORTS].has_mac)
			memcpy(frame, sw.port[(db >> 3) % VSWITCH_PORTS].mac, 6);
		else
			mac_small(frame, 0xff, db >> 3);
		break;
	case 5:
		mac_small(frame, 0xff, db >> 3);
		break;
	case 6:
		memcpy(frame, frame + 6, 6);
		break;
	default:
		memcpy(frame, (const uint8_t[6]){ 0x06, 0, 0, tag, db >> 3, 0 }, 6);
		break;
	}

	v = lb >> 3;
	switch (lb & 7) {
	case 0:
		len = v % 14;
		break;
	case 1:
		len = VSWITCH_FRAME_MAX;
		break;
	case 2:
		len = VSWITCH_FRAME_MAX + 1 + (v & 7);
		break;
	case 3:
		len = VSWITCH_FRAME_MIN;
		break;
	default:
		len = VSWITCH_FRAME_MIN + v * 47;
		break;
	}
	frame[12] = 0x08;
	frame[13] = tag;
	serial++;
	for (size_t i = 14; i < len && i < sizeof(frame); i++)
		frame[i] = (uint8_t)(tag ^ (i * 31) ^ serial);

	r = do_send(from, frame, len);
	if (r != VSWITCH_BUSY || !(op & 0x10))
		return;
	/* Wait as a BUSY sender does: the stall rule lets it through. */
	g = vswitch_busy_gen(&sw);
	check_all();
	for (unsigned k = 0; k < 3; k++) {
		clk += VSWITCH_STALL_NS;
		if (k == 0 && vswitch_busy_gen(&sw) == g)
			abort();
		check_all();
		r = do_send(from, frame, len);
		check_all();
		if (r == VSWITCH_SENT)
			return;
		if (r != VSWITCH_BUSY)
			abort();
	}
	abort();
}

static void op_recv(struct cursor *c)
{
	static uint8_t buf[VSWITCH_FRAME_MAX + 8];
	uint8_t b = get(c);
	unsigned port = b % (VSWITCH_PORTS + 1);
	size_t want = vswitch_peek_len(&sw, port), cap = sizeof(buf), got;
	uint64_t gen = sw.gen, rx = port < VSWITCH_PORTS ? sw.port[port].rx_frames : 0;
	const struct shadow_frame *s;

	if ((b & 0x80) && want)
		cap = want - 1 - (b >> 4 & 3) % want;
	got = vswitch_recv(&sw, port, buf, cap);
	dirty |= 1u << (port % VSWITCH_PORTS);
	if (port >= VSWITCH_PORTS || !sh_count[port] || cap < want) {
		if (got || sw.gen != gen)
			abort();
		return;
	}
	s = &shq[port][sh_head[port]];
	if (got != s->len || memcmp(buf, s->data, got) || sw.gen == gen ||
	    sw.port[port].stalled || sw.port[port].rx_frames != rx + 1)
		abort();
	sh_head[port] = (sh_head[port] + 1) % VSWITCH_QUEUE;
	sh_count[port]--;
}

static void op_clock(struct cursor *c)
{
	static const uint64_t step[8] = {
		1000, 1000000, VSWITCH_STALL_NS - 1, VSWITCH_STALL_NS, VSWITCH_STALL_NS + 1,
		VSWITCH_AGE_NS / 3, VSWITCH_AGE_NS - 1, VSWITCH_AGE_NS,
	};
	uint8_t b = get(c);

	clk += step[b & 7] * (1 + (b >> 6));
}

static void op_remove(struct cursor *c)
{
	unsigned port = get(c) % VSWITCH_PORTS;
	bool used = sw.port[port].used;
	uint64_t gen = sw.gen;

	vswitch_remove_port(&sw, port);
	dirty = ~0u;
	if (sw.port[port].used || (used && sw.gen == gen) || (!used && sw.gen != gen))
		abort();
	if (!used)
		return;
	sh_count[port] = sh_head[port] = 0;
	map_forget_port(port);
	for (unsigned i = 0; i < VSWITCH_PORTS; i++)
		for (unsigned j = 0; j < sh_count[i]; j++) {
			struct shadow_frame *f = &shq[i][(sh_head[i] + j) % VSWITCH_QUEUE];

			if (f->from == port)
				f->from = VSWITCH_FROM_GONE;
		}
	for (unsigned e = 0; e < VSWITCH_TABLE; e++)
		if (sw.table[e].used && sw.table[e].port == port)
			abort();
}

static void op_add(struct cursor *c)
{
	uint8_t b = get(c), mac[6];
	bool uplink = b & 0x80, full = true;
	int r;

	mac_small(mac, 0, b & 31);
	if (b & 0x40)
		mac[0] = 0x03;
	for (unsigned i = 0; i < VSWITCH_PORTS; i++)
		if (!sw.port[i].used)
			full = false;
	r = vswitch_add_port(&sw, "fuzz-port-with-a-long-name", uplink ? NULL : mac, uplink);
	if (r >= 0)
		dirty |= 1u << r;
	if (r < 0) {
		if (!full && (uplink || !(b & 0x40)))
			abort();
		return;
	}
	if (r >= VSWITCH_PORTS || full || (!uplink && (b & 0x40)) || sh_count[r])
		abort();
	if (!sw.port[r].used || sw.port[r].count || sw.port[r].stalled ||
	    sw.port[r].has_mac == uplink || sw.port[r].name[VSWITCH_NAME - 1])
		abort();
}

/* More sources than the table holds, from one port, in one operation (a
 * BUSY send learns too). */
static void op_burst(uint8_t b)
{
	static uint8_t frame[64];
	unsigned from = b % VSWITCH_PORTS;
	unsigned n = VSWITCH_TABLE + (b >> 4 & 7) * 3;

	memset(frame, b, sizeof(frame));
	for (unsigned k = 0; k < n; k++) {
		mac_small(frame, 0xfe, (uint8_t)k);
		memcpy(frame + 6, (const uint8_t[6]){ 0x06, 0, 0, b, (uint8_t)(k >> 8),
						      (uint8_t)k }, 6);
		do_send(from, frame, sizeof(frame));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct cursor c = { d, n, 0 };
	uint8_t mac[6];

	clk = 0;
	serial = 0;
	nmap = 0;
	bursts = 0;
	memset(idx, 0, sizeof(idx));
	map_full = false;
	memset(sh_count, 0, sizeof(sh_count));
	memset(sh_head, 0, sizeof(sh_head));
	vswitch_init(&sw, &plat, "fuzz");
	last_gen = sw.gen;
	dirty = ~0u;
	for (unsigned i = 1; i <= 3; i++) {
		mac_small(mac, 0, (uint8_t)i);
		if (vswitch_add_port(&sw, "vm", mac, false) != (int)i - 1)
			abort();
	}
	if (vswitch_add_port(&sw, "uplink", NULL, true) != 3 ||
	    vswitch_add_port(&sw, "uplink2", NULL, true) != 4)
		abort();

	while (c.i < c.n) {
		uint8_t op = get(&c);

		switch (op & 15) {
		case 0: case 1: case 2: case 3: case 4: case 5: case 6:
			op_send(&c, op);
			break;
		case 7: case 8: case 9: case 10:
			op_recv(&c);
			break;
		case 11: case 12:
			op_clock(&c);
			break;
		case 13:
			op_remove(&c);
			break;
		case 14:
			op_add(&c);
			break;
		default:
			if ((get(&c) & 1) && bursts++ < BURSTS)
				op_burst(get(&c));
			else
				vswitch_busy_gen(&sw);
			break;
		}
		check_all();
	}
	return 0;
}

/* ---- seeds ---- */

static size_t put(uint8_t *buf, size_t n, size_t cap, const uint8_t *ops, size_t len)
{
	for (size_t i = 0; i < len && n < cap; i++)
		buf[n++] = ops[i];
	return n;
}

#define PUT(...) (n = put(buf, n, cap, (const uint8_t[]){ __VA_ARGS__ }, \
			  sizeof((const uint8_t[]){ __VA_ARGS__ })))

/* send: op port dst src len tag; recv: op port; clock: op step; remove:
 * op port; add: op mac; burst: 0x0f 1 arg. Ports 0-2 have 02:..:01-03,
 * 3 and 4 are uplinks. */
size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	switch (i) {
	case 0:
		PUT(0x00, 0, 0x02 | 2 << 3, 0, 0x04 | 2 << 3, 1,   /* 0 -> port 1 (unknown) */
		    0x07, 1, 0x07, 2, 0x07, 3,
		    0x01, 1, 0x02 | 1 << 3, 0, 0x05 | 3 << 3, 2,   /* 1 -> port 0 (learned) */
		    0x07, 0,
		    0x02, 3, 0x00, 3, 0x04, 3,                     /* uplink broadcast */
		    0x02, 3, 0x06, 3, 0x04, 3,                     /* uplink to itself */
		    0x03, 0, 0x02, 6, 0x00, 4,                     /* multicast source, runt */
		    0x03, 0, 0x02, 0, 0x02, 4,                     /* oversized */
		    0x07, 0, 0x07, 1, 0x07, 2, 0x87, 3, 0x07, 3);
		return n;
	case 1:
		/* 1 learns, then 0 and 2 fill 1's queue, the uplink waits it out. */
		PUT(0x00, 1, 0, 0, 0x04, 9);
		for (unsigned k = 0; k < 36; k++)
			PUT(0x00, (uint8_t)(k & 1 ? 0 : 2), 0x02 | 2 << 3, 0, 0x04 | 5 << 3,
			    (uint8_t)k);
		PUT(0x10, 3, 0x02 | 2 << 3, 0, 0x04, 7,
		    0x07, 1, 0x0b, 3, 0x07, 1, 0x07, 1);
		return n;
	case 2:
		/* A port leaves with frames queued both ways, new ones come. */
		PUT(0x00, 0, 0x02 | 2 << 3, 0, 0x04 | 2 << 3, 1,
		    0x01, 1, 0x02 | 1 << 3, 0, 0x04, 5,
		    0x00, 0, 0x02 | 2 << 3, 0, 0x04, 6,
		    0x0d, 1, 0x0e, 0x05, 0x0e, 0x85, 0x0e, 0x45,
		    0x07, 0, 0x07, 2, 0x00, 1, 0x02 | 1 << 3, 0, 0x04, 8);
		return n;
	case 3:
		/* The uplink's burst fills the table: its oldest source is
		 * gone (flood), a recent one known (uplink only); then the
		 * clock past the age. */
		PUT(0x0f, 1, 0x13,
		    0x07, 0, 0x07, 1, 0x07, 2,
		    0x00, 0, 0x07 | 0 << 3, 0, 0x04, 0x13,
		    0x00, 0, 0x07 | 1 << 3, 0, 0x04, 0x13,
		    0x0b, 0x07, 0x00, 0, 0x07 | 1 << 3, 0, 0x04, 0x13,
		    0x07, 1, 0x07, 2, 0x07, 3);
		return n;
	default:
		return 0;
	}
}
