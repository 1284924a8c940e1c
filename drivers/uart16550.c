/*
 * Emulated 16550A UART (see uart16550.h).
 *
 * Interrupts follow the chip's priority order, highest first, each only
 * when its IER bit is set:
 *   receiver line status (IIR 06h): OE set, until LSR is read;
 *   received data (04h): the FIFO holds at least the trigger level (or
 *     any byte when FIFOs are off); below the trigger the chip raises a
 *     character timeout (0Ch) after four character times: here at once,
 *     since time on the line is not modelled;
 *   THR empty (02h): set when a THR write has gone out (instantly here)
 *     or when IER.ETBEI is turned on, cleared by reading IIR while it is
 *     the reported source or by the next THR write;
 *   modem status (00h): a delta bit in MSR, until MSR is read.
 * IRQ 4 follows "some source pending" as a level; a THR write drops and
 * re-raises it, so an edge-triggered PIC sees each completed byte.
 * MCR.OUT2 does not gate the line (QEMU's behaviour, not the PC board's).
 */
#include <string.h>
#include "uart16550.h"

static const uint8_t rx_trigger[4] = { 1, 4, 8, 14 };

static void reject(struct uart16550 *u, const char *msg)
{
	u->rejected++;
	if (u->p && u->p->log)
		u->p->log(u->p->ctx, msg);
}

static bool fifo_enabled(const struct uart16550 *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

static uint8_t interrupt_source(const struct uart16550 *u)
{
	if ((u->ier & UART_IER_RLS) && u->lsr_errors)
		return UART_IIR_RLS;
	if ((u->ier & UART_IER_RDA) && u->rx_count) {
		if (!fifo_enabled(u) || u->rx_count >= rx_trigger[u->fcr >> 6])
			return UART_IIR_RDA;
		return UART_IIR_TIMEOUT;
	}
	if ((u->ier & UART_IER_THRE) && u->thre_pending)
		return UART_IIR_THRE;
	if ((u->ier & UART_IER_MS) && (u->msr & UART_MSR_DELTAS))
		return UART_IIR_MS;
	return UART_IIR_NONE;
}

static void update_irq(struct uart16550 *u)
{
	bool level = interrupt_source(u) != UART_IIR_NONE;

	if (level == u->irq_line)
		return;
	u->irq_line = level;
	if (u->p && u->p->irq_set)
		u->p->irq_set(u->p->ctx, u->irq, level);
}

/* ---- receive side ---------------------------------------------------- */

static void rx_clear(struct uart16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* The FIFO holds 16 bytes; with FIFOs off the holding register one. On
 * overrun the FIFO keeps its bytes, the holding register is overwritten. */
static bool rx_push(struct uart16550 *u, uint8_t byte)
{
	unsigned depth = fifo_enabled(u) ? UART_FIFO_SIZE : 1;
	bool ok = true;

	if (u->rx_count >= depth) {
		u->lsr_errors |= UART_LSR_OE;
		u->overruns++;
		if (!fifo_enabled(u))
			u->rx[u->rx_head] = byte;
		ok = false;
	} else {
		u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
		u->rx_count++;
	}
	update_irq(u);
	return ok;
}

static uint8_t rx_pop(struct uart16550 *u)
{
	if (u->rx_count) {
		u->last_rbr = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
		u->rx_count--;
		update_irq(u);
	}
	return u->last_rbr;     /* an empty RBR reads its stale byte */
}

bool uart_receive(struct uart16550 *u, uint8_t byte)
{
	if (u->mcr & UART_MCR_LOOP)
		return false;   /* loopback disconnects the input pin */
	return rx_push(u, byte);
}

/* ---- transmit side --------------------------------------------------- */

static void emit_line(struct uart16550 *u)
{
	u->line[u->line_len] = 0;
	u->lines++;
	if (u->p && u->p->console_line)
		u->p->console_line(u->p->ctx, u->line, u->line_len);
	u->line_len = 0;
}

void uart_flush(struct uart16550 *u)
{
	if (u->line_len)
		emit_line(u);
}

static void console_byte(struct uart16550 *u, uint8_t c)
{
	if (c == '\r')
		return;
	if (c == '\n') {
		/* Blank lines are output too, but not the end of a line
		 * that just filled the buffer. */
		if (u->line_len || !u->line_wrapped)
			emit_line(u);
		u->line_wrapped = false;
		return;
	}
	u->line_wrapped = false;
	u->line[u->line_len++] = (char)c;
	if (u->line_len == UART_LINE_MAX) {
		emit_line(u);
		u->line_wrapped = true;
	}
}

static void write_thr(struct uart16550 *u, uint8_t c)
{
	/* The write takes THRE away; the byte leaves at once, THRE is back. */
	u->thre_pending = false;
	update_irq(u);
	if (u->mcr & UART_MCR_LOOP)
		rx_push(u, c);
	else
		console_byte(u, c);
	u->thre_pending = true;
	update_irq(u);
}

/* ---- modem lines ----------------------------------------------------- */

/* Without loopback the (absent) modem holds CTS, DSR and DCD active; in
 * loopback the MCR outputs come back as the inputs. */
static uint8_t modem_inputs(const struct uart16550 *u)
{
	uint8_t m = 0;

	if (!(u->mcr & UART_MCR_LOOP))
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	if (u->mcr & UART_MCR_RTS)
		m |= UART_MSR_CTS;
	if (u->mcr & UART_MCR_DTR)
		m |= UART_MSR_DSR;
	if (u->mcr & UART_MCR_OUT1)
		m |= UART_MSR_RI;
	if (u->mcr & UART_MCR_OUT2)
		m |= UART_MSR_DCD;
	return m;
}

static void update_modem(struct uart16550 *u)
{
	uint8_t old = u->msr & 0xf0, now = modem_inputs(u);
	uint8_t changed = old ^ now, deltas = u->msr & UART_MSR_DELTAS;

	if (changed & UART_MSR_CTS)
		deltas |= 0x01;
	if (changed & UART_MSR_DSR)
		deltas |= 0x02;
	if ((changed & UART_MSR_RI) && !(now & UART_MSR_RI))
		deltas |= 0x04;         /* trailing edge of RI only */
	if (changed & UART_MSR_DCD)
		deltas |= 0x08;
	u->msr = now | deltas;
	update_irq(u);
}

/* ---- registers ------------------------------------------------------- */

static void write_fcr(struct uart16550 *u, uint8_t v)
{
	bool was = fifo_enabled(u);

	/* The other bits only take when the enable bit is written as 1;
	 * switching FIFO mode either way empties the FIFOs. */
	if (!(v & UART_FCR_ENABLE)) {
		u->fcr = 0;
		if (was)
			rx_clear(u);
	} else {
		if (!was || (v & UART_FCR_CLR_RX))
			rx_clear(u);
		u->fcr = v & 0xc1;
	}
	update_irq(u);
}

static uint8_t read_iir(struct uart16550 *u)
{
	uint8_t src = interrupt_source(u);

	if (src == UART_IIR_THRE) {
		u->thre_pending = false;
		update_irq(u);
	}
	return src | (fifo_enabled(u) ? UART_IIR_FIFO : 0);
}

static uint8_t read_lsr(struct uart16550 *u)
{
	uint8_t v = UART_LSR_THRE | UART_LSR_TEMT | u->lsr_errors;

	if (u->rx_count)
		v |= UART_LSR_DR;
	u->lsr_errors = 0;
	update_irq(u);
	return v;
}

static uint8_t read_msr(struct uart16550 *u)
{
	uint8_t v = u->msr;

	u->msr &= (uint8_t)~UART_MSR_DELTAS;
	update_irq(u);
	return v;
}

static uint8_t read_reg(struct uart16550 *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR:
		return dlab ? u->dll : rx_pop(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		return read_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return read_lsr(u);
	case UART_MSR:
		return read_msr(u);
	default:
		return u->scr;
	}
}

static void write_reg(struct uart16550 *u, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_THR:
		if (dlab)
			u->dll = v;
		else
			write_thr(u, v);
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		/* Turning ETBEI on while THR is empty interrupts at once. */
		if ((v & UART_IER_THRE) && !(u->ier & UART_IER_THRE))
			u->thre_pending = true;
		u->ier = v & 0x0f;
		update_irq(u);
		break;
	case UART_FCR:
		write_fcr(u, v);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		update_modem(u);
		break;
	case UART_LSR:
		reject(u, "uart: write to LSR ignored");
		break;
	case UART_MSR:
		reject(u, "uart: write to MSR ignored");
		break;
	default:
		u->scr = v;
		break;
	}
}

void uart_init(struct uart16550 *u, const struct platform *p, uint16_t base)
{
	memset(u, 0, sizeof(*u));
	u->p = p;
	u->base = base;
	/* COM2 and COM4 share IRQ 3, COM1 and COM3 IRQ 4; a caller wiring
	 * the UART elsewhere sets u->irq after init. */
	u->irq = (base == 0x2f8 || base == 0x2e8) ? 3 : UART_COM1_IRQ;
	u->dll = 0x0c;          /* 9600 baud, as many BIOSes leave it */
	u->lcr = 0x03;          /* 8N1 */
	u->thre_pending = true; /* THR is empty */
	u->msr = modem_inputs(u);
}

static bool own_port(const struct uart16550 *u, uint16_t port)
{
	return port >= u->base && port - u->base < 8;
}

bool uart_io(struct uart16550 *u, uint16_t port, unsigned size, bool write,
	     uint32_t *value)
{
	uint32_t result = 0;

	if (!own_port(u, port))
		return false;
	if (size != 1 && size != 2 && size != 4) {
		reject(u, "uart: bad port access size");
		if (!write)
			*value = 0xffffffff;
		return true;
	}
	/* An 8-bit device: the bus splits wider accesses into bytes of
	 * consecutive ports; the ones past the UART float high. */
	for (unsigned i = 0; i < size; i++) {
		uint16_t p = (uint16_t)(port + i);
		uint8_t b = 0xff;

		if (own_port(u, p) && write)
			write_reg(u, p - u->base, (uint8_t)(*value >> (8 * i)));
		else if (own_port(u, p))
			b = read_reg(u, p - u->base);
		result |= (uint32_t)b << (8 * i);
	}
	if (!write)
		*value = result;
	return true;
}
