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
#include "platform.h"
#include "virtio_blk.h"
#include "virtio_net.h"
#include "e1000e_nic.h"
#include "partsvc.h"
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
	int bdf, err;

	if (state) {
		*why = reason;
		return state > 0 ? &backend : NULL;
	}
	state = -1;
	bdf = vblk_find(&hv_vblk_hw);
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
	hv_log("blk: virtio-blk at %02x:%02x.%x, %lu sectors%s", bdf >> 8,
	       (bdf >> 3) & 0x1f, bdf & 7, vblk_capacity(&disk),
	       disk.has_flush ? ", write cache with flush" : "");
	vblk_backend(&disk, &backend, backend_log);
	state = 1;
	return &backend;
}

/* ---- the physical NIC: a virtual switch's uplink (virtio-net, polled) ------- */

static const struct vblk_hw hv_vnet_hw = {
	.pci_read32 = pci_read32,
	.pci_write32 = pci_write32,
	.map_bar = map_bar,
	.dma_alloc = dma_alloc,
};

static struct vnet nic;
static struct e1ke e1ke;
static int nic_state;           /* 0 not probed, 1 ready, -1 none */
static const char *nic_why = "not probed";
static struct phys_nic nic_ops;

static int nic_send(void *ctx, const void *frame, size_t len)
{
	return vnet_send(&nic, frame, len);
}

static size_t nic_recv(void *ctx, void *buf, size_t cap)
{
	return vnet_recv(&nic, buf, cap);
}

static int e1ke_tx(void *ctx, const void *frame, size_t len)
{
	return e1ke_send(&e1ke, frame, len);
}

static size_t e1ke_rx(void *ctx, void *buf, size_t cap)
{
	return e1ke_recv(&e1ke, buf, cap);
}

/* No virtio-net: an Intel 82574L (e1000e) or 8254x, polled. */
static void e1ke_probe(void)
{
	int bdf = e1ke_find(&hv_vnet_hw), err;

	if (bdf < 0)
		return;
	err = e1ke_init(&e1ke, &hv_vnet_hw, (uint32_t)bdf);
	if (err) {
		nic_why = err == E1KE_ERR_UNMAPPED ? "e1000e BAR outside the identity map" : e1ke.err;
		return;
	}
	hv_log("net: Intel %04x at %02x:%02x.%x, MAC %02x:%02x:%02x:%02x:%02x:%02x, "
	     "link %s, polled", e1ke.device, bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7, e1ke.mac[0],
	     e1ke.mac[1], e1ke.mac[2], e1ke.mac[3], e1ke.mac[4], e1ke.mac[5],
	     e1ke_link_up(&e1ke) ? "up" : "down");
	nic_ops = (struct phys_nic){ .ctx = NULL, .send = e1ke_tx, .recv = e1ke_rx };
	memcpy(nic_ops.mac, e1ke.mac, 6);
	nic_state = 1;
}

/* Find and start the virtio-net device once; NULL (and why) without one. */
const struct phys_nic *physnic_get(const char **why)
{
	int bdf, err;

	if (!nic_state) {
		nic_state = -1;
		bdf = vnet_find(&hv_vnet_hw);
		if (bdf < 0) {
			nic_why = "no virtio-net or e1000e NIC attached";
			e1ke_probe();
		} else if ((err = vnet_init(&nic, &hv_vnet_hw, (uint32_t)bdf))) {
			nic_why = err == VNET_ERR_UNMAPPED ? "virtio-net BAR outside the identity map" :
							      nic.err;
		} else {
			hv_log("net: virtio-net at %02x:%02x.%x, MAC %02x:%02x:%02x:%02x:%02x:%02x, "
			     "link %s, polled", bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7, nic.mac[0],
			     nic.mac[1], nic.mac[2], nic.mac[3], nic.mac[4], nic.mac[5],
			     vnet_link_up(&nic) ? "up" : "down");
			nic_ops = (struct phys_nic){ .ctx = NULL, .send = nic_send, .recv = nic_recv };
			memcpy(nic_ops.mac, nic.mac, 6);
			nic_state = 1;
		}
	}
	if (nic_state < 0) {
		*why = nic_why;
		return NULL;
	}
	return &nic_ops;
}
