/* Fuzz target for kernel/lib/elf.c: any image either is refused or yields
 * a plan whose every segment lies inside the image it came from. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_plan plan;
	const char *err;

	if (elf_plan(data, size, &plan, &err))
		return 0;
	if (!plan.count || plan.count > ELF_MAX_SEGMENTS)
		abort();
	for (unsigned i = 0; i < plan.count; i++) {
		const struct elf_segment *s = &plan.seg[i];

		if (s->offset > size || s->filesz > size - s->offset ||
		    s->filesz > s->memsz || s->paddr < plan.lowest ||
		    s->paddr + s->memsz > plan.highest)
			abort();
	}
	if (plan.entry < plan.lowest || plan.entry >= plan.highest)
		abort();
	if (plan.mb2_header_offset >= (int64_t)size)
		abort();
	return 0;
}

/* One valid two-segment image to mutate. */
size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	static const uint8_t hdr[64] = {
		0x7f, 'E', 'L', 'F', 2, 1, 1, 0, [16] = 2, 0, 62, 0, 1, 0, 0, 0,
		[24] = 0x10, 0, 0, 1, [32] = 64, [52] = 64, 0, 56, 0, 2, 0,
	};
	uint8_t ph[2][56] = { { 0 } };
	size_t size = 0x2000;

	if (i > 0 || cap < size)
		return 0;
	memset(buf, 0, size);
	memcpy(buf, hdr, sizeof(hdr));
	ph[0][0] = 1;
	ph[0][9] = 0x10;                        /* offset 0x1000 */
	ph[0][27] = 1;                          /* paddr 0x1000000 */
	ph[0][33] = 0x08;                       /* filesz 0x800 */
	ph[0][41] = 0x08;                       /* memsz 0x800 */
	ph[1][0] = 1;
	ph[1][9] = 0x18;
	ph[1][26] = 0x10;
	ph[1][27] = 1;                          /* paddr 0x1001000 */
	ph[1][33] = 0x01;
	ph[1][41] = 0x40;
	memcpy(buf + 64, ph, sizeof(ph));
	return size;
}
