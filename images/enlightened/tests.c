/*
 * The enlightened guest's platform checks, one TAP result each, in this
 * order: the hypervisor CPUID leaves, the features we need, the
 * hypercall page, a null call, an unknown call code, reserved input
 * bits, the SynIC, HvPostMessage and HvSignalEvent to a connection nobody
 * made, an empty message slot and event flags, the reference counter,
 * the exit counters, the page pool; then the VMBus checks
 * (vmbus_tests.c), or with "net" the network's instead (net.c); with
 * "vps=N" the other VPs' (smp.c), and a "# exits" line for the bench.
 *
 * Each check that needs what an earlier one brought up is skipped when
 * that is missing: the earlier check already failed (under isovisor), or
 * there is no TLFS hypervisor at all (a native boot: every check skips).
 */
#include <string.h>
#include "enlightened.h"

#define HV_VENDOR "Microsoft Hv"
/* A connection id the root never makes (VMBus's are 1-4). */
#define UNCONNECTED_ID 0x7ffe
#define UNKNOWN_CALL_CODE 0x7fff
#define HV_HYPERCALL_RSVD_BIT (1ull << 31)      /* in HV_HYPERCALL_RSVD_MASK */
#define PAGES_TEST_BYTES (4 * MiB)
#define REF_SPIN 100000

static bool hc_up, synic_up;

/* "ok N - <desc> # SKIP <why>" when `cond` is false. */
static bool needs(bool cond, const char *desc, const char *why)
{
	if (!cond)
		tap_result(true, "%s # SKIP %s", desc, why);
	return cond;
}

static const char *why_not(bool needed_up)
{
	if (!hv.present)
		return "no TLFS hypervisor";
	return needed_up ? "" : "an earlier check failed";
}

/* 1. Fails under isovisor when the leaves are missing or wrong: no
 * hypervisor bit, another vendor, no "Hv#1" interface, or fewer leaves
 * than 0x40000005 (isovisor answers up to 0x40000006). */
static void check_detect(void)
{
	const char *desc = "enlightened hv: CPUID 0x40000000 vendor and interface";

	hv_detect();
	if (!boot.under_isovisor && !hv.present) {
		needs(false, desc, "no TLFS hypervisor (native boot)");
		return;
	}
	tap_result(hv.present && !strcmp(hv.vendor, HV_VENDOR) &&
		   hv.max_leaf >= HV_CPUID_IMPLEMENT_LIMITS,
		   "enlightened hv: CPUID 0x40000000 vendor '%s', max leaf %#x, "
		   "interface %#x (Hv#1), version %u.%u build %u", hv.vendor,
		   hv.max_leaf, hv.interface, hv.version >> 16,
		   hv.version & 0xffff, hv.build);
}

/* 2. Fails when the privilege mask lacks the hypercall MSR, the SynIC or
 * the reference counter. A child's EBX (PostMessages, SignalEvents) is
 * printed, not judged: isovisor offers the calls without the bits. */
static void check_features(void)
{
	const char *desc = "enlightened hv: CPUID 0x40000003 features";

	if (!needs(hv.present, desc, why_not(true)))
		return;
	tap_result((hv.features_eax & HV_ENLIGHTENED_NEEDS) == HV_ENLIGHTENED_NEEDS,
		   "%s: EAX %#x has hypercall MSR, SynIC, time ref count "
		   "(EBX %#x)", desc, hv.features_eax, hv.features_ebx);
}

/* 3. Fails when the guest OS id or the hypercall MSR do not read back, or
 * the hypervisor left the page empty. */
static void check_hypercall_page(void)
{
	const char *desc = "enlightened hypercall: guest OS id set, page enabled";
	const char *why = "";

	if (!needs(hv.present, desc, why_not(true)))
		return;
	hc_up = !hv_hypercall_init(&why);
	tap_result(hc_up, "%s%s%s", desc, hc_up ? "" : ": ", why);
}

/* 4-6. The call path and the input value's rules: a known fast call
 * succeeds, an unassigned code and a reserved bit are refused with the
 * TLFS's statuses. Each fails on any other status. */
static void check_hypercalls(void)
{
	const char *d1 = "enlightened hypercall: null call (0x8000) succeeds";
	const char *d2 = "enlightened hypercall: unknown code gets "
			 "HV_STATUS_INVALID_HYPERCALL_CODE";
	const char *d3 = "enlightened hypercall: a reserved input bit gets "
			 "HV_STATUS_INVALID_HYPERCALL_INPUT";
	uint16_t st;

	if (!hc_up) {
		needs(false, d1, why_not(hc_up));
		needs(false, d2, why_not(hc_up));
		needs(false, d3, why_not(hc_up));
		return;
	}
	st = hv_hypercall_fast0(HVCALL_ISOVISOR_NULL);
	tap_result(st == HV_STATUS_SUCCESS, "%s (status %#x)", d1, st);
	st = hv_hypercall_fast0(UNKNOWN_CALL_CODE);
	tap_result(st == HV_STATUS_INVALID_HYPERCALL_CODE, "%s (code %#x: "
		   "status %#x)", d2, UNKNOWN_CALL_CODE, st);
	st = (uint16_t)hv_hypercall(HVCALL_ISOVISOR_NULL | HV_HYPERCALL_FAST_BIT |
				    HV_HYPERCALL_RSVD_BIT, 0, 0);
	tap_result(st == HV_STATUS_INVALID_HYPERCALL_INPUT,
		   "%s (status %#x)", d3, st);
}

/* 7. Fails when a SynIC MSR does not read back what was written. */
static void check_synic(void)
{
	const char *desc = "enlightened synic: SIMP, SIEFP, SINT2 auto-EOI, "
			   "SCONTROL enabled";
	const char *why = "";

	if (!needs(hc_up, desc, why_not(hc_up)))
		return;
	synic_up = !synic_init(&why);
	tap_result(synic_up, "%s (vector %#x)%s%s", desc, SYNIC_VECTOR,
		   synic_up ? "" : ": ", why);
}

/* 8-9. Nobody connected UNCONNECTED_ID: both calls must be refused with
 * HV_STATUS_INVALID_CONNECTION_ID, and nothing may arrive. */
static void check_unconnected(void)
{
	const char *d1 = "enlightened synic: HvPostMessage to an unconnected id "
			 "gets HV_STATUS_INVALID_CONNECTION_ID";
	const char *d2 = "enlightened synic: HvSignalEvent to an unconnected id "
			 "gets HV_STATUS_INVALID_CONNECTION_ID";
	static const char msg[] = "hello, nobody";
	uint16_t st;

	if (!synic_up) {
		needs(false, d1, why_not(synic_up));
		needs(false, d2, why_not(synic_up));
		return;
	}
	st = hv_post_message(UNCONNECTED_ID, 1, msg, sizeof(msg));
	tap_result(st == HV_STATUS_INVALID_CONNECTION_ID, "%s (id %#x: status "
		   "%#x)", d1, UNCONNECTED_ID, st);
	st = hv_signal_event(UNCONNECTED_ID);
	tap_result(st == HV_STATUS_INVALID_CONNECTION_ID, "%s (id %#x: status "
		   "%#x)", d2, UNCONNECTED_ID, st);
}

/* 10. Nothing was sent to us: a wait with timeout 0 must return
 * SYNIC_E_TIMEOUT without halting, and no event flag of SINT2 is set. */
static void check_quiet(void)
{
	const char *desc = "enlightened synic: empty message slot and event "
			   "flags, a 0 ms wait does not halt";
	struct hv_self_counts before, after;
	uint8_t buf[HV_MESSAGE_PAYLOAD_BYTES];
	size_t len = sizeof(buf);
	bool flag;
	int ret;

	if (!needs(synic_up, desc, why_not(synic_up)))
		return;
	hv_self_counts(&before);
	ret = synic_wait_message(buf, &len, 0);
	hv_self_counts(&after);
	flag = synic_event_test_and_clear(2, 0);
	tap_result(ret == SYNIC_E_TIMEOUT && !flag && after.hlts == before.hlts,
		   "%s (wait %d, flag 0 %s, %lu HLT)", desc, ret,
		   flag ? "set" : "clear", after.hlts - before.hlts);
}

/* 11. Fails when the reference counter does not advance across a spin,
 * or jumps by more than a minute. */
static void check_time(void)
{
	const char *desc = "enlightened time: HV_X64_MSR_TIME_REF_COUNT advances";
	uint64_t t0, t1;

	if (!needs(hv.present, desc, why_not(true)))
		return;
	t0 = hv_time_ref_100ns();
	for (unsigned i = 0; i < REF_SPIN; i++)
		cpu_relax();
	t1 = hv_time_ref_100ns();
	tap_result(t1 > t0 && t1 - t0 < 600ull * 10000000,
		   "%s (%lu us across %u pauses)", desc, (t1 - t0) / 10,
		   REF_SPIN);
}

/* 12. isovisor lets a child read its own VP's exit counters. Fails when
 * the call is refused, or when a null call between two reads does not
 * show as exactly 2 more hypercall exits (the null call and the second
 * read, which is counted before it answers). */
static void check_exit_counters(void)
{
	const char *desc = "enlightened exits: IsovisorGetExitCounters for our VP";
	static struct hv_isovisor_exit_counters c0, c1;
	uint16_t s0, s1;
	uint64_t d;

	if (!needs(hc_up, desc, why_not(hc_up)))
		return;
	s0 = hv_exit_counters(0, &c0);
	hv_hypercall_fast0(HVCALL_ISOVISOR_NULL);
	s1 = hv_exit_counters(0, &c1);
	d = hv_exit_count(&c1, "hypercall") - hv_exit_count(&c0, "hypercall");
	tap_result(s0 == HV_STATUS_SUCCESS && s1 == HV_STATUS_SUCCESS && d == 2,
		   "%s (status %#x/%#x, %u reasons, hypercall exits +%lu across "
		   "a null call)", desc, s0, s1, c1.count, d);
}

/* 13. Fails when a 4 MiB run is not to be had, is not page-aligned or
 * zeroed, or freeing it does not give every page back. */
static void check_pages(void)
{
	const char *desc = "enlightened pages: 4 MiB contiguous, aligned, zeroed";
	uint64_t free0 = pages_free_bytes(), free1;
	uint8_t *p = page_alloc(PAGES_TEST_BYTES);
	bool zero = p != NULL;

	for (uint64_t i = 0; p && i < PAGES_TEST_BYTES; i += 8)
		if (*(uint64_t *)(p + i))
			zero = false;
	if (p) {
		memset(p, 0xa5, PAGES_TEST_BYTES);
		page_free(p, PAGES_TEST_BYTES);
	}
	free1 = pages_free_bytes();
	tap_result(p && !((uint64_t)p & (PAGE_SIZE - 1)) && zero && free1 == free0,
		   "%s (at %#lx; %lu MiB free; mib=%lu)", desc, (uint64_t)p,
		   free1 >> 20, enlightened_mib);
}

/* What the run cost in exits: the hypervisor's count for our VP by
 * reason, and the guest's own count of what it asked for. */
static void report_exits(void)
{
	static struct hv_isovisor_exit_counters c;
	struct hv_self_counts s;
	char line[200] = "";
	int n = 0;

	hv_self_counts(&s);
	kprint("# exits (guest's count): %lu hypercalls, %lu HLT, %lu "
	       "synthetic MSR accesses", s.hypercalls, s.hlts, s.msr_accesses);
	if (!hc_up || hv_exit_counters(0, &c) != HV_STATUS_SUCCESS)
		return;
	for (unsigned i = 0; i < c.count && n < (int)sizeof(line) - 32; i++)
		if (c.exits[i])
			n += ksnprintf(line + n, sizeof(line) - (size_t)n,
				       " %s %lu", c.names[i], c.exits[i]);
	kprint("# exits (hypervisor's count, vp 0): %lu:%s", hv_exit_total(&c),
	       line);
}

void enlightened_tests(void)
{
	check_detect();
	check_features();
	check_hypercall_page();
	check_hypercalls();
	check_synic();
	check_unconnected();
	check_quiet();
	check_time();
	check_exit_counters();
	check_pages();
	if (cmdline_has(boot.cmdline, "net"))
		enlightened_net_tests();
	else
		enlightened_vmbus_tests();
	enlightened_smp_tests(hc_up ? NULL : why_not(hc_up));
	report_exits();
	if (irq_unexpected)
		kprint("# %lu interrupts on unexpected vectors", irq_unexpected);
}
