/*
 * Multiboot2 boot information parser; the rules are in mb2.h. The loader's
 * structure is read once here, every offset checked against total_size
 * (itself checked against what the caller can map) before the bytes under
 * it are touched, so a corrupt or hostile structure is rejected instead of
 * walked off the end.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <isovisor/multiboot2.h>
#include "mb2.h"

#define MB2_ALIGN 8u

static int reject(const char **err, const char *msg)
{
	if (err)
		*err = msg;
	return -1;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A string field running from `s` to the end of its tag (`room` bytes)
 * must hold its NUL inside the tag, or strlen() would leave the tag. */
static bool terminated(const char *s, uint32_t room)
{
	return room > 0 && strnlen(s, room) < room;
}

static int parse_module(const uint8_t *tag, uint32_t size,
			struct mb2_info *out, const char **err)
{
	const char *cmdline = (const char *)tag +
			      offsetof(struct mb2_tag_module, cmdline);
	uint32_t start, end;

	if (size < sizeof(struct mb2_tag_module))
		return reject(err, "module tag too short");
	if (!terminated(cmdline, size - sizeof(struct mb2_tag_module)))
		return reject(err, "module cmdline not terminated");
	start = rd32(tag + offsetof(struct mb2_tag_module, mod_start));
	end = rd32(tag + offsetof(struct mb2_tag_module, mod_end));
	if (start > end)
		return reject(err, "module ends before it starts");
	if (out->module_count >= MB2_MAX_MODULES)
		return reject(err, "too many modules");
	out->modules[out->module_count].start = start;
	out->modules[out->module_count].end = end;
	out->modules[out->module_count].cmdline = cmdline;
	out->module_count++;
	return 0;
}

static int parse_mmap(const uint8_t *tag, uint32_t size,
		      struct mb2_info *out, const char **err)
{
	uint32_t esz;

	if (size < sizeof(struct mb2_tag_mmap))
		return reject(err, "mmap tag too short");
	esz = rd32(tag + offsetof(struct mb2_tag_mmap, entry_size));
	/* A multiple of 8 keeps every entry as aligned as the tag, so
	 * mb2_mmap_entry() can hand out typed pointers. */
	if (esz < sizeof(struct mb2_mmap_entry) || esz % MB2_ALIGN)
		return reject(err, "bad mmap entry_size");
	out->mmap = tag + sizeof(struct mb2_tag_mmap);
	out->mmap_entry_size = esz;
	out->mmap_count = (size - sizeof(struct mb2_tag_mmap)) / esz;
	return 0;
}

static int parse_efi_mmap(const uint8_t *tag, uint32_t size,
			  struct mb2_info *out, const char **err)
{
	uint32_t dsz;

	if (size < sizeof(struct mb2_tag_efi_mmap))
		return reject(err, "EFI mmap tag too short");
	dsz = rd32(tag + offsetof(struct mb2_tag_efi_mmap, descr_size));
	if (dsz < sizeof(struct efi_memory_descriptor) || dsz % MB2_ALIGN)
		return reject(err, "bad EFI descr_size");
	out->efi_mmap = tag + sizeof(struct mb2_tag_efi_mmap);
	out->efi_descr_size = dsz;
	out->efi_count = (size - sizeof(struct mb2_tag_efi_mmap)) / dsz;
	return 0;
}

/* One tag whose header and `size` are already known to lie inside the
 * structure. */
static int parse_tag(const uint8_t *tag, uint32_t type, uint32_t size,
		     struct mb2_info *out, const char **err)
{
	const char *str = (const char *)tag + sizeof(struct mb2_tag);
	uint32_t body = size - sizeof(struct mb2_tag);

	switch (type) {
	case MB2_TAG_CMDLINE:
	case MB2_TAG_LOADER_NAME:
		if (!terminated(str, body))
			return reject(err, "string tag not terminated");
		if (type == MB2_TAG_CMDLINE)
			out->cmdline = str;
		else
			out->loader_name = str;
		return 0;
	case MB2_TAG_MODULE:
		return parse_module(tag, size, out, err);
	case MB2_TAG_BASIC_MEMINFO:
		if (size < sizeof(struct mb2_tag_basic_meminfo))
			return reject(err, "meminfo tag too short");
		out->basic_mem_lower_kib = rd32(tag + 8);
		out->basic_mem_upper_kib = rd32(tag + 12);
		return 0;
	case MB2_TAG_MMAP:
		return parse_mmap(tag, size, out, err);
	case MB2_TAG_EFI_MMAP:
		return parse_efi_mmap(tag, size, out, err);
	case MB2_TAG_ACPI_OLD:
		/* The RSDP itself is validated by acpi_parse(), which is
		 * given its length. */
		out->rsdp_old = tag + sizeof(struct mb2_tag);
		out->rsdp_old_len = body;
		return 0;
	case MB2_TAG_ACPI_NEW:
		out->rsdp_new = tag + sizeof(struct mb2_tag);
		out->rsdp_new_len = body;
		return 0;
	case MB2_TAG_EFI64:
		if (size < sizeof(struct mb2_tag_efi64))
			return reject(err, "EFI64 tag too short");
		out->efi64 = true;
		out->efi64_system_table = rd64(tag + 8);
		return 0;
	case MB2_TAG_EFI_BS:
		out->efi_bs_not_terminated = true;
		return 0;
	default:
		return 0;
	}
}

int mb2_parse(const void *info, size_t avail, struct mb2_info *out,
	      const char **err)
{
	const uint8_t *base = info;
	uint32_t total, off;

	memset(out, 0, sizeof(*out));
	out->cmdline = "";
	out->loader_name = "";

	if (!info || (uintptr_t)info % MB2_ALIGN)
		return reject(err, "info not 8-byte aligned");
	if (avail < sizeof(struct mb2_info_header))
		return reject(err, "info header not readable");
	total = rd32(base);
	if (total < 2 * sizeof(struct mb2_tag))
		return reject(err, "total_size too small");
	if (total > avail || total > MB2_MAX_TOTAL_SIZE)
		return reject(err, "total_size too large");

	/* total <= 1 MiB, so off + size and the round-up cannot wrap. */
	off = sizeof(struct mb2_info_header);
	while (off < total) {
		const uint8_t *tag = base + off;
		uint32_t type, size;
		int ret;

		if (total - off < sizeof(struct mb2_tag))
			return reject(err, "tag header past the end");
		type = rd32(tag);
		size = rd32(tag + 4);
		if (size < sizeof(struct mb2_tag))
			return reject(err, "tag size below 8");
		if (size > total - off)
			return reject(err, "tag past the end");
		if (type == MB2_TAG_END) {
			if (size != sizeof(struct mb2_tag))
				return reject(err, "end tag size not 8");
			/* Only padding may follow, i.e. too little room
			 * for another tag. */
			if (total - off - size >= sizeof(struct mb2_tag))
				return reject(err, "data after end tag");
			out->total_size = total;
			return 0;
		}
		ret = parse_tag(tag, type, size, out, err);
		if (ret)
			return ret;
		off += (size + MB2_ALIGN - 1) & ~(MB2_ALIGN - 1);
	}
	return reject(err, "missing end tag");
}

const struct mb2_mmap_entry *mb2_mmap_entry(const struct mb2_info *mi,
					    unsigned i)
{
	if (!mi->mmap || i >= mi->mmap_count)
		return NULL;
	return (const struct mb2_mmap_entry *)
		(mi->mmap + (size_t)i * mi->mmap_entry_size);
}

const struct efi_memory_descriptor *mb2_efi_entry(const struct mb2_info *mi,
						  unsigned i)
{
	if (!mi->efi_mmap || i >= mi->efi_count)
		return NULL;
	return (const struct efi_memory_descriptor *)
		(mi->efi_mmap + (size_t)i * mi->efi_descr_size);
}

bool cmdline_has(const char *cmdline, const char *word)
{
	size_t wlen;

	if (!cmdline || !word)
		return false;
	wlen = strlen(word);
	if (!wlen)
		return false;
	while (*cmdline) {
		size_t len = 0;

		while (*cmdline == ' ')
			cmdline++;
		while (cmdline[len] && cmdline[len] != ' ')
			len++;
		if (len == wlen && !memcmp(cmdline, word, len))
			return true;
		cmdline += len;
	}
	return false;
}

const struct mb2_module *mb2_find_module(const struct mb2_info *mi,
					 const char *word)
{
	size_t n = strlen(word);

	for (unsigned i = 0; i < mi->module_count; i++) {
		const char *c = mi->modules[i].cmdline;

		if (!strncmp(c, word, n) && (c[n] == ' ' || !c[n]))
			return &mi->modules[i];
	}
	return NULL;
}

static bool is_digit(char c, unsigned base)
{
	return (c >= '0' && c <= '9') ||
	       (base == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
}

uint64_t cmdline_u64(const char *cmdline, const char *key, uint64_t def)
{
	size_t klen = strlen(key);

	for (const char *p = cmdline; p && *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen)) {
			const char *v = p + klen;
			unsigned base = 10;
			uint64_t n = 0;

			if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
				base = 16;
				v += 2;
			}
			if (!is_digit(*v, base))
				return def;
			for (; is_digit(*v, base); v++) {
				unsigned d = *v <= '9' ? (unsigned)(*v - '0') :
					     (unsigned)((*v | 0x20) - 'a' + 10);

				if (n > (UINT64_MAX - d) / base)
					return def;     /* overflow */
				n = n * base + d;
			}
			return *v == ' ' || *v == '\0' ? n : def;
		}
		while (*p && *p != ' ')
			p++;
	}
	return def;
}
