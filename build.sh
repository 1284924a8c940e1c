#!/usr/bin/env bash
# isovisor: the one entry point. ./build.sh help lists what it does.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$TOP"
export O=${O:-$TOP/out}

PACKAGES=(gcc binutils make grub-pc-bin grub-efi-amd64-bin grub-common
	xorriso mtools qemu-system-x86 ovmf seabios bochs bochsbios vgabios
	bats bats-assert bats-support bats-file gnuplot-nox)
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

die() { echo "build.sh: $*" >&2; exit 1; }
step() { echo "==> $*" >&2; }

usage() {
	cat <<'USAGE'
usage: ./build.sh [subcommand] [options]

  help            this list
  deps            install the Debian packages the build and tests need
                  (needs root or sudo; says "nothing to do" when all are there)
  build           compile the hypervisor (the default subcommand)
  iso [--test]    write out/isovisor.iso (GRUB menu, interactive console);
                  --test also writes out/isovisor-test.iso, which boots the
                  test-mode entry with no menu delay, and
                  out/isovisor-test-monolithic.iso (the monolithic design)
  run [--uefi]    build the ISO and boot it in QEMU (TCG, -cpu max), serial
                  on this terminal, no window; returns at power-off.
                  Options: --smp N, --mem SIZE, --test (boot the test ISO),
                  --monolithic (boot the monolithic design's test ISO)
  test            build, then run the whole default test suite (bats)
  load            build, then the long load suite (tests/long/): 32 child
                  partitions at once in both designs and the root's churn
                  of 1100 partitions (about 7 minutes under TCG, 2 cores)
  bench [--smoke] [--reps N]
                  the design comparison: every measurement in both designs,
                  under QEMU -icount and by wall clock, N repetitions
                  (default 3); writes out/bench/results.json, results.md
                  and results.svg. --smoke: smallest sizes, one pass, once
  fuzz [N]        a longer fuzz run of every target in tests/fuzz/ than the
                  suite's short one: N inputs each (default 2000000) over
                  4 seeds, with ASan/UBSan; clang's libFuzzer is used
                  instead when clang is installed (optional, not a
                  dependency), for -max_total_time=N/10000 seconds each
  matrix [--tag T] [--filter RE] [--cell NAME] [--rerun-failed] [-j N|auto]
         [--shard I/N] [--baseline DIR] [--list]
                  build, then boot the cells of the hardware matrix
                  (ci/matrix.cfg) with ci/run-matrix; out/matrix/ holds a
                  folder per cell and results.tsv, report.md, junit.xml
  clean           remove out/
USAGE
}

# ---- dependencies ---------------------------------------------------------
missing_packages() {
	local p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || echo "$p"
	done
}

cmd_deps() {
	local missing
	missing=$(missing_packages | tr '\n' ' ')
	if [ -z "${missing// /}" ]; then
		echo "deps: nothing to do, all ${#PACKAGES[@]} packages are installed"
		return
	fi
	local sudo=
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			sudo=sudo
		else
			die "deps: installing ${missing}needs root or sudo; run as root or: sudo apt-get install $missing"
		fi
	fi
	step "deps: installing $missing"
	$sudo apt-get update -q >/dev/null || die "deps: apt-get update failed"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing >/dev/null ||
		die "deps: apt-get install failed for: $missing"
}

# Cheap check before each subcommand: install only when something is gone.
ensure_deps() {
	local t
	for t in gcc ld make grub-mkimage xorriso mformat qemu-system-x86_64 bats gnuplot; do
		command -v "$t" >/dev/null || { cmd_deps; return; }
	done
	for t in /usr/lib/grub/i386-pc/boot_hybrid.img /usr/lib/grub/x86_64-efi/kernel.img \
		 "$OVMF_CODE" /usr/lib/bats/bats-assert/load.bash \
		 /usr/lib/bats/bats-support/load.bash /usr/lib/bats/bats-file/load.bash; do
		[ -e "$t" ] || { cmd_deps; return; }
	done
}

# ---- build ----------------------------------------------------------------
version() {
	local v
	v=$(cat VERSION)
	if git rev-parse --git-dir >/dev/null 2>&1; then
		v="$v-g$(git rev-parse --short=10 HEAD 2>/dev/null || echo none)"
		git diff --quiet HEAD 2>/dev/null || v="$v-dirty"
	fi
	echo "$v"
}

source_date_epoch() {
	git log -1 --format=%ct 2>/dev/null || echo 1767225600
}

cmd_build() {
	step "build: hypervisor"
	make -s -j"$(nproc)" O="$O" VERSION="$(version)" all ||
		die "build: compiling failed (see the compiler output above)"
	O="$O" SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(source_date_epoch)} \
		images/linux/build.sh || die "build: the Linux child's kernel and initramfs failed"
}

cmd_iso() {
	local test=0
	for a in "$@"; do
		case $a in
		--test) test=1 ;;
		*) die "iso: unknown option $a" ;;
		esac
	done
	cmd_build
	export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(source_date_epoch)}
	step "iso: out/isovisor.iso"
	iso/mkiso.sh "$O/isovisor.iso" 0 10 || die "iso: assembling out/isovisor.iso failed"
	if [ $test = 1 ]; then
		step "iso: out/isovisor-test.iso"
		iso/mkiso.sh "$O/isovisor-test.iso" 1 0 ||
			die "iso: assembling out/isovisor-test.iso failed"
		step "iso: out/isovisor-test-monolithic.iso"
		iso/mkiso.sh "$O/isovisor-test-monolithic.iso" 5 0 ||
			die "iso: assembling out/isovisor-test-monolithic.iso failed"
	fi
}

# ---- run ------------------------------------------------------------------
cmd_run() {
	local uefi=0 smp=2 mem=512M iso=$O/isovisor.iso test=
	while [ $# -gt 0 ]; do
		case $1 in
		--uefi) uefi=1 ;;
		--smp) smp=$2; shift ;;
		--mem) mem=$2; shift ;;
		--test) test=--test; iso=$O/isovisor-test.iso ;;
		--monolithic) test=--test; iso=$O/isovisor-test-monolithic.iso ;;
		*) die "run: unknown option $1" ;;
		esac
		shift
	done
	cmd_iso $test
	local args=(-accel tcg -cpu max -smp "$smp" -m "$mem" -display none
		-serial mon:stdio -no-reboot
		-device isa-debug-exit,iobase=0xf4,iosize=0x04)
	if [ $uefi = 1 ]; then
		cp "$OVMF_VARS" "$O/ovmf-vars-run.fd"
		args+=(-machine q35
			-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
			-drive "if=pflash,format=raw,unit=1,file=$O/ovmf-vars-run.fd")
	else
		args+=(-machine pc)
	fi
	args+=(-drive "file=$iso,media=cdrom,format=raw,readonly=on")
	step "run: qemu-system-x86_64 ${args[*]}"
	local rc=0
	qemu-system-x86_64 "${args[@]}" || rc=$?
	# isa-debug-exit: 1 = test pass, 3 = test fail; 0 = powered off.
	case $rc in
	0|1) return 0 ;;
	*) return "$rc" ;;
	esac
}

# ---- test -----------------------------------------------------------------
cmd_test() {
	cmd_iso --test
	step "test: host unit tests and fuzz targets"
	make -s -j"$(nproc)" O="$O" unit || die "test: building the unit tests failed"
	step "test: bats suites"
	mkdir -p "$O/tests"
	bats --timing tests/ || die "test: some tests failed (logs in out/tests/)"
}

cmd_load() {
	cmd_iso --test
	make -s -j"$(nproc)" O="$O" unit || die "load: building the host tools failed"
	mkdir -p "$O/tests"
	step "load: tests/long/"
	bats --timing tests/long/ || die "load: some tests failed (logs in out/tests/)"
}

# ---- fuzz -----------------------------------------------------------------
cmd_fuzz() {
	local n=${1:-2000000} f name seed
	[[ $n =~ ^[0-9]+$ ]] || die "fuzz: N must be a number of inputs"
	make -s -j"$(nproc)" O="$O" unit || die "fuzz: building the fuzz targets failed"
	if command -v clang >/dev/null; then
		step "fuzz: clang found: libFuzzer, $((n / 10000 + 1)) s per target"
		local lf=$O/host/libfuzzer cflags=(-g -O1 -fsanitize=fuzzer-no-link,address,undefined
			-Iinclude -Ikernel/lib -Ihypervisor -Idrivers -Ivmbus -Itests/unit)
		mkdir -p "$lf/obj"
		rm -f "$lf/libportable.a"
		for f in $(make -s O="$O" print-host-sources); do
			clang "${cflags[@]}" -c "$f" -o "$lf/obj/$(echo "$f" | tr / _).o" ||
				die "fuzz: clang could not compile $f"
		done
		ar rcs "$lf/libportable.a" "$lf"/obj/*.o
		for f in tests/fuzz/fuzz_*.c; do
			name=$(basename "$f" .c)
			clang "${cflags[@]}" -fsanitize=fuzzer "$f" "$lf/libportable.a" -o "$lf/$name" ||
				die "fuzz: clang could not build $name"
			"$O/host/libfuzzer/$name" -max_total_time=$((n / 10000 + 1)) \
				>"$O/host/libfuzzer/$name.log" 2>&1 ||
				die "fuzz: $name found a crash (see $O/host/libfuzzer/$name.log)"
			echo "fuzz: $name: libFuzzer, no crash"
		done
		return
	fi
	for f in "$O"/host/fuzz/fuzz_*; do
		for seed in 1 2 3 4; do
			step "fuzz: $(basename "$f") seed $seed, $n inputs"
			"$f" -n "$n" -s "$seed" | tail -1 | grep -q "no crash" ||
				die "fuzz: $(basename "$f") crashed with seed $seed (rerun: $f -n $n -s $seed)"
		done
	done
	echo "fuzz: every target survived $n inputs x 4 seeds"
}

cmd_clean() {
	rm -rf "$O"
}

sub=${1:-build}
[ $# -gt 0 ] && shift
case $sub in
help|-h|--help) usage ;;
deps) cmd_deps ;;
build) ensure_deps; cmd_build ;;
iso) ensure_deps; cmd_iso "$@" ;;
run) ensure_deps; cmd_run "$@" ;;
test) ensure_deps; cmd_test "$@" ;;
load) ensure_deps; cmd_load "$@" ;;
fuzz) ensure_deps; cmd_fuzz "$@" ;;
bench) ensure_deps; O="$O" tests/bench/bench.sh "$@" ;;
matrix) ensure_deps; case " $* " in *" --list "*|*" -h "*|*" --help "*) ;; *) cmd_build ;; esac
	O="$O" ci/run-matrix "$@" ;;
clean) cmd_clean ;;
*) usage >&2; die "unknown subcommand '$sub'" ;;
esac
