/*
 * The two designs isovisor builds from one tree differ only in which of
 * design_microkernel.c (with root.c: a root partition holds the control
 * function and the device models) and design_monolithic.c (the control
 * function and device models are linked into the hypervisor) is linked.
 * These are the points where they differ.
 */
#ifndef HV_DESIGN_H
#define HV_DESIGN_H

#include <stdbool.h>
#include <stdint.h>
#include <isovisor/hvtlfs.h>
#include "vp.h"

extern const char design_name[];

/* The boot CPU, once the hypervisor is up: run the design. */
void design_start(void) __attribute__((noreturn));
/* Every other CPU, once the boot CPU has set things up. */
void design_ap_start(void) __attribute__((noreturn));
/* A child VP's intercept (it waits in intercept suspend until the
 * control function completes it). */
void design_intercept(struct vp *vp, const struct hv_message *m);
/* How well this CPU suits child VPs: 0 not at all, 1 when no CPU is
 * better, 2 preferred. */
unsigned design_cpu_runs_children(unsigned cpu);
/* A child VP is being deleted: forget anything of it that still waits. */
void design_vp_gone(struct vp *vp);
/* Whether the root may schedule children itself (HvCallDispatchVp):
 * only where it is the control function. */
bool design_root_schedules(void);
/* A device interrupt taken by the hypervisor. */
void design_device_irq(uint8_t vector);
/* A deleted child's page, already zeroed and unmapped: back to its
 * owner. */
void design_page_reclaimed(uint64_t spa);
/* A message posted, or an event signalled, to a port the hypervisor owns
 * (port.c): a TLFS status for the sender. */
uint16_t design_port_message(uint32_t port_id, const struct hv_message *m);
uint16_t design_port_event(uint32_t port_id, uint32_t flag);

#endif
