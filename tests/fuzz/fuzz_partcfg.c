/* Fuzz target for the partition config parser: any text is either refused
 * or gives records whose every field is in range. */
#include <stdlib.h>
#include <string.h>
#include "partcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct partcfg cfg;
	char err[96];

	if (partcfg_parse((const char *)data, size, &cfg, err, sizeof(err)))
		return strnlen(err, sizeof(err)) == sizeof(err) ? (abort(), 0) : 0;
	if (cfg.count > PARTCFG_MAX)
		abort();
	for (unsigned i = 0; i < cfg.count; i++) {
		const struct partcfg_partition *p = &cfg.p[i];

		if (!p->name[0] || !p->image[0] || p->memory_mib < 1 ||
		    p->memory_mib > 256 || p->vps < 1 || p->vps > 8 ||
		    p->disk_mib > 1024 || strnlen(p->args, sizeof(p->args)) == sizeof(p->args))
			abort();
	}
	return 0;
}

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	static const char *seeds[] = {
		"partition guest1\n image legacy\n memory 32\n vps 2\n"
		" devices uart ata pit pic rtc pci testexit\n disk 8\n args test\nend\n",
		"partition a\nimage b\nend\npartition c\nimage d\nmemory 1\nend\n",
	};
	size_t n;

	if (i >= sizeof(seeds) / sizeof(seeds[0]))
		return 0;
	n = strlen(seeds[i]);
	if (n > cap)
		return 0;
	memcpy(buf, seeds[i], n);
	return n;
}
