/*
 * Fuzz target: the ACPI PM block (drivers/acpipm.c) under a byte stream
 * of port accesses of any size on its ports and their neighbours, and
 * clock steps. Invariants, abort() when one breaks: it claims exactly its
 * own 12 ports; PM1_CNT always reads SCI_EN; reads fit the access size;
 * the sleep callback only ever sees SLP_TYP values 0-7 and only on a
 * write with SLP_EN; the PM timer never goes backwards by less than a
 * wrap when the clock moves forward.
 */
#include <stdint.h>
#include <stdlib.h>
#include "acpipm.h"

static uint64_t now;
static unsigned sleeps, last_typ;

static uint64_t f_now(void *c) { (void)c; return now; }
static void f_log(void *c, const char *m) { (void)c; (void)m; }
static void f_sleep(void *c, unsigned t) { (void)c; if (t > 7) abort(); sleeps++; last_typ = t; }

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct platform p = { 0 };
	struct acpipm pm;

	p.now_ns = f_now;
	p.log = f_log;
	now = 0;
	acpipm_init(&pm, &p, ACPIPM_BASE, f_sleep, NULL);
	for (size_t i = 0; i + 4 <= n; i += 4) {
		uint8_t op = d[i];
		uint16_t port = (uint16_t)(ACPIPM_BASE - 2 + (d[i + 1] % 16));
		unsigned size = 1u << (op & 3) > 4 ? 4 : 1u << (op & 3);
		uint32_t v = (uint32_t)d[i + 2] | (uint32_t)d[i + 3] << 8 | (uint32_t)d[i + 3] << 24;
		bool write = op & 4, mine = port >= ACPIPM_BASE && port < ACPIPM_BASE + ACPIPM_PORTS;
		unsigned before = sleeps;
		uint32_t orig = v;

		if (op & 0x80) {
			now += (uint64_t)d[i + 2] << (d[i + 3] % 40);
			continue;
		}
		if (acpipm_io(&pm, port, size, write, &v) != mine)
			abort();
		if (!mine && v != orig)
			abort();
		if (!write && mine && size < 4 && (v >> (size * 8)))
			abort();
		if (sleeps != before && !write)
			abort();
		{
			uint32_t cnt;

			acpipm_io(&pm, ACPIPM_BASE + ACPIPM_PM1_CNT, 2, false, &cnt);
			if (!(cnt & 1))
				abort();
		}
	}
	(void)last_typ;
	return 0;
}
