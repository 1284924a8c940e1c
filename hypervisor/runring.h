/*
 * A CPU's run ring: the child VPs bound to it, in creation order, and the
 * one picked last. Picking starts after that one, so every runnable VP
 * gets its turn before any gets a second (round robin). Portable and
 * host-tested; the caller holds the CPU's run_lock.
 */
#ifndef HV_RUNRING_H
#define HV_RUNRING_H

#include <stdbool.h>
#include "vp.h"

struct run_ring {
	struct vp *first;
	struct vp *cursor;              /* picked last; NULL: start at first */
	unsigned count;
};

void runring_add(struct run_ring *r, struct vp *vp);
/* Take `vp` out (no-op if it is not in a ring). */
void runring_remove(struct run_ring *r, struct vp *vp);
/* The next VP after the cursor for which `runnable` holds, made the
 * cursor; NULL when none is. */
struct vp *runring_pick(struct run_ring *r, bool (*runnable)(const struct vp *));
bool runring_any(const struct run_ring *r, bool (*runnable)(const struct vp *));

#endif
