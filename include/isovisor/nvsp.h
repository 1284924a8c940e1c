/*
 * The synthetic network wire format: NVSP, the messages netvsc (the
 * guest's VSC) and netvsp (our VSP) exchange over the network VMBus
 * channel, and the RNDIS messages NVSP carries. Names, values and
 * layouts follow Linux's drivers/net/hyperv/hyperv_net.h and
 * include/linux/rndis.h, so an unmodified hv_netvsc can talk to our
 * netvsp; read them side by side.
 *
 * Protocol, as netvsc drives it (Linux 6.1):
 *   NVSP_MSG_TYPE_INIT once per version, newest first, until one is
 *   answered NVSP_STAT_SUCCESS; NVSP_MSG2_TYPE_SEND_NDIS_CONFIG (v2+) and
 *   NVSP_MSG1_TYPE_SEND_NDIS_VER (no replies); SEND_RECV_BUF and
 *   SEND_SEND_BUF, each naming a GPADL of the channel; then RNDIS:
 *   INIT, QUERYs, SETs, each an NVSP SEND_RNDIS_PKT (channel type 1)
 *   whose RNDIS message lies in GPA direct page ranges of the packet,
 *   answered through the receive buffer. Data frames go as SEND_RNDIS_PKT
 *   (channel type 0) with the RNDIS_MSG_PACKET in a send buffer section
 *   (or in page ranges when it does not fit one).
 *
 * Host -> guest RNDIS messages (replies, indications, received frames)
 * are written into the guest's receive buffer and announced by a
 * VMBUS_PKT_DATA_USING_XFER_PAGES packet whose range names the bytes;
 * the guest gives the range back with a VMBUS_PKT_COMP of the same
 * transaction id.
 *
 * Every struct is the wire layout (little-endian, as x86), checked below.
 */
#ifndef ISOVISOR_NVSP_H
#define ISOVISOR_NVSP_H

#include <stdint.h>

/* ---- NVSP protocol versions (Linux's ver_list) ------------------------ */
#define NVSP_PROTOCOL_VERSION_1         0x00002
#define NVSP_PROTOCOL_VERSION_2         0x30002
#define NVSP_PROTOCOL_VERSION_4         0x40000
#define NVSP_PROTOCOL_VERSION_5         0x50000
#define NVSP_PROTOCOL_VERSION_6         0x60000
#define NVSP_PROTOCOL_VERSION_61        0x60001

/* ---- NVSP message types ----------------------------------------------- */
enum nvsp_msg_type {
	NVSP_MSG_TYPE_NONE                      = 0,
	NVSP_MSG_TYPE_INIT                      = 1,
	NVSP_MSG_TYPE_INIT_COMPLETE             = 2,
	NVSP_MSG1_TYPE_SEND_NDIS_VER            = 100,
	NVSP_MSG1_TYPE_SEND_RECV_BUF            = 101,
	NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE   = 102,
	NVSP_MSG1_TYPE_REVOKE_RECV_BUF          = 103,
	NVSP_MSG1_TYPE_SEND_SEND_BUF            = 104,
	NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE   = 105,
	NVSP_MSG1_TYPE_REVOKE_SEND_BUF          = 106,
	NVSP_MSG1_TYPE_SEND_RNDIS_PKT           = 107,
	NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE  = 108,
	/* 109..124: chimney and VMQ messages Linux never sends */
	NVSP_MSG2_TYPE_SEND_NDIS_CONFIG         = 125,
	NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION      = 128,  /* host -> guest */
	NVSP_MSG4_TYPE_SWITCH_DATA_PATH         = 129,
	NVSP_MSG5_TYPE_OID_QUERY_EX             = 131,
	NVSP_MSG5_TYPE_SUBCHANNEL               = 133,
	NVSP_MSG5_TYPE_SEND_INDIRECTION_TABLE   = 134,  /* host -> guest */
};

enum nvsp_status {
	NVSP_STAT_NONE                  = 0,
	NVSP_STAT_SUCCESS               = 1,
	NVSP_STAT_FAIL                  = 2,
	NVSP_STAT_PROTOCOL_TOO_NEW      = 3,
	NVSP_STAT_PROTOCOL_TOO_OLD      = 4,
	NVSP_STAT_INVALID_RNDIS_PKT     = 5,
	NVSP_STAT_BUSY                  = 6,
	NVSP_STAT_PROTOCOL_UNSUPPORTED  = 7,
};

/* nvsp1_send_rndis_packet.channel_type */
#define NVSP_CHANNEL_TYPE_DATA          0       /* RMC_DATA */
#define NVSP_CHANNEL_TYPE_CONTROL       1       /* RMC_CONTROL */
/* nvsp1_send_rndis_packet.send_buf_section_index: not in the send buffer */
#define NVSP_INVALID_SECTION_INDEX      0xffffffffu

/* The ids Linux gives its buffers (only echoed back: xfer_pageset_id). */
#define NETVSC_RECEIVE_BUFFER_ID        0xcafe
#define NETVSC_SEND_BUFFER_ID           0

/* nvsp2_send_ndis_config.capability bits */
#define NVSP_CAP_VMQ                    (1ull << 0)
#define NVSP_CAP_CHIMNEY                (1ull << 1)
#define NVSP_CAP_SRIOV                  (1ull << 2)
#define NVSP_CAP_IEEE8021Q              (1ull << 3)
#define NVSP_CAP_CORRELATION_ID         (1ull << 4)
#define NVSP_CAP_TEAMING                (1ull << 5)
#define NVSP_CAP_VSUBNETID              (1ull << 6)
#define NVSP_CAP_RSC                    (1ull << 7)

/* nvsp5_subchannel_request.op */
#define NVSP_SUBCHANNEL_ALLOCATE        1

/* ---- NVSP messages ------------------------------------------------------ */
struct nvsp_init {
	uint32_t min_protocol_ver;
	uint32_t max_protocol_ver;
} __attribute__((packed));

struct nvsp_init_complete {
	uint32_t negotiated_protocol_ver;
	uint32_t max_mdl_chain_len;
	uint32_t status;                /* enum nvsp_status */
} __attribute__((packed));

struct nvsp1_send_ndis_version {
	uint32_t ndis_major_ver;
	uint32_t ndis_minor_ver;
} __attribute__((packed));

/* SEND_RECV_BUF and SEND_SEND_BUF */
struct nvsp1_send_buffer {
	uint32_t gpadl_handle;
	uint16_t id;
} __attribute__((packed));

struct nvsp1_receive_buffer_section {
	uint32_t offset;
	uint32_t sub_alloc_size;
	uint32_t num_sub_allocs;
	uint32_t end_offset;
} __attribute__((packed));

struct nvsp1_send_receive_buffer_complete {
	uint32_t status;
	uint32_t num_sections;
	struct nvsp1_receive_buffer_section sections[1];
} __attribute__((packed));

/* REVOKE_RECV_BUF and REVOKE_SEND_BUF */
struct nvsp1_revoke_buffer {
	uint16_t id;
} __attribute__((packed));

struct nvsp1_send_send_buffer_complete {
	uint32_t status;
	uint32_t section_size;
} __attribute__((packed));

struct nvsp1_send_rndis_packet {
	uint32_t channel_type;          /* NVSP_CHANNEL_TYPE_* */
	uint32_t send_buf_section_index;
	uint32_t send_buf_section_size; /* bytes used in the section */
} __attribute__((packed));

struct nvsp1_send_rndis_packet_complete {
	uint32_t status;
} __attribute__((packed));

struct nvsp2_send_ndis_config {
	uint32_t mtu;                   /* Linux: its MTU + ETH_HLEN */
	uint32_t reserved;
	uint64_t capability;            /* NVSP_CAP_* */
} __attribute__((packed));

struct nvsp4_send_vf_association {
	uint32_t allocated;
	uint32_t serial;
} __attribute__((packed));

struct nvsp4_switch_data_path {
	uint32_t active_datapath;       /* 0 synthetic, 1 VF */
} __attribute__((packed));

struct nvsp5_subchannel_request {
	uint32_t op;                    /* NVSP_SUBCHANNEL_ALLOCATE */
	uint32_t num_subchannels;
} __attribute__((packed));

struct nvsp5_subchannel_complete {
	uint32_t status;
	uint32_t num_subchannels;       /* allocated */
} __attribute__((packed));

/* Linux's union nvsp_all_messages is 36 bytes (its largest member, the
 * v6 PD API completion); every request netvsc sends is the whole 40-byte
 * struct nvsp_message, and it copies that many bytes of each reply. */
#define NVSP_MESSAGE_PAYLOAD            36

struct nvsp_message {
	uint32_t msg_type;              /* enum nvsp_msg_type */
	union {
		struct nvsp_init init;
		struct nvsp_init_complete init_complete;
		struct nvsp1_send_ndis_version send_ndis_ver;
		struct nvsp1_send_buffer send_buf;
		struct nvsp1_send_receive_buffer_complete send_recv_buf_complete;
		struct nvsp1_revoke_buffer revoke_buf;
		struct nvsp1_send_send_buffer_complete send_send_buf_complete;
		struct nvsp1_send_rndis_packet send_rndis_pkt;
		struct nvsp1_send_rndis_packet_complete send_rndis_pkt_complete;
		struct nvsp2_send_ndis_config send_ndis_config;
		struct nvsp4_send_vf_association vf_assoc;
		struct nvsp4_switch_data_path active_dp;
		struct nvsp5_subchannel_request subchn_req;
		struct nvsp5_subchannel_complete subchn_comp;
		uint8_t raw[NVSP_MESSAGE_PAYLOAD];
	};
} __attribute__((packed));

_Static_assert(sizeof(struct nvsp_init) == 8, "nvsp_init");
_Static_assert(sizeof(struct nvsp_init_complete) == 12, "nvsp_init_complete");
_Static_assert(sizeof(struct nvsp1_send_buffer) == 6, "nvsp1_send_buffer");
_Static_assert(sizeof(struct nvsp1_receive_buffer_section) == 16, "recv section");
_Static_assert(sizeof(struct nvsp1_send_receive_buffer_complete) == 24,
	       "send_recv_buf_complete");
_Static_assert(sizeof(struct nvsp1_send_send_buffer_complete) == 8,
	       "send_send_buf_complete");
_Static_assert(sizeof(struct nvsp1_send_rndis_packet) == 12, "send_rndis_pkt");
_Static_assert(sizeof(struct nvsp2_send_ndis_config) == 16, "send_ndis_config");
_Static_assert(sizeof(struct nvsp5_subchannel_complete) == 8, "subchannel complete");
_Static_assert(sizeof(struct nvsp_message) == 40, "nvsp_message");
_Static_assert(__builtin_offsetof(struct nvsp_message, init) == 4, "nvsp payload");

/* ---- VMBus transfer-page packets (only the network protocol uses them) -- */
#define VMBUS_PKT_DATA_USING_XFER_PAGES 7

/* Linux: struct vmtransfer_page_packet_header, without its range. The
 * descriptor fields are spelled out so this header does not depend on
 * vmbus/ring.h; they are struct vmbus_pkt_desc's. */
struct vmbus_xfer_page_header {
	uint16_t type;                  /* VMBUS_PKT_DATA_USING_XFER_PAGES */
	uint16_t offset8;
	uint16_t len8;
	uint16_t flags;
	uint64_t trans_id;
	uint16_t xfer_pageset_id;       /* the receive buffer's id */
	uint8_t sender_owns_set;
	uint8_t reserved;
	uint32_t range_cnt;
	/* struct vmbus_xfer_page_range ranges[range_cnt] follows */
} __attribute__((packed));

struct vmbus_xfer_page_range {
	uint32_t byte_count;
	uint32_t byte_offset;           /* into the receive buffer */
} __attribute__((packed));

_Static_assert(sizeof(struct vmbus_xfer_page_header) == 24, "xfer page header");
_Static_assert(sizeof(struct vmbus_xfer_page_range) == 8, "xfer page range");

/* ---- RNDIS messages ----------------------------------------------------- */
#define RNDIS_MSG_COMPLETION            0x80000000u
#define RNDIS_MSG_PACKET                0x00000001u
#define RNDIS_MSG_INIT                  0x00000002u
#define RNDIS_MSG_INIT_C                (RNDIS_MSG_INIT | RNDIS_MSG_COMPLETION)
#define RNDIS_MSG_HALT                  0x00000003u
#define RNDIS_MSG_QUERY                 0x00000004u
#define RNDIS_MSG_QUERY_C               (RNDIS_MSG_QUERY | RNDIS_MSG_COMPLETION)
#define RNDIS_MSG_SET                   0x00000005u
#define RNDIS_MSG_SET_C                 (RNDIS_MSG_SET | RNDIS_MSG_COMPLETION)
#define RNDIS_MSG_RESET                 0x00000006u
#define RNDIS_MSG_RESET_C               (RNDIS_MSG_RESET | RNDIS_MSG_COMPLETION)
#define RNDIS_MSG_INDICATE              0x00000007u
#define RNDIS_MSG_KEEPALIVE             0x00000008u
#define RNDIS_MSG_KEEPALIVE_C           (RNDIS_MSG_KEEPALIVE | RNDIS_MSG_COMPLETION)

#define RNDIS_STATUS_SUCCESS            0x00000000u
#define RNDIS_STATUS_FAILURE            0xc0000001u
#define RNDIS_STATUS_NOT_SUPPORTED      0xc00000bbu
#define RNDIS_STATUS_MULTICAST_FULL     0xc0010009u
#define RNDIS_STATUS_INVALID_LENGTH     0xc0010014u
#define RNDIS_STATUS_INVALID_DATA       0xc0010015u
#define RNDIS_STATUS_MEDIA_CONNECT      0x4001000bu
#define RNDIS_STATUS_MEDIA_DISCONNECT   0x4001000cu
#define RNDIS_STATUS_LINK_SPEED_CHANGE  0x40010013u
#define RNDIS_STATUS_NETWORK_CHANGE     0x40010018u

#define RNDIS_MAJOR_VERSION             1
#define RNDIS_MINOR_VERSION             0
#define RNDIS_DF_CONNECTIONLESS         0x00000001u
#define RNDIS_MEDIUM_802_3              0x00000000u
#define RNDIS_MEDIA_STATE_CONNECTED     0u
#define RNDIS_MEDIA_STATE_DISCONNECTED  1u

/* OIDs netvsc asks or sets (and a few more every NIC answers) */
#define RNDIS_OID_GEN_MEDIA_SUPPORTED           0x00010103u
#define RNDIS_OID_GEN_MEDIA_IN_USE              0x00010104u
#define RNDIS_OID_GEN_MAXIMUM_LOOKAHEAD         0x00010105u
#define RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE        0x00010106u
#define RNDIS_OID_GEN_LINK_SPEED                0x00010107u
#define RNDIS_OID_GEN_CURRENT_PACKET_FILTER     0x0001010eu
#define RNDIS_OID_GEN_CURRENT_LOOKAHEAD         0x0001010fu
#define RNDIS_OID_GEN_MAXIMUM_TOTAL_SIZE        0x00010111u
#define RNDIS_OID_GEN_MEDIA_CONNECT_STATUS      0x00010114u
#define RNDIS_OID_GEN_MAXIMUM_SEND_PACKETS      0x00010115u
#define RNDIS_OID_GEN_RECEIVE_SCALE_CAPABILITIES 0x00010203u
#define RNDIS_OID_GEN_RECEIVE_SCALE_PARAMETERS  0x00010204u
#define RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER    0x0001021bu
#define RNDIS_OID_GEN_FRIENDLY_NAME             0x00020216u
#define RNDIS_OID_802_3_PERMANENT_ADDRESS       0x01010101u
#define RNDIS_OID_802_3_CURRENT_ADDRESS         0x01010102u
#define RNDIS_OID_802_3_MULTICAST_LIST          0x01010103u
#define RNDIS_OID_802_3_MAXIMUM_LIST_SIZE       0x01010104u
#define OID_TCP_OFFLOAD_CURRENT_CONFIG          0xfc01020bu
#define OID_TCP_OFFLOAD_PARAMETERS              0xfc01020cu
#define OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES   0xfc01020du

/* RNDIS_OID_GEN_CURRENT_PACKET_FILTER bits */
#define NDIS_PACKET_TYPE_DIRECTED       0x00000001u
#define NDIS_PACKET_TYPE_MULTICAST      0x00000002u
#define NDIS_PACKET_TYPE_ALL_MULTICAST  0x00000004u
#define NDIS_PACKET_TYPE_BROADCAST      0x00000008u
#define NDIS_PACKET_TYPE_PROMISCUOUS    0x00000020u

/* Every RNDIS message starts with this; msg_len counts it. */
struct rndis_msg_header {
	uint32_t msg_type;
	uint32_t msg_len;
} __attribute__((packed));

struct rndis_initialize_request {
	uint32_t req_id;
	uint32_t major_ver;
	uint32_t minor_ver;
	uint32_t max_xfer_size;
} __attribute__((packed));

struct rndis_initialize_complete {
	uint32_t req_id;
	uint32_t status;
	uint32_t major_ver;
	uint32_t minor_ver;
	uint32_t dev_flags;
	uint32_t medium;
	uint32_t max_pkt_per_msg;
	uint32_t max_xfer_size;
	uint32_t pkt_alignment_factor;  /* log2 of the alignment */
	uint32_t af_list_offset;
	uint32_t af_list_size;
} __attribute__((packed));

/* QUERY and SET: the information buffer lies info_buf_offset bytes from
 * req_id (the first byte after the header). */
struct rndis_query_request {
	uint32_t req_id;
	uint32_t oid;
	uint32_t info_buflen;
	uint32_t info_buf_offset;
	uint32_t dev_vc_handle;
} __attribute__((packed));

struct rndis_query_complete {
	uint32_t req_id;
	uint32_t status;
	uint32_t info_buflen;
	uint32_t info_buf_offset;       /* from req_id, as in the request */
} __attribute__((packed));

#define rndis_set_request rndis_query_request

struct rndis_set_complete {
	uint32_t req_id;
	uint32_t status;
} __attribute__((packed));

struct rndis_reset_request {
	uint32_t reserved;
} __attribute__((packed));

struct rndis_reset_complete {
	uint32_t status;
	uint32_t addressing_reset;
} __attribute__((packed));

struct rndis_indicate_status {
	uint32_t status;                /* RNDIS_STATUS_MEDIA_* ... */
	uint32_t status_buflen;
	uint32_t status_buf_offset;
} __attribute__((packed));

struct rndis_keepalive_request {
	uint32_t req_id;
} __attribute__((packed));

struct rndis_keepalive_complete {
	uint32_t req_id;
	uint32_t status;
} __attribute__((packed));

/* RNDIS_MSG_PACKET: offsets are from data_offset (the first byte after
 * the header); the frame is data_len bytes at data_offset. */
struct rndis_packet {
	uint32_t data_offset;
	uint32_t data_len;
	uint32_t oob_data_offset;
	uint32_t oob_data_len;
	uint32_t num_oob_data_elements;
	uint32_t per_pkt_info_offset;
	uint32_t per_pkt_info_len;
	uint32_t vc_handle;
	uint32_t reserved;
} __attribute__((packed));

/* One per-packet info entry: size bytes in all, its value ppi_offset
 * bytes from the entry's start. type_internal: type in bits 0..30,
 * Linux's "internal" flag in bit 31. */
struct rndis_per_packet_info {
	uint32_t size;
	uint32_t type_internal;
	uint32_t ppi_offset;
} __attribute__((packed));

#define RNDIS_PPI_TYPE(ti)              ((ti) & 0x7fffffffu)
#define RNDIS_PPI_INTERNAL              0x80000000u
/* enum ndis_per_pkt_info_type values netvsc uses */
#define RNDIS_PPI_TCPIP_CHKSUM          0
#define RNDIS_PPI_TCP_LARGESEND         2
#define RNDIS_PPI_IEEE_8021Q            6
#define RNDIS_PPI_NBL_HASH_VALUE        8

/*
 * RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER's SET buffer: one named parameter,
 * its name and value at offsets from the struct's first byte. Linux
 * (rndis_filter_set_device_mac) sends only "NetworkAddress", a STRING of
 * 12 hex digits, both as UTF-16LE without a terminating NUL: name at 20
 * (28 bytes), value at 48 (24 bytes).
 */
struct rndis_config_parameter_info {
	uint32_t name_offset;
	uint32_t name_length;           /* bytes */
	uint32_t type;                  /* RNDIS_CONFIG_PARAM_TYPE_* */
	uint32_t value_offset;
	uint32_t value_length;          /* bytes */
} __attribute__((packed));

#define RNDIS_CONFIG_PARAM_TYPE_INTEGER 0
#define RNDIS_CONFIG_PARAM_TYPE_STRING  2

#define RNDIS_HEADER_SIZE               ((uint32_t)sizeof(struct rndis_msg_header))

_Static_assert(sizeof(struct rndis_msg_header) == 8, "rndis header");
_Static_assert(sizeof(struct rndis_initialize_request) == 16, "rndis init");
_Static_assert(sizeof(struct rndis_initialize_complete) == 44, "rndis init_c");
_Static_assert(sizeof(struct rndis_query_request) == 20, "rndis query");
_Static_assert(sizeof(struct rndis_query_complete) == 16, "rndis query_c");
_Static_assert(sizeof(struct rndis_set_complete) == 8, "rndis set_c");
_Static_assert(sizeof(struct rndis_reset_complete) == 8, "rndis reset_c");
_Static_assert(sizeof(struct rndis_indicate_status) == 12, "rndis indicate");
_Static_assert(sizeof(struct rndis_keepalive_complete) == 8, "rndis keepalive_c");
_Static_assert(sizeof(struct rndis_packet) == 36, "rndis packet");
_Static_assert(sizeof(struct rndis_per_packet_info) == 12, "rndis ppi");
_Static_assert(sizeof(struct rndis_config_parameter_info) == 20, "rndis config parameter");

/* ---- NDIS offload objects (OID_TCP_OFFLOAD_*) --------------------------- */
#define NDIS_OBJECT_TYPE_DEFAULT        0x80
#define NDIS_OBJECT_TYPE_OFFLOAD        0xa7
#define NDIS_OFFLOAD_PARAMETERS_REVISION_1 1
#define NDIS_OFFLOAD_PARAMETERS_REVISION_2 2
#define NDIS_OFFLOAD_PARAMETERS_REVISION_3 3

struct ndis_object_header {
	uint8_t type;
	uint8_t revision;
	uint16_t size;
};

/*
 * OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES' answer, natural alignment as
 * Linux's struct ndis_offload. Linux asks for revision 3 (the whole
 * struct) from NVSP 5 on, revision 2 (up to rsc) from NVSP 4, revision 1
 * (up to ipsecv2) before, and refuses to bring the device up unless the
 * answer has type NDIS_OBJECT_TYPE_OFFLOAD, revision >= 1 and a size
 * from NDIS_OFFLOAD_SIZE_6_0 to the whole struct. Zero everywhere else
 * means "no offload".
 */
struct ndis_offload {
	struct ndis_object_header header;
	uint32_t csum[8];               /* ip4/ip6 tx/rx encap and csum caps */
	uint32_t lsov1[4];
	uint32_t ipsecv1[7];
	uint32_t lsov2[7];
	uint32_t flags;
	struct {
		uint32_t encap;
		uint8_t flags8[11];     /* ip6 .. extseq */
		uint32_t udp_esp;
		uint32_t auth;
		uint32_t crypto;
		uint32_t sa_caps;
	} ipsecv2;
	struct {
		uint8_t ip4;
		uint8_t ip6;
	} rsc;
	struct {
		uint32_t flags;
		uint32_t maxhdr;
	} encap_gre;
};

#define NDIS_OFFLOAD_SIZE               ((uint16_t)sizeof(struct ndis_offload))
#define NDIS_OFFLOAD_SIZE_6_0           ((uint16_t)__builtin_offsetof(struct ndis_offload, ipsecv2))
#define NDIS_OFFLOAD_SIZE_6_1           ((uint16_t)__builtin_offsetof(struct ndis_offload, rsc))

_Static_assert(sizeof(struct ndis_object_header) == 4, "ndis object header");
_Static_assert(__builtin_offsetof(struct ndis_offload, lsov2) == 80, "ndis_offload.lsov2");
_Static_assert(__builtin_offsetof(struct ndis_offload, ipsecv2) == 112, "NDIS_OFFLOAD_SIZE_6_0");
_Static_assert(__builtin_offsetof(struct ndis_offload, rsc) == 144, "NDIS_OFFLOAD_SIZE_6_1");
_Static_assert(sizeof(struct ndis_offload) == 156, "NDIS_OFFLOAD_SIZE");

/* OID_TCP_OFFLOAD_PARAMETERS' buffer: NVSP 4 and older send only the
 * first VERSION_4_OFFLOAD_SIZE bytes. */
struct ndis_offload_params {
	struct ndis_object_header header;
	uint8_t ip_v4_csum;
	uint8_t tcp_ip_v4_csum;
	uint8_t udp_ip_v4_csum;
	uint8_t tcp_ip_v6_csum;
	uint8_t udp_ip_v6_csum;
	uint8_t lso_v1;
	uint8_t ip_sec_v1;
	uint8_t lso_v2_ipv4;
	uint8_t lso_v2_ipv6;
	uint8_t tcp_connection_ip_v4;
	uint8_t tcp_connection_ip_v6;
	uint32_t flags;
	uint8_t ip_sec_v2;
	uint8_t ip_sec_v2_ip_v4;
	uint8_t rsc_ip_v4;
	uint8_t rsc_ip_v6;
	uint8_t encapsulated_packet_task_offload;
	uint8_t encapsulation_types;
};

#define VERSION_4_OFFLOAD_SIZE          22

/* Values of its checksum, LSO, IPsec, connection and RSC fields: 0
 * leaves the setting, 1 turns it off, anything larger turns something
 * on (Linux sends ip_v4_csum 1 and zeros when no offload is offered). */
#define NDIS_OFFLOAD_PARAMETERS_NO_CHANGE       0
#define NDIS_OFFLOAD_PARAMETERS_DISABLED        1
/* encapsulated_packet_task_offload: NDIS_OFFLOAD_SET_ON */
#define NDIS_OFFLOAD_SET_ON                     1

_Static_assert(__builtin_offsetof(struct ndis_offload_params, flags) == 16,
	       "ndis_offload_params.flags");
_Static_assert(__builtin_offsetof(struct ndis_offload_params, rsc_ip_v4) ==
	       VERSION_4_OFFLOAD_SIZE, "VERSION_4_OFFLOAD_SIZE");
_Static_assert(sizeof(struct ndis_offload_params) == 28, "ndis_offload_params");

#endif
