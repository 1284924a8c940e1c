/*
 * The root OS's boot path from boot.S's 64-bit entry: console and traps,
 * the boot information, memory, ACPI, every VP up; then test mode's TAP
 * stream or power-off. The same path runs natively under GRUB and as the
 * root partition under isovisor; only where the TLFS says how (starting
 * VPs, the console prefix) does it branch on `boot.hv`. Each stage logs
 * "[boot tsc=N] <stage>" (boot_stage), the last the first TAP line.
 */
#include <string.h>
#include "root.h"

struct root_boot boot;

const char boot_msg_no_multiboot[] =
	"root: panic: not started by a multiboot2 loader\r\n";
const char boot_msg_no_long_mode[] =
	"root: panic: this CPU has no long mode (x86-64)\r\n";

static const void *acpi_map_identity(uint64_t phys, size_t len, void *ctx)
{
	uint64_t end = mm_map_end();

	if (!phys || len > end || phys > end - len)
		return NULL;
	return (const void *)phys;
}

static void acpi_init(void)
{
	unsigned bad = 0;
	const char *err;

	if (acpi_parse_mb2(&boot.mb2, acpi_map_identity, NULL, &boot.acpi, &bad,
			   &err))
		panic("ACPI: %s", err);
	if (bad)
		klog("acpi: %u table(s) failed their length or checksum check "
		     "and were ignored", bad);
	klog("acpi: %u cpu(s) enabled in the MADT", boot.acpi.cpu_count);
}

/* Test hooks for the fatal paths, taken before the TAP stream. */
static void crash_if_asked(void)
{
	if (cmdline_has(boot.cmdline, "crash=ud")) {
		klog("crash=ud: executing ud2");
		__asm__ volatile("ud2");
	}
	if (cmdline_has(boot.cmdline, "crash=triple")) {
		struct descriptor_table_ptr none = { 0, 0 };

		/* int3 cannot be delivered (#GP), nor can the #GP (#DF), nor
		 * the #DF: the CPU shuts down. */
		klog("crash=triple: loading an empty IDT and executing int3");
		irq_disable();
		lidt(&none);
		__asm__ volatile("int3");
		panic("crash=triple: int3 with an empty IDT returned");
	}
}

static void banner(void)
{
	uint64_t bytes = memmap_total(&root_ram);

	if (boot.hv)
		klog("isovisor root OS %s (hypervisor: %s)", ISOVISOR_VERSION,
		     boot.hv_vendor[0] ? boot.hv_vendor : "no CPUID signature");
	else
		klog("isovisor root OS %s (native, no hypervisor)",
		     ISOVISOR_VERSION);
	if (boot.cmdline[0])
		klog("command line: %s", boot.cmdline);
	klog("memory %lu MiB in %u ranges", bytes / MiB, root_ram.count);
}

void boot_main(uint32_t magic, uint64_t info);
void boot_main(uint32_t magic, uint64_t info)
{
	uint64_t entry_tsc = rdtsc(), tsc_from_hv;
	const char *err;

	console_init();
	idt_init();
	idt_load();
	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("bad multiboot2 magic %#x", magic);
	if (mb2_parse((const void *)info, MB2_MAX_TOTAL_SIZE, &boot.mb2, &err))
		panic("multiboot2 information: %s", err);
	boot.hv = hv_detect(&boot.mb2, boot.hv_vendor);
	console_set_own_prefix(!boot.hv);
	boot_stage(entry_tsc, "entry");
	boot.cmdline = boot.mb2.cmdline;
	boot.test_mode = cmdline_has(boot.cmdline, "test");

	mm_init(info);
	banner();
	boot_stage(0, "memory");
	acpi_init();
	pic_disable();
	apic_init();
	/* Under a TLFS hypervisor that offers the frequency MSRs, its own
	 * calibration is ours (Linux does the same, hv_get_tsc_khz). */
	if (hv_tsc_khz(&tsc_from_hv)) {
		tsc_set_khz(tsc_from_hv);
	} else {
		tsc_from_hv = 0;
		tsc_init(boot.acpi.pm_tmr, boot.acpi.pm_tmr_32bit);
	}
	/* What turns the stamps' TSC cycles into time (the bench's wall pass). */
	klog("tsc: %lu kHz%s", tsc_khz(), tsc_from_hv ? " (from HV_X64_MSR_TSC_FREQUENCY)" : "");
	smp_boot_vp_online();
	if (boot.hv && hv_hypercall_init())
		klog("hyperv: no hypercalls; only VP 0 will run");
	smp_start_vps();
	klog("vps %u online", vps_online);
	boot_stage(0, "vps online");

	crash_if_asked();
	if (boot.test_mode) {
		tap_begin();
		tap_hv_results();
		root_selftests();
		test_exit(tap_end());
	}
	/* Outside test mode the control function still runs the config's
	 * partitions, and reports how each one ended. */
	tap_begin();
	if (cmdline_has(boot.cmdline, "bench"))
		blk_bench();
	if (cmdline_u64(boot.cmdline, "netbench=", 0))
		net_bench();
	partmgr_run();
	tap_end();
	power_off();
}
