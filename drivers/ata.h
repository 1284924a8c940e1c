/*
 * An emulated ATA (IDE) disk on the primary channel, PIO only: the
 * trap-and-emulate model a legacy guest reaches through port I/O
 * (command block 0x1f0-0x1f7, control block 0x3f6, IRQ 14). Device 0 is
 * the disk, backed by a struct block_backend; device 1 is absent.
 *
 * The model is synchronous: a command completes (or reaches its first
 * data phase) inside the port write that issued it, so the guest never
 * sees BSY except while it holds SRST. Every register value the guest
 * writes is untrusted; a bad one gets the drive's own answer (ERR with
 * ABRT/IDNF/UNC, an ignored write) and a platform->log() line.
 */
#ifndef DRIVERS_ATA_H
#define DRIVERS_ATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "platform.h"

#define ATA_CMD_BASE    0x1f0   /* data, error/features, ..., status/command */
#define ATA_CTRL_PORT   0x3f6   /* alternate status / device control */
#define ATA_IRQ         14

/* Command block register offsets from ATA_CMD_BASE. */
#define ATA_REG_DATA    0
#define ATA_REG_ERROR   1       /* read; features on write */
#define ATA_REG_COUNT   2
#define ATA_REG_LBAL    3
#define ATA_REG_LBAM    4
#define ATA_REG_LBAH    5
#define ATA_REG_DEVICE  6
#define ATA_REG_STATUS  7       /* read; command on write */

/* Status register. */
#define ATA_SR_BSY      0x80
#define ATA_SR_DRDY     0x40
#define ATA_SR_DF       0x20
#define ATA_SR_DSC      0x10    /* obsolete "seek complete": drives keep it set */
#define ATA_SR_DRQ      0x08
#define ATA_SR_ERR      0x01

/* Error register. */
#define ATA_ER_UNC      0x40
#define ATA_ER_IDNF     0x10
#define ATA_ER_ABRT     0x04

/* Device register. */
#define ATA_DEV_LBA     0x40
#define ATA_DEV_DEV1    0x10

/* Device control register. */
#define ATA_DC_HOB      0x80
#define ATA_DC_SRST     0x04
#define ATA_DC_NIEN     0x02

/* Commands the model implements. */
#define ATA_CMD_READ_SECTORS            0x20
#define ATA_CMD_READ_SECTORS_NORETRY    0x21
#define ATA_CMD_READ_SECTORS_EXT        0x24
#define ATA_CMD_READ_MULTIPLE_EXT       0x29
#define ATA_CMD_WRITE_SECTORS           0x30
#define ATA_CMD_WRITE_SECTORS_NORETRY   0x31
#define ATA_CMD_WRITE_SECTORS_EXT       0x34
#define ATA_CMD_WRITE_MULTIPLE_EXT      0x39
#define ATA_CMD_READ_VERIFY             0x40
#define ATA_CMD_READ_VERIFY_NORETRY     0x41
#define ATA_CMD_READ_VERIFY_EXT         0x42
#define ATA_CMD_EXEC_DIAGNOSTIC         0x90
#define ATA_CMD_INIT_DEV_PARAMS         0x91
#define ATA_CMD_READ_MULTIPLE           0xc4
#define ATA_CMD_WRITE_MULTIPLE          0xc5
#define ATA_CMD_SET_MULTIPLE            0xc6
#define ATA_CMD_STANDBY_IMMEDIATE       0xe0
#define ATA_CMD_IDLE_IMMEDIATE          0xe1
#define ATA_CMD_STANDBY                 0xe2
#define ATA_CMD_IDLE                    0xe3
#define ATA_CMD_CHECK_POWER_MODE        0xe5
#define ATA_CMD_SLEEP                   0xe6
#define ATA_CMD_FLUSH_CACHE             0xe7
#define ATA_CMD_FLUSH_CACHE_EXT         0xea
#define ATA_CMD_IDENTIFY                0xec
#define ATA_CMD_SET_FEATURES            0xef

#define ATA_SECTOR_SIZE 512
/* READ/WRITE MULTIPLE block limit (IDENTIFY word 47); the transfer
 * buffer holds one such block. */
#define ATA_MAX_MULTIPLE 16
/* The largest capacity IDENTIFY can state (words 100-103 are 48 bits). */
#define ATA_MAX_LBA48   (1ull << 48)

enum ata_xfer {
	ATA_XFER_NONE,
	ATA_XFER_IN,            /* device to host: the guest reads 0x1f0 */
	ATA_XFER_OUT,           /* host to device: the guest writes 0x1f0 */
};

/* Command block registers 1-5 are two-deep FIFOs for 48-bit commands:
 * a write pushes the current value into the "previous" (HOB) copy. */
struct ata_taskfile {
	uint8_t feature;
	uint8_t count;
	uint8_t lbal;
	uint8_t lbam;
	uint8_t lbah;
};

/* Counters for the bench and tests (DESIGN.md: observability). */
struct ata_stats {
	uint64_t commands;
	uint64_t errors;        /* commands ended with ERR */
	uint64_t sectors_read;
	uint64_t sectors_written;
	uint64_t rejected;      /* guest inputs logged as bad */
};

struct ata {
	const struct platform *p;
	const struct block_backend *disk;
	uint64_t capacity;      /* sectors, clamped to ATA_MAX_LBA48 */

	struct ata_taskfile tf, hob;
	uint8_t device;
	uint8_t control;
	uint8_t status;
	uint8_t error;
	bool in_reset;          /* SRST held: status reads BSY */
	bool irq_pending;       /* INTRQ condition, before nIEN and DEV */
	bool irq_line;          /* last level sent to platform->irq_set */

	/* Settings the guest changes. */
	uint8_t multiple;       /* READ/WRITE MULTIPLE block; 0: disabled */
	uint8_t xfer_mode;      /* SET FEATURES 03h value */
	bool write_cache;
	bool look_ahead;
	bool revert_defaults;   /* SET FEATURES CCh: SRST restores defaults */
	uint8_t cur_heads;      /* CHS translation in use (words 54-56) */
	uint8_t cur_spt;

	/* The command in progress: one DRQ block at a time. */
	enum ata_xfer xfer;
	uint8_t cmd;
	bool lba48;             /* the command is an EXT one */
	bool chs;               /* its address came in CHS form */
	uint64_t lba;           /* next sector to load (in) or store (out) */
	uint32_t remaining;     /* sectors not yet loaded/stored */
	uint32_t block;         /* sectors per DRQ block */
	uint32_t pos, len;      /* bytes of buf[] done / in this DRQ block */
	uint8_t buf[ATA_MAX_MULTIPLE * ATA_SECTOR_SIZE];

	struct ata_stats stats;
};

/* Power-on state: device 0 ready (status 50h), disk signature in the
 * registers. `disk` stays owned by the caller and must outlive `a`. */
void ata_init(struct ata *a, const struct platform *p,
	      const struct block_backend *disk);

/*
 * One guest port access. `size` is 1, 2 or 4 bytes; for a write *value
 * holds the data, for a read the model stores the result there,
 * zero-extended from `size` bytes. Returns false (and leaves *value
 * alone) when `port` is not one of the model's.
 */
bool ata_io(struct ata *a, uint16_t port, unsigned size, bool write,
	    uint32_t *value);

/*
 * The data port as a whole block, for REP INSW/INSD/OUTSW/OUTSD: move up
 * to `bytes` (rounded down to whole 16-bit words) between `buf` and the
 * current DRQ block, with the same effect as that many word accesses of
 * 0x1f0. Stops at the end of the DRQ block (the next one, if any, is
 * ready at once: call again). Returns the bytes moved; 0 when DRQ is
 * clear or the direction is the wrong one.
 */
size_t ata_data_in(struct ata *a, void *buf, size_t bytes);
size_t ata_data_out(struct ata *a, const void *buf, size_t bytes);

#endif
