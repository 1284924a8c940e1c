/*
 * Children's local APICs: each child VP has one (vlapic.c's model), in
 * the hypervisor as Hyper-V keeps it, in both designs. This file is the
 * glue: the x2APIC MSRs, IA32_APIC_BASE and IA32_TSC_DEADLINE, the xAPIC
 * page (a nested page fault on its GPA, decoded here), IPIs between the
 * partition's own VPs, and what the VP takes next.
 *
 * Interrupts reach a child VP two ways:
 *   - through its APIC (IRR, ISR, TPR): fixed interrupts the root asserts
 *     (HvCallAssertVirtualInterrupt), SINTs (with automatic EOI when the
 *     SINT says so, as the TLFS has it), its timer and IPIs;
 *   - as ExtINT, the 8259's: vp->pending_irq, taken when LINT0 lets them
 *     through (vlapic_extint_allowed), with no APIC EOI.
 *
 * Time: the model runs on the guest's TSC. A halted VP is runnable again
 * when its timer is due; who wakes up for that depends on the scheduler:
 * the root scheduler reads the host TSC of the next expiry from the VP's
 * intercept page (wake_tsc) and arms its timer for it; the hypervisor's
 * own scheduling (SynIC path, monolithic design) runs on a 1 ms tick
 * while children exist, and checks the timers at each pick.
 *
 * `apic_lock` covers the model: the VP itself (its exits), the root
 * asserting from another CPU, other VPs' IPIs and SINT posts all take it.
 * It nests inside nothing but the run ring lock (child_runnable).
 */
#include <string.h>
#include "hv.h"
#include "virt.h"
#include "vpops.h"
#include "vapic.h"
#include "gmem.h"
#include "synic.h"
#include "arch/x86/cpu.h"

static uint64_t guest_tsc(struct vp *vp)
{
	uint64_t t;

	if (virt->vp_get_msr(vp, MSR_TSC, &t))
		t = rdtsc();
	return t;
}

void vapic_vp_init(struct vp *vp)
{
	uint64_t khz = tsc_khz();

	vlapic_init(&vp->apic, vp->index, vp->index == 0,
		    (uint32_t)(khz ? khz : 1000000));
}

/* ---- synthetic timers (TLFS 12.4) --------------------------------------------
 * Each VP's four timers count the partition's reference time (100 ns,
 * HV_X64_MSR_TIME_REF_COUNT's clock, which is the host TSC scaled); an
 * expiry is kept as the host TSC it happens at, so the same wake-ups as
 * the APIC timer's serve them (vapic_wake_tsc). Direct mode interrupts
 * the VP's APIC with the timer's vector (edge); message mode posts
 * HVMSG_TIMER_EXPIRED to the timer's SINT, and an expiry that finds its
 * previous message still undelivered is counted as missed, not queued
 * twice. A one-shot timer clears its Enable bit when it fires. */

static uint64_t ref_now(void)
{
	uint64_t khz = tsc_khz();

	return khz ? rdtsc() * 10000 / khz : 0;
}

/* Reference time (100 ns) -> host TSC; UINT64_MAX for "never". */
static uint64_t ref_to_tsc(uint64_t ref)
{
	uint64_t khz = tsc_khz() ? tsc_khz() : 1000000;

	if (ref > UINT64_MAX / khz)
		return UINT64_MAX;
	return ref * khz / 10000;
}

static bool stimer_live(const struct vp_stimer *t)
{
	return (t->config & HV_STIMER_ENABLE) &&
	       ((t->config & HV_STIMER_DIRECT) || HV_STIMER_SINT(t->config));
}

static void stimer_arm(struct vp_stimer *t)
{
	t->expire = 0;
	if (!stimer_live(t) || !t->count)
		return;
	if (t->config & HV_STIMER_PERIODIC)
		t->expire = rdtsc() + ref_to_tsc(t->count);
	else
		t->expire = ref_to_tsc(t->count);
	if (!t->expire)
		t->expire = 1;
}

static void stimer_fire(struct vp *vp, unsigned i, uint64_t now)
{
	struct vp_stimer *t = &vp->stimer[i];
	uint64_t due = t->expire;

	t->fired++;
	if (t->config & HV_STIMER_DIRECT) {
		vapic_post(vp, (uint8_t)HV_STIMER_VECTOR(t->config), false, false);
	} else if (__atomic_load_n(&t->msg.queued, __ATOMIC_ACQUIRE)) {
		t->missed++;
	} else {
		struct hv_timer_message_payload pl = { i, 0, 0, ref_now() };
		struct hv_message m;
		uint64_t khz = tsc_khz() ? tsc_khz() : 1000000;

		pl.expiration_time = due * 10000 / khz;
		memset(&m, 0, sizeof(m));
		m.header.message_type = HVMSG_TIMER_EXPIRED;
		m.header.payload_size = sizeof(pl);
		memcpy(m.payload, &pl, sizeof(pl));
		synic_post_held(vp, HV_STIMER_SINT(t->config), &t->msg, &m);
	}
	if (t->config & HV_STIMER_PERIODIC) {
		uint64_t period = ref_to_tsc(t->count);

		if (!period)
			period = 1;
		t->expire += ((now - t->expire) / period + 1) * period;
	} else {
		t->expire = 0;
		t->config &= ~HV_STIMER_ENABLE;
	}
}

/* On the VP's CPU, before an entry: fire what is due. */
static void stimer_poll(struct vp *vp)
{
	uint64_t now = 0;

	for (unsigned i = 0; i < HV_STIMER_COUNT; i++)
		if (vp->stimer[i].expire) {
			if (!now)
				now = rdtsc();
			if (now >= vp->stimer[i].expire)
				stimer_fire(vp, i, now);
		}
}

static uint64_t stimer_next(const struct vp *vp)
{
	uint64_t next = 0;

	for (unsigned i = 0; i < HV_STIMER_COUNT; i++) {
		uint64_t e = __atomic_load_n(&vp->stimer[i].expire, __ATOMIC_RELAXED);

		if (e && (!next || e < next))
			next = e;
	}
	return next;
}

static bool stimer_msr(struct vp *vp, uint32_t msr, bool write, uint64_t *v,
		       enum exit_action *a)
{
	struct vp_stimer *t;
	bool config;

	if (msr < HV_X64_MSR_STIMER0_CONFIG || msr > HV_X64_MSR_STIMER3_COUNT)
		return false;
	t = &vp->stimer[(msr - HV_X64_MSR_STIMER0_CONFIG) / 2];
	config = !((msr - HV_X64_MSR_STIMER0_CONFIG) & 1);
	*a = EXIT_ACTION_ADVANCE;
	if (!write) {
		*v = config ? t->config : t->count;
		return true;
	}
	if (config) {
		if (*v & ~HV_STIMER_CONFIG_VALID ||
		    ((*v & HV_STIMER_DIRECT) && HV_STIMER_VECTOR(*v) < 16)) {
			*a = EXIT_ACTION_INJECT_GP;
			return true;
		}
		t->config = *v;
	} else {
		t->count = *v;
		if (!*v && !(t->config & HV_STIMER_PERIODIC))
			t->config &= ~HV_STIMER_ENABLE;  /* a count of 0 stops it */
		else if (*v && (t->config & HV_STIMER_AUTO_ENABLE))
			t->config |= HV_STIMER_ENABLE;
	}
	stimer_arm(t);
	return true;
}

/* ---- interrupts in ---------------------------------------------------------- */

bool vapic_post(struct vp *vp, uint8_t vector, bool level, bool auto_eoi)
{
	bool ok;

	spin_lock(&vp->apic_lock);
	ok = vlapic_accept(&vp->apic, vector, level, auto_eoi);
	spin_unlock(&vp->apic_lock);
	if (!ok) {
		vp->apic_refused++;
		if (vp->apic_refused <= 3 || !(vp->apic_refused & (vp->apic_refused - 1)))
			hv_log("%s vp %u: interrupt vector %u not accepted (%s), "
			       "%lu so far", vp->partition->name, vp->index, vector,
			       vector < 16 ? "illegal vector" : "its APIC is disabled",
			       vp->apic_refused);
		return false;
	}
	__atomic_store_n(&vp->halted, false, __ATOMIC_SEQ_CST);
	vp_kick(vp);
	return true;
}

static int extint_pending(const struct vp *vp);

bool vapic_post_extint(struct vp *vp, uint8_t vector)
{
	bool ok;

	/* Refused while LINT0 does not take ExtINT, and while the VP has
	 * not taken the 8259's last vector yet: a PIC raises INTR for one
	 * vector and acknowledges it at the INTA. Two acknowledged at once
	 * would both be in service, and the guest's non-specific EOI after
	 * the lower-priority one would end the higher one's instead, leaving
	 * the other in service for good (seen: IRQ 11 stuck behind IRQ 0).
	 * The 8259 model keeps its request and asks again at the guest's
	 * EOI or its retry (drivers/partmgr.c). */
	spin_lock(&vp->apic_lock);
	ok = vlapic_extint_allowed(&vp->apic) && extint_pending(vp) < 0;
	spin_unlock(&vp->apic_lock);
	if (!ok)
		return false;
	__atomic_or_fetch(&vp->pending_irq[vector / 64], 1ull << (vector % 64),
			  __ATOMIC_SEQ_CST);
	__atomic_store_n(&vp->halted, false, __ATOMIC_SEQ_CST);
	vp_kick(vp);
	return true;
}

/* NMIs (IPI or LINT1) need NMI-window tracking the back-end does not
 * have yet: refused with a log line, never silently. */
static void vapic_post_nmi(struct vp *from, struct vp *vp)
{
	if (from->apic_ipi_refused++ < 3 || !(from->apic_ipi_refused & (from->apic_ipi_refused - 1)))
		hv_log("%s vp %u: NMI IPI to vp %u not delivered (NMIs are not "
		       "virtualized for children yet), %lu so far",
		       from->partition->name, from->index, vp->index,
		       from->apic_ipi_refused);
}

/* INIT and STARTUP, as the MP start-up sequence uses them: a VP the
 * partition has not started yet waits for its SIPI (INIT changes
 * nothing there); the SIPI starts it in real mode at vector * 4 KiB. A
 * VP already running is not reset: that is logged and ignored. */
static void vapic_init_sipi(struct vp *from, struct vp *to, bool init,
			    uint8_t vector, bool assert)
{
	struct hv_initial_vp_context ctx;
	const struct hv_x64_segment_register data = { 0, 0xffff, 0, 0x0093 };

	if (init) {
		if (!__atomic_load_n(&to->started, __ATOMIC_ACQUIRE) || !assert)
			return;         /* waiting already; or the de-assert */
		if (from->apic_ipi_refused++ < 3)
			hv_log("%s vp %u: INIT to running vp %u ignored (a VP is "
			       "not reset while it runs)", from->partition->name,
			       from->index, to->index);
		return;
	}
	if (to == from || !to->explicit_suspend ||
	    !__atomic_compare_exchange_n(&to->start_pending, &(bool){ false }, true,
					 false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
	    to->started)
		return;                 /* a second SIPI: ignored, as hardware does */
	memset(&ctx, 0, sizeof(ctx));
	ctx.rip = 0;
	ctx.rflags = 2;
	ctx.cs = (struct hv_x64_segment_register){ (uint64_t)vector << 12, 0xffff,
						   (uint16_t)(vector << 8), 0x009b };
	ctx.ds = ctx.es = ctx.fs = ctx.gs = ctx.ss = data;
	ctx.tr = (struct hv_x64_segment_register){ 0, 0xffff, 0, 0x008b };
	ctx.ldtr = (struct hv_x64_segment_register){ 0, 0xffff, 0, 0x0082 };
	ctx.gdtr.limit = 0xffff;
	ctx.idtr.limit = 0xffff;
	ctx.cr0 = CR0_ET;
	to->start_ctx = ctx;
	virt->vp_set_context(to, &ctx);
	for (unsigned i = 0; i < GPR_COUNT; i++)
		to->gpr[i] = 0;
	spin_lock(&to->apic_lock);
	vlapic_init(&to->apic, to->index, false, to->apic.tsc_khz);
	spin_unlock(&to->apic_lock);
	to->explicit_suspend = false;
	__atomic_store_n(&to->started, true, __ATOMIC_RELEASE);
	hv_log("%s vp %u: started by SIPI from vp %u at %#x:0000 (real mode)",
	       to->partition->name, to->index, from->index, vector << 8);
	vp_kick(to);
}

static int extint_pending(const struct vp *vp)
{
	for (int w = 3; w >= 0; w--) {
		uint64_t bits = __atomic_load_n(&vp->pending_irq[w], __ATOMIC_ACQUIRE);

		if (bits)
			return w * 64 + 63 - __builtin_clzll(bits);
	}
	return -1;
}

bool vapic_has_pending(struct vp *vp)
{
	bool any;

	spin_lock(&vp->apic_lock);
	any = (extint_pending(vp) >= 0 && vlapic_extint_allowed(&vp->apic)) ||
	      vlapic_pending(&vp->apic) >= 0;
	if (!any && vp->apic.timer_expire) {
		uint64_t next = vlapic_timer_next(&vp->apic);

		any = next && guest_tsc(vp) >= next;
	}
	spin_unlock(&vp->apic_lock);
	if (!any) {
		uint64_t st = stimer_next(vp);

		any = st && rdtsc() >= st;
	}
	return any;
}

uint64_t vapic_wake_tsc(struct vp *vp)
{
	uint64_t next, g, h;

	uint64_t st = stimer_next(vp);

	spin_lock(&vp->apic_lock);
	next = vlapic_timer_next(&vp->apic);
	spin_unlock(&vp->apic_lock);
	if (!next)
		return st;
	/* Guest TSC -> host TSC: the offset is the VP's. */
	g = guest_tsc(vp);
	h = rdtsc();
	next = next <= g ? h : h + (next - g);
	return st && st < next ? st : next;
}

/* Inject what the VP takes next, if it can take it now. */
void vapic_deliver(struct vp *vp)
{
	int ext, apic;
	bool more;

	stimer_poll(vp);                /* outside the lock: it may post */
	spin_lock(&vp->apic_lock);
	if (vp->apic.timer_expire)
		vlapic_timer_poll(&vp->apic, guest_tsc(vp));
	ext = extint_pending(vp);
	if (ext >= 0 && !vlapic_extint_allowed(&vp->apic)) {
		/* The 8259 waits, as its INTR line does, until LINT0 lets
		 * it through; said once per VP. */
		if (!vp->apic_extint_held++)
			hv_log("%s vp %u: 8259 vector %d waits: LINT0 is %#x (masked "
			       "or not ExtINT)", vp->partition->name, vp->index, ext,
			       vp->apic.lvt[3]);
		ext = -1;
	}
	apic = vlapic_pending(&vp->apic);
	if (ext < 0 && apic < 0) {
		spin_unlock(&vp->apic_lock);
		virt->vp_clear_irq_window(vp);
		return;
	}
	if (!virt->vp_irq_window_open(vp)) {
		spin_unlock(&vp->apic_lock);
		virt->vp_request_irq_window(vp);
		return;
	}
	if (ext >= 0) {
		/* The 8259 answers the INTA: its vector, no APIC state. */
		__atomic_and_fetch(&vp->pending_irq[ext / 64], ~(1ull << (ext % 64)),
				   __ATOMIC_SEQ_CST);
		virt->vp_inject(vp, INJECT_EXTERNAL_INTERRUPT, (uint8_t)ext, false, 0);
		vp->apic_extints++;
	} else {
		vlapic_ack(&vp->apic, (uint8_t)apic);
		vp->apic_injected++;
		virt->vp_inject(vp, INJECT_EXTERNAL_INTERRUPT, (uint8_t)apic, false, 0);
	}
	vp->halted = false;
	more = (extint_pending(vp) >= 0 && vlapic_extint_allowed(&vp->apic)) ||
	       vlapic_pending(&vp->apic) >= 0;
	spin_unlock(&vp->apic_lock);
	if (more)
		virt->vp_request_irq_window(vp);
	else
		virt->vp_clear_irq_window(vp);
}

/* ---- what a write asks for ----------------------------------------------- */

static void ipi_one(struct vp *from, struct vp *to, const struct vlapic_effects *fx)
{
	switch (fx->ipi_mode) {
	case VLAPIC_DM_FIXED:
	case VLAPIC_DM_LOWEST:
		vapic_post(to, fx->ipi_vector, false, false);
		break;
	case VLAPIC_DM_NMI:
		vapic_post_nmi(from, to);
		break;
	case VLAPIC_DM_INIT:
	case VLAPIC_DM_STARTUP:
		vapic_init_sipi(from, to, fx->ipi_mode == VLAPIC_DM_INIT,
				fx->ipi_vector, fx->ipi_level);
		break;
	default:
		/* SMI, ExtINT and the reserved mode: nothing here takes them. */
		if (from->apic_ipi_refused++ < 3)
			hv_log("%s vp %u: IPI delivery mode %u not supported (dropped)",
			       from->partition->name, from->index, fx->ipi_mode);
		break;
	}
}

/* The partition's VPs an interrupt to `dest` reaches (`from` for the
 * shorthands: 1 self, 2 all, 3 all but self; 0 by destination), each
 * given to `fn`; lowest priority goes to the first of the set. The
 * number reached. */
static unsigned route(struct partition *p, struct vp *from, unsigned shorthand,
		      uint32_t dest, bool logical, bool lowest,
		      void (*fn)(struct vp *from, struct vp *to, const void *arg),
		      const void *arg)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->vp_count; i++) {
		struct vp *to = p->vps[i];
		bool hit;

		if (!to)
			continue;
		switch (shorthand) {
		case 1:
			hit = to == from;
			break;
		case 2:
			hit = true;
			break;
		case 3:
			hit = to != from;
			break;
		default:
			spin_lock(&to->apic_lock);
			hit = vlapic_matches(&to->apic, dest, logical);
			spin_unlock(&to->apic_lock);
			break;
		}
		if (!hit)
			continue;
		fn(from, to, arg);
		n++;
		if (lowest)
			break;
	}
	return n;
}

static void ipi_fn(struct vp *from, struct vp *to, const void *arg)
{
	ipi_one(from, to, arg);
}

static void effects(struct vp *vp, const struct vlapic_effects *fx)
{
	if (fx->eoi_vector >= 0) {
		/* A level-triggered vector ended: the I/O APIC that sent it
		 * (the root's, or the control function's) hears of it. */
		struct hv_x64_apic_eoi_message m = { vp->index, (uint32_t)fx->eoi_vector };

		vp->apic_level_eois++;
		vp->apic_eoi_pending = true;
		intercept_to_root(vp, HVMSG_X64_APIC_EOI, &m, sizeof(m));
	}
	if (!fx->ipi)
		return;
	vp->apic_ipis++;
	route(vp->partition, vp, fx->ipi_shorthand, fx->ipi_dest, fx->ipi_logical,
	      fx->ipi_mode == VLAPIC_DM_LOWEST, ipi_fn, fx);
}

struct assert_arg {
	uint8_t vector;
	bool level;
};

static void assert_fn(struct vp *from, struct vp *to, const void *arg)
{
	const struct assert_arg *a = arg;

	vapic_post(to, a->vector, a->level, false);
}

unsigned vapic_assert(struct partition *p, uint32_t dest, bool logical, bool lowest,
		      uint8_t vector, bool level)
{
	struct assert_arg a = { vector, level };

	return route(p, NULL, 0, dest, logical, lowest, assert_fn, &a);
}

/* ---- the registers --------------------------------------------------------- */

bool vapic_msr(struct vp *vp, uint32_t msr, bool write, uint64_t *v,
	       enum exit_action *a)
{
	struct vlapic_effects fx;
	int r;

	if (msr != VLAPIC_MSR_TSC_DEADLINE &&
	    (msr < VLAPIC_MSR_FIRST || msr > VLAPIC_MSR_LAST))
		return false;
	fx.ipi = false;
	fx.eoi_vector = -1;
	spin_lock(&vp->apic_lock);
	if (write)
		r = vlapic_msr_write(&vp->apic, msr, *v, guest_tsc(vp), &fx);
	else
		r = vlapic_msr_read(&vp->apic, msr, guest_tsc(vp), v);
	spin_unlock(&vp->apic_lock);
	if (r == VLAPIC_GP) {
		vp->apic_gp++;
		if (vp->apic_gp <= 3 || !(vp->apic_gp & (vp->apic_gp - 1)))
			hv_log("%s vp %u: x2APIC MSR %#x %s refused (#GP: %s), %lu so far",
			       vp->partition->name, vp->index, msr,
			       write ? "write" : "read",
			       vlapic_x2apic(&vp->apic) ? "not a register, or "
			       "a reserved bit" : "the APIC is not in x2APIC mode",
			       vp->apic_gp);
		*a = EXIT_ACTION_INJECT_GP;
		return true;
	}
	if (write)
		effects(vp, &fx);
	*a = EXIT_ACTION_ADVANCE;
	return true;
}

/* The TLFS's synthetic APIC MSRs and the VP assist page. The assist
 * page is the guest's own page, recorded and checked to be its RAM; the
 * hypervisor writes nothing there (no APIC assist, no enlightened VMCS
 * is offered), so zeroed by the guest it stays as the TLFS's defaults. */
bool vapic_hv_msr(struct vp *vp, uint32_t msr, bool write, uint64_t *v,
		  enum exit_action *a)
{
	struct vlapic_effects fx;
	uint32_t off;
	int r;

	switch (msr) {
	case HV_X64_MSR_EOI:
		off = VLAPIC_EOI;
		break;
	case HV_X64_MSR_ICR:
		off = VLAPIC_ICR_LO;
		break;
	case HV_X64_MSR_TPR:
		off = VLAPIC_TPR;
		break;
	case HV_X64_MSR_STIMER0_CONFIG ... HV_X64_MSR_STIMER3_COUNT:
		return stimer_msr(vp, msr, write, v, a);
	case HV_X64_MSR_VP_ASSIST_PAGE:
		*a = EXIT_ACTION_ADVANCE;
		if (!write) {
			*v = vp->vp_assist_msr;
			return true;
		}
		if ((*v & 0xffeull) || ((*v & HV_X64_MSR_VP_ASSIST_PAGE_ENABLE) &&
		    !gpa_to_hva(vp->partition, *v & ~0xfffull, 4096))) {
			*a = EXIT_ACTION_INJECT_GP;
			return true;
		}
		vp->vp_assist_msr = *v;
		return true;
	default:
		return false;
	}
	spin_lock(&vp->apic_lock);
	if (write)
		r = vlapic_synthetic_write(&vp->apic, off, *v, guest_tsc(vp), &fx);
	else
		r = vlapic_synthetic_read(&vp->apic, off, v);
	spin_unlock(&vp->apic_lock);
	*a = r == VLAPIC_GP ? EXIT_ACTION_INJECT_GP : EXIT_ACTION_ADVANCE;
	if (write && r == VLAPIC_OK)
		effects(vp, &fx);
	return true;
}

enum exit_action vapic_base_write(struct vp *vp, uint64_t v)
{
	int r;

	spin_lock(&vp->apic_lock);
	r = vlapic_set_base(&vp->apic, v);
	spin_unlock(&vp->apic_lock);
	return r == VLAPIC_GP ? EXIT_ACTION_INJECT_GP : EXIT_ACTION_ADVANCE;
}

uint64_t vapic_base_read(struct vp *vp)
{
	return vp->apic.base;
}

bool vapic_mmio_page(struct vp *vp, uint64_t gpa)
{
	return (gpa & ~0xfffull) == vlapic_mmio_base(&vp->apic);
}

uint32_t vapic_mmio_read(struct vp *vp, uint32_t off)
{
	uint32_t v;

	spin_lock(&vp->apic_lock);
	v = vlapic_mmio_read(&vp->apic, off, guest_tsc(vp));
	spin_unlock(&vp->apic_lock);
	return v;
}

void vapic_mmio_write(struct vp *vp, uint32_t off, uint32_t v)
{
	struct vlapic_effects fx;

	spin_lock(&vp->apic_lock);
	vlapic_mmio_write(&vp->apic, off, v, guest_tsc(vp), &fx);
	spin_unlock(&vp->apic_lock);
	effects(vp, &fx);
}
