/*
 * The enlightened guest's boot path from boot.S's 64-bit entry: the steps
 * every guest takes (../common/boot.c: console, CPU tables, boot
 * information, memory), the page pool; then test mode's TAP stream and
 * the test-exit port, or a report of what the hypervisor offers and a
 * halt. Without a TLFS hypervisor (a native boot)
 * nothing enlightened is touched: every check is skipped.
 */
#include "enlightened.h"

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

uint64_t enlightened_mib;

GUEST_BOOT_MESSAGES("enlightened: ");

/* Natively the firmware may leave the 8259s unmasked on vectors that are
 * CPU exceptions in long mode; we use none of their lines. Under isovisor
 * the writes reach the root's PIC model, or nothing. */
static void pic_mask_all(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

/* Without "test": say what the hypervisor offers and bring it up. */
static void inventory(void)
{
	const char *why;

	if (!hv_detect()) {
		kprint("hv: no TLFS hypervisor (CPUID 0x40000000 '%s')",
		       hv.vendor);
		return;
	}
	kprint("hv: '%s' max leaf %#x, version %u.%u build %u, features "
	       "%#x/%#x", hv.vendor, hv.max_leaf, hv.version >> 16,
	       hv.version & 0xffff, hv.build, hv.features_eax,
	       hv.features_ebx);
	if (hv_hypercall_init(&why)) {
		kprint("hv: hypercall page: %s", why);
		return;
	}
	if (synic_init(&why)) {
		kprint("hv: synic: %s", why);
		return;
	}
	kprint("hv: hypercall page and synic (SINT2 vector %#x) enabled, "
	       "%lu KiB of pages free", SYNIC_VECTOR,
	       pages_free_bytes() >> 10);
}

void boot_main(uint32_t magic, uint64_t info);
void boot_main(uint32_t magic, uint64_t info)
{
	guest_boot_init("enlightened: ", magic, info);
	enlightened_mib = cmdline_u64(boot.cmdline, "mib=", 16);
	pages_init();
	pic_mask_all();
	guest_before_exit = enlightened_vmbus_wait_shutdown;
	guest_run("enlightened", "integration services", enlightened_tests,
		  inventory);
}
