/*
 * Hyper-V integration services framing: the host half against the guest
 * half (negotiation, 100 heartbeats, shutdown), byte-level checks against
 * Linux's layouts, then malformed and hostile responses and requests.
 */
#include <string.h>
#include "check.h"
#include "ic.h"

static uint8_t req[4096], resp[4096];

/* One round trip: host request -> guest response -> host parse. */
static int round_trip(struct ic_host *h, struct ic_guest *g, size_t reqlen,
		      struct ic_response *r, enum ic_action *action, const char **err)
{
	size_t rlen;

	if (!reqlen)
		return -2;
	rlen = ic_guest_respond(g, req, reqlen, resp, sizeof(resp), action);
	if (!rlen)
		return -3;
	return ic_host_parse(h, resp, rlen, r, err);
}

static uint16_t u16_at(const uint8_t *b, size_t off)
{
	uint16_t v;

	memcpy(&v, b + off, 2);
	return v;
}

static uint32_t u32_at(const uint8_t *b, size_t off)
{
	uint32_t v;

	memcpy(&v, b + off, 4);
	return v;
}

static void put_u16(uint8_t *b, size_t off, uint16_t v)
{
	memcpy(b + off, &v, 2);
}

static void put_u32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

/* icmsg_hdr field offsets within the packet (after the 8-byte pipe header) */
#define OFF_TYPE        12
#define OFF_MSGSIZE     18
#define OFF_STATUS      20
#define OFF_TID         24
#define OFF_FLAGS       25

static void test_layout(void)
{
	static const uint8_t hb[16] = {
		0x39, 0x4f, 0x16, 0x57, 0x15, 0x91, 0x78, 0x4e,
		0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d };
	struct ic_host h;
	size_t n;

	CHECK(ICMSG_HDR == 28 && IC_SHUTDOWN_PKT_SIZE == 2088 && IC_HEARTBEAT_PKT_SIZE == 68,
	      "sizes: ICMSG_HDR 28, heartbeat packet 68, shutdown packet 2088");
	CHECK(!memcmp(&ic_heartbeat_guid, hb, 16) && ic_shutdown_guid.b[0] == 0x31 &&
	      ic_shutdown_guid.b[3] == 0x0e && ic_shutdown_guid.b[4] == 0x13 &&
	      ic_shutdown_guid.b[6] == 0x34 && ic_shutdown_guid.b[8] == 0x81,
	      "GUIDs in mixed-endian byte order");

	ic_host_init(&h, IC_SERVICE_SHUTDOWN);
	n = ic_host_negotiate(&h, req, sizeof(req));
	CHECK(n == IC_NEGOTIATE_PKT_SIZE(2, 4) && n == 28 + 8 + 6 * 4,
	      "negotiate request: 2 framework + 4 shutdown versions (%zu bytes)", n);
	CHECK(u32_at(req, 4) == n - 8 && u16_at(req, OFF_TYPE) == ICMSGTYPE_NEGOTIATE &&
	      u16_at(req, OFF_MSGSIZE) == n - 28 &&
	      req[OFF_FLAGS] == (ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_REQUEST),
	      "negotiate request headers: msgsize, type, icmsgsize, flags");
	CHECK(u16_at(req, 28) == 2 && u16_at(req, 30) == 4 &&
	      u16_at(req, 36) == 3 && u16_at(req, 38) == 0 &&       /* fw 3.0 */
	      u16_at(req, 44) == 3 && u16_at(req, 46) == 2,         /* sd 3.2 */
	      "negotiate request body: counts, then {major, minor} pairs newest first");
	CHECK(ic_host_heartbeat(&h, 1, req, sizeof(req)) == 0 &&
	      ic_host_shutdown(&h, 0, 0, req, sizeof(req)) == 0,
	      "no heartbeat or shutdown before a negotiation");
	CHECK(ic_host_negotiate(&h, req, 40) == 0, "a request that does not fit: 0");
}

static void test_heartbeat(void)
{
	struct ic_host h;
	struct ic_guest g;
	struct ic_response r;
	enum ic_action act;
	const char *err = "";
	unsigned ok = 0;
	int ret;

	ic_host_init(&h, IC_SERVICE_HEARTBEAT);
	ic_guest_init(&g, IC_SERVICE_HEARTBEAT);
	ret = round_trip(&h, &g, ic_host_negotiate(&h, req, sizeof(req)), &r, &act, &err);
	CHECK(ret == 0 && r.status == IC_S_OK && r.fw_version == IC_FW_VERSION_3_0 &&
	      r.msg_version == IC_HB_VERSION_3_0 && h.negotiated && g.negotiated,
	      "heartbeat negotiation: framework 3.0, heartbeat 3.0 (%s)", ret ? err : "ok");
	CHECK(u16_at(resp, OFF_MSGSIZE) == 16 && u16_at(resp, 28) == 1 && u16_at(resp, 30) == 1,
	      "negotiate response: icmsgsize 0x10, counts 1/1 (Linux's shape)");

	for (uint64_t seq = 1000; seq < 1100; seq++) {
		size_t n = ic_host_heartbeat(&h, seq, req, sizeof(req));

		ret = round_trip(&h, &g, n, &r, &act, &err);
		ok += ret == 0 && r.seq == seq + 1 && r.status == IC_S_OK &&
		      act == IC_ACTION_NONE && n == IC_HEARTBEAT_PKT_SIZE;
	}
	CHECK(ok == 100, "100 heartbeats with increasing seq answered seq + 1 (%u)", ok);

	/* The guest half picks the highest common version. */
	{
		static const uint32_t fw[] = { IC_FW_VERSION_1_0 };
		static const uint32_t msg[] = { IC_VERSION(4, 0), IC_HB_VERSION_1_0 };

		ret = round_trip(&h, &g, ic_host_negotiate_versions(&h, fw, 1, msg, 2, req,
								    sizeof(req)),
				 &r, &act, &err);
		CHECK(ret == 0 && r.fw_version == IC_FW_VERSION_1_0 &&
		      r.msg_version == IC_HB_VERSION_1_0,
		      "a WS2008-style host: framework 1.0, heartbeat 1.0");
	}
	{
		static const uint32_t fw[] = { IC_VERSION(2, 0) };
		static const uint32_t msg[] = { IC_HB_VERSION_3_0 };

		ret = round_trip(&h, &g, ic_host_negotiate_versions(&h, fw, 1, msg, 1, req,
								    sizeof(req)),
				 &r, &act, &err);
		CHECK(ret == 0 && r.fw_version == 0 && r.status == IC_E_FAIL && !h.negotiated &&
		      u16_at(resp, 28) == 0 && u16_at(resp, 30) == 0,
		      "no common framework: counts 0/0, IC_E_FAIL, not negotiated");
	}
}

static void test_shutdown(void)
{
	struct ic_host h;
	struct ic_guest g;
	struct ic_response r;
	enum ic_action act;
	const char *err = "";
	size_t n;
	int ret;

	ic_host_init(&h, IC_SERVICE_SHUTDOWN);
	ic_guest_init(&g, IC_SERVICE_SHUTDOWN);
	ret = round_trip(&h, &g, ic_host_negotiate(&h, req, sizeof(req)), &r, &act, &err);
	CHECK(ret == 0 && r.fw_version == IC_FW_VERSION_3_0 &&
	      r.msg_version == IC_SD_VERSION_3_2,
	      "shutdown negotiation: framework 3.0, shutdown 3.2");
	CHECK(ic_host_heartbeat(&h, 1, req, sizeof(req)) == 0,
	      "no heartbeat request on the shutdown service");

	n = ic_host_shutdown(&h, 0, 0x80000000, req, sizeof(req));
	CHECK(n == IC_SHUTDOWN_PKT_SIZE && u32_at(req, 28) == 0x80000000,
	      "shutdown request: 2088 bytes, reason code in place");
	ret = round_trip(&h, &g, n, &r, &act, &err);
	CHECK(ret == 0 && r.type == ICMSGTYPE_SHUTDOWN && r.status == IC_S_OK &&
	      act == IC_ACTION_POWER_OFF,
	      "shutdown: status 0, the guest is told to power off");
	ret = round_trip(&h, &g, ic_host_shutdown(&h, IC_SHUTDOWN_FLAG_FORCE, 0, req,
						  sizeof(req)), &r, &act, &err);
	CHECK(ret == 0 && act == IC_ACTION_POWER_OFF, "forced shutdown: power off");
	ret = round_trip(&h, &g, ic_host_shutdown(&h, IC_SHUTDOWN_FLAG_REBOOT, 0, req,
						  sizeof(req)), &r, &act, &err);
	CHECK(ret == 0 && r.status == IC_S_OK && act == IC_ACTION_REBOOT, "reboot request");
	ret = round_trip(&h, &g, ic_host_shutdown(&h, IC_SHUTDOWN_FLAG_HIBERNATE, 0, req,
						  sizeof(req)), &r, &act, &err);
	CHECK(ret == 0 && r.status == IC_E_FAIL && act == IC_ACTION_NONE,
	      "hibernate: IC_E_FAIL, nothing to do");
	n = ic_host_shutdown(&h, 0, 0, req, sizeof(req));
	CHECK(ic_guest_respond(&g, req, n - 1, resp, sizeof(resp), &act) == 0 &&
	      act == IC_ACTION_NONE,
	      "a shutdown request short of its data is dropped, no power off");
}

/* A valid heartbeat response in resp, for the malformed-response tests. */
static size_t fresh_heartbeat(struct ic_host *h, struct ic_guest *g, uint64_t seq)
{
	enum ic_action act;
	size_t n = ic_host_heartbeat(h, seq, req, sizeof(req));

	return ic_guest_respond(g, req, n, resp, sizeof(resp), &act);
}

static void test_malformed_responses(void)
{
	struct ic_host h;
	struct ic_guest g;
	struct ic_response r;
	enum ic_action act;
	const char *err = "";
	uint8_t save[128];
	size_t n;

	ic_host_init(&h, IC_SERVICE_HEARTBEAT);
	ic_guest_init(&g, IC_SERVICE_HEARTBEAT);
	round_trip(&h, &g, ic_host_negotiate(&h, req, sizeof(req)), &r, &act, &err);

	n = fresh_heartbeat(&h, &g, 7);
	memcpy(save, resp, n);
	CHECK(ic_host_parse(&h, resp, 27, &r, &err) == -1,
	      "short: 27 bytes refused (%s)", err);
	CHECK(ic_host_parse(&h, resp, 35, &r, &err) == -1,
	      "heartbeat cut before seq_num refused (%s)", err);
	put_u16(resp, OFF_MSGSIZE, 0xffff);
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == -1,
	      "icmsgsize past the packet refused (%s)", err);
	memcpy(resp, save, n);
	put_u32(resp, 4, 0x7fffffff);
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == -1,
	      "pipe msgsize past the packet refused (%s)", err);
	memcpy(resp, save, n);
	resp[OFF_FLAGS] = ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_REQUEST;
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == -1, "not a response refused (%s)", err);
	memcpy(resp, save, n);
	put_u16(resp, OFF_TYPE, ICMSGTYPE_SHUTDOWN);
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == -1, "wrong type refused (%s)", err);
	memcpy(resp, save, n);
	resp[OFF_TID] ^= 1;
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == -1,
	      "wrong transaction id refused (%s)", err);
	memcpy(resp, save, n);
	put_u32(resp, 28, 9);                   /* seq 7 + 1 expected */
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == -1, "wrong seq refused (%s)", err);
	memcpy(resp, save, n);
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == 0 && r.seq == 8,
	      "the untouched response is still accepted after all that");
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == -1,
	      "the same response twice: no request in flight (%s)", err);

	/* Negotiate responses. */
	n = ic_host_negotiate(&h, req, sizeof(req));
	n = ic_guest_respond(&g, req, n, resp, sizeof(resp), &act);
	memcpy(save, resp, n);
	put_u16(resp, 28, 2);
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == -1,
	      "negotiate: framework vercnt 2 refused (%s)", err);
	memcpy(resp, save, n);
	put_u16(resp, 30, 0xffff);
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == -1,
	      "negotiate: message vercnt 65535 refused (%s)", err);
	memcpy(resp, save, n);
	put_u16(resp, OFF_MSGSIZE, 12);
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == -1,
	      "negotiate: versions past icmsgsize refused (%s)", err);
	memcpy(resp, save, n);
	put_u16(resp, 40, 2);                   /* message version 2.0, not offered */
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == -1,
	      "negotiate: a version we never offered refused (%s)", err);
	memcpy(resp, save, n);
	put_u16(resp, OFF_TYPE, ICMSGTYPE_HEARTBEAT);
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == -1,
	      "negotiate answered as a heartbeat refused (%s)", err);
	memcpy(resp, save, n);
	CHECK(ic_host_parse(&h, resp, n, &r, &err) == 0 && h.negotiated,
	      "the untouched negotiate response is accepted");
}

static void test_hostile_requests(void)
{
	struct ic_guest g;
	struct ic_host h;
	enum ic_action act;
	size_t n;

	ic_guest_init(&g, IC_SERVICE_HEARTBEAT);
	ic_host_init(&h, IC_SERVICE_HEARTBEAT);
	n = ic_host_negotiate(&h, req, sizeof(req));
	CHECK(ic_guest_respond(&g, req, 27, resp, sizeof(resp), &act) == 0,
	      "guest: a request shorter than the headers is dropped");
	CHECK(ic_guest_respond(&g, req, n, resp, n - 1, &act) == 0,
	      "guest: a request larger than the response buffer is dropped");
	put_u16(req, 28, 101);
	CHECK(ic_guest_respond(&g, req, n, resp, sizeof(resp), &act) == n &&
	      u16_at(resp, 28) == 0 && u32_at(resp, OFF_STATUS) == IC_E_FAIL,
	      "guest: framework vercnt over 100 answered with no version");
	put_u16(req, 28, 2);
	put_u16(req, 30, 60);
	CHECK(ic_guest_respond(&g, req, n, resp, sizeof(resp), &act) == n &&
	      u16_at(resp, 30) == 0 && !g.negotiated,
	      "guest: version counts past the packet answered with no version");
	put_u16(req, 30, 2);
	put_u16(req, OFF_MSGSIZE, 0x1000);
	CHECK(ic_guest_respond(&g, req, n, resp, sizeof(resp), &act) == 0,
	      "guest: icmsgsize past the packet dropped");
	n = ic_host_negotiate(&h, req, sizeof(req));
	req[OFF_FLAGS] = ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_RESPONSE;
	CHECK(ic_guest_respond(&g, req, n, resp, sizeof(resp), &act) == 0,
	      "guest: a response is not answered (no ping-pong)");
	n = ic_host_negotiate(&h, req, sizeof(req));
	put_u16(req, OFF_TYPE, ICMSGTYPE_SHUTDOWN);
	CHECK(ic_guest_respond(&g, req, n, resp, sizeof(resp), &act) == n &&
	      u32_at(resp, OFF_STATUS) == IC_E_FAIL && act == IC_ACTION_NONE,
	      "guest: shutdown sent to the heartbeat service gets IC_E_FAIL");
	put_u16(req, OFF_TYPE, 42);
	CHECK(ic_guest_respond(&g, req, n, resp, sizeof(resp), &act) == n &&
	      u32_at(resp, OFF_STATUS) == IC_E_FAIL &&
	      resp[OFF_FLAGS] == (ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_RESPONSE),
	      "guest: an unknown type is answered with IC_E_FAIL");
	/* A bare 28-byte NEGOTIATE: the response grows to hold the answer. */
	n = ic_host_negotiate(&h, req, sizeof(req));
	put_u16(req, OFF_MSGSIZE, 0);
	put_u32(req, 4, 20);
	n = ic_guest_respond(&g, req, 28, resp, sizeof(resp), &act);
	CHECK(n == 44 && u32_at(resp, 4) == 36 && u16_at(resp, 28) == 0,
	      "guest: a bare negotiate gets a 44-byte 'no version' answer");
}

int main(void)
{
	test_layout();
	test_heartbeat();
	test_shutdown();
	test_malformed_responses();
	test_hostile_requests();
	return done_testing();
}
