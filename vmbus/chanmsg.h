/*
 * The one choke point for VMBus channel-management messages: a message
 * posted by a guest (or sent by the host, for tests) is copied out of the
 * SynIC payload into a tagged union after its type and length have been
 * checked. Nothing downstream reads the guest's bytes in place.
 *
 * Pure and portable: no allocation, no platform calls; builds freestanding
 * and for host tests.
 */
#ifndef VMBUS_CHANMSG_H
#define VMBUS_CHANMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isovisor/vmbus.h>

struct vmbus_chanmsg {
	uint32_t type;          /* enum vmbus_channel_message_type */
	uint32_t len;           /* bytes of the message, <= 240 */
	uint32_t tail_len;      /* bytes after the type's fixed part */
	union {
		struct vmbus_channel_message_header hdr;
		struct vmbus_channel_offer_channel offer;
		struct vmbus_channel_rescind_offer rescind;
		struct vmbus_channel_open_channel open;
		struct vmbus_channel_open_result open_result;
		struct vmbus_channel_close_channel close;
		struct vmbus_channel_gpadl_header gpadl_header;
		struct vmbus_channel_gpadl_body gpadl_body;
		struct vmbus_channel_gpadl_created gpadl_created;
		struct vmbus_channel_gpadl_teardown gpadl_teardown;
		struct vmbus_channel_gpadl_torndown gpadl_torndown;
		struct vmbus_channel_relid_released relid_released;
		struct vmbus_channel_initiate_contact initiate;
		struct vmbus_channel_version_response version;
		uint8_t raw[VMBUS_CHANNEL_MESSAGE_MAX];
	} u;
};

/*
 * Checks and copies buf[0..len) into *out. Returns 0, or -1 with *err (if
 * err is not NULL) set to a static reason. Accepted: types 1..17 whose
 * length is at least that type's fixed size (Linux's min_payload_len
 * rule); GPADL_HEADER and GPADL_BODY also get their variable part checked
 * (whole u64 words, ranges consistent with range_buflen and rangecount,
 * pfn counts matching byte counts).
 */
int vmbus_chanmsg_parse(const void *buf, size_t len, struct vmbus_chanmsg *out,
			const char **err);

/* The fixed size of a message type, 0 for a type the parser rejects. */
size_t vmbus_chanmsg_fixed_size(uint32_t type);

/* The i-th u64 word after the fixed part (GPADL range data or pfns);
 * i must be below tail_len / 8. */
uint64_t vmbus_chanmsg_word(const struct vmbus_chanmsg *m, uint32_t i);

/*
 * Walks GPADL range data: words[0..avail) of a buffer that will hold
 * `total` words in all (avail <= total). Every range header present must
 * have byte_offset < 4096, byte_count > 0, and its pfns must fit in
 * `total`; at most `rangecount` ranges, and the last of them must end
 * exactly at `total`. If avail == total the ranges must
 * fill the buffer exactly and number exactly rangecount; *npfns (if not
 * NULL) then gets the page count. Returns 0 or -1 with *err.
 */
int vmbus_gpadl_walk(const uint64_t *words, uint32_t avail, uint32_t total,
		     uint32_t rangecount, uint32_t *npfns, const char **err);

/* Pages spanned by a range header word (byte_count low, byte_offset high). */
static inline uint64_t vmbus_gpa_range_pages(uint64_t hdr_word)
{
	uint64_t count = (uint32_t)hdr_word, offset = hdr_word >> 32;

	return (offset + count + VMBUS_PAGE_SIZE - 1) >> VMBUS_PAGE_SHIFT;
}

#endif
