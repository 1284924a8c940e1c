/*
 * The root scheduler: HvCallMapVpStatePage and HvCallDispatchVp, as the
 * Hyper-V root's mshv driver uses them (isovisor's reading of the calls;
 * the ABI and where it differs are in hvtlfs.h).
 *
 * A child VP whose intercept page the root mapped is "root-scheduled":
 * the hypervisor's own scheduler skips it (sched.c) and it runs only
 * inside the root's DispatchVp, on the root's CPU, until it needs the
 * root. Its intercepts go into that page instead of SINT 0, with the
 * VP's general registers, RIP and RFLAGS in its register page; the root
 * answers by editing the register page and dispatching again with
 * CLEAR_INTERCEPT_SUSPEND. One hypercall per intercept round trip, where
 * the SynIC path costs an interrupt, a SetVpRegisters and a HLT exit.
 *
 * The root owns both pages: it is the only writer of the register page
 * outside a dispatch, and the hypervisor reads each field it applies once.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "design.h"
#include "gmem.h"
#include "hypercall.h"
#include "virt.h"
#include "vpops.h"
#include "vapic.h"
#include "arch/x86/cpu.h"

static bool caller_is_root(const struct hc_ctx *c)
{
	return c->vp->partition->is_root;
}

/* The root's page `page` leaves (take) or rejoins (give back) the RAM it
 * may lend or pass as hypercall parameters; its own mapping stays. */
static bool root_page_take(uint64_t spa)
{
	struct partition *root = &root_partition;
	bool ok;

	if (!gpa_to_hva(root, spa, PAGE_SIZE))
		return false;
	spin_lock(&root->ram_lock);
	ok = !memmap_remove(&root->ram, spa, spa + PAGE_SIZE);
	spin_unlock(&root->ram_lock);
	return ok;
}

static void root_page_give_back(void *page)
{
	struct partition *root = &root_partition;
	uint64_t spa = virt_to_phys(page);

	spin_lock(&root->ram_lock);
	memmap_add(&root->ram, spa, spa + PAGE_SIZE);
	spin_unlock(&root->ram_lock);
}

uint16_t hc_map_vp_state_page(struct hc_ctx *c)
{
	const struct hv_input_map_vp_state_page *in = (const void *)c->in;
	uint16_t status = HV_STATUS_SUCCESS;
	uint64_t spa = in->root_gpa_page << 12;
	struct vp *vp;
	void *page;

	if (!caller_is_root(c) || !design_root_schedules())
		return HV_STATUS_ACCESS_DENIED;
	vp = child_vp_by_id(in->partition_id, in->vp_index, &status);
	if (!vp)
		return status;
	if (in->type != HV_VP_STATE_PAGE_REGISTERS &&
	    in->type != HV_VP_STATE_PAGE_INTERCEPT_MESSAGE)
		return HV_STATUS_INVALID_PARAMETER;
	if ((in->type == HV_VP_STATE_PAGE_REGISTERS ? (void *)vp->reg_page :
						       (void *)vp->dispatch_page))
		return HV_STATUS_INVALID_VP_STATE;      /* mapped already */
	/* Only a VP that has not run yet, and only from its own CPU: it is
	 * never running elsewhere while it switches schedulers. */
	if (vp->cpu != this_cpu()->index || vp->left_at || !vp->explicit_suspend ||
	    current_vp_on(vp->cpu) == vp) {
		hv_log("partition %s vp %u: MapVpStatePage refused: the VP has run, "
		       "or lives on CPU %u and the caller is on CPU %u",
		       vp->partition->name, vp->index, vp->cpu, this_cpu()->index);
		return HV_STATUS_INVALID_VP_STATE;
	}
	if ((in->root_gpa_page >> 40) || !root_page_take(spa))
		return HV_STATUS_INVALID_PARAMETER;
	page = phys_to_virt(spa);
	memset(page, 0, PAGE_SIZE);
	if (in->type == HV_VP_STATE_PAGE_REGISTERS) {
		vp->reg_page = page;
	} else {
		vp->dispatch_page = page;
		__atomic_store_n(&vp->root_sched, true, __ATOMIC_RELEASE);
	}
	return HV_STATUS_SUCCESS;
}

/* The root's edits of the register page, into the VP: each dirty class,
 * each field read once. */
void dispatch_regs_apply(struct vp *vp)
{
	volatile struct hv_vp_register_page *rp = vp->reg_page;
	uint32_t dirty;

	if (!rp || !rp->isvalid)
		return;
	dirty = rp->dirty;
	if (!dirty)
		return;
	if (dirty & (1u << HV_X64_REGISTER_CLASS_GENERAL))
		for (unsigned i = 0; i < GPR_COUNT; i++)
			vp->gpr[i] = rp->gp[i];
	if (dirty & (1u << HV_X64_REGISTER_CLASS_IP)) {
		struct hv_register_assoc r = { .name = HV_X64_REGISTER_RIP };

		r.value.reg64 = rp->rip;
		virt->vp_set_reg(vp, &r);
	}
	if (dirty & (1u << HV_X64_REGISTER_CLASS_FLAGS)) {
		struct hv_register_assoc r = { .name = HV_X64_REGISTER_RFLAGS };

		r.value.reg64 = rp->rflags;
		virt->vp_set_reg(vp, &r);
	}
	rp->dirty = 0;
}

/* After an intercept: the VP's registers, for the root to read and edit. */
static void regs_fill(struct vp *vp)
{
	struct hv_vp_register_page *rp = vp->reg_page;
	struct vp_regs_view r;

	if (!rp)
		return;
	virt->vp_read_regs(vp, &r);
	rp->version = HV_VP_REGISTER_PAGE_VERSION_1;
	rp->dirty = 0;
	memcpy(rp->gp, vp->gpr, sizeof(rp->gp));
	rp->rip = r.rip;
	rp->rflags = r.rflags;
	__atomic_store_n(&rp->isvalid, 1, __ATOMIC_RELEASE);
}

/* design_intercept for a root-scheduled VP: the message goes to its page
 * (the VP is in intercept suspend, so the dispatch that ran it returns). */
void dispatch_intercept(struct vp *vp, const struct hv_message *m)
{
	struct hv_isovisor_intercept_page *ip = vp->dispatch_page;

	memcpy(&ip->message, m, sizeof(m->header) + m->header.payload_size);
}

/* A root-scheduled VP may have become runnable: if the root was told it
 * is blocked, tell it otherwise (the flag, then its SINT 0 vector). */
void dispatch_signal(struct vp *vp)
{
	struct vp *root_vp = root_partition.vps[vp->cpu];
	uint64_t sint;

	if (!__atomic_exchange_n(&vp->dispatch_blocked, false, __ATOMIC_ACQ_REL))
		return;
	__atomic_store_n(&vp->dispatch_page->signal, 1, __ATOMIC_RELEASE);
	sint = root_vp->synic.sint[HV_SYNIC_INTERCEPTION_SINT_INDEX];
	if (!(sint & HV_SYNIC_SINT_MASKED) && (sint & 0xff) >= 16)
		irq_post(root_vp, (uint8_t)sint);
}

static bool dispatch_runnable(const struct vp *vp)
{
	const struct partition *p = vp->partition;

	return p->initialized && !p->stopped && !vp->explicit_suspend &&
	       !vp->intercept_suspend &&
	       (!__atomic_load_n(&vp->halted, __ATOMIC_ACQUIRE) || vp_has_pending_irq(vp));
}

static uint32_t blocked_event(const struct vp *vp)
{
	if (vp->intercept_suspend)
		return HV_VP_DISPATCH_EVENT_INTERCEPT;
	if (vp->explicit_suspend)
		return HV_VP_DISPATCH_EVENT_SUSPEND;
	return HV_VP_DISPATCH_EVENT_INVALID;
}

uint16_t hc_dispatch_vp(struct hc_ctx *c)
{
	/* Copied out first: the child's own hypercalls, made on this CPU
	 * while it runs, reuse this context. */
	const struct hv_input_dispatch_vp in = *(const struct hv_input_dispatch_vp *)c->in;
	struct vp *root_vp = c->vp, *vp;
	unsigned cpu = this_cpu()->index;
	struct hv_output_dispatch_vp out = { HV_VP_DISPATCH_STATE_READY,
					     HV_VP_DISPATCH_EVENT_INVALID };
	uint16_t status = HV_STATUS_SUCCESS;
	struct vp_exit e;
	uint64_t wake, w;

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	vp = child_vp_by_id(in.partition_id, in.vp_index, &status);
	if (!vp)
		return status;
	if (in.flags & ~HV_DISPATCH_VP_FLAG_CLEAR_INTERCEPT_SUSPEND || in.time_slice ||
	    in.spec_ctrl)
		return HV_STATUS_INVALID_PARAMETER;
	if (!vp->root_sched || vp->cpu != cpu)
		return HV_STATUS_INVALID_VP_STATE;
	vp->dispatches++;
	dispatch_regs_apply(vp);
	wake = vapic_wake_tsc(vp);
	if (in.flags & HV_DISPATCH_VP_FLAG_CLEAR_INTERCEPT_SUSPEND)
		vp->intercept_suspend = false;
	for (;;) {
		if (vp_has_pending_irq(root_vp) || cpus_stopping)
			break;                  /* the root has work: READY */
		if (!dispatch_runnable(vp)) {
			/* Blocked, unless something made it runnable between
			 * the look and the flag (dispatch_signal sees the flag
			 * set, or we see its effect). */
			__atomic_store_n(&vp->dispatch_blocked, true, __ATOMIC_SEQ_CST);
			if (!dispatch_runnable(vp)) {
				out.dispatch_state = HV_VP_DISPATCH_STATE_BLOCKED;
				out.dispatch_event = blocked_event(vp);
				vp->dispatches_blocked++;
				break;
			}
			__atomic_store_n(&vp->dispatch_blocked, false, __ATOMIC_SEQ_CST);
		}
		vp_run_once(vp, &e);
		if (e.reason == EXIT_INTR || e.reason == EXIT_NMI) {
			/* A physical interrupt: the root's; it takes it as it
			 * goes back in. */
			vp->exits[e.reason]++;
			set_current_vp(cpu, root_vp);
			break;
		}
		exit_handle(vp, &e);
		set_current_vp(cpu, root_vp);
		if (vp->intercept_suspend) {
			regs_fill(vp);
			out.dispatch_event = HV_VP_DISPATCH_EVENT_INTERCEPT;
			vp->dispatch_intercepts++;
			break;
		}
		/* Its timer now expires before the root would wake for it:
		 * back to the root, which arms its timer for the new time. */
		w = vapic_wake_tsc(vp);
		if (w && (!wake || w < wake)) {
			vp->dispatch_rearms++;
			break;
		}
	}
	vp->dispatch_page->wake_tsc = vapic_wake_tsc(vp);
	memcpy(c->out, &out, sizeof(out));
	c->reps_done = 0;
	return HV_STATUS_SUCCESS;
}

/* The child is being deleted: its pages go back to the root. */
void dispatch_vp_gone(struct vp *vp)
{
	if (vp->dispatch_page)
		root_page_give_back(vp->dispatch_page);
	if (vp->reg_page)
		root_page_give_back(vp->reg_page);
	vp->dispatch_page = NULL;
	vp->reg_page = NULL;
	vp->root_sched = false;
}
