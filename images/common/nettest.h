/*
 * The network test both guest images run ("net" on the command line),
 * whatever NIC carries it: the legacy guest's e1000 (images/legacy/nic.c)
 * or the enlightened guest's synthetic NIC (images/enlightened/net.c).
 * The driver brings its NIC up and says what it is through struct
 * nettest_nic; nettest_run() does the rest with the library's IPv4 stack
 * (kernel/lib/net.c):
 *
 *   net ip=N peer=M [bytes=B] [outside=O] [arpwait=MS]
 *     our address 10.0.0.N, the peer 10.0.0.M on the same link; B bytes
 *     (default 16 MiB) of UDP each way; with O, a host 10.0.0.O outside
 *     (beyond the switch's uplink: tests/tools/netpeer) that answers ARP
 *     and pings and echoes UDP port 7
 *   outbytes=X [outwin=W]
 *     after the stream, X bytes echoed by the outside host (netecho.h),
 *     at most W (default 64) datagrams unanswered, each echo checked
 *   stream=0 serve=P
 *     no UDP stream (a peer that does not speak it, such as Linux): after
 *     the pings, answer until the peer has pinged us P times
 *
 * The checks, one TAP result each, every line starting "<kind> net: ":
 * ARP for the peer; 10 pings to the peer with their payloads; the outside
 * host; the UDP stream both ways, in order, nothing missing, crc32 equal;
 * the echo stream to the outside host; then the NIC's own check (its
 * hook). The stream and the echo stream each print a "# bench" line for
 * ./build.sh bench: TSC cycles, the payload bytes moved counting both
 * directions, and the VP's exits when the NIC's hook can count them. At the end both sides wait for
 * each other's "DONE" so that neither stops answering while the other
 * still asks, and a "# net:" summary line follows.
 */
#ifndef GUEST_NETTEST_H
#define GUEST_NETTEST_H

#include <stddef.h>
#include <stdint.h>
#include "net.h"

struct nettest_nic {
	const char *kind;               /* "legacy", "enlightened": the TAP word */
	struct net_if *nif;             /* the driver's; nettest_run initializes it */
	const uint8_t *mac;             /* the NIC's address (may be nif->mac) */
	/* The stack's tx hook (net_if.tx): one frame out, 0 or an error;
	 * may poll while the NIC has no room. */
	int (*send)(void *ctx, const void *frame, size_t len);
	void *ctx;
	/* Every frame received so far into net_input(nif). */
	void (*poll)(void);
	/* Frames `send` queued reach the NIC's other side now (a synthetic
	 * NIC signals the host once for the batch). Called before every
	 * wait for an answer. May be NULL: each send is on its way. */
	void (*flush)(void);
	/* Milliseconds from any fixed point. */
	uint64_t (*ms_now)(void);
	/* Diagnostics after ARP for the peer failed. May be NULL. */
	void (*arp_failed)(void);
	/* The NIC's own TAP check(s), before the final DONE exchange. May
	 * be NULL. */
	void (*final_check)(void);
	/* Waiting for the peer: give the CPU away until an interrupt (the
	 * NIC's or a timer's) may have brought something. NULL: spin. */
	void (*idle)(void);
	/* After the DONE exchange: the NIC quiet again. May be NULL. */
	void (*stop)(void);
	/* This VP's exits so far, timer interrupts not counted (the bench
	 * lines). NULL: the guest cannot ask (the hypervisor's own count at
	 * the partition's end is the figure then). */
	uint64_t (*exits)(void);
};

void nettest_run(const struct nettest_nic *nic);

#endif
