/*
 * A minimal TAP producer for host unit tests: CHECK() prints one
 * "ok N - desc" or "not ok N - desc" line per check, done_testing() prints
 * the plan and gives main() its exit status (nonzero if anything failed).
 */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static unsigned check_count;
static unsigned check_failed;

static bool __attribute__((format(printf, 4, 5), unused))
check_report(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	check_count++;
	printf("%sok %u - ", ok ? "" : "not ", check_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok) {
		check_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return ok;
}

/* CHECK(cond, "description", args...): the description is printf-style. */
#define CHECK(cond, ...) \
	check_report(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static int __attribute__((unused)) done_testing(void)
{
	printf("1..%u\n", check_count);
	if (check_failed)
		printf("# %u of %u checks failed\n", check_failed, check_count);
	return check_failed ? 1 : 0;
}

#endif
