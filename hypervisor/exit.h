/*
 * Exits, normalized: the vendor back-end turns its exit code and
 * qualifiers into a struct vp_exit; the core dispatches on the reason
 * through one table and never sees a vendor code.
 */
#ifndef HV_EXIT_H
#define HV_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#define EXIT_REASONS(X)                                                    \
	X(CPUID, "cpuid") X(MSR_READ, "rdmsr") X(MSR_WRITE, "wrmsr")       \
	X(IO, "io") X(HLT, "hlt") X(HYPERCALL, "hypercall")                \
	X(NPF, "npf") X(SHUTDOWN, "shutdown") X(INTR, "intr")              \
	X(NMI, "nmi") X(VINTR, "vintr") X(INIT, "init")                    \
	X(VIRT_INSN, "virt_insn") X(EXCEPTION, "exception")                \
	X(XSETBV, "xsetbv") X(MWAIT, "monitor_mwait")                     \
	X(INVALID, "invalid") X(OTHER, "other")

enum exit_reason {
#define X(id, name) EXIT_##id,
	EXIT_REASONS(X)
#undef X
	EXIT_REASON_COUNT
};

extern const char *const exit_reason_names[EXIT_REASON_COUNT];

struct vp_exit {
	enum exit_reason reason;
	uint64_t vendor_code;           /* for logs only */
	uint64_t next_rip;              /* 0 unless the hardware said */
	union {
		struct {
			uint16_t port;
			uint8_t size;   /* 1, 2, 4 */
			bool in;
			bool string;
			bool rep;
		} io;
		struct {
			uint64_t gpa;
			bool write;
			bool fetch;
			bool present;
		} npf;
		struct {
			uint8_t vector;
			bool has_error;
			uint32_t error;
		} exception;
	};
};

/* What a handler wants next; RIP advances in exactly one place. */
enum exit_action {
	EXIT_ACTION_RESUME,             /* re-enter at the same RIP */
	EXIT_ACTION_ADVANCE,            /* skip the exiting instruction */
	EXIT_ACTION_INJECT_GP,          /* #GP(0) at the exiting instruction */
	EXIT_ACTION_INJECT_UD,
	EXIT_ACTION_STOP,               /* stop the partition */
};

struct vp;
typedef enum exit_action (*exit_handler)(struct vp *vp, struct vp_exit *e);

#endif
