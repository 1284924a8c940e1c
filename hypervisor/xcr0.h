/*
 * The XSETBV value rules, apart from the exit handler so host tests can
 * drive them (tests/unit/test_xcr0.c).
 */
#ifndef HV_XCR0_H
#define HV_XCR0_H

#include <stdbool.h>
#include <stdint.h>

/* Would XSETBV accept `v` for XCR0 on a CPU whose XCR0 may hold the bits
 * `supported`? The #GP conditions on the value (SDM vol. 2, XSETBV; APM
 * vol. 4): a bit outside `supported`, x87 off, AVX without SSE, MPX
 * BNDREGS without BNDCSR or the reverse, AVX-512's three bits not all
 * together, or set without AVX. */
bool xcr0_valid(uint64_t v, uint64_t supported);

#endif
