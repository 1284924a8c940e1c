/*
 * The root's physical disk: the virtio-blk driver's hardware interface
 * (PCI configuration mechanism 1 on ports 0xcf8/0xcfc, BARs reached
 * through the identity map, DMA memory from the page allocator) and the
 * test-mode check that writes, flushes and reads back a pattern. The root
 * owns the PCI ports and the device's MMIO both natively and under
 * isovisor, so the same code runs in both.
 */
#include <string.h>
#include "root.h"
#include "platform.h"
#include "virtio_blk.h"
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
	int bdf, err;

	if (disk_state)
		return disk_state > 0 ? &disk : NULL;
	disk_state = -1;
	bdf = vblk_find(&root_vblk_hw);
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
	klog("blk: virtio-blk at %02x:%02x.%x, %lu sectors%s, %s",
	     bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7, vblk_capacity(&disk),
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
