/* TSC calibration and delays (see tsc.h). */
#include <isovisor/x86.h>
#include "x86/klib.h"
#include "x86/tsc.h"

#define PM_TIMER_HZ 3579545ull
#define PIT_HZ 1193182ull
#define CALIBRATE_MS 10

static uint64_t khz;

static uint64_t calibrate_pm_timer(uint16_t port, bool wide)
{
	uint32_t mask = wide ? 0xffffffff : 0xffffff;
	uint32_t ticks = PM_TIMER_HZ * CALIBRATE_MS / 1000;
	uint32_t start = inl(port) & mask;
	uint64_t t0 = rdtsc();

	for (unsigned long spin = 0;; spin++) {
		if (((inl(port) - start) & mask) >= ticks)
			break;
		if (spin > 100000000)
			return 0;       /* the timer is not counting */
	}
	return (rdtsc() - t0) / CALIBRATE_MS;
}

static uint64_t calibrate_pit(void)
{
	uint16_t count = PIT_HZ * CALIBRATE_MS / 1000;
	uint64_t t0;

	/* Channel 2, gate on, speaker off; mode 0 counts down once. */
	outb(0x61, (inb(0x61) & ~0x03) | 0x01);
	outb(0x43, 0xb0);
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	t0 = rdtsc();
	for (unsigned long spin = 0; !(inb(0x61) & 0x20); spin++)
		if (spin > 100000000)
			return 0;
	return (rdtsc() - t0) / CALIBRATE_MS;
}

void tsc_init(uint32_t pm_tmr_port, bool pm_tmr_32bit)
{
	khz = 0;
	if (pm_tmr_port)
		khz = calibrate_pm_timer((uint16_t)pm_tmr_port, pm_tmr_32bit);
	if (!khz)
		khz = calibrate_pit();
	if (!khz) {
		klib_log("time: no working PM timer or PIT; assuming a 1 GHz TSC");
		khz = 1000000;
	}
}

void tsc_set_khz(uint64_t known_khz)
{
	khz = known_khz;
}

uint64_t tsc_khz(void)
{
	return khz;
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * khz / 1000;

	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}

uint64_t tsc_ns(void)
{
	uint64_t t = rdtsc();

	/* Split so t * 10^6 cannot overflow. */
	return khz ? t / khz * 1000000 + t % khz * 1000000 / khz : 0;
}
