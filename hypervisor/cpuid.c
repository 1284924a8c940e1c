/*
 * CPUID as a partition sees it. The root: the host's answers, with the
 * hypervisor present bit set and SVM hidden (it owns the hardware, and no
 * nested virtualization is offered). A child: the host's answers through
 * the written policy of cpupolicy.c (what it may use, and only that). For
 * both, the XSAVE bits follow the VP's own CR4 and XCR0 (xsave.c), and
 * the Hyper-V leaves 0x40000000-0x40000006 describe exactly what this
 * hypervisor implements.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "cpustate.h"
#include "cpupolicy.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

#define HV_SIGNATURE_EBX 0x7263694d     /* "Micr" */
#define HV_SIGNATURE_ECX 0x666f736f     /* "osof" */
#define HV_SIGNATURE_EDX 0x76482074     /* "t Hv" */

static struct cpupolicy_host child_host;

void cpuid_child_init(bool tsc_aux, uint64_t spec_ctrl, bool ibpb)
{
	child_host.max_basic = cpuid(0, 0).eax;
	child_host.max_ext = cpuid(0x80000000, 0).eax;
	child_host.xsave = xsave_present;
	child_host.xcr0 = xcr0_host;
	child_host.tsc_aux = tsc_aux;
	child_host.spec_ctrl = spec_ctrl;
	child_host.ibpb = ibpb;
}

struct cpuid_regs cpuid_child(uint32_t leaf, uint32_t sub)
{
	return cpupolicy_cpuid(&child_host, leaf, sub, cpuid(leaf, sub));
}

/* The root's: the host's, but for the hypervisor bit and SVM. */
static struct cpuid_regs root_leaf(uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r = cpuid(leaf, sub);

	switch (leaf) {
	case 1:
		r.ecx |= 1u << 31;      /* hypervisor present */
		break;
	case 0x80000001:
		r.ecx &= ~(1u << 2);    /* SVM */
		break;
	case 0x8000000a:
		r = (struct cpuid_regs){ 0, 0, 0, 0 };
		break;
	}
	return r;
}

static struct cpuid_regs hv_leaf(struct vp *vp, uint32_t leaf)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };

	switch (leaf) {
	case HV_CPUID_VENDOR_AND_MAX:
		r.eax = HV_CPUID_MAX_LEAF;
		r.ebx = HV_SIGNATURE_EBX;
		r.ecx = HV_SIGNATURE_ECX;
		r.edx = HV_SIGNATURE_EDX;
		break;
	case HV_CPUID_INTERFACE:
		r.eax = HV_CPUID_INTERFACE_SIGNATURE;
		break;
	case HV_CPUID_VERSION:
		r.eax = 1;                      /* build */
		r.ebx = (0u << 16) | 1;         /* major.minor 0.1 */
		break;
	case HV_CPUID_FEATURES:
		r.eax = HV_MSR_HYPERCALL_AVAILABLE | HV_MSR_VP_INDEX_AVAILABLE |
			HV_MSR_TIME_REF_COUNT_AVAILABLE | HV_ACCESS_FREQUENCY_MSRS |
			HV_MSR_SYNIC_AVAILABLE | HV_MSR_REFERENCE_TSC_AVAILABLE;
		/* The frequency MSRs answer (Linux takes the TSC rate from
		 * them only when this bit says so, as from Hyper-V). */
		r.edx = HV_FEATURE_FREQUENCY_MSRS_AVAILABLE;
		/* Every partition may post messages and signal events on
		 * the connections the root made for it. */
		r.ebx = HV_POST_MESSAGES | HV_SIGNAL_EVENTS;
		/* A child's synthetic APIC MSRs and VP assist page
		 * (vapic.c); the root uses its physical APIC. */
		if (!vp->partition->is_root) {
			r.eax |= HV_MSR_APIC_ACCESS_AVAILABLE | HV_MSR_SYNTIMER_AVAILABLE;
			r.edx |= HV_STIMER_DIRECT_MODE_AVAILABLE;
		}
		if (vp->partition->is_root)
			r.ebx |= HV_CPU_MANAGEMENT | HV_CREATE_PARTITIONS |
				 HV_ACCESS_MEMORY_POOL;
		break;
	case HV_CPUID_ENLIGHTENMENT_INFO:
		r.ebx = 0xffffffff;             /* never notify on spinlocks */
		break;
	case HV_CPUID_IMPLEMENT_LIMITS:
		r.eax = HV_MAX_CPUS;            /* virtual processors */
		r.ebx = HV_MAX_CPUS;            /* logical processors */
		break;
	default:
		break;                          /* 0x40000006 and above: none */
	}
	return r;
}

enum exit_action exit_cpuid(struct vp *vp, struct vp_exit *e)
{
	uint32_t leaf = (uint32_t)vp->gpr[GPR_RAX];
	uint32_t sub = (uint32_t)vp->gpr[GPR_RCX];
	struct cpuid_regs r;

	if (leaf >= 0x40000000 && leaf <= 0x4fffffff) {
		r = hv_leaf(vp, leaf);
	} else {
		r = vp->partition->is_root ? root_leaf(leaf, sub) :
					     cpuid_child(leaf, sub);
		xsave_cpuid(vp, leaf, sub, &r);
		if (!vp->partition->is_root) {
			/* The APIC id is the VP's own (vapic.c), not the
			 * physical CPU's it happens to run on. */
			uint32_t id = vp->apic.id;

			if (leaf == 1)
				r.ebx = (r.ebx & 0x00ffffffu) | (id << 24);
			else if (leaf == 0xb || leaf == 0x1f)
				r.edx = id;
			else if (leaf == 0x8000001e)
				r.eax = id;
		}
	}
	if (!vp->partition->is_root && cpuid_intercepted(vp->partition, leaf)) {
		/* The root asked to answer this leaf: it gets what we would
		 * have said, and completes the instruction itself. */
		struct hv_x64_cpuid_intercept_message m;

		memset(&m, 0, sizeof(m));
		intercept_header(vp, &m.header, 0, exit_insn_length(vp, e));
		m.rax = vp->gpr[GPR_RAX];
		m.rcx = vp->gpr[GPR_RCX];
		m.rdx = vp->gpr[GPR_RDX];
		m.rbx = vp->gpr[GPR_RBX];
		m.default_result_rax = r.eax;
		m.default_result_rcx = r.ecx;
		m.default_result_rdx = r.edx;
		m.default_result_rbx = r.ebx;
		intercept_to_root(vp, HVMSG_X64_CPUID_INTERCEPT, &m, sizeof(m));
		return EXIT_ACTION_RESUME;
	}
	vp->gpr[GPR_RAX] = r.eax;
	vp->gpr[GPR_RBX] = r.ebx;
	vp->gpr[GPR_RCX] = r.ecx;
	vp->gpr[GPR_RDX] = r.edx;
	return EXIT_ACTION_ADVANCE;
}
