/*
 * A SCSI direct-access disk (SBC-3/SPC-3 subset) over a struct
 * block_backend: the target half of the synthetic storage path. storvsp
 * takes an EXECUTE_SRB packet off the VMBus ring, copies the guest's data
 * pages in (write) into a flat buffer, calls scsidisk_execute(), copies
 * the buffer back out (read) and answers COMPLETE_IO with the status,
 * byte count and sense data this layer returns.
 *
 * One logical unit, LUN 0, 512-byte blocks, a write-back cache the
 * backend's flush empties (so the guest sends SYNCHRONIZE CACHE and FUA).
 * Every CDB byte, the LUN, the direction and the buffer length are
 * untrusted: a bad one gets the CHECK CONDITION a real disk would give,
 * never a read past cdb_len or a transfer past data_len.
 *
 * Autosense: every CHECK CONDITION carries its sense data in the result
 * (storvsc asks for it in every SRB), so no sense is left pending and
 * REQUEST SENSE answers NO SENSE.
 */
#ifndef DRIVERS_SCSIDISK_H
#define DRIVERS_SCSIDISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "platform.h"

#define SCSIDISK_BLOCK_SIZE     512
#define SCSIDISK_SERIAL_MAX     20      /* VPD page 0x80 length */
#define SCSIDISK_MAX_CDB        16
/* Sectors per backend call: long transfers go in pieces. */
#define SCSIDISK_CHUNK          128

/* Status byte. */
#define SCSI_STATUS_GOOD                0x00
#define SCSI_STATUS_CHECK_CONDITION     0x02

/* Fixed-format sense data. */
#define SCSI_SENSE_LEN                  18
#define SCSI_SENSE_FIXED_CURRENT        0x70
#define SCSI_SENSE_VALID                0x80    /* information field valid */

/* Sense keys. */
#define SCSI_SK_NO_SENSE                0x0
#define SCSI_SK_NOT_READY               0x2
#define SCSI_SK_MEDIUM_ERROR            0x3
#define SCSI_SK_ILLEGAL_REQUEST         0x5

/* Additional sense codes (ASC, ASCQ 0 unless noted). */
#define SCSI_ASC_NO_ADDITIONAL          0x00
#define SCSI_ASC_WRITE_ERROR            0x0c
#define SCSI_ASC_UNRECOVERED_READ       0x11
#define SCSI_ASC_INVALID_OPCODE         0x20
#define SCSI_ASC_LBA_OUT_OF_RANGE       0x21
#define SCSI_ASC_INVALID_FIELD_IN_CDB   0x24
#define SCSI_ASC_LUN_NOT_SUPPORTED      0x25
#define SCSI_ASC_SAVING_NOT_SUPPORTED   0x39
#define SCSI_ASC_MEDIUM_NOT_PRESENT     0x3a

/* Operation codes the disk implements. */
#define SCSI_TEST_UNIT_READY            0x00
#define SCSI_REQUEST_SENSE              0x03
#define SCSI_READ_6                     0x08
#define SCSI_WRITE_6                    0x0a
/* The LUN to address for a target that does not exist: INQUIRY answers
 * peripheral qualifier 3, REPORT LUNS lists no LUN, the rest is as for
 * any absent LUN. */
#define SCSIDISK_NO_TARGET              0xff
#define SCSI_INQUIRY                    0x12
#define SCSI_MODE_SENSE_6               0x1a
#define SCSI_START_STOP_UNIT            0x1b
#define SCSI_READ_CAPACITY_10           0x25
#define SCSI_READ_10                    0x28
#define SCSI_WRITE_10                   0x2a
#define SCSI_VERIFY_10                  0x2f
#define SCSI_SYNCHRONIZE_CACHE_10       0x35
#define SCSI_MODE_SENSE_10              0x5a
#define SCSI_READ_16                    0x88
#define SCSI_WRITE_16                   0x8a
#define SCSI_VERIFY_16                  0x8f
#define SCSI_SYNCHRONIZE_CACHE_16       0x91
#define SCSI_SERVICE_ACTION_IN_16       0x9e
#define SCSI_SAI_READ_CAPACITY_16       0x10
#define SCSI_REPORT_LUNS                0xa0

/* Mode pages. */
#define SCSI_MODE_PAGE_CACHING          0x08
#define SCSI_MODE_PAGE_CONTROL          0x0a
#define SCSI_MODE_PAGE_ALL              0x3f

/* VPD pages. */
#define SCSI_VPD_SUPPORTED              0x00
#define SCSI_VPD_UNIT_SERIAL            0x80
#define SCSI_VPD_DEVICE_ID              0x83
#define SCSI_VPD_BLOCK_LIMITS           0xb0
#define SCSI_VPD_BLOCK_CHARACTERISTICS  0xb1

struct scsi_result {
	uint8_t status;                 /* SCSI_STATUS_* */
	/* Bytes moved to (data_in) or taken from the caller's buffer. */
	uint32_t transferred;
	/* data_len - transferred: the part of the buffer left unused. */
	uint32_t residual;
	/* The command wanted more bytes than data_len allowed (storvsp's
	 * SRB_STATUS_DATA_OVERRUN); what fitted was transferred. */
	bool overrun;
	/* Fixed-format sense, valid (sense_len 18) on CHECK CONDITION. */
	uint8_t sense_len;
	uint8_t sense[SCSI_SENSE_LEN];
};

struct scsidisk_stats {
	uint64_t commands;
	uint64_t check_conditions;
	uint64_t blocks_read;
	uint64_t blocks_written;
	uint64_t flushes;
	uint64_t media_errors;
};

struct scsidisk {
	const struct block_backend *backend;
	char serial[SCSIDISK_SERIAL_MAX + 1];
	uint8_t serial_len;
	uint64_t naa;                   /* locally assigned NAA identifier */
	struct scsidisk_stats stats;
	/* Bounce buffer for a read that ends inside a block. */
	uint8_t bounce[SCSIDISK_BLOCK_SIZE];
	/* One block of a segment list, for the block-by-block retry of a
	 * failed DMA transfer: a block has at most one piece per byte. */
	struct blk_seg slice[SCSIDISK_BLOCK_SIZE];
};

/*
 * Set up a disk over `b` (kept by pointer; b->sectors is the capacity and
 * may be 0, a disk without medium). `serial` (NULL for "0") becomes the
 * unit serial number: at most 20 characters, anything but printable
 * ASCII replaced by '_'.
 */
void scsidisk_init(struct scsidisk *d, const struct block_backend *b,
		   const char *serial);

/*
 * Execute one command: `cdb` of `cdb_len` bytes (only the first 16 are
 * read, once) addressed to `lun`, with the caller's buffer `data` of
 * `data_len` bytes (may be NULL when data_len is 0). `data_in` says which
 * way the buffer goes: true, device to initiator (the disk writes at most
 * data_len bytes into it); false, initiator to device. Fills *res and
 * returns res->status.
 */
int scsidisk_execute(struct scsidisk *d, const uint8_t *cdb, unsigned cdb_len,
		     uint8_t lun, void *data, uint32_t data_len, bool data_in,
		     struct scsi_result *res);

/*
 * Whether scsidisk_execute_sg can serve this command: a READ or WRITE
 * (6, 10 or 16) to LUN 0 of exactly data_len bytes of whole blocks, over
 * a backend with read_sg/write_sg. Everything else goes through a buffer.
 */
bool scsidisk_direct(const struct scsidisk *d, const uint8_t *cdb, unsigned cdb_len,
		     uint8_t lun, uint32_t data_len);
/*
 * scsidisk_execute with the data in physical segments (lengths adding up
 * to data_len) that the backend's DMA reaches directly: no copy. A command
 * scsidisk_direct refuses gets CHECK CONDITION, INVALID FIELD IN CDB.
 */
int scsidisk_execute_sg(struct scsidisk *d, const uint8_t *cdb, unsigned cdb_len,
			uint8_t lun, const struct blk_seg *segs, unsigned nsegs,
			uint32_t data_len, bool data_in, struct scsi_result *res);

#endif
