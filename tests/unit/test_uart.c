/*
 * Host tests for the emulated 16550A (drivers/uart16550.c) and the
 * test-exit port (drivers/testexit.c), driven through their ports: line
 * assembly for the console, the divisor latch, IIR/LSR/MSR values and
 * priorities, the receive FIFO and overruns, loopback, IRQ 4.
 */
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "testexit.h"
#include "uart16550.h"

#define B       UART_COM1_BASE
#define MAXL    8

struct env {
	bool irq;
	unsigned rises, falls, bad_irq, logs;
	unsigned nlines;
	char line[MAXL][UART_LINE_MAX + 1];
	size_t len[MAXL];
	bool nul_ok;            /* every line came NUL-terminated */
	unsigned exits;
	uint32_t exit_code;
};

static struct env env;

static void env_irq(void *ctx, unsigned irq, bool level)
{
	struct env *e = ctx;

	if (irq != UART_COM1_IRQ || level == e->irq)
		e->bad_irq++;
	if (level)
		e->rises++;
	else
		e->falls++;
	e->irq = level;
}

static void env_line(void *ctx, const char *text, size_t len)
{
	struct env *e = ctx;

	if (text[len] != 0)
		e->nul_ok = false;
	if (e->nlines < MAXL) {
		memcpy(e->line[e->nlines], text, len);
		e->line[e->nlines][len] = 0;
		e->len[e->nlines] = len;
	}
	e->nlines++;
}

static void env_log(void *ctx, const char *msg)
{
	((struct env *)ctx)->logs++;
}

static void env_exit(void *ctx, uint32_t code)
{
	struct env *e = ctx;

	e->exits++;
	e->exit_code = code;
}

static const struct platform plat = {
	.ctx = &env, .irq_set = env_irq, .console_line = env_line,
	.log = env_log, .test_exit = env_exit,
};

static struct uart16550 uart;

static void setup(void)
{
	memset(&env, 0, sizeof(env));
	env.nul_ok = true;
	uart_init(&uart, &plat, B);
}

static uint8_t inb(unsigned reg)
{
	uint32_t v = 0xdeadbeef;

	uart_io(&uart, (uint16_t)(B + reg), 1, false, &v);
	return (uint8_t)v;
}

static void outb(unsigned reg, uint8_t v)
{
	uint32_t x = v;

	uart_io(&uart, (uint16_t)(B + reg), 1, true, &x);
}

static void puts_uart(const char *s)
{
	while (*s)
		outb(UART_THR, (uint8_t)*s++);
}

static void test_reset_values(void)
{
	setup();
	CHECK(inb(UART_LSR) == 0x60, "LSR after reset: THRE|TEMT");
	CHECK(inb(UART_IIR) == 0x01, "IIR after reset: no interrupt");
	CHECK(inb(UART_IER) == 0 && inb(UART_MCR) == 0 &&
	      inb(UART_LCR) == 0x03, "IER 0, MCR 0, LCR 8N1");
	CHECK(inb(UART_MSR) == 0xb0, "MSR: CTS, DSR, DCD, no deltas");
	CHECK(!env.irq && env.rises == 0, "IRQ 4 low");
	outb(UART_SCR, 0x5a);
	CHECK(inb(UART_SCR) == 0x5a, "scratch register holds a byte");
	outb(UART_IER, 0xf0);
	CHECK(inb(UART_IER) == 0, "IER keeps only its low 4 bits");
	outb(UART_MCR, 0xff);
	CHECK(inb(UART_MCR) == 0x1f, "MCR keeps only its low 5 bits");
}

static void test_lines(void)
{
	char big[301];

	setup();
	puts_uart("hello\r\nwor");
	CHECK(env.nlines == 1 && !strcmp(env.line[0], "hello") &&
	      env.len[0] == 5, "'hello\\r\\n': one line, CR dropped");
	puts_uart("ld\n");
	CHECK(env.nlines == 2 && !strcmp(env.line[1], "world"),
	      "a line gathered across writes");
	puts_uart("\n");
	CHECK(env.nlines == 3 && env.len[2] == 0, "a blank line");
	memset(big, 'x', 300);
	big[300] = 0;
	puts_uart(big);
	CHECK(env.nlines == 4 && env.len[3] == UART_LINE_MAX,
	      "300 bytes: a full 256-byte line emitted");
	puts_uart("\n");
	CHECK(env.nlines == 5 && env.len[4] == 44, "... and the 44 left");
	memset(big, 'y', 256);
	big[256] = 0;
	puts_uart(big);
	puts_uart("\r\n");
	CHECK(env.nlines == 6 && env.len[5] == 256,
	      "exactly 256 bytes then newline: one line, no blank one");
	puts_uart("tail");
	CHECK(env.nlines == 6, "a partial line waits");
	uart_flush(&uart);
	CHECK(env.nlines == 7 && !strcmp(env.line[6], "tail"),
	      "uart_flush emits it");
	uart_flush(&uart);
	CHECK(env.nlines == 7, "uart_flush with nothing pending: nothing");
	outb(UART_THR, 0);
	outb(UART_THR, 0xff);
	puts_uart("\n");
	CHECK(env.nlines == 8 && env.len[7] == 2 && env.line[7][1] == '\xff',
	      "NUL and 8-bit bytes pass through, length says it");
	CHECK(env.nul_ok, "every line NUL-terminated for the platform");
	CHECK(uart.lines == 8, "line counter");
}

static void test_dlab(void)
{
	setup();
	outb(UART_IER, 0x01);
	outb(UART_LCR, 0x83);
	outb(UART_DLL, 0x01);
	outb(UART_DLM, 0x02);
	CHECK(inb(UART_DLL) == 0x01 && inb(UART_DLM) == 0x02,
	      "DLAB=1: divisor latch reads back (115200 -> 1)");
	CHECK(env.nlines == 0 && uart.line_len == 0,
	      "DLL write is not a THR write");
	outb(UART_LCR, 0x03);
	CHECK(inb(UART_IER) == 0x01, "DLAB=0: IER unchanged by the DLM write");
	CHECK(uart.dll == 0x01 && uart.dlm == 0x02, "divisor kept");
	uart_receive(&uart, 'q');
	outb(UART_LCR, 0x83);
	CHECK(inb(UART_RBR) == 0x01 && (inb(UART_LSR) & UART_LSR_DR),
	      "DLAB=1: offset 0 is DLL, the byte stays");
	outb(UART_LCR, 0x03);
	CHECK(inb(UART_RBR) == 'q', "DLAB=0: offset 0 is RBR");
	CHECK(inb(UART_LCR) == 0x03, "LCR reads back");
}

static void test_thre_irq(void)
{
	unsigned rises;

	setup();
	outb(UART_IER, UART_IER_THRE);
	CHECK(env.irq && inb(UART_IER) == 0x02,
	      "enabling ETBEI with THR empty raises IRQ 4");
	CHECK(inb(UART_IIR) == 0x02, "IIR 02h: THR empty");
	CHECK(!env.irq && inb(UART_IIR) == 0x01,
	      "reading IIR acknowledged it: 01h, IRQ low");
	rises = env.rises;
	outb(UART_THR, 'a');
	CHECK(env.irq && env.rises == rises + 1,
	      "THR write: byte sent, THRE interrupt again");
	outb(UART_THR, 'b');
	CHECK(env.rises == rises + 2 && env.falls >= 2,
	      "each THR write pulses the line (an edge per byte)");
	outb(UART_IER, 0);
	CHECK(!env.irq && inb(UART_IIR) == 0x01, "IER 0: line low");
	outb(UART_IER, UART_IER_THRE);
	CHECK(env.irq && inb(UART_IIR) == 0x02,
	      "turning ETBEI on again interrupts again");
	CHECK(inb(UART_LSR) == 0x60, "LSR: THRE|TEMT throughout");
	CHECK(env.bad_irq == 0, "irq_set only on IRQ 4, only on changes");
}

static void test_rx(void)
{
	setup();
	CHECK(uart_receive(&uart, 'a'), "receive a byte");
	CHECK(inb(UART_LSR) == 0x61 && !env.irq,
	      "LSR 61h: DR; no IRQ with IER 0");
	outb(UART_IER, UART_IER_RDA);
	CHECK(env.irq && inb(UART_IIR) == 0x04, "ERBFI: IRQ, IIR 04h");
	CHECK(inb(UART_RBR) == 'a', "RBR reads the byte");
	CHECK(inb(UART_LSR) == 0x60 && !env.irq && inb(UART_IIR) == 0x01,
	      "RBR read cleared DR and the interrupt");
	CHECK(inb(UART_RBR) == 'a' && inb(UART_LSR) == 0x60,
	      "an empty RBR reads its stale byte, changes nothing");

	/* Priority: received data before THR empty. */
	outb(UART_IER, UART_IER_RDA | UART_IER_THRE);
	uart_receive(&uart, 'b');
	CHECK(inb(UART_IIR) == 0x04, "RDA outranks THRE");
	inb(UART_RBR);
	CHECK(inb(UART_IIR) == 0x02 && inb(UART_IIR) == 0x01,
	      "then THRE, acknowledged by the IIR read");

	/* Without FIFOs the holding register overruns: the new byte wins. */
	outb(UART_IER, UART_IER_RLS | UART_IER_RDA);
	uart_receive(&uart, '1');
	CHECK(!uart_receive(&uart, '2'), "second byte without FIFO: overrun");
	CHECK(inb(UART_IIR) == 0x06, "IIR 06h: line status outranks data");
	CHECK(inb(UART_LSR) == 0x63, "LSR: OE|DR");
	CHECK(inb(UART_LSR) == 0x61 && inb(UART_IIR) == 0x04,
	      "reading LSR clears OE");
	CHECK(inb(UART_RBR) == '2' && !(inb(UART_LSR) & UART_LSR_DR),
	      "the holding register has the newer byte");
	CHECK(uart.overruns == 1, "overrun counter");
}

static void test_fifo(void)
{
	bool ok = true;

	setup();
	outb(UART_FCR, 0x01);
	CHECK(inb(UART_IIR) == 0xc1, "FIFOs on: IIR C1h");
	outb(UART_IER, UART_IER_RDA);
	outb(UART_FCR, 0xc1);           /* trigger level 14 */
	for (unsigned i = 0; i < 3; i++)
		uart_receive(&uart, (uint8_t)('A' + i));
	CHECK(env.irq && inb(UART_IIR) == 0xcc,
	      "3 bytes under trigger 14: character timeout, CCh");
	for (unsigned i = 3; i < 14; i++)
		uart_receive(&uart, (uint8_t)('A' + i));
	CHECK(inb(UART_IIR) == 0xc4, "14 bytes: RX data, C4h");
	uart_receive(&uart, 'O');
	uart_receive(&uart, 'P');
	CHECK(!uart_receive(&uart, 'Q') && (inb(UART_LSR) & 0x03) == 0x03,
	      "17th byte: overrun, OE|DR");
	for (unsigned i = 0; i < 16; i++)
		if (inb(UART_RBR) != 'A' + i)
			ok = false;
	CHECK(ok, "the FIFO gives the first 16 bytes in order");
	CHECK(inb(UART_LSR) == 0x60 && !env.irq && inb(UART_IIR) == 0xc1,
	      "drained: LSR 60h, IIR C1h, IRQ low");
	uart_receive(&uart, 'x');
	uart_receive(&uart, 'y');
	outb(UART_FCR, 0xc3);           /* clear RX */
	CHECK(inb(UART_LSR) == 0x60 && !env.irq, "FCR bit 1 empties the FIFO");
	outb(UART_FCR, 0x41);           /* trigger 4 */
	for (unsigned i = 0; i < 4; i++)
		uart_receive(&uart, 'z');
	CHECK(inb(UART_IIR) == 0xc4, "trigger level 4 reached: C4h");
	outb(UART_FCR, 0x00);
	CHECK(inb(UART_IIR) == 0x01 && inb(UART_LSR) == 0x60,
	      "FIFOs off: emptied, IIR 01h without FIFO bits");
	uart_receive(&uart, 'k');
	CHECK(inb(UART_IIR) == 0x04, "FIFOs off: one byte is RX data");
	outb(UART_FCR, 0x06);           /* enable bit clear: no effect */
	CHECK(inb(UART_IIR) == 0x04 && (inb(UART_LSR) & UART_LSR_DR),
	      "FCR without its enable bit does nothing else");
}

static void test_loopback_msr(void)
{
	setup();
	outb(UART_MCR, UART_MCR_LOOP | 0x0f);
	CHECK(inb(UART_MSR) == 0xf0, "loopback: MCR outputs come back");
	outb(UART_MCR, UART_MCR_LOOP);
	CHECK(inb(UART_MSR) == 0x0f,
	      "all outputs dropped: DCTS, DDSR, TERI, DDCD");
	CHECK(inb(UART_MSR) == 0x00, "MSR read cleared the deltas");
	outb(UART_IER, UART_IER_MS);
	outb(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	CHECK(env.irq && inb(UART_IIR) == 0x00, "modem status interrupt");
	CHECK(inb(UART_MSR) == 0x11 && !env.irq && inb(UART_IIR) == 0x01,
	      "CTS + DCTS; MSR read acknowledges");
	outb(UART_IER, UART_IER_RDA);
	outb(UART_THR, 'L');
	CHECK(env.nlines == 0 && uart.line_len == 0 &&
	      inb(UART_LSR) == 0x61 && inb(UART_RBR) == 'L',
	      "loopback: THR byte is received, not printed");
	CHECK(!uart_receive(&uart, 'x') && inb(UART_LSR) == 0x60,
	      "loopback: the input pin is disconnected");
	outb(UART_MCR, 0);
	CHECK((inb(UART_MSR) & 0xf0) == 0xb0, "loopback off: modem lines back");
	puts_uart("out\n");
	CHECK(env.nlines == 1 && !strcmp(env.line[0], "out"),
	      "loopback off: printing again");
}

static void test_ports(void)
{
	uint32_t v = 0;
	unsigned logs;

	setup();
	CHECK(!uart_io(&uart, B - 1, 1, false, &v) &&
	      !uart_io(&uart, B + 8, 1, false, &v) &&
	      !uart_io(&uart, 0x2f8, 1, true, &v), "ports not the UART's");
	v = 0xdeadbeef;
	CHECK(uart_io(&uart, B + UART_LSR, 2, false, &v) && v == 0xb060,
	      "16-bit read of LSR: LSR then MSR");
	CHECK(uart_io(&uart, B + UART_MSR, 4, false, &v) && v == 0xffff00b0,
	      "32-bit read at MSR: MSR, SCR, then floating bytes");
	v = 0x0a41;
	uart_io(&uart, B + UART_THR, 2, true, &v);
	CHECK(uart.line_len == 1 && inb(UART_IER) == 0x0a,
	      "16-bit write at THR: 'A' to THR, 0Ah to IER");
	logs = env.logs;
	v = 0;
	CHECK(uart_io(&uart, B, 3, false, &v) && v == 0xffffffff &&
	      env.logs == logs + 1, "3-byte access: all ones, logged");
	outb(UART_LSR, 0);
	outb(UART_MSR, 0);
	CHECK(env.logs == logs + 3 && inb(UART_LSR) == 0x60,
	      "LSR/MSR writes ignored and logged");

	/* COM2 at 2f8h uses IRQ 3. */
	uart_init(&uart, &plat, 0x2f8);
	CHECK(uart.irq == 3 && uart_io(&uart, 0x2ff, 1, false, &v) &&
	      !uart_io(&uart, 0x3f8, 1, false, &v), "COM2: 2f8h-2ffh, IRQ 3");
}

static void test_testexit(void)
{
	struct testexit t;
	uint32_t v;

	memset(&env, 0, sizeof(env));
	testexit_init(&t, &plat, TESTEXIT_PORT);
	v = 0x12345601;
	CHECK(testexit_io(&t, 0xf4, 1, true, &v) && env.exits == 1 &&
	      env.exit_code == 0x01, "1-byte write: test_exit(01h)");
	v = 0xabcd;
	CHECK(testexit_io(&t, 0xf4, 2, true, &v) && env.exit_code == 0xabcd,
	      "2-byte write");
	v = 0x80000001;
	CHECK(testexit_io(&t, 0xf4, 4, true, &v) && env.exit_code == 0x80000001,
	      "4-byte write");
	v = 0;
	CHECK(testexit_io(&t, 0xf4, 4, false, &v) && v == 0xffffffff,
	      "4-byte read: ffffffffh");
	CHECK(testexit_io(&t, 0xf4, 1, false, &v) && v == 0xff,
	      "1-byte read: ffh");
	v = 7;
	CHECK(testexit_io(&t, 0xf7, 1, true, &v) && env.exit_code == 7,
	      "f7h is the device's too (iosize 4)");
	CHECK(!testexit_io(&t, 0xf8, 1, true, &v) &&
	      !testexit_io(&t, 0xf3, 1, true, &v) && env.exits == 4,
	      "f3h and f8h are not");
	v = 9;
	CHECK(testexit_io(&t, 0xf4, 3, true, &v) && env.exits == 4 &&
	      env.logs == 1, "3-byte write: ignored, logged");
	v = 0;
	CHECK(testexit_io(&t, 0xf4, 8, false, &v) && v == 0xffffffff &&
	      env.logs == 2, "8-byte read: all ones, logged");
	testexit_init(&t, &plat, 0x501);
	CHECK(testexit_io(&t, 0x501, 1, true, &v) && env.exits == 5,
	      "another base port");
}

int main(void)
{
	test_reset_values();
	test_lines();
	test_dlab();
	test_thre_irq();
	test_rx();
	test_fifo();
	test_loopback_msr();
	test_ports();
	test_testexit();
	return done_testing();
}
