/*
 * Exit dispatch: one table from normalized reason to handler; anything
 * without a handler goes to exit_unhandled(), which stops the partition.
 * RIP advances here and nowhere else: from the hardware's next-RIP when
 * it gave one, else from our own decode of the instruction.
 */
#include "hv.h"
#include "cpustate.h"
#include "exit.h"
#include "gmem.h"
#include "virt.h"
#include "vpops.h"
#include "percpu.h"
#include "x86_decode.h"
#include "arch/x86/cpu.h"

const char *const exit_reason_names[EXIT_REASON_COUNT] = {
#define X(id, name) [EXIT_##id] = name,
	EXIT_REASONS(X)
#undef X
};

enum x86_cpu_mode vp_code_mode(struct vp *vp)
{
	struct vp_regs_view r;

	virt->vp_read_regs(vp, &r);
	if ((r.efer & EFER_LMA) && r.cs_long)
		return X86_MODE_64;
	return r.cs_db ? X86_MODE_32 : X86_MODE_16;
}

/* Fetch and decode the instruction at the VP's RIP. */
int vp_decode_current(struct vp *vp, struct x86_insn *insn)
{
	struct vp_regs_view r;
	uint8_t bytes[15];
	unsigned n = 0;
	uint64_t lin;
	enum x86_cpu_mode mode = vp_code_mode(vp);

	virt->vp_read_regs(vp, &r);
	lin = mode == X86_MODE_64 ? r.rip : r.cs_base + (uint32_t)r.rip;
	/* Up to the page end in one read (one page walk, not one per byte:
	 * CPUs without next-RIP save, QEMU's TCG among them, come here on
	 * every CPUID, MSR and hypercall exit), then the rest from the next
	 * page if it is readable: the instruction may be complete before
	 * an unmapped page. */
	n = (unsigned)(4096 - (lin & 4095));
	if (n > sizeof(bytes))
		n = sizeof(bytes);
	if (gva_read(vp, lin, bytes, n))
		return VP_CODE_UNREADABLE;
	if (n < sizeof(bytes) && gva_read(vp, lin + n, &bytes[n], sizeof(bytes) - n) == 0)
		n = sizeof(bytes);
	if (!n)
		return VP_CODE_UNREADABLE;
	return x86_decode(bytes, n, mode, insn);
}

const char *vp_decode_strerror(int err)
{
	return err == VP_CODE_UNREADABLE ? "code not readable" :
					   x86_decode_strerror(err);
}

uint8_t exit_insn_length(struct vp *vp, const struct vp_exit *e)
{
	struct vp_regs_view r;
	struct x86_insn insn;

	virt->vp_read_regs(vp, &r);
	if (e->next_rip)
		return (uint8_t)(e->next_rip - r.rip);
	return vp_decode_current(vp, &insn) ? 0 : insn.length;
}

static enum exit_action exit_unhandled(struct vp *vp, struct vp_exit *e)
{
	partition_stop(vp->partition, vp,
		       "unhandled exit %s (vendor code %#lx)",
		       exit_reason_names[e->reason], e->vendor_code);
	return EXIT_ACTION_STOP;
}

static enum exit_action exit_virt_insn(struct vp *vp, struct vp_exit *e)
{
	/* No nested virtualization: the instructions do not exist here. */
	return EXIT_ACTION_INJECT_UD;
}

/* MONITOR, MWAIT (and AMD's MONITORX/MWAITX, under the same intercepts):
 * CPUID hides them from children, and run natively they could park the
 * physical CPU the VP runs on, so they raise #UD as on a CPU without
 * them. */
static enum exit_action exit_mwait(struct vp *vp, struct vp_exit *e)
{
	return EXIT_ACTION_INJECT_UD;
}

static enum exit_action exit_shutdown(struct vp *vp, struct vp_exit *e)
{
	partition_stop(vp->partition, vp, "triple fault");
	return EXIT_ACTION_STOP;
}

static enum exit_action exit_invalid(struct vp *vp, struct vp_exit *e)
{
	partition_stop(vp->partition, vp,
		       "the CPU refused the VP's state (VMRUN invalid)");
	return EXIT_ACTION_STOP;
}

static enum exit_action exit_nmi(struct vp *vp, struct vp_exit *e)
{
	struct hv_percpu *c = &hv_cpu[this_cpu()->index];

	/* The NMI that ended the run stays pending and is taken by the
	 * host's handler as soon as GIF is set again (SVM; QEMU does the
	 * same), before we get here: a stop signal, a shootdown's kick
	 * (tlb.c), or one that belongs to the root, which owns the hardware
	 * and gets it now. A child never gets a physical NMI. */
	if (!panic_in_progress && vp->partition->is_root && c->nmi_for_root) {
		c->nmi_for_root = false;
		virt->vp_inject(vp, INJECT_NMI, 2, false, 0);
	}
	return EXIT_ACTION_RESUME;
}

static enum exit_action exit_resume(struct vp *vp, struct vp_exit *e)
{
	return EXIT_ACTION_RESUME;
}

static enum exit_action exit_init(struct vp *vp, struct vp_exit *e)
{
	hv_log("%s vp %u: INIT signal ignored", vp->partition->name, vp->index);
	return EXIT_ACTION_RESUME;
}

static const exit_handler exit_handlers[EXIT_REASON_COUNT] = {
	[EXIT_CPUID] = exit_cpuid,
	[EXIT_MSR_READ] = exit_msr_read,
	[EXIT_MSR_WRITE] = exit_msr_write,
	[EXIT_IO] = exit_io,
	[EXIT_HLT] = exit_hlt,
	[EXIT_HYPERCALL] = exit_hypercall,
	[EXIT_NPF] = exit_npf,
	[EXIT_SHUTDOWN] = exit_shutdown,
	[EXIT_INTR] = exit_resume,
	[EXIT_NMI] = exit_nmi,
	[EXIT_VINTR] = exit_vintr,
	[EXIT_INIT] = exit_init,
	[EXIT_VIRT_INSN] = exit_virt_insn,
	[EXIT_INVALID] = exit_invalid,
	[EXIT_XSETBV] = exit_xsetbv,
	[EXIT_MWAIT] = exit_mwait,
};

static bool advance_rip(struct vp *vp, const struct vp_exit *e)
{
	struct vp_regs_view r;
	struct x86_insn insn;
	int err;

	if (e->next_rip) {
		virt->vp_set_rip(vp, e->next_rip);
		return true;
	}
	err = vp_decode_current(vp, &insn);
	if (err) {
		partition_stop(vp->partition, vp,
			       "cannot decode the instruction after a %s exit (%s)",
			       exit_reason_names[e->reason],
			       vp_decode_strerror(err));
		return false;
	}
	virt->vp_read_regs(vp, &r);
	switch (vp_code_mode(vp)) {
	case X86_MODE_64:
		virt->vp_set_rip(vp, r.rip + insn.length);
		break;
	case X86_MODE_32:
		virt->vp_set_rip(vp, (uint32_t)(r.rip + insn.length));
		break;
	case X86_MODE_16:
		virt->vp_set_rip(vp, (uint16_t)(r.rip + insn.length));
		break;
	}
	return true;
}

void exit_handle(struct vp *vp, struct vp_exit *e)
{
	exit_handler h = exit_handlers[e->reason];

	vp->exits[e->reason]++;
	switch ((h ? h : exit_unhandled)(vp, e)) {
	case EXIT_ACTION_ADVANCE:
		advance_rip(vp, e);
		break;
	case EXIT_ACTION_INJECT_GP:
		virt->vp_inject(vp, INJECT_EXCEPTION, 13, true, 0);
		break;
	case EXIT_ACTION_INJECT_UD:
		virt->vp_inject(vp, INJECT_EXCEPTION, 6, false, 0);
		break;
	case EXIT_ACTION_RESUME:
	case EXIT_ACTION_STOP:
		break;
	}
}
