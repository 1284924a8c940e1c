/*
 * The per-VP CPU state that VMRUN and VMLOAD/VMSAVE do not switch:
 * x87/SSE/AVX registers and XCR0 (xsave.c), TSC_AUX, SPEC_CTRL (and
 * PRED_CMD's IBPB, which a child may trigger) and the
 * debug address registers DR0-DR3 (cpustate.c). A CPU holds one VP's
 * copy of them at a time; whenever a different VP is about to run there
 * than last time, the previous one's is saved and the new one's loaded,
 * so no partition sees another's values. The hypervisor itself is built
 * -mgeneral-regs-only and never changes any of them in between.
 */
#ifndef HV_CPUSTATE_H
#define HV_CPUSTATE_H

#include <stdbool.h>
#include <stdint.h>
#include <isovisor/x86.h>
#include "exit.h"

struct vp;

struct vp_cpustate {
	void *xsave;                    /* XSAVE or FXSAVE image; NULL until
					 * the VP first runs */
	uint64_t xcr0;                  /* what the VP set with XSETBV */
	uint64_t tsc_aux;
	uint64_t spec_ctrl;
	uint64_t dr[4];
};

/* ---- cpustate.c ---------------------------------------------------------- */
/* Every CPU at boot, the boot CPU first: the FPU and XSAVE set-up, and
 * which of the MSRs above this CPU has. */
void cpustate_cpu_init(void);
/* Around each VMRUN, on the VP's CPU with interrupts off: load the VP's
 * state (saving the previous owner's) and its XCR0; put the host's XCR0
 * back after the #VMEXIT, before anything may XSAVE. */
void cpustate_enter(struct vp *vp);
void cpustate_leave(struct vp *vp);
/* A VP being deleted (it runs nowhere): no CPU holds its state any more,
 * and its image is freed. */
void cpustate_vp_gone(struct vp *vp);
/* A child's RDMSR/WRMSR of TSC_AUX or SPEC_CTRL (the root reaches the
 * hardware directly). False when `msr` is not one of them; else *action
 * says what the instruction does. */
bool cpustate_msr_read(struct vp *vp, uint32_t msr, uint64_t *v,
		       enum exit_action *action);
bool cpustate_msr_write(struct vp *vp, uint32_t msr, uint64_t v,
			enum exit_action *action);
/* Log a refused guest access at most a few times per counter, then only
 * at powers of two; true when this one should be logged. */
bool refusal_log_due(uint64_t *count, uint64_t *n);

/* ---- cpuid.c ----------------------------------------------------------------- */
/* Boot CPU, from cpustate_cpu_init with what it found kept per VP (and
 * whether IBPB may be passed on): what cpupolicy_cpuid needs of the host. */
void cpuid_child_init(bool tsc_aux, uint64_t spec_ctrl, bool ibpb);
/* The host's CPUID(leaf, sub) as the child policy gives it to children,
 * before the per-VP XSAVE adjustments. */
struct cpuid_regs cpuid_child(uint32_t leaf, uint32_t sub);

/* ---- xsave.c --------------------------------------------------------------- */
extern bool xsave_present;              /* else FXSAVE */
extern uint64_t xcr0_host;              /* every XCR0 bit the VPs may use */
void xsave_cpu_init(bool boot_cpu);
const char *xsave_describe(void);      /* "XSAVE" or "FXSAVE" */
uint32_t xsave_area_bytes(void);
/* A state image in the architectural initial state (FNINIT's x87
 * control word 0x37f, MXCSR 0x1f80, every register zero). */
void *xsave_area_new(void);
void xsave_area_free(void *area);
void xsave_save(void *area);
void xsave_restore(const void *area);
/* Load the VP's XCR0 for its run; after it, note what it really ran with
 * and put xcr0_host back. */
void xcr0_enter(struct vp *vp);
void xcr0_leave(struct vp *vp);
enum exit_action exit_xsetbv(struct vp *vp, struct vp_exit *e);
/* CPUID leaves 1, 7 and 0xd as a VP sees them: OSXSAVE and OSPKE follow
 * its own CR4, the XSAVE leaf its own XCR0 and the supported mask. */
void xsave_cpuid(struct vp *vp, uint32_t leaf, uint32_t sub,
		 struct cpuid_regs *r);

#endif
