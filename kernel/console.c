/*
 * The root's console: COM1, a 16550 at 115200 8N1, polled. The console
 * contract says every root line starts with "root: ". Under isovisor COM1
 * is emulated and the hypervisor adds that prefix to each line it gathers,
 * so the root must not; natively nobody else does, so the root adds it at
 * the start of every line. Text may arrive in pieces: the prefix goes out
 * when the first character of a line does, whatever piece it is in. One
 * lock serializes VPs per call, so klog() lines never interleave.
 */
#include <stdarg.h>
#include <string.h>
#include "root.h"
#include "x86/com1.h"
#include "x86/klib.h"

#define LINE_MAX 512
#define PREFIX "root: "

static spinlock_t console_lock;
static bool own_prefix = true;
static bool at_line_start = true;
static struct console_stats stats;

void console_init(void)
{
	com1_init();
}

void console_set_own_prefix(bool own)
{
	own_prefix = own;
}

static void uart_putc(char c)
{
	if (!com1_putc(c))
		stats.timeouts++;
	stats.bytes++;
}

static void put_locked(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (at_line_start && own_prefix)
			for (const char *p = PREFIX; *p; p++)
				uart_putc(*p);
		at_line_start = false;
		if (s[i] == '\n') {
			uart_putc('\r');
			at_line_start = true;
		}
		uart_putc(s[i]);
	}
}

static void lock(void)
{
	/* A panicking VP may find the lock held by one it stopped. */
	if (panic_in_progress) {
		if (!spin_lock_timeout(&console_lock, 10000000))
			console_break_lock();
		return;
	}
	spin_lock(&console_lock);
}

void console_break_lock(void)
{
	spin_unlock(&console_lock);
}

void console_write(const char *s, size_t len)
{
	lock();
	put_locked(s, len);
	spin_unlock(&console_lock);
}

static void vklog(const char *fmt, va_list ap)
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
	lock();
	/* A line started by console_write() on another VP ends first. */
	if (!at_line_start)
		put_locked("\n", 1);
	put_locked(line, (size_t)n);
	spin_unlock(&console_lock);
}

void boot_stage(uint64_t tsc, const char *what)
{
	klog("[boot tsc=%lu] %s", tsc ? tsc : rdtsc(), what);
}

void klog(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vklog(fmt, ap);
	va_end(ap);
}

/* The library's lines (register dumps, backtraces) are the root's. */
void klib_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vklog(fmt, ap);
	va_end(ap);
}

struct console_stats console_get_stats(void)
{
	struct console_stats s;

	lock();
	s = stats;
	spin_unlock(&console_lock);
	return s;
}
