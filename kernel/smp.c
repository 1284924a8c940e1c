/*
 * Bringing up the other VPs, one per enabled MADT CPU. Natively that is
 * the library's INIT-SIPI-SIPI into a real-mode trampoline, one AP at a
 * time (x86/smp.h). Under isovisor INIT and SIPI never reach a CPU:
 * the TLFS way is HvCallGetVpIndexFromApicId to learn each CPU's VP index,
 * then HvCallStartVirtualProcessor with the full long-mode register
 * context. Either way every AP ends in ap_main() on its own stack with
 * its own GDT and TSS, reports in, and then spins, counting a heartbeat
 * the checks watch.
 */
#include <string.h>
#include "root.h"
#include "x86/smp.h"

extern const char ap_entry64[];

#define AP_START_TIMEOUT_US 3000000     /* nested emulation is slow */
#define TSS_BUSY (0x2ull << 40)         /* type 0x9 -> 0xb */

volatile uint64_t watchdog_deadline;
volatile bool watchdog_fired;

/* The first AP doubles as a watchdog for the boot VP's hlt check: a
 * wake-up IPI once the deadline passes, so a timer that never fires
 * ends in a failed check rather than a VP halted for good. */
static void watchdog_poll(struct vp_cpu *v)
{
	uint64_t deadline = watchdog_deadline;

	if (v->slot != 1 || !deadline || (int64_t)(rdtsc() - deadline) < 0)
		return;
	watchdog_deadline = 0;
	watchdog_fired = true;
	apic_send_fixed(vps[0].apic_id, VEC_WATCHDOG);
}

/* What every VP records about itself once it runs, for the checks. */
static void vp_report_in(struct vp_cpu *v)
{
	uint64_t index = ~0ull;

	v->seen_rsp = (uint64_t)__builtin_frame_address(0);
	v->seen_apic_id = apic_id();
	v->seen_own_gs = this_vp() == v;
	if (boot.hv && rdmsr_safe(HV_X64_MSR_VP_INDEX, &index))
		index = ~0ull;
	v->seen_msr_vp_index = index;
	klog("vp %u online (apic %u)", v->vp_index, v->seen_apic_id);
	__atomic_store_n(&v->online, true, __ATOMIC_RELEASE);
	__atomic_add_fetch(&vps_online, 1, __ATOMIC_SEQ_CST);
}

/* The AP's own tick under the hypervisor: it only ends the HLT. */
#define AP_TICK_VECTOR 0x59
#define AP_TICK_COUNT 62500             /* ~1 ms at QEMU's 1 GHz / 16 */

static void ap_tick(struct cpu_regs *r)
{
	apic_eoi();
}

void ap_main(struct vp_cpu *v) __attribute__((noreturn));
void ap_main(struct vp_cpu *v)
{
	vp_load_tables(v);
	apic_init();
	vp_report_in(v);
	bool lend = boot.hv && cmdline_has(boot.cmdline, "spread");

	if (lend)
		irq_set_handler(AP_TICK_VECTOR, ap_tick);
	/* The AP spins with interrupts off (a panic elsewhere stops us with
	 * an NMI). When the hypervisor spreads children over the CPUs (it
	 * adds "spread" to our command line), it halts between 1 ms ticks
	 * instead: while it halts, the hypervisor runs the child VPs bound
	 * to this CPU. Other interrupts (the hypervisor's wake-ups) just end
	 * the HLT early. */
	for (;;) {
		v->heartbeat++;
		watchdog_poll(v);
		if (!lend) {
			cpu_relax();
			continue;
		}
		apic_timer_oneshot(AP_TICK_VECTOR, AP_TICK_COUNT);
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
}

void smp_boot_vp_online(void)
{
	struct vp_cpu *v = &vps[0];
	uint64_t index = 0;

	vp_setup(v, 0, apic_id(), (uint64_t)boot_stack_top);
	if (boot.hv && !rdmsr_safe(HV_X64_MSR_VP_INDEX, &index))
		v->vp_index = (uint32_t)index;
	vp_load_tables(v);
	vp_report_in(v);
}

/* The AP's stack holds its struct vp_cpu pointer: see ap_entry64. */
static uint64_t ap_initial_rsp(struct vp_cpu *v)
{
	uint64_t rsp = v->stack_top - 16;

	*(uint64_t *)rsp = (uint64_t)v;
	return rsp;
}

/* ---- native: INIT-SIPI-SIPI ------------------------------------------- */

static bool start_native(struct vp_cpu *v, const struct ap_trampoline *t)
{
	return ap_start(t, v->apic_id, ap_initial_rsp(v), (uint64_t)v,
			&v->online, AP_START_TIMEOUT_US);
}

/* ---- under isovisor: HvCallStartVirtualProcessor ------------------------ */

static void start_context(struct vp_cpu *v, struct hv_initial_vp_context *c)
{
	/* Attributes in the TLFS (VMX) layout: type, S, DPL, P, AVL, L, D/B, G. */
	const struct hv_x64_segment_register code = { 0, 0xffffffff, GDT_CODE64, 0xa09b };
	const struct hv_x64_segment_register data = { 0, 0xffffffff, GDT_DATA, 0xc093 };
	struct descriptor_table_ptr idtr;

	/* The one IDT all VPs share: the boot VP's. */
	__asm__ volatile("sidt %0" : "=m"(idtr));
	memset(c, 0, sizeof(*c));
	c->rip = (uint64_t)ap_entry64;
	c->rsp = ap_initial_rsp(v);
	c->rflags = 2;                  /* interrupts off */
	c->cs = code;
	c->ds = c->es = c->fs = c->gs = c->ss = data;
	c->tr = (struct hv_x64_segment_register){ (uint64_t)&v->tss,
		sizeof(v->tss) - 1, GDT_TSS, 0x008b };
	c->ldtr = (struct hv_x64_segment_register){ 0, 0, 0, 0x0082 };
	c->gdtr.base = (uint64_t)v->gdt;
	c->gdtr.limit = sizeof(v->gdt) - 1;
	c->idtr.base = idtr.base;
	c->idtr.limit = idtr.limit;
	c->efer = EFER_LME | EFER_LMA | (rdmsr(MSR_EFER) & EFER_NXE);
	c->cr0 = CR0_PG | CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_MP;
	c->cr3 = read_cr3();
	c->cr4 = CR4_PAE;
	c->msr_cr_pat = rdmsr(MSR_PAT);
}

static bool start_hv(struct vp_cpu *v)
{
	struct hv_initial_vp_context ctx;
	uint16_t status;

	/* The VP starts with TR loaded, as after ltr: the descriptor is
	 * busy, like any loaded TSS's. */
	v->gdt[GDT_TSS / 8] |= TSS_BUSY;
	start_context(v, &ctx);
	status = hv_start_vp(v->vp_index, &ctx);
	if (status != HV_STATUS_SUCCESS) {
		klog("vp %u (apic %u): HvCallStartVirtualProcessor: %s (%#x)",
		     v->vp_index, v->apic_id, hv_status_name(status), status);
		return false;
	}
	return ap_wait_online(&v->online, AP_START_TIMEOUT_US);
}

/* VP indices of the MADT CPUs: the hypervisor's numbers, or natively our
 * own (the boot VP 0, the others in MADT order). */
static bool vp_indices(uint32_t *idx)
{
	static uint32_t ids[ACPI_MAX_CPUS];
	unsigned n = boot.acpi.cpu_count, done;
	uint16_t status;

	for (unsigned i = 0; i < n; i++)
		ids[i] = boot.acpi.cpus[i].apic_id;
	if (!boot.hv)
		return true;
	status = hv_vp_indices_from_apic_ids(ids, n, idx, &done);
	if (status != HV_STATUS_SUCCESS || done != n) {
		klog("vps: HvCallGetVpIndexFromApicId: %s (%#x), %u of %u done; "
		     "no other VP can start", hv_status_name(status), status,
		     done, n);
		return false;
	}
	return true;
}

void smp_start_vps(void)
{
	static uint32_t idx[ACPI_MAX_CPUS];
	struct ap_trampoline tramp = { 0 };

	if (!vp_indices(idx))
		return;
	if (!boot.hv)
		trampoline_install(&tramp, pmm_alloc_below(&root_pmm, 0x100000),
				   (uint64_t)ap_entry64, read_cr3());
	for (unsigned i = 0; i < boot.acpi.cpu_count; i++) {
		uint32_t id = boot.acpi.cpus[i].apic_id;
		struct vp_cpu *v;
		bool up;

		if (id == vps[0].apic_id)
			continue;
		if (vp_count >= ROOT_MAX_VPS) {
			klog("vps: more than %u cpus; the rest stay off",
			     ROOT_MAX_VPS);
			break;
		}
		v = &vps[vp_count];
		vp_setup(v, vp_count, id, stack_alloc(ROOT_STACK_SIZE));
		if (boot.hv)
			v->vp_index = idx[i];
		up = boot.hv ? start_hv(v) : start_native(v, &tramp);
		if (!up)
			klog("vp %u (apic %u) did not come online", v->vp_index, id);
	}
}
