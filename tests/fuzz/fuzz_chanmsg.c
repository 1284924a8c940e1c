/*
 * Fuzz target for VMBus channel management: the input is a sequence of
 * chunks, each [u8 len][len bytes], fed as guest messages to a fresh
 * vmbus_server (and to the parser) in order, so mutations reach deep
 * states (connected, gpadls half assembled, channels open). Two length
 * bytes are commands instead: 0xff <relid> rescinds, 0xfe adds an offer.
 *
 * Beyond "no crash": every message the server sends must parse, VSP open
 * must get a ring inside the guest's pages, and open/close must pair up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "chanmsg.h"
#include "server.h"

static struct vmbus_server server;
static unsigned open_now[VMBUS_SERVER_MAX_CHANNELS + 1];

static int f_send(void *ctx, const void *msg, size_t len)
{
	struct vmbus_chanmsg m;

	if (vmbus_chanmsg_parse(msg, len, &m, NULL))
		abort();                /* the server sent a malformed message */
	return 0;
}

static bool f_owned(void *ctx, uint64_t pfn)
{
	return pfn >= 0x100 && pfn < 0x100000 && (pfn & 0xff) != 0x66;
}

static void f_log(void *ctx, const char *line)
{
	if (!line || strncmp(line, "vmbus: ", 7))
		abort();
}

static const struct vmbus_server_ops f_ops = { f_send, f_owned, f_log };

static int v_open(void *ctx, const struct vmbus_open_request *req)
{
	if (req->relid == 0 || req->relid > VMBUS_SERVER_MAX_CHANNELS ||
	    open_now[req->relid] ||
	    req->downstream_offset < VMBUS_RING_MIN_PAGES ||
	    req->ring_npfns < req->downstream_offset + VMBUS_RING_MIN_PAGES)
		abort();
	for (uint32_t i = 0; i < req->ring_npfns; i++)
		if (!f_owned(NULL, req->ring_pfns[i]))
			abort();
	open_now[req->relid] = 1;
	return req->openid == 0xdead ? -1 : 0;  /* let the VSP refuse too */
}

static void v_close(void *ctx, uint32_t relid)
{
	if (relid == 0 || relid > VMBUS_SERVER_MAX_CHANNELS || !open_now[relid])
		abort();
	open_now[relid] = 0;
}

static const struct vmbus_vsp_ops vsp_ops = { v_open, v_close, NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmbus_guid g;
	size_t off = 0;

	vmbus_server_init(&server, &f_ops, NULL);
	memset(open_now, 0, sizeof(open_now));
	for (unsigned i = 0; i < 3; i++) {
		memset(&g, 0x30 + i, sizeof(g));
		vmbus_server_add_offer(&server, &g, &g, &vsp_ops, NULL);
	}
	while (off < size) {
		uint8_t len = data[off++];
		struct vmbus_chanmsg m;
		uint8_t *msg;

		if (len == 0xff && off < size) {
			uint32_t relid = data[off++];

			/* rescind closes through the VSP, which checks pairing */
			if (vmbus_server_rescind(&server, relid) == 0 &&
			    relid <= VMBUS_SERVER_MAX_CHANNELS && open_now[relid])
				abort();
			continue;
		}
		if (len == 0xfe) {
			memset(&g, (int)off, sizeof(g));
			vmbus_server_add_offer(&server, &g, &g, &vsp_ops, NULL);
			continue;
		}
		if (len > size - off)
			len = (uint8_t)(size - off);
		/* an exact-size copy, so ASan sees reads past the message */
		msg = malloc(len ? len : 1);
		if (!msg)
			abort();
		memcpy(msg, data + off, len);
		vmbus_chanmsg_parse(msg, len, &m, NULL);
		vmbus_server_receive(&server, msg, len);
		free(msg);
		off += len;
	}
	return 0;
}

/* ---- seeds: a Linux-like session ---------------------------------------- */

struct seedbuf {
	uint8_t *buf;
	size_t cap, n;
};

static void put(struct seedbuf *sb, const void *msg, size_t len)
{
	if (sb->n + 1 + len > sb->cap)
		return;
	sb->buf[sb->n++] = (uint8_t)len;
	memcpy(sb->buf + sb->n, msg, len);
	sb->n += len;
}

static void put_simple(struct seedbuf *sb, uint32_t type)
{
	struct vmbus_channel_message_header h = { type, 0 };

	put(sb, &h, sizeof(h));
}

static void put_contact(struct seedbuf *sb, uint32_t version)
{
	struct vmbus_channel_initiate_contact ic;

	memset(&ic, 0, sizeof(ic));
	ic.header.msgtype = CHANNELMSG_INITIATE_CONTACT;
	ic.vmbus_version_requested = version;
	if (version >= VMBUS_VERSION_WIN10_V5)
		ic.msg_sint = VMBUS_MESSAGE_SINT;
	else
		ic.interrupt_page = 0x300000;
	ic.monitor_page1 = 0x301000;
	ic.monitor_page2 = 0x302000;
	put(sb, &ic, sizeof(ic));
}

/* A single-range gpadl of n pages split as Linux splits it. */
static void put_gpadl(struct seedbuf *sb, uint32_t relid, uint32_t handle,
		      uint64_t pfn, uint32_t n)
{
	uint8_t msg[240];
	struct vmbus_channel_gpadl_header h;
	struct vmbus_channel_gpadl_body b;
	uint64_t range = (uint64_t)n * 4096;
	uint32_t done = 0, k;

	memset(&h, 0, sizeof(h));
	h.header.msgtype = CHANNELMSG_GPADL_HEADER;
	h.child_relid = relid;
	h.gpadl = handle;
	h.range_buflen = (uint16_t)(8 + 8 * n);
	h.rangecount = 1;
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + 20, &range, 8);
	k = n < 26 ? n : 26;
	for (uint32_t i = 0; i < k; i++, done++) {
		uint64_t p = pfn + done;

		memcpy(msg + 28 + 8 * i, &p, 8);
	}
	put(sb, msg, 28 + 8 * k);
	while (done < n) {
		k = n - done < 28 ? n - done : 28;
		memset(&b, 0, sizeof(b));
		b.header.msgtype = CHANNELMSG_GPADL_BODY;
		b.gpadl = handle;
		memcpy(msg, &b, sizeof(b));
		for (uint32_t i = 0; i < k; i++, done++) {
			uint64_t p = pfn + done;

			memcpy(msg + 16 + 8 * i, &p, 8);
		}
		put(sb, msg, 16 + 8 * k);
	}
}

static void put_open(struct seedbuf *sb, uint32_t relid, uint32_t gpadl, uint32_t off)
{
	struct vmbus_channel_open_channel o;

	memset(&o, 0, sizeof(o));
	o.header.msgtype = CHANNELMSG_OPENCHANNEL;
	o.child_relid = relid;
	o.openid = relid;
	o.ringbuffer_gpadlhandle = gpadl;
	o.downstream_ringbuffer_pageoffset = off;
	put(sb, &o, sizeof(o));
}

static void put_relid(struct seedbuf *sb, uint32_t type, uint32_t relid)
{
	struct vmbus_channel_close_channel c;

	memset(&c, 0, sizeof(c));
	c.header.msgtype = type;
	c.child_relid = relid;
	put(sb, &c, sizeof(c));
}

static void put_teardown(struct seedbuf *sb, uint32_t relid, uint32_t gpadl)
{
	struct vmbus_channel_gpadl_teardown t;

	memset(&t, 0, sizeof(t));
	t.header.msgtype = CHANNELMSG_GPADL_TEARDOWN;
	t.child_relid = relid;
	t.gpadl = gpadl;
	put(sb, &t, sizeof(t));
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	struct seedbuf sb = { buf, cap, 0 };

	if (i > 3)
		return 0;
	put_contact(&sb, VMBUS_MAKE_VERSION(6, 0));     /* refused */
	put_contact(&sb, i == 1 ? VMBUS_VERSION_WIN10 : VMBUS_VERSION_WIN10_V5_3);
	put_simple(&sb, CHANNELMSG_REQUESTOFFERS);
	put_gpadl(&sb, 1, 0xe1e10, 0x1000, i == 2 ? 60 : 8);
	put_open(&sb, 1, 0xe1e10, 4);
	put_gpadl(&sb, 2, 0xe1e11, 0x2000, 40);
	put_open(&sb, 2, 0xe1e11, 20);
	if (i == 3) {
		sb.buf[sb.n++] = 0xff;          /* host rescinds relid 2 */
		sb.buf[sb.n++] = 2;
		put_relid(&sb, CHANNELMSG_CLOSECHANNEL, 2);
		put_teardown(&sb, 2, 0xe1e11);
		put_relid(&sb, CHANNELMSG_RELID_RELEASED, 2);
	}
	put_relid(&sb, CHANNELMSG_CLOSECHANNEL, 1);
	put_teardown(&sb, 1, 0xe1e10);
	put_simple(&sb, CHANNELMSG_UNLOAD);
	return sb.n;
}
