/*
 * A small printf: %d %i %u %x %X %p %s %c %%, with l/ll/z/h length
 * modifiers, width, '0' padding and '-' left alignment. Output goes to a
 * sink function, so the console, a string buffer and host tests share it.
 */
#ifndef KLIB_FORMAT_H
#define KLIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*format_sink)(char c, void *ctx);

/* Returns the number of characters produced. */
int vformat(format_sink sink, void *ctx, const char *fmt, va_list ap);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
