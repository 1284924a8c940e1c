/*
 * A tiny IPv4 stack for the test guests: Ethernet II, ARP (RFC 826),
 * IPv4 without options or fragments (RFC 791), ICMP echo (RFC 792) and
 * UDP (RFC 768) with checksums (RFC 1071). Enough to test reachability
 * and move data, nothing more: no routing (every peer is on the link),
 * no TCP, one interface.
 *
 * Portable (host unit tests and a fuzz target drive net_input): it only
 * sees frames through net_input() and sends them through the `tx` hook.
 * Every received frame is untrusted: a short, malformed, wrongly
 * addressed or badly checksummed one is counted in `bad` (or `ignored`
 * for frames that are fine but not for us) and otherwise changes nothing.
 * Addresses are in network byte order as uint8_t[4]/[6] arrays; ports
 * and lengths in the API are host order.
 */
#ifndef KLIB_NET_H
#define KLIB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_ETH_HLEN    14
#define NET_FRAME_MIN   60      /* without FCS: shorter frames are padded */
#define NET_FRAME_MAX   1514
#define NET_MTU         1500
#define NET_UDP_MAX     (NET_MTU - 20 - 8)      /* payload of one datagram */
#define NET_ICMP_MAX    (NET_MTU - 20 - 8)
#define NET_ARP_ENTRIES 8

#define NET_ETHERTYPE_IPV4 0x0800
#define NET_ETHERTYPE_ARP  0x0806
#define NET_ETHERTYPE_VLAN 0x8100       /* 802.1Q: not handled, ignored */

struct net_if;

/* A UDP datagram for us: source address and port, our port, payload. */
typedef void (*net_udp_fn)(struct net_if *n, const uint8_t src_ip[4], uint16_t sport,
			   uint16_t dport, const void *data, size_t len);

struct net_arp_entry {
	bool used;
	uint8_t ip[4];
	uint8_t mac[6];
};

struct net_if {
	uint8_t mac[6];
	uint8_t ip[4];
	void *ctx;
	/* Send one frame: 0 sent, else an error (the stack counts it in
	 * tx_errors). Frames are NET_FRAME_MIN..NET_FRAME_MAX bytes: the
	 * stack pads short ones with zeros as an Ethernet driver would, so
	 * the hook can hand them to a NIC or a switch as they are. The
	 * frame lives on the sender's stack: copy it before returning. */
	int (*tx)(void *ctx, const void *frame, size_t len);
	net_udp_fn udp;                 /* NULL: datagrams are counted only */

	struct net_arp_entry arp[NET_ARP_ENTRIES];
	unsigned arp_next;              /* replacement slot */
	uint16_t ip_id;                 /* of the next IPv4 datagram we send */

	/* The echo request net_ping sent last (ping_pending once sent). */
	bool ping_pending;
	uint16_t ping_id, ping_seq;
	size_t ping_len;

	/* The last echo reply that matched one of our requests. */
	bool echo_seen;
	uint16_t echo_id, echo_seq;
	size_t echo_len;
	bool echo_data_ok;              /* its payload was what we sent */

	/* Every net_input call is in rx_frames; *_answered and udp_tx
	 * count frames the tx hook took; echo_replies_seen only replies
	 * that matched our ping (the others are `ignored`). */
	uint64_t rx_frames, tx_frames, tx_errors;
	uint64_t arp_requests_answered, arp_replies_seen;
	uint64_t echo_requests_answered, echo_replies_seen;
	uint64_t udp_rx, udp_tx;
	uint64_t bad, ignored;
};

/* Clears *n, then sets addresses and the tx hook (mac and ip may point
 * into *n itself). Set n->udp afterwards. */
void net_init(struct net_if *n, const uint8_t mac[6], const uint8_t ip[4],
	      int (*tx)(void *ctx, const void *frame, size_t len), void *ctx);

/* One received frame (without FCS). Answers ARP requests and echo
 * requests for our address, learns from ARP replies and requests, hands
 * UDP to n->udp. Frames longer than NET_FRAME_MAX are bad. The callback
 * may send (net_udp_send, net_ping); the tx hook must not call
 * net_input of the same interface from inside itself. */
void net_input(struct net_if *n, const void *frame, size_t len);

/* The MAC address of `ip` when known (true; mac may be NULL). */
bool net_arp_lookup(const struct net_if *n, const uint8_t ip[4], uint8_t mac[6]);

/* Broadcast an ARP request for `ip`. 0, or the tx hook's error. */
int net_arp_request(struct net_if *n, const uint8_t ip[4]);

/* An ICMP echo request to `ip` (its MAC must be known: -1 otherwise)
 * with `len` bytes of payload (at most NET_ICMP_MAX: -1 otherwise), a
 * pattern derived from id and seq that the reply is checked against:
 * byte i is (uint8_t)(seq * 7 + id + i). Clears echo_seen. 0, -1, or
 * the tx hook's error. */
int net_ping(struct net_if *n, const uint8_t ip[4], uint16_t id, uint16_t seq, size_t len);

/* One UDP datagram (len <= NET_UDP_MAX) to ip:dport (MAC must be known,
 * or ip is 255.255.255.255 for a broadcast). 0, -1 (too long, or no
 * MAC), or the tx hook's error. */
int net_udp_send(struct net_if *n, const uint8_t ip[4], uint16_t sport, uint16_t dport,
		 const void *data, size_t len);

/* The Internet checksum (RFC 1071). net_csum_add adds `len` bytes (any
 * alignment) as big-endian 16-bit words to the partial sum `sum` and
 * returns the new partial sum (not folded); an odd last byte counts as
 * the high half of a word, so every chunk but the last must have an even
 * length. net_csum_fold folds a partial sum to 16 bits with end-around
 * carry, not inverted: a checksum field holds ~net_csum_fold(), and a
 * received header with its checksum is valid when it folds to 0xffff. */
uint32_t net_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t net_csum_fold(uint32_t sum);

#endif
