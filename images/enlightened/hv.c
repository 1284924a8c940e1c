/*
 * The enlightened guest's view of the hypervisor (TLFS chapters 2-3):
 * the hypervisor CPUID leaves, the guest OS id, the hypercall page and
 * the calls made through it, the reference counter, and the count of
 * what the guest did that costs an exit. Every synthetic MSR access and
 * hypercall goes through the wrappers here, so the guest's own count
 * stands beside the hypervisor's (HVCALL_ISOVISOR_GET_EXIT_COUNTERS).
 *
 * Hypercall parameters live in two pages of our own, one for input and
 * one for output: the hypervisor reads a memory call's input once, from a
 * page that must not cross a page boundary, so a page each is simplest.
 * One VP and no hypercall from an interrupt handler: no lock.
 */
#include <string.h>
#include "enlightened.h"

#define HV_CPUID_HYPERVISOR_PRESENT (1u << 31)  /* CPUID.1:ECX */
/*
 * TLFS "open source" guest OS id: bit 63 set, OS type in 62:56 (0x7f: none
 * assigned, a test guest), OS id 55:48 = 0, kernel version 47:16 = 1,
 * build 15:0 = 0. Any non-zero value lets the hypercall page be enabled.
 */
#define ENLIGHTENED_GUEST_OS_ID ((1ull << 63) | (0x7full << 56) | (1ull << 16))

struct hv_info hv;

static uint8_t *hypercall_page;
static uint8_t *hc_in, *hc_out;
static bool hc_enabled;
static struct hv_self_counts self;

uint64_t hv_rdmsr(uint32_t msr)
{
	self.msr_accesses++;
	return rdmsr(msr);
}

void hv_wrmsr(uint32_t msr, uint64_t v)
{
	self.msr_accesses++;
	wrmsr(msr, v);
}

void hv_self_counts(struct hv_self_counts *out)
{
	*out = self;
}

bool hv_detect(void)
{
	struct cpuid_regs r;

	memset(&hv, 0, sizeof(hv));
	if (!(cpuid(1, 0).ecx & HV_CPUID_HYPERVISOR_PRESENT))
		return false;
	r = cpuid(HV_CPUID_VENDOR_AND_MAX, 0);
	hv.max_leaf = r.eax;
	memcpy(hv.vendor, &r.ebx, 4);
	memcpy(hv.vendor + 4, &r.ecx, 4);
	memcpy(hv.vendor + 8, &r.edx, 4);
	for (unsigned i = 0; i < 12; i++)      /* it is printed */
		if (hv.vendor[i] < ' ' || hv.vendor[i] > '~')
			hv.vendor[i] = '?';
	/* A hypervisor that is not TLFS-compatible (or none: some CPUs echo
	 * their highest basic leaf here) has no interface signature. */
	if (hv.max_leaf < HV_CPUID_FEATURES ||
	    hv.max_leaf > HV_CPUID_VENDOR_AND_MAX + 0xff)
		return false;
	hv.interface = cpuid(HV_CPUID_INTERFACE, 0).eax;
	if (hv.interface != HV_CPUID_INTERFACE_SIGNATURE)
		return false;
	r = cpuid(HV_CPUID_VERSION, 0);
	hv.build = r.eax;
	hv.version = r.ebx;
	r = cpuid(HV_CPUID_FEATURES, 0);
	hv.features_eax = r.eax;
	hv.features_ebx = r.ebx;
	hv.present = true;
	return true;
}

int hv_hypercall_init(const char **why)
{
	uint64_t v;

	hypercall_page = page_alloc(PAGE_SIZE);
	hc_in = page_alloc(PAGE_SIZE);
	hc_out = page_alloc(PAGE_SIZE);
	if (!hypercall_page || !hc_in || !hc_out) {
		*why = "no pages for the hypercall page and parameters";
		return -1;
	}
	/* The page stays disabled until the guest says who it is. */
	hv_wrmsr(HV_X64_MSR_GUEST_OS_ID, ENLIGHTENED_GUEST_OS_ID);
	if (hv_rdmsr(HV_X64_MSR_GUEST_OS_ID) != ENLIGHTENED_GUEST_OS_ID) {
		*why = "HV_X64_MSR_GUEST_OS_ID does not keep the id";
		return -1;
	}
	hv_wrmsr(HV_X64_MSR_HYPERCALL, virt_to_phys(hypercall_page) |
		 HV_X64_MSR_HYPERCALL_ENABLE);
	v = hv_rdmsr(HV_X64_MSR_HYPERCALL);
	if (!(v & HV_X64_MSR_HYPERCALL_ENABLE) ||
	    (v & PTE_ADDR_MASK) != virt_to_phys(hypercall_page)) {
		*why = "HV_X64_MSR_HYPERCALL does not read back enabled at our page";
		return -1;
	}
	/* The hypervisor fills the page (e.g. vmmcall; ret); a zero first
	 * byte means nothing was written. */
	if (!hypercall_page[0]) {
		*why = "the hypercall page is still empty";
		return -1;
	}
	hc_enabled = true;
	return 0;
}

uint64_t hv_hypercall(uint64_t control, uint64_t in, uint64_t out)
{
	if (!hc_enabled)
		return HV_STATUS_INVALID_PARTITION_STATE;
	self.hypercalls++;
	return hv_call_page(hypercall_page, control, in, out);
}

uint16_t hv_hypercall_fast0(uint16_t code)
{
	return (uint16_t)hv_hypercall(code | HV_HYPERCALL_FAST_BIT, 0, 0);
}

uint16_t hv_post_message(uint32_t connection_id, uint32_t type,
			 const void *msg, size_t len)
{
	struct hv_input_post_message *in = (void *)hc_in;

	if (!hc_enabled)
		return HV_STATUS_INVALID_PARTITION_STATE;
	if (len > sizeof(in->payload))
		return HV_STATUS_INVALID_PARAMETER;
	memset(in, 0, sizeof(*in));
	in->connection_id = connection_id;
	in->message_type = type;
	in->payload_size = (uint32_t)len;
	memcpy(in->payload, msg, len);
	return (uint16_t)hv_hypercall(HVCALL_POST_MESSAGE, virt_to_phys(in), 0);
}

uint16_t hv_signal_event_flag(uint32_t connection_id, uint16_t flag)
{
	/* RDX: connection id in 31:0, flag number in 47:32. */
	return (uint16_t)hv_hypercall(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST_BIT,
				      connection_id | (uint64_t)flag << 32, 0);
}

uint16_t hv_signal_event(uint32_t connection_id)
{
	return hv_signal_event_flag(connection_id, 0);
}

void hv_idle(void)
{
	self.hlts++;
	__asm__ volatile("sti; hlt" ::: "memory");
}

uint64_t hv_time_ref_100ns(void)
{
	return hv_rdmsr(HV_X64_MSR_TIME_REF_COUNT);
}

void hv_spin_us(uint64_t us)
{
	uint64_t until = hv_time_ref_100ns() + us * 10;

	while (hv_time_ref_100ns() < until)
		for (unsigned i = 0; i < 64; i++)
			cpu_relax();
}

uint16_t hv_exit_counters(uint32_t vp_index,
			  struct hv_isovisor_exit_counters *out)
{
	uint16_t status;

	if (!hc_enabled)
		return HV_STATUS_INVALID_PARTITION_STATE;
	memset(hc_in, 0, 8);
	memcpy(hc_in, &vp_index, sizeof(vp_index));
	status = (uint16_t)hv_hypercall(HVCALL_ISOVISOR_GET_EXIT_COUNTERS,
					virt_to_phys(hc_in),
					virt_to_phys(hc_out));
	if (status == HV_STATUS_SUCCESS) {
		memcpy(out, hc_out, sizeof(*out));
		if (out->count > HV_ISOVISOR_EXIT_REASONS_MAX)
			out->count = HV_ISOVISOR_EXIT_REASONS_MAX;
		for (unsigned i = 0; i < out->count; i++)
			out->names[i][sizeof(out->names[i]) - 1] = '\0';
	}
	return status;
}

uint64_t hv_exit_total(const struct hv_isovisor_exit_counters *c)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < c->count; i++)
		n += c->exits[i];
	return n;
}

uint64_t hv_exit_count(const struct hv_isovisor_exit_counters *c,
		       const char *name)
{
	for (unsigned i = 0; i < c->count; i++)
		if (!strcmp(c->names[i], name))
			return c->exits[i];
	return 0;
}

uint16_t hv_start_vp(uint32_t vp_index, const struct hv_initial_vp_context *ctx)
{
	struct hv_start_vp_input *in = (void *)hc_in;

	if (!hc_enabled)
		return HV_STATUS_INVALID_PARTITION_STATE;
	memset(in, 0, sizeof(*in));
	in->partition_id = HV_PARTITION_ID_SELF;
	in->vp_index = vp_index;
	in->target_vtl = 0;
	in->vp_context = *ctx;
	return (uint16_t)hv_hypercall(HVCALL_START_VP, virt_to_phys(in), 0);
}
