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
