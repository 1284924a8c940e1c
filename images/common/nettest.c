/*
 * The network test's protocol (see nettest.h): ARP, pings, the outside
 * host, the UDP stream each way with END/DONE, the serve mode. Nothing
 * here knows which NIC carries the frames; the TAP lines name it by the
 * driver's kind word.
 *
 * Stream datagrams: a 4-byte sequence number and a pattern (xorshift of
 * the sequence number and our address), STREAM_PORT to STREAM_PORT; then
 * "END " with our crc32 and byte count on CTRL_PORT. "DONE" on CTRL_PORT
 * says we stop asking.
 */
#include <string.h>
#include "guest.h"
#include "nettest.h"
#include "netecho.h"
#include "crc32.h"

#define NIC_IRQ_BUDGET 5000             /* ms to wait for one answer */
#define STREAM_PORT   5001
#define CTRL_PORT     5000
#define ECHO_PORT     7
#define ECHO_LOCAL    5007
#define ECHO_COUNT    100
#define ECHO_STREAM_PORT 5008
#define ECHO_QUIET_MS 200           /* no echo for this long: resend */

static const struct nettest_nic *nic;
static struct net_if *nif;
static uint8_t peer_ip[4] = { 10, 0, 0, 0 };
static uint8_t outside_ip[4] = { 10, 0, 0, 0 };
static unsigned echo_ok, echo_bad;
static uint32_t echo_want;
static uint64_t stream_bytes;
static struct net_echo echo_stream;
static bool echo_stream_on;
static struct {
	uint32_t next_seq, crc, out_of_order;
	uint64_t bytes;
	bool end_seen;
	uint32_t end_crc;
	uint64_t end_bytes;
	bool peer_done, peer_ready;
} in;

/* Eight bytes a step: the test moves data, it should not spend its
 * time making it. */
static void stream_payload(uint32_t seq, uint8_t *p, size_t len)
{
	net_echo_fill(seq, nif->ip[3], p, len);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void udp_in(struct net_if *n, const uint8_t src[4], uint16_t sport, uint16_t dport,
		   const void *data, size_t len)
{
	const uint8_t *d = data;

	if (echo_stream_on && net_echo_input(&echo_stream, src, sport, dport, data, len))
		return;
	if (!memcmp(src, outside_ip, 4) && sport == ECHO_PORT && dport == ECHO_LOCAL) {
		uint8_t want[NET_UDP_MAX];

		if (len >= 4 && len <= sizeof(want) && get32(d) == echo_want) {
			stream_payload(echo_want + 1000000, want, len - 4);
			if (!memcmp(d + 4, want, len - 4))
				echo_ok++;
			else
				echo_bad++;
			echo_want = ~0u;
		}
		return;
	}
	if (memcmp(src, peer_ip, 4))
		return;
	if (dport == STREAM_PORT && len >= 4) {
		uint32_t seq = get32(d);

		if (seq != in.next_seq)
			in.out_of_order++;
		in.next_seq = seq + 1;
		in.crc = crc32_sliced(in.crc, d + 4, len - 4);
		in.bytes += len - 4;
	} else if (dport == CTRL_PORT && len == 16 && !memcmp(d, "END ", 4)) {
		in.end_seen = true;
		in.end_crc = get32(d + 4);
		in.end_bytes = (uint64_t)get32(d + 8) | (uint64_t)get32(d + 12) << 32;
	} else if (dport == CTRL_PORT && len == 4 && !memcmp(d, "DONE", 4)) {
		in.peer_done = true;
	} else if (dport == CTRL_PORT && len == 4 && !memcmp(d, "RDY ", 4)) {
		in.peer_ready = true;
	}
}

/* ---- waiting ----------------------------------------------------------------- */

/* Poll for `ms` or until done() says so. */
static bool wait_for(bool (*done)(void), uint64_t ms)
{
	uint64_t end = nic->ms_now() + ms;

	if (nic->flush)
		nic->flush();
	while (nic->ms_now() < end) {
		nic->poll();
		if (done())
			return true;
		if (nic->idle)
			nic->idle();
		else
			cpu_relax();
	}
	return done();
}

static bool arp_known(void)
{
	uint8_t mac[6];

	return net_arp_lookup(nif, peer_ip, mac);
}

static bool echo_back(void)
{
	return nif->echo_seen;
}

static bool stream_ended(void)
{
	return in.end_seen;
}

static bool peer_done(void)
{
	return in.peer_done;
}

static bool peer_ready(void)
{
	return in.peer_ready;
}

static bool outside_known(void)
{
	uint8_t mac[6];

	return net_arp_lookup(nif, outside_ip, mac);
}

static bool echo_came(void)
{
	return echo_want == ~0u;
}

/* ---- the checks -------------------------------------------------------------- */

/* The host beyond the uplink: ARP, 5 pings, ECHO_COUNT UDP echoes of
 * growing sizes, each checked byte for byte. */
static void check_outside(void)
{
	uint8_t dgram[NET_UDP_MAX];
	uint64_t t0 = nic->ms_now(), arp_ms;
	unsigned pings = 0;

	while (!outside_known() && nic->ms_now() - t0 < 20000) {
		net_arp_request(nif, outside_ip);
		wait_for(outside_known, 100);
	}
	arp_ms = nic->ms_now() - t0;
	for (uint16_t s = 1; outside_known() && s <= 5; s++) {
		net_ping(nif, outside_ip, 0x4321, s, 64 * s);
		if (wait_for(echo_back, NIC_IRQ_BUDGET) && nif->echo_data_ok && nif->echo_seq == s)
			pings++;
	}
	for (uint32_t i = 0; outside_known() && i < ECHO_COUNT; i++) {
		size_t n = 4 + (i * 97) % (NET_UDP_MAX - 4);

		echo_want = i;
		put32(dgram, i);
		stream_payload(i + 1000000, dgram + 4, n - 4);
		if (net_udp_send(nif, outside_ip, ECHO_LOCAL, ECHO_PORT, dgram, n))
			break;
		wait_for(echo_came, NIC_IRQ_BUDGET);
	}
	tap_result(outside_known() && pings == 5 && echo_ok == ECHO_COUNT && !echo_bad,
		   "%s net: the outside host 10.0.0.%u (ARP %s in %lu ms) answered %u of "
		   "5 pings and echoed %u of %u UDP datagrams intact (%u wrong)", nic->kind,
		   outside_ip[3], outside_known() ? "resolved" : "not resolved", arp_ms, pings,
		   echo_ok, ECHO_COUNT, echo_bad);
}

/* ARP: ask every 100 ms; the peer may still be booting. */
static bool check_arp(void)
{
	uint64_t t0 = nic->ms_now();

	while (!arp_known() &&
	       nic->ms_now() - t0 < cmdline_u64(boot.cmdline, "arpwait=", 20000)) {
		net_arp_request(nif, peer_ip);
		wait_for(arp_known, 100);
	}
	tap_result(arp_known(), "%s net: ARP resolves the peer 10.0.0.%u (%lu ms; "
		   "%lu requests of the peer answered)", nic->kind, peer_ip[3],
		   nic->ms_now() - t0, nif->arp_requests_answered);
	if (!arp_known() && nic->arp_failed)
		nic->arp_failed();
	return arp_known();
}

static void check_pings(void)
{
	unsigned pings_ok = 0;

	for (uint16_t s = 1; s <= 10; s++) {
		net_ping(nif, peer_ip, 0x1234, s, 56 + 100 * s);
		if (wait_for(echo_back, NIC_IRQ_BUDGET) && nif->echo_data_ok &&
		    nif->echo_seq == s)
			pings_ok++;
	}
	tap_result(pings_ok == 10, "%s net: 10 pings of 10.0.0.%u answered with "
		   "their payloads (156-1056 bytes): %u ok; we answered %lu of the peer's",
		   nic->kind, peer_ip[3], pings_ok, nif->echo_requests_answered);
}

/* No stream: answer until the peer has pinged us `want` times. */
static void check_serve(uint64_t want)
{
	uint64_t t0 = nic->ms_now();

	while (nif->echo_requests_answered < want && nic->ms_now() - t0 < 240000)
		wait_for(echo_back, 100);
	tap_result(nif->echo_requests_answered >= want, "%s net: the peer pinged us "
		   "%lu times (want %lu) in %lu ms", nic->kind, nif->echo_requests_answered,
		   want, nic->ms_now() - t0);
}

static void send_ctrl(const void *msg, size_t len)
{
	net_udp_send(nif, peer_ip, CTRL_PORT, CTRL_PORT, msg, len);
}

/* One "# bench" line: cycles, bytes moved, and exits when we can ask. */
static void bench_line(const char *name, uint64_t cycles, uint64_t bytes, uint64_t exits0)
{
	if (nic->exits)
		kprint("# bench %s %lu cycles bytes=%lu exits=%lu", name, cycles, bytes,
		       nic->exits() - exits0);
	else
		kprint("# bench %s %lu cycles bytes=%lu", name, cycles, bytes);
}

/* The stream, both ways at once: each datagram a sequence number and
 * the pattern; then END with the byte count and crc32. */
static void check_stream(void)
{
	uint8_t dgram[NET_UDP_MAX];
	uint8_t end[16] = "END ";
	uint32_t seq = 0, out_crc = 0;
	uint64_t sent = 0, t0, x0, c0;

	/* Both sides start within a round trip of each other, so the
	 * time each measures is the exchange's, not the other's late start. */
	for (t0 = nic->ms_now(); !in.peer_ready && nic->ms_now() - t0 < 60000;) {
		send_ctrl("RDY ", 4);
		wait_for(peer_ready, 10);
	}
	send_ctrl("RDY ", 4);
	t0 = nic->ms_now();
	x0 = nic->exits ? nic->exits() : 0;
	c0 = guest_tsc();

	while (sent < stream_bytes) {
		size_t n = stream_bytes - sent < NET_UDP_MAX - 4 ? stream_bytes - sent :
								   NET_UDP_MAX - 4;

		put32(dgram, seq);
		stream_payload(seq, dgram + 4, n);
		out_crc = crc32_sliced(out_crc, dgram + 4, n);
		if (net_udp_send(nif, peer_ip, STREAM_PORT, STREAM_PORT, dgram, n + 4))
			break;
		seq++;
		sent += n;
		nic->poll();
	}
	put32(end + 4, out_crc);
	put32(end + 8, (uint32_t)sent);
	put32(end + 12, (uint32_t)(sent >> 32));
	send_ctrl(end, sizeof(end));
	wait_for(stream_ended, 120000);
	if (stream_ended())
		bench_line("net_pair_cycles", guest_tsc() - c0, sent + in.bytes, x0);
	tap_result(in.end_seen && in.end_bytes == in.bytes && in.end_crc == in.crc &&
		   !in.out_of_order && in.bytes == stream_bytes && sent == stream_bytes,
		   "%s net: UDP each way, in order and complete: sent %lu bytes (%u "
		   "datagrams, crc32 %08x), got %lu (%u, crc32 %08x) as the peer's END "
		   "says; %u out of order; %lu ms", nic->kind, sent, seq, out_crc, in.bytes,
		   in.next_seq, in.crc, in.out_of_order, nic->ms_now() - t0);
}

/* The echo stream to the outside host: what the bench calls guest to
 * peer; the root runs the same stream natively (kernel/netbench.c). */
static void check_echo_stream(uint64_t bytes)
{
	unsigned window = (unsigned)cmdline_u64(boot.cmdline, "outwin=", 64);
	uint64_t t0 = nic->ms_now(), quiet = t0, got = 0;
	uint64_t x0 = nic->exits ? nic->exits() : 0, c0 = guest_tsc();
	struct net_echo *e = &echo_stream;

	net_echo_init(e, nif, outside_ip, ECHO_STREAM_PORT, bytes, 0, window, nif->ip[3]);
	echo_stream_on = true;
	while (!net_echo_done(e) && nic->ms_now() - t0 < 120000) {
		if (net_echo_pump(e) && nic->flush)
			nic->flush();
		nic->poll();
		if (e->echoed != got) {
			got = e->echoed;
			quiet = nic->ms_now();
		} else if (nic->ms_now() - quiet > ECHO_QUIET_MS) {
			net_echo_resend(e);
			quiet = nic->ms_now();
		} else if (e->next_tx - e->next_rx == e->window && nic->idle) {
			nic->idle();    /* the window is full: the next echo wakes us */
		}
	}
	if (net_echo_done(e))
		bench_line("net_out_cycles", guest_tsc() - c0, 2 * e->echoed, x0);
	echo_stream_on = false;
	tap_result(net_echo_done(e) && !e->bad,
		   "%s net: %lu bytes to the outside host and back, every echo checked "
		   "(%lu datagrams, window %u; %lu resent, %lu duplicates, %lu gaps, %lu "
		   "bad, %lu refused by the NIC); %lu ms", nic->kind, e->echoed,
		   e->datagrams_sent, window, e->resends, e->dups, e->gaps, e->bad,
		   e->send_errors, nic->ms_now() - t0);
}

void nettest_run(const struct nettest_nic *n)
{
	uint8_t ip[4] = { 10, 0, 0, 0 };
	bool stream = cmdline_u64(boot.cmdline, "stream=", 1);

	nic = n;
	nif = n->nif;
	ip[3] = (uint8_t)cmdline_u64(boot.cmdline, "ip=", 1);
	peer_ip[3] = (uint8_t)cmdline_u64(boot.cmdline, "peer=", 2);
	stream_bytes = cmdline_u64(boot.cmdline, "bytes=", 16 * MiB);
	outside_ip[3] = (uint8_t)cmdline_u64(boot.cmdline, "outside=", 0);
	net_init(nif, n->mac, ip, n->send, n->ctx);
	nif->udp = udp_in;

	if (!check_arp())
		return;
	check_pings();
	if (outside_ip[3])
		check_outside();
	if (stream)
		check_stream();
	else
		check_serve(cmdline_u64(boot.cmdline, "serve=", 0));
	if (outside_ip[3] && cmdline_u64(boot.cmdline, "outbytes=", 0))
		check_echo_stream(cmdline_u64(boot.cmdline, "outbytes=", 0));
	if (n->final_check)
		n->final_check();

	/* Keep answering until the peer is done too. */
	for (unsigned i = 0; stream_bytes && stream && i < 50 && !in.peer_done; i++) {
		send_ctrl("DONE", 4);
		wait_for(peer_done, 200);
	}
	send_ctrl("DONE", 4);
	wait_for(peer_done, 500);
	if (n->stop)
		n->stop();
	kprint("# net: %lu frames in, %lu out, %lu bad, %lu ignored; peer done: %s",
	       nif->rx_frames, nif->tx_frames, nif->bad, nif->ignored,
	       in.peer_done ? "yes" : "no");
}
