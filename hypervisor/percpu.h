/*
 * The hypervisor core's per-CPU state, one struct per physical CPU, in
 * one array indexed by the CPU's index (0 = boot CPU). The architecture's
 * own per-CPU block (GDT, TSS, stack: arch/x86/cpu.h) is separate.
 *
 * Who touches what:
 * - current, in_guest, exits: only the CPU itself writes them;
 *   other CPUs read current and in_guest (TLB shootdown, deletion checks)
 *   with acquire loads.
 * - nmi_kicks: any CPU adds one before it sends this CPU a kick NMI; this
 *   CPU takes them off in its NMI handler.
 * - nmi_for_root: this CPU only (NMI handler, then its next root entry).
 */
#ifndef HV_PERCPU_H
#define HV_PERCPU_H

#include <stdbool.h>
#include <stdint.h>
#include "hv.h"
#include "spinlock.h"
#include "runring.h"

struct vp;

struct hv_percpu {
	struct vp *current;             /* the VP this CPU runs or last ran */
	volatile uint32_t in_guest;     /* 1 from just before VMRUN to the exit */
	volatile uint64_t exits;        /* #VMEXITs taken on this CPU */
	/* The child VPs bound to this CPU, a ring in creation order, and
	 * the one pick_child gave last (round robin). Under run_lock: the
	 * root's CPU adds and removes, this CPU walks it. */
	spinlock_t run_lock;
	struct run_ring run;
	volatile uint32_t nmi_kicks;    /* kick NMIs sent here, not yet taken */
	bool nmi_for_root;              /* a foreign NMI to hand to the root */
	uint64_t shootdowns;            /* TLB shootdowns this CPU started */
	uint64_t kicks_sent;            /* ... and the CPUs it had to kick */
};

extern struct hv_percpu hv_cpu[HV_MAX_CPUS];

#endif
