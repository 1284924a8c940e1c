/*
 * The FPU modes: XSETBV's checks, then a pattern in every vector
 * register, MXCSR, the x87 control word, XCR0 and TSC_AUX, checked after
 * every yield of the CPU. Writer and checker use different values for
 * all of them (and different XCR0 masks where the CPU offers the bits),
 * so whatever the hypervisor fails to switch shows up on one side (on
 * whichever loaded its values first), and each names the other's values
 * when it sees them.
 */
#include <string.h>
#include "isolate.h"

#define CPUID1_ECX_XSAVE    (1u << 26)
#define CPUID1_ECX_OSXSAVE  (1u << 27)
#define CPUID1_ECX_AVX      (1u << 28)
#define CPUIDX1_EDX_RDTSCP  (1u << 27)
#define HV_SIGNATURE_EBX    0x7263694d  /* "Micr" */
#define HV_MSR_TSC_FREQUENCY 0x40000022
#define VEC_UD 6
#define VEC_GP 13
#define MIN_ROUNDS 1000
#define GAP_FACTOR 20   /* a yield this much slower than the fastest: something else ran */

struct side {
	const char *name;
	uint8_t seed;
	uint32_t mxcsr;                 /* rounding control differs */
	uint16_t fcw;
	uint32_t tsc_aux;
	uint64_t xcr0_extra;            /* over x87|SSE|AVX, where offered */
};

static const struct side writer_side = {
	"writer", 0xa5, 0x7f80, 0x0f7f, 0xa5a5, XCR0_BNDREGS | XCR0_BNDCSR,
};
static const struct side checker_side = {
	"checker", 0x3c, 0x3f80, 0x077f, 0x5a5a, XCR0_PKRU,
};

struct regs {
	uint8_t v[VEC_REGS][32];
	uint64_t control;               /* vec_get_control(): FCW << 32 | MXCSR */
	uint64_t xcr0;
	uint32_t tsc_aux;
};

static bool use_avx, use_xsave, use_rdtscp;
static unsigned width = 16;             /* bytes per register checked */

static bool faulted_with(int err, unsigned vector)
{
	return err && extable_last_vector == vector;
}

static uint32_t rdtscp_aux(void)
{
	uint32_t lo, hi, aux;

	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	return aux;
}

/* XSETBV before CR4.OSXSAVE, the values it must refuse, and the CPUID
 * bits that follow this VP's CR4 and XCR0. Leaves XCR0 at x87|SSE|AVX
 * when AVX is offered, else x87|SSE. */
static void xsetbv_tests(void)
{
	static const struct { uint32_t index; uint64_t value; } bad[] = {
		{ 1, XCR0_X87 },                                /* ECX != 0 */
		{ 0, 0 },                                       /* no x87 */
		{ 0, XCR0_X87 | XCR0_AVX },                     /* AVX, no SSE */
		{ 0, XCR0_X87 | XCR0_SSE | (1ull << 62) },      /* reserved */
		{ 0, XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK }, /* part AVX-512 */
	};
	struct cpuid_regs c1 = cpuid(1, 0), d;
	bool os_before, os_after, ud, sizes;
	unsigned gp = 0;
	uint64_t mask, xcr0_reset;
	uint32_t size_x87, size_avx = 0;

	ud = faulted_with(xsetbv_safe(0, XCR0_X87), VEC_UD);
	if (!(c1.ecx & CPUID1_ECX_XSAVE)) {
		tap_result(ud, "isolate xsetbv: XSETBV raised %s # SKIP no XSAVE "
			   "offered", ud ? "#UD" : "no #UD");
		return;
	}
	os_before = c1.ecx & CPUID1_ECX_OSXSAVE;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	os_after = cpuid(1, 0).ecx & CPUID1_ECX_OSXSAVE;
	use_xsave = true;
	xcr0_reset = xgetbv(0);
	d = cpuid(0xd, 0);
	mask = ((uint64_t)d.edx << 32) | d.eax;
	size_x87 = d.ebx;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		if (faulted_with(xsetbv_safe(bad[i].index, bad[i].value), VEC_GP))
			gp++;
		else
			kprint("XSETBV XCR%u=%#lx: no #GP", bad[i].index, bad[i].value);
	}
	tap_result(ud && gp == ARRAY_SIZE(bad) && xgetbv(0) == XCR0_X87,
		   "isolate xsetbv: #UD %s CR4.OSXSAVE; %u of %u bad values "
		   "(ECX=1, no x87, AVX without SSE, a reserved bit, part of "
		   "AVX-512) #GP; XCR0 stays %#lx", ud ? "before" : "MISSING before",
		   gp, (unsigned)ARRAY_SIZE(bad), xgetbv(0));
	if ((c1.ecx & CPUID1_ECX_AVX) && (mask & XCR0_AVX) &&
	    xsetbv_safe(0, XCR0_X87 | XCR0_SSE | XCR0_AVX) == 0) {
		struct cpuid_regs ymm = cpuid(0xd, 2);

		use_avx = true;
		width = 32;
		size_avx = cpuid(0xd, 0).ebx;
		sizes = size_x87 == 576 && size_avx == ymm.ebx + ymm.eax &&
			xgetbv(0) == (XCR0_X87 | XCR0_SSE | XCR0_AVX);
	} else {
		sizes = size_x87 == 576 && xsetbv_safe(0, XCR0_X87 | XCR0_SSE) == 0;
	}
	tap_result(!os_before && os_after && xcr0_reset == XCR0_X87 && sizes,
		   "isolate xsetbv: CPUID OSXSAVE follows CR4 (%u then %u), XCR0 "
		   "starts at %#lx, XSAVE size follows XCR0 (%u at 0x1, %u at 0x7), "
		   "offered %#lx", os_before, os_after, xcr0_reset, size_x87,
		   size_avx, mask);
}

static void regs_fill(const struct side *s, struct regs *r)
{
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < VEC_REGS; i++)
		for (unsigned b = 0; b < 32; b++)
			r->v[i][b] = (uint8_t)(s->seed + i * 32 + b) | 1;
	r->control = (uint64_t)s->fcw << 32 | s->mxcsr;
	r->tsc_aux = s->tsc_aux;
}

/* What this side expects to keep: its pattern, its XCR0, and the
 * register width in use. */
static void regs_load(const struct side *s, struct regs *r)
{
	uint8_t x[VEC_REGS][16];

	regs_fill(s, r);
	r->xcr0 = 0;
	if (use_xsave) {
		struct cpuid_regs d = cpuid(0xd, 0);
		uint64_t offered = ((uint64_t)d.edx << 32) | d.eax;
		uint64_t want = xgetbv(0) | (s->xcr0_extra & offered);

		if ((s->xcr0_extra & offered) != s->xcr0_extra)
			want = xgetbv(0);       /* MPX needs both bits */
		if (xsetbv_safe(0, want))
			want = xgetbv(0);
		r->xcr0 = want;
	}
	if (use_avx) {
		vec_load_ymm(r->v);
	} else {
		for (unsigned i = 0; i < VEC_REGS; i++)
			memcpy(x[i], r->v[i], 16);
		vec_load_xmm(x);
	}
	vec_set_control(s->mxcsr, s->fcw);
}

static void regs_read(struct regs *r)
{
	uint8_t x[VEC_REGS][16];

	memset(r, 0, sizeof(*r));
	if (use_avx) {
		vec_store_ymm(r->v);
	} else {
		vec_store_xmm(x);
		for (unsigned i = 0; i < VEC_REGS; i++)
			memcpy(r->v[i], x[i], 16);
	}
	r->control = vec_get_control();
	r->xcr0 = use_xsave ? xgetbv(0) : 0;
	r->tsc_aux = use_rdtscp ? rdtscp_aux() : 0;
}

/* The first difference between `now` and `want`, in words; false when
 * there is none. Lanes are 16 bytes (XMM, or a YMM upper half). */
static bool regs_differ(const struct regs *now, const struct regs *want,
			char *why, size_t len)
{
	for (unsigned i = 0; i < VEC_REGS; i++)
		for (unsigned lane = 0; lane < width / 16; lane++)
			if (memcmp(now->v[i] + lane * 16, want->v[i] + lane * 16, 16)) {
				ksnprintf(why, len, "%s%u%s", use_avx ? "ymm" : "xmm",
					  i, lane ? " upper half" : "");
				return true;
			}
	if (now->control != want->control) {
		ksnprintf(why, len, "MXCSR/FCW %#lx", now->control);
		return true;
	}
	if (now->xcr0 != want->xcr0) {
		ksnprintf(why, len, "XCR0 %#lx", now->xcr0);
		return true;
	}
	if (use_rdtscp && now->tsc_aux != want->tsc_aux) {
		ksnprintf(why, len, "TSC_AUX %#x", now->tsc_aux);
		return true;
	}
	return false;
}

/* Any of the other side's values here (its XCR0 only where it differs
 * from ours). */
static bool regs_show(const struct regs *now, const struct regs *other,
		      const struct regs *own, const char *whose, char *why,
		      size_t len)
{
	for (unsigned i = 0; i < VEC_REGS; i++)
		for (unsigned lane = 0; lane < width / 16; lane++)
			if (!memcmp(now->v[i] + lane * 16, other->v[i] + lane * 16, 16)) {
				ksnprintf(why, len, "the %s's %s%u%s", whose,
					  use_avx ? "ymm" : "xmm", i,
					  lane ? " upper half" : "");
				return true;
			}
	if (now->control == other->control ||
	    (use_rdtscp && now->tsc_aux == other->tsc_aux) ||
	    (other->xcr0 != own->xcr0 && now->xcr0 == other->xcr0)) {
		ksnprintf(why, len, "the %s's MXCSR/FCW, TSC_AUX or XCR0", whose);
		return true;
	}
	return false;
}

static uint64_t tsc_hz(void)
{
	uint64_t hz;

	if (cpuid(0x40000000, 0).ebx == HV_SIGNATURE_EBX &&
	    rdmsr_safe(HV_MSR_TSC_FREQUENCY, &hz) == 0 && hz)
		return hz;
	return 2000000000ull;   /* natively: a guess; only the duration changes */
}

/* TSC_AUX starts as this VP's own (VP index 0) and takes our value. */
static bool tsc_aux_setup(const struct side *s, char *why, size_t len)
{
	uint64_t v = ~0ull;

	use_rdtscp = cpuid(0x80000001, 0).edx & CPUIDX1_EDX_RDTSCP;
	if (!use_rdtscp) {
		ksnprintf(why, len, " # SKIP no RDTSCP offered");
		return true;
	}
	if (rdmsr_safe(MSR_TSC_AUX, &v) || v != 0 || rdtscp_aux() != 0) {
		ksnprintf(why, len, ": initial TSC_AUX %#lx, RDTSCP %#x, expected 0",
			  v, rdtscp_aux());
		return false;
	}
	if (wrmsr_safe(MSR_TSC_AUX, s->tsc_aux) || rdtscp_aux() != s->tsc_aux) {
		ksnprintf(why, len, ": WRMSR TSC_AUX %#x refused or not seen",
			  s->tsc_aux);
		return false;
	}
	ksnprintf(why, len, " (0 at start, then %#x)", s->tsc_aux);
	return true;
}

void fpu_tests(bool writer)
{
	const struct side *me = writer ? &writer_side : &checker_side;
	const struct side *them = writer ? &checker_side : &writer_side;
	uint64_t seconds = cmdline_u64(boot.cmdline, "seconds=", writer ? 6 : 3);
	uint64_t rounds = 0, gaps = 0, fastest = ~0ull, start, end;
	struct regs own, other, now;
	char why[80] = "", seen[80] = "", aux[80], xcr0[24] = "";
	bool bad = false, saw_other = false, aux_ok;

	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	xsetbv_tests();
	aux_ok = tsc_aux_setup(me, aux, sizeof(aux));
	tap_result(aux_ok, "isolate tsc_aux: RDTSCP reads this VP's own TSC_AUX%s", aux);
	regs_fill(them, &other);
	other.xcr0 = XCR0_X87 | XCR0_SSE | XCR0_AVX | them->xcr0_extra;
	regs_load(me, &own);
	start = guest_tsc();
	end = start + seconds * tsc_hz();
	while (!bad && (guest_tsc() < end || rounds < MIN_ROUNDS)) {
		uint64_t t0 = guest_tsc(), t;

		cpuid(0, 0);                    /* exits: another VP may run */
		t = guest_tsc() - t0;
		if (t < fastest)
			fastest = t;
		else if (t > fastest * GAP_FACTOR)
			gaps++;
		regs_read(&now);
		bad = regs_differ(&now, &own, why, sizeof(why));
		if (!saw_other)
			saw_other = regs_show(&now, &other, &own, them->name, seen,
					      sizeof(seen));
		rounds++;
	}
	if (use_xsave)
		ksnprintf(xcr0, sizeof(xcr0), ", XCR0 %#lx", own.xcr0);
	tap_result(!bad, "isolate fpu: %s kept %s0-15, MXCSR, FCW%s%s over %lu "
		   "yields (%lu long)%s%s", me->name, use_avx ? "YMM" : "XMM",
		   xcr0, use_rdtscp ? ", TSC_AUX" : "",
		   rounds, gaps, bad ? "; changed: " : "", why);
	tap_result(!saw_other, "isolate fpu: %s never saw the %s's values%s%s",
		   me->name, them->name, saw_other ? "; saw " : "", seen);
}
