/* The machine's NIC for a switch's uplink (see physnic.h). */
#include <string.h>
#include "format.h"
#include "physnic.h"
#include "virtio_net.h"
#include "e1000e_nic.h"

static struct vnet vnet;
static struct e1ke e1ke;
static int state;               /* 0 not probed, 1 ready, -1 none */
static const char *why_none = "not probed";
static struct phys_nic ops;

static int vnet_tx(void *ctx, const void *frame, size_t len)
{
	return vnet_send(&vnet, frame, len);
}

static size_t vnet_rx(void *ctx, void *buf, size_t cap)
{
	return vnet_recv(&vnet, buf, cap);
}

static int e1ke_tx(void *ctx, const void *frame, size_t len)
{
	return e1ke_send(&e1ke, frame, len);
}

static size_t e1ke_rx(void *ctx, void *buf, size_t cap)
{
	return e1ke_recv(&e1ke, buf, cap);
}

static void found(void (*log)(const char *line), const char *what, int bdf, const uint8_t *mac,
		  bool up)
{
	char line[160];

	ksnprintf(line, sizeof(line), "net: %s at %02x:%02x.%x, MAC "
		  "%02x:%02x:%02x:%02x:%02x:%02x, link %s, polled", what, bdf >> 8,
		  (bdf >> 3) & 0x1f, bdf & 7, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
		  up ? "up" : "down");
	log(line);
	memcpy(ops.mac, mac, 6);
	state = 1;
}

static void probe(const struct vblk_hw *hw, void (*log)(const char *line))
{
	int bdf = vnet_find(hw), err;

	if (bdf >= 0) {
		err = vnet_init(&vnet, hw, (uint32_t)bdf);
		if (err) {
			why_none = err == VNET_ERR_UNMAPPED ?
				   "virtio-net BAR outside the identity map" : vnet.err;
			return;
		}
		ops = (struct phys_nic){ .send = vnet_tx, .recv = vnet_rx };
		found(log, "virtio-net", bdf, vnet.mac, vnet_link_up(&vnet));
		return;
	}
	bdf = e1ke_find(hw);
	if (bdf < 0) {
		why_none = "no virtio-net or e1000e NIC attached";
		return;
	}
	err = e1ke_init(&e1ke, hw, (uint32_t)bdf);
	if (err) {
		why_none = err == E1KE_ERR_UNMAPPED ? "e1000e BAR outside the identity map" :
						      e1ke.err;
		return;
	}
	ops = (struct phys_nic){ .send = e1ke_tx, .recv = e1ke_rx };
	{
		char what[16];

		ksnprintf(what, sizeof(what), "Intel %04x", e1ke.device);
		found(log, what, bdf, e1ke.mac, e1ke_link_up(&e1ke));
	}
}

const struct phys_nic *physnic_probe(const struct vblk_hw *hw, void (*log)(const char *line),
				     const char **why)
{
	if (!state) {
		state = -1;
		probe(hw, log);
	}
	if (state < 0) {
		*why = why_none;
		return NULL;
	}
	return &ops;
}
