#!/usr/bin/env bats
# The SVM core with the root partition: the root runs on every CPU under
# nested paging, reaches the hypervisor through the TLFS interface, and
# reports one TAP stream that includes the hypervisor's own checks.

load helpers

setup_file() {
	# Entry 1: isovisor in test mode; entry 3: the root OS natively.
	ISO=$(base_iso base-root 1 0 "" "" "$TOP/tests/noguests.cfg")
	export ISO
	base_iso root-triple 1 0 "" crash=triple "$TOP/tests/noguests.cfg" >/dev/null
	base_iso root-native 3 0 "" "" "$TOP/tests/noguests.cfg" >/dev/null
}

# Every TAP line of the run is ok, and the plan matches the count.
assert_all_tap_ok() {
	local plan n
	refute_line --regexp "^root: not ok "
	plan=$(sed -n 's/^root: 1\.\.\([0-9]*\)$/\1/p' <<<"$output")
	n=$(grep -c '^root: ok ' <<<"$output" || true)
	[ -n "$plan" ] || fail "no TAP plan from the root"
	[ "$n" -eq "$plan" ] || fail "$n ok lines for a plan of $plan"
	[ "$plan" -ge 10 ] || fail "only $plan TAP results"
}

# One exit-counter line per root VP, and the run's result line.
assert_exit_counters() {
	local vps=$1 i
	for ((i = 0; i < vps; i++)); do
		assert_line --regexp "^hv: vp root/$i exits:( [a-z_]+=[0-9]+)*$"
	done
	assert_line --regexp "^hv: vp root/0 exits:.* cpuid=[0-9]+.* hypercall=[0-9]+"
	# The profile: what each kind of exit and each hypercall cost.
	assert_line --regexp "^hv: vp root/0 cycles per exit:.* cpuid=[1-9][0-9]*.* hypercall=[1-9][0-9]*"
	assert_line --regexp "^hv: hypercalls \(calls x average cycles\):.* IsovisorNull=[1-9][0-9]*x[1-9][0-9]*"
}

@test "root under the hypervisor, bios, 4 cpus: all TAP ok, exit counters per VP" {
	boot root-bios-smp4 "$ISO" -- -cpu max -smp 4 -m 512M
	assert_boot_passed
	assert_line --regexp "^root: isovisor root OS [^ ]+ \(hypervisor: Microsoft Hv\)$"
	assert_line "root: vps 4 online"
	# The hypervisor's calibration, not a second 10 ms one of our own.
	assert_line --regexp "^root: tsc: [1-9][0-9]* kHz \(from HV_X64_MSR_TSC_FREQUENCY\)$"
	assert_line --regexp "^root: ok [0-9]+ - hv cpus: 4 of 4 enabled cpus online$"
	assert_all_tap_ok
	assert_exit_counters 4
	assert_line "hv: test result: PASS (as reported by the root partition)"
}

@test "root under the hypervisor, uefi, 2 cpus, 5 GiB" {
	boot root-uefi-smp2-5g "$ISO" --uefi -- -cpu max -smp 2 -m 5G
	assert_boot_passed
	assert_line "root: vps 2 online"
	assert_all_tap_ok
	assert_exit_counters 2
}

@test "root under the hypervisor, 1 cpu, on the qemu64+svm+npt model" {
	boot root-bios-smp1-qemu64 "$ISO" -- -cpu qemu64,+svm,+npt -smp 1 -m 256M
	assert_boot_passed
	assert_line "root: vps 1 online"
	assert_all_tap_ok
	assert_exit_counters 1
}

@test "the root's console lines carry its prefix and arrive whole" {
	boot root-console "$ISO" -- -cpu max -smp 2 -m 256M
	assert_boot_passed
	# No line may mix sources: every line of the log has one prefix.
	local bad
	bad=$(tr -d '\r' < "$log" | grep -vE '^(hv|root): |^$|Booting|^\x1b|^ *$' || true)
	[ -z "$bad" ] || fail "lines without a source prefix: $bad"
	assert_line --regexp "^root: console: one line of 150 characters written in [0-9]+ pieces [0-9A-Za-z]{70,}$"
}

@test "a CPU without SVM (-cpu max,-svm) stops with a clear panic, not a hang" {
	boot no-svm "$ISO" -- -cpu max,-svm -smp 1 -m 256M
	assert_boot_failed
	assert_line --regexp "^hv: panic: this CPU has no AMD SVM; isovisor needs AMD SVM with nested paging"
}

@test "the hypervisor's interventions are logged: dropped INIT, unowned memory" {
	boot root-logs "$ISO" -- -cpu max -smp 2 -m 256M
	assert_boot_passed
	assert_line "hv: root vp 0: INIT IPI to APIC 1 dropped (VPs are started with HvCallStartVirtualProcessor)"
	assert_line --regexp "^hv: root vp 0: read of 8 byte\(s\) at GPA 0x100000, which it does not own: reads all ones \([0-9]+ so far\)$"
	assert_line --regexp "^hv: root vp 0: write of 8 byte\(s\) at GPA 0x100000, which it does not own: dropped \([0-9]+ so far\)$"
}

@test "exit counts are exact: two identical runs give identical counters" {
	local first
	boot root-repeat-1 "$ISO" -- -cpu max -smp 2 -m 256M
	assert_boot_passed
	first=$(grep '^hv: vp root/[0-9]* exits:' <<<"$output")
	[ -n "$first" ] || fail "no exit counter lines"
	boot root-repeat-2 "$ISO" -- -cpu max -smp 2 -m 256M
	assert_boot_passed
	[ "$(grep '^hv: vp root/[0-9]* exits:' <<<"$output")" = "$first" ] ||
		fail "counters differ between runs: $first // $(grep '^hv: vp root/[0-9]* exits:' <<<"$output")"
}

@test "a root triple fault is fatal: panic with the root's registers" {
	boot root-triple "$O/tests/root-triple.iso" -- -cpu max -smp 2 -m 256M
	assert_boot_failed
	assert_line "hv: root partition stopped: triple fault"
	assert_line --regexp "^hv:   root vp 0: rip=[0-9a-f]{16} rflags=[0-9a-f]+ cpl=0$"
	assert_line --regexp "^hv:   cr0=[0-9a-f]{16} cr3=[0-9a-f]{16} cr4=[0-9a-f]{16} efer=[0-9a-f]{16}$"
	assert_line "hv: panic: root partition triple fault (cpu 0)"
}

@test "the root OS boots natively under GRUB and says there is no hypervisor" {
	boot root-native "$O/tests/root-native.iso" -- -cpu max -smp 2 -m 256M
	assert_boot_passed
	assert_line --regexp "^root: isovisor root OS [^ ]+ \(native, no hypervisor\)$"
	assert_line "root: vps 2 online"
	refute_line --regexp "^hv: "
	refute_line --regexp "^root: not ok "
	assert_line --regexp "^root: ok [0-9]+ - .* # SKIP native boot$"
	assert_line --regexp "^root: test result: PASS"
}
