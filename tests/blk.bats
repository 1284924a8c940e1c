#!/usr/bin/env bats
# The root's physical disk: a virtio-blk PCI device driven by the root,
# natively and as the root partition under isovisor: modern (1042) on
# bus 0 and behind a PCIe root port, transitional (1001, -drive
# if=virtio) through its virtio 1.0 interface. The root writes
# 64 KiB of xorshift32 words (seed 0x1505) at LBA 2048, flushes, reads them
# back; the host then checks the image file holds the same words.

load helpers

setup_file() {
	ISO=$(base_iso blk-root 1 0 "" "" "$TOP/tests/noguests.cfg")
	export ISO
	base_iso blk-native 3 0 "" "" "$TOP/tests/noguests.cfg" >/dev/null
}

# A zeroed 16 MiB raw image in the test's directory; sets img.
make_disk() {
	img=$BATS_TEST_TMPDIR/disk.img
	truncate -s 16M "$img"
}

disk_args() {
	echo "-drive file=$img,format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0,disable-legacy=on"
}

# The image holds the root's pattern at byte 2048 * 512: the same
# xorshift32 words, little-endian, recomputed by a tiny host program.
assert_disk_pattern() {
	local chk=$BATS_TEST_TMPDIR/chk
	cat >"$chk.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	static uint8_t b[65536];
	uint8_t w[4];
	uint32_t x = 0x1505;
	FILE *f = fopen(argv[1], "rb");

	if (!f || fseek(f, 2048L * 512, SEEK_SET) || fread(b, 1, sizeof(b), f) != sizeof(b))
		return 2;
	for (size_t i = 0; i < sizeof(b); i += 4) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		w[0] = x; w[1] = x >> 8; w[2] = x >> 16; w[3] = x >> 24;
		if (memcmp(b + i, w, 4)) {
			printf("pattern differs at byte %zu of the 64 KiB\n", i);
			return 1;
		}
	}
	return 0;
}
EOF
	gcc -O2 -o "$chk" "$chk.c" || fail "cannot build the pattern checker"
	run "$chk" "$img"
	[ "$status" -eq 0 ] || fail "disk image does not hold the pattern: $output (status $status)"
}

@test "virtio-blk under the hypervisor: 64 KiB written, flushed, read back, on the image" {
	make_disk
	# shellcheck disable=SC2046
	boot blk-bios "$ISO" -- -cpu max -smp 2 -m 256M $(disk_args)
	assert_boot_passed
	assert_line --regexp "^root: blk: virtio-blk at 00:[0-9a-f]{2}\.[0-7] \(modern 1af4:1042\), 32768 sectors"
	assert_line --regexp "^root: ok [0-9]+ - root blk: virtio-blk disk: 64 KiB written at LBA 2048, flushed, read back identical; reads past the end refused$"
	assert_line "hv: test result: PASS (as reported by the root partition)"
	assert_disk_pattern
}

@test "virtio-blk transitional (1001, -drive if=virtio) under the hypervisor: written, on the image" {
	make_disk
	boot blk-trans "$ISO" -- -cpu max -smp 2 -m 256M -drive "file=$img,format=raw,if=virtio"
	assert_boot_passed
	assert_line --regexp "^root: blk: virtio-blk at 00:[0-9a-f]{2}\.[0-7] \(transitional 1af4:1001\), 32768 sectors"
	assert_line --regexp "^root: ok [0-9]+ - root blk: virtio-blk disk: 64 KiB written at LBA 2048, flushed, read back identical; reads past the end refused$"
	assert_line --regexp "^root: ok [0-9]+ - root blk: completions arrive by MSI-X interrupt"
	assert_line "hv: test result: PASS (as reported by the root partition)"
	assert_disk_pattern
}

@test "virtio-blk behind a PCIe root port on q35 under the hypervisor: written, on the image" {
	make_disk
	boot blk-rootport "$ISO" -- -machine q35 -cpu max -smp 2 -m 256M \
		-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1 \
		-drive "file=$img,format=raw,if=none,id=d0" \
		-device virtio-blk-pci,drive=d0,bus=rp1,disable-legacy=on
	assert_boot_passed
	assert_line --regexp "^root: blk: virtio-blk at 01:00\.0 \(modern 1af4:1042\), 32768 sectors"
	assert_line --regexp "^root: ok [0-9]+ - root blk: virtio-blk disk: 64 KiB written at LBA 2048, flushed, read back identical; reads past the end refused$"
	assert_line --regexp "^root: ok [0-9]+ - root blk: completions arrive by MSI-X interrupt"
	assert_line "hv: test result: PASS (as reported by the root partition)"
	assert_disk_pattern
}

# Under OVMF the device behind the root port gets its 64-bit BAR above
# RAM (0xe0_0000_0000 seen): the hypervisor finds it by walking every bus
# (hypervisor/pcibars.c) and maps that GiB for the root.
@test "virtio-blk behind a PCIe root port on q35, UEFI: its 64-bit BAR above RAM is mapped" {
	make_disk
	boot blk-rootport-uefi "$ISO" --uefi -- -machine q35 -cpu max -smp 2 -m 256M \
		-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1 \
		-drive "file=$img,format=raw,if=none,id=d0" \
		-device virtio-blk-pci,drive=d0,bus=rp1,disable-legacy=on
	assert_boot_passed
	assert_line --regexp "^root: blk: virtio-blk at 01:00\.0 \(modern 1af4:1042\), 32768 sectors"
	assert_line --regexp "^root: ok [0-9]+ - root blk: virtio-blk disk: 64 KiB written at LBA 2048, flushed, read back identical; reads past the end refused$"
	assert_line "hv: test result: PASS (as reported by the root partition)"
	assert_disk_pattern
}

@test "virtio-blk natively: the same driver on the bare machine" {
	make_disk
	# shellcheck disable=SC2046
	boot blk-native "$O/tests/blk-native.iso" -- -cpu max -smp 2 -m 256M $(disk_args)
	assert_boot_passed
	refute_line --regexp "^hv: "
	assert_line --regexp "^root: ok [0-9]+ - root blk: virtio-blk disk: 64 KiB written at LBA 2048, flushed, read back identical; reads past the end refused$"
	assert_disk_pattern
}

@test "without a virtio-blk disk the check is skipped" {
	boot blk-nodisk "$ISO" -- -cpu max -smp 2 -m 256M
	assert_boot_passed
	assert_line --regexp "^root: ok [0-9]+ - root blk: virtio-blk disk: .* # SKIP no virtio-blk disk attached$"
	refute_line --regexp "^root: blk: "
}
