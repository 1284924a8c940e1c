/*
 * An I/O APIC (Intel 82093AA datasheet; what ACPI's MADT and every PC OS
 * since the late 1990s expect): 24 redirection entries behind the
 * IOREGSEL/IOWIN window at 0xfec00000, edge and level triggered inputs,
 * active high or low, remote IRR until the local APIC's EOI of a
 * level-triggered vector comes back (ioapic_eoi).
 *
 * Wiring, as on a PC and as the child's MADT says (drivers/acpitab.c):
 * ISA IRQ n reaches pin n, except the PIT's IRQ 0 which reaches pin 2;
 * pins 16-23 are free. What a pin's entry asks for goes out through
 * `deliver` (the partition's local APICs are the hypervisor's: the call
 * is HvCallAssertVirtualInterrupt in the microkernelized design).
 *
 * Every MMIO access is guest input: only 32-bit accesses to IOREGSEL and
 * IOWIN exist; other offsets and sizes read 0 and are dropped (logged),
 * read-only bits (delivery status, remote IRR, VER, ARB) keep their value.
 */
#ifndef DRIVERS_IOAPIC_H
#define DRIVERS_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>
#include "platform.h"

#define IOAPIC_BASE     0xfec00000ull
#define IOAPIC_SIZE     0x1000u
#define IOAPIC_PINS     24
#define IOAPIC_REGSEL   0x00
#define IOAPIC_WINDOW   0x10
#define IOAPIC_REG_ID   0x00
#define IOAPIC_REG_VER  0x01
#define IOAPIC_REG_ARB  0x02
#define IOAPIC_REG_REDIR 0x10           /* + 2 * pin: low half; + 1: high */
#define IOAPIC_VERSION  0x00170020u     /* 24 entries, version 0x20 */

#define IOAPIC_RTE_MASKED     (1ull << 16)
#define IOAPIC_RTE_LEVEL      (1ull << 15)
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define IOAPIC_RTE_ACTIVE_LOW (1ull << 13)
#define IOAPIC_RTE_LOGICAL    (1ull << 11)

/* One interrupt as a redirection entry describes it: to the local APIC(s)
 * `dest` (8 bits of entry bits 63:56) in physical or logical mode, with
 * delivery mode 0 fixed, 1 lowest priority, 4 NMI, 7 ExtINT. 0 when it
 * was delivered, -1 when nobody took it. */
typedef int (*ioapic_deliver_fn)(void *ctx, uint8_t vector, uint8_t mode, bool logical,
				 uint8_t dest, bool level);

struct ioapic {
	const struct platform *plat;
	ioapic_deliver_fn deliver;
	void *ctx;
	uint8_t id;
	uint32_t regsel;
	uint64_t rte[IOAPIC_PINS];
	uint32_t lines;                 /* input levels as wired (before polarity) */
	uint64_t delivered, refused, eois;
};

/* Reset: every entry masked, edge, vector 0; `id` its APIC id. */
void ioapic_init(struct ioapic *io, const struct platform *plat, uint8_t id,
		 ioapic_deliver_fn deliver, void *ctx);
/* A guest's access at `offset` into the 4 KiB window: true when it is
 * ours (always, inside the window). */
bool ioapic_mmio(struct ioapic *io, uint32_t offset, unsigned size, bool write,
		 uint32_t *value);
/* Input `pin` goes to `level` (edge devices pulse high then low). */
void ioapic_set_pin(struct ioapic *io, unsigned pin, bool level);
/* The pin an ISA IRQ is wired to (IRQ 0 -> 2; IRQ 2 is the 8259's
 * cascade, wired to nothing); -1 for none. */
int ioapic_isa_pin(unsigned irq);
/* The local APIC ended level-triggered `vector`: pins waiting on it get
 * their remote IRR cleared, and a line still asserted fires again. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

#endif
