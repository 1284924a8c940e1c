/*
 * The child partition's MSR policy: one table, one entry per MSR (or
 * range) a child's OS may touch, saying where the value lives and how a
 * write is checked. Anything not in the table, and not answered before
 * (EFER, the TLFS MSRs, SynIC, TSC_AUX and SPEC_CTRL in cpustate.c), is
 * #GP, logged the first time for each MSR per partition and after that
 * only at powers of two (from 16) of the partition's refusals. A child's MSR map
 * intercepts every MSR (svm.c), so all of them come here: nothing is
 * passed through, because each write is checked as the hardware would
 * (QEMU's TCG does not check FS/GS base for canonical form, so a child
 * relying on the CPU for that would not get its #GP there), and a 64-bit
 * OS with FSGSBASE rarely needs these MSRs after boot.
 *
 * Where values live:
 *   VMCB   FS_BASE, GS_BASE, KERNEL_GS_BASE, STAR, LSTAR, CSTAR, SFMASK,
 *          SYSENTER_CS/ESP/EIP, PAT (G_PAT) and TSC (the TSC offset):
 *          VMRUN, VMLOAD and VMSAVE switch them per VP already
 *          (svm_entry.S), so reading and writing the VMCB is the whole
 *          job (virt->vp_get_msr/vp_set_msr).
 *   VP     APIC_BASE, MISC_ENABLE and the MTRRs: kept in the VP (struct
 *          vp_msrs) and read back as written; no hardware register holds
 *          them, so nothing is switched. The MTRRs are records: nested
 *          paging maps the child's RAM write-back whatever they say,
 *          and the guest's PAT (G_PAT) does take effect.
 *   FIXED  read a constant: MTRRcap (8 variable ranges, fixed ranges, WC;
 *          no SMRR), PLATFORM_INFO 0 (Intel: no CPUID faulting, no
 *          ratios), FEATURE_CONTROL locked with VMX off (Intel), the
 *          microcode revision 0, DEBUGCTL 0 (no LBR or BTF offered), and
 *          on AMD SYSCFG 0 (no SME, no TOM2: Linux then reads no TOP_MEM2),
 *          HWCR with TscFreqSel (Linux warns without it) and DE_CFG with
 *          LFENCE serializing (what Linux sets itself on Zen).
 * How writes are checked (each hardware rule cited in cpupolicy.h):
 *   canonical       FS/GS/KERNEL_GS base, LSTAR, CSTAR, SYSENTER_ESP/EIP
 *                   (48-bit: a child never sees LA57; AMD keeps only 32
 *                   bits of SYSENTER_ESP/EIP, we keep Intel's 64);
 *   low 32 bits     SFMASK (the upper half is reserved);
 *   memory types    PAT (UC WC WT WP WB UC-), MTRRs (no UC-), MTRRdefType,
 *                   variable ranges (reserved bits, MAXPHYADDR);
 *   APIC_BASE       the VP's virtual APIC's (vapic.c: EN/EXTD transitions,
 *                   BSP read-only); here the base within MAXPHYADDR;
 *   MISC_ENABLE     only fast strings (bit 0) may change (Intel only);
 *   read-only       MTRRcap, PLATFORM_INFO, FEATURE_CONTROL (locked),
 *                   SYSCFG and DEBUGCTL unless the value is unchanged;
 *   ignored         the microcode revision (Intel's "write 0, CPUID, read"
 *                   idiom), HWCR and DE_CFG (the host's are the hardware's).
 */
#include "hv.h"
#include "virt.h"
#include "vp.h"
#include "childmsr.h"
#include "cpupolicy.h"
#include "cpustate.h"
#include "vapic.h"
#include "arch/x86/cpu.h"

enum where { IN_VMCB, IN_VP, FIXED };
enum rule {
	ANY, CANONICAL, LOW32, PAT, MTRR_FIXED, MTRR_DEF, MTRR_VAR,
	APIC_BASE, MISC_ENABLE, READ_ONLY, UNCHANGED, IGNORED,
};
enum vendor { BOTH, INTEL, AMD };

struct child_msr {
	uint32_t first, last;
	uint8_t where, rule, vendor;
	uint64_t value;                 /* FIXED: what it reads */
};

#define MTRR_CAP_VALUE  0x508ull        /* VCNT 8, FIX, WC */
#define MTRR_DEF_RESET  0x806ull        /* E, default type WB: all RAM WB */
#define MISC_FAST_STRINGS (1ull << 0)
#define MISC_RESET      (MISC_FAST_STRINGS | (1ull << 11) | (1ull << 12))
					/* BTS and PEBS unavailable */
#define FEATURE_CONTROL_LOCKED 1ull
#define HWCR_TSC_FREQ_SEL (1ull << 24)
#define DE_CFG_LFENCE_SERIALIZE (1ull << 1)

static const struct child_msr table[] = {
	{ MSR_TSC, MSR_TSC, IN_VMCB, ANY, BOTH, 0 },
	{ MSR_APIC_BASE, MSR_APIC_BASE, IN_VP, APIC_BASE, BOTH, 0 },
	{ MSR_FEATURE_CONTROL, MSR_FEATURE_CONTROL, FIXED, READ_ONLY, INTEL,
	  FEATURE_CONTROL_LOCKED },
	{ MSR_UCODE_REV, MSR_UCODE_REV, FIXED, IGNORED, BOTH, 0 },
	{ MSR_PLATFORM_INFO, MSR_PLATFORM_INFO, FIXED, READ_ONLY, INTEL, 0 },
	{ MSR_MTRR_CAP, MSR_MTRR_CAP, FIXED, READ_ONLY, BOTH, MTRR_CAP_VALUE },
	{ MSR_SYSENTER_CS, MSR_SYSENTER_CS, IN_VMCB, ANY, BOTH, 0 },
	{ MSR_SYSENTER_ESP, MSR_SYSENTER_EIP, IN_VMCB, CANONICAL, BOTH, 0 },
	{ MSR_MISC_ENABLE, MSR_MISC_ENABLE, IN_VP, MISC_ENABLE, INTEL, 0 },
	{ MSR_DEBUGCTL, MSR_DEBUGCTL, FIXED, UNCHANGED, BOTH, 0 },
	{ MSR_MTRR_PHYS_BASE0, MSR_MTRR_PHYS_MASK7, IN_VP, MTRR_VAR, BOTH, 0 },
	{ MSR_MTRR_FIX64K_00000, MSR_MTRR_FIX64K_00000, IN_VP, MTRR_FIXED, BOTH, 0 },
	{ MSR_MTRR_FIX16K_80000, MSR_MTRR_FIX16K_A0000, IN_VP, MTRR_FIXED, BOTH, 0 },
	{ MSR_MTRR_FIX4K_C0000, MSR_MTRR_FIX4K_F8000, IN_VP, MTRR_FIXED, BOTH, 0 },
	{ MSR_PAT, MSR_PAT, IN_VMCB, PAT, BOTH, 0 },
	{ MSR_MTRR_DEF_TYPE, MSR_MTRR_DEF_TYPE, IN_VP, MTRR_DEF, BOTH, 0 },
	{ MSR_FS_BASE, MSR_KERNEL_GS_BASE, IN_VMCB, CANONICAL, BOTH, 0 },
	{ MSR_STAR, MSR_STAR, IN_VMCB, ANY, BOTH, 0 },
	{ MSR_LSTAR, MSR_CSTAR, IN_VMCB, CANONICAL, BOTH, 0 },
	{ MSR_SFMASK, MSR_SFMASK, IN_VMCB, LOW32, BOTH, 0 },
	{ MSR_AMD_SYSCFG, MSR_AMD_SYSCFG, FIXED, UNCHANGED, AMD, 0 },
	{ MSR_AMD_HWCR, MSR_AMD_HWCR, FIXED, IGNORED, AMD, HWCR_TSC_FREQ_SEL },
	/* Linux reads it without a fixup on CPUs it takes for K8/Fam10h
	 * with erratum 400 (QEMU's -cpu max says family 15): no C1E. */
	{ MSR_AMD_INT_PENDING, MSR_AMD_INT_PENDING, FIXED, IGNORED, AMD, 0 },
	{ MSR_AMD_DE_CFG, MSR_AMD_DE_CFG, FIXED, IGNORED, AMD,
	  DE_CFG_LFENCE_SERIALIZE },
};

static enum vendor host_vendor;
static unsigned maxphyaddr = 36;
static uint64_t efer_writable;

void childmsr_init(void)
{
	struct cpuid_regs v = cpuid(0, 0);
	struct cpuid_regs e1 = cpuid_child(0x80000001, 0);
	struct cpuid_regs e8 = cpuid_child(0x80000008, 0);

	host_vendor = v.ebx == 0x68747541 ? AMD :          /* "Auth" */
		      v.ebx == 0x756e6547 ? INTEL : BOTH;  /* "Genu" */
	if (e8.eax & 0xff)
		maxphyaddr = e8.eax & 0xff;
	efer_writable = cpupolicy_efer_writable(e1, e8, host_vendor == AMD);
}

uint64_t childmsr_efer_writable(void)
{
	return efer_writable;
}

void childmsr_vp_init(struct vp *vp)
{
	struct vp_msrs *m = &vp->msrs;

	m->misc_enable = MISC_RESET;
	m->mtrr_def_type = MTRR_DEF_RESET;
}

static const struct child_msr *lookup(uint32_t msr)
{
	for (unsigned i = 0; i < ARRAY_SIZE(table); i++)
		if (msr >= table[i].first && msr <= table[i].last &&
		    (table[i].vendor == BOTH || table[i].vendor == host_vendor))
			return &table[i];
	return NULL;
}

/* The VP's slot for an IN_VP MSR. */
static uint64_t *vp_slot(struct vp *vp, uint32_t msr)
{
	struct vp_msrs *m = &vp->msrs;

	switch (msr) {
	case MSR_MISC_ENABLE:
		return &m->misc_enable;
	case MSR_MTRR_DEF_TYPE:
		return &m->mtrr_def_type;
	case MSR_MTRR_FIX64K_00000:
		return &m->mtrr_fixed[0];
	case MSR_MTRR_FIX16K_80000:
	case MSR_MTRR_FIX16K_A0000:
		return &m->mtrr_fixed[1 + msr - MSR_MTRR_FIX16K_80000];
	case MSR_MTRR_FIX4K_C0000 ... MSR_MTRR_FIX4K_F8000:
		return &m->mtrr_fixed[3 + msr - MSR_MTRR_FIX4K_C0000];
	case MSR_MTRR_PHYS_BASE0 ... MSR_MTRR_PHYS_MASK7:
		return &m->mtrr_var[msr - MSR_MTRR_PHYS_BASE0];
	default:
		return NULL;
	}
}

/* Log a refusal: the first for each MSR (of the first CHILDMSR_LOGGED
 * distinct ones), then only when the partition's count of refusals is a
 * power of two from 16 on. Slots hold msr + 1, so 0 means free. */
static enum exit_action refused(struct vp *vp, uint32_t msr, bool write)
{
	struct partition *p = vp->partition;
	uint64_t n = __atomic_add_fetch(&p->refused_msr, 1, __ATOMIC_RELAXED);
	uint64_t want = (uint64_t)msr + 1;
	bool first = false;

	for (unsigned i = 0; i < CHILDMSR_LOGGED; i++) {
		uint64_t free = 0;

		if (__atomic_load_n(&p->refused_msr_seen[i], __ATOMIC_RELAXED) == want)
			break;
		if (__atomic_compare_exchange_n(&p->refused_msr_seen[i], &free, want,
						false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			first = true;
			break;
		}
		if (free == want)
			break;
	}
	if (first)
		hv_log("%s vp %u: MSR %#x %s refused (#GP)", p->name, vp->index,
		       msr, write ? "write" : "read");
	else if (n >= 16 && !(n & (n - 1)))
		hv_log("%s vp %u: MSR %#x %s refused (#GP), %lu MSR accesses "
		       "refused so far", p->name, vp->index, msr,
		       write ? "write" : "read", n);
	return EXIT_ACTION_INJECT_GP;
}

enum exit_action childmsr_read(struct vp *vp, uint32_t msr, uint64_t *v)
{
	const struct child_msr *e = lookup(msr);

	if (!e)
		return refused(vp, msr, false);
	switch (e->where) {
	case IN_VMCB:
		if (virt->vp_get_msr(vp, msr, v))
			return refused(vp, msr, false);
		break;
	case IN_VP:
		if (msr == MSR_APIC_BASE) {
			*v = vapic_base_read(vp);
			break;
		}
		*v = *vp_slot(vp, msr);
		break;
	default:
		*v = e->value;
		break;
	}
	return EXIT_ACTION_ADVANCE;
}

static bool apic_base_valid(uint64_t old, uint64_t v)
{
	uint64_t base = v & ~0xfffull;

	(void)old;                      /* the rest is vlapic_set_base's */
	return maxphyaddr >= 64 || !(base >> maxphyaddr);
}

/* The hardware's #GP conditions for a write of `v` (see the file comment). */
static bool write_valid(const struct child_msr *e, uint32_t msr, uint64_t old,
			uint64_t v)
{
	switch (e->rule) {
	case ANY:
	case IGNORED:
		return true;
	case CANONICAL:
		return cpupolicy_canonical(v);
	case LOW32:
		return !(v >> 32);
	case PAT:
		return cpupolicy_pat_valid(v);
	case MTRR_FIXED:
		return cpupolicy_mtrr_fixed_valid(v);
	case MTRR_DEF:
		return cpupolicy_mtrr_def_type_valid(v);
	case MTRR_VAR:
		return cpupolicy_mtrr_var_valid(msr, v, maxphyaddr);
	case APIC_BASE:
		return apic_base_valid(old, v);
	case MISC_ENABLE:
		return !((v ^ old) & ~MISC_FAST_STRINGS);
	case UNCHANGED:
		return v == old;
	default:                                /* READ_ONLY */
		return false;
	}
}

enum exit_action childmsr_write(struct vp *vp, uint32_t msr, uint64_t v)
{
	const struct child_msr *e = lookup(msr);
	uint64_t old = 0;

	if (!e)
		return refused(vp, msr, true);
	if (msr == MSR_APIC_BASE)
		old = vapic_base_read(vp);
	else if (e->where == IN_VP)
		old = *vp_slot(vp, msr);
	else if (e->where == FIXED)
		old = e->value;
	else if (virt->vp_get_msr(vp, msr, &old))
		return refused(vp, msr, true);
	if (!write_valid(e, msr, old, v))
		return EXIT_ACTION_INJECT_GP;
	if (msr == MSR_APIC_BASE)
		return vapic_base_write(vp, v);
	if (e->where == IN_VP)
		*vp_slot(vp, msr) = v;
	else if (e->where == IN_VMCB)
		virt->vp_set_msr(vp, msr, v);
	return EXIT_ACTION_ADVANCE;
}
