/*
 * Fuzz target: the Linux boot-protocol loader (kernel/lib/bzimage.c) on
 * arbitrary images. An accepted plan must describe a kernel part inside
 * the image, and building its zero page must read only inside it (ASan
 * sees the image as exactly `size` bytes) and never write past 4 KiB.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bzimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static uint8_t zp[BZ_ZERO_PAGE_SIZE];
	struct bz_e820 e = { 0x100000, 0x1000000, 1 };
	struct bzimage_layout l = { 0x9000, 0, 0, 0xe0000, &e, 1 };
	struct bzimage_plan p;
	const char *err;
	uint8_t *copy = malloc(n ? n : 1);

	if (!copy)
		return 0;
	memcpy(copy, d, n);
	if (bzimage_plan(copy, n, &p, &err) == 0) {
		if (p.kernel_offset + p.kernel_size > n)
			abort();
		l.initrd_gpa = bzimage_initrd_addr(&p, 256u << 20, p.needs_below, 4096);
		l.initrd_size = l.initrd_gpa ? 4096 : 0;
		if (l.initrd_gpa & 0xfff)
			abort();
		bzimage_zero_page(copy, &p, &l, zp, &err);
	}
	free(copy);
	return 0;
}
