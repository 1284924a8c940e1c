/* Host tests for the echo stream (kernel/lib/netecho.c): an interface
 * that streams, one that echoes port 7 back as tests/tools/netpeer does,
 * and a wire between them that can lose, corrupt or refuse frames. */
#include <string.h>
#include "check.h"
#include "netecho.h"

#define QMAX 64

struct wire {
	uint8_t frame[QMAX][NET_FRAME_MAX];
	size_t len[QMAX];
	unsigned count;
	int fail;                       /* the tx hook's answer when nonzero */
};

static int wire_tx(void *ctx, const void *frame, size_t len)
{
	struct wire *w = ctx;

	if (w->fail)
		return w->fail;
	if (w->count == QMAX)
		return -100;
	memcpy(w->frame[w->count], frame, len);
	w->len[w->count++] = len;
	return 0;
}

static struct wire wa, wb;
static struct net_if a, b;
static struct net_echo e;
static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a }, ip_a[4] = { 10, 0, 0, 1 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b }, ip_b[4] = { 10, 0, 0, 254 };
static unsigned not_ours;

/* The far host: echo what reaches port 7 to where it came from. */
static void b_udp(struct net_if *n, const uint8_t src[4], uint16_t sport, uint16_t dport,
		  const void *data, size_t len)
{
	if (dport == NET_ECHO_PORT)
		net_udp_send(n, src, NET_ECHO_PORT, sport, data, len);
}

static void a_udp(struct net_if *n, const uint8_t src[4], uint16_t sport, uint16_t dport,
		  const void *data, size_t len)
{
	if (!net_echo_input(&e, src, sport, dport, data, len))
		not_ours++;
}

/* Move every frame one way; `drop` (1-based, 0 none) loses that one,
 * `flip` flips a payload byte of that one. */
static void deliver(struct wire *from, struct net_if *to, unsigned drop, unsigned flip)
{
	unsigned n = from->count;

	from->count = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i + 1 == drop)
			continue;
		if (i + 1 == flip) {
			uint8_t *f = from->frame[i];

			f[from->len[i] - 1] ^= 0x40;
			/* Fix the UDP checksum so the stack hands it up. */
			f[14 + 20 + 6] = f[14 + 20 + 7] = 0;
		}
		net_input(to, from->frame[i], from->len[i]);
	}
}

/* Pump and shuttle until done or `rounds` pass without progress. */
static unsigned run(unsigned rounds)
{
	unsigned idle = 0, steps = 0;

	while (!net_echo_done(&e) && idle < rounds) {
		uint64_t before = e.echoed;

		net_echo_pump(&e);
		deliver(&wa, &b, 0, 0);
		deliver(&wb, &a, 0, 0);
		idle = e.echoed == before ? idle + 1 : 0;
		steps++;
	}
	return steps;
}

static void setup(uint64_t bytes, size_t dgram, unsigned window)
{
	net_init(&a, mac_a, ip_a, wire_tx, &wa);
	net_init(&b, mac_b, ip_b, wire_tx, &wb);
	a.udp = a_udp;
	b.udp = b_udp;
	wa.count = wb.count = 0;
	wa.fail = wb.fail = 0;
	not_ours = 0;
	/* Each side knows the other (as after ARP). */
	net_arp_request(&a, ip_b);
	deliver(&wa, &b, 0, 0);
	deliver(&wb, &a, 0, 0);
	net_echo_init(&e, &a, ip_b, 5008, bytes, dgram, window, 0x1234);
}

static void test_clean(void)
{
	setup(100000, 0, 8);
	CHECK(e.dgram == NET_UDP_MAX - 4, "dgram 0 means a full datagram (%zu bytes)", e.dgram);
	CHECK(net_echo_pump(&e) == 8 && wa.count == 8 + 0,
	      "the first pump sends a window of 8 datagrams");
	CHECK(net_echo_pump(&e) == 0, "a full window sends nothing more");
	run(3);
	CHECK(net_echo_done(&e) && e.echoed == 100000 && !e.bad && !e.dups && !e.gaps &&
	      !e.resends && e.datagrams_sent == (100000 + e.dgram - 1) / e.dgram,
	      "100000 bytes echoed in %lu datagrams, the last one short; nothing bad",
	      e.datagrams_sent);
	CHECK(net_echo_pump(&e) == 0, "done: nothing more is sent");
}

static void test_loss(void)
{
	unsigned before;

	setup(20000, 1000, 4);
	net_echo_pump(&e);
	deliver(&wa, &b, 2, 0);         /* the host never sees datagram 1 */
	deliver(&wb, &a, 0, 0);
	CHECK(e.echoed == 1000 && e.gaps == 2 && e.next_rx == 1,
	      "a lost datagram: the echoes after it are gaps, not taken (%lu gaps)", e.gaps);
	before = run(5);
	CHECK(!net_echo_done(&e) && e.echoed == 1000,
	      "without a resend the stream stalls (%u rounds)", before);
	before = e.next_tx;
	net_echo_resend(&e);
	CHECK(e.resends == before - 1 && e.next_tx == 1,
	      "resend goes back to the first missing one (%lu to send again)", e.resends);
	run(3);
	CHECK(net_echo_done(&e) && e.echoed == 20000 && !e.bad,
	      "after the resend all 20000 bytes are echoed");

	/* An echo that comes twice (the host, or a resend raced its echo). */
	setup(5000, 1000, 2);
	net_echo_pump(&e);
	deliver(&wa, &b, 0, 0);
	memcpy(wb.frame[2], wb.frame[0], wb.len[0]);
	wb.len[2] = wb.len[0];
	wb.count = 3;
	deliver(&wb, &a, 0, 0);
	CHECK(e.dups == 1 && e.echoed == 2000, "a duplicate echo is counted and not taken");
	run(3);
	CHECK(net_echo_done(&e), "and the stream goes on");
}

static void test_bad(void)
{
	uint8_t d[8] = { 0 };
	const uint8_t other[4] = { 10, 0, 0, 9 };

	setup(5000, 1000, 2);
	net_echo_pump(&e);
	deliver(&wa, &b, 0, 0);
	deliver(&wb, &a, 0, 2);         /* the second echo's last byte flipped */
	CHECK(e.bad == 1 && e.echoed == 1000, "a wrong payload is bad and not taken");
	CHECK(net_echo_input(&e, ip_b, NET_ECHO_PORT, 5008, d, 3) && e.bad == 2,
	      "a datagram shorter than the sequence number is bad");
	d[0] = 200;
	CHECK(net_echo_input(&e, ip_b, NET_ECHO_PORT, 5008, d, sizeof(d)) && e.bad == 3,
	      "an echo of a sequence never sent is bad");
	CHECK(!net_echo_input(&e, other, NET_ECHO_PORT, 5008, d, sizeof(d)) &&
	      !net_echo_input(&e, ip_b, 8, 5008, d, sizeof(d)) &&
	      !net_echo_input(&e, ip_b, NET_ECHO_PORT, 5009, d, sizeof(d)) && e.bad == 3,
	      "datagrams from another host or port are not this stream's");
	net_echo_resend(&e);
	run(3);
	CHECK(net_echo_done(&e) && e.echoed == 5000, "after a resend the stream completes");

	/* The stack refuses a send: -1, and the same datagram goes next time. */
	setup(3000, 1000, 4);
	wa.fail = -5;
	CHECK(net_echo_pump(&e) == -1 && e.send_errors == 1 && e.next_tx == 0,
	      "a refused send: -1, nothing counted as sent");
	wa.fail = 0;
	run(3);
	CHECK(net_echo_done(&e) && e.datagrams_sent == 3 && !e.bad,
	      "then the stream completes with each datagram sent once");
	CHECK(not_ours == 0, "every datagram to our port was handed to the stream");
}

int main(void)
{
	test_clean();
	test_loss();
	test_bad();
	return done_testing();
}
