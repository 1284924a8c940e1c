# isovisor build. Driven by ./build.sh; every product lands under out/.
# Freestanding code (hypervisor, root kernel, guest images) is built with
# the host gcc in freestanding mode; the portable library (kernel/lib) is
# also built for the host with sanitizers, for unit tests and fuzz targets.

O        ?= out
VERSION  ?= $(shell cat VERSION)

CC       ?= gcc
LD       ?= ld
HOSTCC   ?= gcc

WARN     := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes
KCFLAGS  := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-builtin -nostdinc \
            -fno-stack-protector -fno-pic -fno-pie -mno-red-zone \
            -mgeneral-regs-only -mcmodel=small -fno-asynchronous-unwind-tables \
            -fno-omit-frame-pointer -ffile-prefix-map=$(CURDIR)=. \
            -isystem include/libc -isystem $(shell $(CC) -print-file-name=include) \
            -Iinclude -Ikernel/lib -Idrivers -Ivmbus -MMD -MP
KASFLAGS := $(KCFLAGS) -D__ASSEMBLY__
KLDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack --build-id=none -no-pie --no-warn-rwx-segments

HOSTCFLAGS := -std=gnu11 -O1 -g $(WARN) -fsanitize=address,undefined \
              -fno-sanitize-recover=all -fno-omit-frame-pointer \
              -Iinclude -Ikernel/lib -Ihypervisor -Idrivers -Ivmbus -Itests/unit -MMD -MP

# The portable library: no hardware access, builds for host and target.
LIB_PORTABLE := kernel/lib/mb2.c kernel/lib/memmap.c kernel/lib/pmm.c \
                kernel/lib/acpi.c kernel/lib/format.c kernel/lib/elf.c \
                kernel/lib/partcfg.c kernel/lib/x86_decode.c \
                kernel/lib/bzimage.c kernel/lib/net.c kernel/lib/netecho.c \
                kernel/lib/crc32.c
# Device models, written once against drivers/platform.h: linked into
# the root partition (microkernelized design).
DRIVERS      := $(wildcard drivers/*.c)
# VMBus (rings, channel management, VSPs and VSCs): portable, host-tested.
VMBUS        := $(wildcard vmbus/*.c)
# Portable pieces of the hypervisor: built into it, and for host tests.
HV_PORTABLE  := hypervisor/rootview.c hypervisor/xcr0.c hypervisor/runring.c \
                hypervisor/cpupolicy.c hypervisor/vlapic.c \
                hypervisor/hypercall_abi.c hypervisor/arch/x86/npt.c
# Target-only library pieces: x86/ is what every image's CPUs share (trap
# entry and IDT, panic, local APIC, TSC, GDT, AP start-up), behind the
# hooks of kernel/lib/x86/klib.h that each image defines.
LIB_X86      := kernel/lib/x86/trap_entry.S kernel/lib/x86/trampoline.S \
                kernel/lib/x86/com1.c kernel/lib/x86/pci.c \
                kernel/lib/x86/traps.c kernel/lib/x86/panic.c \
                kernel/lib/x86/apic.c kernel/lib/x86/tsc.c \
                kernel/lib/x86/gdt.c kernel/lib/x86/smp_start.c
LIB_TARGET   := kernel/lib/string.c $(LIB_X86)

# The two designs differ only in these files (hypervisor/design.h).
HV_MICRO := hypervisor/design_microkernel.c hypervisor/root.c \
            drivers/pcienum.c          # pcibars.c walks the buses as the drivers do
HV_MONO  := hypervisor/design_monolithic.c hypervisor/physdisk.c
HV_C   := $(filter-out $(HV_PORTABLE) $(HV_MICRO) $(HV_MONO),$(wildcard hypervisor/*.c hypervisor/arch/x86/*.c)) $(HV_PORTABLE)
HV_S   := kernel/lib/x86/boot.S $(wildcard hypervisor/arch/x86/*.S)
HV_OBJ := $(patsubst %,$(O)/obj/%.o,$(HV_S) $(HV_C) $(LIB_PORTABLE) $(LIB_TARGET))
HV_MICRO_OBJ := $(patsubst %,$(O)/obj/%.o,$(HV_MICRO))
HV_MONO_OBJ  := $(patsubst %,$(O)/obj/%.o,$(HV_MONO) $(DRIVERS) $(VMBUS))

ROOT_C   := $(wildcard kernel/*.c)
ROOT_S   := kernel/lib/x86/boot.S $(wildcard kernel/*.S)
ROOT_OBJ := $(patsubst %,$(O)/obj/%.o,$(ROOT_S) $(ROOT_C) $(LIB_PORTABLE) $(LIB_TARGET) $(DRIVERS) $(VMBUS))

# The legacy guest (images/legacy): emulated devices only, linked at 2 MiB.
# images/common holds what every guest image shares (console, TAP, boot).
LEGACY_C   := $(wildcard images/legacy/*.c images/common/*.c)
LEGACY_S   := kernel/lib/x86/boot.S $(wildcard images/legacy/*.S)
LEGACY_OBJ := $(patsubst %,$(O)/obj/%.o,$(LEGACY_S) $(LEGACY_C) $(LIB_PORTABLE) $(LIB_TARGET))

all: $(O)/hypervisor.elf $(O)/hypervisor-monolithic.elf $(O)/root.elf $(O)/legacy.elf

$(O)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -DISOVISOR_VERSION='"$(VERSION)"' -c $< -o $@

$(O)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) -c $< -o $@

$(O)/hypervisor.elf: $(HV_OBJ) $(HV_MICRO_OBJ) hypervisor/arch/x86/hypervisor.ld
	$(LD) $(KLDFLAGS) -T hypervisor/arch/x86/hypervisor.ld -o $@ $(HV_OBJ) $(HV_MICRO_OBJ)

$(O)/hypervisor-monolithic.elf: $(HV_OBJ) $(HV_MONO_OBJ) hypervisor/arch/x86/hypervisor.ld
	$(LD) $(KLDFLAGS) -T hypervisor/arch/x86/hypervisor.ld -o $@ $(HV_OBJ) $(HV_MONO_OBJ)

$(O)/root.elf: $(ROOT_OBJ) kernel/root.ld
	$(LD) $(KLDFLAGS) -T kernel/root.ld -o $@ $(ROOT_OBJ)

$(O)/legacy.elf: $(LEGACY_OBJ) images/common/guest.ld
	$(LD) $(KLDFLAGS) -T images/common/guest.ld -o $@ $(LEGACY_OBJ)

# ---- host-side unit tests and fuzz targets -------------------------------
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(O)/host/unit/%,$(UNIT_SRC))
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,$(O)/host/fuzz/%,$(FUZZ_SRC))
HOST_LIB  := $(patsubst %,$(O)/host/obj/%.o,$(LIB_PORTABLE) $(HV_PORTABLE) $(DRIVERS) $(VMBUS))

$(O)/host/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -c $< -o $@

# An archive, so each test links only the objects it uses.
$(O)/host/libportable.a: $(HOST_LIB)
	rm -f $@
	ar rcs $@ $^

$(O)/host/unit/%: $(O)/host/obj/tests/unit/%.c.o $(O)/host/libportable.a
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -o $@ $^

$(O)/host/fuzz/%: $(O)/host/obj/tests/fuzz/%.c.o $(O)/host/obj/tests/fuzz/driver.c.o $(O)/host/libportable.a
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -o $@ $^

unit: $(UNIT_BIN) $(FUZZ_BIN)

.PHONY: all unit
.SECONDARY:

-include $(shell find $(O) -name '*.d' 2>/dev/null)

# Hostile guests (images/hostile): a triple fault, a spin with IF clear.
$(O)/obj/images/hostile/triple.o: images/hostile/hostile.S
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) -DHOSTILE_TRIPLE -c $< -o $@

$(O)/obj/images/hostile/spin.o: images/hostile/hostile.S
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) -c $< -o $@

$(O)/hostile-%.elf: $(O)/obj/images/hostile/%.o images/hostile/hostile.ld
	$(LD) $(KLDFLAGS) -T images/hostile/hostile.ld -o $@ $<

all: $(O)/hostile-triple.elf $(O)/hostile-spin.elf

# The multiboot (1) guests (images/mb1): ELF32 with a module (mb1),
# ELF64 (mb1-64), and a flat binary by the a.out kludge (mb1-aout; named
# .elf like the others on the medium, though it is not one).
$(O)/obj/images/mb1/mb1.o: images/mb1/mb1.S
	@mkdir -p $(dir $@)
	$(CC) -m32 -ffreestanding -D__ASSEMBLY__ -DMB1_MODULES '-DMB1_KIND="elf32"' -c $< -o $@

$(O)/obj/images/mb1/mb1-64.o: images/mb1/mb1.S
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) '-DMB1_KIND="elf64"' -c $< -o $@

$(O)/obj/images/mb1/mb1-aout.o: images/mb1/mb1.S
	@mkdir -p $(dir $@)
	$(CC) -m32 -ffreestanding -D__ASSEMBLY__ -DMB1_AOUT '-DMB1_KIND="a.out kludge"' -c $< -o $@

$(O)/mb1.elf: $(O)/obj/images/mb1/mb1.o images/mb1/mb1.ld
	$(LD) -m elf_i386 $(KLDFLAGS) -T images/mb1/mb1.ld -o $@ $<

$(O)/mb1-64.elf: $(O)/obj/images/mb1/mb1-64.o images/mb1/mb1.ld
	$(LD) $(KLDFLAGS) -T images/mb1/mb1.ld -o $@ $<

$(O)/mb1-aout.elf: $(O)/obj/images/mb1/mb1-aout.o images/mb1/mb1.ld
	$(LD) -m elf_i386 $(KLDFLAGS) -T images/mb1/mb1.ld -o $(O)/obj/images/mb1/mb1-aout.tmp $<
	objcopy -O binary $(O)/obj/images/mb1/mb1-aout.tmp $@

all: $(O)/mb1.elf $(O)/mb1-64.elf $(O)/mb1-aout.elf

# The enlightened guest (images/enlightened): a child with integration
# services (hypercalls, SynIC, VMBus), on the same common guest base.
# VMBus comes as an archive: the guest links the client side it calls,
# not the host's VSPs and the device models they need.
ENLIGHTENED_C   := $(wildcard images/enlightened/*.c images/common/*.c)
ENLIGHTENED_OBJ := $(patsubst %,$(O)/obj/%.o,kernel/lib/x86/boot.S \
                   $(ENLIGHTENED_C) $(LIB_PORTABLE) $(LIB_TARGET))

$(O)/obj/vmbus-guest.a: $(patsubst %,$(O)/obj/%.o,$(VMBUS))
	rm -f $@
	ar rcs $@ $^

$(O)/enlightened.elf: $(ENLIGHTENED_OBJ) $(O)/obj/vmbus-guest.a images/common/guest.ld
	$(LD) $(KLDFLAGS) -T images/common/guest.ld -o $@ $(ENLIGHTENED_OBJ) \
		$(O)/obj/vmbus-guest.a

all: $(O)/enlightened.elf

# The isolate guest (images/isolate): checks from inside a child that no
# CPU state (vector registers, XCR0, TSC_AUX) crosses partitions and that
# it cannot program the physical local APIC; modes by command line.
ISOLATE_C   := $(wildcard images/isolate/*.c images/common/*.c)
ISOLATE_OBJ := $(patsubst %,$(O)/obj/%.o,kernel/lib/x86/boot.S \
               $(wildcard images/isolate/*.S) $(ISOLATE_C) $(LIB_PORTABLE) $(LIB_TARGET))

$(O)/isolate.elf: $(ISOLATE_OBJ) images/common/guest.ld
	$(LD) $(KLDFLAGS) -T images/common/guest.ld -o $@ $(ISOLATE_OBJ)

all: $(O)/isolate.elf

# Host tools the bats suites use: diskcheck verifies a guest's pattern in
# a disk image with the guests' own pattern code.
$(O)/host/tools/diskcheck: tests/tools/diskcheck.c images/common/pattern.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O2 $(WARN) -Iinclude -Ikernel/lib -Iimages/common -o $@ $^

unit: $(O)/host/tools/diskcheck

# netpeer: the host at the far end of the network tests' uplink.
$(O)/host/tools/netpeer: tests/tools/netpeer.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O2 $(WARN) -o $@ $<

unit: $(O)/host/tools/netpeer

# mkcpio writes the Linux child's initramfs (images/linux/build.sh).
$(O)/host/tools/mkcpio: images/linux/mkcpio.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O2 $(WARN) -o $@ $<
all: $(O)/host/tools/mkcpio

# The portable sources the host library holds (build.sh fuzz's clang path).
print-host-sources:
	@echo $(LIB_PORTABLE) $(HV_PORTABLE) $(DRIVERS) $(VMBUS)

.PHONY: print-host-sources
