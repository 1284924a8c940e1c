/*
 * Host tests for kernel/lib/elf.c: partition kernel images are untrusted
 * input, so every malformed header must be refused before anything is
 * loaded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <isovisor/multiboot2.h>
#include "check.h"
#include "elf.h"

struct image {
	uint8_t b[8192];
};

struct ehdr {
	unsigned char ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static struct ehdr *eh(struct image *im)
{
	return (struct ehdr *)im->b;
}

static struct phdr *ph(struct image *im, unsigned i)
{
	return (struct phdr *)(im->b + 64 + i * 56);
}

/* A valid image: two PT_LOAD segments and a multiboot2 header at 0x1000. */
static void make(struct image *im)
{
	uint32_t mb[4] = { MB2_HEADER_MAGIC, 0, 16, 0 };

	memset(im, 0, sizeof(*im));
	memcpy(eh(im)->ident, "\177ELF\2\1\1", 7);
	eh(im)->type = 2;
	eh(im)->machine = 62;
	eh(im)->version = 1;
	eh(im)->entry = 0x1000010;
	eh(im)->phoff = 64;
	eh(im)->ehsize = 64;
	eh(im)->phentsize = 56;
	eh(im)->phnum = 3;
	*ph(im, 0) = (struct phdr){ 1, 5, 0x1000, 0x1000000, 0x1000000, 0x800, 0x800, 0x1000 };
	*ph(im, 1) = (struct phdr){ 1, 6, 0x1800, 0x1001000, 0x1001000, 0x100, 0x4000, 0x1000 };
	*ph(im, 2) = (struct phdr){ 4, 4, 0, 0, 0, 0, 0, 0 };    /* PT_NOTE */
	mb[3] = -(mb[0] + mb[1] + mb[2]);
	memcpy(im->b + 0x1000, mb, sizeof(mb));
}

static struct elf_plan plan;
static const char *err;

/* Run the planner first, so the description can show its reason. */
static int plan_of(const struct image *im, size_t size)
{
	err = "";
	return elf_plan(im->b, size, &plan, &err);
}

static void put32le(uint8_t *p, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

static void put16le(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* An ELF32 i386 executable: one PT_LOAD of 0x200 bytes at 2 MiB (bss to
 * 0x1000), entry 2 MiB + 0x10, a multiboot (1) header at 0x40. */
static uint8_t e32[0x400];

static void make32(void)
{
	memset(e32, 0, sizeof(e32));
	memcpy(e32, "\177ELF", 4);
	e32[4] = 1;                             /* ELFCLASS32 */
	e32[5] = 1;
	e32[6] = 1;
	put16le(e32 + 16, 2);                   /* ET_EXEC */
	put16le(e32 + 18, 3);                   /* EM_386 */
	put32le(e32 + 20, 1);
	put32le(e32 + 24, 0x200010);            /* entry */
	put32le(e32 + 28, 52);                  /* phoff */
	put16le(e32 + 40, 52);
	put16le(e32 + 42, 32);                  /* phentsize */
	put16le(e32 + 44, 1);                   /* phnum */
	put32le(e32 + 52, 1);                   /* PT_LOAD */
	put32le(e32 + 56, 0);                   /* offset */
	put32le(e32 + 60, 0x200000);            /* vaddr */
	put32le(e32 + 64, 0x200000);            /* paddr */
	put32le(e32 + 68, 0x200);               /* filesz */
	put32le(e32 + 72, 0x1000);              /* memsz */
	put32le(e32 + 0x100, MB1_HEADER_MAGIC);
	put32le(e32 + 0x104, 3);
	put32le(e32 + 0x108, -(MB1_HEADER_MAGIC + 3));
}

static void elf32_tests(void)
{
	make32();
	CHECK(elf_plan(e32, sizeof(e32), &plan, &err) == 0 && plan.elf32 &&
	      plan.count == 1 && plan.entry == 0x200010 && plan.seg[0].paddr == 0x200000 &&
	      plan.seg[0].filesz == 0x200 && plan.seg[0].memsz == 0x1000 &&
	      plan.mb1_header_offset == 0x100 && plan.mb2_header_offset == -1,
	      "ELF32 i386: one segment, its entry, the multiboot (1) header");
	put16le(e32 + 42, 56);
	CHECK(elf_plan(e32, sizeof(e32), &plan, &err) == -1,
	      "ELF32 with a 64-bit phentsize refused (%s)", err);
	make32();
	put32le(e32 + 68, 0x2000);
	CHECK(elf_plan(e32, sizeof(e32), &plan, &err) == -1,
	      "ELF32 filesz past the file refused (%s)", err);
	make32();
	put32le(e32 + 24, 0x300000);
	CHECK(elf_plan(e32, sizeof(e32), &plan, &err) == -1,
	      "ELF32 entry outside refused (%s)", err);
}

/* A flat image with the a.out kludge: header at 0x20, loaded at 1 MiB. */
static uint8_t flat[0x300];

static void make_flat(uint32_t flags, uint32_t hdr, uint32_t load, uint32_t load_end,
		      uint32_t bss_end, uint32_t entry)
{
	memset(flat, 0x90, sizeof(flat));
	put32le(flat + 0x20, MB1_HEADER_MAGIC);
	put32le(flat + 0x24, flags);
	put32le(flat + 0x28, -(MB1_HEADER_MAGIC + flags));
	put32le(flat + 0x2c, hdr);
	put32le(flat + 0x30, load);
	put32le(flat + 0x34, load_end);
	put32le(flat + 0x38, bss_end);
	put32le(flat + 0x3c, entry);
}

static void mb1_tests(void)
{
	struct elf_plan p;
	int64_t off;

	make_flat(0x10003, 0x100020, 0x100000, 0x100200, 0x101000, 0x100040);
	off = mb1_find_header(flat, sizeof(flat));
	memset(&p, 0, sizeof(p));
	CHECK(off == 0x20 && mb1_plan(flat, sizeof(flat), off, &p, &err) == 0 &&
	      p.count == 1 && p.seg[0].paddr == 0x100000 && p.seg[0].offset == 0 &&
	      p.seg[0].filesz == 0x200 && p.seg[0].memsz == 0x1000 && p.entry == 0x100040,
	      "a.out kludge: load 0x200 bytes at 1 MiB, bss to 0x101000, entry");
	make_flat(0x10003, 0x100140, 0x100100, 0, 0, 0x100140);
	memset(&p, 0, sizeof(p));
	CHECK(mb1_plan(flat, sizeof(flat), 0x20, &p, &err) == -1,
	      "a.out kludge: load_addr more bytes before the header than the file has: "
	      "refused (%s)", err);
	make_flat(0x10003, 0x100020, 0x100000, 0, 0, 0x100040);
	memset(&p, 0, sizeof(p));
	CHECK(mb1_plan(flat, sizeof(flat), 0x20, &p, &err) == 0 &&
	      p.seg[0].filesz == sizeof(flat) && p.seg[0].memsz == sizeof(flat),
	      "a.out kludge: load_end 0 loads the whole file, bss_end 0 none");
	make_flat(0x10003, 0x100020, 0x100000, 0x100400, 0, 0x100040);
	CHECK(mb1_plan(flat, sizeof(flat), 0x20, &p, &err) == -1,
	      "a.out kludge: load_end past the file refused (%s)", err);
	make_flat(0x10003, 0x100020, 0x100000, 0x100200, 0x100100, 0x100040);
	CHECK(mb1_plan(flat, sizeof(flat), 0x20, &p, &err) == -1,
	      "a.out kludge: bss_end before load_end refused (%s)", err);
	make_flat(0x10003, 0x100020, 0x100000, 0x100200, 0, 0x100300);
	CHECK(mb1_plan(flat, sizeof(flat), 0x20, &p, &err) == -1,
	      "a.out kludge: entry outside the load refused (%s)", err);
	make_flat(0x10003, 0x100020, 0x100040, 0x100200, 0, 0x100040);
	CHECK(mb1_plan(flat, sizeof(flat), 0x20, &p, &err) == -1,
	      "a.out kludge: load_addr above header_addr refused (%s)", err);
	make_flat(0x00013, 0x100020, 0x100000, 0x100200, 0, 0x100040);
	CHECK(mb1_plan(flat, sizeof(flat), 0x20, &p, &err) == -1,
	      "a required flag we do not have (bit 4) refused (%s)", err);
	make_flat(0x00003, 0, 0, 0, 0, 0);
	memset(&p, 0, sizeof(p));
	CHECK(mb1_plan(flat, sizeof(flat), 0x20, &p, &err) == 0 && p.count == 0,
	      "no kludge: the plan is left to the ELF headers");
	make_flat(0x10003, 0x100020, 0x100000, 0x100200, 0, 0x100040);
	put32le(flat + 0x28, 0);
	CHECK(mb1_find_header(flat, sizeof(flat)) == -1, "a bad checksum: no header");
}

int main(void)
{
	struct image im;
	int r;

	make(&im);
	CHECK(elf_plan(im.b, sizeof(im.b), &plan, &err) == 0, "a valid image is accepted");
	CHECK(plan.count == 2, "two loadable segments, the note skipped");
	CHECK(plan.entry == 0x1000010, "entry point");
	CHECK(plan.lowest == 0x1000000 && plan.highest == 0x1005000, "covered range");
	CHECK(plan.seg[1].filesz == 0x100 && plan.seg[1].memsz == 0x4000, "bss part kept");
	CHECK(plan.mb2_header_offset == 0x1000, "multiboot2 header found at 0x1000");

	make(&im);
	memset(im.b + 0x1000, 0, 16);
	CHECK(elf_plan(im.b, sizeof(im.b), &plan, &err) == 0 &&
	      plan.mb2_header_offset == -1, "no multiboot2 header is reported as -1");

	make(&im);
	r = plan_of(&im, 63);
	CHECK(r == -1, "shorter than a header: refused (%s)", err);
	make(&im);
	im.b[4] = 1;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "ELF32 class with an x86-64 machine refused (%s)", err);
	make(&im);
	im.b[0] = 'X';
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "bad magic refused");
	make(&im);
	eh(&im)->machine = 3;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "ELF64 class with the i386 machine refused (%s)", err);
	make(&im);
	eh(&im)->type = 3;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "ET_DYN refused");
	make(&im);
	eh(&im)->phentsize = 32;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "wrong phentsize refused (%s)", err);
	make(&im);
	eh(&im)->phoff = sizeof(im.b) - 100;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "headers past the end refused (%s)", err);
	make(&im);
	eh(&im)->phoff = UINT64_MAX - 10;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "header offset that wraps refused");
	make(&im);
	eh(&im)->phnum = 0xffff;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "65535 headers past the end refused");
	make(&im);
	ph(&im, 0)->offset = sizeof(im.b) - 0x10;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "segment data past the end refused (%s)", err);
	make(&im);
	ph(&im, 0)->offset = UINT64_MAX - 0x10;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "segment offset that wraps refused");
	make(&im);
	ph(&im, 1)->filesz = 0x5000;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "filesz > memsz refused (%s)", err);
	make(&im);
	ph(&im, 1)->paddr = UINT64_MAX - 0x100;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "address range that wraps refused (%s)", err);
	make(&im);
	ph(&im, 1)->paddr = 0x1000400;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "overlapping segments refused (%s)", err);
	make(&im);
	ph(&im, 0)->type = 4;
	ph(&im, 1)->type = 4;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "no PT_LOAD refused (%s)", err);
	make(&im);
	eh(&im)->entry = 0x2000000;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "entry outside the image refused (%s)", err);
	make(&im);
	eh(&im)->phnum = 12;
	for (unsigned i = 0; i < 12; i++)
		*ph(&im, i) = (struct phdr){ 1, 5, 0x1000, 0, 0x1000000 + i * 0x1000, 0x10, 0x10, 0 };
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "more than %u segments refused (%s)",
	      ELF_MAX_SEGMENTS, err);
	elf32_tests();
	mb1_tests();
	return done_testing();
}
