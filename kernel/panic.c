/*
 * The root's side of the fatal path (kernel/lib/x86/panic.c holds the
 * report itself): which VP it names, and how the run ends: the other VPs
 * stopped with an NMI, then failure reported in test mode, or a halt.
 * Under isovisor the failure report ends the whole run.
 */
#include "root.h"
#include "x86/klib.h"

void klib_panic_log(const char *reason)
{
	klog("panic: %s (vp %u)", reason, current_vp_slot());
}

void klib_panic_finish(void)
{
	if (vps_online > 1)
		apic_send_nmi_all_but_self();
	if (boot.test_mode)
		test_exit(false);
	halt_forever();
}
