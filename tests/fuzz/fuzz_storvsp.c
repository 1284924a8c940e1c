/*
 * Fuzz target: storvsp's packet handling (vmbus/storvsp.c) under a
 * hostile guest. Every page (ring headers, ring data pages, the guest's
 * 16 pages of memory) is its own heap block, so ASan reports any access
 * past a page; the copy callbacks abort() on a copy that crosses a page
 * or leaves guest memory, which storvsp must never ask for (pages 12..15
 * exist but are not the guest's: those copies fail, cleanly).
 *
 * Input: a flags byte, then
 *  - FLAG_RAW: four u32 guest->host ring header words (write_index,
 *    read_index, interrupt_mask, feature_bits) and the bytes of its data
 *    area: arbitrary indices, descriptors, lengths;
 *  - otherwise records [kind u8][len u16][len bytes]: a packet (the
 *    descriptor built from kind, the bytes after it as they come: gpa
 *    range, pfns, vstor packet), a poll, or the guest reading (some of)
 *    its completions, so the host->guest ring fills and drains.
 * FLAG_READY runs a valid handshake first (version from the second
 * byte), so the SRB paths are reached. Invariants beyond ASan: poll
 * returns 0 or -1, -1 sticks, every completion is a VM_PKT_COMP packet.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ring.h"
#include "scsidisk.h"
#include "storvsp.h"

#define PAGE            4096u
#define GPAGES          16u
#define OWNED           12u
#define IN_PAGES        2u
#define OUT_PAGES       1u
#define SECTORS         256u

#define FLAG_RAW        1u
#define FLAG_READY      2u

static uint8_t *gpage[GPAGES];
static uint8_t disk_mem[SECTORS * 512];

static int ram_read(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	if (lba >= SECTORS || count > SECTORS - lba)
		abort();        /* scsidisk checks the range first */
	memcpy(buf, disk_mem + lba * 512, (size_t)count * 512);
	return 0;
}

static int ram_write(void *ctx, uint64_t lba, unsigned count, const void *buf)
{
	if (lba >= SECTORS || count > SECTORS - lba)
		abort();
	memcpy(disk_mem + lba * 512, buf, (size_t)count * 512);
	return 0;
}

static int ram_flush(void *ctx)
{
	return 0;
}

/* The DMA path: a segment's "physical" address is the host pointer
 * dma_pages gave out; the lengths must add up to the request. */
static int ram_sg(uint64_t lba, unsigned count, const struct blk_seg *segs, unsigned n,
		  bool write)
{
	uint64_t off = lba * 512, total = 0;

	if (lba >= SECTORS || count > SECTORS - lba || !n)
		abort();
	for (unsigned i = 0; i < n; i++) {
		if (!segs[i].len)
			abort();
		total += segs[i].len;
		if (total > (uint64_t)count * 512)
			abort();
		if (write)
			memcpy(disk_mem + off, (void *)(uintptr_t)segs[i].addr, segs[i].len);
		else
			memcpy((void *)(uintptr_t)segs[i].addr, disk_mem + off, segs[i].len);
		off += segs[i].len;
	}
	if (total != (uint64_t)count * 512)
		abort();
	return 0;
}

static int ram_read_sg(void *ctx, uint64_t lba, unsigned count, const struct blk_seg *segs,
		       unsigned n)
{
	return ram_sg(lba, count, segs, n, false);
}

static int ram_write_sg(void *ctx, uint64_t lba, unsigned count, const struct blk_seg *segs,
			unsigned n)
{
	return ram_sg(lba, count, segs, n, true);
}

static const struct block_backend ram = {
	NULL, SECTORS, ram_read, ram_write, ram_flush, ram_read_sg, ram_write_sg,
};

static uint8_t *guest_bytes(uint64_t gpa, uint32_t len)
{
	uint64_t pfn = gpa / PAGE;

	if (!len || gpa % PAGE + len > PAGE)
		abort();        /* storvsp must split at page boundaries */
	if (pfn >= GPAGES)
		return NULL;
	return pfn < OWNED ? gpage[pfn] + gpa % PAGE : NULL;
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

/* A guest page's "physical" address: where this process has it. A
 * page is a whole allocation of its own, so pages never merge. */
static int dma_pages(void *ctx, const uint64_t *pfns, uint32_t n, uint64_t *phys)
{
	for (uint32_t i = 0; i < n; i++) {
		if (pfns[i] >= OWNED)
			return -1;
		phys[i] = (uint64_t)(uintptr_t)gpage[pfns[i]];
	}
	return 0;
}

/* Inputs of odd length run with the DMA path, even ones copy. */
static const struct storvsp_ops ops = {
	copy_from, copy_to, signal_guest, NULL, NULL,
};
static const struct storvsp_ops ops_dma = {
	copy_from, copy_to, signal_guest, NULL, dma_pages,
};

struct rig {
	uint8_t *in_hdr, *out_hdr;
	void *in_data[IN_PAGES], *out_data[OUT_PAGES];
	struct vmbus_ring h_in, h_out;  /* the host's views */
	struct vmbus_ring g_in, g_out;  /* the guest's: writes in, reads out */
	struct scsidisk disk;
	struct storvsp *sp;
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
	((struct vmbus_ring_header *)h)->feature_bits.value =
		VMBUS_RING_FEAT_PENDING_SEND_SZ;
}

static int host_poll(struct rig *g, bool *closed)
{
	int err = storvsp_poll(g->sp);

	if (err != STORVSP_POLL_DONE && err != STORVSP_POLL_MORE && err != -1)
		abort();
	/* The wake-up invariant: "more" only with packets left and the ring
	 * still masked; "done" leaves it unmasked, and empty unless a full
	 * host->guest ring holds a completion back. */
	if (err == STORVSP_POLL_MORE &&
	    (g->sp->stalled || !vmbus_ring_avail_read(&g->h_in) ||
	     g->h_in.hdr->interrupt_mask != 1))
		abort();
	if (err == STORVSP_POLL_DONE && (g->h_in.hdr->interrupt_mask != 0 ||
	    (!g->sp->stalled && vmbus_ring_avail_read(&g->h_in))))
		abort();
	if (*closed && err != -1)
		abort();        /* a closed channel stays closed */
	*closed |= err == -1;
	return err;
}

/* The guest reads up to n completions. */
static void drain(struct rig *g, unsigned n)
{
	static uint64_t buf[64];

	while (n--) {
		bool sig;
		int len = vmbus_ring_peek(&g->g_out, buf, sizeof(buf));
		struct vmbus_pkt_desc d;

		if (len <= 0)
			return;
		memcpy(&d, buf, sizeof(d));
		if (d.type != VMBUS_PKT_COMP || len > 16 + 64)
			abort();
		if (vmbus_ring_consume(&g->g_out, (uint32_t)len, &sig))
			abort();
	}
}

static int send_pkt(struct rig *g, uint16_t type, uint16_t offset8,
		    uint16_t flags, uint64_t id, const void *body, uint32_t len)
{
	struct vmbus_pkt_desc d = { type, offset8, 0, flags, id };
	struct vmbus_iov iov[2] = { { &d, sizeof(d) }, { body, len } };
	bool sig;

	d.len8 = (uint16_t)((sizeof(d) + len + 7) / 8);
	return vmbus_ring_write(&g->g_in, iov, 2, &sig);
}

/* A correct handshake, as storvsc runs it. */
static void handshake(struct rig *g, uint16_t version, bool *closed)
{
	static const uint32_t op[] = {
		VSTOR_OPERATION_BEGIN_INITIALIZATION,
		VSTOR_OPERATION_QUERY_PROTOCOL_VERSION,
		VSTOR_OPERATION_QUERY_PROPERTIES,
		VSTOR_OPERATION_END_INITIALIZATION,
	};

	for (unsigned i = 0; i < 4; i++) {
		struct vstor_packet vp = { .operation = op[i], .flags = 1 };

		vp.version.major_minor = version;
		send_pkt(g, VMBUS_PKT_DATA_INBAND, 2,
		     VMBUS_PKT_FLAG_COMPLETION_REQUESTED, i, &vp, sizeof(vp));
		host_poll(g, closed);
		drain(g, 8);
	}
}

static const uint16_t versions[] = {
	VMSTOR_PROTO_VERSION_WIN10, VMSTOR_PROTO_VERSION_WIN8_1,
	VMSTOR_PROTO_VERSION_WIN8, VMSTOR_PROTO_VERSION_WIN7,
	VMSTOR_PROTO_VERSION_WIN6, 0x0700,
};

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void run_raw(struct rig *g, const uint8_t *data, size_t size,
		    bool *closed)
{
	volatile struct vmbus_ring_header *h = (void *)g->in_hdr;

	if (size < 16)
		return;
	for (uint32_t i = 0; i < size - 16 && i < IN_PAGES * PAGE; i++)
		((uint8_t *)g->in_data[i / PAGE])[i % PAGE] = data[16 + i];
	h->write_index = get32(data);
	h->read_index = get32(data + 4);
	h->interrupt_mask = get32(data + 8);
	h->feature_bits.value = get32(data + 12);
	/* The host attached before the guest broke the header. */
	host_poll(g, closed);
	host_poll(g, closed);
}

static void run_records(struct rig *g, const uint8_t *data, size_t size,
			bool *closed)
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
		switch (kind & 3) {
		case 0:         /* inband */
			send_pkt(g, kind & 0x80 ? kind >> 5 : VMBUS_PKT_DATA_INBAND,
			     2, flags, id++, body, len);
			break;
		case 1:         /* GPA direct: offset8 from the pfn count */
			if (!len)
				break;
			send_pkt(g, VMBUS_PKT_DATA_USING_GPA_DIRECT,
			     (uint16_t)(2 + (kind & 0x80 ? body[0] % 64 :
					      2 + body[0] % 8)),
			     flags, id++, body + 1, len - 1);
			break;
		case 2:
			host_poll(g, closed);
			break;
		default:
			drain(g, kind >> 2);
			break;
		}
	}
	host_poll(g, closed);
	drain(g, 1000);
	host_poll(g, closed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rig g;
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
		scsidisk_init(&g.disk, &ram, "fuzz");
		if (storvsp_init(g.sp, &g.disk, &ops, NULL))
			abort();
	}
	g.sp->ops = size & 1 ? &ops_dma : &ops;
	header_init(g.in_hdr);
	header_init(g.out_hdr);
	if (vmbus_ring_init_pages(&g.h_in, g.in_hdr, g.in_data, IN_PAGES) ||
	    vmbus_ring_init_pages(&g.g_in, g.in_hdr, g.in_data, IN_PAGES) ||
	    vmbus_ring_init_pages(&g.h_out, g.out_hdr, g.out_data, OUT_PAGES) ||
	    vmbus_ring_init_pages(&g.g_out, g.out_hdr, g.out_data, OUT_PAGES))
		abort();
	storvsp_attach(g.sp, &g.h_in, &g.h_out);
	g.sp->budget = 1u + (data[1] >> 3) % 24u;      /* 1..24 packets */
	if (data[0] & FLAG_READY)
		handshake(&g, versions[data[1] % 6], &closed);
	if (data[0] & FLAG_RAW)
		run_raw(&g, data + 2, size - 2, &closed);
	else
		run_records(&g, data + 2, size - 2, &closed);
	return 0;
}

/* ---- seeds: a handshake, then good requests of every shape ------------- */
static size_t put_rec(uint8_t *buf, size_t n, uint8_t kind, const void *body,
		      uint16_t len)
{
	buf[n] = kind;
	buf[n + 1] = (uint8_t)len;
	buf[n + 2] = (uint8_t)(len >> 8);
	if (len)
		memcpy(buf + n + 3, body, len);
	return n + 3 + len;
}

/* A GPA direct record body: pfn count byte, the rest of the head, pfns,
 * then an EXECUTE_SRB of `cdb`. */
static size_t gpa_rec(uint8_t *buf, size_t n, uint8_t op, uint8_t lba,
		      uint32_t off, uint32_t bytes, uint8_t pfn0, bool pre)
{
	uint8_t b[1 + 16 + 8 * 3 + 64] = { 0 };
	uint32_t npfn = (off + bytes + PAGE - 1) / PAGE;
	struct vstor_packet vp = { .operation = VSTOR_OPERATION_EXECUTE_SRB };
	uint32_t one = 1;

	b[0] = (uint8_t)npfn;
	memcpy(b + 5, &one, 4);                 /* rangecount */
	memcpy(b + 9, &bytes, 4);
	memcpy(b + 13, &off, 4);
	for (uint32_t i = 0; i < npfn; i++) {
		uint64_t pfn = pfn0 + i;

		memcpy(b + 17 + 8 * i, &pfn, 8);
	}
	vp.vm_srb.cdb_length = 10;
	vp.vm_srb.sense_info_length = 20;
	vp.vm_srb.data_in = op == 0x28 ? VSTOR_READ_TYPE : VSTOR_WRITE_TYPE;
	vp.vm_srb.data_transfer_length = bytes;
	vp.vm_srb.cdb[0] = op;
	vp.vm_srb.cdb[5] = lba;
	vp.vm_srb.cdb[8] = (uint8_t)(bytes / 512);
	memcpy(b + 17 + 8 * npfn, &vp, pre ? 52 : 64);
	return put_rec(buf, n, 1, b, (uint16_t)(17 + 8 * npfn + (pre ? 52 : 64)));
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	struct vstor_packet vp = { .operation = VSTOR_OPERATION_EXECUTE_SRB };
	bool pre = i == 1;
	size_t n = 2;

	if (i > 3 || cap < 4096)
		return 0;
	buf[0] = FLAG_READY;
	buf[1] = pre ? 3 : 0;
	if (i == 3) {
		/* Raw: one inband TUR the host has not seen, header by hand. */
		struct vmbus_pkt_desc d = { 6, 2, 10, 1, 7 };

		buf[0] |= FLAG_RAW;
		memset(buf + 2, 0, 16);
		buf[2] = 88;                    /* write_index */
		buf[14] = 1;                    /* feature_bits */
		vp.vm_srb.cdb_length = 6;
		memcpy(buf + 18, &d, 16);
		memcpy(buf + 34, &vp, 64);
		memset(buf + 98, 0, 8);         /* trailer: start 0 */
		return 106;
	}
	vp.vm_srb.cdb_length = 6;               /* TEST UNIT READY */
	n = put_rec(buf, n, 0, &vp, pre ? 52 : 64);
	n = gpa_rec(buf, n, 0x2a, 4, 100, 2048, 1, pre);
	n = gpa_rec(buf, n, 0x28, 4, 3000, 2048, 2, pre);
	n = put_rec(buf, n, 2, NULL, 0);
	n = gpa_rec(buf, n, 0x28, 1, 512, 4096, 11, pre);      /* 12: not ours */
	if (i == 2)
		for (unsigned k = 0; k < 60; k++)
			n = put_rec(buf, n, 0, &vp, 64);
	n = put_rec(buf, n, 2, NULL, 0);
	n = put_rec(buf, n, 3 | 8 << 2, NULL, 0);
	return put_rec(buf, n, 2, NULL, 0);
}
