/*
 * Host tests for the 82574L / 8254x uplink driver (drivers/e1000e_nic.c)
 * against isovisor's own emulated 82540EM (drivers/e1000.c) as the
 * device: its PCI header (e1000_pci_header) in a fake configuration
 * space, its registers reached through the driver's e1ke_regs hooks
 * (the model is not memory-mapped), its DMA into the same fake physical
 * memory the fake dma_alloc hands the driver, its wire through the tx
 * hook and e1000_receive.
 *
 * The 82574L is the same model with the device id changed, and the two
 * things that differ for this driver done by the register hook: EERD in
 * the 82574 layout (START 0, DONE 1, address 15:2) and RFCTL, which the
 * 82540EM lacks. The hook can also make the device misbehave: RAH0 with
 * AV clear (the MAC must come from the NVM), an EERD that never
 * completes, a reset that never ends, the link down.
 *
 * Covered: finding the function (bus 0, multi-function, behind a bridge,
 * a bridge loop), init (reset, interrupts masked, MAC from RAL/RAH or
 * the NVM in both EERD layouts, link, the rings and control registers),
 * transmit byte for byte and in order across ring wraps, busy and
 * recovery, bad lengths, receive in order and byte for byte over several
 * rounds of more frames than the ring holds, short caller buffers, and a
 * hostile device (impossible lengths, frame errors, a frame without
 * EOP), devices refused (unsupported id, unmappable BAR0, no DMA
 * memory), and MSI (the 82574L's 64-bit capability written with the
 * image's message, RXT0 in IMS, one message per burst, the ICR read
 * that arms the next, the frame that lands as it arms, TXDW only while
 * busy; polled without the capability or the hook).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "e1000.h"
#include "e1000e_nic.h"

#define DMA_BYTES       (4u << 20)
#define DMA_PHYS        0x80000000ull   /* not the pointer: catches mix-ups */
#define PAGE            4096u
#define MMIO_BASE       0xfebc0000u
#define IO_BASE         0xc000u
#define IRQ             11
#define TXLOG           1024u
#define MAX_FNS         8

#define REG_EERD        0x0014
#define REG_RFCTL       0x5008
#define REG_TXDCTL      0x3828

/* ---- fake physical memory: DMA for the driver and for the model ----------- */

static uint8_t dma_mem[DMA_BYTES] __attribute__((aligned(PAGE)));
static size_t dma_used, dma_limit = DMA_BYTES;
static unsigned dma_faults;

static void *f_dma_alloc(void *ctx, size_t bytes, uint64_t *phys)
{
	size_t len = (bytes + PAGE - 1) & ~(size_t)(PAGE - 1);
	void *p;

	(void)ctx;
	if (!len || len > dma_limit - dma_used)
		return NULL;
	p = dma_mem + dma_used;
	memset(p, 0, len);
	*phys = DMA_PHYS + dma_used;
	dma_used += len;
	return p;
}

static uint8_t *dma_ptr(uint64_t gpa, size_t len)
{
	if (gpa < DMA_PHYS || gpa - DMA_PHYS > dma_used || len > dma_used - (gpa - DMA_PHYS)) {
		dma_faults++;
		return NULL;
	}
	return dma_mem + (gpa - DMA_PHYS);
}

static int m_dma_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	uint8_t *p = dma_ptr(gpa, len);

	(void)ctx;
	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

static int m_dma_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	uint8_t *p = dma_ptr(gpa, len);

	(void)ctx;
	if (!p)
		return -1;
	memcpy(p, buf, len);
	return 0;
}

/* ---- the wire -------------------------------------------------------------- */

struct txrec {
	size_t len;
	uint8_t data[E1000_FRAME_MAX];
};

static struct txrec txlog[TXLOG];
static unsigned tx_total, tx_attempts;
static bool wire_busy;

static int m_tx(void *ctx, const void *frame, size_t len)
{
	(void)ctx;
	tx_attempts++;
	if (wire_busy)
		return 1;
	if (tx_total < TXLOG) {
		txlog[tx_total].len = len;
		memcpy(txlog[tx_total].data, frame, len);
	}
	tx_total++;
	return 0;
}

static unsigned irq_raised, model_logs;
static void msi_edge(void);

static void f_irq(void *ctx, unsigned irq, bool level)
{
	(void)ctx;
	(void)irq;
	if (level) {
		irq_raised++;
		msi_edge();
	}
}

static void f_log(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
	model_logs++;
}

static const struct platform plat = { .irq_set = f_irq, .log = f_log };
static const uint8_t model_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static struct e1000 nic;

/* ---- the register hook: the model, and what a different part does ------- */

static struct {
	bool eerd_82574;                /* EERD in the 82574 layout */
	bool eerd_stuck;                /* EERD never says DONE */
	bool hide_av;                   /* RAH0 reads without AV */
	bool link_down;                 /* STATUS.LU reads clear */
	bool rst_stuck;                 /* CTRL.RST never clears */
	uint32_t eerd;                  /* the 82574 EERD as read */
	unsigned eerd_writes, rst_writes, mta_writes, writes;
	bool imc_before_rst, imc_seen;
	bool rfctl_written;
	uint32_t rfctl;
	unsigned icr_reads;
	bool frame_before_icr;          /* deliver `frame` at the next ICR read */
	uint8_t frame[E1000_FRAME_MAX];
	size_t frame_len;
} hook;

static uint32_t h_rd(void *ctx, uint32_t off)
{
	uint32_t v;

	(void)ctx;
	if (off == E1000_ICR)
		hook.icr_reads++;
	if (off == E1000_ICR && hook.frame_before_icr) {
		/* A frame lands just before the read that clears its cause. */
		e1000_receive(&nic, hook.frame, hook.frame_len);
		hook.frame_before_icr = false;
	}
	if (off == REG_EERD && hook.eerd_stuck)
		return 0;
	if (off == REG_EERD && hook.eerd_82574)
		return hook.eerd;
	if (off == REG_RFCTL)
		return hook.rfctl;
	v = e1000_mmio_read(&nic, off, 4);
	if (off == E1000_RAH0 && hook.hide_av)
		v &= ~E1000_RAH_AV;
	if (off == E1000_STATUS && hook.link_down)
		v &= ~E1000_STATUS_LU;
	if (off == E1000_CTRL && hook.rst_stuck)
		v |= E1000_CTRL_RST;
	return v;
}

static void h_wr(void *ctx, uint32_t off, uint32_t v)
{
	(void)ctx;
	hook.writes++;
	if (off == E1000_IMC && v == 0xffffffffu)
		hook.imc_seen = true;
	if (off == E1000_CTRL && (v & E1000_CTRL_RST)) {
		hook.rst_writes++;
		hook.imc_before_rst = hook.imc_seen;
	}
	if (off >= E1000_MTA && off < E1000_MTA + 128 * 4 && v == 0)
		hook.mta_writes++;
	if (off == REG_EERD)
		hook.eerd_writes++;
	if (off == REG_EERD && hook.eerd_82574) {
		uint32_t addr = (v >> 2) & 0x3fff;
		uint16_t data = addr < E1000_EEPROM_WORDS ? nic.eeprom[addr] : 0;

		hook.eerd = (v & 1) ? (uint32_t)data << 16 | addr << 2 | 2u : addr << 2;
		return;
	}
	if (off == REG_RFCTL) {
		hook.rfctl_written = true;
		hook.rfctl = v;
		return;
	}
	e1000_mmio_write(&nic, off, 4, v);
}

static const struct e1ke_regs regs = { .rd = h_rd, .wr = h_wr };

/* ---- fake PCI configuration space ------------------------------------------ */

struct fn {
	uint32_t bdf;
	uint8_t cfg[256], wmask[256];
};

static struct fn fns[MAX_FNS];
static unsigned nfns;
static uint64_t mapped_phys, mapped_len;
static unsigned map_calls;
static bool map_refuse;
static uint32_t dummy_bar;              /* never dereferenced: the hooks carry MMIO */

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static struct fn *fn_at(uint32_t bdf)
{
	for (unsigned i = 0; i < nfns; i++)
		if (fns[i].bdf == bdf)
			return &fns[i];
	return NULL;
}

static uint32_t f_pci_read32(void *ctx, uint32_t bdf, uint32_t off)
{
	struct fn *f = fn_at(bdf);

	(void)ctx;
	if (!f || off > 252 || (off & 3))
		return 0xffffffffu;
	return get32(f->cfg + off);
}

static void f_pci_write32(void *ctx, uint32_t bdf, uint32_t off, uint32_t v)
{
	struct fn *f = fn_at(bdf);

	(void)ctx;
	if (!f || off > 252 || (off & 3))
		return;
	for (unsigned i = 0; i < 4; i++) {
		uint8_t m = f->wmask[off + i];

		f->cfg[off + i] = (uint8_t)((f->cfg[off + i] & ~m) | ((v >> (8 * i)) & m));
	}
}

static void *f_map_bar(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	map_calls++;
	mapped_phys = phys;
	mapped_len = len;
	return map_refuse ? NULL : &dummy_bar;
}

static const struct vblk_hw hw = {
	.pci_read32 = f_pci_read32,
	.pci_write32 = f_pci_write32,
	.map_bar = f_map_bar,
	.dma_alloc = f_dma_alloc,
};

/* MSI as the 82574L (and QEMU's e1000e) has it: a 64-bit capability at
 * 0xd0, one message, no per-vector mask. The model's line is level; a
 * message goes out when it rises (a cause enabled while none was
 * pending) with MSI enabled, which is the edge the real part signals. */
#define MSI_CAP         0xd0u
#define MSI_ADDR        0xfee01000ull
#define MSI_DATA        0x5au

static struct fn *msi_fn;
static unsigned msis;
static uint64_t msi_addr;
static uint32_t msi_data;

static void add_msi(struct fn *f)
{
	f->cfg[0x06] |= 0x10;                   /* status: capability list */
	f->cfg[0x34] = MSI_CAP;
	f->cfg[MSI_CAP] = 0x05;
	f->cfg[MSI_CAP + 1] = 0;
	put16(f->cfg + MSI_CAP + 2, 0x0080);    /* 64-bit, 1 message capable */
	f->wmask[MSI_CAP + 2] = 0x71;           /* enable, messages enabled */
	memset(f->wmask + MSI_CAP + 4, 0xff, 10);       /* address, data */
	msi_fn = f;
}

static void msi_edge(void)
{
	const uint8_t *c = msi_fn ? msi_fn->cfg : NULL;

	if (!c || !(c[MSI_CAP + 2] & 1))
		return;
	msis++;
	msi_addr = get32(c + MSI_CAP + 4) | (uint64_t)get32(c + MSI_CAP + 8) << 32;
	msi_data = c[MSI_CAP + 12] | (uint32_t)c[MSI_CAP + 13] << 8;
}

static bool f_msi_message(void *ctx, uint64_t *addr, uint32_t *data)
{
	(void)ctx;
	*addr = MSI_ADDR;
	*data = MSI_DATA;
	return true;
}

static const struct vblk_hw hw_msi = {
	.pci_read32 = f_pci_read32,
	.pci_write32 = f_pci_write32,
	.map_bar = f_map_bar,
	.dma_alloc = f_dma_alloc,
	.msi_message = f_msi_message,
};

static struct fn *add_fn(uint32_t bdf)
{
	struct fn *f = &fns[nfns++];

	memset(f, 0, sizeof(*f));
	f->bdf = bdf;
	return f;
}

/* The model's function at `bdf`, with device id `device`. */
static struct fn *add_nic(uint32_t bdf, uint16_t device)
{
	struct fn *f = add_fn(bdf);
	uint32_t bar_sizes[6];

	e1000_pci_header(f->cfg, f->wmask, bar_sizes, MMIO_BASE, IO_BASE, IRQ);
	put16(f->cfg + 2, device);
	return f;
}

static void add_plain(uint32_t bdf, uint16_t vendor, uint16_t device, uint8_t hdr)
{
	struct fn *f = add_fn(bdf);

	put16(f->cfg, vendor);
	put16(f->cfg + 2, device);
	f->cfg[0x0e] = hdr;
}

static void add_bridge(uint32_t bdf, uint8_t secondary)
{
	struct fn *f = add_fn(bdf);

	put16(f->cfg, 0x8086);
	put16(f->cfg + 2, 0x244e);
	f->cfg[0x0e] = 0x01;
	put32(f->cfg + 0x18, (uint32_t)secondary << 16 | (uint32_t)secondary << 8);
}

/* ---- fixtures ---------------------------------------------------------------- */

static struct e1ke drv;

/* A fresh machine: one model, an empty bus, no DMA memory in use. */
static void machine_reset(void)
{
	static const struct e1000_net net = {
		.dma_read = m_dma_read, .dma_write = m_dma_write, .tx = m_tx,
	};

	nfns = 0;
	dma_used = 0;
	dma_limit = DMA_BYTES;
	dma_faults = 0;
	memset(&hook, 0, sizeof(hook));
	tx_total = tx_attempts = 0;
	wire_busy = false;
	irq_raised = 0;
	msi_fn = NULL;
	msis = 0;
	msi_addr = 0;
	msi_data = 0;
	map_calls = 0;
	map_refuse = false;
	e1000_init(&nic, &plat, model_mac, IRQ, &net);
}

/* The model at 00:03.0 as `device`, started; the init's result. */
static int start(uint16_t device)
{
	machine_reset();
	add_nic(0x18, device);
	return e1ke_init_regs(&drv, &hw, 0x18, &regs);
}

static void make_frame(uint8_t *f, size_t len, unsigned seq, const uint8_t *dst)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, model_mac, 6);
	f[12] = 0x88;
	f[13] = 0xb5;                   /* local experimental ethertype */
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i * 13 + (i >> 8));
}

static size_t frame_len(unsigned seq)
{
	return 14 + (seq * 97) % (E1000_FRAME_MAX - 13);     /* 14..1514 */
}

/* ---- finding ----------------------------------------------------------------- */

static void test_find(void)
{
	CHECK(e1ke_supported(0x8086, 0x100e) && e1ke_supported(0x8086, 0x10d3) &&
	      e1ke_supported(0x8086, 0x10f6) && e1ke_supported(0x8086, 0x150c) &&
	      e1ke_supported(0x8086, 0x100f), "supported: 82540EM, 82545EM, 82574L/LA, 82583V");
	CHECK(!e1ke_supported(0x8086, 0x10d4) && !e1ke_supported(0x1af4, 0x100e) &&
	      !e1ke_supported(0x8086, 0x1000), "not supported: other ids, other vendors");

	machine_reset();
	CHECK(e1ke_find(&hw) == -1, "find: an empty bus has none");

	add_plain(0x00, 0x8086, 0x29c0, 0);             /* host bridge */
	add_plain(0x08, 0x1af4, 0x1041, 0);             /* virtio-net: not ours */
	add_nic(0x18, E1000_DEVICE);
	CHECK(e1ke_find(&hw) == 0x18, "find: the 82540EM at 00:03.0, as the model reports");

	machine_reset();
	add_plain(0x00, 0x8086, 0x29c0, 0);
	add_bridge(0x10, 3);                            /* 00:02.0 -> bus 3 */
	add_nic(0x300, E1KE_DEV_82574L);
	CHECK(e1ke_find(&hw) == 0x300, "find: an 82574L behind a PCI-to-PCI bridge (03:00.0)");

	machine_reset();
	add_bridge(0x10, 0);                            /* a bridge naming bus 0 */
	add_bridge(0x18, 4);
	add_bridge(0x400, 4);                           /* bus 4 names itself */
	CHECK(e1ke_find(&hw) == -1, "find: a bridge loop ends, none found");

	machine_reset();
	add_plain(0x20, 0x8086, 0x2918, 0x80);          /* 00:04.0 multi-function */
	add_nic(0x22, E1KE_DEV_82574L);                 /* 00:04.2 */
	CHECK(e1ke_find(&hw) == 0x22, "find: function 2 of a multi-function device");
}

/* ---- init ----------------------------------------------------------------------- */

static void test_init_82540(void)
{
	struct fn *f;
	uint32_t cmd;
	bool mta_clear = true;
	int r;

	r = start(E1000_DEVICE);
	CHECK(r == 0 && drv.ready, "init: 82540EM starts (%s)", drv.err ? drv.err : "ok");
	f = fn_at(0x18);
	cmd = get32(f->cfg + 4) & 0xffff;
	CHECK((cmd & 0x6) == 0x6 && (cmd & 0x400), "init: memory space, bus master, INTx off");
	CHECK(map_calls == 1 && mapped_phys == MMIO_BASE && mapped_len == E1KE_BAR_BYTES,
	      "init: BAR0 mapped at its address, 128 KiB");
	CHECK(hook.rst_writes == 1 && hook.imc_before_rst, "init: one CTRL.RST, interrupts masked first");
	CHECK(!memcmp(drv.mac, model_mac, 6) && !drv.mac_from_nvm, "init: the MAC from RAL0/RAH0");
	CHECK(drv.device == E1000_DEVICE && !drv.family_82574, "init: identified as an 8254x");
	CHECK(nic.ims == 0 && irq_raised == 0, "init: every interrupt masked, the line never raised");
	CHECK((nic.ctrl & E1000_CTRL_SLU) && !(nic.ctrl & E1000_CTRL_RST) && e1ke_link_up(&drv),
	      "init: CTRL.SLU set, the link up");
	CHECK((nic.rctl & (E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC)) ==
	      (E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC) &&
	      !(nic.rctl & (3u << E1000_RCTL_BSIZE_SHIFT | E1000_RCTL_BSEX | 3u << 10)),
	      "init: RCTL EN, BAM, SECRC, 2048-byte buffers, legacy descriptors");
	CHECK((nic.rctl & (E1000_RCTL_UPE | E1000_RCTL_MPE)) == (E1000_RCTL_UPE | E1000_RCTL_MPE),
	      "init: promiscuous (a switch uplink)");
	CHECK(nic.tctl == (E1000_TCTL_EN | 1u << 3 | 0x0fu << 4 | 0x3fu << 12),
	      "init: TCTL EN, PSP, CT 0x0f, COLD 0x3f");
	CHECK(nic.tipg == 0x0060200au, "init: TIPG 10/8/6 on the 8254x");
	CHECK(((uint64_t)nic.rdbah << 32 | nic.rdbal) == drv.rxd_phys &&
	      nic.rdlen == E1KE_RING * 16 && nic.rdh == 0 && nic.rdt == E1KE_RING - 1,
	      "init: receive ring of %u, all but one descriptor given", E1KE_RING);
	CHECK(((uint64_t)nic.tdbah << 32 | nic.tdbal) == drv.txd_phys &&
	      nic.tdlen == E1KE_RING * 16 && nic.tdh == 0 && nic.tdt == 0,
	      "init: transmit ring of %u, empty", E1KE_RING);
	for (unsigned i = 0; i < 128; i++)
		mta_clear &= nic.mta[i] == 0;
	CHECK(mta_clear && hook.mta_writes == 128, "init: the multicast table cleared");
	CHECK(!hook.rfctl_written && nic.txdctl == 0, "init: no RFCTL or TXDCTL on an 8254x");
	CHECK(e1000_can_receive(&nic), "init: the model sees room for a frame");

	/* RAH0 without AV: the MAC comes from the EEPROM through the 8254x
	 * EERD and is written back valid. */
	machine_reset();
	add_nic(0x18, E1000_DEVICE);
	hook.hide_av = true;
	CHECK(e1ke_init_regs(&drv, &hw, 0x18, &regs) == 0 && drv.mac_from_nvm &&
	      !memcmp(drv.mac, model_mac, 6) && hook.eerd_writes == 3,
	      "init: RAH0.AV clear -> MAC from three EERD reads (8254x layout)");
	CHECK((nic.rah[0] & E1000_RAH_AV) && nic.ral[0] == 0x12005452u &&
	      (nic.rah[0] & 0xffff) == 0x5634, "init: the NVM's MAC written to RAL0/RAH0 with AV");
}

static void test_init_82574(void)
{
	int r;

	CHECK(start(E1KE_DEV_82574L) == 0 && drv.family_82574, "init: 82574L starts as one");
	CHECK(hook.rfctl_written && hook.rfctl == 0, "init: 82574L RFCTL.EXTEN clear (legacy rx)");
	CHECK((nic.txdctl & (0x3fu << 16)) == 1u << 16 && (nic.txdctl & (1u << 22)) &&
	      (nic.txdctl & (1u << 24)), "init: 82574L TXDCTL WTHRESH 1, GRAN, COUNT_DESC");
	CHECK(nic.tipg == 0x00602008u, "init: 82574L TIPG IPGT 8");

	machine_reset();
	add_nic(0x18, E1KE_DEV_82574L);
	hook.hide_av = true;
	hook.eerd_82574 = true;
	CHECK(e1ke_init_regs(&drv, &hw, 0x18, &regs) == 0 && drv.mac_from_nvm &&
	      !memcmp(drv.mac, model_mac, 6), "init: 82574L MAC through EERD's 82574 layout");

	machine_reset();
	add_nic(0x18, E1KE_DEV_82574L);
	hook.hide_av = true;
	hook.eerd_stuck = true;
	r = e1ke_init_regs(&drv, &hw, 0x18, &regs);
	CHECK(r == -1 && drv.err && strstr(drv.err, "EERD") && !drv.ready,
	      "init: an EERD that never completes fails (%s)", drv.err ? drv.err : "");

	machine_reset();
	add_nic(0x18, E1KE_DEV_82574L);
	hook.rst_stuck = true;
	r = e1ke_init_regs(&drv, &hw, 0x18, &regs);
	CHECK(r == -1 && drv.err && strstr(drv.err, "RST"),
	      "init: a reset that never ends fails (%s)", drv.err ? drv.err : "");
}

static void test_init_refused(void)
{
	struct fn *f;

	machine_reset();
	add_plain(0x18, 0x8086, 0x10d4, 0);
	CHECK(e1ke_init_regs(&drv, &hw, 0x18, &regs) == -1 && drv.err,
	      "init: an unsupported id is refused");

	machine_reset();
	f = add_nic(0x18, E1000_DEVICE);
	put32(f->cfg + 0x10, IO_BASE | 1);
	CHECK(e1ke_init_regs(&drv, &hw, 0x18, &regs) == E1KE_ERR_UNMAPPED,
	      "init: BAR0 in I/O space -> unmapped");

	machine_reset();
	f = add_nic(0x18, E1000_DEVICE);
	put32(f->cfg + 0x10, 0);
	CHECK(e1ke_init_regs(&drv, &hw, 0x18, &regs) == E1KE_ERR_UNMAPPED,
	      "init: BAR0 unassigned -> unmapped");

	machine_reset();
	add_nic(0x18, E1000_DEVICE);
	map_refuse = true;
	CHECK(e1ke_init_regs(&drv, &hw, 0x18, &regs) == E1KE_ERR_UNMAPPED && drv.err &&
	      hook.writes == 0, "init: map_bar refuses -> unmapped, no register touched");

	machine_reset();
	f = add_nic(0x18, E1KE_DEV_82574L);
	put32(f->cfg + 0x10, 0xfe000000u | 4);          /* 64-bit memory BAR */
	put32(f->cfg + 0x14, 0x00000038u);
	CHECK(e1ke_init_regs(&drv, &hw, 0x18, &regs) == 0 && mapped_phys == 0x38fe000000ull,
	      "init: a 64-bit BAR0 mapped at its full address");

	machine_reset();
	add_nic(0x18, E1000_DEVICE);
	dma_limit = 3 * PAGE;
	CHECK(e1ke_init_regs(&drv, &hw, 0x18, &regs) == -1 && !drv.ready,
	      "init: no DMA memory for the rings fails");
	CHECK(e1ke_send(&drv, model_mac, 60) == -1 && e1ke_recv(&drv, dma_mem, 2048) == 0 &&
	      !e1ke_link_up(&drv), "a driver not started sends, receives and links nothing");
}

/* ---- transmit ------------------------------------------------------------------- */

static bool tx_matches(unsigned first_log, unsigned first_seq, unsigned count)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[E1000_FRAME_MAX];

	for (unsigned i = 0; i < count; i++) {
		size_t len = frame_len(first_seq + i);

		make_frame(f, len, first_seq + i, bcast);
		if (txlog[first_log + i].len != len || memcmp(txlog[first_log + i].data, f, len))
			return false;
	}
	return true;
}

static int send_seq(unsigned seq)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[E1000_FRAME_MAX];
	size_t len = frame_len(seq);

	make_frame(f, len, seq, bcast);
	return e1ke_send(&drv, f, len);
}

static void test_tx(void)
{
	uint8_t f[E1000_FRAME_MAX];
	unsigned ok = 0, seq;
	int r = 0;

	start(E1KE_DEV_82574L);
	memset(f, 0xa5, sizeof(f));
	CHECK(e1ke_send(&drv, f, 60) == 0 && tx_total == 1 && txlog[0].len == 60 &&
	      !memcmp(txlog[0].data, f, 60), "tx: a 60-byte frame on the wire byte for byte");
	CHECK(e1ke_send(&drv, f, 14) == 0 && e1ke_send(&drv, f, 1514) == 0 && tx_total == 3 &&
	      txlog[1].len == 14 && txlog[2].len == 1514 && !memcmp(txlog[2].data, f, 1514),
	      "tx: 14 and 1514 bytes, the limits");
	CHECK(e1ke_send(&drv, f, 13) == -1 && drv.err && e1ke_send(&drv, f, 1515) == -1 &&
	      e1ke_send(&drv, f, 0) == -1 && tx_total == 3, "tx: 0, 13 and 1515 bytes refused");
	CHECK(drv.tx_frames == 3 && drv.tx_bytes == 60 + 14 + 1514, "tx: counters");

	tx_total = 0;
	for (seq = 0; seq < 5 * E1KE_RING; seq++)
		ok += send_seq(seq) == 0;
	CHECK(ok == 5 * E1KE_RING && tx_total == 5 * E1KE_RING && tx_matches(0, 0, 5 * E1KE_RING),
	      "tx: %u frames in order, byte for byte, across ring wraps", 5 * E1KE_RING);
	CHECK(dma_faults == 0 && nic.dma_errors == 0 && nic.tx_dropped == 0,
	      "tx: every address the device read was the driver's");

	/* The wire says busy: the device keeps the head, the ring fills. */
	tx_total = 0;
	wire_busy = true;
	for (seq = 1000, ok = 0; seq < 1000 + E1KE_RING && (r = send_seq(seq)) == 0; seq++)
		ok++;
	CHECK(ok == E1KE_RING - 1 && r == 1 && drv.tx_busy == 1 && tx_total == 0,
	      "tx: busy after %u in flight, nothing lost (%u queued)", E1KE_RING - 1, ok);
	CHECK(send_seq(seq) == 1 && drv.tx_busy == 2, "tx: still busy while the wire is");
	wire_busy = false;
	e1000_poll(&nic);
	CHECK(tx_total == E1KE_RING - 1 && tx_matches(0, 1000, E1KE_RING - 1),
	      "tx: the wire back, the held frames go out in order");
	CHECK(send_seq(seq) == 0 && tx_total == E1KE_RING && tx_matches(E1KE_RING - 1, seq, 1),
	      "tx: recovered, the retried frame sent");
	CHECK(drv.tx_errors == 0 && drv.tx_inflight <= 1, "tx: completions all taken back");
}

/* ---- receive -------------------------------------------------------------------- */

static unsigned rx_seq;

/* Frames into the model until its ring is full; how many it took. */
static unsigned inject_until_full(unsigned max, unsigned first_seq)
{
	uint8_t f[E1000_FRAME_MAX];
	unsigned n = 0;

	for (; n < max; n++) {
		size_t len = frame_len(first_seq + n);

		make_frame(f, len, first_seq + n, model_mac);
		if (e1000_receive(&nic, f, len) != 0)
			break;
	}
	return n;
}

static bool recv_expect(unsigned seq)
{
	uint8_t want[E1000_FRAME_MAX], got[E1KE_BUF_BYTES];
	size_t len = frame_len(seq);

	make_frame(want, len, seq, model_mac);
	return e1ke_recv(&drv, got, sizeof(got)) == len && !memcmp(got, want, len);
}

static void inject_one(unsigned seq, const uint8_t *dst)
{
	uint8_t f[E1000_FRAME_MAX];
	size_t len = frame_len(seq);

	make_frame(f, len, seq, dst);
	e1000_receive(&nic, f, len);
}

static void test_rx(void)
{
	static const uint8_t other[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	uint8_t buf[E1KE_BUF_BYTES];
	unsigned rounds_ok = 0, total = 0;

	start(E1KE_DEV_82574L);
	CHECK(e1ke_recv(&drv, buf, sizeof(buf)) == 0, "rx: nothing came, 0");
	inject_one(1, model_mac);
	CHECK(recv_expect(1) && drv.rx_frames == 1 && drv.rx_bytes == frame_len(1),
	      "rx: a frame byte for byte, counted");
	CHECK(e1ke_recv(&drv, buf, sizeof(buf)) == 0, "rx: and then none");

	inject_one(2, other);
	CHECK(e1ke_recv(&drv, buf, sizeof(buf)) == frame_len(2) && !memcmp(buf, other, 6),
	      "rx: a frame for another address (a guest's) comes too");

	rx_seq = 100;
	for (unsigned round = 0; round < 4; round++) {
		unsigned n = inject_until_full(2 * E1KE_RING, rx_seq), got = 0;

		for (unsigned i = 0; i < n; i++)
			got += recv_expect(rx_seq + i);
		rounds_ok += n == E1KE_RING - 1 && got == n &&
			     e1ke_recv(&drv, buf, sizeof(buf)) == 0;
		total += got;
		rx_seq += n;
	}
	CHECK(rounds_ok == 4, "rx: 4 rounds of a full ring (%u each), in order, byte for byte",
	      E1KE_RING - 1);
	CHECK(total == 4 * (E1KE_RING - 1) && drv.rx_errors == 0 && drv.rx_dropped == 0 &&
	      dma_faults == 0 && nic.dma_errors == 0, "rx: %u frames, no errors", total);

	/* Interleaved: frames arrive while earlier ones are read. */
	total = 0;
	for (unsigned i = 0; i < 3 * E1KE_RING; i++) {
		inject_one(rx_seq + i, model_mac);
		if (i >= 2)
			total += recv_expect(rx_seq + i - 2);
	}
	total += recv_expect(rx_seq + 3 * E1KE_RING - 2);
	total += recv_expect(rx_seq + 3 * E1KE_RING - 1);
	CHECK(total == 3 * E1KE_RING && e1000_can_receive(&nic),
	      "rx: %u frames interleaved with reads, the ring keeps going", 3 * E1KE_RING);
	rx_seq += 3 * E1KE_RING;

	/* A caller buffer too short: that frame dropped, the next one fine. */
	inject_one(7, model_mac);                       /* frame_len(7) = 693 */
	CHECK(e1ke_recv(&drv, buf, 100) == 0 && drv.rx_dropped == 1,
	      "rx: a frame longer than the caller's buffer dropped");
	inject_one(rx_seq, model_mac);
	CHECK(recv_expect(rx_seq) && drv.rx_dropped == 1, "rx: the next one kept");
	rx_seq++;
}

/* The device writes back what it should not: the test edits the
 * descriptor the model just filled. */
static struct e1ke_rx_desc *last_filled(void)
{
	return &drv.rxd[(nic.rdh + E1KE_RING - 1) % E1KE_RING];
}

static void test_rx_hostile(void)
{
	uint8_t buf[E1KE_BUF_BYTES];

	start(E1000_DEVICE);
	rx_seq = 5000;
	inject_one(rx_seq, model_mac);
	last_filled()->length = 4000;                   /* more than the buffer */
	inject_one(rx_seq + 1, model_mac);
	CHECK(recv_expect(rx_seq + 1) && drv.rx_errors == 1,
	      "rx: a length over the buffer counted as an error, skipped");

	inject_one(rx_seq + 2, model_mac);
	last_filled()->length = 5;                      /* under a header */
	inject_one(rx_seq + 3, model_mac);
	last_filled()->length = 0;
	CHECK(e1ke_recv(&drv, buf, sizeof(buf)) == 0 && drv.rx_errors == 3,
	      "rx: lengths 5 and 0 counted as errors, nothing handed out");

	inject_one(rx_seq + 4, model_mac);
	last_filled()->errors = 0x01;                   /* CRC error */
	inject_one(rx_seq + 5, model_mac);
	CHECK(recv_expect(rx_seq + 5) && drv.rx_errors == 4,
	      "rx: a frame with a CRC error counted, the next one delivered");

	/* A frame that spans buffers: its first descriptor lacks EOP; it
	 * and the next (its end) are skipped, counted once. */
	inject_one(rx_seq + 6, model_mac);
	last_filled()->status = 0x01;
	inject_one(rx_seq + 7, model_mac);
	inject_one(rx_seq + 8, model_mac);
	CHECK(recv_expect(rx_seq + 8) && drv.rx_errors == 5 && !drv.rx_discard,
	      "rx: a split frame skipped to its EOP, counted once");

	/* The ring is intact: a full round still comes through in order. */
	{
		unsigned n = inject_until_full(2 * E1KE_RING, 6000), got = 0;

		for (unsigned i = 0; i < n; i++)
			got += recv_expect(6000 + i);
		CHECK(n == E1KE_RING - 1 && got == n && dma_faults == 0,
		      "rx: after the bad descriptors the ring still carries %u frames", n);
	}
	CHECK(drv.rx_frames == 3 + E1KE_RING - 1, "rx: only good frames counted as received");

	hook.link_down = true;
	CHECK(!e1ke_link_up(&drv), "link: STATUS.LU clear reads as down");
	hook.link_down = false;
	CHECK(e1ke_link_up(&drv), "link: and up again");
}

/* ---- interrupts --------------------------------------------------------------- */

static void test_msi(void)
{
	uint8_t f[E1000_FRAME_MAX], got[E1KE_BUF_BYTES];
	unsigned seq, ok, icr_reads;
	uint16_t ctrl;
	int r = 0;

	machine_reset();
	add_msi(add_nic(0x18, E1KE_DEV_82574L));
	CHECK(e1ke_init_regs(&drv, &hw_msi, 0x18, &regs) == 0 && drv.msi && drv.msi_cap == MSI_CAP &&
	      drv.msi_data == MSI_DATA, "msi: 82574L with the capability and a message: MSI");
	ctrl = (uint16_t)(get32(msi_fn->cfg + MSI_CAP) >> 16);
	CHECK(get32(msi_fn->cfg + MSI_CAP + 4) == (uint32_t)MSI_ADDR &&
	      get32(msi_fn->cfg + MSI_CAP + 8) == 0 &&
	      (get32(msi_fn->cfg + MSI_CAP + 12) & 0xffff) == MSI_DATA,
	      "msi: the message's address in 0xd4/0xd8, data in 0xdc (64-bit layout)");
	CHECK((ctrl & 1) && (ctrl & 0x70) == 0 && (get32(msi_fn->cfg + 4) & (1u << 10)),
	      "msi: enabled with one message, INTx disabled");
	CHECK(nic.ims == E1000_ICR_RXT0 && drv.rx_armed && msis == 0,
	      "msi: IMS is RXT0 alone, armed, nothing sent yet");

	/* One message for a burst: the causes stay pending while frames are
	 * taken; the empty ring's ICR read arms the next. */
	for (seq = 0; seq < 3; seq++) {
		make_frame(f, 60 + seq, seq, model_mac);
		e1000_receive(&nic, f, 60 + seq);
	}
	CHECK(msis == 1 && msi_addr == MSI_ADDR && msi_data == MSI_DATA,
	      "msi: 3 frames in, one MSI with the image's message");
	icr_reads = hook.icr_reads;
	ok = 0;
	for (seq = 0; seq < 3; seq++)
		ok += e1ke_recv(&drv, got, sizeof(got)) == 60 + seq;
	CHECK(ok == 3 && !drv.rx_armed && hook.icr_reads == icr_reads,
	      "msi: the 3 taken without a register access for the interrupt");
	make_frame(f, 70, 10, model_mac);
	e1000_receive(&nic, f, 70);
	CHECK(msis == 1, "msi: a frame while the causes are pending: no MSI (taken by the poll)");
	CHECK(e1ke_recv(&drv, got, sizeof(got)) == 70 && e1ke_recv(&drv, got, sizeof(got)) == 0 &&
	      drv.rx_armed && hook.icr_reads == icr_reads + 1 && nic.icr == 0,
	      "msi: the ring empty: ICR read once (causes cleared), armed");
	CHECK(e1ke_recv(&drv, got, sizeof(got)) == 0 && hook.icr_reads == icr_reads + 1,
	      "msi: empty again while armed: no second ICR read");
	make_frame(f, 80, 11, model_mac);
	e1000_receive(&nic, f, 80);
	CHECK(msis == 2 && e1ke_recv(&drv, got, sizeof(got)) == 80,
	      "msi: the next frame sends the MSI, received");

	/* The race: a frame written back after the poll saw an empty ring,
	 * before the ICR read that clears its cause. No MSI will come for
	 * it; the look after arming must find it. */
	make_frame(hook.frame, 90, 12, model_mac);
	hook.frame_len = 90;
	hook.frame_before_icr = true;
	CHECK(e1ke_recv(&drv, got, sizeof(got)) == 90 && !memcmp(got, hook.frame, 90) &&
	      drv.rearm_found == 1 && msis == 2,
	      "msi: a frame that came as the ICR read armed is found by the re-check");
	CHECK(e1ke_recv(&drv, got, sizeof(got)) == 0 && drv.rx_armed, "msi: then empty, armed");

	/* Transmit: TXDW enabled only while a sender was told busy. */
	wire_busy = true;
	for (seq = 2000, ok = 0; seq < 2000 + E1KE_RING && (r = send_seq(seq)) == 0; seq++)
		ok++;
	CHECK(ok == E1KE_RING - 1 && r == 1 && drv.tx_armed &&
	      nic.ims == (E1000_ICR_RXT0 | E1000_ICR_TXDW),
	      "msi: transmit ring full: busy, TXDW enabled in IMS");
	wire_busy = false;
	e1000_poll(&nic);
	CHECK(msis == 3 && tx_total == E1KE_RING - 1, "msi: the frames sent, TXDW sends the MSI");
	CHECK(send_seq(seq) == 0 && !drv.tx_armed && nic.ims == E1000_ICR_RXT0,
	      "msi: the next send goes, TXDW masked again");
	CHECK(dma_faults == 0 && nic.dma_errors == 0 && drv.rx_errors == 0,
	      "msi: no DMA or receive errors");

	/* Polled: the 8254x without the capability, or an image without a
	 * message: every cause masked, no MSI. */
	machine_reset();
	add_nic(0x18, E1KE_DEV_82540EM);
	CHECK(e1ke_init_regs(&drv, &hw_msi, 0x18, &regs) == 0 && !drv.msi && nic.ims == 0,
	      "msi: 82540EM without the capability: polled, IMS 0");
	machine_reset();
	add_msi(add_nic(0x18, E1KE_DEV_82574L));
	CHECK(e1ke_init_regs(&drv, &hw, 0x18, &regs) == 0 && !drv.msi && nic.ims == 0 &&
	      !(msi_fn->cfg[MSI_CAP + 2] & 1), "msi: no msi_message hook: polled, MSI left off");
	icr_reads = hook.icr_reads;             /* the reset's */
	make_frame(f, 60, 20, model_mac);
	e1000_receive(&nic, f, 60);
	CHECK(msis == 0 && e1ke_recv(&drv, got, sizeof(got)) == 60 &&
	      e1ke_recv(&drv, got, sizeof(got)) == 0 && hook.icr_reads == icr_reads,
	      "msi: ... frames still polled, ICR never read for them");
}

int main(void)
{
	test_find();
	test_init_82540();
	test_init_82574();
	test_init_refused();
	test_tx();
	test_rx();
	test_rx_hostile();
	test_msi();
	return done_testing();
}
