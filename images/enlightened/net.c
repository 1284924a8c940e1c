/*
 * The enlightened guest's network checks ("net" on the command line,
 * the same words as the legacy guest's: ../common/nettest.h): the
 * synthetic NIC. VMBus connects and lists its offers; the network offer
 * (class f8615163-df3e-46c5-913f-f2d2f965ed0e) is opened over a ring of
 * NET_RING_BYTES each way; a receive buffer and a send buffer are
 * allocated and made GPADLs of the channel; netvsc (vmbus/netvsc.c)
 * brings the NIC up: NVSP, the buffers, RNDIS, the MAC and the link.
 * Then the shared network test runs over it, and netvsc's own check:
 * every send section came back, nothing the host sent was refused.
 *
 * Frames are polled, as the legacy guest polls its e1000: the host's
 * signals only wake a bring-up step that waits (netvsc's ops->wait).
 */
#include <string.h>
#include <isovisor/vmbus.h>
#include "enlightened.h"
#include "../common/nettest.h"
#include "client.h"
#include "netvsc.h"
#include "ring.h"

#define NET_RING_BYTES  (64u * 1024)    /* each direction, header included */
#define RECV_BYTES      (2u << 20)
#define SEND_BYTES      (1u << 20)
#define WAIT_MS         20000
/* Sends that find no room: poll and retry this long, then drop. */
#define SEND_RETRY_MS   10000
/* Waiting for the last sections at the end. */
#define DRAIN_MS        2000

/* f8615163-df3e-46c5-913f-f2d2f965ed0e, in Hyper-V's byte order. */
static const struct vmbus_guid net_class = { {
	0x63, 0x51, 0x61, 0xf8, 0x3e, 0xdf, 0xc5, 0x46,
	0x91, 0x3f, 0xf2, 0xd2, 0xf9, 0x65, 0xed, 0x0e } };

static struct vmbus_client vc;
static struct netvsc nc;
static struct net_if nif;
static uint32_t relid, conn;
static bool stack_up;
static uint64_t irq_seen, send_drops;

/* ---- the client's transport (as vmbus_tests.c's) ------------------------- */

static int t_post(void *ctx, uint32_t id, const void *msg, size_t len)
{
	uint16_t st = 0;

	/* The host's port may be busy a moment (its credit taken by our
	 * previous message): retry for up to a second, spinning, since the
	 * credit comes back without an interrupt. */
	for (unsigned i = 0; i < 20000; i++) {
		st = hv_post_message(id, 1, msg, len);
		if (st != HV_STATUS_INSUFFICIENT_BUFFERS)
			break;
		hv_spin_us(50);
	}
	return st;
}

static int t_wait(void *ctx, void *buf, size_t *len)
{
	return synic_wait_message(buf, len, WAIT_MS) ? -1 : 0;
}

static void t_log(void *ctx, const char *line)
{
	kprint("# %s", line);
}

static const struct vmbus_client_ops client_ops = {
	.post = t_post,
	.wait_message = t_wait,
	.log = t_log,
};

/* ---- netvsc's transport ---------------------------------------------------- */

/* The test's wait loops ask for the time once per poll: from the TSC at
 * the rate the hypervisor tells (HV_X64_MSR_TSC_FREQUENCY, read once),
 * so asking costs no exit; the reference counter is an MSR, each read
 * an exit. */
static uint64_t ms_now(void)
{
	static uint64_t per_ms;

	if (!per_ms)
		per_ms = hv_rdmsr(HV_X64_MSR_TSC_FREQUENCY) / 1000;
	if (!per_ms)
		return hv_time_ref_100ns() / 10000;
	return guest_tsc() / per_ms;
}

static void n_signal(void *ctx)
{
	hv_signal_event(conn);
}

/* A bring-up step waits: the host interrupts only when it sets a clear
 * event flag, so clear ours, look at the ring again, then halt. */
static int n_wait(void *ctx)
{
	synic_event_test_and_clear(VMBUS_MESSAGE_SINT, relid);
	if (vmbus_ring_avail_read(&nc.in))
		return 0;
	if (!synic_wait_event(irq_seen, WAIT_MS))
		return -1;
	irq_seen = synic_irq_seq();
	return 0;
}

static void n_rx(void *ctx, const void *frame, size_t len)
{
	if (stack_up)
		net_input(&nif, frame, len);
}

static const struct netvsc_ops nc_ops = {
	.signal_host = n_signal,
	.wait = n_wait,
	.rx = n_rx,
	.log = t_log,
};

/* ---- the NIC for the network test ------------------------------------------ */

static void nic_poll(void)
{
	netvsc_poll(&nc);
}

static void nic_flush(void)
{
	netvsc_flush(&nc);
}

/* Something for us: the host wrote our ring. Its event flag is cleared
 * first, so a write after this look raises the SINT and ends the halt. */
static bool nic_has_work(void *ctx)
{
	synic_event_test_and_clear(VMBUS_MESSAGE_SINT, relid);
	return vmbus_ring_avail_read(&nc.in) != 0;
}

/* Waiting for the host or the peer: the host told of everything we
 * sent, then halt until it writes to us (or IDLE_BOUND_MS passed), so
 * the CPU goes to the host and the other guests meanwhile. */
#define IDLE_BOUND_MS 50
static void nic_idle(void)
{
	netvsc_flush(&nc);
	synic_idle(nic_has_work, NULL, IDLE_BOUND_MS);
}

/* The stack's tx hook: no section or no ring room means the host has
 * not caught up (its switch may be waiting for the peer): take its
 * completions, and what it sent us meanwhile, and try again. */
static int nic_send(void *ctx, const void *frame, size_t len)
{
	uint64_t deadline = 0;

	for (unsigned i = 0;; i++) {
		int r = netvsc_send_more(&nc, frame, len);

		if (r != NETVSC_BUSY)
			return r;
		if (netvsc_poll(&nc) <= 0 && netvsc_sections_busy(&nc))
			nic_idle();     /* the host completes sections, then signals */
		if (i % 16)
			continue;
		if (!deadline) {
			deadline = ms_now() + SEND_RETRY_MS;
		} else if (ms_now() > deadline) {
			send_drops++;
			return -1;
		}
	}
}

/* netvsc's own check: after a moment every section is back, and the
 * host sent nothing we refused. */
static void netvsc_check(void)
{
	uint64_t end = ms_now() + DRAIN_MS;

	while (netvsc_sections_busy(&nc) && ms_now() < end)
		netvsc_poll(&nc);
	tap_result(!netvsc_sections_busy(&nc) && !nc.stats.bad && !nc.broken &&
		   nc.stats.tx_frames && nc.stats.rx_frames,
		   "enlightened netvsc: %lu frames sent, %lu received; every send section "
		   "back (%u out); %lu host packets refused%s%s", nc.stats.tx_frames,
		   nc.stats.rx_frames, netvsc_sections_busy(&nc), nc.stats.bad,
		   nc.last_bad ? ", the last: " : "", nc.last_bad ? nc.last_bad : "");
	kprint("# netvsc: %lu sends busy (no section %lu, ring full %lu), %lu dropped; "
	       "%lu signals; %lu completions deferred; %lu indications, link %s",
	       nc.stats.tx_no_section + nc.stats.tx_ring_full, nc.stats.tx_no_section,
	       nc.stats.tx_ring_full, send_drops, nc.stats.signals,
	       nc.stats.rx_comp_deferred, nc.stats.indications, nc.link_up ? "up" : "down");
}

/* The bench lines' exit count: ours, less the host's timer interrupts. */
static uint64_t nic_exits(void)
{
	static struct hv_isovisor_exit_counters c;

	if (hv_exit_counters(0, &c))
		return 0;
	return hv_exit_total(&c) - hv_exit_count(&c, "intr");
}

/* ---- bring-up ----------------------------------------------------------------- */

static const char *netvsc_error(int r)
{
	switch (r) {
	case NETVSC_EIO:        return "a ring corrupt";
	case NETVSC_EINVAL:     return "bad arguments";
	case NETVSC_ENODEV:     return "refused by the host";
	case NETVSC_ETIMEDOUT:  return "no answer from the host";
	default:                return "unknown error";
	}
}

/* page_alloc'd memory as a GPADL of the channel. */
static int make_gpadl(void *p, uint32_t bytes, uint32_t *handle)
{
	static uint64_t pfns[RECV_BYTES / PAGE_SIZE];
	uint32_t n = bytes / PAGE_SIZE;

	if (!p || n > ARRAY_SIZE(pfns))
		return VMBUS_CLIENT_ENOSPC;
	for (uint32_t i = 0; i < n; i++)
		pfns[i] = virt_to_phys((uint8_t *)p + (size_t)i * PAGE_SIZE) >> 12;
	return vmbus_client_gpadl_create(&vc, relid, pfns, n, handle);
}

/* The channel open, the buffers given, netvsc up: 0, or what failed
 * in *why and an error code. */
static int net_open(struct netvsc_config *cfg, const char **why)
{
	uint8_t *ring = page_alloc(2 * NET_RING_BYTES);
	uint32_t ring_gpadl;
	int r;

	*why = "ring, buffers";
	cfg->recv_buf = page_alloc(RECV_BYTES);
	cfg->send_buf = page_alloc(SEND_BYTES);
	if (!ring || !cfg->recv_buf || !cfg->send_buf)
		return VMBUS_CLIENT_ENOSPC;
	*why = "channel";
	if (vmbus_ring_format(ring, NET_RING_BYTES) ||
	    vmbus_ring_format(ring + NET_RING_BYTES, NET_RING_BYTES))
		return VMBUS_CLIENT_EINVAL;
	if ((r = make_gpadl(ring, 2 * NET_RING_BYTES, &ring_gpadl)) ||
	    (r = vmbus_client_open(&vc, relid, ring_gpadl, NET_RING_BYTES / PAGE_SIZE, 0,
				   NULL, 0)))
		return r;
	*why = "buffer GPADLs";
	if ((r = make_gpadl(cfg->recv_buf, RECV_BYTES, &cfg->recv_gpadl)) ||
	    (r = make_gpadl(cfg->send_buf, SEND_BYTES, &cfg->send_gpadl)))
		return r;
	cfg->ring = ring;
	cfg->out_bytes = cfg->in_bytes = NET_RING_BYTES;
	cfg->recv_bytes = RECV_BYTES;
	cfg->send_bytes = SEND_BYTES;
	*why = "netvsc";
	irq_seen = synic_irq_seq();
	return netvsc_init(&nc, cfg, &nc_ops, NULL);
}

void enlightened_net_tests(void)
{
	static const struct nettest_nic syn = {
		.kind = "enlightened", .nif = &nif, .mac = nc.mac, .send = nic_send,
		.poll = nic_poll, .flush = nic_flush, .idle = nic_idle, .ms_now = ms_now, .final_check = netvsc_check,
		.exits = nic_exits,
	};
	struct netvsc_config cfg;
	const struct vmbus_channel_offer_channel *offer = NULL;
	const char *why = "connect";
	int r;

	if (!boot.under_isovisor || !hv.present) {
		tap_result(true, "enlightened netvsc: bring-up # SKIP no TLFS hypervisor");
		return;
	}
	memset(&cfg, 0, sizeof(cfg));
	vmbus_client_init(&vc, &client_ops, NULL);
	r = vmbus_client_connect(&vc);
	if (r == 0) {
		why = "offers";
		r = vmbus_client_request_offers(&vc);
	}
	if (r >= 0) {
		offer = vmbus_client_find_offer(&vc, &net_class);
		r = offer ? 0 : VMBUS_CLIENT_EREFUSED;
		why = "network offer";
	}
	if (offer) {
		relid = offer->child_relid;
		conn = offer->connection_id;
		r = net_open(&cfg, &why);
	}
	if (r)
		tap_result(false, "enlightened netvsc: bring-up failed at the %s (%s)", why,
			   strcmp(why, "netvsc") ? vmbus_client_strerror(r) : netvsc_error(r));
	else
		tap_result(nc.link_up, "enlightened netvsc: NVSP version %#x, MAC "
			   "%02x:%02x:%02x:%02x:%02x:%02x from RNDIS, link %s (channel %u, "
			   "%u KiB ring, %u send sections of %u bytes)", nc.version, nc.mac[0],
			   nc.mac[1], nc.mac[2], nc.mac[3], nc.mac[4], nc.mac[5],
			   nc.link_up ? "up" : "down", relid, 2 * NET_RING_BYTES >> 10,
			   nc.nsections, nc.section_size);
	if (r)
		return;
	stack_up = true;
	nettest_run(&syn);
}
