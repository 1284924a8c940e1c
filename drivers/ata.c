/*
 * Emulated ATA disk, PIO on the primary channel (see ata.h).
 *
 * The protocol a guest follows, and what the model answers:
 *   - The guest writes features/count/LBA/device (48-bit commands write
 *     each of registers 1-5 twice: the first value moves to the "HOB"
 *     copy), then the command. A command written while BSY or DRQ is set,
 *     or to absent device 1, is ignored, as a drive ignores it.
 *   - PIO data-in (READ, IDENTIFY): the first DRQ block is loaded, DRQ
 *     set and INTRQ raised; when the guest has read the whole block the
 *     next is loaded with another interrupt; after the last one the
 *     status goes back to DRDY without an interrupt.
 *   - PIO data-out (WRITE): DRQ is set without an interrupt; each full
 *     block goes to the backend and raises INTRQ, the last one completing
 *     the command.
 *   - Errors end the command at once with DRDY|ERR, the error register
 *     saying why, the address registers holding the failing sector, and
 *     INTRQ: IDNF for a range outside the disk (no data phase), ABRT for
 *     an unsupported command or parameter, UNC for a backend failure.
 *   - INTRQ is driven when an interrupt is pending, nIEN is clear and
 *     device 0 is selected. Reading the status register or writing a
 *     command clears the pending interrupt; the alternate status does not.
 */
#include <string.h>
#include "ata.h"

#define IDLE_STATUS     (ATA_SR_DRDY | ATA_SR_DSC)
/* EXECUTE DEVICE DIAGNOSTIC code left in the error register after any
 * reset: device 0 passed, device 1 absent. */
#define DIAG_PASSED     0x01
/* LBA28 commands reach sectors 0..0x0ffffffe; words 60-61 say at most
 * 0x0fffffff sectors. */
#define LBA28_LIMIT     0x0fffffffull
/* Default CHS translation (words 1, 3, 6) as every large drive has it. */
#define DEFAULT_HEADS   16
#define DEFAULT_SPT     63
#define MAX_CYLINDERS   16383
#define DEFAULT_MULTIPLE ATA_MAX_MULTIPLE
#define XFER_PIO_FLOW   0x08    /* SET FEATURES 03h: PIO flow control mode n */

/* ---- platform hooks ---------------------------------------------------- */

static void note(struct ata *a, const char *msg)
{
	if (a->p && a->p->log)
		a->p->log(a->p->ctx, msg);
}

/* A guest input the model refused (counted for the bench and tests). */
static void reject(struct ata *a, const char *msg)
{
	a->stats.rejected++;
	note(a, msg);
}

/* "<what> 0xNN": the byte the guest sent, without a printf. */
static void reject_byte(struct ata *a, const char *what, uint8_t v)
{
	static const char hex[] = "0123456789abcdef";
	char msg[80];
	size_t n = strnlen(what, sizeof(msg) - 6);

	memcpy(msg, what, n);
	msg[n++] = ' ';
	msg[n++] = '0';
	msg[n++] = 'x';
	msg[n++] = hex[v >> 4];
	msg[n++] = hex[v & 15];
	msg[n] = 0;
	reject(a, msg);
}

static bool dev1_selected(const struct ata *a)
{
	return a->device & ATA_DEV_DEV1;
}

/* INTRQ is tri-stated unless device 0 is selected and nIEN is clear. */
static void update_irq(struct ata *a)
{
	bool level = a->irq_pending && !(a->control & ATA_DC_NIEN) &&
		     !dev1_selected(a);

	if (level == a->irq_line)
		return;
	a->irq_line = level;
	if (a->p && a->p->irq_set)
		a->p->irq_set(a->p->ctx, ATA_IRQ, level);
}

static void set_irq_pending(struct ata *a, bool pending)
{
	a->irq_pending = pending;
	update_irq(a);
}

/* ---- addresses ------------------------------------------------------- */

static uint64_t min_u64(uint64_t x, uint64_t y)
{
	return x < y ? x : y;
}

/* Cylinders of a CHS translation, capped as IDENTIFY reports them. */
static uint64_t chs_cylinders(const struct ata *a, unsigned heads,
			      unsigned spt)
{
	return min_u64(a->capacity / (heads * spt), MAX_CYLINDERS);
}

/* Sectors the current CHS translation reaches. */
static uint64_t chs_capacity(const struct ata *a)
{
	return chs_cylinders(a, a->cur_heads, a->cur_spt) * a->cur_heads *
	       a->cur_spt;
}

/* Sector count register(s): 0 means the maximum. */
static uint32_t tf_count(const struct ata *a, bool ext)
{
	uint32_t count = a->tf.count;

	if (ext)
		count |= (uint32_t)a->hob.count << 8;
	if (count)
		return count;
	return ext ? 65536 : 256;
}

static uint64_t tf_lba(const struct ata *a, bool ext)
{
	uint64_t lba = (uint64_t)a->tf.lbah << 16 | (uint64_t)a->tf.lbam << 8 |
		       a->tf.lbal;

	if (ext)
		return lba | (uint64_t)a->hob.lbah << 40 |
		       (uint64_t)a->hob.lbam << 32 | (uint64_t)a->hob.lbal << 24;
	return lba | (uint64_t)(a->device & 0x0f) << 24;
}

/* The CHS address in the registers as an LBA; false if it names no
 * sector of the current translation (sector numbers start at 1). */
static bool tf_chs(const struct ata *a, uint64_t *lba)
{
	uint64_t cyl = (uint64_t)a->tf.lbah << 8 | a->tf.lbam;
	unsigned head = a->device & 0x0f, sector = a->tf.lbal;

	if (sector == 0 || sector > a->cur_spt || head >= a->cur_heads)
		return false;
	*lba = (cyl * a->cur_heads + head) * a->cur_spt + sector - 1;
	return true;
}

/* Report `lba` in the address registers, in the command's own form: the
 * failing sector of an error. */
static void set_address(struct ata *a, uint64_t lba)
{
	if (a->chs) {
		uint64_t track = lba / a->cur_spt, cyl = track / a->cur_heads;

		if (cyl > 0xffff)
			return;
		a->tf.lbal = (uint8_t)(lba % a->cur_spt + 1);
		a->tf.lbam = (uint8_t)cyl;
		a->tf.lbah = (uint8_t)(cyl >> 8);
		a->device = (uint8_t)((a->device & 0xf0) |
				      (track % a->cur_heads));
		return;
	}
	a->tf.lbal = (uint8_t)lba;
	a->tf.lbam = (uint8_t)(lba >> 8);
	a->tf.lbah = (uint8_t)(lba >> 16);
	if (a->lba48) {
		a->hob.lbal = (uint8_t)(lba >> 24);
		a->hob.lbam = (uint8_t)(lba >> 32);
		a->hob.lbah = (uint8_t)(lba >> 40);
	} else {
		a->device = (uint8_t)((a->device & 0xf0) |
				      ((lba >> 24) & 0x0f));
	}
}

/* ---- command completion ---------------------------------------------- */

static void end_command(struct ata *a, uint8_t error)
{
	a->xfer = ATA_XFER_NONE;
	a->pos = a->len = 0;
	a->remaining = 0;
	a->error = error;
	a->status = IDLE_STATUS | (error ? ATA_SR_ERR : 0);
	if (error)
		a->stats.errors++;
	set_irq_pending(a, true);
}

static void abort_command(struct ata *a, const char *why)
{
	reject_byte(a, why, a->cmd);
	end_command(a, ATA_ER_ABRT);
}

/* The backend failed at `lba`: a media error as the drive reports it. */
static void media_error(struct ata *a, uint64_t lba, const char *why)
{
	note(a, why);
	set_address(a, lba);
	end_command(a, ATA_ER_UNC);
}

/* ---- PIO data phases ------------------------------------------------- */

static uint32_t block_sectors(const struct ata *a)
{
	return a->remaining < a->block ? a->remaining : a->block;
}

static void open_block(struct ata *a, enum ata_xfer dir, uint32_t bytes)
{
	a->xfer = dir;
	a->pos = 0;
	a->len = bytes;
	a->status = IDLE_STATUS | ATA_SR_DRQ;
}

/* Load the next data-in block from the disk and interrupt. */
static void load_read_block(struct ata *a)
{
	uint32_t n = block_sectors(a);

	if (a->disk->read(a->disk->ctx, a->lba, n, a->buf)) {
		media_error(a, a->lba, "ata: backend read failed");
		return;
	}
	a->stats.sectors_read += n;
	open_block(a, ATA_XFER_IN, n * ATA_SECTOR_SIZE);
	set_irq_pending(a, true);
}

static void open_write_block(struct ata *a)
{
	open_block(a, ATA_XFER_OUT, block_sectors(a) * ATA_SECTOR_SIZE);
}

/* The guest read the whole data-in block. */
static void read_block_done(struct ata *a)
{
	uint32_t n = a->len / ATA_SECTOR_SIZE;

	a->lba += n;
	a->remaining -= n;
	if (a->remaining) {
		load_read_block(a);
		return;
	}
	/* The last data-in block ends the command without an interrupt. */
	a->xfer = ATA_XFER_NONE;
	a->pos = a->len = 0;
	a->status = IDLE_STATUS;
}

/* The guest filled the data-out block: store it. */
static void write_block_done(struct ata *a)
{
	uint32_t n = a->len / ATA_SECTOR_SIZE;

	if (a->disk->write(a->disk->ctx, a->lba, n, a->buf)) {
		media_error(a, a->lba, "ata: backend write failed");
		return;
	}
	/* Write cache off: the data is on the medium when the block ends. */
	if (!a->write_cache && a->disk->flush &&
	    a->disk->flush(a->disk->ctx)) {
		media_error(a, a->lba, "ata: backend flush failed");
		return;
	}
	a->stats.sectors_written += n;
	a->lba += n;
	a->remaining -= n;
	if (a->remaining) {
		open_write_block(a);
		set_irq_pending(a, true);
	} else {
		end_command(a, 0);
	}
}

static size_t data_in(struct ata *a, uint8_t *out, size_t bytes)
{
	size_t n;

	if (a->xfer != ATA_XFER_IN || dev1_selected(a))
		return 0;
	n = a->len - a->pos;
	if (bytes < n)
		n = bytes & ~(size_t)1;
	memcpy(out, a->buf + a->pos, n);
	a->pos += (uint32_t)n;
	if (a->pos == a->len)
		read_block_done(a);
	return n;
}

static size_t data_out(struct ata *a, const uint8_t *in, size_t bytes)
{
	size_t n;

	if (a->xfer != ATA_XFER_OUT || dev1_selected(a))
		return 0;
	n = a->len - a->pos;
	if (bytes < n)
		n = bytes & ~(size_t)1;
	memcpy(a->buf + a->pos, in, n);
	a->pos += (uint32_t)n;
	if (a->pos == a->len)
		write_block_done(a);
	return n;
}

size_t ata_data_in(struct ata *a, void *buf, size_t bytes)
{
	size_t n = data_in(a, buf, bytes);

	if (!n && bytes >= 2)
		reject(a, "ata: data read with DRQ clear");
	return n;
}

size_t ata_data_out(struct ata *a, const void *buf, size_t bytes)
{
	size_t n = data_out(a, buf, bytes);

	if (!n && bytes >= 2)
		reject(a, "ata: data write with DRQ clear ignored");
	return n;
}

/*
 * One access of the data port. The port is 16 bits wide: a 32-bit access
 * is two word cycles (which may straddle two DRQ blocks, as on the bus),
 * an 8-bit one still moves a whole word. Reads with DRQ clear float high.
 */
static void data_port(struct ata *a, unsigned size, bool write,
		      uint32_t *value)
{
	uint8_t b[4] = { 0xff, 0xff, 0xff, 0xff };
	size_t want = size < 2 ? 2 : size, done;

	if (size == 1)
		reject(a, "ata: 8-bit data port access");
	if (write) {
		for (unsigned i = 0; i < size; i++)
			b[i] = (uint8_t)(*value >> (8 * i));
		if (size == 1)
			b[1] = 0;
		done = data_out(a, b, want);
		if (done && done < want)
			done += data_out(a, b + done, want - done);
		if (!done)
			reject(a, "ata: data write with DRQ clear ignored");
		return;
	}
	done = data_in(a, b, want);
	if (done && done < want)
		done += data_in(a, b + done, want - done);
	if (!done)
		reject(a, "ata: data read with DRQ clear");
	*value = 0;
	for (unsigned i = 0; i < size; i++)
		*value |= (uint32_t)b[i] << (8 * i);
}

/* ---- IDENTIFY DEVICE ------------------------------------------------- */

/* ATA strings: two characters per word, the first in the high byte,
 * padded with spaces. */
static void id_string(uint16_t *w, unsigned words, const char *s)
{
	size_t len = strnlen(s, 2 * words);

	for (unsigned i = 0; i < 2 * words; i++) {
		uint16_t c = (uint8_t)(i < len ? s[i] : ' ');

		if (i & 1)
			w[i / 2] |= c;
		else
			w[i / 2] = (uint16_t)(c << 8);
	}
}

static void id_u32(uint16_t *w, uint64_t v)
{
	w[0] = (uint16_t)v;
	w[1] = (uint16_t)(v >> 16);
}

static void build_identify(struct ata *a, uint8_t *out)
{
	uint16_t w[256];
	uint64_t cyl = chs_cylinders(a, DEFAULT_HEADS, DEFAULT_SPT);
	uint64_t cur_cyl = chs_cylinders(a, a->cur_heads, a->cur_spt);
	uint8_t sum = 0;

	memset(w, 0, sizeof(w));
	w[0] = 0x0040;                          /* fixed, non-removable */
	w[1] = (uint16_t)cyl;
	w[3] = DEFAULT_HEADS;
	w[6] = DEFAULT_SPT;
	id_string(&w[10], 10, "ISOVISOR-ATA-0001");
	id_string(&w[23], 4, "1.0");
	id_string(&w[27], 20, "isovisor emulated ATA disk");
	w[47] = 0x8000 | ATA_MAX_MULTIPLE;      /* READ/WRITE MULTIPLE max */
	w[49] = 0x0a00;                         /* IORDY, LBA; no DMA */
	w[50] = 0x4000;
	w[51] = 0x0200;                         /* PIO timing mode 2 (obsolete) */
	w[53] = 0x0003;                         /* words 54-58, 64-70 valid */
	w[54] = (uint16_t)cur_cyl;
	w[55] = a->cur_heads;
	w[56] = a->cur_spt;
	id_u32(&w[57], chs_capacity(a));
	w[59] = 0x0100 | a->multiple;           /* current multiple setting */
	id_u32(&w[60], min_u64(a->capacity, LBA28_LIMIT));
	w[64] = 0x0003;                         /* PIO modes 3 and 4 */
	w[65] = w[66] = w[67] = w[68] = 120;    /* cycle times, ns */
	w[80] = 0x00f0;                         /* ATA/ATAPI-4 to -7 */
	w[82] = 0x0068;                         /* look-ahead, write cache, PM */
	w[83] = 0x7400;                         /* FLUSH EXT, FLUSH, LBA48 */
	w[84] = 0x4000;
	w[85] = 0x0008 | (a->look_ahead ? 0x0040 : 0) |
		(a->write_cache ? 0x0020 : 0);
	w[86] = 0x3400;
	w[87] = 0x4000;
	w[93] = 0x400b;                         /* device 0, jumper, passed */
	id_u32(&w[100], a->capacity);
	id_u32(&w[102], a->capacity >> 32);
	for (unsigned i = 0; i < 256; i++) {
		out[2 * i] = (uint8_t)w[i];
		out[2 * i + 1] = (uint8_t)(w[i] >> 8);
	}
	/* Word 255: signature A5h and a checksum making all bytes sum to 0. */
	out[510] = 0xa5;
	for (unsigned i = 0; i < 511; i++)
		sum = (uint8_t)(sum + out[i]);
	out[511] = (uint8_t)-sum;
}

/* ---- commands -------------------------------------------------------- */

struct ata_command;
typedef void (*ata_command_fn)(struct ata *a, const struct ata_command *c);

struct ata_command {
	ata_command_fn fn;
	unsigned flags;
};

#define CMD_EXT         1u      /* 48-bit registers */
#define CMD_WRITE       2u
#define CMD_MULTIPLE    4u      /* DRQ blocks of `multiple` sectors */
#define CMD_VERIFY      8u      /* range check only, no data phase */

/*
 * Decode and check the sector range of a media command. On failure the
 * command has ended with IDNF (and the first sector not found reported).
 */
static bool command_range(struct ata *a, bool ext, uint64_t *lba,
			  uint32_t *count)
{
	uint64_t limit;

	a->lba48 = ext;
	a->chs = !ext && !(a->device & ATA_DEV_LBA);
	*count = tf_count(a, ext);
	if (ext) {
		*lba = tf_lba(a, true);
		limit = a->capacity;
	} else if (!a->chs) {
		*lba = tf_lba(a, false);
		limit = min_u64(a->capacity, LBA28_LIMIT);
	} else {
		if (!tf_chs(a, lba)) {
			reject_byte(a, "ata: bad CHS address, command", a->cmd);
			end_command(a, ATA_ER_IDNF);
			return false;
		}
		limit = min_u64(a->capacity, chs_capacity(a));
	}
	if (*lba < limit && *count <= limit - *lba)
		return true;
	reject_byte(a, "ata: sector range outside the disk, command",
		    a->cmd);
	set_address(a, *lba < limit ? limit : *lba);
	end_command(a, ATA_ER_IDNF);
	return false;
}

static void cmd_rw(struct ata *a, const struct ata_command *c)
{
	uint64_t lba;
	uint32_t count;

	if ((c->flags & CMD_MULTIPLE) && !a->multiple) {
		abort_command(a, "ata: multiple mode disabled, command");
		return;
	}
	if (!command_range(a, c->flags & CMD_EXT, &lba, &count))
		return;
	if (c->flags & CMD_VERIFY) {
		end_command(a, 0);
		return;
	}
	a->lba = lba;
	a->remaining = count;
	a->block = (c->flags & CMD_MULTIPLE) ? a->multiple : 1;
	if (c->flags & CMD_WRITE)
		open_write_block(a);    /* PIO out: no interrupt before data */
	else
		load_read_block(a);
}

static void cmd_identify(struct ata *a, const struct ata_command *c)
{
	build_identify(a, a->buf);
	a->lba = 0;
	a->remaining = 1;
	a->block = 1;
	open_block(a, ATA_XFER_IN, ATA_SECTOR_SIZE);
	set_irq_pending(a, true);
}

static void cmd_set_multiple(struct ata *a, const struct ata_command *c)
{
	uint8_t n = a->tf.count;

	/* 0 turns multiple mode off; else a power of two up to the max. */
	if (n > ATA_MAX_MULTIPLE || (n & (n - 1))) {
		abort_command(a, "ata: bad SET MULTIPLE block size, command");
		return;
	}
	a->multiple = n;
	end_command(a, 0);
}

static void cmd_set_features(struct ata *a, const struct ata_command *c)
{
	uint8_t mode = a->tf.count;

	switch (a->tf.feature) {
	case 0x02:
		a->write_cache = true;
		break;
	case 0x82:
		a->write_cache = false;
		break;
	case 0x03:      /* set transfer mode: PIO only, no DMA offered */
		if (mode > 0x01 && (mode < XFER_PIO_FLOW ||
				    mode > XFER_PIO_FLOW + 4)) {
			reject_byte(a, "ata: SET FEATURES transfer mode "
				    "unsupported:", mode);
			end_command(a, ATA_ER_ABRT);
			return;
		}
		a->xfer_mode = mode;
		break;
	case 0x55:
		a->look_ahead = false;
		break;
	case 0xaa:
		a->look_ahead = true;
		break;
	case 0x66:
		a->revert_defaults = false;
		break;
	case 0xcc:
		a->revert_defaults = true;
		break;
	default:
		reject_byte(a, "ata: SET FEATURES subcommand unsupported:",
			    a->tf.feature);
		end_command(a, ATA_ER_ABRT);
		return;
	}
	end_command(a, 0);
}

static void cmd_flush(struct ata *a, const struct ata_command *c)
{
	if (a->disk->flush && a->disk->flush(a->disk->ctx)) {
		note(a, "ata: backend flush failed");
		end_command(a, ATA_ER_UNC);
		return;
	}
	end_command(a, 0);
}

/* INITIALIZE DEVICE PARAMETERS: the CHS translation CHS commands use. */
static void cmd_init_params(struct ata *a, const struct ata_command *c)
{
	if (!a->tf.count) {
		abort_command(a, "ata: 0 sectors per track, command");
		return;
	}
	a->cur_spt = a->tf.count;
	a->cur_heads = (uint8_t)((a->device & 0x0f) + 1);
	end_command(a, 0);
}

static void load_signature(struct ata *a)
{
	memset(&a->tf, 0, sizeof(a->tf));
	memset(&a->hob, 0, sizeof(a->hob));
	a->tf.count = 1;
	a->tf.lbal = 1;
	a->device = 0;
	a->error = DIAG_PASSED;
}

/* Runs on device 0 whichever device is selected, as both devices do. */
static void cmd_diagnostic(struct ata *a, const struct ata_command *c)
{
	end_command(a, 0);
	load_signature(a);
	update_irq(a);          /* device 0 selected again: it drives INTRQ */
}

static void cmd_check_power(struct ata *a, const struct ata_command *c)
{
	a->tf.count = 0xff;     /* active or idle */
	end_command(a, 0);
}

/* STANDBY, IDLE, SLEEP: there is no spindle; they just complete. */
static void cmd_nodata(struct ata *a, const struct ata_command *c)
{
	end_command(a, 0);
}

/* Indexed by the command byte: every other slot is ABRT. */
static const struct ata_command commands[256] = {
	[ATA_CMD_READ_SECTORS]          = { cmd_rw, 0 },
	[ATA_CMD_READ_SECTORS_NORETRY]  = { cmd_rw, 0 },
	[ATA_CMD_READ_SECTORS_EXT]      = { cmd_rw, CMD_EXT },
	[ATA_CMD_READ_MULTIPLE_EXT]     = { cmd_rw, CMD_EXT | CMD_MULTIPLE },
	[ATA_CMD_WRITE_SECTORS]         = { cmd_rw, CMD_WRITE },
	[ATA_CMD_WRITE_SECTORS_NORETRY] = { cmd_rw, CMD_WRITE },
	[ATA_CMD_WRITE_SECTORS_EXT]     = { cmd_rw, CMD_WRITE | CMD_EXT },
	[ATA_CMD_WRITE_MULTIPLE_EXT]    = { cmd_rw, CMD_WRITE | CMD_EXT |
						    CMD_MULTIPLE },
	[ATA_CMD_READ_VERIFY]           = { cmd_rw, CMD_VERIFY },
	[ATA_CMD_READ_VERIFY_NORETRY]   = { cmd_rw, CMD_VERIFY },
	[ATA_CMD_READ_VERIFY_EXT]       = { cmd_rw, CMD_VERIFY | CMD_EXT },
	[ATA_CMD_EXEC_DIAGNOSTIC]       = { cmd_diagnostic, 0 },
	[ATA_CMD_INIT_DEV_PARAMS]       = { cmd_init_params, 0 },
	[ATA_CMD_READ_MULTIPLE]         = { cmd_rw, CMD_MULTIPLE },
	[ATA_CMD_WRITE_MULTIPLE]        = { cmd_rw, CMD_WRITE | CMD_MULTIPLE },
	[ATA_CMD_SET_MULTIPLE]          = { cmd_set_multiple, 0 },
	[ATA_CMD_STANDBY_IMMEDIATE]     = { cmd_nodata, 0 },
	[ATA_CMD_IDLE_IMMEDIATE]        = { cmd_nodata, 0 },
	[ATA_CMD_STANDBY]               = { cmd_nodata, 0 },
	[ATA_CMD_IDLE]                  = { cmd_nodata, 0 },
	[ATA_CMD_CHECK_POWER_MODE]      = { cmd_check_power, 0 },
	[ATA_CMD_SLEEP]                 = { cmd_nodata, 0 },
	[ATA_CMD_FLUSH_CACHE]           = { cmd_flush, 0 },
	[ATA_CMD_FLUSH_CACHE_EXT]       = { cmd_flush, 0 },
	[ATA_CMD_IDENTIFY]              = { cmd_identify, 0 },
	[ATA_CMD_SET_FEATURES]          = { cmd_set_features, 0 },
};

static void write_command(struct ata *a, uint8_t cmd)
{
	const struct ata_command *c = &commands[cmd];

	if (a->in_reset) {
		reject_byte(a, "ata: command during SRST ignored:", cmd);
		return;
	}
	if (dev1_selected(a) && cmd != ATA_CMD_EXEC_DIAGNOSTIC) {
		reject_byte(a, "ata: command to absent device 1 ignored:", cmd);
		return;
	}
	if (a->status & (ATA_SR_BSY | ATA_SR_DRQ)) {
		reject_byte(a, "ata: command while DRQ set ignored:", cmd);
		return;
	}
	a->cmd = cmd;
	a->stats.commands++;
	set_irq_pending(a, false);
	if (c->fn)
		c->fn(a, c);
	else
		abort_command(a, "ata: unsupported command");
}

/* ---- resets ---------------------------------------------------------- */

static void default_settings(struct ata *a)
{
	a->multiple = DEFAULT_MULTIPLE;
	a->xfer_mode = 0;
	a->write_cache = true;
	a->look_ahead = true;
	a->revert_defaults = false;
	a->cur_heads = DEFAULT_HEADS;
	a->cur_spt = DEFAULT_SPT;
}

/* What power-on, and the end of SRST, leave: no command, signature. */
static void reset_state(struct ata *a)
{
	a->xfer = ATA_XFER_NONE;
	a->pos = a->len = 0;
	a->remaining = 0;
	a->status = IDLE_STATUS;
	load_signature(a);
}

void ata_init(struct ata *a, const struct platform *p,
	      const struct block_backend *disk)
{
	memset(a, 0, sizeof(*a));
	a->p = p;
	a->disk = disk;
	a->capacity = min_u64(disk->sectors, ATA_MAX_LBA48);
	default_settings(a);
	reset_state(a);
}

/* Device control: SRST is a level; the reset happens while it is held
 * and the drive comes back ready (no interrupt) when it drops. */
static void write_control(struct ata *a, uint8_t v)
{
	bool was_reset = a->control & ATA_DC_SRST;

	a->control = v & (ATA_DC_HOB | ATA_DC_SRST | ATA_DC_NIEN);
	if ((v & ATA_DC_SRST) && !was_reset) {
		/* The command in progress is gone; BSY hides the rest. */
		a->in_reset = true;
		a->xfer = ATA_XFER_NONE;
		a->pos = a->len = 0;
		a->remaining = 0;
		a->status = IDLE_STATUS;
		a->irq_pending = false;
	} else if (!(v & ATA_DC_SRST) && was_reset) {
		a->in_reset = false;
		if (a->revert_defaults)
			default_settings(a);
		reset_state(a);
	}
	update_irq(a);
}

/* ---- register file --------------------------------------------------- */

static uint8_t status_value(const struct ata *a)
{
	if (a->in_reset)
		return ATA_SR_BSY;
	if (dev1_selected(a))
		return 0;       /* device 0 answers for absent device 1 */
	return a->status;
}

static uint8_t read_register(struct ata *a, unsigned reg)
{
	const struct ata_taskfile *t =
		(a->control & ATA_DC_HOB) ? &a->hob : &a->tf;

	if (reg == ATA_REG_STATUS) {    /* reading it acknowledges INTRQ */
		if (!a->in_reset && !dev1_selected(a))
			set_irq_pending(a, false);
		return status_value(a);
	}
	/* Absent device 1: its registers read 0 (QEMU's convention), the
	 * device register itself is the shared latch. */
	if (dev1_selected(a) && reg != ATA_REG_DEVICE)
		return 0;
	switch (reg) {
	case ATA_REG_ERROR:
		return a->error;
	case ATA_REG_COUNT:
		return t->count;
	case ATA_REG_LBAL:
		return t->lbal;
	case ATA_REG_LBAM:
		return t->lbam;
	case ATA_REG_LBAH:
		return t->lbah;
	default:
		return a->device;
	}
}

/* Registers 1-5 are FIFOs of two: the HOB copy holds the previous
 * write. Any write to the command block clears HOB. */
static void write_register(struct ata *a, unsigned reg, uint8_t v)
{
	a->control &= (uint8_t)~ATA_DC_HOB;
	switch (reg) {
	case ATA_REG_ERROR:
		a->hob.feature = a->tf.feature;
		a->tf.feature = v;
		break;
	case ATA_REG_COUNT:
		a->hob.count = a->tf.count;
		a->tf.count = v;
		break;
	case ATA_REG_LBAL:
		a->hob.lbal = a->tf.lbal;
		a->tf.lbal = v;
		break;
	case ATA_REG_LBAM:
		a->hob.lbam = a->tf.lbam;
		a->tf.lbam = v;
		break;
	case ATA_REG_LBAH:
		a->hob.lbah = a->tf.lbah;
		a->tf.lbah = v;
		break;
	case ATA_REG_DEVICE:
		a->device = v;
		update_irq(a);  /* INTRQ follows the selected device */
		break;
	default:
		write_command(a, v);
		break;
	}
}

static bool own_port(uint16_t port)
{
	return (port >= ATA_CMD_BASE && port <= ATA_CMD_BASE + 7) ||
	       port == ATA_CTRL_PORT;
}

static void byte_io(struct ata *a, uint16_t port, bool write, uint8_t *v)
{
	if (port == ATA_CTRL_PORT) {
		if (write)
			write_control(a, *v);
		else
			*v = status_value(a);   /* alternate status: no ack */
		return;
	}
	if (write)
		write_register(a, port - ATA_CMD_BASE, *v);
	else
		*v = read_register(a, port - ATA_CMD_BASE);
}

bool ata_io(struct ata *a, uint16_t port, unsigned size, bool write,
	    uint32_t *value)
{
	uint32_t result = 0;

	if (!own_port(port))
		return false;
	if (size != 1 && size != 2 && size != 4) {
		reject(a, "ata: bad port access size");
		if (!write)
			*value = 0xffffffff;
		return true;
	}
	if (port == ATA_CMD_BASE) {
		data_port(a, size, write, value);
		return true;
	}
	/* 8-bit registers: the bus splits a wider access into bytes of
	 * consecutive ports; the ones not ours float high. */
	for (unsigned i = 0; i < size; i++) {
		uint16_t p = (uint16_t)(port + i);
		uint8_t b = write ? (uint8_t)(*value >> (8 * i)) : 0xff;

		if (own_port(p) && p != ATA_CMD_BASE)
			byte_io(a, p, write, &b);
		result |= (uint32_t)b << (8 * i);
	}
	if (!write)
		*value = result;
	return true;
}
