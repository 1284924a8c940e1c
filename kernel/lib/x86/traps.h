/*
 * Traps shared by every image: the frame trap_entry.S builds, the one IDT
 * all CPUs of an image share, the exception report (names, registers,
 * backtrace) and the exception table, which lets chosen instructions
 * fault and resume at a fixup instead of panicking.
 */
#ifndef KLIB_X86_TRAPS_H
#define KLIB_X86_TRAPS_H

#include <stdbool.h>
#include <stdint.h>

/* Pushed by trap_entry.S: general registers, then vector and error code
 * (0 where the CPU pushes none), then the CPU's interrupt frame. */
struct cpu_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Every image's stacks are this size; a backtrace walks no further. */
#define KSTACK_SIZE (16 * 1024)

/* Point all 256 gates at their stubs, on the current stack. */
void idt_init(void);
/* Once the CPU has its TSS: NMI, #DF and #MC run on stacks of their own
 * (gdt.h's IST_*), so a broken stack still gets a report. */
void idt_use_ist(void);
void idt_load(void);

/* A CPU exception (vector < 32): resume at the instruction's fixup if it
 * has one, else panic with the registers. Returns only after a fixup. */
void trap_exception(struct cpu_regs *r);
/* Resume at the fixup for r->rip, if there is one. */
bool extable_fixup(struct cpu_regs *r);
/* The vector of the last fault that a fixup absorbed. */
extern volatile uint64_t extable_last_vector;

/* Run one instruction with exception fixup: 0, or -1 when it faulted. */
int rdmsr_safe(uint32_t msr, uint64_t *value);
int wrmsr_safe(uint32_t msr, uint64_t value);
int read_u64_safe(uint64_t addr, uint64_t *value);

void regs_dump(const struct cpu_regs *r);
/* Saved return addresses from frame pointer `rbp` up to `stack_top`
 * (0: KSTACK_SIZE above rbp). */
void backtrace_from(uint64_t rbp, uint64_t stack_top);

#endif
