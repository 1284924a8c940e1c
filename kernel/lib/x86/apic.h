/*
 * The local APIC, in xAPIC (MMIO) or x2APIC (MSR) mode, whichever the
 * firmware left enabled: servers with many CPUs hand over in x2APIC mode.
 * Each CPU has its own; the mode is the same on all.
 */
#ifndef KLIB_X86_APIC_H
#define KLIB_X86_APIC_H

#include <stdbool.h>
#include <stdint.h>

#define VEC_SPURIOUS 0xff

/* Per CPU: enable it, accept every priority, timer masked. */
void apic_init(void);
uint32_t apic_id(void);
void apic_eoi(void);
/* True when the last IPI has left (always so in x2APIC mode). */
bool apic_icr_idle(void);
void apic_send_init(uint32_t apic);
void apic_send_sipi(uint32_t apic, uint8_t vector);
void apic_send_fixed(uint32_t apic, uint8_t vector);
/* Does nothing before apic_init(): no other CPU runs yet. */
void apic_send_nmi(uint32_t apic);
void apic_send_nmi_all_but_self(void);
/* One-shot timer: `count` ticks of the bus clock divided by 16. */
void apic_timer_oneshot(uint8_t vector, uint32_t count);
uint32_t apic_timer_current(void);
/* The one-shot timer's rate (counts per millisecond, divide by 16),
 * measured against the TSC running at `tsc_khz` over 5 ms with the timer
 * masked; 0 when it could not be measured. Leaves the timer stopped. */
uint32_t apic_timer_calibrate(uint64_t tsc_khz);

#endif
