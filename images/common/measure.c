/*
 * What the guests' bench modes share: a serialized TSC read and the
 * order statistics of a sample set (sorted in place; n is small).
 */
#include "guest.h"

uint64_t guest_tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
}

void samples_sort(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

void samples_print(const char *name, uint64_t *v, unsigned n)
{
	samples_sort(v, n);
	kprint("# bench %s %lu cycles median min=%lu max=%lu p99=%lu n=%u", name,
	       v[n / 2], v[0], v[n - 1], v[n * 99 / 100], n);
}
