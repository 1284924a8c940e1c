/*
 * Test mode's TAP stream: "TAP version 13", one "ok N - <image> ..." or
 * "not ok N - <image> ..." per check, the plan "1..N" at the end, then the
 * final line the harness reads. Each TAP line goes to the UART in small
 * pieces, as a guest's stdio would, so the host's line gathering is part
 * of every result it reports.
 */
#include <stdarg.h>
#include "guest.h"

#define TAP_PIECE 8
/* Longer descriptions are cut: the root keeps 199 characters of each
 * (drivers/partmgr.c) and its UART model gathers lines of 256. */
#define TAP_DESC_MAX 190

static unsigned tap_count, tap_failed;

void tap_begin(void)
{
	kprint("TAP version 13");
}

void tap_result(bool ok, const char *fmt, ...)
{
	char line[32 + TAP_DESC_MAX + 2];
	va_list ap;
	int n;

	tap_count++;
	if (!ok)
		tap_failed++;
	n = ksnprintf(line, sizeof(line), "%s %u - ", ok ? "ok" : "not ok",
		      tap_count);
	va_start(ap, fmt);
	kvsnprintf(line + n, TAP_DESC_MAX + 1, fmt, ap);
	va_end(ap);
	for (n = 0; line[n]; n++)
		if (line[n] < ' ' || line[n] > '~')
			line[n] = '?';
	line[n++] = '\n';
	for (int i = 0; i < n; i += TAP_PIECE)
		console_write(line + i, (size_t)(n - i < TAP_PIECE ? n - i :
						  TAP_PIECE));
}

bool tap_end(void)
{
	kprint("1..%u", tap_count);
	if (tap_failed)
		kprint("test result: FAIL (%u of %u failed)", tap_failed,
		       tap_count);
	else
		kprint("test result: PASS (%u of %u)", tap_count, tap_count);
	return tap_count && !tap_failed;
}
