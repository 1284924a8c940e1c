/*
 * Host tests for the emulated ATA disk (drivers/ata.c), driven through
 * its ports as a guest would: IDENTIFY, PIO reads and writes in every
 * command form (LBA28, LBA48 with the HOB registers, CHS, multiple mode),
 * sector count 0, and the failures a drive reports (IDNF, ABRT, UNC),
 * plus SRST, the absent device 1, nIEN and the whole-block data API.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "ata.h"

#define CMD(r)  (ATA_CMD_BASE + (r))
#define ST_IDLE (ATA_SR_DRDY | ATA_SR_DSC)             /* 50h */
#define ST_DRQ  (ST_IDLE | ATA_SR_DRQ)                  /* 58h */
#define ST_ERR  (ST_IDLE | ATA_SR_ERR)                  /* 51h */

/* ---- the platform: IRQ line, log, console ------------------------------ */

struct env {
	bool irq;
	unsigned irq_rises;
	unsigned bad_irq;       /* irq_set on another line, or no change */
	unsigned logs;
};

static struct env env;

static void env_irq(void *ctx, unsigned irq, bool level)
{
	struct env *e = ctx;

	if (irq != ATA_IRQ || level == e->irq)
		e->bad_irq++;
	if (level)
		e->irq_rises++;
	e->irq = level;
}

static void env_log(void *ctx, const char *msg)
{
	((struct env *)ctx)->logs++;
}

static const struct platform plat = {
	.ctx = &env, .irq_set = env_irq, .log = env_log,
};

/* ---- the disk: RAM-backed, or "virtual" (huge, contents derived from
 * the LBA, writes only recorded) ------------------------------------------ */

struct disk {
	uint8_t *mem;           /* NULL: virtual */
	uint64_t sectors;
	bool fail_read, fail_write, fail_flush;
	uint64_t fail_lba;      /* the failing sector */
	unsigned reads, writes, flushes;
	uint64_t moved;         /* sectors read + written */
	uint64_t first_lba, next_lba;   /* the range touched, if contiguous */
	bool contiguous;
	bool outside;           /* an access past the end: a model bug */
};

static struct disk disk;

static void virt_fill(uint64_t lba, uint8_t *p)
{
	for (unsigned i = 0; i < ATA_SECTOR_SIZE; i += 8) {
		uint64_t v = lba * 0x9e3779b97f4a7c15ull + i;

		memcpy(p + i, &v, 8);
	}
}

static bool track(struct disk *d, uint64_t lba, unsigned count)
{
	if (lba >= d->sectors || count > d->sectors - lba || count == 0 ||
	    count > ATA_MAX_MULTIPLE) {
		d->outside = true;
		return false;
	}
	if (!d->moved) {
		d->first_lba = d->next_lba = lba;
		d->contiguous = true;
	} else if (lba != d->next_lba) {
		d->contiguous = false;
	}
	d->next_lba = lba + count;
	d->moved += count;
	return true;
}

static bool fails(const struct disk *d, bool on, uint64_t lba, unsigned n)
{
	return on && d->fail_lba >= lba && d->fail_lba < lba + n;
}

static int disk_read(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	struct disk *d = ctx;

	d->reads++;
	if (!track(d, lba, count) || fails(d, d->fail_read, lba, count))
		return -1;
	for (unsigned i = 0; i < count; i++) {
		uint8_t *p = (uint8_t *)buf + i * ATA_SECTOR_SIZE;

		if (d->mem)
			memcpy(p, d->mem + (lba + i) * ATA_SECTOR_SIZE,
			       ATA_SECTOR_SIZE);
		else
			virt_fill(lba + i, p);
	}
	return 0;
}

static int disk_write(void *ctx, uint64_t lba, unsigned count,
		      const void *buf)
{
	struct disk *d = ctx;

	d->writes++;
	if (!track(d, lba, count) || fails(d, d->fail_write, lba, count))
		return -1;
	if (d->mem)
		memcpy(d->mem + lba * ATA_SECTOR_SIZE, buf,
		       (size_t)count * ATA_SECTOR_SIZE);
	return 0;
}

static int disk_flush(void *ctx)
{
	struct disk *d = ctx;

	d->flushes++;
	return d->fail_flush ? -1 : 0;
}

static struct block_backend backend = {
	.ctx = &disk, .read = disk_read, .write = disk_write,
	.flush = disk_flush,
};

static struct ata ata;

#define RAM_SECTORS 4096        /* 2 MiB: two cylinders of CHS */

/* A fresh drive on a RAM disk of `sectors` (0: a virtual one of
 * `virt` sectors). */
static void setup_disk(uint64_t sectors, uint64_t virt)
{
	free(disk.mem);
	memset(&disk, 0, sizeof(disk));
	if (sectors) {
		disk.mem = calloc(sectors, ATA_SECTOR_SIZE);
		disk.sectors = sectors;
	} else {
		disk.sectors = virt;
	}
	backend.sectors = disk.sectors;
	memset(&env, 0, sizeof(env));
	ata_init(&ata, &plat, &backend);
}

static void setup(void)
{
	setup_disk(RAM_SECTORS, 0);
}

/* Forget the disk's access record (between phases of one test). */
static void disk_mark(void)
{
	disk.moved = 0;
	disk.reads = disk.writes = disk.flushes = 0;
}

/* ---- port access ----------------------------------------------------- */

static uint32_t in(uint16_t port, unsigned size)
{
	uint32_t v = 0xdeadbeef;

	if (!ata_io(&ata, port, size, false, &v))
		return 0xbad0bad0;
	return v;
}

static void out(uint16_t port, unsigned size, uint32_t v)
{
	ata_io(&ata, port, size, true, &v);
}

static uint8_t inb(uint16_t port)
{
	return (uint8_t)in(port, 1);
}

static void outb(uint16_t port, uint8_t v)
{
	out(port, 1, v);
}

static uint8_t altstatus(void)
{
	return inb(ATA_CTRL_PORT);
}

/* LBA28 (or CHS when `lba_bit` is clear) taskfile and command. */
static void cmd28(uint8_t cmd, uint32_t lba, uint8_t count)
{
	outb(CMD(ATA_REG_COUNT), count);
	outb(CMD(ATA_REG_LBAL), (uint8_t)lba);
	outb(CMD(ATA_REG_LBAM), (uint8_t)(lba >> 8));
	outb(CMD(ATA_REG_LBAH), (uint8_t)(lba >> 16));
	outb(CMD(ATA_REG_DEVICE), 0xe0 | ((lba >> 24) & 0x0f));
	outb(CMD(ATA_REG_STATUS), cmd);
}

/* LBA48: each of count/LBA written twice, high (HOB) bytes first. */
static void cmd48(uint8_t cmd, uint64_t lba, uint16_t count)
{
	outb(CMD(ATA_REG_COUNT), (uint8_t)(count >> 8));
	outb(CMD(ATA_REG_COUNT), (uint8_t)count);
	outb(CMD(ATA_REG_LBAL), (uint8_t)(lba >> 24));
	outb(CMD(ATA_REG_LBAL), (uint8_t)lba);
	outb(CMD(ATA_REG_LBAM), (uint8_t)(lba >> 32));
	outb(CMD(ATA_REG_LBAM), (uint8_t)(lba >> 8));
	outb(CMD(ATA_REG_LBAH), (uint8_t)(lba >> 40));
	outb(CMD(ATA_REG_LBAH), (uint8_t)(lba >> 16));
	outb(CMD(ATA_REG_DEVICE), 0x40);
	outb(CMD(ATA_REG_STATUS), cmd);
}

static void simple_cmd(uint8_t cmd, uint8_t feature, uint8_t count)
{
	outb(CMD(ATA_REG_ERROR), feature);
	outb(CMD(ATA_REG_COUNT), count);
	outb(CMD(ATA_REG_DEVICE), 0xa0);
	outb(CMD(ATA_REG_STATUS), cmd);
}

/*
 * A PIO data phase as a polling guest runs it, one port access of
 * `size` bytes at a time: each DRQ block must come with DRQ set and, for
 * reads and for every write block after the first, a fresh interrupt
 * (acknowledged here by reading the status register). Returns the
 * sectors moved; *blocks counts the DRQ blocks seen.
 */
static unsigned pio(uint8_t *buf, unsigned sectors, bool write,
		    unsigned size, unsigned *blocks, bool *irq_ok)
{
	unsigned done = 0, first = 1;

	*blocks = 0;
	*irq_ok = true;
	while (done < sectors && (altstatus() & ATA_SR_DRQ)) {
		unsigned words_before = 0;

		if ((write && !first) || !write) {
			if (!env.irq)
				*irq_ok = false;
		} else if (env.irq) {
			*irq_ok = false;        /* no IRQ before write data */
		}
		first = 0;
		inb(CMD(ATA_REG_STATUS));       /* acknowledge */
		(*blocks)++;
		/* Move words until DRQ drops or the next block starts. */
		while (done < sectors) {
			uint32_t v;
			size_t off = (size_t)done * ATA_SECTOR_SIZE +
				     words_before;

			if (write) {
				memcpy(&v, buf + off, size);
				out(CMD(ATA_REG_DATA), size, v);
			} else {
				v = in(CMD(ATA_REG_DATA), size);
				memcpy(buf + off, &v, size);
			}
			words_before += size;
			if (words_before == ATA_SECTOR_SIZE) {
				done++;
				words_before = 0;
				/* A block boundary shows as an interrupt. */
				if (env.irq || !(altstatus() & ATA_SR_DRQ))
					break;
			}
		}
	}
	return done;
}

/* The same through the whole-block API: one call per DRQ block. */
static unsigned pio_block(uint8_t *buf, size_t bytes, bool write,
			  unsigned *blocks)
{
	size_t done = 0, n;

	*blocks = 0;
	while (done < bytes && (altstatus() & ATA_SR_DRQ)) {
		inb(CMD(ATA_REG_STATUS));
		n = write ? ata_data_out(&ata, buf + done, bytes - done) :
			    ata_data_in(&ata, buf + done, bytes - done);
		if (!n)
			break;
		done += n;
		(*blocks)++;
	}
	return (unsigned)(done / ATA_SECTOR_SIZE);
}

static void pattern(uint8_t *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 7 + seed + (i >> 9) * 13);
}

static uint8_t *ram(uint64_t lba)
{
	return disk.mem + lba * ATA_SECTOR_SIZE;
}

/* ---- tests ----------------------------------------------------------- */

static void test_power_on(void)
{
	setup();
	CHECK(inb(CMD(ATA_REG_STATUS)) == ST_IDLE, "power-on status 50h");
	CHECK(inb(CMD(ATA_REG_ERROR)) == 0x01 &&
	      inb(CMD(ATA_REG_COUNT)) == 1 && inb(CMD(ATA_REG_LBAL)) == 1 &&
	      inb(CMD(ATA_REG_LBAM)) == 0 && inb(CMD(ATA_REG_LBAH)) == 0,
	      "power-on: diagnostic code 01h and the ATA signature");
	CHECK(!env.irq, "power-on: IRQ 14 low");
	outb(CMD(ATA_REG_COUNT), 0x55);
	outb(CMD(ATA_REG_LBAL), 0xaa);
	CHECK(inb(CMD(ATA_REG_COUNT)) == 0x55 && inb(CMD(ATA_REG_LBAL)) == 0xaa,
	      "registers read back what was written (presence probe)");
	CHECK(in(0x1f8, 1) == 0xbad0bad0 && in(0x3f7, 1) == 0xbad0bad0 &&
	      in(0x170, 2) == 0xbad0bad0, "ports not the model's: not handled");
}

static uint16_t idw(const uint8_t *id, unsigned w)
{
	return (uint16_t)(id[2 * w] | id[2 * w + 1] << 8);
}

/* An ATA string: two characters per word, first one in the high byte. */
static void idstr(const uint8_t *id, unsigned w, unsigned words, char *s)
{
	for (unsigned i = 0; i < words; i++) {
		s[2 * i] = (char)(idw(id, w + i) >> 8);
		s[2 * i + 1] = (char)idw(id, w + i);
	}
	s[2 * words] = 0;
}

static bool identify(uint8_t *id)
{
	unsigned blocks;
	bool irq_ok;

	simple_cmd(ATA_CMD_IDENTIFY, 0, 0);
	return pio(id, 1, false, 2, &blocks, &irq_ok) == 1 && blocks == 1 &&
	       irq_ok;
}

static void test_identify(void)
{
	uint8_t id[512];
	char s[41];
	uint8_t sum = 0;

	setup();
	simple_cmd(ATA_CMD_IDENTIFY, 0, 0);
	CHECK(altstatus() == ST_DRQ && env.irq,
	      "IDENTIFY: DRQ with an interrupt");
	CHECK(env.irq && inb(CMD(ATA_REG_STATUS)) == ST_DRQ && !env.irq,
	      "reading status acknowledges the interrupt");
	for (unsigned i = 0; i < 256; i++) {
		uint16_t w = (uint16_t)in(CMD(ATA_REG_DATA), 2);

		id[2 * i] = (uint8_t)w;
		id[2 * i + 1] = (uint8_t)(w >> 8);
	}
	CHECK(altstatus() == ST_IDLE && !env.irq,
	      "IDENTIFY read out: status 50h, no interrupt at the end");
	CHECK(idw(id, 0) == 0x0040, "word 0: fixed ATA device");
	idstr(id, 27, 20, s);
	CHECK(!strcmp(s, "isovisor emulated ATA disk              "),
	      "model string, byte-swapped and space-padded: '%s'", s);
	CHECK(id[54] == 's' && id[55] == 'i',
	      "model: first character in the high byte of word 27");
	idstr(id, 10, 10, s);
	CHECK(!strcmp(s, "ISOVISOR-ATA-0001   "), "serial number '%s'", s);
	idstr(id, 23, 4, s);
	CHECK(!strcmp(s, "1.0     "), "firmware revision '%s'", s);
	CHECK(idw(id, 47) == 0x8010, "word 47: MULTIPLE max 16");
	CHECK(idw(id, 59) == 0x0110, "word 59: multiple setting valid, 16");
	CHECK((idw(id, 49) & 0x0200) && !(idw(id, 49) & 0x0100),
	      "word 49: LBA supported, no DMA");
	CHECK(idw(id, 60) == RAM_SECTORS && idw(id, 61) == 0,
	      "words 60-61: LBA28 capacity");
	CHECK((idw(id, 83) & 0xc400) == 0x4400 && (idw(id, 86) & 0x0400),
	      "words 83/86: 48-bit address feature set supported and enabled");
	CHECK((idw(id, 83) & 0x3000) == 0x3000 && (idw(id, 86) & 0x3000),
	      "words 83/86: FLUSH CACHE and FLUSH CACHE EXT");
	CHECK(idw(id, 100) == RAM_SECTORS && !idw(id, 101) && !idw(id, 102) &&
	      !idw(id, 103), "words 100-103: LBA48 capacity");
	CHECK(idw(id, 80) & 0x0080, "word 80: ATA/ATAPI-7");
	CHECK(idw(id, 1) == 4 && idw(id, 3) == 16 && idw(id, 6) == 63,
	      "words 1/3/6: default CHS 4/16/63");
	for (unsigned i = 0; i < 512; i++)
		sum = (uint8_t)(sum + id[i]);
	CHECK(id[510] == 0xa5 && sum == 0, "word 255: A5h and checksum");

	/* A disk beyond LBA28: words 60-61 saturate, 100-103 tell all. */
	setup_disk(0, 0x123456789abull);
	CHECK(identify(id), "IDENTIFY on a 0x123456789ab-sector disk");
	CHECK(idw(id, 60) == 0xffff && idw(id, 61) == 0x0fff,
	      "words 60-61 saturate at 0fffffffh");
	CHECK(idw(id, 100) == 0x89ab && idw(id, 101) == 0x4567 &&
	      idw(id, 102) == 0x0123 && idw(id, 103) == 0,
	      "words 100-103: the full 48-bit capacity");
	CHECK(idw(id, 1) == 16383 && idw(id, 54) == 16383,
	      "cylinders capped at 16383");
}

static void test_write_read(uint8_t wcmd, uint8_t rcmd, bool ext,
			    unsigned size, const char *what)
{
	enum { LBA = 37, N = 5 };
	uint8_t src[N * 512], dst[N * 512];
	unsigned blocks, n;
	bool irq_ok;

	setup();
	pattern(src, sizeof(src), wcmd);
	if (ext)
		cmd48(wcmd, LBA, N);
	else
		cmd28(wcmd, LBA, N);
	CHECK(altstatus() == ST_DRQ && !env.irq,
	      "%s: write DRQ set, no interrupt before the data", what);
	n = pio(src, N, true, size, &blocks, &irq_ok);
	CHECK(n == N && irq_ok, "%s: %u sectors written, interrupt per block",
	      what, n);
	CHECK(altstatus() == ST_IDLE && env.irq,
	      "%s: write complete with an interrupt", what);
	CHECK(!memcmp(ram(LBA), src, sizeof(src)) && ram(LBA - 1)[511] == 0 &&
	      ram(LBA + N)[0] == 0, "%s: the disk holds exactly the data", what);
	inb(CMD(ATA_REG_STATUS));
	if (ext)
		cmd48(rcmd, LBA, N);
	else
		cmd28(rcmd, LBA, N);
	memset(dst, 0, sizeof(dst));
	n = pio(dst, N, false, size, &blocks, &irq_ok);
	CHECK(n == N && irq_ok && !memcmp(dst, src, sizeof(dst)),
	      "%s: read back, interrupt per block", what);
	CHECK(altstatus() == ST_IDLE && inb(CMD(ATA_REG_DATA)) == 0xff,
	      "%s: read complete, DRQ clear", what);
}

static void test_multiple(void)
{
	uint8_t src[10 * 512], dst[10 * 512];
	uint8_t id[512];
	unsigned blocks, n;
	bool irq_ok;

	setup();
	simple_cmd(ATA_CMD_SET_MULTIPLE, 0, 4);
	CHECK(altstatus() == ST_IDLE && env.irq, "SET MULTIPLE 4");
	CHECK(identify(id) && idw(id, 59) == 0x0104, "word 59 says 4");
	pattern(src, sizeof(src), 9);
	cmd28(ATA_CMD_WRITE_MULTIPLE, 100, 10);
	n = pio(src, 10, true, 2, &blocks, &irq_ok);
	CHECK(n == 10 && blocks == 3 && irq_ok,
	      "WRITE MULTIPLE 10 sectors: 3 DRQ blocks (4, 4, 2)");
	CHECK(disk.writes == 3 && !memcmp(ram(100), src, sizeof(src)),
	      "WRITE MULTIPLE: one backend write per block, data on disk");
	cmd28(ATA_CMD_READ_MULTIPLE, 100, 10);
	n = pio_block(dst, sizeof(dst), false, &blocks);
	CHECK(n == 10 && blocks == 3 && !memcmp(dst, src, sizeof(dst)),
	      "READ MULTIPLE via the block API: blocks of 4, 4, 2");

	/* The EXT forms, with a multiple of 8. */
	simple_cmd(ATA_CMD_SET_MULTIPLE, 0, 8);
	inb(CMD(ATA_REG_STATUS));
	pattern(src, sizeof(src), 77);
	cmd48(ATA_CMD_WRITE_MULTIPLE_EXT, 2000, 10);
	n = pio_block(src, sizeof(src), true, &blocks);
	CHECK(n == 10 && blocks == 2 && altstatus() == ST_IDLE &&
	      !memcmp(ram(2000), src, sizeof(src)),
	      "WRITE MULTIPLE EXT: blocks of 8, 2");
	cmd48(ATA_CMD_READ_MULTIPLE_EXT, 2000, 10);
	memset(dst, 0, sizeof(dst));
	n = pio(dst, 10, false, 4, &blocks, &irq_ok);
	CHECK(n == 10 && blocks == 2 && irq_ok &&
	      !memcmp(dst, src, sizeof(dst)),
	      "READ MULTIPLE EXT with 32-bit reads");

	/* Bad sizes abort and keep the setting; 0 disables. */
	simple_cmd(ATA_CMD_SET_MULTIPLE, 0, 3);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_ABRT,
	      "SET MULTIPLE 3: ABRT");
	simple_cmd(ATA_CMD_SET_MULTIPLE, 0, 32);
	CHECK(altstatus() == ST_ERR && identify(id) && idw(id, 59) == 0x0108,
	      "SET MULTIPLE 32: ABRT, setting stays 8");
	simple_cmd(ATA_CMD_SET_MULTIPLE, 0, 0);
	CHECK(altstatus() == ST_IDLE && identify(id) && idw(id, 59) == 0x0100,
	      "SET MULTIPLE 0 disables multiple mode");
	disk_mark();
	cmd28(ATA_CMD_READ_MULTIPLE, 0, 1);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_ABRT &&
	      !disk.reads, "READ MULTIPLE with multiple mode off: ABRT");
	cmd28(ATA_CMD_WRITE_MULTIPLE, 0, 1);
	CHECK(altstatus() == ST_ERR && !(altstatus() & ATA_SR_DRQ),
	      "WRITE MULTIPLE with multiple mode off: ABRT, no DRQ");
}

static void test_addressing(void)
{
	uint8_t buf[512];
	unsigned blocks;

	setup_disk(0, 1ull << 40);
	/* LBA28: bits 24-27 come from the device register. */
	cmd28(ATA_CMD_READ_SECTORS, 0x0abcdef1, 1);
	CHECK(pio_block(buf, 512, false, &blocks) == 1 &&
	      disk.first_lba == 0x0abcdef1,
	      "LBA28 address 0abcdef1h from LBAL/M/H and device[3:0]");
	/* An LBA28 command ignores the HOB copies. */
	disk_mark();
	outb(CMD(ATA_REG_LBAH), 0x77);
	cmd28(ATA_CMD_READ_SECTORS, 0x00000100, 1);
	CHECK(pio_block(buf, 512, false, &blocks) == 1 &&
	      disk.first_lba == 0x100, "LBA28 ignores the HOB registers");
	/* LBA48. */
	disk_mark();
	cmd48(ATA_CMD_READ_SECTORS_EXT, 0xa1b2c3d4e5ull, 2);
	CHECK(pio_block(buf, 512, false, &blocks) == 1 &&
	      pio_block(buf, 512, false, &blocks) == 1 &&
	      disk.first_lba == 0xa1b2c3d4e5ull && disk.moved == 2,
	      "LBA48 address a1b2c3d4e5h, 2 sectors");
	disk_mark();
	cmd48(ATA_CMD_WRITE_SECTORS_EXT, 0xffffffffffull, 1);
	memset(buf, 0x5a, sizeof(buf));
	CHECK(pio_block(buf, 512, true, &blocks) == 1 &&
	      disk.first_lba == 0xffffffffffull && disk.writes == 1 &&
	      altstatus() == ST_IDLE, "WRITE SECTORS EXT at ffffffffffh");
	/* LBA28 cannot reach past 0ffffffeh even on a big disk. */
	disk_mark();
	cmd28(ATA_CMD_READ_SECTORS, 0x0fffffff, 1);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_IDNF &&
	      !disk.reads, "LBA28 sector 0fffffffh: IDNF");
	cmd28(ATA_CMD_READ_SECTORS, 0x0ffffffe, 1);
	CHECK(altstatus() == ST_DRQ, "LBA28 sector 0ffffffeh: readable");

	/* CHS (device bit 6 clear) with the default 16 heads, 63 sectors. */
	setup();
	memset(ram(63 * 17 + 4), 0xc5, 512);
	outb(CMD(ATA_REG_COUNT), 1);
	outb(CMD(ATA_REG_LBAL), 5);             /* sector 5 */
	outb(CMD(ATA_REG_LBAM), 1);             /* cylinder 1 */
	outb(CMD(ATA_REG_LBAH), 0);
	outb(CMD(ATA_REG_DEVICE), 0xa0 | 1);    /* head 1 */
	outb(CMD(ATA_REG_STATUS), ATA_CMD_READ_SECTORS);
	memset(buf, 0, sizeof(buf));
	CHECK(pio_block(buf, 512, false, &blocks) == 1 && buf[0] == 0xc5 &&
	      buf[511] == 0xc5, "CHS 1/1/5 is LBA (1*16+1)*63+4");
	outb(CMD(ATA_REG_LBAL), 0);             /* sector 0 does not exist */
	outb(CMD(ATA_REG_STATUS), ATA_CMD_READ_SECTORS);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_IDNF,
	      "CHS sector 0: IDNF");
	/* INITIALIZE DEVICE PARAMETERS: 4 heads, 32 sectors per track. */
	outb(CMD(ATA_REG_COUNT), 32);
	outb(CMD(ATA_REG_DEVICE), 0xa0 | 3);
	outb(CMD(ATA_REG_STATUS), ATA_CMD_INIT_DEV_PARAMS);
	CHECK(altstatus() == ST_IDLE, "INITIALIZE DEVICE PARAMETERS 4/32");
	memset(ram((2 * 4 + 3) * 32 + 31), 0x3c, 512);
	outb(CMD(ATA_REG_COUNT), 1);
	outb(CMD(ATA_REG_LBAL), 32);
	outb(CMD(ATA_REG_LBAM), 2);
	outb(CMD(ATA_REG_DEVICE), 0xa0 | 3);
	outb(CMD(ATA_REG_STATUS), ATA_CMD_READ_SECTORS);
	CHECK(pio_block(buf, 512, false, &blocks) == 1 && buf[0] == 0x3c,
	      "CHS 2/3/32 under the new translation");
	outb(CMD(ATA_REG_COUNT), 0);
	outb(CMD(ATA_REG_STATUS), ATA_CMD_INIT_DEV_PARAMS);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_ABRT,
	      "INITIALIZE DEVICE PARAMETERS with 0 sectors/track: ABRT");
}

static void test_hob(void)
{
	setup();
	outb(CMD(ATA_REG_COUNT), 0x12);
	outb(CMD(ATA_REG_COUNT), 0x34);
	outb(CMD(ATA_REG_LBAL), 0x56);
	outb(CMD(ATA_REG_LBAL), 0x78);
	outb(CMD(ATA_REG_LBAM), 0x9a);
	outb(CMD(ATA_REG_LBAM), 0xbc);
	outb(CMD(ATA_REG_LBAH), 0xde);
	outb(CMD(ATA_REG_LBAH), 0xf0);
	CHECK(inb(CMD(ATA_REG_COUNT)) == 0x34 && inb(CMD(ATA_REG_LBAL)) == 0x78 &&
	      inb(CMD(ATA_REG_LBAM)) == 0xbc && inb(CMD(ATA_REG_LBAH)) == 0xf0,
	      "HOB=0: the last values written");
	outb(ATA_CTRL_PORT, ATA_DC_HOB);
	CHECK(inb(CMD(ATA_REG_COUNT)) == 0x12 && inb(CMD(ATA_REG_LBAL)) == 0x56 &&
	      inb(CMD(ATA_REG_LBAM)) == 0x9a && inb(CMD(ATA_REG_LBAH)) == 0xde,
	      "HOB=1: the previous values");
	CHECK(inb(CMD(ATA_REG_ERROR)) == 0x01, "HOB does not change Error");
	outb(CMD(ATA_REG_LBAH), 0x11);
	CHECK(inb(CMD(ATA_REG_COUNT)) == 0x34 && inb(CMD(ATA_REG_LBAH)) == 0x11,
	      "a command block write clears HOB");

	/* An error on a 48-bit command reports the sector in both halves. */
	setup_disk(0, 1ull << 40);
	disk.fail_read = true;
	disk.fail_lba = 0x123456789aull;
	cmd48(ATA_CMD_READ_SECTORS_EXT, 0x123456789aull, 1);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_UNC,
	      "LBA48 read failure: UNC");
	CHECK(inb(CMD(ATA_REG_LBAL)) == 0x9a && inb(CMD(ATA_REG_LBAM)) == 0x78 &&
	      inb(CMD(ATA_REG_LBAH)) == 0x56, "failing LBA, low bytes");
	outb(ATA_CTRL_PORT, ATA_DC_HOB);
	CHECK(inb(CMD(ATA_REG_LBAL)) == 0x34 && inb(CMD(ATA_REG_LBAM)) == 0x12 &&
	      inb(CMD(ATA_REG_LBAH)) == 0x00, "failing LBA, HOB bytes");
}

static void test_count_zero(void)
{
	static uint8_t big[65536 * 512 / 16];
	unsigned blocks, total = 0, calls = 0;
	size_t n;
	bool ok = true;

	setup_disk(0, 1ull << 20);
	cmd28(ATA_CMD_READ_SECTORS, 1000, 0);
	while ((n = ata_data_in(&ata, big, 4096)) > 0) {
		total += (unsigned)n;
		calls++;
	}
	CHECK(total == 256 * 512 && calls == 256 && disk.moved == 256 &&
	      disk.first_lba == 1000 && disk.contiguous,
	      "READ SECTORS count 0: 256 sectors, one DRQ block each");
	CHECK(altstatus() == ST_IDLE, "... then idle");

	disk_mark();
	simple_cmd(ATA_CMD_SET_MULTIPLE, 0, 16);
	cmd48(ATA_CMD_READ_MULTIPLE_EXT, 5000, 0);
	total = 0;
	calls = 0;
	while ((n = ata_data_in(&ata, big, sizeof(big))) > 0) {
		/* every sector carries its own LBA's contents */
		uint8_t want[512];

		virt_fill(5000 + total / 512, want);
		if (memcmp(big, want, 512))
			ok = false;
		total += (unsigned)n;
		calls++;
	}
	CHECK(total == 65536u * 512 && calls == 4096 && disk.moved == 65536 &&
	      disk.first_lba == 5000 && disk.contiguous && ok,
	      "READ MULTIPLE EXT count 0: 65536 sectors in 4096 blocks");

	disk_mark();
	cmd28(ATA_CMD_WRITE_SECTORS, 7, 0);
	n = pio_block(big, 256 * 512, true, &blocks);
	CHECK(n == 256 && blocks == 256 && disk.moved == 256 &&
	      disk.first_lba == 7 && altstatus() == ST_IDLE,
	      "WRITE SECTORS count 0: 256 sectors");
	disk_mark();
	cmd48(ATA_CMD_WRITE_SECTORS_EXT, 1ull << 19, 0);
	total = 0;
	while ((n = ata_data_out(&ata, big, sizeof(big))) > 0)
		total += (unsigned)n;
	CHECK(total == 65536u * 512 && disk.moved == 65536 &&
	      disk.first_lba == 1ull << 19 && altstatus() == ST_IDLE,
	      "WRITE SECTORS EXT count 0: 65536 sectors");
	CHECK(!disk.outside, "no backend access outside the disk");
}

static void test_out_of_range(void)
{
	setup();
	env.irq_rises = 0;
	cmd28(ATA_CMD_READ_SECTORS, RAM_SECTORS - 1, 2);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_IDNF,
	      "read running past the end: ERR, IDNF");
	CHECK(env.irq_rises == 1 && !disk.reads,
	      "... with an interrupt and no backend access");
	CHECK(in(CMD(ATA_REG_DATA), 2) == 0xffff && altstatus() == ST_ERR,
	      "... and no data phase");
	CHECK(inb(CMD(ATA_REG_LBAL)) == (RAM_SECTORS & 0xff) &&
	      inb(CMD(ATA_REG_LBAM)) == (RAM_SECTORS >> 8),
	      "... LBA registers: the first sector not found");
	cmd28(ATA_CMD_WRITE_SECTORS, RAM_SECTORS, 1);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_IDNF &&
	      !disk.writes, "write at the capacity: IDNF, no DRQ");
	cmd48(ATA_CMD_READ_SECTORS_EXT, 1ull << 40, 1);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_IDNF,
	      "LBA48 far out of range: IDNF");
	cmd48(ATA_CMD_WRITE_SECTORS_EXT, RAM_SECTORS - 10, 0);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_IDNF,
	      "LBA48 count 0 (65536) past the end: IDNF");
	cmd28(ATA_CMD_READ_VERIFY, RAM_SECTORS - 1, 2);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_IDNF,
	      "READ VERIFY past the end: IDNF");
	cmd28(ATA_CMD_READ_VERIFY, RAM_SECTORS - 2, 2);
	CHECK(altstatus() == ST_IDLE && env.irq,
	      "READ VERIFY in range: done, interrupt, no data");
	cmd28(ATA_CMD_READ_SECTORS, RAM_SECTORS - 1, 1);
	CHECK(altstatus() == ST_DRQ, "the last sector is readable");
	CHECK(!disk.outside, "no backend access outside the disk");
}

static void test_abort(void)
{
	static const uint8_t bad[] = { 0x00, 0x08, 0xa0, 0xa1, 0xc8, 0xca,
				       0x25, 0xb0, 0xf8, 0xff };

	setup();
	for (unsigned i = 0; i < sizeof(bad); i++) {
		unsigned logs = env.logs;

		inb(CMD(ATA_REG_STATUS));
		simple_cmd(bad[i], 0, 1);
		CHECK(altstatus() == ST_ERR && env.irq &&
		      inb(CMD(ATA_REG_ERROR)) == ATA_ER_ABRT && env.logs > logs,
		      "command %02xh: ERR, ABRT, interrupt, logged", bad[i]);
	}
	CHECK(ata.stats.errors == sizeof(bad), "error counter");
	/* The next good command clears the error. */
	simple_cmd(ATA_CMD_FLUSH_CACHE, 0, 0);
	CHECK(altstatus() == ST_IDLE && inb(CMD(ATA_REG_ERROR)) == 0,
	      "a good command after an error: status 50h, error 0");
}

static void test_set_features(void)
{
	uint8_t id[512];

	setup();
	CHECK(identify(id) && (idw(id, 85) & 0x0060) == 0x0060,
	      "write cache and look-ahead enabled at power-on");
	simple_cmd(ATA_CMD_SET_FEATURES, 0x82, 0);
	CHECK(altstatus() == ST_IDLE && identify(id) && !(idw(id, 85) & 0x20),
	      "SET FEATURES 82h: write cache off (word 85)");
	disk_mark();
	cmd28(ATA_CMD_WRITE_SECTORS, 0, 2);
	{
		uint8_t buf[1024] = { 0 };
		unsigned blocks;

		pio_block(buf, sizeof(buf), true, &blocks);
	}
	CHECK(disk.flushes == 2, "write cache off: each block flushed");
	simple_cmd(ATA_CMD_SET_FEATURES, 0x02, 0);
	CHECK(altstatus() == ST_IDLE && identify(id) && (idw(id, 85) & 0x20),
	      "SET FEATURES 02h: write cache on");
	simple_cmd(ATA_CMD_SET_FEATURES, 0x55, 0);
	CHECK(altstatus() == ST_IDLE && identify(id) && !(idw(id, 85) & 0x40),
	      "SET FEATURES 55h: look-ahead off");
	simple_cmd(ATA_CMD_SET_FEATURES, 0xaa, 0);
	CHECK(altstatus() == ST_IDLE, "SET FEATURES AAh");
	simple_cmd(ATA_CMD_SET_FEATURES, 0x03, 0x0c);
	CHECK(altstatus() == ST_IDLE, "SET FEATURES 03h: PIO mode 4");
	simple_cmd(ATA_CMD_SET_FEATURES, 0x03, 0x01);
	CHECK(altstatus() == ST_IDLE, "SET FEATURES 03h: PIO default, no IORDY");
	simple_cmd(ATA_CMD_SET_FEATURES, 0x03, 0x45);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_ABRT,
	      "SET FEATURES 03h: UDMA 5 not offered: ABRT");
	simple_cmd(ATA_CMD_SET_FEATURES, 0x66, 0);
	CHECK(altstatus() == ST_IDLE, "SET FEATURES 66h");
	simple_cmd(ATA_CMD_SET_FEATURES, 0x99, 0);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_ABRT,
	      "SET FEATURES 99h: ABRT");

	/* Revert to defaults on SRST (CCh) brings multiple mode back. */
	simple_cmd(ATA_CMD_SET_MULTIPLE, 0, 2);
	outb(ATA_CTRL_PORT, ATA_DC_SRST);
	outb(ATA_CTRL_PORT, 0);
	CHECK(identify(id) && idw(id, 59) == 0x0102,
	      "SRST keeps the multiple setting (66h)");
	simple_cmd(ATA_CMD_SET_FEATURES, 0xcc, 0);
	outb(ATA_CTRL_PORT, ATA_DC_SRST);
	outb(ATA_CTRL_PORT, 0);
	CHECK(identify(id) && idw(id, 59) == 0x0110,
	      "after SET FEATURES CCh, SRST reverts it");

	disk_mark();
	simple_cmd(ATA_CMD_FLUSH_CACHE, 0, 0);
	CHECK(altstatus() == ST_IDLE && env.irq && disk.flushes == 1,
	      "FLUSH CACHE");
	simple_cmd(ATA_CMD_FLUSH_CACHE_EXT, 0, 0);
	CHECK(altstatus() == ST_IDLE && disk.flushes == 2, "FLUSH CACHE EXT");
	simple_cmd(ATA_CMD_CHECK_POWER_MODE, 0, 0);
	CHECK(altstatus() == ST_IDLE && inb(CMD(ATA_REG_COUNT)) == 0xff,
	      "CHECK POWER MODE: FFh, active");
	simple_cmd(ATA_CMD_IDLE_IMMEDIATE, 0, 0);
	CHECK(altstatus() == ST_IDLE, "IDLE IMMEDIATE");
}

static void test_backend_errors(void)
{
	uint8_t buf[3 * 512];
	unsigned blocks, n;
	bool irq_ok;

	setup();
	disk.fail_read = true;
	disk.fail_lba = 11;
	cmd28(ATA_CMD_READ_SECTORS, 10, 3);
	n = pio(buf, 3, false, 2, &blocks, &irq_ok);
	CHECK(n == 1, "read failing at the 2nd sector: 1 sector delivered");
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_UNC &&
	      env.irq, "... then ERR, UNC, interrupt");
	CHECK(inb(CMD(ATA_REG_LBAL)) == 11, "... LBA registers: sector 11");
	CHECK(in(CMD(ATA_REG_DATA), 2) == 0xffff, "... no more data");

	simple_cmd(ATA_CMD_SET_MULTIPLE, 0, 4);
	cmd28(ATA_CMD_READ_MULTIPLE, 8, 8);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_UNC &&
	      inb(CMD(ATA_REG_LBAL)) == 8,
	      "READ MULTIPLE: first block fails, reported at its start");
	disk.fail_read = false;

	disk.fail_write = true;
	disk.fail_lba = 20;
	memset(buf, 1, sizeof(buf));
	cmd28(ATA_CMD_WRITE_SECTORS, 19, 3);
	n = pio(buf, 3, true, 2, &blocks, &irq_ok);
	CHECK(n == 2 && altstatus() == ST_ERR &&
	      inb(CMD(ATA_REG_ERROR)) == ATA_ER_UNC &&
	      inb(CMD(ATA_REG_LBAL)) == 20 && env.irq,
	      "write failing at sector 20: ERR, UNC after that block");
	CHECK(ram(19)[0] == 1 && ram(21)[0] == 0,
	      "... sector 19 written, 21 not");
	disk.fail_write = false;

	disk.fail_flush = true;
	simple_cmd(ATA_CMD_FLUSH_CACHE, 0, 0);
	CHECK(altstatus() == ST_ERR && inb(CMD(ATA_REG_ERROR)) == ATA_ER_UNC,
	      "flush failure: ERR, UNC");
	simple_cmd(ATA_CMD_SET_FEATURES, 0x82, 0);
	cmd28(ATA_CMD_WRITE_SECTORS, 30, 2);
	n = pio_block(buf, 1024, true, &blocks);
	CHECK(n == 1 && altstatus() == ST_ERR &&
	      inb(CMD(ATA_REG_ERROR)) == ATA_ER_UNC &&
	      inb(CMD(ATA_REG_LBAL)) == 30,
	      "write cache off, flush fails: UNC at the block written");
	disk.fail_flush = false;

	/* A CHS command's failing sector comes back in CHS form. */
	setup();
	disk.fail_read = true;
	disk.fail_lba = (1 * 16 + 2) * 63 + 9;  /* C/H/S 1/2/10 */
	outb(CMD(ATA_REG_COUNT), 8);
	outb(CMD(ATA_REG_LBAL), 5);
	outb(CMD(ATA_REG_LBAM), 1);
	outb(CMD(ATA_REG_LBAH), 0);
	outb(CMD(ATA_REG_DEVICE), 0xa0 | 2);
	outb(CMD(ATA_REG_STATUS), ATA_CMD_READ_SECTORS);
	n = 0;
	while (altstatus() & ATA_SR_DRQ)
		n += (unsigned)ata_data_in(&ata, buf, 512) / 512;
	CHECK(n == 5 && altstatus() == ST_ERR &&
	      inb(CMD(ATA_REG_ERROR)) == ATA_ER_UNC,
	      "CHS read from 1/2/5 failing at 1/2/10: 5 sectors, then UNC");
	CHECK(inb(CMD(ATA_REG_LBAL)) == 10 && inb(CMD(ATA_REG_LBAM)) == 1 &&
	      inb(CMD(ATA_REG_LBAH)) == 0 &&
	      (inb(CMD(ATA_REG_DEVICE)) & 0x0f) == 2,
	      "... reported as C/H/S 1/2/10");
}

static void test_no_drq(void)
{
	unsigned logs;

	setup();
	ram(0)[0] = 0x42;
	logs = env.logs;
	CHECK(in(CMD(ATA_REG_DATA), 2) == 0xffff &&
	      in(CMD(ATA_REG_DATA), 4) == 0xffffffff &&
	      altstatus() == ST_IDLE && env.logs > logs,
	      "data read with DRQ clear: all ones, nothing changes, logged");
	out(CMD(ATA_REG_DATA), 2, 0x1234);
	CHECK(ram(0)[0] == 0x42 && altstatus() == ST_IDLE && !disk.writes,
	      "data write with DRQ clear: ignored");
	CHECK(ata_data_in(&ata, (uint8_t[8]){ 0 }, 8) == 0 &&
	      ata_data_out(&ata, (uint8_t[8]){ 0 }, 8) == 0,
	      "block API with DRQ clear moves nothing");
	/* Wrong direction. */
	cmd28(ATA_CMD_WRITE_SECTORS, 0, 1);
	CHECK(in(CMD(ATA_REG_DATA), 2) == 0xffff && ata.pos == 0,
	      "reading during a write data phase: nothing moves");
	CHECK(ata_data_in(&ata, (uint8_t[8]){ 0 }, 8) == 0,
	      "block read during a write data phase: 0");
	/* A command while DRQ is set is ignored. */
	simple_cmd(ATA_CMD_IDENTIFY, 0, 0);
	CHECK(altstatus() == ST_DRQ && ata.cmd == ATA_CMD_WRITE_SECTORS &&
	      ata.xfer == ATA_XFER_OUT, "command during DRQ: ignored");
	/* Odd sizes and 8-bit data access. */
	out(CMD(ATA_REG_DATA), 1, 0x77);
	CHECK(ata.pos == 2 && ata.buf[0] == 0x77 && ata.buf[1] == 0,
	      "8-bit data write moves a whole word");
	logs = env.logs;
	CHECK(in(CMD(ATA_REG_STATUS), 3) == 0xffffffff && env.logs > logs,
	      "3-byte access: all ones, logged");
	CHECK(in(CMD(ATA_REG_STATUS), 2) == (0xff00u | ST_DRQ),
	      "16-bit read of 1f7h: status, then 1f8h floating");
	outb(CMD(ATA_REG_COUNT), 0x11);
	outb(CMD(ATA_REG_LBAL), 0x22);
	outb(CMD(ATA_REG_LBAM), 0x33);
	outb(CMD(ATA_REG_LBAH), 0x44);
	CHECK(in(CMD(ATA_REG_COUNT), 4) == 0x44332211,
	      "32-bit read of 1f2h: count, LBA low/mid/high");
	out(CMD(ATA_REG_COUNT), 2, 0x6655);
	CHECK(inb(CMD(ATA_REG_COUNT)) == 0x55 && inb(CMD(ATA_REG_LBAL)) == 0x66,
	      "16-bit write of 1f2h: count and LBA low");
}

static void test_srst(void)
{
	uint8_t id[512];
	unsigned rises;

	setup();
	simple_cmd(ATA_CMD_IDENTIFY, 0, 0);
	in(CMD(ATA_REG_DATA), 2);
	CHECK(env.irq && altstatus() == ST_DRQ, "IDENTIFY half read");
	outb(ATA_CTRL_PORT, ATA_DC_SRST);
	CHECK(altstatus() == ATA_SR_BSY && inb(CMD(ATA_REG_STATUS)) ==
	      ATA_SR_BSY && !env.irq, "SRST held: BSY, interrupt dropped");
	simple_cmd(ATA_CMD_IDENTIFY, 0, 0);
	CHECK(altstatus() == ATA_SR_BSY, "commands during SRST ignored");
	rises = env.irq_rises;
	outb(ATA_CTRL_PORT, 0);
	CHECK(altstatus() == ST_IDLE && env.irq_rises == rises,
	      "SRST released: 50h, no interrupt");
	CHECK(inb(CMD(ATA_REG_ERROR)) == 0x01 &&
	      inb(CMD(ATA_REG_COUNT)) == 1 && inb(CMD(ATA_REG_LBAL)) == 1 &&
	      inb(CMD(ATA_REG_LBAM)) == 0 && inb(CMD(ATA_REG_LBAH)) == 0 &&
	      inb(CMD(ATA_REG_DEVICE)) == 0, "... signature loaded");
	CHECK(in(CMD(ATA_REG_DATA), 2) == 0xffff, "... transfer cancelled");
	CHECK(identify(id), "the drive works after SRST");

	/* SRST while device 1 is selected resets to device 0. */
	outb(CMD(ATA_REG_DEVICE), 0xb0);
	outb(ATA_CTRL_PORT, ATA_DC_SRST);
	outb(ATA_CTRL_PORT, 0);
	CHECK(altstatus() == ST_IDLE, "SRST selects device 0");

	/* EXECUTE DEVICE DIAGNOSTIC runs even with device 1 selected. */
	outb(CMD(ATA_REG_DEVICE), 0xb0);
	outb(CMD(ATA_REG_STATUS), ATA_CMD_EXEC_DIAGNOSTIC);
	CHECK(altstatus() == ST_IDLE && env.irq &&
	      inb(CMD(ATA_REG_ERROR)) == 0x01 &&
	      inb(CMD(ATA_REG_DEVICE)) == 0,
	      "EXECUTE DEVICE DIAGNOSTIC: 01h, device 0, interrupt");
}

static void test_device1(void)
{
	unsigned logs, rises;

	setup();
	outb(CMD(ATA_REG_COUNT), 0x55);
	outb(CMD(ATA_REG_DEVICE), 0xb0);
	CHECK(inb(CMD(ATA_REG_STATUS)) == 0 && altstatus() == 0,
	      "device 1 selected: status and alt status 00h");
	CHECK(inb(CMD(ATA_REG_COUNT)) == 0 && inb(CMD(ATA_REG_ERROR)) == 0 &&
	      inb(CMD(ATA_REG_DEVICE)) == 0xb0,
	      "device 1: registers read 0, device register the latch");
	logs = env.logs;
	rises = env.irq_rises;
	outb(CMD(ATA_REG_STATUS), ATA_CMD_IDENTIFY);
	CHECK(altstatus() == 0 && env.irq_rises == rises && env.logs > logs &&
	      in(CMD(ATA_REG_DATA), 2) == 0xffff,
	      "IDENTIFY to device 1: ignored, no interrupt, logged");
	outb(CMD(ATA_REG_DEVICE), 0xa0);
	CHECK(altstatus() == ST_IDLE && inb(CMD(ATA_REG_COUNT)) == 0x55,
	      "device 0 again: idle, nothing ran, registers shared");

	/* INTRQ is driven only while device 0 is selected. */
	simple_cmd(ATA_CMD_FLUSH_CACHE, 0, 0);
	CHECK(env.irq, "device 0 interrupt pending");
	outb(CMD(ATA_REG_DEVICE), 0xb0);
	CHECK(!env.irq, "selecting device 1 releases INTRQ");
	inb(CMD(ATA_REG_STATUS));
	outb(CMD(ATA_REG_DEVICE), 0xa0);
	CHECK(env.irq, "device 1's status read does not acknowledge device 0");
	/* A data phase survives a stray selection of device 1. */
	simple_cmd(ATA_CMD_IDENTIFY, 0, 0);
	outb(CMD(ATA_REG_DEVICE), 0xb0);
	CHECK(in(CMD(ATA_REG_DATA), 2) == 0xffff && ata.pos == 0,
	      "device 1 selected during DRQ: data port floats");
	outb(CMD(ATA_REG_DEVICE), 0xa0);
	CHECK(in(CMD(ATA_REG_DATA), 2) == 0x0040, "device 0: IDENTIFY word 0");
	CHECK(env.bad_irq == 0, "irq_set only on IRQ 14, only on changes");
}

static void test_nien(void)
{
	setup();
	outb(ATA_CTRL_PORT, ATA_DC_NIEN);
	simple_cmd(ATA_CMD_IDENTIFY, 0, 0);
	CHECK(altstatus() == ST_DRQ && !env.irq && env.irq_rises == 0,
	      "nIEN: IDENTIFY DRQ without IRQ");
	outb(ATA_CTRL_PORT, 0);
	CHECK(env.irq, "clearing nIEN with an interrupt pending drives INTRQ");
	inb(CMD(ATA_REG_STATUS));
	CHECK(!env.irq, "status read: INTRQ low");
	outb(ATA_CTRL_PORT, ATA_DC_NIEN);
	for (unsigned i = 0; i < 256; i++)
		in(CMD(ATA_REG_DATA), 2);
	cmd28(ATA_CMD_WRITE_SECTORS, 0, 3);
	for (unsigned i = 0; i < 3 * 256; i++)
		out(CMD(ATA_REG_DATA), 2, i);
	CHECK(altstatus() == ST_IDLE && env.irq_rises == 1 && !env.irq,
	      "nIEN: a 3-sector write raises nothing");
	CHECK(ata.irq_pending, "... but the interrupt is pending inside");
	inb(CMD(ATA_REG_STATUS));
	outb(ATA_CTRL_PORT, 0);
	CHECK(!env.irq, "acknowledged before nIEN cleared: stays low");
}

/* The block API moves exactly what word accesses would. */
static void test_block_equals_words(void)
{
	uint8_t src[12 * 512], a1[12 * 512], a2[12 * 512], a3[12 * 512];
	unsigned blocks, n;
	bool irq_ok;
	size_t got;

	setup();
	pattern(src, sizeof(src), 3);
	simple_cmd(ATA_CMD_SET_MULTIPLE, 0, 8);
	cmd28(ATA_CMD_WRITE_MULTIPLE, 300, 12);
	n = pio_block(src, sizeof(src), true, &blocks);
	CHECK(n == 12 && blocks == 2 && !memcmp(ram(300), src, sizeof(src)),
	      "block API write: 12 sectors in 2 blocks");
	cmd28(ATA_CMD_READ_MULTIPLE, 300, 12);
	n = pio(a1, 12, false, 2, &blocks, &irq_ok);
	cmd28(ATA_CMD_READ_MULTIPLE, 300, 12);
	n += pio(a2, 12, false, 4, &blocks, &irq_ok);
	cmd28(ATA_CMD_READ_MULTIPLE, 300, 12);
	n += pio_block(a3, sizeof(a3), false, &blocks);
	CHECK(n == 36 && !memcmp(a1, src, sizeof(src)) &&
	      !memcmp(a2, src, sizeof(src)) && !memcmp(a3, src, sizeof(src)),
	      "16-bit, 32-bit and block reads agree with what was written");

	/* Partial block calls, odd byte counts, mixing with port access. */
	cmd28(ATA_CMD_READ_SECTORS, 300, 2);
	got = ata_data_in(&ata, a1, 3);
	CHECK(got == 2 && ata.pos == 2, "odd byte count: rounded to a word");
	a1[2] = (uint8_t)in(CMD(ATA_REG_DATA), 2);
	got = ata_data_in(&ata, a1 + 4, 10000);
	CHECK(got == 508 && altstatus() == ST_DRQ,
	      "block read stops at the end of the DRQ block");
	CHECK(ata_data_in(&ata, a1 + 512, 512) == 512 &&
	      altstatus() == ST_IDLE, "next block: the rest");
	CHECK(!memcmp(a1 + 4, src + 4, 508) && !memcmp(a1 + 512, src + 512, 512),
	      "mixed access: the same bytes");

	/* A 32-bit access straddling two DRQ blocks, as on the bus. */
	cmd28(ATA_CMD_READ_SECTORS, 300, 2);
	got = ata_data_in(&ata, a1, 510);
	{
		uint32_t v = in(CMD(ATA_REG_DATA), 4);

		CHECK(got == 510 &&
		      v == ((uint32_t)src[510] | (uint32_t)src[511] << 8 |
			    (uint32_t)src[512] << 16 |
			    (uint32_t)src[513] << 24) && ata.pos == 2,
		      "32-bit read across a block boundary: word from each");
	}
	CHECK(ata_data_in(&ata, a1, 510) == 510 && altstatus() == ST_IDLE,
	      "... and the rest of it");
	cmd28(ATA_CMD_WRITE_SECTORS, 400, 2);
	ata_data_out(&ata, src, 510);
	out(CMD(ATA_REG_DATA), 4, 0x44332211);
	CHECK(ata.pos == 2 && ram(400)[510] == 0x11 && ram(400)[511] == 0x22 &&
	      ata.buf[0] == 0x33 && ata.buf[1] == 0x44,
	      "32-bit write across a block boundary: word to each");
}

int main(void)
{
	test_power_on();
	test_identify();
	test_write_read(ATA_CMD_WRITE_SECTORS, ATA_CMD_READ_SECTORS, false, 2,
			"WRITE/READ SECTORS");
	test_write_read(ATA_CMD_WRITE_SECTORS_EXT, ATA_CMD_READ_SECTORS_EXT,
			true, 2, "WRITE/READ SECTORS EXT");
	test_write_read(ATA_CMD_WRITE_SECTORS, ATA_CMD_READ_SECTORS, false, 4,
			"WRITE/READ SECTORS, 32-bit data");
	test_multiple();
	test_addressing();
	test_hob();
	test_count_zero();
	test_out_of_range();
	test_abort();
	test_set_features();
	test_backend_errors();
	test_no_drq();
	test_srst();
	test_device1();
	test_nien();
	test_block_equals_words();
	free(disk.mem);
	return done_testing();
}
