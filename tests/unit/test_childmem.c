/*
 * Host tests for a child's RAM layout (drivers/partsvc.h): up to 3 GiB
 * from 0, the rest from 4 GiB, and the range check every device model
 * that takes a guest address uses; and the back-ends' copies through
 * pages mapped once (drivers/childmem.c) against a fake partsvc.
 */
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "partsvc.h"
#include "childmem.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* A 64 KiB child whose pages the fake map_page shows, counting calls. */
#define FAKE_PAGES 16
static uint8_t ram[FAKE_PAGES * 4096];
static unsigned maps, unmaps, copies;
static bool map_refuses;

static void *fake_map(uint64_t id, uint64_t pfn)
{
	if (id != 7 || pfn >= FAKE_PAGES || map_refuses)
		return NULL;
	maps++;
	return ram + pfn * 4096;
}

static void fake_unmap(uint64_t id, void *page)
{
	unmaps++;
}

static int fake_copy_from(uint64_t id, uint64_t gpa, void *dst, uint64_t len)
{
	copies++;
	if (gpa + len > sizeof(ram))
		return -1;
	memcpy(dst, ram + gpa, len);
	return 0;
}

static int fake_copy_to(uint64_t id, uint64_t gpa, const void *src, uint64_t len)
{
	copies++;
	if (gpa + len > sizeof(ram))
		return -1;
	memcpy(ram + gpa, src, len);
	return 0;
}

static void test_copies(void)
{
	static const struct partsvc ps = {
		.map_page = fake_map, .unmap_page = fake_unmap,
		.copy_from = fake_copy_from, .copy_to = fake_copy_to,
	};
	static const struct partsvc no_map = {
		.copy_from = fake_copy_from, .copy_to = fake_copy_to,
	};
	struct childmem_slot slots[4];
	struct childmem m;
	uint8_t buf[3 * 4096], back[3 * 4096];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	childmem_init(&m, &ps, 7, sizeof(ram), slots, 4);
	CHECK(!childmem_copy(&m, 4096 + 100, buf, sizeof(buf), true) &&
	      !memcmp(ram + 4096 + 100, buf, sizeof(buf)) && maps == 4 && !copies,
	      "3 pages' worth across 4 pages: written through 4 mappings, no copy call");
	CHECK(!childmem_copy(&m, 4096 + 100, back, sizeof(back), false) &&
	      !memcmp(back, buf, sizeof(buf)) && maps == 4,
	      "read back through the same mappings (no new map)");
	CHECK(!childmem_copy(&m, 9 * 4096, back, 10, false) && maps == 5 && unmaps == 1,
	      "a page that takes a used slot unmaps the one before");
	CHECK(childmem_copy(&m, sizeof(ram) - 4, back, 8, false) == -1 &&
	      childmem_copy(&m, UINT64_MAX - 2, back, 8, false) == -1 && maps == 5,
	      "bytes past the child's RAM, or a wrapping range: refused, nothing mapped");
	map_refuses = true;
	CHECK(!childmem_copy(&m, 12 * 4096, back, 16, false) && copies == 1,
	      "a page that will not map goes through the copy call");
	map_refuses = false;
	childmem_clear(&m);
	CHECK(unmaps == 1 + 4, "clear unmaps every mapping left (%u unmaps)", unmaps);
	childmem_init(&m, &no_map, 7, sizeof(ram), slots, 4);
	copies = 0;
	CHECK(!childmem_copy(&m, 4000, back, 200, false) && copies == 2 &&
	      !memcmp(back, ram + 4000, 200),
	      "without map_page: a copy call per page touched");
}

int main(void)
{
	test_copies();
	CHECK(child_ram_low(256 * MiB) == 256 * MiB && child_ram_high(256 * MiB) == 0,
	      "256 MiB: all below 3 GiB");
	CHECK(child_ram_low(3 * GiB) == 3 * GiB && child_ram_high(3 * GiB) == 0,
	      "exactly 3 GiB: all low");
	CHECK(child_ram_low(6 * GiB) == 3 * GiB && child_ram_high(6 * GiB) == 3 * GiB,
	      "6 GiB: 3 low, 3 from 4 GiB");
	CHECK(child_ram_contains(256 * MiB, 0, 256 * MiB) &&
	      !child_ram_contains(256 * MiB, 256 * MiB - 4096, 8192),
	      "the top of a small child's RAM, and one page past it");
	CHECK(!child_ram_contains(6 * GiB, 0xfec00000ull, 4) &&
	      !child_ram_contains(6 * GiB, 0xfee00000ull, 4) &&
	      !child_ram_contains(6 * GiB, 3 * GiB - 8, 16),
	      "the MMIO hole is never RAM, nor a range across its start");
	CHECK(child_ram_contains(6 * GiB, 4 * GiB, 3 * GiB) &&
	      !child_ram_contains(6 * GiB, 4 * GiB, 3 * GiB + 1) &&
	      !child_ram_contains(6 * GiB, 7 * GiB, 1),
	      "the high part: exactly 3 GiB from 4 GiB");
	CHECK(!child_ram_contains(6 * GiB, UINT64_MAX - 10, 100) &&
	      !child_ram_contains(6 * GiB, 4 * GiB, UINT64_MAX),
	      "ranges that wrap are refused");
	return done_testing();
}
