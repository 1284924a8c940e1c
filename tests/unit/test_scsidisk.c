/*
 * Unit tests for the SCSI disk (drivers/scsidisk.c): every command, valid
 * and invalid, with exact sense bytes; data written and read back through
 * a RAM backend; capacities of a small disk and of a > 2 TiB one (a fake
 * backend that allocates nothing); residuals and short buffers; LUN
 * handling; FUA and SYNCHRONIZE CACHE reaching the backend's flush;
 * backend failures as MEDIUM ERROR with the failing LBA.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "scsidisk.h"
#include <isovisor/vstor.h>

#define SECTORS 64

/* ---- RAM backend with counters and one injectable bad sector ---------- */
struct ram {
	uint8_t mem[SECTORS * 512];
	unsigned reads, writes, flushes;
	unsigned max_count;
	bool fail_read, fail_write, fail_flush;
	uint64_t bad_lba;
	bool out_of_range;
};

static struct ram ram;

static bool hits_bad(uint64_t lba, unsigned count)
{
	return ram.bad_lba >= lba && ram.bad_lba < lba + count;
}

static bool range_bad(uint64_t lba, unsigned count)
{
	if (count > ram.max_count)
		ram.max_count = count;
	if (!count || lba >= SECTORS || count > SECTORS - lba) {
		ram.out_of_range = true;
		return true;
	}
	return false;
}

static int ram_read(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	ram.reads++;
	if (range_bad(lba, count) || (ram.fail_read && hits_bad(lba, count)))
		return -1;
	memcpy(buf, ram.mem + lba * 512, (size_t)count * 512);
	return 0;
}

static int ram_write(void *ctx, uint64_t lba, unsigned count, const void *buf)
{
	ram.writes++;
	if (range_bad(lba, count) || (ram.fail_write && hits_bad(lba, count)))
		return -1;
	memcpy(ram.mem + lba * 512, buf, (size_t)count * 512);
	return 0;
}

static int ram_flush(void *ctx)
{
	ram.flushes++;
	return ram.fail_flush ? -1 : 0;
}

static const struct block_backend ram_backend = {
	NULL, SECTORS, ram_read, ram_write, ram_flush, NULL, NULL,
};

/* The DMA path: a segment's "physical" address is a host pointer. Any
 * call covering the bad block fails whole, moving nothing; a call whose
 * segments do not add up to count blocks is counted as a contract
 * violation. The flush records how many sg writes preceded it. */
static struct {
	unsigned reads, writes, bad_lists, max_nsegs;
	unsigned writes_at_flush;
} sg;

static int ram_sg(uint64_t lba, unsigned count, const struct blk_seg *segs,
		  unsigned n, bool write)
{
	uint64_t total = 0;
	uint8_t *at;

	if (n > sg.max_nsegs)
		sg.max_nsegs = n;
	for (unsigned i = 0; i < n; i++) {
		if (!segs[i].len)
			sg.bad_lists++;
		total += segs[i].len;
	}
	if (!n || total != (uint64_t)count * 512) {
		sg.bad_lists++;
		return -1;
	}
	if (range_bad(lba, count) ||
	    ((write ? ram.fail_write : ram.fail_read) && hits_bad(lba, count)))
		return -1;
	at = ram.mem + lba * 512;
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
	sg.reads++;
	return ram_sg(lba, count, segs, n, false);
}

static int ram_write_sg(void *ctx, uint64_t lba, unsigned count,
			const struct blk_seg *segs, unsigned n)
{
	sg.writes++;
	return ram_sg(lba, count, segs, n, true);
}

static int ram_flush_sg(void *ctx)
{
	sg.writes_at_flush = sg.writes;
	return ram_flush(ctx);
}

static const struct block_backend ram_sg_backend = {
	NULL, SECTORS, ram_read, ram_write, ram_flush_sg, ram_read_sg,
	ram_write_sg,
};
/* Half of the DMA ops is none. */
static const struct block_backend ram_half_sg_backend = {
	NULL, SECTORS, ram_read, ram_write, ram_flush, ram_read_sg, NULL,
};

/* A disk of any size that stores nothing: reads return the LBA pattern. */
static uint64_t big_last_read;

static int big_read(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	big_last_read = lba;
	for (unsigned i = 0; i < count; i++)
		memset((uint8_t *)buf + (size_t)i * 512, (uint8_t)(lba + i),
		       512);
	return 0;
}

static int big_write(void *ctx, uint64_t lba, unsigned count, const void *buf)
{
	return 0;
}

static int big_flush(void *ctx)
{
	return 0;
}

static struct scsidisk disk;
static struct scsi_result res;
static uint8_t buf[64 * 1024];

static void reset_ram(void)
{
	memset(&ram, 0, sizeof(ram));
	ram.bad_lba = UINT64_MAX;
	scsidisk_init(&disk, &ram_backend, "SN-0001");
}

static int exec(const uint8_t *cdb, unsigned len, uint8_t lun, uint32_t dlen,
		bool in)
{
	return scsidisk_execute(&disk, cdb, len, lun, buf, dlen, in, &res);
}

#define EXEC(lun, dlen, in, ...) ({                                     \
	static const uint8_t cdb_[] = { __VA_ARGS__ };                   \
	exec(cdb_, sizeof(cdb_), lun, dlen, in);                         \
})

/* CHECK CONDITION with exactly this fixed-format sense. */
static bool sense_is(uint8_t key, uint8_t asc, uint8_t ascq)
{
	return res.status == SCSI_STATUS_CHECK_CONDITION &&
	       res.sense_len == 18 && (res.sense[0] & 0x7f) == 0x70 &&
	       res.sense[2] == key && res.sense[7] == 10 &&
	       res.sense[12] == asc && res.sense[13] == ascq;
}

static bool good(uint32_t transferred)
{
	return res.status == SCSI_STATUS_GOOD && res.sense_len == 0 &&
	       res.transferred == transferred;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* ---- tests --------------------------------------------------------------- */

static void test_vstor_layout(void)
{
	struct vstor_packet p;

	CHECK(sizeof(struct vmscsi_request) == 0x34, "vmscsi_request is 0x34");
	CHECK(sizeof(struct vstor_packet) == 64 && VSTOR_PACKET_SIZE == 64,
	      "vstor_packet is 64 bytes");
	CHECK((uint8_t *)&p.vm_srb.cdb - (uint8_t *)&p == 28,
	      "cdb at packet offset 28");
	CHECK(VMSTOR_PROTO_VERSION_WIN8 == 0x0501 &&
	      VMSTOR_PROTO_VERSION_WIN8_1 == 0x0600 &&
	      VMSTOR_PROTO_VERSION_WIN10 == 0x0602 &&
	      VMSTOR_PROTO_VERSION_WIN7 == 0x0402, "protocol versions");
	CHECK(SRB_STATUS(0xc1) == SRB_STATUS_SUCCESS, "SRB_STATUS() masks flags");
}

static void test_tur_and_basics(void)
{
	reset_ram();
	CHECK(EXEC(0, 0, false, 0x00, 0, 0, 0, 0, 0) == 0 && good(0),
	      "TEST UNIT READY: GOOD");
	CHECK(EXEC(0, 0, false, 0x1b, 0, 0, 0, 1, 0) == 0 && good(0),
	      "START STOP UNIT: accepted");
	CHECK(EXEC(0, 0, false, 0x00, 0, 0, 0) == 2 &&
	      sense_is(0x5, 0x24, 0x00), "6-byte command with cdb_len 4: 24h");
	CHECK(exec(NULL, 0, 0, 0, false) == 2 && sense_is(0x5, 0x20, 0x00),
	      "empty CDB: invalid opcode");
	CHECK(EXEC(0, 0, false, 0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) ==
	      2 && sense_is(0x5, 0x20, 0x00),
	      "unknown opcode A3h: ILLEGAL REQUEST 20h/00h exactly");
	CHECK(res.sense[0] == 0x70 && res.residual == 0,
	      "sense byte 0 is 70h without VALID");
	CHECK(EXEC(0, 0, false, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0) == 2 &&
	      sense_is(0x5, 0x20, 0x00), "variable-length CDB 7Fh: 20h");
	CHECK(EXEC(0, 0, false, 0x00, 0, 0, 0, 0, 0x04) == 2 &&
	      sense_is(0x5, 0x24, 0x00), "NACA in control byte: 24h");
	CHECK(EXEC(0, 0, false, 0x00, 0, 0, 0, 0, 0x01) == 2 &&
	      sense_is(0x5, 0x24, 0x00), "LINK in control byte: 24h");
	CHECK(disk.stats.check_conditions == 6,
	      "check conditions counted (%llu)",
	      (unsigned long long)disk.stats.check_conditions);
}

static void test_request_sense(void)
{
	reset_ram();
	memset(buf, 0xaa, 32);
	CHECK(EXEC(0, 32, true, 0x03, 0, 0, 0, 252, 0) == 0 && good(18) &&
	      res.residual == 14, "REQUEST SENSE: 18 bytes, residual 14");
	CHECK(buf[0] == 0x70 && buf[2] == 0 && buf[7] == 10 && buf[12] == 0 &&
	      buf[13] == 0 && buf[18] == 0xaa, "REQUEST SENSE: NO SENSE");
	CHECK(EXEC(0, 32, true, 0x03, 0, 0, 0, 8, 0) == 0 && good(8),
	      "REQUEST SENSE: allocation length 8 honoured");
	CHECK(EXEC(3, 32, true, 0x03, 0, 0, 0, 18, 0) == 0 && good(18) &&
	      buf[2] == 0x5 && buf[12] == 0x25,
	      "REQUEST SENSE to LUN 3: GOOD with LUN NOT SUPPORTED data");
	CHECK(EXEC(0, 32, true, 0x03, 1, 0, 0, 18, 0) == 2 &&
	      sense_is(0x5, 0x24, 0), "REQUEST SENSE DESC=1: 24h");
}

static void test_inquiry_standard(void)
{
	reset_ram();
	memset(buf, 0xaa, 128);
	CHECK(EXEC(0, 128, true, 0x12, 0, 0, 0, 96, 0) == 0 && good(36) &&
	      res.residual == 92, "INQUIRY: 36 bytes of 96 asked");
	CHECK(buf[0] == 0x00 && buf[1] == 0 && buf[2] == 0x05 &&
	      buf[3] == 0x02 && buf[4] == 31,
	      "INQUIRY: direct access, SPC-3, format 2, additional length 31");
	CHECK(!memcmp(&buf[8], "isovisor", 8) &&
	      !memcmp(&buf[16], "virtual disk    ", 16) && buf[36] == 0xaa,
	      "INQUIRY: vendor, product, nothing past 36");
	memset(buf, 0xaa, 128);
	CHECK(EXEC(0, 128, true, 0x12, 0, 0, 0, 5, 0) == 0 && good(5) &&
	      buf[5] == 0xaa, "INQUIRY: allocation length 5");
	CHECK(EXEC(0, 4, true, 0x12, 0, 0, 0, 96, 0) == 0 && good(4) &&
	      res.overrun && res.residual == 0,
	      "INQUIRY: data_len 4 < 36: 4 bytes, overrun");
	CHECK(EXEC(0, 0, true, 0x12, 0, 0, 0, 0, 0) == 0 && good(0),
	      "INQUIRY: allocation length 0");
	CHECK(EXEC(2, 128, true, 0x12, 0, 0, 0, 96, 0) == 0 && good(36) &&
	      buf[0] == 0x7f, "INQUIRY to LUN 2: qualifier 3, type 1Fh");
	CHECK(EXEC(0, 128, true, 0x12, 0, 0x80, 0, 96, 0) == 2 &&
	      sense_is(0x5, 0x24, 0), "INQUIRY page code without EVPD: 24h");
	CHECK(EXEC(0, 128, true, 0x12, 2, 0, 0, 96, 0) == 2 &&
	      sense_is(0x5, 0x24, 0), "INQUIRY CmdDt: 24h");
	CHECK(EXEC(0, 128, false, 0x12, 0, 0, 0, 96, 0) == 2 &&
	      sense_is(0x5, 0x24, 0) && res.transferred == 0,
	      "INQUIRY with data-out direction: 24h");
}

static void test_inquiry_vpd(void)
{
	reset_ram();
	CHECK(EXEC(0, 255, true, 0x12, 1, 0x00, 0, 255, 0) == 0 && good(9) &&
	      buf[1] == 0 && buf[3] == 5 && buf[4] == 0x00 && buf[5] == 0x80 &&
	      buf[6] == 0x83 && buf[7] == 0xb0 && buf[8] == 0xb1,
	      "VPD 00h: 00 80 83 B0 B1");
	CHECK(EXEC(0, 255, true, 0x12, 1, 0x80, 0, 255, 0) == 0 && good(11) &&
	      buf[1] == 0x80 && buf[3] == 7 && !memcmp(&buf[4], "SN-0001", 7),
	      "VPD 80h: unit serial");
	CHECK(EXEC(0, 255, true, 0x12, 1, 0x83, 0, 255, 0) == 0 && good(35),
	      "VPD 83h: 35 bytes (got %u)", res.transferred);
	CHECK(buf[4] == 0x02 && buf[5] == 0x01 && buf[7] == 15 &&
	      !memcmp(&buf[8], "isovisorSN-0001", 15),
	      "VPD 83h: T10 vendor ID designator");
	CHECK(buf[23] == 0x01 && buf[24] == 0x03 && buf[26] == 8 &&
	      (buf[27] >> 4) == 3,
	      "VPD 83h: NAA designator, locally assigned (3h)");
	CHECK(EXEC(0, 255, true, 0x12, 1, 0xb0, 0, 255, 0) == 0 && good(64) &&
	      buf[1] == 0xb0 && buf[3] == 0x3c && buf[7] == 1,
	      "VPD B0h: block limits, granularity 1");
	CHECK(EXEC(0, 255, true, 0x12, 1, 0xb1, 0, 255, 0) == 0 && good(64) &&
	      buf[4] == 0 && buf[5] == 1, "VPD B1h: non-rotating");
	CHECK(EXEC(0, 255, true, 0x12, 1, 0xb2, 0, 255, 0) == 2 &&
	      sense_is(0x5, 0x24, 0), "VPD B2h: not supported, 24h");
	CHECK(EXEC(0, 255, true, 0x12, 1, 0x55, 0, 255, 0) == 2 &&
	      sense_is(0x5, 0x24, 0), "VPD 55h: 24h");
	CHECK(EXEC(0, 2, true, 0x12, 1, 0x83, 0, 255, 0) == 0 && good(2) &&
	      res.overrun, "VPD 83h into 2 bytes: cut, overrun");

	/* A hostile serial: long and with control characters. */
	scsidisk_init(&disk, &ram_backend, "a\nb c\x7f" "0123456789ABCDEFGHIJ");
	CHECK(EXEC(0, 255, true, 0x12, 1, 0x80, 0, 255, 0) == 0 && good(24) &&
	      !memcmp(&buf[4], "a_b_c_0123456789ABCD", 20),
	      "serial clamped to 20, non-printables replaced");
	scsidisk_init(&disk, &ram_backend, NULL);
	CHECK(EXEC(0, 255, true, 0x12, 1, 0x80, 0, 255, 0) == 0 && good(5) &&
	      buf[4] == '0', "NULL serial becomes \"0\"");
}

static void test_capacity_small(void)
{
	reset_ram();
	memset(buf, 0xaa, 64);
	CHECK(EXEC(0, 64, true, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0) == 0 &&
	      good(8) && be32(buf) == SECTORS - 1 && be32(buf + 4) == 512 &&
	      buf[8] == 0xaa, "READ CAPACITY(10): last LBA 63, 512");
	CHECK(res.residual == 56, "READ CAPACITY(10): residual 56");
	CHECK(EXEC(0, 64, true, 0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0) == 2 &&
	      sense_is(0x5, 0x24, 0), "READ CAPACITY(10) LBA w/o PMI: 24h");
	CHECK(EXEC(0, 64, true, 0x25, 0, 0, 0, 0, 1, 0, 0, 1, 0) == 0 &&
	      good(8), "READ CAPACITY(10) PMI with LBA: GOOD");
	CHECK(EXEC(0, 64, true, 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
		   0, 0, 0, 32, 0, 0) == 0 && good(32) &&
	      be64(buf) == SECTORS - 1 && be32(buf + 8) == 512 &&
	      buf[12] == 0 && buf[13] == 0 && buf[14] == 0,
	      "READ CAPACITY(16): 63, 512, no PI, no LBPME");
	CHECK(EXEC(0, 64, true, 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
		   0, 0, 0, 12, 0, 0) == 0 && good(12),
	      "READ CAPACITY(16): allocation length 12");
	CHECK(EXEC(0, 64, true, 0x9e, 0x11, 0, 0, 0, 0, 0, 0, 0, 0,
		   0, 0, 0, 32, 0, 0) == 2 && sense_is(0x5, 0x24, 0),
	      "SERVICE ACTION IN(16) SA 11h: 24h");
	CHECK(EXEC(0, 64, true, 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0) == 2 &&
	      sense_is(0x5, 0x24, 0), "READ CAPACITY(16) with cdb_len 10: 24h");
}

static void test_capacity_large(void)
{
	/* 2^33 + 5 sectors = 4 TiB: more than 32-bit LBAs reach. */
	const uint64_t n = (1ull << 33) + 5;
	struct block_backend big = { NULL, n, big_read, big_write, big_flush, NULL, NULL };
	struct block_backend edge = big;

	scsidisk_init(&disk, &big, "BIG");
	CHECK(EXEC(0, 8, true, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0) == 0 &&
	      good(8) && be32(buf) == 0xffffffffu && be32(buf + 4) == 512,
	      "4 TiB: READ CAPACITY(10) says FFFFFFFFh");
	CHECK(EXEC(0, 32, true, 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
		   0, 0, 0, 32, 0, 0) == 0 && good(32) && be64(buf) == n - 1,
	      "4 TiB: READ CAPACITY(16) last LBA 2^33+4");
	CHECK(EXEC(0, 1024, true, 0x88, 0, 0, 0, 0, 2, 0, 0, 0, 3,
		   0, 0, 0, 2, 0, 0) == 0 && good(1024) &&
	      big_last_read == (2ull << 32) + 3 && buf[0] == 3 &&
	      buf[512] == 4, "4 TiB: READ(16) above 2^32");
	CHECK(EXEC(0, 1024, true, 0x88, 0, 0, 0, 0, 2, 0, 0, 0, 5,
		   0, 0, 0, 1, 0, 0) == 2 && sense_is(0x5, 0x21, 0),
	      "4 TiB: READ(16) at LBA n: out of range");
	CHECK(EXEC(0, 1024, true, 0x88, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		   0xff, 0xff, 0, 0, 0, 2, 0, 0) == 2 &&
	      sense_is(0x5, 0x21, 0), "READ(16) LBA 2^64-1 + 2: no wrap");
	CHECK(EXEC(0, 64, true, 0x5a, 0x10, 0x08, 0, 0, 0, 0, 0, 64, 0) ==
	      0 && buf[4] == 1 && buf[7] == 16 && be64(buf + 8) == n,
	      "4 TiB: MODE SENSE(10) LLBAA long descriptor");
	CHECK(EXEC(0, 64, true, 0x1a, 0, 0x08, 0, 64, 0) == 0 &&
	      buf[5] == 0xff && buf[6] == 0xff && buf[7] == 0xff,
	      "4 TiB: MODE SENSE(6) short descriptor clamps to FFFFFFh");

	/* Exactly 2^32 blocks: last LBA FFFFFFFFh, which READ CAPACITY(10)
	 * reports as FFFFFFFFh ("use 16") either way; 2^32-1 blocks is the
	 * largest disk it describes exactly. */
	edge.sectors = 1ull << 32;
	scsidisk_init(&disk, &edge, "E");
	CHECK(EXEC(0, 8, true, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0) == 0 &&
	      be32(buf) == 0xffffffffu, "2^32 blocks: FFFFFFFFh");
	edge.sectors = (1ull << 32) - 1;
	scsidisk_init(&disk, &edge, "E");
	CHECK(EXEC(0, 8, true, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0) == 0 &&
	      be32(buf) == 0xfffffffeu, "2^32-1 blocks: FFFFFFFEh");

	/* No medium at all. */
	edge.sectors = 0;
	scsidisk_init(&disk, &edge, "E");
	CHECK(EXEC(0, 0, false, 0x00, 0, 0, 0, 0, 0) == 2 &&
	      sense_is(0x2, 0x3a, 0), "0 sectors: NOT READY, MEDIUM NOT PRESENT");
	CHECK(EXEC(0, 8, true, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0) == 2 &&
	      sense_is(0x2, 0x3a, 0), "0 sectors: READ CAPACITY not ready");
	CHECK(EXEC(0, 64, true, 0x12, 0, 0, 0, 36, 0) == 0 && good(36),
	      "0 sectors: INQUIRY still answers");
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

static void test_read_write(void)
{
	static uint8_t pattern[SECTORS * 512];

	reset_ram();
	fill(pattern, sizeof(pattern), 1);
	memcpy(buf, pattern, 4 * 512);
	CHECK(EXEC(0, 4 * 512, false, 0x2a, 0, 0, 0, 0, 10, 0, 0, 4, 0) == 0 &&
	      good(2048) && res.residual == 0, "WRITE(10) 4 blocks at 10");
	CHECK(!memcmp(ram.mem + 10 * 512, pattern, 2048) && ram.flushes == 0,
	      "WRITE(10): data on the backend, no flush without FUA");
	memset(buf, 0, sizeof(buf));
	CHECK(EXEC(0, 4 * 512, true, 0x28, 0, 0, 0, 0, 10, 0, 0, 4, 0) == 0 &&
	      good(2048) && !memcmp(buf, pattern, 2048),
	      "READ(10) reads it back");

	memcpy(buf, pattern + 2048, 512);
	CHECK(EXEC(0, 512, false, 0x8a, 0x08, 0, 0, 0, 0, 0, 0, 0, 63,
		   0, 0, 0, 1, 0, 0) == 0 && good(512) && ram.flushes == 1,
	      "WRITE(16) FUA on the last block: one flush");
	memset(buf, 0, 512);
	CHECK(EXEC(0, 512, true, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 63,
		   0, 0, 0, 1, 0, 0) == 0 && good(512) &&
	      !memcmp(buf, pattern + 2048, 512), "READ(16) of the last block");
	CHECK(EXEC(0, 512, false, 0x2a, 0x08, 0, 0, 0, 1, 0, 0, 1, 0) == 0 &&
	      ram.flushes == 2, "WRITE(10) FUA: flush");

	memcpy(buf, pattern, 512);
	CHECK(EXEC(0, 512, false, 0x0a, 0, 0, 5, 1, 0) == 0 && good(512) &&
	      !memcmp(ram.mem + 5 * 512, pattern, 512), "WRITE(6)");
	memset(buf, 0, 512);
	CHECK(EXEC(0, 512, true, 0x08, 0, 0, 5, 1, 0) == 0 && good(512) &&
	      !memcmp(buf, pattern, 512), "READ(6)");
	CHECK(EXEC(0, 512, true, 0x08, 0, 0, 0, 0, 0) == 2 &&
	      sense_is(0x5, 0x21, 0),
	      "READ(6) length 0 means 256: past a 64-block disk, 21h");

	/* Whole disk in one command: chunked under the backend limit. */
	memcpy(buf, pattern, sizeof(pattern));
	ram.max_count = 0;
	CHECK(EXEC(0, sizeof(pattern), false, 0x2a, 0, 0, 0, 0, 0, 0, 0,
		   SECTORS, 0) == 0 && good(SECTORS * 512) &&
	      !memcmp(ram.mem, pattern, sizeof(pattern)),
	      "WRITE(10) of the whole disk");
	CHECK(ram.max_count <= SCSIDISK_CHUNK && !ram.out_of_range,
	      "backend never asked past the disk or above the chunk size");
	CHECK(disk.stats.blocks_written >= SECTORS, "blocks_written counted");

	/* Zero-length transfers. */
	CHECK(EXEC(0, 0, true, 0x28, 0, 0, 0, 0, 64, 0, 0, 0, 0) == 0 &&
	      good(0), "READ(10) 0 blocks at LBA 64 (= capacity): GOOD");
	CHECK(EXEC(0, 0, true, 0x28, 0, 0, 0, 0, 65, 0, 0, 0, 0) == 2 &&
	      sense_is(0x5, 0x21, 0), "READ(10) 0 blocks at LBA 65: 21h");
}

static void test_rw_errors(void)
{
	reset_ram();
	CHECK(EXEC(0, 1024, true, 0x28, 0, 0, 0, 0, 63, 0, 0, 2, 0) == 2 &&
	      sense_is(0x5, 0x21, 0) && res.transferred == 0,
	      "READ(10) 63+2 past 64: LBA OUT OF RANGE");
	CHECK(EXEC(0, 1024, false, 0x2a, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 2,
		   0) == 2 && sense_is(0x5, 0x21, 0),
	      "WRITE(10) at FFFFFFFFh: 21h");
	CHECK(EXEC(0, 1024, true, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		   0xff, 0xff, 0xff, 0xff, 0, 0) == 2 && sense_is(0x5, 0x21, 0),
	      "READ(16) FFFFFFFFh blocks: 21h");
	CHECK(EXEC(0, 1024, true, 0x28, 0x20, 0, 0, 0, 0, 0, 0, 1, 0) == 2 &&
	      sense_is(0x5, 0x24, 0), "READ(10) RDPROTECT: 24h");
	CHECK(EXEC(0, 1024, false, 0x2a, 0x40, 0, 0, 0, 0, 0, 0, 1, 0) == 2 &&
	      sense_is(0x5, 0x24, 0), "WRITE(10) WRPROTECT: 24h");
	CHECK(EXEC(0, 1024, false, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0) == 2 &&
	      sense_is(0x5, 0x24, 0) && ram.reads == 0,
	      "READ(10) with data-out buffer: 24h, backend untouched");
	CHECK(EXEC(0, 1024, true, 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0) == 2 &&
	      sense_is(0x5, 0x24, 0) && ram.writes == 0,
	      "WRITE(10) with data-in buffer: 24h");
	CHECK(EXEC(0, 1024, true, 0x28, 0, 0, 0, 0, 0, 0, 0, 1) == 2 &&
	      sense_is(0x5, 0x24, 0), "READ(10) with cdb_len 9: 24h");
	CHECK(EXEC(0, 1024, true, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		   1) == 2 && sense_is(0x5, 0x24, 0),
	      "READ(16) with cdb_len 14: 24h");
	CHECK(EXEC(1, 1024, true, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0) == 2 &&
	      sense_is(0x5, 0x25, 0) && ram.reads == 0,
	      "READ(10) to LUN 1: LOGICAL UNIT NOT SUPPORTED");
	CHECK(EXEC(7, 0, false, 0x00, 0, 0, 0, 0, 0) == 2 &&
	      sense_is(0x5, 0x25, 0), "TUR to LUN 7: 25h");
	CHECK(EXEC(7, 0, false, 0xee, 0, 0, 0, 0, 0) == 2 &&
	      sense_is(0x5, 0x25, 0), "unknown opcode to LUN 7: 25h first");
}

static void test_short_buffers(void)
{
	static uint8_t pattern[4 * 512];

	reset_ram();
	fill(pattern, sizeof(pattern), 9);
	memcpy(ram.mem + 20 * 512, pattern, sizeof(pattern));
	memset(buf, 0xaa, sizeof(buf));
	CHECK(EXEC(0, 1000, true, 0x28, 0, 0, 0, 0, 20, 0, 0, 4, 0) == 0 &&
	      good(1000) && res.overrun && res.residual == 0,
	      "READ(10) 4 blocks into 1000 bytes: 1000 moved, overrun");
	CHECK(!memcmp(buf, pattern, 1000) && buf[1000] == 0xaa,
	      "short READ: partial block via bounce, nothing past data_len");
	memset(buf, 0xaa, sizeof(buf));
	CHECK(EXEC(0, 5000, true, 0x28, 0, 0, 0, 0, 20, 0, 0, 4, 0) == 0 &&
	      good(2048) && res.residual == 5000 - 2048 && !res.overrun &&
	      buf[2048] == 0xaa, "READ(10) into a larger buffer: residual");

	memset(ram.mem, 0, sizeof(ram.mem));
	memcpy(buf, pattern, sizeof(pattern));
	CHECK(EXEC(0, 1100, false, 0x2a, 0, 0, 0, 0, 0, 0, 0, 4, 0) == 0 &&
	      good(1024) && res.overrun && res.residual == 76,
	      "WRITE(10) 4 blocks from 1100 bytes: 2 whole blocks");
	CHECK(!memcmp(ram.mem, pattern, 1024) && ram.mem[1024] == 0,
	      "short WRITE: no partial block written");
	CHECK(scsidisk_execute(&disk, (const uint8_t[]){ 0x28, 0, 0, 0, 0, 0,
			       0, 0, 1, 0 }, 10, 0, NULL, 512, true, &res) ==
	      0 && res.transferred == 0 && res.overrun,
	      "NULL buffer: nothing transferred");
}

static void test_media_errors(void)
{
	reset_ram();
	ram.fail_read = true;
	ram.bad_lba = 12;
	memset(buf, 0, sizeof(buf));
	CHECK(EXEC(0, 8 * 512, true, 0x28, 0, 0, 0, 0, 10, 0, 0, 8, 0) == 2 &&
	      sense_is(0x3, 0x11, 0), "READ over a bad block: 03h/11h/00h");
	CHECK((res.sense[0] & 0x80) && be32(&res.sense[3]) == 12 &&
	      res.transferred == 2 * 512,
	      "sense VALID, information = LBA 12, 2 good blocks moved");
	ram.fail_read = false;
	ram.fail_write = true;
	CHECK(EXEC(0, 8 * 512, false, 0x2a, 0, 0, 0, 0, 10, 0, 0, 8, 0) ==
	      2 && sense_is(0x3, 0x0c, 0) && be32(&res.sense[3]) == 12,
	      "WRITE over a bad block: 03h/0Ch/00h at LBA 12");
	ram.fail_write = false;
	ram.fail_flush = true;
	CHECK(EXEC(0, 0, false, 0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0) == 2 &&
	      sense_is(0x3, 0x0c, 0) && !(res.sense[0] & 0x80),
	      "SYNCHRONIZE CACHE failing flush: WRITE ERROR");
	CHECK(EXEC(0, 512, false, 0x2a, 0x08, 0, 0, 0, 0, 0, 0, 1, 0) == 2 &&
	      sense_is(0x3, 0x0c, 0), "FUA write with failing flush");
	CHECK(disk.stats.media_errors == 4, "media errors counted");
}

static void test_sync_verify(void)
{
	reset_ram();
	CHECK(EXEC(0, 0, false, 0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0) == 0 &&
	      good(0) && ram.flushes == 1, "SYNCHRONIZE CACHE(10): flush");
	CHECK(EXEC(0, 0, false, 0x91, 2, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 8,
		   0, 0) == 0 && good(0) && ram.flushes == 2,
	      "SYNCHRONIZE CACHE(16) IMMED: flush");
	CHECK(EXEC(0, 0, false, 0x35, 0, 0, 0, 0, 65, 0, 0, 0, 0) == 2 &&
	      sense_is(0x5, 0x21, 0) && ram.flushes == 2,
	      "SYNCHRONIZE CACHE past the end: 21h, no flush");
	CHECK(disk.stats.flushes == 2, "stats count flushes");
	CHECK(EXEC(0, 0, false, 0x2f, 0, 0, 0, 0, 0, 0, 0, 64, 0) == 0 &&
	      good(0) && ram.reads == 0, "VERIFY(10) whole disk: GOOD");
	CHECK(EXEC(0, 0, false, 0x2f, 0, 0, 0, 0, 1, 0, 0, 64, 0) == 2 &&
	      sense_is(0x5, 0x21, 0), "VERIFY(10) past the end: 21h");
	CHECK(EXEC(0, 0, false, 0x2f, 0x02, 0, 0, 0, 0, 0, 0, 1, 0) == 2 &&
	      sense_is(0x5, 0x24, 0), "VERIFY(10) BYTCHK: 24h");
	CHECK(EXEC(0, 0, false, 0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 63,
		   0, 0, 0, 1, 0, 0) == 0 && good(0), "VERIFY(16) last block");
	CHECK(EXEC(0, 0, false, 0x8f, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		   0xff, 0xff, 0, 0, 0, 1, 0, 0) == 2 &&
	      sense_is(0x5, 0x21, 0), "VERIFY(16) at 2^64-1: 21h");
}

static void test_report_luns(void)
{
	reset_ram();
	memset(buf, 0xaa, 64);
	CHECK(EXEC(0, 64, true, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0) ==
	      0 && good(16) && be32(buf) == 8 && be32(buf + 4) == 0 &&
	      be64(buf + 8) == 0 && buf[16] == 0xaa,
	      "REPORT LUNS: one LUN, 0");
	CHECK(EXEC(5, 64, true, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0) ==
	      0 && good(16), "REPORT LUNS to LUN 5 answers as LUN 0");
	CHECK(EXEC(0, 64, true, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 0, 0) ==
	      2 && sense_is(0x5, 0x24, 0), "REPORT LUNS allocation 15: 24h");
	CHECK(EXEC(0, 64, true, 0xa0, 0, 3, 0, 0, 0, 0, 0, 0, 64, 0, 0) ==
	      2 && sense_is(0x5, 0x24, 0), "REPORT LUNS select 3: 24h");
	CHECK(EXEC(0, 8, true, 0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0) == 0 &&
	      good(8) && res.overrun, "REPORT LUNS into 8 bytes: cut");
	CHECK(EXEC(SCSIDISK_NO_TARGET, 64, true, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 64,
		   0, 0) == 0 && be32(buf) == 0, "REPORT LUNS at an absent target: none");
	CHECK(EXEC(SCSIDISK_NO_TARGET, 36, true, 0x12, 0, 0, 0, 36, 0) == 0 &&
	      buf[0] == 0x7f, "INQUIRY at an absent target: peripheral qualifier 3");
}

static void test_mode_sense(void)
{
	reset_ram();
	memset(buf, 0xaa, 128);
	CHECK(EXEC(0, 128, true, 0x1a, 0, 0x3f, 0, 255, 0) == 0 && good(44),
	      "MODE SENSE(6) all pages: 4 + 8 + 20 + 12 (got %u)",
	      res.transferred);
	CHECK(buf[0] == 43 && buf[1] == 0 && buf[2] == 0x10 && buf[3] == 8,
	      "MODE SENSE(6) header: length, DPOFUA, descriptor 8");
	CHECK(be32(buf + 4) == SECTORS && be32(buf + 8) == 512,
	      "MODE SENSE(6) block descriptor: 64 blocks of 512");
	CHECK(buf[12] == 0x08 && buf[13] == 0x12 && (buf[14] & 0x04) &&
	      buf[32] == 0x0a && buf[33] == 0x0a && buf[44] == 0xaa,
	      "MODE SENSE(6): caching page WCE, control page");
	CHECK(EXEC(0, 128, true, 0x1a, 0x08, 0x08, 0, 255, 0) == 0 &&
	      good(24) && buf[3] == 0 && buf[4] == 0x08,
	      "MODE SENSE(6) DBD caching page only");
	CHECK(EXEC(0, 128, true, 0x1a, 0x08, 0x48, 0, 255, 0) == 0 &&
	      good(24) && buf[6] == 0, "changeable values: WCE not changeable");
	CHECK(EXEC(0, 128, true, 0x1a, 0x08, 0xc8, 0, 255, 0) == 2 &&
	      sense_is(0x5, 0x39, 0), "saved values: 39h");
	CHECK(EXEC(0, 128, true, 0x1a, 0x08, 0x1c, 0, 255, 0) == 2 &&
	      sense_is(0x5, 0x24, 0), "MODE SENSE(6) page 1Ch: 24h");
	CHECK(EXEC(0, 128, true, 0x1a, 0x08, 0x08, 1, 255, 0) == 2 &&
	      sense_is(0x5, 0x24, 0), "MODE SENSE(6) subpage 1: 24h");
	CHECK(EXEC(0, 128, true, 0x1a, 0x08, 0x3f, 0xff, 255, 0) == 0 &&
	      good(36), "MODE SENSE(6) 3Fh/FFh: all subpages");
	CHECK(EXEC(0, 128, true, 0x1a, 0, 0x3f, 0, 4, 0) == 0 && good(4) &&
	      buf[0] == 43, "MODE SENSE(6) allocation 4: header, full length");
	CHECK(EXEC(0, 128, true, 0x5a, 0, 0x0a, 0, 0, 0, 0, 0, 255, 0) == 0 &&
	      good(28) && buf[0] == 0 && buf[1] == 26 && buf[3] == 0x10 &&
	      buf[4] == 0 && buf[7] == 8 && buf[16] == 0x0a,
	      "MODE SENSE(10) control page, short descriptor");
	CHECK(EXEC(0, 128, true, 0x5a, 0x18, 0x3f, 0, 0, 0, 0, 0, 255, 0) ==
	      0 && good(40) && buf[4] == 0 && buf[7] == 0,
	      "MODE SENSE(10) DBD with LLBAA: no descriptor, LONGLBA 0");
	CHECK(EXEC(0, 128, true, 0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 255) == 2 &&
	      sense_is(0x5, 0x24, 0), "MODE SENSE(10) cdb_len 9: 24h");
	CHECK(EXEC(1, 128, true, 0x1a, 0, 0x3f, 0, 255, 0) == 2 &&
	      sense_is(0x5, 0x25, 0), "MODE SENSE(6) to LUN 1: 25h");
}

/* The CDB is read once and never past cdb_len: a CDB at the very end of
 * a heap block (ASan watches the next byte). */
static void test_cdb_bounds(void)
{
	static const uint8_t cdbs[][16] = {
		{ 0x28 }, { 0x88 }, { 0x12, 1, 0x83 }, { 0x5a }, { 0x9e, 0x10 },
		{ 0xa0 }, { 0x35 }, { 0x1a }, { 0x00 },
	};

	reset_ram();
	for (size_t i = 0; i < sizeof(cdbs) / sizeof(cdbs[0]); i++) {
		for (unsigned len = 1; len <= 16; len++) {
			uint8_t *p = malloc(len);

			memcpy(p, cdbs[i], len);
			scsidisk_execute(&disk, p, len, 0, buf, 512, true, &res);
			free(p);
		}
	}
	CHECK(true, "CDBs of every length at the end of the heap block");
}


/* ---- the DMA path: scsidisk_direct and scsidisk_execute_sg --------------- */

/* Segments live in `arena`, apart from each other by guard bytes. */
#define GUARD   0xee
static uint8_t arena[256 * 1024];
static struct blk_seg segs[512];

static void reset_sg(const struct block_backend *b)
{
	reset_ram();
	memset(&sg, 0, sizeof(sg));
	memset(arena, GUARD, sizeof(arena));
	scsidisk_init(&disk, b, "SN-0001");
}

/* Cut `total` bytes into segments of sizes[start], sizes[start + 1], ...
 * (cyclic; the last one cut short), `gap` guard bytes between two and
 * `skew` before the first. Returns the number of segments. */
static unsigned make_segs(const uint32_t *sizes, unsigned nsizes,
			  unsigned start, uint32_t total, uint32_t gap,
			  uint32_t skew)
{
	size_t pos = skew;
	unsigned n = 0;

	while (total) {
		uint32_t len = sizes[(start + n) % nsizes];

		if (len > total)
			len = total;
		if (n == sizeof(segs) / sizeof(segs[0]) ||
		    pos + len > sizeof(arena))
			abort();
		segs[n++] = (struct blk_seg){ (uint64_t)(uintptr_t)(arena + pos), len };
		pos += len + gap;
		total -= len;
	}
	return n;
}

/* Between the segments and a flat buffer. */
static void seg_copy(unsigned n, uint8_t *flat, bool to_segs)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = (uint8_t *)(uintptr_t)segs[i].addr;

		if (to_segs)
			memcpy(p, flat, segs[i].len);
		else
			memcpy(flat, p, segs[i].len);
		flat += segs[i].len;
	}
}

/* Every arena byte outside the segments still a guard byte. */
static bool guards_intact(unsigned n)
{
	static uint8_t g[sizeof(arena)];
	static uint8_t keep[sizeof(arena)];
	bool ok;

	memcpy(keep, arena, sizeof(arena));
	memset(g, GUARD, sizeof(g));
	seg_copy(n, g, true);
	ok = !memcmp(arena, g, sizeof(arena));
	memcpy(arena, keep, sizeof(arena));
	return ok;
}

/* READ/WRITE in the 6-, 10- or 16-byte form; `flags` goes to byte 1
 * (FUA 0x08, protect bits 0xe0) of the 10 and 16 forms. */
static unsigned rw_cdb(uint8_t *cdb, unsigned form, bool write, uint64_t lba,
		       uint32_t count, uint8_t flags)
{
	memset(cdb, 0, SCSIDISK_MAX_CDB);
	switch (form) {
	case 6:
		cdb[0] = write ? SCSI_WRITE_6 : SCSI_READ_6;
		cdb[1] = (uint8_t)(lba >> 16 & 0x1f);
		cdb[2] = (uint8_t)(lba >> 8);
		cdb[3] = (uint8_t)lba;
		cdb[4] = (uint8_t)count;        /* 0: 256 */
		return 6;
	case 10:
		cdb[0] = write ? SCSI_WRITE_10 : SCSI_READ_10;
		cdb[1] = flags;
		for (int i = 0; i < 4; i++)
			cdb[2 + i] = (uint8_t)(lba >> (24 - 8 * i));
		cdb[7] = (uint8_t)(count >> 8);
		cdb[8] = (uint8_t)count;
		return 10;
	default:
		cdb[0] = write ? SCSI_WRITE_16 : SCSI_READ_16;
		cdb[1] = flags;
		for (int i = 0; i < 8; i++)
			cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
		for (int i = 0; i < 4; i++)
			cdb[10 + i] = (uint8_t)(count >> (24 - 8 * i));
		return 16;
	}
}

static int exec_sg(const uint8_t *cdb, unsigned len, uint8_t lun,
		   unsigned nsegs, uint32_t dlen, bool in)
{
	return scsidisk_execute_sg(&disk, cdb, len, lun, segs, nsegs, dlen, in,
				   &res);
}

static bool nothing_called(void)
{
	return !ram.reads && !ram.writes && !ram.flushes && !sg.reads &&
	       !sg.writes;
}

static void test_direct_predicate(void)
{
	static const struct {
		uint8_t cdb[20];
		unsigned cdb_len;
		uint8_t lun;
		uint32_t data_len;
		bool want;
		const char *what;
	} t[] = {
		{ { SCSI_READ_6, 0, 0, 5, 2, 0 }, 6, 0, 1024, true, "READ(6) 2 blocks" },
		{ { SCSI_WRITE_6, 0, 0, 5, 2, 0 }, 6, 0, 1024, true, "WRITE(6) 2 blocks" },
		{ { SCSI_READ_6, 0, 0, 5, 0, 0 }, 6, 0, 256 * 512, true,
		  "READ(6) length 0 = 256 blocks, 128 KiB" },
		{ { SCSI_READ_6, 0, 0, 5, 0, 0 }, 6, 0, 0, false,
		  "READ(6) length 0 with no data (it means 256)" },
		{ { SCSI_READ_10, 0, 0, 0, 0, 7, 0, 0, 4, 0 }, 10, 0, 2048, true, "READ(10)" },
		{ { SCSI_WRITE_10, 0, 0, 0, 0, 7, 0, 0, 4, 0 }, 10, 0, 2048, true, "WRITE(10)" },
		{ { SCSI_WRITE_10, 0x08, 0, 0, 0, 7, 0, 0, 4, 0 }, 10, 0, 2048, true,
		  "WRITE(10) FUA" },
		{ { SCSI_READ_16, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 3, 0, 0 }, 16, 0, 1536,
		  true, "READ(16)" },
		{ { SCSI_WRITE_16, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 3, 0, 0 }, 16, 0, 1536,
		  true, "WRITE(16)" },
		{ { SCSI_READ_10, 0, 0, 0, 0, 7, 0, 0, 4, 0 }, 16, 0, 2048, true,
		  "READ(10) in a 16-byte CDB" },
		{ { SCSI_READ_10, 0, 0, 0, 0, 7, 0, 0, 4, 0 }, 10, 1, 2048, false, "LUN 1" },
		{ { SCSI_WRITE_16, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 3, 0, 0 }, 16, 1, 1536,
		  false, "WRITE(16) to LUN 1" },
		{ { SCSI_READ_10, 0, 0, 0, 0, 7, 0, 0, 4, 0 }, 10, 0, 2047, false,
		  "data_len 2047: not whole blocks" },
		{ { SCSI_READ_10, 0, 0, 0, 0, 7, 0, 0, 4, 0 }, 10, 0, 2048 + 100, false,
		  "data_len 2148: not whole blocks" },
		{ { SCSI_READ_10, 0, 0, 0, 0, 7, 0, 0, 4, 0 }, 10, 0, 1024, false,
		  "data_len 2 blocks for 4" },
		{ { SCSI_WRITE_10, 0, 0, 0, 0, 7, 0, 0, 4, 0 }, 10, 0, 4096, false,
		  "data_len 8 blocks for 4" },
		{ { SCSI_READ_10, 0, 0, 0, 0, 7, 0, 0, 0, 0 }, 10, 0, 0, false, "count 0, no data" },
		{ { SCSI_READ_10, 0, 0, 0, 0, 7, 0, 0, 0, 0 }, 10, 0, 512, false,
		  "count 0 with 512 bytes" },
		{ { SCSI_READ_16, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0 }, 16, 0, 0, false,
		  "READ(16) count 0" },
		/* 2^23 + 1 blocks: 512 bytes once cut to 32 bits. */
		{ { SCSI_READ_16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 1, 0, 0 }, 16, 0, 512,
		  false, "READ(16) 2^23+1 blocks vs 512 bytes: no 32-bit wrap" },
		{ { SCSI_READ_6, 0, 0, 5, 2 }, 5, 0, 1024, false, "READ(6) cdb_len 5" },
		{ { SCSI_WRITE_10, 0, 0, 0, 0, 7, 0, 0, 4 }, 9, 0, 2048, false,
		  "WRITE(10) cdb_len 9" },
		{ { SCSI_READ_16, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 3, 0 }, 15, 0, 1536, false,
		  "READ(16) cdb_len 15" },
		{ { SCSI_READ_10 }, 0, 0, 2048, false, "cdb_len 0" },
		{ { SCSI_VERIFY_10, 0, 0, 0, 0, 7, 0, 0, 1, 0 }, 10, 0, 512, false, "VERIFY(10)" },
		{ { SCSI_VERIFY_16, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0 }, 16, 0, 512,
		  false, "VERIFY(16)" },
		{ { SCSI_SYNCHRONIZE_CACHE_10, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10, 0, 512, false,
		  "SYNCHRONIZE CACHE(10)" },
		{ { SCSI_INQUIRY, 0, 0, 2, 0, 0 }, 6, 0, 512, false, "INQUIRY of 512" },
		{ { SCSI_READ_CAPACITY_10 }, 10, 0, 512, false, "READ CAPACITY(10)" },
		{ { SCSI_MODE_SENSE_6, 0, 0x3f, 0, 0, 0 }, 6, 0, 512, false, "MODE SENSE(6)" },
		{ { SCSI_TEST_UNIT_READY }, 6, 0, 512, false, "TEST UNIT READY" },
		{ { 0xa8, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0 }, 12, 0, 512, false,
		  "READ(12): not served" },
	};
	unsigned bad = 0;

	reset_sg(&ram_sg_backend);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool got = scsidisk_direct(&disk, t[i].cdb, t[i].cdb_len, t[i].lun,
					   t[i].data_len);

		if (got != t[i].want) {
			bad++;
			printf("# scsidisk_direct %s: %d, want %d\n", t[i].what, got, t[i].want);
		}
	}
	CHECK(!bad, "scsidisk_direct: %zu cases (opcodes, LUN, data_len, count, cdb_len)",
	      sizeof(t) / sizeof(t[0]));
	CHECK(!scsidisk_direct(&disk, NULL, 10, 0, 2048), "NULL cdb: not direct");
	CHECK(nothing_called() && disk.stats.commands == 0,
	      "the predicate touches nothing, counts no command");
	scsidisk_init(&disk, &ram_backend, "SN");
	CHECK(!scsidisk_direct(&disk, t[4].cdb, 10, 0, 2048),
	      "backend without read_sg/write_sg: not direct");
	scsidisk_init(&disk, &ram_half_sg_backend, "SN");
	CHECK(!scsidisk_direct(&disk, t[4].cdb, 10, 0, 2048),
	      "backend with read_sg only: not direct");
}

/* Odd segment sizes: 1, 511, 513, 4096 - 7, ..., every start in the
 * pattern, every CDB form, several LBAs, counts and skews. */
static void test_sg_round_trip(void)
{
	static const uint32_t sizes[] = { 1, 511, 513, 4096 - 7, 7, 1024, 300, 211,
					  4096, 2, 8191 };
	static const struct { uint64_t lba; uint32_t count; } at[] = {
		{ 0, 1 }, { 3, 2 }, { 10, 7 }, { 20, 16 }, { 63, 1 }, { 1, 40 },
		{ 0, 64 },
	};
	static uint8_t src[SECTORS * 512], got[SECTORS * 512], shadow[SECTORS * 512];
	static const unsigned forms[] = { 6, 10, 16 };
	unsigned cases = 0, bad_w = 0, bad_r = 0, bad_g = 0, bad_other = 0;
	uint8_t cdb[SCSIDISK_MAX_CDB];

	reset_sg(&ram_sg_backend);
	fill(ram.mem, sizeof(ram.mem), 77);
	memcpy(shadow, ram.mem, sizeof(shadow));
	for (unsigned f = 0; f < 3; f++)
	for (unsigned a = 0; a < sizeof(at) / sizeof(at[0]); a++)
	for (unsigned start = 0; start < sizeof(sizes) / sizeof(sizes[0]); start++) {
		uint32_t bytes = at[a].count * 512;
		unsigned n, len, w0 = sg.writes, r0 = sg.reads;
		uint32_t skew = (start * 37 + a) % 64;

		cases++;
		/* Write through one list... */
		memset(arena, GUARD, sizeof(arena));
		n = make_segs(sizes, sizeof(sizes) / sizeof(sizes[0]), start, bytes,
			      1 + start % 3, skew);
		fill(src, bytes, (uint8_t)(cases * 3));
		seg_copy(n, src, true);
		len = rw_cdb(cdb, forms[f], true, at[a].lba, at[a].count, 0);
		if (exec_sg(cdb, len, 0, n, bytes, false) != 0 || !good(bytes) ||
		    res.residual || sg.writes != w0 + 1)
			bad_other++;
		memcpy(shadow + at[a].lba * 512, src, bytes);
		if (memcmp(ram.mem, shadow, sizeof(shadow))) {
			if (!bad_w++)
				printf("# write: form %u, lba %llu, count %u, start %u differs\n",
				       forms[f], (unsigned long long)at[a].lba, at[a].count, start);
			memcpy(shadow, ram.mem, sizeof(shadow));
		}
		/* ... read back through another. */
		memset(arena, GUARD, sizeof(arena));
		n = make_segs(sizes, sizeof(sizes) / sizeof(sizes[0]), start + 5, bytes,
			      2, skew + 3);
		len = rw_cdb(cdb, forms[(f + 1) % 3], false, at[a].lba, at[a].count, 0);
		if (exec_sg(cdb, len, 0, n, bytes, true) != 0 || !good(bytes) ||
		    res.residual || sg.reads != r0 + 1)
			bad_other++;
		seg_copy(n, got, false);
		if (memcmp(got, src, bytes) && !bad_r++)
			printf("# read: form %u, lba %llu, count %u, start %u differs\n",
			       forms[(f + 1) % 3], (unsigned long long)at[a].lba, at[a].count,
			       start);
		if (!guards_intact(n))
			bad_g++;
	}
	CHECK(!bad_w, "sg WRITE of odd segments: the disk holds exactly them "
	      "(%u cases, %u bad)", cases, bad_w);
	CHECK(!bad_r, "sg READ into other odd segments: equal (%u bad)", bad_r);
	CHECK(!bad_g, "nothing written between or around the segments (%u bad)", bad_g);
	CHECK(!bad_other, "each: GOOD, all bytes, residual 0, one backend call "
	      "(%u bad)", bad_other);
	CHECK(!ram.reads && !ram.writes && !sg.bad_lists,
	      "no bounce-path call; every list added up to its count");
	CHECK(disk.stats.blocks_read == disk.stats.blocks_written &&
	      disk.stats.blocks_written == 3 * 11 * (1 + 2 + 7 + 16 + 1 + 40 + 64),
	      "blocks counted both ways (%llu)",
	      (unsigned long long)disk.stats.blocks_written);
}

/* A block spans how many segments at most (the retry takes 4). */
static unsigned max_pieces(unsigned n)
{
	unsigned most = 0, pieces = 0;
	uint32_t in_block = 0;

	for (unsigned i = 0; i < n; i++) {
		uint32_t left = segs[i].len;

		while (left) {
			uint32_t take = 512 - in_block < left ? 512 - in_block : left;

			pieces++;
			in_block += take;
			left -= take;
			if (in_block == 512) {
				most = pieces > most ? pieces : most;
				pieces = 0;
				in_block = 0;
			}
		}
	}
	return most;
}

/* Media errors with segments of `sizes`, a block in up to `pieces`. */
static void sg_media_errors(const uint32_t *sizes, unsigned nsizes, unsigned pieces)
{
	static uint8_t src[16 * 512], got[16 * 512], shadow[SECTORS * 512];
	const uint64_t lba = 10;
	const uint32_t count = 16, bytes = count * 512;
	unsigned bad_r = 0, bad_w = 0, n, r0;
	uint8_t cdb[SCSIDISK_MAX_CDB];
	unsigned len;

	reset_sg(&ram_sg_backend);
	n = make_segs(sizes, nsizes, 0, bytes, 3, 5);
	CHECK(max_pieces(n) == pieces,
	      "media errors: %u segments, a block in up to %u of them", n, max_pieces(n));
	for (uint32_t k = 0; k < count; k++) {
		fill(ram.mem, sizeof(ram.mem), (uint8_t)k);
		memset(arena, GUARD, sizeof(arena));
		ram.fail_read = true;
		ram.bad_lba = lba + k;
		len = rw_cdb(cdb, k & 1 ? 16 : 10, false, lba, count, 0);
		memset(got, GUARD, sizeof(got));
		if (exec_sg(cdb, len, 0, n, bytes, true) != 2 || !sense_is(0x3, 0x11, 0) ||
		    !(res.sense[0] & 0x80) || be32(&res.sense[3]) != lba + k ||
		    res.transferred != k * 512 || res.residual != bytes - k * 512) {
			if (!bad_r++)
				printf("# read, bad block %u: status %u info %u transferred %u\n",
				       k, res.status, be32(&res.sense[3]), res.transferred);
		}
		seg_copy(n, got, false);
		if (memcmp(got, ram.mem + lba * 512, k * 512) && !bad_r++)
			printf("# read, bad block %u: the good blocks not all delivered\n", k);
		ram.fail_read = false;

		ram.fail_write = true;
		memcpy(shadow, ram.mem, sizeof(shadow));
		fill(src, bytes, (uint8_t)(100 + k));
		seg_copy(n, src, true);
		len = rw_cdb(cdb, k & 1 ? 10 : 16, true, lba, count, 0x08);
		if (exec_sg(cdb, len, 0, n, bytes, false) != 2 || !sense_is(0x3, 0x0c, 0) ||
		    !(res.sense[0] & 0x80) || be32(&res.sense[3]) != lba + k ||
		    res.transferred != k * 512) {
			if (!bad_w++)
				printf("# write, bad block %u: status %u info %u transferred %u\n",
				       k, res.status, be32(&res.sense[3]), res.transferred);
		}
		memcpy(shadow + lba * 512, src, k * 512);
		if (memcmp(ram.mem, shadow, sizeof(shadow)) && !bad_w++)
			printf("# write, bad block %u: disk is not the k good blocks\n", k);
		ram.fail_write = false;
	}
	CHECK(!bad_r, "sg READ over a bad block k of 16: 03h/11h, VALID, info = LBA 10+k, "
	      "k blocks moved and delivered (%u bad)", bad_r);
	CHECK(!bad_w, "sg WRITE over bad block k: 03h/0Ch at 10+k, the k blocks before "
	      "it on the disk, none after (%u bad)", bad_w);
	CHECK(ram.flushes == 0, "FUA write that failed: no flush");
	CHECK(disk.stats.media_errors == 2 * count &&
	      disk.stats.blocks_read == count * (count - 1) / 2 &&
	      disk.stats.blocks_written == count * (count - 1) / 2,
	      "stats: %llu media errors, good blocks counted",
	      (unsigned long long)disk.stats.media_errors);
	CHECK(!sg.bad_lists, "every retry's list held exactly its block");

	ram.fail_read = true;
	ram.bad_lba = lba + count;
	len = rw_cdb(cdb, 10, false, lba, count, 0);
	r0 = sg.reads;
	CHECK(exec_sg(cdb, len, 0, n, bytes, true) == 0 && good(bytes) &&
	      sg.reads == r0 + 1,
	      "bad block right after the transfer: GOOD in one call");
}

static void test_sg_media_errors(void)
{
	/* Blocks cut in up to 4 pieces, and segments ending exactly on
	 * block boundaries. */
	static const uint32_t odd[] = { 511, 200, 100, 150, 1000, 4089, 129, 1300, 200,
					513 };
	static const uint32_t aligned[] = { 512, 1024, 256, 256, 1536, 512 };

	sg_media_errors(odd, sizeof(odd) / sizeof(odd[0]), 4);
	sg_media_errors(aligned, sizeof(aligned) / sizeof(aligned[0]), 2);
	/* 100-byte segments: a block in up to 7 pieces, retried whole all the same
	 * (the retry once gave up on blocks of more than 4 pieces and named
	 * a good block as the bad one). */
	static const uint32_t tiny[] = { 100 };

	sg_media_errors(tiny, 1, 7);
}

static void test_sg_fua(void)
{
	uint8_t cdb[SCSIDISK_MAX_CDB];
	unsigned len, n;

	reset_sg(&ram_sg_backend);
	n = make_segs((const uint32_t[]){ 700 }, 1, 0, 2048, 1, 0);
	len = rw_cdb(cdb, 10, true, 4, 4, 0x08);
	CHECK(exec_sg(cdb, len, 0, n, 2048, false) == 0 && good(2048) &&
	      ram.flushes == 1 && sg.writes_at_flush == 1 && disk.stats.flushes == 1,
	      "sg WRITE(10) FUA: flushed after the data went");
	len = rw_cdb(cdb, 16, true, 4, 4, 0x08);
	CHECK(exec_sg(cdb, len, 0, n, 2048, false) == 0 && good(2048) &&
	      ram.flushes == 2 && sg.writes_at_flush == 2, "sg WRITE(16) FUA: flushed");
	len = rw_cdb(cdb, 10, true, 4, 4, 0);
	CHECK(exec_sg(cdb, len, 0, n, 2048, false) == 0 && good(2048) && ram.flushes == 2,
	      "sg WRITE(10) without FUA: no flush");
	len = rw_cdb(cdb, 6, true, 4, 4, 0);
	CHECK(exec_sg(cdb, len, 0, n, 2048, false) == 0 && good(2048) && ram.flushes == 2,
	      "sg WRITE(6): no flush");
	len = rw_cdb(cdb, 10, false, 4, 4, 0x08);
	CHECK(exec_sg(cdb, len, 0, n, 2048, true) == 0 && good(2048) && ram.flushes == 2,
	      "sg READ(10) FUA: no flush");
	ram.fail_flush = true;
	len = rw_cdb(cdb, 10, true, 4, 4, 0x08);
	CHECK(exec_sg(cdb, len, 0, n, 2048, false) == 2 && sense_is(0x3, 0x0c, 0) &&
	      !(res.sense[0] & 0x80) && res.transferred == 2048 && ram.flushes == 3,
	      "sg FUA write, flush fails: WRITE ERROR without an LBA");
}

/* What scsidisk_direct refuses, given segments anyway: INVALID FIELD IN
 * CDB, and neither the backend nor the segments touched. */
static void test_sg_refused(void)
{
	static const struct {
		uint8_t cdb[16];
		unsigned len;
		uint8_t lun;
		uint32_t data_len;
		bool in;
		const char *what;
	} t[] = {
		{ { SCSI_INQUIRY, 0, 0, 2, 0, 0 }, 6, 0, 512, true, "INQUIRY" },
		{ { SCSI_TEST_UNIT_READY }, 6, 0, 512, false, "TEST UNIT READY" },
		{ { SCSI_SYNCHRONIZE_CACHE_10 }, 10, 0, 512, false, "SYNCHRONIZE CACHE(10)" },
		{ { SCSI_VERIFY_10, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10, 0, 512, false, "VERIFY(10)" },
		{ { SCSI_READ_CAPACITY_10 }, 10, 0, 512, true, "READ CAPACITY(10)" },
		{ { SCSI_MODE_SENSE_6, 0, 0x3f, 0, 255, 0 }, 6, 0, 512, true, "MODE SENSE(6)" },
		{ { SCSI_REQUEST_SENSE, 0, 0, 0, 18, 0 }, 6, 0, 512, true, "REQUEST SENSE" },
		{ { SCSI_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0 }, 12, 0, 512, true,
		  "REPORT LUNS" },
		{ { 0xa3 }, 12, 0, 512, true, "unknown opcode" },
		{ { SCSI_READ_10, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10, 1, 512, true, "READ(10) LUN 1" },
		{ { SCSI_READ_10, 0, 0, 0, 0, 0, 0, 0, 2, 0 }, 10, 0, 512, true,
		  "READ(10) 2 blocks into 512" },
		{ { SCSI_WRITE_10, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10, 0, 1000, false,
		  "WRITE(10) of 1000 bytes" },
		{ { SCSI_WRITE_10, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 9, 0, 512, false,
		  "WRITE(10) cdb_len 9" },
	};
	unsigned bad = 0, n;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		reset_sg(&ram_sg_backend);
		n = make_segs((const uint32_t[]){ 300 }, 1, 0, t[i].data_len, 4, 1);
		if (exec_sg(t[i].cdb, t[i].len, t[i].lun, n, t[i].data_len, t[i].in) != 2 ||
		    !sense_is(0x5, 0x24, 0) || res.transferred || res.overrun ||
		    res.residual != t[i].data_len || !nothing_called() ||
		    !guards_intact(0) || disk.stats.check_conditions != 1) {
			bad++;
			printf("# %s via segments: status %u sense %02x/%02x\n", t[i].what,
			       res.status, res.sense[2], res.sense[12]);
		}
	}
	CHECK(!bad, "%zu commands scsidisk_direct refuses, via segments: 05h/24h, "
	      "backend and segments untouched", sizeof(t) / sizeof(t[0]));
	reset_sg(&ram_backend);
	n = make_segs((const uint32_t[]){ 512 }, 1, 0, 512, 0, 0);
	CHECK(exec_sg(t[9].cdb, 10, 0, n, 512, true) == 2 && sense_is(0x5, 0x24, 0) &&
	      nothing_called() && guards_intact(0),
	      "READ(10) via segments, backend without sg ops: 24h, nothing called");
}

static void test_sg_range(void)
{
	uint8_t cdb[SCSIDISK_MAX_CDB];
	unsigned len, n;

	reset_sg(&ram_sg_backend);
	n = make_segs((const uint32_t[]){ 1000, 24 }, 2, 0, 1024, 2, 0);
	len = rw_cdb(cdb, 10, false, 63, 2, 0);
	CHECK(exec_sg(cdb, len, 0, n, 1024, true) == 2 && sense_is(0x5, 0x21, 0) &&
	      res.transferred == 0 && nothing_called() && guards_intact(0),
	      "sg READ(10) 63+2 on 64 blocks: LBA OUT OF RANGE, nothing moved");
	len = rw_cdb(cdb, 10, true, 64, 2, 0);
	CHECK(exec_sg(cdb, len, 0, n, 1024, false) == 2 && sense_is(0x5, 0x21, 0) &&
	      nothing_called(), "sg WRITE(10) at LBA 64: 21h");
	len = rw_cdb(cdb, 16, true, UINT64_MAX, 2, 0);
	CHECK(exec_sg(cdb, len, 0, n, 1024, false) == 2 && sense_is(0x5, 0x21, 0) &&
	      nothing_called(), "sg WRITE(16) at 2^64-1: 21h, no wrap");
	len = rw_cdb(cdb, 16, false, 1ull << 40, 2, 0);
	CHECK(exec_sg(cdb, len, 0, n, 1024, true) == 2 && sense_is(0x5, 0x21, 0) &&
	      nothing_called() && guards_intact(0), "sg READ(16) at 2^40: 21h");
	n = make_segs((const uint32_t[]){ 4096 }, 1, 0, 256 * 512, 1, 0);
	len = rw_cdb(cdb, 6, false, 0, 0, 0);
	CHECK(exec_sg(cdb, len, 0, n, 256 * 512, true) == 2 && sense_is(0x5, 0x21, 0) &&
	      nothing_called() && guards_intact(0),
	      "sg READ(6) length 0 (256 blocks) on 64: 21h");
	n = make_segs((const uint32_t[]){ 1000, 24 }, 2, 0, 1024, 2, 0);
	len = rw_cdb(cdb, 10, false, 0, 2, 0x20);
	CHECK(exec_sg(cdb, len, 0, n, 1024, true) == 2 && sense_is(0x5, 0x24, 0) &&
	      nothing_called(), "sg READ(10) RDPROTECT: 24h");
	len = rw_cdb(cdb, 16, true, 0, 2, 0x40);
	CHECK(exec_sg(cdb, len, 0, n, 1024, false) == 2 && sense_is(0x5, 0x24, 0) &&
	      nothing_called(), "sg WRITE(16) WRPROTECT: 24h");
	len = rw_cdb(cdb, 10, false, 0, 2, 0);
	CHECK(exec_sg(cdb, len, 0, n, 1024, false) == 2 && sense_is(0x5, 0x24, 0) &&
	      nothing_called() && guards_intact(0),
	      "sg READ(10) with a data-out direction: 24h, nothing moved");
	len = rw_cdb(cdb, 10, true, 0, 2, 0);
	CHECK(exec_sg(cdb, len, 0, n, 1024, true) == 2 && sense_is(0x5, 0x24, 0) &&
	      nothing_called(), "sg WRITE(10) with a data-in direction: 24h");
	len = rw_cdb(cdb, 10, false, 0, 2, 0);
	cdb[9] = 0x04;
	CHECK(exec_sg(cdb, len, 0, n, 1024, true) == 2 && sense_is(0x5, 0x24, 0) &&
	      nothing_called(), "sg READ(10) with NACA: 24h");
}

/* The predicate and the sg execute read no CDB byte past cdb_len. */
static void test_sg_cdb_bounds(void)
{
	static const uint8_t ops[] = { SCSI_READ_6, SCSI_WRITE_6, SCSI_READ_10,
				       SCSI_WRITE_10, SCSI_READ_16, SCSI_WRITE_16 };
	unsigned n;

	reset_sg(&ram_sg_backend);
	n = make_segs((const uint32_t[]){ 512 }, 1, 0, 512, 0, 0);
	for (size_t i = 0; i < sizeof(ops); i++) {
		for (unsigned len = 1; len <= 16; len++) {
			uint8_t full[16] = { ops[i] }, *p = malloc(len);

			full[4] = full[8] = full[13] = 1;       /* 1 block, any form */
			memcpy(p, full, len);
			scsidisk_direct(&disk, p, len, 0, 512);
			exec_sg(p, len, 0, n, 512, !(ops[i] & 2));
			free(p);
		}
	}
	CHECK(!sg.bad_lists, "READ/WRITE CDBs of every length at the end of a heap "
	      "block, via scsidisk_direct and the sg execute");
}

int main(void)
{
	test_vstor_layout();
	test_tur_and_basics();
	test_request_sense();
	test_inquiry_standard();
	test_inquiry_vpd();
	test_capacity_small();
	test_capacity_large();
	test_read_write();
	test_rw_errors();
	test_short_buffers();
	test_media_errors();
	test_sync_verify();
	test_report_luns();
	test_mode_sense();
	test_cdb_bounds();
	test_direct_predicate();
	test_sg_round_trip();
	test_sg_media_errors();
	test_sg_fua();
	test_sg_refused();
	test_sg_range();
	test_sg_cdb_bounds();
	return done_testing();
}
