/*
 * Host tests of the freestanding copies and fills (kernel/lib/string.c,
 * REP MOVSQ/STOSQ with byte tails; memmove's backward path by hand),
 * built under other names beside the host's own: every length 0..300 at
 * every alignment 0..15 of source and destination, and every length up to
 * 4097 (a page and a byte) at a few alignments, against a byte-wise
 * model, with guard bytes either side that must not change; overlapping
 * moves both ways at every distance 1..40 up to 200 bytes, and at every
 * length up to 4097 at distances from 1 to past the length.
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

#define MAX_LEN 4097u
#define GUARD 32u
#define SPAN (2 * MAX_LEN + 2 * GUARD + 16)

static uint8_t src[SPAN], dst[SPAN], model[SPAN], ref[SPAN];

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

static unsigned bad_cpy, bad_set, bad_fwd, bad_back, bad_ret;

/* memcpy then memset of len bytes at source offset so and destination
 * offset d_off, inside a window with GUARD bytes either side. */
static void copy_and_fill(unsigned len, unsigned so, unsigned d_off)
{
	size_t win = GUARD + 16 + len + GUARD;
	uint8_t *d = dst + GUARD + d_off;

	fill(src, win, len + so);
	fill(dst, win, 7 * len + d_off + 1);
	memcpy(model, dst, win);
	for (unsigned i = 0; i < len; i++)
		model[GUARD + d_off + i] = src[GUARD + so + i];
	bad_ret += k_memcpy(d, src + GUARD + so, len) != d;
	bad_cpy += !same(dst, model, win);

	memcpy(model, dst, win);
	for (unsigned i = 0; i < len; i++)
		model[GUARD + d_off + i] = (uint8_t)(0xa5 ^ so);
	bad_ret += k_memset(d, (0xa5 ^ (int)so) | 0x100, len) != d;
	bad_set += !same(dst, model, win);
}

/* len bytes moved over themselves by dist, down (dst below src) and up,
 * against the host's memmove; base offsets the pair's alignment. */
static void overlap(unsigned len, unsigned dist, unsigned base)
{
	size_t win = GUARD + base + dist + len + GUARD;
	uint8_t *lo = dst + GUARD + base;

	fill(dst, win, len ^ dist);
	memcpy(ref, dst, win);
	memmove(ref + GUARD + base, ref + GUARD + base + dist, len);
	bad_ret += k_memmove(lo, lo + dist, len) != lo;
	bad_fwd += !same(dst, ref, win);

	fill(dst, win, len ^ dist ^ 0x55);
	memcpy(ref, dst, win);
	memmove(ref + GUARD + base + dist, ref + GUARD + base, len);
	bad_ret += k_memmove(lo + dist, lo, len) != lo + dist;
	bad_back += !same(dst, ref, win);
}

int main(void)
{
	static const unsigned align[][2] = { { 0, 0 }, { 1, 0 }, { 0, 7 }, { 8, 8 }, { 15, 3 } };
	static const unsigned dists[] = { 1, 7, 8, 9, 64, 4095 };

	for (unsigned len = 0; len <= 300; len++)
		for (unsigned so = 0; so < 16; so++)
			for (unsigned d_off = 0; d_off < 16; d_off++)
				copy_and_fill(len, so, d_off);
	for (unsigned len = 301; len <= MAX_LEN; len++)
		for (unsigned a = 0; a < sizeof(align) / sizeof(align[0]); a++)
			copy_and_fill(len, align[a][0], align[a][1]);
	CHECK(bad_cpy == 0, "memcpy: lengths 0-300 at every alignment, 301-4097 at 5, guards "
	      "intact (%u wrong)", bad_cpy);
	CHECK(bad_set == 0, "memset: the same, the value's low byte only (%u wrong)", bad_set);

	/* Overlapping moves: dst below src (forward) and above (backward). */
	for (unsigned len = 0; len <= 200; len++)
		for (unsigned dist = 1; dist <= 40; dist++)
			overlap(len, dist, 0);
	for (unsigned len = 0; len <= MAX_LEN; len++) {
		for (unsigned i = 0; i < sizeof(dists) / sizeof(dists[0]); i++)
			overlap(len, dists[i], i % 2 ? 3 : 0);
		if (len > 1)
			overlap(len, len - 1, 5);       /* one byte shared */
		overlap(len, len / 2 + 1, 1);
	}
	CHECK(bad_fwd == 0, "memmove down over itself: distances 1-40 up to 200 bytes, six "
	      "distances and len-1, len/2+1 at every length to 4097 (%u wrong)", bad_fwd);
	CHECK(bad_back == 0, "memmove up over itself, the same (%u wrong)", bad_back);
	CHECK(bad_ret == 0, "memcpy, memset and memmove return their destination (%u wrong)",
	      bad_ret);
	CHECK(k_memcmp("abc", "abd", 3) < 0 && k_memcmp("abc", "abc", 3) == 0 &&
	      k_strlen("isovisor") == 8 && k_strcmp("a", "b") < 0,
	      "memcmp, strlen and strcmp still answer as before");
	return done_testing();
}
