/*
 * The legacy guest's boot path from boot.S's 64-bit entry: console, GDT
 * with a TSS and the IDT, the boot information, memory, the PICs; then
 * test mode's TAP stream and the test-exit port, or a device inventory
 * and a halt. Nothing here asks whether a hypervisor is present; the only
 * difference between a native boot and a child partition is who prefixes
 * the console lines, which the loader name says.
 */
#include <string.h>
#include "legacy.h"
#include "x86/gdt.h"

#ifndef ISOVISOR_VERSION
#define ISOVISOR_VERSION "unknown"
#endif

#define TEST_EXIT_PORT 0xf4
#define IST_STACK_SIZE 8192

struct legacy_boot boot;

const char boot_msg_no_multiboot[] =
	"legacy: panic: not started by a multiboot2 loader\r\n";
const char boot_msg_no_long_mode[] =
	"legacy: panic: this CPU has no long mode (x86-64)\r\n";

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

static bool is_digit(char c, unsigned base)
{
	return (c >= '0' && c <= '9') ||
	       (base == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
}

uint64_t cmdline_u64(const char *cmdline, const char *key, uint64_t def)
{
	size_t klen = strlen(key);

	for (const char *p = cmdline; p && *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen)) {
			const char *v = p + klen;
			unsigned base = 10;
			uint64_t n = 0;

			if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
				base = 16;
				v += 2;
			}
			if (!is_digit(*v, base))
				return def;
			for (; is_digit(*v, base); v++) {
				unsigned d = *v <= '9' ? (unsigned)(*v - '0') :
					     (unsigned)((*v | 0x20) - 'a' + 10);

				if (n > (UINT64_MAX - d) / base)
					return def;     /* overflow */
				n = n * base + d;
			}
			return *v == ' ' || *v == '\0' ? n : def;
		}
		while (*p && *p != ' ')
			p++;
	}
	return def;
}

void test_exit(bool pass)
{
	outb(TEST_EXIT_PORT, pass ? 0 : 1);
	/* Neither QEMU's isa-debug-exit nor the root's device took it. */
	kprint("test exit port %#x did not end the run; halting",
	       TEST_EXIT_PORT);
	halt_forever();
}

static void banner(void)
{
	kprint("isovisor legacy guest %s (%s; emulated devices only)",
	       ISOVISOR_VERSION, boot.under_isovisor ?
	       "child partition under isovisor" : "native boot");
	if (boot.mb2.loader_name[0])
		kprint("boot loader: %s", boot.mb2.loader_name);
	if (boot.cmdline[0])
		kprint("command line: %s", boot.cmdline);
	kprint("memory %lu KiB in %u ranges, top %#lx",
	       memmap_total(&ram) >> 10, ram.count, memmap_top(&ram));
}

/* Without "test": say what the machine offers, then stop. */
static void inventory(void)
{
	struct ata_drive d;
	struct ata_result res;

	if (ata_probe(&d, &res))
		kprint("ata: primary master: %s (status %#02x error %#02x)",
		       res.why, res.status, res.error);
	else
		kprint("ata: primary master '%s', %lu sectors (%lu MiB)",
		       d.model, d.lba48 ? d.sectors48 : d.sectors28,
		       (d.lba48 ? d.sectors48 : d.sectors28) >> 11);
	if (!pci_mech1_present()) {
		kprint("pci: no configuration mechanism #1");
		return;
	}
	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			uint32_t id = pci_read32(0, dev, fn, 0);

			if ((id & 0xffff) == 0xffff)
				continue;
			kprint("pci: 00:%02x.%u %04x:%04x class %06x", dev, fn,
			       id & 0xffff, id >> 16,
			       pci_read32(0, dev, fn, 8) >> 8);
		}
	}
}

void boot_main(uint32_t magic, uint64_t info);
void boot_main(uint32_t magic, uint64_t info)
{
	const char *err;

	console_init();
	cpu_tables_init();
	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("bad multiboot2 magic %#x", magic);
	if (mb2_parse((const void *)info, MB2_MAX_TOTAL_SIZE, &boot.mb2, &err))
		panic("multiboot2 information: %s", err);
	boot.under_isovisor = !strcmp(boot.mb2.loader_name, "isovisor");
	console_set_own_prefix(!boot.under_isovisor);
	boot.cmdline = boot.mb2.cmdline;
	boot.test_mode = cmdline_has(boot.cmdline, "test");
	boot.seed = cmdline_u64(boot.cmdline, "seed=", 1);
	boot.disk_lba = cmdline_u64(boot.cmdline, "disk_lba=", 0);

	mm_init();
	pic_init();
	banner();
	if (boot.test_mode) {
		tap_begin();
		legacy_tests();
		test_exit(tap_end());
	}
	inventory();
	kprint("no test on the command line; halting");
	halt_forever();
}
