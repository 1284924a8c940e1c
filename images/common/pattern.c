/*
 * The disk test's data: a deterministic pattern a host can recompute from
 * the seed and the LBA alone (see guest.h), and CRC-32 to compare what
 * went to the disk with what came back.
 */
#include <string.h>
#include "guest.h"

#define GOLDEN 0x9e3779b97f4a7c15ull
#define XORSHIFT_NONZERO 0x2545f4914f6cdd1dull

static uint64_t splitmix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

void pattern_sector(uint64_t seed, uint64_t lba, void *buf)
{
	uint64_t x = splitmix64(seed ^ (lba * GOLDEN));
	uint8_t *p = buf;

	if (!x)
		x = XORSHIFT_NONZERO;
	for (unsigned i = 0; i < PATTERN_SECTOR_BYTES / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		for (unsigned b = 0; b < 8; b++)
			p[i * 8 + b] = (uint8_t)(x >> (8 * b));
	}
}

static uint32_t crc_table[256];

static void crc32_table_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[n] = c;
	}
}

uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!crc_table[1])
		crc32_table_init();
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
