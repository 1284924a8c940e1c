/*
 * The isolate guest's modes, one per command-line word:
 *   apic         its own virtual local APIC: xAPIC page, x2APIC MSRs
 *                (#GP until x2APIC mode is on), self IPIs, TPR, the
 *                timer's three modes, reserved accesses;
 *   msr          the child CPU policy: MSRs an OS writes at boot read
 *                back, refused values raise #GP, CPUID hides SVM and co;
 *   fpu-writer   checks XSETBV's refusals, enables AVX if offered, fills
 *                XMM0-15 (YMM0-15), MXCSR, the x87 control word and
 *                TSC_AUX with its pattern and keeps checking them while
 *                it yields the CPU;
 *   fpu-checker  the same with values of its own; each side also checks
 *                it never sees the other's values.
 * Both FPU modes run for "seconds=N" of TSC time (default 6 for the
 * writer, 3 for the checker, so a checker started after the writer
 * overlaps it) and yield with CPUID, which always exits: after each exit
 * the hypervisor may run another VP on this CPU.
 */
#ifndef ISOLATE_H
#define ISOLATE_H

#include "../common/guest.h"

#define VEC_REGS 16

/* vec.S */
void vec_load_xmm(const uint8_t src[VEC_REGS][16]);
void vec_store_xmm(uint8_t dst[VEC_REGS][16]);
void vec_load_ymm(const uint8_t src[VEC_REGS][32]);
void vec_store_ymm(uint8_t dst[VEC_REGS][32]);
void vec_set_control(uint32_t mxcsr, uint16_t fcw);
uint64_t vec_get_control(void);
int xsetbv_safe(uint32_t index, uint64_t value);
int monitor_safe(const void *addr);
int mwait_safe(void);

/* tests.c: the mode's checks; the APIC mode's interrupt handler */
void isolate_tests(void);
void apic_irq(uint64_t vector);
/* msr.c */
void msr_tests(void);
/* fpu.c */
void fpu_tests(bool writer);

#endif
