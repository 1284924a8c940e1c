/*
 * PCI enumeration for the physical device drivers, and the hooks through
 * which every one of them reaches its hardware (struct vblk_hw, named
 * for its first user). Portable: configuration space is read through the
 * image's hook, so the walk also builds and is tested on the host.
 *
 * pcienum_scan() walks the machine as an OS does, without writing
 * anything: bus 0, every device and, when function 0 says
 * multi-function, its other functions; behind every PCI-to-PCI bridge
 * or PCIe root/switch port (header type 1) the secondary bus the
 * firmware assigned. The result is a table of the functions found that
 * drivers query by id list or by class. Configuration space is not
 * trusted to be sane: a bridge is followed only to a bus above its own,
 * not yet scanned, inside the bus range its parent forwards, and no
 * deeper than PCIENUM_DEPTH_MAX, so all-ones, loops and bridges pointing
 * back cost a bounded number of reads and nothing else.
 */
#ifndef DRIVERS_PCIENUM_H
#define DRIVERS_PCIENUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* bdf = bus << 8 | device << 3 | function. */
struct vblk_hw {
	void *ctx;
	uint32_t (*pci_read32)(void *ctx, uint32_t bdf, uint32_t off);
	void (*pci_write32)(void *ctx, uint32_t bdf, uint32_t off, uint32_t v);
	/* A CPU pointer to [phys, phys+len) of device memory, or NULL. */
	void *(*map_bar)(void *ctx, uint64_t phys, uint64_t len);
	/* Zeroed, physically contiguous, page-aligned memory the device
	 * can reach at *phys; NULL when none is left. */
	void *(*dma_alloc)(void *ctx, size_t bytes, uint64_t *phys);
	/* Optional, both or neither: the MSI message (address, data) that
	 * interrupts this CPU, and a wait until an interrupt may have come
	 * (HLT with interrupts on). Without them requests are polled. */
	bool (*msi_message)(void *ctx, uint64_t *addr, uint32_t *data);
	void (*wait_irq)(void *ctx);
};

#define PCIENUM_DEVS_MAX        64      /* functions the table holds */
#define PCIENUM_BUSES_MAX       64      /* buses scanned at most */
#define PCIENUM_DEPTH_MAX       8       /* bridges between bus 0 and a bus */

/* Configuration space offsets the walk and the drivers share. */
#define PCI_CFG_ID              0x00    /* vendor 15:0, device 31:16 */
#define PCI_CFG_COMMAND         0x04    /* command 15:0, status 31:16 */
#define PCI_CFG_CLASS           0x08    /* revision 7:0, class code 31:8 */
#define PCI_CFG_HEADER          0x0c    /* header type in bits 23:16 */
#define PCI_CFG_BAR0            0x10
#define PCI_CFG_BRIDGE_BUSES    0x18    /* type 1: primary, secondary, subordinate */
#define PCI_CFG_SUBSYSTEM       0x2c    /* type 0: vendor 15:0, id 31:16 */
#define PCI_CFG_CAP_PTR         0x34
#define PCI_HDR_MULTIFUNCTION   0x80
#define PCI_HDR_TYPE_MASK       0x7f
#define PCI_HDR_TYPE_BRIDGE     0x01
#define PCI_BARS                6

/* One function found. */
struct pcienum_dev {
	uint16_t vendor, device;
	uint32_t class;                 /* base << 16 | subclass << 8 | prog-if */
	uint16_t bdf;
	uint8_t header;                 /* header type byte, multi-function bit kept */
	uint8_t revision;
	uint16_t subsys_vendor, subsys; /* header type 0 only, else 0 */
	uint8_t secondary;              /* a bridge followed: its bus; else 0 */
	uint8_t depth;                  /* bridges above it */
};

struct pcienum {
	struct pcienum_dev dev[PCIENUM_DEVS_MAX];
	unsigned count;                 /* entries in dev[] */
	unsigned dropped;               /* functions found with dev[] full */
	unsigned buses;                 /* buses scanned, bus 0 included */
	unsigned bridges_refused;       /* bridges whose bus was not followed */
	uint32_t visited[256 / 32];     /* buses scanned, as a bitmap */
};

/* A vendor:device pair a driver takes. */
struct pci_id {
	uint16_t vendor, device;
};

/* Walk every bus reachable from bus 0 (see the file comment) into `e`.
 * Only hw->pci_read32 is used. */
void pcienum_scan(struct pcienum *e, const struct vblk_hw *hw);

/* The index of the first entry at or after `from` whose vendor:device
 * is one of ids[0..nids), or -1. */
int pcienum_find(const struct pcienum *e, const struct pci_id *ids, unsigned nids, int from);

/* The same for the class code: (class & mask) == want, e.g. want
 * 0x010000, mask 0xff0000 for every mass-storage controller. */
int pcienum_find_class(const struct pcienum *e, uint32_t want, uint32_t mask, int from);

/* A base address register as the firmware assigned it. */
struct pci_bar {
	uint64_t base;                  /* 0: unassigned */
	bool io;                        /* I/O space (base is a port) */
	bool mem64;                     /* 64-bit: BAR index + 1 is its high half */
	bool prefetchable;
};

/* BAR `index` (0..5) of the type 0 function at `bdf`: 0, or -1 when the
 * index is out of range, the register reads all-ones (no device), its
 * memory type is the reserved one, or it claims 64 bits in BAR 5. */
int pcienum_bar(const struct vblk_hw *hw, uint32_t bdf, unsigned index, struct pci_bar *bar);

#endif
