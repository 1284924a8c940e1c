#!/usr/bin/env bats
# The ISO itself: hybrid layout, and byte-identical across two builds.

load helpers

@test "the ISO is hybrid: an MBR with an EFI system partition" {
	local iso=$O/isovisor.iso
	[ -f "$iso" ] || fail "no $iso; run ./build.sh iso"
	# MBR boot signature at 510, a bootable ISO 9660 volume at 32 KiB.
	run od -An -tx1 -j510 -N2 "$iso"
	assert_output " 55 aa"
	run dd if="$iso" bs=1 skip=32769 count=5 status=none
	assert_output "CD001"
	# One of the four MBR partition entries has type 0xef (EFI system).
	local types
	types=$(for i in 0 1 2 3; do od -An -tx1 -j$((446 + 16 * i + 4)) -N1 "$iso"; done)
	[[ $types == *ef* ]] || fail "no EFI system partition in the MBR (types:$types)"
}

@test "two builds of the same tree give byte-identical ISOs" {
	local a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b
	O=$a "$TOP/build.sh" iso >/dev/null 2>&1 || fail "first build failed"
	O=$b "$TOP/build.sh" iso >/dev/null 2>&1 || fail "second build failed"
	cmp "$a/isovisor.iso" "$b/isovisor.iso" ||
		fail "ISOs differ: $(cmp -l "$a/isovisor.iso" "$b/isovisor.iso" | wc -l) bytes"
}
