/*
 * The synthetic devices of one child partition (see vmbushost.h).
 *
 * Transport: the child posts channel messages to connection ids 1 and 4,
 * which the partition services route here (vmbus_host_message); the
 * server answers through ps->vmbus_post into the child's SINT (2, the one
 * Linux uses); a message the child's SynIC cannot take yet (its slot is
 * busy) waits in our queue (outq) and is retried on the next tick, which
 * vmbus_host_next_ns() asks for every VMBUS_HOST_RETRY_NS while anything
 * waits (the owner's timer runs only for the deadlines we name).
 * Nothing is dropped when the child does not take its messages: the
 * child's own messages come one at a time (the port is in credit mode,
 * see partsvc.h), and one is acted on only when outq has room for every
 * answer it can cause (HOST_MSG_ROOM); until then it waits in `inbox`,
 * the credit is not given back, and the child's next HvPostMessage gets
 * HV_STATUS_INSUFFICIENT_BUFFERS. Each channel
 * gets its own connection id (VMBUS_SERVER_CONNECTION_ID_BASE + relid):
 * the child's HvSignalEvent on it arrives as vmbus_host_event(relid), and
 * we signal the child by setting event flag `relid` of its SINT, which is
 * how a Windows 8 or later host interrupts a Linux guest.
 *
 * Rings: the ring GPADL's pages are mapped one by one (ps->map_page) and
 * read through the ring code's page-vector view; the guest's data pages
 * (storvsc's GPA lists) are copied through ps->copy_to/copy_from, page by
 * page, so nothing the guest names reaches memory that is not its own.
 *
 * Untrusted input: channel messages go through the VMBus server's checks
 * (vmbus/server.c), ring contents through the ring reader and the VSPs'
 * parsers; a channel whose ring or protocol is corrupt is closed here
 * (rescinded) with a log line, and the rest of the partition, the host
 * and other partitions go on.
 */
#include <stdarg.h>
#include <string.h>
#include <isovisor/vmbus.h>
#include "childmem.h"
#include "format.h"
#include "partcfg.h"
#include "ring.h"
#include "server.h"
#include "scsidisk.h"
#include "storvsp.h"
#include "netvsp.h"
#include "ic.h"
#include "vmbushost.h"

#define OUTQ 16
/* Child pages the back-ends copy through, kept mapped: a frame's or a
 * request's bytes then cost a memcpy, not a hypercall each page. */
#define PMAP_SLOTS 1024
/* Answers one guest message can cause: REQUESTOFFERS gets an offer per
 * channel and ALLOFFERS_DELIVERED; and room kept for a rescind of each
 * channel, which the host sends on its own. */
#define HOST_MSG_ROOM           (2 * HCHAN_COUNT + 1)
#define HEARTBEAT_PERIOD_NS     1000000000ull
#define HEARTBEAT_LOST_NS       5000000000ull

enum hchan_kind { HCHAN_STORAGE, HCHAN_HEARTBEAT, HCHAN_SHUTDOWN, HCHAN_NETWORK,
		  HCHAN_COUNT };

static const char *const kind_name[HCHAN_COUNT] = { "storage", "heartbeat", "shutdown",
						     "network" };

/* One channel as the host serves it. */
struct hchan {
	struct vmbus_host *h;
	enum hchan_kind kind;
	uint32_t relid;
	bool open;
	bool repoll;                    /* storvsp stopped at its budget */
	uint32_t target_vp;
	void *pages[VMBUS_RING_MAX_PAGES];
	uint32_t npages;
	struct vmbus_ring in;           /* guest -> host */
	struct vmbus_ring out;          /* host -> guest */
	/* ICs: where the exchange is. */
	struct ic_host ic;
	bool negotiated;
	bool request_out;               /* waiting for the guest's answer */
	uint64_t trans_id;
	uint64_t sent_ns;
};

struct vmbus_host {
	const struct partsvc *ps;
	struct vmbus_host_config cfg;
	struct vmbus_server server;
	struct hchan chan[HCHAN_COUNT];
	/* Messages the child's SynIC could not take yet. */
	struct {
		uint8_t len;
		uint8_t msg[VMBUS_CHANNEL_MESSAGE_MAX];
	} outq[OUTQ];
	unsigned outq_head, outq_count;
	/* The child's message waiting for room in outq (its credit held). */
	struct {
		bool full;
		uint8_t len;
		uint8_t msg[VMBUS_CHANNEL_MESSAGE_MAX];
	} inbox;
	uint32_t msgs_held;             /* times a message waited in inbox */
	/* The copy callbacks' child pages, mapped once (childmem.h). */
	struct childmem mem;
	struct childmem_slot mem_slots[PMAP_SLOTS];
	/* storage */
	struct scsidisk disk;
	struct storvsp sp;
	/* network: netvsp, its frames to and from the switch (partmgr) */
	struct netvsp np;
	/* heartbeat */
	uint64_t hb_seq, hb_next_ns, hb_last_answer_ns;
	uint32_t hb_answered, hb_losses;
	bool hb_lost;
	/* shutdown */
	bool shutdown_wanted, shutdown_sent, shutdown_acked;
	uint32_t channels_closed;
	uint64_t guest_lines;           /* rejections logged or suppressed */
	uint8_t pkt[8192] __attribute__((aligned(8)));
};

static void __attribute__((format(printf, 2, 3)))
hlog(struct vmbus_host *h, const char *fmt, ...)
{
	char line[200];
	int n = ksnprintf(line, sizeof(line), "%s vmbus: ", h->cfg.name);
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	h->ps->log(line);
}

/* ---- the server's transport --------------------------------------------------- */

static int try_post(struct vmbus_host *h, const void *msg, size_t len)
{
	return h->ps->vmbus_post(h->cfg.id, h->cfg.slot, h->server.msg_sint,
				 h->server.target_vcpu, msg, len);
}

static void flush_outq(struct vmbus_host *h)
{
	while (h->outq_count) {
		unsigned i = h->outq_head;

		if (try_post(h, h->outq[i].msg, h->outq[i].len))
			return;
		h->outq_head = (i + 1) % OUTQ;
		h->outq_count--;
	}
}

static int srv_send(void *ctx, const void *msg, size_t len)
{
	struct vmbus_host *h = ctx;
	unsigned i;

	if (len > VMBUS_CHANNEL_MESSAGE_MAX)
		return -1;
	/* In order: nothing overtakes what is already waiting. */
	if (!h->outq_count && !try_post(h, msg, len))
		return 0;
	if (h->outq_count == OUTQ)
		return -1;
	i = (h->outq_head + h->outq_count++) % OUTQ;
	memcpy(h->outq[i].msg, msg, len);
	h->outq[i].len = (uint8_t)len;
	return 0;
}

static bool srv_gpa_owned(void *ctx, uint64_t pfn)
{
	struct vmbus_host *h = ctx;

	return pfn < (UINT64_MAX >> 12) &&
	       child_ram_contains(h->cfg.memory_bytes, pfn << 12, 4096);
}

/* The server's and storvsp's lines are about what the guest sent: a
 * hostile guest must not flood the console (and slow the host down with
 * it). The first GUEST_LINES_FREE are logged, then one in
 * GUEST_LINES_EVERY with the count so far. */
#define GUEST_LINES_FREE        200
#define GUEST_LINES_EVERY       1000

static bool guest_line_ok(struct vmbus_host *h)
{
	uint64_t n = ++h->guest_lines;

	return n <= GUEST_LINES_FREE || n % GUEST_LINES_EVERY == 0;
}

static void srv_log(void *ctx, const char *line)
{
	struct vmbus_host *h = ctx;
	char buf[200];

	if (!guest_line_ok(h))
		return;
	if (h->guest_lines > GUEST_LINES_FREE)
		ksnprintf(buf, sizeof(buf), "%s %s (guest input line %lu; the "
			  "rest not logged)", h->cfg.name, line, h->guest_lines);
	else
		ksnprintf(buf, sizeof(buf), "%s %s", h->cfg.name, line);
	h->ps->log(buf);
}

static const struct vmbus_server_ops server_ops = {
	.send = srv_send,
	.gpa_owned = srv_gpa_owned,
	.log = srv_log,
};

static const struct storvsp_ops sp_ops;

/* ---- channels ------------------------------------------------------------------ */

static void signal_guest(struct hchan *c)
{
	struct vmbus_host *h = c->h;

	if (h->ps->vmbus_signal(h->cfg.id, h->cfg.slot, h->server.msg_sint,
				c->target_vp, c->relid))
		hlog(h, "signalling channel %u failed", c->relid);
}

static void unmap_ring(struct hchan *c)
{
	if (c->kind == HCHAN_NETWORK && c->open)
		netvsp_detach(&c->h->np);
	c->repoll = false;
	for (uint32_t i = 0; i < c->npages; i++)
		c->h->ps->unmap_page(c->h->cfg.id, c->pages[i]);
	c->npages = 0;
	c->open = false;
}

static int vsp_open(void *vsp_ctx, const struct vmbus_open_request *req)
{
	struct hchan *c = vsp_ctx;
	struct vmbus_host *h = c->h;
	uint32_t n = req->ring_npfns, down = req->downstream_offset;

	if (n > VMBUS_RING_MAX_PAGES || down < VMBUS_RING_MIN_PAGES ||
	    n - down < VMBUS_RING_MIN_PAGES || down > n) {
		hlog(h, "%s: ring of %u pages split at %u refused", kind_name[c->kind], n, down);
		return -1;
	}
	for (c->npages = 0; c->npages < n; c->npages++) {
		c->pages[c->npages] = h->ps->map_page(h->cfg.id, req->ring_pfns[c->npages]);
		if (!c->pages[c->npages]) {
			hlog(h, "%s: ring page %#lx cannot be mapped", kind_name[c->kind],
			     req->ring_pfns[c->npages]);
			unmap_ring(c);
			return -1;
		}
	}
	if (vmbus_ring_init_pages(&c->in, c->pages[0], c->pages + 1, down - 1) ||
	    vmbus_ring_init_pages(&c->out, c->pages[down], c->pages + down + 1, n - down - 1)) {
		hlog(h, "%s: ring indices out of range at open", kind_name[c->kind]);
		unmap_ring(c);
		return -1;
	}
	c->open = true;
	c->target_vp = req->target_vp;
	c->negotiated = c->request_out = false;
	if (c->kind == HCHAN_STORAGE)
		storvsp_attach(&h->sp, &c->in, &c->out);
	if (c->kind == HCHAN_NETWORK)
		netvsp_attach(&h->np, &c->in, &c->out);
	hlog(h, "%s channel %u open: %u ring pages", kind_name[c->kind], c->relid, n);
	return 0;
}

static void vsp_close(void *vsp_ctx, uint32_t relid)
{
	struct hchan *c = vsp_ctx;

	if (c->open)
		hlog(c->h, "%s channel %u closed", kind_name[c->kind], relid);
	unmap_ring(c);
}

static const struct vmbus_vsp_ops vsp_ops = {
	.open = vsp_open,
	.close = vsp_close,
};

/* Bad input on an open channel: close it for good, as a host does. */
static void close_bad_channel(struct hchan *c, const char *why)
{
	struct vmbus_host *h = c->h;

	hlog(h, "%s channel %u: %s; closing the channel", kind_name[c->kind], c->relid, why);
	h->channels_closed++;
	vmbus_server_rescind(&h->server, c->relid);
	unmap_ring(c);
}

/* ---- integration services --------------------------------------------------- */

/* One IC request into the host->guest ring, as an in-band packet that
 * asks for the guest's answer. */
static void ic_send(struct hchan *c, const void *payload, uint32_t len)
{
	struct vmbus_pkt_desc d;
	struct vmbus_iov iov[2];
	bool sig = false;
	int r;

	memset(&d, 0, sizeof(d));
	d.type = VMBUS_PKT_DATA_INBAND;
	d.offset8 = sizeof(d) / 8;
	d.len8 = (uint16_t)((sizeof(d) + len + 7) / 8);
	d.flags = VMBUS_PKT_FLAG_COMPLETION_REQUESTED;
	d.trans_id = ++c->trans_id;
	iov[0] = (struct vmbus_iov){ &d, sizeof(d) };
	iov[1] = (struct vmbus_iov){ payload, len };
	r = vmbus_ring_write(&c->out, iov, 2, &sig);
	if (r == VMBUS_RING_CORRUPT) {
		close_bad_channel(c, "corrupt ring");
		return;
	}
	if (r) {
		hlog(c->h, "%s: ring full, request dropped", kind_name[c->kind]);
		return;
	}
	c->request_out = true;
	c->sent_ns = c->h->ps->now_ns();
	if (sig)
		signal_guest(c);
}

static void ic_start(struct hchan *c)
{
	size_t len;

	ic_host_init(&c->ic, c->kind == HCHAN_HEARTBEAT ? IC_SERVICE_HEARTBEAT :
							  IC_SERVICE_SHUTDOWN);
	len = ic_host_negotiate(&c->ic, c->h->pkt, sizeof(c->h->pkt));
	if (len)
		ic_send(c, c->h->pkt, (uint32_t)len);
}

static void ic_answer(struct hchan *c, const uint8_t *payload, uint32_t len)
{
	struct vmbus_host *h = c->h;
	struct ic_response r;
	const char *err = "";

	if (!c->request_out) {
		hlog(h, "%s: an answer nobody asked for, ignored", kind_name[c->kind]);
		return;
	}
	if (ic_host_parse(&c->ic, payload, len, &r, &err)) {
		char why[96];

		ksnprintf(why, sizeof(why), "bad IC response (%s)", err);
		close_bad_channel(c, why);
		return;
	}
	c->request_out = false;
	if (!c->negotiated) {
		if (r.type != ICMSGTYPE_NEGOTIATE) {
			close_bad_channel(c, "IC answer before negotiation");
			return;
		}
		c->negotiated = c->ic.negotiated;
		if (!c->negotiated)
			close_bad_channel(c, "no IC version in common");
		else
			hlog(h, "%s IC negotiated", kind_name[c->kind]);
		return;
	}
	if (c->kind == HCHAN_HEARTBEAT && r.type == ICMSGTYPE_HEARTBEAT &&
	    r.seq == h->hb_seq + 1) {
		h->hb_answered++;
		h->hb_last_answer_ns = h->ps->now_ns();
		if (h->hb_lost)
			hlog(h, "heartbeat is back (sequence %lu)", r.seq);
		h->hb_lost = false;
	} else if (c->kind == HCHAN_SHUTDOWN && r.type == ICMSGTYPE_SHUTDOWN) {
		h->shutdown_acked = r.status == 0;
		hlog(h, "shutdown IC: the guest %s", r.status == 0 ? "agreed to shut down" :
			"refused to shut down");
	} else {
		hlog(h, "%s: unexpected IC answer (type %u)", kind_name[c->kind], r.type);
	}
}

/* ---- events from the guest ------------------------------------------------------ */

static void drain_ic(struct hchan *c)
{
	for (;;) {
		int n = vmbus_ring_peek(&c->in, c->h->pkt, sizeof(c->h->pkt));
		const struct vmbus_pkt_desc *d = (const void *)c->h->pkt;
		bool sig = false;

		if (n == 0)
			return;
		if (n < 0) {
			close_bad_channel(c, n == VMBUS_RING_TOOBIG ? "IC packet too long" :
					  "corrupt ring");
			return;
		}
		if (d->type == VMBUS_PKT_DATA_INBAND)
			ic_answer(c, c->h->pkt + d->offset8 * 8u, (uint32_t)n - d->offset8 * 8u);
		if (!c->open)
			return;
		if (vmbus_ring_consume(&c->in, (uint32_t)n, &sig)) {
			close_bad_channel(c, "corrupt ring");
			return;
		}
		if (sig)
			signal_guest(c);
	}
}

static void serve(struct hchan *c)
{
	if (!c->open)
		return;
	if (c->kind == HCHAN_STORAGE) {
		int r = storvsp_poll(&c->h->sp);

		c->repoll = r == STORVSP_POLL_MORE;
		if (r < 0)
			close_bad_channel(c, "storvsp protocol violation or corrupt ring");
		return;
	}
	if (c->kind == HCHAN_NETWORK) {
		int r = netvsp_poll(&c->h->np);

		c->repoll = r == NETVSP_POLL_MORE;
		if (r < 0)
			close_bad_channel(c, "netvsp protocol violation or corrupt ring");
		return;
	}
	drain_ic(c);
	if (c->open && !c->negotiated && !c->request_out)
		ic_start(c);
}

bool vmbus_host_poll(struct vmbus_host *h)
{
	bool more = false;

	for (unsigned k = 0; k < HCHAN_COUNT; k++) {
		struct hchan *c = &h->chan[k];

		if (c->repoll && c->open)
			serve(c);
		else
			c->repoll = false;
		more |= c->repoll;
	}
	return more;
}

void vmbus_host_event(struct vmbus_host *h, uint32_t relid)
{
	for (unsigned k = 0; k < HCHAN_COUNT; k++)
		if (h->chan[k].relid && h->chan[k].relid == relid)
			serve(&h->chan[k]);
}

static void act_on_message(struct vmbus_host *h, const void *msg, size_t len)
{
	vmbus_server_receive(&h->server, msg, len);
	/* An open just happened: start the ICs' negotiation. */
	for (unsigned k = HCHAN_HEARTBEAT; k <= HCHAN_SHUTDOWN; k++)
		if (h->chan[k].open &&
		    !h->chan[k].negotiated && !h->chan[k].request_out)
			ic_start(&h->chan[k]);
	flush_outq(h);
}

static bool room_for_answers(const struct vmbus_host *h)
{
	return OUTQ - h->outq_count >= HOST_MSG_ROOM;
}

/* The inbox's message, once outq has room; then the child may post the
 * next one. */
static void take_inbox(struct vmbus_host *h)
{
	flush_outq(h);
	if (!h->inbox.full || !room_for_answers(h))
		return;
	h->inbox.full = false;
	act_on_message(h, h->inbox.msg, h->inbox.len);
	h->ps->vmbus_msg_done(h->cfg.slot);
}

void vmbus_host_message(struct vmbus_host *h, const void *msg, size_t len)
{
	flush_outq(h);
	if (len > VMBUS_CHANNEL_MESSAGE_MAX)
		len = VMBUS_CHANNEL_MESSAGE_MAX;   /* the server refuses it */
	if (h->inbox.full) {
		/* Only one is ever outstanding (credit mode): a second one
		 * means the transport broke that rule. Keep order: act on the
		 * waiting one first, whatever outq says. */
		hlog(h, "a channel message arrived while one waits (the port's "
		     "credit was not held); acting on both");
		h->inbox.full = false;
		act_on_message(h, h->inbox.msg, h->inbox.len);
	}
	if (!room_for_answers(h)) {
		memcpy(h->inbox.msg, msg, len);
		h->inbox.len = (uint8_t)len;
		h->inbox.full = true;
		h->msgs_held++;
		return;
	}
	act_on_message(h, msg, len);
	h->ps->vmbus_msg_done(h->cfg.slot);
}

void vmbus_host_tick(struct vmbus_host *h, uint64_t now)
{
	struct hchan *hb = &h->chan[HCHAN_HEARTBEAT], *sd = &h->chan[HCHAN_SHUTDOWN];

	take_inbox(h);
	for (unsigned k = 0; k < HCHAN_COUNT; k++)
		serve(&h->chan[k]);
	if (hb->open && hb->negotiated) {
		if (!h->hb_last_answer_ns)
			h->hb_last_answer_ns = now;
		if (!hb->request_out && now >= h->hb_next_ns) {
			size_t len = ic_host_heartbeat(&hb->ic, ++h->hb_seq, h->pkt, sizeof(h->pkt));

			if (len)
				ic_send(hb, h->pkt, (uint32_t)len);
			h->hb_next_ns = now + HEARTBEAT_PERIOD_NS;
		}
		/* An answer served in this tick is stamped after `now`. */
		if (!h->hb_lost && now > h->hb_last_answer_ns &&
		    now - h->hb_last_answer_ns > HEARTBEAT_LOST_NS) {
			h->hb_lost = true;
			h->hb_losses++;
			hlog(h, "heartbeat stopped: no answer for %lu s (last sequence %lu)",
			     (uint64_t)((now - h->hb_last_answer_ns) / 1000000000ull), h->hb_seq);
		}
	}
	if (h->shutdown_wanted && !h->shutdown_sent && sd->open && sd->negotiated &&
	    !sd->request_out) {
		size_t len = ic_host_shutdown(&sd->ic, 0, 0, h->pkt, sizeof(h->pkt));

		if (len) {
			ic_send(sd, h->pkt, (uint32_t)len);
			h->shutdown_sent = true;
			hlog(h, "shutdown IC: asking the guest to shut down");
		}
	}
}

static uint64_t earlier(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Everything vmbus_host_tick() does that no guest signal starts: keep in
 * step with it. */
uint64_t vmbus_host_next_ns(const struct vmbus_host *h, uint64_t now)
{
	const struct hchan *hb = &h->chan[HCHAN_HEARTBEAT], *sd = &h->chan[HCHAN_SHUTDOWN];
	/* On a fixed grid, not now + RETRY: the owner asks again after
	 * every event, and a retry that moved with each would never come
	 * while the guest keeps signalling. */
	uint64_t next = UINT64_MAX, soon = (now / VMBUS_HOST_RETRY_NS + 1) * VMBUS_HOST_RETRY_NS;

	/* outq waits for the child's SynIC slot (no message says it is
	 * free), the inbox for room in outq: both are retried, never left. */
	if (h->outq_count || h->inbox.full)
		next = soon;
	for (unsigned k = 0; k < HCHAN_COUNT; k++) {
		const struct hchan *c = &h->chan[k];

		if (!c->open)
			continue;
		/* A completion that did not fit: without pending_send_sz on
		 * the ring the guest never says it made room (the writer
		 * polls); with it, the poll is only a backstop. */
		if (c->kind == HCHAN_STORAGE && h->sp.stalled)
			next = soon;
		/* An IC negotiation whose request did not fit the ring. */
		if (c->kind != HCHAN_STORAGE && !c->negotiated && !c->request_out)
			next = soon;
	}
	if (hb->open && hb->negotiated) {
		if (!h->hb_last_answer_ns)
			return now;     /* the tick starts the clock */
		if (!hb->request_out)
			next = earlier(next, h->hb_next_ns);
		/* The tick calls it lost once strictly past HEARTBEAT_LOST_NS. */
		if (!h->hb_lost)
			next = earlier(next, h->hb_last_answer_ns + HEARTBEAT_LOST_NS + 1);
	}
	/* A shutdown request still to send (the IC was not ready, or the
	 * request did not fit). */
	if (h->shutdown_wanted && !h->shutdown_sent && sd->open && sd->negotiated &&
	    !sd->request_out)
		next = soon;
	return next;
}

bool vmbus_host_request_shutdown(struct vmbus_host *h)
{
	if (!h->chan[HCHAN_SHUTDOWN].open)
		return false;
	h->shutdown_wanted = true;
	vmbus_host_tick(h, h->ps->now_ns());
	return true;
}

/* ---- storage ---------------------------------------------------------------------- */

static int sp_copy_from(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	struct vmbus_host *h = ctx;

	return childmem_copy(&h->mem, gpa, buf, len, false);
}

static int sp_copy_to(void *ctx, uint64_t gpa, const void *buf, uint32_t len)
{
	struct vmbus_host *h = ctx;

	return childmem_copy(&h->mem, gpa, (void *)buf, len, true);
}

_Static_assert(STORVSP_MAX_PFNS <= PARTSVC_DMA_PAGES, "a storvsp request's pages in one call");

static int sp_dma_pages(void *ctx, const uint64_t *pfns, uint32_t n, uint64_t *phys)
{
	struct vmbus_host *h = ctx;

	if (n > PARTSVC_DMA_PAGES)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (pfns[i] >= (UINT64_MAX >> 12) ||
		    !child_ram_contains(h->cfg.memory_bytes, pfns[i] << 12, 4096))
			return -1;
	return h->ps->dma_pages(h->cfg.id, pfns, n, phys);
}

static void sp_signal(void *ctx)
{
	struct vmbus_host *h = ctx;

	signal_guest(&h->chan[HCHAN_STORAGE]);
}

static void sp_log(void *ctx, const char *line)
{
	struct vmbus_host *h = ctx;

	if (!guest_line_ok(h))
		return;
	if (h->guest_lines > GUEST_LINES_FREE)
		hlog(h, "%s (guest input line %lu; the rest not logged)", line,
		     h->guest_lines);
	else
		hlog(h, "%s", line);    /* already "storvsp: ..." */
}

static const struct storvsp_ops sp_ops = {
	.copy_from_guest = sp_copy_from,
	.copy_to_guest = sp_copy_to,
	.dma_pages = sp_dma_pages,
	.signal_guest = sp_signal,
	.log = sp_log,
};

/* A host that cannot name the child's pages to a device: copies only. */
static const struct storvsp_ops sp_ops_copy = {
	.copy_from_guest = sp_copy_from,
	.copy_to_guest = sp_copy_to,
	.signal_guest = sp_signal,
	.log = sp_log,
};

static void np_signal(void *ctx)
{
	struct vmbus_host *h = ctx;

	signal_guest(&h->chan[HCHAN_NETWORK]);
}

static bool np_gpadl(void *ctx, uint32_t handle, const uint64_t **pfns, uint32_t *npfns)
{
	struct vmbus_host *h = ctx;

	return vmbus_server_gpadl(&h->server, h->chan[HCHAN_NETWORK].relid, handle, pfns,
				  npfns);
}

static int np_tx(void *ctx, const void *frame, size_t len)
{
	struct vmbus_host *h = ctx;

	return h->cfg.nic_tx(h->cfg.nic_ctx, frame, len);
}

static int np_set_mac(void *ctx, const uint8_t mac[6])
{
	struct vmbus_host *h = ctx;

	return h->cfg.nic_set_mac(h->cfg.nic_ctx, mac);
}

static const struct netvsp_ops np_ops = {
	.copy_from_guest = sp_copy_from,
	.copy_to_guest = sp_copy_to,
	.signal_guest = np_signal,
	.log = sp_log,
	.gpadl = np_gpadl,
	.tx = np_tx,
};

int vmbus_host_net_receive(struct vmbus_host *h, const void *frame, size_t len)
{
	if (!h->chan[HCHAN_NETWORK].open)
		return -1;
	return netvsp_receive(&h->np, frame, len);
}

bool vmbus_host_net_kick(struct vmbus_host *h)
{
	struct hchan *c = &h->chan[HCHAN_NETWORK];

	if (!c->open || !netvsp_tx_blocked(&h->np))
		return false;
	serve(c);
	return true;
}

/* ---- setting up ------------------------------------------------------------------- */

/* Class GUIDs in Hyper-V's byte order (the first three fields little
 * endian). */
static const struct vmbus_guid scsi_class = { {
	0xd9, 0x63, 0x61, 0xba, 0xa1, 0x04, 0x29, 0x4d,
	0xb6, 0x05, 0x72, 0xe2, 0xff, 0xb1, 0xdc, 0x7f } };
/* f8615163-df3e-46c5-913f-f2d2f965ed0e: the synthetic network adapter. */
static const struct vmbus_guid net_class = { {
	0x63, 0x51, 0x61, 0xf8, 0x3e, 0xdf, 0xc5, 0x46,
	0x91, 0x3f, 0xf2, 0xd2, 0xf9, 0x65, 0xed, 0x0e } };

static int add_channel(struct vmbus_host *h, enum hchan_kind k, const struct vmbus_guid *type)
{
	struct hchan *c = &h->chan[k];
	struct vmbus_guid inst = *type;
	struct vmbus_channel_offer *o;

	/* A stable instance per partition and device. */
	inst.b[14] ^= (uint8_t)(h->cfg.slot + 1);
	inst.b[15] ^= (uint8_t)(0x40 + k);
	c->h = h;
	c->kind = k;
	c->relid = vmbus_server_add_offer(&h->server, type, &inst, &vsp_ops, c);
	if (!c->relid)
		return -1;
	o = vmbus_server_offer(&h->server, c->relid);
	if (k == HCHAN_STORAGE)
		o->u.std.user_def[0] = 0;       /* path/target: 0 */
	return h->ps->vmbus_event_in(h->cfg.id, h->cfg.slot,
				     VMBUS_SERVER_CONNECTION_ID_BASE + c->relid, c->relid);
}

struct vmbus_host *vmbus_host_start(const struct partsvc *ps,
				    const struct vmbus_host_config *cfg)
{
	struct vmbus_host *h = ps->alloc(sizeof(*h));

	if (!h)
		return NULL;
	h->ps = ps;
	h->cfg = *cfg;
	childmem_init(&h->mem, ps, cfg->id, cfg->memory_bytes, h->mem_slots, PMAP_SLOTS);
	vmbus_server_init(&h->server, &server_ops, h);
	if (ps->vmbus_attach(cfg->id, cfg->slot))
		return NULL;
	if (cfg->devices & PARTCFG_DEV_STORAGE) {
		char serial[24];

		ksnprintf(serial, sizeof(serial), "isovisor-%s", cfg->name);
		scsidisk_init(&h->disk, cfg->disk, serial);
		if (storvsp_init(&h->sp, &h->disk, ps->dma_pages ? &sp_ops : &sp_ops_copy, h))
			return NULL;
		if (add_channel(h, HCHAN_STORAGE, &scsi_class))
			return NULL;
	}
	if (cfg->nic_mac) {
		if (!cfg->nic_tx || netvsp_init(&h->np, cfg->nic_mac, &np_ops, h) ||
		    add_channel(h, HCHAN_NETWORK, &net_class))
			return NULL;
		if (cfg->nic_set_mac)
			netvsp_allow_mac_change(&h->np, np_set_mac);
	}
	if ((cfg->devices & PARTCFG_DEV_HEARTBEAT) &&
	    add_channel(h, HCHAN_HEARTBEAT, &ic_heartbeat_guid))
		return NULL;
	if ((cfg->devices & PARTCFG_DEV_SHUTDOWN) &&
	    add_channel(h, HCHAN_SHUTDOWN, &ic_shutdown_guid))
		return NULL;
	return h;
}

void vmbus_host_stop(struct vmbus_host *h)
{
	for (unsigned k = 0; k < HCHAN_COUNT; k++)
		if (h->chan[k].open)
			unmap_ring(&h->chan[k]);
	childmem_clear(&h->mem);
}

void vmbus_host_report(const struct vmbus_host *h, struct vmbus_host_report *r)
{
	memset(r, 0, sizeof(*r));
	r->storage_open = h->chan[HCHAN_STORAGE].open;
	r->bytes_read = h->sp.stats.bytes_read;
	r->bytes_written = h->sp.stats.bytes_written;
	r->requests = h->sp.stats.requests;
	r->direct = h->sp.stats.direct;
	r->flushes = h->disk.stats.flushes;
	r->heartbeats_answered = h->hb_answered;
	r->heartbeat_losses = h->hb_losses;
	r->shutdown_acked = h->shutdown_acked;
	r->rejected = h->server.stats.rejected;
	r->channels_closed = h->channels_closed;
	r->messages_held = h->msgs_held;
	r->net_open = h->chan[HCHAN_NETWORK].open;
	r->net_tx_frames = h->np.stats.tx_frames;
	r->net_rx_frames = h->np.stats.rx_frames;
}
