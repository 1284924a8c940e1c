/*
 * Child partitions: the TLFS partition management hypercalls the root
 * uses (create, initialize, delete, map GPA pages, create VP, get/set VP
 * registers, assert a virtual interrupt), and running child VPs.
 *
 * Memory: a page the root maps into a child leaves the root's view (its
 * nested page table entry goes, and it stops being root RAM for every
 * hypervisor check), is zeroed, and only then appears in the child. When
 * the child is deleted each page is zeroed again before it returns.
 *
 * Scheduling: a child VP is bound to one CPU and runs there while that
 * CPU's root VP idles (HLT). Any physical interrupt belongs to the root,
 * so a child VP runs with the INTR intercept on and its own IF kept
 * virtual: a child spinning with interrupts off is still preempted by the
 * root's next timer tick, and a child halted forever just never runs.
 * Intercepted port I/O and unmapped GPA accesses become TLFS intercept
 * messages on the root's SINT 0; the child VP waits (intercept suspend)
 * until the root completes the access with HvCallSetVpRegisters.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "gmem.h"
#include "hypercall.h"
#include "port.h"
#include "design.h"
#include "synic.h"
#include "virt.h"
#include "vpops.h"
#include "percpu.h"
#include "cpustate.h"
#include "vapic.h"
#include "arch/x86/cpu.h"

/* A child's GPA space: up to 128 GiB (64 GiB of RAM, some of it from
 * 4 GiB on), its frame list grown on demand. */
#define CHILD_MAX_PAGES (1ull << 25)

struct partition root_partition;
struct partition *child_partitions[MAX_CHILD_PARTITIONS];
static uint64_t next_id = 2;            /* 1 is the root */
static uint64_t created_count, deleted_count;
/* Creation and deletion lines: every one of the first few, then one in
 * LOG_EVERY (a churn of thousands would drown the log); the end of a
 * partition the root named (the config's) is always logged. */
#define LOG_FIRST 80
#define LOG_EVERY 250

static bool life_logged(uint64_t n)
{
	return n <= LOG_FIRST || n % LOG_EVERY == 0;
}
static spinlock_t partitions_lock;
static char partition_names[MAX_CHILD_PARTITIONS][16];

#define PARTITION_PAGES (ALIGN_UP(sizeof(struct partition), PAGE_SIZE) / PAGE_SIZE)
#define VP_PAGES (ALIGN_UP(sizeof(struct vp), PAGE_SIZE) / PAGE_SIZE)

/* [a-z0-9_-], 1..15 characters, not a name the hypervisor or root uses. */
bool partition_name_valid(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (!n || n == cap || !strcmp(s, "hv") || !strcmp(s, "root"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

void partition_set_name(struct partition *p, const char *name)
{
	p->named = true;
	for (unsigned i = 0; i < MAX_CHILD_PARTITIONS; i++)
		if (child_partitions[i] == p)
			memcpy(partition_names[i], name, strlen(name) + 1);
}


static bool caller_is_root(const struct hc_ctx *c)
{
	return c->vp->partition->is_root;
}

uint16_t hc_set_partition_name(struct hc_ctx *c)
{
	struct partition *p;
	char name[16];

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	memcpy(name, c->in + 8, sizeof(name));
	p = child_by_id(*(const uint64_t *)c->in);
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (!partition_name_valid(name, sizeof(name)))
		return HV_STATUS_INVALID_PARAMETER;
	partition_set_name(p, name);
	return HV_STATUS_SUCCESS;
}

struct partition *child_by_id(uint64_t id)
{
	for (unsigned i = 0; i < MAX_CHILD_PARTITIONS; i++)
		if (child_partitions[i] && child_partitions[i]->id == id)
			return child_partitions[i];
	return NULL;
}

struct vp *child_vp_by_id(uint64_t id, uint32_t index, uint16_t *status)
{
	struct partition *p = child_by_id(id);

	if (!p) {
		*status = HV_STATUS_INVALID_PARTITION_ID;
		return NULL;
	}
	if (index >= p->vp_count) {
		*status = HV_STATUS_INVALID_VP_INDEX;
		return NULL;
	}
	return p->vps[index];
}

struct partition *partition_new(void)
{
	struct partition *p;
	unsigned slot = 0;

	spin_lock(&partitions_lock);
	while (slot < MAX_CHILD_PARTITIONS && child_partitions[slot])
		slot++;
	if (slot == MAX_CHILD_PARTITIONS) {
		spin_unlock(&partitions_lock);
		hv_log("partition not created: the limit of %u child partitions "
		       "is reached", MAX_CHILD_PARTITIONS);
		return NULL;
	}
	p = pages_alloc_zeroed(PARTITION_PAGES);
	p->id = next_id++;
	ksnprintf(partition_names[slot], sizeof(partition_names[slot]), "guest%u", slot + 1);
	p->name = partition_names[slot];
	if (virt->partition_init(p)) {
		spin_unlock(&partitions_lock);
		hv_log("partition not created: no address-space tag (ASID) free");
		pages_free(p, PARTITION_PAGES);
		return NULL;
	}
	child_partitions[slot] = p;
	created_count++;
	spin_unlock(&partitions_lock);
	if (life_logged(created_count))
		hv_log("partition %s created (id %lu; %lu created since boot)", p->name,
		       p->id, created_count);
	return p;
}

uint16_t hc_create_partition(struct hc_ctx *c)
{
	const struct hv_input_create_partition *in = (const void *)c->in;
	struct partition *p;

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (in->flags || in->padding)
		return HV_STATUS_INVALID_PARAMETER;
	p = partition_new();
	if (!p)
		return HV_STATUS_INSUFFICIENT_MEMORY;
	memcpy(c->out, &p->id, 8);
	return HV_STATUS_SUCCESS;
}

uint16_t hc_initialize_partition(struct hc_ctx *c)
{
	const struct hv_input_partition *in = (const void *)c->in;
	struct partition *p = child_by_id(in->partition_id);

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (p->initialized)
		return HV_STATUS_INVALID_PARTITION_STATE;
	p->initialized = true;
	return HV_STATUS_SUCCESS;
}

/* Room in the frame list for `gpa_page`: it doubles as it fills. */
static uint16_t frames_reserve(struct partition *p, uint64_t gpa_page)
{
	uint64_t n = p->frame_count ? p->frame_count : 512, *f;

	if (gpa_page < p->frame_count)
		return HV_STATUS_SUCCESS;
	if (gpa_page >= CHILD_MAX_PAGES)
		return HV_STATUS_INVALID_PARAMETER;
	while (n <= gpa_page)
		n *= 2;
	f = pages_try_alloc_zeroed((unsigned)(n * 8 / PAGE_SIZE));
	if (!f) {
		hv_log("partition %s: no hypervisor memory for a %lu KiB frame list",
		       p->name, n * 8 / 1024);
		return HV_STATUS_INSUFFICIENT_MEMORY;
	}
	if (p->frames) {
		memcpy(f, p->frames, p->frame_count * 8);
		pages_free(p->frames, (unsigned)(p->frame_count * 8 / PAGE_SIZE));
	}
	p->frames = f;
	p->frame_count = n;
	return HV_STATUS_SUCCESS;
}

uint16_t partition_map_page(struct partition *child, uint64_t gpa_page,
			    uint64_t spa, unsigned rights)
{
	uint16_t st = frames_reserve(child, gpa_page);

	if (st != HV_STATUS_SUCCESS)
		return st;
	if (child->frames[gpa_page])
		return HV_STATUS_INVALID_PARAMETER;
	memset(phys_to_virt(spa), 0, PAGE_SIZE);
	virt->gpa_map(child, gpa_page << 12, spa, PAGE_SIZE, rights);
	child->frames[gpa_page] = spa;
	spin_lock(&child->ram_lock);
	st = memmap_add(&child->ram, gpa_page << 12, (gpa_page + 1) << 12) ?
	     HV_STATUS_INSUFFICIENT_MEMORY : HV_STATUS_SUCCESS;
	spin_unlock(&child->ram_lock);
	if (st != HV_STATUS_SUCCESS)
		return st;
	return HV_STATUS_SUCCESS;
}

/* Give one root page to the child at `gpa_page`: it leaves the root's
 * view first, then is zeroed and mapped. */
static uint16_t lend_page(struct partition *child, uint64_t gpa_page,
			  uint64_t root_page, unsigned rights)
{
	struct partition *root = &root_partition;
	uint64_t spa = root_page << 12;
	bool removed;

	if (gpa_page >= CHILD_MAX_PAGES ||
	    (gpa_page < child->frame_count && child->frames[gpa_page]))
		return HV_STATUS_INVALID_PARAMETER;
	if (frames_reserve(child, gpa_page))
		return HV_STATUS_INSUFFICIENT_MEMORY;
	if (!gpa_to_hva(root, spa, PAGE_SIZE))
		return HV_STATUS_INVALID_PARAMETER;    /* not the root's to give */
	spin_lock(&root->ram_lock);
	removed = !memmap_remove(&root->ram, spa, spa + PAGE_SIZE);
	spin_unlock(&root->ram_lock);
	if (!removed)
		return HV_STATUS_INSUFFICIENT_MEMORY;
	virt->gpa_map(root, spa, spa, PAGE_SIZE, 0);
	return partition_map_page(child, gpa_page, spa, rights);
}

uint16_t hc_map_gpa_pages(struct hc_ctx *c)
{
	const struct hv_input_map_gpa_pages *in = (const void *)c->in;
	struct partition *p = child_by_id(in->target_partition_id);
	unsigned rights = 0;
	uint16_t status = HV_STATUS_SUCCESS;

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (in->map_flags & ~(HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE |
			      HV_MAP_GPA_EXECUTABLE) || in->padding)
		return HV_STATUS_INVALID_PARAMETER;
	if (in->map_flags & HV_MAP_GPA_READABLE)
		rights |= GPA_READ;
	if (in->map_flags & HV_MAP_GPA_WRITABLE)
		rights |= GPA_WRITE;
	if (in->map_flags & HV_MAP_GPA_EXECUTABLE)
		rights |= GPA_EXEC;
	for (unsigned i = c->rep_start; i < c->rep_count; i++) {
		status = lend_page(p, in->target_gpa_base + i,
				   in->source_gpa_page_list[i], rights);
		if (status != HV_STATUS_SUCCESS)
			break;
		c->reps_done = i + 1;
	}
	/* The root must not keep cached translations of what it gave. */
	tlb_shootdown(&root_partition);
	return status;
}

uint16_t hc_delete_partition(struct hc_ctx *c)
{
	const struct hv_input_partition *in = (const void *)c->in;
	struct partition *p = child_by_id(in->partition_id);

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	return partition_destroy(p);
}

uint16_t partition_destroy(struct partition *p)
{
	uint64_t returned = 0;
	bool log;

	p->stopped = true;
	spin_lock(&partitions_lock);
	log = p->named || life_logged(deleted_count + 1);
	spin_unlock(&partitions_lock);
	if (log)
		print_exit_counters(p);
	/* A stopped VP is never picked again; one that runs on another CPU
	 * now leaves at its next exit, which a wake-up forces. */
	for (unsigned i = 0; i < p->vp_count; i++) {
		struct vp *vp = p->vps[i];
		uint64_t spins = 0;

		while (vp->cpu != this_cpu()->index && current_vp_on(vp->cpu) == vp) {
			if (spins++ % 100000 == 0)
				vp_kick(vp);
			cpu_relax();
		}
	}
	port_partition_gone(p);
	spin_lock(&partitions_lock);
	for (unsigned i = 0; i < MAX_CHILD_PARTITIONS; i++)
		if (child_partitions[i] == p)
			child_partitions[i] = NULL;
	deleted_count++;
	spin_unlock(&partitions_lock);
	/* Nothing finds it now; take its VPs off their CPUs, and out of any
	 * queue their intercepts wait in. */
	for (unsigned i = 0; i < p->vp_count; i++) {
		struct vp *vp = p->vps[i];

		sched_remove(vp);
		design_vp_gone(vp);
		dispatch_vp_gone(vp);
		if (current_vp_on(vp->cpu) == vp)
			set_current_vp(vp->cpu, NULL);
	}
	for (uint64_t g = 0; g < p->frame_count; g++) {
		uint64_t spa = p->frames[g];

		if (!spa)
			continue;
		virt->gpa_map(p, g << 12, spa, PAGE_SIZE, 0);
		memset(phys_to_virt(spa), 0, PAGE_SIZE);
		design_page_reclaimed(spa);
		p->frames[g] = 0;
		returned++;
	}
	if (log)
		hv_log("partition %s deleted: %lu pages returned, zeroed (%lu "
		       "deleted since boot)", p->name, returned, deleted_count);
	for (unsigned i = 0; i < p->vp_count; i++) {
		cpustate_vp_gone(p->vps[i]);
		virt->vp_destroy(p->vps[i]);
		pages_free(p->vps[i], VP_PAGES);
	}
	virt->partition_destroy(p);
	if (p->frames)
		pages_free(p->frames, (unsigned)(p->frame_count * 8 / PAGE_SIZE));
	pages_free(p, PARTITION_PAGES);
	return HV_STATUS_SUCCESS;
}

/* GRUB's multiboot machine state: flat 32-bit protected mode, no paging,
 * interrupts off, at `entry`. Root VP 0 starts this way, and so does every
 * child VP (suspended until the root sets its registers). */
void grub_initial_context(struct hv_initial_vp_context *c, uint64_t entry)
{
	const struct hv_x64_segment_register code = { 0, 0xffffffff, 0x10, 0xc09b };
	const struct hv_x64_segment_register data = { 0, 0xffffffff, 0x18, 0xc093 };

	memset(c, 0, sizeof(*c));
	c->rip = entry;
	c->rflags = 2;
	c->cs = code;
	c->ds = c->es = c->fs = c->gs = c->ss = data;
	c->tr = (struct hv_x64_segment_register){ 0, 0xffff, 0, 0x008b };
	c->ldtr = (struct hv_x64_segment_register){ 0, 0xffff, 0, 0x0082 };
	c->gdtr.limit = 0xffff;
	c->idtr.limit = 0xffff;
	c->cr0 = CR0_PE | CR0_ET;
}

static void initial_context(struct vp *vp)
{
	struct hv_initial_vp_context ctx;

	grub_initial_context(&ctx, 0);
	virt->vp_set_context(vp, &ctx);
}

uint16_t hc_create_vp(struct hc_ctx *c)
{
	const struct hv_input_create_vp *in = (const void *)c->in;
	struct partition *p = child_by_id(in->partition_id);

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (in->vp_index != p->vp_count || in->vp_index >= child_max_vps()) {
		hv_log("partition %s: CreateVp %u refused: VPs are created in order, "
		       "at most %u", p->name, in->vp_index, child_max_vps());
		return HV_STATUS_INVALID_VP_INDEX;
	}
	return partition_new_vp(p) ? HV_STATUS_SUCCESS : HV_STATUS_INSUFFICIENT_MEMORY;
}

/* A child's VPs share the CPUs that run children (time-shared when it has
 * more VPs than they): as many as a partition holds. */
unsigned child_max_vps(void)
{
	return ARRAY_SIZE(((struct partition *)0)->vps);
}

struct vp *partition_new_vp(struct partition *p)
{
	struct vp *vp;

	if (p->vp_count >= child_max_vps()) {
		hv_log("partition %s: VP %u not created: a child has at most %u VPs",
		       p->name, p->vp_count, child_max_vps());
		return NULL;
	}
	vp = pages_alloc_zeroed(VP_PAGES);
	vp->partition = p;
	vp->index = p->vp_count;
	vp->cpu = sched_pick_cpu();
	vp->explicit_suspend = true;
	/* The TLFS reset state: every SINT masked. */
	for (unsigned i = 0; i < HV_SYNIC_SINT_COUNT; i++)
		vp->synic.sint[i] = HV_SYNIC_SINT_MASKED;
	if (virt->vp_init(vp)) {
		pages_free(vp, VP_PAGES);
		return NULL;
	}
	childmsr_vp_init(vp);
	vapic_vp_init(vp);
	initial_context(vp);
	p->vps[p->vp_count++] = vp;
	sched_add(vp);
	return vp;
}

uint16_t hc_get_vp_registers(struct hc_ctx *c)
{
	const struct hv_input_vp_registers *in = (const void *)c->in;
	const uint32_t *names = (const uint32_t *)(c->in + sizeof(*in));
	uint16_t status = HV_STATUS_SUCCESS;
	struct vp *vp;

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (in->input_vtl || in->rsvd_z8 || in->rsvd_z16)
		return HV_STATUS_INVALID_PARAMETER;
	vp = child_vp_by_id(in->partition_id, in->vp_index, &status);
	if (!vp)
		return status;
	/* The root's edits of the register page come first. */
	dispatch_regs_apply(vp);
	for (unsigned i = c->rep_start; i < c->rep_count; i++) {
		struct hv_register_assoc r;
		uint64_t *out = (uint64_t *)(c->out + 16 * i);

		if (names[i] == HV_REGISTER_EXPLICIT_SUSPEND)
			r.value.reg64 = vp->explicit_suspend;
		else if (names[i] == HV_REGISTER_INTERCEPT_SUSPEND)
			r.value.reg64 = vp->intercept_suspend;
		else if (virt->vp_get_reg(vp, names[i], &r))
			return HV_STATUS_INVALID_PARAMETER;
		memcpy(out, &r.value, 16);
		c->reps_done = i + 1;
	}
	return HV_STATUS_SUCCESS;
}

uint16_t hc_set_vp_registers(struct hc_ctx *c)
{
	const struct hv_input_vp_registers *in = (const void *)c->in;
	const struct hv_register_assoc *regs =
		(const struct hv_register_assoc *)(c->in + sizeof(*in));
	uint16_t status = HV_STATUS_SUCCESS;
	struct vp *vp;

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (in->input_vtl || in->rsvd_z8 || in->rsvd_z16)
		return HV_STATUS_INVALID_PARAMETER;
	vp = child_vp_by_id(in->partition_id, in->vp_index, &status);
	if (!vp)
		return status;
	/* The root's edits of the register page come first. */
	dispatch_regs_apply(vp);
	return vp_set_registers(vp, regs, c->rep_start, c->rep_count, &c->reps_done);
}

uint16_t vp_set_registers(struct vp *vp, const struct hv_register_assoc *regs,
			  unsigned from, unsigned to, unsigned *done)
{
	for (unsigned i = from; i < to; i++) {
		const struct hv_register_assoc *r = &regs[i];

		if (r->reserved1 || r->reserved2)
			return HV_STATUS_INVALID_PARAMETER;
		if (r->name == HV_REGISTER_EXPLICIT_SUSPEND ||
		    r->name == HV_REGISTER_INTERCEPT_SUSPEND) {
			if (r->value.reg64 & ~1ull)
				return HV_STATUS_INVALID_PARAMETER;
			if (r->name == HV_REGISTER_EXPLICIT_SUSPEND)
				vp->explicit_suspend = r->value.reg64;
			else
				vp->intercept_suspend = r->value.reg64;
		} else if (virt->vp_set_reg(vp, r)) {
			return HV_STATUS_INVALID_PARAMETER;
		}
		*done = i + 1;
	}
	vp_kick(vp);
	return HV_STATUS_SUCCESS;
}

uint16_t hc_install_intercept(struct hc_ctx *c)
{
	const struct hv_input_install_intercept *in = (const void *)c->in;
	struct partition *p = child_by_id(in->partition_id);
	uint32_t access = in->access_type;

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (!access || access & ~(HV_INTERCEPT_ACCESS_MASK_READ |
				  HV_INTERCEPT_ACCESS_MASK_WRITE))
		return HV_STATUS_INVALID_PARAMETER;
	switch (in->intercept_type) {
	case HV_INTERCEPT_TYPE_X64_IO_PORT:
		/* Every port of a child already goes to the root. */
		return in->parameter > 0xffff ? HV_STATUS_INVALID_PARAMETER :
						HV_STATUS_SUCCESS;
	case HV_INTERCEPT_TYPE_X64_CPUID:
		if (access != HV_INTERCEPT_ACCESS_MASK_READ || in->parameter >> 32)
			return HV_STATUS_INVALID_PARAMETER;
		if (p->cpuid_intercept_count == ARRAY_SIZE(p->cpuid_intercepts))
			return HV_STATUS_INSUFFICIENT_BUFFERS;
		p->cpuid_intercepts[p->cpuid_intercept_count++] = (uint32_t)in->parameter;
		return HV_STATUS_SUCCESS;
	case HV_INTERCEPT_TYPE_X64_MSR_INDEX:
		if (in->parameter >> 32)
			return HV_STATUS_INVALID_PARAMETER;
		if (p->msr_intercept_count == ARRAY_SIZE(p->msr_intercepts))
			return HV_STATUS_INSUFFICIENT_BUFFERS;
		p->msr_intercept_access[p->msr_intercept_count] = (uint8_t)access;
		p->msr_intercepts[p->msr_intercept_count++] = (uint32_t)in->parameter;
		return HV_STATUS_SUCCESS;
	default:
		return HV_STATUS_INVALID_PARAMETER;
	}
}

bool cpuid_intercepted(const struct partition *p, uint32_t leaf)
{
	for (unsigned i = 0; i < p->cpuid_intercept_count; i++)
		if (p->cpuid_intercepts[i] == leaf)
			return true;
	return false;
}

bool msr_intercepted(const struct partition *p, uint32_t msr, bool write)
{
	for (unsigned i = 0; i < p->msr_intercept_count; i++)
		if (p->msr_intercepts[i] == msr &&
		    (p->msr_intercept_access[i] & (write ? HV_INTERCEPT_ACCESS_MASK_WRITE :
						   HV_INTERCEPT_ACCESS_MASK_READ)))
			return true;
	return false;
}

/* HvCallAssertVirtualInterrupt: the root's device models interrupt a
 * child. Fixed and lowest priority go to the APICs `dest_address` names
 * (physical APIC id, or a logical destination), level triggered or edge;
 * ExtINT (the 8259's) goes to the VP whose APIC id it names, refused with
 * HV_STATUS_INVALID_VP_STATE while that VP's LINT0 does not take it. An
 * interrupt no APIC accepts is HV_STATUS_INVALID_VP_STATE too. */
uint16_t hc_assert_virtual_interrupt(struct hc_ctx *c)
{
	const struct hv_input_assert_virtual_interrupt *in = (const void *)c->in;
	uint32_t type = in->interrupt_type;
	bool logical = in->control & HV_INTERRUPT_CONTROL_LOGICAL;
	uint16_t status = HV_STATUS_SUCCESS;
	struct partition *p;
	struct vp *vp;

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if ((type != HV_INTERRUPT_TYPE_FIXED && type != HV_INTERRUPT_TYPE_LOWESTPRIORITY &&
	     type != HV_INTERRUPT_TYPE_EXTINT) ||
	    (in->control & ~(HV_INTERRUPT_CONTROL_LEVEL | HV_INTERRUPT_CONTROL_LOGICAL)) ||
	    in->vector < 16 || in->vector > 255 || in->target_vtl ||
	    in->rsvd_z0 || in->rsvd_z1 || in->dest_address >> 32)
		return HV_STATUS_INVALID_PARAMETER;
	if (type == HV_INTERRUPT_TYPE_EXTINT) {
		if (logical)
			return HV_STATUS_INVALID_PARAMETER;
		vp = child_vp_by_id(in->partition_id, (uint32_t)in->dest_address, &status);
		if (!vp)
			return status;
		if (!vapic_post_extint(vp, (uint8_t)in->vector))
			return HV_STATUS_INVALID_VP_STATE;      /* LINT0 masked, or busy */
		return HV_STATUS_SUCCESS;
	}
	p = child_by_id(in->partition_id);
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (!vapic_assert(p, (uint32_t)in->dest_address, logical,
			  type == HV_INTERRUPT_TYPE_LOWESTPRIORITY, (uint8_t)in->vector,
			  in->control & HV_INTERRUPT_CONTROL_LEVEL))
		return HV_STATUS_INVALID_VP_STATE;
	return HV_STATUS_SUCCESS;
}

/* Copy between the root's memory and a child's, a page at most; the
 * child side may cross a page boundary (its pages are scattered). */
static uint16_t copy_child(struct hc_ctx *c, bool to_child)
{
	const struct hv_isovisor_copy_to_child *in = (const void *)c->in;
	struct partition *p = child_by_id(in->partition_id);
	uint8_t *rootbuf;
	uint64_t done = 0;

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (in->bytes > PAGE_SIZE || in->child_gpa + in->bytes < in->child_gpa)
		return HV_STATUS_INVALID_PARAMETER;
	rootbuf = gpa_to_hva(&root_partition, in->root_gpa, in->bytes);
	if (!rootbuf && in->bytes)
		return HV_STATUS_INVALID_PARAMETER;
	while (done < in->bytes) {
		uint64_t gpa = in->child_gpa + done;
		uint64_t chunk = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
		uint8_t *child;

		if (chunk > in->bytes - done)
			chunk = in->bytes - done;
		child = gpa_to_hva(p, gpa, chunk);
		if (!child)
			return HV_STATUS_INVALID_PARAMETER;
		if (to_child)
			memcpy(child, rootbuf + done, chunk);
		else
			memcpy(rootbuf + done, child, chunk);
		done += chunk;
	}
	return HV_STATUS_SUCCESS;
}

uint16_t hc_copy_to_child(struct hc_ctx *c)
{
	return copy_child(c, true);
}

uint16_t hc_copy_from_child(struct hc_ctx *c)
{
	return copy_child(c, false);
}

/*
 * Show child pages to the root (its VSPs' view of VMBus rings): each
 * page appears in the root's view at its host address, read/write and
 * never executable, until the root unmaps it or the child is deleted (a
 * deleted child's pages return to the root anyway). Only pages the child
 * owns can be named, so this can neither reach the hypervisor nor another
 * child's memory.
 */
uint16_t hc_map_child_pages(struct hc_ctx *c)
{
	const uint64_t *in = (const void *)c->in;
	uint64_t *out = (void *)c->out;
	struct partition *p = child_by_id(in[0]);

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (!p || p->stopped)
		return HV_STATUS_INVALID_PARTITION_ID;
	for (unsigned i = c->rep_start; i < c->rep_count; i++) {
		uint64_t g = in[1 + i];

		if (g >= p->frame_count || !p->frames[g])
			return HV_STATUS_INVALID_PARAMETER;
		virt->gpa_map(&root_partition, p->frames[g], p->frames[g], PAGE_SIZE,
			      GPA_READ | GPA_WRITE);
		out[i] = p->frames[g];
		c->reps_done = i + 1;
	}
	return HV_STATUS_SUCCESS;
}

/* Where child pages are in host memory, for the root's devices (see
 * hvtlfs.h): nothing is mapped, nothing changes. */
uint16_t hc_get_child_dma_pages(struct hc_ctx *c)
{
	const uint64_t *in = (const void *)c->in;
	uint64_t *out = (void *)c->out;
	struct partition *p = child_by_id(in[0]);

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (!p || p->stopped)
		return HV_STATUS_INVALID_PARTITION_ID;
	for (unsigned i = c->rep_start; i < c->rep_count; i++) {
		uint64_t g = in[1 + i];

		if (g >= p->frame_count || !p->frames[g])
			return HV_STATUS_INVALID_PARAMETER;
		out[i] = p->frames[g];
		c->reps_done = i + 1;
	}
	return HV_STATUS_SUCCESS;
}

/* Take child pages out of the root's view again. A root GPA that is not
 * a page of this child is refused: the root cannot unmap its own RAM. */
uint16_t hc_unmap_child_pages(struct hc_ctx *c)
{
	const uint64_t *in = (const void *)c->in;
	struct partition *p = child_by_id(in[0]);
	uint16_t status = HV_STATUS_SUCCESS;

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	for (unsigned i = c->rep_start; i < c->rep_count; i++) {
		uint64_t spa = in[1 + i];
		bool found = false;

		for (uint64_t g = 0; g < p->frame_count && !found; g++)
			found = p->frames[g] && p->frames[g] == spa;
		if (!found) {
			status = HV_STATUS_INVALID_PARAMETER;
			break;
		}
		virt->gpa_map(&root_partition, spa, spa, PAGE_SIZE, 0);
		c->reps_done = i + 1;
	}
	tlb_shootdown(&root_partition);
	return status;
}

uint16_t hc_translate_virtual_address(struct hc_ctx *c)
{
	const struct hv_input_translate_virtual_address *in = (const void *)c->in;
	struct hv_output_translate_virtual_address *out = (void *)c->out;
	uint16_t status = HV_STATUS_SUCCESS;
	struct vp *vp;
	uint64_t gpa;

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	if (in->padding || (in->control_flags & ~HV_TRANSLATE_GVA_VALIDATE_READ))
		return HV_STATUS_INVALID_PARAMETER;
	vp = child_vp_by_id(in->partition_id, in->vp_index, &status);
	if (!vp)
		return status;
	/* The root's edits of the register page come first. */
	dispatch_regs_apply(vp);
	if (gva_to_gpa(vp, in->gva_page << 12, &gpa)) {
		out->result_code = HV_TRANSLATE_GVA_PAGE_NOT_PRESENT;
		return HV_STATUS_SUCCESS;
	}
	out->result_code = gpa_to_hva(vp->partition, gpa & ~0xfffull, 1) ?
			   HV_TRANSLATE_GVA_SUCCESS : HV_TRANSLATE_GVA_GPA_UNMAPPED;
	out->gpa_page = gpa >> 12;
	return HV_STATUS_SUCCESS;
}

uint16_t hc_console_line(struct hc_ctx *c)
{
	const struct hv_isovisor_console_line *in = (const void *)c->in;
	char source[sizeof(in->source)];

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	memcpy(source, in->source, sizeof(source));
	/* The sources the hypervisor and the root speak as are not a child's. */
	if (!partition_name_valid(source, sizeof(source)) ||
	    in->length > sizeof(in->text))
		return HV_STATUS_INVALID_PARAMETER;
	console_log_prefixed(source, in->text, in->length);
	return HV_STATUS_SUCCESS;
}

uint16_t hc_get_mem_stats(struct hc_ctx *c)
{
	struct hv_isovisor_mem_stats *out = (void *)c->out;

	if (!caller_is_root(c))
		return HV_STATUS_ACCESS_DENIED;
	spin_lock(&partitions_lock);
	for (unsigned i = 0; i < MAX_CHILD_PARTITIONS; i++)
		out->child_partitions += child_partitions[i] != NULL;
	out->partitions_created = created_count;
	out->partitions_deleted = deleted_count;
	spin_unlock(&partitions_lock);
	out->free_pages = mm_free_pages();
	out->asids_in_use = virt->asids_in_use ? virt->asids_in_use() : 0;
	out->max_child_partitions = MAX_CHILD_PARTITIONS;
	return HV_STATUS_SUCCESS;
}
