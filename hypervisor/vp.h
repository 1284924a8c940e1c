/*
 * Partitions and virtual processors: the vendor-neutral view the core
 * works with. A VP's general registers live here in x86 encoding order
 * (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15); the vendor back-end
 * moves the few it keeps elsewhere (SVM keeps RAX and RSP in the VMCB) in
 * and out around each run, so exit handlers only ever see vp->gpr[].
 */
#ifndef HV_VP_H
#define HV_VP_H

#include <stdbool.h>
#include <stdint.h>
#include <isovisor/hvtlfs.h>
#include "memmap.h"
#include "spinlock.h"
#include "exit.h"
#include "cpustate.h"
#include "childmsr.h"
#include "vlapic.h"

enum gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_COUNT
};

struct partition;

/* A message waiting for a SINT's slot: owned by whoever posted it (a
 * child VP's intercept, or the SynIC's own copy of an HvPostMessage), and
 * linked into the target SINT's queue until the slot takes it. */
struct synic_msg {
	struct synic_msg *next;
	bool queued;                    /* in some SINT's queue (under its lock) */
	struct hv_message m;
};

/*
 * A VP's synthetic interrupt controller (TLFS chapter 11). Any CPU may
 * post to it (intercepts from children, HvPostMessage, SignalEvent); its
 * own VP writes its MSRs and EOM on its own CPU. `lock` covers the
 * registers and the queues; the message page itself is shared with the
 * guest and ordered by the message type (see synic.c).
 */
struct synic {
	spinlock_t lock;
	uint64_t scontrol;
	uint64_t simp;                  /* message page GPA | enable */
	uint64_t siefp;
	uint64_t sint[HV_SYNIC_SINT_COUNT];
	/* Messages waiting for their slot, oldest first: nothing is dropped;
	 * each EOM (or enabling write) delivers the next. */
	struct synic_msg *head[HV_SYNIC_SINT_COUNT], *tail[HV_SYNIC_SINT_COUNT];
	/* The copy an HvPostMessage waits in: one per SINT, as the TLFS's
	 * per-SINT message buffer; when it is taken the sender gets
	 * HV_STATUS_INSUFFICIENT_BUFFERS and retries. */
	struct synic_msg posted[HV_SYNIC_SINT_COUNT];
};

/* The parts of a VP's state that exit handling reads (decoding, paging
 * walks, privilege checks), read from the vendor's structure on demand. */
struct vp_regs_view {
	uint64_t rip, rflags;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t cs_base;
	bool cs_long;                   /* CS.L in long mode: 64-bit code */
	bool cs_db;                     /* CS.D: 32-bit default size */
	uint8_t cpl;
};

struct vp {
	/* Accessed from assembly by offset: keep gpr first. */
	uint64_t gpr[GPR_COUNT];
	struct partition *partition;
	unsigned index;                 /* VP index within its partition */
	unsigned cpu;                   /* physical CPU it runs on */
	void *vendor;                   /* VMCB / VMCS and friends */
	uint64_t exits[EXIT_REASON_COUNT];
	/* TSC cycles spent in the hypervisor per exit reason: from the exit
	 * to this VP's next entry (vp_run_once), for the exit-cost line. */
	uint64_t exit_cycles[EXIT_REASON_COUNT];
	uint64_t left_at;               /* TSC at the last exit, 0 before */
	unsigned left_for;              /* its reason */
	/* HvCallStartVirtualProcessor: set by the caller, taken by the VP's
	 * CPU. */
	volatile bool start_pending;
	volatile bool started;
	struct hv_initial_vp_context start_ctx;
	/* Physical interrupts taken by the hypervisor while this (root) VP
	 * idled, to be delivered to it. */
	uint64_t pending_irq[4];
	uint64_t npf_logged;            /* rate limit for unowned-memory logs */
	/* Run state of a child VP (the root's VPs are always runnable). */
	bool explicit_suspend;          /* HV_REGISTER_EXPLICIT_SUSPEND */
	bool intercept_suspend;         /* waiting for the root to complete */
	bool halted;                    /* HLT until an interrupt is pending */
	/* A child VP's intercept message, held here until the root's SINT 0
	 * slot takes it; the VP stays in intercept suspend meanwhile. */
	struct synic_msg intercept;
	struct vp *intercept_target;    /* the root VP it was posted to */
	/* The root scheduler (dispatch.c): once the root maps the VP's
	 * intercept page it runs only inside HvCallDispatchVp, on its CPU;
	 * the pages are the root's (identity-mapped), kept out of what the
	 * root can lend until the child is deleted. */
	bool root_sched;
	struct hv_isovisor_intercept_page *dispatch_page;
	struct hv_vp_register_page *reg_page;
	bool dispatch_blocked;          /* the last dispatch said BLOCKED */
	uint64_t dispatches, dispatches_blocked, dispatch_intercepts, dispatch_rearms;
	struct vp *run_next, *run_prev; /* its CPU's run ring (sched.c) */
	volatile bool tlb_flush;        /* flush before the next entry */
	struct synic synic;
	struct vp_cpustate cpustate;    /* FPU/XCR0 and MSRs VMRUN keeps */
	struct vp_msrs msrs;            /* a child's MSR records (childmsr.c) */
	/* A child's local APIC (vapic.c); the root uses the real one. */
	spinlock_t apic_lock;
	struct vlapic apic;
	uint64_t apic_refused, apic_gp, apic_ipis, apic_ipi_refused;
	uint64_t apic_level_eois, apic_mmio;
	uint64_t apic_extint_held, apic_extints, apic_injected;
	bool apic_eoi_pending;          /* an EOI message waits for the root */
	uint64_t vp_assist_msr;         /* HV_X64_MSR_VP_ASSIST_PAGE */
	/* Synthetic timers (vapic.c): the MSRs, and the host TSC of the
	 * next expiry (0: not armed). Only the VP's own CPU changes them. */
	struct vp_stimer {
		uint64_t config, count, expire;
		uint64_t fired, missed;
		struct synic_msg msg;   /* message mode: the expiry's record */
	} stimer[HV_STIMER_COUNT];
};
_Static_assert(__builtin_offsetof(struct vp, gpr) == 0, "gpr first");

/* A 16550 as a partition's console sees it: bytes gather into a line,
 * which goes out with the partition's name as its prefix. */
struct console_uart {
	char line[256];
	unsigned len;
	uint8_t lcr, ier, mcr, scr, dll, dlm;
};

/* A port range a partition's I/O exits go to. `value` is in/out: the
 * handler fills it for an IN. Returns the exit action. */
struct io_range {
	uint16_t base, len;
	int (*handler)(struct vp *vp, uint16_t port, unsigned size, bool in,
		       uint32_t *value);
};
#define PARTITION_IO_RANGES 8

struct partition {
	uint64_t id;
	const char *name;
	bool is_root;
	struct vp *vps[64];
	unsigned vp_count;
	void *vendor;                   /* nested page tables and friends */
	struct memmap ram;              /* the GPA ranges of RAM it owns */
	spinlock_t ram_lock;            /* ram changes (pages lent, returned)
					 * while other CPUs' exits read it */
	uint64_t guest_os_id;
	uint64_t hypercall_msr;
	uint64_t ref_tsc_msr;           /* HV_X64_MSR_REFERENCE_TSC */
	spinlock_t lock;
	struct console_uart uart;
	struct io_range io[PARTITION_IO_RANGES];
	unsigned io_count;
	/* Children: the host frames behind their GPA pages, in GPA order
	 * from 0 (entry 0 = GPA page 0); 0 where nothing is mapped. */
	uint64_t *frames;
	uint64_t frame_count;
	bool initialized;
	bool stopped;
	bool named;                     /* the root gave it a name: log its end */
	/* What the root asked to see (HvCallInstallIntercept): CPUID leaves
	 * and MSRs of this child go to it instead of being answered here. */
	uint32_t cpuid_intercepts[8];
	unsigned cpuid_intercept_count;
	uint32_t msr_intercepts[8];
	uint8_t msr_intercept_access[8];
	unsigned msr_intercept_count;
	/* Refused accesses, for rate-limited logs (cpustate.h). */
	uint64_t refused_xsetbv;
	/* Children's refused MSRs (childmsr.c): the count, and which MSRs
	 * were logged already (msr + 1; 0: free). */
	uint64_t refused_msr;
	uint64_t refused_msr_seen[CHILDMSR_LOGGED];
};

#define MAX_CHILD_PARTITIONS 64
extern struct partition *child_partitions[MAX_CHILD_PARTITIONS];

extern struct partition root_partition;

#endif
