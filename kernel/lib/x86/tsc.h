/*
 * Time from the TSC, calibrated once at boot against the ACPI PM timer
 * (3.579545 MHz on every ACPI machine) or, without one, PIT channel 2.
 * Used for the INIT-SIPI delays and for bounding waits.
 */
#ifndef KLIB_X86_TSC_H
#define KLIB_X86_TSC_H

#include <stdbool.h>
#include <stdint.h>

/* Calibrate; `pm_tmr_port` is the ACPI PM timer's I/O port (0: none),
 * 32 or 24 bits wide. Falls back to 1 GHz, and says so, when neither
 * timer counts. */
void tsc_init(uint32_t pm_tmr_port, bool pm_tmr_32bit);
uint64_t tsc_khz(void);
/* Take a frequency someone who measured it told us (a hypervisor's
 * HV_X64_MSR_TSC_FREQUENCY) instead of calibrating: 10 ms saved. */
void tsc_set_khz(uint64_t known_khz);
/* Nanoseconds from the TSC (0 before calibration). */
uint64_t tsc_ns(void);
void udelay(uint64_t us);

#endif
