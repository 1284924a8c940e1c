/*
 * Test mode: the hypervisor checks its own boot from the inside and
 * reports TAP on the console; the run's pass/fail comes from these.
 */
#include <stdarg.h>
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

#define MiB (1ul << 20)
#define GiB (1ul << 30)

#define MAX_RESULTS 1024               /* 64 children's TAP lines, gathered */

static struct {
	bool ok;
	char desc[sizeof(((struct hv_isovisor_selftest *)0)->description)];
} results[MAX_RESULTS];
static unsigned tap_count, tap_failed;

void tap_result(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (tap_count == MAX_RESULTS)
		panic("more than %u self-test results", MAX_RESULTS);
	va_start(ap, fmt);
	kvsnprintf(results[tap_count].desc, sizeof(results[0].desc), fmt, ap);
	va_end(ap);
	results[tap_count++].ok = ok;
	if (!ok)
		tap_failed++;
}

bool selftest_get(unsigned index, struct hv_isovisor_selftest *out)
{
	if (index >= tap_count)
		return false;
	out->total = tap_count;
	out->ok = results[index].ok;
	memcpy(out->description, results[index].desc, sizeof(out->description));
	return true;
}

bool selftest_report(void)
{
	hv_log("TAP version 13");
	for (unsigned i = 0; i < tap_count; i++)
		hv_log("%s %u - %s", results[i].ok ? "ok" : "not ok", i + 1,
		       results[i].desc);
	hv_log("1..%u", tap_count);
	if (tap_failed)
		hv_log("test result: FAIL (%u of %u failed)", tap_failed,
		       tap_count);
	else
		hv_log("test result: PASS (%u of %u)", tap_count, tap_count);
	return tap_count && !tap_failed;
}

/* Overlaps with something reserved. */
static bool run_reserved(uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < hv_reserved_count; i++)
		if (end > hv_reserved[i].start && start < hv_reserved[i].end)
			return true;
	return false;
}

static bool run_usable(uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < hv_usable.count; i++)
		if (start >= hv_usable.r[i].start && end <= hv_usable.r[i].end)
			return true;
	return false;
}

/*
 * The allocator's view of memory, checked run by run: every free run lies
 * in usable RAM and outside everything reserved, and the runs add up to
 * its free count. Then ALLOC_SAMPLE pages taken one by one: each one free
 * before, distinct, mapped and holding what was written to it; all given
 * back. (Taking every page one by one cost 1.4 s of a 512 MiB boot under
 * TCG and 12 s at 5 GiB; the host unit test test_pmm does that part.)
 * The allocator's next-fit cursor is put back where it was: left 16 MiB
 * up, the pages the hypervisor takes next (each CPU's host save area and
 * VMCB) would land wherever that is, at 16 MiB and up once the modules
 * below are small, inside the root kernel's image (linked at 16 MiB),
 * which then cannot be loaded.
 */
#define ALLOC_SAMPLE 4096

static void test_allocator(void)
{
	static uint64_t taken[ALLOC_SAMPLE];
	uint64_t before = hv_pmm.free_pages, counted = 0, runs = 0, bad_runs = 0;
	uint64_t cursor = hv_pmm.next;
	uint64_t start, end = 0, top = 0, n = 0, bad = 0;
	bool chain_ok = true, double_free_refused;

	for (uint64_t at = 0; (start = pmm_next_free_run(&hv_pmm, at, &end)); at = end) {
		if (!run_usable(start, end) || run_reserved(start, end))
			bad_runs++;
		counted += (end - start) / PAGE_SIZE;
		top = end - PAGE_SIZE;
		runs++;
	}
	while (n < ALLOC_SAMPLE) {
		uint64_t pa = pmm_alloc(&hv_pmm);
		uint64_t *page;

		if (!pa)
			break;
		if (!run_usable(pa, pa + PAGE_SIZE) || run_reserved(pa, pa + PAGE_SIZE) ||
		    (pa & (PAGE_SIZE - 1)) || pmm_is_free(&hv_pmm, pa))
			bad++;
		page = phys_to_virt(pa);
		page[0] = pa;
		page[511] = ~pa;
		taken[n++] = pa;
	}
	for (uint64_t k = 0; k < n; k++) {
		const uint64_t *page = phys_to_virt(taken[k]);

		if (page[0] != taken[k] || page[511] != ~taken[k] ||
		    !pmm_free(&hv_pmm, taken[k]))
			chain_ok = false;       /* a page handed out twice, or unmapped */
	}
	/* The highest free page can be taken (memory above 4 GiB is used). */
	if (top && (!pmm_claim(&hv_pmm, top, top + PAGE_SIZE) || !pmm_free(&hv_pmm, top)))
		top = 0;
	start = pmm_alloc(&hv_pmm);
	double_free_refused = start && pmm_free(&hv_pmm, start) &&
			      !pmm_free(&hv_pmm, start) &&
			      hv_pmm.free_pages == before;
	hv_pmm.next = cursor;
	tap_result(counted == before && bad_runs == 0 && runs > 0,
		   "hv memory: %lu free pages in %lu runs, %lu runs outside usable RAM "
		   "or over something reserved", counted, runs, bad_runs);
	tap_result(n == (before < ALLOC_SAMPLE ? before : ALLOC_SAMPLE) && bad == 0 &&
		   chain_ok && hv_pmm.free_pages == before,
		   "hv memory: %lu pages allocated one by one, %lu outside usable RAM "
		   "or reserved, written and read back %s, all returned",
		   n, bad, chain_ok ? "intact" : "CORRUPT");
	tap_result(hv_mm_stats.top <= 4 * GiB || top >= 4 * GiB,
		   "hv memory: highest page handed out at %lu MiB, the highest free one "
		   "taken and given back (usable RAM ends at %lu MiB)", top / MiB, hv_mm_stats.top / MiB);
	tap_result(double_free_refused,
		   "hv memory: a double free is refused and changes nothing");
}

static void test_cpus(void)
{
	unsigned ok_cpus = 0;

	tap_result(cpus_online == boot.acpi.cpu_count,
		   "hv cpus: %u of %u enabled cpus online", cpus_online,
		   boot.acpi.cpu_count);
	for (unsigned i = 0; i < cpu_count; i++) {
		struct percpu *p = cpus[i];
		bool distinct = true;

		if (!p || !p->online)
			continue;
		for (unsigned j = 0; j < i; j++)
			if (cpus[j] && cpus[j]->apic_id == p->apic_id)
				distinct = false;
		if (distinct && p->seen_gs == p &&
		    p->seen_rsp < p->stack_top &&
		    p->seen_rsp >= p->stack_top - HV_STACK_SIZE)
			ok_cpus++;
	}
	tap_result(ok_cpus == cpus_online,
		   "hv cpus: %u cpu(s) run on their own stack with their own "
		   "per-cpu data and a distinct APIC id", ok_cpus);
}

static void test_exceptions(void)
{
	uint64_t v = 0, efer_v = 0;
	/* A non-canonical address faults on every x86-64 CPU and under
	 * QEMU TCG, which (unlike hardware) reads unknown MSRs as 0. */
	int bad = read_u64_safe(0x8000000000000000ull, &v);
	int efer = rdmsr_safe(MSR_EFER, &efer_v);

	tap_result(bad == -1 && efer == 0 && (efer_v & EFER_LMA),
		   "hv traps: a #GP at a marked instruction resumes at its "
		   "fixup; unmarked ones panic");
}

void hv_selftests(void)
{
	test_cpus();
	test_allocator();
	test_exceptions();
}
