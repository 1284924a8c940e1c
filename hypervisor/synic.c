/*
 * The synthetic interrupt controller (TLFS chapter 11), as far as the
 * root partition needs it to receive intercept messages: SCONTROL,
 * SVERSION, SIMP, SIEFP, EOM and SINT0-15, per VP.
 *
 * Messages are never dropped. A message goes into the SINT's 256-byte
 * slot of the message page if the slot is free (message type 0) and
 * nothing older waits, and the SINT's vector is raised. Otherwise it
 * joins the SINT's queue (oldest first), the slot gets the MessagePending
 * flag, and the guest's EOM write (or a write that enables the SIMP, the
 * SINT or the SynIC) delivers the next one. The queue holds records its
 * posters own (synic_msg): a child VP's intercept lives in the VP, which
 * stays suspended until the root completes it, so however many VPs
 * intercept at once each has its place; an HvPostMessage is copied into
 * the SINT's one posting buffer, and while that is taken the sender gets
 * HV_STATUS_INSUFFICIENT_BUFFERS (back-pressure: it retries, nothing it
 * was told succeeded is lost).
 *
 * The guest frees a slot by storing type 0, then (after a full barrier)
 * reading MessagePending and writing EOM if set. We set MessagePending,
 * then (after a full barrier) read the type again: if the guest freed the
 * slot meanwhile we deliver at once, so one of the two sides always sees
 * the other and no wake-up is lost.
 *
 * Locking: synic.lock of the target VP covers its SynIC registers and
 * queues; any CPU may post, only the VP's own CPU writes its MSRs.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "gmem.h"
#include "synic.h"
#include "vapic.h"
#include "vpops.h"

#define SINT_WRITABLE (HV_SYNIC_SINT_VECTOR_MASK | HV_SYNIC_SINT_MASKED | \
		       HV_SYNIC_SINT_AUTO_EOI | (1ull << 18))    /* polling */

/* A SINT's interrupt: a child takes it through its APIC, with automatic
 * EOI when the SINT asks for it (TLFS 11.8.3); the root's is recorded
 * for injection as before. */
static void sint_raise(struct vp *vp, uint64_t sint)
{
	uint8_t vector = (uint8_t)(sint & HV_SYNIC_SINT_VECTOR_MASK);

	if (vp->partition->is_root)
		irq_post(vp, vector);
	else
		vapic_post(vp, vector, false, sint & HV_SYNIC_SINT_AUTO_EOI);
}

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

/* Returns -1 for a value the TLFS calls reserved (the caller's #GP). */
/* The SINT's slot in the message page, or NULL while the SynIC, the
 * page or the SINT is off. */
static struct hv_message *slot_of(struct vp *vp, unsigned sint)
{
	struct synic *s = &vp->synic;

	if (!(s->scontrol & HV_SYNIC_SCONTROL_ENABLE) || !(s->simp & 1) ||
	    (s->sint[sint] & HV_SYNIC_SINT_MASKED))
		return NULL;
	return gpa_to_hva(vp->partition, (s->simp & ~0xfffull) +
			  sint * sizeof(struct hv_message), sizeof(struct hv_message));
}

static bool slot_free(struct hv_message *slot)
{
	return __atomic_load_n(&slot->header.message_type, __ATOMIC_ACQUIRE) == HVMSG_NONE;
}

/* Deliver queued messages of `sint` while its slot is free: one at a
 * time, since a delivered message fills the slot. Under synic.lock. */
static void synic_flush(struct vp *vp, unsigned sint)
{
	struct synic *s = &vp->synic;
	struct hv_message *slot;
	struct synic_msg *rec = s->head[sint];

	if (!rec || !(slot = slot_of(vp, sint)))
		return;
	if (!slot_free(slot)) {
		/* Busy: ask the guest to write EOM when it frees the slot, then
		 * look again in case it freed it before seeing the flag. */
		__atomic_or_fetch(&slot->header.message_flags, HV_MESSAGE_FLAG_PENDING,
				  __ATOMIC_SEQ_CST);
		if (!slot_free(slot))
			return;
	}
	s->head[sint] = rec->next;
	if (!s->head[sint])
		s->tail[sint] = NULL;
	rec->queued = false;
	/* Payload first, the type last: the type is what marks it full. */
	memcpy(slot->payload, rec->m.payload, sizeof(slot->payload));
	slot->header.payload_size = rec->m.header.payload_size;
	slot->header.message_flags = s->head[sint] ? HV_MESSAGE_FLAG_PENDING : 0;
	slot->header.sender = rec->m.header.sender;
	__atomic_store_n(&slot->header.message_type, rec->m.header.message_type,
			 __ATOMIC_RELEASE);
	sint_raise(vp, s->sint[sint]);
}

static int synic_msr_write_locked(struct vp *vp, uint32_t msr, uint64_t v)
{
	struct synic *s = &vp->synic;

	if (sint_is(msr)) {
		unsigned n = msr - HV_X64_MSR_SINT0;

		if (v & ~SINT_WRITABLE)
			return -1;
		s->sint[n] = v;
		synic_flush(vp, n);
		return 0;
	}
	switch (msr) {
	case HV_X64_MSR_SCONTROL:
		if (v & ~HV_SYNIC_SCONTROL_ENABLE)
			return -1;
		s->scontrol = v;
		break;
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
		break;
	case HV_X64_MSR_EOM:
		break;
	default:
		return -1;
	}
	for (unsigned n = 0; n < HV_SYNIC_SINT_COUNT; n++)
		synic_flush(vp, n);
	return 0;
}

int synic_msr_write(struct vp *vp, uint32_t msr, uint64_t v)
{
	int r;

	spin_lock(&vp->synic.lock);
	r = synic_msr_write_locked(vp, msr, v);
	spin_unlock(&vp->synic.lock);
	return r;
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
		sint_raise(vp, s->sint[sint]);
	return 0;
}

/* Post a record: delivered now if the slot is free and nothing older
 * waits, else queued (a record already queued just has its message
 * replaced: its poster has only one thing to say). */
static void post_locked(struct vp *vp, unsigned sint, struct synic_msg *rec)
{
	struct synic *s = &vp->synic;

	if (!rec->queued) {
		rec->next = NULL;
		rec->queued = true;
		if (s->tail[sint])
			s->tail[sint]->next = rec;
		else
			s->head[sint] = rec;
		s->tail[sint] = rec;
	}
	synic_flush(vp, sint);
}

void synic_post_held(struct vp *vp, unsigned sint, struct synic_msg *rec,
		     const struct hv_message *m)
{
	spin_lock(&vp->synic.lock);
	rec->m = *m;
	post_locked(vp, sint, rec);
	spin_unlock(&vp->synic.lock);
}

int synic_post(struct vp *vp, unsigned sint, const struct hv_message *m)
{
	struct synic_msg *rec = &vp->synic.posted[sint];
	int r = -1;

	spin_lock(&vp->synic.lock);
	if (!rec->queued) {
		rec->m = *m;
		post_locked(vp, sint, rec);
		r = 0;
	}
	spin_unlock(&vp->synic.lock);
	return r;
}

void synic_cancel(struct vp *vp, unsigned sint, struct synic_msg *rec)
{
	struct synic *s = &vp->synic;
	struct synic_msg **pp, *prev = NULL;

	spin_lock(&s->lock);
	for (pp = &s->head[sint]; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp != rec)
			continue;
		*pp = rec->next;
		if (s->tail[sint] == rec)
			s->tail[sint] = prev;
		rec->queued = false;
		break;
	}
	spin_unlock(&s->lock);
}

unsigned synic_queued(struct vp *vp, unsigned sint)
{
	unsigned n = 0;

	spin_lock(&vp->synic.lock);
	for (struct synic_msg *r = vp->synic.head[sint]; r; r = r->next)
		n++;
	spin_unlock(&vp->synic.lock);
	return n;
}
