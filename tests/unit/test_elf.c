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
	CHECK(r == -1, "32-bit ELF refused (%s)", err);
	make(&im);
	im.b[0] = 'X';
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "bad magic refused");
	make(&im);
	eh(&im)->machine = 3;
	r = plan_of(&im, sizeof(im.b));
	CHECK(r == -1, "i386 machine refused (%s)", err);
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
	return done_testing();
}
