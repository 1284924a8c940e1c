/*
 * The two cascaded Intel 8259A interrupt controllers of a PC, emulated:
 * master at 0x20-0x21 (IRQ 0-7), slave at 0xa0-0xa1 (IRQ 8-15) wired to
 * the master's IR2, and the PIIX edge/level control registers (ELCR) at
 * 0x4d0-0x4d1.
 *
 * The owner feeds device lines in with pic_set_irq() (the platform's
 * irq_set lands there), asks pic_pending_vector() whether the VP would
 * take an interrupt now, and calls pic_acknowledge() for the INTA cycle
 * when it injects one. The chip rules modelled: the ICW1-ICW4
 * initialization sequence, IMR (OCW1), non-specific/specific EOI with
 * rotation and set-priority (OCW2), IRR/ISR reads, poll mode and special
 * mask mode (OCW3), automatic EOI, special fully nested mode on the
 * master, edge triggering (a request needs a low-to-high transition) or
 * level triggering per ELCR bit or ICW1 LTIM, and spurious IRQ 7/15: an
 * INTA that finds no request on a chip returns that chip's IR7 vector
 * without setting ISR (for IRQ 15 the master's ISR bit 2 is set, as on
 * the chip, so the guest must EOI the master).
 *
 * Guest values are untrusted: ICW4 without the 8086 bit (MCS-80 mode),
 * ELCR reserved bits and bad access sizes are logged and then treated as
 * the chip (or PIIX) would. The state after pic_init() is the one a
 * BIOS leaves: vectors 0x08 and 0x70, cascade on IR2, 8086 mode, but
 * every line masked.
 */
#ifndef DRIVERS_PIC8259_H
#define DRIVERS_PIC8259_H

#include <stdbool.h>
#include <stdint.h>
#include "platform.h"

#define PIC_MASTER_CMD  0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD   0xa0
#define PIC_SLAVE_DATA  0xa1
#define PIC_ELCR_MASTER 0x4d0
#define PIC_ELCR_SLAVE  0x4d1
#define PIC_CASCADE_IRQ 2

struct pic_chip {
	uint8_t irr;            /* interrupt request register */
	uint8_t isr;            /* in-service register */
	uint8_t imr;            /* interrupt mask register (OCW1) */
	uint8_t line;           /* input levels, for edge detection */
	uint8_t elcr;           /* level-triggered inputs */
	uint8_t base;           /* vector base (ICW2 bits 7-3) */
	uint8_t icw3;
	uint8_t lowest;         /* the lowest-priority IR (rotation) */
	uint8_t init_step;      /* 0: ready; 2, 3, 4: that ICW expected */
	bool icw4_expected;
	bool single;            /* ICW1 SNGL: no cascade */
	bool ltim;              /* ICW1 LTIM: every input level-triggered */
	bool aeoi;              /* ICW4 AEOI */
	bool rotate_aeoi;       /* OCW2 rotate in automatic EOI mode */
	bool sfnm;              /* ICW4 special fully nested mode */
	bool read_isr;          /* OCW3: command port reads ISR, else IRR */
	bool poll;              /* OCW3 P: next read is a poll */
	bool special_mask;      /* OCW3 special mask mode */
};

struct pic {
	const struct platform *p;
	struct pic_chip chip[2];        /* [0] master, [1] slave */

	uint64_t acks;          /* INTA cycles */
	uint64_t spurious;      /* of those, answered with a spurious IR7 */
	uint64_t rejected;      /* guest inputs logged as bad */
};

/* The state a BIOS leaves (see above), all lines low and masked. */
void pic_init(struct pic *c, const struct platform *p);

/* Device line `irq` (0-15) is at `level`. IRQ 2 is the cascade input and
 * not a device line: setting it, or any irq > 15, is logged and ignored. */
void pic_set_irq(struct pic *c, unsigned irq, bool level);

/* The vector an INTA would return now, -1 when the master does not
 * assert INT (nothing unmasked and of higher priority than what is in
 * service). Can be a spurious IRQ 15 vector (the master latched the
 * slave's request, which went away since). */
int pic_pending_vector(const struct pic *c);

/* The INTA cycle: the highest-priority request moves from IRR to ISR (not
 * with automatic EOI) and its vector is returned; with no request, the
 * spurious IR7 vector of the chip that found none. */
int pic_acknowledge(struct pic *c);

/*
 * One guest port access (0x20-0x21, 0xa0-0xa1, 0x4d0-0x4d1). `size` is
 * 1, 2 or 4: wider accesses split into bytes of consecutive ports, bytes
 * on no port of ours read 0xff. Reads store the result zero-extended from
 * `size` bytes. Returns false (*value untouched) for a port not ours.
 */
bool pic_io(struct pic *c, uint16_t port, unsigned size, bool write,
	    uint32_t *value);

#endif
