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
#include "virtio_blk.h"

#define PCI_ADDR_PORT   0xcf8
#define PCI_DATA_PORT   0xcfc
#define TEST_LBA        2048
#define TEST_BYTES      (64u * 1024)
#define TEST_SEED       0x1505

static uint32_t pci_read32(void *ctx, uint32_t bdf, uint32_t off)
{
	outl(PCI_ADDR_PORT, 0x80000000u | (bdf & 0xffff) << 8 | (off & 0xfc));
	return inl(PCI_DATA_PORT);
}

static void pci_write32(void *ctx, uint32_t bdf, uint32_t off, uint32_t v)
{
	outl(PCI_ADDR_PORT, 0x80000000u | (bdf & 0xffff) << 8 | (off & 0xfc));
	outl(PCI_DATA_PORT, v);
}

/* BARs are reached through the identity map; one above it, or one that
 * overlaps RAM (a firmware or device bug), is refused and logged. */
static void *map_bar(void *ctx, uint64_t phys, uint64_t len)
{
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

static const struct vblk_hw root_vblk_hw = {
	.ctx = NULL,
	.pci_read32 = pci_read32,
	.pci_write32 = pci_write32,
	.map_bar = map_bar,
	.dma_alloc = dma_alloc,
};

/* The first modern virtio-blk function on bus 0, as bdf, or -1. */
static int find_virtio_blk(void)
{
	for (uint32_t dev = 0; dev < 32; dev++) {
		unsigned nfn = 1;

		for (uint32_t fn = 0; fn < nfn; fn++) {
			uint32_t bdf = dev << 3 | fn;
			uint32_t id = pci_read32(NULL, bdf, 0);

			if ((id & 0xffff) == 0xffff)
				continue;
			if (fn == 0 && (pci_read32(NULL, bdf, 0x0c) >> 16) & 0x80)
				nfn = 8;        /* multi-function device */
			if (id == ((uint32_t)VBLK_PCI_DEVICE_MODERN << 16 | VBLK_PCI_VENDOR))
				return (int)bdf;
		}
	}
	return -1;
}

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

static void buf_free(void *p, size_t bytes)
{
	for (size_t off = 0; off < bytes; off += PAGE_SIZE)
		pmm_free(&root_pmm, (uint64_t)p + off);
}

void test_virtio_blk(void)
{
	static struct vblk disk;
	const char *desc = "root blk: virtio-blk disk: 64 KiB written at LBA 2048, "
			   "flushed, read back identical";
	const unsigned sectors = TEST_BYTES / VBLK_SECTOR;
	uint64_t pa_out, pa_in;
	uint8_t *out, *in;
	int bdf = find_virtio_blk();
	bool ok, range_refused;
	int err;

	if (bdf < 0) {
		tap_skip("no virtio-blk disk attached", "%s", desc);
		return;
	}
	err = vblk_init(&disk, &root_vblk_hw, (uint32_t)bdf);
	if (err == VBLK_ERR_UNMAPPED) {
		/* e.g. OVMF puts 64-bit BARs above 4 GiB, past the root's map */
		tap_skip("virtio-blk BAR outside the root's identity map", "%s", desc);
		return;
	}
	if (err) {
		tap_result(false, "%s (init at %02x:%02x.%x: %s)", desc,
			   bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7, disk.err);
		return;
	}
	klog("blk: virtio-blk at %02x:%02x.%x, %lu sectors%s",
	     bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7, vblk_capacity(&disk),
	     disk.has_flush ? ", write cache with flush" : "");
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

	ok = vblk_write(&disk, TEST_LBA, sectors, out) == 0 &&
	     vblk_flush(&disk) == 0 &&
	     vblk_read(&disk, TEST_LBA, sectors, in) == 0;
	if (!ok)
		klog("blk: request failed: %s", disk.err);
	ok = ok && memcmp(out, in, TEST_BYTES) == 0;
	/* A request past the end is refused before it reaches the device. */
	range_refused = vblk_read(&disk, vblk_capacity(&disk), 1, in) != 0 &&
			vblk_read(&disk, ~0ull, 2, in) != 0;
	buf_free(out, TEST_BYTES);
	buf_free(in, TEST_BYTES);
	tap_result(ok && range_refused, "%s; reads past the end refused", desc);
}
