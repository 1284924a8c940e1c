/*
 * The end of a run: in test mode, the result goes to QEMU's isa-debug-exit
 * device at port 0xf4 (QEMU exits with (value << 1) | 1: 1 pass, 3 fail,
 * as kvm-unit-tests uses it); otherwise ACPI S5 through PM1a/PM1b control.
 */
#include "../../hv.h"
#include "cpu.h"

#define DEBUG_EXIT_PORT 0xf4
#define SLP_EN (1u << 13)

void power_off(void)
{
	const struct acpi_info *a = &boot.acpi;

	hv_log("powering off");
	if (a->have_fadt && a->have_s5 && a->pm1a_cnt) {
		outw((uint16_t)a->pm1a_cnt,
		     (uint16_t)((inw((uint16_t)a->pm1a_cnt) & ~0x3c00u) |
				(((unsigned)a->slp_typa & 7) << 10) | SLP_EN));
		if (a->pm1b_cnt)
			outw((uint16_t)a->pm1b_cnt,
			     (uint16_t)((inw((uint16_t)a->pm1b_cnt) & ~0x3c00u) |
					(((unsigned)a->slp_typb & 7) << 10) | SLP_EN));
		udelay(100000);
	}
	hv_log("ACPI power-off did not take effect; halting");
	stop_other_cpus();
	halt_forever();
}

void test_exit(bool pass)
{
	outb(DEBUG_EXIT_PORT, pass ? 0 : 1);
	/* No debug-exit device (a real machine): power off instead. */
	power_off();
}
