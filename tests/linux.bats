#!/usr/bin/env bats
# Debian's Linux kernel as a child partition (images/linux, the Linux x86
# boot protocol with its ACPI tables), in both designs, BIOS and UEFI:
#   - enlightened (tests/linux.cfg): its own hv_vmbus, hv_utils and
#     hv_storvsc bind our offers, a 16 MiB pattern goes through sd to the
#     physical disk (checked on the host afterwards), its hv_netvsc pings
#     an e1000 guest on the same switch and tests/tools/netpeer beyond the
#     switch's uplink (the machine's virtio-net), and the shutdown IC ends
#     the run with ACPI S5;
#   - unenlightened with 2 VPs (tests/linux-plain.cfg): emulated devices
#     only, the second VP started by INIT/SIPI, ACPI S5 at the end.
# A legacy guest runs beside it every time.

# A Linux boot under TCG on a busy 2-core machine can take minutes to
# reach /init (141 s seen under load, 9-19 s on a quiet one).
export BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
load helpers

setup_file() {
	base_iso linux-micro 1 0 "" "" "$TOP/tests/linux.cfg" >/dev/null
	base_iso linux-mono 5 0 "" "" "$TOP/tests/linux.cfg" >/dev/null
	base_iso linux-plain-micro 1 0 "" "" "$TOP/tests/linux-plain.cfg" >/dev/null
	base_iso linux-plain-mono 5 0 "" "" "$TOP/tests/linux-plain.cfg" >/dev/null
}

make_disk() {
	img=$BATS_TEST_TMPDIR/disk.img
	truncate -s 128M "$img"
}

disk_args() {
	echo "-drive file=$img,format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0,disable-legacy=on"
}

# What every Linux run shows: loaded by the boot protocol, its dmesg
# under the partition's prefix, our ACPI tables and I/O APIC in use, its
# first TAP results, ACPI S5 at the end, the legacy guest's results, and
# nothing it did a fault or a touch of memory it does not own.
assert_linux_common() {
	local src=$1 vps=$2 kver
	kver=$(cut -d' ' -f1 "$O/linux/VERSION")
	assert_boot_passed
	refute_line --regexp '^(root|hv): not ok'
	assert_line --regexp "^$src: linux: Linux boot protocol 2\.[0-9]+, kernel [0-9]+ KiB at 0x100000, initrd [0-9]+ KiB"
	assert_line --regexp "^linux: \[ *[0-9.]+\] Linux version ${kver//./\\.} "
	assert_line --regexp '^linux: \[ *[0-9.]+\] ACPI: RSDP 0x00000000000E0000 000024 \(v02 ISOVSR\)'
	assert_line --regexp '^linux: \[ *[0-9.]+\] IOAPIC\[0\]: apic_id [0-9]+, version 32, address 0xfec00000, GSI 0-23$'
	assert_line --regexp '^linux: \[ *[0-9.]+\] ACPI: Using IOAPIC for interrupt routing$'
	assert_line --regexp '^linux: \[ *[0-9.]+\] x2apic enabled$'
	assert_line --regexp "^$src: ok [0-9]+ - linux linux boot: kernel ${kver//./\\.} ran /init as PID 1"
	assert_line --regexp "^$src: ok [0-9]+ - linux linux cpuid: Hypervisor detected: Microsoft Hyper-V$"
	assert_line --regexp "^$src: ok [0-9]+ - linux linux acpi: the partition's tables .* S5 offered$"
	assert_line --regexp "^$src: ok [0-9]+ - linux linux cpus: $vps processor\(s\) online, $vps expected$"
	# The synthetic timer (direct mode) outranks the APIC timer.
	assert_line --regexp "^$src: ok [0-9]+ - linux linux timer: CPU 0's clock event device is Hyper-V clockevent \(want Hyper-V clockevent\)$"
	assert_line --regexp '^linux: \[ *[0-9.]+\] ACPI: PM: Preparing to enter system sleep state S5$'
	assert_line "$src: linux: ACPI S5: the partition powered itself off"
	assert_line --regexp "^$src: ok [0-9]+ - legacy: finished with exit code 0, 10 of 10 TAP results$"
	refute_line --regexp '^hv: partition linux stopped'
	refute_line --regexp '^hv: linux vp [0-9]+: .*(does not own|unsupported access)'
	refute_line --regexp '^linux: .*(Kernel panic|unchecked MSR access|BUG:|Oops|WARNING:)'
}

# The enlightened run: our offers bound by Linux's own drivers, the disk
# pattern through hv_storvsc, the heartbeat answered, the shutdown IC's
# request obeyed; then the pattern is on the host's disk image at the
# partition's range (MiB 64 on), byte for byte; and its synthetic NIC.
assert_linux_enlightened() {
	local src=$1
	assert_linux_common "$src" 1
	assert_line --regexp '^linux: \[ *[0-9.]+\] hv_vmbus: Vmbus version:5\.3$'
	assert_line --regexp "^$src: ok [0-9]+ - linux linux vmbus: hv_vmbus lists our offers \(heartbeat, shutdown, storage\)$"
	assert_line --regexp "^$src: ok [0-9]+ - linux linux hv_utils: heartbeat and shutdown bound$"
	assert_line --regexp "^$src: ok [0-9]+ - linux linux hv_storvsc: a SCSI disk sda of 65536 sectors$"
	assert_line --regexp "^$src: ok [0-9]+ - linux linux disk: 16 MiB pattern written with conv=fsync, caches dropped, read back: md5 ([0-9a-f]{32}) \(want \1\)$"
	# Only the one disk: INQUIRY at every other address says "none".
	refute_line --regexp '^linux: .*scsi 0:[0-9]+:[0-9]+:[0-9]+: Direct-Access +PQ: 0 ANSI: 0'
	refute_line --regexp '^linux: .*\[sdb\]'
	assert_line --regexp "^$src: linux vmbus: shutdown IC: the guest agreed to shut down$"
	assert_line --regexp '^linux: \[ *[0-9.]+\] hv_utils: Shutdown request received - graceful shutdown initiated$'
	assert_line --regexp "^$src: ok [0-9]+ - linux: heartbeat IC answered [1-9][0-9]* heartbeats, stopped 0 times$"
	assert_line --regexp "^$src: ok [0-9]+ - linux: shut down cleanly through the shutdown IC$"
	assert_line --regexp "^$src: ok [0-9]+ - linux: finished with exit code 0, 13 of 13 TAP results$"
	# The network: Linux's hv_netvsc on our netvsp, the e1000 guest on
	# the same switch; each pings the other.
	assert_line --regexp '^linux: \[ *[0-9.]+\] hv_vmbus: registering driver hv_netvsc$'
	assert_line --regexp "^$src: linux vmbus: network channel [0-9]+ open: [0-9]+ ring pages$"
	assert_line --regexp "^$src: ok [0-9]+ - linux linux netvsc: eth0 is hv_netvsc's with MAC 02:15:00:00:00:10 \(want hv_netvsc, 02:15:00:00:00:10\)$"
	assert_line --regexp "^$src: ok [0-9]+ - linux linux netvsc: pings of the e1000 guest 10\.0\.0\.1 through the switch: 5 of 5 answered$"
	assert_line --regexp "^$src: ok [0-9]+ - linux linux netvsc: pings of the outside host 10\.0\.0\.254 through the uplink: 5 of 5 answered$"
	assert_line --regexp "^$src: switch lan0: uplink to the machine's NIC 52:54:00:12:34:56 \(port [0-9]+\)$"
	assert_line --regexp "^e1kpeer: ok [0-9]+ - legacy net: 10 pings of 10\.0\.0\.16 answered with their payloads \(156-1056 bytes\): 10 ok; "
	assert_line --regexp "^$src: ok [0-9]+ - e1kpeer: finished with exit code 0, 6 of 6 TAP results$"
	seq 1 3000000 | head -c 16777216 | cmp - <(dd if="$img" bs=1M skip=64 count=16 2>/dev/null) ||
		fail "the 16 MiB pattern is not at MiB 64 of the disk image"
	# The far end saw Linux's own frames (its ARP and echo requests).
	run grep -c "^frame src 02:15:00:00:00:10 " "$PEER_LOG"
	[ "$output" -ge 6 ] || fail "netpeer saw $output frames from Linux"
	run grep "^netpeer: .* ARP replies" "$PEER_LOG"
	assert_output --regexp " [1-9][0-9]* echo replies, "
}

assert_linux_plain() {
	local src=$1
	assert_linux_common "$src" 2
	assert_line --regexp '^hv: linux vp 1: started by SIPI from vp 0 at 0x[0-9a-f]+:0000 \(real mode\)$'
	assert_line --regexp '^linux: \[ *[0-9.]+\] smp: Brought up 1 node, 2 CPUs$'
	assert_line --regexp "^$src: ok [0-9]+ - linux: finished with exit code 0, 6 of 6 TAP results$"
	refute_line --regexp '^linux: .*hv_vmbus'
}

@test "Linux child, enlightened, microkernelized, BIOS, -cpu max: hv_vmbus, hv_utils, hv_storvsc against our VSPs" {
	make_disk
	netpeer_start linux-micro
	boot linux-micro "$O/tests/linux-micro.iso" -- -cpu max -smp 2 -m 1G $(disk_args) \
		-netdev "$NETDEV" -device virtio-net-pci,netdev=n0,disable-legacy=on,mac=52:54:00:12:34:56
	netpeer_stop
	assert_linux_enlightened root
}

@test "Linux child, enlightened, monolithic, UEFI, qemu64+svm+npt: the same" {
	make_disk
	netpeer_start linux-mono-uefi
	boot linux-mono-uefi "$O/tests/linux-mono.iso" --uefi -- -cpu qemu64,+svm,+npt -smp 2 -m 1G $(disk_args) \
		-netdev "$NETDEV" -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56
	netpeer_stop
	assert_linux_enlightened hv
}

@test "Linux child, 2 VPs, unenlightened, microkernelized, UEFI, 1 host CPU: INIT/SIPI, emulated devices only" {
	boot linux-plain-micro-uefi "$O/tests/linux-plain-micro.iso" --uefi -- -cpu max -smp 1 -m 1G
	assert_linux_plain root
}

@test "Linux child, 2 VPs, unenlightened, monolithic, BIOS: the same" {
	boot linux-plain-mono "$O/tests/linux-plain-mono.iso" -- -cpu max -smp 2 -m 1G
	assert_linux_plain hv
}
