/*
 * Multiboot2 wire format (Multiboot Specification 2.0): the header a kernel
 * carries and the boot information a loader hands it. Shared by the
 * hypervisor, the root kernel and the guest images, and by the hypervisor
 * when it builds boot information for a partition kernel.
 */
#ifndef ISOVISOR_MULTIBOOT2_H
#define ISOVISOR_MULTIBOOT2_H

#ifndef __ASSEMBLY__
#include <stdint.h>
#endif

#define MB2_HEADER_MAGIC        0xe85250d6
#define MB2_BOOTLOADER_MAGIC    0x36d76289
#define MB2_ARCH_I386           0

/* Header tags (in the kernel image). */
#define MB2_HTAG_END            0
#define MB2_HTAG_INFO_REQUEST   1
#define MB2_HTAG_ADDRESS        2
#define MB2_HTAG_ENTRY          3
#define MB2_HTAG_CONSOLE_FLAGS  4
#define MB2_HTAG_FRAMEBUFFER    5
#define MB2_HTAG_MODULE_ALIGN   6
#define MB2_HTAG_EFI_BS         7
#define MB2_HTAG_OPTIONAL       1   /* header tag flags bit 0 */

/* Information tags (from the loader). */
#define MB2_TAG_END             0
#define MB2_TAG_CMDLINE         1
#define MB2_TAG_LOADER_NAME     2
#define MB2_TAG_MODULE          3
#define MB2_TAG_BASIC_MEMINFO   4
#define MB2_TAG_BOOTDEV         5
#define MB2_TAG_MMAP            6
#define MB2_TAG_VBE             7
#define MB2_TAG_FRAMEBUFFER     8
#define MB2_TAG_ELF_SECTIONS    9
#define MB2_TAG_APM             10
#define MB2_TAG_EFI32           11
#define MB2_TAG_EFI64           12
#define MB2_TAG_SMBIOS          13
#define MB2_TAG_ACPI_OLD        14
#define MB2_TAG_ACPI_NEW        15
#define MB2_TAG_NETWORK         16
#define MB2_TAG_EFI_MMAP        17
#define MB2_TAG_EFI_BS          18
#define MB2_TAG_EFI32_IH        19
#define MB2_TAG_EFI64_IH        20
#define MB2_TAG_LOAD_BASE_ADDR  21

/* Memory map entry types (BIOS e820 numbering). */
#define MB2_MEMORY_AVAILABLE        1
#define MB2_MEMORY_RESERVED         2
#define MB2_MEMORY_ACPI_RECLAIMABLE 3
#define MB2_MEMORY_NVS              4
#define MB2_MEMORY_BADRAM           5

/* EFI memory descriptor types the map may hold. */
#define EFI_RESERVED_MEMORY         0
#define EFI_LOADER_CODE             1
#define EFI_LOADER_DATA             2
#define EFI_BOOT_SERVICES_CODE      3
#define EFI_BOOT_SERVICES_DATA      4
#define EFI_RUNTIME_SERVICES_CODE   5
#define EFI_RUNTIME_SERVICES_DATA   6
#define EFI_CONVENTIONAL_MEMORY     7
#define EFI_UNUSABLE_MEMORY         8
#define EFI_ACPI_RECLAIM_MEMORY     9
#define EFI_ACPI_MEMORY_NVS         10
#define EFI_MEMORY_MAPPED_IO        11
#define EFI_MEMORY_MAPPED_IO_PORT   12
#define EFI_PAL_CODE                13
#define EFI_PERSISTENT_MEMORY       14

#ifndef __ASSEMBLY__

struct mb2_info_header {
	uint32_t total_size;
	uint32_t reserved;
};

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

struct mb2_tag_string {             /* CMDLINE, LOADER_NAME */
	uint32_t type;
	uint32_t size;
	char string[];
};

struct mb2_tag_module {
	uint32_t type;
	uint32_t size;
	uint32_t mod_start;
	uint32_t mod_end;
	char cmdline[];
};

struct mb2_tag_basic_meminfo {
	uint32_t type;
	uint32_t size;
	uint32_t mem_lower;
	uint32_t mem_upper;
};

struct mb2_mmap_entry {
	uint64_t addr;
	uint64_t len;
	uint32_t type;
	uint32_t zero;
};

struct mb2_tag_mmap {
	uint32_t type;
	uint32_t size;
	uint32_t entry_size;
	uint32_t entry_version;
	struct mb2_mmap_entry entries[];
};

struct mb2_tag_efi_mmap {
	uint32_t type;
	uint32_t size;
	uint32_t descr_size;
	uint32_t descr_vers;
	uint8_t efi_mmap[];
};

struct efi_memory_descriptor {
	uint32_t type;
	uint32_t pad;
	uint64_t physical_start;
	uint64_t virtual_start;
	uint64_t number_of_pages;
	uint64_t attribute;
};

struct mb2_tag_acpi {               /* ACPI_OLD, ACPI_NEW: a copy of the RSDP */
	uint32_t type;
	uint32_t size;
	uint8_t rsdp[];
};

struct mb2_tag_efi64 {
	uint32_t type;
	uint32_t size;
	uint64_t pointer;
};

struct mb2_tag_load_base_addr {
	uint32_t type;
	uint32_t size;
	uint32_t load_base_addr;
};

_Static_assert(sizeof(struct mb2_info_header) == 8, "mb2 info header");
_Static_assert(sizeof(struct mb2_tag) == 8, "mb2 tag");
_Static_assert(sizeof(struct mb2_tag_module) == 16, "mb2 module tag");
_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "mb2 mmap entry");
_Static_assert(sizeof(struct mb2_tag_mmap) == 16, "mb2 mmap tag");
_Static_assert(sizeof(struct mb2_tag_efi_mmap) == 16, "mb2 efi mmap tag");
_Static_assert(sizeof(struct efi_memory_descriptor) == 40, "efi descriptor");
_Static_assert(sizeof(struct mb2_tag_efi64) == 16, "mb2 efi64 tag");

#endif /* __ASSEMBLY__ */

#endif
