/*
 * The root partition as a parent: create a child partition through the
 * TLFS partition management hypercalls, give it memory, run a tiny child
 * and complete its intercepts from the root's SynIC message page. The
 * child is a few bytes of 32-bit code (GRUB's machine state): it prints a
 * line on COM1, reads a port, reads a GPA beyond its memory, then triple
 * faults. Every step is an intercept the root must see and complete, and
 * the child's failure must stop only the child.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "root.h"

#define NATIVE "native boot"

#define CHILD_PAGES 16
#define SINT_VECTOR 0x50
#define CHILD_CODE_GPA 0x1000
#define CHILD_MSG_GPA 0x1800
#define PROBE_PORT 0x71                 /* the root answers 0x5a */
#define BEYOND_GPA 0x100000

static uint8_t in_page[4096] __attribute__((aligned(4096)));
static uint8_t out_page[4096] __attribute__((aligned(4096)));
static struct hv_message simp[16] __attribute__((aligned(4096)));
static volatile unsigned sint_count;

/* The child, 32-bit code at CHILD_CODE_GPA:
 *   mov $0x3f8,%dx; mov $MSG,%esi
 * 1: lodsb; test %al,%al; jz 2f; out %al,(%dx); jmp 1b
 * 2: in $0x71,%al; out %al,$0x80
 *    mov $0x12345678,%eax; cpuid; out %al,$0x81   (an installed intercept)
 *    mov 0x100000,%eax (A1 moffs32)
 *    lidt (null descriptor at 0x1fe0); int3   -> triple fault */
static const uint8_t child_code[] = {
	0x66, 0xba, 0xf8, 0x03,                 /* mov $0x3f8,%dx */
	0xbe, 0x00, 0x18, 0x00, 0x00,           /* mov $0x1800,%esi */
	0xac,                                   /* 1: lodsb */
	0x84, 0xc0,                             /* test %al,%al */
	0x74, 0x03,                             /* jz 2f */
	0xee,                                   /* out %al,(%dx) */
	0xeb, 0xf8,                             /* jmp 1b */
	0xe4, PROBE_PORT,                       /* 2: in $0x71,%al */
	0xe6, 0x80,                             /* out %al,$0x80 */
	0xb8, 0x78, 0x56, 0x34, 0x12,           /* mov $0x12345678,%eax */
	0x0f, 0xa2,                             /* cpuid */
	0xe6, 0x81,                             /* out %al,$0x81 */
	0xa1, 0x00, 0x00, 0x10, 0x00,           /* mov 0x100000,%eax */
	0x0f, 0x01, 0x1d, 0xe0, 0x1f, 0x00, 0x00, /* lidt 0x1fe0 */
	0xcc,                                   /* int3 */
};
#define BEYOND_INSN_LEN 5

static void sint_handler(struct cpu_regs *r)
{
	/* Auto-EOI SINT: nothing to acknowledge at the APIC. */
	sint_count++;
}

static uint16_t call(uint16_t code, unsigned reps)
{
	return hv_status(hv_hypercall(code | ((uint64_t)reps << 32),
				      (uint64_t)in_page, (uint64_t)out_page));
}

static uint16_t set_regs(uint64_t id, const struct hv_register_assoc *r, unsigned n)
{
	struct hv_input_vp_registers *in = (void *)in_page;

	memset(in_page, 0, sizeof(in_page));
	in->partition_id = id;
	memcpy(in_page + sizeof(*in), r, n * sizeof(*r));
	return call(HVCALL_SET_VP_REGISTERS, n);
}

static uint16_t get_reg(uint64_t id, uint32_t name, uint64_t *value)
{
	struct hv_input_vp_registers *in = (void *)in_page;
	uint16_t s;

	memset(in_page, 0, sizeof(in_page));
	in->partition_id = id;
	memcpy(in_page + sizeof(*in), &name, 4);
	s = call(HVCALL_GET_VP_REGISTERS, 1);
	memcpy(value, out_page, 8);
	return s;
}

static struct hv_register_assoc reg(uint32_t name, uint64_t v)
{
	struct hv_register_assoc r;

	memset(&r, 0, sizeof(r));
	r.name = name;
	r.value.reg64 = v;
	return r;
}

/* Resume the child after an intercept, at `rip`, with `rax`. */
static uint16_t complete(uint64_t id, uint64_t rip, uint64_t rax)
{
	struct hv_register_assoc r[3] = {
		reg(HV_X64_REGISTER_RIP, rip), reg(HV_X64_REGISTER_RAX, rax),
		reg(HV_REGISTER_INTERCEPT_SUSPEND, 0),
	};

	return set_regs(id, r, 3);
}

struct child_run {
	char line[64];
	unsigned line_len, io_writes;
	uint64_t probe_echo;            /* what the child wrote to port 0x80 */
	uint64_t cpuid_echo;            /* ... and to port 0x81 */
	bool cpuid_seen;
	uint64_t cpuid_default_rax;
	uint64_t beyond_gpa;
	bool beyond_seen, crashed, other;
};

/* Take one message from SINT 0; false when there is none. */
static bool handle_message(uint64_t id, struct child_run *run)
{
	struct hv_message *m = &simp[HV_SYNIC_INTERCEPTION_SINT_INDEX];
	uint32_t type = __atomic_load_n(&m->header.message_type, __ATOMIC_ACQUIRE);

	if (type == HVMSG_NONE)
		return false;
	if (type == HVMSG_X64_IO_PORT_INTERCEPT && m->header.sender == id) {
		struct hv_x64_io_port_intercept_message io;
		uint64_t rax;

		memcpy(&io, m->payload, sizeof(io));
		rax = io.rax;
		if (io.port_number == 0x3f8 && io.header.intercept_access_type == 1) {
			run->io_writes++;
			if (run->line_len < sizeof(run->line) - 1)
				run->line[run->line_len++] = (char)io.rax;
		} else if (io.port_number == PROBE_PORT && !io.header.intercept_access_type) {
			rax = (io.rax & ~0xffull) | 0x5a;
		} else if (io.port_number == 0x80) {
			run->probe_echo = io.rax & 0xff;
		} else if (io.port_number == 0x81) {
			run->cpuid_echo = io.rax & 0xff;
		} else {
			run->other = true;
		}
		complete(id, io.header.rip + io.header.instruction_length, rax);
	} else if (type == HVMSG_X64_CPUID_INTERCEPT && m->header.sender == id) {
		struct hv_x64_cpuid_intercept_message cp;
		struct hv_register_assoc r[5] = {
			reg(HV_X64_REGISTER_RAX, 0xc0ffee42), reg(HV_X64_REGISTER_RAX + 1, 0),
			reg(HV_X64_REGISTER_RAX + 2, 0), reg(HV_X64_REGISTER_RAX + 3, 0),
			reg(HV_REGISTER_INTERCEPT_SUSPEND, 0),
		};
		struct hv_register_assoc rip;

		memcpy(&cp, m->payload, sizeof(cp));
		run->cpuid_seen = cp.rax == 0x12345678;
		run->cpuid_default_rax = cp.default_result_rax;
		rip = reg(HV_X64_REGISTER_RIP, cp.header.rip + cp.header.instruction_length);
		set_regs(id, &rip, 1);
		set_regs(id, r, 5);
	} else if (type == HVMSG_UNMAPPED_GPA && m->header.sender == id) {
		struct hv_x64_memory_intercept_message mem;

		memcpy(&mem, m->payload, sizeof(mem));
		run->beyond_seen = true;
		run->beyond_gpa = mem.guest_physical_address;
		/* Nothing answers there: all ones, as on a PC. */
		complete(id, mem.header.rip + BEYOND_INSN_LEN, 0xffffffff);
	} else if (type == HVMSG_UNRECOVERABLE_EXCEPTION && m->header.sender == id) {
		run->crashed = true;
	} else {
		run->other = true;
	}
	/* Free the slot, then EOM so a waiting message is delivered. */
	__atomic_store_n(&m->header.message_type, HVMSG_NONE, __ATOMIC_RELEASE);
	wrmsr(HV_X64_MSR_EOM, 0);
	return true;
}

void test_child_partition(void)
{
	struct child_run run;
	uint64_t id = 0, pages, all_ones = 0, v;
	uint16_t s_create, s_init, s_init2, s_map, s_vp, s_bad_map, s_bad_id, s_del;
	uint16_t s_icpt, s_bad_icpt;
	bool zeroed = true;
	unsigned spins = 0;

	if (!boot.hv) {
		tap_skip(NATIVE, "root child: a child partition runs and its intercepts "
			 "reach the root");
		return;
	}
	memset(&run, 0, sizeof(run));
	irq_set_handler(SINT_VECTOR, sint_handler);
	wrmsr(HV_X64_MSR_SIMP, (uint64_t)simp | HV_SYNIC_SIMP_ENABLE);
	wrmsr(HV_X64_MSR_SINT0, SINT_VECTOR | HV_SYNIC_SINT_AUTO_EOI);
	wrmsr(HV_X64_MSR_SCONTROL, HV_SYNIC_SCONTROL_ENABLE);

	memset(in_page, 0, sizeof(in_page));
	s_create = call(HVCALL_CREATE_PARTITION, 0);
	memcpy(&id, out_page, 8);
	memset(in_page, 0, sizeof(in_page));
	memcpy(in_page, &id, 8);
	s_init = call(HVCALL_INITIALIZE_PARTITION, 0);
	s_init2 = call(HVCALL_INITIALIZE_PARTITION, 0);
	{
		struct hv_input_create_vp *in = (void *)in_page;

		memset(in_page, 0, sizeof(in_page));
		in->partition_id = id;
		s_vp = call(HVCALL_CREATE_VP, 0);
	}
	tap_result(s_create == HV_STATUS_SUCCESS && id > 1 && s_init == HV_STATUS_SUCCESS &&
		   s_init2 == HV_STATUS_INVALID_PARTITION_STATE && s_vp == HV_STATUS_SUCCESS,
		   "root child: CreatePartition (id %lu), InitializePartition and CreateVp "
		   "succeed; initializing twice -> INVALID_PARTITION_STATE (0x%x)", id, s_init2);

	/* Memory: 16 pages of the root's become the child's GPA 0..64K. */
	pages = pmm_alloc_contig(&root_pmm, CHILD_PAGES, 4096);
	{
		struct hv_input_map_gpa_pages *in = (void *)in_page;

		memset(in_page, 0, sizeof(in_page));
		in->target_partition_id = id;
		in->map_flags = HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE |
				HV_MAP_GPA_EXECUTABLE;
		for (unsigned i = 0; i < CHILD_PAGES; i++)
			in->source_gpa_page_list[i] = (pages >> 12) + i;
		s_map = call(HVCALL_MAP_GPA_PAGES, CHILD_PAGES);
		in->target_gpa_base = 0x100;
		in->source_gpa_page_list[0] = 0x100;    /* the hypervisor's */
		s_bad_map = call(HVCALL_MAP_GPA_PAGES, 1);
		in->target_partition_id = 12345;
		s_bad_id = call(HVCALL_MAP_GPA_PAGES, 1);
	}
	read_u64_safe(pages + CHILD_MSG_GPA, &all_ones);
	tap_result(s_map == HV_STATUS_SUCCESS && all_ones == ~0ull,
		   "root child: %u pages given to the child leave the root's view "
		   "(they now read %#lx; the hypervisor zeroed them)", CHILD_PAGES, all_ones);
	tap_result(s_bad_map == HV_STATUS_INVALID_PARAMETER &&
		   s_bad_id == HV_STATUS_INVALID_PARTITION_ID,
		   "root child: MapGpaPages of memory the root does not own -> "
		   "INVALID_PARAMETER (0x%x), of an unknown partition -> "
		   "INVALID_PARTITION_ID (0x%x)", s_bad_map, s_bad_id);

	/* Ask to see the child's CPUID leaf 0x12345678. */
	{
		struct hv_input_install_intercept *in = (void *)in_page;

		memset(in_page, 0, sizeof(*in));
		in->partition_id = id;
		in->access_type = 1;
		in->intercept_type = 99;
		s_bad_icpt = call(HVCALL_INSTALL_INTERCEPT, 0);
		in->intercept_type = HV_INTERCEPT_TYPE_X64_CPUID;
		in->parameter = 0x12345678;
		s_icpt = call(HVCALL_INSTALL_INTERCEPT, 0);
	}
	/* Load the child through the hypervisor (the root no longer sees
	 * those pages), point its VP at the code, resume it. */
	{
		static uint8_t staging[4096] __attribute__((aligned(4096)));
		struct hv_isovisor_copy_to_child *in = (void *)in_page;
		struct hv_register_assoc r[2] = {
			reg(HV_X64_REGISTER_RIP, CHILD_CODE_GPA),
			reg(HV_REGISTER_EXPLICIT_SUSPEND, 0),
		};

		memset(staging, 0, sizeof(staging));
		memcpy(staging, child_code, sizeof(child_code));
		memcpy(staging + (CHILD_MSG_GPA - CHILD_CODE_GPA), "hello from the child\n", 22);
		memset(in_page, 0, sizeof(in_page));
		in->partition_id = id;
		in->child_gpa = CHILD_CODE_GPA;
		in->root_gpa = (uint64_t)staging;
		in->bytes = 0x1000;
		call(HVCALL_ISOVISOR_COPY_TO_CHILD, 0);
		set_regs(id, r, 2);
	}
	/* The child runs while this VP idles; each intercept wakes us. */
	while (!run.crashed && spins++ < 100000) {
		if (!handle_message(id, &run))
			__asm__ volatile("sti; hlt; cli");
	}
	tap_result(run.io_writes == 21 && run.line_len == 21 &&
		   !memcmp(run.line, "hello from the child\n", 21),
		   "root child: %u port writes of the child arrived as IO intercept "
		   "messages on SINT 0 and were completed (%u SINT interrupts)",
		   run.io_writes, sint_count);
	tap_result(run.probe_echo == 0x5a,
		   "root child: an IN the root completed gave the child the root's "
		   "value (echoed back %#lx)", run.probe_echo);
	tap_result(s_icpt == HV_STATUS_SUCCESS && s_bad_icpt == HV_STATUS_INVALID_PARAMETER &&
		   run.cpuid_seen && run.cpuid_echo == 0x42,
		   "root child: an installed CPUID intercept (leaf 0x12345678) came to "
		   "the root with the hypervisor's answer (eax %#lx) and the root's "
		   "answer reached the child (echoed %#lx); an unknown intercept type "
		   "-> INVALID_PARAMETER (0x%x)", run.cpuid_default_rax, run.cpuid_echo,
		   s_bad_icpt);
	tap_result(run.beyond_seen && run.beyond_gpa == BEYOND_GPA,
		   "root child: the child's read beyond its memory became an "
		   "unmapped-GPA intercept for GPA %#lx", run.beyond_gpa);
	tap_result(run.crashed && !run.other,
		   "root child: the child's triple fault stopped only the child; the "
		   "root got HVMSG_UNRECOVERABLE_EXCEPTION");
	get_reg(id, HV_X64_REGISTER_RIP, &v);

	memset(in_page, 0, sizeof(in_page));
	memcpy(in_page, &id, 8);
	s_del = call(HVCALL_DELETE_PARTITION, 0);
	for (unsigned i = 0; i < CHILD_PAGES * 512; i++) {
		uint64_t q = 1;

		if (read_u64_safe(pages + i * 8, &q) || q)
			zeroed = false;
	}
	tap_result(s_del == HV_STATUS_SUCCESS && zeroed,
		   "root child: DeletePartition returns the %u pages to the root, "
		   "zeroed", CHILD_PAGES);
}
