/*
 * Host tests of the SynIC's message queues (hypervisor/synic.c, built in
 * here against a fake partition whose message page is host memory):
 * nothing posted is ever lost however many posters share a SINT; messages
 * come out oldest first, one per EOM; a record posted again while it
 * waits keeps its place; a cancelled record never appears; the
 * MessagePending flag is set while more wait; a masked SINT or a disabled
 * SIMP holds messages until enabled; HvPostMessage's one buffer per SINT
 * says "busy" (the caller's INSUFFICIENT_BUFFERS) instead of dropping.
 */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "../../hypervisor/synic.c"

static uint8_t msg_page[4096] __attribute__((aligned(4096)));
static unsigned irqs;
static uint8_t last_vector;

void *gpa_to_hva(struct partition *p, uint64_t gpa, uint64_t len)
{
	if (gpa >= 0x10000 && gpa + len <= 0x11000)
		return msg_page + (gpa - 0x10000);
	return NULL;
}

static unsigned root_irqs, child_irqs;
static bool last_aeoi;

void irq_post(struct vp *vp, uint8_t vector)
{
	irqs++;
	root_irqs++;
	last_vector = vector;
}

/* A child's SINT goes through its virtual APIC, AutoEOI as the SINT says. */
bool vapic_post(struct vp *vp, uint8_t vector, bool level, bool auto_eoi)
{
	irqs++;
	child_irqs++;
	last_vector = vector;
	last_aeoi = auto_eoi;
	return !level;
}

static struct hv_message *slot(unsigned sint)
{
	return (struct hv_message *)msg_page + sint;
}

static struct hv_message msg(uint32_t type, uint64_t sender)
{
	struct hv_message m;

	memset(&m, 0, sizeof(m));
	m.header.message_type = type;
	m.header.payload_size = 8;
	m.header.sender = sender;
	memcpy(m.payload, &sender, 8);
	return m;
}

/* The guest's side: take the message in the slot (0 when empty), free the
 * slot, and write EOM as Linux does, only when MessagePending is set. */
static uint64_t take(struct vp *vp, unsigned sint, bool always_eom)
{
	struct hv_message *s = slot(sint);
	uint64_t who;
	bool pending;

	if (s->header.message_type == HVMSG_NONE)
		return 0;
	who = s->header.sender;
	pending = s->header.message_flags & HV_MESSAGE_FLAG_PENDING;
	s->header.message_type = HVMSG_NONE;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (pending || always_eom)
		synic_msr_write(vp, HV_X64_MSR_EOM, 0);
	return who;
}

static void enable(struct vp *vp)
{
	for (unsigned i = 0; i < HV_SYNIC_SINT_COUNT; i++)
		vp->synic.sint[i] = HV_SYNIC_SINT_MASKED;
	CHECK(synic_msr_write(vp, HV_X64_MSR_SIMP, 0x10000 | 1) == 0, "SIMP enabled");
	CHECK(synic_msr_write(vp, HV_X64_MSR_SINT0, 0x51) == 0, "SINT0 unmasked, vector 0x51");
	CHECK(synic_msr_write(vp, HV_X64_MSR_SCONTROL, 1) == 0, "SCONTROL enabled");
}

int main(void)
{
	static struct partition part;
	static struct vp root, child[300];
	uint64_t order[300];
	unsigned n = 0, bad_order = 0;

	root.partition = &part;
	part.is_root = true;
	enable(&root);
	/* 300 child VPs intercept at once: every message waits in its VP. */
	for (unsigned i = 0; i < 300; i++) {
		struct hv_message m = msg(HVMSG_X64_IO_PORT_INTERCEPT, 1000 + i);

		synic_post_held(&root, 0, &child[i].intercept, &m);
	}
	CHECK(slot(0)->header.sender == 1000 && irqs == 1 && last_vector == 0x51,
	      "the first intercept is in the slot at once, with one interrupt");
	CHECK(slot(0)->header.message_flags & HV_MESSAGE_FLAG_PENDING,
	      "MessagePending is set while others wait");
	CHECK(synic_queued(&root, 0) == 299, "the other 299 wait (%u)", synic_queued(&root, 0));
	for (uint64_t who; (who = take(&root, 0, false)) && n < 300;)
		order[n++] = who;
	for (unsigned i = 0; i < n; i++)
		bad_order += order[i] != 1000 + i;
	CHECK(n == 300 && bad_order == 0 && irqs == 300,
	      "all 300 came out, oldest first, one interrupt each (%u, %u out of order, "
	      "%u interrupts), with EOM only when MessagePending said so", n, bad_order, irqs);
	CHECK(!(slot(0)->header.message_flags & HV_MESSAGE_FLAG_PENDING) &&
	      synic_queued(&root, 0) == 0, "nothing left, MessagePending clear");

	/* Posted again while waiting: the newer message, its old place. */
	{
		struct hv_message a = msg(1, 1), b = msg(1, 2), b2 = msg(1, 22), c = msg(1, 3);

		synic_post_held(&root, 0, &child[0].intercept, &a);
		synic_post_held(&root, 0, &child[1].intercept, &b);
		synic_post_held(&root, 0, &child[2].intercept, &c);
		synic_post_held(&root, 0, &child[1].intercept, &b2);
		CHECK(synic_queued(&root, 0) == 2, "a record posted twice waits once");
		CHECK(take(&root, 0, false) == 1 && take(&root, 0, false) == 22 &&
		      take(&root, 0, false) == 3 && take(&root, 0, false) == 0,
		      "it keeps its place and carries its newer message");
	}
	/* A cancelled record (its partition deleted) never appears. */
	{
		struct hv_message a = msg(1, 1), b = msg(1, 2), c = msg(1, 3), d = msg(1, 4);

		synic_post_held(&root, 0, &child[0].intercept, &a);
		synic_post_held(&root, 0, &child[1].intercept, &b);
		synic_post_held(&root, 0, &child[2].intercept, &c);
		synic_post_held(&root, 0, &child[3].intercept, &d);
		synic_cancel(&root, 0, &child[3].intercept);      /* the tail */
		synic_cancel(&root, 0, &child[1].intercept);      /* the middle */
		synic_cancel(&root, 0, &child[0].intercept);      /* delivered: no-op */
		CHECK(!child[1].intercept.queued && !child[3].intercept.queued,
		      "cancelled records are out of the queue");
		CHECK(take(&root, 0, false) == 1 && take(&root, 0, false) == 3 &&
		      take(&root, 0, false) == 0, "the cancelled ones never appear");
		synic_post_held(&root, 0, &child[3].intercept, &d);
		CHECK(take(&root, 0, false) == 4, "a cancelled tail leaves the queue usable");
	}
	/* A masked SINT holds messages; unmasking delivers. */
	{
		struct hv_message a = msg(1, 7), b = msg(1, 8);

		CHECK(synic_msr_write(&root, HV_X64_MSR_SINT0, 0x51 | HV_SYNIC_SINT_MASKED) == 0,
		      "SINT0 masked");
		synic_post_held(&root, 0, &child[0].intercept, &a);
		synic_post_held(&root, 0, &child[1].intercept, &b);
		CHECK(slot(0)->header.message_type == HVMSG_NONE && synic_queued(&root, 0) == 2,
		      "nothing is delivered to a masked SINT, nothing is dropped");
		synic_msr_write(&root, HV_X64_MSR_SINT0, 0x51);
		CHECK(take(&root, 0, false) == 7 && take(&root, 0, false) == 8,
		      "unmasking delivers them in order");
	}
	/* HvPostMessage: one buffer per SINT, then "busy", never a drop. */
	{
		struct hv_message a = msg(1, 11), b = msg(1, 12), c = msg(1, 13);
		int ra, rb, rc;

		ra = synic_post(&root, 0, &a);  /* straight into the slot */
		rb = synic_post(&root, 0, &b);  /* waits in the SINT's buffer */
		rc = synic_post(&root, 0, &c);  /* busy: the sender retries */
		CHECK(ra == 0 && rb == 0 && rc == -1,
		      "posts: delivered, buffered, then busy (%d %d %d)", ra, rb, rc);
		CHECK(take(&root, 0, false) == 11 && synic_post(&root, 0, &c) == 0,
		      "once the buffered one is delivered, the retry is taken");
		CHECK(take(&root, 0, false) == 12 && take(&root, 0, false) == 13 &&
		      take(&root, 0, false) == 0, "every accepted post arrives, in order");
	}
	/* The race the flag protects: the guest frees the slot just before
	 * the hypervisor marks it pending, and never writes EOM. */
	{
		struct hv_message a = msg(1, 21), b = msg(1, 22);

		synic_post_held(&root, 0, &child[0].intercept, &a);
		slot(0)->header.message_type = HVMSG_NONE;       /* freed, no EOM */
		synic_post_held(&root, 0, &child[1].intercept, &b);
		CHECK(slot(0)->header.sender == 22 && synic_queued(&root, 0) == 0,
		      "a slot freed without EOM takes the next message at the next post");
		take(&root, 0, false);
	}
	/* Bad MSR values are refused (the caller's #GP). */
	CHECK(synic_msr_write(&root, HV_X64_MSR_SIMP, 0x20000 | 1) == -1,
	      "a SIMP outside the partition's memory is refused");
	CHECK(synic_msr_write(&root, HV_X64_MSR_SINT0, 1ull << 40) == -1,
	      "reserved SINT bits are refused");
	/* A child's SINT: into its APIC, with AutoEOI as its SINT register
	 * says, never the root's direct path. */
	{
		static struct partition cpart;
		struct hv_message a = msg(1, 31), b = msg(1, 32);
		unsigned r0 = root_irqs;

		child[2].partition = &cpart;
		enable(&child[2]);
		CHECK(synic_msr_write(&child[2], HV_X64_MSR_SINT0 + 1,
				      0x62 | HV_SYNIC_SINT_AUTO_EOI) == 0, "SINT1 AutoEOI");
		synic_post_held(&child[2], 1, &child[3].intercept, &a);
		CHECK(child_irqs == 1 && last_vector == 0x62 && last_aeoi && root_irqs == r0,
		      "a child's AutoEOI SINT goes to its APIC with AutoEOI");
		synic_post_held(&child[2], 0, &child[4].intercept, &b);
		CHECK(child_irqs == 2 && last_vector == 0x51 && !last_aeoi,
		      "a SINT without AutoEOI goes to its APIC for an EOI");
	}
	return done_testing();
}
