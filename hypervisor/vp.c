/*
 * Running VPs. In this design each root VP is bound to one physical CPU
 * (VP i on CPU i), so a CPU's life after boot is: wait until its VP is
 * started, then enter it, handle its exits, and go back in. Physical
 * interrupts that arrive while the hypervisor holds the CPU (idling for a
 * halted root VP) were meant for the root, which owns the devices: they
 * are recorded here and injected into the VP, which acknowledges them at
 * the real local APIC as it would natively.
 */
#include <stdarg.h>
#include <string.h>
#include "hv.h"
#include "virt.h"
#include "vpops.h"
#include "vapic.h"
#include "arch/x86/cpu.h"

/* ---- general registers by x86 number, with operand-size rules ------------ */

uint64_t vp_gpr_read(struct vp *vp, unsigned reg, unsigned size, bool high)
{
	uint64_t v = vp->gpr[reg & 15];

	if (high)
		return (v >> 8) & 0xff;
	return size == 8 ? v : v & ((1ull << (size * 8)) - 1);
}

void vp_gpr_write(struct vp *vp, unsigned reg, unsigned size, bool high,
		  uint64_t value)
{
	uint64_t *r = &vp->gpr[reg & 15];

	if (high)
		*r = (*r & ~0xff00ull) | ((value & 0xff) << 8);
	else if (size == 1)
		*r = (*r & ~0xffull) | (value & 0xff);
	else if (size == 2)
		*r = (*r & ~0xffffull) | (value & 0xffff);
	else if (size == 4)
		*r = (uint32_t)value;           /* zero-extends, as the CPU does */
	else
		*r = value;
}

void vp_kick(struct vp *vp)
{
	if (__atomic_load_n(&vp->root_sched, __ATOMIC_ACQUIRE))
		dispatch_signal(vp);
	else if (vp->cpu != this_cpu()->index)
		apic_send_fixed(cpus[vp->cpu]->apic_id, VEC_IPI_WAKE);
}

void irq_reflect(uint8_t vector)
{
	struct vp *vp = current_vp_on(this_cpu()->index);

	if (!vp || !vp->partition->is_root) {
		/* Nobody to give it to yet: acknowledge and log. */
		apic_eoi();
		hv_log("cpu %u: interrupt vector %u with no root VP to take it",
		       this_cpu()->index, vector);
		return;
	}
	vp->pending_irq[vector / 64] |= 1ull << (vector % 64);
}

void irq_post(struct vp *vp, uint8_t vector)
{
	if (!vp->partition->is_root) {
		vapic_post(vp, vector, false, false);
		return;
	}
	__atomic_or_fetch(&vp->pending_irq[vector / 64], 1ull << (vector % 64),
			  __ATOMIC_SEQ_CST);
	vp->halted = false;
	vp_kick(vp);
}

static int highest_pending(const struct vp *vp)
{
	for (int w = 3; w >= 0; w--) {
		uint64_t bits = __atomic_load_n(&vp->pending_irq[w], __ATOMIC_ACQUIRE);

		if (bits)
			return w * 64 + 63 - __builtin_clzll(bits);
	}
	return -1;
}

bool vp_has_pending_irq(const struct vp *vp)
{
	if (!vp->partition->is_root)
		return vapic_has_pending((struct vp *)vp);
	return highest_pending(vp) >= 0;
}

/* Deliver the highest recorded interrupt if the VP can take one now, else
 * ask to exit as soon as it can. */
void vp_deliver_pending(struct vp *vp)
{
	int v;

	if (!vp->partition->is_root) {
		vapic_deliver(vp);
		return;
	}
	v = highest_pending(vp);
	if (v < 0)
		return;
	if (virt->vp_irq_window_open(vp)) {
		__atomic_and_fetch(&vp->pending_irq[v / 64], ~(1ull << (v % 64)),
				   __ATOMIC_SEQ_CST);
		virt->vp_inject(vp, INJECT_EXTERNAL_INTERRUPT, (uint8_t)v, false, 0);
		/* It runs again: whatever HLT it was in is over. */
		vp->halted = false;
		if (highest_pending(vp) >= 0)
			virt->vp_request_irq_window(vp);
		else
			virt->vp_clear_irq_window(vp);
	} else {
		virt->vp_request_irq_window(vp);
	}
}

enum exit_action exit_vintr(struct vp *vp, struct vp_exit *e)
{
	virt->vp_clear_irq_window(vp);
	return EXIT_ACTION_RESUME;
}

/* The CPU idles until an interrupt is due: interrupts are enabled only
 * inside this wait, and whatever arrives is recorded for the VP. */
enum exit_action exit_hlt(struct vp *vp, struct vp_exit *e)
{
	if (!vp->partition->is_root) {
		/* A child waits for its next virtual interrupt, unless one
		 * is already waiting to be delivered: "sti; hlt" with an
		 * interrupt posted while IF was clear exits here with the
		 * interrupt still pending, and must not sleep on it. */
		vp->halted = !vp_has_pending_irq(vp);
		return EXIT_ACTION_ADVANCE;
	}
	/* The root's CPU runs children while the root idles; a physical
	 * interrupt (or a message for the root) ends the wait. */
	for (;;) {
		children_run_while_root_idles(vp);
		if (highest_pending(vp) >= 0 || cpus_stopping)
			break;
		__asm__ volatile("sti; nop; cli" ::: "memory");
		if (highest_pending(vp) >= 0)
			break;
		if (!any_child_runnable_here())
			__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	return EXIT_ACTION_ADVANCE;
}

void vp_loop(struct vp *vp)
{
	struct vp_exit e;

	for (;;) {
		vp_run_once(vp, &e);
		if (cpus_stopping)
			halt_forever();
		exit_handle(vp, &e);
	}
}

void cpu_idle_until_start(void)
{
	struct vp *vp = root_partition.vps[this_cpu()->index];

	while (!__atomic_load_n(&vp->started, __ATOMIC_ACQUIRE))
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	virt->vp_set_context(vp, &vp->start_ctx);
	for (unsigned i = 0; i < GPR_COUNT; i++)
		if (i != GPR_RSP)
			vp->gpr[i] = 0;
	vp_loop(vp);
}

static void vp_dump(struct vp *vp)
{
	struct vp_regs_view r;

	virt->vp_read_regs(vp, &r);
	hv_log("  %s vp %u: rip=%016lx rflags=%08lx cpl=%u", vp->partition->name,
	       vp->index, r.rip, r.rflags, r.cpl);
	hv_log("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx",
	       vp->gpr[GPR_RAX], vp->gpr[GPR_RBX], vp->gpr[GPR_RCX], vp->gpr[GPR_RDX]);
	hv_log("  rsi=%016lx rdi=%016lx rbp=%016lx rsp=%016lx",
	       vp->gpr[GPR_RSI], vp->gpr[GPR_RDI], vp->gpr[GPR_RBP], vp->gpr[GPR_RSP]);
	hv_log("  cr0=%016lx cr3=%016lx cr4=%016lx efer=%016lx",
	       r.cr0, r.cr3, r.cr4, r.efer);
}

void partition_stop(struct partition *p, struct vp *vp, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (p->is_root) {
		/* Without its root, nothing on this machine can go on. */
		hv_log("root partition stopped: %s", why);
		vp_dump(vp);
		panic("root partition %s", why);
	}
	/* Only this partition stops; the root hears of it. */
	p->stopped = true;
	hv_log("partition %s stopped: %s", p->name, why);
	vp_dump(vp);
	{
		struct hv_x64_intercept_message_header h;

		memset(&h, 0, sizeof(h));
		intercept_header(vp, &h, 0, 0);
		intercept_to_root(vp, HVMSG_UNRECOVERABLE_EXCEPTION, &h, sizeof(h));
	}
}

void print_exit_counters(struct partition *p)
{
	for (unsigned i = 0; i < p->vp_count; i++) {
		struct vp *vp = p->vps[i];
		char line[400];
		int n = ksnprintf(line, sizeof(line), "vp %s/%u exits:", p->name, i);

		for (unsigned r = 0; r < EXIT_REASON_COUNT && n < (int)sizeof(line); r++)
			if (vp->exits[r])
				n += ksnprintf(line + n, sizeof(line) - n, " %s=%lu",
					       exit_reason_names[r], vp->exits[r]);
		hv_log("%s", line);
		/* What each kind of exit cost in the hypervisor, on average
		 * (TSC cycles from the exit to the VP's next entry; the time
		 * other VPs ran in between is included when it switched). */
		int head = n = ksnprintf(line, sizeof(line), "vp %s/%u cycles per exit:",
					 p->name, i);

		for (unsigned r = 0; r < EXIT_REASON_COUNT && n < (int)sizeof(line); r++)
			if (vp->exits[r] && vp->exit_cycles[r])
				n += ksnprintf(line + n, sizeof(line) - n, " %s=%lu",
					       exit_reason_names[r],
					       vp->exit_cycles[r] / vp->exits[r]);
		if (n > head)
			hv_log("%s", line);
		if (!p->is_root)
			hv_log("vp %s/%u apic: %s, SVR %#x, LINT0 %#x, timer %#x (%lu "
			       "expiries), %lu interrupts through it, %lu ExtINT, "
			       "%lu IPIs sent", p->name, i,
			       vlapic_x2apic(&vp->apic) ? "x2APIC" :
			       vlapic_hw_enabled(&vp->apic) ? "xAPIC" : "disabled",
			       vp->apic.svr, vp->apic.lvt[3], vp->apic.lvt[0],
			       vp->apic.timer_fired, vp->apic_injected,
			       vp->apic_extints, vp->apic_ipis);
		/* Root-scheduled: how often the root ran it, and for what. */
		if (vp->dispatches)
			hv_log("vp %s/%u dispatches: %lu, blocked %lu, intercepts %lu",
			       p->name, i, vp->dispatches, vp->dispatches_blocked,
			       vp->dispatch_intercepts);
	}
}

void run_finish(bool root_pass, const char *why)
{
	stop_other_cpus();
	hv_log("run finished: %s", why);
	tlb_report();
	hypercall_report();
	print_exit_counters(&root_partition);
	for (unsigned i = 0; i < MAX_CHILD_PARTITIONS; i++)
		if (child_partitions[i])
			print_exit_counters(child_partitions[i]);
	if (boot.test_mode) {
		hv_log("test result: %s (as reported by the root partition)",
		       root_pass ? "PASS" : "FAIL");
		test_exit(root_pass);
	}
	power_off();
}
