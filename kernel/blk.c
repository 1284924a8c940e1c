/*
 * The root's physical disk: the virtio-blk driver's hardware interface
 * (PCI configuration mechanism 1 on ports 0xcf8/0xcfc, BARs reached
 * through the identity map, DMA memory from the page allocator) and the
 * test-mode check that writes, flushes and reads back a pattern; with
 * "bench" on its command line, the disk's own throughput before any child
 * runs (blk_bench). The root
 * owns the PCI ports and the device's MMIO both natively and under
 * isovisor, so the same code runs in both.
 */
#include <string.h>
#include "root.h"
#include "platform.h"
#include "partcfg.h"
#include "virtio_blk.h"
#include "physnic.h"
#include "x86/pci.h"

#define TEST_LBA        2048
#define TEST_BYTES      (64u * 1024)
#define TEST_SEED       0x1505

static uint32_t pci_read32(void *ctx, uint32_t bdf, uint32_t off)
{
	return pci_cfg_read32(bdf, off);
}

static void pci_write32(void *ctx, uint32_t bdf, uint32_t off, uint32_t v)
{
	pci_cfg_write32(bdf, off, v);
}

/* BARs are reached through the identity map; one above it, or one that
 * overlaps RAM (a firmware or device bug), is refused and logged. */
static void *map_bar(void *ctx, uint64_t phys, uint64_t len)
{
	if (len && phys + len > phys && phys >= mm_map_end()) {
		if (mm_map_device(phys, phys + len) == 0)
			return (void *)phys;    /* mapped for it, above the RAM map */
		klog("blk: BAR range %#lx+%#lx cannot be mapped", phys, len);
		return NULL;
	}
	if (!len || phys + len < phys || phys + len > mm_map_end()) {
		klog("blk: BAR range %#lx+%#lx is beyond the identity map (ends %#lx)",
		     phys, len, mm_map_end());
		return NULL;
	}
	if (mm_is_ram(phys, 1) || mm_is_ram(phys + len - 1, 1)) {
		klog("blk: BAR range %#lx+%#lx overlaps RAM", phys, len);
		return NULL;
	}
	return (void *)phys;
}

static void *dma_alloc(void *ctx, size_t bytes, uint64_t *phys)
{
	uint64_t pages = ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;
	uint64_t pa = pmm_alloc_contig(&root_pmm, pages, PAGE_SIZE);

	if (!pa)
		return NULL;
	memset((void *)pa, 0, pages * PAGE_SIZE);
	*phys = pa;
	return (void *)pa;
}

/* Completions interrupt the CPU that set the disk up, on BLK_VECTOR;
 * the handler only counts (the driver looks at the used ring). */
#define BLK_VECTOR 0x58
static volatile uint64_t blk_irqs;

static void blk_irq(struct cpu_regs *r)
{
	blk_irqs++;
	apic_eoi();
}

static bool msi_message(void *ctx, uint64_t *addr, uint32_t *data)
{
	irq_set_handler(BLK_VECTOR, blk_irq);
	*addr = 0xfee00000u | (uint64_t)apic_id() << 12;
	*data = BLK_VECTOR;             /* fixed, edge */
	return true;
}

/* HLT until an interrupt: under isovisor the hypervisor runs children
 * meanwhile and the disk's interrupt brings us back. */
static void wait_irq(void *ctx)
{
	/* The control loop's timer is tickless: bound the halt, so a
	 * completion whose interrupt comes late or never is still seen
	 * within 200 us (the driver polls the used ring again after each
	 * wake), and under QEMU's -icount sleep=off, where a machine with
	 * every CPU halted jumps to its next timer, a slow request (a
	 * flush, a host write) does not look as long as the next heartbeat. */
	partsvc_wake_within_us(200);
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static const struct vblk_hw root_vblk_hw = {
	.ctx = NULL,
	.pci_read32 = pci_read32,
	.pci_write32 = pci_write32,
	.map_bar = map_bar,
	.dma_alloc = dma_alloc,
	.msi_message = msi_message,
	.wait_irq = wait_irq,
};

/* xorshift32 words, little-endian, so the host can recompute them. */
static void pattern_fill(uint8_t *buf, size_t bytes, uint32_t seed)
{
	uint32_t x = seed;

	for (size_t i = 0; i + 4 <= bytes; i += 4) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		memcpy(buf + i, &x, 4);
	}
}

/* ---- the physical disk the children's virtual disks live on --------------- */

static struct vblk disk;
static int disk_state;          /* 0 not probed, 1 ready, -1 none */
static const char *disk_why = "not probed";
static bool disk_missing;       /* none there (a skip), not a failure */

static struct block_backend disk_backend;

static void backend_log(const char *line)
{
	klog("%s", line);
}

/* Find and start the virtio-blk disk once; NULL (and why) without one. */
static struct vblk *disk_probe(void)
{
	bool transitional = false;
	int bdf, err;

	if (disk_state)
		return disk_state > 0 ? &disk : NULL;
	disk_state = -1;
	bdf = vblk_find(&root_vblk_hw, &transitional);
	if (bdf < 0) {
		disk_why = "no virtio-blk disk attached";
		disk_missing = true;
		return NULL;
	}
	err = vblk_init(&disk, &root_vblk_hw, (uint32_t)bdf);
	if (err == VBLK_ERR_UNMAPPED) {
		/* e.g. OVMF puts 64-bit BARs above 4 GiB, past the root's map */
		disk_why = "virtio-blk BAR outside the root's identity map";
		disk_missing = true;
		return NULL;
	}
	if (err) {
		disk_why = disk.err;
		return NULL;
	}
	klog("blk: virtio-blk at %02x:%02x.%x (%s %04x:%04x), %lu sectors%s, %s",
	     bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7, transitional ? "transitional" : "modern",
	     VBLK_PCI_VENDOR, transitional ? VBLK_PCI_DEVICE_TRANS : VBLK_PCI_DEVICE_MODERN,
	     vblk_capacity(&disk),
	     disk.has_flush ? ", write cache with flush" : "",
	     disk.msix ? "completions by MSI-X interrupt" : "completions polled");
	disk_state = 1;
	vblk_backend(&disk, &disk_backend, backend_log);
	return &disk;
}

const struct block_backend *root_phys_disk(const char **why)
{
	if (!disk_probe()) {
		*why = disk_why;
		return NULL;
	}
	return &disk_backend;
}

/* ---- the physical NIC: a virtual switch's uplink (drivers/physnic.c) ------- */

/* The NIC interrupts the CPU that set it up (the one the control loop
 * halts on) on NIC_VECTOR: a frame from outside ends the tickless halt
 * at once. The handler counts and acknowledges; the control loop's next
 * pass moves the frame (partmgr's uplink poll). */
#define NIC_VECTOR 0x5a

static void nic_irq(struct cpu_regs *r)
{
	physnic_irq();
	apic_eoi();
}

static bool nic_msi_message(void *ctx, uint64_t *addr, uint32_t *data)
{
	irq_set_handler(NIC_VECTOR, nic_irq);
	*addr = 0xfee00000u | (uint64_t)apic_id() << 12;
	*data = NIC_VECTOR;             /* fixed, edge */
	return true;
}

static const struct vblk_hw root_vnet_hw = {
	.pci_read32 = pci_read32,
	.pci_write32 = pci_write32,
	.map_bar = map_bar,
	.dma_alloc = dma_alloc,
	.msi_message = nic_msi_message,
};

static void nic_log(const char *line)
{
	klog("%s", line);
}

const struct phys_nic *root_phys_nic(const char **why)
{
	return physnic_probe(&root_vnet_hw, nic_log, why);
}

static void buf_free(void *p, size_t bytes)
{
	for (size_t off = 0; off < bytes; off += PAGE_SIZE)
		pmm_free(&root_pmm, (uint64_t)p + off);
}

void test_virtio_blk(void)
{
	const char *desc = "root blk: virtio-blk disk: 64 KiB written at LBA 2048, "
			   "flushed, read back identical";
	const unsigned sectors = TEST_BYTES / VBLK_SECTOR;
	uint64_t pa_out, pa_in;
	uint8_t *out, *in;
	bool ok, range_refused;

	if (!disk_probe()) {
		if (disk_missing)
			tap_skip(disk_why, "%s", desc);
		else
			tap_result(false, "%s (init: %s)", desc, disk_why);
		return;
	}
	if (vblk_capacity(&disk) < TEST_LBA + sectors) {
		tap_result(false, "%s (disk has only %lu sectors)", desc,
			   vblk_capacity(&disk));
		return;
	}
	out = dma_alloc(NULL, TEST_BYTES, &pa_out);
	in = dma_alloc(NULL, TEST_BYTES, &pa_in);
	if (!out || !in)
		panic("out of memory for the disk test buffers");
	pattern_fill(out, TEST_BYTES, TEST_SEED);
	memset(in, 0xa5, TEST_BYTES);

	/* Every request of the self-test waits for its interrupt. */
	disk.spins_before_halt = 0;
	ok = vblk_write(&disk, TEST_LBA, sectors, out) == 0 &&
	     vblk_flush(&disk) == 0 &&
	     vblk_read(&disk, TEST_LBA, sectors, in) == 0;
	disk.spins_before_halt = VBLK_SPINS_BEFORE_HALT;
	if (!ok)
		klog("blk: request failed: %s", disk.err);
	ok = ok && memcmp(out, in, TEST_BYTES) == 0;
	/* A request past the end is refused before it reaches the device. */
	range_refused = vblk_read(&disk, vblk_capacity(&disk), 1, in) != 0 &&
			vblk_read(&disk, ~0ull, 2, in) != 0;
	buf_free(out, TEST_BYTES);
	buf_free(in, TEST_BYTES);
	tap_result(ok && range_refused, "%s; reads past the end refused", desc);
	tap_result(disk.msix && blk_irqs > 0,
		   "root blk: completions arrive by MSI-X interrupt on vector %#x (%lu "
		   "interrupts, %lu waits)", BLK_VECTOR, (uint64_t)blk_irqs, disk.irq_waits);
}

/* ---- "bench": the physical disk's throughput, from the root itself -------- */

/*
 * What the children's synthetic disks can reach at most in this run: the
 * root writes mib=N MiB (default 16) then reads them back through the
 * same block backend storvsp uses, in requests of the size the
 * enlightened guest's bench sends (BENCH_REQUEST). The guest keeps 4 in
 * flight; the driver has one request in flight (vblk.h), so storvsp
 * serves the guest's 4 one after another and so do we: queue depth 1 is
 * the path's own. Only the requests are timed; filling and checking the
 * data is not. The region lies past every backed child disk in the
 * partition config, so no child's data is touched.
 */
#define BENCH_REQUEST   (1u << 20)
#define BENCH_SEED      0xb3c4

static uint64_t cmdline_value(const char *cmdline, const char *key, uint64_t def)
{
	size_t kl = strlen(key);

	for (const char *p = cmdline; p && *p; p++) {
		uint64_t v = 0;

		if ((p != cmdline && p[-1] != ' ') || strncmp(p, key, kl))
			continue;
		p += kl;
		if (*p < '0' || *p > '9')
			return def;
		while (*p >= '0' && *p <= '9')
			v = v * 10 + (uint64_t)(*p++ - '0');
		return v;
	}
	return def;
}

/* The first MiB past the self-test's block and every child disk backed
 * by the physical disk (partition config), or 0 when the config does
 * not parse. */
static uint64_t bench_first_free_mib(void)
{
	static struct partcfg cfg;
	const struct mb2_module *m = mb2_find_module(&boot.mb2, "config");
	uint64_t mib = (TEST_LBA * VBLK_SECTOR + TEST_BYTES + MiB - 1) / MiB;
	char err[80];

	if (!m)
		return mib;
	if (partcfg_parse((const char *)(uint64_t)m->start, m->end - m->start, &cfg, err,
			  sizeof(err)))
		return 0;
	for (unsigned i = 0; i < cfg.count; i++)
		if (cfg.p[i].backing_mib &&
		    (uint64_t)cfg.p[i].backing_mib + cfg.p[i].disk_mib > mib)
			mib = (uint64_t)cfg.p[i].backing_mib + cfg.p[i].disk_mib;
	return mib;
}

static void bench_fill(uint8_t *buf, uint64_t req)
{
	pattern_fill(buf, BENCH_REQUEST, BENCH_SEED ^ (uint32_t)(req * 0x9e3779b9u));
}

/* Writes (timed), flushes, reads back (timed) and checks every request;
 * returns what failed, or NULL. */
static const char *bench_run(uint64_t lba0, uint64_t requests, uint8_t *buf, uint64_t buf_pa,
			     uint8_t *want, uint64_t *write_cycles, uint64_t *read_cycles)
{
	const unsigned count = BENCH_REQUEST / VBLK_SECTOR;
	const struct blk_seg seg = { buf_pa, BENCH_REQUEST };
	const struct block_backend *b = &disk_backend;
	uint64_t t0;

	*write_cycles = *read_cycles = 0;
	for (uint64_t r = 0; r < requests; r++) {
		bench_fill(buf, r);
		t0 = rdtsc();
		if (b->write_sg ? b->write_sg(b->ctx, lba0 + r * count, count, &seg, 1)
				: b->write(b->ctx, lba0 + r * count, count, buf))
			return "write";
		*write_cycles += rdtsc() - t0;
	}
	t0 = rdtsc();
	if (disk_backend.flush(disk_backend.ctx))
		return "flush";
	*write_cycles += rdtsc() - t0;
	for (uint64_t r = 0; r < requests; r++) {
		memset(buf, 0x5a, BENCH_REQUEST);
		t0 = rdtsc();
		if (b->read_sg ? b->read_sg(b->ctx, lba0 + r * count, count, &seg, 1)
			       : b->read(b->ctx, lba0 + r * count, count, buf))
			return "read";
		*read_cycles += rdtsc() - t0;
		bench_fill(want, r);
		if (memcmp(buf, want, BENCH_REQUEST))
			return "read back: data differs";
	}
	return NULL;
}

void blk_bench(void)
{
	uint64_t mib = cmdline_value(boot.cmdline, "mib=", 16);
	uint64_t first = bench_first_free_mib(), wc = 0, rc = 0, pa, buf_pa;
	uint8_t *buf, *want;
	const char *failed;

	if (!disk_probe()) {
		tap_result(false, "root bench: native disk throughput (no disk: %s)", disk_why);
		return;
	}
	if (!mib || !first || (first + mib) * (MiB / VBLK_SECTOR) > vblk_capacity(&disk)) {
		tap_result(false, "root bench: native disk throughput: no free %lu MiB past the "
			   "children's disks (from MiB %lu; disk %lu MiB)", mib, first,
			   vblk_capacity(&disk) / (MiB / VBLK_SECTOR));
		return;
	}
	buf = dma_alloc(NULL, BENCH_REQUEST, &buf_pa);
	want = dma_alloc(NULL, BENCH_REQUEST, &pa);
	if (!buf || !want)
		panic("out of memory for the disk bench buffers");
	/* By DMA straight into the buffer when the driver can (as storvsp
	 * serves the children): the disk's own speed, no copy. */
	failed = bench_run(first * (MiB / VBLK_SECTOR), mib * MiB / BENCH_REQUEST, buf, buf_pa,
			   want, &wc, &rc);
	buf_free(buf, BENCH_REQUEST);
	buf_free(want, BENCH_REQUEST);
	if (!failed) {
		klog("# bench native_disk_write_cycles %lu cycles bytes=%lu request=%u depth=1 "
		     "at_mib=%lu", wc, mib * MiB, BENCH_REQUEST, first);
		klog("# bench native_disk_read_cycles %lu cycles bytes=%lu request=%u depth=1 "
		     "at_mib=%lu", rc, mib * MiB, BENCH_REQUEST, first);
	}
	tap_result(!failed, "root bench: %lu MiB written in %u KiB requests at MiB %lu of the "
		   "physical disk, flushed, read back and checked%s%s", mib,
		   BENCH_REQUEST >> 10, first, failed ? ": failed at " : "", failed ? failed : "");
}
