/* The SynIC: see synic.c. */
#ifndef HV_SYNIC_H
#define HV_SYNIC_H

#include <stdbool.h>
#include <stdint.h>
#include "vp.h"

bool synic_msr_read(struct vp *vp, uint32_t msr, uint64_t *value);
int synic_msr_write(struct vp *vp, uint32_t msr, uint64_t value);
/* Post a message on `sint` of `vp`: delivered now, or queued until EOM.
 * -1 when a message is already waiting there. */
int synic_post(struct vp *vp, unsigned sint, const struct hv_message *m);
int synic_signal(struct vp *vp, unsigned sint, unsigned flag);

#endif
