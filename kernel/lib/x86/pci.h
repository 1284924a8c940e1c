/* PCI configuration mechanism #1 (ports 0xcf8/0xcfc): see pci.c. */
#ifndef KLIB_X86_PCI_H
#define KLIB_X86_PCI_H

#include <stdint.h>

/* bdf = bus << 8 | device << 3 | function; off is dword aligned down. */
uint32_t pci_cfg_read32(uint32_t bdf, uint32_t off);
void pci_cfg_write32(uint32_t bdf, uint32_t off, uint32_t v);

#endif
