/*
 * The legacy guest's measurements (./build.sh bench): an emulated port
 * read's round trip, ATA PIO throughput for a sequential write and read
 * of mib=N MiB (verified against the pattern), and a CPU-bound kernel
 * (CRC-32 over 16 MiB of memory, every page touched) that runs the same
 * natively and as a child. Times are in TSC cycles; the bench script
 * turns them into seconds with the hypervisor's TSC frequency. Each
 * figure is printed as "# bench NAME VALUE UNIT".
 */
#include <string.h>
#include "legacy.h"

#define SAMPLES_MAX 4096
#define CPU_BYTES (16ull << 20)
#define CPU_BASE (8ull << 20)           /* RAM from 8 MiB on, in every run */
#define WRITE_CHUNK 256
#define READ_CHUNK 256

static uint64_t samples[SAMPLES_MAX];

/* One port read of COM1's line status register: the device model
 * (root or hypervisor) answers it; natively the UART does. */
static void bench_port(unsigned n)
{
	bool sane = true;

	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = guest_tsc();
		uint8_t lsr = inb(0x3fd);

		samples[i] = guest_tsc() - t0;
		sane &= lsr != 0xff;
	}
	samples_print("port_read_cycles", samples, n);
	tap_result(sane, "legacy bench: %u port reads of COM1 LSR answered (median %lu "
		   "TSC cycles)", n, samples[n / 2]);
}

/* CPUID leaf 0, the same number of samples: no device model, no root;
 * natively QEMU answers it. Every answer must be the same. */
static void bench_cpuid(unsigned n)
{
	struct cpuid_regs first = cpuid(0, 0);
	bool same = first.eax != 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = guest_tsc();
		struct cpuid_regs r = cpuid(0, 0);

		samples[i] = guest_tsc() - t0;
		same &= r.eax == first.eax && r.ebx == first.ebx && r.ecx == first.ecx &&
			r.edx == first.edx;
	}
	samples_print("cpuid_cycles", samples, n);
	tap_result(same, "legacy bench: %u CPUIDs of leaf 0 answered alike (highest leaf "
		   "%#x; median %lu TSC cycles)", n, first.eax, samples[n / 2]);
}

/* CRC-32 over 16 MiB, twice: the same instructions natively and as a
 * child, touching 4096 pages (TLB and nested-paging cost included). */
static void bench_cpu(void)
{
	uint8_t *mem = (uint8_t *)CPU_BASE;
	uint32_t crc1, crc2;
	uint64_t t0, t1;

	uint64_t end;

	if (!mm_map_covers(CPU_BASE + CPU_BYTES - 1, &end)) {
		tap_result(false, "legacy bench: cpu kernel: no RAM at 8-24 MiB");
		return;
	}
	for (uint64_t i = 0; i < CPU_BYTES; i += 8)
		*(uint64_t *)(mem + i) = i * 0x9e3779b97f4a7c15ull;
	t0 = guest_tsc();
	crc1 = crc32_update(0, mem, CPU_BYTES);
	crc2 = crc32_update(0, mem, CPU_BYTES);
	t1 = guest_tsc();
	kprint("# bench cpu_crc_cycles %lu cycles crc=%08x bytes=%lu", t1 - t0, crc1,
	       (uint64_t)(2 * CPU_BYTES));
	tap_result(crc1 == crc2, "legacy bench: cpu kernel: CRC-32 over 2 x 16 MiB "
		   "(%08x both times) in %lu TSC cycles", crc1, t1 - t0);
}

static void bench_ata(uint64_t mib)
{
	struct ata_drive d;
	struct ata_result res;
	struct pattern_run wr = { .seed = boot.seed }, rd = { .seed = boot.seed };
	uint64_t sectors = mib << 11, t0, t1, t2;
	unsigned mult;
	const char *step = "";

	if (ata_probe(&d, &res)) {
		tap_result(true, "legacy bench: ata # SKIP no ATA drive (%s)", res.why);
		return;
	}
	mult = pick_multiple(d.max_multiple);
	if (!d.lba48 || sectors > d.sectors48 || !mult || ata_set_multiple(&d, mult, &res)) {
		tap_result(false, "legacy bench: ata: drive of %lu sectors unusable for %lu MiB",
			   d.sectors48, mib);
		return;
	}
	t0 = guest_tsc();
	for (uint64_t lba = 0; lba < sectors && !step[0]; lba += WRITE_CHUNK)
		if (ata_pio_out(&d, ATA_CMD_WRITE_MULTIPLE, lba, WRITE_CHUNK, pattern_fill,
				&wr, &res))
			step = "write";
	if (!step[0] && ata_nodata(ATA_CMD_FLUSH_CACHE, 0, &res))
		step = "flush";
	t1 = guest_tsc();
	for (uint64_t lba = 0; lba < sectors && !step[0]; lba += READ_CHUNK)
		if (ata_pio_in(&d, ATA_CMD_READ_MULTIPLE, lba, READ_CHUNK, pattern_take,
			       &rd, &res))
			step = "read";
	t2 = guest_tsc();
	if (!step[0]) {
		kprint("# bench ata_write_cycles %lu cycles bytes=%lu", t1 - t0, mib << 20);
		kprint("# bench ata_read_cycles %lu cycles bytes=%lu", t2 - t1, mib << 20);
	}
	tap_result(!step[0] && wr.crc == rd.crc && !rd.mismatched,
		   "legacy bench: ata: %lu MiB written (WRITE MULTIPLE x%u), flushed, read "
		   "back (READ MULTIPLE) and verified%s%s", mib, mult,
		   step[0] ? ": failed at " : "", step);
}

void legacy_bench(void)
{
	unsigned n = (unsigned)cmdline_u64(boot.cmdline, "samples=", 1000);
	uint64_t mib = cmdline_u64(boot.cmdline, "mib=", 16);

	if (n < 2 || n > SAMPLES_MAX)
		n = 1000;
	bench_port(n);
	bench_cpuid(n);
	bench_cpu();
	bench_ata(mib);
}
