/*
 * The legacy guest's trap dispatch, behind the kernel library's IDT and
 * stubs (x86/traps.h). CPU exceptions are our bug, except at instructions
 * in the exception table (the memory scan's reads), which resume at their
 * fixup. Interrupts come only from the 8259 PICs at 0x20-0x2f: each goes
 * to its IRQ's handler, then gets its EOI here. Spurious IRQ 7 and 15 (a
 * request withdrawn before the INTA cycle) are recognized by their clear
 * in-service bit and take no EOI on their own chip, as the 8259A asks.
 */
#include "legacy.h"
#include "x86/klib.h"

static irq_handler handlers[16];
volatile uint64_t irq_spurious, irq_unexpected;

void irq_set_handler(unsigned irq, irq_handler fn)
{
	if (irq < ARRAY_SIZE(handlers))
		handlers[irq] = fn;
}

static void pic_interrupt(unsigned irq)
{
	if ((irq == 7 || irq == 15) && !pic_in_service(irq)) {
		irq_spurious++;
		/* IRQ 15's cascade did go through the master's IR2. */
		if (irq == 15)
			pic_eoi(2);
		return;
	}
	if (handlers[irq])
		handlers[irq](irq);
	else
		irq_unexpected++;
	pic_eoi(irq);
}

void trap_dispatch(struct cpu_regs *r)
{
	unsigned vec = (unsigned)r->vector & 0xff;

	if (vec < 32) {
		trap_exception(r);
		return;
	}
	if (vec >= PIC_VECTOR_BASE && vec < PIC_VECTOR_BASE + 16) {
		pic_interrupt(vec - PIC_VECTOR_BASE);
		return;
	}
	/* Nothing else may interrupt us: no local APIC use, no IPIs. */
	irq_unexpected++;
}
