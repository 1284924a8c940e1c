/*
 * Test mode: the root's checks of the TLFS interface isovisor gives it
 * (CPUID leaves, hidden SVM, the hypercall page, hypercall status codes,
 * VP numbering). On a native boot there is nothing to check, and each is
 * a TAP skip.
 */
#include <string.h>
#include "root.h"

#define NATIVE "native boot"
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_80000001_ECX_SVM (1u << 2)
#define HV_MEMORY_GPA 0x100000ull       /* the hypervisor's image */
#define UNKNOWN_CODE 0xffff             /* unassigned in the TLFS */
#define RESERVED_BIT (1ull << 31)       /* input value bits 31:27 are rsvd */

void test_hv_cpuid(void)
{
	static const char want[] = "Microsoft Hv";
	struct cpuid_regs max, iface, feat;
	bool present, signature, features;

	if (!boot.hv) {
		tap_skip(NATIVE, "root cpuid: hypervisor present, \"Microsoft Hv\" "
			 "signature, \"Hv#1\" interface, max leaf >= 0x40000005");
		return;
	}
	present = cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR;
	max = cpuid(HV_CPUID_VENDOR_AND_MAX, 0);
	iface = cpuid(HV_CPUID_INTERFACE, 0);
	feat = cpuid(HV_CPUID_FEATURES, 0);
	signature = !memcmp(&max.ebx, want, 4) && !memcmp(&max.ecx, want + 4, 4) &&
		    !memcmp(&max.edx, want + 8, 4);
	features = (feat.eax & HV_MSR_HYPERCALL_AVAILABLE) &&
		   (feat.eax & HV_MSR_VP_INDEX_AVAILABLE) &&
		   (feat.ebx & HV_CPU_MANAGEMENT);
	tap_result(present && signature &&
		   iface.eax == HV_CPUID_INTERFACE_SIGNATURE &&
		   max.eax >= HV_CPUID_IMPLEMENT_LIMITS && features,
		   "root cpuid: hypervisor present, \"%s\" signature, \"Hv#1\" "
		   "interface, max leaf %#x (>= 0x40000005), hypercall/VP index "
		   "MSRs and CpuManagement offered",
		   boot.hv_vendor, max.eax);
}

void test_hv_svm_hidden(void)
{
	uint64_t efer = 0, v;
	bool svm, hsave_gp, vmcr_gp, efer_gp;

	if (!boot.hv) {
		tap_skip(NATIVE, "root cpuid: SVM hidden; root msr: EFER.SVME "
			 "reads 0, VM_HSAVE_PA and VM_CR raise #GP");
		return;
	}
	svm = cpuid(0x80000001, 0).ecx & CPUID_80000001_ECX_SVM;
	rdmsr_safe(MSR_EFER, &efer);
	hsave_gp = rdmsr_safe(MSR_VM_HSAVE_PA, &v) == -1 &&
		   extable_last_vector == 13;
	vmcr_gp = rdmsr_safe(MSR_VM_CR, &v) == -1 && extable_last_vector == 13;
	/* Turning SVM on is refused as well: the root gets no nested
	 * virtualization, and the write must not reach the hardware. */
	efer_gp = wrmsr_safe(MSR_EFER, efer | EFER_SVME) == -1 &&
		  extable_last_vector == 13;
	tap_result(!svm && !(efer & EFER_SVME) && hsave_gp && vmcr_gp && efer_gp,
		   "root cpuid: SVM hidden; root msr: EFER.SVME reads 0, rdmsr "
		   "VM_HSAVE_PA and VM_CR and setting EFER.SVME raise #GP");
}

void test_hv_hypercall_page(void)
{
	const uint8_t *p = hv_hypercall_page();
	uint64_t msr = 0, os_id = 0;
	bool code = false;

	if (!boot.hv) {
		tap_skip(NATIVE, "root hypercall: page enabled after the guest OS id");
		return;
	}
	rdmsr_safe(HV_X64_MSR_HYPERCALL, &msr);
	rdmsr_safe(HV_X64_MSR_GUEST_OS_ID, &os_id);
	/* VMMCALL (AMD) or VMCALL (Intel), then RET. */
	if (p)
		code = p[0] == 0x0f && p[1] == 0x01 &&
		       (p[2] == 0xd9 || p[2] == 0xc1) && p[3] == 0xc3;
	tap_result(p && os_id && (msr & HV_X64_MSR_HYPERCALL_ENABLE) &&
		   (msr & PTE_ADDR_MASK) == (uint64_t)p && code,
		   "root hypercall: page enabled after the guest OS id (MSR "
		   "%#lx), it holds vmmcall/vmcall; ret", msr);
}

static void expect_status(uint64_t control, uint64_t in, uint64_t out,
			  uint16_t want, const char *what)
{
	uint16_t got = hv_status(hv_hypercall(control, in, out));

	tap_result(got == want, "root hypercall: %s -> %s (%#x)", what,
		   hv_status_name(got), got);
}

void test_hv_hypercall_errors(void)
{
	uint64_t in = (uint64_t)hv_input_page(), out = (uint64_t)hv_output_page();
	struct hv_isovisor_selftest t;
	uint32_t total;
	uint64_t n;

	if (!boot.hv) {
		tap_skip(NATIVE, "root hypercall: unknown code, reserved bits, "
			 "misaligned input, input in hypervisor memory");
		return;
	}
	/* A well-formed call (selftest result 0) made wrong one way at a
	 * time, so each status has exactly one cause. */
	memset((void *)in, 0, 8);
	expect_status(UNKNOWN_CODE, in, out, HV_STATUS_INVALID_HYPERCALL_CODE,
		      "unknown code 0xffff");
	expect_status(HVCALL_ISOVISOR_GET_SELFTEST | RESERVED_BIT, in, out,
		      HV_STATUS_INVALID_HYPERCALL_INPUT,
		      "reserved input value bit 31 set");
	expect_status(HVCALL_ISOVISOR_GET_SELFTEST, in + 4, out,
		      HV_STATUS_INVALID_ALIGNMENT, "input GPA not 8-byte aligned");
	expect_status(HVCALL_ISOVISOR_GET_SELFTEST, HV_MEMORY_GPA, out,
		      HV_STATUS_INVALID_PARAMETER,
		      "input GPA 0x100000 (hypervisor memory)");

	/* isovisor's own calls reject what is out of range. */
	hv_get_selftest(0, &t);
	total = t.total;
	tap_result(hv_get_selftest(total, &t) == HV_STATUS_INVALID_PARAMETER &&
		   hv_get_exit_count(9999, "cpuid", &n) == HV_STATUS_INVALID_VP_INDEX,
		   "root hypercall: isovisor self-test result %u (one past the "
		   "last) -> HV_STATUS_INVALID_PARAMETER, exit counters of VP "
		   "9999 -> HV_STATUS_INVALID_VP_INDEX", total);
}

/*
 * The hypervisor's VP numbering, asked both ways: GetVpIndexFromApicId
 * for every MADT CPU at once (a rep call), and HV_X64_MSR_VP_INDEX as
 * each VP read it on itself when it came up.
 */
void test_hv_vp_index(void)
{
	static uint32_t ids[ACPI_MAX_CPUS], idx[ACPI_MAX_CPUS];
	unsigned n = boot.acpi.cpu_count, done = 0, agree = 0;
	bool distinct = true, boot_vp_0 = false;
	uint16_t status;

	if (!boot.hv) {
		tap_skip(NATIVE, "root hypercall: GetVpIndexFromApicId maps every "
			 "MADT APIC id to a distinct VP index; HV_X64_MSR_VP_INDEX "
			 "on each VP agrees");
		return;
	}
	for (unsigned i = 0; i < n; i++)
		ids[i] = boot.acpi.cpus[i].apic_id;
	status = hv_vp_indices_from_apic_ids(ids, n, idx, &done);
	for (unsigned i = 0; i < n; i++) {
		for (unsigned j = 0; j < i; j++)
			if (idx[i] == idx[j])
				distinct = false;
		if (ids[i] == vps[0].apic_id && idx[i] == 0)
			boot_vp_0 = true;
		for (unsigned s = 0; s < vp_count; s++)
			if (vps[s].online && vps[s].apic_id == ids[i] &&
			    vps[s].seen_msr_vp_index == idx[i])
				agree++;
	}
	tap_result(status == HV_STATUS_SUCCESS && done == n && distinct &&
		   boot_vp_0 && agree == vps_online,
		   "root hypercall: GetVpIndexFromApicId maps %u MADT APIC ids to "
		   "distinct VP indices (boot VP 0); HV_X64_MSR_VP_INDEX agrees on "
		   "%u of %u VPs", n, agree, vps_online);
}
