/*
 * The legacy guest: a child partition image with no integration services.
 * It reaches only what a PC provides at its fixed legacy addresses (COM1,
 * the primary ATA channel, the 8254 PIT behind the 8259 PICs, the CMOS
 * RTC, PCI configuration mechanism #1, the test-exit port) and programs
 * them exactly as it would on real hardware. Under isovisor each access is
 * an intercept the root's device models complete; natively under GRUB the
 * same code drives QEMU's (or a machine's) real devices. It never reads
 * the hypervisor CPUID leaves or touches a synthetic MSR.
 */
#ifndef LEGACY_H
#define LEGACY_H

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

/* String port I/O. Kept here rather than in isovisor/x86.h while that
 * header is shared work in progress; only ata.c uses them. One REP
 * instruction moves a whole ATA DRQ block, which the hypervisor completes
 * as one intercept. */
static inline void insw_rep(uint16_t port, void *buf, size_t words)
{
	__asm__ volatile("rep insw"
			 : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}

static inline void outsw_rep(uint16_t port, const void *buf, size_t words)
{
	__asm__ volatile("rep outsw"
			 : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}

/* ---- boot state (main.c) ------------------------------------------------ */
struct legacy_boot {
	struct mb2_info mb2;
	const char *cmdline;
	bool under_isovisor;            /* loader name "isovisor" */
	bool test_mode;                 /* word "test" */
	uint64_t seed;                  /* "seed=N", default 1 */
	uint64_t disk_lba;              /* "disk_lba=N", default 0 */
};
extern struct legacy_boot boot;

/* The value of `key` (e.g. "seed=") as a whole word of the command line,
 * decimal or 0x-hex; `def` when absent or malformed. */
uint64_t cmdline_u64(const char *cmdline, const char *key, uint64_t def);

/* ---- console (console.c): COM1, polled ----------------------------------- */
void console_init(void);
/* Natively nobody prefixes our lines, so we start each with "legacy: ";
 * under isovisor the root adds the partition's name and we must not. */
void console_set_own_prefix(bool own);
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

/* ---- traps and interrupts (trap.c) --------------------------------------- */
/* The PICs' vectors after pic_init(): IRQ n on PIC_VECTOR_BASE + n. */
#define PIC_VECTOR_BASE 0x20
typedef void (*irq_handler)(unsigned irq);
void irq_set_handler(unsigned irq, irq_handler fn);
extern volatile uint64_t irq_spurious, irq_unexpected;

/* ---- PIC, PIT, RTC (timer.c) --------------------------------------------- */
/* Remap master to 0x20, slave to 0x28, every line masked. */
void pic_init(void);
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
void pic_eoi(unsigned irq);
/* In-service register of the master (irq < 8) or slave, for spurious
 * IRQ 7 / 15. */
bool pic_in_service(unsigned irq);
/* Channel 0, mode 2 (rate generator), `hz` interrupts a second. */
void pit_start(unsigned hz);
void pit_stop(void);
extern volatile uint64_t pit_ticks;
/* The RTC seconds register, raw (BCD or binary as the RTC keeps it),
 * read outside an update cycle; -1 when UIP never cleared. */
int rtc_seconds(void);

/* ---- memory (mm.c) ------------------------------------------------------- */
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

/* ---- ATA PIO, primary channel master (ata.c) ----------------------------- */
struct ata_drive {
	bool present;
	uint16_t id[256];               /* IDENTIFY DEVICE data */
	char model[41];
	uint32_t sectors28;             /* words 60-61 */
	uint64_t sectors48;             /* words 100-103, 0 without LBA48 */
	bool lba48;                     /* word 83 bit 10 (word 83 valid) */
	unsigned max_multiple;          /* word 47 bits 7:0 */
	unsigned multiple;              /* set with SET MULTIPLE, 0: none */
};

/* How a command ended: the status and error registers, and a reason
 * when it failed ("" when it did not). */
struct ata_result {
	uint8_t status;
	uint8_t error;
	const char *why;
};

#define ATA_SR_BSY  0x80
#define ATA_SR_DRDY 0x40
#define ATA_SR_DF   0x20
#define ATA_SR_DRQ  0x08
#define ATA_SR_ERR  0x01
#define ATA_ER_IDNF 0x10
#define ATA_ER_ABRT 0x04

#define ATA_CMD_READ_SECTORS     0x20
#define ATA_CMD_READ_SECTORS_EXT 0x24
#define ATA_CMD_WRITE_SECTORS    0x30
#define ATA_CMD_WRITE_SECTORS_EXT 0x34
#define ATA_CMD_READ_MULTIPLE    0xc4
#define ATA_CMD_WRITE_MULTIPLE   0xc5
#define ATA_CMD_SET_MULTIPLE     0xc6
#define ATA_CMD_FLUSH_CACHE      0xe7
#define ATA_CMD_IDENTIFY         0xec

#define ATA_SECTOR 512
/* The largest READ/WRITE MULTIPLE block this driver sets (its buffer). */
#define ATA_MULTIPLE_MAX 16

/* Fill or take `n` sectors starting at `lba`; buf holds n * 512 bytes. */
typedef void (*ata_fill_fn)(void *ctx, uint64_t lba, void *buf, unsigned n);
typedef void (*ata_take_fn)(void *ctx, uint64_t lba, const void *buf,
			    unsigned n);

/* Software reset, then IDENTIFY DEVICE. 0, or -1 with res->why. */
int ata_probe(struct ata_drive *d, struct ata_result *res);
/* SET MULTIPLE MODE with `n` sectors per DRQ block (<= ATA_MULTIPLE_MAX). */
int ata_set_multiple(struct ata_drive *d, unsigned n, struct ata_result *res);
/* PIO data-in / data-out commands: READ/WRITE SECTORS (one sector per DRQ
 * block), READ/WRITE MULTIPLE (d->multiple per block), and their EXT
 * forms. `count` 1..256 (LBA28) or 1..65536 (EXT). */
int ata_pio_in(struct ata_drive *d, uint8_t cmd, uint64_t lba, uint32_t count,
	       ata_take_fn take, void *ctx, struct ata_result *res);
int ata_pio_out(struct ata_drive *d, uint8_t cmd, uint64_t lba, uint32_t count,
		ata_fill_fn fill, void *ctx, struct ata_result *res);
/* A command without data (FLUSH CACHE, or any opcode for the error
 * checks); its ending status and error in *res. 0 when it ended without
 * ERR or DF. */
int ata_nodata(uint8_t cmd, uint8_t count, struct ata_result *res);

/* ---- PCI configuration mechanism #1 (pci.c) ------------------------------ */
uint32_t pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off);
/* CONFIG_ADDRESS keeps what is written (mechanism #1 is there). */
bool pci_mech1_present(void);

/* ---- pattern and checksum (pattern.c) ------------------------------------ */
/* Sector `lba` of the test pattern for `seed`: 64 successive outputs of a
 * xorshift64 generator (13, 7, 17) whose state starts at splitmix64(seed
 * ^ lba * 0x9e3779b97f4a7c15) (or a fixed constant if that is 0),
 * stored little-endian. */
void pattern_sector(uint64_t seed, uint64_t lba, void *buf);
/* CRC-32 (IEEE 802.3, reflected 0xedb88320); start with crc = 0. */
uint32_t crc32_update(uint32_t crc, const void *buf, size_t len);

/* ---- test mode (tap.c, tests.c) ------------------------------------------ */
void tap_begin(void);
void tap_result(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Plan and final line; true when every check passed. */
bool tap_end(void);
void legacy_tests(void);
/* Port 0xf4: 0 pass, 1 fail (QEMU's isa-debug-exit, or the root's
 * test-exit device); then halt, in case neither is there. */
void test_exit(bool pass) __attribute__((noreturn));

#endif
