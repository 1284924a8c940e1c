#!/usr/bin/env bats
# ./build.sh load (not in the default suite: about 6 minutes under TCG on
# 2 cores). tests/long/load32.cfg: 32 child partitions at once, 8 legacy
# guests whose every port access is an intercept and 24 enlightened guests
# (4 with 2 VPs) on their own ranges of the virtio-blk disk, in both designs. Nothing may
# be lost: no intercept message dropped, every partition reports how it
# ended, every TAP line ok, every enlightened guest's pattern on the disk.
# And the root's long churn self-test ran in the same boot: 1 100
# partitions created and deleted, memory back to where it started.

load ../helpers
load ../loadhelpers

# enl21-enl24 have 2 VPs: VP 1 started by VP 0, its port writes intercepts.
assert_two_vp_guests() {
	local i
	for i in 21 22 23 24; do
		assert_line --regexp "^$1: ok [0-9]+ - enl$i enlightened smp: VP 1 started with HvCallStartVirtualProcessor, ran 2000 intercepted port writes"
	done
}

setup_file() {
	# "churn": the root's long churn run, 1 100 partitions.
	base_iso load32-micro 1 0 "" "churn" "$TOP/tests/long/load32.cfg" >/dev/null
	base_iso load32-mono 5 0 "" "" "$TOP/tests/long/load32.cfg" >/dev/null
}

@test "microkernel, bios, 2 cpus: 32 children at once, nothing lost, 1100 partitions churned" {
	load_boot load32-micro 2G
	assert_load_run root 8 24
	assert_two_vp_guests root
	assert_line --regexp '^root: ok [0-9]+ - root churn: 64 child partitions exist at once'
	assert_line --regexp '^root: ok [0-9]+ - root churn: 1100 partitions created, given memory and deleted'
	assert_line --regexp '^root: ok [0-9]+ - root churn: no new partition read a deleted one.s data \(1100 x 4 pages'
	assert_line --regexp '^root: ok [0-9]+ - root churn: memory returns to its starting value'
	# Every page the root gave away was shot down on every CPU.
	assert_line --regexp '^hv: tlb: [1-9][0-9]* shootdowns, [0-9]+ CPUs kicked out of a guest for them$'
	assert_patterns_on_disk 24
}

@test "monolithic, bios, 2 cpus: the same 32 children, nothing lost" {
	load_boot load32-mono 2G
	assert_load_run hv 8 24
	assert_two_vp_guests hv
	assert_patterns_on_disk 24
}
