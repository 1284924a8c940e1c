/*
 * A child partition's ACPI tables, built by the control function into a
 * buffer that is copied to guest physical address `base` (below 1 MiB, so
 * that an OS's scan of 0xE0000-0xFFFFF finds the RSDP as well as the boot
 * protocol's pointer does):
 *
 *   base + 0x000  RSDP (revision 2: RSDT and XSDT)
 *   base + 0x040  XSDT -> FADT (and MADT when asked)
 *   base + 0x080  RSDT, the same in 32 bits
 *   base + 0x0c0  FACS (64-byte aligned)
 *   base + 0x100  FADT, revision 6 (not hardware-reduced: a PM1a event and
 *                 control block and a 32-bit PM timer in port space,
 *                 SCI_INT, SMI_CMD 0: always in ACPI mode)
 *   base + 0x220  MADT, only with `lapic` (8 bytes per VP; with `ioapic`
 *                 the I/O APIC and the ISA overrides too)
 *   then          DSDT (16-byte aligned)
 *
 * The DSDT, as ASL:
 *   Scope (\_SB) {
 *     Device (VMOD) {                  // Hyper-V's module device
 *       Name (_HID, "ACPI0004")
 *       Device (VMBS) {                // what Linux's hv_vmbus binds to
 *         Name (_HID, "VMBUS")
 *         Name (_UID, Zero)
 *         Name (_CRS, ResourceTemplate () { IRQNoFlags () {vmbus_irq} })
 *       }
 *     }
 *   }
 *   Name (\_S5, Package () { 5, 5, 0, 0 })   // ACPIPM_SLP_TYP_S5
 * (the VMBus devices only with `vmbus`). The PM block's registers are
 * drivers/acpipm.h's.
 */
#ifndef DRIVERS_ACPITAB_H
#define DRIVERS_ACPITAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPITAB_BASE    0xe0000u        /* where partmgr puts them */
#define ACPITAB_SIZE    0x1000u         /* room they may take */

struct acpitab_config {
	uint64_t base;                  /* GPA of the blob; RSDP first */
	unsigned vps;                   /* processors (MADT) */
	bool lapic;                     /* a MADT: local APICs... */
	bool ioapic;                    /* ...and an I/O APIC at 0xfec00000 */
	bool vmbus;                     /* the VMBus device in the DSDT */
	uint16_t pm_base;               /* the PM block (acpipm.h) */
	uint8_t sci_irq;
	uint8_t vmbus_irq;
};

/* Bytes used (the RSDP at offset 0), or 0 if `cap` is too small (or
 * above ACPITAB_SIZE, the room the caller's layout has) or the
 * config is out of range (no base below 4 GiB, vps 0 or > 255, IRQs
 * above 15). */
size_t acpitab_build(const struct acpitab_config *c, uint8_t *buf, size_t cap);

#endif
