/*
 * The platform interface device models are written against (DESIGN.md):
 * the same model code runs in the root partition (microkernelized design,
 * where these services are hypercalls and the root's own drivers) and in
 * the hypervisor (monolithic design, direct calls). A model never touches
 * hardware or guest memory except through these hooks, and every value a
 * guest writes to it is untrusted.
 *
 * Models are portable C (host unit tests build them with sanitizers):
 * only <stdint.h>, <stddef.h>, <stdbool.h> and the mem and str functions
 * of <string.h>.
 */
#ifndef DRIVERS_PLATFORM_H
#define DRIVERS_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct platform {
	void *ctx;
	/* Interrupt line `irq` (ISA numbering 0-15) of this partition's
	 * interrupt controller: level high or low. Edge devices pulse. */
	void (*irq_set)(void *ctx, unsigned irq, bool level);
	/* Monotonic time in nanoseconds (the partition's view). */
	uint64_t (*now_ns)(void *ctx);
	/* One complete console line from the partition (no newline). */
	void (*console_line)(void *ctx, const char *text, size_t len);
	/* The test-exit port was written: the partition's run ended. */
	void (*test_exit)(void *ctx, uint32_t code);
	/* Log a rejected guest input (rate limiting is the platform's). */
	void (*log)(void *ctx, const char *msg);
};

/* A piece of memory by physical address, for a device's DMA. */
struct blk_seg {
	uint64_t addr;
	uint32_t len;
};

/* Backing store for an emulated disk: whole 512-byte sectors. Return 0 or
 * -1 (a media error the model reports to the guest). read_sg/write_sg,
 * when not NULL, move the data by DMA straight to or from physical
 * segments whose lengths add up to count sectors (the caller vouches
 * that they are memory it may hand to a device). */
struct block_backend {
	void *ctx;
	uint64_t sectors;
	int (*read)(void *ctx, uint64_t lba, unsigned count, void *buf);
	int (*write)(void *ctx, uint64_t lba, unsigned count, const void *buf);
	int (*flush)(void *ctx);
	int (*read_sg)(void *ctx, uint64_t lba, unsigned count, const struct blk_seg *segs,
		       unsigned nsegs);
	int (*write_sg)(void *ctx, uint64_t lba, unsigned count, const struct blk_seg *segs,
			unsigned nsegs);
};

#endif
