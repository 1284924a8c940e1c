/*
 * VMBus channel-management wire formats: the messages a guest's VMBus
 * driver and the host's VMBus server exchange over SynIC messages
 * (HvCallPostMessage to a message connection id one way, a SynIC message
 * to the guest's VMBus SINT the other way). Layouts and values match
 * Linux's include/linux/hyperv.h so an unmodified Linux guest can talk to
 * isovisor's host side; every layout is packed and size-checked below.
 *
 * Each message fits one SynIC message payload (HV_MESSAGE_PAYLOAD_BYTES,
 * 240) and starts with struct vmbus_channel_message_header.
 */
#ifndef ISOVISOR_VMBUS_H
#define ISOVISOR_VMBUS_H

#include <stdint.h>
#include <isovisor/hvtlfs.h>

/* ---- protocol versions: major << 16 | minor ----------------------------- */
#define VMBUS_MAKE_VERSION(maj, min)    ((((uint32_t)(maj)) << 16) | (min))
#define VMBUS_VERSION_WS2008            VMBUS_MAKE_VERSION(0, 13)
#define VMBUS_VERSION_WIN7              VMBUS_MAKE_VERSION(1, 1)
#define VMBUS_VERSION_WIN8              VMBUS_MAKE_VERSION(2, 4)
#define VMBUS_VERSION_WIN8_1            VMBUS_MAKE_VERSION(3, 0)
#define VMBUS_VERSION_WIN10             VMBUS_MAKE_VERSION(4, 0)
#define VMBUS_VERSION_WIN10_V4_1        VMBUS_MAKE_VERSION(4, 1)
#define VMBUS_VERSION_WIN10_V5          VMBUS_MAKE_VERSION(5, 0)
#define VMBUS_VERSION_WIN10_V5_1        VMBUS_MAKE_VERSION(5, 1)
#define VMBUS_VERSION_WIN10_V5_2        VMBUS_MAKE_VERSION(5, 2)
#define VMBUS_VERSION_WIN10_V5_3        VMBUS_MAKE_VERSION(5, 3)

/*
 * Connection ids and the SINT. A guest negotiating 5.0 or newer posts
 * INITIATE_CONTACT to VMBUS_MESSAGE_CONNECTION_ID_4, names the SINT it
 * wants host messages on (msg_sint), and posts every later message to the
 * msg_conn_id the host returns in VERSION_RESPONSE. Older guests post
 * everything to VMBUS_MESSAGE_CONNECTION_ID, get host messages on
 * VMBUS_MESSAGE_SINT and pass an interrupt page instead of msg_sint.
 */
#define VMBUS_MESSAGE_CONNECTION_ID     1
#define VMBUS_MESSAGE_CONNECTION_ID_4   4
#define VMBUS_MESSAGE_PORT_ID           1
#define VMBUS_EVENT_CONNECTION_ID       2
#define VMBUS_EVENT_PORT_ID             2
#define VMBUS_MONITOR_CONNECTION_ID     3
#define VMBUS_MONITOR_PORT_ID           3
#define VMBUS_MESSAGE_SINT              2

#define VMBUS_CHANNEL_MESSAGE_MAX       HV_MESSAGE_PAYLOAD_BYTES
#define VMBUS_PAGE_SIZE                 4096u
#define VMBUS_PAGE_SHIFT                12

/* ---- message types ---------------------------------------------------- */
enum vmbus_channel_message_type {
	CHANNELMSG_INVALID                = 0,
	CHANNELMSG_OFFERCHANNEL           = 1,
	CHANNELMSG_RESCIND_CHANNELOFFER   = 2,
	CHANNELMSG_REQUESTOFFERS          = 3,
	CHANNELMSG_ALLOFFERS_DELIVERED    = 4,
	CHANNELMSG_OPENCHANNEL            = 5,
	CHANNELMSG_OPENCHANNEL_RESULT     = 6,
	CHANNELMSG_CLOSECHANNEL           = 7,
	CHANNELMSG_GPADL_HEADER           = 8,
	CHANNELMSG_GPADL_BODY             = 9,
	CHANNELMSG_GPADL_CREATED          = 10,
	CHANNELMSG_GPADL_TEARDOWN         = 11,
	CHANNELMSG_GPADL_TORNDOWN         = 12,
	CHANNELMSG_RELID_RELEASED         = 13,
	CHANNELMSG_INITIATE_CONTACT       = 14,
	CHANNELMSG_VERSION_RESPONSE       = 15,
	CHANNELMSG_UNLOAD                 = 16,
	CHANNELMSG_UNLOAD_RESPONSE        = 17,
	CHANNELMSG_18                     = 18,   /* unused by Linux */
	CHANNELMSG_19                     = 19,   /* unused by Linux */
	CHANNELMSG_20                     = 20,   /* unused by Linux */
	CHANNELMSG_TL_CONNECT_REQUEST     = 21,   /* hv_sock */
	CHANNELMSG_MODIFYCHANNEL          = 22,   /* since 4.1 */
	CHANNELMSG_TL_CONNECT_RESULT      = 23,
	CHANNELMSG_MODIFYCHANNEL_RESPONSE = 24,   /* since 5.3 */
	CHANNELMSG_COUNT
};

struct vmbus_channel_message_header {
	uint32_t msgtype;
	uint32_t padding;
} __attribute__((packed));

/* A GUID in its wire byte order (Linux guid_t). */
struct vmbus_guid {
	uint8_t b[16];
};

/* ---- offers ----------------------------------------------------------- */
#define VMBUS_MAX_USER_DEFINED_BYTES        120
#define VMBUS_MAX_PIPE_USER_DEFINED_BYTES   116
#define VMBUS_PIPE_TYPE_BYTE                0x00000000
#define VMBUS_PIPE_TYPE_MESSAGE             0x00000004

/* chn_flags */
#define VMBUS_CHANNEL_ENUMERATE_DEVICE_INTERFACE        0x0001
#define VMBUS_CHANNEL_SERVER_SUPPORTS_TRANSFER_PAGES    0x0002
#define VMBUS_CHANNEL_SERVER_SUPPORTS_GPADLS            0x0004
#define VMBUS_CHANNEL_NAMED_PIPE_MODE                   0x0010
#define VMBUS_CHANNEL_LOOPBACK_OFFER                    0x0100
#define VMBUS_CHANNEL_PARENT_OFFER                      0x0200
#define VMBUS_CHANNEL_REQUEST_MONITORED_NOTIFICATION    0x0400
#define VMBUS_CHANNEL_TLNPI_PROVIDER_OFFER              0x2000

struct vmbus_channel_offer {
	struct vmbus_guid if_type;
	struct vmbus_guid if_instance;
	uint64_t reserved1;
	uint64_t reserved2;
	uint16_t chn_flags;
	uint16_t mmio_megabytes;
	union {
		struct {
			uint8_t user_def[VMBUS_MAX_USER_DEFINED_BYTES];
		} std;
		struct {
			uint32_t pipe_mode;
			uint8_t user_def[VMBUS_MAX_PIPE_USER_DEFINED_BYTES];
		} __attribute__((packed)) pipe;
	} u;
	uint16_t sub_channel_index;             /* since win8 */
	uint16_t reserved3;
} __attribute__((packed));

/* flags byte after monitorid: bit 0 monitor_allocated */
#define VMBUS_OFFER_MONITOR_ALLOCATED       0x01
/* flags16: bit 0 is_dedicated_interrupt */
#define VMBUS_OFFER_DEDICATED_INTERRUPT     0x0001

struct vmbus_channel_offer_channel {
	struct vmbus_channel_message_header header;
	struct vmbus_channel_offer offer;
	uint32_t child_relid;
	uint8_t monitorid;
	uint8_t monitor_flags;          /* monitor_allocated:1, reserved:7 */
	uint16_t interrupt_flags;       /* is_dedicated_interrupt:1, reserved1:15 */
	uint32_t connection_id;         /* the guest signals the host on this */
} __attribute__((packed));

struct vmbus_channel_rescind_offer {
	struct vmbus_channel_message_header header;
	uint32_t child_relid;
} __attribute__((packed));

/* REQUESTOFFERS, ALLOFFERS_DELIVERED, UNLOAD, UNLOAD_RESPONSE: header only. */

/* ---- open / close ----------------------------------------------------- */
struct vmbus_channel_open_channel {
	struct vmbus_channel_message_header header;
	uint32_t child_relid;
	uint32_t openid;
	uint32_t ringbuffer_gpadlhandle;
	uint32_t target_vp;
	/* The guest->host ring starts at page 0 of the ring GPADL; the
	 * host->guest ring starts at this page offset. */
	uint32_t downstream_ringbuffer_pageoffset;
	uint8_t userdata[VMBUS_MAX_USER_DEFINED_BYTES];
} __attribute__((packed));

struct vmbus_channel_open_result {
	struct vmbus_channel_message_header header;
	uint32_t child_relid;
	uint32_t openid;
	uint32_t status;                /* 0 success */
} __attribute__((packed));

struct vmbus_channel_close_channel {
	struct vmbus_channel_message_header header;
	uint32_t child_relid;
} __attribute__((packed));

/* ---- GPADLs ----------------------------------------------------------- */
/*
 * A GPADL_HEADER carries range_buflen bytes of range data: rangecount
 * ranges, each a struct vmbus_gpa_range followed by as many u64 pfns as
 * the range spans (ceil((byte_offset + byte_count) / 4096)). What does not
 * fit in the header message continues, byte for byte, in GPADL_BODY
 * messages of the same gpadl handle.
 */
struct vmbus_gpa_range {
	uint32_t byte_count;
	uint32_t byte_offset;
	/* uint64_t pfn_array[] follows */
} __attribute__((packed));

struct vmbus_channel_gpadl_header {
	struct vmbus_channel_message_header header;
	uint32_t child_relid;
	uint32_t gpadl;
	uint16_t range_buflen;
	uint16_t rangecount;
	/* range data follows */
} __attribute__((packed));

struct vmbus_channel_gpadl_body {
	struct vmbus_channel_message_header header;
	uint32_t msgnumber;
	uint32_t gpadl;
	/* uint64_t pfn[] follows */
} __attribute__((packed));

struct vmbus_channel_gpadl_created {
	struct vmbus_channel_message_header header;
	uint32_t child_relid;
	uint32_t gpadl;
	uint32_t creation_status;       /* 0 success */
} __attribute__((packed));

struct vmbus_channel_gpadl_teardown {
	struct vmbus_channel_message_header header;
	uint32_t child_relid;
	uint32_t gpadl;
} __attribute__((packed));

struct vmbus_channel_gpadl_torndown {
	struct vmbus_channel_message_header header;
	uint32_t gpadl;
} __attribute__((packed));

struct vmbus_channel_relid_released {
	struct vmbus_channel_message_header header;
	uint32_t child_relid;
} __attribute__((packed));

/* ---- connection ------------------------------------------------------- */
struct vmbus_channel_initiate_contact {
	struct vmbus_channel_message_header header;
	uint32_t vmbus_version_requested;
	uint32_t target_vcpu;           /* the VP the host sends messages to */
	union {
		uint64_t interrupt_page;        /* versions < 5.0 */
		struct {                        /* versions >= 5.0 */
			uint8_t msg_sint;
			uint8_t msg_vtl;
			uint8_t reserved[6];
		} __attribute__((packed));
	} __attribute__((packed));
	uint64_t monitor_page1;
	uint64_t monitor_page2;
} __attribute__((packed));

struct vmbus_channel_version_response {
	struct vmbus_channel_message_header header;
	uint8_t version_supported;
	uint8_t connection_state;
	uint16_t padding;
	uint32_t msg_conn_id;           /* meaningful for versions >= 5.0 */
} __attribute__((packed));

/* ---- later additions (check against Linux before use) ------------------ */
struct vmbus_channel_modifychannel {
	struct vmbus_channel_message_header header;
	uint32_t child_relid;
	uint32_t target_vp;
} __attribute__((packed));

struct vmbus_channel_tl_connect_request {
	struct vmbus_channel_message_header header;
	struct vmbus_guid guest_endpoint_id;
	struct vmbus_guid host_service_id;
} __attribute__((packed));

_Static_assert(sizeof(struct vmbus_channel_message_header) == 8, "vmbus header");
_Static_assert(sizeof(struct vmbus_guid) == 16, "guid");
_Static_assert(sizeof(struct vmbus_channel_offer) == 176, "offer");
_Static_assert(sizeof(struct vmbus_channel_offer_channel) == 196, "offer channel");
_Static_assert(sizeof(struct vmbus_channel_rescind_offer) == 12, "rescind");
_Static_assert(sizeof(struct vmbus_channel_open_channel) == 148, "open channel");
_Static_assert(sizeof(struct vmbus_channel_open_result) == 20, "open result");
_Static_assert(sizeof(struct vmbus_channel_close_channel) == 12, "close channel");
_Static_assert(sizeof(struct vmbus_gpa_range) == 8, "gpa range");
_Static_assert(sizeof(struct vmbus_channel_gpadl_header) == 20, "gpadl header");
_Static_assert(sizeof(struct vmbus_channel_gpadl_body) == 16, "gpadl body");
_Static_assert(sizeof(struct vmbus_channel_gpadl_created) == 20, "gpadl created");
_Static_assert(sizeof(struct vmbus_channel_gpadl_teardown) == 16, "gpadl teardown");
_Static_assert(sizeof(struct vmbus_channel_gpadl_torndown) == 12, "gpadl torndown");
_Static_assert(sizeof(struct vmbus_channel_relid_released) == 12, "relid released");
_Static_assert(sizeof(struct vmbus_channel_initiate_contact) == 40, "initiate contact");
_Static_assert(sizeof(struct vmbus_channel_version_response) == 16, "version response");
_Static_assert(sizeof(struct vmbus_channel_modifychannel) == 16, "modify channel");
_Static_assert(sizeof(struct vmbus_channel_tl_connect_request) == 40, "tl connect");
_Static_assert(sizeof(struct vmbus_channel_offer_channel) <= VMBUS_CHANNEL_MESSAGE_MAX,
	       "offer fits one SynIC message");

#endif
