/*
 * Fuzz target for the integration-services framing. Input: one mode byte,
 * then a packet. The packet goes to the guest half as a host request, and
 * to the host half's response parser with a request of the kind the mode
 * picks in flight (negotiate; or heartbeat / shutdown after a real
 * negotiation). Mode bit 7 patches the packet's transaction id to the one
 * in flight, so mutations get past that check to the type-specific code.
 *
 * Seeds: genuine guest responses and host requests of each kind.
 *
 * Beyond "no crash": a guest response never exceeds its buffer and is
 * always marked as a response; a response the parser accepts matches the
 * request in flight; and a genuine round trip always succeeds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ic.h"

#define PKT_MAX 4096
#define OFF_TID 24
#define OFF_FLAGS 25

static uint8_t req[PKT_MAX], resp[PKT_MAX];

/* Negotiates h with a well-behaved guest; aborts if that ever fails. */
static void negotiate(struct ic_host *h, enum ic_service svc)
{
	struct ic_guest g;
	struct ic_response r;
	enum ic_action act;
	size_t n, m;

	ic_guest_init(&g, svc);
	n = ic_host_negotiate(h, req, sizeof(req));
	m = ic_guest_respond(&g, req, n, resp, sizeof(resp), &act);
	if (!n || !m || ic_host_parse(h, resp, m, &r, NULL) || !h->negotiated)
		abort();
}

/* Puts request `kind` (0 negotiate, 1 heartbeat or shutdown) of service
 * svc in flight on h, in req; returns its length, *seq the heartbeat's. */
static size_t start(struct ic_host *h, unsigned kind, enum ic_service svc, uint64_t *seq)
{
	size_t n;

	*seq = 0;
	ic_host_init(h, svc);
	if (kind == 0) {
		n = ic_host_negotiate(h, req, sizeof(req));
	} else {
		negotiate(h, svc);
		if (svc == IC_SERVICE_HEARTBEAT) {
			*seq = 41;
			n = ic_host_heartbeat(h, *seq, req, sizeof(req));
		} else {
			n = ic_host_shutdown(h, 0, 5, req, sizeof(req));
		}
	}
	if (!n)
		abort();
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ic_service svc;
	struct ic_guest g;
	struct ic_host h;
	struct ic_response r;
	enum ic_action act;
	unsigned mode;
	uint64_t seq;
	uint8_t *pkt;
	size_t n;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	svc = mode & 1 ? IC_SERVICE_SHUTDOWN : IC_SERVICE_HEARTBEAT;
	/* an exact-size copy, so ASan sees reads past the packet */
	pkt = malloc(size ? size : 1);
	if (!pkt)
		abort();
	memcpy(pkt, data, size);

	/* the guest half on an arbitrary host request */
	ic_guest_init(&g, svc);
	n = ic_guest_respond(&g, pkt, size, resp, sizeof(resp), &act);
	if (n > sizeof(resp) || (n && !(resp[OFF_FLAGS] & ICMSGHDRFLAG_RESPONSE)) ||
	    (!n && act != IC_ACTION_NONE))
		abort();

	/* the host half on an arbitrary guest response */
	start(&h, (mode >> 1) & 1, svc, &seq);
	if ((mode & 0x80) && size > OFF_TID)
		pkt[OFF_TID] = h.pending_tid;
	if (ic_host_parse(&h, pkt, size, &r, NULL) == 0) {
		if (h.pending || r.type > ICMSGTYPE_SHUTDOWN ||
		    (r.type == ICMSGTYPE_HEARTBEAT && r.status == IC_S_OK && r.seq != seq + 1))
			abort();
	}
	free(pkt);

	/* and a genuine round trip still works */
	n = start(&h, 1, svc, &seq);
	ic_guest_init(&g, svc);
	n = ic_guest_respond(&g, req, n, resp, sizeof(resp), &act);
	if (!n || ic_host_parse(&h, resp, n, &r, NULL))
		abort();
	return 0;
}

/* ---- seeds: genuine guest responses (0..3), host requests (4..7) -------- */

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	enum ic_service svc = i & 1 ? IC_SERVICE_SHUTDOWN : IC_SERVICE_HEARTBEAT;
	const uint8_t *pkt = resp;
	struct ic_guest g;
	struct ic_host h;
	enum ic_action act;
	uint64_t seq;
	size_t n;

	if (i > 7)
		return 0;
	n = start(&h, (i >> 1) & 1, svc, &seq);
	if (i < 4) {
		ic_guest_init(&g, svc);
		n = ic_guest_respond(&g, req, n, resp, sizeof(resp), &act);
	} else {
		pkt = req;
	}
	if (!n || n + 1 > cap)
		return 0;
	buf[0] = (uint8_t)(i & 3);
	memcpy(buf + 1, pkt, n);
	return n + 1;
}
