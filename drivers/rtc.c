/*
 * The CMOS RTC model (rtc.h). Dates are proleptic Gregorian, converted
 * with Howard Hinnant's days_from_civil/civil_from_days algorithms (exact
 * integer arithmetic, no tables). Update cycles fall every second on from
 * base_ns; changing the time keeps that phase, as the chip's divider does.
 */
#include <string.h>
#include "isa_io.h"
#include "rtc.h"

#define NS_PER_S        1000000000ull
#define RTC_FREQ        32768u
#define UIP_NS          244000ull       /* UIP this long before an update */
#define SECS_PER_DAY    86400
/* 0000-01-01T00:00:00 and 9999-12-31T23:59:59 in Unix seconds. */
#define MIN_SECS        (-62167219200ll)
#define MAX_SECS        253402300799ll

struct rtc_time {
	int64_t year;
	unsigned month, day, hour, min, sec, wday;     /* wday 0 = Sunday */
};

static void rtc_reject(struct rtc *r, const char *msg)
{
	r->rejected++;
	if (r->p->log)
		r->p->log(r->p->ctx, msg);
}

static uint64_t now_ns(const struct rtc *r)
{
	return r->p->now_ns(r->p->ctx);
}

/* ---- calendar --------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* Days since 1970-01-01 of y-m-d. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, struct rtc_time *t)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	t->day = doy - (153 * mp + 2) / 5 + 1;
	t->month = mp < 10 ? mp + 3 : mp - 9;
	t->year = (int64_t)yoe + era * 400 + (t->month <= 2);
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const uint8_t dim[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && leap(y) ? 29 : dim[m - 1];
}

static void time_from_secs(int64_t s, struct rtc_time *t)
{
	int64_t days = floor_div(s, SECS_PER_DAY);
	unsigned sod = (unsigned)(s - days * SECS_PER_DAY);

	civil_from_days(days, t);
	t->hour = sod / 3600;
	t->min = sod / 60 % 60;
	t->sec = sod % 60;
	t->wday = (unsigned)((days % 7 + 11) % 7);      /* 1970-01-01: Thu */
}

/* ---- register formats ------------------------------------------------- */

static bool binary(const struct rtc *r)
{
	return r->cmos[RTC_REG_B] & RTC_B_BINARY;
}

static uint8_t enc(const struct rtc *r, unsigned v)
{
	v %= 100;
	return (uint8_t)(binary(r) ? v : (v / 10) << 4 | v % 10);
}

static unsigned dec(const struct rtc *r, uint8_t b)
{
	return binary(r) ? b : (b >> 4) * 10u + (b & 15);
}

static uint8_t enc_hour(const struct rtc *r, unsigned h)
{
	if (r->cmos[RTC_REG_B] & RTC_B_24H)
		return enc(r, h);
	return (uint8_t)(enc(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0));
}

static unsigned dec_hour(const struct rtc *r, uint8_t b)
{
	unsigned h;

	if (r->cmos[RTC_REG_B] & RTC_B_24H)
		return dec(r, b);
	h = dec(r, b & 0x7f);
	return (h == 12 ? 0 : h) + (b & 0x80 ? 12 : 0);
}

/* ---- the clock -------------------------------------------------------- */

/* Update cycles completed between base_ns and `ns`. */
static uint64_t updates_at(const struct rtc *r, uint64_t ns)
{
	return ns > r->base_ns ? (ns - r->base_ns) / NS_PER_S : 0;
}

static int64_t clock_secs(const struct rtc *r, uint64_t ns)
{
	uint64_t u = updates_at(r, ns);

	if (u > (uint64_t)(MAX_SECS - r->base_secs))
		return MAX_SECS;
	return r->base_secs + (int64_t)u;
}

/* The time bytes of time `s` in the current format. */
static void store_time(struct rtc *r, int64_t s)
{
	struct rtc_time t;

	time_from_secs(s, &t);
	r->cmos[RTC_SECONDS] = enc(r, t.sec);
	r->cmos[RTC_MINUTES] = enc(r, t.min);
	r->cmos[RTC_HOURS] = enc_hour(r, t.hour);
	r->cmos[RTC_WEEKDAY] = enc(r, t.wday + 1);
	r->cmos[RTC_DAY] = enc(r, t.day);
	r->cmos[RTC_MONTH] = enc(r, t.month);
	r->cmos[RTC_YEAR] = enc(r, (unsigned)(t.year % 100));
	r->cmos[RTC_CENTURY] = enc(r, (unsigned)(t.year / 100));
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi, bool *bad)
{
	if (v < lo || v > hi) {
		*bad = true;
		return v < lo ? lo : hi;
	}
	return v;
}

/* Start the clock from the time bytes, keeping the update phase. */
static void load_time(struct rtc *r, uint64_t now)
{
	bool bad = false;
	unsigned sec = clamp(dec(r, r->cmos[RTC_SECONDS]), 0, 59, &bad);
	unsigned min = clamp(dec(r, r->cmos[RTC_MINUTES]), 0, 59, &bad);
	unsigned hour = clamp(dec_hour(r, r->cmos[RTC_HOURS]), 0, 23, &bad);
	unsigned month = clamp(dec(r, r->cmos[RTC_MONTH]), 1, 12, &bad);
	unsigned year = clamp(dec(r, r->cmos[RTC_YEAR]), 0, 99, &bad);
	unsigned cent = clamp(dec(r, r->cmos[RTC_CENTURY]), 0, 99, &bad);
	int64_t full = cent * 100 + year;
	unsigned day = clamp(dec(r, r->cmos[RTC_DAY]), 1,
			     days_in_month(full, month), &bad);

	if (bad)
		rtc_reject(r, "rtc: time or date byte out of range, clamped");
	if (now > r->base_ns)
		r->base_ns = now - (now - r->base_ns) % NS_PER_S;
	else
		r->base_ns = now;
	r->base_secs = days_from_civil(full, month, day) * SECS_PER_DAY +
		       hour * 3600 + min * 60 + sec;
}

/* ---- flags and IRQ 8 -------------------------------------------------- */

/* Clocks of 32768 Hz since the epoch, and back (edge k's time). */
static uint64_t tick32(const struct rtc *r, uint64_t ns)
{
	uint64_t d = ns > r->epoch_ns ? ns - r->epoch_ns : 0;

	return d / NS_PER_S * RTC_FREQ + d % NS_PER_S * RTC_FREQ / NS_PER_S;
}

static uint64_t tick32_ns(const struct rtc *r, uint64_t k)
{
	uint64_t s = k / RTC_FREQ, ns;

	if (s >= UINT64_MAX / NS_PER_S)
		return UINT64_MAX;
	ns = s * NS_PER_S + (k % RTC_FREQ * NS_PER_S + RTC_FREQ - 1) / RTC_FREQ;
	return ns >= UINT64_MAX - r->epoch_ns ? UINT64_MAX : r->epoch_ns + ns;
}

/* The periodic interrupt period in 32768 Hz clocks (0: off). */
static uint32_t periodic_ticks(const struct rtc *r)
{
	unsigned rs = r->cmos[RTC_REG_A] & 15;

	if (!rs)
		return 0;
	return rs < 3 ? 1u << (rs + 6) : 1u << (rs - 1);
}

static bool alarm_field(uint8_t alarm, uint8_t now)
{
	return (alarm & 0xc0) == 0xc0 || alarm == now;
}

/* The chip compares the alarm bytes with the time bytes after an update. */
static bool alarm_match(const struct rtc *r, int64_t s)
{
	unsigned sod = (unsigned)(s - floor_div(s, SECS_PER_DAY) *
				  SECS_PER_DAY);

	return alarm_field(r->cmos[RTC_HOURS_ALARM], enc_hour(r, sod / 3600)) &&
	       alarm_field(r->cmos[RTC_MINUTES_ALARM], enc(r, sod / 60 % 60)) &&
	       alarm_field(r->cmos[RTC_SECONDS_ALARM], enc(r, sod % 60));
}

/* IRQF and the IRQ pin follow the flags and their enables. */
static void update_irq(struct rtc *r)
{
	uint8_t c = r->cmos[RTC_REG_C] & (RTC_C_PF | RTC_C_AF | RTC_C_UF);
	bool irq = c & r->cmos[RTC_REG_B];      /* PIE/AIE/UIE share bits */

	r->cmos[RTC_REG_C] = (uint8_t)(c | (irq ? RTC_C_IRQF : 0));
	if (irq != r->irq_line) {
		r->irq_line = irq;
		r->p->irq_set(r->p->ctx, RTC_IRQ, irq);
	}
}

static void refresh_flags(struct rtc *r, uint64_t now)
{
	uint32_t period = periodic_ticks(r);
	uint64_t u0, u1, n;

	if (now <= r->flags_ns)
		return;
	if (period && tick32(r, now) / period > tick32(r, r->flags_ns) / period)
		r->cmos[RTC_REG_C] |= RTC_C_PF;
	if (!(r->cmos[RTC_REG_B] & RTC_B_SET)) {
		u0 = updates_at(r, r->flags_ns);
		u1 = updates_at(r, now);
		if (u1 > u0) {
			r->cmos[RTC_REG_C] |= RTC_C_UF;
			/* The alarm is a daily pattern: a day of updates
			 * covers any longer gap. */
			n = u1 - u0 > SECS_PER_DAY ? SECS_PER_DAY : u1 - u0;
			for (uint64_t k = u1 - n + 1; k <= u1; k++) {
				if (alarm_match(r, r->base_secs + (int64_t)k)) {
					r->cmos[RTC_REG_C] |= RTC_C_AF;
					break;
				}
			}
		}
	}
	r->flags_ns = now;
	update_irq(r);
}

uint64_t rtc_next_event_ns(struct rtc *r)
{
	uint8_t b = r->cmos[RTC_REG_B];
	uint32_t period = periodic_ticks(r);
	uint64_t best = UINT64_MAX, t, u;

	if (r->cmos[RTC_REG_C] & RTC_C_IRQF)
		return UINT64_MAX;
	if ((b & RTC_B_PIE) && period)
		best = tick32_ns(r, (tick32(r, r->flags_ns) / period + 1) *
				 period);
	/* The alarm is checked at every update: wake for each. */
	if ((b & (RTC_B_UIE | RTC_B_AIE)) && !(b & RTC_B_SET)) {
		u = updates_at(r, r->flags_ns) + 1;
		t = u > (UINT64_MAX - r->base_ns) / NS_PER_S ? UINT64_MAX :
		    r->base_ns + u * NS_PER_S;
		if (t < best)
			best = t;
	}
	return best;
}

void rtc_update(struct rtc *r)
{
	refresh_flags(r, now_ns(r));
}

/* ---- registers -------------------------------------------------------- */

static bool time_byte(uint8_t idx)
{
	return idx == RTC_SECONDS || idx == RTC_MINUTES || idx == RTC_HOURS ||
	       (idx >= RTC_WEEKDAY && idx <= RTC_YEAR) || idx == RTC_CENTURY;
}

static uint8_t read_reg(struct rtc *r, uint8_t idx, uint64_t now)
{
	bool set = r->cmos[RTC_REG_B] & RTC_B_SET;
	uint8_t v;

	if (time_byte(idx)) {
		if (!set)
			store_time(r, clock_secs(r, now));
		return r->cmos[idx];
	}
	switch (idx) {
	case RTC_REG_A:
		v = r->cmos[RTC_REG_A] & ~RTC_A_UIP;
		if (!set && now >= r->base_ns &&
		    (now - r->base_ns) % NS_PER_S >= NS_PER_S - UIP_NS)
			v |= RTC_A_UIP;
		return v;
	case RTC_REG_C:
		v = r->cmos[RTC_REG_C];
		r->cmos[RTC_REG_C] = 0;
		update_irq(r);
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return r->cmos[idx];
	}
}

static void write_b(struct rtc *r, uint8_t v, uint64_t now)
{
	uint8_t old = r->cmos[RTC_REG_B];

	/* SET clears UIE on the chip. */
	if (v & RTC_B_SET)
		v &= ~RTC_B_UIE;
	r->cmos[RTC_REG_B] = v;
	/* Entering SET freezes the time bytes, in the format just written
	 * (the model's reads always follow B's format; see rtc.h). */
	if (!(old & RTC_B_SET) && (v & RTC_B_SET))
		store_time(r, clock_secs(r, now));
	if ((old & RTC_B_SET) && !(v & RTC_B_SET))
		load_time(r, now);
	update_irq(r);
}

static void write_reg(struct rtc *r, uint8_t idx, uint8_t v, uint64_t now)
{
	if (time_byte(idx)) {
		if (r->cmos[RTC_REG_B] & RTC_B_SET) {
			r->cmos[idx] = v;
		} else {
			store_time(r, clock_secs(r, now));
			r->cmos[idx] = v;
			load_time(r, now);
		}
		return;
	}
	switch (idx) {
	case RTC_REG_A:
		r->cmos[RTC_REG_A] = v & ~RTC_A_UIP;
		break;
	case RTC_REG_B:
		write_b(r, v, now);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;          /* read-only */
	default:
		r->cmos[idx] = v;
	}
}

static void byte_io(void *dev, uint16_t port, bool write, uint8_t *v)
{
	struct rtc *r = dev;

	uint64_t now;

	if (port == RTC_PORT_INDEX) {
		if (write) {
			r->index = *v & 0x7f;
			r->nmi_masked = *v & 0x80;
		} else {
			*v = 0xff;      /* write-only */
		}
		return;
	}
	now = now_ns(r);
	refresh_flags(r, now);
	if (write)
		write_reg(r, r->index, *v, now);
	else
		*v = read_reg(r, r->index, now);
}

static bool own_port(uint16_t port)
{
	return port == RTC_PORT_INDEX || port == RTC_PORT_DATA;
}

bool rtc_io(struct rtc *r, uint16_t port, unsigned size, bool write,
	    uint32_t *value)
{
	if (!own_port(port))
		return false;
	if (!isa_split_io(r, own_port, byte_io, port, size, write, value))
		rtc_reject(r, "rtc: bad port access size");
	return true;
}

/* ---- owner presets ---------------------------------------------------- */

bool rtc_nvram_set(struct rtc *r, uint8_t index, uint8_t value)
{
	if (index < RTC_NVRAM_FIRST || index >= RTC_CMOS_SIZE ||
	    index == RTC_CENTURY)
		return false;
	r->cmos[index] = value;
	return true;
}

uint8_t rtc_nvram_get(const struct rtc *r, uint8_t index)
{
	return index < RTC_CMOS_SIZE ? r->cmos[index] : 0xff;
}

static void set_word(struct rtc *r, uint8_t index, uint64_t v, uint64_t max)
{
	if (v > max)
		v = max;
	r->cmos[index] = (uint8_t)v;
	r->cmos[index + 1] = (uint8_t)(v >> 8);
}

/* The IBM AT checksum of 0x10-0x2d, big-endian at 0x2e. */
static void set_checksum(struct rtc *r)
{
	unsigned sum = 0;

	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += r->cmos[i];
	r->cmos[0x2e] = (uint8_t)(sum >> 8);
	r->cmos[0x2f] = (uint8_t)sum;
}

void rtc_set_memory(struct rtc *r, uint64_t below_4g, uint64_t above_4g)
{
	const uint64_t MiB = 1ull << 20;
	uint64_t ext = below_4g > MiB ? (below_4g - MiB) / 1024 : 0;
	uint64_t hi = below_4g > 16 * MiB ? (below_4g - 16 * MiB) >> 16 : 0;
	uint64_t top = above_4g >> 16;

	set_word(r, 0x15, 640, 0xffff);
	set_word(r, 0x17, ext, 0xffff);
	set_word(r, 0x30, ext, 0xffff);
	set_word(r, 0x34, hi, 0xffff);
	if (top > 0xffffff)
		top = 0xffffff;
	r->cmos[0x5b] = (uint8_t)top;
	r->cmos[0x5c] = (uint8_t)(top >> 8);
	r->cmos[0x5d] = (uint8_t)(top >> 16);
	set_checksum(r);
}

void rtc_init(struct rtc *r, const struct platform *p, int64_t unix_secs)
{
	uint64_t now;

	memset(r, 0, sizeof(*r));
	r->p = p;
	now = now_ns(r);
	r->epoch_ns = now;
	r->base_ns = now;
	r->flags_ns = now;
	if (unix_secs < MIN_SECS)
		unix_secs = MIN_SECS;
	if (unix_secs > MAX_SECS)
		unix_secs = MAX_SECS;
	r->base_secs = unix_secs;
	r->cmos[RTC_REG_A] = 0x26;
	r->cmos[RTC_REG_B] = RTC_B_24H;
	set_word(r, 0x15, 640, 0xffff);
	set_checksum(r);
	store_time(r, unix_secs);
}
