#!/usr/bin/env bash
# The Linux child: Debian's own kernel and busybox, fetched with
# `apt-get download` (Debian packages only, never committed), and an
# initramfs holding busybox, the Hyper-V modules with what they depend on,
# and our test /init (images/linux/init).
#   images/linux/build.sh     (from ./build.sh build; O names the output)
# Outputs: $O/linux/vmlinuz, $O/linux/initrd (gzip'd newc cpio, written by
# $O/host/tools/mkcpio), $O/linux/VERSION. The kernel is pinned below; if
# the archive no longer has that exact version, the one linux-image-amd64
# depends on is taken, with a warning.
set -euo pipefail

LINUX_PKG=linux-image-6.1.0-57-amd64
LINUX_VER=6.1.192-3
# The modules the /init loads and their dependency closure is computed
# from each module's .modinfo `depends=` (the package has no modules.dep).
WANT_MODULES="hv_vmbus hv_utils hv_storvsc sd_mod hv_netvsc"

here=$(cd "$(dirname "$0")" && pwd)
O=${O:?O must name the build output folder}
O=$(cd "$O" && pwd)
debs=$O/debs out=$O/linux work=$O/linux/work
mkdir -p "$debs" "$out"
step() { echo "==> $*" >&2; }
die() { echo "images/linux/build.sh: $*" >&2; exit 1; }

fetch() {       # fetch PACKAGE[=VERSION]: into $debs, once
	local spec=$1 name=${1%%=*} ver=${1#*=}
	[ "$ver" = "$spec" ] && ver=
	if ls "$debs/${name}_"*"${ver:+$(printf %s "$ver" | sed 's/:/%3a/')}"*.deb >/dev/null 2>&1; then
		return 0
	fi
	# apt's sandbox user must be able to write where it downloads.
	local tmp
	tmp=$(mktemp -d)
	chmod 777 "$tmp"
	(cd "$tmp" && apt-get download -q "$spec" >/dev/null 2>&1) || { rm -rf "$tmp"; return 1; }
	mv "$tmp"/*.deb "$debs/"
	rm -rf "$tmp"
}

pkg=$LINUX_PKG ver=$LINUX_VER
if ! fetch "$pkg=$ver"; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
	[ -n "$pkg" ] || die "no Debian kernel package found (apt-get update first?)"
	ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
	echo "images/linux/build.sh: WARNING: $LINUX_PKG $LINUX_VER is not in the archive; using $pkg $ver" >&2
	fetch "$pkg=$ver" || die "apt-get download $pkg=$ver failed"
fi
fetch busybox-static || die "apt-get download busybox-static failed"
kdeb=$(ls "$debs/${pkg}_"*.deb | head -n 1)
bdeb=$(ls "$debs"/busybox-static_*.deb | head -n 1)
kver=${pkg#linux-image-}

stamp=$out/.stamp
inputs="$kdeb $bdeb $here/init $here/poweroff $here/build.sh $O/host/tools/mkcpio"
if [ -f "$stamp" ] && [ -f "$out/initrd" ] && [ -f "$out/vmlinuz" ] &&
   [ "$(cat "$stamp")" = "$(sha256sum $inputs | sha256sum)" ]; then
	step "linux: kernel $kver ($ver), up to date"
	exit 0
fi
step "linux: kernel $kver ($ver) and busybox-static from Debian's packages"
rm -rf "$work"
mkdir -p "$work/k" "$work/bb" "$work/root"
dpkg-deb -x "$kdeb" "$work/k"
dpkg-deb -x "$bdeb" "$work/bb"
cp "$work/k/boot/vmlinuz-$kver" "$out/vmlinuz"

# The initramfs tree.
r=$work/root
mkdir -p "$r/bin" "$r/sbin" "$r/proc" "$r/sys" "$r/dev" "$r/lib/modules"
cp "$work/bb/bin/busybox" "$r/bin/busybox"
cp "$here/init" "$r/init"
cp "$here/poweroff" "$r/sbin/poweroff"
chmod 755 "$r/init" "$r/sbin/poweroff"

# Modules: dependency closure, dependencies first.
mdir=$work/k/lib/modules/$kver
declare -A path=() seen=()
while IFS= read -r f; do
	m=$(basename "$f" .ko)
	path[$m]=$f
	path[${m//-/_}]=$f
done < <(find "$mdir/kernel" -name '*.ko')
order=()
visit() {
	local m=$1 d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	[ -n "${path[$m]:-}" ] || die "module $m not in $pkg"
	for d in $(strings -a "${path[$m]}" | sed -n 's/^depends=//p' | tr ',' ' '); do
		visit "$d"
	done
	order+=("$(basename "${path[$m]}" .ko)")
}
for m in $WANT_MODULES; do visit "$m"; done
for m in "${order[@]}"; do cp "${path[$m]}" "$r/lib/modules/"; done
printf '%s\n' "${order[@]}" > "$r/lib/modules/order"

"$O/host/tools/mkcpio" "$r" | gzip -9n > "$out/initrd.tmp"
mv "$out/initrd.tmp" "$out/initrd"
echo "$kver ($ver)" > "$out/VERSION"
sha256sum $inputs | sha256sum > "$stamp"
rm -rf "$work"
step "linux: vmlinuz $(( $(stat -c %s "$out/vmlinuz") / 1024 )) KiB, initrd $(( $(stat -c %s "$out/initrd") / 1024 )) KiB, modules: ${order[*]}"
