/*
 * Host tests for the Linux boot-protocol loader (kernel/lib/bzimage.c):
 * synthetic bzImages with the setup header fields at boot.rst's offsets,
 * each refusal, the plan, initrd placement and the zero page. A real
 * Debian kernel is checked too when images/linux/build.sh has made one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bzimage.h"
#include "check.h"

static uint8_t img[0x10000];

static void w16(size_t o, uint32_t v) { img[o] = (uint8_t)v; img[o + 1] = (uint8_t)(v >> 8); }
static void w32(size_t o, uint32_t v) { w16(o, v); w16(o + 2, v >> 16); }
static uint32_t z32(const uint8_t *z, size_t o) { return z[o] | z[o + 1] << 8 | z[o + 2] << 16 | (uint32_t)z[o + 3] << 24; }

/* A bzImage: 4 setup sectors after the boot sector, protocol 2.15,
 * relocatable, 64-bit, the kernel part filling the rest. */
static size_t make(void)
{
	memset(img, 0, sizeof(img));
	img[0x1f1] = 4;
	w32(0x1f4, (uint32_t)((sizeof(img) - 5 * 512) / 16));
	w16(0x1fe, 0xaa55);
	img[0x201] = 0x6a;                      /* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	w16(0x206, 0x020f);
	img[0x211] = 0x01 | 0x80;               /* LOADED_HIGH, CAN_USE_HEAP */
	w32(0x214, 0x100000);
	w32(0x22c, 0x7fffffff);                 /* initrd_addr_max */
	w32(0x230, 0x200000);
	img[0x234] = 1;
	w16(0x236, 0x1 | 0x2);                  /* XLF_KERNEL_64, above 4G */
	w32(0x238, 2047);
	w32(0x258, 0x1000000);                  /* pref_address */
	w32(0x260, 0x2000000);                  /* init_size */
	return sizeof(img);
}

static const char *refusal(size_t size)
{
	struct bzimage_plan p;
	const char *err = NULL;

	return bzimage_plan(img, size, &p, &err) ? err : NULL;
}

int main(void)
{
	struct bzimage_plan p;
	const char *err = NULL;
	static uint8_t zp[BZ_ZERO_PAGE_SIZE];
	size_t size = make();

	CHECK(bzimage_plan(img, size, &p, &err) == 0, "a well-formed bzImage is accepted");
	CHECK(p.version == 0x020f && p.kernel_offset == 5 * 512 &&
	      p.kernel_size == size - 5 * 512 && p.entry == 0x100000,
	      "plan: protocol 2.15, kernel part at 2560, entry 1 MiB");
	CHECK(p.needs_below == 0x3000000, "needs RAM to pref_address + init_size (%#llx)",
	      (unsigned long long)p.needs_below);
	CHECK(p.cmdline_max == 2047 && p.initrd_max == 0x7fffffff, "cmdline_size and initrd_addr_max");

	make(); img[0x1f1] = 0;
	CHECK(bzimage_plan(img, size, &p, &err) == 0 && p.kernel_offset == 5 * 512,
	      "setup_sects 0 means 4");
	CHECK(refusal(0x200) != NULL, "too small: %s", refusal(0x200));
	make(); w16(0x1fe, 0);
	CHECK(refusal(size) && strstr(refusal(size), "AA55"), "no boot flag: %s", refusal(size));
	make(); img[0x202] = 'X';
	CHECK(refusal(size) && strstr(refusal(size), "HdrS"), "no HdrS: %s", refusal(size));
	make(); w16(0x206, 0x020b);
	CHECK(refusal(size) && strstr(refusal(size), "2.12"), "protocol 2.11: %s", refusal(size));
	make(); img[0x211] = 0;
	CHECK(refusal(size) && strstr(refusal(size), "zImage"), "LOADED_HIGH clear: %s", refusal(size));
	make(); w16(0x236, 0);
	CHECK(refusal(size) && strstr(refusal(size), "64-bit"), "not 64-bit: %s", refusal(size));
	make(); w32(0x1f4, (uint32_t)(size / 16));
	CHECK(refusal(size) && strstr(refusal(size), "syssize"), "syssize past the end: %s", refusal(size));
	make(); img[0x1f1] = 200;
	CHECK(refusal(size) != NULL, "setup sectors filling the image: %s", refusal(size));
	make(); img[0x201] = 0x10;
	CHECK(refusal(size) && strstr(refusal(size), "header"), "header ending before init_size: %s",
	      refusal(size));
	make(); w32(0x230, 0x300000);
	CHECK(refusal(size) && strstr(refusal(size), "power of two"), "alignment 3 MiB: %s", refusal(size));

	make();
	bzimage_plan(img, size, &p, &err);
	CHECK(bzimage_initrd_addr(&p, 256u << 20, p.needs_below, 0x123456) ==
	      (((256u << 20) - 0x123456) & ~0xfffu), "initrd: page-aligned at the top of RAM");
	p.initrd_max = 0x7ffffff;
	CHECK(bzimage_initrd_addr(&p, 1ull << 32, p.needs_below, 4096) == 0x8000000 - 4096,
	      "initrd: under initrd_addr_max when RAM goes higher");
	CHECK(bzimage_initrd_addr(&p, 64u << 20, 60u << 20, 8u << 20) == 0,
	      "initrd: 0 when it would go below the floor");
	CHECK(bzimage_initrd_addr(&p, 64u << 20, 0, ~0ull) == 0 &&
	      bzimage_initrd_addr(&p, 64u << 20, 0, 0) == 0, "initrd: huge and empty sizes refused");

	{
		struct bz_e820 e[3] = { { 0, 0x9f000, 1 }, { 0x9f000, 0x61000, 2 },
					{ 0x100000, 0xff00000, 1 } };
		struct bzimage_layout l = { 0x9000, 0xf000000, 0x10000, 0xe0000, e, 3 };

		make();
		img[0x210] = 0x42;
		img[0x211] |= 0x20 | 0x40;              /* QUIET, KEEP_SEGMENTS */
		bzimage_plan(img, size, &p, &err);
		CHECK(bzimage_zero_page(img, &p, &l, zp, &err) == 0, "zero page built");
		CHECK(!memcmp(zp + 0x202, "HdrS", 4) && z32(zp, 0x258) == 0x1000000,
		      "setup header copied to 0x1f1");
		CHECK(zp[0x210] == 0xff && (zp[0x211] & 0xe1) == 0x01,
		      "type_of_loader 0xff; QUIET, KEEP_SEGMENTS, CAN_USE_HEAP cleared");
		CHECK(z32(zp, 0x228) == 0x9000 && z32(zp, 0x218) == 0xf000000 &&
		      z32(zp, 0x21c) == 0x10000 && z32(zp, 0x70) == 0xe0000,
		      "cmd_line_ptr, ramdisk image/size, acpi_rsdp_addr");
		CHECK(zp[0x1e8] == 3 && z32(zp, 0x2d0 + 20 + 8) == 0x61000 &&
		      z32(zp, 0x2d0 + 40 + 16) == 1, "e820: 3 entries at 0x2d0");
		l.e820_count = BZ_E820_MAX + 1;
		CHECK(bzimage_zero_page(img, &p, &l, zp, &err) == -1, "129 e820 entries refused: %s", err);
		l.e820_count = 3;
		w16(0x206, 0x020d);
		bzimage_plan(img, size, &p, &err);
		bzimage_zero_page(img, &p, &l, zp, &err);
		CHECK(z32(zp, 0x70) == 0, "protocol 2.13: no acpi_rsdp_addr written");
		make();
		img[0x201] = 0xff;                      /* header "ends" at 0x301 */
		memset(img + 0x290, 0xee, 0x80);
		bzimage_plan(img, size, &p, &err);
		bzimage_zero_page(img, &p, &l, zp, &err);
		CHECK(zp[0x290] == 0 && z32(zp, 0x2d0 + 8) == 0x9f000,
		      "a forged header end past 0x290 does not spill into the zero page's tables");
	}

	{
		FILE *f = fopen("out/linux/vmlinuz", "rb");
		static uint8_t k[16 << 20];
		size_t n = f ? fread(k, 1, sizeof(k), f) : 0;

		if (f)
			fclose(f);
		if (!n)
			printf("# SKIP a real kernel: no out/linux/vmlinuz (images/linux/build.sh)\n");
		else
			CHECK(bzimage_plan(k, n, &p, &err) == 0 && p.version >= 0x020c &&
			      p.needs_below > p.load_addr,
			      "Debian's kernel: protocol %u.%02u, needs RAM to %llu MiB",
			      p.version >> 8, p.version & 0xff,
			      (unsigned long long)(p.needs_below >> 20));
	}
	return done_testing();
}
