/*
 * The boot steps every guest image takes from boot.S's 64-bit entry
 * around its own: console, GDT with a TSS and the IDT, the multiboot2
 * information, the command-line words all guests read, memory; then the
 * banner, and test mode's TAP stream and the test-exit port that ends it.
 */
#include <string.h>
#include "guest.h"
#include "x86/gdt.h"

#ifndef ISOVISOR_VERSION
#define ISOVISOR_VERSION "unknown"
#endif

#define TEST_EXIT_PORT 0xf4
#define IST_STACK_SIZE 8192

struct guest_boot boot;

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static uint8_t ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));

/* NMI, #DF and #MC on stacks of their own, so a blown stack is reported. */
static void cpu_tables_init(void)
{
	tss.ist[IST_NMI - 1] = (uint64_t)ist_stacks[0] + IST_STACK_SIZE;
	tss.ist[IST_DF - 1] = (uint64_t)ist_stacks[1] + IST_STACK_SIZE;
	tss.ist[IST_MC - 1] = (uint64_t)ist_stacks[2] + IST_STACK_SIZE;
	tss.iomap_base = sizeof(tss);           /* no I/O bitmap */
	gdt_build(gdt, &tss);
	gdt_load(gdt);
	ltr(GDT_TSS);
	idt_init();
	idt_use_ist();
	idt_load();
}

void test_exit(bool pass)
{
	outb(TEST_EXIT_PORT, pass ? 0 : 1);
	/* Neither QEMU's isa-debug-exit nor the root's device took it. */
	kprint("test exit port %#x did not end the run; halting",
	       TEST_EXIT_PORT);
	halt_forever();
}

static void banner(const char *image, const char *kind)
{
	kprint("isovisor %s guest %s (%s; %s)", image, ISOVISOR_VERSION,
	       boot.under_isovisor ? "child partition under isovisor" :
				     "native boot", kind);
	if (boot.mb2.loader_name[0])
		kprint("boot loader: %s", boot.mb2.loader_name);
	if (boot.cmdline[0])
		kprint("command line: %s", boot.cmdline);
	kprint("memory %lu KiB in %u ranges, top %#lx",
	       memmap_total(&ram) >> 10, ram.count, memmap_top(&ram));
}

void (*guest_before_exit)(void);

void guest_run(const char *image, const char *kind, void (*tests)(void),
	       void (*inventory)(void))
{
	banner(image, kind);
	if (boot.test_mode) {
		bool pass;

		tap_begin();
		tests();
		pass = tap_end();
		if (guest_before_exit)
			guest_before_exit();
		test_exit(pass);
	}
	inventory();
	kprint("no test on the command line; halting");
	halt_forever();
}

void guest_boot_init(const char *prefix, uint32_t magic, uint64_t info)
{
	const char *err;

	console_set_prefix(prefix);
	console_init();
	cpu_tables_init();
	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("bad multiboot2 magic %#x", magic);
	if (mb2_parse((const void *)info, MB2_MAX_TOTAL_SIZE, &boot.mb2, &err))
		panic("multiboot2 information: %s", err);
	boot.mb2_pa = info;
	boot.under_isovisor = !strcmp(boot.mb2.loader_name, "isovisor");
	if (boot.under_isovisor)
		console_set_prefix(NULL);
	boot.cmdline = boot.mb2.cmdline;
	boot.test_mode = cmdline_has(boot.cmdline, "test");
	boot.seed = cmdline_u64(boot.cmdline, "seed=", 1);
	mm_init();
}
