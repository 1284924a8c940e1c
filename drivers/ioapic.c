/*
 * The I/O APIC model: see ioapic.h. Delivery rules (82093AA 3.2.4): an
 * edge-triggered pin sends on a rising edge of its (polarity-corrected)
 * input while unmasked; a level-triggered pin sends while its input is
 * asserted, unmasked and its remote IRR clear, and sets remote IRR, which
 * the EOI of its vector clears. An edge that arrives while masked is
 * lost, as on the chip; a level stays and fires on unmask.
 */
#include <string.h>
#include "ioapic.h"

#define RTE_WRITABLE_LO 0x0001afffu     /* vector, mode, dest mode,
					 * polarity, trigger, mask */
#define RTE_WRITABLE_HI 0xff000000u     /* destination */

static void log_bad(struct ioapic *io, const char *msg)
{
	if (io->plat && io->plat->log)
		io->plat->log(io->plat->ctx, msg);
}

void ioapic_init(struct ioapic *io, const struct platform *plat, uint8_t id,
		 ioapic_deliver_fn deliver, void *ctx)
{
	memset(io, 0, sizeof(*io));
	io->plat = plat;
	io->deliver = deliver;
	io->ctx = ctx;
	io->id = id & 0x0f;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;
}

int ioapic_isa_pin(unsigned irq)
{
	if (irq == 0)
		return 2;
	if (irq == 2 || irq > 15)
		return -1;
	return (int)irq;
}

static bool asserted(const struct ioapic *io, unsigned pin)
{
	bool line = (io->lines >> pin) & 1;

	return (io->rte[pin] & IOAPIC_RTE_ACTIVE_LOW) ? !line : line;
}

static void send(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];
	bool level = e & IOAPIC_RTE_LEVEL;
	uint8_t mode = (uint8_t)((e >> 8) & 7);

	if (e & IOAPIC_RTE_MASKED)
		return;
	if (mode == 2 || mode == 3 || mode == 5 || mode == 6) {
		/* SMI, reserved, INIT, reserved: nothing a child takes. */
		io->refused++;
		log_bad(io, "ioapic: a redirection entry with a delivery mode "
			"we do not deliver (SMI, INIT or reserved)");
		return;
	}
	if (io->deliver(io->ctx, (uint8_t)e, mode, e & IOAPIC_RTE_LOGICAL,
			(uint8_t)(e >> 56), level)) {
		io->refused++;
		return;
	}
	io->delivered++;
	if (level && mode != 7 && mode != 4)
		io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
}

/* A level pin that can fire now does. */
static void level_check(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];

	if ((e & IOAPIC_RTE_LEVEL) && !(e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) &&
	    asserted(io, pin))
		send(io, pin);
}

void ioapic_set_pin(struct ioapic *io, unsigned pin, bool level)
{
	bool was;

	if (pin >= IOAPIC_PINS)
		return;
	was = asserted(io, pin);
	if (level)
		io->lines |= 1u << pin;
	else
		io->lines &= ~(1u << pin);
	if (io->rte[pin] & IOAPIC_RTE_LEVEL)
		level_check(io, pin);
	else if (!was && asserted(io, pin))
		send(io, pin);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->rte[pin];

		if ((e & IOAPIC_RTE_REMOTE_IRR) && (uint8_t)e == vector) {
			io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
			io->eois++;
			level_check(io, pin);
		}
	}
}

static uint32_t reg_read(const struct ioapic *io, uint32_t reg)
{
	if (reg == IOAPIC_REG_ID)
		return (uint32_t)io->id << 24;
	if (reg == IOAPIC_REG_VER)
		return IOAPIC_VERSION;
	if (reg == IOAPIC_REG_ARB)
		return (uint32_t)io->id << 24;
	if (reg >= IOAPIC_REG_REDIR && reg < IOAPIC_REG_REDIR + 2 * IOAPIC_PINS) {
		uint64_t e = io->rte[(reg - IOAPIC_REG_REDIR) / 2];

		return (reg & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;
}

static void reg_write(struct ioapic *io, uint32_t reg, uint32_t v)
{
	unsigned pin;
	uint64_t e;

	if (reg == IOAPIC_REG_ID) {
		io->id = (uint8_t)((v >> 24) & 0x0f);
		return;
	}
	if (reg < IOAPIC_REG_REDIR || reg >= IOAPIC_REG_REDIR + 2 * IOAPIC_PINS) {
		if (reg != IOAPIC_REG_VER && reg != IOAPIC_REG_ARB)
			log_bad(io, "ioapic: write to a register that does not exist");
		return;
	}
	pin = (reg - IOAPIC_REG_REDIR) / 2;
	e = io->rte[pin];
	if (reg & 1) {
		e = (e & 0x00000000ffffffffull) | ((uint64_t)(v & RTE_WRITABLE_HI) << 32);
	} else {
		e = (e & ~(uint64_t)RTE_WRITABLE_LO) | (v & RTE_WRITABLE_LO);
		/* An edge entry has no remote IRR. */
		if (!(e & IOAPIC_RTE_LEVEL))
			e &= ~IOAPIC_RTE_REMOTE_IRR;
	}
	io->rte[pin] = e;
	level_check(io, pin);
}

bool ioapic_mmio(struct ioapic *io, uint32_t offset, unsigned size, bool write,
		 uint32_t *value)
{
	if (offset >= IOAPIC_SIZE)
		return false;
	if (size != 4 || (offset != IOAPIC_REGSEL && offset != IOAPIC_WINDOW)) {
		log_bad(io, "ioapic: an access that is not 32 bits at IOREGSEL "
			"or IOWIN (dropped, reads 0)");
		if (!write)
			*value = 0;
		return true;
	}
	if (offset == IOAPIC_REGSEL) {
		if (write)
			io->regsel = *value & 0xff;
		else
			*value = io->regsel;
		return true;
	}
	if (write)
		reg_write(io, io->regsel, *value);
	else
		*value = reg_read(io, io->regsel);
	return true;
}
