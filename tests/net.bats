#!/usr/bin/env bats
# The network (tests/net.cfg): two legacy guests, each with an emulated
# Intel e1000 (82540EM) on the control function's virtual switch lan0
# (the root's in the microkernelized design, the hypervisor's in the
# monolithic one), find each other by ARP, ping each other and move a
# UDP stream each way with a crc32 check, in order and with nothing
# missing: the switch makes a sender wait rather than drop.

load helpers

setup_file() {
	base_iso net-micro 1 0 "" "" "$TOP/tests/net.cfg" >/dev/null
	base_iso net-mono 5 0 "" "" "$TOP/tests/net.cfg" >/dev/null
	base_iso net-up-micro 1 0 "" "" "$TOP/tests/net-uplink.cfg" >/dev/null
	base_iso net-up-mono 5 0 "" "" "$TOP/tests/net-uplink.cfg" >/dev/null
	base_iso net-syn-micro 1 0 "" "" "$TOP/tests/net-syn.cfg" >/dev/null
	base_iso net-syn-mono 5 0 "" "" "$TOP/tests/net-syn.cfg" >/dev/null
}

assert_outside() {
	local g
	assert_boot_passed
	refute_line --regexp '^(root|hv): not ok'
	assert_line --regexp "^(root|hv): switch lan0: uplink to the machine's NIC 52:54:00:12:34:5[678] \(port [0-9]+\)$"
	assert_line --regexp "^(root|hv): net: (virtio-net|Intel 10d3) at "
	for g in neta netb; do
		assert_line --regexp "^$g: ok [0-9]+ - legacy net: the outside host 10\.0\.0\.254 \(ARP resolved in [0-9]+ ms\) answered 5 of 5 pings and echoed 100 of 100 UDP datagrams intact \(0 wrong\)$"
		assert_line --regexp "^$g: ok [0-9]+ - legacy net: UDP each way, in order and complete: sent 1048576 bytes"
		assert_line --regexp "^(root|hv): ok [0-9]+ - $g: finished with exit code 0, ([0-9]+) of \2 TAP results$"
	done
	# The far end saw both guests' frames.
	run grep -c "^frame src 02:15:00:00:00:01 " "$PEER_LOG"
	[ "$output" -ge 100 ] || fail "netpeer saw $output frames from neta"
	run grep -c "^frame src 02:15:00:00:00:02 " "$PEER_LOG"
	[ "$output" -ge 100 ] || fail "netpeer saw $output frames from netb"
	run grep "^netpeer: .* ARP replies" "$PEER_LOG"
	assert_output --regexp "[1-9][0-9]* echo replies, [1-9][0-9]* UDP echoes, 0 bad$"
}

assert_net_run() {
	local g
	assert_boot_passed
	refute_line --regexp '^(root|hv): not ok'
	for g in neta netb; do
		assert_line --regexp "^(root|hv): $g: nic e1000 02:15:00:00:00:0[12] on switch lan0 port [0-9]+ \(PCI 00:03.0, IRQ 11\)$"
		assert_line --regexp "^$g: ok [0-9]+ - legacy nic: e1000 at 00:03.0, BAR0 0xfebc0000, MAC 02:15:00:00:00:0[12] from the EEPROM \(checksum 0xbaba, want 0xbaba\) as in RAL0/RAH0, link up$"
		assert_line --regexp "^$g: ok [0-9]+ - legacy net: ARP resolves the peer 10\.0\.0\.[12] "
		assert_line --regexp "^$g: ok [0-9]+ - legacy net: 10 pings of 10\.0\.0\.[12] answered with their payloads \(156-1056 bytes\): 10 ok; we answered [0-9]+ of the peer's$"
		assert_line --regexp "^$g: ok [0-9]+ - legacy net: UDP each way, in order and complete: sent 16777216 bytes \\(11429 datagrams, crc32 [0-9a-f]{8}\\), got 16777216 \\(11429, crc32 [0-9a-f]{8}\\) as the peer.s END says; 0 out of order; "
		assert_line --regexp "^$g: ok [0-9]+ - legacy nic: [1-9][0-9]* interrupts on IRQ 11"
		assert_line --regexp "^(root|hv): ok [0-9]+ - $g: finished with exit code 0, ([0-9]+) of \2 TAP results$"
	done
	# netb's abuse of its own NIC: refused, logged, survived; the flood
	# went through the switch beside the streams.
	assert_line --regexp "^netb: ok [0-9]+ - legacy hostile: a 3000-byte frame over 3 descriptors consumed \(TDH [0-9]+ -> [0-9]+, DD set\), a transmit ring outside RAM stopped \(TDH stays [0-9]+\), a receive ring outside RAM takes nothing "
	assert_line --regexp "^(root|hv): netb devices: e1000: transmit frame longer than 1514 bytes: dropped"
	assert_line --regexp "^(root|hv): netb devices: e1000: transmit descriptor outside guest RAM, transmit stopped: 0xf000[0-9a-f]{4}$"
	assert_line --regexp "^(root|hv): netb devices: e1000: receive descriptor outside guest RAM, receive stopped: 0xf000[0-9a-f]{4}$"
	assert_line --regexp "^flood: ok [0-9]+ - legacy hostile: flooded 5000 of 5000 broadcast frames of 1514 bytes in [0-9]+ ms$"
	assert_line --regexp "^(root|hv): ok [0-9]+ - flood: finished with exit code 0, 3 of 3 TAP results$"
	# Nothing was refused on the way: every frame sent was a good one.
	assert_line --regexp "^(root|hv): neta: nic: [0-9]+ frames sent, [0-9]+ received, 0 refused by the switch; the NIC dropped 0 tx and [0-9]+ rx, 0 DMA errors$"
}

@test "net: e1000 guests ping and stream 16 MiB each way, microkernel, bios, -cpu max" {
	boot net-micro "$O/tests/net-micro.iso" -- -cpu max -smp 2 -m 512M
	assert_net_run
}

@test "net: e1000 guests ping and stream 16 MiB each way, monolithic, uefi, qemu64 with svm" {
	boot net-mono-uefi "$O/tests/net-mono.iso" --uefi -- -cpu qemu64,+svm,+npt -smp 2 -m 512M
	assert_net_run
}

# The uplink NIC interrupted its owner: the driver's summary at the end
# of the run (partmgr_finish) counts at least 1.
assert_nic_irqs() {
	local who=$1 nic=$2 vector=$3 last
	last=$(sed -n "s/^$who: net: $nic: \([0-9]*\) interrupts on vector $vector: .*/\1/p" \
		<<<"$output" | tail -n 1)
	[ -n "$last" ] && [ "$last" -gt 0 ] ||
		fail "no interrupt of the $nic NIC on vector $vector in $log"
}

@test "net: the uplink to the outside, microkernel, bios, modern virtio-net (1041)" {
	netpeer_start net-up-micro
	boot net-up-micro "$O/tests/net-up-micro.iso" -- -cpu max -smp 2 -m 512M \
		-netdev "$NETDEV" -device virtio-net-pci,netdev=n0,disable-legacy=on,mac=52:54:00:12:34:56
	netpeer_stop
	assert_line --regexp "^root: net: virtio-net at [0-9a-f:.]+, MAC 52:54:00:12:34:56, link up, MSI-X on vector 0x5a$"
	assert_nic_irqs root virtio-net 0x5a
	assert_outside
}

# The monolithic hypervisor's NIC interrupts it on vector 0x30.
@test "net: the uplink to the outside, monolithic, uefi, transitional virtio-net (1000)" {
	netpeer_start net-up-mono
	boot net-up-mono-uefi "$O/tests/net-up-mono.iso" --uefi -- -cpu qemu64,+svm,+npt -smp 2 -m 512M \
		-netdev "$NETDEV" -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:57
	netpeer_stop
	assert_line --regexp "^hv: net: virtio-net at [0-9a-f:.]+, MAC 52:54:00:12:34:57, link up, MSI-X on vector 0x30$"
	assert_nic_irqs hv virtio-net 0x30
	assert_outside
}

@test "net: the uplink to the outside, microkernel, q35 bios, Intel 82574L (e1000e)" {
	netpeer_start net-up-e1000e
	boot net-up-e1000e "$O/tests/net-up-micro.iso" -- -machine q35 -cpu max -smp 2 -m 512M \
		-netdev "$NETDEV" -device e1000e,netdev=n0,mac=52:54:00:12:34:58
	netpeer_stop
	assert_line --regexp "^root: net: Intel 10d3 at [0-9a-f:.]+, MAC 52:54:00:12:34:58, link up, MSI on vector 0x5a$"
	assert_nic_irqs root "Intel 10d3" 0x5a
	assert_outside
}

# Both NIC kinds on one switch (tests/net-syn.cfg): the enlightened
# guest's netvsc against the control function's netvsp, the legacy
# guest's e1000; the same test as above, each stream's crc32 as sent by
# one the crc32 the other got.
assert_syn_run() {
	local enl_sent enl_got leg_sent leg_got
	assert_boot_passed
	refute_line --regexp '^(root|hv): not ok'
	assert_line --regexp "^(root|hv): enl: nic netvsc 02:15:00:00:00:21 on switch lan0 port [0-9]+ \(VMBus\)$"
	assert_line --regexp "^(root|hv): leg: nic e1000 02:15:00:00:00:22 on switch lan0 port [0-9]+ \(PCI 00:03.0, IRQ 11\)$"
	assert_line --regexp "^(root|hv): enl vmbus: network channel [0-9]+ open: 32 ring pages$"
	assert_line --regexp "^enl: ok [0-9]+ - enlightened netvsc: NVSP version 0x60001, MAC 02:15:00:00:00:21 from RNDIS, link up \(channel [0-9]+, 128 KiB ring, 170 send sections of 6144 bytes\)$"
	assert_line --regexp "^enl: ok [0-9]+ - enlightened net: ARP resolves the peer 10\.0\.0\.22 "
	assert_line --regexp "^enl: ok [0-9]+ - enlightened net: 10 pings of 10\.0\.0\.22 answered with their payloads \(156-1056 bytes\): 10 ok; we answered [0-9]+ of the peer's$"
	assert_line --regexp "^enl: ok [0-9]+ - enlightened net: UDP each way, in order and complete: sent 16777216 bytes \(11429 datagrams, crc32 [0-9a-f]{8}\), got 16777216 \(11429, crc32 [0-9a-f]{8}\) as the peer.s END says; 0 out of order; "
	assert_line --regexp "^enl: ok [0-9]+ - enlightened netvsc: [1-9][0-9]* frames sent, [1-9][0-9]* received; every send section back \(0 out\); 0 host packets refused$"
	assert_line --regexp "^leg: ok [0-9]+ - legacy nic: e1000 at 00:03.0, BAR0 0xfebc0000, MAC 02:15:00:00:00:22 from the EEPROM \(checksum 0xbaba, want 0xbaba\) as in RAL0/RAH0, link up$"
	assert_line --regexp "^leg: ok [0-9]+ - legacy net: ARP resolves the peer 10\.0\.0\.21 "
	assert_line --regexp "^leg: ok [0-9]+ - legacy net: 10 pings of 10\.0\.0\.21 answered with their payloads \(156-1056 bytes\): 10 ok; we answered [0-9]+ of the peer's$"
	assert_line --regexp "^leg: ok [0-9]+ - legacy net: UDP each way, in order and complete: sent 16777216 bytes \(11429 datagrams, crc32 [0-9a-f]{8}\), got 16777216 \(11429, crc32 [0-9a-f]{8}\) as the peer.s END says; 0 out of order; "
	assert_line --regexp "^leg: ok [0-9]+ - legacy nic: [1-9][0-9]* interrupts on IRQ 11"
	assert_line --regexp "^(root|hv): ok [0-9]+ - enl: finished with exit code 0, ([0-9]+) of \2 TAP results$"
	assert_line --regexp "^(root|hv): ok [0-9]+ - leg: finished with exit code 0, ([0-9]+) of \2 TAP results$"
	enl_sent=$(sed -n 's/^enl: ok [0-9]* - enlightened net: UDP .* crc32 \([0-9a-f]*\)), got .*/\1/p' <<<"$output")
	enl_got=$(sed -n 's/^enl: ok [0-9]* - enlightened net: UDP .* got 16777216 (11429, crc32 \([0-9a-f]*\)).*/\1/p' <<<"$output")
	leg_sent=$(sed -n 's/^leg: ok [0-9]* - legacy net: UDP .* crc32 \([0-9a-f]*\)), got .*/\1/p' <<<"$output")
	leg_got=$(sed -n 's/^leg: ok [0-9]* - legacy net: UDP .* got 16777216 (11429, crc32 \([0-9a-f]*\)).*/\1/p' <<<"$output")
	[ -n "$enl_sent" ] && [ "$enl_sent" = "$leg_got" ] && [ "$leg_sent" = "$enl_got" ] ||
		fail "crc32s do not cross: enl sent $enl_sent got $enl_got, leg sent $leg_sent got $leg_got"
}

@test "net: netvsc and e1000 guests ping and stream 16 MiB each way, microkernel, bios" {
	boot net-syn-micro "$O/tests/net-syn-micro.iso" -- -cpu max -smp 2 -m 512M
	assert_syn_run
}

@test "net: netvsc and e1000 guests ping and stream 16 MiB each way, monolithic, uefi, qemu64 with svm" {
	boot net-syn-mono-uefi "$O/tests/net-syn-mono.iso" --uefi -- -cpu qemu64,+svm,+npt -smp 2 -m 512M
	assert_syn_run
}
