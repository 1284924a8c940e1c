#!/usr/bin/env bats
# The hardware matrix (ci/): the runner's verdicts, reports and JUnit
# output on canned serial logs (tests/matrix/, no emulator), the CI
# engines generated from ci/matrix.cfg in sync, and one real run of the
# small "ci" tag.

load helpers

# The canned cells (tests/matrix/canned.cfg) once per file.
setup_file() {
	CANNED=$BATS_FILE_TMPDIR/canned
	export CANNED
	"$TOP/ci/run-matrix" --config "$TOP/tests/matrix/canned.cfg" --out "$CANNED" -j 4 \
		>"$BATS_FILE_TMPDIR/canned.out" 2>&1 || echo $? >"$BATS_FILE_TMPDIR/canned.rc"
}

verdict_of() {
	awk -F'\t' -v c="$1" '$1 == c { print $2 }' "$CANNED/results.tsv"
}

@test "matrix.cfg parses: every cell has the axes, names are unique, the ci tag is small" {
	run awk -f "$TOP/ci/cells.awk" "$TOP/ci/matrix.cfg"
	assert_success
	local n ci
	n=$(wc -l <<<"$output")
	[ "$n" -ge 30 ] || fail "only $n cells"
	[ "$(cut -f1 <<<"$output" | sort | uniq -d)" = "" ] || fail "duplicate cell names"
	ci=$(grep -c $'\ttags=[^\t]*\\bci\\b' <<<"$output")
	[ "$ci" -ge 1 ] && [ "$ci" -le 3 ] || fail "the ci tag has $ci cells (1..3 wanted)"
	local axis
	for axis in emulator accel machine firmware cpu smp memory boot disk nic iommu design config expect; do
		[ "$(grep -c $'\t'"$axis=" <<<"$output")" = "$n" ] || fail "a cell lacks $axis"
	done
	# AHCI and NVMe disks have no driver yet: their cells must say so.
	run grep -P '\tdisk=(ahci|nvme)\t' <<<"$output"
	refute_output --regexp 'expect=pass'
}

@test "matrix.cfg: a bad key, an unknown profile and an unended block are errors with the line" {
	printf 'cell a\n  colour blue\nend\ncell b\n  use nosuch\nend\ncell c\n' >"$BATS_TEST_TMPDIR/bad.cfg"
	run awk -f "$TOP/ci/cells.awk" "$BATS_TEST_TMPDIR/bad.cfg"
	assert_failure 2
	assert_output --partial "matrix.cfg:2: unknown key colour"
	assert_output --partial "matrix.cfg:5: unknown profile nosuch"
	assert_output --partial "block not ended with end"
}

@test "canned logs: one verdict per case" {
	[ "$(verdict_of pass)" = PASS ]
	[ "$(verdict_of fail)" = FAIL ]
	[ "$(verdict_of panic)" = FAIL ]
	[ "$(verdict_of refusal)" = PASS ]
	[ "$(verdict_of timeout)" = FAIL ]
	[ "$(verdict_of no-console)" = FAIL ]
	[ "$(verdict_of truncated)" = FAIL ]
	[ "$(verdict_of xfail)" = XFAIL ]
	[ "$(verdict_of xpass)" = XPASS ]
	[ "$(verdict_of skip)" = SKIP ]
	[ "$(verdict_of harness-error)" = ERROR ]
	# FAIL and XPASS among them: status 1.
	[ "$(cat "$BATS_FILE_TMPDIR/canned.rc")" = 1 ]
}

@test "canned logs: the reasons say why" {
	run cat "$CANNED/results.tsv"
	assert_line --regexp $'^fail\tFAIL\t.*1 not ok, first: not ok 2 - guest1 legacy ata'
	assert_line --regexp $'^panic\tFAIL\t.*panic: this CPU.s SVM has no nested paging'
	assert_line --regexp $'^timeout\tFAIL\t.*timed out after 2 s; last line: root: ok 2'
	assert_line --regexp $'^no-console\tFAIL\t.*no console line within 1 s'
	assert_line --regexp $'^truncated\tFAIL\t.*truncated TAP stream: 3 of 5 results'
	assert_line --regexp $'^xfail\tXFAIL\t.*no AHCI driver yet \\(issue 14\\)'
	assert_line --regexp $'^skip\tSKIP\t.*requires metal'
	assert_line --regexp $'^pass\tPASS\t.*4/4 ok'
	run cat "$BATS_FILE_TMPDIR/canned.out"
	assert_line --regexp '^\[ *[0-9]+/11\] PASS +pass +\.\.\. 4/4 ok [0-9.]+ s replay$'
}

@test "canned logs: junit.xml has a suite per cell and a case per TAP line, by description" {
	local j=$CANNED/junit.xml
	[ "$(grep -c '<testsuite ' "$j")" = 11 ]
	grep -q '<testcase classname="pass" name="root blk: virtio-blk disk: 64 KiB written at LBA 2048, flushed, read back identical"/>' "$j"
	grep -q 'name="guest1 legacy pci: &lt;bus 0&gt; &amp; &quot;honest&quot; scan"' "$j"
	grep -A1 'name="root vps: an INIT IPI to another VP does not reset it"' "$j" | grep -q '<skipped message="only one vp"/>'
	grep -A1 'classname="fail" name="guest1 legacy ata: 4 MiB pattern read back, crc32 mismatch"' "$j" | grep -q '<failure '
	# A FAIL without TAP: one failing case saying why.
	grep -A1 'classname="panic" name="cell verdict FAIL"' "$j" | grep -q 'failure message="panic: '
	grep -A1 'classname="xpass" name="cell verdict XPASS"' "$j" | grep -q '<failure '
	# An expected failure is not a failure.
	run sed -n '/<testsuite name="xfail"/,/<\/testsuite>/p' "$j"
	assert_output --partial 'xfail: no AHCI driver yet'
	refute_output --partial '<failure'
	# Well-formed (python3 is there on Debian; the check is skipped without it).
	if command -v python3 >/dev/null; then
		python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$j" ||
			fail "junit.xml is not well-formed XML"
	fi
}

@test "canned logs: every cell has its folder, a report, and a reproducer" {
	local c
	for c in pass fail panic timeout truncated xfail xpass; do
		[ -s "$CANNED/$c/serial.log" ] || fail "$c: no serial log"
		[ -x "$CANNED/$c/repro.sh" ] || fail "$c: no repro.sh"
		[ -f "$CANNED/$c/emulator.txt" ] || fail "$c: no emulator output"
	done
	run "$CANNED/pass/repro.sh"
	assert_output --partial "status 1"
	grep -q '| xfail | XFAIL |' "$CANNED/report.md"
}

@test "baseline comparison and --rerun-failed" {
	local base=$BATS_TEST_TMPDIR/base
	mkdir -p "$base"
	printf 'cell\tverdict\taccel\tseconds\tok\tplan\treason\n' >"$base/results.tsv"
	printf 'pass\tFAIL\treplay\t1\t0\t0\tx\nfail\tFAIL\treplay\t1\t0\t0\tx\ntruncated\tPASS\treplay\t1\t0\t0\tx\n' >>"$base/results.tsv"
	cp -r "$CANNED" "$BATS_TEST_TMPDIR/m"
	run "$TOP/ci/run-matrix" --config "$TOP/tests/matrix/canned.cfg" --out "$BATS_TEST_TMPDIR/m" \
		--rerun-failed --baseline "$base" -j 4
	assert_failure 1
	# Only the bad cells ran again; the good rows were kept.
	refute_output --regexp '\] PASS +pass '
	assert_output --regexp '\] FAIL +truncated '
	[ "$(awk 'END { print NR }' "$BATS_TEST_TMPDIR/m/results.tsv")" = 12 ]
	run cat "$BATS_TEST_TMPDIR/m/compare.txt"
	assert_line --regexp '^  truncated: PASS -> FAIL'
	assert_line --regexp '^  fail: FAIL -> FAIL'
	assert_line '  pass: FAIL -> PASS'
}

@test "the selection: --tag, --filter, --cell, --shard, --list" {
	run "$TOP/ci/run-matrix" --list --tag ci
	assert_success
	[ "${#lines[@]}" -le 3 ]
	run "$TOP/ci/run-matrix" --list --filter '^q35-.*ahci$'
	assert_output --regexp '^q35-ahci '
	[ "${#lines[@]}" = 1 ]
	run "$TOP/ci/run-matrix" --list --cell pc-bios-max
	[ "${#lines[@]}" = 1 ]
	local all a b
	all=$("$TOP/ci/run-matrix" --list | wc -l)
	a=$("$TOP/ci/run-matrix" --list --shard 1/2 | wc -l)
	b=$("$TOP/ci/run-matrix" --list --shard 2/2 | wc -l)
	[ $((a + b)) = "$all" ]
	run "$TOP/ci/run-matrix" --cell no-such-cell
	assert_failure 2
}

@test "the generated CI engines are in sync with ci/matrix.cfg" {
	local t=$BATS_TEST_TMPDIR/gen
	"$TOP/ci/gen" "$t"
	diff -u "$TOP/.github/workflows/matrix.yml" "$t/.github/workflows/matrix.yml" ||
		fail "run ci/gen and commit .github/workflows/matrix.yml"
	diff -ru "$TOP/ci/lava" "$t/ci/lava" || fail "run ci/gen and commit ci/lava/"
	grep -q 'fail-fast: false' "$t/.github/workflows/matrix.yml"
	grep -q 'if: always()' "$t/.github/workflows/matrix.yml"
}

@test "the ci tag boots for real: PASS, PASS, XFAIL in under 3 minutes" {
	local m=$BATS_TEST_TMPDIR/ci t0=$SECONDS
	run "$TOP/ci/run-matrix" --tag ci --out "$m" -j 2
	assert_success
	[ $((SECONDS - t0)) -lt 180 ] || fail "the ci tag took $((SECONDS - t0)) s"
	run cut -f1,2 "$m/results.tsv"
	assert_line $'pc-bios-max\tPASS'
	assert_line $'q35-ovmf-mono-svmnpt\tPASS'
	assert_line $'pc-ahci\tXFAIL'
	grep -q '<testsuite name="pc-bios-max"' "$m/junit.xml"
}
