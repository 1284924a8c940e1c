/*
 * The machine's NIC as a virtual switch's uplink, found once: a virtio-net
 * device (drivers/virtio_net.c), else an Intel 82574L or 8254x
 * (drivers/e1000e_nic.c), both polled. Each image that drives physical
 * devices (the root; the monolithic hypervisor) passes its own hardware
 * hooks and log.
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

#endif
