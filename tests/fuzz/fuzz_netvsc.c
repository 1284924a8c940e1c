/*
 * Fuzz target: netvsc's handling of host packets (vmbus/netvsc.c) under
 * a hostile host. Each input starts from a netvsc brought up against the
 * real netvsp (vmbus/netvsp.c), which is then detached: from there on the
 * input is the host. The rings, the receive buffer and the send buffer
 * are each one heap block of exactly their size, so ASan reports any
 * access past them.
 *
 * Input: records [kind u8][len u16][len bytes]:
 *   0 a packet into the host->guest ring: type u16, a byte choosing
 *     offset8 (within the packet), tid u64, then the payload;
 *   1 bytes into the receive buffer: offset u32 (modulo its size), bytes;
 *   2 netvsc_poll;
 *   3 netvsc_send of a frame: its length u16 (any), a fill byte;
 *   4 the host reads what the guest sent, checking each packet;
 *   5 the host completes a send it read: index u8, status u32, or a tid
 *     u64 of its own choice;
 *   6 ring header words of the host->guest ring: write_index, read_index.
 *
 * Invariants beyond ASan/UBSan: poll returns frames >= 0 or NETVSC_EIO,
 * which sticks; every frame handed to ops->rx is 14..1514 bytes in
 * netvsc's own copy, never in the receive buffer; sections in use never
 * exceed the sections there are; every packet the guest writes reads
 * back as a well-formed SEND_RNDIS_PKT naming a section by its id, or a
 * transfer-page completion.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "netvsc.h"
#include "netvsp.h"
#include "ring.h"

#define PAGE            4096u
#define RING_DATA       4u              /* data pages each way */
#define RING_BYTES      ((1 + RING_DATA) * PAGE)
#define RECV_PAGES      4u
#define SEND_PAGES      4u              /* 2 sections of 6144 */
#define RECV_BYTES      (RECV_PAGES * PAGE)
#define SEND_BYTES      (SEND_PAGES * PAGE)
#define RING_PFN        0u              /* gpa layout: ring, recv, send */
#define RECV_PFN        (2 * (1 + RING_DATA))
#define SEND_PFN        (RECV_PFN + RECV_PAGES)
#define NPAGES          (SEND_PFN + SEND_PAGES)

static const uint8_t MAC[6] = { 0x02, 0x15, 0, 0, 0, 0x21 };

struct rig {
	uint8_t *ring, *recv, *send;    /* the guest's blocks */
	void *in_pages[RING_DATA], *out_pages[RING_DATA];
	struct vmbus_ring h_in, h_out;  /* the host's views */
	uint64_t recv_pfns[RECV_PAGES], send_pfns[SEND_PAGES];
	struct netvsp *sp;
	struct netvsc *nc;
	bool host_event, guest_event, attached;
	uint64_t sends[16];
	unsigned nsends;
};

static struct rig g;

static uint8_t *gpa_bytes(uint64_t gpa, uint32_t len)
{
	uint64_t pfn = gpa / PAGE;
	uint32_t off = gpa % PAGE;

	if (!len || off + len > PAGE)
		abort();        /* netvsp splits at pages */
	if (pfn < RECV_PFN)
		return g.ring + pfn * PAGE + off;
	if (pfn < SEND_PFN)
		return g.recv + (pfn - RECV_PFN) * PAGE + off;
	if (pfn < NPAGES)
		return g.send + (pfn - SEND_PFN) * PAGE + off;
	return NULL;
}

static int copy_from(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	uint8_t *p = gpa_bytes(gpa, len);

	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

static int copy_to(void *ctx, uint64_t gpa, const void *buf, uint32_t len)
{
	uint8_t *p = gpa_bytes(gpa, len);

	if (!p)
		return -1;
	memcpy(p, buf, len);
	return 0;
}

static void signal_guest(void *ctx)
{
	g.guest_event = true;
}

static bool gpadl(void *ctx, uint32_t handle, const uint64_t **pfns, uint32_t *n)
{
	if (handle == 1) {
		*pfns = g.recv_pfns, *n = RECV_PAGES;
		return true;
	}
	if (handle == 2) {
		*pfns = g.send_pfns, *n = SEND_PAGES;
		return true;
	}
	return false;
}

static int tx(void *ctx, const void *frame, size_t len)
{
	return NETVSP_TX_SENT;
}

static const struct netvsp_ops sp_ops = { copy_from, copy_to, signal_guest, NULL, gpadl, tx };

static void signal_host(void *ctx)
{
	g.host_event = true;
}

/* Bring-up only: the host runs when signalled. */
static int wait(void *ctx)
{
	if (!g.attached || !g.host_event)
		return 1;
	while (g.host_event) {
		g.host_event = false;
		if (netvsp_poll(g.sp) == NETVSP_POLL_MORE)
			g.host_event = true;
	}
	return 0;
}

static void rx(void *ctx, const void *frame, size_t len)
{
	const uint8_t *f = frame;
	bool inside = false;

	if (len < NETVSC_FRAME_MIN || len > NETVSC_FRAME_MAX)
		abort();
	for (unsigned i = 0; i < NETVSC_POLL_DEPTH; i++) {
		const uint8_t *lo = (const uint8_t *)g.nc->buf[i].msg;

		inside |= f >= lo && f + len <= lo + sizeof(g.nc->buf[i].msg);
	}
	if (!inside)
		abort();        /* parsed from the copy, never the buffer */
}

static const struct netvsc_ops sc_ops = { signal_host, wait, rx, NULL };

static void setup(void)
{
	g.ring = malloc(2 * RING_BYTES);
	g.recv = malloc(RECV_BYTES);
	g.send = malloc(SEND_BYTES);
	g.sp = malloc(sizeof(*g.sp));
	g.nc = malloc(sizeof(*g.nc));
	if (!g.ring || !g.recv || !g.send || !g.sp || !g.nc || netvsp_init(g.sp, MAC, &sp_ops, NULL))
		abort();
	for (unsigned i = 0; i < RING_DATA; i++) {
		g.in_pages[i] = g.ring + (1 + i) * PAGE;
		g.out_pages[i] = g.ring + RING_BYTES + (1 + i) * PAGE;
	}
	for (unsigned i = 0; i < RECV_PAGES; i++)
		g.recv_pfns[i] = RECV_PFN + i;
	for (unsigned i = 0; i < SEND_PAGES; i++)
		g.send_pfns[i] = SEND_PFN + i;
}

/* A fresh channel, netvsc up against netvsp, then netvsp gone. */
static void bring_up(void)
{
	struct netvsc_config cfg = {
		.ring = g.ring, .out_bytes = RING_BYTES, .in_bytes = RING_BYTES,
		.recv_buf = g.recv, .recv_bytes = RECV_BYTES, .recv_gpadl = 1,
		.send_buf = g.send, .send_bytes = SEND_BYTES, .send_gpadl = 2,
	};

	memset(g.ring, 0, 2 * RING_BYTES);
	memset(g.recv, 0, RECV_BYTES);
	if (vmbus_ring_format(g.ring, RING_BYTES) ||
	    vmbus_ring_format(g.ring + RING_BYTES, RING_BYTES) ||
	    vmbus_ring_init_pages(&g.h_in, g.ring, g.in_pages, RING_DATA) ||
	    vmbus_ring_init_pages(&g.h_out, g.ring + RING_BYTES, g.out_pages, RING_DATA))
		abort();
	g.attached = true;
	g.host_event = g.guest_event = false;
	g.nsends = 0;
	netvsp_attach(g.sp, &g.h_in, &g.h_out);
	if (netvsc_init(g.nc, &cfg, &sc_ops, NULL))
		abort();
	wait(NULL);
	netvsp_detach(g.sp);
	g.attached = false;
}

static void guest_poll(void)
{
	bool was_broken = g.nc->broken;
	int r = netvsc_poll(g.nc);

	if (r < 0 && r != NETVSC_EIO)
		abort();
	if (was_broken && r != NETVSC_EIO)
		abort();
	if ((r == NETVSC_EIO) != g.nc->broken || g.nc->depth)
		abort();
	if (g.nc->nfree > g.nc->nsections || g.nc->comp_count > NETVSC_COMP_SLOTS)
		abort();
}

/* The host reads what the guest sent: only completions of transfer
 * pages and SEND_RNDIS_PKT of a section the guest holds. */
static void host_read(void)
{
	uint64_t buf[64];
	int len;
	bool sig;

	while ((len = vmbus_ring_peek(&g.h_in, buf, sizeof(buf))) != 0) {
		struct vmbus_pkt_desc d;
		struct nvsp_message m;

		if (len < 0)
			abort();        /* the guest broke its own ring */
		memcpy(&d, buf, sizeof(d));
		if (d.type == VMBUS_PKT_COMP) {
			if (len != 24)
				abort();
		} else {
			uint32_t sec;

			if (d.type != VMBUS_PKT_DATA_INBAND || len != 56 || d.offset8 != 2)
				abort();
			memcpy(&m, (uint8_t *)buf + 16, sizeof(m));
			sec = m.send_rndis_pkt.send_buf_section_index;
			if (m.msg_type != NVSP_MSG1_TYPE_SEND_RNDIS_PKT ||
			    sec >= g.nc->nsections || (d.trans_id & 0xffff) != sec ||
			    !(d.trans_id >> 16) || d.trans_id >> 63 ||
			    m.send_rndis_pkt.send_buf_section_size > g.nc->section_size)
				abort();
			if (g.nsends < 16)
				g.sends[g.nsends++] = d.trans_id;
		}
		if (vmbus_ring_consume(&g.h_in, (uint32_t)len, &sig))
			abort();
	}
}

static void host_packet(const uint8_t *b, uint16_t len)
{
	struct vmbus_pkt_desc d = { 0 };
	struct vmbus_iov iov[2];
	uint32_t plen, len8;
	bool sig;

	if (len < 11)
		return;
	memcpy(&d.type, b, 2);
	memcpy(&d.trans_id, b + 3, 8);
	plen = len - 11u;
	len8 = (16 + plen + 7) / 8;
	d.len8 = (uint16_t)len8;
	d.offset8 = (uint16_t)(2 + b[2] % (len8 - 1));
	iov[0] = (struct vmbus_iov){ &d, sizeof(d) };
	iov[1] = (struct vmbus_iov){ b + 11, plen };
	vmbus_ring_write(&g.h_out, iov, 2, &sig);
}

static void host_complete(const uint8_t *b, uint16_t len)
{
	uint32_t m[2] = { NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, NVSP_STAT_SUCCESS };
	struct vmbus_pkt_desc d = { VMBUS_PKT_COMP, 2, 3, 0, 0 };
	struct vmbus_iov iov[2] = { { &d, sizeof(d) }, { m, sizeof(m) } };
	bool sig;

	if (len >= 9)
		memcpy(&d.trans_id, b + 1, 8);
	else if (len >= 1 && g.nsends)
		d.trans_id = g.sends[b[0] % g.nsends];
	if (len >= 13)
		memcpy(&m[1], b + 9, 4);
	vmbus_ring_write(&g.h_out, iov, 2, &sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[2048];
	size_t at = 0;

	if (!g.ring)
		setup();
	bring_up();
	while (size - at >= 3) {
		uint8_t kind = data[at];
		uint16_t len = (uint16_t)(data[at + 1] | data[at + 2] << 8);
		const uint8_t *b = data + at + 3;

		at += 3;
		if (len > size - at)
			len = (uint16_t)(size - at);
		at += len;
		switch (kind % 7) {
		case 0:
			host_packet(b, len);
			break;
		case 1:
			if (len >= 4) {
				uint32_t off;

				memcpy(&off, b, 4);
				off %= RECV_BYTES;
				memcpy(g.recv + off, b + 4,
				       len - 4u < RECV_BYTES - off ? len - 4u : RECV_BYTES - off);
			}
			break;
		case 2:
			guest_poll();
			break;
		case 3:
			if (len >= 3) {
				uint16_t fl;
				int r;

				memcpy(&fl, b, 2);
				fl %= sizeof(frame);
				memset(frame, b[2], fl);
				r = netvsc_send(g.nc, frame, fl);
				if (r != 0 && r != -1 && r != NETVSC_BUSY)
					abort();
				if (r == 0 && (fl < NETVSC_FRAME_MIN || fl > NETVSC_FRAME_MAX))
					abort();
			}
			break;
		case 4:
			host_read();
			break;
		case 5:
			host_complete(b, len);
			break;
		default:
			if (len >= 8) {
				memcpy((void *)&g.h_out.hdr->write_index, b, 4);
				memcpy((void *)&g.h_out.hdr->read_index, b + 4, 4);
			}
			break;
		}
	}
	guest_poll();
	return 0;
}

/* ---- seeds ------------------------------------------------------------------ */
static size_t rec(uint8_t *buf, size_t n, uint8_t kind, const void *body, uint16_t len)
{
	buf[n] = kind;
	buf[n + 1] = (uint8_t)len;
	buf[n + 2] = (uint8_t)(len >> 8);
	if (len)
		memcpy(buf + n + 3, body, len);
	return n + 3 + len;
}

/* A transfer-page packet record naming [off, off + count) of the
 * receive buffer. */
static size_t xfer_rec(uint8_t *buf, size_t n, uint64_t tid, uint32_t off, uint32_t count)
{
	uint8_t p[11 + 16 + 16];
	uint16_t type = VMBUS_PKT_DATA_USING_XFER_PAGES, id = NETVSC_RECEIVE_BUFFER_ID;
	uint32_t one = 1, nv[4] = { NVSP_MSG1_TYPE_SEND_RNDIS_PKT, 0, NVSP_INVALID_SECTION_INDEX, 0 };

	memset(p, 0, sizeof(p));
	memcpy(p, &type, 2);
	p[2] = 2;               /* offset8 4: descriptor, head, one range */
	memcpy(p + 3, &tid, 8);
	memcpy(p + 11, &id, 2);
	memcpy(p + 15, &one, 4);
	memcpy(p + 19, &count, 4);
	memcpy(p + 23, &off, 4);
	memcpy(p + 27, nv, 16);
	return rec(buf, n, 0, p, sizeof(p));
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	uint8_t b[4 + 44 + 128];
	uint32_t off = 1728 * (i + 1), h[2] = { RNDIS_MSG_PACKET, 44 + 100 };
	struct rndis_packet rp = { .data_offset = 36, .data_len = 100 };
	uint32_t ind[5] = { RNDIS_MSG_INDICATE, 20, RNDIS_STATUS_MEDIA_DISCONNECT, 0, 0 };
	uint8_t send[3] = { 60, 0, 0x5a }, idx = 0;
	size_t n = 0;

	if (i > 2 || cap < 1024)
		return 0;
	memcpy(b, &off, 4);
	memcpy(b + 4, h, 8);
	memcpy(b + 12, &rp, sizeof(rp));
	memcpy(b + 48, MAC, 6);
	memset(b + 54, 0xa0 + i, 94);
	n = rec(buf, n, 1, b, 4 + 144);
	n = xfer_rec(buf, n, 0x1000 + i, off, 144);
	n = rec(buf, n, 2, NULL, 0);
	n = rec(buf, n, 3, send, sizeof(send));
	n = rec(buf, n, 4, NULL, 0);
	n = rec(buf, n, 5, &idx, 1);
	n = rec(buf, n, 2, NULL, 0);
	if (i == 1) {
		memcpy(b, &off, 4);
		memcpy(b + 4, ind, sizeof(ind));
		n = rec(buf, n, 1, b, 4 + sizeof(ind));
		n = xfer_rec(buf, n, 0x2000, off, sizeof(ind));
		n = rec(buf, n, 2, NULL, 0);
	}
	if (i == 2) {
		for (unsigned k = 0; k < 4; k++)
			n = rec(buf, n, 3, send, sizeof(send));
		n = rec(buf, n, 2, NULL, 0);
	}
	return n;
}
