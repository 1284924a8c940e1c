/*
 * A child's RAM as the device back-ends copy through it: pages mapped
 * once (ps->map_page) and kept in a small direct-mapped table, so a
 * frame's or a request's bytes cost a memcpy, not a copy call (in the
 * microkernelized design a hypercall and a bounce) per page. A child's
 * RAM never moves while it lives, so a mapping stays right until
 * childmem_clear, which the owner calls before the child goes. Without
 * map_page (or when a page will not map) it falls back to the copy calls.
 */
#ifndef DRIVERS_CHILDMEM_H
#define DRIVERS_CHILDMEM_H

#include <stdbool.h>
#include <stdint.h>
#include "partsvc.h"

struct childmem_slot {
	uint64_t tag;                   /* pfn + 1; 0 empty */
	uint8_t *va;
};

struct childmem {
	const struct partsvc *ps;
	uint64_t id, memory_bytes;
	struct childmem_slot *slot;
	unsigned slots;
	uint64_t misses;                /* pages mapped (again) */
};

void childmem_init(struct childmem *m, const struct partsvc *ps, uint64_t id,
		   uint64_t memory_bytes, struct childmem_slot *slots, unsigned n);
/* Bytes [gpa, gpa + len) out of the child (out false) or into it: 0, or
 * -1 when a byte is not the child's RAM. */
int childmem_copy(struct childmem *m, uint64_t gpa, void *buf, uint64_t len, bool out);
/* Unmap everything (the child is ending). */
void childmem_clear(struct childmem *m);

#endif
