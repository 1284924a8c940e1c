/*
 * Application processor start-up: each MADT CPU in turn through the
 * library's INIT-SIPI-SIPI trampoline (x86/smp.h), with its own stack,
 * IST stacks, GDT/TSS and struct percpu.
 */
#include "../../hv.h"
#include "cpu.h"
#include "x86/smp.h"
#include "../../virt.h"
#include "../../vpops.h"
#include "../../design.h"
#include "../../cpustate.h"

#define AP_START_TIMEOUT_US 200000

static void ap_main(struct percpu *p) __attribute__((noreturn));
static void ap_main(struct percpu *p)
{
	cpu_load_tables(p);
	apic_init();
	if (apic_id() != p->apic_id)
		panic("cpu %u woke with APIC id %u, expected %u", p->index,
		      apic_id(), p->apic_id);
	p->seen_rsp = (uint64_t)__builtin_frame_address(0);
	p->seen_gs = this_cpu();
	cpustate_cpu_init();
	p->online = true;
	__atomic_add_fetch(&cpus_online, 1, __ATOMIC_SEQ_CST);
	/* Wait for the boot CPU to set up the root partition. */
	while (!__atomic_load_n(&hv_ready, __ATOMIC_ACQUIRE))
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	design_ap_start();
}

void smp_boot_aps(void)
{
	struct ap_trampoline tramp;
	uint32_t bsp = apic_id();
	unsigned index = 1;

	trampoline_install(&tramp, pmm_alloc_below(&hv_pmm, 0x100000),
			   (uint64_t)ap_main, read_cr3());
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
		if (!ap_start(&tramp, id, p->stack_top, (uint64_t)p, &p->online,
			      AP_START_TIMEOUT_US))
			hv_log("cpu: cpu %u (APIC id %u) did not start", p->index,
			       id);
	}
	cpu_count = index;
}
