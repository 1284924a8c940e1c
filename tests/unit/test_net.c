/* Host tests for the test guests' IPv4 stack (kernel/lib/net.c): two
 * interfaces wired to each other through queues, frames built by hand
 * for the hostile cases. */
#include <string.h>
#include "check.h"
#include "net.h"

#define QMAX 8

/* What one interface sent, in order. */
struct wire {
	uint8_t frame[QMAX][NET_FRAME_MAX];
	size_t len[QMAX];
	unsigned head, count;
	int fail;               /* the tx hook's answer when nonzero */
};

static int fake_tx(void *ctx, const void *frame, size_t len)
{
	struct wire *w = ctx;

	if (w->fail)
		return w->fail;
	if (w->count == QMAX || len > NET_FRAME_MAX)
		return -100;
	memcpy(w->frame[w->count], frame, len);
	w->len[w->count++] = len;
	return 0;
}

static void wire_clear(struct wire *w)
{
	w->head = w->count = 0;
}

static unsigned pending(const struct wire *w)
{
	return w->count - w->head;
}

/* Hand every frame `from` holds to `to` (which may queue answers). */
static unsigned deliver(struct wire *from, struct net_if *to)
{
	unsigned n = 0;

	while (from->head < from->count) {
		unsigned i = from->head++;

		net_input(to, from->frame[i], from->len[i]);
		n++;
	}
	wire_clear(from);
	return n;
}

static struct wire wa, wb;
static struct net_if a, b;
static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a }, ip_a[4] = { 10, 0, 0, 1 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b }, ip_b[4] = { 10, 0, 0, 2 };
static const uint8_t mac_c[6] = { 0x02, 0, 0, 0, 0, 0x0c }, ip_c[4] = { 10, 0, 0, 3 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t bcast_ip[4] = { 255, 255, 255, 255 };

/* The last datagram B's callback saw. */
static struct {
	unsigned calls;
	uint8_t src[4];
	uint16_t sport, dport;
	uint8_t data[NET_UDP_MAX];
	size_t len;
	bool echo;              /* send it back */
} got;

static void on_udp(struct net_if *n, const uint8_t src_ip[4], uint16_t sport, uint16_t dport,
		   const void *data, size_t len)
{
	got.calls++;
	memcpy(got.src, src_ip, 4);
	got.sport = sport;
	got.dport = dport;
	memcpy(got.data, data, len);
	got.len = len;
	if (got.echo)
		net_udp_send(n, src_ip, dport, sport, data, len);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool csum_ok(const uint8_t *p, size_t len)
{
	return net_csum_fold(net_csum_add(0, p, len)) == 0xffff;
}

static void fix_ip_csum(uint8_t *f)
{
	put16(f + 24, 0);
	put16(f + 24, (uint16_t)~net_csum_fold(net_csum_add(0, f + 14, (f[14] & 15) * 4u)));
}

static void fix_icmp_csum(uint8_t *f)
{
	size_t len = get16(f + 16) - 20u;

	put16(f + 36, 0);
	put16(f + 36, (uint16_t)~net_csum_fold(net_csum_add(0, f + 34, len)));
}

static uint32_t pseudo(const uint8_t *f)
{
	uint32_t s = net_csum_add(0, f + 26, 8);

	return s + 17 + get16(f + 38);
}

static void fix_udp_csum(uint8_t *f)
{
	uint16_t ulen = get16(f + 38), c;

	put16(f + 40, 0);
	c = (uint16_t)~net_csum_fold(net_csum_add(pseudo(f), f + 34, ulen));
	put16(f + 40, c ? c : 0xffff);
}

/* An Ethernet + IPv4 frame by hand, from C to B unless changed. */
static size_t mk_ip(uint8_t *f, uint8_t proto, size_t plen)
{
	memcpy(f, mac_b, 6);
	memcpy(f + 6, mac_c, 6);
	put16(f + 12, NET_ETHERTYPE_IPV4);
	f[14] = 0x45;
	f[15] = 0;
	put16(f + 16, (uint16_t)(20 + plen));
	put16(f + 18, 77);
	put16(f + 20, 0x4000);
	f[22] = 64;
	f[23] = proto;
	memcpy(f + 26, ip_c, 4);
	memcpy(f + 30, ip_b, 4);
	fix_ip_csum(f);
	return 34 + plen;
}

static size_t mk_echo(uint8_t *f, uint8_t type, uint16_t id, uint16_t seq, size_t plen)
{
	size_t len = mk_ip(f, 1, 8 + plen);

	f[34] = type;
	f[35] = 0;
	put16(f + 38, id);
	put16(f + 40, seq);
	for (size_t i = 0; i < plen; i++)
		f[42 + i] = (uint8_t)(seq * 7 + id + i);
	fix_icmp_csum(f);
	return len;
}

static size_t mk_udp(uint8_t *f, const char *msg)
{
	size_t n = strlen(msg), len = mk_ip(f, 17, 8 + n);

	put16(f + 34, 5000);
	put16(f + 36, 7);
	put16(f + 38, (uint16_t)(8 + n));
	memcpy(f + 42, msg, n);
	fix_udp_csum(f);
	return len;
}

static size_t mk_arp(uint8_t *f, uint16_t op, const uint8_t sha[6], const uint8_t spa[4],
		     const uint8_t tpa[4])
{
	memcpy(f, op == 1 ? bcast_mac : mac_b, 6);
	memcpy(f + 6, sha, 6);
	put16(f + 12, NET_ETHERTYPE_ARP);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, op);
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, spa, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, tpa, 4);
	return 42;
}

/* The counters a rejected frame must leave alone. */
static uint64_t effects(const struct net_if *n)
{
	return n->tx_frames + n->tx_errors + n->arp_requests_answered + n->arp_replies_seen +
	       n->echo_requests_answered + n->echo_replies_seen + n->udp_rx + n->udp_tx;
}

/* B refuses f: `bad` (or `ignored`) grows by one, the other does not,
 * nothing is sent, no datagram delivered, the ARP cache unchanged. */
static bool refused(const uint8_t *f, size_t len, bool as_bad)
{
	struct net_arp_entry arp[NET_ARP_ENTRIES];
	uint64_t bad = b.bad, ign = b.ignored, eff = effects(&b);
	unsigned calls = got.calls;
	bool seen = b.echo_seen;

	memcpy(arp, b.arp, sizeof(arp));
	net_input(&b, f, len);
	return b.bad == bad + as_bad && b.ignored == ign + !as_bad && effects(&b) == eff &&
	       !pending(&wb) && got.calls == calls && !memcmp(arp, b.arp, sizeof(arp)) &&
	       b.echo_seen == seen;
}

static void test_csum(void)
{
	static const uint8_t rfc[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static const uint8_t odd[3] = { 0x01, 0x02, 0x03 };
	static uint8_t big[200000];
	uint8_t shifted[9];

	CHECK(net_csum_fold(net_csum_add(0, rfc, 8)) == 0xddf2, "RFC 1071 example sums to 0xddf2");
	memcpy(shifted + 1, rfc, 8);
	CHECK(net_csum_fold(net_csum_add(0, shifted + 1, 8)) == 0xddf2, "at an odd address too");
	CHECK(net_csum_fold(net_csum_add(net_csum_add(0, rfc, 4), rfc + 4, 4)) == 0xddf2,
	      "in two chunks");
	CHECK(net_csum_fold(net_csum_add(0, odd, 3)) == 0x0402,
	      "an odd last byte is a high half (%#x)", net_csum_fold(net_csum_add(0, odd, 3)));
	CHECK(net_csum_fold(0x1ffff) == 0x0001 && net_csum_fold(0) == 0,
	      "fold: end-around carry");
	memset(big, 0xff, sizeof(big));
	CHECK(net_csum_fold(net_csum_add(0, big, sizeof(big))) == 0xffff,
	      "200000 bytes of 0xff: no 32-bit overflow");
	CHECK(net_csum_add(1234, rfc, 0) == 1234, "zero bytes leave the sum alone");
}

static void test_arp(void)
{
	uint8_t mac[6], f[64];
	const uint8_t *r;

	CHECK(!net_arp_lookup(&a, ip_b, mac) && !a.tx_frames && !a.bad,
	      "a new interface knows nobody and has counted nothing");
	CHECK(net_ping(&a, ip_b, 1, 1, 8) == -1 && net_udp_send(&a, ip_b, 1, 2, "x", 1) == -1 &&
	      !pending(&wa), "no MAC: ping and UDP refuse, send nothing");
	CHECK(net_arp_request(&a, ip_b) == 0 && pending(&wa) == 1, "an ARP request is sent");
	r = wa.frame[0];
	CHECK(wa.len[0] == 60 && !memcmp(r, bcast_mac, 6) && !memcmp(r + 6, mac_a, 6) &&
	      get16(r + 12) == NET_ETHERTYPE_ARP && get16(r + 20) == 1 &&
	      !memcmp(r + 38, ip_b, 4), "broadcast, from A, who-has B, 60 bytes");
	{
		uint8_t zero[18] = { 0 };

		CHECK(!memcmp(r + 42, zero, 18), "padded with zeros");
	}
	deliver(&wa, &b);
	CHECK(b.arp_requests_answered == 1 && net_arp_lookup(&b, ip_a, mac) &&
	      !memcmp(mac, mac_a, 6), "B answers and learns A");
	r = wb.frame[0];
	CHECK(pending(&wb) == 1 && !memcmp(r, mac_a, 6) && get16(r + 20) == 2 &&
	      !memcmp(r + 22, mac_b, 6) && !memcmp(r + 28, ip_b, 4) && !memcmp(r + 32, mac_a, 6),
	      "the reply is unicast to A: B is at mac_b");
	deliver(&wb, &a);
	CHECK(a.arp_replies_seen == 1 && net_arp_lookup(&a, ip_b, mac) && !memcmp(mac, mac_b, 6),
	      "A learns B from the reply");

	mk_arp(f, 1, mac_c, ip_c, (const uint8_t[4]){ 10, 0, 0, 99 });
	net_input(&b, f, 42);
	CHECK(!net_arp_lookup(&b, ip_c, NULL) && b.ignored == 1 && !pending(&wb),
	      "a request for someone else from a stranger: not learned, no answer");
	mk_arp(f, 1, mac_c, ip_c, ip_b);
	net_input(&b, f, 42);
	CHECK(net_arp_lookup(&b, ip_c, NULL) && b.arp_requests_answered == 2 && pending(&wb) == 1,
	      "the stranger asking for us: answered (unpadded 42 bytes) and learned");
	wire_clear(&wb);
	{
		const uint8_t moved[6] = { 0x02, 0, 0, 0, 0, 0xcc };

		mk_arp(f, 1, moved, ip_c, ip_c);
		net_input(&b, f, 42);
		CHECK(net_arp_lookup(&b, ip_c, mac) && !memcmp(mac, moved, 6) && !pending(&wb),
		      "a gratuitous request updates a known sender, unanswered");
	}
	mk_arp(f, 1, mac_c, ip_c, ip_c);
	net_input(&b, f, 42);
	mk_arp(f, 2, mac_c, ip_b, ip_b);
	net_input(&b, f, 42);
	CHECK(!net_arp_lookup(&b, ip_b, NULL), "a reply claiming our own address is not learned");
}

static void test_ping(void)
{
	const uint8_t *r;
	uint16_t id0;

	id0 = a.ip_id;
	CHECK(net_ping(&a, ip_b, 0x1234, 1, 56) == 0 && pending(&wa) == 1, "A pings B");
	r = wa.frame[0];
	CHECK(wa.len[0] == 98 && !memcmp(r, mac_b, 6) && get16(r + 12) == 0x0800 &&
	      r[14] == 0x45 && get16(r + 16) == 84 && get16(r + 18) == id0 &&
	      get16(r + 20) == 0x4000 && r[22] == 64 && r[23] == 1 && csum_ok(r + 14, 20),
	      "IPv4: 84 bytes, DF, TTL 64, our ip_id, valid header checksum");
	CHECK(r[34] == 8 && r[35] == 0 && get16(r + 38) == 0x1234 && get16(r + 40) == 1 &&
	      csum_ok(r + 34, 64) && r[42] == (uint8_t)(7 + 0x1234) &&
	      r[42 + 55] == (uint8_t)(7 + 0x1234 + 55), "ICMP echo, the documented pattern");
	CHECK(!a.echo_seen, "echo_seen cleared by net_ping");
	deliver(&wa, &b);
	CHECK(b.echo_requests_answered == 1 && pending(&wb) == 1, "B answers");
	r = wb.frame[0];
	CHECK(wb.len[0] == 98 && !memcmp(r, mac_a, 6) && !memcmp(r + 26, ip_b, 4) &&
	      !memcmp(r + 30, ip_a, 4) && r[34] == 0 && csum_ok(r + 14, 20) &&
	      csum_ok(r + 34, 64), "an echo reply from B to A with valid checksums");
	deliver(&wb, &a);
	CHECK(a.echo_seen && a.echo_id == 0x1234 && a.echo_seq == 1 && a.echo_len == 56 &&
	      a.echo_data_ok && a.echo_replies_seen == 1, "A sees its reply, data intact");

	CHECK(net_ping(&b, ip_a, 7, 9, 0) == 0 && wb.len[0] == 60, "B pings A, padded to 60");
	deliver(&wb, &a);
	CHECK(a.echo_requests_answered == 1 && pending(&wa) == 1 && wa.len[0] == 60 &&
	      get16(wa.frame[0] + 16) == 28, "A answers from the IP length, not the frame's");
	deliver(&wa, &b);
	CHECK(b.echo_seen && b.echo_len == 0 && b.echo_data_ok && b.echo_seq == 9,
	      "B sees an empty reply");
	CHECK(a.ip_id == (uint16_t)(id0 + 2), "ip_id counts A's datagrams");

	net_ping(&a, ip_b, 0x1234, 2, 32);
	deliver(&wa, &b);
	wb.frame[0][50] ^= 0x40;
	fix_icmp_csum(wb.frame[0]);
	deliver(&wb, &a);
	CHECK(a.echo_seen && !a.echo_data_ok && a.echo_len == 32,
	      "a reply with a changed byte: seen, data not ok");

	net_ping(&a, ip_b, 0x1234, 3, 32);
	deliver(&wa, &b);
	put16(wb.frame[0] + 40, 4);
	fix_icmp_csum(wb.frame[0]);
	{
		uint64_t ign = a.ignored;

		deliver(&wb, &a);
		CHECK(!a.echo_seen && a.ignored == ign + 1, "a reply to another seq: ignored");
	}
	CHECK(net_ping(&a, ip_b, 1, 1, NET_ICMP_MAX) == 0 && wa.len[0] == NET_FRAME_MAX,
	      "the largest ping fills a 1514-byte frame");
	deliver(&wa, &b);
	deliver(&wb, &a);
	CHECK(a.echo_seen && a.echo_data_ok && a.echo_len == NET_ICMP_MAX,
	      "and comes back whole");
	CHECK(net_ping(&a, ip_b, 1, 1, NET_ICMP_MAX + 1) == -1 && !pending(&wa),
	      "one byte more is refused");
}

static void test_udp(void)
{
	uint8_t f[NET_FRAME_MAX];
	const uint8_t *r;

	memset(f, 0x5a, sizeof(f));
	CHECK(net_udp_send(&a, ip_b, 1234, 7, "hello", 5) == 0 && a.udp_tx == 1, "A sends UDP");
	r = wa.frame[0];
	CHECK(wa.len[0] == 60 && get16(r + 16) == 33 && r[23] == 17 && csum_ok(r + 14, 20) &&
	      get16(r + 38) == 13 && get16(r + 40) != 0, "47 bytes padded to 60, UDP length 13");
	CHECK(net_csum_fold(net_csum_add(pseudo(r), r + 34, 13)) == 0xffff,
	      "the UDP checksum covers the pseudo-header");
	deliver(&wa, &b);
	CHECK(b.udp_rx == 1 && got.calls == 1 && !memcmp(got.src, ip_a, 4) && got.sport == 1234 &&
	      got.dport == 7 && got.len == 5 && !memcmp(got.data, "hello", 5),
	      "B's callback gets source, ports and the 5 bytes (not the padding)");

	got.echo = true;
	net_udp_send(&a, ip_b, 1234, 7, "ping", 4);
	deliver(&wa, &b);
	CHECK(b.udp_tx == 1 && pending(&wb) == 1, "the callback may answer");
	b.udp = NULL;
	a.udp = on_udp;
	got.echo = false;
	deliver(&wb, &a);
	CHECK(a.udp_rx == 1 && got.sport == 7 && got.dport == 1234 && got.len == 4 &&
	      !memcmp(got.data, "ping", 4), "and A hears it");
	a.udp = NULL;
	b.udp = on_udp;

	CHECK(net_udp_send(&a, bcast_ip, 68, 67, "dhcp?", 5) == 0 &&
	      !memcmp(wa.frame[0], bcast_mac, 6) && !memcmp(wa.frame[0] + 30, bcast_ip, 4),
	      "broadcast UDP: ff:ff:ff:ff:ff:ff, 255.255.255.255");
	deliver(&wa, &b);
	CHECK(b.udp_rx == 3 && got.dport == 67 && got.len == 5, "B takes the broadcast");

	{
		uint8_t buf[2] = { 0, 0 };
		uint32_t s = net_csum_add(0, ip_a, 4);

		/* Choose the payload so the checksum comes out 0. */
		s = net_csum_add(net_csum_add(s, ip_b, 4) + 17 + 10, (const uint8_t[8]){
			0x00, 0x09, 0x00, 0x07, 0x00, 0x0a, 0, 0 }, 8);
		put16(buf, (uint16_t)~net_csum_fold(s));
		net_udp_send(&a, ip_b, 9, 7, buf, 2);
		CHECK(get16(wa.frame[0] + 40) == 0xffff, "a computed 0 is sent as 0xffff");
		deliver(&wa, &b);
		CHECK(b.udp_rx == 4 && got.len == 2, "and accepted");
	}
	CHECK(net_udp_send(&a, ip_b, 1, 2, f, NET_UDP_MAX) == 0 && wa.len[0] == NET_FRAME_MAX,
	      "the largest datagram fills a 1514-byte frame");
	deliver(&wa, &b);
	CHECK(got.len == NET_UDP_MAX, "and arrives whole");
	CHECK(net_udp_send(&a, ip_b, 1, 2, f, NET_UDP_MAX + 1) == -1 && !pending(&wa),
	      "one byte more is refused");

	mk_udp(f, "raw");
	memset(f + 45, 0xa5, 15);
	net_input(&b, f, 60);
	CHECK(b.udp_rx == 6 && got.len == 3 && !memcmp(got.data, "raw", 3),
	      "junk padding after the datagram is not data, nor checksummed");
	mk_udp(f, "nocsum");
	put16(f + 40, 0);
	net_input(&b, f, 48);
	CHECK(b.udp_rx == 7 && got.len == 6, "checksum 0: not checked");
}

static void test_refused(void)
{
	uint8_t f[NET_FRAME_MAX + 8], g[NET_FRAME_MAX + 8];
	size_t len;
	bool ok;

	memset(f, 0, sizeof(f));
	len = mk_arp(g, 1, mac_c, ip_c, ip_b);
	ok = true;
	for (size_t i = 0; i < len; i++)
		ok &= refused(g, i, true);
	CHECK(ok, "an ARP request cut to each of 0..41 bytes: bad, unanswered");
	len = mk_echo(g, 8, 1, 1, 56);
	ok = true;
	for (size_t i = 0; i < len; i++)
		ok &= refused(g, i, true);
	CHECK(ok, "an echo request cut to each of 0..97 bytes: bad, unanswered");
	len = mk_udp(g, "truncated");
	ok = true;
	for (size_t i = 0; i < len; i++)
		ok &= refused(g, i, true);
	CHECK(ok, "a UDP datagram cut to each of 0..50 bytes: bad, undelivered");

	len = mk_echo(f, 8, 1, 1, 8);
	f[25] ^= 1;
	CHECK(refused(f, len, true), "bad IP header checksum: bad");
	len = mk_echo(f, 8, 1, 1, 8);
	f[37] ^= 1;
	CHECK(refused(f, len, true), "bad ICMP checksum: bad");
	len = mk_udp(f, "hello");
	f[41] ^= 1;
	CHECK(refused(f, len, true), "bad UDP checksum: bad");
	len = mk_udp(f, "hello");
	f[44] ^= 1;
	CHECK(refused(f, len, true), "a changed UDP byte: bad");
	len = mk_udp(f, "hello");
	put16(f + 38, 14);
	fix_udp_csum(f);
	CHECK(refused(f, len, true), "UDP length beyond the IP payload: bad");
	len = mk_udp(f, "hello");
	put16(f + 38, 12);
	fix_udp_csum(f);
	CHECK(refused(f, len, true), "UDP length short of the IP payload: bad");
	len = mk_udp(f, "hello");
	put16(f + 38, 7);
	CHECK(refused(f, len, true), "UDP length under 8: bad");

	len = mk_echo(f, 8, 1, 1, 8);
	put16(f + 16, (uint16_t)(len - 14 + 1));
	fix_ip_csum(f);
	CHECK(refused(f, len, true), "IP total length one beyond the frame: bad");
	put16(f + 16, 19);
	fix_ip_csum(f);
	CHECK(refused(f, len, true), "IP total length 19: bad");
	len = mk_echo(f, 8, 1, 1, 8);
	put16(f + 16, 20 + 7);
	fix_ip_csum(f);
	CHECK(refused(f, len, true), "ICMP shorter than its header (IP length cut): bad");

	len = mk_echo(f, 8, 1, 1, 8);
	f[14] = 0x46;
	fix_ip_csum(f);
	CHECK(refused(f, len, false), "IHL 6 (options): ignored");
	f[14] = 0x44;
	fix_ip_csum(f);
	CHECK(refused(f, len, true), "IHL 4: bad");
	f[14] = 0x65;
	fix_ip_csum(f);
	CHECK(refused(f, len, true), "version 6 in an IPv4 frame: bad");

	len = mk_echo(f, 8, 1, 1, 8);
	put16(f + 20, 0x2000);
	fix_ip_csum(f);
	CHECK(refused(f, len, false), "first fragment (MF): ignored");
	put16(f + 20, 0x0001);
	fix_ip_csum(f);
	CHECK(refused(f, len, false), "a later fragment (offset 1): ignored");

	len = mk_echo(f, 8, 1, 1, 8);
	f[5] = 0x0d;
	CHECK(refused(f, len, false), "another station's MAC: ignored");
	memcpy(f, (const uint8_t[6]){ 0x01, 0x00, 0x5e, 0, 0, 1 }, 6);
	CHECK(refused(f, len, false), "a multicast MAC: ignored");
	len = mk_echo(f, 8, 1, 1, 8);
	f[33] = 9;
	fix_ip_csum(f);
	CHECK(refused(f, len, false), "another IP address: ignored");
	len = mk_echo(f, 8, 1, 1, 8);
	memcpy(f, bcast_mac, 6);
	memcpy(f + 30, bcast_ip, 4);
	fix_ip_csum(f);
	CHECK(refused(f, len, false), "a broadcast ping: ignored (no amplification)");
	len = mk_echo(f, 8, 1, 1, 8);
	f[6] = 0x03;
	CHECK(refused(f, len, true), "a group address as Ethernet source: bad");
	len = mk_echo(f, 8, 1, 1, 8);
	memcpy(f + 26, bcast_ip, 4);
	fix_ip_csum(f);
	CHECK(refused(f, len, true), "a broadcast IP source: bad");

	len = mk_echo(g, 8, 1, 1, 8);
	memcpy(f, g, 12);
	put16(f + 12, NET_ETHERTYPE_VLAN);
	put16(f + 14, 5);
	memcpy(f + 16, g + 12, len - 12);
	CHECK(refused(f, len + 4, false), "an 802.1Q tagged frame: ignored");
	len = mk_echo(f, 8, 1, 1, 8);
	put16(f + 12, 0x86dd);
	CHECK(refused(f, len, false), "IPv6: ignored");
	len = mk_ip(f, 6, 20);
	CHECK(refused(f, len, false), "TCP: ignored");
	len = mk_echo(f, 13, 1, 1, 12);
	CHECK(refused(f, len, false), "an ICMP timestamp request: ignored");
	len = mk_echo(f, 8, 1, 1, 8);
	f[35] = 1;
	fix_icmp_csum(f);
	CHECK(refused(f, len, false), "echo type with code 1: ignored");

	mk_arp(f, 1, mac_c, ip_c, ip_b);
	f[18] = 5;
	CHECK(refused(f, 60, true), "ARP with hlen 5: bad");
	mk_arp(f, 1, mac_c, ip_c, ip_b);
	f[22] = 0x01;
	CHECK(refused(f, 60, true), "ARP with a multicast sender MAC: bad");
	mk_arp(f, 1, mac_c, ip_c, ip_b);
	put16(f + 14, 6);
	CHECK(refused(f, 60, false), "ARP for IEEE 802 hardware: ignored");
	mk_arp(f, 3, mac_c, ip_c, ip_b);
	CHECK(refused(f, 60, false), "RARP opcode 3: ignored");

	len = mk_udp(f, "x");
	memset(f + len, 0, sizeof(f) - len);
	CHECK(refused(f, NET_FRAME_MAX + 1, true), "a 1515-byte frame: bad");
	CHECK(b.rx_frames > 200, "every frame counted in rx_frames (%llu)",
	      (unsigned long long)b.rx_frames);
}

static void test_arp_full(void)
{
	struct net_if c;
	struct wire wc = { .head = 0 };
	uint8_t f[64], ip[4] = { 10, 0, 1, 0 }, mac[6] = { 2, 0, 0, 0, 1, 0 };
	bool all = true;

	net_init(&c, mac_b, ip_b, fake_tx, &wc);
	for (uint8_t i = 1; i <= NET_ARP_ENTRIES; i++) {
		ip[3] = mac[5] = i;
		mk_arp(f, 2, mac, ip, ip_b);
		net_input(&c, f, 60);
	}
	for (uint8_t i = 1; i <= NET_ARP_ENTRIES; i++) {
		ip[3] = i;
		all &= net_arp_lookup(&c, ip, NULL);
	}
	CHECK(all && c.arp_replies_seen == NET_ARP_ENTRIES && !c.arp_next,
	      "8 replies fill the cache without replacing");
	ip[3] = 3;
	mac[5] = 0x33;
	mk_arp(f, 2, mac, ip, ip_b);
	net_input(&c, f, 60);
	CHECK(net_arp_lookup(&c, ip, mac) && mac[5] == 0x33 && !c.arp_next,
	      "a known address is updated in place");
	ip[3] = 9;
	mac[5] = 9;
	mk_arp(f, 2, mac, ip, ip_b);
	net_input(&c, f, 60);
	ip[3] = 10;
	mac[5] = 10;
	mk_arp(f, 2, mac, ip, ip_b);
	net_input(&c, f, 60);
	CHECK(net_arp_lookup(&c, (const uint8_t[4]){ 10, 0, 1, 9 }, NULL) &&
	      net_arp_lookup(&c, (const uint8_t[4]){ 10, 0, 1, 10 }, NULL) &&
	      !net_arp_lookup(&c, (const uint8_t[4]){ 10, 0, 1, 1 }, NULL) &&
	      !net_arp_lookup(&c, (const uint8_t[4]){ 10, 0, 1, 2 }, NULL) &&
	      net_arp_lookup(&c, (const uint8_t[4]){ 10, 0, 1, 3 }, NULL) && c.arp_next == 2,
	      "full: the 9th and 10th replace slots 0 and 1, round robin");
	CHECK(!wc.count && !c.bad && !c.ignored, "replies are not answered");
}

static void test_tx_errors(void)
{
	uint8_t f[NET_FRAME_MAX];
	size_t len;
	uint64_t frames = b.tx_frames, udp = b.udp_tx, answered = b.echo_requests_answered;

	wb.fail = -5;
	CHECK(net_udp_send(&b, ip_a, 1, 2, "x", 1) == -5 && b.tx_errors == 1 &&
	      b.udp_tx == udp && b.tx_frames == frames, "a failing driver: its error, counted");
	len = mk_echo(f, 8, 1, 1, 8);
	net_input(&b, f, len);
	CHECK(b.tx_errors == 2 && b.echo_requests_answered == answered,
	      "an unsendable echo reply is not counted as answered");
	CHECK(net_arp_request(&b, ip_a) == -5 && b.tx_errors == 3, "nor an ARP request");
	wb.fail = 0;
}

int main(void)
{
	net_init(&a, mac_a, ip_a, fake_tx, &wa);
	net_init(&b, mac_b, ip_b, fake_tx, &wb);
	b.udp = on_udp;
	CHECK(!memcmp(a.mac, mac_a, 6) && !memcmp(a.ip, ip_a, 4) && a.ctx == &wa && !a.udp,
	      "net_init keeps addresses and hook");
	{
		struct net_if self;

		memcpy(self.mac, mac_c, 6);
		memcpy(self.ip, ip_c, 4);
		self.bad = 99;
		net_init(&self, self.mac, self.ip, fake_tx, NULL);
		CHECK(!memcmp(self.mac, mac_c, 6) && !memcmp(self.ip, ip_c, 4) && !self.bad,
		      "net_init from addresses already in the struct keeps them");
	}
	test_csum();
	test_arp();
	test_ping();
	test_udp();
	test_refused();
	test_arp_full();
	test_tx_errors();
	return done_testing();
}
