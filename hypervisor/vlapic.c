/*
 * A child VP's local APIC: see vlapic.h. The register rules follow the
 * SDM's tables (vol. 3, 11.4.1 and 11.12.1.2) and the APM's 16.3-16.4:
 * which bits each register keeps, what is read-only, what a disabled or
 * software-disabled APIC does, and the x2APIC form's #GP cases.
 */
#include <stddef.h>
#include "vlapic.h"

#define LVT_TIMER   0
#define LVT_THERMAL 1
#define LVT_PERF    2
#define LVT_LINT0   3
#define LVT_LINT1   4
#define LVT_ERROR   5

/* What each LVT entry keeps (delivery status and remote IRR are ours). */
static const uint32_t lvt_writable[VLAPIC_LVT_COUNT] = {
	[LVT_TIMER]   = 0x000700ffu,    /* vector, mask, mode 18:17 */
	[LVT_THERMAL] = 0x000107ffu,    /* vector, delivery mode, mask */
	[LVT_PERF]    = 0x000107ffu,
	[LVT_LINT0]   = 0x0001a7ffu,    /* + polarity, trigger */
	[LVT_LINT1]   = 0x0001a7ffu,
	[LVT_ERROR]   = 0x000100ffu,
};

#define TIMER_ONESHOT  0u
#define TIMER_PERIODIC 1u
#define TIMER_DEADLINE 2u
#define ICR_LO_WRITABLE 0x000ccfffu     /* vector, mode, dest mode, level,
					 * trigger, shorthand */
#define SVR_WRITABLE    0x000003ffu     /* vector, enable, focus check */

static unsigned timer_mode(const struct vlapic *l)
{
	return (l->lvt[LVT_TIMER] >> 17) & 3;
}

static bool test_bit(const uint32_t *map, unsigned v)
{
	return (map[v / 32] >> (v % 32)) & 1;
}

static void set_bit(uint32_t *map, unsigned v)
{
	map[v / 32] |= 1u << (v % 32);
}

static void clear_bit(uint32_t *map, unsigned v)
{
	map[v / 32] &= ~(1u << (v % 32));
}

static int highest(const uint32_t *map)
{
	for (int w = 7; w >= 0; w--)
		if (map[w])
			return w * 32 + 31 - __builtin_clz(map[w]);
	return -1;
}

static uint32_t ppr(const struct vlapic *l)
{
	int isrv = highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

/* ---- time: bus ticks and TSC cycles --------------------------------------- */

static uint64_t ticks_to_tsc(const struct vlapic *l, uint64_t t)
{
	uint64_t k = l->tsc_khz, r;

	/* ticks are ns: cycles = ns * kHz / 10^6, without overflow for any
	 * 39-bit tick count (a 32-bit count times the largest divider). */
	r = t / 1000000 * k + (t % 1000000) * k / 1000000;
	return r ? r : 1;
}

static uint64_t tsc_to_ticks(const struct vlapic *l, uint64_t c)
{
	uint64_t k = l->tsc_khz ? l->tsc_khz : 1;

	return c / k * 1000000 + (c % k) * 1000000 / k;
}

static unsigned divider(const struct vlapic *l)
{
	unsigned v = ((l->timer_dcr & 8) >> 1) | (l->timer_dcr & 3);

	return v == 7 ? 1 : 2u << v;
}

static void timer_stop(struct vlapic *l)
{
	l->timer_expire = 0;
	l->timer_period = 0;
}

static void timer_start_count(struct vlapic *l, uint64_t now)
{
	if (!l->timer_icr || timer_mode(l) == TIMER_DEADLINE || timer_mode(l) == 3) {
		timer_stop(l);
		return;
	}
	l->timer_period = ticks_to_tsc(l, (uint64_t)l->timer_icr * divider(l));
	l->timer_expire = now + l->timer_period;
	if (!l->timer_expire)
		l->timer_expire = 1;
}

static uint32_t timer_ccr(const struct vlapic *l, uint64_t now)
{
	uint64_t left;

	if (!l->timer_expire || timer_mode(l) == TIMER_DEADLINE)
		return 0;
	if (now < l->timer_expire)
		left = l->timer_expire - now;
	else if (timer_mode(l) == TIMER_PERIODIC && l->timer_period)
		left = l->timer_period - (now - l->timer_expire) % l->timer_period;
	else
		return 0;
	left = tsc_to_ticks(l, left) / divider(l);
	return left > l->timer_icr ? l->timer_icr : (uint32_t)left;
}

bool vlapic_timer_poll(struct vlapic *l, uint64_t now)
{
	if (!l->timer_expire || now < l->timer_expire)
		return false;
	l->timer_fired++;
	if (!(l->lvt[LVT_TIMER] & VLAPIC_LVT_MASKED))
		vlapic_accept(l, (uint8_t)l->lvt[LVT_TIMER], false, false);
	if (timer_mode(l) == TIMER_PERIODIC && l->timer_period) {
		/* Missed periods are one expiry, as a guest that was not run
		 * would see one interrupt: the next is a period after the
		 * last boundary. */
		l->timer_expire += ((now - l->timer_expire) / l->timer_period + 1) *
				   l->timer_period;
	} else {
		l->timer_expire = 0;
		if (timer_mode(l) == TIMER_DEADLINE)
			l->tsc_deadline = 0;
	}
	return true;
}

uint64_t vlapic_timer_next(const struct vlapic *l)
{
	return vlapic_hw_enabled(l) ? l->timer_expire : 0;
}

/* ---- state ---------------------------------------------------------------- */

static void regs_reset(struct vlapic *l)
{
	uint32_t id = l->id, khz = l->tsc_khz;
	uint64_t base = l->base, fired = l->timer_fired;

	for (size_t i = 0; i < sizeof(*l); i++)
		((volatile uint8_t *)l)[i] = 0;
	l->id = id;
	l->tsc_khz = khz;
	l->base = base;
	l->timer_fired = fired;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	for (unsigned i = 0; i < VLAPIC_LVT_COUNT; i++)
		l->lvt[i] = VLAPIC_LVT_MASKED;
}

void vlapic_init(struct vlapic *l, uint32_t id, bool bsp, uint32_t tsc_khz)
{
	l->id = id;
	l->tsc_khz = tsc_khz;
	l->timer_fired = 0;
	l->base = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | (bsp ? VLAPIC_BASE_BSP : 0);
	regs_reset(l);
	l->svr = VLAPIC_SVR_ENABLE | 0xff;
	if (bsp) {
		l->lvt[LVT_LINT0] = 0x8000u | (VLAPIC_DM_EXTINT << 8);
		l->lvt[LVT_LINT1] = 0x8000u | (VLAPIC_DM_NMI << 8);
	}
}

bool vlapic_hw_enabled(const struct vlapic *l)
{
	return l->base & VLAPIC_BASE_EN;
}

bool vlapic_x2apic(const struct vlapic *l)
{
	return (l->base & (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)) ==
	       (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD);
}

static bool sw_enabled(const struct vlapic *l)
{
	return vlapic_hw_enabled(l) && (l->svr & VLAPIC_SVR_ENABLE);
}

uint64_t vlapic_mmio_base(const struct vlapic *l)
{
	if (!vlapic_hw_enabled(l) || vlapic_x2apic(l))
		return UINT64_MAX;
	return l->base & 0x000ffffffffff000ull;
}

int vlapic_set_base(struct vlapic *l, uint64_t v)
{
	uint64_t reserved = 0xfff00000000002ffull;   /* 7:0, 9, 63:52 */
	bool en = v & VLAPIC_BASE_EN, x2 = v & VLAPIC_BASE_EXTD;
	bool was_en = vlapic_hw_enabled(l), was_x2 = vlapic_x2apic(l);

	if (v & reserved || (x2 && !en) || ((v ^ l->base) & VLAPIC_BASE_BSP))
		return VLAPIC_GP;
	if (was_x2 && en && !x2)
		return VLAPIC_GP;               /* x2APIC -> xAPIC: disable first */
	if (!was_en && x2)
		return VLAPIC_GP;               /* disabled -> x2APIC: via xAPIC */
	l->base = v;
	if (was_en && !en) {
		/* Disabled: as after reset, with the timer stopped. */
		regs_reset(l);
	} else if (x2 && !was_x2) {
		l->ldr = ((l->id >> 4) << 16) | (1u << (l->id & 15));
		l->dfr = 0xffffffffu;
	}
	return VLAPIC_OK;
}

bool vlapic_extint_allowed(const struct vlapic *l)
{
	uint32_t lint0 = l->lvt[LVT_LINT0];

	if (!vlapic_hw_enabled(l))
		return true;
	return !(lint0 & VLAPIC_LVT_MASKED) && ((lint0 >> 8) & 7) == VLAPIC_DM_EXTINT;
}

bool vlapic_lint1_nmi(const struct vlapic *l)
{
	uint32_t lint1 = l->lvt[LVT_LINT1];

	return vlapic_hw_enabled(l) && !(lint1 & VLAPIC_LVT_MASKED) &&
	       ((lint1 >> 8) & 7) == VLAPIC_DM_NMI;
}

/* ---- interrupts ----------------------------------------------------------- */

bool vlapic_accept(struct vlapic *l, uint8_t vector, bool level, bool auto_eoi)
{
	if (!vlapic_hw_enabled(l))
		return false;
	if (vector < 16) {
		l->esr_pending |= VLAPIC_ESR_RECV_ILLEGAL;
		return false;
	}
	set_bit(l->irr, vector);
	if (level)
		set_bit(l->tmr, vector);
	else
		clear_bit(l->tmr, vector);
	if (auto_eoi)
		set_bit(l->aeoi, vector);
	else
		clear_bit(l->aeoi, vector);
	return true;
}

int vlapic_pending(const struct vlapic *l)
{
	int v = highest(l->irr);

	if (v < 0 || !sw_enabled(l))
		return -1;
	if (((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

void vlapic_ack(struct vlapic *l, uint8_t vector)
{
	clear_bit(l->irr, vector);
	if (test_bit(l->aeoi, vector))
		clear_bit(l->aeoi, vector);
	else
		set_bit(l->isr, vector);
}

static void eoi(struct vlapic *l, struct vlapic_effects *fx)
{
	int v = highest(l->isr);

	if (v < 0)
		return;
	clear_bit(l->isr, (unsigned)v);
	if (test_bit(l->tmr, (unsigned)v)) {
		clear_bit(l->tmr, (unsigned)v);
		fx->eoi_vector = v;
	}
}

bool vlapic_matches(const struct vlapic *l, uint32_t dest, bool logical)
{
	if (!vlapic_hw_enabled(l))
		return false;
	if (vlapic_x2apic(l)) {
		if (dest == 0xffffffffu)
			return true;
		if (!logical)
			return dest == l->id;
		return (dest >> 16) == (l->ldr >> 16) && (dest & l->ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if (!logical)
		return dest == (l->id & 0xff);
	if ((l->dfr >> 28) == 0xf)             /* flat */
		return (l->ldr >> 24) & dest;
	return (l->ldr >> 28) == (dest >> 4) && ((l->ldr >> 24) & dest & 0xf);
}

static void send_ipi(struct vlapic *l, uint32_t lo, uint32_t dest,
		     struct vlapic_effects *fx)
{
	unsigned mode = (lo >> 8) & 7;
	uint8_t vector = (uint8_t)lo;

	if ((mode == VLAPIC_DM_FIXED || mode == VLAPIC_DM_LOWEST) && vector < 16) {
		l->esr_pending |= VLAPIC_ESR_SEND_ILLEGAL;
		return;
	}
	if (mode == 3)
		return;                 /* reserved (once remote read): sends nothing */
	fx->ipi = true;
	fx->ipi_vector = vector;
	fx->ipi_mode = (uint8_t)mode;
	fx->ipi_shorthand = (uint8_t)((lo >> 18) & 3);
	fx->ipi_logical = lo & (1u << 11);
	fx->ipi_level = lo & (1u << 14);
	fx->ipi_dest = dest;
}

/* ---- registers ------------------------------------------------------------ */

static int lvt_index(uint32_t off)
{
	if (off >= VLAPIC_LVT_TIMER && off <= VLAPIC_LVT_ERROR && !(off & 0xf))
		return (int)((off - VLAPIC_LVT_TIMER) >> 4);
	return -1;
}

/* A register's value, or -1 in `bad` for an offset with nothing there.
 * Shared by both forms; the x2APIC-only and xAPIC-only ones are sorted
 * out by the callers. */
static uint32_t reg_read(struct vlapic *l, uint32_t off, uint64_t now, bool *bad)
{
	int lvt = lvt_index(off);

	*bad = false;
	if (lvt >= 0)
		return l->lvt[lvt];
	if (off >= VLAPIC_ISR && off < VLAPIC_ISR + 0x80)
		return l->isr[(off - VLAPIC_ISR) >> 4];
	if (off >= VLAPIC_TMR && off < VLAPIC_TMR + 0x80)
		return l->tmr[(off - VLAPIC_TMR) >> 4];
	if (off >= VLAPIC_IRR && off < VLAPIC_IRR + 0x80)
		return l->irr[(off - VLAPIC_IRR) >> 4];
	switch (off) {
	case VLAPIC_ID:
		return vlapic_x2apic(l) ? l->id : l->id << 24;
	case VLAPIC_VER:
		return VLAPIC_VERSION;
	case VLAPIC_TPR:
		return l->tpr;
	case VLAPIC_APR:
		return 0;
	case VLAPIC_PPR:
		return ppr(l);
	case VLAPIC_LDR:
		return l->ldr;
	case VLAPIC_DFR:
		return l->dfr;
	case VLAPIC_SVR:
		return l->svr;
	case VLAPIC_ESR:
		return l->esr;
	case VLAPIC_ICR_LO:
		return l->icr_lo;
	case VLAPIC_ICR_HI:
		return l->icr_hi;
	case VLAPIC_TIMER_ICR:
		return l->timer_icr;
	case VLAPIC_TIMER_CCR:
		return timer_ccr(l, now);
	case VLAPIC_TIMER_DCR:
		return l->timer_dcr;
	default:
		*bad = true;
		return 0;
	}
}

static void lvt_write(struct vlapic *l, int i, uint32_t v, uint64_t now,
		      struct vlapic_effects *fx)
{
	uint32_t old = l->lvt[i];

	v &= lvt_writable[i];
	if (!(l->svr & VLAPIC_SVR_ENABLE))
		v |= VLAPIC_LVT_MASKED;
	l->lvt[i] = v | (old & ~lvt_writable[i] & (1u << 14));
	if (i == LVT_TIMER) {
		unsigned was = (old >> 17) & 3, is = (v >> 17) & 3;

		/* Into or out of TSC-deadline mode disarms the timer. */
		if ((was == TIMER_DEADLINE) != (is == TIMER_DEADLINE)) {
			l->timer_icr = 0;
			l->tsc_deadline = 0;
			timer_stop(l);
		} else if (was != is && l->timer_expire && is != TIMER_DEADLINE) {
			/* one-shot <-> periodic: the count goes on. */
			l->timer_period = ticks_to_tsc(l, (uint64_t)l->timer_icr * divider(l));
		}
		fx->timer_changed = true;
	}
	(void)now;
}

static void svr_write(struct vlapic *l, uint32_t v)
{
	l->svr = v & SVR_WRITABLE;
	if (!(v & VLAPIC_SVR_ENABLE))
		for (unsigned i = 0; i < VLAPIC_LVT_COUNT; i++)
			l->lvt[i] |= VLAPIC_LVT_MASKED;
}

static void timer_icr_write(struct vlapic *l, uint32_t v, uint64_t now,
			    struct vlapic_effects *fx)
{
	if (timer_mode(l) == TIMER_DEADLINE)
		return;                 /* ignored in TSC-deadline mode */
	l->timer_icr = v;
	timer_start_count(l, now);
	fx->timer_changed = true;
}

static void dcr_write(struct vlapic *l, uint32_t v)
{
	l->timer_dcr = v & 0xb;
	if (l->timer_expire && timer_mode(l) != TIMER_DEADLINE)
		l->timer_period = ticks_to_tsc(l, (uint64_t)l->timer_icr * divider(l));
}

static void fx_clear(struct vlapic_effects *fx)
{
	fx->ipi = false;
	fx->eoi_vector = -1;
	fx->timer_changed = false;
}

uint32_t vlapic_mmio_read(struct vlapic *l, uint32_t off, uint64_t now)
{
	bool bad;
	uint32_t v;

	off &= 0xff0;
	if (off == VLAPIC_SELF_IPI || off == VLAPIC_EOI) {
		return 0;               /* write-only */
	}
	if (off == VLAPIC_RRD)
		return 0;
	v = reg_read(l, off, now, &bad);
	if (bad)
		l->esr_pending |= VLAPIC_ESR_ILLEGAL_REG;
	return v;
}

void vlapic_mmio_write(struct vlapic *l, uint32_t off, uint32_t v, uint64_t now,
		       struct vlapic_effects *fx)
{
	int lvt;

	fx_clear(fx);
	off &= 0xff0;
	lvt = lvt_index(off);
	if (lvt >= 0) {
		lvt_write(l, lvt, v, now, fx);
		return;
	}
	switch (off) {
	case VLAPIC_TPR:
		l->tpr = v & 0xff;
		break;
	case VLAPIC_EOI:
		eoi(l, fx);
		break;
	case VLAPIC_LDR:
		l->ldr = v & 0xff000000u;
		break;
	case VLAPIC_DFR:
		l->dfr = (v & 0xf0000000u) | 0x0fffffffu;
		break;
	case VLAPIC_SVR:
		svr_write(l, v);
		break;
	case VLAPIC_ESR:
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case VLAPIC_ICR_HI:
		l->icr_hi = v & 0xff000000u;
		break;
	case VLAPIC_ICR_LO:
		l->icr_lo = v & ICR_LO_WRITABLE;
		send_ipi(l, l->icr_lo, l->icr_hi >> 24, fx);
		break;
	case VLAPIC_TIMER_ICR:
		timer_icr_write(l, v, now, fx);
		break;
	case VLAPIC_TIMER_DCR:
		dcr_write(l, v);
		fx->timer_changed = true;
		break;
	case VLAPIC_ID:                 /* read-only here, as on many CPUs */
	case VLAPIC_VER: case VLAPIC_APR: case VLAPIC_PPR: case VLAPIC_RRD:
	case VLAPIC_TIMER_CCR:
		break;
	default:
		if (!(off >= VLAPIC_ISR && off < VLAPIC_IRR + 0x80))
			l->esr_pending |= VLAPIC_ESR_ILLEGAL_REG;
		break;
	}
}

int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t now, uint64_t *v)
{
	uint32_t off;
	bool bad;

	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		*v = timer_mode(l) == TIMER_DEADLINE ? l->tsc_deadline : 0;
		return VLAPIC_OK;
	}
	if (msr < VLAPIC_MSR_FIRST || msr > VLAPIC_MSR_LAST || !vlapic_x2apic(l))
		return VLAPIC_GP;
	off = (msr - VLAPIC_MSR_FIRST) << 4;
	switch (off) {
	case VLAPIC_EOI: case VLAPIC_SELF_IPI:    /* write-only */
	case VLAPIC_APR: case VLAPIC_RRD: case VLAPIC_DFR: case VLAPIC_ICR_HI:
		return VLAPIC_GP;
	case VLAPIC_ICR_LO:
		*v = (uint64_t)l->icr_hi << 32 | l->icr_lo;
		return VLAPIC_OK;
	}
	*v = reg_read(l, off, now, &bad);
	return bad ? VLAPIC_GP : VLAPIC_OK;
}

int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t v, uint64_t now,
		     struct vlapic_effects *fx)
{
	uint32_t off, lo = (uint32_t)v;
	int lvt;

	fx_clear(fx);
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		if (timer_mode(l) != TIMER_DEADLINE || !vlapic_hw_enabled(l))
			return VLAPIC_OK;       /* ignored outside that mode */
		l->tsc_deadline = v;
		l->timer_expire = v;
		fx->timer_changed = true;
		return VLAPIC_OK;
	}
	if (msr < VLAPIC_MSR_FIRST || msr > VLAPIC_MSR_LAST || !vlapic_x2apic(l))
		return VLAPIC_GP;
	off = (msr - VLAPIC_MSR_FIRST) << 4;
	if (off == VLAPIC_ICR_LO) {
		if (lo & ~ICR_LO_WRITABLE)
			return VLAPIC_GP;
		l->icr_lo = lo;
		l->icr_hi = (uint32_t)(v >> 32);
		send_ipi(l, lo, l->icr_hi, fx);
		return VLAPIC_OK;
	}
	if (v >> 32)
		return VLAPIC_GP;
	lvt = lvt_index(off);
	if (lvt >= 0) {
		/* Delivery status and remote IRR are read-only: ignored, as
		 * Linux's disconnect_bsp_APIC writes them back. */
		if (lo & ~(lvt_writable[lvt] | (1u << 12) | (1u << 14)))
			return VLAPIC_GP;
		lvt_write(l, lvt, lo, now, fx);
		return VLAPIC_OK;
	}
	switch (off) {
	case VLAPIC_TPR:
		if (lo & ~0xffu)
			return VLAPIC_GP;
		l->tpr = lo;
		return VLAPIC_OK;
	case VLAPIC_EOI:
		if (lo)
			return VLAPIC_GP;
		eoi(l, fx);
		return VLAPIC_OK;
	case VLAPIC_SVR:
		if (lo & ~SVR_WRITABLE)
			return VLAPIC_GP;
		svr_write(l, lo);
		return VLAPIC_OK;
	case VLAPIC_ESR:
		if (lo)
			return VLAPIC_GP;
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return VLAPIC_OK;
	case VLAPIC_TIMER_ICR:
		timer_icr_write(l, lo, now, fx);
		return VLAPIC_OK;
	case VLAPIC_TIMER_DCR:
		if (lo & ~0xbu)
			return VLAPIC_GP;
		dcr_write(l, lo);
		fx->timer_changed = true;
		return VLAPIC_OK;
	case VLAPIC_SELF_IPI:
		if (lo & ~0xffu)
			return VLAPIC_GP;
		send_ipi(l, (lo & 0xff) | (1u << 18), 0, fx);
		return VLAPIC_OK;
	default:
		return VLAPIC_GP;       /* read-only or nothing there */
	}
}

/* ---- the TLFS's synthetic APIC MSRs ---------------------------------------- */

int vlapic_synthetic_read(struct vlapic *l, uint32_t off, uint64_t *v)
{
	if (!vlapic_hw_enabled(l))
		return VLAPIC_GP;
	if (off == VLAPIC_ICR_LO) {
		*v = (uint64_t)l->icr_hi << 32 | l->icr_lo;
		return VLAPIC_OK;
	}
	if (off == VLAPIC_TPR) {
		*v = l->tpr;
		return VLAPIC_OK;
	}
	return VLAPIC_GP;               /* EOI is write-only */
}

int vlapic_synthetic_write(struct vlapic *l, uint32_t off, uint64_t v, uint64_t now,
			   struct vlapic_effects *fx)
{
	uint32_t lo = (uint32_t)v;

	fx_clear(fx);
	(void)now;
	if (!vlapic_hw_enabled(l))
		return VLAPIC_GP;
	switch (off) {
	case VLAPIC_EOI:
		eoi(l, fx);             /* any value: the TLFS asks for none */
		return VLAPIC_OK;
	case VLAPIC_TPR:
		if (v & ~0xffull)
			return VLAPIC_GP;
		l->tpr = lo;
		return VLAPIC_OK;
	case VLAPIC_ICR_LO:
		if (lo & ~ICR_LO_WRITABLE)
			return VLAPIC_GP;
		l->icr_lo = lo;
		/* The destination as the APIC's mode reads it. */
		l->icr_hi = vlapic_x2apic(l) ? (uint32_t)(v >> 32) : (uint32_t)(v >> 32) & 0xff000000u;
		send_ipi(l, lo, vlapic_x2apic(l) ? l->icr_hi : l->icr_hi >> 24, fx);
		return VLAPIC_OK;
	default:
		return VLAPIC_GP;
	}
}
