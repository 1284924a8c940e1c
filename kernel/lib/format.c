/* printf-style formatting for freestanding code; see format.h. */
#include <stdbool.h>
#include <stdint.h>
#include "format.h"

struct spec {
	unsigned width;
	bool zero;
	bool left;
	bool alt;               /* '#': 0x before hex */
};

static int emit_str(format_sink sink, void *ctx, const char *s, size_t len,
		    const struct spec *sp)
{
	int n = 0;
	size_t pad = sp->width > len ? sp->width - len : 0;

	if (!sp->left)
		for (; pad; pad--, n++)
			sink(' ', ctx);
	for (size_t i = 0; i < len; i++, n++)
		sink(s[i], ctx);
	for (; pad; pad--, n++)
		sink(' ', ctx);
	return n;
}

static int emit_num(format_sink sink, void *ctx, uint64_t v, bool neg,
		    unsigned base, bool upper, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	size_t len = 0, total;
	int n = 0;

	do {
		tmp[len++] = digits[v % base];
		v /= base;
	} while (v);
	total = len + neg;
	if (sp->zero && !sp->left) {
		if (neg) {
			sink('-', ctx);
			n++;
		}
		for (; total < sp->width; total++, n++)
			sink('0', ctx);
	} else {
		if (!sp->left)
			for (; total < sp->width; total++, n++)
				sink(' ', ctx);
		if (neg) {
			sink('-', ctx);
			n++;
		}
	}
	while (len) {
		sink(tmp[--len], ctx);
		n++;
	}
	for (; sp->left && total < sp->width; total++, n++)
		sink(' ', ctx);
	return n;
}

int vformat(format_sink sink, void *ctx, const char *fmt, va_list ap)
{
	int n = 0;

	for (; *fmt; fmt++) {
		struct spec sp = { 0 };
		int lng = 0;

		if (*fmt != '%') {
			sink(*fmt, ctx);
			n++;
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				sp.zero = true;
			else if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '#')
				sp.alt = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (unsigned)(*fmt++ - '0');
		for (;; fmt++) {
			if (*fmt == 'l' || *fmt == 'z')
				lng++;
			else if (*fmt != 'h')
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, long) : va_arg(ap, int);
			bool neg = v < 0;

			n += emit_num(sink, ctx, neg ? -(uint64_t)v : (uint64_t)v,
				      neg, 10, false, &sp);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = lng ? va_arg(ap, unsigned long) :
					   va_arg(ap, unsigned int);

			if (sp.alt && *fmt != 'u') {
				sink('0', ctx);
				sink('x', ctx);
				n += 2;
			}
			n += emit_num(sink, ctx, v, false, *fmt == 'u' ? 10 : 16,
				      *fmt == 'X', &sp);
			break;
		}
		case 'p':
			sink('0', ctx);
			sink('x', ctx);
			n += 2;
			n += emit_num(sink, ctx, (uintptr_t)va_arg(ap, void *),
				      false, 16, false, &sp);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			size_t len = 0;

			if (!s)
				s = "(null)";
			while (s[len])
				len++;
			n += emit_str(sink, ctx, s, len, &sp);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);

			n += emit_str(sink, ctx, &c, 1, &sp);
			break;
		}
		case '%':
			sink('%', ctx);
			n++;
			break;
		case '\0':
			return n;       /* a lone '%' ends the format */
		default:
			/* Unknown conversion: show it rather than guess. */
			sink('%', ctx);
			sink(*fmt, ctx);
			n += 2;
			break;
		}
	}
	return n;
}

struct strbuf {
	char *buf;
	size_t size;
	size_t pos;
};

static void strbuf_sink(char c, void *ctx)
{
	struct strbuf *sb = ctx;

	if (sb->pos + 1 < sb->size)
		sb->buf[sb->pos] = c;
	sb->pos++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct strbuf sb = { buf, size, 0 };
	int n = vformat(strbuf_sink, &sb, fmt, ap);

	if (size)
		buf[sb.pos < size ? sb.pos : size - 1] = '\0';
	return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
