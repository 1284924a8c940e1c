/*
 * ACPI table layouts (ACPI 6.x): RSDP, the SDT header, RSDT/XSDT, MADT and
 * the parts of the FADT the hypervisor uses (power-off).
 */
#ifndef ISOVISOR_ACPI_H
#define ISOVISOR_ACPI_H

#include <stdint.h>

struct acpi_rsdp {
	char signature[8];              /* "RSD PTR " */
	uint8_t checksum;               /* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision;               /* 0: ACPI 1.0, 2: 2.0+ */
	uint32_t rsdt_address;
	/* revision >= 2 */
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;      /* over `length` bytes */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_madt {
	struct acpi_sdt_header header;
	uint32_t local_apic_address;
	uint32_t flags;
	uint8_t entries[];
} __attribute__((packed));

#define ACPI_MADT_LOCAL_APIC            0
#define ACPI_MADT_IO_APIC               1
#define ACPI_MADT_INTERRUPT_OVERRIDE    2
#define ACPI_MADT_LOCAL_APIC_NMI        4
#define ACPI_MADT_LOCAL_APIC_OVERRIDE   5
#define ACPI_MADT_LOCAL_X2APIC          9

#define ACPI_MADT_ENABLED               (1u << 0)
#define ACPI_MADT_ONLINE_CAPABLE        (1u << 1)

struct acpi_madt_entry {
	uint8_t type;
	uint8_t length;
} __attribute__((packed));

struct acpi_madt_local_apic {
	uint8_t type;
	uint8_t length;
	uint8_t processor_id;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct acpi_madt_io_apic {
	uint8_t type;
	uint8_t length;
	uint8_t io_apic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct acpi_madt_local_apic_override {
	uint8_t type;
	uint8_t length;
	uint16_t reserved;
	uint64_t address;
} __attribute__((packed));

struct acpi_madt_local_x2apic {
	uint8_t type;
	uint8_t length;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t uid;
} __attribute__((packed));

struct acpi_gas {                   /* generic address structure */
	uint8_t space_id;               /* 0 memory, 1 system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

/* The FADT up to the 64-bit extended fields; older FADTs are shorter. */
struct acpi_fadt {
	struct acpi_sdt_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t fadt_minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_rsdp) == 36, "rsdp");
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "sdt header");
_Static_assert(sizeof(struct acpi_madt) == 44, "madt");
_Static_assert(sizeof(struct acpi_madt_local_apic) == 8, "madt lapic");
_Static_assert(sizeof(struct acpi_madt_local_x2apic) == 16, "madt x2apic");
_Static_assert(sizeof(struct acpi_gas) == 12, "gas");
_Static_assert(__builtin_offsetof(struct acpi_fadt, pm1a_cnt_blk) == 64, "fadt pm1a");
_Static_assert(__builtin_offsetof(struct acpi_fadt, x_dsdt) == 140, "fadt x_dsdt");
_Static_assert(sizeof(struct acpi_fadt) == 196, "fadt");

#endif
