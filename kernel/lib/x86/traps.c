/*
 * The IDT, the exception report and the exception table. A CPU exception
 * in an image is its own bug, except at an instruction marked as allowed
 * to fault (probing an MSR, reading memory that may not be there); those
 * resume at their fixup. Everything else is a panic with registers and a
 * backtrace. What interrupts mean is each image's trap_dispatch().
 */
#include <isovisor/x86.h>
#include "x86/gdt.h"
#include "x86/klib.h"
#include "x86/panic.h"
#include "x86/traps.h"

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "idt gate");

struct extable_entry {
	uint64_t insn;
	uint64_t fixup;
};

#define STUB_SIZE 16                    /* trap_entry.S checks it */

extern const char trap_stubs[];
extern const struct extable_entry __extable_start[], __extable_end[];

static struct idt_gate idt[256] __attribute__((aligned(16)));
volatile uint64_t extable_last_vector;

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode",
	"#NM device not available", "#DF double fault",
	"coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD error", "#VE virtualization", "#CP control protection",
	"reserved 22", "reserved 23", "reserved 24", "reserved 25",
	"reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved 31",
};

static void idt_set(unsigned vec, unsigned ist)
{
	uint64_t handler = (uint64_t)trap_stubs + vec * STUB_SIZE;

	idt[vec] = (struct idt_gate){
		.offset_lo = (uint16_t)handler,
		.selector = GDT_CODE64,
		.ist = (uint8_t)ist,
		.type_attr = 0x8e,      /* present, DPL 0, interrupt gate */
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_hi = (uint32_t)(handler >> 32),
	};
}

/* The IST stacks exist once a CPU's TSS is loaded; until then (early boot
 * on the boot CPU) everything runs on the current stack. */
void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++)
		idt_set(v, 0);
}

void idt_use_ist(void)
{
	idt_set(2, IST_NMI);
	idt_set(8, IST_DF);
	idt_set(18, IST_MC);
}

void idt_load(void)
{
	struct descriptor_table_ptr p = { sizeof(idt) - 1, (uint64_t)idt };

	lidt(&p);
}

bool extable_fixup(struct cpu_regs *r)
{
	for (const struct extable_entry *e = __extable_start;
	     e < __extable_end; e++) {
		if (e->insn == r->rip) {
			extable_last_vector = r->vector;
			r->rip = e->fixup;
			return true;
		}
	}
	return false;
}

void trap_exception(struct cpu_regs *r)
{
	const char *name = r->vector < 32 ? exception_names[r->vector] :
					    "not an exception";

	if (extable_fixup(r))
		return;
	if (r->vector == 14)
		panic_regs(r, "exception %lu (%s) error %#lx at rip %016lx, "
			   "address %016lx", r->vector, name, r->error, r->rip,
			   read_cr2());
	panic_regs(r, "exception %lu (%s) error %#lx at rip %016lx",
		   r->vector, name, r->error, r->rip);
}

/* The instruction at 1: may fault; its fixup at 3: sets err and resumes
 * after it. Each entry is two quads, found by extable_fixup(). */
#define SAFE_INSN(insn)                                 \
	"1: " insn "\n"                                 \
	"2:\n"                                          \
	".pushsection .fixup, \"ax\"\n"                 \
	"3: movl $-1, %[err]\n"                         \
	"   jmp 2b\n"                                   \
	".popsection\n"                                 \
	".pushsection .extable, \"a\"\n"                \
	".balign 8\n"                                   \
	".quad 1b, 3b\n"                                \
	".popsection\n"

int rdmsr_safe(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;
	int err = 0;

	__asm__ volatile(SAFE_INSN("rdmsr")
			 : "+a"(lo), "+d"(hi), [err] "+r"(err)
			 : "c"(msr));
	*value = ((uint64_t)hi << 32) | lo;
	return err;
}

int wrmsr_safe(uint32_t msr, uint64_t value)
{
	int err = 0;

	__asm__ volatile(SAFE_INSN("wrmsr")
			 : [err] "+r"(err)
			 : "c"(msr), "a"((uint32_t)value),
			   "d"((uint32_t)(value >> 32))
			 : "memory");
	return err;
}

int read_u64_safe(uint64_t addr, uint64_t *value)
{
	uint64_t v = 0;
	int err = 0;

	__asm__ volatile(SAFE_INSN("movq (%[addr]), %[v]")
			 : [v] "+r"(v), [err] "+r"(err)
			 : [addr] "r"(addr)
			 : "memory");
	*value = v;
	return err;
}

void regs_dump(const struct cpu_regs *r)
{
	klib_log("  rip=%016lx cs=%04lx rflags=%08lx rsp=%016lx ss=%04lx",
		 r->rip, r->cs, r->rflags, r->rsp, r->ss);
	klib_log("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx",
		 r->rax, r->rbx, r->rcx, r->rdx);
	klib_log("  rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx",
		 r->rsi, r->rdi, r->rbp, r->r8);
	klib_log("  r9 =%016lx r10=%016lx r11=%016lx r12=%016lx",
		 r->r9, r->r10, r->r11, r->r12);
	klib_log("  r13=%016lx r14=%016lx r15=%016lx",
		 r->r13, r->r14, r->r15);
	klib_log("  cr0=%016lx cr2=%016lx cr3=%016lx cr4=%016lx",
		 read_cr0(), read_cr2(), read_cr3(), read_cr4());
}

/* Walk saved frame pointers. Frames live on one stack and go upward; stop
 * at anything else rather than fault inside a panic. */
void backtrace_from(uint64_t rbp, uint64_t stack_top)
{
	uint64_t lo = rbp, hi = stack_top ? stack_top : rbp + KSTACK_SIZE;

	for (int depth = 0; depth < 16; depth++) {
		uint64_t *frame = (uint64_t *)rbp;

		if (!rbp || (rbp & 7) || rbp < lo || rbp + 16 > hi)
			break;
		if (!frame[1])
			break;
		klib_log("  backtrace #%d %016lx", depth, frame[1]);
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
}
