/* Children's local APICs (vapic.c, on vlapic.c's model). */
#ifndef HV_VAPIC_H
#define HV_VAPIC_H

#include <stdbool.h>
#include <stdint.h>
#include "vp.h"

void vapic_vp_init(struct vp *vp);
/* A fixed interrupt into the VP's APIC (level: TMR; auto_eoi: no ISR);
 * false (and logged) when the APIC refuses it. */
bool vapic_post(struct vp *vp, uint8_t vector, bool level, bool auto_eoi);
/* The 8259's interrupt (ExtINT through LINT0): false, and nothing
 * changes, while LINT0 does not take it (the PIC keeps its request). */
bool vapic_post_extint(struct vp *vp, uint8_t vector);
/* Something the VP would take if it ran: an interrupt it can take, or
 * its timer due. */
bool vapic_has_pending(struct vp *vp);
/* A fixed (or lowest-priority) interrupt from a device model (the I/O
 * APIC) to the partition's APICs that `dest` names: how many took it. */
unsigned vapic_assert(struct partition *p, uint32_t dest, bool logical, bool lowest,
		      uint8_t vector, bool level);
/* Host TSC of the VP's next timer expiry; 0: none. */
uint64_t vapic_wake_tsc(struct vp *vp);
/* Before an entry: expire the timer if due, inject what comes next. */
void vapic_deliver(struct vp *vp);
/* x2APIC MSRs and IA32_TSC_DEADLINE: false when `msr` is not one. */
bool vapic_msr(struct vp *vp, uint32_t msr, bool write, uint64_t *v,
	       enum exit_action *a);
/* HV_X64_MSR_EOI, ICR, TPR and VP_ASSIST_PAGE: false when not one. */
bool vapic_hv_msr(struct vp *vp, uint32_t msr, bool write, uint64_t *v,
		  enum exit_action *a);
enum exit_action vapic_base_write(struct vp *vp, uint64_t v);
uint64_t vapic_base_read(struct vp *vp);
/* Whether `gpa` is in the VP's xAPIC page (xAPIC mode, enabled). */
bool vapic_mmio_page(struct vp *vp, uint64_t gpa);
uint32_t vapic_mmio_read(struct vp *vp, uint32_t off);
void vapic_mmio_write(struct vp *vp, uint32_t off, uint32_t v);

#endif
