/*
 * Fatal errors (see panic.h). Only the first CPU to panic reports; any
 * other, and a fault inside the panic path itself, halts at once, so the
 * report is never interleaved or recursive.
 */
#include <stdarg.h>
#include <isovisor/x86.h>
#include "format.h"
#include "x86/klib.h"
#include "x86/panic.h"
#include "x86/traps.h"

volatile bool panic_in_progress;
static bool panic_claimed;

void halt_forever(void)
{
	for (;;) {
		irq_disable();
		halt();
	}
}

/* Returns only on the first CPU to panic. */
static void panic_enter(void)
{
	irq_disable();
	if (__atomic_exchange_n(&panic_claimed, true, __ATOMIC_ACQ_REL))
		halt_forever();
	panic_in_progress = true;
}

static void panic_vlog(const char *fmt, va_list ap)
{
	char line[256];

	kvsnprintf(line, sizeof(line), fmt, ap);
	klib_panic_log(line);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	panic_enter();
	va_start(ap, fmt);
	panic_vlog(fmt, ap);
	va_end(ap);
	backtrace_from((uint64_t)__builtin_frame_address(0), 0);
	klib_panic_finish();
}

void panic_regs(const struct cpu_regs *r, const char *fmt, ...)
{
	va_list ap;

	panic_enter();
	va_start(ap, fmt);
	panic_vlog(fmt, ap);
	va_end(ap);
	regs_dump(r);
	backtrace_from(r->rbp, 0);
	klib_panic_finish();
}
