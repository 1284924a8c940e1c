/*
 * The TLFS hypercall input rules, separated from the dispatcher so host
 * tests can drive them: decoding and checking the input value against a
 * call's shape, and checking a parameter area's alignment, page crossing
 * and ownership.
 */
#ifndef HV_HYPERCALL_ABI_H
#define HV_HYPERCALL_ABI_H

#include <stdbool.h>
#include <stdint.h>

#define HC_PAGE_SIZE 4096u

/* What a hypercall takes and gives: sizes in bytes of the fixed part and
 * of each rep element (a rep call has in_rep or out_rep nonzero). */
struct hc_shape {
	uint16_t in_fixed, in_rep;
	uint16_t out_fixed, out_rep;
	bool fast_ok;
};

struct hc_input {
	uint16_t code;
	bool fast;
	unsigned rep_count, rep_start;
	uint64_t in_len, out_len;       /* bytes of parameters, memory calls */
};

/* The code of an input value, before its shape is known. */
static inline uint16_t hc_code(uint64_t input_value)
{
	return (uint16_t)input_value;
}

/* Decode `input_value` for a call of shape `shape` (NULL: no such call).
 * Returns HV_STATUS_SUCCESS or the status the TLFS gives: reserved bits,
 * a variable header we don't take, a rep count on a simple call (or none,
 * or a start past the count, on a rep call), or fast on a memory-only call
 * -> INVALID_HYPERCALL_INPUT; an unknown code -> INVALID_HYPERCALL_CODE. */
uint16_t hc_decode(uint64_t input_value, const struct hc_shape *shape,
		   struct hc_input *out);

/* A parameter area: 8-byte aligned and within one page, else
 * INVALID_ALIGNMENT; wholly the caller's memory, else INVALID_PARAMETER. */
uint16_t hc_check_area(uint64_t gpa, uint64_t len,
		       bool (*owned)(void *ctx, uint64_t gpa, uint64_t len),
		       void *ctx);

#endif
