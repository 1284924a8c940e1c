/*
 * "netbench=BYTES" on the root's command line: the machine's NIC to the
 * outside host (tests/tools/netpeer, 10.0.0.254 beyond QEMU's -netdev)
 * from the root itself, before any child runs: the physical limit the
 * bench sets the children's guest-to-peer figure against. The traffic is
 * the children's own (kernel/lib/netecho.c, the stream nettest runs):
 * BYTES echoed, at most "netwin=" (64) datagrams unanswered, every echo
 * checked. The root polls the NIC as fast as it can; nothing else runs.
 * It takes the address 10.0.0.250 and the NIC's MAC, and leaves the NIC
 * for the config's switch uplink afterwards (frames still in flight then
 * reach the switch, which drops what it cannot deliver as unknown).
 */
#include <string.h>
#include "root.h"
#include "partsvc.h"
#include "net.h"
#include "netecho.h"
#include "x86/tsc.h"

#define ROOT_IP         250
#define PEER_IP         254
#define LOCAL_PORT      5009
#define QUIET_MS        200
#define LIMIT_MS        120000

static const struct phys_nic *nic;
static struct net_if nif;
static struct net_echo stream;
static uint64_t not_ours;

static int tx(void *ctx, const void *frame, size_t len)
{
	int r;

	/* A full transmit ring empties by itself: the device works on. */
	for (unsigned tries = 0; (r = nic->send(nic->ctx, frame, len)) == 1 && tries < 1000000;
	     tries++)
		__asm__ volatile("pause");
	return r;
}

static void udp(struct net_if *n, const uint8_t src[4], uint16_t sport, uint16_t dport,
		const void *data, size_t len)
{
	if (!net_echo_input(&stream, src, sport, dport, data, len))
		not_ours++;
}

static void poll(void)
{
	static uint8_t frame[NET_FRAME_MAX + 4];
	size_t len;

	for (unsigned i = 0; i < 64 && (len = nic->recv(nic->ctx, frame, sizeof(frame))); i++)
		net_input(&nif, frame, len);
}

static uint64_t ms_now(void)
{
	return rdtsc() / tsc_khz();
}

void net_bench(void)
{
	uint64_t bytes = cmdline_u64(boot.cmdline, "netbench=", 0);
	unsigned window = (unsigned)cmdline_u64(boot.cmdline, "netwin=", 64);
	uint8_t ip[4] = { 10, 0, 0, ROOT_IP }, peer[4] = { 10, 0, 0, PEER_IP };
	uint64_t t0, quiet, got = 0, c0, cycles = 0;
	const char *why = "";

	nic = root_phys_nic(&why);
	if (!nic) {
		tap_result(false, "root netbench: the NIC to the outside host (none: %s)", why);
		return;
	}
	net_init(&nif, nic->mac, ip, tx, NULL);
	nif.udp = udp;
	t0 = ms_now();
	while (!net_arp_lookup(&nif, peer, NULL) && ms_now() - t0 < 20000) {
		net_arp_request(&nif, peer);
		for (uint64_t t = ms_now(); ms_now() - t < 100 && !net_arp_lookup(&nif, peer, NULL);)
			poll();
	}
	if (!net_arp_lookup(&nif, peer, NULL)) {
		tap_result(false, "root netbench: no ARP answer from 10.0.0.%u in %lu ms", PEER_IP,
			   ms_now() - t0);
		return;
	}
	net_echo_init(&stream, &nif, peer, LOCAL_PORT, bytes, 0, window, ROOT_IP);
	t0 = quiet = ms_now();
	c0 = rdtsc();
	while (!net_echo_done(&stream) && ms_now() - t0 < LIMIT_MS) {
		net_echo_pump(&stream);
		poll();
		if (stream.echoed != got) {
			got = stream.echoed;
			quiet = ms_now();
		} else if (ms_now() - quiet > QUIET_MS) {
			net_echo_resend(&stream);
			quiet = ms_now();
		}
	}
	if (net_echo_done(&stream)) {
		cycles = rdtsc() - c0;
		klog("# bench native_net_cycles %lu cycles bytes=%lu", cycles, 2 * stream.echoed);
	}
	tap_result(net_echo_done(&stream) && !stream.bad,
		   "root netbench: %lu bytes to the outside host and back from the root's own "
		   "NIC, every echo checked (%lu datagrams, window %u; %lu resent, %lu "
		   "duplicates, %lu gaps, %lu bad, %lu send errors); %lu ms", stream.echoed,
		   stream.datagrams_sent, window, stream.resends, stream.dups, stream.gaps,
		   stream.bad, stream.send_errors, ms_now() - t0);
}
