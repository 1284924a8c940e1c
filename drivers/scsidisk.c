/*
 * The SCSI direct-access disk storvsp executes SRBs against (see
 * scsidisk.h). Commands dispatch through a const table giving each
 * opcode its CDB length, data direction and handler; scsidisk_execute()
 * does the checks every command shares (CDB length, LUN, direction,
 * control byte) in the order a real disk does them, so a handler only
 * sees a CDB of its own length addressed to LUN 0.
 *
 * Multi-byte CDB and parameter fields are big-endian, as SCSI defines.
 */
#include <string.h>
#include "scsidisk.h"

enum scsi_dir { DIR_NONE, DIR_IN, DIR_OUT };

/* Command flags. */
#define CMD_ANY_LUN     0x01    /* answers for an unsupported LUN itself */
#define CMD_MEDIUM      0x02    /* needs a medium (a backend with sectors) */

/* One command in flight: the CDB copied out once, zero-padded. */
struct scsi_cmd {
	struct scsidisk *d;
	uint8_t cdb[SCSIDISK_MAX_CDB];
	uint8_t lun;
	uint8_t *data;
	uint32_t data_len;
	/* Instead of data: physical segments the backend moves READ and
	 * WRITE data to or from directly (scsidisk_execute_sg). */
	const struct blk_seg *segs;
	unsigned nsegs;
	struct scsi_result *res;
};

struct scsi_cmd_desc {
	uint8_t opcode;
	uint8_t cdb_len;
	uint8_t dir;
	uint8_t flags;
	void (*handler)(struct scsi_cmd *c);
};

static const char vendor_id[8] = { 'i', 's', 'o', 'v', 'i', 's', 'o', 'r' };
static const char product_id[16] = "virtual disk    ";
static const char product_rev[4] = "0001";

/* ---- byte order -------------------------------------------------------- */

static uint32_t get_be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* ---- results ----------------------------------------------------------- */

/* CHECK CONDITION with fixed-format sense; `info` is the information
 * field when `info_valid` (the failing LBA of a media error). */
static void check_info(struct scsi_cmd *c, uint8_t key, uint8_t asc,
		       uint8_t ascq, bool info_valid, uint64_t info)
{
	struct scsi_result *r = c->res;

	r->status = SCSI_STATUS_CHECK_CONDITION;
	r->sense_len = SCSI_SENSE_LEN;
	memset(r->sense, 0, sizeof(r->sense));
	r->sense[0] = SCSI_SENSE_FIXED_CURRENT;
	/* The 4-byte information field holds an LBA only if it fits. */
	if (info_valid && info <= 0xffffffffu) {
		r->sense[0] |= SCSI_SENSE_VALID;
		put_be32(&r->sense[3], (uint32_t)info);
	}
	r->sense[2] = key;
	r->sense[7] = SCSI_SENSE_LEN - 8;       /* additional sense length */
	r->sense[12] = asc;
	r->sense[13] = ascq;
	c->d->stats.check_conditions++;
}

static void check(struct scsi_cmd *c, uint8_t key, uint8_t asc)
{
	check_info(c, key, asc, 0, false, 0);
}

static void invalid_field(struct scsi_cmd *c)
{
	check(c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
}

static void lba_out_of_range(struct scsi_cmd *c)
{
	check(c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
}

/*
 * Return parameter data `src` of `len` bytes under the CDB's allocation
 * length `alloc`: the initiator gets min(len, alloc) bytes, cut further
 * to data_len (then flagged as an overrun).
 */
static void put_param(struct scsi_cmd *c, const void *src, uint32_t len,
		      uint32_t alloc)
{
	uint32_t n = len < alloc ? len : alloc;

	if (n > c->data_len) {
		n = c->data_len;
		c->res->overrun = true;
	}
	if (n)
		memcpy(c->data, src, n);
	c->res->transferred = n;
}

/* [lba, lba + count) inside the disk, without overflow. */
static bool range_ok(const struct scsidisk *d, uint64_t lba, uint64_t count)
{
	uint64_t sectors = d->backend->sectors;

	return lba <= sectors && count <= sectors - lba;
}

/* ---- block I/O ---------------------------------------------------------- */

static void media_write_error(struct scsi_cmd *c, bool valid, uint64_t lba)
{
	c->d->stats.media_errors++;
	check_info(c, SCSI_SK_MEDIUM_ERROR, SCSI_ASC_WRITE_ERROR, 0, valid,
		   lba);
}

/* The part [off, off + len) of a segment list, in out[] (at most max
 * pieces): how many, or 0 when it needs more. */
static unsigned seg_slice(const struct blk_seg *segs, unsigned nsegs, uint64_t off,
			  uint32_t len, struct blk_seg *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nsegs && len; i++) {
		uint32_t take;

		if (off >= segs[i].len) {
			off -= segs[i].len;
			continue;
		}
		if (n == max)
			return 0;
		take = segs[i].len - (uint32_t)off;
		if (take > len)
			take = len;
		out[n++] = (struct blk_seg){ segs[i].addr + off, take };
		len -= take;
		off = 0;
	}
	return len ? 0 : n;
}

/*
 * READ or WRITE of exactly the blocks the segments hold, by the backend's
 * DMA (scsidisk_direct said it fits). One backend call for the whole
 * transfer; when it fails, block by block again so the sense names the
 * first bad LBA, as do_read and do_write do.
 */
static void do_direct(struct scsi_cmd *c, uint64_t lba, uint64_t count, bool write, bool fua)
{
	struct scsidisk *d = c->d;
	const struct block_backend *b = d->backend;
	int (*rw)(void *, uint64_t, unsigned, const struct blk_seg *, unsigned) =
		write ? b->write_sg : b->read_sg;
	uint64_t done = 0;

	if (rw(b->ctx, lba, (unsigned)count, c->segs, c->nsegs) == 0) {
		done = count;
	} else {
		for (; done < count; done++) {
			unsigned k = seg_slice(c->segs, c->nsegs, done * SCSIDISK_BLOCK_SIZE,
					       SCSIDISK_BLOCK_SIZE, d->slice,
					       SCSIDISK_BLOCK_SIZE);

			/* k is never 0: the lengths add up (execute checked)
			 * and a block has at most 512 pieces. */
			if (!k || rw(b->ctx, lba + done, 1, d->slice, k) != 0)
				break;
		}
	}
	c->res->transferred = (uint32_t)(done * SCSIDISK_BLOCK_SIZE);
	if (write)
		d->stats.blocks_written += done;
	else
		d->stats.blocks_read += done;
	if (done < count) {
		if (write) {
			media_write_error(c, true, lba + done);
		} else {
			d->stats.media_errors++;
			check_info(c, SCSI_SK_MEDIUM_ERROR, SCSI_ASC_UNRECOVERED_READ, 0, true,
				   lba + done);
		}
		return;
	}
	if (write && fua && done) {
		d->stats.flushes++;
		if (b->flush && b->flush(b->ctx) != 0)
			media_write_error(c, false, 0);
	}
}

/*
 * Read `count` blocks at `lba` (range already checked) into the buffer,
 * as far as data_len allows; a block the buffer ends inside goes through
 * the bounce buffer. A backend failure is retried block by block so the
 * sense names the first bad LBA, as a disk's would.
 */
static void do_read(struct scsi_cmd *c, uint64_t lba, uint64_t count)
{
	struct scsidisk *d = c->d;
	const struct block_backend *b = d->backend;
	uint64_t whole = c->data_len / SCSIDISK_BLOCK_SIZE;
	uint32_t tail = c->data_len % SCSIDISK_BLOCK_SIZE;
	uint64_t done = 0;

	if (count > whole) {
		c->res->overrun = true;
		if (!tail)
			count = whole;
	} else {
		tail = 0;
	}
	while (done < count && done < whole) {
		uint64_t left = (count < whole ? count : whole) - done;
		unsigned n = left < SCSIDISK_CHUNK ? (unsigned)left
						   : SCSIDISK_CHUNK;
		uint8_t *dst = c->data + done * SCSIDISK_BLOCK_SIZE;

		if (b->read(b->ctx, lba + done, n, dst) != 0) {
			for (unsigned i = 0; i < n; i++) {
				if (b->read(b->ctx, lba + done, 1, dst) != 0)
					goto fail;
				done++;
				dst += SCSIDISK_BLOCK_SIZE;
				c->res->transferred += SCSIDISK_BLOCK_SIZE;
				d->stats.blocks_read++;
			}
			continue;
		}
		done += n;
		c->res->transferred += n * SCSIDISK_BLOCK_SIZE;
		d->stats.blocks_read += n;
	}
	if (tail && done < count) {
		if (b->read(b->ctx, lba + done, 1, d->bounce) != 0)
			goto fail;
		memcpy(c->data + done * SCSIDISK_BLOCK_SIZE, d->bounce, tail);
		c->res->transferred += tail;
		d->stats.blocks_read++;
	}
	return;
fail:
	d->stats.media_errors++;
	check_info(c, SCSI_SK_MEDIUM_ERROR, SCSI_ASC_UNRECOVERED_READ, 0,
		   true, lba + done);
}


/*
 * Write `count` blocks at `lba` (range already checked) from the buffer.
 * A buffer shorter than the transfer writes the whole blocks it holds and
 * no partial one (there is nothing to fill the rest of it with). FUA:
 * the data must be on the medium before GOOD, so flush.
 */
static void do_write(struct scsi_cmd *c, uint64_t lba, uint64_t count,
		     bool fua)
{
	struct scsidisk *d = c->d;
	const struct block_backend *b = d->backend;
	uint64_t whole = c->data_len / SCSIDISK_BLOCK_SIZE;
	uint64_t done = 0;

	if (count > whole) {
		c->res->overrun = true;
		count = whole;
	}
	while (done < count) {
		uint64_t left = count - done;
		unsigned n = left < SCSIDISK_CHUNK ? (unsigned)left
						   : SCSIDISK_CHUNK;
		const uint8_t *src = c->data + done * SCSIDISK_BLOCK_SIZE;

		if (b->write(b->ctx, lba + done, n, src) != 0) {
			for (unsigned i = 0; i < n; i++) {
				if (b->write(b->ctx, lba + done, 1, src) != 0) {
					d->stats.blocks_written += done;
					media_write_error(c, true, lba + done);
					return;
				}
				done++;
				src += SCSIDISK_BLOCK_SIZE;
				c->res->transferred += SCSIDISK_BLOCK_SIZE;
			}
			continue;
		}
		done += n;
		c->res->transferred += n * SCSIDISK_BLOCK_SIZE;
	}
	d->stats.blocks_written += done;
	if (fua && done) {
		d->stats.flushes++;
		if (b->flush(b->ctx) != 0)
			media_write_error(c, false, 0);
	}
}

/* ---- READ / WRITE / VERIFY / SYNCHRONIZE CACHE ------------------------- */

/* The CDB fields of one READ/WRITE/VERIFY/SYNC form. */
struct rw_fields {
	uint64_t lba;
	uint64_t count;
	uint8_t flags;          /* byte 1: protect bits, DPO, FUA, BYTCHK */
};

static struct rw_fields rw_decode(const uint8_t *cdb)
{
	struct rw_fields f = { 0, 0, cdb[1] };

	switch (cdb[0]) {
	case SCSI_READ_6:
	case SCSI_WRITE_6:
		f.lba = get_be24(&cdb[1]) & 0x1fffff;
		f.count = cdb[4] ? cdb[4] : 256;  /* 0 means 256 in 6-byte form */
		f.flags = 0;
		break;
	case SCSI_READ_16:
	case SCSI_WRITE_16:
	case SCSI_VERIFY_16:
	case SCSI_SYNCHRONIZE_CACHE_16:
		f.lba = get_be64(&cdb[2]);
		f.count = get_be32(&cdb[10]);
		break;
	default:                /* the 10-byte forms */
		f.lba = get_be32(&cdb[2]);
		f.count = get_be16(&cdb[7]);
		break;
	}
	return f;
}

static void cmd_read(struct scsi_cmd *c)
{
	struct rw_fields f = rw_decode(c->cdb);

	if (f.flags & 0xe0) {   /* RDPROTECT: no protection information */
		invalid_field(c);
		return;
	}
	if (!range_ok(c->d, f.lba, f.count)) {
		lba_out_of_range(c);
		return;
	}
	/* FUA on a read: our backend keeps no cache of its own to bypass. */
	if (c->segs)
		do_direct(c, f.lba, f.count, false, false);
	else
		do_read(c, f.lba, f.count);
}

static void cmd_write(struct scsi_cmd *c)
{
	struct rw_fields f = rw_decode(c->cdb);

	if (f.flags & 0xe0) {   /* WRPROTECT */
		invalid_field(c);
		return;
	}
	if (!range_ok(c->d, f.lba, f.count)) {
		lba_out_of_range(c);
		return;
	}
	if (c->segs)
		do_direct(c, f.lba, f.count, true, f.flags & 0x08);
	else
		do_write(c, f.lba, f.count, f.flags & 0x08);
}

/* VERIFY with BYTCHK 0: the medium check is the range check. */
static void cmd_verify(struct scsi_cmd *c)
{
	struct rw_fields f = rw_decode(c->cdb);

	if (f.flags & 0xe6) {   /* VRPROTECT, BYTCHK (no data-out compare) */
		invalid_field(c);
		return;
	}
	if (!range_ok(c->d, f.lba, f.count))
		lba_out_of_range(c);
}

/* The whole cache goes, whatever the range; a range still must exist
 * (0 blocks means "to the end"). IMMED is accepted: we finish anyway. */
static void cmd_sync_cache(struct scsi_cmd *c)
{
	struct rw_fields f = rw_decode(c->cdb);
	const struct block_backend *b = c->d->backend;

	if (!range_ok(c->d, f.lba, f.count)) {
		lba_out_of_range(c);
		return;
	}
	c->d->stats.flushes++;
	if (b->flush(b->ctx) != 0)
		media_write_error(c, false, 0);
}

/* ---- status and housekeeping ------------------------------------------- */

static void cmd_nop(struct scsi_cmd *c)
{
}

/* No sense is ever left pending (autosense), so: NO SENSE, or for a LUN
 * we do not have, what SPC says it returns: LOGICAL UNIT NOT SUPPORTED
 * as parameter data with GOOD status. */
static void cmd_request_sense(struct scsi_cmd *c)
{
	uint8_t s[SCSI_SENSE_LEN] = { 0 };

	if (c->cdb[1] & 0x01) { /* DESC: descriptor format not supported */
		invalid_field(c);
		return;
	}
	s[0] = SCSI_SENSE_FIXED_CURRENT;
	s[7] = SCSI_SENSE_LEN - 8;
	if (c->lun != 0) {
		s[2] = SCSI_SK_ILLEGAL_REQUEST;
		s[12] = SCSI_ASC_LUN_NOT_SUPPORTED;
	}
	put_param(c, s, sizeof(s), c->cdb[4]);
}

static void cmd_report_luns(struct scsi_cmd *c)
{
	uint8_t list[16] = { 0 };
	uint32_t alloc = get_be32(&c->cdb[6]);

	/* SELECT REPORT 0-2 all list LUN 0; under 16 bytes is invalid. */
	if (c->cdb[2] > 2 || alloc < 16) {
		invalid_field(c);
		return;
	}
	/* LUN list length: one 8-byte LUN, 0; none on a target that is
	 * not there. */
	put_be32(&list[0], c->lun == SCSIDISK_NO_TARGET ? 0 : 8);
	put_param(c, list, sizeof(list), alloc);
}

/* ---- READ CAPACITY ----------------------------------------------------- */

static uint64_t last_lba(const struct scsidisk *d)
{
	return d->backend->sectors - 1;         /* CMD_MEDIUM: sectors > 0 */
}

static void cmd_read_capacity_10(struct scsi_cmd *c)
{
	uint8_t p[8];
	uint64_t last = last_lba(c->d);

	/* PMI 0 requires LOGICAL BLOCK ADDRESS 0. */
	if (!(c->cdb[8] & 0x01) && get_be32(&c->cdb[2]) != 0) {
		invalid_field(c);
		return;
	}
	/* Too big for 32 bits: all ones sends the initiator to (16). */
	put_be32(&p[0], last > 0xfffffffeu ? 0xffffffffu : (uint32_t)last);
	put_be32(&p[4], SCSIDISK_BLOCK_SIZE);
	put_param(c, p, sizeof(p), sizeof(p));
}

static void cmd_service_action_in(struct scsi_cmd *c)
{
	uint8_t p[32] = { 0 };

	if ((c->cdb[1] & 0x1f) != SCSI_SAI_READ_CAPACITY_16 ||
	    (!(c->cdb[14] & 0x01) && get_be64(&c->cdb[2]) != 0)) {
		invalid_field(c);
		return;
	}
	put_be64(&p[0], last_lba(c->d));
	put_be32(&p[8], SCSIDISK_BLOCK_SIZE);
	/* No protection, one logical block per physical block, LBPME 0:
	 * no thin provisioning (so no VPD page 0xb2). */
	put_param(c, p, sizeof(p), get_be32(&c->cdb[10]));
}

/* ---- INQUIRY ----------------------------------------------------------- */

static void inquiry_standard(struct scsi_cmd *c, uint8_t *p, uint32_t *len)
{
	p[1] = 0;                       /* not removable */
	p[2] = 0x05;                    /* SPC-3 */
	p[3] = 0x02;                    /* response data format 2 */
	p[4] = 36 - 5;                  /* additional length */
	p[7] = 0x02;                    /* CmdQue: tagged commands */
	memcpy(&p[8], vendor_id, sizeof(vendor_id));
	memcpy(&p[16], product_id, sizeof(product_id));
	memcpy(&p[32], product_rev, sizeof(product_rev));
	*len = 36;
}

/* Designation descriptors: a T10 vendor ID (vendor + serial) and a
 * locally assigned NAA (type 3h, 8 bytes) made from the serial. */
static uint32_t vpd_device_id(const struct scsidisk *d, uint8_t *p)
{
	uint8_t *q = p;
	uint32_t t10 = sizeof(vendor_id) + d->serial_len;

	q[0] = 0x02;                    /* code set: ASCII */
	q[1] = 0x01;                    /* association LU, type T10 vendor ID */
	q[3] = (uint8_t)t10;
	memcpy(&q[4], vendor_id, sizeof(vendor_id));
	memcpy(&q[4 + sizeof(vendor_id)], d->serial, d->serial_len);
	q += 4 + t10;

	q[0] = 0x01;                    /* code set: binary */
	q[1] = 0x03;                    /* association LU, type NAA */
	q[3] = 8;
	put_be64(&q[4], d->naa);
	q += 4 + 8;
	return (uint32_t)(q - p);
}

static const uint8_t vpd_pages[] = {
	SCSI_VPD_SUPPORTED, SCSI_VPD_UNIT_SERIAL, SCSI_VPD_DEVICE_ID,
	SCSI_VPD_BLOCK_LIMITS, SCSI_VPD_BLOCK_CHARACTERISTICS,
};

/* Fills the page body after its 4-byte header; false: no such page. */
static bool inquiry_vpd(const struct scsidisk *d, uint8_t page, uint8_t *p,
			uint32_t *len)
{
	uint32_t n;

	switch (page) {
	case SCSI_VPD_SUPPORTED:
		memcpy(&p[4], vpd_pages, sizeof(vpd_pages));
		n = sizeof(vpd_pages);
		break;
	case SCSI_VPD_UNIT_SERIAL:
		memcpy(&p[4], d->serial, d->serial_len);
		n = d->serial_len;
		break;
	case SCSI_VPD_DEVICE_ID:
		n = vpd_device_id(d, &p[4]);
		break;
	case SCSI_VPD_BLOCK_LIMITS:
		/* Optimal transfer length granularity 1 block; no maximum
		 * (storvsp's max_transfer_bytes bounds requests), no UNMAP. */
		put_be16(&p[6], 1);
		n = 0x3c;
		break;
	case SCSI_VPD_BLOCK_CHARACTERISTICS:
		put_be16(&p[4], 0x0001);        /* non-rotating medium */
		n = 0x3c;
		break;
	default:
		return false;
	}
	p[1] = page;
	put_be16(&p[2], n);
	*len = 4 + n;
	return true;
}

static void cmd_inquiry(struct scsi_cmd *c)
{
	uint8_t p[64] = { 0 };
	uint32_t len;
	bool evpd = c->cdb[1] & 0x01;

	/* CmdDt (obsolete) or a page code without EVPD. */
	if ((c->cdb[1] & 0x02) || (!evpd && c->cdb[2] != 0)) {
		invalid_field(c);
		return;
	}
	if (!evpd)
		inquiry_standard(c, p, &len);
	else if (!inquiry_vpd(c->d, c->cdb[2], p, &len)) {
		invalid_field(c);
		return;
	}
	/* Byte 0: qualifier 0 direct access on LUN 0; for any other LUN,
	 * qualifier 3 "not capable of supporting a device" (type 1Fh). */
	p[0] = c->lun == 0 ? 0x00 : 0x7f;
	put_param(c, p, len, get_be16(&c->cdb[3]));
}

/* ---- MODE SENSE -------------------------------------------------------- */

/* Appends page `page` for page control `pc` at p; returns its length. */
static uint32_t mode_page(uint8_t page, uint8_t pc, uint8_t *p)
{
	bool changeable = pc == 1;      /* nothing can be changed: all zero */

	switch (page) {
	case SCSI_MODE_PAGE_CACHING:
		memset(p, 0, 20);
		p[0] = SCSI_MODE_PAGE_CACHING;
		p[1] = 0x12;
		if (!changeable)
			p[2] = 0x04;    /* WCE: write-back, flushes matter */
		return 20;
	case SCSI_MODE_PAGE_CONTROL:
		memset(p, 0, 12);
		p[0] = SCSI_MODE_PAGE_CONTROL;
		p[1] = 0x0a;
		if (!changeable)
			p[3] = 0x10;    /* unrestricted reordering allowed */
		return 12;
	}
	return 0;
}

/*
 * Both MODE SENSE forms: header (4 or 8 bytes), an optional block
 * descriptor (short 8 bytes, or long 16 bytes with LLBAA in the 10-byte
 * form) and the pages asked for.
 */
static void cmd_mode_sense(struct scsi_cmd *c)
{
	uint8_t p[8 + 16 + 20 + 12] = { 0 };
	bool ten = c->cdb[0] == SCSI_MODE_SENSE_10;
	bool dbd = c->cdb[1] & 0x08;
	bool llbaa = ten && (c->cdb[1] & 0x10);
	uint8_t pc = c->cdb[2] >> 6, page = c->cdb[2] & 0x3f;
	uint8_t subpage = c->cdb[3];
	uint32_t hdr = ten ? 8 : 4, bd = dbd ? 0 : llbaa ? 16 : 8;
	uint64_t blocks = c->d->backend->sectors;
	uint32_t len = hdr + bd;

	if (pc == 3) {
		check(c, SCSI_SK_ILLEGAL_REQUEST,
		      SCSI_ASC_SAVING_NOT_SUPPORTED);
		return;
	}
	/* Subpage 0, or FFh "all subpages" with the all-pages code. */
	if (subpage != 0 && !(subpage == 0xff && page == SCSI_MODE_PAGE_ALL)) {
		invalid_field(c);
		return;
	}
	if (page == SCSI_MODE_PAGE_ALL) {
		len += mode_page(SCSI_MODE_PAGE_CACHING, pc, &p[len]);
		len += mode_page(SCSI_MODE_PAGE_CONTROL, pc, &p[len]);
	} else {
		uint32_t n = mode_page(page, pc, &p[len]);

		if (!n) {
			invalid_field(c);
			return;
		}
		len += n;
	}
	/* Header: mode data length excludes itself; device-specific byte
	 * DPOFUA (bit 4): DPO and FUA are supported. */
	if (ten) {
		put_be16(&p[0], len - 2);
		p[3] = 0x10;
		p[4] = llbaa && !dbd ? 0x01 : 0x00;     /* LONGLBA */
		put_be16(&p[6], bd);
	} else {
		p[0] = (uint8_t)(len - 1);
		p[2] = 0x10;
		p[3] = (uint8_t)bd;
	}
	if (bd == 8) {
		/* Short descriptor: a count over 24 bits reads FFFFFFh... */
		put_be32(&p[hdr], blocks > 0xffffff ? 0xffffff : (uint32_t)blocks);
		p[hdr] = 0;                     /* density code */
		put_be32(&p[hdr + 4], SCSIDISK_BLOCK_SIZE);
	} else if (bd == 16) {
		put_be64(&p[hdr], blocks);
		put_be32(&p[hdr + 12], SCSIDISK_BLOCK_SIZE);
	}
	put_param(c, p, len, ten ? get_be16(&c->cdb[7]) : c->cdb[4]);
}

/* ---- dispatch ------------------------------------------------------------ */

static const struct scsi_cmd_desc commands[] = {
	{ SCSI_TEST_UNIT_READY, 6, DIR_NONE, CMD_MEDIUM, cmd_nop },
	{ SCSI_REQUEST_SENSE, 6, DIR_IN, CMD_ANY_LUN, cmd_request_sense },
	{ SCSI_READ_6, 6, DIR_IN, CMD_MEDIUM, cmd_read },
	{ SCSI_WRITE_6, 6, DIR_OUT, CMD_MEDIUM, cmd_write },
	{ SCSI_INQUIRY, 6, DIR_IN, CMD_ANY_LUN, cmd_inquiry },
	{ SCSI_MODE_SENSE_6, 6, DIR_IN, 0, cmd_mode_sense },
	{ SCSI_START_STOP_UNIT, 6, DIR_NONE, 0, cmd_nop },
	{ SCSI_READ_CAPACITY_10, 10, DIR_IN, CMD_MEDIUM, cmd_read_capacity_10 },
	{ SCSI_READ_10, 10, DIR_IN, CMD_MEDIUM, cmd_read },
	{ SCSI_WRITE_10, 10, DIR_OUT, CMD_MEDIUM, cmd_write },
	{ SCSI_VERIFY_10, 10, DIR_NONE, CMD_MEDIUM, cmd_verify },
	{ SCSI_SYNCHRONIZE_CACHE_10, 10, DIR_NONE, CMD_MEDIUM, cmd_sync_cache },
	{ SCSI_MODE_SENSE_10, 10, DIR_IN, 0, cmd_mode_sense },
	{ SCSI_READ_16, 16, DIR_IN, CMD_MEDIUM, cmd_read },
	{ SCSI_WRITE_16, 16, DIR_OUT, CMD_MEDIUM, cmd_write },
	{ SCSI_VERIFY_16, 16, DIR_NONE, CMD_MEDIUM, cmd_verify },
	{ SCSI_SYNCHRONIZE_CACHE_16, 16, DIR_NONE, CMD_MEDIUM, cmd_sync_cache },
	{ SCSI_SERVICE_ACTION_IN_16, 16, DIR_IN, CMD_MEDIUM,
	  cmd_service_action_in },
	{ SCSI_REPORT_LUNS, 12, DIR_IN, CMD_ANY_LUN, cmd_report_luns },
};

static const struct scsi_cmd_desc *find_command(uint8_t opcode)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].opcode == opcode)
			return &commands[i];
	return NULL;
}

/* FNV-1a: a stable 60-bit NAA value from the serial number. */
static uint64_t naa_from_serial(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ull;
	}
	return 3ull << 60 | (h & 0x0fffffffffffffffull);
}

void scsidisk_init(struct scsidisk *d, const struct block_backend *b,
		   const char *serial)
{
	size_t n;

	memset(d, 0, sizeof(*d));
	d->backend = b;
	if (!serial || !serial[0])
		serial = "0";
	n = strnlen(serial, SCSIDISK_SERIAL_MAX);
	for (size_t i = 0; i < n; i++) {
		char ch = serial[i];

		d->serial[i] = ch > 0x20 && ch < 0x7f ? ch : '_';
	}
	d->serial[n] = '\0';
	d->serial_len = (uint8_t)n;
	d->naa = naa_from_serial(d->serial, n);
}

/*
 * What scsidisk_execute_sg can serve: a READ or WRITE (6, 10, 16) of
 * exactly data_len bytes of whole blocks (no overrun, no partial block,
 * at least one) on LUN 0, with a backend that moves data by DMA. The
 * command's own checks (range, protection bits) still come in execute.
 */
bool scsidisk_direct(const struct scsidisk *d, const uint8_t *cdb, unsigned cdb_len,
		     uint8_t lun, uint32_t data_len)
{
	uint8_t buf[SCSIDISK_MAX_CDB];
	struct rw_fields f;
	unsigned need;

	if (!cdb || lun || !data_len || data_len % SCSIDISK_BLOCK_SIZE ||
	    !d->backend->read_sg || !d->backend->write_sg)
		return false;
	switch (cdb_len ? cdb[0] : 0) {
	case SCSI_READ_6:
	case SCSI_WRITE_6:
		need = 6;
		break;
	case SCSI_READ_10:
	case SCSI_WRITE_10:
		need = 10;
		break;
	case SCSI_READ_16:
	case SCSI_WRITE_16:
		need = 16;
		break;
	default:
		return false;
	}
	if (cdb_len < need)
		return false;
	memcpy(buf, cdb, need);
	f = rw_decode(buf);
	return f.count * SCSIDISK_BLOCK_SIZE == data_len;
}

/* The segments hold exactly len bytes, none of them empty. */
static bool segs_add_up(const struct blk_seg *segs, unsigned nsegs, uint32_t len)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < nsegs; i++) {
		if (!segs[i].len)
			return false;
		sum += segs[i].len;
	}
	return nsegs && sum == len;
}

static int execute(struct scsidisk *d, const uint8_t *cdb, unsigned cdb_len, uint8_t lun,
		   void *data, const struct blk_seg *segs, unsigned nsegs, uint32_t data_len,
		   bool data_in, struct scsi_result *res)
{
	struct scsi_cmd c = {
		.d = d, .lun = lun, .data = data, .res = res,
		.data_len = data || segs ? data_len : 0,
		.segs = segs, .nsegs = nsegs,
	};
	const struct scsi_cmd_desc *desc;
	unsigned n = cdb_len < SCSIDISK_MAX_CDB ? cdb_len : SCSIDISK_MAX_CDB;

	memset(res, 0, sizeof(*res));
	d->stats.commands++;
	/* One copy of the CDB: it may sit in memory the guest can change. */
	if (cdb && n)
		memcpy(c.cdb, cdb, n);
	else
		n = 0;
	/* Segments serve only what scsidisk_direct allows (checked on our
	 * copy: the guest cannot turn it into another command now). */
	if (segs && (!scsidisk_direct(d, c.cdb, n, lun, data_len) ||
		     !segs_add_up(segs, nsegs, data_len))) {
		check(&c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
		res->residual = c.data_len - res->transferred;
		return res->status;
	}

	/* A LUN we do not have answers that first, whatever the opcode,
	 * except for the commands SPC makes every LUN answer. */
	desc = n ? find_command(c.cdb[0]) : NULL;	if (lun != 0 && !(desc && (desc->flags & CMD_ANY_LUN))) {
		check(&c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LUN_NOT_SUPPORTED);
	} else if (!desc) {
		check(&c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_OPCODE);
	} else if (n < desc->cdb_len) {
		invalid_field(&c);
	} else if (c.data_len && desc->dir != DIR_NONE &&
		   data_in != (desc->dir == DIR_IN)) {
		invalid_field(&c);
	} else if (c.cdb[desc->cdb_len - 1] & 0x05) {
		/* Control byte: NACA and the obsolete LINK are unsupported. */
		invalid_field(&c);
	} else if ((desc->flags & CMD_MEDIUM) && d->backend->sectors == 0) {
		check(&c, SCSI_SK_NOT_READY, SCSI_ASC_MEDIUM_NOT_PRESENT);
	} else {
		desc->handler(&c);
	}
	res->residual = c.data_len - res->transferred;
	return res->status;
}

int scsidisk_execute(struct scsidisk *d, const uint8_t *cdb, unsigned cdb_len,
		     uint8_t lun, void *data, uint32_t data_len, bool data_in,
		     struct scsi_result *res)
{
	return execute(d, cdb, cdb_len, lun, data, NULL, 0, data_len, data_in, res);
}

int scsidisk_execute_sg(struct scsidisk *d, const uint8_t *cdb, unsigned cdb_len,
			uint8_t lun, const struct blk_seg *segs, unsigned nsegs,
			uint32_t data_len, bool data_in, struct scsi_result *res)
{
	return execute(d, cdb, cdb_len, lun, NULL, segs, nsegs, data_len, data_in, res);
}
