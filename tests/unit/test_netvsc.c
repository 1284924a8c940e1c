/*
 * netvsc (vmbus/netvsc.c) against netvsp (vmbus/netvsp.c) in one
 * process, over real rings, as an enlightened guest and the root would
 * run them: bring-up, the MAC and the link from RNDIS, frames both ways
 * byte for byte, a busy switch and a full ring, thousands of frames each
 * way; then a host that is no netvsp (played here by hand or by a
 * script) sending what netvsp never would.
 *
 * Guest memory is a memfd of GUEST_PAGES pages mapped twice, as in
 * test_storvsp.c: contiguous (the guest's view, gpa = offset; netvsc
 * sees its rings and buffers there) and page by page, shuffled, each page
 * between guard pages (the host's view, what netvsp reaches through its
 * copy callbacks, which refuse a copy crossing a page). GPADLs are a fake
 * table, as the VMBus server keeps them.
 *
 * Events are two flags: the guest's signal sets host_event, netvsp's
 * sets guest_event; pump() runs each side only when its flag is set (or
 * the host re-armed itself, or its switch was busy), so a lost wakeup
 * shows as frames that never move.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"
#include "netvsc.h"
#include "netvsp.h"
#include "ring.h"

#define PAGE            4096u
#define GUEST_PAGES     512u
#define RING_PFN        0u              /* ring: pages 0..63 at most */
#define RECV_PFN        64u
#define RECV_PAGES      64u             /* 256 KiB: 151 chunks of 1728 */
#define SEND_PFN        128u
#define SEND_PAGES      128u            /* 512 KiB: 85 sections of 6144 */
#define RECV_BYTES      (RECV_PAGES * PAGE)
#define SEND_BYTES      (SEND_PAGES * PAGE)
#define RECV_GPADL      0xe1e10u
#define SEND_GPADL      0xe1e11u
#define NSECTIONS       (SEND_BYTES / NETVSP_SEND_SECTION)
#define NCHUNKS         (RECV_BYTES / NETVSP_CHUNK_SIZE)
#define VOLUME          2000u

static const uint8_t MAC[6] = { 0x02, 0x15, 0x00, 0x00, 0x00, 0x21 };
static const uint8_t PEER[6] = { 0x02, 0x15, 0x00, 0x00, 0x00, 0x22 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct env {
	uint8_t *gmem;                  /* guest view, contiguous */
	uint8_t *hpage[GUEST_PAGES];    /* host view, page by page */
	void *in_pages[32], *out_pages[32];
	struct vmbus_ring h_in, h_out;  /* the host's views */
	uint8_t *ring;
	size_t out_bytes, in_bytes;
	uint64_t recv_pfns[RECV_PAGES], send_pfns[SEND_PAGES];
	bool host_event, guest_event;
	bool host_attached;
	unsigned page_cross, host_errors, waits, lost_wakeups;
	/* the switch */
	unsigned tx_busy, tx_frames, tx_bad;
	unsigned stall;                 /* pumps the switch stays busy for */
	size_t last_tx_len;
	uint8_t last_tx[NETVSP_FRAME_MAX];
	bool tx_check;                  /* check the volume pattern */
	uint32_t tx_next_seq, tx_pattern_bad;
	/* the guest's stack */
	unsigned rx_frames;
	size_t last_rx_len;
	uint8_t last_rx[NETVSC_FRAME_MAX];
	bool rx_check;
	uint32_t rx_next_seq, rx_pattern_bad;
	bool echo;                      /* send every frame back from rx */
	unsigned echoed, echo_dropped, echo_dropped_top, nested_frames, max_depth;
	/* a scripted host for the bring-up (netvsp detached) */
	int script;                     /* enum script_mode */
	uint32_t offered[8];
	unsigned noffered;
	uint32_t sc_section, sc_sub_alloc, sc_num_sub, sc_sections;
};

static struct env E;
static struct netvsp SP;
static struct netvsc NC;

/* ---- the host's side ------------------------------------------------------ */

static int host_copy(uint64_t gpa, void *buf, uint32_t len, bool to_guest)
{
	uint64_t pfn = gpa / PAGE;
	uint32_t off = gpa % PAGE;

	if (!len || off + len > PAGE) {
		E.page_cross++;
		return -1;
	}
	if (pfn >= GUEST_PAGES)
		return -1;
	if (to_guest)
		memcpy(E.hpage[pfn] + off, buf, len);
	else
		memcpy(buf, E.hpage[pfn] + off, len);
	return 0;
}

static int copy_from_guest(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	return host_copy(gpa, buf, len, false);
}

static int copy_to_guest(void *ctx, uint64_t gpa, const void *buf, uint32_t len)
{
	return host_copy(gpa, (void *)buf, len, true);
}

static void signal_guest(void *ctx)
{
	E.guest_event = true;
}

static void log_line(void *ctx, const char *line)
{
	printf("# %s\n", line);
}

static bool fake_gpadl(void *ctx, uint32_t handle, const uint64_t **pfns, uint32_t *n)
{
	if (handle == RECV_GPADL) {
		*pfns = E.recv_pfns, *n = RECV_PAGES;
		return true;
	}
	if (handle == SEND_GPADL) {
		*pfns = E.send_pfns, *n = SEND_PAGES;
		return true;
	}
	return false;
}

/* The volume frames: seq in bytes 14..17, then a pattern of seq. */
static uint8_t pattern_byte(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 31u + i * 7u + (i >> 8));
}

static size_t volume_len(uint32_t seq)
{
	return 60 + (seq * 389u) % (NETVSC_FRAME_MAX - 60 + 1);
}

static void make_frame(uint8_t *f, size_t len, const uint8_t *dst, const uint8_t *src,
		       uint32_t seq)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08, f[13] = 0x00;
	for (size_t i = 14; i < len; i++)
		f[i] = pattern_byte(seq, i);
	if (len >= 18)
		memcpy(f + 14, &seq, 4);
}

/* Whether f is frame seq of the volume pattern (any length). */
static bool frame_ok(const uint8_t *f, size_t len, uint32_t seq)
{
	uint32_t s;

	if (len != volume_len(seq))
		return false;
	memcpy(&s, f + 14, 4);
	if (s != seq)
		return false;
	for (size_t i = 18; i < len; i++)
		if (f[i] != pattern_byte(seq, i))
			return false;
	return true;
}

static int fake_tx(void *ctx, const void *frame, size_t len)
{
	if (len < NETVSP_FRAME_MIN || len > NETVSP_FRAME_MAX)
		E.tx_bad++;
	if (E.tx_busy) {
		E.tx_busy--;
		return NETVSP_TX_BUSY;
	}
	if (E.stall)
		return NETVSP_TX_BUSY;
	E.tx_frames++;
	E.last_tx_len = len;
	memcpy(E.last_tx, frame, len);
	if (E.tx_check) {
		if (!frame_ok(frame, len, E.tx_next_seq))
			E.tx_pattern_bad++;
		E.tx_next_seq++;
	}
	return NETVSP_TX_SENT;
}

static const struct netvsp_ops sp_ops = {
	copy_from_guest, copy_to_guest, signal_guest, log_line, fake_gpadl, fake_tx,
};

static void script_host(void);

static void run_host(void)
{
	int r;

	if (!E.host_attached) {
		script_host();
		return;
	}
	r = netvsp_poll(&SP);
	if (r == NETVSP_POLL_MORE)
		E.host_event = true;
	if (r < 0)
		E.host_errors++;
}

/* ---- the guest's side ------------------------------------------------------ */

static void signal_host(void *ctx)
{
	E.host_event = true;
}

/* The bring-up's waits: the host runs when signalled. A host that never
 * answers makes the guest give up after a few. */
static int guest_wait(void *ctx)
{
	if (++E.waits > 100000) {
		printf("Bail out! the guest waited 100000 times\n");
		exit(1);
	}
	while (E.host_event && !E.guest_event) {
		E.host_event = false;
		run_host();
	}
	if (E.guest_event) {
		E.guest_event = false;
		return 0;
	}
	E.lost_wakeups++;
	return 1;
}

static void guest_rx(void *ctx, const void *frame, size_t len)
{
	E.rx_frames++;
	E.last_rx_len = len;
	memcpy(E.last_rx, frame, len);
	if (NC.depth > E.max_depth)
		E.max_depth = NC.depth;
	if (NC.depth > 1)
		E.nested_frames++;
	if (E.rx_check) {
		if (!frame_ok(frame, len, E.rx_next_seq))
			E.rx_pattern_bad++;
		E.rx_next_seq++;
	}
	if (E.echo) {
		static uint8_t back[2][NETVSC_FRAME_MAX];
		uint8_t *b = back[NC.depth - 1];

		/* Back to the sender, as an echo reply would go; when no
		 * section is free, take completions (a nested poll) and
		 * retry a while, then drop, as the stack's tx hook does. */
		memcpy(b, frame, len);
		memcpy(b, PEER, 6);
		memcpy(b + 6, MAC, 6);
		for (unsigned i = 0;; i++) {
			int r = netvsc_send(&NC, b, len);

			if (r == 0) {
				E.echoed++;
				break;
			}
			if (r < 0 || i == 50) {
				E.echo_dropped++;
				E.echo_dropped_top += NC.depth == 1;
				break;
			}
			E.host_event = false;
			run_host();
			netvsc_poll(&NC);
		}
	}
}

static const struct netvsc_ops sc_ops = { signal_host, guest_wait, guest_rx, log_line };

/* Run each side while its event is set; the host also once when its
 * switch was busy (it may have room now: vmbus_host_net_kick). */
static void pump(void)
{
	bool kick = E.host_attached && netvsp_tx_blocked(&SP);

	if (E.stall)
		E.stall--;
	for (unsigned i = 0; i < 10000; i++) {
		bool did = false;

		if (E.host_event || kick) {
			kick = false;
			E.host_event = false;
			run_host();
			did = true;
		}
		if (E.guest_event) {
			E.guest_event = false;
			netvsc_poll(&NC);
			did = true;
		}
		if (!did)
			return;
	}
}

/* ---- setting up --------------------------------------------------------------- */

static void map_guest_memory(void)
{
	int fd = memfd_create("guest", 0);
	size_t bytes = (size_t)GUEST_PAGES * PAGE;
	uint8_t *region;
	unsigned perm[GUEST_PAGES];

	if (fd < 0 || ftruncate(fd, (off_t)bytes))
		abort();
	E.gmem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	region = mmap(NULL, 2 * bytes + PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (E.gmem == MAP_FAILED || region == MAP_FAILED)
		abort();
	for (unsigned i = 0; i < GUEST_PAGES; i++)
		perm[i] = i;
	for (unsigned i = GUEST_PAGES - 1; i > 0; i--) {
		unsigned j = (unsigned)((i * 2654435761u) % (i + 1)), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (unsigned i = 0; i < GUEST_PAGES; i++) {
		uint8_t *at = region + (2 * (size_t)perm[i] + 1) * PAGE;

		E.hpage[i] = mmap(at, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				  fd, (off_t)i * PAGE);
		if (E.hpage[i] != at)
			abort();
	}
	close(fd);
	/* The guest's buffers are contiguous to it: the pfn lists in order. */
	for (unsigned i = 0; i < RECV_PAGES; i++)
		E.recv_pfns[i] = RECV_PFN + i;
	for (unsigned i = 0; i < SEND_PAGES; i++)
		E.send_pfns[i] = SEND_PFN + i;
}

/* The guest formats the rings (data pages each way), the host attaches
 * page-vector views and, unless scripted, netvsp. */
static void open_channel(unsigned out_data, unsigned in_data, bool attach)
{
	unsigned in_pfn = RING_PFN + 1 + out_data;

	E.out_bytes = (size_t)(1 + out_data) * PAGE;
	E.in_bytes = (size_t)(1 + in_data) * PAGE;
	E.ring = E.gmem + RING_PFN * PAGE;
	memset(E.ring, 0, E.out_bytes + E.in_bytes);
	if (vmbus_ring_format(E.ring, E.out_bytes) ||
	    vmbus_ring_format(E.ring + E.out_bytes, E.in_bytes))
		abort();
	for (unsigned i = 0; i < out_data; i++)
		E.in_pages[i] = E.hpage[RING_PFN + 1 + i];
	for (unsigned i = 0; i < in_data; i++)
		E.out_pages[i] = E.hpage[in_pfn + 1 + i];
	if (vmbus_ring_init_pages(&E.h_in, E.hpage[RING_PFN], E.in_pages, out_data) ||
	    vmbus_ring_init_pages(&E.h_out, E.hpage[in_pfn], E.out_pages, in_data))
		abort();
	E.host_event = E.guest_event = false;
	E.host_attached = attach;
	if (attach)
		netvsp_attach(&SP, &E.h_in, &E.h_out);
	else
		netvsp_detach(&SP);
}

static int guest_init(uint32_t max_version)
{
	struct netvsc_config cfg = {
		.ring = E.ring, .out_bytes = E.out_bytes, .in_bytes = E.in_bytes,
		.recv_buf = E.gmem + RECV_PFN * PAGE, .recv_bytes = RECV_BYTES,
		.recv_gpadl = RECV_GPADL,
		.send_buf = E.gmem + SEND_PFN * PAGE, .send_bytes = SEND_BYTES,
		.send_gpadl = SEND_GPADL, .max_version = max_version,
	};

	return netvsc_init(&NC, &cfg, &sc_ops, NULL);
}

static int bring_up(unsigned out_data, unsigned in_data)
{
	open_channel(out_data, in_data, true);
	if (guest_init(0))
		return -1;
	pump();
	return 0;
}

/* ---- bring-up against netvsp ---------------------------------------------- */

static void test_bringup(void)
{
	uint32_t want = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST |
			NDIS_PACKET_TYPE_ALL_MULTICAST;
	int r;

	open_channel(8, 8, true);
	r = guest_init(0);
	CHECK(r == 0 && NC.ready, "netvsc_init against netvsp: 0 (%d)", r);
	CHECK(NC.version == NVSP_PROTOCOL_VERSION_61 && SP.version == NVSP_PROTOCOL_VERSION_61,
	      "NVSP 6.1 agreed, the first offered (0x%x)", NC.version);
	CHECK(SP.guest_mtu == 1514 && SP.ndis_version == 0x6001e && NC.ndis_version == 0x6001e,
	      "NDIS config MTU 1500 + header, NDIS 6.30 (host recorded %u, 0x%x)",
	      SP.guest_mtu, SP.ndis_version);
	CHECK(SP.recv.present && SP.recv.gpadl == RECV_GPADL && SP.recv.id == 0xcafe &&
	      SP.send.present && SP.send.gpadl == SEND_GPADL,
	      "receive buffer (id 0xcafe) and send buffer given by their GPADLs");
	CHECK(NC.recv_chunk == NETVSP_CHUNK_SIZE && NC.recv_chunks == NCHUNKS &&
	      NC.section_size == NETVSP_SEND_SECTION && NC.nsections == NSECTIONS &&
	      NC.nfree == NSECTIONS,
	      "receive buffer: %u chunks of %u; send buffer: %u sections of %u, all free",
	      NC.recv_chunks, NC.recv_chunk, NC.nsections, NC.section_size);
	CHECK(!memcmp(NC.mac, MAC, 6), "MAC %02x:%02x:%02x:%02x:%02x:%02x from "
	      "PERMANENT_ADDRESS", NC.mac[0], NC.mac[1], NC.mac[2], NC.mac[3], NC.mac[4],
	      NC.mac[5]);
	CHECK(NC.link_up, "link up from MEDIA_CONNECT_STATUS");
	CHECK(SP.rndis == NETVSP_RNDIS_INITIALIZED && SP.filter == want,
	      "RNDIS initialized, packet filter directed + broadcast + all-multicast (0x%x)",
	      SP.filter);
	pump();
	CHECK(NC.stats.indications == 1 && SP.stats.indications == 1 && NC.link_up,
	      "the host's MEDIA_CONNECT indication taken");
	CHECK(netvsp_can_receive(&SP) && SP.nfree == NCHUNKS && netvsc_sections_busy(&NC) == 0,
	      "every chunk back with the host, every section with us");
	CHECK(NC.stats.bad == 0 && E.lost_wakeups == 0 && E.host_errors == 0 &&
	      SP.stats.rejected == 0 && E.page_cross == 0,
	      "nothing refused by either side, no lost wakeup");
}

static void test_max_version(void)
{
	int r;

	open_channel(8, 8, true);
	r = guest_init(NVSP_PROTOCOL_VERSION_4);
	CHECK(r == 0 && NC.version == NVSP_PROTOCOL_VERSION_4 &&
	      SP.version == NVSP_PROTOCOL_VERSION_4 && NC.ndis_version == 0x60001 &&
	      SP.ndis_version == 0x60001,
	      "max_version 4: NVSP 4 and NDIS 6.1, as Linux pairs them (%d)", r);
	open_channel(8, 8, true);
	r = guest_init(NVSP_PROTOCOL_VERSION_1);
	CHECK(r == 0 && NC.version == NVSP_PROTOCOL_VERSION_1 && SP.guest_mtu == 0,
	      "max_version 1: NVSP 1, and no NDIS config (a v2 message)");
}

/* ---- frames ---------------------------------------------------------------------- */

static void test_tx(void)
{
	static uint8_t f[NETVSC_FRAME_MAX + 1];
	static const size_t lens[3] = { 60, NETVSC_FRAME_MAX, NETVSC_FRAME_MIN };
	bool exact = true;
	uint64_t comps;
	int r;

	bring_up(8, 8);
	comps = NC.stats.tx_completions;        /* the RNDIS requests' */
	for (unsigned i = 0; i < 3; i++) {
		make_frame(f, lens[i], PEER, MAC, 100 + i);
		r = netvsc_send(&NC, f, lens[i]);
		pump();
		exact &= r == 0 && E.last_tx_len == lens[i] && !memcmp(E.last_tx, f, lens[i]);
	}
	CHECK(exact && E.tx_frames == 3, "3 frames of 60, 1514 and 14 bytes reach the switch "
	      "byte for byte");
	CHECK(netvsc_sections_busy(&NC) == 0 && NC.stats.tx_completions - comps == 3 &&
	      NC.stats.tx_failed == 0, "their sections came back with SUCCESS");
	CHECK(netvsc_send(&NC, f, 13) == -1 && netvsc_send(&NC, f, NETVSC_FRAME_MAX + 1) == -1 &&
	      netvsc_send(&NC, NULL, 60) == -1 && netvsc_sections_busy(&NC) == 0,
	      "13 bytes, 1515 bytes, NULL: -1, no section taken");
	CHECK(SP.stats.tx_dropped == 0 && SP.stats.rejected == 0 && E.tx_bad == 0,
	      "netvsp took every RNDIS_MSG_PACKET as well formed");
}

static void test_rx(void)
{
	static uint8_t f[NETVSC_FRAME_MAX];
	bool exact = true;

	bring_up(8, 8);
	E.rx_frames = 0;
	make_frame(f, 60, MAC, PEER, 1);
	CHECK(netvsp_receive(&SP, f, 60) == 0 && E.guest_event,
	      "a frame for our MAC: taken by netvsp, the guest signalled");
	E.guest_event = false;
	CHECK(netvsc_poll(&NC) == 1 && E.rx_frames == 1 && E.last_rx_len == 60 &&
	      !memcmp(E.last_rx, f, 60), "netvsc_poll hands it to the stack, byte for byte");
	pump();
	run_host();
	CHECK(SP.nfree == NCHUNKS && NC.stats.rx_xfers == NC.stats.replies + 2 &&
	      NC.stats.rx_comp_deferred == 0, "its chunk completed back to the host");
	for (unsigned i = 0; i < 3; i++) {
		size_t len = i == 0 ? NETVSC_FRAME_MAX : i == 1 ? NETVSC_FRAME_MIN : 342;

		make_frame(f, len, i == 2 ? BCAST : MAC, PEER, 10 + i);
		netvsp_receive(&SP, f, len);
		pump();
		exact &= E.last_rx_len == len && !memcmp(E.last_rx, f, len);
	}
	CHECK(exact && E.rx_frames == 4, "1514, 14 bytes and a broadcast: byte for byte");
}

/* The switch busy: netvsp holds a frame, every section goes out, then
 * netvsc_send says busy; the switch frees, all sections come back. */
static void test_busy(void)
{
	static uint8_t f[NETVSC_FRAME_MAX];
	unsigned sent = 0;
	int r = 0;

	bring_up(8, 8);
	E.tx_frames = 0;
	E.tx_busy = 1000000;
	for (unsigned i = 0; i < NSECTIONS + 5; i++) {
		make_frame(f, volume_len(i), PEER, MAC, i);
		r = netvsc_send(&NC, f, volume_len(i));
		if (r)
			break;
		sent++;
		pump();
	}
	CHECK(sent == NSECTIONS && r == NETVSC_BUSY && NC.stats.tx_no_section == 1 &&
	      netvsc_sections_busy(&NC) == NSECTIONS,
	      "switch busy: %u sends take every section, the next is busy (%d)", sent, r);
	CHECK(netvsp_tx_blocked(&SP) && E.tx_frames == 0, "netvsp holds the first frame");
	E.tx_busy = 0;
	E.tx_check = true;
	E.tx_next_seq = 0;
	E.tx_pattern_bad = 0;
	pump();
	CHECK(E.tx_frames == NSECTIONS && E.tx_pattern_bad == 0 && netvsc_sections_busy(&NC) == 0,
	      "switch free: all %u frames out in order, every section back", E.tx_frames);
	make_frame(f, volume_len(NSECTIONS), PEER, MAC, NSECTIONS);
	CHECK(netvsc_send(&NC, f, volume_len(NSECTIONS)) == 0, "and sending works again");
	pump();
	E.tx_check = false;
}

/* A full guest->host ring (the host not running): busy before the
 * sections run out; receive completions wait for room meanwhile. */
static void test_ring_full(void)
{
	static uint8_t f[NETVSC_FRAME_MAX];
	unsigned sent = 0, got;
	int r = 0;

	bring_up(1, 8);
	E.tx_frames = 0;
	for (unsigned i = 0; i < NSECTIONS; i++) {
		make_frame(f, 100, PEER, MAC, i);
		r = netvsc_send(&NC, f, 100);
		if (r)
			break;
		sent++;
	}
	CHECK(r == NETVSC_BUSY && sent < NSECTIONS && NC.stats.tx_ring_full == 1 &&
	      netvsc_sections_busy(&NC) == sent,
	      "host not reading: ring full after %u sends, busy with sections left", sent);
	got = E.rx_frames;
	for (unsigned i = 0; i < 20; i++) {
		make_frame(f, 200, MAC, PEER, i);
		netvsp_receive(&SP, f, 200);
	}
	E.guest_event = false;
	netvsc_poll(&NC);
	/* The first completion may still fit in the last bytes. */
	CHECK(E.rx_frames - got == 20 && NC.stats.rx_comp_deferred >= 19 &&
	      NC.comp_count == NC.stats.rx_comp_deferred && SP.nfree == NCHUNKS - 20,
	      "20 frames received meanwhile, %u completions queued for room", NC.comp_count);
	E.host_event = true;
	pump();
	run_host();
	netvsc_poll(&NC);
	run_host();
	CHECK(NC.comp_count == 0 && SP.nfree == NCHUNKS && E.tx_frames == sent &&
	      netvsc_sections_busy(&NC) == 0,
	      "the host reads: completions flushed, chunks and sections all back");
	CHECK(netvsc_send(&NC, f, 100) == 0 && NC.stats.bad == 0 && E.host_errors == 0,
	      "sending works again; nothing refused");
	pump();
}

/* VOLUME frames each way, interleaved, in bursts, lengths 60..1514,
 * the switch stalling now and then; each checked against its pattern,
 * in order. */
static void test_volume(void)
{
	static uint8_t f[NETVSC_FRAME_MAX];
	uint32_t tx = 0, rx = 0, busy = 0, rx_refused = 0;
	uint64_t sp_busy;

	bring_up(8, 8);
	sp_busy = SP.stats.tx_busy;
	E.tx_frames = E.rx_frames = 0;
	E.tx_check = E.rx_check = true;
	E.tx_next_seq = E.rx_next_seq = E.tx_pattern_bad = E.rx_pattern_bad = 0;
	for (unsigned guard = 0; (tx < VOLUME || rx < VOLUME) && guard < 100 * VOLUME; guard++) {
		for (unsigned k = 0; k < 16 && tx < VOLUME; k++) {
			make_frame(f, volume_len(tx), PEER, MAC, tx);
			if (netvsc_send(&NC, f, volume_len(tx))) {
				busy++;
				break;
			}
			if (tx++ % 97 == 0)
				E.stall = 8;    /* the peer's queue is full a while */
		}
		for (unsigned k = 0; k < 16 && rx < VOLUME; k++) {
			make_frame(f, volume_len(rx), MAC, PEER, rx);
			if (netvsp_receive(&SP, f, volume_len(rx))) {
				rx_refused++;
				break;
			}
			rx++;
		}
		pump();
	}
	E.stall = 0;
	pump();
	CHECK(tx == VOLUME && E.tx_frames == VOLUME && E.tx_pattern_bad == 0,
	      "%u frames out, every one at the switch, in order, byte for byte", tx);
	CHECK(rx == VOLUME && E.rx_frames == VOLUME && E.rx_pattern_bad == 0,
	      "%u frames in, every one to the stack, in order, byte for byte (netvsp "
	      "refused %u for a while)", E.rx_frames, rx_refused);
	CHECK(busy > 0 && NC.stats.tx_no_section > 0 && SP.stats.tx_busy > sp_busy,
	      "backpressure: %u sends busy (no section %lu, ring full %lu), the switch busy "
	      "%lu times", busy, (unsigned long)NC.stats.tx_no_section,
	      (unsigned long)NC.stats.tx_ring_full, (unsigned long)(SP.stats.tx_busy - sp_busy));
	CHECK(netvsc_sections_busy(&NC) == 0 && SP.nfree == NCHUNKS && NC.comp_count == 0,
	      "afterwards: every section and every chunk back");
	CHECK(NC.stats.bad == 0 && SP.stats.rejected == 0 && E.host_errors == 0 &&
	      E.page_cross == 0 && E.tx_bad == 0, "nothing refused by either side");
	E.tx_check = E.rx_check = false;
}

/* Replies sent from inside ops->rx while the switch keeps every section
 * out: the echo's retries poll, nested, and that level (its own buffers)
 * delivers frames too; one level deeper a poll does nothing, so an echo
 * there may be dropped. */
static void test_echo(void)
{
	static uint8_t f[NETVSC_FRAME_MAX];
	unsigned n = 0;

	bring_up(8, 8);
	E.tx_frames = E.rx_frames = E.echoed = E.echo_dropped = E.echo_dropped_top = 0;
	E.tx_busy = 1000000;
	for (unsigned i = 0; i < NSECTIONS; i++) {
		make_frame(f, 80, PEER, MAC, i);
		netvsc_send(&NC, f, 80);
	}
	E.host_event = false;
	run_host();             /* holds the first frame */
	E.tx_busy = 120;
	E.echo = true;
	for (unsigned i = 0; i < 300; i++) {
		make_frame(f, volume_len(i), MAC, PEER, i);
		if (netvsp_receive(&SP, f, volume_len(i)) == 0)
			n++;
		if (i >= 100 && i % 5 == 0)
			pump();
	}
	pump();
	E.echo = false;
	CHECK(E.echoed + E.echo_dropped == E.rx_frames && E.rx_frames == n && n == 300,
	      "300 frames in, each echoed from ops->rx or dropped (%u echoed, %u dropped)",
	      E.echoed, E.echo_dropped);
	CHECK(E.tx_frames == NSECTIONS + E.echoed,
	      "the echoes and the earlier frames all reached the switch (%u)", E.tx_frames);
	CHECK(E.max_depth == 2 && E.nested_frames > 0 && NC.depth == 0 && !E.echo_dropped_top,
	      "%u frames arrived in polls nested in ops->rx, depth at most 2; only their "
	      "echoes were dropped", E.nested_frames);
	CHECK(netvsc_sections_busy(&NC) == 0 && SP.nfree == NCHUNKS && NC.stats.bad == 0,
	      "afterwards every section and chunk back, nothing refused");
}

/* ---- a host that is not netvsp -------------------------------------------------- */

/* A packet from "the host" into the host->guest ring. */
static void hsend(uint16_t type, uint16_t flags, uint64_t tid, const void *head, uint32_t hlen,
		  const void *body, uint32_t blen)
{
	struct vmbus_pkt_desc d = { type, (uint16_t)((16 + hlen) / 8), 0, flags, tid };
	struct vmbus_iov iov[3] = { { &d, 16 }, { head, hlen }, { body, blen } };
	bool sig;

	d.len8 = (uint16_t)((16 + hlen + blen + 7) / 8);
	if (vmbus_ring_write(&E.h_out, iov, 3, &sig))
		abort();
}

/* A transfer-page packet of `n` ranges (offset8 covering `cover` of
 * them) naming the receive buffer, nvsp type `nvsp`. */
static void hxfer(uint64_t tid, uint16_t pageset, const uint32_t *ranges, uint32_t n,
		  uint32_t cover, uint32_t nvsp)
{
	uint8_t head[8 + 8 * 64];
	uint32_t msg[4] = { nvsp, NVSP_CHANNEL_TYPE_DATA, NVSP_INVALID_SECTION_INDEX, 0 };

	memset(head, 0, sizeof(head));
	memcpy(head, &pageset, 2);
	memcpy(head + 4, &n, 4);
	memcpy(head + 8, ranges, 8 * (cover < n ? cover : n));
	hsend(VMBUS_PKT_DATA_USING_XFER_PAGES, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, tid,
	      head, 8 + 8 * cover, msg, sizeof(msg));
}

/* Bytes the "host" writes into the receive buffer. */
static void recv_put(uint32_t off, const void *buf, uint32_t len)
{
	memcpy(E.gmem + RECV_PFN * PAGE + off, buf, len);
}

/* An RNDIS_MSG_PACKET at receive buffer offset `off`. */
static uint32_t put_packet(uint32_t off, const uint8_t *frame, uint32_t flen,
			   uint32_t data_offset, uint32_t data_len, uint32_t msg_len)
{
	uint8_t m[64 + NETVSC_FRAME_MAX];
	struct rndis_msg_header h = { RNDIS_MSG_PACKET, msg_len };
	struct rndis_packet rp = { .data_offset = data_offset, .data_len = data_len };

	memset(m, 0, sizeof(m));
	memcpy(m, &h, 8);
	memcpy(m + 8, &rp, sizeof(rp));
	memcpy(m + 44, frame, flen);
	recv_put(off, m, 44 + flen);
	return 44 + flen;
}

/* The guest's completions in the guest->host ring: how many, the last
 * one's tid in *tid. Everything else the guest sent: its first sends'
 * transaction ids in sends[]. */
static unsigned guest_comps(uint64_t *tid, uint64_t *sends, unsigned *nsends)
{
	uint64_t buf[32];
	unsigned n = 0;
	int len;
	bool sig;

	while ((len = vmbus_ring_peek(&E.h_in, buf, sizeof(buf))) > 0) {
		struct vmbus_pkt_desc d;

		memcpy(&d, buf, sizeof(d));
		if (d.type == VMBUS_PKT_COMP) {
			n++;
			*tid = d.trans_id;
		} else if (sends && *nsends < 8) {
			sends[(*nsends)++] = d.trans_id;
		}
		vmbus_ring_consume(&E.h_in, (uint32_t)len, &sig);
	}
	return n;
}

/* One hostile packet: the guest polls; the refusal count it caused, and
 * whether the packet was completed (tid). */
static unsigned before_bad;

static void hostile_begin(void)
{
	before_bad = (unsigned)NC.stats.bad;
	E.rx_frames = 0;
}

static bool refused_and_completed(uint64_t tid, unsigned want_bad)
{
	uint64_t got = 0;
	unsigned comps;
	int r = netvsc_poll(&NC);

	comps = guest_comps(&got, NULL, NULL);
	return r == 0 && E.rx_frames == 0 && NC.stats.bad - before_bad == want_bad &&
	       (tid ? comps == 1 && got == tid : comps == 0);
}

static void test_hostile(void)
{
	static uint8_t f[NETVSC_FRAME_MAX];
	uint32_t rg[2 * 64];
	uint64_t got = 0, sends[8];
	unsigned nsends = 0, free0;

	bring_up(8, 8);
	netvsp_detach(&SP);     /* from here on, this test is the host */
	E.host_attached = false;
	E.script = 0;
	make_frame(f, 100, MAC, PEER, 7);

	/* The hand-made host works when it does it right. */
	hostile_begin();
	rg[0] = put_packet(0, f, 100, 36, 100, 144);
	rg[1] = 0;
	hxfer(0x111, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
	CHECK(netvsc_poll(&NC) == 1 && E.rx_frames == 1 && !memcmp(E.last_rx, f, 100) &&
	      guest_comps(&got, NULL, NULL) == 1 && got == 0x111 && NC.stats.bad == before_bad,
	      "a well-made transfer-page packet: frame delivered, completed");

	hostile_begin();
	rg[0] = 100;
	rg[1] = RECV_BYTES - 10;
	hxfer(0x112, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
	CHECK(refused_and_completed(0x112, 1) && !strcmp(NC.last_bad,
	      "range outside the receive buffer"),
	      "a range past the receive buffer's end: refused, completed all the same");
	hostile_begin();
	rg[0] = 0x40;
	rg[1] = 0xfffffff0u;
	hxfer(0x113, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
	CHECK(refused_and_completed(0x113, 1), "offset + count wrapping 32 bits: refused");
	hostile_begin();
	rg[0] = NETVSC_MAX_RNDIS + 8;
	rg[1] = 0;
	hxfer(0x114, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
	CHECK(refused_and_completed(0x114, 1), "a range longer than any RNDIS message: refused");
	hostile_begin();
	hxfer(0x115, 0xcafe, rg, 0, 0, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
	CHECK(refused_and_completed(0x115, 1), "no ranges at all: refused, completed");
	hostile_begin();
	rg[0] = 144;
	rg[1] = 0;
	hxfer(0x116, 0xcafe, rg, 5, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
	CHECK(refused_and_completed(0x116, 1), "range_cnt 5 in a packet holding one: refused");
	hostile_begin();
	hxfer(0x117, 0xbeef, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
	CHECK(refused_and_completed(0x117, 1), "a pageset id we never gave: refused");
	hostile_begin();
	hxfer(0x118, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RECV_BUF);
	CHECK(refused_and_completed(0x118, 1), "an NVSP type other than SEND_RNDIS_PKT: refused");
	hostile_begin();
	hsend(VMBUS_PKT_DATA_USING_XFER_PAGES, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 0x119,
	      NULL, 0, NULL, 0);
	CHECK(refused_and_completed(0x119, 1), "a transfer-page packet of its descriptor alone: "
	      "refused, completed by its id");

	/* RNDIS messages that leave their range or message. */
	hostile_begin();
	put_packet(0, f, 100, 36, 100, 144);
	rg[0] = 100;            /* msg_len 144 > the range */
	rg[1] = 0;
	hxfer(0x121, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
	CHECK(refused_and_completed(0x121, 1), "RNDIS msg_len beyond its range: refused");
	hostile_begin();
	rg[0] = put_packet(0, f, 100, 36, 101, 144);
	hxfer(0x122, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
	CHECK(refused_and_completed(0x122, 1), "frame one byte past its message: refused");
	hostile_begin();
	rg[0] = put_packet(0, f, 100, 0x7fffffff, 100, 144);
	hxfer(0x123, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
	CHECK(refused_and_completed(0x123, 1), "data_offset far past the message: refused");
	hostile_begin();
	rg[0] = put_packet(0, f, 100, 8, 100, 144);
	hxfer(0x124, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
	CHECK(refused_and_completed(0x124, 1), "data overlapping the packet header: refused");
	hostile_begin();
	rg[0] = put_packet(0, f, 13, 36, 13, 57);
	hxfer(0x125, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
	CHECK(refused_and_completed(0x125, 1), "a 13-byte frame: refused");
	hostile_begin();
	{
		struct rndis_packet rp = { .data_offset = 36, .data_len = 100,
					   .per_pkt_info_offset = 36, .per_pkt_info_len = 200 };

		rg[0] = put_packet(0, f, 100, 36, 100, 144);
		recv_put(8, &rp, sizeof(rp));
		hxfer(0x126, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
		CHECK(refused_and_completed(0x126, 1), "per-packet info past the message: refused");
	}
	hostile_begin();
	{
		uint32_t q[6] = { RNDIS_MSG_QUERY_C, 24, 4242, 0, 0, 16 };

		recv_put(0, q, sizeof(q));
		rg[0] = 24;
		hxfer(0x127, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
		CHECK(refused_and_completed(0x127, 1), "a QUERY_C nobody asked for: refused");
	}
	hostile_begin();
	{
		uint32_t k[3] = { RNDIS_MSG_KEEPALIVE, 12, 1 };

		recv_put(0, k, sizeof(k));
		rg[0] = 12;
		hxfer(0x128, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
		CHECK(refused_and_completed(0x128, 1), "a request type only a guest sends: refused");
	}

	/* Link indications (well formed: taken). */
	{
		uint32_t ind[5] = { RNDIS_MSG_INDICATE, 20, RNDIS_STATUS_MEDIA_DISCONNECT, 0, 0 };

		hostile_begin();
		recv_put(0, ind, sizeof(ind));
		rg[0] = 20;
		hxfer(0x131, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
		netvsc_poll(&NC);
		CHECK(!NC.link_up && NC.stats.link_changes == 1, "MEDIA_DISCONNECT: link down");
		ind[2] = RNDIS_STATUS_MEDIA_CONNECT;
		recv_put(0, ind, sizeof(ind));
		hxfer(0x132, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
		netvsc_poll(&NC);
		ind[3] = 100;   /* a status buffer past the message */
		recv_put(0, ind, sizeof(ind));
		hxfer(0x133, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
		netvsc_poll(&NC);
		CHECK(NC.link_up && NC.stats.link_changes == 2 && NC.stats.bad - before_bad == 1 &&
		      guest_comps(&got, NULL, NULL) == 3,
		      "MEDIA_CONNECT: link up again; one with its buffer outside refused");
	}

	/* Completions for sends. */
	hostile_begin();
	free0 = NC.nfree;
	make_frame(f, 60, PEER, MAC, 1);
	netvsc_send(&NC, f, 60);
	guest_comps(&got, sends, &nsends);
	{
		uint32_t c[2] = { NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE, NVSP_STAT_SUCCESS };

		hsend(VMBUS_PKT_COMP, 0, sends[0] + (1u << 16), NULL, 0, c, sizeof(c));
		hsend(VMBUS_PKT_COMP, 0, (1ull << 63) | 5, NULL, 0, c, sizeof(c));
		netvsc_poll(&NC);
		CHECK(nsends == 1 && NC.nfree == free0 - 1 && NC.stats.bad - before_bad == 2,
		      "completions for a stale section id and for no bring-up request: refused, "
		      "the section stays out");
		c[0] = NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE;
		hsend(VMBUS_PKT_COMP, 0, sends[0], NULL, 0, c, sizeof(c));
		netvsc_poll(&NC);
		CHECK(NC.nfree == free0 - 1 && NC.stats.bad - before_bad == 3,
		      "the right id with the wrong message type: refused");
		c[0] = NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE;
		hsend(VMBUS_PKT_COMP, 0, sends[0], NULL, 0, c, sizeof(c));
		hsend(VMBUS_PKT_COMP, 0, sends[0], NULL, 0, c, sizeof(c));
		netvsc_poll(&NC);
		CHECK(NC.nfree == free0 && NC.stats.bad - before_bad == 4,
		      "the real completion frees the section; the same again is refused");
	}

	/* Packets of other kinds, and one too long to copy. */
	hostile_begin();
	{
		uint32_t vf[3] = { NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION, 1, 7 };
		uint64_t ignored = NC.stats.ignored;

		hsend(0x99, 0, 1, NULL, 0, vf, sizeof(vf));
		hsend(VMBUS_PKT_DATA_INBAND, 0, 2, NULL, 0, vf, sizeof(vf));
		for (unsigned i = 0; i < 64; i++) {
			rg[2 * i] = 144;
			rg[2 * i + 1] = 0;
		}
		hxfer(0x141, 0xcafe, rg, 64, 64, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
		make_frame(f, 100, MAC, PEER, 9);
		rg[0] = put_packet(0, f, 100, 36, 100, 144);
		rg[1] = 0;
		hxfer(0x142, 0xcafe, rg, 1, 1, NVSP_MSG1_TYPE_SEND_RNDIS_PKT);
		CHECK(netvsc_poll(&NC) == 1 && E.rx_frames == 1 && !memcmp(E.last_rx, f, 100) &&
		      NC.stats.bad - before_bad == 2 && NC.stats.ignored == ignored + 1,
		      "an unknown packet type and a %u-byte packet refused, a VF association "
		      "ignored, and the good frame behind them delivered", 24 + 8 * 64 + 16);
		guest_comps(&got, NULL, NULL);
	}

	/* A corrupt ring: the channel is dead for netvsc. */
	E.h_out.hdr->write_index = (uint32_t)E.in_bytes * 4 + 8;
	CHECK(netvsc_poll(&NC) == NETVSC_EIO && NC.broken && netvsc_send(&NC, f, 60) == -1 &&
	      netvsc_poll(&NC) == NETVSC_EIO,
	      "a write index past the ring: NETVSC_EIO, and every call fails from then on");
	CHECK(E.page_cross == 0, "netvsp never copied across a page");
}

/* ---- a scripted host for the bring-up ------------------------------------------- */

enum script_mode {
	SC_NONE,
	SC_WRONG_VERSION,       /* SUCCESS, naming a version not offered */
	SC_FAIL_ABOVE_4,        /* FAIL above 4, then the buffers per sc_* */
	SC_SILENT,              /* never answers */
	SC_FAIL_ALL,
};

static void script_reply(uint64_t tid, const struct nvsp_message *m)
{
	hsend(VMBUS_PKT_COMP, 0, tid, NULL, 0, m, sizeof(*m));
	E.guest_event = true;
}

static void script_host(void)
{
	uint64_t buf[32];
	int len;
	bool sig;

	while ((len = vmbus_ring_peek(&E.h_in, buf, sizeof(buf))) > 0) {
		struct vmbus_pkt_desc d;
		struct nvsp_message m, c;

		memcpy(&d, buf, sizeof(d));
		memset(&m, 0, sizeof(m));
		memcpy(&m, (uint8_t *)buf + d.offset8 * 8,
		       (size_t)len - d.offset8 * 8u < sizeof(m) ? (size_t)len - d.offset8 * 8u
								 : sizeof(m));
		vmbus_ring_consume(&E.h_in, (uint32_t)len, &sig);
		memset(&c, 0, sizeof(c));
		if (E.script == SC_SILENT)
			continue;
		switch (m.msg_type) {
		case NVSP_MSG_TYPE_INIT:
			if (E.noffered < 8)
				E.offered[E.noffered++] = m.init.max_protocol_ver;
			c.msg_type = NVSP_MSG_TYPE_INIT_COMPLETE;
			c.init_complete.status = NVSP_STAT_SUCCESS;
			c.init_complete.negotiated_protocol_ver = m.init.max_protocol_ver;
			if (E.script == SC_WRONG_VERSION)
				c.init_complete.negotiated_protocol_ver = 0x70000;
			if (E.script == SC_FAIL_ALL || (E.script == SC_FAIL_ABOVE_4 &&
							m.init.max_protocol_ver > NVSP_PROTOCOL_VERSION_4))
				c.init_complete.status = NVSP_STAT_FAIL;
			script_reply(d.trans_id, &c);
			break;
		case NVSP_MSG1_TYPE_SEND_RECV_BUF:
			c.msg_type = NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE;
			c.send_recv_buf_complete.status = NVSP_STAT_SUCCESS;
			c.send_recv_buf_complete.num_sections = E.sc_sections;
			c.send_recv_buf_complete.sections[0].sub_alloc_size = E.sc_sub_alloc;
			c.send_recv_buf_complete.sections[0].num_sub_allocs = E.sc_num_sub;
			c.send_recv_buf_complete.sections[0].end_offset = E.sc_sub_alloc * E.sc_num_sub;
			script_reply(d.trans_id, &c);
			break;
		case NVSP_MSG1_TYPE_SEND_SEND_BUF:
			c.msg_type = NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE;
			c.send_send_buf_complete.status = NVSP_STAT_SUCCESS;
			c.send_send_buf_complete.section_size = E.sc_section;
			script_reply(d.trans_id, &c);
			break;
		default:
			break;  /* NDIS config and version: no answer */
		}
	}
}

static int scripted_init(int mode, uint32_t sections, uint32_t sub, uint32_t num,
			 uint32_t section)
{
	open_channel(8, 8, false);
	E.script = mode;
	E.noffered = 0;
	E.sc_sections = sections;
	E.sc_sub_alloc = sub;
	E.sc_num_sub = num;
	E.sc_section = section;
	E.lost_wakeups = 0;
	return guest_init(0);
}

static void test_scripted(void)
{
	int r;

	r = scripted_init(SC_WRONG_VERSION, 1, 1728, 10, 6144);
	CHECK(r == NETVSC_ENODEV && E.noffered == 1 && !NC.ready,
	      "INIT answered SUCCESS for a version we did not offer: ENODEV (%d)", r);
	r = scripted_init(SC_FAIL_ALL, 1, 1728, 10, 6144);
	CHECK(r == NETVSC_ENODEV && E.noffered == 6 && E.offered[0] == NVSP_PROTOCOL_VERSION_61 &&
	      E.offered[5] == NVSP_PROTOCOL_VERSION_1,
	      "every INIT refused: all six offered, 6.1 first, 1 last, then ENODEV");
	r = scripted_init(SC_FAIL_ABOVE_4, 1, 1728, RECV_BYTES / 1728 + 1, 6144);
	CHECK(r == NETVSC_ENODEV && E.noffered == 4 && E.offered[1] == NVSP_PROTOCOL_VERSION_6 &&
	      E.offered[3] == NVSP_PROTOCOL_VERSION_4 && NC.version == NVSP_PROTOCOL_VERSION_4,
	      "a host of NVSP 4: 6.1, 6, 5 refused, 4 taken; then receive sub-allocations past "
	      "the buffer: ENODEV");
	r = scripted_init(SC_NONE, 2, 1728, 10, 6144);
	CHECK(r == NETVSC_ENODEV, "two receive sections (Linux takes one): ENODEV");
	r = scripted_init(SC_NONE, 1, 0xffffffffu, 0x10001, 6144);
	CHECK(r == NETVSC_ENODEV, "sub-allocation size x count wrapping 32 bits: ENODEV");
	r = scripted_init(SC_NONE, 1, 1728, 10, 100);
	CHECK(r == NETVSC_ENODEV && NC.nsections == 0,
	      "send sections of 100 bytes (no frame fits): ENODEV");
	r = scripted_init(SC_NONE, 1, 1728, 10, SEND_BYTES + 4096);
	CHECK(r == NETVSC_ENODEV, "a send section larger than the buffer: ENODEV");
	r = scripted_init(SC_SILENT, 1, 1728, 10, 6144);
	CHECK(r == NETVSC_ETIMEDOUT && E.lost_wakeups == 1,
	      "a host that never answers: ETIMEDOUT when the wait gives up");
	E.script = SC_NONE;
}

static void test_args(void)
{
	struct netvsc_config cfg = { .ring = E.ring, .out_bytes = E.out_bytes,
				     .in_bytes = E.in_bytes };

	CHECK(netvsc_init(&NC, &cfg, &sc_ops, NULL) == NETVSC_EINVAL &&
	      netvsc_init(&NC, NULL, &sc_ops, NULL) == NETVSC_EINVAL &&
	      netvsc_send(&NC, "x", 1) == -1,
	      "netvsc_init without buffers or config: EINVAL; no send before bring-up");
}

int main(void)
{
	map_guest_memory();
	if (netvsp_init(&SP, MAC, &sp_ops, NULL))
		abort();
	test_args();
	test_bringup();
	test_max_version();
	test_tx();
	test_rx();
	test_busy();
	test_ring_full();
	test_volume();
	test_echo();
	test_hostile();
	test_scripted();
	printf("# struct netvsc: %zu bytes\n", sizeof(struct netvsc));
	return done_testing();
}
