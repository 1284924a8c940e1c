/*
 * Local APIC access (see apic.h). Under isovisor a partition's xAPIC page
 * is mapped read-only and every store to it is emulated (so INIT and
 * STARTUP IPIs can be dropped): stores here are plain 32-bit moves, which
 * the hypervisor's decoder handles.
 */
#include <isovisor/x86.h>
#include "x86/apic.h"
#include "x86/klib.h"

#define APIC_ID         0x020
#define APIC_TPR        0x080
#define APIC_EOI        0x0b0
#define APIC_SVR        0x0f0
#define APIC_ICR_LO     0x300
#define APIC_ICR_HI     0x310
#define APIC_LVT_TIMER  0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR  0x390
#define APIC_TIMER_DIV  0x3e0

#define SVR_ENABLE      (1u << 8)
#define ICR_FIXED       (0u << 8)
#define ICR_NMI         (4u << 8)
#define ICR_INIT        (5u << 8)
#define ICR_STARTUP     (6u << 8)
#define ICR_BUSY        (1u << 12)
#define ICR_ASSERT      (1u << 14)
#define ICR_ALL_BUT_SELF (3u << 18)
#define LVT_MASKED      (1u << 16)
#define TIMER_DIV_16    0x3
#define APIC_CALIBRATE_MS 5

static bool x2apic;
static volatile uint32_t *xapic;        /* set, in either mode, by apic_init */

static uint32_t apic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return xapic[reg / 4];
}

static void apic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		xapic[reg / 4] = v;
}

void apic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_EN)) {
		base |= APIC_BASE_EN;
		wrmsr(MSR_APIC_BASE, base);
	}
	x2apic = base & APIC_BASE_EXTD;
	xapic = phys_to_virt(base & 0xffffff000ull);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
	apic_write(APIC_LVT_TIMER, LVT_MASKED);
}

uint32_t apic_id(void)
{
	return x2apic ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

bool apic_icr_idle(void)
{
	return x2apic || !(apic_read(APIC_ICR_LO) & ICR_BUSY);
}

static void apic_send_ipi(uint32_t dest, uint32_t lo)
{
	if (x2apic) {
		wrmsr(0x800 + (APIC_ICR_LO >> 4), ((uint64_t)dest << 32) | lo);
		return;
	}
	for (unsigned i = 0; i < 1000000 && !apic_icr_idle(); i++)
		cpu_relax();
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, lo);
}

void apic_send_init(uint32_t apic)
{
	apic_send_ipi(apic, ICR_INIT | ICR_ASSERT);
}

void apic_send_sipi(uint32_t apic, uint8_t vector)
{
	apic_send_ipi(apic, ICR_STARTUP | ICR_ASSERT | vector);
}

void apic_send_fixed(uint32_t apic, uint8_t vector)
{
	apic_send_ipi(apic, ICR_FIXED | ICR_ASSERT | vector);
}

void apic_send_nmi(uint32_t apic)
{
	apic_send_ipi(apic, ICR_NMI | ICR_ASSERT);
}

void apic_send_nmi_all_but_self(void)
{
	if (xapic)
		apic_send_ipi(0, ICR_NMI | ICR_ASSERT | ICR_ALL_BUT_SELF);
}

void apic_timer_oneshot(uint8_t vector, uint32_t count)
{
	apic_write(APIC_TIMER_DIV, TIMER_DIV_16);
	apic_write(APIC_LVT_TIMER, vector);     /* one-shot, unmasked */
	apic_write(APIC_TIMER_INIT, count);
}

uint32_t apic_timer_current(void)
{
	return apic_read(APIC_TIMER_CUR);
}

/* The timer's count at one TSC instant: the read between two TSC reads,
 * the narrowest of a few tries (under a hypervisor a read may exit and
 * take long; a store surely does, so neither end of the measurement is
 * a store). */
static void timer_sample(uint64_t *tsc, uint32_t *count)
{
	uint64_t best = UINT64_MAX;

	for (unsigned i = 0; i < 5; i++) {
		uint64_t a = rdtsc();
		uint32_t c = apic_read(APIC_TIMER_CUR);
		uint64_t b = rdtsc();

		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*count = c;
		}
	}
}

uint32_t apic_timer_calibrate(uint64_t tsc_khz)
{
	uint64_t t0, t1, per_ms;
	uint32_t c0, c1;

	if (!tsc_khz)
		return 0;
	apic_write(APIC_TIMER_DIV, TIMER_DIV_16);
	apic_write(APIC_LVT_TIMER, LVT_MASKED);
	apic_write(APIC_TIMER_INIT, 0xffffffffu);
	timer_sample(&t0, &c0);
	while (rdtsc() - t0 < tsc_khz * APIC_CALIBRATE_MS)
		cpu_relax();
	timer_sample(&t1, &c1);
	apic_write(APIC_TIMER_INIT, 0);
	if (c1 >= c0 || t1 <= t0)
		return 0;
	/* (c0 - c1) < 2^32 and tsc_khz < 2^32: no overflow. */
	per_ms = (uint64_t)(c0 - c1) * tsc_khz / (t1 - t0);
	return per_ms > UINT32_MAX ? 0 : (uint32_t)per_ms;
}
