/*
 * Fuzz target: the input is a small physical memory with an RSDP at
 * offset 0 and ACPI tables anywhere after it, addressed by their offsets.
 * Checksums would stop almost every mutant at the first table, so for
 * most inputs the target first repairs the checksums of the tables the
 * pointers reach (inputs whose size is 3 mod 4 are left as they are, to
 * keep the checksum paths fuzzed too).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <isovisor/acpi.h>
#include "acpi.h"

struct mem {
	const uint8_t *base;
	size_t size;
};

static const void *map(uint64_t phys, size_t len, void *ctx)
{
	const struct mem *m = ctx;

	if (phys > m->size || len > m->size - phys)
		return NULL;
	return m->base + phys;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Set byte `at` so that `len` bytes from `p` sum to zero. */
static void fix_sum(uint8_t *p, size_t len, size_t at)
{
	p[at] = 0;
	p[at] = (uint8_t)-acpi_checksum(p, len);
}

/* Repair the table at `phys` when it lies inside; its length or 0. */
static uint32_t fix_table(uint8_t *b, size_t size, uint64_t phys)
{
	uint32_t len;

	if (phys > size || size - phys < 36)
		return 0;
	len = rd32(b + phys + 4);
	if (len < 36 || len > size - phys)
		return 0;
	fix_sum(b + phys, len, 9);
	return len;
}

static void repair(uint8_t *b, size_t size)
{
	uint64_t root, phys, dsdt;
	uint32_t esz = 4, rlen, len, i;

	if (size < 20)
		return;
	fix_sum(b, 20, 8);
	root = rd32(b + 16);
	if (b[15] >= 2 && size >= 36) {
		len = rd32(b + 20);
		if (len >= 36 && len <= size)
			fix_sum(b, len, 32);
		if (rd64(b + 24)) {
			root = rd64(b + 24);
			esz = 8;
		}
	}
	rlen = fix_table(b, size, root);
	for (i = 0; rlen >= 36 && i < (rlen - 36) / esz; i++) {
		phys = 0;
		memcpy(&phys, b + root + 36 + i * esz, esz);
		len = fix_table(b, size, phys);
		if (len < 148 || memcmp(b + phys, "FACP", 4))
			continue;
		dsdt = rd64(b + phys + 140);
		fix_table(b, size, dsdt ? dsdt : rd32(b + phys + 40));
	}
	/* A fix of a later table may have broken an earlier overlapping
	 * one; redo the root so at least the walk starts. */
	fix_table(b, size, root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acpi_info *info;
	struct mem m;
	const char *err = NULL;
	unsigned bad = 0;
	uint8_t *copy;
	int ret;

	copy = malloc(size ? size : 1);
	info = malloc(sizeof(*info));
	if (!copy || !info)
		goto out;
	memcpy(copy, data, size);
	if (size % 4 != 3)
		repair(copy, size);
	m.base = copy;
	m.size = size;
	ret = acpi_parse(copy, size, map, &m, info, &bad, &err);
	if (ret && (!err || !*err))
		abort();
	if (info->cpu_count > ACPI_MAX_CPUS ||
	    info->ioapic_count > ACPI_MAX_IOAPICS)
		abort();
	if (!ret && (bad > size || (info->have_s5 && !info->have_fadt)))
		abort();
out:
	free(info);
	free(copy);
	return 0;
}

/* ---- seeds ------------------------------------------------------------ */

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void sdt(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "ISOVSR", 6);
	memcpy(t + 16, "FUZZTBL ", 8);
}

static void gas_io(uint8_t *g, uint16_t port)
{
	g[0] = 1;
	g[1] = 8;
	g[3] = 1;
	put64(g + 4, port);
}

#define MADT_AT 0x100u
#define FADT_AT 0x200u
#define DSDT_AT 0x320u

static size_t seed_tables(uint8_t *b, size_t cap, int rev, int fadt_len)
{
	static const uint8_t madt_entries[] = {
		0, 8, 0, 0, 1, 0, 0, 0,                 /* lapic 0 */
		0, 8, 1, 1, 1, 0, 0, 0,                 /* lapic 1 */
		0, 8, 2, 2, 0, 0, 0, 0,                 /* disabled */
		1, 12, 8, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0,      /* I/O APIC */
		2, 10, 0, 0, 2, 0, 0, 0, 0, 0,          /* override */
		4, 6, 0xff, 5, 0, 1,                    /* NMI */
		5, 12, 0, 0, 0, 0, 0xe0, 0xfe, 1, 0, 0, 0,
		9, 16, 0, 0, 0x2c, 1, 0, 0, 1, 0, 0, 0, 0x2c, 1, 0, 0,
	};
	static const uint8_t aml[] = {
		0x10, 0x05, '\\', 0x5f, 0x53, 0x42, 0x5f,
		0x08, '_', 'S', '4', '_', 0x12, 0x06, 0x02, 0x0a, 0x04,
		0x0a, 0x04,
		0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05,
		0x0a, 0x05, 0x00, 0x00,
	};
	size_t total = DSDT_AT + 36 + sizeof(aml);
	uint32_t len;

	if (cap < total)
		return 0;
	memset(b, 0, total);

	/* RSDP at 0, XSDT at 0x40, RSDT at 0x80. */
	memcpy(b, "RSD PTR ", 8);
	memcpy(b + 9, "ISOVSR", 6);
	b[15] = (uint8_t)rev;
	put32(b + 16, 0x80);
	fix_sum(b, 20, 8);
	if (rev >= 2) {
		put32(b + 20, 36);
		put64(b + 24, 0x40);
		fix_sum(b, 36, 32);
	}
	sdt(b + 0x40, "XSDT", 36 + 16, 1);
	put64(b + 0x40 + 36, MADT_AT);
	put64(b + 0x40 + 44, FADT_AT);
	fix_sum(b + 0x40, 52, 9);
	sdt(b + 0x80, "RSDT", 36 + 8, 1);
	put32(b + 0x80 + 36, FADT_AT);
	put32(b + 0x80 + 40, MADT_AT);
	fix_sum(b + 0x80, 44, 9);

	len = 44 + sizeof(madt_entries);
	sdt(b + MADT_AT, "APIC", len, 4);
	put32(b + MADT_AT + 36, 0xfee00000);
	put32(b + MADT_AT + 40, 1);
	memcpy(b + MADT_AT + 44, madt_entries, sizeof(madt_entries));
	fix_sum(b + MADT_AT, len, 9);

	sdt(b + FADT_AT, "FACP", (uint32_t)fadt_len, fadt_len > 116 ? 6 : 1);
	put32(b + FADT_AT + 40, DSDT_AT);
	put32(b + FADT_AT + 64, 0x404);
	put32(b + FADT_AT + 76, 0x408);
	put32(b + FADT_AT + 112, (1u << 8) | (1u << 10));
	if (fadt_len >= 244) {
		gas_io(b + FADT_AT + 116, 0xcf9);
		b[FADT_AT + 128] = 6;
		put64(b + FADT_AT + 140, DSDT_AT);
		gas_io(b + FADT_AT + 172, 0xb004);
		gas_io(b + FADT_AT + 208, 0xb008);
	}
	fix_sum(b + FADT_AT, (uint32_t)fadt_len, 9);

	sdt(b + DSDT_AT, "DSDT", 36 + sizeof(aml), 2);
	memcpy(b + DSDT_AT + 36, aml, sizeof(aml));
	fix_sum(b + DSDT_AT, 36 + sizeof(aml), 9);
	return total;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	switch (i) {
	case 0:
		return seed_tables(buf, cap, 2, 276);
	case 1:
		return seed_tables(buf, cap, 0, 116);
	default:
		return 0;
	}
}
