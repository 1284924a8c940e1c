/* Fuzz target for the test guests' IPv4 stack (kernel/lib/net.c): any
 * bytes as a received frame, then again with its IPv4, ICMP and UDP
 * checksums made right (the driver has no coverage feedback to find
 * them), which also sees what the first taught the stack. Invariants: every frame the stack sends is 60..1514 bytes from
 * our MAC, an IPv4 one has valid header, ICMP and UDP checksums, and a
 * stack at its destination takes it without counting it bad; counters
 * only grow; a frame counted bad sends nothing and changes nothing; the
 * ARP cache never holds our address, 0.0.0.0, 255.255.255.255 or one
 * address twice; datagrams handed up lie inside the frame. */
#include <stdlib.h>
#include <string.h>
#include "net.h"

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 }, our_ip[4] = { 10, 0, 0, 1 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 }, peer_ip[4] = { 10, 0, 0, 2 };

static struct net_if n, dest;
static const uint8_t *cur_frame;
static size_t cur_len;
static unsigned sent;

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool csum_ok(uint32_t sum, const uint8_t *p, size_t len)
{
	return net_csum_fold(net_csum_add(sum, p, len)) == 0xffff;
}

static int dest_tx(void *ctx, const void *frame, size_t len)
{
	return 0;
}

/* The IPv4 checks of one frame we send (len 60..1514). */
static void check_ipv4(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + NET_ETH_HLEN, *l4 = ip + 20;
	uint16_t tot = get16(ip + 2);

	if (ip[0] != 0x45 || !csum_ok(0, ip, 20) || tot < 20 || NET_ETH_HLEN + (size_t)tot > len ||
	    (len > NET_FRAME_MIN && NET_ETH_HLEN + (size_t)tot != len) || memcmp(ip + 12, our_ip, 4))
		abort();
	if (ip[9] == 1 && (tot < 28 || !csum_ok(0, l4, tot - 20u)))
		abort();
	if (ip[9] == 17) {
		uint32_t pseudo = net_csum_add(0, ip + 12, 8) + 17 + (uint32_t)(tot - 20);

		if (tot < 28 || get16(l4 + 4) != tot - 20 || !get16(l4 + 6) ||
		    !csum_ok(pseudo, l4, tot - 20u))
			abort();
	}
}

static int fuzz_tx(void *ctx, const void *frame, size_t len)
{
	const uint8_t *f = frame;
	uint16_t type;

	if (len < NET_FRAME_MIN || len > NET_FRAME_MAX || memcmp(f + 6, our_mac, 6))
		abort();
	type = get16(f + 12);
	if (type == NET_ETHERTYPE_IPV4)
		check_ipv4(f, len);
	else if (type != NET_ETHERTYPE_ARP)
		abort();
	/* The station it is for must take it: its MAC (or any, for a
	 * broadcast) and the destination protocol address. */
	net_init(&dest, (f[0] & 1) ? peer_mac : f, type == NET_ETHERTYPE_ARP ? f + 38 : f + 30,
		 dest_tx, NULL);
	net_input(&dest, f, len);
	if (dest.bad || (dest.ignored && type == NET_ETHERTYPE_IPV4 && f[23] == 17))
		abort();
	sent++;
	return 0;
}

static void on_udp(struct net_if *nif, const uint8_t src_ip[4], uint16_t sport, uint16_t dport,
		   const void *data, size_t len)
{
	const uint8_t *d = data;

	if (d < cur_frame + 42 || len > cur_len || d + len > cur_frame + cur_len ||
	    src_ip != cur_frame + 26)
		abort();
	net_udp_send(nif, src_ip, dport, sport, data, len);     /* an echo server */
}

struct counters {
	uint64_t v[12];
};

static struct counters snap(void)
{
	struct counters c = { { n.rx_frames, n.tx_frames, n.tx_errors,
		n.arp_requests_answered, n.arp_replies_seen, n.echo_requests_answered,
		n.echo_replies_seen, n.udp_rx, n.udp_tx, n.bad, n.ignored, 0 } };

	return c;
}

static void check_arp(void)
{
	static const uint8_t zero[4], ones[4] = { 255, 255, 255, 255 };

	if (n.arp_next >= NET_ARP_ENTRIES)
		abort();
	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
		const struct net_arp_entry *e = &n.arp[i];

		if (!e->used)
			continue;
		if (!memcmp(e->ip, our_ip, 4) || !memcmp(e->ip, zero, 4) ||
		    !memcmp(e->ip, ones, 4) || (e->mac[0] & 1))
			abort();
		for (unsigned j = i + 1; j < NET_ARP_ENTRIES; j++)
			if (n.arp[j].used && !memcmp(n.arp[j].ip, e->ip, 4))
				abort();
	}
}

static void one_frame(const uint8_t *data, size_t size)
{
	struct counters before = snap(), after;
	struct net_arp_entry arp[NET_ARP_ENTRIES];
	unsigned sent_before = sent;

	memcpy(arp, n.arp, sizeof(arp));
	cur_frame = data;
	cur_len = size;
	net_input(&n, data, size);
	after = snap();
	for (unsigned i = 0; i < 12; i++)
		if (after.v[i] < before.v[i])
			abort();
	if (after.v[0] != before.v[0] + 1 || after.v[9] + after.v[10] > before.v[9] + before.v[10] + 1)
		abort();
	/* Refused: nothing sent; bad: nothing learned or delivered either. */
	if (after.v[9] + after.v[10] != before.v[9] + before.v[10] && sent != sent_before)
		abort();
	if (after.v[9] != before.v[9] &&
	    (memcmp(arp, n.arp, sizeof(arp)) || after.v[7] != before.v[7]))
		abort();
	if (n.echo_seen && (n.echo_id != n.ping_id || n.echo_seq != n.ping_seq ||
			    n.echo_len > NET_ICMP_MAX || (n.echo_data_ok && n.echo_len != n.ping_len)))
		abort();
	check_arp();
}

/* Recompute what checksums the frame's own lengths let us. */
static void repair(uint8_t *f, size_t len)
{
	uint8_t *ip = f + NET_ETH_HLEN, *l4 = ip + 20;
	size_t tot;

	if (len < 34 || get16(f + 12) != NET_ETHERTYPE_IPV4 || (ip[0] & 15) != 5)
		return;
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~net_csum_fold(net_csum_add(0, ip, 20)));
	tot = get16(ip + 2);
	if (tot > len - NET_ETH_HLEN || tot < 28)
		return;
	if (ip[9] == 1) {
		put16(l4 + 2, 0);
		put16(l4 + 2, (uint16_t)~net_csum_fold(net_csum_add(0, l4, tot - 20)));
	} else if (ip[9] == 17 && get16(l4 + 6)) {
		uint32_t pseudo = net_csum_add(0, ip + 12, 8) + 17 + get16(l4 + 4);
		uint16_t c;

		put16(l4 + 6, 0);
		c = (uint16_t)~net_csum_fold(net_csum_add(pseudo, l4, tot - 20));
		put16(l4 + 6, c ? c : 0xffff);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed = malloc(size ? size : 1);

	net_init(&n, our_mac, our_ip, fuzz_tx, NULL);
	n.udp = on_udp;
	n.arp[0].used = true;
	memcpy(n.arp[0].ip, peer_ip, 4);
	memcpy(n.arp[0].mac, peer_mac, 6);
	if (net_ping(&n, peer_ip, 0x1234, 1, 32) || n.tx_frames != 1)
		abort();
	if (!fixed)
		abort();
	one_frame(data, size);
	memcpy(fixed, data, size);
	repair(fixed, size);
	one_frame(fixed, size);
	free(fixed);
	return 0;
}

/* ---- seeds: frames a peer would send us ------------------------------ */

static size_t ipv4(uint8_t *f, uint8_t proto, size_t plen)
{
	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, NET_ETHERTYPE_IPV4);
	memset(f + 14, 0, 20);
	f[14] = 0x45;
	put16(f + 16, (uint16_t)(20 + plen));
	put16(f + 20, 0x4000);
	f[22] = 64;
	f[23] = proto;
	memcpy(f + 26, peer_ip, 4);
	memcpy(f + 30, our_ip, 4);
	put16(f + 24, (uint16_t)~net_csum_fold(net_csum_add(0, f + 14, 20)));
	return 34 + plen;
}

static size_t echo(uint8_t *f, uint8_t type, size_t plen)
{
	size_t len = ipv4(f, 1, 8 + plen);

	memset(f + 34, 0, 8);
	f[34] = type;
	put16(f + 38, 0x1234);
	put16(f + 40, 1);
	for (size_t i = 0; i < plen; i++)
		f[42 + i] = (uint8_t)(7 + 0x1234 + i);
	put16(f + 36, (uint16_t)~net_csum_fold(net_csum_add(0, f + 34, 8 + plen)));
	return len;
}

static size_t udp(uint8_t *f)
{
	static const char msg[] = "fuzz me";
	size_t plen = 8 + sizeof(msg), len = ipv4(f, 17, plen);
	uint32_t pseudo = net_csum_add(0, f + 26, 8) + 17 + (uint32_t)plen;

	put16(f + 34, 5000);
	put16(f + 36, 7);
	put16(f + 38, (uint16_t)plen);
	put16(f + 40, 0);
	memcpy(f + 42, msg, sizeof(msg));
	put16(f + 40, (uint16_t)~net_csum_fold(net_csum_add(pseudo, f + 34, plen)));
	return len;
}

static size_t arp(uint8_t *f, uint16_t op)
{
	memcpy(f, op == 1 ? (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } : our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, NET_ETHERTYPE_ARP);
	put16(f + 14, 1);
	put16(f + 16, NET_ETHERTYPE_IPV4);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, op);
	memcpy(f + 22, (const uint8_t[6]){ 0x02, 0, 0, 0, 0, 0x03 }, 6);
	memcpy(f + 28, (const uint8_t[4]){ 10, 0, 0, 3 }, 4);
	memcpy(f + 32, op == 1 ? (const uint8_t[6]){ 0 } : our_mac, 6);
	memcpy(f + 38, our_ip, 4);
	memset(f + 42, 0, 18);
	return 60;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	uint8_t f[NET_FRAME_MAX];
	size_t len;

	switch (i) {
	case 0: len = arp(f, 1); break;
	case 1: len = arp(f, 2); break;
	case 2: len = echo(f, 8, 56); break;
	case 3: len = echo(f, 0, 32); break;       /* the answer to our ping */
	case 4: len = udp(f); break;
	case 5: len = echo(f, 8, 0); memset(f + len, 0, 60 - len); len = 60; break;
	default: return 0;
	}
	if (len > cap)
		return 0;
	memcpy(buf, f, len);
	return len;
}
