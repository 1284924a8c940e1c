/*
 * Devices of 8-bit registers on the ISA bus (PIT, PIC, RTC): the bus
 * splits a 16- or 32-bit access into byte accesses of consecutive ports,
 * and a byte no device drives floats high (0xff).
 */
#ifndef DRIVERS_ISA_IO_H
#define DRIVERS_ISA_IO_H

#include <stdbool.h>
#include <stdint.h>

/* Split an access of `size` (1, 2 or 4) bytes at `port` into byte_io()
 * calls for the ports owns() claims. False, with a read giving all ones,
 * for any other size: the caller logs the rejected access. */
bool isa_split_io(void *dev, bool (*owns)(uint16_t port),
		  void (*byte_io)(void *dev, uint16_t port, bool write, uint8_t *b),
		  uint16_t port, unsigned size, bool write, uint32_t *value);

#endif
