/*
 * A child's ACPI tables (acpitab.h). Layouts are the ACPI 6.x
 * specification's (5.2 tables, 20 AML encoding); the AML is written with
 * a few small encoders (PkgLength, NameSeg, strings, integers, buffers,
 * packages), each object built inside out so every PkgLength is exact.
 */
#include <string.h>
#include "acpitab.h"
#include "acpipm.h"

#define OFF_RSDP  0x000
#define OFF_XSDT  0x040
#define OFF_RSDT  0x080
#define OFF_FACS  0x0c0
#define OFF_FADT  0x100
#define OFF_MADT  0x220                 /* after the FADT's 276 bytes */
#define HDR_LEN   36
#define FADT_LEN  276                   /* revision 6 */
#define FACS_LEN  64

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return (uint8_t)-s;
}

/* The common description header; the checksum is set by finish(). */
static void header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "ISOVSR", 6);
	memcpy(t + 16, "ISOVISOR", 8);
	put32(t + 24, 1);               /* OEM revision */
	memcpy(t + 28, "ISOV", 4);      /* creator */
	put32(t + 32, 1);
}

static void finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* A generic address structure in system I/O space. */
static void gas_io(uint8_t *g, uint16_t port, uint8_t bits, uint8_t access)
{
	g[0] = 1;                       /* SystemIO */
	g[1] = bits;
	g[2] = 0;
	g[3] = access;                  /* 1 byte, 2 word, 3 dword */
	put64(g + 4, port);
}

/* ---- AML ---------------------------------------------------------------- */

struct aml {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
};

static void emit(struct aml *a, const void *src, size_t n)
{
	if (a->len + n > a->cap) {
		a->overflow = true;
		return;
	}
	memcpy(a->p + a->len, src, n);
	a->len += n;
}

static void emit1(struct aml *a, uint8_t b)
{
	emit(a, &b, 1);
}

/* PkgLength (20.2.4): the length counts its own bytes. */
static void emit_pkglen(struct aml *a, size_t body)
{
	size_t n = body + 1;

	if (n <= 0x3f) {
		emit1(a, (uint8_t)n);
		return;
	}
	for (unsigned bytes = 2; bytes <= 4; bytes++) {
		n = body + bytes;
		if (n < (1u << (4 + 8 * (bytes - 1)))) {
			emit1(a, (uint8_t)(((bytes - 1) << 6) | (n & 0xf)));
			for (unsigned i = 1; i < bytes; i++)
				emit1(a, (uint8_t)(n >> (4 + 8 * (i - 1))));
			return;
		}
	}
	a->overflow = true;
}

/* An object with a PkgLength around `body`: op (one or two bytes), then
 * PkgLength, then the body. */
static void emit_pkg(struct aml *a, const uint8_t *op, size_t oplen,
		     const struct aml *body)
{
	emit(a, op, oplen);
	emit_pkglen(a, body->len);
	emit(a, body->p, body->len);
	a->overflow |= body->overflow;
}

static void emit_name(struct aml *a, const char *seg)    /* 4 chars */
{
	emit(a, seg, 4);
}

static void emit_string(struct aml *a, const char *s)
{
	emit1(a, 0x0d);                 /* StringPrefix */
	emit(a, s, strlen(s) + 1);
}

static void emit_int(struct aml *a, uint64_t v)
{
	if (v == 0) {
		emit1(a, 0x00);         /* ZeroOp */
	} else if (v == 1) {
		emit1(a, 0x01);         /* OneOp */
	} else if (v <= 0xff) {
		emit1(a, 0x0a);         /* BytePrefix */
		emit1(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		uint8_t b[3] = { 0x0b, (uint8_t)v, (uint8_t)(v >> 8) };

		emit(a, b, 3);
	} else {
		uint8_t b[5] = { 0x0c };

		put32(b + 1, (uint32_t)v);
		emit(a, b, 5);
	}
}

/* Name (seg, <object already encoded in obj>) */
static void emit_named(struct aml *a, const char *seg, const struct aml *obj)
{
	emit1(a, 0x08);                 /* NameOp */
	emit_name(a, seg);
	emit(a, obj->p, obj->len);
	a->overflow |= obj->overflow;
}

#define AML_LOCAL(name, size) uint8_t name##_buf[size]; \
	struct aml name = { name##_buf, 0, sizeof(name##_buf), false }

static void named_string(struct aml *a, const char *seg, const char *s)
{
	AML_LOCAL(o, 32);

	emit_string(&o, s);
	emit_named(a, seg, &o);
}

static void named_int(struct aml *a, const char *seg, uint64_t v)
{
	AML_LOCAL(o, 16);

	emit_int(&o, v);
	emit_named(a, seg, &o);
}

/* Buffer (size) { bytes } */
static void emit_buffer(struct aml *a, const uint8_t *bytes, size_t n)
{
	AML_LOCAL(body, 64);
	static const uint8_t op = 0x11;         /* BufferOp */

	emit_int(&body, n);
	emit(&body, bytes, n);
	emit_pkg(a, &op, 1, &body);
}

static void build_vmbus(struct aml *a, uint8_t irq)
{
	static const uint8_t dev_op[2] = { 0x5b, 0x82 };        /* DeviceOp */
	/* IRQNoFlags: edge, active high, exclusive; then the end tag. */
	uint8_t crs[5] = { 0x22, (uint8_t)(1u << irq), (uint8_t)((1u << irq) >> 8),
			   0x79, 0x00 };
	AML_LOCAL(vmbs, 128);
	AML_LOCAL(vmod, 192);
	AML_LOCAL(sb, 256);
	AML_LOCAL(crsobj, 32);
	static const uint8_t scope_op = 0x10;

	crs[4] = checksum(crs, 4);

	emit_name(&vmbs, "VMBS");
	named_string(&vmbs, "_HID", "VMBUS");
	named_int(&vmbs, "_UID", 0);
	emit_buffer(&crsobj, crs, sizeof(crs));
	emit_named(&vmbs, "_CRS", &crsobj);

	emit_name(&vmod, "VMOD");
	named_string(&vmod, "_HID", "ACPI0004");
	emit_pkg(&vmod, dev_op, 2, &vmbs);

	emit1(&sb, '\\');
	emit_name(&sb, "_SB_");
	emit_pkg(&sb, dev_op, 2, &vmod);
	emit_pkg(a, &scope_op, 1, &sb);
}

static void build_s5(struct aml *a)
{
	static const uint8_t pkg_op = 0x12;     /* PackageOp */
	AML_LOCAL(pkg, 16);

	emit1(&pkg, 4);                         /* NumElements */
	emit_int(&pkg, ACPIPM_SLP_TYP_S5);
	emit_int(&pkg, ACPIPM_SLP_TYP_S5);
	emit_int(&pkg, 0);
	emit_int(&pkg, 0);
	emit1(a, 0x08);
	emit1(a, '\\');
	emit_name(a, "_S5_");
	emit_pkg(a, &pkg_op, 1, &pkg);
}

/* ---- tables ------------------------------------------------------------- */

/* Header, LAPIC address and flags, a local APIC per VP, and with an I/O
 * APIC it and two interrupt source overrides. */
#define MADT_LEN(c) (HDR_LEN + 8 + (size_t)(c)->vps * 8 + ((c)->ioapic ? 12 + 2 * 10 : 0))

static size_t build_madt(const struct acpitab_config *c, uint8_t *t, size_t cap)
{
	size_t len = MADT_LEN(c);
	uint8_t *e;

	if (len > cap)
		return 0;
	memset(t, 0, len);
	header(t, "APIC", (uint32_t)len, 5);
	put32(t + 36, 0xfee00000);              /* local APIC address */
	put32(t + 40, 1);                       /* PCAT_COMPAT: 8259s too */
	e = t + 44;
	for (unsigned i = 0; i < c->vps; i++, e += 8) {
		e[0] = 0;                       /* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i;              /* ACPI processor UID */
		e[3] = (uint8_t)i;              /* APIC ID */
		put32(e + 4, 1);                /* enabled */
	}
	if (!c->ioapic) {
		finish(t, (uint32_t)len);
		return len;
	}
	e[0] = 1;                               /* I/O APIC */
	e[1] = 12;
	e[2] = (uint8_t)c->vps;                 /* its ID, after the CPUs' */
	put32(e + 4, 0xfec00000);
	put32(e + 8, 0);                        /* GSI base */
	e += 12;
	/* ISA IRQ 0 is GSI 2 (the PIT through pin 2, as on every PC), and
	 * the SCI is level, active high. */
	e[0] = 2; e[1] = 10; e[2] = 0; e[3] = 0; put32(e + 4, 2); put16(e + 8, 0);
	e += 10;
	e[0] = 2; e[1] = 10; e[2] = 0; e[3] = c->sci_irq; put32(e + 4, c->sci_irq);
	put16(e + 8, 0x000d);                   /* active high, level */
	finish(t, (uint32_t)len);
	return len;
}

static void build_fadt(const struct acpitab_config *c, uint8_t *f, uint32_t facs,
		       uint32_t dsdt)
{
	uint16_t pm = c->pm_base;

	memset(f, 0, FADT_LEN);
	header(f, "FACP", FADT_LEN, 6);
	put32(f + 36, facs);
	put32(f + 40, dsdt);
	f[45] = 0;                              /* preferred PM profile: unspecified */
	put16(f + 46, c->sci_irq);
	put32(f + 48, 0);                       /* SMI_CMD: always in ACPI mode */
	put32(f + 56, pm + ACPIPM_PM1_STS);     /* PM1a_EVT_BLK */
	put32(f + 64, pm + ACPIPM_PM1_CNT);     /* PM1a_CNT_BLK */
	put32(f + 76, pm + ACPIPM_PM_TMR);      /* PM_TMR_BLK */
	f[88] = 4;                              /* PM1_EVT_LEN */
	f[89] = 2;                              /* PM1_CNT_LEN */
	f[91] = 4;                              /* PM_TMR_LEN */
	put16(f + 96, 101);                     /* P_LVL2_LAT > 100: no C2 */
	put16(f + 98, 1001);                    /* P_LVL3_LAT > 1000: no C3 */
	/* IAPC_BOOT_ARCH: legacy devices (UART, PIT, PIC, RTC); no 8042,
	 * no VGA, no MSI. */
	put16(f + 109, (1u << 0) | (1u << 2) | (1u << 3));
	/* Flags: WBINVD, PROC_C1, PWR_BUTTON and SLP_BUTTON (none as fixed
	 * features), TMR_VAL_EXT (a 32-bit PM timer). */
	put32(f + 112, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 8));
	f[131] = 0;                             /* FADT minor version */
	put64(f + 132, facs);                   /* X_FIRMWARE_CTRL */
	put64(f + 140, dsdt);                   /* X_DSDT */
	gas_io(f + 148, pm + ACPIPM_PM1_STS, 32, 2);
	gas_io(f + 172, pm + ACPIPM_PM1_CNT, 16, 2);
	gas_io(f + 208, pm + ACPIPM_PM_TMR, 32, 3);
	memcpy(f + 268, "ISOVISOR", 8);         /* hypervisor vendor identity */
	finish(f, FADT_LEN);
}

size_t acpitab_build(const struct acpitab_config *c, uint8_t *buf, size_t cap)
{
	uint64_t b = c->base;
	uint8_t *rsdp = buf + OFF_RSDP, *xsdt = buf + OFF_XSDT, *rsdt = buf + OFF_RSDT;
	uint8_t *facs = buf + OFF_FACS, *dsdt;
	size_t madt_len = 0, dsdt_len, off_dsdt;
	uint32_t tables[2];
	unsigned n = 0;
	struct aml a;

	if (!c->vps || c->vps > 255 || c->sci_irq > 15 || c->vmbus_irq > 15 ||
	    (b + ACPITAB_SIZE) >> 32 || (b & 15))
		return 0;
	/* The DSDT follows the MADT (whose size the VP count sets). */
	off_dsdt = c->lapic ? (OFF_MADT + MADT_LEN(c) + 15) & ~(size_t)15 : OFF_MADT;
	if (cap < off_dsdt + HDR_LEN || cap > ACPITAB_SIZE)
		return 0;
	dsdt = buf + off_dsdt;
	memset(buf, 0, off_dsdt);

	/* DSDT first: the others point at it. */
	a = (struct aml){ dsdt + HDR_LEN, 0, cap - off_dsdt - HDR_LEN, false };
	if (c->vmbus)
		build_vmbus(&a, c->vmbus_irq);
	build_s5(&a);
	if (a.overflow)
		return 0;
	dsdt_len = HDR_LEN + a.len;
	header(dsdt, "DSDT", (uint32_t)dsdt_len, 2);    /* 2: 64-bit integers */
	finish(dsdt, (uint32_t)dsdt_len);

	memcpy(facs, "FACS", 4);
	put32(facs + 4, FACS_LEN);
	facs[32] = 2;                                   /* version */

	build_fadt(c, buf + OFF_FADT, (uint32_t)(b + OFF_FACS), (uint32_t)(b + off_dsdt));
	tables[n++] = (uint32_t)(b + OFF_FADT);
	if (c->lapic) {
		madt_len = build_madt(c, buf + OFF_MADT, off_dsdt - OFF_MADT);
		if (!madt_len)
			return 0;
		tables[n++] = (uint32_t)(b + OFF_MADT);
	}

	header(xsdt, "XSDT", HDR_LEN + 8 * n, 1);
	header(rsdt, "RSDT", HDR_LEN + 4 * n, 1);
	for (unsigned i = 0; i < n; i++) {
		put64(xsdt + HDR_LEN + 8 * i, tables[i]);
		put32(rsdt + HDR_LEN + 4 * i, tables[i]);
	}
	finish(xsdt, HDR_LEN + 8 * n);
	finish(rsdt, HDR_LEN + 4 * n);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "ISOVSR", 6);
	rsdp[15] = 2;                                   /* revision: ACPI 2.0+ */
	put32(rsdp + 16, (uint32_t)(b + OFF_RSDT));
	put32(rsdp + 20, 36);
	put64(rsdp + 24, b + OFF_XSDT);
	rsdp[8] = checksum(rsdp, 20);
	rsdp[32] = checksum(rsdp, 36);
	return off_dsdt + dsdt_len;
}
