/*
 * The isolate guest (images/isolate): a child partition that checks from
 * the inside that no CPU state of the host or of another partition
 * reaches it, and that it cannot reach theirs. The checks are picked by
 * command-line words (isolate.h); each prints TAP like the other guests.
 * Only the console and the test-exit port are used.
 */
#include "isolate.h"
#include "x86/klib.h"

GUEST_BOOT_MESSAGES("isolate: ");

/* No interrupt is ever enabled: any vector but an exception is a bug. */
void trap_dispatch(struct cpu_regs *r)
{
	if ((r->vector & 0xff) < 32) {
		trap_exception(r);
		return;
	}
	if ((r->vector & 0xff) == 0xf1 || (r->vector & 0xff) == 0xf2) {
		apic_irq(r->vector & 0xff);
		return;
	}
	panic("unexpected interrupt vector %lu", r->vector);
}

static void inventory(void)
{
	kprint("modes: apic, msr, fpu-writer, fpu-checker (with \"test\")");
}

void boot_main(uint32_t magic, uint64_t info);
void boot_main(uint32_t magic, uint64_t info)
{
	guest_boot_init("isolate: ", magic, info);
	guest_run("isolate", "CPU state isolation checks", isolate_tests,
		  inventory);
}
