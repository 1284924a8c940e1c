/*
 * VMBus ring buffer: one direction of a channel, in the Hyper-V/Linux
 * layout (Linux: struct hv_ring_buffer, drivers/hv/ring_buffer.c), used
 * by both ends: the VSP (root or hypervisor) and the VSC (guest).
 *
 * A ring is a 4 KiB header page followed by `size` data bytes (a whole
 * number of pages). The end that allocates the ring (the guest) sees it
 * contiguous; the host maps the guest's pages one by one and attaches a
 * page-vector view (vmbus_ring_init_pages): same layout, each data page
 * wherever the mapping put it, and every data access split at page
 * boundaries. write_index and read_index are byte offsets into the
 * data area. A packet is stored as its bytes (a struct vmbus_pkt_desc and
 * the payload, len8 * 8 bytes in all, padded with zeroes to 8), then an
 * 8-byte trailer holding the write index the packet started at, shifted
 * left by 32. A writer never fills the ring: at least 8 bytes stay free,
 * so write_index == read_index always means empty.
 *
 * Signalling (who kicks whom, through HvSignalEvent or a SynIC event):
 *  - writer -> reader: only when the ring went from empty to non-empty
 *    (read_index equals the write index before this packet) and the
 *    reader's interrupt_mask is 0;
 *  - reader -> writer: only when the writer asked for room (feature bit
 *    feat_pending_send_sz set and pending_send_sz != 0) and a consume moved
 *    the free space from <= pending_send_sz to > pending_send_sz.
 * vmbus_ring_write() and vmbus_ring_consume() return that decision in
 * *signal; the caller raises the event.
 *
 * Hostile peer: the other end owns half of the shared header and all the
 * data it wrote. Each shared index or length is read once, checked, and a
 * packet is copied out before its descriptor is trusted (the hardening of
 * Linux's ring_buffer.c). Each view also keeps a private copy of the index
 * it owns and treats a shared copy that differs as corruption. Nothing
 * outside the ring's pages is ever read or written whatever the peer does;
 * VMBUS_RING_CORRUPT means the caller must close the channel.
 *
 * Portable C: builds freestanding (hypervisor, root, guests) and for the
 * host tests. The wire structures live here because only the ring uses
 * them; they follow the TLFS/Linux layout byte for byte.
 */
#ifndef VMBUS_RING_H
#define VMBUS_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMBUS_RING_HEADER_SIZE 4096u
#define VMBUS_RING_PAGE_SIZE   4096u
/* Largest data area we accept: keeps packet lengths representable as int. */
#define VMBUS_RING_MAX_DATA    (1u << 30)
/* Largest data area of a page-vector view, in pages (1 MiB). */
#define VMBUS_RING_MAX_PAGES   256u

/* Shared header page (Linux: struct hv_ring_buffer, without the data). */
struct vmbus_ring_header {
	uint32_t write_index;           /* owned by the writer */
	uint32_t read_index;            /* owned by the reader */
	uint32_t interrupt_mask;        /* reader: 1 = do not signal me */
	uint32_t pending_send_sz;       /* writer: signal me when free > this */
	uint32_t reserved1[12];
	union {
		struct {
			uint32_t feat_pending_send_sz : 1;
		};
		uint32_t value;
	} feature_bits;
	uint8_t reserved2[VMBUS_RING_HEADER_SIZE - 68];
};

#define VMBUS_RING_FEAT_PENDING_SEND_SZ 1u

_Static_assert(offsetof(struct vmbus_ring_header, write_index) == 0, "ring header");
_Static_assert(offsetof(struct vmbus_ring_header, read_index) == 4, "ring header");
_Static_assert(offsetof(struct vmbus_ring_header, interrupt_mask) == 8, "ring header");
_Static_assert(offsetof(struct vmbus_ring_header, pending_send_sz) == 12, "ring header");
_Static_assert(offsetof(struct vmbus_ring_header, feature_bits) == 64, "ring header");
_Static_assert(sizeof(struct vmbus_ring_header) == VMBUS_RING_HEADER_SIZE, "ring header");

/* Every packet starts with this (Linux: struct vmpacket_descriptor). */
struct vmbus_pkt_desc {
	uint16_t type;
	uint16_t offset8;       /* payload offset from packet start, 8-byte units */
	uint16_t len8;          /* whole packet incl. this header, 8-byte units */
	uint16_t flags;
	uint64_t trans_id;
};

_Static_assert(sizeof(struct vmbus_pkt_desc) == 16, "packet descriptor");
_Static_assert(offsetof(struct vmbus_pkt_desc, trans_id) == 8, "packet descriptor");

/* vmbus_pkt_desc.type (Linux: enum vmbus_packet_type) and flags. */
#define VMBUS_PKT_DATA_INBAND           6
#define VMBUS_PKT_DATA_USING_GPA_DIRECT 9
#define VMBUS_PKT_COMP                  11
#define VMBUS_PKT_FLAG_COMPLETION_REQUESTED 1u

/*
 * Head of a VMBUS_PKT_DATA_USING_GPA_DIRECT packet (Linux: struct
 * vmbus_packet_mpb_array with one range): the descriptor, then rangecount
 * ranges, each byte_count and byte_offset (into the first page) followed
 * by its pfns; the payload starts at offset8 * 8, after the last pfn.
 */
struct vmbus_pkt_gpa_direct {
	struct vmbus_pkt_desc desc;
	uint32_t reserved;
	uint32_t rangecount;
	uint32_t byte_count;    /* range 0 */
	uint32_t byte_offset;
	/* uint64_t pfn_array[] follows */
};

_Static_assert(sizeof(struct vmbus_pkt_gpa_direct) == 32, "gpa direct packet");

/* Size of the trailer after every packet (old write index << 32). */
#define VMBUS_RING_TRAILER 8u

/* Bytes a packet of `len` bytes occupies in the ring, trailer included. */
#define VMBUS_RING_PKT_SPACE(len) ((((len) + 7u) & ~7u) + VMBUS_RING_TRAILER)

/* Return codes (negative) of the calls below. */
enum {
	VMBUS_RING_CORRUPT = -1, /* shared state impossible: close the channel */
	VMBUS_RING_AGAIN   = -2, /* write: no room now (retry when signalled) */
	VMBUS_RING_TOOBIG  = -3, /* peek: packet > cap; write: packet > ring */
	VMBUS_RING_INVAL   = -4, /* caller's mistake: bad packet or length */
};

/* One direction of a channel as one end sees it. The fields are private
 * to ring.c except `peeked` (see vmbus_ring_peek). Exactly one of `data`
 * (contiguous view) and `pages` (page-vector view) is set. */
struct vmbus_ring {
	volatile struct vmbus_ring_header *hdr; /* shared */
	uint8_t *data;                          /* shared data area */
	void *const *pages;     /* or its pages, size / 4096 of them */
	uint32_t size;                          /* data bytes, pages */
	uint32_t priv_write;    /* writer: the write_index we last stored */
	uint32_t priv_read;     /* reader: the read_index we last stored */
	uint32_t peeked;        /* reader: length of the packet peek checked */
	bool pending_set;       /* writer: we set pending_send_sz ourselves */
};

/* One piece of a packet handed to vmbus_ring_write(). */
struct vmbus_iov {
	const void *base;
	uint32_t len;
};

/*
 * Prepare a fresh ring in `pages` (the end that allocates it, normally the
 * VSC): zero the header (empty ring, unmasked) and advertise
 * pending_send_sz support. Does not touch the data area. -1 on bad
 * geometry (same rules as vmbus_ring_init), else 0.
 */
int vmbus_ring_format(void *pages, size_t bytes);

/*
 * Attach a view to the ring in `pages` (header + data, `bytes` a multiple
 * of 4096, at least two pages, `pages` 8-byte aligned). Reads the shared
 * indices once to seed the private copies. Returns 0, or -1 on bad
 * geometry or indices that are out of range or not 8-aligned.
 */
int vmbus_ring_init(struct vmbus_ring *r, void *pages, size_t bytes);

/*
 * Attach a page-vector view: the header page and ndata_pages data pages
 * (1..VMBUS_RING_MAX_PAGES, 4096 bytes each, in ring order), each mapped
 * anywhere, 8-byte aligned. The array `data_pages` is kept by pointer,
 * not copied: it must stay valid, unchanged, while the view is used (the
 * caller holds the mappings anyway; it is host memory the peer cannot
 * touch). Same index checks and return values as vmbus_ring_init.
 */
int vmbus_ring_init_pages(struct vmbus_ring *r, void *header_page,
			  void *const *data_pages, uint32_t ndata_pages);

/*
 * Writer: append the concatenation of iov[0..n) as one packet. It must
 * start with a struct vmbus_pkt_desc whose len8 * 8 is the total rounded
 * up to 8 and whose offset8 is within [2, len8]; VMBUS_RING_INVAL if not,
 * VMBUS_RING_TOOBIG if it could never fit in this ring.
 * Returns 0 (written; *signal says whether to signal the reader),
 * VMBUS_RING_AGAIN when there is no room now (when the ring supports it,
 * pending_send_sz is set so the reader signals us once there is; it is
 * cleared by the next successful write), or VMBUS_RING_CORRUPT.
 */
int vmbus_ring_write(struct vmbus_ring *r, const struct vmbus_iov *iov,
		     unsigned n, bool *signal);

/*
 * Reader: copy the next packet (descriptor included, len8 * 8 bytes) into
 * buf, checked: write_index read once and in range, len8/offset8 sane,
 * packet and trailer within the available bytes, trailer naming the
 * packet's start. Returns the packet length (> 0), 0 when the ring is
 * empty, VMBUS_RING_CORRUPT, or VMBUS_RING_TOOBIG when it is longer than
 * cap (nothing copied; r->peeked holds its length, so the caller can grow
 * buf or skip it with vmbus_ring_consume). Does not consume.
 */
int vmbus_ring_peek(struct vmbus_ring *r, void *buf, uint32_t cap);

/*
 * Reader: release the packet the last peek returned (packet_len must be
 * that length, else VMBUS_RING_INVAL), making its space the writer's.
 * Returns 0 with *signal_writer telling whether the writer waits for this
 * space, or VMBUS_RING_CORRUPT.
 */
int vmbus_ring_consume(struct vmbus_ring *r, uint32_t packet_len,
		       bool *signal_writer);

/* Bytes to read / bytes free, from the shared indices read once each;
 * 0 when they are corrupt (peek and write then report it). */
uint32_t vmbus_ring_avail_read(const struct vmbus_ring *r);
uint32_t vmbus_ring_avail_write(const struct vmbus_ring *r);

/* Reader: mask the writer's signals while polling (interrupt_mask = 1). */
void vmbus_ring_reader_begin(struct vmbus_ring *r);

/*
 * Reader, after draining: unmask (interrupt_mask = 0), then look again.
 * *more is true when a packet arrived meanwhile: its writer may have seen
 * the mask and not signalled, so the caller must keep reading.
 */
void vmbus_ring_reader_done(struct vmbus_ring *r, bool *more);

#endif
