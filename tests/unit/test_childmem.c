/*
 * Host tests for a child's RAM layout (drivers/partsvc.h): up to 3 GiB
 * from 0, the rest from 4 GiB, and the range check every device model
 * that takes a guest address uses.
 */
#include <stdint.h>
#include "check.h"
#include "partsvc.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

int main(void)
{
	CHECK(child_ram_low(256 * MiB) == 256 * MiB && child_ram_high(256 * MiB) == 0,
	      "256 MiB: all below 3 GiB");
	CHECK(child_ram_low(3 * GiB) == 3 * GiB && child_ram_high(3 * GiB) == 0,
	      "exactly 3 GiB: all low");
	CHECK(child_ram_low(6 * GiB) == 3 * GiB && child_ram_high(6 * GiB) == 3 * GiB,
	      "6 GiB: 3 low, 3 from 4 GiB");
	CHECK(child_ram_contains(256 * MiB, 0, 256 * MiB) &&
	      !child_ram_contains(256 * MiB, 256 * MiB - 4096, 8192),
	      "the top of a small child's RAM, and one page past it");
	CHECK(!child_ram_contains(6 * GiB, 0xfec00000ull, 4) &&
	      !child_ram_contains(6 * GiB, 0xfee00000ull, 4) &&
	      !child_ram_contains(6 * GiB, 3 * GiB - 8, 16),
	      "the MMIO hole is never RAM, nor a range across its start");
	CHECK(child_ram_contains(6 * GiB, 4 * GiB, 3 * GiB) &&
	      !child_ram_contains(6 * GiB, 4 * GiB, 3 * GiB + 1) &&
	      !child_ram_contains(6 * GiB, 7 * GiB, 1),
	      "the high part: exactly 3 GiB from 4 GiB");
	CHECK(!child_ram_contains(6 * GiB, UINT64_MAX - 10, 100) &&
	      !child_ram_contains(6 * GiB, 4 * GiB, UINT64_MAX),
	      "ranges that wrap are refused");
	return done_testing();
}
