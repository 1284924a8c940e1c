/*
 * netvsp (vmbus/netvsp.c, netvsp_rndis.c) over real rings, with this test playing
 * Linux's hv_netvsc step by step: NVSP version negotiation (newest
 * first), NDIS config and version, receive and send buffer GPADLs, RNDIS
 * init, the queries and sets rndis_filter_device_add makes (their
 * answers checked as rndis_filter_query_device checks them), the packet
 * filter, frames both ways, and then a guest that does what netvsc never
 * does: offload parameters that turn things on, a multicast list (kept,
 * bounded, filtering), NetworkAddress config parameters with every
 * offset and length wrong, and MAC changes refused by default, refused
 * by the switch, and carried out through a real vswitch port.
 *
 * Guest memory is a memfd of GUEST_PAGES pages mapped twice, as in
 * test_storvsp.c: contiguous (the guest's view, gpa = offset) and page by
 * page, shuffled, each page between guard pages (the host's view). The
 * host's copy callbacks refuse a copy that crosses a page, and pages can
 * be taken from the guest (owned[] false). GPADLs are a fake table, as
 * the VMBus server would keep them.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"
#include "netvsp.h"
#include "vswitch.h"
#include "ring.h"

#define PAGE            4096u
#define GUEST_PAGES     1024u
#define RING_PFN        0u              /* ring GPADL: pages 0.. */
#define RECV_PAGES      64u             /* 256 KiB: 151 chunks */
#define RECV_PFN        64u
#define SEND_PAGES      16u             /* 10 sections */
#define SEND_PFN        160u
#define CTRL_PFN        300u            /* where "Linux" builds RNDIS requests */
#define DATA_PFN        400u            /* frames sent by page ranges */
#define FOREIGN_PFN     900u            /* not the guest's */
#define RECV_GPADL      0x100u
#define SEND_GPADL      0x200u
#define FOREIGN_GPADL   0x300u
#define TINY_GPADL      0x400u          /* a one-page receive buffer */
#define NCHUNKS         (RECV_PAGES * PAGE / NETVSP_CHUNK_SIZE)

static const uint8_t MAC[6] = { 0x00, 0x15, 0x5d, 0x12, 0x34, 0x56 };

/* ---- the partition's memory and the fakes ---------------------------------- */
struct env {
	uint8_t *gmem;                  /* guest view, contiguous */
	uint8_t *hpage[GUEST_PAGES];    /* host view, page by page */
	bool owned[GUEST_PAGES];
	void *in_pages[16], *out_pages[16];
	struct vmbus_ring h_in, h_out;  /* the host's views */
	struct vmbus_ring g_out, g_in;  /* the guest's: writes out, reads in */
	unsigned out_data, in_data;
	unsigned page_cross, signals, logs;
	char last_log[200];
	uint64_t recv_pfns[RECV_PAGES];
	uint64_t send_pfns[SEND_PAGES];
	uint64_t foreign_pfns[4];
	uint64_t tiny_pfns[1];
	/* the switch */
	unsigned tx_calls, tx_bad, tx_busy, tx_refuse, nframes;
	size_t frame_len[16];
	uint8_t frame[16][NETVSP_FRAME_MAX];
	uint64_t next_tid;
	/* A real switch behind netvsp, when sw is set: frames go to port
	 * sw_port, address changes move it. */
	struct vswitch *sw;
	unsigned sw_port, set_mac_calls;
};

static struct env E;
static struct netvsp SP;

static int host_copy(uint64_t gpa, void *buf, uint32_t len, bool to_guest)
{
	uint64_t pfn = gpa / PAGE;
	uint32_t off = gpa % PAGE;

	if (!len || off + len > PAGE) {
		E.page_cross++;
		return -1;
	}
	if (pfn >= GUEST_PAGES || !E.owned[pfn])
		return -1;
	if (to_guest)
		memcpy(E.hpage[pfn] + off, buf, len);
	else
		memcpy(buf, E.hpage[pfn] + off, len);
	return 0;
}

static int copy_from_guest(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	return host_copy(gpa, buf, len, false);
}

static int copy_to_guest(void *ctx, uint64_t gpa, const void *buf, uint32_t len)
{
	return host_copy(gpa, (void *)buf, len, true);
}

static void signal_guest(void *ctx)
{
	E.signals++;
}

static void host_log(void *ctx, const char *line)
{
	E.logs++;
	snprintf(E.last_log, sizeof(E.last_log), "%s", line);
	printf("# %s\n", line);
}

static bool fake_gpadl(void *ctx, uint32_t handle, const uint64_t **pfns, uint32_t *n)
{
	switch (handle) {
	case RECV_GPADL:
		*pfns = E.recv_pfns, *n = RECV_PAGES;
		return true;
	case SEND_GPADL:
		*pfns = E.send_pfns, *n = SEND_PAGES;
		return true;
	case FOREIGN_GPADL:
		*pfns = E.foreign_pfns, *n = 4;
		return true;
	case TINY_GPADL:
		*pfns = E.tiny_pfns, *n = 1;
		return true;
	}
	return false;
}

static int fake_tx(void *ctx, const void *frame, size_t len)
{
	E.tx_calls++;
	if (len < NETVSP_FRAME_MIN || len > NETVSP_FRAME_MAX)
		E.tx_bad++;
	if (E.tx_busy) {
		E.tx_busy--;
		return NETVSP_TX_BUSY;
	}
	if (E.tx_refuse)
		return NETVSP_TX_REFUSED;
	if (E.sw) {
		enum vswitch_result r = vswitch_send(E.sw, E.sw_port, frame, len);

		if (r != VSWITCH_SENT)
			return r == VSWITCH_BUSY ? NETVSP_TX_BUSY : NETVSP_TX_REFUSED;
	}
	if (E.nframes < 16 && len <= NETVSP_FRAME_MAX) {
		memcpy(E.frame[E.nframes], frame, len);
		E.frame_len[E.nframes++] = len;
	}
	return NETVSP_TX_SENT;
}

static int fake_set_mac(void *ctx, const uint8_t mac[6])
{
	E.set_mac_calls++;
	return E.sw ? vswitch_set_port_mac(E.sw, E.sw_port, mac) : 0;
}

static const struct netvsp_ops ops = {
	copy_from_guest, copy_to_guest, signal_guest, host_log, fake_gpadl, fake_tx,
};

static void map_guest_memory(void)
{
	int fd = memfd_create("guest", 0);
	size_t bytes = (size_t)GUEST_PAGES * PAGE;
	uint8_t *region;
	unsigned perm[GUEST_PAGES];

	if (fd < 0 || ftruncate(fd, (off_t)bytes))
		abort();
	E.gmem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	region = mmap(NULL, 2 * bytes + PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (E.gmem == MAP_FAILED || region == MAP_FAILED)
		abort();
	for (unsigned i = 0; i < GUEST_PAGES; i++)
		perm[i] = i;
	for (unsigned i = GUEST_PAGES - 1; i > 0; i--) {
		unsigned j = (unsigned)((i * 2654435761u) % (i + 1)), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (unsigned i = 0; i < GUEST_PAGES; i++) {
		uint8_t *at = region + (2 * (size_t)perm[i] + 1) * PAGE;

		E.hpage[i] = mmap(at, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				  fd, (off_t)i * PAGE);
		if (E.hpage[i] != at)
			abort();
		E.owned[i] = i < FOREIGN_PFN;
	}
	close(fd);
	/* The receive buffer's pages out of order, as a guest's vmalloc
	 * area is: netvsp must follow the pfn list. */
	for (unsigned i = 0; i < RECV_PAGES; i++)
		E.recv_pfns[i] = RECV_PFN + (i * 37) % RECV_PAGES;
	for (unsigned i = 0; i < SEND_PAGES; i++)
		E.send_pfns[i] = SEND_PFN + (i * 5) % SEND_PAGES;
	for (unsigned i = 0; i < 4; i++)
		E.foreign_pfns[i] = FOREIGN_PFN + i;
	E.tiny_pfns[0] = 250;
}

/* The guest formats the rings, the host attaches page-vector views. */
static void open_channel(unsigned out_data, unsigned in_data)
{
	size_t out_bytes = (size_t)(1 + out_data) * PAGE, in_bytes = (size_t)(1 + in_data) * PAGE;
	uint8_t *ring = E.gmem + RING_PFN * PAGE;
	unsigned in_pfn = RING_PFN + 1 + out_data;

	memset(ring, 0, out_bytes + in_bytes);
	if (vmbus_ring_format(ring, out_bytes) || vmbus_ring_format(ring + out_bytes, in_bytes))
		abort();
	for (unsigned i = 0; i < out_data; i++)
		E.in_pages[i] = E.hpage[RING_PFN + 1 + i];
	for (unsigned i = 0; i < in_data; i++)
		E.out_pages[i] = E.hpage[in_pfn + 1 + i];
	if (vmbus_ring_init_pages(&E.h_in, E.hpage[RING_PFN], E.in_pages, out_data) ||
	    vmbus_ring_init_pages(&E.h_out, E.hpage[in_pfn], E.out_pages, in_data) ||
	    vmbus_ring_init(&E.g_out, ring, out_bytes) ||
	    vmbus_ring_init(&E.g_in, ring + out_bytes, in_bytes))
		abort();
	E.out_data = out_data;
	E.in_data = in_data;
	netvsp_attach(&SP, &E.h_in, &E.h_out);
}

/* ---- the guest's side of the wire ------------------------------------------- */

/* One packet into the guest->host ring: descriptor, `head` (the GPA
 * direct part, a multiple of 8 bytes), then the payload. */
static int gsend(uint16_t type, uint16_t flags, uint64_t tid, const void *head, uint32_t hlen,
		 const void *body, uint32_t blen)
{
	struct vmbus_pkt_desc d = { type, (uint16_t)((16 + hlen) / 8), 0, flags, tid };
	struct vmbus_iov iov[3] = { { &d, 16 }, { head, hlen }, { body, blen } };
	bool sig;

	d.len8 = (uint16_t)((16 + hlen + blen + 7) / 8);
	return vmbus_ring_write(&E.g_out, iov, 3, &sig);
}

static uint64_t send_nvsp(const struct nvsp_message *m, uint32_t len)
{
	uint64_t tid = ++E.next_tid;

	if (gsend(VMBUS_PKT_DATA_INBAND, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, tid, NULL, 0, m, len))
		abort();
	return tid;
}

/* Linux's receive completion for a transfer-page packet. */
static int complete_xfer(uint64_t tid)
{
	uint32_t m[2] = { NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, NVSP_STAT_SUCCESS };

	return gsend(VMBUS_PKT_COMP, 0, tid, NULL, 0, m, sizeof(m));
}

/* A packet the host sent, as the guest reads it. */
struct hpkt {
	struct vmbus_pkt_desc d;
	uint32_t len;                   /* whole packet */
	uint8_t raw[512];
	/* transfer-page packets: */
	uint16_t pageset;
	uint32_t range_cnt, byte_count, byte_offset, channel_type, nvsp_type;
};

/* Packets read but put back (collect() takes only what it looks for). */
static struct hpkt backlog[16];
static unsigned nback;

static int gread_ring(struct hpkt *p)
{
	bool sig;
	int len = vmbus_ring_peek(&E.g_in, p->raw, sizeof(p->raw));

	if (len <= 0)
		return len;
	memcpy(&p->d, p->raw, sizeof(p->d));
	p->len = (uint32_t)len;
	if (p->d.type == VMBUS_PKT_DATA_USING_XFER_PAGES && len >= 48) {
		struct vmbus_xfer_page_header h;
		struct vmbus_xfer_page_range r;
		uint32_t off = p->d.offset8 * 8u;

		memcpy(&h, p->raw, sizeof(h));
		memcpy(&r, p->raw + sizeof(h), sizeof(r));
		p->pageset = h.xfer_pageset_id;
		p->range_cnt = h.range_cnt;
		p->byte_count = r.byte_count;
		p->byte_offset = r.byte_offset;
		memcpy(&p->nvsp_type, p->raw + off, 4);
		memcpy(&p->channel_type, p->raw + off + 4, 4);
	}
	if (vmbus_ring_consume(&E.g_in, (uint32_t)len, &sig))
		abort();
	return len;
}

/* The next packet for the guest: 0 when none, < 0 when the ring is bad. */
static int gread(struct hpkt *p)
{
	if (nback) {
		*p = backlog[0];
		memmove(backlog, backlog + 1, --nback * sizeof(backlog[0]));
		return (int)p->len;
	}
	return gread_ring(p);
}

/* What a host completion carries (its nvsp_message). */
static struct nvsp_message comp_msg(const struct hpkt *p)
{
	struct nvsp_message m;
	uint32_t off = p->d.offset8 * 8u, n = p->len - off;

	memset(&m, 0, sizeof(m));
	memcpy(&m, p->raw + off, n < sizeof(m) ? n : sizeof(m));
	return m;
}

/* Bytes of the receive buffer, through its pfn list. */
static void recv_read(uint32_t off, void *buf, uint32_t len)
{
	uint8_t *p = buf;

	while (len) {
		uint32_t in = off % PAGE, n = PAGE - in;

		if (n > len)
			n = len;
		memcpy(p, E.gmem + E.recv_pfns[off / PAGE] * PAGE + in, n);
		p += n, off += n, len -= n;
	}
}

/* A poll as the caller runs it: again at once while it says MORE. */
static int poll_host(void)
{
	int r;

	while ((r = netvsp_poll(&SP)) == NETVSP_POLL_MORE)
		;
	return r;
}

/* Send one NVSP message, poll, and take the completion (0 if none). */
static int nvsp_call(struct nvsp_message *m, uint32_t len, struct nvsp_message *out)
{
	uint64_t tid = send_nvsp(m, len);
	struct hpkt p;

	if (poll_host() < 0)
		return -1;
	if (gread(&p) <= 0)
		return 0;
	if (p.d.type != VMBUS_PKT_COMP || p.d.trans_id != tid)
		return -2;
	*out = comp_msg(&p);
	return (int)(p.len - p.d.offset8 * 8u);
}

/* Put bytes at a guest physical address (the guest's own writes). */
static void gput(uint64_t gpa, const void *buf, uint32_t len)
{
	memcpy(E.gmem + gpa, buf, len);
}

/* A GPA direct packet for the bytes [gpa, gpa + len), as Linux 6.1's
 * rndis_filter_send_request builds it: one range per page touched. */
static uint32_t gpa_ranges(uint8_t *head, uint64_t gpa, uint32_t len)
{
	uint32_t n = 0, at = 8;

	while (len) {
		uint32_t off = gpa % PAGE, take = PAGE - off;
		uint64_t pfn = gpa / PAGE;

		if (take > len)
			take = len;
		memcpy(head + at, &take, 4);
		memcpy(head + at + 4, &off, 4);
		memcpy(head + at + 8, &pfn, 8);
		at += 16;
		gpa += take, len -= take, n++;
	}
	memset(head, 0, 4);
	memcpy(head + 4, &n, 4);
	return at;
}

/* SEND_RNDIS_PKT of the RNDIS message in guest memory at gpa, by page
 * ranges: the packet's transaction id. */
static uint64_t send_rndis_gpa(uint64_t gpa, uint32_t len, uint32_t chan)
{
	uint8_t head[8 + 16 * 8];
	struct nvsp_message m = { .msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT };
	uint32_t hlen = gpa_ranges(head, gpa, len);
	uint64_t tid = ++E.next_tid;

	m.send_rndis_pkt.channel_type = chan;
	m.send_rndis_pkt.send_buf_section_index = NVSP_INVALID_SECTION_INDEX;
	if (gsend(VMBUS_PKT_DATA_USING_GPA_DIRECT, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, tid,
		  head, hlen, &m, sizeof(m)))
		abort();
	return tid;
}

/* SEND_RNDIS_PKT of a message already in send buffer section `sec`. */
static uint64_t send_rndis_section(uint32_t sec, uint32_t len)
{
	struct nvsp_message m = { .msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT };

	m.send_rndis_pkt.channel_type = NVSP_CHANNEL_TYPE_DATA;
	m.send_rndis_pkt.send_buf_section_index = sec;
	m.send_rndis_pkt.send_buf_section_size = len;
	return send_nvsp(&m, sizeof(m));
}

/* Write into the send buffer (through its pfn list) at byte off. */
static void send_buf_put(uint32_t off, const void *buf, uint32_t len)
{
	const uint8_t *p = buf;

	while (len) {
		uint32_t in = off % PAGE, n = PAGE - in;

		if (n > len)
			n = len;
		memcpy(E.gmem + E.send_pfns[off / PAGE] * PAGE + in, p, n);
		p += n, off += n, len -= n;
	}
}

/* The outcome of one RNDIS control request. */
struct rcall {
	int nvsp_status;                /* of SEND_RNDIS_PKT_COMPLETE, -1 none */
	int reply_len;                  /* -1: no reply came */
	uint8_t reply[512];
	struct hpkt x;                  /* the reply's transfer-page packet */
};

/* Read whatever the host sent: the completion for tid and transfer-page
 * packets (the first one's bytes into r->reply; completed if `give`). */
static void collect(uint64_t tid, struct rcall *r, bool give)
{
	static struct hpkt keep[16];
	struct hpkt p;
	unsigned nkeep = 0;

	while (gread(&p) > 0) {
		if (p.d.type == VMBUS_PKT_COMP && p.d.trans_id == tid) {
			r->nvsp_status = (int)comp_msg(&p).send_rndis_pkt_complete.status;
		} else if (p.d.type == VMBUS_PKT_DATA_USING_XFER_PAGES && r->reply_len < 0) {
			r->x = p;
			r->reply_len = (int)(p.byte_count < sizeof(r->reply) ? p.byte_count
									 : sizeof(r->reply));
			recv_read(p.byte_offset, r->reply, (uint32_t)r->reply_len);
			if (give && complete_xfer(p.d.trans_id))
				abort();
		} else if (nkeep < 16) {
			keep[nkeep++] = p;      /* someone else's: put back */
		}
	}
	for (unsigned i = 0; i < nkeep && nback < 16; i++)
		backlog[nback++] = keep[i];
}

/* An RNDIS control request the way Linux sends it: message at
 * CTRL_PFN + 4000 (so it crosses a page), one range per page. */
static int rndis_call(const void *req, uint32_t len, struct rcall *r)
{
	uint64_t gpa = CTRL_PFN * PAGE + 4000, tid;
	int ret;

	memset(r, 0, sizeof(*r));
	r->nvsp_status = -1;
	r->reply_len = -1;
	gput(gpa, req, len);
	tid = send_rndis_gpa(gpa, len, NVSP_CHANNEL_TYPE_CONTROL);
	ret = poll_host();
	collect(tid, r, true);
	if (ret >= 0)
		ret = poll_host();      /* takes the reply's completion */
	return ret;
}

static uint32_t reply32(const struct rcall *r, uint32_t off)
{
	uint32_t v;

	memcpy(&v, r->reply + off, 4);
	return v;
}

/* A QUERY as rndis_filter_query_device builds it (info buffer at
 * offset 20, empty unless `in` is given). */
static uint32_t next_req_id = 100;

static int query(uint32_t oid, const void *in, uint32_t inlen, struct rcall *r)
{
	uint8_t m[8 + 20 + 256] = { 0 };
	struct rndis_msg_header h = { RNDIS_MSG_QUERY, 8 + 20 + inlen };
	struct rndis_query_request q = { ++next_req_id, oid, inlen, 20, 0 };

	memcpy(m, &h, 8);
	memcpy(m + 8, &q, 20);
	if (inlen)
		memcpy(m + 28, in, inlen);
	return rndis_call(m, h.msg_len, r);
}

/* The QUERY_C's value, validated as Linux does: its length, or -1. */
static int query_result(const struct rcall *r, void *out, uint32_t cap)
{
	uint32_t msg_len = reply32(r, 4), buflen = reply32(r, 16), off = reply32(r, 20);

	if (r->reply_len < 24 || reply32(r, 0) != RNDIS_MSG_QUERY_C ||
	    msg_len > (uint32_t)r->reply_len || msg_len - 8 < 16 ||
	    reply32(r, 8) != next_req_id)
		return -1;
	if (buflen > cap || off < 16 || msg_len - 8 < off || msg_len - 8 - off < buflen)
		return -1;
	memcpy(out, r->reply + 8 + off, buflen);
	return (int)buflen;
}

static int set_oid(uint32_t oid, const void *val, uint32_t len, struct rcall *r)
{
	uint8_t m[8 + 20 + 256] = { 0 };
	struct rndis_msg_header h = { RNDIS_MSG_SET, 8 + 20 + len };
	struct rndis_set_request q = { ++next_req_id, oid, len, 20, 0 };

	memcpy(m, &h, 8);
	memcpy(m + 8, &q, 20);
	memcpy(m + 28, val, len);
	return rndis_call(m, h.msg_len, r);
}

static bool set_ok(const struct rcall *r)
{
	return r->nvsp_status == NVSP_STAT_SUCCESS && r->reply_len == 16 &&
	       reply32(r, 0) == RNDIS_MSG_SET_C && reply32(r, 4) == 16 &&
	       reply32(r, 8) == next_req_id && reply32(r, 12) == RNDIS_STATUS_SUCCESS;
}

/* An RNDIS_MSG_PACKET around a frame as netvsc_xmit builds it: PPIs
 * right after the rndis_packet, the frame after them. */
static uint32_t build_packet(uint8_t *m, const uint8_t *frame, uint32_t flen,
			     const void *ppi, uint32_t ppilen)
{
	struct rndis_packet rp = { 0 };
	struct rndis_msg_header h = { RNDIS_MSG_PACKET, 8 + 36 + ppilen + flen };

	rp.data_offset = 36 + ppilen;
	rp.data_len = flen;
	rp.per_pkt_info_offset = 36;
	rp.per_pkt_info_len = ppilen;
	memcpy(m, &h, 8);
	memcpy(m + 8, &rp, 36);
	if (ppilen)
		memcpy(m + 44, ppi, ppilen);
	memcpy(m + 44 + ppilen, frame, flen);
	return h.msg_len;
}

static void make_frame(uint8_t *f, uint32_t len, const uint8_t *dst, uint8_t seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, MAC, 6);
	f[12] = 0x08, f[13] = 0x00;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i * 13);
}

/* Take every packet waiting for the guest, completing transfer pages;
 * how many transfer-page packets there were. */
static unsigned drain_guest(void)
{
	struct hpkt p;
	unsigned n = 0;

	while (gread(&p) > 0)
		if (p.d.type == VMBUS_PKT_DATA_USING_XFER_PAGES) {
			n++;
			if (complete_xfer(p.d.trans_id))
				abort();
		}
	poll_host();
	return n;
}

/* ---- bring-up ------------------------------------------------------------------ */

static struct nvsp_message init_msg(uint32_t ver)
{
	struct nvsp_message m = { .msg_type = NVSP_MSG_TYPE_INIT };

	m.init.min_protocol_ver = m.init.max_protocol_ver = ver;
	return m;
}

/* Linux's whole sequence up to an open device, quietly; 0 when it got
 * there. */
static int bring_up(uint32_t ver, unsigned out_data, unsigned in_data)
{
	struct nvsp_message m, c;
	struct rcall r;
	uint8_t init[24] = { 0 };
	uint32_t filter = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_ALL_MULTICAST |
			  NDIS_PACKET_TYPE_BROADCAST;
	struct rndis_msg_header h = { RNDIS_MSG_INIT, 24 };
	struct rndis_initialize_request ir = { 1, 1, 0, 0x4000 };

	open_channel(out_data, in_data);
	m = init_msg(ver);
	if (nvsp_call(&m, sizeof(m), &c) <= 0 || c.init_complete.status != NVSP_STAT_SUCCESS)
		return -1;
	m = (struct nvsp_message){ .msg_type = NVSP_MSG1_TYPE_SEND_RECV_BUF };
	m.send_buf.gpadl_handle = RECV_GPADL;
	m.send_buf.id = NETVSC_RECEIVE_BUFFER_ID;
	if (nvsp_call(&m, sizeof(m), &c) <= 0 || c.send_recv_buf_complete.status != NVSP_STAT_SUCCESS)
		return -1;
	m = (struct nvsp_message){ .msg_type = NVSP_MSG1_TYPE_SEND_SEND_BUF };
	m.send_buf.gpadl_handle = SEND_GPADL;
	m.send_buf.id = NETVSC_SEND_BUFFER_ID;
	if (nvsp_call(&m, sizeof(m), &c) <= 0 || c.send_send_buf_complete.status != NVSP_STAT_SUCCESS)
		return -1;
	memcpy(init, &h, 8);
	memcpy(init + 8, &ir, 16);
	if (rndis_call(init, 24, &r) < 0 || reply32(&r, 12) != RNDIS_STATUS_SUCCESS)
		return -1;
	if (set_oid(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &filter, 4, &r) < 0 || !set_ok(&r))
		return -1;
	drain_guest();          /* the media indication */
	return netvsp_can_receive(&SP) ? 0 : -1;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_negotiation(void)
{
	struct nvsp_message m, c;
	int n;

	CHECK(netvsp_poll(&SP) == -1, "no channel: poll says -1");
	open_channel(8, 8);
	m = init_msg(0x70000);
	n = nvsp_call(&m, sizeof(m), &c);
	CHECK(n == 40 && c.msg_type == NVSP_MSG_TYPE_INIT_COMPLETE &&
	      c.init_complete.status == NVSP_STAT_FAIL,
	      "INIT of an unknown version 0x70000: INIT_COMPLETE with FAIL");
	CHECK(SP.state == NETVSP_WAIT_INIT, "still no version");
	m = init_msg(NVSP_PROTOCOL_VERSION_61);
	n = nvsp_call(&m, sizeof(m), &c);
	CHECK(n == 40 && c.init_complete.status == NVSP_STAT_SUCCESS &&
	      c.init_complete.negotiated_protocol_ver == NVSP_PROTOCOL_VERSION_61,
	      "INIT 6.1 (the newest Linux offers, its first try): SUCCESS");
	CHECK(SP.state == NETVSP_READY && SP.version == NVSP_PROTOCOL_VERSION_61,
	      "host agreed on 6.1");
}

static void test_config(void)
{
	struct nvsp_message m = { .msg_type = NVSP_MSG2_TYPE_SEND_NDIS_CONFIG };
	struct hpkt p;

	m.send_ndis_config.mtu = 1514;
	m.send_ndis_config.capability = NVSP_CAP_IEEE8021Q | NVSP_CAP_SRIOV |
					NVSP_CAP_TEAMING | NVSP_CAP_RSC;
	gsend(VMBUS_PKT_DATA_INBAND, 0, 0, NULL, 0, &m, sizeof(m));
	m = (struct nvsp_message){ .msg_type = NVSP_MSG1_TYPE_SEND_NDIS_VER };
	m.send_ndis_ver.ndis_major_ver = 6;
	m.send_ndis_ver.ndis_minor_ver = 0x1e;
	gsend(VMBUS_PKT_DATA_INBAND, 0, 0, NULL, 0, &m, sizeof(m));
	CHECK(poll_host() == NETVSP_POLL_DONE && gread(&p) == 0,
	      "NDIS config and NDIS version: no reply");
	CHECK(SP.guest_mtu == 1514 && (SP.guest_caps & NVSP_CAP_IEEE8021Q) &&
	      SP.ndis_version == 0x6001e, "recorded: mtu 1514, 802.1q, NDIS 6.30");
}

static void test_buffers(void)
{
	struct nvsp_message m = { .msg_type = NVSP_MSG1_TYPE_SEND_RECV_BUF }, c;
	const struct nvsp1_send_receive_buffer_complete *rc = &c.send_recv_buf_complete;
	int n;

	m.send_buf.gpadl_handle = 0x9999;
	m.send_buf.id = NETVSC_RECEIVE_BUFFER_ID;
	n = nvsp_call(&m, sizeof(m), &c);
	CHECK(n == 40 && c.msg_type == NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE &&
	      rc->status == NVSP_STAT_FAIL && !SP.recv.present &&
	      strstr(E.last_log, "no gpadl"),
	      "receive buffer with an unknown gpadl: FAIL, logged, channel open");
	m.send_buf.gpadl_handle = RECV_GPADL;
	n = nvsp_call(&m, sizeof(m), &c);
	CHECK(n == 40 && rc->status == NVSP_STAT_SUCCESS && rc->num_sections == 1 &&
	      rc->sections[0].offset == 0 && rc->sections[0].sub_alloc_size == 1728 &&
	      rc->sections[0].num_sub_allocs == NCHUNKS &&
	      rc->sections[0].end_offset == NCHUNKS * 1728,
	      "receive buffer: one section of %u 1728-byte chunks", rc->sections[0].num_sub_allocs);
	CHECK((uint64_t)rc->sections[0].sub_alloc_size * rc->sections[0].num_sub_allocs <=
	      RECV_PAGES * PAGE, "Linux's overflow check holds");
	n = nvsp_call(&m, sizeof(m), &c);
	CHECK(n == 40 && rc->status == NVSP_STAT_FAIL, "a second receive buffer: FAIL");
	m = (struct nvsp_message){ .msg_type = NVSP_MSG1_TYPE_SEND_SEND_BUF };
	m.send_buf.gpadl_handle = SEND_GPADL;
	m.send_buf.id = NETVSC_SEND_BUFFER_ID;
	n = nvsp_call(&m, sizeof(m), &c);
	CHECK(n == 40 && c.msg_type == NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE &&
	      c.send_send_buf_complete.status == NVSP_STAT_SUCCESS &&
	      c.send_send_buf_complete.section_size == 6144 && SP.send.count == 10,
	      "send buffer: 6144-byte sections, 10 of them");
}

static void test_rndis_init(void)
{
	uint8_t init[24];
	struct rndis_msg_header h = { RNDIS_MSG_INIT, 24 };
	struct rndis_initialize_request ir = { 7, 1, 0, 0x4000 };
	struct rcall r;
	int ret;

	memcpy(init, &h, 8);
	memcpy(init + 8, &ir, 16);
	ret = rndis_call(init, 24, &r);
	CHECK(ret == NETVSP_POLL_DONE && r.nvsp_status == NVSP_STAT_SUCCESS,
	      "RNDIS INIT (page ranges, crossing a page): SEND_RNDIS_PKT_COMPLETE success");
	CHECK(r.x.d.type == VMBUS_PKT_DATA_USING_XFER_PAGES && r.x.pageset == 0xcafe &&
	      r.x.range_cnt == 1 && r.x.d.offset8 * 8 >= 32 &&
	      r.x.nvsp_type == NVSP_MSG1_TYPE_SEND_RNDIS_PKT &&
	      r.x.channel_type == NVSP_CHANNEL_TYPE_CONTROL &&
	      r.x.byte_offset % 1728 == 0 && r.x.byte_offset < NCHUNKS * 1728 &&
	      r.x.byte_count <= 1728,
	      "reply in a transfer-page packet: pageset 0xcafe, control channel, one chunk");
	CHECK(r.reply_len == 52 && reply32(&r, 0) == RNDIS_MSG_INIT_C && reply32(&r, 4) == 52 &&
	      reply32(&r, 8) == 7 && reply32(&r, 12) == RNDIS_STATUS_SUCCESS &&
	      reply32(&r, 16) == 1 && reply32(&r, 20) == 0 &&
	      reply32(&r, 24) == RNDIS_DF_CONNECTIONLESS && reply32(&r, 28) == RNDIS_MEDIUM_802_3 &&
	      reply32(&r, 32) == 1 && reply32(&r, 36) == 0x4000 && reply32(&r, 40) == 3,
	      "INIT_C: id 7, success, 1.0, connectionless 802.3, 1 packet/msg, 16 KiB, align 8");
	CHECK(SP.rndis == NETVSP_RNDIS_INITIALIZED && E.page_cross == 0,
	      "RNDIS initialized; no copy crossed a page");
}

static void test_queries(void)
{
	struct rcall r;
	uint8_t v[512];
	uint32_t u = 0;
	struct ndis_offload caps;
	struct ndis_object_header ask = { NDIS_OBJECT_TYPE_OFFLOAD, 3, NDIS_OFFLOAD_SIZE };
	uint8_t askbuf[sizeof(struct ndis_offload)] = { 0 };

	query(RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE, NULL, 0, &r);
	CHECK(query_result(&r, &u, 4) == 4 && u == 1500 && r.nvsp_status == NVSP_STAT_SUCCESS,
	      "MAXIMUM_FRAME_SIZE: 1500 (Linux's MTU)");
	query(RNDIS_OID_802_3_PERMANENT_ADDRESS, NULL, 0, &r);
	CHECK(query_result(&r, v, 6) == 6 && !memcmp(v, MAC, 6),
	      "PERMANENT_ADDRESS: the configured MAC, 6 bytes");
	query(RNDIS_OID_802_3_CURRENT_ADDRESS, NULL, 0, &r);
	CHECK(query_result(&r, v, 6) == 6 && !memcmp(v, MAC, 6), "CURRENT_ADDRESS: the MAC");
	query(RNDIS_OID_GEN_FRIENDLY_NAME, NULL, 0, &r);
	CHECK(query_result(&r, v, 512) == 0 && reply32(&r, 12) == RNDIS_STATUS_NOT_SUPPORTED,
	      "FRIENDLY_NAME: not supported, empty (Linux: name not set)");
	memcpy(askbuf, &ask, sizeof(ask));
	query(OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, askbuf, sizeof(askbuf), &r);
	memset(&caps, 0xee, sizeof(caps));
	CHECK(query_result(&r, &caps, sizeof(caps)) == NDIS_OFFLOAD_SIZE &&
	      reply32(&r, 12) == RNDIS_STATUS_SUCCESS,
	      "HARDWARE_CAPABILITIES: %u bytes, success", NDIS_OFFLOAD_SIZE);
	CHECK(caps.header.type == NDIS_OBJECT_TYPE_OFFLOAD && caps.header.revision == 3 &&
	      caps.header.size == NDIS_OFFLOAD_SIZE && caps.header.size >= NDIS_OFFLOAD_SIZE_6_0,
	      "... type 0xa7, revision 3, size within what rndis_query_hwcaps accepts");
	CHECK(!caps.csum[1] && !caps.csum[5] && !caps.lsov2[0] && !caps.lsov2[3] &&
	      !caps.rsc.ip4 && !caps.rsc.ip6, "... and no offload at all");
	query(RNDIS_OID_GEN_MEDIA_CONNECT_STATUS, NULL, 0, &r);
	CHECK(query_result(&r, &u, 4) == 4 && u == RNDIS_MEDIA_STATE_CONNECTED,
	      "MEDIA_CONNECT_STATUS: 0, connected");
	query(RNDIS_OID_GEN_LINK_SPEED, NULL, 0, &r);
	CHECK(query_result(&r, &u, 4) == 4 && u == 100000000 && u / 10000 == 10000,
	      "LINK_SPEED: 100000000 x 100 bit/s, Linux's 10000 Mbit/s");
	query(RNDIS_OID_GEN_RECEIVE_SCALE_CAPABILITIES, NULL, 0, &r);
	CHECK(query_result(&r, v, 16) == 0 && reply32(&r, 12) == RNDIS_STATUS_NOT_SUPPORTED,
	      "RSS capabilities: not supported (one queue)");
	query(RNDIS_OID_GEN_MAXIMUM_TOTAL_SIZE, NULL, 0, &r);
	CHECK(query_result(&r, &u, 4) == 4 && u == 1514, "MAXIMUM_TOTAL_SIZE: 1514");
	query(0x12345678, NULL, 0, &r);
	CHECK(r.reply_len == 24 && reply32(&r, 0) == RNDIS_MSG_QUERY_C &&
	      reply32(&r, 12) == RNDIS_STATUS_NOT_SUPPORTED && reply32(&r, 16) == 0,
	      "unknown OID: QUERY_C NOT_SUPPORTED, never silence");
	{
		uint8_t m[8 + 20 + 8] = { 0 };
		struct rndis_msg_header h = { RNDIS_MSG_QUERY, sizeof(m) };
		struct rndis_query_request q = { ++next_req_id, RNDIS_OID_GEN_LINK_SPEED, 8, 1000, 0 };

		memcpy(m, &h, 8);
		memcpy(m + 8, &q, 20);
		CHECK(rndis_call(m, sizeof(m), &r) == NETVSP_POLL_DONE &&
		      reply32(&r, 12) == RNDIS_STATUS_INVALID_DATA && reply32(&r, 16) == 0 &&
		      SP.state == NETVSP_READY,
		      "QUERY whose info buffer lies outside it: INVALID_DATA, channel open");
	}
}

static void test_sets(void)
{
	struct rcall r;
	struct ndis_offload_params op = { .header = { NDIS_OBJECT_TYPE_DEFAULT, 3, 28 } };
	uint8_t cfg[20 + 28 + 24] = { 0 };
	uint32_t u = 0;

	op.ip_v4_csum = 1;
	set_oid(OID_TCP_OFFLOAD_PARAMETERS, &op, sizeof(op), &r);
	CHECK(set_ok(&r), "SET OFFLOAD_PARAMETERS: success (Linux fails the device otherwise)");
	set_oid(RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, cfg, sizeof(cfg), &r);
	CHECK(r.nvsp_status == NVSP_STAT_SUCCESS && r.reply_len == 16 &&
	      reply32(&r, 12) == RNDIS_STATUS_INVALID_DATA && strstr(E.last_log, "config parameter"),
	      "SET RNDIS_CONFIG_PARAMETER of zeros (offsets 0): INVALID_DATA, logged");
	set_oid(RNDIS_OID_802_3_MULTICAST_LIST, MAC, 6, &r);
	CHECK(reply32(&r, 12) == RNDIS_STATUS_INVALID_DATA && SP.mcast_count == 0,
	      "SET MULTICAST_LIST of a unicast address: INVALID_DATA, no list");
	set_oid(0x0fedcba9, &u, 4, &r);
	CHECK(r.reply_len == 16 && reply32(&r, 0) == RNDIS_MSG_SET_C &&
	      reply32(&r, 12) == RNDIS_STATUS_NOT_SUPPORTED, "SET of an unknown OID: NOT_SUPPORTED");
	set_oid(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &u, 2, &r);
	CHECK(reply32(&r, 12) == RNDIS_STATUS_INVALID_LENGTH && SP.filter == 0,
	      "packet filter of 2 bytes: INVALID_LENGTH");
}

static void test_filter(void)
{
	struct rcall r;
	uint8_t f[64];
	uint32_t filter = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_ALL_MULTICAST |
			  NDIS_PACKET_TYPE_BROADCAST;
	struct hpkt p;
	int got;

	make_frame(f, 64, MAC, 1);
	CHECK(!netvsp_can_receive(&SP) && netvsp_receive(&SP, f, 64) == -1,
	      "before the packet filter: nothing received, caller keeps the frame");
	set_oid(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &filter, 4, &r);
	CHECK(set_ok(&r) && SP.filter == filter, "SET packet filter 0x%x: success", filter);
	got = gread(&p);
	{
		uint32_t m[5] = { 0 };

		if (got > 0)
			recv_read(p.byte_offset, m, sizeof(m));
		CHECK(got > 0 && p.d.type == VMBUS_PKT_DATA_USING_XFER_PAGES &&
		      p.channel_type == NVSP_CHANNEL_TYPE_CONTROL && p.byte_count == 20 &&
		      m[0] == RNDIS_MSG_INDICATE && m[1] == 20 && m[2] == RNDIS_STATUS_MEDIA_CONNECT,
		      "then RNDIS_MSG_INDICATE MEDIA_CONNECT, once");
		if (got > 0)
			complete_xfer(p.d.trans_id);
	}
	poll_host();
	CHECK(gread(&p) == 0 && netvsp_can_receive(&SP) && SP.stats.indications == 1,
	      "nothing more; the device receives now");
	set_oid(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &filter, 4, &r);
	CHECK(set_ok(&r) && gread(&p) == 0, "the filter set again: no second indication");
}

static void test_tx(void)
{
	uint8_t f[1514], m[2048], ppi[16];
	uint64_t tid;
	struct hpkt p;
	uint32_t len, hash = 0x1234abcd;
	struct rndis_per_packet_info pi = { 16, RNDIS_PPI_NBL_HASH_VALUE, 12 };

	make_frame(f, 60, (const uint8_t[]){ 0x02, 0, 0, 0, 0, 9 }, 3);
	len = build_packet(m, f, 60, NULL, 0);
	send_buf_put(3 * 6144, m, len);
	tid = send_rndis_section(3, len);
	CHECK(poll_host() == NETVSP_POLL_DONE && E.nframes == 1 && E.frame_len[0] == 60 &&
	      !memcmp(E.frame[0], f, 60), "frame in send buffer section 3: byte-exact at the switch");
	CHECK(gread(&p) > 0 && p.d.type == VMBUS_PKT_COMP && p.d.trans_id == tid &&
	      comp_msg(&p).msg_type == NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE &&
	      comp_msg(&p).send_rndis_pkt_complete.status == NVSP_STAT_SUCCESS,
	      "... completed: SEND_RNDIS_PKT_COMPLETE success, same transaction id");

	/* 1514 bytes by page ranges, the RNDIS header across a page. */
	make_frame(f, 1514, MAC, 5);
	len = build_packet(m, f, 1514, NULL, 0);
	gput(DATA_PFN * PAGE + 4070, m, len);
	tid = send_rndis_gpa(DATA_PFN * PAGE + 4070, len, NVSP_CHANNEL_TYPE_DATA);
	CHECK(poll_host() == NETVSP_POLL_DONE && E.nframes == 2 && E.frame_len[1] == 1514 &&
	      !memcmp(E.frame[1], f, 1514), "1514-byte frame by GPA direct ranges: byte-exact");
	CHECK(gread(&p) > 0 && p.d.trans_id == tid &&
	      comp_msg(&p).send_rndis_pkt_complete.status == NVSP_STAT_SUCCESS, "... completed");

	/* The same as newer kernels send it (netvsc_build_mpb_array): one
	 * range over both pages, two pfns. */
	{
		uint8_t head[8 + 8 + 16];
		struct nvsp_message nm = { .msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT };
		uint32_t one = 1, off = 4070;
		uint64_t p0 = DATA_PFN, p1 = DATA_PFN + 1;

		make_frame(f, 1000, MAC, 6);
		len = build_packet(m, f, 1000, NULL, 0);
		gput(DATA_PFN * PAGE + off, m, len);
		memset(head, 0, 4);
		memcpy(head + 4, &one, 4);
		memcpy(head + 8, &len, 4);
		memcpy(head + 12, &off, 4);
		memcpy(head + 16, &p0, 8);
		memcpy(head + 24, &p1, 8);
		nm.send_rndis_pkt.send_buf_section_index = NVSP_INVALID_SECTION_INDEX;
		gsend(VMBUS_PKT_DATA_USING_GPA_DIRECT, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 777,
		      head, sizeof(head), &nm, sizeof(nm));
		CHECK(poll_host() == NETVSP_POLL_DONE && E.nframes == 3 && E.frame_len[2] == 1000 &&
		      !memcmp(E.frame[2], f, 1000) && gread(&p) > 0 && p.d.trans_id == 777,
		      "one range spanning two pages (newer kernels): byte-exact, completed");
	}

	/* A hash PPI in front of the frame (Linux adds one with vRSS). */
	memcpy(ppi, &pi, 12);
	memcpy(ppi + 12, &hash, 4);
	make_frame(f, 100, MAC, 7);
	len = build_packet(m, f, 100, ppi, 16);
	send_buf_put(0, m, len);
	send_rndis_section(0, len);
	CHECK(poll_host() == NETVSP_POLL_DONE && E.nframes == 4 && E.frame_len[3] == 100 &&
	      !memcmp(E.frame[3], f, 100) && gread(&p) > 0,
	      "frame after a hash per-packet info: info skipped, frame exact");

	/* A VLAN tag in a PPI: not carried, dropped, completed. */
	pi.type_internal = RNDIS_PPI_IEEE_8021Q;
	hash = 5u << 4;         /* vlan id 5 */
	memcpy(ppi, &pi, 12);
	memcpy(ppi + 12, &hash, 4);
	len = build_packet(m, f, 100, ppi, 16);
	send_buf_put(6144, m, len);
	send_rndis_section(1, len);
	CHECK(poll_host() == NETVSP_POLL_DONE && E.nframes == 4 && SP.stats.tx_dropped == 1 &&
	      gread(&p) > 0 && comp_msg(&p).send_rndis_pkt_complete.status == NVSP_STAT_SUCCESS,
	      "VLAN-tagged frame: dropped, completed");
	CHECK(E.tx_bad == 0 && E.page_cross == 0, "every frame at the switch 14..1514 bytes");
}

static void test_tx_busy(void)
{
	uint8_t f1[80], f2[90], m[256];
	uint64_t t1, t2;
	struct hpkt p, q;
	uint32_t len;
	unsigned n0 = E.nframes, calls;

	make_frame(f1, 80, MAC, 11);
	make_frame(f2, 90, MAC, 12);
	len = build_packet(m, f1, 80, NULL, 0);
	send_buf_put(4 * 6144, m, len);
	t1 = send_rndis_section(4, len);
	len = build_packet(m, f2, 90, NULL, 0);
	send_buf_put(5 * 6144, m, len);
	t2 = send_rndis_section(5, len);
	E.tx_busy = 2;
	calls = E.tx_calls;
	CHECK(poll_host() == NETVSP_POLL_DONE && gread(&p) == 0 && netvsp_tx_blocked(&SP) &&
	      E.tx_calls == calls + 1, "switch busy: the packet is kept, not completed");
	CHECK(poll_host() == NETVSP_POLL_DONE && gread(&p) == 0 && E.tx_calls == calls + 2 &&
	      E.nframes == n0, "still busy at the next poll: offered again, the next packet waits");
	CHECK(poll_host() == NETVSP_POLL_DONE && !netvsp_tx_blocked(&SP) && E.nframes == n0 + 2 &&
	      E.frame_len[n0] == 80 && !memcmp(E.frame[n0], f1, 80) &&
	      E.frame_len[n0 + 1] == 90 && !memcmp(E.frame[n0 + 1], f2, 90),
	      "switch has room: both frames, in order, each once");
	CHECK(gread(&p) > 0 && gread(&q) > 0 && p.d.trans_id == t1 && q.d.trans_id == t2 &&
	      comp_msg(&p).send_rndis_pkt_complete.status == NVSP_STAT_SUCCESS,
	      "... and only then their completions, in order");
	E.tx_refuse = 1;
	len = build_packet(m, f1, 80, NULL, 0);
	send_buf_put(6 * 6144, m, len);
	t1 = send_rndis_section(6, len);
	CHECK(poll_host() == NETVSP_POLL_DONE && gread(&p) > 0 && p.d.trans_id == t1 &&
	      comp_msg(&p).send_rndis_pkt_complete.status == NVSP_STAT_SUCCESS &&
	      SP.stats.tx_refused == 1, "switch refuses: completed with success, counted");
	E.tx_refuse = 0;
}

static void test_rx(void)
{
	uint8_t f[1514], got[1600];
	struct hpkt p;
	struct rndis_packet rp;
	uint32_t h[2], nfree = SP.nfree;

	make_frame(f, 1514, MAC, 21);
	CHECK(netvsp_receive(&SP, f, 1514) == 0 && SP.nfree == nfree - 1,
	      "frame from the switch: taken, one chunk in use");
	CHECK(gread(&p) > 0 && p.d.type == VMBUS_PKT_DATA_USING_XFER_PAGES &&
	      p.channel_type == NVSP_CHANNEL_TYPE_DATA && p.nvsp_type == NVSP_MSG1_TYPE_SEND_RNDIS_PKT &&
	      p.pageset == 0xcafe && p.range_cnt == 1 && p.byte_count == 44 + 1514 &&
	      p.byte_offset % 1728 == 0 && p.byte_offset + p.byte_count <= NCHUNKS * 1728,
	      "transfer-page packet: data channel, one range of 44 + 1514 bytes in a chunk");
	recv_read(p.byte_offset, got, p.byte_count);
	memcpy(h, got, 8);
	memcpy(&rp, got + 8, sizeof(rp));
	CHECK(h[0] == RNDIS_MSG_PACKET && h[1] == 44 + 1514 && rp.data_offset == 36 &&
	      rp.data_len == 1514 && rp.per_pkt_info_offset == 0 && rp.per_pkt_info_len == 0 &&
	      rp.oob_data_len == 0, "RNDIS_MSG_PACKET header: data at 36, 1514 bytes, no PPI");
	CHECK(!memcmp(got + 44, f, 1514) && E.page_cross == 0, "the frame, byte-exact");
	complete_xfer(p.d.trans_id);
	CHECK(poll_host() == NETVSP_POLL_DONE && SP.nfree == nfree, "completion frees the chunk");
	complete_xfer(p.d.trans_id);
	CHECK(poll_host() == -1 && SP.state == NETVSP_CLOSED && strstr(E.last_log, "closing"),
	      "the same completion twice: channel closed, logged");
	CHECK(bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8) == 0, "channel reopened, device up again");
}

static void test_rx_exhaust(void)
{
	uint8_t f[64];
	struct hpkt p;
	uint64_t tids[NCHUNKS];
	unsigned n = 0, i;

	make_frame(f, 64, MAC, 31);
	while (n < NCHUNKS && netvsp_receive(&SP, f, 64) == 0)
		n++;
	CHECK(n == NCHUNKS - NETVSP_CTRL_RESERVE && SP.stats.rx_no_chunk >= 1,
	      "%u frames in flight, then -1: no free chunk (%u kept for control)", n,
	      NETVSP_CTRL_RESERVE);
	for (i = 0; i < n && gread(&p) > 0; i++)
		tids[i] = p.d.trans_id;
	CHECK(i == n, "every frame announced");
	complete_xfer(tids[0]);
	poll_host();
	CHECK(netvsp_receive(&SP, f, 64) == 0, "one completion: one more frame fits");
	for (i = 1; i < n; i++)
		complete_xfer(tids[i]);
	poll_host();
	CHECK(drain_guest() == 1 && SP.nfree == NCHUNKS, "all completed: every chunk free again");
}

static void test_rx_filter(void)
{
	uint8_t f[1600];
	struct hpkt p;
	uint64_t filtered = SP.stats.rx_filtered, dropped = SP.stats.rx_dropped;

	make_frame(f, 100, (const uint8_t[]){ 0x00, 0x15, 0x5d, 0, 0, 1 }, 1);
	CHECK(netvsp_receive(&SP, f, 100) == 0 && gread(&p) == 0 &&
	      SP.stats.rx_filtered == filtered + 1, "unicast for another MAC: filtered out");
	make_frame(f, 100, (const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 1);
	CHECK(netvsp_receive(&SP, f, 100) == 0 && gread(&p) > 0, "broadcast: delivered");
	complete_xfer(p.d.trans_id);
	make_frame(f, 100, (const uint8_t[]){ 0x01, 0x00, 0x5e, 0, 0, 1 }, 1);
	CHECK(netvsp_receive(&SP, f, 100) == 0 && gread(&p) > 0, "multicast: delivered (all-multicast)");
	complete_xfer(p.d.trans_id);
	CHECK(netvsp_receive(&SP, f, 13) == 0 && netvsp_receive(&SP, f, 1515) == 0 &&
	      gread(&p) == 0 && SP.stats.rx_dropped == dropped + 2,
	      "13- and 1515-byte frames: dropped");
	poll_host();
}

static void test_link(void)
{
	struct rcall r;
	struct hpkt p;
	uint8_t f[64];
	uint32_t m[3] = { 0 }, u = 9;
	uint64_t dropped = SP.stats.rx_dropped;

	netvsp_set_link(&SP, false);
	CHECK(gread(&p) > 0 && p.byte_count == 20, "link down: an indication at once");
	recv_read(p.byte_offset, m, sizeof(m));
	CHECK(m[0] == RNDIS_MSG_INDICATE && m[2] == RNDIS_STATUS_MEDIA_DISCONNECT,
	      "... MEDIA_DISCONNECT");
	complete_xfer(p.d.trans_id);
	poll_host();
	query(RNDIS_OID_GEN_MEDIA_CONNECT_STATUS, NULL, 0, &r);
	CHECK(query_result(&r, &u, 4) == 4 && u == RNDIS_MEDIA_STATE_DISCONNECTED,
	      "MEDIA_CONNECT_STATUS: 1, disconnected");
	make_frame(f, 64, MAC, 1);
	CHECK(netvsp_receive(&SP, f, 64) == 0 && gread(&p) == 0 &&
	      SP.stats.rx_dropped == dropped + 1, "no frames while the cable is out");
	netvsp_set_link(&SP, true);
	memset(m, 0, sizeof(m));
	if (gread(&p) > 0) {
		recv_read(p.byte_offset, m, sizeof(m));
		complete_xfer(p.d.trans_id);
	}
	CHECK(m[0] == RNDIS_MSG_INDICATE && m[2] == RNDIS_STATUS_MEDIA_CONNECT,
	      "link up: MEDIA_CONNECT");
	poll_host();
}

/* Control replies when every chunk is out: kept, sent once one frees. */
static void test_reply_pending(void)
{
	uint8_t f[64], msg[8 + 20];
	struct hpkt p;
	uint64_t data[NCHUNKS], rtid[2], tid;
	unsigned n = 0, k = 0;
	struct rndis_msg_header h = { RNDIS_MSG_QUERY, sizeof(msg) };
	struct rndis_query_request q = { 555, RNDIS_OID_GEN_LINK_SPEED, 0, 20, 0 };
	int comps = 0, xfers = 0;

	make_frame(f, 64, MAC, 41);
	while (netvsp_receive(&SP, f, 64) == 0)
		n++;
	while (gread(&p) > 0)
		data[k++] = p.d.trans_id;
	memcpy(msg, &h, 8);
	memcpy(msg + 8, &q, 20);
	gput(CTRL_PFN * PAGE, msg, sizeof(msg));
	/* Two queries take the two reserved chunks; their replies are not
	 * completed yet. */
	for (int i = 0; i < 2; i++) {
		send_rndis_gpa(CTRL_PFN * PAGE, sizeof(msg), NVSP_CHANNEL_TYPE_CONTROL);
		poll_host();
		while (gread(&p) > 0)
			if (p.d.type == VMBUS_PKT_DATA_USING_XFER_PAGES)
				rtid[xfers++] = p.d.trans_id;
	}
	CHECK(k == n && xfers == 2 && SP.nfree == 0, "%u frames and 2 replies hold every chunk", n);
	tid = send_rndis_gpa(CTRL_PFN * PAGE, sizeof(msg), NVSP_CHANNEL_TYPE_CONTROL);
	poll_host();
	xfers = 0;
	while (gread(&p) > 0) {
		comps += p.d.type == VMBUS_PKT_COMP && p.d.trans_id == tid;
		xfers += p.d.type == VMBUS_PKT_DATA_USING_XFER_PAGES;
	}
	CHECK(comps == 1 && xfers == 0 && SP.reply_count == 1,
	      "a third query: its packet completes, its reply waits for a chunk");
	CHECK(netvsp_receive(&SP, f, 64) == -1 && !netvsp_can_receive(&SP),
	      "frames wait behind the pending reply");
	complete_xfer(data[0]);
	poll_host();
	CHECK(gread(&p) > 0 && p.d.type == VMBUS_PKT_DATA_USING_XFER_PAGES &&
	      p.channel_type == NVSP_CHANNEL_TYPE_CONTROL && SP.reply_count == 0,
	      "a chunk comes back: the reply goes out");
	complete_xfer(p.d.trans_id);
	for (unsigned i = 1; i < k; i++)
		complete_xfer(data[i]);
	complete_xfer(rtid[0]);
	complete_xfer(rtid[1]);
	poll_host();
	CHECK(SP.nfree == NCHUNKS && SP.state == NETVSP_READY, "all chunks back");
}

static void test_misc_rndis(void)
{
	struct rcall r;
	uint32_t ka[3] = { RNDIS_MSG_KEEPALIVE, 12, 77 }, rs[3] = { RNDIS_MSG_RESET, 12, 0 };
	uint32_t halt[3] = { RNDIS_MSG_HALT, 12, 78 };
	uint8_t f[64];
	struct hpkt p;

	rndis_call(ka, sizeof(ka), &r);
	CHECK(r.reply_len == 16 && reply32(&r, 0) == RNDIS_MSG_KEEPALIVE_C &&
	      reply32(&r, 8) == 77 && reply32(&r, 12) == RNDIS_STATUS_SUCCESS, "KEEPALIVE -> KEEPALIVE_C");
	rndis_call(rs, sizeof(rs), &r);
	CHECK(r.reply_len == 16 && reply32(&r, 0) == RNDIS_MSG_RESET_C &&
	      reply32(&r, 8) == RNDIS_STATUS_SUCCESS && reply32(&r, 12) == 0, "RESET -> RESET_C");
	rndis_call(halt, sizeof(halt), &r);
	make_frame(f, 64, MAC, 1);
	CHECK(r.nvsp_status == NVSP_STAT_SUCCESS && r.reply_len == -1 &&
	      !netvsp_can_receive(&SP) && netvsp_receive(&SP, f, 64) == -1 && gread(&p) == 0,
	      "HALT: no reply, receive off");
}

/* Requests the host fails without closing the channel. */
static void test_refused(void)
{
	uint8_t m[2048], f[64];
	uint64_t tid;
	struct hpkt p;
	uint32_t len;
	uint64_t faults = SP.stats.guest_faults;

	CHECK(bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8) == 0, "device up");
	make_frame(f, 64, MAC, 1);
	len = build_packet(m, f, 64, NULL, 0);
	gput(FOREIGN_PFN * PAGE + 100, m, len);         /* the guest's own view only */
	tid = send_rndis_gpa(FOREIGN_PFN * PAGE + 100, len, NVSP_CHANNEL_TYPE_DATA);
	CHECK(poll_host() == NETVSP_POLL_DONE && gread(&p) > 0 && p.d.trans_id == tid &&
	      comp_msg(&p).send_rndis_pkt_complete.status == NVSP_STAT_FAIL &&
	      SP.stats.guest_faults == faults + 1 && SP.state == NETVSP_READY,
	      "RNDIS message in a page the guest does not own: FAIL, channel open");
	{
		/* 20000 bytes of ranges: more than the 16 KiB copy buffer. */
		uint8_t head[8 + 16 * 8];
		struct nvsp_message nm = { .msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT };
		uint32_t hl = gpa_ranges(head, DATA_PFN * PAGE, 20000);

		nm.send_rndis_pkt.send_buf_section_index = NVSP_INVALID_SECTION_INDEX;
		gsend(VMBUS_PKT_DATA_USING_GPA_DIRECT, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 4242,
		      head, hl, &nm, sizeof(nm));
		CHECK(poll_host() == NETVSP_POLL_DONE && gread(&p) > 0 && p.d.trans_id == 4242 &&
		      comp_msg(&p).send_rndis_pkt_complete.status == NVSP_STAT_FAIL &&
		      strstr(E.last_log, "over"),
		      "RNDIS message larger than the copy buffer: FAIL, logged");
	}
	{
		struct nvsp_message nm = { .msg_type = NVSP_MSG1_TYPE_SEND_SEND_BUF }, c;

		nm.send_buf.gpadl_handle = 0x7777;
		CHECK(nvsp_call(&nm, sizeof(nm), &c) == 40 &&
		      c.send_send_buf_complete.status == NVSP_STAT_FAIL,
		      "second send buffer: FAIL");
	}
	{
		struct nvsp_message nm = { .msg_type = NVSP_MSG5_TYPE_SUBCHANNEL }, c;

		nm.subchn_req.op = NVSP_SUBCHANNEL_ALLOCATE;
		nm.subchn_req.num_subchannels = 3;
		CHECK(nvsp_call(&nm, sizeof(nm), &c) == 40 && c.msg_type == NVSP_MSG5_TYPE_SUBCHANNEL &&
		      c.subchn_comp.status != NVSP_STAT_SUCCESS && c.subchn_comp.num_subchannels == 0,
		      "SUBCHANNEL request: refused, none (Linux keeps one channel)");
	}
}

/* Packets no netvsc sends: the channel closes, with a log line. */
static int closes(void)
{
	unsigned logs = E.logs;
	int r = poll_host();

	return r == -1 && SP.state == NETVSP_CLOSED && E.logs > logs &&
	       strstr(E.last_log, "closing the channel") && poll_host() == -1;
}

static void test_hostile(void)
{
	uint8_t m[2048], f[100];
	struct nvsp_message nm;
	uint32_t len;

	make_frame(f, 100, MAC, 1);
	len = build_packet(m, f, 100, NULL, 0);

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	send_buf_put(0, m, len);
	send_rndis_section(10, len);
	CHECK(closes(), "send section 10 of 10: closed, logged, stays closed");

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	send_rndis_section(0, 6145);
	CHECK(closes(), "section size 6145 > 6144: closed");

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	send_rndis_section(0, len - 10);
	CHECK(closes(), "RNDIS msg_len beyond the section's bytes (truncated): closed");

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	{
		struct rndis_packet rp;

		memcpy(&rp, m + 8, sizeof(rp));
		rp.data_offset = len;           /* past the message */
		memcpy(m + 8, &rp, sizeof(rp));
		send_buf_put(0, m, len);
		send_rndis_section(0, len);
		CHECK(closes(), "RNDIS packet data offset out of the message: closed");
		rp.data_offset = 36;
		rp.data_len = len;              /* too long */
		memcpy(m + 8, &rp, sizeof(rp));
	}
	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	send_buf_put(0, m, len);
	send_rndis_section(0, len);
	CHECK(closes(), "RNDIS packet data length out of the message: closed");
	len = build_packet(m, f, 100, NULL, 0);

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	{
		uint8_t ppi[12] = { 0 };        /* size 0 */

		len = build_packet(m, f, 100, ppi, 12);
		send_buf_put(0, m, len);
		send_rndis_section(0, len);
		CHECK(closes(), "per-packet info of size 0: closed (no endless walk)");
		len = build_packet(m, f, 100, NULL, 0);
	}

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	complete_xfer(0x123456789ull);
	CHECK(closes(), "completion for a transaction never sent: closed");

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	nm = (struct nvsp_message){ .msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT };
	nm.send_rndis_pkt.send_buf_section_index = NVSP_INVALID_SECTION_INDEX;
	send_nvsp(&nm, sizeof(nm));
	CHECK(closes(), "RNDIS packet with neither section nor page ranges: closed");

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	nm = init_msg(NVSP_PROTOCOL_VERSION_61);
	send_nvsp(&nm, 6);
	CHECK(closes(), "INIT of 6 bytes: closed");

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	gsend(5, 0, 1, NULL, 0, &nm, sizeof(nm));
	CHECK(closes(), "VMBus packet type 5: closed");

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	{
		uint8_t head[8 + 16];
		uint32_t one = 1, bc = 100, bo = 5000;
		uint64_t pfn = DATA_PFN;

		memset(head, 0, 4);
		memcpy(head + 4, &one, 4);
		memcpy(head + 8, &bc, 4);
		memcpy(head + 12, &bo, 4);
		memcpy(head + 16, &pfn, 8);
		nm = (struct nvsp_message){ .msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT };
		nm.send_rndis_pkt.send_buf_section_index = NVSP_INVALID_SECTION_INDEX;
		gsend(VMBUS_PKT_DATA_USING_GPA_DIRECT, 1, 2, head, sizeof(head), &nm, sizeof(nm));
		CHECK(closes(), "page range offset 5000: closed");
	}

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	{
		uint8_t head[8 + 16];
		uint32_t n = 3, bc = 100, bo = 0;
		uint64_t pfn = DATA_PFN;

		memset(head, 0, 4);
		memcpy(head + 4, &n, 4);        /* 3 ranges, room for one */
		memcpy(head + 8, &bc, 4);
		memcpy(head + 12, &bo, 4);
		memcpy(head + 16, &pfn, 8);
		gsend(VMBUS_PKT_DATA_USING_GPA_DIRECT, 1, 2, head, sizeof(head), &nm, sizeof(nm));
		CHECK(closes(), "rangecount beyond the packet: closed");
	}
}

static void test_revoke(void)
{
	struct nvsp_message nm = { .msg_type = NVSP_MSG1_TYPE_REVOKE_RECV_BUF };
	uint8_t f[64], m[256];
	uint32_t len;
	struct hpkt p;

	CHECK(bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8) == 0, "device up");
	make_frame(f, 64, MAC, 1);
	CHECK(netvsp_receive(&SP, f, 64) == 0 && gread(&p) > 0, "a frame out before the revoke");
	nm.revoke_buf.id = NETVSC_RECEIVE_BUFFER_ID;
	gsend(VMBUS_PKT_DATA_INBAND, 0, 0, NULL, 0, &nm, sizeof(nm));
	CHECK(poll_host() == NETVSP_POLL_DONE && !SP.recv.present && gread(&p) == 0 &&
	      netvsp_receive(&SP, f, 64) == -1, "REVOKE_RECV_BUF: no reply, receive off");
	complete_xfer(p.d.trans_id);
	CHECK(poll_host() == NETVSP_POLL_DONE && SP.state == NETVSP_READY,
	      "the revoked buffer's last completion is still taken");
	nm.msg_type = NVSP_MSG1_TYPE_REVOKE_SEND_BUF;
	nm.revoke_buf.id = NETVSC_SEND_BUFFER_ID;
	gsend(VMBUS_PKT_DATA_INBAND, 0, 0, NULL, 0, &nm, sizeof(nm));
	CHECK(poll_host() == NETVSP_POLL_DONE && !SP.send.present, "REVOKE_SEND_BUF: forgotten");
	len = build_packet(m, f, 64, NULL, 0);
	send_buf_put(0, m, len);
	send_rndis_section(0, len);
	CHECK(closes(), "a section of the revoked send buffer: closed");
}

static void test_versions(void)
{
	struct rcall r;
	struct ndis_offload caps;

	CHECK(bring_up(NVSP_PROTOCOL_VERSION_1, 8, 8) == 0 && SP.version == NVSP_PROTOCOL_VERSION_1,
	      "NVSP 1 (0x2): device up");
	query(OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, NULL, 0, &r);
	CHECK(query_result(&r, &caps, sizeof(caps)) == NDIS_OFFLOAD_SIZE_6_0 &&
	      caps.header.revision == 1 && caps.header.size == NDIS_OFFLOAD_SIZE_6_0,
	      "NVSP 1: offload capabilities revision 1, %u bytes", NDIS_OFFLOAD_SIZE_6_0);
	CHECK(bring_up(NVSP_PROTOCOL_VERSION_4, 8, 8) == 0, "NVSP 4: device up");
	query(OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, NULL, 0, &r);
	CHECK(query_result(&r, &caps, sizeof(caps)) == NDIS_OFFLOAD_SIZE_6_1 &&
	      caps.header.revision == 2, "NVSP 4: revision 2, %u bytes", NDIS_OFFLOAD_SIZE_6_1);
	CHECK(bring_up(NVSP_PROTOCOL_VERSION_2, 8, 8) == 0 && bring_up(NVSP_PROTOCOL_VERSION_5, 8, 8) == 0 &&
	      bring_up(NVSP_PROTOCOL_VERSION_6, 8, 8) == 0, "NVSP 2, 5 and 6: device up");
}

static void test_budget(void)
{
	struct nvsp_message m = { .msg_type = NVSP_MSG1_TYPE_SEND_NDIS_VER };
	uint32_t mask1;
	int r1, r2;

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	for (unsigned i = 0; i < 100; i++)
		gsend(VMBUS_PKT_DATA_INBAND, 0, 0, NULL, 0, &m, sizeof(m));
	r1 = netvsp_poll(&SP);
	mask1 = E.h_in.hdr->interrupt_mask;
	r2 = netvsp_poll(&SP);
	CHECK(r1 == NETVSP_POLL_MORE && mask1 == 1 && r2 == NETVSP_POLL_DONE &&
	      E.h_in.hdr->interrupt_mask == 0 && SP.stats.budget_stops >= 1,
	      "100 packets: MORE (masked) after %u, then DONE (unmasked)", NETVSP_POLL_BUDGET);
}

/* A host->guest ring of one page: completions wait for room. */
static void test_ring_full(void)
{
	uint8_t f[64];
	struct hpkt p;
	unsigned n = 0, got = 0, sigs;
	uint64_t tid;

	CHECK(bring_up(NVSP_PROTOCOL_VERSION_61, 8, 1) == 0, "device up, 4 KiB host->guest ring");
	make_frame(f, 64, MAC, 1);
	while (n < 200 && netvsp_receive(&SP, f, 64) == 0)
		n++;
	CHECK(n < 100 && SP.stats.rx_ring_full >= 1, "%u frames fill the ring: then -1, kept", n);
	{
		uint8_t msg[8 + 20];
		struct rndis_msg_header h = { RNDIS_MSG_QUERY, sizeof(msg) };
		struct rndis_query_request q = { 1, RNDIS_OID_GEN_LINK_SPEED, 0, 20, 0 };

		memcpy(msg, &h, 8);
		memcpy(msg + 8, &q, 20);
		gput(CTRL_PFN * PAGE, msg, sizeof(msg));
		tid = send_rndis_gpa(CTRL_PFN * PAGE, sizeof(msg), NVSP_CHANNEL_TYPE_CONTROL);
	}
	CHECK(poll_host() == NETVSP_POLL_DONE && SP.stalled && SP.stats.ring_full >= 1,
	      "a request's completion finds the ring full: kept");
	sigs = E.signals;
	while (gread(&p) > 0) {
		got++;
		complete_xfer(p.d.trans_id);
	}
	poll_host();
	CHECK(got == n && !SP.stalled && E.signals > sigs, "the guest reads: the completion goes out");
	{
		bool comp = false, reply = false;

		while (gread(&p) > 0) {
			comp |= p.d.type == VMBUS_PKT_COMP && p.d.trans_id == tid;
			reply |= p.d.type == VMBUS_PKT_DATA_USING_XFER_PAGES;
			if (p.d.type == VMBUS_PKT_DATA_USING_XFER_PAGES)
				complete_xfer(p.d.trans_id);
		}
		CHECK(comp && reply, "... and the query's reply after it");
	}
	poll_host();
	{
		uint32_t ka[3] = { RNDIS_MSG_KEEPALIVE, 12, 5 };
		struct rcall r;

		rndis_call(ka, sizeof(ka), &r);
		CHECK(r.reply_len == 16 && SP.state == NETVSP_READY && !SP.stalled,
		      "channel still good");
	}
}

static void test_tiny_and_foreign_buffers(void)
{
	struct nvsp_message m = init_msg(NVSP_PROTOCOL_VERSION_61), c;
	uint8_t f[64];

	open_channel(8, 8);
	nvsp_call(&m, sizeof(m), &c);
	m = (struct nvsp_message){ .msg_type = NVSP_MSG1_TYPE_SEND_RECV_BUF };
	m.send_buf.gpadl_handle = FOREIGN_GPADL;
	m.send_buf.id = 1;
	CHECK(nvsp_call(&m, sizeof(m), &c) == 40 && c.send_recv_buf_complete.status == NVSP_STAT_SUCCESS,
	      "receive buffer of pages the guest does not own: announced (pages are checked per copy)");
	{
		uint8_t init[24] = { 0 };
		struct rndis_msg_header h = { RNDIS_MSG_INIT, 24 };
		struct rndis_initialize_request ir = { 1, 1, 0, 0x4000 };
		struct rcall r;

		memcpy(init, &h, 8);
		memcpy(init + 8, &ir, 16);
		rndis_call(init, 24, &r);
		CHECK(r.nvsp_status == NVSP_STAT_SUCCESS && r.reply_len == -1 &&
		      SP.stats.guest_faults >= 1 && SP.reply_count == 0 && SP.state == NETVSP_READY,
		      "its replies cannot be written: dropped, counted, channel open");
	}
	make_frame(f, 64, MAC, 1);
	CHECK(netvsp_receive(&SP, f, 64) == -1, "and it never receives (RNDIS not up)");
	open_channel(8, 8);
	m = init_msg(NVSP_PROTOCOL_VERSION_61);
	nvsp_call(&m, sizeof(m), &c);
	m = (struct nvsp_message){ .msg_type = NVSP_MSG1_TYPE_SEND_RECV_BUF };
	m.send_buf.gpadl_handle = TINY_GPADL;
	CHECK(nvsp_call(&m, sizeof(m), &c) == 40 &&
	      c.send_recv_buf_complete.sections[0].num_sub_allocs == 2,
	      "one-page receive buffer: 2 chunks");
}

/* ---- offload parameters, multicast list, MAC changes ------------------------ */

static uint32_t set_status(const struct rcall *r)
{
	return r->nvsp_status == NVSP_STAT_SUCCESS && r->reply_len == 16 &&
	       reply32(r, 0) == RNDIS_MSG_SET_C && reply32(r, 8) == next_req_id ?
	       reply32(r, 12) : 0xdeadbeefu;
}

static void test_offload_params(void)
{
	struct rcall r;
	struct ndis_offload_params op = { .header = { NDIS_OBJECT_TYPE_DEFAULT, 3, 22 } };
	uint64_t rejected;

	CHECK(bring_up(NVSP_PROTOCOL_VERSION_4, 8, 8) == 0, "offload parameters: device up, NVSP 4");
	rejected = SP.stats.rejected;
	op.ip_v4_csum = NDIS_OFFLOAD_PARAMETERS_DISABLED;
	set_oid(OID_TCP_OFFLOAD_PARAMETERS, &op, VERSION_4_OFFLOAD_SIZE, &r);
	CHECK(set_status(&r) == RNDIS_STATUS_SUCCESS,
	      "OFFLOAD_PARAMETERS as NVSP 4 sends them (22 bytes, checksum off): success");
	op.header.size = 28;
	op.tcp_ip_v4_csum = 4;          /* TX_RX_ENABLED */
	set_oid(OID_TCP_OFFLOAD_PARAMETERS, &op, sizeof(op), &r);
	CHECK(set_status(&r) == RNDIS_STATUS_NOT_SUPPORTED && strstr(E.last_log, "offload"),
	      "turning on TCP checksum offload we never offered: NOT_SUPPORTED, logged");
	op.tcp_ip_v4_csum = 0;
	op.rsc_ip_v6 = 2;
	set_oid(OID_TCP_OFFLOAD_PARAMETERS, &op, sizeof(op), &r);
	CHECK(set_status(&r) == RNDIS_STATUS_NOT_SUPPORTED, "turning on RSC: NOT_SUPPORTED");
	op.rsc_ip_v6 = 0;
	op.encapsulated_packet_task_offload = NDIS_OFFLOAD_SET_ON;
	set_oid(OID_TCP_OFFLOAD_PARAMETERS, &op, sizeof(op), &r);
	CHECK(set_status(&r) == RNDIS_STATUS_NOT_SUPPORTED,
	      "turning on encapsulation offload: NOT_SUPPORTED");
	op.encapsulated_packet_task_offload = 0;
	op.header.size = 22;
	op.rsc_ip_v4 = 2;               /* past the object's size: not read */
	set_oid(OID_TCP_OFFLOAD_PARAMETERS, &op, sizeof(op), &r);
	CHECK(set_status(&r) == RNDIS_STATUS_SUCCESS,
	      "a field past the object's own size is not looked at");
	op.header.size = 29;
	set_oid(OID_TCP_OFFLOAD_PARAMETERS, &op, sizeof(op), &r);
	CHECK(set_status(&r) == RNDIS_STATUS_INVALID_DATA,
	      "an object larger than its buffer: INVALID_DATA");
	op.header.size = 28;
	op.header.type = NDIS_OBJECT_TYPE_OFFLOAD;
	set_oid(OID_TCP_OFFLOAD_PARAMETERS, &op, sizeof(op), &r);
	CHECK(set_status(&r) == RNDIS_STATUS_INVALID_DATA, "the wrong object type: INVALID_DATA");
	set_oid(OID_TCP_OFFLOAD_PARAMETERS, &op, 8, &r);
	CHECK(set_status(&r) == RNDIS_STATUS_INVALID_LENGTH && SP.stats.rejected == rejected + 6,
	      "8 bytes: INVALID_LENGTH; each refusal counted");
}

static void test_multicast(void)
{
	static const uint8_t G1[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	static const uint8_t G2[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t G3[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x02 };
	uint32_t multicast = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST |
			     NDIS_PACKET_TYPE_MULTICAST;
	uint8_t list[33 * 6], v[256], f[100];
	struct rcall r;
	struct hpkt p;
	uint32_t u = 0;
	uint64_t filtered;

	CHECK(bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8) == 0 && SP.mcast_count == 0,
	      "multicast: device up, no list");
	query(RNDIS_OID_802_3_MAXIMUM_LIST_SIZE, NULL, 0, &r);
	CHECK(query_result(&r, &u, 4) == 4 && u == NETVSP_MCAST_MAX,
	      "MAXIMUM_LIST_SIZE: %u", NETVSP_MCAST_MAX);
	memcpy(list, G1, 6);
	memcpy(list + 6, G2, 6);
	set_oid(RNDIS_OID_802_3_MULTICAST_LIST, list, 12, &r);
	CHECK(set_ok(&r) && SP.mcast_count == 2, "SET MULTICAST_LIST of two groups: success");
	query(RNDIS_OID_802_3_MULTICAST_LIST, NULL, 0, &r);
	CHECK(query_result(&r, v, sizeof(v)) == 12 && !memcmp(v, list, 12),
	      "QUERY MULTICAST_LIST: the two groups back");
	set_oid(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &multicast, 4, &r);
	CHECK(set_ok(&r), "packet filter DIRECTED | BROADCAST | MULTICAST");
	filtered = SP.stats.rx_filtered;
	make_frame(f, 100, G2, 3);
	CHECK(netvsp_receive(&SP, f, 100) == 0 && gread(&p) > 0 &&
	      SP.stats.rx_filtered == filtered, "a frame for a listed group: delivered");
	complete_xfer(p.d.trans_id);
	make_frame(f, 100, G3, 3);
	CHECK(netvsp_receive(&SP, f, 100) == 0 && gread(&p) == 0 &&
	      SP.stats.rx_filtered == filtered + 1, "a group not listed: filtered out");
	for (unsigned i = 0; i < 33; i++) {
		memcpy(list + 6 * i, G3, 6);
		list[6 * i + 5] = (uint8_t)(0x10 + i);
	}
	set_oid(RNDIS_OID_802_3_MULTICAST_LIST, list, 33 * 6, &r);
	CHECK(set_status(&r) == RNDIS_STATUS_MULTICAST_FULL && strstr(E.last_log, "more than") &&
	      SP.mcast_count == 2, "33 groups: MULTICAST_FULL, logged, the old list kept");
	set_oid(RNDIS_OID_802_3_MULTICAST_LIST, list, 32 * 6, &r);
	CHECK(set_ok(&r) && SP.mcast_count == 32, "32 groups: success");
	list[6 * 31] = 0x02;
	set_oid(RNDIS_OID_802_3_MULTICAST_LIST, list, 7, &r);
	CHECK(set_status(&r) == RNDIS_STATUS_INVALID_LENGTH && strstr(E.last_log, "whole") &&
	      SP.mcast_count == 32, "7 bytes: INVALID_LENGTH, logged, list kept");
	set_oid(RNDIS_OID_802_3_MULTICAST_LIST, list, 32 * 6, &r);
	CHECK(set_status(&r) == RNDIS_STATUS_INVALID_DATA && SP.mcast_count == 32,
	      "a list with a unicast entry: INVALID_DATA, list kept");
	list[6 * 31] = 0x01;
	make_frame(f, 100, list + 6 * 31, 3);
	CHECK(netvsp_receive(&SP, f, 100) == 0 && gread(&p) > 0,
	      "the 32nd listed group: delivered");
	complete_xfer(p.d.trans_id);
	make_frame(f, 100, G2, 3);
	CHECK(netvsp_receive(&SP, f, 100) == 0 && gread(&p) == 0,
	      "a group of the replaced list: filtered out");
	multicast |= NDIS_PACKET_TYPE_ALL_MULTICAST;
	set_oid(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &multicast, 4, &r);
	CHECK(set_ok(&r) && netvsp_receive(&SP, f, 100) == 0 && gread(&p) > 0,
	      "ALL_MULTICAST: every group delivered, list or not");
	complete_xfer(p.d.trans_id);
	multicast = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST;
	set_oid(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &multicast, 4, &r);
	make_frame(f, 100, list, 3);
	CHECK(set_ok(&r) && netvsp_receive(&SP, f, 100) == 0 && gread(&p) == 0,
	      "no multicast bit: even a listed group is filtered out");
	set_oid(RNDIS_OID_802_3_MULTICAST_LIST, list, 0, &r);
	CHECK(set_ok(&r) && SP.mcast_count == 0, "an empty list: success, cleared");
	set_oid(RNDIS_OID_802_3_MULTICAST_LIST, list, 6, &r);
	CHECK(bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8) == 0 && SP.mcast_count == 0,
	      "RNDIS INIT again: the list is gone");
	poll_host();
}

/* The info buffer rndis_filter_set_device_mac builds: the struct, the
 * name, then the value, UTF-16LE without NULs; its length. */
static uint32_t config_param(uint8_t *b, const char *name, uint32_t type, const char *value)
{
	struct rndis_config_parameter_info ci = { 20, 0, type, 0, 0 };
	uint32_t nl = (uint32_t)strlen(name), vl = (uint32_t)strlen(value);

	ci.name_length = 2 * nl;
	ci.value_offset = 20 + 2 * nl;
	ci.value_length = 2 * vl;
	memcpy(b, &ci, 20);
	for (uint32_t i = 0; i < nl; i++)
		b[20 + 2 * i] = (uint8_t)name[i], b[21 + 2 * i] = 0;
	for (uint32_t i = 0; i < vl; i++)
		b[ci.value_offset + 2 * i] = (uint8_t)value[i], b[ci.value_offset + 2 * i + 1] = 0;
	return ci.value_offset + ci.value_length;
}

static uint32_t set_address(const char *hex, struct rcall *r)
{
	uint8_t b[256];

	set_oid(RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, b,
		config_param(b, "NetworkAddress", RNDIS_CONFIG_PARAM_TYPE_STRING, hex), r);
	return set_status(r);
}

/* A config parameter whose struct says n_off/n_len/v_off/v_len over a
 * Linux-shaped buffer of len bytes: its SET status. */
static uint32_t set_bad_param(uint32_t n_off, uint32_t n_len, uint32_t v_off, uint32_t v_len,
			      uint32_t len)
{
	uint8_t b[256];
	struct rndis_config_parameter_info ci = { n_off, n_len, 2, v_off, v_len };
	struct rcall r;

	config_param(b, "NetworkAddress", RNDIS_CONFIG_PARAM_TYPE_STRING, "02aabbccddee");
	memcpy(b, &ci, 20);
	set_oid(RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, b, len, &r);
	return set_status(&r);
}

static void test_mac_refused(void)
{
	static const uint8_t NEW[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	struct rcall r;
	uint8_t v[6];
	uint64_t rejected = SP.stats.rejected;

	CHECK(bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8) == 0, "MAC change: device up");
	CHECK(set_address("02aabbccddee", &r) == RNDIS_STATUS_NOT_SUPPORTED &&
	      strstr(E.last_log, "refused") && strstr(E.last_log, "02:aa:bb:cc:dd:ee") &&
	      SP.stats.rejected == rejected + 1 && E.set_mac_calls == 0,
	      "NetworkAddress by default: NOT_SUPPORTED (Linux: EIO), logged, switch untouched");
	query(RNDIS_OID_802_3_CURRENT_ADDRESS, NULL, 0, &r);
	CHECK(query_result(&r, v, 6) == 6 && !memcmp(v, MAC, 6) && !memcmp(SP.mac, MAC, 6) &&
	      memcmp(SP.mac, NEW, 6), "... the address stays the configured one");
	CHECK(set_address("00155D123456", &r) == RNDIS_STATUS_SUCCESS && E.set_mac_calls == 0,
	      "its own address (upper case): success, nothing to change");
}

static void test_mac_bad_params(void)
{
	struct rcall r;
	uint8_t b[256];
	uint64_t rejected = SP.stats.rejected;
	uint32_t len;

	/* Linux's layout: name at 20 (28 bytes), value at 48 (24), 72 in all. */
	CHECK(set_bad_param(20, 28, 48, 24, 19) == RNDIS_STATUS_INVALID_LENGTH,
	      "config parameter truncated to 19 bytes: INVALID_LENGTH");
	CHECK(set_bad_param(20, 28, 48, 24, 71) == RNDIS_STATUS_INVALID_DATA &&
	      strstr(E.last_log, "value 24 at 48"),
	      "value one byte past the buffer: INVALID_DATA, logged");
	CHECK(set_bad_param(20, 53, 48, 24, 72) == RNDIS_STATUS_INVALID_DATA,
	      "name one byte past the buffer: INVALID_DATA");
	CHECK(set_bad_param(0xfffffff0u, 0x20, 48, 24, 72) == RNDIS_STATUS_INVALID_DATA &&
	      set_bad_param(20, 28, 48, 0xffffffffu, 72) == RNDIS_STATUS_INVALID_DATA &&
	      set_bad_param(20, 0xfffffff0u, 48, 24, 72) == RNDIS_STATUS_INVALID_DATA,
	      "offsets and lengths that wrap 32 bits: INVALID_DATA");
	CHECK(set_bad_param(4, 28, 48, 24, 72) == RNDIS_STATUS_INVALID_DATA &&
	      set_bad_param(20, 28, 8, 24, 72) == RNDIS_STATUS_INVALID_DATA,
	      "name or value inside the parameter's own header: INVALID_DATA");
	CHECK(set_bad_param(20, 27, 48, 24, 72) == RNDIS_STATUS_INVALID_DATA &&
	      set_bad_param(20, 28, 48, 23, 72) == RNDIS_STATUS_INVALID_DATA,
	      "odd UTF-16 lengths: INVALID_DATA");
	CHECK(set_bad_param(20, 26, 48, 24, 72) == RNDIS_STATUS_NOT_SUPPORTED &&
	      strstr(E.last_log, "NetworkAddres not supported"),
	      "a name one letter short: another parameter, NOT_SUPPORTED, logged");
	CHECK(set_bad_param(20, 28, 48, 20, 72) == RNDIS_STATUS_INVALID_DATA &&
	      strstr(E.last_log, "12 hex digits"), "10 digits: INVALID_DATA, logged");
	CHECK(set_bad_param(20, 0, 20, 0, 20) == RNDIS_STATUS_NOT_SUPPORTED,
	      "an empty name and value: a parameter we do not have, NOT_SUPPORTED");
	len = config_param(b, "NetworkAddress", RNDIS_CONFIG_PARAM_TYPE_INTEGER, "02aabbccddee");
	set_oid(RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, b, len, &r);
	CHECK(set_status(&r) == RNDIS_STATUS_INVALID_DATA, "NetworkAddress as an INTEGER: INVALID_DATA");
	len = config_param(b, "MaxFrameSize", RNDIS_CONFIG_PARAM_TYPE_INTEGER, "ab");
	set_oid(RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, b, len, &r);
	CHECK(set_status(&r) == RNDIS_STATUS_NOT_SUPPORTED &&
	      strstr(E.last_log, "MaxFrameSize not supported"),
	      "another parameter: NOT_SUPPORTED, logged, never silence");
	len = config_param(b, "Network\x01" "Address", RNDIS_CONFIG_PARAM_TYPE_STRING, "02aabbccddee");
	set_oid(RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, b, len, &r);
	CHECK(set_status(&r) == RNDIS_STATUS_INVALID_DATA,
	      "a control character in the name: INVALID_DATA");
	{
		/* The SET's own info buffer beyond its message. */
		uint8_t m[8 + 20 + 72] = { 0 };
		struct rndis_msg_header h = { RNDIS_MSG_SET, 8 + 20 + 40 };
		struct rndis_set_request q = { ++next_req_id, RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER,
					       72, 20, 0 };

		memcpy(m, &h, 8);
		memcpy(m + 8, &q, 20);
		config_param(m + 28, "NetworkAddress", RNDIS_CONFIG_PARAM_TYPE_STRING, "02aabbccddee");
		rndis_call(m, h.msg_len, &r);
		CHECK(set_status(&r) == RNDIS_STATUS_INVALID_DATA,
		      "72 bytes of parameter in a message that holds 40: INVALID_DATA");
	}
	CHECK(SP.state == NETVSP_READY && !memcmp(SP.mac, MAC, 6) && E.set_mac_calls == 0 &&
	      SP.stats.rejected >= rejected + 16, "the channel stays open, the address unchanged");
}

static void test_mac_allowed(void)
{
	static const uint8_t NEW[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	static const uint8_t PEER[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	static const struct platform plat = { 0 };
	static struct vswitch sw;
	uint8_t f[100], m[256], v[6], got[100];
	struct rcall r;
	struct hpkt p;
	int me, peer;
	uint64_t sent, refused;
	uint32_t len;

	vswitch_init(&sw, &plat, "lan0");
	me = vswitch_add_port(&sw, "me", MAC, false);
	peer = vswitch_add_port(&sw, "peer", PEER, false);
	E.sw = &sw;
	E.sw_port = (unsigned)me;
	netvsp_allow_mac_change(&SP, fake_set_mac);
	CHECK(set_address("03aabbccddee", &r) == RNDIS_STATUS_INVALID_DATA &&
	      set_address("000000000000", &r) == RNDIS_STATUS_INVALID_DATA &&
	      set_address("02aabbccddeg", &r) == RNDIS_STATUS_INVALID_DATA &&
	      set_address("02:aa:bb:cc:d", &r) == RNDIS_STATUS_INVALID_DATA &&
	      E.set_mac_calls == 0, "allowed, but a multicast, zero or malformed address: "
	      "INVALID_DATA, the switch never asked");
	CHECK(set_address("020000000099", &r) == RNDIS_STATUS_FAILURE && E.set_mac_calls == 1 &&
	      !memcmp(SP.mac, MAC, 6) && !memcmp(sw.port[me].mac, MAC, 6),
	      "the peer's address: the switch refuses, FAILURE, nothing moves");
	CHECK(set_address("02AaBbCcDdEe", &r) == RNDIS_STATUS_SUCCESS && !memcmp(SP.mac, NEW, 6) &&
	      !memcmp(sw.port[me].mac, NEW, 6) && SP.stats.mac_changes == 1 &&
	      strstr(E.last_log, "-> 02:aa:bb:cc:dd:ee"),
	      "allowed: success, netvsp and its switch port both on the new address, logged");
	query(RNDIS_OID_802_3_CURRENT_ADDRESS, NULL, 0, &r);
	CHECK(query_result(&r, v, 6) == 6 && !memcmp(v, NEW, 6), "CURRENT_ADDRESS: the new one");
	query(RNDIS_OID_802_3_PERMANENT_ADDRESS, NULL, 0, &r);
	CHECK(query_result(&r, v, 6) == 6 && !memcmp(v, MAC, 6),
	      "PERMANENT_ADDRESS: still the configured one");
	/* Frames from the guest through the real switch. */
	make_frame(f, 100, PEER, 9);
	memcpy(f + 6, NEW, 6);
	sent = SP.stats.tx_frames;
	refused = SP.stats.tx_refused;
	len = build_packet(m, f, 100, NULL, 0);
	send_buf_put(0, m, len);
	send_rndis_section(0, len);
	poll_host();
	CHECK(SP.stats.tx_frames == sent + 1 &&
	      vswitch_recv(&sw, (unsigned)peer, got, sizeof(got)) == 100 && !memcmp(got + 6, NEW, 6),
	      "a frame from the new address: the switch passes it to the peer");
	memcpy(f + 6, MAC, 6);
	len = build_packet(m, f, 100, NULL, 0);
	send_buf_put(0, m, len);
	send_rndis_section(0, len);
	poll_host();
	CHECK(SP.stats.tx_refused == refused + 1 && vswitch_pending(&sw, (unsigned)peer) == 0 &&
	      sw.port[me].bad == 1, "a frame from the old address: the switch refuses it");
	drain_guest();
	/* Frames for the guest: the directed filter follows the address. */
	make_frame(f, 100, NEW, 4);
	CHECK(netvsp_receive(&SP, f, 100) == 0 && gread(&p) > 0, "a frame for the new address: delivered");
	complete_xfer(p.d.trans_id);
	make_frame(f, 100, MAC, 4);
	CHECK(netvsp_receive(&SP, f, 100) == 0 && gread(&p) == 0,
	      "a frame for the old address: filtered out");
	CHECK(bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8) == 0 && !memcmp(SP.mac, NEW, 6),
	      "a new channel (Linux's MTU change): the new address stays");
	CHECK(set_address("00155d123456", &r) == RNDIS_STATUS_SUCCESS &&
	      !memcmp(SP.mac, MAC, 6) && !memcmp(sw.port[me].mac, MAC, 6) && SP.stats.mac_changes == 2,
	      "back to the configured address: the port follows");
	len = config_param(m, "networkADDRESS", RNDIS_CONFIG_PARAM_TYPE_STRING, "02aabbccddee");
	set_oid(RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, m, len, &r);
	CHECK(set_status(&r) == RNDIS_STATUS_SUCCESS && !memcmp(SP.mac, NEW, 6),
	      "the parameter name in any case (NDIS keywords are)");
	CHECK(set_address("00155d123456", &r) == RNDIS_STATUS_SUCCESS, "and back");
	netvsp_allow_mac_change(&SP, NULL);
	CHECK(set_address("02aabbccddee", &r) == RNDIS_STATUS_NOT_SUPPORTED && !memcmp(SP.mac, MAC, 6),
	      "allowed no more: refused again");
	E.sw = NULL;
	drain_guest();
}

static void test_detach(void)
{
	uint8_t f[64];

	bring_up(NVSP_PROTOCOL_VERSION_61, 8, 8);
	netvsp_detach(&SP);
	make_frame(f, 64, MAC, 1);
	CHECK(netvsp_poll(&SP) == -1 && netvsp_receive(&SP, f, 64) == -1 &&
	      !netvsp_can_receive(&SP), "detached: poll -1, nothing received");
	CHECK(E.page_cross == 0 && E.tx_bad == 0, "no copy ever crossed a page; no bad frame sent");
}

int main(void)
{
	map_guest_memory();
	CHECK(netvsp_init(&SP, MAC, &ops, NULL) == 0, "netvsp_init");
	CHECK(netvsp_init(&SP, NULL, &ops, NULL) == -1, "netvsp_init without a MAC: -1");
	netvsp_init(&SP, MAC, &ops, NULL);
	test_negotiation();
	test_config();
	test_buffers();
	test_rndis_init();
	test_queries();
	test_sets();
	test_filter();
	test_tx();
	test_tx_busy();
	test_rx();
	test_rx_exhaust();
	test_rx_filter();
	test_link();
	test_reply_pending();
	test_misc_rndis();
	test_refused();
	test_hostile();
	test_revoke();
	test_versions();
	test_budget();
	test_ring_full();
	test_tiny_and_foreign_buffers();
	test_offload_params();
	test_multicast();
	test_mac_refused();
	test_mac_bad_params();
	test_mac_allowed();
	test_detach();
	printf("# struct netvsp: %zu bytes\n", sizeof(struct netvsp));
	return done_testing();
}
