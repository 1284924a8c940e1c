/*
 * The isolate guest's mode dispatch and the "apic" mode: the child's own
 * virtual local APIC (hypervisor/vlapic.c), from inside. In the xAPIC
 * mode firmware leaves it in, the x2APIC MSRs raise #GP and the MMIO page
 * answers; switched to x2APIC, IPIs to itself arrive (and only to it: on
 * the physical APIC a self IPI would interrupt whoever owns the CPU),
 * TPR holds back what it should, the timer fires in one-shot, periodic
 * and TSC-deadline modes, and reserved accesses raise #GP. Every wait is
 * bounded by the TSC, so a broken APIC fails a check and never hangs.
 */
#include "isolate.h"

#define XAPIC_BASE      0xfee00000ull
#define MSR_APIC_BASE_  0x1b
#define BASE_EN         (1ull << 11)
#define BASE_EXTD       (1ull << 10)
#define X2_ID           0x802
#define X2_VER          0x803
#define X2_TPR          0x808
#define X2_EOI          0x80b
#define X2_LDR          0x80d
#define X2_ICR          0x830
#define X2_LVT_TIMER    0x832
#define X2_TIMER_ICR    0x838
#define X2_TIMER_CCR    0x839
#define X2_TIMER_DCR    0x83e
#define X2_SELF_IPI     0x83f
#define MSR_TSC_DEADLINE 0x6e0
#define ICR_SELF        (1ull << 18)    /* destination shorthand: self */
#define VEC_IPI         0xf1
#define VEC_TIMER       0xf2
#define VEC_GP          13
#define ICR_REPEATS     20
#define WAIT_CYCLES     4000000000ull   /* a check gives up after this */

static volatile unsigned ipis, ticks;
static bool x2;

static bool raised_gp(int err)
{
	return err && extable_last_vector == VEC_GP;
}

static volatile uint32_t *xapic(unsigned off)
{
	return (volatile uint32_t *)(XAPIC_BASE + off);
}

static void eoi(void)
{
	if (x2)
		wrmsr(X2_EOI, 0);
	else
		*xapic(0xb0) = 0;
}

void apic_irq(uint64_t vector)
{
	if (vector == VEC_IPI)
		ipis++;
	else if (vector == VEC_TIMER)
		ticks++;
	eoi();
}

/* Interrupts on until `*counter` reaches `want` or the TSC says enough. */
static bool wait_for(volatile unsigned *counter, unsigned want)
{
	uint64_t end = rdtsc() + WAIT_CYCLES;

	while (*counter < want && rdtsc() < end)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	__asm__ volatile("sti; nop; cli" ::: "memory");
	return *counter >= want;
}

static void xapic_tests(void)
{
	static const struct { uint32_t msr; bool write; } probes[] = {
		{ 0x830, true }, { 0x830, false }, { 0x802, false },
		{ 0x80b, true }, { 0x838, true }, { 0x800, true }, { 0x8ff, false },
	};
	uint64_t base = 0, v;
	unsigned gp = 0;
	uint32_t id, ver;
	bool ok;

	rdmsr_safe(MSR_APIC_BASE_, &base);
	tap_result(base == (XAPIC_BASE | BASE_EN | (1ull << 8)),
		   "isolate apic: APIC_BASE %#lx (BSP, enabled, xAPIC mode)", base);
	for (unsigned i = 0; i < ARRAY_SIZE(probes); i++) {
		int err = probes[i].write ? wrmsr_safe(probes[i].msr, ICR_SELF | VEC_IPI) :
					    rdmsr_safe(probes[i].msr, &v);

		gp += raised_gp(err);
	}
	tap_result(gp == ARRAY_SIZE(probes) && ipis == 0, "isolate apic: %u of %u "
		   "x2APIC MSR accesses in xAPIC mode raised #GP (the ICR write "
		   "first), %u interrupts", gp, (unsigned)ARRAY_SIZE(probes), ipis);
	id = *xapic(0x20);
	ver = *xapic(0x30);
	tap_result(id == 0 && (ver & 0xff) >= 0x10, "isolate apic: xAPIC page: "
		   "ID %#x, version %#x", id, ver);
	*xapic(0x310) = 0;
	*xapic(0x300) = (uint32_t)(ICR_SELF | VEC_IPI);
	ok = wait_for(&ipis, 1) && ipis == 1;
	tap_result(ok, "isolate apic: a self IPI "
		   "through the xAPIC ICR arrived once (%u)", ipis);
}

static void x2apic_tests(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE_), id = 1, ldr = 0, ccr = 1, dl = 1, v;
	unsigned gp = 0, n;
	bool ok;

	ok = !wrmsr_safe(MSR_APIC_BASE_, base | BASE_EXTD);
	x2 = ok;
	if (ok) {
		rdmsr_safe(X2_ID, &id);
		rdmsr_safe(X2_LDR, &ldr);
	}
	tap_result(ok && id == 0 && ldr == 1, "isolate apic: x2APIC mode on: "
		   "ID %lu, LDR %#lx", id, ldr);
	if (!ok)
		return;
	n = ipis;
	for (unsigned i = 0; i < ICR_REPEATS; i++) {
		wrmsr(X2_ICR, ICR_SELF | VEC_IPI);
		wait_for(&ipis, n + i + 1);
	}
	for (unsigned i = 0; i < ICR_REPEATS; i++) {
		wrmsr(X2_SELF_IPI, VEC_IPI);
		wait_for(&ipis, n + ICR_REPEATS + i + 1);
	}
	tap_result(ipis - n == 2 * ICR_REPEATS, "isolate apic: %u of %u self IPIs "
		   "(ICR and SELF_IPI) arrived", ipis - n, 2 * ICR_REPEATS);
	/* TPR class 15 holds back vector 0xf1 (class 15); TPR 0 lets it in. */
	wrmsr(X2_TPR, 0xf0);
	n = ipis;
	wrmsr(X2_SELF_IPI, VEC_IPI);
	__asm__ volatile("sti; nop; nop; nop; cli" ::: "memory");
	ok = ipis == n;
	wrmsr(X2_TPR, 0);
	tap_result(ok && wait_for(&ipis, n + 1), "isolate apic: TPR 0xf0 held "
		   "vector %#x back, TPR 0 let it in", VEC_IPI);
	/* The timer, divide by 1 (1 ns per count). */
	wrmsr(X2_TIMER_DCR, 0xb);
	wrmsr(X2_LVT_TIMER, VEC_TIMER);
	/* 50 ms: under TCG an exit to the root and back can take a few. */
	wrmsr(X2_TIMER_ICR, 50000000);
	rdmsr_safe(X2_TIMER_CCR, &ccr);
	ok = ccr > 0 && ccr <= 50000000 && wait_for(&ticks, 1);
	rdmsr_safe(X2_TIMER_CCR, &v);
	tap_result(ok && v == 0 && ticks == 1, "isolate apic: one-shot timer "
		   "fired once (count %lu after arming, %lu after)", ccr, v);
	wrmsr(X2_LVT_TIMER, VEC_TIMER | (1u << 17));
	wrmsr(X2_TIMER_ICR, 1000000);           /* 1 ms */
	ok = wait_for(&ticks, 6);
	wrmsr(X2_TIMER_ICR, 0);
	tap_result(ok, "isolate apic: periodic timer fired %u times", ticks - 1);
	wrmsr(X2_LVT_TIMER, VEC_TIMER | (2u << 17));
	n = ticks;
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 3000000);
	ok = wait_for(&ticks, n + 1);
	rdmsr_safe(MSR_TSC_DEADLINE, &dl);
	tap_result(ok && ticks == n + 1 && dl == 0, "isolate apic: TSC-deadline "
		   "timer fired once, IA32_TSC_DEADLINE reads %lu after", dl);
	wrmsr(X2_LVT_TIMER, 1u << 16);
	gp = raised_gp(wrmsr_safe(X2_ID, 5)) + raised_gp(wrmsr_safe(X2_EOI, 1)) +
	     raised_gp(wrmsr_safe(0x800, 0)) + raised_gp(rdmsr_safe(0x8ff, &v)) +
	     raised_gp(wrmsr_safe(X2_TPR, 0x100)) + raised_gp(rdmsr_safe(X2_EOI, &v)) +
	     raised_gp(wrmsr_safe(MSR_APIC_BASE_, base));
	tap_result(gp == 7, "isolate apic: %u of 7 reserved x2APIC accesses and "
		   "x2APIC -> xAPIC raised #GP, and this guest still runs", gp);
}

static void apic_tests(void)
{
	xapic_tests();
	x2apic_tests();
}

void isolate_tests(void)
{
	bool any = false;

	if (cmdline_has(boot.cmdline, "apic")) {
		apic_tests();
		any = true;
	}
	if (cmdline_has(boot.cmdline, "msr")) {
		msr_tests();
		any = true;
	}
	if (cmdline_has(boot.cmdline, "fpu-writer")) {
		fpu_tests(true);
		any = true;
	}
	if (cmdline_has(boot.cmdline, "fpu-checker")) {
		fpu_tests(false);
		any = true;
	}
	if (!any)
		tap_result(false, "isolate: no mode on the command line "
			   "(apic, msr, fpu-writer, fpu-checker)");
}
