#!/usr/bin/env bats
# Load (tests/load.cfg): the case issue 10 reported, 8 child partitions at
# once on 2 CPUs, 7 legacy guests whose every port access is an intercept
# and 1 enlightened guest on its range of the virtio-blk disk, in both
# designs. Nothing may be lost: no intercept message dropped, every
# partition reports how it ended, every TAP line ok, the pattern on the
# disk. The 32-children run and the long churn: ./build.sh load.

load helpers
load loadhelpers

setup_file() {
	base_iso load-micro 1 0 "" "" "$TOP/tests/load.cfg" >/dev/null
	base_iso load-mono 5 0 "" "" "$TOP/tests/load.cfg" >/dev/null
}

@test "microkernel, bios, 2 cpus, 1536 MiB: 8 children at once, nothing lost" {
	load_boot load-micro 1536M
	assert_load_run root 7 1
	# The root's short churn ran in the same boot.
	assert_line --regexp '^root: ok [0-9]+ - root churn: 64 child partitions exist at once'
	assert_line --regexp '^root: ok [0-9]+ - root churn: memory returns to its starting value'
	assert_patterns_on_disk 1
}

@test "monolithic, bios, 2 cpus, 1536 MiB: the same 8 children, nothing lost" {
	load_boot load-mono 1536M
	assert_load_run hv 7 1
	assert_patterns_on_disk 1
}
