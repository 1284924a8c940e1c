#!/usr/bin/env bats
# The hostile storm (tests/hostile.cfg): an enlightened guest throws
# 100 000 malformed operations (seed 7) at the hypervisor and the root
# beside a legacy guest, each with its disk on a range of one virtio-blk
# disk (storm: MiB 64-80, legacy: MiB 16-24). Nothing may panic, the
# neighbour must pass untouched, the storm's own checks must hold, and on
# the disk only the legacy guest's 4 MiB pattern (MiB 16-20, seed 3), the
# storm's own range and the root's virtio-blk self-test (64 KiB at MiB 1)
# may differ from before.

load helpers

setup_file() {
	base_iso hostile-micro 1 0 "" "" "$TOP/tests/hostile.cfg" >/dev/null
	base_iso hostile-mono 5 0 "" "" "$TOP/tests/hostile.cfg" >/dev/null
}

# A 128 MiB disk of random bytes, so "unchanged" means something.
make_disk() {
	img=$BATS_TEST_TMPDIR/disk.img
	head -c 128M /dev/urandom >"$img"
}

disk_args() {
	echo "-drive file=$img,format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0,disable-legacy=on"
}

# sha256 of MiB [from, to) of the image.
range_sum() {
	dd if="$img" bs=1M skip="$1" count=$(($2 - $1)) status=none | sha256sum | cut -d' ' -f1
}

# Everything outside the storm's range and the legacy pattern, less MiB
# 1-2: the root's own virtio-blk self-test writes 64 KiB at LBA 2048 in
# the microkernelized design (tests/blk.bats checks that pattern).
outside_sums() {
	echo "$(range_sum 0 1) $(range_sum 2 16) $(range_sum 20 64) $(range_sum 80 128)"
}

assert_storm_run() {
	local before=$1 n
	assert_boot_passed
	# The hypervisor's, the root's or a guest's panic line.
	refute_line --regexp '^[a-z0-9_-]+: panic'
	refute_line --partial 'intercept message lost'
	refute_line --regexp '^(root|hv): not ok'
	assert_line --regexp '^(root|hv): ok [0-9]+ - legacy: finished with exit code 0, 10 of 10 TAP results$'
	assert_line --regexp '^(root|hv): ok [0-9]+ - storm hostile: [0-9]+ malformed operations \(hypercall [0-9]+, msr [0-9]+, io [0-9]+, vmbus [0-9]+, scsi [0-9]+\), seed 7; hypervisor and root still answer$'
	n=$(grep -oE '^(root|hv): ok [0-9]+ - storm hostile: [0-9]+ malformed' "$log" | grep -oE '[0-9]+ malformed' | cut -d' ' -f1)
	[ "$n" -ge 100000 ] || fail "the storm ran $n operations, not 100000"
	assert_line --regexp '^(root|hv): ok [0-9]+ - storm hostile: [0-9]+ statuses and faults as the TLFS and the hardware define them, 0 mismatches$'
	assert_line --regexp '^(root|hv): ok [0-9]+ - storm hostile: every storage packet that asked got one completion, in order'
	assert_line --regexp '^(root|hv): ok [0-9]+ - storm hostile: a corrupt ring write index after the storm gets the storage channel closed by the host'
	assert_line --regexp 'storm vmbus: storage channel 1: .*; closing the channel'
	assert_line --regexp '^(root|hv): ok [0-9]+ - storm: finished with exit code 0'
	# The disk: the neighbour's pattern is there, intact; nothing else
	# outside the storm's own range moved.
	run "$O/host/tools/diskcheck" "$img" 16 4 3
	assert_success
	[ "$(outside_sums)" = "$before" ] || fail "bytes outside the two guests' ranges (or in the legacy guest's unused MiB 20-24) changed"
}

@test "hostile storm, microkernelized: 100000 malformed operations, the neighbour and the disk unharmed" {
	make_disk
	local before
	before=$(outside_sums)
	boot hostile-micro "$O/tests/hostile-micro.iso" -- -cpu max -smp 2 -m 1G $(disk_args)
	assert_storm_run "$before"
	grep -q '^root: storm vmbus: storage channel 1 open' "$log"
	grep -a 'storm: # storm: [0-9]* operations in' "$log" >&3 || true
}

@test "hostile storm, monolithic: 100000 malformed operations, the neighbour and the disk unharmed" {
	make_disk
	local before
	before=$(outside_sums)
	boot hostile-mono "$O/tests/hostile-mono.iso" -- -cpu max -smp 2 -m 1G $(disk_args)
	assert_storm_run "$before"
	grep -q '^hv: storm vmbus: storage channel 1 open' "$log"
	grep -a 'storm: # storm: [0-9]* operations in' "$log" >&3 || true
}

@test "hostile storm, microkernelized, UEFI: 100000 malformed operations, the neighbour and the disk unharmed" {
	make_disk
	local before
	before=$(outside_sums)
	boot hostile-micro-uefi "$O/tests/hostile-micro.iso" --uefi -- -cpu max -smp 2 -m 1G $(disk_args)
	assert_storm_run "$before"
}
