/*
 * Fuzz target: netvsp's packet handling (vmbus/netvsp.c) under a hostile
 * guest, with frames from the switch mixed in. Every page (ring headers,
 * ring data pages, the guest's GPAGES pages) is its own heap block, so
 * ASan reports any access past a page; the copy callbacks abort() on a
 * copy that crosses a page, and pages OWNED.. exist but are not the
 * guest's (those copies fail, cleanly). GPADLs: 1 the receive buffer
 * (pages 4..7), 2 the send buffer (8..9), 3 a buffer half of foreign
 * pages, 4 one with a pfn no address has.
 *
 * Input: a flags byte, a byte of settings, then
 *  - FLAG_RAW: four u32 guest->host ring header words and the bytes of
 *    its data area: arbitrary indices, descriptors, lengths;
 *  - otherwise records [kind u8][len u16][len bytes]: an inband packet,
 *    a GPA direct packet (its head and ranges from the bytes), a poll,
 *    the guest reading (and completing, rightly or wrongly) what the
 *    host sent, bytes written into guest memory (RNDIS messages in the
 *    send buffer or in pages), a frame from the switch, the switch's
 *    mood (taking, busy, refusing), the link going down or up.
 * FLAG_READY runs Linux's bring-up first (NVSP version from the settings
 * byte), so the RNDIS paths are reached. FLAG_MACCHANGE lets the guest
 * change its address (NetworkAddress config parameters reach the
 * switch hook); FLAG_SW_REFUSES makes that hook say no.
 *
 * Invariants beyond ASan/UBSan: poll returns -1, DONE or MORE, -1
 * sticks until the next attach, the interrupt mask follows the
 * documented wake-up rules; every frame handed to tx is 14..1514 bytes
 * and lies in netvsp's own copy, never in guest memory; every packet
 * the host writes reads back from the guest's view of the ring as a
 * well-formed completion or transfer-page packet whose range lies in
 * one chunk of the receive buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "netvsp.h"
#include "ring.h"

#define PAGE            4096u
#define GPAGES          24u
#define OWNED           20u
#define IN_PAGES        2u
#define OUT_PAGES       2u
#define RECV_BYTES      (4 * PAGE)
#define CTRL_PAGE       10u             /* bring-up's RNDIS messages */

#define FLAG_RAW        1u
#define FLAG_READY      2u
#define FLAG_MACCHANGE  4u
#define FLAG_SW_REFUSES 8u

static uint8_t *gpage[GPAGES];
static const uint64_t recv_pfns[] = { 4, 5, 6, 7 };
static const uint64_t send_pfns[] = { 9, 8 };
static const uint64_t mixed_pfns[] = { 18, 19, 20, 21 };
static const uint64_t bad_pfns[] = { 12, ~0ull };
static const uint8_t MAC[6] = { 0x00, 0x15, 0x5d, 1, 2, 3 };

struct rig {
	uint8_t *in_hdr, *out_hdr;
	void *in_data[IN_PAGES], *out_data[OUT_PAGES];
	struct vmbus_ring h_in, h_out;  /* the host's views */
	struct vmbus_ring g_in, g_out;  /* the guest's: writes in, reads out */
	struct netvsp *sp;
	unsigned tx_busy, tx_mode;
	uint64_t last_tid;
	bool sw_refuses;
};

static struct rig g;

static uint8_t *guest_bytes(uint64_t gpa, uint32_t len)
{
	uint64_t pfn = gpa / PAGE;

	if (!len || gpa % PAGE + len > PAGE)
		abort();        /* netvsp must split at page boundaries */
	if (pfn >= OWNED)
		return NULL;
	return gpage[pfn] + gpa % PAGE;
}

static int copy_from(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	uint8_t *p = guest_bytes(gpa, len);

	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

static int copy_to(void *ctx, uint64_t gpa, const void *buf, uint32_t len)
{
	uint8_t *p = guest_bytes(gpa, len);

	if (!p)
		return -1;
	memcpy(p, buf, len);
	return 0;
}

static void signal_guest(void *ctx)
{
}

static bool gpadl(void *ctx, uint32_t handle, const uint64_t **pfns, uint32_t *n)
{
	switch (handle) {
	case 1:
		*pfns = recv_pfns, *n = 4;
		return true;
	case 2:
		*pfns = send_pfns, *n = 2;
		return true;
	case 3:
		*pfns = mixed_pfns, *n = 4;
		return true;
	case 4:
		*pfns = bad_pfns, *n = 2;
		return true;
	}
	return false;
}

static int tx(void *ctx, const void *frame, size_t len)
{
	const uint8_t *f = frame, *lo = (const uint8_t *)g.sp->msg_words;

	if (len < NETVSP_FRAME_MIN || len > NETVSP_FRAME_MAX)
		abort();
	/* Parsed from netvsp's copy, never from guest memory, and within
	 * the bytes the guest's packet really named. */
	if (f < lo || f + len > lo + g.sp->msg_len || g.sp->msg_len > sizeof(g.sp->msg_words))
		abort();
	if (g.tx_mode == 1 && g.tx_busy) {
		g.tx_busy--;
		return NETVSP_TX_BUSY;
	}
	return g.tx_mode == 2 ? NETVSP_TX_REFUSED : NETVSP_TX_SENT;
}

/* netvsp hands the switch only unicast, non-zero addresses it parsed. */
static int set_mac(void *ctx, const uint8_t mac[6])
{
	static const uint8_t zero[6];

	if ((mac[0] & 1) || !memcmp(mac, zero, 6) || !g.sp->set_mac)
		abort();
	return g.sw_refuses ? -1 : 0;
}

static const struct netvsp_ops ops = {
	copy_from, copy_to, signal_guest, NULL, gpadl, tx,
};

static void *page(void)
{
	void *p = calloc(1, PAGE);

	if (!p)
		abort();
	return p;
}

static void header_init(uint8_t *h)
{
	memset(h, 0, PAGE);
	((struct vmbus_ring_header *)h)->feature_bits.value = VMBUS_RING_FEAT_PENDING_SEND_SZ;
}

static int host_poll(bool *closed)
{
	int err = netvsp_poll(g.sp);
	struct netvsp *sp = g.sp;

	if (err != NETVSP_POLL_DONE && err != NETVSP_POLL_MORE && err != -1)
		abort();
	/* "more" only with packets left and the ring still masked; "done"
	 * unmasked, and drained unless something holds the ring back. */
	if (err == NETVSP_POLL_MORE &&
	    (sp->stalled || sp->held || !vmbus_ring_avail_read(&g.h_in) ||
	     g.h_in.hdr->interrupt_mask != 1))
		abort();
	if (err == NETVSP_POLL_DONE && (g.h_in.hdr->interrupt_mask != 0 ||
	    (!sp->stalled && !sp->held && vmbus_ring_avail_read(&g.h_in))))
		abort();
	if (*closed && err != -1)
		abort();
	if (sp->nfree > sp->recv.count || sp->reply_count > NETVSP_REPLY_SLOTS)
		abort();
	*closed |= err == -1;
	return err;
}

/* The guest reads up to n packets and checks each; `how` picks what it
 * does with a transfer-page packet: complete it (0), keep it (1), or
 * complete it with a wrong or repeated transaction id (2, 3). */
static void drain(unsigned n, unsigned how)
{
	static uint64_t buf[64];

	while (n--) {
		struct vmbus_pkt_desc d;
		bool sig;
		int len = vmbus_ring_peek(&g.g_out, buf, sizeof(buf));

		if (len < 0)
			abort();        /* our writes broke the ring */
		if (len == 0)
			return;
		memcpy(&d, buf, sizeof(d));
		if (d.type == VMBUS_PKT_COMP) {
			if (len != 16 && len != 16 + (int)sizeof(struct nvsp_message))
				abort();
		} else if (d.type == VMBUS_PKT_DATA_USING_XFER_PAGES) {
			struct vmbus_xfer_page_header h;
			struct vmbus_xfer_page_range r;
			uint32_t m[2] = { NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, NVSP_STAT_SUCCESS };
			struct vmbus_pkt_desc c = { VMBUS_PKT_COMP, 2, 3, 0, d.trans_id };
			struct vmbus_iov iov[2] = { { &c, 16 }, { m, 8 } };

			memcpy(&h, buf, sizeof(h));
			memcpy(&r, (uint8_t *)buf + sizeof(h), sizeof(r));
			if (len != 48 || h.offset8 != 4 || h.range_cnt != 1 ||
			    r.byte_offset % NETVSP_CHUNK_SIZE || !r.byte_count ||
			    r.byte_count > NETVSP_CHUNK_SIZE ||
			    r.byte_offset + r.byte_count > RECV_BYTES)
				abort();
			if (how == 2)
				c.trans_id ^= 1ull << (d.trans_id & 31);
			else if (how == 3)
				c.trans_id = g.last_tid;
			g.last_tid = d.trans_id;
			if (how != 1)
				vmbus_ring_write(&g.g_in, iov, 2, &sig);
		} else {
			abort();        /* nothing else goes to a netvsc */
		}
		if (vmbus_ring_consume(&g.g_out, (uint32_t)len, &sig))
			abort();
	}
}

static int send_pkt(uint16_t type, uint16_t offset8, uint16_t flags, uint64_t id,
		    const void *body, uint32_t len)
{
	struct vmbus_pkt_desc d = { type, offset8, 0, flags, id };
	struct vmbus_iov iov[2] = { { &d, sizeof(d) }, { body, len } };
	bool sig;

	d.len8 = (uint16_t)((sizeof(d) + len + 7) / 8);
	if ((uint32_t)offset8 * 8 > sizeof(d) + len)
		return -1;
	return vmbus_ring_write(&g.g_in, iov, 2, &sig);
}

/* An RNDIS control message in CTRL_PAGE, sent by one page range. */
static void send_ctrl(const void *msg, uint32_t len, uint64_t id)
{
	uint8_t b[24 + sizeof(struct nvsp_message)] = { 0 };
	uint32_t one = 1, zero = 0;
	uint64_t pfn = CTRL_PAGE;
	struct nvsp_message m = { .msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT };

	memcpy(gpage[CTRL_PAGE], msg, len);
	m.send_rndis_pkt.channel_type = NVSP_CHANNEL_TYPE_CONTROL;
	m.send_rndis_pkt.send_buf_section_index = NVSP_INVALID_SECTION_INDEX;
	memcpy(b + 4, &one, 4);
	memcpy(b + 8, &len, 4);
	memcpy(b + 12, &zero, 4);
	memcpy(b + 16, &pfn, 8);
	memcpy(b + 24, &m, sizeof(m));
	/* offset8 5: the descriptor and the 24-byte head with one range */
	send_pkt(VMBUS_PKT_DATA_USING_GPA_DIRECT, 5, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, id,
		 b, sizeof(b));
}

static const uint32_t versions[] = {
	NVSP_PROTOCOL_VERSION_61, NVSP_PROTOCOL_VERSION_6, NVSP_PROTOCOL_VERSION_5,
	NVSP_PROTOCOL_VERSION_4, NVSP_PROTOCOL_VERSION_2, NVSP_PROTOCOL_VERSION_1, 0x70000,
};

/* Poll until the host says done, as its caller does. */
static void poll_all(bool *closed)
{
	for (unsigned i = 0; i < 64 && host_poll(closed) == NETVSP_POLL_MORE; i++)
		;
}

/* Linux's bring-up, as netvsc_connect_vsp and rndis_filter_device_add. */
static void bring_up(uint32_t version, bool *closed)
{
	struct nvsp_message m = { .msg_type = NVSP_MSG_TYPE_INIT };
	uint32_t init[6] = { RNDIS_MSG_INIT, 24, 1, 1, 0, 0x4000 };
	uint32_t filt[8] = { RNDIS_MSG_SET, 32, 2, RNDIS_OID_GEN_CURRENT_PACKET_FILTER, 4, 20, 0,
			     NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST |
			     NDIS_PACKET_TYPE_ALL_MULTICAST };

	m.init.min_protocol_ver = m.init.max_protocol_ver = version;
	send_pkt(VMBUS_PKT_DATA_INBAND, 2, 1, 1, &m, sizeof(m));
	m = (struct nvsp_message){ .msg_type = NVSP_MSG1_TYPE_SEND_RECV_BUF };
	m.send_buf.gpadl_handle = 1;
	m.send_buf.id = NETVSC_RECEIVE_BUFFER_ID;
	send_pkt(VMBUS_PKT_DATA_INBAND, 2, 1, 2, &m, sizeof(m));
	m = (struct nvsp_message){ .msg_type = NVSP_MSG1_TYPE_SEND_SEND_BUF };
	m.send_buf.gpadl_handle = 2;
	send_pkt(VMBUS_PKT_DATA_INBAND, 2, 1, 3, &m, sizeof(m));
	poll_all(closed);
	drain(8, 0);
	send_ctrl(init, sizeof(init), 4);
	poll_all(closed);
	drain(8, 0);
	poll_all(closed);
	send_ctrl(filt, sizeof(filt), 5);
	poll_all(closed);
	drain(8, 0);
	poll_all(closed);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void run_raw(const uint8_t *data, size_t size, bool *closed)
{
	volatile struct vmbus_ring_header *h = (void *)g.in_hdr;

	if (size < 16)
		return;
	for (uint32_t i = 0; i < size - 16 && i < IN_PAGES * PAGE; i++)
		((uint8_t *)g.in_data[i / PAGE])[i % PAGE] = data[16 + i];
	h->write_index = get32(data);
	h->read_index = get32(data + 4);
	h->interrupt_mask = get32(data + 8);
	h->feature_bits.value = get32(data + 12);
	host_poll(closed);
	host_poll(closed);
}

static void run_records(const uint8_t *data, size_t size, bool *closed)
{
	size_t pos = 0;
	uint64_t id = 100;

	while (pos + 3 <= size) {
		uint8_t kind = data[pos];
		uint32_t len = data[pos + 1] | (uint32_t)data[pos + 2] << 8;
		const uint8_t *body = data + pos + 3;
		uint16_t flags = kind & 0x10 ? 0 : VMBUS_PKT_FLAG_COMPLETION_REQUESTED;

		pos += 3;
		if (len > size - pos)
			len = (uint32_t)(size - pos);
		pos += len;
		switch (kind & 7) {
		case 0:         /* inband (or another packet type) */
			send_pkt(kind & 0x80 ? (kind >> 5) + 8 : VMBUS_PKT_DATA_INBAND, 2, flags,
				 id++, body, len);
			break;
		case 1:         /* GPA direct: offset8 from the first byte */
			if (!len)
				break;
			send_pkt(VMBUS_PKT_DATA_USING_GPA_DIRECT, (uint16_t)(2 + body[0] % 48),
				 flags, id++, body + 1, len - 1);
			break;
		case 2:
			host_poll(closed);
			break;
		case 3:
			drain(kind >> 5 ? (kind >> 5) * 4u : 64u, (kind >> 3) & 3);
			break;
		case 4:         /* guest writes its memory: page, offset, bytes */
			if (len >= 3) {
				uint32_t pg = body[0] % OWNED, off = (body[1] | (uint32_t)body[2] << 8) % PAGE;
				uint32_t n = len - 3 < PAGE - off ? len - 3 : PAGE - off;

				memcpy(gpage[pg] + off, body + 3, n);
			}
			break;
		case 5:         /* a frame from the switch */
			netvsp_receive(g.sp, body, len);
			break;
		case 6:
			g.tx_mode = (kind >> 3) % 3;
			g.tx_busy = kind >> 5;
			break;
		default:
			netvsp_set_link(g.sp, kind & 0x08);
			break;
		}
	}
	host_poll(closed);
	drain(1000, 0);
	host_poll(closed);
	drain(1000, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool closed = false;

	if (size < 2)
		return 0;
	if (!g.sp) {
		g.sp = calloc(1, sizeof(*g.sp));
		if (!g.sp)
			abort();
		g.in_hdr = page();
		g.out_hdr = page();
		for (unsigned i = 0; i < IN_PAGES; i++)
			g.in_data[i] = page();
		for (unsigned i = 0; i < OUT_PAGES; i++)
			g.out_data[i] = page();
		for (unsigned i = 0; i < GPAGES; i++)
			gpage[i] = page();
	}
	/* Each input from the configured address (a change outlives the
	 * channel), with its own MAC policy. */
	if (netvsp_init(g.sp, MAC, &ops, NULL))
		abort();
	netvsp_allow_mac_change(g.sp, data[0] & FLAG_MACCHANGE ? set_mac : NULL);
	g.sw_refuses = data[0] & FLAG_SW_REFUSES;
	header_init(g.in_hdr);
	header_init(g.out_hdr);
	if (vmbus_ring_init_pages(&g.h_in, g.in_hdr, g.in_data, IN_PAGES) ||
	    vmbus_ring_init_pages(&g.g_in, g.in_hdr, g.in_data, IN_PAGES) ||
	    vmbus_ring_init_pages(&g.h_out, g.out_hdr, g.out_data, OUT_PAGES) ||
	    vmbus_ring_init_pages(&g.g_out, g.out_hdr, g.out_data, OUT_PAGES))
		abort();
	netvsp_attach(g.sp, &g.h_in, &g.h_out);
	netvsp_set_link(g.sp, true);
	g.tx_mode = g.tx_busy = 0;
	g.sp->budget = 1u + (data[1] >> 3) % 24u;
	if (data[0] & FLAG_READY)
		bring_up(versions[data[1] % 7], &closed);
	if (data[0] & FLAG_RAW)
		run_raw(data + 2, size - 2, &closed);
	else
		run_records(data + 2, size - 2, &closed);
	netvsp_detach(g.sp);
	if (netvsp_poll(g.sp) != -1 || netvsp_receive(g.sp, data, size) != -1)
		abort();
	if (g.sp->mcast_count > NETVSP_MCAST_MAX || (g.sp->mac[0] & 1) ||
	    (!(data[0] & FLAG_MACCHANGE) && memcmp(g.sp->mac, MAC, 6)) ||
	    ((data[0] & FLAG_SW_REFUSES) && memcmp(g.sp->mac, MAC, 6)))
		abort();        /* an address only the policy and the switch allow */
	return 0;
}

/* ---- seeds: Linux's bring-up, then traffic of every shape ------------------ */
static size_t put_rec(uint8_t *buf, size_t n, uint8_t kind, const void *body, uint16_t len)
{
	buf[n] = kind;
	buf[n + 1] = (uint8_t)len;
	buf[n + 2] = (uint8_t)(len >> 8);
	if (len)
		memcpy(buf + n + 3, body, len);
	return n + 3 + len;
}

/* An RNDIS_MSG_PACKET with a frame of flen bytes, into b: its length. */
static uint32_t rndis_frame(uint8_t *b, uint32_t flen, uint8_t seed)
{
	uint32_t h[2] = { RNDIS_MSG_PACKET, 44 + flen };
	struct rndis_packet rp = { .data_offset = 36, .data_len = flen, .per_pkt_info_offset = 36 };

	memcpy(b, h, 8);
	memcpy(b + 8, &rp, 36);
	memcpy(b + 44, MAC, 6);
	for (uint32_t i = 6; i < flen; i++)
		b[44 + i] = (uint8_t)(seed + i);
	return 44 + flen;
}

/* A write-memory record putting bytes at page pg, offset off. */
static size_t mem_rec(uint8_t *buf, size_t n, uint8_t pg, uint16_t off, const uint8_t *b,
		      uint32_t len)
{
	uint8_t tmp[2048];

	tmp[0] = pg;
	tmp[1] = (uint8_t)off;
	tmp[2] = (uint8_t)(off >> 8);
	memcpy(tmp + 3, b, len);
	return put_rec(buf, n, 4, tmp, (uint16_t)(3 + len));
}

/* An RNDIS control message at page pg, then the GPA direct packet that
 * names it. */
static size_t ctrl_rec(uint8_t *buf, size_t n, uint8_t pg, const uint8_t *msg, uint32_t len)
{
	struct nvsp_message m = { .msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT };
	uint8_t g1[1 + 8 + 16 + sizeof(m)] = { 0 };
	uint32_t one = 1;
	uint64_t pfn = pg;

	m.send_rndis_pkt.channel_type = NVSP_CHANNEL_TYPE_CONTROL;
	m.send_rndis_pkt.send_buf_section_index = NVSP_INVALID_SECTION_INDEX;
	n = mem_rec(buf, n, pg, 0, msg, len);
	g1[0] = 3;              /* offset8 5: one range of one page */
	memcpy(g1 + 1 + 4, &one, 4);
	memcpy(g1 + 1 + 8, &len, 4);
	memcpy(g1 + 1 + 16, &pfn, 8);
	memcpy(g1 + 1 + 24, &m, sizeof(m));
	n = put_rec(buf, n, 1, g1, sizeof(g1));
	n = put_rec(buf, n, 2, NULL, 0);
	return put_rec(buf, n, 3, NULL, 0);
}

/* A SET of oid with val[0..len) into b: its length. */
static uint32_t rndis_set_msg(uint8_t *b, uint32_t oid, const void *val, uint32_t len)
{
	uint32_t h[7] = { RNDIS_MSG_SET, 28 + len, 77, oid, len, 20, 0 };

	memcpy(b, h, sizeof(h));
	memcpy(b + 28, val, len);
	return 28 + len;
}

/* Linux's NetworkAddress parameter (rndis_filter_set_device_mac). */
static uint32_t netaddr(uint8_t *b, const char *hex)
{
	static const char name[] = "NetworkAddress";
	struct rndis_config_parameter_info ci = { 20, 28, RNDIS_CONFIG_PARAM_TYPE_STRING, 48, 24 };

	memcpy(b, &ci, sizeof(ci));
	for (unsigned k = 0; k < 14; k++)
		b[20 + 2 * k] = (uint8_t)name[k], b[21 + 2 * k] = 0;
	for (unsigned k = 0; k < 12; k++)
		b[48 + 2 * k] = (uint8_t)hex[k], b[49 + 2 * k] = 0;
	return 72;
}

/* Seeds 5 and 6: a multicast list and the filter that uses it, frames
 * for listed and unlisted groups; MAC changes (allowed in 5, refused by
 * the switch in 6), offload parameters (6 turns one on), a parameter
 * whose value lies past its buffer. */
static size_t seed_control(unsigned i, uint8_t *buf)
{
	static const uint8_t groups[12] = { 1, 0, 0x5e, 0, 0, 1, 0x33, 0x33, 0, 0, 0, 1 };
	uint32_t filter = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_MULTICAST;
	uint8_t b[512], p[128], f[64];
	size_t n = 2;
	uint32_t len;

	buf[0] = FLAG_READY | FLAG_MACCHANGE | (i == 6 ? FLAG_SW_REFUSES : 0);
	buf[1] = 189;
	len = rndis_set_msg(b, RNDIS_OID_802_3_MULTICAST_LIST, groups, sizeof(groups));
	n = ctrl_rec(buf, n, 16, b, len);
	len = rndis_set_msg(b, RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &filter, 4);
	n = ctrl_rec(buf, n, 16, b, len);
	memset(f, 0x5a, sizeof(f));
	for (unsigned k = 0; k < 3; k++) {
		memcpy(f, groups + (k % 2) * 6, 6);
		f[5] += (uint8_t)(k / 2);       /* the third is not listed */
		n = put_rec(buf, n, 5, f, sizeof(f));
	}
	n = put_rec(buf, n, 3, NULL, 0);
	len = rndis_set_msg(b, RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, p,
			    netaddr(p, "02aabbccddee"));
	n = ctrl_rec(buf, n, 16, b, len);
	{
		struct ndis_offload_params op = { .header = { NDIS_OBJECT_TYPE_DEFAULT, 3, 28 } };

		op.ip_v4_csum = NDIS_OFFLOAD_PARAMETERS_DISABLED;
		op.tcp_ip_v6_csum = (uint8_t)(i == 6 ? 4 : 0);
		len = rndis_set_msg(b, OID_TCP_OFFLOAD_PARAMETERS, &op, sizeof(op));
		n = ctrl_rec(buf, n, 17, b, len);
	}
	p[12] = 60;                     /* value_offset: 60 + 24 > 72 */
	len = rndis_set_msg(b, RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, p, 72);
	n = ctrl_rec(buf, n, 17, b, len);
	return put_rec(buf, n, 2, NULL, 0);
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	uint8_t b[2048], f[128];
	struct nvsp_message m = { .msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT };
	size_t n = 2;
	uint32_t len, len0;

	if (i > 6 || cap < 8192)
		return 0;
	if (i >= 5)
		return seed_control(i, buf);
	buf[0] = FLAG_READY;
	/* settings: versions[b % 7], budget 1 + (b >> 3) % 24: 189 is 6.1
	 * with 24, 187 is 1 with 24, 185 is 4 with 24, 0 is 6.1 with 1. */
	static const uint8_t settings[] = { 0, 187, 185, 189, 189 };

	buf[1] = settings[i];
	/* A frame in send section 0 (the send buffer's first page is 9). */
	len = len0 = rndis_frame(b, 60 + 20 * i, (uint8_t)i);
	n = mem_rec(buf, n, 9, 0, b, len);
	m.send_rndis_pkt.send_buf_section_index = 0;
	m.send_rndis_pkt.send_buf_section_size = len;
	n = put_rec(buf, n, 0, &m, sizeof(m));
	n = put_rec(buf, n, 2, NULL, 0);
	/* A frame by one page range from page 14, crossing into 15. */
	len = rndis_frame(b, 300, 7);
	n = mem_rec(buf, n, 14, 4000, b, 96);
	n = mem_rec(buf, n, 15, 0, b + 96, len - 96);
	{
		uint8_t g2[1 + 8 + 16 + 16 + sizeof(m)] = { 0 };
		uint32_t two = 2, c0 = 96, o0 = 4000, c1 = len - 96, o1 = 0;
		uint64_t p0 = 14, p1 = 15;

		g2[0] = 5;              /* offset8 = 2 + 5: a 40-byte head */
		memcpy(g2 + 1 + 4, &two, 4);
		memcpy(g2 + 1 + 8, &c0, 4);
		memcpy(g2 + 1 + 12, &o0, 4);
		memcpy(g2 + 1 + 16, &p0, 8);
		memcpy(g2 + 1 + 24, &c1, 4);
		memcpy(g2 + 1 + 28, &o1, 4);
		memcpy(g2 + 1 + 32, &p1, 8);
		m.send_rndis_pkt.send_buf_section_index = NVSP_INVALID_SECTION_INDEX;
		m.send_rndis_pkt.send_buf_section_size = 0;
		memcpy(g2 + 1 + 40, &m, sizeof(m));
		n = put_rec(buf, n, 1, g2, 1 + 40 + sizeof(m));
	}
	n = put_rec(buf, n, 2, NULL, 0);
	/* Frames from the switch, read and completed. */
	memcpy(f, MAC, 6);
	memset(f + 6, 0x5a, sizeof(f) - 6);
	for (unsigned k = 0; k < 3 + 4 * i; k++)
		n = put_rec(buf, n, 5, f, (uint16_t)(64 + k));
	n = put_rec(buf, n, 3 | (uint8_t)((i == 2 ? 2 : 0) << 3), NULL, 0);
	n = put_rec(buf, n, 2, NULL, 0);
	if (i == 3) {
		/* The switch busy for a while, then the link flapping. */
		n = put_rec(buf, n, 6 | 1 << 3 | 3 << 5, NULL, 0);
		m.send_rndis_pkt.send_buf_section_index = 0;
		m.send_rndis_pkt.send_buf_section_size = len0;
		n = put_rec(buf, n, 0, &m, sizeof(m));
		n = put_rec(buf, n, 2, NULL, 0);
		n = put_rec(buf, n, 7, NULL, 0);
		n = put_rec(buf, n, 7 | 8, NULL, 0);
	}
	if (i == 4) {
		/* A query of the offload caps, by page range, then a HALT. */
		uint32_t q[7] = { RNDIS_MSG_QUERY, 28, 9, OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, 0, 20, 0 };
		uint8_t g1[1 + 8 + 16 + sizeof(m)] = { 0 };
		uint32_t one = 1, c0 = sizeof(q);
		uint64_t p0 = 16;

		n = mem_rec(buf, n, 16, 0, (const uint8_t *)q, sizeof(q));
		g1[0] = 3;
		memcpy(g1 + 1 + 4, &one, 4);
		memcpy(g1 + 1 + 8, &c0, 4);
		memcpy(g1 + 1 + 16, &p0, 8);
		memcpy(g1 + 1 + 24, &m, sizeof(m));
		n = put_rec(buf, n, 1, g1, sizeof(g1));
		n = put_rec(buf, n, 2, NULL, 0);
		n = put_rec(buf, n, 3, NULL, 0);
	}
	return put_rec(buf, n, 2, NULL, 0);
}
