#!/usr/bin/env bats
# The ISO itself: hybrid layout, and byte-identical across two builds.

load helpers

@test "the ISO is hybrid: MBR, GPT with an EFI system partition, ISO 9660" {
	local iso=$O/isovisor.iso
	[ -f "$iso" ] || fail "no $iso; run ./build.sh iso"
	# MBR boot signature at 510, a bootable ISO 9660 volume at 32 KiB.
	run od -An -tx1 -j510 -N2 "$iso"
	assert_output " 55 aa"
	run dd if="$iso" bs=1 skip=32769 count=5 status=none
	assert_output "CD001"
	# A GPT header at LBA 1 and, among its entries, the EFI system
	# partition type GUID C12A7328-F81F-11D2-BA4B-00A0C93EC93B.
	run dd if="$iso" bs=1 skip=512 count=8 status=none
	assert_output "EFI PART"
	od -An -tx1 -v -N 16384 "$iso" | tr -d '\n' |
		grep -q "28 73 2a c1 1f f8 d2 11 ba 4b 00 a0 c9 3e c9 3b" ||
		fail "no EFI system partition entry in the GPT"
}

@test "two builds of the same tree give byte-identical ISOs" {
	local a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b
	O=$a "$TOP/build.sh" iso >/dev/null 2>&1 || fail "first build failed"
	O=$b "$TOP/build.sh" iso >/dev/null 2>&1 || fail "second build failed"
	cmp "$a/isovisor.iso" "$b/isovisor.iso" ||
		fail "ISOs differ: $(cmp -l "$a/isovisor.iso" "$b/isovisor.iso" | wc -l) bytes"
}
