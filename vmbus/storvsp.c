/*
 * storvsp: the host side of the vstor protocol (see storvsp.h).
 *
 * Untrusted input: everything the guest wrote (the ring, each packet's
 * descriptor, range, pfns and vstor_packet, and the data pages) is
 * hostile. The ring code copies a packet out before anything looks at
 * it; from then on only that copy is parsed, each length checked against
 * what the packet really holds before use. Guest memory is touched only
 * through ops->copy_*_guest, one page at a time. The policy:
 *  - a corrupt ring, a packet type or length no storvsc sends: log and
 *    return -1 (the caller closes the channel, as Hyper-V does);
 *  - a malformed, unsupported or out-of-order vstor request: log, count
 *    in stats.rejected, and answer it with a failure (vstor status
 *    nonzero, or an SRB status), so the guest's request completes;
 *  - a SCSI command the disk rejects: its CHECK CONDITION, with the sense
 *    data in the request's sense area (autosense), as from a real disk.
 *
 * Protocol versions: Linux offers WIN10, WIN8_1, WIN8 (and before 5.19
 * also WIN7, WIN6) newest first; we take all five. Before WIN8 the
 * vmscsi_request lacks its 12-byte win8 extension on the wire (Linux's
 * vmscsi_size_delta) and the sense area is 0x12 bytes: such a peer sends
 * and expects 52-byte vstor packets. Until a version is agreed a reply is
 * as long as the request was (older Linux sends the version queries
 * short).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "format.h"
#include "storvsp.h"

#define PAGE_SIZE       4096u
#define PAGE_SHIFT      12
#define VSTOR_SIZE      ((uint32_t)sizeof(struct vstor_packet))
/* A pfn whose address does not fit in 64 bits is nobody's page. */
#define MAX_PFN         ((1ull << (64 - PAGE_SHIFT)) - 1)

static void __attribute__((format(printf, 2, 3)))
splog(struct storvsp *sp, const char *fmt, ...)
{
	char line[160] = "storvsp: ";
	va_list ap;

	if (!sp->ops->log)
		return;
	va_start(ap, fmt);
	kvsnprintf(line + 9, sizeof(line) - 9, fmt, ap);
	va_end(ap);
	sp->ops->log(sp->ctx, line);
}

/* A guest request we will not carry out: counted, logged, answered. */
#define reject(sp, ...) \
	do { (sp)->stats.rejected++; splog((sp), __VA_ARGS__); } while (0)

static bool version_supported(uint16_t v)
{
	return vstor_pre_win8(v) || v == VMSTOR_PROTO_VERSION_WIN8 ||
	       v == VMSTOR_PROTO_VERSION_WIN8_1 ||
	       v == VMSTOR_PROTO_VERSION_WIN10;
}

int storvsp_init(struct storvsp *sp, struct scsidisk *disk,
		 const struct storvsp_ops *ops, void *ctx)
{
	if (!sp || !disk || !ops || !ops->copy_from_guest ||
	    !ops->copy_to_guest || !ops->signal_guest)
		return -1;
	memset(&sp->stats, 0, sizeof(sp->stats));
	sp->in = sp->out = NULL;
	sp->disk = disk;
	sp->ops = ops;
	sp->ctx = ctx;
	sp->state = STORVSP_DETACHED;
	sp->version = 0;
	sp->pkt_size = VSTOR_SIZE;
	sp->budget = STORVSP_POLL_BUDGET;
	sp->stalled = false;
	return 0;
}

void storvsp_attach(struct storvsp *sp, struct vmbus_ring *in,
		    struct vmbus_ring *out)
{
	sp->in = in;
	sp->out = out;
	sp->state = in && out ? STORVSP_WAIT_BEGIN : STORVSP_DETACHED;
	sp->version = 0;
	sp->pkt_size = VSTOR_SIZE;
	sp->stalled = false;
}

static int close_channel(struct storvsp *sp, const char *why)
{
	splog(sp, "closing the channel: %s", why);
	sp->state = STORVSP_CLOSED;
	return -1;
}

/*
 * Put one completion on the host->guest ring: 0 when written or kept in
 * sp->stalled because the ring is full, -1 when the ring is corrupt.
 * *signal is set when the guest must be told.
 */
static int send_completion(struct storvsp *sp, uint64_t trans_id,
			   const struct vstor_packet *vp, uint32_t size,
			   bool *signal)
{
	struct vmbus_pkt_desc d = {
		.type = VMBUS_PKT_COMP,
		.offset8 = sizeof(d) / 8,
		.len8 = (uint16_t)((sizeof(d) + size + 7) / 8),
		.trans_id = trans_id,
	};
	struct vmbus_iov iov[2] = { { &d, sizeof(d) }, { vp, size } };
	bool sig;
	int err = vmbus_ring_write(sp->out, iov, 2, &sig);

	if (err == VMBUS_RING_AGAIN) {
		/* Keep it; pending_send_sz is set, so the guest signals us
		 * once it has read enough to make room. */
		memcpy(sp->stalled_pkt, &d, sizeof(d));
		memcpy(sp->stalled_pkt + sizeof(d), vp, size);
		sp->stalled_len = (uint32_t)sizeof(d) + size;
		sp->stalled = true;
		sp->stats.ring_full++;
		return 0;
	}
	if (err)
		return close_channel(sp, "host->guest ring corrupt");
	*signal |= sig;
	return 0;
}

/* Retry the completion a full ring refused: 0 sent or still waiting. */
static int flush_stalled(struct storvsp *sp, bool *signal)
{
	struct vmbus_iov iov = { sp->stalled_pkt, sp->stalled_len };
	bool sig;
	int err = vmbus_ring_write(sp->out, &iov, 1, &sig);

	if (err == VMBUS_RING_AGAIN)
		return 0;
	if (err)
		return close_channel(sp, "host->guest ring corrupt");
	sp->stalled = false;
	*signal |= sig;
	return 0;
}

/* Copy len bytes between the bounce buffer and the guest pages of a gpa
 * range, page by page: 0, or -1 when a page is not the guest's. */
static int copy_range(struct storvsp *sp, const uint64_t *pfns,
		      uint32_t byte_offset, uint32_t len, bool to_guest)
{
	uint32_t done = 0, off = byte_offset;

	for (uint32_t i = 0; done < len; i++, off = 0) {
		uint32_t n = PAGE_SIZE - off;
		uint64_t pfn, gpa;
		int err;

		if (n > len - done)
			n = len - done;
		memcpy(&pfn, &pfns[i], sizeof(pfn));    /* packet copy */
		if (pfn > MAX_PFN)
			return -1;
		gpa = (pfn << PAGE_SHIFT) + off;
		if (to_guest)
			err = sp->ops->copy_to_guest(sp->ctx, gpa,
						     sp->bounce + done, n);
		else
			err = sp->ops->copy_from_guest(sp->ctx, gpa,
						       sp->bounce + done, n);
		if (err)
			return -1;
		done += n;
	}
	return 0;
}

/* The guest pages of a transfer as DMA segments (adjacent host pages
 * merged) in sp->segs: how many, or 0 when a page is not the guest's. */
static unsigned direct_segs(struct storvsp *sp, const uint64_t *pfns, uint32_t byte_offset,
			    uint32_t len)
{
	uint32_t pages = (byte_offset + len + PAGE_SIZE - 1) / PAGE_SIZE, done = 0, off = byte_offset;
	unsigned n = 0;

	for (uint32_t i = 0; i < pages; i++) {
		memcpy(&sp->phys[i], &pfns[i], 8);      /* packet copy: the pfns in */
		if (sp->phys[i] > MAX_PFN)
			return 0;
	}
	if (sp->ops->dma_pages(sp->ctx, sp->phys, pages, sp->phys))
		return 0;
	for (uint32_t i = 0; i < pages; i++, off = 0) {
		uint32_t take = PAGE_SIZE - off;
		uint64_t at = sp->phys[i] + off;

		if (take > len - done)
			take = len - done;
		if (n && sp->segs[n - 1].addr + sp->segs[n - 1].len == at)
			sp->segs[n - 1].len += take;
		else
			sp->segs[n++] = (struct blk_seg){ at, take };
		done += take;
	}
	return n;
}

/* The data buffer of an EXECUTE_SRB, as the packet described it. */
struct srb_data {
	bool present;           /* GPA direct: a range follows */
	uint32_t byte_count;
	uint32_t byte_offset;
	uint32_t npfns;         /* pfns the packet holds */
	const uint64_t *pfns;   /* in our copy of the packet */
};

/* The LUN the disk model sees: the SRB's on path 0 target 0, else one
 * that never exists (only an INQUIRY gets that far, see srb_check). */
static uint8_t srb_lun(const struct vmscsi_request *srb)
{
	return srb->path_id || srb->target_id ? SCSIDISK_NO_TARGET : srb->lun;
}

/* Check an SRB's addressing and buffer: SRB_STATUS_SUCCESS to go on, or
 * the status to complete it with. */
static uint8_t srb_check(struct storvsp *sp, const struct vmscsi_request *srb,
			 const struct srb_data *data)
{
	uint32_t xfer = srb->data_transfer_length;
	uint64_t pages;

	/* Only path 0, target 0 exists; on it only LUN 0 (Hyper-V's answers,
	 * which Linux turns into "no such device"). An INQUIRY anywhere else
	 * is answered, as a SCSI target does, with peripheral qualifier 3
	 * ("no device here"): Linux's storvsc takes every INQUIRY completion
	 * as a success whatever its SRB status, so a status alone would make
	 * it see a disk of zeros at every address it scans; REPORT LUNS at
	 * an absent target lists none (Linux asks once INQUIRY said PQ 3). */
	if ((srb->path_id || srb->target_id || srb->lun) &&
	    !(srb->cdb_length && (srb->cdb[0] == SCSI_INQUIRY ||
				  (srb->cdb[0] == SCSI_REPORT_LUNS &&
				   (srb->path_id || srb->target_id))))) {
		if (srb->path_id || srb->target_id)
			return SRB_STATUS_SELECTION_TIMEOUT;
		return SRB_STATUS_INVALID_LUN;
	}
	if (!srb->cdb_length || srb->cdb_length > STORVSC_MAX_CMD_LEN) {
		reject(sp, "SRB: cdb_length %u", srb->cdb_length);
		return SRB_STATUS_INVALID_REQUEST;
	}
	if (!data->present) {
		if (xfer) {
			reject(sp, "SRB: %u data bytes but no buffer", xfer);
			return SRB_STATUS_INVALID_REQUEST;
		}
		return SRB_STATUS_SUCCESS;
	}
	if (srb->data_in != VSTOR_READ_TYPE && srb->data_in != VSTOR_WRITE_TYPE) {
		reject(sp, "SRB: buffer with direction %u", srb->data_in);
		return SRB_STATUS_INVALID_REQUEST;
	}
	if (data->byte_offset >= PAGE_SIZE || !data->byte_count ||
	    data->byte_count > STORVSP_MAX_TRANSFER) {
		reject(sp, "SRB: range of %u bytes at offset %u",
		       data->byte_count, data->byte_offset);
		return SRB_STATUS_INVALID_REQUEST;
	}
	pages = ((uint64_t)data->byte_offset + data->byte_count +
		 PAGE_SIZE - 1) / PAGE_SIZE;
	if (pages > data->npfns) {
		reject(sp, "SRB: range needs %u pfns, packet has %u",
		       (unsigned)pages, data->npfns);
		return SRB_STATUS_INVALID_REQUEST;
	}
	if (xfer > data->byte_count) {
		reject(sp, "SRB: transfer %u > range %u", xfer, data->byte_count);
		return SRB_STATUS_INVALID_REQUEST;
	}
	return SRB_STATUS_SUCCESS;
}

/* Fill srb's status, byte count and sense from the disk's result. */
static void srb_result(struct storvsp *sp, struct vmscsi_request *srb,
		       const struct scsi_result *res)
{
	uint32_t max = vstor_pre_win8(sp->version) ? VSTOR_SENSE_SIZE_PRE_WIN8
					     : STORVSC_SENSE_BUFFER_SIZE;
	uint32_t n = res->sense_len;

	srb->scsi_status = res->status;
	srb->data_transfer_length = res->transferred;
	if (res->status == SCSI_STATUS_GOOD) {
		srb->srb_status = res->overrun ? SRB_STATUS_DATA_OVERRUN
					       : SRB_STATUS_SUCCESS;
		srb->sense_info_length = 0;
		return;
	}
	srb->srb_status = SRB_STATUS_ERROR;
	/* Autosense: the guest's sense area (where the CDB was) gets the
	 * sense, cut to what it has room for. */
	if (n > srb->sense_info_length)
		n = srb->sense_info_length;
	if (n > max)
		n = max;
	if (res->status == SCSI_STATUS_CHECK_CONDITION && n) {
		memset(srb->sense_data, 0, sizeof(srb->sense_data));
		memcpy(srb->sense_data, res->sense, n);
		srb->srb_status |= SRB_STATUS_AUTOSENSE_VALID;
	}
	srb->sense_info_length = (uint8_t)(srb->srb_status &
					   SRB_STATUS_AUTOSENSE_VALID ? n : 0);
}

/* Carry out an EXECUTE_SRB: vp (our copy) becomes its completion. */
static void execute_srb(struct storvsp *sp, struct vstor_packet *vp,
			const struct srb_data *data)
{
	struct vmscsi_request *srb = &vp->vm_srb;
	uint32_t xfer = srb->data_transfer_length;
	bool to_guest = srb->data_in == VSTOR_READ_TYPE;
	struct scsi_result res;
	uint8_t cdb[STORVSC_MAX_CMD_LEN];
	uint8_t st;
	unsigned nsegs = 0;
	bool direct;

	sp->stats.requests++;
	st = srb_check(sp, srb, data);
	direct = st == SRB_STATUS_SUCCESS && data->present && sp->ops->dma_pages &&
		 scsidisk_direct(sp->disk, srb->cdb, srb->cdb_length, srb_lun(srb), xfer);
	/* A READ or WRITE of whole blocks goes by the disk's DMA straight
	 * to or from the guest's pages, when the host offers their
	 * addresses; everything else through the bounce buffer. */
	if (direct) {
		nsegs = direct_segs(sp, data->pfns, data->byte_offset, xfer);
		if (!nsegs) {
			sp->stats.guest_faults++;
			splog(sp, "SRB: buffer not in guest memory");
			st = SRB_STATUS_ERROR;
		}
	} else if (st == SRB_STATUS_SUCCESS && data->present && !to_guest &&
		   copy_range(sp, data->pfns, data->byte_offset, xfer, false)) {
		sp->stats.guest_faults++;
		splog(sp, "SRB: write buffer not in guest memory");
		st = SRB_STATUS_ERROR;
	}
	if (st != SRB_STATUS_SUCCESS) {
		srb->srb_status = st;
		srb->scsi_status = SCSI_STATUS_GOOD;
		srb->data_transfer_length = 0;
		srb->sense_info_length = 0;
		sp->stats.srb_errors++;
		return;
	}
	memcpy(cdb, srb->cdb, sizeof(cdb));
	if (direct) {
		sp->stats.direct++;
		scsidisk_execute_sg(sp->disk, cdb, srb->cdb_length, srb_lun(srb), sp->segs, nsegs,
				    xfer, to_guest, &res);
		srb_result(sp, srb, &res);
	} else {
		scsidisk_execute(sp->disk, cdb, srb->cdb_length, srb_lun(srb),
				 data->present ? sp->bounce : NULL,
				 data->present ? xfer : 0, to_guest, &res);
		srb_result(sp, srb, &res);
		if (data->present && to_guest && res.transferred &&
		    copy_range(sp, data->pfns, data->byte_offset, res.transferred, true)) {
			sp->stats.guest_faults++;
			splog(sp, "SRB: read buffer not in guest memory");
			srb->srb_status = SRB_STATUS_ERROR;
			srb->scsi_status = SCSI_STATUS_GOOD;
			srb->data_transfer_length = 0;
			srb->sense_info_length = 0;
		}
	}
	if (data->present && to_guest)
		sp->stats.bytes_read += srb->data_transfer_length;
	else if (data->present)
		sp->stats.bytes_written += srb->data_transfer_length;
	if (SRB_STATUS(srb->srb_status) != SRB_STATUS_SUCCESS)
		sp->stats.srb_errors++;
}

/* The initialization operations: vp (our copy of the request) becomes
 * the reply; its status says whether we took it. */
static void control_op(struct storvsp *sp, struct vstor_packet *vp)
{
	uint32_t status = 0;

	switch (vp->operation) {
	case VSTOR_OPERATION_BEGIN_INITIALIZATION:
		/* Also a restart: the guest's driver may probe again. */
		sp->state = STORVSP_NEGOTIATING;
		sp->version = 0;
		sp->pkt_size = VSTOR_SIZE;
		break;
	case VSTOR_OPERATION_QUERY_PROTOCOL_VERSION:
		if (sp->state != STORVSP_NEGOTIATING &&
		    sp->state != STORVSP_VERSIONED) {
			reject(sp, "QUERY_PROTOCOL_VERSION out of order");
			status = STORVSP_STATUS_UNSUCCESSFUL;
		} else if (!version_supported(vp->version.major_minor)) {
			/* Expected: the guest walks down its list. */
			status = STORVSP_STATUS_REVISION_MISMATCH;
		} else {
			sp->version = vp->version.major_minor;
			sp->pkt_size = vstor_pre_win8(sp->version) ?
				       VSTOR_PACKET_SIZE_PRE_WIN8 : VSTOR_SIZE;
			sp->state = STORVSP_VERSIONED;
			splog(sp, "protocol %u.%u",
			      sp->version >> 8, sp->version & 0xff);
		}
		break;
	case VSTOR_OPERATION_QUERY_PROPERTIES:
		if (sp->state != STORVSP_VERSIONED && sp->state != STORVSP_READY) {
			reject(sp, "QUERY_PROPERTIES before a version");
			status = STORVSP_STATUS_UNSUCCESSFUL;
			break;
		}
		memset(&vp->storage_channel_properties, 0,
		       sizeof(vp->storage_channel_properties));
		vp->storage_channel_properties.max_channel_cnt = 0;
		vp->storage_channel_properties.flags = 0;   /* no sub-channels */
		vp->storage_channel_properties.max_transfer_bytes =
			STORVSP_MAX_TRANSFER;
		break;
	case VSTOR_OPERATION_END_INITIALIZATION:
		if (sp->state != STORVSP_VERSIONED) {
			reject(sp, "END_INITIALIZATION out of order");
			status = STORVSP_STATUS_UNSUCCESSFUL;
			break;
		}
		sp->state = STORVSP_READY;
		break;
	case VSTOR_OPERATION_FCHBA_DATA:
		/* Asked only of a Fibre Channel adapter: no WWNs here. */
		memset(&vp->wwn_packet, 0, sizeof(vp->wwn_packet));
		break;
	case VSTOR_OPERATION_RESET_LUN:
	case VSTOR_OPERATION_RESET_ADAPTER:
	case VSTOR_OPERATION_RESET_BUS:
		/* Requests complete before the next is read: nothing is in
		 * flight to abort. */
		break;
	default:
		/* CREATE_SUB_CHANNELS included: we offered none. */
		reject(sp, "operation %u not supported", vp->operation);
		status = STORVSP_STATUS_UNSUCCESSFUL;
		break;
	}
	vp->status = status;
}

/*
 * One packet, copied out of the ring (len bytes in sp->pkt_words, its
 * descriptor checked by the ring: offset8 within len8). Returns 0, or -1
 * when the channel must close.
 */
static int handle_packet(struct storvsp *sp, uint32_t len, bool *signal)
{
	const uint8_t *pkt = (const uint8_t *)sp->pkt_words;
	struct vmbus_pkt_desc d;
	struct srb_data data = { .present = false };
	struct vstor_packet vp;
	uint32_t off, plen, size;

	memcpy(&d, pkt, sizeof(d));
	off = (uint32_t)d.offset8 * 8;
	if (d.type == VMBUS_PKT_DATA_USING_GPA_DIRECT) {
		struct vmbus_pkt_gpa_direct g;

		if (off < sizeof(g))
			return close_channel(sp, "GPA direct packet too short");
		memcpy(&g, pkt, sizeof(g));
		if (g.rangecount != 1) {
			/* storvsc sends one range; answered as bad below. */
			data.npfns = 0;
			data.byte_count = 0;
		} else {
			data.npfns = (off - (uint32_t)sizeof(g)) / 8;
			data.byte_count = g.byte_count;
		}
		data.present = true;
		data.byte_offset = g.byte_offset;
		data.pfns = (const uint64_t *)(pkt + sizeof(g));
	} else if (d.type != VMBUS_PKT_DATA_INBAND) {
		splog(sp, "packet type %u", d.type);
		return close_channel(sp, "packet type storvsc never sends");
	}

	plen = len - off;
	memset(&vp, 0, sizeof(vp));
	memcpy(&vp, pkt + off, plen < sizeof(vp) ? plen : sizeof(vp));
	/* Reply as long as the request until a version fixes the size. */
	if (sp->state == STORVSP_VERSIONED || sp->state == STORVSP_READY)
		size = sp->pkt_size;
	else
		size = plen >= VSTOR_SIZE ? VSTOR_SIZE : VSTOR_PACKET_SIZE_PRE_WIN8;

	if (plen < VSTOR_PACKET_SIZE_PRE_WIN8) {
		reject(sp, "vstor packet of %u bytes", plen);
		vp.status = STORVSP_STATUS_UNSUCCESSFUL;
	} else if (vp.operation != VSTOR_OPERATION_EXECUTE_SRB) {
		control_op(sp, &vp);
	} else if (sp->state != STORVSP_READY || plen < sp->pkt_size) {
		reject(sp, "EXECUTE_SRB %s", sp->state != STORVSP_READY ?
		       "before END_INITIALIZATION" : "too short");
		vp.status = STORVSP_STATUS_UNSUCCESSFUL;
		vp.vm_srb.srb_status = SRB_STATUS_INVALID_REQUEST;
		vp.vm_srb.data_transfer_length = 0;
	} else {
		if (sp->pkt_size < VSTOR_SIZE)
			/* No win8 extension on the wire: do not echo the
			 * bytes that followed the packet. */
			memset((uint8_t *)&vp + sp->pkt_size, 0,
			       VSTOR_SIZE - sp->pkt_size);
		execute_srb(sp, &vp, &data);
		vp.status = 0;
	}
	vp.operation = VSTOR_OPERATION_COMPLETE_IO;
	vp.flags = 0;
	if (!(d.flags & VMBUS_PKT_FLAG_COMPLETION_REQUESTED))
		return 0;
	return send_completion(sp, d.trans_id, &vp, size, signal);
}

int storvsp_poll(struct storvsp *sp)
{
	bool signal = false, more;
	uint32_t taken = 0;
	int err = 0, ret = STORVSP_POLL_DONE;

	if (sp->state == STORVSP_CLOSED || sp->state == STORVSP_DETACHED)
		return -1;
	if (sp->stalled && flush_stalled(sp, &signal))
		return -1;
	vmbus_ring_reader_begin(sp->in);
	while (!sp->stalled) {
		bool sig;
		int len;

		/* Budget spent: stop only when something is really left (an
		 * empty ring goes the normal way below, unmasking); every
		 * poll takes at least one packet, whatever the budget. 0 from
		 * avail_read on a corrupt ring falls through to peek, which
		 * reports it. */
		if (taken && taken >= sp->budget &&
		    vmbus_ring_avail_read(sp->in)) {
			ret = STORVSP_POLL_MORE;
			sp->stats.budget_stops++;
			break;
		}
		len = vmbus_ring_peek(sp->in, sp->pkt_words,
				      sizeof(sp->pkt_words));
		if (len == 0) {
			vmbus_ring_reader_done(sp->in, &more);
			if (!more)
				break;
			vmbus_ring_reader_begin(sp->in);
			continue;
		}
		if (len == VMBUS_RING_TOOBIG)
			return close_channel(sp, "packet longer than any request");
		if (len < 0)
			return close_channel(sp, "guest->host ring corrupt");
		/* Consumed before it is handled: the copy is all we use, and
		 * the guest gets its room back sooner. */
		if (vmbus_ring_consume(sp->in, (uint32_t)len, &sig))
			return close_channel(sp, "guest->host ring corrupt");
		signal |= sig;
		sp->stats.packets++;
		taken++;
		err = handle_packet(sp, (uint32_t)len, &signal);
		if (err)
			return err;
	}
	if (sp->stalled) {
		/* Stopped with packets left: unmask all the same, so the mask
		 * does not outlive this poll. What wakes us is the guest's
		 * signal once it read enough (pending_send_sz on `out`). */
		vmbus_ring_reader_done(sp->in, &more);
		ret = STORVSP_POLL_DONE;
	}
	/* On STORVSP_POLL_MORE the mask stays set: the caller polls again,
	 * and a signal from the guest meanwhile would be a wasted exit. */
	if (signal) {
		sp->stats.signals++;
		sp->ops->signal_guest(sp->ctx);
	}
	return ret;
}
