/*
 * Partition services for the microkernelized design: the root partition
 * serves drivers/partmgr.c with TLFS hypercalls, and runs the loop that
 * takes the children's intercept messages from its SynIC (SINT 0) and
 * keeps their device timers going with its own local APIC timer. While
 * it waits in HLT, the hypervisor runs the children on this CPU.
 *
 * The timer is tickless: it is armed only for the next real deadline
 * (partmgr_next_event_ns: the children's PIT and RTC, their timeouts, the
 * VMBus hosts' heartbeats and retries), the run's end, and a time slice
 * while one is needed (timer_slice_needed). A child that computes alone
 * runs until its next deadline, not for 1 ms at a time.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "root.h"
#include <isovisor/vmbus.h>
#include "partsvc.h"

#define SINT_VECTOR 0x51
#define TICK_VECTOR 0x52
#define VMBUS_VECTOR 0x54
/* The root's SINT for the children's VMBus messages and channel events. */
#define VMBUS_ROOT_SINT 4
/* Root port ids and event flags: drivers/partsvc.h. */
#define PORT_MSG                PARTSVC_PORT_MSG
#define PORT_EVT                PARTSVC_PORT_EVT
#define EVT_FLAG                PARTSVC_EVT_FLAG
/* The root's own connections into children start here (the SynIC
 * self-test uses 0x1001-0x1002). */
#define ROOT_CONN_BASE 0x4000u
#define MAX_OUT 512
/* APIC timer counts per ms when calibration fails: QEMU's 1 GHz / 16. */
#define TIMER_PER_MS_FALLBACK 62500
#define SLICE_NS 1000000ull             /* one VP's turn when others wait */
/* The longest the timer is armed for: the one-shot count is 32 bits
 * (at 1 GHz / 16 it lasts 68 s), and a wake a second costs nothing. */
#define TIMER_MAX_WAIT_NS 1000000000ull
#define MAP_BATCH 500                   /* GPA pages per MapGpaPages call */
#define RUN_SECONDS 3700                /* past the longest child timeout (3600 s) */

static struct hv_message simp[16] __attribute__((aligned(4096)));
static uint8_t in_page[4096] __attribute__((aligned(4096)));
static uint8_t out_page[4096] __attribute__((aligned(4096)));
static uint8_t bounce[4096] __attribute__((aligned(4096)));
static uint8_t siefp[4096] __attribute__((aligned(4096)));

/* The root's connections into children's ports (messages to a SINT,
 * events on a flag), made on first use and forgotten with the child. */
static struct out_conn {
	bool used;
	bool event;
	uint64_t id;
	uint8_t sint;
	uint32_t vp, flag;
	uint32_t conn;
} out_conns[MAX_OUT];
static uint32_t next_conn = ROOT_CONN_BASE;

static uint16_t call(uint16_t code, unsigned reps)
{
	return hv_status(hv_hypercall(code | ((uint64_t)reps << 32),
				      (uint64_t)in_page, (uint64_t)out_page));
}

/* ---- the root scheduler (HvCallDispatchVp) ----------------------------------
 * Each child VP gets an intercept page and a register page; the loop
 * below runs the ready ones in turn with one DispatchVp each, which comes
 * back with an intercept (handled at once, completed by the next
 * dispatch through the register page), a halt, or an interrupt of ours.
 * A VP whose pages the hypervisor refuses (the monolithic design, or a
 * VP on another CPU with `spread`) or the root's "hvsched" word keeps the
 * SynIC path: intercepts on SINT 0, run by the hypervisor while we idle.
 */
#define MAX_DVPS 512
static struct dvp {
	bool used;
	bool ready;                     /* worth a dispatch */
	bool in_intercept;              /* its message is being handled */
	bool complete;                  /* answered: clear the suspend */
	uint64_t id;
	uint32_t vp;
	struct hv_isovisor_intercept_page *ip;
	struct hv_vp_register_page *rp;
} dvps[MAX_DVPS];
static unsigned dvp_top, dvp_next;     /* slots in use below dvp_top; round robin */
static unsigned dvp_used;              /* slots in use */
static struct dvp *dvp_current;        /* the one last dispatched */
static bool dispatch_off, dispatch_refused_logged;

/* Child VPs the hypervisor schedules (the SynIC path), per partition:
 * they run while we halt, and only our interrupts preempt them, so while
 * any exists our timer keeps a time slice going. */
#define MAX_HVSCHED 64
static struct hvsched_part {
	uint64_t id;
	unsigned vps;
} hvsched[MAX_HVSCHED];
static unsigned hvsched_vps;           /* their sum */

static void hvsched_add(uint64_t id)
{
	struct hvsched_part *free = NULL;

	hvsched_vps++;
	for (unsigned i = 0; i < MAX_HVSCHED; i++) {
		if (hvsched[i].vps && hvsched[i].id == id) {
			hvsched[i].vps++;
			return;
		}
		if (!hvsched[i].vps && !free)
			free = &hvsched[i];
	}
	/* No room: never forgotten, so the slice stays on (safe side). */
	if (free)
		*free = (struct hvsched_part){ id, 1 };
}

static void hvsched_forget(uint64_t id)
{
	for (unsigned i = 0; i < MAX_HVSCHED; i++)
		if (hvsched[i].vps && hvsched[i].id == id) {
			hvsched_vps -= hvsched[i].vps;
			hvsched[i].vps = 0;
		}
}

static uint16_t map_state_page(uint64_t id, uint32_t vp, uint32_t type, void *page)
{
	struct hv_input_map_vp_state_page *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->partition_id = id;
	in->vp_index = vp;
	in->type = type;
	in->root_gpa_page = (uint64_t)page >> 12;
	return hv_status(hv_hypercall(HVCALL_MAP_VP_STATE_PAGE, (uint64_t)in_page,
				      (uint64_t)out_page));
}

static void dvp_free(struct dvp *d)
{
	if (d->used)
		dvp_used--;
	if (d->ip)
		pmm_free(&root_pmm, (uint64_t)d->ip);
	if (d->rp)
		pmm_free(&root_pmm, (uint64_t)d->rp);
	memset(d, 0, sizeof(*d));
}

/* Put a new (not yet started) VP under the root scheduler, if we can. */
static void dvp_attach(uint64_t id, uint32_t vp)
{
	struct dvp *d = NULL;
	uint16_t st;

	if (dispatch_off) {
		hvsched_add(id);
		return;
	}
	for (unsigned i = 0; i < MAX_DVPS && !d; i++)
		if (!dvps[i].used)
			d = &dvps[i];
	if (!d) {
		klog("partsvc: root scheduler full (%u VPs): partition %lu vp %u "
		     "uses the SynIC path", MAX_DVPS, id, vp);
		hvsched_add(id);
		return;
	}
	d->ip = (void *)pmm_alloc(&root_pmm);
	d->rp = (void *)pmm_alloc(&root_pmm);
	if (!d->ip || !d->rp) {
		dvp_free(d);
		hvsched_add(id);
		return;
	}
	st = map_state_page(id, vp, HV_VP_STATE_PAGE_INTERCEPT_MESSAGE, d->ip);
	if (st) {
		if (!dispatch_refused_logged)
			klog("partsvc: the hypervisor keeps scheduling partition %lu vp %u "
			     "(MapVpStatePage: status %#x): its intercepts come on SINT 0",
			     id, vp, st);
		dispatch_refused_logged = true;
		dvp_free(d);
		hvsched_add(id);
		return;
	}
	if (map_state_page(id, vp, HV_VP_STATE_PAGE_REGISTERS, d->rp)) {
		/* The intercept page is the hypervisor's now; without a register
		 * page the answers go by SetVpRegisters. */
		pmm_free(&root_pmm, (uint64_t)d->rp);
		d->rp = NULL;
	}
	d->used = d->ready = true;
	dvp_used++;
	d->id = id;
	d->vp = vp;
	if ((unsigned)(d - dvps) >= dvp_top)
		dvp_top = (unsigned)(d - dvps) + 1;
}

/* After DeletePartition: the hypervisor gave the pages back. */
static void dvp_forget(uint64_t id)
{
	hvsched_forget(id);
	for (unsigned i = 0; i < dvp_top; i++)
		if (dvps[i].used && dvps[i].id == id)
			dvp_free(&dvps[i]);
	if (dvp_current && !dvp_current->used)
		dvp_current = NULL;
}

static struct dvp *dvp_find(uint64_t id, uint32_t vp)
{
	if (dvp_current && dvp_current->id == id && dvp_current->vp == vp)
		return dvp_current;
	for (unsigned i = 0; i < dvp_top; i++)
		if (dvps[i].used && dvps[i].id == id && dvps[i].vp == vp)
			return &dvps[i];
	return NULL;
}

/* The answer to an intercept, into the register page: true when every
 * register has a place there (general registers, RIP, RFLAGS, and the
 * suspend the next dispatch clears). */
static bool dvp_answer(struct dvp *d, const struct hv_register_assoc *r, unsigned n)
{
	struct hv_vp_register_page *rp = d->rp;
	uint32_t dirty = 0;
	bool resume = false;

	if (!rp || !d->in_intercept || !rp->isvalid)
		return false;
	for (unsigned i = 0; i < n; i++) {
		uint32_t name = r[i].name;

		if (name == HV_REGISTER_INTERCEPT_SUSPEND && r[i].value.reg64 == 0)
			continue;
		if (!(name >= HV_X64_REGISTER_RAX && name <= HV_X64_REGISTER_RFLAGS))
			return false;
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t name = r[i].name;
		uint64_t v = r[i].value.reg64;

		if (name == HV_REGISTER_INTERCEPT_SUSPEND) {
			resume = true;
		} else if (name == HV_X64_REGISTER_RIP) {
			rp->rip = v;
			dirty |= 1u << HV_X64_REGISTER_CLASS_IP;
		} else if (name == HV_X64_REGISTER_RFLAGS) {
			rp->rflags = v;
			dirty |= 1u << HV_X64_REGISTER_CLASS_FLAGS;
		} else {
			rp->gp[name - HV_X64_REGISTER_RAX] = v;
			dirty |= 1u << HV_X64_REGISTER_CLASS_GENERAL;
		}
	}
	rp->dirty |= dirty;
	if (resume) {
		d->in_intercept = false;
		d->complete = true;
	}
	return true;
}

/* Run one VP once; an intercept it comes back with is handled here. */
static void dvp_run(struct dvp *d)
{
	struct hv_input_dispatch_vp *in = (void *)in_page;
	struct hv_output_dispatch_vp *out = (void *)out_page;
	uint16_t st;

	in->partition_id = d->id;
	in->vp_index = d->vp;
	in->flags = d->complete ? HV_DISPATCH_VP_FLAG_CLEAR_INTERCEPT_SUSPEND : 0;
	in->time_slice = 0;
	in->spec_ctrl = 0;
	d->complete = false;
	dvp_current = d;
	st = call(HVCALL_DISPATCH_VP, 0);
	if (st) {
		klog("partsvc: DispatchVp of partition %lu vp %u failed (status %#x); "
		     "it waits for a signal", d->id, d->vp, st);
		d->ready = false;
		return;
	}
	if (out->dispatch_event == HV_VP_DISPATCH_EVENT_INTERCEPT) {
		d->in_intercept = true;
		partmgr_message(&d->ip->message);
		/* Not answered (the child was stopped): not run again. */
		if (d->in_intercept)
			d->ready = false;
	} else if (out->dispatch_state == HV_VP_DISPATCH_STATE_BLOCKED) {
		d->ready = false;
		if (__atomic_exchange_n(&d->ip->signal, 0, __ATOMIC_ACQ_REL))
			d->ready = true;
	} else {
		/* An interrupt of ours ended it: take it. */
		__asm__ volatile("sti; nop; cli" ::: "memory");
	}
}

/* One dispatch of the next ready VP, round robin: false when none is. */
static bool dispatch_one(void)
{
	for (unsigned k = 0; k < dvp_top; k++) {
		unsigned i = (dvp_next + k) % dvp_top;
		struct dvp *d = &dvps[i];

		if (!d->used)
			continue;
		if (!d->ready && !d->in_intercept &&
		    __atomic_load_n(&d->ip->signal, __ATOMIC_ACQUIRE) &&
		    __atomic_exchange_n(&d->ip->signal, 0, __ATOMIC_ACQ_REL))
			d->ready = true;
		if (!d->ready)
			continue;
		dvp_next = i + 1;
		dvp_run(d);
		return true;
	}
	return false;
}

/* The children's APIC timers: a VP that is not ready becomes ready when
 * the expiry its intercept page names has come; the earliest one still
 * to come bounds `next` (the time our timer is armed for). */
static uint64_t dvp_timers(uint64_t now, uint64_t next)
{
	for (unsigned i = 0; i < dvp_top; i++) {
		struct dvp *d = &dvps[i];
		uint64_t w;

		if (!d->used || d->in_intercept)
			continue;
		w = __atomic_load_n(&d->ip->wake_tsc, __ATOMIC_ACQUIRE);
		if (!w)
			continue;
		if (now >= w)
			d->ready = true;
		else if (w < next)
			next = w;
	}
	return next;
}

/* Ready to run, or signalled so (dispatch_one would run it). */
static bool dvp_wants_cpu(const struct dvp *d)
{
	return d->used && (d->ready || (!d->in_intercept &&
		__atomic_load_n(&d->ip->signal, __ATOMIC_ACQUIRE)));
}

/* A time slice is needed while VPs share this CPU: two or more ready to
 * be dispatched (the one running keeps it until our interrupt), or any
 * the hypervisor runs while we halt. */
static inline bool timer_slice_needed(void)
{
	unsigned ready = 0;

	if (hvsched_vps)
		return true;
	if (dvp_used < 2)
		return false;           /* the common case, at no cost */
	for (unsigned i = 0; i < dvp_top && ready < 2; i++)
		ready += dvp_wants_cpu(&dvps[i]);
	return ready >= 2;
}

static uint16_t call_id(uint16_t code, uint64_t id)
{
	memset(in_page, 0, 64);
	memcpy(in_page, &id, 8);
	return call(code, 0);
}

static int svc_create(const char *name, unsigned nvps, uint64_t *id)
{
	struct hv_input_create_vp *vin = (void *)in_page;

	memset(in_page, 0, 64);
	if (call(HVCALL_CREATE_PARTITION, 0))
		return -1;
	memcpy(id, out_page, 8);
	memset(in_page, 0, 64);
	memcpy(in_page, id, 8);
	memcpy(in_page + 8, name, strnlen(name, 15));
	if (call(HVCALL_ISOVISOR_SET_PARTITION_NAME, 0))
		goto undo;
	if (call_id(HVCALL_INITIALIZE_PARTITION, *id))
		goto undo;
	for (unsigned i = 0; i < nvps; i++) {
		memset(in_page, 0, sizeof(*vin));
		vin->partition_id = *id;
		vin->vp_index = i;
		if (call(HVCALL_CREATE_VP, 0))
			goto undo;
		dvp_attach(*id, i);
	}
	return 0;
undo:
	if (call_id(HVCALL_DELETE_PARTITION, *id) == 0)
		dvp_forget(*id);
	return -1;
}

static int svc_give_memory(uint64_t id, uint64_t gpa, uint64_t bytes)
{
	struct hv_input_map_gpa_pages *in = (void *)in_page;
	uint64_t pages = bytes >> 12;

	for (uint64_t done = 0; done < pages;) {
		unsigned n = pages - done < MAP_BATCH ? (unsigned)(pages - done) : MAP_BATCH;

		memset(in_page, 0, sizeof(*in));
		in->target_partition_id = id;
		in->target_gpa_base = (gpa >> 12) + done;
		in->map_flags = HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE |
				HV_MAP_GPA_EXECUTABLE;
		for (unsigned i = 0; i < n; i++) {
			uint64_t pa = pmm_alloc(&root_pmm);

			if (!pa)
				return -1;
			in->source_gpa_page_list[i] = pa >> 12;
		}
		if (call(HVCALL_MAP_GPA_PAGES, n))
			return -1;
		done += n;
	}
	return 0;
}

static int copy(uint16_t code, uint64_t id, uint64_t gpa, uint64_t len)
{
	struct hv_isovisor_copy_to_child *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->partition_id = id;
	in->child_gpa = gpa;
	in->root_gpa = (uint64_t)bounce;
	in->bytes = len;
	return call(code, 0) ? -1 : 0;
}

static int svc_copy_to(uint64_t id, uint64_t gpa, const void *src, uint64_t len)
{
	while (len) {
		uint64_t n = len < 4096 ? len : 4096;

		memcpy(bounce, src, n);
		if (copy(HVCALL_ISOVISOR_COPY_TO_CHILD, id, gpa, n))
			return -1;
		gpa += n;
		src = (const uint8_t *)src + n;
		len -= n;
	}
	return 0;
}

static int svc_copy_from(uint64_t id, uint64_t gpa, void *dst, uint64_t len)
{
	while (len) {
		uint64_t n = len < 4096 ? len : 4096;

		if (copy(HVCALL_ISOVISOR_COPY_FROM_CHILD, id, gpa, n))
			return -1;
		memcpy(dst, bounce, n);
		gpa += n;
		dst = (uint8_t *)dst + n;
		len -= n;
	}
	return 0;
}

static uint64_t svc_gva_to_gpa(uint64_t id, uint32_t vp, uint64_t gva)
{
	struct hv_input_translate_virtual_address *in = (void *)in_page;
	struct hv_output_translate_virtual_address *out = (void *)out_page;

	memset(in_page, 0, sizeof(*in));
	in->partition_id = id;
	in->vp_index = vp;
	in->gva_page = gva >> 12;
	if (call(HVCALL_TRANSLATE_VIRTUAL_ADDRESS, 0) ||
	    out->result_code != HV_TRANSLATE_GVA_SUCCESS)
		return (uint64_t)-1;
	return (out->gpa_page << 12) | (gva & 0xfff);
}

static int svc_set_regs(uint64_t id, uint32_t vp, const struct hv_register_assoc *r,
			unsigned n)
{
	struct hv_input_vp_registers *in = (void *)in_page;
	struct dvp *d = dvp_top ? dvp_find(id, vp) : NULL;

	/* An intercept's answer to a root-scheduled VP: no hypercall. */
	if (d && dvp_answer(d, r, n))
		return 0;
	memset(in_page, 0, sizeof(*in));
	in->partition_id = id;
	in->vp_index = vp;
	memcpy(in_page + sizeof(*in), r, n * sizeof(*r));
	if (call(HVCALL_SET_VP_REGISTERS, n))
		return -1;
	if (d)
		for (unsigned i = 0; i < n; i++)
			if (r[i].name == HV_REGISTER_INTERCEPT_SUSPEND && !r[i].value.reg64) {
				d->in_intercept = false;
				d->ready = true;
			}
	return 0;
}

static int svc_get_regs(uint64_t id, uint32_t vp, const uint32_t *names,
			uint64_t *values, unsigned n)
{
	struct hv_input_vp_registers *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->partition_id = id;
	in->vp_index = vp;
	memcpy(in_page + sizeof(*in), names, n * sizeof(*names));
	if (call(HVCALL_GET_VP_REGISTERS, n))
		return -1;
	for (unsigned i = 0; i < n; i++)
		memcpy(&values[i], out_page + 16 * i, 8);
	return 0;
}

static int svc_assert_irq(uint64_t id, uint32_t vp, uint8_t vector)
{
	struct hv_input_assert_virtual_interrupt *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->partition_id = id;
	in->dest_address = vp;
	in->vector = vector;
	/* The 8259's: the child takes it through LINT0 (ExtINT); refused
	 * (HV_STATUS_INVALID_VP_STATE) while its LINT0 is masked. */
	in->interrupt_type = HV_INTERRUPT_TYPE_EXTINT;
	return call(HVCALL_ASSERT_VIRTUAL_INTERRUPT, 0) ? -1 : 0;
}

static int svc_assert_apic(uint64_t id, uint8_t vector, uint8_t mode, bool logical,
			   uint8_t dest, bool level)
{
	struct hv_input_assert_virtual_interrupt *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->partition_id = id;
	in->interrupt_type = mode == 1 ? HV_INTERRUPT_TYPE_LOWESTPRIORITY :
					 HV_INTERRUPT_TYPE_FIXED;
	in->control = (level ? HV_INTERRUPT_CONTROL_LEVEL : 0) |
		      (logical ? HV_INTERRUPT_CONTROL_LOGICAL : 0);
	in->dest_address = dest;
	in->vector = vector;
	return call(HVCALL_ASSERT_VIRTUAL_INTERRUPT, 0) ? -1 : 0;
}

static int svc_destroy(uint64_t id)
{
	for (unsigned i = 0; i < MAX_OUT; i++)
		if (out_conns[i].id == id)
			out_conns[i].used = false;
	if (call_id(HVCALL_DELETE_PARTITION, id))
		return -1;
	dvp_forget(id);
	return 0;
}

static void svc_console_line(const char *source, const char *text, size_t len)
{
	struct hv_isovisor_console_line *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	memcpy(in->source, source, strnlen(source, sizeof(in->source) - 1));
	in->length = (uint32_t)(len < sizeof(in->text) ? len : sizeof(in->text));
	memcpy(in->text, text, in->length);
	call(HVCALL_ISOVISOR_CONSOLE_LINE, 0);
}

static void svc_log(const char *text)
{
	klog("%s", text);
}

static void svc_tap(bool ok, const char *text)
{
	tap_result(ok, "%s", text);
}

static uint64_t svc_now_ns(void)
{
	return tsc_ns();
}

static const void *svc_module(const char *word, size_t *len)
{
	const struct mb2_module *m = mb2_find_module(&boot.mb2, word);

	if (!m)
		return NULL;
	*len = m->end - m->start;
	return (const void *)(uint64_t)m->start;
}

static void *svc_alloc(uint64_t bytes)
{
	uint64_t pa = pmm_alloc_contig(&root_pmm, (bytes + 4095) / 4096, 4096);

	if (!pa)
		return NULL;
	memset((void *)pa, 0, bytes);
	return (void *)pa;
}


/* ---- the synthetic path: ports, connections, shared pages ---------------- */

static uint16_t create_port(uint64_t owner, uint32_t port_id, uint64_t connector,
			    uint32_t type, uint8_t sint, uint32_t vp,
			    uint16_t base_flag, uint16_t flags)
{
	struct hv_input_create_port *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->port_partition_id = owner;
	in->port_id = port_id;
	in->connection_partition_id = connector;
	in->port_info.port_type = type;
	in->port_info.target_sint = sint;
	in->port_info.target_vp = vp;
	in->port_info.base_flag_number = base_flag;
	in->port_info.flag_count = flags;
	return call(HVCALL_CREATE_PORT, 0);
}

static uint16_t connect_port(uint64_t from, uint32_t conn, uint64_t owner,
			     uint32_t port_id, uint32_t type)
{
	struct hv_input_connect_port *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->connection_partition_id = from;
	in->connection_id = conn;
	in->port_partition_id = owner;
	in->port_id = port_id;
	in->port_type = type;
	return call(HVCALL_CONNECT_PORT, 0);
}

static int port_credit(uint32_t port_id, unsigned op)
{
	return hv_status(hv_hypercall(HVCALL_ISOVISOR_PORT_CREDIT | HV_HYPERCALL_FAST_BIT,
				      port_id | (uint64_t)op << 32, 0)) ? -1 : 0;
}

static int svc_vmbus_attach(uint64_t id, unsigned slot)
{
	if (create_port(HV_PARTITION_ID_SELF, PORT_MSG(slot), id, HV_PORT_TYPE_MESSAGE,
			VMBUS_ROOT_SINT, 0, 0, 0) ||
	    connect_port(id, VMBUS_MESSAGE_CONNECTION_ID, HV_PARTITION_ID_SELF,
			 PORT_MSG(slot), HV_PORT_TYPE_MESSAGE) ||
	    connect_port(id, VMBUS_MESSAGE_CONNECTION_ID_4, HV_PARTITION_ID_SELF,
			 PORT_MSG(slot), HV_PORT_TYPE_MESSAGE) ||
	    port_credit(PORT_MSG(slot), HV_ISOVISOR_PORT_CREDIT_ON))
		return -1;
	return 0;
}

static void svc_vmbus_msg_done(unsigned slot)
{
	port_credit(PORT_MSG(slot), HV_ISOVISOR_PORT_CREDIT_RETURN);
}

static int svc_vmbus_event_in(uint64_t id, unsigned slot, uint32_t conn, uint32_t relid)
{
	if (relid >= PARTSVC_VMBUS_RELIDS || slot >= PARTSVC_VMBUS_SLOTS)
		return -1;
	if (create_port(HV_PARTITION_ID_SELF, PORT_EVT(slot, relid), id, HV_PORT_TYPE_EVENT,
			VMBUS_ROOT_SINT, 0, (uint16_t)EVT_FLAG(slot, relid), 1) ||
	    connect_port(id, conn, HV_PARTITION_ID_SELF, PORT_EVT(slot, relid),
			 HV_PORT_TYPE_EVENT))
		return -1;
	return 0;
}

/* The root's connection to the child's port for (sint, vp[, flag]),
 * made the first time: port ids in the child are 0x10000 + sint * 16 +
 * vp for messages and 0x20000 + flag for events. 0 on failure. */
static uint32_t out_conn(uint64_t id, bool event, uint8_t sint, uint32_t vp, uint32_t flag)
{
	struct out_conn *free = NULL;
	uint32_t port;

	for (unsigned i = 0; i < MAX_OUT; i++) {
		struct out_conn *o = &out_conns[i];

		if (o->used && o->id == id && o->event == event && o->sint == sint &&
		    o->vp == vp && o->flag == flag)
			return o->conn;
		if (!o->used && !free)
			free = o;
	}
	if (!free || sint >= HV_SYNIC_SINT_COUNT || vp >= 16 || flag >= HV_EVENT_FLAGS_PER_SINT)
		return 0;
	port = event ? 0x20000u + flag : 0x10000u + sint * 16u + vp;
	if (create_port(id, port, HV_PARTITION_ID_SELF,
			event ? HV_PORT_TYPE_EVENT : HV_PORT_TYPE_MESSAGE, sint, vp,
			event ? (uint16_t)flag : 0, event ? 1 : 0) ||
	    connect_port(HV_PARTITION_ID_SELF, next_conn, id, port,
			 event ? HV_PORT_TYPE_EVENT : HV_PORT_TYPE_MESSAGE))
		return 0;
	*free = (struct out_conn){ true, event, id, sint, vp, flag, next_conn++ };
	return free->conn;
}

static int svc_vmbus_post(uint64_t id, unsigned slot, uint8_t sint, uint32_t vp,
			  const void *msg, size_t len)
{
	struct hv_input_post_message *in = (void *)in_page;
	uint32_t conn = out_conn(id, false, sint, vp, 0);

	if (!conn || len > sizeof(in->payload))
		return -1;
	memset(in_page, 0, sizeof(*in));
	in->connection_id = conn;
	in->message_type = 1;
	in->payload_size = (uint32_t)len;
	memcpy(in->payload, msg, len);
	return call(HVCALL_POST_MESSAGE, 0) ? -1 : 0;
}

static int svc_vmbus_signal(uint64_t id, unsigned slot, uint8_t sint, uint32_t vp,
			    uint32_t flag)
{
	uint32_t conn = out_conn(id, true, sint, vp, flag);

	if (!conn)
		return -1;
	return hv_status(hv_hypercall(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST_BIT,
				      conn, 0)) ? -1 : 0;
}

static void *svc_map_page(uint64_t id, uint64_t pfn)
{
	uint64_t *in = (void *)in_page, *out = (void *)out_page;

	in[0] = id;
	in[1] = pfn;
	if (call(HVCALL_ISOVISOR_MAP_CHILD_PAGES, 1))
		return NULL;
	return (void *)out[0];          /* the root's identity map covers it */
}

static void svc_unmap_page(uint64_t id, void *page)
{
	uint64_t *in = (void *)in_page;

	in[0] = id;
	in[1] = (uint64_t)page;
	if (call(HVCALL_ISOVISOR_UNMAP_CHILD_PAGES, 1))
		klog("partsvc: unmapping child page %p failed", page);
}

/* One hypercall for a whole request's pages (a storvsp transfer). */
static int svc_dma_pages(uint64_t id, const uint64_t *pfns, unsigned n, uint64_t *phys)
{
	uint64_t *in = (void *)in_page;

	if (n > PARTSVC_DMA_PAGES)
		return -1;
	in[0] = id;
	memcpy(in + 1, pfns, (size_t)n * 8);
	if (call(HVCALL_ISOVISOR_GET_CHILD_DMA_PAGES, n))
		return -1;
	memcpy(phys, out_page, (size_t)n * 8);
	return 0;
}

static const struct partsvc root_partsvc = {
	.create = svc_create,
	.give_memory = svc_give_memory,
	.copy_to = svc_copy_to,
	.copy_from = svc_copy_from,
	.gva_to_gpa = svc_gva_to_gpa,
	.set_regs = svc_set_regs,
	.get_regs = svc_get_regs,
	.assert_irq = svc_assert_irq,
	.assert_apic = svc_assert_apic,
	.destroy = svc_destroy,
	.console_line = svc_console_line,
	.log = svc_log,
	.tap = svc_tap,
	.now_ns = svc_now_ns,
	.module = svc_module,
	.alloc = svc_alloc,
	.vmbus_attach = svc_vmbus_attach,
	.vmbus_msg_done = svc_vmbus_msg_done,
	.vmbus_event_in = svc_vmbus_event_in,
	.vmbus_post = svc_vmbus_post,
	.vmbus_signal = svc_vmbus_signal,
	.map_page = svc_map_page,
	.unmap_page = svc_unmap_page,
	.dma_pages = svc_dma_pages,
	.phys_disk = root_phys_disk,
	.phys_nic = root_phys_nic,
};

static void sint_handler(struct cpu_regs *r)
{
	/* Auto-EOI: the message page is read by the loop. */
}

/* ---- the tickless timer ----------------------------------------------------
 * One one-shot LAPIC timer, armed for the earliest deadline we know of.
 * It is re-armed only when a deadline earlier than the armed one appears
 * or after it fired: each arming is three APIC stores, each an exit. It
 * ends a dispatch or a halt; the loop then compares the clock with the
 * deadlines itself, so an interrupt that comes early, late or for
 * another reason does no harm. */
static struct {
	uint32_t per_ms;                /* APIC timer counts per ms (calibrated) */
	uint64_t tsc_per_ms;
	uint64_t armed;                 /* TSC when it fires; UINT64_MAX: not armed */
	volatile bool fired;
	volatile uint64_t interrupts;
	uint64_t passes;                /* partmgr_tick() runs */
	/* partmgr_next_event_ns's last answer, and it on the TSC. */
	uint64_t next_ns, next_tsc;
} timer = { .armed = UINT64_MAX, .next_ns = UINT64_MAX, .next_tsc = UINT64_MAX };

static void tick_handler(struct cpu_regs *r)
{
	timer.fired = true;
	timer.interrupts++;
	apic_eoi();
}

static void timer_calibrate(void)
{
	uint32_t per_ms = apic_timer_calibrate(tsc_khz());

	if (per_ms < 1000) {
		klog("timer: the APIC timer did not count against the TSC (%u per ms); "
		     "assuming %u per ms", per_ms, TIMER_PER_MS_FALLBACK);
		per_ms = TIMER_PER_MS_FALLBACK;
	}
	/* 1/256 faster than measured, so a wait ends after its deadline
	 * rather than a little before it (which would cost a second
	 * interrupt for the rest). */
	timer.per_ms = per_ms + per_ms / 256;
	timer.tsc_per_ms = tsc_khz() ? tsc_khz() : 1000000;
}

/* A time on tsc_ns()'s clock as a TSC value, rounded up: the loop works
 * on the TSC, so a pass costs no division. */
static uint64_t ns_to_tsc(uint64_t ns)
{
	uint64_t ms = ns / 1000000, rest = ns % 1000000, k = timer.tsc_per_ms;

	if (ns == UINT64_MAX || ms > (UINT64_MAX - k) / k)
		return UINT64_MAX;
	return ms * k + (rest * k + 999999) / 1000000;
}

/* The TSC at which partmgr_tick() has work next. */
static inline uint64_t next_event_tsc(void)
{
	uint64_t ns = partmgr_next_event_ns();

	if (ns != timer.next_ns) {
		timer.next_ns = ns;
		timer.next_tsc = ns_to_tsc(ns);
	}
	return timer.next_tsc;
}

static void __attribute__((noinline)) timer_program(uint64_t now, uint64_t when)
{
	uint64_t wait, max = timer.tsc_per_ms * (TIMER_MAX_WAIT_NS / 1000000), count;

	wait = when > now ? when - now : 0;
	if (wait > max)
		wait = max;
	/* Rounded up; at least 1 (0 stops the timer). Cannot overflow:
	 * wait is at most a second of TSC cycles (< 2^34 below 16 GHz),
	 * per_ms < 2^32. */
	count = (wait * timer.per_ms + timer.tsc_per_ms - 1) / timer.tsc_per_ms + 1;
	if (count > UINT32_MAX)
		count = UINT32_MAX;
	apic_timer_oneshot(TICK_VECTOR, (uint32_t)count);
	timer.armed = now + wait;
}

/* Arm the timer for TSC `when` unless it is armed for no later already:
 * the loop's every pass comes here, and almost always goes on at once. */
static inline void timer_arm(uint64_t now, uint64_t when)
{
	if (timer.fired) {
		timer.fired = false;
		timer.armed = UINT64_MAX;
	}
	if (when < timer.armed)
		timer_program(now, when);
}

void partsvc_wake_within_us(uint64_t us)
{
	uint64_t now;

	if (!timer.tsc_per_ms)
		return;                 /* the loop's timer is not running yet */
	now = rdtsc();
	timer_arm(now, now + us * timer.tsc_per_ms / 1000);
}

/* Give a SINT's slot back; EOM only when the hypervisor said another
 * message waits (MessagePending), as Linux does: the type is cleared
 * before the flag is read, and a message posted after that read finds
 * the slot free (the hypervisor re-checks the slot after setting the
 * flag). Saves an MSR exit per message. */
static void free_slot(struct hv_message *m)
{
	__atomic_store_n(&m->header.message_type, HVMSG_NONE, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&m->header.message_flags, __ATOMIC_SEQ_CST) &
	    HV_MESSAGE_FLAG_PENDING)
		wrmsr(HV_X64_MSR_EOM, 0);
}

/* Take the message in SINT 0's slot, if any. */
static bool take_message(void)
{
	struct hv_message *m = &simp[HV_SYNIC_INTERCEPTION_SINT_INDEX];
	static struct hv_message copy_out;

	if (__atomic_load_n(&m->header.message_type, __ATOMIC_ACQUIRE) == HVMSG_NONE)
		return false;
	/* Copy it out and free the slot before acting on it. */
	copy_out = *m;
	free_slot(m);
	partmgr_message(&copy_out);
	return true;
}

/* Take the VMBus message waiting in SINT 4's slot, if any: the sender's
 * port names the child. */
static bool take_vmbus_message(void)
{
	struct hv_message *m = &simp[VMBUS_ROOT_SINT];
	static struct hv_message copy_out;
	uint32_t port;

	if (__atomic_load_n(&m->header.message_type, __ATOMIC_ACQUIRE) == HVMSG_NONE)
		return false;
	copy_out = *m;
	free_slot(m);
	port = (uint32_t)copy_out.header.sender;
	if (port - PORT_MSG(0) < PARTSVC_VMBUS_SLOTS && copy_out.header.payload_size <= HV_MESSAGE_PAYLOAD_BYTES)
		partmgr_vmbus_message(port - PORT_MSG(0), copy_out.payload,
				      copy_out.header.payload_size);
	return true;
}

/* Channel events: each set flag of SINT 4, cleared as it is taken. */
static bool take_vmbus_events(void)
{
	uint64_t *flags = (uint64_t *)(siefp + VMBUS_ROOT_SINT * (HV_EVENT_FLAGS_PER_SINT / 8));
	bool any = false;

	for (unsigned w = 0; w < PARTSVC_VMBUS_SLOTS * PARTSVC_VMBUS_RELIDS / 64; w++) {
		uint64_t v;

		/* A plain look first: a locked exchange of every word on
		 * every pass of the loop cost more than the intercepts. */
		if (!__atomic_load_n(&flags[w], __ATOMIC_RELAXED))
			continue;
		v = __atomic_exchange_n(&flags[w], 0, __ATOMIC_ACQ_REL);

		while (v) {
			unsigned bit = (unsigned)__builtin_ctzll(v), flag = w * 64 + bit;

			v &= v - 1;
			partmgr_vmbus_event(flag / PARTSVC_VMBUS_RELIDS,
					    flag % PARTSVC_VMBUS_RELIDS);
			any = true;
		}
	}
	return any;
}

void partmgr_run(void)
{
	uint64_t start, end, slice;

	if (!boot.hv) {
		if (svc_module("config", &(size_t){ 0 }))
			tap_skip("native boot", "root partitions: the config's partitions "
				 "need the hypervisor");
		return;
	}
	dispatch_off = cmdline_has(boot.cmdline, "hvsched");
	irq_set_handler(SINT_VECTOR, sint_handler);
	irq_set_handler(TICK_VECTOR, tick_handler);
	wrmsr(HV_X64_MSR_SIMP, (uint64_t)simp | HV_SYNIC_SIMP_ENABLE);
	wrmsr(HV_X64_MSR_SINT0, SINT_VECTOR | HV_SYNIC_SINT_AUTO_EOI);
	irq_set_handler(VMBUS_VECTOR, sint_handler);
	wrmsr(HV_X64_MSR_SIEFP, (uint64_t)siefp | 1);
	wrmsr(HV_X64_MSR_SINT0 + VMBUS_ROOT_SINT, VMBUS_VECTOR | HV_SYNIC_SINT_AUTO_EOI);
	wrmsr(HV_X64_MSR_SCONTROL, HV_SYNIC_SCONTROL_ENABLE);
	timer_calibrate();
	if (partmgr_start(&root_partsvc) <= 0)
		return;
	start = rdtsc();
	end = start + timer.tsc_per_ms * 1000 * RUN_SECONDS;
	slice = timer.tsc_per_ms * (SLICE_NS / 1000000);
	for (;;) {
		bool busy = take_message();
		uint64_t now, next;

		busy |= take_vmbus_message();
		busy |= take_vmbus_events();
		busy |= partmgr_poll();
		now = rdtsc();
		if (partmgr_all_done() || (int64_t)(now - end) >= 0)
			break;
		/* The device timers run once their deadline passed, busy or
		 * not: a busy root must not starve the children's clocks. */
		next = next_event_tsc();
		if (now >= next) {
			timer.passes++;
			partmgr_tick();
			next = next_event_tsc();
		}
		if (busy)
			continue;
		/* Armed before a dispatch or a halt: either lasts until our
		 * next interrupt. */
		if (end < next)
			next = end;
		if (now + slice < next && timer_slice_needed())
			next = now + slice;
		if (dvp_used)
			next = dvp_timers(now, next);
		timer_arm(now, next);
		if (dispatch_one())
			continue;
		__asm__ volatile("sti; hlt; cli");
	}
	apic_timer_oneshot(TICK_VECTOR, 0);
	klog("timer: %lu interrupts in %lu ms (tickless), %lu device timer passes, "
	     "%u APIC counts per ms", timer.interrupts, (rdtsc() - start) / timer.tsc_per_ms,
	     timer.passes, timer.per_ms);
	partmgr_finish();
}
