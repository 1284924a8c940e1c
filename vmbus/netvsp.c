/*
 * netvsp: the host side of NVSP and RNDIS (see netvsp.h): the transport
 * (rings, buffers, chunks) and the data path here, the RNDIS control
 * messages and their OIDs in netvsp_rndis.c.
 *
 * Untrusted input: everything the guest wrote (the ring, each packet's
 * descriptor, page ranges and nvsp_message, its send buffer sections,
 * the RNDIS messages, the GPADL handles it names) is hostile. The ring
 * code copies a packet out before anything looks at it; the RNDIS
 * message(s) a packet names are copied out of guest memory into msg,
 * whole, before the first field is read; from then on only the copies
 * are parsed, each length and offset checked against what the copy
 * holds. Guest memory is touched only through ops->copy_*_guest, one
 * page at a time, at pfns the VMBus server keeps. The policy:
 *  - a corrupt ring, a packet no netvsc sends (unknown type, too long,
 *    an NVSP message shorter than its type, a send buffer section out of
 *    range, an RNDIS message whose lengths or offsets leave the bytes it
 *    came in, a completion for a transfer we never started or already
 *    got back): log and return -1, the caller closes the channel;
 *  - a request we refuse (a buffer whose GPADL does not resolve, an
 *    unsupported version, an RNDIS message larger than NETVSP_MAX_MSG,
 *    a page the guest does not own, a QUERY/SET whose information
 *    buffer is out of the message): log, count, and answer it with a
 *    failure status, so the guest's request completes;
 *  - a frame a NIC would drop (bad length, VLAN tag we cannot carry,
 *    sent before RNDIS init): counted, the packet completes.
 *
 * Host -> guest writes go in one order: a completion the ring refused
 * first, then queued control replies and indications, then frames from
 * the switch. So the pending_send_sz a refused write leaves is never
 * cleared by a later, smaller write while the refused one still waits.
 *
 * Versions: Linux offers NVSP 6.1, 6, 5, 4, 2, 1, newest first, one INIT
 * each; we take them all. Differences that reach us: the offload
 * capability struct's revision (by NVSP version, as Linux asks) and
 * nothing else (no sub-channels, no VF, no RSS, no offloads).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "format.h"
#include "netvsp_rndis.h"

#define PAGE_SIZE       4096u
#define PAGE_SHIFT      12
/* A pfn whose address does not fit in 64 bits is nobody's page. */
#define MAX_PFN         ((1ull << (64 - PAGE_SHIFT)) - 1)
/* Buffers past 4 GiB are not a netvsc's (its largest is 31 MiB). */
#define MAX_BUF_PFNS    (1u << 20)
#define NVSP_SIZE       ((uint32_t)sizeof(struct nvsp_message))
#define NVSP_HDR        4u
/* The RNDIS_MSG_PACKET header in front of each frame for the guest. */
#define RX_HDR_SIZE     (RNDIS_HEADER_SIZE + (uint32_t)sizeof(struct rndis_packet))

/* deliver() results */
enum { DELIVERED = 0, NO_CHUNK, NO_ROOM, GUEST_FAULT };

void netvsp_log(struct netvsp *sp, const char *fmt, ...)
{
	char line[160] = "netvsp: ";
	va_list ap;

	if (!sp->ops->log)
		return;
	va_start(ap, fmt);
	kvsnprintf(line + 8, sizeof(line) - 8, fmt, ap);
	va_end(ap);
	sp->ops->log(sp->ctx, line);
}


static const uint32_t versions[] = {    /* newest first */
	NVSP_PROTOCOL_VERSION_61, NVSP_PROTOCOL_VERSION_6,
	NVSP_PROTOCOL_VERSION_5, NVSP_PROTOCOL_VERSION_4,
	NVSP_PROTOCOL_VERSION_2, NVSP_PROTOCOL_VERSION_1,
};

static uint8_t *msg_bytes(struct netvsp *sp)
{
	return (uint8_t *)sp->msg_words;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void reset_channel(struct netvsp *sp)
{
	sp->version = 0;
	sp->ndis_version = 0;
	sp->guest_mtu = 0;
	sp->guest_caps = 0;
	memset(&sp->recv, 0, sizeof(sp->recv));
	memset(&sp->send, 0, sizeof(sp->send));
	sp->rndis = NETVSP_RNDIS_UNINITIALIZED;
	netvsp_rndis_reset(sp);
	sp->held = false;
	sp->stalled = false;
	sp->reply_head = sp->reply_count = 0;
	sp->nfree = 0;
	memset(sp->busy, 0, sizeof(sp->busy));
}

int netvsp_init(struct netvsp *sp, const uint8_t mac[6],
		const struct netvsp_ops *ops, void *ctx)
{
	if (!sp || !mac || !ops || !ops->copy_from_guest || !ops->copy_to_guest ||
	    !ops->signal_guest || !ops->gpadl || !ops->tx)
		return -1;
	memset(&sp->stats, 0, sizeof(sp->stats));
	sp->in = sp->out = NULL;
	sp->ops = ops;
	sp->ctx = ctx;
	/* The current address outlives channels and RNDIS restarts: only
	 * a NetworkAddress SET changes it. */
	memcpy(sp->perm_mac, mac, 6);
	memcpy(sp->mac, mac, 6);
	sp->set_mac = NULL;
	sp->link_up = true;
	sp->state = NETVSP_DETACHED;
	sp->budget = NETVSP_POLL_BUDGET;
	sp->gen_next = 0;
	reset_channel(sp);
	return 0;
}

void netvsp_allow_mac_change(struct netvsp *sp, netvsp_set_mac_fn *set_mac)
{
	sp->set_mac = set_mac;
}

void netvsp_attach(struct netvsp *sp, struct vmbus_ring *in,
		   struct vmbus_ring *out)
{
	sp->in = in;
	sp->out = out;
	sp->state = in && out ? NETVSP_WAIT_INIT : NETVSP_DETACHED;
	reset_channel(sp);
}

void netvsp_detach(struct netvsp *sp)
{
	sp->in = sp->out = NULL;
	sp->state = NETVSP_DETACHED;
	reset_channel(sp);
}

int netvsp_close_channel(struct netvsp *sp, const char *why)
{
	netvsp_log(sp, "closing the channel: %s", why);
	sp->state = NETVSP_CLOSED;
	return -1;
}

/* ---- guest buffers ------------------------------------------------------- */

/* The pfns of a buffer, looked up now: 0, or -1 when its GPADL is gone
 * or no longer as large as when the guest announced it. */
static int buffer_pfns(struct netvsp *sp, const struct netvsp_buffer *b,
		       const uint64_t **pfns)
{
	uint32_t n = 0;

	if (!b->present || !sp->ops->gpadl(sp->ctx, b->gpadl, pfns, &n) || !*pfns)
		return -1;
	return (uint64_t)n * PAGE_SIZE >= b->bytes ? 0 : -1;
}

/* Copy len bytes between buf and [off, off + len) of a buffer whose
 * pfns cover at least off + len bytes, page by page: 0, or -1 when a
 * page is not the guest's. */
static int buffer_copy(struct netvsp *sp, const uint64_t *pfns, uint32_t off,
		       void *buf, uint32_t len, bool to_guest)
{
	uint8_t *p = buf;

	while (len) {
		uint32_t in_page = off % PAGE_SIZE, n = PAGE_SIZE - in_page;
		uint64_t pfn = pfns[off / PAGE_SIZE];
		int err;

		if (n > len)
			n = len;
		if (pfn > MAX_PFN)
			return -1;
		if (to_guest)
			err = sp->ops->copy_to_guest(sp->ctx, (pfn << PAGE_SHIFT) + in_page, p, n);
		else
			err = sp->ops->copy_from_guest(sp->ctx, (pfn << PAGE_SHIFT) + in_page, p, n);
		if (err)
			return -1;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* ---- receive buffer chunks --------------------------------------------- */

/* Chunks a frame from the switch leaves to control replies. */
static uint32_t data_reserve(const struct netvsp *sp)
{
	return sp->recv.count > 2 * NETVSP_CTRL_RESERVE ? NETVSP_CTRL_RESERVE
							 : sp->recv.count / 2;
}

/* Every chunk of the buffer not still out with the guest is free. */
static void chunks_rebuild(struct netvsp *sp)
{
	sp->nfree = 0;
	for (uint32_t i = sp->recv.count; i-- > 0;)
		if (!sp->busy[i])
			sp->free_stack[sp->nfree++] = (uint16_t)i;
}

static void chunk_release(struct netvsp *sp, uint32_t i)
{
	sp->busy[i] = 0;
	if (sp->recv.present && i < sp->recv.count)
		sp->free_stack[sp->nfree++] = (uint16_t)i;
}

/* ---- writing to the guest ------------------------------------------------ */

/* Put one packet on the host->guest ring: 0 written, 1 no room now, -1
 * the ring is corrupt (the channel is closing). */
static int ring_put(struct netvsp *sp, const struct vmbus_iov *iov, unsigned n,
		    bool *signal)
{
	bool sig;
	int err = vmbus_ring_write(sp->out, iov, n, &sig);

	if (err == VMBUS_RING_AGAIN)
		return 1;
	if (err)
		return netvsp_close_channel(sp, "host->guest ring corrupt");
	*signal |= sig;
	return 0;
}

/* A VM_PKT_COMP for the guest's packet trans_id carrying len bytes of m
 * (0 or NVSP_SIZE). Kept in sp->stalled when the ring is full. 0 or -1. */
static int send_completion(struct netvsp *sp, uint64_t trans_id,
			   const struct nvsp_message *m, uint32_t len, bool *signal)
{
	struct vmbus_pkt_desc d = {
		.type = VMBUS_PKT_COMP,
		.offset8 = sizeof(d) / 8,
		.len8 = (uint16_t)((sizeof(d) + len + 7) / 8),
		.trans_id = trans_id,
	};
	struct vmbus_iov iov[2] = { { &d, sizeof(d) }, { m, len } };
	int r = ring_put(sp, iov, len ? 2 : 1, signal);

	if (r == 1) {
		/* pending_send_sz is set: the guest signals once it read. */
		memcpy(sp->stalled_pkt, &d, sizeof(d));
		if (len)
			memcpy(sp->stalled_pkt + sizeof(d), m, len);
		sp->stalled_len = (uint32_t)sizeof(d) + len;
		sp->stalled = true;
		sp->stats.ring_full++;
		return 0;
	}
	return r;
}

static int flush_stalled(struct netvsp *sp, bool *signal)
{
	struct vmbus_iov iov = { sp->stalled_pkt, sp->stalled_len };
	int r = ring_put(sp, &iov, 1, signal);

	if (r == 0)
		sp->stalled = false;
	return r < 0 ? -1 : 0;
}

/*
 * One RNDIS message for the guest, the concatenation of a[0..alen) and
 * b[0..blen) (at most NETVSP_CHUNK_SIZE bytes): into a free chunk (only
 * while more than `reserve` are free), then announced by a transfer-page
 * packet of channel type ctype. DELIVERED, NO_CHUNK, NO_ROOM (ring full;
 * the chunk stays free), GUEST_FAULT (a receive buffer page is not the
 * guest's), or -1 (ring corrupt).
 */
static int deliver(struct netvsp *sp, const void *a, uint32_t alen, const void *b,
		   uint32_t blen, uint32_t ctype, uint32_t reserve, bool *signal)
{
	const uint64_t *pfns;
	uint32_t i, off, gen, nv[4] = {
		NVSP_MSG1_TYPE_SEND_RNDIS_PKT, ctype, NVSP_INVALID_SECTION_INDEX, 0,
	};
	struct vmbus_xfer_page_header h;
	struct vmbus_xfer_page_range range;
	struct vmbus_iov iov[3] = {
		{ &h, sizeof(h) }, { &range, sizeof(range) }, { nv, sizeof(nv) },
	};
	int r;

	if (!sp->recv.present || sp->nfree <= reserve)
		return NO_CHUNK;
	if (buffer_pfns(sp, &sp->recv, &pfns))
		return NO_CHUNK;        /* torn down without a revoke */
	i = sp->free_stack[sp->nfree - 1];
	off = i * NETVSP_CHUNK_SIZE;
	if (buffer_copy(sp, pfns, off, (void *)a, alen, true) ||
	    (blen && buffer_copy(sp, pfns, off + alen, (void *)b, blen, true)))
		return GUEST_FAULT;
	gen = ++sp->gen_next;
	memset(&h, 0, sizeof(h));
	h.type = VMBUS_PKT_DATA_USING_XFER_PAGES;
	h.offset8 = (sizeof(h) + sizeof(range)) / 8;
	h.len8 = (sizeof(h) + sizeof(range) + sizeof(nv)) / 8;
	h.flags = VMBUS_PKT_FLAG_COMPLETION_REQUESTED;
	h.trans_id = (uint64_t)gen << 16 | i;
	h.xfer_pageset_id = sp->recv.id;
	h.range_cnt = 1;
	range.byte_count = alen + blen;
	range.byte_offset = off;
	r = ring_put(sp, iov, 3, signal);
	if (r)
		return r < 0 ? -1 : NO_ROOM;
	sp->nfree--;
	sp->busy[i] = 1;
	sp->gen[i] = gen;
	return DELIVERED;
}

static bool data_initialized(const struct netvsp *sp)
{
	return sp->rndis == NETVSP_RNDIS_INITIALIZED && sp->filter;
}

/* See netvsp_rndis.h. */
void netvsp_queue_reply(struct netvsp *sp, uint32_t type, const void *body,
			uint32_t blen, const void *extra, uint32_t elen)
{
	struct netvsp_reply *r =
		&sp->reply[(sp->reply_head + sp->reply_count) % NETVSP_REPLY_SLOTS];
	struct rndis_msg_header h = { type, RNDIS_HEADER_SIZE + blen + elen };

	memcpy(r->msg, &h, sizeof(h));
	memcpy(r->msg + sizeof(h), body, blen);
	if (elen)
		memcpy(r->msg + sizeof(h) + blen, extra, elen);
	r->len = h.msg_len;
	sp->reply_count++;
}

/* Queue the link indication when one is due and a slot is free. */
static void queue_indication(struct netvsp *sp)
{
	struct rndis_indicate_status st = {
		.status = sp->link_up ? RNDIS_STATUS_MEDIA_CONNECT
				      : RNDIS_STATUS_MEDIA_DISCONNECT,
	};

	if (!sp->indicate || sp->reply_count == NETVSP_REPLY_SLOTS)
		return;
	netvsp_queue_reply(sp, RNDIS_MSG_INDICATE, &st, sizeof(st), NULL, 0);
	sp->indicate = false;
}

/* Send queued control replies while chunks and ring room last. 0 or -1. */
static int flush_replies(struct netvsp *sp, bool *signal)
{
	if (sp->stalled || !sp->out)
		return 0;
	queue_indication(sp);
	while (sp->reply_count) {
		struct netvsp_reply *r = &sp->reply[sp->reply_head];
		int e = deliver(sp, r->msg, r->len, NULL, 0, NVSP_CHANNEL_TYPE_CONTROL,
				0, signal);

		if (e < 0)
			return -1;
		if (e == NO_CHUNK || e == NO_ROOM)
			return 0;
		if (e == GUEST_FAULT) {
			/* Its own receive buffer is not the guest's: this
			 * reply can never be delivered. */
			sp->stats.guest_faults++;
			netvsp_log(sp, "receive buffer not in guest memory: reply dropped");
		} else if (get32(r->msg) == RNDIS_MSG_INDICATE) {
			sp->stats.indications++;
		} else {
			sp->stats.replies++;
		}
		sp->reply_head = (sp->reply_head + 1) % NETVSP_REPLY_SLOTS;
		sp->reply_count--;
		queue_indication(sp);
	}
	return 0;
}

/* ---- RNDIS data ---------------------------------------------------------- */

/* Walk the per-packet info of an RNDIS_MSG_PACKET (body: the bytes after
 * the header, blen of them): 0, 1 when it carries a VLAN tag, -1 when
 * malformed. */
static int check_ppi(const uint8_t *body, uint32_t blen, const struct rndis_packet *rp)
{
	uint32_t pos = rp->per_pkt_info_offset, left = rp->per_pkt_info_len;
	int vlan = 0;

	if (!left)
		return 0;
	if (pos < sizeof(*rp) || pos > blen || left > blen - pos)
		return -1;
	while (left) {
		struct rndis_per_packet_info ppi;

		if (left < sizeof(ppi))
			return -1;
		memcpy(&ppi, body + pos, sizeof(ppi));
		if (ppi.size < sizeof(ppi) || ppi.size > left ||
		    ppi.ppi_offset < sizeof(ppi) || ppi.ppi_offset > ppi.size)
			return -1;
		if (RNDIS_PPI_TYPE(ppi.type_internal) == RNDIS_PPI_IEEE_8021Q &&
		    !(ppi.type_internal & RNDIS_PPI_INTERNAL) &&
		    ppi.size - ppi.ppi_offset >= 4 &&
		    get32(body + pos + ppi.ppi_offset))
			vlan = 1;
		pos += ppi.size;
		left -= ppi.size;
	}
	return vlan;
}

/* An RNDIS_MSG_PACKET of len bytes at p: its frame to the switch. 0
 * done, 1 the switch is busy (try again), -1 close. */
static int rndis_data(struct netvsp *sp, const uint8_t *p, uint32_t len)
{
	const uint8_t *body = p + RNDIS_HEADER_SIZE;
	uint32_t blen = len - RNDIS_HEADER_SIZE;
	struct rndis_packet rp;
	int vlan, r;

	if (blen < sizeof(rp))
		return netvsp_close_channel(sp, "RNDIS packet message truncated");
	memcpy(&rp, body, sizeof(rp));
	if (rp.data_offset < sizeof(rp) || rp.data_offset > blen ||
	    rp.data_len > blen - rp.data_offset) {
		netvsp_log(sp, "RNDIS packet: %u bytes at %u in a %u-byte message",
		      rp.data_len, rp.data_offset, len);
		return netvsp_close_channel(sp, "RNDIS packet data out of its message");
	}
	vlan = check_ppi(body, blen, &rp);
	if (vlan < 0)
		return netvsp_close_channel(sp, "RNDIS per-packet info malformed");
	if (sp->rndis != NETVSP_RNDIS_INITIALIZED || vlan ||
	    rp.data_len < NETVSP_FRAME_MIN || rp.data_len > NETVSP_FRAME_MAX) {
		/* A VLAN tag we cannot put on the switch's untagged wire;
		 * a frame no Ethernet carries; a device not initialized. */
		sp->stats.tx_dropped++;
		return 0;
	}
	r = sp->ops->tx(sp->ctx, body + rp.data_offset, rp.data_len);
	if (r == NETVSP_TX_BUSY) {
		sp->stats.tx_busy++;
		return 1;
	}
	if (r == NETVSP_TX_SENT) {
		sp->stats.tx_frames++;
		sp->stats.tx_bytes += rp.data_len;
	} else {
		sp->stats.tx_refused++;
	}
	return 0;
}

/* One RNDIS message of len bytes (8 <= len) at p. 0 done, 1 blocked
 * (switch busy or reply queue full: try again later), -1 close. */
static int rndis_message(struct netvsp *sp, const uint8_t *p, uint32_t len)
{
	if (get32(p) == RNDIS_MSG_PACKET)
		return rndis_data(sp, p, len);
	return netvsp_rndis_control(sp, p, len);
}

/* Work through the held packet's messages from msg_off; complete it when
 * all are done. 0 (done, or blocked and still held) or -1. */
static int run_held(struct netvsp *sp, bool *signal)
{
	const uint8_t *m = msg_bytes(sp);

	while (sp->msg_off < sp->msg_len) {
		uint32_t left = sp->msg_len - sp->msg_off, len;
		int r;

		if (left < RNDIS_HEADER_SIZE)
			return netvsp_close_channel(sp, "RNDIS message truncated");
		len = get32(m + sp->msg_off + 4);
		if (len < RNDIS_HEADER_SIZE || len > left) {
			netvsp_log(sp, "RNDIS message of %u bytes, %u there", len, left);
			return netvsp_close_channel(sp, "RNDIS message length");
		}
		r = rndis_message(sp, m + sp->msg_off, len);
		if (r)
			return r < 0 ? -1 : 0;
		sp->stats.rndis_msgs++;
		sp->msg_off += len;
	}
	sp->held = false;
	if (sp->held_comp) {
		struct nvsp_message c = { .msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE };

		c.send_rndis_pkt_complete.status = sp->held_status;
		return send_completion(sp, sp->held_tid, &c, NVSP_SIZE, signal);
	}
	return 0;
}

/* ---- NVSP ---------------------------------------------------------------- */

/* The packet being handled: its descriptor and nvsp_message (zero past
 * what the packet holds), plen payload bytes, and where the ranges of a
 * GPA direct packet are in the packet copy. */
struct nvsp_req {
	struct vmbus_pkt_desc d;
	struct nvsp_message m;
	uint32_t plen;
	const uint8_t *ranges;          /* NULL unless GPA direct */
	uint32_t ranges_len;
	uint32_t rangecount;
};

static int reply(struct netvsp *sp, const struct nvsp_req *rq,
		 const struct nvsp_message *m, bool *signal)
{
	if (!(rq->d.flags & VMBUS_PKT_FLAG_COMPLETION_REQUESTED))
		return 0;
	return send_completion(sp, rq->d.trans_id, m, m ? NVSP_SIZE : 0, signal);
}

static int nvsp_init(struct netvsp *sp, const struct nvsp_req *rq, bool *signal)
{
	struct nvsp_message c = { .msg_type = NVSP_MSG_TYPE_INIT_COMPLETE };
	uint32_t lo = rq->m.init.min_protocol_ver, hi = rq->m.init.max_protocol_ver;

	c.init_complete.status = NVSP_STAT_FAIL;
	if (sp->recv.present || sp->send.present) {
		netvsp_reject(sp, "INIT with buffers in place");
	} else {
		for (unsigned i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
			if (versions[i] < lo || versions[i] > hi)
				continue;
			/* Expected misses: Linux walks down its list. */
			sp->version = versions[i];
			sp->state = NETVSP_READY;
			c.init_complete.negotiated_protocol_ver = versions[i];
			c.init_complete.status = NVSP_STAT_SUCCESS;
			netvsp_log(sp, "NVSP protocol 0x%x", versions[i]);
			break;
		}
	}
	return reply(sp, rq, &c, signal);
}

/* SEND_RECV_BUF or SEND_SEND_BUF. */
static int nvsp_buffer(struct netvsp *sp, const struct nvsp_req *rq, bool recv,
		       bool *signal)
{
	struct netvsp_buffer *b = recv ? &sp->recv : &sp->send;
	struct nvsp_message c = { .msg_type = recv ? NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE
						   : NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE };
	uint32_t unit = recv ? NETVSP_CHUNK_SIZE : NETVSP_SEND_SECTION;
	uint32_t handle = rq->m.send_buf.gpadl_handle, npfns = 0, status = NVSP_STAT_FAIL;
	const uint64_t *pfns = NULL;

	if (sp->state != NETVSP_READY || b->present) {
		netvsp_reject(sp, "%s buffer %s", recv ? "receive" : "send",
		       b->present ? "given twice" : "before INIT");
	} else if (!sp->ops->gpadl(sp->ctx, handle, &pfns, &npfns) || !pfns) {
		netvsp_reject(sp, "%s buffer: no gpadl 0x%x", recv ? "receive" : "send", handle);
	} else if (npfns > MAX_BUF_PFNS || (uint64_t)npfns * PAGE_SIZE < unit) {
		netvsp_reject(sp, "%s buffer of %u pages", recv ? "receive" : "send", npfns);
	} else {
		b->present = true;
		b->id = rq->m.send_buf.id;
		b->gpadl = handle;
		b->bytes = npfns * PAGE_SIZE;
		b->count = b->bytes / unit;
		if (recv && b->count > NETVSP_MAX_CHUNKS)
			b->count = NETVSP_MAX_CHUNKS;
		if (recv)
			chunks_rebuild(sp);
		status = NVSP_STAT_SUCCESS;
	}
	if (recv) {
		struct nvsp1_send_receive_buffer_complete *r = &c.send_recv_buf_complete;

		r->status = status;
		if (status == NVSP_STAT_SUCCESS) {
			r->num_sections = 1;
			r->sections[0].offset = 0;
			r->sections[0].sub_alloc_size = NETVSP_CHUNK_SIZE;
			r->sections[0].num_sub_allocs = b->count;
			r->sections[0].end_offset = b->count * NETVSP_CHUNK_SIZE;
		}
	} else {
		c.send_send_buf_complete.status = status;
		c.send_send_buf_complete.section_size =
			status == NVSP_STAT_SUCCESS ? NETVSP_SEND_SECTION : 0;
	}
	return reply(sp, rq, &c, signal);
}

static void nvsp_revoke(struct netvsp *sp, const struct nvsp_req *rq, bool recv)
{
	struct netvsp_buffer *b = recv ? &sp->recv : &sp->send;

	if (!b->present || b->id != rq->m.revoke_buf.id) {
		netvsp_reject(sp, "revoke of %s buffer %u we do not have",
		       recv ? "receive" : "send", rq->m.revoke_buf.id);
		return;
	}
	/* Chunks still out stay busy: their completions may follow. */
	b->present = false;
	if (recv)
		sp->nfree = 0;
}

/* Copy the bytes of the GPA direct ranges after what msg holds (total):
 * the new total, or -1 malformed (closed), -2 a page not the guest's,
 * -3 more than NETVSP_MAX_MSG. */
static int64_t copy_ranges(struct netvsp *sp, const struct nvsp_req *rq, uint32_t total)
{
	const uint8_t *at = rq->ranges, *end = rq->ranges + rq->ranges_len;
	int64_t status = 0;

	for (uint32_t r = 0; r < rq->rangecount; r++) {
		uint32_t count, offset, pages;
		const uint8_t *pfn_at;

		if (end - at < 8)
			return netvsp_close_channel(sp, "GPA direct ranges beyond the packet");
		count = get32(at);
		offset = get32(at + 4);
		if (offset >= PAGE_SIZE)
			return netvsp_close_channel(sp, "GPA direct range offset beyond its page");
		pages = (uint32_t)(((uint64_t)offset + count + PAGE_SIZE - 1) / PAGE_SIZE);
		pfn_at = at + 8;
		if ((uint64_t)(end - pfn_at) < (uint64_t)pages * 8)
			return netvsp_close_channel(sp, "GPA direct pfns beyond the packet");
		at = pfn_at + (size_t)pages * 8;
		if (status)
			continue;       /* still checking the rest of the packet */
		if (count > NETVSP_MAX_MSG - total) {
			status = -3;
			continue;
		}
		for (uint32_t pg = 0, done = 0; done < count; pg++) {
			uint64_t pfn;
			uint32_t in_page = pg ? 0 : offset, n = PAGE_SIZE - in_page;

			if (n > count - done)
				n = count - done;
			memcpy(&pfn, pfn_at + 8 * pg, 8);
			if (pfn > MAX_PFN ||
			    sp->ops->copy_from_guest(sp->ctx, (pfn << PAGE_SHIFT) + in_page,
						     msg_bytes(sp) + total + done, n)) {
				status = -2;
				break;
			}
			done += n;
		}
		total += count;
	}
	return status ? status : total;
}

/* SEND_RNDIS_PKT: copy its RNDIS message(s) out, then work through them. */
static int nvsp_rndis(struct netvsp *sp, const struct nvsp_req *rq, bool *signal)
{
	struct nvsp_message c = { .msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE };
	const struct nvsp1_send_rndis_packet *s = &rq->m.send_rndis_pkt;
	uint32_t total = 0;
	int64_t got;

	if (sp->state != NETVSP_READY) {
		netvsp_reject(sp, "RNDIS packet before INIT");
		c.send_rndis_pkt_complete.status = NVSP_STAT_FAIL;
		return reply(sp, rq, &c, signal);
	}
	if (s->send_buf_section_index != NVSP_INVALID_SECTION_INDEX) {
		const uint64_t *pfns;

		if (!sp->send.present)
			return netvsp_close_channel(sp, "send buffer section without a send buffer");
		if (s->send_buf_section_index >= sp->send.count ||
		    !s->send_buf_section_size ||
		    s->send_buf_section_size > NETVSP_SEND_SECTION) {
			netvsp_log(sp, "send section %u (%u bytes) of %u", s->send_buf_section_index,
			      s->send_buf_section_size, sp->send.count);
			return netvsp_close_channel(sp, "send buffer section out of range");
		}
		if (buffer_pfns(sp, &sp->send, &pfns))
			return netvsp_close_channel(sp, "send buffer gpadl gone");
		if (buffer_copy(sp, pfns, s->send_buf_section_index * NETVSP_SEND_SECTION,
				msg_bytes(sp), s->send_buf_section_size, false))
			total = UINT32_MAX;     /* a foreign page */
		else
			total = s->send_buf_section_size;
	} else if (!rq->ranges) {
		return netvsp_close_channel(sp, "RNDIS packet with no message");
	}
	got = total;
	if (rq->ranges && total != UINT32_MAX) {
		got = copy_ranges(sp, rq, total);
		if (got == -1)
			return -1;
	}
	if (total == UINT32_MAX || got == -2 || got == -3) {
		if (got == -3) {
			netvsp_reject(sp, "RNDIS message over %u bytes", NETVSP_MAX_MSG);
		} else {
			sp->stats.guest_faults++;
			netvsp_log(sp, "RNDIS message not in guest memory");
		}
		c.send_rndis_pkt_complete.status = NVSP_STAT_FAIL;
		return reply(sp, rq, &c, signal);
	}
	if (!got)
		return netvsp_close_channel(sp, "empty RNDIS message");
	sp->held = true;
	sp->held_comp = rq->d.flags & VMBUS_PKT_FLAG_COMPLETION_REQUESTED;
	sp->held_tid = rq->d.trans_id;
	sp->held_status = NVSP_STAT_SUCCESS;
	sp->msg_len = (uint32_t)got;
	sp->msg_off = 0;
	return run_held(sp, signal);
}

/* The guest gives back a transfer-page packet's chunk. */
static int guest_completion(struct netvsp *sp, const struct nvsp_req *rq)
{
	uint64_t tid = rq->d.trans_id, gen = tid >> 16;
	uint32_t i = (uint32_t)(tid & 0xffff);

	if (rq->plen < NVSP_HDR || rq->m.msg_type != NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE)
		return netvsp_close_channel(sp, "completion that is not an RNDIS packet's");
	if (gen >> 32 || i >= NETVSP_MAX_CHUNKS || !sp->busy[i] || sp->gen[i] != gen) {
		netvsp_log(sp, "completion id 0x%llx", (unsigned long long)tid);
		return netvsp_close_channel(sp, "completion for a transfer we did not start");
	}
	chunk_release(sp, i);
	return 0;
}

/* The smallest payload each NVSP message the guest may send needs. */
static uint32_t nvsp_min_len(uint32_t type)
{
	switch (type) {
	case NVSP_MSG_TYPE_INIT:                return sizeof(struct nvsp_init);
	case NVSP_MSG1_TYPE_SEND_NDIS_VER:      return sizeof(struct nvsp1_send_ndis_version);
	case NVSP_MSG1_TYPE_SEND_RECV_BUF:
	case NVSP_MSG1_TYPE_SEND_SEND_BUF:      return sizeof(struct nvsp1_send_buffer);
	case NVSP_MSG1_TYPE_REVOKE_RECV_BUF:
	case NVSP_MSG1_TYPE_REVOKE_SEND_BUF:    return sizeof(struct nvsp1_revoke_buffer);
	case NVSP_MSG1_TYPE_SEND_RNDIS_PKT:     return sizeof(struct nvsp1_send_rndis_packet);
	case NVSP_MSG2_TYPE_SEND_NDIS_CONFIG:   return sizeof(struct nvsp2_send_ndis_config);
	case NVSP_MSG4_TYPE_SWITCH_DATA_PATH:   return sizeof(struct nvsp4_switch_data_path);
	case NVSP_MSG5_TYPE_SUBCHANNEL:         return sizeof(struct nvsp5_subchannel_request);
	default:                                return 0;
	}
}

static int nvsp_message(struct netvsp *sp, const struct nvsp_req *rq, bool *signal)
{
	uint32_t type = rq->m.msg_type;
	struct nvsp_message c = { .msg_type = type };

	if (rq->plen - NVSP_HDR < nvsp_min_len(type)) {
		netvsp_log(sp, "NVSP message %u of %u bytes", type, rq->plen);
		return netvsp_close_channel(sp, "NVSP message too short");
	}
	if (rq->ranges && type != NVSP_MSG1_TYPE_SEND_RNDIS_PKT)
		return netvsp_close_channel(sp, "page ranges on a message that has none");
	switch (type) {
	case NVSP_MSG_TYPE_INIT:
		return nvsp_init(sp, rq, signal);
	case NVSP_MSG2_TYPE_SEND_NDIS_CONFIG:
		sp->guest_mtu = rq->m.send_ndis_config.mtu;
		sp->guest_caps = rq->m.send_ndis_config.capability;
		return 0;
	case NVSP_MSG1_TYPE_SEND_NDIS_VER:
		sp->ndis_version = rq->m.send_ndis_ver.ndis_major_ver << 16 |
				   (rq->m.send_ndis_ver.ndis_minor_ver & 0xffff);
		return 0;
	case NVSP_MSG1_TYPE_SEND_RECV_BUF:
	case NVSP_MSG1_TYPE_SEND_SEND_BUF:
		return nvsp_buffer(sp, rq, type == NVSP_MSG1_TYPE_SEND_RECV_BUF, signal);
	case NVSP_MSG1_TYPE_REVOKE_RECV_BUF:
	case NVSP_MSG1_TYPE_REVOKE_SEND_BUF:
		nvsp_revoke(sp, rq, type == NVSP_MSG1_TYPE_REVOKE_RECV_BUF);
		return 0;
	case NVSP_MSG1_TYPE_SEND_RNDIS_PKT:
		return nvsp_rndis(sp, rq, signal);
	case NVSP_MSG5_TYPE_SUBCHANNEL:
		/* None to offer: Linux goes on with the primary channel. */
		c.subchn_comp.status = NVSP_STAT_FAIL;
		c.subchn_comp.num_subchannels = 0;
		return reply(sp, rq, &c, signal);
	case NVSP_MSG4_TYPE_SWITCH_DATA_PATH:
		/* No VF ever offered: the data path stays synthetic. Linux
		 * waits for a completion without payload. */
		return reply(sp, rq, NULL, signal);
	default:
		netvsp_reject(sp, "NVSP message type %u not supported", type);
		return 0;
	}
}

/*
 * One packet, copied out of the ring (len bytes in pkt_words, its
 * descriptor checked by the ring: offset8 within len8). Returns 0, or
 * -1 when the channel must close.
 */
static int handle_packet(struct netvsp *sp, uint32_t len, bool *signal)
{
	const uint8_t *pkt = (const uint8_t *)sp->pkt_words;
	struct nvsp_req rq = { .ranges = NULL };
	uint32_t off;

	memcpy(&rq.d, pkt, sizeof(rq.d));
	off = (uint32_t)rq.d.offset8 * 8;
	rq.plen = len - off;
	memset(&rq.m, 0, sizeof(rq.m));
	memcpy(&rq.m, pkt + off, rq.plen < NVSP_SIZE ? rq.plen : NVSP_SIZE);
	if (rq.d.type == VMBUS_PKT_COMP)
		return guest_completion(sp, &rq);
	if (rq.d.type == VMBUS_PKT_DATA_USING_GPA_DIRECT) {
		if (off < sizeof(struct vmbus_pkt_gpa_direct) - 8)
			return netvsp_close_channel(sp, "GPA direct packet too short");
		rq.rangecount = get32(pkt + 20);
		rq.ranges = pkt + 24;
		rq.ranges_len = off - 24;
	} else if (rq.d.type != VMBUS_PKT_DATA_INBAND) {
		netvsp_log(sp, "packet type %u", rq.d.type);
		return netvsp_close_channel(sp, "packet type netvsc never sends");
	}
	if (rq.plen < NVSP_HDR)
		return netvsp_close_channel(sp, "packet without an NVSP message");
	return nvsp_message(sp, &rq, signal);
}

int netvsp_poll(struct netvsp *sp)
{
	bool signal = false, more;
	uint32_t taken = 0;
	int ret = NETVSP_POLL_DONE;

	if (sp->state == NETVSP_CLOSED || sp->state == NETVSP_DETACHED)
		return -1;
	if (sp->stalled && flush_stalled(sp, &signal))
		return -1;
	if (flush_replies(sp, &signal))
		return -1;
	if (sp->held && !sp->stalled && run_held(sp, &signal))
		return -1;
	vmbus_ring_reader_begin(sp->in);
	while (!sp->stalled && !sp->held) {
		bool sig;
		int len;

		/* Budget spent: stop only when something is really left; 0
		 * from avail_read on a corrupt ring falls through to peek,
		 * which reports it. */
		if (taken && taken >= sp->budget && vmbus_ring_avail_read(sp->in)) {
			ret = NETVSP_POLL_MORE;
			sp->stats.budget_stops++;
			break;
		}
		len = vmbus_ring_peek(sp->in, sp->pkt_words, sizeof(sp->pkt_words));
		if (len == 0) {
			vmbus_ring_reader_done(sp->in, &more);
			if (!more)
				break;
			vmbus_ring_reader_begin(sp->in);
			continue;
		}
		if (len == VMBUS_RING_TOOBIG)
			return netvsp_close_channel(sp, "packet longer than any netvsc sends");
		if (len < 0)
			return netvsp_close_channel(sp, "guest->host ring corrupt");
		/* Consumed before it is handled: the copy is all we use. */
		if (vmbus_ring_consume(sp->in, (uint32_t)len, &sig))
			return netvsp_close_channel(sp, "guest->host ring corrupt");
		signal |= sig;
		sp->stats.packets++;
		taken++;
		if (handle_packet(sp, (uint32_t)len, &signal) || flush_replies(sp, &signal))
			return -1;
	}
	if (sp->stalled || sp->held) {
		/* Stopped with packets maybe left: unmask all the same. The
		 * guest signals once it read (pending_send_sz on `out`); a
		 * busy switch is the caller's to retry (netvsp_tx_blocked). */
		vmbus_ring_reader_done(sp->in, &more);
		ret = NETVSP_POLL_DONE;
	}
	if (signal) {
		sp->stats.signals++;
		sp->ops->signal_guest(sp->ctx);
	}
	return ret;
}

/* ---- frames from the switch --------------------------------------------- */

bool netvsp_can_receive(const struct netvsp *sp)
{
	return sp->state == NETVSP_READY && sp->recv.present && data_initialized(sp) &&
	       !sp->stalled && !sp->reply_count && !sp->indicate &&
	       sp->nfree > data_reserve(sp);
}

bool netvsp_tx_blocked(const struct netvsp *sp)
{
	/* Held at a data message: the switch said busy (a control message
	 * waits for the reply queue instead, which a poll drains). */
	return sp->held && sp->state == NETVSP_READY &&
	       get32((const uint8_t *)sp->msg_words + sp->msg_off) == RNDIS_MSG_PACKET;
}

int netvsp_receive(struct netvsp *sp, const void *frame, size_t len)
{
	struct rndis_msg_header h = { RNDIS_MSG_PACKET, 0 };
	struct rndis_packet rp = { .data_offset = sizeof(rp) };
	uint8_t hdr[RX_HDR_SIZE];
	bool signal = false;
	int e;

	/* Control replies go first, and the guest reads nothing before
	 * it opened the device. */
	if (sp->state != NETVSP_READY || !sp->recv.present || !data_initialized(sp) ||
	    sp->stalled || sp->reply_count || sp->indicate)
		return -1;
	if (!frame || len < NETVSP_FRAME_MIN || len > NETVSP_FRAME_MAX || !sp->link_up) {
		sp->stats.rx_dropped++;
		return 0;
	}
	if (!netvsp_filter_pass(sp, frame)) {
		sp->stats.rx_filtered++;
		return 0;
	}
	rp.data_len = (uint32_t)len;
	h.msg_len = RX_HDR_SIZE + (uint32_t)len;
	memcpy(hdr, &h, sizeof(h));
	memcpy(hdr + sizeof(h), &rp, sizeof(rp));
	e = deliver(sp, hdr, RX_HDR_SIZE, frame, (uint32_t)len, NVSP_CHANNEL_TYPE_DATA,
		    data_reserve(sp), &signal);
	switch (e) {
	case DELIVERED:
		sp->stats.rx_frames++;
		sp->stats.rx_bytes += len;
		if (signal) {
			sp->stats.signals++;
			sp->ops->signal_guest(sp->ctx);
		}
		return 0;
	case NO_CHUNK:
		sp->stats.rx_no_chunk++;
		return -1;
	case NO_ROOM:
		sp->stats.rx_ring_full++;
		return -1;
	case GUEST_FAULT:
		sp->stats.guest_faults++;
		sp->stats.rx_dropped++;
		return 0;
	default:
		return -1;      /* ring corrupt: the next poll says close */
	}
}

void netvsp_set_link(struct netvsp *sp, bool up)
{
	bool signal = false;

	if (up == sp->link_up)
		return;
	sp->link_up = up;
	netvsp_log(sp, "link %s", up ? "up" : "down");
	if (sp->rndis != NETVSP_RNDIS_INITIALIZED || !sp->link_told)
		return;         /* the first packet filter tells it */
	sp->indicate = true;
	if (sp->state != NETVSP_READY || flush_replies(sp, &signal))
		return;
	if (signal) {
		sp->stats.signals++;
		sp->ops->signal_guest(sp->ctx);
	}
}
