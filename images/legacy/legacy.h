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

#include "../common/guest.h"

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

/* ---- boot (main.c) ------------------------------------------------------ */
/* "disk_lba=N" on the command line: where the disk checks start, default 0. */
extern uint64_t legacy_disk_lba;

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

/* ---- test mode (tests.c) ------------------------------------------------ */
void legacy_tests(void);
/* "net" on the command line (nic.c): the e1000 and the IPv4 checks. */
void legacy_net_tests(void);

/* The ATA pattern's fill and check (tests.c), shared with the bench. */
struct pattern_run {
	uint64_t seed;
	uint32_t crc;
	uint64_t mismatched;            /* sectors read back unlike written */
	uint64_t first_bad;
	uint8_t expect[ATA_SECTOR];
};
void pattern_fill(void *ctx, uint64_t lba, void *buf, unsigned n);
void pattern_take(void *ctx, uint64_t lba, const void *buf, unsigned n);
unsigned pick_multiple(unsigned offered);

/* "bench" on the command line (bench.c): measurements instead of the
 * checks, each printed as "# bench NAME VALUE UNIT" with TAP results
 * that say the work was done and the data was right. */
void legacy_bench(void);

#endif
