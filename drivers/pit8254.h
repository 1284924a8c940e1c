/*
 * An emulated Intel 8254 programmable interval timer: channels 0-2 at
 * ports 0x40-0x42, the control word at 0x43, and the channel 2 bits of
 * system control port B (0x61: bit 0 gate 2, bit 1 speaker data, bit 4
 * refresh toggle, bit 5 OUT 2). The input clock is 1193182 Hz; time comes
 * from platform->now_ns() and every count is computed from it, so the
 * model does no work while nobody looks.
 *
 * Channel 0's OUT drives IRQ 0. The owner asks pit_next_event_ns() when
 * the next rising edge of OUT 0 is due and calls pit_update() at (or
 * after) that time. IRQ 0 is the line an edge-triggered PIC sees: each
 * rising edge of OUT 0 arrives as a rising edge of the line, and the low
 * phase before it (one clock in mode 2, half a period in mode 3) is
 * squeezed into the instant before the edge. Late updates coalesce:
 * however many edges passed since the last update, pit_update() gives the
 * line one rising edge (a PIC's IRR holds one request per line anyway)
 * and counts them all in `irq_edges`, the merged ones in
 * `irq_coalesced`. The edge grid never drifts: edge k of a rate of N
 * clocks falls at exactly clock start + k*N, whenever the owner looks.
 *
 * Guest values are untrusted. BCD counting is rejected (the counter counts
 * in binary and the status byte shows BCD clear), a count of 1 in modes 2
 * and 3 (illegal on the chip) counts as 2; each is logged.
 */
#ifndef DRIVERS_PIT8254_H
#define DRIVERS_PIT8254_H

#include <stdbool.h>
#include <stdint.h>
#include "platform.h"

#define PIT_FREQ_HZ     1193182u
#define PIT_IRQ         0
#define PIT_PORT_CH0    0x40    /* ch1 0x41, ch2 0x42 */
#define PIT_PORT_CTRL   0x43
#define PIT_PORT_SYSB   0x61    /* system control port B */

/* Control word access field (bits 5-4). */
#define PIT_ACCESS_LATCH 0
#define PIT_ACCESS_LO   1
#define PIT_ACCESS_HI   2
#define PIT_ACCESS_LOHI 3

/* Port 0x61 bits. */
#define PIT_SYSB_GATE2  0x01
#define PIT_SYSB_SPKR   0x02
#define PIT_SYSB_REFRESH 0x10
#define PIT_SYSB_OUT2   0x20

struct pit_channel {
	/* As programmed by the last control word. */
	uint8_t mode;           /* 0-5: modes 6 and 7 are 2 and 3 */
	uint8_t mode_bits;      /* bits 3-1 as written, for the status byte */
	uint8_t access;         /* PIT_ACCESS_LO/HI/LOHI */
	bool gate;

	/* Count register (CR) and the byte-wise write/read state. */
	uint32_t cr;            /* 1..65536 (a written 0 means 65536) */
	bool cr_written;        /* a whole count came after the control word */
	bool write_hi_next;     /* lo/hi access: the low byte is in write_lo */
	uint8_t write_lo;
	bool read_hi_next;      /* lo/hi access: next live read is the MSB */
	bool null_count;        /* CR written, not yet in the CE */

	/* Output latch (counter latch / read-back) and status latch. */
	bool count_latched;
	bool latch_hi_next;
	uint16_t latch;
	bool status_latched;
	uint8_t status;

	/*
	 * Counting element (CE). While `counting`, CE held `start` at clock
	 * edge `start_tick` and moves with every later edge: down by one
	 * (modes 0, 1, 4, 5), or through periods of `start` clocks (modes 2,
	 * 3). Otherwise it holds `hold_count` and OUT holds `hold_out`.
	 */
	bool counting;
	bool armed;             /* modes 0, 1, 4, 5: TC still to come */
	uint64_t start_tick;
	uint32_t start;         /* 1..65536 */
	bool reload_pending;    /* modes 2, 3: CR takes over at reload_tick */
	uint64_t reload_tick;
	uint16_t hold_count;
	bool hold_out;
};

struct pit {
	const struct platform *p;
	uint64_t epoch_ns;      /* clock edge 0 */
	struct pit_channel ch[3];
	uint8_t sysb;           /* port 0x61 bits 0-3 as written */

	bool irq_line;          /* last level sent to platform->irq_set */
	uint64_t irq_done_tick; /* OUT 0 edges up to this clock delivered */

	uint64_t irq_edges;     /* rising edges of OUT 0, counted */
	uint64_t irq_coalesced; /* of those, merged into another's pulse */
	uint64_t rejected;      /* guest inputs logged as bad */
};

/* Power-on state: no channel counts until the guest programs it (OUT 0
 * low, so no IRQ 0 events); gates 0 and 1 are tied high, gate 2 is low.
 * The clock's edge 0 is now. */
void pit_init(struct pit *t, const struct platform *p);

/*
 * One guest port access (0x40-0x43, 0x61). `size` is 1, 2 or 4: wider
 * accesses are split into byte accesses of consecutive ports, as the ISA
 * bus does; bytes that land on no PIT port read 0xff. For a write *value
 * holds the data, for a read the model stores the result there,
 * zero-extended from `size` bytes. Returns false (and leaves *value
 * alone) when `port` is not one of the model's.
 */
bool pit_io(struct pit *t, uint16_t port, unsigned size, bool write,
	    uint32_t *value);

/* When the next rising edge of OUT 0 not yet delivered is due (possibly
 * already past), in platform->now_ns() time; UINT64_MAX when none is
 * coming (channel 0 idle, or its one-shot has fired). */
uint64_t pit_next_event_ns(struct pit *t);

/* Deliver the OUT 0 edges up to now to IRQ 0 (see the file comment:
 * one pulse per update, every edge counted). */
void pit_update(struct pit *t);

#endif
