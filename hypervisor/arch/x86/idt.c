/*
 * The hypervisor's IDT and trap dispatch. CPU exceptions in the
 * hypervisor are our own bugs, except where an instruction was marked as
 * allowed to fault (the exception table, used to probe MSRs); those resume
 * at their fixup. Everything else is a panic with registers and a
 * backtrace.
 */
#include "../../hv.h"
#include "cpu.h"
#include "../../vpops.h"

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

extern const uint64_t trap_stubs[32];
extern const char irq_stubs[];          /* vectors 32..255, 16 bytes each */
extern const struct extable_entry __extable_start[], __extable_end[];

static struct idt_gate idt[256] __attribute__((aligned(16)));

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

static void idt_set(unsigned vec, uint64_t handler, unsigned ist)
{
	idt[vec] = (struct idt_gate){
		.offset_lo = (uint16_t)handler,
		.selector = GDT_CODE64,
		.ist = (uint8_t)ist,
		.type_attr = 0x8e,      /* present, DPL 0, interrupt gate */
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_hi = (uint32_t)(handler >> 32),
	};
}

void idt_init(void)
{
	for (unsigned v = 0; v < 32; v++)
		idt_set(v, trap_stubs[v], 0);
	idt_set(2, trap_stubs[2], IST_NMI);
	idt_set(8, trap_stubs[8], IST_DF);
	idt_set(18, trap_stubs[18], IST_MC);
	for (unsigned v = 32; v < 256; v++)
		idt_set(v, (uint64_t)irq_stubs + (v - 32) * 16, 0);
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
			r->rip = e->fixup;
			return true;
		}
	}
	return false;
}

int rdmsr_safe(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;
	int err = 0;

	__asm__ volatile("1: rdmsr\n"
			 "2:\n"
			 ".pushsection .fixup, \"ax\"\n"
			 "3: movl $-1, %[err]\n"
			 "   jmp 2b\n"
			 ".popsection\n"
			 ".pushsection .extable, \"a\"\n"
			 ".quad 1b, 3b\n"
			 ".popsection\n"
			 : "=a"(lo), "=d"(hi), [err] "+r"(err)
			 : "c"(msr));
	*value = ((uint64_t)hi << 32) | lo;
	return err;
}

int read_u64_safe(uint64_t addr, uint64_t *value)
{
	uint64_t v = 0;
	int err = 0;

	__asm__ volatile("1: movq (%[addr]), %[v]\n"
			 "2:\n"
			 ".pushsection .fixup, \"ax\"\n"
			 "3: movl $-1, %[err]\n"
			 "   jmp 2b\n"
			 ".popsection\n"
			 ".pushsection .extable, \"a\"\n"
			 ".quad 1b, 3b\n"
			 ".popsection\n"
			 : [v] "+r"(v), [err] "+r"(err)
			 : [addr] "r"(addr)
			 : "memory");
	*value = v;
	return err;
}

void regs_dump(const struct cpu_regs *r)
{
	hv_log("  rip=%016lx cs=%04lx rflags=%08lx rsp=%016lx ss=%04lx",
	       r->rip, r->cs, r->rflags, r->rsp, r->ss);
	hv_log("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx",
	       r->rax, r->rbx, r->rcx, r->rdx);
	hv_log("  rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx",
	       r->rsi, r->rdi, r->rbp, r->r8);
	hv_log("  r9 =%016lx r10=%016lx r11=%016lx r12=%016lx",
	       r->r9, r->r10, r->r11, r->r12);
	hv_log("  r13=%016lx r14=%016lx r15=%016lx",
	       r->r13, r->r14, r->r15);
	hv_log("  cr0=%016lx cr2=%016lx cr3=%016lx cr4=%016lx",
	       read_cr0(), read_cr2(), read_cr3(), read_cr4());
}

/* Walk saved frame pointers. Frames live on one stack and go upward; stop
 * at anything else rather than fault inside a panic. */
void backtrace_from(uint64_t rbp)
{
	uint64_t lo = rbp, hi = rbp + HV_STACK_SIZE;

	for (int depth = 0; depth < 16; depth++) {
		uint64_t *frame = (uint64_t *)rbp;

		if (!rbp || (rbp & 7) || rbp < lo || rbp + 16 > hi)
			break;
		if (!frame[1])
			break;
		hv_log("  backtrace #%d %016lx", depth, frame[1]);
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
}

void trap_dispatch(struct cpu_regs *r)
{
	if (r->vector == 2 && (panic_in_progress || cpus_stopping))
		halt_forever();
	if (r->vector < 32) {
		if (extable_fixup(r))
			return;
		if (r->vector == 14)
			panic_regs(r, "exception %lu (%s) error %#lx at rip %016lx, "
				   "address %016lx", r->vector,
				   exception_names[r->vector], r->error, r->rip,
				   read_cr2());
		panic_regs(r, "exception %lu (%s) error %#lx at rip %016lx",
			   r->vector, exception_names[r->vector], r->error,
			   r->rip);
	}
	switch (r->vector) {
	case VEC_IPI_HALT:
		halt_forever();
	case VEC_IPI_WAKE:
		apic_eoi();
		return;
	case VEC_SPURIOUS:
		return;         /* no EOI for spurious interrupts */
	default:
		/* A device interrupt of the root's: it acknowledges it. */
		irq_reflect((uint8_t)r->vector);
		return;
	}
}
