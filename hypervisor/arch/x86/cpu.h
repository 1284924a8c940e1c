/*
 * x86 per-CPU state of the hypervisor: descriptor tables, stacks, APIC
 * identity. The pieces every image shares (traps, GDT layout, local APIC,
 * TSC, AP start-up) come from the kernel library's x86/ headers.
 */
#ifndef HV_X86_CPU_H
#define HV_X86_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <isovisor/x86.h>
#include "x86/apic.h"
#include "x86/gdt.h"
#include "x86/traps.h"
#include "x86/tsc.h"

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

/* Interrupt vectors of the hypervisor's own (idt.c dispatches them). */
#define VEC_TIMER    0x20
/* The monolithic design's uplink NIC (hypervisor/physdisk.c). */
#define VEC_NIC      0x30
#define VEC_IPI_HALT 0xf0
#define VEC_IPI_WAKE 0xf1

/* time.c: the TSC (x86/tsc.h), calibrated with the ACPI PM timer. */
void time_init(void);

/* smp.c */
void smp_boot_aps(void);

/* power.c */
void power_off(void) __attribute__((noreturn));
void test_exit(bool pass) __attribute__((noreturn));

/* paging.c */
void paging_init(uint64_t top);

/* entry.S: continue on the stack ending at `top` in fn(); never returns. */
void call_on_stack(uint64_t top, void (*fn)(void)) __attribute__((noreturn));

#endif
