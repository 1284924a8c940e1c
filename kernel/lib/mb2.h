/*
 * Multiboot2 information parser. Walks the tags of a boot information
 * structure once, checks every size against the structure's total size,
 * and hands back what the kernel needs in plain form. Nothing is parsed in
 * place after mb2_parse() returns success; callers read struct mb2_info.
 */
#ifndef KLIB_MB2_H
#define KLIB_MB2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isovisor/multiboot2.h>

#define MB2_MAX_MODULES 64
#define MB2_MAX_TOTAL_SIZE (1u << 20)    /* sanity cap on total_size */

struct mb2_module {
	uint32_t start;                 /* physical, inclusive */
	uint32_t end;                   /* physical, exclusive */
	const char *cmdline;            /* NUL-terminated, inside the info */
};

struct mb2_info {
	uint32_t total_size;
	const char *cmdline;            /* "" when absent */
	const char *loader_name;        /* "" when absent */
	struct mb2_module modules[MB2_MAX_MODULES];
	unsigned module_count;
	/* BIOS-style map (tag 6): entry_size validated >= 24 */
	const uint8_t *mmap;
	uint32_t mmap_entry_size;
	uint32_t mmap_count;
	/* EFI map (tag 17): descr_size validated >= 40 */
	const uint8_t *efi_mmap;
	uint32_t efi_descr_size;
	uint32_t efi_count;
	/* RSDP copies: new (tag 15) preferred by callers over old (tag 14) */
	const void *rsdp_old;
	uint32_t rsdp_old_len;
	const void *rsdp_new;
	uint32_t rsdp_new_len;
	bool efi64;                     /* tag 12 present: booted by UEFI */
	uint64_t efi64_system_table;
	bool efi_bs_not_terminated;     /* tag 18 present */
	uint32_t basic_mem_lower_kib;   /* tag 4, 0 when absent */
	uint32_t basic_mem_upper_kib;
};

/*
 * Parse the structure at `info`, of which at most `avail` bytes may be read.
 * Rules (each a rejection with a message in *err):
 *   - `info` 8-byte aligned; total_size >= 16, <= avail, <= MB2_MAX_TOTAL_SIZE;
 *   - every tag starts 8-byte aligned inside total_size, its header (8 bytes)
 *     fits, size >= 8, and tag + size stays inside total_size ("tag past the
 *     end"); tags cannot overlap because each starts at the previous one's
 *     end rounded up to 8;
 *   - the end tag (type 0, size 8) is present, and nothing but padding after;
 *   - each known tag's fixed part fits in its size; strings are NUL-terminated
 *     inside their tag; mmap entry_size >= 24 and a multiple of 8, EFI
 *     descr_size >= 40 and a multiple of 8; a module has start <= end;
 *   - more than MB2_MAX_MODULES modules is rejected.
 * Unknown tag types are skipped. Returns 0 on success, -1 on rejection.
 */
int mb2_parse(const void *info, size_t avail, struct mb2_info *out,
	      const char **err);

/* Entry i of the BIOS-style map, or of the EFI map; i < count. */
const struct mb2_mmap_entry *mb2_mmap_entry(const struct mb2_info *mi,
					    unsigned i);
const struct efi_memory_descriptor *mb2_efi_entry(const struct mb2_info *mi,
						  unsigned i);

/* The module whose command line starts with the word `word`, or NULL. */
const struct mb2_module *mb2_find_module(const struct mb2_info *mi,
					 const char *word);

/* True when `word` appears as a whole space-separated word in cmdline. */
bool cmdline_has(const char *cmdline, const char *word);
/* The value of `key` (e.g. "seed=") as a whole word of the command line,
 * decimal or 0x-hex; `def` when absent or malformed. */
uint64_t cmdline_u64(const char *cmdline, const char *key, uint64_t def);

#endif
