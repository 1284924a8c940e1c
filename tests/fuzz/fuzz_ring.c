/*
 * Fuzz target: the VMBus ring buffer (vmbus/ring.c) under a hostile peer.
 * Input: a flags byte, five header words (write_index, read_index,
 * interrupt_mask, pending_send_sz, feature_bits), a u16 count and that
 * many bytes of data area, then 4-byte operations (op, arg, u16 val):
 * peek into a buffer of exactly `cap` bytes, consume, write our own
 * packets, poke header words or data bytes as the peer, mask/unmask, and
 * re-attach. The ring is malloc'ed at exactly header + data, so ASan
 * catches any access outside it; with FLAG_PAGES the views are page-vector
 * ones (vmbus_ring_init_pages) over pages malloc'ed one by one, last
 * first, so an access that runs past a page instead of moving to the next
 * one is caught too. Invariants abort(): lengths within cap
 * and the ring, our own indices in range and 8-aligned after our writes
 * and consumes, and, while the peer has not touched the ring since it was
 * formatted, every packet reads back exactly as we wrote it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ring.h"

#define PAGE 4096u
#define HDR_IN 21u              /* flags + five words */
#define MAX_OPS 256
#define QMAX 1024               /* more than a 2-page ring can hold */

#define FLAG_TWO_PAGES 1u
#define FLAG_FORMAT    2u
#define FLAG_PAGES     4u

/* The ring under test: contiguous (mem = header + data) or a header page
 * (mem) and separate data pages. */
struct fring {
	uint8_t *mem;
	size_t bytes;
	void *pages[2];
	uint32_t npages;
	bool paged;
};

static int fring_attach(struct fring *f, struct vmbus_ring *v)
{
	if (f->paged)
		return vmbus_ring_init_pages(v, f->mem, f->pages, f->npages);
	return vmbus_ring_init(v, f->mem, f->bytes);
}

static uint8_t *fring_byte(struct fring *f, uint32_t off)
{
	off %= f->npages * PAGE;
	if (f->paged)
		return (uint8_t *)f->pages[off / PAGE] + off % PAGE;
	return f->mem + PAGE + off;
}

struct model {
	uint32_t len[QMAX];
	uint32_t sum[QMAX];
	unsigned head, count;
};

static uint32_t sum_bytes(const uint8_t *p, uint32_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void check_index(const struct vmbus_ring *r, uint32_t idx)
{
	if (idx >= r->size || (idx & 7))
		abort();
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The peer sets a header word: to val, or to a value near an edge. */
static void poke_header(volatile struct vmbus_ring_header *h, uint32_t size,
			uint8_t arg, uint16_t val)
{
	static const uint32_t edge[] = { 0, 8, 4, 0xfffffff8u, 0x80000000u };
	volatile uint32_t *word[] = {
		&h->write_index, &h->read_index, &h->interrupt_mask,
		&h->pending_send_sz, &h->feature_bits.value,
	};
	uint32_t v;

	switch (arg >> 4 & 3) {
	case 0:  v = val; break;
	case 1:  v = size - (val & 0xff); break;
	case 2:  v = edge[val % 5]; break;
	default: v = (val & ~7u) % size; break;
	}
	*word[(arg & 15) % 5] = v;
}

static void op_write(struct vmbus_ring *w, struct model *m, bool clean,
		     uint8_t arg, uint16_t val)
{
	static uint8_t pkt[2 * PAGE + 64];
	struct vmbus_pkt_desc d = { .type = 6, .offset8 = 2, .trans_id = val };
	uint32_t plen = val % (w->size + 16), total = 16 + plen, cut;
	struct vmbus_iov iov[3];
	bool sig, was_empty = vmbus_ring_avail_read(w) == 0;
	uint32_t mask = w->hdr->interrupt_mask;
	int err;

	d.len8 = (uint16_t)((total + 7) / 8);
	if (arg & 0x80)                 /* our own mistake, now and then */
		d.offset8 = arg & 7;
	memcpy(pkt, &d, 16);
	for (uint32_t i = 16; i < total; i++)
		pkt[i] = (uint8_t)(i * 13 + val);
	memset(pkt + total, 0, 8);
	/* Split anywhere, including inside the descriptor. */
	cut = arg % 40 < total ? arg % 40 : total;
	iov[0] = (struct vmbus_iov){ pkt, cut };
	iov[1] = (struct vmbus_iov){ pkt + cut, (total - cut) / 2 };
	iov[2] = (struct vmbus_iov){ pkt + cut + (total - cut) / 2,
				     total - cut - (total - cut) / 2 };
	err = vmbus_ring_write(w, iov, 3, &sig);
	if (err == 0) {
		check_index(w, w->hdr->write_index);
		if (w->hdr->write_index != w->priv_write)
			abort();
		/* Signal exactly on empty -> non-empty to an unmasked reader. */
		if (clean && sig != (was_empty && !mask))
			abort();
		if (clean) {
			uint32_t len = (total + 7) & ~7u;

			if (m->count == QMAX)
				abort();
			m->len[(m->head + m->count) % QMAX] = len;
			m->sum[(m->head + m->count) % QMAX] = sum_bytes(pkt, len);
			m->count++;
		}
	} else if (sig) {
		abort();                /* no signal for a packet not sent */
	} else if (clean && err == VMBUS_RING_CORRUPT) {
		abort();                /* only the peer can corrupt the ring */
	} else if (clean && err == VMBUS_RING_AGAIN &&
		   vmbus_ring_avail_write(w) > VMBUS_RING_PKT_SPACE(total)) {
		abort();                /* refused although it fitted */
	}
}

static void op_peek(struct vmbus_ring *r, struct model *m, bool clean,
		    uint16_t val)
{
	uint32_t cap = val % (r->size + 64);
	uint8_t *buf = malloc(cap ? cap : 1);
	int len;

	if (!buf)
		abort();
	len = vmbus_ring_peek(r, cap ? buf : NULL, cap);
	if (len > 0) {
		if ((uint32_t)len > cap || (uint32_t)len > r->size - 8 ||
		    len < 16 || (len & 7) || r->peeked != (uint32_t)len)
			abort();
		if (clean && (!m->count || m->len[m->head] != (uint32_t)len ||
			      m->sum[m->head] != sum_bytes(buf, (uint32_t)len)))
			abort();
	} else if (len == VMBUS_RING_TOOBIG) {
		if (r->peeked <= cap || r->peeked > r->size - 8)
			abort();
	} else if (len == 0) {
		if (clean && m->count)
			abort();
	} else if (clean || len != VMBUS_RING_CORRUPT) {
		abort();
	}
	free(buf);
}

static void op_consume(struct vmbus_ring *r, struct model *m, bool clean,
		       uint8_t arg, uint16_t val)
{
	uint32_t len = arg & 1 ? r->peeked : val;
	bool peeked = len && len == r->peeked, sig;
	int err = vmbus_ring_consume(r, len, &sig);

	if (err == 0) {
		if (!peeked)
			abort();
		check_index(r, r->hdr->read_index);
		if (clean) {
			if (!m->count || m->len[m->head] != len)
				abort();
			m->head = (m->head + 1) % QMAX;
			m->count--;
		}
	} else if (sig || (clean && err != VMBUS_RING_INVAL)) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct vmbus_ring w, r;
	struct fring f;
	uint32_t rsize, dlen, hw[5];
	size_t pos;
	uint8_t *scratch;
	bool clean, more;

	if (size < HDR_IN + 2)
		return 0;
	f.npages = data[0] & FLAG_TWO_PAGES ? 2 : 1;
	f.paged = data[0] & FLAG_PAGES;
	rsize = f.npages * PAGE;
	f.bytes = PAGE + rsize;
	f.mem = malloc(f.paged ? PAGE : f.bytes);
	if (!f.mem)
		abort();
	memset(f.mem, 0, f.paged ? PAGE : f.bytes);
	for (uint32_t i = f.npages; f.paged && i-- > 0;) {
		f.pages[i] = calloc(1, PAGE);
		if (!f.pages[i])
			abort();
	}
	for (int i = 0; i < 5; i++)
		hw[i] = get32(data + 1 + 4 * i);
	dlen = (uint32_t)data[HDR_IN] | (uint32_t)data[HDR_IN + 1] << 8;
	pos = HDR_IN + 2;
	if (dlen > size - pos)
		dlen = (uint32_t)(size - pos);
	for (uint32_t i = 0; i < dlen && i < rsize; i++)
		*fring_byte(&f, i) = data[pos + i];
	pos += dlen;

	/* format touches only the header: a scratch contiguous ring gives
	 * the paged one its header. */
	scratch = malloc(2 * PAGE);
	if (!scratch || vmbus_ring_format(scratch, 2 * PAGE))
		abort();
	memcpy(f.mem, scratch, PAGE);
	free(scratch);
	clean = data[0] & FLAG_FORMAT;
	if (!clean) {
		volatile struct vmbus_ring_header *h = (void *)f.mem;

		h->write_index = hw[0];
		h->read_index = hw[1];
		h->interrupt_mask = hw[2];
		h->pending_send_sz = hw[3];
		h->feature_bits.value = hw[4];
		/* A header init refuses: attach to a clean one, then let the
		 * peer break it, so the operations meet the bad indices. */
		if (fring_attach(&f, &w)) {
			h->write_index = h->read_index = 0;
			if (fring_attach(&f, &w))
				abort();
			h->write_index = hw[0];
			h->read_index = hw[1];
		}
	} else if (fring_attach(&f, &w)) {
		abort();
	}
	r = w;
	m.head = m.count = 0;

	for (unsigned n = 0; n < MAX_OPS && pos + 4 <= size; n++, pos += 4) {
		uint8_t op = data[pos], arg = data[pos + 1];
		uint16_t val = (uint16_t)(data[pos + 2] | data[pos + 3] << 8);
		uint32_t a, b;

		switch (op % 10) {
		case 0:
		case 1:
			op_write(&w, &m, clean, arg, val);
			break;
		case 2:
		case 3:
			op_peek(&r, &m, clean, val);
			break;
		case 4:
			op_consume(&r, &m, clean, arg, val);
			break;
		case 5:
			poke_header(w.hdr, rsize, arg, val);
			clean = false;
			break;
		case 6:                 /* the peer scribbles on the data */
			*fring_byte(&f, (uint32_t)arg << 16 | val) ^= (uint8_t)(val | 1);
			clean = false;
			break;
		case 7:
			if (arg & 1)
				vmbus_ring_reader_begin(&r);
			else
				vmbus_ring_reader_done(&r, &more);
			break;
		case 8:
			a = vmbus_ring_avail_read(&r);
			b = vmbus_ring_avail_write(&w);
			if (a > rsize || b > rsize || ((a || b) && a + b != rsize))
				abort();
			if (clean && (a + b != rsize || b < 8))
				abort();
			break;
		default:                /* re-attach, as after a restart */
			if (fring_attach(&f, arg & 1 ? &r : &w) == 0 &&
			    (w.hdr != r.hdr || w.size != rsize))
				abort();
			break;
		}
	}
	free(f.mem);
	for (uint32_t i = 0; f.paged && i < f.npages; i++)
		free(f.pages[i]);
	return 0;
}

static void put_op(uint8_t *buf, size_t *n, uint8_t op, uint8_t arg,
		   uint16_t val)
{
	buf[(*n)++] = op;
	buf[(*n)++] = arg;
	buf[(*n)++] = (uint8_t)val;
	buf[(*n)++] = (uint8_t)(val >> 8);
}

/* Valid starting points: formatted rings driven through writes, peeks and
 * consumes, and a peer-made ring holding one good packet. */
size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	if (i > 7 || cap < 2048)
		return 0;
	memset(buf, 0, HDR_IN + 2);
	buf[0] = (uint8_t)(i & 1 ? FLAG_TWO_PAGES : 0) |
		 (i % 4 == 2 ? 0 : FLAG_FORMAT) | (i & 4 ? FLAG_PAGES : 0);
	i %= 4;
	n = HDR_IN + 2;
	if (i == 2) {
		/* write_index 64: a 56-byte packet at 0, trailer 0. */
		struct vmbus_pkt_desc d = { .type = 6, .offset8 = 2, .len8 = 7 };

		buf[1] = 64;
		buf[17] = 1;            /* feature_bits */
		buf[HDR_IN] = 64;
		memcpy(buf + n, &d, 16);
		memset(buf + n + 16, 0x42, 40);
		memset(buf + n + 56, 0, 8);
		n += 64;
		put_op(buf, &n, 2, 0, 200);
		put_op(buf, &n, 4, 1, 0);
		put_op(buf, &n, 0, 3, 500);
		put_op(buf, &n, 2, 0, 4000);
		put_op(buf, &n, 4, 1, 0);
		return n;
	}
	for (unsigned k = 0; k < 24; k++) {
		put_op(buf, &n, 0, (uint8_t)(k * 7), (uint16_t)(k * 97 % 1800));
		if (k % 3 == 2) {
			put_op(buf, &n, 2, 0, 4000);
			put_op(buf, &n, 4, 1, 0);
		}
		if (k % 5 == 4)
			put_op(buf, &n, 8, 0, 0);
		if (i == 3 && k % 4 == 0)
			put_op(buf, &n, 7, (uint8_t)k, 0);
	}
	for (unsigned k = 0; k < 20; k++) {
		put_op(buf, &n, 3, 0, (uint16_t)(k % 4 ? 4000 : 40));
		put_op(buf, &n, 4, 1, 0);
	}
	if (i == 3)
		put_op(buf, &n, 5, 0x11, 3);
	put_op(buf, &n, 2, 0, 4000);
	return n;
}
