/*
 * The VMBus server: the host side of VMBus channel management for one
 * guest partition, transport-agnostic. The transport (the root's SynIC
 * message loop in the microkernelized design, the hypervisor's message
 * path in the monolithic one) hands every channel message the guest posts
 * to vmbus_server_receive(); the server answers through ops->send(),
 * which the transport delivers to the guest's SINT (msg_sint) on
 * target_vcpu.
 *
 * VSPs register offers (vmbus_server_add_offer) and get open/close calls
 * when the guest opens or closes the channel over a ring-buffer GPADL.
 *
 * Policy for guest input: a malformed or out-of-order message is logged,
 * counted in stats.rejected and ignored, or answered with a failure status
 * where the protocol has one (VERSION_RESPONSE supported=0,
 * GPADL_CREATED and OPENCHANNEL_RESULT status != 0). The server never
 * trusts a length, count or handle it has not checked.
 */
#ifndef VMBUS_SERVER_H
#define VMBUS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isovisor/vmbus.h>

#define VMBUS_SERVER_MAX_CHANNELS       64
#define VMBUS_SERVER_MAX_GPADLS         128
/* GPADL storage for the whole partition, in u64 words: one per page plus
 * one per range. 16384 pages is 64 MiB of guest memory. */
#define VMBUS_SERVER_POOL_WORDS         16384
/* isovisor's choice of the connection id a guest signals a channel on. */
#define VMBUS_SERVER_CONNECTION_ID_BASE 0x10000
/* Each ring of a channel: a header page plus at least one data page. */
#define VMBUS_RING_MIN_PAGES            2
/* The failure status put in GPADL_CREATED and OPENCHANNEL_RESULT
 * (NTSTATUS STATUS_UNSUCCESSFUL; Linux only tests for nonzero). */
#define VMBUS_STATUS_UNSUCCESSFUL       0xc0000001u

struct vmbus_server_ops {
	/* Deliver one message to the guest; nonzero if it could not. */
	int (*send)(void *ctx, const void *msg, size_t len);
	/* Whether guest page frame `pfn` belongs to the partition. */
	bool (*gpa_owned)(void *ctx, uint64_t pfn);
	/* One log line, no newline, "vmbus: " prefixed. May be NULL. */
	void (*log)(void *ctx, const char *line);
};

/* What a VSP gets when the guest opens its channel. The pfn array stays
 * valid until the VSP's close() returns; userdata only during open(). */
struct vmbus_open_request {
	uint32_t relid;
	uint32_t openid;
	uint32_t gpadl;                 /* ring buffer GPADL handle */
	const uint64_t *ring_pfns;      /* guest->host ring at page 0 */
	uint32_t ring_npfns;
	uint32_t downstream_offset;     /* host->guest ring's first page */
	uint32_t target_vp;
	const uint8_t *userdata;        /* VMBUS_MAX_USER_DEFINED_BYTES */
};

struct vmbus_vsp_ops {
	/* Start serving the channel; nonzero refuses the open. */
	int (*open)(void *vsp_ctx, const struct vmbus_open_request *req);
	/* Stop touching the ring pages: the guest closed the channel, tore
	 * down its ring GPADL, or unloaded VMBus. */
	void (*close)(void *vsp_ctx, uint32_t relid);
	/* Optional: a GPADL of this channel is going away; drop any use of
	 * its pages before returning. */
	void (*gpadl_torndown)(void *vsp_ctx, uint32_t relid, uint32_t gpadl);
};

enum vmbus_server_state {
	VMBUS_SERVER_DISCONNECTED,
	VMBUS_SERVER_CONNECTED,
};

enum vmbus_chan_state {
	VMBUS_CHAN_FREE,
	VMBUS_CHAN_OFFERED,
	VMBUS_CHAN_OPEN,
	VMBUS_CHAN_RESCINDED,           /* waiting for RELID_RELEASED */
};

struct vmbus_server_channel {
	uint8_t state;                  /* enum vmbus_chan_state */
	bool offer_sent;                /* the guest has seen the offer */
	struct vmbus_channel_offer offer;
	uint32_t connection_id;
	const struct vmbus_vsp_ops *vsp;
	void *vsp_ctx;
	uint32_t ring_gpadl;            /* while OPEN */
	uint32_t openid;
	uint32_t target_vp;
};

enum vmbus_gpadl_state {
	VMBUS_GPADL_FREE,
	VMBUS_GPADL_ASSEMBLING,         /* header seen, bodies pending */
	VMBUS_GPADL_READY,
};

struct vmbus_server_gpadl {
	uint8_t state;                  /* enum vmbus_gpadl_state */
	uint16_t rangecount;
	uint32_t handle;
	uint32_t relid;
	uint32_t base;                  /* first word in the pool */
	uint32_t words;                 /* range_buflen / 8 */
	uint32_t received;              /* words received so far */
	uint32_t npfns;                 /* READY: pfns at pool[base..) */
	uint32_t first_range;           /* READY: first range's byte_offset */
};

struct vmbus_server_stats {
	uint32_t received;
	uint32_t rejected;              /* ignored or refused guest inputs */
	uint32_t sent;
	uint32_t gpadls_created;
	uint32_t opens;
};

struct vmbus_server {
	const struct vmbus_server_ops *ops;
	void *ctx;
	uint8_t state;                  /* enum vmbus_server_state */
	bool offers_requested;
	/* negotiated at INITIATE_CONTACT, for the transport */
	uint32_t version;
	uint32_t msg_conn_id;           /* where the guest posts from now on */
	uint8_t msg_sint;               /* the guest's SINT for our messages */
	uint32_t target_vcpu;
	uint64_t interrupt_page;        /* versions < 5.0 */
	uint64_t monitor_page1, monitor_page2;
	struct vmbus_server_stats stats;
	struct vmbus_server_channel chan[VMBUS_SERVER_MAX_CHANNELS];
	struct vmbus_server_gpadl gpadl[VMBUS_SERVER_MAX_GPADLS];
	uint64_t pool[VMBUS_SERVER_POOL_WORDS];
};

void vmbus_server_init(struct vmbus_server *s, const struct vmbus_server_ops *ops,
		       void *ctx);

/* Handles one channel message the guest posted (len <= 240). */
void vmbus_server_receive(struct vmbus_server *s, const void *msg, size_t len);

/*
 * Registers a channel offer and returns its relid (>= 1), or 0 if the
 * table is full. The guest sees it at its next REQUESTOFFERS, or at once
 * if it has already asked. Change the offer (flags, user_def, pipe mode)
 * through vmbus_server_offer() before the guest sees it.
 */
uint32_t vmbus_server_add_offer(struct vmbus_server *s,
				const struct vmbus_guid *type,
				const struct vmbus_guid *instance,
				const struct vmbus_vsp_ops *vsp, void *vsp_ctx);
struct vmbus_channel_offer *vmbus_server_offer(struct vmbus_server *s,
					       uint32_t relid);

/*
 * Withdraws an offer: closes the channel if open (VSP close), sends
 * RESCIND_CHANNELOFFER if the guest had seen the offer; the relid is
 * reused only after the guest's RELID_RELEASED. The VSP is not called
 * again for this relid. Returns 0, or -1 for an unknown relid.
 */
int vmbus_server_rescind(struct vmbus_server *s, uint32_t relid);

/* Looks up a READY GPADL of channel relid, for VSPs (e.g. receive buffers
 * the guest hands over in-band). Returns false if there is none. */
bool vmbus_server_gpadl(const struct vmbus_server *s, uint32_t relid,
			uint32_t handle, const uint64_t **pfns, uint32_t *npfns);

/* The channel's state, VMBUS_CHAN_FREE for an unknown relid. */
enum vmbus_chan_state vmbus_server_chan_state(const struct vmbus_server *s,
					      uint32_t relid);

#endif
