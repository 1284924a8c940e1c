/*
 * VMBus channel management, host side: a scripted guest drives
 * vmbus_server in-process and checks each answer the way Linux's
 * hv_vmbus would read it (version negotiation, offers, GPADLs split as
 * Linux splits them, open/close, rescind, unload), then throws malformed
 * and out-of-order messages at it and checks it still works.
 */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "chanmsg.h"
#include "server.h"

/* ---- the scripted guest's side of the transport ------------------------ */
#define OUTQ 64
static struct vmbus_chanmsg outq[OUTQ];
static unsigned nout, out_bad;
static char last_log[200];
static unsigned nlogs;

static int t_send(void *ctx, const void *msg, size_t len)
{
	const char *err;

	if (nout < OUTQ && !vmbus_chanmsg_parse(msg, len, &outq[nout], &err))
		nout++;
	else
		out_bad++;
	return 0;
}

/* The guest owns pfns 0x100..0xfffff except 0x666. */
static bool t_owned(void *ctx, uint64_t pfn)
{
	return pfn >= 0x100 && pfn < 0x100000 && pfn != 0x666;
}

static void t_log(void *ctx, const char *line)
{
	nlogs++;
	snprintf(last_log, sizeof(last_log), "%s", line);
}

static const struct vmbus_server_ops t_ops = { t_send, t_owned, t_log };

/* ---- a VSP that records its calls -------------------------------------- */
struct t_vsp {
	unsigned opens, closes, torndowns;
	int refuse;
	struct vmbus_open_request last;
	uint64_t pfn0;
	uint8_t userdata0;
	uint32_t last_closed;
};

static int v_open(void *ctx, const struct vmbus_open_request *req)
{
	struct t_vsp *v = ctx;

	if (v->refuse)
		return -1;
	v->opens++;
	v->last = *req;
	v->pfn0 = req->ring_pfns[0];
	v->userdata0 = req->userdata[0];
	return 0;
}

static void v_close(void *ctx, uint32_t relid)
{
	struct t_vsp *v = ctx;

	v->closes++;
	v->last_closed = relid;
}

static void v_torndown(void *ctx, uint32_t relid, uint32_t gpadl)
{
	((struct t_vsp *)ctx)->torndowns++;
}

static const struct vmbus_vsp_ops vsp_ops = { v_open, v_close, v_torndown };

static struct vmbus_server *S;

static void drain(void)
{
	nout = 0;
}

static void post(const void *m, size_t len)
{
	vmbus_server_receive(S, m, len);
}

static void contact(uint32_t version, uint8_t sint)
{
	struct vmbus_channel_initiate_contact ic;

	memset(&ic, 0, sizeof(ic));
	ic.header.msgtype = CHANNELMSG_INITIATE_CONTACT;
	ic.vmbus_version_requested = version;
	ic.target_vcpu = 0;
	if (version >= VMBUS_VERSION_WIN10_V5)
		ic.msg_sint = sint;
	else
		ic.interrupt_page = 0x200000;
	ic.monitor_page1 = 0x201000;
	ic.monitor_page2 = 0x202000;
	post(&ic, sizeof(ic));
}

static void simple(uint32_t type)
{
	struct vmbus_channel_message_header h = { type, 0 };

	post(&h, sizeof(h));
}

/* Posts a single-range GPADL of n pages the way Linux splits it:
 * 26 pfns in the header, 28 per body. Returns the message count. */
static unsigned post_gpadl(uint32_t relid, uint32_t handle, const uint64_t *pfns,
			   uint32_t n)
{
	uint8_t buf[240];
	struct vmbus_channel_gpadl_header h;
	struct vmbus_channel_gpadl_body b;
	uint64_t range = (uint64_t)n * 4096;    /* byte_count, offset 0 */
	uint32_t first = n < 26 ? n : 26, done = 0;
	unsigned msgs = 1;

	memset(&h, 0, sizeof(h));
	h.header.msgtype = CHANNELMSG_GPADL_HEADER;
	h.child_relid = relid;
	h.gpadl = handle;
	h.range_buflen = (uint16_t)(8 + 8 * n);
	h.rangecount = 1;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + 20, &range, 8);
	memcpy(buf + 28, pfns, 8 * first);
	post(buf, 28 + 8 * first);
	done = first;
	while (done < n) {
		uint32_t k = n - done < 28 ? n - done : 28;

		memset(&b, 0, sizeof(b));
		b.header.msgtype = CHANNELMSG_GPADL_BODY;
		b.gpadl = handle;
		memcpy(buf, &b, sizeof(b));
		memcpy(buf + 16, pfns + done, 8 * k);
		post(buf, 16 + 8 * k);
		done += k;
		msgs++;
	}
	return msgs;
}

static void open_chan(uint32_t relid, uint32_t gpadl, uint32_t offset, uint32_t openid)
{
	struct vmbus_channel_open_channel o;

	memset(&o, 0, sizeof(o));
	o.header.msgtype = CHANNELMSG_OPENCHANNEL;
	o.child_relid = relid;
	o.openid = openid;
	o.ringbuffer_gpadlhandle = gpadl;
	o.target_vp = 1;
	o.downstream_ringbuffer_pageoffset = offset;
	o.userdata[0] = 0xab;
	post(&o, sizeof(o));
}

static void relid_msg(uint32_t type, uint32_t relid)
{
	struct vmbus_channel_close_channel c;   /* same layout as relid_released */

	memset(&c, 0, sizeof(c));
	c.header.msgtype = type;
	c.child_relid = relid;
	post(&c, sizeof(c));
}

static void teardown(uint32_t relid, uint32_t gpadl)
{
	struct vmbus_channel_gpadl_teardown t;

	memset(&t, 0, sizeof(t));
	t.header.msgtype = CHANNELMSG_GPADL_TEARDOWN;
	t.child_relid = relid;
	t.gpadl = gpadl;
	post(&t, sizeof(t));
}

static struct vmbus_guid guid(uint8_t tag)
{
	struct vmbus_guid g;

	memset(&g, tag, sizeof(g));
	return g;
}

static void fresh(void)
{
	vmbus_server_init(S, &t_ops, NULL);
	drain();
	out_bad = 0;
}

/* ---- tests --------------------------------------------------------------- */

static void test_versions(void)
{
	static const struct { uint32_t v; uint32_t conn; } ok[] = {
		{ VMBUS_VERSION_WIN8, 1 }, { VMBUS_VERSION_WIN8_1, 1 },
		{ VMBUS_VERSION_WIN10, 1 }, { VMBUS_VERSION_WIN10_V4_1, 1 },
		{ VMBUS_VERSION_WIN10_V5, 4 }, { VMBUS_VERSION_WIN10_V5_1, 4 },
		{ VMBUS_VERSION_WIN10_V5_2, 4 }, { VMBUS_VERSION_WIN10_V5_3, 4 },
	};
	static const uint32_t bad[] = {
		VMBUS_VERSION_WS2008, VMBUS_VERSION_WIN7, VMBUS_MAKE_VERSION(5, 4),
		VMBUS_MAKE_VERSION(6, 0), VMBUS_MAKE_VERSION(2, 3), 0, 0xffffffff,
	};

	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		fresh();
		contact(ok[i].v, 3);
		CHECK(nout == 1 && outq[0].type == CHANNELMSG_VERSION_RESPONSE &&
		      outq[0].u.version.version_supported == 1 &&
		      outq[0].u.version.msg_conn_id == ok[i].conn,
		      "version %u.%u accepted, msg_conn_id %u", ok[i].v >> 16,
		      ok[i].v & 0xffff, ok[i].conn);
		CHECK(S->state == VMBUS_SERVER_CONNECTED && S->version == ok[i].v &&
		      S->msg_sint == (ok[i].conn == 4 ? 3 : VMBUS_MESSAGE_SINT),
		      "version %u.%u: connected, host messages on SINT %u",
		      ok[i].v >> 16, ok[i].v & 0xffff, S->msg_sint);
	}
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh();
		contact(bad[i], 2);
		CHECK(nout == 1 && outq[0].type == CHANNELMSG_VERSION_RESPONSE &&
		      outq[0].u.version.version_supported == 0 &&
		      S->state == VMBUS_SERVER_DISCONNECTED,
		      "version 0x%x refused", bad[i]);
	}

	/* Linux walks its list newest first until one is accepted. */
	fresh();
	contact(VMBUS_MAKE_VERSION(6, 0), 2);
	contact(VMBUS_MAKE_VERSION(5, 4), 2);
	contact(VMBUS_VERSION_WIN10_V5_3, 2);
	CHECK(nout == 3 && !outq[0].u.version.version_supported &&
	      !outq[1].u.version.version_supported &&
	      outq[2].u.version.version_supported && S->msg_conn_id == 4,
	      "guest retrying lower versions settles on 5.3");

	fresh();
	contact(VMBUS_VERSION_WIN10_V5_3, 16);
	CHECK(nout == 1 && !outq[0].u.version.version_supported,
	      "msg_sint 16 refused");
	fresh();
	{
		struct vmbus_channel_initiate_contact ic;

		memset(&ic, 0, sizeof(ic));
		ic.header.msgtype = CHANNELMSG_INITIATE_CONTACT;
		ic.vmbus_version_requested = VMBUS_VERSION_WIN10;
		ic.interrupt_page = 0x666000;   /* not the guest's */
		post(&ic, sizeof(ic));
		CHECK(nout == 1 && !outq[0].u.version.version_supported &&
		      S->state == VMBUS_SERVER_DISCONNECTED,
		      "interrupt page the guest does not own refused");
	}

	fresh();
	simple(CHANNELMSG_REQUESTOFFERS);
	CHECK(nout == 0 && S->stats.rejected == 1,
	      "REQUESTOFFERS before INITIATE_CONTACT ignored");
}

static struct t_vsp vsp[4];

static void setup_connected(void)
{
	fresh();
	memset(vsp, 0, sizeof(vsp));
	for (unsigned i = 0; i < 3; i++) {
		struct vmbus_guid t = guid(0x10 + i), in = guid(0x20 + i);

		vmbus_server_add_offer(S, &t, &in, &vsp_ops, &vsp[i]);
	}
	contact(VMBUS_VERSION_WIN10_V5_3, 2);
	simple(CHANNELMSG_REQUESTOFFERS);
}

static void test_offers(void)
{
	bool ok = true;

	setup_connected();
	CHECK(nout == 5, "version response, 3 offers, all-delivered: %u messages", nout);
	for (unsigned i = 0; i < 3; i++) {
		const struct vmbus_channel_offer_channel *o = &outq[1 + i].u.offer;

		ok = ok && outq[1 + i].type == CHANNELMSG_OFFERCHANNEL &&
		     outq[1 + i].len == 196 && o->child_relid == i + 1 &&
		     o->offer.if_type.b[0] == 0x10 + i &&
		     o->offer.if_instance.b[15] == 0x20 + i &&
		     o->connection_id == VMBUS_SERVER_CONNECTION_ID_BASE + i + 1 &&
		     o->monitor_flags == 0 && o->interrupt_flags == 0;
	}
	CHECK(ok, "offers in relid order 1..3, 196 bytes, guids and connection ids");
	CHECK(outq[4].type == CHANNELMSG_ALLOFFERS_DELIVERED && outq[4].len == 8,
	      "offers end with ALLOFFERS_DELIVERED");

	drain();
	{
		struct vmbus_guid t = guid(0x13), in = guid(0x23);
		uint32_t relid = vmbus_server_add_offer(S, &t, &in, &vsp_ops, &vsp[3]);

		CHECK(relid == 4 && nout == 1 && outq[0].type == CHANNELMSG_OFFERCHANNEL &&
		      outq[0].u.offer.child_relid == 4,
		      "an offer added after REQUESTOFFERS is sent at once");
	}
}

static uint64_t pages[200];

static void fill_pages(uint64_t base, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		pages[i] = base + i * 3;
}

static void test_gpadl(void)
{
	const uint64_t *pfns;
	uint32_t n;
	unsigned msgs;

	setup_connected();
	drain();
	fill_pages(0x1000, 60);
	msgs = post_gpadl(1, 0xe1e10, pages, 60);
	CHECK(msgs == 3, "a 60-page gpadl takes 3 messages (26 + 28 + 6 pfns)");
	CHECK(nout == 1 && outq[0].type == CHANNELMSG_GPADL_CREATED &&
	      outq[0].u.gpadl_created.creation_status == 0 &&
	      outq[0].u.gpadl_created.gpadl == 0xe1e10 &&
	      outq[0].u.gpadl_created.child_relid == 1,
	      "GPADL_CREATED status 0 only after the last body");
	CHECK(vmbus_server_gpadl(S, 1, 0xe1e10, &pfns, &n) && n == 60 &&
	      pfns[0] == 0x1000 && pfns[26] == 0x1000 + 26 * 3 &&
	      pfns[59] == 0x1000 + 59 * 3,
	      "the assembled gpadl lists all 60 pfns in order");
	CHECK(!vmbus_server_gpadl(S, 2, 0xe1e10, NULL, NULL),
	      "a gpadl is found only under its own relid");

	/* The same split with one page the guest does not own. */
	drain();
	fill_pages(0x1000, 60);
	pages[40] = 0x666;
	nlogs = 0;
	post_gpadl(1, 0xe1e11, pages, 60);
	CHECK(nout == 1 && outq[0].type == CHANNELMSG_GPADL_CREATED &&
	      outq[0].u.gpadl_created.creation_status != 0 &&
	      outq[0].u.gpadl_created.gpadl == 0xe1e11,
	      "a gpadl naming a page the guest does not own is refused");
	CHECK(nlogs >= 1 && strstr(last_log, "0x666") && strstr(last_log, "not owned"),
	      "the refusal is logged: %s", last_log);
	CHECK(!vmbus_server_gpadl(S, 1, 0xe1e11, NULL, NULL),
	      "the refused gpadl does not exist");

	drain();
	fill_pages(0x1000, 4);
	post_gpadl(1, 0xe1e10, pages, 4);
	CHECK(nout == 1 && outq[0].u.gpadl_created.creation_status != 0,
	      "a second gpadl with a handle in use is refused");
	drain();
	post_gpadl(9, 0xe1e12, pages, 4);
	CHECK(nout == 1 && outq[0].u.gpadl_created.creation_status != 0,
	      "a gpadl for an unknown relid is refused");

	drain();
	teardown(1, 0xe1e10);
	CHECK(nout == 1 && outq[0].type == CHANNELMSG_GPADL_TORNDOWN &&
	      outq[0].u.gpadl_torndown.gpadl == 0xe1e10 &&
	      !vmbus_server_gpadl(S, 1, 0xe1e10, NULL, NULL) && vsp[0].torndowns == 1,
	      "GPADL_TEARDOWN answered with TORNDOWN, VSP told");
	drain();
	teardown(1, 0xe1e10);
	CHECK(nout == 0, "teardown of an unknown gpadl ignored");

	/* Fill the pool: 16384 words hold 15 gpadls of 1024 pages + range words. */
	{
		unsigned created = 0, refused = 0;

		drain();
		for (uint32_t h = 0; h < 20; h++) {
			static uint64_t big[1024];

			for (uint32_t i = 0; i < 1024; i++)
				big[i] = 0x10000 + i;
			nout = 0;
			post_gpadl(2, 0x5000 + h, big, 1024);
			if (nout == 1 && outq[0].u.gpadl_created.creation_status == 0)
				created++;
			else if (nout == 1)
				refused++;
		}
		CHECK(created == 15 && refused == 5,
		      "gpadl pool caps at 16384 words: %u created, %u refused",
		      created, refused);
		for (uint32_t h = 0; h < 20; h++)
			teardown(2, 0x5000 + h);
		nout = 0;
		fill_pages(0x1000, 8);
		post_gpadl(2, 0x6000, pages, 8);
		CHECK(nout == 1 && outq[0].u.gpadl_created.creation_status == 0,
		      "torn-down gpadls give their pool space back");
	}
}

static void test_open_close(void)
{
	setup_connected();
	fill_pages(0x2000, 8);
	post_gpadl(1, 0x100, pages, 8);
	fill_pages(0x3000, 8);
	post_gpadl(2, 0x200, pages, 8);
	drain();

	open_chan(1, 0x100, 4, 77);
	CHECK(nout == 1 && outq[0].type == CHANNELMSG_OPENCHANNEL_RESULT &&
	      outq[0].u.open_result.status == 0 && outq[0].u.open_result.openid == 77 &&
	      outq[0].u.open_result.child_relid == 1,
	      "OPENCHANNEL answered with status 0");
	CHECK(vsp[0].opens == 1 && vsp[0].last.relid == 1 && vsp[0].last.ring_npfns == 8 &&
	      vsp[0].pfn0 == 0x2000 && vsp[0].last.downstream_offset == 4 &&
	      vsp[0].last.target_vp == 1 && vsp[0].userdata0 == 0xab,
	      "VSP open got the ring pfns, downstream offset, target vp, userdata");
	CHECK(vmbus_server_chan_state(S, 1) == VMBUS_CHAN_OPEN, "channel 1 open");

	drain();
	open_chan(1, 0x100, 4, 78);
	CHECK(nout == 1 && outq[0].u.open_result.status != 0 && vsp[0].opens == 1,
	      "a second open of an open channel fails");

	static const uint32_t bad_off[] = { 0, 1, 7, 8, 9, 0xffffffff };
	bool all = true;

	for (unsigned i = 0; i < sizeof(bad_off) / sizeof(bad_off[0]); i++) {
		drain();
		open_chan(2, 0x200, bad_off[i], 1);
		all = all && nout == 1 && outq[0].u.open_result.status != 0;
	}
	CHECK(all && vsp[1].opens == 0,
	      "downstream offsets 0, 1, 7, 8, 9, 0xffffffff of an 8-page ring fail");
	drain();
	open_chan(2, 0x100, 4, 1);
	CHECK(nout == 1 && outq[0].u.open_result.status != 0,
	      "open with another channel's gpadl fails");
	drain();
	open_chan(2, 0x999, 4, 1);
	CHECK(nout == 1 && outq[0].u.open_result.status != 0, "open with an unknown gpadl fails");
	drain();
	open_chan(40, 0x200, 4, 1);
	CHECK(nout == 1 && outq[0].u.open_result.status != 0 &&
	      outq[0].u.open_result.child_relid == 40, "open of an unknown relid fails");
	drain();
	vsp[1].refuse = 1;
	open_chan(2, 0x200, 4, 5);
	CHECK(nout == 1 && outq[0].u.open_result.status != 0 &&
	      vmbus_server_chan_state(S, 2) == VMBUS_CHAN_OFFERED,
	      "an open the VSP refuses fails");
	vsp[1].refuse = 0;
	drain();
	open_chan(2, 0x200, 2, 6);
	CHECK(nout == 1 && outq[0].u.open_result.status == 0 && vsp[1].opens == 1,
	      "offset 2 (smallest upstream ring) opens");

	drain();
	relid_msg(CHANNELMSG_CLOSECHANNEL, 1);
	CHECK(nout == 0 && vsp[0].closes == 1 && vsp[0].last_closed == 1 &&
	      vmbus_server_chan_state(S, 1) == VMBUS_CHAN_OFFERED,
	      "CLOSECHANNEL calls the VSP close, no answer");
	relid_msg(CHANNELMSG_CLOSECHANNEL, 1);
	CHECK(vsp[0].closes == 1, "closing a closed channel is ignored");
	drain();
	open_chan(1, 0x100, 4, 79);
	CHECK(nout == 1 && outq[0].u.open_result.status == 0 && vsp[0].opens == 2,
	      "a closed channel opens again");

	drain();
	teardown(1, 0x100);
	CHECK(vsp[0].closes == 2 && vmbus_server_chan_state(S, 1) == VMBUS_CHAN_OFFERED &&
	      nout == 1 && outq[0].type == CHANNELMSG_GPADL_TORNDOWN,
	      "tearing down an open channel's ring gpadl closes it first");
}

static void test_rescind(void)
{
	struct vmbus_guid t = guid(0x77), in = guid(0x78);
	uint32_t relid;

	setup_connected();
	fill_pages(0x2000, 8);
	post_gpadl(2, 0x300, pages, 8);
	open_chan(2, 0x300, 4, 1);
	drain();
	CHECK(vmbus_server_rescind(S, 2) == 0 && vsp[1].closes == 1 && nout == 1 &&
	      outq[0].type == CHANNELMSG_RESCIND_CHANNELOFFER &&
	      outq[0].u.rescind.child_relid == 2,
	      "rescind closes the open channel and sends RESCIND_CHANNELOFFER");
	CHECK(vmbus_server_rescind(S, 2) != 0 && vmbus_server_rescind(S, 50) != 0,
	      "rescinding twice or an unknown relid fails");
	drain();
	open_chan(2, 0x300, 4, 2);
	CHECK(nout == 1 && outq[0].u.open_result.status != 0 && vsp[1].opens == 1,
	      "a rescinded channel cannot be opened");
	relid = vmbus_server_add_offer(S, &t, &in, &vsp_ops, &vsp[3]);
	CHECK(relid == 4, "relid 2 is not reused before RELID_RELEASED (got %u)", relid);
	vmbus_server_rescind(S, relid);

	/* Linux: close (ignored), teardown the ring gpadl, release the relid. */
	drain();
	relid_msg(CHANNELMSG_CLOSECHANNEL, 2);
	teardown(2, 0x300);
	relid_msg(CHANNELMSG_RELID_RELEASED, 2);
	CHECK(nout == 1 && outq[0].type == CHANNELMSG_GPADL_TORNDOWN,
	      "guest cleanup after rescind: TORNDOWN, no other answer");
	CHECK(vmbus_server_chan_state(S, 2) == VMBUS_CHAN_FREE && vsp[1].closes == 1,
	      "RELID_RELEASED frees the relid without calling the VSP again");
	drain();
	relid = vmbus_server_add_offer(S, &t, &in, &vsp_ops, &vsp[3]);
	CHECK(relid == 2 && nout == 1 && outq[0].u.offer.child_relid == 2,
	      "the released relid is reused");
	relid_msg(CHANNELMSG_RELID_RELEASED, 1);
	CHECK(vmbus_server_chan_state(S, 1) == VMBUS_CHAN_OFFERED,
	      "RELID_RELEASED for a live channel is ignored");
}

static void test_unload(void)
{
	setup_connected();
	fill_pages(0x2000, 8);
	post_gpadl(1, 0x400, pages, 8);
	open_chan(1, 0x400, 4, 1);
	drain();
	simple(CHANNELMSG_UNLOAD);
	CHECK(nout == 1 && outq[0].type == CHANNELMSG_UNLOAD_RESPONSE &&
	      vsp[0].closes == 1 && vsp[0].torndowns == 1 &&
	      S->state == VMBUS_SERVER_DISCONNECTED &&
	      !vmbus_server_gpadl(S, 1, 0x400, NULL, NULL),
	      "UNLOAD closes channels, drops gpadls, answers UNLOAD_RESPONSE");
	drain();
	simple(CHANNELMSG_REQUESTOFFERS);
	CHECK(nout == 0, "after UNLOAD the guest must contact again");
	contact(VMBUS_VERSION_WIN10, 0);
	simple(CHANNELMSG_REQUESTOFFERS);
	CHECK(nout == 5 && outq[1].u.offer.child_relid == 1 &&
	      outq[4].type == CHANNELMSG_ALLOFFERS_DELIVERED,
	      "a new connection (4.0) lists the offers again");
}

static void test_malformed(void)
{
	uint8_t buf[256];
	struct vmbus_channel_gpadl_header h;
	uint32_t rej;
	bool quiet = true;

	setup_connected();
	drain();
	rej = S->stats.rejected;

	memset(buf, 0, sizeof(buf));
	post(buf, 0);
	post(buf, 4);
	buf[0] = CHANNELMSG_INITIATE_CONTACT;
	post(buf, 20);                          /* short initiate contact */
	post(buf, 241);                         /* longer than a payload */
	buf[0] = 99;
	post(buf, 16);                          /* unknown type */
	buf[0] = 0;
	post(buf, 16);                          /* CHANNELMSG_INVALID */
	buf[0] = CHANNELMSG_MODIFYCHANNEL;
	post(buf, 16);
	buf[0] = CHANNELMSG_OFFERCHANNEL;
	post(buf, 196);                         /* host-to-guest only */
	buf[0] = CHANNELMSG_OPENCHANNEL;
	post(buf, 20);                          /* short open */
	post(NULL, 16);
	quiet = nout == 0;
	CHECK(quiet && S->stats.rejected == rej + 10,
	      "short, long, unknown, reversed and NULL messages ignored (%u rejected)",
	      S->stats.rejected - rej);

	/* GPADL headers with hostile counts. */
	static const struct { uint16_t buflen, count; uint32_t bc, bo; const char *what; } g[] = {
		{ 0xfff8, 0xffff, 0x1000, 0, "rangecount 0xffff" },
		{ 0xfff8, 1, 0xffffffff, 0xfff, "byte_count 0xffffffff" },
		{ 16, 1, 0x2000, 0, "byte_count needing 2 pfns in 1" },
		{ 16, 1, 0x1000, 0x1000, "byte_offset 4096" },
		{ 16, 1, 0, 0, "byte_count 0" },
		{ 0, 1, 0x1000, 0, "range_buflen 0" },
		{ 15, 1, 0x1000, 0, "range_buflen not words" },
		{ 16, 0, 0x1000, 0, "rangecount 0" },
		{ 8, 1, 0x1000, 0, "range_buflen shorter than the data" },
		{ 24, 1, 0x1000, 0, "one pfn but room for two, one range" },
	};
	for (unsigned i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		uint64_t range = ((uint64_t)g[i].bo << 32) | g[i].bc, pfn = 0x1234;

		memset(&h, 0, sizeof(h));
		h.header.msgtype = CHANNELMSG_GPADL_HEADER;
		h.child_relid = 1;
		h.gpadl = 0x700 + i;
		h.range_buflen = g[i].buflen;
		h.rangecount = g[i].count;
		memcpy(buf, &h, 20);
		memcpy(buf + 20, &range, 8);
		memcpy(buf + 28, &pfn, 8);
		drain();
		rej = S->stats.rejected;
		post(buf, 36);
		/* Either rejected outright, or assembled and refused at the end;
		 * never created. */
		CHECK(S->stats.rejected == rej + 1 &&
		      !vmbus_server_gpadl(S, 1, 0x700 + i, NULL, NULL) &&
		      (nout == 0 || outq[0].u.gpadl_created.creation_status != 0),
		      "gpadl header with %s rejected", g[i].what);
	}
	/* The one complete-but-wrong case must leave no half gpadl behind. */
	drain();
	teardown(1, 0x709);
	CHECK(nout == 0, "nothing left of the refused gpadls");

	/* A body for nobody, a body overrunning range_buflen. */
	{
		struct vmbus_channel_gpadl_body b;
		uint64_t range = 0x2000;        /* 2 pages */

		memset(&b, 0, sizeof(b));
		b.header.msgtype = CHANNELMSG_GPADL_BODY;
		b.gpadl = 0x12345;
		memcpy(buf, &b, 16);
		drain();
		post(buf, 24);
		CHECK(nout == 0, "gpadl body for an unknown handle ignored");
		post(buf, 20);
		CHECK(nout == 0, "gpadl body with half a pfn ignored");

		memset(&h, 0, sizeof(h));
		h.header.msgtype = CHANNELMSG_GPADL_HEADER;
		h.child_relid = 1;
		h.gpadl = 0x800;
		h.range_buflen = 24;
		h.rangecount = 1;
		memcpy(buf, &h, 20);
		memcpy(buf + 20, &range, 8);
		post(buf, 28);                  /* header: range only, no pfn */
		CHECK(nout == 0, "gpadl header without pfns waits for bodies");
		b.gpadl = 0x800;
		memcpy(buf, &b, 16);
		memset(buf + 16, 0x11, 24);
		post(buf, 40);                  /* 3 pfns, room for 2 */
		CHECK(nout == 1 && outq[0].u.gpadl_created.creation_status != 0 &&
		      !vmbus_server_gpadl(S, 1, 0x800, NULL, NULL),
		      "a body overrunning range_buflen refuses the gpadl");
	}

	/* And the server still works normally. */
	drain();
	fill_pages(0x5000, 60);
	post_gpadl(3, 0x900, pages, 60);
	open_chan(3, 0x900, 30, 9);
	CHECK(nout == 2 && outq[0].u.gpadl_created.creation_status == 0 &&
	      outq[1].u.open_result.status == 0 && vsp[2].opens == 1 &&
	      vsp[2].last.ring_npfns == 60,
	      "after the malformed messages a 60-page gpadl and open still work");
	CHECK(out_bad == 0, "every message the server sent parses");
}

static void test_parser(void)
{
	struct vmbus_chanmsg m;
	const char *err = NULL;
	uint8_t buf[240];
	struct vmbus_channel_gpadl_header h;
	uint64_t w[3] = { 0x1000, 0x100, 0x101 }; /* 1 page, then junk */

	memset(buf, 0, sizeof(buf));
	buf[0] = CHANNELMSG_UNLOAD;
	CHECK(vmbus_chanmsg_parse(buf, 8, &m, &err) == 0 && m.type == CHANNELMSG_UNLOAD &&
	      m.len == 8, "UNLOAD parses");
	CHECK(vmbus_chanmsg_parse(buf, 7, &m, &err) != 0 && err && *err,
	      "7-byte message rejected with a reason: %s", err);
	CHECK(vmbus_chanmsg_fixed_size(CHANNELMSG_OFFERCHANNEL) == 196 &&
	      vmbus_chanmsg_fixed_size(CHANNELMSG_INITIATE_CONTACT) == 40 &&
	      vmbus_chanmsg_fixed_size(CHANNELMSG_OPENCHANNEL) == 148 &&
	      vmbus_chanmsg_fixed_size(CHANNELMSG_TL_CONNECT_REQUEST) == 0 &&
	      vmbus_chanmsg_fixed_size(0xffffffff) == 0,
	      "fixed sizes: offer 196, contact 40, open 148; 21 and ~0 unknown");

	memset(&h, 0, sizeof(h));
	h.header.msgtype = CHANNELMSG_GPADL_HEADER;
	h.range_buflen = 16;
	h.rangecount = 1;
	memcpy(buf, &h, 20);
	memcpy(buf + 20, w, 16);
	CHECK(vmbus_chanmsg_parse(buf, 36, &m, &err) == 0 && m.tail_len == 16 &&
	      vmbus_chanmsg_word(&m, 1) == 0x100, "one-page gpadl header parses");
	CHECK(vmbus_chanmsg_parse(buf, 44, &m, &err) != 0,
	      "range data past range_buflen rejected: %s", err);
	/* Two ranges of one page each, walked across a split. */
	{
		uint64_t r[4] = { 0x1000, 0x100, (0x10ull << 32) | 0x10, 0x200 };
		uint32_t n = 0;

		CHECK(vmbus_gpadl_walk(r, 2, 4, 2, &n, &err) == 0 &&
		      vmbus_gpadl_walk(r, 4, 4, 2, &n, &err) == 0 && n == 2,
		      "two ranges walk, partial and complete");
		CHECK(vmbus_gpadl_walk(r, 4, 4, 1, &n, &err) != 0 &&
		      vmbus_gpadl_walk(r, 4, 5, 2, &n, &err) != 0 &&
		      vmbus_gpadl_walk(r, 4, 3, 2, &n, &err) != 0,
		      "too many ranges, ranges ending early, avail past total: rejected");
	}
}

int main(void)
{
	S = calloc(1, sizeof(*S));
	if (!S)
		return 2;
	test_parser();
	test_versions();
	test_offers();
	test_gpadl();
	test_open_close();
	test_rescind();
	test_unload();
	test_malformed();
	free(S);
	return done_testing();
}
