/*
 * The hypervisor's clock: the library's TSC time (x86/tsc.h), calibrated
 * against the ACPI PM timer the FADT names, or the PIT without one.
 */
#include "../../hv.h"
#include "cpu.h"

void time_init(void)
{
	tsc_init(boot.acpi.pm_tmr, boot.acpi.pm_tmr_32bit);
}
