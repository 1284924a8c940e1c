/*
 * The AMD SVM back-end: per-CPU enablement, one VMCB per VP, nested
 * paging, I/O and MSR permission maps, and the exit normalization the
 * core dispatches on. Optional features (next-RIP save, decode assists,
 * flush-by-ASID, VMCB clean bits) are used only when CPUID offers them;
 * QEMU's TCG offers none, so everything here also works without them.
 */
#include <string.h>
#include "../../hv.h"
#include "../../virt.h"
#include "../../spinlock.h"
#include "../../cpustate.h"
#include "cpu.h"
#include "npt.h"
#include "svm.h"

struct svm_partition {
	struct npt npt;
	uint8_t *iopm;                  /* 12 KiB: one bit per port */
	uint8_t *msrpm;                 /* 8 KiB: read/write bits per MSR */
	uint32_t asid;
};

struct svm_vp {
	struct vmcb *vmcb;
	uint64_t vmcb_pa;
	int last_cpu;                   /* where it last ran; -1: never */
};

static uint32_t svm_features;           /* CPUID 0x8000000a EDX */
static uint32_t svm_asids;
static bool gb_pages;
static uint64_t host_vmcb_pa[HV_MAX_CPUS];
#define SVM_MAX_ASIDS 4096
static uint32_t *asid_owner[HV_MAX_CPUS];      /* partition id, per CPU */

void svm_vmrun(struct vp *vp, uint64_t vmcb_pa, uint64_t host_vmcb);

/* TLB_CONTROL value that flushes this guest's translations: only its
 * ASID where the CPU can (flush-by-ASID), else everything (QEMU TCG). */
static uint8_t svm_tlb_flush(void)
{
	return svm_features & SVM_FEATURE_FLUSH_ASID ? 3 : 1;
}

static const char *svm_cpu_probe(void)
{
	struct cpuid_regs r = cpuid(0x80000000, 0);
	uint64_t vm_cr;

	if (r.eax < 0x8000000a || !(cpuid(0x80000001, 0).ecx & (1u << 2)))
		return "this CPU has no AMD SVM";
	if (rdmsr_safe(MSR_VM_CR, &vm_cr) == 0 && (vm_cr & MSR_VM_CR_SVMDIS))
		return "SVM is disabled by the firmware (VM_CR.SVMDIS)";
	r = cpuid(0x8000000a, 0);
	/* Every CPU must offer what the boot CPU did: the back-end uses the
	 * boot CPU's features everywhere. */
	if (svm_asids && (r.edx != svm_features || r.ebx != svm_asids))
		return "the CPUs' SVM features differ";
	if (!(r.edx & SVM_FEATURE_NPT))
		return "this CPU's SVM has no nested paging (NPT)";
	if (r.ebx < 2)
		return "this CPU's SVM has no ASIDs for guests";
	svm_features = r.edx;
	svm_asids = r.ebx;
	gb_pages = cpuid(0x80000001, 0).edx & (1u << 26);
	return NULL;
}

static void svm_cpu_enable(void)
{
	struct percpu *c = this_cpu();
	const char *why = svm_cpu_probe();
	uint64_t hsave;

	if (why)
		panic("cpu %u: %s", c->index, why);
	hsave = virt_to_phys(page_alloc_zeroed());

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, hsave);
	host_vmcb_pa[c->index] = virt_to_phys(page_alloc_zeroed());
	asid_owner[c->index] = pages_alloc_zeroed(
		(unsigned)ALIGN_UP(SVM_MAX_ASIDS * sizeof(uint32_t), PAGE_SIZE) / PAGE_SIZE);
}

static void svm_describe(char *buf, unsigned len)
{
	ksnprintf(buf, len, "AMD SVM, %u ASIDs, NPT%s%s%s%s%s%s",
		  svm_asids, gb_pages ? " with 1G pages" : "",
		  svm_features & SVM_FEATURE_NRIPS ? ", next-RIP" : "",
		  svm_features & SVM_FEATURE_DECODE ? ", decode assists" : "",
		  svm_features & SVM_FEATURE_FLUSH_ASID ? ", flush-by-ASID" : "",
		  svm_features & SVM_FEATURE_VMCB_CLEAN ? ", VMCB clean bits" : "",
		  svm_features & SVM_FEATURE_VGIF ? ", VGIF" : "");
}

/*
 * ASIDs tag guest translations in the TLB; 0 is the host's. A partition
 * gets an ASID of its own while there are free ones (QEMU's TCG has 16,
 * real CPUs thousands); beyond that partitions share, round robin, the
 * root excepted. Each CPU remembers which partition last ran under each
 * ASID there (asid_owner): when another one (a sharer, or a new partition
 * with a recycled ASID) runs under it, that run starts with a flush, so
 * no partition ever sees another's translations. A VP also flushes when
 * it moves to another CPU. Deleting a partition drops its reference.
 */
static uint16_t asid_refs[SVM_MAX_ASIDS];
static spinlock_t asid_lock;
static unsigned asids_in_use, asid_share_next;

static uint32_t asid_limit(void)
{
	return svm_asids < SVM_MAX_ASIDS ? svm_asids : SVM_MAX_ASIDS;
}

static uint32_t asid_alloc(bool exclusive)
{
	uint32_t limit = asid_limit(), found = 0;

	spin_lock(&asid_lock);
	for (uint32_t a = 1; a < limit && !found; a++)
		if (!asid_refs[a])
			found = a;
	if (!found && !exclusive && limit > 2) {
		/* Share one of 2..limit-1: ASID 1 went to the root first. */
		found = 2 + asid_share_next++ % (limit - 2);
	}
	if (found && !asid_refs[found]++)
		asids_in_use++;
	spin_unlock(&asid_lock);
	return found;
}

static void asid_free(uint32_t a)
{
	spin_lock(&asid_lock);
	if (a && asid_refs[a] && !--asid_refs[a])
		asids_in_use--;
	spin_unlock(&asid_lock);
}

static unsigned svm_asids_in_use(void)
{
	return asids_in_use;
}

static int svm_partition_init(struct partition *p)
{
	struct svm_partition *s;
	uint32_t asid = asid_alloc(p->is_root);

	if (!asid)
		return -1;
	s = page_alloc_zeroed();
	s->asid = asid;
	npt_init(&s->npt, gb_pages);
	s->iopm = pages_alloc_zeroed(3);
	s->msrpm = pages_alloc_zeroed(2);
	if (!p->is_root) {
		/* A child reaches no port and no MSR directly. */
		memset(s->iopm, 0xff, 3 * PAGE_SIZE);
		memset(s->msrpm, 0xff, 2 * PAGE_SIZE);
	}
	p->vendor = s;
	return 0;
}

static void svm_partition_destroy(struct partition *p)
{
	struct svm_partition *s = p->vendor;

	if (!s)
		return;
	npt_destroy(&s->npt);
	pages_free(s->iopm, 3);
	pages_free(s->msrpm, 2);
	asid_free(s->asid);
	page_free(s);
	p->vendor = NULL;
}

static uint64_t svm_gpa_translate(struct partition *p, uint64_t gpa)
{
	return npt_translate(&((struct svm_partition *)p->vendor)->npt, gpa, NULL);
}

static void svm_partition_flush_tlb(struct partition *p)
{
	for (unsigned i = 0; i < p->vp_count; i++)
		p->vps[i]->tlb_flush = true;
}

static int svm_gpa_map(struct partition *p, uint64_t gpa, uint64_t hpa,
		       uint64_t len, unsigned rights)
{
	struct svm_partition *s = p->vendor;

	return npt_map(&s->npt, gpa, hpa, len, rights);
}

static void svm_io_intercept(struct partition *p, uint16_t port, bool on)
{
	struct svm_partition *s = p->vendor;

	if (on)
		s->iopm[port / 8] |= 1u << (port % 8);
	else
		s->iopm[port / 8] &= ~(1u << (port % 8));
}

/* MSRs outside the three ranges the map covers always exit. */
static void svm_msr_intercept(struct partition *p, uint32_t msr, bool read,
			      bool write)
{
	struct svm_partition *s = p->vendor;
	uint32_t base;

	if (msr < 0x2000)
		base = 0;
	else if (msr - 0xc0000000u < 0x2000)
		base = 0x800, msr -= 0xc0000000u;
	else if (msr - 0xc0010000u < 0x2000)
		base = 0x1000, msr -= 0xc0010000u;
	else
		return;
	{
		uint32_t bit = msr * 2;
		uint8_t *b = &s->msrpm[base + bit / 8];

		*b &= ~(3u << (bit % 8));
		*b |= (uint8_t)(((read ? 1u : 0u) | (write ? 2u : 0u)) << (bit % 8));
	}
}

static int svm_vp_init(struct vp *vp)
{
	struct svm_partition *sp = vp->partition->vendor;
	struct svm_vp *s = page_alloc_zeroed();
	struct vmcb *v = page_alloc_zeroed();

	s->vmcb = v;
	s->vmcb_pa = virt_to_phys(v);
	s->last_cpu = -1;
	v->control.intercept_misc1 = SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI |
		SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_HLT |
		SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR |
		SVM_INTERCEPT_SHUTDOWN;
	v->control.intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL |
		SVM_INTERCEPT_VMLOAD | SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI |
		SVM_INTERCEPT_CLGI | SVM_INTERCEPT_SKINIT |
		/* XCR0 is not in the VMCB: every partition's goes through us. */
		SVM_INTERCEPT_XSETBV;
	if (!vp->partition->is_root) {
		/* The root owns the physical interrupts: any that arrives
		 * while a child runs sends the CPU back, whatever the child's
		 * IF says (V_INTR_MASKING keeps the child's IF virtual). */
		v->control.intercept_misc1 |= SVM_INTERCEPT_INTR;
		v->control.vintr |= SVM_VINTR_MASKING;
		/* Not offered (cpupolicy.c): #UD, never a parked CPU. */
		v->control.intercept_misc2 |= SVM_INTERCEPT_MONITOR | SVM_INTERCEPT_MWAIT |
					      SVM_INTERCEPT_MWAIT_ARMED;
	}
	v->control.iopm_base_pa = virt_to_phys(sp->iopm);
	v->control.msrpm_base_pa = virt_to_phys(sp->msrpm);
	v->control.asid = sp->asid;
	v->control.tlb_control = svm_tlb_flush();
	v->control.np_control = 1;
	v->control.n_cr3 = sp->npt.pml4_pa;
	v->save.g_pat = 0x0007040600070406ull;  /* the reset PAT */
	v->save.dr6 = 0xffff0ff0;
	v->save.dr7 = 0x400;
	vp->vendor = s;
	return 0;
}

static void svm_vp_destroy(struct vp *vp)
{
	struct svm_vp *s = vp->vendor;

	if (!s)
		return;
	page_free(s->vmcb);
	page_free(s);
	vp->vendor = NULL;
}

/* TLFS/VMX attribute layout to SVM's packed 12 bits. */
static uint16_t seg_attr(uint16_t a)
{
	return (uint16_t)((a & 0xff) | ((a >> 4) & 0xf00));
}

static void seg_load(struct vmcb_seg *d, const struct hv_x64_segment_register *s)
{
	d->selector = s->selector;
	d->attrib = seg_attr(s->attributes);
	d->limit = s->limit;
	d->base = s->base;
}

static void svm_vp_set_context(struct vp *vp,
			       const struct hv_initial_vp_context *c)
{
	struct vmcb *v = ((struct svm_vp *)vp->vendor)->vmcb;

	v->save.rip = c->rip;
	v->save.rsp = c->rsp;
	v->save.rflags = c->rflags | 2;
	seg_load(&v->save.cs, &c->cs);
	seg_load(&v->save.ds, &c->ds);
	seg_load(&v->save.es, &c->es);
	seg_load(&v->save.fs, &c->fs);
	seg_load(&v->save.gs, &c->gs);
	seg_load(&v->save.ss, &c->ss);
	seg_load(&v->save.tr, &c->tr);
	seg_load(&v->save.ldtr, &c->ldtr);
	v->save.idtr.limit = c->idtr.limit;
	v->save.idtr.base = c->idtr.base;
	v->save.gdtr.limit = c->gdtr.limit;
	v->save.gdtr.base = c->gdtr.base;
	/* VMRUN requires EFER.SVME in the guest; the guest never sees it. */
	v->save.efer = c->efer | EFER_SVME;
	v->save.cr0 = c->cr0;
	v->save.cr3 = c->cr3;
	v->save.cr4 = c->cr4;
	v->save.cpl = (uint8_t)((c->ss.attributes >> 5) & 3);
	if (c->msr_cr_pat)
		v->save.g_pat = c->msr_cr_pat;
	vp->gpr[GPR_RSP] = c->rsp;
	v->control.event_inj = 0;
	v->control.tlb_control = svm_tlb_flush();
}

static void normalize(struct vmcb *v, struct vp_exit *e)
{
	uint64_t code = v->control.exit_code;
	uint64_t info1 = v->control.exit_info1;
	bool nrip = svm_features & SVM_FEATURE_NRIPS;

	memset(e, 0, sizeof(*e));
	e->vendor_code = code;
	switch (code) {
	case SVM_EXIT_CPUID:
		e->reason = EXIT_CPUID;
		break;
	case SVM_EXIT_MSR:
		e->reason = info1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		break;
	case SVM_EXIT_IOIO:
		e->reason = EXIT_IO;
		e->io.port = (uint16_t)(info1 >> 16);
		e->io.in = info1 & SVM_IOIO_IN;
		e->io.string = info1 & SVM_IOIO_STR;
		e->io.rep = info1 & SVM_IOIO_REP;
		e->io.size = (info1 >> SVM_IOIO_SZ_SHIFT) & 1 ? 1 :
			     (info1 >> SVM_IOIO_SZ_SHIFT) & 2 ? 2 : 4;
		/* IOIO exits always report the next RIP. */
		e->next_rip = v->control.exit_info2;
		return;
	case SVM_EXIT_HLT:
		e->reason = EXIT_HLT;
		break;
	case SVM_EXIT_VMMCALL:
		e->reason = EXIT_HYPERCALL;
		break;
	case SVM_EXIT_NPF:
		e->reason = EXIT_NPF;
		e->npf.gpa = v->control.exit_info2;
		e->npf.present = info1 & 1;
		e->npf.write = info1 & 2;
		e->npf.fetch = info1 & 16;
		return;
	case SVM_EXIT_SHUTDOWN:
		e->reason = EXIT_SHUTDOWN;
		return;
	case SVM_EXIT_INTR:
		e->reason = EXIT_INTR;
		return;
	case SVM_EXIT_NMI:
		e->reason = EXIT_NMI;
		return;
	case SVM_EXIT_VINTR:
		e->reason = EXIT_VINTR;
		return;
	case SVM_EXIT_INIT:
		e->reason = EXIT_INIT;
		return;
	case SVM_EXIT_VMRUN: case SVM_EXIT_VMLOAD: case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI: case SVM_EXIT_CLGI: case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
		e->reason = EXIT_VIRT_INSN;
		break;
	case SVM_EXIT_XSETBV:
		e->reason = EXIT_XSETBV;
		break;
	case SVM_EXIT_MONITOR: case SVM_EXIT_MWAIT: case SVM_EXIT_MWAIT_ARMED:
		e->reason = EXIT_MWAIT;
		break;
	case SVM_EXIT_INVALID:
		e->reason = EXIT_INVALID;
		return;
	default:
		if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
			e->reason = EXIT_EXCEPTION;
			e->exception.vector = (uint8_t)(code - SVM_EXIT_EXCP_BASE);
			e->exception.error = (uint32_t)info1;
			return;
		}
		e->reason = EXIT_OTHER;
		return;
	}
	if (nrip)
		e->next_rip = v->control.next_rip;
}

static void svm_vp_run(struct vp *vp, struct vp_exit *e)
{
	struct svm_vp *s = vp->vendor;
	struct vmcb *v = s->vmcb;

	v->save.rax = vp->gpr[GPR_RAX];
	v->save.rsp = vp->gpr[GPR_RSP];
	/* GIF clear from before the flush decision to VMRUN: a shootdown's
	 * kick NMI that comes in between waits and ends the run at once,
	 * instead of being taken here after we decided not to flush. */
	__asm__ volatile("clgi" ::: "memory");
	{
		unsigned cpu = this_cpu()->index;
		uint32_t *owner = &asid_owner[cpu][v->control.asid];
		uint32_t me = (uint32_t)vp->partition->id;

		if (__atomic_exchange_n(&vp->tlb_flush, false, __ATOMIC_SEQ_CST) ||
		    s->last_cpu != (int)cpu || *owner != me) {
			s->last_cpu = (int)cpu;
			*owner = me;
			v->control.tlb_control = svm_tlb_flush();
		}
	}
	/* The FPU, XCR0, TSC_AUX, SPEC_CTRL and DR0-3: VMRUN switches none
	 * of them. Interrupts are off from here to cpustate_leave(). */
	cpustate_enter(vp);
	svm_vmrun(vp, s->vmcb_pa, host_vmcb_pa[this_cpu()->index]);
	cpustate_leave(vp);
	vp->gpr[GPR_RAX] = v->save.rax;
	vp->gpr[GPR_RSP] = v->save.rsp;
	v->control.tlb_control = 0;
	v->control.event_inj = 0;
	/* An event cut short by the exit (say, an interrupt whose delivery
	 * hit a nested page fault) must be delivered again. */
	if (v->control.exit_int_info & SVM_EVTINJ_VALID)
		v->control.event_inj = v->control.exit_int_info;
	normalize(v, e);
}

static void svm_vp_read_regs(struct vp *vp, struct vp_regs_view *r)
{
	struct vmcb *v = ((struct svm_vp *)vp->vendor)->vmcb;

	r->rip = v->save.rip;
	r->rflags = v->save.rflags;
	r->cr0 = v->save.cr0;
	r->cr3 = v->save.cr3;
	r->cr4 = v->save.cr4;
	r->efer = v->save.efer & ~EFER_SVME;
	r->cs_base = v->save.cs.base;
	r->cs_long = v->save.cs.attrib & (1u << 9);
	r->cs_db = v->save.cs.attrib & (1u << 10);
	r->cpl = v->save.cpl;
}

static struct vmcb_seg *seg_of(struct vmcb *v, uint32_t name)
{
	struct vmcb_seg *order[] = { &v->save.es, &v->save.cs, &v->save.ss,
		&v->save.ds, &v->save.fs, &v->save.gs, &v->save.ldtr, &v->save.tr };

	if (name >= HV_X64_REGISTER_ES && name <= HV_X64_REGISTER_TR)
		return order[name - HV_X64_REGISTER_ES];
	if (name == HV_X64_REGISTER_IDTR)
		return &v->save.idtr;
	if (name == HV_X64_REGISTER_GDTR)
		return &v->save.gdtr;
	return NULL;
}

static uint64_t *reg64_of(struct vp *vp, struct vmcb *v, uint32_t name)
{
	if (name >= HV_X64_REGISTER_RAX && name < HV_X64_REGISTER_RAX + 16)
		return &vp->gpr[name - HV_X64_REGISTER_RAX];
	switch (name) {
	case HV_X64_REGISTER_RIP:
		return &v->save.rip;
	case HV_X64_REGISTER_RFLAGS:
		return &v->save.rflags;
	case HV_X64_REGISTER_CR0:
		return &v->save.cr0;
	case HV_X64_REGISTER_CR2:
		return &v->save.cr2;
	case HV_X64_REGISTER_CR3:
		return &v->save.cr3;
	case HV_X64_REGISTER_CR4:
		return &v->save.cr4;
	default:
		return NULL;
	}
}

static int svm_vp_get_reg(struct vp *vp, uint32_t name, struct hv_register_assoc *r)
{
	struct vmcb *v = ((struct svm_vp *)vp->vendor)->vmcb;
	struct vmcb_seg *sg = seg_of(v, name);
	uint64_t *p = reg64_of(vp, v, name);

	memset(&r->value, 0, sizeof(r->value));
	r->name = name;
	if (name == HV_X64_REGISTER_EFER) {
		r->value.reg64 = v->save.efer & ~EFER_SVME;
	} else if (p) {
		r->value.reg64 = *p;
	} else if (sg && (name == HV_X64_REGISTER_IDTR || name == HV_X64_REGISTER_GDTR)) {
		r->value.table.limit = (uint16_t)sg->limit;
		r->value.table.base = sg->base;
	} else if (sg) {
		r->value.segment.base = sg->base;
		r->value.segment.limit = sg->limit;
		r->value.segment.selector = sg->selector;
		r->value.segment.attributes =
			(uint16_t)((sg->attrib & 0xff) | ((sg->attrib & 0xf00) << 4));
	} else {
		return -1;
	}
	return 0;
}

static int svm_vp_set_reg(struct vp *vp, const struct hv_register_assoc *r)
{
	struct vmcb *v = ((struct svm_vp *)vp->vendor)->vmcb;
	struct vmcb_seg *sg = seg_of(v, r->name);
	uint64_t *p = reg64_of(vp, v, r->name);

	if (r->name == HV_X64_REGISTER_EFER) {
		v->save.efer = r->value.reg64 | EFER_SVME;
	} else if (p) {
		*p = r->value.reg64;
		if (r->name == HV_X64_REGISTER_RIP)
			v->control.interrupt_shadow = 0;
		if (r->name == HV_X64_REGISTER_RFLAGS)
			v->save.rflags |= 2;
	} else if (sg && (r->name == HV_X64_REGISTER_IDTR || r->name == HV_X64_REGISTER_GDTR)) {
		sg->limit = r->value.table.limit;
		sg->base = r->value.table.base;
	} else if (sg) {
		seg_load(sg, &r->value.segment);
		if (r->name == HV_X64_REGISTER_ES + 2)  /* SS carries the CPL */
			v->save.cpl = (uint8_t)((r->value.segment.attributes >> 5) & 3);
	} else {
		return -1;
	}
	if (r->name == HV_X64_REGISTER_CR0 || r->name == HV_X64_REGISTER_CR3 ||
	    r->name == HV_X64_REGISTER_CR4 || r->name == HV_X64_REGISTER_EFER)
		vp->tlb_flush = true;
	return 0;
}

static void svm_vp_set_rip(struct vp *vp, uint64_t rip)
{
	struct vmcb *v = ((struct svm_vp *)vp->vendor)->vmcb;

	v->save.rip = rip;
	v->control.interrupt_shadow = 0;        /* the instruction is done */
}

static uint64_t svm_vp_get_efer(struct vp *vp)
{
	return ((struct svm_vp *)vp->vendor)->vmcb->save.efer & ~EFER_SVME;
}

static void svm_vp_set_efer(struct vp *vp, uint64_t efer)
{
	((struct svm_vp *)vp->vendor)->vmcb->save.efer = efer | EFER_SVME;
}

/* The MSRs VMLOAD/VMSAVE (svm_entry.S) and VMRUN switch from the VMCB:
 * after a #VMEXIT the VMCB holds the guest's current values, and what is
 * written here is what the next VMLOAD/VMRUN gives it. TSC is the VMCB's
 * offset (RDTSC runs natively and adds it). */
static uint64_t *svm_msr_slot(struct vmcb *v, uint32_t msr)
{
	switch (msr) {
	case MSR_FS_BASE:
		return &v->save.fs.base;
	case MSR_GS_BASE:
		return &v->save.gs.base;
	case MSR_KERNEL_GS_BASE:
		return &v->save.kernel_gs_base;
	case MSR_STAR:
		return &v->save.star;
	case MSR_LSTAR:
		return &v->save.lstar;
	case MSR_CSTAR:
		return &v->save.cstar;
	case MSR_SFMASK:
		return &v->save.sfmask;
	case MSR_SYSENTER_CS:
		return &v->save.sysenter_cs;
	case MSR_SYSENTER_ESP:
		return &v->save.sysenter_esp;
	case MSR_SYSENTER_EIP:
		return &v->save.sysenter_eip;
	case MSR_PAT:
		return &v->save.g_pat;
	default:
		return NULL;
	}
}

static int svm_vp_get_msr(struct vp *vp, uint32_t msr, uint64_t *val)
{
	struct vmcb *v = ((struct svm_vp *)vp->vendor)->vmcb;
	uint64_t *slot = svm_msr_slot(v, msr);

	if (msr == MSR_TSC) {
		*val = rdtsc() + v->control.tsc_offset;
		return 0;
	}
	if (!slot)
		return -1;
	*val = *slot;
	return 0;
}

static int svm_vp_set_msr(struct vp *vp, uint32_t msr, uint64_t val)
{
	struct vmcb *v = ((struct svm_vp *)vp->vendor)->vmcb;
	uint64_t *slot = svm_msr_slot(v, msr);

	if (msr == MSR_TSC) {
		v->control.tsc_offset = val - rdtsc();
		return 0;
	}
	if (!slot)
		return -1;
	*slot = val;
	return 0;
}

static void svm_vp_inject(struct vp *vp, enum inject_type type, uint8_t vector,
			  bool has_error, uint32_t error)
{
	struct vmcb *v = ((struct svm_vp *)vp->vendor)->vmcb;
	uint64_t ev = vector | SVM_EVTINJ_VALID;

	switch (type) {
	case INJECT_EXTERNAL_INTERRUPT:
		ev |= SVM_EVTINJ_TYPE_INTR;
		break;
	case INJECT_NMI:
		ev |= SVM_EVTINJ_TYPE_NMI;
		break;
	case INJECT_EXCEPTION:
		ev |= SVM_EVTINJ_TYPE_EXEPT;
		if (has_error)
			ev |= SVM_EVTINJ_VALID_ERR | ((uint64_t)error << 32);
		break;
	}
	v->control.event_inj = ev;
}

static bool svm_vp_irq_window_open(struct vp *vp)
{
	struct vmcb *v = ((struct svm_vp *)vp->vendor)->vmcb;

	return (v->save.rflags & RFLAGS_IF) && !(v->control.interrupt_shadow & 1) &&
	       !(v->control.event_inj & SVM_EVTINJ_VALID);
}

/* A virtual interrupt request with the VINTR intercept exits as soon as
 * the guest could take an interrupt. */
static void svm_vp_request_irq_window(struct vp *vp)
{
	struct vmcb *v = ((struct svm_vp *)vp->vendor)->vmcb;

	v->control.vintr |= SVM_VINTR_V_IRQ | SVM_VINTR_IGN_TPR |
			    (0xfull << SVM_VINTR_PRIO_SHIFT);
	v->control.intercept_misc1 |= SVM_INTERCEPT_VINTR;
}

static void svm_vp_clear_irq_window(struct vp *vp)
{
	struct vmcb *v = ((struct svm_vp *)vp->vendor)->vmcb;

	v->control.vintr &= ~(SVM_VINTR_V_IRQ | SVM_VINTR_IGN_TPR |
			      (0xfull << SVM_VINTR_PRIO_SHIFT));
	v->control.intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
}

const struct virt_ops svm_ops = {
	.name = "svm",
	.hypercall_page = { 0x0f, 0x01, 0xd9, 0xc3 },  /* vmmcall; ret */
	.cpu_probe = svm_cpu_probe,
	.cpu_enable = svm_cpu_enable,
	.describe = svm_describe,
	.partition_init = svm_partition_init,
	.partition_destroy = svm_partition_destroy,
	.asids_in_use = svm_asids_in_use,
	.gpa_map = svm_gpa_map,
	.io_intercept = svm_io_intercept,
	.msr_intercept = svm_msr_intercept,
	.gpa_translate = svm_gpa_translate,
	.partition_flush_tlb = svm_partition_flush_tlb,
	.vp_init = svm_vp_init,
	.vp_destroy = svm_vp_destroy,
	.vp_get_reg = svm_vp_get_reg,
	.vp_set_reg = svm_vp_set_reg,
	.vp_set_context = svm_vp_set_context,
	.vp_run = svm_vp_run,
	.vp_read_regs = svm_vp_read_regs,
	.vp_set_rip = svm_vp_set_rip,
	.vp_get_efer = svm_vp_get_efer,
	.vp_set_efer = svm_vp_set_efer,
	.vp_get_msr = svm_vp_get_msr,
	.vp_set_msr = svm_vp_set_msr,
	.vp_inject = svm_vp_inject,
	.vp_irq_window_open = svm_vp_irq_window_open,
	.vp_request_irq_window = svm_vp_request_irq_window,
	.vp_clear_irq_window = svm_vp_clear_irq_window,
};
