/*
 * netvsc: the guest side of NVSP and RNDIS (see netvsc.h).
 *
 * Untrusted input: the host is trusted with our frames (it is the wire),
 * less than hardware with anything else. Each host packet is copied out
 * of the ring by the ring code and consumed before it is looked at; each
 * RNDIS message a transfer-page range names is checked to lie in the
 * receive buffer (offset and length, overflow-safe), copied out whole,
 * and only the copy is parsed, every length and offset checked against
 * the bytes it came in. The policy:
 *  - a corrupt ring: NETVSC_EIO from then on (the channel must go);
 *  - a packet or message no netvsp sends (unknown type, a range outside
 *    the buffer, lengths that leave the message, a completion for a
 *    transaction we did not start or already got back, a reply nobody
 *    asked for): counted in stats.bad, logged (the first few), skipped;
 *    a transfer-page packet is completed all the same, so the host
 *    gets its buffer back;
 *  - a bring-up answer out of bounds (a version we did not offer, a
 *    receive section beyond our buffer, a send section a frame does not
 *    fit): the bring-up fails with NETVSC_ENODEV.
 *
 * Transaction ids: NVSP bring-up messages use NETVSC_TID_CTRL | seq,
 * sends (frames and RNDIS requests) (gen << 16) | section, gen counting
 * up and never 0, so every id in flight is unique and a stale or forged
 * completion is told apart from the real one.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "format.h"
#include "netvsc.h"

#define NVSP_SIZE       ((uint32_t)sizeof(struct nvsp_message))
#define NETVSC_TID_CTRL (1ull << 63)
#define GEN_MASK        ((1ull << 47) - 1)
/* Bad host input logged at most this many times (all are counted). */
#define BAD_LOG_MAX     16u
/* Linux's ndis_version for NVSP 5 on, and before. */
#define NDIS_VERSION_630 0x0006001eu
#define NDIS_VERSION_601 0x00060001u
/* Linux's RNDIS_MSG_INIT max_xfer_size. */
#define RNDIS_MAX_XFER  0x4000u

static const uint32_t versions[] = {    /* newest first, as Linux */
	NVSP_PROTOCOL_VERSION_61, NVSP_PROTOCOL_VERSION_6,
	NVSP_PROTOCOL_VERSION_5, NVSP_PROTOCOL_VERSION_4,
	NVSP_PROTOCOL_VERSION_2, NVSP_PROTOCOL_VERSION_1,
};

static void __attribute__((format(printf, 2, 3)))
nclog(struct netvsc *nc, const char *fmt, ...)
{
	char line[160] = "netvsc: ";
	va_list ap;

	if (!nc->ops->log)
		return;
	va_start(ap, fmt);
	kvsnprintf(line + 8, sizeof(line) - 8, fmt, ap);
	va_end(ap);
	nc->ops->log(nc->ctx, line);
}

/* Host input refused: counted, the first few logged. */
static void bad(struct netvsc *nc, const char *why)
{
	nc->last_bad = why;
	if (nc->stats.bad++ < BAD_LOG_MAX)
		nclog(nc, "host %s: skipped", why);
}

static int broken(struct netvsc *nc, const char *which)
{
	if (!nc->broken)
		nclog(nc, "%s ring corrupt: the channel is dead", which);
	nc->broken = true;
	nc->ready = false;
	return NETVSC_EIO;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void signal_host(struct netvsc *nc)
{
	nc->stats.signals++;
	nc->ops->signal_host(nc->ctx);
}

/* ---- the guest->host ring ----------------------------------------------- */

/* One packet: 0 written, NETVSC_BUSY no room now, NETVSC_EIO. */
static int put(struct netvsc *nc, const struct vmbus_iov *iov, unsigned n)
{
	bool sig = false;
	int err = vmbus_ring_write(&nc->out, iov, n, &sig);

	if (err == VMBUS_RING_AGAIN)
		return NETVSC_BUSY;
	if (err)
		return broken(nc, "outbound");
	/* Inside a poll or a corked burst the signal waits for its end:
	 * one for the batch, as the ring was empty before its first packet. */
	if (sig && (nc->corked || nc->depth))
		nc->sig_pending = true;
	else if (sig)
		signal_host(nc);
	return 0;
}

void netvsc_flush(struct netvsc *nc)
{
	if (!nc)
		return;
	nc->corked = false;
	if (nc->sig_pending && !nc->depth) {
		nc->sig_pending = false;
		signal_host(nc);
	}
}

/* An inband NVSP message (the whole 40 bytes, as Linux sends them). */
static int send_nvsp(struct netvsc *nc, const struct nvsp_message *m, uint64_t tid,
		     bool want_comp)
{
	struct vmbus_pkt_desc d = {
		.type = VMBUS_PKT_DATA_INBAND,
		.offset8 = sizeof(d) / 8,
		.len8 = (uint16_t)((sizeof(d) + NVSP_SIZE + 7) / 8),
		.flags = want_comp ? VMBUS_PKT_FLAG_COMPLETION_REQUESTED : 0,
		.trans_id = tid,
	};
	struct vmbus_iov iov[2] = { { &d, sizeof(d) }, { m, NVSP_SIZE } };

	return put(nc, iov, 2);
}

/* Give a transfer-page packet back: SEND_RNDIS_PKT_COMPLETE, 8 bytes, as
 * Linux's netvsc_send_recv_completion. */
static int send_recv_comp(struct netvsc *nc, uint64_t tid)
{
	uint32_t m[2] = { NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, NVSP_STAT_SUCCESS };
	struct vmbus_pkt_desc d = {
		.type = VMBUS_PKT_COMP,
		.offset8 = sizeof(d) / 8,
		.len8 = (uint16_t)((sizeof(d) + sizeof(m) + 7) / 8),
		.trans_id = tid,
	};
	struct vmbus_iov iov[2] = { { &d, sizeof(d) }, { m, sizeof(m) } };

	return put(nc, iov, 2);
}

/* Completions that waited for room, oldest first. 0 or NETVSC_EIO. */
static int flush_comps(struct netvsc *nc)
{
	while (nc->comp_count) {
		int r = send_recv_comp(nc, nc->comp_tid[nc->comp_head]);

		if (r == NETVSC_BUSY)
			return 0;
		if (r)
			return r;
		nc->comp_head = (nc->comp_head + 1) % NETVSC_COMP_SLOTS;
		nc->comp_count--;
	}
	return 0;
}

/* Complete now, or queue (the caller checked a slot is free). */
static int complete_xfer(struct netvsc *nc, uint64_t tid)
{
	int r = nc->comp_count ? NETVSC_BUSY : send_recv_comp(nc, tid);

	if (r != NETVSC_BUSY)
		return r;
	nc->stats.rx_comp_deferred++;
	nc->comp_tid[(nc->comp_head + nc->comp_count) % NETVSC_COMP_SLOTS] = tid;
	nc->comp_count++;
	return 0;
}

/* ---- send sections ----------------------------------------------------- */

uint32_t netvsc_sections_busy(const struct netvsc *nc)
{
	return nc->nsections - nc->nfree;
}

/*
 * One RNDIS message, a[0..alen) then b[0..blen), into a free section,
 * sent as SEND_RNDIS_PKT of channel type chan asking for a completion;
 * its transaction id in *tid. 0, NETVSC_BUSY or NETVSC_EIO.
 */
static int send_section(struct netvsc *nc, const void *a, uint32_t alen, const void *b,
			uint32_t blen, uint32_t chan, uint64_t *tid)
{
	struct nvsp_message m = { .msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT };
	uint32_t sec;
	uint8_t *at;
	uint64_t id;
	int r;

	if (!nc->nfree) {
		nc->stats.tx_no_section++;
		return NETVSC_BUSY;
	}
	sec = nc->free_stack[nc->nfree - 1];
	at = nc->send + (size_t)sec * nc->section_size;
	memcpy(at, a, alen);
	if (blen)
		memcpy(at + alen, b, blen);
	nc->gen = (nc->gen + 1) & GEN_MASK;
	if (!nc->gen)
		nc->gen = 1;
	id = nc->gen << 16 | sec;
	m.send_rndis_pkt.channel_type = chan;
	m.send_rndis_pkt.send_buf_section_index = sec;
	m.send_rndis_pkt.send_buf_section_size = alen + blen;
	/* The ring's release store of write_index orders the section's
	 * bytes before the packet that names them. */
	r = send_nvsp(nc, &m, id, true);
	if (r) {
		if (r == NETVSC_BUSY)
			nc->stats.tx_ring_full++;
		return r;
	}
	nc->nfree--;
	nc->sec_tid[sec] = id;
	*tid = id;
	return 0;
}

int netvsc_send(struct netvsc *nc, const void *frame, size_t len)
{
	int r = netvsc_send_more(nc, frame, len);

	if (nc && nc->corked)
		netvsc_flush(nc);
	return r;
}

int netvsc_send_more(struct netvsc *nc, const void *frame, size_t len)
{
	struct {
		struct rndis_msg_header h;
		struct rndis_packet p;
	} __attribute__((packed)) hdr;
	uint64_t tid;
	int r;

	if (!nc || !nc->ready || nc->broken || !frame || len < NETVSC_FRAME_MIN ||
	    len > NETVSC_FRAME_MAX)
		return -1;
	nc->corked = true;
	if (flush_comps(nc))
		return -1;
	memset(&hdr, 0, sizeof(hdr));
	hdr.h.msg_type = RNDIS_MSG_PACKET;
	hdr.h.msg_len = NETVSC_PKT_HDR + (uint32_t)len;
	hdr.p.data_offset = sizeof(hdr.p);
	hdr.p.data_len = (uint32_t)len;
	r = send_section(nc, &hdr, sizeof(hdr), frame, (uint32_t)len,
			 NVSP_CHANNEL_TYPE_DATA, &tid);
	if (r == NETVSC_BUSY) {
		/* Out of sections or ring: the host must see the batch now,
		 * even inside a poll (a frame we answer while receiving). */
		nc->corked = false;
		if (nc->sig_pending) {
			nc->sig_pending = false;
			signal_host(nc);
		}
		return NETVSC_BUSY;
	}
	if (r)
		return -1;
	nc->stats.tx_frames++;
	nc->stats.tx_bytes += len;
	return 0;
}

/* ---- host packets ----------------------------------------------------- */

/* A VMBUS_PKT_COMP: of a section, or of the bring-up request. */
static void take_completion(struct netvsc *nc, const struct vmbus_pkt_desc *d,
			    const uint8_t *payload, uint32_t plen)
{
	uint64_t tid = d->trans_id;
	uint32_t sec = (uint32_t)(tid & 0xffff);

	if (tid & NETVSC_TID_CTRL) {
		if (tid != nc->ctl.tid || nc->ctl.comp_done) {
			bad(nc, "completion for no request of ours");
			return;
		}
		memset(&nc->ctl.comp, 0, sizeof(nc->ctl.comp));
		memcpy(&nc->ctl.comp, payload, plen < NVSP_SIZE ? plen : NVSP_SIZE);
		nc->ctl.comp_len = plen;
		nc->ctl.comp_done = true;
		return;
	}
	if (sec >= nc->nsections || !tid || nc->sec_tid[sec] != tid) {
		bad(nc, "completion for a section not out");
		return;
	}
	if (plen < 8 || get32(payload) != NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE) {
		bad(nc, "section completion that is not SEND_RNDIS_PKT_COMPLETE");
		return;
	}
	nc->sec_tid[sec] = 0;
	nc->free_stack[nc->nfree++] = (uint16_t)sec;
	nc->stats.tx_completions++;
	if (get32(payload + 4) != NVSP_STAT_SUCCESS)
		nc->stats.tx_failed++;
	if (tid == nc->ctl.tid && !nc->ctl.comp_done) {
		memset(&nc->ctl.comp, 0, sizeof(nc->ctl.comp));
		memcpy(&nc->ctl.comp, payload, plen < NVSP_SIZE ? plen : NVSP_SIZE);
		nc->ctl.comp_len = plen;
		nc->ctl.comp_done = true;
	}
}

/* RNDIS_MSG_PACKET: body is the message after its header, blen bytes. */
static int rndis_frame(struct netvsc *nc, const uint8_t *body, uint32_t blen)
{
	struct rndis_packet rp;

	if (blen < sizeof(rp)) {
		bad(nc, "RNDIS packet message truncated");
		return 0;
	}
	memcpy(&rp, body, sizeof(rp));
	if (rp.data_offset < sizeof(rp) || rp.data_offset > blen ||
	    rp.data_len > blen - rp.data_offset) {
		bad(nc, "RNDIS packet data outside its message");
		return 0;
	}
	if (rp.per_pkt_info_len && (rp.per_pkt_info_offset < sizeof(rp) ||
				    rp.per_pkt_info_offset > blen ||
				    rp.per_pkt_info_len > blen - rp.per_pkt_info_offset)) {
		bad(nc, "RNDIS per-packet info outside its message");
		return 0;
	}
	if (rp.data_len < NETVSC_FRAME_MIN || rp.data_len > NETVSC_FRAME_MAX) {
		bad(nc, "frame length no Ethernet carries");
		return 0;
	}
	if (!nc->rx_open || !nc->ops->rx) {
		nc->stats.rx_dropped++;
		return 0;
	}
	nc->stats.rx_frames++;
	nc->stats.rx_bytes += rp.data_len;
	nc->ops->rx(nc->ctx, body + rp.data_offset, rp.data_len);
	return 1;
}

static void rndis_indicate(struct netvsc *nc, const uint8_t *body, uint32_t blen)
{
	struct rndis_indicate_status st;
	bool up;

	if (blen < sizeof(st)) {
		bad(nc, "RNDIS indication truncated");
		return;
	}
	memcpy(&st, body, sizeof(st));
	if (st.status_buflen && (st.status_buf_offset > blen ||
				 st.status_buflen > blen - st.status_buf_offset)) {
		bad(nc, "RNDIS indication buffer outside its message");
		return;
	}
	nc->stats.indications++;
	if (st.status != RNDIS_STATUS_MEDIA_CONNECT &&
	    st.status != RNDIS_STATUS_MEDIA_DISCONNECT)
		return;         /* speed, network change: nothing to do */
	up = st.status == RNDIS_STATUS_MEDIA_CONNECT;
	if (up != nc->link_up) {
		nc->stats.link_changes++;
		nclog(nc, "link %s", up ? "up" : "down");
	}
	nc->link_up = up;
}

/* A completion message (INIT_C, QUERY_C, SET_C, ...): the reply to the
 * request in flight, or refused. */
static void rndis_reply(struct netvsc *nc, uint32_t type, const uint8_t *msg,
			uint32_t len)
{
	if (len < RNDIS_HEADER_SIZE + 4 || !nc->ctl.reply_type || nc->ctl.reply_done ||
	    type != nc->ctl.reply_type || get32(msg + RNDIS_HEADER_SIZE) != nc->ctl.req_id) {
		bad(nc, "RNDIS reply nobody asked for");
		return;
	}
	if (len > NETVSC_CTRL_REPLY) {
		bad(nc, "RNDIS reply too long");
		return;
	}
	memcpy(nc->ctl.reply, msg, len);
	nc->ctl.reply_len = len;
	nc->ctl.reply_done = true;
	nc->stats.replies++;
}

/* One RNDIS message of len bytes (copied out) from a range. Returns 1
 * when it was a frame delivered. */
static int rndis_message(struct netvsc *nc, const uint8_t *msg, uint32_t len)
{
	uint32_t type, mlen;

	if (len < RNDIS_HEADER_SIZE) {
		bad(nc, "range shorter than an RNDIS header");
		return 0;
	}
	type = get32(msg);
	mlen = get32(msg + 4);
	if (mlen < RNDIS_HEADER_SIZE || mlen > len) {
		bad(nc, "RNDIS message length beyond its range");
		return 0;
	}
	switch (type) {
	case RNDIS_MSG_PACKET:
		return rndis_frame(nc, msg + RNDIS_HEADER_SIZE, mlen - RNDIS_HEADER_SIZE);
	case RNDIS_MSG_INDICATE:
		rndis_indicate(nc, msg + RNDIS_HEADER_SIZE, mlen - RNDIS_HEADER_SIZE);
		return 0;
	case RNDIS_MSG_INIT_C:
	case RNDIS_MSG_QUERY_C:
	case RNDIS_MSG_SET_C:
	case RNDIS_MSG_KEEPALIVE_C:
		rndis_reply(nc, type, msg, mlen);
		return 0;
	default:
		bad(nc, "RNDIS message of a type a host does not send");
		return 0;
	}
}

/*
 * A transfer-page packet, len bytes at pkt (offset8 checked by the ring
 * to be within len), copied and consumed: each range's RNDIS message
 * copied out of the receive buffer into msg and handled, then the packet
 * completed. Frames delivered, or NETVSC_EIO.
 */
static int take_xfer(struct netvsc *nc, const uint8_t *pkt, uint32_t len, uint8_t *msg)
{
	struct vmbus_xfer_page_header h;
	uint32_t off, frames = 0;
	int r;

	nc->stats.rx_xfers++;
	memset(&h, 0, sizeof(h));
	memcpy(&h, pkt, len < sizeof(h) ? len : sizeof(h));
	off = (uint32_t)h.offset8 * 8;
	if (len < sizeof(h)) {
		bad(nc, "transfer-page packet truncated");
	} else if (!h.range_cnt || h.range_cnt > NETVSC_MAX_RANGES ||
		   off < sizeof(h) + h.range_cnt * (uint32_t)sizeof(struct vmbus_xfer_page_range)) {
		bad(nc, "transfer-page ranges malformed");
	} else if (len - off < 4 || get32(pkt + off) != NVSP_MSG1_TYPE_SEND_RNDIS_PKT) {
		bad(nc, "transfer-page packet that is not SEND_RNDIS_PKT");
	} else if (h.xfer_pageset_id != NETVSC_RECEIVE_BUFFER_ID) {
		bad(nc, "transfer-page packet of a buffer we did not give");
	} else {
		for (uint32_t i = 0; i < h.range_cnt; i++) {
			struct vmbus_xfer_page_range rg;

			memcpy(&rg, pkt + sizeof(h) + i * sizeof(rg), sizeof(rg));
			if (rg.byte_offset > nc->recv_bytes ||
			    rg.byte_count > nc->recv_bytes - rg.byte_offset) {
				bad(nc, "range outside the receive buffer");
				continue;
			}
			if (rg.byte_count > NETVSC_MAX_RNDIS) {
				bad(nc, "range longer than any RNDIS message");
				continue;
			}
			/* Copied once: the host may rewrite the buffer
			 * meanwhile, and we parse only the copy. */
			memcpy(msg, nc->recv + rg.byte_offset, rg.byte_count);
			frames += (uint32_t)rndis_message(nc, msg, rg.byte_count);
		}
	}
	r = complete_xfer(nc, h.trans_id);
	return r ? r : (int)frames;
}

/* One packet copied out of the inbound ring (and consumed). */
static int take_packet(struct netvsc *nc, const uint8_t *pkt, uint32_t len, uint8_t *msg)
{
	struct vmbus_pkt_desc d;
	uint32_t off;

	memcpy(&d, pkt, sizeof(d));
	off = (uint32_t)d.offset8 * 8;  /* <= len: the ring checked */
	switch (d.type) {
	case VMBUS_PKT_COMP:
		take_completion(nc, &d, pkt + off, len - off);
		return 0;
	case VMBUS_PKT_DATA_USING_XFER_PAGES:
		return take_xfer(nc, pkt, len, msg);
	case VMBUS_PKT_DATA_INBAND:
		/* VF association, indirection table: no VF, no RSS here. */
		nc->stats.ignored++;
		return 0;
	default:
		bad(nc, "packet of a type netvsp never sends");
		return 0;
	}
}

int netvsc_poll(struct netvsc *nc)
{
	struct netvsc_poll_buf *b;
	bool more;
	int frames = 0;

	if (!nc || nc->broken)
		return NETVSC_EIO;
	if (nc->depth >= NETVSC_POLL_DEPTH)
		return 0;
	if (flush_comps(nc))
		return NETVSC_EIO;
	b = &nc->buf[nc->depth++];
	vmbus_ring_reader_begin(&nc->in);
	for (unsigned taken = 0; taken < NETVSC_POLL_BUDGET;) {
		bool sig = false;
		int len = vmbus_ring_peek(&nc->in, b->pkt, sizeof(b->pkt)), r;

		if (len == 0) {
			vmbus_ring_reader_done(&nc->in, &more);
			if (!more)
				goto out;
			vmbus_ring_reader_begin(&nc->in);
			continue;
		}
		if (len < 0 && len != VMBUS_RING_TOOBIG)
			goto corrupt;
		/* A transfer-page packet needs a completion slot: when none
		 * is free, leave it in the ring for the next poll. */
		if (len > 0 && nc->comp_count == NETVSC_COMP_SLOTS &&
		    ((const struct vmbus_pkt_desc *)b->pkt)->type ==
		    VMBUS_PKT_DATA_USING_XFER_PAGES)
			break;
		if (vmbus_ring_consume(&nc->in, len > 0 ? (uint32_t)len : nc->in.peeked, &sig))
			goto corrupt;
		if (sig)
			signal_host(nc);  /* the host waits for room */
		taken++;
		if (len == VMBUS_RING_TOOBIG) {
			bad(nc, "packet longer than any netvsp sends");
			continue;
		}
		r = take_packet(nc, (const uint8_t *)b->pkt, (uint32_t)len, (uint8_t *)b->msg);
		if (r < 0) {
			nc->depth--;
			return r;
		}
		frames += r;
	}
	/* Budget spent or no completion slot: unmask all the same. */
	vmbus_ring_reader_done(&nc->in, &more);
out:
	nc->depth--;
	if (!nc->depth && !nc->corked && nc->sig_pending) {
		nc->sig_pending = false;
		signal_host(nc);
	}
	return frames;
corrupt:
	nc->depth--;
	return broken(nc, "inbound");
}

/* ---- bring-up ------------------------------------------------------------ */

/* Poll and wait until the request in flight is answered (its completion
 * and, for RNDIS, its reply). 0, NETVSC_ETIMEDOUT or NETVSC_EIO. */
static int ctl_wait(struct netvsc *nc)
{
	for (;;) {
		int r = netvsc_poll(nc);

		if (r < 0)
			return r;
		if (nc->ctl.comp_done && (!nc->ctl.reply_type || nc->ctl.reply_done))
			return 0;
		if (nc->ops->wait(nc->ctx)) {
			nclog(nc, "no answer from the host");
			return NETVSC_ETIMEDOUT;
		}
	}
}

/* An NVSP bring-up message and its completion (in nc->ctl.comp), which
 * must be of type `want` with at least `need` payload bytes. */
static int nvsp_call(struct netvsc *nc, const struct nvsp_message *m, uint32_t want,
		     uint32_t need)
{
	int r;

	memset(&nc->ctl, 0, sizeof(nc->ctl));
	nc->ctl.tid = NETVSC_TID_CTRL | ++nc->ctl_seq;
	for (;;) {
		r = send_nvsp(nc, m, nc->ctl.tid, true);
		if (r != NETVSC_BUSY)
			break;
		if ((r = netvsc_poll(nc)) < 0 || nc->ops->wait(nc->ctx))
			return r < 0 ? r : NETVSC_ETIMEDOUT;
	}
	if (r || (r = ctl_wait(nc)))
		return r;
	if (nc->ctl.comp_len < need || nc->ctl.comp.msg_type != want) {
		nclog(nc, "NVSP message %u answered with type %u, %u bytes", m->msg_type,
		      nc->ctl.comp.msg_type, nc->ctl.comp_len);
		return NETVSC_ENODEV;
	}
	return 0;
}

/* An RNDIS request of len bytes (type, req_id set by us) and its reply
 * (in nc->ctl.reply). */
static int rndis_call(struct netvsc *nc, uint8_t *req, uint32_t len)
{
	struct rndis_msg_header h = { get32(req), len };
	uint64_t tid;
	int r;

	memset(&nc->ctl, 0, sizeof(nc->ctl));
	nc->ctl.reply_type = h.msg_type | RNDIS_MSG_COMPLETION;
	nc->ctl.req_id = ++nc->next_req_id;
	memcpy(req, &h, sizeof(h));
	memcpy(req + RNDIS_HEADER_SIZE, &nc->ctl.req_id, 4);
	for (;;) {
		r = send_section(nc, req, len, NULL, 0, NVSP_CHANNEL_TYPE_CONTROL, &tid);
		if (r != NETVSC_BUSY)
			break;
		if ((r = netvsc_poll(nc)) < 0 || nc->ops->wait(nc->ctx))
			return r < 0 ? r : NETVSC_ETIMEDOUT;
	}
	if (r)
		return r;
	nc->ctl.tid = tid;
	r = ctl_wait(nc);
	if (r)
		return r;
	if (nc->ctl.comp.send_rndis_pkt_complete.status != NVSP_STAT_SUCCESS) {
		nclog(nc, "RNDIS message 0x%x refused by NVSP", h.msg_type);
		return NETVSC_ENODEV;
	}
	return 0;
}

static int negotiate(struct netvsc *nc, uint32_t max_version)
{
	for (unsigned i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		struct nvsp_message m = { .msg_type = NVSP_MSG_TYPE_INIT };
		const struct nvsp_init_complete *c = &nc->ctl.comp.init_complete;
		int r;

		if (max_version && versions[i] > max_version)
			continue;
		m.init.min_protocol_ver = m.init.max_protocol_ver = versions[i];
		r = nvsp_call(nc, &m, NVSP_MSG_TYPE_INIT_COMPLETE, 4 + sizeof(*c));
		if (r)
			return r;
		if (c->status != NVSP_STAT_SUCCESS)
			continue;       /* Linux walks down its list */
		if (c->negotiated_protocol_ver != versions[i]) {
			nclog(nc, "host agreed on 0x%x when offered 0x%x",
			      c->negotiated_protocol_ver, versions[i]);
			return NETVSC_ENODEV;
		}
		nc->version = versions[i];
		return 0;
	}
	nclog(nc, "no NVSP version in common");
	return NETVSC_ENODEV;
}

/* NDIS config and version (no answers), as netvsc_connect_vsp. */
static int ndis_setup(struct netvsc *nc)
{
	struct nvsp_message m = { .msg_type = NVSP_MSG2_TYPE_SEND_NDIS_CONFIG };
	int r;

	if (nc->version >= NVSP_PROTOCOL_VERSION_2) {
		m.send_ndis_config.mtu = NETVSC_MTU + 14;      /* with ETH_HLEN */
		if ((r = send_nvsp(nc, &m, 0, false)))
			return r == NETVSC_BUSY ? NETVSC_ENODEV : r;
	}
	nc->ndis_version = nc->version > NVSP_PROTOCOL_VERSION_4 ? NDIS_VERSION_630
								 : NDIS_VERSION_601;
	m = (struct nvsp_message){ .msg_type = NVSP_MSG1_TYPE_SEND_NDIS_VER };
	m.send_ndis_ver.ndis_major_ver = nc->ndis_version >> 16;
	m.send_ndis_ver.ndis_minor_ver = nc->ndis_version & 0xffff;
	r = send_nvsp(nc, &m, 0, false);
	return r == NETVSC_BUSY ? NETVSC_ENODEV : r;
}

static int recv_buffer(struct netvsc *nc, uint32_t gpadl)
{
	struct nvsp_message m = { .msg_type = NVSP_MSG1_TYPE_SEND_RECV_BUF };
	const struct nvsp1_send_receive_buffer_complete *c =
		&nc->ctl.comp.send_recv_buf_complete;
	const struct nvsp1_receive_buffer_section *s = &c->sections[0];
	int r;

	m.send_buf.gpadl_handle = gpadl;
	m.send_buf.id = NETVSC_RECEIVE_BUFFER_ID;
	r = nvsp_call(nc, &m, NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE, 4 + sizeof(*c));
	if (r)
		return r;
	/* Linux's checks: one section from offset 0, its sub-allocations
	 * within the buffer. */
	if (c->status != NVSP_STAT_SUCCESS || c->num_sections != 1 || s->offset ||
	    !s->sub_alloc_size || !s->num_sub_allocs ||
	    (uint64_t)s->sub_alloc_size * s->num_sub_allocs > nc->recv_bytes ||
	    s->end_offset > nc->recv_bytes) {
		nclog(nc, "receive buffer refused or out of bounds (status %u, %u sections, "
		      "%u x %u bytes)", c->status, c->num_sections, s->num_sub_allocs,
		      s->sub_alloc_size);
		return NETVSC_ENODEV;
	}
	nc->recv_chunk = s->sub_alloc_size;
	nc->recv_chunks = s->num_sub_allocs;
	return 0;
}

static int send_buffer(struct netvsc *nc, uint32_t gpadl)
{
	struct nvsp_message m = { .msg_type = NVSP_MSG1_TYPE_SEND_SEND_BUF };
	const struct nvsp1_send_send_buffer_complete *c = &nc->ctl.comp.send_send_buf_complete;
	int r;

	m.send_buf.gpadl_handle = gpadl;
	m.send_buf.id = NETVSC_SEND_BUFFER_ID;
	r = nvsp_call(nc, &m, NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE, 4 + sizeof(*c));
	if (r)
		return r;
	if (c->status != NVSP_STAT_SUCCESS || c->section_size < NETVSC_MIN_SECTION ||
	    c->section_size > nc->send_bytes) {
		nclog(nc, "send buffer refused or sections of %u bytes (status %u)",
		      c->section_size, c->status);
		return NETVSC_ENODEV;
	}
	nc->section_size = c->section_size;
	nc->nsections = nc->send_bytes / c->section_size;
	if (nc->nsections > NETVSC_MAX_SECTIONS)
		nc->nsections = NETVSC_MAX_SECTIONS;
	for (uint32_t i = 0; i < nc->nsections; i++)
		nc->free_stack[i] = (uint16_t)(nc->nsections - 1 - i);
	nc->nfree = nc->nsections;
	return 0;
}

static int rndis_init(struct netvsc *nc)
{
	uint8_t req[RNDIS_HEADER_SIZE + sizeof(struct rndis_initialize_request)];
	struct rndis_initialize_request ir = {
		.major_ver = RNDIS_MAJOR_VERSION, .minor_ver = RNDIS_MINOR_VERSION,
		.max_xfer_size = RNDIS_MAX_XFER,
	};
	struct rndis_initialize_complete c;
	int r;

	memset(req, 0, sizeof(req));
	memcpy(req + RNDIS_HEADER_SIZE, &ir, sizeof(ir));
	memcpy(req, &(uint32_t){ RNDIS_MSG_INIT }, 4);
	r = rndis_call(nc, req, sizeof(req));
	if (r)
		return r;
	if (nc->ctl.reply_len < RNDIS_HEADER_SIZE + sizeof(c))
		return NETVSC_ENODEV;
	memcpy(&c, nc->ctl.reply + RNDIS_HEADER_SIZE, sizeof(c));
	if (c.status != RNDIS_STATUS_SUCCESS || c.medium != RNDIS_MEDIUM_802_3) {
		nclog(nc, "RNDIS INIT: status 0x%x, medium %u", c.status, c.medium);
		return NETVSC_ENODEV;
	}
	return 0;
}

/* A QUERY (empty information buffer at offset 20, as Linux) and its
 * value: at least `need` bytes, the first `need` into val. */
static int rndis_query(struct netvsc *nc, uint32_t oid, void *val, uint32_t need)
{
	uint8_t req[RNDIS_HEADER_SIZE + sizeof(struct rndis_query_request)];
	struct rndis_query_request q = {
		.oid = oid, .info_buf_offset = sizeof(struct rndis_query_request),
	};
	struct rndis_query_complete c;
	uint32_t body;
	int r;

	memset(req, 0, sizeof(req));
	memcpy(req + RNDIS_HEADER_SIZE, &q, sizeof(q));
	memcpy(req, &(uint32_t){ RNDIS_MSG_QUERY }, 4);
	r = rndis_call(nc, req, sizeof(req));
	if (r)
		return r;
	if (nc->ctl.reply_len < RNDIS_HEADER_SIZE + sizeof(c))
		return NETVSC_ENODEV;
	memcpy(&c, nc->ctl.reply + RNDIS_HEADER_SIZE, sizeof(c));
	body = nc->ctl.reply_len - RNDIS_HEADER_SIZE;
	/* The value lies info_buf_offset bytes from req_id, in the reply. */
	if (c.status != RNDIS_STATUS_SUCCESS || c.info_buflen < need ||
	    c.info_buf_offset < sizeof(c) || c.info_buf_offset > body ||
	    c.info_buflen > body - c.info_buf_offset) {
		nclog(nc, "QUERY 0x%x: status 0x%x, %u bytes at %u", oid, c.status,
		      c.info_buflen, c.info_buf_offset);
		return NETVSC_ENODEV;
	}
	memcpy(val, nc->ctl.reply + RNDIS_HEADER_SIZE + c.info_buf_offset, need);
	return 0;
}

static int rndis_set_filter(struct netvsc *nc, uint32_t filter)
{
	uint8_t req[RNDIS_HEADER_SIZE + sizeof(struct rndis_set_request) + 4];
	struct rndis_set_request q = {
		.oid = RNDIS_OID_GEN_CURRENT_PACKET_FILTER, .info_buflen = 4,
		.info_buf_offset = sizeof(struct rndis_set_request),
	};
	struct rndis_set_complete c;
	int r;

	memset(req, 0, sizeof(req));
	memcpy(req + RNDIS_HEADER_SIZE, &q, sizeof(q));
	memcpy(req + RNDIS_HEADER_SIZE + sizeof(q), &filter, 4);
	memcpy(req, &(uint32_t){ RNDIS_MSG_SET }, 4);
	r = rndis_call(nc, req, sizeof(req));
	if (r)
		return r;
	if (nc->ctl.reply_len < RNDIS_HEADER_SIZE + sizeof(c))
		return NETVSC_ENODEV;
	memcpy(&c, nc->ctl.reply + RNDIS_HEADER_SIZE, sizeof(c));
	if (c.status != RNDIS_STATUS_SUCCESS) {
		nclog(nc, "SET of the packet filter: status 0x%x", c.status);
		return NETVSC_ENODEV;
	}
	return 0;
}

static int rndis_up(struct netvsc *nc)
{
	uint32_t media = RNDIS_MEDIA_STATE_DISCONNECTED;
	int r;

	if ((r = rndis_init(nc)) ||
	    (r = rndis_query(nc, RNDIS_OID_802_3_PERMANENT_ADDRESS, nc->mac, 6)) ||
	    (r = rndis_query(nc, RNDIS_OID_GEN_MEDIA_CONNECT_STATUS, &media, 4)))
		return r;
	nc->link_up = media == RNDIS_MEDIA_STATE_CONNECTED;
	/* Frames may follow the filter's reply at once. */
	nc->rx_open = true;
	return rndis_set_filter(nc, NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST |
				    NDIS_PACKET_TYPE_ALL_MULTICAST);
}

int netvsc_init(struct netvsc *nc, const struct netvsc_config *cfg,
		const struct netvsc_ops *ops, void *ctx)
{
	int r;

	if (!nc || !cfg || !ops || !ops->signal_host || !ops->wait || !cfg->ring ||
	    !cfg->recv_buf || !cfg->send_buf || !cfg->recv_bytes ||
	    cfg->send_bytes < NETVSC_MIN_SECTION)
		return NETVSC_EINVAL;
	memset(nc, 0, sizeof(*nc));
	nc->ops = ops;
	nc->ctx = ctx;
	nc->recv = cfg->recv_buf;
	nc->recv_bytes = cfg->recv_bytes;
	nc->send = cfg->send_buf;
	nc->send_bytes = cfg->send_bytes;
	if (vmbus_ring_init(&nc->out, cfg->ring, cfg->out_bytes) ||
	    vmbus_ring_init(&nc->in, (uint8_t *)cfg->ring + cfg->out_bytes, cfg->in_bytes))
		return NETVSC_EINVAL;
	if ((r = negotiate(nc, cfg->max_version)) || (r = ndis_setup(nc)) ||
	    (r = recv_buffer(nc, cfg->recv_gpadl)) || (r = send_buffer(nc, cfg->send_gpadl)) ||
	    (r = rndis_up(nc))) {
		nc->rx_open = false;
		return r;
	}
	memset(&nc->ctl, 0, sizeof(nc->ctl));
	nc->ready = true;
	nclog(nc, "NVSP 0x%x, NDIS %u.%u, %u sections of %u bytes, %u receive chunks of %u, "
	      "link %s", nc->version, nc->ndis_version >> 16, nc->ndis_version & 0xffff,
	      nc->nsections, nc->section_size, nc->recv_chunks, nc->recv_chunk,
	      nc->link_up ? "up" : "down");
	return 0;
}
