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
