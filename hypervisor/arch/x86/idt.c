/*
 * The hypervisor's trap dispatch, behind the library's IDT and stubs
 * (x86/traps.h). CPU exceptions in the hypervisor are our own bugs, except
 * where an instruction was marked as allowed to fault (the exception
 * table, used to probe MSRs); those resume at their fixup. Everything else
 * is a panic with registers and a backtrace. Of the interrupts, only the
 * IPIs are ours: every other vector is a device of the root's.
 */
#include "../../hv.h"
#include "cpu.h"
#include "../../design.h"
#include "x86/klib.h"
#include "../../vpops.h"
#include "../../percpu.h"

void trap_dispatch(struct cpu_regs *r)
{
	/* An NMI at the end of a run is the stop signal. */
	if (r->vector == 2 && (panic_in_progress || cpus_stopping))
		halt_forever();
	if (r->vector == 2) {
		/* A shootdown's kick (tlb.c), or one for the root, which owns
		 * the hardware: it gets it at its next entry (exit_nmi). */
		if (!tlb_nmi())
			hv_cpu[this_cpu()->index].nmi_for_root = true;
		return;
	}
	if (r->vector < 32) {
		trap_exception(r);
		return;
	}
	switch (r->vector) {
	case VEC_IPI_HALT:
		halt_forever();
	case VEC_IPI_WAKE:
		apic_eoi();
		return;
	case VEC_SPURIOUS:
		return;         /* no EOI for spurious interrupts */
	default:
		design_device_irq((uint8_t)r->vector);
		return;
	}
}
