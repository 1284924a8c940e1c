# Shared by every bats suite: boot an ISO in QEMU under a time limit, keep
# its serial log under out/tests/logs/, and tell a test-mode result (QEMU's
# isa-debug-exit: 1 pass, 3 fail) from a harness problem (status 0: powered
# off without reporting; 124/137: timed out; other: killed or broken).
bats_load_library bats-support
bats_load_library bats-assert

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export O=${O:-$TOP/out}
LOGDIR=$O/tests/logs
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}

# The test ISO without child partitions (tests/noguests.cfg), for the
# suites about the hypervisor and the root alone; built once per suite.
# Arguments as iso/mkiso.sh's after the output name.
base_iso() {
	local out=$O/tests/$1.iso
	shift
	export SOURCE_DATE_EPOCH=1767225600
	mkdir -p "$O/tests"
	"$TOP/iso/mkiso.sh" "$out" "$@" >/dev/null 2>&1 || return 1
	echo "$out"
}

# boot NAME ISO [--uefi] [--disk] [--] [extra qemu args...]
# Sets: status (QEMU's exit status), log (the log file), output and lines
# (the serial log, CRs stripped).
boot() {
	local name=$1 iso=$2 uefi=0 disk=0
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--uefi) uefi=1 ;;
		--disk) disk=1 ;;
		--) shift; break ;;
		*) break ;;
		esac
		shift
	done
	mkdir -p "$LOGDIR"
	log=$LOGDIR/$name.log
	local args=(-accel tcg -display none -no-reboot -monitor none
		-serial "file:$log"
		-device isa-debug-exit,iobase=0xf4,iosize=0x04)
	if [ $uefi = 1 ]; then
		cp "$OVMF_VARS" "$LOGDIR/$name.vars.fd"
		args+=(-machine q35
			-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
			-drive "if=pflash,format=raw,unit=1,file=$LOGDIR/$name.vars.fd")
	else
		args+=(-machine pc)
	fi
	if [ $disk = 1 ]; then
		# The same file written to a disk: boot it as a raw hard disk.
		cp "$iso" "$LOGDIR/$name.disk.img"
		args+=(-drive "file=$LOGDIR/$name.disk.img,format=raw,if=ide,media=disk")
	else
		args+=(-drive "file=$iso,media=cdrom,format=raw,readonly=on")
	fi
	status=0
	timeout -k 10 "$BOOT_TIMEOUT" qemu-system-x86_64 "${args[@]}" "$@" \
		>"$LOGDIR/$name.qemu.txt" 2>&1 || status=$?
	rm -f "$LOGDIR/$name.disk.img" "$LOGDIR/$name.vars.fd"
	output=$(tr -d '\r' < "$log")
	mapfile -t lines <<<"$output"
	LAST_LOG=$log
}

# The run ended by reporting "pass" through the debug-exit port.
assert_boot_passed() {
	case $status in
	1) return 0 ;;
	3) fail "test mode reported FAIL (debug-exit status 3); log: $log" ;;
	0) fail "harness: the machine powered off without reporting a result; log: $log" ;;
	124|137) fail "harness: timed out after ${BOOT_TIMEOUT}s; log: $log" ;;
	*) if [ "$status" -gt 128 ]; then
		fail "harness: qemu killed by signal $((status - 128)); log: $log"
	   else
		fail "harness: qemu failed with status $status ($(head -c 300 "$LOGDIR/$(basename "$log" .log).qemu.txt")); log: $log"
	   fi ;;
	esac
}

# The run ended by reporting "fail" (for tests that break things on purpose).
assert_boot_failed() {
	[ "$status" = 3 ] ||
		fail "expected test mode to report FAIL (status 3), got status $status; log: $log"
}

# The outside host (tests/tools/netpeer) for a boot NAME on a free pair
# of UDP ports: sets PEER_LOG, and NETDEV for QEMU's -netdev; netpeer_stop
# ends it (its summary line is then in PEER_LOG).
netpeer_start() {
	local peer=$((20000 + RANDOM % 20000))
	PEER_LOG=$LOGDIR/$1.netpeer.log
	mkdir -p "$LOGDIR"
	"$O/host/tools/netpeer" "$peer" $((peer + 1)) "$PEER_LOG" 1200 </dev/null >/dev/null 2>&1 &
	PEER_PID=$!
	NETDEV="socket,id=n0,udp=127.0.0.1:$peer,localaddr=127.0.0.1:$((peer + 1))"
}

netpeer_stop() {
	kill "$PEER_PID" 2>/dev/null || true
	wait "$PEER_PID" 2>/dev/null || true
}

# On a failed test, show the end of the serial log.
teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${LAST_LOG:-}" ] && [ -f "$LAST_LOG" ]; then
		echo "--- last 40 lines of $LAST_LOG ---"
		tail -n 40 "$LAST_LOG" | tr -d '\r'
	fi
}

# The three boot lines of the foundation, with the expected firmware and
# CPU count, and a memory size within [lo, hi] MiB.
assert_boot_lines() {
	local firmware=$1 cpus=$2 lo=$3 hi=$4 mib
	assert_line --regexp "^hv: isovisor [^ ]+ booting \($firmware, microkernel\)$"
	assert_line --regexp "^hv: memory [0-9]+ MiB usable in [0-9]+ ranges$"
	assert_line "hv: cpus $cpus online"
	mib=$(sed -n 's/^hv: memory \([0-9]*\) MiB usable.*/\1/p' <<<"$output")
	[ "$mib" -ge "$lo" ] && [ "$mib" -le "$hi" ] ||
		fail "memory $mib MiB is outside the plausible $lo..$hi MiB"
}
