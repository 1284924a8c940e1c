/*
 * The guest's side of the SynIC (TLFS chapter 11): a message page (SIMP)
 * with a 256-byte slot per SINT, an event-flag page (SIEFP) with 2048
 * flags per SINT, and SINT2 (VMBus's) raising SYNIC_VECTOR. The other
 * SINTs are masked: isovisor starts them at 0, which is unmasked with
 * vector 0, not masked as the TLFS says.
 *
 * The slot protocol: the hypervisor fills a free slot (message type 0),
 * payload first and type last, then raises the SINT; a message that
 * finds the slot busy waits in the hypervisor, which sets the slot's
 * MessagePending flag. The guest copies the payload out, clears the type,
 * and only then reads MessagePending: the hypervisor may set it up to the
 * moment the type goes to 0. If it is set, an EOM write makes the
 * hypervisor deliver the waiting message.
 *
 * Waiting is HLT with interrupts on, checked with interrupts off first,
 * so a SINT between the check and the HLT still ends it (STI's shadow).
 */
#include <string.h>
#include <isovisor/vmbus.h>
#include "enlightened.h"

#define SIEFP_BYTES_PER_SINT (HV_EVENT_FLAGS_PER_SINT / 8)
/* 100 ns units per millisecond. */
#define REF_PER_MS 10000ull

static struct hv_message *simp;
static uint8_t *siefp;
static volatile uint64_t irq_seq;

void synic_interrupt(void)
{
	irq_seq++;
}

uint64_t synic_irq_seq(void)
{
	return irq_seq;
}

static bool reads_back(uint32_t msr, uint64_t v)
{
	hv_wrmsr(msr, v);
	return hv_rdmsr(msr) == v;
}

int synic_init(const char **why)
{
	uint64_t sint = SYNIC_VECTOR | HV_SYNIC_SINT_AUTO_EOI;

	simp = page_alloc(PAGE_SIZE);
	siefp = page_alloc(PAGE_SIZE);
	if (!simp || !siefp) {
		*why = "no pages for SIMP and SIEFP";
		return -1;
	}
	for (unsigned n = 0; n < HV_SYNIC_SINT_COUNT; n++) {
		uint64_t v = n == VMBUS_MESSAGE_SINT ? sint : HV_SYNIC_SINT_MASKED;

		if (!reads_back(HV_X64_MSR_SINT0 + n, v)) {
			*why = "a SINT does not read back what was written";
			return -1;
		}
	}
	if (!reads_back(HV_X64_MSR_SIMP,
			virt_to_phys(simp) | HV_SYNIC_SIMP_ENABLE) ||
	    !reads_back(HV_X64_MSR_SIEFP,
			virt_to_phys(siefp) | HV_SYNIC_SIMP_ENABLE)) {
		*why = "SIMP or SIEFP does not read back enabled at our page";
		return -1;
	}
	if (!reads_back(HV_X64_MSR_SCONTROL, HV_SYNIC_SCONTROL_ENABLE)) {
		*why = "SCONTROL does not read back enabled";
		return -1;
	}
	irq_enable();
	return 0;
}

/* Deadline bookkeeping for the waits: false once `timeout_ms` has
 * passed since the first call for this wait (*deadline 0 before it).
 * The clock is read only on waits that have to halt. */
static bool before_deadline(uint64_t timeout_ms, uint64_t *deadline)
{
	uint64_t now;

	if (timeout_ms == SYNIC_WAIT_FOREVER)
		return true;
	if (timeout_ms == 0)
		return false;
	now = hv_time_ref_100ns();
	if (!*deadline) {
		*deadline = timeout_ms > (UINT64_MAX - now) / REF_PER_MS ?
			    UINT64_MAX : now + timeout_ms * REF_PER_MS;
		return true;
	}
	return now < *deadline;
}

/* Copy out the message in `slot` (its type already read as `type`),
 * free the slot, and EOM if another is waiting. */
static int take_message(volatile struct hv_message *slot, void *buf,
			size_t *len)
{
	size_t size = slot->header.payload_size;        /* read once */
	int ret = 0;

	if (size > HV_MESSAGE_PAYLOAD_BYTES)
		size = HV_MESSAGE_PAYLOAD_BYTES;
	if (size > *len) {
		size = *len;
		ret = SYNIC_E_TRUNCATED;
	}
	memcpy(buf, (const void *)slot->payload, size);
	*len = size;
	/* Payload copied before the slot is given back; the type cleared
	 * before MessagePending is read (see the file comment). */
	__atomic_store_n(&slot->header.message_type, HVMSG_NONE, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&slot->header.message_flags, __ATOMIC_SEQ_CST) &
	    HV_MESSAGE_FLAG_PENDING)
		hv_wrmsr(HV_X64_MSR_EOM, 0);
	return ret;
}

int synic_wait_message_typed(uint32_t *type, void *buf, size_t *len,
			     uint64_t timeout_ms)
{
	volatile struct hv_message *slot;
	uint64_t deadline = 0;

	if (!simp)
		return SYNIC_E_DISABLED;
	slot = &simp[VMBUS_MESSAGE_SINT];
	for (;;) {
		uint32_t t;

		irq_disable();
		t = __atomic_load_n(&slot->header.message_type, __ATOMIC_ACQUIRE);
		if (t != HVMSG_NONE) {
			irq_enable();
			*type = t;
			return take_message(slot, buf, len);
		}
		if (!before_deadline(timeout_ms, &deadline)) {
			irq_enable();
			*len = 0;
			return SYNIC_E_TIMEOUT;
		}
		hv_idle();
	}
}

int synic_wait_message(void *buf, size_t *len, uint64_t timeout_ms)
{
	uint32_t type;

	return synic_wait_message_typed(&type, buf, len, timeout_ms);
}

bool synic_event_test_and_clear(unsigned sint, unsigned flag)
{
	uint8_t *byte, bit;

	if (!siefp || sint >= HV_SYNIC_SINT_COUNT || flag >= HV_EVENT_FLAGS_PER_SINT)
		return false;
	byte = siefp + sint * SIEFP_BYTES_PER_SINT + flag / 8;
	bit = (uint8_t)(1u << (flag % 8));
	/* The hypervisor sets flags with a locked OR: clear the same way. */
	return __atomic_fetch_and(byte, (uint8_t)~bit, __ATOMIC_SEQ_CST) & bit;
}

bool synic_wait_event(uint64_t seen, uint64_t timeout_ms)
{
	uint64_t deadline = 0;

	for (;;) {
		irq_disable();
		if (irq_seq != seen) {
			irq_enable();
			return true;
		}
		if (!before_deadline(timeout_ms, &deadline)) {
			irq_enable();
			return false;
		}
		hv_idle();
	}
}

/* ---- a bounded halt --------------------------------------------------------- */

/* Synthetic timer 0, one-shot, in message mode on SINT IDLE_SINT (our
 * vector, auto-EOI): it ends a HLT whose wake-up may never come. Its
 * expiry is set by COUNT (absolute reference time, AutoEnable), from the
 * TSC at the hypervisor's rate (one reference-counter read at set-up),
 * and set again only after it fired: at most one MSR write per expiry. */
#define IDLE_SINT 3
static bool idle_ready, idle_armed;
static uint64_t idle_ref0, idle_tsc0, idle_tsc_per_ref;

static bool idle_setup(void)
{
	uint64_t hz = hv_rdmsr(HV_X64_MSR_TSC_FREQUENCY);

	if (!simp || hz < 10000000)
		return false;
	idle_tsc_per_ref = hz / 10000000;       /* per 100 ns */
	idle_ref0 = hv_time_ref_100ns();
	idle_tsc0 = guest_tsc();
	hv_wrmsr(HV_X64_MSR_SINT0 + IDLE_SINT, SYNIC_VECTOR | HV_SYNIC_SINT_AUTO_EOI);
	hv_wrmsr(HV_X64_MSR_STIMER0_CONFIG,
		 HV_STIMER_AUTO_ENABLE | (uint64_t)IDLE_SINT << 16);
	idle_ready = true;
	return true;
}

/* The timer's message, if it fired: taken, so the next one can come. */
static void idle_take_expiry(void)
{
	volatile struct hv_message *slot = &simp[IDLE_SINT];

	if (__atomic_load_n(&slot->header.message_type, __ATOMIC_ACQUIRE) !=
	    HVMSG_TIMER_EXPIRED)
		return;
	__atomic_store_n(&slot->header.message_type, HVMSG_NONE, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&slot->header.message_flags, __ATOMIC_SEQ_CST) &
	    HV_MESSAGE_FLAG_PENDING)
		hv_wrmsr(HV_X64_MSR_EOM, 0);
	idle_armed = false;
}

void synic_idle(bool (*work)(void *ctx), void *ctx, uint64_t bound_ms)
{
	if (!idle_ready && !idle_setup()) {
		cpu_relax();
		return;
	}
	idle_take_expiry();
	irq_disable();
	if (work(ctx)) {
		irq_enable();
		return;
	}
	if (!idle_armed) {
		uint64_t ref = idle_ref0 + (guest_tsc() - idle_tsc0) / idle_tsc_per_ref;

		hv_wrmsr(HV_X64_MSR_STIMER0_COUNT, ref + bound_ms * REF_PER_MS);
		idle_armed = true;
	}
	hv_idle();                      /* STI; HLT: an interrupt in between ends it */
	idle_take_expiry();
}
