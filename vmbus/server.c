/*
 * VMBus server: host-side channel management for one guest partition.
 *
 * Protocol, as an unmodified Linux guest drives it:
 *   guest INITIATE_CONTACT(version)  -> VERSION_RESPONSE(supported, conn id)
 *         (refused versions make the guest retry with a lower one)
 *   guest REQUESTOFFERS              -> OFFERCHANNEL per channel,
 *                                       ALLOFFERS_DELIVERED
 *   guest GPADL_HEADER, GPADL_BODY.. -> GPADL_CREATED(status)
 *   guest OPENCHANNEL(ring gpadl)    -> OPENCHANNEL_RESULT(status)
 *   guest CLOSECHANNEL               -> (no answer)
 *   guest GPADL_TEARDOWN             -> GPADL_TORNDOWN
 *   host  RESCIND_CHANNELOFFER       <- guest RELID_RELEASED
 *   guest UNLOAD                     -> UNLOAD_RESPONSE, back to the start
 *
 * Every message goes through vmbus_chanmsg_parse() first. GPADL range
 * data is assembled word by word into a per-partition pool, then walked
 * once complete; each page must belong to the partition (ops->gpa_owned)
 * before the GPADL exists, so a VSP only ever maps guest-owned pages.
 */
#include <stdarg.h>
#include <string.h>
#include "format.h"
#include "chanmsg.h"
#include "server.h"

#define NO_GPADL 0xffffffffu

static void __attribute__((format(printf, 2, 3)))
slog(struct vmbus_server *s, const char *fmt, ...)
{
	char line[160] = "vmbus: ";
	va_list ap;

	if (!s->ops || !s->ops->log)
		return;
	va_start(ap, fmt);
	kvsnprintf(line + 7, sizeof(line) - 7, fmt, ap);
	va_end(ap);
	s->ops->log(s->ctx, line);
}

/* A guest input the server will not act on: counted, then logged. */
#define reject(s, ...) do { (s)->stats.rejected++; slog((s), __VA_ARGS__); } while (0)

static void send_msg(struct vmbus_server *s, void *msg, size_t len, uint32_t type)
{
	struct vmbus_channel_message_header *h = msg;

	h->msgtype = type;
	h->padding = 0;
	s->stats.sent++;
	if (s->ops && s->ops->send && s->ops->send(s->ctx, msg, len))
		slog(s, "send of message type %u failed", type);
}

static bool owned(struct vmbus_server *s, uint64_t pfn)
{
	return s->ops && s->ops->gpa_owned && s->ops->gpa_owned(s->ctx, pfn);
}

/* ---- channels --------------------------------------------------------- */

static struct vmbus_server_channel *chan_get(struct vmbus_server *s, uint32_t relid)
{
	if (relid == 0 || relid > VMBUS_SERVER_MAX_CHANNELS)
		return NULL;
	return &s->chan[relid - 1];
}

/* A channel the guest may name: offered to it and not rescinded. */
static struct vmbus_server_channel *chan_visible(struct vmbus_server *s, uint32_t relid)
{
	struct vmbus_server_channel *c = chan_get(s, relid);

	if (!c || !c->offer_sent ||
	    (c->state != VMBUS_CHAN_OFFERED && c->state != VMBUS_CHAN_OPEN))
		return NULL;
	return c;
}

static void send_offer(struct vmbus_server *s, uint32_t relid)
{
	struct vmbus_server_channel *c = chan_get(s, relid);
	struct vmbus_channel_offer_channel m;

	memset(&m, 0, sizeof(m));
	m.offer = c->offer;
	m.child_relid = relid;
	/* No monitor page, no dedicated interrupt: the guest signals with
	 * HvSignalEvent on connection_id. */
	m.connection_id = c->connection_id;
	send_msg(s, &m, sizeof(m), CHANNELMSG_OFFERCHANNEL);
	c->offer_sent = true;
}

static void chan_close(struct vmbus_server *s, uint32_t relid)
{
	struct vmbus_server_channel *c = chan_get(s, relid);

	if (c->state != VMBUS_CHAN_OPEN)
		return;
	c->state = VMBUS_CHAN_OFFERED;
	c->ring_gpadl = NO_GPADL;
	if (c->vsp && c->vsp->close)
		c->vsp->close(c->vsp_ctx, relid);
}

/* ---- GPADLs ----------------------------------------------------------- */

static struct vmbus_server_gpadl *gpadl_find(struct vmbus_server *s, uint32_t handle)
{
	for (unsigned i = 0; i < VMBUS_SERVER_MAX_GPADLS; i++)
		if (s->gpadl[i].state != VMBUS_GPADL_FREE && s->gpadl[i].handle == handle)
			return &s->gpadl[i];
	return NULL;
}

/* First fit of `words` contiguous pool words; returns the base or -1. */
static int64_t pool_alloc(struct vmbus_server *s, uint32_t words)
{
	uint32_t start = 0;
	bool moved = true;

	while (moved) {
		moved = false;
		if (words > VMBUS_SERVER_POOL_WORDS - start)
			return -1;
		for (unsigned i = 0; i < VMBUS_SERVER_MAX_GPADLS; i++) {
			const struct vmbus_server_gpadl *g = &s->gpadl[i];

			if (g->state == VMBUS_GPADL_FREE)
				continue;
			if (g->base < start + words && start < g->base + g->words) {
				start = g->base + g->words;
				moved = true;
			}
		}
	}
	return start;
}

/* Drops a GPADL; the VSP hears of it if the GPADL was usable. */
static void gpadl_free(struct vmbus_server *s, struct vmbus_server_gpadl *g)
{
	struct vmbus_server_channel *c = chan_get(s, g->relid);

	if (g->state == VMBUS_GPADL_READY && c && c->vsp && c->vsp->gpadl_torndown)
		c->vsp->gpadl_torndown(c->vsp_ctx, g->relid, g->handle);
	memset(g, 0, sizeof(*g));
}

static void send_gpadl_created(struct vmbus_server *s, uint32_t relid,
			       uint32_t handle, uint32_t status)
{
	struct vmbus_channel_gpadl_created m;

	memset(&m, 0, sizeof(m));
	m.child_relid = relid;
	m.gpadl = handle;
	m.creation_status = status;
	send_msg(s, &m, sizeof(m), CHANNELMSG_GPADL_CREATED);
}

static void gpadl_refuse(struct vmbus_server *s, struct vmbus_server_gpadl *g)
{
	uint32_t relid = g->relid, handle = g->handle;

	memset(g, 0, sizeof(*g));
	send_gpadl_created(s, relid, handle, VMBUS_STATUS_UNSUCCESSFUL);
}

/*
 * All range data is in: walk the ranges, pack the pfns to the front of
 * the extent (the write index never passes the read index), check that
 * the partition owns every page, and answer.
 */
static void gpadl_complete(struct vmbus_server *s, struct vmbus_server_gpadl *g)
{
	uint64_t *w = &s->pool[g->base];
	uint32_t npfns = 0, out = 0, i = 0;
	const char *err = "";

	if (vmbus_gpadl_walk(w, g->words, g->words, g->rangecount, &npfns, &err)) {
		reject(s, "gpadl 0x%x refused: %s", g->handle, err);
		gpadl_refuse(s, g);
		return;
	}
	g->first_range = (uint32_t)(w[0] >> 32);
	while (i < g->words) {
		uint32_t n = (uint32_t)vmbus_gpa_range_pages(w[i]);

		for (uint32_t k = 0; k < n; k++)
			w[out++] = w[i + 1 + k];
		i += 1 + n;
	}
	for (i = 0; i < npfns; i++) {
		if (!owned(s, w[i])) {
			reject(s, "gpadl 0x%x refused: pfn 0x%llx not owned by the partition",
			       g->handle, (unsigned long long)w[i]);
			gpadl_refuse(s, g);
			return;
		}
	}
	g->npfns = npfns;
	g->state = VMBUS_GPADL_READY;
	s->stats.gpadls_created++;
	send_gpadl_created(s, g->relid, g->handle, 0);
}

/* ---- handlers --------------------------------------------------------- */

static bool version_known(uint32_t v)
{
	switch (v) {
	case VMBUS_VERSION_WIN8:
	case VMBUS_VERSION_WIN8_1:
	case VMBUS_VERSION_WIN10:
	case VMBUS_VERSION_WIN10_V4_1:
	case VMBUS_VERSION_WIN10_V5:
	case VMBUS_VERSION_WIN10_V5_1:
	case VMBUS_VERSION_WIN10_V5_2:
	case VMBUS_VERSION_WIN10_V5_3:
		return true;
	default:
		return false;
	}
}

static void reset(struct vmbus_server *s)
{
	for (uint32_t relid = 1; relid <= VMBUS_SERVER_MAX_CHANNELS; relid++) {
		struct vmbus_server_channel *c = chan_get(s, relid);

		chan_close(s, relid);
		if (c->state == VMBUS_CHAN_RESCINDED)
			memset(c, 0, sizeof(*c));
		c->offer_sent = false;
	}
	for (unsigned i = 0; i < VMBUS_SERVER_MAX_GPADLS; i++)
		if (s->gpadl[i].state != VMBUS_GPADL_FREE)
			gpadl_free(s, &s->gpadl[i]);
	s->state = VMBUS_SERVER_DISCONNECTED;
	s->offers_requested = false;
	s->version = 0;
	s->msg_conn_id = VMBUS_MESSAGE_CONNECTION_ID;
	s->msg_sint = VMBUS_MESSAGE_SINT;
	s->target_vcpu = 0;
	s->interrupt_page = s->monitor_page1 = s->monitor_page2 = 0;
}

static void send_version_response(struct vmbus_server *s, bool ok)
{
	struct vmbus_channel_version_response m;

	memset(&m, 0, sizeof(m));
	m.version_supported = ok;
	m.msg_conn_id = ok ? s->msg_conn_id : 0;
	send_msg(s, &m, sizeof(m), CHANNELMSG_VERSION_RESPONSE);
}

/* A page the guest hands us by GPA must be its own (0 means none). */
static bool page_ok(struct vmbus_server *s, uint64_t gpa)
{
	return gpa == 0 || owned(s, gpa >> VMBUS_PAGE_SHIFT);
}

static void on_initiate_contact(struct vmbus_server *s, const struct vmbus_chanmsg *m)
{
	const struct vmbus_channel_initiate_contact *ic = &m->u.initiate;
	uint32_t v = ic->vmbus_version_requested;
	bool v5 = v >= VMBUS_VERSION_WIN10_V5;

	if (s->state == VMBUS_SERVER_CONNECTED) {
		slog(s, "INITIATE_CONTACT while connected: resetting the connection");
		reset(s);
	}
	if (!version_known(v)) {
		slog(s, "version %u.%u not supported", v >> 16, v & 0xffff);
		send_version_response(s, false);
		return;
	}
	if (v5 && (ic->msg_sint >= HV_SYNIC_SINT_COUNT || ic->msg_vtl != 0)) {
		reject(s, "INITIATE_CONTACT: bad msg_sint %u or msg_vtl %u",
		       ic->msg_sint, ic->msg_vtl);
		send_version_response(s, false);
		return;
	}
	if ((!v5 && !page_ok(s, ic->interrupt_page)) ||
	    !page_ok(s, ic->monitor_page1) || !page_ok(s, ic->monitor_page2)) {
		reject(s, "INITIATE_CONTACT: interrupt or monitor page not owned");
		send_version_response(s, false);
		return;
	}
	s->version = v;
	s->target_vcpu = ic->target_vcpu;
	s->monitor_page1 = ic->monitor_page1;
	s->monitor_page2 = ic->monitor_page2;
	if (v5) {
		s->msg_conn_id = VMBUS_MESSAGE_CONNECTION_ID_4;
		s->msg_sint = ic->msg_sint;
	} else {
		s->msg_conn_id = VMBUS_MESSAGE_CONNECTION_ID;
		s->msg_sint = VMBUS_MESSAGE_SINT;
		s->interrupt_page = ic->interrupt_page;
	}
	s->state = VMBUS_SERVER_CONNECTED;
	slog(s, "connected: version %u.%u, sint %u, vp %u", v >> 16, v & 0xffff,
	     s->msg_sint, s->target_vcpu);
	send_version_response(s, true);
}

static void on_request_offers(struct vmbus_server *s, const struct vmbus_chanmsg *m)
{
	struct vmbus_channel_message_header done;

	for (uint32_t relid = 1; relid <= VMBUS_SERVER_MAX_CHANNELS; relid++) {
		const struct vmbus_server_channel *c = chan_get(s, relid);

		if (c->state == VMBUS_CHAN_OFFERED || c->state == VMBUS_CHAN_OPEN)
			send_offer(s, relid);
	}
	s->offers_requested = true;
	send_msg(s, &done, sizeof(done), CHANNELMSG_ALLOFFERS_DELIVERED);
}

static void on_gpadl_header(struct vmbus_server *s, const struct vmbus_chanmsg *m)
{
	const struct vmbus_channel_gpadl_header *h = &m->u.gpadl_header;
	uint32_t words = h->range_buflen / 8, avail = m->tail_len / 8;
	struct vmbus_server_gpadl *g = NULL;
	int64_t base;

	if (!chan_visible(s, h->child_relid)) {
		reject(s, "gpadl 0x%x: unknown relid %u", h->gpadl, h->child_relid);
		send_gpadl_created(s, h->child_relid, h->gpadl, VMBUS_STATUS_UNSUCCESSFUL);
		return;
	}
	if (gpadl_find(s, h->gpadl)) {
		reject(s, "gpadl 0x%x: handle already in use", h->gpadl);
		send_gpadl_created(s, h->child_relid, h->gpadl, VMBUS_STATUS_UNSUCCESSFUL);
		return;
	}
	for (unsigned i = 0; i < VMBUS_SERVER_MAX_GPADLS && !g; i++)
		if (s->gpadl[i].state == VMBUS_GPADL_FREE)
			g = &s->gpadl[i];
	base = pool_alloc(s, words);
	if (!g || base < 0) {
		reject(s, "gpadl 0x%x: out of gpadl space (%u words)", h->gpadl, words);
		send_gpadl_created(s, h->child_relid, h->gpadl, VMBUS_STATUS_UNSUCCESSFUL);
		return;
	}
	g->state = VMBUS_GPADL_ASSEMBLING;
	g->handle = h->gpadl;
	g->relid = h->child_relid;
	g->rangecount = h->rangecount;
	g->base = (uint32_t)base;
	g->words = words;
	/* The parser has checked avail <= words. */
	for (uint32_t i = 0; i < avail; i++)
		s->pool[g->base + i] = vmbus_chanmsg_word(m, i);
	g->received = avail;
	if (g->received == g->words)
		gpadl_complete(s, g);
}

static void on_gpadl_body(struct vmbus_server *s, const struct vmbus_chanmsg *m)
{
	const struct vmbus_channel_gpadl_body *b = &m->u.gpadl_body;
	struct vmbus_server_gpadl *g = gpadl_find(s, b->gpadl);
	uint32_t n = m->tail_len / 8;

	/* msgnumber is not checked: Linux leaves it 0. */
	if (!g || g->state != VMBUS_GPADL_ASSEMBLING) {
		reject(s, "gpadl body for 0x%x: no gpadl being assembled", b->gpadl);
		return;
	}
	if (n > g->words - g->received) {
		reject(s, "gpadl 0x%x refused: body overruns range_buflen", b->gpadl);
		gpadl_refuse(s, g);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		s->pool[g->base + g->received + i] = vmbus_chanmsg_word(m, i);
	g->received += n;
	if (g->received == g->words)
		gpadl_complete(s, g);
}

static void on_gpadl_teardown(struct vmbus_server *s, const struct vmbus_chanmsg *m)
{
	const struct vmbus_channel_gpadl_teardown *t = &m->u.gpadl_teardown;
	struct vmbus_server_gpadl *g = gpadl_find(s, t->gpadl);
	struct vmbus_channel_gpadl_torndown r;

	if (!g || g->relid != t->child_relid) {
		reject(s, "teardown of unknown gpadl 0x%x (relid %u)", t->gpadl,
		       t->child_relid);
		return;
	}
	/* The guest takes the pages back: a VSP must not keep using them. */
	for (uint32_t relid = 1; relid <= VMBUS_SERVER_MAX_CHANNELS; relid++) {
		const struct vmbus_server_channel *c = chan_get(s, relid);

		if (c->state == VMBUS_CHAN_OPEN && c->ring_gpadl == t->gpadl) {
			reject(s, "teardown of the ring gpadl 0x%x of open relid %u: closing",
			       t->gpadl, relid);
			chan_close(s, relid);
		}
	}
	gpadl_free(s, g);
	memset(&r, 0, sizeof(r));
	r.gpadl = t->gpadl;
	send_msg(s, &r, sizeof(r), CHANNELMSG_GPADL_TORNDOWN);
}

static void send_open_result(struct vmbus_server *s, const struct vmbus_channel_open_channel *o,
			     uint32_t status)
{
	struct vmbus_channel_open_result r;

	memset(&r, 0, sizeof(r));
	r.child_relid = o->child_relid;
	r.openid = o->openid;
	r.status = status;
	send_msg(s, &r, sizeof(r), CHANNELMSG_OPENCHANNEL_RESULT);
}

static void on_open_channel(struct vmbus_server *s, const struct vmbus_chanmsg *m)
{
	const struct vmbus_channel_open_channel *o = &m->u.open;
	struct vmbus_server_channel *c = chan_visible(s, o->child_relid);
	struct vmbus_server_gpadl *g = gpadl_find(s, o->ringbuffer_gpadlhandle);
	struct vmbus_open_request req;
	uint32_t off = o->downstream_ringbuffer_pageoffset;

	if (!c || c->state != VMBUS_CHAN_OFFERED) {
		reject(s, "open of relid %u: not an offered, closed channel", o->child_relid);
		send_open_result(s, o, VMBUS_STATUS_UNSUCCESSFUL);
		return;
	}
	if (!g || g->state != VMBUS_GPADL_READY || g->relid != o->child_relid) {
		reject(s, "open of relid %u: no ring gpadl 0x%x for it", o->child_relid,
		       o->ringbuffer_gpadlhandle);
		send_open_result(s, o, VMBUS_STATUS_UNSUCCESSFUL);
		return;
	}
	/* Both rings: a header page and data, whole pages from offset 0. */
	if (g->rangecount != 1 || g->first_range != 0 ||
	    off < VMBUS_RING_MIN_PAGES || off > g->npfns ||
	    g->npfns - off < VMBUS_RING_MIN_PAGES) {
		reject(s, "open of relid %u: downstream offset %u does not split "
		       "the %u-page ring gpadl", o->child_relid, off, g->npfns);
		send_open_result(s, o, VMBUS_STATUS_UNSUCCESSFUL);
		return;
	}
	req.relid = o->child_relid;
	req.openid = o->openid;
	req.gpadl = g->handle;
	req.ring_pfns = &s->pool[g->base];
	req.ring_npfns = g->npfns;
	req.downstream_offset = off;
	req.target_vp = o->target_vp;
	req.userdata = o->userdata;
	if (c->vsp && c->vsp->open && c->vsp->open(c->vsp_ctx, &req)) {
		slog(s, "open of relid %u: refused by its VSP", o->child_relid);
		send_open_result(s, o, VMBUS_STATUS_UNSUCCESSFUL);
		return;
	}
	c->state = VMBUS_CHAN_OPEN;
	c->ring_gpadl = g->handle;
	c->openid = o->openid;
	c->target_vp = o->target_vp;
	s->stats.opens++;
	send_open_result(s, o, 0);
}

static void on_close_channel(struct vmbus_server *s, const struct vmbus_chanmsg *m)
{
	uint32_t relid = m->u.close.child_relid;
	struct vmbus_server_channel *c = chan_get(s, relid);

	if (c && c->state == VMBUS_CHAN_RESCINDED)
		return;         /* already closed by the rescind */
	if (!c || c->state != VMBUS_CHAN_OPEN || !c->offer_sent) {
		reject(s, "close of relid %u: not open", relid);
		return;
	}
	chan_close(s, relid);
}

static void on_relid_released(struct vmbus_server *s, const struct vmbus_chanmsg *m)
{
	uint32_t relid = m->u.relid_released.child_relid;
	struct vmbus_server_channel *c = chan_get(s, relid);

	if (!c || c->state != VMBUS_CHAN_RESCINDED) {
		reject(s, "RELID_RELEASED for relid %u, which was not rescinded", relid);
		return;
	}
	for (unsigned i = 0; i < VMBUS_SERVER_MAX_GPADLS; i++)
		if (s->gpadl[i].state != VMBUS_GPADL_FREE && s->gpadl[i].relid == relid)
			gpadl_free(s, &s->gpadl[i]);
	memset(c, 0, sizeof(*c));
}

static void on_unload(struct vmbus_server *s, const struct vmbus_chanmsg *m)
{
	struct vmbus_channel_message_header r;

	slog(s, "UNLOAD: closing all channels");
	reset(s);
	send_msg(s, &r, sizeof(r), CHANNELMSG_UNLOAD_RESPONSE);
}

typedef void (*handler_fn)(struct vmbus_server *s, const struct vmbus_chanmsg *m);

/* Guest-to-host messages; the rest are host-to-guest only. */
static const handler_fn handlers[CHANNELMSG_COUNT] = {
	[CHANNELMSG_REQUESTOFFERS] = on_request_offers,
	[CHANNELMSG_OPENCHANNEL] = on_open_channel,
	[CHANNELMSG_CLOSECHANNEL] = on_close_channel,
	[CHANNELMSG_GPADL_HEADER] = on_gpadl_header,
	[CHANNELMSG_GPADL_BODY] = on_gpadl_body,
	[CHANNELMSG_GPADL_TEARDOWN] = on_gpadl_teardown,
	[CHANNELMSG_RELID_RELEASED] = on_relid_released,
	[CHANNELMSG_INITIATE_CONTACT] = on_initiate_contact,
	[CHANNELMSG_UNLOAD] = on_unload,
};

void vmbus_server_receive(struct vmbus_server *s, const void *msg, size_t len)
{
	struct vmbus_chanmsg m;
	const char *err = "";

	s->stats.received++;
	if (vmbus_chanmsg_parse(msg, len, &m, &err)) {
		reject(s, "rejected message (%u bytes): %s", (unsigned)len, err);
		return;
	}
	if (!(m.type < CHANNELMSG_COUNT && handlers[m.type])) {
		reject(s, "message type %u is host-to-guest only: ignored", m.type);
		return;
	}
	if (s->state != VMBUS_SERVER_CONNECTED &&
	    m.type != CHANNELMSG_INITIATE_CONTACT && m.type != CHANNELMSG_UNLOAD) {
		reject(s, "message type %u before INITIATE_CONTACT: ignored", m.type);
		return;
	}
	handlers[m.type](s, &m);
}

/* ---- VSP side --------------------------------------------------------- */

void vmbus_server_init(struct vmbus_server *s, const struct vmbus_server_ops *ops,
		       void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->ctx = ctx;
	reset(s);
}

uint32_t vmbus_server_add_offer(struct vmbus_server *s,
				const struct vmbus_guid *type,
				const struct vmbus_guid *instance,
				const struct vmbus_vsp_ops *vsp, void *vsp_ctx)
{
	for (uint32_t relid = 1; relid <= VMBUS_SERVER_MAX_CHANNELS; relid++) {
		struct vmbus_server_channel *c = chan_get(s, relid);

		if (c->state != VMBUS_CHAN_FREE)
			continue;
		memset(c, 0, sizeof(*c));
		c->state = VMBUS_CHAN_OFFERED;
		c->offer.if_type = *type;
		c->offer.if_instance = *instance;
		c->connection_id = VMBUS_SERVER_CONNECTION_ID_BASE + relid;
		c->vsp = vsp;
		c->vsp_ctx = vsp_ctx;
		c->ring_gpadl = NO_GPADL;
		if (s->state == VMBUS_SERVER_CONNECTED && s->offers_requested)
			send_offer(s, relid);
		return relid;
	}
	slog(s, "offer table full");
	return 0;
}

struct vmbus_channel_offer *vmbus_server_offer(struct vmbus_server *s, uint32_t relid)
{
	struct vmbus_server_channel *c = chan_get(s, relid);

	if (!c || c->state == VMBUS_CHAN_FREE)
		return NULL;
	return &c->offer;
}

int vmbus_server_rescind(struct vmbus_server *s, uint32_t relid)
{
	struct vmbus_server_channel *c = chan_get(s, relid);
	struct vmbus_channel_rescind_offer m;

	if (!c || c->state == VMBUS_CHAN_FREE || c->state == VMBUS_CHAN_RESCINDED)
		return -1;
	chan_close(s, relid);
	if (!c->offer_sent) {
		memset(c, 0, sizeof(*c));
		return 0;
	}
	c->state = VMBUS_CHAN_RESCINDED;
	c->vsp = NULL;
	c->vsp_ctx = NULL;
	memset(&m, 0, sizeof(m));
	m.child_relid = relid;
	send_msg(s, &m, sizeof(m), CHANNELMSG_RESCIND_CHANNELOFFER);
	return 0;
}

bool vmbus_server_gpadl(const struct vmbus_server *s, uint32_t relid,
			uint32_t handle, const uint64_t **pfns, uint32_t *npfns)
{
	for (unsigned i = 0; i < VMBUS_SERVER_MAX_GPADLS; i++) {
		const struct vmbus_server_gpadl *g = &s->gpadl[i];

		if (g->state == VMBUS_GPADL_READY && g->handle == handle &&
		    g->relid == relid) {
			if (pfns)
				*pfns = &s->pool[g->base];
			if (npfns)
				*npfns = g->npfns;
			return true;
		}
	}
	return false;
}

enum vmbus_chan_state vmbus_server_chan_state(const struct vmbus_server *s,
					      uint32_t relid)
{
	if (relid == 0 || relid > VMBUS_SERVER_MAX_CHANNELS)
		return VMBUS_CHAN_FREE;
	return (enum vmbus_chan_state)s->chan[relid - 1].state;
}
