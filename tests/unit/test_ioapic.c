/*
 * Host tests for the I/O APIC model (drivers/ioapic.c): the register
 * window, reset state, edge and level delivery, polarity, masking (an
 * edge while masked is lost, a level fires on unmask), remote IRR and the
 * EOI that clears it, the ISA wiring, read-only bits and bad accesses.
 */
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "ioapic.h"

static unsigned logs, sent;
static struct { uint8_t vector, mode, dest; bool logical, level; } last;
static int refuse;

static void f_log(void *c, const char *m) { (void)c; (void)m; logs++; }

static int f_deliver(void *ctx, uint8_t vector, uint8_t mode, bool logical,
		     uint8_t dest, bool level)
{
	(void)ctx;
	if (refuse)
		return -1;
	sent++;
	last.vector = vector;
	last.mode = mode;
	last.dest = dest;
	last.logical = logical;
	last.level = level;
	return 0;
}

static const struct platform plat = { .log = f_log };
static struct ioapic io;

static uint32_t rd(uint32_t reg)
{
	uint32_t v = reg;

	ioapic_mmio(&io, IOAPIC_REGSEL, 4, true, &v);
	v = 0xdeadbeef;
	ioapic_mmio(&io, IOAPIC_WINDOW, 4, false, &v);
	return v;
}

static void wr(uint32_t reg, uint32_t v)
{
	uint32_t sel = reg;

	ioapic_mmio(&io, IOAPIC_REGSEL, 4, true, &sel);
	ioapic_mmio(&io, IOAPIC_WINDOW, 4, true, &v);
}

static void rte(unsigned pin, uint64_t e)
{
	wr(IOAPIC_REG_REDIR + 2 * pin + 1, (uint32_t)(e >> 32));
	wr(IOAPIC_REG_REDIR + 2 * pin, (uint32_t)e);
}

int main(void)
{
	uint32_t v;

	ioapic_init(&io, &plat, 3, f_deliver, NULL);
	CHECK(rd(IOAPIC_REG_ID) == 3u << 24, "ID 3 in bits 27:24");
	CHECK(rd(IOAPIC_REG_VER) == IOAPIC_VERSION && ((rd(1) >> 16) & 0xff) == 23,
	      "version 0x20, 24 entries (max index 23)");
	CHECK(rd(IOAPIC_REG_REDIR + 10) & IOAPIC_RTE_MASKED, "reset: entries masked");
	ioapic_set_pin(&io, 4, true);
	ioapic_set_pin(&io, 4, false);
	CHECK(sent == 0, "masked: nothing sent");
	wr(IOAPIC_REG_VER, 0);
	CHECK(rd(IOAPIC_REG_VER) == IOAPIC_VERSION, "VER is read-only");
	wr(IOAPIC_REG_ID, 0x0f000000);
	CHECK(rd(IOAPIC_REG_ID) == 0x0f000000, "ID writable");

	/* Edge, active high, physical destination 2. */
	rte(4, 0x34 | (2ull << 56));
	CHECK(rd(IOAPIC_REG_REDIR + 9) == 0x02000000 && rd(IOAPIC_REG_REDIR + 8) == 0x34,
	      "entry 4 reads back");
	ioapic_set_pin(&io, 4, true);
	CHECK(sent == 1 && last.vector == 0x34 && last.dest == 2 && !last.level &&
	      !last.logical && last.mode == 0, "a rising edge sends 0x34 to APIC 2");
	ioapic_set_pin(&io, 4, true);
	CHECK(sent == 1, "no edge, no second interrupt");
	ioapic_set_pin(&io, 4, false);
	ioapic_set_pin(&io, 4, true);
	CHECK(sent == 2, "the next rising edge sends again");
	ioapic_set_pin(&io, 4, false);
	/* An edge while masked is lost. */
	rte(4, 0x34 | IOAPIC_RTE_MASKED);
	ioapic_set_pin(&io, 4, true);
	ioapic_set_pin(&io, 4, false);
	rte(4, 0x34);
	CHECK(sent == 2, "an edge while masked is lost, unmasking sends nothing");

	/* Level, active low (line low = asserted), logical, lowest priority. */
	rte(9, 0x49 | (1ull << 8) | IOAPIC_RTE_LOGICAL | IOAPIC_RTE_LEVEL |
	       IOAPIC_RTE_ACTIVE_LOW | IOAPIC_RTE_MASKED | (0x0full << 56));
	ioapic_set_pin(&io, 9, true);              /* deasserted (active low) */
	ioapic_set_pin(&io, 9, false);             /* asserted, masked */
	CHECK(sent == 2, "a masked level waits");
	rte(9, 0x49 | (1ull << 8) | IOAPIC_RTE_LOGICAL | IOAPIC_RTE_LEVEL |
	       IOAPIC_RTE_ACTIVE_LOW | (0x0full << 56));
	CHECK(sent == 3 && last.level && last.logical && last.mode == 1 && last.dest == 0x0f,
	      "unmasked with its line asserted: sent, level, logical, lowest priority");
	CHECK(rd(IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR, "remote IRR set");
	ioapic_set_pin(&io, 9, true);
	ioapic_set_pin(&io, 9, false);
	CHECK(sent == 3, "remote IRR holds the next one back");
	ioapic_eoi(&io, 0x50);
	CHECK(sent == 3 && (rd(IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR),
	      "another vector's EOI changes nothing");
	ioapic_eoi(&io, 0x49);
	CHECK(sent == 4 && (rd(IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR),
	      "EOI with the line still asserted: sent again");
	ioapic_set_pin(&io, 9, true);
	ioapic_eoi(&io, 0x49);
	CHECK(sent == 4 && !(rd(IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR),
	      "EOI after the line went away: remote IRR clear, nothing sent");
	wr(IOAPIC_REG_REDIR + 18, rd(IOAPIC_REG_REDIR + 18) | IOAPIC_RTE_REMOTE_IRR |
	   (1u << 12));
	CHECK(!(rd(IOAPIC_REG_REDIR + 18) & (IOAPIC_RTE_REMOTE_IRR | (1u << 12))),
	      "remote IRR and delivery status are read-only");
	/* Refused by every APIC: counted, no remote IRR left behind. */
	refuse = 1;
	ioapic_set_pin(&io, 9, false);
	refuse = 0;
	CHECK(io.refused == 1 && !(rd(IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR),
	      "refused: no remote IRR set");

	/* Wiring and bad accesses. */
	CHECK(ioapic_isa_pin(0) == 2 && ioapic_isa_pin(2) == -1 && ioapic_isa_pin(4) == 4 &&
	      ioapic_isa_pin(15) == 15 && ioapic_isa_pin(16) == -1,
	      "ISA wiring: IRQ 0 on pin 2, the cascade nowhere");
	logs = 0;
	v = 0x12345678;
	CHECK(ioapic_mmio(&io, 0x20, 4, false, &v) && v == 0 && logs == 1,
	      "a read elsewhere in the window: 0, logged");
	v = 0;
	CHECK(ioapic_mmio(&io, IOAPIC_WINDOW, 1, false, &v) && v == 0 && logs == 2,
	      "a byte read of IOWIN: 0, logged");
	CHECK(!ioapic_mmio(&io, IOAPIC_SIZE, 4, false, &v), "past the window: not ours");
	wr(0x80, 1);
	CHECK(logs == 3 && rd(0x80) == 0, "a register that does not exist: logged, reads 0");
	ioapic_set_pin(&io, 200, true);
	CHECK(true, "a pin past 23 is ignored");
	/* Mode INIT in an entry: refused, logged. */
	rte(5, 0x35 | (5ull << 8));
	ioapic_set_pin(&io, 5, true);
	CHECK(logs == 4 && sent == 4, "delivery mode INIT: not delivered, logged");
	return done_testing();
}
