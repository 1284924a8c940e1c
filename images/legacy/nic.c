/*
 * The legacy guest's network checks ("net" on the command line): an
 * Intel 82540EM (e1000) driven as its datasheet says, under the shared
 * network test (../common/nettest.c: ARP, pings, the outside host, the
 * UDP stream each way) and the library's tiny IPv4 stack. Nothing here
 * knows whether the NIC is isovisor's model or a real one.
 *
 * The e1000's own checks, one TAP result each: the NIC and its EEPROM
 * first; after the shared ones, the NIC's interrupts (IRQ 11, RXT0 and
 * TXDW seen). The command line's words are nettest.h's.
 */
#include "legacy.h"
#include <string.h>
#include "net.h"
#include "../common/nettest.h"

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
	/* Reentrant: a reply sent from net_input() may find the transmit
	 * ring full and poll again (nic_send). Each frame is copied out and
	 * its descriptor handed back before the stack sees it, so a nested
	 * poll takes the next one; two levels at most. */
	static unsigned depth;
	uint8_t frame[BUF];
	unsigned given = 0;

	if (depth >= 2)
		return;
	depth++;
	while (((volatile struct rx_desc *)rxd)[rx_next].status & 1) {
		struct rx_desc d;
		unsigned i = rx_next;

		__asm__ volatile("" ::: "memory");     /* the status before the rest */
		d = rxd[i];
		if ((d.status & 2) && d.length <= BUF)
			memcpy(frame, rxbuf[i], d.length);
		rxd[i].status = 0;
		rx_next = (i + 1) % RING;
		/* Its buffer is free once copied: hand back every 8. The
		 * tail is the last descriptor the NIC may fill. */
		if (++given % 8 == 0)
			wr(REG_RDT, i);
		if ((d.status & 2) && d.length <= BUF)
			net_input(&nif, frame, d.length);
	}
	if (given % 8)
		wr(REG_RDT, (rx_next + RING - 1) % RING);
	depth--;
}

/* ---- the checks -------------------------------------------------------------- */

static uint64_t ms_now(void)
{
	return pit_ticks * 10;          /* the PIT runs at 100 Hz here */
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

/* The rings back as nic_up() leaves them (after a hostile test). */
static void rings_reset(void)
{
	for (unsigned i = 0; i < RING; i++) {
		rxd[i] = (struct rx_desc){ .addr = (uint64_t)(uintptr_t)rxbuf[i] };
		txd[i] = (struct tx_desc){ 0 };
	}
	rx_next = tx_tail = tx_clean = 0;
	wr(REG_RDBAL, (uint32_t)(uintptr_t)rxd);
	wr(REG_RDH, 0);
	wr(REG_RDT, RING - 1);
	wr(REG_TDBAL, (uint32_t)(uintptr_t)txd);
	wr(REG_TDH, 0);
	wr(REG_TDT, 0);
}

static void spin_ms(uint64_t ms)
{
	uint64_t end = ms_now() + ms;

	while (ms_now() < end)
		cpu_relax();
}

/*
 * "hostile": what a guest may do to its own NIC, each of which the NIC
 * must refuse (the host logs it) and survive: a frame longer than 1514
 * bytes over three descriptors; a transmit ring and then a receive ring
 * placed outside its RAM (0xf0000000). After each the rings are put back
 * and the NIC must work again: the checks that follow prove it.
 */
static void nic_hostile(void)
{
	const uint32_t outside = 0xf0000000u;
	uint32_t tdh0, tdh1, tdh2, rdh0, rdh1;
	bool dd = true;

	/* 1. 3 x 1000 bytes, EOP on the last only: dropped as oversized. */
	tdh0 = rd(REG_TDH);
	for (unsigned k = 0; k < 3; k++) {
		memset(txbuf[tx_tail], 0xa5, 1000);
		txd[tx_tail] = (struct tx_desc){ .addr = (uint64_t)(uintptr_t)txbuf[tx_tail],
						 .length = 1000,
						 .cmd = (uint8_t)((k == 2 ? 0x01 : 0) | 0x02 | 0x08) };
		tx_tail = (tx_tail + 1) % RING;
	}
	wr(REG_TDT, tx_tail);
	spin_ms(50);
	tdh1 = rd(REG_TDH);
	for (unsigned k = 0; k < 3; k++)
		dd &= (((volatile struct tx_desc *)txd)[(tdh0 + k) % RING].status & 1) != 0;
	/* 2. The transmit ring outside our RAM: the NIC stops it. */
	wr(REG_TDBAL, outside);
	wr(REG_TDT, (rd(REG_TDH) + 1) % RING);
	spin_ms(50);
	tdh2 = rd(REG_TDH);
	rings_reset();
	/* 3. The receive ring outside our RAM: what arrives is dropped. */
	wr(REG_RDBAL, outside);
	wr(REG_RDH, 0);                 /* room for what comes: it must try */
	wr(REG_RDT, RING - 1);
	rdh0 = rd(REG_RDH);
	spin_ms(2000);                  /* the peer's ARP requests come */
	rdh1 = rd(REG_RDH);
	rings_reset();
	tap_result(tdh1 == (tdh0 + 3) % RING && dd && tdh2 == tdh1 && rdh1 == rdh0,
		   "legacy hostile: a 3000-byte frame over 3 descriptors consumed (TDH %u -> %u, "
		   "DD %s), a transmit ring outside RAM stopped (TDH stays %u), a receive ring "
		   "outside RAM takes nothing (RDH %u -> %u); the rings put back",
		   tdh0, tdh1, dd ? "set" : "missing", tdh2, rdh0, rdh1);
}

/* "flood=N": N broadcast frames as fast as the switch takes them, then
 * the end; the other guests' checks on the same switch must not suffer. */
static void nic_flood(uint64_t n)
{
	uint8_t f[1514];
	uint64_t t0 = ms_now(), sent = 0;

	memset(f, 0xff, 6);
	memcpy(f + 6, nif.mac, 6);
	f[12] = 0x88;                   /* IEEE 802 local experimental type */
	f[13] = 0xb5;
	for (uint64_t i = 0; i < n; i++) {
		memset(f + 14, (int)i, sizeof(f) - 14);
		if (nic_send(NULL, f, sizeof(f)))
			break;
		sent++;
		rx_poll();
	}
	tap_result(sent == n, "legacy hostile: flooded %lu of %lu broadcast frames of 1514 bytes "
		   "in %lu ms", sent, n, ms_now() - t0);
}

static void nic_arp_failed(void)
{
	kprint("# nic: TDH %u TDT %u TCTL %#x RDH %u RDT %u RCTL %#x ICR causes %#lx; "
	       "stack: %lu frames out, %lu tx errors, %lu in",
	       rd(REG_TDH), rd(REG_TDT), rd(REG_TCTL), rd(REG_RDH), rd(REG_RDT),
	       rd(REG_RCTL), nic_icr_causes, nif.tx_frames, nif.tx_errors, nif.rx_frames);
}

static void nic_irq_check(void)
{
	tap_result(nic_irqs > 0 && (nic_icr_causes & ICR_RXT0) && (nic_icr_causes & ICR_TXDW),
		   "legacy nic: %lu interrupts on IRQ 11, causes %#lx (RXT0 and TXDW seen)",
		   nic_irqs, nic_icr_causes);
}

/* The NIC interrupts for what it receives, the PIT every 10 ms: a
 * waiting guest halts rather than spin on a CPU its neighbours need. */
static void nic_idle(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}

static void nic_stop(void)
{
	wr(REG_IMC, 0xffffffff);
	irq_disable();
	pit_stop();
}

void legacy_net_tests(void)
{
	static const struct nettest_nic e1000 = {
		.kind = "legacy", .nif = &nif, .mac = nif.mac, .send = nic_send,
		.poll = rx_poll, .ms_now = ms_now, .arp_failed = nic_arp_failed,
		.final_check = nic_irq_check, .stop = nic_stop, .idle = nic_idle,
	};

	if (!check_nic())
		return;
	pit_ticks = 0;
	pit_start(100);
	irq_enable();
	nic_up();
	if (cmdline_u64(boot.cmdline, "flood=", 0)) {
		net_init(&nif, nif.mac, (const uint8_t[4]){ 10, 0, 0, 99 }, nic_send, NULL);
		nic_flood(cmdline_u64(boot.cmdline, "flood=", 0));
		nic_stop();
		return;
	}
	if (cmdline_has(boot.cmdline, "hostile"))
		nic_hostile();
	nettest_run(&e1000);
}
