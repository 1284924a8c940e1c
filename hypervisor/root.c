/*
 * The root partition: created at boot from the GRUB module whose command
 * line starts with "root". It owns every page of RAM the hypervisor does
 * not (identity-mapped, GPA = SPA), all MMIO and all ports but the few
 * the hypervisor emulates: COM1 (its console, prefixed "root: "), the
 * test-exit port and the ACPI sleep control. Its VP 0 starts on the boot
 * CPU exactly as GRUB starts a multiboot2 kernel; its other VPs start when
 * it asks with HvCallStartVirtualProcessor, each on its own CPU.
 */
#include <string.h>
#include <isovisor/multiboot2.h>
#include "hv.h"
#include "elf.h"
#include "gmem.h"
#include "rootview.h"
#include "virt.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define HV_POOL_BYTES (16 * MiB)        /* the hypervisor's after handover */
#define MBI_MAX (16 * 1024)

static uint64_t hv_owned_bytes;

/* ---- the devices the hypervisor emulates for the root -------------------- */

static int root_uart(struct vp *vp, uint16_t port, unsigned size, bool in,
		     uint32_t *value)
{
	struct console_uart *u = &vp->partition->uart;
	unsigned reg = port - 0x3f8;
	bool dlab = u->lcr & 0x80;

	spin_lock(&vp->partition->lock);
	if (in) {
		static const uint8_t idle[8] = { 0, 0, 0x01, 0, 0, 0x60, 0xb0, 0 };

		*value = idle[reg];
		if (reg == 0 && dlab)
			*value = u->dll;
		else if (reg == 1)
			*value = dlab ? u->dlm : u->ier;
		else if (reg == 3)
			*value = u->lcr;
		else if (reg == 4)
			*value = u->mcr;
		else if (reg == 7)
			*value = u->scr;
	} else {
		uint8_t c = (uint8_t)*value;

		switch (reg) {
		case 0:
			if (dlab) {
				u->dll = c;
				break;
			}
			if (c == '\n' || u->len == sizeof(u->line)) {
				console_log_prefixed(vp->partition->name, u->line, u->len);
				u->len = 0;
			}
			if (c != '\n' && c != '\r')
				u->line[u->len++] = (char)c;
			break;
		case 1:
			if (dlab)
				u->dlm = c;
			else
				u->ier = c & 0x0f;
			break;
		case 3:
			u->lcr = c;
			break;
		case 4:
			u->mcr = c;
			break;
		case 7:
			u->scr = c;
			break;
		}
	}
	spin_unlock(&vp->partition->lock);
	return 0;
}

static int root_test_exit(struct vp *vp, uint16_t port, unsigned size, bool in,
			  uint32_t *value)
{
	if (in) {
		*value = 0xffffffff;
		return 0;
	}
	run_finish(*value == 0, *value == 0 ? "the root partition reported pass" :
					     "the root partition reported failure");
}

/* The root may read and write the PM1 control block as usual; only the
 * sleep request ends the run, so the hypervisor can report first. */
static int root_pm1_cnt(struct vp *vp, uint16_t port, unsigned size, bool in,
			uint32_t *value)
{
	if (in) {
		*value = size == 1 ? inb(port) : inw(port);
		return 0;
	}
	if (size >= 2 && (*value & (1u << 13)))
		run_finish(false, "the root partition asked for power-off");
	if (size == 1)
		outb(port, (uint8_t)*value);
	else
		outw(port, (uint16_t)*value);
	return 0;
}

/* ---- memory handover ---------------------------------------------------- */

/*
 * Keep a pool for the hypervisor's own later needs; every other free page
 * becomes the root's, and so do the GRUB modules (the root's own image
 * among them). What the hypervisor already holds stays its own.
 */
/* The pool comes from the top of the highest free run that holds it, to
 * leave low memory, where kernels are linked, to the root. */
static uint64_t claim_pool(void)
{
	uint64_t start, end = 0, best = 0;

	while ((start = pmm_next_free_run(&hv_pmm, end, &end)))
		if (end - start >= HV_POOL_BYTES &&
		    ALIGN_DOWN(end - HV_POOL_BYTES, 2 * MiB) >= start)
			best = ALIGN_DOWN(end - HV_POOL_BYTES, 2 * MiB);
	if (!best || !pmm_claim(&hv_pmm, best, best + HV_POOL_BYTES))
		panic("no room for the hypervisor's %lu MiB pool",
		      HV_POOL_BYTES / MiB);
	return best;
}

static void handover_memory(struct partition *p)
{
	uint64_t pool = claim_pool();
	uint64_t start, end = 0;

	while ((start = pmm_next_free_run(&hv_pmm, end, &end))) {
		if (!pmm_claim(&hv_pmm, start, end) || memmap_add(&p->ram, start, end))
			panic("memory map too fragmented for the root partition");
	}
	for (unsigned i = 0; i < boot.mb2.module_count; i++)
		if (memmap_add(&p->ram, ALIGN_DOWN(boot.mb2.modules[i].start, PAGE_SIZE),
			       ALIGN_UP(boot.mb2.modules[i].end, PAGE_SIZE)))
			panic("memory map too fragmented for the root partition");
	for (uint64_t a = pool; a < pool + HV_POOL_BYTES; a += PAGE_SIZE)
		pmm_free(&hv_pmm, a);
	hv_owned_bytes = hv_mm_stats.usable_bytes - memmap_total(&p->ram);
}

static uint64_t map_top(void)
{
	uint64_t top = 4 * GiB;

	for (unsigned i = 0; i < boot.mb2.mmap_count; i++) {
		const struct mb2_mmap_entry *e = mb2_mmap_entry(&boot.mb2, i);

		if (e->addr + e->len > top && e->addr + e->len > e->addr)
			top = e->addr + e->len;
	}
	if (hv_mm_stats.top > top)
		top = hv_mm_stats.top;
	return ALIGN_UP(top, GiB);
}

/* Everything below the top, RAM or not, except the hypervisor's memory;
 * the local APIC page read-only so ICR writes can be filtered. */
static void map_root(struct partition *p)
{
	static struct memmap visible, hv_owned;
	const uint64_t apic = 0xfee00000;

	uint64_t bars[PCI_BAR_GIBS_MAX];
	unsigned n = pci_bar_gibs(map_top(), bars, PCI_BAR_GIBS_MAX);

	if (root_view(&hv_usable, &p->ram, map_top(), apic, &hv_owned, &visible))
		panic("memory map too fragmented for the root's view");
	/* The root drives the devices whose 64-bit BARs the firmware put
	 * above everything else. */
	for (unsigned i = 0; i < n; i++)
		virt->gpa_map(p, bars[i], bars[i], GiB, GPA_READ | GPA_WRITE);
	for (unsigned i = 0; i < visible.count; i++)
		virt->gpa_map(p, visible.r[i].start, visible.r[i].start,
			      visible.r[i].end - visible.r[i].start, GPA_RWX);
	virt->gpa_map(p, apic, apic, PAGE_SIZE, GPA_READ);
}

/* ---- loading the root kernel -------------------------------------------- */

static const struct mb2_module *root_module(const char **args)
{
	const struct mb2_module *m = mb2_find_module(&boot.mb2, "root");

	if (m)
		*args = m->cmdline[4] ? m->cmdline + 5 : "";
	return m;
}

static void load_elf(struct partition *p, const struct mb2_module *m,
		     struct elf_plan *plan)
{
	const uint8_t *img = phys_to_virt(m->start);
	const char *err;

	if (elf_plan(img, m->end - m->start, plan, &err))
		panic("root kernel: %s", err);
	if (plan->mb2_header_offset < 0)
		panic("root kernel: no multiboot2 header");
	for (unsigned i = 0; i < plan->count; i++) {
		const struct elf_segment *s = &plan->seg[i];
		uint8_t *dst = gpa_to_hva(p, s->paddr, s->memsz);

		if (!dst)
			panic("root kernel: segment at %#lx is not root memory",
			      s->paddr);
		if (s->paddr < m->end && m->start < s->paddr + s->memsz)
			panic("root kernel: segment at %#lx overlaps its own module",
			      s->paddr);
		memcpy(dst, img + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
}

/* ---- the boot information the root gets --------------------------------- */

struct mbi_writer {
	uint8_t *buf;
	uint32_t len;
};

static void *mbi_tag(struct mbi_writer *w, uint32_t type, uint32_t size)
{
	struct mb2_tag *t = (struct mb2_tag *)(w->buf + w->len);

	if (w->len + ALIGN_UP(size, 8) > MBI_MAX)
		panic("root boot information too large");
	memset(t, 0, ALIGN_UP(size, 8));
	t->type = type;
	t->size = size;
	w->len += (uint32_t)ALIGN_UP(size, 8);
	return t;
}

static void mbi_string(struct mbi_writer *w, uint32_t type, const char *s)
{
	struct mb2_tag_string *t = mbi_tag(w, type, 8 + (uint32_t)strlen(s) + 1);

	memcpy(t->string, s, strlen(s) + 1);
}

/* The firmware's map with the hypervisor's memory marked reserved: RAM
 * the root owns is type 1, the rest of the usable RAM type 2, and the
 * firmware's own ranges as they were. */
static void mbi_mmap(struct mbi_writer *w, struct partition *p)
{
	static struct mb2_mmap_entry e[2 * MEMMAP_MAX_RANGES + 64];
	unsigned n = 0;
	struct mb2_tag_mmap *t;

	for (unsigned i = 0; i < boot.mb2.mmap_count && n < 64; i++) {
		const struct mb2_mmap_entry *f = mb2_mmap_entry(&boot.mb2, i);

		if (f->type != MB2_MEMORY_AVAILABLE)
			e[n++] = *f;
	}
	for (unsigned i = 0; i < p->ram.count; i++)
		e[n++] = (struct mb2_mmap_entry){ p->ram.r[i].start,
			p->ram.r[i].end - p->ram.r[i].start, MB2_MEMORY_AVAILABLE, 0 };
	{
		static struct memmap hv_owned, visible;

		root_view(&hv_usable, &p->ram, map_top(), 0xfee00000, &hv_owned,
			  &visible);
		for (unsigned i = 0; i < hv_owned.count; i++)
			e[n++] = (struct mb2_mmap_entry){ hv_owned.r[i].start,
				hv_owned.r[i].end - hv_owned.r[i].start,
				MB2_MEMORY_RESERVED, 0 };
	}
	/* Sorted by address, as loaders hand it over. */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && e[j - 1].addr > e[j].addr; j--) {
			struct mb2_mmap_entry x = e[j];

			e[j] = e[j - 1];
			e[j - 1] = x;
		}
	t = mbi_tag(w, MB2_TAG_MMAP, 16 + n * sizeof(e[0]));
	t->entry_size = sizeof(e[0]);
	t->entry_version = 0;
	memcpy(t->entries, e, n * sizeof(e[0]));
}

static uint64_t build_mbi(struct partition *p, const char *args,
			  const struct elf_plan *plan, const struct mb2_module *self)
{
	static uint8_t buf[MBI_MAX] __attribute__((aligned(8)));
	struct mbi_writer w = { buf, 8 };
	const struct mb2_info *mi = &boot.mb2;
	struct mb2_tag_basic_meminfo *bm;
	uint64_t at = 0;

	if (boot.spread_children) {
		/* The root's APs must idle in HLT to lend their CPUs. */
		static char spread_args[256];

		ksnprintf(spread_args, sizeof(spread_args), "%s%sspread", args,
			  args[0] ? " " : "");
		args = spread_args;
	}
	mbi_string(&w, MB2_TAG_CMDLINE, args);
	mbi_string(&w, MB2_TAG_LOADER_NAME, "isovisor");
	bm = mbi_tag(&w, MB2_TAG_BASIC_MEMINFO, sizeof(*bm));
	bm->mem_lower = mi->basic_mem_lower_kib;
	bm->mem_upper = mi->basic_mem_upper_kib;
	mbi_mmap(&w, p);
	/* The other modules are the root's to use: guest images, configs. */
	for (unsigned i = 0; i < mi->module_count; i++) {
		const struct mb2_module *m = &mi->modules[i];
		struct mb2_tag_module *t;

		if (m == self)
			continue;
		t = mbi_tag(&w, MB2_TAG_MODULE, 16 + (uint32_t)strlen(m->cmdline) + 1);
		t->mod_start = m->start;
		t->mod_end = m->end;
		memcpy(t->cmdline, m->cmdline, strlen(m->cmdline) + 1);
	}
	if (mi->rsdp_old) {
		struct mb2_tag_acpi *t = mbi_tag(&w, MB2_TAG_ACPI_OLD, 8 + mi->rsdp_old_len);

		memcpy(t->rsdp, mi->rsdp_old, mi->rsdp_old_len);
	}
	if (mi->rsdp_new) {
		struct mb2_tag_acpi *t = mbi_tag(&w, MB2_TAG_ACPI_NEW, 8 + mi->rsdp_new_len);

		memcpy(t->rsdp, mi->rsdp_new, mi->rsdp_new_len);
	}
	mbi_tag(&w, MB2_TAG_END, 8);
	((struct mb2_info_header *)buf)->total_size = w.len;

	/* Place it in root RAM above 1 MiB, clear of the kernel and modules. */
	for (unsigned i = 0; i < p->ram.count && !at; i++) {
		uint64_t s = p->ram.r[i].start < MiB ? MiB : p->ram.r[i].start;

		for (; s + MBI_MAX <= p->ram.r[i].end; s += MBI_MAX) {
			bool clash = s < plan->highest && plan->lowest < s + MBI_MAX;

			for (unsigned m = 0; m < mi->module_count; m++)
				if (s < mi->modules[m].end && mi->modules[m].start < s + MBI_MAX)
					clash = true;
			if (!clash) {
				at = s;
				break;
			}
		}
	}
	if (!at || gpa_write(p, at, buf, w.len))
		panic("no room in root memory for its boot information");
	return at;
}

/* GRUB's multiboot2 machine state: flat 32-bit protected mode, no paging,
 * interrupts off, EAX = magic, EBX = the information structure. */
static void start_like_grub(struct vp *vp, uint64_t entry, uint64_t mbi)
{
	struct hv_initial_vp_context c;

	grub_initial_context(&c, entry);
	vp->start_ctx = c;
	vp->start_pending = true;
	vp->started = true;
	virt->vp_set_context(vp, &c);
	vp->gpr[GPR_RAX] = MB2_BOOTLOADER_MAGIC;
	vp->gpr[GPR_RBX] = mbi;
}

bool root_create(void)
{
	struct partition *p = &root_partition;
	const struct mb2_module *m;
	struct elf_plan plan;
	const char *args;
	uint64_t mbi;

	m = root_module(&args);
	if (!m)
		return false;
	p->name = "root";
	p->is_root = true;
	p->id = 1;
	handover_memory(p);
	if (virt->partition_init(p))
		panic("cannot set up the root partition");
	map_root(p);
	load_elf(p, m, &plan);
	mbi = build_mbi(p, args, &plan, m);

	for (unsigned i = 0; i < cpu_count; i++) {
		struct vp *vp = pages_alloc_zeroed(ALIGN_UP(sizeof(*vp), PAGE_SIZE) /
						   PAGE_SIZE);

		vp->partition = p;
		vp->index = i;
		vp->cpu = i;
		for (unsigned n = 0; n < HV_SYNIC_SINT_COUNT; n++)
			vp->synic.sint[n] = HV_SYNIC_SINT_MASKED;      /* TLFS reset */
		if (virt->vp_init(vp))
			panic("cannot create root VP %u", i);
		p->vps[p->vp_count++] = vp;
	}
	io_register(p, 0x3f8, 8, root_uart);
	io_register(p, 0xf4, 1, root_test_exit);
	if (boot.acpi.pm1a_cnt)
		io_register(p, (uint16_t)boot.acpi.pm1a_cnt, 2, root_pm1_cnt);
	if (boot.acpi.pm1b_cnt)
		io_register(p, (uint16_t)boot.acpi.pm1b_cnt, 2, root_pm1_cnt);
	virt->msr_intercept(p, MSR_EFER, true, true);
	virt->msr_intercept(p, MSR_VM_CR, true, true);
	virt->msr_intercept(p, MSR_VM_HSAVE_PA, true, true);
	virt->msr_intercept(p, 0x830, false, true);     /* x2APIC ICR */
	start_like_grub(p->vps[0], plan.entry, mbi);
	hv_log("root partition: %lu MiB of RAM in %u ranges, %u VPs; the "
	       "hypervisor keeps %lu MiB", memmap_total(&p->ram) / MiB,
	       p->ram.count, p->vp_count, hv_owned_bytes / MiB);
	hv_boot_stage(0, "root entry");
	return true;
}
