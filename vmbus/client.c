/*
 * VMBus client: guest-side channel management, one request at a time.
 *
 * Protocol, as Linux's hv_vmbus drives it (see server.c for the host):
 *   INITIATE_CONTACT(version)   -> VERSION_RESPONSE (retry older if refused)
 *   REQUESTOFFERS               -> OFFERCHANNEL.., ALLOFFERS_DELIVERED
 *   GPADL_HEADER, GPADL_BODY..  -> GPADL_CREATED(status)
 *   OPENCHANNEL                 -> OPENCHANNEL_RESULT(status)
 *   CLOSECHANNEL                   (no answer)
 *   GPADL_TEARDOWN              -> GPADL_TORNDOWN
 *   RESCIND_CHANNELOFFER        <- we answer RELID_RELEASED
 *   UNLOAD                      -> UNLOAD_RESPONSE
 *
 * Untrusted host input: every message is copied out and checked by
 * vmbus_chanmsg_parse() first, then each field we use is checked before
 * it changes any state (see client.h). An answer completes a wait only
 * if it names what the request named (relid, openid, gpadl handle).
 *
 * Rescind: we answer RELID_RELEASED at once and forget the channel's
 * GPADLs, since the host drops them with the relid (isovisor's server
 * does; Linux does the same for a channel without a bound driver, and
 * tears down first otherwise - a deliberate simplification). A wait on a
 * rescinded channel ends with VMBUS_CLIENT_ERESCINDED, as Linux completes
 * a rescinded channel's pending requests; an answer the host still sends
 * for it later is dropped as unexpected.
 */
#include <stdarg.h>
#include <string.h>
#include "format.h"
#include "chanmsg.h"
#include "client.h"

static void __attribute__((format(printf, 2, 3)))
cl_log(struct vmbus_client *c, const char *fmt, ...)
{
	char line[160] = "vmbus-client: ";
	const size_t pre = sizeof("vmbus-client: ") - 1;
	va_list ap;

	if (!c->ops || !c->ops->log)
		return;
	va_start(ap, fmt);
	kvsnprintf(line + pre, sizeof(line) - pre, fmt, ap);
	va_end(ap);
	c->ops->log(c->ctx, line);
}

/* A host message we will not act on: counted, then logged. */
#define reject(c, ...) do { (c)->stats.rejected++; cl_log((c), __VA_ARGS__); } while (0)

/* What the current request waits for, and how it ended. */
struct waiter {
	uint32_t type;                  /* the answer's message type */
	uint32_t relid;                 /* 0: not about one channel */
	uint32_t key;                   /* openid or gpadl handle */
	struct vmbus_chanmsg *answer;
	bool done;
	bool rescinded;                 /* relid was rescinded meanwhile */
};

static const uint32_t versions[] = {
	VMBUS_VERSION_WIN10_V5_3, VMBUS_VERSION_WIN10_V5_2,
	VMBUS_VERSION_WIN10_V5_1, VMBUS_VERSION_WIN10_V5,
	VMBUS_VERSION_WIN10_V4_1, VMBUS_VERSION_WIN10,
	VMBUS_VERSION_WIN8_1, VMBUS_VERSION_WIN8,
};

/* ---- posting ---------------------------------------------------------- */

static int post_to(struct vmbus_client *c, uint32_t conn_id, void *msg, size_t len,
		   uint32_t type)
{
	struct vmbus_channel_message_header *h = msg;
	int status;

	h->msgtype = type;
	h->padding = 0;
	c->stats.posted++;
	status = c->ops->post(c->ctx, conn_id, msg, len);
	if (status) {
		cl_log(c, "post of message type %u to connection 0x%x failed: status 0x%x",
		     type, conn_id, (unsigned)status);
		return VMBUS_CLIENT_EPOST;
	}
	return 0;
}

static int post(struct vmbus_client *c, void *msg, size_t len, uint32_t type)
{
	return post_to(c, c->msg_conn_id, msg, len, type);
}

/* ---- tables ----------------------------------------------------------- */

static struct vmbus_client_channel *chan_find(struct vmbus_client *c, uint32_t relid)
{
	if (relid == 0 || relid >= VMBUS_CLIENT_MAX_RELID)
		return NULL;
	for (unsigned i = 0; i < VMBUS_CLIENT_MAX_OFFERS; i++)
		if (c->chan[i].state != VMBUS_CLIENT_CHAN_FREE && c->chan[i].relid == relid)
			return &c->chan[i];
	return NULL;
}

static bool chan_live(const struct vmbus_client_channel *ch)
{
	return ch && (ch->state == VMBUS_CLIENT_CHAN_OFFERED ||
		      ch->state == VMBUS_CLIENT_CHAN_OPEN);
}

/* The error for naming a channel that is not live. */
static int chan_gone(const struct vmbus_client_channel *ch)
{
	return ch && ch->state == VMBUS_CLIENT_CHAN_RESCINDED ?
		VMBUS_CLIENT_ERESCINDED : VMBUS_CLIENT_EINVAL;
}

static struct vmbus_client_gpadl *gpadl_find(struct vmbus_client *c, uint32_t handle)
{
	for (unsigned i = 0; i < VMBUS_CLIENT_MAX_GPADLS; i++)
		if (c->gpadl[i].state != VMBUS_CLIENT_GPADL_FREE &&
		    c->gpadl[i].handle == handle)
			return &c->gpadl[i];
	return NULL;
}

static void forget_gpadls(struct vmbus_client *c, uint32_t relid)
{
	for (unsigned i = 0; i < VMBUS_CLIENT_MAX_GPADLS; i++)
		if (c->gpadl[i].state != VMBUS_CLIENT_GPADL_FREE && c->gpadl[i].relid == relid)
			memset(&c->gpadl[i], 0, sizeof(c->gpadl[i]));
}

static void reset(struct vmbus_client *c)
{
	memset(c->chan, 0, sizeof(c->chan));
	memset(c->gpadl, 0, sizeof(c->gpadl));
	c->connected = false;
	c->unloading = false;
	c->version = 0;
	c->msg_conn_id = VMBUS_MESSAGE_CONNECTION_ID;
}

/* ---- unsolicited host messages ---------------------------------------- */

static void on_offer(struct vmbus_client *c, const struct vmbus_channel_offer_channel *o)
{
	struct vmbus_client_channel *ch = chan_find(c, o->child_relid);

	if (o->child_relid == 0 || o->child_relid >= VMBUS_CLIENT_MAX_RELID) {
		reject(c, "offer with relid %u out of range", o->child_relid);
		return;
	}
	if (o->connection_id == 0 || o->connection_id > VMBUS_CLIENT_CONN_ID_MAX) {
		reject(c, "offer of relid %u: bad connection id 0x%x", o->child_relid,
		       o->connection_id);
		return;
	}
	if (chan_live(ch)) {
		/* REQUESTOFFERS again, or a hot-add racing with it: the same
		 * offer twice is harmless. A different one is not. */
		if (memcmp(&ch->offer, o, sizeof(*o)))
			reject(c, "offer of relid %u, which is already offered",
			       o->child_relid);
		return;
	}
	/* A rescinded relid was released: the host may reuse it. Else take
	 * a free slot, then the slot of any released channel. */
	for (unsigned i = 0; i < VMBUS_CLIENT_MAX_OFFERS && !ch; i++)
		if (c->chan[i].state == VMBUS_CLIENT_CHAN_FREE)
			ch = &c->chan[i];
	for (unsigned i = 0; i < VMBUS_CLIENT_MAX_OFFERS && !ch; i++)
		if (c->chan[i].state == VMBUS_CLIENT_CHAN_RESCINDED)
			ch = &c->chan[i];
	if (!ch) {
		reject(c, "offer of relid %u: offer table full", o->child_relid);
		return;
	}
	memset(ch, 0, sizeof(*ch));
	ch->state = VMBUS_CLIENT_CHAN_OFFERED;
	ch->relid = o->child_relid;
	ch->offer = *o;
	c->stats.offers++;
}

static void on_rescind(struct vmbus_client *c, uint32_t relid, struct waiter *w)
{
	struct vmbus_client_channel *ch = chan_find(c, relid);
	struct vmbus_channel_relid_released r;

	if (!chan_live(ch)) {
		reject(c, "rescind of relid %u, which is not offered", relid);
		return;
	}
	ch->state = VMBUS_CLIENT_CHAN_RESCINDED;
	ch->ring_gpadl = 0;
	forget_gpadls(c, relid);
	c->stats.rescinds++;
	if (w && w->relid == relid)
		w->rescinded = true;
	cl_log(c, "relid %u rescinded by the host: releasing it", relid);
	memset(&r, 0, sizeof(r));
	r.child_relid = relid;
	post(c, &r, sizeof(r), CHANNELMSG_RELID_RELEASED);
	if (c->ops->rescind)
		c->ops->rescind(c->ctx, relid);
}

/* Does answer m complete the request w waits for? */
static bool answers(const struct waiter *w, const struct vmbus_chanmsg *m)
{
	if (!w || w->done || m->type != w->type)
		return false;
	switch (m->type) {
	case CHANNELMSG_OPENCHANNEL_RESULT:
		return m->u.open_result.child_relid == w->relid &&
		       m->u.open_result.openid == w->key;
	case CHANNELMSG_GPADL_CREATED:
		return m->u.gpadl_created.child_relid == w->relid &&
		       m->u.gpadl_created.gpadl == w->key;
	case CHANNELMSG_GPADL_TORNDOWN:
		return m->u.gpadl_torndown.gpadl == w->key;
	default:        /* VERSION_RESPONSE, ALLOFFERS_DELIVERED, UNLOAD_RESPONSE */
		return true;
	}
}

static void dispatch(struct vmbus_client *c, const void *msg, size_t len, struct waiter *w)
{
	struct vmbus_chanmsg m;
	const char *err = "";

	c->stats.received++;
	if (vmbus_chanmsg_parse(msg, len, &m, &err)) {
		reject(c, "rejected host message (%u bytes): %s", (unsigned)len, err);
		return;
	}
	switch (m.type) {
	case CHANNELMSG_OFFERCHANNEL:
	case CHANNELMSG_RESCIND_CHANNELOFFER:
		if (!c->connected || c->unloading) {
			/* Nothing to offer into; an unload forgets it all anyway. */
			c->stats.unexpected++;
			cl_log(c, "message type %u while not connected: ignored", m.type);
		} else if (m.type == CHANNELMSG_OFFERCHANNEL) {
			on_offer(c, &m.u.offer);
		} else {
			on_rescind(c, m.u.rescind.child_relid, w);
		}
		return;
	case CHANNELMSG_VERSION_RESPONSE:
	case CHANNELMSG_ALLOFFERS_DELIVERED:
	case CHANNELMSG_OPENCHANNEL_RESULT:
	case CHANNELMSG_GPADL_CREATED:
	case CHANNELMSG_GPADL_TORNDOWN:
	case CHANNELMSG_UNLOAD_RESPONSE:
		if (answers(w, &m)) {
			*w->answer = m;
			w->done = true;
		} else {
			c->stats.unexpected++;
			cl_log(c, "answer of type %u matches no request: dropped", m.type);
		}
		return;
	default:
		reject(c, "message type %u is guest-to-host only: dropped", m.type);
		return;
	}
}

/*
 * Reads messages until w is answered or its channel rescinded. Each one
 * is copied out of the transport's buffer by the parser before use.
 */
static int wait_for(struct vmbus_client *c, struct waiter *w)
{
	uint8_t buf[VMBUS_CHANNEL_MESSAGE_MAX];

	for (unsigned n = 0; n < VMBUS_CLIENT_WAIT_BUDGET; n++) {
		size_t len = sizeof(buf);

		if (c->ops->wait_message(c->ctx, buf, &len)) {
			cl_log(c, "timed out waiting for message type %u", w->type);
			return VMBUS_CLIENT_ETIMEDOUT;
		}
		/* The transport is ours, but a length past the buffer would
		 * mean it overran it: never pass that on. */
		if (len > sizeof(buf)) {
			reject(c, "transport returned %u bytes: dropped", (unsigned)len);
			continue;
		}
		dispatch(c, buf, len, w);
		if (w->done)
			return 0;
		if (w->rescinded)
			return VMBUS_CLIENT_ERESCINDED;
	}
	cl_log(c, "gave up waiting for message type %u after %u other messages",
	     w->type, VMBUS_CLIENT_WAIT_BUDGET);
	return VMBUS_CLIENT_ETIMEDOUT;
}

static void waiter_init(struct waiter *w, struct vmbus_chanmsg *answer, uint32_t type,
			uint32_t relid, uint32_t key)
{
	memset(w, 0, sizeof(*w));
	w->type = type;
	w->relid = relid;
	w->key = key;
	w->answer = answer;
}

void vmbus_client_handle_message(struct vmbus_client *c, const void *msg, size_t len)
{
	dispatch(c, msg, len, NULL);
}

/* ---- connection ------------------------------------------------------- */

void vmbus_client_init(struct vmbus_client *c, const struct vmbus_client_ops *ops,
		       void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->ctx = ctx;
	c->next_gpadl = VMBUS_CLIENT_GPADL_FIRST;
	reset(c);
}

/* One INITIATE_CONTACT: 0 accepted, 1 refused, or a negative error. */
static int try_version(struct vmbus_client *c, uint32_t v)
{
	struct vmbus_channel_initiate_contact ic;
	struct vmbus_chanmsg ans;
	struct waiter w;
	bool v5 = v >= VMBUS_VERSION_WIN10_V5;
	uint32_t conn;
	int ret;

	memset(&ic, 0, sizeof(ic));
	ic.vmbus_version_requested = v;
	ic.target_vcpu = 0;
	if (v5)
		ic.msg_sint = VMBUS_MESSAGE_SINT;
	else
		ic.interrupt_page = c->interrupt_page;
	ic.monitor_page1 = c->monitor_page1;
	ic.monitor_page2 = c->monitor_page2;
	conn = v5 ? VMBUS_MESSAGE_CONNECTION_ID_4 : VMBUS_MESSAGE_CONNECTION_ID;
	waiter_init(&w, &ans, CHANNELMSG_VERSION_RESPONSE, 0, 0);
	ret = post_to(c, conn, &ic, sizeof(ic), CHANNELMSG_INITIATE_CONTACT);
	if (!ret)
		ret = wait_for(c, &w);
	if (ret)
		return ret;
	/* Linux reads any nonzero byte as "supported". */
	if (!ans.u.version.version_supported)
		return 1;
	if (v5) {
		uint32_t id = ans.u.version.msg_conn_id;

		if (id == 0 || id > VMBUS_CLIENT_CONN_ID_MAX) {
			reject(c, "version %u.%u accepted with bad msg_conn_id 0x%x",
			       v >> 16, v & 0xffff, id);
			return VMBUS_CLIENT_EPROTO;
		}
		c->msg_conn_id = id;
	} else {
		c->msg_conn_id = VMBUS_MESSAGE_CONNECTION_ID;
	}
	return 0;
}

int vmbus_client_connect(struct vmbus_client *c)
{
	if (c->connected)
		return VMBUS_CLIENT_EINVAL;
	for (unsigned i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		uint32_t v = versions[i];
		int ret = try_version(c, v);

		if (ret < 0)
			return ret;
		if (ret > 0) {
			cl_log(c, "version %u.%u refused", v >> 16, v & 0xffff);
			continue;
		}
		c->connected = true;
		c->version = v;
		cl_log(c, "connected: version %u.%u, messages to connection 0x%x",
		     v >> 16, v & 0xffff, c->msg_conn_id);
		return 0;
	}
	cl_log(c, "the host accepted no version");
	return VMBUS_CLIENT_EREFUSED;
}

int vmbus_client_request_offers(struct vmbus_client *c)
{
	struct vmbus_channel_message_header h;
	struct vmbus_chanmsg ans;
	struct waiter w;
	int ret, n = 0;

	if (!c->connected)
		return VMBUS_CLIENT_EINVAL;
	waiter_init(&w, &ans, CHANNELMSG_ALLOFFERS_DELIVERED, 0, 0);
	ret = post(c, &h, sizeof(h), CHANNELMSG_REQUESTOFFERS);
	if (!ret)
		ret = wait_for(c, &w);
	if (ret)
		return ret;
	for (unsigned i = 0; i < VMBUS_CLIENT_MAX_OFFERS; i++)
		n += chan_live(&c->chan[i]);
	return n;
}

const struct vmbus_channel_offer_channel *
vmbus_client_find_offer(const struct vmbus_client *c, const struct vmbus_guid *type)
{
	for (unsigned i = 0; i < VMBUS_CLIENT_MAX_OFFERS; i++)
		if (chan_live(&c->chan[i]) &&
		    !memcmp(&c->chan[i].offer.offer.if_type, type, sizeof(*type)))
			return &c->chan[i].offer;
	return NULL;
}

const struct vmbus_channel_offer_channel *
vmbus_client_offer_at(const struct vmbus_client *c, unsigned index)
{
	const struct vmbus_client_channel *best = NULL;
	unsigned seen = 0;

	/* Slots are reused, so slot order means nothing: go by relid. */
	for (uint32_t relid = 1; relid < VMBUS_CLIENT_MAX_RELID && !best; relid++) {
		for (unsigned i = 0; i < VMBUS_CLIENT_MAX_OFFERS; i++) {
			if (chan_live(&c->chan[i]) && c->chan[i].relid == relid) {
				if (seen++ == index)
					best = &c->chan[i];
				break;
			}
		}
	}
	return best ? &best->offer : NULL;
}

enum vmbus_client_chan_state vmbus_client_chan_state(const struct vmbus_client *c,
						     uint32_t relid)
{
	for (unsigned i = 0; i < VMBUS_CLIENT_MAX_OFFERS; i++)
		if (c->chan[i].state != VMBUS_CLIENT_CHAN_FREE && c->chan[i].relid == relid)
			return (enum vmbus_client_chan_state)c->chan[i].state;
	return VMBUS_CLIENT_CHAN_FREE;
}

/* ---- GPADLs ----------------------------------------------------------- */

/* pfns that fit after the header and its one range header word, and
 * after a body header (26 and 28, as Linux splits them). */
#define HEADER_PFNS ((VMBUS_CHANNEL_MESSAGE_MAX - sizeof(struct vmbus_channel_gpadl_header) \
		      - sizeof(struct vmbus_gpa_range)) / 8)
#define BODY_PFNS   ((VMBUS_CHANNEL_MESSAGE_MAX - sizeof(struct vmbus_channel_gpadl_body)) / 8)

static uint32_t new_gpadl_handle(struct vmbus_client *c)
{
	uint32_t h;

	do {
		h = c->next_gpadl++;
	} while (h == 0 || gpadl_find(c, h));
	return h;
}

/* Posts the header and bodies of a single-range GPADL. */
static int post_gpadl(struct vmbus_client *c, uint32_t relid, uint32_t handle,
		      const uint64_t *pfns, uint32_t npfns)
{
	uint8_t buf[VMBUS_CHANNEL_MESSAGE_MAX];
	struct vmbus_channel_gpadl_header h;
	struct vmbus_channel_gpadl_body b;
	struct vmbus_gpa_range r = { npfns * VMBUS_PAGE_SIZE, 0 };
	uint32_t k = npfns < HEADER_PFNS ? npfns : (uint32_t)HEADER_PFNS, done;
	int ret;

	memset(&h, 0, sizeof(h));
	h.child_relid = relid;
	h.gpadl = handle;
	h.range_buflen = (uint16_t)(sizeof(r) + 8 * npfns);
	h.rangecount = 1;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &r, sizeof(r));
	memcpy(buf + sizeof(h) + sizeof(r), pfns, 8 * k);
	ret = post(c, buf, sizeof(h) + sizeof(r) + 8 * k, CHANNELMSG_GPADL_HEADER);
	for (done = k; !ret && done < npfns; done += k) {
		k = npfns - done < BODY_PFNS ? npfns - done : (uint32_t)BODY_PFNS;
		/* msgnumber stays 0, as Linux leaves it. */
		memset(&b, 0, sizeof(b));
		b.gpadl = handle;
		memcpy(buf, &b, sizeof(b));
		memcpy(buf + sizeof(b), pfns + done, 8 * k);
		ret = post(c, buf, sizeof(b) + 8 * k, CHANNELMSG_GPADL_BODY);
	}
	return ret;
}

int vmbus_client_gpadl_create(struct vmbus_client *c, uint32_t relid,
			      const uint64_t *pfns, uint32_t npfns, uint32_t *handle)
{
	struct vmbus_client_channel *ch = chan_find(c, relid);
	struct vmbus_client_gpadl *g = NULL;
	struct vmbus_chanmsg ans;
	struct waiter w;
	int ret;

	if (!c->connected || !pfns || !handle || npfns == 0 ||
	    npfns > VMBUS_CLIENT_GPADL_MAX_PFNS)
		return VMBUS_CLIENT_EINVAL;
	if (!chan_live(ch))
		return chan_gone(ch);
	for (unsigned i = 0; i < VMBUS_CLIENT_MAX_GPADLS && !g; i++)
		if (c->gpadl[i].state == VMBUS_CLIENT_GPADL_FREE)
			g = &c->gpadl[i];
	if (!g)
		return VMBUS_CLIENT_ENOSPC;
	g->state = VMBUS_CLIENT_GPADL_PENDING;
	g->handle = new_gpadl_handle(c);
	g->relid = relid;
	g->npfns = npfns;
	waiter_init(&w, &ans, CHANNELMSG_GPADL_CREATED, relid, g->handle);
	ret = post_gpadl(c, relid, g->handle, pfns, npfns);
	if (!ret)
		ret = wait_for(c, &w);
	if (ret == VMBUS_CLIENT_ERESCINDED)
		return ret;             /* on_rescind has forgotten g */
	if (!ret && ans.u.gpadl_created.creation_status) {
		cl_log(c, "gpadl 0x%x of relid %u refused: status 0x%x", g->handle, relid,
		     ans.u.gpadl_created.creation_status);
		ret = VMBUS_CLIENT_EREFUSED;
	}
	if (ret) {
		memset(g, 0, sizeof(*g));
		return ret;
	}
	g->state = VMBUS_CLIENT_GPADL_READY;
	*handle = g->handle;
	return 0;
}

int vmbus_client_gpadl_teardown(struct vmbus_client *c, uint32_t relid, uint32_t handle)
{
	struct vmbus_client_channel *ch = chan_find(c, relid);
	struct vmbus_client_gpadl *g = gpadl_find(c, handle);
	struct vmbus_channel_gpadl_teardown t;
	struct vmbus_chanmsg ans;
	struct waiter w;
	int ret;

	if (!c->connected)
		return VMBUS_CLIENT_EINVAL;
	if (ch && ch->state == VMBUS_CLIENT_CHAN_RESCINDED && !g)
		return 0;               /* released with the relid */
	if (!g || g->relid != relid || g->state != VMBUS_CLIENT_GPADL_READY)
		return VMBUS_CLIENT_EINVAL;
	if (ch && ch->state == VMBUS_CLIENT_CHAN_OPEN && ch->ring_gpadl == handle)
		return VMBUS_CLIENT_EINVAL;     /* close the channel first */
	memset(&t, 0, sizeof(t));
	t.child_relid = relid;
	t.gpadl = handle;
	waiter_init(&w, &ans, CHANNELMSG_GPADL_TORNDOWN, relid, handle);
	ret = post(c, &t, sizeof(t), CHANNELMSG_GPADL_TEARDOWN);
	if (!ret)
		ret = wait_for(c, &w);
	if (ret == VMBUS_CLIENT_ERESCINDED)
		return 0;               /* the host dropped it with the relid */
	if (ret)
		return ret;             /* the host may still map the pages */
	memset(g, 0, sizeof(*g));
	return 0;
}

/* ---- open / close ----------------------------------------------------- */

int vmbus_client_open(struct vmbus_client *c, uint32_t relid, uint32_t ring_gpadl,
		      uint32_t downstream_page_offset, uint32_t target_vp,
		      const void *userdata, size_t ulen)
{
	struct vmbus_client_channel *ch = chan_find(c, relid);
	struct vmbus_client_gpadl *g = gpadl_find(c, ring_gpadl);
	struct vmbus_channel_open_channel o;
	struct vmbus_chanmsg ans;
	struct waiter w;
	int ret;

	if (!c->connected || ulen > VMBUS_MAX_USER_DEFINED_BYTES || (ulen && !userdata))
		return VMBUS_CLIENT_EINVAL;
	if (!chan_live(ch))
		return chan_gone(ch);
	if (ch->state != VMBUS_CLIENT_CHAN_OFFERED)
		return VMBUS_CLIENT_EINVAL;
	/* Both rings need pages; the host checks its own minimum. */
	if (!g || g->relid != relid || g->state != VMBUS_CLIENT_GPADL_READY ||
	    downstream_page_offset == 0 || downstream_page_offset >= g->npfns)
		return VMBUS_CLIENT_EINVAL;
	memset(&o, 0, sizeof(o));
	o.child_relid = relid;
	o.openid = relid;
	o.ringbuffer_gpadlhandle = ring_gpadl;
	o.target_vp = target_vp;
	o.downstream_ringbuffer_pageoffset = downstream_page_offset;
	if (ulen)
		memcpy(o.userdata, userdata, ulen);
	waiter_init(&w, &ans, CHANNELMSG_OPENCHANNEL_RESULT, relid, o.openid);
	ret = post(c, &o, sizeof(o), CHANNELMSG_OPENCHANNEL);
	if (!ret)
		ret = wait_for(c, &w);
	if (ret)
		return ret;
	if (ans.u.open_result.status) {
		cl_log(c, "open of relid %u refused: status 0x%x", relid,
		     ans.u.open_result.status);
		return VMBUS_CLIENT_EREFUSED;
	}
	ch->state = VMBUS_CLIENT_CHAN_OPEN;
	ch->ring_gpadl = ring_gpadl;
	return 0;
}

int vmbus_client_close(struct vmbus_client *c, uint32_t relid)
{
	struct vmbus_client_channel *ch = chan_find(c, relid);
	struct vmbus_channel_close_channel m;
	int ret;

	if (!c->connected || !ch)
		return VMBUS_CLIENT_EINVAL;
	if (ch->state == VMBUS_CLIENT_CHAN_RESCINDED)
		return 0;               /* the host closed it at the rescind */
	if (ch->state != VMBUS_CLIENT_CHAN_OPEN)
		return VMBUS_CLIENT_EINVAL;
	memset(&m, 0, sizeof(m));
	m.child_relid = relid;
	ret = post(c, &m, sizeof(m), CHANNELMSG_CLOSECHANNEL);
	if (ret)
		return ret;             /* still open on the host's side */
	ch->state = VMBUS_CLIENT_CHAN_OFFERED;
	ch->ring_gpadl = 0;
	return 0;
}

int vmbus_client_unload(struct vmbus_client *c)
{
	struct vmbus_channel_message_header h;
	struct vmbus_chanmsg ans;
	struct waiter w;
	int ret;

	/* Late offers and rescinds are moot now: do not answer them. */
	c->unloading = true;
	waiter_init(&w, &ans, CHANNELMSG_UNLOAD_RESPONSE, 0, 0);
	ret = post(c, &h, sizeof(h), CHANNELMSG_UNLOAD);
	if (!ret)
		ret = wait_for(c, &w);
	reset(c);
	cl_log(c, "unloaded%s", ret ? " without an UNLOAD_RESPONSE" : "");
	return ret;
}

int vmbus_client_post_raw(struct vmbus_client *c, const void *msg, size_t len)
{
	c->stats.posted++;
	if (c->ops->post(c->ctx, c->msg_conn_id, msg, len))
		return VMBUS_CLIENT_EPOST;
	return 0;
}

const char *vmbus_client_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case VMBUS_CLIENT_EINVAL:
		return "invalid argument or state";
	case VMBUS_CLIENT_EPOST:
		return "post failed";
	case VMBUS_CLIENT_ETIMEDOUT:
		return "timed out";
	case VMBUS_CLIENT_EREFUSED:
		return "refused by the host";
	case VMBUS_CLIENT_ERESCINDED:
		return "channel rescinded";
	case VMBUS_CLIENT_ENOSPC:
		return "client table full";
	case VMBUS_CLIENT_EPROTO:
		return "protocol error";
	default:
		return "unknown error";
	}
}
