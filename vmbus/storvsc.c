/*
 * storvsc: the guest side of the vstor protocol (see storvsc.h).
 *
 * Untrusted input: the host is trusted with our data (it is the disk),
 * not with our memory. Everything it writes into the inbound ring is
 * copied out by the ring code before it is looked at; a completion is
 * accepted only for a transaction id we have in flight, its length only
 * up to what we asked for, its sense only up to our sense area. A
 * completion matching nothing is counted and dropped; a corrupt ring
 * makes every call fail with STORVSC_EIO (the channel must be reopened).
 *
 * Packets follow Linux's storvsc_drv.c byte for byte: EXECUTE_SRB with
 * REQUEST_COMPLETION_FLAG, srb.length and the packet size shortened by
 * the 12-byte win8 extension before WIN8, sense_info_length the sense
 * area of the version (0x12 before WIN8, 0x14 since), a buffer described
 * by one gpa range of exactly the pages it touches.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "format.h"
#include "storvsc.h"

#define PAGE_SIZE       4096u
#define PAGE_SHIFT      12
#define VSTOR_SIZE      ((uint32_t)sizeof(struct vstor_packet))
/* Linux's default SRB timeout, in seconds; the host may ignore it. */
#define SRB_TIMEOUT_S   60u

/* What send_packet adds to the public codes: no ring room right now. */
#define RING_FULL       (-100)

static const uint16_t versions[] = {    /* newest first, as Linux */
	VMSTOR_PROTO_VERSION_WIN10, VMSTOR_PROTO_VERSION_WIN8_1,
	VMSTOR_PROTO_VERSION_WIN8, VMSTOR_PROTO_VERSION_WIN7,
	VMSTOR_PROTO_VERSION_WIN6,
};

static void __attribute__((format(printf, 2, 3)))
sclog(struct storvsc *sc, const char *fmt, ...)
{
	char line[160] = "storvsc: ";
	va_list ap;

	if (!sc->ops->log)
		return;
	va_start(ap, fmt);
	kvsnprintf(line + 9, sizeof(line) - 9, fmt, ap);
	va_end(ap);
	sc->ops->log(sc->ctx, line);
}

static void signal_host(struct storvsc *sc)
{
	sc->stats.signals++;
	sc->ops->signal_host(sc->ctx);
}

/*
 * The doorbell is rung once per batch, not once per request (Linux's
 * blk-mq does the same for virtio with bd->last): a write that found the
 * ring empty and the host unmasked only notes that the host must be told,
 * and the signal goes out before we next wait or reap. A host that runs
 * on our CPU (the monolithic design, or a root that shares it) serves
 * each signal at once; signalled per request it would drain the ring
 * after every write, so that every write found it empty again and
 * signalled, one exit per request. Deferring is safe: a signal decided
 * at write time stays needed until sent (the host drains everything when
 * it is signalled), and no wait starts with it unsent.
 */
void storvsc_kick(struct storvsc *sc)
{
	if (!sc->kick_pending)
		return;
	sc->kick_pending = false;
	sc->stats.kicks_deferred += sc->kick_writes - 1;
	sc->kick_writes = 0;
	signal_host(sc);
}

/* Wait for the host: the pending signal first, or we would sleep on a
 * request it never heard of. */
static void wait_host(struct storvsc *sc)
{
	storvsc_kick(sc);
	sc->stats.waits++;
	sc->ops->wait(sc->ctx);
}

/* One host packet (len bytes in rx_words): the completion of a request
 * we have in flight, or dropped. */
static void take_completion(struct storvsc *sc, uint32_t len)
{
	const uint8_t *pkt = (const uint8_t *)sc->rx_words;
	struct vmbus_pkt_desc d;
	struct storvsc_slot *s;
	uint32_t off, plen;

	memcpy(&d, pkt, sizeof(d));
	off = (uint32_t)d.offset8 * 8;          /* <= len: the ring checked */
	plen = len - off;
	if (d.type != VMBUS_PKT_COMP) {
		/* ENUMERATE_BUS and the like: one LUN, nothing to rescan. */
		sclog(sc, "host packet type %u ignored", d.type);
		return;
	}
	s = &sc->slot[d.trans_id % STORVSC_MAX_INFLIGHT];
	if (s->state != SLOT_BUSY || s->trans_id != d.trans_id ||
	    plen < sc->pkt_size) {
		sc->stats.bogus++;
		sclog(sc, "completion %llx of %u bytes matches no request",
		      (unsigned long long)d.trans_id, plen);
		return;
	}
	memset(&s->resp, 0, sizeof(s->resp));
	memcpy(&s->resp, pkt + off, plen < VSTOR_SIZE ? plen : VSTOR_SIZE);
	s->state = SLOT_DONE;
}

/* Drain the inbound ring into the slots; 0 or STORVSC_EIO. */
static int collect(struct storvsc *sc)
{
	bool signal = false, more, sig;

	vmbus_ring_reader_begin(&sc->in);
	for (;;) {
		int len = vmbus_ring_peek(&sc->in, sc->rx_words,
					  sizeof(sc->rx_words));

		if (len == 0) {
			vmbus_ring_reader_done(&sc->in, &more);
			if (!more)
				break;
			vmbus_ring_reader_begin(&sc->in);
			continue;
		}
		if (len == VMBUS_RING_TOOBIG) {
			sc->stats.bogus++;
			sclog(sc, "host packet of %u bytes skipped",
			      sc->in.peeked);
			len = (int)sc->in.peeked;
		} else if (len < 0) {
			sclog(sc, "inbound ring corrupt");
			return STORVSC_EIO;
		} else {
			take_completion(sc, (uint32_t)len);
		}
		if (vmbus_ring_consume(&sc->in, (uint32_t)len, &sig)) {
			sclog(sc, "inbound ring corrupt");
			return STORVSC_EIO;
		}
		signal |= sig;  /* the host waits for room for completions */
	}
	if (signal)
		signal_host(sc);
	return 0;
}

/*
 * Put one vstor packet (size bytes) on the outbound ring, with the
 * buffer's pfns when len > 0, in a free slot. Returns the slot index,
 * STORVSC_EBUSY (no free slot), RING_FULL, STORVSC_EINVAL or STORVSC_EIO.
 */
static int send_packet(struct storvsc *sc, const struct vstor_packet *vp,
		       const void *data, uint32_t len, bool internal)
{
	struct vmbus_pkt_gpa_direct *g = (void *)sc->pkt_words;
	uint64_t *pfns = (uint64_t *)(g + 1);
	struct vmbus_iov iov[2];
	unsigned idx;
	uint64_t id;
	bool sig;
	int err;

	for (idx = 0; idx < STORVSC_MAX_INFLIGHT; idx++)
		if (sc->slot[idx].state == SLOT_FREE)
			break;
	if (idx == STORVSC_MAX_INFLIGHT)
		return STORVSC_EBUSY;
	id = sc->next_id * STORVSC_MAX_INFLIGHT + idx;

	memset(g, 0, sizeof(*g));
	g->desc.flags = VMBUS_PKT_FLAG_COMPLETION_REQUESTED;
	g->desc.trans_id = id;
	if (len) {
		uint64_t gpa = sc->ops->virt_to_gpa(sc->ctx, data);
		uintptr_t base = (uintptr_t)data & ~(uintptr_t)(PAGE_SIZE - 1);
		uint32_t off = (uint32_t)(gpa & (PAGE_SIZE - 1));
		uint32_t n = (off + len + PAGE_SIZE - 1) / PAGE_SIZE;
		uint32_t head = (uint32_t)sizeof(*g) + 8 * n;

		/* Each page separately: contiguous to us, anywhere to the
		 * host. */
		for (uint32_t i = 0; i < n; i++)
			pfns[i] = sc->ops->virt_to_gpa(sc->ctx,
				(const void *)(base + (uintptr_t)i * PAGE_SIZE))
				>> PAGE_SHIFT;
		g->desc.type = VMBUS_PKT_DATA_USING_GPA_DIRECT;
		g->desc.offset8 = (uint16_t)(head / 8);
		g->rangecount = 1;
		g->byte_count = len;
		g->byte_offset = off;
		iov[0] = (struct vmbus_iov){ g, head };
	} else {
		g->desc.type = VMBUS_PKT_DATA_INBAND;
		g->desc.offset8 = sizeof(g->desc) / 8;
		iov[0] = (struct vmbus_iov){ &g->desc, sizeof(g->desc) };
	}
	g->desc.len8 = (uint16_t)((iov[0].len + sc->pkt_size + 7) / 8);
	iov[1] = (struct vmbus_iov){ vp, sc->pkt_size };
	err = vmbus_ring_write(&sc->out, iov, 2, &sig);
	if (err == VMBUS_RING_AGAIN) {
		sc->stats.ring_full++;
		return RING_FULL;
	}
	if (err == VMBUS_RING_TOOBIG || err == VMBUS_RING_INVAL)
		return STORVSC_EINVAL;  /* a ring too small for the request */
	if (err) {
		sclog(sc, "outbound ring corrupt");
		return STORVSC_EIO;
	}
	sc->next_id++;
	sc->slot[idx].state = SLOT_BUSY;
	sc->slot[idx].internal = internal;
	sc->slot[idx].trans_id = id;
	sc->slot[idx].len = len;
	if (sig) {
		sc->kick_pending = true;
		sc->kick_writes++;
	}
	return (int)idx;
}

/* send_packet, waiting while the outbound ring is full: the host drains
 * it and signals (pending_send_sz); it may itself wait for us to read
 * completions, so collect before every wait. */
static int send_waiting(struct storvsc *sc, const struct vstor_packet *vp,
			const void *data, uint32_t len, bool internal)
{
	for (unsigned i = 0;; i++) {
		int ret = send_packet(sc, vp, data, len, internal);

		if (ret != RING_FULL)
			return ret;
		if (i & 1) {
			wait_host(sc);
		} else {
			ret = collect(sc);
			if (ret)
				return ret;
		}
	}
}

/* Wait until slot idx is done; 0 or STORVSC_EIO. */
static int wait_slot(struct storvsc *sc, unsigned idx)
{
	for (;;) {
		int err = collect(sc);

		if (err)
			return err;
		if (sc->slot[idx].state == SLOT_DONE)
			return 0;
		wait_host(sc);
	}
}

/* One initialization step: op (with a version for the query); 0 and
 * *status, or an error. */
static int control(struct storvsc *sc, uint32_t op, uint16_t version,
		   struct vstor_packet *resp)
{
	struct vstor_packet vp;
	int idx, err;

	memset(&vp, 0, sizeof(vp));
	vp.operation = op;
	vp.flags = REQUEST_COMPLETION_FLAG;
	vp.version.major_minor = version;
	idx = send_waiting(sc, &vp, NULL, 0, true);
	if (idx < 0)
		return idx;
	storvsc_kick(sc);
	err = wait_slot(sc, (unsigned)idx);
	if (err)
		return err;
	*resp = sc->slot[idx].resp;
	sc->slot[idx].state = SLOT_FREE;
	if (resp->operation != VSTOR_OPERATION_COMPLETE_IO) {
		sclog(sc, "operation %u answered with %u", op, resp->operation);
		return STORVSC_ENODEV;
	}
	return 0;
}

int storvsc_init(struct storvsc *sc, void *ring, size_t out_bytes,
		 size_t in_bytes, uint16_t max_version,
		 const struct storvsc_ops *ops, void *ctx)
{
	struct vstor_packet resp;
	uint16_t v = 0;
	int err;

	if (!sc || !ring || !ops || !ops->signal_host || !ops->wait ||
	    !ops->virt_to_gpa)
		return STORVSC_EINVAL;
	memset(sc, 0, sizeof(*sc));
	sc->ops = ops;
	sc->ctx = ctx;
	if (vmbus_ring_init(&sc->out, ring, out_bytes) ||
	    vmbus_ring_init(&sc->in, (uint8_t *)ring + out_bytes, in_bytes))
		return STORVSC_EINVAL;
	/* Modern Linux's sizes until a version says otherwise. */
	sc->pkt_size = VSTOR_SIZE;
	sc->sense_size = STORVSC_SENSE_BUFFER_SIZE;

	err = control(sc, VSTOR_OPERATION_BEGIN_INITIALIZATION, 0, &resp);
	if (err || resp.status) {
		sclog(sc, "BEGIN_INITIALIZATION refused");
		return err ? err : STORVSC_ENODEV;
	}
	for (unsigned i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		if (max_version && versions[i] > max_version)
			continue;
		err = control(sc, VSTOR_OPERATION_QUERY_PROTOCOL_VERSION,
			      versions[i], &resp);
		if (err)
			return err;
		if (resp.status == 0) {
			v = versions[i];
			break;
		}
	}
	if (!v) {
		sclog(sc, "no protocol version in common");
		return STORVSC_ENODEV;
	}
	sc->version = v;
	if (vstor_pre_win8(v)) {
		sc->pkt_size = VSTOR_PACKET_SIZE_PRE_WIN8;
		sc->sense_size = VSTOR_SENSE_SIZE_PRE_WIN8;
	}
	err = control(sc, VSTOR_OPERATION_QUERY_PROPERTIES, 0, &resp);
	if (err || resp.status) {
		sclog(sc, "QUERY_PROPERTIES refused");
		return err ? err : STORVSC_ENODEV;
	}
	sc->max_transfer = resp.storage_channel_properties.max_transfer_bytes;
	if (sc->max_transfer > STORVSC_MAX_TRANSFER)
		sc->max_transfer = STORVSC_MAX_TRANSFER;
	if (sc->max_transfer < PAGE_SIZE) {
		sclog(sc, "host max transfer %u too small", sc->max_transfer);
		return STORVSC_ENODEV;
	}
	err = control(sc, VSTOR_OPERATION_END_INITIALIZATION, 0, &resp);
	if (err || resp.status) {
		sclog(sc, "END_INITIALIZATION refused");
		return err ? err : STORVSC_ENODEV;
	}
	sclog(sc, "protocol %u.%u, max transfer %u", v >> 8, v & 0xff,
	      sc->max_transfer);
	return 0;
}

/* The EXECUTE_SRB packet for req, as Linux's storvsc_queuecommand
 * builds it; STORVSC_EINVAL for a request we cannot describe. */
static int build_srb(const struct storvsc *sc,
		     const struct storvsc_request *req, struct vstor_packet *vp)
{
	struct vmscsi_request *srb = &vp->vm_srb;

	if (!req || !req->cdb || !req->cdb_len ||
	    req->cdb_len > STORVSC_MAX_CMD_LEN || req->len > sc->max_transfer ||
	    (req->len && (!req->data || req->dir == STORVSC_DIR_NONE)))
		return STORVSC_EINVAL;
	memset(vp, 0, sizeof(*vp));
	vp->operation = VSTOR_OPERATION_EXECUTE_SRB;
	vp->flags = REQUEST_COMPLETION_FLAG;
	srb->length = (uint16_t)(sizeof(*srb) -
				 (vstor_pre_win8(sc->version) ? VSTOR_WIN8_EXT_SIZE : 0));
	srb->lun = req->lun;
	srb->cdb_length = req->cdb_len;
	srb->sense_info_length = sc->sense_size;
	srb->data_transfer_length = req->len;
	memcpy(srb->cdb, req->cdb, req->cdb_len);
	if (!req->len)
		srb->data_in = VSTOR_UNKNOWN_TYPE;
	else if (req->dir == STORVSC_DIR_READ)
		srb->data_in = VSTOR_READ_TYPE;
	else
		srb->data_in = VSTOR_WRITE_TYPE;
	if (!vstor_pre_win8(sc->version)) {
		srb->queue_tag = SP_UNTAGGED;
		srb->queue_action = SRB_SIMPLE_TAG_REQUEST;
		srb->srb_flags = SRB_FLAGS_DISABLE_SYNCH_TRANSFER |
			(!req->len ? SRB_FLAGS_NO_DATA_TRANSFER :
			 srb->data_in == VSTOR_READ_TYPE ? SRB_FLAGS_DATA_IN :
			 SRB_FLAGS_DATA_OUT);
		srb->time_out_value = SRB_TIMEOUT_S;
	}
	return 0;
}

/* A finished slot's answer as the caller sees it; frees the slot. */
static void finish(struct storvsc *sc, unsigned idx, uint32_t len,
		   struct storvsc_result *res)
{
	const struct vmscsi_request *srb = &sc->slot[idx].resp.vm_srb;
	uint32_t n = srb->sense_info_length;

	memset(res, 0, sizeof(*res));
	res->scsi_status = srb->scsi_status;
	res->srb_status = srb->srb_status;
	res->transferred = srb->data_transfer_length < len ?
			   srb->data_transfer_length : len;
	if (srb->srb_status & SRB_STATUS_AUTOSENSE_VALID) {
		if (n > sc->sense_size)
			n = sc->sense_size;
		res->sense_len = (uint8_t)n;
		memcpy(res->sense, srb->sense_data, n);
	}
	sc->slot[idx].state = SLOT_FREE;
}

int storvsc_submit(struct storvsc *sc, const struct storvsc_request *req,
		   uint64_t *tag)
{
	struct vstor_packet vp;
	int ret = build_srb(sc, req, &vp);

	if (ret)
		return ret;
	ret = send_packet(sc, &vp, req->data, req->len, false);
	if (ret == RING_FULL)
		return STORVSC_EBUSY;
	if (ret < 0)
		return ret;
	sc->stats.requests++;
	*tag = sc->slot[ret].trans_id;
	return 0;
}

int storvsc_reap(struct storvsc *sc, struct storvsc_completion *done,
		 unsigned max, bool block)
{
	storvsc_kick(sc);       /* what was submitted must start now */
	for (;;) {
		unsigned n = 0;
		bool busy = false;
		int err = collect(sc);

		if (err)
			return err;
		for (unsigned i = 0; i < STORVSC_MAX_INFLIGHT && n < max; i++) {
			struct storvsc_slot *s = &sc->slot[i];

			if (s->internal || s->state == SLOT_FREE)
				continue;
			if (s->state == SLOT_BUSY) {
				busy = true;
				continue;
			}
			done[n].tag = s->trans_id;
			finish(sc, i, s->len, &done[n].res);
			n++;
		}
		if (n || !block || !busy)
			return (int)n;
		wait_host(sc);
	}
}

int storvsc_execute(struct storvsc *sc, const struct storvsc_request *req,
		    struct storvsc_result *res)
{
	struct vstor_packet vp;
	int idx, err = build_srb(sc, req, &vp);

	if (err)
		return err;
	idx = send_waiting(sc, &vp, req->data, req->len, true);
	if (idx < 0)
		return idx;
	sc->stats.requests++;
	storvsc_kick(sc);
	err = wait_slot(sc, (unsigned)idx);
	if (err)
		return err;
	finish(sc, (unsigned)idx, req->len, res);
	return 0;
}
