/* TLFS hypercall input rules; see hypercall_abi.h. */
#include <isovisor/hvtlfs.h>
#include "hypercall_abi.h"

uint16_t hc_decode(uint64_t input, const struct hc_shape *s, struct hc_input *out)
{
	bool rep;

	if (input & HV_HYPERCALL_RSVD_MASK)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (!s)
		return HV_STATUS_INVALID_HYPERCALL_CODE;
	out->code = hc_code(input);
	out->fast = input & HV_HYPERCALL_FAST_BIT;
	out->rep_count = (unsigned)((input & HV_HYPERCALL_REP_COMP_MASK) >>
				    HV_HYPERCALL_REP_COMP_SHIFT);
	out->rep_start = (unsigned)((input & HV_HYPERCALL_REP_START_MASK) >>
				    HV_HYPERCALL_REP_START_SHIFT);
	if (input & HV_HYPERCALL_VARHEAD_MASK)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	rep = s->in_rep || s->out_rep;
	if (rep && (!out->rep_count || out->rep_start >= out->rep_count))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (!rep && (out->rep_count || out->rep_start))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (out->fast && !s->fast_ok)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	out->in_len = s->in_fixed + (uint64_t)out->rep_count * s->in_rep;
	out->out_len = s->out_fixed + (uint64_t)out->rep_count * s->out_rep;
	return HV_STATUS_SUCCESS;
}

uint16_t hc_check_area(uint64_t gpa, uint64_t len,
		       bool (*owned)(void *ctx, uint64_t gpa, uint64_t len),
		       void *ctx)
{
	if (!len)
		return HV_STATUS_SUCCESS;
	if (gpa & 7)
		return HV_STATUS_INVALID_ALIGNMENT;
	if (len > HC_PAGE_SIZE || (gpa & (HC_PAGE_SIZE - 1)) > HC_PAGE_SIZE - len)
		return HV_STATUS_INVALID_ALIGNMENT;
	if (!owned(ctx, gpa, len))
		return HV_STATUS_INVALID_PARAMETER;
	return HV_STATUS_SUCCESS;
}
