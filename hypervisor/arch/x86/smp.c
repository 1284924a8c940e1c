/*
 * Application processor start-up: INIT-SIPI-SIPI into the trampoline,
 * one AP at a time (they share the trampoline's parameter block), each
 * with its own stack, IST stacks, GDT/TSS and struct percpu.
 */
#include <string.h>
#include "../../hv.h"
#include "cpu.h"
#include "../../virt.h"
#include "../../vpops.h"

struct trampoline_params {
	uint16_t gdt_limit;
	uint32_t gdt_base;
	uint16_t pad0;
	uint32_t pm32_target;
	uint16_t pm32_sel;
	uint16_t pad1;
	uint32_t lm64_target;
	uint16_t lm64_sel;
	uint16_t pad2;
	uint32_t cr3;
	uint32_t efer;
	uint64_t stack;
	uint64_t arg;
	uint64_t entry;
} __attribute__((packed));
_Static_assert(sizeof(struct trampoline_params) == 56, "trampoline params");

extern const char trampoline_start[], trampoline_end[], trampoline_params[];
extern const char trampoline_gdt_offset[], trampoline_pm32_offset[],
	trampoline_lm64_offset[];

#define AP_START_TIMEOUT_US 200000

static void ap_main(struct percpu *p) __attribute__((noreturn, used));
static void ap_main(struct percpu *p)
{
	cpu_load_tables(p);
	apic_init();
	if (apic_id() != p->apic_id)
		panic("cpu %u woke with APIC id %u, expected %u", p->index,
		      apic_id(), p->apic_id);
	p->seen_rsp = (uint64_t)__builtin_frame_address(0);
	p->seen_gs = this_cpu();
	p->online = true;
	__atomic_add_fetch(&cpus_online, 1, __ATOMIC_SEQ_CST);
	/* Wait for the boot CPU to set up the root partition. */
	while (!__atomic_load_n(&hv_ready, __ATOMIC_ACQUIRE))
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	virt->cpu_enable();
	cpu_idle_until_start();
}

static bool start_ap(uint64_t tramp, struct trampoline_params *tp,
		     struct percpu *p)
{
	tp->stack = p->stack_top;
	tp->arg = (uint64_t)p;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	apic_send_init(p->apic_id);
	udelay(10000);
	for (int sipi = 0; sipi < 2 && !p->online; sipi++) {
		apic_send_sipi(p->apic_id, (uint8_t)(tramp >> 12));
		for (unsigned t = 0; t < AP_START_TIMEOUT_US / 100; t++) {
			if (p->online)
				return true;
			udelay(100);
		}
	}
	return p->online;
}

void smp_boot_aps(void)
{
	size_t size = (size_t)(trampoline_end - trampoline_start);
	size_t params_off = (size_t)(trampoline_params - trampoline_start);
	uint64_t tramp = pmm_alloc_below(&hv_pmm, 0x100000);
	struct trampoline_params *tp;
	uint32_t bsp = apic_id();
	unsigned index = 1;

	if (!tramp)
		panic("no free page below 1 MiB for the AP trampoline");
	if (read_cr3() >> 32)
		panic("page tables above 4 GiB; APs cannot load them");
	memcpy(phys_to_virt(tramp), trampoline_start, size);
	tp = (struct trampoline_params *)((char *)phys_to_virt(tramp) + params_off);
	tp->gdt_base = (uint32_t)(tramp + (uint64_t)trampoline_gdt_offset);
	tp->pm32_target = (uint32_t)(tramp + (uint64_t)trampoline_pm32_offset);
	tp->lm64_target = (uint32_t)(tramp + (uint64_t)trampoline_lm64_offset);
	tp->cr3 = (uint32_t)read_cr3();
	tp->efer = (uint32_t)(rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE));
	tp->entry = (uint64_t)ap_main;

	for (unsigned i = 0; i < boot.acpi.cpu_count; i++) {
		uint32_t id = boot.acpi.cpus[i].apic_id;
		struct percpu *p;

		if (id == bsp)
			continue;
		if (index >= HV_MAX_CPUS) {
			hv_log("cpu: more than %u CPUs; the rest stay off",
			       HV_MAX_CPUS);
			break;
		}
		p = percpu_alloc(index++, id);
		if (!start_ap(tramp, tp, p))
			hv_log("cpu: cpu %u (APIC id %u) did not start", p->index,
			       id);
	}
	cpu_count = index;
}
