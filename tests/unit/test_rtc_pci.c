/*
 * Host tests for the CMOS RTC (drivers/rtc.c) and the PCI configuration
 * mechanism #1 bus (drivers/pcicfg.c). RTC: BCD and binary, 12/24 h, the
 * calendar across month, year, leap and century ends, SET and setting the
 * time, UIP, register C flags and IRQ 8, NVRAM and the memory bytes. PCI:
 * absent functions, the host bridge, read-only ids, BAR sizing, byte and
 * word offsets in CONFIG_DATA, the enable bit and reserved address bits.
 */
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "pcicfg.h"
#include "rtc.h"

#define MS      1000000ull
#define SEC     1000000000ull

static struct {
	uint64_t now;
	bool level[16];
	unsigned rises[16];
	unsigned logs;
} f;

static void f_irq(void *ctx, unsigned irq, bool level)
{
	if (irq >= 16)
		return;
	if (level && !f.level[irq])
		f.rises[irq]++;
	f.level[irq] = level;
}

static uint64_t f_now(void *ctx)
{
	return f.now;
}

static void f_log(void *ctx, const char *msg)
{
	f.logs++;
}

static const struct platform plat = {
	.irq_set = f_irq, .now_ns = f_now, .log = f_log,
};

/* ---- RTC -------------------------------------------------------------- */

static struct rtc rtc;

static void rtc_reset(int64_t unix_secs)
{
	memset(&f, 0, sizeof(f));
	f.now = 12345 * MS;
	rtc_init(&rtc, &plat, unix_secs);
}

static uint8_t cmos_read(uint8_t idx)
{
	uint32_t x = idx;

	rtc_io(&rtc, RTC_PORT_INDEX, 1, true, &x);
	x = 0xdeadbeef;
	rtc_io(&rtc, RTC_PORT_DATA, 1, false, &x);
	return (uint8_t)x;
}

static void cmos_write(uint8_t idx, uint8_t v)
{
	uint32_t x = idx;

	rtc_io(&rtc, RTC_PORT_INDEX, 1, true, &x);
	x = v;
	rtc_io(&rtc, RTC_PORT_DATA, 1, true, &x);
}

/* The date and time bytes as one string, for compact checks. */
static const char *now_str(void)
{
	static char s[64];

	snprintf(s, sizeof(s), "%02x%02x-%02x-%02x %02x:%02x:%02x wd%x",
		 cmos_read(RTC_CENTURY), cmos_read(RTC_YEAR),
		 cmos_read(RTC_MONTH), cmos_read(RTC_DAY),
		 cmos_read(RTC_HOURS), cmos_read(RTC_MINUTES),
		 cmos_read(RTC_SECONDS), cmos_read(RTC_WEEKDAY));
	return s;
}

static void test_rtc_time(void)
{
	rtc_reset(1700000000);                  /* Tue 2023-11-14 22:13:20 */
	CHECK(!strcmp(now_str(), "2023-11-14 22:13:20 wd3"),
	      "BCD 24 h after init: %s", now_str());
	CHECK(cmos_read(RTC_REG_A) == 0x26 && cmos_read(RTC_REG_B) == 0x02 &&
	      cmos_read(RTC_REG_D) == 0x80, "A, B, D power-on values");
	f.now += 999 * MS;
	CHECK(cmos_read(RTC_SECONDS) == 0x20, "0.999 s later: same second");
	f.now += MS;
	CHECK(cmos_read(RTC_SECONDS) == 0x21, "1 s later: next second");
	f.now += 3600 * SEC;
	CHECK(!strcmp(now_str(), "2023-11-14 23:13:21 wd3"),
	      "an hour later: %s", now_str());

	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_BINARY);
	CHECK(cmos_read(RTC_HOURS) == 23 && cmos_read(RTC_MINUTES) == 13 &&
	      cmos_read(RTC_YEAR) == 23 && cmos_read(RTC_CENTURY) == 20 &&
	      cmos_read(RTC_MONTH) == 11, "binary mode: plain numbers");
	cmos_write(RTC_REG_B, RTC_B_BINARY);
	CHECK(cmos_read(RTC_HOURS) == (0x80 | 11),
	      "binary 12 h: 23:xx is PM 11 (0x%02x)", cmos_read(RTC_HOURS));
	cmos_write(RTC_REG_B, 0);
	CHECK(cmos_read(RTC_HOURS) == 0x91,
	      "BCD 12 h: 23:xx is 0x91 (0x%02x)", cmos_read(RTC_HOURS));

	/* Midnight and noon in 12 h mode. */
	rtc_reset(1704067199 - 12 * 3600);      /* 2023-12-31 11:59:59 */
	cmos_write(RTC_REG_B, 0);
	CHECK(cmos_read(RTC_HOURS) == 0x11, "12 h: 11 AM is 0x11");
	f.now += SEC;
	CHECK(cmos_read(RTC_HOURS) == 0x92, "12 h: noon is PM 12 (0x%02x)",
	      cmos_read(RTC_HOURS));
	f.now += 12 * 3600 * SEC;
	CHECK(cmos_read(RTC_HOURS) == 0x12, "12 h: midnight is AM 12 (0x%02x)",
	      cmos_read(RTC_HOURS));

	/* Year end, leap day, century leap day. */
	rtc_reset(1704067199);
	f.now += SEC;
	CHECK(!strcmp(now_str(), "2024-01-01 00:00:00 wd2"),
	      "new year: %s", now_str());
	rtc_reset(1709164799);
	f.now += SEC;
	CHECK(!strcmp(now_str(), "2024-02-29 00:00:00 wd5"),
	      "leap day 2024: %s", now_str());
	rtc_reset(951782399);
	f.now += SEC;
	CHECK(!strcmp(now_str(), "2000-02-29 00:00:00 wd3"),
	      "leap day 2000: %s", now_str());
	rtc_reset(4102444799);                  /* 2099-12-31 23:59:59 */
	f.now += SEC;
	CHECK(!strcmp(now_str(), "2100-01-01 00:00:00 wd6"),
	      "century rolls: %s", now_str());
	f.now += 59 * 24 * 3600 * SEC;
	CHECK(!strcmp(now_str(), "2100-03-01 00:00:00 wd2"),
	      "2100 has no leap day: %s", now_str());
	rtc_reset(INT64_MAX);
	CHECK(!strcmp(now_str(), "9999-12-31 23:59:59 wd6"),
	      "an absurd start time is clamped: %s", now_str());
	f.now += 10 * SEC;
	CHECK(cmos_read(RTC_SECONDS) == 0x59, "and the clock stops at the end");
}

static void test_rtc_set(void)
{
	rtc_reset(1700000000);
	f.now += 300 * MS;
	/* Linux's mc146818_set_time: SET, write the bytes, clear SET. */
	cmos_write(RTC_REG_B, RTC_B_SET | RTC_B_24H);
	f.now += 5 * SEC;
	CHECK(cmos_read(RTC_SECONDS) == 0x20, "SET: the clock stops");
	CHECK(!(cmos_read(RTC_REG_A) & RTC_A_UIP), "SET: UIP stays clear");
	cmos_write(RTC_SECONDS, 0x58);
	cmos_write(RTC_MINUTES, 0x59);
	cmos_write(RTC_HOURS, 0x23);
	cmos_write(RTC_DAY, 0x31);
	cmos_write(RTC_MONTH, 0x12);
	cmos_write(RTC_YEAR, 0x99);
	cmos_write(RTC_CENTURY, 0x19);
	CHECK(cmos_read(RTC_SECONDS) == 0x58, "SET: bytes read back as written");
	cmos_write(RTC_REG_B, RTC_B_24H);
	CHECK(!strcmp(now_str(), "1999-12-31 23:59:58 wd6"),
	      "SET cleared: the clock starts from the bytes: %s", now_str());
	f.now += 2 * SEC;
	CHECK(!strcmp(now_str(), "2000-01-01 00:00:00 wd7"),
	      "and runs into 2000: %s", now_str());

	/* A single byte written while running. */
	cmos_write(RTC_MINUTES, 0x30);
	f.now += SEC;
	CHECK(!strcmp(now_str(), "2000-01-01 00:30:01 wd7"),
	      "minutes written while running: %s", now_str());

	/* Binary setting, 12 h. */
	cmos_write(RTC_REG_B, RTC_B_SET | RTC_B_BINARY);
	cmos_write(RTC_HOURS, 0x80 | 7);        /* 7 PM */
	cmos_write(RTC_REG_B, RTC_B_BINARY);
	CHECK(cmos_read(RTC_HOURS) == (0x80 | 7) && cmos_read(RTC_YEAR) == 0 &&
	      cmos_read(RTC_CENTURY) == 20 && cmos_read(RTC_MINUTES) == 30,
	      "SET with a switch to 12 h binary: the other bytes were frozen "
	      "in the new format; 7 PM set");
	cmos_write(RTC_REG_B, RTC_B_BINARY | RTC_B_24H);
	CHECK(cmos_read(RTC_HOURS) == 19, "switched to 24 h: 7 PM reads 19 "
	      "(%u)", cmos_read(RTC_HOURS));
	cmos_write(RTC_REG_B, RTC_B_24H);

	/* Garbage is clamped and logged, never trusted. */
	f.logs = 0;
	cmos_write(RTC_REG_B, RTC_B_SET | RTC_B_24H);
	cmos_write(RTC_SECONDS, 0xff);
	cmos_write(RTC_MONTH, 0x00);
	cmos_write(RTC_DAY, 0x9a);
	cmos_write(RTC_HOURS, 0x77);
	cmos_write(RTC_REG_B, RTC_B_24H);
	CHECK(f.logs == 1 && !strcmp(now_str(), "2000-01-31 23:30:59 wd2"),
	      "bad bytes: logged once, clamped: %s", now_str());
	cmos_write(RTC_REG_B, RTC_B_SET | RTC_B_24H);
	cmos_write(RTC_MONTH, 0x02);
	cmos_write(RTC_DAY, 0x30);
	cmos_write(RTC_YEAR, 0x01);
	cmos_write(RTC_REG_B, RTC_B_24H);
	CHECK(!strcmp(now_str(), "2001-02-28 23:30:59 wd4"),
	      "day 30 in February 2001 clamps to 28: %s", now_str());
	cmos_write(RTC_REG_B, RTC_B_SET | RTC_B_24H);
	cmos_write(RTC_DAY, 0x29);
	cmos_write(RTC_YEAR, 0x00);
	cmos_write(RTC_CENTURY, 0x21);
	cmos_write(RTC_REG_B, RTC_B_24H);
	CHECK(!strcmp(now_str(), "2100-02-28 23:30:59 wd1"),
	      "2100-02-29 does not exist (century rule): %s", now_str());
	cmos_write(RTC_REG_B, RTC_B_SET | RTC_B_24H);
	cmos_write(RTC_DAY, 0x29);
	cmos_write(RTC_CENTURY, 0x20);
	cmos_write(RTC_REG_B, RTC_B_24H);
	CHECK(!strcmp(now_str(), "2000-02-29 23:30:59 wd3"),
	      "2000-02-29 does (400-year rule): %s", now_str());
	f.logs = 0;
	cmos_write(RTC_REG_B, RTC_B_SET | RTC_B_24H);
	cmos_write(RTC_DAY, 0x30);
	cmos_write(RTC_YEAR, 0x24);
	cmos_write(RTC_REG_B, RTC_B_24H);
	CHECK(f.logs == 1 && !strcmp(now_str(), "2024-02-29 23:30:59 wd5"),
	      "2024-02-30 clamps to the leap day: %s", now_str());
}

static void test_rtc_regs(void)
{
	uint32_t x;
	unsigned uip = 0;
	uint64_t next;

	rtc_reset(1700000000);
	f.now += 999700 * 1000;
	for (unsigned i = 0; i < 600; i++) {
		uip += !!(cmos_read(RTC_REG_A) & RTC_A_UIP);
		f.now += 1000;
	}
	CHECK(uip == 244, "UIP set in the 244 us before each update (%u of "
	      "600 1-us samples around one)", uip);
	cmos_write(RTC_REG_A, 0xaf);
	CHECK((cmos_read(RTC_REG_A) & 0x7f) == 0x2f,
	      "register A: divider and rate stored, UIP not writable");
	(void)cmos_read(RTC_REG_C);
	cmos_write(RTC_REG_D, 0x00);
	cmos_write(RTC_REG_C, 0xff);
	CHECK(cmos_read(RTC_REG_D) == 0x80 && cmos_read(RTC_REG_C) == 0x00,
	      "C and D are read-only; D has VRT");

	/* NVRAM, and the index register's NMI bit. */
	for (unsigned i = RTC_NVRAM_FIRST; i < 128; i++)
		if (i != RTC_CENTURY)
			cmos_write((uint8_t)i, (uint8_t)(i * 7));
	x = 0;
	for (unsigned i = RTC_NVRAM_FIRST; i < 128; i++)
		if (i != RTC_CENTURY)
			x += cmos_read((uint8_t)i) != (uint8_t)(i * 7);
	CHECK(x == 0, "NVRAM 0x0e-0x7f holds what was written");
	x = 0x80 | 0x40;
	rtc_io(&rtc, RTC_PORT_INDEX, 1, true, &x);
	CHECK(rtc.nmi_masked && rtc.index == 0x40, "index bit 7: NMI mask "
	      "stored, index 0x40");
	x = 0;
	rtc_io(&rtc, RTC_PORT_DATA, 1, false, &x);
	CHECK(x == (uint8_t)(0x40 * 7), "the data port follows the index");
	x = 0xc0;
	rtc_io(&rtc, RTC_PORT_INDEX, 1, true, &x);
	CHECK(rtc.index == 0x40, "index 0xc0 is register 0x40 (7 bits)");
	x = 0;
	rtc_io(&rtc, RTC_PORT_INDEX, 1, false, &x);
	CHECK(x == 0xff, "the index port is write-only");
	x = 0x12345678;
	CHECK(rtc_io(&rtc, RTC_PORT_DATA, 3, false, &x) && x == 0xffffffff &&
	      !rtc_io(&rtc, 0x72, 1, false, &x) && !rtc_io(&rtc, 0x6f, 1,
							    false, &x),
	      "bad size logged, reads all ones; 0x72 is not ours");

	/* Owner presets. */
	rtc_reset(0);
	rtc_set_memory(&rtc, 3ull << 30, 5ull << 30);
	CHECK(cmos_read(0x15) == 0x80 && cmos_read(0x16) == 0x02,
	      "base memory 640 KiB");
	CHECK(cmos_read(0x17) == 0xff && cmos_read(0x18) == 0xff &&
	      cmos_read(0x30) == 0xff && cmos_read(0x31) == 0xff,
	      "extended memory capped at 0xffff KiB");
	CHECK(cmos_read(0x34) == (uint8_t)((3072 - 16) * 16) &&
	      cmos_read(0x35) == ((3072 - 16) * 16) >> 8,
	      "0x34/0x35: 64 KiB blocks above 16 MiB (0x%02x%02x)",
	      cmos_read(0x35), cmos_read(0x34));
	CHECK(cmos_read(0x5b) == 0 && cmos_read(0x5c) == 0x40 &&
	      cmos_read(0x5d) == 0x01, "0x5b-0x5d: 64 KiB blocks above 4 GiB");
	x = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		x += cmos_read((uint8_t)i);
	CHECK(cmos_read(0x2e) == (uint8_t)(x >> 8) &&
	      cmos_read(0x2f) == (uint8_t)x, "checksum at 0x2e/0x2f");
	CHECK(rtc_nvram_set(&rtc, 0x10, 0x40) && cmos_read(0x10) == 0x40 &&
	      !rtc_nvram_set(&rtc, 0x0c, 1) && !rtc_nvram_set(&rtc, 0x32, 1) &&
	      !rtc_nvram_set(&rtc, 0x80, 1) && rtc_nvram_get(&rtc, 0x10) == 0x40,
	      "nvram_set: NVRAM only, not registers or the century");

	/* Register C: update flag, read clears, IRQ 8. */
	rtc_reset(1700000000);
	CHECK(rtc_next_event_ns(&rtc) == UINT64_MAX, "no interrupt enabled: "
	      "no event");
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	next = rtc_next_event_ns(&rtc);
	CHECK(next == f.now + SEC, "UIE: next event at the next update");
	f.now = next;
	rtc_update(&rtc);
	CHECK(f.level[8] && f.rises[8] == 1, "update: IRQ 8 raised");
	CHECK(rtc_next_event_ns(&rtc) == UINT64_MAX,
	      "IRQF set: nothing more until C is read");
	CHECK(cmos_read(RTC_REG_C) == (RTC_C_IRQF | RTC_C_PF | RTC_C_UF),
	      "C reads IRQF | UF, and PF (set at the rate even without PIE)");
	CHECK(!f.level[8] && cmos_read(RTC_REG_C) == 0,
	      "reading C lowered IRQ 8 and cleared the flags");
	f.now += 10 * SEC;
	rtc_update(&rtc);
	CHECK(f.rises[8] == 2, "10 s unattended: one more IRQ 8 edge");
	cmos_write(RTC_REG_B, RTC_B_24H);
	CHECK(!f.level[8] && cmos_read(RTC_REG_C) == (RTC_C_PF | RTC_C_UF),
	      "UIE cleared: line low, UF stays without IRQF");

	/* Periodic interrupt at 1024 Hz. */
	rtc_reset(1700000000);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	x = 0;
	for (unsigned i = 0; i < 1024; i++) {
		f.now = rtc_next_event_ns(&rtc);
		rtc_update(&rtc);
		x += (cmos_read(RTC_REG_C) & (RTC_C_IRQF | RTC_C_PF)) ==
		     (RTC_C_IRQF | RTC_C_PF);
	}
	CHECK(x == 1024 && f.rises[8] == 1024, "PIE rate 6: 1024 periodic "
	      "interrupts (%u, %u)", x, f.rises[8]);
	CHECK(f.now - 12345 * MS == SEC, "and they took exactly one second "
	      "(%llu ns)", (unsigned long long)(f.now - 12345 * MS));
	cmos_write(RTC_REG_A, 0x20);
	CHECK(rtc_next_event_ns(&rtc) == UINT64_MAX, "rate 0: no periodic "
	      "interrupt");

	/* Alarm: 22:13:25, seconds matching; then "don't care" bytes. */
	rtc_reset(1700000000);
	cmos_write(RTC_HOURS_ALARM, 0x22);
	cmos_write(RTC_MINUTES_ALARM, 0x13);
	cmos_write(RTC_SECONDS_ALARM, 0x25);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	for (unsigned i = 0; i < 4; i++) {
		f.now = rtc_next_event_ns(&rtc);
		rtc_update(&rtc);
	}
	CHECK(!f.level[8], "alarm: not yet at 22:13:24");
	f.now = rtc_next_event_ns(&rtc);
	rtc_update(&rtc);
	CHECK(f.level[8] && cmos_read(RTC_REG_C) == (RTC_C_IRQF | RTC_C_PF |
						     RTC_C_AF | RTC_C_UF),
	      "alarm at 22:13:25: IRQF | AF (| UF | PF)");
	cmos_write(RTC_SECONDS_ALARM, 0xc0);
	cmos_write(RTC_MINUTES_ALARM, 0xff);
	f.now += 90 * SEC;
	rtc_update(&rtc);
	CHECK(cmos_read(RTC_REG_C) & RTC_C_AF, "don't-care bytes: the alarm "
	      "matches every second of the hour");
	cmos_write(RTC_HOURS_ALARM, 0x03);
	cmos_write(RTC_MINUTES_ALARM, 0x00);
	cmos_write(RTC_SECONDS_ALARM, 0x00);
	f.now += 3 * 86400 * SEC;
	rtc_update(&rtc);
	CHECK(cmos_read(RTC_REG_C) & RTC_C_AF, "an alarm passed while the "
	      "owner slept for days still sets AF");
}

/* ---- PCI -------------------------------------------------------------- */

static struct pcicfg pci;

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn,
			 unsigned reg)
{
	return PCICFG_ENABLE | bus << 16 | dev << 11 | fn << 8 | reg;
}

static void outl(uint16_t port, uint32_t v)
{
	pcicfg_io(&pci, port, 4, true, &v);
}

static uint32_t in(uint16_t port, unsigned size)
{
	uint32_t x = 0xdeadbeef;

	pcicfg_io(&pci, port, size, false, &x);
	return x;
}

static void out(uint16_t port, unsigned size, uint32_t v)
{
	pcicfg_io(&pci, port, size, true, &v);
}

static uint32_t cfg_read(unsigned dev, unsigned fn, unsigned reg)
{
	outl(PCICFG_PORT_ADDRESS, cfg_addr(0, dev, fn, reg));
	return in(PCICFG_PORT_DATA, 4);
}

static void cfg_write(unsigned dev, unsigned fn, unsigned reg, uint32_t v)
{
	outl(PCICFG_PORT_ADDRESS, cfg_addr(0, dev, fn, reg));
	out(PCICFG_PORT_DATA, 4, v);
}

/* An e1000-like function: 128 KiB memory BAR0, 64-byte I/O BAR1, a 64-bit
 * prefetchable 1 MiB BAR2/3; command, latency and interrupt line
 * writable. */
static int add_nic(unsigned dev)
{
	uint8_t config[256] = { 0 }, mask[256] = { 0 };
	const uint32_t bars[6] = { 128 << 10, 64, 1 << 20, 0, 0, 0 };

	config[0x00] = 0x86;
	config[0x01] = 0x80;
	config[0x02] = 0x0e;
	config[0x03] = 0x10;
	config[0x06] = 0x10;                    /* capabilities list */
	config[0x0b] = 0x02;                    /* network controller */
	config[0x10] = 0x00;
	config[0x12] = 0xbf;
	config[0x13] = 0xfe;                    /* preset 0xfebf0000 */
	config[0x14] = 0x01;                    /* I/O */
	config[0x18] = 0x0c;                    /* 64-bit prefetchable */
	config[0x3d] = 0x01;                    /* INTA# */
	mask[0x04] = 0x07;
	mask[0x07] = 0xf9;                      /* status errors, RW1C */
	mask[0x0d] = 0xff;
	mask[0x3c] = 0xff;
	memset(&mask[0x10], 0xff, 24);          /* overridden by the sizes */
	return pcicfg_add_device(&pci, (uint8_t)dev, 0, config, mask, bars);
}

static void test_pci(void)
{
	uint8_t config[256] = { 0 }, mask[256] = { 0 };
	uint32_t bars[6] = { 0 };
	uint32_t x;

	memset(&f, 0, sizeof(f));
	pcicfg_init(&pci, &plat);
	CHECK(cfg_read(0, 0, 0) == 0x12378086, "00:00.0 is the 440FX host "
	      "bridge (0x%08x)", cfg_read(0, 0, 0));
	CHECK(cfg_read(0, 0, 8) >> 8 == 0x060000, "host bridge class 06 00 00");
	CHECK(cfg_read(1, 0, 0) == 0xffffffff && cfg_read(0, 1, 0) ==
	      0xffffffff && cfg_read(31, 7, 0x3c) == 0xffffffff,
	      "absent functions read all ones");
	outl(PCICFG_PORT_ADDRESS, cfg_addr(1, 0, 0, 0));
	CHECK(in(PCICFG_PORT_DATA, 4) == 0xffffffff && in(PCICFG_PORT_DATA + 2,
							   2) == 0xffff,
	      "bus 1 does not exist");
	cfg_write(0, 0, 0, 0);
	cfg_write(0, 0, 8, 0);
	CHECK(cfg_read(0, 0, 0) == 0x12378086 && cfg_read(0, 0, 8) ==
	      0x06000002, "host bridge ids and class are read-only");

	CHECK(add_nic(3) == 0, "add a function at 00:03.0");
	CHECK(cfg_read(3, 0, 0) == 0x100e8086, "its ids read back");
	cfg_write(3, 0, 0, 0xffffffff);
	CHECK(cfg_read(3, 0, 0) == 0x100e8086, "ids are read-only");
	CHECK(cfg_read(4, 0, 0) == 0xffffffff && cfg_read(3, 1, 0) ==
	      0xffffffff, "neighbours still absent");
	cfg_write(4, 0, 0x3c, 0x0b);
	CHECK(cfg_read(4, 0, 0x3c) == 0xffffffff, "writes to an absent "
	      "function are dropped");

	/* BAR sizing as firmware does it. */
	CHECK(cfg_read(3, 0, 0x10) == 0xfebe0000, "BAR0 preset 0xfebf0000 "
	      "loses the bits below its 128 KiB size");
	cfg_write(3, 0, 0x10, 0xffffffff);
	CHECK(cfg_read(3, 0, 0x10) == 0xfffe0000, "BAR0 all ones reads the "
	      "128 KiB size mask (0x%08x)", cfg_read(3, 0, 0x10));
	cfg_write(3, 0, 0x10, 0xfeb00000);
	CHECK(cfg_read(3, 0, 0x10) == 0xfeb00000, "BAR0 takes an address");
	cfg_write(3, 0, 0x10, 0xfeb3234f);
	CHECK(cfg_read(3, 0, 0x10) == 0xfeb20000,
	      "BAR0 drops address bits below its size, type bits stay 0 "
	      "(0x%08x)", cfg_read(3, 0, 0x10));
	cfg_write(3, 0, 0x14, 0xffffffff);
	CHECK(cfg_read(3, 0, 0x14) == 0xffffffc1, "I/O BAR1 all ones: 64-byte "
	      "mask with the I/O bit (0x%08x)", cfg_read(3, 0, 0x14));
	cfg_write(3, 0, 0x18, 0xffffffff);
	cfg_write(3, 0, 0x1c, 0xffffffff);
	CHECK(cfg_read(3, 0, 0x18) == 0xfff0000c && cfg_read(3, 0, 0x1c) ==
	      0xffffffff, "64-bit BAR2/3: 1 MiB mask, upper half all ones");
	cfg_write(3, 0, 0x1c, 0x00000001);
	CHECK(cfg_read(3, 0, 0x1c) == 1, "64-bit BAR upper half takes an "
	      "address above 4 GiB");
	cfg_write(3, 0, 0x20, 0xffffffff);
	CHECK(cfg_read(3, 0, 0x20) == 0, "unimplemented BAR4 stays 0 even "
	      "with a writable mask");

	/* Byte and word accesses at offsets within CONFIG_DATA. */
	outl(PCICFG_PORT_ADDRESS, cfg_addr(0, 3, 0, 0));
	CHECK(in(PCICFG_PORT_DATA + 2, 2) == 0x100e, "word at 0xcfe: device id");
	CHECK(in(PCICFG_PORT_DATA + 1, 1) == 0x80, "byte at 0xcfd: vendor "
	      "high byte");
	CHECK(in(PCICFG_PORT_DATA + 3, 1) == 0x10, "byte at 0xcff");
	CHECK(in(PCICFG_PORT_DATA + 1, 2) == 0x0e80, "unaligned word at 0xcfd");
	CHECK(in(PCICFG_PORT_DATA + 2, 4) == 0xffff100e, "dword at 0xcfe: the "
	      "bytes past 0xcff float high");
	outl(PCICFG_PORT_ADDRESS, cfg_addr(0, 3, 0, 0x3c));
	out(PCICFG_PORT_DATA, 1, 0x0b);
	CHECK(cfg_read(3, 0, 0x3c) == 0x010b, "byte write: interrupt line, "
	      "pin read-only (0x%08x)", cfg_read(3, 0, 0x3c));
	outl(PCICFG_PORT_ADDRESS, cfg_addr(0, 3, 0, 0x0c));
	out(PCICFG_PORT_DATA + 1, 1, 0x40);
	CHECK(cfg_read(3, 0, 0x0c) == 0x4000, "byte write at 0xcfd lands at "
	      "offset 0x0d (latency timer)");
	outl(PCICFG_PORT_ADDRESS, cfg_addr(0, 3, 0, 0x04));
	out(PCICFG_PORT_DATA, 2, 0xffff);
	CHECK(cfg_read(3, 0, 4) == 0x00100007, "command: only the writable "
	      "bits (0x%08x)", cfg_read(3, 0, 4));

	/* Status bits are write-one-to-clear. */
	pci.fn[1].config[0x07] |= 0x30;         /* device: target aborts */
	outl(PCICFG_PORT_ADDRESS, cfg_addr(0, 3, 0, 0x04));
	out(PCICFG_PORT_DATA + 2, 2, 0x1000);
	CHECK(cfg_read(3, 0, 4) >> 16 == 0x2010, "status: writing 1 clears "
	      "that bit only, capabilities bit stays (0x%04x)",
	      cfg_read(3, 0, 4) >> 16);
	cfg_write(3, 0, 4, 0xffff0000);
	CHECK(cfg_read(3, 0, 4) >> 16 == 0x0010, "status: all error bits "
	      "cleared, command written 0");

	/* The enable bit and reserved address bits. */
	outl(PCICFG_PORT_ADDRESS, cfg_addr(0, 3, 0, 0) & ~PCICFG_ENABLE);
	CHECK(in(PCICFG_PORT_DATA, 4) == 0xffffffff, "enable clear: reads go "
	      "nowhere");
	outl(PCICFG_PORT_ADDRESS, cfg_addr(0, 3, 0, 0x3c) & ~PCICFG_ENABLE);
	out(PCICFG_PORT_DATA, 1, 0x05);
	CHECK(cfg_read(3, 0, 0x3c) == 0x010b, "enable clear: writes go "
	      "nowhere");
	f.logs = 0;
	outl(PCICFG_PORT_ADDRESS, 0xff000003 | cfg_addr(0, 3, 0, 0));
	CHECK(in(PCICFG_PORT_ADDRESS, 4) == (cfg_addr(0, 3, 0, 0)) &&
	      f.logs == 1, "CONFIG_ADDRESS reserved bits masked, logged "
	      "(0x%08x)", in(PCICFG_PORT_ADDRESS, 4));
	CHECK(in(PCICFG_PORT_DATA, 4) == 0x100e8086, "and the masked address "
	      "selects register 0");
	x = 0x12345678;
	CHECK(!pcicfg_io(&pci, PCICFG_PORT_ADDRESS, 1, false, &x) &&
	      !pcicfg_io(&pci, 0xcf9, 1, true, &x) &&
	      !pcicfg_io(&pci, PCICFG_PORT_ADDRESS, 2, false, &x) &&
	      !pcicfg_io(&pci, 0xd00, 1, false, &x) && x == 0x12345678,
	      "byte/word 0xcf8-0xcfb (0xcf9 reset) and 0xd00 are not ours");
	CHECK(pcicfg_io(&pci, PCICFG_PORT_DATA, 3, false, &x) &&
	      x == 0xffffffff && f.logs == 2, "size 3: logged, all ones");

	/* Registration rules. */
	CHECK(pcicfg_add_device(&pci, 0, 0, config, mask, NULL) == -1 &&
	      add_nic(3) == -1, "a taken slot is refused");
	CHECK(pcicfg_add_device(&pci, 32, 0, config, mask, NULL) == -1 &&
	      pcicfg_add_device(&pci, 5, 8, config, mask, NULL) == -1,
	      "device >= 32 or function >= 8 refused");
	bars[0] = 3000;
	CHECK(pcicfg_add_device(&pci, 5, 0, config, mask, bars) == -1,
	      "a BAR size that is not a power of two is refused");
	bars[0] = 8;
	CHECK(pcicfg_add_device(&pci, 5, 0, config, mask, bars) == -1,
	      "a memory BAR under 16 bytes is refused");
	config[0x10] = 1;
	bars[0] = 512;
	CHECK(pcicfg_add_device(&pci, 5, 0, config, mask, bars) == -1,
	      "an I/O BAR over 256 bytes is refused");
	config[0x10] = 0;
	config[0x24] = 0x04;
	bars[0] = 0;
	bars[5] = 4096;
	CHECK(pcicfg_add_device(&pci, 5, 0, config, mask, bars) == -1,
	      "a 64-bit BAR in the last slot is refused");
	CHECK(cfg_read(5, 0, 0) == 0xffffffff, "refused functions do not "
	      "appear");
	config[0x24] = 0;
	x = 0;
	for (unsigned d = 6; d < 32; d++)
		x += pcicfg_add_device(&pci, (uint8_t)d, 0, config, mask,
				       NULL) == 0;
	CHECK(x == PCICFG_MAX_FUNCTIONS - 2, "the table takes %u functions "
	      "in all, then refuses", PCICFG_MAX_FUNCTIONS);
}

int main(void)
{
	test_rtc_time();
	test_rtc_set();
	test_rtc_regs();
	test_pci();
	return done_testing();
}
