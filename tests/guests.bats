#!/usr/bin/env bats
# Child partitions on the emulated path, in both designs: two legacy
# guests beside the root (microkernelized) or inside the hypervisor's own
# control function (monolithic), each running its TAP self-tests against
# the emulated COM1, ATA disk, PIT/PIC, RTC and PCI.

load helpers

MICRO=$O/isovisor-test.iso
MONO=$O/isovisor-test-monolithic.iso

setup_file() {
	export SOURCE_DATE_EPOCH=1767225600
	mkdir -p "$O/tests"
	"$TOP/iso/mkiso.sh" "$O/tests/isolation.iso" 1 0 "" "" "$TOP/tests/isolation.cfg"
	"$TOP/iso/mkiso.sh" "$O/tests/isolation-monolithic.iso" 5 0 "" "" "$TOP/tests/isolation.cfg"
	"$TOP/iso/mkiso.sh" "$O/tests/tickless.iso" 1 0 "" "" "$TOP/tests/tickless.cfg"
}

# Both legacy guests' 10 checks, gathered into the run's stream, all ok;
# the multiboot (1) guest's too; the run passed; each guest's exit
# counters were printed.
assert_two_guests_passed() {
	local prefix=$1 g
	assert_boot_passed
	for g in guest1 guest2; do
		assert_line --regexp "^$prefix: ok [0-9]+ - $g legacy ata: 4 MiB deterministic pattern written and read back, crc32 match"
		assert_line --regexp "^$prefix: ok [0-9]+ - $g legacy pit: interrupts arrive at the programmed rate"
		assert_line --regexp "^$prefix: ok [0-9]+ - $g legacy order: 2048 rounds of four intercepted accesses \(UART scratch, PCI address latch\) each read back the write before it$"
		assert_line --regexp "^$prefix: ok [0-9]+ - $g: finished with exit code 0, 10 of 10 TAP results$"
		assert_line --regexp "^hv: vp $g/0 exits: .*io=[0-9]+"
		assert_line --regexp "^$g: test result: PASS \(10 of 10\)$"
	done
	# The multiboot (1) guests were loaded as GRUB's multiboot loader
	# would: ELF32 with its module, ELF64, the a.out kludge.
	assert_line --regexp "^$prefix: ok [0-9]+ - mb1guest mb1 boot \(elf32\): EAX holds the multiboot magic, EBX a memory map$"
	assert_line --regexp "^$prefix: ok [0-9]+ - mb1guest mb1 modules: one, page-aligned, the legacy guest's ELF, string \"legacy mb1-module\"$"
	assert_line --regexp "^$prefix: ok [0-9]+ - mb1-64 mb1 boot \(elf64\): EAX holds the multiboot magic, EBX a memory map$"
	assert_line --regexp "^$prefix: ok [0-9]+ - mb1-aout mb1 boot \(a\.out kludge\): EAX holds the multiboot magic, EBX a memory map$"
	for g in mb1guest mb1-64 mb1-aout; do
		assert_line --regexp "^$prefix: ok [0-9]+ - $g: finished with exit code 0, 2 of 2 TAP results$"
	done
	refute_line --regexp "^$prefix: not ok "
}

@test "microkernel, bios, 1 cpu: two legacy guests pass beside the root" {
	boot guests-micro-bios-smp1 "$MICRO" -- -cpu max -smp 1 -m 512M
	assert_line --regexp "^hv: isovisor [^ ]+ booting \(bios, microkernel\)$"
	assert_two_guests_passed root
}

@test "microkernel, uefi, 2 cpus: two legacy guests pass beside the root" {
	boot guests-micro-uefi-smp2 "$MICRO" --uefi -- -cpu max -smp 2 -m 512M
	assert_line --regexp "^hv: isovisor [^ ]+ booting \(uefi, microkernel\)$"
	assert_two_guests_passed root
}

@test "monolithic, bios, 2 cpus: the same guests pass with no root partition" {
	boot guests-mono-bios-smp2 "$MONO" -- -cpu max -smp 2 -m 512M
	assert_line --regexp "^hv: isovisor [^ ]+ booting \(bios, monolithic\)$"
	refute_line --regexp "^root: "
	assert_two_guests_passed hv
}

@test "monolithic, uefi, 1 cpu: the same guests pass with no root partition" {
	boot guests-mono-uefi-smp1 "$MONO" --uefi -- -cpu max -smp 1 -m 512M
	assert_line --regexp "^hv: isovisor [^ ]+ booting \(uefi, monolithic\)$"
	assert_two_guests_passed hv
}

@test "the microkernel's emulated path costs root hypercalls; the monolithic one has no root at all" {
	# Same guests, same work: the monolithic design's root VP makes no
	# hypercalls at all, the microkernel's root completes every exit.
	boot guests-micro-count "$MICRO" -- -cpu max -smp 1 -m 512M
	assert_boot_passed
	assert_line --regexp "^hv: vp root/0 exits: .*hypercall=[0-9]{5,}"
	boot guests-mono-count "$MONO" -- -cpu max -smp 1 -m 512M
	assert_boot_passed
	refute_line --regexp "^hv: vp root/"
}

@test "tickless root, microkernel, 1 cpu: a child computing alone is not preempted every millisecond" {
	# The root arms its timer only for real deadlines: with one child
	# and no device timer programmed, it runs for the whole CPU kernel
	# untouched. A 1 ms tick would take about one interrupt per ms and
	# end one dispatch each (dispatches beyond intercepts and halts).
	local n ms d b i
	boot tickless-micro "$O/tests/tickless.iso" -- -cpu max -smp 1 -m 512M
	assert_boot_passed
	assert_line --regexp "^root: ok [0-9]+ - legacy legacy bench: cpu kernel: CRC-32 over 2 x 16 MiB "
	assert_line --regexp "^root: ok [0-9]+ - legacy: finished with exit code 0, "
	assert_line --regexp "^root: timer: [0-9]+ interrupts in [0-9]+ ms \(tickless\)"
	n=$(sed -n 's/^root: timer: \([0-9]*\) interrupts in .*/\1/p' <<<"$output")
	ms=$(sed -n 's/^root: timer: [0-9]* interrupts in \([0-9]*\) ms .*/\1/p' <<<"$output")
	[ "$ms" -ge 100 ] || fail "the run took only $ms ms: too short to tell a tick"
	[ $((n * 20)) -lt "$ms" ] ||
		fail "the root took $n timer interrupts in $ms ms: a periodic tick is back"
	d=$(sed -n 's/^hv: vp legacy\/0 dispatches: \([0-9]*\), .*/\1/p' <<<"$output")
	b=$(sed -n 's/^hv: vp legacy\/0 dispatches: [0-9]*, blocked \([0-9]*\), .*/\1/p' <<<"$output")
	i=$(sed -n 's/^hv: vp legacy\/0 dispatches: .*, intercepts \([0-9]*\).*/\1/p' <<<"$output")
	[ -n "$d" ] && [ -n "$b" ] && [ -n "$i" ] || fail "no dispatch line for legacy/0"
	[ $(((d - b - i) * 20)) -lt "$ms" ] ||
		fail "legacy/0: $d dispatches, $b blocked, $i intercepts in $ms ms: the root's interrupts preempt it"
}

# A triple-faulting guest and a spinning one stop alone; guest1 passes.
assert_isolated() {
	local prefix=$1
	assert_boot_failed
	assert_line "hv: partition crasher stopped: triple fault"
	assert_line "crasher: hostile: about to triple fault"
	assert_line "spinner: hostile: spinning with interrupts off"
	assert_line --regexp "^$prefix: not ok [0-9]+ - crasher: finished .*the partition stopped"
	assert_line --regexp "^$prefix: not ok [0-9]+ - spinner: finished .*did not finish in 20 s$"
	assert_line --regexp "^$prefix: ok [0-9]+ - guest1: finished with exit code 0, 10 of 10 TAP results$"
	refute_line --regexp "^$prefix: not ok [0-9]+ - guest1"
}

@test "failure isolation, microkernel, 1 cpu: a crashing and a spinning guest stop alone" {
	boot isolation-micro "$O/tests/isolation.iso" -- -cpu max -smp 1 -m 512M
	assert_isolated root
}

@test "failure isolation, monolithic, 1 cpu: a crashing and a spinning guest stop alone" {
	boot isolation-mono "$O/tests/isolation-monolithic.iso" -- -cpu max -smp 1 -m 512M
	assert_isolated hv
}
