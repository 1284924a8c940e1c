/*
 * A virtual Ethernet switch (the control function's; DESIGN.md): ports,
 * one per child NIC (synthetic or emulated) and at most one uplink to a
 * physical NIC, a learning L2 forwarding table, and flooding of
 * broadcast, multicast and unknown unicast frames to every other port.
 * The same code runs in the root (microkernelized design) and in the
 * hypervisor (monolithic design).
 *
 * Frames are Ethernet II without the FCS: 14 to VSWITCH_FRAME_MAX bytes.
 * Every frame a port sends is guest input: a runt, an oversized frame, a
 * multicast source address, or (on a port with a configured MAC, which
 * every child port has) a source address other than the port's own is
 * refused with VSWITCH_BAD and a log line; the switch keeps working.
 *
 * Nothing the switch accepted is lost: a frame is copied into each
 * destination port's receive queue. When one of those queues has no room
 * the frame is not queued anywhere and the sender gets VSWITCH_BUSY: it
 * keeps the frame (an e1000 does not advance its transmit head, netvsp
 * does not complete the packet) and tries again after vswitch_recv()
 * made room (vswitch_busy_gen() tells it when). So that one port cannot
 * starve the others, a sender may hold at most VSWITCH_SHARE frames of a
 * destination's queue.
 *
 * A port whose device takes nothing for VSWITCH_STALL_NS while its queue
 * is full (a guest that enabled its receiver and never gives it buffers)
 * is stalled, as if its cable were pulled: frames for it are counted in
 * its `stall_drops` and not queued (logged once per stall), so it cannot
 * hold up the other ports' traffic; it is live again at its next
 * vswitch_recv(). "Full" here means it has no room for a frame a sender
 * offers (its queue is full, or that sender's share of it is used up):
 * one sender alone can hold up a dead port with only half its queue, and
 * that must not block the sender forever either. Time is the platform's
 * now_ns(); a sender waiting on a dead port learns of the stall through
 * vswitch_busy_gen(), which notices the stall deadlines that have passed.
 */
#ifndef DRIVERS_VSWITCH_H
#define DRIVERS_VSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "platform.h"

#define VSWITCH_PORTS       16
#define VSWITCH_QUEUE       32          /* frames a port's receive queue holds */
#define VSWITCH_SHARE       (VSWITCH_QUEUE / 2)
#define VSWITCH_TABLE       256         /* learned addresses */
#define VSWITCH_FRAME_MIN   14
#define VSWITCH_FRAME_MAX   1514
#define VSWITCH_AGE_NS      300000000000ull     /* 300 s, as 802.1D */
#define VSWITCH_NAME        16
#define VSWITCH_STALL_NS    1000000000ull       /* 1 s */
#define VSWITCH_FROM_GONE   0xff        /* frame.from once its sender was removed */

enum vswitch_result {
	VSWITCH_SENT = 0,       /* queued for every destination (maybe none) */
	VSWITCH_BUSY = 1,       /* a destination is full: keep it, retry */
	VSWITCH_BAD = -1,       /* refused and logged; nothing queued */
};

struct vswitch_frame {
	uint16_t len;
	uint8_t from;                   /* the sending port, or VSWITCH_FROM_GONE */
	uint8_t data[VSWITCH_FRAME_MAX];
};

struct vswitch_port {
	bool used;
	bool uplink;                    /* a physical NIC: any source address */
	bool has_mac;
	char name[VSWITCH_NAME];
	uint8_t mac[6];
	struct vswitch_frame q[VSWITCH_QUEUE];  /* ring: head, count */
	unsigned head, count;
	uint8_t held[VSWITCH_PORTS];    /* frames of q from each sender; frames
					 * from a removed one are in no held[] */

	uint64_t tx_frames, tx_bytes;   /* accepted from this port */
	uint64_t rx_frames, rx_bytes;   /* handed to this port's device */
	uint64_t bad, busy;             /* refused; told to wait */
	uint64_t full_since_ns;         /* when it last ran out of room: the
					 * stall clock, running while no_room */
	bool no_room;                   /* ran out of room since the last recv */
	bool stalled;
	uint64_t stall_drops;           /* frames not queued while stalled */
};

struct vswitch_entry {
	bool used;
	uint8_t mac[6];
	uint8_t port;
	uint64_t seen_ns;
};

struct vswitch {
	const struct platform *p;
	char name[VSWITCH_NAME];
	struct vswitch_port port[VSWITCH_PORTS];
	struct vswitch_entry table[VSWITCH_TABLE];
	uint64_t gen;                   /* bumped when any queue makes room, a
					 * port is removed or found stalled */
	uint64_t flooded, forwarded, learned, moved, table_full;
	uint64_t filtered;              /* unicast for the sender's own port: dropped */
};

void vswitch_init(struct vswitch *s, const struct platform *p, const char *name);

/* A port named `name` (copied, cut to VSWITCH_NAME - 1). `mac` is the
 * port's configured address (NULL for an uplink, which learns any). The
 * port index, or -1 when the switch is full (or `mac` is a multicast
 * address, which no frame could carry as its source). */
int vswitch_add_port(struct vswitch *s, const char *name, const uint8_t *mac, bool uplink);

/* Child port `port`'s device now uses address `mac` (a NIC whose policy
 * lets the guest change it): the source check follows the port to the
 * new address, and what was learned for the old one on this port is
 * forgotten, so frames for it are flooded, not sent here. 0, or -1
 * (logged, nothing changed) when `port` is not a child port in use,
 * `mac` is multicast or all zeros, or another port is configured with
 * it (a guest may not take over a neighbour's address). */
int vswitch_set_port_mac(struct vswitch *s, unsigned port, const uint8_t *mac);

/* The port is gone (its partition ended): its queue is dropped, the
 * addresses learned on it are forgotten, and senders waiting on it are
 * released (gen is bumped). */
void vswitch_remove_port(struct vswitch *s, unsigned port);

/* Port `from` sends `len` bytes. Learns the source address (also when
 * the answer is VSWITCH_BUSY), then forwards or floods as above; a unicast
 * frame for an address learned on the sender's own port is filtered
 * (dropped, counted, VSWITCH_SENT), never sent back. The 14-byte header
 * is read once, so `frame` may be memory the guest still writes. */
enum vswitch_result vswitch_send(struct vswitch *s, unsigned from, const void *frame,
				 size_t len);

/* Frames waiting for port `port`'s device. */
unsigned vswitch_pending(const struct vswitch *s, unsigned port);

/* The length of the next frame for `port` without taking it (0: none). */
size_t vswitch_peek_len(const struct vswitch *s, unsigned port);

/* Take the next frame for `port` into buf (cap bytes, at least the
 * frame's length: else nothing is taken and 0 returned). Its length, or
 * 0 when there is none. */
size_t vswitch_recv(struct vswitch *s, unsigned port, void *buf, size_t cap);

/* Changes whenever a queue made room, a port went away or a port was
 * found stalled: a sender told VSWITCH_BUSY retries once it differs from
 * the value it saw. Reading it checks the stall deadlines (that is why it
 * takes a non-const switch), so a sender polling it is released from a
 * dead port even when no other port moves. */
uint64_t vswitch_busy_gen(struct vswitch *s);

#endif
