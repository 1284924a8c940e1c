#!/usr/bin/env bats
# A child with two VPs (tests/smpguest.cfg): the enlightened guest's VP 0
# starts VP 1 with HvCallStartVirtualProcessor (its own CR3, IDT, a GDT,
# TSS and stack of VP 1's own); VP 1 makes 2000 writes to port 0x80, each
# an intercept the host completes, counts them, reads HV_X64_MSR_VP_INDEX
# and halts. Starting VP 1 again and VP 2 (one past the last) must be
# refused. Both designs; and one CPU for everything, where both VPs share
# the CPU with the root.
#
# The test found two faults, since fixed: the partition manager completed
# every intercept on VP 0 (so VP 1 hung and VP 0 ran on with VP 1's
# registers), and a child could not have more VPs than the host has CPUs.

load helpers

setup_file() {
	base_iso smp-micro 1 0 "" "" "$TOP/tests/smpguest.cfg" >/dev/null
	base_iso smp-mono 5 0 "" "" "$TOP/tests/smpguest.cfg" >/dev/null
	base_iso smp-spread 1 0 "spread" "" "$TOP/tests/smpguest.cfg" >/dev/null
}

# $1: the prefix the gathered TAP lines carry (root, or hv in the
# monolithic design).
assert_smp_guest_passed() {
	local p=$1
	assert_boot_passed
	refute_line --regexp '^(root|hv): not ok'
	assert_line --regexp "^$p: ok [0-9]+ - enl2 enlightened smp: VP 1 started with HvCallStartVirtualProcessor, ran 2000 intercepted port writes \(VP index 1\)$"
	assert_line --regexp "^$p: ok [0-9]+ - enl2 enlightened smp: starting VP 1 again gets HV_STATUS_INVALID_VP_STATE \(0x15\), VP index 2 gets HV_STATUS_INVALID_VP_INDEX \(0xe\)$"
	# The 17 checks of an enlightened guest without a disk, and these 2.
	assert_line --regexp "^$p: ok [0-9]+ - enl2: finished with exit code 0, 19 of 19 TAP results$"
	assert_line --regexp '^enl2: # smp: VP 1: start status 0x0, done yes .* hypervisor.s io exits 2000$'
}

# The root scheduled both VPs (HvCallDispatchVp): VP 1's 2000 port writes
# came back as exactly 2000 intercepts, each answered before the next (the
# guest checks its count), and once VP 1 halted the root stopped running
# it: a root that kept dispatching a halted VP would show thousands of
# BLOCKED returns here, not the two (before its start, after its halt).
assert_root_scheduled() {
	assert_line --regexp '^hv: vp enl2/1 dispatches: [0-9]+, blocked [1-4], intercepts 2000$'
	assert_line --regexp '^hv: vp enl2/0 dispatches: [0-9]+, blocked [0-9], intercepts [0-9]+$'
}

@test "smp guest, microkernelized, 2 cpus: VP 1 started by the child, its 2000 port writes completed by the root" {
	boot smp-micro-smp2 "$O/tests/smp-micro.iso" -- -cpu max -smp 2 -m 1G
	assert_line "hv: cpus 2 online"
	assert_smp_guest_passed root
	assert_root_scheduled
}

@test "smp guest, monolithic, 2 cpus: VP 1 started by the child, its 2000 port writes completed in the hypervisor" {
	boot smp-mono-smp2 "$O/tests/smp-mono.iso" -- -cpu qemu64,+svm,+npt -smp 2 -m 1G
	assert_smp_guest_passed hv
	assert_line --regexp '^hv: vp enl2/1 exits: .*io=2000( |$)'
}

@test "smp guest, microkernelized, 1 cpu: both VPs of the child share the CPU with the root" {
	boot smp-micro-smp1 "$O/tests/smp-micro.iso" -- -cpu max -smp 1 -m 1G
	assert_line "hv: cpus 1 online"
	assert_smp_guest_passed root
	assert_root_scheduled
}

@test "smp guest, microkernelized, 2 cpus, spread: the child runs on CPU 1, its intercepts cross to root VP 0" {
	boot smp-spread-smp2 "$O/tests/smp-spread.iso" -- -cpu max -smp 2 -m 1G
	assert_smp_guest_passed root
	# The root's AP halted to lend its CPU: it took HLT exits.
	assert_line --regexp '^hv: vp root/1 exits: .*hlt=[1-9]'
}
