/*
 * Host tests for the nested page table builder and the root's view:
 * ranges, holes, large pages, the hypervisor's hole, the read-only APIC
 * page. Tables come from host memory; "physical" addresses are host
 * addresses, as the builder only needs the two to translate.
 */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "arch/x86/npt.h"
#include "rootview.h"

#define KiB 1024ull
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

static void *tables[4096];
static unsigned tables_allocated;

void *page_alloc_zeroed(void)
{
	void *p = aligned_alloc(4096, 4096);

	if (!p || tables_allocated == 4096)
		abort();
	memset(p, 0, 4096);
	tables[tables_allocated++] = p;
	return p;
}

static unsigned tables_freed;

void page_free(void *p)
{
	for (unsigned i = 0; i < tables_allocated; i++)
		if (tables[i] == p) {
			free(p);
			tables[i] = tables[--tables_allocated];
			tables_freed++;
			return;
		}
	abort();                /* not a table we handed out */
}

void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

uint64_t virt_to_phys(const void *va)
{
	return (uint64_t)(uintptr_t)va;
}

static bool mapped_as(const struct npt *n, uint64_t gpa, bool want_w)
{
	bool w = false;

	return npt_translate(n, gpa, &w) == gpa && w == want_w;
}

static bool unmapped(const struct npt *n, uint64_t gpa)
{
	return npt_translate(n, gpa, NULL) == (uint64_t)-1;
}

int main(void)
{
	struct npt n;
	struct memmap usable = { 0 }, root = { 0 }, hv, visible;
	const uint64_t apic = 0xfee00000;

	/* Small ranges: 4K, 2M and 1G leaves chosen by alignment. */
	npt_init(&n, true);
	CHECK(npt_map(&n, 0x1000, 0x1000, 0x3000, GPA_RWX) == 0 && n.leaves[0] == 3,
	      "three 4K pages for a 12K range at 4K");
	CHECK(npt_map(&n, 2 * MiB, 2 * MiB, 4 * MiB, GPA_RWX) == 0 && n.leaves[1] == 2,
	      "two 2M leaves for an aligned 4M range");
	CHECK(npt_map(&n, GiB, GiB, GiB, GPA_RWX) == 0 && n.leaves[2] == 1,
	      "one 1G leaf for an aligned 1G range");
	CHECK(npt_map(&n, 3 * MiB + 4096, 5 * GiB, 4096, GPA_READ) == 0,
	      "a remap inside a 2M leaf splits it");
	CHECK(npt_translate(&n, 3 * MiB + 4096, NULL) == 5 * GiB, "the split page points at its new frame");
	CHECK(mapped_as(&n, 3 * MiB, true) && mapped_as(&n, 3 * MiB + 8192, true),
	      "its neighbours keep the old mapping");
	CHECK(unmapped(&n, 0) && unmapped(&n, 0x4000) && unmapped(&n, 8 * MiB),
	      "holes stay unmapped");
	CHECK(npt_map(&n, 0x1001, 0x1000, 0x1000, GPA_RWX) == -1, "unaligned ranges are refused");

	/* Without 1G pages the same range takes 512 2M leaves. */
	npt_init(&n, false);
	npt_map(&n, GiB, GiB, GiB, GPA_RWX);
	CHECK(n.leaves[2] == 0 && n.leaves[1] == 512, "no 1G leaves when the CPU has none");

	/* The root's view of a 5 GiB PC: RAM below 640K, 1M..3G, 4G..6G; the
	 * hypervisor keeps its image at 1M, 2 pages of allocations and a pool
	 * near 3G. */
	memmap_add(&usable, 0x1000, 0x9f000);
	memmap_add(&usable, MiB, 3 * GiB);
	memmap_add(&usable, 4 * GiB, 6 * GiB);
	root = usable;
	memmap_remove(&root, MiB, MiB + 256 * KiB);             /* the image */
	memmap_remove(&root, 0x8000, 0xa000);                   /* allocations */
	memmap_remove(&root, 3 * GiB - 16 * MiB, 3 * GiB);      /* the pool */
	CHECK(root_view(&usable, &root, 8 * GiB, apic, &hv, &visible) == 0,
	      "the root's view is computed");
	CHECK(memmap_total(&hv) == 256 * KiB + 8 * KiB + 16 * MiB,
	      "the hypervisor owns exactly its image, allocations and pool");
	npt_init(&n, true);
	for (unsigned i = 0; i < visible.count; i++)
		npt_map(&n, visible.r[i].start, visible.r[i].start,
			visible.r[i].end - visible.r[i].start, GPA_RWX);
	npt_map(&n, apic, apic, 4096, GPA_READ);
	CHECK(unmapped(&n, MiB) && unmapped(&n, MiB + 255 * KiB) && unmapped(&n, 0x8000) &&
	      unmapped(&n, 0x9000) && unmapped(&n, 3 * GiB - 4096) && unmapped(&n, 3 * GiB - 16 * MiB),
	      "every page the hypervisor owns is unmapped");
	CHECK(mapped_as(&n, 0x7000, true) && mapped_as(&n, 0xa000, true) &&
	      mapped_as(&n, MiB + 256 * KiB, true) && mapped_as(&n, 5 * GiB, true),
	      "root RAM around the holes is identity-mapped, writable");
	CHECK(mapped_as(&n, 0xa0000, true) && mapped_as(&n, 0xfec00000, true) &&
	      mapped_as(&n, 7 * GiB, true), "device ranges and holes below the top are mapped");
	CHECK(mapped_as(&n, apic, false) && mapped_as(&n, apic + 0x300, false),
	      "the local APIC page is read-only");
	CHECK(unmapped(&n, 8 * GiB), "nothing above the top");
	CHECK(n.leaves[2] >= 4, "whole free gigabytes use 1G leaves (%lu)", (unsigned long)n.leaves[2]);
	CHECK(n.leaves[0] < 1024, "4K leaves only near the holes (%lu)", (unsigned long)n.leaves[0]);
	{
		uint64_t before = n.tables;
		unsigned held = tables_allocated;

		npt_destroy(&n);
		CHECK(n.tables == 0 && tables_allocated == held - before && tables_freed == before,
		      "npt_destroy frees every table page (%lu of %lu)",
		      (unsigned long)tables_freed, (unsigned long)before);
	}
	{
		/* A child's tables: scattered 4K pages, then gone. */
		struct npt c;
		unsigned held = tables_allocated;

		npt_init(&c, true);
		for (uint64_t g = 0; g < 2048; g += 3)
			npt_map(&c, g << 12, (g + 100000) << 12, 4096, GPA_RWX);
		CHECK(npt_translate(&c, 3 << 12, NULL) == (100003ull << 12),
		      "a child's scattered page translates");
		npt_destroy(&c);
		CHECK(c.tables == 0 && tables_allocated == held,
		      "a child's tables are all freed");
	}
	while (tables_allocated)
		free(tables[--tables_allocated]);
	return done_testing();
}
