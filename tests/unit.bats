#!/usr/bin/env bats
# Host-compiled unit tests and fuzz targets of the portable C
# (kernel/lib), built with AddressSanitizer and UBSan by `make unit`.

load helpers

@test "unit tests pass under ASan/UBSan" {
	local n=0
	for t in "$O"/host/unit/test_*; do
		run "$t"
		[ "$status" -eq 0 ] || fail "$(basename "$t") failed: $(grep -v '^ok' <<<"$output" | head -20)"
		refute_output --partial "runtime error"
		refute_output --partial "AddressSanitizer"
		n=$((n + 1))
	done
	[ "$n" -ge 20 ] || fail "only $n unit test programs built"
}

@test "fuzz targets survive a deterministic mutation run" {
	local n=0
	for f in "$O"/host/fuzz/fuzz_*; do
		run "$f" -n 20000 -s 1
		[ "$status" -eq 0 ] || fail "$(basename "$f") crashed: $(tail -20 <<<"$output")"
		assert_output --partial "no crash"
		n=$((n + 1))
	done
	[ "$n" -ge 13 ] || fail "only $n fuzz targets built"
}

@test "iasl -d disassembles the child's ACPI tables without an error (when acpica-tools is installed)" {
	command -v iasl >/dev/null || skip "iasl (Debian's acpica-tools) is not installed"
	local d=$BATS_TEST_TMPDIR/acpi t
	mkdir -p "$d"
	ACPITAB_DUMP=$d "$O/host/unit/test_acpitab" >/dev/null
	for t in FACP APIC DSDT; do
		[ -s "$d/$t.dat" ] || fail "no $t table dumped"
		run iasl -d "$d/$t.dat"
		[ "$status" -eq 0 ] || fail "iasl -d $t: $output"
		refute_output --regexp '[Ee]rror|[Ww]arning'
	done
	# The DSDT's source has the VMBus device and \_S5.
	grep -q '"VMBUS"' "$d/DSDT.dsl" || fail "no VMBUS _HID in the DSDT: $(cat "$d/DSDT.dsl")"
	grep -q '_S5_' "$d/DSDT.dsl" || fail "no _S5 in the DSDT"
	grep -q 'I/O APIC' "$d/APIC.dsl" || fail "no I/O APIC in the MADT"
}
