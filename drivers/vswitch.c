/*
 * The virtual Ethernet switch: see vswitch.h. One send is checked against
 * every destination before anything is queued, so a frame reaches all of
 * its destinations or none (VSWITCH_BUSY) and the sender can simply retry
 * it. Accounting a test can hold the switch to at any moment:
 *   - a port's queue holds at most VSWITCH_QUEUE frames, none from itself;
 *   - held[k] of a queue is the number of its frames from port k (at most
 *     VSWITCH_SHARE); frames from a removed port say VSWITCH_FROM_GONE
 *     and are in no held[], so a port added later in the same slot starts
 *     with a clean share;
 *   - a learned entry always names a port in use (removal forgets them).
 * The stall clock (full_since_ns) starts when a port first has no room
 * for an offered frame, or its queue fills, and stops at vswitch_recv().
 */
#include <string.h>
#include "vswitch.h"

#define ETH_ALEN 6
#define ETH_DST  0
#define ETH_SRC  6
#define ETH_HLEN VSWITCH_FRAME_MIN

_Static_assert(VSWITCH_PORTS <= 32, "destination sets are 32-bit masks");
_Static_assert(VSWITCH_PORTS < VSWITCH_FROM_GONE, "a port index is never FROM_GONE");
_Static_assert(VSWITCH_QUEUE <= 255 && VSWITCH_SHARE <= VSWITCH_QUEUE,
	       "held[] counts fit a byte");

static size_t append(char *line, size_t n, size_t cap, const char *s)
{
	size_t len = strnlen(s, cap - 1 - n);

	memcpy(line + n, s, len);
	line[n + len] = 0;
	return n + len;
}

/* "vswitch <switch> port <port>: <msg>" through the platform's log. */
static void log_port(const struct vswitch *s, const struct vswitch_port *port,
		     const char *msg)
{
	char line[2 * VSWITCH_NAME + 112];
	size_t n = 0;

	if (!s->p || !s->p->log)
		return;
	n = append(line, n, sizeof(line), "vswitch ");
	n = append(line, n, sizeof(line), s->name);
	if (port) {
		n = append(line, n, sizeof(line), " port ");
		n = append(line, n, sizeof(line), port->name);
	}
	n = append(line, n, sizeof(line), ": ");
	append(line, n, sizeof(line), msg);
	s->p->log(s->p->ctx, line);
}

static uint64_t now(const struct vswitch *s)
{
	return s->p && s->p->now_ns ? s->p->now_ns(s->p->ctx) : 0;
}

/* At least `span` ns from `since` to `t` (a clock seen going back is not). */
static bool passed(uint64_t since, uint64_t t, uint64_t span)
{
	return t >= since && t - since >= span;
}

static bool multicast(const uint8_t *mac)
{
	return mac[0] & 1;
}

/* Compared at every probe of the table: no memcmp call each time. */
static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) |
		(a[4] ^ b[4]) | (a[5] ^ b[5])) == 0;
}

static void copy_name(char *dst, const char *src)
{
	size_t n = src ? strnlen(src, VSWITCH_NAME - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = 0;
}

static struct vswitch_port *port_at(struct vswitch *s, unsigned i)
{
	return i < VSWITCH_PORTS && s->port[i].used ? &s->port[i] : NULL;
}

void vswitch_init(struct vswitch *s, const struct platform *p, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->p = p;
	copy_name(s->name, name);
}

int vswitch_add_port(struct vswitch *s, const char *name, const uint8_t *mac, bool uplink)
{
	if (mac && multicast(mac)) {
		log_port(s, NULL, "a port with a multicast address (not added)");
		return -1;
	}
	for (unsigned i = 0; i < VSWITCH_PORTS; i++) {
		struct vswitch_port *port = &s->port[i];

		if (port->used)
			continue;
		memset(port, 0, sizeof(*port));
		port->used = true;
		port->uplink = uplink;
		port->has_mac = mac != NULL;
		if (mac)
			memcpy(port->mac, mac, ETH_ALEN);
		copy_name(port->name, name);
		return (int)i;
	}
	log_port(s, NULL, "every port is in use (not added)");
	return -1;
}

/* ---- the learning table ----
 *
 * Open addressing with linear probing from a hash of the address, so a
 * frame costs a few probes, not a pass over the table. An entry is only
 * ever deleted by shifting the rest of its probe run back (Knuth 6.4,
 * Algorithm R): no tombstones, and "an empty slot ends the search" stays
 * true. An aged entry stays in place until its address is learned again
 * or the table is full; a lookup ignores it.
 */

#define TABLE_MASK (VSWITCH_TABLE - 1)
_Static_assert((VSWITCH_TABLE & TABLE_MASK) == 0, "the table size is a power of two");

static unsigned home(const uint8_t *mac)
{
	uint32_t h = 2166136261u;       /* FNV-1a */

	for (unsigned i = 0; i < ETH_ALEN; i++)
		h = (h ^ mac[i]) * 16777619u;
	return (h ^ h >> 16) & TABLE_MASK;
}

static bool live(const struct vswitch_entry *e, uint64_t t)
{
	return e->used && !passed(e->seen_ns, t, VSWITCH_AGE_NS);
}

/* The entry of `mac` (live or aged), or NULL. */
static struct vswitch_entry *find(struct vswitch *s, const uint8_t *mac)
{
	unsigned i = home(mac);

	for (unsigned n = 0; n < VSWITCH_TABLE; n++, i = (i + 1) & TABLE_MASK) {
		if (!s->table[i].used)
			return NULL;
		if (mac_eq(s->table[i].mac, mac))
			return &s->table[i];
	}
	return NULL;
}

static void delete_at(struct vswitch *s, unsigned i)
{
	unsigned j = i;

	s->table[i].used = false;
	for (;;) {
		unsigned k;

		j = (j + 1) & TABLE_MASK;
		if (!s->table[j].used)
			return;
		/* Entry j stays if its home is cyclically in (i, j]. */
		k = home(s->table[j].mac);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		s->table[i] = s->table[j];
		s->table[j].used = false;
		i = j;
	}
}

/* Delete the entries on `port`, or (port < 0) the aged ones. A deletion
 * may shift a later entry into slot i, so slot i is looked at again;
 * entries only move back along their run, never past this pass. */
static void forget(struct vswitch *s, int port, uint64_t t)
{
	for (unsigned i = 0; i < VSWITCH_TABLE; i++)
		while (s->table[i].used && (port >= 0 ? s->table[i].port == port :
					    !live(&s->table[i], t)))
			delete_at(s, i);
}

static struct vswitch_entry *empty_slot(struct vswitch *s, const uint8_t *mac)
{
	unsigned i = home(mac);

	for (unsigned n = 0; n < VSWITCH_TABLE; n++, i = (i + 1) & TABLE_MASK)
		if (!s->table[i].used)
			return &s->table[i];
	return NULL;
}

/* Room for one more: aged entries go first, else the oldest one. */
static struct vswitch_entry *make_room(struct vswitch *s, const uint8_t *mac, uint64_t t)
{
	struct vswitch_entry *e = empty_slot(s, mac);
	unsigned oldest = 0;

	if (e)
		return e;
	forget(s, -1, t);
	e = empty_slot(s, mac);
	if (e)
		return e;
	for (unsigned i = 1; i < VSWITCH_TABLE; i++)
		if (s->table[i].seen_ns < s->table[oldest].seen_ns)
			oldest = i;
	delete_at(s, oldest);
	s->table_full++;
	return empty_slot(s, mac);
}

/* `mac` was seen as a source on `port` at `t`. */
static void learn(struct vswitch *s, const uint8_t *mac, unsigned port, uint64_t t)
{
	struct vswitch_entry *e = find(s, mac);

	if (e && live(e, t)) {
		if (e->port != port) {
			e->port = (uint8_t)port;
			s->moved++;
		}
	} else {
		if (!e) {
			e = make_room(s, mac, t);
			memcpy(e->mac, mac, ETH_ALEN);
			e->used = true;
		}
		e->port = (uint8_t)port;
		s->learned++;
	}
	e->seen_ns = t;
}

static const struct vswitch_entry *lookup(struct vswitch *s, const uint8_t *mac, uint64_t t)
{
	const struct vswitch_entry *e = multicast(mac) ? NULL : find(s, mac);

	return e && live(e, t) ? e : NULL;
}

/* ---- ports ---- */

void vswitch_remove_port(struct vswitch *s, unsigned i)
{
	if (!port_at(s, i))
		return;
	forget(s, (int)i, 0);
	/* Its frames in other queues stay deliverable, owned by no one. */
	for (unsigned k = 0; k < VSWITCH_PORTS; k++) {
		struct vswitch_port *other = &s->port[k];

		if (!other->used || k == i)
			continue;
		for (unsigned j = 0; j < other->count; j++) {
			struct vswitch_frame *f = &other->q[(other->head + j) % VSWITCH_QUEUE];

			if (f->from == i)
				f->from = VSWITCH_FROM_GONE;
		}
		other->held[i] = 0;
	}
	memset(&s->port[i], 0, sizeof(s->port[i]));
	s->gen++;
}

int vswitch_set_port_mac(struct vswitch *s, unsigned i, const uint8_t *mac)
{
	static const uint8_t zero[ETH_ALEN];
	struct vswitch_port *port = port_at(s, i);
	struct vswitch_entry *e;

	if (!port || !port->has_mac || !mac) {
		log_port(s, port, "an address change for a port without a configured "
			 "address (refused)");
		return -1;
	}
	if (multicast(mac) || mac_eq(mac, zero)) {
		log_port(s, port, "an address change to a multicast or zero address (refused)");
		return -1;
	}
	for (unsigned k = 0; k < VSWITCH_PORTS; k++)
		if (k != i && s->port[k].used && s->port[k].has_mac &&
		    mac_eq(s->port[k].mac, mac)) {
			log_port(s, port, "an address change to another port's address (refused)");
			return -1;
		}
	e = find(s, port->mac);
	if (e && e->port == i)
		delete_at(s, (unsigned)(e - s->table));
	memcpy(port->mac, mac, ETH_ALEN);
	log_port(s, port, "its address changed");
	return 0;
}

/* ---- stalls ---- */

static void start_stall_clock(struct vswitch_port *port, uint64_t t)
{
	if (!port->no_room) {
		port->no_room = true;
		port->full_since_ns = t;
	}
}

/* A port out of room for VSWITCH_STALL_NS becomes stalled: true if so. */
static bool stall_check(struct vswitch *s, struct vswitch_port *port, uint64_t t)
{
	if (port->stalled)
		return true;
	if (!port->no_room || !passed(port->full_since_ns, t, VSWITCH_STALL_NS))
		return false;
	port->stalled = true;
	s->gen++;               /* its waiting senders may go on */
	log_port(s, port, "its device took no frame for VSWITCH_STALL_NS while it "
		 "had no room: stalled, its frames are dropped until it takes one");
	return true;
}

uint64_t vswitch_busy_gen(struct vswitch *s)
{
	uint64_t t = now(s);

	for (unsigned i = 0; i < VSWITCH_PORTS; i++)
		if (s->port[i].used)
			stall_check(s, &s->port[i], t);
	return s->gen;
}

/* ---- sending ---- */

/* The ports a frame from `from` goes to, given its destination's entry
 * `to`; *filtered when that entry is `from` itself. */
static uint32_t destinations(const struct vswitch *s, unsigned from,
			     const struct vswitch_entry *to, bool *filtered)
{
	uint32_t all = 0;

	*filtered = to && to->port == from;
	if (*filtered)
		return 0;
	if (to)
		return 1u << to->port;
	for (unsigned i = 0; i < VSWITCH_PORTS; i++)
		if (s->port[i].used && i != from)
			all |= 1u << i;
	return all;
}

/* Room in every live destination for a frame from `from`? Starts the
 * stall clock of those without and stalls the ones whose time is up. */
static bool room(struct vswitch *s, unsigned from, uint32_t dests, uint64_t t)
{
	bool ok = true;

	for (unsigned i = 0; i < VSWITCH_PORTS; i++) {
		struct vswitch_port *port = &s->port[i];

		if (!(dests & (1u << i)) || port->stalled)
			continue;
		if (port->count < VSWITCH_QUEUE && port->held[from] < VSWITCH_SHARE)
			continue;
		start_stall_clock(port, t);
		if (!stall_check(s, port, t))
			ok = false;
	}
	return ok;
}

static void enqueue(struct vswitch_port *port, unsigned from, const uint8_t *h,
		    const uint8_t *frame, size_t len, uint64_t t)
{
	struct vswitch_frame *f = &port->q[(port->head + port->count) % VSWITCH_QUEUE];

	f->len = (uint16_t)len;
	f->from = (uint8_t)from;
	memcpy(f->data, h, ETH_HLEN);   /* the header as checked */
	memcpy(f->data + ETH_HLEN, frame + ETH_HLEN, len - ETH_HLEN);
	port->count++;
	port->held[from]++;
	if (port->count == VSWITCH_QUEUE)
		start_stall_clock(port, t);
}

static enum vswitch_result refuse(struct vswitch *s, struct vswitch_port *port,
				  const char *why)
{
	port->bad++;
	log_port(s, port, why);
	return VSWITCH_BAD;
}

enum vswitch_result vswitch_send(struct vswitch *s, unsigned from, const void *frame,
				 size_t len)
{
	struct vswitch_port *src = port_at(s, from);
	uint8_t h[ETH_HLEN];
	const struct vswitch_entry *to;
	uint32_t dests;
	bool filtered;
	uint64_t t;

	if (!src) {
		log_port(s, NULL, "a frame from a port that does not exist (refused)");
		return VSWITCH_BAD;
	}
	if (!frame || len < VSWITCH_FRAME_MIN || len > VSWITCH_FRAME_MAX)
		return refuse(s, src, "a runt or oversized frame (refused)");
	memcpy(h, frame, ETH_HLEN);
	if (multicast(h + ETH_SRC))
		return refuse(s, src, "a frame with a multicast source address (refused)");
	if (src->has_mac && !mac_eq(h + ETH_SRC, src->mac))
		return refuse(s, src, "a frame whose source is not the port's "
			      "address (refused)");

	t = now(s);
	learn(s, h + ETH_SRC, from, t);
	to = lookup(s, h + ETH_DST, t);
	dests = destinations(s, from, to, &filtered);
	if (!room(s, from, dests, t)) {
		src->busy++;
		return VSWITCH_BUSY;
	}
	for (unsigned i = 0; i < VSWITCH_PORTS; i++) {
		struct vswitch_port *port = &s->port[i];

		if (!(dests & (1u << i)))
			continue;
		if (port->stalled)
			port->stall_drops++;
		else
			enqueue(port, from, h, frame, len, t);
	}
	src->tx_frames++;
	src->tx_bytes += len;
	if (filtered)
		s->filtered++;
	else if (to)
		s->forwarded++;
	else
		s->flooded++;
	return VSWITCH_SENT;
}

/* ---- receiving ---- */

unsigned vswitch_pending(const struct vswitch *s, unsigned port)
{
	return port < VSWITCH_PORTS && s->port[port].used ? s->port[port].count : 0;
}

size_t vswitch_peek_len(const struct vswitch *s, unsigned port)
{
	const struct vswitch_port *p;

	if (!vswitch_pending(s, port))
		return 0;
	p = &s->port[port];
	return p->q[p->head].len;
}

size_t vswitch_recv(struct vswitch *s, unsigned i, void *buf, size_t cap)
{
	struct vswitch_port *port = port_at(s, i);
	struct vswitch_frame *f;
	size_t len;

	if (!port || !port->count)
		return 0;
	f = &port->q[port->head];
	len = f->len;
	if (!buf || cap < len)
		return 0;
	memcpy(buf, f->data, len);
	if (f->from < VSWITCH_PORTS)
		port->held[f->from]--;
	port->head = (port->head + 1) % VSWITCH_QUEUE;
	port->count--;
	port->rx_frames++;
	port->rx_bytes += len;
	port->no_room = false;
	port->stalled = false;
	s->gen++;
	return len;
}
