/*
 * A child partition's MSRs beyond EFER, the TLFS ones and cpustate.c's:
 * the written policy of childmsr.c. The root is not under it (its MSR
 * map lets the hardware answer).
 */
#ifndef HV_CHILDMSR_H
#define HV_CHILDMSR_H

#include <stdbool.h>
#include <stdint.h>
#include "exit.h"

struct vp;

#define CHILDMSR_MTRR_FIXED 11
#define CHILDMSR_MTRR_VAR   16          /* 8 base/mask pairs */
#define CHILDMSR_LOGGED     16          /* distinct MSRs logged per partition */

/* What a child VP wrote that no hardware holds: records only, read back
 * as written (NPT maps every page write-back whatever the child says). */
struct vp_msrs {
	uint64_t misc_enable;
	uint64_t mtrr_def_type;
	uint64_t mtrr_fixed[CHILDMSR_MTRR_FIXED];
	uint64_t mtrr_var[CHILDMSR_MTRR_VAR];
};

/* Boot CPU, once: the host facts the policy depends on (vendor, physical
 * address width, the child's EFER mask). */
void childmsr_init(void);
/* A new child VP's reset values. */
void childmsr_vp_init(struct vp *vp);
/* A child's RDMSR/WRMSR of an MSR nothing before answered: what the
 * policy table says, #GP (logged) for the rest. */
enum exit_action childmsr_read(struct vp *vp, uint32_t msr, uint64_t *v);
enum exit_action childmsr_write(struct vp *vp, uint32_t msr, uint64_t v);
/* The EFER bits a child may set (cpupolicy_efer_writable on its CPUID). */
uint64_t childmsr_efer_writable(void);

#endif
