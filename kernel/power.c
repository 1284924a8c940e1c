/*
 * The end of a run. Test mode: the result goes to port 0xf4 (0 pass,
 * 1 fail); under isovisor the hypervisor intercepts it and ends the whole
 * run, natively QEMU's isa-debug-exit device exits QEMU (status 1 pass,
 * 3 fail). Otherwise, or on a machine without that device: ACPI S5
 * through PM1a/PM1b control, then halt if the machine is still on.
 */
#include "root.h"

#define DEBUG_EXIT_PORT 0xf4
#define SLP_TYP_MASK 0x1c00u
#define SLP_TYP_SHIFT 10
#define SLP_EN (1u << 13)

static void pm1_sleep(uint32_t port, uint8_t slp_typ)
{
	uint16_t v = inw((uint16_t)port);

	v = (uint16_t)((v & ~SLP_TYP_MASK) |
		       ((unsigned)(slp_typ & 7) << SLP_TYP_SHIFT) | SLP_EN);
	outw((uint16_t)port, v);
}

void power_off(void)
{
	const struct acpi_info *a = &boot.acpi;

	klog("powering off");
	if (a->have_fadt && a->have_s5 && a->pm1a_cnt) {
		pm1_sleep(a->pm1a_cnt, a->slp_typa);
		if (a->pm1b_cnt)
			pm1_sleep(a->pm1b_cnt, a->slp_typb);
		udelay(100000);
	}
	klog("ACPI power-off did not take effect; halting");
	if (vps_online > 1)
		apic_send_nmi_all_but_self();
	panic_in_progress = true;       /* the other VPs' NMI handler halts */
	halt_forever();
}

void test_exit(bool pass)
{
	outb(DEBUG_EXIT_PORT, pass ? 0 : 1);
	/* No debug-exit device (a real machine): power off instead. */
	power_off();
}
