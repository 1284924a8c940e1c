#!/usr/bin/env bats
# Fatal paths: an exception in the hypervisor is reported with its vector,
# error code, address and registers, every CPU stops, and test mode
# reports failure.

load helpers

setup_file() {
	base_iso crash-ud 1 0 crash=ud "" "$TOP/tests/noguests.cfg" >/dev/null
}

@test "an invalid opcode in the hypervisor panics with registers and fails the run" {
	boot crash-ud "$O/tests/crash-ud.iso" -- -cpu max -smp 2 -m 256M
	assert_boot_failed
	assert_line --regexp "^hv: panic: exception 6 \(#UD invalid opcode\) error 0x0 at rip [0-9a-f]{16} \(cpu 0\)$"
	assert_line --regexp "^hv:   rip=[0-9a-f]{16} cs=0008 rflags="
	assert_line --regexp "^hv:   rax=[0-9a-f]{16} rbx="
	assert_line --regexp "^hv:   cr0=[0-9a-f]{16} cr2="
	assert_line --regexp "^hv:   backtrace #0 [0-9a-f]{16}$"
	refute_line --partial "TAP version"
}
