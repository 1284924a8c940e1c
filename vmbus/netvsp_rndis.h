/*
 * Inside netvsp: the seam between its transport half (netvsp.c: rings,
 * buffers, chunks, the data path) and its RNDIS control half
 * (netvsp_rndis.c: INIT, HALT, RESET, KEEPALIVE, QUERY and SET with
 * their OIDs, and the receive filter those set). Nothing outside
 * vmbus/netvsp*.c includes this; users include netvsp.h.
 */
#ifndef VMBUS_NETVSP_RNDIS_H
#define VMBUS_NETVSP_RNDIS_H

#include <stdbool.h>
#include <stdint.h>
#include "netvsp.h"

/* ---- netvsp_rndis.c ---- */

/* One RNDIS control message (any type but RNDIS_MSG_PACKET) of len
 * bytes at p, 8 <= len, in netvsp's copy: 0 done (answered, queued or
 * refused), 1 the reply queue is full (try again), -1 close. */
int netvsp_rndis_control(struct netvsp *sp, const uint8_t *p, uint32_t len);

/* The device state a HALT, an INIT or a new channel starts over from:
 * no packet filter, no multicast list, the link state untold. */
void netvsp_rndis_reset(struct netvsp *sp);

/* Whether the guest's packet filter and multicast list take a frame for
 * destination address dst. */
bool netvsp_filter_pass(const struct netvsp *sp, const uint8_t *dst);

/* ---- netvsp.c ---- */

/* One "netvsp: " log line through ops->log. */
void netvsp_log(struct netvsp *sp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A guest request we will not carry out: counted, logged, answered. */
#define netvsp_reject(sp, ...) \
	do { (sp)->stats.rejected++; netvsp_log((sp), __VA_ARGS__); } while (0)

/* Queue a reply for the guest: the RNDIS header of `type`, then
 * body[0..blen), then extra[0..elen), at most NETVSP_REPLY_MAX bytes in
 * all (the caller checked that a slot is free). */
void netvsp_queue_reply(struct netvsp *sp, uint32_t type, const void *body,
			uint32_t blen, const void *extra, uint32_t elen);

/* The guest broke the protocol: log why, mark the channel closed; -1. */
int netvsp_close_channel(struct netvsp *sp, const char *why);

#endif
