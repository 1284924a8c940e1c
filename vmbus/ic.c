/*
 * Hyper-V integration services framing (heartbeat, shutdown): the host
 * half builds requests and checks guest responses, the guest half answers
 * requests. See ic.h for the message flow.
 *
 * Untrusted input, both ways: the host half never believes a guest's
 * response (a guest can be hostile: every length, count, version,
 * transaction id and flag is checked against the packet and the request
 * in flight); the guest half never believes a host's request beyond what
 * Linux's hv_utils accepts. Both copy the packet's headers out with
 * memcpy before reading them and never read past len.
 */
#include <string.h>
#include "ic.h"

const struct vmbus_guid ic_heartbeat_guid = { {
	0x39, 0x4f, 0x16, 0x57, 0x15, 0x91, 0x78, 0x4e,
	0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d } };
const struct vmbus_guid ic_shutdown_guid = { {
	0x31, 0x60, 0x0b, 0x0e, 0x13, 0x52, 0x34, 0x49,
	0x81, 0x8b, 0x38, 0xd9, 0x0c, 0xed, 0x39, 0xdb } };

/* What we speak, newest first (Linux's fw_versions, hb_versions,
 * sd_versions). */
static const uint32_t fw_versions[] = { IC_FW_VERSION_3_0, IC_FW_VERSION_1_0 };
static const uint32_t hb_versions[] = { IC_HB_VERSION_3_0, IC_HB_VERSION_1_0 };
static const uint32_t sd_versions[] = {
	IC_SD_VERSION_3_2, IC_SD_VERSION_3_1, IC_SD_VERSION_3_0, IC_SD_VERSION_1_0,
};

#define COUNT(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

static void service_versions(uint8_t service, const uint32_t **v, unsigned *n)
{
	if (service == IC_SERVICE_SHUTDOWN) {
		*v = sd_versions;
		*n = COUNT(sd_versions);
	} else {
		*v = hb_versions;
		*n = COUNT(hb_versions);
	}
}

static struct ic_version to_wire(uint32_t v)
{
	struct ic_version w = { (uint16_t)(v >> 16), (uint16_t)v };

	return w;
}

static uint32_t from_wire(struct ic_version w)
{
	return IC_VERSION(w.major, w.minor);
}

static int fail(const char **err, const char *why)
{
	if (err)
		*err = why;
	return -1;
}

/* ---- host half ---------------------------------------------------------- */

void ic_host_init(struct ic_host *h, enum ic_service service)
{
	memset(h, 0, sizeof(*h));
	h->service = (uint8_t)service;
}

/* Writes both headers of a request with data_len bytes of data (zeroed)
 * and makes it the request in flight. */
static size_t start_request(struct ic_host *h, uint16_t type, size_t data_len,
			    void *buf, size_t cap)
{
	struct vmbuspipe_hdr pipe;
	struct icmsg_hdr ic;
	uint8_t *b = buf;

	if (cap < ICMSG_HDR + data_len || data_len > 0xffff)
		return 0;
	memset(b, 0, ICMSG_HDR + data_len);
	pipe.flags = IC_PIPE_FLAG_DATA;
	pipe.msgsize = (uint32_t)(sizeof(ic) + data_len);
	memset(&ic, 0, sizeof(ic));
	ic.icverframe = to_wire(h->negotiated ? h->fw_version : h->fw_offered[0]);
	ic.icvermsg = to_wire(h->negotiated ? h->msg_version : h->msg_offered[0]);
	ic.icmsgtype = type;
	ic.icmsgsize = (uint16_t)data_len;
	ic.ictransaction_id = h->next_tid;
	ic.icflags = ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_REQUEST;
	memcpy(b, &pipe, sizeof(pipe));
	memcpy(b + sizeof(pipe), &ic, sizeof(ic));
	h->pending = true;
	h->pending_tid = h->next_tid++;
	h->pending_type = type;
	return ICMSG_HDR + data_len;
}

size_t ic_host_negotiate_versions(struct ic_host *h, const uint32_t *fw, unsigned nfw,
				  const uint32_t *msg, unsigned nmsg, void *buf, size_t cap)
{
	struct icmsg_negotiate neg;
	struct ic_version v;
	uint8_t *b = buf;
	size_t len, off = ICMSG_HDR + sizeof(neg);

	if (nfw == 0 || nmsg == 0 || nfw > IC_MAX_OFFERED || nmsg > IC_MAX_OFFERED)
		return 0;
	/* A new negotiation starts from nothing, whatever it replaces. */
	h->negotiated = false;
	h->fw_version = h->msg_version = 0;
	h->nfw = (uint8_t)nfw;
	h->nmsg = (uint8_t)nmsg;
	memcpy(h->fw_offered, fw, nfw * sizeof(*fw));
	memcpy(h->msg_offered, msg, nmsg * sizeof(*msg));
	len = start_request(h, ICMSGTYPE_NEGOTIATE,
			    sizeof(neg) + (nfw + nmsg) * sizeof(v), buf, cap);
	if (!len) {
		h->pending = false;
		return 0;
	}
	memset(&neg, 0, sizeof(neg));
	neg.icframe_vercnt = (uint16_t)nfw;
	neg.icmsg_vercnt = (uint16_t)nmsg;
	memcpy(b + ICMSG_HDR, &neg, sizeof(neg));
	for (unsigned i = 0; i < nfw + nmsg; i++, off += sizeof(v)) {
		v = to_wire(i < nfw ? fw[i] : msg[i - nfw]);
		memcpy(b + off, &v, sizeof(v));
	}
	return len;
}

size_t ic_host_negotiate(struct ic_host *h, void *buf, size_t cap)
{
	const uint32_t *msg;
	unsigned nmsg;

	service_versions(h->service, &msg, &nmsg);
	return ic_host_negotiate_versions(h, fw_versions, COUNT(fw_versions), msg, nmsg,
					  buf, cap);
}

size_t ic_host_heartbeat(struct ic_host *h, uint64_t seq, void *buf, size_t cap)
{
	struct heartbeat_msg_data hb;
	size_t len;

	if (!h->negotiated || h->service != IC_SERVICE_HEARTBEAT)
		return 0;
	len = start_request(h, ICMSGTYPE_HEARTBEAT, sizeof(hb), buf, cap);
	if (!len)
		return 0;
	memset(&hb, 0, sizeof(hb));
	hb.seq_num = seq;
	memcpy((uint8_t *)buf + ICMSG_HDR, &hb, sizeof(hb));
	h->pending_seq = seq;
	return len;
}

size_t ic_host_shutdown(struct ic_host *h, uint32_t flags, uint32_t reason,
			void *buf, size_t cap)
{
	struct shutdown_msg_data sd;
	size_t len;

	if (!h->negotiated || h->service != IC_SERVICE_SHUTDOWN)
		return 0;
	len = start_request(h, ICMSGTYPE_SHUTDOWN, sizeof(sd), buf, cap);
	if (!len)
		return 0;
	/* Only the fixed part: display_message is already zeroed. */
	memset(&sd, 0, offsetof(struct shutdown_msg_data, display_message));
	sd.reason_code = reason;
	sd.timeout_seconds = 0;
	sd.flags = flags;
	memcpy((uint8_t *)buf + ICMSG_HDR, &sd, offsetof(struct shutdown_msg_data,
							 display_message));
	return len;
}

static bool offered(const uint32_t *list, unsigned n, uint32_t v)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

/* The data of a NEGOTIATE response: data_len bytes at d. */
static int parse_negotiate(struct ic_host *h, const uint8_t *d, size_t data_len,
			   struct ic_response *out, const char **err)
{
	struct icmsg_negotiate neg;
	struct ic_version v[2];

	if (data_len < sizeof(neg))
		return fail(err, "negotiate: no version counts");
	memcpy(&neg, d, sizeof(neg));
	if (neg.icframe_vercnt == 0 && neg.icmsg_vercnt == 0)
		return 0;               /* no common version: versions stay 0 */
	if (neg.icframe_vercnt != 1 || neg.icmsg_vercnt != 1)
		return fail(err, "negotiate: a response chooses one version of each");
	if (data_len < sizeof(neg) + sizeof(v))
		return fail(err, "negotiate: chosen versions past icmsgsize");
	memcpy(v, d + sizeof(neg), sizeof(v));
	if (!offered(h->fw_offered, h->nfw, from_wire(v[0])))
		return fail(err, "negotiate: framework version we did not offer");
	if (!offered(h->msg_offered, h->nmsg, from_wire(v[1])))
		return fail(err, "negotiate: message version we did not offer");
	out->fw_version = from_wire(v[0]);
	out->msg_version = from_wire(v[1]);
	return 0;
}

int ic_host_parse(struct ic_host *h, const void *pkt, size_t len, struct ic_response *out,
		  const char **err)
{
	const uint8_t *b = pkt;
	struct vmbuspipe_hdr pipe;
	struct icmsg_hdr ic;
	struct heartbeat_msg_data hb;
	struct ic_response r;

	if (!pkt || !out)
		return fail(err, "no packet");
	if (len < ICMSG_HDR)
		return fail(err, "shorter than the IC headers");
	memcpy(&pipe, b, sizeof(pipe));
	memcpy(&ic, b + sizeof(pipe), sizeof(ic));
	if (pipe.msgsize < sizeof(ic) || pipe.msgsize > len - sizeof(pipe))
		return fail(err, "pipe msgsize disagrees with the packet");
	if (ic.icmsgsize > pipe.msgsize - sizeof(ic))
		return fail(err, "icmsgsize past the message");
	if (!(ic.icflags & ICMSGHDRFLAG_RESPONSE) || (ic.icflags & ICMSGHDRFLAG_REQUEST))
		return fail(err, "not a response");
	if (!h->pending)
		return fail(err, "no request in flight");
	if (ic.ictransaction_id != h->pending_tid)
		return fail(err, "transaction id of no request in flight");
	if (ic.icmsgtype != h->pending_type)
		return fail(err, "response of another message type");

	memset(&r, 0, sizeof(r));
	r.type = ic.icmsgtype;
	r.status = ic.status;
	switch (ic.icmsgtype) {
	case ICMSGTYPE_NEGOTIATE:
		if (parse_negotiate(h, b + ICMSG_HDR, ic.icmsgsize, &r, err))
			return -1;
		break;
	case ICMSGTYPE_HEARTBEAT:
		/* Only seq_num counts, as guests check only it on requests. */
		if (ic.icmsgsize < sizeof(hb.seq_num))
			return fail(err, "heartbeat: no seq_num");
		memcpy(&hb.seq_num, b + ICMSG_HDR, sizeof(hb.seq_num));
		if (r.status == IC_S_OK && hb.seq_num != h->pending_seq + 1)
			return fail(err, "heartbeat: seq_num is not ours + 1");
		r.seq = hb.seq_num;
		break;
	default:                /* SHUTDOWN: the status is the answer */
		break;
	}
	if (r.type == ICMSGTYPE_NEGOTIATE && r.status == IC_S_OK && r.fw_version) {
		h->negotiated = true;
		h->fw_version = r.fw_version;
		h->msg_version = r.msg_version;
	}
	h->pending = false;
	*out = r;
	return 0;
}

/* ---- guest half --------------------------------------------------------- */

void ic_guest_init(struct ic_guest *g, enum ic_service service)
{
	memset(g, 0, sizeof(*g));
	g->service = (uint8_t)service;
}

/* The highest of ours (newest first) among the host's n versions at d. */
static uint32_t pick(const uint32_t *ours, unsigned n_ours, const uint8_t *d, unsigned n)
{
	for (unsigned i = 0; i < n_ours; i++) {
		for (unsigned j = 0; j < n; j++) {
			struct ic_version v;

			memcpy(&v, d + j * sizeof(v), sizeof(v));
			if (from_wire(v) == ours[i])
				return ours[i];
		}
	}
	return 0;
}

/*
 * Negotiation in place in r (rlen bytes, at least ICMSG_HDR + 16): the
 * request's counts and versions are checked against the packet length
 * first, as vmbus_prep_negotiate_resp() does.
 */
static void negotiate(struct ic_guest *g, struct icmsg_hdr *ic, uint8_t *r, size_t reqlen)
{
	struct icmsg_negotiate neg;
	struct ic_version v[2];
	const uint32_t *msgv;
	unsigned nmsgv;
	uint32_t fw = 0, msg = 0;

	service_versions(g->service, &msgv, &nmsgv);
	memcpy(&neg, r + ICMSG_HDR, sizeof(neg));
	if (reqlen >= ICMSG_HDR + sizeof(neg) &&
	    neg.icframe_vercnt <= IC_VERSION_NEGOTIATION_MAX_VER_COUNT &&
	    neg.icmsg_vercnt <= IC_VERSION_NEGOTIATION_MAX_VER_COUNT &&
	    IC_NEGOTIATE_PKT_SIZE(neg.icframe_vercnt, neg.icmsg_vercnt) <= reqlen) {
		const uint8_t *d = r + ICMSG_HDR + sizeof(neg);

		fw = pick(fw_versions, COUNT(fw_versions), d, neg.icframe_vercnt);
		if (fw)
			msg = pick(msgv, nmsgv, d + neg.icframe_vercnt * sizeof(v[0]),
				   neg.icmsg_vercnt);
	}
	memset(&neg, 0, sizeof(neg));
	if (fw && msg) {
		neg.icframe_vercnt = 1;
		neg.icmsg_vercnt = 1;
		ic->status = IC_S_OK;
		g->negotiated = true;
		g->fw_version = fw;
		g->msg_version = msg;
	} else {
		fw = msg = 0;
		ic->status = IC_E_FAIL;
	}
	v[0] = to_wire(fw);
	v[1] = to_wire(msg);
	memcpy(r + ICMSG_HDR, &neg, sizeof(neg));
	memcpy(r + ICMSG_HDR + sizeof(neg), v, sizeof(v));
	ic->icmsgsize = sizeof(neg) + sizeof(v);
}

static void shutdown_req(struct icmsg_hdr *ic, const uint8_t *data, enum ic_action *action)
{
	struct shutdown_msg_data sd;

	memcpy(&sd, data, offsetof(struct shutdown_msg_data, display_message));
	switch (sd.flags) {
	case 0:
	case IC_SHUTDOWN_FLAG_FORCE:
		ic->status = IC_S_OK;
		*action = IC_ACTION_POWER_OFF;
		break;
	case IC_SHUTDOWN_FLAG_REBOOT:
	case IC_SHUTDOWN_FLAG_REBOOT | IC_SHUTDOWN_FLAG_FORCE:
		ic->status = IC_S_OK;
		*action = IC_ACTION_REBOOT;
		break;
	default:        /* hibernate (we cannot) or nonsense */
		ic->status = IC_E_FAIL;
		break;
	}
}

size_t ic_guest_respond(struct ic_guest *g, const void *req, size_t len, void *resp,
			size_t cap, enum ic_action *action)
{
	/* A negotiate response needs room for the counts and two versions. */
	const size_t neg_len = ICMSG_HDR + sizeof(struct icmsg_negotiate) +
			       2 * sizeof(struct ic_version);
	struct vmbuspipe_hdr pipe;
	struct icmsg_hdr ic;
	uint8_t *r = resp;
	size_t rlen = len;

	*action = IC_ACTION_NONE;
	if (!req || !resp || len < ICMSG_HDR || len > cap)
		return 0;
	memcpy(r, req, len);
	memcpy(&pipe, r, sizeof(pipe));
	memcpy(&ic, r + sizeof(pipe), sizeof(ic));
	if (ic.icmsgsize > len - ICMSG_HDR || (ic.icflags & ICMSGHDRFLAG_RESPONSE))
		return 0;

	switch (ic.icmsgtype) {
	case ICMSGTYPE_NEGOTIATE:
		if (rlen < neg_len) {
			if (cap < neg_len)
				return 0;
			memset(r + rlen, 0, neg_len - rlen);
			rlen = neg_len;
		}
		negotiate(g, &ic, r, len);
		break;
	case ICMSGTYPE_HEARTBEAT:
		if (g->service != IC_SERVICE_HEARTBEAT) {
			ic.status = IC_E_FAIL;
		} else {
			uint64_t seq;

			/* Only seq_num must be there: hosts may send less
			 * of the reserved words (Linux's rule). */
			if (len < ICMSG_HDR + sizeof(seq))
				return 0;
			memcpy(&seq, r + ICMSG_HDR, sizeof(seq));
			seq++;
			memcpy(r + ICMSG_HDR, &seq, sizeof(seq));
			ic.status = IC_S_OK;
		}
		break;
	case ICMSGTYPE_SHUTDOWN:
		if (g->service != IC_SERVICE_SHUTDOWN) {
			ic.status = IC_E_FAIL;
		} else {
			if (len < IC_SHUTDOWN_PKT_SIZE)
				return 0;
			shutdown_req(&ic, r + ICMSG_HDR, action);
		}
		break;
	default:
		ic.status = IC_E_FAIL;
		break;
	}
	ic.icflags = ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_RESPONSE;
	/* The pipe header is echoed, but must still cover what we send. */
	pipe.msgsize = (uint32_t)(rlen - sizeof(pipe));
	memcpy(r, &pipe, sizeof(pipe));
	memcpy(r + sizeof(pipe), &ic, sizeof(ic));
	return rlen;
}
