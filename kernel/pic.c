/*
 * The legacy PICs, which the root keeps quiet. The BIOS leaves their
 * vectors on top of the CPU exceptions (IRQ 0 on vector 8, #DF): move them
 * to 0x20-0x2f, then mask every line. The root takes interrupts through
 * the local APIC only (x86/apic.h).
 */
#include "root.h"

void pic_disable(void)
{
	outb(0x20, 0x11);               /* ICW1: edge, cascade, ICW4 */
	outb(0xa0, 0x11);
	outb(0x21, 0x20);               /* ICW2: vector bases */
	outb(0xa1, 0x28);
	outb(0x21, 0x04);               /* ICW3: slave on IRQ 2 */
	outb(0xa1, 0x02);
	outb(0x21, 0x01);               /* ICW4: 8086 mode */
	outb(0xa1, 0x01);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}
