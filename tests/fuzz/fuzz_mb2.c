/*
 * Fuzz target: the input is a multiboot2 information structure. Whatever
 * mb2_parse() accepts must be safe to use as documented: every pointer it
 * returns lies inside the structure and every string ends inside it. A
 * broken promise is an abort(), which the driver reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <isovisor/multiboot2.h>
#include "acpi.h"
#include "mb2.h"

static const uint8_t *lo, *hi;

static void inside(const void *p, size_t len)
{
	const uint8_t *b = p;

	if (b < lo || b > hi || len > (size_t)(hi - b))
		abort();
}

static void string_inside(const char *s)
{
	/* Empty strings for absent tags are literals outside the info. */
	if (!*s && ((const uint8_t *)s < lo || (const uint8_t *)s >= hi))
		return;
	inside(s, strlen(s) + 1);
}

static const void *no_memory(uint64_t phys, size_t len, void *ctx)
{
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mb2_info mi;
	struct acpi_info *ai;
	const char *err = NULL;
	uint8_t *copy;
	uint64_t sum = 0;
	unsigned i;

	/* Exactly `size` bytes, 8-aligned as the loader guarantees. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (mb2_parse(copy, size, &mi, &err)) {
		if (!err || !*err)
			abort();
		free(copy);
		return 0;
	}
	lo = copy;
	hi = copy + mi.total_size;
	if (mi.total_size > size)
		abort();

	string_inside(mi.cmdline);
	string_inside(mi.loader_name);
	if (mi.module_count > MB2_MAX_MODULES)
		abort();
	for (i = 0; i < mi.module_count; i++) {
		if (mi.modules[i].start > mi.modules[i].end)
			abort();
		string_inside(mi.modules[i].cmdline);
	}
	if (mi.mmap) {
		if (mi.mmap_entry_size < 24 || mi.mmap_entry_size % 8)
			abort();
		inside(mi.mmap, (size_t)mi.mmap_count * mi.mmap_entry_size);
		for (i = 0; i < mi.mmap_count; i++)
			sum += mb2_mmap_entry(&mi, i)->addr +
			       mb2_mmap_entry(&mi, i)->len;
		if (mb2_mmap_entry(&mi, mi.mmap_count))
			abort();
	}
	if (mi.efi_mmap) {
		if (mi.efi_descr_size < 40 || mi.efi_descr_size % 8)
			abort();
		inside(mi.efi_mmap, (size_t)mi.efi_count * mi.efi_descr_size);
		for (i = 0; i < mi.efi_count; i++)
			sum += mb2_efi_entry(&mi, i)->number_of_pages;
	}
	(void)sum;
	cmdline_has(mi.cmdline, "test");
	cmdline_has(mi.cmdline, mi.loader_name);

	/* The RSDP copies go to the ACPI parser with their tag's length;
	 * no physical memory, so only the RSDP checks run. */
	ai = malloc(sizeof(*ai));
	if (ai) {
		if (mi.rsdp_new) {
			inside(mi.rsdp_new, mi.rsdp_new_len);
			acpi_parse(mi.rsdp_new, mi.rsdp_new_len, no_memory,
				   NULL, ai, NULL, &err);
		}
		if (mi.rsdp_old) {
			inside(mi.rsdp_old, mi.rsdp_old_len);
			acpi_parse(mi.rsdp_old, mi.rsdp_old_len, no_memory,
				   NULL, ai, NULL, &err);
		}
		free(ai);
	}
	free(copy);
	return 0;
}

/* ---- seeds: well-formed structures the mutations start from ---------- */

struct builder {
	uint8_t *buf;
	size_t cap;
	size_t off;
};

static uint8_t *tag(struct builder *b, uint32_t type, uint32_t size)
{
	uint8_t *t = b->buf + b->off;
	size_t step = (size + 7) & ~7u;

	if (b->off + step > b->cap)
		return NULL;
	memset(t, 0, step);
	memcpy(t, &type, 4);
	memcpy(t + 4, &size, 4);
	b->off += step;
	return t;
}

static void string(struct builder *b, uint32_t type, const char *s)
{
	uint32_t len = strlen(s) + 1;
	uint8_t *t = tag(b, type, 8 + len);

	if (t)
		memcpy(t + 8, s, len);
}

static void module(struct builder *b, uint32_t start, uint32_t end,
		   const char *cmdline)
{
	uint32_t len = strlen(cmdline) + 1;
	uint8_t *t = tag(b, MB2_TAG_MODULE, 16 + len);

	if (!t)
		return;
	memcpy(t + 8, &start, 4);
	memcpy(t + 12, &end, 4);
	memcpy(t + 16, cmdline, len);
}

static size_t finish(struct builder *b)
{
	uint32_t total;

	if (!tag(b, MB2_TAG_END, 8))
		return 0;
	total = (uint32_t)b->off;
	memcpy(b->buf, &total, 4);
	memset(b->buf + 4, 0, 4);
	return b->off;
}

static void rsdp(uint8_t *r, uint8_t rev)
{
	uint32_t rsdt = 0xe0000, len = 36;
	uint64_t xsdt = 0xe0100;
	uint8_t sum = 0;

	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "ISOVSR", 6);
	r[15] = rev;
	memcpy(r + 16, &rsdt, 4);
	for (int i = 0; i < 20; i++)
		sum += r[i];
	r[8] = (uint8_t)-sum;
	if (rev < 2)
		return;
	memcpy(r + 20, &len, 4);
	memcpy(r + 24, &xsdt, 8);
	sum = 0;
	for (int i = 0; i < 36; i++)
		sum += r[i];
	r[32] = (uint8_t)-sum;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	struct builder b = { buf, cap, 8 };
	uint8_t *t;

	switch (i) {
	case 0: {               /* a BIOS machine booted by GRUB */
		static const struct mb2_mmap_entry mm[4] = {
			{ 0, 0x9fc00, 1, 0 }, { 0x9fc00, 0x400, 2, 0 },
			{ 0x100000, 0x7fee0000, 1, 0 },
			{ 0xfffc0000, 0x40000, 2, 0 },
		};

		string(&b, MB2_TAG_CMDLINE, "console=com1 test");
		string(&b, MB2_TAG_LOADER_NAME, "GRUB 2.06");
		module(&b, 0x400000, 0x480000, "root.elf");
		module(&b, 0x480000, 0x490000, "guest.bin arg=1");
		t = tag(&b, MB2_TAG_BASIC_MEMINFO, 16);
		if (t) {
			uint32_t lower = 639, upper = 2096000;

			memcpy(t + 8, &lower, 4);
			memcpy(t + 12, &upper, 4);
		}
		t = tag(&b, MB2_TAG_MMAP, 16 + sizeof(mm));
		if (t) {
			uint32_t esz = 24;

			memcpy(t + 8, &esz, 4);
			memcpy(t + 16, mm, sizeof(mm));
		}
		t = tag(&b, MB2_TAG_ACPI_OLD, 8 + 20);
		if (t)
			rsdp(t + 8, 0);
		return finish(&b);
	}
	case 1: {               /* a UEFI machine */
		static const struct efi_memory_descriptor d[4] = {
			{ EFI_CONVENTIONAL_MEMORY, 0, 0x1000, 0, 0x9f, 0 },
			{ EFI_BOOT_SERVICES_DATA, 0, 0x100000, 0, 0x700, 0 },
			{ EFI_RUNTIME_SERVICES_DATA, 0, 0x800000, 0, 0x10, 0 },
			{ EFI_CONVENTIONAL_MEMORY, 0, 0x100000000ull, 0,
			  0x40000, 0 },
		};
		uint64_t st = 0x7fe00000;

		string(&b, MB2_TAG_CMDLINE, "");
		t = tag(&b, MB2_TAG_EFI64, 16);
		if (t)
			memcpy(t + 8, &st, 8);
		t = tag(&b, MB2_TAG_EFI_MMAP, 16 + sizeof(d));
		if (t) {
			uint32_t dsz = 40, ver = 1;

			memcpy(t + 8, &dsz, 4);
			memcpy(t + 12, &ver, 4);
			memcpy(t + 16, d, sizeof(d));
		}
		tag(&b, MB2_TAG_EFI_BS, 8);
		t = tag(&b, MB2_TAG_ACPI_NEW, 8 + 36);
		if (t)
			rsdp(t + 8, 2);
		return finish(&b);
	}
	case 2:                 /* the smallest valid structure */
		return finish(&b);
	default:
		return 0;
	}
}
