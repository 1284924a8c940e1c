/* The XSETBV value rules (xcr0.h). Portable: built for host tests too. */
#include <isovisor/x86.h>
#include "xcr0.h"

bool xcr0_valid(uint64_t v, uint64_t supported)
{
	if (v & ~supported)
		return false;
	if (!(v & XCR0_X87))
		return false;                   /* x87 state is always on */
	if ((v & XCR0_AVX) && !(v & XCR0_SSE))
		return false;
	if (!(v & XCR0_BNDREGS) != !(v & XCR0_BNDCSR))
		return false;                   /* MPX: both or neither */
	if ((v & XCR0_AVX512) && ((v & XCR0_AVX512) != XCR0_AVX512 ||
				  !(v & XCR0_AVX)))
		return false;                   /* AVX-512: all three, on AVX */
	return true;
}
