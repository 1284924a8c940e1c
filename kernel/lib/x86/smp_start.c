/* AP start-up through the trampoline (see smp.h, trampoline.S). */
#include <string.h>
#include <isovisor/x86.h>
#include "x86/apic.h"
#include "x86/klib.h"
#include "x86/panic.h"
#include "x86/smp.h"
#include "x86/tsc.h"

/* The layout of trampoline.S's parameter block. */
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
	uint32_t cr0;
	uint32_t cr3;
	uint32_t efer;
	uint32_t pad3;
	uint64_t stack;
	uint64_t arg;
	uint64_t entry;
} __attribute__((packed));
_Static_assert(sizeof(struct trampoline_params) == 64, "trampoline params");

extern const char trampoline_start[], trampoline_end[], trampoline_params[];
extern const char trampoline_gdt_offset[], trampoline_pm32_offset[],
	trampoline_lm64_offset[];

/* After INIT, the SDM's 10 ms; after a SIPI the second one follows if the
 * AP has not shown up in this long. */
#define INIT_DELAY_US 10000
#define SIPI_WAIT_US 200000

void trampoline_install(struct ap_trampoline *t, uint64_t page,
			uint64_t entry, uint64_t cr3)
{
	size_t size = (size_t)(trampoline_end - trampoline_start);
	size_t params_off = (size_t)(trampoline_params - trampoline_start);
	struct trampoline_params *tp;

	if (!page)
		panic("no free page below 1 MiB for the AP trampoline");
	if (cr3 >> 32)
		panic("page tables above 4 GiB; APs cannot load them");
	memcpy(phys_to_virt(page), trampoline_start, size);
	tp = (struct trampoline_params *)((char *)phys_to_virt(page) + params_off);
	tp->gdt_base = (uint32_t)(page + (uint64_t)trampoline_gdt_offset);
	tp->pm32_target = (uint32_t)(page + (uint64_t)trampoline_pm32_offset);
	tp->lm64_target = (uint32_t)(page + (uint64_t)trampoline_lm64_offset);
	tp->cr0 = (uint32_t)read_cr0();
	tp->cr3 = (uint32_t)cr3;
	tp->efer = (uint32_t)(rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE));
	tp->entry = entry;
	t->page = page;
	t->params = tp;
}

bool ap_wait_online(const volatile bool *online, uint64_t us)
{
	for (uint64_t t = 0; t < us / 100; t++) {
		if (__atomic_load_n(online, __ATOMIC_ACQUIRE))
			return true;
		udelay(100);
	}
	return __atomic_load_n(online, __ATOMIC_ACQUIRE);
}

bool ap_start(const struct ap_trampoline *t, uint32_t apic_id,
	      uint64_t stack, uint64_t arg, const volatile bool *online,
	      uint64_t timeout_us)
{
	struct trampoline_params *tp = t->params;
	uint64_t first = timeout_us < SIPI_WAIT_US ? timeout_us : SIPI_WAIT_US;

	tp->stack = stack;
	tp->arg = arg;
	/* The parameters are in place before the AP can read them. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	apic_send_init(apic_id);
	udelay(INIT_DELAY_US);
	for (int sipi = 0; sipi < 2; sipi++) {
		apic_send_sipi(apic_id, (uint8_t)(t->page >> 12));
		if (ap_wait_online(online, sipi ? timeout_us : first))
			return true;
	}
	return false;
}
