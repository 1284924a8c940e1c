/* A CPU's run ring: see runring.h. */
#include <stddef.h>
#include "runring.h"

void runring_add(struct run_ring *r, struct vp *vp)
{
	if (!r->first) {
		vp->run_next = vp->run_prev = vp;
		r->first = vp;
	} else {
		vp->run_next = r->first;
		vp->run_prev = r->first->run_prev;
		vp->run_prev->run_next = vp;
		r->first->run_prev = vp;
	}
	r->count++;
}

void runring_remove(struct run_ring *r, struct vp *vp)
{
	if (!vp->run_next)
		return;
	if (vp->run_next == vp) {
		r->first = r->cursor = NULL;
	} else {
		vp->run_prev->run_next = vp->run_next;
		vp->run_next->run_prev = vp->run_prev;
		if (r->first == vp)
			r->first = vp->run_next;
		/* The next pick starts where this one's would have. */
		if (r->cursor == vp)
			r->cursor = vp->run_prev;
	}
	vp->run_next = vp->run_prev = NULL;
	r->count--;
}

struct vp *runring_pick(struct run_ring *r, bool (*runnable)(const struct vp *))
{
	struct vp *vp = r->cursor ? r->cursor->run_next : r->first;

	for (unsigned n = 0; vp && n < r->count; n++, vp = vp->run_next)
		if (runnable(vp)) {
			r->cursor = vp;
			return vp;
		}
	return NULL;
}

bool runring_any(const struct run_ring *r, bool (*runnable)(const struct vp *))
{
	struct vp *vp = r->first;

	for (unsigned n = 0; vp && n < r->count; n++, vp = vp->run_next)
		if (runnable(vp))
			return true;
	return false;
}
