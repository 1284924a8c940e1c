/*
 * Starting application processors natively: INIT-SIPI-SIPI into a
 * real-mode trampoline that switches to long mode and calls entry(arg) on
 * the AP's own stack. One AP at a time: they share the trampoline's
 * parameter block.
 */
#ifndef KLIB_X86_SMP_H
#define KLIB_X86_SMP_H

#include <stdbool.h>
#include <stdint.h>

struct trampoline_params;

struct ap_trampoline {
	uint64_t page;                  /* physical, below 1 MiB */
	struct trampoline_params *params;
};

/* Copy the trampoline to `page` (from the caller's allocator; 0 panics)
 * and fill in what every AP shares: its long-mode entry, and the page
 * tables at `cr3`, which must lie below 4 GiB. */
void trampoline_install(struct ap_trampoline *t, uint64_t page,
			uint64_t entry, uint64_t cr3);

/* Start the CPU with `apic_id` on `stack` with `arg` for the entry, and
 * wait until it sets *online: 200 ms after the first SIPI, then up to
 * `timeout_us` after the second. True when it came online. */
bool ap_start(const struct ap_trampoline *t, uint32_t apic_id,
	      uint64_t stack, uint64_t arg, const volatile bool *online,
	      uint64_t timeout_us);

/* Wait up to `us` for *online, however the AP was started. */
bool ap_wait_online(const volatile bool *online, uint64_t us);

#endif
