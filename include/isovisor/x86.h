/*
 * x86-64 privileged instructions and architectural constants, as static
 * inline wrappers: the only place inline assembly for them lives.
 */
#ifndef ISOVISOR_X86_H
#define ISOVISOR_X86_H

#include <stdint.h>

#define CR0_PE          (1ull << 0)
#define CR0_MP          (1ull << 1)
#define CR0_ET          (1ull << 4)
#define CR0_NE          (1ull << 5)
#define CR0_WP          (1ull << 16)
#define CR0_PG          (1ull << 31)
#define CR4_PAE         (1ull << 5)
#define CR4_PGE         (1ull << 7)
#define CR4_OSFXSR      (1ull << 9)

#define MSR_APIC_BASE   0x0000001b
#define MSR_EFER        0xc0000080
#define MSR_FS_BASE     0xc0000100
#define MSR_GS_BASE     0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_VM_CR       0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117

#define EFER_SCE        (1ull << 0)
#define EFER_LME        (1ull << 8)
#define EFER_LMA        (1ull << 10)
#define EFER_NXE        (1ull << 11)
#define EFER_SVME       (1ull << 12)
#define EFER_LMSLE      (1ull << 13)
#define EFER_FFXSR      (1ull << 14)
#define EFER_TCE        (1ull << 15)

#define APIC_BASE_BSP   (1ull << 8)
#define APIC_BASE_EXTD  (1ull << 10)
#define APIC_BASE_EN    (1ull << 11)

#define RFLAGS_IF       (1ull << 9)

#define PTE_P           (1ull << 0)
#define PTE_W           (1ull << 1)
#define PTE_U           (1ull << 2)
#define PTE_PWT         (1ull << 3)
#define PTE_PCD         (1ull << 4)
#define PTE_A           (1ull << 5)
#define PTE_D           (1ull << 6)
#define PTE_PS          (1ull << 7)
#define PTE_G           (1ull << 8)
#define PTE_NX          (1ull << 63)
#define PTE_ADDR_MASK   0x000ffffffffff000ull

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)) : "memory");
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

#define DEFINE_CR(n)                                                         \
	static inline uint64_t read_cr##n(void)                              \
	{                                                                    \
		uint64_t v;                                                  \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));            \
		return v;                                                    \
	}                                                                    \
	static inline void write_cr##n(uint64_t v)                           \
	{                                                                    \
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");   \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline uint64_t read_rflags(void)
{
	uint64_t v;

	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void halt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

struct __attribute__((packed)) descriptor_table_ptr {
	uint16_t limit;
	uint64_t base;
};

static inline void lgdt(const struct descriptor_table_ptr *p)
{
	__asm__ volatile("lgdt %0" : : "m"(*p));
}

static inline void lidt(const struct descriptor_table_ptr *p)
{
	__asm__ volatile("lidt %0" : : "m"(*p));
}

static inline void ltr(uint16_t sel)
{
	__asm__ volatile("ltr %0" : : "r"(sel));
}

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

/* ---- extended processor state (XSAVE, FXSAVE, XCR0) and the MSRs a
 * partition switch must carry besides them. The images that use these
 * are built -mgeneral-regs-only: the compiler never touches the vector
 * registers, so only these instructions (and guests' own asm) do. */
#define CR0_EM          (1ull << 2)
#define CR0_TS          (1ull << 3)
#define CR4_OSXMMEXCPT  (1ull << 10)
#define CR4_OSXSAVE     (1ull << 18)
#define CR4_PKE         (1ull << 22)

#define XCR0_X87        (1ull << 0)
#define XCR0_SSE        (1ull << 1)
#define XCR0_AVX        (1ull << 2)
#define XCR0_BNDREGS    (1ull << 3)
#define XCR0_BNDCSR     (1ull << 4)
#define XCR0_OPMASK     (1ull << 5)
#define XCR0_ZMM_HI256  (1ull << 6)
#define XCR0_HI16_ZMM   (1ull << 7)
#define XCR0_PKRU       (1ull << 9)
#define XCR0_AVX512     (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)

#define MSR_SPEC_CTRL   0x00000048
#define MSR_TSC_AUX     0xc0000103

/* ---- the architectural MSRs a child partition's OS uses (childmsr.c) */
#define MSR_TSC                 0x00000010
#define MSR_FEATURE_CONTROL     0x0000003a
#define MSR_PRED_CMD            0x00000049
#define MSR_UCODE_REV           0x0000008b      /* AMD PATCH_LEVEL */
#define MSR_PLATFORM_INFO       0x000000ce
#define MSR_MTRR_CAP            0x000000fe
#define MSR_SYSENTER_CS         0x00000174
#define MSR_SYSENTER_ESP        0x00000175
#define MSR_SYSENTER_EIP        0x00000176
#define MSR_MISC_ENABLE         0x000001a0
#define MSR_DEBUGCTL            0x000001d9
#define MSR_MTRR_PHYS_BASE0     0x00000200      /* 8 base/mask pairs */
#define MSR_MTRR_PHYS_MASK7     0x0000020f
#define MSR_MTRR_FIX64K_00000   0x00000250
#define MSR_MTRR_FIX16K_80000   0x00000258
#define MSR_MTRR_FIX16K_A0000   0x00000259
#define MSR_MTRR_FIX4K_C0000    0x00000268      /* ... 0x26f */
#define MSR_MTRR_FIX4K_F8000    0x0000026f
#define MSR_PAT                 0x00000277
#define MSR_MTRR_DEF_TYPE       0x000002ff
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SFMASK              0xc0000084
#define MSR_AMD_SYSCFG          0xc0010010
#define MSR_AMD_HWCR            0xc0010015
#define MSR_AMD_INT_PENDING     0xc0010055  /* K8 interrupt pending message (C1E) */
#define MSR_AMD_DE_CFG          0xc0011029

static inline uint64_t xgetbv(uint32_t index)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return ((uint64_t)hi << 32) | lo;
}

static inline void xsetbv(uint32_t index, uint64_t v)
{
	__asm__ volatile("xsetbv" : : "c"(index), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)) : "memory");
}

/* The 64-bit forms, so the x87 instruction and data pointers are kept
 * whole. `area` is 64-byte aligned (16 for FXSAVE). */
static inline void xsave64(void *area, uint64_t mask)
{
	__asm__ volatile("xsave64 (%0)" : : "r"(area), "a"((uint32_t)mask),
			 "d"((uint32_t)(mask >> 32)) : "memory");
}

static inline void xrstor64(const void *area, uint64_t mask)
{
	__asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"((uint32_t)mask),
			 "d"((uint32_t)(mask >> 32)) : "memory");
}

static inline void fxsave64(void *area)
{
	__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

static inline void fxrstor64(const void *area)
{
	__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

#define DEFINE_DR(n)                                                         \
	static inline uint64_t read_dr##n(void)                              \
	{                                                                    \
		uint64_t v;                                                  \
		__asm__ volatile("mov %%db" #n ", %0" : "=r"(v));            \
		return v;                                                    \
	}                                                                    \
	static inline void write_dr##n(uint64_t v)                           \
	{                                                                    \
		__asm__ volatile("mov %0, %%db" #n : : "r"(v));              \
	}
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(2)
DEFINE_DR(3)
#undef DEFINE_DR

#endif
