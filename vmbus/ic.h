/*
 * Hyper-V integration services (ICs) framing: heartbeat and shutdown, both
 * halves, on VMBus packet payloads (whatever the ring code copied out; no
 * rings here). Layouts and values match Linux's include/linux/hyperv.h
 * and drivers/hv/hv_util.c, so a Linux guest's hv_utils answers our host
 * half and our guest half answers Hyper-V.
 *
 * A message is a pipe header, an icmsg_hdr, then type-specific data:
 *   host  NEGOTIATE(framework versions, message versions)
 *   guest NEGOTIATE response: one chosen of each (vercnt 1/1), or 0/0
 *   host  HEARTBEAT(seq)          guest: seq + 1
 *   host  SHUTDOWN(flags, reason) guest: status, then powers off
 * The guest answers in a copy of the request (flags TRANSACTION|RESPONSE),
 * as Linux does, so the pipe header and transaction id come back as sent.
 *
 * The wire layouts live here, not in include/isovisor, because only
 * vmbus/ uses them so far; move them when a second user appears.
 */
#ifndef VMBUS_IC_H
#define VMBUS_IC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isovisor/vmbus.h>

/* Versions as major << 16 | minor (Linux's int encoding). */
#define IC_VERSION(maj, min)            ((((uint32_t)(maj)) << 16) | (min))
#define IC_FW_VERSION_1_0               IC_VERSION(1, 0)        /* WS2008 */
#define IC_FW_VERSION_3_0               IC_VERSION(3, 0)
#define IC_HB_VERSION_1_0               IC_VERSION(1, 0)
#define IC_HB_VERSION_3_0               IC_VERSION(3, 0)
#define IC_SD_VERSION_1_0               IC_VERSION(1, 0)
#define IC_SD_VERSION_3_0               IC_VERSION(3, 0)
#define IC_SD_VERSION_3_1               IC_VERSION(3, 1)        /* adds reboot */
#define IC_SD_VERSION_3_2               IC_VERSION(3, 2)

/* icmsgtype */
#define ICMSGTYPE_NEGOTIATE             0
#define ICMSGTYPE_HEARTBEAT             1
#define ICMSGTYPE_KVPEXCHANGE           2
#define ICMSGTYPE_SHUTDOWN              3
#define ICMSGTYPE_TIMESYNC              4
#define ICMSGTYPE_VSS                   5

/* icflags */
#define ICMSGHDRFLAG_TRANSACTION        1
#define ICMSGHDRFLAG_REQUEST            2
#define ICMSGHDRFLAG_RESPONSE           4

/* status (HRESULTs) */
#define IC_S_OK                         0x00000000u
#define IC_E_FAIL                       0x80004005u     /* Linux HV_E_FAIL */

/* Linux's bound on either version count of a NEGOTIATE request. */
#define IC_VERSION_NEGOTIATION_MAX_VER_COUNT    100
/* Our own version lists are never longer than this. */
#define IC_MAX_OFFERED                  8

/* The pipe header's flags we send: one whole data message. Guests do not
 * read it (Linux and FreeBSD echo it back untouched). */
#define IC_PIPE_FLAG_DATA               1

/* shutdown_msg_data.flags: 0 shut down, 2 reboot, 4 hibernate; | 1 = force */
#define IC_SHUTDOWN_FLAG_FORCE          1
#define IC_SHUTDOWN_FLAG_REBOOT         2
#define IC_SHUTDOWN_FLAG_HIBERNATE      4

struct vmbuspipe_hdr {
	uint32_t flags;
	uint32_t msgsize;               /* bytes after this header */
} __attribute__((packed));

struct ic_version {
	uint16_t major;
	uint16_t minor;
} __attribute__((packed));

struct icmsg_hdr {
	struct ic_version icverframe;
	uint16_t icmsgtype;
	struct ic_version icvermsg;
	uint16_t icmsgsize;             /* bytes of data after this header */
	uint32_t status;
	uint8_t ictransaction_id;
	uint8_t icflags;
	uint8_t reserved[2];
} __attribute__((packed));

struct icmsg_negotiate {
	uint16_t icframe_vercnt;
	uint16_t icmsg_vercnt;
	uint32_t reserved;
	struct ic_version icversion_data[];     /* framework versions, then message */
} __attribute__((packed));

struct heartbeat_msg_data {
	uint64_t seq_num;
	uint32_t reserved[8];
} __attribute__((packed));

struct shutdown_msg_data {
	uint32_t reason_code;
	uint32_t timeout_seconds;
	uint32_t flags;
	uint8_t display_message[2048];
} __attribute__((packed));

/* Where the data starts: both headers (Linux's ICMSG_HDR). */
#define ICMSG_HDR       (sizeof(struct vmbuspipe_hdr) + sizeof(struct icmsg_hdr))

_Static_assert(sizeof(struct vmbuspipe_hdr) == 8, "pipe header");
_Static_assert(sizeof(struct ic_version) == 4, "ic version");
_Static_assert(sizeof(struct icmsg_hdr) == 20, "icmsg header");
_Static_assert(sizeof(struct icmsg_negotiate) == 8, "icmsg negotiate");
_Static_assert(sizeof(struct heartbeat_msg_data) == 40, "heartbeat data");
_Static_assert(sizeof(struct shutdown_msg_data) == 2060, "shutdown data");

/* Packet sizes of the requests the host half builds. */
#define IC_HEARTBEAT_PKT_SIZE   (ICMSG_HDR + sizeof(struct heartbeat_msg_data))
#define IC_SHUTDOWN_PKT_SIZE    (ICMSG_HDR + sizeof(struct shutdown_msg_data))
#define IC_NEGOTIATE_PKT_SIZE(nfw, nmsg) \
	(ICMSG_HDR + sizeof(struct icmsg_negotiate) + \
	 ((size_t)(nfw) + (nmsg)) * sizeof(struct ic_version))

/* Device classes (offer if_type), in Hyper-V's mixed-endian GUID byte
 * order: the first three fields little-endian, the last eight as written.
 * heartbeat 57164f39-9115-4e78-ab55-382f3bd5422d,
 * shutdown  0e0b6031-5213-4934-818b-38d90ced39db. */
extern const struct vmbus_guid ic_heartbeat_guid;
extern const struct vmbus_guid ic_shutdown_guid;

enum ic_service {
	IC_SERVICE_HEARTBEAT,
	IC_SERVICE_SHUTDOWN,
};

/* ---- host half (root or hypervisor; guest responses are untrusted) ---- */

struct ic_host {
	uint8_t service;                /* enum ic_service */
	bool negotiated;
	uint32_t fw_version, msg_version;       /* chosen by the guest */
	uint8_t next_tid;
	/* the one request in flight */
	bool pending;
	uint8_t pending_tid;
	uint16_t pending_type;
	uint64_t pending_seq;
	uint8_t nfw, nmsg;
	uint32_t fw_offered[IC_MAX_OFFERED], msg_offered[IC_MAX_OFFERED];
};

/* What a well-formed guest response says. */
struct ic_response {
	uint16_t type;                  /* ICMSGTYPE_* */
	uint32_t status;
	uint32_t fw_version, msg_version;       /* NEGOTIATE: 0 if no match */
	uint64_t seq;                   /* HEARTBEAT: the guest's seq_num */
};

void ic_host_init(struct ic_host *h, enum ic_service service);

/*
 * Request builders: each writes one packet to buf and returns its length,
 * or 0 if cap is too small or the request is not allowed yet (HEARTBEAT
 * and SHUTDOWN need a successful negotiation; SHUTDOWN needs the shutdown
 * service, HEARTBEAT the heartbeat one). The packet becomes the one
 * request in flight; an unanswered one is simply replaced.
 */
size_t ic_host_negotiate(struct ic_host *h, void *buf, size_t cap);
/* The same, offering only the given versions (newest first, <= 8 each). */
size_t ic_host_negotiate_versions(struct ic_host *h, const uint32_t *fw, unsigned nfw,
				  const uint32_t *msg, unsigned nmsg, void *buf, size_t cap);
size_t ic_host_heartbeat(struct ic_host *h, uint64_t seq, void *buf, size_t cap);
size_t ic_host_shutdown(struct ic_host *h, uint32_t flags, uint32_t reason,
			void *buf, size_t cap);

/*
 * Checks a guest's response packet against the request in flight: both
 * headers present, pipe msgsize and icmsgsize inside the packet, the
 * response flag, the transaction id and type we sent; NEGOTIATE: version
 * counts 1/1 (or 0/0: no common version) and versions we offered;
 * HEARTBEAT: seq_num present and equal to ours + 1. Returns 0 and fills
 * *out (and records a successful negotiation), or -1 with *err (if not
 * NULL) set to a static reason; the request then stays in flight.
 */
int ic_host_parse(struct ic_host *h, const void *pkt, size_t len, struct ic_response *out,
		  const char **err);

/* ---- guest half (the host's requests are untrusted) -------------------- */

enum ic_action {
	IC_ACTION_NONE,
	IC_ACTION_POWER_OFF,            /* after the response is sent */
	IC_ACTION_REBOOT,
};

struct ic_guest {
	uint8_t service;                /* enum ic_service */
	bool negotiated;
	uint32_t fw_version, msg_version;
};

void ic_guest_init(struct ic_guest *g, enum ic_service service);

/*
 * Answers one host request: copies req[0..len) to resp (cap bytes) and
 * turns it into the response there, as Linux's hv_utils does. Returns the
 * response length (len, or 44 for a NEGOTIATE shorter than that), or 0 if
 * the request is dropped unanswered (shorter than the headers or than its
 * type's data, icmsgsize past the packet, already a response, cap too
 * small). *action tells the caller what to do once the response is sent.
 * Negotiation picks the highest framework and message versions both sides
 * know, like Linux's vmbus_prep_negotiate_resp(); an unknown or foreign
 * message type is answered with IC_E_FAIL.
 */
size_t ic_guest_respond(struct ic_guest *g, const void *req, size_t len, void *resp,
			size_t cap, enum ic_action *action);

#endif
