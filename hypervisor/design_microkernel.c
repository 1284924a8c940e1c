/*
 * The microkernelized design (Hyper-V-like): the root partition (root.c)
 * owns the devices and runs the control function and the device models;
 * children's intercepts go to it as SynIC messages, device interrupts are
 * its, and memory a deleted child leaves goes back to it.
 */
#include "hv.h"
#include "design.h"
#include "synic.h"
#include "virt.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

const char design_name[] = "microkernel";

void design_start(void)
{
	if (!root_create()) {
		hv_log("no root partition module; nothing to run");
		if (boot.test_mode)
			test_exit(selftest_report());
		power_off();
	}
	__atomic_store_n(&hv_ready, true, __ATOMIC_RELEASE);
	for (unsigned i = 1; i < cpu_count; i++)
		if (cpus[i] && cpus[i]->online)
			apic_send_fixed(cpus[i]->apic_id, VEC_IPI_WAKE);
	vp_loop(root_partition.vps[0]);
}

void design_ap_start(void)
{
	virt->cpu_enable();
	cpu_idle_until_start();
}

void design_intercept(struct vp *vp, const struct hv_message *m)
{
	/* The root's control function runs on its VP 0: every intercept
	 * goes there, whatever CPU the child VP runs on. */
	struct vp *root_vp = root_partition.vps[0];

	if (vp->root_sched) {
		/* Root-scheduled: into its page; the dispatch returns. */
		dispatch_intercept(vp, m);
		return;
	}
	/* The message waits in the VP until the root's slot takes it. */
	vp->intercept_target = root_vp;
	synic_post_held(root_vp, HV_SYNIC_INTERCEPTION_SINT_INDEX,
			&vp->intercept, m);
}

void design_vp_gone(struct vp *vp)
{
	if (vp->intercept_target)
		synic_cancel(vp->intercept_target, HV_SYNIC_INTERCEPTION_SINT_INDEX,
			     &vp->intercept);
}

bool design_root_schedules(void)
{
	return true;
}

unsigned design_cpu_runs_children(unsigned cpu)
{
	/* A CPU runs children while its root VP idles: once that VP runs.
	 * By default children stay on the boot CPU, beside root VP 0, which
	 * serves every intercept: the round trip needs no IPI. With `spread`
	 * on the hypervisor's command line they go to the other CPUs (the
	 * boot CPU's root VP rarely idles under load, so it takes children
	 * only on a machine with no other CPU). Measured under QEMU TCG, a
	 * cross-CPU intercept round trip costs far more than a local one
	 * (README), so spreading is the choice, not the default. */
	if (cpu >= root_partition.vp_count ||
	    !__atomic_load_n(&root_partition.vps[cpu]->started, __ATOMIC_ACQUIRE))
		return 0;
	if (!boot.spread_children)
		return cpu == 0 ? 2 : 0;
	return cpu == 0 ? 1 : 2;
}

void design_device_irq(uint8_t vector)
{
	/* The root owns the devices; it acknowledges the interrupt itself. */
	irq_reflect(vector);
}

void design_page_reclaimed(uint64_t spa)
{
	struct partition *root = &root_partition;

	spin_lock(&root->ram_lock);
	memmap_add(&root->ram, spa, spa + PAGE_SIZE);
	spin_unlock(&root->ram_lock);
	virt->gpa_map(root, spa, spa, PAGE_SIZE, GPA_RWX);
}

/* The root owns every port in this design: the hypervisor has none. */
uint16_t design_port_message(uint32_t port_id, const struct hv_message *m)
{
	return HV_STATUS_INVALID_CONNECTION_ID;
}

uint16_t design_port_event(uint32_t port_id, uint32_t flag)
{
	return HV_STATUS_INVALID_CONNECTION_ID;
}
