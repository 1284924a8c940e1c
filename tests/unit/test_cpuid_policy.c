/*
 * Host tests of the child CPU policy (hypervisor/cpupolicy.c): CPUID
 * dumps of two real server CPUs go through cpupolicy_cpuid, and what a
 * child would see is checked bit by bit; then the MSR value rules.
 *
 * The dumps are not captured from machines: they are written from the
 * CPUs' documented feature bits (AMD's APM vol. 3 appendix E and the
 * EPYC 9004 (Zen 4, "Genoa") feature list; Intel's SDM vol. 2 CPUID and
 * the Xeon Platinum 8480+ ("Sapphire Rapids") feature list, as Linux's
 * /proc/cpuinfo shows them on those parts), so individual values may
 * differ from a given stepping; the features that matter here (SVM/SEV,
 * VMX/SMX, MONITOR, the PMU, AVX-512, AMX, LA57, the speculation
 * controls) are the documented ones. Topology fields are plausible, not
 * exact.
 */
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "cpupolicy.h"

struct dump_leaf {
	uint32_t leaf, sub;
	struct cpuid_regs r;
};

#define B(n) (1u << (n))

/* AMD EPYC 9654 (family 19h model 11h, Zen 4). */
static const struct dump_leaf epyc_9654[] = {
	{ 0x0, 0, { 0x00000010, 0x68747541, 0x444d4163, 0x69746e65 } },
	/* ECX: SSE3 PCLMUL MONITOR SSSE3 FMA CX16 PCID SSE4.1/4.2 x2APIC MOVBE
	 * POPCNT AES XSAVE OSXSAVE AVX F16C RDRAND; EDX: the AMD 0x178bfbff. */
	{ 0x1, 0, { 0x00a10f11, 0x00800800, 0x7efa320b, 0x178bfbff } },
	{ 0x5, 0, { 0x00000040, 0x00000040, 0x00000003, 0x00000011 } },
	{ 0x6, 0, { 0x00000004, 0x00000000, 0x00000001, 0x00000000 } },
	/* EBX: FSGSBASE BMI1 AVX2 SMEP BMI2 ERMS INVPCID PQM PQE AVX512F/DQ
	 * RDSEED ADX SMAP AVX512IFMA CLFLUSHOPT CLWB AVX512CD SHA AVX512BW/VL;
	 * ECX: AVX512VBMI UMIP PKU OSPKE VBMI2 CET_SS GFNI VAES VPCLMULQDQ VNNI
	 * BITALG VPOPCNTDQ LA57 RDPID; EDX: FSRM. */
	{ 0x7, 0, { 0x00000001, 0xf1bf97a9, 0x00415fde, 0x00000010 } },
	{ 0x7, 1, { 0x00000020, 0x00000000, 0x00000000, 0x00000000 } },
	{ 0xd, 0, { 0x000002e7, 0x00000980, 0x00000988, 0x00000000 } },
	{ 0xd, 1, { 0x0000000f, 0x00000000, 0x00000000, 0x00000000 } },
	{ 0x80000000, 0, { 0x80000028, 0x68747541, 0x444d4163, 0x69746e65 } },
	/* ECX: LAHF CMP_LEGACY SVM EXTAPIC CR8_LEGACY ABM SSE4A MISALIGNSSE
	 * 3DNOWPREFETCH OSVW IBS SKINIT WDT TCE TOPOEXT PERFCTR_CORE/NB BPEXT
	 * PERFCTR_LLC MWAITX ADMSKEXTN; EDX: SYSCALL NX MMXEXT FXSR_OPT
	 * PDPE1GB RDTSCP LM and the leaf 1 mirror. */
	{ 0x80000001, 0, { 0x00a10f11, 0x40000000, 0x75c237ff, 0x2fd3fbff } },
	{ 0x80000002, 0, { 0x20444d41, 0x43595045, 0x35363920, 0x36392d34 } },
	{ 0x80000007, 0, { 0x00000000, 0x0000003b, 0x00000000, 0x0000e799 } },
	/* EAX: 52 physical, 57 linear bits; EBX: CLZERO IRPERF XSAVEERPTR
	 * INVLPGB RDPRU WBNOINVD IBPB INT_WBINVD IBRS STIBP STIBP_ALWAYS_ON
	 * IBRS_PREFERRED IBRS_SAME_MODE EFER_LMSLE_UNS PPIN SSBD CPPC PSFD. */
	{ 0x80000008, 0, { 0x00003934, 0x199ef21f, 0x0000b0bf, 0x0001000f } },
	{ 0x8000000a, 0, { 0x00000001, 0x00008000, 0x00000000, 0x1ebfbcff } },
	{ 0x8000001e, 0, { 0x00000000, 0x00000100, 0x00000000, 0x00000000 } },
	/* SME SEV ... SEV-SNP, C-bit 51. */
	{ 0x8000001f, 0, { 0x0101fd3f, 0x00004173, 0x000003ee, 0x00000001 } },
	/* NoNestedDataBp FsGsKernelGsBaseWriteSerializing LFenceAlways-
	 * Serializing SmmPgCfgLock NullSelectClearsBase UpperAddressIgnore
	 * AutomaticIBRS NoSmmCtlMSR FSRC PrefetchCtlMsr CpuidUserDis EPSF. */
	{ 0x80000021, 0, { 0x00062bcf, 0x00000000, 0x00000000, 0x00000000 } },
	{ 0x80000022, 0, { 0x00000001, 0x00000106, 0x00000000, 0x00000000 } },
};

/* Intel Xeon Platinum 8480+ (family 6 model 0x8f, Sapphire Rapids). */
static const struct dump_leaf xeon_8480[] = {
	{ 0x0, 0, { 0x00000020, 0x756e6547, 0x6c65746e, 0x49656e69 } },
	/* ECX: everything through RDRAND incl. DTES64 MONITOR DS-CPL VMX SMX
	 * EST TM2 SDBG xTPR PDCM DCA x2APIC TSC_DEADLINE; EDX 0xbfebfbff. */
	{ 0x1, 0, { 0x000806f8, 0x00800800, 0x7ffefbff, 0xbfebfbff } },
	{ 0x5, 0, { 0x00000040, 0x00000040, 0x00000003, 0x00002020 } },
	{ 0x6, 0, { 0x00000077, 0x00000000, 0x00000009, 0x00000000 } },
	/* EBX: FSGSBASE TSC_ADJUST SGX BMI1 AVX2 FDP SMEP BMI2 ERMS INVPCID RTM
	 * PQM ZERO_FCS PQE AVX512F/DQ RDSEED ADX SMAP AVX512IFMA CLFLUSHOPT
	 * CLWB PT AVX512CD SHA AVX512BW/VL; ECX: VBMI UMIP PKU OSPKE WAITPKG
	 * VBMI2 CET_SS GFNI VAES VPCLMULQDQ VNNI BITALG TME VPOPCNTDQ LA57
	 * RDPID BUS_LOCK CLDEMOTE MOVDIRI MOVDIR64B ENQCMD SGX_LC PKS; EDX:
	 * FSRM UINTR VP2INTERSECT MD_CLEAR SERIALIZE TSXLDTRK PCONFIG ARCH_LBR
	 * IBT AMX_BF16 FP16 AMX_TILE AMX_INT8 IBRS_IBPB STIBP L1D_FLUSH
	 * ARCH_CAPABILITIES CORE_CAPABILITIES SSBD. */
	{ 0x7, 0, { 0x00000002, 0xf3bfbfef, 0xfb417ffe, 0xffdd4530 } },
	/* AVX_VNNI AVX512_BF16 FZRM FSRS FSRC HRESET LAM. */
	{ 0x7, 1, { 0x04401c30, 0x00000000, 0x00000000, 0x00000000 } },
	{ 0x7, 2, { 0x00000000, 0x00000000, 0x00000000, 0x0000003f } },
	{ 0xa, 0, { 0x08300805, 0x00000000, 0x0000000f, 0x00008603 } },
	{ 0xd, 0, { 0x000602e7, 0x00000a88, 0x00002b00, 0x00000000 } },
	{ 0xd, 1, { 0x0000001f, 0x00000000, 0x00019900, 0x00000000 } },
	{ 0x12, 0, { 0x00000403, 0x00000000, 0x00000000, 0x00003838 } },
	{ 0x14, 0, { 0x00000001, 0x0000005f, 0x00000007, 0x00000000 } },
	{ 0x1d, 0, { 0x00000001, 0x00000000, 0x00000000, 0x00000000 } },
	{ 0x80000000, 0, { 0x80000008, 0x00000000, 0x00000000, 0x00000000 } },
	{ 0x80000001, 0, { 0x00000000, 0x00000000, 0x00000121, 0x2c100800 } },
	{ 0x80000007, 0, { 0x00000000, 0x00000000, 0x00000000, 0x00000100 } },
	/* 46 physical, 57 linear bits; EBX: WBNOINVD. */
	{ 0x80000008, 0, { 0x0000392e, 0x00000200, 0x00000000, 0x00000000 } },
};

static struct cpuid_regs host_of(const struct dump_leaf *d, unsigned n,
				 uint32_t leaf, uint32_t sub)
{
	for (unsigned i = 0; i < n; i++)
		if (d[i].leaf == leaf && d[i].sub == sub)
			return d[i].r;
	return (struct cpuid_regs){ 0, 0, 0, 0 };
}

#define XCR0_ALL_SWITCHED (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512 | \
			   XCR0_PKRU)

/* What the hypervisor finds on such a host: XSAVE of what xsave.c
 * switches (no AMX), TSC_AUX, IBRS/STIBP/SSBD, IBPB. */
static struct cpupolicy_host host_facts(const struct dump_leaf *d, unsigned n)
{
	return (struct cpupolicy_host){
		.max_basic = host_of(d, n, 0, 0).eax,
		.max_ext = host_of(d, n, 0x80000000, 0).eax,
		.xsave = true, .xcr0 = XCR0_ALL_SWITCHED, .tsc_aux = true,
		.spec_ctrl = 7, .ibpb = true,
	};
}

static struct cpuid_regs child(const struct cpupolicy_host *h,
			       const struct dump_leaf *d, unsigned n,
			       uint32_t leaf, uint32_t sub)
{
	return cpupolicy_cpuid(h, leaf, sub, host_of(d, n, leaf, sub));
}

/* The policy only takes away: every bit a child sees the host has, but
 * the hypervisor bit, and two counts it lowers: the linear address width
 * and leaf 7's highest subleaf. */
static void check_only_hides(const char *cpu, const struct cpupolicy_host *h,
			     const struct dump_leaf *d, unsigned n)
{
	unsigned added = 0;

	for (unsigned i = 0; i < n; i++) {
		struct cpuid_regs c = cpupolicy_cpuid(h, d[i].leaf, d[i].sub, d[i].r);
		struct cpuid_regs r = d[i].r;

		/* The hypervisor bit, and the virtual APIC's x2APIC and
		 * TSC-deadline bits, are the child's whatever the host has. */
		if (d[i].leaf == 1)
			c.ecx &= ~(B(31) | B(21) | B(24));
		if (d[i].leaf == 0x80000008 || (d[i].leaf == 7 && d[i].sub == 0)) {
			added += c.eax > r.eax;
			c.eax = r.eax;
		}
		added += !!(c.eax & ~r.eax) + !!(c.ebx & ~r.ebx) +
			 !!(c.ecx & ~r.ecx) + !!(c.edx & ~r.edx);
	}
	CHECK(added == 0, "%s: no leaf of the dump gains a bit (%u registers did)",
	      cpu, added);
}

static void check_epyc(void)
{
	const struct dump_leaf *d = epyc_9654;
	unsigned n = sizeof(epyc_9654) / sizeof(epyc_9654[0]);
	struct cpupolicy_host h = host_facts(d, n);
	struct cpuid_regs l0 = child(&h, d, n, 0, 0), l1 = child(&h, d, n, 1, 0);
	struct cpuid_regs l7 = child(&h, d, n, 7, 0), l71 = child(&h, d, n, 7, 1);
	struct cpuid_regs e1 = child(&h, d, n, 0x80000001, 0);
	struct cpuid_regs e7 = child(&h, d, n, 0x80000007, 0);
	struct cpuid_regs e8 = child(&h, d, n, 0x80000008, 0);
	struct cpuid_regs e21 = child(&h, d, n, 0x80000021, 0);
	struct cpuid_regs z = { 0, 0, 0, 0 }, r;

	CHECK(!memcmp(&l0, &d[0].r, sizeof(l0)), "EPYC: leaf 0 (max leaf, AuthenticAMD) as the host's");
	CHECK(l1.eax == 0x00a10f11 && e1.eax == 0x00a10f11, "EPYC: family/model/stepping kept");
	CHECK(l1.ecx & B(31), "EPYC: hypervisor bit set");
	CHECK(!(e1.ecx & B(2)), "EPYC: SVM hidden (0x80000001 ECX 2)");
	r = child(&h, d, n, 0x8000000a, 0);
	CHECK(!memcmp(&r, &z, sizeof(r)), "EPYC: leaf 0x8000000a (SVM features) zero");
	r = child(&h, d, n, 0x8000001f, 0);
	CHECK(!memcmp(&r, &z, sizeof(r)), "EPYC: leaf 0x8000001f (SME/SEV) zero");
	CHECK(!(e1.ecx & B(12)), "EPYC: SKINIT hidden");
	CHECK(!(l1.ecx & B(3)), "EPYC: MONITOR/MWAIT hidden");
	r = child(&h, d, n, 5, 0);
	CHECK(!memcmp(&r, &z, sizeof(r)), "EPYC: leaf 5 (MONITOR sizes) zero");
	CHECK(!(e1.ecx & B(29)), "EPYC: MWAITX hidden");
	CHECK(!(e1.ecx & (B(23) | B(24) | B(28))), "EPYC: PerfCtrExtCore/NB/LLC hidden");
	CHECK(!(e1.ecx & B(10)), "EPYC: IBS hidden");
	r = child(&h, d, n, 0x80000022, 0);
	CHECK(!memcmp(&r, &z, sizeof(r)), "EPYC: leaf 0x80000022 (PerfMonV2) zero");
	CHECK(!(e8.ebx & (B(1) | B(4))), "EPYC: IRPERF and RDPRU hidden");
	CHECK((l1.ecx & (B(21) | B(24))) == (B(21) | B(24)) && (l1.edx & B(9)) &&
	      (e1.edx & B(9)), "EPYC: APIC, x2APIC and TSC deadline shown (the "
	      "virtual APIC's, though the host has no TSC deadline)");
	CHECK(!(e1.ecx & (B(3) | B(4))), "EPYC: ExtApicSpace and CR8 legacy hidden");
	CHECK(!(l1.edx & (B(7) | B(14))), "EPYC: MCE and MCA hidden");
	CHECK(!(e1.ecx & B(9)), "EPYC: OSVW hidden (its MSRs are not virtualized)");
	r = child(&h, d, n, 6, 0);
	CHECK(!memcmp(&r, &z, sizeof(r)), "EPYC: leaf 6 (power, APERF/MPERF) zero");
	CHECK(e7.edx == B(8) && !e7.ebx, "EPYC: 0x80000007 keeps only invariant TSC");
	CHECK((l1.ecx & (B(26) | B(28) | B(29) | B(12))) == (B(26) | B(28) | B(29) | B(12)),
	      "EPYC: XSAVE AVX F16C FMA kept (XSAVE state is switched)");
	CHECK(l7.ebx & B(5), "EPYC: AVX2 kept");
	CHECK((l7.ebx & 0xd0230000u) == 0xd0230000u, "EPYC: AVX512F/DQ/IFMA/CD/BW/VL kept");
	CHECK((l7.ecx & (B(1) | B(6) | B(11) | B(12) | B(14))) ==
	      (B(1) | B(6) | B(11) | B(12) | B(14)), "EPYC: AVX512 VBMI/VBMI2/VNNI/BITALG/VPOPCNTDQ kept");
	CHECK(l71.eax & B(5), "EPYC: AVX512_BF16 kept");
	CHECK(l7.ecx & B(3), "EPYC: PKU kept (PKRU is switched)");
	CHECK(!(l7.ebx & (B(12) | B(15))), "EPYC: PQM/PQE (RDT) hidden");
	CHECK(!(l7.ecx & B(7)), "EPYC: CET shadow stacks hidden");
	CHECK(!(l7.ecx & B(16)) && ((e8.eax >> 8) & 0xff) == 48 && (e8.eax & 0xff) == 52,
	      "EPYC: LA57 hidden, 48 linear bits, 52 physical kept");
	CHECK((e1.edx & B(27)) && (l7.ecx & B(22)), "EPYC: RDTSCP and RDPID kept (TSC_AUX per VP)");
	CHECK((e8.ebx & (B(12) | B(14) | B(15) | B(24))) == (B(12) | B(14) | B(15) | B(24)),
	      "EPYC: IBPB IBRS STIBP SSBD kept (SPEC_CTRL per VP)");
	CHECK(!(e8.ebx & (B(3) | B(23) | B(27) | B(28))), "EPYC: INVLPGB PPIN CPPC PSFD hidden");
	CHECK(!e8.edx, "EPYC: 0x80000008 EDX (INVLPGB/RDPRU limits) zero");
	CHECK((e21.eax & (B(0) | B(2) | B(6))) == (B(0) | B(2) | B(6)),
	      "EPYC: 0x80000021 keeps NoNestedDataBp, LFENCE serializing, NullSelectClearsBase");
	CHECK(!(e21.eax & (B(8) | B(7) | B(17))), "EPYC: AutoIBRS, UpperAddressIgnore, CpuidUserDis hidden");
	r = child(&h, d, n, 0x80000002, 0);
	CHECK(!memcmp(&r, &epyc_9654[10].r, sizeof(r)), "EPYC: brand string kept");
	r = child(&h, d, n, 0x40000000, 0);
	CHECK(!memcmp(&r, &z, sizeof(r)), "EPYC: 0x40000000 not the policy's (cpuid.c's TLFS leaves)");
	CHECK(cpupolicy_efer_writable(e1, e8, true) ==
	      (EFER_SCE | EFER_LME | EFER_NXE | EFER_FFXSR | EFER_TCE),
	      "EPYC: a child may set EFER SCE LME NXE FFXSR TCE (no LMSLE on Zen 4)");
	check_only_hides("EPYC", &h, d, n);

	/* The same CPU where the hypervisor switched only x87/SSE/AVX. */
	h.xcr0 = XCR0_X87 | XCR0_SSE | XCR0_AVX;
	l7 = child(&h, d, n, 7, 0);
	l71 = child(&h, d, n, 7, 1);
	CHECK(!(l7.ebx & 0xd0230000u) && !(l7.ecx & (B(1) | B(6) | B(11) | B(12) | B(14))) &&
	      !(l71.eax & B(5)) && (l7.ebx & B(5)),
	      "EPYC without AVX-512 state switched: every AVX-512 bit hidden, AVX2 kept");
	CHECK(!(l7.ecx & B(3)), "EPYC without PKRU switched: PKU hidden");
	/* ...and with no XSAVE at all (FXSAVE only). */
	h.xsave = false;
	l1 = child(&h, d, n, 1, 0);
	l7 = child(&h, d, n, 7, 0);
	CHECK(!(l1.ecx & (B(26) | B(28) | B(29) | B(12))) && !(l7.ebx & B(5)) &&
	      (l1.edx & (B(25) | B(26))) == (B(25) | B(26)),
	      "EPYC with FXSAVE only: XSAVE, AVX, F16C, FMA, AVX2 hidden; SSE/SSE2 kept");
	h.tsc_aux = false;
	h.spec_ctrl = 0;
	h.ibpb = false;
	e1 = child(&h, d, n, 0x80000001, 0);
	e8 = child(&h, d, n, 0x80000008, 0);
	l7 = child(&h, d, n, 7, 0);
	CHECK(!(e1.edx & B(27)) && !(l7.ecx & B(22)), "EPYC without TSC_AUX per VP: RDTSCP, RDPID hidden");
	CHECK(!(e8.ebx & (B(12) | B(14) | B(15) | B(24))), "EPYC without SPEC_CTRL per VP: IBPB IBRS STIBP SSBD hidden");
}

static void check_xeon(void)
{
	const struct dump_leaf *d = xeon_8480;
	unsigned n = sizeof(xeon_8480) / sizeof(xeon_8480[0]);
	struct cpupolicy_host h = host_facts(d, n);
	struct cpuid_regs l1 = child(&h, d, n, 1, 0), l7 = child(&h, d, n, 7, 0);
	struct cpuid_regs l71 = child(&h, d, n, 7, 1);
	struct cpuid_regs e1 = child(&h, d, n, 0x80000001, 0);
	struct cpuid_regs e8 = child(&h, d, n, 0x80000008, 0);
	struct cpuid_regs z = { 0, 0, 0, 0 }, r;

	CHECK(l1.ecx & B(31), "Xeon: hypervisor bit set");
	CHECK(!(l1.ecx & (B(5) | B(6))), "Xeon: VMX and SMX hidden");
	CHECK(!(l1.ecx & B(3)), "Xeon: MONITOR/MWAIT hidden");
	CHECK(!(l7.ecx & B(5)), "Xeon: WAITPKG (UMWAIT/TPAUSE) hidden");
	r = child(&h, d, n, 0xa, 0);
	CHECK(!memcmp(&r, &z, sizeof(r)), "Xeon: leaf 0xa (architectural PMU) zero");
	CHECK(!(l1.ecx & (B(15) | B(2) | B(4))) && !(l1.edx & B(21)),
	      "Xeon: PDCM, DTES64, DS-CPL, DS hidden");
	CHECK((l1.ecx & (B(21) | B(24))) == (B(21) | B(24)) && (l1.edx & B(9)),
	      "Xeon: x2APIC, TSC deadline, APIC shown (the virtual APIC's)");
	CHECK(!(l1.ecx & (B(7) | B(8) | B(14) | B(18) | B(11))) &&
	      !(l1.edx & (B(22) | B(29) | B(31) | B(7) | B(14))),
	      "Xeon: EST TM2 xTPR DCA SDBG ACPI TM PBE MCE MCA hidden");
	CHECK(!(l7.ebx & (B(2) | B(25) | B(1) | B(12) | B(15))),
	      "Xeon: SGX, Intel PT, TSC_ADJUST, RDT hidden");
	CHECK(!(l7.ecx & (B(13) | B(16) | B(7) | B(29) | B(30) | B(31) | B(24))),
	      "Xeon: TME, LA57, CET_SS, ENQCMD, SGX_LC, PKS, bus-lock detect hidden");
	CHECK(!(l7.edx & (B(5) | B(16) | B(18) | B(19) | B(20) | B(28) | B(29) | B(30))),
	      "Xeon: UINTR TSXLDTRK PCONFIG ARCH_LBR IBT L1D_FLUSH ARCH_CAP CORE_CAP hidden");
	CHECK(!(l7.edx & (B(22) | B(24) | B(25))), "Xeon: AMX hidden (tile state is not switched)");
	CHECK((l7.edx & (B(26) | B(27) | B(31))) == (B(26) | B(27) | B(31)),
	      "Xeon: IBRS/IBPB, STIBP, SSBD kept (SPEC_CTRL per VP, IBPB passed on)");
	CHECK((l7.edx & (B(8) | B(23))) == (B(8) | B(23)), "Xeon: AVX512 VP2INTERSECT and FP16 kept");
	CHECK((l7.ebx & (B(11) | B(5) | B(16))) == (B(11) | B(5) | B(16)) && !(l7.ebx & B(4)),
	      "Xeon: RTM AVX2 AVX512F kept, HLE absent as on the host");
	CHECK(l7.eax == 1, "Xeon: leaf 7 offers subleaves 0-1 only");
	r = child(&h, d, n, 7, 2);
	CHECK(!memcmp(&r, &z, sizeof(r)), "Xeon: leaf 7.2 (more SPEC_CTRL bits) zero");
	CHECK(l71.eax == (B(4) | B(5) | B(10) | B(11) | B(12)),
	      "Xeon: 7.1 keeps AVX-VNNI AVX512_BF16 FZRM FSRS FSRC; HRESET, LAM hidden");
	r = child(&h, d, n, 0x12, 0);
	CHECK(!memcmp(&r, &z, sizeof(r)), "Xeon: leaf 0x12 (SGX) zero");
	r = child(&h, d, n, 0x14, 0);
	CHECK(!memcmp(&r, &z, sizeof(r)), "Xeon: leaf 0x14 (PT) zero");
	r = child(&h, d, n, 0x1d, 0);
	CHECK(!memcmp(&r, &z, sizeof(r)), "Xeon: leaf 0x1d (AMX tiles) zero");
	r = child(&h, d, n, 6, 0);
	CHECK(!memcmp(&r, &z, sizeof(r)), "Xeon: leaf 6 (thermal, HWP, EPB) zero");
	CHECK(e1.edx == 0x2c100800u && e1.ecx == 0x121u,
	      "Xeon: 0x80000001 SYSCALL NX 1G RDTSCP LM, LAHF LZCNT PREFETCHW kept");
	CHECK(((e8.eax >> 8) & 0xff) == 48 && (e8.eax & 0xff) == 46 && e8.ebx == B(9),
	      "Xeon: 48 linear bits, 46 physical, WBNOINVD kept");
	CHECK(cpupolicy_efer_writable(e1, e8, false) == (EFER_SCE | EFER_LME | EFER_NXE),
	      "Xeon: a child may set EFER SCE LME NXE only");
	r = child(&h, d, n, 0x80000009, 0);
	CHECK(!memcmp(&r, &z, sizeof(r)), "Xeon: beyond the max extended leaf: zero");
	check_only_hides("Xeon", &h, d, n);
}

static void check_msr_rules(void)
{
	CHECK(cpupolicy_canonical(0) && cpupolicy_canonical(0x00007fffffffffffull) &&
	      cpupolicy_canonical(0xffff800000000000ull) &&
	      cpupolicy_canonical(0xffffffffffffffffull), "canonical: both halves");
	CHECK(!cpupolicy_canonical(0x0000800000000000ull) &&
	      !cpupolicy_canonical(0x8000000000000000ull) &&
	      !cpupolicy_canonical(0xffff7fffffffffffull), "non-canonical refused");
	CHECK(cpupolicy_pat_valid(0x0007040600070406ull), "PAT: the reset value");
	CHECK(cpupolicy_pat_valid(0x0001050607040100ull), "PAT: a mix of all six types");
	CHECK(!cpupolicy_pat_valid(0x0007040600070402ull), "PAT: type 2 reserved");
	CHECK(!cpupolicy_pat_valid(0x0807040600070406ull), "PAT: type 8 reserved");
	CHECK(!cpupolicy_pat_valid(0x0007040600070403ull), "PAT: type 3 reserved");
	CHECK(cpupolicy_mtrr_fixed_valid(0x0606060606060606ull) &&
	      !cpupolicy_mtrr_fixed_valid(0x0606060606060607ull), "fixed MTRR: WB ok, UC- (7) not");
	CHECK(cpupolicy_mtrr_def_type_valid(0xc06) && cpupolicy_mtrr_def_type_valid(0),
	      "MTRRdefType: E FE WB, and all clear");
	CHECK(!cpupolicy_mtrr_def_type_valid(0x1806) && !cpupolicy_mtrr_def_type_valid(0x802),
	      "MTRRdefType: reserved bit 12, type 2 refused");
	CHECK(cpupolicy_mtrr_var_valid(0x200, 0x80000006ull, 40) &&
	      cpupolicy_mtrr_var_valid(0x201, 0xff80000800ull, 40),
	      "variable MTRR: 2 GiB WB base, mask with V");
	CHECK(!cpupolicy_mtrr_var_valid(0x200, 0x10000000006ull, 40) &&
	      !cpupolicy_mtrr_var_valid(0x201, 0xff80000801ull, 40) &&
	      !cpupolicy_mtrr_var_valid(0x200, 0x80000106ull, 40),
	      "variable MTRR: above MAXPHYADDR, mask bit 0, base bit 8 refused");
}

int main(void)
{
	check_epyc();
	check_xeon();
	check_msr_rules();
	return done_testing();
}
