/*
 * Fuzz target: the emulated ATA disk (drivers/ata.c) driven by a
 * sequence of 4-byte operations against a 1 MiB RAM disk:
 *
 *   op[0] >> 5: 0-3 a port access: port = ports[op[0] & 15],
 *                   op[1] bits 0-1 size (1, 2, 4, or a bad 3), bit 2
 *                   write, value = op[2] | op[3] << 8 | op[1] >> 3 << 16;
 *               4   ata_data_in of (op[2] | op[3] << 8) bytes;
 *               5   ata_data_out of the same;
 *               6   backend failures: op[1] bits 0-2 fail read, write,
 *                   flush, at sector op[2] | op[3] << 8;
 *               7   a whole LBA28 command: count op[3], LBA op[2],
 *                   device E0h, command op[1].
 *
 * After every operation the model's invariants are checked and abort()
 * reports a broken one: the transfer window inside the buffer, DRQ set
 * exactly while a data phase is open, no ERR with DRQ, BSY only in SRST,
 * the disk range of a data phase inside the disk, the IRQ line the
 * platform saw equal to pending && !nIEN && device 0 selected. The
 * backend aborts on any access outside the disk or above 16 sectors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ata.h"

#define SECTORS 2048
#define MAX_OPS 4096

static uint8_t *disk_mem;
static uint8_t xfer_buf[64 * 1024];
static struct ata ata;
static bool irq_level;
static bool fail_read, fail_write, fail_flush;
static uint64_t fail_lba;

static const uint16_t ports[16] = {
	0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7,
	0x3f6, 0x1f0, 0x1f7, 0x1f0, 0x3f6, 0x1f6, 0x3f7, 0x1ef,
};

static void check_range(uint64_t lba, unsigned count)
{
	if (!count || count > ATA_MAX_MULTIPLE || lba >= SECTORS ||
	    count > SECTORS - lba)
		abort();
}

static int disk_read(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	check_range(lba, count);
	if (fail_read && fail_lba >= lba && fail_lba < lba + count)
		return -1;
	memcpy(buf, disk_mem + lba * ATA_SECTOR_SIZE,
	       (size_t)count * ATA_SECTOR_SIZE);
	return 0;
}

static int disk_write(void *ctx, uint64_t lba, unsigned count,
		      const void *buf)
{
	check_range(lba, count);
	if (fail_write && fail_lba >= lba && fail_lba < lba + count)
		return -1;
	memcpy(disk_mem + lba * ATA_SECTOR_SIZE, buf,
	       (size_t)count * ATA_SECTOR_SIZE);
	return 0;
}

static int disk_flush(void *ctx)
{
	return fail_flush ? -1 : 0;
}

static const struct block_backend backend = {
	.sectors = SECTORS, .read = disk_read, .write = disk_write,
	.flush = disk_flush,
};

static void on_irq(void *ctx, unsigned irq, bool level)
{
	/* Only IRQ 14, and only on a change. */
	if (irq != ATA_IRQ || level == irq_level)
		abort();
	irq_level = level;
}

static void on_log(void *ctx, const char *msg)
{
	if (!msg || strnlen(msg, 200) == 200)
		abort();
}

static const struct platform plat = {
	.irq_set = on_irq, .log = on_log,
};

static void invariants(void)
{
	const struct ata *a = &ata;
	bool dev1 = a->device & ATA_DEV_DEV1;
	bool drq = a->status & ATA_SR_DRQ;
	uint32_t alt = 0;

	if (a->len > sizeof(a->buf) || a->pos > a->len || a->pos % 2 ||
	    a->len % ATA_SECTOR_SIZE)
		abort();
	if ((a->xfer != ATA_XFER_NONE) != drq)
		abort();
	if (a->status & ATA_SR_BSY)
		abort();        /* BSY exists only as the SRST view */
	if (!(a->status & ATA_SR_DRDY) || (drq && (a->status & ATA_SR_ERR)))
		abort();
	if (a->xfer != ATA_XFER_NONE) {
		if (!a->len || a->pos >= a->len || !a->block ||
		    a->remaining > 65536 ||
		    a->len / ATA_SECTOR_SIZE > a->remaining ||
		    a->len / ATA_SECTOR_SIZE > a->block)
			abort();
		if (a->cmd != ATA_CMD_IDENTIFY &&
		    (a->lba > SECTORS || a->remaining > SECTORS - a->lba))
			abort();
	}
	if (a->in_reset && a->xfer != ATA_XFER_NONE)
		abort();
	if (irq_level != (a->irq_pending && !(a->control & ATA_DC_NIEN) &&
			  !dev1))
		abort();
	/* The alternate status is the register view, without side effects. */
	if (!ata_io(&ata, ATA_CTRL_PORT, 1, false, &alt) || alt > 0xff)
		abort();
	if (a->in_reset ? alt != ATA_SR_BSY : dev1 ? alt != 0 :
	    alt != a->status)
		abort();
}

static void port_op(const uint8_t *op)
{
	static const unsigned sizes[4] = { 1, 2, 4, 3 };
	uint16_t port = ports[op[0] & 15];
	unsigned size = sizes[op[1] & 3];
	bool write = op[1] & 4;
	uint32_t value = op[2] | (uint32_t)op[3] << 8 |
			 (uint32_t)(op[1] >> 3) << 16;
	uint32_t before = value;
	bool mine = port != 0x3f7 && port != 0x1ef;

	if (ata_io(&ata, port, size, write, &value) != mine)
		abort();
	if (!mine && value != before)
		abort();
	if (mine && !write && size < 3 && (value >> (8 * size)))
		abort();        /* reads are zero-extended */
}

static void block_op(const uint8_t *op, bool out)
{
	size_t bytes = op[2] | (size_t)op[3] << 8, n;

	if (out) {
		n = ata_data_out(&ata, xfer_buf, bytes);
	} else {
		memset(xfer_buf, 0xee, bytes);
		n = ata_data_in(&ata, xfer_buf, bytes);
		/* Nothing written past what it says it moved. */
		for (size_t i = n; i < bytes; i++)
			if (xfer_buf[i] != 0xee)
				abort();
	}
	if (n > bytes || n % 2 || n > sizeof(ata.buf))
		abort();
}

static void command_op(const uint8_t *op)
{
	uint32_t v;

	v = op[3];
	ata_io(&ata, 0x1f2, 1, true, &v);
	v = op[2];
	ata_io(&ata, 0x1f3, 1, true, &v);
	v = 0;
	ata_io(&ata, 0x1f4, 1, true, &v);
	ata_io(&ata, 0x1f5, 1, true, &v);
	v = 0xe0;
	ata_io(&ata, 0x1f6, 1, true, &v);
	v = op[1];
	ata_io(&ata, 0x1f7, 1, true, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned ops = 0;

	if (!disk_mem) {
		disk_mem = calloc(SECTORS, ATA_SECTOR_SIZE);
		if (!disk_mem)
			abort();
	}
	irq_level = false;
	fail_read = fail_write = fail_flush = false;
	ata_init(&ata, &plat, &backend);
	invariants();
	for (; size >= 4 && ops < MAX_OPS; data += 4, size -= 4, ops++) {
		switch (data[0] >> 5) {
		case 4:
			block_op(data, false);
			break;
		case 5:
			block_op(data, true);
			break;
		case 6:
			fail_read = data[1] & 1;
			fail_write = data[1] & 2;
			fail_flush = data[1] & 4;
			fail_lba = (data[2] | (uint64_t)data[3] << 8) % SECTORS;
			break;
		case 7:
			command_op(data);
			break;
		default:
			port_op(data);
			break;
		}
		invariants();
	}
	return 0;
}

/* ---- seeds: valid command sequences ------------------------------------ */

struct seed {
	uint8_t *p;
	size_t n, cap;
};

static void op(struct seed *s, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	if (s->n + 4 > s->cap)
		return;
	s->p[s->n++] = a;
	s->p[s->n++] = b;
	s->p[s->n++] = c;
	s->p[s->n++] = d;
}

/* Port selectors and op[1] flags for port_op. */
enum { P_DATA, P_ERR, P_COUNT, P_LBAL, P_LBAM, P_LBAH, P_DEV, P_CMD, P_CTL };
#define W1      0x04            /* 1-byte write */
#define R1      0x00
#define R2      0x01
#define W2      0x05
#define W4      0x06

static void outp(struct seed *s, unsigned port, uint8_t v)
{
	op(s, (uint8_t)port, W1, v, 0);
}

static void block_in(struct seed *s, unsigned bytes)
{
	op(s, 4 << 5, 0, (uint8_t)bytes, (uint8_t)(bytes >> 8));
}

static void block_out(struct seed *s, unsigned bytes)
{
	op(s, 5 << 5, 0, (uint8_t)bytes, (uint8_t)(bytes >> 8));
}

static void cmd28(struct seed *s, uint8_t cmd, uint8_t lba, uint8_t count)
{
	op(s, 7 << 5, cmd, lba, count);
}

static void cmd48(struct seed *s, uint8_t cmd, uint16_t lba, uint8_t count)
{
	outp(s, P_COUNT, 0);
	outp(s, P_COUNT, count);
	outp(s, P_LBAL, 0);
	outp(s, P_LBAL, (uint8_t)lba);
	outp(s, P_LBAM, 0);
	outp(s, P_LBAM, (uint8_t)(lba >> 8));
	outp(s, P_LBAH, 0);
	outp(s, P_LBAH, 0);
	outp(s, P_DEV, 0x40);
	outp(s, P_CMD, cmd);
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	struct seed s = { buf, 0, cap };

	switch (i) {
	case 0:         /* IDENTIFY, read word by word */
		outp(&s, P_DEV, 0xa0);
		outp(&s, P_CMD, ATA_CMD_IDENTIFY);
		op(&s, P_CMD, R1, 0, 0);
		for (unsigned w = 0; w < 256; w++)
			op(&s, P_DATA, R2, 0, 0);
		op(&s, P_CMD, R1, 0, 0);
		break;
	case 1:         /* write 2 sectors, read them back */
		cmd28(&s, ATA_CMD_WRITE_SECTORS, 1, 2);
		block_out(&s, 512);
		op(&s, P_CMD, R1, 0, 0);
		block_out(&s, 512);
		cmd28(&s, ATA_CMD_READ_SECTORS, 1, 2);
		block_in(&s, 1024);
		block_in(&s, 1024);
		break;
	case 2:         /* LBA48 write with 32-bit data, read with HOB */
		cmd48(&s, ATA_CMD_WRITE_SECTORS_EXT, 0x345, 1);
		for (unsigned w = 0; w < 128; w++)
			op(&s, P_DATA, W4 | (uint8_t)(w << 3), (uint8_t)w, 0x5a);
		cmd48(&s, ATA_CMD_READ_SECTORS_EXT, 0x345, 1);
		outp(&s, P_CTL, ATA_DC_HOB);
		op(&s, P_LBAL, R1, 0, 0);
		op(&s, P_LBAM, R1, 0, 0);
		block_in(&s, 512);
		break;
	case 3:         /* multiple mode */
		outp(&s, P_COUNT, 4);
		outp(&s, P_CMD, ATA_CMD_SET_MULTIPLE);
		cmd28(&s, ATA_CMD_WRITE_MULTIPLE, 40, 9);
		block_out(&s, 4608);
		block_out(&s, 4608);
		block_out(&s, 4608);
		cmd28(&s, ATA_CMD_READ_MULTIPLE, 40, 9);
		block_in(&s, 2048);
		block_in(&s, 2048);
		block_in(&s, 512);
		break;
	case 4:         /* SRST in a data phase, device 1, diagnostic */
		cmd28(&s, ATA_CMD_READ_SECTORS, 7, 3);
		block_in(&s, 100);
		outp(&s, P_CTL, ATA_DC_SRST);
		outp(&s, P_CTL, 0);
		outp(&s, P_DEV, 0xb0);
		op(&s, P_CMD, R1, 0, 0);
		outp(&s, P_CMD, ATA_CMD_IDENTIFY);
		outp(&s, P_CMD, ATA_CMD_EXEC_DIAGNOSTIC);
		op(&s, P_ERR, R1, 0, 0);
		break;
	case 5:         /* features, flush, nIEN, failures, count 0 */
		outp(&s, P_CTL, ATA_DC_NIEN);
		outp(&s, P_ERR, 0x82);
		outp(&s, P_CMD, ATA_CMD_SET_FEATURES);
		op(&s, 6 << 5, 3, 100, 0);
		cmd28(&s, ATA_CMD_WRITE_SECTORS, 99, 3);
		block_out(&s, 512);
		block_out(&s, 512);
		cmd28(&s, ATA_CMD_READ_SECTORS, 0, 0);
		block_in(&s, 512);
		outp(&s, P_CMD, ATA_CMD_FLUSH_CACHE_EXT);
		outp(&s, P_CTL, 0);
		break;
	case 6:         /* CHS read, INITIALIZE DEVICE PARAMETERS */
		outp(&s, P_COUNT, 17);
		outp(&s, P_DEV, 0xa3);
		outp(&s, P_CMD, ATA_CMD_INIT_DEV_PARAMS);
		outp(&s, P_COUNT, 2);
		outp(&s, P_LBAL, 17);
		outp(&s, P_LBAM, 1);
		outp(&s, P_LBAH, 0);
		outp(&s, P_DEV, 0xa2);
		outp(&s, P_CMD, ATA_CMD_READ_SECTORS);
		block_in(&s, 1024);
		block_in(&s, 1024);
		break;
	case 7:         /* SET FEATURES subcommands, revert on SRST */
		outp(&s, P_COUNT, 2);
		outp(&s, P_CMD, ATA_CMD_SET_MULTIPLE);
		outp(&s, P_ERR, 0xcc);
		outp(&s, P_CMD, ATA_CMD_SET_FEATURES);
		outp(&s, P_ERR, 0x03);
		outp(&s, P_COUNT, 0x0c);
		outp(&s, P_CMD, ATA_CMD_SET_FEATURES);
		outp(&s, P_ERR, 0x55);
		outp(&s, P_CMD, ATA_CMD_SET_FEATURES);
		outp(&s, P_CTL, ATA_DC_SRST);
		outp(&s, P_CTL, 0);
		outp(&s, P_ERR, 0xaa);
		outp(&s, P_CMD, ATA_CMD_SET_FEATURES);
		outp(&s, P_ERR, 0x66);
		outp(&s, P_CMD, ATA_CMD_SET_FEATURES);
		break;
	default:
		return 0;
	}
	return s.n;
}
