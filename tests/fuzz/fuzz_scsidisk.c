/*
 * Fuzz target: the SCSI disk (drivers/scsidisk.c) against a 128 KiB RAM
 * disk, fed a sequence of commands, each a record:
 *
 *   [0] LUN: bit 7 set, the LUN is bits 0-2; clear, LUN 0
 *   [1] bit 0 data_in; bits 1-3 backend failures (read, write, flush) at
 *       sector [5]; bit 4 a NULL buffer
 *   [2..3] data_len, little-endian (0-65535)
 *   [4] cdb_len (0-31; only what the input still holds is given)
 *   [5] failing sector
 *   [6..] the CDB
 *
 * The CDB and the data buffer are heap blocks of exactly their sizes, so
 * AddressSanitizer reports a read past cdb_len or a write past data_len.
 * abort() reports a broken invariant: transferred <= data_len and
 * residual = data_len - transferred; GOOD without sense, CHECK
 * CONDITION with fixed-format sense (70h, additional length 10, a
 * nonzero key); a data-out buffer left untouched and a data-in buffer
 * untouched past `transferred`; the backend asked only for whole sectors
 * inside the disk, at most SCSIDISK_CHUNK at a time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "scsidisk.h"

#define SECTORS 256
#define CANARY 0xa5

static uint8_t disk_mem[SECTORS * 512];
static bool fail_read, fail_write, fail_flush;
static uint64_t fail_lba;

static void check_range(uint64_t lba, unsigned count)
{
	if (!count || count > SCSIDISK_CHUNK || lba >= SECTORS ||
	    count > SECTORS - lba)
		abort();
}

static int disk_read(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	check_range(lba, count);
	if (fail_read && fail_lba >= lba && fail_lba < lba + count)
		return -1;
	memcpy(buf, disk_mem + lba * 512, (size_t)count * 512);
	return 0;
}

static int disk_write(void *ctx, uint64_t lba, unsigned count,
		      const void *buf)
{
	check_range(lba, count);
	if (fail_write && fail_lba >= lba && fail_lba < lba + count)
		return -1;
	memcpy(disk_mem + lba * 512, buf, (size_t)count * 512);
	return 0;
}

static int disk_flush(void *ctx)
{
	return fail_flush ? -1 : 0;
}

static const struct block_backend backend = {
	NULL, SECTORS, disk_read, disk_write, disk_flush, NULL, NULL,
};

static void check_result(const struct scsi_result *r, const uint8_t *data,
			 uint32_t data_len, bool data_in)
{
	if (r->transferred > data_len ||
	    r->residual != data_len - r->transferred)
		abort();
	if (r->status == SCSI_STATUS_GOOD) {
		if (r->sense_len != 0)
			abort();
	} else if (r->status == SCSI_STATUS_CHECK_CONDITION) {
		if (r->sense_len != SCSI_SENSE_LEN ||
		    (r->sense[0] & 0x7f) != SCSI_SENSE_FIXED_CURRENT ||
		    r->sense[7] != SCSI_SENSE_LEN - 8 || r->sense[2] == 0 ||
		    r->sense[2] > 0xf)
			abort();
	} else {
		abort();
	}
	if (!data)
		return;
	for (uint32_t i = data_in ? r->transferred : 0; i < data_len; i++)
		if (data[i] != CANARY)
			abort();
}

static size_t run_one(struct scsidisk *d, const uint8_t *in, size_t size)
{
	struct scsi_result res;
	uint8_t lun, flags, *cdb = NULL, *data = NULL;
	uint32_t data_len;
	unsigned cdb_len;
	int rc;

	if (size < 6)
		return size;
	lun = in[0] & 0x80 ? in[0] & 7 : 0;
	flags = in[1];
	data_len = (uint32_t)in[2] | (uint32_t)in[3] << 8;
	cdb_len = in[4] & 31;
	fail_lba = in[5];
	if (cdb_len > size - 6)
		cdb_len = (unsigned)(size - 6);
	fail_read = flags & 0x02;
	fail_write = flags & 0x04;
	fail_flush = flags & 0x08;

	if (cdb_len) {
		cdb = malloc(cdb_len);
		if (!cdb)
			abort();
		memcpy(cdb, in + 6, cdb_len);
	}
	if (!(flags & 0x10)) {
		data = malloc(data_len ? data_len : 1);
		if (!data)
			abort();
		memset(data, CANARY, data_len);
	}
	rc = scsidisk_execute(d, cdb, cdb_len, lun, data, data_len, flags & 1,
			      &res);
	if (rc != res.status)
		abort();
	check_result(&res, data, data ? data_len : 0, flags & 1);
	free(cdb);
	free(data);
	return 6 + cdb_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	static struct scsidisk d;

	scsidisk_init(&d, &backend, "FUZZ0001");
	while (size >= 6) {
		size_t used = run_one(&d, in, size);

		in += used;
		size -= used;
	}
	return 0;
}

/* Records: lun, flags, data_len (le16), cdb_len, fail lba, CDB. */
static const uint8_t seeds[][24] = {
	{ 0, 0, 0, 0, 6, 0, 0x00, 0, 0, 0, 0, 0 },              /* TUR */
	{ 0, 1, 96, 0, 6, 0, 0x12, 0, 0, 0, 96, 0 },            /* INQUIRY */
	{ 0, 1, 255, 0, 6, 0, 0x12, 1, 0x83, 0, 255, 0 },       /* VPD 83h */
	{ 0, 1, 0, 4, 10, 0, 0x28, 0, 0, 0, 0, 8, 0, 0, 2, 0 }, /* READ(10) */
	{ 0, 0, 0, 4, 10, 0, 0x2a, 8, 0, 0, 0, 8, 0, 0, 2, 0 }, /* WRITE FUA */
	{ 0, 1, 32, 0, 16, 0, 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
	  0, 0, 0, 32, 0, 0 },                                  /* RC(16) */
	{ 0, 1, 255, 0, 10, 0, 0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 255, 0 },
	{ 0, 1, 64, 0, 12, 0, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0 },
	{ 0, 0, 0, 0, 16, 0, 0x91, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  0, 0, 0, 0, 0, 0 },                                   /* SYNC(16) */
	{ 0, 1, 0, 2, 16, 0, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 254,
	  0, 0, 0, 2, 0, 0 },                                   /* READ(16) */
	{ 0x81, 1, 18, 0, 6, 0, 0x03, 0, 0, 0, 18, 0 },         /* SENSE LUN 1 */
	{ 0, 3, 0, 16, 10, 9, 0x28, 0, 0, 0, 0, 0, 0, 0, 32, 0 },/* bad read */
};

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	size_t n;

	if (i >= sizeof(seeds) / sizeof(seeds[0]))
		return 0;
	n = 6 + seeds[i][4];
	if (n > cap)
		return 0;
	memcpy(buf, seeds[i], n);
	return n;
}
