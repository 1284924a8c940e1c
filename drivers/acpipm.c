/* The ACPI PM block (acpipm.h). */
#include "acpipm.h"

#define SCI_EN      (1u << 0)
#define SLP_TYP(v)  (((v) >> 10) & 7)
#define SLP_EN      (1u << 13)
#define CNT_WRITABLE (7u << 10)         /* SLP_TYP; SCI_EN is fixed */
/* TMR, BM, GBL, PWRBTN, SLPBTN, RTC, WAK; the enables of TMR, GBL,
 * PWRBTN, SLPBTN, RTC (held, never raised: no SCI source). */
#define STS_BITS    ((1u << 0) | (1u << 4) | (1u << 5) | (1u << 8) | (1u << 9) | \
		     (1u << 10) | (1u << 15))
#define EN_BITS     ((1u << 0) | (1u << 5) | (1u << 8) | (1u << 9) | (1u << 10))

void acpipm_init(struct acpipm *pm, const struct platform *p, uint16_t base,
		 void (*sleep)(void *ctx, unsigned slp_typ), void *sleep_ctx)
{
	*pm = (struct acpipm){ p, base, 0, 0, SCI_EN, sleep, sleep_ctx };
}

uint32_t acpipm_timer(uint64_t ns)
{
	/* Whole seconds and the rest apart: no overflow for 584 years. */
	return (uint32_t)((ns / 1000000000u) * ACPIPM_TIMER_HZ +
			  (ns % 1000000000u) * ACPIPM_TIMER_HZ / 1000000000u);
}

static void reject(struct acpipm *pm, const char *why)
{
	if (pm->p && pm->p->log)
		pm->p->log(pm->p->ctx, why);
}

bool acpipm_io(struct acpipm *pm, uint16_t port, unsigned size, bool write,
	       uint32_t *v)
{
	uint16_t off;

	if (port < pm->base || port >= pm->base + ACPIPM_PORTS)
		return false;
	off = (uint16_t)(port - pm->base);
	if ((off == ACPIPM_PM_TMR && size == 4) ||
	    ((off == ACPIPM_PM1_STS || off == ACPIPM_PM1_EN || off == ACPIPM_PM1_CNT) &&
	     size == 2)) {
		if (!write) {
			*v = off == ACPIPM_PM1_STS ? pm->sts :
			     off == ACPIPM_PM1_EN ? pm->en :
			     off == ACPIPM_PM1_CNT ? (uint32_t)(pm->cnt | SCI_EN) :
			     acpipm_timer(pm->p->now_ns(pm->p->ctx));
			return true;
		}
		switch (off) {
		case ACPIPM_PM1_STS:
			pm->sts &= (uint16_t)~(*v & STS_BITS);
			break;
		case ACPIPM_PM1_EN:
			pm->en = (uint16_t)(*v & EN_BITS);
			break;
		case ACPIPM_PM1_CNT:
			pm->cnt = (uint16_t)((*v & CNT_WRITABLE) | SCI_EN);
			if ((*v & SLP_EN) && pm->sleep)
				pm->sleep(pm->sleep_ctx, SLP_TYP(*v));
			break;
		default:
			reject(pm, "acpi pm: write to the PM timer ignored (read only)");
			break;
		}
		return true;
	}
	/* ACPI allows byte access to the PM1 registers' halves too. */
	if (size == 1 && off < ACPIPM_PM_TMR) {
		unsigned reg = off & ~1u, shift = (off & 1u) * 8;
		uint32_t word;

		acpipm_io(pm, (uint16_t)(pm->base + reg), 2, false, &word);
		if (!write) {
			*v = (word >> shift) & 0xff;
			return true;
		}
		if (reg == ACPIPM_PM1_STS)
			word = (*v & 0xff) << shift;    /* write 1 to clear: only these */
		else
			word = (word & ~(0xffu << shift)) | ((*v & 0xff) << shift);
		return acpipm_io(pm, (uint16_t)(pm->base + reg), 2, true, &word);
	}
	reject(pm, "acpi pm: access of an unsupported width or offset ignored");
	if (!write)
		*v = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	return true;
}
