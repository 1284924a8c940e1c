/*
 * ACPI table walking; see acpi.h. Firmware tables are byte packed and may
 * sit at any address, so every field is copied out with memcpy. A table is
 * reached in three steps: map its header, check the length found there,
 * then map the whole length and checksum it; the length read in the first
 * step is the only one used afterwards. No pointer from the map function
 * is kept across another call to it, so a map function that reuses one
 * temporary window works too.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <isovisor/acpi.h>
#include "acpi.h"
#include "mb2.h"

#define SDT_HDR sizeof(struct acpi_sdt_header)
#define RSDP_V1_LEN 20u

/* Fields of the FADT beyond struct acpi_fadt (ACPI 2.0+ layout). */
#define FADT_X_PM_TMR_BLK 208u

#define GAS_SYSTEM_IO 1u
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)

/* AML opcodes the _S5_ scan understands. */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR '\\'

struct walk {
	acpi_map_fn map;
	void *ctx;
	struct acpi_info *out;
	unsigned bad;
	bool have_madt;
};

static int fail(const char **err, const char *msg)
{
	if (err)
		*err = msg;
	return -1;
}

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

/*
 * Map the table at `phys` and check it: header readable, length sane,
 * whole table readable, checksum zero, signature `sig`. Returns the
 * mapping with the length in *len, or NULL.
 */
static const uint8_t *map_table(struct walk *w, uint64_t phys, const char *sig,
				uint32_t *len)
{
	struct acpi_sdt_header h;
	const uint8_t *t;

	t = w->map(phys, SDT_HDR, w->ctx);
	if (!t)
		return NULL;
	memcpy(&h, t, sizeof(h));
	if (h.length < SDT_HDR || h.length > ACPI_MAX_TABLE_LEN ||
	    phys > UINT64_MAX - h.length)
		return NULL;
	if (sig && memcmp(h.signature, sig, 4))
		return NULL;
	t = w->map(phys, h.length, w->ctx);
	if (!t || acpi_checksum(t, h.length))
		return NULL;
	*len = h.length;
	return t;
}

/* Copy `size` bytes at `off` of a table of `len` bytes, when they are all
 * inside it. */
static bool field(const uint8_t *t, uint32_t len, uint32_t off, void *dst,
		  uint32_t size)
{
	if (off > len || size > len - off)
		return false;
	memcpy(dst, t + off, size);
	return true;
}

static void add_cpu(struct acpi_info *out, uint32_t apic_id, uint32_t uid,
		    uint32_t flags)
{
	unsigned i;

	if (!(flags & ACPI_MADT_ENABLED)) {
		if (!(flags & ACPI_MADT_ONLINE_CAPABLE))
			out->cpu_disabled++;
		return;
	}
	/* Firmware may describe one CPU both as a local APIC and as an
	 * x2APIC; count it once. */
	for (i = 0; i < out->cpu_count; i++)
		if (out->cpus[i].apic_id == apic_id)
			return;
	if (out->cpu_count >= ACPI_MAX_CPUS)
		return;
	out->cpus[out->cpu_count].apic_id = apic_id;
	out->cpus[out->cpu_count].uid = uid;
	out->cpu_count++;
}

static void madt_entry(struct acpi_info *out, const uint8_t *e, uint8_t len)
{
	struct acpi_madt_local_apic la;
	struct acpi_madt_local_x2apic x2;
	struct acpi_madt_io_apic io;
	struct acpi_madt_local_apic_override ov;

	switch (e[0]) {
	case ACPI_MADT_LOCAL_APIC:
		if (len < sizeof(la))
			return;
		memcpy(&la, e, sizeof(la));
		add_cpu(out, la.apic_id, la.processor_id, la.flags);
		return;
	case ACPI_MADT_LOCAL_X2APIC:
		if (len < sizeof(x2))
			return;
		memcpy(&x2, e, sizeof(x2));
		add_cpu(out, x2.x2apic_id, x2.uid, x2.flags);
		return;
	case ACPI_MADT_IO_APIC:
		if (len < sizeof(io) || out->ioapic_count >= ACPI_MAX_IOAPICS)
			return;
		memcpy(&io, e, sizeof(io));
		out->ioapics[out->ioapic_count].id = io.io_apic_id;
		out->ioapics[out->ioapic_count].address = io.address;
		out->ioapics[out->ioapic_count].gsi_base = io.gsi_base;
		out->ioapic_count++;
		return;
	case ACPI_MADT_LOCAL_APIC_OVERRIDE:
		if (len < sizeof(ov))
			return;
		memcpy(&ov, e, sizeof(ov));
		out->lapic_address = ov.address;
		return;
	default:
		return;
	}
}

static void parse_madt(struct acpi_info *out, const uint8_t *t, uint32_t len)
{
	uint32_t lapic, off = sizeof(struct acpi_madt);

	memcpy(&lapic, t + offsetof(struct acpi_madt, local_apic_address),
	       sizeof(lapic));
	out->lapic_address = lapic;
	/* An entry of length 0 or 1 cannot be stepped over and one running
	 * past the table has no defined end: either ends the walk. */
	while (off < len && len - off >= sizeof(struct acpi_madt_entry)) {
		uint8_t elen = t[off + 1];

		if (elen < sizeof(struct acpi_madt_entry) || elen > len - off)
			break;
		madt_entry(out, t + off, elen);
		off += elen;
	}
}

/* Decode an AML PkgLength at t[*pos] (1 to 4 bytes), bounded by `len`. */
static bool aml_pkglen(const uint8_t *t, uint32_t len, uint32_t *pos,
		       uint32_t *pkglen)
{
	uint32_t lead, extra, i, v;

	if (*pos >= len)
		return false;
	lead = t[*pos];
	extra = lead >> 6;
	if (extra > len - *pos - 1)
		return false;
	/* With follow bytes, the lead byte gives only its low nibble. */
	v = extra ? lead & 0x0f : lead & 0x3f;
	for (i = 0; i < extra; i++)
		v |= (uint32_t)t[*pos + 1 + i] << (4 + 8 * i);
	*pos += 1 + extra;
	*pkglen = v;
	return true;
}

/* One small integer package element at t[*pos], bounded by `end`. */
static bool aml_byte_elem(const uint8_t *t, uint32_t end, uint32_t *pos,
			  uint8_t *val)
{
	uint32_t size;
	uint8_t op;

	if (*pos >= end)
		return false;
	op = t[*pos];
	switch (op) {
	case AML_BYTE_PREFIX:
		size = 1;
		break;
	case AML_WORD_PREFIX:
		size = 2;
		break;
	case AML_DWORD_PREFIX:
		size = 4;
		break;
	default:
		/* ZeroOp and OneOp are their own values; some firmware
		 * also stores a bare byte. */
		*val = op;
		*pos += 1;
		return true;
	}
	if (size > end - *pos - 1)
		return false;
	/* SLP_TYP is three bits; the low byte holds it. */
	*val = t[*pos + 1];
	*pos += 1 + size;
	return true;
}

/* Parse Package(n) { a, b, ... } following the name at t[pos]. */
static bool s5_package(const uint8_t *t, uint32_t len, uint32_t pos,
		       uint8_t *a, uint8_t *b)
{
	uint32_t start, pkglen, end;

	if (pos >= len || t[pos] != AML_PACKAGE_OP)
		return false;
	start = ++pos;
	if (!aml_pkglen(t, len, &pos, &pkglen))
		return false;
	/* PkgLength counts itself and the package body. */
	if (pkglen > len - start)
		return false;
	end = start + pkglen;
	if (pos >= end || t[pos] < 2)       /* NumElements */
		return false;
	pos++;
	return aml_byte_elem(t, end, &pos, a) && aml_byte_elem(t, end, &pos, b);
}

/*
 * A scan, not an AML interpreter: look for NameOp or a root prefix
 * followed by "_S5_" and a package of at least two integers, the shape
 * every firmware's \_S5 has. Every byte is read within the DSDT's length.
 */
static void scan_s5(struct acpi_info *out, const uint8_t *t, uint32_t len)
{
	uint32_t i;

	for (i = SDT_HDR + 1; i < len && len - i >= 4; i++) {
		uint8_t prev = t[i - 1];

		if (memcmp(t + i, "_S5_", 4))
			continue;
		if (prev != AML_NAME_OP && prev != AML_ROOT_CHAR)
			continue;
		if (s5_package(t, len, i + 4, &out->slp_typa,
			       &out->slp_typb)) {
			out->have_s5 = true;
			return;
		}
	}
}

/* An I/O port from a GAS at `off`, when the FADT reaches that far and the
 * GAS names a nonzero port in I/O space. */
static bool gas_port(const uint8_t *t, uint32_t len, uint32_t off,
		     uint64_t *port)
{
	struct acpi_gas g;

	if (!field(t, len, off, &g, sizeof(g)))
		return false;
	if (g.space_id != GAS_SYSTEM_IO || !g.address || g.address > 0xffff)
		return false;
	*port = g.address;
	return true;
}

#define FADT_OFF(f) ((uint32_t)offsetof(struct acpi_fadt, f))

/* Pick the legacy port or, when usable, its X_ counterpart. */
static uint32_t fadt_port(const uint8_t *t, uint32_t len, uint32_t off,
			  uint32_t x_off)
{
	uint32_t legacy = 0;
	uint64_t x;

	if (gas_port(t, len, x_off, &x))
		return (uint32_t)x;
	field(t, len, off, &legacy, sizeof(legacy));
	return legacy;
}

/* Reads only fields below the FADT's own length: a revision-1 FADT is 116
 * bytes and the rest of struct acpi_fadt is not there. Returns the DSDT's
 * address, 0 when none. */
static uint64_t parse_fadt(struct acpi_info *out, const uint8_t *t,
			   uint32_t len)
{
	uint32_t flags = 0, dsdt32 = 0;
	uint64_t dsdt = 0, reset;

	out->have_fadt = true;
	out->pm1a_cnt = fadt_port(t, len, FADT_OFF(pm1a_cnt_blk),
				  FADT_OFF(x_pm1a_cnt_blk));
	out->pm1b_cnt = fadt_port(t, len, FADT_OFF(pm1b_cnt_blk),
				  FADT_OFF(x_pm1b_cnt_blk));
	out->pm_tmr = fadt_port(t, len, FADT_OFF(pm_tmr_blk),
				FADT_X_PM_TMR_BLK);
	if (field(t, len, FADT_OFF(flags), &flags, sizeof(flags)))
		out->pm_tmr_32bit = flags & FADT_TMR_VAL_EXT;
	if ((flags & FADT_RESET_REG_SUP) &&
	    gas_port(t, len, FADT_OFF(reset_reg), &reset) &&
	    field(t, len, FADT_OFF(reset_value), &out->reset_value, 1)) {
		out->reset_reg_io = true;
		out->reset_port = (uint16_t)reset;
	}
	if (!field(t, len, FADT_OFF(x_dsdt), &dsdt, sizeof(dsdt)) || !dsdt) {
		field(t, len, FADT_OFF(dsdt), &dsdt32, sizeof(dsdt32));
		dsdt = dsdt32;
	}
	return dsdt;
}

static void use_table(struct walk *w, uint64_t phys)
{
	struct acpi_sdt_header h;
	const uint8_t *t;
	uint64_t dsdt;
	uint32_t len;

	t = map_table(w, phys, NULL, &len);
	if (!t) {
		w->bad++;
		return;
	}
	memcpy(&h, t, sizeof(h));
	if (!memcmp(h.signature, "APIC", 4) && !w->have_madt) {
		if (len < sizeof(struct acpi_madt)) {
			w->bad++;
			return;
		}
		w->have_madt = true;
		parse_madt(w->out, t, len);
	} else if (!memcmp(h.signature, "FACP", 4) && !w->out->have_fadt) {
		dsdt = parse_fadt(w->out, t, len);
		if (!dsdt)
			return;
		/* `t` is dead from here: the map may reuse its window. */
		t = map_table(w, dsdt, "DSDT", &len);
		if (!t) {
			w->bad++;
			return;
		}
		scan_s5(w->out, t, len);
	}
}

/* The RSDP copy is the caller's memory, not mapped: copy what `len` holds
 * and validate. Returns the root table's address and entry size. */
static int check_rsdp(const void *rsdp, size_t len, struct acpi_info *out,
		      uint64_t *root, uint32_t *esz, const char **err)
{
	struct acpi_rsdp r;

	if (!rsdp || len < RSDP_V1_LEN)
		return fail(err, "RSDP too short");
	memset(&r, 0, sizeof(r));
	memcpy(&r, rsdp, len < sizeof(r) ? len : sizeof(r));
	if (memcmp(r.signature, "RSD PTR ", 8))
		return fail(err, "bad RSDP signature");
	if (acpi_checksum(rsdp, RSDP_V1_LEN))
		return fail(err, "bad RSDP checksum");
	out->revision = r.revision;
	if (r.revision >= 2) {
		if (len < sizeof(r) || r.length < sizeof(r) || r.length > len)
			return fail(err, "bad RSDP length");
		if (acpi_checksum(rsdp, r.length))
			return fail(err, "bad RSDP extended checksum");
		if (r.xsdt_address) {
			out->xsdt = true;
			*root = r.xsdt_address;
			*esz = 8;
			return 0;
		}
	}
	if (!r.rsdt_address)
		return fail(err, "no RSDT");
	*root = r.rsdt_address;
	*esz = 4;
	return 0;
}

int acpi_parse(const void *rsdp, size_t len, acpi_map_fn map, void *ctx,
	       struct acpi_info *out, unsigned *bad_tables, const char **err)
{
	struct walk w = { .map = map, .ctx = ctx, .out = out };
	uint64_t root;
	uint32_t esz, rlen, i, n;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (bad_tables)
		*bad_tables = 0;
	if (check_rsdp(rsdp, len, out, &root, &esz, err))
		return -1;
	if (!map_table(&w, root, out->xsdt ? "XSDT" : "RSDT", &rlen))
		return fail(err, out->xsdt ? "bad XSDT" : "bad RSDT");

	n = (rlen - SDT_HDR) / esz;
	for (i = 0; i < n; i++) {
		const uint8_t *e;
		uint64_t phys = 0;

		/* Re-map each entry: the table walk maps other tables in
		 * between. The root was checked whole, so this fits. */
		e = map(root + SDT_HDR + (uint64_t)i * esz, esz, ctx);
		if (!e) {
			w.bad++;
			continue;
		}
		memcpy(&phys, e, esz);
		use_table(&w, phys);
	}
	if (bad_tables)
		*bad_tables = w.bad;
	if (!w.have_madt)
		ret = fail(err, "no valid MADT");
	return ret;
}

int acpi_parse_mb2(const struct mb2_info *mi, acpi_map_fn map, void *ctx,
		   struct acpi_info *out, unsigned *bad_tables, const char **err)
{
	const void *rsdp = mi->rsdp_new ? mi->rsdp_new : mi->rsdp_old;
	uint32_t len = mi->rsdp_new ? mi->rsdp_new_len : mi->rsdp_old_len;

	if (!rsdp) {
		*err = "no RSDP from the boot loader";
		return -1;
	}
	return acpi_parse(rsdp, len, map, ctx, out, bad_tables, err);
}
