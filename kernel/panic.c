/*
 * Fatal errors in the root: a bug of ours or an exception nobody expected.
 * Print the reason (with registers when a trap brought us here), stop the
 * other VPs with an NMI, then report failure in test mode or halt. Under
 * isovisor the failure report ends the whole run.
 */
#include <stdarg.h>
#include "root.h"

volatile bool panic_in_progress;
static volatile int panic_owner = -1;

void halt_forever(void)
{
	for (;;) {
		irq_disable();
		halt();
	}
}

static void panic_finish(void) __attribute__((noreturn));
static void panic_finish(void)
{
	if (vps_online > 1)
		apic_send_nmi_all_but_self();
	if (boot.test_mode)
		test_exit(false);
	halt_forever();
}

/* Returns only on the first VP to panic; the others (and a fault inside
 * the panic path itself) halt at once. */
static void panic_enter(void)
{
	int me = (int)current_vp_slot();
	int expected = -1;

	irq_disable();
	if (!__atomic_compare_exchange_n(&panic_owner, &expected, me, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		halt_forever();
	panic_in_progress = true;
}

static void panic_vlog(const char *fmt, va_list ap)
{
	char line[256];

	kvsnprintf(line, sizeof(line), fmt, ap);
	klog("panic: %s (vp %u)", line, current_vp_slot());
}

void panic(const char *fmt, ...)
{
	va_list ap;

	panic_enter();
	va_start(ap, fmt);
	panic_vlog(fmt, ap);
	va_end(ap);
	backtrace_from((uint64_t)__builtin_frame_address(0), 0);
	panic_finish();
}

void panic_regs(const struct regs *r, const char *fmt, ...)
{
	va_list ap;

	panic_enter();
	va_start(ap, fmt);
	panic_vlog(fmt, ap);
	va_end(ap);
	regs_dump(r);
	backtrace_from(r->rbp, 0);
	panic_finish();
}
