/*
 * The legacy guest's boot path from boot.S's 64-bit entry: the steps
 * every guest takes (../common/boot.c, memory included), the PICs; then
 * test mode's TAP stream and the test-exit port, or a device inventory
 * and a halt. Nothing here asks whether a hypervisor is present; the only
 * difference between a native boot and a child partition is who prefixes
 * the console lines, which the loader name says.
 */
#include "legacy.h"

uint64_t legacy_disk_lba;

GUEST_BOOT_MESSAGES("legacy: ");

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
	guest_boot_init("legacy: ", magic, info);
	legacy_disk_lba = cmdline_u64(boot.cmdline, "disk_lba=", 0);
	pic_init();
	guest_run("legacy", "emulated devices only", legacy_tests, inventory);
}
