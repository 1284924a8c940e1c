/*
 * Time: the TSC, calibrated at boot against the ACPI PM timer (3.579545
 * MHz on every ACPI machine) or, without one, PIT channel 2. Used for
 * the INIT-SIPI delays and for bounding waits.
 */
#include "root.h"

#define PM_TIMER_HZ 3579545ull
#define PIT_HZ 1193182ull
#define CALIBRATE_MS 10

static uint64_t khz;

static uint32_t pm_timer_read(void)
{
	uint32_t v = inl((uint16_t)boot.acpi.pm_tmr);

	return boot.acpi.pm_tmr_32bit ? v : v & 0xffffff;
}

static uint64_t calibrate_pm_timer(void)
{
	uint32_t mask = boot.acpi.pm_tmr_32bit ? 0xffffffff : 0xffffff;
	uint32_t ticks = PM_TIMER_HZ * CALIBRATE_MS / 1000;
	uint32_t start = pm_timer_read();
	uint64_t t0 = rdtsc();

	for (unsigned long spin = 0;; spin++) {
		if (((pm_timer_read() - start) & mask) >= ticks)
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

void time_init(void)
{
	if (boot.acpi.pm_tmr)
		khz = calibrate_pm_timer();
	if (!khz)
		khz = calibrate_pit();
	if (!khz) {
		klog("time: no working PM timer or PIT; assuming a 1 GHz TSC");
		khz = 1000000;
	}
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
