/*
 * AMD SVM: the VMCB layout (AMD64 APM vol. 2, appendix B) and the
 * constants svm.c uses.
 */
#ifndef HV_X86_SVM_H
#define HV_X86_SVM_H

#include <stdint.h>

struct vmcb_seg {
	uint16_t selector;
	uint16_t attrib;                /* SVM packed form: type..G in 12 bits */
	uint32_t limit;
	uint64_t base;
};

struct vmcb_control {
	uint32_t intercept_cr;          /* 0x000: reads 15:0, writes 31:16 */
	uint32_t intercept_dr;
	uint32_t intercept_exceptions;
	uint32_t intercept_misc1;       /* 0x00c */
	uint32_t intercept_misc2;       /* 0x010 */
	uint32_t intercept_misc3;       /* 0x014 */
	uint8_t reserved0[0x03c - 0x018];
	uint16_t pause_filter_threshold;
	uint16_t pause_filter_count;
	uint64_t iopm_base_pa;          /* 0x040 */
	uint64_t msrpm_base_pa;
	uint64_t tsc_offset;
	uint32_t asid;                  /* 0x058 */
	uint8_t tlb_control;
	uint8_t reserved1[3];
	uint64_t vintr;                 /* 0x060 */
	uint64_t interrupt_shadow;      /* 0x068 */
	uint64_t exit_code;             /* 0x070 */
	uint64_t exit_info1;
	uint64_t exit_info2;
	uint64_t exit_int_info;
	uint64_t np_control;            /* 0x090 */
	uint64_t avic_apic_bar;
	uint64_t ghcb_pa;
	uint64_t event_inj;             /* 0x0a8 */
	uint64_t n_cr3;
	uint64_t virt_ext;              /* 0x0b8 */
	uint32_t clean_bits;            /* 0x0c0 */
	uint32_t reserved2;
	uint64_t next_rip;              /* 0x0c8 */
	uint8_t insn_len;               /* 0x0d0 */
	uint8_t insn_bytes[15];
	uint8_t reserved3[0x400 - 0x0e0];
};

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;
	uint8_t reserved0[0x4cb - 0x4a0];
	uint8_t cpl;                    /* 0x4cb */
	uint32_t reserved1;
	uint64_t efer;                  /* 0x4d0 */
	uint8_t reserved2[0x548 - 0x4d8];
	uint64_t cr4;                   /* 0x548 */
	uint64_t cr3;
	uint64_t cr0;
	uint64_t dr7;
	uint64_t dr6;
	uint64_t rflags;                /* 0x570 */
	uint64_t rip;
	uint8_t reserved3[0x5d8 - 0x580];
	uint64_t rsp;                   /* 0x5d8 */
	uint64_t s_cet, ssp, isst_addr;
	uint64_t rax;                   /* 0x5f8 */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t cr2;                   /* 0x640 */
	uint8_t reserved4[0x668 - 0x648];
	uint64_t g_pat;                 /* 0x668 */
	uint64_t dbgctl, br_from, br_to, lastexcpfrom, lastexcpto;
};

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
	uint8_t reserved[4096 - 0x400 - sizeof(struct vmcb_save)];
} __attribute__((aligned(4096)));

_Static_assert(__builtin_offsetof(struct vmcb_control, iopm_base_pa) == 0x40, "iopm");
_Static_assert(__builtin_offsetof(struct vmcb_control, asid) == 0x58, "asid");
_Static_assert(__builtin_offsetof(struct vmcb_control, exit_code) == 0x70, "exit code");
_Static_assert(__builtin_offsetof(struct vmcb_control, event_inj) == 0xa8, "eventinj");
_Static_assert(__builtin_offsetof(struct vmcb_control, next_rip) == 0xc8, "nrip");
_Static_assert(__builtin_offsetof(struct vmcb, save.cpl) == 0x4cb, "cpl");
_Static_assert(__builtin_offsetof(struct vmcb, save.efer) == 0x4d0, "efer");
_Static_assert(__builtin_offsetof(struct vmcb, save.cr4) == 0x548, "cr4");
_Static_assert(__builtin_offsetof(struct vmcb, save.rip) == 0x578, "rip");
_Static_assert(__builtin_offsetof(struct vmcb, save.rsp) == 0x5d8, "rsp");
_Static_assert(__builtin_offsetof(struct vmcb, save.rax) == 0x5f8, "rax");
_Static_assert(__builtin_offsetof(struct vmcb, save.cr2) == 0x640, "cr2");
_Static_assert(__builtin_offsetof(struct vmcb, save.g_pat) == 0x668, "gpat");
_Static_assert(sizeof(struct vmcb) == 4096, "vmcb");

/* intercept_misc1 */
#define SVM_INTERCEPT_INTR      (1u << 0)
#define SVM_INTERCEPT_NMI       (1u << 1)
#define SVM_INTERCEPT_SMI       (1u << 2)
#define SVM_INTERCEPT_INIT      (1u << 3)
#define SVM_INTERCEPT_VINTR     (1u << 4)
#define SVM_INTERCEPT_CPUID     (1u << 18)
#define SVM_INTERCEPT_INVD      (1u << 22)
#define SVM_INTERCEPT_HLT       (1u << 24)
#define SVM_INTERCEPT_INVLPGA   (1u << 26)
#define SVM_INTERCEPT_IOIO      (1u << 27)
#define SVM_INTERCEPT_MSR       (1u << 28)
#define SVM_INTERCEPT_SHUTDOWN  (1u << 31)
/* intercept_misc2 */
#define SVM_INTERCEPT_VMRUN     (1u << 0)
#define SVM_INTERCEPT_VMMCALL   (1u << 1)
#define SVM_INTERCEPT_VMLOAD    (1u << 2)
#define SVM_INTERCEPT_VMSAVE    (1u << 3)
#define SVM_INTERCEPT_STGI      (1u << 4)
#define SVM_INTERCEPT_CLGI      (1u << 5)
#define SVM_INTERCEPT_SKINIT    (1u << 6)
#define SVM_INTERCEPT_MONITOR   (1u << 10)
#define SVM_INTERCEPT_MWAIT     (1u << 11)
#define SVM_INTERCEPT_MWAIT_ARMED (1u << 12)
#define SVM_INTERCEPT_XSETBV    (1u << 13)

#define SVM_EXIT_EXCP_BASE      0x040
#define SVM_EXIT_INTR           0x060
#define SVM_EXIT_NMI            0x061
#define SVM_EXIT_SMI            0x062
#define SVM_EXIT_INIT           0x063
#define SVM_EXIT_VINTR          0x064
#define SVM_EXIT_CPUID          0x072
#define SVM_EXIT_HLT            0x078
#define SVM_EXIT_INVLPGA        0x07a
#define SVM_EXIT_IOIO           0x07b
#define SVM_EXIT_MSR            0x07c
#define SVM_EXIT_SHUTDOWN       0x07f
#define SVM_EXIT_VMRUN          0x080
#define SVM_EXIT_VMMCALL        0x081
#define SVM_EXIT_VMLOAD         0x082
#define SVM_EXIT_VMSAVE         0x083
#define SVM_EXIT_STGI           0x084
#define SVM_EXIT_CLGI           0x085
#define SVM_EXIT_SKINIT         0x086
#define SVM_EXIT_MONITOR        0x08a
#define SVM_EXIT_MWAIT          0x08b
#define SVM_EXIT_MWAIT_ARMED    0x08c
#define SVM_EXIT_XSETBV         0x08d
#define SVM_EXIT_NPF            0x400
#define SVM_EXIT_INVALID        ((uint64_t)-1)

/* IOIO exit_info1 */
#define SVM_IOIO_IN             (1u << 0)
#define SVM_IOIO_STR            (1u << 2)
#define SVM_IOIO_REP            (1u << 3)
#define SVM_IOIO_SZ_SHIFT       4

/* EVENTINJ */
#define SVM_EVTINJ_VALID        (1ull << 31)
#define SVM_EVTINJ_VALID_ERR    (1ull << 11)
#define SVM_EVTINJ_TYPE_INTR    (0ull << 8)
#define SVM_EVTINJ_TYPE_NMI     (2ull << 8)
#define SVM_EVTINJ_TYPE_EXEPT   (3ull << 8)

/* vintr */
#define SVM_VINTR_V_IRQ         (1ull << 8)
#define SVM_VINTR_PRIO_SHIFT    16
#define SVM_VINTR_IGN_TPR       (1ull << 20)
#define SVM_VINTR_MASKING       (1ull << 24)
#define SVM_VINTR_VECTOR_SHIFT  32

/* CPUID 0x8000000a EDX */
#define SVM_FEATURE_NPT         (1u << 0)
#define SVM_FEATURE_NRIPS       (1u << 3)
#define SVM_FEATURE_VMCB_CLEAN  (1u << 5)
#define SVM_FEATURE_FLUSH_ASID  (1u << 6)
#define SVM_FEATURE_DECODE      (1u << 7)
#define SVM_FEATURE_VGIF        (1u << 16)

#define MSR_VM_CR_SVMDIS        (1ull << 4)

#endif
