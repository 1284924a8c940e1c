/*
 * The synthetic interrupt controller (TLFS chapter 11), as far as the
 * root partition needs it to receive intercept messages: SCONTROL,
 * SVERSION, SIMP, SIEFP, EOM and SINT0-15, per VP. A message goes into
 * the SINT's 256-byte slot of the message page if the slot is free
 * (message type 0), and the SINT's vector is raised; if the slot is busy
 * the message waits, its slot gets the MessagePending flag, and the
 * guest's EOM write makes the hypervisor try again.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "gmem.h"
#include "synic.h"
#include "vpops.h"

#define SINT_WRITABLE (HV_SYNIC_SINT_VECTOR_MASK | HV_SYNIC_SINT_MASKED | \
		       HV_SYNIC_SINT_AUTO_EOI | (1ull << 18))    /* polling */

static bool sint_is(uint32_t msr)
{
	return msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15;
}

bool synic_msr_read(struct vp *vp, uint32_t msr, uint64_t *v)
{
	struct synic *s = &vp->synic;

	if (sint_is(msr)) {
		*v = s->sint[msr - HV_X64_MSR_SINT0];
		return true;
	}
	switch (msr) {
	case HV_X64_MSR_SCONTROL:
		*v = s->scontrol;
		return true;
	case HV_X64_MSR_SVERSION:
		*v = HV_SYNIC_VERSION;
		return true;
	case HV_X64_MSR_SIMP:
		*v = s->simp;
		return true;
	case HV_X64_MSR_SIEFP:
		*v = s->siefp;
		return true;
	case HV_X64_MSR_EOM:
		*v = 0;
		return true;
	}
	return false;
}

/* Deliver the message waiting for `sint`, if its slot is free now. */
static void synic_retry(struct vp *vp, unsigned sint)
{
	if (vp->synic.queued[sint] &&
	    synic_post(vp, sint, &vp->synic.queue[sint]) == 0)
		vp->synic.queued[sint] = false;
}

/* Returns -1 for a value the TLFS calls reserved (the caller's #GP). */
int synic_msr_write(struct vp *vp, uint32_t msr, uint64_t v)
{
	struct synic *s = &vp->synic;

	if (sint_is(msr)) {
		unsigned n = msr - HV_X64_MSR_SINT0;

		if (v & ~SINT_WRITABLE)
			return -1;
		s->sint[n] = v;
		synic_retry(vp, n);
		return 0;
	}
	switch (msr) {
	case HV_X64_MSR_SCONTROL:
		if (v & ~HV_SYNIC_SCONTROL_ENABLE)
			return -1;
		s->scontrol = v;
		return 0;
	case HV_X64_MSR_SIMP:
	case HV_X64_MSR_SIEFP:
		if (v & 0xffeull)
			return -1;
		if ((v & 1) && !gpa_to_hva(vp->partition, v & ~0xfffull, PAGE_SIZE))
			return -1;      /* must be the partition's own RAM */
		if (msr == HV_X64_MSR_SIMP)
			s->simp = v;
		else
			s->siefp = v;
		return 0;
	case HV_X64_MSR_EOM:
		for (unsigned n = 0; n < HV_SYNIC_SINT_COUNT; n++)
			synic_retry(vp, n);
		return 0;
	}
	return -1;
}

/* Set event flag `flag` of `sint` in the VP's event-flag page and raise
 * the SINT if the flag was clear: a set flag already has an interrupt on
 * its way. -1 when the SynIC or the page is not enabled. */
int synic_signal(struct vp *vp, unsigned sint, unsigned flag)
{
	struct synic *s = &vp->synic;
	uint8_t *flags;
	uint8_t bit = (uint8_t)(1u << (flag % 8)), old;

	if (!(s->scontrol & HV_SYNIC_SCONTROL_ENABLE) || !(s->siefp & 1) ||
	    (s->sint[sint] & HV_SYNIC_SINT_MASKED))
		return -1;
	flags = gpa_to_hva(vp->partition, (s->siefp & ~0xfffull) +
			   sint * (HV_EVENT_FLAGS_PER_SINT / 8) + flag / 8, 1);
	if (!flags)
		return -1;
	old = __atomic_fetch_or(flags, bit, __ATOMIC_SEQ_CST);
	if (!(old & bit))
		irq_post(vp, (uint8_t)(s->sint[sint] & HV_SYNIC_SINT_VECTOR_MASK));
	return 0;
}

int synic_post(struct vp *vp, unsigned sint, const struct hv_message *m)
{
	struct synic *s = &vp->synic;
	struct hv_message *slot;
	uint64_t sintv = s->sint[sint];

	if (!(s->scontrol & HV_SYNIC_SCONTROL_ENABLE) || !(s->simp & 1) ||
	    (sintv & HV_SYNIC_SINT_MASKED))
		goto queue;
	slot = gpa_to_hva(vp->partition, (s->simp & ~0xfffull) + sint * sizeof(*slot),
			  sizeof(*slot));
	if (!slot)
		goto queue;
	if (__atomic_load_n(&slot->header.message_type, __ATOMIC_ACQUIRE) != HVMSG_NONE) {
		/* Busy: ask the guest to write EOM when it frees the slot. */
		slot->header.message_flags |= HV_MESSAGE_FLAG_PENDING;
		goto queue;
	}
	/* Payload first, the type last: the type is what marks it full. */
	memcpy(slot->payload, m->payload, sizeof(slot->payload));
	slot->header.payload_size = m->header.payload_size;
	slot->header.message_flags = 0;
	slot->header.sender = m->header.sender;
	__atomic_store_n(&slot->header.message_type, m->header.message_type,
			 __ATOMIC_RELEASE);
	irq_post(vp, (uint8_t)(sintv & HV_SYNIC_SINT_VECTOR_MASK));
	return 0;
queue:
	if (s->queued[sint])
		return -1;      /* one waiting message per SINT is the limit */
	s->queue[sint] = *m;
	s->queued[sint] = true;
	return 0;
}
