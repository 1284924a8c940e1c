/* The root's local APIC: what of its ICR writes may reach the hardware. */
#ifndef HV_APICFILTER_H
#define HV_APICFILTER_H

#include <stdbool.h>
#include <stdint.h>
#include "vp.h"

/* False (and logged) for INIT and STARTUP IPIs: CPUs belong to the
 * hypervisor, and partitions start VPs with HvCallStartVirtualProcessor. */
bool apic_icr_allowed(struct vp *vp, uint32_t lo, uint32_t dest);

#endif
