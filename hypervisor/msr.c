/*
 * MSR intercepts: EFER (SVME stays set for the hardware, hidden from the
 * guest), the virtualization MSRs (refused with #GP: no nested
 * virtualization), the root's x2APIC ICR (INIT and SIPI never reach a
 * physical CPU), the TLFS synthetic MSRs, and a child's TSC_AUX,
 * SPEC_CTRL and PRED_CMD (cpustate.c). A child's x2APIC MSRs
 * (0x800-0x8ff) and IA32_TSC_DEADLINE are its virtual local APIC's
 * (vapic.c); it never reaches the physical one. Every
 * other MSR of a child is the written policy's (childmsr.c: per-VP
 * copies, fixed values, or #GP). Every other MSR the root's permission
 * map lets through goes straight to the hardware; a child's map lets
 * nothing through.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "gmem.h"
#include "virt.h"
#include "vpops.h"
#include "vapic.h"
#include "apicfilter.h"
#include "synic.h"
#include "cpustate.h"
#include "childmsr.h"
#include "arch/x86/cpu.h"

#define MSR_X2APIC_ICR 0x830
#define EFER_WRITABLE (EFER_SCE | EFER_LME | EFER_NXE | (1ull << 13) | \
		       (1ull << 14) | (1ull << 15))    /* LMSLE FFXSR TCE */

static uint64_t ref_counter_100ns(void)
{
	/* The TLFS reference counter counts 100 ns units. */
	uint64_t khz = tsc_khz();

	return khz ? rdtsc() * 10000 / khz : 0;
}

/* floor(2^64 * 10^7 / hz): the reference TSC page's scale, so that
 * (tsc * scale) >> 64 counts 100 ns units (TLFS 12.7.3). Long division:
 * no 128-bit divide in a freestanding build. */
static uint64_t ref_tsc_scale(uint64_t hz)
{
	uint64_t q = 0, rem = 10000000;

	if (hz <= rem)
		return 0;
	for (int i = 0; i < 64; i++) {
		rem <<= 1;
		q <<= 1;
		if (rem >= hz) {
			rem -= hz;
			q |= 1;
		}
	}
	return q;
}

static uint64_t mul_hi64(uint64_t a, uint64_t b)
{
	return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

/* The partition's reference TSC page (HV_X64_MSR_REFERENCE_TSC): the
 * hypervisor fills the page at the GPA the guest names with a sequence
 * number, scale and offset that turn the VP's TSC into the reference
 * counter's 100 ns units; a sequence of 0 tells the guest to fall back
 * to the MSR. A GPA that is not the partition's memory is #GP. */
struct ref_tsc_page {
	volatile uint32_t sequence;
	uint32_t reserved1;
	volatile uint64_t scale;
	volatile int64_t offset;
};

static enum exit_action ref_tsc_write(struct vp *vp, uint64_t v)
{
	struct partition *p = vp->partition;
	struct ref_tsc_page *pg;
	uint64_t scale, tsc;

	if (v & ~(PTE_ADDR_MASK | HV_X64_MSR_REFERENCE_TSC_ENABLE))
		return EXIT_ACTION_INJECT_GP;
	if (v & HV_X64_MSR_REFERENCE_TSC_ENABLE) {
		pg = gpa_to_hva(p, v & PTE_ADDR_MASK, sizeof(*pg));
		if (!pg)
			return EXIT_ACTION_INJECT_GP;
		scale = ref_tsc_scale(tsc_khz() * 1000);
		if (virt->vp_get_msr(vp, MSR_TSC, &tsc))
			tsc = rdtsc();
		pg->sequence = 0;
		pg->scale = scale;
		pg->offset = (int64_t)(ref_counter_100ns() - mul_hi64(tsc, scale));
		/* 0 would mean "invalid"; any other value says "use me". */
		pg->sequence = scale ? 1 : 0;
	}
	p->ref_tsc_msr = v;
	return EXIT_ACTION_ADVANCE;
}

/* A child's EFER: only the bits its CPUID offers (childmsr.c), and LME
 * never changes while paging is on (APM vol. 2, 3.1.7; SDM: #GP). */
static enum exit_action child_efer_write(struct vp *vp, uint64_t v)
{
	uint64_t old = virt->vp_get_efer(vp);
	struct vp_regs_view r;

	if (v & ~(childmsr_efer_writable() | EFER_LMA))
		return EXIT_ACTION_INJECT_GP;
	virt->vp_read_regs(vp, &r);
	if ((r.cr0 & CR0_PG) && ((v ^ old) & EFER_LME))
		return EXIT_ACTION_INJECT_GP;
	virt->vp_set_efer(vp, (v & ~EFER_LMA) | (old & EFER_LMA));
	return EXIT_ACTION_ADVANCE;
}

/* An MSR access the root asked to see (HvCallInstallIntercept). */
static enum exit_action msr_to_root(struct vp *vp, struct vp_exit *e, bool write)
{
	struct hv_x64_msr_intercept_message m;

	memset(&m, 0, sizeof(m));
	intercept_header(vp, &m.header, write ? 1 : 0, exit_insn_length(vp, e));
	m.msr_number = (uint32_t)vp->gpr[GPR_RCX];
	m.rdx = vp->gpr[GPR_RDX];
	m.rax = vp->gpr[GPR_RAX];
	intercept_to_root(vp, HVMSG_X64_MSR_INTERCEPT, &m, sizeof(m));
	return EXIT_ACTION_RESUME;
}

enum exit_action exit_msr_read(struct vp *vp, struct vp_exit *e)
{
	uint32_t msr = (uint32_t)vp->gpr[GPR_RCX];
	struct partition *p = vp->partition;
	enum exit_action a;
	uint64_t v;

	/* What the root chose to emulate itself is its business; nothing
	 * else of a child's reaches the hardware. */
	if (!p->is_root && msr_intercepted(p, msr, false))
		return msr_to_root(vp, e, false);
	if (!p->is_root && (vapic_msr(vp, msr, false, &v, &a) ||
			    vapic_hv_msr(vp, msr, false, &v, &a))) {
		if (a != EXIT_ACTION_ADVANCE)
			return a;
		vp->gpr[GPR_RAX] = (uint32_t)v;
		vp->gpr[GPR_RDX] = v >> 32;
		return EXIT_ACTION_ADVANCE;
	}
	switch (msr) {
	case MSR_EFER:
		v = virt->vp_get_efer(vp);
		break;
	case HV_X64_MSR_GUEST_OS_ID:
		v = p->guest_os_id;
		break;
	case HV_X64_MSR_HYPERCALL:
		v = p->hypercall_msr;
		break;
	case HV_X64_MSR_VP_INDEX:
		v = vp->index;
		break;
	case HV_X64_MSR_TIME_REF_COUNT:
		v = ref_counter_100ns();
		break;
	case HV_X64_MSR_REFERENCE_TSC:
		v = p->ref_tsc_msr;
		break;
	case HV_X64_MSR_TSC_FREQUENCY:
		v = tsc_khz() * 1000;
		break;
	case HV_X64_MSR_APIC_FREQUENCY:
		v = 1000000000ull;              /* the bus clock QEMU models */
		break;
	default:
		if (synic_msr_read(vp, msr, &v))
			break;
		if (cpustate_msr_read(vp, msr, &v, &a))
			break;
		if (!p->is_root) {
			a = childmsr_read(vp, msr, &v);
			if (a != EXIT_ACTION_ADVANCE)
				return a;
			break;
		}
		return EXIT_ACTION_INJECT_GP;   /* VM_CR, VM_HSAVE_PA, unknown */
	}
	vp->gpr[GPR_RAX] = (uint32_t)v;
	vp->gpr[GPR_RDX] = v >> 32;
	return EXIT_ACTION_ADVANCE;
}

enum exit_action exit_msr_write(struct vp *vp, struct vp_exit *e)
{
	uint32_t msr = (uint32_t)vp->gpr[GPR_RCX];
	uint64_t v = (vp->gpr[GPR_RDX] << 32) | (uint32_t)vp->gpr[GPR_RAX];
	struct partition *p = vp->partition;
	enum exit_action a;

	if (!p->is_root && msr_intercepted(p, msr, true))
		return msr_to_root(vp, e, true);
	if (!p->is_root && (vapic_msr(vp, msr, true, &v, &a) ||
			    vapic_hv_msr(vp, msr, true, &v, &a)))
		return a;
	switch (msr) {
	case MSR_EFER:
		if (!p->is_root)
			return child_efer_write(vp, v);
		if (v & ~(EFER_WRITABLE | EFER_LMA))
			return EXIT_ACTION_INJECT_GP;
		/* LMA is the CPU's to set; keep what it has. */
		virt->vp_set_efer(vp, (v & ~EFER_LMA) |
				  (virt->vp_get_efer(vp) & EFER_LMA));
		return EXIT_ACTION_ADVANCE;
	case HV_X64_MSR_GUEST_OS_ID:
		p->guest_os_id = v;
		if (!v) {
			/* Clearing the OS id disables the hypercall page. */
			p->hypercall_msr &= ~HV_X64_MSR_HYPERCALL_ENABLE;
		}
		return EXIT_ACTION_ADVANCE;
	case HV_X64_MSR_REFERENCE_TSC:
		return ref_tsc_write(vp, v);
	case HV_X64_MSR_HYPERCALL:
		if (p->hypercall_msr & HV_X64_MSR_HYPERCALL_LOCKED)
			return EXIT_ACTION_ADVANCE;     /* ignored once locked */
		if (v & ~(PTE_ADDR_MASK | HV_X64_MSR_HYPERCALL_ENABLE |
			  HV_X64_MSR_HYPERCALL_LOCKED))
			return EXIT_ACTION_INJECT_GP;
		return hypercall_msr_write(vp, v);
	case HV_X64_MSR_SCONTROL ... HV_X64_MSR_SINT15:
		if (msr > HV_X64_MSR_EOM && msr < HV_X64_MSR_SINT0)
			return EXIT_ACTION_INJECT_GP;
		return synic_msr_write(vp, msr, v) ? EXIT_ACTION_INJECT_GP :
						     EXIT_ACTION_ADVANCE;
	case MSR_X2APIC_ICR:
		/* Only the root gets here (children were refused above). */
		if (!apic_icr_allowed(vp, (uint32_t)v, (uint32_t)(v >> 32)))
			return EXIT_ACTION_ADVANCE;
		wrmsr(msr, v);
		return EXIT_ACTION_ADVANCE;
	default:
		if (cpustate_msr_write(vp, msr, v, &a))
			return a;
		if (!p->is_root)
			return childmsr_write(vp, msr, v);
		return EXIT_ACTION_INJECT_GP;
	}
}
