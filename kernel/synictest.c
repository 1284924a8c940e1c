/*
 * The root checks SynIC ports and connections on itself: it creates a
 * message port and an event port in its own partition, connects to them,
 * posts a message and signals an event, and sees them arrive in its
 * message page and event-flag page with their SINT interrupts; malformed
 * calls get the TLFS status and change nothing.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "root.h"

#define NATIVE "native boot"
#define MSG_SINT 2
#define EVT_SINT 3
#define MSG_VECTOR 0x53
#define EVT_VECTOR 0x54

static uint8_t in_page[4096] __attribute__((aligned(4096)));
static struct hv_message simp[16] __attribute__((aligned(4096)));
static uint8_t siefp[4096] __attribute__((aligned(4096)));
static volatile unsigned msg_irqs, evt_irqs;

static void msg_handler(struct cpu_regs *r)
{
	msg_irqs++;
}

static void evt_handler(struct cpu_regs *r)
{
	evt_irqs++;
}

static uint16_t call(uint16_t code)
{
	return hv_status(hv_hypercall(code, (uint64_t)in_page, 0));
}

static uint16_t create_port(uint32_t id, uint32_t type, uint32_t sint,
			    uint16_t base, uint16_t count)
{
	struct hv_input_create_port *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->port_partition_id = HV_PARTITION_ID_SELF;
	in->port_id = id;
	in->connection_partition_id = HV_PARTITION_ID_SELF;
	in->port_info.port_type = type;
	in->port_info.target_sint = sint;
	in->port_info.base_flag_number = base;
	in->port_info.flag_count = count;
	return call(HVCALL_CREATE_PORT);
}

static uint16_t connect(uint32_t conn, uint32_t port, uint32_t type)
{
	struct hv_input_connect_port *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->connection_partition_id = HV_PARTITION_ID_SELF;
	in->connection_id = conn;
	in->port_partition_id = HV_PARTITION_ID_SELF;
	in->port_id = port;
	in->port_type = type;
	return call(HVCALL_CONNECT_PORT);
}

static uint16_t post(uint32_t conn, uint32_t type, const char *text, uint32_t size)
{
	struct hv_input_post_message *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->connection_id = conn;
	in->message_type = type;
	in->payload_size = size;
	memcpy(in->payload, text, strnlen(text, sizeof(in->payload)));
	return call(HVCALL_POST_MESSAGE);
}

static uint16_t signal(uint32_t conn, uint16_t flag)
{
	return hv_status(hv_hypercall(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST_BIT,
				      conn | ((uint64_t)flag << 32), 0));
}

static void wait_irq(volatile unsigned *count, unsigned want)
{
	for (unsigned i = 0; i < 1000000 && *count < want; i++)
		__asm__ volatile("sti; nop; cli");
}

void test_synic_ports(void)
{
	uint16_t s_port, s_conn, s_post, s_bad_conn, s_big, s_dup, s_eport, s_econn;
	uint16_t s_sig, s_bad_flag, s_wrong_type;
	struct hv_message *slot = &simp[MSG_SINT];
	const uint8_t *flags = siefp + EVT_SINT * (HV_EVENT_FLAGS_PER_SINT / 8);
	bool msg_ok;

	if (!boot.hv) {
		tap_skip(NATIVE, "root synic: ports, connections, messages and events");
		return;
	}
	irq_set_handler(MSG_VECTOR, msg_handler);
	irq_set_handler(EVT_VECTOR, evt_handler);
	wrmsr(HV_X64_MSR_SIMP, (uint64_t)simp | HV_SYNIC_SIMP_ENABLE);
	wrmsr(HV_X64_MSR_SIEFP, (uint64_t)siefp | 1);
	wrmsr(HV_X64_MSR_SINT0 + MSG_SINT, MSG_VECTOR | HV_SYNIC_SINT_AUTO_EOI);
	wrmsr(HV_X64_MSR_SINT0 + EVT_SINT, EVT_VECTOR | HV_SYNIC_SINT_AUTO_EOI);
	wrmsr(HV_X64_MSR_SCONTROL, HV_SYNIC_SCONTROL_ENABLE);

	s_port = create_port(0x31, HV_PORT_TYPE_MESSAGE, MSG_SINT, 0, 0);
	s_dup = create_port(0x31, HV_PORT_TYPE_MESSAGE, MSG_SINT, 0, 0);
	s_conn = connect(0x1001, 0x31, HV_PORT_TYPE_MESSAGE);
	s_post = post(0x1001, 7, "ping over a port", 17);
	wait_irq(&msg_irqs, 1);
	msg_ok = slot->header.message_type == 7 && slot->header.payload_size == 17 &&
		 !memcmp(slot->payload, "ping over a port", 17) && msg_irqs == 1;
	s_bad_conn = post(0x9999, 7, "x", 1);
	s_big = post(0x1001, 7, "x", 241);
	tap_result(s_port == 0 && s_conn == 0 && s_post == 0 && msg_ok &&
		   s_dup == HV_STATUS_INVALID_PORT_ID &&
		   s_bad_conn == HV_STATUS_INVALID_CONNECTION_ID &&
		   s_big == HV_STATUS_INVALID_PARAMETER,
		   "root synic: a message posted to a connection arrives in SINT %u's "
		   "slot with its interrupt (%u); a duplicate port -> 0x%x, an "
		   "unknown connection -> 0x%x, 241 bytes -> 0x%x", MSG_SINT,
		   msg_irqs, s_dup, s_bad_conn, s_big);
	slot->header.message_type = HVMSG_NONE;
	wrmsr(HV_X64_MSR_EOM, 0);

	s_eport = create_port(0x32, HV_PORT_TYPE_EVENT, EVT_SINT, 5, 4);
	s_econn = connect(0x1002, 0x32, HV_PORT_TYPE_EVENT);
	s_sig = signal(0x1002, 2);
	wait_irq(&evt_irqs, 1);
	s_bad_flag = signal(0x1002, 4);
	s_wrong_type = signal(0x1001, 0);
	tap_result(s_eport == 0 && s_econn == 0 && s_sig == 0 && (flags[0] & 0x80) &&
		   evt_irqs == 1 && s_bad_flag == HV_STATUS_INVALID_PARAMETER &&
		   s_wrong_type == HV_STATUS_INVALID_CONNECTION_ID,
		   "root synic: a signalled event sets flag 7 (base 5 + 2) in SINT %u's "
		   "event flags with its interrupt (%u); flag 4 of 4 -> 0x%x, a "
		   "message connection -> 0x%x", EVT_SINT, evt_irqs, s_bad_flag,
		   s_wrong_type);
	wrmsr(HV_X64_MSR_SIEFP, 0);
}
