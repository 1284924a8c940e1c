/*
 * The partition config: a text module on the GRUB command line that tells
 * the partition manager which child partitions to create. Untrusted text:
 * parsed once into fixed-size records, every field range-checked, the
 * first error reported with its line number.
 *
 *   # comment
 *   partition guest1          a name: 1-15 of [a-z0-9_-], unique
 *     image legacy            the GRUB module whose first word is this
 *                             (a multiboot2 or multiboot ELF)
 *     kernel vmlinuz          or: a Linux bzImage module, booted by the
 *                             x86 boot protocol (args: its command line)
 *     initrd initrd           its initramfs module (with kernel only)
 *     memory 32               MiB of RAM, 1..65536 (the host's free RAM
 *                             decides at creation)
 *     vps 1                   virtual processors, 1..64 (VP 0 starts; the
 *                             guest starts the others)
 *     devices uart ata pit pic rtc pci testexit
 *                             and the synthetic (VMBus) ones:
 *                             storage heartbeat shutdown
 *     disk 8                  MiB of disk (needs ata or storage), 0..1024
 *     backing 64              the disk is the physical disk's bytes from
 *                             this MiB on (default: memory, lost at exit)
 *     nic lan0 02:00:00:00:00:01 e1000
 *                             a NIC on virtual switch lan0 (a name as
 *                             above; the switch exists once a NIC names
 *                             it) with this unicast MAC, unique in the
 *                             config; model e1000 (the default: an
 *                             emulated 82540EM on PCI, needs pci and pic)
 *                             or netvsc (synthetic, over VMBus: netvsp)
 *     nic lan0 02:00:00:00:00:01 netvsc macchange
 *                             the same, and the guest may change its MAC
 *                             (Linux: ip link set ... address): its
 *                             switch port follows it to any unicast
 *                             address no other nic is configured with.
 *                             Without macchange a change is refused, as
 *                             Hyper-V's MAC address spoofing "off";
 *                             netvsc only
 *     args test               the guest's command line (rest of the line)
 *     timeout 300             seconds it may run, 1..3600 (default 300)
 *   end
 *   switch lan0 uplink        (outside a partition) virtual switch lan0's
 *                             uplink is the machine's physical NIC
 */
#ifndef KLIB_PARTCFG_H
#define KLIB_PARTCFG_H

#include <stddef.h>
#include <stdint.h>

#define PARTCFG_MAX 64                  /* partitions in one config */
#define PARTCFG_MEMORY_MAX_MIB 65536
#define PARTCFG_VPS_MAX 64
#define PARTCFG_NAME_MAX 16
#define PARTCFG_ARGS_MAX 256
#define PARTCFG_MODULES_MAX 4           /* "module" lines per partition */
#define PARTCFG_MODARGS_MAX 64
#define PARTCFG_NICS_MAX 1              /* "nic" lines per partition */

enum partcfg_nic_model {
	PARTCFG_NIC_E1000 = 1,
	PARTCFG_NIC_NETVSC = 2,
};

enum partcfg_device {
	PARTCFG_DEV_UART = 1u << 0,
	PARTCFG_DEV_ATA = 1u << 1,
	PARTCFG_DEV_PIT = 1u << 2,
	PARTCFG_DEV_PIC = 1u << 3,
	PARTCFG_DEV_RTC = 1u << 4,
	PARTCFG_DEV_PCI = 1u << 5,
	PARTCFG_DEV_TESTEXIT = 1u << 6,
	PARTCFG_DEV_STORAGE = 1u << 7,          /* storvsp over VMBus */
	PARTCFG_DEV_HEARTBEAT = 1u << 8,        /* heartbeat IC */
	PARTCFG_DEV_SHUTDOWN = 1u << 9,         /* shutdown IC */
};

#define PARTCFG_DEV_VMBUS (PARTCFG_DEV_STORAGE | PARTCFG_DEV_HEARTBEAT | \
			   PARTCFG_DEV_SHUTDOWN)

struct partcfg_partition {
	char name[PARTCFG_NAME_MAX];
	char image[PARTCFG_NAME_MAX];
	char initrd[PARTCFG_NAME_MAX];  /* "": none */
	uint8_t linux_boot;             /* image is a bzImage ("kernel") */
	uint32_t memory_mib;
	uint32_t vps;
	uint32_t devices;               /* enum partcfg_device bits */
	uint32_t disk_mib;
	uint32_t backing_mib;           /* 0: in memory */
	uint32_t timeout_s;
	char args[PARTCFG_ARGS_MAX];
	/* Boot modules of a multiboot (1 or 2) image ("module NAME ARGS"):
	 * a GRUB module by its first word, loaded after the image, with the
	 * string "NAME ARGS". */
	unsigned module_count;
	struct partcfg_module {
		char name[PARTCFG_NAME_MAX];
		char args[PARTCFG_MODARGS_MAX];
	} modules[PARTCFG_MODULES_MAX];
	unsigned nic_count;
	struct partcfg_nic {
		char sw[PARTCFG_NAME_MAX];      /* the virtual switch */
		uint8_t mac[6];
		uint8_t model;                  /* enum partcfg_nic_model */
		uint8_t macchange;              /* the guest may change mac */
	} nics[PARTCFG_NICS_MAX];
};

#define PARTCFG_SWITCHES_MAX 4

struct partcfg {
	struct partcfg_partition p[PARTCFG_MAX];
	unsigned count;
	/* Switches with an uplink ("switch NAME uplink"). */
	unsigned uplink_count;
	char uplinks[PARTCFG_SWITCHES_MAX][PARTCFG_NAME_MAX];
};

/* 0, or -1 with a message (naming the line) in err[0..errlen). */
int partcfg_parse(const char *text, size_t len, struct partcfg *cfg,
		  char *err, size_t errlen);

#endif
