/*
 * The legacy guest's network checks ("net" on the command line): an
 * Intel 82540EM (e1000) driven as its datasheet says, with the library's
 * tiny IPv4 stack (kernel/lib/net.c) on top. Nothing here knows whether
 * the NIC is isovisor's model or a real one.
 *
 *   net ip=N peer=M [bytes=B] [outside=O]
 *     our address 10.0.0.N, the peer 10.0.0.M on the same link; B bytes
 *     (default 16 MiB) of UDP each way; with O, a host 10.0.0.O outside
 *     (beyond the switch's uplink: tests/tools/netpeer) that answers ARP
 *     and pings and echoes UDP port 7
 *   stream=0 serve=P
 *     no UDP stream (a peer that does not speak it, such as Linux): after
 *     the pings, answer until the peer has pinged us P times
 *
 * The checks, one TAP result each: the NIC and its EEPROM; ARP for the
 * peer; 10 pings to the peer with their payloads; the UDP stream both
 * ways, in order, nothing missing, crc32 equal; the NIC's interrupts. At
 * the end both sides wait for each other's "done" so that neither stops
 * answering while the other still asks.
 */
#include "legacy.h"
#include <string.h>
#include "net.h"

#define E1000_VENDOR  0x8086
#define E1000_DEVICE  0x100e
#define REG_CTRL      0x0000
#define REG_STATUS    0x0008
#define REG_EERD      0x0014
#define REG_ICR       0x00c0
#define REG_IMS       0x00d0
#define REG_IMC       0x00d8
#define REG_RCTL      0x0100
#define REG_TCTL      0x0400
#define REG_RDBAL     0x2800
#define REG_RDBAH     0x2804
#define REG_RDLEN     0x2808
#define REG_RDH       0x2810
#define REG_RDT       0x2818
#define REG_TDBAL     0x3800
#define REG_TDBAH     0x3804
#define REG_TDLEN     0x3808
#define REG_TDH       0x3810
#define REG_TDT       0x3818
#define REG_RAL0      0x5400
#define REG_RAH0      0x5404
#define REG_MTA       0x5200

#define CTRL_SLU      (1u << 6)
#define CTRL_RST      (1u << 26)
#define STATUS_LU     (1u << 1)
#define RCTL_EN       (1u << 1)
#define RCTL_BAM      (1u << 15)
#define RCTL_SECRC    (1u << 26)
#define TCTL_EN       (1u << 1)
#define TCTL_PSP      (1u << 3)
#define ICR_TXDW      (1u << 0)
#define ICR_LSC       (1u << 2)
#define ICR_RXT0      (1u << 7)

#define RING          32                /* descriptors per ring */
#define BUF           2048
#define NIC_IRQ_BUDGET 5000             /* ms of PIT ticks for a phase */
#define STREAM_PORT   5001
#define CTRL_PORT     5000

struct rx_desc {
	uint64_t addr;
	uint16_t length, csum;
	uint8_t status, errors;
	uint16_t special;
};

struct tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso, cmd, status, css;
	uint16_t special;
};

static struct rx_desc rxd[RING] __attribute__((aligned(128)));
static struct tx_desc txd[RING] __attribute__((aligned(128)));
static uint8_t rxbuf[RING][BUF] __attribute__((aligned(4096)));
static uint8_t txbuf[RING][BUF] __attribute__((aligned(4096)));
static volatile uint32_t *regs;
static unsigned rx_next, tx_tail, tx_clean;
static volatile uint64_t nic_irqs, nic_icr_causes;
static struct net_if nif;
static uint8_t peer_ip[4] = { 10, 0, 0, 0 };
static uint8_t outside_ip[4] = { 10, 0, 0, 0 };
#define ECHO_PORT     7
#define ECHO_LOCAL    5007
#define ECHO_COUNT    100
static unsigned echo_ok, echo_bad;
static uint32_t echo_want;

/* Register accesses are ordered with the descriptor and buffer stores
 * and loads around them (x86 keeps stores in order; the compiler must
 * too: a tail written before the descriptor it hands over would give
 * the NIC a descriptor half written). */
static uint32_t rd(unsigned reg)
{
	uint32_t v;

	__asm__ volatile("" ::: "memory");
	v = regs[reg / 4];
	__asm__ volatile("" ::: "memory");
	return v;
}

static void wr(unsigned reg, uint32_t v)
{
	__asm__ volatile("" ::: "memory");
	regs[reg / 4] = v;
	__asm__ volatile("" ::: "memory");
}

static void pci_write32(unsigned dev, unsigned off, uint32_t v)
{
	outl(0xcf8, 0x80000000u | (dev & 0x1f) << 11 | (off & 0xfc));
	outl(0xcfc, v);
}

static uint16_t eeprom_word(unsigned addr)
{
	wr(REG_EERD, (addr & 0xff) << 8 | 1);
	for (unsigned i = 0; i < 100000; i++) {
		uint32_t v = rd(REG_EERD);

		if (v & (1u << 4))
			return (uint16_t)(v >> 16);
	}
	return 0xffff;
}

static void nic_interrupt(unsigned irq)
{
	nic_icr_causes |= rd(REG_ICR);  /* reading clears it and drops the line */
	nic_irqs++;
}

/* Reclaim transmitted descriptors (DD written back). */
static void tx_reclaim(void)
{
	while (tx_clean != tx_tail && (((volatile struct tx_desc *)txd)[tx_clean].status & 1))
		tx_clean = (tx_clean + 1) % RING;
}

static bool tx_full(void)
{
	tx_reclaim();
	return (tx_tail + 1) % RING == tx_clean;
}

static void rx_poll(void);

/* The stack's transmit hook: one frame into the ring, the tail moved. */
static int nic_send(void *ctx, const void *frame, size_t len)
{
	uint64_t spins = 0;

	if (len > BUF)
		return -1;
	while (tx_full()) {
		/* The switch makes us wait while the peer's queue is full:
		 * keep taking what it sends us meanwhile. */
		rx_poll();
		if (++spins > 200000000ull)
			return -1;
		cpu_relax();
	}
	memcpy(txbuf[tx_tail], frame, len);
	txd[tx_tail] = (struct tx_desc){ .addr = (uint64_t)(uintptr_t)txbuf[tx_tail],
					 .length = (uint16_t)len,
					 .cmd = 0x01 | 0x02 | 0x08 };   /* EOP IFCS RS */
	tx_tail = (tx_tail + 1) % RING;
	wr(REG_TDT, tx_tail);
	return 0;
}

/* Hand every received frame to the stack, then give the buffers back. */
static void rx_poll(void)
{
	unsigned given = 0;

	while (((volatile struct rx_desc *)rxd)[rx_next].status & 1) {
		struct rx_desc d;

		__asm__ volatile("" ::: "memory");     /* the status before the rest */
		d = rxd[rx_next];

		if ((d.status & 2) && d.length <= BUF)
			net_input(&nif, rxbuf[rx_next], d.length);
		rxd[rx_next].status = 0;
		rx_next = (rx_next + 1) % RING;
		given++;
	}
	if (given)      /* the tail is the last descriptor the NIC may fill */
		wr(REG_RDT, (rx_next + RING - 1) % RING);
}

/* ---- the UDP stream -------------------------------------------------------- */

static uint64_t stream_bytes;
static struct {
	uint32_t next_seq, crc, out_of_order;
	uint64_t bytes;
	bool end_seen;
	uint32_t end_crc;
	uint64_t end_bytes;
	bool peer_done;
} in;

static void stream_payload(uint32_t seq, uint8_t *p, size_t len)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (seq + 1) ^ nif.ip[3];

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void udp_in(struct net_if *n, const uint8_t src[4], uint16_t sport, uint16_t dport,
		   const void *data, size_t len)
{
	const uint8_t *d = data;

	if (!memcmp(src, outside_ip, 4) && sport == ECHO_PORT && dport == ECHO_LOCAL) {
		uint8_t want[NET_UDP_MAX];

		if (len >= 4 && len <= sizeof(want) && get32(d) == echo_want) {
			stream_payload(echo_want + 1000000, want, len - 4);
			if (!memcmp(d + 4, want, len - 4))
				echo_ok++;
			else
				echo_bad++;
			echo_want = ~0u;
		}
		return;
	}
	if (memcmp(src, peer_ip, 4))
		return;
	if (dport == STREAM_PORT && len >= 4) {
		uint32_t seq = get32(d);

		if (seq != in.next_seq)
			in.out_of_order++;
		in.next_seq = seq + 1;
		in.crc = crc32_update(in.crc, d + 4, len - 4);
		in.bytes += len - 4;
	} else if (dport == CTRL_PORT && len == 16 && !memcmp(d, "END ", 4)) {
		in.end_seen = true;
		in.end_crc = get32(d + 4);
		in.end_bytes = (uint64_t)get32(d + 8) | (uint64_t)get32(d + 12) << 32;
	} else if (dport == CTRL_PORT && len == 4 && !memcmp(d, "DONE", 4)) {
		in.peer_done = true;
	}
}

/* ---- the checks -------------------------------------------------------------- */

static uint64_t ms_now(void)
{
	return pit_ticks * 10;          /* the PIT runs at 100 Hz here */
}

/* Poll for `ms` or until done() says so. */
static bool wait_for(bool (*done)(void), uint64_t ms)
{
	uint64_t end = ms_now() + ms;

	while (ms_now() < end) {
		rx_poll();
		if (done())
			return true;
		cpu_relax();
	}
	return done();
}

static bool arp_known(void)
{
	uint8_t mac[6];

	return net_arp_lookup(&nif, peer_ip, mac);
}

static bool echo_back(void)
{
	return nif.echo_seen;
}

static bool stream_ended(void)
{
	return in.end_seen;
}

static bool peer_done(void)
{
	return in.peer_done;
}

static bool outside_known(void)
{
	uint8_t mac[6];

	return net_arp_lookup(&nif, outside_ip, mac);
}

static bool echo_came(void)
{
	return echo_want == ~0u;
}

/* The host beyond the uplink: ARP, 5 pings, ECHO_COUNT UDP echoes of
 * growing sizes, each checked byte for byte. */
static void check_outside(void)
{
	uint8_t dgram[NET_UDP_MAX];
	uint64_t t0 = ms_now(), arp_ms;
	unsigned pings = 0;

	while (!outside_known() && ms_now() - t0 < 20000) {
		net_arp_request(&nif, outside_ip);
		wait_for(outside_known, 100);
	}
	arp_ms = ms_now() - t0;
	for (uint16_t s = 1; outside_known() && s <= 5; s++) {
		net_ping(&nif, outside_ip, 0x4321, s, 64 * s);
		if (wait_for(echo_back, NIC_IRQ_BUDGET) && nif.echo_data_ok && nif.echo_seq == s)
			pings++;
	}
	for (uint32_t i = 0; outside_known() && i < ECHO_COUNT; i++) {
		size_t n = 4 + (i * 97) % (NET_UDP_MAX - 4);

		echo_want = i;
		put32(dgram, i);
		stream_payload(i + 1000000, dgram + 4, n - 4);
		if (net_udp_send(&nif, outside_ip, ECHO_LOCAL, ECHO_PORT, dgram, n))
			break;
		wait_for(echo_came, NIC_IRQ_BUDGET);
	}
	tap_result(outside_known() && pings == 5 && echo_ok == ECHO_COUNT && !echo_bad,
		   "legacy net: the outside host 10.0.0.%u (ARP %s in %lu ms) answered %u of "
		   "5 pings and echoed %u of %u UDP datagrams intact (%u wrong)", outside_ip[3],
		   outside_known() ? "resolved" : "not resolved", arp_ms, pings, echo_ok,
		   ECHO_COUNT, echo_bad);
}

static unsigned nic_dev = 32;

static bool check_nic(void)
{
	uint32_t bar0, id, cmd;
	uint16_t w[3];
	uint32_t ral, rah;
	uint16_t sum = 0;

	for (unsigned dev = 0; dev < 32; dev++) {
		id = pci_read32(0, dev, 0, 0);
		if ((id & 0xffff) == E1000_VENDOR && id >> 16 == E1000_DEVICE) {
			nic_dev = dev;
			break;
		}
	}
	if (nic_dev == 32) {
		tap_result(false, "legacy nic: an e1000 (8086:100e) on PCI bus 0");
		return false;
	}
	bar0 = pci_read32(0, nic_dev, 0, 0x10) & ~0xfu;
	cmd = pci_read32(0, nic_dev, 0, 0x04) & 0xffff;
	pci_write32(nic_dev, 0x04, cmd | 0x6);          /* memory, bus master */
	regs = (volatile uint32_t *)(uintptr_t)bar0;
	wr(REG_CTRL, rd(REG_CTRL) | CTRL_RST);
	for (unsigned i = 0; i < 100000 && (rd(REG_CTRL) & CTRL_RST); i++)
		cpu_relax();
	wr(REG_IMC, 0xffffffff);
	wr(REG_CTRL, rd(REG_CTRL) | CTRL_SLU);
	for (unsigned i = 0; i < 3; i++)
		w[i] = eeprom_word(i);
	for (unsigned i = 0; i < 64; i++)
		sum = (uint16_t)(sum + eeprom_word(i));
	ral = rd(REG_RAL0);
	rah = rd(REG_RAH0);
	nif.mac[0] = (uint8_t)w[0];
	nif.mac[1] = (uint8_t)(w[0] >> 8);
	nif.mac[2] = (uint8_t)w[1];
	nif.mac[3] = (uint8_t)(w[1] >> 8);
	nif.mac[4] = (uint8_t)w[2];
	nif.mac[5] = (uint8_t)(w[2] >> 8);
	bool ok = sum == 0xbaba && ral == ((uint32_t)w[1] << 16 | w[0]) &&
		  (rah & 0xffff) == w[2] && (rah & (1u << 31)) &&
		  (rd(REG_STATUS) & STATUS_LU) && bar0;
	tap_result(ok, "legacy nic: e1000 at 00:%02x.0, BAR0 %#x, MAC "
		   "%02x:%02x:%02x:%02x:%02x:%02x from the EEPROM (checksum %#x, want "
		   "0xbaba) as in RAL0/RAH0, link %s", nic_dev, bar0, nif.mac[0],
		   nif.mac[1], nif.mac[2], nif.mac[3], nif.mac[4], nif.mac[5], sum,
		   rd(REG_STATUS) & STATUS_LU ? "up" : "down");
	return ok;
}

static void nic_up(void)
{
	for (unsigned i = 0; i < 128; i++)
		wr(REG_MTA + 4 * i, 0);
	for (unsigned i = 0; i < RING; i++)
		rxd[i] = (struct rx_desc){ .addr = (uint64_t)(uintptr_t)rxbuf[i] };
	wr(REG_RDBAL, (uint32_t)(uintptr_t)rxd);
	wr(REG_RDBAH, 0);
	wr(REG_RDLEN, sizeof(rxd));
	wr(REG_RDH, 0);
	wr(REG_RDT, RING - 1);
	wr(REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);  /* 2048-byte buffers */
	wr(REG_TDBAL, (uint32_t)(uintptr_t)txd);
	wr(REG_TDBAH, 0);
	wr(REG_TDLEN, sizeof(txd));
	wr(REG_TDH, 0);
	wr(REG_TDT, 0);
	wr(REG_TCTL, TCTL_EN | TCTL_PSP | 0x10u << 4 | 0x40u << 12);
	irq_set_handler(11, nic_interrupt);
	pic_unmask(11);
	wr(REG_IMS, ICR_RXT0 | ICR_TXDW | ICR_LSC);
}

static void send_ctrl(const void *msg, size_t len)
{
	net_udp_send(&nif, peer_ip, CTRL_PORT, CTRL_PORT, msg, len);
}

void legacy_net_tests(void)
{
	uint8_t ip[4] = { 10, 0, 0, 0 };
	uint8_t dgram[NET_UDP_MAX];
	uint32_t seq = 0, out_crc = 0;
	uint64_t sent = 0, t0;
	unsigned pings_ok = 0;

	ip[3] = (uint8_t)cmdline_u64(boot.cmdline, "ip=", 1);
	peer_ip[3] = (uint8_t)cmdline_u64(boot.cmdline, "peer=", 2);
	stream_bytes = cmdline_u64(boot.cmdline, "bytes=", 16 * MiB);
	outside_ip[3] = (uint8_t)cmdline_u64(boot.cmdline, "outside=", 0);
	if (!check_nic())
		return;
	net_init(&nif, nif.mac, ip, nic_send, NULL);
	nif.udp = udp_in;
	pit_ticks = 0;
	pit_start(100);
	irq_enable();
	nic_up();

	/* ARP: ask every 100 ms; the peer may still be booting. */
	t0 = ms_now();
	while (!arp_known() && ms_now() - t0 < cmdline_u64(boot.cmdline, "arpwait=", 20000)) {
		net_arp_request(&nif, peer_ip);
		wait_for(arp_known, 100);
	}
	tap_result(arp_known(), "legacy net: ARP resolves the peer 10.0.0.%u (%lu ms; "
		   "%lu requests of the peer answered)", peer_ip[3], ms_now() - t0,
		   nif.arp_requests_answered);
	if (!arp_known()) {
		kprint("# nic: TDH %u TDT %u TCTL %#x RDH %u RDT %u RCTL %#x ICR causes %#lx; "
		       "stack: %lu frames out, %lu tx errors, %lu in",
		       rd(REG_TDH), rd(REG_TDT), rd(REG_TCTL), rd(REG_RDH), rd(REG_RDT),
		       rd(REG_RCTL), nic_icr_causes, nif.tx_frames, nif.tx_errors, nif.rx_frames);
		return;
	}

	for (uint16_t s = 1; s <= 10; s++) {
		net_ping(&nif, peer_ip, 0x1234, s, 56 + 100 * s);
		if (wait_for(echo_back, NIC_IRQ_BUDGET) && nif.echo_data_ok &&
		    nif.echo_seq == s)
			pings_ok++;
	}
	tap_result(pings_ok == 10, "legacy net: 10 pings of 10.0.0.%u answered with "
		   "their payloads (156-1056 bytes): %u ok; we answered %lu of the peer's",
		   peer_ip[3], pings_ok, nif.echo_requests_answered);

	if (outside_ip[3])
		check_outside();
	if (!cmdline_u64(boot.cmdline, "stream=", 1)) {
		uint64_t want = cmdline_u64(boot.cmdline, "serve=", 0);

		t0 = ms_now();
		while (nif.echo_requests_answered < want && ms_now() - t0 < 240000)
			wait_for(echo_back, 100);
		tap_result(nif.echo_requests_answered >= want, "legacy net: the peer pinged us "
			   "%lu times (want %lu) in %lu ms", nif.echo_requests_answered, want,
			   ms_now() - t0);
		goto out_checks;
	}

	/* The stream, both ways at once: each datagram a sequence number
	 * and the pattern; then END with the byte count and crc32. */
	t0 = ms_now();
	while (sent < stream_bytes) {
		size_t n = stream_bytes - sent < NET_UDP_MAX - 4 ? stream_bytes - sent :
								   NET_UDP_MAX - 4;

		put32(dgram, seq);
		stream_payload(seq, dgram + 4, n);
		out_crc = crc32_update(out_crc, dgram + 4, n);
		if (net_udp_send(&nif, peer_ip, STREAM_PORT, STREAM_PORT, dgram, n + 4))
			break;
		seq++;
		sent += n;
		rx_poll();
	}
	{
		uint8_t end[16] = "END ";

		put32(end + 4, out_crc);
		put32(end + 8, (uint32_t)sent);
		put32(end + 12, (uint32_t)(sent >> 32));
		send_ctrl(end, sizeof(end));
	}
	wait_for(stream_ended, 120000);
	tap_result(in.end_seen && in.end_bytes == in.bytes && in.end_crc == in.crc &&
		   !in.out_of_order && in.bytes == stream_bytes && sent == stream_bytes,
		   "legacy net: UDP each way, in order and complete: sent %lu bytes (%u "
		   "datagrams, crc32 %08x), got %lu (%u, crc32 %08x) as the peer's END "
		   "says; %u out of order; %lu ms", sent, seq, out_crc, in.bytes,
		   in.next_seq, in.crc, in.out_of_order, ms_now() - t0);

out_checks:
	tap_result(nic_irqs > 0 && (nic_icr_causes & ICR_RXT0) && (nic_icr_causes & ICR_TXDW),
		   "legacy nic: %lu interrupts on IRQ 11, causes %#lx (RXT0 and TXDW seen)",
		   nic_irqs, nic_icr_causes);

	/* Keep answering until the peer is done too. */
	for (unsigned i = 0; stream_bytes && cmdline_u64(boot.cmdline, "stream=", 1) &&
			     i < 50 && !in.peer_done; i++) {
		send_ctrl("DONE", 4);
		wait_for(peer_done, 200);
	}
	send_ctrl("DONE", 4);
	wait_for(peer_done, 500);
	wr(REG_IMC, 0xffffffff);
	irq_disable();
	pit_stop();
	kprint("# net: %lu frames in, %lu out, %lu bad, %lu ignored; peer done: %s",
	       nif.rx_frames, nif.tx_frames, nif.bad, nif.ignored,
	       in.peer_done ? "yes" : "no");
}
