/* The SynIC: see synic.c. */
#ifndef HV_SYNIC_H
#define HV_SYNIC_H

#include <stdbool.h>
#include <stdint.h>
#include "vp.h"

bool synic_msr_read(struct vp *vp, uint32_t msr, uint64_t *value);
int synic_msr_write(struct vp *vp, uint32_t msr, uint64_t value);
/* Post a copy of `m` on `sint` of `vp`: delivered now, or queued until
 * the slot frees. -1 while the SINT's posting buffer is still taken (the
 * TLFS's HV_STATUS_INSUFFICIENT_BUFFERS: the sender retries). */
int synic_post(struct vp *vp, unsigned sint, const struct hv_message *m);
/* Post `m` through a record the caller owns: always accepted, delivered
 * in order. The record must stay valid until delivered or cancelled;
 * posting it again while it waits replaces its message. */
void synic_post_held(struct vp *vp, unsigned sint, struct synic_msg *rec,
		     const struct hv_message *m);
/* Take a record out of the queue if it is still there. */
void synic_cancel(struct vp *vp, unsigned sint, struct synic_msg *rec);
/* How many messages wait for `sint`'s slot (tests, statistics). */
unsigned synic_queued(struct vp *vp, unsigned sint);
int synic_signal(struct vp *vp, unsigned sint, unsigned flag);

#endif
