/*
 * SynIC ports and connections (TLFS 11.9), HvCallPostMessage and
 * HvCallSignalEvent: how partitions talk to each other through the
 * hypervisor. The root creates a port in the partition that receives and
 * a connection in the one that sends; a message posted to a connection
 * lands in the port owner's SynIC message slot for the port's SINT, and a
 * signalled event sets a flag in its event-flag page (SIEFP) and raises
 * the SINT. Everything the sender controls (connection id, sizes, flag
 * number) is checked here; nothing it passes can reach another port.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "gmem.h"
#include "hypercall.h"
#include "synic.h"
#include "vpops.h"
#include "arch/x86/cpu.h"
#include "design.h"
#include "port.h"

#define MAX_PORTS 1024
#define MAX_CONNECTIONS 1024

struct port {
	bool used;
	struct partition *owner;        /* NULL: the hypervisor's own */
	uint32_t id;
	struct hv_port_info info;
	/* Credit mode (HVCALL_ISOVISOR_PORT_CREDIT): one message at a time
	 * until the owner gives the credit back. credit_taken is changed
	 * with atomics only: posters race for it, the owner returns it. */
	bool credit_mode;
	bool credit_taken;
};

struct connection {
	bool used;
	struct partition *from;
	uint32_t id;
	struct port *port;
};

static struct port ports[MAX_PORTS];
static struct connection connections[MAX_CONNECTIONS];
static spinlock_t ports_lock;

static struct partition *partition_of(const struct hc_ctx *c, uint64_t id)
{
	struct partition *self = c->vp->partition;

	if (id == HV_PARTITION_ID_SELF || id == self->id)
		return self;
	return child_by_id(id);
}

uint16_t hc_create_port(struct hc_ctx *c)
{
	const struct hv_input_create_port *in = (const void *)c->in;
	struct partition *owner = partition_of(c, in->port_partition_id);
	const struct hv_port_info *pi = &in->port_info;
	struct port *free = NULL;

	if (!c->vp->partition->is_root)
		return HV_STATUS_ACCESS_DENIED;
	if (!owner || !partition_of(c, in->connection_partition_id))
		return HV_STATUS_INVALID_PARTITION_ID;
	if (in->port_vtl || in->min_connection_vtl || in->padding || pi->padding ||
	    pi->rsvdz || pi->target_sint >= HV_SYNIC_SINT_COUNT ||
	    pi->target_vp >= owner->vp_count)
		return HV_STATUS_INVALID_PARAMETER;
	if (pi->port_type == HV_PORT_TYPE_EVENT) {
		if (!pi->flag_count ||
		    (uint32_t)pi->base_flag_number + pi->flag_count > HV_EVENT_FLAGS_PER_SINT)
			return HV_STATUS_INVALID_PARAMETER;
	} else if (pi->port_type != HV_PORT_TYPE_MESSAGE || pi->base_flag_number ||
		   pi->flag_count) {
		return HV_STATUS_INVALID_PARAMETER;
	}
	spin_lock(&ports_lock);
	for (unsigned i = 0; i < MAX_PORTS; i++) {
		if (ports[i].used && ports[i].owner == owner && ports[i].id == in->port_id) {
			spin_unlock(&ports_lock);
			return HV_STATUS_INVALID_PORT_ID;       /* already exists */
		}
		if (!ports[i].used && !free)
			free = &ports[i];
	}
	if (!free) {
		spin_unlock(&ports_lock);
		return HV_STATUS_INSUFFICIENT_BUFFERS;
	}
	*free = (struct port){ true, owner, in->port_id, *pi, false, false };
	spin_unlock(&ports_lock);
	return HV_STATUS_SUCCESS;
}

uint16_t hc_connect_port(struct hc_ctx *c)
{
	const struct hv_input_connect_port *in = (const void *)c->in;
	struct partition *from = partition_of(c, in->connection_partition_id);
	struct partition *owner = partition_of(c, in->port_partition_id);
	struct connection *free = NULL;
	struct port *port = NULL;

	if (!c->vp->partition->is_root)
		return HV_STATUS_ACCESS_DENIED;
	if (!from || !owner)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (in->connection_vtl || in->rsvdz0 || in->rsvdz1 || in->reserved2)
		return HV_STATUS_INVALID_PARAMETER;
	spin_lock(&ports_lock);
	for (unsigned i = 0; i < MAX_PORTS; i++)
		if (ports[i].used && ports[i].owner == owner && ports[i].id == in->port_id)
			port = &ports[i];
	for (unsigned i = 0; i < MAX_CONNECTIONS; i++) {
		if (connections[i].used && connections[i].from == from &&
		    connections[i].id == in->connection_id) {
			spin_unlock(&ports_lock);
			return HV_STATUS_INVALID_CONNECTION_ID;
		}
		if (!connections[i].used && !free)
			free = &connections[i];
	}
	if (!port || port->info.port_type != in->port_type) {
		spin_unlock(&ports_lock);
		return HV_STATUS_INVALID_PORT_ID;
	}
	if (!free) {
		spin_unlock(&ports_lock);
		return HV_STATUS_INSUFFICIENT_BUFFERS;
	}
	*free = (struct connection){ true, from, in->connection_id, port };
	spin_unlock(&ports_lock);
	return HV_STATUS_SUCCESS;
}

static struct port *connected_port(struct partition *from, uint32_t id)
{
	for (unsigned i = 0; i < MAX_CONNECTIONS; i++)
		if (connections[i].used && connections[i].from == from &&
		    connections[i].id == id)
			return connections[i].port;
	return NULL;
}

uint16_t hc_post_message(struct hc_ctx *c)
{
	const struct hv_input_post_message *in = (const void *)c->in;
	struct port *port = connected_port(c->vp->partition, in->connection_id);
	struct hv_message m;
	uint16_t st = HV_STATUS_SUCCESS;

	if (!port || port->info.port_type != HV_PORT_TYPE_MESSAGE)
		return HV_STATUS_INVALID_CONNECTION_ID;
	if (in->payload_size > HV_MESSAGE_PAYLOAD_BYTES || in->reserved ||
	    (in->message_type & 0x80000000u))      /* hypervisor types */
		return HV_STATUS_INVALID_PARAMETER;
	memset(&m, 0, sizeof(m));
	m.header.message_type = in->message_type;
	m.header.payload_size = (uint8_t)in->payload_size;
	m.header.sender = port->id;             /* the port it arrives on */
	memcpy(m.payload, in->payload, in->payload_size);
	if (port->credit_mode &&
	    __atomic_exchange_n(&port->credit_taken, true, __ATOMIC_ACQ_REL))
		return HV_STATUS_INSUFFICIENT_BUFFERS;  /* the owner is behind */
	if (!port->owner)
		st = design_port_message(port->id, &m);
	else if (synic_post(port->owner->vps[port->info.target_vp],
			    port->info.target_sint, &m))
		st = HV_STATUS_INSUFFICIENT_BUFFERS;
	if (st != HV_STATUS_SUCCESS && port->credit_mode)
		__atomic_store_n(&port->credit_taken, false, __ATOMIC_RELEASE);
	return st;
}

static void credit_op(struct port *port, unsigned op)
{
	if (op == HV_ISOVISOR_PORT_CREDIT_ON) {
		port->credit_mode = true;
	} else {
		__atomic_store_n(&port->credit_taken, false, __ATOMIC_RELEASE);
	}
}

/* Fast call: RDX = port id (31:0) | operation (39:32); the root only,
 * on a message port it owns. */
uint16_t hc_port_credit(struct hc_ctx *c)
{
	uint64_t arg;
	struct port *port = NULL;
	unsigned op;

	memcpy(&arg, c->in, 8);
	op = (unsigned)(arg >> 32);
	if (!c->vp->partition->is_root)
		return HV_STATUS_ACCESS_DENIED;
	if (op > HV_ISOVISOR_PORT_CREDIT_RETURN)
		return HV_STATUS_INVALID_PARAMETER;
	spin_lock(&ports_lock);
	for (unsigned i = 0; i < MAX_PORTS; i++)
		if (ports[i].used && ports[i].owner == c->vp->partition &&
		    ports[i].id == (uint32_t)arg)
			port = &ports[i];
	if (port && port->info.port_type == HV_PORT_TYPE_MESSAGE)
		credit_op(port, op);
	spin_unlock(&ports_lock);
	return port && port->info.port_type == HV_PORT_TYPE_MESSAGE ?
	       HV_STATUS_SUCCESS : HV_STATUS_INVALID_PORT_ID;
}

int port_credit_hv(uint32_t port_id, unsigned op)
{
	int ret = -1;

	spin_lock(&ports_lock);
	for (unsigned i = 0; i < MAX_PORTS; i++)
		if (ports[i].used && !ports[i].owner && ports[i].id == port_id &&
		    ports[i].info.port_type == HV_PORT_TYPE_MESSAGE) {
			credit_op(&ports[i], op);
			ret = 0;
		}
	spin_unlock(&ports_lock);
	return ret;
}

/* Fast call: RDX = connection id (bits 31:0) | flag number (47:32). */
uint16_t hc_signal_event(struct hc_ctx *c)
{
	uint64_t arg;
	uint32_t id;
	uint16_t flag;
	struct port *port;

	memcpy(&arg, c->in, 8);
	id = (uint32_t)arg;
	flag = (uint16_t)(arg >> 32);
	if (arg >> 48)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	port = connected_port(c->vp->partition, id);
	if (!port || port->info.port_type != HV_PORT_TYPE_EVENT)
		return HV_STATUS_INVALID_CONNECTION_ID;
	if (flag >= port->info.flag_count)
		return HV_STATUS_INVALID_PARAMETER;
	if (!port->owner)
		return design_port_event(port->id, port->info.base_flag_number + flag);
	return synic_signal(port->owner->vps[port->info.target_vp],
			    port->info.target_sint,
			    port->info.base_flag_number + flag) ?
	       HV_STATUS_INVALID_SYNIC_STATE : HV_STATUS_SUCCESS;
}

/* Ports the hypervisor itself owns (the monolithic design's VMBus
 * server): messages and events on them go to design_port_message() and
 * design_port_event() instead of a SynIC. */
int port_create_hv(uint32_t port_id, uint8_t type, uint16_t base_flag,
		   uint16_t flag_count)
{
	struct port *free = NULL;
	int ret = -1;

	spin_lock(&ports_lock);
	for (unsigned i = 0; i < MAX_PORTS; i++) {
		if (ports[i].used && !ports[i].owner && ports[i].id == port_id)
			goto out;
		if (!ports[i].used && !free)
			free = &ports[i];
	}
	if (free) {
		memset(free, 0, sizeof(*free));
		free->used = true;
		free->id = port_id;
		free->info.port_type = type;
		free->info.base_flag_number = base_flag;
		free->info.flag_count = flag_count;
		ret = 0;
	}
out:
	spin_unlock(&ports_lock);
	return ret;
}

int port_connect_hv(struct partition *from, uint32_t connection_id, uint32_t port_id)
{
	struct port *port = NULL;
	struct connection *free = NULL;
	int ret = -1;

	spin_lock(&ports_lock);
	for (unsigned i = 0; i < MAX_PORTS; i++)
		if (ports[i].used && !ports[i].owner && ports[i].id == port_id)
			port = &ports[i];
	for (unsigned i = 0; i < MAX_CONNECTIONS; i++) {
		if (connections[i].used && connections[i].from == from &&
		    connections[i].id == connection_id)
			goto out;
		if (!connections[i].used && !free)
			free = &connections[i];
	}
	if (port && free) {
		*free = (struct connection){ true, from, connection_id, port };
		ret = 0;
	}
out:
	spin_unlock(&ports_lock);
	return ret;
}

/*
 * A partition is going away: its ports, the connections it made, and the
 * connections others made to its ports go with it, so a later partition
 * in the same slot inherits nothing.
 */
void port_partition_gone(struct partition *p)
{
	spin_lock(&ports_lock);
	for (unsigned i = 0; i < MAX_CONNECTIONS; i++)
		if (connections[i].used && (connections[i].from == p ||
					    connections[i].port->owner == p))
			connections[i].used = false;
	for (unsigned i = 0; i < MAX_PORTS; i++)
		if (ports[i].used && ports[i].owner == p)
			ports[i].used = false;
	spin_unlock(&ports_lock);
}

/* Drop the hypervisor's own ports [first, first + count) and every
 * connection to them (the monolithic design's child is gone). */
void port_drop_hv(uint32_t first, uint32_t count)
{
	spin_lock(&ports_lock);
	for (unsigned i = 0; i < MAX_CONNECTIONS; i++) {
		struct port *pt = connections[i].port;

		if (connections[i].used && !pt->owner && pt->id - first < count)
			connections[i].used = false;
	}
	for (unsigned i = 0; i < MAX_PORTS; i++)
		if (ports[i].used && !ports[i].owner && ports[i].id - first < count)
			ports[i].used = false;
	spin_unlock(&ports_lock);
}
