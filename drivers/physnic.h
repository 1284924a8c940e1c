/*
 * The machine's NIC as a virtual switch's uplink, found once: a virtio-net
 * device (drivers/virtio_net.c), else an Intel 82574L or 8254x
 * (drivers/e1000e_nic.c). Each image that drives physical devices (the
 * root; the monolithic hypervisor) passes its own hardware hooks and log.
 * With the hooks' msi_message, the NIC interrupts on the vector that
 * message names (MSI-X for virtio-net, MSI for the 82574L); the image's
 * handler for that vector calls physnic_irq() and acknowledges the
 * interrupt, nothing else: the uplink's poll does the work.
 */
#ifndef DRIVERS_PHYSNIC_H
#define DRIVERS_PHYSNIC_H

#include "platform.h"
#include "virtio_blk.h"
#include "partsvc.h"

/* The NIC, probed and started at the first call; NULL with the reason
 * in *why when there is none or it failed (asked again, the same). */
const struct phys_nic *physnic_probe(const struct vblk_hw *hw, void (*log)(const char *line),
				     const char **why);

/* One interrupt of the NIC taken (the image's handler, any context). */
void physnic_irq(void);

/* Interrupts counted by physnic_irq() so far. */
uint64_t physnic_irqs(void);

#endif
