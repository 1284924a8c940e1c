/*
 * netvsp: the network VSP, the host side of NVSP and RNDIS
 * (include/isovisor/nvsp.h) for one channel: one synthetic NIC with a
 * configured MAC, a port of the virtual switch. The guest may ask for
 * another address (RNDIS "NetworkAddress"); that is refused unless the
 * caller allowed it (netvsp_allow_mac_change) and the switch moved the
 * port. Transport-agnostic like
 * storvsp: the caller attaches the two ring views when the guest opens
 * the channel, calls netvsp_poll() whenever the guest signals it, hands
 * it frames from the switch with netvsp_receive(), and supplies guest
 * memory access, the event back to the guest, GPADL lookups, the switch
 * and a log through struct netvsp_ops.
 *
 * Rings: `in` is the guest->host ring, read by us; `out` the
 * host->guest ring, written by us (either may be a page-vector view).
 *
 * Buffers: the guest hands over a receive buffer and a send buffer, each
 * a GPADL of the channel. netvsp keeps only their handles and looks the
 * pfn list up (ops->gpadl) each time it uses one, so a GPADL the guest
 * tears down is simply gone, never a dangling pointer. The receive
 * buffer is cut into NETVSP_CHUNK_SIZE chunks (one section of
 * sub-allocations, as Hyper-V does); each RNDIS message for the guest
 * (a frame, a control reply, a status indication) takes one chunk until
 * the guest completes its transfer-page packet.
 *
 * Everything the guest sends is copied into the struct before it is
 * parsed: the ring packet into pkt_words, the RNDIS message(s) of a
 * SEND_RNDIS_PKT (from its send buffer section and/or its GPA direct
 * page ranges) into msg, page by page through the copy callbacks. A
 * struct netvsp is large (see NETVSP_MAX_MSG): static or pooled, never
 * on a stack.
 *
 * Not thread-safe: every call for one netvsp comes from one context.
 */
#ifndef VMBUS_NETVSP_H
#define VMBUS_NETVSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isovisor/nvsp.h>
#include "ring.h"

/* Receive buffer chunk (a sub-allocation): an RNDIS_MSG_PACKET header
 * and a 1514-byte frame fit; Linux copies at most this many bytes per
 * range (its recv_section_size). Hyper-V's value. */
#define NETVSP_CHUNK_SIZE       1728u
/* Chunks used at most, whatever the buffer's size (Linux's default 16
 * MiB buffer would make 9709): announced as num_sub_allocs. */
#define NETVSP_MAX_CHUNKS       4096u
/* Chunks a received frame never takes, so control replies always find
 * one (Linux has one control request outstanding at a time). */
#define NETVSP_CTRL_RESERVE     2u
/* Send buffer section, as Hyper-V: a frame with its RNDIS header fits. */
#define NETVSP_SEND_SECTION     6144u
/* Largest RNDIS message (or batch) a SEND_RNDIS_PKT may carry: our copy
 * buffer, announced as max_xfer_size in RNDIS_MSG_INIT_C. */
#define NETVSP_MAX_MSG          0x4000u
/* Longest packet netvsc sends: a GPA direct head with up to 32 page
 * ranges (MAX_PAGE_BUFFER_COUNT), some spanning pages, and the 40-byte
 * nvsp_message. Anything longer is not a netvsc packet. */
#define NETVSP_MAX_PACKET       2048u
/* Control replies waiting for a chunk or for ring room; a full queue
 * makes the guest wait (its packets stay in the ring). */
#define NETVSP_REPLY_SLOTS      8u
#define NETVSP_REPLY_MAX        256u
/* Ethernet frames without FCS, as the switch carries them. */
#define NETVSP_FRAME_MIN        14u
#define NETVSP_FRAME_MAX        1514u
#define NETVSP_MTU              1500u
/* Multicast addresses the guest may list (OID_802_3_MAXIMUM_LIST_SIZE);
 * a longer list is refused with RNDIS_STATUS_MULTICAST_FULL. */
#define NETVSP_MCAST_MAX        32u
/* RNDIS_OID_GEN_LINK_SPEED, in units of 100 bit/s: 10 Gbit/s. */
#define NETVSP_LINK_SPEED       100000000u

/* Packets one netvsp_poll() takes off the guest->host ring at most. */
#define NETVSP_POLL_BUDGET      64u

/* netvsp_poll(): done until the guest signals, or call again soon. */
#define NETVSP_POLL_DONE        0
#define NETVSP_POLL_MORE        1

/* ops->tx results (the virtual switch's). */
#define NETVSP_TX_SENT          0
#define NETVSP_TX_BUSY          1
#define NETVSP_TX_REFUSED       (-1)

struct netvsp_ops {
	/* Copy guest physical bytes [gpa, gpa + len) (never crossing a page)
	 * in or out: 0, or -1 when the page is not the guest's. */
	int (*copy_from_guest)(void *ctx, uint64_t gpa, void *buf, uint32_t len);
	int (*copy_to_guest)(void *ctx, uint64_t gpa, const void *buf,
			     uint32_t len);
	/* Raise the channel's event in the guest. */
	void (*signal_guest)(void *ctx);
	/* One log line, no newline, "netvsp: " prefixed. May be NULL. */
	void (*log)(void *ctx, const char *line);
	/* A READY GPADL of this channel: its pfns (host memory, valid until
	 * the next call into the VMBus server) and how many; false when
	 * there is none by that handle. */
	bool (*gpadl)(void *ctx, uint32_t handle, const uint64_t **pfns,
		      uint32_t *npfns);
	/* A frame from the guest (NETVSP_FRAME_MIN..MAX bytes, in netvsp's
	 * memory) for the switch: NETVSP_TX_SENT, NETVSP_TX_BUSY (not taken:
	 * netvsp keeps the guest's packet uncompleted and offers the frame
	 * again at the next poll) or NETVSP_TX_REFUSED (dropped: the guest's
	 * packet completes all the same, as a NIC's would). */
	int (*tx)(void *ctx, const void *frame, size_t len);
};

/* The guest's new unicast address, already validated, for the switch
 * (ctx is the ops' ctx): 0 when its port now carries frames from `mac`
 * and no longer from the old one, -1 refused. */
typedef int netvsp_set_mac_fn(void *ctx, const uint8_t mac[6]);

struct netvsp_stats {
	uint64_t packets;               /* taken off the guest->host ring */
	uint64_t rndis_msgs;            /* RNDIS messages from the guest */
	uint64_t tx_frames, tx_bytes;   /* frames the switch took */
	uint64_t tx_busy;               /* times the switch said busy */
	uint64_t tx_refused;            /* frames the switch refused */
	uint64_t tx_dropped;            /* bad length, VLAN tag, not initialized */
	uint64_t rx_frames, rx_bytes;   /* frames put in the receive buffer */
	uint64_t rx_filtered;           /* not for us by the packet filter */
	uint64_t rx_dropped;            /* bad length, link down, foreign page */
	uint64_t rx_no_chunk;           /* netvsp_receive: no free chunk */
	uint64_t rx_ring_full;          /* netvsp_receive: no ring room */
	uint64_t replies;               /* RNDIS control replies sent */
	uint64_t indications;           /* RNDIS status indications sent */
	uint64_t rejected;              /* malformed or unsupported requests */
	uint64_t guest_faults;          /* pages the guest did not own */
	uint64_t ring_full;             /* a completion waited for room */
	uint64_t signals;               /* events raised in the guest */
	uint64_t budget_stops;          /* polls that returned NETVSP_POLL_MORE */
	uint64_t mac_changes;           /* NetworkAddress SETs carried out */
};

enum netvsp_state {
	NETVSP_DETACHED,                /* no channel open */
	NETVSP_WAIT_INIT,               /* no NVSP version agreed yet */
	NETVSP_READY,                   /* version agreed */
	NETVSP_CLOSED,                  /* the channel must go (until attach) */
};

enum netvsp_rndis_state {
	NETVSP_RNDIS_UNINITIALIZED,     /* before RNDIS_MSG_INIT, after HALT */
	NETVSP_RNDIS_INITIALIZED,       /* receives once the filter is set */
};

/* A guest buffer: a GPADL handle and its geometry when announced. */
struct netvsp_buffer {
	bool present;
	uint16_t id;                    /* the guest's (xfer_pageset_id) */
	uint32_t gpadl;
	uint32_t bytes;                 /* npfns * 4096 at SEND_*_BUF */
	uint32_t count;                 /* chunks or sections announced */
};

struct netvsp_reply {
	uint32_t len;
	uint8_t msg[NETVSP_REPLY_MAX];
};

struct netvsp {
	struct vmbus_ring *in;          /* guest -> host, we read */
	struct vmbus_ring *out;         /* host -> guest, we write */
	const struct netvsp_ops *ops;
	void *ctx;
	uint8_t perm_mac[6];            /* configured: PERMANENT_ADDRESS */
	uint8_t mac[6];                 /* current: frames from and to it */
	netvsp_set_mac_fn *set_mac;     /* NULL: NetworkAddress SETs refused */
	bool link_up;
	enum netvsp_state state;
	uint32_t version;               /* NVSP_PROTOCOL_VERSION_*, once agreed */
	uint32_t ndis_version;          /* major << 16 | minor, as sent */
	uint32_t guest_mtu;             /* SEND_NDIS_CONFIG's */
	uint64_t guest_caps;            /* SEND_NDIS_CONFIG's capability bits */
	uint32_t budget;                /* packets per poll (NETVSP_POLL_BUDGET) */
	struct netvsp_buffer recv, send;
	enum netvsp_rndis_state rndis;
	uint32_t filter;                /* RNDIS_OID_GEN_CURRENT_PACKET_FILTER */
	/* OID_802_3_MULTICAST_LIST: what NDIS_PACKET_TYPE_MULTICAST (without
	 * ALL_MULTICAST) lets through. Cleared by INIT and HALT. */
	uint32_t mcast_count;
	uint8_t mcast[NETVSP_MCAST_MAX][6];
	bool link_told;                 /* the guest heard the link state */
	bool indicate;                  /* a link indication is due */
	struct netvsp_stats stats;

	/* A SEND_RNDIS_PKT being worked through (its messages in msg): it
	 * stopped at msg_off because the switch was busy or the reply queue
	 * full; completed (trans_id, status) when all its messages are done. */
	bool held;
	bool held_comp;                 /* the guest asked for a completion */
	uint64_t held_tid;
	uint32_t held_status;           /* enum nvsp_status for the completion */
	uint32_t msg_len, msg_off;

	/* A completion the full host->guest ring did not take yet: sent
	 * before anything else is written to the ring. */
	bool stalled;
	uint32_t stalled_len;
	uint8_t stalled_pkt[sizeof(struct vmbus_pkt_desc) + sizeof(struct nvsp_message)];

	/* Control replies for the guest, oldest first. */
	struct netvsp_reply reply[NETVSP_REPLY_SLOTS];
	uint32_t reply_head, reply_count;

	/* Receive buffer chunks: a chunk is busy from its transfer-page
	 * packet until the guest's completion, whose transaction id must be
	 * (gen[i] << 16) | i, so a stale, forged or repeated completion is
	 * told apart from the real one. Busy chunks survive a revoke (their
	 * completions still come); free ones are in free_stack. */
	uint32_t nfree;
	uint16_t free_stack[NETVSP_MAX_CHUNKS];
	uint8_t busy[NETVSP_MAX_CHUNKS];
	uint32_t gen[NETVSP_MAX_CHUNKS];
	uint32_t gen_next;

	uint64_t pkt_words[NETVSP_MAX_PACKET / 8];      /* ring packet copy */
	uint64_t msg_words[NETVSP_MAX_MSG / 8];         /* RNDIS message copy */
};

/*
 * Set up the VSP of a partition's synthetic NIC with address `mac`
 * (copied); link up. `ops` and `ctx` are kept by pointer. No channel yet
 * (netvsp_poll returns -1 until netvsp_attach). Returns 0, or -1 on a
 * NULL argument or a missing callback (only log may be NULL).
 */
int netvsp_init(struct netvsp *sp, const uint8_t mac[6],
		const struct netvsp_ops *ops, void *ctx);

/* Let the guest change its address (the nic's config; none may at
 * init): each change first moves the switch port through set_mac
 * (NULL: changes refused again), then lasts until netvsp_init, across
 * channels and RNDIS restarts, since Linux keeps using it. */
void netvsp_allow_mac_change(struct netvsp *sp, netvsp_set_mac_fn *set_mac);

/*
 * The guest opened the channel: serve it over `in` and `out`, views kept
 * by pointer until netvsp_detach or the next attach. Starts over: no
 * version, no buffers, RNDIS uninitialized. Statistics accumulate.
 */
void netvsp_attach(struct netvsp *sp, struct vmbus_ring *in,
		   struct vmbus_ring *out);

/* The channel closed: forget the rings, the buffers and everything in
 * flight (the guest's pages are no longer touched). */
void netvsp_detach(struct netvsp *sp);

/*
 * Process what the guest sent: first retry what waits (a completion the
 * full ring refused, queued control replies, a packet whose frame the
 * switch was busy for), then up to sp->budget packets off the ring,
 * answering each as netvsc expects, and raise the guest's event once at
 * the end when the ring rules say it waits for one.
 *
 * Wake-ups, as storvsp_poll: ring drained -> unmasked, NETVSP_POLL_DONE;
 * budget spent with packets left -> NETVSP_POLL_MORE with the mask set
 * (the caller polls again soon); stopped early (host->guest ring full,
 * reply queue full, switch busy) -> unmasked, NETVSP_POLL_DONE. A full
 * ring wakes us through pending_send_sz; a busy switch does not, so
 * while netvsp_tx_blocked() the caller polls again when the switch has
 * room (vswitch_busy_gen changed) or at its next tick. After any poll,
 * chunks may have come free: retry frames that netvsp_receive refused.
 *
 * Returns -1 when the channel must be closed (corrupt ring, or a packet
 * no netvsc sends: unknown packet type, too long, a malformed NVSP or
 * RNDIS message, a send buffer section out of range, a completion for a
 * transaction we never started); logs why. After -1, and until the next
 * attach, every poll returns -1.
 */
int netvsp_poll(struct netvsp *sp);

/*
 * A frame from the switch for the guest: put it, behind an
 * RNDIS_MSG_PACKET header without per-packet info, into a free chunk of
 * the receive buffer and announce it. 0 when taken (delivered, or
 * dropped as a NIC would: length outside NETVSP_FRAME_MIN..MAX, link
 * down, not passed by the guest's packet filter, receive buffer page not
 * the guest's); -1 when it cannot be taken now and the caller keeps it:
 * the guest has not set a packet filter on an initialized RNDIS device,
 * control replies wait, no chunk is free, or the ring has no room.
 */
int netvsp_receive(struct netvsp *sp, const void *frame, size_t len);

/* Whether netvsp_receive would look for a chunk now (a hint: it may
 * still find the ring full). */
bool netvsp_can_receive(const struct netvsp *sp);

/* The switch stopped a frame of the guest's: poll again when it has
 * room (see netvsp_poll). */
bool netvsp_tx_blocked(const struct netvsp *sp);

/* Cable in or out: the guest hears RNDIS_STATUS_MEDIA_CONNECT or
 * _DISCONNECT (now, or at the next poll when the ring or the chunks are
 * busy) once it has set a packet filter; frames for it are dropped
 * while the link is down. */
void netvsp_set_link(struct netvsp *sp, bool up);

#endif
