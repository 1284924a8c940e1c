/*
 * storvsc (vmbus/storvsc.c) against storvsp (vmbus/storvsp.c) in one
 * process, over real rings, as a guest and the root would run them.
 *
 * Guest memory is a memfd of GUEST_PAGES pages mapped twice: once
 * contiguous, the guest's identity map (gpa = offset), and once page by
 * page, shuffled, each page between PROT_NONE guard pages: the root's
 * mappings. The host's ring views are page-vector views over the
 * shuffled pages and its copy callbacks refuse any copy crossing a page,
 * so storvsp walking past a page instead of going through the pfn list
 * faults. Pages can be taken from the guest (owned[] false) to play a
 * guest that hands the host a page it does not own.
 *
 * Events are two flags: the guest's wait() runs the host's poll only when
 * the guest signalled it or the host re-armed itself (a poll that stopped
 * at its budget returns STORVSP_POLL_MORE, and the caller polls again, as
 * vmbus_host_poll does), and returns only when the host signalled the
 * guest; a wait with neither is a lost wakeup (counted, must stay 0).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"
#include "ring.h"
#include "scsidisk.h"
#include "storvsc.h"
#include "storvsp.h"

#define PAGE            4096u
#define GUEST_PAGES     1024u
#define SECTORS         4096u           /* 2 MiB disk */
#define RING_PFN        0u              /* ring GPADL at gpa 0 */
#define BUF_A           64u             /* data buffers: page numbers */
#define BUF_B           400u
#define BUF_Q           700u

/* ---- RAM disk ---------------------------------------------------------- */
static uint8_t disk_mem[SECTORS * 512];
static unsigned flushes;

static int ram_read(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	if (lba >= SECTORS || count > SECTORS - lba)
		return -1;
	memcpy(buf, disk_mem + lba * 512, (size_t)count * 512);
	return 0;
}

static int ram_write(void *ctx, uint64_t lba, unsigned count, const void *buf)
{
	if (lba >= SECTORS || count > SECTORS - lba)
		return -1;
	memcpy(disk_mem + lba * 512, buf, (size_t)count * 512);
	return 0;
}

static int ram_flush(void *ctx)
{
	flushes++;
	return 0;
}

static const struct block_backend ram_backend = {
	NULL, SECTORS, ram_read, ram_write, ram_flush, NULL, NULL,
};

/* The DMA path: a segment's "physical" address is the host pointer
 * dma_pages gave out. Checked: the lengths add up to the request, and
 * each segment lies inside one mapping of guest memory (in the shuffled
 * view, inside one page). A call covering bad_lba fails, moving nothing. */
static uint64_t bad_lba = UINT64_MAX;
static unsigned sg_calls, sg_bad, sg_last_nsegs;
static bool seg_inside(uint64_t addr, uint32_t len);

static int ram_sg(uint64_t lba, unsigned count, const struct blk_seg *segs,
		  unsigned n, bool write)
{
	uint64_t total = 0;
	uint8_t *at = disk_mem + lba * 512;

	sg_calls++;
	sg_last_nsegs = n;
	for (unsigned i = 0; i < n; i++) {
		if (!segs[i].len || !seg_inside(segs[i].addr, segs[i].len))
			sg_bad++;
		total += segs[i].len;
	}
	if (lba >= SECTORS || count > SECTORS - lba || !n ||
	    total != (uint64_t)count * 512) {
		sg_bad++;
		return -1;
	}
	if (bad_lba >= lba && bad_lba < lba + count)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = (uint8_t *)(uintptr_t)segs[i].addr;

		if (write)
			memcpy(at, p, segs[i].len);
		else
			memcpy(p, at, segs[i].len);
		at += segs[i].len;
	}
	return 0;
}

static int ram_read_sg(void *ctx, uint64_t lba, unsigned count,
		       const struct blk_seg *segs, unsigned n)
{
	return ram_sg(lba, count, segs, n, false);
}

static int ram_write_sg(void *ctx, uint64_t lba, unsigned count,
			const struct blk_seg *segs, unsigned n)
{
	return ram_sg(lba, count, segs, n, true);
}

static const struct block_backend ram_sg_backend = {
	NULL, SECTORS, ram_read, ram_write, ram_flush, ram_read_sg, ram_write_sg,
};

/* ---- the two partitions ----------------------------------------------- */
struct env {
	uint8_t *gmem;                  /* guest view, contiguous */
	uint8_t *hpage[GUEST_PAGES];    /* host view, page by page */
	bool owned[GUEST_PAGES];
	void *in_pages[16], *out_pages[16];
	struct vmbus_ring h_in, h_out;
	struct storvsp *sp;
	struct scsidisk disk;
	struct storvsc sc;
	bool host_event, guest_event;
	unsigned lost_wakeups, polls, poll_errors, page_cross, waits, rearms;
	uint64_t gpa_add;               /* virt_to_gpa lies by this much */
	/* The VSP's ops and the disk's backend when (re)created. */
	const struct storvsp_ops *vsp_ops;
	const struct block_backend *backend;
	unsigned copies, dma_calls, dma_pfns;
	bool dma_contiguous;            /* dma_pages gives the guest view */
};

static struct env E;

static int host_copy(uint64_t gpa, void *buf, uint32_t len, bool to_guest)
{
	uint64_t pfn = gpa / PAGE;
	uint32_t off = gpa % PAGE;

	if (!len || off + len > PAGE) {
		E.page_cross++;         /* storvsp must split at pages */
		return -1;
	}
	E.copies++;
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

static int copy_to_guest(void *ctx, uint64_t gpa, const void *buf,
			 uint32_t len)
{
	return host_copy(gpa, (void *)buf, len, true);
}

static void signal_guest(void *ctx)
{
	E.guest_event = true;
}

static void host_log(void *ctx, const char *line)
{
	printf("# %s\n", line);
}

static const struct storvsp_ops vsp_ops = {
	copy_from_guest, copy_to_guest, signal_guest, host_log, NULL,
};

/* A guest page's "host physical address": where this process maps it,
 * page by page (the shuffled view: no two pages adjacent, so nothing
 * merges) or in the contiguous guest view (everything merges). pfns and
 * phys may be the same array. */
static int dma_pages(void *ctx, const uint64_t *pfns, uint32_t n, uint64_t *phys)
{
	E.dma_calls++;
	E.dma_pfns = n;
	if (n > STORVSP_MAX_PFNS)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t pfn = pfns[i];

		if (pfn >= GUEST_PAGES || !E.owned[pfn])
			return -1;
		phys[i] = (uint64_t)(uintptr_t)(E.dma_contiguous ? E.gmem + pfn * PAGE
								 : E.hpage[pfn]);
	}
	return 0;
}

static const struct storvsp_ops vsp_dma_ops = {
	copy_from_guest, copy_to_guest, signal_guest, host_log, dma_pages,
};

static bool seg_inside(uint64_t addr, uint32_t len)
{
	uintptr_t a = (uintptr_t)addr;

	if (E.dma_contiguous)
		return a >= (uintptr_t)E.gmem &&
		       a + len <= (uintptr_t)E.gmem + (size_t)GUEST_PAGES * PAGE;
	for (unsigned i = 0; i < GUEST_PAGES; i++)
		if (a >= (uintptr_t)E.hpage[i] && a + len <= (uintptr_t)E.hpage[i] + PAGE)
			return true;
	return false;
}

/* One poll; one that stopped at its budget re-arms the host, as the
 * root's loop and the monolithic run loop do through vmbus_host_poll. */
static int run_host(void)
{
	int r = storvsp_poll(E.sp);

	E.polls++;
	if (r < 0)
		E.poll_errors++;
	if (r == STORVSP_POLL_MORE) {
		E.rearms++;
		E.host_event = true;
	}
	return r;
}

static void signal_host(void *ctx)
{
	E.host_event = true;
}

/* The guest halts until an event: the host runs when signalled. */
static void guest_wait(void *ctx)
{
	if (++E.waits > 1000000) {
		/* A livelock is a failure, not a hang. */
		printf("Bail out! the guest waited a million times\n");
		exit(1);
	}
	/* The host runs what it has (a re-armed host more than once) before
	 * the guest's halt would sleep. */
	while (E.host_event && !E.guest_event) {
		E.host_event = false;
		run_host();
	}
	if (E.guest_event) {
		E.guest_event = false;
		return;
	}
	/* Nobody will ever wake this guest. Count it, and let the host run
	 * so the test ends. */
	E.lost_wakeups++;
	run_host();
}

static uint64_t virt_to_gpa(void *ctx, const void *va)
{
	return (uint64_t)((const uint8_t *)va - E.gmem) + E.gpa_add;
}

static void guest_log(void *ctx, const char *line)
{
	printf("# %s\n", line);
}

static const struct storvsc_ops vsc_ops = {
	signal_host, guest_wait, virt_to_gpa, guest_log,
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
	region = mmap(NULL, 2 * bytes + PAGE, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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
		/* Odd slots only: a guard page on either side. */
		uint8_t *at = region + (2 * (size_t)perm[i] + 1) * PAGE;

		E.hpage[i] = mmap(at, PAGE, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED, fd, (off_t)i * PAGE);
		if (E.hpage[i] != at)
			abort();
		E.owned[i] = true;
	}
	close(fd);
}

/*
 * The guest formats the rings, the "channel open" gives the host the
 * ring GPADL (pfns RING_PFN..), the host attaches page-vector views and
 * storvsp, then the guest runs the handshake. Returns storvsc_init's.
 */
static int open_channel(unsigned out_data, unsigned in_data,
			uint16_t max_version)
{
	size_t out_bytes = (size_t)(1 + out_data) * PAGE;
	size_t in_bytes = (size_t)(1 + in_data) * PAGE;
	uint8_t *ring = E.gmem + RING_PFN * PAGE;
	unsigned in_pfn = RING_PFN + 1 + out_data;

	if (vmbus_ring_format(ring, out_bytes) ||
	    vmbus_ring_format(ring + out_bytes, in_bytes))
		abort();
	for (unsigned i = 0; i < out_data; i++)
		E.in_pages[i] = E.hpage[RING_PFN + 1 + i];
	for (unsigned i = 0; i < in_data; i++)
		E.out_pages[i] = E.hpage[in_pfn + 1 + i];
	if (vmbus_ring_init_pages(&E.h_in, E.hpage[RING_PFN], E.in_pages,
				  out_data) ||
	    vmbus_ring_init_pages(&E.h_out, E.hpage[in_pfn], E.out_pages,
				  in_data))
		abort();
	/* First time: the partition's VSP; later, the same VSP again. */
	if (E.sp->state == STORVSP_DETACHED) {
		scsidisk_init(&E.disk, E.backend, "STOR-42");
		if (storvsp_init(E.sp, &E.disk, E.vsp_ops, NULL))
			abort();
	}
	storvsp_attach(E.sp, &E.h_in, &E.h_out);
	E.host_event = E.guest_event = false;
	return storvsc_init(&E.sc, ring, out_bytes, in_bytes, max_version,
			    &vsc_ops, NULL);
}

/* ---- helpers ------------------------------------------------------------ */
static struct storvsc_result res;

static int run(const uint8_t *cdb, uint8_t cdb_len, uint8_t lun, void *data,
	       uint32_t len, enum storvsc_dir dir)
{
	struct storvsc_request req = { cdb, cdb_len, lun, data, len, dir };

	memset(&res, 0xcc, sizeof(res));
	return storvsc_execute(&E.sc, &req, &res);
}

#define RUN(lun, data, len, dir, ...) ({                                  \
	static const uint8_t cdb_[] = { __VA_ARGS__ };                     \
	run(cdb_, sizeof(cdb_), lun, data, len, dir);                      \
})

static bool good(uint32_t transferred)
{
	return res.scsi_status == SCSI_STATUS_GOOD &&
	       res.srb_status == SRB_STATUS_SUCCESS &&
	       res.transferred == transferred;
}

static bool sense_is(uint8_t key, uint8_t asc)
{
	return res.scsi_status == SCSI_STATUS_CHECK_CONDITION &&
	       SRB_STATUS(res.srb_status) == SRB_STATUS_ERROR &&
	       (res.srb_status & SRB_STATUS_AUTOSENSE_VALID) &&
	       res.sense_len >= 14 && (res.sense[0] & 0x7f) == 0x70 &&
	       (res.sense[2] & 0x0f) == key && res.sense[12] == asc;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint8_t pattern(uint32_t seed, uint32_t i)
{
	return (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* READ/WRITE(10) or (16) of `blocks` at lba. */
static int rw(bool write, bool sixteen, uint64_t lba, uint32_t blocks,
	      void *buf, uint32_t len)
{
	uint8_t cdb[16] = { 0 };
	uint8_t n;

	if (sixteen) {
		cdb[0] = write ? SCSI_WRITE_16 : SCSI_READ_16;
		put_be32(&cdb[2], (uint32_t)(lba >> 32));
		put_be32(&cdb[6], (uint32_t)lba);
		put_be32(&cdb[10], blocks);
		n = 16;
	} else {
		cdb[0] = write ? SCSI_WRITE_10 : SCSI_READ_10;
		put_be32(&cdb[2], (uint32_t)lba);
		cdb[7] = (uint8_t)(blocks >> 8);
		cdb[8] = (uint8_t)blocks;
		n = 10;
	}
	return run(cdb, n, 0, buf, len,
		   write ? STORVSC_DIR_WRITE : STORVSC_DIR_READ);
}

/* The first packet waiting in the guest->host ring, through a view of
 * our own (peek does not change the ring): its length, or <= 0. */
static int first_packet(struct vmbus_pkt_desc *d)
{
	static uint8_t buf[4096];
	struct vmbus_ring r;
	int len;

	if (vmbus_ring_init_pages(&r, E.hpage[RING_PFN], E.in_pages,
				  E.h_in.size / PAGE))
		return -1;
	len = vmbus_ring_peek(&r, buf, sizeof(buf));
	if (len > 0)
		memcpy(d, buf, sizeof(*d));
	return len;
}

/* ---- tests --------------------------------------------------------------- */
static void test_handshake(void)
{
	CHECK(open_channel(2, 2, 0) == 0, "handshake completes");
	CHECK(E.sc.version == VMSTOR_PROTO_VERSION_WIN10 &&
	      E.sp->version == VMSTOR_PROTO_VERSION_WIN10,
	      "both ends agree on WIN10 (6.2), the first Linux offers");
	CHECK(E.sc.max_transfer == STORVSP_MAX_TRANSFER,
	      "max transfer from QUERY_PROPERTIES: %u", E.sc.max_transfer);
	CHECK(E.sp->state == STORVSP_READY && E.sp->stats.rejected == 0,
	      "host ready after END_INITIALIZATION, nothing rejected");
	CHECK(E.lost_wakeups == 0 && E.poll_errors == 0,
	      "handshake: no lost wakeup, no poll error");
}

static void test_inquiry(void)
{
	uint8_t *b = E.gmem + BUF_A * PAGE + 7;
	bool has80 = false, has83 = false, hasb0 = false;

	int err = RUN(0, b, 96, STORVSC_DIR_READ, SCSI_INQUIRY, 0, 0, 0, 96, 0);

	CHECK(err == 0 && good(36) && b[0] == 0 && b[4] == 31 &&
	      !memcmp(b + 8, "isovisor", 8),
	      "INQUIRY: direct-access device, vendor isovisor, 36 of 96 bytes");
	CHECK(RUN(0, b, 255, STORVSC_DIR_READ, SCSI_INQUIRY, 1, 0, 0, 255, 0)
	      == 0 && good(4u + b[3]) && b[1] == 0,
	      "INQUIRY VPD 0x00: short transfer reported");
	for (unsigned i = 0; i < b[3]; i++) {
		has80 |= b[4 + i] == 0x80;
		has83 |= b[4 + i] == 0x83;
		hasb0 |= b[4 + i] == 0xb0;
	}
	CHECK(has80 && has83 && hasb0, "VPD 0x00 lists 0x80, 0x83, 0xb0");
	CHECK(RUN(0, b, 255, STORVSC_DIR_READ, SCSI_INQUIRY, 1, 0x80, 0, 255, 0)
	      == 0 && good(4u + b[3]) && b[1] == 0x80 && b[3] == 7 &&
	      !memcmp(b + 4, "STOR-42", 7), "INQUIRY VPD 0x80: the serial");
	CHECK(RUN(0, b, 255, STORVSC_DIR_READ, SCSI_INQUIRY, 1, 0x83, 0, 255, 0)
	      == 0 && res.scsi_status == 0 && b[1] == 0x83 && b[3] >= 12,
	      "INQUIRY VPD 0x83: designators");
	CHECK(RUN(0, b, 255, STORVSC_DIR_READ, SCSI_INQUIRY, 1, 0xb0, 0, 255, 0)
	      == 0 && res.scsi_status == 0 && b[1] == 0xb0,
	      "INQUIRY VPD 0xb0: block limits");
}

static void test_simple_commands(void)
{
	uint8_t *b = E.gmem + BUF_A * PAGE + 4090;      /* across a page */
	unsigned f = flushes;

	CHECK(RUN(0, NULL, 0, STORVSC_DIR_NONE, SCSI_TEST_UNIT_READY,
		  0, 0, 0, 0, 0) == 0 && good(0),
	      "TEST UNIT READY: inband, GOOD");
	CHECK(RUN(0, b, 8, STORVSC_DIR_READ, SCSI_READ_CAPACITY_10,
		  0, 0, 0, 0, 0, 0, 0, 0, 0) == 0 && good(8) &&
	      be32(b) == SECTORS - 1 && be32(b + 4) == 512,
	      "READ CAPACITY(10): last LBA, 512-byte blocks");
	CHECK(RUN(0, b, 32, STORVSC_DIR_READ, SCSI_SERVICE_ACTION_IN_16,
		  SCSI_SAI_READ_CAPACITY_16, 0, 0, 0, 0, 0, 0, 0, 0,
		  0, 0, 0, 32, 0, 0) == 0 && good(32) && be32(b) == 0 &&
	      be32(b + 4) == SECTORS - 1 && be32(b + 8) == 512,
	      "READ CAPACITY(16)");
	CHECK(RUN(0, NULL, 0, STORVSC_DIR_NONE, SCSI_SYNCHRONIZE_CACHE_10,
		  0, 0, 0, 0, 0, 0, 0, 0, 0) == 0 && good(0) &&
	      flushes == f + 1, "SYNCHRONIZE CACHE reaches the backend's flush");
	CHECK(RUN(0, b, 16, STORVSC_DIR_READ, SCSI_REPORT_LUNS, 0, 0, 0, 0, 0,
		  0, 0, 0, 16, 0, 0) == 0 && good(16) && be32(b) == 8 &&
	      be32(b + 8) == 0 && be32(b + 12) == 0,
	      "REPORT LUNS: LUN 0 only");
	CHECK(RUN(0, b, 192, STORVSC_DIR_READ, SCSI_MODE_SENSE_6, 0, 0x3f, 0,
		  192, 0) == 0 && res.scsi_status == 0 &&
	      res.transferred == b[0] + 1u && b[0] > 3,
	      "MODE SENSE(6) all pages");
	CHECK(RUN(0, b, 512, STORVSC_DIR_READ, SCSI_READ_10, 0, 0, 0, 0x10, 0,
		  0, 0, 1, 0) == 0 && sense_is(SCSI_SK_ILLEGAL_REQUEST,
					       SCSI_ASC_LBA_OUT_OF_RANGE),
	      "READ past the end: CHECK CONDITION, ILLEGAL REQUEST, ASC 0x21 "
	      "in the sense area");
	CHECK(res.transferred == 0 && res.sense_len == 18,
	      "  no data moved, 18 bytes of sense");
	memset(b, 0, 36);
	CHECK(RUN(1, b, 36, STORVSC_DIR_READ, SCSI_INQUIRY, 0, 0, 0, 36, 0)
	      == 0 && res.srb_status == SRB_STATUS_SUCCESS && b[0] == 0x7f &&
	      res.transferred >= 5, "LUN 1: INQUIRY says peripheral qualifier 3, "
	      "no device (Linux's storvsc takes any INQUIRY as answered)");
	CHECK(RUN(1, b, 512, STORVSC_DIR_READ, SCSI_READ_10, 0, 0, 0, 0, 0,
		  0, 0, 1, 0) == 0 && res.srb_status == SRB_STATUS_INVALID_LUN &&
	      res.transferred == 0, "LUN 1: a READ gets SRB_STATUS_INVALID_LUN");
}

static void test_read_write(void)
{
	/* 37 blocks from 100 bytes into a page: 6 pages touched. */
	uint32_t len = 37 * 512;
	uint8_t *a = E.gmem + BUF_A * PAGE + 100;
	uint8_t *b = E.gmem + BUF_B * PAGE + 3000;
	uint64_t w0 = E.sp->stats.bytes_written, r0 = E.sp->stats.bytes_read;
	bool same;

	for (uint32_t i = 0; i < len; i++)
		a[i] = pattern(1, i);
	CHECK(rw(true, false, 50, 37, a, len) == 0 && good(len),
	      "WRITE(10) of 37 blocks from an unaligned 6-page buffer");
	CHECK(!memcmp(disk_mem + 50 * 512, a, len), "  the disk holds them");
	memset(b, 0, len);
	CHECK(rw(false, false, 50, 37, b, len) == 0 && good(len) &&
	      !memcmp(a, b, len), "READ(10) into another unaligned buffer: equal");

	for (uint32_t i = 0; i < len; i++)
		a[i] = pattern(2, i);
	CHECK(rw(true, true, SECTORS - 37, 37, a, len) == 0 && good(len),
	      "WRITE(16) of the last 37 blocks");
	memset(b, 0, len);
	same = rw(false, true, SECTORS - 37, 37, b, len) == 0 && good(len) &&
	       !memcmp(a, b, len);
	CHECK(same, "READ(16) reads them back");
	CHECK(E.sp->stats.bytes_written - w0 == 2 * len &&
	      E.sp->stats.bytes_read - r0 == 2 * len,
	      "host stats: %u bytes each way",
	      (unsigned)(E.sp->stats.bytes_read - r0));

	/* The largest transfer: 1 MiB from an unaligned address, 257 pfns. */
	len = STORVSP_MAX_TRANSFER;
	for (uint32_t i = 0; i < len; i++)
		a[i] = pattern(3, i);
	CHECK(rw(true, false, 0, len / 512, a, len) == 0 && good(len) &&
	      !memcmp(disk_mem, a, len), "WRITE of 1 MiB over 257 pages");
	memset(b - 2000, 0, len);
	CHECK(rw(false, false, 0, len / 512, b - 2000, len) == 0 && good(len) &&
	      !memcmp(a, b - 2000, len), "READ of 1 MiB");
	CHECK(rw(false, false, 0, len / 512 + 1, b, len + 512) ==
	      STORVSC_EINVAL, "more than max_transfer: refused by storvsc");
	CHECK(E.page_cross == 0, "the host never copied across a page");
}

/* Pages the guest does not own, or gpas beyond its memory. */
static void test_not_owned(void)
{
	uint8_t *a = E.gmem + BUF_A * PAGE + 512;
	uint32_t len = 16 * 512;
	uint64_t faults = E.sp->stats.guest_faults;

	memset(disk_mem + 200 * 512, 0x5a, len);
	memset(a, 0x11, len);
	E.owned[BUF_A + 1] = false;
	CHECK(rw(true, false, 200, 16, a, len) == 0 &&
	      res.srb_status == SRB_STATUS_ERROR && res.transferred == 0,
	      "WRITE from a page the guest does not own: SRB_STATUS_ERROR");
	CHECK(disk_mem[200 * 512] == 0x5a, "  and the disk is untouched");
	CHECK(rw(false, false, 200, 16, a, len) == 0 &&
	      res.srb_status == SRB_STATUS_ERROR && res.transferred == 0,
	      "READ into it: SRB_STATUS_ERROR");
	E.owned[BUF_A + 1] = true;
	E.gpa_add = 1ull << 40;
	CHECK(rw(false, false, 200, 16, a, len) == 0 &&
	      res.srb_status == SRB_STATUS_ERROR,
	      "READ into a gpa 1 TiB up: SRB_STATUS_ERROR");
	E.gpa_add = 0xfff0000000000000ull;
	CHECK(rw(true, false, 200, 16, a, len) == 0 &&
	      res.srb_status == SRB_STATUS_ERROR,
	      "pfns near 2^52: SRB_STATUS_ERROR, no overflow");
	E.gpa_add = 0;
	CHECK(E.sp->stats.guest_faults - faults == 4 && E.poll_errors == 0,
	      "4 guest faults counted, channel still open");
	CHECK(rw(false, false, 200, 16, a, len) == 0 && good(len) &&
	      a[0] == 0x5a, "the next request works");
}

/* Queue depth 8: submits back to back, one signal, completions by tag. */
static void test_queue_depth(void)
{
	uint64_t tag[8];
	uint8_t *buf[8];
	struct storvsc_completion done[8];
	uint64_t sig0 = E.sc.stats.signals;
	unsigned got = 0, bad = 0, seen = 0;

	for (unsigned i = 0; i < 8; i++)
		for (uint32_t j = 0; j < 8 * 512; j++)
			disk_mem[(1000 + 16 * i) * 512 + j] = pattern(10 + i, j);
	for (unsigned i = 0; i < 8; i++) {
		struct storvsc_request req = {
			NULL, 10, 0, NULL, 8 * 512, STORVSC_DIR_READ,
		};
		static uint8_t cdb[8][10];

		buf[i] = E.gmem + (BUF_Q + 3 * i) * PAGE + 8 * i;
		memset(buf[i], 0, 8 * 512);
		cdb[i][0] = SCSI_READ_10;
		put_be32(&cdb[i][2], 1000 + 16 * i);
		cdb[i][8] = 8;
		req.cdb = cdb[i];
		req.data = buf[i];
		if (storvsc_submit(&E.sc, &req, &tag[i]))
			bad++;
	}
	CHECK(!bad, "8 requests submitted without waiting");
	CHECK(E.sc.stats.signals == sig0 && E.sc.kick_pending && !E.host_event,
	      "the batch's signal waits for the kick: %u sent",
	      (unsigned)(E.sc.stats.signals - sig0));
	storvsc_kick(&E.sc);
	CHECK(E.sc.stats.signals - sig0 == 1 && E.host_event && !E.sc.kick_pending,
	      "one signal for 8 requests (empty -> non-empty only): %u",
	      (unsigned)(E.sc.stats.signals - sig0));
	storvsc_kick(&E.sc);
	CHECK(E.sc.stats.signals - sig0 == 1, "a second kick with nothing new: no signal");
	while (got < 8) {
		int n = storvsc_reap(&E.sc, done, 8, true);

		if (n <= 0)
			break;
		for (int k = 0; k < n; k++) {
			unsigned i;

			for (i = 0; i < 8 && tag[i] != done[k].tag; i++)
				;
			if (i == 8 || (seen & (1u << i)) ||
			    done[k].res.srb_status != SRB_STATUS_SUCCESS ||
			    done[k].res.transferred != 8 * 512) {
				bad++;
				continue;
			}
			seen |= 1u << i;
			for (uint32_t j = 0; j < 8 * 512; j++)
				if (buf[i][j] != pattern(10 + i, j)) {
					bad++;
					break;
				}
		}
		got += (unsigned)n;
	}
	CHECK(got == 8 && seen == 0xff && !bad,
	      "8 completions, each matched by trans_id to its buffer's data");
	CHECK(storvsc_reap(&E.sc, done, 8, true) == 0,
	      "reap with nothing in flight returns 0");
}

/* 60 requests against a host->guest ring that holds 46 completions. */
static void test_backpressure(void)
{
	static const uint8_t tur[6] = { SCSI_TEST_UNIT_READY };
	struct storvsc_request req = { tur, 6, 0, NULL, 0, STORVSC_DIR_NONE };
	struct storvsc_completion done[64];
	uint64_t tag[60], full0, pk0;
	unsigned got = 0, bad = 0;
	unsigned long long seen = 0;

	CHECK(open_channel(2, 1, 0) == 0, "reopen: 1-page host->guest ring");
	full0 = E.sp->stats.ring_full;
	pk0 = E.sp->stats.packets;
	for (unsigned i = 0; i < 60; i++)
		if (storvsc_submit(&E.sc, &req, &tag[i]))
			bad++;
	CHECK(!bad, "60 requests queued");
	E.host_event = false;
	/* 47 packets: three polls of the budget (16, 16, 15), the last one
	 * stopped by the full ring, not by the budget. */
	CHECK(run_host() == STORVSP_POLL_MORE && run_host() == STORVSP_POLL_MORE &&
	      run_host() == STORVSP_POLL_DONE,
	      "the budget splits it: more, more, then done (stalled)");
	E.host_event = false;
	CHECK(E.sp->stalled && E.sp->stats.ring_full == full0 + 1 &&
	      E.sp->stats.packets == pk0 + 47,
	      "host stops at a full ring with one completion kept (%u packets)",
	      (unsigned)(E.sp->stats.packets - pk0));
	CHECK(E.h_in.hdr->interrupt_mask == 0,
	      "stalled: unmasked (the guest's signal for room wakes us)");
	CHECK(vmbus_ring_avail_read(&E.h_in) > 0,
	      "the rest stays in the guest->host ring");
	run_host();
	CHECK(E.sp->stalled && E.sp->stats.packets == pk0 + 47,
	      "polling again without room changes nothing");
	while (got < 60) {
		int n = storvsc_reap(&E.sc, done, 64, true);

		if (n <= 0)
			break;
		for (int k = 0; k < n; k++) {
			unsigned i;

			for (i = 0; i < 60 && tag[i] != done[k].tag; i++)
				;
			if (i == 60 || (seen & (1ull << i)) ||
			    done[k].res.srb_status != SRB_STATUS_SUCCESS)
				bad++;
			else
				seen |= 1ull << i;
		}
		got += (unsigned)n;
	}
	CHECK(got == 60 && !bad && seen == (1ull << 60) - 1,
	      "all 60 complete once each: none dropped");
	CHECK(!E.sp->stalled && E.lost_wakeups == 0,
	      "the guest's reads woke the host (pending_send_sz), no lost wakeup");
}

/* One TEST UNIT READY as a raw in-band packet asking for a completion. */
static void tur_packet(void *pkt, uint64_t trans_id)
{
	struct {
		struct vmbus_pkt_desc d;
		struct vstor_packet vp;
	} *p = pkt;

	memset(p, 0, sizeof(*p));
	p->d = (struct vmbus_pkt_desc){ VMBUS_PKT_DATA_INBAND, 2, 10,
					VMBUS_PKT_FLAG_COMPLETION_REQUESTED,
					trans_id };
	p->vp.operation = VSTOR_OPERATION_EXECUTE_SRB;
	p->vp.vm_srb.cdb_length = 6;
	p->vp.vm_srb.cdb[0] = SCSI_TEST_UNIT_READY;
}

/* The guest reads every completion waiting: how many, and whether their
 * trans_ids are next, next + 1, ... (each answered once, in order). */
static unsigned read_completions(uint64_t *next, unsigned *bad)
{
	static uint8_t buf[4096];
	unsigned n = 0;
	int len;
	bool sig;

	while ((len = vmbus_ring_peek(&E.sc.in, buf, sizeof(buf))) > 0) {
		struct vmbus_pkt_desc d;
		struct vstor_packet vp;

		memcpy(&d, buf, sizeof(d));
		memcpy(&vp, buf + d.offset8 * 8, sizeof(vp));
		if (d.type != VMBUS_PKT_COMP || d.trans_id != *next ||
		    vp.status || vp.vm_srb.srb_status != SRB_STATUS_SUCCESS)
			(*bad)++;
		(*next)++;
		n++;
		vmbus_ring_consume(&E.sc.in, (uint32_t)len, &sig);
	}
	return n;
}

/*
 * The per-poll budget: a full guest->host ring is served in several
 * polls, each but the last reporting STORVSP_POLL_MORE with the ring
 * still masked; every packet is answered once, in order; the guest is
 * signalled once for the batch; a packet written while the host is
 * between polls is taken without a signal, and after the last poll the
 * ring is unmasked so the next packet signals again.
 */
static void test_budget(void)
{
	uint8_t pkt[80];
	struct vmbus_iov iov = { pkt, sizeof(pkt) };
	uint64_t sig0, stops0, next = 1000;
	unsigned n = 0, polls = 0, masked = 0, bad = 0, got;
	bool sig, first_sig = false, later_sig = false;
	int r;

	CHECK(open_channel(2, 4, 0) == 0, "budget: guest->host ring of 2 pages");
	CHECK(E.sp->budget == STORVSP_POLL_BUDGET, "default budget %u packets",
	      E.sp->budget);
	for (;;) {
		tur_packet(pkt, 1000 + n);
		if (vmbus_ring_write(&E.sc.out, &iov, 1, &sig))
			break;
		if (n == 0)
			first_sig = sig;
		else
			later_sig |= sig;
		n++;
	}
	CHECK(n > 3 * STORVSP_POLL_BUDGET && first_sig && !later_sig,
	      "ring full with %u requests; only the first signalled", n);
	sig0 = E.sp->stats.signals;
	stops0 = E.sp->stats.budget_stops;
	E.guest_event = false;
	while ((r = storvsp_poll(E.sp)) == STORVSP_POLL_MORE) {
		polls++;
		if (E.h_in.hdr->interrupt_mask == 1 &&
		    vmbus_ring_avail_read(&E.h_in) > 0)
			masked++;
		if (polls > n)
			break;
	}
	polls++;
	CHECK(r == STORVSP_POLL_DONE &&
	      polls == (n + STORVSP_POLL_BUDGET - 1) / STORVSP_POLL_BUDGET,
	      "served in %u polls of at most %u packets", polls,
	      STORVSP_POLL_BUDGET);
	CHECK(masked == polls - 1 &&
	      E.sp->stats.budget_stops - stops0 == polls - 1,
	      "each early stop said 'more to do' with packets left, ring masked");
	CHECK(E.h_in.hdr->interrupt_mask == 0 &&
	      vmbus_ring_avail_read(&E.h_in) == 0,
	      "after the last poll: ring empty and unmasked");
	got = read_completions(&next, &bad);
	CHECK(got == n && !bad,
	      "%u completions, each request answered once, in order", got);
	CHECK(E.sp->stats.signals - sig0 == 1 && E.guest_event,
	      "one signal to the guest for the whole batch");

	/* A packet arriving between two polls of a batch. */
	for (n = 0; n < 40; n++) {
		tur_packet(pkt, next + n);
		vmbus_ring_write(&E.sc.out, &iov, 1, &sig);
	}
	CHECK(storvsp_poll(E.sp) == STORVSP_POLL_MORE &&
	      E.h_in.hdr->interrupt_mask == 1, "40 more: the first poll stops early");
	tur_packet(pkt, next + n++);
	CHECK(vmbus_ring_write(&E.sc.out, &iov, 1, &sig) == 0 && !sig,
	      "a packet written meanwhile: no signal (masked, not empty)");
	polls = 1;
	do
		r = storvsp_poll(E.sp);
	while (++polls < 100 && r == STORVSP_POLL_MORE);
	got = read_completions(&next, &bad);
	CHECK(polls == 3 && got == 41 && !bad,
	      "the re-polls take it: 41 answered in order in %u polls", polls);
	tur_packet(pkt, next);
	CHECK(vmbus_ring_write(&E.sc.out, &iov, 1, &sig) == 0 && sig,
	      "after the batch the next packet signals again");
	CHECK(storvsp_poll(E.sp) == STORVSP_POLL_DONE &&
	      read_completions(&next, &bad) == 1 && !bad, "and is answered");

	/* storvsc at full queue depth against a budget of 1: every wait of
	 * the guest is ended by a re-armed host, none lost. */
	E.sp->budget = 1;
	{
		static const uint8_t tur[6] = { SCSI_TEST_UNIT_READY };
		struct storvsc_request req = { tur, 6, 0, NULL, 0,
					       STORVSC_DIR_NONE };
		struct storvsc_completion done[64];
		uint64_t tag;
		unsigned sub = 0, reaped = 0, lost0 = E.lost_wakeups,
			 rearm0 = E.rearms;

		while (sub < STORVSC_MAX_INFLIGHT &&
		       storvsc_submit(&E.sc, &req, &tag) == 0)
			sub++;
		while (reaped < sub) {
			int k = storvsc_reap(&E.sc, done, 64, true);

			if (k <= 0)
				break;
			reaped += (unsigned)k;
		}
		CHECK(sub == STORVSC_MAX_INFLIGHT && reaped == sub &&
		      E.lost_wakeups == lost0 && E.rearms - rearm0 >= sub - 1,
		      "budget 1, %u in flight: all reaped, %u re-arms, no lost "
		      "wakeup", sub, E.rearms - rearm0);
	}
	E.sp->budget = STORVSP_POLL_BUDGET;
}

/* A synchronous request behind a full guest->host ring waits for room. */
static void test_outbound_full(void)
{
	static const uint8_t tur[6] = { SCSI_TEST_UNIT_READY };
	struct storvsc_request req = { tur, 6, 0, NULL, 0, STORVSC_DIR_NONE };
	struct storvsc_completion done[64];
	uint64_t tag;
	unsigned n = 0, got = 0;
	int err;

	CHECK(open_channel(1, 2, 0) == 0, "reopen: 1-page guest->host ring");
	while ((err = storvsc_submit(&E.sc, &req, &tag)) == 0)
		n++;
	CHECK(err == STORVSC_EBUSY && n == 46 && E.sc.stats.ring_full == 1,
	      "46 requests fill it: EBUSY, not an error");
	CHECK(run(tur, 6, 0, NULL, 0, STORVSC_DIR_NONE) == 0 && good(0),
	      "storvsc_execute behind them waits for room, then completes");
	while (got < n) {
		int k = storvsc_reap(&E.sc, done, 64, true);

		if (k <= 0)
			break;
		got += (unsigned)k;
	}
	CHECK(got == n && E.lost_wakeups == 0,
	      "the 46 queued ones are reaped, no lost wakeup");
}

/* Linux before 5.19 could settle on WIN7: 52-byte packets both ways. */
static void test_pre_win8(void)
{
	uint8_t *a = E.gmem + BUF_A * PAGE + 1000;
	struct storvsc_request req = { NULL, 10, 0, a, 4096, STORVSC_DIR_READ };
	static const uint8_t rd[10] = { SCSI_READ_10, 0, 0, 0, 0, 3, 0, 0, 8, 0 };
	struct vmbus_pkt_desc d;
	uint64_t tag;
	struct storvsc_completion c;
	int len;

	CHECK(open_channel(2, 2, VMSTOR_PROTO_VERSION_WIN7) == 0 &&
	      E.sc.version == VMSTOR_PROTO_VERSION_WIN7 &&
	      E.sp->pkt_size == 52, "WIN7 negotiated: 52-byte vstor packets");
	req.cdb = rd;
	memcpy(disk_mem + 3 * 512, "win7", 4);
	CHECK(storvsc_submit(&E.sc, &req, &tag) == 0, "WIN7: READ submitted");
	len = first_packet(&d);
	CHECK(len == 32 + 2 * 8 + 56 && d.type == VMBUS_PKT_DATA_USING_GPA_DIRECT &&
	      d.offset8 == 6 && d.flags == VMBUS_PKT_FLAG_COMPLETION_REQUESTED,
	      "  on the wire: GPA direct, 2 pfns, 52-byte payload (%d)", len);
	CHECK(storvsc_reap(&E.sc, &c, 1, true) == 1 &&
	      c.res.srb_status == SRB_STATUS_SUCCESS && !memcmp(a, "win7", 4),
	      "  completes with the data");
	CHECK(RUN(0, a, 512, STORVSC_DIR_READ, SCSI_READ_10, 0, 0, 0, 0x10, 0,
		  0, 0, 1, 0) == 0 && sense_is(SCSI_SK_ILLEGAL_REQUEST, 0x21) &&
	      res.sense_len == 18, "WIN7: sense cut to the 0x12-byte area");

	CHECK(open_channel(2, 2, 0) == 0, "back to WIN10");
	req.len = 0;
	req.data = NULL;
	req.dir = STORVSC_DIR_NONE;
	CHECK(storvsc_submit(&E.sc, &req, &tag) == 0 && first_packet(&d) ==
	      16 + 64 && d.type == VMBUS_PKT_DATA_INBAND && d.offset8 == 2,
	      "WIN10 inband request: 16 + 64 bytes, as Linux sends");
	storvsc_reap(&E.sc, &c, 1, true);
}

/* ---- raw packets: what a hostile or broken guest sends ------------------ */

/* Send one raw packet on the guest->host ring, poll, take the reply. */
static int raw(const void *pkt, uint32_t len, struct vstor_packet *reply,
	       uint64_t *trans_id)
{
	static uint8_t buf[4096];
	struct vmbus_iov iov = { pkt, len };
	struct vmbus_pkt_desc d;
	bool sig;
	int n, err;

	if (vmbus_ring_write(&E.sc.out, &iov, 1, &sig))
		return -100;
	err = storvsp_poll(E.sp);
	if (err)
		return err;
	n = vmbus_ring_peek(&E.sc.in, buf, sizeof(buf));
	if (n <= 0)
		return 1;               /* no reply */
	vmbus_ring_consume(&E.sc.in, (uint32_t)n, &sig);
	memcpy(&d, buf, sizeof(d));
	memset(reply, 0, sizeof(*reply));
	memcpy(reply, buf + d.offset8 * 8, (uint32_t)n - d.offset8 * 8u > 64 ?
	       64 : (uint32_t)n - d.offset8 * 8u);
	*trans_id = d.trans_id;
	return d.type == VMBUS_PKT_COMP ? 0 : 2;
}

struct raw_gpa {
	struct vmbus_pkt_gpa_direct g;
	uint64_t pfn[3];
	struct vstor_packet vp;
} __attribute__((packed));

static void raw_srb(struct raw_gpa *p, uint32_t byte_count, uint32_t offset,
		    uint32_t npfn)
{
	memset(p, 0, sizeof(*p));
	p->g.desc.type = VMBUS_PKT_DATA_USING_GPA_DIRECT;
	p->g.desc.offset8 = (uint16_t)((32 + 8 * npfn) / 8);
	p->g.desc.len8 = sizeof(*p) / 8;
	p->g.desc.flags = VMBUS_PKT_FLAG_COMPLETION_REQUESTED;
	p->g.desc.trans_id = 0x1234;
	p->g.rangecount = 1;
	p->g.byte_count = byte_count;
	p->g.byte_offset = offset;
	for (unsigned i = 0; i < 3; i++)
		p->pfn[i] = BUF_A + i;
	/* The vstor packet right after the pfns the descriptor counts. */
	p->vp.operation = VSTOR_OPERATION_EXECUTE_SRB;
	p->vp.vm_srb.cdb_length = 10;
	p->vp.vm_srb.data_in = VSTOR_READ_TYPE;
	p->vp.vm_srb.data_transfer_length = byte_count;
	p->vp.vm_srb.sense_info_length = 20;
	p->vp.vm_srb.cdb[0] = SCSI_READ_10;
	p->vp.vm_srb.cdb[8] = (uint8_t)(byte_count / 512);
}

/*
 * The guest fills the guest->host ring with requests that want no
 * completion: its next write fails and sets pending_send_sz, and the
 * host's consume alone must wake it (there is no completion to do so).
 */
static void test_consume_signal(void *pkt)
{
	struct vmbus_pkt_desc *d = pkt;
	struct vmbus_iov iov = { pkt, 80 };
	unsigned n = 0;
	bool sig;
	int err;

	d->type = VMBUS_PKT_DATA_INBAND;
	d->flags = 0;
	while ((err = vmbus_ring_write(&E.sc.out, &iov, 1, &sig)) == 0)
		n++;
	CHECK(err == VMBUS_RING_AGAIN && n > 40 &&
	      E.h_in.hdr->pending_send_sz != 0,
	      "guest->host ring full after %u packets, pending_send_sz set", n);
	E.guest_event = false;
	CHECK(storvsp_poll(E.sp) == STORVSP_POLL_MORE && E.guest_event,
	      "the first poll (budget spent) already gave room: writer signalled");
	E.guest_event = false;
	while ((err = storvsp_poll(E.sp)) == STORVSP_POLL_MORE)
		;
	CHECK(err == STORVSP_POLL_DONE && !E.guest_event &&
	      vmbus_ring_avail_read(&E.h_in) == 0 &&
	      vmbus_ring_avail_read(&E.sc.in) == 0,
	      "the re-polls drain it without a reply or another signal");
}

/* A completion naming a slot in flight but not its transaction. */
static void test_bogus_completion(void)
{
	static const uint8_t tur[6] = { SCSI_TEST_UNIT_READY };
	struct storvsc_request req = { tur, 6, 0, NULL, 0, STORVSC_DIR_NONE };
	struct storvsc_completion c;
	struct {
		struct vmbus_pkt_desc d;
		struct vstor_packet vp;
	} fake;
	uint64_t tag, bogus0 = E.sc.stats.bogus;
	bool sig;
	struct vmbus_iov iov = { &fake, sizeof(fake) };

	CHECK(open_channel(2, 2, 0) == 0 && storvsc_submit(&E.sc, &req, &tag)
	      == 0, "a request in flight");
	memset(&fake, 0, sizeof(fake));
	fake.d = (struct vmbus_pkt_desc){ VMBUS_PKT_COMP, 2, 10, 0,
					  tag + STORVSC_MAX_INFLIGHT };
	fake.vp.operation = VSTOR_OPERATION_COMPLETE_IO;
	fake.vp.vm_srb.srb_status = SRB_STATUS_ERROR;
	vmbus_ring_write(&E.h_out, &iov, 1, &sig);
	fake.d.trans_id = tag;
	fake.d.len8 = 8;        /* too short for a vstor packet */
	iov.len = 64;
	vmbus_ring_write(&E.h_out, &iov, 1, &sig);
	CHECK(storvsc_reap(&E.sc, &c, 1, false) == 0 &&
	      E.sc.stats.bogus == bogus0 + 2,
	      "same slot, other transaction; and a short one: both dropped");
	CHECK(storvsc_reap(&E.sc, &c, 1, true) == 1 && c.tag == tag &&
	      c.res.srb_status == SRB_STATUS_SUCCESS,
	      "the real completion still arrives");
}

static void test_hostile(void)
{
	struct vstor_packet r;
	struct raw_gpa p;
	uint64_t id = 0;
	struct {
		struct vmbus_pkt_desc d;
		struct vstor_packet vp;
	} in;
	uint64_t rej;

	CHECK(open_channel(2, 2, 0) == 0, "fresh channel");
	rej = E.sp->stats.rejected;

	memset(&in, 0, sizeof(in));
	in.d = (struct vmbus_pkt_desc){ VMBUS_PKT_DATA_INBAND, 2, 10,
					VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 77 };
	in.vp.operation = VSTOR_OPERATION_QUERY_PROTOCOL_VERSION;
	in.vp.version.major_minor = VMSTOR_PROTO_VERSION_WIN10;
	CHECK(raw(&in, sizeof(in), &r, &id) == 0 && r.status != 0,
	      "QUERY_PROTOCOL_VERSION after END_INITIALIZATION: refused");
	in.vp.operation = VSTOR_OPERATION_BEGIN_INITIALIZATION;
	CHECK(raw(&in, sizeof(in), &r, &id) == 0 && r.status == 0 &&
	      E.sp->state == STORVSP_NEGOTIATING,
	      "BEGIN_INITIALIZATION again restarts the handshake");
	in.vp.operation = VSTOR_OPERATION_QUERY_PROTOCOL_VERSION;
	in.vp.version.major_minor = VMSTOR_PROTO_VERSION(7, 0);
	CHECK(raw(&in, sizeof(in), &r, &id) == 0 && id == 77 &&
	      r.operation == VSTOR_OPERATION_COMPLETE_IO &&
	      r.status == STORVSP_STATUS_REVISION_MISMATCH,
	      "version 7.0 refused: nonzero status, same trans_id");
	in.vp.version.major_minor = VMSTOR_PROTO_VERSION_WIN8;
	CHECK(raw(&in, sizeof(in), &r, &id) == 0 && r.status == 0 &&
	      E.sp->version == VMSTOR_PROTO_VERSION_WIN8,
	      "renegotiation to WIN8 (5.1) accepted");
	in.vp.operation = VSTOR_OPERATION_CREATE_SUB_CHANNELS;
	CHECK(raw(&in, sizeof(in), &r, &id) == 0 && r.status != 0,
	      "CREATE_SUB_CHANNELS: refused, none offered");
	in.vp.operation = VSTOR_OPERATION_FCHBA_DATA;
	CHECK(raw(&in, sizeof(in), &r, &id) == 0 && r.status == 0,
	      "FCHBA_DATA answered");
	in.vp.operation = VSTOR_OPERATION_END_INITIALIZATION;
	CHECK(raw(&in, sizeof(in), &r, &id) == 0 && r.status == 0 &&
	      E.sp->state == STORVSP_READY, "END_INITIALIZATION: ready");
	memset(&in.vp, 0, sizeof(in.vp));
	in.vp.operation = VSTOR_OPERATION_EXECUTE_SRB;
	in.vp.vm_srb.cdb_length = 6;
	in.vp.vm_srb.target_id = 1;
	CHECK(raw(&in, sizeof(in), &r, &id) == 0 &&
	      r.vm_srb.srb_status == SRB_STATUS_SELECTION_TIMEOUT,
	      "target 1: SRB_STATUS_SELECTION_TIMEOUT");
	in.vp.vm_srb.target_id = 0;
	in.vp.vm_srb.cdb_length = 17;
	CHECK(raw(&in, sizeof(in), &r, &id) == 0 &&
	      r.vm_srb.srb_status == SRB_STATUS_INVALID_REQUEST,
	      "cdb_length 17: SRB_STATUS_INVALID_REQUEST");
	in.vp.vm_srb.cdb_length = 6;
	in.vp.vm_srb.data_transfer_length = 512;
	CHECK(raw(&in, sizeof(in), &r, &id) == 0 &&
	      r.vm_srb.srb_status == SRB_STATUS_INVALID_REQUEST,
	      "inband SRB claiming 512 data bytes: SRB_STATUS_INVALID_REQUEST");
	in.d.len8 = 8;          /* a 48-byte vstor packet */
	CHECK(raw(&in, 64, &r, &id) == 0 && r.status != 0,
	      "vstor packet shorter than 52 bytes: failure status");
	in.d.len8 = 10;
	in.d.flags = 0;
	in.vp.vm_srb.data_transfer_length = 0;
	CHECK(raw(&in, sizeof(in), &r, &id) == 1,
	      "no completion requested: no reply");

	raw_srb(&p, 1024, 0, 1);        /* 2 pages needed... */
	p.vp.vm_srb.data_transfer_length = 1024;
	p.g.byte_offset = 4000;         /* ...at this offset, 1 pfn given */
	memmove((uint8_t *)&p + 40, &p.vp, sizeof(p.vp));
	p.g.desc.len8 = (40 + 64) / 8;
	CHECK(raw(&p, 40 + 64, &r, &id) == 0 &&
	      r.vm_srb.srb_status == SRB_STATUS_INVALID_REQUEST,
	      "range needing 2 pfns with 1 in the packet: INVALID_REQUEST");
	raw_srb(&p, 1024, 4096, 3);
	CHECK(raw(&p, sizeof(p), &r, &id) == 0 &&
	      r.vm_srb.srb_status == SRB_STATUS_INVALID_REQUEST,
	      "byte_offset 4096: INVALID_REQUEST");
	raw_srb(&p, 1024, 0, 3);
	p.vp.vm_srb.data_transfer_length = 2048;
	CHECK(raw(&p, sizeof(p), &r, &id) == 0 &&
	      r.vm_srb.srb_status == SRB_STATUS_INVALID_REQUEST,
	      "data_transfer_length > byte_count: INVALID_REQUEST");
	raw_srb(&p, 1024, 100, 3);
	p.vp.vm_srb.data_in = VSTOR_UNKNOWN_TYPE;
	CHECK(raw(&p, sizeof(p), &r, &id) == 0 &&
	      r.vm_srb.srb_status == SRB_STATUS_INVALID_REQUEST,
	      "buffer without a direction: INVALID_REQUEST");
	raw_srb(&p, 1024, 100, 3);
	p.g.rangecount = 2;
	CHECK(raw(&p, sizeof(p), &r, &id) == 0 &&
	      r.vm_srb.srb_status == SRB_STATUS_INVALID_REQUEST,
	      "two ranges: INVALID_REQUEST");
	raw_srb(&p, 1024, 3500, 3);     /* 2 pages */
	p.pfn[1] = (1ull << 52) + BUF_A + 1;    /* shifted: wraps to BUF_A + 1 */
	CHECK(raw(&p, sizeof(p), &r, &id) == 0 &&
	      r.vm_srb.srb_status == SRB_STATUS_ERROR,
	      "pfn 2^52 + n (whose address wraps to page n): SRB_STATUS_ERROR");
	raw_srb(&p, 1024, 100, 3);
	CHECK(raw(&p, sizeof(p), &r, &id) == 0 && id == 0x1234 &&
	      r.vm_srb.srb_status == SRB_STATUS_SUCCESS &&
	      r.vm_srb.data_transfer_length == 1024,
	      "the same packet, well formed: SUCCESS, 1024 bytes");
	CHECK(E.sp->stats.rejected > rej && E.poll_errors == 0,
	      "%u rejections logged and counted, channel open",
	      (unsigned)(E.sp->stats.rejected - rej));

	test_consume_signal(&in);

	in.d.type = 7;          /* VM_PKT_DATA_USING_TRANSFER_PAGES */
	CHECK(raw(&in, sizeof(in), &r, &id) == -1 &&
	      storvsp_poll(E.sp) == -1,
	      "a packet type storvsc never sends closes the channel, for good");

	CHECK(open_channel(2, 2, 0) == 0, "reopened");
	E.h_in.hdr->write_index = 12;   /* not 8-aligned: corrupt */
	CHECK(storvsp_poll(E.sp) == -1, "corrupt guest->host ring: close");

	CHECK(open_channel(2, 2, 0) == 0, "reopened");
	memset(&in, 0, sizeof(in));
	storvsp_attach(E.sp, &E.h_in, &E.h_out);
	CHECK(E.sp->state == STORVSP_WAIT_BEGIN, "host re-attached");
	in.d = (struct vmbus_pkt_desc){ VMBUS_PKT_DATA_INBAND, 2, 10,
					VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 5 };
	in.vp.operation = VSTOR_OPERATION_EXECUTE_SRB;
	in.vp.vm_srb.cdb_length = 6;
	CHECK(raw(&in, sizeof(in), &r, &id) == 0 && r.status != 0 &&
	      r.vm_srb.srb_status == SRB_STATUS_INVALID_REQUEST,
	      "EXECUTE_SRB before BEGIN_INITIALIZATION: refused");
}

/* Exits per MiB: synchronous 64 KiB reads cost one signal each. */
static void test_exits(void)
{
	uint8_t *a = E.gmem + BUF_A * PAGE;
	uint64_t s0, w0;

	CHECK(open_channel(4, 4, 0) == 0, "channel for the exit count");
	s0 = E.sc.stats.signals;
	w0 = E.sp->stats.signals;
	for (unsigned i = 0; i < 16; i++)
		rw(false, false, i * 128, 128, a, 65536);
	CHECK(E.sc.stats.signals - s0 == 16 && E.sp->stats.signals - w0 == 16,
	      "16 sync 64 KiB reads: %u guest and %u host signals per MiB",
	      (unsigned)(E.sc.stats.signals - s0),
	      (unsigned)(E.sp->stats.signals - w0));
	CHECK(E.lost_wakeups == 0 && E.page_cross == 0,
	      "whole run: no lost wakeup, no copy across a page");
}


/* ---- the DMA path: dma_pages set, a disk with read_sg/write_sg ---------- */

/* A fresh VSP (as after boot) with dma_pages, over a disk with sg ops. */
static void use_dma(bool contiguous)
{
	memset(E.sp, 0, sizeof(*E.sp));
	E.vsp_ops = &vsp_dma_ops;
	E.backend = &ram_sg_backend;
	E.dma_contiguous = contiguous;
	CHECK(open_channel(2, 2, 0) == 0 && E.sp->ops->dma_pages,
	      "DMA path (%s): handshake", contiguous ? "pages adjacent, merged"
						     : "pages scattered");
}

static uint32_t pages_of(const uint8_t *p, uint32_t len)
{
	uint32_t off = (uint32_t)((p - E.gmem) % PAGE);

	return (off + len + PAGE - 1) / PAGE;
}

/* Round trips at many byte offsets and lengths, each by one dma_pages
 * call and one backend call, with no copy through the bounce buffer;
 * nothing written around the buffers, on the disk or in the guest. */
static void test_dma_round_trips(void)
{
	static const uint32_t offs[] = { 0, 1, 100, 511, 512, 2051, 4000, 4095 };
	static const uint32_t blocks[] = { 1, 2, 8, 9, 37, 65 };
	static uint8_t before[SECTORS * 512];
	uint64_t direct0 = E.sp->stats.direct;
	unsigned copies0 = E.copies, bad_w = 0, bad_r = 0, bad_guard = 0, bad_map = 0;
	unsigned cases = 0;

	sg_bad = 0;
	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
	for (unsigned j = 0; j < sizeof(blocks) / sizeof(blocks[0]); j++) {
		uint32_t len = blocks[j] * 512;
		uint8_t *a = E.gmem + BUF_A * PAGE + offs[i];
		uint8_t *b = E.gmem + BUF_B * PAGE + (offs[i] * 7 + 13) % PAGE;
		uint64_t lba = 1 + (cases * 97) % (SECTORS - 200);
		unsigned d0 = E.dma_calls, s0 = sg_calls;
		uint32_t np = pages_of(a, len);

		cases++;
		for (uint32_t k = 0; k < len; k++)
			a[k] = pattern(cases, k);
		memcpy(before, disk_mem, sizeof(before));
		if (rw(true, cases & 1, lba, blocks[j], a, len) || !good(len))
			bad_w++;
		memcpy(before + lba * 512, a, len);
		if (memcmp(disk_mem, before, sizeof(before))) {
			if (!bad_w++)
				printf("# write at offset %u, %u blocks: disk differs\n",
				       offs[i], blocks[j]);
			memcpy(disk_mem, before, sizeof(before));
		}
		if (E.dma_calls != d0 + 1 || E.dma_pfns != np || sg_calls != s0 + 1 ||
		    sg_last_nsegs != (E.dma_contiguous ? 1 : np))
			bad_map++;

		memset(b - 64, 0x77, len + 128);
		np = pages_of(b, len);
		if (rw(false, !(cases & 1), lba, blocks[j], b, len) || !good(len) ||
		    memcmp(a, b, len)) {
			if (!bad_r++)
				printf("# read at offset %u, %u blocks: data differs\n",
				       (unsigned)((b - E.gmem) % PAGE), blocks[j]);
		}
		for (unsigned k = 0; k < 64; k++)
			if (b[-1 - (int)k] != 0x77 || b[len + k] != 0x77)
				bad_guard++;
		if (E.dma_calls != d0 + 2 || E.dma_pfns != np || sg_calls != s0 + 2 ||
		    sg_last_nsegs != (E.dma_contiguous ? 1 : np))
			bad_map++;
	}
	CHECK(!bad_w, "DMA WRITE at %zu offsets x %zu lengths: the disk holds exactly "
	      "the buffer (%u bad)", sizeof(offs) / sizeof(offs[0]),
	      sizeof(blocks) / sizeof(blocks[0]), bad_w);
	CHECK(!bad_r, "DMA READ at other offsets: equal (%u bad)", bad_r);
	CHECK(!bad_guard, "  no guest byte around the read buffer changed");
	CHECK(!bad_map, "  one dma_pages call of the pages touched, one backend call "
	      "of %s segment(s) per request (%u bad)",
	      E.dma_contiguous ? "1 merged" : "one-per-page", bad_map);
	CHECK(!sg_bad, "  every segment inside guest memory (one page each when "
	      "scattered), lengths adding up to the request");
	CHECK(E.sp->stats.direct - direct0 == 2 * cases && E.copies == copies0,
	      "stats.direct counts the %u requests; no bounce copy",
	      (unsigned)(E.sp->stats.direct - direct0));

	/* 1 MiB from 100 bytes into a page: 257 pages. */
	{
		uint32_t len = STORVSP_MAX_TRANSFER;
		uint8_t *a = E.gmem + BUF_A * PAGE + 100;
		uint8_t *b = E.gmem + BUF_B * PAGE + 4000;

		for (uint32_t k = 0; k < len; k++)
			a[k] = pattern(99, k);
		CHECK(rw(true, false, 0, len / 512, a, len) == 0 && good(len) &&
		      !memcmp(disk_mem, a, len) && E.dma_pfns == 257 &&
		      sg_last_nsegs == (E.dma_contiguous ? 1u : 257u),
		      "DMA WRITE of 1 MiB over 257 pages, in %s",
		      E.dma_contiguous ? "1 segment" : "257 segments");
		memset(b, 0, len);
		CHECK(rw(false, true, 0, len / 512, b, len) == 0 && good(len) &&
		      !memcmp(a, b, len) && E.dma_pfns == 257,
		      "DMA READ of 1 MiB into 257 other pages");
	}
}

/* Snapshot of the guest pages around the data buffers. */
static uint8_t snap[16 * PAGE];

static void take_snap(void)
{
	memcpy(snap, E.gmem + (BUF_A - 4) * PAGE, sizeof(snap));
}

static bool snap_same(void)
{
	return !memcmp(snap, E.gmem + (BUF_A - 4) * PAGE, sizeof(snap));
}

static void test_dma_not_owned(void)
{
	static uint8_t before[SECTORS * 512];
	uint8_t *a = E.gmem + BUF_A * PAGE + 3000;
	uint32_t len = 8 * 512;         /* pages BUF_A and BUF_A + 1 */
	uint64_t faults = E.sp->stats.guest_faults, direct0 = E.sp->stats.direct;
	unsigned s0 = sg_calls;

	for (unsigned first = 0; first < 2; first++) {
		unsigned page = BUF_A + (first ? 0 : 1);

		memset(a, 0x3c, len);
		memcpy(before, disk_mem, sizeof(before));
		E.owned[page] = false;
		CHECK(rw(true, false, 300, 8, a, len) == 0 &&
		      res.srb_status == SRB_STATUS_ERROR && res.transferred == 0 &&
		      !memcmp(disk_mem, before, sizeof(before)),
		      "DMA WRITE with the %s page not the guest's: SRB_STATUS_ERROR, "
		      "disk unchanged", first ? "first" : "last");
		take_snap();
		CHECK(rw(false, true, 300, 8, a, len) == 0 &&
		      res.srb_status == SRB_STATUS_ERROR && res.transferred == 0 &&
		      snap_same(), "DMA READ into it: SRB_STATUS_ERROR, no guest byte "
		      "changed");
		E.owned[page] = true;
	}
	E.gpa_add = 1ull << 40;
	take_snap();
	CHECK(rw(false, false, 300, 8, a, len) == 0 &&
	      res.srb_status == SRB_STATUS_ERROR && snap_same(),
	      "DMA READ into a gpa 1 TiB up: SRB_STATUS_ERROR");
	E.gpa_add = 0;
	CHECK(E.sp->stats.guest_faults - faults == 5 && E.sp->stats.direct == direct0 &&
	      sg_calls == s0 && E.poll_errors == 0,
	      "5 guest faults, none counted direct, the disk never called");
	CHECK(rw(false, false, 300, 8, a, len) == 0 && good(len) &&
	      !memcmp(a, disk_mem + 300 * 512, len), "the next request works");
}

/* What is not a whole-block READ/WRITE still goes through the bounce
 * buffer with dma_pages set; a direct one the disk fails keeps its sense. */
static void test_dma_others(void)
{
	uint8_t *b = E.gmem + BUF_A * PAGE + 4000;
	uint64_t direct0 = E.sp->stats.direct;
	unsigned c0 = E.copies, d0 = E.dma_calls;

	CHECK(RUN(0, b, 96, STORVSC_DIR_READ, SCSI_INQUIRY, 0, 0, 0, 96, 0) == 0 &&
	      good(36) && !memcmp(b + 8, "isovisor", 8) && E.copies > c0,
	      "INQUIRY with dma_pages set: through the bounce copy");
	CHECK(RUN(0, b, 8, STORVSC_DIR_READ, SCSI_READ_CAPACITY_10, 0, 0, 0, 0, 0,
		  0, 0, 0, 0) == 0 && good(8) && be32(b) == SECTORS - 1,
	      "READ CAPACITY(10): copied");
	memset(b, 0, 1100);
	c0 = E.copies;
	CHECK(RUN(0, b, 1000, STORVSC_DIR_READ, SCSI_READ_10, 0, 0, 0, 0, 40, 0, 0,
		  2, 0) == 0 && SRB_STATUS(res.srb_status) == SRB_STATUS_DATA_OVERRUN &&
	      res.transferred == 1000 && !memcmp(b, disk_mem + 40 * 512, 1000) &&
	      b[1000] == 0 && E.copies > c0,
	      "READ(10) of 2 blocks into 1000 bytes: copied, overrun");
	CHECK(E.sp->stats.direct == direct0 && E.dma_calls == d0,
	      "  none of these went direct or asked for DMA addresses");

	memset(b, 0x5e, 1024);
	CHECK(RUN(0, b, 1024, STORVSC_DIR_READ, SCSI_READ_10, 0, 0, 0, 0x0f, 0xff,
		  0, 0, 2, 0) == 0 &&
	      sense_is(SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE) &&
	      res.transferred == 0 && b[0] == 0x5e && b[1023] == 0x5e,
	      "direct READ past the end: 21h in the sense area, nothing moved");

	bad_lba = 503;
	memset(b, 0, 8 * 512);
	CHECK(rw(false, false, 500, 8, b, 8 * 512) == 0 &&
	      sense_is(SCSI_SK_MEDIUM_ERROR, SCSI_ASC_UNRECOVERED_READ) &&
	      (res.sense[0] & 0x80) && be32(&res.sense[3]) == 503 &&
	      res.transferred == 3 * 512 && !memcmp(b, disk_mem + 500 * 512, 3 * 512),
	      "direct READ over bad LBA 503: sense names it, 3 blocks delivered");
	CHECK(rw(true, true, 500, 8, b, 8 * 512) == 0 &&
	      sense_is(SCSI_SK_MEDIUM_ERROR, SCSI_ASC_WRITE_ERROR) &&
	      be32(&res.sense[3]) == 503 && res.transferred == 3 * 512,
	      "direct WRITE over it: WRITE ERROR at 503, 3 blocks");
	bad_lba = UINT64_MAX;
	CHECK(E.sp->stats.direct == direct0 + 3 && !sg_bad && E.page_cross == 0,
	      "3 direct requests; segments all in guest memory");
}

int main(void)
{
	map_guest_memory();
	E.sp = calloc(1, sizeof(*E.sp));
	if (!E.sp)
		abort();
	E.vsp_ops = &vsp_ops;
	E.backend = &ram_backend;
	test_handshake();
	test_inquiry();
	test_simple_commands();
	test_read_write();
	test_not_owned();
	test_queue_depth();
	test_backpressure();
	test_budget();
	test_outbound_full();
	test_pre_win8();
	test_hostile();
	test_bogus_completion();
	test_exits();
	for (int contiguous = 0; contiguous < 2; contiguous++) {
		use_dma(contiguous);
		test_read_write();
		test_not_owned();
		test_dma_round_trips();
		test_dma_not_owned();
		test_dma_others();
		CHECK(E.lost_wakeups == 0 && E.poll_errors == 0 && E.page_cross == 0,
		      "DMA run: no lost wakeup, no poll error, no copy across a page");
	}
	return done_testing();
}
