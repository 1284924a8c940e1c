/*
 * ACPI table walking: RSDP -> RSDT/XSDT -> MADT/FADT/DSDT, every table's
 * length and checksum checked before use. Physical memory is reached only
 * through the caller's map function, so the same code runs in the
 * hypervisor (identity map), the root kernel, and host unit tests (a fake
 * physical memory).
 */
#ifndef KLIB_ACPI_H
#define KLIB_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS 256
#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_TABLE_LEN (16u << 20)

/* Returns a pointer through which `len` bytes at physical `phys` can be
 * read, or NULL when that range is not readable. */
typedef const void *(*acpi_map_fn)(uint64_t phys, size_t len, void *ctx);

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t uid;                   /* ACPI processor id / uid */
};

struct acpi_ioapic {
	uint32_t id;
	uint32_t address;
	uint32_t gsi_base;
};

struct acpi_info {
	uint8_t revision;               /* of the RSDP */
	bool xsdt;                      /* tables found through the XSDT */
	uint64_t lapic_address;         /* MADT, or its 64-bit override */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	unsigned cpu_count;             /* enabled CPUs only */
	unsigned cpu_disabled;          /* entries neither enabled nor online-capable */
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned ioapic_count;
	bool have_fadt;
	uint32_t pm1a_cnt;              /* I/O ports, 0 when absent */
	uint32_t pm1b_cnt;
	uint32_t pm_tmr;
	bool pm_tmr_32bit;
	bool have_s5;                   /* \_S5 package found in the DSDT */
	uint8_t slp_typa;
	uint8_t slp_typb;
	bool reset_reg_io;              /* FADT reset register in I/O space */
	uint16_t reset_port;
	uint8_t reset_value;
};

/*
 * Validate the RSDP copy (`rsdp`, `len` bytes, e.g. from the multiboot2
 * tag): signature "RSD PTR ", checksum over 20 bytes, and for revision >= 2
 * length >= 36, <= len, extended checksum. Then walk the XSDT (revision >= 2
 * and a nonzero address) or the RSDT; each table's header is mapped first,
 * its length checked (>= 36, <= ACPI_MAX_TABLE_LEN), then mapped whole and
 * checksummed; a table failing that is skipped with a count in
 * bad_tables. MADT: entries walked with length >= 2 and inside the table;
 * an entry shorter than its type's fixed size is rejected. A local APIC or
 * x2APIC entry counts as a CPU when its enabled flag is set. FADT: PM1a/b
 * control and PM timer ports (X_ fields preferred when the FADT is long
 * enough and they are in I/O space), DSDT (X_DSDT preferred when nonzero),
 * reset register; DSDT: a bounded scan for the `_S5_` package.
 * Returns 0, or -1 with *err when the RSDP or the root table is bad or there
 * is no valid MADT.
 */
int acpi_parse(const void *rsdp, size_t len, acpi_map_fn map, void *ctx,
	       struct acpi_info *out, unsigned *bad_tables, const char **err);

/* acpi_parse() on the RSDP copy a multiboot2 loader handed over (the
 * ACPI 2.0+ tag preferred over the 1.0 one); -1 with *err when neither. */
struct mb2_info;
int acpi_parse_mb2(const struct mb2_info *mi, acpi_map_fn map, void *ctx,
		   struct acpi_info *out, unsigned *bad_tables, const char **err);

/* Sum of `len` bytes, mod 256 (0 for a valid ACPI table). */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
