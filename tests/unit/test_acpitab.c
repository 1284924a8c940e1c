/*
 * Host tests for a child's ACPI tables (drivers/acpitab.c) and its PM
 * block (drivers/acpipm.c). The tables are read back with the project's
 * own ACPI walker (kernel/lib/acpi.c, what the root uses on real
 * firmware) over a fake physical memory holding the blob at its base,
 * and their bytes are checked against the specification's layouts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acpi.h"
#include "acpitab.h"
#include "acpipm.h"
#include "check.h"

static uint8_t mem[0x100000];                   /* GPA 0 .. 1 MiB */

static const void *map(uint64_t phys, size_t len, void *ctx)
{
	(void)ctx;
	if (phys > sizeof(mem) || len > sizeof(mem) - phys)
		return NULL;
	return mem + phys;
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static bool contains(const uint8_t *p, size_t n, const void *needle, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(p + i, needle, k))
			return true;
	return false;
}

/* The PM block's platform: a settable clock, counted logs, the last
 * sleep type asked for. */
static uint64_t now;
static unsigned typ = 99, logs;

static uint64_t now_fn(void *c) { (void)c; return now; }
static void log_fn(void *c, const char *m) { (void)c; (void)m; logs++; }
static void sleep_fn(void *c, unsigned t) { (void)c; typ = t; }

static struct acpitab_config cfg(bool lapic, bool vmbus)
{
	return (struct acpitab_config){ ACPITAB_BASE, 2, lapic, lapic, vmbus, ACPIPM_BASE, 9, 5 };
}

static size_t build(struct acpitab_config c)
{
	memset(mem, 0xcc, sizeof(mem));
	return acpitab_build(&c, mem + c.base, ACPITAB_SIZE);
}

/* Every table the XSDT names: checksum 0, its length inside the blob. */
static void check_tables(size_t used, const char *what)
{
	const uint8_t *rsdp = mem + ACPITAB_BASE;
	const uint8_t *xsdt = mem + (uint32_t)rd32(rsdp + 24);
	unsigned n = (rd32(xsdt + 4) - 36) / 8;
	bool ok = true;

	CHECK(!memcmp(rsdp, "RSD PTR ", 8) && acpi_checksum(rsdp, 20) == 0 &&
	      acpi_checksum(rsdp, 36) == 0 && rsdp[15] == 2,
	      "%s: RSDP signature, revision 2, both checksums", what);
	CHECK(!memcmp(xsdt, "XSDT", 4) && acpi_checksum(xsdt, rd32(xsdt + 4)) == 0,
	      "%s: XSDT checksum", what);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *t = mem + rd32(xsdt + 36 + 8 * i);
		uint32_t len = rd32(t + 4);

		ok &= t >= mem + ACPITAB_BASE && t + len <= mem + ACPITAB_BASE + used &&
		      acpi_checksum(t, len) == 0;
	}
	CHECK(ok, "%s: %u table(s) in the XSDT, each inside the %zu bytes with checksum 0",
	      what, n, used);
}

/* With ACPITAB_DUMP=DIR: every table of the full set (MADT with the I/O
 * APIC, VMBus device) as DIR/<signature>.dat, for `iasl -d`
 * (tests/unit.bats runs it when acpica-tools is installed). */
static void dump_tables(void)
{
	const char *dir = getenv("ACPITAB_DUMP");
	const uint8_t *xsdt;
	unsigned n;

	if (!dir)
		return;
	build(cfg(true, true));
	xsdt = mem + (uint32_t)rd32(mem + ACPITAB_BASE + 24);
	n = (rd32(xsdt + 4) - 36) / 8;
	for (unsigned i = 0; i <= n; i++) {
		/* The XSDT's tables, then the DSDT the FADT names. */
		const uint8_t *t = i < n ? mem + rd32(xsdt + 36 + 8 * i) :
				   mem + rd32(mem + rd32(xsdt + 36) + 40);
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%.4s.dat", dir, (const char *)t);
		f = fopen(path, "wb");
		if (!f || fwrite(t, 1, rd32(t + 4), f) != rd32(t + 4)) {
			fprintf(stderr, "cannot write %s\n", path);
			exit(1);
		}
		fclose(f);
	}
}

int main(void)
{
	struct acpi_info info;
	unsigned bad = 0;
	const char *err = NULL;
	size_t used;
	const uint8_t *fadt, *dsdt;

	dump_tables();
	/* With a MADT: the root's own walker reads everything. */
	used = build(cfg(true, true));
	CHECK(used > 0 && used <= ACPITAB_SIZE, "tables built: %zu bytes", used);
	check_tables(used, "lapic+vmbus");
	CHECK(acpi_parse(mem + ACPITAB_BASE, 36, map, NULL, &info, &bad, &err) == 0 && !bad,
	      "acpi_parse accepts them (%s)", err ? err : "no error");
	CHECK(info.xsdt && info.revision == 2 && info.cpu_count == 2 &&
	      info.cpus[1].apic_id == 1 && info.ioapic_count == 1 &&
	      info.ioapics[0].address == 0xfec00000 && info.lapic_address == 0xfee00000,
	      "MADT: 2 CPUs, one I/O APIC at 0xfec00000, LAPIC at 0xfee00000");
	CHECK(info.have_fadt && info.pm1a_cnt == ACPIPM_BASE + ACPIPM_PM1_CNT &&
	      info.pm_tmr == ACPIPM_BASE + ACPIPM_PM_TMR && info.pm_tmr_32bit,
	      "FADT: PM1a_CNT %#x, PM timer %#x (32-bit)", info.pm1a_cnt, info.pm_tmr);
	CHECK(info.have_s5 && info.slp_typa == ACPIPM_SLP_TYP_S5,
	      "DSDT: \\_S5 with SLP_TYPa %u", info.slp_typa);

	/* Local APICs only: no I/O APIC in the MADT. */
	{
		struct acpitab_config c = cfg(true, false);

		c.ioapic = false;
		used = build(c);
		check_tables(used, "lapic, no I/O APIC");
		CHECK(acpi_parse(mem + ACPITAB_BASE, 36, map, NULL, &info, &bad, &err) == 0 &&
		      !bad && info.cpu_count == 2 && info.ioapic_count == 0,
		      "MADT without an I/O APIC: 2 CPUs, none");
	}

	/* Without a MADT: FADT and DSDT by hand. */
	used = build(cfg(false, true));
	check_tables(used, "vmbus, no MADT");
	fadt = mem + rd32(mem + rd32(mem + ACPITAB_BASE + 24) + 36);
	CHECK(!memcmp(fadt, "FACP", 4) && rd32(fadt + 4) == 276 && fadt[8] == 6,
	      "FADT revision 6, 276 bytes");
	CHECK(rd16(fadt + 46) == 9 && rd32(fadt + 48) == 0 &&
	      rd32(fadt + 56) == ACPIPM_BASE && fadt[88] == 4 && fadt[89] == 2 && fadt[91] == 4,
	      "FADT: SCI 9, SMI_CMD 0 (always ACPI mode), PM1a_EVT %#x, lengths 4/2/4",
	      rd32(fadt + 56));
	CHECK(!(rd32(fadt + 112) & (1u << 20)), "FADT: not hardware-reduced");
	CHECK(!memcmp(mem + rd32(fadt + 36), "FACS", 4) && rd32(fadt + 36) % 64 == 0,
	      "FACS present and 64-byte aligned");
	dsdt = mem + rd32(fadt + 40);
	CHECK(!memcmp(dsdt, "DSDT", 4) && acpi_checksum(dsdt, rd32(dsdt + 4)) == 0,
	      "DSDT checksum");
	CHECK(contains(dsdt, rd32(dsdt + 4), "VMBS", 4) &&
	      contains(dsdt, rd32(dsdt + 4), "\x0dVMBUS", 7) &&
	      contains(dsdt, rd32(dsdt + 4), "\x0d" "ACPI0004", 10) &&
	      contains(dsdt, rd32(dsdt + 4), "_CRS\x11", 5) &&
	      contains(dsdt, rd32(dsdt + 4), "\x22\x20\x00\x79", 4),
	      "DSDT: VMOD (ACPI0004) holds VMBS with _HID \"VMBUS\" and a _CRS of IRQ 5");
	{
		/* Scope(\_SB)'s PkgLength (here two bytes: the body is over
		 * 63) ends exactly where Name(\_S5) starts. */
		const uint8_t *s = dsdt + 36;
		unsigned nb = (s[1] >> 6) + 1, len = nb == 1 ? s[1] & 0x3fu : s[1] & 0xfu;

		for (unsigned i = 1; i < nb; i++)
			len |= (unsigned)s[1 + i] << (4 + 8 * (i - 1));
		CHECK(s[0] == 0x10 && !memcmp(s + 1 + nb, "\\_SB_", 5) &&
		      s + 1 + len < dsdt + rd32(dsdt + 4) && s[1 + len] == 0x08 &&
		      !memcmp(s + 2 + len, "\\_S5_", 5),
		      "DSDT: Scope(\\_SB) PkgLength %u (%u bytes) ends where Name(\\_S5) starts",
		      len, nb);
	}
	used = build(cfg(false, false));
	dsdt = mem + rd32(mem + rd32(mem + rd32(mem + ACPITAB_BASE + 24) + 36) + 40);
	CHECK(!contains(dsdt, rd32(dsdt + 4), "VMBS", 4) &&
	      contains(dsdt, rd32(dsdt + 4), "_S5_", 4),
	      "no synthetic devices: no VMBus device, \\_S5 still there");

	/* Refusals. */
	{
		struct acpitab_config c = cfg(true, true);
		uint8_t small[64];

		c.vps = 0;
		CHECK(acpitab_build(&c, mem, ACPITAB_SIZE) == 0, "0 VPs refused");
		c = cfg(true, true);
		c.base = 0xfffff000;
		CHECK(acpitab_build(&c, mem, ACPITAB_SIZE) == 0, "a base whose tables cross 4 GiB refused");
		c = cfg(true, true);
		CHECK(acpitab_build(&c, small, sizeof(small)) == 0, "a buffer too small refused");
		c.sci_irq = 16;
		CHECK(acpitab_build(&c, mem, ACPITAB_SIZE) == 0, "SCI IRQ 16 refused");
	}

	/* The PM block. */
	{
		struct platform p = { 0 };
		struct acpipm pm;
		uint32_t v = 0, t0, t1;

		p.now_ns = now_fn;
		p.log = log_fn;
		acpipm_init(&pm, &p, ACPIPM_BASE, sleep_fn, NULL);
		CHECK(!acpipm_io(&pm, ACPIPM_BASE - 1, 1, false, &v) &&
		      !acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PORTS, 1, false, &v),
		      "ports outside the block are not claimed");
		acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PM1_CNT, 2, false, &v);
		CHECK(v & 1, "PM1_CNT reads SCI_EN set (always ACPI mode)");
		now = 0;
		acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PM_TMR, 4, false, &t0);
		now = 1000000000ull;
		acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PM_TMR, 4, false, &t1);
		CHECK(t1 - t0 == 3579545, "PM timer: 3579545 counts in one second (%u)", t1 - t0);
		CHECK(acpipm_timer(3600ull * 1000000000ull * 24 * 365) ==
		      (uint32_t)(3579545ull * 3600 * 24 * 365),
		      "PM timer after a year: no overflow in the arithmetic");
		v = 1u << 5;
		acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PM1_EN, 2, true, &v);
		acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PM1_EN, 2, false, &v);
		CHECK(v == 1u << 5, "PM1_EN keeps GBL_EN (the OS reads its enables back)");
		pm.sts = 0x8101;
		v = 0x0001;
		acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PM1_STS, 2, true, &v);
		CHECK(pm.sts == 0x8100, "PM1_STS: writing 1 clears only that bit");
		v = 5u << 10;
		acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PM1_CNT, 2, true, &v);
		CHECK(typ == 99, "SLP_TYP without SLP_EN asks for nothing");
		v = (5u << 10) | (1u << 13);
		acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PM1_CNT, 2, true, &v);
		CHECK(typ == 5, "SLP_TYP 5 with SLP_EN asks for S5");
		typ = 99;
		v = 0x20 | 0x14;        /* high byte: SLP_EN | SLP_TYP 5 */
		acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PM1_CNT + 1, 1, true, &v);
		CHECK(typ == 5, "the same as a byte write to PM1_CNT's high half");
		logs = 0;
		acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PM_TMR, 2, false, &v);
		CHECK(v == 0xffff && logs == 1, "a 2-byte timer read: all ones and a log line");
		v = 0;
		acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PM_TMR, 4, true, &v);
		CHECK(logs == 2, "a timer write is ignored with a log line");
	}
	return done_testing();
}
