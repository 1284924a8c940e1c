/*
 * Partitions without limit: the root creates and deletes many child
 * partitions in one boot (more than the CPU has address-space tags), each
 * with memory it first checks is zero and then fills with its own
 * pattern, and then holds the most the hypervisor allows at once. The
 * hypervisor's free memory, its partition count and its ASIDs in use must
 * come back to where they started, and so must the root's free memory:
 * nothing leaks, and no partition ever reads a deleted one's data.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "root.h"

#define CHURN_PAGES 4
/* Lives per boot: enough to recycle QEMU's 16 ASIDs twice in every root
 * run; `churn` on the root's command line asks for the long run. */
#define CHURN_SHORT 40
#define CHURN_LONG 1100

static uint8_t in_page[4096] __attribute__((aligned(4096)));
static uint8_t out_page[4096] __attribute__((aligned(4096)));
static uint8_t staging[4096] __attribute__((aligned(4096)));

static void pmm_free_range(uint64_t pa, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pmm_free(&root_pmm, pa + i * 4096ull);
}

static uint16_t call(uint16_t code, unsigned reps)
{
	return hv_status(hv_hypercall(code | ((uint64_t)reps << 32),
				      (uint64_t)in_page, (uint64_t)out_page));
}

static uint16_t call_id(uint16_t code, uint64_t id)
{
	memset(in_page, 0, 64);
	memcpy(in_page, &id, 8);
	return call(code, 0);
}

static bool mem_stats(struct hv_isovisor_mem_stats *s)
{
	if (call(HVCALL_ISOVISOR_GET_MEM_STATS, 0))
		return false;
	memcpy(s, out_page, sizeof(*s));
	return true;
}

/* A child with one VP: its id, or 0 with the failing status in *st. */
static uint64_t create(uint16_t *st)
{
	struct hv_input_create_vp *vin = (void *)in_page;
	uint64_t id;

	memset(in_page, 0, 64);
	*st = call(HVCALL_CREATE_PARTITION, 0);
	if (*st)
		return 0;
	memcpy(&id, out_page, 8);
	if ((*st = call_id(HVCALL_INITIALIZE_PARTITION, id)) == 0) {
		memset(in_page, 0, sizeof(*vin));
		vin->partition_id = id;
		*st = call(HVCALL_CREATE_VP, 0);
	}
	if (*st) {
		call_id(HVCALL_DELETE_PARTITION, id);
		return 0;
	}
	return id;
}

static uint16_t give(uint64_t id, uint64_t pages)
{
	struct hv_input_map_gpa_pages *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->target_partition_id = id;
	in->map_flags = HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE;
	for (unsigned i = 0; i < CHURN_PAGES; i++)
		in->source_gpa_page_list[i] = (pages >> 12) + i;
	return call(HVCALL_MAP_GPA_PAGES, CHURN_PAGES);
}

static uint16_t copy(uint16_t code, uint64_t id, uint64_t gpa)
{
	struct hv_isovisor_copy_to_child *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->partition_id = id;
	in->child_gpa = gpa;
	in->root_gpa = (uint64_t)staging;
	in->bytes = sizeof(staging);
	return call(code, 0);
}

/* One life: 0, or a short reason. `leaked` counts non-zero bytes found in
 * a new partition's memory. */
static const char *one_life(unsigned n, uint64_t *leaked)
{
	uint64_t pages = pmm_alloc_contig(&root_pmm, CHURN_PAGES, 4096), id;
	const char *why = NULL;
	uint16_t st;

	if (!pages)
		return "root out of memory";
	id = create(&st);
	if (!id) {
		pmm_free_range(pages, CHURN_PAGES);
		return "create failed";
	}
	if (give(id, pages))
		why = "MapGpaPages failed";
	for (unsigned p = 0; p < CHURN_PAGES && !why; p++) {
		if (copy(HVCALL_ISOVISOR_COPY_FROM_CHILD, id, p * 4096ull)) {
			why = "copy from child failed";
			break;
		}
		for (unsigned b = 0; b < sizeof(staging); b++)
			*leaked += staging[b] != 0;
		/* This life's mark, for the next lives to never see. */
		memset(staging, (int)(0xa5 ^ n), sizeof(staging));
		if (copy(HVCALL_ISOVISOR_COPY_TO_CHILD, id, p * 4096ull))
			why = "copy to child failed";
	}
	if (call_id(HVCALL_DELETE_PARTITION, id) && !why)
		why = "DeletePartition failed";
	pmm_free_range(pages, CHURN_PAGES);
	return why;
}

/* As many as the hypervisor holds at once, then one more. */
static void test_many_at_once(uint64_t max)
{
	static uint64_t ids[256];
	unsigned made = 0;
	uint16_t st = 0, extra_st;

	while (made < max && made < sizeof(ids) / sizeof(ids[0]) && (ids[made] = create(&st)))
		made++;
	extra_st = create(&st) ? HV_STATUS_SUCCESS : st;
	for (unsigned i = 0; i < made; i++)
		call_id(HVCALL_DELETE_PARTITION, ids[i]);
	tap_result(made == max && max >= 64 && extra_st == HV_STATUS_INSUFFICIENT_MEMORY,
		   "root churn: %u child partitions exist at once (the limit is %lu); one "
		   "more is refused with HV_STATUS_INSUFFICIENT_MEMORY (0x%x)", made, max,
		   extra_st);
}

void test_partition_churn(void)
{
	struct hv_isovisor_mem_stats s0, s1;
	uint64_t root_free0, leaked = 0;
	unsigned lives = cmdline_has(boot.cmdline, "churn") ? CHURN_LONG : CHURN_SHORT;
	unsigned done = 0;
	const char *why = NULL;

	if (!boot.hv) {
		tap_skip("native boot", "root churn: partitions are created and deleted "
			 "without limit");
		return;
	}
	if (!mem_stats(&s0)) {
		tap_result(false, "root churn: IsovisorGetMemStats answers");
		return;
	}
	root_free0 = root_pmm.free_pages;
	test_many_at_once(s0.max_child_partitions);
	while (done < lives && !(why = one_life(done, &leaked)))
		done++;
	mem_stats(&s1);
	tap_result(done == lives && s1.child_partitions == s0.child_partitions &&
		   s1.asids_in_use == s0.asids_in_use,
		   "root churn: %u partitions created, given memory and deleted one "
		   "after another, %lu of them since boot (ASIDs in use: %lu before, "
		   "%lu after)%s%s", done, s1.partitions_created, s0.asids_in_use,
		   s1.asids_in_use, why ? ": stopped: " : "", why ? why : "");
	tap_result(s1.free_pages == s0.free_pages && root_pmm.free_pages == root_free0,
		   "root churn: memory returns to its starting value (hypervisor free "
		   "pages %lu before, %lu after; root free pages %lu before, %lu after)",
		   s0.free_pages, s1.free_pages, root_free0, root_pmm.free_pages);
	tap_result(done == lives && !leaked,
		   "root churn: no new partition read a deleted one's data (%u x %u "
		   "pages checked, %lu non-zero bytes)", done, CHURN_PAGES, leaked);
}
