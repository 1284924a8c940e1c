/*
 * A guest's console: COM1, a 16550 at 115200 8N1, polled on LSR THRE.
 * Under isovisor the root gathers what the guest writes into lines and
 * prefixes each with the partition's name, so the guest writes raw lines;
 * natively nobody does, so it starts each line with its own prefix (e.g.
 * "legacy: "), with the first byte of the line, whatever piece that byte
 * is in. One VP only: no lock.
 */
#include <stdarg.h>
#include <string.h>
#include "guest.h"
#include "x86/klib.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_MCR 4
#define LINE_MAX 512
/* Polls of LSR before a byte is sent anyway: a missing UART must not
 * hang the guest. */
#define THRE_SPINS 100000

static const char *line_prefix;
static bool at_line_start = true;

uint8_t uart_reg_read(unsigned reg)
{
	return inb((uint16_t)(COM1 + reg));
}

void uart_reg_write(unsigned reg, uint8_t v)
{
	outb((uint16_t)(COM1 + reg), v);
}

void console_init(void)
{
	uart_reg_write(UART_IER, 0x00);         /* no UART interrupts */
	uart_reg_write(UART_LCR, 0x80);         /* DLAB: divisor follows */
	uart_reg_write(0, 1);                   /* 115200 baud */
	uart_reg_write(1, 0);
	uart_reg_write(UART_LCR, 0x03);         /* 8N1, DLAB off */
	uart_reg_write(UART_FCR, 0xc7);         /* FIFOs on and cleared */
	uart_reg_write(UART_MCR, 0x03);         /* DTR, RTS; OUT2 off */
}

void console_set_prefix(const char *prefix)
{
	line_prefix = prefix;
}

bool uart_drain(void)
{
	for (unsigned i = 0; i < THRE_SPINS; i++)
		if ((uart_reg_read(UART_LSR) &
		     (UART_LSR_THRE | UART_LSR_TEMT)) ==
		    (UART_LSR_THRE | UART_LSR_TEMT))
			return true;
	return false;
}

static void uart_putc(char c)
{
	for (unsigned i = 0; i < THRE_SPINS; i++)
		if (uart_reg_read(UART_LSR) & UART_LSR_THRE)
			break;
	uart_reg_write(UART_THR, (uint8_t)c);
}

void console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (at_line_start && line_prefix)
			for (const char *p = line_prefix; *p; p++)
				uart_putc(*p);
		at_line_start = false;
		if (s[i] == '\n') {
			uart_putc('\r');
			at_line_start = true;
		}
		uart_putc(s[i]);
	}
}

static void vkprint(const char *fmt, va_list ap)
{
	char line[LINE_MAX];
	int n;

	n = kvsnprintf(line, sizeof(line) - 1, fmt, ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (n == 0 || line[n - 1] != '\n')
		line[n++] = '\n';
	if (!at_line_start)
		console_write("\n", 1);
	console_write(line, (size_t)n);
}

void kprint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vkprint(fmt, ap);
	va_end(ap);
}

/* The kernel library's lines (register dumps, backtraces) are ours. */
void klib_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vkprint(fmt, ap);
	va_end(ap);
}

void klib_panic_log(const char *reason)
{
	kprint("panic: %s", reason);
}

void klib_panic_finish(void)
{
	if (boot.test_mode) {
		kprint("test result: FAIL (panic)");
		test_exit(false);
	}
	halt_forever();
}
