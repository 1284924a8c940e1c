/*
 * Host tests for the ACPI walker (kernel/lib/acpi.c). Tables are laid out
 * in an image, which each run copies into a heap block of exactly
 * MEM_SIZE bytes: the fake physical memory the map callback serves. Tables
 * placed at the very end of it turn any read past their length into an
 * AddressSanitizer report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <isovisor/acpi.h>
#include "acpi.h"
#include "mb2.h"
#include "check.h"

#define MEM_SIZE 0x8000u
#define RSDP_AT 0x0u
#define RSDT_AT 0x100u
#define XSDT_AT 0x200u
#define MADT_AT 0x400u
#define FADT_AT 0x800u
#define DSDT_AT 0x1000u
#define DSDT2_AT 0x1800u
#define SPARE_AT 0x2000u

static uint8_t img[MEM_SIZE];

struct fake {
	uint8_t *mem;
	size_t size;
	unsigned calls;
	size_t max_len;
	bool windowed;                  /* serve every map from one buffer */
};

static struct fake fm;
static uint8_t window[0x10000];

static const void *fake_map(uint64_t phys, size_t len, void *ctx)
{
	struct fake *f = ctx;

	f->calls++;
	if (len > f->max_len)
		f->max_len = len;
	if (phys > f->size || len > f->size - phys)
		return NULL;
	if (!f->windowed)
		return f->mem + phys;
	/* Like a kernel's temporary mapping: the previous one is gone. */
	if (len > sizeof(window))
		return NULL;
	memset(window, 0xdd, sizeof(window));
	memcpy(window, f->mem + phys, len);
	return window;
}

static void put32(uint32_t off, uint32_t v)
{
	memcpy(img + off, &v, 4);
}

static void put64(uint32_t off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}

static uint32_t get32(uint32_t off)
{
	uint32_t v;

	memcpy(&v, img + off, 4);
	return v;
}

/* Recompute the checksum of the table at `off` from its length field
 * (as far as the image reaches, for deliberately huge lengths). */
static void fix(uint32_t off)
{
	uint32_t len = get32(off + 4);

	if (len > MEM_SIZE - off)
		len = MEM_SIZE - off;
	img[off + 9] = 0;
	img[off + 9] = (uint8_t)-acpi_checksum(img + off, len);
}

static void sdt(uint32_t off, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(img + off, sig, 4);
	put32(off + 4, len);
	img[off + 8] = rev;
	memcpy(img + off + 10, "ISOVSR", 6);
	memcpy(img + off + 16, "TESTTBL ", 8);
}

static void rsdp(uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	memset(img, 0, 36);
	memcpy(img, "RSD PTR ", 8);
	memcpy(img + 9, "ISOVSR", 6);
	img[15] = rev;
	put32(16, rsdt);
	img[8] = (uint8_t)-acpi_checksum(img, 20);
	if (rev >= 2) {
		put32(20, 36);
		put64(24, xsdt);
		img[32] = (uint8_t)-acpi_checksum(img, 36);
	}
}

static void root(uint32_t off, const char *sig, const uint64_t *tables,
		 unsigned n)
{
	uint32_t esz = sig[0] == 'X' ? 8 : 4;

	sdt(off, sig, 36 + n * esz, 1);
	for (unsigned i = 0; i < n; i++)
		memcpy(img + off + 36 + i * esz, &tables[i], esz);
	fix(off);
}

/* MADT entries are collected here, then wrapped into a table. */
static uint8_t ent[8192];
static uint32_t ent_len;

static void e_lapic(uint8_t uid, uint8_t id, uint32_t flags)
{
	uint8_t *e = ent + ent_len;

	e[0] = ACPI_MADT_LOCAL_APIC;
	e[1] = 8;
	e[2] = uid;
	e[3] = id;
	memcpy(e + 4, &flags, 4);
	ent_len += 8;
}

static void e_x2apic(uint32_t id, uint32_t uid, uint32_t flags)
{
	uint8_t *e = ent + ent_len;

	memset(e, 0, 16);
	e[0] = ACPI_MADT_LOCAL_X2APIC;
	e[1] = 16;
	memcpy(e + 4, &id, 4);
	memcpy(e + 8, &flags, 4);
	memcpy(e + 12, &uid, 4);
	ent_len += 16;
}

static void e_ioapic(uint8_t id, uint32_t addr, uint32_t gsi)
{
	uint8_t *e = ent + ent_len;

	e[0] = ACPI_MADT_IO_APIC;
	e[1] = 12;
	e[2] = id;
	e[3] = 0;
	memcpy(e + 4, &addr, 4);
	memcpy(e + 8, &gsi, 4);
	ent_len += 12;
}

static void e_override(uint64_t addr)
{
	uint8_t *e = ent + ent_len;

	memset(e, 0, 12);
	e[0] = ACPI_MADT_LOCAL_APIC_OVERRIDE;
	e[1] = 12;
	memcpy(e + 4, &addr, 8);
	ent_len += 12;
}

/* Raw bytes: an entry of any type and length. */
static void e_raw(const uint8_t *b, uint32_t n)
{
	memcpy(ent + ent_len, b, n);
	ent_len += n;
}

/* Wrap the collected entries; `extra` adds to (or cuts) the length. */
static uint32_t madt_len(uint32_t off, uint32_t lapic, int extra)
{
	uint32_t len = 44 + ent_len + extra;

	memset(img + off, 0, 44);
	sdt(off, "APIC", len, 4);
	put32(off + 36, lapic);
	put32(off + 40, 1);
	memcpy(img + off + 44, ent, len - 44 < ent_len ? len - 44 : ent_len);
	fix(off);
	ent_len = 0;
	return len;
}

static uint32_t madt(uint32_t off, uint32_t lapic)
{
	return madt_len(off, lapic, 0);
}

static void gas(struct acpi_gas *g, uint8_t space, uint64_t addr)
{
	memset(g, 0, sizeof(*g));
	g->space_id = space;
	g->bit_width = 8;
	g->access_size = 1;
	g->address = addr;
}

/* A full FADT: legacy ports 0x404/0x408, X_ ports 0xb004/0xb008. */
static void fadt_full(struct acpi_fadt *f)
{
	memset(f, 0, sizeof(*f));
	f->dsdt = DSDT2_AT;
	f->x_dsdt = DSDT_AT;
	f->pm1a_cnt_blk = 0x404;
	f->pm_tmr_blk = 0x408;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	gas(&f->x_pm1a_cnt_blk, 1, 0xb004);
	f->flags = (1u << 8) | (1u << 10);
	gas(&f->reset_reg, 1, 0xcf9);
	f->reset_value = 0x06;
}

/* Write the first `len` bytes of `f` (and X_PM_TMR_BLK at 208 when the
 * table reaches it) as a FADT at `off`. */
static void fadt(uint32_t off, const struct acpi_fadt *f, uint32_t len,
		 uint64_t x_tmr)
{
	memcpy(img + off, f, len < sizeof(*f) ? len : sizeof(*f));
	if (len > sizeof(*f))
		memset(img + off + sizeof(*f), 0, len - sizeof(*f));
	if (len >= 220) {
		struct acpi_gas g;

		gas(&g, 1, x_tmr);
		memcpy(img + off + 208, &g, sizeof(g));
	}
	sdt(off, "FACP", len, len >= 244 ? 6 : 1);
	fix(off);
}

static uint32_t dsdt(uint32_t off, const uint8_t *aml, uint32_t n)
{
	sdt(off, "DSDT", 36 + n, 2);
	memcpy(img + off + 36, aml, n);
	fix(off);
	return 36 + n;
}

/* Name(_S5_, Package(4) { 5, 5, 0, 0 }) inside a little method noise. */
static const uint8_t s5_55[] = {
	0x14, 0x08, 'F', 'O', 'O', '_', 0x00, 0xa4, 0x00,    /* Method */
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
	0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
};
static const uint8_t s5_33[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
	0x0a, 0x03, 0x0a, 0x03, 0x00, 0x00,
};

static struct acpi_info info;
static unsigned bad;
static const char *err;
static uint8_t *mem, *rsdp_copy;

/* Run the parser on the image; the RSDP copy is `rsdp_len` bytes. */
static int run(size_t rsdp_len)
{
	free(mem);
	free(rsdp_copy);
	mem = malloc(MEM_SIZE);
	memcpy(mem, img, MEM_SIZE);
	rsdp_copy = malloc(rsdp_len ? rsdp_len : 1);
	memcpy(rsdp_copy, img, rsdp_len);
	fm.mem = mem;
	fm.size = MEM_SIZE;
	fm.calls = 0;
	fm.max_len = 0;
	err = NULL;
	bad = 12345;
	return acpi_parse(rsdp_copy, rsdp_len, fake_map, &fm, &info, &bad,
			  &err);
}

/* The standard machine: rev 2 RSDP, XSDT -> MADT, FADT -> DSDT. */
static void standard(void)
{
	struct acpi_fadt f;
	static const uint8_t iso[10] = { 2, 10, 0, 0, 2, 0, 0, 0, 0, 0 };
	static const uint8_t nmi[6] = { 4, 6, 0xff, 5, 0, 1 };
	static const uint8_t unknown[4] = { 0x42, 4, 1, 2 };

	memset(img, 0, sizeof(img));
	rsdp(2, RSDT_AT, XSDT_AT);
	root(XSDT_AT, "XSDT", (const uint64_t[]){ MADT_AT, FADT_AT }, 2);
	root(RSDT_AT, "RSDT", (const uint64_t[]){ FADT_AT, MADT_AT }, 2);
	e_lapic(0, 0, ACPI_MADT_ENABLED);
	e_lapic(1, 1, ACPI_MADT_ENABLED);
	e_lapic(2, 2, 0);
	e_lapic(3, 3, ACPI_MADT_ONLINE_CAPABLE);
	e_ioapic(8, 0xfec00000, 0);
	e_raw(iso, sizeof(iso));
	e_raw(nmi, sizeof(nmi));
	e_override(0x1fee00000ull);
	e_x2apic(300, 300, ACPI_MADT_ENABLED);
	e_x2apic(1, 1, ACPI_MADT_ENABLED);      /* same CPU as lapic 1 */
	e_x2apic(301, 301, 0);
	e_raw(unknown, sizeof(unknown));
	madt(MADT_AT, 0xfee00000);
	fadt_full(&f);
	fadt(FADT_AT, &f, 276, 0xb008);
	dsdt(DSDT_AT, s5_55, sizeof(s5_55));
	dsdt(DSDT2_AT, s5_33, sizeof(s5_33));
}

static void check_standard(const char *how)
{
	CHECK(info.cpu_count == 3 && info.cpus[0].apic_id == 0 &&
	      info.cpus[1].apic_id == 1 && info.cpus[2].apic_id == 300 &&
	      info.cpus[2].uid == 300 && info.cpus[1].uid == 1,
	      "%s: three enabled CPUs, x2APIC duplicate counted once", how);
	CHECK(info.cpu_disabled == 2, "%s: two disabled CPUs", how);
	CHECK(info.ioapic_count == 1 && info.ioapics[0].id == 8 &&
	      info.ioapics[0].address == 0xfec00000 &&
	      info.ioapics[0].gsi_base == 0, "%s: I/O APIC", how);
	CHECK(info.lapic_address == 0x1fee00000ull,
	      "%s: 64-bit local APIC override", how);
	CHECK(info.have_fadt && info.pm1a_cnt == 0xb004 &&
	      info.pm1b_cnt == 0, "%s: PM1 control from X_PM1a", how);
	CHECK(info.pm_tmr == 0xb008 && info.pm_tmr_32bit,
	      "%s: 32-bit PM timer from X_PM_TMR", how);
	CHECK(info.reset_reg_io && info.reset_port == 0xcf9 &&
	      info.reset_value == 6, "%s: reset register", how);
	CHECK(info.have_s5 && info.slp_typa == 5 && info.slp_typb == 5,
	      "%s: _S5_ from the X_DSDT", how);
}

static void test_good(void)
{
	standard();
	CHECK(run(36) == 0 && bad == 0, "rev 2 with XSDT parses (%s)",
	      err ? err : "ok");
	CHECK(info.revision == 2 && info.xsdt, "XSDT used");
	check_standard("XSDT");
	CHECK(fm.max_len <= ACPI_MAX_TABLE_LEN && fm.calls > 0,
	      "no oversized map requests");

	fm.windowed = true;
	CHECK(run(36) == 0 && bad == 0, "parses through a one-window map");
	check_standard("windowed");
	fm.windowed = false;

	/* Revision 0: 20-byte RSDP, 32-bit RSDT. */
	standard();
	rsdp(0, RSDT_AT, 0);
	CHECK(run(20) == 0 && bad == 0, "rev 0 with RSDT parses");
	CHECK(info.revision == 0 && !info.xsdt, "RSDT used");
	check_standard("RSDT");

	/* Revision 2 without an XSDT falls back to the RSDT. */
	standard();
	rsdp(2, RSDT_AT, 0);
	CHECK(run(36) == 0 && !info.xsdt && info.cpu_count == 3,
	      "rev 2 with XSDT address 0 uses the RSDT");

	/* A longer RSDP copy than 36 is fine. */
	standard();
	put32(20, 40);
	img[32] = 0;
	img[32] = (uint8_t)-acpi_checksum(img, 40);
	CHECK(run(40) == 0 && info.xsdt, "RSDP length 40 accepted");

	/* bad_tables may be NULL. */
	standard();
	run(36);
	CHECK(acpi_parse(rsdp_copy, 36, fake_map, &fm, &info, NULL, &err) == 0,
	      "NULL bad_tables tolerated");
	CHECK(acpi_parse(rsdp_copy, 36, fake_map, &fm, &info, NULL, NULL) == 0,
	      "NULL err tolerated");
}

static void test_rsdp(void)
{
	standard();
	img[0] = 'r';
	img[8] -= 'r' - 'R';
	CHECK(run(36) == -1 && err, "bad RSDP signature rejected (%s)",
	      err ? err : "");

	standard();
	img[8] ^= 1;
	CHECK(run(36) == -1, "bad RSDP checksum rejected");

	standard();
	img[33] = 0x55;        /* reserved: outside the 20-byte checksum */
	CHECK(run(36) == -1 && err, "bad extended checksum rejected (%s)",
	      err ? err : "");

	standard();
	CHECK(run(20) == -1, "rev 2 RSDP of only 20 bytes rejected");
	CHECK(run(35) == -1, "rev 2 RSDP of 35 bytes rejected");
	CHECK(run(19) == -1, "RSDP of 19 bytes rejected");
	CHECK(run(0) == -1, "RSDP of 0 bytes rejected");
	CHECK(acpi_parse(NULL, 36, fake_map, &fm, &info, &bad, &err) == -1,
	      "NULL RSDP rejected");

	standard();
	put32(20, 20);
	img[32] = 0;
	img[32] = (uint8_t)-acpi_checksum(img, 20);
	img[8] = 0;
	img[8] = (uint8_t)-acpi_checksum(img, 20);
	CHECK(run(36) == -1, "rev 2 length field 20 rejected");
	standard();
	put32(20, 64);
	img[32] = 0;
	img[32] = (uint8_t)-acpi_checksum(img, 64);
	CHECK(run(36) == -1, "rev 2 length past the copy rejected");

	standard();
	rsdp(0, RSDT_AT, 0);
	img[8] ^= 1;
	CHECK(run(20) == -1, "rev 0 RSDP with bad checksum rejected");
	standard();
	rsdp(1, RSDT_AT, 0);
	CHECK(run(20) == 0 && !info.xsdt && info.revision == 1,
	      "rev 1 RSDP treated as ACPI 1.0");
	standard();
	rsdp(0, 0, 0);
	CHECK(run(20) == -1, "rev 0 with RSDT address 0 rejected");
	/* Revision 0 never looks past 20 bytes. */
	standard();
	rsdp(0, RSDT_AT, 0);
	memset(img + 20, 0xff, 16);
	CHECK(run(20) == 0 && !info.xsdt, "rev 0 ignores bytes past 20");
}

static void test_root(void)
{
	standard();
	img[XSDT_AT + 40] ^= 0x10;
	CHECK(run(36) == -1 && err, "XSDT with bad checksum rejected (%s)",
	      err ? err : "");

	standard();
	memcpy(img + XSDT_AT, "RSDT", 4);
	fix(XSDT_AT);
	CHECK(run(36) == -1, "XSDT with RSDT signature rejected");

	standard();
	put32(XSDT_AT + 4, 0xffffffff);
	fix(XSDT_AT);
	CHECK(run(36) == -1 && fm.max_len <= ACPI_MAX_TABLE_LEN,
	      "XSDT of length 4 GiB rejected before mapping it");

	standard();
	put32(XSDT_AT + 4, 35);
	fix(XSDT_AT);
	CHECK(run(36) == -1, "XSDT of length 35 rejected");
	put32(XSDT_AT + 4, 20);
	fix(XSDT_AT);
	CHECK(run(36) == -1 && fm.calls < 4,
	      "XSDT of length 20 (checksum good) rejected");

	standard();
	put32(XSDT_AT + 4, 36);
	fix(XSDT_AT);
	CHECK(run(36) == -1 && err && bad == 0,
	      "empty XSDT: no MADT (%s)", err ? err : "");

	standard();
	rsdp(2, RSDT_AT, 0x7fffffffull);
	CHECK(run(36) == -1, "XSDT outside memory rejected");
	standard();
	rsdp(2, RSDT_AT, 0xfffffffffffffff0ull);
	CHECK(run(36) == -1, "XSDT at the top of the address space rejected");

	/* Header readable, body not. */
	standard();
	sdt(MEM_SIZE - 36, "XSDT", 100, 1);
	rsdp(2, RSDT_AT, MEM_SIZE - 36);
	CHECK(run(36) == -1, "XSDT running off the end of memory rejected");

	/* A partial trailing entry is not an entry. */
	standard();
	put32(XSDT_AT + 4, 36 + 8 + 8 + 4);
	fix(XSDT_AT);
	CHECK(run(36) == 0 && bad == 0 && info.have_fadt,
	      "XSDT with a partial trailing entry");
}

static void test_bad_tables(void)
{
	standard();
	/* Huge length. */
	sdt(SPARE_AT, "HUGE", 0xfffffff0u, 1);
	/* Shorter than a header. */
	sdt(SPARE_AT + 0x100, "TINY", 20, 1);
	fix(SPARE_AT + 0x100);
	/* Bad checksum, and it is the only FADT. */
	memcpy(img + SPARE_AT + 0x200, img + FADT_AT, 276);
	img[SPARE_AT + 0x200 + 9] ^= 1;
	/* Just over the cap. */
	sdt(SPARE_AT + 0x400, "BIGG", ACPI_MAX_TABLE_LEN + 1, 1);
	root(XSDT_AT, "XSDT", (const uint64_t[]){
		SPARE_AT, MADT_AT, SPARE_AT + 0x100, SPARE_AT + 0x200,
		0x40000000, 0xffffffffffffffe0ull, SPARE_AT + 0x400,
		MEM_SIZE - 20,
	}, 8);
	CHECK(run(36) == 0 && bad == 7, "seven bad tables skipped and counted "
	      "(%u)", bad);
	CHECK(info.cpu_count == 3, "good MADT among bad tables still used");
	CHECK(!info.have_fadt && !info.have_s5,
	      "FADT with a wrong checksum skipped");
	CHECK(fm.max_len <= ACPI_MAX_TABLE_LEN,
	      "huge tables never mapped whole (max %zu)", fm.max_len);

	/* No MADT at all. */
	standard();
	root(XSDT_AT, "XSDT", (const uint64_t[]){ FADT_AT }, 1);
	CHECK(run(36) == -1 && err && bad == 0, "no MADT rejected (%s)",
	      err ? err : "");
	/* Only a broken MADT. */
	standard();
	img[MADT_AT + 50] ^= 0x80;
	CHECK(run(36) == -1 && bad == 1, "MADT with bad checksum: rejected");
	/* MADT shorter than its fixed part. */
	standard();
	put32(MADT_AT + 4, 40);
	fix(MADT_AT);
	CHECK(run(36) == -1 && bad == 1, "MADT of 40 bytes rejected");
	/* Of two MADTs, the first valid one counts. */
	standard();
	e_lapic(7, 7, ACPI_MADT_ENABLED);
	madt(SPARE_AT, 0xfee11000);
	root(XSDT_AT, "XSDT", (const uint64_t[]){ SPARE_AT, MADT_AT }, 2);
	CHECK(run(36) == 0 && info.cpu_count == 1 &&
	      info.cpus[0].apic_id == 7 && info.lapic_address == 0xfee11000,
	      "first MADT used, second ignored");
	/* A bad first MADT lets the second one count. */
	img[SPARE_AT + 9] ^= 1;
	CHECK(run(36) == 0 && bad == 1 && info.cpu_count == 3,
	      "bad first MADT skipped for the second");
}

static void test_madt(void)
{
	static const uint8_t len0[2] = { 0, 0 }, len1[2] = { 0, 1 };
	static const uint8_t step1[14] = {
		0x42, 1, 12, 9, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t short_lapic[6] = { 0, 6, 9, 9, 1, 0 };
	static const uint8_t short_x2[12] = { 9, 12, 0, 0, 9, 0, 0, 0, 1 };
	static const uint8_t short_io[10] = { 1, 10, 3, 0, 0, 0, 0xc0, 0xfe };
	static const uint8_t short_ov[8] = { 5, 8, 0, 0, 0, 0, 0, 0x10 };
	uint32_t len, off;

	standard();
	e_lapic(0, 0, ACPI_MADT_ENABLED);
	e_raw(len0, 2);
	e_lapic(1, 1, ACPI_MADT_ENABLED);
	madt(MADT_AT, 0xfee00000);
	CHECK(run(36) == 0 && info.cpu_count == 1,
	      "entry of length 0 ends the walk");

	standard();
	e_lapic(0, 0, ACPI_MADT_ENABLED);
	e_raw(len1, 2);
	e_lapic(1, 1, ACPI_MADT_ENABLED);
	madt(MADT_AT, 0xfee00000);
	CHECK(run(36) == 0 && info.cpu_count == 1,
	      "entry of length 1 ends the walk");
	/* Stepping one byte would find an I/O APIC entry at +1. */
	standard();
	e_raw(step1, sizeof(step1));
	madt(MADT_AT, 0xfee00000);
	CHECK(run(36) == 0 && info.ioapic_count == 0,
	      "entry of length 1 is not stepped over");

	/* Second lapic cut in half by the table length; the table sits at
	 * the end of memory so a read past it is caught. */
	standard();
	e_lapic(0, 0, ACPI_MADT_ENABLED);
	e_lapic(1, 1, ACPI_MADT_ENABLED);
	off = MEM_SIZE - (44 + 12);
	madt_len(off, 0xfee00000, -4);
	root(XSDT_AT, "XSDT", (const uint64_t[]){ off }, 1);
	CHECK(run(36) == 0 && info.cpu_count == 1,
	      "entry running past the table end ignored");

	/* One stray byte after the last entry. */
	standard();
	e_lapic(0, 0, ACPI_MADT_ENABLED);
	off = MEM_SIZE - (44 + 9);
	madt_len(off, 0xfee00000, 1);
	root(XSDT_AT, "XSDT", (const uint64_t[]){ off }, 1);
	CHECK(run(36) == 0 && info.cpu_count == 1,
	      "one trailing byte after the entries ignored");

	/* Entries shorter than their type: skipped, the walk goes on. */
	standard();
	e_raw(short_lapic, sizeof(short_lapic));
	e_raw(short_x2, sizeof(short_x2));
	e_raw(short_io, sizeof(short_io));
	e_raw(short_ov, sizeof(short_ov));
	e_lapic(4, 4, ACPI_MADT_ENABLED);
	len = madt(MADT_AT, 0xfee00000);
	CHECK(run(36) == 0 && info.cpu_count == 1 &&
	      info.cpus[0].apic_id == 4, "short lapic/x2apic entries skipped");
	CHECK(info.ioapic_count == 0, "short I/O APIC entry skipped");
	CHECK(info.lapic_address == 0xfee00000,
	      "short override entry skipped");
	CHECK(len == 44 + 6 + 12 + 10 + 8 + 8, "short-entry MADT length");

	/* Empty MADT: no CPUs, still a valid MADT. */
	standard();
	madt(MADT_AT, 0xfee00000);
	CHECK(run(36) == 0 && info.cpu_count == 0 &&
	      info.lapic_address == 0xfee00000, "MADT with no entries");

	/* Disabled and online-capable accounting, x2APIC only. */
	standard();
	e_x2apic(0x1000, 1, ACPI_MADT_ENABLED);
	e_x2apic(0x1001, 2, ACPI_MADT_ONLINE_CAPABLE);
	e_x2apic(0x1002, 3, 0);
	e_x2apic(0x1003, 4, ACPI_MADT_ENABLED | ACPI_MADT_ONLINE_CAPABLE);
	e_lapic(5, 5, 0);
	madt(MADT_AT, 0xfee00000);
	CHECK(run(36) == 0 && info.cpu_count == 2 &&
	      info.cpus[0].apic_id == 0x1000 && info.cpus[1].uid == 4,
	      "x2APIC CPUs with 32-bit ids");
	CHECK(info.cpu_disabled == 2, "disabled = neither enabled nor "
	      "online-capable");

	/* Caps. */
	standard();
	for (uint32_t i = 0; i < 300; i++)
		e_x2apic(i, i, ACPI_MADT_ENABLED);
	for (uint32_t i = 0; i < 10; i++)
		e_ioapic(i, 0xfec00000 + i * 0x1000, i * 24);
	madt(SPARE_AT, 0xfee00000);
	root(XSDT_AT, "XSDT", (const uint64_t[]){ SPARE_AT }, 1);
	CHECK(run(36) == 0 && info.cpu_count == ACPI_MAX_CPUS &&
	      info.cpus[255].apic_id == 255, "CPUs capped at %u",
	      ACPI_MAX_CPUS);
	CHECK(info.ioapic_count == ACPI_MAX_IOAPICS &&
	      info.ioapics[7].gsi_base == 7 * 24, "I/O APICs capped at %u",
	      ACPI_MAX_IOAPICS);
}

/* Point the XSDT at the standard MADT and the FADT at `off`. */
static void only_fadt(uint32_t off)
{
	root(XSDT_AT, "XSDT", (const uint64_t[]){ MADT_AT, off }, 2);
}

static void test_fadt(void)
{
	struct acpi_fadt f;
	uint32_t off;

	/* Revision 1 FADT (116 bytes) at the very end of memory. */
	standard();
	fadt_full(&f);
	f.x_dsdt = 0;
	f.pm1b_cnt_blk = 0x4a0;
	off = MEM_SIZE - 116;
	fadt(off, &f, 116, 0);
	only_fadt(off);
	CHECK(run(36) == 0 && info.have_fadt && bad == 0,
	      "116-byte FADT accepted");
	CHECK(info.pm1a_cnt == 0x404 && info.pm1b_cnt == 0x4a0 &&
	      info.pm_tmr == 0x408, "short FADT: legacy ports");
	CHECK(info.pm_tmr_32bit, "short FADT: flags (offset 112) read");
	CHECK(!info.reset_reg_io, "short FADT: reset register absent");
	CHECK(info.have_s5 && info.slp_typa == 3,
	      "short FADT: 32-bit DSDT pointer");

	/* Same, followed by bytes that would be valid X_ fields if read. */
	standard();
	fadt_full(&f);
	f.dsdt = DSDT_AT;
	fadt(SPARE_AT, &f, 244, 0xb008);
	put32(SPARE_AT + 4, 116);
	fix(SPARE_AT);
	only_fadt(SPARE_AT);
	CHECK(run(36) == 0 && info.pm1a_cnt == 0x404 &&
	      info.pm_tmr == 0x408 && !info.reset_reg_io,
	      "fields past the FADT length not read");
	CHECK(info.have_s5 && info.slp_typa == 5,
	      "32-bit DSDT used when X_DSDT is past the length");

	/* Length 129: reset register and value present, no X_DSDT. */
	standard();
	fadt_full(&f);
	fadt(FADT_AT, &f, 129, 0);
	CHECK(run(36) == 0 && info.reset_reg_io && info.reset_port == 0xcf9 &&
	      info.reset_value == 6 && info.slp_typa == 3,
	      "129-byte FADT: reset register, 32-bit DSDT");
	fadt(FADT_AT, &f, 128, 0);
	CHECK(run(36) == 0 && !info.reset_reg_io,
	      "128-byte FADT: reset value cut off, no reset register");

	/* Very short FADT: nothing but the header and a bit. */
	standard();
	fadt_full(&f);
	fadt(FADT_AT, &f, 42, 0);
	CHECK(run(36) == 0 && info.have_fadt && !info.pm1a_cnt &&
	      !info.pm_tmr && !info.have_s5 && !info.pm_tmr_32bit,
	      "42-byte FADT: nothing read");

	/* X_ fields not usable: memory space, zero, too large. */
	standard();
	fadt_full(&f);
	gas(&f.x_pm1a_cnt_blk, 0, 0xb004);
	fadt(FADT_AT, &f, 276, 0);
	CHECK(run(36) == 0 && info.pm1a_cnt == 0x404 && info.pm_tmr == 0x408,
	      "X_ fields in memory space or zero: legacy ports");
	gas(&f.x_pm1a_cnt_blk, 1, 0x12345);
	fadt(FADT_AT, &f, 276, 0);
	CHECK(run(36) == 0 && info.pm1a_cnt == 0x404,
	      "X_PM1a beyond the I/O space: legacy port");
	gas(&f.x_pm1b_cnt_blk, 1, 0xb0a0);
	fadt(FADT_AT, &f, 276, 0);
	CHECK(run(36) == 0 && info.pm1b_cnt == 0xb0a0, "X_PM1b used");

	/* Reset register variations. */
	standard();
	fadt_full(&f);
	f.flags = 0;
	fadt(FADT_AT, &f, 276, 0xb008);
	CHECK(run(36) == 0 && !info.reset_reg_io && !info.pm_tmr_32bit,
	      "flags clear: no reset register, 24-bit timer");
	fadt_full(&f);
	gas(&f.reset_reg, 0, 0xfed00000);
	fadt(FADT_AT, &f, 276, 0xb008);
	CHECK(run(36) == 0 && !info.reset_reg_io,
	      "reset register in memory space not used");

	/* DSDT choice and failures. */
	standard();
	fadt_full(&f);
	f.x_dsdt = 0;
	fadt(FADT_AT, &f, 276, 0xb008);
	CHECK(run(36) == 0 && info.have_s5 && info.slp_typa == 3,
	      "X_DSDT zero: 32-bit DSDT used");
	standard();
	img[DSDT_AT + 40] ^= 1;
	CHECK(run(36) == 0 && bad == 1 && !info.have_s5,
	      "DSDT with bad checksum: counted, no _S5_");
	standard();
	memcpy(img + DSDT_AT, "SSDT", 4);
	fix(DSDT_AT);
	CHECK(run(36) == 0 && bad == 1 && !info.have_s5,
	      "DSDT pointer to an SSDT: counted, no _S5_");
	standard();
	fadt_full(&f);
	f.x_dsdt = 0x7ffff000;
	fadt(FADT_AT, &f, 276, 0xb008);
	CHECK(run(36) == 0 && bad == 1 && !info.have_s5,
	      "DSDT outside memory: counted");
	standard();
	fadt_full(&f);
	f.x_dsdt = 0;
	f.dsdt = 0;
	fadt(FADT_AT, &f, 276, 0xb008);
	CHECK(run(36) == 0 && bad == 0 && !info.have_s5,
	      "no DSDT at all");
	/* Two FADTs: the first wins. */
	standard();
	fadt_full(&f);
	f.pm1a_cnt_blk = 0x1234;
	memset(&f.x_pm1a_cnt_blk, 0, sizeof(f.x_pm1a_cnt_blk));
	fadt(SPARE_AT, &f, 276, 0);
	root(XSDT_AT, "XSDT", (const uint64_t[]){ MADT_AT, FADT_AT, SPARE_AT },
	     3);
	CHECK(run(36) == 0 && info.pm1a_cnt == 0xb004,
	      "second FADT ignored");
}

/* A DSDT with `aml` at the very end of memory, reached from the FADT. */
static int run_dsdt(const uint8_t *aml, uint32_t n)
{
	struct acpi_fadt f;
	uint32_t off = MEM_SIZE - 36 - n;

	standard();
	fadt_full(&f);
	f.x_dsdt = off;
	fadt(FADT_AT, &f, 276, 0xb008);
	dsdt(off, aml, n);
	return run(36);
}

#define S5 '_', 'S', '5', '_'
#define RUN_DSDT(...) run_dsdt((const uint8_t[]){ __VA_ARGS__ }, \
			       sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void test_s5(void)
{
	uint8_t aml[64];
	unsigned n, wrong = 0;

	CHECK(RUN_DSDT(0x08, S5, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x07,
		       0x00, 0x00) == 0 && info.have_s5 &&
	      info.slp_typa == 5 && info.slp_typb == 7,
	      "NameOp _S5_ with BytePrefix elements");
	CHECK(RUN_DSDT(0x10, 0x05, '\\', 0x08, '\\', S5, 0x12, 0x06, 0x02,
		       0x0a, 0x02, 0x0a, 0x03) == 0 && info.have_s5 &&
	      info.slp_typa == 2 && info.slp_typb == 3, "root-prefixed \\_S5_");
	CHECK(RUN_DSDT(0x08, S5, 0x12, 0x06, 0x04, 0x01, 0x00, 0x00,
		       0x00) == 0 && info.have_s5 &&
	      info.slp_typa == 1 && info.slp_typb == 0, "OneOp and ZeroOp");
	CHECK(RUN_DSDT(0x08, S5, 0x12, 0x04, 0x02, 0x07, 0x06) == 0 &&
	      info.have_s5 && info.slp_typa == 7 && info.slp_typb == 6,
	      "bare byte constants");
	CHECK(RUN_DSDT(0x08, S5, 0x12, 0x0a, 0x02, 0x0b, 0x05, 0x00, 0x0c,
		       0x06, 0, 0, 0) == 0 && info.have_s5 &&
	      info.slp_typa == 5 && info.slp_typb == 6,
	      "WordPrefix and DWordPrefix elements");
	CHECK(RUN_DSDT(0x08, S5, 0x12, 0x4a, 0x00, 0x04, 0x0a, 0x05, 0x0a,
		       0x05, 0x00, 0x00, 0x00) == 0 && info.have_s5 &&
	      info.slp_typa == 5, "two-byte PkgLength");
	CHECK(RUN_DSDT(0x08, S5, 0x12, 0xcb, 0x00, 0x00, 0x00, 0x02, 0x0a,
		       0x05, 0x0a, 0x04, 0x00, 0x00) == 0 && info.have_s5 &&
	      info.slp_typb == 4, "four-byte PkgLength");

	CHECK(RUN_DSDT(0x08, '_', 'S', '4', '_', 0x12, 0x06, 0x02, 0x0a,
		       0x05, 0x0a, 0x05) == 0 && !info.have_s5,
	      "DSDT without _S5_");
	CHECK(RUN_DSDT(0x70, S5, 0x12, 0x06, 0x02, 0x0a, 0x05, 0x0a,
		       0x05) == 0 && !info.have_s5,
	      "_S5_ not after NameOp or '\\' ignored");
	CHECK(RUN_DSDT(0x70, S5, 0x12, 0x06, 0x02, 0x0a, 0x01, 0x0a, 0x01,
		       0x08, S5, 0x12, 0x06, 0x02, 0x0a, 0x05, 0x0a,
		       0x06) == 0 && info.have_s5 && info.slp_typa == 5 &&
	      info.slp_typb == 6, "a later well-formed _S5_ is found");
	CHECK(RUN_DSDT(0x08, S5, 0x12, 0x04, 0x01, 0x0a, 0x05) == 0 &&
	      !info.have_s5, "package of one element rejected");
	CHECK(RUN_DSDT(0x08, S5, 0x12, 0x06, 0x01, 0x0a, 0x05, 0x0a,
		       0x05) == 0 && !info.have_s5,
	      "NumElements 1 rejected even with two elements present");
	CHECK(RUN_DSDT(0x08, S5, 0x12, 0x05, 0x02, 0x0a, 0x05, 0x0b,
		       0x05) == 0 && !info.have_s5,
	      "WordPrefix element cut by the package end");
	CHECK(RUN_DSDT(0x08, S5, 0x12, 0x07, 0x02, 0x0a, 0x05, 0x0c,
		       0x05, 0x00, 0x00) == 0 && !info.have_s5,
	      "DWordPrefix element cut by the package end");
	CHECK(RUN_DSDT(0x08, S5, 0x0a, 0x05) == 0 && !info.have_s5,
	      "_S5_ that is not a package rejected");
	CHECK(RUN_DSDT(0x08, S5, 0x12, 0x3f, 0x02, 0x0a, 0x05, 0x0a,
		       0x05) == 0 && !info.have_s5,
	      "PkgLength past the DSDT rejected");
	CHECK(RUN_DSDT(0x08, S5, 0x12, 0x04, 0x02, 0x0a, 0x05, 0x0a,
		       0x05) == 0 && !info.have_s5,
	      "elements past the PkgLength rejected");
	CHECK(RUN_DSDT(0x08, S5, 0x12, 0xcc, 0x00) == 0 && !info.have_s5,
	      "four-byte PkgLength cut by the DSDT end");
	CHECK(RUN_DSDT(0x00, 0x08, S5) == 0 && !info.have_s5,
	      "_S5_ at the very end");
	CHECK(RUN_DSDT(0x08, '_', 'S', '5') == 0 && !info.have_s5,
	      "partial name at the very end");
	CHECK(run_dsdt(aml, 0) == 0 && !info.have_s5, "empty DSDT");

	/* Every truncation of a good package: found only when whole. */
	static const uint8_t good[] = {
		0x08, S5, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
	};
	for (n = 0; n < sizeof(good); n++) {
		memcpy(aml, good, n);
		if (run_dsdt(aml, n) != 0 || info.have_s5)
			wrong++;
	}
	CHECK(wrong == 0, "all %zu truncations of _S5_ rejected",
	      sizeof(good));
	CHECK(run_dsdt(good, sizeof(good)) == 0 && info.have_s5,
	      "untruncated package found");
}

static void test_checksum(void)
{
	static const uint8_t b[3] = { 1, 2, 3 };
	static uint8_t ones[256];

	memset(ones, 1, sizeof(ones));
	CHECK(acpi_checksum(b, 3) == 6, "checksum of 1,2,3");
	CHECK(acpi_checksum(b, 0) == 0, "checksum of nothing");
	CHECK(acpi_checksum(ones, 256) == 0, "checksum wraps mod 256");
	CHECK(acpi_checksum(ones, 255) == 255, "checksum of 255 ones");
}

int main(void)
{
	test_checksum();
	test_good();
	test_rsdp();
	test_root();
	test_bad_tables();
	test_madt();
	test_fadt();
	test_s5();
	free(mem);
	free(rsdp_copy);
	{
		struct mb2_info none;
		struct acpi_info out;
		const char *why = NULL;

		memset(&none, 0, sizeof(none));
		CHECK(acpi_parse_mb2(&none, NULL, NULL, &out, NULL, &why) == -1 &&
		      why && strstr(why, "RSDP"),
		      "no RSDP tag from the loader is refused, naming the RSDP");
	}
	return done_testing();
}
