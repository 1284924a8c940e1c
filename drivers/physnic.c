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
static void (*nic_log)(const char *line);
static const char *nic_name;
static uint8_t nic_vector;

/* Interrupts taken; the next count worth a log line (1, 10, 100, ...):
 * the run's end is not ours to see, so the count is logged as it grows,
 * from the poll, never from the handler. */
static volatile uint64_t irqs;
static uint64_t irqs_logged = 1;

void physnic_irq(void)
{
	irqs++;
}

uint64_t physnic_irqs(void)
{
	return irqs;
}

static void summary(const char *prefix, uint64_t rx, uint64_t tx, uint64_t busy,
		    uint64_t arms, uint64_t found)
{
	char line[200];

	ksnprintf(line, sizeof(line), "net: %s: %s%lu interrupts on vector %#x: %lu frames "
		  "received, %lu sent, %lu sends busy; interrupts armed %lu times, %lu with a "
		  "frame already there", nic_name, prefix, (uint64_t)irqs, nic_vector, rx, tx,
		  busy, arms, found);
	nic_log(line);
}

static void vnet_summary(const char *prefix)
{
	summary(prefix, vnet.rx_frames, vnet.tx_frames, vnet.tx_busy, vnet.rx.arms + vnet.tx.arms,
		vnet.rx.rearm_found + vnet.tx.rearm_found);
}

static void e1ke_summary(const char *prefix)
{
	summary(prefix, e1ke.rx_frames, e1ke.tx_frames, e1ke.tx_busy, e1ke.arms,
		e1ke.rearm_found);
}

static void milestone(void (*say)(const char *prefix))
{
	if (!ops.irq || irqs < irqs_logged)
		return;
	while (irqs_logged <= irqs)
		irqs_logged *= 10;
	say("so far ");
}

static int vnet_tx(void *ctx, const void *frame, size_t len)
{
	return vnet_send(&vnet, frame, len);
}

static size_t vnet_rx(void *ctx, void *buf, size_t cap)
{
	milestone(vnet_summary);
	return vnet_recv(&vnet, buf, cap);
}

static void vnet_report(void *ctx)
{
	vnet_summary("");
}

static int e1ke_tx(void *ctx, const void *frame, size_t len)
{
	return e1ke_send(&e1ke, frame, len);
}

static size_t e1ke_rx(void *ctx, void *buf, size_t cap)
{
	milestone(e1ke_summary);
	return e1ke_recv(&e1ke, buf, cap);
}

static void e1ke_report(void *ctx)
{
	e1ke_summary("");
}

static void found(const char *what, int bdf, const uint8_t *mac, bool up, const char *irq,
		  uint32_t msi_data)
{
	char line[160], how[40] = "polled";

	nic_vector = (uint8_t)msi_data;
	if (irq)
		ksnprintf(how, sizeof(how), "%s on vector %#x", irq, nic_vector);
	ksnprintf(line, sizeof(line), "net: %s at %02x:%02x.%x, MAC "
		  "%02x:%02x:%02x:%02x:%02x:%02x, link %s, %s", what, bdf >> 8,
		  (bdf >> 3) & 0x1f, bdf & 7, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
		  up ? "up" : "down", how);
	nic_log(line);
	memcpy(ops.mac, mac, 6);
	ops.irq = irq != NULL;
	state = 1;
}

static void probe(const struct vblk_hw *hw)
{
	int bdf = vnet_find(hw), err;

	if (bdf >= 0) {
		err = vnet_init(&vnet, hw, (uint32_t)bdf);
		if (err) {
			why_none = err == VNET_ERR_UNMAPPED ?
				   "virtio-net BAR outside the identity map" : vnet.err;
			return;
		}
		ops = (struct phys_nic){ .send = vnet_tx, .recv = vnet_rx, .report = vnet_report };
		nic_name = "virtio-net";
		found(nic_name, bdf, vnet.mac, vnet_link_up(&vnet), vnet.msix ? "MSI-X" : NULL,
		      vnet.msi_data);
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
	ops = (struct phys_nic){ .send = e1ke_tx, .recv = e1ke_rx, .report = e1ke_report };
	{
		static char what[16];

		ksnprintf(what, sizeof(what), "Intel %04x", e1ke.device);
		nic_name = what;
		found(what, bdf, e1ke.mac, e1ke_link_up(&e1ke), e1ke.msi ? "MSI" : NULL,
		      e1ke.msi_data);
	}
}

const struct phys_nic *physnic_probe(const struct vblk_hw *hw, void (*log)(const char *line),
				     const char **why)
{
	if (!state) {
		state = -1;
		nic_log = log;
		probe(hw);
	}
	if (state < 0) {
		*why = why_none;
		return NULL;
	}
	return &ops;
}
