/*
 * The test guests' IPv4 stack; see net.h for what it does and does not.
 *
 * Receiving is one pass of checks from the outside in (Ethernet, then
 * ARP or IPv4, then ICMP or UDP), each reading through get16/byte loads
 * only inside the bytes the layer below vouched for: the frame's `len`,
 * then the IP total length (not the frame length: frames under 60 bytes
 * arrive with Ethernet padding), then the UDP length. The first failed
 * check decides the frame's fate: `bad` when no correct sender would
 * send it, `ignored` when it is well formed but not for us or not
 * something we handle; nothing else changes. Replies are built in a
 * frame on the stack (one at a time: the UDP callback may send, but
 * net_input holds no frame while it runs).
 */
#include <string.h>
#include "net.h"

#define ARP_LEN         28
#define ARP_HTYPE_ETH   1
#define ARP_OP_REQUEST  1
#define ARP_OP_REPLY    2

#define IP_HLEN         20
#define IP_VER_IHL      0x45            /* version 4, 5 words: no options */
#define IP_FLAG_DF      0x4000
#define IP_FLAG_MF      0x2000
#define IP_FRAG_OFFSET  0x1fff
#define IP_TTL          64
#define IP_PROTO_ICMP   1
#define IP_PROTO_UDP    17

#define ICMP_HLEN       8
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO       8
#define UDP_HLEN        8

/* Offsets into a frame. */
#define ETH_DST  0
#define ETH_SRC  6
#define ETH_TYPE 12
#define L3       NET_ETH_HLEN
#define L4       (NET_ETH_HLEN + IP_HLEN)

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t bcast_ip[4] = { 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero_ip[4];

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint8_t echo_byte(uint16_t id, uint16_t seq, size_t i)
{
	return (uint8_t)(seq * 7u + id + i);
}

uint32_t net_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = 0;
	uint32_t w;
	size_t i = 0;

	/* The one's-complement sum does not care about byte order as long
	 * as it is the same throughout (RFC 1071, 2.B): add the data as
	 * 32-bit words of the CPU's order, fold, swap the bytes of the
	 * 16-bit result if the CPU is little-endian, and add it to `sum`.
	 * 2^32 words cannot overflow 64 bits. */
	for (; i + 4 <= len; i += 4) {
		__builtin_memcpy(&w, p + i, 4);    /* a load, not a call */
		acc += w;
	}
	for (; i + 1 < len; i += 2) {
		uint16_t h;

		__builtin_memcpy(&h, p + i, 2);
		acc += h;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	acc = (acc >> 8 | acc << 8) & 0xffff;
#endif
	if (i < len)
		acc += (uint32_t)p[i] << 8;     /* the odd last byte: a high half */
	sum += (uint32_t)acc;
	/* Fold early so any number of chunks fits 32 bits. */
	if (sum & 0x80000000u)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint16_t net_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The UDP pseudo-header (RFC 768): addresses, protocol, UDP length. */
static uint32_t pseudo_sum(const uint8_t src[4], const uint8_t dst[4], uint16_t ulen)
{
	uint32_t sum = net_csum_add(0, src, 4);

	sum = net_csum_add(sum, dst, 4);
	return sum + IP_PROTO_UDP + ulen;
}

void net_init(struct net_if *n, const uint8_t mac[6], const uint8_t ip[4],
	      int (*tx)(void *ctx, const void *frame, size_t len), void *ctx)
{
	uint8_t m[6], a[4];

	/* mac and ip may point into *n (a driver that stored the NIC's
	 * address there first): copy them out before clearing it. */
	memcpy(m, mac, 6);
	memcpy(a, ip, 4);
	memset(n, 0, sizeof(*n));
	memcpy(n->mac, m, 6);
	memcpy(n->ip, a, 4);
	n->tx = tx;
	n->ctx = ctx;
}

/* ---- ARP cache ------------------------------------------------------- */

/* The cache slot holding ip, or -1. */
static int arp_find(const struct net_if *n, const uint8_t ip[4])
{
	for (int i = 0; i < NET_ARP_ENTRIES; i++)
		if (n->arp[i].used && !memcmp(n->arp[i].ip, ip, 4))
			return i;
	return -1;
}

/* Remember ip -> mac: update the entry for ip, else take a free slot,
 * else replace round robin. Never our own address, 0.0.0.0 (an RFC 5227
 * probe's sender) or the broadcast address. */
static void arp_learn(struct net_if *n, const uint8_t ip[4], const uint8_t mac[6])
{
	int slot = arp_find(n, ip);
	struct net_arp_entry *e = slot >= 0 ? &n->arp[slot] : NULL;

	if (!memcmp(ip, n->ip, 4) || !memcmp(ip, zero_ip, 4) || !memcmp(ip, bcast_ip, 4))
		return;
	for (unsigned i = 0; !e && i < NET_ARP_ENTRIES; i++)
		if (!n->arp[i].used)
			e = &n->arp[i];
	if (!e) {
		e = &n->arp[n->arp_next % NET_ARP_ENTRIES];
		n->arp_next = (n->arp_next + 1) % NET_ARP_ENTRIES;
	}
	e->used = true;
	memcpy(e->ip, ip, 4);
	memcpy(e->mac, mac, 6);
}

bool net_arp_lookup(const struct net_if *n, const uint8_t ip[4], uint8_t mac[6])
{
	int slot = arp_find(n, ip);

	if (slot >= 0 && mac)
		memcpy(mac, n->arp[slot].mac, 6);
	return slot >= 0;
}

/* The next hop's MAC: the broadcast MAC for 255.255.255.255. */
static bool resolve(const struct net_if *n, const uint8_t ip[4], uint8_t mac[6])
{
	if (!memcmp(ip, bcast_ip, 4)) {
		memcpy(mac, bcast_mac, 6);
		return true;
	}
	return net_arp_lookup(n, ip, mac);
}

/* ---- sending --------------------------------------------------------- */

/* Fill in the Ethernet header of f (payload_len bytes after it), pad to
 * the minimum frame and hand it to the driver. */
static int eth_send(struct net_if *n, uint8_t *f, const uint8_t dst[6], uint16_t type,
		    size_t payload_len)
{
	size_t len = NET_ETH_HLEN + payload_len;
	int rc;

	memcpy(f + ETH_DST, dst, 6);
	memcpy(f + ETH_SRC, n->mac, 6);
	put16(f + ETH_TYPE, type);
	if (len < NET_FRAME_MIN) {
		memset(f + len, 0, NET_FRAME_MIN - len);
		len = NET_FRAME_MIN;
	}
	rc = n->tx ? n->tx(n->ctx, f, len) : -1;
	if (rc)
		n->tx_errors++;
	else
		n->tx_frames++;
	return rc;
}

/* An IPv4 header at h for `payload_len` bytes of `proto` to dst. */
static void ip_header(struct net_if *n, uint8_t *h, const uint8_t dst[4], uint8_t proto,
		      size_t payload_len)
{
	h[0] = IP_VER_IHL;
	h[1] = 0;
	put16(h + 2, (uint16_t)(IP_HLEN + payload_len));
	put16(h + 4, n->ip_id++);
	put16(h + 6, IP_FLAG_DF);
	h[8] = IP_TTL;
	h[9] = proto;
	put16(h + 10, 0);
	memcpy(h + 12, n->ip, 4);
	memcpy(h + 16, dst, 4);
	put16(h + 10, (uint16_t)~net_csum_fold(net_csum_add(0, h, IP_HLEN)));
}

static int arp_send(struct net_if *n, uint16_t op, const uint8_t eth_dst[6],
		    const uint8_t tha[6], const uint8_t tpa[4])
{
	uint8_t f[NET_FRAME_MIN];
	uint8_t *a = f + L3;

	put16(a, ARP_HTYPE_ETH);
	put16(a + 2, NET_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, n->mac, 6);
	memcpy(a + 14, n->ip, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
	return eth_send(n, f, eth_dst, NET_ETHERTYPE_ARP, ARP_LEN);
}

int net_arp_request(struct net_if *n, const uint8_t ip[4])
{
	static const uint8_t unknown[6];

	return arp_send(n, ARP_OP_REQUEST, bcast_mac, unknown, ip);
}

/* An ICMP message (header and payload already at f + L4) to dst. */
static int icmp_send(struct net_if *n, uint8_t *f, const uint8_t mac[6],
		     const uint8_t dst[4], size_t icmp_len)
{
	uint8_t *icmp = f + L4;

	put16(icmp + 2, 0);
	put16(icmp + 2, (uint16_t)~net_csum_fold(net_csum_add(0, icmp, icmp_len)));
	ip_header(n, f + L3, dst, IP_PROTO_ICMP, icmp_len);
	return eth_send(n, f, mac, NET_ETHERTYPE_IPV4, IP_HLEN + icmp_len);
}

int net_ping(struct net_if *n, const uint8_t ip[4], uint16_t id, uint16_t seq, size_t len)
{
	uint8_t f[NET_FRAME_MAX], mac[6];
	uint8_t *icmp = f + L4;

	n->echo_seen = false;
	n->ping_pending = false;
	if (len > NET_ICMP_MAX || !resolve(n, ip, mac))
		return -1;
	icmp[0] = ICMP_ECHO;
	icmp[1] = 0;
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	for (size_t i = 0; i < len; i++)
		icmp[ICMP_HLEN + i] = echo_byte(id, seq, i);
	n->ping_pending = true;
	n->ping_id = id;
	n->ping_seq = seq;
	n->ping_len = len;
	return icmp_send(n, f, mac, ip, ICMP_HLEN + len);
}

int net_udp_send(struct net_if *n, const uint8_t ip[4], uint16_t sport, uint16_t dport,
		 const void *data, size_t len)
{
	uint8_t f[NET_FRAME_MAX], mac[6];
	uint8_t *udp = f + L4;
	uint16_t ulen = (uint16_t)(UDP_HLEN + len), csum;
	int rc;

	if (len > NET_UDP_MAX || !resolve(n, ip, mac))
		return -1;
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, ulen);
	put16(udp + 6, 0);
	if (len)
		memcpy(udp + UDP_HLEN, data, len);
	csum = (uint16_t)~net_csum_fold(net_csum_add(pseudo_sum(n->ip, ip, ulen), udp, ulen));
	/* 0 means "no checksum" (RFC 768): send its other form. */
	put16(udp + 6, csum ? csum : 0xffff);
	ip_header(n, f + L3, ip, IP_PROTO_UDP, ulen);
	rc = eth_send(n, f, mac, NET_ETHERTYPE_IPV4, IP_HLEN + ulen);
	if (!rc)
		n->udp_tx++;
	return rc;
}

/* ---- receiving ------------------------------------------------------- */

/* An ARP packet at a (frame length checked by the caller, len bytes). */
static void arp_input(struct net_if *n, const uint8_t *a, size_t len)
{
	const uint8_t *sha = a + 8, *spa = a + 14, *tpa = a + 24;
	bool for_us;
	uint16_t op;

	if (len < ARP_LEN) {
		n->bad++;
		return;
	}
	/* Another hardware or protocol's ARP is fine, just not ours. */
	if (get16(a) != ARP_HTYPE_ETH || get16(a + 2) != NET_ETHERTYPE_IPV4) {
		n->ignored++;
		return;
	}
	if (a[4] != 6 || a[5] != 4 || (sha[0] & 1)) {
		n->bad++;
		return;
	}
	op = get16(a + 6);
	for_us = !memcmp(tpa, n->ip, 4);
	if (op == ARP_OP_REPLY) {
		n->arp_replies_seen++;
		arp_learn(n, spa, sha);
		return;
	}
	if (op != ARP_OP_REQUEST) {
		n->ignored++;       /* RARP and friends */
		return;
	}
	/* RFC 826's merge: update a known sender; add it when it asks us. */
	if (for_us || arp_find(n, spa) >= 0)
		arp_learn(n, spa, sha);
	if (!for_us) {
		n->ignored++;
		return;
	}
	if (!arp_send(n, ARP_OP_REPLY, sha, sha, spa))
		n->arp_requests_answered++;
}

/* An ICMP message of icmp_len bytes from ip[12..16) / eth source. */
static void icmp_input(struct net_if *n, const uint8_t *f, const uint8_t *icmp,
		       size_t icmp_len, bool to_bcast)
{
	const uint8_t *src_ip = f + L3 + 12, *src_mac = f + ETH_SRC;
	uint16_t id, seq;
	size_t plen;

	if (icmp_len < ICMP_HLEN || net_csum_fold(net_csum_add(0, icmp, icmp_len)) != 0xffff) {
		n->bad++;
		return;
	}
	id = get16(icmp + 4);
	seq = get16(icmp + 6);
	plen = icmp_len - ICMP_HLEN;
	if (icmp[0] == ICMP_ECHO && icmp[1] == 0) {
		uint8_t out[NET_FRAME_MAX];

		/* A broadcast ping gets no answer (no amplification), as
		 * Linux's icmp_echo_ignore_broadcasts default. */
		if (to_bcast) {
			n->ignored++;
			return;
		}
		arp_learn(n, src_ip, src_mac);
		memcpy(out + L4, icmp, icmp_len);
		out[L4] = ICMP_ECHO_REPLY;
		if (!icmp_send(n, out, src_mac, src_ip, icmp_len))
			n->echo_requests_answered++;
		return;
	}
	if (icmp[0] == ICMP_ECHO_REPLY && icmp[1] == 0 && n->ping_pending &&
	    id == n->ping_id && seq == n->ping_seq) {
		bool ok = plen == n->ping_len;

		for (size_t i = 0; ok && i < plen; i++)
			ok = icmp[ICMP_HLEN + i] == echo_byte(id, seq, i);
		n->echo_seen = true;
		n->echo_id = id;
		n->echo_seq = seq;
		n->echo_len = plen;
		n->echo_data_ok = ok;
		n->echo_replies_seen++;
		return;
	}
	n->ignored++;               /* another type, or not our ping */
}

static void udp_input(struct net_if *n, const uint8_t *ip, const uint8_t *udp,
		      size_t udp_len)
{
	uint16_t ulen, csum;

	if (udp_len < UDP_HLEN) {
		n->bad++;
		return;
	}
	ulen = get16(udp + 4);
	csum = get16(udp + 6);
	/* The UDP length must be what IP carries: stricter than Linux
	 * (which trims a shorter one), nothing we send differs. */
	if (ulen != udp_len ||
	    (csum && net_csum_fold(net_csum_add(pseudo_sum(ip + 12, ip + 16, ulen),
						udp, ulen)) != 0xffff)) {
		n->bad++;
		return;
	}
	n->udp_rx++;
	if (n->udp)
		n->udp(n, ip + 12, get16(udp), get16(udp + 2), udp + UDP_HLEN,
		       ulen - UDP_HLEN);
}

/* An IPv4 datagram: f is the frame, len its length (>= L3). */
static void ip_input(struct net_if *n, const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + L3;
	uint16_t tot, frag;
	bool to_bcast;

	if (len < L4 || ip[0] >> 4 != 4 || (ip[0] & 15) < 5) {
		n->bad++;
		return;
	}
	/* Options are legal but unused by anything we talk to: ignored. */
	if (ip[0] != IP_VER_IHL) {
		n->ignored++;
		return;
	}
	tot = get16(ip + 2);
	if (net_csum_fold(net_csum_add(0, ip, IP_HLEN)) != 0xffff || tot < IP_HLEN ||
	    tot > len - L3 || !memcmp(ip + 12, bcast_ip, 4)) {
		n->bad++;           /* a broadcast source cannot be answered */
		return;
	}
	frag = get16(ip + 6);
	to_bcast = !memcmp(ip + 16, bcast_ip, 4);
	if ((frag & (IP_FLAG_MF | IP_FRAG_OFFSET)) || (!to_bcast && memcmp(ip + 16, n->ip, 4))) {
		n->ignored++;       /* a fragment, or not for us */
		return;
	}
	/* From here on the datagram is tot bytes: the rest is padding. */
	if (ip[9] == IP_PROTO_ICMP)
		icmp_input(n, f, ip + IP_HLEN, tot - IP_HLEN, to_bcast);
	else if (ip[9] == IP_PROTO_UDP)
		udp_input(n, ip, ip + IP_HLEN, tot - IP_HLEN);
	else
		n->ignored++;
}

void net_input(struct net_if *n, const void *frame, size_t len)
{
	const uint8_t *f = frame;
	uint16_t type;

	n->rx_frames++;
	/* A group address as source is no station's: never answer it. */
	if (len < NET_ETH_HLEN || len > NET_FRAME_MAX || (f[ETH_SRC] & 1)) {
		n->bad++;
		return;
	}
	if (memcmp(f + ETH_DST, n->mac, 6) && memcmp(f + ETH_DST, bcast_mac, 6)) {
		n->ignored++;
		return;
	}
	type = get16(f + ETH_TYPE);
	if (type == NET_ETHERTYPE_ARP)
		arp_input(n, f + L3, len - L3);
	else if (type == NET_ETHERTYPE_IPV4)
		ip_input(n, f, len);
	else
		n->ignored++;       /* VLAN tags (0x8100), IPv6, ... */
}
