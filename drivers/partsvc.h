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
#include "platform.h"

/*
 * How both designs number the host side of a child's VMBus transport:
 * the message port of child `slot`, one event port per channel, and the
 * event flag (in the host's SINT) that port sets.
 */
/* A child's RAM in its GPA space, as on a PC: from 0 up to 3 GiB, and
 * what does not fit there from 4 GiB on, so that the 32-bit MMIO hole
 * (the I/O APIC at 0xfec00000, the local APIC at 0xfee00000) is never
 * RAM. */
#define CHILD_LOW_RAM_MAX               0xc0000000ull
#define CHILD_HIGH_RAM_BASE             0x100000000ull

static inline uint64_t child_ram_low(uint64_t total)
{
	return total < CHILD_LOW_RAM_MAX ? total : CHILD_LOW_RAM_MAX;
}

static inline uint64_t child_ram_high(uint64_t total)
{
	return total - child_ram_low(total);
}

/* Whether [gpa, gpa + len) is all RAM of a child with `total` bytes. */
static inline bool child_ram_contains(uint64_t total, uint64_t gpa, uint64_t len)
{
	uint64_t low = child_ram_low(total), high = child_ram_high(total);

	if (gpa + len < gpa)
		return false;
	if (gpa + len <= low)
		return true;
	return gpa >= CHILD_HIGH_RAM_BASE && gpa - CHILD_HIGH_RAM_BASE + len <= high;
}

#define PARTSVC_VMBUS_SLOTS             64u
#define PARTSVC_VMBUS_RELIDS            32u
#define PARTSVC_PORT_MSG(slot)          (0x100u + (slot))
#define PARTSVC_EVT_FLAG(slot, relid)   ((slot) * PARTSVC_VMBUS_RELIDS + (relid))
#define PARTSVC_PORT_EVT(slot, relid)   (0x200u + PARTSVC_EVT_FLAG(slot, relid))

/* Pages per dma_pages() call at most (one storvsp request's). */
#define PARTSVC_DMA_PAGES 257u

/* A physical NIC as the virtual switch's uplink sees it: polled. When
 * the NIC interrupts its owner (`irq`), a recv that returned 0 and a
 * send that returned 1 have armed the interrupt: an owner whose poll
 * moved nothing may halt, and the next frame in (or the transmit slot
 * freed) wakes it. */
struct phys_nic {
	void *ctx;
	uint8_t mac[6];
	/* One frame (14..1514 bytes): 0 queued, 1 busy (keep it, retry
	 * later), -1 refused. */
	int (*send)(void *ctx, const void *frame, size_t len);
	/* The next received frame into buf: its length, 0 when none. */
	size_t (*recv)(void *ctx, void *buf, size_t cap);
	bool irq;                       /* the NIC interrupts; else polled only */
	/* The driver's summary (frames, interrupts) into the owner's log,
	 * for the end of the run. */
	void (*report)(void *ctx);
};

struct partsvc {
	/* Create and initialize a partition with `vps` VPs (all suspended;
	 * VP 0 is started by the partition manager, the others by the guest
	 * with HvCallStartVirtualProcessor), named `name` in the logs. */
	int (*create)(const char *name, unsigned vps, uint64_t *id);
	/* RAM at GPA [0, bytes), zeroed. */
	/* Map `bytes` of fresh zeroed RAM at GPA `gpa` (page-aligned). */
	int (*give_memory)(uint64_t id, uint64_t gpa, uint64_t bytes);
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
	/* The 8259's interrupt `vector` for VP `vp`: ExtINT, through LINT0. */
	int (*assert_irq)(uint64_t id, uint32_t vp, uint8_t vector);
	/* The I/O APIC's: `vector` to the local APICs `dest` names (mode 0
	 * fixed, 1 lowest priority), edge or level; -1 when none took it. */
	int (*assert_apic)(uint64_t id, uint8_t vector, uint8_t mode, bool logical,
			   uint8_t dest, bool level);
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

	/* ---- the synthetic path (VMBus); `slot` is the child's index ---- */
	/* From now on the child's channel messages (posted to connection
	 * ids 1 and 4) reach partmgr_vmbus_message(slot, ...), one at a
	 * time: the port is in credit mode, and until vmbus_msg_done(slot)
	 * the child's next HvPostMessage gets HV_STATUS_INSUFFICIENT_
	 * BUFFERS (back-pressure, never a drop). */
	int (*vmbus_attach)(uint64_t id, unsigned slot);
	/* The host acted on the child's last channel message: take the
	 * next one. */
	void (*vmbus_msg_done)(unsigned slot);
	/* The child's HvSignalEvent on `connection_id` reaches
	 * partmgr_vmbus_event(slot, relid). relid < 128. */
	int (*vmbus_event_in)(uint64_t id, unsigned slot, uint32_t connection_id,
			      uint32_t relid);
	/* A channel message (type 1) into the child's SINT `sint` on VP
	 * `vp`: 0, or nonzero when it cannot be taken now (retry later). */
	int (*vmbus_post)(uint64_t id, unsigned slot, uint8_t sint, uint32_t vp,
			  const void *msg, size_t len);
	/* Set event flag `flag` of the child's SINT `sint` on VP `vp`. */
	int (*vmbus_signal)(uint64_t id, unsigned slot, uint8_t sint, uint32_t vp,
			    uint32_t flag);
	/* The child's page `pfn`, reachable until unmap_page() or the
	 * child's deletion; NULL when it is not the child's. */
	void *(*map_page)(uint64_t id, uint64_t pfn);
	void (*unmap_page)(uint64_t id, void *page);
	/* The host physical address of each child page pfns[0..n) (n <=
	 * PARTSVC_DMA_PAGES) for a device's DMA: 0, or -1 when one is not
	 * the child's. May be NULL (the back-ends copy instead). */
	int (*dma_pages)(uint64_t id, const uint64_t *pfns, unsigned n, uint64_t *phys);
	/* The physical disk partitions' virtual disks live on, or NULL with
	 * the reason in *why. */
	const struct block_backend *(*phys_disk)(const char **why);
	/* The machine's NIC, a virtual switch's uplink, or NULL with the
	 * reason in *why. May itself be NULL (no NIC driver). */
	const struct phys_nic *(*phys_nic)(const char **why);
};

/* Parse the config module, create and start its partitions. The number
 * started, or -1 when there is no config. */
int partmgr_start(const struct partsvc *ps);
/* An intercept message of one of the children (TLFS layouts). */
void partmgr_message(const struct hv_message *m);
/* A channel message child `slot` posted, or an event it signalled on
 * channel `relid`. */
void partmgr_vmbus_message(unsigned slot, const void *msg, size_t len);
void partmgr_vmbus_event(unsigned slot, uint32_t relid);
/* Work the children's devices deferred (a VSP that stopped at its per-poll
 * budget): true while some is left, and then the caller calls again soon,
 * before it halts or waits for its next tick. */
bool partmgr_poll(void);
/* Time passed: timers of every child. */
void partmgr_tick(void);
/* When partmgr_tick() has work next (ns, on ps->now_ns's clock), or
 * UINT64_MAX: the earliest of every running child's PIT and RTC events,
 * its timeout, and its VMBus host's needs (vmbus_host_next_ns). Between
 * ticks nothing else needs one: an owner that arms its timer for this
 * (and runs partmgr_tick once it passed) misses nothing. Cheap to call
 * often: the answer is kept until something changes it. */
uint64_t partmgr_next_event_ns(void);
bool partmgr_all_done(void);
/* Each child's TAP results and fate into the run's stream; then delete. */
void partmgr_finish(void);

#endif
