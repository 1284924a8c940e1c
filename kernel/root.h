/*
 * The root OS's common declarations: console, boot configuration, memory,
 * virtual processors, the TLFS hypercall interface and test mode; traps,
 * panic, locks, the local APIC, time and the GDT layout are the kernel
 * library's (x86/ headers), shared with the hypervisor. The same image
 * runs natively under GRUB and as the root partition under isovisor;
 * `boot.hv` says which.
 */
#ifndef ROOT_H
#define ROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isovisor/x86.h>
#include <isovisor/hvtlfs.h>
#include "format.h"
#include "mb2.h"
#include "memmap.h"
#include "pmm.h"
#include "acpi.h"
#include "x86/apic.h"
#include "x86/gdt.h"
#include "x86/panic.h"
#include "x86/spinlock.h"
#include "x86/traps.h"
#include "x86/tsc.h"

#ifndef ISOVISOR_VERSION
#define ISOVISOR_VERSION "unknown"
#endif

#define ROOT_MAX_VPS 64
#define ROOT_STACK_SIZE KSTACK_SIZE     /* boot.S's boot stack is the same */

#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))

/* ---- console (console.c) ------------------------------------------------ */
struct console_stats {
	uint64_t bytes;                 /* written to the transmit register */
	uint64_t timeouts;              /* the UART never said it was ready */
};

void console_init(void);
/* Natively the root starts every line with "root: " itself; under isovisor
 * the hypervisor's emulated COM1 adds it. */
void console_set_own_prefix(bool own);
/* One or more whole lines (a missing final newline is added). */
void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A boot stage, "[boot tsc=N] what" (as the hypervisor's): N the raw
 * TSC, which isovisor does not offset for the root, so natively and
 * under the hypervisor it counts from the machine's reset. tsc 0: now. */
void boot_stage(uint64_t tsc, const char *what);
/* Raw text, any part of a line. */
void console_write(const char *s, size_t len);
struct console_stats console_get_stats(void);
void console_break_lock(void);

/* ---- boot configuration (main.c) ---------------------------------------- */
struct root_boot {
	bool hv;                        /* root partition under isovisor */
	bool test_mode;
	const char *cmdline;
	char hv_vendor[13];             /* CPUID 0x40000000 signature, or "" */
	struct mb2_info mb2;
	struct acpi_info acpi;
};
extern struct root_boot boot;

/* ---- memory (mm.c) ------------------------------------------------------ */
extern struct pmm root_pmm;
extern struct memmap root_ram;          /* usable RAM as the loader says */
void mm_init(uint64_t mbi_phys);
/* True when [addr, addr+len) lies in usable RAM. */
bool mm_is_ram(uint64_t addr, uint64_t len);
/* Top of the identity map (at least 4 GiB). */
uint64_t mm_map_end(void);
int mm_map_device(uint64_t start, uint64_t end);
void *page_alloc_zeroed(void);
/* Identity: physical = virtual (the library's hook, x86/klib.h). */
void *phys_to_virt(uint64_t pa);
/* A zeroed stack of `bytes`; returns its top. */
uint64_t stack_alloc(uint64_t bytes);
extern char __image_start[], __image_end[];

/* ---- interrupts (trap.c; the IDT and exceptions are x86/traps.h's) ------ */
typedef void (*irq_handler)(struct cpu_regs *r);

/* Route vector `vec` (>= 32) to `fn`; the handler sends its own EOI. */
void irq_set_handler(uint8_t vec, irq_handler fn);
/* Interrupts nobody asked for (acknowledged and counted). */
extern volatile uint64_t irq_unexpected;

/* ---- virtual processors (cpu.c, smp.c) ---------------------------------- */
struct vp_cpu {
	struct vp_cpu *self;            /* at %gs:0 */
	unsigned slot;                  /* 0 = the boot VP, then MADT order */
	uint32_t apic_id;
	uint32_t vp_index;              /* the hypervisor's number (native: slot) */
	uint64_t stack_top;
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
	struct tss64 tss;
	/* What the VP itself saw once running, for the checks. */
	volatile bool online;
	volatile uint64_t seen_rsp;
	volatile uint32_t seen_apic_id;
	volatile uint64_t seen_msr_vp_index;
	volatile bool seen_own_gs;
	volatile uint64_t heartbeat;
};

extern struct vp_cpu vps[ROOT_MAX_VPS];
extern unsigned vp_count;               /* slots set up */
extern volatile unsigned vps_online;
extern char boot_stack_top[];

static inline struct vp_cpu *this_vp(void)
{
	struct vp_cpu *v;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(v));
	return v;
}

static inline uint16_t str(void)
{
	uint16_t sel;

	__asm__ volatile("str %0" : "=r"(sel));
	return sel;
}

/* cpu.c */
void vp_setup(struct vp_cpu *v, unsigned slot, uint32_t apic_id,
	      uint64_t stack_top);
void vp_load_tables(struct vp_cpu *v);
unsigned current_vp_slot(void);
/* smp.c */
void smp_boot_vp_online(void);
void smp_start_vps(void);
/* An AP (slot 1) acts on these while it idles: see the hlt check. */
extern volatile uint64_t watchdog_deadline;
extern volatile bool watchdog_fired;
#define VEC_WATCHDOG 0x41

/* ---- legacy PICs (pic.c); the local APIC is x86/apic.h's ---------------- */
/* Remap the legacy PICs away from the exception vectors and mask them. */
void pic_disable(void);

/* A halt coming up must end within `us` microseconds even if nothing
 * else interrupts it (partsvc.c's timer, armed no later than that; a
 * no-op before the control loop runs). */
void partsvc_wake_within_us(uint64_t us);

/* ---- the hypervisor interface (hyperv.c) -------------------------------- */
/* Not a TLFS status: no hypercall page to call. */
#define ROOT_HV_NO_PAGE 0xffff

bool hv_detect(const struct mb2_info *mi, char vendor[13]);
/* The TSC frequency a TLFS hypervisor offers through its frequency MSRs
 * (CPUID 0x40000003 EAX AccessFrequencyMsrs), in kHz: true when there is
 * one and it is plausible (at least 1 MHz). */
bool hv_tsc_khz(uint64_t *khz);
/* Guest OS id, then the hypercall page. 0, or -1 with a logged reason. */
int hv_hypercall_init(void);
/* The raw TLFS call: RCX = control, RDX = input GPA, R8 = output GPA;
 * returns RAX (status in bits 15:0, reps completed in 43:32). */
uint64_t hv_hypercall(uint64_t control, uint64_t input, uint64_t output);
static inline uint16_t hv_status(uint64_t result)
{
	return (uint16_t)result;
}
/* The page the hypervisor filled (NULL when not enabled). */
const uint8_t *hv_hypercall_page(void);
/* One page each for hypercall input and output (boot VP only). */
void *hv_input_page(void);
void *hv_output_page(void);
/* Typed calls; each returns the TLFS status. */
uint16_t hv_vp_indices_from_apic_ids(const uint32_t *apic_ids, unsigned n,
				     uint32_t *vp_indices, unsigned *done);
uint16_t hv_start_vp(uint32_t vp_index,
		     const struct hv_initial_vp_context *ctx);
uint16_t hv_get_selftest(uint32_t index, struct hv_isovisor_selftest *out);
/* VP `vp_index`'s exit counter for reason `name` (e.g. "cpuid");
 * HV_STATUS_NOT_FOUND when the hypervisor lists no such reason. */
uint16_t hv_get_exit_count(uint32_t vp_index, const char *name,
			   uint64_t *count);
const char *hv_status_name(uint16_t status);

/* ---- the end of a run (power.c) ----------------------------------------- */
void power_off(void) __attribute__((noreturn));
void test_exit(bool pass) __attribute__((noreturn));

/* ---- test mode (tap.c, selftest.c, selftest_hv.c) ----------------------- */
void tap_begin(void);
void tap_result(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct block_backend;
/* The physical disk (virtio-blk) children's virtual disks live on, or
 * NULL with the reason. */
const struct block_backend *root_phys_disk(const char **why);
struct phys_nic;
const struct phys_nic *root_phys_nic(const char **why);
void tap_skip(const char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints the plan and the final line; true when every result was ok. */
bool tap_end(void);
void tap_hv_results(void);
void root_selftests(void);
/* selftest_hv.c: the checks of the TLFS interface itself. */
void test_hv_cpuid(void);
void test_hv_svm_hidden(void);
void test_hv_hypercall_page(void);
void test_child_partition(void);
void test_partition_churn(void);
void test_synic_ports(void);
void test_virtio_blk(void);
/* "bench": the physical disk's write and read throughput (blk.c). */
void blk_bench(void);
/* "netbench=BYTES": the NIC's echo throughput to the outside host (netbench.c). */
void net_bench(void);
/* Run the partition config's children; their TAP joins the stream. */
void partmgr_run(void);
void test_hv_hypercall_errors(void);
void test_hv_vp_index(void);

#endif
