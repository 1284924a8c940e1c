/*
 * The hypervisor's console: COM1, a 16550 at 115200 8N1, polled. Every
 * line carries its source prefix ("hv: ", "root: ", a partition's name)
 * and a whole line is written under one lock, so lines from different CPUs
 * and sources never interleave mid-line.
 */
#include <stdarg.h>
#include <string.h>
#include <isovisor/x86.h>
#include "hv.h"
#include "spinlock.h"
#include "x86/com1.h"

#define LINE_MAX 512

static spinlock_t console_lock;

void console_init(void)
{
	com1_init();
}

static void uart_putc(char c)
{
	com1_putc(c);
}

static void uart_puts(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

static void console_lock_acquire(void)
{
	/* A panicking CPU may die holding the lock; don't wait forever then. */
	if (panic_in_progress) {
		if (!spin_lock_timeout(&console_lock, 10000000))
			console_force_unlock();
		return;
	}
	spin_lock(&console_lock);
}

void console_force_unlock(void)
{
	spin_unlock(&console_lock);
}

/* Write `text` as lines, each started with "<source>: ". A trailing
 * partial line is completed with a newline. */
void console_log_prefixed(const char *source, const char *text, size_t len)
{
	size_t plen = strlen(source);
	size_t i = 0;

	console_lock_acquire();
	while (i < len) {
		size_t j = i;

		while (j < len && text[j] != '\n')
			j++;
		uart_puts(source, plen);
		uart_puts(": ", 2);
		uart_puts(text + i, j - i);
		uart_puts("\n", 1);
		i = j + 1;
	}
	spin_unlock(&console_lock);
}

void hv_log(const char *fmt, ...)
{
	char line[LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	/* hv_log("...\n") and hv_log("...") both print one line. */
	if (n > 0 && line[n - 1] == '\n')
		n--;
	console_log_prefixed("hv", line, (size_t)n);
}

void hv_boot_stage(uint64_t tsc, const char *what)
{
	hv_log("[boot tsc=%lu] %s", tsc ? tsc : rdtsc(), what);
}
