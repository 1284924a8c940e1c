/*
 * The hypervisor's side of the fatal path (kernel/lib/x86/panic.c holds
 * the report itself): how it logs for the library, which CPU it names,
 * and how a run ends once a hypervisor bug or an impossible state got
 * here: every other CPU stopped with an NMI, then failure reported in
 * test mode, or a halt.
 */
#include <stdarg.h>
#include "hv.h"
#include "arch/x86/cpu.h"
#include "x86/klib.h"

volatile bool cpus_stopping;

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

/* The library's lines (register dumps, backtraces) are the hypervisor's:
 * "hv: " before each. */
void klib_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hv_log("%s", line);
}

void klib_panic_log(const char *reason)
{
	hv_log("panic: %s (cpu %u)", reason, current_cpu_index());
}

void klib_panic_finish(void)
{
	stop_other_cpus();
	if (boot.test_mode)
		test_exit(false);
	halt_forever();
}
