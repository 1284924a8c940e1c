/*
 * VMBus client (guest side) against the real VMBus server (host side) in
 * one process. The fake transport hands every client post to
 * vmbus_server_receive() and queues every server send for the client's
 * wait_message(). It also plays the hypervisor's part in checking which
 * connection id each post uses, can refuse versions (by rewriting them
 * to one the server does not know), run a hook before delivering a post
 * (a rescind or a hot-added offer "while the client waits"), and inject
 * hostile host messages straight into the queue.
 */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "chanmsg.h"
#include "client.h"
#include "server.h"

/* ---- the transport ------------------------------------------------------- */
#define QLEN 1024
#define FAKE_CONN 0x4242        /* msg_conn_id the transport hands out for >= 5.0 */

struct qmsg {
	size_t len;
	uint8_t b[VMBUS_CHANNEL_MESSAGE_MAX];
};

static struct vmbus_server *S;
static struct vmbus_client *C;
static struct qmsg q[QLEN];
static unsigned qhead, qtail;
static uint32_t refuse_from = 0xffffffff;       /* versions >= this: refused */
static uint32_t last_requested;
static uint32_t expect_conn = VMBUS_MESSAGE_CONNECTION_ID;
static unsigned conn_violations, posts, contacts, gpadl_msgs, drop_posts;
static int post_status;
static void (*before_post)(uint32_t type);
static char last_log[200];

static void push(const void *m, size_t len)
{
	if (qtail - qhead < QLEN && len <= VMBUS_CHANNEL_MESSAGE_MAX) {
		q[qtail % QLEN].len = len;
		memcpy(q[qtail % QLEN].b, m, len);
		qtail++;
	}
}

static int s_send(void *ctx, const void *msg, size_t len)
{
	struct vmbus_channel_version_response vr;

	/* Play the hypervisor: for >= 5.0 hand out our own message
	 * connection id, to see that the client uses what it is given. */
	if (len == sizeof(vr) && ((const uint32_t *)msg)[0] == CHANNELMSG_VERSION_RESPONSE) {
		memcpy(&vr, msg, sizeof(vr));
		if (vr.version_supported) {
			if (last_requested >= VMBUS_VERSION_WIN10_V5) {
				vr.msg_conn_id = FAKE_CONN;
				expect_conn = FAKE_CONN;
			} else {
				expect_conn = VMBUS_MESSAGE_CONNECTION_ID;
			}
		}
		push(&vr, sizeof(vr));
		return 0;
	}
	push(msg, len);
	return 0;
}

/* The guest owns pfns 0x100..0xfffff except 0x666. */
static bool s_owned(void *ctx, uint64_t pfn)
{
	return pfn >= 0x100 && pfn < 0x100000 && pfn != 0x666;
}

static const struct vmbus_server_ops s_ops = { s_send, s_owned, NULL };

static int c_post(void *ctx, uint32_t conn, const void *msg, size_t len)
{
	uint8_t buf[VMBUS_CHANNEL_MESSAGE_MAX];
	struct vmbus_channel_message_header h = { 0, 0 };
	uint32_t want = expect_conn;

	posts++;
	if (post_status)
		return post_status;
	if (len > sizeof(buf))
		return HV_STATUS_INVALID_PARAMETER;
	memcpy(buf, msg, len);
	if (len >= sizeof(h))
		memcpy(&h, buf, sizeof(h));
	if (h.msgtype == CHANNELMSG_INITIATE_CONTACT &&
	    len >= sizeof(struct vmbus_channel_initiate_contact)) {
		struct vmbus_channel_initiate_contact *ic = (void *)buf;

		contacts++;
		last_requested = ic->vmbus_version_requested;
		want = last_requested >= VMBUS_VERSION_WIN10_V5 ?
			VMBUS_MESSAGE_CONNECTION_ID_4 : VMBUS_MESSAGE_CONNECTION_ID;
		if (last_requested >= refuse_from)
			ic->vmbus_version_requested = VMBUS_MAKE_VERSION(6, 0);
	}
	if (conn != want) {
		conn_violations++;
		return HV_STATUS_INVALID_CONNECTION_ID;
	}
	if (h.msgtype == CHANNELMSG_GPADL_HEADER || h.msgtype == CHANNELMSG_GPADL_BODY)
		gpadl_msgs++;
	if (before_post) {
		void (*hook)(uint32_t) = before_post;

		before_post = NULL;
		hook(h.msgtype);
	}
	if (drop_posts)
		return 0;       /* a host that never answers */
	vmbus_server_receive(S, buf, len);
	return 0;
}

static int c_wait(void *ctx, void *buf, size_t *len)
{
	const struct qmsg *m;

	if (qhead == qtail)
		return -1;      /* nothing will come: a timeout */
	m = &q[qhead++ % QLEN];
	if (m->len > *len)
		return -1;
	memcpy(buf, m->b, m->len);
	*len = m->len;
	return 0;
}

static void c_log(void *ctx, const char *line)
{
	snprintf(last_log, sizeof(last_log), "%s", line);
	if (getenv("VMBUS_CLIENT_LOG"))
		printf("# %s\n", line);
}

static unsigned rescinds_seen;

static void c_rescind(void *ctx, uint32_t relid)
{
	rescinds_seen++;
}

static const struct vmbus_client_ops c_ops = { c_post, c_wait, c_log, c_rescind };

/* ---- a VSP that records its calls ---------------------------------------- */
struct t_vsp {
	unsigned opens, closes;
	uint8_t userdata[8];
	uint32_t ring_npfns, downstream;
};

static int v_open(void *ctx, const struct vmbus_open_request *req)
{
	struct t_vsp *v = ctx;

	v->opens++;
	memcpy(v->userdata, req->userdata, sizeof(v->userdata));
	v->ring_npfns = req->ring_npfns;
	v->downstream = req->downstream_offset;
	return 0;
}

static void v_close(void *ctx, uint32_t relid)
{
	((struct t_vsp *)ctx)->closes++;
}

static const struct vmbus_vsp_ops vsp_ops = { v_open, v_close, NULL };

/* Device classes in Hyper-V's mixed-endian byte order. */
static const struct vmbus_guid heartbeat_type = { {
	0x39, 0x4f, 0x16, 0x57, 0x15, 0x91, 0x78, 0x4e,
	0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d } };
static const struct vmbus_guid shutdown_type = { {
	0x31, 0x60, 0x0b, 0x0e, 0x13, 0x52, 0x34, 0x49,
	0x81, 0x8b, 0x38, 0xd9, 0x0c, 0xed, 0x39, 0xdb } };
static const struct vmbus_guid storage_type = { {
	0xd9, 0x63, 0x61, 0xba, 0xa1, 0x04, 0x29, 0x4d,
	0xb6, 0x05, 0x72, 0xe2, 0xff, 0xb1, 0xdc, 0x7f } };
static const struct vmbus_guid extra_type = { { 0xee, 0xee } };
static struct t_vsp vsp[5];

static void reset_world(void)
{
	vmbus_server_init(S, &s_ops, NULL);
	vmbus_client_init(C, &c_ops, NULL);
	qhead = qtail = 0;
	refuse_from = 0xffffffff;
	expect_conn = VMBUS_MESSAGE_CONNECTION_ID;
	conn_violations = posts = contacts = gpadl_msgs = drop_posts = 0;
	post_status = 0;
	before_post = NULL;
	rescinds_seen = 0;
	memset(vsp, 0, sizeof(vsp));
}

static void add_offers(void)
{
	struct vmbus_guid inst;

	memset(&inst, 0x11, sizeof(inst));
	vmbus_server_add_offer(S, &heartbeat_type, &inst, &vsp_ops, &vsp[1]);
	inst.b[0] = 0x22;
	vmbus_server_add_offer(S, &shutdown_type, &inst, &vsp_ops, &vsp[2]);
	inst.b[0] = 0x33;
	vmbus_server_add_offer(S, &storage_type, &inst, &vsp_ops, &vsp[3]);
}

static void fill_pfns(uint64_t *p, uint32_t n, uint64_t first)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = first + i;
}

static bool server_gpadl_is(uint32_t relid, uint32_t handle, const uint64_t *pfns,
			    uint32_t n)
{
	const uint64_t *sp;
	uint32_t sn;

	return vmbus_server_gpadl(S, relid, handle, &sp, &sn) && sn == n &&
	       !memcmp(sp, pfns, 8 * (size_t)n);
}

/* ---- version negotiation ------------------------------------------------- */

static void test_versions(void)
{
	int ret;

	reset_world();
	ret = vmbus_client_connect(C);
	CHECK(ret == 0 && C->version == VMBUS_VERSION_WIN10_V5_3,
	      "connect: newest version 5.3 accepted at once (ret %d)", ret);
	CHECK(contacts == 1 && C->msg_conn_id == FAKE_CONN && conn_violations == 0,
	      "connect: INITIATE_CONTACT to connection 4, then msg_conn_id 0x%x is used",
	      C->msg_conn_id);
	CHECK(S->state == VMBUS_SERVER_CONNECTED && S->version == VMBUS_VERSION_WIN10_V5_3 &&
	      S->msg_sint == VMBUS_MESSAGE_SINT && S->target_vcpu == 0,
	      "connect: the server sees 5.3 on SINT 2, VP 0");
	CHECK(vmbus_client_connect(C) == VMBUS_CLIENT_EINVAL, "connect twice refused");

	reset_world();
	refuse_from = VMBUS_VERSION_WIN10_V5_3;
	ret = vmbus_client_connect(C);
	CHECK(ret == 0 && C->version == VMBUS_VERSION_WIN10_V5_2 && contacts == 2 &&
	      S->version == VMBUS_VERSION_WIN10_V5_2,
	      "a server refusing 5.3: the client settles on 5.2");

	reset_world();
	refuse_from = VMBUS_VERSION_WIN10_V5;
	C->interrupt_page = 0x200000;
	ret = vmbus_client_connect(C);
	CHECK(ret == 0 && C->version == VMBUS_VERSION_WIN10_V4_1 && contacts == 5,
	      "a server refusing 5.x: 4.1 after five tries");
	CHECK(C->msg_conn_id == VMBUS_MESSAGE_CONNECTION_ID && conn_violations == 0 &&
	      S->interrupt_page == 0x200000,
	      "below 5.0: connection id 1 throughout, interrupt page passed");
	ret = vmbus_client_request_offers(C);
	CHECK(ret == 0 && conn_violations == 0, "below 5.0: later posts go to connection 1");

	reset_world();
	refuse_from = 0;
	ret = vmbus_client_connect(C);
	CHECK(ret == VMBUS_CLIENT_EREFUSED && contacts == 8 && !C->connected,
	      "a server refusing everything: all 8 versions tried, EREFUSED (%s)",
	      vmbus_client_strerror(ret));

	reset_world();
	drop_posts = 1;
	ret = vmbus_client_connect(C);
	CHECK(ret == VMBUS_CLIENT_ETIMEDOUT && contacts == 1,
	      "a silent host: connect times out after the first try");

	reset_world();
	post_status = HV_STATUS_INSUFFICIENT_BUFFERS;
	ret = vmbus_client_connect(C);
	CHECK(ret == VMBUS_CLIENT_EPOST, "HvPostMessage failing: EPOST");
}

/* ---- offers ------------------------------------------------------------ */

static void test_offers(void)
{
	const struct vmbus_channel_offer_channel *o;
	int n;

	reset_world();
	add_offers();
	CHECK(vmbus_client_request_offers(C) == VMBUS_CLIENT_EINVAL,
	      "REQUESTOFFERS before connecting refused");
	vmbus_client_connect(C);
	n = vmbus_client_request_offers(C);
	CHECK(n == 3 && C->stats.offers == 3, "three offers listed (%d)", n);
	o = vmbus_client_find_offer(C, &shutdown_type);
	CHECK(o && o->child_relid == 2 &&
	      o->connection_id == VMBUS_SERVER_CONNECTION_ID_BASE + 2 &&
	      o->offer.if_instance.b[0] == 0x22,
	      "find by device class: shutdown is relid 2, signalled on 0x%x",
	      o ? o->connection_id : 0);
	o = vmbus_client_offer_at(C, 2);
	CHECK(o && !memcmp(&o->offer.if_type, &storage_type, sizeof(storage_type)),
	      "offer by index: the third is storage");
	CHECK(!vmbus_client_offer_at(C, 3) && !vmbus_client_find_offer(C, &extra_type),
	      "no fourth offer, no offer of an unknown class");
	CHECK(vmbus_client_chan_state(C, 1) == VMBUS_CLIENT_CHAN_OFFERED &&
	      vmbus_client_chan_state(C, 9) == VMBUS_CLIENT_CHAN_FREE,
	      "channel states: relid 1 offered, relid 9 unknown");
	CHECK(C->stats.rejected == 0 && C->stats.unexpected == 0 && S->stats.rejected == 0,
	      "a clean listing: nothing rejected on either side");
}

/* ---- GPADLs, open, close ------------------------------------------------- */

static uint64_t big[VMBUS_CLIENT_GPADL_MAX_PFNS + 1];

static void test_gpadl_open_close(void)
{
	uint64_t ring[8];
	uint32_t h_ring = 0, h_big = 0, h = 0, h_bad = 0;
	unsigned before;
	int ret;

	reset_world();
	add_offers();
	vmbus_client_connect(C);
	vmbus_client_request_offers(C);

	fill_pfns(ring, 8, 0x1000);
	gpadl_msgs = 0;
	ret = vmbus_client_gpadl_create(C, 1, ring, 8, &h_ring);
	CHECK(ret == 0 && gpadl_msgs == 1 && server_gpadl_is(1, h_ring, ring, 8),
	      "8-page gpadl: one GPADL_HEADER, the server holds the same pfns");

	fill_pfns(big, 222, 0x2000);
	gpadl_msgs = 0;
	ret = vmbus_client_gpadl_create(C, 1, big, 222, &h_big);
	CHECK(ret == 0 && gpadl_msgs == 8 && h_big != h_ring &&
	      server_gpadl_is(1, h_big, big, 222),
	      "222-page gpadl: a header and 7 full bodies (%u messages), pfns intact",
	      gpadl_msgs);
	CHECK(vmbus_client_gpadl_teardown(C, 1, h_big) == 0 &&
	      !vmbus_server_gpadl(S, 1, h_big, NULL, NULL),
	      "222-page gpadl torn down on both sides");

	fill_pfns(big, VMBUS_CLIENT_GPADL_MAX_PFNS, 0x10000);
	ret = vmbus_client_gpadl_create(C, 2, big, VMBUS_CLIENT_GPADL_MAX_PFNS, &h);
	CHECK(ret == 0 && server_gpadl_is(2, h, big, VMBUS_CLIENT_GPADL_MAX_PFNS),
	      "largest gpadl (%u pages) created", VMBUS_CLIENT_GPADL_MAX_PFNS);
	CHECK(vmbus_client_gpadl_teardown(C, 2, h) == 0, "largest gpadl torn down");
	before = posts;
	CHECK(vmbus_client_gpadl_create(C, 2, big, VMBUS_CLIENT_GPADL_MAX_PFNS + 1, &h) ==
	      VMBUS_CLIENT_EINVAL && posts == before,
	      "a gpadl past range_buflen's reach refused before posting");
	CHECK(vmbus_client_gpadl_create(C, 9, ring, 8, &h) == VMBUS_CLIENT_EINVAL &&
	      vmbus_client_gpadl_create(C, 1, ring, 0, &h) == VMBUS_CLIENT_EINVAL,
	      "gpadl for an unknown relid or of 0 pages refused");

	fill_pfns(big, 60, 0x640);              /* 0x640..0x67b covers 0x666 */
	ret = vmbus_client_gpadl_create(C, 1, big, 60, &h_bad);
	CHECK(ret == VMBUS_CLIENT_EREFUSED && h_bad == 0,
	      "gpadl with a page the guest does not own: the server refuses, EREFUSED");
	CHECK(vmbus_client_gpadl_teardown(C, 1, C->next_gpadl - 1) == VMBUS_CLIENT_EINVAL &&
	      !vmbus_server_gpadl(S, 1, C->next_gpadl - 1, NULL, NULL),
	      "the refused gpadl exists on neither side");

	ret = vmbus_client_open(C, 1, h_ring, 4, 0, "hello", 5);
	CHECK(ret == 0 && vsp[1].opens == 1 && !memcmp(vsp[1].userdata, "hello", 5) &&
	      vsp[1].ring_npfns == 8 && vsp[1].downstream == 4,
	      "open: the VSP gets the 8-page ring split at 4 and the userdata");
	CHECK(vmbus_client_chan_state(C, 1) == VMBUS_CLIENT_CHAN_OPEN &&
	      vmbus_server_chan_state(S, 1) == VMBUS_CHAN_OPEN, "open on both sides");
	CHECK(vmbus_client_open(C, 1, h_ring, 4, 0, NULL, 0) == VMBUS_CLIENT_EINVAL,
	      "opening an open channel refused");
	CHECK(vmbus_client_gpadl_teardown(C, 1, h_ring) == VMBUS_CLIENT_EINVAL &&
	      vmbus_server_chan_state(S, 1) == VMBUS_CHAN_OPEN,
	      "tearing down the ring of an open channel refused by the client");
	CHECK(vmbus_client_open(C, 2, h_ring, 4, 0, NULL, 0) == VMBUS_CLIENT_EINVAL,
	      "opening over another channel's gpadl refused");
	CHECK(vmbus_client_open(C, 3, 0, 4, 0, "x", VMBUS_MAX_USER_DEFINED_BYTES + 1) ==
	      VMBUS_CLIENT_EINVAL, "userdata over 120 bytes refused");

	ret = vmbus_client_gpadl_create(C, 2, ring, 8, &h);
	CHECK(ret == 0, "ring gpadl for relid 2");
	ret = vmbus_client_open(C, 2, h, 1, 0, NULL, 0);
	CHECK(ret == VMBUS_CLIENT_EREFUSED && vsp[2].opens == 0 &&
	      vmbus_client_chan_state(C, 2) == VMBUS_CLIENT_CHAN_OFFERED,
	      "open with a 1-page upstream ring: the server refuses, still offered");

	CHECK(vmbus_client_close(C, 1) == 0 && vsp[1].closes == 1 &&
	      vmbus_server_chan_state(S, 1) == VMBUS_CHAN_OFFERED &&
	      vmbus_client_chan_state(C, 1) == VMBUS_CLIENT_CHAN_OFFERED,
	      "close: the VSP is told, both sides back to offered");
	CHECK(vmbus_client_close(C, 1) == VMBUS_CLIENT_EINVAL, "closing twice refused");
	CHECK(vmbus_client_gpadl_teardown(C, 1, h_ring) == 0 &&
	      !vmbus_server_gpadl(S, 1, h_ring, NULL, NULL),
	      "ring gpadl torn down after the close");
	CHECK(vmbus_client_gpadl_teardown(C, 1, h_ring) == VMBUS_CLIENT_EINVAL,
	      "tearing it down twice refused");
	CHECK(C->stats.rejected == 0 && C->stats.unexpected == 0,
	      "no host message rejected or unexpected");
}

/* ---- rescind while waiting ---------------------------------------------- */

static uint32_t hook_relid;

static void hook_rescind(uint32_t type)
{
	vmbus_server_rescind(S, hook_relid);
}

static void hook_add_offer(uint32_t type)
{
	struct vmbus_guid inst;

	memset(&inst, 0x44, sizeof(inst));
	vmbus_server_add_offer(S, &extra_type, &inst, &vsp_ops, &vsp[4]);
}

static void test_rescind(void)
{
	uint64_t ring[8];
	uint32_t h1 = 0, h3 = 0, h = 0;
	unsigned before;
	int ret;

	reset_world();
	add_offers();
	vmbus_client_connect(C);
	vmbus_client_request_offers(C);
	fill_pfns(ring, 8, 0x3000);

	/* The host rescinds relid 2 while we wait for relid 1's gpadl. */
	hook_relid = 2;
	before_post = hook_rescind;
	ret = vmbus_client_gpadl_create(C, 1, ring, 8, &h1);
	CHECK(ret == 0, "gpadl created while another channel is rescinded");
	CHECK(vmbus_client_chan_state(C, 2) == VMBUS_CLIENT_CHAN_RESCINDED &&
	      C->stats.rescinds == 1 && rescinds_seen == 1 &&
	      !vmbus_client_find_offer(C, &shutdown_type),
	      "the rescind was handled during the wait, the offer is gone");
	CHECK(vmbus_server_chan_state(S, 2) == VMBUS_CHAN_FREE,
	      "RELID_RELEASED answered: the server freed relid 2");

	/* The host rescinds relid 3 while we wait for its open. */
	ret = vmbus_client_gpadl_create(C, 3, ring, 8, &h3);
	CHECK(ret == 0, "ring gpadl for relid 3");
	hook_relid = 3;
	before_post = hook_rescind;
	ret = vmbus_client_open(C, 3, h3, 4, 0, NULL, 0);
	CHECK(ret == VMBUS_CLIENT_ERESCINDED && vsp[3].opens == 0,
	      "open of a channel rescinded meanwhile: ERESCINDED (%s)",
	      vmbus_client_strerror(ret));
	CHECK(vmbus_server_chan_state(S, 3) == VMBUS_CHAN_FREE &&
	      !vmbus_server_gpadl(S, 3, h3, NULL, NULL),
	      "relid 3 released: the server dropped it and its gpadl");
	before = posts;
	CHECK(vmbus_client_gpadl_teardown(C, 3, h3) == 0 && vmbus_client_close(C, 3) == 0 &&
	      posts == before,
	      "teardown and close of the rescinded channel: nothing left to post");
	CHECK(vmbus_client_gpadl_create(C, 3, ring, 8, &h) == VMBUS_CLIENT_ERESCINDED &&
	      vmbus_client_open(C, 3, h3, 4, 0, NULL, 0) == VMBUS_CLIENT_ERESCINDED,
	      "new requests on the rescinded channel: ERESCINDED");

	/* The stale OPENCHANNEL_RESULT for relid 3 is still queued. */
	before = C->stats.unexpected;
	ret = vmbus_client_open(C, 1, h1, 4, 0, NULL, 0);
	CHECK(ret == 0 && C->stats.unexpected == before + 1 && vsp[1].opens == 1,
	      "the stale answer for relid 3 is dropped, relid 1 opens");

	/* Rescind of an open channel between requests, seen at the next one. */
	vmbus_server_rescind(S, 1);
	CHECK(vsp[1].closes == 1, "the server closed the VSP at the rescind");
	ret = vmbus_client_request_offers(C);
	CHECK(ret == 0 && vmbus_client_chan_state(C, 1) == VMBUS_CLIENT_CHAN_RESCINDED &&
	      vmbus_server_chan_state(S, 1) == VMBUS_CHAN_FREE,
	      "rescind of an open channel: released, no offers left (%d)", ret);
	before = posts;
	CHECK(vmbus_client_close(C, 1) == 0 && vmbus_client_gpadl_teardown(C, 1, h1) == 0 &&
	      posts == before, "closing it afterwards is a no-op");

	/* A hot-added offer arrives while we wait; the server reuses the
	 * released relid 1 for it (and sends it twice: once at once, once
	 * for the REQUESTOFFERS). */
	before_post = hook_add_offer;
	ret = vmbus_client_request_offers(C);
	CHECK(ret == 1 && vmbus_client_find_offer(C, &extra_type) &&
	      vmbus_client_find_offer(C, &extra_type)->child_relid == 1 &&
	      vmbus_client_chan_state(C, 1) == VMBUS_CLIENT_CHAN_OFFERED &&
	      C->stats.rejected == 0,
	      "an offer added during a wait reuses released relid 1, listed once (%d)", ret);

	/* Another one arrives while no request is pending. */
	hook_add_offer(0);
	CHECK(qtail - qhead == 1, "(the server sent it at once)");
	vmbus_client_handle_message(C, q[qhead % QLEN].b, q[qhead % QLEN].len);
	qhead++;
	CHECK(vmbus_client_chan_state(C, 2) == VMBUS_CLIENT_CHAN_OFFERED &&
	      C->stats.rejected == 0 && C->stats.offers == 5,
	      "an offer handled outside a wait is taken, reusing relid 2");
}

/* ---- a hostile host ------------------------------------------------------ */

static void inject_offer(uint32_t relid, uint32_t conn)
{
	struct vmbus_channel_offer_channel o;

	memset(&o, 0, sizeof(o));
	o.header.msgtype = CHANNELMSG_OFFERCHANNEL;
	o.child_relid = relid;
	o.connection_id = conn;
	push(&o, sizeof(o));
}

/* A message of any length whose first fields are a header and a relid
 * (and, for OPENCHANNEL_RESULT, the openid). */
static void inject_relid(uint32_t type, uint32_t relid, size_t len)
{
	uint32_t w[VMBUS_CHANNEL_MESSAGE_MAX / 4];

	memset(w, 0, sizeof(w));
	w[0] = type;
	w[2] = relid;
	w[3] = relid;
	push(w, len);
}

static void test_hostile(void)
{
	struct vmbus_channel_message_header h = { 99, 0 };
	struct vmbus_channel_gpadl_created gc;
	uint8_t junk[4] = { 1, 0, 0, 0 };
	uint32_t rejected;
	int ret;

	reset_world();
	add_offers();
	vmbus_client_connect(C);
	vmbus_client_request_offers(C);
	rejected = C->stats.rejected;

	push(junk, sizeof(junk));                               /* short */
	push(&h, sizeof(h));                                    /* unknown type */
	inject_offer(0, 0x1234);                                /* relid 0 */
	inject_offer(VMBUS_CLIENT_MAX_RELID, 0x1234);           /* relid too big */
	inject_offer(2, 0x1234);                                /* duplicate relid */
	inject_offer(50, 0);                                    /* connection id 0 */
	inject_offer(51, 0x1000000);                            /* not 24 bits */
	inject_relid(CHANNELMSG_RESCIND_CHANNELOFFER, 77, 12);  /* unknown relid */
	inject_relid(CHANNELMSG_RESCIND_CHANNELOFFER, 1, 8);    /* truncated */
	inject_relid(CHANNELMSG_OPENCHANNEL, 1, 148);           /* guest-to-host type */
	inject_relid(CHANNELMSG_OPENCHANNEL_RESULT, 1, 19);     /* truncated answer */
	ret = vmbus_client_request_offers(C);
	CHECK(ret == 3 && C->stats.rejected == rejected + 11,
	      "11 malformed host messages rejected (%u), the listing still works (%d)",
	      C->stats.rejected - rejected, ret);
	CHECK(vmbus_client_chan_state(C, 1) == VMBUS_CLIENT_CHAN_OFFERED &&
	      vmbus_client_chan_state(C, 50) == VMBUS_CLIENT_CHAN_FREE &&
	      C->stats.rescinds == 0, "no state changed by them");

	/* Answers that match no request: a GPADL_CREATED naming the handle
	 * the next request will use but another relid, then a success for
	 * an open that is not pending. */
	memset(&gc, 0, sizeof(gc));
	gc.header.msgtype = CHANNELMSG_GPADL_CREATED;
	gc.child_relid = 3;
	gc.gpadl = C->next_gpadl;
	push(&gc, sizeof(gc));
	inject_relid(CHANNELMSG_OPENCHANNEL_RESULT, 2, 20);
	{
		uint64_t ring[8];
		uint32_t hh = 0;
		uint32_t unexpected = C->stats.unexpected;

		fill_pfns(ring, 8, 0x5000);
		ret = vmbus_client_gpadl_create(C, 1, ring, 8, &hh);
		CHECK(ret == 0 && C->stats.unexpected == unexpected + 2 &&
		      server_gpadl_is(1, hh, ring, 8),
		      "answers for other requests do not complete ours");
	}

	/* A flood longer than the wait budget. */
	for (unsigned i = 0; i < VMBUS_CLIENT_WAIT_BUDGET; i++)
		push(&h, sizeof(h));
	ret = vmbus_client_request_offers(C);
	CHECK(ret == VMBUS_CLIENT_ETIMEDOUT, "a flooding host: the wait gives up (%s)",
	      vmbus_client_strerror(ret));
	qhead = qtail;

	/* A bad msg_conn_id in VERSION_RESPONSE. */
	reset_world();
	{
		struct vmbus_channel_version_response vr;

		memset(&vr, 0, sizeof(vr));
		vr.header.msgtype = CHANNELMSG_VERSION_RESPONSE;
		vr.version_supported = 1;
		vr.msg_conn_id = 0;
		push(&vr, sizeof(vr));
		drop_posts = 1;
		ret = vmbus_client_connect(C);
		CHECK(ret == VMBUS_CLIENT_EPROTO && !C->connected,
		      "5.3 accepted with msg_conn_id 0: EPROTO");
	}
	reset_world();
	inject_offer(1, 0x1234);
	vmbus_client_handle_message(C, q[qhead % QLEN].b, q[qhead % QLEN].len);
	CHECK(vmbus_client_chan_state(C, 1) == VMBUS_CLIENT_CHAN_FREE,
	      "an offer before connecting is ignored");
}

/* ---- unload -------------------------------------------------------------- */

static void test_unload(void)
{
	uint64_t ring[8];
	uint32_t h = 0;
	int ret;

	reset_world();
	add_offers();
	vmbus_client_connect(C);
	vmbus_client_request_offers(C);
	fill_pfns(ring, 8, 0x6000);
	vmbus_client_gpadl_create(C, 3, ring, 8, &h);
	ret = vmbus_client_open(C, 3, h, 4, 0, NULL, 0);
	CHECK(ret == 0 && vsp[3].opens == 1, "storage opened before the unload");

	/* A rescind racing with the unload is not answered. */
	vmbus_server_rescind(S, 1);
	ret = vmbus_client_unload(C);
	CHECK(ret == 0 && !C->connected && vsp[3].closes == 1 &&
	      S->state == VMBUS_SERVER_DISCONNECTED,
	      "unload: UNLOAD_RESPONSE, the VSP closed, both sides disconnected");
	CHECK(vmbus_client_chan_state(C, 3) == VMBUS_CLIENT_CHAN_FREE &&
	      !vmbus_client_offer_at(C, 0) && S->stats.rejected == 0,
	      "unload: the client forgot every offer, no RELID_RELEASED after UNLOAD");
	CHECK(vmbus_client_open(C, 3, h, 4, 0, NULL, 0) == VMBUS_CLIENT_EINVAL,
	      "no requests after the unload");

	ret = vmbus_client_connect(C);
	CHECK(ret == 0 && vmbus_client_request_offers(C) == 2,
	      "reconnect after unload: the two remaining offers listed again");
	CHECK(vmbus_client_gpadl_create(C, 3, ring, 8, &h) == 0 &&
	      vmbus_client_open(C, 3, h, 4, 0, NULL, 0) == 0 && vsp[3].opens == 2,
	      "storage opens again after the reconnect");
	CHECK(conn_violations == 0, "every post went to the right connection id");
}

int main(void)
{
	S = calloc(1, sizeof(*S));
	C = calloc(1, sizeof(*C));
	if (!S || !C)
		return 1;
	test_versions();
	test_offers();
	test_gpadl_open_close();
	test_rescind();
	test_hostile();
	test_unload();
	free(S);
	free(C);
	return done_testing();
}
