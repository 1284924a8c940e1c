/*
 * The VMBus client: the guest side of VMBus channel management (the bus
 * part of the VSC framework), synchronous, for a single-threaded guest.
 * It negotiates the protocol version, lists the host's offers, creates
 * and tears down GPADLs, opens and closes channels and unloads, always
 * posting one request and waiting for its answer.
 *
 * Transport (struct vmbus_client_ops): post() is HvPostMessage with
 * message type 1 to a connection id; wait_message() blocks until the next
 * channel message arrives in our SINT's (VMBUS_MESSAGE_SINT) message slot,
 * copies it out and frees the slot. Messages the host sends on its own
 * (a late OFFERCHANNEL, RESCIND_CHANNELOFFER) are handled whenever they
 * arrive, during any wait, or through vmbus_client_handle_message() when
 * the guest's SINT handler sees one while no request is pending.
 *
 * Signalling a channel: no monitor pages; the guest signals the host with
 * HvSignalEvent on the channel's offer.connection_id, which the client
 * has checked to be a valid 24-bit connection id.
 *
 * Policy for host input: the host is untrusted too. Every message goes
 * through vmbus_chanmsg_parse() (type and length), then every field the
 * client acts on is checked (relids in 1..VMBUS_CLIENT_MAX_RELID-1,
 * connection ids, that an answer matches the request it would complete).
 * A bad message is logged, counted in stats.rejected and dropped; a
 * well-formed answer nobody waits for is counted in stats.unexpected. A
 * wait gives up after VMBUS_CLIENT_WAIT_BUDGET messages so a flooding
 * host cannot hold the guest forever.
 */
#ifndef VMBUS_CLIENT_H
#define VMBUS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isovisor/vmbus.h>

#define VMBUS_CLIENT_MAX_OFFERS         64
#define VMBUS_CLIENT_MAX_GPADLS         64
/* A relid names a bit of the 2048-bit event flags page (Linux's
 * MAX_CHANNEL_RELIDS); 0 is never a channel. */
#define VMBUS_CLIENT_MAX_RELID          2048
/* TLFS connection ids are 24 bits. */
#define VMBUS_CLIENT_CONN_ID_MAX        0xffffffu
/* range_buflen is 16 bits: one range header word plus the pfns. */
#define VMBUS_CLIENT_GPADL_MAX_PFNS     ((0xffffu - 8) / 8)
/* The first GPADL handle we hand out (Linux's choice, easy to spot). */
#define VMBUS_CLIENT_GPADL_FIRST        0xe1e10u
/* Messages one wait may consume before giving up. */
#define VMBUS_CLIENT_WAIT_BUDGET        (4 * VMBUS_CLIENT_MAX_OFFERS + 64)

/* Return values: 0 or one of these. */
enum vmbus_client_err {
	VMBUS_CLIENT_EINVAL = -1,       /* bad argument or wrong state */
	VMBUS_CLIENT_EPOST = -2,        /* HvPostMessage failed */
	VMBUS_CLIENT_ETIMEDOUT = -3,    /* no answer, or too many other messages */
	VMBUS_CLIENT_EREFUSED = -4,     /* the host said no (status, no version) */
	VMBUS_CLIENT_ERESCINDED = -5,   /* the channel was rescinded meanwhile */
	VMBUS_CLIENT_ENOSPC = -6,       /* a client table is full */
	VMBUS_CLIENT_EPROTO = -7,       /* the host's answer made no sense */
};

struct vmbus_client_ops {
	/* HvPostMessage(connection_id, message type 1, msg, len): the TLFS
	 * status, 0 for success. Retrying transient statuses is up to it. */
	int (*post)(void *ctx, uint32_t connection_id, const void *msg, size_t len);
	/* Block until the next channel message for us arrives, copy it to
	 * buf (*len holds the room, VMBUS_CHANNEL_MESSAGE_MAX), free the
	 * slot, put its length in *len. Nonzero on timeout. */
	int (*wait_message)(void *ctx, void *buf, size_t *len);
	/* One log line, no newline. May be NULL. */
	void (*log)(void *ctx, const char *line);
	/* The host rescinded relid: stop using its ring pages. May be NULL.
	 * Called after the client has answered RELID_RELEASED. */
	void (*rescind)(void *ctx, uint32_t relid);
};

enum vmbus_client_chan_state {
	VMBUS_CLIENT_CHAN_FREE,
	VMBUS_CLIENT_CHAN_OFFERED,
	VMBUS_CLIENT_CHAN_OPEN,
	VMBUS_CLIENT_CHAN_RESCINDED,    /* released; slot reused by a new offer */
};

struct vmbus_client_channel {
	uint8_t state;                  /* enum vmbus_client_chan_state */
	uint32_t relid;
	uint32_t ring_gpadl;            /* while OPEN */
	struct vmbus_channel_offer_channel offer;       /* as checked */
};

enum vmbus_client_gpadl_state {
	VMBUS_CLIENT_GPADL_FREE,
	VMBUS_CLIENT_GPADL_PENDING,     /* header posted, no GPADL_CREATED yet */
	VMBUS_CLIENT_GPADL_READY,
};

struct vmbus_client_gpadl {
	uint8_t state;                  /* enum vmbus_client_gpadl_state */
	uint32_t handle;
	uint32_t relid;
	uint32_t npfns;
};

struct vmbus_client_stats {
	uint32_t posted;
	uint32_t received;
	uint32_t rejected;              /* malformed or nonsensical host messages */
	uint32_t unexpected;            /* well-formed answers nobody waited for */
	uint32_t offers;
	uint32_t rescinds;
};

struct vmbus_client {
	const struct vmbus_client_ops *ops;
	void *ctx;
	/* Set before vmbus_client_connect (GPAs, 0 for none): the guest's
	 * SynIC event page and monitor pages. Only versions below 5.0 pass
	 * the interrupt page. */
	uint64_t interrupt_page;
	uint64_t monitor_page1, monitor_page2;

	bool connected;
	bool unloading;
	uint32_t version;               /* negotiated */
	uint32_t msg_conn_id;           /* where we post after INITIATE_CONTACT */
	uint32_t next_gpadl;
	struct vmbus_client_stats stats;
	struct vmbus_client_channel chan[VMBUS_CLIENT_MAX_OFFERS];
	struct vmbus_client_gpadl gpadl[VMBUS_CLIENT_MAX_GPADLS];
};

void vmbus_client_init(struct vmbus_client *c, const struct vmbus_client_ops *ops,
		       void *ctx);

/*
 * INITIATE_CONTACT, newest version first (5.3, 5.2, 5.1, 5.0, 4.1, 4.0,
 * 3.0, 2.4) until the host accepts one. For 5.0 and newer the request
 * goes to VMBUS_MESSAGE_CONNECTION_ID_4 with msg_sint VMBUS_MESSAGE_SINT
 * and every later message to the msg_conn_id of the VERSION_RESPONSE;
 * below 5.0 everything goes to VMBUS_MESSAGE_CONNECTION_ID. Messages are
 * to be delivered to VP 0. Returns 0, EREFUSED if no version is accepted.
 */
int vmbus_client_connect(struct vmbus_client *c);

/* REQUESTOFFERS, collecting OFFERCHANNEL until ALLOFFERS_DELIVERED.
 * Returns the number of live offers, or a negative error. */
int vmbus_client_request_offers(struct vmbus_client *c);

/* Live (offered or open) offers: the first of a device class, or the
 * index-th in relid order; NULL if there is none. */
const struct vmbus_channel_offer_channel *
vmbus_client_find_offer(const struct vmbus_client *c, const struct vmbus_guid *type);
const struct vmbus_channel_offer_channel *
vmbus_client_offer_at(const struct vmbus_client *c, unsigned index);
enum vmbus_client_chan_state vmbus_client_chan_state(const struct vmbus_client *c,
						     uint32_t relid);

/*
 * One GPADL of npfns whole pages (a single range at byte offset 0) for
 * channel relid: GPADL_HEADER plus as many GPADL_BODY as needed, then
 * GPADL_CREATED is waited for and its status checked. The handle is ours
 * to choose and goes to *handle. EREFUSED if the host refused it.
 */
int vmbus_client_gpadl_create(struct vmbus_client *c, uint32_t relid,
			      const uint64_t *pfns, uint32_t npfns, uint32_t *handle);
/* GPADL_TEARDOWN, waiting for GPADL_TORNDOWN. A channel's ring GPADL can
 * only go after the channel is closed. Once the channel is rescinded the
 * host has dropped its GPADLs: returns 0 without posting. */
int vmbus_client_gpadl_teardown(struct vmbus_client *c, uint32_t relid, uint32_t handle);

/*
 * OPENCHANNEL over a ring GPADL of this channel (guest->host ring from
 * page 0, host->guest ring from downstream_page_offset), waiting for
 * OPENCHANNEL_RESULT. openid is the relid, as Linux has it. ulen <= 120.
 */
int vmbus_client_open(struct vmbus_client *c, uint32_t relid, uint32_t ring_gpadl,
		      uint32_t downstream_page_offset, uint32_t target_vp,
		      const void *userdata, size_t ulen);
/* CLOSECHANNEL (the host does not answer); 0 for a rescinded channel. */
int vmbus_client_close(struct vmbus_client *c, uint32_t relid);

/* UNLOAD, waiting for UNLOAD_RESPONSE; the client then forgets every
 * offer and GPADL and is disconnected, whatever the outcome. */
int vmbus_client_unload(struct vmbus_client *c);

/* Handles one message that arrived outside a wait (e.g. from the SINT
 * handler): offers and rescinds take effect, answers count as unexpected. */
void vmbus_client_handle_message(struct vmbus_client *c, const void *msg, size_t len);

/* Posts msg as-is to the current message connection id, for hostile
 * tests that send malformed messages. Returns 0 or EPOST. */
int vmbus_client_post_raw(struct vmbus_client *c, const void *msg, size_t len);

/* A static name for a return value, for logs. */
const char *vmbus_client_strerror(int err);

#endif
