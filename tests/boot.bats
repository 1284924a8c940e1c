#!/usr/bin/env bats
# Boot the test ISO on both firmwares, several CPU counts and memory sizes,
# as a CD and as a raw disk; each run must report all TAP ok and pass.

load helpers

setup_file() {
	ISO=$(base_iso base-boot 1 0 "" "" "$TOP/tests/noguests.cfg")
	export ISO
}

# The allocator handed out a page above 4 GiB.
assert_high_memory_used() {
	local top
	top=$(sed -n 's/^[a-z]*: ok [0-9]* - hv memory: highest page handed out at \([0-9]*\) MiB.*/\1/p' <<<"$output")
	[ -n "$top" ] && [ "$top" -ge 4096 ] ||
		fail "no page above 4 GiB was handed out (highest: ${top:-none} MiB)"
}

@test "bios cd: 1 cpu, 256 MiB" {
	boot bios-cd-smp1 "$ISO" -- -cpu max -smp 1 -m 256M
	assert_boot_passed
	assert_boot_lines bios 1 200 256
	refute_line --partial "not ok"
}

@test "bios cd: 2 cpus, 256 MiB, qemu64 with svm" {
	boot bios-cd-smp2-qemu64 "$ISO" -- -cpu qemu64,+svm,+npt -smp 2 -m 256M
	assert_boot_passed
	assert_boot_lines bios 2 200 256
}

@test "bios cd: 4 cpus, 5 GiB (memory above 4 GiB)" {
	boot bios-cd-smp4-5g "$ISO" -- -cpu max -smp 4 -m 5G
	assert_boot_passed
	assert_boot_lines bios 4 4900 5120
	assert_high_memory_used
}

@test "bios disk: the ISO written to a hard disk boots, 2 cpus" {
	boot bios-disk-smp2 "$ISO" --disk -- -cpu max -smp 2 -m 256M
	assert_boot_passed
	assert_boot_lines bios 2 200 256
}

@test "uefi cd: 1 cpu, 256 MiB" {
	boot uefi-cd-smp1 "$ISO" --uefi -- -cpu max -smp 1 -m 256M
	assert_boot_passed
	assert_boot_lines uefi 1 150 256
}

@test "uefi cd: 2 cpus, 256 MiB" {
	boot uefi-cd-smp2 "$ISO" --uefi -- -cpu max -smp 2 -m 256M
	assert_boot_passed
	assert_boot_lines uefi 2 150 256
}

@test "uefi cd: 4 cpus, 5 GiB (memory above 4 GiB)" {
	boot uefi-cd-smp4-5g "$ISO" --uefi -- -cpu max -smp 4 -m 5G
	assert_boot_passed
	assert_boot_lines uefi 4 4800 5120
	assert_high_memory_used
}

@test "uefi disk: the ISO written to a hard disk boots, 2 cpus" {
	boot uefi-disk-smp2 "$ISO" --uefi --disk -- -cpu max -smp 2 -m 256M
	assert_boot_passed
	assert_boot_lines uefi 2 150 256
}
