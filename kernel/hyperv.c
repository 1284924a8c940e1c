/*
 * The root's side of the Hyper-V TLFS interface: detecting the hypervisor,
 * enabling the hypercall page (guest OS id first, as the TLFS requires),
 * and the calls the root makes. Every call here is a "slow" (memory-based)
 * call: the input and output live in two pages of the root's own RAM,
 * which are 8-byte aligned and never cross a page, as the TLFS asks. Only
 * the boot VP makes hypercalls, so one pair of pages is enough.
 */
#include <string.h>
#include "root.h"

#define HV_SIGNATURE_EBX 0x7263694d     /* "Micr" */
#define HV_SIGNATURE_ECX 0x666f736f     /* "osof" */
#define HV_SIGNATURE_EDX 0x76482074     /* "t Hv" */
#define CPUID_1_ECX_HYPERVISOR (1u << 31)

/*
 * TLFS guest OS identity for an open-source OS: bit 63 set, OS type in
 * 62:56 (0x7f, none of the assigned Linux/FreeBSD/Xen/Illumos values),
 * OS id in 55:48 (0), version in 47:16 (0.1 -> 0x00000001), build in 15:0.
 */
#define ROOT_GUEST_OS_ID ((1ull << 63) | (0x7full << 56) | (1ull << 16))

static uint8_t *hypercall_page;
static void *in_page, *out_page;

/*
 * Under isovisor when the boot loader says so (the hypervisor names
 * itself "isovisor" in the boot information), or when CPUID shows the
 * hypervisor bit and the TLFS signature. Either alone is enough, so a
 * broken CPUID answer is caught by the checks rather than taken for a
 * native boot.
 */
bool hv_detect(const struct mb2_info *mi, char vendor[13])
{
	struct cpuid_regs r = cpuid(1, 0);
	bool present = r.ecx & CPUID_1_ECX_HYPERVISOR;
	bool signature = false;

	vendor[0] = '\0';
	if (present) {
		r = cpuid(HV_CPUID_VENDOR_AND_MAX, 0);
		memcpy(vendor, &r.ebx, 4);
		memcpy(vendor + 4, &r.ecx, 4);
		memcpy(vendor + 8, &r.edx, 4);
		vendor[12] = '\0';
		for (unsigned i = 0; i < 12; i++)
			if (vendor[i] && (vendor[i] < ' ' || vendor[i] > '~'))
				vendor[i] = '?';
		signature = r.ebx == HV_SIGNATURE_EBX &&
			    r.ecx == HV_SIGNATURE_ECX &&
			    r.edx == HV_SIGNATURE_EDX;
	}
	return signature || !strcmp(mi->loader_name, "isovisor");
}

bool hv_tsc_khz(uint64_t *khz)
{
	uint64_t hz;

	*khz = 0;
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR) ||
	    cpuid(HV_CPUID_VENDOR_AND_MAX, 0).eax < HV_CPUID_FEATURES ||
	    cpuid(HV_CPUID_INTERFACE, 0).eax != HV_CPUID_INTERFACE_SIGNATURE ||
	    !(cpuid(HV_CPUID_FEATURES, 0).eax & HV_ACCESS_FREQUENCY_MSRS))
		return false;
	hz = rdmsr(HV_X64_MSR_TSC_FREQUENCY);
	if (hz < 1000000)
		return false;
	*khz = hz / 1000;
	return true;
}

int hv_hypercall_init(void)
{
	uint64_t page = (uint64_t)page_alloc_zeroed();
	uint64_t msr = 0;

	in_page = page_alloc_zeroed();
	out_page = page_alloc_zeroed();
	if (wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, ROOT_GUEST_OS_ID)) {
		klog("hyperv: writing HV_X64_MSR_GUEST_OS_ID raised #GP");
		return -1;
	}
	if (wrmsr_safe(HV_X64_MSR_HYPERCALL, page | HV_X64_MSR_HYPERCALL_ENABLE) ||
	    rdmsr_safe(HV_X64_MSR_HYPERCALL, &msr)) {
		klog("hyperv: HV_X64_MSR_HYPERCALL raised #GP");
		return -1;
	}
	if (!(msr & HV_X64_MSR_HYPERCALL_ENABLE) ||
	    (msr & PTE_ADDR_MASK) != page) {
		klog("hyperv: hypercall page not enabled (MSR reads %#lx, wrote %#lx)",
		     msr, (uint64_t)(page | HV_X64_MSR_HYPERCALL_ENABLE));
		return -1;
	}
	hypercall_page = (uint8_t *)page;
	return 0;
}

const uint8_t *hv_hypercall_page(void)
{
	return hypercall_page;
}

void *hv_input_page(void)
{
	return in_page;
}

void *hv_output_page(void)
{
	return out_page;
}

uint64_t hv_hypercall(uint64_t control, uint64_t input, uint64_t output)
{
	if (!hypercall_page)
		return ROOT_HV_NO_PAGE;
	return hv_call_page(hypercall_page, control, input, output);
}

uint16_t hv_vp_indices_from_apic_ids(const uint32_t *apic_ids, unsigned n,
				     uint32_t *vp_indices, unsigned *done)
{
	struct hv_get_vp_index_from_apic_id_input *in = in_page;
	uint64_t control, result;
	unsigned max = (PAGE_SIZE - sizeof(*in)) / sizeof(uint32_t);

	*done = 0;
	if (!hypercall_page)
		return ROOT_HV_NO_PAGE;
	if (!n || n > max || n > 0xfff)
		return HV_STATUS_INVALID_PARAMETER;
	memset(in, 0, PAGE_SIZE);
	in->partition_id = HV_PARTITION_ID_SELF;
	in->target_vtl = 0;
	memcpy(in->apic_ids, apic_ids, n * sizeof(uint32_t));
	memset(out_page, 0xff, PAGE_SIZE);
	control = HVCALL_GET_VP_INDEX_FROM_APIC_ID |
		  ((uint64_t)n << HV_HYPERCALL_REP_COMP_SHIFT);
	result = hv_hypercall(control, (uint64_t)in, (uint64_t)out_page);
	*done = (unsigned)((result & HV_HYPERCALL_REP_COMP_MASK) >>
			   HV_HYPERCALL_REP_COMP_SHIFT);
	memcpy(vp_indices, out_page, n * sizeof(uint32_t));
	return hv_status(result);
}

uint16_t hv_start_vp(uint32_t vp_index, const struct hv_initial_vp_context *ctx)
{
	struct hv_start_vp_input *in = in_page;

	if (!hypercall_page)
		return ROOT_HV_NO_PAGE;
	memset(in, 0, sizeof(*in));
	in->partition_id = HV_PARTITION_ID_SELF;
	in->vp_index = vp_index;
	in->target_vtl = 0;
	in->vp_context = *ctx;
	return hv_status(hv_hypercall(HVCALL_START_VP, (uint64_t)in, 0));
}

/* isovisor's own calls take {uint32 index; uint32 pad} in the input page. */
static uint16_t isovisor_call(uint16_t code, uint32_t index)
{
	uint32_t *in = in_page;

	if (!hypercall_page)
		return ROOT_HV_NO_PAGE;
	in[0] = index;
	in[1] = 0;
	return hv_status(hv_hypercall(code, (uint64_t)in, (uint64_t)out_page));
}

uint16_t hv_get_selftest(uint32_t index, struct hv_isovisor_selftest *out)
{
	uint16_t status;

	memset(out_page, 0, sizeof(*out));
	status = isovisor_call(HVCALL_ISOVISOR_GET_SELFTEST, index);
	memcpy(out, out_page, sizeof(*out));
	out->description[sizeof(out->description) - 1] = '\0';
	return status;
}

uint16_t hv_get_exit_count(uint32_t vp_index, const char *name,
			   uint64_t *count)
{
	const struct hv_isovisor_exit_counters *c = out_page;
	uint16_t status;

	*count = 0;
	status = isovisor_call(HVCALL_ISOVISOR_GET_EXIT_COUNTERS, vp_index);
	if (status != HV_STATUS_SUCCESS)
		return status;
	for (unsigned i = 0; i < c->count && i < HV_ISOVISOR_EXIT_REASONS_MAX; i++) {
		if (!strncmp(c->names[i], name, sizeof(c->names[i]))) {
			*count = c->exits[i];
			return HV_STATUS_SUCCESS;
		}
	}
	return HV_STATUS_NOT_FOUND;
}

const char *hv_status_name(uint16_t status)
{
	switch (status) {
	case HV_STATUS_SUCCESS: return "HV_STATUS_SUCCESS";
	case HV_STATUS_INVALID_HYPERCALL_CODE: return "HV_STATUS_INVALID_HYPERCALL_CODE";
	case HV_STATUS_INVALID_HYPERCALL_INPUT:
		return "HV_STATUS_INVALID_HYPERCALL_INPUT";
	case HV_STATUS_INVALID_ALIGNMENT: return "HV_STATUS_INVALID_ALIGNMENT";
	case HV_STATUS_INVALID_PARAMETER: return "HV_STATUS_INVALID_PARAMETER";
	case HV_STATUS_ACCESS_DENIED: return "HV_STATUS_ACCESS_DENIED";
	case HV_STATUS_INVALID_PARTITION_ID: return "HV_STATUS_INVALID_PARTITION_ID";
	case HV_STATUS_INVALID_VP_INDEX: return "HV_STATUS_INVALID_VP_INDEX";
	case HV_STATUS_NOT_FOUND: return "HV_STATUS_NOT_FOUND";
	case HV_STATUS_INVALID_VP_STATE: return "HV_STATUS_INVALID_VP_STATE";
	case ROOT_HV_NO_PAGE: return "no hypercall page";
	default: return "unexpected status";
	}
}
