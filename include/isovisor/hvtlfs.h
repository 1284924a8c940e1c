/*
 * The Hyper-V Top Level Functional Specification ABI that isovisor
 * implements: CPUID leaves, synthetic MSRs, the hypercall input value and
 * status codes, hypercall codes and input layouts. Names follow the TLFS
 * and Linux's hyperv-tlfs.h so the two can be read side by side.
 *
 * Deliberate deviations (documented in README too):
 *   - hypercall codes 0x8001.. are isovisor's own (test-bed statistics and
 *     self-test results); the TLFS leaves that range unassigned.
 */
#ifndef ISOVISOR_HVTLFS_H
#define ISOVISOR_HVTLFS_H

#include <stdint.h>

/* ---- CPUID ----------------------------------------------------------- */
#define HV_CPUID_VENDOR_AND_MAX         0x40000000
#define HV_CPUID_INTERFACE              0x40000001
#define HV_CPUID_VERSION                0x40000002
#define HV_CPUID_FEATURES               0x40000003
#define HV_CPUID_ENLIGHTENMENT_INFO     0x40000004
#define HV_CPUID_IMPLEMENT_LIMITS       0x40000005
#define HV_CPUID_HARDWARE_FEATURES      0x40000006
#define HV_CPUID_MAX_LEAF               HV_CPUID_HARDWARE_FEATURES
#define HV_CPUID_INTERFACE_SIGNATURE    0x31237648      /* "Hv#1" */

/* HV_CPUID_FEATURES EAX: partition privilege mask, low half */
#define HV_MSR_VP_RUNTIME_AVAILABLE     (1u << 0)
#define HV_MSR_TIME_REF_COUNT_AVAILABLE (1u << 1)
#define HV_MSR_SYNIC_AVAILABLE          (1u << 2)
#define HV_MSR_SYNTIMER_AVAILABLE       (1u << 3)
#define HV_MSR_APIC_ACCESS_AVAILABLE    (1u << 4)
#define HV_MSR_HYPERCALL_AVAILABLE      (1u << 5)
#define HV_MSR_VP_INDEX_AVAILABLE       (1u << 6)
#define HV_MSR_RESET_AVAILABLE          (1u << 7)
#define HV_MSR_STAT_PAGES_AVAILABLE     (1u << 8)
#define HV_MSR_REFERENCE_TSC_AVAILABLE  (1u << 9)
#define HV_MSR_GUEST_IDLE_AVAILABLE     (1u << 10)
#define HV_ACCESS_FREQUENCY_MSRS        (1u << 11)
/* CPUID 0x40000003 EDX */
#define HV_FEATURE_FREQUENCY_MSRS_AVAILABLE (1u << 8)
#define HV_STIMER_DIRECT_MODE_AVAILABLE (1u << 19)
#define HV_X64_MSR_REFERENCE_TSC_ENABLE 1ull
/* HV_CPUID_FEATURES EBX: partition privilege mask, high half */
#define HV_CREATE_PARTITIONS            (1u << 0)
#define HV_ACCESS_PARTITION_ID          (1u << 1)
#define HV_ACCESS_MEMORY_POOL           (1u << 2)
#define HV_POST_MESSAGES                (1u << 4)
#define HV_SIGNAL_EVENTS                (1u << 5)
#define HV_CREATE_PORT                  (1u << 6)
#define HV_CONNECT_PORT                 (1u << 7)
#define HV_CPU_MANAGEMENT               (1u << 12)

/* ---- synthetic MSRs ----------------------------------------------------- */
#define HV_X64_MSR_GUEST_OS_ID          0x40000000
#define HV_X64_MSR_HYPERCALL            0x40000001
#define HV_X64_MSR_VP_INDEX             0x40000002
#define HV_X64_MSR_RESET                0x40000003
#define HV_X64_MSR_VP_RUNTIME           0x40000010
#define HV_X64_MSR_TIME_REF_COUNT       0x40000020
#define HV_X64_MSR_REFERENCE_TSC        0x40000021
/* The synthetic APIC MSRs (HV_MSR_APIC_ACCESS_AVAILABLE): EOI, ICR and
 * TPR of the VP's APIC in either mode, and the VP assist page. */
#define HV_X64_MSR_EOI                  0x40000070
#define HV_X64_MSR_ICR                  0x40000071
#define HV_X64_MSR_TPR                  0x40000072
#define HV_X64_MSR_VP_ASSIST_PAGE       0x40000073
#define HV_X64_MSR_VP_ASSIST_PAGE_ENABLE 1ull
/* Synthetic timers (TLFS 12.4): config and count of timers 0-3 at
 * 0x400000b0 + 2n and + 2n + 1. Count in 100 ns of the reference time:
 * the absolute expiry of a one-shot timer, the period of a periodic one. */
#define HV_X64_MSR_STIMER0_CONFIG       0x400000b0
#define HV_X64_MSR_STIMER0_COUNT        0x400000b1
#define HV_X64_MSR_STIMER3_COUNT        0x400000b7
#define HV_STIMER_COUNT                 4
#define HV_STIMER_ENABLE                (1ull << 0)
#define HV_STIMER_PERIODIC              (1ull << 1)
#define HV_STIMER_LAZY                  (1ull << 2)
#define HV_STIMER_AUTO_ENABLE           (1ull << 3)
#define HV_STIMER_VECTOR(c)             (((c) >> 4) & 0xff)
#define HV_STIMER_DIRECT                (1ull << 12)
#define HV_STIMER_SINT(c)               (((c) >> 16) & 0xf)
#define HV_STIMER_CONFIG_VALID          0x000f1fffull
#define HV_X64_MSR_TSC_FREQUENCY        0x40000022
#define HV_X64_MSR_APIC_FREQUENCY       0x40000023

#define HV_X64_MSR_HYPERCALL_ENABLE     (1ull << 0)
#define HV_X64_MSR_HYPERCALL_LOCKED     (1ull << 1)
#define HV_X64_MSR_HYPERCALL_PAGE_SHIFT 12

/* SynIC (TLFS chapter 11) */
#define HV_X64_MSR_SCONTROL             0x40000080
#define HV_X64_MSR_SVERSION             0x40000081
#define HV_X64_MSR_SIEFP                0x40000082
#define HV_X64_MSR_SIMP                 0x40000083
#define HV_X64_MSR_EOM                  0x40000084
#define HV_X64_MSR_SINT0                0x40000090
#define HV_X64_MSR_SINT15               0x4000009f
#define HV_SYNIC_SCONTROL_ENABLE        (1ull << 0)
#define HV_SYNIC_SIMP_ENABLE            (1ull << 0)
#define HV_SYNIC_SINT_MASKED            (1ull << 16)
#define HV_SYNIC_SINT_AUTO_EOI          (1ull << 17)
#define HV_SYNIC_SINT_VECTOR_MASK       0xffull
#define HV_SYNIC_SINT_COUNT             16
#define HV_SYNIC_VERSION                1
/* Intercept messages for a child go to the root's SINT 0. */
#define HV_SYNIC_INTERCEPTION_SINT_INDEX 0

/* ---- hypercall input value (RCX) and result (RAX) ------------------------ */
#define HV_HYPERCALL_CODE_MASK          0xffffull
#define HV_HYPERCALL_FAST_BIT           (1ull << 16)
#define HV_HYPERCALL_VARHEAD_SHIFT      17
#define HV_HYPERCALL_VARHEAD_MASK       (0x3ffull << 17)
#define HV_HYPERCALL_REP_COMP_SHIFT     32
#define HV_HYPERCALL_REP_COMP_MASK      (0xfffull << 32)
#define HV_HYPERCALL_REP_START_SHIFT    48
#define HV_HYPERCALL_REP_START_MASK     (0xfffull << 48)
/* Everything else in the input value is reserved and must be zero. */
#define HV_HYPERCALL_RSVD_MASK          (~(HV_HYPERCALL_CODE_MASK | \
	HV_HYPERCALL_FAST_BIT | HV_HYPERCALL_VARHEAD_MASK | \
	HV_HYPERCALL_REP_COMP_MASK | HV_HYPERCALL_REP_START_MASK))

#define HV_STATUS_SUCCESS                       0x0000
#define HV_STATUS_INVALID_HYPERCALL_CODE        0x0002
#define HV_STATUS_INVALID_HYPERCALL_INPUT       0x0003
#define HV_STATUS_INVALID_ALIGNMENT             0x0004
#define HV_STATUS_INVALID_PARAMETER             0x0005
#define HV_STATUS_ACCESS_DENIED                 0x0006
#define HV_STATUS_INVALID_PARTITION_STATE       0x0007
#define HV_STATUS_OPERATION_DENIED              0x0008
#define HV_STATUS_UNKNOWN_PROPERTY              0x0009
#define HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE   0x000a
#define HV_STATUS_INSUFFICIENT_MEMORY           0x000b
#define HV_STATUS_INVALID_PARTITION_ID          0x000d
#define HV_STATUS_INVALID_VP_INDEX              0x000e
#define HV_STATUS_NOT_FOUND                     0x0010
#define HV_STATUS_INVALID_PORT_ID               0x0011
#define HV_STATUS_INVALID_CONNECTION_ID         0x0012
#define HV_STATUS_INSUFFICIENT_BUFFERS          0x0013
#define HV_STATUS_NOT_ACKNOWLEDGED              0x0014
#define HV_STATUS_INVALID_VP_STATE              0x0015
#define HV_STATUS_ACKNOWLEDGED                  0x0016
#define HV_STATUS_INVALID_SYNIC_STATE           0x0018
#define HV_STATUS_OBJECT_IN_USE                 0x0019
#define HV_STATUS_NO_DATA                       0x001b

/* ---- hypercall codes ---------------------------------------------------- */
#define HVCALL_CREATE_PARTITION                 0x0040
#define HVCALL_INITIALIZE_PARTITION             0x0041
#define HVCALL_DELETE_PARTITION                 0x0043
#define HVCALL_GET_PARTITION_ID                 0x0046
#define HVCALL_MAP_GPA_PAGES                    0x004b
#define HVCALL_INSTALL_INTERCEPT                0x004d
#define HVCALL_CREATE_VP                        0x004e
#define HVCALL_GET_VP_REGISTERS                 0x0050
#define HVCALL_SET_VP_REGISTERS                 0x0051
#define HVCALL_TRANSLATE_VIRTUAL_ADDRESS        0x0052
#define HVCALL_POST_MESSAGE                     0x005c
#define HVCALL_SIGNAL_EVENT                     0x005d
#define HVCALL_ASSERT_VIRTUAL_INTERRUPT         0x0094
#define HVCALL_CREATE_PORT                      0x0095
#define HVCALL_CONNECT_PORT                     0x0096
#define HVCALL_START_VP                         0x0099
#define HVCALL_GET_VP_INDEX_FROM_APIC_ID        0x009a
/* isovisor's own (see the deviation note above). The null call (fast,
 * no parameters, returns success) measures the round trip. */
#define HVCALL_ISOVISOR_NULL                    0x8000
#define HVCALL_ISOVISOR_GET_EXIT_COUNTERS       0x8001
#define HVCALL_ISOVISOR_GET_SELFTEST            0x8002
/* Copy up to a page from the root's memory into a child's (the root no
 * longer sees memory it gave away): {partition_id, child_gpa, root_gpa,
 * bytes}. */
#define HVCALL_ISOVISOR_COPY_TO_CHILD           0x8003
/* The reverse: {partition_id, child_gpa, root_gpa, bytes}. */
#define HVCALL_ISOVISOR_COPY_FROM_CHILD         0x8004
/* One console line on behalf of a child: the hypervisor owns the console
 * and prints "<source>: <text>". Input struct hv_isovisor_console_line. */
#define HVCALL_ISOVISOR_CONSOLE_LINE            0x8005
/* Name a child (for the logs): {partition_id, char name[16]}. */
#define HVCALL_ISOVISOR_SET_PARTITION_NAME      0x8006
/* Let the root reach pages of a child it serves (VMBus rings): rep call,
 * input {partition_id} then one child GPA page number per rep; output
 * one root GPA per rep, where the page now also appears in the root's
 * view (read/write, no execute) until unmapped or the child is deleted. */
#define HVCALL_ISOVISOR_MAP_CHILD_PAGES         0x8007
/* The reverse: input {partition_id} then one root GPA per rep. */
#define HVCALL_ISOVISOR_UNMAP_CHILD_PAGES       0x8008
/* The hypervisor's memory and tables, for leak checks: root only, no
 * input, output struct hv_isovisor_mem_stats. */
#define HVCALL_ISOVISOR_GET_MEM_STATS           0x8009
/* Flow control of a message port the caller (the root) owns: a fast
 * call, RDX = port id (bits 31:0) | operation (bits 39:32), the rest
 * zero. HV_ISOVISOR_PORT_CREDIT_ON puts the port in credit mode: it has
 * one credit, a message posted to it takes the credit, and while it is
 * taken every HvPostMessage to the port gets HV_STATUS_INSUFFICIENT_
 * BUFFERS (the sender waits and retries). HV_ISOVISOR_PORT_CREDIT_RETURN
 * gives the credit back once the owner has acted on the message, so a
 * sender can never get ahead of the owner's ability to answer it. */
#define HVCALL_ISOVISOR_PORT_CREDIT             0x800a
#define HV_ISOVISOR_PORT_CREDIT_ON              0
#define HV_ISOVISOR_PORT_CREDIT_RETURN          1
/* The host physical address of child pages, for the root's devices to
 * move data to and from them by DMA with no copy (storvsp): rep call,
 * root only, input {partition_id} then one child GPA page number per rep
 * (a page of the child's RAM); output one host physical address per rep.
 * Nothing is mapped: the root's CPU still cannot touch the pages. With
 * no IOMMU the root's devices reach all memory anyway (as Hyper-V's root
 * without DMA protection): this only tells the root where the child's
 * buffer is. The addresses stay the child's until it is deleted, which
 * only the root itself does. */
#define HVCALL_ISOVISOR_GET_CHILD_DMA_PAGES     0x800b

#define HV_PARTITION_ID_SELF    ((uint64_t)-1)
#define HV_VP_INDEX_SELF        ((uint32_t)-2)

/* Segment and table registers as the TLFS passes them (HV_X64_SEGMENT_
 * REGISTER, HV_X64_TABLE_REGISTER). */
struct hv_x64_segment_register {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint16_t attributes;    /* VMX-style: type, S, DPL, P, AVL, L, D/B, G */
};

struct hv_x64_table_register {
	uint16_t pad[3];
	uint16_t limit;
	uint64_t base;
};

/* HV_INITIAL_VP_CONTEXT */
struct hv_initial_vp_context {
	uint64_t rip;
	uint64_t rsp;
	uint64_t rflags;
	struct hv_x64_segment_register cs, ds, es, fs, gs, ss, tr, ldtr;
	struct hv_x64_table_register idtr, gdtr;
	uint64_t efer;
	uint64_t cr0;
	uint64_t cr3;
	uint64_t cr4;
	uint64_t msr_cr_pat;
};

/* HvCallStartVirtualProcessor input */
struct hv_start_vp_input {
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t target_vtl;
	uint8_t mbz0;
	uint16_t mbz1;
	struct hv_initial_vp_context vp_context;
};

/* HvCallGetVpIndexFromApicId: a rep hypercall, one APIC id in, one VP
 * index out per rep. */
struct hv_get_vp_index_from_apic_id_input {
	uint64_t partition_id;
	uint8_t target_vtl;
	uint8_t pad[7];
	uint32_t apic_ids[];
};

/* HVCALL_ISOVISOR_GET_EXIT_COUNTERS: a memory (not fast) call; input
 * { uint32 vp_index; uint32 pad }, output: one counter per exit reason (see
 * the hypervisor's exit.h). A bad index gets HV_STATUS_INVALID_VP_INDEX. */
#define HV_ISOVISOR_EXIT_REASONS_MAX 32
struct hv_isovisor_exit_counters {
	uint32_t count;                 /* valid entries */
	uint32_t pad;
	uint64_t exits[HV_ISOVISOR_EXIT_REASONS_MAX];
	char names[HV_ISOVISOR_EXIT_REASONS_MAX][16];
};

/* HVCALL_ISOVISOR_GET_SELFTEST: a memory call; input { uint32 index;
 * uint32 pad }, output: one of the hypervisor's own test-mode results; an
 * index past the last gets HV_STATUS_INVALID_PARAMETER. */
struct hv_isovisor_selftest {
	uint32_t total;
	uint32_t ok;                    /* 1 ok, 0 not ok */
	char description[240];
};

struct hv_isovisor_mem_stats {
	uint64_t free_pages;            /* the hypervisor's allocator */
	uint64_t child_partitions;      /* that exist now */
	uint64_t partitions_created;    /* since boot */
	uint64_t partitions_deleted;
	uint64_t asids_in_use;          /* address-space tags, the root's included */
	uint64_t max_child_partitions;
};
_Static_assert(sizeof(struct hv_isovisor_mem_stats) == 48, "mem stats");

/* ---- partition management ------------------------------------------------ */
struct hv_input_create_partition {
	uint64_t flags;
	uint64_t proximity_domain_info;
	uint32_t compatibility_version;
	uint32_t padding;
};

struct hv_input_partition {                     /* Initialize, Delete */
	uint64_t partition_id;
};

#define HV_MAP_GPA_READABLE     (1u << 0)
#define HV_MAP_GPA_WRITABLE     (1u << 1)
#define HV_MAP_GPA_EXECUTABLE   (1u << 2)
struct hv_input_map_gpa_pages {                 /* rep: source GPA page numbers */
	uint64_t target_partition_id;
	uint64_t target_gpa_base;                /* page number */
	uint32_t map_flags;
	uint32_t padding;
	uint64_t source_gpa_page_list[];
};

struct hv_input_create_vp {
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t padding[3];
	uint8_t subnode_type;
	uint64_t subnode_id;
	uint64_t proximity_domain_info;
	uint64_t flags;
};

/* Register names (HV_REGISTER_NAME) */
#define HV_REGISTER_EXPLICIT_SUSPEND    0x00000000
#define HV_REGISTER_INTERCEPT_SUSPEND   0x00000001
#define HV_X64_REGISTER_RAX             0x00020000  /* .. R15 = 0x0002000f */
#define HV_X64_REGISTER_RIP             0x00020010
#define HV_X64_REGISTER_RFLAGS          0x00020011
#define HV_X64_REGISTER_CR0             0x00040000
#define HV_X64_REGISTER_CR2             0x00040001
#define HV_X64_REGISTER_CR3             0x00040002
#define HV_X64_REGISTER_CR4             0x00040003
#define HV_X64_REGISTER_ES              0x00060000  /* CS SS DS FS GS LDTR TR follow */
#define HV_X64_REGISTER_TR              0x00060007
#define HV_X64_REGISTER_IDTR            0x00070000
#define HV_X64_REGISTER_GDTR            0x00070001
#define HV_X64_REGISTER_EFER            0x00080001

struct hv_register_assoc {
	uint32_t name;
	uint32_t reserved1;
	uint64_t reserved2;
	union {
		uint64_t reg64;
		uint64_t reg128[2];
		struct hv_x64_segment_register segment;
		struct hv_x64_table_register table;
	} value;
};

struct hv_input_vp_registers {                  /* Get (names) / Set (assocs) */
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t input_vtl;
	uint8_t rsvd_z8;
	uint16_t rsvd_z16;
};

/* Ports and connections (TLFS 11.9): a port belongs to the partition
 * that receives; a connection lets another partition post to it. */
#define HV_PORT_TYPE_MESSAGE    1
#define HV_PORT_TYPE_EVENT      2
#define HV_EVENT_FLAGS_PER_SINT 2048

struct hv_port_info {
	uint32_t port_type;
	uint32_t padding;
	uint32_t target_sint;
	uint32_t target_vp;
	uint16_t base_flag_number;              /* event ports */
	uint16_t flag_count;
	uint32_t rsvdz;
};

struct hv_input_create_port {
	uint64_t port_partition_id;
	uint32_t port_id;
	uint8_t port_vtl;
	uint8_t min_connection_vtl;
	uint16_t padding;
	uint64_t connection_partition_id;
	struct hv_port_info port_info;
	uint64_t proximity_domain_info;
};

struct hv_input_connect_port {
	uint64_t connection_partition_id;
	uint32_t connection_id;
	uint8_t connection_vtl;
	uint8_t rsvdz0;
	uint16_t rsvdz1;
	uint64_t port_partition_id;
	uint32_t port_id;
	uint32_t reserved2;
	uint32_t port_type;                     /* hv_connection_info */
	uint32_t padding;
	uint64_t connection_info_rsvdz;
	uint64_t proximity_domain_info;
};

struct hv_input_post_message {
	uint32_t connection_id;
	uint32_t reserved;
	uint32_t message_type;
	uint32_t payload_size;
	uint8_t payload[240];
};

/* HvCallInstallIntercept */
#define HV_INTERCEPT_TYPE_X64_IO_PORT   0
#define HV_INTERCEPT_TYPE_X64_MSR       1
#define HV_INTERCEPT_TYPE_X64_CPUID     2
#define HV_INTERCEPT_TYPE_X64_MSR_INDEX 0xc
#define HV_INTERCEPT_ACCESS_MASK_READ   1
#define HV_INTERCEPT_ACCESS_MASK_WRITE  2
/* HVMSG_TIMER_EXPIRED: a synthetic timer in message mode. */
struct hv_timer_message_payload {
	uint32_t timer_index;
	uint32_t reserved;
	uint64_t expiration_time;       /* when it was due, 100 ns */
	uint64_t delivery_time;         /* when it was delivered */
};

/* HVMSG_X64_APIC_EOI: a child VP's EOI of a level-triggered vector, for
 * the I/O APIC model that asserted it. isovisor holds the VP in intercept
 * suspend until the root completes it (so a line still asserted fires
 * again before the VP goes on). */
struct hv_x64_apic_eoi_message {
	uint32_t vp_index;
	uint32_t interrupt_vector;
};

struct hv_input_install_intercept {
	uint64_t partition_id;
	uint32_t access_type;                   /* HV_INTERCEPT_ACCESS_MASK_* */
	uint32_t intercept_type;
	uint64_t parameter;                     /* port, CPUID leaf, MSR index */
};

/* HvCallAssertVirtualInterrupt: HV_INTERRUPT_CONTROL is the type and a
 * word of flags (level triggered, logical destination mode). */
#define HV_INTERRUPT_TYPE_FIXED 0
#define HV_INTERRUPT_TYPE_LOWESTPRIORITY 1
#define HV_INTERRUPT_TYPE_NMI 4
#define HV_INTERRUPT_TYPE_EXTINT 7     /* the 8259's, through LINT0 */
#define HV_INTERRUPT_CONTROL_LEVEL      (1u << 0)
#define HV_INTERRUPT_CONTROL_LOGICAL    (1u << 1)
struct hv_input_assert_virtual_interrupt {
	uint64_t partition_id;
	uint32_t interrupt_type;                /* HV_INTERRUPT_TYPE_* */
	uint32_t control;                       /* HV_INTERRUPT_CONTROL_* */
	uint64_t dest_address;                  /* APIC id, or logical destination */
	uint32_t vector;
	uint8_t target_vtl;
	uint8_t rsvd_z0;
	uint16_t rsvd_z1;
};

struct hv_isovisor_copy_to_child {
	uint64_t partition_id;
	uint64_t child_gpa;
	uint64_t root_gpa;
	uint64_t bytes;
};

struct hv_isovisor_console_line {
	char source[16];                        /* [a-z0-9_-], NUL-terminated */
	uint32_t length;
	uint32_t pad;
	char text[232];
};

/* HvCallTranslateVirtualAddress */
#define HV_TRANSLATE_GVA_VALIDATE_READ  (1ull << 0)
#define HV_TRANSLATE_GVA_SUCCESS        0
#define HV_TRANSLATE_GVA_PAGE_NOT_PRESENT 1
#define HV_TRANSLATE_GVA_GPA_UNMAPPED   4
struct hv_input_translate_virtual_address {
	uint64_t partition_id;
	uint32_t vp_index;
	uint32_t padding;
	uint64_t control_flags;
	uint64_t gva_page;
};

struct hv_output_translate_virtual_address {
	uint32_t result_code;
	uint32_t cache_type;
	uint64_t gpa_page;
};

/* ---- SynIC messages ------------------------------------------------------ */
#define HVMSG_NONE                      0x00000000
#define HVMSG_UNMAPPED_GPA              0x80000000
#define HVMSG_UNRECOVERABLE_EXCEPTION   0x80000021
#define HVMSG_X64_IO_PORT_INTERCEPT     0x80010000
#define HVMSG_X64_MSR_INTERCEPT         0x80010001
#define HVMSG_X64_CPUID_INTERCEPT       0x80010002
#define HVMSG_X64_APIC_EOI              0x80010004
#define HVMSG_TIMER_EXPIRED             0x80000010
#define HVMSG_X64_HALT                  0x80010007
#define HV_MESSAGE_PAYLOAD_BYTES        240
#define HV_MESSAGE_FLAG_PENDING         0x01

struct hv_message_header {
	uint32_t message_type;
	uint8_t payload_size;
	uint8_t message_flags;
	uint8_t reserved[2];
	uint64_t sender;
};

struct hv_message {
	struct hv_message_header header;
	uint8_t payload[HV_MESSAGE_PAYLOAD_BYTES];
};

struct hv_x64_intercept_message_header {
	uint32_t vp_index;
	uint8_t instruction_length;             /* bits 3:0 */
	uint8_t intercept_access_type;          /* 0 read, 1 write, 2 execute */
	uint16_t execution_state;
	struct hv_x64_segment_register cs_segment;
	uint64_t rip;
	uint64_t rflags;
} __attribute__((packed));

struct hv_x64_io_port_intercept_message {
	struct hv_x64_intercept_message_header header;
	uint16_t port_number;
	uint8_t access_info;                    /* size 2:0, string 3, rep 4 */
	uint8_t instruction_byte_count;
	uint32_t reserved;
	uint64_t rax;
	uint8_t instruction_bytes[16];
	struct hv_x64_segment_register ds_segment;
	struct hv_x64_segment_register es_segment;
	uint64_t rcx;
	uint64_t rsi;
	uint64_t rdi;
} __attribute__((packed));

struct hv_x64_memory_intercept_message {
	struct hv_x64_intercept_message_header header;
	uint32_t cache_type;
	uint8_t instruction_byte_count;
	uint8_t memory_access_info;
	uint8_t tpr_priority;
	uint8_t reserved1;
	uint64_t guest_virtual_address;
	uint64_t guest_physical_address;
	uint8_t instruction_bytes[16];
} __attribute__((packed));

struct hv_x64_cpuid_intercept_message {
	struct hv_x64_intercept_message_header header;
	uint64_t rax, rcx, rdx, rbx;
	uint64_t default_result_rax, default_result_rcx;
	uint64_t default_result_rdx, default_result_rbx;
} __attribute__((packed));

struct hv_x64_msr_intercept_message {
	struct hv_x64_intercept_message_header header;
	uint32_t msr_number;
	uint32_t reserved;
	uint64_t rdx;
	uint64_t rax;
} __attribute__((packed));

_Static_assert(sizeof(struct hv_port_info) == 24, "port info");
_Static_assert(sizeof(struct hv_input_create_port) == 56, "create port");
_Static_assert(sizeof(struct hv_input_connect_port) == 56, "connect port");
_Static_assert(sizeof(struct hv_input_post_message) == 256, "post message");
_Static_assert(sizeof(struct hv_x64_cpuid_intercept_message) == 104, "cpuid intercept");
_Static_assert(sizeof(struct hv_x64_msr_intercept_message) == 64, "msr intercept");
_Static_assert(sizeof(struct hv_input_install_intercept) == 24, "install intercept");
/* ---- the root scheduler: HvCallDispatchVp ---------------------------------
 * Not in the TLFS: isovisor's reading of the calls Hyper-V's root
 * scheduler uses (as Linux's mshv root driver makes them; numbers,
 * structures and flags as there). The root runs a child VP with one
 * hypercall that returns when the VP needs the root: an intercept (its
 * message is in the VP's intercept page, not on SINT 0), a halt, or an
 * interrupt for the root. The next dispatch completes the intercept: the
 * register page's dirty classes are applied and, with CLEAR_INTERCEPT_
 * SUSPEND, the VP goes on. No SINT interrupt, EOM or HLT per intercept.
 *
 * Where isovisor differs from Hyper-V:
 * - HvCallMapVpStatePage takes the page from the root (root_gpa_page,
 *   a page of its own RAM; it leaves the root's lendable memory until the
 *   child is deleted) instead of returning one of the hypervisor's; the
 *   call also switches that VP to the root scheduler: the hypervisor no
 *   longer runs it on its own. It is refused (HV_STATUS_INVALID_VP_STATE)
 *   for a VP that has run or is bound to another CPU than the caller's,
 *   and (HV_STATUS_ACCESS_DENIED) where the root is not the control
 *   function (the monolithic design).
 * - time_slice must be 0 (run until an event; the root's own timer
 *   interrupt ends a slice) and only CLEAR_INTERCEPT_SUSPEND is known;
 *   anything else is HV_STATUS_INVALID_PARAMETER.
 * - A blocked VP that becomes runnable (an interrupt for it, its start)
 *   sets `signal` in its intercept page and interrupts the root on its
 *   SINT 0 vector, where Hyper-V sends a scheduler message.
 */
#define HVCALL_DISPATCH_VP                      0x00c2
#define HVCALL_MAP_VP_STATE_PAGE                0x00e1

#define HV_VP_STATE_PAGE_REGISTERS              0
#define HV_VP_STATE_PAGE_INTERCEPT_MESSAGE      1

struct hv_input_map_vp_state_page {
	uint64_t partition_id;
	uint32_t vp_index;
	uint32_t type;                  /* HV_VP_STATE_PAGE_* */
	uint64_t root_gpa_page;         /* isovisor: the root's page number */
};

#define HV_DISPATCH_VP_FLAG_CLEAR_INTERCEPT_SUSPEND 0x1

struct hv_input_dispatch_vp {
	uint64_t partition_id;
	uint32_t vp_index;
	uint32_t flags;
	uint64_t time_slice;            /* 100 ns units; isovisor: 0 only */
	uint64_t spec_ctrl;
};

enum hv_vp_dispatch_state {
	HV_VP_DISPATCH_STATE_INVALID = 0,
	HV_VP_DISPATCH_STATE_BLOCKED = 1,       /* not runnable: see the event */
	HV_VP_DISPATCH_STATE_READY = 2,
};

enum hv_vp_dispatch_event {
	HV_VP_DISPATCH_EVENT_INVALID = 0,       /* halted, or the root's interrupt */
	HV_VP_DISPATCH_EVENT_SUSPEND = 1,       /* explicit suspend (not started) */
	HV_VP_DISPATCH_EVENT_INTERCEPT = 2,     /* a message in the intercept page */
};

struct hv_output_dispatch_vp {
	uint32_t dispatch_state;
	uint32_t dispatch_event;
};

/* The intercept page: the message, then isovisor's wake flag. */
struct hv_isovisor_intercept_page {
	struct hv_message message;
	uint32_t signal;                /* set by the hypervisor, cleared by the root */
	uint32_t rsvd;
	/* Written at every return of a dispatch: the host TSC at which the
	 * VP's virtual APIC timer expires next (0: not armed). A BLOCKED VP
	 * is runnable again from then on, without a signal: the root arms
	 * its own timer for it and dispatches the VP when it is due. A
	 * dispatch also returns READY early when the VP armed its timer for
	 * earlier than the value the root last saw. */
	uint64_t wake_tsc;
};

/* The register page (hv_vp_register_page's first fields): valid after a
 * dispatch returned an intercept; the root changes fields and sets their
 * class in `dirty`. isovisor applies the GENERAL, IP and FLAGS classes. */
#define HV_X64_REGISTER_CLASS_GENERAL   0
#define HV_X64_REGISTER_CLASS_IP        1
#define HV_X64_REGISTER_CLASS_FLAGS     4
#define HV_VP_REGISTER_PAGE_VERSION_1   1u

struct hv_vp_register_page {
	uint16_t version;
	uint8_t isvalid;
	uint8_t rsvdz;
	uint32_t dirty;
	uint64_t gp[16];                /* rax rcx rdx rbx rsp rbp rsi rdi r8-r15 */
	uint64_t rip;
	uint64_t rflags;
};

_Static_assert(sizeof(struct hv_message) == 256, "message slot");
_Static_assert(sizeof(struct hv_input_dispatch_vp) == 32, "dispatch input");
_Static_assert(sizeof(struct hv_input_map_vp_state_page) == 24, "map state page input");
_Static_assert(__builtin_offsetof(struct hv_vp_register_page, rip) == 136, "register page");
_Static_assert(sizeof(struct hv_isovisor_console_line) == 256, "console line");
_Static_assert(sizeof(struct hv_input_translate_virtual_address) == 32, "translate input");
_Static_assert(sizeof(struct hv_x64_intercept_message_header) == 40, "intercept header");
_Static_assert(sizeof(struct hv_x64_io_port_intercept_message) == 128, "io intercept");
_Static_assert(sizeof(struct hv_x64_memory_intercept_message) == 80, "memory intercept");
_Static_assert(sizeof(struct hv_register_assoc) == 32, "register assoc");
_Static_assert(sizeof(struct hv_input_vp_registers) == 16, "vp registers input");
_Static_assert(sizeof(struct hv_input_create_vp) == 40, "create vp input");
_Static_assert(sizeof(struct hv_input_map_gpa_pages) == 24, "map gpa input");
_Static_assert(sizeof(struct hv_input_assert_virtual_interrupt) == 32, "assert interrupt");

_Static_assert(sizeof(struct hv_x64_segment_register) == 16, "segment register");
_Static_assert(sizeof(struct hv_x64_table_register) == 16, "table register");
_Static_assert(sizeof(struct hv_initial_vp_context) == 224, "initial vp context");
_Static_assert(sizeof(struct hv_start_vp_input) == 240, "start vp input");
_Static_assert(sizeof(struct hv_get_vp_index_from_apic_id_input) == 16, "vp index input");
_Static_assert(sizeof(struct hv_isovisor_exit_counters) <= 4096, "exit counters page");

/*
 * A hypercall through the hypercall page the hypervisor filled (TLFS 3.4):
 * RCX the input value, RDX and R8 the input and output GPAs (or fast
 * arguments), result in RAX. Made as Linux makes it: an indirect call,
 * assumed to clobber what any call may.
 */
static inline uint64_t hv_call_page(const void *page, uint64_t control, uint64_t input,
				    uint64_t output)
{
	register uint64_t r8 __asm__("r8") = output;
	uint64_t status;

	__asm__ volatile("call *%[page]"
			 : "=a"(status), "+c"(control), "+d"(input), "+r"(r8)
			 : [page] "r"(page)
			 : "cc", "memory", "r9", "r10", "r11");
	return status;
}

#endif
