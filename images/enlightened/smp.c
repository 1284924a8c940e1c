/*
 * More VPs ("vps=N" on the command line; the partition's config must say
 * `vps N` too: a child cannot ask how many VPs it has, HvCallGetVpIndex-
 * FromApicId answers by the CPUs' APIC ids, which a child does not see).
 *
 * The partition manager creates every VP, starts VP 0 at the image entry
 * and leaves the others in explicit suspend. VP 0 starts VP 1..N-1 with
 * HvCallStartVirtualProcessor in long mode with our own CR0/CR3/CR4,
 * EFER and IDT, each on a stack of its own with a GDT and TSS of its own
 * (as the root does for its APs, kernel/smp.c). Each runs smp_ap_main():
 * SMP_PORT_WRITES writes to port SMP_PORT, which no device of the
 * partition claims, so each one is an intercept the host completes (the
 * root in the microkernelized design, the hypervisor in the monolithic
 * one) before the VP goes on, and as many increments of its own counter;
 * then it reads HV_X64_MSR_VP_INDEX, says it is done, and halts with
 * interrupts off for good. It makes no hypercall and has no SynIC: the
 * hypercall parameter pages and the SynIC are VP 0's.
 *
 * VP 0 waits for them all (bounded, answering the heartbeat meanwhile),
 * then prints one TAP line per VP and one for the start call's refusals:
 * a VP already started gets HV_STATUS_INVALID_VP_STATE, index N (one past
 * the last) HV_STATUS_INVALID_VP_INDEX. N lines for vps=N, none for 1.
 */
#include <string.h>
#include "enlightened.h"
#include "x86/gdt.h"

#define SMP_MAX_VPS 16
#define SMP_PORT 0x80                   /* POST codes: nobody's here */
#define SMP_PORT_WRITES 2000
#define SMP_STACK_BYTES (16 * 1024)
#define SMP_IST_BYTES 4096
#define SMP_TIMEOUT_S 120               /* TCG with every write a round trip */
#define TSS_BUSY (0x2ull << 40)         /* type 0x9 -> 0xb */
#define RESET_PAT 0x0007040600070406ull /* what our PAT is: nobody changes it */

struct smp_vp {
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss64 tss __attribute__((aligned(16)));
	uint8_t *stack;
	uint16_t start_status;
	/* Written by the VP itself, read by VP 0. */
	volatile uint64_t writes;       /* port writes that completed */
	volatile uint64_t counter;      /* its own count */
	volatile uint64_t msr_vp_index;
	volatile uint32_t done;
} __attribute__((aligned(64)));

static struct smp_vp smp_vps[SMP_MAX_VPS];

/* The VP's first instruction: the stack holds its struct smp_vp (rsp is
 * 16-aligned, so the call leaves it as the ABI wants at a function's
 * entry). Nothing to return to: halt with interrupts off. */
extern const char smp_ap_entry[];
void smp_ap_main(struct smp_vp *v);
__asm__(".text\n"
	".globl smp_ap_entry\n"
	"smp_ap_entry:\n"
	"	movq (%rsp), %rdi\n"
	"	call smp_ap_main\n"
	"1:	cli\n"
	"	hlt\n"
	"	jmp 1b\n");

void smp_ap_main(struct smp_vp *v)
{
	for (unsigned i = 0; i < SMP_PORT_WRITES; i++) {
		outb(SMP_PORT, (uint8_t)i);
		v->writes++;
		v->counter++;
	}
	v->msr_vp_index = rdmsr(HV_X64_MSR_VP_INDEX);
	__atomic_store_n(&v->done, 1, __ATOMIC_RELEASE);
}

/* VP `v`'s tables: a GDT of its own whose TSS descriptor is busy (the VP
 * starts with TR loaded, as after ltr), its TSS's IST stacks. */
static bool smp_vp_setup(struct smp_vp *v)
{
	uint8_t *ist = page_alloc(3 * SMP_IST_BYTES);

	memset(v, 0, sizeof(*v));
	v->stack = page_alloc(SMP_STACK_BYTES);
	if (!v->stack || !ist)
		return false;
	v->tss.ist[IST_NMI - 1] = (uint64_t)ist + 1 * SMP_IST_BYTES;
	v->tss.ist[IST_DF - 1] = (uint64_t)ist + 2 * SMP_IST_BYTES;
	v->tss.ist[IST_MC - 1] = (uint64_t)ist + 3 * SMP_IST_BYTES;
	v->tss.iomap_base = sizeof(v->tss);
	gdt_build(v->gdt, &v->tss);
	v->gdt[GDT_TSS / 8] |= TSS_BUSY;
	return true;
}

/* 64-bit mode at smp_ap_entry, interrupts off, our CR3 and IDT. */
static void smp_context(struct smp_vp *v, struct hv_initial_vp_context *c)
{
	/* Attributes in the TLFS (VMX) layout: type, S, DPL, P, AVL, L, D/B, G. */
	const struct hv_x64_segment_register code = { 0, 0xffffffff, GDT_CODE64, 0xa09b };
	const struct hv_x64_segment_register data = { 0, 0xffffffff, GDT_DATA, 0xc093 };
	struct descriptor_table_ptr idtr;
	uint64_t rsp = (uint64_t)v->stack + SMP_STACK_BYTES - 16;

	*(uint64_t *)rsp = (uint64_t)v;
	__asm__ volatile("sidt %0" : "=m"(idtr));
	memset(c, 0, sizeof(*c));
	c->rip = (uint64_t)smp_ap_entry;
	c->rsp = rsp;
	c->rflags = 2;
	c->cs = code;
	c->ds = c->es = c->fs = c->gs = c->ss = data;
	c->tr = (struct hv_x64_segment_register){ (uint64_t)&v->tss,
		sizeof(v->tss) - 1, GDT_TSS, 0x008b };
	c->ldtr = (struct hv_x64_segment_register){ 0, 0, 0, 0x0082 };
	c->gdtr.base = (uint64_t)v->gdt;
	c->gdtr.limit = sizeof(v->gdt) - 1;
	c->idtr.base = idtr.base;
	c->idtr.limit = idtr.limit;
	c->efer = (rdmsr(MSR_EFER) & (EFER_SCE | EFER_NXE)) | EFER_LME | EFER_LMA;
	c->cr0 = read_cr0();
	c->cr3 = read_cr3();
	c->cr4 = read_cr4();
	c->msr_cr_pat = RESET_PAT;
}

static const char *status_name(uint16_t st)
{
	switch (st) {
	case HV_STATUS_SUCCESS: return "HV_STATUS_SUCCESS";
	case HV_STATUS_INVALID_VP_INDEX: return "HV_STATUS_INVALID_VP_INDEX";
	case HV_STATUS_INVALID_VP_STATE: return "HV_STATUS_INVALID_VP_STATE";
	case HV_STATUS_INVALID_PARAMETER: return "HV_STATUS_INVALID_PARAMETER";
	case HV_STATUS_INVALID_HYPERCALL_CODE: return "HV_STATUS_INVALID_HYPERCALL_CODE";
	case HV_STATUS_ACCESS_DENIED: return "HV_STATUS_ACCESS_DENIED";
	default: return "another status";
	}
}

static bool smp_all_done(unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		if (smp_vps[i].start_status == HV_STATUS_SUCCESS &&
		    !__atomic_load_n(&smp_vps[i].done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/* Until every started VP is done or SMP_TIMEOUT_S passed; the seconds. */
static uint64_t smp_wait(unsigned n)
{
	uint64_t t0 = hv_time_ref_100ns(), now = t0;
	bool wakes = enlightened_vmbus_heartbeat_open();

	while (!smp_all_done(n) && now - t0 < SMP_TIMEOUT_S * 10000000ull) {
		uint64_t seen = synic_irq_seq();

		enlightened_vmbus_service();
		if (smp_all_done(n))
			break;
		/* Halting leaves a shared CPU to the others; the heartbeat
		 * wakes us once a second. Without it nothing would. */
		if (wakes)
			synic_wait_event(seen, 1000);
		else
			for (unsigned i = 0; i < 10000; i++)
				cpu_relax();
		now = hv_time_ref_100ns();
	}
	return (hv_time_ref_100ns() - t0) / 10000000ull;
}

void enlightened_smp_tests(const char *skip)
{
	uint64_t want = cmdline_u64(boot.cmdline, "vps=", 1);
	unsigned n = want > SMP_MAX_VPS ? SMP_MAX_VPS : (unsigned)want;
	static struct hv_isovisor_exit_counters c;
	struct hv_initial_vp_context ctx;
	uint16_t again, past;
	uint64_t secs;

	if (n <= 1)
		return;
	if (want > n)
		kprint("# smp: vps=%lu: only %u VPs here", want, n);
	if (skip) {
		for (unsigned i = 1; i < n; i++)
			tap_result(true, "enlightened smp: VP %u # SKIP %s", i, skip);
		tap_result(true, "enlightened smp: start refusals # SKIP %s", skip);
		return;
	}
	for (unsigned i = 1; i < n; i++) {
		struct smp_vp *v = &smp_vps[i];

		if (!smp_vp_setup(v)) {
			v->start_status = HV_STATUS_INSUFFICIENT_MEMORY;
			continue;
		}
		smp_context(v, &ctx);
		v->start_status = hv_start_vp(i, &ctx);
	}
	secs = smp_wait(n);
	for (unsigned i = 1; i < n; i++) {
		struct smp_vp *v = &smp_vps[i];
		uint64_t io = 0;
		bool done = __atomic_load_n(&v->done, __ATOMIC_ACQUIRE);

		if (hv_exit_counters(i, &c) == HV_STATUS_SUCCESS)
			io = hv_exit_count(&c, "io");
		kprint("# smp: VP %u: start status %#x, done %s after %lu s, %lu port "
		       "writes, counter %lu, HV_X64_MSR_VP_INDEX %ld, hypervisor's "
		       "io exits %lu", i, v->start_status, done ? "yes" : "no", secs,
		       v->writes, v->counter, done ? (long)v->msr_vp_index : -1L, io);
		if (v->start_status == HV_STATUS_SUCCESS && done &&
		    v->writes == SMP_PORT_WRITES && v->counter == SMP_PORT_WRITES &&
		    v->msr_vp_index == i && io >= SMP_PORT_WRITES)
			tap_result(true, "enlightened smp: VP %u started with "
				   "HvCallStartVirtualProcessor, ran %u intercepted "
				   "port writes (VP index %lu)", i, SMP_PORT_WRITES,
				   v->msr_vp_index);
		else
			tap_result(false, "enlightened smp: VP %u: start %s (%#x), %s "
				   "after %lu s, %lu of %u port writes (%lu io exits), "
				   "counter %lu, VP index %ld", i,
				   status_name(v->start_status), v->start_status,
				   done ? "done" : "not done", secs, v->writes,
				   SMP_PORT_WRITES, io, v->counter,
				   done ? (long)v->msr_vp_index : -1L);
	}
	/* A VP that runs (or ran) cannot be started again; there is no VP N.
	 * Slot 0 (VP 0 is never started by us) holds the context's tables. */
	if (smp_vp_setup(&smp_vps[0])) {
		smp_context(&smp_vps[0], &ctx);
		again = hv_start_vp(1, &ctx);
		past = hv_start_vp(n, &ctx);
	} else {
		again = past = HV_STATUS_INSUFFICIENT_MEMORY;
	}
	tap_result(again == HV_STATUS_INVALID_VP_STATE &&
		   past == HV_STATUS_INVALID_VP_INDEX,
		   "enlightened smp: starting VP 1 again gets %s (%#x), VP index "
		   "%u gets %s (%#x)", status_name(again), again, n,
		   status_name(past), past);
}
