/*
 * The enlightened guest's trap dispatch, behind the kernel library's IDT
 * and stubs (x86/traps.h). CPU exceptions are our bug unless the
 * instruction is in the exception table. The one interrupt is the
 * SynIC's vector; it needs no EOI: a child has no local APIC, and SINT2
 * is auto-EOI anyway. The PICs are never programmed, so nothing else may
 * arrive.
 */
#include "enlightened.h"
#include "x86/klib.h"

volatile uint64_t irq_unexpected;

void trap_dispatch(struct cpu_regs *r)
{
	unsigned vec = (unsigned)r->vector & 0xff;

	if (vec < 32 && storm_trap(r))
		return;
	if (vec < 32)
		trap_exception(r);
	else if (vec == SYNIC_VECTOR)
		synic_interrupt();
	else
		irq_unexpected++;
}
