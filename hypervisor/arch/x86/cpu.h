/*
 * x86 per-CPU state of the hypervisor: descriptor tables, stacks, APIC
 * identity, and the trap frame layout entry.S builds.
 */
#ifndef HV_X86_CPU_H
#define HV_X86_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <isovisor/x86.h>

/* Pushed by entry.S: general registers, then vector and error code, then
 * the CPU's interrupt frame. */
struct cpu_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "tss64");

#define GDT_CODE64 0x08
#define GDT_DATA   0x10
#define GDT_TSS    0x18
#define GDT_ENTRIES 5                   /* null, code, data, tss (2 slots) */

#define IST_NMI    1
#define IST_DF     2
#define IST_MC     3

struct percpu {
	struct percpu *self;            /* at %gs:0 */
	unsigned index;                 /* 0 = boot CPU */
	uint32_t apic_id;
	volatile bool online;
	uint64_t stack_top;
	uint64_t seen_rsp;              /* as the CPU itself saw them once up */
	struct percpu *seen_gs;
	uint64_t gdt[GDT_ENTRIES];
	struct tss64 tss;
};

extern struct percpu *cpus[];
extern unsigned cpu_count;              /* CPUs known from the MADT */
extern volatile unsigned cpus_online;

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

/* cpu.c */
struct percpu *percpu_alloc(unsigned index, uint32_t apic_id);
void cpu_load_tables(struct percpu *p);

/* idt.c */
void idt_init(void);
void idt_load(void);
void regs_dump(const struct cpu_regs *r);
void backtrace_from(uint64_t rbp);

/* apic.c */
#define VEC_TIMER    0x20
#define VEC_IPI_HALT 0xf0
#define VEC_IPI_WAKE 0xf1
#define VEC_SPURIOUS 0xff
void apic_init(void);
uint32_t apic_id(void);
void apic_send_init(uint32_t apic);
void apic_send_sipi(uint32_t apic, uint8_t vector);
void apic_send_nmi_all_but_self(void);
void apic_send_fixed(uint32_t apic, uint8_t vector);
bool apic_icr_idle(void);
void apic_eoi(void);

/* time.c */
void time_init(void);
void udelay(uint64_t us);
uint64_t tsc_khz(void);

/* smp.c */
void smp_boot_aps(void);

/* power.c */
void power_off(void) __attribute__((noreturn));
void test_exit(bool pass) __attribute__((noreturn));

/* paging.c */
void paging_init(uint64_t top);

/* Run `insn` with exception fixup: a fault makes err = -1 instead. */
int rdmsr_safe(uint32_t msr, uint64_t *value);
int read_u64_safe(uint64_t addr, uint64_t *value);
/* Continue on the stack ending at `top` in fn(); never returns. */
void call_on_stack(uint64_t top, void (*fn)(void)) __attribute__((noreturn));
bool extable_fixup(struct cpu_regs *r);

#endif
