#!/usr/bin/env bats
# The build.sh entry point itself.

load helpers

@test "build.sh help lists every subcommand, from any directory" {
	cd /
	run "$TOP/build.sh" help
	assert_success
	for sub in help deps build iso run test bench fuzz clean; do
		assert_line --regexp "^  $sub( |$)"
	done
}

@test "an unknown subcommand fails with one clear line" {
	run "$TOP/build.sh" frobnicate
	assert_failure
	assert_line "build.sh: unknown subcommand 'frobnicate'"
}

@test "deps has nothing to do on a machine that has everything" {
	run "$TOP/build.sh" deps
	assert_success
	assert_output --regexp "^deps: nothing to do"
}

@test "a failing compile stops with one line naming the step" {
	local tree=$BATS_TEST_TMPDIR/tree
	mkdir -p "$tree"
	cp -r "$TOP/build.sh" "$TOP/Makefile" "$TOP/VERSION" "$TOP/include" \
		"$TOP/hypervisor" "$TOP/kernel" "$TOP/iso" "$tree/"
	echo "#error deliberately broken" >> "$tree/hypervisor/main.c"
	O=$tree/out run "$tree/build.sh" build
	assert_failure
	assert_line --partial "build.sh: build: compiling failed"
}
