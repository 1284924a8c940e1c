/*
 * CRC-32 by slicing by 8 (see crc32.h). Table k holds the CRC of a byte
 * followed by k zero bytes, so eight table lookups advance the CRC over
 * eight bytes at once; the head and the tail go a byte at a time.
 */
#include <string.h>
#include "crc32.h"

static uint32_t table[8][256];
static int ready;

static void init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++)
		for (int k = 1; k < 8; k++)
			table[k][n] = table[0][table[k - 1][n] & 0xff] ^ (table[k - 1][n] >> 8);
	ready = 1;
}

uint32_t crc32_sliced(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!ready)
		init();
	crc = ~crc;
	for (; len && ((uintptr_t)p & 7); len--)
		crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo, hi;

		/* __builtin_memcpy: inline loads even under -fno-builtin. */
		__builtin_memcpy(&lo, p, 4);
		__builtin_memcpy(&hi, p + 4, 4);
		/* Little-endian words: the first byte in the low bits. */
		lo ^= crc;
		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
		      table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
		      table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
		      table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
	}
	while (len--)
		crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
