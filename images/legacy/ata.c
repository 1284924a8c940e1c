/*
 * ATA PIO on the primary channel's master drive, polled, interrupts off
 * (nIEN), written to the ATA/ATAPI-6 protocols a real drive follows:
 *
 *   - registers: command block 0x1f0-0x1f7, control block 0x3f6 (read:
 *     alternate status, which polls without side effects; write: device
 *     control, always with nIEN);
 *   - a command is written only when BSY and DRQ are clear and DRDY set;
 *     LBA28 commands carry LBA 27:24 in the device register (0xe0 | ...),
 *     EXT commands write the "previous" (HOB) bytes of count and LBA
 *     first, then the current ones, into the two-deep register FIFOs;
 *   - after a command, and after each DRQ block, 400 ns pass (four
 *     alternate status reads) before status means anything;
 *   - data-in: for each DRQ block, BSY clear then DRQ set, one REP INSW
 *     of the whole block (256 words a sector; d->multiple sectors for the
 *     MULTIPLE commands); data-out the same with REP OUTSW; the command
 *     ends with BSY and DRQ clear, ERR/DF clear on success;
 *   - a drive that fails a command sets ERR and explains in the error
 *     register (ABRT, IDNF, ...); we read it back and report both bytes.
 *
 * Every wait is bounded: a missing or wedged drive is a failed check, not
 * a hung guest.
 */
#include <string.h>
#include "legacy.h"

#define ATA_DATA     0x1f0
#define ATA_ERROR    0x1f1              /* read */
#define ATA_FEATURE  0x1f1              /* write */
#define ATA_COUNT    0x1f2
#define ATA_LBAL     0x1f3
#define ATA_LBAM     0x1f4
#define ATA_LBAH     0x1f5
#define ATA_DEVICE   0x1f6
#define ATA_STATUS   0x1f7              /* read */
#define ATA_COMMAND  0x1f7              /* write */
#define ATA_ALTSTAT  0x3f6              /* read */
#define ATA_DEVCTL   0x3f6              /* write */

#define DC_NIEN      0x02
#define DC_SRST      0x04
#define DEV_MASTER   0xa0               /* obsolete bits 7 and 5 set */
#define DEV_LBA      0x40

#define WORDS_PER_SECTOR (ATA_SECTOR / 2)
/* Status polls before a wait is given up: seconds of real hardware. */
#define ATA_SPINS 20000000u

static uint16_t xfer[ATA_MULTIPLE_MAX * WORDS_PER_SECTOR]
	__attribute__((aligned(16)));

static void delay_400ns(void)
{
	for (int i = 0; i < 4; i++)
		inb(ATA_ALTSTAT);
}

static int fail(struct ata_result *res, const char *why)
{
	res->status = inb(ATA_ALTSTAT);
	res->error = inb(ATA_ERROR);
	res->why = why;
	return -1;
}

/* BSY clear; then the status register proper. -1 on timeout. */
static int wait_not_busy(uint8_t *status)
{
	for (uint32_t i = 0; i < ATA_SPINS; i++) {
		if (!(inb(ATA_ALTSTAT) & ATA_SR_BSY)) {
			*status = inb(ATA_STATUS);
			return 0;
		}
	}
	*status = inb(ATA_ALTSTAT);
	return -1;
}

/* Ready for a new command: BSY and DRQ clear, DRDY set. */
static int wait_ready(struct ata_result *res)
{
	for (uint32_t i = 0; i < ATA_SPINS; i++) {
		uint8_t s = inb(ATA_ALTSTAT);

		if (!(s & (ATA_SR_BSY | ATA_SR_DRQ)) && (s & ATA_SR_DRDY))
			return 0;
	}
	return fail(res, "drive never became ready (BSY/DRQ set or DRDY clear)");
}

static void soft_reset(void)
{
	outb(ATA_DEVCTL, DC_NIEN | DC_SRST);
	for (int i = 0; i < 20; i++)            /* hold SRST >= 5 us */
		inb(ATA_ALTSTAT);
	outb(ATA_DEVCTL, DC_NIEN);
	delay_400ns();
}

/* A command that failed midway may leave DRQ set: reset the drive so the
 * next check starts from a clean state. */
static int fail_and_recover(struct ata_result *res, const char *why)
{
	uint8_t s;

	fail(res, why);
	if (res->status & (ATA_SR_BSY | ATA_SR_DRQ)) {
		soft_reset();
		wait_not_busy(&s);
	}
	return -1;
}

static bool cmd_is_ext(uint8_t cmd)
{
	return cmd == ATA_CMD_READ_SECTORS_EXT || cmd == 0x29 ||
	       cmd == ATA_CMD_WRITE_SECTORS_EXT || cmd == 0x39;
}

static bool cmd_is_multiple(uint8_t cmd)
{
	return cmd == ATA_CMD_READ_MULTIPLE || cmd == ATA_CMD_WRITE_MULTIPLE ||
	       cmd == 0x29 || cmd == 0x39;
}

/* Write the taskfile and the command. `count` is the register value
 * (0 meaning 256, or 65536 for EXT). */
static int issue(uint8_t cmd, uint64_t lba, uint32_t count, bool ext,
		 struct ata_result *res)
{
	if (wait_ready(res))
		return -1;
	if (ext) {
		outb(ATA_DEVICE, DEV_MASTER | DEV_LBA);
		outb(ATA_FEATURE, 0);
		outb(ATA_COUNT, (uint8_t)(count >> 8));
		outb(ATA_LBAL, (uint8_t)(lba >> 24));
		outb(ATA_LBAM, (uint8_t)(lba >> 32));
		outb(ATA_LBAH, (uint8_t)(lba >> 40));
	} else {
		outb(ATA_DEVICE, (uint8_t)(DEV_MASTER | DEV_LBA |
					   ((lba >> 24) & 0x0f)));
	}
	outb(ATA_FEATURE, 0);
	outb(ATA_COUNT, (uint8_t)count);
	outb(ATA_LBAL, (uint8_t)lba);
	outb(ATA_LBAM, (uint8_t)(lba >> 8));
	outb(ATA_LBAH, (uint8_t)(lba >> 16));
	outb(ATA_COMMAND, cmd);
	delay_400ns();
	return 0;
}

/* Before each DRQ block: BSY clear, no error, DRQ set. */
static int wait_drq(struct ata_result *res)
{
	uint8_t s;

	if (wait_not_busy(&s))
		return fail_and_recover(res, "BSY stuck");
	if (s & (ATA_SR_ERR | ATA_SR_DF))
		return fail_and_recover(res, "command failed (ERR or DF)");
	if (!(s & ATA_SR_DRQ))
		return fail_and_recover(res, "no DRQ for a data block");
	return 0;
}

/* After the last block (or a no-data command): BSY and DRQ clear, ERR
 * and DF clear. The status and error bytes land in *res either way. */
static int finish(struct ata_result *res)
{
	uint8_t s;

	delay_400ns();
	if (wait_not_busy(&s))
		return fail_and_recover(res, "BSY stuck at the end of the command");
	res->status = s;
	res->error = inb(ATA_ERROR);
	res->why = "";
	if (s & (ATA_SR_ERR | ATA_SR_DF)) {
		res->why = "command failed (ERR or DF)";
		return -1;
	}
	if (s & ATA_SR_DRQ)
		return fail_and_recover(res, "DRQ still set after the last block");
	return 0;
}

static int check_range(const struct ata_drive *d, uint8_t cmd, uint64_t lba,
		       uint32_t count, unsigned *block, struct ata_result *res)
{
	bool ext = cmd_is_ext(cmd);

	res->status = res->error = 0;
	res->why = "";
	if (!count || count > (ext ? 65536u : 256u))
		return fail(res, "sector count out of range for the command");
	if (!ext && lba + count > (1ull << 28))
		return fail(res, "LBA28 command past 128 GiB");
	if (ext && lba + count > (1ull << 48))
		return fail(res, "LBA48 command past the 48-bit range");
	*block = cmd_is_multiple(cmd) ? d->multiple : 1;
	if (!*block)
		return fail(res, "MULTIPLE command before SET MULTIPLE");
	return 0;
}

int ata_pio_in(struct ata_drive *d, uint8_t cmd, uint64_t lba, uint32_t count,
	       ata_take_fn take, void *ctx, struct ata_result *res)
{
	unsigned block;

	if (check_range(d, cmd, lba, count, &block, res) ||
	    issue(cmd, lba, count, cmd_is_ext(cmd), res))
		return -1;
	for (uint32_t done = 0; done < count;) {
		unsigned n = count - done < block ? count - done : block;

		if (wait_drq(res))
			return -1;
		insw_rep(ATA_DATA, xfer, (size_t)n * WORDS_PER_SECTOR);
		take(ctx, lba + done, xfer, n);
		done += n;
		if (done < count)
			delay_400ns();
	}
	return finish(res);
}

int ata_pio_out(struct ata_drive *d, uint8_t cmd, uint64_t lba, uint32_t count,
		ata_fill_fn fill, void *ctx, struct ata_result *res)
{
	unsigned block;

	if (check_range(d, cmd, lba, count, &block, res) ||
	    issue(cmd, lba, count, cmd_is_ext(cmd), res))
		return -1;
	for (uint32_t done = 0; done < count;) {
		unsigned n = count - done < block ? count - done : block;

		fill(ctx, lba + done, xfer, n);
		if (wait_drq(res))
			return -1;
		outsw_rep(ATA_DATA, xfer, (size_t)n * WORDS_PER_SECTOR);
		done += n;
		if (done < count)
			delay_400ns();
	}
	return finish(res);
}

int ata_nodata(uint8_t cmd, uint8_t count, struct ata_result *res)
{
	res->why = "";
	if (issue(cmd, 0, count, false, res))
		return -1;
	return finish(res);
}

int ata_set_multiple(struct ata_drive *d, unsigned n, struct ata_result *res)
{
	if (!n || n > ATA_MULTIPLE_MAX || n > d->max_multiple)
		return fail(res, "multiple count the drive does not offer");
	d->multiple = 0;
	if (ata_nodata(ATA_CMD_SET_MULTIPLE, (uint8_t)n, res))
		return -1;
	d->multiple = n;
	return 0;
}

static void parse_identify(struct ata_drive *d)
{
	const uint16_t *id = d->id;
	int len = 0;

	/* Words 27-46: 40 ASCII characters, the first of each pair in the
	 * high byte; padded with spaces. */
	for (int w = 27; w <= 46; w++) {
		d->model[len++] = (char)(id[w] >> 8);
		d->model[len++] = (char)id[w];
	}
	while (len > 0 && (d->model[len - 1] == ' ' || !d->model[len - 1]))
		len--;
	d->model[len] = '\0';
	d->sectors28 = id[60] | ((uint32_t)id[61] << 16);
	/* Word 83 is valid when bits 15:14 read 01. */
	d->lba48 = (id[83] & 0xc000) == 0x4000 && (id[83] & (1u << 10));
	d->sectors48 = (uint64_t)id[100] | ((uint64_t)id[101] << 16) |
		       ((uint64_t)id[102] << 32) | ((uint64_t)id[103] << 48);
	d->max_multiple = id[47] & 0xff;
}

int ata_probe(struct ata_drive *d, struct ata_result *res)
{
	uint8_t s, lbam, lbah;

	memset(d, 0, sizeof(*d));
	res->why = "";
	outb(ATA_DEVCTL, DC_NIEN);
	outb(ATA_DEVICE, DEV_MASTER);
	delay_400ns();
	if (inb(ATA_STATUS) == 0xff)
		return fail(res, "no ATA controller at 0x1f0 (status floats 0xff)");
	soft_reset();
	if (wait_not_busy(&s))
		return fail(res, "BSY stuck after software reset");
	outb(ATA_DEVICE, DEV_MASTER);
	delay_400ns();
	/* The reset signature tells a disk from a packet device. */
	lbam = inb(ATA_LBAM);
	lbah = inb(ATA_LBAH);
	if ((lbam == 0x14 && lbah == 0xeb) || (lbam == 0x69 && lbah == 0x96))
		return fail(res, "primary master is a packet (ATAPI) device");
	if (inb(ATA_STATUS) == 0)
		return fail(res, "no drive on the primary master (status reads 0)");
	if (issue(ATA_CMD_IDENTIFY, 0, 0, false, res))
		return -1;
	if (wait_drq(res))
		return -1;
	insw_rep(ATA_DATA, d->id, 256);
	if (finish(res))
		return -1;
	parse_identify(d);
	d->present = true;
	return 0;
}
