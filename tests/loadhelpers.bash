# Shared by tests/load.bats (the default suite's 8 children) and
# tests/long/load.bats (./build.sh load: 32 children and the long churn).
# A config's legacy guests are leg1..legN, its enlightened ones enl1..enlM;
# enlI writes a 1 MiB pattern, seed 100+I, at MiB 64+4*(I-1) of the disk.

load_disk() {
	img=$BATS_TEST_TMPDIR/disk.img
	truncate -s 256M "$img"
}

# load_boot NAME MEM: boots out/tests/NAME.iso on -smp 2 -m MEM with a
# fresh 256 MiB disk image as a modern virtio-blk device.
load_boot() {
	local name=$1 mem=$2
	load_disk
	BOOT_TIMEOUT=${LOAD_TIMEOUT:-1500} boot "$name" "$O/tests/$name.iso" -- \
		-cpu max -smp 2 -m "$mem" \
		-drive "file=$img,format=raw,if=none,id=d0" \
		-device virtio-blk-pci,drive=d0,disable-legacy=on
}

# assert_load_run PREFIX NLEGACY NENLIGHTENED
assert_load_run() {
	local prefix=$1 nleg=$2 nenl=$3 i
	assert_boot_passed
	refute_line --regexp '^(root|hv): not ok'
	refute_line --regexp 'message lost'
	refute_line --regexp '^hv: panic'
	for i in $(seq 1 "$nleg"); do
		assert_line --regexp "^$prefix: ok [0-9]+ - leg$i: finished with exit code 0, 10 of 10 TAP results$"
	done
	for i in $(seq 1 "$nenl"); do
		assert_line --regexp "^$prefix: ok [0-9]+ - enl$i: finished with exit code 0, [0-9]+ of [0-9]+ TAP results$"
		assert_line --regexp "^$prefix: ok [0-9]+ - enl$i: shut down cleanly through the shutdown IC$"
	done
}

# Each enlightened guest's pattern is in its own range of the disk image
# (run replaces $lines: check it last).
assert_patterns_on_disk() {
	local nenl=$1 i
	for i in $(seq 1 "$nenl"); do
		run "$O/host/tools/diskcheck" "$img" $((64 + 4 * (i - 1))) 1 $((100 + i))
		assert_success
	done
}
