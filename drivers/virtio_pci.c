/*
 * The virtio 1.0 PCI transport (virtio_pci.h). Register layouts are the
 * spec's (4.1.4); every region is reached through the BAR its capability
 * names, and every offset into a region was checked against the length
 * the capability gave.
 */
#include <string.h>
#include "virtio_pci.h"

#define CFG_STATUS_CAPLIST      (1u << (16 + 4))        /* in dword 0x04 */
#define CMD_MEMORY              (1u << 1)
#define CMD_BUS_MASTER          (1u << 2)
#define CMD_INTX_DISABLE        (1u << 10)
#define CAP_ID_VENDOR           0x09
#define CAP_ID_MSIX             0x11
#define CAP_WALK_MAX            48
#define MSIX_CTRL_ENABLE        (1u << 15)
#define MSIX_CTRL_MASKALL       (1u << 14)
#define MSIX_CTRL_SIZE          0x7ffu  /* table entries - 1 */
#define MSIX_ENTRY_BYTES        16u

/* virtio_pci_common_cfg offsets. */
#define COM_DFSELECT            0x00
#define COM_DF                  0x04
#define COM_GFSELECT            0x08
#define COM_GF                  0x0c
#define COM_MSIX_CONFIG         0x10
#define COM_NUM_QUEUES          0x12
#define COM_STATUS              0x14
#define COM_CFGGEN              0x15
#define COM_Q_SELECT            0x16
#define COM_Q_SIZE              0x18
#define COM_Q_MSIX              0x1a
#define COM_Q_ENABLE            0x1c
#define COM_Q_NOFF              0x1e
#define COM_Q_DESC              0x20
#define COM_Q_AVAIL             0x28
#define COM_Q_USED              0x30
#define COM_LEN                 0x38

/* Spins waiting for a reset to finish. */
#define RESET_SPINS             (1u << 24)

struct cap_region {
	bool found;
	uint8_t bar;
	uint32_t offset, length;
	uint32_t notify_mul;
};

static int fail(struct vpci *t, int code, const char *why)
{
	t->err = why;
	return code;
}

static void wr8(volatile uint8_t *base, unsigned off, uint8_t v)
{
	*(volatile uint8_t *)(base + off) = v;
}

/* 64-bit fields of the common config as two dwords, low first (4.1.3.1). */
static void wr64(volatile uint8_t *base, unsigned off, uint64_t v)
{
	vpci_wr32(base, off, (uint32_t)v);
	vpci_wr32(base, off + 4, (uint32_t)(v >> 32));
}

static uint32_t cfg_read32(struct vpci *t, uint32_t off)
{
	return t->hw->pci_read32(t->hw->ctx, t->bdf, off);
}

static void cfg_write32(struct vpci *t, uint32_t off, uint32_t v)
{
	t->hw->pci_write32(t->hw->ctx, t->bdf, off, v);
}

static uint8_t cfg_read8(struct vpci *t, uint32_t off)
{
	return (uint8_t)(cfg_read32(t, off & ~3u) >> (8 * (off & 3)));
}

/* ---- capabilities and regions ------------------------------------------- */

/* Record the first capability of each type: a device may list several,
 * in order of preference (virtio 1.0, 4.1.4). */
static void cap_parse(struct vpci *t, uint8_t ptr, struct cap_region caps[5])
{
	uint8_t len = cfg_read8(t, ptr + 2u);
	uint8_t type = cfg_read8(t, ptr + 3u);
	uint8_t bar = cfg_read8(t, ptr + 4u);

	if (type < VIRTIO_PCI_CAP_COMMON || type > VIRTIO_PCI_CAP_DEVICE ||
	    caps[type].found || len < 16 || bar >= PCI_BARS)
		return;
	if (type == VIRTIO_PCI_CAP_NOTIFY && (len < 20 || ptr + 20u > 0x100))
		return;
	caps[type].bar = bar;
	caps[type].offset = cfg_read32(t, ptr + 8u);
	caps[type].length = cfg_read32(t, ptr + 12u);
	if (type == VIRTIO_PCI_CAP_NOTIFY)
		caps[type].notify_mul = cfg_read32(t, ptr + 16u);
	caps[type].found = true;
}

/* Walk the capability list: pointers must stay in 0x40..0xfc (dword
 * aligned, as PCI requires) and the walk ends after CAP_WALK_MAX entries,
 * so a looping list cannot hang us. */
static int caps_find(struct vpci *t, struct cap_region caps[5], unsigned need)
{
	uint8_t ptr;

	if (!(cfg_read32(t, PCI_CFG_COMMAND) & CFG_STATUS_CAPLIST))
		return fail(t, VPCI_ERR_NO_MODERN, "no PCI capability list");
	ptr = cfg_read8(t, PCI_CFG_CAP_PTR);
	for (unsigned i = 0; ptr && i < CAP_WALK_MAX; i++) {
		uint8_t id;

		ptr &= 0xfc;
		if (ptr < 0x40)
			return fail(t, VPCI_ERR, "capability pointer below 0x40");
		id = cfg_read8(t, ptr);
		if (id == CAP_ID_VENDOR)
			cap_parse(t, ptr, caps);
		else if (id == CAP_ID_MSIX && !t->msix_cap)
			t->msix_cap = ptr;
		ptr = cfg_read8(t, ptr + 1u);
	}
	if (!caps[VIRTIO_PCI_CAP_COMMON].found)
		return fail(t, VPCI_ERR_NO_MODERN, "no virtio common config capability");
	need |= VPCI_NEED(VIRTIO_PCI_CAP_NOTIFY);
	for (unsigned type = VIRTIO_PCI_CAP_NOTIFY; type <= VIRTIO_PCI_CAP_DEVICE; type++)
		if ((need & VPCI_NEED(type)) && !caps[type].found)
			return fail(t, VPCI_ERR, type == VIRTIO_PCI_CAP_NOTIFY ?
				    "a virtio capability (notify) is missing" :
				    "a virtio capability (ISR or device config) is missing");
	return 0;
}

/* The region a capability describes, mapped; NULL when the BAR is I/O
 * space, unassigned, malformed, or the image cannot reach it. */
static volatile uint8_t *region_map(struct vpci *t, const struct cap_region *c)
{
	struct pci_bar bar;

	if (pcienum_bar(t->hw, t->bdf, c->bar, &bar) || bar.io || !bar.base ||
	    bar.base + c->offset < bar.base)
		return NULL;
	return t->hw->map_bar(t->hw->ctx, bar.base + c->offset, c->length);
}

int vpci_map(struct vpci *t, const struct vblk_hw *hw, uint32_t bdf, unsigned need)
{
	struct cap_region caps[5];
	const struct cap_region *nt = &caps[VIRTIO_PCI_CAP_NOTIFY];
	const struct cap_region *dc = &caps[VIRTIO_PCI_CAP_DEVICE];
	const struct cap_region *isr = &caps[VIRTIO_PCI_CAP_ISR];
	bool want_isr = need & VPCI_NEED(VIRTIO_PCI_CAP_ISR);
	int r;

	memset(t, 0, sizeof(*t));
	memset(caps, 0, sizeof(caps));
	t->hw = hw;
	t->bdf = bdf;
	if ((r = caps_find(t, caps, need)) != 0)
		return r;
	if (caps[VIRTIO_PCI_CAP_COMMON].length < COM_LEN || nt->length < 2 ||
	    (want_isr && isr->length < 1))
		return fail(t, VPCI_ERR, "a virtio capability region is too short");
	t->common = region_map(t, &caps[VIRTIO_PCI_CAP_COMMON]);
	t->notify_base = region_map(t, nt);
	if (want_isr)
		t->isr = region_map(t, isr);
	if (dc->found && dc->length) {
		t->devcfg = region_map(t, dc);
		t->devcfg_len = t->devcfg ? dc->length : 0;
	}
	if (!t->common || !t->notify_base || (want_isr && !t->isr) ||
	    (dc->found && dc->length && !t->devcfg))
		return fail(t, VPCI_ERR_UNMAPPED,
			    "a virtio BAR is unassigned, I/O space or cannot be mapped");
	t->notify_len = nt->length;
	t->notify_mul = nt->notify_mul;
	return 0;
}

void vpci_enable_function(struct vpci *t, bool intx_off)
{
	uint32_t cmd = cfg_read32(t, PCI_CFG_COMMAND) & 0xffff;

	cfg_write32(t, PCI_CFG_COMMAND, cmd | CMD_MEMORY | CMD_BUS_MASTER |
			(intx_off ? CMD_INTX_DISABLE : 0));
}

/* ---- status and features ------------------------------------------------- */

uint8_t vpci_status(struct vpci *t)
{
	return vpci_rd8(t->common, COM_STATUS);
}

void vpci_status_set(struct vpci *t, uint8_t bits)
{
	wr8(t->common, COM_STATUS, vpci_status(t) | bits);
}

int vpci_reset(struct vpci *t)
{
	unsigned spins = 0;

	wr8(t->common, COM_STATUS, 0);
	while (vpci_status(t) != 0)
		if (++spins == RESET_SPINS)
			return fail(t, VPCI_ERR, "device never finished its reset");
	vpci_status_set(t, VPCI_ST_ACKNOWLEDGE);
	vpci_status_set(t, VPCI_ST_DRIVER);
	return 0;
}

uint8_t vpci_config_generation(struct vpci *t)
{
	return vpci_rd8(t->common, COM_CFGGEN);
}

uint16_t vpci_num_queues(struct vpci *t)
{
	return vpci_rd16(t->common, COM_NUM_QUEUES);
}

uint64_t vpci_features_offered(struct vpci *t)
{
	uint64_t offered;

	vpci_wr32(t->common, COM_DFSELECT, 0);
	offered = vpci_rd32(t->common, COM_DF);
	vpci_wr32(t->common, COM_DFSELECT, 1);
	return offered | (uint64_t)vpci_rd32(t->common, COM_DF) << 32;
}

int vpci_features_accept(struct vpci *t, uint64_t offered, uint64_t wanted)
{
	if (!(offered & VIRTIO_F_VERSION_1))
		return fail(t, VPCI_ERR, "device does not offer VIRTIO_F_VERSION_1");
	wanted = (wanted & offered) | VIRTIO_F_VERSION_1;
	vpci_wr32(t->common, COM_GFSELECT, 0);
	vpci_wr32(t->common, COM_GF, (uint32_t)wanted);
	vpci_wr32(t->common, COM_GFSELECT, 1);
	vpci_wr32(t->common, COM_GF, (uint32_t)(wanted >> 32));
	vpci_status_set(t, VPCI_ST_FEATURES_OK);
	if (!(vpci_status(t) & VPCI_ST_FEATURES_OK))
		return fail(t, VPCI_ERR, "device refused our features (FEATURES_OK clear)");
	return 0;
}

/* ---- queues -------------------------------------------------------------- */

uint16_t vpci_queue_select(struct vpci *t, uint16_t index)
{
	vpci_wr16(t->common, COM_Q_SELECT, index);
	return vpci_rd16(t->common, COM_Q_SIZE);
}

unsigned vpci_queue_fit(unsigned device_size, unsigned max)
{
	unsigned size = 1u << 15;       /* the spec's largest queue */

	while (size && (size > device_size || size > max))
		size >>= 1;
	return size;
}

int vpci_queue_setup(struct vpci *t, struct vpci_vq *q, uint16_t index, unsigned size)
{
	size_t avail_off = 16u * size;
	size_t used_off = (avail_off + 6 + 2u * size + 3) & ~(size_t)3;
	uint64_t ring_phys, doorbell;
	uint8_t *ring;

	vpci_wr16(t->common, COM_Q_SELECT, index);
	doorbell = (uint64_t)vpci_rd16(t->common, COM_Q_NOFF) * t->notify_mul;
	if (doorbell + 2 > t->notify_len)
		return fail(t, VPCI_ERR, "a queue's notify offset lies outside the notify region");
	ring = t->hw->dma_alloc(t->hw->ctx, used_off + 6 + 8u * size, &ring_phys);
	if (!ring)
		return fail(t, VPCI_ERR, "no memory for a virtqueue");
	q->index = index;
	q->size = (uint16_t)size;
	q->notify = (volatile uint16_t *)(t->notify_base + doorbell);
	q->desc = (struct vring_desc *)ring;
	q->avail = (struct vring_avail *)(ring + avail_off);
	q->used = (struct vring_used *)(ring + used_off);
	vpci_wr16(t->common, COM_Q_SIZE, (uint16_t)size);
	wr64(t->common, COM_Q_DESC, ring_phys);
	wr64(t->common, COM_Q_AVAIL, ring_phys + avail_off);
	wr64(t->common, COM_Q_USED, ring_phys + used_off);
	return 0;
}

uint16_t vpci_queue_vector(struct vpci *t, uint16_t vector)
{
	vpci_wr16(t->common, COM_Q_MSIX, vector);
	return vpci_rd16(t->common, COM_Q_MSIX);
}

void vpci_queue_enable(struct vpci *t)
{
	vpci_wr16(t->common, COM_Q_ENABLE, 1);
}

/* ---- MSI-X ----------------------------------------------------------------- */

unsigned vpci_msix_enable(struct vpci *t, unsigned want, uint64_t addr, uint32_t data)
{
	struct cap_region table = { .found = true };
	volatile uint8_t *entry;
	uint32_t dw0, tbl;
	unsigned n;

	if (!t->msix_cap || !want)
		return 0;
	dw0 = cfg_read32(t, t->msix_cap);
	tbl = cfg_read32(t, t->msix_cap + 4u);
	n = ((dw0 >> 16) & MSIX_CTRL_SIZE) + 1;
	if (n > want)
		n = want;
	table.bar = tbl & 7;
	table.offset = tbl & ~7u;
	table.length = n * MSIX_ENTRY_BYTES;
	if (table.bar >= PCI_BARS || !(entry = region_map(t, &table)))
		return 0;
	/* Enabled with the function masked while the entries are written. */
	cfg_write32(t, t->msix_cap, dw0 | (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) << 16);
	for (unsigned i = 0; i < n; i++) {
		volatile uint8_t *e = entry + i * MSIX_ENTRY_BYTES;

		vpci_wr32(e, 0, (uint32_t)addr);
		vpci_wr32(e, 4, (uint32_t)(addr >> 32));
		vpci_wr32(e, 8, data);
		vpci_wr32(e, 12, 0);            /* vector control: unmasked */
	}
	cfg_write32(t, t->msix_cap, (dw0 & ~(MSIX_CTRL_MASKALL << 16)) | MSIX_CTRL_ENABLE << 16);
	vpci_wr16(t->common, COM_MSIX_CONFIG, VPCI_NO_VECTOR);
	return n;
}
