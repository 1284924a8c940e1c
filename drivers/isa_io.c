/* ISA byte-lane splitting; see isa_io.h. */
#include "isa_io.h"

bool isa_split_io(void *dev, bool (*owns)(uint16_t port),
		  void (*byte_io)(void *dev, uint16_t port, bool write, uint8_t *b),
		  uint16_t port, unsigned size, bool write, uint32_t *value)
{
	uint32_t result = 0;

	if (size != 1 && size != 2 && size != 4) {
		if (!write)
			*value = 0xffffffff;
		return false;
	}
	for (unsigned i = 0; i < size; i++) {
		uint16_t p = (uint16_t)(port + i);
		uint8_t b = write ? (uint8_t)(*value >> (8 * i)) : 0xff;

		if (owns(p))
			byte_io(dev, p, write, &b);
		result |= (uint32_t)b << (8 * i);
	}
	if (!write)
		*value = result;
	return true;
}
