/*
 * A child VP's local APIC (Intel SDM vol. 3 chapter 11, AMD APM vol. 2
 * chapter 16): the register file in xAPIC (MMIO offsets) and x2APIC (MSR
 * 0x800 + offset / 16) form, interrupt acceptance (IRR, ISR, TMR, TPR,
 * PPR, EOI), the LVT, the timer in one-shot, periodic and TSC-deadline
 * modes, and ICR writes turned into an IPI the caller routes to the
 * partition's own VPs.
 *
 * Portable and without locks or clocks of its own: the caller passes the
 * guest's TSC (`now`), serializes calls per APIC and routes what a write
 * produces (struct vlapic_effects). Every value is guest input; a bad
 * access gives what the hardware gives: an x2APIC access that does not
 * exist, a reserved bit set or a write to a read-only register is #GP
 * (VLAPIC_GP); an xAPIC one reads 0 or is ignored, and a bad vector sets
 * the ESR's illegal-vector bits.
 *
 * Time: the timer counts the APIC bus clock, VLAPIC_BUS_HZ (1 GHz, what
 * HV_X64_MSR_APIC_FREQUENCY reports), divided by the DCR; expiries are
 * kept on the guest's TSC, converted with `tsc_khz`.
 */
#ifndef HV_VLAPIC_H
#define HV_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VLAPIC_BUS_HZ        1000000000ull
#define VLAPIC_DEFAULT_BASE  0xfee00000ull
#define VLAPIC_VERSION       0x00050014u  /* version 0x14, 6 LVT entries */

/* IA32_APIC_BASE */
#define VLAPIC_BASE_BSP      (1ull << 8)
#define VLAPIC_BASE_EXTD     (1ull << 10)
#define VLAPIC_BASE_EN       (1ull << 11)

/* Register offsets (xAPIC; x2APIC MSR = 0x800 + offset / 16). */
#define VLAPIC_ID     0x020
#define VLAPIC_VER    0x030
#define VLAPIC_TPR    0x080
#define VLAPIC_APR    0x090
#define VLAPIC_PPR    0x0a0
#define VLAPIC_EOI    0x0b0
#define VLAPIC_RRD    0x0c0
#define VLAPIC_LDR    0x0d0
#define VLAPIC_DFR    0x0e0
#define VLAPIC_SVR    0x0f0
#define VLAPIC_ISR    0x100
#define VLAPIC_TMR    0x180
#define VLAPIC_IRR    0x200
#define VLAPIC_ESR    0x280
#define VLAPIC_ICR_LO 0x300
#define VLAPIC_ICR_HI 0x310
#define VLAPIC_LVT_TIMER   0x320
#define VLAPIC_LVT_THERMAL 0x330
#define VLAPIC_LVT_PERF    0x340
#define VLAPIC_LVT_LINT0   0x350
#define VLAPIC_LVT_LINT1   0x360
#define VLAPIC_LVT_ERROR   0x370
#define VLAPIC_TIMER_ICR   0x380
#define VLAPIC_TIMER_CCR   0x390
#define VLAPIC_TIMER_DCR   0x3e0
#define VLAPIC_SELF_IPI    0x3f0

#define VLAPIC_MSR_FIRST   0x800u
#define VLAPIC_MSR_LAST    0x8ffu
#define VLAPIC_MSR_TSC_DEADLINE 0x6e0u

#define VLAPIC_LVT_COUNT   6    /* timer, thermal, perf, LINT0, LINT1, error */
#define VLAPIC_LVT_MASKED  (1u << 16)
#define VLAPIC_SVR_ENABLE  (1u << 8)

/* Delivery modes (ICR and LVT bits 10:8). */
enum vlapic_dm {
	VLAPIC_DM_FIXED = 0, VLAPIC_DM_LOWEST = 1, VLAPIC_DM_SMI = 2,
	VLAPIC_DM_NMI = 4, VLAPIC_DM_INIT = 5, VLAPIC_DM_STARTUP = 6,
	VLAPIC_DM_EXTINT = 7,
};

/* ESR bits. */
#define VLAPIC_ESR_SEND_ILLEGAL   (1u << 5)
#define VLAPIC_ESR_RECV_ILLEGAL   (1u << 6)
#define VLAPIC_ESR_ILLEGAL_REG    (1u << 7)

/* Results of a register access. */
#define VLAPIC_OK  0
#define VLAPIC_GP  (-1)         /* x2APIC form: raise #GP */

struct vlapic {
	uint64_t base;                  /* IA32_APIC_BASE */
	uint32_t id;                    /* the VP's APIC id */
	uint32_t tpr, ldr, dfr, svr, esr, esr_pending, icr_lo, icr_hi;
	uint32_t lvt[VLAPIC_LVT_COUNT];
	uint32_t irr[8], isr[8], tmr[8];
	uint32_t aeoi[8];               /* accepted with automatic EOI */
	uint32_t timer_icr, timer_dcr;
	uint64_t timer_expire;          /* guest TSC of the next expiry; 0: none */
	uint64_t timer_period;          /* periodic mode: TSC cycles per period */
	uint64_t tsc_deadline;          /* IA32_TSC_DEADLINE */
	uint32_t tsc_khz;
	uint64_t timer_fired;           /* expiries, for the counters */
};

/* What a write asks of the caller. */
struct vlapic_effects {
	bool ipi;                       /* an ICR or SELF_IPI write */
	uint8_t ipi_vector;
	uint8_t ipi_mode;               /* enum vlapic_dm */
	uint8_t ipi_shorthand;          /* 0 none, 1 self, 2 all, 3 all but self */
	bool ipi_logical, ipi_level;
	uint32_t ipi_dest;              /* x2APIC: 32 bits; xAPIC: 8 */
	int eoi_vector;                 /* a level-triggered vector's EOI; -1 */
	bool timer_changed;             /* re-read vlapic_timer_next() */
};

/* Reset as firmware leaves it: enabled at 0xfee00000 in xAPIC mode, the
 * SVR software-enabled with spurious vector 0xff, and on the BSP LINT0 as
 * ExtINT and LINT1 as NMI (the MP spec's virtual wire mode, as SeaBIOS
 * programs it), so the 8259's interrupts reach a guest that never
 * touches its APIC. */
void vlapic_init(struct vlapic *l, uint32_t id, bool bsp, uint32_t tsc_khz);

bool vlapic_hw_enabled(const struct vlapic *l);
bool vlapic_x2apic(const struct vlapic *l);
/* The APIC page's GPA while the xAPIC MMIO form is on; UINT64_MAX else. */
uint64_t vlapic_mmio_base(const struct vlapic *l);

/* IA32_APIC_BASE: VLAPIC_GP for an invalid value or transition (reserved
 * bits, EXTD without EN, x2APIC straight back to xAPIC, BSP changed). */
int vlapic_set_base(struct vlapic *l, uint64_t v);

/* xAPIC MMIO: a 32-bit access at `off` (0..0xff0; the caller checks size
 * and alignment). Bad offsets read 0 / are ignored and set ESR bit 7. */
uint32_t vlapic_mmio_read(struct vlapic *l, uint32_t off, uint64_t now);
void vlapic_mmio_write(struct vlapic *l, uint32_t off, uint32_t v, uint64_t now,
		       struct vlapic_effects *fx);

/* x2APIC MSRs 0x800-0x8ff and IA32_TSC_DEADLINE: VLAPIC_OK or VLAPIC_GP. */
int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t now, uint64_t *v);
int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t v, uint64_t now,
		     struct vlapic_effects *fx);

/* HV_X64_MSR_EOI/ICR/TPR (TLFS 10.3): the x2APIC register's rules, in
 * either mode while the APIC is enabled. `off` is VLAPIC_EOI, ICR_LO or
 * TPR. */
int vlapic_synthetic_read(struct vlapic *l, uint32_t off, uint64_t *v);
int vlapic_synthetic_write(struct vlapic *l, uint32_t off, uint64_t v, uint64_t now,
			   struct vlapic_effects *fx);

/* Accept an interrupt: into IRR (level: TMR too; auto_eoi: no ISR bit
 * when taken). Vectors below 16 set ESR bit 6 and are refused (false). */
bool vlapic_accept(struct vlapic *l, uint8_t vector, bool level, bool auto_eoi);
/* The vector the VP takes next (IRR above PPR, APIC enabled), or -1. */
int vlapic_pending(const struct vlapic *l);
/* The CPU took `vector` (vlapic_pending's answer): IRR -> ISR. */
void vlapic_ack(struct vlapic *l, uint8_t vector);
/* Whether the 8259's ExtINT reaches this VP: APIC disabled, or LINT0
 * unmasked in ExtINT mode. */
bool vlapic_extint_allowed(const struct vlapic *l);
/* Whether an NMI from LINT1 reaches it. */
bool vlapic_lint1_nmi(const struct vlapic *l);

/* The timer: expire it if due at `now` (its interrupt goes into IRR when
 * unmasked; periodic mode reloads), true when it expired. */
bool vlapic_timer_poll(struct vlapic *l, uint64_t now);
/* Guest TSC of the next expiry, 0 when none is armed. */
uint64_t vlapic_timer_next(const struct vlapic *l);

/* Whether `l` is a destination of an IPI with `dest` in `logical` or
 * physical mode (broadcast included), in its current mode. */
bool vlapic_matches(const struct vlapic *l, uint32_t dest, bool logical);

#endif
