/*
 * The synthetic storage (vstor) wire format: the packets storvsc (the
 * guest's VSC) and storvsp (our VSP) exchange over the storage VMBus
 * channel. Names and layouts follow Linux's drivers/scsi/storvsc_drv.c,
 * so an unmodified hv_storvsc can talk to our storvsp; read the two side
 * by side.
 *
 * Protocol, as storvsc drives it:
 *   BEGIN_INITIALIZATION, QUERY_PROTOCOL_VERSION (tries WIN10, WIN8_1,
 *   WIN8 in that order), QUERY_PROPERTIES, optionally
 *   CREATE_SUB_CHANNELS, END_INITIALIZATION; then EXECUTE_SRB packets,
 *   each answered by a COMPLETE_IO packet carrying the same vm_srb with
 *   srb_status, scsi_status, data_transfer_length (bytes actually moved)
 *   and, on CHECK CONDITION, sense data in place of the CDB.
 *
 * Every packet is a whole struct vstor_packet (64 bytes) from protocol
 * WIN8 on; with WIN6/WIN7 peers the 12-byte win8 extension of
 * vmscsi_request is left off (Linux's "vmscsi_size_delta") and the sense
 * area is 18 bytes. Both ends here speak those versions too.
 */
#ifndef ISOVISOR_VSTOR_H
#define ISOVISOR_VSTOR_H

#include <stdint.h>

/* ---- protocol versions: major in the high byte, minor in the low ---- */
#define VMSTOR_PROTO_VERSION(major, minor) \
	((uint16_t)((((major) & 0xff) << 8) | ((minor) & 0xff)))
#define VMSTOR_PROTO_VERSION_WIN6       VMSTOR_PROTO_VERSION(2, 0)  /* 0x0200 */
#define VMSTOR_PROTO_VERSION_WIN7       VMSTOR_PROTO_VERSION(4, 2)  /* 0x0402 */
#define VMSTOR_PROTO_VERSION_WIN8       VMSTOR_PROTO_VERSION(5, 1)  /* 0x0501 */
#define VMSTOR_PROTO_VERSION_WIN8_1     VMSTOR_PROTO_VERSION(6, 0)  /* 0x0600 */
#define VMSTOR_PROTO_VERSION_WIN10      VMSTOR_PROTO_VERSION(6, 2)  /* 0x0602 */

/* ---- packet operations ------------------------------------------------ */
enum vstor_operation {
	VSTOR_OPERATION_COMPLETE_IO             = 1,
	VSTOR_OPERATION_REMOVE_DEVICE           = 2,
	VSTOR_OPERATION_EXECUTE_SRB             = 3,
	VSTOR_OPERATION_RESET_LUN               = 4,
	VSTOR_OPERATION_RESET_ADAPTER           = 5,
	VSTOR_OPERATION_RESET_BUS               = 6,
	VSTOR_OPERATION_BEGIN_INITIALIZATION    = 7,
	VSTOR_OPERATION_END_INITIALIZATION      = 8,
	VSTOR_OPERATION_QUERY_PROTOCOL_VERSION  = 9,
	VSTOR_OPERATION_QUERY_PROPERTIES        = 10,
	VSTOR_OPERATION_ENUMERATE_BUS           = 11,
	VSTOR_OPERATION_FCHBA_DATA              = 12,
	VSTOR_OPERATION_CREATE_SUB_CHANNELS     = 13,
	VSTOR_OPERATION_MAXIMUM                 = 13,
};

/* vstor_packet.flags: the server must send back a completion. */
#define REQUEST_COMPLETION_FLAG         0x1

/* ---- SRB (SCSI request block) ----------------------------------------- */
#define STORVSC_MAX_CMD_LEN             0x10
#define STORVSC_SENSE_BUFFER_SIZE       0x14    /* since WIN8 */
#define STORVSC_MAX_BUF_LEN_WITH_PADDING 0x14

/* vmscsi_request.data_in (storvsc's enum storvsc_request_type). */
#define VSTOR_WRITE_TYPE                0
#define VSTOR_READ_TYPE                 1
#define VSTOR_UNKNOWN_TYPE              2       /* no data phase */

/* vmscsi_request.srb_flags */
#define SRB_FLAGS_QUEUE_ACTION_ENABLE           0x00000002
#define SRB_FLAGS_DISABLE_DISCONNECT            0x00000004
#define SRB_FLAGS_DISABLE_SYNCH_TRANSFER        0x00000008
#define SRB_FLAGS_BYPASS_FROZEN_QUEUE           0x00000010
#define SRB_FLAGS_DISABLE_AUTOSENSE             0x00000020
#define SRB_FLAGS_DATA_IN                       0x00000040
#define SRB_FLAGS_DATA_OUT                      0x00000080
#define SRB_FLAGS_NO_DATA_TRANSFER              0x00000000
#define SRB_FLAGS_UNSPECIFIED_DIRECTION \
	(SRB_FLAGS_DATA_IN | SRB_FLAGS_DATA_OUT)
#define SRB_FLAGS_NO_QUEUE_FREEZE               0x00000100
#define SRB_FLAGS_ADAPTER_CACHE_ENABLE          0x00000200
#define SRB_FLAGS_FREE_SENSE_BUFFER             0x00000400
#define SRB_FLAGS_D3_PROCESSING                 0x00000800

#define SP_UNTAGGED                     0xff    /* queue_tag */
#define SRB_SIMPLE_TAG_REQUEST          0x20    /* queue_action */

/*
 * srb_status: the two high bits are flags, the low six an integer code.
 * Linux tests only the codes listed here.
 */
#define SRB_STATUS_AUTOSENSE_VALID      0x80
#define SRB_STATUS_QUEUE_FROZEN         0x40
#define SRB_STATUS_SUCCESS              0x01
#define SRB_STATUS_ABORTED              0x02
#define SRB_STATUS_ERROR                0x04
#define SRB_STATUS_INVALID_REQUEST      0x06
#define SRB_STATUS_TIMEOUT              0x09    /* Windows srb.h value */
#define SRB_STATUS_SELECTION_TIMEOUT    0x0a    /* Windows srb.h value */
#define SRB_STATUS_BUS_RESET            0x0e    /* Windows srb.h value */
#define SRB_STATUS_DATA_OVERRUN         0x12
#define SRB_STATUS_INVALID_LUN          0x20
#define SRB_STATUS_INTERNAL_ERROR       0x30
#define SRB_STATUS(status) \
	((status) & ~(SRB_STATUS_AUTOSENSE_VALID | SRB_STATUS_QUEUE_FROZEN))

/* Patterned on Windows' SCSI_PASS_THROUGH; the same for 32- and 64-bit. */
struct vmscsi_request {
	uint16_t length;                /* sizeof(struct vmscsi_request) */
	uint8_t srb_status;
	uint8_t scsi_status;

	uint8_t port_number;
	uint8_t path_id;
	uint8_t target_id;
	uint8_t lun;

	uint8_t cdb_length;
	uint8_t sense_info_length;
	uint8_t data_in;                /* VSTOR_{WRITE,READ,UNKNOWN}_TYPE */
	uint8_t reserved;

	uint32_t data_transfer_length;

	union {
		uint8_t cdb[STORVSC_MAX_CMD_LEN];
		uint8_t sense_data[STORVSC_SENSE_BUFFER_SIZE];
		uint8_t reserved_array[STORVSC_MAX_BUF_LEN_WITH_PADDING];
	};

	/* The win8 extension (absent on the wire before WIN8). */
	uint16_t reserve;
	uint8_t queue_tag;
	uint8_t queue_action;
	uint32_t srb_flags;
	uint32_t time_out_value;
	uint32_t queue_sort_ey;         /* sic: Linux's and Windows' spelling */
} __attribute__((packed));

_Static_assert(sizeof(struct vmscsi_request) == 0x34, "vmscsi_request");
_Static_assert(__builtin_offsetof(struct vmscsi_request, data_transfer_length)
	       == 12, "vmscsi_request.data_transfer_length");
_Static_assert(__builtin_offsetof(struct vmscsi_request, cdb) == 16,
	       "vmscsi_request.cdb");
_Static_assert(__builtin_offsetof(struct vmscsi_request, reserve) == 36,
	       "vmscsi_request win8 extension");
_Static_assert(__builtin_offsetof(struct vmscsi_request, srb_flags) == 40,
	       "vmscsi_request.srb_flags");

/* ---- channel properties (QUERY_PROPERTIES reply) ---------------------- */
#define STORAGE_CHANNEL_SUPPORTS_MULTI_CHANNEL  0x1     /* flags */
#define STORAGE_CHANNEL_REMOVABLE_FLAG          0x1     /* device flags */
#define STORAGE_CHANNEL_EMULATED_IDE_FLAG       0x2

struct vmstorage_channel_properties {
	uint32_t reserved;
	uint16_t max_channel_cnt;       /* sub-channels the VSP offers */
	uint16_t reserved1;
	uint32_t flags;
	uint32_t max_transfer_bytes;
	uint64_t reserved2;
} __attribute__((packed));

_Static_assert(sizeof(struct vmstorage_channel_properties) == 24,
	       "vmstorage_channel_properties");

/* ---- protocol version (QUERY_PROTOCOL_VERSION) ------------------------ */
struct vmstorage_protocol_version {
	uint16_t major_minor;           /* VMSTOR_PROTO_VERSION_* */
	uint16_t revision;              /* Windows-side only; Linux sends 0 */
} __attribute__((packed));

_Static_assert(sizeof(struct vmstorage_protocol_version) == 4,
	       "vmstorage_protocol_version");

/* ---- Fibre Channel HBA data (FCHBA_DATA) ------------------------------ */
#define WWN_NAME_LENGTH                 8

struct hv_fc_wwn_packet {
	uint8_t primary_active;
	uint8_t reserved1[3];
	uint8_t primary_port_wwn[WWN_NAME_LENGTH];
	uint8_t primary_node_wwn[WWN_NAME_LENGTH];
	uint8_t secondary_port_wwn[WWN_NAME_LENGTH];
	uint8_t secondary_node_wwn[WWN_NAME_LENGTH];
} __attribute__((packed));

_Static_assert(sizeof(struct hv_fc_wwn_packet) == 36, "hv_fc_wwn_packet");

/* ---- the packet ------------------------------------------------------- */
#define VSTOR_PACKET_PAYLOAD            0x34

struct vstor_packet {
	uint32_t operation;             /* enum vstor_operation */
	uint32_t flags;                 /* REQUEST_COMPLETION_FLAG */
	uint32_t status;                /* server's reply: 0 success */
	union {
		struct vmscsi_request vm_srb;
		struct vmstorage_channel_properties storage_channel_properties;
		struct vmstorage_protocol_version version;
		struct hv_fc_wwn_packet wwn_packet;
		uint16_t sub_channel_count;     /* CREATE_SUB_CHANNELS */
		uint8_t buffer[VSTOR_PACKET_PAYLOAD];
	};
} __attribute__((packed));

/* What goes on the wire per packet: Linux sends sizeof(struct
 * vstor_packet) (its vmscsi_size_delta is 0 for WIN8 and later). */
#define VSTOR_PACKET_SIZE               sizeof(struct vstor_packet)

/* Before WIN8: the packet without the win8 extension, a shorter sense
 * area. */
#define VSTOR_WIN8_EXT_SIZE             12u
#define VSTOR_PACKET_SIZE_PRE_WIN8      (VSTOR_PACKET_SIZE - VSTOR_WIN8_EXT_SIZE)
#define VSTOR_SENSE_SIZE_PRE_WIN8       0x12u

static inline int vstor_pre_win8(uint16_t version)
{
	return version == VMSTOR_PROTO_VERSION_WIN6 || version == VMSTOR_PROTO_VERSION_WIN7;
}

_Static_assert(sizeof(struct vstor_packet) == 64, "vstor_packet");
_Static_assert(__builtin_offsetof(struct vstor_packet, vm_srb) == 12,
	       "vstor_packet payload");

#endif
