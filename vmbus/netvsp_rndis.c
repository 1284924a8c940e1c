/*
 * netvsp's RNDIS control plane (see netvsp.h and netvsp_rndis.h): the
 * device Linux's rndis_filter.c talks to. Every message here was copied
 * out of guest memory by netvsp.c and its length checked against the
 * copy (8 <= len, msg_len == len); each field inside is checked against
 * len before it is used. A request we refuse or cannot parse is
 * answered with the status a real RNDIS device gives, and logged.
 *
 * What Linux 6.1 sends (rndis_filter_device_add, _open, set_multicast,
 * netvsc_set_mac_addr), and what it gets:
 *  - INIT; QUERY MAXIMUM_FRAME_SIZE, PERMANENT_ADDRESS, FRIENDLY_NAME
 *    (not supported: "name not set"), TCP_OFFLOAD_HARDWARE_CAPABILITIES
 *    (none), SET TCP_OFFLOAD_PARAMETERS (must succeed, or Linux drops
 *    the device; it only turns things off), QUERY MEDIA_CONNECT_STATUS,
 *    and from NVSP 5 on LINK_SPEED and RECEIVE_SCALE_CAPABILITIES (not
 *    supported: one queue);
 *  - SET CURRENT_PACKET_FILTER: DIRECTED | BROADCAST | ALL_MULTICAST at
 *    open, PROMISCUOUS, 0 at close. Linux never sets a multicast list:
 *    any joined group makes it ask for ALL_MULTICAST. We keep a list
 *    all the same, as an 802.3 device does, for a guest that sets
 *    MULTICAST with OID_802_3_MULTICAST_LIST;
 *  - SET RNDIS_CONFIG_PARAMETER "NetworkAddress" on `ip link set
 *    address`: refused unless the nic allows MAC changes (partcfg.h:
 *    macchange), as Hyper-V's "MAC address spoofing" setting; a refusal
 *    makes netvsc_set_mac_addr fail with EIO and keep its address.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "netvsp_rndis.h"

#define ETH_ALEN        6u
/* Longest parameter name we read: "NetworkAddress" is 14. */
#define PARAM_NAME_MAX  32u

static const char network_address[] = "NetworkAddress";

_Static_assert(RNDIS_HEADER_SIZE + sizeof(struct rndis_query_complete) +
	       NETVSP_MCAST_MAX * ETH_ALEN <= NETVSP_REPLY_MAX,
	       "a QUERY_C with the whole multicast list fits a reply slot");
_Static_assert(NETVSP_MCAST_MAX * ETH_ALEN >= sizeof(struct ndis_offload),
	       "query_value's buffer holds the offload caps");

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* [off, off + n) within len bytes, overflow-safe. */
static bool within(uint32_t off, uint32_t n, uint32_t len)
{
	return off <= len && n <= len - off;
}

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a, b, ETH_ALEN);
}

void netvsp_rndis_reset(struct netvsp *sp)
{
	sp->filter = 0;
	sp->mcast_count = 0;
	sp->link_told = false;
	sp->indicate = false;
}

bool netvsp_filter_pass(const struct netvsp *sp, const uint8_t *dst)
{
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t f = sp->filter;

	if (f & NDIS_PACKET_TYPE_PROMISCUOUS)
		return true;
	if (mac_eq(dst, bcast))
		return f & NDIS_PACKET_TYPE_BROADCAST;
	if (dst[0] & 1) {
		if (f & NDIS_PACKET_TYPE_ALL_MULTICAST)
			return true;
		if (!(f & NDIS_PACKET_TYPE_MULTICAST))
			return false;
		for (uint32_t i = 0; i < sp->mcast_count; i++)
			if (mac_eq(dst, sp->mcast[i]))
				return true;
		return false;
	}
	return (f & NDIS_PACKET_TYPE_DIRECTED) && mac_eq(dst, sp->mac);
}

/* ---- INIT ---------------------------------------------------------------- */

static void rndis_init(struct netvsp *sp, const uint8_t *p)
{
	struct rndis_initialize_complete c = {
		.req_id = get32(p + RNDIS_HEADER_SIZE),
		.status = RNDIS_STATUS_SUCCESS,
		.major_ver = RNDIS_MAJOR_VERSION,
		.minor_ver = RNDIS_MINOR_VERSION,
		.dev_flags = RNDIS_DF_CONNECTIONLESS,
		.medium = RNDIS_MEDIUM_802_3,
		/* One message per SEND_RNDIS_PKT: Linux then never batches
		 * frames into a section (its max_pkt). */
		.max_pkt_per_msg = 1,
		.max_xfer_size = NETVSP_MAX_MSG,
		.pkt_alignment_factor = 3,      /* 8 bytes */
	};

	/* Also a restart: a second INIT starts the device over. The
	 * current address stays (Linux does not set it again after its
	 * detach/attach for an MTU change, and keeps using it). */
	sp->rndis = NETVSP_RNDIS_INITIALIZED;
	netvsp_rndis_reset(sp);
	netvsp_queue_reply(sp, RNDIS_MSG_INIT_C, &c, sizeof(c), NULL, 0);
}

/* ---- QUERY --------------------------------------------------------------- */

/* No offload at all, in the revision Linux asks for its NVSP version (it
 * refuses the device on a failed query): its length. */
static int offload_caps(const struct netvsp *sp, uint8_t *val)
{
	struct ndis_offload caps;

	memset(&caps, 0, sizeof(caps));
	caps.header.type = NDIS_OBJECT_TYPE_OFFLOAD;
	if (sp->version >= NVSP_PROTOCOL_VERSION_5) {
		caps.header.revision = NDIS_OFFLOAD_PARAMETERS_REVISION_3;
		caps.header.size = NDIS_OFFLOAD_SIZE;
	} else if (sp->version >= NVSP_PROTOCOL_VERSION_4) {
		caps.header.revision = NDIS_OFFLOAD_PARAMETERS_REVISION_2;
		caps.header.size = NDIS_OFFLOAD_SIZE_6_1;
	} else {
		caps.header.revision = NDIS_OFFLOAD_PARAMETERS_REVISION_1;
		caps.header.size = NDIS_OFFLOAD_SIZE_6_0;
	}
	memcpy(val, &caps, caps.header.size);
	return caps.header.size;
}

/* The value of a QUERY for oid into val (NETVSP_MCAST_MAX * 6 bytes):
 * its length, or -1 when we do not support the OID. */
static int query_value(struct netvsp *sp, uint32_t oid, uint8_t *val)
{
	uint32_t v;

	switch (oid) {
	case RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE:  /* without the header: the MTU */
	case RNDIS_OID_GEN_MAXIMUM_LOOKAHEAD:
	case RNDIS_OID_GEN_CURRENT_LOOKAHEAD:
		v = NETVSP_MTU;
		break;
	case RNDIS_OID_GEN_MAXIMUM_TOTAL_SIZE:
		v = NETVSP_FRAME_MAX;
		break;
	case RNDIS_OID_GEN_LINK_SPEED:
		v = NETVSP_LINK_SPEED;
		break;
	case RNDIS_OID_GEN_MEDIA_CONNECT_STATUS:
		v = sp->link_up ? RNDIS_MEDIA_STATE_CONNECTED : RNDIS_MEDIA_STATE_DISCONNECTED;
		break;
	case RNDIS_OID_GEN_MEDIA_SUPPORTED:
	case RNDIS_OID_GEN_MEDIA_IN_USE:
		v = RNDIS_MEDIUM_802_3;
		break;
	case RNDIS_OID_GEN_MAXIMUM_SEND_PACKETS:
		v = 1;
		break;
	case RNDIS_OID_GEN_CURRENT_PACKET_FILTER:
		v = sp->filter;
		break;
	case RNDIS_OID_802_3_MAXIMUM_LIST_SIZE:
		v = NETVSP_MCAST_MAX;
		break;
	case RNDIS_OID_802_3_MULTICAST_LIST:
		memcpy(val, sp->mcast, sp->mcast_count * ETH_ALEN);
		return (int)(sp->mcast_count * ETH_ALEN);
	case RNDIS_OID_802_3_PERMANENT_ADDRESS:
		memcpy(val, sp->perm_mac, ETH_ALEN);
		return ETH_ALEN;
	case RNDIS_OID_802_3_CURRENT_ADDRESS:
		memcpy(val, sp->mac, ETH_ALEN);
		return ETH_ALEN;
	case OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES:
		return offload_caps(sp, val);
	default:
		/* Friendly name, RSS capabilities, the set-only OIDs and the
		 * rest: Linux takes an empty answer as "not set". */
		return -1;
	}
	memcpy(val, &v, sizeof(v));
	return (int)sizeof(v);
}

/* Whether a QUERY/SET's information buffer lies within the len-byte
 * message (offsets are from req_id, right after the header). */
static bool info_in_message(const struct rndis_query_request *q, uint32_t len)
{
	if (!q->info_buflen)
		return true;
	return q->info_buf_offset >= sizeof(*q) &&
	       within(q->info_buf_offset, q->info_buflen, len - RNDIS_HEADER_SIZE);
}

static void rndis_query(struct netvsp *sp, const uint8_t *p, uint32_t len)
{
	struct rndis_query_request q;
	struct rndis_query_complete c = { .info_buf_offset = sizeof(c) };
	uint8_t val[NETVSP_MCAST_MAX * ETH_ALEN];
	int n = 0;

	memcpy(&q, p + RNDIS_HEADER_SIZE, sizeof(q));
	c.req_id = q.req_id;
	if (!info_in_message(&q, len)) {
		netvsp_reject(sp, "QUERY 0x%x: info buffer %u at %u out of the message",
			      q.oid, q.info_buflen, q.info_buf_offset);
		c.status = RNDIS_STATUS_INVALID_DATA;
	} else if ((n = query_value(sp, q.oid, val)) < 0) {
		c.status = RNDIS_STATUS_NOT_SUPPORTED;
		n = 0;
	}
	c.info_buflen = (uint32_t)n;
	netvsp_queue_reply(sp, RNDIS_MSG_QUERY_C, &c, sizeof(c), val, (uint32_t)n);
}

/* ---- SET: each returns the RNDIS status for val[0..len) ------------------ */

static uint32_t set_packet_filter(struct netvsp *sp, const uint8_t *val, uint32_t len)
{
	if (len < 4)
		return RNDIS_STATUS_INVALID_LENGTH;
	sp->filter = get32(val);
	/* The first filter opens the device: tell the link state once
	 * (Linux's carrier follows it). */
	if (sp->filter && !sp->link_told && sp->rndis == NETVSP_RNDIS_INITIALIZED) {
		sp->link_told = true;
		sp->indicate = true;
	}
	return RNDIS_STATUS_SUCCESS;
}

/* A whole new list, as NDIS sets it (an empty one clears it); a refused
 * one leaves the old list in place. */
static uint32_t set_multicast_list(struct netvsp *sp, const uint8_t *val, uint32_t len)
{
	uint32_t n = len / ETH_ALEN;

	if (len % ETH_ALEN) {
		netvsp_reject(sp, "multicast list of %u bytes: not whole addresses", len);
		return RNDIS_STATUS_INVALID_LENGTH;
	}
	if (n > NETVSP_MCAST_MAX) {
		netvsp_reject(sp, "multicast list of %u addresses: more than %u", n,
			      NETVSP_MCAST_MAX);
		return RNDIS_STATUS_MULTICAST_FULL;
	}
	for (uint32_t i = 0; i < n; i++)
		if (!(val[i * ETH_ALEN] & 1)) {
			netvsp_reject(sp, "multicast list entry %u is a unicast address", i);
			return RNDIS_STATUS_INVALID_DATA;
		}
	memcpy(sp->mcast, val, len);
	sp->mcast_count = n;
	return RNDIS_STATUS_SUCCESS;
}

/* OID_TCP_OFFLOAD_PARAMETERS: turning off, or leaving, what we never
 * offered is fine; turning anything on is not. */
static uint32_t set_offload_params(struct netvsp *sp, const uint8_t *val, uint32_t len)
{
	static const uint8_t fields[] = {  /* 0 no change, 1 off, more: on */
		offsetof(struct ndis_offload_params, ip_v4_csum),
		offsetof(struct ndis_offload_params, tcp_ip_v4_csum),
		offsetof(struct ndis_offload_params, udp_ip_v4_csum),
		offsetof(struct ndis_offload_params, tcp_ip_v6_csum),
		offsetof(struct ndis_offload_params, udp_ip_v6_csum),
		offsetof(struct ndis_offload_params, lso_v1),
		offsetof(struct ndis_offload_params, ip_sec_v1),
		offsetof(struct ndis_offload_params, lso_v2_ipv4),
		offsetof(struct ndis_offload_params, lso_v2_ipv6),
		offsetof(struct ndis_offload_params, tcp_connection_ip_v4),
		offsetof(struct ndis_offload_params, tcp_connection_ip_v6),
		offsetof(struct ndis_offload_params, ip_sec_v2),
		offsetof(struct ndis_offload_params, ip_sec_v2_ip_v4),
		offsetof(struct ndis_offload_params, rsc_ip_v4),
		offsetof(struct ndis_offload_params, rsc_ip_v6),
	};
	const uint32_t min = offsetof(struct ndis_offload_params, flags);
	uint8_t b[sizeof(struct ndis_offload_params)] = { 0 };
	struct ndis_object_header h;
	uint32_t n;

	if (len < min) {
		netvsp_reject(sp, "offload parameters of %u bytes", len);
		return RNDIS_STATUS_INVALID_LENGTH;
	}
	memcpy(&h, val, sizeof(h));
	if (h.type != NDIS_OBJECT_TYPE_DEFAULT || h.size < min || h.size > len) {
		netvsp_reject(sp, "offload parameters: object type 0x%x, size %u in %u bytes",
			      h.type, h.size, len);
		return RNDIS_STATUS_INVALID_DATA;
	}
	n = h.size < sizeof(b) ? h.size : (uint32_t)sizeof(b);
	memcpy(b, val, n);      /* fields past the object's size: no change */
	for (unsigned i = 0; i < sizeof(fields); i++)
		if (b[fields[i]] > NDIS_OFFLOAD_PARAMETERS_DISABLED) {
			netvsp_reject(sp, "offload parameters turn on offload %u, never offered", i);
			return RNDIS_STATUS_NOT_SUPPORTED;
		}
	if (b[offsetof(struct ndis_offload_params, encapsulated_packet_task_offload)] ==
	    NDIS_OFFLOAD_SET_ON) {
		netvsp_reject(sp, "offload parameters turn on encapsulation offload, never offered");
		return RNDIS_STATUS_NOT_SUPPORTED;
	}
	return RNDIS_STATUS_SUCCESS;
}

/* A UTF-16LE string of len bytes at s, printable ASCII only, into out
 * (cap bytes, NUL-terminated); one NUL unit may end it. false if it is
 * anything else or too long. */
static bool utf16_ascii(const uint8_t *s, uint32_t len, char *out, uint32_t cap)
{
	uint32_t n = len / 2;

	if (len % 2)
		return false;
	if (n && s[2 * n - 2] == 0 && s[2 * n - 1] == 0)
		n--;
	if (n >= cap)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		if (s[2 * i + 1] || s[2 * i] < 0x20 || s[2 * i] > 0x7e)
			return false;
		out[i] = (char)s[2 * i];
	}
	out[n] = 0;
	return true;
}

static bool ascii_caseeq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if ((*a | 0x20) != (*b | 0x20))
			return false;
	return *a == *b;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Exactly 12 hex digits, either case, no separators (Windows'
 * NetworkAddress; Linux prints it with %pm). */
static bool parse_network_address(const char *s, uint8_t mac[ETH_ALEN])
{
	if (strlen(s) != 2 * ETH_ALEN)
		return false;
	for (unsigned i = 0; i < ETH_ALEN; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

#define MAC_FMT "%02x:%02x:%02x:%02x:%02x:%02x"
#define MAC_ARGS(m) (m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]

/* "NetworkAddress": the guest's new address, by the nic's policy. */
static uint32_t set_network_address(struct netvsp *sp,
				    const struct rndis_config_parameter_info *ci,
				    const uint8_t *val)
{
	static const uint8_t zero[ETH_ALEN];
	char s[2 * ETH_ALEN + 2];
	uint8_t mac[ETH_ALEN];

	if (ci->type != RNDIS_CONFIG_PARAM_TYPE_STRING ||
	    !utf16_ascii(val + ci->value_offset, ci->value_length, s, sizeof(s)) ||
	    !parse_network_address(s, mac)) {
		netvsp_reject(sp, "NetworkAddress (type %u, %u bytes) is not 12 hex digits",
			      ci->type, ci->value_length);
		return RNDIS_STATUS_INVALID_DATA;
	}
	if ((mac[0] & 1) || mac_eq(mac, zero)) {
		netvsp_reject(sp, "NetworkAddress " MAC_FMT ": not a unicast address",
			      MAC_ARGS(mac));
		return RNDIS_STATUS_INVALID_DATA;
	}
	if (mac_eq(mac, sp->mac))
		return RNDIS_STATUS_SUCCESS;    /* no change */
	if (!sp->set_mac) {
		netvsp_reject(sp, "MAC change to " MAC_FMT " refused: the nic does not "
			      "allow it (config: macchange)", MAC_ARGS(mac));
		return RNDIS_STATUS_NOT_SUPPORTED;
	}
	if (sp->set_mac(sp->ctx, mac)) {
		netvsp_reject(sp, "MAC change to " MAC_FMT " refused by the switch",
			      MAC_ARGS(mac));
		return RNDIS_STATUS_FAILURE;
	}
	netvsp_log(sp, "MAC address " MAC_FMT " -> " MAC_FMT, MAC_ARGS(sp->mac),
		   MAC_ARGS(mac));
	memcpy(sp->mac, mac, ETH_ALEN);
	sp->stats.mac_changes++;
	return RNDIS_STATUS_SUCCESS;
}

/* RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER: every offset and length of the
 * parameter checked against the len bytes of val before it is read. */
static uint32_t set_config_parameter(struct netvsp *sp, const uint8_t *val, uint32_t len)
{
	struct rndis_config_parameter_info ci;
	char name[PARAM_NAME_MAX];

	if (len < sizeof(ci)) {
		netvsp_reject(sp, "config parameter of %u bytes", len);
		return RNDIS_STATUS_INVALID_LENGTH;
	}
	memcpy(&ci, val, sizeof(ci));
	if (ci.name_offset < sizeof(ci) || ci.value_offset < sizeof(ci) ||
	    !within(ci.name_offset, ci.name_length, len) ||
	    !within(ci.value_offset, ci.value_length, len)) {
		netvsp_reject(sp, "config parameter: name %u bytes at %u, value %u at %u, "
			      "in %u bytes", ci.name_length, ci.name_offset, ci.value_length,
			      ci.value_offset, len);
		return RNDIS_STATUS_INVALID_DATA;
	}
	if (!utf16_ascii(val + ci.name_offset, ci.name_length, name, sizeof(name))) {
		netvsp_reject(sp, "config parameter name (%u bytes) is not a short ASCII string",
			      ci.name_length);
		return RNDIS_STATUS_INVALID_DATA;
	}
	if (!ascii_caseeq(name, network_address)) {
		netvsp_reject(sp, "config parameter %s not supported", name);
		return RNDIS_STATUS_NOT_SUPPORTED;
	}
	return set_network_address(sp, &ci, val);
}

static void rndis_set(struct netvsp *sp, const uint8_t *p, uint32_t len)
{
	struct rndis_set_request q;
	struct rndis_set_complete c;
	const uint8_t *val;

	memcpy(&q, p + RNDIS_HEADER_SIZE, sizeof(q));
	c.req_id = q.req_id;
	if (!info_in_message(&q, len)) {
		netvsp_reject(sp, "SET 0x%x: info buffer %u at %u out of the message",
			      q.oid, q.info_buflen, q.info_buf_offset);
		c.status = RNDIS_STATUS_INVALID_DATA;
		netvsp_queue_reply(sp, RNDIS_MSG_SET_C, &c, sizeof(c), NULL, 0);
		return;
	}
	/* Only now is the offset known to lie in the message. */
	val = p + RNDIS_HEADER_SIZE + (q.info_buflen ? q.info_buf_offset : 0);
	if (q.oid == RNDIS_OID_GEN_CURRENT_PACKET_FILTER) {
		c.status = set_packet_filter(sp, val, q.info_buflen);
	} else if (q.oid == RNDIS_OID_802_3_MULTICAST_LIST) {
		c.status = set_multicast_list(sp, val, q.info_buflen);
	} else if (q.oid == OID_TCP_OFFLOAD_PARAMETERS) {
		c.status = set_offload_params(sp, val, q.info_buflen);
	} else if (q.oid == RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER) {
		c.status = set_config_parameter(sp, val, q.info_buflen);
	} else {
		c.status = RNDIS_STATUS_NOT_SUPPORTED;
	}
	netvsp_queue_reply(sp, RNDIS_MSG_SET_C, &c, sizeof(c), NULL, 0);
}

/* ---- the message ------------------------------------------------------------ */

int netvsp_rndis_control(struct netvsp *sp, const uint8_t *p, uint32_t len)
{
	uint32_t type = get32(p);
	static const uint32_t min_len[] = {
		[RNDIS_MSG_INIT] = sizeof(struct rndis_initialize_request),
		[RNDIS_MSG_HALT] = 4,
		[RNDIS_MSG_QUERY] = sizeof(struct rndis_query_request),
		[RNDIS_MSG_SET] = sizeof(struct rndis_set_request),
		[RNDIS_MSG_RESET] = sizeof(struct rndis_reset_request),
		[RNDIS_MSG_KEEPALIVE] = sizeof(struct rndis_keepalive_request),
	};

	if (type >= sizeof(min_len) / sizeof(min_len[0]) || !min_len[type]) {
		/* Completions, indications, CoNDIS: nothing a host takes. */
		netvsp_reject(sp, "RNDIS message type 0x%x ignored", type);
		return 0;
	}
	if (len - RNDIS_HEADER_SIZE < min_len[type])
		return netvsp_close_channel(sp, "RNDIS control message truncated");
	if (type == RNDIS_MSG_HALT) {
		sp->rndis = NETVSP_RNDIS_UNINITIALIZED;
		netvsp_rndis_reset(sp);
		return 0;
	}
	if (sp->reply_count == NETVSP_REPLY_SLOTS)
		return 1;
	switch (type) {
	case RNDIS_MSG_INIT:
		rndis_init(sp, p);
		break;
	case RNDIS_MSG_QUERY:
		rndis_query(sp, p, len);
		break;
	case RNDIS_MSG_SET:
		rndis_set(sp, p, len);
		break;
	case RNDIS_MSG_RESET: {
		/* Nothing is in flight to abort; addresses and the
		 * multicast list stay (addressing_reset 0). */
		struct rndis_reset_complete c = { RNDIS_STATUS_SUCCESS, 0 };

		netvsp_queue_reply(sp, RNDIS_MSG_RESET_C, &c, sizeof(c), NULL, 0);
		break;
	}
	default: {      /* RNDIS_MSG_KEEPALIVE */
		struct rndis_keepalive_complete c = {
			get32(p + RNDIS_HEADER_SIZE), RNDIS_STATUS_SUCCESS,
		};

		netvsp_queue_reply(sp, RNDIS_MSG_KEEPALIVE_C, &c, sizeof(c), NULL, 0);
		break;
	}
	}
	return 0;
}
