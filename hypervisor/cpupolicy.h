/*
 * The child partition's CPU, as a written policy: what CPUID tells a
 * child (cpupolicy_cpuid) and the value rules its MSR writes are held to
 * (cpupolicy_*_valid). Pure functions of their arguments, no hypervisor
 * state, so tests/unit/test_cpuid_policy.c feeds them dumps of real
 * server CPUs. childmsr.c holds the MSR table that uses the rules.
 */
#ifndef HV_CPUPOLICY_H
#define HV_CPUPOLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <isovisor/x86.h>

/* What of the host the child's CPUID depends on besides the leaf itself. */
struct cpupolicy_host {
	uint32_t max_basic;             /* host CPUID 0 EAX */
	uint32_t max_ext;               /* host CPUID 0x80000000 EAX */
	bool xsave;                     /* the hypervisor switches XSAVE state */
	uint64_t xcr0;                  /* ...of these components (xcr0_host) */
	bool tsc_aux;                   /* TSC_AUX is kept per VP */
	uint64_t spec_ctrl;             /* SPEC_CTRL bits kept per VP */
	bool ibpb;                      /* PRED_CMD.IBPB may be passed on */
};

/* The child's answer to CPUID(leaf, sub), given the host's `h`. Leaves
 * 0x40000000-0x4fffffff (the TLFS ones) are not this function's: cpuid.c
 * answers them for every partition. OSXSAVE, OSPKE and leaf 0xd's sizes
 * follow the VP's own CR4 and XCR0 afterwards (xsave_cpuid). */
struct cpuid_regs cpupolicy_cpuid(const struct cpupolicy_host *host,
				  uint32_t leaf, uint32_t sub,
				  struct cpuid_regs h);

/* The EFER bits a child may set, given its own CPUID answers (SCE, LME,
 * NXE with NX, FFXSR with FXSR_OPT, TCE with TCE, LMSLE where the CPU
 * still has it; LMA is the CPU's). */
uint64_t cpupolicy_efer_writable(struct cpuid_regs ext1, struct cpuid_regs ext8,
				 bool amd);

/* Canonical with 48-bit linear addresses (the child never sees LA57). */
bool cpupolicy_canonical(uint64_t v);
/* A memory type byte an MTRR or PAT entry may hold: UC, WC, WT, WP, WB,
 * and for PAT also UC- (7). */
bool cpupolicy_pat_valid(uint64_t v);
bool cpupolicy_mtrr_fixed_valid(uint64_t v);
bool cpupolicy_mtrr_def_type_valid(uint64_t v);
/* Variable-range MTRR pair members, MSR 0x200 + 2n (base) and + 2n + 1
 * (mask), with `maxphyaddr` physical address bits. */
bool cpupolicy_mtrr_var_valid(uint32_t msr, uint64_t v, unsigned maxphyaddr);

#endif
