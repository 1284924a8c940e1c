/*
 * The root's trap dispatch, behind the library's IDT and stubs
 * (x86/traps.h). A CPU exception in the root is our own bug, except at an
 * instruction marked as allowed to fault (the exception table): the tests
 * use those to expect a #GP, as from an MSR the hypervisor refuses, and
 * resume at the instruction's fixup. Everything else is a panic with
 * registers. Interrupts go to the handler a vector was given, and the
 * ones nobody asked for are acknowledged and counted.
 */
#include "root.h"
#include "x86/klib.h"

#define PIC_VECTOR_BASE 0x20            /* where pic_disable() moves them */

static irq_handler handlers[256];
volatile uint64_t irq_unexpected;

void irq_set_handler(uint8_t vec, irq_handler fn)
{
	handlers[vec] = fn;
}

void trap_dispatch(struct cpu_regs *r)
{
	unsigned vec = (unsigned)r->vector & 0xff;

	if (vec < 32) {
		if (vec == 2 && panic_in_progress)
			halt_forever();         /* another VP's panic stops us */
		trap_exception(r);
		return;
	}
	if (handlers[vec]) {
		handlers[vec](r);
		return;
	}
	irq_unexpected++;
	/* The PICs are masked, so from them only spurious IRQ 7 / 15
	 * arrive, which take no EOI; neither does the APIC's spurious
	 * vector. Anything else was the local APIC's to deliver. */
	if (vec == VEC_SPURIOUS || vec == PIC_VECTOR_BASE + 7 ||
	    vec == PIC_VECTOR_BASE + 15)
		return;
	apic_eoi();
}
