/*
 * Test mode: the root checks, from the inside, what it was given: its
 * VPs, its memory (and that the hypervisor's is out of reach), exits
 * counted exactly, interrupts delivered to a halted VP, its console, and
 * INIT IPIs that must not reach a CPU. Each check reports one TAP line
 * that starts with "root "; what needs the hypervisor is a skip natively.
 */
#include <string.h>
#include "root.h"

#define NATIVE "native boot"
#define HV_MEMORY_GPA 0x100000ull       /* the hypervisor's image */
#define ALL_ONES 0xffffffffffffffffull
#define CPUID_LOOPS 100
#define VEC_TIMER 0x40
#define TIMER_COUNT 100000              /* ~1.6 ms at QEMU's 1 GHz / 16 */
#define HLT_DEADLINE_MS 2000
#define HLT_MAX_WAKES 1000

static volatile uint64_t timer_fired;

static void test_traps(void)
{
	uint64_t v = 0, efer = 0;
	/* A non-canonical address faults on every x86-64 CPU. */
	int bad = read_u64_safe(0x8000000000000000ull, &v);
	uint64_t vector = extable_last_vector;
	int ok = rdmsr_safe(MSR_EFER, &efer);

	tap_result(bad == -1 && vector == 13 && ok == 0 && (efer & EFER_LMA),
		   "root traps: a #GP at a marked instruction resumes at its "
		   "fixup, an unfaulting one runs normally");
}

static bool vp_on_own_stack(const struct vp_cpu *v)
{
	return v->seen_rsp < v->stack_top &&
	       v->seen_rsp >= v->stack_top - ROOT_STACK_SIZE;
}

static void test_vps(void)
{
	unsigned good = 0;

	for (unsigned s = 0; s < vp_count; s++) {
		const struct vp_cpu *v = &vps[s];
		bool distinct = true;

		if (!v->online)
			continue;
		for (unsigned t = 0; t < s; t++)
			if (vps[t].online && vps[t].seen_apic_id == v->seen_apic_id)
				distinct = false;
		if (distinct && v->seen_apic_id == v->apic_id && v->seen_own_gs &&
		    vp_on_own_stack(v))
			good++;
	}
	tap_result(vps_online == boot.acpi.cpu_count && good == vps_online,
		   "root vps: %u of %u enabled MADT cpus online (%s), %u on their "
		   "own stack with their own GDT/TSS and APIC id",
		   vps_online, boot.acpi.cpu_count,
		   boot.hv ? "HvCallStartVirtualProcessor" : "INIT-SIPI-SIPI",
		   good);
}

static void test_start_vp_errors(void)
{
	struct hv_initial_vp_context ctx;
	uint16_t again, bad;

	memset(&ctx, 0, sizeof(ctx));
	if (!boot.hv) {
		tap_skip(NATIVE, "root hypercall: StartVirtualProcessor of a "
			 "running VP -> HV_STATUS_INVALID_VP_STATE");
		tap_skip(NATIVE, "root hypercall: StartVirtualProcessor of VP 9999 "
			 "-> HV_STATUS_INVALID_VP_INDEX");
		return;
	}
	if (vp_count < 2 || !vps[1].online) {
		tap_skip("only one vp", "root hypercall: StartVirtualProcessor "
			 "of a running VP -> HV_STATUS_INVALID_VP_STATE");
	} else {
		/* Nothing in the context matters: the VP runs already. */
		again = hv_start_vp(vps[1].vp_index, &ctx);
		tap_result(again == HV_STATUS_INVALID_VP_STATE,
			   "root hypercall: StartVirtualProcessor of running VP %u "
			   "-> %s (%#x)", vps[1].vp_index, hv_status_name(again),
			   again);
	}
	bad = hv_start_vp(9999, &ctx);
	tap_result(bad == HV_STATUS_INVALID_VP_INDEX,
		   "root hypercall: StartVirtualProcessor of VP 9999 -> %s (%#x)",
		   hv_status_name(bad), bad);
}

/*
 * The hypervisor's memory at 1 MiB is not the root's: the map calls it
 * reserved, a read returns what a PC returns where nothing answers (all
 * ones) and a write goes nowhere. Both accesses are plain moves, which the
 * hypervisor decodes and completes.
 */
static void test_hv_memory(void)
{
	uint64_t before = 0, after = 0;
	int err;

	if (!boot.hv) {
		tap_skip(NATIVE, "root memory: a qword read of hypervisor memory "
			 "at 0x100000 returns all ones");
		tap_skip(NATIVE, "root memory: a write to hypervisor memory at "
			 "0x100000 is dropped");
		return;
	}
	err = read_u64_safe(HV_MEMORY_GPA, &before);
	tap_result(!err && before == ALL_ONES && !mm_is_ram(HV_MEMORY_GPA, 8),
		   "root memory: a qword read of hypervisor memory at 0x100000 "
		   "(not RAM in the root's map) returns %#lx", before);
	__asm__ volatile("movq %1, (%0)" : : "r"(HV_MEMORY_GPA),
			 "r"(0x5a5aa5a5c3c33c3cull) : "memory");
	err = read_u64_safe(HV_MEMORY_GPA, &after);
	tap_result(!err && after == ALL_ONES,
		   "root memory: a write to hypervisor memory at 0x100000 is "
		   "dropped (reads %#lx after)", after);
}

/*
 * Every free run of the root's allocator is RAM by its map and the runs
 * add up to the free count. Then pages are taken one by one, chained
 * through their first word, and the chain read back (every page mapped,
 * backed and holding what was written) and given back: the first
 * PAGES_SAMPLE pages and the highest free one, or, with `memsweep` on the
 * command line, every page (under TCG each first touch of a page costs a
 * nested page walk: about 12 s for 5 GiB).
 */
#define PAGES_SAMPLE 4096

static void test_pages(void)
{
	uint64_t before = root_pmm.free_pages, n = 0, bad = 0, walked = 0;
	uint64_t head = 0, pa, top = 0, counted = 0, bad_runs = 0, start, end = 0;
	uint64_t want = cmdline_has(boot.cmdline, "memsweep") ? before :
			before < PAGES_SAMPLE ? before : PAGES_SAMPLE;
	bool intact = true;

	for (uint64_t at = 0; (start = pmm_next_free_run(&root_pmm, at, &end)); at = end) {
		if (!mm_is_ram(start, end - start))
			bad_runs++;
		counted += (end - start) / PAGE_SIZE;
		top = end;
	}
	while (n < want && (pa = pmm_alloc(&root_pmm))) {
		uint64_t *page = (uint64_t *)pa;

		if (!mm_is_ram(pa, PAGE_SIZE))
			bad++;
		page[0] = head;
		page[1] = ~pa;
		head = pa;
		n++;
	}
	/* The highest free page too, when the sample did not reach it. */
	if (top && pmm_claim(&root_pmm, top - PAGE_SIZE, top)) {
		uint64_t *page = (uint64_t *)(top - PAGE_SIZE);

		page[0] = head;
		page[1] = ~(top - PAGE_SIZE);
		head = top - PAGE_SIZE;
		n++;
		want++;
	}
	while (head) {
		uint64_t *page = (uint64_t *)head;
		uint64_t next = page[0];

		if (page[1] != ~head || !pmm_free(&root_pmm, head))
			intact = false;
		head = next;
		if (++walked > n) {
			intact = false;
			break;
		}
	}
	tap_result(n == want && counted == before && !bad && !bad_runs && intact &&
		   walked == n && root_pmm.free_pages == before,
		   "root memory: %lu free pages (up to %lu MiB) in runs of RAM; %lu of "
		   "them allocated, written, read back %s and returned", counted,
		   top / MiB, n, intact ? "intact" : "CORRUPT");
}

static inline void cpuid_exit(void)
{
	uint32_t a = 0, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
}

/* Nothing else on this VP may run CPUID between the two reads: no
 * console output, no interrupts (they are off). */
static void test_exit_counters(void)
{
	uint64_t before = 0, after = 0;
	uint32_t self = vps[0].vp_index;
	uint16_t s1, s2;

	if (!boot.hv) {
		tap_skip(NATIVE, "root exits: %u CPUIDs raise this VP's cpuid exit "
			 "counter by exactly %u", CPUID_LOOPS, CPUID_LOOPS);
		return;
	}
	s1 = hv_get_exit_count(self, "cpuid", &before);
	for (unsigned i = 0; i < CPUID_LOOPS; i++)
		cpuid_exit();
	s2 = hv_get_exit_count(self, "cpuid", &after);
	tap_result(s1 == HV_STATUS_SUCCESS && s2 == HV_STATUS_SUCCESS &&
		   after - before == CPUID_LOOPS,
		   "root exits: %u CPUIDs raise VP %u's cpuid exit counter by %lu "
		   "(expected exactly %u)", CPUID_LOOPS, self, after - before,
		   CPUID_LOOPS);
}

/* A null hypercall succeeds, and the hypercall exit counter grows by
 * exactly the number made: the N calls plus the reading call itself, which
 * is counted before it reads. */
static void test_null_hypercalls(void)
{
	uint64_t before = 0, after = 0;
	uint32_t self = vps[0].vp_index;
	unsigned ok = 0;
	uint16_t s1, s2;

	if (!boot.hv) {
		tap_skip(NATIVE, "root hypercall: %u null hypercalls succeed and the "
			 "hypercall exit counter grows by exactly %u", CPUID_LOOPS,
			 CPUID_LOOPS + 1);
		return;
	}
	s1 = hv_get_exit_count(self, "hypercall", &before);
	for (unsigned i = 0; i < CPUID_LOOPS; i++)
		if (hv_status(hv_hypercall(HVCALL_ISOVISOR_NULL | HV_HYPERCALL_FAST_BIT,
					   0, 0)) == HV_STATUS_SUCCESS)
			ok++;
	s2 = hv_get_exit_count(self, "hypercall", &after);
	tap_result(s1 == HV_STATUS_SUCCESS && s2 == HV_STATUS_SUCCESS &&
		   ok == CPUID_LOOPS && after - before == CPUID_LOOPS + 1,
		   "root hypercall: %u of %u null hypercalls returned success; the "
		   "hypercall exit counter grew by %lu (expected %u)", ok,
		   CPUID_LOOPS, after - before, CPUID_LOOPS + 1);
}

static void timer_handler(struct cpu_regs *r)
{
	timer_fired++;
	apic_eoi();
}

static void watchdog_handler(struct cpu_regs *r)
{
	apic_eoi();
}

/*
 * A halted VP woken by its local APIC timer: natively that is the CPU's
 * own business; under isovisor HLT exits, the hypervisor idles the CPU,
 * takes the physical interrupt and injects it. "sti; hlt" cannot lose the
 * interrupt: STI's one-instruction shadow covers the HLT. If the timer
 * never fires, the first AP's watchdog IPI wakes us (with one VP there is
 * no one to do that, and the check would hang: the harness's time limit
 * catches it).
 */
static void test_hlt_timer(void)
{
	uint64_t deadline = rdtsc() + tsc_khz() * HLT_DEADLINE_MS;
	unsigned wakes = 0;

	irq_set_handler(VEC_TIMER, timer_handler);
	irq_set_handler(VEC_WATCHDOG, watchdog_handler);
	timer_fired = 0;
	watchdog_fired = false;
	if (vps_online > 1 && vps[1].online)
		watchdog_deadline = deadline;
	apic_timer_oneshot(VEC_TIMER, TIMER_COUNT);
	while (!timer_fired && wakes < HLT_MAX_WAKES &&
	       (int64_t)(rdtsc() - deadline) < 0) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		wakes++;
	}
	watchdog_deadline = 0;
	tap_result(timer_fired == 1 && !watchdog_fired,
		   "root hlt: the local APIC timer (one-shot, vector %#x) wakes "
		   "sti;hlt (%lu interrupt(s), %u wake(s)%s)", VEC_TIMER,
		   timer_fired, wakes, watchdog_fired ? ", watchdog fired" : "");
}

/*
 * One line longer than 100 characters, written in pieces with no newline
 * until the end: it must leave as one line (under isovisor, one line the
 * hypervisor gathers and prefixes once). The harness checks the serial
 * log; here we check every byte went out.
 */
static void test_console_long_line(void)
{
	static const char *const pieces[] = {
		"console: one line of 150 characters written in 6 pieces ",
		"abcdefghijklmnopqrstuvwxyz",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"0123456789",
		"abcdefghijklmnopqrstuvwxyz",
		"012345",
	};
	struct console_stats s0, s1;
	size_t len = 0, expect;

	for (unsigned i = 0; i < ARRAY_SIZE(pieces); i++)
		len += strlen(pieces[i]);
	expect = len + 2 + (boot.hv ? 0 : strlen("root: "));   /* CR LF */
	s0 = console_get_stats();
	for (unsigned i = 0; i < ARRAY_SIZE(pieces); i++)
		console_write(pieces[i], strlen(pieces[i]));
	console_write("\n", 1);
	s1 = console_get_stats();
	tap_result(len == 150 && s1.bytes - s0.bytes == expect &&
		   s1.timeouts == s0.timeouts,
		   "root console: a %zu-character line written in %zu pieces went "
		   "out whole (%lu bytes)", len, ARRAY_SIZE(pieces),
		   s1.bytes - s0.bytes);
}

/*
 * An INIT IPI through the local APIC's ICR would reset a physical CPU;
 * under isovisor CPUs belong to the hypervisor and it must drop the IPI.
 * The target VP keeps counting its heartbeat if it did.
 */
static void test_init_ipi(void)
{
	const struct vp_cpu *v = &vps[1];
	uint64_t h0, h1, h2;

	if (!boot.hv) {
		tap_skip(NATIVE, "root vps: an INIT IPI to another VP does not "
			 "reset it");
		return;
	}
	if (vp_count < 2 || !v->online) {
		tap_skip("only one vp", "root vps: an INIT IPI to another VP does "
			 "not reset it");
		return;
	}
	h0 = v->heartbeat;
	apic_send_init(v->apic_id);
	/* Under TCG on a busy host the other VP's thread may wait its turn:
	 * give it up to two seconds for each step, not a fixed slice. */
	h1 = h0;
	for (unsigned i = 0; i < 2000 && h1 <= h0; i++) {
		udelay(1000);
		h1 = v->heartbeat;
	}
	h2 = h1;
	for (unsigned i = 0; i < 2000 && h2 <= h1; i++) {
		udelay(1000);
		h2 = v->heartbeat;
	}
	tap_result(h1 > h0 && h2 > h1,
		   "root vps: an INIT IPI to VP %u (apic %u) does not reset it: "
		   "its heartbeat keeps rising", v->vp_index, v->apic_id);
}

void root_selftests(void)
{
	test_hv_cpuid();
	test_hv_svm_hidden();
	test_traps();
	test_hv_hypercall_page();
	test_hv_hypercall_errors();
	test_hv_vp_index();
	test_vps();
	test_start_vp_errors();
	test_hv_memory();
	test_pages();
	test_exit_counters();
	test_null_hypercalls();
	test_synic_ports();
	test_virtio_blk();
	/* Before any child runs: the disk to itself. */
	if (cmdline_has(boot.cmdline, "bench"))
		blk_bench();
	if (cmdline_u64(boot.cmdline, "netbench=", 0))
		net_bench();
	test_child_partition();
	test_partition_churn();
	test_hlt_timer();
	test_console_long_line();
	test_init_ipi();
	/* Last: the config's partitions, whose results join the stream. */
	partmgr_run();
}
