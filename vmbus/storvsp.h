/*
 * storvsp: the storage VSP, the host side of the vstor protocol
 * (include/isovisor/vstor.h) for one channel, serving one struct scsidisk
 * as LUN 0 of target 0 on path 0. Transport-agnostic: the caller (the
 * root's VMBus host in the microkernelized design, the hypervisor in the
 * monolithic one) attaches the two ring views when the guest opens the
 * channel, calls storvsp_poll() whenever the guest signals it, and
 * supplies guest memory access, the event back to the guest and a log
 * through struct storvsp_ops.
 *
 * Rings: `in` is the guest->host ring (the first ring_pfns pages of the
 * ring GPADL, "outbound" as the guest calls it), read by us; `out` is the
 * host->guest ring, written by us. Either view may be a page-vector one
 * (vmbus_ring_init_pages): storvsp never touches ring memory itself.
 *
 * Requests: an EXECUTE_SRB without data comes VMBUS_PKT_DATA_INBAND; one
 * with data comes VMBUS_PKT_DATA_USING_GPA_DIRECT with one gpa range.
 * Data goes through `bounce` (inside the struct, STORVSP_MAX_TRANSFER
 * bytes: in the host all memory is static, so a struct storvsp lives in
 * .bss or a pool, never on a stack), page by page through the copy
 * callbacks, so a guest page that is not the guest's fails that request
 * with SRB_STATUS_ERROR and nothing else.
 */
#ifndef VMBUS_STORVSP_H
#define VMBUS_STORVSP_H

#include <stdbool.h>
#include <stdint.h>
#include <isovisor/vstor.h>
#include "ring.h"
#include "scsidisk.h"

/* Largest transfer per request, announced in QUERY_PROPERTIES (Linux
 * derives its max_sectors and sg table size from it). */
#define STORVSP_MAX_TRANSFER    (1u << 20)
/* Pages a transfer of STORVSP_MAX_TRANSFER bytes can touch when it does
 * not start on a page boundary. */
#define STORVSP_MAX_PFNS        (STORVSP_MAX_TRANSFER / 4096u + 1u)
/* The longest packet a storvsc sends: a GPA direct head, the pfns, a
 * vstor_packet. Anything longer is not a storage request. */
#define STORVSP_MAX_PACKET \
	(sizeof(struct vmbus_pkt_gpa_direct) + 8u * STORVSP_MAX_PFNS + \
	 sizeof(struct vstor_packet))

/* Packets one storvsp_poll() takes off the guest->host ring at most (a
 * packet may carry up to STORVSP_MAX_TRANSFER bytes of disk I/O): the
 * rest waits for the next poll, which the caller schedules at once when
 * the poll returns STORVSP_POLL_MORE. */
#define STORVSP_POLL_BUDGET     16u

/* storvsp_poll(): done until the guest signals, or call again soon. */
#define STORVSP_POLL_DONE       0
#define STORVSP_POLL_MORE       1

/* vstor_packet.status for a refused request (NTSTATUS values, as Hyper-V;
 * Linux only tests for nonzero). */
#define STORVSP_STATUS_UNSUCCESSFUL     0xc0000001u
#define STORVSP_STATUS_REVISION_MISMATCH 0xc0000059u

struct storvsp_ops {
	/* Copy guest physical bytes [gpa, gpa + len) (never crossing a page)
	 * in or out: 0, or -1 when the page is not the guest's. */
	int (*copy_from_guest)(void *ctx, uint64_t gpa, void *buf, uint32_t len);
	int (*copy_to_guest)(void *ctx, uint64_t gpa, const void *buf,
			     uint32_t len);
	/* Raise the channel's event in the guest. */
	void (*signal_guest)(void *ctx);
	/* One log line, no newline, "storvsp: " prefixed. May be NULL. */
	void (*log)(void *ctx, const char *line);
	/* Optional (NULL: every transfer is copied through bounce). The
	 * host physical address of each guest page pfns[0..n) (n <=
	 * STORVSP_MAX_PFNS), for the disk's DMA to reach it with no copy:
	 * 0, or -1 when one is not the guest's (the request then fails as
	 * a copy to a foreign page does). The pages must stay the guest's
	 * until the request completes: storvsp completes each request
	 * before it reads the next. */
	int (*dma_pages)(void *ctx, const uint64_t *pfns, uint32_t n, uint64_t *phys);
};

struct storvsp_stats {
	uint64_t packets;               /* taken off the guest->host ring */
	uint64_t requests;              /* EXECUTE_SRB packets */
	uint64_t bytes_read;            /* disk -> guest */
	uint64_t bytes_written;         /* guest -> disk */
	uint64_t srb_errors;            /* completions other than SUCCESS */
	uint64_t rejected;              /* malformed or out-of-order packets */
	uint64_t guest_faults;          /* pages the guest did not own */
	uint64_t ring_full;             /* a completion waited for room */
	uint64_t signals;               /* events raised in the guest */
	uint64_t budget_stops;          /* polls that returned STORVSP_POLL_MORE */
	uint64_t direct;                /* transfers the disk's DMA moved, no copy */
};

enum storvsp_state {
	STORVSP_DETACHED,               /* no channel open */
	STORVSP_WAIT_BEGIN,             /* nothing yet, or after a reset */
	STORVSP_NEGOTIATING,            /* BEGIN seen, version not yet agreed */
	STORVSP_VERSIONED,              /* version agreed, END not yet seen */
	STORVSP_READY,                  /* END_INITIALIZATION done: SRBs */
	STORVSP_CLOSED,                 /* the channel must go (until attach) */
};

struct storvsp {
	struct vmbus_ring *in;          /* guest -> host, we read */
	struct vmbus_ring *out;         /* host -> guest, we write */
	struct scsidisk *disk;
	const struct storvsp_ops *ops;
	void *ctx;
	enum storvsp_state state;
	uint16_t version;               /* VMSTOR_PROTO_VERSION_*, once agreed */
	uint32_t pkt_size;              /* vstor_packet bytes on the wire */
	uint32_t budget;                /* packets per poll (STORVSP_POLL_BUDGET) */
	struct storvsp_stats stats;
	/* A completion the full host->guest ring did not take yet: sent
	 * first at the next poll, before any new packet is read. */
	bool stalled;
	uint32_t stalled_len;
	uint8_t stalled_pkt[sizeof(struct vmbus_pkt_desc) +
			    sizeof(struct vstor_packet)];
	uint64_t pkt_words[(STORVSP_MAX_PACKET + 7) / 8];  /* packet copy */
	uint64_t phys[STORVSP_MAX_PFNS];        /* dma_pages' answer */
	struct blk_seg segs[STORVSP_MAX_PFNS];  /* ... as DMA segments */
	uint8_t bounce[STORVSP_MAX_TRANSFER];
};

/*
 * Set up the VSP of a partition's storage device: `disk` serves LUN 0,
 * `ops` and `ctx` are kept by pointer. No channel yet (storvsp_poll
 * returns -1 until storvsp_attach). Returns 0, or -1 on a NULL argument
 * or a missing copy/signal callback.
 */
int storvsp_init(struct storvsp *sp, struct scsidisk *disk,
		 const struct storvsp_ops *ops, void *ctx);

/*
 * The guest opened the channel: serve it over `in` and `out`,
 * initialized views kept by pointer (they must stay valid until the next
 * attach or until polling stops). Starts over: waits for
 * BEGIN_INITIALIZATION, forgets a stalled completion of the previous
 * channel. Statistics accumulate across channels.
 */
void storvsp_attach(struct storvsp *sp, struct vmbus_ring *in,
		    struct vmbus_ring *out);

/*
 * Process the packets waiting, at most sp->budget of them, answering each
 * that asks for a completion, and raise the guest's event once at the end
 * when the ring rules say it waits for one.
 *
 * Wake-ups (none may be lost; the guest signals us only when its write
 * finds the guest->host ring empty, or when our consume gives it the room
 * it asked for):
 *  - ring drained: the interrupt mask is cleared and the ring looked at
 *    again (vmbus_ring_reader_done), returns STORVSP_POLL_DONE; the next
 *    packet comes with a signal.
 *  - budget spent with packets left: returns STORVSP_POLL_MORE with the
 *    mask still set. The guest will not signal (the ring is not empty,
 *    and the mask tells it we are polling), so the caller must poll again
 *    soon, without waiting for a signal or its next tick.
 *  - host->guest ring full: stops with the completion kept, unmasked,
 *    returns STORVSP_POLL_DONE; the ring's pending_send_sz makes the guest
 *    signal us once it made room, and the next poll resumes.
 * Returns -1 when the channel must be closed (corrupt ring, or a packet no
 * storvsc sends: unknown packet type, longer than STORVSP_MAX_PACKET);
 * logs why. After -1, and before storvsp_attach, every poll returns -1.
 */
int storvsp_poll(struct storvsp *sp);

#endif
