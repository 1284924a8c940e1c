#!/usr/bin/env bats
# ./build.sh bench at its smallest size (--smoke: 1 MiB, 50 samples, the
# icount pass once): it must finish, every guest run must have passed its
# own data checks (bench.sh fails otherwise), and results.json must be
# well formed with every measurement of both designs, the network's too.

load helpers

@test "bench --smoke: both designs measured, results.json well formed, table and chart written" {
	run "$TOP/build.sh" bench --smoke
	assert_success
	local j=$O/bench/results.json
	[ -s "$j" ] || fail "no results.json"
	# Well formed: one object, balanced braces and brackets, every
	# measurement line a complete record with numeric min <= median <= max.
	run awk '
		{ o += gsub(/\{/, "{"); c += gsub(/\}/, "}"); ob += gsub(/\[/, "["); cb += gsub(/\]/, "]") }
		/"design"/ {
			n++
			if ($0 !~ /^ *\{"design": "[a-z]+", "pass": "[a-z]+", "name": "[a-z0-9_]+", "unit": "[^"]+", "repetitions": [0-9]+, "min": [-0-9.e+]+, "median": [-0-9.e+]+, "max": [-0-9.e+]+\},?$/) { print "bad line: " $0; bad = 1 }
			match($0, /"min": [-0-9.e+]+/); lo = substr($0, RSTART + 7, RLENGTH - 7) + 0
			match($0, /"median": [-0-9.e+]+/); md = substr($0, RSTART + 10, RLENGTH - 10) + 0
			match($0, /"max": [-0-9.e+]+/); hi = substr($0, RSTART + 7, RLENGTH - 7) + 0
			if (lo > md || md > hi) { print "min/median/max out of order: " $0; bad = 1 }
		}
		END {
			if (o != c || ob != cb || o < 1) { print "unbalanced"; bad = 1 }
			if (n < 20) { print "only " n " measurements"; bad = 1 }
			exit bad
		}' "$j"
	assert_success
	grep -q '"qemu": "QEMU emulator version' "$j"
	grep -q '"commit": "' "$j"
	for d in microkernel monolithic; do
		for m in null_hypercall_cycles port_read_cycles syn_write_mib_s syn_read_mib_s \
			 ata_write_mib_s ata_read_mib_s syn_write_exits_per_mib syn_read4k_p99_us \
			 cpu_crc_cycles; do
			grep -q "\"design\": \"$d\", \"pass\": \"icount\", \"name\": \"$m\"" "$j" ||
				fail "$d $m missing from results.json"
		done
	done
	grep -q '"design": "native", "pass": "icount", "name": "cpu_crc_cycles"' "$j"
	# Issue 11's figures: CPUID beside the port read, the root's own disk,
	# 4 KiB at queue depth 32, the boot stages outside test mode.
	for d in microkernel monolithic native; do
		grep -q "\"design\": \"$d\", \"pass\": \"icount\", \"name\": \"cpuid_cycles\"" "$j" ||
			fail "$d cpuid_cycles missing from results.json"
	done
	for d in microkernel monolithic; do
		for m in syn_qd32_mib_s syn_qd32_exits_per_request syn_qd32_irqs_per_request; do
			grep -q "\"design\": \"$d\", \"pass\": \"icount\", \"name\": \"$m\"" "$j" ||
				fail "$d $m missing from results.json"
		done
	done
	# Interrupt mitigation on the synthetic path: at queue depth 32 a
	# signal per batch, not per request (the guest's own TAP line checks
	# the same from the serial log).
	for d in microkernel monolithic; do
		v=$(sed -n "s/.*\"design\": \"$d\", \"pass\": \"icount\", \"name\": \"syn_qd32_exits_per_request\".*\"median\": \([0-9.e+-]*\),.*/\1/p" "$j")
		[ -n "$v" ] || fail "$d syn_qd32_exits_per_request has no median"
		awk -v v="$v" 'BEGIN { exit !(v <= 0.1) }' ||
			fail "$d: $v exits per request at queue depth 32 (goal <= 0.1)"
	done
	grep -aq 'ok [0-9]* - enl enlightened bench: at most one exit per 10 requests' \
		"$O"/bench/logs/enl-micro-icount-1.log
	for m in native_disk_read_mib_s native_disk_write_mib_s boot_hv_to_root; do
		grep -q "\"design\": \"microkernel\", \"pass\": \"icount\", \"name\": \"$m\"" "$j" ||
			fail "microkernel $m missing from results.json"
	done
	for d in microkernel native; do
		for m in icount:boot_fw_grub icount:boot_root_to_first_tap wall:boot_fw_grub_ms \
			 wall:boot_root_to_first_tap_ms; do
			grep -q "\"design\": \"$d\", \"pass\": \"${m%%:*}\", \"name\": \"${m#*:}\"" "$j" ||
				fail "$d $m missing from results.json"
		done
		grep -q "\"design\": \"$d\", \"pass\": \"wall\", \"name\": \"boot_first_root_line_ms\"" "$j" ||
			fail "$d boot_first_root_line_ms missing from results.json"
	done
	# Issue 13's network figures: both NIC kinds in both designs, guest to
	# guest and to the outside host, and the root's own NIC.
	for d in microkernel monolithic; do
		for m in net_syn_pair_mib_s net_emu_pair_mib_s net_syn_out_mib_s net_emu_out_mib_s \
			 net_syn_pair_exits_per_64k net_syn_out_exits_per_64k net_emu_exits_per_64k; do
			grep -q "\"design\": \"$d\", \"pass\": \"icount\", \"name\": \"$m\"" "$j" ||
				fail "$d $m missing from results.json"
		done
	done
	grep -q '"design": "native", "pass": "icount", "name": "net_root_out_mib_s"' "$j" ||
		fail "native net_root_out_mib_s missing from results.json"
	grep -aq 'ok [0-9]* - root netbench: 1048576 bytes to the outside host and back' \
		"$O"/bench/logs/net-syn-micro-icount-1.log
	# The goal table: every goal with a value and a mark.
	n=$(grep -cE '^\| [^|]+ \| [-0-9.e+]+ \| (<=|>=) [0-9.]+( \(stretch [0-9.]+\))? \| (pass|short by)' \
		"$O/bench/results.md" || true)
	[ "$n" -eq 15 ] || fail "the goal table has $n of 15 rows: $(sed -n '/^Goals/,$p' "$O/bench/results.md")"
	grep -q '^| icount | port_read_cycles |' "$O/bench/results.md"
	grep -q '<svg' "$O/bench/results.svg"
}
