/*
 * VMBus ring buffer (see ring.h for the layout and the signalling rules).
 *
 * Memory ordering, as in Linux's ring_buffer.c:
 *  - writer: copy the packet, then store write_index with release, so the
 *    reader that loads it with acquire sees the bytes;
 *  - reader: copy the packet out, then store read_index with release, so
 *    the writer that loads it with acquire cannot overwrite bytes still
 *    being read;
 *  - two Dekker pairs need full barriers: the writer's "publish
 *    write_index, then read interrupt_mask" against the reader's "clear
 *    interrupt_mask, then read write_index"; and the writer's "set
 *    pending_send_sz, then read read_index" against the reader's "publish
 *    read_index, then read pending_send_sz". With a full barrier on both
 *    sides at least one of them sees the other's store, so no wakeup is
 *    lost.
 *
 * Every value read from the shared pages is read once into a local, and
 * checked before it is used as an offset or a length.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "ring.h"

static uint32_t load_acquire(const volatile uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static uint32_t load_once(const volatile uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void store_release(volatile uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void store_once(volatile uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static void full_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/*
 * After copying bytes out of the shared data area into a local: the
 * compiler may not re-read the shared bytes in place of the copy (a double
 * fetch the peer could race), since as far as it knows memory changed.
 */
static void compiler_barrier(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* An index the peer handed us is usable only in range and 8-aligned. */
static bool index_ok(const struct vmbus_ring *r, uint32_t idx)
{
	return idx < r->size && !(idx & 7);
}

/* Bytes from `from` up to `to` going forward around the ring. */
static uint32_t ring_dist(const struct vmbus_ring *r, uint32_t from,
			  uint32_t to)
{
	return to >= from ? to - from : r->size - from + to;
}

static uint32_t ring_add(const struct vmbus_ring *r, uint32_t idx,
			 uint32_t n)
{
	/* idx < size and n <= size, both <= 2^30: the sum cannot overflow. */
	idx += n;
	return idx >= r->size ? idx - r->size : idx;
}

/*
 * The shared bytes at data offset pos (< size) and how many follow them
 * contiguously: up to the end of the data area in a contiguous view, up
 * to the end of pos's page in a page-vector view. Every data access goes
 * through here, so none crosses into memory that is not the ring's.
 */
static uint8_t *ring_span(const struct vmbus_ring *r, uint32_t pos,
			  uint32_t *contig)
{
	uint32_t in_page;

	if (!r->pages) {
		*contig = r->size - pos;
		return r->data + pos;
	}
	in_page = pos % VMBUS_RING_PAGE_SIZE;
	*contig = VMBUS_RING_PAGE_SIZE - in_page;
	return (uint8_t *)r->pages[pos / VMBUS_RING_PAGE_SIZE] + in_page;
}

/* Copy len (<= size) bytes out of the ring at pos, piece by piece across
 * page boundaries and the end of the data area. */
static void ring_get(const struct vmbus_ring *r, uint32_t pos, void *dst,
		     uint32_t len)
{
	uint8_t *out = dst;

	while (len) {
		uint32_t n;
		const uint8_t *src = ring_span(r, pos, &n);

		if (n > len)
			n = len;
		memcpy(out, src, n);
		out += n;
		len -= n;
		pos = ring_add(r, pos, n);
	}
}

/* Copy len bytes into the ring at pos (NULL src: zeroes); new position. */
static uint32_t ring_put(const struct vmbus_ring *r, uint32_t pos,
			 const void *src, uint32_t len)
{
	const uint8_t *in = src;

	while (len) {
		uint32_t n;
		uint8_t *dst = ring_span(r, pos, &n);

		if (n > len)
			n = len;
		if (in) {
			memcpy(dst, in, n);
			in += n;
		} else {
			memset(dst, 0, n);
		}
		len -= n;
		pos = ring_add(r, pos, n);
	}
	return pos;
}

static int geometry(void *pages, size_t bytes, uint32_t *size)
{
	if (!pages || ((uintptr_t)pages & 7) ||
	    bytes < VMBUS_RING_HEADER_SIZE + VMBUS_RING_PAGE_SIZE ||
	    bytes % VMBUS_RING_PAGE_SIZE ||
	    bytes - VMBUS_RING_HEADER_SIZE > VMBUS_RING_MAX_DATA)
		return -1;
	*size = (uint32_t)(bytes - VMBUS_RING_HEADER_SIZE);
	return 0;
}

int vmbus_ring_format(void *pages, size_t bytes)
{
	uint32_t size;

	if (geometry(pages, bytes, &size))
		return -1;
	memset(pages, 0, VMBUS_RING_HEADER_SIZE);
	((struct vmbus_ring_header *)pages)->feature_bits.value =
		VMBUS_RING_FEAT_PENDING_SEND_SZ;
	/* The peer attaches only after this end publishes the ring (a
	 * hypercall or channel message), which orders these stores. */
	return 0;
}

/* Seed the private indices from the shared ones, read once; -1 if bad. */
static int attach(struct vmbus_ring *r)
{
	uint32_t w = load_once(&r->hdr->write_index);
	uint32_t rd = load_once(&r->hdr->read_index);

	if (!index_ok(r, w) || !index_ok(r, rd))
		return -1;
	r->priv_write = w;
	r->priv_read = rd;
	r->peeked = 0;
	r->pending_set = false;
	return 0;
}

int vmbus_ring_init(struct vmbus_ring *r, void *pages, size_t bytes)
{
	uint32_t size;

	if (!r || geometry(pages, bytes, &size))
		return -1;
	r->hdr = pages;
	r->data = (uint8_t *)pages + VMBUS_RING_HEADER_SIZE;
	r->pages = NULL;
	r->size = size;
	return attach(r);
}

int vmbus_ring_init_pages(struct vmbus_ring *r, void *header_page,
			  void *const *data_pages, uint32_t ndata_pages)
{
	if (!r || !header_page || ((uintptr_t)header_page & 7) ||
	    !data_pages || !ndata_pages || ndata_pages > VMBUS_RING_MAX_PAGES)
		return -1;
	for (uint32_t i = 0; i < ndata_pages; i++)
		if (!data_pages[i] || ((uintptr_t)data_pages[i] & 7))
			return -1;
	r->hdr = header_page;
	r->data = NULL;
	r->pages = data_pages;
	r->size = ndata_pages * VMBUS_RING_PAGE_SIZE;
	return attach(r);
}

uint32_t vmbus_ring_avail_read(const struct vmbus_ring *r)
{
	uint32_t w = load_acquire(&r->hdr->write_index);
	uint32_t rd = load_acquire(&r->hdr->read_index);

	if (!index_ok(r, w) || !index_ok(r, rd))
		return 0;
	return ring_dist(r, rd, w);
}

uint32_t vmbus_ring_avail_write(const struct vmbus_ring *r)
{
	uint32_t w = load_acquire(&r->hdr->write_index);
	uint32_t rd = load_acquire(&r->hdr->read_index);

	if (!index_ok(r, w) || !index_ok(r, rd))
		return 0;
	return r->size - ring_dist(r, rd, w);
}

/* The first 16 bytes of the gathered packet, wherever the iovs split. */
static void gather_desc(const struct vmbus_iov *iov, unsigned n,
			struct vmbus_pkt_desc *desc)
{
	uint8_t *out = (uint8_t *)desc;
	uint32_t have = 0;

	for (unsigned i = 0; i < n && have < sizeof(*desc); i++) {
		uint32_t take = sizeof(*desc) - have;

		if (take > iov[i].len)
			take = iov[i].len;
		memcpy(out + have, iov[i].base, take);
		have += take;
	}
}

/* Check what the caller asks us to send; *space = ring bytes it needs. */
static int check_packet(const struct vmbus_ring *r,
			const struct vmbus_iov *iov, unsigned n,
			uint32_t *space)
{
	struct vmbus_pkt_desc desc;
	uint64_t total = 0;

	if (!iov && n)
		return VMBUS_RING_INVAL;
	for (unsigned i = 0; i < n; i++) {
		if (iov[i].len && !iov[i].base)
			return VMBUS_RING_INVAL;
		total += iov[i].len;
	}
	if (total < sizeof(desc))
		return VMBUS_RING_INVAL;
	/* A packet must leave 8 bytes free in an otherwise empty ring. */
	if (total > r->size || VMBUS_RING_PKT_SPACE(total) >= r->size)
		return VMBUS_RING_TOOBIG;
	gather_desc(iov, n, &desc);
	if ((uint64_t)desc.len8 * 8 != ((total + 7) & ~7ull) ||
	    desc.offset8 < sizeof(desc) / 8 || desc.offset8 > desc.len8)
		return VMBUS_RING_INVAL;
	*space = (uint32_t)VMBUS_RING_PKT_SPACE(total);
	return 0;
}

/* Free bytes from the reader's read_index, read once; -1 if corrupt. */
static int64_t writer_free(const struct vmbus_ring *r)
{
	/* acquire: the reader is done with the bytes before this index, so
	 * our stores into them must not be hoisted above this load. */
	uint32_t rd = load_acquire(&r->hdr->read_index);

	if (!index_ok(r, rd))
		return -1;
	return r->size - ring_dist(r, rd, r->priv_write);
}

int vmbus_ring_write(struct vmbus_ring *r, const struct vmbus_iov *iov,
		     unsigned n, bool *signal)
{
	uint32_t space, old_w, w, total = 0;
	uint64_t trailer;
	int64_t avail;
	int err;

	*signal = false;
	err = check_packet(r, iov, n, &space);
	if (err)
		return err;
	old_w = r->priv_write;
	if (load_once(&r->hdr->write_index) != old_w)
		return VMBUS_RING_CORRUPT;      /* the peer moved our index */
	avail = writer_free(r);
	if (avail < 0)
		return VMBUS_RING_CORRUPT;
	if (avail <= space) {
		/* Strictly more than `space` must be free, so that a full
		 * ring never looks empty. */
		if (!(load_once(&r->hdr->feature_bits.value) &
		      VMBUS_RING_FEAT_PENDING_SEND_SZ))
			return VMBUS_RING_AGAIN;
		store_once(&r->hdr->pending_send_sz, space);
		r->pending_set = true;
		/* Publish pending_send_sz before re-reading read_index: pairs
		 * with the barrier in consume between storing read_index and
		 * reading pending_send_sz, so either the reader sees our
		 * request or we see the space it freed. */
		full_barrier();
		avail = writer_free(r);
		if (avail < 0)
			return VMBUS_RING_CORRUPT;
		if (avail <= space)
			return VMBUS_RING_AGAIN;
	}

	w = old_w;
	for (unsigned i = 0; i < n; i++) {
		w = ring_put(r, w, iov[i].base, iov[i].len);
		total += iov[i].len;
	}
	w = ring_put(r, w, NULL, ((total + 7) & ~7u) - total);
	trailer = (uint64_t)old_w << 32;
	w = ring_put(r, w, &trailer, sizeof(trailer));

	/* release: the packet bytes above are visible before the index
	 * that hands them to the reader. */
	store_release(&r->hdr->write_index, w);
	r->priv_write = w;
	if (r->pending_set) {
		store_once(&r->hdr->pending_send_sz, 0);
		r->pending_set = false;
	}

	/* Publish write_index before reading interrupt_mask: pairs with
	 * reader_done's barrier between clearing the mask and re-reading
	 * write_index, so a reader going idle either sees this packet or
	 * we see its mask cleared. */
	full_barrier();
	if (load_once(&r->hdr->interrupt_mask))
		return 0;
	/* Signal only on empty -> non-empty: read_index still at the packet
	 * start means the reader has drained everything before it and may
	 * be waiting; otherwise it will find this packet on its own. */
	*signal = load_acquire(&r->hdr->read_index) == old_w;
	return 0;
}

/* Reader's view: read_index (ours) and write_index (the peer's), each
 * read once and checked; bytes available, or -1 if corrupt. */
static int64_t reader_avail(const struct vmbus_ring *r)
{
	uint32_t w;

	if (load_once(&r->hdr->read_index) != r->priv_read)
		return -1;              /* the peer moved our index */
	/* acquire: the packet bytes before write_index are read after it. */
	w = load_acquire(&r->hdr->write_index);
	if (!index_ok(r, w))
		return -1;
	return ring_dist(r, r->priv_read, w);
}

int vmbus_ring_peek(struct vmbus_ring *r, void *buf, uint32_t cap)
{
	struct vmbus_pkt_desc desc;
	uint32_t rd = r->priv_read, len;
	uint64_t trailer;
	int64_t avail;

	r->peeked = 0;
	avail = reader_avail(r);
	if (avail < 0)
		return VMBUS_RING_CORRUPT;
	if (avail == 0)
		return 0;
	if (avail < (int64_t)(sizeof(desc) + VMBUS_RING_TRAILER))
		return VMBUS_RING_CORRUPT;

	/* Copy the descriptor out, then judge the copy. */
	ring_get(r, rd, &desc, sizeof(desc));
	compiler_barrier();
	len = (uint32_t)desc.len8 * 8;
	if (len < sizeof(desc) || desc.offset8 < sizeof(desc) / 8 ||
	    desc.offset8 > desc.len8 ||
	    (uint64_t)len + VMBUS_RING_TRAILER > (uint64_t)avail)
		return VMBUS_RING_CORRUPT;

	/* The trailer must name the packet's start (our read index). Only
	 * the upper half is defined; Linux writes zero below. */
	ring_get(r, ring_add(r, rd, len), &trailer, sizeof(trailer));
	compiler_barrier();
	if ((uint32_t)(trailer >> 32) != rd)
		return VMBUS_RING_CORRUPT;

	r->peeked = len;
	if (len > cap)
		return VMBUS_RING_TOOBIG;
	/* The rest of the packet, then the descriptor we checked: the peer
	 * may have changed the one in the ring since we read it. */
	ring_get(r, ring_add(r, rd, sizeof(desc)),
		 (uint8_t *)buf + sizeof(desc), len - (uint32_t)sizeof(desc));
	memcpy(buf, &desc, sizeof(desc));
	return (int)len;
}

int vmbus_ring_consume(struct vmbus_ring *r, uint32_t packet_len,
		       bool *signal_writer)
{
	uint32_t old_rd = r->priv_read, new_rd, step, pending, w;
	uint32_t free_after, free_before;
	int64_t avail;

	*signal_writer = false;
	if (!packet_len || packet_len != r->peeked)
		return VMBUS_RING_INVAL;
	avail = reader_avail(r);
	if (avail < 0)
		return VMBUS_RING_CORRUPT;
	step = packet_len + VMBUS_RING_TRAILER;
	if (step > avail)               /* the writer took bytes back */
		return VMBUS_RING_CORRUPT;
	new_rd = ring_add(r, old_rd, step);

	/* release: our copies out of the packet are complete before the
	 * writer may reuse its bytes. */
	store_release(&r->hdr->read_index, new_rd);
	r->priv_read = new_rd;
	r->peeked = 0;

	if (!(load_once(&r->hdr->feature_bits.value) &
	      VMBUS_RING_FEAT_PENDING_SEND_SZ))
		return 0;               /* the writer polls when full */
	/* Publish read_index before reading pending_send_sz: pairs with the
	 * writer's barrier between setting pending_send_sz and re-reading
	 * read_index (see vmbus_ring_write). */
	full_barrier();
	pending = load_once(&r->hdr->pending_send_sz);
	if (!pending)
		return 0;
	/* Read write_index after pending_send_sz: the writer may have
	 * added packets before asking for room. */
	w = load_acquire(&r->hdr->write_index);
	if (!index_ok(r, w))
		return VMBUS_RING_CORRUPT;
	free_after = r->size - ring_dist(r, new_rd, w);
	free_before = free_after > step ? free_after - step : 0;
	/* Signal only on the crossing from "not enough" (free <=
	 * pending, as the writer needs strictly more) to "enough": a
	 * writer that already had room is not waiting. */
	*signal_writer = free_before <= pending && free_after > pending;
	return 0;
}

void vmbus_ring_reader_begin(struct vmbus_ring *r)
{
	store_once(&r->hdr->interrupt_mask, 1);
	/* Not ordered further: a writer that misses the mask just sends
	 * one signal too many. */
}

void vmbus_ring_reader_done(struct vmbus_ring *r, bool *more)
{
	store_once(&r->hdr->interrupt_mask, 0);
	/* Clear the mask before re-reading write_index: pairs with the
	 * writer's barrier between storing write_index and reading
	 * interrupt_mask, so a packet written while we were masked is
	 * either seen here or signalled. */
	full_barrier();
	*more = reader_avail(r) != 0;   /* corrupt counts: peek reports it */
}
