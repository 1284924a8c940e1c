/*
 * The hypervisor core's common declarations: console and logging, panic,
 * boot configuration, per-CPU data. Vendor- and architecture-specific
 * pieces have their own headers under arch/.
 */
#ifndef HV_H
#define HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "format.h"
#include "mb2.h"
#include "memmap.h"
#include "pmm.h"
#include "acpi.h"
#include "x86/panic.h"

#define HV_MAX_CPUS 64
#define HV_STACK_SIZE (16 * 1024)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))

/* ---- console (console.c) ------------------------------------------------ */
void console_init(void);
/* Print one or more lines, each prefixed with "hv: ". */
void hv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print with a caller-chosen source prefix (e.g. "root"). */
void console_log_prefixed(const char *source, const char *text, size_t len);
/* A boot stage, time-stamped as Xen's console_timestamps do: "[boot
 * tsc=N] what", N the raw TSC (counting from reset; nothing offsets it for
 * the root either, so the root's stamps continue the same clock). tsc 0:
 * now. */
void hv_boot_stage(uint64_t tsc, const char *what);
/* Break the console lock if a dying CPU holds it (panic path only). */
void console_force_unlock(void);

/* ---- panic (kernel/lib/x86/panic.c; the hooks in panic.c) -------------- */
/* Set when the run ends: every other CPU halts at its next NMI or exit. */
extern volatile bool cpus_stopping;
void stop_other_cpus(void);

/* ---- boot configuration (main.c) ---------------------------------------- */
struct boot_config {
	bool uefi;
	bool test_mode;
	bool spread_children;           /* "spread": children on every CPU */
	const char *cmdline;
	struct mb2_info mb2;
	struct acpi_info acpi;
};
extern struct boot_config boot;
/* Set once the root partition exists: the other CPUs may start. */
extern volatile bool hv_ready;

/* ---- memory (mm.c) ------------------------------------------------------ */
struct mm_stats {
	uint64_t usable_bytes;          /* RAM the firmware calls usable */
	unsigned usable_ranges;
	uint64_t reserved_bytes;        /* of that, held back at boot */
	uint64_t top;                   /* highest usable address */
};
extern struct pmm hv_pmm;
extern struct mm_stats hv_mm_stats;
#define HV_MAX_RESERVED (MB2_MAX_MODULES + 8)
/* What the hypervisor held back from the usable map at boot: its image,
 * the boot information, the modules, the allocator's bitmap (page-rounded
 * outward). */
extern struct mem_range hv_reserved[HV_MAX_RESERVED];
extern unsigned hv_reserved_count;
extern struct memmap hv_usable;         /* usable RAM as the firmware says */
void mm_init(uint64_t mbi_phys);
void *phys_to_virt(uint64_t pa);
uint64_t virt_to_phys(const void *va);
/* Zeroed pages (physically contiguous), or panic when memory is out.
 * Safe to call from any CPU. */
void *page_alloc_zeroed(void);
void *pages_alloc_zeroed(unsigned n);
/* The same, or NULL when memory is out (for what a guest can ask for). */
void *pages_try_alloc_zeroed(unsigned n);
/* Give back what pages_alloc_zeroed() returned. */
void pages_free(void *va, unsigned n);
void page_free(void *va);
/* Pages the hypervisor's allocator has free now. */
uint64_t mm_free_pages(void);

/* ---- test mode (selftest.c) --------------------------------------------- */
/* Record one self-check result; the root partition fetches them with a
 * hypercall and prints them in the run's TAP stream. */
void tap_result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* With no root partition: print them as TAP, with the plan and the final
 * line; true when all passed. */
bool selftest_report(void);
/* The GiBs (bases) holding 64-bit PCI BARs on bus 0 at or above `from`. */
unsigned pci_bar_gibs(uint64_t from, uint64_t *gib, unsigned max);
#define PCI_BAR_GIBS_MAX 8
void hv_selftests(void);

extern char __image_start[], __image_end[];

#endif
