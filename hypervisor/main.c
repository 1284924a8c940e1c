/*
 * The boot CPU's path from the 64-bit entry: console, traps, the boot
 * information, memory, ACPI, every CPU up; then the test-mode self-checks
 * or power-off. Each stage logs "[boot tsc=N] <stage>" (hv_boot_stage).
 */
#include <string.h>
#include "hv.h"
#include "cpustate.h"
#include "design.h"
#include "virt.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

#ifndef ISOVISOR_VERSION
#define ISOVISOR_VERSION "unknown"
#endif

struct boot_config boot;
const struct virt_ops *virt;
volatile bool hv_ready;

static void virt_init(void);

static const void *acpi_map_identity(uint64_t phys, size_t len, void *ctx)
{
	uint64_t top = hv_mm_stats.top > (4ull << 30) ? hv_mm_stats.top :
							(4ull << 30);

	if (!phys || len > top || phys > top - len)
		return NULL;
	return phys_to_virt(phys);
}

static void acpi_init(void)
{
	unsigned bad = 0;
	const char *err;

	if (acpi_parse_mb2(&boot.mb2, acpi_map_identity, NULL, &boot.acpi, &bad,
			   &err))
		panic("ACPI: %s", err);
	if (bad)
		hv_log("acpi: %u table(s) failed their length or checksum "
		       "check and were ignored", bad);
	hv_log("acpi: revision %u via %s, %u cpu(s) enabled, %u I/O APIC(s)",
	       boot.acpi.revision, boot.acpi.xsdt ? "XSDT" : "RSDT",
	       boot.acpi.cpu_count, boot.acpi.ioapic_count);
}

static void hv_main_on_cpu_stack(void) __attribute__((noreturn));

const char boot_msg_no_multiboot[] =
	"hv: panic: not started by a multiboot2 loader\r\n";
const char boot_msg_no_long_mode[] =
	"hv: panic: this CPU has no long mode (x86-64)\r\n";

void boot_main(uint32_t magic, uint64_t info);
void boot_main(uint32_t magic, uint64_t info)
{
	uint64_t entry_tsc = rdtsc();
	const char *err;
	struct percpu *bsp;

	console_init();
	idt_init();
	idt_load();
	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("bad multiboot2 magic %#x", magic);
	if (mb2_parse(phys_to_virt(info), MB2_MAX_TOTAL_SIZE, &boot.mb2, &err))
		panic("multiboot2 information: %s", err);
	boot.cmdline = boot.mb2.cmdline;
	boot.uefi = boot.mb2.efi64 || boot.mb2.efi_mmap;
	boot.test_mode = cmdline_has(boot.cmdline, "test");
	boot.spread_children = cmdline_has(boot.cmdline, "spread");
	hv_log("isovisor %s booting (%s, %s)", ISOVISOR_VERSION,
	       boot.uefi ? "uefi" : "bios", design_name);
	hv_boot_stage(entry_tsc, "entry");
	if (boot.cmdline[0])
		hv_log("command line: %s", boot.cmdline);

	/* The firmware may leave the 8259s delivering on vectors that are
	 * CPU exceptions (IRQ 0 on vector 8): mask them; whoever owns the
	 * devices (the root, or the monolithic design's models) uses the
	 * local APIC and reprograms them if it wants them. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	mm_init(info);
	hv_boot_stage(0, "memory");
	acpi_init();
	apic_init();
	bsp = percpu_alloc(0, apic_id());
	cpu_load_tables(bsp);
	call_on_stack(bsp->stack_top, hv_main_on_cpu_stack);
}

/* The rest of the boot CPU's life, on its own per-CPU stack. */
static void hv_main_on_cpu_stack(void)
{
	struct percpu *bsp = this_cpu();

	bsp->seen_rsp = (uint64_t)__builtin_frame_address(0);
	bsp->seen_gs = this_cpu();
	bsp->online = true;
	cpus_online = 1;
	time_init();
	/* Before the other CPUs, which check theirs against it. */
	cpustate_cpu_init();
	smp_boot_aps();
	hv_log("cpus %u online", cpus_online);
	hv_boot_stage(0, "cpus online");

	virt_init();
	hv_boot_stage(0, "virtualization");
	if (boot.test_mode) {
		hv_selftests();
		hv_boot_stage(0, "self-tests done");
	}
	/* Lets a test check the exception report end to end. */
	if (cmdline_has(boot.cmdline, "crash=ud"))
		__asm__ volatile("ud2");

	virt->cpu_enable();
	design_start();
}

/* Pick the vendor back-end this CPU supports; the rest of the hypervisor
 * only ever calls through `virt`. */
static void virt_init(void)
{
	const char *why = svm_ops.cpu_probe();
	char features[160];

	if (why)
		panic("%s; isovisor needs AMD SVM with nested paging", why);
	virt = &svm_ops;
	virt->describe(features, sizeof(features));
	hv_log("virtualization: %s", features);
}
