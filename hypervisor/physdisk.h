/* The monolithic design's physical disk: see physdisk.c. */
#ifndef HV_PHYSDISK_H
#define HV_PHYSDISK_H

struct block_backend;
const struct block_backend *physdisk_get(const char **why);
/* The machine's virtio-net NIC for a virtual switch's uplink. */
struct phys_nic;
const struct phys_nic *physnic_get(const char **why);

#endif
