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
#include <string.h>
#include <isovisor/hvtlfs.h>
#include <isovisor/multiboot2.h>
#include "root.h"
#include "elf.h"
#include "partcfg.h"
#include "x86_decode.h"
#include "uart16550.h"
#include "ata.h"
#include "pit8254.h"
#include "pic8259.h"
#include "rtc.h"
#include "pcicfg.h"
#include "testexit.h"

#define SINT_VECTOR 0x51
#define TICK_VECTOR 0x52
#define TICK_COUNT 62500                /* ~1 ms of QEMU's 1 GHz APIC clock / 16 */
#define CHILD_MBI_GPA 0x8000
#define MAP_BATCH 500                   /* GPA pages per MapGpaPages call */
#define RUN_SECONDS 240
#define MAX_TAP 32

struct child {
	struct partcfg_partition cfg;
	uint64_t id;
	struct platform plat;
	struct uart16550 uart;
	struct ata ata;
	struct pit pit;
	struct pic pic;
	struct rtc rtc;
	struct pcicfg pci;
	struct testexit tx;
	struct block_backend disk;
	uint8_t *disk_mem;
	bool started, done, crashed;
	uint32_t exit_code;
	char why[80];
	unsigned tap_count, plan;
	struct {
		bool ok;
		char desc[160];
	} tap[MAX_TAP];
};

static struct child children[PARTCFG_MAX];
static unsigned child_count;
static struct hv_message simp[16] __attribute__((aligned(4096)));
static uint8_t in_page[4096] __attribute__((aligned(4096)));
static uint8_t out_page[4096] __attribute__((aligned(4096)));
static uint8_t bounce[4096] __attribute__((aligned(4096)));
static volatile uint64_t ticks;

static uint16_t call(uint16_t code, unsigned reps)
{
	return hv_status(hv_hypercall(code | ((uint64_t)reps << 32),
				      (uint64_t)in_page, (uint64_t)out_page));
}

/* ---- the platform the device models see ----------------------------------- */

static void deliver_irqs(struct child *c)
{
	while (pic_pending_vector(&c->pic) >= 0) {
		int v = pic_acknowledge(&c->pic);
		struct hv_input_assert_virtual_interrupt *in = (void *)in_page;

		if (v < 0)
			break;
		memset(in_page, 0, sizeof(*in));
		in->partition_id = c->id;
		in->vector = (uint32_t)v;
		call(HVCALL_ASSERT_VIRTUAL_INTERRUPT, 0);
	}
}

static void plat_irq_set(void *ctx, unsigned irq, bool level)
{
	struct child *c = ctx;

	pic_set_irq(&c->pic, irq, level);
	deliver_irqs(c);
}

static uint64_t plat_now_ns(void *ctx)
{
	uint64_t khz = tsc_khz();

	return khz ? rdtsc() / khz * 1000000 + rdtsc() % khz * 1000000 / khz : 0;
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
	ksnprintf(c->tap[c->tap_count].desc, sizeof(c->tap[0].desc), "%.*s",
		  (int)(len - (size_t)(d - t)), d);
	c->tap_count++;
}

static void plat_console_line(void *ctx, const char *text, size_t len)
{
	struct child *c = ctx;
	struct hv_isovisor_console_line *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	memcpy(in->source, c->cfg.name, strlen(c->cfg.name) + 1);
	in->length = (uint32_t)(len < sizeof(in->text) ? len : sizeof(in->text));
	memcpy(in->text, text, in->length);
	call(HVCALL_ISOVISOR_CONSOLE_LINE, 0);
	record_tap(c, text, len);
}

static void plat_test_exit(void *ctx, uint32_t code)
{
	struct child *c = ctx;

	c->done = true;
	c->exit_code = code;
}

static void plat_log(void *ctx, const char *msg)
{
	struct child *c = ctx;

	klog("%s devices: %s\n", c->cfg.name, msg);
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

/* ---- creating a child -------------------------------------------------------- */

static const struct mb2_module *find_module(const char *word)
{
	size_t n = strlen(word);

	for (unsigned i = 0; i < boot.mb2.module_count; i++) {
		const char *c = boot.mb2.modules[i].cmdline;

		if (!strncmp(c, word, n) && (c[n] == ' ' || !c[n]))
			return &boot.mb2.modules[i];
	}
	return NULL;
}

static uint16_t copy_to_child(struct child *c, uint64_t gpa, const void *src,
			      uint64_t bytes)
{
	struct hv_isovisor_copy_to_child *in = (void *)in_page;

	while (bytes) {
		uint64_t n = bytes < 4096 ? bytes : 4096;
		uint16_t s;

		memcpy(bounce, src, n);
		memset(in_page, 0, sizeof(*in));
		in->partition_id = c->id;
		in->child_gpa = gpa;
		in->root_gpa = (uint64_t)bounce;
		in->bytes = n;
		s = call(HVCALL_ISOVISOR_COPY_TO_CHILD, 0);
		if (s)
			return s;
		gpa += n;
		src = (const uint8_t *)src + n;
		bytes -= n;
	}
	return 0;
}

static uint16_t give_memory(struct child *c)
{
	uint64_t pages = (uint64_t)c->cfg.memory_mib * 256;
	struct hv_input_map_gpa_pages *in = (void *)in_page;

	for (uint64_t done = 0; done < pages;) {
		unsigned n = pages - done < MAP_BATCH ? (unsigned)(pages - done) : MAP_BATCH;
		uint16_t s;

		memset(in_page, 0, sizeof(*in));
		in->target_partition_id = c->id;
		in->target_gpa_base = done;
		in->map_flags = HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE |
				HV_MAP_GPA_EXECUTABLE;
		for (unsigned i = 0; i < n; i++) {
			uint64_t pa = pmm_alloc(&root_pmm);

			if (!pa)
				return HV_STATUS_INSUFFICIENT_MEMORY;
			in->source_gpa_page_list[i] = pa >> 12;
		}
		s = call(HVCALL_MAP_GPA_PAGES, n);
		if (s)
			return s;
		done += n;
	}
	return 0;
}

/* The boot information a child gets, as GRUB would build it. */
static uint16_t build_child_mbi(struct child *c)
{
	static uint8_t buf[1024] __attribute__((aligned(8)));
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
	mm = (void *)(buf + len);
	mm->type = MB2_TAG_MMAP;
	mm->size = 16 + 3 * 24;
	mm->entry_size = 24;
	mm->entries[0] = (struct mb2_mmap_entry){ 0x1000, 0x9e000, MB2_MEMORY_AVAILABLE, 0 };
	mm->entries[1] = (struct mb2_mmap_entry){ 0x9f000, 0x61000, MB2_MEMORY_RESERVED, 0 };
	mm->entries[2] = (struct mb2_mmap_entry){ 0x100000, ram - 0x100000,
						  MB2_MEMORY_AVAILABLE, 0 };
	len += mm->size;
	len += 8;                               /* end tag: zeros, type 0 size 8 */
	((uint32_t *)(buf + len - 8))[1] = 8;
	((struct mb2_info_header *)buf)->total_size = len;
	return copy_to_child(c, CHILD_MBI_GPA, buf, len);
}

static void set_reg(struct hv_register_assoc *r, uint32_t name, uint64_t v)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->value.reg64 = v;
}

static uint16_t set_regs(struct child *c, const struct hv_register_assoc *r,
			 unsigned n)
{
	struct hv_input_vp_registers *in = (void *)in_page;

	memset(in_page, 0, sizeof(*in));
	in->partition_id = c->id;
	memcpy(in_page + sizeof(*in), r, n * sizeof(*r));
	return call(HVCALL_SET_VP_REGISTERS, n);
}

static const char *create_child(struct child *c)
{
	const struct mb2_module *m = find_module(c->cfg.image);
	struct elf_plan plan;
	struct hv_register_assoc r[4];
	const char *err;

	if (!m)
		return "no module with that image name";
	if (elf_plan((const void *)(uint64_t)m->start, m->end - m->start, &plan, &err))
		return err;
	if (plan.mb2_header_offset < 0)
		return "image has no multiboot2 header";
	if (plan.highest > ((uint64_t)c->cfg.memory_mib << 20))
		return "image does not fit in the partition's memory";
	memset(in_page, 0, 64);
	if (call(HVCALL_CREATE_PARTITION, 0))
		return "CreatePartition failed";
	memcpy(&c->id, out_page, 8);
	memset(in_page, 0, 64);
	memcpy(in_page, &c->id, 8);
	if (call(HVCALL_INITIALIZE_PARTITION, 0))
		return "InitializePartition failed";
	memset(in_page, 0, 64);
	memcpy(in_page, &c->id, 8);
	if (call(HVCALL_CREATE_VP, 0))
		return "CreateVp failed";
	if (give_memory(c))
		return "not enough memory for the partition";
	for (unsigned i = 0; i < plan.count; i++)
		if (copy_to_child(c, plan.seg[i].paddr,
				  (const void *)(m->start + plan.seg[i].offset),
				  plan.seg[i].filesz))
			return "loading the image failed";
	if (build_child_mbi(c))
		return "writing the boot information failed";
	if (c->cfg.disk_mib) {
		uint64_t bytes = (uint64_t)c->cfg.disk_mib << 20;
		uint64_t pa = pmm_alloc_contig(&root_pmm, bytes / 4096, 4096);

		if (!pa)
			return "no memory for the disk";
		c->disk_mem = (uint8_t *)pa;
		memset(c->disk_mem, 0, bytes);
		c->disk = (struct block_backend){ c, bytes / 512, disk_read, disk_write, NULL };
	}
	c->plat = (struct platform){ c, plat_irq_set, plat_now_ns, plat_console_line,
				     plat_test_exit, plat_log };
	uart_init(&c->uart, &c->plat, 0x3f8);
	pic_init(&c->pic, &c->plat);
	pit_init(&c->pit, &c->plat);
	rtc_init(&c->rtc, &c->plat, 1767225600);
	pcicfg_init(&c->pci, &c->plat);
	testexit_init(&c->tx, &c->plat, 0xf4);
	if (c->cfg.disk_mib)
		ata_init(&c->ata, &c->plat, &c->disk);
	set_reg(&r[0], HV_X64_REGISTER_RIP, plan.entry);
	set_reg(&r[1], HV_X64_REGISTER_RAX, MB2_BOOTLOADER_MAGIC);
	set_reg(&r[2], HV_X64_REGISTER_RAX + 3, CHILD_MBI_GPA);       /* RBX */
	set_reg(&r[3], HV_REGISTER_EXPLICIT_SUSPEND, 0);
	if (set_regs(c, r, 4))
		return "SetVpRegisters failed";
	c->started = true;
	return NULL;
}

/* ---- serving the devices ------------------------------------------------------ */

static bool port_io(struct child *c, uint16_t port, unsigned size, bool write,
		    uint32_t *v)
{
	uint32_t dev = c->cfg.devices;

	if ((dev & PARTCFG_DEV_UART) && uart_io(&c->uart, port, size, write, v))
		return true;
	if ((dev & PARTCFG_DEV_ATA) && c->cfg.disk_mib && ata_io(&c->ata, port, size, write, v))
		return true;
	if ((dev & PARTCFG_DEV_PIT) && pit_io(&c->pit, port, size, write, v))
		return true;
	if ((dev & PARTCFG_DEV_PIC) && pic_io(&c->pic, port, size, write, v))
		return true;
	if ((dev & PARTCFG_DEV_RTC) && rtc_io(&c->rtc, port, size, write, v))
		return true;
	if ((dev & PARTCFG_DEV_PCI) && pcicfg_io(&c->pci, port, size, write, v))
		return true;
	if ((dev & PARTCFG_DEV_TESTEXIT) && testexit_io(&c->tx, port, size, write, v))
		return true;
	if (!write)
		*v = 0xffffffff;        /* no device answers */
	return false;
}

/* The GPA behind a child's linear address, or -1. */
static uint64_t child_gva_to_gpa(struct child *c, uint64_t gva)
{
	struct hv_input_translate_virtual_address *in = (void *)in_page;
	struct hv_output_translate_virtual_address *out = (void *)out_page;

	memset(in_page, 0, sizeof(*in));
	in->partition_id = c->id;
	in->gva_page = gva >> 12;
	if (call(HVCALL_TRANSLATE_VIRTUAL_ADDRESS, 0) ||
	    out->result_code != HV_TRANSLATE_GVA_SUCCESS)
		return (uint64_t)-1;
	return (out->gpa_page << 12) | (gva & 0xfff);
}

static bool child_copy(struct child *c, uint64_t gva, void *buf, uint64_t bytes,
		       bool to_child)
{
	struct hv_isovisor_copy_to_child *in = (void *)in_page;

	while (bytes) {
		uint64_t n = 4096 - (gva & 0xfff), gpa = child_gva_to_gpa(c, gva);

		if (n > bytes)
			n = bytes;
		if (gpa == (uint64_t)-1)
			return false;
		if (to_child)
			memcpy(bounce, buf, n);
		memset(in_page, 0, sizeof(*in));
		in->partition_id = c->id;
		in->child_gpa = gpa;
		in->root_gpa = (uint64_t)bounce;
		in->bytes = n;
		if (call(to_child ? HVCALL_ISOVISOR_COPY_TO_CHILD :
				    HVCALL_ISOVISOR_COPY_FROM_CHILD, 0))
			return false;
		if (!to_child)
			memcpy(buf, bounce, n);
		gva += n;
		buf = (uint8_t *)buf + n;
		bytes -= n;
	}
	return true;
}

static void stop_child(struct child *c, const char *why)
{
	if (!c->done)
		ksnprintf(c->why, sizeof(c->why), "%s", why);
	c->done = true;
	c->crashed = true;
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
		if (io->port_number == 0x1f0 && c->cfg.disk_mib)
			ata_data_out(&c->ata, data, bytes);
		else
			for (uint64_t i = 0; i < count; i++) {
				uint32_t v = 0;

				memcpy(&v, data + i * size, size);
				port_io(c, io->port_number, size, true, &v);
			}
	} else {
		if (io->port_number == 0x1f0 && c->cfg.disk_mib)
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
	load = i.kind == X86_INSN_MOV_LOAD || i.kind == X86_INSN_MOVZX ||
	       i.kind == X86_INSN_MOVSX || i.kind == X86_INSN_MOV_LOAD_MOFFS;
	if (!load && i.kind != X86_INSN_MOV_STORE && i.kind != X86_INSN_MOV_STORE_IMM &&
	    i.kind != X86_INSN_MOV_STORE_MOFFS) {
		stop_child(c, "MMIO by an instruction other than MOV");
		return;
	}
	if (load) {
		unsigned dest = i.kind == X86_INSN_MOV_LOAD_MOFFS ? 0 : i.reg;
		unsigned dsize = i.kind == X86_INSN_MOVZX || i.kind == X86_INSN_MOVSX ?
				 i.dest_size : i.opsize;

		if (i.reg_high_byte || dsize < 4) {
			stop_child(c, "MMIO load into a partial register");
			return;
		}
		/* All ones; MOVZX of all ones is the source size's ones. */
		set_reg(&r[n++], HV_X64_REGISTER_RAX + dest,
			i.kind == X86_INSN_MOVZX ? (1ull << (i.opsize * 8)) - 1 :
			dsize == 4 ? 0xffffffffull : ~0ull);
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

static bool handle_message(void)
{
	struct hv_message *m = &simp[HV_SYNIC_INTERCEPTION_SINT_INDEX];
	uint32_t type = __atomic_load_n(&m->header.message_type, __ATOMIC_ACQUIRE);
	struct child *c;

	if (type == HVMSG_NONE)
		return false;
	c = child_by_id(m->header.sender);
	if (c && !c->done) {
		if (type == HVMSG_X64_IO_PORT_INTERCEPT)
			handle_io(c, (const void *)m->payload);
		else if (type == HVMSG_UNMAPPED_GPA)
			handle_mmio(c, (const void *)m->payload);
		else if (type == HVMSG_UNRECOVERABLE_EXCEPTION)
			stop_child(c, "the partition stopped (triple fault or unhandled exit)");
	}
	__atomic_store_n(&m->header.message_type, HVMSG_NONE, __ATOMIC_RELEASE);
	wrmsr(HV_X64_MSR_EOM, 0);
	return true;
}

static void sint_handler(struct cpu_regs *r)
{
}

static void tick_handler(struct cpu_regs *r)
{
	ticks++;
	apic_eoi();
	apic_timer_oneshot(TICK_VECTOR, TICK_COUNT);
}

static bool all_done(void)
{
	for (unsigned i = 0; i < child_count; i++)
		if (children[i].started && !children[i].done)
			return false;
	return true;
}

static void delete_child(struct child *c)
{
	memset(in_page, 0, 64);
	memcpy(in_page, &c->id, 8);
	call(HVCALL_DELETE_PARTITION, 0);
}

/* Run the config's partitions to completion; report each one's TAP
 * results (and its fate) in the root's stream. */
void partmgr_run(void)
{
	const struct mb2_module *cfgmod = find_module("config");
	static struct partcfg cfg;
	char err[96];
	uint64_t deadline;

	if (!cfgmod)
		return;
	if (!boot.hv) {
		tap_skip("native boot", "root partitions: the config's partitions need the hypervisor");
		return;
	}
	if (partcfg_parse((const char *)(uint64_t)cfgmod->start,
			  cfgmod->end - cfgmod->start, &cfg, err, sizeof(err))) {
		tap_result(false, "root partitions: the partition config parses (%s)", err);
		return;
	}
	irq_set_handler(SINT_VECTOR, sint_handler);
	irq_set_handler(TICK_VECTOR, tick_handler);
	wrmsr(HV_X64_MSR_SIMP, (uint64_t)simp | HV_SYNIC_SIMP_ENABLE);
	wrmsr(HV_X64_MSR_SINT0, SINT_VECTOR | HV_SYNIC_SINT_AUTO_EOI);
	wrmsr(HV_X64_MSR_SCONTROL, HV_SYNIC_SCONTROL_ENABLE);
	for (unsigned i = 0; i < cfg.count; i++) {
		struct child *c = &children[child_count++];
		const char *why;

		c->cfg = cfg.p[i];
		why = create_child(c);
		if (why) {
			ksnprintf(c->why, sizeof(c->why), "not started: %s", why);
			c->done = true;
		}
		klog("partition %s: %s (%u MiB, image %s)\n", c->cfg.name,
			       why ? c->why : "started", c->cfg.memory_mib, c->cfg.image);
	}
	apic_timer_oneshot(TICK_VECTOR, TICK_COUNT);
	deadline = rdtsc() + tsc_khz() * 1000 * RUN_SECONDS;
	while (!all_done() && (int64_t)(rdtsc() - deadline) < 0) {
		if (handle_message())
			continue;
		for (unsigned i = 0; i < child_count; i++) {
			struct child *c = &children[i];

			if (!c->started || c->done)
				continue;
			pit_update(&c->pit);
			rtc_update(&c->rtc);
			deliver_irqs(c);
		}
		__asm__ volatile("sti; hlt; cli");
	}
	apic_timer_oneshot(TICK_VECTOR, 0);
	for (unsigned i = 0; i < child_count; i++) {
		struct child *c = &children[i];

		if (c->started && !c->done)
			ksnprintf(c->why, sizeof(c->why), "did not finish in %u s", RUN_SECONDS);
		for (unsigned t = 0; t < c->tap_count; t++)
			tap_result(c->tap[t].ok, "%s %s", c->cfg.name, c->tap[t].desc);
		tap_result(c->done && !c->crashed && c->exit_code == 0 &&
			   c->plan == c->tap_count && c->tap_count > 0,
			   "%s: finished with exit code %u, %u of %u TAP results%s%s",
			   c->cfg.name, c->exit_code, c->tap_count, c->plan,
			   c->why[0] ? ": " : "", c->why);
		if (c->started)
			delete_child(c);
	}
}
