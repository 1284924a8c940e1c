/*
 * The isolate guest's "msr" mode: the child CPU policy from inside
 * (hypervisor/childmsr.c, cpupolicy.c). The MSRs a 64-bit OS writes in
 * its first instructions read back what was written; values the hardware
 * refuses (non-canonical bases, reserved memory types, EFER bits the CPU
 * does not offer) raise #GP and change nothing; MTRRs keep per-VP
 * values; CPUID hides what a child cannot use. Every MSR written is put
 * back afterwards, so the guest's own state is as it was.
 */
#include "isolate.h"

#define VEC_GP          13
#define VEC_UD          6
#define NONCANONICAL    0x0000800000000000ull
#define PAT_MIX         0x0007010600070106ull   /* WB WC UC- UC, twice */
#define PAT_BAD         0x0007010600070102ull   /* type 2 is reserved */

static bool gp(int err)
{
	return err && extable_last_vector == VEC_GP;
}

/* Write `v`, read it back, put the old value back. */
static bool round_trip(uint32_t msr, uint64_t v)
{
	uint64_t old, got;

	if (rdmsr_safe(msr, &old) || wrmsr_safe(msr, v) || rdmsr_safe(msr, &got)) {
		kprint("MSR %#x: faulted (vector %lu)", msr,
		       (unsigned long)extable_last_vector);
		return false;
	}
	wrmsr_safe(msr, old);
	if (got != v)
		kprint("MSR %#x: wrote %#lx, read %#lx", msr, v, got);
	return got == v;
}

/* A write the hardware refuses: #GP, and the value stays. */
static bool refused(uint32_t msr, uint64_t v)
{
	uint64_t before, after;

	if (rdmsr_safe(msr, &before))
		return false;
	if (!gp(wrmsr_safe(msr, v)) || rdmsr_safe(msr, &after) || after != before) {
		kprint("MSR %#x: write of %#lx not refused with #GP", msr, v);
		return false;
	}
	return true;
}

static void base_msrs(void)
{
	static const struct { uint32_t msr; uint64_t v; } w[] = {
		{ MSR_FS_BASE, 0x00007f1234567000ull },
		{ MSR_GS_BASE, 0xffff888812345000ull },
		{ MSR_KERNEL_GS_BASE, 0x00007ffe00001000ull },
		{ MSR_STAR, 0x0023001000000000ull },
		{ MSR_LSTAR, 0xffffffff81000000ull },
		{ MSR_CSTAR, 0xffffffff81000040ull },
		{ MSR_SFMASK, 0x00047700ull },
		{ MSR_SYSENTER_CS, 0x10 },
		{ MSR_SYSENTER_ESP, 0xffffffff82000000ull },
		{ MSR_SYSENTER_EIP, 0xffffffff81000080ull },
	};
	static const uint32_t canon[] = { MSR_FS_BASE, MSR_GS_BASE,
		MSR_KERNEL_GS_BASE, MSR_LSTAR, MSR_CSTAR, MSR_SYSENTER_EIP };
	unsigned ok = 0, gps = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(w); i++)
		ok += round_trip(w[i].msr, w[i].v);
	tap_result(ok == ARRAY_SIZE(w), "isolate msr: %u of %u base and "
		   "syscall MSRs (FS/GS/KERNEL_GS base, STAR, LSTAR, CSTAR, "
		   "SFMASK, SYSENTER) read back what was written", ok,
		   (unsigned)ARRAY_SIZE(w));
	for (unsigned i = 0; i < ARRAY_SIZE(canon); i++)
		gps += refused(canon[i], NONCANONICAL);
	gps += refused(MSR_SFMASK, 1ull << 32);
	tap_result(gps == ARRAY_SIZE(canon) + 1, "isolate msr: %u of %u "
		   "non-canonical bases and reserved SFMASK bits raised #GP "
		   "and changed nothing", gps, (unsigned)ARRAY_SIZE(canon) + 1);
}

static void pat_mtrr(void)
{
	uint64_t cap = 0, def = 0;
	bool ok;

	ok = round_trip(MSR_PAT, PAT_MIX) && refused(MSR_PAT, PAT_BAD);
	tap_result(ok, "isolate msr: PAT reads back %#llx, a reserved type "
		   "raised #GP", (unsigned long long)PAT_MIX);
	rdmsr_safe(MSR_MTRR_CAP, &cap);
	rdmsr_safe(MSR_MTRR_DEF_TYPE, &def);
	ok = (cap & 0xff) == 8 && round_trip(MSR_MTRR_DEF_TYPE, 0xc00) &&
	     round_trip(MSR_MTRR_PHYS_BASE0, 0x80000006ull) &&
	     round_trip(MSR_MTRR_PHYS_BASE0 + 1, 0xf80000800ull) &&
	     round_trip(MSR_MTRR_FIX64K_00000, 0x0606060606060606ull) &&
	     round_trip(MSR_MTRR_FIX4K_F8000, 0x0505050505050505ull) &&
	     refused(MSR_MTRR_DEF_TYPE, 0x802) &&
	     refused(MSR_MTRR_FIX16K_80000, 0x0707070707070707ull) &&
	     refused(MSR_MTRR_PHYS_BASE0 + 1, 0xf80000801ull) &&
	     refused(MSR_MTRR_CAP, cap);
	tap_result(ok, "isolate msr: MTRRcap %#lx (8 variable ranges), "
		   "MTRRdefType %#lx; variable, fixed and default MTRRs read "
		   "back, reserved types and bits raised #GP", cap, def);
}

static void other_msrs(void)
{
	uint64_t apic = 0, t0, t1, tsc = 0, efer = 0;
	bool ok;

	rdmsr_safe(MSR_APIC_BASE, &apic);
	ok = apic == (0xfee00000ull | APIC_BASE_BSP | APIC_BASE_EN) &&
	     refused(MSR_APIC_BASE, apic & ~APIC_BASE_BSP) &&
	     refused(MSR_APIC_BASE, (apic & ~APIC_BASE_EN) | (1ull << 10)) &&
	     refused(MSR_APIC_BASE, apic | (1ull << 9));
	tap_result(ok, "isolate msr: APIC_BASE %#lx (BSP, enabled); clearing "
		   "BSP, EXTD without EN and reserved bit 9 raised #GP", apic);
	t0 = rdtsc();
	ok = !rdmsr_safe(MSR_TSC, &tsc);
	t1 = rdtsc();
	tap_result(ok && t0 <= tsc && tsc <= t1, "isolate msr: RDMSR TSC lies "
		   "between two RDTSCs");
	rdmsr_safe(MSR_EFER, &efer);
	ok = refused(MSR_EFER, efer | EFER_SVME) &&
	     refused(MSR_EFER, efer & ~EFER_LME) && refused(MSR_EFER, efer | (1ull << 20));
	tap_result(ok, "isolate msr: EFER %#lx: SVME, clearing LME with paging "
		   "on, reserved bit 20 raised #GP", efer);
	ok = gp(rdmsr_safe(MSR_VM_CR, &t0)) && gp(rdmsr_safe(MSR_VM_CR, &t0)) &&
	     gp(wrmsr_safe(0xc0011234, 0));
	tap_result(ok, "isolate msr: VM_CR (read twice) and MSR 0xc0011234 "
		   "raised #GP");
}

static void cpuid_hidden(void)
{
	struct cpuid_regs l1 = cpuid(1, 0), e0 = cpuid(0x80000000, 0);
	struct cpuid_regs e1 = cpuid(0x80000001, 0), ea = cpuid(0x8000000a, 0);
	struct cpuid_regs ef = cpuid(0x8000001f, 0);
	bool svm = e1.ecx & (1u << 2), vmx = l1.ecx & (1u << 5);
	bool mwait = l1.ecx & (1u << 3), x2apic = l1.ecx & (1u << 21);
	bool hv = l1.ecx & (1u << 31);
	bool svm_leaf = ea.eax | ea.ebx | ea.ecx | ea.edx;
	bool sev_leaf = ef.eax | ef.ebx | ef.ecx | ef.edx;

	tap_result(!svm && !vmx && !svm_leaf && !sev_leaf && !mwait && x2apic && hv,
		   "isolate cpuid: SVM %s, VMX %s, leaf 0x8000000a %s, leaf "
		   "0x8000001f %s, MONITOR %s, x2APIC %s, hypervisor bit %s "
		   "(max extended leaf %#x)", svm ? "SHOWN" : "hidden",
		   vmx ? "SHOWN" : "hidden", svm_leaf ? "NOT ZERO" : "zero",
		   sev_leaf ? "NOT ZERO" : "zero", mwait ? "SHOWN" : "hidden",
		   x2apic ? "shown" : "HIDDEN", hv ? "set" : "CLEAR", e0.eax);
}

static void mwait_refused(void)
{
	static uint64_t line[8] __attribute__((aligned(64)));
	bool mon = monitor_safe(line) && extable_last_vector == VEC_UD;
	bool mw = mwait_safe() && extable_last_vector == VEC_UD;

	tap_result(mon && mw, "isolate mwait: MONITOR %s, MWAIT %s",
		   mon ? "raised #UD" : "DID NOT raise #UD",
		   mw ? "raised #UD" : "DID NOT raise #UD");
}

void msr_tests(void)
{
	base_msrs();
	pat_mtrr();
	other_msrs();
	cpuid_hidden();
	mwait_refused();
}
