/*
 * Host tests for the XSETBV value rules (hypervisor/xcr0.c): every value
 * real hardware refuses with #GP must be refused, against a CPU offering
 * everything the hypervisor switches and against a smaller one.
 */
#include <stdint.h>
#include <isovisor/x86.h>
#include "check.h"
#include "xcr0.h"

#define ALL (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_BNDREGS | XCR0_BNDCSR | \
	     XCR0_AVX512 | XCR0_PKRU)
#define QEMU_MAX 0x21full                 /* what QEMU 7.2 TCG -cpu max offers */

int main(void)
{
	CHECK(xcr0_valid(XCR0_X87, ALL), "x87 alone (the reset value)");
	CHECK(xcr0_valid(XCR0_X87 | XCR0_SSE, ALL), "x87|SSE");
	CHECK(xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX, ALL), "x87|SSE|AVX");
	CHECK(xcr0_valid(ALL, ALL), "everything offered");
	CHECK(xcr0_valid(XCR0_X87 | XCR0_PKRU, ALL), "PKRU needs nothing else");
	CHECK(xcr0_valid(XCR0_X87 | XCR0_BNDREGS | XCR0_BNDCSR, ALL),
	      "MPX without SSE is allowed");
	CHECK(!xcr0_valid(0, ALL), "zero: x87 off");
	CHECK(!xcr0_valid(XCR0_SSE, ALL), "SSE without x87");
	CHECK(!xcr0_valid(XCR0_X87 | XCR0_AVX, ALL), "AVX without SSE");
	CHECK(!xcr0_valid(XCR0_X87 | XCR0_BNDREGS, ALL), "BNDREGS without BNDCSR");
	CHECK(!xcr0_valid(XCR0_X87 | XCR0_BNDCSR, ALL), "BNDCSR without BNDREGS");
	CHECK(!xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK, ALL),
	      "opmask without the ZMM halves");
	CHECK(!xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK |
			  XCR0_ZMM_HI256, ALL), "AVX-512 without Hi16_ZMM");
	CHECK(!xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX512, ALL),
	      "AVX-512 without AVX");
	CHECK(!xcr0_valid(XCR0_X87 | (1ull << 8), ALL), "bit 8 (supervisor PT)");
	CHECK(!xcr0_valid(XCR0_X87 | (1ull << 17) | (1ull << 18), ALL),
	      "AMX tiles: never switched, so never offered");
	CHECK(!xcr0_valid(XCR0_X87 | (1ull << 62), ALL), "bit 62 reserved");
	CHECK(!xcr0_valid(XCR0_X87 | (1ull << 63), ALL), "bit 63 reserved");
	CHECK(!xcr0_valid(ALL, QEMU_MAX), "AVX-512 where the CPU has none");
	CHECK(xcr0_valid(QEMU_MAX, QEMU_MAX), "QEMU's whole mask");
	CHECK(!xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX, XCR0_X87 | XCR0_SSE),
	      "AVX on a CPU without it");
	return done_testing();
}
