/*
 * Host tests for the physical page allocator (kernel/lib/pmm.c). The
 * bitmap is a heap block of exactly pmm_bitmap_bytes() so that a scan one
 * word too far is an AddressSanitizer report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "pmm.h"

#define PG 4096ull
#define MiB (1024 * 1024ull)
#define GiB (1024 * MiB)

static struct memmap mm;
static struct pmm p;
static uint64_t *bitmap;

static void setup(const uint64_t *r, unsigned n)
{
	uint64_t bytes;

	memset(&mm, 0, sizeof(mm));
	for (unsigned i = 0; i < n; i++)
		memmap_add(&mm, r[2 * i], r[2 * i + 1]);
	bytes = pmm_bitmap_bytes(&mm);
	free(bitmap);
	bitmap = malloc(bytes ? bytes : 1);
	/* Garbage in: pmm_init must clear what it does not mark free. */
	memset(bitmap, 0xff, bytes);
	pmm_init(&p, bitmap, &mm);
}

#define SETUP(...) setup((const uint64_t[]){ __VA_ARGS__ }, \
			 sizeof((const uint64_t[]){ __VA_ARGS__ }) / 16)

/* Free pages as counted from the bitmap, not from p.free_pages. */
static uint64_t count_free(void)
{
	uint64_t n = 0;

	for (uint64_t pg = 0; pg < p.npages; pg++)
		n += pmm_is_free(&p, pg * PG);
	return n;
}

static void test_bitmap_bytes(void)
{
	memset(&mm, 0, sizeof(mm));
	CHECK(pmm_bitmap_bytes(&mm) == 0, "empty map needs no bitmap");
	memmap_add(&mm, 0, 64 * PG);
	CHECK(pmm_bitmap_bytes(&mm) == 8, "64 pages: one word");
	memmap_add(&mm, 64 * PG, 65 * PG);
	CHECK(pmm_bitmap_bytes(&mm) == 16, "65 pages: two words");
	memmap_add(&mm, 1 * GiB, 4 * GiB);
	CHECK(pmm_bitmap_bytes(&mm) == 4 * GiB / PG / 8, "4 GiB: 128 KiB");
	memmap_add(&mm, 0xfffffffffff00000ull, UINT64_MAX);
	CHECK(pmm_bitmap_bytes(&mm) == (UINT64_MAX / PG) / 64 * 8 + 8,
	      "top of the address space does not overflow");
}

static void test_init(void)
{
	SETUP(0, 16 * PG, 0x20000, 0x30000);
	CHECK(p.npages == 0x30, "npages covers the top");
	CHECK(p.free_pages == 31 && count_free() == 31,
	      "free pages: both ranges minus page 0");
	CHECK(!pmm_is_free(&p, 0), "page 0 never free");
	CHECK(pmm_is_free(&p, PG) && pmm_is_free(&p, 15 * PG),
	      "pages of the first range free");
	CHECK(!pmm_is_free(&p, 16 * PG) && !pmm_is_free(&p, 0x1f000),
	      "gap between the ranges used");
	CHECK(pmm_is_free(&p, 0x2f000) && pmm_is_free(&p, 0x2f800),
	      "last page free (any address in it)");
	CHECK(!pmm_is_free(&p, 0x30000) && !pmm_is_free(&p, UINT64_MAX),
	      "past the bitmap not free");

	/* Ranges crossing word boundaries: pages 63..128 and 190..200. */
	SETUP(63 * PG, 129 * PG, 190 * PG, 201 * PG);
	CHECK(!pmm_is_free(&p, 62 * PG) && pmm_is_free(&p, 63 * PG) &&
	      pmm_is_free(&p, 64 * PG) && pmm_is_free(&p, 127 * PG) &&
	      pmm_is_free(&p, 128 * PG) && !pmm_is_free(&p, 129 * PG),
	      "range across a word boundary marked exactly");
	CHECK(!pmm_is_free(&p, 189 * PG) && pmm_is_free(&p, 190 * PG) &&
	      pmm_is_free(&p, 200 * PG) && p.npages == 201,
	      "range ending mid-word marked exactly");
	CHECK(p.free_pages == 66 + 11 && count_free() == 77,
	      "free count across words");

	/* A map that starts above page 0 has nothing to clear there. */
	SETUP(1 * MiB, 2 * MiB);
	CHECK(p.free_pages == 256 && count_free() == 256,
	      "map above 1 MiB: all its pages free");

	memset(&mm, 0, sizeof(mm));
	pmm_init(&p, NULL, &mm);
	CHECK(p.npages == 0 && p.free_pages == 0 && pmm_alloc(&p) == 0 &&
	      pmm_alloc_below(&p, 4 * GiB) == 0 &&
	      pmm_alloc_contig(&p, 1, PG) == 0 && !pmm_free(&p, PG),
	      "empty allocator refuses everything");
}

static void test_alloc(void)
{
	uint64_t a[40], got, n = 0, i, fp;
	bool distinct = true, inside = true, nonzero = true;

	SETUP(0, 16 * PG, 0x20000, 0x30000);
	while ((got = pmm_alloc(&p)) != 0 && n < 40)
		a[n++] = got;
	CHECK(n == 31, "31 pages handed out before exhaustion (%llu)",
	      (unsigned long long)n);
	CHECK(a[0] == PG && a[1] == 2 * PG, "first pages from the bottom");
	for (i = 0; i < n; i++) {
		nonzero &= a[i] != 0;
		inside &= (a[i] < 16 * PG) ||
			  (a[i] >= 0x20000 && a[i] < 0x30000);
		for (uint64_t j = 0; j < i; j++)
			distinct &= a[i] != a[j];
	}
	CHECK(nonzero && inside && distinct,
	      "pages distinct, nonzero, inside the free ranges");
	CHECK(p.free_pages == 0 && count_free() == 0, "all pages used");
	CHECK(pmm_alloc(&p) == 0, "exhausted allocator returns 0");

	/* Next fit: after a free below the cursor, the cursor wraps to it. */
	CHECK(pmm_free(&p, 5 * PG) && pmm_is_free(&p, 5 * PG) &&
	      p.free_pages == 1, "free a page");
	CHECK(pmm_alloc(&p) == 5 * PG, "freed page reused after wrap");

	SETUP(0, 64 * PG);
	a[0] = pmm_alloc(&p);
	a[1] = pmm_alloc(&p);
	pmm_free(&p, a[0]);
	CHECK(pmm_alloc(&p) == 3 * PG,
	      "next fit: continues past the cursor, not at the freed page");

	/* Double free, misaligned, out of range, page 0. */
	SETUP(0, 64 * PG);
	got = pmm_alloc(&p);
	fp = p.free_pages;
	CHECK(pmm_free(&p, got), "free an allocated page");
	CHECK(!pmm_free(&p, got) && p.free_pages == fp + 1,
	      "double free refused, count unchanged");
	got = pmm_alloc(&p);
	fp = p.free_pages;
	CHECK(!pmm_free(&p, got + 8) && !pmm_is_free(&p, got) &&
	      p.free_pages == fp, "misaligned free refused");
	CHECK(!pmm_free(&p, 64 * PG) && !pmm_free(&p, UINT64_MAX & ~(PG - 1)),
	      "free past the bitmap refused");
	CHECK(!pmm_free(&p, 0) && !pmm_is_free(&p, 0),
	      "freeing page 0 refused");
	CHECK(p.free_pages == fp && count_free() == fp,
	      "refused frees left the bitmap alone");
	/* A page outside the free ranges but inside the bitmap may be
	 * given back (e.g. boot data released later). */
	SETUP(0, 4 * PG, 8 * PG, 12 * PG);
	CHECK(pmm_free(&p, 5 * PG) && pmm_is_free(&p, 5 * PG),
	      "page in a gap can be freed into the pool");
}

static void test_alloc_below(void)
{
	uint64_t got, n = 0;

	SETUP(0, 0x9f000, 1 * MiB, 8 * MiB);
	got = pmm_alloc_below(&p, 1 * MiB);
	CHECK(got && got < 1 * MiB, "page below 1 MiB (0x%llx)",
	      (unsigned long long)got);
	while (pmm_alloc_below(&p, 1 * MiB))
		n++;
	CHECK(n == 0x9f - 2, "all low pages but page 0 handed out");
	CHECK(pmm_alloc_below(&p, 1 * MiB) == 0 && p.free_pages == 7 * 256,
	      "none left below 1 MiB, high pages untouched");
	CHECK(pmm_alloc_below(&p, 0) == 0, "limit 0 gives nothing");
	got = pmm_alloc_below(&p, 1 * MiB + PG);
	CHECK(got == 1 * MiB, "limit one page above 1 MiB");
	CHECK(pmm_alloc_below(&p, 1 * MiB + PG + 0xfff) == 0,
	      "a page straddling the limit is not below it");
	CHECK(pmm_alloc_below(&p, UINT64_MAX) == 1 * MiB + PG,
	      "limit past the top");

	SETUP(4 * GiB, 4 * GiB + 1 * MiB);
	CHECK(p.free_pages == 256, "memory above 4 GiB only");
	CHECK(pmm_alloc_below(&p, 4 * GiB) == 0, "nothing below 4 GiB");
	got = pmm_alloc(&p);
	CHECK(got >= 4 * GiB && got < 4 * GiB + 1 * MiB,
	      "pmm_alloc above 4 GiB (0x%llx)", (unsigned long long)got);
	CHECK(pmm_free(&p, got) && p.free_pages == 256, "free above 4 GiB");
}

static bool all_used(uint64_t base, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (pmm_is_free(&p, base + i * PG))
			return false;
	return true;
}

static void test_contig(void)
{
	uint64_t got, fp;

	SETUP(0, 1 * MiB);
	fp = p.free_pages;
	got = pmm_alloc_contig(&p, 4, PG);
	CHECK(got == PG && all_used(got, 4) && p.free_pages == fp - 4,
	      "4 pages, page aligned, from the bottom");
	got = pmm_alloc_contig(&p, 16, 64 * 1024);
	CHECK(got == 64 * 1024 && all_used(got, 16),
	      "16 pages, 64 KiB aligned");
	got = pmm_alloc_contig(&p, 1, 2 * MiB);
	CHECK(got == 0, "2 MiB alignment impossible under 1 MiB");
	CHECK(pmm_alloc_contig(&p, 0, PG) == 0, "n = 0 refused");
	CHECK(pmm_alloc_contig(&p, 1, 3 * PG) == 0,
	      "non-power-of-two alignment refused");
	CHECK(pmm_alloc_contig(&p, 1, 2048) == 0, "alignment below 4 KiB");
	CHECK(pmm_alloc_contig(&p, 1, 0) == 0, "alignment 0 refused");
	CHECK(pmm_alloc_contig(&p, 257, PG) == 0, "more pages than exist");
	CHECK(pmm_alloc_contig(&p, UINT64_MAX, PG) == 0, "n = 2^64-1");
	fp = p.free_pages;
	CHECK(pmm_alloc_contig(&p, 1, 1ull << 63) == 0 && p.free_pages == fp,
	      "alignment 2^63 refused without damage");

	/* A used page just past a fitting run, in the same word. */
	SETUP(0, 64 * PG);
	bitmap[0] &= ~(1ull << 6);
	p.free_pages--;
	CHECK(pmm_alloc_contig(&p, 4, PG) == PG,
	      "run right before a used page in the same word");
	CHECK(pmm_alloc_contig(&p, 2, PG) == 7 * PG,
	      "run after the used page");

	/* Holes: a used page in the middle of the only long run. */
	SETUP(0, 256 * PG);
	pmm_alloc_below(&p, 0x100000);        /* page 1 */
	CHECK(pmm_alloc_contig(&p, 255, PG) == 0,
	      "255 pages do not fit once page 1 is used");
	CHECK(pmm_alloc_contig(&p, 254, PG) == 2 * PG, "254 pages from page 2");
	CHECK(p.free_pages == 0 && count_free() == 0, "all gone");

	/* Runs interrupted repeatedly: every odd page below 128 used. */
	SETUP(0, 512 * PG);
	for (uint64_t i = 1; i < 128; i += 2)
		bitmap[i / 64] &= ~(1ull << (i % 64));
	p.free_pages -= 64;
	got = pmm_alloc_contig(&p, 2, PG);
	CHECK(got == 128 * PG, "two pages skip the striped area (0x%llx)",
	      (unsigned long long)got);
	got = pmm_alloc_contig(&p, 70, 128 * PG);
	CHECK(got == 256 * PG && all_used(got, 70),
	      "70 pages across a word, 512 KiB aligned");
	CHECK(p.free_pages == count_free(), "free count matches the bitmap");

	/* Exactly at the end of the bitmap. */
	SETUP(0x10000, 0x20000);
	got = pmm_alloc_contig(&p, 16, 0x10000);
	CHECK(got == 0x10000 && p.free_pages == 0,
	      "run ending at the top of the bitmap");
}

/* Exhaust a large map: every page comes back exactly once. */
static void test_exhaust(void)
{
	uint64_t n = 0, got, start_free;
	bool ok = true;

	SETUP(0, 0x9f000, 1 * MiB, 64 * MiB, 4 * GiB, 4 * GiB + 8 * MiB);
	start_free = p.free_pages;
	CHECK(start_free == 0x9e + (63 * MiB + 8 * MiB) / PG,
	      "free pages of a three-range map");
	while ((got = pmm_alloc(&p)) != 0) {
		ok &= !pmm_is_free(&p, got) && got % PG == 0;
		n++;
	}
	CHECK(n == start_free && ok, "every free page allocated once");
	for (uint64_t a = PG; a < 64 * MiB; a += PG)
		if (a < 0x9f000 || a >= 1 * MiB)
			ok &= pmm_free(&p, a);
	CHECK(ok && p.free_pages == (63 * MiB) / PG + 0x9e,
	      "low pages freed back");
	CHECK(count_free() == p.free_pages, "bitmap agrees with the count");
}

static void test_claim(void)
{
	uint64_t end = 0, fp;

	SETUP(0, 16 * PG, 0x20000, 0x30000);
	fp = p.free_pages;
	CHECK(pmm_claim(&p, 2 * PG, 5 * PG) && all_used(2 * PG, 3) &&
	      p.free_pages == fp - 3 && pmm_is_free(&p, 5 * PG),
	      "claim a free run");
	CHECK(!pmm_claim(&p, 4 * PG, 6 * PG) && pmm_is_free(&p, 5 * PG) &&
	      p.free_pages == fp - 3, "claim over a used page refused, "
	      "nothing taken");
	CHECK(!pmm_claim(&p, 0, 2 * PG), "claim of page 0 refused");
	CHECK(!pmm_claim(&p, 6 * PG + 1, 8 * PG) &&
	      !pmm_claim(&p, 6 * PG, 8 * PG - 1), "unaligned claim refused");
	CHECK(!pmm_claim(&p, 8 * PG, 8 * PG) && !pmm_claim(&p, 9 * PG, 8 * PG),
	      "empty or inverted claim refused");
	CHECK(!pmm_claim(&p, 0x2f000, 0x31000) && pmm_is_free(&p, 0x2f000),
	      "claim past the bitmap refused");
	CHECK(!pmm_claim(&p, 15 * PG, 17 * PG), "claim across a gap refused");

	CHECK(pmm_next_free_run(&p, 0, &end) == PG && end == 2 * PG,
	      "first free run is page 1 alone");
	CHECK(pmm_next_free_run(&p, 2 * PG, &end) == 5 * PG &&
	      end == 16 * PG, "next run after the claimed pages");
	CHECK(pmm_next_free_run(&p, 16 * PG, &end) == 0x20000 &&
	      end == 0x30000, "run ending at the top of the bitmap");
	CHECK(pmm_next_free_run(&p, 0x30000, &end) == 0,
	      "no run past the top");
}

int main(void)
{
	test_bitmap_bytes();
	test_init();
	test_alloc();
	test_alloc_below();
	test_contig();
	test_exhaust();
	test_claim();
	free(bitmap);
	return done_testing();
}
