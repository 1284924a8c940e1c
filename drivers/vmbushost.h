/*
 * The synthetic devices of one child partition: its VMBus server, the
 * channels' rings as the host sees them, and the VSPs behind them
 * (storvsp over a SCSI disk, the heartbeat and shutdown ICs). Written once
 * against struct partsvc, like the partition manager that owns it: it
 * runs in the root (microkernelized design) or in the hypervisor
 * (monolithic design) with no difference in this code.
 */
#ifndef DRIVERS_VMBUSHOST_H
#define DRIVERS_VMBUSHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "partsvc.h"
#include "platform.h"

struct vmbus_host;

/* What the host offers (PARTCFG_DEV_* bits of the VMBus devices). */
struct vmbus_host_config {
	const char *name;               /* the child's, for the logs */
	uint64_t id;
	unsigned slot;
	uint64_t memory_bytes;          /* the child's RAM (partsvc.h's layout) */
	uint32_t devices;
	const struct block_backend *disk;       /* storage: the virtual disk */
	/* network (netvsp), when nic_mac is not NULL: the NIC's address
	 * and where its frames go (a virtual switch port: 0 sent, 1 busy,
	 * -1 refused). */
	const uint8_t *nic_mac;
	int (*nic_tx)(void *ctx, const void *frame, size_t len);
	/* The guest may change its address: the port moves (0) or the
	 * switch refuses (-1). NULL: every change is refused. */
	int (*nic_set_mac)(void *ctx, const uint8_t mac[6]);
	void *nic_ctx;
};

/* NULL when there is no memory for it or the transport refused. */
struct vmbus_host *vmbus_host_start(const struct partsvc *ps,
				    const struct vmbus_host_config *cfg);
void vmbus_host_message(struct vmbus_host *h, const void *msg, size_t len);
void vmbus_host_event(struct vmbus_host *h, uint32_t relid);
/* Deferred work: serve the channels whose VSP stopped at its per-poll
 * budget with packets left (the guest will not signal for those). True
 * while some remain: the caller calls again soon, before it sleeps or
 * waits for its next tick. */
bool vmbus_host_poll(struct vmbus_host *h);
/* Time passed: retry queued messages, send heartbeats, notice silence. */
void vmbus_host_tick(struct vmbus_host *h, uint64_t now_ns);
/* When vmbus_host_tick() has work (ns, UINT64_MAX: none): the next
 * heartbeat, the time a missing answer counts as lost, and the next
 * multiple of VMBUS_HOST_RETRY_NS while something waits that no signal
 * will wake
 * (a message held back, a completion or IC request that did not fit a
 * ring). The caller must call it again after any message, event, poll or
 * tick, which may change the answer. */
uint64_t vmbus_host_next_ns(const struct vmbus_host *h, uint64_t now_ns);
#define VMBUS_HOST_RETRY_NS 1000000ull
/* Ask the guest to shut down through the shutdown IC: false when it has
 * no open shutdown channel. */
bool vmbus_host_request_shutdown(struct vmbus_host *h);
/* A frame from the switch for the guest's synthetic NIC: 0 taken (or
 * dropped as a NIC would), -1 not now (the caller keeps it). */
int vmbus_host_net_receive(struct vmbus_host *h, const void *frame, size_t len);
/* The switch has room again: serve the network channel if the guest's
 * frame waits for it. True when it did. */
bool vmbus_host_net_kick(struct vmbus_host *h);
/* Stop touching the guest's pages (before the child is deleted). */
void vmbus_host_stop(struct vmbus_host *h);

struct vmbus_host_report {
	bool storage_open;
	uint64_t bytes_read, bytes_written, requests, flushes;
	uint64_t direct;                /* requests moved by DMA, no copy */
	uint32_t heartbeats_answered;
	uint32_t heartbeat_losses;      /* times it went silent for 5 s */
	bool shutdown_acked;
	uint32_t rejected;              /* guest inputs refused */
	uint32_t channels_closed;       /* closed by us for bad input */
	uint32_t messages_held;         /* channel messages that waited for
					 * room for their answers */
	bool net_open;
	uint64_t net_tx_frames, net_rx_frames;
};
void vmbus_host_report(const struct vmbus_host *h, struct vmbus_host_report *r);

#endif
