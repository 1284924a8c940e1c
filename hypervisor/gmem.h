/* Guest memory access for exit handlers: see gmem.c. */
#ifndef HV_GMEM_H
#define HV_GMEM_H

#include <stdint.h>
#include "vp.h"

void *gpa_to_hva(struct partition *p, uint64_t gpa, uint64_t len);
int gpa_read(struct partition *p, uint64_t gpa, void *buf, uint64_t len);
int gpa_write(struct partition *p, uint64_t gpa, const void *buf, uint64_t len);
int gva_to_gpa(struct vp *vp, uint64_t gva, uint64_t *gpa);
int gva_read(struct vp *vp, uint64_t gva, void *buf, uint64_t len);

#endif
