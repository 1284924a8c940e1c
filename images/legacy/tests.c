/*
 * The legacy guest's checks, one TAP result each, in this order: console,
 * ATA IDENTIFY, the 4 MiB disk pattern, ATA error bits, PIT rate, the
 * memory scan beyond RAM, the PCI bus 0 scan, CPUID. Each check states in
 * its description the values it judged, so a failure explains itself, and
 * each can fail: the conditions are in the comment above it.
 */
#include <string.h>
#include "legacy.h"

#define PATTERN_BYTES (4 * MiB)
#define PATTERN_SECTORS (PATTERN_BYTES / ATA_SECTOR)
_Static_assert(ATA_SECTOR == PATTERN_SECTOR_BYTES, "pattern sector size");
#define WRITE_CHUNK 256                 /* sectors per WRITE MULTIPLE */
#define READ_CHUNK 4096                 /* per READ SECTORS EXT: HOB count 0x10 */
#define LBA28_LIMIT (1ull << 28)
#define LBA28_MAX_REPORTED 0x0fffffffu

#define PIT_TEST_HZ 100
#define PIT_TOLERANCE 30
#define PIT_SPIN_BUDGET 500000000ull    /* pause loops before giving up */
#define PIT_RTC_POLL_EVERY 256          /* spins between RTC reads */
#define PIT_TICK_BUDGET 1000            /* 10 s of ticks without an RTC edge */

#define SCAN_BYTES (16 * MiB)
#define SCAN_STEP 4096
#define ALL_ONES 0xffffffffffffffffull
#define SCAN_MARKER 0x6c65676163792121ull     /* "!!ycagel" */

static struct ata_drive drive;
static struct ata_result probe_res;
static bool probe_ok;
static bool pattern_on_disk;            /* check 3 wrote and read it */

static uint64_t drive_capacity(void)
{
	return drive.lba48 ? drive.sectors48 : drive.sectors28;
}

/* 1. Fails when the UART's registers read back wrong once it is idle:
 * LSR without THRE/TEMT (or floating 0xff), IIR claiming a pending
 * interrupt with IER 0 or FIFOs off after FCR enabled them, LCR not the
 * 8N1 we wrote, or a scratch register that does not hold a value. */
static void check_console(void)
{
	static const char *const pieces[] = {
		"# console: this line ", "is written ", "in ", "five ",
		"pieces\n",
	};
	uint8_t lsr, iir, lcr, scr1, scr2;
	bool drained;

	for (unsigned i = 0; i < ARRAY_SIZE(pieces); i++)
		console_write(pieces[i], strlen(pieces[i]));
	drained = uart_drain();
	lsr = uart_reg_read(UART_LSR);
	iir = uart_reg_read(UART_IIR);
	lcr = uart_reg_read(UART_LCR);
	uart_reg_write(UART_SCR, 0x5a);
	scr1 = uart_reg_read(UART_SCR);
	uart_reg_write(UART_SCR, 0xa5);
	scr2 = uart_reg_read(UART_SCR);
	tap_result(drained && lsr != 0xff &&
		   (lsr & (UART_LSR_THRE | UART_LSR_TEMT)) ==
		   (UART_LSR_THRE | UART_LSR_TEMT) && !(lsr & 0x80) &&
		   (iir & 0x0f) == 0x01 && (iir & 0xc0) == 0xc0 &&
		   lcr == 0x03 && scr1 == 0x5a && scr2 == 0xa5,
		   "legacy console: a line written in pieces arrives "
		   "(LSR %#02x IIR %#02x LCR %#02x SCR %02x/%02x%s)",
		   lsr, iir, lcr, scr1, scr2,
		   drained ? "" : "; never idle");
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < ' ' || *s > '~')
			return false;
	return true;
}

/* 2. Fails when there is no drive or IDENTIFY fails, the model string is
 * empty or not ASCII, words 60-61 say 0 sectors, word 83 does not claim
 * LBA48, or words 100-103 disagree with 60-61 (which must hold the
 * capacity, or 0x0fffffff when it is larger). */
static void check_identify(void)
{
	bool consistent;

	probe_ok = !ata_probe(&drive, &probe_res);
	if (!probe_ok) {
		tap_result(false, "legacy ata: IDENTIFY: %s (status %#02x "
			   "error %#02x)", probe_res.why, probe_res.status,
			   probe_res.error);
		return;
	}
	consistent = drive.lba48 && drive.sectors48 &&
		     (drive.sectors48 >= LBA28_MAX_REPORTED ?
		      drive.sectors28 == LBA28_MAX_REPORTED :
		      drive.sectors28 == drive.sectors48);
	tap_result(drive.model[0] && printable(drive.model) &&
		   drive.sectors28 && consistent,
		   "legacy ata: IDENTIFY '%s', LBA28 %u, LBA48%s %lu sectors%s, "
		   "MULTIPLE <= %u", drive.model, drive.sectors28,
		   drive.lba48 ? "" : " NOT supported,", drive.sectors48,
		   consistent ? "" : " (inconsistent)", drive.max_multiple);
}

void pattern_fill(void *ctx, uint64_t lba, void *buf, unsigned n)
{
	struct pattern_run *run = ctx;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *s = (uint8_t *)buf + (size_t)i * ATA_SECTOR;

		pattern_sector(run->seed, lba + i, s);
		run->crc = crc32_update(run->crc, s, ATA_SECTOR);
	}
}

void pattern_take(void *ctx, uint64_t lba, const void *buf, unsigned n)
{
	struct pattern_run *run = ctx;

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *s = (const uint8_t *)buf + (size_t)i * ATA_SECTOR;

		run->crc = crc32_update(run->crc, s, ATA_SECTOR);
		pattern_sector(run->seed, lba + i, run->expect);
		if (memcmp(s, run->expect, ATA_SECTOR)) {
			if (!run->mismatched)
				run->first_bad = lba + i;
			run->mismatched++;
		}
	}
}

static void discard(void *ctx, uint64_t lba, const void *buf, unsigned n)
{
}

unsigned pick_multiple(unsigned offered)
{
	unsigned m = 1;

	if (!offered)
		return 0;
	while (m * 2 <= offered && m * 2 <= ATA_MULTIPLE_MAX)
		m *= 2;
	return m;
}

#define PATTERN_DESC "legacy ata: 4 MiB deterministic pattern written and " \
		     "read back, crc32 match"

/* 3. Fails without a usable drive (no IDENTIFY, no LBA48, no MULTIPLE,
 * smaller than disk_lba + 4 MiB, or the range past LBA28), when any
 * command ends with ERR/DF or the wrong DRQ, or when the CRC-32 of what
 * was read differs from that of what was written, or any sector differs
 * from the pattern. */
static void check_pattern(void)
{
	struct pattern_run wr = { .seed = boot.seed };
	struct pattern_run rd = { .seed = boot.seed };
	uint64_t start = legacy_disk_lba, lba;
	struct ata_result res = { 0, 0, "" };
	const char *step = "";
	unsigned mult;

	if (!probe_ok) {
		tap_result(false, PATTERN_DESC ": no drive: %s", probe_res.why);
		return;
	}
	if (!drive.lba48) {
		tap_result(false, PATTERN_DESC ": the drive has no LBA48");
		return;
	}
	if (start > drive_capacity() ||
	    drive_capacity() - start < PATTERN_SECTORS ||
	    start + PATTERN_SECTORS > LBA28_LIMIT) {
		tap_result(false, PATTERN_DESC ": LBA %lu + %lu sectors does "
			   "not fit the drive (%lu sectors) or LBA28", start,
			   (uint64_t)PATTERN_SECTORS, drive_capacity());
		return;
	}
	mult = pick_multiple(drive.max_multiple);
	if (!mult || ata_set_multiple(&drive, mult, &res)) {
		tap_result(false, PATTERN_DESC ": SET MULTIPLE %u: %s (status "
			   "%#02x error %#02x)", mult,
			   mult ? res.why : "drive offers no MULTIPLE commands",
			   res.status, res.error);
		return;
	}

	for (lba = start; lba < start + PATTERN_SECTORS; lba += WRITE_CHUNK)
		if (ata_pio_out(&drive, ATA_CMD_WRITE_MULTIPLE, lba,
				WRITE_CHUNK, pattern_fill, &wr, &res)) {
			step = "WRITE MULTIPLE";
			goto out;
		}
	if (ata_nodata(ATA_CMD_FLUSH_CACHE, 0, &res)) {
		step = "FLUSH CACHE";
		lba = start;
		goto out;
	}
	for (lba = start; lba < start + PATTERN_SECTORS; lba += READ_CHUNK)
		if (ata_pio_in(&drive, ATA_CMD_READ_SECTORS_EXT, lba,
			       READ_CHUNK, pattern_take, &rd, &res)) {
			step = "READ SECTORS EXT";
			goto out;
		}
out:
	if (step[0]) {
		tap_result(false, PATTERN_DESC ": %s (from LBA %lu): %s (status "
			   "%#02x error %#02x)", step, lba, res.why,
			   res.status, res.error);
		return;
	}
	pattern_on_disk = !rd.mismatched;
	if (rd.mismatched)
		kprint("# ata: %lu sector(s) differ from the pattern, the "
		       "first at LBA %lu", rd.mismatched, rd.first_bad);
	tap_result(wr.crc == rd.crc && !rd.mismatched,
		   PATTERN_DESC " (wrote %08x, read %08x; seed %lu, LBA %lu+%lu, "
		   "WRITE MULTIPLE x%u, READ SECTORS EXT)", wr.crc, rd.crc,
		   boot.seed, start, (uint64_t)PATTERN_SECTORS, mult);
}

static const char *error_bits(uint8_t error)
{
	if ((error & (ATA_ER_IDNF | ATA_ER_ABRT)) == (ATA_ER_IDNF | ATA_ER_ABRT))
		return "IDNF+ABRT";
	if (error & ATA_ER_IDNF)
		return "IDNF";
	if (error & ATA_ER_ABRT)
		return "ABRT";
	return "neither IDNF nor ABRT";
}

/* 4. Fails when an opcode no ATA drive implements (0x52, reserved) does
 * not end in ERR with ABRT, when a read of the first sector past the
 * capacity does not end in ERR with IDNF or ABRT (ATA-6 allows either:
 * IDNF, or ABRT "if IDNF is not set"), and when afterwards the drive does
 * not read a sector again (holding the pattern, if check 3 put it
 * there). */
static void check_bad_commands(void)
{
	struct ata_result bad_op, past_end, after = { 0, 0, "" };
	struct pattern_run rd = { .seed = boot.seed };
	uint64_t cap, lba;
	bool op_ok, end_ok, recovered;

	if (!probe_ok) {
		tap_result(false, "legacy ata: bad commands get the drive's "
			   "error bits: no drive: %s", probe_res.why);
		return;
	}
	op_ok = ata_nodata(0x52, 0, &bad_op) && (bad_op.status & ATA_SR_ERR) &&
		(bad_op.error & ATA_ER_ABRT);
	cap = drive_capacity();
	lba = cap;
	if (cap < LBA28_LIMIT)
		end_ok = !!ata_pio_in(&drive, ATA_CMD_READ_SECTORS, lba, 1,
				      discard, NULL, &past_end);
	else
		end_ok = !!ata_pio_in(&drive, ATA_CMD_READ_SECTORS_EXT, lba, 1,
				      discard, NULL, &past_end);
	end_ok = end_ok && (past_end.status & ATA_SR_ERR) &&
		 (past_end.error & (ATA_ER_IDNF | ATA_ER_ABRT));
	recovered = !ata_pio_in(&drive, ATA_CMD_READ_SECTORS, legacy_disk_lba, 1,
				pattern_take, &rd, &after) &&
		    (!pattern_on_disk || !rd.mismatched);
	tap_result(op_ok && end_ok && recovered,
		   "legacy ata: bad commands get the drive's error bits "
		   "(status/error: opcode 0x52 %02x/%02x %s; READ SECTORS%s at "
		   "LBA %lu %02x/%02x %s; then %s)", bad_op.status, bad_op.error,
		   error_bits(bad_op.error), cap < LBA28_LIMIT ? "" : " EXT",
		   lba, past_end.status, past_end.error,
		   error_bits(past_end.error),
		   !recovered ? (after.why[0] ? after.why : "reads other data") :
		   pattern_on_disk ? "reads the pattern" : "reads again");
}

/* Spin until the RTC seconds register differs from `from`; its new value,
 * or -1 when the budgets ran out. */
static int wait_rtc_change(int from, uint64_t *spins, uint64_t tick_limit)
{
	for (; *spins < PIT_SPIN_BUDGET; ++*spins) {
		cpu_relax();
		if (*spins % PIT_RTC_POLL_EVERY)
			continue;
		int s = rtc_seconds();

		if (s < 0)
			return -1;
		if (s != from)
			return s;
		if (pit_ticks > tick_limit)
			return -1;
	}
	return -1;
}

/* 5. Fails when the count of IRQ 0 interrupts between two RTC seconds
 * edges is off 100 Hz by more than 30 (none arriving included), or when
 * the RTC never shows two edges within the spin and tick budgets. */
static void check_pit(void)
{
	uint64_t spins = 0, t1 = 0, t2 = 0;
	int s0, s1 = -1, s2 = -1;
	bool ok;

	pit_ticks = 0;
	pit_start(PIT_TEST_HZ);
	irq_enable();
	s0 = rtc_seconds();
	if (s0 >= 0)
		s1 = wait_rtc_change(s0, &spins, PIT_TICK_BUDGET);
	t1 = pit_ticks;
	if (s1 >= 0)
		s2 = wait_rtc_change(s1, &spins, t1 + PIT_TICK_BUDGET);
	t2 = pit_ticks;
	irq_disable();
	pit_stop();
	if (s2 < 0) {
		tap_result(false, "legacy pit: interrupts arrive at the "
			   "programmed rate: no full RTC second seen (seconds "
			   "%d -> %d -> %d, %lu IRQ 0 in %lu spins)", s0, s1,
			   s2, t2, spins);
		return;
	}
	if (cmdline_has(boot.cmdline, "load")) {
		/* Beside many other guests this VP runs only some of the time:
		 * ticks due while it waits coalesce, and an RTC edge it does
		 * not see stretches the window, so only arrival is checked. */
		tap_result(t2 > t1 && !irq_spurious, "legacy pit: interrupts arrive "
			   "under load (%lu IRQ 0 between RTC edges %02x->%02x->%02x at "
			   "%u Hz; the rate is not checked on a shared CPU; %lu "
			   "spurious)", t2 - t1, s0, s1, s2, PIT_TEST_HZ, irq_spurious);
		return;
	}
	ok = t2 - t1 >= PIT_TEST_HZ - PIT_TOLERANCE &&
	     t2 - t1 <= PIT_TEST_HZ + PIT_TOLERANCE;
	tap_result(ok, "legacy pit: interrupts arrive at the programmed rate "
		   "(%lu IRQ 0 in one RTC second at %u Hz, want %u-%u; RTC "
		   "%02x->%02x->%02x; %lu spurious)", t2 - t1, PIT_TEST_HZ,
		   PIT_TEST_HZ - PIT_TOLERANCE, PIT_TEST_HZ + PIT_TOLERANCE,
		   s0, s1, s2, irq_spurious);
}

#define MEMORY_DESC "legacy memory: a scan of guest-physical addresses " \
		    "beyond its memory finds no other partition's data"

struct scan {
	unsigned read, ones, zeros, other, faults, skipped, sticky;
	uint64_t first_bad, first_value;
};

/* A qword that read 0 natively: RAM keeps what we write, nothing at all
 * (QEMU's unassigned memory) drops it. Put 0 back if it stuck. */
static bool zero_is_memory(uint64_t a)
{
	uint64_t v = 0;

	if (write_u64_safe(a, SCAN_MARKER) || read_u64_safe(a, &v))
		return false;
	if (v == 0)
		return false;
	write_u64_safe(a, 0);
	return true;
}

static void scan_page(struct scan *sc, uint64_t a)
{
	uint64_t v;

	sc->read++;
	if (read_u64_safe(a, &v)) {
		sc->faults++;
		return;
	}
	if (v == ALL_ONES) {
		sc->ones++;
		return;
	}
	if (v == 0 && !boot.under_isovisor) {
		sc->zeros++;
		if (!zero_is_memory(a))
			return;
		sc->sticky++;
	} else {
		sc->other++;
	}
	if (sc->sticky + sc->other == 1) {
		sc->first_bad = a;
		sc->first_value = v;
	}
}

/* 6. One qword per 4 KiB page for 16 MiB from the first address above
 * usable RAM that no memory map entry covers (pages a map entry names are
 * skipped). A PC returns all ones where nothing decodes an address, and
 * so must the root's intercept handling: under isovisor anything else
 * fails. Natively QEMU (7.2, i440fx and q35) returns 0 for unassigned
 * memory, so a native boot also accepts 0, when every page reads 0 and a
 * write to each is dropped (a write that sticks is RAM: a finding). It
 * fails on any fault, any other value, a mix of 0 and all ones, or when
 * no page could be read at all. */
static void check_memory(void)
{
	uint64_t top = memmap_top(&ram), start = ALIGN_UP(top, SCAN_STEP);
	uint64_t end, covered_end;
	struct scan sc = { 0 };
	bool ok;

	while (mm_map_covers(start, &covered_end))
		start = ALIGN_UP(covered_end, SCAN_STEP);
	end = start + SCAN_BYTES;
	if (end > 4 * GiB && mm_map_extra(start, end)) {
		tap_result(false, MEMORY_DESC ": cannot map %#lx-%#lx", start,
			   end - 1);
		return;
	}
	for (uint64_t a = start; a < end; a += SCAN_STEP) {
		if (mm_map_covers(a, &covered_end))
			sc.skipped++;
		else
			scan_page(&sc, a);
	}
	if (sc.other || sc.sticky)
		kprint("# memory: first finding at %#lx: %016lx%s", sc.first_bad,
		       sc.first_value, sc.sticky ? " (RAM: a write stuck)" : "");
	ok = sc.read && !sc.faults && !sc.other && !sc.sticky &&
	     (!sc.zeros || !sc.ones);
	kprint("# memory: RAM top %#lx; scanned %#lx-%#lx, %u pages read, %u "
	       "skipped as map entries", top, start, end - 1, sc.read,
	       sc.skipped);
	tap_result(ok, MEMORY_DESC " (%u pages from %#lx: %u all ones, %u "
		   "zero, %u RAM, %u other, %u faults)", sc.read, start,
		   sc.ones, sc.zeros, sc.sticky, sc.other, sc.faults);
}

/* 9. String moves (REP STOSQ, REP MOVSQ, LODSQ) at an address beyond
 * RAM, as a guest copying from MMIO would: under isovisor each is one
 * intercept the host completes as a whole. Fails on a fault, or when the
 * RAM buffer MOVS filled does not hold one consistent value per qword
 * that LODS also read (all ones under isovisor; natively QEMU gives 0). */
static void check_string_mmio(void)
{
	uint64_t top = memmap_top(&ram), at = ALIGN_UP(top, SCAN_STEP), covered_end;
	static uint64_t buf[8];
	uint64_t rax = 0, probe;
	bool same = true;

	while (mm_map_covers(at, &covered_end))
		at = ALIGN_UP(covered_end, SCAN_STEP);
	if (read_u64_safe(at, &probe)) {
		tap_result(false, "legacy memory: string moves beyond its memory "
			   "(%#lx is not readable)", at);
		return;
	}
	memset(buf, 0x5a, sizeof(buf));
	{
		uint64_t dst = at, cnt = 8, pat = 0x1122334455667788ull;

		__asm__ volatile("rep stosq" : "+D"(dst), "+c"(cnt) : "a"(pat) : "memory");
	}
	{
		uint64_t src = at, dst = (uint64_t)buf, cnt = 8;

		__asm__ volatile("rep movsq" : "+S"(src), "+D"(dst), "+c"(cnt) : : "memory");
	}
	{
		uint64_t src = at;

		__asm__ volatile("lodsq" : "=a"(rax), "+S"(src) : : "memory");
	}
	/* Byte and word loads keep the rest of their register. */
	const uint64_t fill = 0x1111111111111111ull;
	uint64_t lo = fill, word = fill, hi = fill;

	__asm__ volatile("movb (%1), %b0" : "+q"(lo) : "r"(at) : "memory");
	__asm__ volatile("movw (%1), %w0" : "+r"(word) : "r"(at) : "memory");
	__asm__ volatile("movb (%1), %h0" : "+Q"(hi) : "r"(at) : "memory");
	for (unsigned i = 0; i < 8; i++)
		if (buf[i] != probe)
			same = false;
	same = same && lo == ((fill & ~0xffull) | (probe & 0xff)) &&
	       word == ((fill & ~0xffffull) | (probe & 0xffff)) &&
	       hi == ((fill & ~0xff00ull) | (probe & 0xff00));
	tap_result(same && rax == probe && (probe == ~0ull || probe == 0),
		   "legacy memory: string moves beyond its memory complete as a whole "
		   "(REP STOSQ dropped, REP MOVSQ copied %016lx x8, LODSQ read %016lx); "
		   "byte and word loads keep the rest of the register (%016lx %016lx %016lx)",
		   buf[0], rax, lo, word, hi);
}

/* 7. Fails without configuration mechanism #1, without a host bridge
 * (class 06 00) at 00:00.0, or when a function whose vendor ID reads
 * 0xffff does not read all ones in its ID and class dwords (a bus that
 * answers for absent functions), or a vendor ID reads 0 (invalid). */
static void check_pci(void)
{
	unsigned present = 0, bad_absent = 0, zero_vendor = 0;
	uint32_t host_id, host_class;
	bool mech1 = pci_mech1_present();

	host_id = mech1 ? pci_read32(0, 0, 0, 0x00) : 0xffffffff;
	host_class = mech1 ? pci_read32(0, 0, 0, 0x08) >> 8 : 0xffffff;
	for (unsigned dev = 0; mech1 && dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			uint32_t id = pci_read32(0, dev, fn, 0x00);
			uint32_t class = pci_read32(0, dev, fn, 0x08);

			if ((id & 0xffff) == 0xffff) {
				if (id != 0xffffffff || class != 0xffffffff)
					bad_absent++;
				continue;
			}
			if ((id & 0xffff) == 0) {
				zero_vendor++;
				continue;
			}
			present++;
			kprint("# pci: 00:%02x.%u %04x:%04x class %06x", dev, fn,
			       id & 0xffff, id >> 16, class >> 8);
		}
	}
	tap_result(mech1 && (host_id & 0xffff) != 0xffff &&
		   (host_class >> 8) == 0x0600 && !bad_absent && !zero_vendor,
		   "legacy pci: bus 0 lists only devices that exist (%u "
		   "functions; 00:00.0 %04x:%04x class %06x; bad absent %u, "
		   "vendor 0 %u%s)", present, host_id & 0xffff,
		   host_id >> 16, host_class, bad_absent, zero_vendor,
		   mech1 ? "" : "; no mechanism #1");
}

/* 8. Reads leaves 0 and 1 only, never 0x40000000+. Fails when leaf 0's
 * vendor string is not 12 printable characters or its maximum leaf is
 * below 1. */
static void check_cpuid(void)
{
	struct cpuid_regs r0 = cpuid(0, 0), r1 = { 0, 0, 0, 0 };
	char vendor[13];
	bool ok;

	memcpy(vendor, &r0.ebx, 4);
	memcpy(vendor + 4, &r0.edx, 4);
	memcpy(vendor + 8, &r0.ecx, 4);
	vendor[12] = '\0';
	ok = strlen(vendor) == 12 && printable(vendor) && r0.eax >= 1;
	if (r0.eax >= 1)
		r1 = cpuid(1, 0);
	if (!ok)
		for (unsigned i = 0; i < 12; i++)
			if (vendor[i] < ' ' || vendor[i] > '~')
				vendor[i] = '?';
	tap_result(ok, "legacy cpuid: no hypervisor enlightenments are used "
		   "(vendor '%s', max leaf %#x, hypervisor bit %s; 0x40000000+ "
		   "not read)", vendor, r0.eax,
		   r1.ecx & (1u << 31) ? "set" : "clear");
}

/* 10. Fails when an intercepted access is answered out of order or with
 * another's result: rounds of two writes and two reads on two devices
 * (the UART's scratch register, byte-wide, and the PCI address latch at
 * 0xcf8, dword-wide), each read expected to return the write before it,
 * values changing every round. With two guests and a root that runs
 * them in turn, a completion given to the wrong VP or access shows. */
#define ORDER_ROUNDS 2048
static void check_order(void)
{
	unsigned bad = 0, first_bad = 0;
	uint8_t scr = 0, want8 = 0;
	uint32_t cf8 = 0, want32 = 0;

	for (unsigned i = 0; i < ORDER_ROUNDS; i++) {
		want8 = (uint8_t)(i * 37 + 11);
		/* Enable bit, bus, device, function, register: all latched. */
		want32 = 0x80000000u | ((i * 2654435761u) & 0x00fffffc);
		uart_reg_write(UART_SCR, want8);
		outl(0xcf8, want32);
		scr = uart_reg_read(UART_SCR);
		cf8 = inl(0xcf8);
		if (scr != want8 || cf8 != want32) {
			if (!bad++)
				first_bad = i;
		}
	}
	outl(0xcf8, 0);
	tap_result(!bad, "legacy order: %u rounds of four intercepted accesses "
		   "(UART scratch, PCI address latch) each read back the write "
		   "before it%s", ORDER_ROUNDS, bad ? " (some did not)" : "");
	if (bad)
		kprint("# order: %u rounds wrong, the first %u (scr %02x/%02x cf8 %08x/%08x)",
		       bad, first_bad, scr, want8, cf8, want32);
}

void legacy_tests(void)
{
	if (cmdline_has(boot.cmdline, "bench")) {
		legacy_bench();
		return;
	}
	if (cmdline_has(boot.cmdline, "net")) {
		check_pci();
		legacy_net_tests();
		return;
	}
	check_console();
	check_identify();
	check_pattern();
	check_bad_commands();
	check_pit();
	check_memory();
	check_string_mmio();
	check_pci();
	check_cpuid();
	check_order();
}
