/*
 * The fatal path every image shares: one CPU reports (the reason, the
 * registers when a trap brought it here, a backtrace), the others halt;
 * then the image's klib_panic_finish() decides how the run ends.
 */
#ifndef KLIB_X86_PANIC_H
#define KLIB_X86_PANIC_H

#include <stdbool.h>

struct cpu_regs;

void panic(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
void panic_regs(const struct cpu_regs *r, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/* Set once a CPU has begun a panic: consoles stop waiting for their
 * lock, and an NMI then means "halt". */
extern volatile bool panic_in_progress;
void halt_forever(void) __attribute__((noreturn));

#endif
