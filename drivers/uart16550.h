/*
 * An emulated 16550A UART as a guest sees it at a base port (COM1:
 * 0x3f8, IRQ 4): eight registers with the DLAB-switched divisor latch,
 * 16-byte receive FIFO, IIR interrupt identification, LSR/MSR status,
 * loopback. Transmission is instant: what the guest writes to THR is
 * gathered into lines for platform->console_line(); input arrives
 * through uart_receive().
 */
#ifndef DRIVERS_UART16550_H
#define DRIVERS_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "platform.h"

#define UART_COM1_BASE  0x3f8
#define UART_COM1_IRQ   4

/* Register offsets from the base port. */
#define UART_RBR        0       /* read, DLAB=0; THR on write */
#define UART_THR        0
#define UART_DLL        0       /* DLAB=1 */
#define UART_IER        1       /* DLAB=0 */
#define UART_DLM        1       /* DLAB=1 */
#define UART_IIR        2       /* read; FCR on write */
#define UART_FCR        2
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5
#define UART_MSR        6
#define UART_SCR        7

#define UART_IER_RDA    0x01    /* received data available */
#define UART_IER_THRE   0x02    /* transmitter holding register empty */
#define UART_IER_RLS    0x04    /* receiver line status */
#define UART_IER_MS     0x08    /* modem status */

#define UART_IIR_NONE   0x01
#define UART_IIR_MS     0x00
#define UART_IIR_THRE   0x02
#define UART_IIR_RDA    0x04
#define UART_IIR_RLS    0x06
#define UART_IIR_TIMEOUT 0x0c
#define UART_IIR_FIFO   0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLR_RX 0x02
#define UART_FCR_CLR_TX 0x04

#define UART_LCR_DLAB   0x80

#define UART_MCR_DTR    0x01
#define UART_MCR_RTS    0x02
#define UART_MCR_OUT1   0x04
#define UART_MCR_OUT2   0x08
#define UART_MCR_LOOP   0x10

#define UART_LSR_DR     0x01
#define UART_LSR_OE     0x02
#define UART_LSR_THRE   0x20
#define UART_LSR_TEMT   0x40

#define UART_MSR_DELTAS 0x0f
#define UART_MSR_CTS    0x10
#define UART_MSR_DSR    0x20
#define UART_MSR_RI     0x40
#define UART_MSR_DCD    0x80

#define UART_FIFO_SIZE  16
#define UART_LINE_MAX   256

struct uart16550 {
	const struct platform *p;
	uint16_t base;
	unsigned irq;

	uint8_t dll, dlm;
	uint8_t ier, lcr, mcr, scr;
	uint8_t fcr;            /* enable and trigger bits as last set */
	uint8_t lsr_errors;     /* OE: sticky until LSR is read */
	uint8_t msr;
	bool thre_pending;      /* THR-empty interrupt not yet acknowledged */
	bool irq_line;          /* last level sent to platform->irq_set */

	uint8_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	uint8_t last_rbr;

	char line[UART_LINE_MAX + 1];   /* NUL-terminated for the platform */
	size_t line_len;
	bool line_wrapped;      /* the last line ended by filling the buffer */

	uint64_t lines, overruns, rejected;
};

/* Reset state (as after power-on); `base` is the first of 8 ports. */
void uart_init(struct uart16550 *u, const struct platform *p, uint16_t base);

/*
 * One guest port access of `size` 1, 2 or 4 bytes (wider ones are split
 * into byte accesses of consecutive registers, as the ISA bus does). For
 * a read the result is stored zero-extended in *value. Returns false,
 * touching nothing, when `port` is not one of the UART's.
 */
bool uart_io(struct uart16550 *u, uint16_t port, unsigned size, bool write,
	     uint32_t *value);

/* A byte arrives on the receive line. Returns false when it overran the
 * receiver (OE set; lost as on the chip). */
bool uart_receive(struct uart16550 *u, uint8_t byte);

/* Emit a partial line still being gathered (e.g. when the partition
 * stops). */
void uart_flush(struct uart16550 *u);

#endif
