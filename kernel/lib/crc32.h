/*
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), eight bytes a
 * step ("slicing by 8": eight 256-entry tables, 8 KiB, built on first
 * use). The same values as the byte-at-a-time crc32_update of the guests'
 * disk tests (images/common/pattern.c), about a fifth of the work per
 * byte: the network test checks every byte it moves with it and should
 * measure the path, not its check. Portable; not reentrant on first use.
 */
#ifndef KLIB_CRC32_H
#define KLIB_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* crc of buf[0..len) continuing `crc` (0 to start). */
uint32_t crc32_sliced(uint32_t crc, const void *buf, size_t len);

#endif
