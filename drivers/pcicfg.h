/*
 * PCI configuration mechanism #1 for an honest emulated bus: CONFIG_ADDRESS
 * at 0xcf8 (dword accesses only), CONFIG_DATA at 0xcfc-0xcff (byte, word
 * or dword at any offset that fits). Only registered functions exist on
 * bus 0: configuration reads of any other bus, device or function return
 * all ones (a master abort), writes to them are dropped; with the enable
 * bit (31) of CONFIG_ADDRESS clear, data accesses go nowhere either. The
 * address register's reserved bits (30-24, 1-0) read back as zero.
 *
 * A function is 256 bytes of configuration space and a write mask: a
 * written bit lands only where the mask has a one, so ids, class and the
 * other read-only fields stay. In the status register (0x06-0x07) the
 * mask's bits are write-one-to-clear, as PCI defines them. BAR masks come
 * from the BAR sizes alone: the address bits above the size are
 * writable, so writing all ones reads back the size mask with the type
 * bits, the way firmware and operating systems size BARs; the dword after
 * a 64-bit memory BAR is its fully writable upper half; a BAR of size 0
 * is not implemented and read-only. (Header type 0 has BARs 0-5, type 1
 * BARs 0-1; elsewhere the caller's mask rules.)
 *
 * pcicfg_init() puts an Intel 440FX-like host bridge (8086:1237, class
 * 06 00 00) at 00:00.0.
 */
#ifndef DRIVERS_PCICFG_H
#define DRIVERS_PCICFG_H

#include <stdbool.h>
#include <stdint.h>
#include "platform.h"

#define PCICFG_PORT_ADDRESS     0xcf8
#define PCICFG_PORT_DATA        0xcfc
#define PCICFG_ENABLE           0x80000000u
#define PCICFG_ADDRESS_MASK     0x80fffffcu     /* CONFIG_ADDRESS bits kept */
#define PCICFG_MAX_FUNCTIONS    16
#define PCICFG_SPACE            256

/* Configuration header offsets used here. */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION            0x08
#define PCI_CLASS_PROG          0x09
#define PCI_HEADER_TYPE         0x0e
#define PCI_BAR0                0x10
#define PCI_INTERRUPT_LINE      0x3c

#define PCI_BAR_IO              0x01
#define PCI_BAR_MEM_TYPE_MASK   0x06
#define PCI_BAR_MEM_64          0x04

struct pcicfg_function {
	bool present;
	uint8_t dev, fn;
	uint8_t config[PCICFG_SPACE];
	uint8_t wmask[PCICFG_SPACE];    /* BAR bytes derived from their sizes */
};

struct pcicfg {
	const struct platform *p;
	uint32_t address;               /* CONFIG_ADDRESS, reserved bits 0 */
	struct pcicfg_function fn[PCICFG_MAX_FUNCTIONS];

	uint64_t master_aborts;         /* accesses to functions not present */
	uint64_t rejected;              /* guest inputs logged as bad */
};

/* An empty bus 0 but for the host bridge at 00:00.0. */
void pcicfg_init(struct pcicfg *c, const struct platform *p);

/*
 * Register function `fn` of device `dev` on bus 0 with its configuration
 * space and write mask (both copied). bar_sizes[i] is the size of BAR i:
 * 0 for none, else a power of two, at least 16 for memory and 4 to 256
 * for I/O (bit 0 of the BAR in `config`); address bits below the size in
 * `config` are cleared. A 64-bit memory BAR uses the next slot as its
 * upper half (give it size 0). bar_sizes may be NULL (no BARs). Returns
 * 0, or -1 for a bad argument (a bad size, a BAR the header type does not
 * have), a slot already taken, or a full table.
 */
int pcicfg_add_device(struct pcicfg *c, uint8_t dev, uint8_t fn,
		      const uint8_t config[256],
		      const uint8_t writable_mask[256],
		      const uint32_t bar_sizes[6]);

/*
 * One guest port access. Dword accesses to 0xcf8 and any access within
 * 0xcfc-0xcff are the model's (size 1, 2 or 4; bytes past 0xcff read
 * 0xff); byte and word accesses to 0xcf8-0xcfb are not (on a PIIX, 0xcf9
 * is the reset control register): they return false with *value
 * untouched, as does any other port. Reads store the result zero-extended
 * from `size` bytes.
 */
bool pcicfg_io(struct pcicfg *c, uint16_t port, unsigned size, bool write,
	       uint32_t *value);

#endif
