/*
 * A standalone driver for the libFuzzer-style targets in tests/fuzz, so
 * they build and run with plain gcc and sanitizers (clang's
 * -fsanitize=fuzzer can link the same targets without this file).
 *
 *   fuzz_X [-n iterations] [-s seed] [files...]
 *
 * Runs each file once, then a deterministic mutation loop: no coverage
 * feedback, so it starts from the target's valid seed inputs (the weak
 * fuzz_seed hook) and stacks a few mutations on a seed or on a recent
 * mutant, which reaches past the first validation layers. Every input is
 * handed over in a heap block of exactly its size, so AddressSanitizer
 * reports any read past its end. A crash is the sanitizer's report and a
 * nonzero exit; the input is written to crash-<name> first.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT (64 * 1024)
#define MAX_SEEDS 64
#define RING 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap) __attribute__((weak));
/* Present when linked with a sanitizer runtime: called before it exits. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

struct input {
	uint8_t *data;
	size_t size;
};

static struct input seeds[MAX_SEEDS];
static unsigned nseeds;
static struct input ring[RING];
static unsigned nring;
static uint64_t rng;
static const char *name = "fuzz";

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void keep(struct input *in, const uint8_t *data, size_t size)
{
	free(in->data);
	in->data = malloc(size ? size : 1);
	if (!in->data) {
		perror("malloc");
		exit(2);
	}
	memcpy(in->data, data, size);
	in->size = size;
}

/* The input being run, saved so a sanitizer abort leaves a reproducer. */
static const uint8_t *cur_data;
static size_t cur_size;

static void save_crash(void)
{
	char path[256];
	FILE *f;

	if (!cur_data)
		return;
	snprintf(path, sizeof(path), "crash-%s", name);
	f = fopen(path, "wb");
	if (f) {
		fwrite(cur_data, 1, cur_size, f);
		fclose(f);
		fprintf(stderr, "%s: input saved to %s\n", name, path);
	}
}

/* A target's own abort() on a broken invariant, or a plain crash. */
static void on_signal(int sig)
{
	save_crash();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void run(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy) {
		perror("malloc");
		exit(2);
	}
	memcpy(copy, data, size);
	cur_data = data;
	cur_size = size;
	LLVMFuzzerTestOneInput(copy, size);
	cur_data = NULL;
	free(copy);
}

static const uint32_t interesting[] = {
	0, 1, 2, 4, 7, 8, 12, 16, 20, 24, 36, 40, 44, 48, 0x7f, 0x80, 0xff,
	0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
};

/* One mutation of buf[0..*size), which has room for MAX_INPUT bytes. */
static void mutate(uint8_t *buf, size_t *size)
{
	size_t n = *size, off, len, src;
	uint32_t v;

	switch (below(n ? 10 : 1)) {
	case 0:                 /* extend */
		len = 1 + below(64);
		if (n + len > MAX_INPUT)
			len = MAX_INPUT - n;
		for (size_t i = 0; i < len; i++)
			buf[n + i] = below(4) ? 0 : (uint8_t)rnd();
		*size = n + len;
		break;
	case 1:                 /* flip a bit */
		buf[below(n)] ^= 1u << below(8);
		break;
	case 2:                 /* interesting byte */
		buf[below(n)] = (uint8_t)interesting[below(17)];
		break;
	case 3:                 /* interesting or size-related word */
		if (n < 4)
			break;
		off = below(n - 3);
		if (below(2))
			off &= ~(size_t)3;
		switch (below(4)) {
		case 0:
			v = (uint32_t)n;
			break;
		case 1:
			v = (uint32_t)(n - off);
			break;
		default:
			v = interesting[below(sizeof(interesting) /
					      sizeof(interesting[0]))];
		}
		memcpy(buf + off, &v, 4);
		break;
	case 4:                 /* small arithmetic on a 32-bit field */
		if (n < 4)
			break;
		off = below(n - 3) & ~(size_t)3;
		memcpy(&v, buf + off, 4);
		v += (uint32_t)below(33) - 16;
		memcpy(buf + off, &v, 4);
		break;
	case 5:                 /* truncate */
		*size = below(n);
		break;
	case 6:                 /* copy a chunk over another place */
		src = below(n);
		off = below(n);
		len = 1 + below(64);
		if (len > n - src)
			len = n - src;
		if (len > n - off)
			len = n - off;
		memmove(buf + off, buf + src, len);
		break;
	case 7:                 /* delete a chunk */
		off = below(n);
		len = 1 + below(n - off < 32 ? n - off : 32);
		memmove(buf + off, buf + off + len, n - off - len);
		*size = n - len;
		break;
	case 8:                 /* random byte */
		buf[below(n)] = (uint8_t)rnd();
		break;
	default:                /* small arithmetic on a byte */
		off = below(n);
		buf[off] = (uint8_t)(buf[off] + below(9) - 4);
		break;
	}
}

static void load_file(const char *path)
{
	static uint8_t buf[MAX_INPUT];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		perror(path);
		exit(2);
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	run(buf, n);
	if (nseeds < MAX_SEEDS)
		keep(&seeds[nseeds++], buf, n);
}

int main(int argc, char **argv)
{
	static uint8_t buf[MAX_INPUT];
	unsigned long long iters = 20000, seed = 1, done = 0;
	const char *slash;
	size_t size;
	int i;

	slash = strrchr(argv[0], '/');
	name = slash ? slash + 1 : argv[0];
	/* With a sanitizer, leave SIGSEGV to its handler and its report. */
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(save_crash);
	else
		signal(SIGSEGV, on_signal);
	signal(SIGABRT, on_signal);

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			iters = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: %s [-n iterations] [-s seed] "
				"[files...]\n", name);
			return 2;
		} else {
			load_file(argv[i]);
			done++;
		}
	}
	/* xorshift must not start at 0; mix so nearby seeds diverge. */
	rng = (seed + 1) * 0x9e3779b97f4a7c15ull;
	if (!rng)
		rng = 1;

	if (fuzz_seed) {
		for (unsigned s = 0; nseeds < MAX_SEEDS; s++) {
			size = fuzz_seed(s, buf, sizeof(buf));
			if (!size)
				break;
			run(buf, size);
			done++;
			keep(&seeds[nseeds++], buf, size);
		}
	}

	for (unsigned long long it = 0; it < iters; it++) {
		const struct input *base;
		unsigned m;

		if (nring && below(2))
			base = &ring[below(nring)];
		else if (nseeds)
			base = &seeds[below(nseeds)];
		else
			base = NULL;
		size = base ? base->size : 0;
		if (size)
			memcpy(buf, base->data, size);
		for (m = 1 + (unsigned)below(4); m; m--)
			mutate(buf, &size);
		run(buf, size);
		done++;
		if (nring < RING)
			keep(&ring[nring++], buf, size);
		else
			keep(&ring[below(RING)], buf, size);
	}

	printf("%s: %llu inputs, no crash\n", name, done);
	for (unsigned s = 0; s < nseeds; s++)
		free(seeds[s].data);
	for (unsigned r = 0; r < nring; r++)
		free(ring[r].data);
	return 0;
}
