/*
 * storvsc: the guest side of the vstor protocol (the VSC), for a
 * single-threaded guest. It owns the channel's ring memory (contiguous,
 * outbound ring then inbound ring, as the ring GPADL describes them),
 * runs the initialization handshake, and sends SCSI requests: inband when
 * there is no data, VMBUS_PKT_DATA_USING_GPA_DIRECT with the buffer's
 * pfns otherwise, so the host moves the data straight to or from the
 * caller's buffer.
 *
 * Two ways to issue requests: storvsc_execute() runs one and waits for
 * it; storvsc_submit() / storvsc_reap() keep up to STORVSC_MAX_INFLIGHT
 * in flight, completions matched by transaction id. The guest signals the
 * host only when the ring rules say it must (empty -> non-empty with the
 * host not polling, or room the host asked for), and once per batch of
 * submits (the signal waits for storvsc_kick, which storvsc_reap and every
 * wait call first), which is what keeps the exits per request low.
 */
#ifndef VMBUS_STORVSC_H
#define VMBUS_STORVSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isovisor/vstor.h>
#include "ring.h"

/* Requests in flight at once (the queue depth a caller may use). */
#define STORVSC_MAX_INFLIGHT    64u
/* Largest buffer we describe in one packet, whatever the host allows. */
#define STORVSC_MAX_TRANSFER    (1u << 20)
#define STORVSC_MAX_PFNS        (STORVSC_MAX_TRANSFER / 4096u + 1u)

/* Return codes (negative). */
enum {
	STORVSC_EIO    = -1,    /* ring corrupt or host broke the protocol */
	STORVSC_EBUSY  = -2,    /* no slot or no ring room now: reap, retry */
	STORVSC_EINVAL = -3,    /* caller's mistake: bad CDB, buffer, length */
	STORVSC_ENODEV = -4,    /* handshake refused by the host */
};

struct storvsc_ops {
	/* HvSignalEvent on the channel's connection id. */
	void (*signal_host)(void *ctx);
	/* Block until the host signalled (HLT until the SINT interrupt);
	 * may just return, for polling. */
	void (*wait)(void *ctx);
	/* Guest physical address of a byte of ring or buffer memory. */
	uint64_t (*virt_to_gpa)(void *ctx, const void *va);
	/* One log line, no newline, "storvsc: " prefixed. May be NULL. */
	void (*log)(void *ctx, const char *line);
};

enum storvsc_dir {
	STORVSC_DIR_NONE,       /* no data phase */
	STORVSC_DIR_READ,       /* device to buffer */
	STORVSC_DIR_WRITE,      /* buffer to device */
};

struct storvsc_request {
	const uint8_t *cdb;
	uint8_t cdb_len;        /* 1..16 */
	uint8_t lun;
	void *data;             /* any alignment; NULL when len is 0 */
	uint32_t len;           /* <= storvsc.max_transfer */
	enum storvsc_dir dir;
};

struct storvsc_result {
	uint8_t scsi_status;
	uint8_t srb_status;     /* SRB_STATUS_*, flags included */
	uint32_t transferred;   /* bytes the host moved */
	uint8_t sense_len;      /* valid with SRB_STATUS_AUTOSENSE_VALID */
	uint8_t sense[STORVSC_SENSE_BUFFER_SIZE];
};

struct storvsc_completion {
	uint64_t tag;           /* what storvsc_submit returned */
	struct storvsc_result res;
};

struct storvsc_stats {
	uint64_t requests;
	uint64_t signals;       /* HvSignalEvent calls */
	uint64_t kicks_deferred;        /* signals a batch's one kick saved */
	uint64_t waits;
	uint64_t ring_full;     /* submits refused for lack of ring room */
	uint64_t bogus;         /* host packets matching no request */
};

struct storvsc_slot {
	enum { SLOT_FREE, SLOT_BUSY, SLOT_DONE } state;
	bool internal;          /* execute's or the handshake's, not reaped */
	uint64_t trans_id;
	uint32_t len;           /* the caller's buffer length */
	struct vstor_packet resp;       /* the host's answer */
};

struct storvsc {
	struct vmbus_ring out;          /* guest -> host, we write */
	struct vmbus_ring in;           /* host -> guest, we read */
	const struct storvsc_ops *ops;
	void *ctx;
	uint16_t version;               /* negotiated VMSTOR_PROTO_VERSION_* */
	uint32_t pkt_size;              /* vstor_packet bytes on the wire */
	uint32_t max_transfer;          /* min(host's, STORVSC_MAX_TRANSFER) */
	uint8_t sense_size;             /* the request's sense area */
	uint64_t next_id;               /* transaction id sequence */
	bool kick_pending;              /* a submit owes the host a signal */
	uint32_t kick_writes;           /* writes that asked for it */
	struct storvsc_stats stats;
	struct storvsc_slot slot[STORVSC_MAX_INFLIGHT];
	uint64_t pkt_words[(sizeof(struct vmbus_pkt_gpa_direct) +
			    8 * STORVSC_MAX_PFNS + 7) / 8];     /* head + pfns */
	uint64_t rx_words[32];          /* one host packet */
};

/*
 * Attach to the channel's rings and run the handshake: BEGIN, versions
 * newest first down to `max_version` (0: all of WIN10, WIN8_1, WIN8,
 * WIN7, WIN6), QUERY_PROPERTIES, END. `ring` holds the outbound ring
 * (out_bytes) then the inbound one (in_bytes), each formatted with
 * vmbus_ring_format before the channel was opened. On success returns 0
 * with sc->version and sc->max_transfer set; STORVSC_ENODEV when the host
 * refused every version or a step; STORVSC_EIO/EINVAL otherwise.
 */
int storvsc_init(struct storvsc *sc, void *ring, size_t out_bytes,
		 size_t in_bytes, uint16_t max_version,
		 const struct storvsc_ops *ops, void *ctx);

/*
 * Send one request without waiting: returns 0 with *tag set (the
 * request's transaction id, unique among those in flight), or
 * STORVSC_EBUSY (every slot in flight, or the outbound ring full: reap
 * and retry), STORVSC_EINVAL, STORVSC_EIO. The buffer must stay put until
 * the request is reaped. The host may not hear of it before the next
 * storvsc_kick() (storvsc_reap calls it): submit a batch, then reap.
 */
int storvsc_submit(struct storvsc *sc, const struct storvsc_request *req,
		   uint64_t *tag);

/* Signal the host if a submit since the last kick needs it (the ring
 * went from empty to non-empty with the host unmasked): one HvSignalEvent
 * for the whole batch. */
void storvsc_kick(struct storvsc *sc);

/*
 * Collect up to `max` finished requests into done[]: returns how many
 * (0 when none is finished and `block` is false; with `block`, waits
 * until at least one is, unless nothing is in flight), or STORVSC_EIO.
 */
int storvsc_reap(struct storvsc *sc, struct storvsc_completion *done,
		 unsigned max, bool block);

/* Submit one request and wait for it: 0 with *res filled, or an error. */
int storvsc_execute(struct storvsc *sc, const struct storvsc_request *req,
		    struct storvsc_result *res);

#endif
