/*
 * Host tests of the freestanding copies and fills (kernel/lib/string.c,
 * REP MOVSQ/STOSQ with byte tails; memmove's backward path by hand),
 * built under other names beside the host's own: every length 0..300 at
 * every alignment 0..15 of source and destination, against a byte-wise
 * model, with guard bytes either side that must not change; overlapping
 * moves both ways at every distance 1..40.
 */
#include <stdint.h>
#include <string.h>
#include "check.h"

#define memcpy k_memcpy
#define memmove k_memmove
#define memset k_memset
#define memcmp k_memcmp
#define strlen k_strlen
#define strnlen k_strnlen
#define strcmp k_strcmp
#define strncmp k_strncmp
#define strchr k_strchr
#include "../../kernel/lib/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr

#define SPAN 400
#define GUARD 32

static uint8_t src[SPAN], dst[SPAN], model[SPAN];

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 3));
}

static bool same(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

int main(void)
{
	unsigned bad_cpy = 0, bad_set = 0, bad_fwd = 0, bad_back = 0, bad_ret = 0;

	for (unsigned len = 0; len <= 300; len++)
		for (unsigned so = 0; so < 16; so++)
			for (unsigned d_off = 0; d_off < 16; d_off++) {
				uint8_t *d = dst + GUARD + d_off;

				fill(src, SPAN, len + so);
				fill(dst, SPAN, 7 * len + d_off + 1);
				memcpy(model, dst, SPAN);
				for (unsigned i = 0; i < len; i++)
					model[GUARD + d_off + i] = src[GUARD + so + i];
				bad_ret += k_memcpy(d, src + GUARD + so, len) != d;
				bad_cpy += !same(dst, model, SPAN);

				memcpy(model, dst, SPAN);
				for (unsigned i = 0; i < len; i++)
					model[GUARD + d_off + i] = (uint8_t)(0xa5 ^ so);
				bad_ret += k_memset(d, (0xa5 ^ (int)so) | 0x100, len) != d;
				bad_set += !same(dst, model, SPAN);
			}
	CHECK(bad_cpy == 0, "memcpy: lengths 0-300 at every alignment, guards intact "
	      "(%u wrong)", bad_cpy);
	CHECK(bad_set == 0, "memset: the same, the value's low byte only (%u wrong)", bad_set);
	CHECK(bad_ret == 0, "memcpy and memset return their destination");

	/* Overlapping moves: dst below src (forward) and above (backward). */
	for (unsigned len = 0; len <= 200; len++)
		for (unsigned dist = 1; dist <= 40; dist++) {
			uint8_t ref[SPAN];

			fill(dst, SPAN, len ^ dist);
			memcpy(ref, dst, SPAN);
			memmove(ref + GUARD, ref + GUARD + dist, len);
			k_memmove(dst + GUARD, dst + GUARD + dist, len);
			bad_fwd += !same(dst, ref, SPAN);

			fill(dst, SPAN, len ^ dist ^ 0x55);
			memcpy(ref, dst, SPAN);
			memmove(ref + GUARD + dist, ref + GUARD, len);
			bad_back += k_memmove(dst + GUARD + dist, dst + GUARD, len) !=
				    dst + GUARD + dist;
			bad_back += !same(dst, ref, SPAN);
		}
	CHECK(bad_fwd == 0, "memmove down over itself, distances 1-40 (%u wrong)", bad_fwd);
	CHECK(bad_back == 0, "memmove up over itself, distances 1-40 (%u wrong)", bad_back);
	CHECK(k_memcmp("abc", "abd", 3) < 0 && k_memcmp("abc", "abc", 3) == 0 &&
	      k_strlen("isovisor") == 8 && k_strcmp("a", "b") < 0,
	      "memcmp, strlen and strcmp still answer as before");
	return done_testing();
}
