/*
 * PCI configuration mechanism #1: a dword write of the enable bit, bus,
 * device, function and register to CONFIG_ADDRESS (0xcf8), then a dword
 * read of CONFIG_DATA (0xcfc). A function that does not exist ends the
 * read in a master abort, which returns all ones.
 */
#include "legacy.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc
#define PCI_ENABLE         0x80000000u

uint32_t pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	outl(PCI_CONFIG_ADDRESS, PCI_ENABLE | (bus & 0xff) << 16 |
	     (dev & 0x1f) << 11 | (fn & 7) << 8 | (off & 0xfc));
	return inl(PCI_CONFIG_DATA);
}

/* The classic probe (as Linux's pci_check_type1): CONFIG_ADDRESS is a
 * register that holds what a dword write put there. */
bool pci_mech1_present(void)
{
	uint32_t saved = inl(PCI_CONFIG_ADDRESS), back;

	outl(PCI_CONFIG_ADDRESS, PCI_ENABLE);
	back = inl(PCI_CONFIG_ADDRESS);
	outl(PCI_CONFIG_ADDRESS, saved);
	return back == PCI_ENABLE;
}
