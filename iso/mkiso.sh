#!/usr/bin/env bash
# Assemble a hybrid BIOS+UEFI ISO from the built products in $O.
#   mkiso.sh OUT.iso DEFAULT_ENTRY TIMEOUT [HV_CMDLINE_EXTRA [ROOT_CMDLINE_EXTRA [CONFIG [GUEST_ARGS]]]]
# CONFIG is a partition config file (default iso/partitions.cfg);
# GUEST_ARGS the command line of the guests booted natively (entries 6-7,
# default "test").
# BIOS: GRUB's El Torito core, plus boot_hybrid.img as the MBR so the same
# file boots as a disk. UEFI: a FAT image holding GRUB as BOOTX64.EFI,
# used both as the El Torito EFI image and as an EFI system partition.
# Reproducible: every timestamp comes from SOURCE_DATE_EPOCH, the FAT
# serial is fixed, and xorriso is told the volume dates.
set -euo pipefail

out=$1 default=$2 timeout=$3 extra=${4:-} rootextra=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
config=${6:-$here/partitions.cfg}
guestargs=${7:-test}
O=${O:?O must name the build output folder}
: "${SOURCE_DATE_EPOCH:?SOURCE_DATE_EPOCH must be set}"
export SOURCE_DATE_EPOCH

name=$(basename "$out" .iso)
work=$O/iso/$name
rm -rf "$work"
mkdir -p "$work/stage/boot/grub" "$work/stage/boot/isovisor" "$work/efi"

# GRUB modules compiled into the core images; nothing is loaded later.
# early.cfg, built in, finds the isovisor medium (CD, or the same image
# written to a disk) by its id file and hands over to its grub.cfg.
common="normal configfile search search_fs_file iso9660 fat part_msdos part_gpt
        multiboot2 serial terminal echo test true halt reboot ls cat sleep"
grub-mkimage -O i386-pc-eltorito -p /boot/grub -c "$here/early.cfg" \
	-o "$work/stage/boot/grub/bios.img" biosdisk $common
# efi_gop: multiboot2 on UEFI wants a video mode to hand over, else GRUB
# warns that no console will be available.
grub-mkimage -O x86_64-efi -p /boot/grub -c "$here/early.cfg" \
	-o "$work/efi/BOOTX64.EFI" $common efi_gop

# The EFI system partition image: FAT12, sized to GRUB plus slack.
efi_kib=$(( ( $(stat -c %s "$work/efi/BOOTX64.EFI") / 1024 + 256 + 63 ) / 64 * 64 ))
efiimg=$work/stage/efi.img
truncate -s "${efi_kib}K" "$efiimg"
touch -d "@$SOURCE_DATE_EPOCH" "$work/efi/BOOTX64.EFI"
mformat -i "$efiimg" -N 15042026 -v ISOVISOR -T $((efi_kib * 2)) -h 2 -s 32 ::
mmd -i "$efiimg" ::/EFI ::/EFI/BOOT
mcopy -m -i "$efiimg" "$work/efi/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

# GRUB loads, as modules, only the guest images the config's partitions
# name ("image WORD" or a multiboot image's "module WORD ...": WORD.elf,
# module command line WORD): a run does not read the others from the
# medium. Every image stays on the medium for the native entries and for
# a config edited later. mb1-aout is a flat binary (the a.out kludge),
# copied as it is.
images="legacy enlightened hostile-triple hostile-spin mb1 mb1-64 mb1-aout isolate"
named=$(awk '$1 == "image" || $1 == "module" { print $2 }' "$config")
modules=""
for img in $images; do
	if grep -qx -- "$img" <<<"$named"; then
		modules="$modules	module2 /boot/isovisor/$img.elf $img
"
	fi
done
# A Linux child's kernel and initrd ("kernel WORD", "initrd WORD"): the
# file $O/linux/WORD (images/linux/build.sh makes vmlinuz and initrd; a
# kernel of your own goes there under a name of your choosing).
# A multiboot image's "module WORD" that is not a guest image is such a
# file too.
linuxfiles=$( (awk '$1 == "kernel" || $1 == "initrd" { print $2 }' "$config"
	awk '$1 == "module" { print $2 }' "$config" |
		grep -vx -F -f <(tr ' ' '\n' <<<"$images") || true) | sort -u)
for f in $linuxfiles; do
	[ -f "$O/linux/$f" ] || { echo "mkiso.sh: $O/linux/$f: no such kernel, initrd or module" >&2; exit 1; }
	cp "$O/linux/$f" "$work/stage/boot/isovisor/$f"
	modules="$modules	module2 /boot/isovisor/$f $f
"
done
sed -e "s/@DEFAULT@/$default/" -e "s/@TIMEOUT@/$timeout/" \
    -e "s|@CMDLINE@|$extra|" -e "s|@ROOTARGS@|$rootextra|" \
    -e "s|@CONFIG@|partitions.cfg|" -e "s|@GUESTARGS@|$guestargs|" \
    "$here/grub.cfg" | awk -v mods="$modules" '$1 == "@MODULES@" { printf "%s", mods; next } { print }' \
    > "$work/stage/boot/grub/grub.cfg"
# The medium's ELF files carry no debug information or symbol table (a
# fifth of the bytes GRUB reads): nothing reads its own symbols at run
# time (panics print raw addresses). The unstripped files stay in $O for
# addr2line on those backtraces.
for elf in hypervisor hypervisor-monolithic root $images; do
	if [ "$(head -c 4 "$O/$elf.elf")" = $'\177ELF' ]; then
		strip --strip-all -o "$work/stage/boot/isovisor/$elf.elf" "$O/$elf.elf"
	else
		cp "$O/$elf.elf" "$work/stage/boot/isovisor/$elf.elf"
	fi
done
cp "$config" "$work/stage/boot/isovisor/partitions.cfg"
echo "isovisor boot medium" > "$work/stage/isovisor.id"
find "$work/stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S00)
xorriso -as mkisofs -quiet -o "$out.tmp" -V ISOVISOR -r \
	--modification-date="$date" --set_all_file_dates "$date" \
	-b boot/grub/bios.img -no-emul-boot -boot-load-size 4 \
	-boot-info-table --grub2-boot-info \
	--grub2-mbr /usr/lib/grub/i386-pc/boot_hybrid.img \
	--efi-boot efi.img -efi-boot-part --efi-boot-image \
	--protective-msdos-label \
	"$work/stage"
mv "$out.tmp" "$out"
