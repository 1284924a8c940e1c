/*
 * The echo stream (see netecho.h).
 */
#include <string.h>
#include "netecho.h"

/* Payload bytes of datagram `seq`: full ones, then what is left. */
static size_t seq_len(const struct net_echo *e, uint32_t seq)
{
	uint64_t off = (uint64_t)seq * e->dgram;

	if (off >= e->bytes)
		return 0;
	return e->bytes - off < e->dgram ? (size_t)(e->bytes - off) : e->dgram;
}

void net_echo_fill(uint32_t seq, uint32_t salt, void *buf, size_t len)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * ((uint64_t)seq + 1) ^ salt;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (len - i >= 8)
			__builtin_memcpy(p + i, &x, 8);   /* a store, not a call */
		else
			memcpy(p + i, &x, len - i);
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

void net_echo_init(struct net_echo *e, struct net_if *nif, const uint8_t dst[4],
		   uint16_t lport, uint64_t bytes, size_t dgram, unsigned window,
		   uint32_t salt)
{
	memset(e, 0, sizeof(*e));
	e->nif = nif;
	memcpy(e->dst, dst, 4);
	e->lport = lport;
	e->bytes = bytes;
	e->dgram = dgram && dgram <= NET_UDP_MAX - 4 ? dgram : NET_UDP_MAX - 4;
	e->window = window ? window : 1;
	e->salt = salt;
}

int net_echo_pump(struct net_echo *e)
{
	uint8_t d[NET_UDP_MAX];
	int sent = 0;

	while (e->next_tx - e->next_rx < e->window) {
		size_t n = seq_len(e, e->next_tx);

		if (!n)
			break;
		put32(d, e->next_tx);
		net_echo_fill(e->next_tx, e->salt, d + 4, n);
		if (net_udp_send(e->nif, e->dst, e->lport, NET_ECHO_PORT, d, n + 4)) {
			e->send_errors++;
			return -1;
		}
		e->next_tx++;
		e->datagrams_sent++;
		sent++;
	}
	return sent;
}

bool net_echo_input(struct net_echo *e, const uint8_t src[4], uint16_t sport,
		    uint16_t dport, const void *data, size_t len)
{
	uint8_t want[NET_UDP_MAX];
	const uint8_t *d = data;
	uint32_t seq;
	size_t n;

	if (memcmp(src, e->dst, 4) || sport != NET_ECHO_PORT || dport != e->lport)
		return false;
	if (len < 4) {
		e->bad++;
		return true;
	}
	seq = get32(d);
	if ((int32_t)(seq - e->next_rx) < 0) {
		e->dups++;              /* a resend's echo, or the host's double */
		return true;
	}
	if ((int32_t)(seq - e->next_tx) >= 0) {
		e->bad++;               /* an echo of something never sent */
		return true;
	}
	if (seq != e->next_rx) {
		e->gaps++;              /* one before it is missing: resend fixes it */
		return true;
	}
	n = seq_len(e, seq);
	net_echo_fill(seq, e->salt, want, n);
	if (len != n + 4 || memcmp(d + 4, want, n)) {
		e->bad++;
		return true;
	}
	e->next_rx++;
	e->echoed += n;
	return true;
}

void net_echo_resend(struct net_echo *e)
{
	if (e->next_tx != e->next_rx)
		e->resends += e->next_tx - e->next_rx;
	e->next_tx = e->next_rx;
}
