/* ELF64 and ELF32 load planning, multiboot (1) headers; see elf.h. The image is untrusted input: every
 * offset and size is checked against the image before it is used. */
#include <string.h>
#include <isovisor/multiboot2.h>
#include "elf.h"

#define EI_NIDENT 16
#define PT_LOAD 1
#define ET_EXEC 2
#define EM_X86_64 62
#define EM_386 3

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

struct elf32_ehdr {
	unsigned char e_ident[EI_NIDENT];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint32_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf32_phdr {
	uint32_t p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align;
};

_Static_assert(sizeof(struct elf32_ehdr) == 52, "ehdr32");
_Static_assert(sizeof(struct elf32_phdr) == 32, "phdr32");
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

/* The header fields elf_plan uses, from either class. */
struct ehdr_view {
	uint64_t entry, phoff;
	uint16_t type, machine, phentsize, phnum;
	bool elf32;
};

static int read_ehdr(const uint8_t *img, size_t size, struct ehdr_view *v,
		     const char **err)
{
	if (size < EI_NIDENT || memcmp(img, "\177ELF", 4) || img[5] != 1)
		return fail(err, "not a little-endian ELF image");
	if (img[4] == 2) {
		struct elf64_ehdr eh;

		if (size < sizeof(eh))
			return fail(err, "image shorter than an ELF header");
		memcpy(&eh, img, sizeof(eh));
		*v = (struct ehdr_view){ eh.e_entry, eh.e_phoff, eh.e_type, eh.e_machine,
					 eh.e_phentsize, eh.e_phnum, false };
		if (v->machine != EM_X86_64)
			return fail(err, "not an x86-64 executable");
		if (v->phentsize != sizeof(struct elf64_phdr))
			return fail(err, "bad program header table");
	} else if (img[4] == 1) {
		struct elf32_ehdr eh;

		if (size < sizeof(eh))
			return fail(err, "image shorter than an ELF header");
		memcpy(&eh, img, sizeof(eh));
		*v = (struct ehdr_view){ eh.e_entry, eh.e_phoff, eh.e_type, eh.e_machine,
					 eh.e_phentsize, eh.e_phnum, true };
		if (v->machine != EM_386)
			return fail(err, "not an i386 executable");
		if (v->phentsize != sizeof(struct elf32_phdr))
			return fail(err, "bad program header table");
	} else {
		return fail(err, "not a 32- or 64-bit ELF image");
	}
	if (v->type != ET_EXEC)
		return fail(err, "not an executable (ET_EXEC)");
	if (!v->phnum)
		return fail(err, "bad program header table");
	return 0;
}

static void read_phdr(const uint8_t *img, const struct ehdr_view *v, unsigned i,
		      struct elf64_phdr *ph)
{
	if (v->elf32) {
		struct elf32_phdr p;

		memcpy(&p, img + v->phoff + i * sizeof(p), sizeof(p));
		*ph = (struct elf64_phdr){ p.p_type, p.p_flags, p.p_offset, p.p_vaddr,
					   p.p_paddr, p.p_filesz, p.p_memsz, p.p_align };
	} else {
		memcpy(ph, img + v->phoff + i * sizeof(*ph), sizeof(*ph));
	}
}

int64_t mb1_find_header(const void *image, size_t size)
{
	return find_mb1_header(image, size);
}

int mb1_plan(const void *image, size_t size, int64_t off, struct elf_plan *plan,
	     const char **err)
{
	const uint8_t *img = image;
	struct mb1_header h;
	uint64_t start, filesz, memsz;

	memset(&h, 0, sizeof(h));
	if (off < 0 || (uint64_t)off + 12 > size)
		return fail(err, "no multiboot header");
	memcpy(&h, img + off, size - (size_t)off < sizeof(h) ? size - (size_t)off : sizeof(h));
	if (h.flags & 0x0000fff8u)
		return fail(err, "the multiboot header asks for a feature we do not "
			    "have (flag bits 3-15)");
	if (!(h.flags & MB1_FLAG_AOUT_KLUDGE))
		return 0;
	if ((uint64_t)off + 32 > size)
		return fail(err, "the multiboot header's address fields are past the image");
	if (h.load_addr > h.header_addr || h.header_addr - h.load_addr > (uint64_t)off)
		return fail(err, "multiboot load_addr is not at or before header_addr "
			    "within the file");
	start = (uint64_t)off - (h.header_addr - h.load_addr);
	if (h.load_end_addr) {
		if (h.load_end_addr <= h.load_addr)
			return fail(err, "multiboot load_end_addr is not past load_addr");
		filesz = h.load_end_addr - h.load_addr;
		if (!inside(start, filesz, size))
			return fail(err, "multiboot load_end_addr is past the end of the file");
	} else {
		filesz = size - start;
	}
	memsz = filesz;
	if (h.bss_end_addr) {
		if (h.bss_end_addr < h.load_addr + filesz)
			return fail(err, "multiboot bss_end_addr is before the end of the load");
		memsz = h.bss_end_addr - h.load_addr;
	}
	if (h.entry_addr < h.load_addr || h.entry_addr >= h.load_addr + filesz)
		return fail(err, "multiboot entry_addr is outside what is loaded");
	memset(plan->seg, 0, sizeof(plan->seg));
	plan->seg[0] = (struct elf_segment){ h.load_addr, start, filesz, memsz };
	plan->count = 1;
	plan->entry = h.entry_addr;
	plan->lowest = h.load_addr;
	plan->highest = h.load_addr + memsz;
	plan->mb1_header_offset = off;
	return 0;
}

int elf_plan(const void *image, size_t size, struct elf_plan *plan,
	     const char **err)
{
	const uint8_t *img = image;
	struct ehdr_view eh;

	memset(plan, 0, sizeof(*plan));
	plan->lowest = UINT64_MAX;
	plan->mb2_header_offset = plan->mb1_header_offset = -1;
	if (read_ehdr(img, size, &eh, err))
		return -1;
	plan->elf32 = eh.elf32;
	if (!inside(eh.phoff, (uint64_t)eh.phnum * eh.phentsize, size))
		return fail(err, "program headers past the end of the image");
	for (unsigned i = 0; i < eh.phnum; i++) {
		struct elf64_phdr ph;
		struct elf_segment *s;

		read_phdr(img, &eh, i, &ph);
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
	if (eh.entry < plan->lowest || eh.entry >= plan->highest)
		return fail(err, "entry point outside the loaded image");
	plan->entry = eh.entry;
	plan->mb2_header_offset = find_mb2_header(img, size);
	plan->mb1_header_offset = find_mb1_header(img, size);
	return 0;
}
