/*
 * Host tests for the TLFS hypercall input rules (hypervisor/hypercall_abi.c):
 * every malformed input value and parameter area must get the status the
 * TLFS gives, never reach a handler.
 */
#include <stdint.h>
#include <isovisor/hvtlfs.h>
#include "check.h"
#include "hypercall_abi.h"

static const struct hc_shape simple = { 16, 0, 8, 0, false };
static const struct hc_shape fast_ok = { 0, 0, 0, 0, true };
static const struct hc_shape rep = { 16, 4, 0, 4, false };

/* The partition owns GPAs [0x1000, 0x9000). */
static bool owned(void *ctx, uint64_t gpa, uint64_t len)
{
	return gpa >= 0x1000 && len <= 0x8000 && gpa - 0x1000 <= 0x8000 - len;
}

static uint64_t value(uint16_t code, bool fast, unsigned count, unsigned start)
{
	return code | (fast ? HV_HYPERCALL_FAST_BIT : 0) |
	       ((uint64_t)count << HV_HYPERCALL_REP_COMP_SHIFT) |
	       ((uint64_t)start << HV_HYPERCALL_REP_START_SHIFT);
}

int main(void)
{
	struct hc_input in;

	CHECK(hc_decode(value(0x46, false, 0, 0), &simple, &in) == HV_STATUS_SUCCESS &&
	      in.code == 0x46 && in.in_len == 16 && in.out_len == 8 && !in.fast,
	      "a simple call decodes, with its parameter sizes");
	CHECK(hc_decode(value(0x46, false, 0, 0), NULL, &in) ==
	      HV_STATUS_INVALID_HYPERCALL_CODE, "an unknown code -> INVALID_HYPERCALL_CODE");
	for (unsigned bit = 0; bit < 64; bit++) {
		uint64_t v = value(0x46, false, 0, 0) | (1ull << bit);
		bool reserved = (1ull << bit) & HV_HYPERCALL_RSVD_MASK;

		if (!reserved)
			continue;
		CHECK(hc_decode(v, &simple, &in) == HV_STATUS_INVALID_HYPERCALL_INPUT,
		      "reserved bit %u set -> INVALID_HYPERCALL_INPUT", bit);
	}
	CHECK(hc_decode(value(0x46, false, 0, 0) | HV_HYPERCALL_RSVD_MASK, NULL, &in) ==
	      HV_STATUS_INVALID_HYPERCALL_INPUT,
	      "reserved bits are checked before the code is looked up");
	CHECK(hc_decode(value(0x46, false, 0, 0) | (1ull << HV_HYPERCALL_VARHEAD_SHIFT),
			&simple, &in) == HV_STATUS_INVALID_HYPERCALL_INPUT,
	      "a variable header on a call without one -> INVALID_HYPERCALL_INPUT");
	CHECK(hc_decode(value(0x46, false, 1, 0), &simple, &in) ==
	      HV_STATUS_INVALID_HYPERCALL_INPUT, "a rep count on a simple call -> INVALID_HYPERCALL_INPUT");
	CHECK(hc_decode(value(0x46, false, 0, 1), &simple, &in) ==
	      HV_STATUS_INVALID_HYPERCALL_INPUT, "a rep start on a simple call -> INVALID_HYPERCALL_INPUT");
	CHECK(hc_decode(value(0x9a, false, 0, 0), &rep, &in) ==
	      HV_STATUS_INVALID_HYPERCALL_INPUT, "a rep call with count 0 -> INVALID_HYPERCALL_INPUT");
	CHECK(hc_decode(value(0x9a, false, 3, 3), &rep, &in) ==
	      HV_STATUS_INVALID_HYPERCALL_INPUT, "rep start == count -> INVALID_HYPERCALL_INPUT");
	CHECK(hc_decode(value(0x9a, false, 3, 7), &rep, &in) ==
	      HV_STATUS_INVALID_HYPERCALL_INPUT, "rep start past count -> INVALID_HYPERCALL_INPUT");
	CHECK(hc_decode(value(0x9a, false, 4095, 2), &rep, &in) == HV_STATUS_SUCCESS &&
	      in.rep_count == 4095 && in.rep_start == 2 && in.in_len == 16 + 4095 * 4 &&
	      in.out_len == 4095 * 4, "the largest rep count decodes, lengths scale with it");
	CHECK(hc_decode(value(0x46, true, 0, 0), &simple, &in) ==
	      HV_STATUS_INVALID_HYPERCALL_INPUT, "fast on a memory-only call -> INVALID_HYPERCALL_INPUT");
	CHECK(hc_decode(value(0x8000, true, 0, 0), &fast_ok, &in) == HV_STATUS_SUCCESS &&
	      in.fast, "fast on a call that allows it decodes");

	CHECK(hc_check_area(0x2000, 16, owned, NULL) == HV_STATUS_SUCCESS, "an owned, aligned area is fine");
	CHECK(hc_check_area(0, 0, owned, NULL) == HV_STATUS_SUCCESS, "an empty area needs nothing");
	CHECK(hc_check_area(0x2004, 16, owned, NULL) == HV_STATUS_INVALID_ALIGNMENT,
	      "not 8-byte aligned -> INVALID_ALIGNMENT");
	CHECK(hc_check_area(0x2ff8, 16, owned, NULL) == HV_STATUS_INVALID_ALIGNMENT,
	      "crossing a page -> INVALID_ALIGNMENT");
	CHECK(hc_check_area(0x2000, 4096, owned, NULL) == HV_STATUS_SUCCESS,
	      "exactly one whole page is fine");
	CHECK(hc_check_area(0x2000, 4097, owned, NULL) == HV_STATUS_INVALID_ALIGNMENT,
	      "more than a page -> INVALID_ALIGNMENT");
	CHECK(hc_check_area(0x2000, UINT64_MAX, owned, NULL) == HV_STATUS_INVALID_ALIGNMENT,
	      "a huge length does not wrap into acceptance");
	CHECK(hc_check_area(0x100000, 16, owned, NULL) == HV_STATUS_INVALID_PARAMETER,
	      "memory the partition does not own -> INVALID_PARAMETER");
	CHECK(hc_check_area(0xfffffffffffff000ull, 16, owned, NULL) ==
	      HV_STATUS_INVALID_PARAMETER, "an address at the top of the space -> INVALID_PARAMETER");
	return done_testing();
}
