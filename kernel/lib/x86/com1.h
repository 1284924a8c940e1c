/* COM1, the 16550 every isovisor image writes its console to. */
#ifndef KLIB_X86_COM1_H
#define KLIB_X86_COM1_H

#include <stdbool.h>

/* 115200 8N1, FIFOs on, no UART interrupts. */
void com1_init(void);
/* Send one byte, waiting a bounded time for the transmitter: a missing
 * UART must not hang anyone. False when it never said it was ready (the
 * byte is sent anyway). */
bool com1_putc(char c);

#endif
