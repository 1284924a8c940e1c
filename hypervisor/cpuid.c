/*
 * CPUID as a partition sees it: the host's answers, with the hypervisor
 * present bit set, SVM hidden (no nested virtualization is offered), and
 * the Hyper-V leaves 0x40000000-0x40000006 describing exactly what this
 * hypervisor implements.
 */
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

#define HV_SIGNATURE_EBX 0x7263694d     /* "Micr" */
#define HV_SIGNATURE_ECX 0x666f736f     /* "osof" */
#define HV_SIGNATURE_EDX 0x76482074     /* "t Hv" */

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
			HV_MSR_SYNIC_AVAILABLE;
		if (vp->partition->is_root)
			r.ebx = HV_CPU_MANAGEMENT | HV_CREATE_PARTITIONS |
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
		r = cpuid(leaf, sub);
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
	}
	vp->gpr[GPR_RAX] = r.eax;
	vp->gpr[GPR_RBX] = r.ebx;
	vp->gpr[GPR_RCX] = r.ecx;
	vp->gpr[GPR_RDX] = r.edx;
	return EXIT_ACTION_ADVANCE;
}
