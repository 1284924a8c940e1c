/*
 * An echo stream over the tiny IPv4 stack (net.h): `bytes` of UDP to a
 * host that echoes port 7 (tests/tools/netpeer), at most `window`
 * datagrams unanswered, each echo checked byte for byte. The network
 * bench's guest-to-outside figure (images/common/nettest.c) and the
 * root's native one on the same NIC (kernel/netbench.c) are both this
 * code, so they move the same traffic.
 *
 * Datagram: a 4-byte little-endian sequence number, then a pattern
 * derived from it and `salt`. Echoes come back in order over a working
 * link; one that is missing (a host socket dropped it) is sent again
 * go-back-N by net_echo_resend, which the caller calls after a quiet
 * spell. Echoes of a sequence already taken are counted and ignored; a
 * wrong payload is counted in `bad` and never taken.
 *
 * Portable: the caller owns the clock and the NIC, and hands every UDP
 * datagram its stack receives to net_echo_input.
 */
#ifndef KLIB_NETECHO_H
#define KLIB_NETECHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "net.h"

#define NET_ECHO_PORT   7

struct net_echo {
	struct net_if *nif;
	uint8_t dst[4];
	uint16_t lport;                 /* our port; the host's is 7 */
	uint64_t bytes;                 /* payload to have echoed, in total */
	size_t dgram;                   /* payload per datagram, <= NET_UDP_MAX */
	unsigned window;                /* datagrams unanswered, at most */
	uint32_t salt;

	uint32_t next_tx, next_rx;      /* sequence numbers */
	uint64_t echoed;                /* payload bytes back and checked */
	uint64_t datagrams_sent, resends, dups, gaps, bad, send_errors;
};

/* The payload pattern of datagram `seq`: xorshift64 from seq and salt,
 * eight bytes a step (the network test's stream uses it too). */
void net_echo_fill(uint32_t seq, uint32_t salt, void *buf, size_t len);

/* Set up; nothing is sent yet. dgram 0 means NET_UDP_MAX. */
void net_echo_init(struct net_echo *e, struct net_if *nif, const uint8_t dst[4],
		   uint16_t lport, uint64_t bytes, size_t dgram, unsigned window,
		   uint32_t salt);

/* Send what the window allows: the number sent, or -1 when the stack
 * refused one (it is sent again on the next call). */
int net_echo_pump(struct net_echo *e);

/* A UDP datagram the stack received: true when it was for this stream
 * (taken, or counted as a duplicate, gap or bad echo). */
bool net_echo_input(struct net_echo *e, const uint8_t src[4], uint16_t sport,
		    uint16_t dport, const void *data, size_t len);

/* Nothing came back for a while: send again from the first missing one. */
void net_echo_resend(struct net_echo *e);

static inline bool net_echo_done(const struct net_echo *e)
{
	return e->echoed >= e->bytes;
}

#endif
