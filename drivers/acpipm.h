/*
 * The ACPI PM block of a child (the FADT's PM1a event and control blocks
 * and PM timer, in port space at `base`, acpitab.h):
 *   base+0  PM1_STS (16 bits, write 1 to clear: TMR_STS 0, PWRBTN_STS 8,
 *           WAK_STS 15)
 *   base+2  PM1_EN  (16 bits: TMR_EN 0, PWRBTN_EN 8)
 *   base+4  PM1_CNT (16 bits: SCI_EN 0 reads 1 always, SLP_TYP 10-12,
 *           SLP_EN 13 write-only: a write with it set asks for sleep
 *           state SLP_TYP)
 *   base+8  PM_TMR  (32 bits, read only, 3.579545 MHz)
 * Any other width or offset inside the block reads all ones and ignores
 * writes, with a log line. Nothing here raises the SCI: no event source
 * is modelled but the request to sleep, which the caller acts on.
 */
#ifndef DRIVERS_ACPIPM_H
#define DRIVERS_ACPIPM_H

#include <stdbool.h>
#include <stdint.h>
#include "platform.h"

#define ACPIPM_BASE     0x600           /* QEMU's PIIX4 PM base, too */
#define ACPIPM_PORTS    12
#define ACPIPM_PM1_STS  0
#define ACPIPM_PM1_EN   2
#define ACPIPM_PM1_CNT  4
#define ACPIPM_PM_TMR   8
#define ACPIPM_SLP_TYP_S5 5             /* the DSDT's \_S5 */
#define ACPIPM_TIMER_HZ 3579545ull

struct acpipm {
	const struct platform *p;
	uint16_t base;
	uint16_t sts, en, cnt;
	void (*sleep)(void *ctx, unsigned slp_typ);
	void *sleep_ctx;
};

void acpipm_init(struct acpipm *pm, const struct platform *p, uint16_t base,
		 void (*sleep)(void *ctx, unsigned slp_typ), void *sleep_ctx);

/* One guest port access: false when `port` is not in the block. */
bool acpipm_io(struct acpipm *pm, uint16_t port, unsigned size, bool write,
	       uint32_t *value);

/* The PM timer's count at `now_ns` (32 bits). */
uint32_t acpipm_timer(uint64_t now_ns);

#endif
