/*
 * The enlightened guest's synthetic path, as TAP: VMBus connects and
 * lists its offers; the heartbeat and shutdown ICs open; storvsc starts
 * and reads the disk's capacity; a deterministic pattern (mib=N MiB,
 * default 16) is written, flushed, read back and CRC-checked; a read past
 * the end gets ILLEGAL REQUEST / LBA OUT OF RANGE; the heartbeat runs.
 * Then the hostile part: malformed channel messages, a GPADL naming pages
 * we do not own, and a ring whose indices we corrupt; the host must
 * refuse the first two and close that channel for the third, and the
 * guest, the host and everyone else go on.
 *
 * The transport is this guest's platform (enlightened.h): HvPostMessage
 * and HvSignalEvent through the hypercall page, the SynIC's SINT 2 for
 * the host's messages and channel events (flag = relid).
 */
#include <string.h>
#include <isovisor/vmbus.h>
#include "enlightened.h"
#include "client.h"
#include "ic.h"
#include "ring.h"
#include "scsidisk.h"
#include "storvsc.h"

#define STOR_RING_BYTES   (64u * 1024)  /* each direction, header included */
#define IC_RING_BYTES     (4u * 4096)
#define CHUNK             (1u << 20)    /* bytes per request */
#define QUEUE_DEPTH       4
#define WAIT_MS           20000

static const struct vmbus_guid scsi_class = { {
	0xd9, 0x63, 0x61, 0xba, 0xa1, 0x04, 0x29, 0x4d,
	0xb6, 0x05, 0x72, 0xe2, 0xff, 0xb1, 0xdc, 0x7f } };

static struct vmbus_client vc;
static struct storvsc sc;
static uint64_t irq_seen;

/* ---- the client's transport ------------------------------------------------- */

static int t_post(void *ctx, uint32_t conn, const void *msg, size_t len)
{
	uint16_t st = 0;

	/* The host's port may be busy for a moment (its credit taken by our
	 * previous message): retry for up to a second. Not by HLT: the
	 * credit comes back with no interrupt, and when the host waits for
	 * this very message (a GPADL's body after its header) nothing else
	 * would come either, and we would halt forever. */
	for (unsigned i = 0; i < 20000; i++) {
		st = hv_post_message(conn, 1, msg, len);
		if (st != HV_STATUS_INSUFFICIENT_BUFFERS)
			break;
		hv_spin_us(50);
	}
	return st;
}

static int t_wait(void *ctx, void *buf, size_t *len)
{
	return synic_wait_message(buf, len, WAIT_MS) ? -1 : 0;
}

static void t_log(void *ctx, const char *line)
{
	kprint("# %s", line);
}

static const struct vmbus_client_ops client_ops = {
	.post = t_post,
	.wait_message = t_wait,
	.log = t_log,
};

/* ---- channels --------------------------------------------------------------- */

struct gchan {
	const char *name;
	const struct vmbus_channel_offer_channel *offer;
	uint32_t relid, conn, gpadl;
	uint8_t *ring;
	uint32_t out_bytes, in_bytes;
	bool open;
	/* ICs */
	struct vmbus_ring out, in;
	struct ic_guest ic;
	uint32_t answered;
	bool power_off;
};

static struct gchan hb = { .name = "heartbeat" }, sd = { .name = "shutdown" },
		    st = { .name = "storage" };

static int chan_open(struct gchan *c, uint32_t out_bytes, uint32_t in_bytes)
{
	uint32_t n = (out_bytes + in_bytes) / PAGE_SIZE;
	static uint64_t pfns[64];
	int r;

	c->relid = c->offer->child_relid;
	c->conn = c->offer->connection_id;
	c->ring = page_alloc(out_bytes + in_bytes);
	if (!c->ring || n > 64)
		return VMBUS_CLIENT_ENOSPC;
	c->out_bytes = out_bytes;
	c->in_bytes = in_bytes;
	if (vmbus_ring_format(c->ring, out_bytes) ||
	    vmbus_ring_format(c->ring + out_bytes, in_bytes))
		return VMBUS_CLIENT_EINVAL;
	for (uint32_t i = 0; i < n; i++)
		pfns[i] = virt_to_phys(c->ring + i * PAGE_SIZE) >> 12;
	r = vmbus_client_gpadl_create(&vc, c->relid, pfns, n, &c->gpadl);
	if (r)
		return r;
	r = vmbus_client_open(&vc, c->relid, c->gpadl, out_bytes / PAGE_SIZE, 0, NULL, 0);
	c->open = r == 0;
	return r;
}

/* ---- integration services (guest half) ------------------------------------- */

static void ic_service(struct gchan *c)
{
	static uint8_t req[4096] __attribute__((aligned(8)));
	static uint8_t resp[4096] __attribute__((aligned(8)));

	if (!c->open)
		return;
	for (;;) {
		int n = vmbus_ring_peek(&c->in, req, sizeof(req));
		const struct vmbus_pkt_desc *d = (const void *)req;
		struct vmbus_pkt_desc rd;
		struct vmbus_iov iov[2];
		enum ic_action act = IC_ACTION_NONE;
		bool sig = false;
		size_t rl;

		if (n <= 0) {
			if (n < 0) {
				kprint("# %s: ring broken (%d), channel abandoned", c->name, n);
				c->open = false;
			}
			return;
		}
		rl = d->type == VMBUS_PKT_DATA_INBAND && d->offset8 * 8u <= (unsigned)n ?
		     ic_guest_respond(&c->ic, req + d->offset8 * 8u, (size_t)n - d->offset8 * 8u,
				      resp, sizeof(resp), &act) : 0;
		if (vmbus_ring_consume(&c->in, (uint32_t)n, &sig)) {
			c->open = false;
			return;
		}
		if (sig)
			hv_signal_event(c->conn);
		if (!rl)
			continue;
		memset(&rd, 0, sizeof(rd));
		rd.type = VMBUS_PKT_DATA_INBAND;
		rd.offset8 = sizeof(rd) / 8;
		rd.len8 = (uint16_t)((sizeof(rd) + rl + 7) / 8);
		rd.trans_id = d->trans_id;
		iov[0] = (struct vmbus_iov){ &rd, sizeof(rd) };
		iov[1] = (struct vmbus_iov){ resp, (uint32_t)rl };
		sig = false;
		if (vmbus_ring_write(&c->out, iov, 2, &sig) == 0) {
			c->answered++;
			if (sig)
				hv_signal_event(c->conn);
		}
		if (act == IC_ACTION_POWER_OFF)
			c->power_off = true;
	}
}

static int ic_open(struct gchan *c, enum ic_service svc)
{
	int r = chan_open(c, IC_RING_BYTES, IC_RING_BYTES);

	if (r)
		return r;
	ic_guest_init(&c->ic, svc);
	if (vmbus_ring_init(&c->out, c->ring, c->out_bytes) ||
	    vmbus_ring_init(&c->in, c->ring + c->out_bytes, c->in_bytes))
		return VMBUS_CLIENT_EINVAL;
	return 0;
}

/* Everything a wait must keep going: the ICs' requests. A channel's
 * event flag is cleared before its ring is read, as Linux does: the host
 * raises the interrupt only when it sets a clear flag. */
static void service_all(void)
{
	struct gchan *all[3] = { &hb, &sd, &st };

	for (unsigned i = 0; i < 3; i++)
		if (all[i]->open)
			synic_event_test_and_clear(VMBUS_MESSAGE_SINT, all[i]->relid);
	ic_service(&hb);
	ic_service(&sd);
}

void enlightened_vmbus_service(void)
{
	service_all();
}

bool enlightened_vmbus_heartbeat_open(void)
{
	return hb.open;
}

/* ---- storvsc's transport ----------------------------------------------------- */

static void s_signal(void *ctx)
{
	hv_signal_event(st.conn);
}

/* Polls of the inbound ring before a wait halts. */
#define SPINS_BEFORE_HALT 2000u
static uint64_t spin_hits, halts;

/* storvsc found its ring empty. The host interrupts only when it sets a
 * clear flag, so a completion may have come with our flag still set from
 * an earlier one: clear the flag, then look at the ring again before
 * sleeping, or that completion would wait for the next heartbeat. */
static void s_wait(void *ctx)
{
	service_all();
	/* Spin before halting (as drivers/virtio_blk.c does): a host on
	 * another CPU answers within microseconds, and a halt costs an exit
	 * and a world switch. Bounded: with nothing after the spins, halt. */
	for (unsigned i = 0; i < SPINS_BEFORE_HALT; i++) {
		if (vmbus_ring_avail_read(&sc.in)) {
			spin_hits++;
			return;
		}
		__asm__ volatile("pause");
	}
	halts++;
	synic_wait_event(irq_seen, WAIT_MS);
	irq_seen = synic_irq_seq();
}

static uint64_t s_v2p(void *ctx, const void *va)
{
	return virt_to_phys(va);
}

static const struct storvsc_ops sc_ops = {
	.signal_host = s_signal,
	.wait = s_wait,
	.virt_to_gpa = s_v2p,
	.log = t_log,
};

/* ---- the storage checks --------------------------------------------------------- */

static uint64_t capacity;       /* blocks */

static int scsi(const uint8_t *cdb, uint8_t len, void *buf, uint32_t bytes,
		enum storvsc_dir dir, struct storvsc_result *res)
{
	struct storvsc_request rq = { cdb, len, 0, buf, bytes, dir };

	return storvsc_execute(&sc, &rq, res);
}

static bool good(int r, const struct storvsc_result *res)
{
	return r == 0 && res->scsi_status == SCSI_STATUS_GOOD &&
	       (res->srb_status & 0x3f) == SRB_STATUS_SUCCESS;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void storage_identify(void)
{
	static uint8_t buf[512] __attribute__((aligned(8)));
	uint8_t inq[6] = { SCSI_INQUIRY, 0, 0, 0, 96, 0 };
	uint8_t rc10[10] = { SCSI_READ_CAPACITY_10 };
	uint8_t rc16[16] = { SCSI_SERVICE_ACTION_IN_16, SCSI_SAI_READ_CAPACITY_16 };
	struct storvsc_result res;
	uint64_t cap16 = 0;
	uint32_t cap10 = 0;
	bool ok_inq, ok10, ok16;
	char vendor[9] = "", product[17] = "";

	ok_inq = good(scsi(inq, 6, buf, 96, STORVSC_DIR_READ, &res), &res) && (buf[0] & 0x1f) == 0;
	memcpy(vendor, buf + 8, 8);
	memcpy(product, buf + 16, 16);
	ok10 = good(scsi(rc10, 10, buf, 8, STORVSC_DIR_READ, &res), &res);
	cap10 = get_be32(buf) + 1;
	rc16[13] = 32;
	ok16 = good(scsi(rc16, 16, buf, 32, STORVSC_DIR_READ, &res), &res);
	cap16 = ((uint64_t)get_be32(buf) << 32 | get_be32(buf + 4)) + 1;
	capacity = ok16 ? cap16 : 0;
	tap_result(ok_inq && ok10 && ok16 && cap10 == cap16 && get_be32(buf + 8) == 512,
		   "enlightened storvsc: INQUIRY (direct access, '%s' '%s'), READ CAPACITY "
		   "10 and 16 agree: %lu blocks of 512 bytes (%lu MiB)", vendor, product,
		   cap16, cap16 >> 11);
}

static void fill_chunk(uint8_t *buf, uint64_t lba, uint32_t bytes, uint64_t seed)
{
	for (uint32_t o = 0; o < bytes; o += 512) {
		if (o % (64u << 10) == 0)
			service_all();  /* heartbeats, even while we compute */
		pattern_sector(seed, lba + o / 512, buf + o);
	}
}

static uint64_t io_exits(const struct hv_isovisor_exit_counters *c)
{
	return hv_exit_total(c) - hv_exit_count(c, "intr");
}

/* mib MiB sequentially, QUEUE_DEPTH requests of CHUNK in flight. */
static int stream(bool write, uint64_t mib, uint64_t seed, uint8_t **bufs, uint32_t *crc)
{
	uint64_t chunks = (mib << 20) / CHUNK, next = 0, done = 0;
	struct { uint64_t tag; uint64_t chunk; bool busy; } slot[QUEUE_DEPTH];
	struct storvsc_completion comp[QUEUE_DEPTH];
	static uint8_t cdb[QUEUE_DEPTH][16];
	uint32_t crc_by_chunk = 0;

	memset(slot, 0, sizeof(slot));
	*crc = 0;
	while (done < chunks) {
		int n;

		/* Filling and checking 1 MiB takes a while under emulation:
		 * answer the host's heartbeat between chunks. */
		service_all();
		for (unsigned s = 0; s < QUEUE_DEPTH && next < chunks; s++) {
			struct storvsc_request rq;
			uint64_t lba = next * (CHUNK / 512);
			int r;

			if (slot[s].busy)
				continue;
			if (write)
				fill_chunk(bufs[s], lba, CHUNK, seed);
			memset(cdb[s], 0, 16);
			cdb[s][0] = write ? SCSI_WRITE_16 : SCSI_READ_16;
			put_be32(cdb[s] + 2, (uint32_t)(lba >> 32));
			put_be32(cdb[s] + 6, (uint32_t)lba);
			put_be32(cdb[s] + 10, CHUNK / 512);
			rq = (struct storvsc_request){ cdb[s], 16, 0, bufs[s], CHUNK,
				write ? STORVSC_DIR_WRITE : STORVSC_DIR_READ };
			r = storvsc_submit(&sc, &rq, &slot[s].tag);
			if (r == STORVSC_EBUSY)
				break;
			if (r)
				return r;
			slot[s].busy = true;
			slot[s].chunk = next++;
		}
		n = storvsc_reap(&sc, comp, QUEUE_DEPTH, true);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++)
			for (unsigned s = 0; s < QUEUE_DEPTH; s++) {
				if (!slot[s].busy || slot[s].tag != comp[i].tag)
					continue;
				if (comp[i].res.scsi_status != SCSI_STATUS_GOOD ||
				    (comp[i].res.srb_status & 0x3f) != SRB_STATUS_SUCCESS ||
				    comp[i].res.transferred != CHUNK) {
					kprint("# %s of chunk %lu: scsi %#x srb %#x, %u bytes",
					       write ? "write" : "read", slot[s].chunk,
					       comp[i].res.scsi_status, comp[i].res.srb_status,
					       comp[i].res.transferred);
					return -100;
				}
				/* Chunks complete in any order: CRC them in LBA
				 * order by checking each against the pattern and
				 * folding the per-chunk CRCs in order. */
				if (!write) {
					static uint8_t expect[512];
					uint64_t lba0 = slot[s].chunk * (CHUNK / 512);

					for (uint32_t o = 0; o < CHUNK; o += 512) {
						if (o % (64u << 10) == 0)
							service_all();
						pattern_sector(seed, lba0 + o / 512, expect);
						if (memcmp(expect, bufs[s] + o, 512)) {
							kprint("# read back: block %lu differs",
							       lba0 + o / 512);
							return -101;
						}
					}
				}
				crc_by_chunk ^= crc32_update(0, bufs[s], CHUNK) + (uint32_t)slot[s].chunk;
				slot[s].busy = false;
				done++;
			}
	}
	*crc = crc_by_chunk;
	return 0;
}

static void storage_pattern(uint64_t mib, uint64_t seed)
{
	static struct hv_isovisor_exit_counters c0, c1, c2;
	uint8_t *bufs[QUEUE_DEPTH];
	uint8_t sync[10] = { SCSI_SYNCHRONIZE_CACHE_10 };
	struct storvsc_result res;
	uint32_t crc_w = 0, crc_r = 0;
	int rw, rr, rs;
	bool flushed;
	uint64_t ew, er;

	for (unsigned s = 0; s < QUEUE_DEPTH; s++)
		bufs[s] = page_alloc(CHUNK);
	if (!bufs[QUEUE_DEPTH - 1] || capacity < (mib << 11)) {
		tap_result(false, "enlightened storvsc: %lu MiB pattern (no buffers or disk "
			   "of %lu blocks too small)", mib, capacity);
		return;
	}
	hv_exit_counters(0, &c0);
	rw = stream(true, mib, seed, bufs, &crc_w);
	rs = scsi(sync, 10, NULL, 0, STORVSC_DIR_NONE, &res);
	flushed = good(rs, &res);
	hv_exit_counters(0, &c1);
	rr = stream(false, mib, seed, bufs, &crc_r);
	hv_exit_counters(0, &c2);
	ew = io_exits(&c1) - io_exits(&c0);
	er = io_exits(&c2) - io_exits(&c1);
	tap_result(rw == 0 && flushed && rr == 0 && crc_w == crc_r,
		   "enlightened storvsc: %lu MiB pattern (seed %lu) written with WRITE(16), "
		   "flushed with SYNCHRONIZE CACHE, read back with READ(16) and checked "
		   "(CRC %08x; %u KiB requests, %u in flight) (write %d, flush %d, read %d)",
		   mib, seed, crc_r, CHUNK >> 10, QUEUE_DEPTH, rw, rs, rr);
	kprint("# synthetic exits per MiB: write %lu.%02lu, read %lu.%02lu (%lu and %lu "
	       "exits for %lu MiB each, timer interrupts not counted; hypercalls %lu, "
	       "hlt %lu)", ew / mib, ew * 100 / mib % 100, er / mib, er * 100 / mib % 100,
	       ew, er, mib, hv_exit_count(&c2, "hypercall") - hv_exit_count(&c0, "hypercall"),
	       hv_exit_count(&c2, "hlt") - hv_exit_count(&c0, "hlt"));
	tap_result(ew <= mib * 16 && er <= mib * 16,
		   "enlightened storvsc: at most one exit per 64 KiB moved (write %lu, read "
		   "%lu exits for %lu MiB each)", ew, er, mib);
	for (unsigned s = 0; s < QUEUE_DEPTH; s++)
		page_free(bufs[s], CHUNK);
}

static void storage_past_end(void)
{
	static uint8_t buf[4096];
	uint8_t cdb[10] = { SCSI_READ_10 };
	struct storvsc_result res;
	int r;

	put_be32(cdb + 2, (uint32_t)capacity);
	cdb[8] = 8;
	r = scsi(cdb, 10, buf, 4096, STORVSC_DIR_READ, &res);
	tap_result(r == 0 && res.scsi_status == SCSI_STATUS_CHECK_CONDITION &&
		   (res.srb_status & SRB_STATUS_AUTOSENSE_VALID) && res.sense_len >= 14 &&
		   (res.sense[2] & 0xf) == SCSI_SK_ILLEGAL_REQUEST &&
		   res.sense[12] == SCSI_ASC_LBA_OUT_OF_RANGE,
		   "enlightened storvsc: a read past the end (LBA %lu) gets CHECK CONDITION, "
		   "ILLEGAL REQUEST / LBA OUT OF RANGE (scsi %#x srb %#x sense %x/%02x)",
		   capacity, res.scsi_status, res.srb_status, res.sense[2] & 0xf, res.sense[12]);
}

/* ---- measurements ("bench" on the command line) ---------------------------------- */

#define SAMPLES_MAX 4096
static uint64_t samples[SAMPLES_MAX];

static unsigned bench_samples(void)
{
	unsigned n = (unsigned)cmdline_u64(boot.cmdline, "samples=", 1000);

	return n >= 2 && n <= SAMPLES_MAX ? n : 1000;
}

static void bench_hypercall(void)
{
	unsigned n = bench_samples();
	bool ok = true;

	for (unsigned i = 0; i < n; i++) {
		uint64_t t0;

		if (i % 64 == 0)
			service_all();
		t0 = guest_tsc();
		ok &= hv_hypercall_fast0(HVCALL_ISOVISOR_NULL) == HV_STATUS_SUCCESS;
		samples[i] = guest_tsc() - t0;
	}
	samples_print("null_hypercall_cycles", samples, n);
	kprint("# bench tsc_hz %lu hz", hv_rdmsr(HV_X64_MSR_TSC_FREQUENCY));
	tap_result(ok, "enlightened bench: %u null hypercalls succeeded (median %lu TSC cycles)",
		   n, samples[n / 2]);
}

/* 4 KiB reads at queue depth 1 over the first MiB, verified. */
static void bench_small_reads(uint64_t seed)
{
	static uint8_t buf[4096] __attribute__((aligned(4096)));
	static uint8_t want[512];
	unsigned n = bench_samples();
	bool ok = true;

	for (unsigned i = 0; i < n; i++) {
		uint8_t cdb[10] = { SCSI_READ_10 };
		uint32_t lba = (uint32_t)(i * 8 * 37 % 2048);
		struct storvsc_result res;
		uint64_t t0;

		put_be32(cdb + 2, lba);
		cdb[8] = 8;
		service_all();          /* the heartbeat, outside the timing */
		t0 = guest_tsc();
		ok &= good(scsi(cdb, 10, buf, 4096, STORVSC_DIR_READ, &res), &res);
		samples[i] = guest_tsc() - t0;
		pattern_sector(seed, lba, want);
		ok &= !memcmp(buf, want, 512);
	}
	samples_print("syn_read4k_cycles", samples, n);
	tap_result(ok, "enlightened bench: %u reads of 4 KiB at queue depth 1, each checked "
		   "(median %lu, p99 %lu TSC cycles)", n, samples[n / 2], samples[n * 99 / 100]);
}

static void bench_storage(uint64_t mib, uint64_t seed)
{
	static struct hv_isovisor_exit_counters c0, c1, c2;
	uint8_t *bufs[QUEUE_DEPTH];
	uint8_t sync[10] = { SCSI_SYNCHRONIZE_CACHE_10 };
	struct storvsc_result res;
	uint32_t crc_w = 0, crc_r = 0;
	uint64_t t0, t1, t2;
	int rw, rr;

	for (unsigned s = 0; s < QUEUE_DEPTH; s++)
		bufs[s] = page_alloc(CHUNK);
	if (!bufs[QUEUE_DEPTH - 1] || capacity < (mib << 11) || mib < 1) {
		tap_result(false, "enlightened bench: no buffers, or a disk too small");
		return;
	}
	hv_exit_counters(0, &c0);
	t0 = guest_tsc();
	rw = stream(true, mib, seed, bufs, &crc_w);
	if (rw == 0 && !good(scsi(sync, 10, NULL, 0, STORVSC_DIR_NONE, &res), &res))
		rw = -1;
	t1 = guest_tsc();
	hv_exit_counters(0, &c1);
	rr = stream(false, mib, seed, bufs, &crc_r);
	t2 = guest_tsc();
	hv_exit_counters(0, &c2);
	if (rw == 0 && rr == 0) {
		kprint("# bench syn_write_cycles %lu cycles bytes=%lu exits=%lu", t1 - t0,
		       mib << 20, io_exits(&c1) - io_exits(&c0));
		kprint("# bench syn_read_cycles %lu cycles bytes=%lu exits=%lu", t2 - t1,
		       mib << 20, io_exits(&c2) - io_exits(&c1));
	}
	tap_result(rw == 0 && rr == 0 && crc_w == crc_r,
		   "enlightened bench: %lu MiB written, flushed, read back and verified "
		   "through storvsc (write %d, read %d)", mib, rw, rr);
	for (unsigned s = 0; s < QUEUE_DEPTH; s++)
		page_free(bufs[s], CHUNK);
}

/*
 * The same reads as the root's own bench of its disk (kernel/blk.c): the
 * first mib MiB, in CHUNK requests at queue depth 1, only the requests
 * timed (submit to completion); checking the data against the pattern
 * happens between requests, outside the timing, as the root checks its
 * own reads. What the synthetic path adds to the disk itself.
 */
static void bench_read_qd1(uint64_t mib, uint64_t seed)
{
	uint8_t *buf = page_alloc(CHUNK);
	static uint8_t want[512];
	uint64_t cycles = 0, bad = 0, chunks = (mib << 20) / CHUNK;
	int r = 0;

	if (!buf || capacity < (mib << 11) || !chunks) {
		tap_result(false, "enlightened bench: 1 MiB reads at queue depth 1 (no buffer, or "
			   "a disk too small)");
		return;
	}
	for (uint64_t c = 0; c < chunks && !r; c++) {
		uint64_t lba = c * (CHUNK / 512), tag, t0;
		uint8_t cdb[16] = { SCSI_READ_16 };
		struct storvsc_request rq = { cdb, 16, 0, buf, CHUNK, STORVSC_DIR_READ };
		struct storvsc_completion comp;
		int n;

		put_be32(cdb + 6, (uint32_t)lba);
		put_be32(cdb + 10, CHUNK / 512);
		service_all();          /* the heartbeat, outside the timing */
		memset(buf, 0x5a, CHUNK);
		t0 = guest_tsc();
		r = storvsc_submit(&sc, &rq, &tag);
		do
			n = r ? 0 : storvsc_reap(&sc, &comp, 1, true);
		while (!r && n == 0);
		cycles += guest_tsc() - t0;
		if (!r && n < 0)
			r = n;
		if (r)
			break;
		if (comp.tag != tag || comp.res.scsi_status != SCSI_STATUS_GOOD ||
		    (comp.res.srb_status & 0x3f) != SRB_STATUS_SUCCESS ||
		    comp.res.transferred != CHUNK) {
			r = -100;
			break;
		}
		for (uint32_t o = 0; o < CHUNK; o += 512) {
			pattern_sector(seed, lba + o / 512, want);
			bad += memcmp(want, buf + o, 512) != 0;
		}
	}
	if (!r && !bad)
		kprint("# bench syn_read_qd1_cycles %lu cycles bytes=%lu request=%u depth=1", cycles,
		       chunks * CHUNK, CHUNK);
	tap_result(!r && !bad, "enlightened bench: %lu MiB read in %u KiB requests at queue "
		   "depth 1, each checked (%d, %lu blocks differ)", mib, CHUNK >> 10, r, bad);
	page_free(buf, CHUNK);
}

/* 4 KiB reads of the first mib MiB (bench_storage's pattern), QD32_DEPTH
 * in flight, each checked: what a request costs in exits and in the
 * completion interrupts we took (the SINT handler's count; a heartbeat
 * message in the window counts too, about one a second). */
#define QD32_DEPTH 32
#define QD32_BYTES 4096u
_Static_assert(QD32_DEPTH <= STORVSC_MAX_INFLIGHT, "storvsc keeps 32 in flight");

static bool qd32_check(uint64_t seed, uint64_t lba, const uint8_t *buf,
		       const struct storvsc_result *res)
{
	static uint8_t want[512];

	if (res->scsi_status != SCSI_STATUS_GOOD ||
	    (res->srb_status & 0x3f) != SRB_STATUS_SUCCESS || res->transferred != QD32_BYTES)
		return false;
	for (uint32_t o = 0; o < QD32_BYTES; o += 512) {
		pattern_sector(seed, lba + o / 512, want);
		if (memcmp(want, buf + o, 512))
			return false;
	}
	return true;
}

static int qd32_stream(uint64_t requests, uint64_t seed, uint8_t *bufs, uint64_t *max_out)
{
	struct { uint64_t tag, lba; bool busy; } slot[QD32_DEPTH];
	struct storvsc_completion comp[QD32_DEPTH];
	static uint8_t cdb[QD32_DEPTH][10];
	uint64_t next = 0, done = 0, out = 0;

	memset(slot, 0, sizeof(slot));
	*max_out = 0;
	while (done < requests) {
		int n;

		for (unsigned s = 0; s < QD32_DEPTH && next < requests; s++) {
			struct storvsc_request rq;
			uint64_t lba = next * (QD32_BYTES / 512);
			int r;

			if (slot[s].busy)
				continue;
			memset(cdb[s], 0, 10);
			cdb[s][0] = SCSI_READ_10;
			put_be32(cdb[s] + 2, (uint32_t)lba);
			cdb[s][8] = QD32_BYTES / 512;
			rq = (struct storvsc_request){ cdb[s], 10, 0, bufs + s * QD32_BYTES,
				QD32_BYTES, STORVSC_DIR_READ };
			r = storvsc_submit(&sc, &rq, &slot[s].tag);
			if (r == STORVSC_EBUSY)
				break;
			if (r)
				return r;
			slot[s].busy = true;
			slot[s].lba = lba;
			next++;
			if (++out > *max_out)
				*max_out = out;
		}
		n = storvsc_reap(&sc, comp, QD32_DEPTH, true);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++)
			for (unsigned s = 0; s < QD32_DEPTH; s++) {
				if (!slot[s].busy || slot[s].tag != comp[i].tag)
					continue;
				if (!qd32_check(seed, slot[s].lba, bufs + s * QD32_BYTES,
						&comp[i].res)) {
					kprint("# qd32: read at LBA %lu: scsi %#x srb %#x, %u bytes, "
					       "or data differs", slot[s].lba, comp[i].res.scsi_status,
					       comp[i].res.srb_status, comp[i].res.transferred);
					return -101;
				}
				slot[s].busy = false;
				out--;
				done++;
			}
	}
	return 0;
}

static void bench_qd32(uint64_t mib, uint64_t seed)
{
	static struct hv_isovisor_exit_counters c0, c1;
	uint64_t requests = (mib << 20) / QD32_BYTES, max_out = 0, t0, t1, i0, i1;
	uint64_t s0, h0, p0, exits;
	uint8_t *bufs = page_alloc(QD32_DEPTH * QD32_BYTES);
	int r;

	if (!bufs || capacity < (mib << 11) || mib < 1) {
		tap_result(false, "enlightened bench: 4 KiB at queue depth %u (no buffers, or "
			   "a disk too small)", QD32_DEPTH);
		return;
	}
	service_all();
	hv_exit_counters(0, &c0);
	i0 = synic_irq_seq();
	s0 = sc.stats.signals;
	h0 = halts;
	p0 = spin_hits;
	t0 = guest_tsc();
	r = qd32_stream(requests, seed, bufs, &max_out);
	t1 = guest_tsc();
	i1 = synic_irq_seq();
	hv_exit_counters(0, &c1);
	exits = io_exits(&c1) - io_exits(&c0);
	if (r == 0)
		kprint("# bench syn_qd32_4k_cycles %lu cycles requests=%lu exits=%lu irqs=%lu "
		       "bytes=%lu depth=%u max_in_flight=%lu signals=%lu halts=%lu "
		       "spin_hits=%lu", t1 - t0, requests, exits, i1 - i0,
		       requests * QD32_BYTES, QD32_DEPTH, max_out, sc.stats.signals - s0,
		       halts - h0, spin_hits - p0);
	tap_result(r == 0 && max_out == QD32_DEPTH,
		   "enlightened bench: %lu reads of 4 KiB with up to %lu of %u in flight, each "
		   "checked (%d)", requests, max_out, QD32_DEPTH, r);
	/* The interrupt mitigation's goal: a signal per batch, not per
	 * request, and no halt while completions stream in. */
	tap_result(r == 0 && exits * 10 <= requests,
		   "enlightened bench: at most one exit per 10 requests at queue depth %u "
		   "(%lu exits for %lu requests)", QD32_DEPTH, exits, requests);
	page_free(bufs, QD32_DEPTH * QD32_BYTES);
}

static void storage_tests(uint64_t mib, uint64_t seed)
{
	int r;

	if (!st.offer) {
		tap_result(true, "enlightened storvsc: init # SKIP the host offers no synthetic "
			   "disk (no physical disk behind it?)");
		if (cmdline_has(boot.cmdline, "storm")) {
			struct storm_env e = { .vc = &vc, .hb_relid = hb.relid,
					       .sd_relid = sd.relid };

			storm_run(&e);
		}
		return;
	}
	r = chan_open(&st, STOR_RING_BYTES, STOR_RING_BYTES);
	irq_seen = synic_irq_seq();
	if (r == 0)
		r = storvsc_init(&sc, st.ring, st.out_bytes, st.in_bytes, 0, &sc_ops, NULL);
	tap_result(r == 0, "enlightened storvsc: channel %u open over a %u KiB ring, "
		   "protocol %u.%u, up to %u KiB per request (%d)", st.relid,
		   (st.out_bytes + st.in_bytes) >> 10, sc.version >> 8, sc.version & 0xff,
		   sc.max_transfer >> 10, r);
	if (r)
		return;
	storage_identify();
	if (cmdline_has(boot.cmdline, "storm")) {
		struct storm_env e = {
			.vc = &vc, .st_open = true, .st_out = &sc.out, .st_in = &sc.in,
			.st_relid = st.relid, .st_conn = st.conn,
			.st_out_bytes = st.out_bytes, .hb_relid = hb.relid,
			.sd_relid = sd.relid, .capacity = capacity,
		};

		storm_run(&e);
		st.open = false;
		return;
	}
	if (cmdline_has(boot.cmdline, "bench")) {
		bench_storage(mib, boot.seed);
		bench_read_qd1(mib, boot.seed);
		bench_qd32(mib, boot.seed);
		bench_small_reads(boot.seed);
		return;
	}
	storage_pattern(mib, boot.seed);
	storage_past_end();
}

/* ---- hostile: the host must refuse, and only this channel suffers ------------ */

/* A flood of REQUESTOFFERS while we do not read our SynIC: each one
 * causes offers + 1 answers, more than the host can hold for us. The
 * host must make us wait (our HvPostMessage gets INSUFFICIENT_BUFFERS),
 * never drop an answer to a message it took. */
#define FLOOD_POSTS 64

static void flood_test(int offers)
{
	struct vmbus_channel_message_header rq = { .msgtype = CHANNELMSG_REQUESTOFFERS };
	static uint8_t m[VMBUS_CHANNEL_MESSAGE_MAX];
	unsigned posted = 0, refused = 0, got_offers = 0, got_done = 0;
	uint16_t bad = 0;

	for (unsigned i = 0; i < FLOOD_POSTS && !bad; i++) {
		uint16_t r = hv_post_message(vc.msg_conn_id, 1, &rq, sizeof(rq));
		uint64_t until = hv_time_ref_100ns() + 10000;   /* 1 ms */

		if (r == HV_STATUS_SUCCESS)
			posted++;
		else if (r == HV_STATUS_INSUFFICIENT_BUFFERS)
			refused++;
		else
			bad = r;
		while (hv_time_ref_100ns() < until)
			__asm__ volatile("pause");
	}
	/* Now read everything the host sends us, until 2 s pass without a
	 * message (polled: nothing may be left to interrupt a halt). */
	for (uint64_t quiet = hv_time_ref_100ns() + 20000000ull;
	     hv_time_ref_100ns() < quiet;) {
		size_t len = sizeof(m);
		const struct vmbus_channel_message_header *h = (const void *)m;

		if (synic_wait_message(m, &len, 0)) {
			__asm__ volatile("pause");
			continue;
		}
		quiet = hv_time_ref_100ns() + 20000000ull;
		if (len >= sizeof(*h) && h->msgtype == CHANNELMSG_OFFERCHANNEL)
			got_offers++;
		else if (len >= sizeof(*h) && h->msgtype == CHANNELMSG_ALLOFFERS_DELIVERED)
			got_done++;
		else
			vmbus_client_handle_message(&vc, m, len);
	}
	kprint("# flood: %u REQUESTOFFERS posted, %u refused with INSUFFICIENT_BUFFERS; "
	       "%u offers and %u ALLOFFERS_DELIVERED came back (%d offers each)",
	       posted, refused, got_offers, got_done, offers);
	tap_result(!bad && posted > 0 && refused > 0 && got_done == posted &&
		   got_offers == posted * (unsigned)offers,
		   "enlightened hostile: %u REQUESTOFFERS while not reading our SynIC: "
		   "%u taken and every one answered in full, %u refused with "
		   "INSUFFICIENT_BUFFERS, none dropped (status 0x%x)",
		   FLOOD_POSTS, posted, refused, bad);
}

static void hostile_tests(void)
{
	static uint8_t junk[VMBUS_CHANNEL_MESSAGE_MAX];
	struct vmbus_channel_message_header *h = (void *)junk;
	uint64_t not_ours[2] = { (enlightened_mib << 8) + 0x100000, 0xfffffffffull };
	uint32_t handle = 0;
	int r_gpadl, r_again;
	uint8_t tur[6] = { SCSI_TEST_UNIT_READY };
	struct storvsc_result res;
	volatile struct vmbus_ring_header *hdr;
	bool rescinded = false;

	/* Malformed channel messages: an unknown type, a truncated
	 * GPADL_HEADER, an OPENCHANNEL for a relid that does not exist. */
	memset(junk, 0, sizeof(junk));
	h->msgtype = 0x7777;
	vmbus_client_post_raw(&vc, junk, sizeof(*h));
	h->msgtype = CHANNELMSG_GPADL_HEADER;
	vmbus_client_post_raw(&vc, junk, 12);
	h->msgtype = CHANNELMSG_OPENCHANNEL;
	((uint32_t *)junk)[2] = 999;
	vmbus_client_post_raw(&vc, junk, sizeof(struct vmbus_channel_open_channel));
	/* A GPADL naming pages beyond our memory. */
	r_gpadl = vmbus_client_gpadl_create(&vc, st.offer ? st.relid : hb.relid,
					    not_ours, 2, &handle);
	/* The bus still works for us: a fresh offer list. */
	r_again = vmbus_client_request_offers(&vc);
	tap_result(r_gpadl == VMBUS_CLIENT_EREFUSED && r_again > 0,
		   "enlightened hostile: malformed channel messages ignored, a GPADL naming "
		   "pages we do not own refused (%s), the bus still answers (%s)",
		   vmbus_client_strerror(r_gpadl), r_again < 0 ? vmbus_client_strerror(r_again) :
		   "offers listed");
	if (r_again > 0)
		flood_test(r_again);
	else
		tap_result(false, "enlightened hostile: REQUESTOFFERS flood (the bus did not answer)");
	if (!st.open) {
		tap_result(true, "enlightened hostile: corrupt ring # SKIP no storage channel");
		return;
	}
	/* Corrupt ring indices: a write index past the ring. */
	hdr = (volatile struct vmbus_ring_header *)st.ring;
	hdr->write_index = st.out_bytes * 4 + 8;
	hv_signal_event(st.conn);
	for (unsigned i = 0; i < 8 && !rescinded; i++) {
		static uint8_t m[VMBUS_CHANNEL_MESSAGE_MAX];
		size_t len = sizeof(m);

		if (synic_wait_message(m, &len, WAIT_MS))
			break;
		vmbus_client_handle_message(&vc, m, len);
		rescinded = vmbus_client_chan_state(&vc, st.relid) != VMBUS_CLIENT_CHAN_OPEN;
	}
	st.open = false;
	(void)tur;
	(void)res;
	tap_result(rescinded, "enlightened hostile: a ring with a corrupt write index gets "
		   "the storage channel closed by the host (rescind received)");
}

/* ---- the run --------------------------------------------------------------------- */

static bool vmbus_up;

void enlightened_vmbus_tests(void)
{
	uint64_t mib = enlightened_mib;
	const char *why = NULL;
	int r;

	if (!boot.under_isovisor || !hv.present) {
		tap_result(true, "enlightened vmbus: connect and offers # SKIP no TLFS hypervisor");
		return;
	}
	vmbus_client_init(&vc, &client_ops, NULL);
	r = vmbus_client_connect(&vc);
	if (r == 0 && (r = vmbus_client_request_offers(&vc)) > 0)
		r = 0;          /* the number of offers */
	if (r == 0) {
		st.offer = vmbus_client_find_offer(&vc, &scsi_class);
		hb.offer = vmbus_client_find_offer(&vc, &ic_heartbeat_guid);
		sd.offer = vmbus_client_find_offer(&vc, &ic_shutdown_guid);
	}
	tap_result(r == 0, "enlightened vmbus: connected at version %u.%u; offers: "
		   "storage %s, heartbeat %s, shutdown %s (%s)", vc.version >> 16,
		   vc.version & 0xffff, st.offer ? "yes" : "no", hb.offer ? "yes" : "no",
		   sd.offer ? "yes" : "no", vmbus_client_strerror(r));
	if (r)
		return;
	vmbus_up = true;
	if (cmdline_has(boot.cmdline, "bench"))
		bench_hypercall();
	if (hb.offer && (r = ic_open(&hb, IC_SERVICE_HEARTBEAT)))
		why = "heartbeat";
	if (!why && sd.offer && (r = ic_open(&sd, IC_SERVICE_SHUTDOWN)))
		why = "shutdown";
	tap_result(!why, "enlightened ics: heartbeat and shutdown channels open (%s: %s)",
		   why ? why : "all", vmbus_client_strerror(r));
	service_all();
	storage_tests(mib, 0);
	/* The heartbeat runs: the host asks once a second. */
	if (hb.open) {
		for (unsigned i = 0; i < 64 && hb.answered < 4; i++) {
			uint64_t seen = synic_irq_seq();

			service_all();
			if (hb.answered < 4)
				synic_wait_event(seen, WAIT_MS);
		}
		tap_result(hb.answered >= 4, "enlightened ics: heartbeat answered %u host "
			   "requests (negotiation included)", hb.answered);
	}
	if (cmdline_has(boot.cmdline, "hostile") && !cmdline_has(boot.cmdline, "bench"))
		hostile_tests();
	/* "hbstop": go quiet for 8 s, as a hung guest would; the host must
	 * notice and say so. Then answer again. */
	if (cmdline_has(boot.cmdline, "hbstop") && hb.open) {
		uint64_t until = hv_time_ref_100ns() + 8 * 10000000ull;

		kprint("# heartbeat: not answering for 8 s");
		while (hv_time_ref_100ns() < until)
			__asm__ volatile("pause");
		service_all();
	}
}

/* After the TAP plan: the host ends the run through the shutdown IC. */
void enlightened_vmbus_wait_shutdown(void)
{
	if (!vmbus_up || !sd.open)
		return;
	for (unsigned i = 0; i < 256 && !sd.power_off; i++) {
		uint64_t seen = synic_irq_seq();

		service_all();
		if (!sd.power_off)
			synic_wait_event(seen, WAIT_MS);
	}
	if (sd.power_off)
		kprint("# shutdown IC: the host asked us to shut down; powering off");
	else
		kprint("# shutdown IC: no request came");
}
