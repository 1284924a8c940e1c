#!/usr/bin/env bats
# The synthetic path (tests/synthetic.cfg): an enlightened guest reaches
# its SCSI disk through VMBus (storvsc in the guest, storvsp in the root
# or, monolithic, in the hypervisor) onto a range of the machine's
# virtio-blk disk, with the heartbeat and shutdown ICs and its hostile
# subtests, next to a legacy guest on emulated devices. After each run
# the host checks the guest's pattern is in the disk image file at the
# offset the config names (MiB 64, 16 MiB, seed 7).

load helpers

setup_file() {
	base_iso syn-micro 1 0 "" "" "$TOP/tests/synthetic.cfg" >/dev/null
	base_iso syn-mono 5 0 "" "" "$TOP/tests/synthetic.cfg" >/dev/null
}

make_disk() {
	img=$BATS_TEST_TMPDIR/disk.img
	truncate -s 128M "$img"
}

disk_args() {
	echo "-drive file=$img,format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0,disable-legacy=on"
}

# Every result of the run is ok, the enlightened guest's included.
assert_synthetic_run() {
	assert_boot_passed
	refute_line --regexp '^(root|hv): not ok'
	assert_line --regexp '^(root|hv): ok [0-9]+ - enl enlightened vmbus: connected at version 5\.3; offers: storage yes, heartbeat yes, shutdown yes'
	assert_line --regexp '^(root|hv): ok [0-9]+ - enl enlightened storvsc: 16 MiB pattern \(seed 7\) written'
	assert_line --regexp '^(root|hv): ok [0-9]+ - enl enlightened storvsc: a read past the end .* ILLEGAL REQUEST / LBA OUT OF RANGE'
	assert_line --regexp '^(root|hv): ok [0-9]+ - enl enlightened storvsc: at most one exit per 64 KiB moved'
	assert_line --regexp '^(root|hv): ok [0-9]+ - enl enlightened ics: heartbeat answered'
	assert_line --regexp '^(root|hv): ok [0-9]+ - enl enlightened hostile: malformed channel messages ignored, a GPADL naming pages we do not own refused'
	# A REQUESTOFFERS flood the guest does not read: back-pressure, no drop.
	assert_line --regexp '^(root|hv): ok [0-9]+ - enl enlightened hostile: 64 REQUESTOFFERS while not reading our SynIC: [1-9][0-9]* taken and every one answered in full, [1-9][0-9]* refused with INSUFFICIENT_BUFFERS, none dropped'
	assert_line --regexp '^(root|hv): enl synthetic path: .*; [1-9][0-9]* held back$'
	# The pattern's 32 READs and WRITEs of 1 MiB went by the disk's DMA
	# straight to the guest's pages (no copy); INQUIRY and the like copy.
	assert_line --regexp '^(root|hv): enl synthetic path: [0-9]+ storvsp requests \((3[2-9]|[4-9][0-9]|[1-9][0-9]{2,}) by DMA to the guest.s pages\)'
	assert_line --regexp '^(root|hv): ok [0-9]+ - enl enlightened hostile: a ring with a corrupt write index gets the storage channel closed'
	assert_line --regexp '^(root|hv): ok [0-9]+ - enl: shut down cleanly through the shutdown IC$'
	assert_line --regexp '^(root|hv): ok [0-9]+ - enl: finished with exit code 0, 24 of 24 TAP results$'
	assert_line --regexp '^(root|hv): ok [0-9]+ - legacy: finished with exit code 0, 10 of 10 TAP results$'
	# The host logged what it refused and the channel it closed.
	assert_line --regexp 'enl vmbus: gpadl 0x[0-9a-f]+ refused: pfn 0x[0-9a-f]+ not owned by the partition'
	assert_line --regexp 'enl vmbus: storage channel 1: .*; closing the channel'
	run "$O/host/tools/diskcheck" "$img" 64 16 7
	assert_success
}

@test "synthetic path, microkernelized: storvsc -> VMBus -> root storvsp -> virtio-blk, pattern on the disk" {
	make_disk
	boot syn-micro "$O/tests/syn-micro.iso" -- -cpu max -smp 2 -m 1G $(disk_args)
	assert_synthetic_run
	grep -q '^root: enl vmbus: storage channel 1 open' "$log"
}

@test "synthetic path, monolithic: storvsc -> VMBus -> hypervisor storvsp -> virtio-blk, pattern on the disk" {
	make_disk
	boot syn-mono "$O/tests/syn-mono.iso" -- -cpu qemu64,+svm,+npt -smp 2 -m 1G $(disk_args)
	assert_synthetic_run
	grep -q '^hv: enl vmbus: storage channel 1 open' "$log"
}

@test "synthetic path, microkernelized, UEFI (q35, the disk's BAR above 4 GiB): pattern on the disk" {
	make_disk
	boot syn-micro-uefi "$O/tests/syn-micro.iso" --uefi -- -cpu max -smp 2 -m 1G $(disk_args)
	assert_synthetic_run
}

@test "synthetic path, monolithic, UEFI, qemu64+svm+npt: pattern on the disk" {
	make_disk
	boot syn-mono-uefi "$O/tests/syn-mono.iso" --uefi -- -cpu qemu64,+svm,+npt -smp 2 -m 1G $(disk_args)
	assert_synthetic_run
}

@test "synthetic path without a physical disk: storage skips name the missing disk, the rest passes" {
	boot syn-nodisk "$O/tests/syn-micro.iso" -- -cpu max -smp 2 -m 1G
	assert_boot_passed
	refute_line --regexp '^root: not ok'
	assert_line --regexp '^root: ok [0-9]+ - enl: synthetic disk on the physical disk # SKIP no virtio-blk disk attached$'
	assert_line --regexp '^root: ok [0-9]+ - enl enlightened storvsc: init # SKIP'
	assert_line --regexp '^root: ok [0-9]+ - enl: shut down cleanly through the shutdown IC$'
	assert_line --regexp '^root: ok [0-9]+ - legacy: finished with exit code 0, 10 of 10 TAP results$'
}

@test "a guest whose heartbeat stops is logged and reported by the host (and nothing else fails)" {
	base_iso syn-hbstop 1 0 "" "" "$TOP/tests/hbstop.cfg" >/dev/null
	boot syn-hbstop "$O/tests/syn-hbstop.iso" -- -cpu max -smp 2 -m 1G
	assert_boot_failed
	assert_line --regexp '^root: enl vmbus: heartbeat stopped: no answer for [0-9]+ s'
	assert_line --regexp '^root: enl vmbus: heartbeat is back'
	assert_line --regexp '^root: not ok [0-9]+ - enl: heartbeat IC answered [0-9]+ heartbeats, stopped 1 times$'
	# It is the only failure: the guest itself and its shutdown are fine.
	[ "$(grep -c '^root: not ok' <<<"$output")" = 1 ] || fail "more than the heartbeat failed"
	assert_line --regexp '^root: ok [0-9]+ - enl: shut down cleanly through the shutdown IC$'
}
