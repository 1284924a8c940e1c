/*
 * The partition manager and device host of the root partition (the
 * microkernelized design's control function). It reads the partition
 * config module, creates each child through the TLFS hypercalls, gives it
 * memory, loads its multiboot2 ELF image as GRUB would, and starts it.
 * Then it serves the children's emulated devices: every port access and
 * every access to a GPA with no memory arrives as an intercept message on
 * SINT 0 and is completed here by the device models in drivers/, which
 * see the same platform interface they would inside the hypervisor.
 * Each child's TAP lines are gathered into the root's single stream.
 */
#include <stdarg.h>
#include <string.h>
#include <isovisor/hvtlfs.h>
#include <isovisor/multiboot2.h>
#include "bzimage.h"
#include "elf.h"
#include "format.h"
#include "partsvc.h"
#include "partcfg.h"
#include "x86_decode.h"
#include "uart16550.h"
#include "ata.h"
#include "pit8254.h"
#include "pic8259.h"
#include "ioapic.h"
#include "rtc.h"
#include "pcicfg.h"
#include "testexit.h"
#include "vmbushost.h"
#include "acpitab.h"
#include "acpipm.h"
#include "e1000.h"
#include "childmem.h"
#include "vswitch.h"

#define CHILD_MBI_GPA 0x8000
/* A Linux child (the x86 boot protocol): its zero page and command line
 * in low memory, below the EBDA-like hole at 0x9f000. */
#define CHILD_ZERO_PAGE_GPA 0x7000
#define CHILD_CMDLINE_GPA 0x9000
#define MAX_TAP 32

/* Child pages an e1000's DMA keeps mapped: its rings and buffers. */
#define NIC_MEM_SLOTS 256

struct child {
	struct partcfg_partition cfg;
	uint64_t id;
	struct platform plat;
	struct uart16550 uart;
	struct ata ata;
	struct pit pit;
	struct pic pic;
	struct ioapic ioapic;           /* with the 8259s (`pic`): a PC's pair */
	struct rtc rtc;
	struct pcicfg pci;
	struct testexit tx;
	struct acpipm pm;
	/* Its NIC (a `nic` line): an e1000 on PCI 00:03.0, one port of a
	 * virtual switch; a frame the switch handed over that the NIC's
	 * receive ring had no room for waits in rx_frame. */
	struct e1000 nic;
	/* The e1000's DMA: the child's pages mapped once (childmem.h). */
	struct childmem nic_mem;
	struct childmem_slot nic_mem_slots[NIC_MEM_SLOTS];
	struct vswitch *sw;
	int port;
	uint64_t tx_gen;                /* the switch's gen when it said busy */
	size_t rx_len;
	uint8_t rx_frame[VSWITCH_FRAME_MAX];
	struct block_backend disk;
	uint8_t *disk_mem;
	/* A disk on the physical disk: its first sector there. */
	const struct block_backend *phys;
	uint64_t phys_lba;
	struct vmbus_host *vmbus;
	const char *vmbus_skip;         /* why the synthetic disk is missing */
	bool shutdown_requested;
	bool created, started, done, crashed;
	bool multiboot1;                /* boot it as GRUB's multiboot (1) */
	bool powered_off;               /* ACPI S5 through the PM block */
	bool extint_wait;               /* an 8259 vector VP 0 refused */
	/* Where its boot modules were loaded ([start, end) GPAs). */
	uint32_t mod_start[PARTCFG_MODULES_MAX], mod_end[PARTCFG_MODULES_MAX];
	uint64_t deadline_ns;
	uint32_t exit_code;
	char why[160];
	unsigned tap_count, plan;
	struct {
		bool ok;
		char desc[200];
	} tap[MAX_TAP];
};

static struct child children[PARTCFG_MAX];
static unsigned child_count;
static const struct partsvc *ps;

/* The virtual switches, made when the first NIC names one. In the
 * monolithic design this is the hypervisor's, in the microkernelized one
 * the root's: the same code. */
#define MAX_SWITCHES 4
static struct vswitch *switches[MAX_SWITCHES];
static unsigned switch_count;
static struct platform switch_plat;

/* A switch's uplink to the machine's NIC: a frame each way may wait
 * (the switch or the NIC said busy); nothing is dropped here. */
static struct uplink {
	struct vswitch *sw;
	int port;
	const struct phys_nic *nic;
	uint64_t gen;                   /* the switch's gen when it said busy */
	bool in_busy;
	size_t in_len, out_len;
	uint8_t in[VSWITCH_FRAME_MAX];  /* from the NIC, for the switch */
	uint8_t out[VSWITCH_FRAME_MAX]; /* from the switch, for the NIC */
	uint64_t frames_in, frames_out;
} uplinks[PARTCFG_SWITCHES_MAX];
static unsigned uplink_count;
/* partmgr_next_event_ns()'s answer, kept until something that can move a
 * deadline earlier happens (a PIT or RTC access, VMBus work, a tick): the
 * root asks before every dispatch, and a pass over every child's devices
 * per intercept cost more than the intercept. An answer that is early
 * only costs a tick that finds nothing to do. */
static bool next_stale = true;
static uint64_t next_cached;

static void pm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void pm_log(const char *fmt, ...)
{
	char line[200];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ps->log(line);
}

static void tapf(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tapf(bool ok, const char *fmt, ...)
{
	char line[240];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ps->tap(ok, line);
}

/* ---- the platform the device models see ----------------------------------- */

/* The 8259's INTR line to VP 0, as ExtINT: the CPU's INTA is the
 * hypervisor taking the vector. While the VP's LINT0 refuses ExtINT (an
 * OS programming its APIC masks it for a while, and for good once it
 * routes through the I/O APIC) the PIC keeps the request pending, as its
 * line stays high, and we try again at the next tick (extint_wait bounds
 * the next one); acknowledging it then would leave it in service with
 * nobody to end it, and every lower IRQ blocked. */
#define EXTINT_RETRY_NS 1000000ull

static void deliver_irqs(struct child *c)
{
	c->extint_wait = false;
	while (c->started && !c->done) {
		int v = pic_pending_vector(&c->pic);

		if (v < 0)
			break;
		if (ps->assert_irq(c->id, 0, (uint8_t)v)) {
			c->extint_wait = true;
			next_stale = true;
			break;
		}
		pic_acknowledge(&c->pic);
	}
}

static void plat_irq_set(void *ctx, unsigned irq, bool level)
{
	struct child *c = ctx;

	int pin = ioapic_isa_pin(irq);

	pic_set_irq(&c->pic, irq, level);
	/* A PC wires each ISA IRQ to both: the OS masks the one it does
	 * not use. */
	if (pin >= 0 && (c->cfg.devices & PARTCFG_DEV_PIC))
		ioapic_set_pin(&c->ioapic, (unsigned)pin, level);
	deliver_irqs(c);
}

static int ioapic_deliver(void *ctx, uint8_t vector, uint8_t mode, bool logical,
			  uint8_t dest, bool level)
{
	struct child *c = ctx;

	if (mode == 7) {                /* ExtINT through the I/O APIC: the 8259's */
		deliver_irqs(c);
		return 0;
	}
	if (mode != 0 && mode != 1) {
		pm_log("%s devices: ioapic: delivery mode %u (NMI) is not delivered",
		       c->cfg.name, mode);
		return -1;
	}
	return ps->assert_apic(c->id, vector, mode, logical, dest, level);
}

static uint64_t plat_now_ns(void *ctx)
{
	return ps->now_ns();
}

static void record_tap(struct child *c, const char *t, size_t len)
{
	bool ok = len > 3 && !memcmp(t, "ok ", 3);
	bool notok = len > 7 && !memcmp(t, "not ok ", 7);
	const char *d;

	if (len > 3 && !memcmp(t, "1..", 3)) {
		c->plan = 0;
		for (size_t i = 3; i < len && t[i] >= '0' && t[i] <= '9'; i++)
			c->plan = c->plan * 10 + (unsigned)(t[i] - '0');
		return;
	}
	if ((!ok && !notok) || c->tap_count == MAX_TAP)
		return;
	d = t;
	while ((size_t)(d - t) < len && *d != '-')
		d++;
	if ((size_t)(d - t) + 2 > len)
		return;
	d += 2;
	c->tap[c->tap_count].ok = ok;
	{
		size_t n = len - (size_t)(d - t);

		if (n >= sizeof(c->tap[0].desc))
			n = sizeof(c->tap[0].desc) - 1;
		memcpy(c->tap[c->tap_count].desc, d, n);
		c->tap[c->tap_count].desc[n] = '\0';
	}
	c->tap_count++;
}

static void plat_console_line(void *ctx, const char *text, size_t len)
{
	struct child *c = ctx;

	ps->console_line(c->cfg.name, text, len);
	record_tap(c, text, len);
	/* Its TAP stream is complete: end the run through the shutdown IC
	 * when it has one (it waits for that before leaving). */
	if (c->plan && c->vmbus && !c->shutdown_requested) {
		c->shutdown_requested = true;
		next_stale = true;
		if (!vmbus_host_request_shutdown(c->vmbus))
			pm_log("%s: no shutdown IC open; it leaves on its own", c->cfg.name);
	}
}

static void plat_test_exit(void *ctx, uint32_t code)
{
	struct child *c = ctx;

	c->done = true;
	c->exit_code = code;
}

/* PM1_CNT.SLP_EN: S5 (soft off, the DSDT's \_S5) ends the run as the
 * test-exit port's 0 does; no other sleep state is offered. */
static void acpi_sleep(void *ctx, unsigned slp_typ)
{
	struct child *c = ctx;

	if (slp_typ != ACPIPM_SLP_TYP_S5) {
		pm_log("%s: ACPI sleep type %u asked for: not offered (only S5), ignored",
		       c->cfg.name, slp_typ);
		return;
	}
	pm_log("%s: ACPI S5: the partition powered itself off", c->cfg.name);
	c->powered_off = true;
	c->done = true;
	c->exit_code = 0;
}

static void plat_log(void *ctx, const char *msg)
{
	struct child *c = ctx;

	pm_log("%s devices: %s", c->cfg.name, msg);
}

static int disk_read(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	struct child *c = ctx;

	memcpy(buf, c->disk_mem + lba * 512, (size_t)count * 512);
	return 0;
}

static int disk_write(void *ctx, uint64_t lba, unsigned count, const void *buf)
{
	struct child *c = ctx;

	memcpy(c->disk_mem + lba * 512, buf, (size_t)count * 512);
	return 0;
}

/* A disk that is a range of the physical disk: the models check the
 * range against `sectors`; this checks it again, since a model bug here
 * would reach another partition's data. */
static bool phys_range_ok(struct child *c, uint64_t lba, unsigned count)
{
	return lba < c->disk.sectors && count <= c->disk.sectors - lba;
}

static int phys_read(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	struct child *c = ctx;

	if (!phys_range_ok(c, lba, count))
		return -1;
	return c->phys->read(c->phys->ctx, c->phys_lba + lba, count, buf);
}

static int phys_write(void *ctx, uint64_t lba, unsigned count, const void *buf)
{
	struct child *c = ctx;

	if (!phys_range_ok(c, lba, count))
		return -1;
	return c->phys->write(c->phys->ctx, c->phys_lba + lba, count, buf);
}

static int phys_read_sg(void *ctx, uint64_t lba, unsigned count, const struct blk_seg *segs,
			unsigned nsegs)
{
	struct child *c = ctx;

	if (!phys_range_ok(c, lba, count))
		return -1;
	return c->phys->read_sg(c->phys->ctx, c->phys_lba + lba, count, segs, nsegs);
}

static int phys_write_sg(void *ctx, uint64_t lba, unsigned count, const struct blk_seg *segs,
			 unsigned nsegs)
{
	struct child *c = ctx;

	if (!phys_range_ok(c, lba, count))
		return -1;
	return c->phys->write_sg(c->phys->ctx, c->phys_lba + lba, count, segs, nsegs);
}

static int phys_flush(void *ctx)
{
	struct child *c = ctx;

	return c->phys->flush ? c->phys->flush(c->phys->ctx) : 0;
}

/* ---- creating a child -------------------------------------------------------- */

/* The boot information a child gets, as GRUB would build it. */
/* "NAME ARGS" of module `i`, as GRUB gives a module's command line. */
static void module_string(const struct child *c, unsigned i, char *out, size_t cap)
{
	const struct partcfg_module *m = &c->cfg.modules[i];

	if (m->args[0])
		ksnprintf(out, cap, "%s %s", m->name, m->args);
	else
		ksnprintf(out, cap, "%s", m->name);
}

static uint16_t build_child_mbi(struct child *c)
{
	static uint8_t buf[2048] __attribute__((aligned(8)));
	uint32_t len = 8;
	struct mb2_tag_mmap *mm;
	uint64_t ram = (uint64_t)c->cfg.memory_mib << 20;
	const char *strs[2] = { c->cfg.args, "isovisor" };
	uint32_t types[2] = { MB2_TAG_CMDLINE, MB2_TAG_LOADER_NAME };

	memset(buf, 0, sizeof(buf));
	for (unsigned i = 0; i < 2; i++) {
		struct mb2_tag_string *t = (void *)(buf + len);

		t->type = types[i];
		t->size = 8 + (uint32_t)strlen(strs[i]) + 1;
		memcpy(t->string, strs[i], strlen(strs[i]) + 1);
		len += (t->size + 7) & ~7u;
	}
	for (unsigned i = 0; i < c->cfg.module_count; i++) {
		struct mb2_tag_module *t = (void *)(buf + len);
		char *str = (char *)(buf + len + sizeof(*t));

		t->type = MB2_TAG_MODULE;
		t->mod_start = c->mod_start[i];
		t->mod_end = c->mod_end[i];
		module_string(c, i, str, PARTCFG_NAME_MAX + PARTCFG_MODARGS_MAX + 2);
		t->size = (uint32_t)(sizeof(*t) + strlen(str) + 1);
		len += (t->size + 7) & ~7u;
	}
	mm = (void *)(buf + len);
	mm->type = MB2_TAG_MMAP;
	mm->size = 16 + (child_ram_high(ram) ? 4 : 3) * 24;
	mm->entry_size = 24;
	mm->entries[0] = (struct mb2_mmap_entry){ 0x1000, 0x9e000, MB2_MEMORY_AVAILABLE, 0 };
	mm->entries[1] = (struct mb2_mmap_entry){ 0x9f000, 0x61000, MB2_MEMORY_RESERVED, 0 };
	mm->entries[2] = (struct mb2_mmap_entry){ 0x100000, child_ram_low(ram) - 0x100000,
						  MB2_MEMORY_AVAILABLE, 0 };
	if (child_ram_high(ram))
		mm->entries[3] = (struct mb2_mmap_entry){ CHILD_HIGH_RAM_BASE,
							  child_ram_high(ram),
							  MB2_MEMORY_AVAILABLE, 0 };
	len += mm->size;
	len += 8;                               /* end tag: zeros, type 0 size 8 */
	((uint32_t *)(buf + len - 8))[1] = 8;
	((struct mb2_info_header *)buf)->total_size = len;
	return ps->copy_to(c->id, CHILD_MBI_GPA, buf, len) ? 1 : 0;
}

/* The multiboot (1) information: flags, memory sizes, command line, a
 * memory map and the loader's name, as GRUB's multiboot loader gives. */
#define MB1_BOOTLOADER_MAGIC 0x2badb002
struct mb1_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
} __attribute__((packed));

struct mb1_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

struct mb1_module {
	uint32_t mod_start, mod_end, string, reserved;
};

#define MB1_MODS_OFF    0x400           /* in the information block */
#define MB1_MODSTR_OFF  0x440           /* 96 bytes per module string */

static uint16_t build_child_mb1_info(struct child *c)
{
	static uint8_t buf[2048] __attribute__((aligned(8)));
	struct mb1_module *mods = (void *)(buf + MB1_MODS_OFF);
	struct mb1_info *mi = (void *)buf;
	struct mb1_mmap_entry *mm = (void *)(buf + 256);
	uint64_t ram = (uint64_t)c->cfg.memory_mib << 20;
	char *cmd = (char *)(buf + 512), *name = (char *)(buf + 768);

	memset(buf, 0, sizeof(buf));
	mi->flags = (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9);
	mi->mem_lower = 0x9f000 / 1024;
	mi->mem_upper = (uint32_t)((child_ram_low(ram) - 0x100000) / 1024);
	mi->cmdline = CHILD_MBI_GPA + 512;
	mi->mmap_addr = CHILD_MBI_GPA + 256;
	mi->mmap_length = (child_ram_high(ram) ? 4 : 3) * sizeof(*mm);
	mi->boot_loader_name = CHILD_MBI_GPA + 768;
	mm[0] = (struct mb1_mmap_entry){ 20, 0, 0x9f000, MB2_MEMORY_AVAILABLE };
	mm[1] = (struct mb1_mmap_entry){ 20, 0x9f000, 0x61000, MB2_MEMORY_RESERVED };
	mm[2] = (struct mb1_mmap_entry){ 20, 0x100000, child_ram_low(ram) - 0x100000,
					 MB2_MEMORY_AVAILABLE };
	mm[3] = (struct mb1_mmap_entry){ 20, CHILD_HIGH_RAM_BASE, child_ram_high(ram),
					 MB2_MEMORY_AVAILABLE };
	memcpy(cmd, c->cfg.args, strnlen(c->cfg.args, 255));
	memcpy(name, "isovisor", 9);
	if (c->cfg.module_count) {
		mi->flags |= 1u << 3;
		mi->mods_count = c->cfg.module_count;
		mi->mods_addr = CHILD_MBI_GPA + MB1_MODS_OFF;
	}
	for (unsigned i = 0; i < c->cfg.module_count; i++) {
		char *str = (char *)(buf + MB1_MODSTR_OFF + 96 * i);

		module_string(c, i, str, 96);
		mods[i] = (struct mb1_module){ c->mod_start[i], c->mod_end[i],
					       CHILD_MBI_GPA + MB1_MODSTR_OFF + 96 * i, 0 };
	}
	return ps->copy_to(c->id, CHILD_MBI_GPA, buf, sizeof(buf)) ? 1 : 0;
}

static void set_reg(struct hv_register_assoc *r, uint32_t name, uint64_t v)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->value.reg64 = v;
}

/* The VP whose intercept is being completed (partmgr_message): every
 * intercept payload starts with the header naming it. */
static uint32_t msg_vp;

static int set_regs(struct child *c, const struct hv_register_assoc *r,
		    unsigned n)
{
	return ps->set_regs(c->id, msg_vp, r, n);
}

/* The x86 boot protocol, as a loader that skips the real-mode setup: the
 * protected-mode kernel at 1 MiB, the initrd as high as the kernel allows,
 * the command line and zero page in low memory, entry in 32-bit flat mode
 * (the VP's initial state: CS 0x10, DS 0x18, as boot.rst asks) with ESI at
 * the zero page. Every range is checked against the partition's RAM. */
static const char *load_linux(struct child *c, const uint8_t *img, size_t size,
			      uint64_t *entry, uint64_t *zero_page)
{
	static uint8_t zp[BZ_ZERO_PAGE_SIZE];
	static char why[96];
	uint64_t total = (uint64_t)c->cfg.memory_mib << 20, ram = child_ram_low(total);
	struct bzimage_plan bp;
	struct bzimage_layout l = { 0 };
	const struct bz_e820 e820[] = {
		{ 0, 0x9f000, BZ_E820_RAM },
		{ 0x9f000, 0x61000, BZ_E820_RESERVED },
		{ 0x100000, ram - 0x100000, BZ_E820_RAM },
		{ CHILD_HIGH_RAM_BASE, child_ram_high(total), BZ_E820_RAM },
	};
	const uint8_t *initrd = NULL;
	size_t initrd_size = 0, args_len = strlen(c->cfg.args);
	const char *err;

	if (bzimage_plan(img, size, &bp, &err))
		return err;
	if (bp.needs_below > ram) {
		ksnprintf(why, sizeof(why), "the kernel needs %llu MiB of memory to "
			  "decompress and run; the partition has %u",
			  (unsigned long long)((bp.needs_below + (1 << 20) - 1) >> 20),
			  c->cfg.memory_mib);
		return why;
	}
	if (args_len > bp.cmdline_max)
		return "the command line (args) is longer than the kernel accepts";
	if (c->cfg.initrd[0]) {
		initrd = ps->module(c->cfg.initrd, &initrd_size);
		if (!initrd)
			return "no module with that initrd name";
		l.initrd_gpa = bzimage_initrd_addr(&bp, ram, bp.needs_below, initrd_size);
		if (!l.initrd_gpa)
			return "the initrd does not fit in the partition's memory above the "
			       "kernel (give it more memory)";
		l.initrd_size = initrd_size;
	}
	if (ps->copy_to(c->id, bp.load_addr, img + bp.kernel_offset, bp.kernel_size))
		return "loading the kernel failed";
	if (initrd && ps->copy_to(c->id, l.initrd_gpa, initrd, initrd_size))
		return "loading the initrd failed";
	if (ps->copy_to(c->id, CHILD_CMDLINE_GPA, c->cfg.args, args_len + 1))
		return "writing the command line failed";
	l.cmdline_gpa = CHILD_CMDLINE_GPA;
	l.rsdp_gpa = ACPITAB_BASE;
	l.e820 = e820;
	l.e820_count = child_ram_high(total) ? 4 : 3;
	if (bzimage_zero_page(img, &bp, &l, zp, &err))
		return err;
	if (ps->copy_to(c->id, CHILD_ZERO_PAGE_GPA, zp, sizeof(zp)))
		return "writing the zero page failed";
	pm_log("%s: Linux boot protocol %u.%02u, kernel %zu KiB at %#llx, initrd %zu KiB "
	       "at %#llx, needs RAM to %llu MiB", c->cfg.name, bp.version >> 8,
	       bp.version & 0xff, size >> 10, (unsigned long long)bp.load_addr,
	       initrd_size >> 10, (unsigned long long)l.initrd_gpa,
	       (unsigned long long)(bp.needs_below >> 20));
	*entry = bp.entry;
	*zero_page = CHILD_ZERO_PAGE_GPA;
	return NULL;
}

/* Every child's ACPI tables (acpitab.h), at ACPITAB_BASE in the
 * reserved hole below 1 MiB: the VMBus device when it has synthetic
 * devices, \_S5 for the PM block. */
static int write_acpi_tables(struct child *c)
{
	static uint8_t buf[ACPITAB_SIZE];
	const struct acpitab_config ac = {
		.base = ACPITAB_BASE, .vps = c->cfg.vps, .lapic = true,
		.ioapic = (c->cfg.devices & PARTCFG_DEV_PIC) != 0,
		.vmbus = (c->cfg.devices & PARTCFG_DEV_VMBUS) != 0,
		.pm_base = ACPIPM_BASE, .sci_irq = 9, .vmbus_irq = 5,
	};
	size_t n = acpitab_build(&ac, buf, sizeof(buf));

	return n && !ps->copy_to(c->id, ACPITAB_BASE, buf, n) ? 0 : -1;
}

/* A multiboot2 or multiboot (1) ELF, as GRUB loads it. */
static const char *load_multiboot(struct child *c, const uint8_t *img, size_t size,
				  const struct elf_plan *plan)
{
	uint64_t at = (plan->highest + 0xfff) & ~0xfffull;
	uint64_t ram = child_ram_low((uint64_t)c->cfg.memory_mib << 20);

	for (unsigned i = 0; i < plan->count; i++)
		if (ps->copy_to(c->id, plan->seg[i].paddr, img + plan->seg[i].offset,
				plan->seg[i].filesz))
			return "loading the image failed";
	/* Its modules, one after another on page boundaries after the
	 * image, below 4 GiB (the multiboot fields are 32-bit). */
	for (unsigned i = 0; i < c->cfg.module_count; i++) {
		size_t msize;
		const uint8_t *m = ps->module(c->cfg.modules[i].name, &msize);

		if (!m)
			return "a module it names is not on the medium";
		if (at + msize > ram || at + msize > 0xffffffffull)
			return "its modules do not fit in the partition's memory";
		if (msize && ps->copy_to(c->id, at, m, msize))
			return "loading a module failed";
		c->mod_start[i] = (uint32_t)at;
		c->mod_end[i] = (uint32_t)(at + msize);
		at = (at + msize + 0xfff) & ~0xfffull;
	}
	if (c->multiboot1 ? build_child_mb1_info(c) : build_child_mbi(c))
		return "writing the boot information failed";
	return NULL;
}

/* ---- the NIC and the virtual switch --------------------------------------- */

#define NIC_PCI_DEV   3
#define NIC_MMIO_BASE 0xfebc0000u       /* where firmware would put BAR0 */
#define NIC_IO_BASE   0xc000u
#define NIC_IRQ       11

static uint64_t sw_now_ns(void *ctx)
{
	return ps->now_ns();
}

static void sw_log(void *ctx, const char *msg)
{
	pm_log("vswitch: %s", msg);
}

static struct vswitch *switch_named(const char *name)
{
	struct vswitch *sw;

	for (unsigned i = 0; i < switch_count; i++)
		if (!strcmp(switches[i]->name, name))
			return switches[i];
	if (switch_count == MAX_SWITCHES)
		return NULL;
	sw = ps->alloc(sizeof(*sw));
	if (!sw)
		return NULL;
	switch_plat = (struct platform){ .ctx = NULL, .now_ns = sw_now_ns, .log = sw_log };
	vswitch_init(sw, &switch_plat, name);
	switches[switch_count++] = sw;
	return sw;
}

static int nic_dma_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct child *c = ctx;

	return childmem_copy(&c->nic_mem, gpa, buf, len, false);
}

static int nic_dma_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct child *c = ctx;

	return childmem_copy(&c->nic_mem, gpa, (void *)buf, len, true);
}

static int nic_tx(void *ctx, const void *frame, size_t len)
{
	struct child *c = ctx;

	switch (vswitch_send(c->sw, (unsigned)c->port, frame, len)) {
	case VSWITCH_SENT:
		next_stale = true;
		return 0;
	case VSWITCH_BUSY:
		c->tx_gen = vswitch_busy_gen(c->sw);
		return 1;
	default:
		return -1;
	}
}

/* A netvsc guest's new address (its nic allows macchange). */
static int nic_set_mac(void *ctx, const uint8_t mac[6])
{
	struct child *c = ctx;

	return vswitch_set_port_mac(c->sw, (unsigned)c->port, mac);
}

static const struct pcicfg_function *nic_function(const struct child *c)
{
	for (unsigned i = 0; i < PCICFG_MAX_FUNCTIONS; i++)
		if (c->pci.fn[i].present && c->pci.fn[i].dev == NIC_PCI_DEV &&
		    c->pci.fn[i].fn == 0)
			return &c->pci.fn[i];
	return NULL;
}

static uint32_t cfg32(const struct pcicfg_function *f, unsigned off)
{
	return (uint32_t)f->config[off] | (uint32_t)f->config[off + 1] << 8 |
	       (uint32_t)f->config[off + 2] << 16 | (uint32_t)f->config[off + 3] << 24;
}

/* BAR `bar` of the NIC's function as the guest programmed it, when the
 * command register decodes that kind (bit 0 I/O, bit 1 memory); 0 else. */
static uint32_t nic_bar(const struct child *c, unsigned bar)
{
	const struct pcicfg_function *f = c->sw ? nic_function(c) : NULL;
	uint32_t v, cmd;

	if (!f)
		return 0;
	cmd = cfg32(f, PCI_COMMAND) & 0xffff;
	v = cfg32(f, PCI_BAR0 + 4 * bar);
	if (v & PCI_BAR_IO)
		return (cmd & 1) ? v & ~3u : 0;
	return (cmd & 2) ? v & ~0xfu : 0;
}

static const char *nic_attach(struct child *c)
{
	const struct partcfg_nic *n = &c->cfg.nics[0];
	uint8_t config[256], wmask[256];
	uint32_t sizes[6];

	c->port = -1;
	c->sw = switch_named(n->sw);
	if (!c->sw)
		return "no room or memory for another virtual switch";
	c->port = vswitch_add_port(c->sw, c->cfg.name, n->mac, false);
	if (c->port < 0) {
		c->sw = NULL;
		return "the virtual switch has no free port";
	}
	if (n->model == PARTCFG_NIC_NETVSC) {
		pm_log("%s: nic netvsc %02x:%02x:%02x:%02x:%02x:%02x on switch %s port %d "
		       "(VMBus)", c->cfg.name, n->mac[0], n->mac[1], n->mac[2], n->mac[3],
		       n->mac[4], n->mac[5], n->sw, c->port);
		return NULL;
	}
	childmem_init(&c->nic_mem, ps, c->id, (uint64_t)c->cfg.memory_mib << 20,
		      c->nic_mem_slots, NIC_MEM_SLOTS);
	e1000_init(&c->nic, &c->plat, n->mac, NIC_IRQ,
		   &(struct e1000_net){ c, nic_dma_read, nic_dma_write, nic_tx });
	e1000_pci_header(config, wmask, sizes, NIC_MMIO_BASE, NIC_IO_BASE, NIC_IRQ);
	if (pcicfg_add_device(&c->pci, NIC_PCI_DEV, 0, config, wmask, sizes))
		return "registering the NIC's PCI function failed";
	pm_log("%s: nic e1000 %02x:%02x:%02x:%02x:%02x:%02x on switch %s port %d "
	       "(PCI 00:%02x.0, IRQ %u)", c->cfg.name, n->mac[0], n->mac[1], n->mac[2],
	       n->mac[3], n->mac[4], n->mac[5], n->sw, c->port, NIC_PCI_DEV, NIC_IRQ);
	return NULL;
}

static void uplink_attach(const char *name)
{
	struct uplink *u = &uplinks[uplink_count];
	const char *why = "this design has no NIC driver";

	u->sw = switch_named(name);
	u->nic = ps->phys_nic ? ps->phys_nic(&why) : NULL;
	if (!u->sw || !u->nic) {
		pm_log("switch %s: no uplink: %s", name, u->sw ? why : "no switch");
		return;
	}
	u->port = vswitch_add_port(u->sw, "uplink", NULL, true);
	if (u->port < 0) {
		pm_log("switch %s: no uplink: the switch has no free port", name);
		return;
	}
	pm_log("switch %s: uplink to the machine's NIC %02x:%02x:%02x:%02x:%02x:%02x "
	       "(port %d)", name, u->nic->mac[0], u->nic->mac[1], u->nic->mac[2],
	       u->nic->mac[3], u->nic->mac[4], u->nic->mac[5], u->port);
	uplink_count++;
}

/* Frames between a switch and the machine's NIC, both ways. */
static bool uplink_poll(struct uplink *u)
{
	bool moved = false;

	for (unsigned budget = 0; budget < 64; budget++) {
		if (!u->in_len)
			u->in_len = u->nic->recv(u->nic->ctx, u->in, sizeof(u->in));
		if (!u->in_len || (u->in_busy && vswitch_busy_gen(u->sw) == u->gen))
			break;
		if (vswitch_send(u->sw, (unsigned)u->port, u->in, u->in_len) == VSWITCH_BUSY) {
			u->in_busy = true;
			u->gen = vswitch_busy_gen(u->sw);
			break;
		}
		/* Sent, or a bad frame from outside (the switch logged it). */
		u->in_busy = false;
		u->in_len = 0;
		u->frames_in++;
		moved = true;
	}
	for (unsigned budget = 0; budget < 64; budget++) {
		if (!u->out_len)
			u->out_len = vswitch_recv(u->sw, (unsigned)u->port, u->out, sizeof(u->out));
		if (!u->out_len || u->nic->send(u->nic->ctx, u->out, u->out_len) == 1)
			break;
		u->out_len = 0;
		u->frames_out++;
		moved = true;
	}
	return moved;
}

/* The partition is over: its port goes, so nobody waits on it. */
static void nic_detach(struct child *c)
{
	if (!c->sw || c->port < 0)
		return;
	pm_log("%s: nic: %lu frames sent, %lu received, %lu refused by the switch; "
	       "the NIC dropped %lu tx and %lu rx, %lu DMA errors", c->cfg.name,
	       c->sw->port[c->port].tx_frames, c->sw->port[c->port].rx_frames,
	       c->sw->port[c->port].bad, c->nic.tx_dropped, c->nic.rx_dropped,
	       c->nic.dma_errors);
	vswitch_remove_port(c->sw, (unsigned)c->port);
	c->port = -1;
	c->sw = NULL;
	if (c->nic_mem.slot)
		childmem_clear(&c->nic_mem);
}

/* Frames from the switch into the NIC's ring, and a transmit the switch
 * had no room for, again once it made room. True when something moved. */
static bool nic_poll(struct child *c)
{
	bool moved = false;

	bool synthetic = c->cfg.nics[0].model == PARTCFG_NIC_NETVSC;

	if (!c->sw || c->port < 0 || (synthetic && !c->vmbus))
		return false;
	if (vswitch_busy_gen(c->sw) != c->tx_gen) {
		if (synthetic) {
			moved |= vmbus_host_net_kick(c->vmbus);
		} else if (c->nic.tx_busy) {
			e1000_poll(&c->nic);
			moved = true;
		}
	}
	for (;;) {
		if (!c->rx_len)
			c->rx_len = vswitch_recv(c->sw, (unsigned)c->port, c->rx_frame,
						 sizeof(c->rx_frame));
		if (!c->rx_len)
			break;
		if (synthetic ? vmbus_host_net_receive(c->vmbus, c->rx_frame, c->rx_len) :
				e1000_receive(&c->nic, c->rx_frame, c->rx_len))
			break;
		c->rx_len = 0;
		moved = true;
	}
	return moved;
}

static const char *create_child(struct child *c)
{
	size_t size;
	const uint8_t *img = ps->module(c->cfg.image, &size);
	struct elf_plan plan;
	struct hv_register_assoc r[5];
	uint64_t entry = 0, zero_page = 0;
	const char *err;

	if (!img)
		return "no module with that image name";
	if (!c->cfg.linux_boot) {
		/* As GRUB: an ELF image with a multiboot2 header is loaded by
		 * its program headers; a multiboot (1) image by its header's
		 * address fields when it sets the a.out kludge (ELF or not),
		 * else as ELF. */
		const char *elf_err = NULL;
		bool elf = !elf_plan(img, size, &plan, &elf_err);
		int64_t mb1 = mb1_find_header(img, size);

		if (elf && plan.mb2_header_offset >= 0) {
			c->multiboot1 = false;
		} else if (mb1 >= 0) {
			if (!elf) {
				memset(&plan, 0, sizeof(plan));
				plan.mb2_header_offset = -1;
			}
			if (mb1_plan(img, size, mb1, &plan, &err))
				return err;
			if (!plan.count)
				return elf_err ? elf_err : "no loadable segment";
			c->multiboot1 = true;
		} else {
			return elf ? "image has neither a multiboot2 nor a multiboot header" :
				     elf_err;
		}
		if (plan.highest > child_ram_low((uint64_t)c->cfg.memory_mib << 20))
			return "image does not fit in the partition's memory";
		entry = plan.entry;
	}
	if (ps->create(c->cfg.name, c->cfg.vps, &c->id))
		return "creating the partition or its VPs failed (see the "
		       "hypervisor's line for the limit)";
	c->created = true;
	{
		uint64_t total = (uint64_t)c->cfg.memory_mib << 20;

		if (ps->give_memory(c->id, 0, child_ram_low(total)) ||
		    (child_ram_high(total) &&
		     ps->give_memory(c->id, CHILD_HIGH_RAM_BASE, child_ram_high(total))))
			return "not enough free memory for the partition";
	}
	if (write_acpi_tables(c))
		return "writing the ACPI tables failed";
	err = c->cfg.linux_boot ? load_linux(c, img, size, &entry, &zero_page) :
				  load_multiboot(c, img, size, &plan);
	if (err)
		return err;
	if (c->cfg.disk_mib && c->cfg.backing_mib) {
		uint64_t bytes = (uint64_t)c->cfg.disk_mib << 20;
		const char *why = "no physical disk";

		c->phys = ps->phys_disk ? ps->phys_disk(&why) : NULL;
		c->phys_lba = (uint64_t)c->cfg.backing_mib << 11;
		if (!c->phys)
			c->vmbus_skip = why;
		else if (c->phys_lba + bytes / 512 > c->phys->sectors)
			return "the disk's range lies beyond the physical disk";
		else
			c->disk = (struct block_backend){
				c, bytes / 512, phys_read, phys_write, phys_flush,
				c->phys->read_sg ? phys_read_sg : NULL,
				c->phys->write_sg ? phys_write_sg : NULL };
	} else if (c->cfg.disk_mib) {
		uint64_t bytes = (uint64_t)c->cfg.disk_mib << 20;

		c->disk_mem = ps->alloc(bytes);
		if (!c->disk_mem)
			return "no memory for the disk";
		c->disk = (struct block_backend){ c, bytes / 512, disk_read, disk_write, NULL,
						  NULL, NULL };
	}
	c->plat = (struct platform){ c, plat_irq_set, plat_now_ns, plat_console_line,
				     plat_test_exit, plat_log };
	uart_init(&c->uart, &c->plat, 0x3f8);
	pic_init(&c->pic, &c->plat);
	/* Its APIC id after the VPs', as the MADT has it. */
	ioapic_init(&c->ioapic, &c->plat, (uint8_t)c->cfg.vps, ioapic_deliver, c);
	pit_init(&c->pit, &c->plat);
	rtc_init(&c->rtc, &c->plat, 1767225600);
	pcicfg_init(&c->pci, &c->plat);
	testexit_init(&c->tx, &c->plat, 0xf4);
	acpipm_init(&c->pm, &c->plat, ACPIPM_BASE, acpi_sleep, c);
	if (c->cfg.disk_mib && c->disk.sectors)
		ata_init(&c->ata, &c->plat, &c->disk);
	if (c->cfg.nic_count && (err = nic_attach(c)))
		return err;
	if ((c->cfg.devices & PARTCFG_DEV_VMBUS) ||
	    (c->cfg.nic_count && c->cfg.nics[0].model == PARTCFG_NIC_NETVSC)) {
		struct vmbus_host_config vc = {
			.name = c->cfg.name, .id = c->id, .slot = (unsigned)(c - children),
			.memory_bytes = (uint64_t)c->cfg.memory_mib << 20,
			.devices = c->cfg.devices, .disk = &c->disk,
		};

		if (c->cfg.nic_count && c->cfg.nics[0].model == PARTCFG_NIC_NETVSC) {
			vc.nic_mac = c->cfg.nics[0].mac;
			vc.nic_tx = nic_tx;
			vc.nic_ctx = c;
			if (c->cfg.nics[0].macchange)
				vc.nic_set_mac = nic_set_mac;
		}

		/* No disk to put behind it: no storage offer, the guest skips. */
		if (!c->disk.sectors)
			vc.devices &= ~PARTCFG_DEV_STORAGE;
		c->vmbus = vmbus_host_start(ps, &vc);
		if (!c->vmbus)
			return "setting up VMBus failed";
	}
	set_reg(&r[0], HV_X64_REGISTER_RIP, entry);
	if (c->cfg.linux_boot) {
		/* boot.rst: ESI the zero page; EAX, EBX, EBP, EDI zero. */
		set_reg(&r[1], HV_X64_REGISTER_RAX, 0);
		set_reg(&r[2], HV_X64_REGISTER_RAX + 3, 0);              /* RBX */
	} else {
		set_reg(&r[1], HV_X64_REGISTER_RAX, c->multiboot1 ? MB1_BOOTLOADER_MAGIC :
								   MB2_BOOTLOADER_MAGIC);
		set_reg(&r[2], HV_X64_REGISTER_RAX + 3, CHILD_MBI_GPA);  /* RBX */
	}
	set_reg(&r[3], HV_X64_REGISTER_RAX + 6, zero_page);              /* RSI */
	set_reg(&r[4], HV_REGISTER_EXPLICIT_SUSPEND, 0);
	msg_vp = 0;                     /* VP 0 starts; the guest starts the rest */
	if (set_regs(c, r, 5))
		return "SetVpRegisters failed";
	c->started = true;
	c->deadline_ns = ps->now_ns() + (uint64_t)c->cfg.timeout_s * 1000000000ull;
	return NULL;
}

/* ---- serving the devices ------------------------------------------------------ */

static bool port_io(struct child *c, uint16_t port, unsigned size, bool write,
		    uint32_t *v)
{
	uint32_t dev = c->cfg.devices;

	if ((dev & PARTCFG_DEV_UART) && uart_io(&c->uart, port, size, write, v))
		return true;
	if ((dev & PARTCFG_DEV_ATA) && c->disk.sectors && ata_io(&c->ata, port, size, write, v))
		return true;
	if ((dev & PARTCFG_DEV_PIT) && pit_io(&c->pit, port, size, write, v)) {
		next_stale = true;      /* reprogrammed, or a latch moved */
		return true;
	}
	if ((dev & PARTCFG_DEV_PIC) && pic_io(&c->pic, port, size, write, v)) {
		/* An EOI or an unmask may free a request that waits in the
		 * IRR: hand it over now, not at the next device timer. */
		deliver_irqs(c);
		return true;
	}
	if ((dev & PARTCFG_DEV_RTC) && rtc_io(&c->rtc, port, size, write, v)) {
		next_stale = true;      /* reading C re-arms its interrupts */
		return true;
	}
	if ((dev & PARTCFG_DEV_PCI) && pcicfg_io(&c->pci, port, size, write, v))
		return true;
	if (c->sw) {
		uint32_t io = nic_bar(c, 1);

		if (io && port >= io && port - io < E1000_IO_SIZE) {
			if (write)
				e1000_io_write(&c->nic, port - io, size, *v);
			else
				*v = e1000_io_read(&c->nic, port - io, size);
			return true;
		}
	}
	if ((dev & PARTCFG_DEV_TESTEXIT) && testexit_io(&c->tx, port, size, write, v))
		return true;
	if (acpipm_io(&c->pm, port, size, write, v))
		return true;
	if (!write)
		*v = 0xffffffff;        /* no device answers */
	return false;
}

/* Copy between a child's linear addresses and a buffer, page by page
 * through its page tables. */
static bool child_copy(struct child *c, uint64_t gva, void *buf, uint64_t bytes,
		       bool to_child)
{
	while (bytes) {
		uint64_t n = 4096 - (gva & 0xfff), gpa = ps->gva_to_gpa(c->id, msg_vp, gva);

		if (n > bytes)
			n = bytes;
		if (gpa == (uint64_t)-1)
			return false;
		if (to_child ? ps->copy_to(c->id, gpa, buf, n) :
			       ps->copy_from(c->id, gpa, buf, n))
			return false;
		gva += n;
		buf = (uint8_t *)buf + n;
		bytes -= n;
	}
	return true;
}

static void stop_child(struct child *c, const char *why)
{
	struct hv_register_assoc r;

	if (!c->done)
		ksnprintf(c->why, sizeof(c->why), "%s", why);
	c->done = true;
	c->crashed = true;
	/* It runs no more: whatever it was doing is over. */
	memset(&r, 0, sizeof(r));
	r.name = HV_REGISTER_EXPLICIT_SUSPEND;
	r.value.reg64 = 1;
	for (uint32_t vp = 0; c->created && vp < c->cfg.vps; vp++)
		ps->set_regs(c->id, vp, &r, 1);
}

/* REP INS/OUTS as a whole: the data moves in big pieces through the
 * device's block interface where it has one, one element at a time
 * otherwise; then RSI/RDI and RCX are updated once. */
static void string_io(struct child *c, const struct hv_x64_io_port_intercept_message *io,
		      bool write, unsigned size)
{
	bool rep = io->access_info & 16;
	bool down = io->header.rflags & (1u << 10);
	uint64_t count = rep ? io->rcx : 1, addr = write ? io->rsi : io->rdi;
	uint64_t bytes = count * size;
	static uint8_t data[65536];
	struct hv_register_assoc r[4];

	if (down || bytes > sizeof(data)) {
		stop_child(c, "string I/O backwards or larger than 64 KiB");
		return;
	}
	if (write) {
		if (!child_copy(c, addr, data, bytes, false)) {
			stop_child(c, "OUTS from memory the child cannot read");
			return;
		}
		if (io->port_number == 0x1f0 && c->disk.sectors && (c->cfg.devices & PARTCFG_DEV_ATA))
			ata_data_out(&c->ata, data, bytes);
		else
			for (uint64_t i = 0; i < count; i++) {
				uint32_t v = 0;

				memcpy(&v, data + i * size, size);
				port_io(c, io->port_number, size, true, &v);
			}
	} else {
		if (io->port_number == 0x1f0 && c->disk.sectors && (c->cfg.devices & PARTCFG_DEV_ATA))
			ata_data_in(&c->ata, data, bytes);
		else
			for (uint64_t i = 0; i < count; i++) {
				uint32_t v = 0;

				port_io(c, io->port_number, size, false, &v);
				memcpy(data + i * size, &v, size);
			}
		if (!child_copy(c, addr, data, bytes, true)) {
			stop_child(c, "INS into memory the child cannot write");
			return;
		}
	}
	set_reg(&r[0], HV_X64_REGISTER_RIP, io->header.rip + (io->header.instruction_length & 15));
	set_reg(&r[1], HV_X64_REGISTER_RAX + (write ? 6 : 7), addr + bytes);
	set_reg(&r[2], HV_X64_REGISTER_RAX + 1, rep ? 0 : io->rcx);
	set_reg(&r[3], HV_REGISTER_INTERCEPT_SUSPEND, 0);
	set_regs(c, r, 4);
}

static void handle_io(struct child *c, const struct hv_x64_io_port_intercept_message *io)
{
	unsigned size = io->access_info & 7;
	bool write = io->header.intercept_access_type == 1;
	uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1;
	uint64_t rax = io->rax;
	uint32_t v = (uint32_t)(rax & mask);
	struct hv_register_assoc r[3];

	if (size != 1 && size != 2 && size != 4) {
		stop_child(c, "port access of an impossible size");
		return;
	}
	if (io->access_info & 8) {
		string_io(c, io, write, size);
		return;
	}
	port_io(c, io->port_number, size, write, &v);
	if (!write)
		/* IN EAX zero-extends into RAX; IN AL/AX merge. */
		rax = size == 4 ? v : (rax & ~mask) | (v & mask);
	set_reg(&r[0], HV_X64_REGISTER_RIP, io->header.rip + (io->header.instruction_length & 15));
	set_reg(&r[1], HV_X64_REGISTER_RAX, rax);
	set_reg(&r[2], HV_REGISTER_INTERCEPT_SUSPEND, 0);
	set_regs(c, r, 3);
}

/* An access to a GPA with no memory: no device of ours lives there, so a
 * read gives all ones and a write goes nowhere, as on a PC. */
/*
 * String moves that touch memory no device claims, completed as a whole:
 * STOS writes go nowhere, LODS reads all ones, and MOVS copies all ones
 * into RAM when its source is the unclaimed side (writes to an unclaimed
 * destination go nowhere). Backwards (DF set) strings are refused.
 */
static void mmio_string(struct child *c, const struct hv_x64_memory_intercept_message *m,
			const struct x86_insn *i)
{
	static const uint32_t names[3] = { HV_X64_REGISTER_RAX + 1,
		HV_X64_REGISTER_RAX + 6, HV_X64_REGISTER_RAX + 7 };  /* RCX RSI RDI */
	uint64_t v[3], count, bytes, amask;
	struct hv_register_assoc r[6];
	static uint8_t ones[65536];
	unsigned n = 0;

	if ((m->header.rflags & (1u << 10)) || ps->get_regs(c->id, msg_vp, names, v, 3)) {
		stop_child(c, "MMIO string move backwards or registers unreadable");
		return;
	}
	amask = i->addrsize == 8 ? ~0ull : (1ull << (i->addrsize * 8)) - 1;
	count = i->rep ? v[0] & amask : 1;
	bytes = count * i->opsize;
	if (bytes > sizeof(ones)) {
		stop_child(c, "MMIO string move larger than 64 KiB");
		return;
	}
	if (i->kind == X86_INSN_LODS) {
		if (count)
			set_reg(&r[n++], HV_X64_REGISTER_RAX, i->opsize == 8 ? ~0ull :
				(1ull << (i->opsize * 8)) - 1);
	} else if (i->kind == X86_INSN_MOVS) {
		uint64_t dst_gpa = ps->gva_to_gpa(c->id, msg_vp, v[2] & amask);

		/* The faulting side is the unclaimed one; if it is the source
		 * and the destination is RAM, the RAM gets all ones. */
		if ((dst_gpa & ~0xfffull) != (m->guest_physical_address & ~0xfffull) &&
		    dst_gpa != (uint64_t)-1) {
			memset(ones, 0xff, (size_t)bytes);
			if (!child_copy(c, v[2] & amask, ones, bytes, true)) {
				stop_child(c, "MOVS into memory the child cannot write");
				return;
			}
		}
		set_reg(&r[n++], HV_X64_REGISTER_RAX + 6, (v[1] + bytes) & amask);
	}
	if (i->kind != X86_INSN_LODS)
		set_reg(&r[n++], HV_X64_REGISTER_RAX + 7, (v[2] + bytes) & amask);
	else
		set_reg(&r[n++], HV_X64_REGISTER_RAX + 6, (v[1] + bytes) & amask);
	if (i->rep)
		set_reg(&r[n++], HV_X64_REGISTER_RAX + 1, 0);
	set_reg(&r[n++], HV_X64_REGISTER_RIP, m->header.rip + i->length);
	set_reg(&r[n++], HV_REGISTER_INTERCEPT_SUSPEND, 0);
	set_regs(c, r, n);
}

/* The devices that live in a child's MMIO space: its I/O APIC, and its
 * NIC's BAR 0 where the guest put it. */
static enum { MMIO_NONE, MMIO_IOAPIC, MMIO_NIC } mmio_claimed;
static uint32_t mmio_value, mmio_nic_base;

static bool mmio_device(struct child *c, uint64_t gpa, unsigned size)
{
	mmio_claimed = MMIO_NONE;
	mmio_value = 0;
	if (size > 4)
		return false;
	if ((c->cfg.devices & PARTCFG_DEV_PIC) &&
	    gpa >= IOAPIC_BASE && gpa - IOAPIC_BASE < IOAPIC_SIZE)
		mmio_claimed = MMIO_IOAPIC;
	else if (c->sw && (mmio_nic_base = nic_bar(c, 0)) && gpa >= mmio_nic_base &&
		 gpa - mmio_nic_base < E1000_MMIO_SIZE)
		mmio_claimed = MMIO_NIC;
	return mmio_claimed != MMIO_NONE;
}

static void mmio_access(struct child *c, uint64_t gpa, unsigned size, bool write,
			uint32_t *v)
{
	if (mmio_claimed == MMIO_IOAPIC) {
		ioapic_mmio(&c->ioapic, (uint32_t)(gpa - IOAPIC_BASE), size, write, v);
		return;
	}
	if (write)
		e1000_mmio_write(&c->nic, (uint32_t)(gpa - mmio_nic_base), size, *v);
	else
		*v = e1000_mmio_read(&c->nic, (uint32_t)(gpa - mmio_nic_base), size);
	next_stale = true;
}

static void handle_mmio(struct child *c, const struct hv_x64_memory_intercept_message *m)
{
	struct x86_insn i;
	enum x86_cpu_mode mode = (m->header.execution_state & 16) &&
				 (m->header.cs_segment.attributes & (1u << 13)) ?
				 X86_MODE_64 : X86_MODE_32;
	struct hv_register_assoc r[3];
	unsigned n = 0;
	bool load;

	if (x86_decode(m->instruction_bytes, m->instruction_byte_count, mode, &i)) {
		stop_child(c, "MMIO instruction the decoder does not understand");
		return;
	}
	if (i.kind == X86_INSN_STOS || i.kind == X86_INSN_LODS ||
	    i.kind == X86_INSN_MOVS) {
		mmio_string(c, m, &i);
		return;
	}
	load = i.kind == X86_INSN_MOV_LOAD || i.kind == X86_INSN_MOVZX ||
	       i.kind == X86_INSN_MOVSX || i.kind == X86_INSN_MOV_LOAD_MOFFS;
	if (!load && i.kind != X86_INSN_MOV_STORE && i.kind != X86_INSN_MOV_STORE_IMM &&
	    i.kind != X86_INSN_MOV_STORE_MOFFS) {
		stop_child(c, "MMIO by an instruction other than MOV, STOS, LODS or MOVS");
		return;
	}
	if (mmio_device(c, m->guest_physical_address, i.opsize)) {
		if (!load) {
			uint32_t name = HV_X64_REGISTER_RAX +
				(i.kind == X86_INSN_MOV_STORE_MOFFS ? 0 : i.reg);
			uint64_t sv = i.imm;

			if (i.kind != X86_INSN_MOV_STORE_IMM &&
			    ps->get_regs(c->id, msg_vp, &name, &sv, 1)) {
				stop_child(c, "MMIO store from a register that cannot be read");
				return;
			}
			if (i.reg_high_byte)
				sv >>= 8;
			mmio_value = (uint32_t)sv;
			mmio_access(c, m->guest_physical_address, i.opsize, true, &mmio_value);
		} else {
			mmio_access(c, m->guest_physical_address, i.opsize, false, &mmio_value);
		}
	}
	if (load) {
		unsigned dest = i.kind == X86_INSN_MOV_LOAD_MOFFS ? 0 : i.reg;
		unsigned dsize = i.kind == X86_INSN_MOVZX || i.kind == X86_INSN_MOVSX ?
				 i.dest_size : i.opsize;
		uint64_t smask = i.opsize >= 8 ? ~0ull : (1ull << (i.opsize * 8)) - 1;
		/* A device's value (loads of a device are at most 4 bytes), or
		 * all ones where none answers; MOVZX zero-extends, MOVSX and a
		 * 4-byte MOV into a 64-bit register as the CPU does. */
		uint64_t mem = mmio_claimed ? (uint64_t)mmio_value & smask : smask;
		uint64_t val = i.kind == X86_INSN_MOVSX ?
			       (mem ^ ((smask >> 1) + 1)) - ((smask >> 1) + 1) : mem;

		if (dsize == 4)
			val &= 0xffffffffull;

		if (i.reg_high_byte || dsize < 4) {
			/* A byte or word register: the rest of it is kept. */
			uint32_t name = HV_X64_REGISTER_RAX + dest;
			uint64_t old, mask = i.reg_high_byte ? 0xff00ull :
					     (1ull << (dsize * 8)) - 1;

			if (ps->get_regs(c->id, msg_vp, &name, &old, 1)) {
				stop_child(c, "MMIO load into a register that cannot be read");
				return;
			}
			val = i.reg_high_byte ? (old & ~mask) | ((val & 0xff) << 8) :
			      (old & ~mask) | (val & mask);
		}
		set_reg(&r[n++], HV_X64_REGISTER_RAX + dest, val);
	}
	set_reg(&r[n++], HV_X64_REGISTER_RIP, m->header.rip + i.length);
	set_reg(&r[n++], HV_REGISTER_INTERCEPT_SUSPEND, 0);
	set_regs(c, r, n);
}

static struct child *child_by_id(uint64_t id)
{
	for (unsigned i = 0; i < child_count; i++)
		if (children[i].started && children[i].id == id)
			return &children[i];
	return NULL;
}

void partmgr_message(const struct hv_message *m)
{
	struct child *c = child_by_id(m->header.sender);

	if (!c || c->done)
		return;
	msg_vp = m->header.message_type == HVMSG_UNRECOVERABLE_EXCEPTION ? 0 :
		 ((const struct hv_x64_intercept_message_header *)m->payload)->vp_index;
	if (msg_vp >= c->cfg.vps) {
		stop_child(c, "an intercept from a VP it does not have");
		return;
	}
	switch (m->header.message_type) {
	case HVMSG_X64_IO_PORT_INTERCEPT:
		handle_io(c, (const void *)m->payload);
		break;
	case HVMSG_UNMAPPED_GPA:
		handle_mmio(c, (const void *)m->payload);
		break;
	case HVMSG_X64_CPUID_INTERCEPT: {
		/* Nothing of ours asks for these yet: answer as the
		 * hypervisor would have. */
		const struct hv_x64_cpuid_intercept_message *cp = (const void *)m->payload;
		struct hv_register_assoc r[6];

		set_reg(&r[0], HV_X64_REGISTER_RAX, cp->default_result_rax);
		set_reg(&r[1], HV_X64_REGISTER_RAX + 1, cp->default_result_rcx);
		set_reg(&r[2], HV_X64_REGISTER_RAX + 2, cp->default_result_rdx);
		set_reg(&r[3], HV_X64_REGISTER_RAX + 3, cp->default_result_rbx);
		set_reg(&r[4], HV_X64_REGISTER_RIP,
			cp->header.rip + (cp->header.instruction_length & 15));
		set_reg(&r[5], HV_REGISTER_INTERCEPT_SUSPEND, 0);
		set_regs(c, r, 6);
		break;
	}
	case HVMSG_X64_MSR_INTERCEPT:
		stop_child(c, "an MSR intercept nothing here serves");
		break;
	case HVMSG_X64_APIC_EOI: {
		const struct hv_x64_apic_eoi_message *eo = (const void *)m->payload;
		struct hv_register_assoc r;

		if (c->cfg.devices & PARTCFG_DEV_PIC)
			ioapic_eoi(&c->ioapic, (uint8_t)eo->interrupt_vector);
		set_reg(&r, HV_REGISTER_INTERCEPT_SUSPEND, 0);
		set_regs(c, &r, 1);
		break;
	}
	case HVMSG_UNRECOVERABLE_EXCEPTION:
		stop_child(c, "the partition stopped (triple fault or unhandled exit)");
		break;
	}
}

static struct child *child_by_slot(unsigned slot)
{
	if (slot >= child_count || !children[slot].started || children[slot].done ||
	    !children[slot].vmbus)
		return NULL;
	return &children[slot];
}

void partmgr_vmbus_message(unsigned slot, const void *msg, size_t len)
{
	struct child *c = child_by_slot(slot);

	if (c)
		vmbus_host_message(c->vmbus, msg, len);
	next_stale = true;
}

void partmgr_vmbus_event(unsigned slot, uint32_t relid)
{
	struct child *c = child_by_slot(slot);

	if (c)
		vmbus_host_event(c->vmbus, relid);
	next_stale = true;
}

bool partmgr_poll(void)
{
	static bool polled_more;
	bool more = false;

	for (unsigned i = 0; i < child_count; i++) {
		struct child *c = &children[i];

		if (c->started && !c->done && c->vmbus)
			more |= vmbus_host_poll(c->vmbus);
		if (c->sw && c->done)
			nic_detach(c);
		else if (c->sw && c->started)
			more |= nic_poll(c);
	}
	for (unsigned i = 0; i < uplink_count; i++)
		more |= uplink_poll(&uplinks[i]);
	/* A poll that served something, the last one included. */
	if (more || polled_more)
		next_stale = true;
	polled_more = more;
	return more;
}

void partmgr_tick(void)
{
	next_stale = true;
	for (unsigned i = 0; i < child_count; i++) {
		struct child *c = &children[i];

		if (!c->started || c->done)
			continue;
		if (ps->now_ns() > c->deadline_ns) {
			char why[48];

			ksnprintf(why, sizeof(why), "did not finish in %u s",
				  c->cfg.timeout_s);
			stop_child(c, why);
			continue;
		}
		pit_update(&c->pit);
		rtc_update(&c->rtc);
		deliver_irqs(c);
		if (c->vmbus)
			vmbus_host_tick(c->vmbus, ps->now_ns());
	}
}

static void earliest(uint64_t *next, uint64_t t)
{
	if (t < *next)
		*next = t;
}

static uint64_t __attribute__((noinline)) next_event_ns_recompute(void)
{
	uint64_t next = UINT64_MAX, now = ps->now_ns();

	for (unsigned i = 0; i < child_count; i++) {
		struct child *c = &children[i];

		if (!c->started || c->done)
			continue;
		earliest(&next, pit_next_event_ns(&c->pit));
		earliest(&next, rtc_next_event_ns(&c->rtc));
		/* partmgr_tick stops it once strictly past its deadline. */
		earliest(&next, c->deadline_ns + 1);
		if (c->vmbus)
			earliest(&next, vmbus_host_next_ns(c->vmbus, now));
		if (c->extint_wait)
			earliest(&next, now + EXTINT_RETRY_NS);
	}
	next_stale = false;
	next_cached = next;
	return next;
}

uint64_t partmgr_next_event_ns(void)
{
	return next_stale ? next_event_ns_recompute() : next_cached;
}

bool partmgr_all_done(void)
{
	for (unsigned i = 0; i < child_count; i++)
		if (children[i].started && !children[i].done)
			return false;
	return true;
}

int partmgr_start(const struct partsvc *svc)
{
	static struct partcfg cfg;
	const char *text;
	size_t len;
	char err[96];

	ps = svc;
	text = ps->module("config", &len);
	if (!text)
		return -1;
	if (partcfg_parse(text, len, &cfg, err, sizeof(err))) {
		tapf(false, "partitions: the partition config parses (%s)", err);
		return 0;
	}
	for (unsigned i = 0; i < cfg.uplink_count; i++)
		uplink_attach(cfg.uplinks[i]);
	for (unsigned i = 0; i < cfg.count; i++) {
		struct child *c = &children[child_count++];
		const char *why;

		memset(c, 0, sizeof(*c));
		c->cfg = cfg.p[i];
		why = create_child(c);
		if (why) {
			ksnprintf(c->why, sizeof(c->why), "not started: %s", why);
			c->done = true;
		}
		pm_log("partition %s: %s (%u MiB, image %s)", c->cfg.name,
		     why ? c->why : "started", c->cfg.memory_mib, c->cfg.image);
	}
	return (int)child_count;
}

/* What the host saw of a child's synthetic devices, into the TAP stream. */
static void vmbus_finish(struct child *c)
{
	struct vmbus_host_report r;

	vmbus_host_report(c->vmbus, &r);
	vmbus_host_stop(c->vmbus);
	pm_log("%s synthetic path: %lu storvsp requests (%lu by DMA to the guest's pages), "
	       "%lu KiB written, %lu KiB read, "
	       "%lu flushes; %u heartbeats answered; %u guest inputs refused, "
	       "%u channels closed; %u held back", c->cfg.name, r.requests, r.direct,
	       r.bytes_written >> 10,
	       r.bytes_read >> 10, r.flushes, r.heartbeats_answered, r.rejected,
	       r.channels_closed, r.messages_held);
	if (c->cfg.devices & PARTCFG_DEV_STORAGE) {
		if (c->vmbus_skip)
			tapf(true, "%s: synthetic disk on the physical disk # SKIP %s",
			     c->cfg.name, c->vmbus_skip);
		else
			tapf(r.requests > 0 && !c->crashed,
			     "%s: storvsp served %lu requests (%lu KiB written, %lu KiB read) "
			     "from the partition's range of the physical disk", c->cfg.name,
			     r.requests, r.bytes_written >> 10, r.bytes_read >> 10);
	}
	if (c->cfg.devices & PARTCFG_DEV_HEARTBEAT)
		tapf(r.heartbeats_answered > 0 && !r.heartbeat_losses,
		     "%s: heartbeat IC answered %u heartbeats, stopped %u times",
		     c->cfg.name, r.heartbeats_answered, r.heartbeat_losses);
	if (c->cfg.devices & PARTCFG_DEV_SHUTDOWN)
		tapf(r.shutdown_acked && c->done && !c->crashed,
		     "%s: shut down cleanly through the shutdown IC", c->cfg.name);
}

void partmgr_finish(void)
{
	for (unsigned i = 0; i < child_count; i++) {
		struct child *c = &children[i];

		if (c->started && !c->done)
			ksnprintf(c->why, sizeof(c->why), "did not finish in time");
		for (unsigned t = 0; t < c->tap_count; t++)
			tapf(c->tap[t].ok, "%s %s", c->cfg.name, c->tap[t].desc);
		if (c->vmbus)
			vmbus_finish(c);
		nic_detach(c);
		tapf(c->done && !c->crashed && c->exit_code == 0 &&
		     c->plan == c->tap_count && c->tap_count > 0,
		     "%s: finished with exit code %u, %u of %u TAP results%s%s",
		     c->cfg.name, c->exit_code, c->tap_count, c->plan,
		     c->why[0] ? ": " : "", c->why);
		if (c->created)
			ps->destroy(c->id);
		c->created = false;
	}
	/* The uplinks' frames, and the NIC driver's own summary. */
	for (unsigned i = 0; i < uplink_count; i++) {
		pm_log("uplink %u: %lu frames from outside into the switch, %lu out", i,
		       uplinks[i].frames_in, uplinks[i].frames_out);
		if (uplinks[i].nic->report)
			uplinks[i].nic->report(uplinks[i].nic->ctx);
	}
}
