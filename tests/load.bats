#!/usr/bin/env bats
# Load and limits (tests/load.cfg): 32 child partitions at once, 8 legacy
# guests whose every port access is an intercept and 24 enlightened guests
# on their own ranges of the virtio-blk disk, in both designs. Nothing may
# be lost: no intercept message dropped, every partition reports how it
# ended, every TAP line ok, every enlightened guest's pattern on the disk.
# And the root's churn self-test ran in the same boot: thousands of
# partitions created and deleted, memory back to where it started.

load helpers

setup_file() {
	# "churn": the root's long churn run, 1 100 partitions.
	base_iso load-micro 1 0 "" "churn" "$TOP/tests/load.cfg" >/dev/null
	base_iso load-mono 5 0 "" "" "$TOP/tests/load.cfg" >/dev/null
}

make_disk() {
	img=$BATS_TEST_TMPDIR/disk.img
	truncate -s 256M "$img"
}

assert_load_run() {
	local prefix=$1 i
	assert_boot_passed
	refute_line --regexp '^(root|hv): not ok'
	refute_line --regexp 'message lost'
	refute_line --regexp '^hv: panic'
	for i in $(seq 1 8); do
		assert_line --regexp "^$prefix: ok [0-9]+ - leg$i: finished with exit code 0, 9 of 9 TAP results$"
	done
	for i in $(seq 1 24); do
		assert_line --regexp "^$prefix: ok [0-9]+ - enl$i: finished with exit code 0, [0-9]+ of [0-9]+ TAP results$"
		assert_line --regexp "^$prefix: ok [0-9]+ - enl$i: shut down cleanly through the shutdown IC$"
	done
}

# Each enlightened guest's 1 MiB pattern is in its own range of the disk
# image, 4 MiB apart from MiB 64 (run replaces $lines: check it last).
assert_patterns_on_disk() {
	local i
	for i in $(seq 1 24); do
		run "$O/host/tools/diskcheck" "$img" $((64 + 4 * (i - 1))) 1 $((100 + i))
		assert_success
	done
}

@test "microkernel, bios, 2 cpus: 32 children at once, nothing lost" {
	make_disk
	BOOT_TIMEOUT=1500 boot load-micro "$O/tests/load-micro.iso" -- -cpu max -smp 2 -m 2G \
		-drive "file=$img,format=raw,if=none,id=d0" \
		-device virtio-blk-pci,drive=d0,disable-legacy=on
	assert_load_run root
	assert_line --regexp '^root: ok [0-9]+ - root churn: 64 child partitions exist at once'
	assert_line --regexp '^root: ok [0-9]+ - root churn: 1100 partitions created, given memory and deleted'
	assert_line --regexp '^root: ok [0-9]+ - root churn: no new partition read a deleted one.s data \(1100 x 4 pages'
	assert_line --regexp '^root: ok [0-9]+ - root churn: memory returns to its starting value'
	# Every page the root gave away was shot down on every CPU.
	assert_line --regexp '^hv: tlb: [1-9][0-9]* shootdowns, [0-9]+ CPUs kicked out of a guest for them$'
	assert_patterns_on_disk
}

@test "monolithic, bios, 2 cpus: the same 32 children, nothing lost" {
	make_disk
	BOOT_TIMEOUT=1500 boot load-mono "$O/tests/load-mono.iso" -- -cpu max -smp 2 -m 2G \
		-drive "file=$img,format=raw,if=none,id=d0" \
		-device virtio-blk-pci,drive=d0,disable-legacy=on
	assert_load_run hv
	assert_patterns_on_disk
}
