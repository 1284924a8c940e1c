/*
 * Fuzz target: the virtual local APIC model (hypervisor/vlapic.c) under a
 * byte stream of what a guest and its sources do: xAPIC MMIO and x2APIC
 * MSR reads and writes of any offset and value, IA32_APIC_BASE writes,
 * interrupts accepted, taken and EOI'd, and the clock moving. Invariants,
 * abort() when one breaks: what vlapic_pending offers is a vector from 16
 * up whose IRR bit is set and whose class is above the PPR; a disabled or
 * x2APIC-mode APIC has no MMIO page; after a timer poll at `now` the next
 * expiry is 0 or later than now; a software-disabled APIC has every LVT
 * masked; an IPI the model asks for has a delivery mode it encodes.
 */
#include <stdint.h>
#include <stdlib.h>
#include "vlapic.h"

static const uint8_t seed_ops[] = {
	/* x2APIC on, timer periodic, count, self IPI, accept, poll */
	0x05, 0x00, 0x0c, 0x00, 0x00, 0x00,
	0x03, 0x32, 0x41, 0x00, 0x02, 0x00,
	0x03, 0x38, 0x00, 0x10, 0x00, 0x00,
	0x03, 0x3f, 0x51, 0x00, 0x00, 0x00,
	0x06, 0x61, 0x01, 0x00, 0x00, 0x00,
	0x07, 0x00, 0x00, 0x40, 0x00, 0x00,
	0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x03, 0x0b, 0x00, 0x00, 0x00, 0x00,
};

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	if (i > 0 || cap < sizeof(seed_ops))
		return 0;
	for (size_t k = 0; k < sizeof(seed_ops); k++)
		buf[k] = seed_ops[k];
	return sizeof(seed_ops);
}

static void check(const struct vlapic *l, uint64_t now, bool polled)
{
	int v = vlapic_pending(l);

	if (v >= 0) {
		uint32_t isrv_class = 0, tpr = l->tpr & 0xf0;

		if (v < 16 || v > 255 || !((l->irr[v / 32] >> (v % 32)) & 1))
			abort();
		for (int w = 7; w >= 0; w--)
			if (l->isr[w]) {
				isrv_class = (uint32_t)(w * 32 + 31 - __builtin_clz(l->isr[w])) & 0xf0;
				break;
			}
		if (((uint32_t)v & 0xf0) <= (tpr > isrv_class ? tpr : isrv_class))
			abort();
	}
	if ((!vlapic_hw_enabled(l) || vlapic_x2apic(l)) && vlapic_mmio_base(l) != UINT64_MAX)
		abort();
	if (polled && l->timer_expire && l->timer_expire <= now)
		abort();
	if (!(l->svr & VLAPIC_SVR_ENABLE))
		for (unsigned i = 0; i < VLAPIC_LVT_COUNT; i++)
			if (!(l->lvt[i] & VLAPIC_LVT_MASKED))
				abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct vlapic l;
	struct vlapic_effects fx;
	uint64_t now = 1000, v;

	vlapic_init(&l, d && n ? d[0] % 4 : 0, !(n && d[0] & 4), 1000000 + (n ? d[0] : 0) * 977);
	for (size_t i = 0; i + 6 <= n; i += 6) {
		uint8_t op = d[i] & 0x0f, a = d[i + 1];
		uint32_t val = (uint32_t)d[i + 2] | (uint32_t)d[i + 3] << 8 |
			       (uint32_t)d[i + 4] << 16 | (uint32_t)d[i + 5] << 24;
		bool polled = false;

		fx.ipi = false;
		switch (op) {
		case 0: case 1:
			vlapic_mmio_read(&l, (uint32_t)a << 4, now);
			break;
		case 2:
			vlapic_mmio_write(&l, (uint32_t)a << 4, val, now, &fx);
			break;
		case 3:
			vlapic_msr_write(&l, 0x800u + a, (d[i] & 0x10) ? (uint64_t)val << 32 | val : val,
					 now, &fx);
			break;
		case 4:
			vlapic_msr_read(&l, (d[i] & 0x10) ? 0x6e0 : 0x800u + a, now, &v);
			break;
		case 5:
			vlapic_set_base(&l, (uint64_t)val << 8 | (uint64_t)a << 40 |
					((d[i] & 0x10) ? 0xfee00000ull : 0));
			break;
		case 6:
			vlapic_accept(&l, a, val & 1, val & 2);
			break;
		case 7:
			now += (uint64_t)val << (a % 24);
			vlapic_timer_poll(&l, now);
			polled = true;
			break;
		case 8: {
			int p = vlapic_pending(&l);

			if (p >= 0)
				vlapic_ack(&l, (uint8_t)p);
			break;
		}
		case 9:
			vlapic_msr_write(&l, 0x6e0, now + val, now, &fx);
			break;
		default:
			vlapic_extint_allowed(&l);
			vlapic_matches(&l, val, a & 1);
			break;
		}
		if (fx.ipi && (fx.ipi_mode == 3 || fx.ipi_shorthand > 3))
			abort();
		check(&l, now, polled);
	}
	return 0;
}
