/* ELF64 load planning; see elf.h. The image is untrusted input: every
 * offset and size is checked against the image before it is used. */
#include <string.h>
#include <isovisor/multiboot2.h>
#include "elf.h"

#define EI_NIDENT 16
#define PT_LOAD 1
#define ET_EXEC 2
#define EM_X86_64 62

struct elf64_ehdr {
	unsigned char e_ident[EI_NIDENT];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ehdr");
_Static_assert(sizeof(struct elf64_phdr) == 56, "phdr");

static int fail(const char **err, const char *why)
{
	*err = why;
	return -1;
}

/* [off, off+len) lies within size, without overflow. */
static int inside(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static int64_t find_mb2_header(const uint8_t *img, size_t size)
{
	size_t limit = size < 32768 ? size : 32768;

	for (size_t off = 0; off + 16 <= limit; off += 8) {
		uint32_t h[4];

		memcpy(h, img + off, sizeof(h));
		if (h[0] == MB2_HEADER_MAGIC && h[2] >= 16 &&
		    (uint32_t)(h[0] + h[1] + h[2] + h[3]) == 0)
			return (int64_t)off;
	}
	return -1;
}

/* Multiboot 1: magic, flags, checksum summing to 0, 4-aligned, in the
 * first 8 KiB. */
static int64_t find_mb1_header(const uint8_t *img, size_t size)
{
	size_t limit = size < 8192 ? size : 8192;

	for (size_t off = 0; off + 12 <= limit; off += 4) {
		uint32_t h[3];

		memcpy(h, img + off, sizeof(h));
		if (h[0] == 0x1badb002 && (uint32_t)(h[0] + h[1] + h[2]) == 0)
			return (int64_t)off;
	}
	return -1;
}

int elf_plan(const void *image, size_t size, struct elf_plan *plan,
	     const char **err)
{
	const uint8_t *img = image;
	struct elf64_ehdr eh;

	memset(plan, 0, sizeof(*plan));
	plan->lowest = UINT64_MAX;
	if (size < sizeof(eh))
		return fail(err, "image shorter than an ELF header");
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, "\177ELF", 4) || eh.e_ident[4] != 2 ||
	    eh.e_ident[5] != 1)
		return fail(err, "not a 64-bit little-endian ELF image");
	if (eh.e_type != ET_EXEC || eh.e_machine != EM_X86_64)
		return fail(err, "not an x86-64 executable");
	if (eh.e_phentsize != sizeof(struct elf64_phdr) || !eh.e_phnum)
		return fail(err, "bad program header table");
	if (!inside(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(struct elf64_phdr),
		    size))
		return fail(err, "program headers past the end of the image");
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct elf64_phdr ph;
		struct elf_segment *s;

		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (plan->count == ELF_MAX_SEGMENTS)
			return fail(err, "too many loadable segments");
		if (ph.p_filesz > ph.p_memsz)
			return fail(err, "segment file size exceeds its memory size");
		if (!inside(ph.p_offset, ph.p_filesz, size))
			return fail(err, "segment data past the end of the image");
		if (ph.p_paddr + ph.p_memsz < ph.p_paddr)
			return fail(err, "segment address range wraps");
		for (unsigned j = 0; j < plan->count; j++) {
			const struct elf_segment *o = &plan->seg[j];

			if (ph.p_paddr < o->paddr + o->memsz &&
			    o->paddr < ph.p_paddr + ph.p_memsz)
				return fail(err, "segments overlap");
		}
		s = &plan->seg[plan->count++];
		s->paddr = ph.p_paddr;
		s->offset = ph.p_offset;
		s->filesz = ph.p_filesz;
		s->memsz = ph.p_memsz;
		if (s->paddr < plan->lowest)
			plan->lowest = s->paddr;
		if (s->paddr + s->memsz > plan->highest)
			plan->highest = s->paddr + s->memsz;
	}
	if (!plan->count)
		return fail(err, "no loadable segment");
	if (eh.e_entry < plan->lowest || eh.e_entry >= plan->highest)
		return fail(err, "entry point outside the loaded image");
	plan->entry = eh.e_entry;
	plan->mb2_header_offset = find_mb2_header(img, size);
	plan->mb1_header_offset = find_mb1_header(img, size);
	return 0;
}
