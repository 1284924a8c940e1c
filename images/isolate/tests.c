/*
 * The isolate guest's mode dispatch and the x2APIC check. A child has no
 * local APIC it may program: under isovisor every x2APIC MSR is #GP, so
 * an IPI it tries to send (here a fixed one to "self", which on the
 * physical APIC would interrupt whoever owns this CPU) never leaves.
 */
#include "isolate.h"

#define X2APIC_ICR      0x830
#define ICR_SELF        (1ull << 18)    /* destination shorthand: self */
#define ICR_PROBE_VECTOR 0xf1
#define ICR_REPEATS     20
#define VEC_GP          13

static bool raised_gp(int err)
{
	return err && extable_last_vector == VEC_GP;
}

static void icr_tests(void)
{
	static const struct { uint32_t msr; bool write; } probes[] = {
		{ 0x830, false }, { 0x802, false }, { 0x80b, true },
		{ 0x838, true }, { 0x800, true }, { 0x8ff, false },
	};
	int err = wrmsr_safe(X2APIC_ICR, ICR_SELF | ICR_PROBE_VECTOR);
	unsigned gp = 0;
	uint64_t v;

	tap_result(raised_gp(err), "isolate icr: WRMSR 0x830 (a fixed IPI to "
		   "itself, vector %#x) %s", ICR_PROBE_VECTOR,
		   !err ? "went through: no #GP" :
		   raised_gp(err) ? "raised #GP" : "raised an exception other than #GP");
	for (unsigned i = 0; i < ARRAY_SIZE(probes); i++) {
		err = probes[i].write ? wrmsr_safe(probes[i].msr, 0) :
					rdmsr_safe(probes[i].msr, &v);
		if (raised_gp(err))
			gp++;
		else
			kprint("x2APIC MSR %#x %s: %s", probes[i].msr,
			       probes[i].write ? "write" : "read",
			       err ? "not #GP" : "no fault");
	}
	tap_result(gp == ARRAY_SIZE(probes), "isolate icr: %u of %u other x2APIC "
		   "accesses (ICR and ID read, EOI and timer write, 0x800, 0x8ff) "
		   "raised #GP", gp, (unsigned)ARRAY_SIZE(probes));
	gp = 0;
	for (unsigned i = 0; i < ICR_REPEATS; i++)
		gp += raised_gp(wrmsr_safe(X2APIC_ICR, ICR_SELF | ICR_PROBE_VECTOR));
	tap_result(gp == ICR_REPEATS, "isolate icr: %u of %u more ICR writes "
		   "raised #GP, and this guest still runs", gp, ICR_REPEATS);
}

void isolate_tests(void)
{
	bool any = false;

	if (cmdline_has(boot.cmdline, "icr")) {
		icr_tests();
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
			   "(icr, msr, fpu-writer, fpu-checker)");
}
