/*
 * Scheduling child VPs, and the one place a VP is run once.
 *
 * Each child VP is bound to one physical CPU when it is created (the
 * least loaded of those the design lets run children: every CPU in the
 * microkernelized design, the boot CPU in the monolithic one) and sits in
 * that CPU's run ring. A CPU runs
 * its ring's runnable VPs in turn whenever its owner of the moment lets
 * it: in the microkernelized design while that CPU's root VP idles (HLT),
 * in the monolithic design from the control loop. Every physical
 * interrupt sends a child back (the INTR intercept), so a VP that spins
 * with interrupts off runs at most until the next tick, and the next pick
 * starts after it: nobody starves, the root included. A halted VP or one
 * waiting for the root is not runnable and costs nothing.
 */
#include "hv.h"
#include "percpu.h"
#include "design.h"
#include "virt.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

struct hv_percpu hv_cpu[HV_MAX_CPUS];

struct vp *current_vp_on(unsigned cpu)
{
	return __atomic_load_n(&hv_cpu[cpu].current, __ATOMIC_ACQUIRE);
}

void set_current_vp(unsigned cpu, struct vp *vp)
{
	__atomic_store_n(&hv_cpu[cpu].current, vp, __ATOMIC_RELEASE);
}

void vp_run_once(struct vp *vp, struct vp_exit *e)
{
	struct hv_percpu *c = &hv_cpu[this_cpu()->index];

	if (vp->left_at)
		vp->exit_cycles[vp->left_for] += rdtsc() - vp->left_at;
	c->current = vp;
	/* Seen before the back-end reads vp->tlb_flush: a shootdown either
	 * sees us in the guest and kicks us, or we see its flag. */
	__atomic_store_n(&c->in_guest, 1, __ATOMIC_SEQ_CST);
	vp_deliver_pending(vp);
	virt->vp_run(vp, e);
	vp->left_at = rdtsc();
	vp->left_for = e->reason < EXIT_REASON_COUNT ? e->reason : 0;
	__atomic_store_n(&c->in_guest, 0, __ATOMIC_SEQ_CST);
	c->exits++;
}

static bool child_runnable(const struct vp *vp)
{
	const struct partition *p = vp->partition;

	/* A root-scheduled VP runs only when the root dispatches it. */
	return p->initialized && !p->stopped && !vp->explicit_suspend &&
	       !vp->intercept_suspend && !vp->root_sched &&
	       (!vp->halted || vp_has_pending_irq(vp));
}

/* Where a new child VP lives: of the CPUs the design likes best for
 * children, the one with the fewest child VPs (the lowest index on a
 * tie), so partitions and their VPs spread over the machine. */
unsigned sched_pick_cpu(void)
{
	unsigned best = this_cpu()->index, best_rank = 0;

	for (unsigned i = 0; i < cpu_count; i++) {
		unsigned rank = cpus[i] && cpus[i]->online ? design_cpu_runs_children(i) : 0;

		if (rank > best_rank ||
		    (rank && rank == best_rank && hv_cpu[i].run.count < hv_cpu[best].run.count)) {
			best = i;
			best_rank = rank;
		}
	}
	return best;
}

void sched_add(struct vp *vp)
{
	struct hv_percpu *c = &hv_cpu[vp->cpu];

	spin_lock(&c->run_lock);
	runring_add(&c->run, vp);
	spin_unlock(&c->run_lock);
}

void sched_remove(struct vp *vp)
{
	struct hv_percpu *c = &hv_cpu[vp->cpu];

	spin_lock(&c->run_lock);
	runring_remove(&c->run, vp);
	spin_unlock(&c->run_lock);
}

struct vp *pick_child(unsigned cpu)
{
	struct hv_percpu *c = &hv_cpu[cpu];
	struct vp *vp;

	spin_lock(&c->run_lock);
	vp = runring_pick(&c->run, child_runnable);
	spin_unlock(&c->run_lock);
	return vp;
}

bool child_can_run(const struct vp *vp)
{
	return child_runnable(vp);
}

bool any_child_runnable_here(void)
{
	struct hv_percpu *c = &hv_cpu[this_cpu()->index];
	bool any;

	spin_lock(&c->run_lock);
	any = runring_any(&c->run, child_runnable);
	spin_unlock(&c->run_lock);
	return any;
}

void children_run_while_root_idles(struct vp *root_vp)
{
	unsigned cpu = this_cpu()->index;
	struct vp_exit e;
	struct vp *vp;

	while (!vp_has_pending_irq(root_vp) && !cpus_stopping &&
	       (vp = pick_child(cpu))) {
		vp_run_once(vp, &e);
		if (e.reason == EXIT_INTR || e.reason == EXIT_NMI) {
			vp->exits[e.reason]++;
			set_current_vp(cpu, root_vp);
			/* The interrupt is the root's: it takes it on entry. */
			return;
		}
		/* Still this VP's CPU until its exit is handled: deletion
		 * waits for that (partition_destroy). */
		exit_handle(vp, &e);
		set_current_vp(cpu, root_vp);
	}
}
