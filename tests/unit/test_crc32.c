/* Host tests for kernel/lib/crc32.c: the standard check value, and the
 * same CRC as a plain bitwise one for every length, alignment and split
 * into pieces. */
#include <string.h>
#include "check.h"
#include "crc32.h"

static uint32_t bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
	}
	return ~crc;
}

int main(void)
{
	static uint8_t buf[4096 + 16];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned bad = 0, splits_bad = 0;

	CHECK(crc32_sliced(0, "123456789", 9) == 0xcbf43926u,
	      "the check value of \"123456789\" is 0xcbf43926 (got %#x)",
	      crc32_sliced(0, "123456789", 9));
	CHECK(crc32_sliced(0, "", 0) == 0, "nothing: 0");
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 300; len++)
			if (crc32_sliced(0, buf + off, len) != bitwise(0, buf + off, len))
				bad++;
	CHECK(!bad, "every length 0..300 at every alignment 0..7 as the bitwise CRC "
	      "(%u differ)", bad);
	CHECK(crc32_sliced(0, buf + 3, 4096) == bitwise(0, buf + 3, 4096),
	      "4096 unaligned bytes as the bitwise CRC");
	for (size_t cut = 0; cut <= 1500; cut += 7) {
		uint32_t c = crc32_sliced(crc32_sliced(0, buf, cut), buf + cut, 1500 - cut);

		if (c != bitwise(0, buf, 1500))
			splits_bad++;
	}
	CHECK(!splits_bad, "1500 bytes in two pieces, cut anywhere, as in one (%u differ)",
	      splits_bad);
	return done_testing();
}
