/*
 * An emulated MC146818-style CMOS RTC and NVRAM: index port 0x70 (bit 7 is
 * the NMI mask, stored for the owner), data port 0x71, 128 bytes:
 *
 *   0x00-0x09  seconds, alarm, minutes, alarm, hours, alarm, day of week
 *              (1 = Sunday), day, month, year; BCD or binary per register
 *              B bit 2, 12 h (bit 7 = PM) or 24 h per register B bit 1
 *   0x0a-0x0d  registers A (UIP, divider, rate), B, C (flags, read
 *              clears), D (VRT: always valid)
 *   0x0e-0x7f  NVRAM, except 0x32: the century, kept by the clock (the
 *              ACPI FADT CENTURY convention)
 *
 * The clock is a time base (Unix seconds at an update-cycle boundary)
 * plus platform->now_ns(). Reads encode the current time in the format
 * register B asks for at that moment (the chip would need the guest to
 * rewrite the time after a format change: the model is kinder). With
 * register B SET, updates stop and the time bytes are plain storage,
 * frozen in the format of the B write that set SET; clearing SET (or
 * writing a time byte while it is clear) starts the clock from them,
 * read in the format B has then. The day of week is computed from the
 * date.
 *
 * Register C's flags are evaluated lazily at each access: UF at every
 * update (once a second), AF when the time after an update matches the
 * alarm bytes (0xc0-0xff in an alarm byte matches anything), PF at the
 * register A rate. IRQ 8 is raised while IRQF (a flag with its enable
 * bit) is set and lowered when the guest reads C, as the chip's IRQ pin;
 * the owner learns when to look from rtc_next_event_ns() and calls
 * rtc_update(), as for the PIT.
 *
 * Untrusted values: a time byte out of range is clamped (and logged) when
 * the clock starts from it; writes to C, D and the UIP bit are dropped.
 */
#ifndef DRIVERS_RTC_H
#define DRIVERS_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include "platform.h"

#define RTC_PORT_INDEX  0x70
#define RTC_PORT_DATA   0x71
#define RTC_IRQ         8
#define RTC_CMOS_SIZE   128

#define RTC_SECONDS     0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES     0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS       0x04
#define RTC_HOURS_ALARM 0x05
#define RTC_WEEKDAY     0x06
#define RTC_DAY         0x07
#define RTC_MONTH       0x08
#define RTC_YEAR        0x09
#define RTC_REG_A       0x0a
#define RTC_REG_B       0x0b
#define RTC_REG_C       0x0c
#define RTC_REG_D       0x0d
#define RTC_NVRAM_FIRST 0x0e
#define RTC_CENTURY     0x32

#define RTC_A_UIP       0x80
#define RTC_B_SET       0x80
#define RTC_B_PIE       0x40
#define RTC_B_AIE       0x20
#define RTC_B_UIE       0x10
#define RTC_B_BINARY    0x04
#define RTC_B_24H       0x02
#define RTC_C_IRQF      0x80
#define RTC_C_PF        0x40
#define RTC_C_AF        0x20
#define RTC_C_UF        0x10
#define RTC_D_VRT       0x80

struct rtc {
	const struct platform *p;
	uint8_t cmos[RTC_CMOS_SIZE];    /* time bytes: only meaningful in SET */
	uint8_t index;
	bool nmi_masked;        /* index port bit 7, for the owner */

	int64_t base_secs;      /* Unix time at base_ns */
	uint64_t base_ns;       /* an update boundary: updates every 1 s on */
	uint64_t epoch_ns;      /* origin of the 32768 Hz periodic grid */
	uint64_t flags_ns;      /* register C is current up to here */
	bool irq_line;          /* last level sent to platform->irq_set */

	uint64_t rejected;      /* guest inputs logged as bad */
};

/*
 * Power-on state with the clock at `unix_secs` (UTC, clamped to years
 * 0000-9999) now: register A 0x26 (32768 Hz, 1024 Hz rate), B 0x02
 * (24 h, BCD), C 0, D VRT; NVRAM zero but base memory (640 KiB).
 */
void rtc_init(struct rtc *r, const struct platform *p, int64_t unix_secs);

/*
 * One guest port access (0x70, 0x71). `size` 1, 2 or 4: wider accesses
 * split into bytes of consecutive ports (an ISA bus), bytes on no port of
 * ours read 0xff. Port 0x70 is write-only and reads 0xff. Reads store the
 * result zero-extended from `size` bytes. Returns false (*value
 * untouched) for a port not ours.
 */
bool rtc_io(struct rtc *r, uint16_t port, unsigned size, bool write,
	    uint32_t *value);

/* When IRQ 8 may next rise (an enabled flag's next event), UINT64_MAX
 * when nothing is enabled or IRQF is already set (only a read of C can
 * lower the line first). */
uint64_t rtc_next_event_ns(struct rtc *r);

/* Evaluate the flags up to now and raise IRQ 8 if IRQF became set. */
void rtc_update(struct rtc *r);

/* Owner presets of NVRAM bytes 0x0e-0x7f (not 0x32, which the clock
 * keeps). Returns false for any other index. */
bool rtc_nvram_set(struct rtc *r, uint8_t index, uint8_t value);
uint8_t rtc_nvram_get(const struct rtc *r, uint8_t index);

/*
 * The BIOS memory size bytes: 0x15/0x16 base memory (640 KiB), 0x17/0x18
 * and 0x30/0x31 KiB above 1 MiB (at most 0xffff), 0x34/0x35 64 KiB blocks
 * above 16 MiB (at most 0xffff), 0x5b-0x5d 64 KiB blocks above 4 GiB
 * (the QEMU/SeaBIOS convention); then the standard checksum over
 * 0x10-0x2d at 0x2e (high) and 0x2f.
 */
void rtc_set_memory(struct rtc *r, uint64_t below_4g, uint64_t above_4g);

#endif
