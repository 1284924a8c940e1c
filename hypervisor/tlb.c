/*
 * TLB shootdown. When a partition loses access to pages (the root lends
 * them to a child, a child's pages go back), every CPU that may hold the
 * old translations must drop them before the pages are reused: no window
 * until "the next entry".
 *
 * Protocol, per CPU running a VP of the partition:
 *   initiator: set vp->tlb_flush; full barrier; read the CPU's in_guest;
 *              if set, send a kick NMI and wait until the CPU has left
 *              the guest or taken the flag.
 *   target:    in_guest = 1; full barrier; (GIF clear) take vp->tlb_flush
 *              and flush on VMRUN if it was set; in_guest = 0 after the
 *              exit.
 * Either the target sees the flag before it enters, or the initiator sees
 * it in the guest and kicks it. The kick is an NMI because the root runs
 * without the INTR intercept (its interrupts go straight to it), while
 * every VP intercepts NMIs: on SVM the NMI ends the run and is then taken
 * by the host's NMI handler when GIF is set again, where it is counted
 * off (tlb_nmi()).
 */
#include "hv.h"
#include "percpu.h"
#include "virt.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

#define SHOOTDOWN_SPINS (1ull << 32)

static bool waiting_on(unsigned cpu, struct partition *p)
{
	struct vp *vp = current_vp_on(cpu);

	return vp && vp->partition == p &&
	       __atomic_load_n(&hv_cpu[cpu].in_guest, __ATOMIC_SEQ_CST) &&
	       __atomic_load_n(&vp->tlb_flush, __ATOMIC_SEQ_CST);
}

void tlb_shootdown(struct partition *p)
{
	unsigned self = this_cpu()->index;
	bool kicked[HV_MAX_CPUS] = { false };

	virt->partition_flush_tlb(p);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	hv_cpu[self].shootdowns++;
	for (unsigned c = 0; c < cpu_count; c++) {
		if (c == self || !cpus[c] || !cpus[c]->online || !waiting_on(c, p))
			continue;
		__atomic_add_fetch(&hv_cpu[c].nmi_kicks, 1, __ATOMIC_SEQ_CST);
		apic_send_nmi(cpus[c]->apic_id);
		kicked[c] = true;
		hv_cpu[self].kicks_sent++;
	}
	for (unsigned c = 0; c < cpu_count; c++) {
		uint64_t spins = 0;

		while (kicked[c] && waiting_on(c, p)) {
			if (++spins == SHOOTDOWN_SPINS)
				panic("TLB shootdown: cpu %u never left partition %s", c,
				      p->name);
			cpu_relax();
		}
	}
}

bool tlb_nmi(void)
{
	struct hv_percpu *c = &hv_cpu[this_cpu()->index];
	uint32_t n = __atomic_load_n(&c->nmi_kicks, __ATOMIC_ACQUIRE);

	while (n) {
		if (__atomic_compare_exchange_n(&c->nmi_kicks, &n, n - 1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return true;
	}
	return false;
}

void tlb_report(void)
{
	uint64_t shootdowns = 0, kicks = 0;

	for (unsigned c = 0; c < cpu_count; c++) {
		shootdowns += hv_cpu[c].shootdowns;
		kicks += hv_cpu[c].kicks_sent;
	}
	hv_log("tlb: %lu shootdowns, %lu CPUs kicked out of a guest for them",
	       shootdowns, kicks);
}
