/*
 * What the x86 kernel library asks of each image that links it (the
 * hypervisor, the root OS, the guests). The library holds what every image
 * does the same way: trap entry, the IDT, register dumps and backtraces,
 * the exception table, the local APIC, TSC time, AP start-up, the fatal
 * path. The image says how it logs, which CPU is which, what an interrupt
 * means and how a panic ends, by defining these functions. Link errors,
 * not #ifdefs, say when one is missing.
 */
#ifndef KLIB_X86_KLIB_H
#define KLIB_X86_KLIB_H

#include <stdint.h>

struct cpu_regs;

/* One or more whole lines on the image's console, with its prefix. */
void klib_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The first line of a panic: "panic: <reason>" and which CPU it is on, in
 * the image's words. */
void klib_panic_log(const char *reason);

/* The rest of a panic, after the report: stop the other CPUs, end a test
 * run as failed, halt. */
void klib_panic_finish(void) __attribute__((noreturn));

/* Every interrupt and exception, from trap_entry.S with the frame it
 * built. Exceptions usually go on to trap_exception(). */
void trap_dispatch(struct cpu_regs *r);

/* Where the image maps physical address `pa` (the APIC page, the AP
 * trampoline's page). */
void *phys_to_virt(uint64_t pa);

#endif
