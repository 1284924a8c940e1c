/* COM1 at 0x3f8; see com1.h. */
#include <stdint.h>
#include <isovisor/x86.h>
#include "x86/com1.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define THRE_SPINS 100000

void com1_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x80);            /* DLAB: divisor follows */
	outb(COM1 + 0, 1);                      /* 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + UART_LCR, 0x03);            /* 8N1 */
	outb(COM1 + UART_FCR, 0xc7);            /* FIFO on, cleared */
	outb(COM1 + UART_MCR, 0x03);            /* DTR, RTS */
}

bool com1_putc(char c)
{
	bool ready = false;

	for (unsigned i = 0; i < THRE_SPINS && !ready; i++)
		ready = inb(COM1 + UART_LSR) & UART_LSR_THRE;
	outb(COM1 + UART_THR, (uint8_t)c);
	return ready;
}
