/*
 * diskcheck IMAGE OFFSET_MIB MIB SEED: does the disk image hold the guest
 * test pattern (images/common/pattern.c, the very code the guests run)
 * for `seed`, sector by sector, in the MIB MiB from OFFSET_MIB on? The
 * host's side of "a write the guest saw completed is on the disk".
 * Exit 0 when every sector matches; 1 with the first mismatch; 2 on a
 * usage or I/O problem.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest.h"

int main(int argc, char **argv)
{
	uint8_t got[512], want[512];
	unsigned long long off, mib, seed, sectors;
	FILE *f;

	if (argc != 5) {
		fprintf(stderr, "usage: diskcheck IMAGE OFFSET_MIB MIB SEED\n");
		return 2;
	}
	off = strtoull(argv[2], NULL, 0);
	mib = strtoull(argv[3], NULL, 0);
	seed = strtoull(argv[4], NULL, 0);
	f = fopen(argv[1], "rb");
	if (!f || fseeko(f, (off_t)(off << 20), SEEK_SET)) {
		perror(argv[1]);
		return 2;
	}
	sectors = mib << 11;
	for (unsigned long long lba = 0; lba < sectors; lba++) {
		if (fread(got, 1, sizeof(got), f) != sizeof(got)) {
			printf("short read at sector %llu\n", lba);
			return 1;
		}
		pattern_sector(seed, lba, want);
		if (memcmp(got, want, sizeof(got))) {
			printf("sector %llu of the range (byte %llu of the image) differs\n",
			       lba, (off << 20) + lba * 512);
			return 1;
		}
	}
	printf("%llu sectors from MiB %llu hold the pattern of seed %llu\n", sectors, off, seed);
	return 0;
}
