/*
 * netvsc: the guest side of the synthetic NIC, NVSP and RNDIS
 * (include/isovisor/nvsp.h), as Linux's hv_netvsc drives it, for a
 * single-threaded guest. Portable like storvsc: the caller opens the
 * channel, formats its rings, allocates a receive buffer and a send
 * buffer in its memory and makes each a GPADL of the channel through the
 * VMBus client; netvsc gets the ring memory, both buffers (as the guest
 * sees them, contiguous) and the two GPADL handles.
 *
 * Bring-up (netvsc_init), Linux's order: NVSP INIT for each version from
 * the newest (6.1, 6, 5, 4, 2, 1) until one succeeds; SEND_NDIS_CONFIG
 * (v2 on, MTU 1500) and SEND_NDIS_VER, which get no answer; SEND_RECV_BUF
 * and SEND_SEND_BUF, each waiting for its completion (the receive
 * buffer's sections, the send buffer's section size); then RNDIS over
 * the data path: INIT, QUERY of the permanent address and of the link
 * state, SET of the packet filter (directed, broadcast, all multicast).
 *
 * Data: netvsc_send() puts one RNDIS_MSG_PACKET into a free section of
 * the send buffer and sends NVSP SEND_RNDIS_PKT (channel type 0) asking
 * for a completion, which gives the section back. netvsc_poll() takes
 * what the host sent: those completions; transfer-page packets whose
 * ranges name RNDIS messages in the receive buffer (frames, copied out
 * and handed to ops->rx; link indications; control replies), each given
 * back with a VMBUS_PKT_COMP of its transaction id; and NVSP messages the
 * host sends on its own (ignored, as we offer no VF and no RSS).
 *
 * Signals: the guest signals the host when the ring rules say so (a
 * write that found the ring empty with the host unmasked, a read that
 * freed room the host asked for), at once.
 *
 * Not thread-safe. ops->rx may call netvsc_send (a reply), and through a
 * send that found no room even netvsc_poll: a poll nested that way works
 * on buffers of its own (NETVSC_POLL_DEPTH levels; a deeper one returns
 * 0 and does nothing). A struct netvsc is large: static, never on a stack.
 */
#ifndef VMBUS_NETVSC_H
#define VMBUS_NETVSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isovisor/nvsp.h>
#include "ring.h"

/* Ethernet frames without FCS, as the switch carries them. */
#define NETVSC_FRAME_MIN        14u
#define NETVSC_FRAME_MAX        1514u
#define NETVSC_MTU              1500u
/* The RNDIS_MSG_PACKET header we put in front of a frame. */
#define NETVSC_PKT_HDR          (RNDIS_HEADER_SIZE + (uint32_t)sizeof(struct rndis_packet))
/* The smallest send section a frame fits in (the host chooses the size). */
#define NETVSC_MIN_SECTION      (NETVSC_PKT_HDR + NETVSC_FRAME_MAX)
/* Sections we track at most, whatever the send buffer would hold. */
#define NETVSC_MAX_SECTIONS     512u
/* Largest RNDIS message from the host we take (netvsp's chunk is 1728
 * bytes; Linux's recv_section_size). Longer ranges are refused. */
#define NETVSC_MAX_RNDIS        2048u
/* Ranges one transfer-page packet may carry (Linux takes 562 for RSC
 * batches; netvsp sends one). */
#define NETVSC_MAX_RANGES       32u
/* Longest host packet we copy: a transfer-page head with its ranges and
 * the NVSP message, or a completion. Longer ones are skipped. */
#define NETVSC_MAX_PACKET       512u
/* Receive completions waiting for room in the guest->host ring. */
#define NETVSC_COMP_SLOTS       64u
/* A control reply (INIT_C, QUERY_C, SET_C) we keep, at most. */
#define NETVSC_CTRL_REPLY       256u
/* Nested polls (see above) that get their own buffers. */
#define NETVSC_POLL_DEPTH       2u
/* Packets one netvsc_poll() takes at most, so it returns. */
#define NETVSC_POLL_BUDGET      256u

/* Return codes (negative). */
enum {
	NETVSC_EIO       = -1,  /* a ring is corrupt: the channel is dead */
	NETVSC_EINVAL    = -2,  /* caller's mistake: arguments, state */
	NETVSC_ENODEV    = -3,  /* the host refused or botched a bring-up step */
	NETVSC_ETIMEDOUT = -4,  /* the host did not answer (ops->wait gave up) */
};

/* netvsc_send(): besides 0 and -1. */
#define NETVSC_BUSY             1

struct netvsc_ops {
	/* HvSignalEvent on the channel's connection id. */
	void (*signal_host)(void *ctx);
	/* Wait for the host (until it signals, or a while): 0, or nonzero
	 * when the caller gives up waiting (the bring-up step then fails
	 * with NETVSC_ETIMEDOUT). */
	int (*wait)(void *ctx);
	/* A received frame, NETVSC_FRAME_MIN..MAX bytes in netvsc's copy,
	 * valid during the call. */
	void (*rx)(void *ctx, const void *frame, size_t len);
	/* One log line, no newline, "netvsc: " prefixed. May be NULL. */
	void (*log)(void *ctx, const char *line);
};

/* The channel as the caller set it up. */
struct netvsc_config {
	void *ring;                     /* outbound ring, then inbound ring */
	size_t out_bytes, in_bytes;     /* each formatted (vmbus_ring_format) */
	void *recv_buf;                 /* contiguous in the guest's view */
	uint32_t recv_bytes;
	uint32_t recv_gpadl;
	void *send_buf;
	uint32_t send_bytes;
	uint32_t send_gpadl;
	uint32_t max_version;           /* newest NVSP version to offer; 0: all */
};

struct netvsc_stats {
	uint64_t tx_frames, tx_bytes;   /* sent (the host completes them later) */
	uint64_t tx_completions;        /* sections the host gave back */
	uint64_t tx_failed;             /* ... with a status other than SUCCESS */
	uint64_t tx_no_section;         /* sends that found every section out */
	uint64_t tx_ring_full;          /* sends that found no ring room */
	uint64_t rx_xfers;              /* transfer-page packets taken */
	uint64_t rx_frames, rx_bytes;   /* frames handed to ops->rx */
	uint64_t rx_dropped;            /* frames before the data path opened */
	uint64_t rx_comp_deferred;      /* completions that waited for room */
	uint64_t indications;           /* RNDIS status indications */
	uint64_t link_changes;
	uint64_t replies;               /* control replies matched */
	uint64_t ignored;               /* NVSP messages of the host's we skip */
	uint64_t signals;               /* HvSignalEvent calls */
	uint64_t bad;                   /* host packets or messages refused */
};

struct netvsc_poll_buf {
	uint64_t pkt[NETVSC_MAX_PACKET / 8];    /* one host packet */
	uint64_t msg[NETVSC_MAX_RNDIS / 8];     /* one RNDIS message */
};

struct netvsc {
	struct vmbus_ring out;          /* guest -> host, we write */
	struct vmbus_ring in;           /* host -> guest, we read */
	const struct netvsc_ops *ops;
	void *ctx;
	uint8_t *recv;
	uint32_t recv_bytes;
	uint8_t *send;
	uint32_t send_bytes;
	bool broken;                    /* a ring is corrupt: all calls fail */
	bool rx_open;                   /* frames go to ops->rx */
	bool ready;                     /* bring-up done: netvsc_send works */
	bool corked;                    /* netvsc_send_more: signal at the flush */
	bool sig_pending;               /* a write the host must be told of */

	uint32_t version;               /* NVSP, agreed */
	uint32_t ndis_version;          /* major << 16 | minor, as sent */
	uint8_t mac[6];                 /* RNDIS_OID_802_3_PERMANENT_ADDRESS */
	bool link_up;
	uint32_t recv_chunk;            /* the host's sub-allocation size */
	uint32_t recv_chunks;
	struct netvsc_stats stats;
	const char *last_bad;           /* why the last bad one was refused */

	/* Send sections: a busy one's transaction id is (gen << 16) | index,
	 * 0 when free; the free ones are in free_stack. */
	uint32_t section_size, nsections, nfree;
	uint64_t gen;
	uint16_t free_stack[NETVSC_MAX_SECTIONS];
	uint64_t sec_tid[NETVSC_MAX_SECTIONS];

	/* The one bring-up request in flight: an NVSP message's completion
	 * (NETVSC_TID_CTRL | seq), or an RNDIS request's section completion
	 * and its reply (type and req_id). */
	struct {
		uint64_t tid;
		bool comp_done;
		struct nvsp_message comp;
		uint32_t comp_len;
		uint32_t reply_type, req_id;
		bool reply_done;
		uint32_t reply_len;
		uint8_t reply[NETVSC_CTRL_REPLY];
	} ctl;
	uint64_t ctl_seq;
	uint32_t next_req_id;

	/* Transfer-page completions the full ring did not take yet. */
	uint64_t comp_tid[NETVSC_COMP_SLOTS];
	uint32_t comp_head, comp_count;

	unsigned depth;                 /* netvsc_poll nesting */
	struct netvsc_poll_buf buf[NETVSC_POLL_DEPTH];
};

/*
 * Attach to the channel set up as `cfg` says and bring the NIC up (see
 * above). On success returns 0 with nc->version, nc->mac and nc->link_up
 * set and the data path open; NETVSC_ENODEV when the host refused every
 * version or a step (or answered out of bounds), NETVSC_ETIMEDOUT,
 * NETVSC_EIO or NETVSC_EINVAL otherwise. Frames may reach ops->rx from
 * the packet filter's SET on, before this returns.
 */
int netvsc_init(struct netvsc *nc, const struct netvsc_config *cfg,
		const struct netvsc_ops *ops, void *ctx);

/*
 * Send one frame (NETVSC_FRAME_MIN..MAX bytes, copied into a send
 * section): 0 sent; NETVSC_BUSY when no section is free or the ring is
 * full (poll, then try again); -1 for a bad frame, before bring-up, or a
 * corrupt ring.
 */
int netvsc_send(struct netvsc *nc, const void *frame, size_t len);

/*
 * The same, but the host is not signalled yet (Linux's xmit_more): a
 * burst of sends costs one signal, at netvsc_flush, or when a send finds
 * no room (then the host must work, and netvsc_send_more flushes before
 * it returns NETVSC_BUSY). The caller flushes before it waits for
 * anything the host must do.
 */
int netvsc_send_more(struct netvsc *nc, const void *frame, size_t len);
void netvsc_flush(struct netvsc *nc);

/*
 * Take what the host sent (up to NETVSC_POLL_BUDGET packets): frames to
 * ops->rx, sections back, every transfer-page packet completed (or
 * queued for ring room), the host signalled once at the end when the
 * completions need it (not while corked). Returns the frames delivered,
 * or NETVSC_EIO.
 */
int netvsc_poll(struct netvsc *nc);

/* Sections still out with the host. */
uint32_t netvsc_sections_busy(const struct netvsc *nc);

#endif
