#!/usr/bin/env bats
# The test ISOs under Bochs 2.7, whose AMD "ryzen" model has what QEMU's
# TCG lacks: SVM next-RIP save and flush-by-ASID, so those paths of svm.c
# run here. The root's TAP and the test ISO's guests' must all be ok, in
# both designs. Bochs is slow (about 30-100 s a run): this
# is the short cell; more belong to the hardware matrix.

load helpers

MICRO=$O/isovisor-test.iso
MONO=$O/isovisor-test-monolithic.iso

# boot_bochs NAME ISO [bochs-run options]: as boot() in helpers.bash.
boot_bochs() {
	local name=$1 iso=$2
	shift 2
	mkdir -p "$LOGDIR"
	log=$LOGDIR/$name.log
	LAST_LOG=$log
	status=0
	"$TOP/tests/tools/bochs-run" "$iso" "$LOGDIR/$name" "$@" || status=$?
	output=$(tr -d '\r' <"$log")
	mapfile -t lines <<<"$output"
}

assert_bochs_run() {
	local design=$1 cpus=$2
	assert_boot_passed
	assert_line --regexp "^hv: isovisor [^ ]+ booting \(bios, $design\)$"
	assert_line "hv: cpus $cpus online"
	assert_line --regexp "^hv: virtualization: AMD SVM, .*next-RIP.*flush-by-ASID"
	assert_line --regexp "^guest1: test result: PASS \(([0-9]+) of \1\)$"
	assert_line --regexp "^guest2: test result: PASS \(([0-9]+) of \1\)$"
	refute_line --partial "not ok"
	refute_line --regexp "^[a-z0-9]+: panic"
}

@test "bochs ryzen (next-RIP, flush-by-ASID): microkernel, 1 cpu, root and both guests pass" {
	[ -f "$MICRO" ] || fail "no $MICRO; run ./build.sh iso --test"
	boot_bochs bochs-ryzen-micro "$MICRO" --cpu ryzen --smp 1
	assert_bochs_run microkernel 1
	assert_line --regexp "^root: test result: PASS \(([0-9]+) of \1\)$"
	# The child's deliberate triple fault was a SHUTDOWN intercept, not a
	# reset of the machine.
	assert_line --partial "root child: the child's triple fault stopped only the child"
}

@test "bochs ryzen (next-RIP, flush-by-ASID): monolithic, 2 cpus, both guests pass" {
	[ -f "$MONO" ] || fail "no $MONO; run ./build.sh iso --test"
	boot_bochs bochs-ryzen-mono "$MONO" --cpu ryzen --smp 2
	assert_bochs_run monolithic 2
	assert_line --regexp "^hv: test result: PASS \(([0-9]+) of \1\)$"
}
