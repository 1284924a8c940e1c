/*
 * The child's CPUID and MSR value rules (cpupolicy.h). CPUID is an
 * allowlist: for each leaf the child may see, the bits it may see, and
 * every other leaf reads as zero. A bit is allowed when the child can use
 * what it announces here: an instruction that runs natively under SVM
 * with nothing of the host's behind it, or an MSR this hypervisor keeps
 * per VP (childmsr.c). Hidden, and why:
 *   - virtualization: SVM (0x80000001 ECX 2, leaf 0x8000000a), VMX and
 *     SMX (leaf 1 ECX 5, 6), SKINIT: no nested virtualization;
 *   - memory encryption: SME/SEV (leaf 0x8000001f), TME, PCONFIG, SGX
 *     (leaf 0x12): the host's keys are not the child's;
 *   - MONITOR/MWAIT, MWAITX: not offered, and intercepted (#UD) so a
 *     child cannot park a physical CPU with them; WAITPKG: not
 *     intercepted here, so hidden;
 *   - performance monitoring: leaf 0xa, PDCM, DS/DTES64, the AMD
 *     PerfCtrExt bits, IBS, LWP, leaves 0x8000001b/1c/22, Intel PT (0x14),
 *     arch LBR (0x1c), IRPERF, RDPRU: no counters are switched per VP;
 *   - of the local APIC's features, ExtApicSpace, CR8 legacy and ARAT:
 *     a child's APIC (vlapic.c) is a plain x2APIC-capable one, with the
 *     TSC-deadline timer (APIC, x2APIC and TSC deadline are shown);
 *   - machine check (MCE, MCA) and the power and thermal interfaces
 *     (leaf 6, EST, TM, ACPI, HWPstate, 0x80000007 except invariant TSC):
 *     their MSRs are the host's;
 *   - features whose MSRs are not virtualized: TSC_ADJUST, ARCH_CAPABILITIES,
 *     CORE_CAPABILITIES, L1D_FLUSH, OSVW, NodeId, DR address masks,
 *     XSAVES/XFD (xsave.c), CET, PKS, ENQCMD, UINTR, VIRT_SSBD, PSFD,
 *     AutoIBRS (an EFER bit), LA57 (canonical checks stay 48-bit);
 *   - XSAVE features whose state xcr0_host does not switch (AVX, AVX-512,
 *     MPX, PKU, AMX: xsave.c leaves tiles out).
 * Topology leaves (1 EBX, 4, 0xb, 0x1f, 0x8000001d/1e/26) and the cache,
 * TLB, brand and frequency leaves pass as the host has them: a child's VP
 * runs on a physical CPU of the host, and a topology of its own is later
 * work. Bit numbers are the SDM's (vol. 2, CPUID) and the APM's (vol. 3,
 * appendix E).
 */
#include "cpupolicy.h"

#define B(n) (1u << (n))

/* Leaf 1 EDX: FPU VME DE PSE TSC MSR PAE CX8 SEP MTRR PGE CMOV PAT PSE36
 * CLFSH MMX FXSR SSE SSE2 SS HTT, APIC (the virtual one). Not: MCE 7,
 * MCA 14, PSN 18, DS 21, ACPI 22, TM 29, PBE 31. */
#define L1_EDX (B(0) | B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(8) | B(9) | \
		B(11) | B(12) | B(13) | B(15) | B(16) | B(17) | B(19) | \
		B(23) | B(24) | B(25) | B(26) | B(27) | B(28))
/* Leaf 1 ECX: SSE3 PCLMUL SSSE3 CX16 PCID SSE4.1 SSE4.2 x2APIC MOVBE
 * POPCNT TSC-deadline AES OSXSAVE RDRAND (x2APIC and TSC-deadline:
 * the virtual APIC's, whatever the host has); FMA, AVX, F16C with AVX;
 * XSAVE with XSAVE. */
#define L1_ECX (B(0) | B(1) | B(9) | B(13) | B(17) | B(19) | B(20) | \
		B(22) | B(23) | B(25) | B(27) | B(30))
#define L1_ECX_VAPIC (B(21) | B(24))
#define L1_ECX_AVX (B(12) | B(28) | B(29))
#define L1_ECX_XSAVE B(26)
#define L1_ECX_HYPERVISOR B(31)
/* Leaf 7.0 EBX: FSGSBASE BMI1 HLE FDP_EXCPTN_ONLY SMEP BMI2 ERMS INVPCID
 * RTM ZERO_FCS_FDS RDSEED ADX SMAP CLFLUSHOPT CLWB SHA; AVX2 with AVX;
 * the AVX-512 ones (F DQ IFMA PF ER CD BW VL) with AVX-512; MPX with MPX. */
#define L7_EBX (B(0) | B(3) | B(4) | B(6) | B(7) | B(8) | B(9) | B(10) | \
		B(11) | B(13) | B(18) | B(19) | B(20) | B(23) | B(24) | B(29))
#define L7_EBX_AVX B(5)
#define L7_EBX_AVX512 (B(16) | B(17) | B(21) | B(26) | B(27) | B(28) | \
		       B(30) | B(31))
#define L7_EBX_MPX B(14)
/* Leaf 7.0 ECX: PREFETCHWT1 UMIP OSPKE GFNI CLDEMOTE MOVDIRI MOVDIR64B;
 * VAES VPCLMULQDQ with AVX; VBMI VBMI2 VNNI BITALG VPOPCNTDQ with
 * AVX-512; PKU with PKRU; RDPID with TSC_AUX. */
#define L7_ECX (B(0) | B(2) | B(4) | B(8) | B(25) | B(27) | B(28))
#define L7_ECX_AVX (B(9) | B(10))
#define L7_ECX_AVX512 (B(1) | B(6) | B(11) | B(12) | B(14))
#define L7_ECX_PKU B(3)
#define L7_ECX_RDPID B(22)
/* Leaf 7.0 EDX: FSRM MD_CLEAR SERIALIZE; 4VNNIW 4FMAPS VP2INTERSECT FP16
 * with AVX-512; IBRS/IBPB, STIBP, SSBD with the SPEC_CTRL bits. */
#define L7_EDX (B(4) | B(10) | B(14))
#define L7_EDX_AVX512 (B(2) | B(3) | B(8) | B(23))
#define L7_EDX_IBRS B(26)
#define L7_EDX_STIBP B(27)
#define L7_EDX_SSBD B(31)
/* Leaf 7.1 EAX: FZRM FSRS FSRC; AVX-VNNI with AVX; AVX512_BF16. */
#define L71_EAX (B(10) | B(11) | B(12))
#define L71_EAX_AVX B(4)
#define L71_EAX_AVX512 B(5)
/* 0x80000001 EDX: the leaf 1 bits AMD mirrors, SYSCALL NX MMXEXT
 * FXSR_OPT PAGE1GB LM 3DNOWEXT 3DNOW; RDTSCP with TSC_AUX. */
#define E1_EDX ((L1_EDX & 0x0183f3ffu) | B(11) | B(20) | B(22) | B(25) | \
		B(26) | B(29) | B(30) | B(31))
#define E1_EDX_RDTSCP B(27)
/* 0x80000001 ECX: LAHF CMP_LEGACY ABM SSE4A MISALIGNSSE 3DNOWPREFETCH
 * TCE TBM TOPOEXT; XOP, FMA4 with AVX. */
#define E1_ECX (B(0) | B(1) | B(5) | B(6) | B(7) | B(8) | B(17) | B(21) | \
		B(22))
#define E1_ECX_AVX (B(11) | B(16))
#define E1_ECX_TCE B(17)
#define E1_EDX_FFXSR B(25)
#define E1_EDX_NX B(20)
/* 0x80000007 EDX: invariant TSC only. */
#define E7_EDX B(8)
/* 0x80000008 EBX: CLZERO XSAVEERPTR WBNOINVD INT_WBINVD IBRS_ALWAYS_ON
 * STIBP_ALWAYS_ON IBRS_PREFERRED IBRS_SAME_MODE EFER_LMSLE_UNSUPPORTED
 * SSB_NO BTC_NO IBPB_RET; IBPB, IBRS, STIBP, SSBD as the host keeps them. */
#define E8_EBX (B(0) | B(2) | B(9) | B(13) | B(16) | B(17) | B(18) | \
		B(19) | B(20) | B(26) | B(29) | B(30))
#define E8_EBX_IBPB B(12)
#define E8_EBX_IBRS B(14)
#define E8_EBX_STIBP B(15)
#define E8_EBX_SSBD B(24)
#define E8_EBX_LMSLE_UNSUPPORTED B(20)
/* 0x80000021 EAX: NO_NESTED_DATA_BP LFENCE_RDTSC NULL_SEL_CLR_BASE
 * NO_SMM_CTL_MSR FSRS FSRC PREFETCHI IBPB_BRTYPE SRSO_NO. */
#define E21_EAX (B(0) | B(2) | B(6) | B(9) | B(10) | B(11) | B(13) | \
		 B(28) | B(29))

#define SPEC_CTRL_IBRS  (1ull << 0)
#define SPEC_CTRL_STIBP (1ull << 1)
#define SPEC_CTRL_SSBD  (1ull << 2)

static const struct cpuid_regs zero;

static bool has_xcr0(const struct cpupolicy_host *host, uint64_t bits)
{
	return host->xsave && (host->xcr0 & bits) == bits;
}

static uint32_t pick(bool cond, uint32_t bits)
{
	return cond ? bits : 0;
}

static struct cpuid_regs leaf1(const struct cpupolicy_host *host,
			       struct cpuid_regs h)
{
	bool avx = has_xcr0(host, XCR0_SSE | XCR0_AVX);

	h.edx &= L1_EDX;
	h.ecx &= L1_ECX | pick(avx, L1_ECX_AVX) | pick(host->xsave, L1_ECX_XSAVE);
	h.ecx |= L1_ECX_HYPERVISOR | L1_ECX_VAPIC;
	h.edx |= B(9);
	return h;
}

static struct cpuid_regs leaf7(const struct cpupolicy_host *host,
			       uint32_t sub, struct cpuid_regs h)
{
	bool avx = has_xcr0(host, XCR0_SSE | XCR0_AVX);
	bool avx512 = avx && has_xcr0(host, XCR0_AVX512);
	bool mpx = has_xcr0(host, XCR0_BNDREGS | XCR0_BNDCSR);
	uint32_t edx_spec = pick(host->spec_ctrl & SPEC_CTRL_IBRS && host->ibpb,
				 L7_EDX_IBRS) |
			    pick(host->spec_ctrl & SPEC_CTRL_STIBP, L7_EDX_STIBP) |
			    pick(host->spec_ctrl & SPEC_CTRL_SSBD, L7_EDX_SSBD);

	if (sub == 0) {
		h.eax = h.eax < 1 ? h.eax : 1;  /* subleaf 2 and up: none */
		h.ebx &= L7_EBX | pick(avx, L7_EBX_AVX) |
			 pick(avx512, L7_EBX_AVX512) | pick(mpx, L7_EBX_MPX);
		h.ecx &= L7_ECX | pick(avx, L7_ECX_AVX) |
			 pick(avx512, L7_ECX_AVX512) |
			 pick(has_xcr0(host, XCR0_PKRU), L7_ECX_PKU) |
			 pick(host->tsc_aux, L7_ECX_RDPID);
		h.edx &= L7_EDX | pick(avx512, L7_EDX_AVX512) | edx_spec;
		return h;
	}
	if (sub == 1) {
		h.eax &= L71_EAX | pick(avx, L71_EAX_AVX) |
			 pick(avx512, L71_EAX_AVX512);
		h.ebx = h.ecx = h.edx = 0;
		return h;
	}
	return zero;
}

static struct cpuid_regs ext1(const struct cpupolicy_host *host,
			      struct cpuid_regs h)
{
	bool avx = has_xcr0(host, XCR0_SSE | XCR0_AVX);

	h.edx &= E1_EDX | pick(host->tsc_aux, E1_EDX_RDTSCP);
	h.ecx &= E1_ECX | pick(avx, E1_ECX_AVX);
	return h;
}

static struct cpuid_regs ext8(const struct cpupolicy_host *host,
			      struct cpuid_regs h)
{
	/* No LA57 for children: at most 48 linear address bits. */
	if (((h.eax >> 8) & 0xff) > 48)
		h.eax = (h.eax & ~0xff00u) | (48u << 8);
	h.ebx &= E8_EBX | pick(host->ibpb, E8_EBX_IBPB) |
		 pick(host->spec_ctrl & SPEC_CTRL_IBRS, E8_EBX_IBRS) |
		 pick(host->spec_ctrl & SPEC_CTRL_STIBP, E8_EBX_STIBP) |
		 pick(host->spec_ctrl & SPEC_CTRL_SSBD, E8_EBX_SSBD);
	h.edx = 0;                      /* INVLPGB/RDPRU limits: hidden */
	return h;
}

static struct cpuid_regs basic(const struct cpupolicy_host *host,
			       uint32_t leaf, uint32_t sub, struct cpuid_regs h)
{
	switch (leaf) {
	case 0: case 2: case 4: case 0xb: case 0xd: case 0x15: case 0x16:
	case 0x18: case 0x1f:
		return h;               /* 0xd: xsave_cpuid rewrites it */
	case 1:
		return leaf1(host, h);
	case 7:
		return leaf7(host, sub, h);
	default:
		return zero;
	}
}

static struct cpuid_regs extended(const struct cpupolicy_host *host,
				  uint32_t leaf, struct cpuid_regs h)
{
	switch (leaf) {
	case 0x80000000: case 0x80000002: case 0x80000003: case 0x80000004:
	case 0x80000005: case 0x80000006: case 0x80000019: case 0x8000001a:
	case 0x8000001d: case 0x8000001e: case 0x80000026:
		return h;
	case 0x80000001:
		return ext1(host, h);
	case 0x80000007:
		return (struct cpuid_regs){ 0, 0, 0, h.edx & E7_EDX };
	case 0x80000008:
		return ext8(host, h);
	case 0x80000021:
		return (struct cpuid_regs){ h.eax & E21_EAX, 0, 0, 0 };
	default:
		return zero;
	}
}

struct cpuid_regs cpupolicy_cpuid(const struct cpupolicy_host *host,
				  uint32_t leaf, uint32_t sub,
				  struct cpuid_regs h)
{
	if (leaf <= host->max_basic)
		return basic(host, leaf, sub, h);
	if (leaf >= 0x80000000u && leaf <= host->max_ext)
		return extended(host, leaf, h);
	return zero;
}

uint64_t cpupolicy_efer_writable(struct cpuid_regs e1, struct cpuid_regs e8,
				 bool amd)
{
	uint64_t m = EFER_SCE | EFER_LME;

	if (e1.edx & E1_EDX_NX)
		m |= EFER_NXE;
	if (!amd)
		return m;               /* Intel: bits 13-15 are reserved */
	if (!(e8.ebx & E8_EBX_LMSLE_UNSUPPORTED))
		m |= EFER_LMSLE;
	if (e1.edx & E1_EDX_FFXSR)
		m |= EFER_FFXSR;
	if (e1.ecx & E1_ECX_TCE)
		m |= EFER_TCE;
	return m;
}

bool cpupolicy_canonical(uint64_t v)
{
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

static bool mtrr_type_valid(unsigned t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

bool cpupolicy_pat_valid(uint64_t v)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned t = (unsigned)(v >> (8 * i)) & 0xff;

		if (!mtrr_type_valid(t) && t != 7)
			return false;
	}
	return true;
}

bool cpupolicy_mtrr_fixed_valid(uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		if (!mtrr_type_valid((unsigned)(v >> (8 * i)) & 0xff))
			return false;
	return true;
}

/* Type in bits 7:0, FE bit 10, E bit 11; the rest reserved. */
bool cpupolicy_mtrr_def_type_valid(uint64_t v)
{
	return !(v & ~0xcffull) && mtrr_type_valid(v & 0xff);
}

bool cpupolicy_mtrr_var_valid(uint32_t msr, uint64_t v, unsigned maxphyaddr)
{
	uint64_t above = maxphyaddr >= 64 ? 0 : ~0ull << maxphyaddr;

	if (v & above)
		return false;
	if (msr & 1)
		return !(v & 0x7ffull);         /* mask: V is bit 11 */
	return !(v & 0xf00ull) && mtrr_type_valid(v & 0xff);
}
