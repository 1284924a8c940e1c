/*
 * Physical page allocator; see pmm.h. One bit per page, set when free.
 * Every search walks whole 64-bit words and skips words that hold no
 * free page (or, for runs, no used page), so a scan costs O(words).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "pmm.h"

#define PAGE_SHIFT 12
#define BITS 64u

static uint64_t words_for(uint64_t npages)
{
	return npages / BITS + (npages % BITS != 0);
}

uint64_t pmm_bitmap_bytes(const struct memmap *mm)
{
	return words_for(memmap_top(mm) >> PAGE_SHIFT) * sizeof(uint64_t);
}

/* Bits [lo, hi) of a word; lo < hi <= 64. */
static uint64_t bit_mask(unsigned lo, unsigned hi)
{
	uint64_t m = hi == BITS ? ~0ull : (1ull << hi) - 1;

	return m & ~((1ull << lo) - 1);
}

/* Set or clear pages [from, to), to <= npages. */
static void mark(struct pmm *p, uint64_t from, uint64_t to, bool free)
{
	while (from < to) {
		uint64_t w = from / BITS;
		unsigned lo = from % BITS;
		unsigned hi = to - w * BITS >= BITS ? BITS : to - w * BITS;
		uint64_t m = bit_mask(lo, hi);

		if (free)
			p->bitmap[w] |= m;
		else
			p->bitmap[w] &= ~m;
		from = w * BITS + hi;
	}
}

/*
 * First page in [from, to) whose bit equals `want_free`, or `to`.
 * Inverting the word turns the search for a used page into a search for
 * a set bit, so both directions share the word skip.
 */
static uint64_t find(const struct pmm *p, uint64_t from, uint64_t to,
		     bool want_free)
{
	while (from < to) {
		uint64_t w = from / BITS;
		uint64_t bits = want_free ? p->bitmap[w] : ~p->bitmap[w];
		uint64_t page;

		bits &= ~0ull << (from % BITS);
		if (!bits) {
			from = (w + 1) * BITS;
			continue;
		}
		page = w * BITS + (unsigned)__builtin_ctzll(bits);
		return page < to ? page : to;
	}
	return to;
}

void pmm_init(struct pmm *p, uint64_t *bitmap, const struct memmap *free)
{
	unsigned i;

	p->bitmap = bitmap;
	p->npages = memmap_top(free) >> PAGE_SHIFT;
	p->free_pages = 0;
	p->next = 0;
	if (p->npages)
		memset(bitmap, 0, words_for(p->npages) * sizeof(uint64_t));
	for (i = 0; i < free->count; i++) {
		uint64_t from = free->r[i].start >> PAGE_SHIFT;
		uint64_t to = free->r[i].end >> PAGE_SHIFT;

		mark(p, from, to, true);
		p->free_pages += to - from;
	}
	/* Page 0 stays used so that 0 can mean "no memory". */
	if (p->npages && (bitmap[0] & 1)) {
		bitmap[0] &= ~1ull;
		p->free_pages--;
	}
}

static uint64_t take(struct pmm *p, uint64_t page, uint64_t n)
{
	mark(p, page, page + n, false);
	p->free_pages -= n;
	return page << PAGE_SHIFT;
}

uint64_t pmm_alloc(struct pmm *p)
{
	uint64_t page;

	if (!p->free_pages)
		return 0;
	/* Next fit: from the cursor to the top, then from the bottom. */
	page = find(p, p->next, p->npages, true);
	if (page == p->npages) {
		uint64_t wrap = p->next < p->npages ? p->next : p->npages;

		page = find(p, 0, wrap, true);
		if (page == wrap)
			return 0;
	}
	p->next = page + 1 < p->npages ? page + 1 : 0;
	return take(p, page, 1);
}

uint64_t pmm_alloc_below(struct pmm *p, uint64_t limit)
{
	uint64_t to = limit >> PAGE_SHIFT;   /* pages wholly below limit */
	uint64_t page;

	if (to > p->npages)
		to = p->npages;
	page = find(p, 1, to, true);
	if (page >= to)
		return 0;
	return take(p, page, 1);
}

uint64_t pmm_alloc_contig(struct pmm *p, uint64_t n, uint64_t align)
{
	uint64_t step, s;

	if (!n || n > p->free_pages || align < PAGE_SIZE ||
	    (align & (align - 1)))
		return 0;
	step = align >> PAGE_SHIFT;
	/* Page 0 is never free, so the first candidate is one step up. */
	s = step;
	while (s < p->npages && n <= p->npages - s) {
		uint64_t used = find(p, s, s + n, false);
		uint64_t next_free;

		if (used == s + n)
			return take(p, s, n);
		/* Skip to the next free page after the obstacle, then up to
		 * the next aligned candidate. */
		next_free = find(p, used, p->npages, true);
		if (next_free > UINT64_MAX - (step - 1))
			break;
		s = (next_free + step - 1) & ~(step - 1);
	}
	return 0;
}

bool pmm_free(struct pmm *p, uint64_t addr)
{
	uint64_t page = addr >> PAGE_SHIFT;

	/* Page 0 is inside the bitmap but must never become free. */
	if (addr & (PAGE_SIZE - 1) || page == 0 || page >= p->npages)
		return false;
	if (p->bitmap[page / BITS] & (1ull << (page % BITS)))
		return false;
	p->bitmap[page / BITS] |= 1ull << (page % BITS);
	p->free_pages++;
	return true;
}

/* The page holding `addr`. */
bool pmm_is_free(const struct pmm *p, uint64_t addr)
{
	uint64_t page = addr >> PAGE_SHIFT;

	if (page >= p->npages)
		return false;
	return p->bitmap[page / BITS] & (1ull << (page % BITS));
}

bool pmm_claim(struct pmm *p, uint64_t start, uint64_t end)
{
	uint64_t from = start >> PAGE_SHIFT, to = end >> PAGE_SHIFT;

	if ((start | end) & (PAGE_SIZE - 1) || from == 0 || from >= to ||
	    to > p->npages)
		return false;
	if (find(p, from, to, false) != to)
		return false;
	take(p, from, to - from);
	return true;
}

uint64_t pmm_next_free_run(const struct pmm *p, uint64_t from, uint64_t *end)
{
	uint64_t page = find(p, from >> PAGE_SHIFT, p->npages, true);

	if (page >= p->npages)
		return 0;
	*end = find(p, page, p->npages, false) << PAGE_SHIFT;
	return page << PAGE_SHIFT;
}
