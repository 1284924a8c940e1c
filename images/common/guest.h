/*
 * What every guest image shares, whatever it drives: the boot path from
 * boot.S's 64-bit entry (console, GDT/TSS/IDT, the multiboot2 information
 * and the command-line words all guests read), the COM1 console, test
 * mode's TAP stream and exit port, the disk pattern and its CRC, and the
 * guest's own page tables. Each image adds its devices on top (legacy.h,
 * enlightened.h) and defines trap_dispatch() itself.
 */
#ifndef GUEST_COMMON_H
#define GUEST_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isovisor/x86.h>
#include "format.h"
#include "mb2.h"
#include "memmap.h"
#include "x86/panic.h"
#include "x86/traps.h"

#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))

/* ---- boot state (boot.c) ------------------------------------------------ */
struct guest_boot {
	struct mb2_info mb2;
	uint64_t mb2_pa;                /* where the loader put it */
	const char *cmdline;
	bool under_isovisor;            /* loader name "isovisor" */
	bool test_mode;                 /* word "test" */
	uint64_t seed;                  /* "seed=N", default 1 */
};
extern struct guest_boot boot;

/* Console (with `prefix` on each line until we know the loader), CPU
 * tables, the boot information and the common command-line words, then
 * memory (mm_init). Panics on a bad magic or malformed information. Under
 * isovisor the root prefixes our lines with the partition's name, so ours
 * is dropped. */
void guest_boot_init(const char *prefix, uint32_t magic, uint64_t info);

/* The rest of a boot: the banner ("isovisor <image> guest <version>
 * (<native boot or child partition>; <kind>)", the loader, the command
 * line, RAM); then with "test", the TAP stream around `tests` and the
 * test-exit port; without, `inventory` (what the machine offers) and a
 * halt. */
extern void (*guest_before_exit)(void);     /* after the plan, if set */
void guest_run(const char *image, const char *kind, void (*tests)(void),
	       void (*inventory)(void)) __attribute__((noreturn));

/* boot.S's two early panic lines, which it prints before any C runs,
 * with the image's console prefix. */
#define GUEST_BOOT_MESSAGES(prefix)                                        \
	const char boot_msg_no_multiboot[] =                               \
		prefix "panic: not started by a multiboot2 loader\r\n";     \
	const char boot_msg_no_long_mode[] =                               \
		prefix "panic: this CPU has no long mode (x86-64)\r\n"


/* Port 0xf4: 0 pass, 1 fail (QEMU's isa-debug-exit, or the root's
 * test-exit device); then halt, in case neither is there. */
void test_exit(bool pass) __attribute__((noreturn));

/* The linker script's bounds of the loaded image (guest.ld). */
extern char __image_start[], __image_end[];

/* ---- console (console.c): COM1, polled ---------------------------------- */
void console_init(void);
/* What starts each line (e.g. "legacy: "); NULL for nothing. Natively
 * nobody prefixes our lines; under isovisor the root does and we must
 * not. */
void console_set_prefix(const char *prefix);
/* Any piece of a line; the prefix goes out with a line's first byte. */
void console_write(const char *s, size_t len);
/* Whole lines (a missing final newline is added). */
void kprint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint8_t uart_reg_read(unsigned reg);
void uart_reg_write(unsigned reg, uint8_t v);
/* Wait (bounded) until the transmitter is idle; false on timeout. */
bool uart_drain(void);

#define UART_IIR 2
#define UART_LCR 3
#define UART_LSR 5
#define UART_SCR 7
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

/* ---- test mode (tap.c) -------------------------------------------------- */
/* ---- measurements (measure.c) ---------------------------------------------- */
uint64_t guest_tsc(void);
void samples_sort(uint64_t *v, unsigned n);
/* Sorts v, then prints "# bench NAME median cycles median min= max= p99= n=". */
void samples_print(const char *name, uint64_t *v, unsigned n);

void tap_begin(void);
void tap_result(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Plan and final line; true when every check passed. */
bool tap_end(void);

/* ---- pattern and checksum (pattern.c) ----------------------------------- */
#define PATTERN_SECTOR_BYTES 512
/* Sector `lba` of the test pattern for `seed`: 64 successive outputs of a
 * xorshift64 generator (13, 7, 17) whose state starts at splitmix64(seed
 * ^ lba * 0x9e3779b97f4a7c15) (or a fixed constant if that is 0),
 * stored little-endian. */
void pattern_sector(uint64_t seed, uint64_t lba, void *buf);
/* CRC-32 (IEEE 802.3, reflected 0xedb88320); start with crc = 0. */
uint32_t crc32_update(uint32_t crc, const void *buf, size_t len);

/* ---- memory (mm.c) ------------------------------------------------------ */
extern struct memmap ram;
/* Usable RAM from the boot information, and own page tables: an identity
 * map of [0, 4 GiB) in 2 MiB pages, uncacheable where a page holds no
 * usable RAM. Panics on a bad map. */
void mm_init(void);
/* Also map [start, end) (e.g. above 4 GiB) the same way; -1 when the
 * static table pool is spent. */
int mm_map_extra(uint64_t start, uint64_t end);
/* A qword store that may fault, with the library's exception table:
 * 0, or -1 when it faulted (traps.c has the load, read_u64_safe()). */
int write_u64_safe(uint64_t addr, uint64_t value);
/* Does any entry of the boot loader's map (any type) cover `addr`? Its
 * end in *end when so. */
bool mm_map_covers(uint64_t addr, uint64_t *end);

#endif
