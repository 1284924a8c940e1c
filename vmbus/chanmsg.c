/*
 * VMBus channel-message parser: type and length checks, then a copy into
 * struct vmbus_chanmsg. See chanmsg.h for the contract.
 */
#include <string.h>
#include "chanmsg.h"

/* Fixed sizes of the types we understand; 0 marks a rejected type. */
static const uint8_t fixed_size[CHANNELMSG_UNLOAD_RESPONSE + 1] = {
	[CHANNELMSG_OFFERCHANNEL] = sizeof(struct vmbus_channel_offer_channel),
	[CHANNELMSG_RESCIND_CHANNELOFFER] = sizeof(struct vmbus_channel_rescind_offer),
	[CHANNELMSG_REQUESTOFFERS] = sizeof(struct vmbus_channel_message_header),
	[CHANNELMSG_ALLOFFERS_DELIVERED] = sizeof(struct vmbus_channel_message_header),
	[CHANNELMSG_OPENCHANNEL] = sizeof(struct vmbus_channel_open_channel),
	[CHANNELMSG_OPENCHANNEL_RESULT] = sizeof(struct vmbus_channel_open_result),
	[CHANNELMSG_CLOSECHANNEL] = sizeof(struct vmbus_channel_close_channel),
	[CHANNELMSG_GPADL_HEADER] = sizeof(struct vmbus_channel_gpadl_header),
	[CHANNELMSG_GPADL_BODY] = sizeof(struct vmbus_channel_gpadl_body),
	[CHANNELMSG_GPADL_CREATED] = sizeof(struct vmbus_channel_gpadl_created),
	[CHANNELMSG_GPADL_TEARDOWN] = sizeof(struct vmbus_channel_gpadl_teardown),
	[CHANNELMSG_GPADL_TORNDOWN] = sizeof(struct vmbus_channel_gpadl_torndown),
	[CHANNELMSG_RELID_RELEASED] = sizeof(struct vmbus_channel_relid_released),
	[CHANNELMSG_INITIATE_CONTACT] = sizeof(struct vmbus_channel_initiate_contact),
	[CHANNELMSG_VERSION_RESPONSE] = sizeof(struct vmbus_channel_version_response),
	[CHANNELMSG_UNLOAD] = sizeof(struct vmbus_channel_message_header),
	[CHANNELMSG_UNLOAD_RESPONSE] = sizeof(struct vmbus_channel_message_header),
};

static int fail(const char **err, const char *why)
{
	if (err)
		*err = why;
	return -1;
}

size_t vmbus_chanmsg_fixed_size(uint32_t type)
{
	if (type >= sizeof(fixed_size) / sizeof(fixed_size[0]))
		return 0;
	return fixed_size[type];
}

uint64_t vmbus_chanmsg_word(const struct vmbus_chanmsg *m, uint32_t i)
{
	size_t off = vmbus_chanmsg_fixed_size(m->type) + (size_t)i * 8;
	uint64_t w = 0;

	if (off + 8 <= sizeof(m->u.raw))
		memcpy(&w, m->u.raw + off, 8);
	return w;
}

int vmbus_gpadl_walk(const uint64_t *words, uint32_t avail, uint32_t total,
		     uint32_t rangecount, uint32_t *npfns, const char **err)
{
	uint64_t pages = 0;
	uint32_t i = 0, ranges = 0;

	if (avail > total)
		return fail(err, "gpadl: more range data than range_buflen");
	while (i < avail) {
		uint64_t w = words[i], n;

		if ((w >> 32) >= VMBUS_PAGE_SIZE)
			return fail(err, "gpadl: range byte_offset >= page size");
		if ((uint32_t)w == 0)
			return fail(err, "gpadl: range with byte_count 0");
		if (++ranges > rangecount)
			return fail(err, "gpadl: more ranges than rangecount");
		n = vmbus_gpa_range_pages(w);
		/* i < total here, so total - i - 1 cannot wrap. */
		if (n > (uint64_t)(total - i - 1))
			return fail(err, "gpadl: range pfns overrun range_buflen");
		pages += n;
		i += 1 + (uint32_t)n;
		if (ranges == rangecount && i != total)
			return fail(err, "gpadl: range_buflen longer than its ranges");
	}
	if (avail == total) {
		if (ranges != rangecount)
			return fail(err, "gpadl: fewer ranges than rangecount");
		if (npfns)
			*npfns = (uint32_t)pages;
	}
	return 0;
}

static int check_gpadl_header(const struct vmbus_chanmsg *m, const char **err)
{
	const struct vmbus_channel_gpadl_header *h = &m->u.gpadl_header;
	uint64_t words[VMBUS_CHANNEL_MESSAGE_MAX / 8];
	uint32_t avail = m->tail_len / 8, total = h->range_buflen / 8;

	if (h->rangecount == 0)
		return fail(err, "gpadl header: rangecount 0");
	if (h->range_buflen % 8)
		return fail(err, "gpadl header: range_buflen not whole words");
	/* Every range is a header word plus at least one pfn. */
	if ((uint32_t)h->range_buflen < 16u * h->rangecount)
		return fail(err, "gpadl header: range_buflen too small for rangecount");
	if (m->tail_len % 8)
		return fail(err, "gpadl header: range data not whole words");
	if (avail == 0)
		return fail(err, "gpadl header: no range data");
	if (avail > total)
		return fail(err, "gpadl header: more range data than range_buflen");
	for (uint32_t i = 0; i < avail; i++)
		words[i] = vmbus_chanmsg_word(m, i);
	return vmbus_gpadl_walk(words, avail, total, h->rangecount, NULL, err);
}

int vmbus_chanmsg_parse(const void *buf, size_t len, struct vmbus_chanmsg *out,
			const char **err)
{
	struct vmbus_channel_message_header hdr;
	size_t fixed;

	if (!buf || !out)
		return fail(err, "no message");
	if (len < sizeof(hdr))
		return fail(err, "shorter than a message header");
	if (len > VMBUS_CHANNEL_MESSAGE_MAX)
		return fail(err, "longer than a SynIC message payload");
	memcpy(&hdr, buf, sizeof(hdr));
	fixed = vmbus_chanmsg_fixed_size(hdr.msgtype);
	if (!fixed)
		return fail(err, hdr.msgtype < CHANNELMSG_COUNT ?
			    "message type not supported" : "unknown message type");
	if (len < fixed)
		return fail(err, "shorter than its message type");

	memset(out, 0, sizeof(*out));
	memcpy(out->u.raw, buf, len);
	out->type = hdr.msgtype;
	out->len = (uint32_t)len;
	out->tail_len = (uint32_t)(len - fixed);

	switch (out->type) {
	case CHANNELMSG_GPADL_HEADER:
		return check_gpadl_header(out, err);
	case CHANNELMSG_GPADL_BODY:
		if (out->tail_len % 8)
			return fail(err, "gpadl body: pfns not whole words");
		if (out->tail_len == 0)
			return fail(err, "gpadl body: no pfns");
		return 0;
	default:
		return 0;
	}
}
