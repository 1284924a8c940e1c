/*
 * The monolithic design's physical disk: the hypervisor itself drives the
 * virtio-blk device (drivers/virtio_blk.c, the same driver the root uses
 * in the microkernelized design) through PCI configuration mechanism 1,
 * its identity map of the 32-bit MMIO hole, and DMA memory from its own
 * allocator. Children's virtual disks are ranges of it.
 */
#include <string.h>
#include <isovisor/x86.h>
#include "hv.h"
#include "arch/x86/cpu.h"
#include "platform.h"
#include "virtio_blk.h"
#include "physnic.h"
#include "x86/pci.h"
#include "physdisk.h"


static uint32_t pci_read32(void *ctx, uint32_t bdf, uint32_t off)
{
	return pci_cfg_read32(bdf, off);
}

static void pci_write32(void *ctx, uint32_t bdf, uint32_t off, uint32_t v)
{
	pci_cfg_write32(bdf, off, v);
}

/* Our page tables map the hole below 4 GiB and the GiBs of 64-bit BARs
 * (paging_init); anything else is refused. */
static void *map_bar(void *ctx, uint64_t phys, uint64_t len)
{
	uint64_t bars[PCI_BAR_GIBS_MAX], gib = ALIGN_DOWN(phys, 1ull << 30);
	unsigned n = pci_bar_gibs(4ull << 30, bars, PCI_BAR_GIBS_MAX);
	bool mapped = phys + len <= (4ull << 30);

	for (unsigned i = 0; i < n; i++)
		mapped |= bars[i] == gib && phys + len <= gib + (1ull << 30);
	if (!len || phys + len < phys || !mapped)
		return NULL;
	return phys_to_virt(phys);
}

static void *dma_alloc(void *ctx, size_t bytes, uint64_t *phys)
{
	void *p = pages_alloc_zeroed((unsigned)(ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE));

	if (p)
		*phys = virt_to_phys(p);
	return p;
}

static const struct vblk_hw hv_vblk_hw = {
	.pci_read32 = pci_read32,
	.pci_write32 = pci_write32,
	.map_bar = map_bar,
	.dma_alloc = dma_alloc,
};

static void backend_log(const char *line)
{
	hv_log("%s", line);
}

const struct block_backend *physdisk_get(const char **why)
{
	static struct vblk disk;
	static struct block_backend backend;
	static int state;               /* 0 not probed, 1 ready, -1 none */
	static const char *reason;
	bool transitional = false;
	int bdf, err;

	if (state) {
		*why = reason;
		return state > 0 ? &backend : NULL;
	}
	state = -1;
	bdf = vblk_find(&hv_vblk_hw, &transitional);
	if (bdf < 0) {
		*why = reason = "no virtio-blk disk attached";
		return NULL;
	}
	err = vblk_init(&disk, &hv_vblk_hw, (uint32_t)bdf);
	if (err) {
		*why = reason = err == VBLK_ERR_UNMAPPED ?
			"virtio-blk BAR outside the hypervisor's map" : disk.err;
		return NULL;
	}
	hv_log("blk: virtio-blk at %02x:%02x.%x (%s %04x:%04x), %lu sectors%s", bdf >> 8,
	       (bdf >> 3) & 0x1f, bdf & 7, transitional ? "transitional" : "modern",
	       VBLK_PCI_VENDOR, transitional ? VBLK_PCI_DEVICE_TRANS : VBLK_PCI_DEVICE_MODERN,
	       vblk_capacity(&disk),
	       disk.has_flush ? ", write cache with flush" : "");
	vblk_backend(&disk, &backend, backend_log);
	state = 1;
	return &backend;
}

/* ---- the physical NIC: a virtual switch's uplink (drivers/physnic.c) ------- */

/*
 * The NIC interrupts the boot CPU, where the control loop and every
 * child run in this design (design_cpu_runs_children), on HV_NIC_VECTOR:
 * a frame from outside sends a running child back (the INTR intercept)
 * or ends the loop's idle HLT, and the loop's next partmgr_poll() moves
 * it, instead of at the next timer tick. The vector reaches the
 * hypervisor's trap dispatch like any device's: design_device_irq()
 * acknowledges it and counts it (physnic_irq).
 */
#define HV_NIC_VECTOR VEC_NIC

static bool nic_msi_message(void *ctx, uint64_t *addr, uint32_t *data)
{
	*addr = 0xfee00000u | (uint64_t)this_cpu()->apic_id << 12;
	*data = HV_NIC_VECTOR;          /* fixed, edge */
	return true;
}

static const struct vblk_hw hv_vnet_hw = {
	.pci_read32 = pci_read32,
	.pci_write32 = pci_write32,
	.map_bar = map_bar,
	.dma_alloc = dma_alloc,
	.msi_message = nic_msi_message,
};

static void nic_log(const char *line)
{
	hv_log("%s", line);
}

const struct phys_nic *physnic_get(const char **why)
{
	return physnic_probe(&hv_vnet_hw, nic_log, why);
}
