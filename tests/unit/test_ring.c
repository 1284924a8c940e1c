/*
 * Host tests for the VMBus ring buffer (vmbus/ring.c): packets of many
 * sizes across the wrap, a full ring and pending_send_sz, interrupt
 * suppression, a hostile peer's corrupt indices and descriptors, and a
 * channel (two rings back to back) driven by a producer and a consumer
 * interleaved for 10k packets each way. Rings are malloc'ed at exactly
 * header + data bytes so AddressSanitizer sees any access outside them.
 *
 * Every scenario runs twice: on contiguous rings, then on page-vector
 * views (vmbus_ring_init_pages) whose pages are separate heap blocks
 * allocated in reverse order, so a copy that runs across a page boundary
 * instead of jumping to the next page's block is an ASan error.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "ring.h"

#define PAGE 4096u

/* Page-vector views for the second run of every scenario. */
static bool page_mode;

struct tring {
	uint8_t *mem;           /* contiguous: header + data; pages: header */
	size_t bytes;
	void *pages[16];        /* page mode: the data pages */
	uint32_t npages;
	struct vmbus_ring w;    /* the writer's view */
	struct vmbus_ring r;    /* the reader's view */
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static int tring_attach(struct tring *t, struct vmbus_ring *v)
{
	if (page_mode)
		return vmbus_ring_init_pages(v, t->mem, t->pages, t->npages);
	return vmbus_ring_init(v, t->mem, t->bytes);
}

static void tring_open(struct tring *t, unsigned data_pages)
{
	if (data_pages > 16)
		abort();
	t->npages = data_pages;
	t->bytes = PAGE + (size_t)data_pages * PAGE;
	if (page_mode) {
		/* Last page first: neighbours in the ring are not neighbours
		 * in memory. */
		for (unsigned i = data_pages; i-- > 0;) {
			t->pages[i] = malloc(PAGE);
			if (!t->pages[i])
				abort();
			memset(t->pages[i], 0xee, PAGE);
		}
		t->mem = malloc(PAGE);
		if (!t->mem)
			abort();
		memset(t->mem, 0xee, PAGE);
		/* format wants a contiguous ring: it only touches the header,
		 * so hand it a scratch one and keep that header. */
		uint8_t *scratch = malloc(2 * PAGE);

		if (!scratch || vmbus_ring_format(scratch, 2 * PAGE))
			abort();
		memcpy(t->mem, scratch, PAGE);
		free(scratch);
	} else {
		t->mem = malloc(t->bytes);
		if (!t->mem)
			abort();
		memset(t->mem, 0xee, t->bytes);         /* data area: garbage */
		if (vmbus_ring_format(t->mem, t->bytes))
			abort();
	}
	if (tring_attach(t, &t->w) || tring_attach(t, &t->r))
		abort();
}

static void tring_close(struct tring *t)
{
	free(t->mem);
	t->mem = NULL;
	if (page_mode)
		for (unsigned i = 0; i < t->npages; i++)
			free(t->pages[i]);
}

/* Byte `off` of the data area, in either mode. */
static uint8_t *tbyte(struct tring *t, uint32_t off)
{
	off %= t->npages * PAGE;
	if (page_mode)
		return (uint8_t *)t->pages[off / PAGE] + off % PAGE;
	return t->mem + PAGE + off;
}

/* The peer's raw access to the data area, wrapping at its end. */
static void tdata_get(struct tring *t, uint32_t off, void *buf, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		((uint8_t *)buf)[i] = *tbyte(t, off + i);
}

static void tdata_put(struct tring *t, uint32_t off, const void *buf,
		      uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		*tbyte(t, off + i) = ((const uint8_t *)buf)[i];
}

static struct vmbus_ring_header *hdr(struct tring *t)
{
	return (struct vmbus_ring_header *)t->mem;
}

/* Byte i of the payload of packet `id`. */
static uint8_t pattern(uint64_t id, uint32_t i)
{
	return (uint8_t)(id * 131 + i * 7 + (i >> 8));
}

/* Send a data packet with `plen` payload bytes; the payload goes in up to
 * three pieces to exercise the gather. trans_id = id. */
static int send(struct vmbus_ring *w, uint64_t id, uint32_t plen,
		bool *signal)
{
	static uint8_t payload[3 * PAGE * 4];
	struct vmbus_pkt_desc d = {
		.type = 6, .offset8 = 2, .flags = 0, .trans_id = id,
		.len8 = (uint16_t)((sizeof(d) + plen + 7) / 8),
	};
	struct vmbus_iov iov[4] = { { &d, sizeof(d) } };
	uint32_t a = plen / 3, b = plen / 2;

	for (uint32_t i = 0; i < plen; i++)
		payload[i] = pattern(id, i);
	iov[1] = (struct vmbus_iov){ payload, a };
	iov[2] = (struct vmbus_iov){ payload + a, b - a };
	iov[3] = (struct vmbus_iov){ payload + b, plen - b };
	return vmbus_ring_write(w, iov, 4, signal);
}

/* The packet in buf (len bytes) is the one send(id, plen) wrote. */
static bool is_packet(const uint8_t *buf, int len, uint64_t id,
		      uint32_t plen)
{
	struct vmbus_pkt_desc d;

	if (len != (int)((sizeof(d) + plen + 7) & ~7u))
		return false;
	memcpy(&d, buf, sizeof(d));
	if (d.trans_id != id || d.offset8 != 2 || d.len8 * 8 != len)
		return false;
	for (uint32_t i = 0; i < plen; i++)
		if (buf[sizeof(d) + i] != pattern(id, i))
			return false;
	for (uint32_t i = sizeof(d) + plen; i < (uint32_t)len; i++)
		if (buf[i])
			return false;   /* padding is zeroes */
	return true;
}

/* Peek, check, consume the packet send(id, plen) wrote. */
static bool recv_expect(struct vmbus_ring *r, uint64_t id, uint32_t plen,
			bool *signal_writer)
{
	static uint8_t buf[4 * PAGE];
	int len = vmbus_ring_peek(r, buf, sizeof(buf));

	if (len <= 0 || !is_packet(buf, len, id, plen))
		return false;
	return vmbus_ring_consume(r, (uint32_t)len, signal_writer) == 0;
}

static void test_geometry(void)
{
	struct vmbus_ring r;
	uint8_t *mem = malloc(3 * PAGE);

	CHECK(vmbus_ring_init(&r, NULL, 2 * PAGE) == -1, "init: NULL pages");
	CHECK(vmbus_ring_init(&r, mem, PAGE) == -1, "init: header only");
	CHECK(vmbus_ring_init(&r, mem, 2 * PAGE - 8) == -1,
	      "init: less than two pages");
	CHECK(vmbus_ring_init(&r, mem, 2 * PAGE + 8) == -1,
	      "init: not a page multiple");
	CHECK(vmbus_ring_init(&r, mem + 4, 2 * PAGE) == -1,
	      "init: misaligned pages");
	CHECK(vmbus_ring_init(&r, mem, (size_t)VMBUS_RING_MAX_DATA + 2 * PAGE)
	      == -1, "init: data area too large");
	CHECK(vmbus_ring_format(mem, PAGE) == -1, "format: bad geometry");
	CHECK(vmbus_ring_format(mem, 3 * PAGE) == 0 &&
	      ((struct vmbus_ring_header *)mem)->feature_bits.value == 1 &&
	      ((struct vmbus_ring_header *)mem)->write_index == 0,
	      "format: empty ring with feat_pending_send_sz");
	CHECK(vmbus_ring_init(&r, mem, 3 * PAGE) == 0 && r.size == 2 * PAGE &&
	      r.data == mem + PAGE, "init: 2 data pages after the header");
	((struct vmbus_ring_header *)mem)->write_index = 2 * PAGE;
	CHECK(vmbus_ring_init(&r, mem, 3 * PAGE) == -1,
	      "init: write_index == size rejected");
	((struct vmbus_ring_header *)mem)->write_index = 0;
	((struct vmbus_ring_header *)mem)->read_index = 20;
	CHECK(vmbus_ring_init(&r, mem, 3 * PAGE) == -1,
	      "init: unaligned read_index rejected");
	CHECK(offsetof(struct vmbus_ring_header, feature_bits) == 64 &&
	      sizeof(struct vmbus_ring_header) == PAGE &&
	      sizeof(struct vmbus_pkt_desc) == 16, "wire layout");
	free(mem);
}

static void test_geometry_pages(void)
{
	struct vmbus_ring r;
	uint8_t *hp = malloc(PAGE), *p0 = malloc(PAGE), *p1 = malloc(PAGE);
	void *pages[VMBUS_RING_MAX_PAGES + 1];
	struct vmbus_ring_header *h = (struct vmbus_ring_header *)hp;
	uint8_t b = 0;

	memset(hp, 0, PAGE);
	for (unsigned i = 0; i <= VMBUS_RING_MAX_PAGES; i++)
		pages[i] = i & 1 ? p1 : p0;
	CHECK(vmbus_ring_init_pages(&r, NULL, pages, 2) == -1,
	      "init_pages: NULL header");
	CHECK(vmbus_ring_init_pages(&r, hp, NULL, 2) == -1,
	      "init_pages: NULL page array");
	CHECK(vmbus_ring_init_pages(&r, hp, pages, 0) == -1,
	      "init_pages: no data page");
	CHECK(vmbus_ring_init_pages(&r, hp, pages, VMBUS_RING_MAX_PAGES + 1)
	      == -1, "init_pages: more than VMBUS_RING_MAX_PAGES");
	CHECK(vmbus_ring_init_pages(&r, hp, pages, VMBUS_RING_MAX_PAGES) == 0 &&
	      r.size == VMBUS_RING_MAX_PAGES * PAGE,
	      "init_pages: VMBUS_RING_MAX_PAGES accepted");
	CHECK(vmbus_ring_init_pages(&r, hp + 4, pages, 2) == -1,
	      "init_pages: misaligned header");
	pages[1] = p1 + 4;
	CHECK(vmbus_ring_init_pages(&r, hp, pages, 2) == -1,
	      "init_pages: misaligned data page");
	pages[1] = NULL;
	CHECK(vmbus_ring_init_pages(&r, hp, pages, 2) == -1,
	      "init_pages: NULL data page");
	pages[1] = p1;
	h->write_index = 2 * PAGE;
	CHECK(vmbus_ring_init_pages(&r, hp, pages, 2) == -1,
	      "init_pages: write_index == size rejected");
	h->write_index = 0;
	CHECK(vmbus_ring_init_pages(&r, hp, pages, 2) == 0 && !r.data &&
	      r.pages == pages && r.size == 2 * PAGE &&
	      vmbus_ring_avail_read(&r) == 0 && vmbus_ring_peek(&r, &b, 1) == 0,
	      "init_pages: 2 data pages, empty ring");
	free(hp);
	free(p0);
	free(p1);
}

/* One packet at a time, every payload size 0..700 then larger ones: the
 * indices wrap the data area many times, at every 8-byte offset; with
 * several pages, packets straddle every page boundary too. */
static void test_sizes_wrap(unsigned data_pages)
{
	struct tring t;
	unsigned bad = 0, nosig = 0, wraps = 0, n = 0;
	uint32_t last_w = 0;
	bool sig, wsig;

	tring_open(&t, data_pages);
	for (uint32_t plen = 0; plen < 4096 - 16 - 8 - 8; plen += plen < 700 ? 1 : 37) {
		for (int rep = 0; rep < 3; rep++, n++) {
			if (send(&t.w, n, plen, &sig))
				bad++;
			if (!sig)
				nosig++;
			if (!recv_expect(&t.r, n, plen, &wsig) || wsig)
				bad++;
			if (hdr(&t)->write_index < last_w)
				wraps++;
			last_w = hdr(&t)->write_index;
			if (hdr(&t)->read_index != last_w)
				bad++;
		}
	}
	CHECK(bad == 0, "%u packets of %u sizes read back intact", n, n / 3);
	CHECK(nosig == 0, "every write to an empty ring signals");
	CHECK(wraps > 100 / data_pages, "%u data pages: indices wrapped %u times",
	      data_pages, wraps);
	tring_close(&t);
}

/* Fill the ring with random sizes, drain it, repeat. */
static void test_batches(void)
{
	struct tring t;
	uint64_t s = 99, id = 0, rid = 0;
	uint32_t sizes[512];
	unsigned bad = 0, fulls = 0, total = 0, sigs = 0;
	bool sig;

	tring_open(&t, 2);
	for (int round = 0; round < 200; round++) {
		unsigned n = 0;
		int err;

		for (;;) {
			uint32_t plen = (uint32_t)(rnd(&s) % 1500);

			if (n == 512) {         /* a ring that never fills */
				err = 0;
				bad++;
				break;
			}

			err = send(&t.w, id, plen, &sig);
			if (err)
				break;
			sigs += sig;
			sizes[n++] = plen;
			id++;
			if (vmbus_ring_avail_read(&t.r) +
			    vmbus_ring_avail_write(&t.w) != t.w.size)
				bad++;
		}
		if (err == VMBUS_RING_AGAIN &&
		    vmbus_ring_avail_write(&t.w) >= 8)
			fulls++;
		for (unsigned i = 0; i < n; i++, rid++)
			if (!recv_expect(&t.r, rid, sizes[i], &sig))
				bad++;
		total += n;
		if (vmbus_ring_peek(&t.r, NULL, 0) != 0)
			bad++;
	}
	CHECK(bad == 0, "%u packets in 200 full batches read back in order",
	      total);
	CHECK(fulls == 200, "each batch ends in VMBUS_RING_AGAIN, >= 8 bytes free");
	CHECK(sigs == 200, "one signal per batch (empty -> non-empty): %u", sigs);
	tring_close(&t);
}

static void test_full_pending(void)
{
	struct tring t;
	unsigned n = 0, sigs = 0, consumed = 0, late = 0;
	uint32_t big_space = VMBUS_RING_PKT_SPACE(16 + 2000);
	bool sig;
	int err;

	tring_open(&t, 1);
	while (n < 1000 && send(&t.w, n, 100, &sig) == 0)
		n++;
	CHECK(n == 4096 / VMBUS_RING_PKT_SPACE(116) - (4096 % VMBUS_RING_PKT_SPACE(116) ? 0 : 1),
	      "%u packets of 128 bytes fill a 4 KiB ring", n);
	err = send(&t.w, 999, 2000, &sig);
	CHECK(err == VMBUS_RING_AGAIN && !sig, "full ring: VMBUS_RING_AGAIN");
	CHECK(hdr(&t)->pending_send_sz == big_space,
	      "pending_send_sz set to the space needed (%u)",
	      hdr(&t)->pending_send_sz);
	/* Free packets one by one: exactly one consume crosses the mark. */
	for (unsigned i = 0; i < n; i++) {
		if (!recv_expect(&t.r, i, 100, &sig))
			break;
		consumed++;
		if (sig) {
			sigs++;
			if (vmbus_ring_avail_write(&t.w) <= big_space ||
			    vmbus_ring_avail_write(&t.w) > big_space + VMBUS_RING_PKT_SPACE(116))
				late++;
		}
	}
	CHECK(consumed == n && sigs == 1 && !late,
	      "the writer is signalled once, when free space crosses pending_send_sz");
	CHECK(send(&t.w, 999, 2000, &sig) == 0 && sig,
	      "the big packet then fits");
	CHECK(hdr(&t)->pending_send_sz == 0,
	      "a successful write clears pending_send_sz");
	CHECK(recv_expect(&t.r, 999, 2000, &sig) && !sig,
	      "no writer signal without pending_send_sz");
	tring_close(&t);

	/* Without the feature bit the writer polls: no request, no signal. */
	tring_open(&t, 1);
	hdr(&t)->feature_bits.value = 0;
	n = 0;
	while (n < 1000 && send(&t.w, n, 100, &sig) == 0)
		n++;
	CHECK(send(&t.w, 999, 2000, &sig) == VMBUS_RING_AGAIN &&
	      hdr(&t)->pending_send_sz == 0,
	      "no feature bit: VMBUS_RING_AGAIN, pending_send_sz untouched");
	hdr(&t)->pending_send_sz = 2024; /* ignored without the feature bit */
	sigs = 0;
	for (unsigned i = 0; i < n; i++)
		if (recv_expect(&t.r, i, 100, &sig) && sig)
			sigs++;
	CHECK(sigs == 0, "no feature bit: the reader never signals the writer");
	tring_close(&t);

	/* A packet that could never fit. */
	tring_open(&t, 1);
	CHECK(send(&t.w, 1, 4096 - 16 - 8 - 8 + 1, &sig) == VMBUS_RING_TOOBIG,
	      "a packet leaving less than 8 bytes of an empty ring: TOOBIG");
	CHECK(send(&t.w, 1, 4096 - 16 - 8 - 8, &sig) == 0 && sig,
	      "the largest packet fits an empty ring");
	tring_close(&t);
}

static void test_interrupts(void)
{
	struct tring t;
	bool sig, more;

	tring_open(&t, 1);
	CHECK(send(&t.w, 1, 10, &sig) == 0 && sig,
	      "write to an empty ring signals");
	CHECK(send(&t.w, 2, 10, &sig) == 0 && !sig,
	      "write to a non-empty ring does not");
	CHECK(recv_expect(&t.r, 1, 10, &sig) && send(&t.w, 3, 10, &sig) == 0 &&
	      !sig, "still no signal while the reader is behind");
	recv_expect(&t.r, 2, 10, &sig);
	recv_expect(&t.r, 3, 10, &sig);
	vmbus_ring_reader_begin(&t.r);
	CHECK(send(&t.w, 4, 10, &sig) == 0 && !sig,
	      "masked reader: no signal even on empty -> non-empty");
	CHECK(recv_expect(&t.r, 4, 10, &sig), "reader drains");
	/* A packet written between the drain and the unmask... */
	CHECK(send(&t.w, 5, 10, &sig) == 0 && !sig,
	      "packet written after the drain, before the unmask: no signal");
	vmbus_ring_reader_done(&t.r, &more);
	CHECK(more && hdr(&t)->interrupt_mask == 0,
	      "...is found by reader_done's re-check");
	CHECK(recv_expect(&t.r, 5, 10, &sig), "and read");
	vmbus_ring_reader_done(&t.r, &more);
	CHECK(!more, "reader_done on an empty ring: nothing more");
	CHECK(send(&t.w, 6, 10, &sig) == 0 && sig,
	      "unmasked and empty again: the next write signals");
	tring_close(&t);
}

/*
 * The signal decision at the points where reader and writer race (the
 * two Dekker pairs of ring.c), each interleaving played step by step:
 * the writer finds the mask set and stays quiet, and the reader's unmask
 * and second look then finds its packet; or the reader unmasks first and
 * the writer, finding the ring empty and unmasked, signals. Either way
 * exactly one of "signal" and "more" holds, so no wakeup is lost.
 */
static void test_signal_races(void)
{
	struct tring t;
	bool sig, more;
	uint32_t w;

	tring_open(&t, 2);
	/* Reader masked and draining; the writer publishes into the empty
	 * ring and sees the mask: no signal. */
	vmbus_ring_reader_begin(&t.r);
	CHECK(hdr(&t)->interrupt_mask == 1, "reader_begin sets interrupt_mask");
	CHECK(send(&t.w, 1, 40, &sig) == 0 && !sig,
	      "race 1: writer sees the mask set: no signal on empty -> non-empty");
	/* The reader had already seen an empty ring and goes idle: its
	 * unmask and re-check must find the packet. */
	vmbus_ring_reader_done(&t.r, &more);
	CHECK(more && hdr(&t)->interrupt_mask == 0,
	      "race 1: the reader clears the mask, re-checks and finds it");
	CHECK(recv_expect(&t.r, 1, 40, &sig), "race 1: and reads it");
	vmbus_ring_reader_done(&t.r, &more);
	CHECK(!more, "race 1: then idle, nothing more");

	/* Reader unmasked first, then the writer: it must signal. */
	vmbus_ring_reader_begin(&t.r);
	vmbus_ring_reader_done(&t.r, &more);
	CHECK(!more && send(&t.w, 2, 40, &sig) == 0 && sig,
	      "race 2: reader idle and unmasked first: the writer signals");
	CHECK(recv_expect(&t.r, 2, 40, &sig), "race 2: packet read");

	/* The writer's half done by hand: write_index published, mask not
	 * yet read. The reader unmasking now sees the packet (more); had the
	 * writer read the mask after that, it would signal as well: a
	 * spare wakeup, never a lost one. */
	w = hdr(&t)->write_index;
	vmbus_ring_reader_begin(&t.r);
	CHECK(send(&t.w, 3, 40, &sig) == 0 && !sig, "race 3: masked write");
	vmbus_ring_reader_done(&t.r, &more);
	CHECK(more && hdr(&t)->write_index != w,
	      "race 3: write_index published before the mask was cleared: found");
	CHECK(recv_expect(&t.r, 3, 40, &sig), "race 3: packet read");

	/* Not empty before the write: no signal even unmasked, the reader
	 * is awake (it has not drained the previous packet). */
	vmbus_ring_reader_done(&t.r, &more);
	CHECK(send(&t.w, 4, 40, &sig) == 0 && sig &&
	      send(&t.w, 5, 40, &sig) == 0 && !sig,
	      "unmasked: only the write into the empty ring signals");
	CHECK(recv_expect(&t.r, 4, 40, &sig) && recv_expect(&t.r, 5, 40, &sig),
	      "both read in order");
	tring_close(&t);
}

/*
 * A hostile peer's interrupt_mask, pending_send_sz and feature bits:
 * any value leaves both ends working. A writer never blocks on a mask
 * (it only decides not to signal); a reader that set the mask rewrites
 * it; a pending_send_sz beyond the ring never signals and never makes
 * consume fail.
 */
static void test_hostile_signal_fields(void)
{
	static const uint32_t junk[] = { 2, 0x80000000u, 0xffffffffu, 0xdeadbeefu };
	struct tring t;
	bool sig, more;
	unsigned bad = 0;

	tring_open(&t, 1);
	for (unsigned i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		hdr(&t)->interrupt_mask = junk[i];
		if (send(&t.w, 10 + i, 20, &sig) || sig)
			bad++;          /* nonzero is "masked": quiet, not stuck */
		vmbus_ring_reader_done(&t.r, &more);
		if (!more || hdr(&t)->interrupt_mask != 0 ||
		    !recv_expect(&t.r, 10 + i, 20, &sig))
			bad++;
	}
	CHECK(!bad, "junk interrupt_mask: written quietly, reader unmasks and reads");

	for (unsigned i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		uint32_t v = i == 0 ? t.r.size + 8 : junk[i];

		hdr(&t)->pending_send_sz = v;
		if (send(&t.w, 20 + i, 20, &sig) ||
		    !recv_expect(&t.r, 20 + i, 20, &sig) || sig)
			bad++;
	}
	CHECK(!bad, "pending_send_sz beyond the ring: consume works, never signals");

	/* A small pending_send_sz the writer never asked for: at worst a
	 * spare signal, and the ring goes on. */
	hdr(&t)->pending_send_sz = 8;
	for (unsigned i = 0; i < 200; i++)
		if (send(&t.w, 100 + i, 100, &sig) || !recv_expect(&t.r, 100 + i, 100, &sig))
			bad++;
	hdr(&t)->feature_bits.value = 0xffffffffu;
	hdr(&t)->pending_send_sz = 0xffffffffu;
	for (unsigned i = 0; i < 200; i++)
		if (send(&t.w, 300 + i, 100, &sig) || !recv_expect(&t.r, 300 + i, 100, &sig))
			bad++;
	CHECK(!bad, "small or junk pending_send_sz and feature bits: 400 packets through");
	tring_close(&t);
}

/*
 * The same protocol with real concurrency: a writer thread and a reader
 * thread on one 1-page ring, each sleeping until the other signals
 * (a doorbell counter), exactly as the decisions of vmbus_ring_write,
 * _consume and _reader_done tell them. A lost wakeup leaves one side
 * asleep with work waiting: it is caught by a 10 s deadline, not a
 * hang. Checks every packet arrives, in order, intact.
 */
#define RACE_PACKETS 40000u

struct race {
	struct tring t;
	unsigned reader_bell, writer_bell;      /* signals rung (atomic) */
	unsigned sig_reader, sig_writer, bad, lost;
	uint64_t recvd;
	uint8_t buf[PAGE];
};

static bool bell_wait(unsigned *bell, unsigned *seen)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (__atomic_load_n(bell, __ATOMIC_ACQUIRE) == *seen) {
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 10)
			return false;
	}
	*seen = __atomic_load_n(bell, __ATOMIC_ACQUIRE);
	return true;
}

static void *race_writer(void *arg)
{
	struct race *x = arg;
	unsigned seen = 0;

	for (uint64_t id = 0; id < RACE_PACKETS && !x->lost;) {
		bool sig;
		int err = send(&x->t.w, id, (uint32_t)(id * 37 % 200), &sig);

		if (err == VMBUS_RING_AGAIN) {
			/* pending_send_sz is set: the reader's consume rings
			 * the bell once there is room. Re-try first: the
			 * room may have come before the bell was armed. */
			seen = __atomic_load_n(&x->writer_bell, __ATOMIC_ACQUIRE);
			if (send(&x->t.w, id, (uint32_t)(id * 37 % 200), &sig) == 0)
				goto sent;
			if (!bell_wait(&x->writer_bell, &seen))
				x->lost++;
			continue;
		}
		if (err) {
			x->bad++;
			break;
		}
sent:
		if (sig) {
			x->sig_reader++;
			__atomic_add_fetch(&x->reader_bell, 1, __ATOMIC_RELEASE);
		}
		id++;
	}
	return NULL;
}

static void *race_reader(void *arg)
{
	struct race *x = arg;
	unsigned seen = 0;

	while (x->recvd < RACE_PACKETS && !x->lost && !x->bad) {
		bool sig, more;

		vmbus_ring_reader_begin(&x->t.r);
		for (;;) {
			int len = vmbus_ring_peek(&x->t.r, x->buf, sizeof(x->buf));

			if (len == 0)
				break;
			if (!is_packet(x->buf, len, x->recvd,
				       (uint32_t)(x->recvd * 37 % 200)) ||
			    vmbus_ring_consume(&x->t.r, (uint32_t)len, &sig)) {
				x->bad++;
				return NULL;
			}
			x->recvd++;
			if (sig) {
				x->sig_writer++;
				__atomic_add_fetch(&x->writer_bell, 1, __ATOMIC_RELEASE);
			}
		}
		seen = __atomic_load_n(&x->reader_bell, __ATOMIC_ACQUIRE);
		vmbus_ring_reader_done(&x->t.r, &more);
		if (more || x->recvd == RACE_PACKETS)
			continue;
		if (!bell_wait(&x->reader_bell, &seen))
			x->lost++;
	}
	return NULL;
}

static void test_threads(void)
{
	static struct race x;
	pthread_t w, r;

	memset(&x, 0, sizeof(x));
	tring_open(&x.t, 1);
	if (pthread_create(&r, NULL, race_reader, &x) ||
	    pthread_create(&w, NULL, race_writer, &x))
		abort();
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	CHECK(x.recvd == RACE_PACKETS && !x.bad && !x.lost,
	      "two threads: %lu of %u packets in order, %u corrupt, %u lost wakeups "
	      "(%u reader and %u writer signals)", (unsigned long)x.recvd,
	      RACE_PACKETS, x.bad, x.lost, x.sig_reader, x.sig_writer);
	tring_close(&x.t);
}

enum corruption {
	C_W_SIZE, C_W_HUGE, C_W_UNALIGNED, C_W_SHORT, C_R_SIZE, C_R_UNALIGNED,
	C_R_MOVED, C_LEN8_HUGE, C_LEN8_AVAIL, C_LEN8_ZERO, C_LEN8_ONE,
	C_OFF8_BIG, C_OFF8_SMALL, C_TRAILER, C_COUNT
};

static const char *const corruption_name[C_COUNT] = {
	"write_index == size", "write_index 0xfffffff8",
	"write_index not 8-aligned", "write_index 8 past read_index",
	"read_index == size", "read_index not 8-aligned",
	"read_index moved by the peer",
	"len8 0xffff (beyond the ring)", "len8 beyond the available bytes",
	"len8 0", "len8 1 (shorter than the descriptor)",
	"offset8 > len8", "offset8 1 (inside the descriptor)",
	"trailer names another start",
};

/* A ring holding two packets, the first straddling the end of the data
 * area, then one field the peer controls broken. */
static void corrupt_ring(struct tring *t, enum corruption c)
{
	struct vmbus_ring_header *h;
	uint32_t size, rd;
	struct vmbus_pkt_desc d;
	uint64_t tr;
	bool sig;

	tring_open(t, 1);
	h = hdr(t);
	size = t->r.size;
	/* Move both ends to 64 bytes before the end of the data area. */
	h->write_index = h->read_index = size - 64;
	tring_attach(t, &t->w);
	tring_attach(t, &t->r);
	send(&t->w, 1, 200, &sig);
	send(&t->w, 2, 30, &sig);
	rd = h->read_index;
	tdata_get(t, rd, &d, 16);
	switch (c) {
	case C_W_SIZE:      h->write_index = size; break;
	case C_W_HUGE:      h->write_index = 0xfffffff8u; break;
	case C_W_UNALIGNED: h->write_index += 4; break;
	case C_W_SHORT:     h->write_index = rd + 8; break;
	case C_R_SIZE:      h->read_index = size; break;
	case C_R_UNALIGNED: h->read_index = rd + 4; break;
	case C_R_MOVED:     h->read_index = 0; break;
	case C_LEN8_HUGE:   d.len8 = 0xffff; break;
	case C_LEN8_AVAIL:  d.len8 = (uint16_t)((vmbus_ring_avail_read(&t->r)) / 8); break;
	case C_LEN8_ZERO:   d.len8 = 0; break;
	case C_LEN8_ONE:    d.len8 = 1; break;
	case C_OFF8_BIG:    d.offset8 = d.len8 + 1; break;
	case C_OFF8_SMALL:  d.offset8 = 1; break;
	case C_TRAILER:
		tdata_get(t, (rd + d.len8 * 8) % size, &tr, 8);
		tr += 8ull << 32;
		tdata_put(t, (rd + d.len8 * 8) % size, &tr, 8);
		break;
	default: break;
	}
	tdata_put(t, rd, &d, 16);
}

static void test_corrupt(void)
{
	struct tring t;

	for (int c = 0; c < C_COUNT; c++) {
		uint8_t *buf = malloc(512);
		bool untouched = true, sig = true;
		int got;

		memset(buf, 0xa5, 512);
		corrupt_ring(&t, c);
		got = vmbus_ring_peek(&t.r, buf, 512);
		for (int i = 0; i < 512; i++)
			untouched &= buf[i] == 0xa5;
		CHECK(got == VMBUS_RING_CORRUPT && untouched,
		      "peek: %s -> corrupt, nothing copied (got %d)",
		      corruption_name[c], got);
		if (c <= C_W_SHORT || c == C_R_SIZE || c == C_R_UNALIGNED) {
			got = send(&t.w, 3, 8, &sig);
			CHECK(got == VMBUS_RING_CORRUPT && !sig,
			      "write: %s -> corrupt", corruption_name[c]);
		}
		tring_close(&t);
		free(buf);
	}
}

static void test_hostile_sequences(void)
{
	struct tring t;
	uint8_t *buf = malloc(64);
	bool sig;
	int len;

	/* The writer takes bytes back between peek and consume. */
	tring_open(&t, 1);
	send(&t.w, 1, 40, &sig);
	len = vmbus_ring_peek(&t.r, buf, 64);
	hdr(&t)->write_index = 8;
	CHECK(len == 56 && vmbus_ring_consume(&t.r, (uint32_t)len, &sig) ==
	      VMBUS_RING_CORRUPT, "consume after the writer shrank the ring: corrupt");
	tring_close(&t);

	/* The descriptor changes after peek checked it: buf keeps the
	 * checked copy. */
	tring_open(&t, 1);
	send(&t.w, 1, 40, &sig);
	len = vmbus_ring_peek(&t.r, buf, 64);
	tdata_put(&t, 4, &(uint16_t){ 0xffff }, 2);        /* len8 */
	CHECK(len == 56 && ((struct vmbus_pkt_desc *)buf)->len8 == 7 &&
	      vmbus_ring_consume(&t.r, 56, &sig) == 0,
	      "consume uses the length peek checked, not the ring's");
	tring_close(&t);

	/* The writer moves its own write_index behind our back. */
	tring_open(&t, 1);
	send(&t.w, 1, 40, &sig);
	hdr(&t)->write_index += 64;
	CHECK(send(&t.w, 2, 40, &sig) == VMBUS_RING_CORRUPT,
	      "write: shared write_index differs from ours: corrupt");
	tring_close(&t);

	/* A packet larger than the caller's buffer. */
	tring_open(&t, 1);
	send(&t.w, 1, 100, &sig);
	send(&t.w, 2, 10, &sig);
	memset(buf, 0x5a, 64);
	len = vmbus_ring_peek(&t.r, buf, 64);
	CHECK(len == VMBUS_RING_TOOBIG && t.r.peeked == 120 && buf[0] == 0x5a &&
	      buf[63] == 0x5a, "peek: packet > cap -> TOOBIG, length in peeked");
	CHECK(vmbus_ring_consume(&t.r, 64, &sig) == VMBUS_RING_INVAL,
	      "consume of a length peek did not return: INVAL");
	CHECK(vmbus_ring_consume(&t.r, t.r.peeked, &sig) == 0 &&
	      recv_expect(&t.r, 2, 10, &sig), "skip it; the next one reads");
	CHECK(vmbus_ring_consume(&t.r, 32, &sig) == VMBUS_RING_INVAL,
	      "consume without a peek: INVAL");
	tring_close(&t);

	/* Bad packets from our own side. */
	tring_open(&t, 1);
	{
		struct vmbus_pkt_desc d = { .type = 6, .offset8 = 2, .len8 = 3 };
		uint8_t pay[8] = { 0 };
		struct vmbus_iov iov[2] = { { &d, 16 }, { pay, 8 } };

		CHECK(vmbus_ring_write(&t.w, iov, 2, &sig) == 0,
		      "write: consistent descriptor accepted");
		d.len8 = 4;
		CHECK(vmbus_ring_write(&t.w, iov, 2, &sig) == VMBUS_RING_INVAL,
		      "write: len8 not matching the gathered bytes: INVAL");
		d.len8 = 3;
		d.offset8 = 4;
		CHECK(vmbus_ring_write(&t.w, iov, 2, &sig) == VMBUS_RING_INVAL,
		      "write: offset8 > len8: INVAL");
		d.offset8 = 2;
		CHECK(vmbus_ring_write(&t.w, iov, 1, &sig) == VMBUS_RING_INVAL,
		      "write: len8 3 for 16 bytes: INVAL");
		iov[0].len = 8;
		CHECK(vmbus_ring_write(&t.w, iov, 1, &sig) == VMBUS_RING_INVAL,
		      "write: shorter than a descriptor: INVAL");
	}
	tring_close(&t);
	free(buf);
}

/* One direction of the channel: a producer and a consumer with their
 * own PRNGs, driven only by the signals the ring tells them to send. */
struct flow {
	struct vmbus_ring *tx, *rx;
	uint64_t prng, sent, recvd;
	uint32_t crc_tx, crc_rx;
	bool writer_blocked, writer_event, reader_event;
	unsigned sig_reader, sig_writer, bad;
	bool staged;            /* pay/plen hold the packet to (re)send */
	uint32_t plen;
	uint8_t pay[3 * PAGE];
	uint8_t buf[3 * PAGE];
};

#define FLOW_PACKETS 10000u

static void flow_produce(struct flow *f, unsigned burst)
{
	if (f->writer_blocked && !f->writer_event)
		return;                 /* waits for the reader's signal */
	f->writer_event = false;
	f->writer_blocked = false;
	while (burst-- && f->sent < FLOW_PACKETS) {
		struct vmbus_pkt_desc d = { .type = 6, .offset8 = 2 };
		struct vmbus_iov iov[2] = { { &d, 16 }, { f->pay, 0 } };
		bool sig;
		int err;

		if (!f->staged) {
			uint64_t x = rnd(&f->prng);

			/* Mostly small, sometimes a sixth of the ring. */
			f->plen = (uint32_t)(x % 8 ? (x >> 8) % 300 : (x >> 8) % 2800);
			for (uint32_t i = 0; i < f->plen; i++)
				f->pay[i] = (uint8_t)rnd(&f->prng);
			f->staged = true;
		}
		d.trans_id = (f->sent << 16) | f->plen;
		d.len8 = (uint16_t)((16 + f->plen + 7) / 8);
		iov[1].len = f->plen;
		err = vmbus_ring_write(f->tx, iov, 2, &sig);
		if (err == VMBUS_RING_AGAIN) {
			f->writer_blocked = true;
			return;
		}
		if (err) {
			f->bad++;
			return;
		}
		f->staged = false;
		f->crc_tx = crc32_update(f->crc_tx, f->pay, f->plen);
		f->sent++;
		if (sig) {
			f->sig_reader++;
			f->reader_event = true;
		}
	}
}

static void flow_consume(struct flow *f, unsigned burst)
{
	bool more;

	if (!f->reader_event)
		return;                 /* sleeps until signalled */
	vmbus_ring_reader_begin(f->rx);
	while (burst--) {
		struct vmbus_pkt_desc d;
		bool sig;
		int len = vmbus_ring_peek(f->rx, f->buf, sizeof(f->buf));
		uint32_t plen;

		if (len == 0) {
			vmbus_ring_reader_done(f->rx, &more);
			if (!more)
				f->reader_event = false;
			return;
		}
		if (len < 0) {
			f->bad++;
			return;
		}
		memcpy(&d, f->buf, 16);
		plen = d.trans_id & 0xffff;
		if (d.trans_id >> 16 != f->recvd || len != (int)((16 + plen + 7) & ~7u))
			f->bad++;
		f->crc_rx = crc32_update(f->crc_rx, f->buf + 16, plen);
		f->recvd++;
		if (vmbus_ring_consume(f->rx, (uint32_t)len, &sig))
			f->bad++;
		if (sig) {
			f->sig_writer++;
			f->writer_event = true;
		}
	}
	/* Burst over with packets left: stay masked, keep the event. */
}

static void test_channel(void)
{
	struct tring cout, cin;         /* outbound and inbound rings */
	struct flow *up = calloc(1, sizeof(*up)), *down = calloc(1, sizeof(*down));
	uint64_t s = 7, last_progress = 0, steps = 0;
	bool stuck = false;

	tring_open(&cout, 4);
	tring_open(&cin, 4);
	up->tx = &cout.w;               /* VSC -> VSP */
	up->rx = &cout.r;
	up->prng = 11;
	down->tx = &cin.w;              /* VSP -> VSC */
	down->rx = &cin.r;
	down->prng = 13;
	while ((up->recvd < FLOW_PACKETS || down->recvd < FLOW_PACKETS) &&
	       !up->bad && !down->bad) {
		uint64_t x = rnd(&s);
		struct flow *f = x & 1 ? up : down;
		uint64_t before = f->sent + f->recvd;

		if (x & 2)
			flow_produce(f, 1 + (unsigned)(x >> 8) % 16);
		else
			flow_consume(f, 1 + (unsigned)(x >> 16) % 16);
		steps++;
		if (f->sent + f->recvd != before)
			last_progress = steps;
		/* Nobody moved for long: a lost wakeup left both asleep. */
		if (steps - last_progress > 10000) {
			stuck = true;
			break;
		}
	}
	CHECK(!up->bad && !down->bad, "no ring errors on either side");
	CHECK(!stuck, "no lost wakeup: the run never deadlocked");
	CHECK(up->recvd == FLOW_PACKETS && up->sent == FLOW_PACKETS &&
	      up->crc_tx == up->crc_rx,
	      "VSC -> VSP: %u packets, crc32 %08x sent, %08x received",
	      FLOW_PACKETS, up->crc_tx, up->crc_rx);
	CHECK(down->recvd == FLOW_PACKETS && down->sent == FLOW_PACKETS &&
	      down->crc_tx == down->crc_rx,
	      "VSP -> VSC: %u packets, crc32 %08x sent, %08x received",
	      FLOW_PACKETS, down->crc_tx, down->crc_rx);
	CHECK(up->sig_reader + down->sig_reader < FLOW_PACKETS,
	      "suppression: %u reader and %u writer signals for %u packets",
	      up->sig_reader + down->sig_reader,
	      up->sig_writer + down->sig_writer, 2 * FLOW_PACKETS);
	CHECK(up->sig_writer > 0 && down->sig_writer > 0,
	      "both writers were blocked and woken by pending_send_sz");
	free(up);
	free(down);
	tring_close(&cout);
	tring_close(&cin);
}

int main(void)
{
	test_geometry();
	test_geometry_pages();
	for (int mode = 0; mode < 2; mode++) {
		page_mode = mode;
		printf("# %s rings\n", mode ? "page-vector" : "contiguous");
		test_sizes_wrap(1);
		test_sizes_wrap(3);
		test_batches();
		test_full_pending();
		test_interrupts();
		test_signal_races();
		test_hostile_signal_fields();
		test_threads();
		test_corrupt();
		test_hostile_sequences();
		test_channel();
	}
	return done_testing();
}
