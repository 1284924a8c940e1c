/*
 * Host tests for the virtual local APIC model (hypervisor/vlapic.c): the
 * firmware reset state, IA32_APIC_BASE transitions, xAPIC and x2APIC
 * register rules (read-only, reserved bits, #GP cases), acceptance,
 * priority (TPR, PPR, ISR nesting), EOI and level-triggered EOI, automatic
 * EOI, ExtINT through LINT0, the timer in its three modes (counts on a
 * TSC of 2 GHz), software disable, IPI encoding and destination matching.
 */
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "vlapic.h"

#define KHZ 2000000u                    /* a 2 GHz TSC: 2 cycles per ns */

static struct vlapic l;
static struct vlapic_effects fx;

static uint64_t rd(uint32_t msr, uint64_t now)
{
	uint64_t v = 0xdead;

	if (vlapic_msr_read(&l, msr, now, &v) != VLAPIC_OK)
		return UINT64_MAX;
	return v;
}

static int wr(uint32_t msr, uint64_t v, uint64_t now)
{
	return vlapic_msr_write(&l, msr, v, now, &fx);
}

static void x2_on(uint32_t id)
{
	vlapic_init(&l, id, id == 0, KHZ);
	vlapic_set_base(&l, l.base | VLAPIC_BASE_EXTD);
}

static void reset_and_base(void)
{
	vlapic_init(&l, 0, true, KHZ);
	CHECK(l.base == (0xfee00000ull | VLAPIC_BASE_EN | VLAPIC_BASE_BSP),
	      "reset: enabled at 0xfee00000, BSP");
	CHECK(vlapic_mmio_base(&l) == 0xfee00000ull && !vlapic_x2apic(&l),
	      "reset: xAPIC page at its base");
	CHECK(vlapic_extint_allowed(&l) && vlapic_lint1_nmi(&l),
	      "BSP: LINT0 ExtINT and LINT1 NMI (virtual wire, as SeaBIOS leaves it)");
	vlapic_init(&l, 3, false, KHZ);
	CHECK(!vlapic_extint_allowed(&l), "an AP: LINT0 masked, no ExtINT");
	CHECK(vlapic_mmio_read(&l, VLAPIC_ID, 0) == 3u << 24, "xAPIC ID in bits 31:24");
	CHECK(vlapic_mmio_read(&l, VLAPIC_VER, 0) == VLAPIC_VERSION, "version");
	CHECK(vlapic_mmio_read(&l, VLAPIC_DFR, 0) == 0xffffffffu, "DFR resets to flat");
	CHECK(vlapic_set_base(&l, l.base | VLAPIC_BASE_BSP) == VLAPIC_GP,
	      "BSP bit is read-only");
	CHECK(vlapic_set_base(&l, l.base | (1ull << 9)) == VLAPIC_GP, "reserved bit 9");
	CHECK(vlapic_set_base(&l, l.base | (1ull << 60)) == VLAPIC_GP, "reserved bit 60");
	CHECK(vlapic_set_base(&l, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EXTD) == VLAPIC_GP,
	      "EXTD without EN");
	CHECK(vlapic_set_base(&l, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD) ==
	      VLAPIC_OK && vlapic_x2apic(&l), "xAPIC -> x2APIC");
	CHECK(rd(0x80d, 0) == ((0u << 16) | (1u << 3)) && rd(0x802, 0) == 3,
	      "x2APIC: LDR derived from the id, ID is 32-bit");
	CHECK(vlapic_mmio_base(&l) == UINT64_MAX, "x2APIC: no MMIO page");
	CHECK(vlapic_set_base(&l, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN) == VLAPIC_GP,
	      "x2APIC -> xAPIC directly");
	CHECK(vlapic_set_base(&l, VLAPIC_DEFAULT_BASE) == VLAPIC_OK && !vlapic_hw_enabled(&l),
	      "x2APIC -> disabled");
	CHECK(vlapic_set_base(&l, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD) ==
	      VLAPIC_GP, "disabled -> x2APIC");
	CHECK(!vlapic_accept(&l, 0x40, false, false), "a disabled APIC accepts nothing");
	CHECK(vlapic_extint_allowed(&l), "a disabled APIC passes the 8259's INTR");
	CHECK(vlapic_set_base(&l, 0xfed00000ull | VLAPIC_BASE_EN) == VLAPIC_OK &&
	      vlapic_mmio_base(&l) == 0xfed00000ull, "re-enabled at a moved base");
	CHECK(!(l.svr & VLAPIC_SVR_ENABLE) && (l.lvt[0] & VLAPIC_LVT_MASKED),
	      "after a disable: software-disabled, LVT masked");
}

static void x2apic_rules(void)
{
	vlapic_init(&l, 1, false, KHZ);
	CHECK(rd(0x808, 0) == UINT64_MAX, "xAPIC mode: x2APIC MSRs #GP");
	x2_on(1);
	CHECK(wr(0x802, 5, 0) == VLAPIC_GP, "ID write #GP");
	CHECK(wr(0x803, 0, 0) == VLAPIC_GP, "VER write #GP");
	CHECK(wr(0x80d, 0, 0) == VLAPIC_GP, "LDR write #GP (read-only in x2APIC)");
	CHECK(rd(0x80e, 0) == UINT64_MAX, "DFR does not exist in x2APIC");
	CHECK(rd(0x80b, 0) == UINT64_MAX, "EOI read #GP");
	CHECK(wr(0x80b, 1, 0) == VLAPIC_GP, "EOI write of non-zero #GP");
	CHECK(wr(0x808, 0x100, 0) == VLAPIC_GP, "TPR reserved bits #GP");
	CHECK(wr(0x808, 1ull << 32, 0) == VLAPIC_GP, "upper half #GP");
	CHECK(rd(0x831, 0) == UINT64_MAX, "ICR high does not exist");
	CHECK(rd(0x83f, 0) == UINT64_MAX, "SELF IPI read #GP");
	CHECK(wr(0x800, 0, 0) == VLAPIC_GP && rd(0x8ff, 0) == UINT64_MAX &&
	      rd(0x82f, 0) == UINT64_MAX, "no register at 0x800, 0x8ff, CMCI");
	CHECK(wr(0x832, 1u << 19, 0) == VLAPIC_GP, "LVT timer reserved bit #GP");
	CHECK(wr(0x83e, 4, 0) == VLAPIC_GP, "DCR reserved bit #GP");
	CHECK(wr(0x828, 0, 0) == VLAPIC_OK && wr(0x828, 1, 0) == VLAPIC_GP,
	      "ESR: write 0 latches, non-zero #GP");
	CHECK(wr(0x830, 1u << 12, 0) == VLAPIC_GP, "ICR delivery-status bit #GP");
	CHECK(wr(0x80f, 0x1ff, 0) == VLAPIC_OK && rd(0x80f, 0) == 0x1ff &&
	      wr(0x80f, 1u << 12, 0) == VLAPIC_GP, "SVR: EOI suppression not offered");
}

static void priorities(void)
{
	x2_on(0);
	CHECK(vlapic_pending(&l) == -1, "nothing pending at reset");
	CHECK(!vlapic_accept(&l, 5, false, false), "vector 5 refused");
	wr(0x828, 0, 0);
	CHECK(rd(0x828, 0) & VLAPIC_ESR_RECV_ILLEGAL, "ESR: receive illegal vector");
	vlapic_accept(&l, 0x41, false, false);
	vlapic_accept(&l, 0x91, false, false);
	CHECK(vlapic_pending(&l) == 0x91, "the highest vector first");
	CHECK(rd(0x820 + 0x91 / 32, 0) & (1u << (0x91 % 32)), "IRR shows it");
	vlapic_ack(&l, 0x91);
	CHECK(rd(0x810 + 0x91 / 32, 0) & (1u << (0x91 % 32)), "ISR after the ack");
	CHECK(rd(0x80a, 0) == 0x90, "PPR is the in-service class");
	CHECK(vlapic_pending(&l) == -1, "0x41 waits below the in-service 0x91");
	vlapic_accept(&l, 0x95, false, false);
	CHECK(vlapic_pending(&l) == -1, "the same class waits too");
	vlapic_accept(&l, 0xa0, false, false);
	CHECK(vlapic_pending(&l) == 0xa0, "a higher class nests");
	vlapic_ack(&l, 0xa0);
	wr(0x80b, 0, 0);
	CHECK(rd(0x80a, 0) == 0x90, "EOI ends the highest in service first");
	wr(0x80b, 0, 0);
	CHECK(vlapic_pending(&l) == 0x95, "then 0x95");
	vlapic_ack(&l, 0x95);
	wr(0x80b, 0, 0);
	wr(0x808, 0x50, 0);
	CHECK(vlapic_pending(&l) == -1 && rd(0x80a, 0) == 0x50, "TPR 0x50 holds 0x41 back");
	wr(0x808, 0x30, 0);
	CHECK(vlapic_pending(&l) == 0x41, "TPR 0x30 lets it in");
	vlapic_ack(&l, 0x41);
	wr(0x80b, 0, 0);
	wr(0x808, 0, 0);
	/* Level-triggered: its EOI is reported; AutoEOI: no ISR bit. */
	vlapic_accept(&l, 0x61, true, false);
	vlapic_ack(&l, 0x61);
	wr(0x80b, 0, 0);
	CHECK(fx.eoi_vector == 0x61, "a level-triggered vector's EOI is reported");
	wr(0x80b, 0, 0);
	CHECK(fx.eoi_vector == -1, "an EOI with nothing in service reports none");
	vlapic_accept(&l, 0x71, false, true);
	vlapic_ack(&l, 0x71);
	CHECK(rd(0x80a, 0) == 0 && vlapic_pending(&l) == -1, "AutoEOI: nothing in service");
	vlapic_accept(&l, 0x71, false, false);
	vlapic_ack(&l, 0x71);
	CHECK(rd(0x80a, 0) == 0x70, "the same vector without AutoEOI stays in service");
	wr(0x80b, 0, 0);
	/* Software disable: held, not delivered; LVTs masked and stay so. */
	vlapic_accept(&l, 0x81, false, false);
	wr(0x80f, 0xff, 0);
	CHECK(vlapic_pending(&l) == -1, "software-disabled: nothing delivered");
	wr(0x835, 0x700, 0);
	CHECK(rd(0x835, 0) & VLAPIC_LVT_MASKED, "software-disabled: LVT stays masked");
	wr(0x80f, 0x1ff, 0);
	CHECK(vlapic_pending(&l) == 0x81, "re-enabled: the held vector comes");
	CHECK(!vlapic_extint_allowed(&l), "LINT0 masked by the disable: no ExtINT");
	wr(0x835, 0x700, 0);
	CHECK(vlapic_extint_allowed(&l), "LINT0 ExtINT unmasked again");
}

static void timer(void)
{
	uint64_t t0 = 1000000;

	x2_on(0);
	wr(0x83e, 0xb, t0);                     /* divide by 1 */
	wr(0x832, 0x40, t0);                    /* one-shot */
	wr(0x838, 1000, t0);                    /* 1000 ns = 2000 cycles */
	CHECK(fx.timer_changed && vlapic_timer_next(&l) == t0 + 2000,
	      "one-shot: expires 1000 ns on (2000 TSC cycles)");
	CHECK(rd(0x839, t0 + 1000) == 500, "CCR counts down (500 left halfway)");
	CHECK(!vlapic_timer_poll(&l, t0 + 1999), "not before its time");
	CHECK(vlapic_timer_poll(&l, t0 + 2000) && vlapic_pending(&l) == 0x40,
	      "at its time: vector 0x40 pending");
	CHECK(vlapic_timer_next(&l) == 0 && rd(0x839, t0 + 3000) == 0,
	      "one-shot: done, CCR 0");
	vlapic_ack(&l, 0x40);
	wr(0x80b, 0, 0);
	wr(0x83e, 0x3, t0);                     /* divide by 16 */
	wr(0x838, 100, t0);
	CHECK(vlapic_timer_next(&l) == t0 + 3200, "divide by 16: 1600 ns");
	wr(0x838, 0, t0);
	CHECK(vlapic_timer_next(&l) == 0, "initial count 0 stops it");
	/* Periodic. */
	wr(0x83e, 0xb, t0);
	wr(0x832, 0x41 | (1u << 17), t0);
	wr(0x838, 500, t0);                     /* 1000 cycles */
	vlapic_timer_poll(&l, t0 + 1000);
	CHECK(vlapic_timer_next(&l) == t0 + 2000, "periodic: reloads");
	vlapic_timer_poll(&l, t0 + 5500);
	CHECK(vlapic_timer_next(&l) == t0 + 6000,
	      "periodic: missed periods are one expiry, the phase kept");
	CHECK(l.timer_fired == 3, "three expiries (%lu)", l.timer_fired);
	CHECK(rd(0x839, t0 + 5750) == 125, "periodic CCR within the period");
	wr(0x832, 0x41 | (1u << 17) | VLAPIC_LVT_MASKED, t0);
	vlapic_ack(&l, 0x41);
	wr(0x80b, 0, 0);
	vlapic_timer_poll(&l, t0 + 6000);
	CHECK(vlapic_pending(&l) == -1 && vlapic_timer_next(&l) == t0 + 7000,
	      "masked: it still counts, no interrupt");
	/* TSC deadline. */
	wr(0x832, 0x42 | (2u << 17), t0);
	CHECK(vlapic_timer_next(&l) == 0 && rd(0x838, 0) == 0,
	      "into TSC-deadline mode: the count timer is disarmed");
	wr(0x838, 100, t0);
	CHECK(vlapic_timer_next(&l) == 0, "the initial count is ignored there");
	wr(0x6e0, t0 + 777, t0);
	CHECK(vlapic_timer_next(&l) == t0 + 777 && rd(0x6e0, t0) == t0 + 777,
	      "the deadline is the expiry");
	CHECK(vlapic_timer_poll(&l, t0 + 800) && vlapic_pending(&l) == 0x42 &&
	      rd(0x6e0, t0) == 0, "expired: vector 0x42, the MSR reads 0");
	wr(0x6e0, t0 + 900, t0);
	wr(0x6e0, 0, t0);
	CHECK(vlapic_timer_next(&l) == 0, "a deadline of 0 disarms it");
	wr(0x832, 0x42, t0);
	wr(0x6e0, t0 + 5, t0);
	CHECK(vlapic_timer_next(&l) == 0 && rd(0x6e0, t0) == 0,
	      "outside TSC-deadline mode the MSR ignores writes, reads 0");
	/* The largest count at the largest divider does not overflow. */
	wr(0x83e, 0xa, t0);                     /* divide by 128 */
	wr(0x838, 0xffffffffu, t0);
	CHECK(vlapic_timer_next(&l) == t0 + 0xffffffffull * 128 * 2,
	      "2^32-1 counts at /128: exact");
}

static void ipis(void)
{
	struct vlapic a, b;

	x2_on(0);
	wr(0x830, (5ull << 32) | 0x4031, 0);
	CHECK(fx.ipi && fx.ipi_vector == 0x31 && fx.ipi_dest == 5 && fx.ipi_mode == 0 &&
	      !fx.ipi_logical && fx.ipi_level && fx.ipi_shorthand == 0,
	      "x2APIC ICR: fixed 0x31 to 5");
	CHECK(rd(0x830, 0) == ((5ull << 32) | 0x4031), "ICR reads back, 64-bit");
	wr(0x830, 0x0c0031 | (1u << 11), 0);
	CHECK(fx.ipi_shorthand == 3 && fx.ipi_logical, "all-but-self, logical");
	wr(0x83f, 0x44, 0);
	CHECK(fx.ipi && fx.ipi_shorthand == 1 && fx.ipi_vector == 0x44, "SELF_IPI");
	wr(0x830, 0x0005, 0);
	CHECK(!fx.ipi && (l.esr_pending & VLAPIC_ESR_SEND_ILLEGAL),
	      "sending vector 5: ESR send illegal, nothing sent");
	wr(0x830, 0x4500, 0);
	CHECK(fx.ipi && fx.ipi_mode == VLAPIC_DM_INIT, "INIT");
	wr(0x830, 0x0612, 0);
	CHECK(fx.ipi && fx.ipi_mode == VLAPIC_DM_STARTUP && fx.ipi_vector == 0x12,
	      "STARTUP 0x12 (a vector below 16 is fine for it)");
	/* Destinations. */
	vlapic_init(&a, 2, false, KHZ);
	CHECK(vlapic_matches(&a, 2, false) && !vlapic_matches(&a, 3, false) &&
	      vlapic_matches(&a, 0xff, false), "xAPIC physical, broadcast 0xff");
	vlapic_mmio_write(&a, VLAPIC_LDR, 0x04000000, 0, &fx);
	CHECK(vlapic_matches(&a, 0x0c, true) && !vlapic_matches(&a, 0x03, true),
	      "xAPIC flat logical");
	vlapic_mmio_write(&a, VLAPIC_DFR, 0x0fffffff, 0, &fx);
	vlapic_mmio_write(&a, VLAPIC_LDR, 0x12000000, 0, &fx);
	CHECK(vlapic_matches(&a, 0x12, true) && !vlapic_matches(&a, 0x22, true) &&
	      !vlapic_matches(&a, 0x11, true), "xAPIC cluster logical");
	vlapic_init(&b, 17, false, KHZ);
	vlapic_set_base(&b, b.base | VLAPIC_BASE_EXTD);
	CHECK(vlapic_matches(&b, 17, false) && !vlapic_matches(&b, 17 + 256, false) &&
	      vlapic_matches(&b, 0xffffffffu, false), "x2APIC physical, 32-bit, broadcast");
	CHECK(vlapic_matches(&b, (1u << 16) | 2, true) && !vlapic_matches(&b, 2, true),
	      "x2APIC cluster 1, bit 1 (id 17)");
	/* xAPIC ICR: high half first, low half sends. */
	vlapic_init(&a, 0, true, KHZ);
	vlapic_mmio_write(&a, VLAPIC_ICR_HI, 0x03000000, 0, &fx);
	CHECK(!fx.ipi, "ICR high alone sends nothing");
	vlapic_mmio_write(&a, VLAPIC_ICR_LO, 0x000040f3, 0, &fx);
	CHECK(fx.ipi && fx.ipi_dest == 3 && fx.ipi_vector == 0xf3, "xAPIC ICR: 0xf3 to 3");
	vlapic_mmio_write(&a, 0x3a0, 1, 0, &fx);
	CHECK(vlapic_mmio_read(&a, 0x3a0, 0) == 0 &&
	      (a.esr_pending & VLAPIC_ESR_ILLEGAL_REG), "xAPIC hole: reads 0, ESR");
	vlapic_mmio_write(&a, VLAPIC_ID, 0x05000000, 0, &fx);
	CHECK(vlapic_mmio_read(&a, VLAPIC_ID, 0) == 0, "xAPIC ID stays");
}

int main(void)
{
	reset_and_base();
	x2apic_rules();
	priorities();
	timer();
	ipis();
	return done_testing();
}
