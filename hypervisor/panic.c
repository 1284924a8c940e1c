/*
 * Fatal errors: a hypervisor bug or an impossible state ends here. Print
 * the reason (and registers when a trap brought us here), stop every other
 * CPU with an NMI, then report failure in test mode or halt.
 */
#include <stdarg.h>
#include "hv.h"
#include "arch/x86/cpu.h"

volatile bool panic_in_progress;
volatile bool cpus_stopping;
static volatile int panic_owner = -1;

void halt_forever(void)
{
	for (;;) {
		irq_disable();
		halt();
	}
}

static unsigned current_cpu_index(void)
{
	/* GS is set up early on every CPU; before that only the BSP runs. */
	return rdmsr(MSR_GS_BASE) ? this_cpu()->index : 0;
}

void stop_other_cpus(void)
{
	cpus_stopping = true;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (cpus_online > 1)
		apic_send_nmi_all_but_self();
}

static void panic_stop_others_and_exit(void) __attribute__((noreturn));
static void panic_stop_others_and_exit(void)
{
	stop_other_cpus();
	if (boot.test_mode)
		test_exit(false);
	halt_forever();
}

/* Returns only for the first CPU to panic; later ones halt at once. */
static void panic_enter(void)
{
	int me = (int)current_cpu_index();
	int expected = -1;

	irq_disable();
	if (!__atomic_compare_exchange_n(&panic_owner, &expected, me, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (expected == me)     /* a fault inside panic: give up */
			halt_forever();
		halt_forever();
	}
	panic_in_progress = true;
}

static void panic_vlog(const char *fmt, va_list ap)
{
	char line[256];

	kvsnprintf(line, sizeof(line), fmt, ap);
	hv_log("panic: %s (cpu %u)", line, current_cpu_index());
}

void panic(const char *fmt, ...)
{
	va_list ap;

	panic_enter();
	va_start(ap, fmt);
	panic_vlog(fmt, ap);
	va_end(ap);
	backtrace_from((uint64_t)__builtin_frame_address(0));
	panic_stop_others_and_exit();
}

void panic_regs(const struct cpu_regs *regs, const char *fmt, ...)
{
	va_list ap;

	panic_enter();
	va_start(ap, fmt);
	panic_vlog(fmt, ap);
	va_end(ap);
	regs_dump(regs);
	backtrace_from(regs->rbp);
	panic_stop_others_and_exit();
}
