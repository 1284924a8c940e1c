/*
 * Switching the CPU state VMRUN leaves alone (see cpustate.h for what).
 * What VMRUN does switch, and what svm_entry.S's VMLOAD/VMSAVE pair adds
 * (FS, GS, TR and LDTR with their hidden bases, KERNEL_GS_BASE, STAR,
 * LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/EIP), needs nothing here.
 *
 * Each CPU remembers which VP's copy it holds (`loaded`). On entry of a
 * different VP the holder's is saved and the new one's restored: between
 * two runs of the same VP nothing is done, and the root's VPs and the
 * children that run while the root idles trade places on every child run
 * (root -> child -> root), so the root pays two switches per child run.
 * A VP of a deleted partition may still be a CPU's holder: its memory is
 * never freed, so saving into it is harmless, and nobody loads it again.
 *
 * A child's IBPB (a PRED_CMD write) is done for it on its CPU: it is a
 * barrier, with no state to keep.
 *
 * The root reaches TSC_AUX, SPEC_CTRL and DR0-DR3 directly (its MSR map
 * lets them through), so its values are read back from the CPU when it
 * is switched out. A child reaches none of them directly: its RDMSR and
 * WRMSR come here, and RDTSCP/RDPID read the value loaded for it.
 */
#include "hv.h"
#include "cpustate.h"
#include "spinlock.h"
#include "vp.h"
#include "childmsr.h"
#include "arch/x86/cpu.h"

#define CPUID_EXT_RDTSCP     (1u << 27)  /* 0x80000001 EDX */
#define CPUID7_ECX_RDPID     (1u << 22)
#define CPUID7_EDX_IBRS      (1u << 26)  /* Intel: IBRS and IBPB */
#define CPUID7_EDX_STIBP     (1u << 27)
#define CPUID7_EDX_SSBD      (1u << 31)
#define CPUID88_EBX_IBPB     (1u << 12)  /* AMD, 0x80000008 EBX */
#define CPUID88_EBX_IBRS     (1u << 14)
#define CPUID88_EBX_STIBP    (1u << 15)
#define CPUID88_EBX_SSBD     (1u << 24)
#define SPEC_CTRL_IBRS       (1ull << 0)
#define SPEC_CTRL_STIBP      (1ull << 1)
#define SPEC_CTRL_SSBD       (1ull << 2)
#define PRED_CMD_IBPB        (1ull << 0)

/* The VP whose state each CPU holds. Its own CPU changes it (with
 * interrupts off); a deletion on another CPU clears it, under the lock,
 * so a deleted VP's image is never saved into after it is freed. */
static struct vp *loaded[HV_MAX_CPUS];
static spinlock_t loaded_lock[HV_MAX_CPUS];
static bool has_tsc_aux, has_ibpb;
static uint64_t spec_ctrl_bits;         /* writable SPEC_CTRL bits; 0: none */
/* What the firmware left in each CPU: the root's VP there starts with it. */
static uint64_t boot_tsc_aux[HV_MAX_CPUS], boot_spec_ctrl[HV_MAX_CPUS];

static void probe_msrs(void)
{
	uint32_t max = cpuid(0, 0).eax, ext = cpuid(0x80000000, 0).eax;
	struct cpuid_regs l7 = max >= 7 ? cpuid(7, 0) : (struct cpuid_regs){ 0 };
	struct cpuid_regs e8 = ext >= 0x80000008 ? cpuid(0x80000008, 0) :
						   (struct cpuid_regs){ 0 };

	has_tsc_aux = (ext >= 0x80000001 &&
		       (cpuid(0x80000001, 0).edx & CPUID_EXT_RDTSCP)) ||
		      (l7.ecx & CPUID7_ECX_RDPID);
	if ((l7.edx & CPUID7_EDX_IBRS) || (e8.ebx & CPUID88_EBX_IBRS))
		spec_ctrl_bits |= SPEC_CTRL_IBRS;
	has_ibpb = (l7.edx & CPUID7_EDX_IBRS) || (e8.ebx & CPUID88_EBX_IBPB);
	if ((l7.edx & CPUID7_EDX_STIBP) || (e8.ebx & CPUID88_EBX_STIBP))
		spec_ctrl_bits |= SPEC_CTRL_STIBP;
	if ((l7.edx & CPUID7_EDX_SSBD) || (e8.ebx & CPUID88_EBX_SSBD))
		spec_ctrl_bits |= SPEC_CTRL_SSBD;
}

void cpustate_cpu_init(void)
{
	unsigned cpu = this_cpu()->index;

	xsave_cpu_init(cpu == 0);
	if (cpu == 0) {
		char xcr0[40] = "";

		if (xsave_present)
			ksnprintf(xcr0, sizeof(xcr0), " of XCR0 mask %#lx", xcr0_host);
		probe_msrs();
		hv_log("cpu state per VP: %s%s (%u-byte areas)%s%s, DR0-DR3",
		       xsave_describe(), xcr0, xsave_area_bytes(),
		       has_tsc_aux ? ", TSC_AUX" : "",
		       spec_ctrl_bits ? ", SPEC_CTRL" : "");
		cpuid_child_init(has_tsc_aux, spec_ctrl_bits, has_ibpb);
		childmsr_init();
	}
	if (has_tsc_aux)
		boot_tsc_aux[cpu] = rdmsr(MSR_TSC_AUX);
	if (spec_ctrl_bits)
		boot_spec_ctrl[cpu] = rdmsr(MSR_SPEC_CTRL);
}

bool refusal_log_due(uint64_t *count, uint64_t *n)
{
	*n = __atomic_add_fetch(count, 1, __ATOMIC_RELAXED);
	return *n <= 3 || !(*n & (*n - 1));
}

/* The reset state, on the VP's first run. A child's TSC_AUX is its VP
 * index, as firmware would set a CPU number; the root keeps the CPU's. */
static void vp_state_init(struct vp *vp)
{
	struct vp_cpustate *s = &vp->cpustate;

	s->xsave = xsave_area_new();
	s->xcr0 = XCR0_X87;
	if (vp->partition->is_root) {
		s->tsc_aux = boot_tsc_aux[vp->cpu];
		s->spec_ctrl = boot_spec_ctrl[vp->cpu];
	} else {
		s->tsc_aux = vp->index;
		s->spec_ctrl = 0;
	}
	for (unsigned i = 0; i < 4; i++)
		s->dr[i] = 0;
}

static void save_from_cpu(struct vp *vp)
{
	struct vp_cpustate *s = &vp->cpustate;

	xsave_save(s->xsave);
	if (has_tsc_aux)
		s->tsc_aux = rdmsr(MSR_TSC_AUX);
	if (spec_ctrl_bits)
		s->spec_ctrl = rdmsr(MSR_SPEC_CTRL);
	s->dr[0] = read_dr0();
	s->dr[1] = read_dr1();
	s->dr[2] = read_dr2();
	s->dr[3] = read_dr3();
}

/* `was` is what the CPU holds now (the previous VP's), or NULL if no VP
 * ran here yet: then every value is written. */
static void load_to_cpu(struct vp *vp, const struct vp_cpustate *was)
{
	const struct vp_cpustate *s = &vp->cpustate;

	xsave_restore(s->xsave);
	if (has_tsc_aux && (!was || was->tsc_aux != s->tsc_aux))
		wrmsr(MSR_TSC_AUX, s->tsc_aux);
	if (spec_ctrl_bits && (!was || was->spec_ctrl != s->spec_ctrl))
		wrmsr(MSR_SPEC_CTRL, s->spec_ctrl);
	write_dr0(s->dr[0]);
	write_dr1(s->dr[1]);
	write_dr2(s->dr[2]);
	write_dr3(s->dr[3]);
}

void cpustate_enter(struct vp *vp)
{
	unsigned cpu = this_cpu()->index;
	struct vp *old;

	spin_lock(&loaded_lock[cpu]);
	old = loaded[cpu];
	if (old != vp) {
		if (!vp->cpustate.xsave)
			vp_state_init(vp);
		/* Under xcr0_host (cpustate_leave put it back), so the image
		 * holds every component, whatever XCR0 `old` ran with. */
		if (old)
			save_from_cpu(old);
		load_to_cpu(vp, old ? &old->cpustate : NULL);
		loaded[cpu] = vp;
	}
	spin_unlock(&loaded_lock[cpu]);
	xcr0_enter(vp);
}

void cpustate_vp_gone(struct vp *vp)
{
	for (unsigned cpu = 0; cpu < HV_MAX_CPUS; cpu++) {
		spin_lock(&loaded_lock[cpu]);
		if (loaded[cpu] == vp)
			loaded[cpu] = NULL;     /* the next VP there loads everything */
		spin_unlock(&loaded_lock[cpu]);
	}
	if (vp->cpustate.xsave)
		xsave_area_free(vp->cpustate.xsave);
	vp->cpustate.xsave = NULL;
}

void cpustate_leave(struct vp *vp)
{
	xcr0_leave(vp);
}

bool cpustate_msr_read(struct vp *vp, uint32_t msr, uint64_t *v,
		       enum exit_action *action)
{
	if (msr == MSR_TSC_AUX && has_tsc_aux)
		*v = vp->cpustate.tsc_aux;
	else if (msr == MSR_SPEC_CTRL && spec_ctrl_bits)
		*v = vp->cpustate.spec_ctrl;
	else
		return false;
	*action = EXIT_ACTION_ADVANCE;
	return true;
}

bool cpustate_msr_write(struct vp *vp, uint32_t msr, uint64_t v,
			enum exit_action *action)
{
	/* Exits are handled on the VP's CPU right after its run, so the CPU
	 * holds this VP's state and the new value goes straight in. */
	bool here = loaded[this_cpu()->index] == vp;

	if (msr == MSR_TSC_AUX && has_tsc_aux) {
		*action = v >> 32 ? EXIT_ACTION_INJECT_GP : EXIT_ACTION_ADVANCE;
		if (*action == EXIT_ACTION_ADVANCE) {
			vp->cpustate.tsc_aux = v;
			if (here)
				wrmsr(MSR_TSC_AUX, v);
		}
		return true;
	}
	if (msr == MSR_PRED_CMD && has_ibpb) {
		/* A barrier on this CPU, for the child: nothing to keep. */
		*action = v & ~PRED_CMD_IBPB ? EXIT_ACTION_INJECT_GP :
					       EXIT_ACTION_ADVANCE;
		if (v == PRED_CMD_IBPB)
			wrmsr(MSR_PRED_CMD, v);
		return true;
	}
	if (msr == MSR_SPEC_CTRL && spec_ctrl_bits) {
		*action = v & ~spec_ctrl_bits ? EXIT_ACTION_INJECT_GP :
						EXIT_ACTION_ADVANCE;
		if (*action == EXIT_ACTION_ADVANCE) {
			vp->cpustate.spec_ctrl = v;
			if (here)
				wrmsr(MSR_SPEC_CTRL, v);
		}
		return true;
	}
	return false;
}
