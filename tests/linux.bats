#!/usr/bin/env bats
# Debian's own Linux kernel as a child partition (tests/linux.cfg; the
# kernel and initramfs come from images/linux/build.sh): booted by the x86
# boot protocol with its ACPI tables, on emulated devices only, in both
# designs and on BIOS and UEFI hosts. Its /init's TAP must pass, its dmesg
# reach the console under its prefix, its poweroff end the partition
# through ACPI S5, and the legacy guest beside it must still pass.

load helpers

setup_file() {
	base_iso linux-micro 1 0 "" "" "$TOP/tests/linux.cfg" >/dev/null
	base_iso linux-mono 5 0 "" "" "$TOP/tests/linux.cfg" >/dev/null
}

assert_linux_run() {
	local src=$1 kver
	kver=$(cut -d' ' -f1 "$O/linux/VERSION")
	assert_boot_passed
	refute_line --regexp '^(root|hv): not ok'
	# Loaded by the boot protocol, its dmesg under the partition's prefix.
	assert_line --regexp "^$src: linux: Linux boot protocol 2\.[0-9]+, kernel [0-9]+ KiB at 0x100000, initrd [0-9]+ KiB"
	assert_line --regexp "^linux: \[ *[0-9.]+\] Linux version ${kver//./\\.} "
	assert_line --regexp '^linux: \[ *[0-9.]+\] ACPI: RSDP 0x00000000000E0000 000024 \(v02 ISOVSR\)'
	assert_line --regexp "^$src: ok [0-9]+ - linux linux boot: kernel ${kver//./\\.} ran /init as PID 1"
	assert_line --regexp "^$src: ok [0-9]+ - linux linux cpuid: Hypervisor detected: Microsoft Hyper-V$"
	assert_line --regexp "^$src: ok [0-9]+ - linux linux acpi: the partition's tables .* S5 offered$"
	assert_line --regexp "^$src: ok [0-9]+ - linux linux cpus: 1 processor\(s\) online, 1 expected$"
	# It powered itself off through the PM block, and that ended its run.
	assert_line --regexp '^linux: \[ *[0-9.]+\] ACPI: PM: Preparing to enter system sleep state S5$'
	assert_line "$src: linux: ACPI S5: the partition powered itself off"
	assert_line --regexp "^$src: ok [0-9]+ - linux: finished with exit code 0, 5 of 5 TAP results$"
	assert_line --regexp "^$src: ok [0-9]+ - legacy: finished with exit code 0, 10 of 10 TAP results$"
	# Nothing it did was a fault or a touch of memory it does not own.
	refute_line --regexp '^hv: .*linux.*(triple fault|does not own|stopped)'
	refute_line --regexp '^linux: .*(Kernel panic|unchecked MSR access|BUG:|Oops)'
}

@test "Linux child, microkernelized, BIOS, -cpu max: boots, passes its TAP, powers off by ACPI S5" {
	boot linux-micro "$O/tests/linux-micro.iso" -- -cpu max -smp 2 -m 1G
	assert_linux_run root
}

@test "Linux child, monolithic, UEFI, qemu64+svm+npt: the same" {
	boot linux-mono-uefi "$O/tests/linux-mono.iso" --uefi -- -cpu qemu64,+svm,+npt -smp 2 -m 1G
	assert_linux_run hv
}

@test "Linux child, microkernelized, UEFI, 1 host CPU: the same" {
	boot linux-micro-uefi "$O/tests/linux-micro.iso" --uefi -- -cpu max -smp 1 -m 1G
	assert_linux_run root
}

@test "Linux child, monolithic, BIOS: the same" {
	boot linux-mono "$O/tests/linux-mono.iso" -- -cpu max -smp 2 -m 1G
	assert_linux_run hv
}
