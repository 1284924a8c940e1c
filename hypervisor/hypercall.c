/*
 * Hypercalls in the TLFS calling convention: RCX the input value, RDX and
 * R8 the input and output GPAs (or, for fast calls, the parameters), the
 * result in RAX. hypercall_dispatch() is the one choke point: it checks
 * the caller, the input value, the call's shape, alignment and ownership
 * of the parameter pages, and copies the input into hypervisor memory
 * before any handler runs; handlers never touch guest memory themselves.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "gmem.h"
#include "hypercall_abi.h"
#include "hypercall.h"
#include "virt.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

#define HC_PAGE HC_PAGE_SIZE


struct hypercall_def {
	uint16_t code;
	const char *name;
	uint16_t (*fn)(struct hc_ctx *c);
	struct hc_shape shape;
};

/* One context per physical CPU: a hypercall runs to completion there. */
static struct hc_ctx hc_ctx_percpu[HV_MAX_CPUS];

static uint16_t hc_null(struct hc_ctx *c)
{
	return HV_STATUS_SUCCESS;
}

static uint16_t hc_get_partition_id(struct hc_ctx *c)
{
	memcpy(c->out, &c->vp->partition->id, 8);
	return HV_STATUS_SUCCESS;
}

static uint16_t hc_get_vp_index_from_apic_id(struct hc_ctx *c)
{
	const struct hv_get_vp_index_from_apic_id_input *in = (const void *)c->in;
	struct partition *p = c->vp->partition;
	uint32_t *out = (uint32_t *)c->out;

	if (in->partition_id != HV_PARTITION_ID_SELF && in->partition_id != p->id)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (in->target_vtl)
		return HV_STATUS_INVALID_PARAMETER;
	for (unsigned i = c->rep_start; i < c->rep_count; i++) {
		unsigned vp = 0;

		/* Root VPs map 1:1 onto the CPUs, so the APIC ids are the
		 * CPUs' own. */
		while (vp < p->vp_count && cpus[p->vps[vp]->cpu]->apic_id !=
		       in->apic_ids[i])
			vp++;
		if (vp == p->vp_count)
			return HV_STATUS_INVALID_PARAMETER;
		out[i] = vp;
		c->reps_done = i + 1;
	}
	return HV_STATUS_SUCCESS;
}

static uint16_t hc_start_vp(struct hc_ctx *c)
{
	const struct hv_start_vp_input *in = (const void *)c->in;
	struct partition *p = c->vp->partition;
	struct vp *target;

	if (in->partition_id != HV_PARTITION_ID_SELF && in->partition_id != p->id)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (in->target_vtl || in->mbz0 || in->mbz1)
		return HV_STATUS_INVALID_PARAMETER;
	if (in->vp_index >= p->vp_count)
		return HV_STATUS_INVALID_VP_INDEX;
	target = p->vps[in->vp_index];
	if (target == c->vp || (!p->is_root && !target->explicit_suspend))
		return HV_STATUS_INVALID_VP_STATE;     /* it already runs */
	if (!__atomic_compare_exchange_n(&target->start_pending, &(bool){ false },
					 true, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE) || target->started)
		return HV_STATUS_INVALID_VP_STATE;
	target->start_ctx = in->vp_context;
	if (!p->is_root) {
		/* A child VP waits in explicit suspend: it is not running, so
		 * its state can be set from here. */
		virt->vp_set_context(target, &target->start_ctx);
		target->explicit_suspend = false;
	}
	__atomic_store_n(&target->started, true, __ATOMIC_RELEASE);
	vp_kick(target);
	return HV_STATUS_SUCCESS;
}

static uint16_t hc_isovisor_exit_counters(struct hc_ctx *c)
{
	uint32_t index;
	struct partition *p = c->vp->partition;
	struct hv_isovisor_exit_counters *out = (void *)c->out;
	struct vp *vp;

	memcpy(&index, c->in, 4);
	if (index >= p->vp_count)
		return HV_STATUS_INVALID_VP_INDEX;
	vp = p->vps[index];
	out->count = EXIT_REASON_COUNT;
	for (unsigned i = 0; i < EXIT_REASON_COUNT; i++) {
		out->exits[i] = vp->exits[i];
		memcpy(out->names[i], exit_reason_names[i],
		       strnlen(exit_reason_names[i], sizeof(out->names[i]) - 1));
	}
	return HV_STATUS_SUCCESS;
}

static uint16_t hc_isovisor_selftest(struct hc_ctx *c)
{
	uint32_t index;

	memcpy(&index, c->in, 4);
	return selftest_get(index, (struct hv_isovisor_selftest *)c->out) ?
	       HV_STATUS_SUCCESS : HV_STATUS_INVALID_PARAMETER;
}

_Static_assert(EXIT_REASON_COUNT <= HV_ISOVISOR_EXIT_REASONS_MAX, "counters fit");

static const struct hypercall_def hypercalls[] = {
	/* The root's dispatch first: it is the most frequent call. */
	{ HVCALL_DISPATCH_VP, "DispatchVp", hc_dispatch_vp,
	  { sizeof(struct hv_input_dispatch_vp), 0, sizeof(struct hv_output_dispatch_vp),
	    0, false } },
	{ HVCALL_MAP_VP_STATE_PAGE, "MapVpStatePage", hc_map_vp_state_page,
	  { sizeof(struct hv_input_map_vp_state_page), 0, 0, 0, false } },
	{ HVCALL_ISOVISOR_NULL, "IsovisorNull", hc_null,
	  { 0, 0, 0, 0, true } },
	{ HVCALL_GET_PARTITION_ID, "GetPartitionId", hc_get_partition_id,
	  { 0, 0, 8, 0, false } },
	{ HVCALL_CREATE_PARTITION, "CreatePartition", hc_create_partition,
	  { sizeof(struct hv_input_create_partition), 0, 8, 0, false } },
	{ HVCALL_INITIALIZE_PARTITION, "InitializePartition", hc_initialize_partition,
	  { sizeof(struct hv_input_partition), 0, 0, 0, false } },
	{ HVCALL_DELETE_PARTITION, "DeletePartition", hc_delete_partition,
	  { sizeof(struct hv_input_partition), 0, 0, 0, false } },
	{ HVCALL_MAP_GPA_PAGES, "MapGpaPages", hc_map_gpa_pages,
	  { sizeof(struct hv_input_map_gpa_pages), 8, 0, 0, false } },
	{ HVCALL_CREATE_PORT, "CreatePort", hc_create_port,
	  { sizeof(struct hv_input_create_port), 0, 0, 0, false } },
	{ HVCALL_CONNECT_PORT, "ConnectPort", hc_connect_port,
	  { sizeof(struct hv_input_connect_port), 0, 0, 0, false } },
	{ HVCALL_POST_MESSAGE, "PostMessage", hc_post_message,
	  { sizeof(struct hv_input_post_message), 0, 0, 0, false } },
	{ HVCALL_SIGNAL_EVENT, "SignalEvent", hc_signal_event,
	  { 0, 0, 0, 0, true } },
	{ HVCALL_INSTALL_INTERCEPT, "InstallIntercept", hc_install_intercept,
	  { sizeof(struct hv_input_install_intercept), 0, 0, 0, false } },
	{ HVCALL_CREATE_VP, "CreateVp", hc_create_vp,
	  { sizeof(struct hv_input_create_vp), 0, 0, 0, false } },
	{ HVCALL_GET_VP_REGISTERS, "GetVpRegisters", hc_get_vp_registers,
	  { sizeof(struct hv_input_vp_registers), 4, 0, 16, false } },
	{ HVCALL_SET_VP_REGISTERS, "SetVpRegisters", hc_set_vp_registers,
	  { sizeof(struct hv_input_vp_registers), sizeof(struct hv_register_assoc), 0, 0, false } },
	{ HVCALL_ASSERT_VIRTUAL_INTERRUPT, "AssertVirtualInterrupt",
	  hc_assert_virtual_interrupt,
	  { sizeof(struct hv_input_assert_virtual_interrupt), 0, 0, 0, false } },
	{ HVCALL_ISOVISOR_COPY_TO_CHILD, "IsovisorCopyToChild", hc_copy_to_child,
	  { sizeof(struct hv_isovisor_copy_to_child), 0, 0, 0, false } },
	{ HVCALL_ISOVISOR_COPY_FROM_CHILD, "IsovisorCopyFromChild", hc_copy_from_child,
	  { sizeof(struct hv_isovisor_copy_to_child), 0, 0, 0, false } },
	{ HVCALL_TRANSLATE_VIRTUAL_ADDRESS, "TranslateVirtualAddress",
	  hc_translate_virtual_address,
	  { sizeof(struct hv_input_translate_virtual_address), 0,
	    sizeof(struct hv_output_translate_virtual_address), 0, false } },
	{ HVCALL_ISOVISOR_CONSOLE_LINE, "IsovisorConsoleLine", hc_console_line,
	  { sizeof(struct hv_isovisor_console_line), 0, 0, 0, false } },
	{ HVCALL_ISOVISOR_SET_PARTITION_NAME, "IsovisorSetPartitionName",
	  hc_set_partition_name, { 24, 0, 0, 0, false } },
	{ HVCALL_ISOVISOR_MAP_CHILD_PAGES, "IsovisorMapChildPages",
	  hc_map_child_pages, { 8, 8, 0, 8, false } },
	{ HVCALL_ISOVISOR_GET_CHILD_DMA_PAGES, "IsovisorGetChildDmaPages",
	  hc_get_child_dma_pages, { 8, 8, 0, 8, false } },
	{ HVCALL_ISOVISOR_UNMAP_CHILD_PAGES, "IsovisorUnmapChildPages",
	  hc_unmap_child_pages, { 8, 8, 0, 0, false } },
	{ HVCALL_START_VP, "StartVirtualProcessor", hc_start_vp,
	  { sizeof(struct hv_start_vp_input), 0, 0, 0, false } },
	{ HVCALL_GET_VP_INDEX_FROM_APIC_ID, "GetVpIndexFromApicId",
	  hc_get_vp_index_from_apic_id,
	  { sizeof(struct hv_get_vp_index_from_apic_id_input), 4, 0, 4, false } },
	{ HVCALL_ISOVISOR_GET_EXIT_COUNTERS, "IsovisorGetExitCounters",
	  hc_isovisor_exit_counters,
	  { 8, 0, sizeof(struct hv_isovisor_exit_counters), 0, false } },
	{ HVCALL_ISOVISOR_PORT_CREDIT, "IsovisorPortCredit", hc_port_credit,
	  { 0, 0, 0, 0, true } },
	{ HVCALL_ISOVISOR_GET_MEM_STATS, "IsovisorGetMemStats", hc_get_mem_stats,
	  { 0, 0, sizeof(struct hv_isovisor_mem_stats), 0, false } },
	{ HVCALL_ISOVISOR_GET_SELFTEST, "IsovisorGetSelftest",
	  hc_isovisor_selftest,
	  { 8, 0, sizeof(struct hv_isovisor_selftest), 0, false } },
};

static bool partition_owns(void *ctx, uint64_t gpa, uint64_t len)
{
	return gpa_to_hva(ctx, gpa, len) != NULL;
}

/* Per call: how often, and the TSC cycles from decoding to the output
 * written back (hypercall_report at the end of a run). Racy counters:
 * a profile, not an account. */
static struct { uint64_t calls, cycles; } hc_prof[ARRAY_SIZE(hypercalls)];

void hypercall_report(void)
{
	char line[600];
	int n = ksnprintf(line, sizeof(line), "hypercalls (calls x average cycles):");
	int head = n;

	for (unsigned i = 0; i < ARRAY_SIZE(hypercalls) && n < (int)sizeof(line); i++)
		if (hc_prof[i].calls)
			n += ksnprintf(line + n, sizeof(line) - n, " %s=%lux%lu",
				       hypercalls[i].name, hc_prof[i].calls,
				       hc_prof[i].cycles / hc_prof[i].calls);
	if (n > head)
		hv_log("%s", line);
}

static uint16_t hypercall_dispatch(struct vp *vp, unsigned *reps_done)
{
	uint64_t t0 = rdtsc();
	uint64_t input = vp->gpr[GPR_RCX];
	uint64_t in_gpa = vp->gpr[GPR_RDX], out_gpa = vp->gpr[GPR_R8];
	struct hc_ctx *c = &hc_ctx_percpu[this_cpu()->index];
	const struct hypercall_def *d = NULL;
	struct hc_input in;
	uint16_t status;
	unsigned which = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(hypercalls); i++)
		if (hypercalls[i].code == hc_code(input)) {
			d = &hypercalls[i];
			which = i;
			break;
		}
	status = hc_decode(input, d ? &d->shape : NULL, &in);
	if (status != HV_STATUS_SUCCESS)
		return status;
	c->vp = vp;
	c->fast = in.fast;
	c->rep_count = in.rep_count;
	c->rep_start = in.rep_start;
	c->reps_done = in.rep_start;
	/* No page-sized clears per call: the handler reads only the input
	 * its shape names (copied in below, or the two fast registers) and
	 * writes within the output its shape names, which alone is cleared
	 * first so nothing of an earlier call, another partition's
	 * included, goes back to the caller. */
	if (!in.fast && in.out_len)
		memset(c->out, 0, in.out_len);
	if (in.fast) {
		memcpy(c->in, &in_gpa, 8);
		memcpy(c->in + 8, &out_gpa, 8);
	} else {
		status = hc_check_area(in_gpa, in.in_len, partition_owns, vp->partition);
		if (status == HV_STATUS_SUCCESS)
			status = hc_check_area(out_gpa, in.out_len, partition_owns,
					       vp->partition);
		if (status != HV_STATUS_SUCCESS)
			return status;
		/* Copy in once; the guest may change its page meanwhile. */
		if (in.in_len)
			gpa_read(vp->partition, in_gpa, c->in, in.in_len);
	}
	status = d->fn(c);
	*reps_done = c->reps_done;
	if (!in.fast && in.out_len)
		gpa_write(vp->partition, out_gpa, c->out, in.out_len);
	hc_prof[which].calls++;
	hc_prof[which].cycles += rdtsc() - t0;
	return status;
}

enum exit_action exit_hypercall(struct vp *vp, struct vp_exit *e)
{
	struct vp_regs_view r;
	unsigned reps = 0;
	uint16_t status;

	virt->vp_read_regs(vp, &r);
	/* From user mode, or before the guest enabled the page, the
	 * instruction does not exist (TLFS: #UD). */
	if (r.cpl != 0 || !(vp->partition->hypercall_msr & HV_X64_MSR_HYPERCALL_ENABLE))
		return EXIT_ACTION_INJECT_UD;
	status = hypercall_dispatch(vp, &reps);
	vp->gpr[GPR_RAX] = status | ((uint64_t)reps << HV_HYPERCALL_REP_COMP_SHIFT);
	return EXIT_ACTION_ADVANCE;
}

enum exit_action hypercall_msr_write(struct vp *vp, uint64_t v)
{
	struct partition *p = vp->partition;
	uint64_t gpa = v & PTE_ADDR_MASK;

	if ((v & HV_X64_MSR_HYPERCALL_ENABLE) && !p->guest_os_id)
		v &= ~HV_X64_MSR_HYPERCALL_ENABLE;  /* needs a guest OS id first */
	if (v & HV_X64_MSR_HYPERCALL_ENABLE) {
		if (gpa_write(p, gpa, virt->hypercall_page,
			      sizeof(virt->hypercall_page))) {
			hv_log("%s vp %u: hypercall page at GPA %#lx it does not own",
			       p->name, vp->index, gpa);
			return EXIT_ACTION_INJECT_GP;
		}
	}
	p->hypercall_msr = v;
	return EXIT_ACTION_ADVANCE;
}
