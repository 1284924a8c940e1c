/*
 * x87/SSE/AVX state and XCR0 per VP. The hypervisor runs with CR4.OSXSAVE
 * and XCR0 holding every state component it switches (xcr0_host), so one
 * XSAVE of that mask captures all a VP can have changed, whatever XCR0
 * the VP itself chose; the VP's own XCR0 is in the CPU only while it runs
 * (cpustate.c loads it before VMRUN and puts xcr0_host back after). A CPU
 * without XSAVE gets FXSAVE images instead and no XCR0 at all.
 *
 * XSETBV always exits (SVM intercept, every partition): XCR0 is not part
 * of the VMCB, so a VP must not set the hardware's directly, and its value
 * is checked here against the rules the SDM and APM give for XSETBV.
 * Left out of xcr0_host on purpose: AMX tile state (bits 17-18: 8 KiB per
 * VP, and IA32_XFD could make our own XSAVE fault) and every supervisor
 * (IA32_XSS) component, so XSAVES is hidden from partitions.
 */
#include <string.h>
#include "hv.h"
#include "cpustate.h"
#include "xcr0.h"
#include "virt.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

#define CPUID1_ECX_XSAVE    (1u << 26)
#define CPUID1_ECX_OSXSAVE  (1u << 27)
#define CPUID7_ECX_OSPKE    (1u << 4)
#define CPUID7_EDX_AMX      ((1u << 22) | (1u << 24) | (1u << 25))
#define CPUIDD1_EAX_KEPT    0x7u        /* XSAVEOPT, XSAVEC, XGETBV(1) */
#define XCR0_KNOWN          (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_BNDREGS | \
			     XCR0_BNDCSR | XCR0_AVX512 | XCR0_PKRU)
#define FXSAVE_BYTES        512
#define XSAVE_LEGACY_BYTES  576         /* FXSAVE image + XSAVE header */
#define FCW_INIT            0x037f      /* FNINIT: every exception masked */
#define MXCSR_INIT          0x1f80

bool xsave_present;
uint64_t xcr0_host;
static uint32_t area_bytes = FXSAVE_BYTES;
/* End (offset + size) of each component in the standard XSAVE layout. */
static uint32_t component_end[64];
/* AMD before "XSaveErPtr": FXSAVE/XSAVE keep the old x87 instruction and
 * data pointers when no x87 exception is pending, so the next VP would
 * read the previous one's (the FXSAVE leak Linux works around). */
static bool fpu_pointer_leak;
static const uint32_t pointer_scrub;    /* a valid operand for FILD */

static bool cpu_is_amd(void)
{
	return cpuid(0, 0).ebx == 0x68747541;   /* "Auth" */
}

static void probe_boot_cpu(void)
{
	struct cpuid_regs d = cpuid(0xd, 0);

	xcr0_host = (((uint64_t)d.edx << 32) | d.eax) & XCR0_KNOWN;
	for (unsigned i = 2; i < 64; i++) {
		struct cpuid_regs c;

		if (!(xcr0_host & (1ull << i)))
			continue;
		c = cpuid(0xd, i);
		component_end[i] = c.ebx + c.eax;
	}
}

/* Standard-format size of an XSAVE image holding the components `mask`. */
static uint32_t xsave_bytes(uint64_t mask)
{
	uint32_t n = XSAVE_LEGACY_BYTES;

	for (unsigned i = 2; i < 64; i++)
		if ((mask & (1ull << i)) && component_end[i] > n)
			n = component_end[i];
	return n;
}

void xsave_cpu_init(bool boot_cpu)
{
	/* No emulation, no lazy-switch trap: the hypervisor never takes #NM.
	 * EFER.FFXSR stays clear here (only guests' EFER may have it), so
	 * our FXSAVE always includes the XMM registers. */
	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	if (boot_cpu) {
		xsave_present = cpuid(1, 0).ecx & CPUID1_ECX_XSAVE;
		if (xsave_present)
			probe_boot_cpu();
		fpu_pointer_leak = cpu_is_amd() &&
			cpuid(0x80000000, 0).eax >= 0x80000008 &&
			!(cpuid(0x80000008, 0).ebx & (1u << 2));
	} else if (xsave_present != !!(cpuid(1, 0).ecx & CPUID1_ECX_XSAVE)) {
		panic("cpu %u: XSAVE support differs from the boot CPU's",
		      this_cpu()->index);
	}
	if (!xsave_present)
		return;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	xsetbv(0, xcr0_host);
	if (boot_cpu)
		area_bytes = cpuid(0xd, 0).ebx;   /* for the XCR0 just set */
	else if (cpuid(0xd, 0).ebx != area_bytes)
		panic("cpu %u: XSAVE area size differs from the boot CPU's",
		      this_cpu()->index);
}

const char *xsave_describe(void)
{
	return xsave_present ? "XSAVE" : "FXSAVE";
}

uint32_t xsave_area_bytes(void)
{
	return area_bytes;
}

void *xsave_area_new(void)
{
	/* Page-aligned, so the 64-byte alignment XSAVE needs holds. An
	 * all-zero XSAVE header (XSTATE_BV 0) makes XRSTOR put every
	 * component in its initial state; MXCSR is always read from the
	 * image, and FXRSTOR reads all of it. */
	uint8_t *a = pages_alloc_zeroed((unsigned)(ALIGN_UP(area_bytes, PAGE_SIZE) /
						   PAGE_SIZE));
	uint16_t fcw = FCW_INIT;
	uint32_t mxcsr = MXCSR_INIT;

	memcpy(a + 0, &fcw, sizeof(fcw));
	memcpy(a + 24, &mxcsr, sizeof(mxcsr));
	return a;
}

void xsave_area_free(void *area)
{
	pages_free(area, (unsigned)(ALIGN_UP(area_bytes, PAGE_SIZE) / PAGE_SIZE));
}

void xsave_save(void *area)
{
	if (xsave_present)
		xsave64(area, xcr0_host);
	else
		fxsave64(area);
}

void xsave_restore(const void *area)
{
	if (fpu_pointer_leak) {
		/* Give the x87 pointers a value of ours before the restore,
		 * which may leave them as they are. */
		__asm__ volatile("fnclex; emms; fildl %0" : : "m"(pointer_scrub));
	}
	if (xsave_present)
		xrstor64(area, xcr0_host);
	else
		fxrstor64(area);
}

void xcr0_enter(struct vp *vp)
{
	if (xsave_present && vp->cpustate.xcr0 != xcr0_host)
		xsetbv(0, vp->cpustate.xcr0);
}

/* A VP's XSETBV should always exit, but QEMU's TCG (7.2) ignores the SVM
 * XSETBV intercept and lets the guest set XCR0 itself (with the
 * hardware's own #UD/#GP checks). So XCR0 is read back after every run:
 * what the VP set stays its own, and never outlives the run. */
static void xsetbv_bypassed(struct vp *vp, uint64_t now)
{
	static bool told;

	if (!told) {
		told = true;
		hv_log("%s vp %u set XCR0 to %#lx without an XSETBV exit: this "
		       "CPU ignores the intercept; XCR0 is read back after each "
		       "run", vp->partition->name, vp->index, now);
	}
	vp->cpustate.xcr0 = now;
}

void xcr0_leave(struct vp *vp)
{
	uint64_t now;

	if (!xsave_present)
		return;
	now = xgetbv(0);
	if (now != vp->cpustate.xcr0)
		xsetbv_bypassed(vp, now);
	if (now != xcr0_host)
		xsetbv(0, xcr0_host);
}

enum exit_action exit_xsetbv(struct vp *vp, struct vp_exit *e)
{
	uint32_t index = (uint32_t)vp->gpr[GPR_RCX];
	uint64_t v = (vp->gpr[GPR_RDX] << 32) | (uint32_t)vp->gpr[GPR_RAX];
	struct vp_regs_view r;
	uint64_t n;

	virt->vp_read_regs(vp, &r);
	/* #UD comes before the privilege and value checks on hardware. */
	if (!xsave_present || !(r.cr4 & CR4_OSXSAVE))
		return EXIT_ACTION_INJECT_UD;
	if (r.cpl == 0 && index == 0 && xcr0_valid(v, xcr0_host)) {
		vp->cpustate.xcr0 = v;          /* loaded at the next entry */
		return EXIT_ACTION_ADVANCE;
	}
	if (refusal_log_due(&vp->partition->refused_xsetbv, &n))
		hv_log("%s vp %u: XSETBV XCR%u=%#lx at CPL %u refused (#GP)%s",
		       vp->partition->name, vp->index, index, v, r.cpl,
		       n > 3 ? ", more refused (logged at powers of two)" : "");
	return EXIT_ACTION_INJECT_GP;
}

void xsave_cpuid(struct vp *vp, uint32_t leaf, uint32_t sub,
		 struct cpuid_regs *r)
{
	struct vp_regs_view v;

	virt->vp_read_regs(vp, &v);
	switch (leaf) {
	case 1:
		/* Hardware answers with the host's CR4, not the VP's. */
		r->ecx &= ~CPUID1_ECX_OSXSAVE;
		if (v.cr4 & CR4_OSXSAVE)
			r->ecx |= CPUID1_ECX_OSXSAVE;
		break;
	case 7:
		if (sub != 0)
			break;
		r->ecx &= ~CPUID7_ECX_OSPKE;
		if (v.cr4 & CR4_PKE)
			r->ecx |= CPUID7_ECX_OSPKE;
		r->edx &= ~CPUID7_EDX_AMX;
		break;
	case 0xd:
		if (!xsave_present)
			break;
		if (sub == 0) {
			r->eax = (uint32_t)xcr0_host;
			r->edx = (uint32_t)(xcr0_host >> 32);
			r->ebx = xsave_bytes(vp->cpustate.xcr0 ? vp->cpustate.xcr0 :
					     XCR0_X87);
			r->ecx = xsave_bytes(xcr0_host);
		} else if (sub == 1) {
			r->eax &= CPUIDD1_EAX_KEPT;     /* no XSAVES, no XFD */
			r->ebx = r->ecx = r->edx = 0;
		} else if (sub >= 64 || !(xcr0_host & (1ull << sub))) {
			*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		}
		break;
	}
}
