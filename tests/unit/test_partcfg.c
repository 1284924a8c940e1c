/* Host tests for the partition config parser (kernel/lib/partcfg.c). */
#include <string.h>
#include "check.h"
#include "format.h"
#include "partcfg.h"

static struct partcfg cfg;
static char err[128];

static int parse(const char *text)
{
	err[0] = '\0';
	return partcfg_parse(text, strlen(text), &cfg, err, sizeof(err));
}

int main(void)
{
	const char *good =
		"# two legacy guests\n"
		"partition guest1\n"
		"  image legacy\n"
		"  memory 32\n"
		"  vps 2\n"
		"  devices uart ata pit pic rtc pci testexit\n"
		"  disk 8\n"
		"  args test  seed=1  \n"
		"end\n"
		"\n"
		"partition guest2   # trailing comment\n"
		"\timage legacy\n"
		"end";

	CHECK(parse(good) == 0, "a well-formed config parses (%s)", err);
	CHECK(cfg.count == 2, "two partitions");
	CHECK(!strcmp(cfg.p[0].name, "guest1") && !strcmp(cfg.p[0].image, "legacy"),
	      "names and images");
	CHECK(cfg.p[0].memory_mib == 32 && cfg.p[0].vps == 2 && cfg.p[0].disk_mib == 8,
	      "numbers");
	CHECK(cfg.p[0].devices == (PARTCFG_DEV_UART | PARTCFG_DEV_ATA | PARTCFG_DEV_PIT |
				   PARTCFG_DEV_PIC | PARTCFG_DEV_RTC | PARTCFG_DEV_PCI |
				   PARTCFG_DEV_TESTEXIT), "every device");
	CHECK(!strcmp(cfg.p[0].args, "test  seed=1"), "args: the rest of the line, trimmed ('%s')",
	      cfg.p[0].args);
	CHECK(cfg.p[1].memory_mib == 16 && cfg.p[1].vps == 1 && !cfg.p[1].devices &&
	      cfg.p[1].timeout_s == 300, "defaults: 16 MiB, 1 VP, no devices, 300 s");
	CHECK(parse("") == 0 && cfg.count == 0, "an empty config is no partitions");

	CHECK(parse("partition g\nimage x\nmemory 0\nend\n") == -1 && strstr(err, "line 3"),
	      "memory 0 refused, with its line (%s)", err);
	CHECK(parse("partition g\nimage x\nmemory 65537\nend\n") == -1 &&
	      strstr(err, "1..65536"), "memory 65537 refused, naming the limit (%s)", err);
	CHECK(parse("partition g\nimage x\nmemory 4096\nend\n") == 0 && cfg.p[0].memory_mib == 4096,
	      "memory 4096 MiB accepted (the host decides)");
	CHECK(parse("partition g\nimage x\nmemory 99999999999999999999\nend\n") == -1,
	      "a number that overflows refused");
	CHECK(parse("partition g\nimage x\nmemory -1\nend\n") == -1, "a negative number refused");
	CHECK(parse("partition g\nimage x\nvps 65\nend\n") == -1 && strstr(err, "1..64"),
	      "65 VPs refused, naming the limit (%s)", err);
	CHECK(parse("partition g\nimage x\nvps 16\nend\n") == 0 && cfg.p[0].vps == 16,
	      "16 VPs accepted (the host decides)");
	CHECK(parse("partition g\nimage x\ntimeout 0\nend\n") == -1, "timeout 0 refused");
	CHECK(parse("partition g\nimage x\ntimeout 20\nend\n") == 0 && cfg.p[0].timeout_s == 20,
	      "timeout 20 accepted");
	CHECK(parse("partition g\nimage x\ndevices uart floppy\nend\n") == -1 &&
	      strstr(err, "floppy"), "unknown device refused (%s)", err);
	CHECK(parse("partition g\nimage x\ndisk 8\nend\n") == -1,
	      "a disk without the ata device refused (%s)", err);
	CHECK(parse("partition g\nimage x\ndevices storage heartbeat shutdown\ndisk 16\n"
		    "backing 64\nend\n") == 0 &&
	      cfg.p[0].devices == PARTCFG_DEV_VMBUS && cfg.p[0].disk_mib == 16 &&
	      cfg.p[0].backing_mib == 64, "synthetic devices with a backed disk accepted (%s)", err);
	CHECK(parse("partition g\nimage x\ndevices storage\nend\n") == -1 &&
	      strstr(err, "needs a disk"), "storage without a disk refused (%s)", err);
	CHECK(parse("partition g\nimage x\nbacking 64\nend\n") == -1 &&
	      strstr(err, "backing"), "backing without a disk refused (%s)", err);
	CHECK(parse("partition g\nimage x\ndevices ata\ndisk 8\nbacking 0\nend\n") == -1,
	      "backing 0 refused (%s)", err);
	CHECK(parse("partition g\nmemory 8\nend\n") == -1, "a partition without an image refused");
	CHECK(parse("partition g\nimage x\n") == -1 && strstr(err, "missing end"),
	      "missing end refused (%s)", err);
	CHECK(parse("image x\n") == -1, "a keyword outside a partition refused");
	CHECK(parse("partition g\npartition h\n") == -1, "nested partitions refused");
	CHECK(parse("partition Guest\nimage x\nend\n") == -1, "upper case name refused");
	CHECK(parse("partition g/../x\nimage x\nend\n") == -1, "name with a slash refused");
	CHECK(parse("partition abcdefghijklmnopq\nimage x\nend\n") == -1, "16-char name refused");
	CHECK(parse("partition g\nimage x\nend\npartition g\nimage y\nend\n") == -1 &&
	      strstr(err, "duplicate"), "duplicate names refused (%s)", err);
	CHECK(parse("partition g\nimage x\nmemory 8 9\nend\n") == -1 && strstr(err, "extra"),
	      "extra words refused (%s)", err);
	CHECK(parse("partition g\nimage x\nfrobnicate\nend\n") == -1, "unknown keyword refused");
	{
		char big[4096];
		size_t n = 0;

		for (unsigned i = 0; i < 64; i++)
			n += (size_t)ksnprintf(big + n, sizeof(big) - n,
					      "partition g%u\nimage x\nend\n", i);
		CHECK(parse(big) == 0 && cfg.count == 64, "64 partitions accepted");
		ksnprintf(big + n, sizeof(big) - n, "partition g64\nimage x\nend\n");
		CHECK(parse(big) == -1 && strstr(err, "too many") && strstr(err, "64"),
		      "a 65th partition refused, naming the limit (%s)", err);
	}
	{
		char longargs[300] = "partition g\nimage x\nargs ";

		memset(longargs + strlen(longargs), 'a', 200);
		longargs[sizeof(longargs) - 1] = '\0';
		CHECK(parse(longargs) == -1, "args longer than %u refused", PARTCFG_ARGS_MAX);
	}
	{
		const char nul[] = "partition g\nimage x\0y\nend\n";

		CHECK(partcfg_parse(nul, sizeof(nul) - 1, &cfg, err, sizeof(err)) == -1,
		      "a NUL inside the text refused (%s)", err);
	}
	/* Boot modules of a multiboot image. */
	CHECK(parse("partition m\nimage mb1\nmodule legacy a b=2\nmodule initrd\nend\n") == 0 &&
	      cfg.p[0].module_count == 2 && !strcmp(cfg.p[0].modules[0].name, "legacy") &&
	      !strcmp(cfg.p[0].modules[0].args, "a b=2") &&
	      !strcmp(cfg.p[0].modules[1].name, "initrd") && !cfg.p[0].modules[1].args[0],
	      "module lines: names and their arguments (%s)", err);
	CHECK(parse("partition m\nimage mb1\nmodule a\nmodule b\nmodule c\nmodule d\n"
		    "module e\nend\n") == -1, "a fifth module refused (%s)", err);
	CHECK(parse("partition m\nkernel vmlinuz\nmodule a\nend\n") == -1,
	      "a module beside a Linux kernel refused (%s)", err);
	CHECK(parse("partition m\nimage mb1\nmodule Bad!\nend\n") == -1,
	      "a bad module name refused (%s)", err);
	/* NICs on virtual switches. */
#define NICDEV "devices uart pci pic\n"
	CHECK(parse("partition a\nimage legacy\n" NICDEV "nic lan0 02:00:00:00:00:0a\nend\n"
		    "partition b\nimage legacy\n" NICDEV "nic lan0 02:AB:cd:00:00:0B e1000\nend\n") == 0 &&
	      cfg.p[0].nic_count == 1 && !strcmp(cfg.p[0].nics[0].sw, "lan0") &&
	      cfg.p[0].nics[0].mac[0] == 2 && cfg.p[0].nics[0].mac[5] == 0x0a &&
	      cfg.p[0].nics[0].model == PARTCFG_NIC_E1000 &&
	      cfg.p[1].nics[0].mac[1] == 0xab && cfg.p[1].nics[0].mac[2] == 0xcd &&
	      cfg.p[1].nics[0].mac[5] == 0x0b,
	      "nic lines: switch, MAC (either case), model e1000 by default and by name (%s)", err);
	CHECK(parse("partition a\nimage legacy\n" NICDEV "nic lan0 02:00:00:00:00:0a\nend\n"
		    "partition b\nimage legacy\n" NICDEV "nic lan1 02:00:00:00:00:0a\nend\n") == -1 &&
	      strstr(err, "already used") && strstr(err, "line 9"),
	      "a MAC used twice refused, naming the line (%s)", err);
	CHECK(parse("partition a\nimage legacy\n" NICDEV "nic lan0 03:00:00:00:00:01\nend\n") == -1 &&
	      strstr(err, "MAC"), "a multicast MAC refused (%s)", err);
	CHECK(parse("partition a\nimage legacy\n" NICDEV "nic lan0 00:00:00:00:00:00\nend\n") == -1,
	      "the all-zeros MAC refused (%s)", err);
	CHECK(parse("partition a\nimage legacy\n" NICDEV "nic lan0 02:00:00:00:00\nend\n") == -1 &&
	      parse("partition a\nimage legacy\n" NICDEV "nic lan0 02-00-00-00-00-01\nend\n") == -1 &&
	      parse("partition a\nimage legacy\n" NICDEV "nic lan0 02:00:00:00:00:0g\nend\n") == -1 &&
	      parse("partition a\nimage legacy\n" NICDEV "nic lan0\nend\n") == -1,
	      "short, wrongly separated, non-hex and missing MACs refused (%s)", err);
	CHECK(parse("partition a\nimage legacy\n" NICDEV "nic Lan! 02:00:00:00:00:01\nend\n") == -1 &&
	      strstr(err, "switch"), "a bad switch name refused (%s)", err);
	CHECK(parse("partition a\nimage legacy\n" NICDEV "nic lan0 02:00:00:00:00:01 rtl8139\nend\n") == -1 &&
	      strstr(err, "model"), "an unknown nic model refused (%s)", err);
	CHECK(parse("partition a\nimage legacy\n" NICDEV "nic lan0 02:00:00:00:00:01 e1000 x\nend\n") == -1 &&
	      strstr(err, "extra"), "words after the model refused (%s)", err);
	CHECK(parse("partition a\nimage legacy\n" NICDEV "nic lan0 02:00:00:00:00:01\n"
		    "nic lan0 02:00:00:00:00:02\nend\n") == -1 && strstr(err, "too many nics"),
	      "a second nic refused (one per partition) (%s)", err);
	CHECK(parse("partition a\nimage legacy\ndevices uart pic\nnic lan0 02:00:00:00:00:01\nend\n") == -1 &&
	      strstr(err, "pci"), "an e1000 without pci refused (%s)", err);
	CHECK(parse("switch lan0 uplink\npartition a\nimage legacy\n" NICDEV
		    "nic lan0 02:00:00:00:00:01\nend\nswitch lan1 uplink\n") == 0 &&
	      cfg.uplink_count == 2 && !strcmp(cfg.uplinks[0], "lan0") &&
	      !strcmp(cfg.uplinks[1], "lan1"), "switch lines: uplinks, before and after "
	      "partitions (%s)", err);
	CHECK(parse("switch lan0\n") == -1 && strstr(err, "uplink") &&
	      parse("switch lan0 uplink x\n") == -1 && strstr(err, "extra") &&
	      parse("switch lan0 uplink\nswitch lan0 uplink\n") == -1 &&
	      parse("switch Lan0 uplink\n") == -1 &&
	      parse("partition a\nimage x\nswitch lan0 uplink\nend\n") == -1,
	      "a switch line without uplink, with extra words, twice, with a bad name, "
	      "inside a partition: refused (%s)", err);
	CHECK(parse("partition a\nimage enlightened\ndevices uart\nnic lan0 02:00:00:00:00:01 netvsc\nend\n") == 0 &&
	      cfg.p[0].nics[0].model == PARTCFG_NIC_NETVSC,
	      "a netvsc nic needs neither pci nor pic (%s)", err);
	CHECK(!cfg.p[0].nics[0].macchange, "... and may not change its MAC by default");
	CHECK(parse("partition a\nimage enlightened\ndevices uart\n"
		    "nic lan0 02:00:00:00:00:01 netvsc macchange\nend\n") == 0 &&
	      cfg.p[0].nics[0].model == PARTCFG_NIC_NETVSC && cfg.p[0].nics[0].macchange == 1,
	      "nic ... netvsc macchange: the guest may change its MAC (%s)", err);
	CHECK(parse("partition a\nimage legacy\n" NICDEV
		    "nic lan0 02:00:00:00:00:01 e1000 macchange\nend\n") == -1 &&
	      strstr(err, "netvsc") &&
	      parse("partition a\nimage legacy\n" NICDEV
		    "nic lan0 02:00:00:00:00:01 macchange\nend\n") == -1 && strstr(err, "netvsc"),
	      "macchange on an e1000 (named or by default) refused (%s)", err);
	CHECK(parse("partition a\nimage enlightened\ndevices uart\n"
		    "nic lan0 02:00:00:00:00:01 netvsc macchange x\nend\n") == -1 &&
	      strstr(err, "extra") &&
	      parse("partition a\nimage enlightened\ndevices uart\n"
		    "nic lan0 02:00:00:00:00:01 macchange netvsc\nend\n") == -1 &&
	      parse("partition a\nimage enlightened\ndevices uart\n"
		    "nic lan0 02:00:00:00:00:01 netvsc macchange macchange\nend\n") == -1 &&
	      parse("partition a\nimage enlightened\ndevices uart\n"
		    "nic lan0 02:00:00:00:00:01 netvsc MACCHANGE\nend\n") == -1,
	      "words after macchange, macchange before the model, twice, in capitals: "
	      "refused (%s)", err);
	return done_testing();
}
