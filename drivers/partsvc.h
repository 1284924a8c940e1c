/*
 * Partition services: what the partition manager and device host
 * (drivers/partmgr.c) need from whoever runs them. In the microkernelized
 * design the root partition implements these with TLFS hypercalls
 * (kernel/partsvc.c); in the monolithic design the hypervisor implements
 * them with direct calls (hypervisor/design_monolithic.c). The manager's
 * code is the same in both.
 */
#ifndef DRIVERS_PARTSVC_H
#define DRIVERS_PARTSVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isovisor/hvtlfs.h>

struct partsvc {
	/* Create and initialize a partition with one (suspended) VP, named
	 * `name` in the logs. */
	int (*create)(const char *name, uint64_t *id);
	/* RAM at GPA [0, bytes), zeroed. */
	int (*give_memory)(uint64_t id, uint64_t bytes);
	int (*copy_to)(uint64_t id, uint64_t gpa, const void *src, uint64_t len);
	int (*copy_from)(uint64_t id, uint64_t gpa, void *dst, uint64_t len);
	/* The GPA behind VP `vp`'s linear address, or -1. */
	uint64_t (*gva_to_gpa)(uint64_t id, uint32_t vp, uint64_t gva);
	/* Set registers (and the suspend registers: clearing the intercept
	 * suspend completes an intercept). */
	int (*set_regs)(uint64_t id, uint32_t vp, const struct hv_register_assoc *r,
			unsigned n);
	/* Read 64-bit registers by TLFS name. */
	int (*get_regs)(uint64_t id, uint32_t vp, const uint32_t *names,
			uint64_t *values, unsigned n);
	int (*assert_irq)(uint64_t id, uint32_t vp, uint8_t vector);
	int (*destroy)(uint64_t id);
	/* A child's console line, printed with `source` as its prefix. */
	void (*console_line)(const char *source, const char *text, size_t len);
	/* A line of the manager's own. */
	void (*log)(const char *text);
	/* One result in the run's TAP stream. */
	void (*tap)(bool ok, const char *text);
	uint64_t (*now_ns)(void);
	/* The boot module whose command line starts with `word`, or NULL. */
	const void *(*module)(const char *word, size_t *len);
	/* Zeroed memory the manager keeps (emulated disks), or NULL. */
	void *(*alloc)(uint64_t bytes);
};

/* Parse the config module, create and start its partitions. The number
 * started, or -1 when there is no config. */
int partmgr_start(const struct partsvc *ps);
/* An intercept message of one of the children (TLFS layouts). */
void partmgr_message(const struct hv_message *m);
/* Time passed: timers of every child. */
void partmgr_tick(void);
/* When the next device timer wants partmgr_tick() (ns), or UINT64_MAX. */
uint64_t partmgr_next_event_ns(void);
bool partmgr_all_done(void);
/* Each child's TAP results and fate into the run's stream; then delete. */
void partmgr_finish(void);

#endif
