/*
 * The monolithic design (ESXi-like): no root partition. The control
 * function and the device models (drivers/partmgr.c and its models) are
 * linked into the hypervisor and served through the same partition
 * services interface the root implements with hypercalls; here each one
 * is a direct call. A child's intercept is handled at the exit itself, on
 * the CPU that took it, and the child resumes without a round trip.
 * Children run on the boot CPU; the hypervisor's own local APIC timer
 * drives the device models' timers.
 */
#include <string.h>
#include <isovisor/vmbus.h>
#include "hv.h"
#include "design.h"
#include "gmem.h"
#include "partsvc.h"
#include "physdisk.h"
#include "physnic.h"
#include "port.h"
#include "synic.h"
#include "virt.h"
#include "vapic.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

#define TICK_COUNT 62500                /* ~1 ms at QEMU's 1 GHz APIC clock / 16 */
#define SLICE_US   1000                 /* a child VP's turn on the CPU */
#define RUN_SECONDS 3700                /* past the longest child timeout (3600 s) */

const char design_name[] = "monolithic";
static volatile bool tick_due;
static volatile uint64_t ticks;

static struct vp *vp0(uint64_t id)
{
	struct partition *p = child_by_id(id);

	return p && p->vp_count ? p->vps[0] : NULL;
}

static struct vp *vp_n(uint64_t id, uint32_t vpi)
{
	struct partition *p = child_by_id(id);

	return p && vpi < p->vp_count ? p->vps[vpi] : NULL;
}

static int svc_create(const char *name, unsigned vps, uint64_t *id)
{
	struct partition *p = partition_new();

	if (!p)
		return -1;
	if (partition_name_valid(name, 16))
		partition_set_name(p, name);
	for (unsigned i = 0; i < vps; i++)
		if (!partition_new_vp(p) || !partition_name_valid(name, 16)) {
			partition_destroy(p);
			return -1;
		}
	partition_set_name(p, name);
	p->initialized = true;
	*id = p->id;
	return 0;
}

static int svc_give_memory(uint64_t id, uint64_t gpa, uint64_t bytes)
{
	struct partition *p = child_by_id(id);

	if (!p)
		return -1;
	for (uint64_t g = 0; g < bytes >> 12; g++) {
		uint64_t spa = virt_to_phys(page_alloc_zeroed());

		if (partition_map_page(p, (gpa >> 12) + g, spa, GPA_RWX))
			return -1;
	}
	return 0;
}

static int copy(uint64_t id, uint64_t gpa, void *buf, uint64_t len, bool to)
{
	struct partition *p = child_by_id(id);

	while (p && len) {
		uint64_t n = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
		uint8_t *h;

		if (n > len)
			n = len;
		h = gpa_to_hva(p, gpa, n);
		if (!h)
			return -1;
		if (to)
			memcpy(h, buf, n);
		else
			memcpy(buf, h, n);
		gpa += n;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
	return p ? 0 : -1;
}

static int svc_copy_to(uint64_t id, uint64_t gpa, const void *src, uint64_t len)
{
	return copy(id, gpa, (void *)src, len, true);
}

static int svc_copy_from(uint64_t id, uint64_t gpa, void *dst, uint64_t len)
{
	return copy(id, gpa, dst, len, false);
}

static uint64_t svc_gva_to_gpa(uint64_t id, uint32_t vpi, uint64_t gva)
{
	struct vp *vp = vp_n(id, vpi);
	uint64_t gpa;

	if (!vp || gva_to_gpa(vp, gva, &gpa) ||
	    !gpa_to_hva(vp->partition, gpa & ~0xfffull, 1))
		return (uint64_t)-1;
	return gpa;
}

static int svc_set_regs(uint64_t id, uint32_t vpi, const struct hv_register_assoc *r,
			unsigned n)
{
	struct vp *vp = vp_n(id, vpi);
	unsigned done = 0;

	if (!vp)
		return -1;
	return vp_set_registers(vp, r, 0, n, &done) ? -1 : 0;
}

static int svc_get_regs(uint64_t id, uint32_t vpi, const uint32_t *names,
			uint64_t *values, unsigned n)
{
	struct vp *vp = vp_n(id, vpi);
	struct hv_register_assoc r;

	if (!vp)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		if (virt->vp_get_reg(vp, names[i], &r))
			return -1;
		values[i] = r.value.reg64;
	}
	return 0;
}

static int svc_assert_irq(uint64_t id, uint32_t vpi, uint8_t vector)
{
	struct vp *vp = vp0(id);

	if (!vp || vpi != 0)
		return -1;
	/* The 8259's: LINT0; refused while it is masked. */
	return vapic_post_extint(vp, vector) ? 0 : -1;
}

static int svc_assert_apic(uint64_t id, uint8_t vector, uint8_t mode, bool logical,
			   uint8_t dest, bool level)
{
	struct partition *p = child_by_id(id);

	if (!p || vector < 16 || (mode != 0 && mode != 1))
		return -1;
	return vapic_assert(p, dest, logical, mode == 1, vector, level) ? 0 : -1;
}

static int svc_destroy(uint64_t id)
{
	struct partition *p = child_by_id(id);

	return p ? partition_destroy(p) : -1;
}

static void svc_console_line(const char *source, const char *text, size_t len)
{
	console_log_prefixed(source, text, len);
}

static void svc_log(const char *text)
{
	hv_log("%s", text);
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
	return phys_to_virt(m->start);
}

static void *svc_alloc(uint64_t bytes)
{
	return pages_alloc_zeroed((unsigned)(ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE));
}

/* ---- the synthetic path: the hypervisor owns the host's ports ---------------- */

#define PORT_MSG                PARTSVC_PORT_MSG
#define PORT_EVT                PARTSVC_PORT_EVT

static int svc_vmbus_attach(uint64_t id, unsigned slot)
{
	struct partition *p = child_by_id(id);

	if (!p || slot >= PARTSVC_VMBUS_SLOTS ||
	    port_create_hv(PORT_MSG(slot), HV_PORT_TYPE_MESSAGE, 0, 0) ||
	    port_connect_hv(p, VMBUS_MESSAGE_CONNECTION_ID, PORT_MSG(slot)) ||
	    port_connect_hv(p, VMBUS_MESSAGE_CONNECTION_ID_4, PORT_MSG(slot)) ||
	    port_credit_hv(PORT_MSG(slot), HV_ISOVISOR_PORT_CREDIT_ON))
		return -1;
	return 0;
}

static void svc_vmbus_msg_done(unsigned slot)
{
	port_credit_hv(PORT_MSG(slot), HV_ISOVISOR_PORT_CREDIT_RETURN);
}

static int svc_vmbus_event_in(uint64_t id, unsigned slot, uint32_t conn, uint32_t relid)
{
	struct partition *p = child_by_id(id);

	if (!p || slot >= PARTSVC_VMBUS_SLOTS || relid >= PARTSVC_VMBUS_RELIDS ||
	    port_create_hv(PORT_EVT(slot, relid), HV_PORT_TYPE_EVENT,
			   (uint16_t)PARTSVC_EVT_FLAG(slot, relid), 1) ||
	    port_connect_hv(p, conn, PORT_EVT(slot, relid)))
		return -1;
	return 0;
}

uint16_t design_port_message(uint32_t port_id, const struct hv_message *m)
{
	if (port_id - PORT_MSG(0) >= PARTSVC_VMBUS_SLOTS)
		return HV_STATUS_INVALID_CONNECTION_ID;
	partmgr_vmbus_message(port_id - PORT_MSG(0), m->payload, m->header.payload_size);
	return HV_STATUS_SUCCESS;
}

uint16_t design_port_event(uint32_t port_id, uint32_t flag)
{
	partmgr_vmbus_event(flag / PARTSVC_VMBUS_RELIDS, flag % PARTSVC_VMBUS_RELIDS);
	return HV_STATUS_SUCCESS;
}

static struct vp *child_vp_n(uint64_t id, uint32_t vpi)
{
	struct partition *p = child_by_id(id);

	return p && vpi < p->vp_count ? p->vps[vpi] : NULL;
}

static int svc_vmbus_post(uint64_t id, unsigned slot, uint8_t sint, uint32_t vpi,
			  const void *msg, size_t len)
{
	struct vp *vp = child_vp_n(id, vpi);
	struct hv_message m;

	if (!vp || sint >= HV_SYNIC_SINT_COUNT || len > sizeof(m.payload))
		return -1;
	memset(&m, 0, sizeof(m));
	m.header.message_type = 1;
	m.header.payload_size = (uint8_t)len;
	memcpy(m.payload, msg, len);
	return synic_post(vp, sint, &m);
}

static int svc_vmbus_signal(uint64_t id, unsigned slot, uint8_t sint, uint32_t vpi,
			    uint32_t flag)
{
	struct vp *vp = child_vp_n(id, vpi);

	if (!vp || sint >= HV_SYNIC_SINT_COUNT || flag >= HV_EVENT_FLAGS_PER_SINT)
		return -1;
	return synic_signal(vp, sint, flag);
}

static void *svc_map_page(uint64_t id, uint64_t pfn)
{
	struct partition *p = child_by_id(id);

	return p && pfn < (1ull << 40) ? gpa_to_hva(p, pfn << 12, PAGE_SIZE) : NULL;
}

static void svc_unmap_page(uint64_t id, void *page)
{
	/* Our direct map stays; nothing to undo. */
}

static int svc_dma_pages(uint64_t id, const uint64_t *pfns, unsigned n, uint64_t *phys)
{
	struct partition *p = child_by_id(id);

	for (unsigned i = 0; p && i < n; i++) {
		void *h = pfns[i] < (1ull << 40) ? gpa_to_hva(p, pfns[i] << 12, PAGE_SIZE) : NULL;

		if (!h)
			return -1;
		phys[i] = virt_to_phys(h);
	}
	return p ? 0 : -1;
}

static const struct partsvc hv_partsvc = {
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
	.phys_disk = physdisk_get,
	.phys_nic = physnic_get,
};

void design_intercept(struct vp *vp, const struct hv_message *m)
{
	/* In the hypervisor, at the exit: completing it clears the child's
	 * intercept suspend before we return to the run loop. */
	partmgr_message(m);
}

bool design_root_schedules(void)
{
	/* The control function is in the hypervisor: it schedules. */
	return false;
}

unsigned design_cpu_runs_children(unsigned cpu)
{
	/* The control loop, and with it every child, runs on the boot CPU:
	 * the device models are not written for two CPUs at once. */
	return cpu == 0 ? 2 : 0;
}

void design_vp_gone(struct vp *vp)
{
	/* Intercepts are handled at the exit: nothing waits anywhere. */
}

void design_device_irq(uint8_t vector)
{
	apic_eoi();
	if (vector == VEC_TIMER) {
		tick_due = true;
		ticks++;
		apic_timer_oneshot(VEC_TIMER, TICK_COUNT);
	} else if (vector == VEC_NIC) {
		physnic_irq();
	}
}

void design_page_reclaimed(uint64_t spa)
{
	pmm_free(&hv_pmm, spa);
}

void design_ap_start(void)
{
	/* Children run on the boot CPU in this design. */
	for (;;)
		halt();
}

/* Run the children on this CPU until every one has finished. */
static void run_children(void)
{
	uint64_t deadline = rdtsc() + tsc_khz() * 1000 * RUN_SECONDS;
	struct vp_exit e;

	struct vp *last = NULL;
	uint64_t slice_end = 0, slice = tsc_khz() * SLICE_US / 1000;

	apic_timer_oneshot(VEC_TIMER, TICK_COUNT);
	while (!partmgr_all_done() && (int64_t)(rdtsc() - deadline) < 0) {
		struct vp *vp;

		/* The VP that ran last goes on until its slice ends or it
		 * halts: switching at every exit made two guests that talk
		 * through a VSP trade the CPU every few frames. */
		if (last && (int64_t)(rdtsc() - slice_end) < 0 && child_can_run(last)) {
			vp = last;
		} else {
			vp = pick_child(this_cpu()->index);
			slice_end = rdtsc() + slice;
		}
		last = vp;

		if (tick_due) {
			tick_due = false;
			partmgr_tick();
		}
		if (partmgr_poll())
			continue;       /* a VSP's leftovers first: no signal comes */
		if (!vp) {
			__asm__ volatile("sti; hlt; cli" ::: "memory");
			continue;
		}
		vp_run_once(vp, &e);
		set_current_vp(this_cpu()->index, NULL);
		if (e.reason == EXIT_INTR) {
			vp->exits[e.reason]++;
			/* Our own timer: take it now. */
			__asm__ volatile("sti; nop; cli" ::: "memory");
			continue;
		}
		exit_handle(vp, &e);
	}
	apic_timer_oneshot(VEC_TIMER, 0);
}

void design_start(void)
{
	int n = partmgr_start(&hv_partsvc);

	if (n < 0)
		hv_log("no partition config module; nothing to run");
	else
		run_children();
	partmgr_finish();
	stop_other_cpus();
	hv_log("run finished: %d partition(s), %lu timer ticks", n < 0 ? 0 : n, ticks);
	if (boot.test_mode)
		test_exit(selftest_report());
	power_off();
}
