/*
 * PCI configuration mechanism #1, for whichever image owns the PCI ports
 * on this machine: the root (microkernelized design, natively too) or
 * the hypervisor (monolithic design, and its boot-time BAR scan). Not
 * for guests: the legacy guest tests mechanism #1 itself.
 */
#include <isovisor/x86.h>
#include "pci.h"

#define PCI_ADDR_PORT   0xcf8
#define PCI_DATA_PORT   0xcfc

static void pci_select(uint32_t bdf, uint32_t off)
{
	outl(PCI_ADDR_PORT, 0x80000000u | (bdf & 0xffff) << 8 | (off & 0xfc));
}

uint32_t pci_cfg_read32(uint32_t bdf, uint32_t off)
{
	pci_select(bdf, off);
	return inl(PCI_DATA_PORT);
}

void pci_cfg_write32(uint32_t bdf, uint32_t off, uint32_t v)
{
	pci_select(bdf, off);
	outl(PCI_DATA_PORT, v);
}
