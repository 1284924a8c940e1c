/*
 * Linux x86 boot protocol (bzimage.h). Field offsets are boot.rst's
 * "real-mode kernel header"; the header is read only below header_end,
 * which the image itself states (0x202 + the byte at 0x201), and only
 * after that end is known to lie inside the image.
 */
#include <string.h>
#include "bzimage.h"

#define HDR_SETUP_SECTS    0x1f1
#define HDR_SYSSIZE        0x1f4
#define HDR_BOOT_FLAG      0x1fe
#define HDR_JUMP_END       0x201
#define HDR_MAGIC          0x202
#define HDR_VERSION        0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS      0x211
#define HDR_CODE32_START   0x214
#define HDR_RAMDISK_IMAGE  0x218
#define HDR_RAMDISK_SIZE   0x21c
#define HDR_CMD_LINE_PTR   0x228
#define HDR_INITRD_MAX     0x22c
#define HDR_KERNEL_ALIGN   0x230
#define HDR_XLOADFLAGS     0x236
#define HDR_CMDLINE_SIZE   0x238
#define HDR_PREF_ADDRESS   0x258
#define HDR_INIT_SIZE      0x260

#define LOADED_HIGH        0x01
#define QUIET_FLAG         0x20
#define KEEP_SEGMENTS      0x40
#define CAN_USE_HEAP       0x80
#define XLF_KERNEL_64      0x01

/* The protocol version that added each field this loader relies on. */
#define BZ_HEADER_MAX      0x290
#define PROTO_MIN          0x020c       /* xloadflags, 64-bit entry */
#define PROTO_INIT_SIZE    0x020a
#define PROTO_RSDP         0x020e

static uint32_t rd8(const uint8_t *p, size_t o) { return p[o]; }
static uint32_t rd16(const uint8_t *p, size_t o) { return p[o] | (uint32_t)p[o + 1] << 8; }
static uint32_t rd32(const uint8_t *p, size_t o) { return rd16(p, o) | rd16(p, o + 2) << 16; }
static uint64_t rd64(const uint8_t *p, size_t o) { return rd32(p, o) | (uint64_t)rd32(p, o + 4) << 32; }

static void wr8(uint8_t *p, size_t o, uint32_t v) { p[o] = (uint8_t)v; }
static void wr16(uint8_t *p, size_t o, uint32_t v) { wr8(p, o, v); wr8(p, o + 1, v >> 8); }
static void wr32(uint8_t *p, size_t o, uint32_t v) { wr16(p, o, v); wr16(p, o + 2, v >> 16); }
static void wr64(uint8_t *p, size_t o, uint64_t v) { wr32(p, o, (uint32_t)v); wr32(p, o + 4, (uint32_t)(v >> 32)); }

static int fail(const char **err, const char *why)
{
	if (err)
		*err = why;
	return -1;
}

int bzimage_plan(const void *image, size_t size, struct bzimage_plan *plan,
		 const char **err)
{
	const uint8_t *p = image;
	uint64_t setup_bytes, sys_bytes, align, pref;
	uint32_t setup_sects;

	memset(plan, 0, sizeof(*plan));
	if (!image || size < 0x264)
		return fail(err, "too small for a Linux boot sector and setup header");
	if (rd16(p, HDR_BOOT_FLAG) != 0xaa55)
		return fail(err, "no 0xAA55 boot flag: not a Linux kernel image");
	if (memcmp(p + HDR_MAGIC, "HdrS", 4))
		return fail(err, "no \"HdrS\" setup header: not a Linux bzImage");
	plan->version = (uint16_t)rd16(p, HDR_VERSION);
	if (plan->version < PROTO_MIN)
		return fail(err, "Linux boot protocol older than 2.12");
	plan->header_end = 0x202 + rd8(p, HDR_JUMP_END);
	if (plan->header_end > size || plan->header_end < HDR_INIT_SIZE + 4)
		return fail(err, "the setup header's end lies outside the image");
	if (!(rd8(p, HDR_LOADFLAGS) & LOADED_HIGH))
		return fail(err, "a zImage (LOADED_HIGH clear): only bzImages load high");
	if (!(rd16(p, HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return fail(err, "not a 64-bit kernel (XLF_KERNEL_64 clear)");
	setup_sects = rd8(p, HDR_SETUP_SECTS);
	if (!setup_sects)
		setup_sects = 4;                /* boot.rst: 0 means 4 */
	setup_bytes = (uint64_t)(setup_sects + 1) * 512;
	sys_bytes = (uint64_t)rd32(p, HDR_SYSSIZE) * 16;
	if (setup_bytes >= size)
		return fail(err, "the setup sectors fill the whole image: no kernel part");
	if (!sys_bytes || sys_bytes > size - setup_bytes)
		return fail(err, "the kernel part (syssize) runs past the end of the image");
	plan->kernel_offset = setup_bytes;
	/* Everything after the setup code: syssize is in 16-byte units, so
	 * the file's tail is the authority for the last partial unit. */
	plan->kernel_size = size - setup_bytes;
	plan->load_addr = BZ_LOAD_ADDR;
	plan->entry = BZ_LOAD_ADDR;
	plan->cmdline_max = rd32(p, HDR_CMDLINE_SIZE);
	plan->initrd_max = rd32(p, HDR_INITRD_MAX);
	align = rd32(p, HDR_KERNEL_ALIGN);
	pref = rd64(p, HDR_PREF_ADDRESS);
	if (pref < BZ_LOAD_ADDR)
		pref = BZ_LOAD_ADDR;
	if (align & (align - 1))
		return fail(err, "kernel_alignment is not a power of two");
	/* The decompressor runs at the larger of its (aligned) load
	 * address and LOAD_PHYSICAL_ADDR (pref_address), and needs
	 * init_size bytes from there. */
	plan->needs_below = pref + (plan->version >= PROTO_INIT_SIZE ? rd32(p, HDR_INIT_SIZE) : 0);
	if (plan->needs_below < plan->load_addr + plan->kernel_size)
		plan->needs_below = plan->load_addr + plan->kernel_size;
	return 0;
}

uint64_t bzimage_initrd_addr(const struct bzimage_plan *plan, uint64_t ram_end,
			     uint64_t floor, uint64_t size)
{
	uint64_t top = ram_end;

	if (plan->initrd_max && plan->initrd_max + 1 < top)
		top = plan->initrd_max + 1;
	if (!size || size > top || top - size < floor)
		return 0;
	return (top - size) & ~0xfffull;
}

int bzimage_zero_page(const void *image, const struct bzimage_plan *plan,
		      const struct bzimage_layout *l, uint8_t zp[BZ_ZERO_PAGE_SIZE],
		      const char **err)
{
	const uint8_t *p = image;
	uint8_t flags;

	if (l->e820_count > BZ_E820_MAX)
		return fail(err, "more e820 entries than boot_params holds");
	if ((l->cmdline_gpa >> 32 || (l->initrd_gpa + l->initrd_size) >> 32) &&
	    plan->version < 0x020c)
		return fail(err, "a command line or initrd above 4 GiB needs protocol 2.12");
	memset(zp, 0, BZ_ZERO_PAGE_SIZE);
	/* struct setup_header ends by 0x290 in boot_params, whatever a
	 * (future or forged) image's jump byte says. */
	memcpy(zp + BZ_SETUP_HEADER, p + BZ_SETUP_HEADER,
	       (plan->header_end < BZ_HEADER_MAX ? plan->header_end : BZ_HEADER_MAX) -
	       BZ_SETUP_HEADER);
	wr8(zp, HDR_TYPE_OF_LOADER, 0xff);      /* boot.rst: "undefined" */
	flags = (uint8_t)rd8(zp, HDR_LOADFLAGS);
	flags &= (uint8_t)~(QUIET_FLAG | KEEP_SEGMENTS | CAN_USE_HEAP);
	wr8(zp, HDR_LOADFLAGS, flags);
	wr32(zp, HDR_CODE32_START, (uint32_t)plan->load_addr);
	wr32(zp, HDR_CMD_LINE_PTR, (uint32_t)l->cmdline_gpa);
	wr32(zp, BZ_EXT_CMD_LINE, (uint32_t)(l->cmdline_gpa >> 32));
	wr32(zp, HDR_RAMDISK_IMAGE, (uint32_t)l->initrd_gpa);
	wr32(zp, HDR_RAMDISK_SIZE, (uint32_t)l->initrd_size);
	wr32(zp, BZ_EXT_RAMDISK_IMG, (uint32_t)(l->initrd_gpa >> 32));
	wr32(zp, BZ_EXT_RAMDISK_SZ, (uint32_t)(l->initrd_size >> 32));
	if (plan->version >= PROTO_RSDP)
		wr64(zp, BZ_ACPI_RSDP_ADDR, l->rsdp_gpa);
	wr8(zp, BZ_E820_ENTRIES, l->e820_count);
	for (unsigned i = 0; i < l->e820_count; i++) {
		size_t o = BZ_E820_TABLE + (size_t)i * 20;

		wr64(zp, o, l->e820[i].addr);
		wr64(zp, o + 8, l->e820[i].size);
		wr32(zp, o + 16, l->e820[i].type);
	}
	return 0;
}
