/*
 * Host tests for the multiboot2 parser (kernel/lib/mb2.c). Each input is
 * built in memory, then copied into a heap block of exactly `avail` bytes
 * so AddressSanitizer reports any read past what the parser may touch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <isovisor/multiboot2.h>
#include "check.h"
#include "mb2.h"

struct mb {
	uint64_t buf[1024];             /* 8 KiB, 8-byte aligned */
	uint32_t off;
};

static uint8_t *mb_bytes(struct mb *b)
{
	return (uint8_t *)b->buf;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void mb_init(struct mb *b)
{
	memset(b->buf, 0, sizeof(b->buf));
	b->off = 8;
}

/* Append a tag header with `size`; the body is zeroed. */
static uint8_t *mb_tag(struct mb *b, uint32_t type, uint32_t size)
{
	uint8_t *t = mb_bytes(b) + b->off;

	put32(t, type);
	put32(t + 4, size);
	b->off += (size + 7) & ~7u;
	return t;
}

static void mb_string(struct mb *b, uint32_t type, const char *s)
{
	uint32_t len = strlen(s) + 1;

	memcpy(mb_tag(b, type, 8 + len) + 8, s, len);
}

static void mb_module(struct mb *b, uint32_t start, uint32_t end,
		      const char *cmdline)
{
	uint32_t len = strlen(cmdline) + 1;
	uint8_t *t = mb_tag(b, MB2_TAG_MODULE, 16 + len);

	put32(t + 8, start);
	put32(t + 12, end);
	memcpy(t + 16, cmdline, len);
}

static void mb_mmap(struct mb *b, const struct mb2_mmap_entry *e, unsigned n,
		    uint32_t esz)
{
	uint8_t *t = mb_tag(b, MB2_TAG_MMAP, 16 + n * esz);

	put32(t + 8, esz);
	for (unsigned i = 0; i < n; i++)
		memcpy(t + 16 + i * esz, &e[i], sizeof(e[i]));
}

static void mb_efi(struct mb *b, const struct efi_memory_descriptor *d,
		   unsigned n, uint32_t dsz)
{
	uint8_t *t = mb_tag(b, MB2_TAG_EFI_MMAP, 16 + n * dsz);

	put32(t + 8, dsz);
	put32(t + 12, 1);
	for (unsigned i = 0; i < n; i++)
		memcpy(t + 16 + i * dsz, &d[i], sizeof(d[i]));
}

static uint32_t mb_finish(struct mb *b)
{
	mb_tag(b, MB2_TAG_END, 8);
	put32(mb_bytes(b), b->off);
	return b->off;
}

/* The heap copy the last parse ran on; its pointers stay valid until the
 * next parse. */
static uint8_t *heap;

static int parse_n(struct mb *b, size_t avail, struct mb2_info *mi,
		   const char **err)
{
	free(heap);
	heap = malloc(avail ? avail : 1);
	memcpy(heap, mb_bytes(b),
	       avail < sizeof(b->buf) ? avail : sizeof(b->buf));
	*err = NULL;
	return mb2_parse(heap, avail, mi, err);
}

/* Parse with exactly total_size bytes available. */
static int parse(struct mb *b, struct mb2_info *mi, const char **err)
{
	return parse_n(b, get32(mb_bytes(b)), mi, err);
}

static struct mb b;
static struct mb2_info mi;
static const char *err;

static void test_valid(void)
{
	static const struct mb2_mmap_entry mm[3] = {
		{ 0, 0x9fc00, MB2_MEMORY_AVAILABLE, 0 },
		{ 0xf0000, 0x10000, MB2_MEMORY_RESERVED, 0 },
		{ 0x100000, 0x7ff00000, MB2_MEMORY_AVAILABLE, 0 },
	};
	uint8_t rsdp_old[20] = "RSD PTR ", rsdp_new[36] = "RSD PTR ";
	uint32_t total;
	uint8_t *t;

	mb_init(&b);
	mb_string(&b, MB2_TAG_CMDLINE, "console=com1 test");
	mb_string(&b, MB2_TAG_LOADER_NAME, "GRUB 2.06");
	mb_module(&b, 0x200000, 0x300000, "root.elf arg");
	mb_module(&b, 0x300000, 0x300000, "");
	t = mb_tag(&b, MB2_TAG_BASIC_MEMINFO, 16);
	put32(t + 8, 639);
	put32(t + 12, 2096000);
	mb_mmap(&b, mm, 3, 24);
	memcpy(mb_tag(&b, MB2_TAG_ACPI_OLD, 8 + 20) + 8, rsdp_old, 20);
	memcpy(mb_tag(&b, MB2_TAG_ACPI_NEW, 8 + 36) + 8, rsdp_new, 36);
	t = mb_tag(&b, MB2_TAG_EFI64, 16);
	put64(t + 8, 0x7fe12345678ull);
	mb_tag(&b, MB2_TAG_EFI_BS, 8);
	put32(mb_tag(&b, MB2_TAG_LOAD_BASE_ADDR, 12) + 8, 0x100000);
	mb_tag(&b, 99, 13);             /* unknown, odd size */
	total = mb_finish(&b);

	CHECK(parse(&b, &mi, &err) == 0, "valid info parses (%s)",
	      err ? err : "ok");
	CHECK(mi.total_size == total, "total_size %u", mi.total_size);
	CHECK(!strcmp(mi.cmdline, "console=com1 test"), "cmdline");
	CHECK(!strcmp(mi.loader_name, "GRUB 2.06"), "loader name");
	CHECK(mi.module_count == 2, "two modules");
	CHECK(mi.modules[0].start == 0x200000 && mi.modules[0].end == 0x300000,
	      "module 0 range");
	CHECK(!strcmp(mi.modules[0].cmdline, "root.elf arg"),
	      "module 0 cmdline");
	CHECK(mi.modules[1].start == mi.modules[1].end &&
	      !strcmp(mi.modules[1].cmdline, ""), "empty module accepted");
	CHECK(mi.modules[0].cmdline > (const char *)heap &&
	      mi.modules[0].cmdline < (const char *)heap + total,
	      "module cmdline points inside the info");
	CHECK(mi.basic_mem_lower_kib == 639 &&
	      mi.basic_mem_upper_kib == 2096000, "basic meminfo");
	CHECK(mi.mmap_count == 3 && mi.mmap_entry_size == 24, "mmap count");
	CHECK(mb2_mmap_entry(&mi, 2)->addr == 0x100000 &&
	      mb2_mmap_entry(&mi, 2)->len == 0x7ff00000 &&
	      mb2_mmap_entry(&mi, 1)->type == MB2_MEMORY_RESERVED,
	      "mmap entries read back");
	CHECK(mb2_mmap_entry(&mi, 3) == NULL, "mmap entry past count is NULL");
	CHECK(mb2_efi_entry(&mi, 0) == NULL, "no EFI map: entry NULL");
	CHECK(mi.efi_mmap == NULL && mi.efi_count == 0, "no EFI map");
	CHECK(mi.rsdp_old && mi.rsdp_old_len == 20 &&
	      !memcmp(mi.rsdp_old, "RSD PTR ", 8), "old RSDP copy");
	CHECK(mi.rsdp_new && mi.rsdp_new_len == 36, "new RSDP copy");
	CHECK(mi.efi64 && mi.efi64_system_table == 0x7fe12345678ull,
	      "EFI64 system table");
	CHECK(mi.efi_bs_not_terminated, "EFI boot services flag");

	/* Absent strings read as "". */
	mb_init(&b);
	mb_finish(&b);
	CHECK(parse(&b, &mi, &err) == 0, "minimal info (end tag only)");
	CHECK(mi.cmdline && !strcmp(mi.cmdline, "") && mi.loader_name &&
	      !strcmp(mi.loader_name, ""), "absent strings are empty");
	CHECK(mi.module_count == 0 && !mi.mmap && !mi.efi64 &&
	      !mi.rsdp_old && !mi.rsdp_new, "absent tags stay absent");

	/* A padding tail shorter than a tag is allowed. */
	put32(mb_bytes(&b), 16 + 4);
	CHECK(parse(&b, &mi, &err) == 0, "padding after end tag accepted");
	/* Avail larger than total_size is fine. */
	put32(mb_bytes(&b), 16);
	CHECK(parse_n(&b, 4096, &mi, &err) == 0 && mi.total_size == 16,
	      "avail larger than total_size");
}

static void test_maps(void)
{
	struct mb2_mmap_entry mm[2] = {
		{ 0x1000, 0x2000, 1, 0 }, { 0x100000000ull, 0x1000, 1, 0 },
	};
	struct efi_memory_descriptor ed[3] = {
		{ EFI_CONVENTIONAL_MEMORY, 0, 0x1000, 0, 10, 0 },
		{ EFI_RUNTIME_SERVICES_DATA, 0, 0xb000, 0, 1, 0 },
		{ EFI_BOOT_SERVICES_CODE, 0, 0x200000000ull, 0, 4, 0 },
	};

	mb_init(&b);
	mb_mmap(&b, mm, 2, 32);
	mb_finish(&b);
	CHECK(parse(&b, &mi, &err) == 0 && mi.mmap_count == 2 &&
	      mi.mmap_entry_size == 32, "mmap with entry_size 32");
	CHECK(mb2_mmap_entry(&mi, 1) &&
	      mb2_mmap_entry(&mi, 1)->addr == 0x100000000ull,
	      "entry_size 32 stride");

	mb_init(&b);
	mb_efi(&b, ed, 3, 48);
	mb_finish(&b);
	CHECK(parse(&b, &mi, &err) == 0 && mi.efi_count == 3 &&
	      mi.efi_descr_size == 48, "EFI map with descr_size 48");
	CHECK(mb2_efi_entry(&mi, 2) &&
	      mb2_efi_entry(&mi, 2)->physical_start == 0x200000000ull &&
	      mb2_efi_entry(&mi, 1)->type == EFI_RUNTIME_SERVICES_DATA,
	      "EFI descriptors read back with stride 48");
	CHECK(mb2_efi_entry(&mi, 3) == NULL, "EFI entry past count is NULL");

	mb_init(&b);
	mb_efi(&b, ed, 0, 40);
	mb_finish(&b);
	CHECK(parse(&b, &mi, &err) == 0 && mi.efi_count == 0,
	      "EFI map with no descriptors parses, count 0");

	/* A tail shorter than one entry is not an entry. */
	mb_init(&b);
	mb_mmap(&b, mm, 2, 24);
	put32(mb_bytes(&b) + 8 + 4, 16 + 2 * 24 + 20);
	b.off += 24;
	mb_finish(&b);
	CHECK(parse(&b, &mi, &err) == 0 && mi.mmap_count == 2,
	      "partial trailing mmap entry ignored");
	mb_init(&b);
	mb_efi(&b, ed, 1, 40);
	put32(mb_bytes(&b) + 8 + 4, 16 + 40 + 32);
	b.off += 32;
	mb_finish(&b);
	CHECK(parse(&b, &mi, &err) == 0 && mi.efi_count == 1,
	      "partial trailing EFI descriptor ignored");
}

/* Expect rejection, and a message. */
static void reject(const char *what)
{
	int ret = parse(&b, &mi, &err);

	CHECK(ret == -1 && err && *err, "rejects %s (%s)", what,
	      err ? err : "no message");
}

static void test_malformed_frame(void)
{
	uint8_t *t;
	uint32_t total;

	/* Unaligned: the same bytes at buf + 4. */
	mb_init(&b);
	total = mb_finish(&b);
	free(heap);
	heap = malloc(total + 4);
	memcpy(heap + 4, mb_bytes(&b), total);
	err = NULL;
	CHECK(mb2_parse(heap + 4, total, &mi, &err) == -1 && err,
	      "rejects unaligned info");
	CHECK(mb2_parse(NULL, 64, &mi, &err) == -1, "rejects NULL info");
	CHECK(mb2_parse(heap + 4, total, &mi, NULL) == -1,
	      "NULL err pointer tolerated");
	CHECK(mi.cmdline && mi.loader_name, "strings non-NULL after reject");

	CHECK(parse_n(&b, 4, &mi, &err) == -1, "rejects avail 4");
	CHECK(parse_n(&b, 0, &mi, &err) == -1, "rejects avail 0");

	put32(mb_bytes(&b), 8);
	reject("total_size 8");
	put32(mb_bytes(&b), 0);
	reject("total_size 0");
	put32(mb_bytes(&b), 16);
	CHECK(parse_n(&b, 15, &mi, &err) == -1,
	      "rejects total_size larger than avail");
	put32(mb_bytes(&b), MB2_MAX_TOTAL_SIZE + 8);
	CHECK(parse_n(&b, MB2_MAX_TOTAL_SIZE + 16, &mi, &err) == -1,
	      "rejects total_size over the cap");
	put32(mb_bytes(&b), 0xfffffff8u);
	reject("total_size near 4 GiB");

	/* Missing end tag. */
	mb_init(&b);
	mb_string(&b, MB2_TAG_CMDLINE, "x");
	put32(mb_bytes(&b), b.off);
	reject("missing end tag");

	/* End tag of the wrong size. */
	mb_init(&b);
	mb_tag(&b, MB2_TAG_END, 16);
	put32(mb_bytes(&b), b.off);
	reject("end tag of size 16");

	/* A tag after the end tag. */
	mb_init(&b);
	mb_tag(&b, MB2_TAG_END, 8);
	mb_string(&b, MB2_TAG_CMDLINE, "late");
	mb_finish(&b);
	reject("tags after the end tag");

	/* Tag size below the header. */
	for (uint32_t sz = 0; sz < 8; sz += 4) {
		mb_init(&b);
		t = mb_tag(&b, 77, 8);
		mb_finish(&b);
		put32(t + 4, sz);
		reject(sz ? "tag size 4" : "tag size 0");
	}

	/* Tag size past the end, in several ways. */
	mb_init(&b);
	t = mb_tag(&b, 77, 8);
	mb_finish(&b);
	put32(t + 4, 17);
	reject("tag size one past the end");
	put32(t + 4, 0xfffffff8u);
	reject("tag size near 4 GiB");
	put32(t + 4, 0x80000000u);
	reject("tag size 2 GiB");

	/* Truncated: total_size ends inside a tag's header. */
	mb_init(&b);
	mb_string(&b, MB2_TAG_CMDLINE, "abcdefg");
	mb_finish(&b);
	put32(mb_bytes(&b), 8 + 16 + 4);
	reject("total_size cutting the end tag's header");
	put32(mb_bytes(&b), 8 + 12);
	reject("total_size cutting a string tag");
}

static void test_truncations(void)
{
	static const struct mb2_mmap_entry mm[2] = {
		{ 0, 0x9fc00, 1, 0 }, { 0x100000, 0x1000000, 1, 0 },
	};
	uint32_t total, t, bad_total = 0, bad_avail = 0;

	mb_init(&b);
	mb_string(&b, MB2_TAG_CMDLINE, "console=com1");
	mb_module(&b, 0x1000, 0x2000, "m");
	mb_mmap(&b, mm, 2, 24);
	total = mb_finish(&b);

	/* Every shorter total_size loses the end tag: all must fail. */
	for (t = 0; t < total; t++) {
		put32(mb_bytes(&b), t);
		if (parse(&b, &mi, &err) != -1)
			bad_total++;
	}
	CHECK(bad_total == 0, "all %u shorter total_size values rejected",
	      total);
	/* Every shorter avail with the true total_size. */
	put32(mb_bytes(&b), total);
	for (t = 0; t < total; t++)
		if (parse_n(&b, t, &mi, &err) != -1)
			bad_avail++;
	CHECK(bad_avail == 0, "all %u shorter avail values rejected", total);
}

static void test_malformed_tags(void)
{
	uint8_t *t;
	unsigned i;

	/* String tags without their NUL. */
	mb_init(&b);
	t = mb_tag(&b, MB2_TAG_CMDLINE, 8 + 8);
	memcpy(t + 8, "abcdefgh", 8);
	mb_finish(&b);
	reject("cmdline without NUL");
	mb_init(&b);
	t = mb_tag(&b, MB2_TAG_CMDLINE, 8 + 5);
	memcpy(t + 8, "abcde", 5);
	/* The NUL sits in the padding, outside the tag. */
	mb_finish(&b);
	reject("cmdline whose NUL is in the padding");
	mb_init(&b);
	mb_tag(&b, MB2_TAG_CMDLINE, 8);
	mb_finish(&b);
	reject("cmdline tag with no bytes");
	mb_init(&b);
	t = mb_tag(&b, MB2_TAG_LOADER_NAME, 8 + 3);
	memcpy(t + 8, "abc", 3);
	mb_finish(&b);
	reject("loader name without NUL");

	/* Modules. */
	mb_init(&b);
	mb_tag(&b, MB2_TAG_MODULE, 12);
	mb_finish(&b);
	reject("module tag of 12 bytes");
	mb_init(&b);
	mb_tag(&b, MB2_TAG_MODULE, 16);
	mb_finish(&b);
	reject("module tag with no cmdline byte");
	mb_init(&b);
	mb_module(&b, 0x3000, 0x2000, "");
	mb_finish(&b);
	reject("module with start > end");
	mb_init(&b);
	t = mb_tag(&b, MB2_TAG_MODULE, 16 + 4);
	memcpy(t + 16, "abcd", 4);
	mb_finish(&b);
	reject("module cmdline without NUL");

	mb_init(&b);
	for (i = 0; i < MB2_MAX_MODULES; i++)
		mb_module(&b, i * 0x1000, i * 0x1000 + 0x800, "m");
	mb_finish(&b);
	CHECK(parse(&b, &mi, &err) == 0 && mi.module_count == MB2_MAX_MODULES,
	      "%u modules accepted", MB2_MAX_MODULES);
	CHECK(mi.modules[15].start == 15 * 0x1000, "last module recorded");
	mb_init(&b);
	for (i = 0; i < MB2_MAX_MODULES + 1; i++)
		mb_module(&b, i * 0x1000, i * 0x1000 + 0x800, "m");
	mb_finish(&b);
	reject("17 modules");

	/* Fixed parts. */
	mb_init(&b);
	mb_tag(&b, MB2_TAG_BASIC_MEMINFO, 12);
	mb_finish(&b);
	reject("short basic meminfo");
	mb_init(&b);
	mb_tag(&b, MB2_TAG_MMAP, 12);
	mb_finish(&b);
	reject("mmap tag of 12 bytes");
	mb_init(&b);
	mb_tag(&b, MB2_TAG_EFI_MMAP, 12);
	mb_finish(&b);
	reject("EFI mmap tag of 12 bytes");
	mb_init(&b);
	mb_tag(&b, MB2_TAG_EFI64, 12);
	mb_finish(&b);
	reject("EFI64 tag of 12 bytes");

	/* Entry and descriptor sizes. */
	static const uint32_t bad_esz[] = { 0, 8, 16, 20, 23, 28, 36 };
	for (i = 0; i < sizeof(bad_esz) / sizeof(bad_esz[0]); i++) {
		mb_init(&b);
		t = mb_tag(&b, MB2_TAG_MMAP, 16 + 72);
		put32(t + 8, bad_esz[i]);
		mb_finish(&b);
		CHECK(parse(&b, &mi, &err) == -1,
		      "rejects mmap entry_size %u", bad_esz[i]);
	}
	static const uint32_t bad_dsz[] = { 0, 8, 32, 36, 44, 52 };
	for (i = 0; i < sizeof(bad_dsz) / sizeof(bad_dsz[0]); i++) {
		mb_init(&b);
		t = mb_tag(&b, MB2_TAG_EFI_MMAP, 16 + 96);
		put32(t + 8, bad_dsz[i]);
		mb_finish(&b);
		CHECK(parse(&b, &mi, &err) == -1,
		      "rejects EFI descr_size %u", bad_dsz[i]);
	}
}

static void test_cmdline_has(void)
{
	const char *c = "console=com1  test debug=2 ";

	CHECK(cmdline_has(c, "test"), "word in the middle");
	CHECK(cmdline_has(c, "console=com1"), "first word");
	CHECK(cmdline_has(c, "debug=2"), "last word before trailing space");
	CHECK(cmdline_has("a b test", "test"), "word at the very end");
	CHECK(!cmdline_has(c, "tes"), "prefix of a word is not the word");
	CHECK(!cmdline_has(c, "test2"), "longer word does not match");
	CHECK(!cmdline_has(c, "console"), "prefix before '=' does not match");
	CHECK(!cmdline_has(c, "com1"), "suffix does not match");
	CHECK(!cmdline_has(c, ""), "empty word never matches");
	CHECK(!cmdline_has("", "test"), "empty cmdline");
	CHECK(!cmdline_has("   ", "test"), "spaces only");
	CHECK(!cmdline_has(NULL, "test"), "NULL cmdline");
	CHECK(!cmdline_has(c, "test debug=2"), "two words are not one word");
	CHECK(cmdline_has("test", "test"), "cmdline is the word");
}

int main(void)
{
	test_valid();
	test_maps();
	test_malformed_frame();
	test_truncations();
	test_malformed_tags();
	test_cmdline_has();
	free(heap);
	return done_testing();
}
