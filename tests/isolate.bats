#!/usr/bin/env bats
# CPU state isolation from inside children (images/isolate, with
# tests/isolate.cfg), in both designs: the child CPU policy (MSRs an OS
# writes at boot read back, bad values #GP, CPUID hides SVM/SEV/MWAIT);
# a child's own virtual local APIC (xAPIC page, x2APIC MSRs #GP until
# x2APIC mode, self IPIs, TPR, the timer's three modes); two children sharing
# one CPU keep their own vector registers, MXCSR, x87 control word, XCR0
# and TSC_AUX across thousands of switches and never see each other's;
# XSETBV refuses bad values. With -smp 2 the children still share CPU 0
# (a child VP runs on the CPU of the root VP that created it).

load helpers

setup_file() {
	export SOURCE_DATE_EPOCH=1767225600
	mkdir -p "$O/tests"
	"$TOP/iso/mkiso.sh" "$O/tests/isolate.iso" 1 0 "" "" "$TOP/tests/isolate.cfg"
	"$TOP/iso/mkiso.sh" "$O/tests/isolate-monolithic.iso" 5 0 "" "" "$TOP/tests/isolate.cfg"
}

# The msr guest: the child CPU policy from inside, and the hypervisor's
# one log line per refused MSR (VM_CR is read twice, logged once).
assert_child_cpu_policy() {
	local prefix=$1 n
	assert_line --regexp "^$prefix: ok [0-9]+ - msr isolate msr: 10 of 10 base and syscall MSRs .* read back what was written$"
	assert_line --regexp "^$prefix: ok [0-9]+ - msr isolate msr: 7 of 7 non-canonical bases and reserved SFMASK bits raised #GP and changed nothing$"
	assert_line --regexp "^$prefix: ok [0-9]+ - msr isolate msr: PAT reads back 0x7010600070106, a reserved type raised #GP$"
	assert_line --regexp "^$prefix: ok [0-9]+ - msr isolate msr: MTRRcap 0x508 \(8 variable ranges\), MTRRdefType 0x806; .* raised #GP$"
	assert_line --regexp "^$prefix: ok [0-9]+ - msr isolate msr: APIC_BASE 0xfee00900 \(BSP, enabled\); clearing BSP, EXTD without EN and reserved bit 9 raised #GP$"
	assert_line --regexp "^$prefix: ok [0-9]+ - msr isolate msr: RDMSR TSC lies between two RDTSCs$"
	assert_line --regexp "^$prefix: ok [0-9]+ - msr isolate msr: EFER 0x[0-9a-f]+: SVME, clearing LME with paging on, reserved bit 20 raised #GP$"
	assert_line --regexp "^$prefix: ok [0-9]+ - msr isolate msr: VM_CR \(read twice\) and MSR 0xc0011234 raised #GP$"
	assert_line --regexp "^$prefix: ok [0-9]+ - msr isolate cpuid: SVM hidden, VMX hidden, leaf 0x8000000a zero, leaf 0x8000001f zero, MONITOR hidden, x2APIC shown, hypervisor bit set"
	# Hidden and intercepted: #UD, never a parked physical CPU.
	assert_line --regexp "^$prefix: ok [0-9]+ - msr isolate mwait: MONITOR raised #UD, MWAIT raised #UD$"
	assert_line --regexp "^$prefix: ok [0-9]+ - msr: finished with exit code 0, 10 of 10 TAP results$"
	n=$(grep -c "^hv: msr vp 0: MSR 0xc0010114 read refused (#GP)$" <<<"$output")
	[ "$n" -eq 1 ] || fail "expected VM_CR's refusal logged once, got $n"
	assert_line "hv: msr vp 0: MSR 0xc0011234 write refused (#GP)"
}

# Every check of the three guests ok, in the run's one TAP stream;
# `vec` is the register file the FPU guests checked (XMM or YMM).
assert_cpu_state_isolated() {
	local prefix=$1 vec=$2 g n
	assert_boot_passed
	assert_line --regexp "^$prefix: ok [0-9]+ - apic isolate apic: APIC_BASE 0xfee00900 \(BSP, enabled, xAPIC mode\)$"
	assert_line --regexp "^$prefix: ok [0-9]+ - apic isolate apic: 7 of 7 x2APIC MSR accesses in xAPIC mode raised #GP \(the ICR write first\), 0 interrupts$"
	assert_line --regexp "^$prefix: ok [0-9]+ - apic isolate apic: xAPIC page: ID 0x0, version 0x50014$"
	assert_line --regexp "^$prefix: ok [0-9]+ - apic isolate apic: a self IPI through the xAPIC ICR arrived once \(1\)$"
	assert_line --regexp "^$prefix: ok [0-9]+ - apic isolate apic: x2APIC mode on: ID 0, LDR 0x1$"
	assert_line --regexp "^$prefix: ok [0-9]+ - apic isolate apic: 40 of 40 self IPIs \(ICR and SELF_IPI\) arrived$"
	assert_line --regexp "^$prefix: ok [0-9]+ - apic isolate apic: TPR 0xf0 held vector 0xf1 back, TPR 0 let it in$"
	assert_line --regexp "^$prefix: ok [0-9]+ - apic isolate apic: one-shot timer fired once \(count [0-9]+ after arming, 0 after\)$"
	assert_line --regexp "^$prefix: ok [0-9]+ - apic isolate apic: periodic timer fired [0-9]+ times$"
	assert_line --regexp "^$prefix: ok [0-9]+ - apic isolate apic: TSC-deadline timer fired once, IA32_TSC_DEADLINE reads 0 after$"
	assert_line --regexp "^$prefix: ok [0-9]+ - apic isolate apic: 7 of 7 reserved x2APIC accesses and x2APIC -> xAPIC raised #GP, and this guest still runs$"
	assert_line --regexp "^$prefix: ok [0-9]+ - apic: finished with exit code 0, 11 of 11 TAP results$"
	# The hypervisor logs the refusals, a few and then at powers of two:
	# 7 in xAPIC mode and 6 more give lines for 1, 2, 3, 4 and 8.
	assert_line "hv: apic vp 0: x2APIC MSR 0x830 write refused (#GP: the APIC is not in x2APIC mode), 1 so far"
	n=$(grep -c "^hv: apic vp 0: x2APIC MSR" <<<"$output")
	[ "$n" -eq 5 ] || fail "expected 5 rate-limited x2APIC log lines, got $n"
	assert_child_cpu_policy "$prefix"
	for g in fpuw:writer:checker fpuc:checker:writer; do
		IFS=: read -r name me them <<<"$g"
		assert_line --regexp "^$prefix: ok [0-9]+ - $name isolate xsetbv: "
		assert_line --regexp "^$prefix: ok [0-9]+ - $name isolate tsc_aux: RDTSCP reads this VP's own TSC_AUX"
		assert_line --regexp "^$prefix: ok [0-9]+ - $name isolate fpu: $me kept ${vec}0-15, MXCSR, FCW.* over [0-9]{4,} yields"
		assert_line --regexp "^$prefix: ok [0-9]+ - $name isolate fpu: $me never saw the $them's values$"
		assert_line --regexp "^$prefix: ok [0-9]+ - $name: finished with exit code 0, [45] of [45] TAP results$"
	done
	refute_line --regexp "^$prefix: not ok "
}

@test "isolation of CPU state, microkernel, bios, 1 cpu: own APIC, own FPU/AVX, XCR0 and TSC_AUX" {
	boot isolate-micro-bios-smp1 "$O/tests/isolate.iso" -- -cpu max -smp 1 -m 512M
	assert_line --regexp "^hv: isovisor [^ ]+ booting \(bios, microkernel\)$"
	assert_line --regexp "^hv: cpu state per VP: XSAVE of XCR0 mask 0x[0-9a-f]+ \([0-9]+-byte areas\), TSC_AUX"
	assert_cpu_state_isolated root YMM
	# Both children set XCR0 of their own (AVX plus MPX, AVX plus PKRU).
	assert_line --regexp "^root: ok [0-9]+ - fpuw isolate fpu: writer kept YMM0-15, MXCSR, FCW, XCR0 0x1f, TSC_AUX"
	assert_line --regexp "^root: ok [0-9]+ - fpuc isolate fpu: checker kept YMM0-15, MXCSR, FCW, XCR0 0x207, TSC_AUX"
	assert_line --regexp "^root: ok [0-9]+ - fpuw isolate xsetbv: #UD before CR4.OSXSAVE; 5 of 5 bad values .* #GP; XCR0 stays 0x1$"
}

@test "isolation of CPU state, monolithic, bios, 1 cpu: the same with no root partition" {
	boot isolate-mono-bios-smp1 "$O/tests/isolate-monolithic.iso" -- -cpu max -smp 1 -m 512M
	assert_line --regexp "^hv: isovisor [^ ]+ booting \(bios, monolithic\)$"
	refute_line --regexp "^root: "
	assert_cpu_state_isolated hv YMM
}

@test "isolation of CPU state, microkernel, uefi, 2 cpus" {
	boot isolate-micro-uefi-smp2 "$O/tests/isolate.iso" --uefi -- -cpu max -smp 2 -m 512M
	assert_line "hv: cpus 2 online"
	assert_cpu_state_isolated root YMM
}

@test "isolation of CPU state, microkernel, qemu64 (no XSAVE, no RDTSCP): FXSAVE keeps XMM apart" {
	boot isolate-micro-qemu64 "$O/tests/isolate.iso" -- -cpu qemu64,+svm,+npt -smp 1 -m 512M
	assert_line --regexp "^hv: cpu state per VP: FXSAVE \(512-byte areas\), DR0-DR3$"
	assert_cpu_state_isolated root XMM
	assert_line --regexp "^root: ok [0-9]+ - fpuw isolate xsetbv: XSETBV raised #UD # SKIP no XSAVE offered$"
	assert_line --regexp "^root: ok [0-9]+ - fpuw isolate tsc_aux: RDTSCP reads this VP's own TSC_AUX # SKIP no RDTSCP offered$"
}
