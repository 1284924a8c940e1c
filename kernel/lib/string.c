/* Freestanding <string.h> subset. gcc may also emit calls to memcpy,
 * memset, memmove and memcmp on its own, so these must exist.
 *
 * Copies and fills go eight bytes at a time with REP MOVSQ / REP STOSQ
 * and the rest with REP MOVSB / STOSB: one instruction per eight bytes
 * (the byte loops they replace cost four to five per byte, which every
 * hypercall buffer, bounce copy and page clear paid). Every kernel here
 * runs with DF clear (the ABI's rule at a call, and our interrupt
 * entries do not set it), which forward REP MOVS/STOS rely on; backward
 * moves are done by hand for that reason. */
#include <stdint.h>
#include <string.h>

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t q = n / 8, r = n % 8;

	__asm__ volatile("rep movsq\n\tmov %[r], %%rcx\n\trep movsb"
			 : "+D"(d), "+S"(src), "+c"(q)
			 : [r] "r"(r) : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	/* Overlapping with dst above src: from the end, eight bytes at a
	 * time while they do not overlap within one word, then bytes. */
	while (n >= 8 && (size_t)(d - s) >= 8) {
		uint64_t w;

		n -= 8;
		__builtin_memcpy(&w, s + n, 8);
		__builtin_memcpy(d + n, &w, 8);
	}
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	uint64_t v = 0x0101010101010101ull * (unsigned char)c;
	size_t q = n / 8, r = n % 8;

	__asm__ volatile("rep stosq\n\tmov %[r], %%rcx\n\trep stosb"
			 : "+D"(d), "+c"(q)
			 : "a"(v), [r] "r"(r) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			break;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}
