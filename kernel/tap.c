/*
 * Test mode's one TAP stream: the hypervisor's own boot self-test results
 * first (fetched with isovisor's HVCALL_ISOVISOR_GET_SELFTEST, their
 * descriptions already start with "hv "), then the root's checks, then
 * the plan and a final line. Numbering runs across both.
 */
#include <stdarg.h>
#include "root.h"

#define HV_SELFTEST_MAX 1000            /* sanity bound on what we fetch */

static unsigned tap_count, tap_failed;

void tap_begin(void)
{
	boot_stage(0, "first TAP line");
	klog("TAP version 13");
}

static void tap_line(bool ok, const char *desc, const char *directive)
{
	tap_count++;
	if (!ok)
		tap_failed++;
	klog("%s %u - %s%s", ok ? "ok" : "not ok", tap_count, desc, directive);
}

void tap_result(bool ok, const char *fmt, ...)
{
	char desc[256];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	tap_line(ok, desc, "");
}

void tap_skip(const char *why, const char *fmt, ...)
{
	char desc[256], directive[64];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	ksnprintf(directive, sizeof(directive), " # SKIP %s", why);
	tap_line(true, desc, directive);
}

bool tap_end(void)
{
	klog("1..%u", tap_count);
	if (tap_failed)
		klog("test result: FAIL (%u of %u failed)", tap_failed, tap_count);
	else
		klog("test result: PASS (%u of %u)", tap_count, tap_count);
	return tap_count && !tap_failed;
}

/* The description is the hypervisor's text: one line of printable
 * characters, whatever it holds. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if (*s < ' ' || *s > '~')
			*s = '?';
}

void tap_hv_results(void)
{
	struct hv_isovisor_selftest t;
	uint32_t total = 1;
	uint16_t status;

	if (!boot.hv)
		return;
	for (uint32_t i = 0; i < total && i < HV_SELFTEST_MAX; i++) {
		status = hv_get_selftest(i, &t);
		if (status != HV_STATUS_SUCCESS) {
			tap_result(false, "root hypercall: fetching the hypervisor's "
				   "self-test result %u of %u: %s (%#x)", i,
				   i ? total : 0, hv_status_name(status), status);
			return;
		}
		/* Trust the count from the first answer only. */
		if (i == 0)
			total = t.total;
		sanitize(t.description);
		tap_result(t.ok == 1, "%s", t.description);
	}
}
