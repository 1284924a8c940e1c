/*
 * Host tests for the x86 instruction decoder (hypervisor/x86_decode.c).
 *
 * Each case is the instruction's bytes and the decode written out as a
 * string by describe(), which prints every field that differs from its
 * default, so one string comparison checks all of them. Expected lengths
 * were checked against GNU objdump. Every decode runs on a heap copy of
 * exactly `avail` bytes, so AddressSanitizer reports any read past it,
 * and is repeated with junk after the instruction, which must not change
 * the result.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "x86_decode.h"

#define M16 X86_MODE_16
#define M32 X86_MODE_32
#define M64 X86_MODE_64

struct bytes {
	uint8_t b[32];
	size_t n;
};

static const char *const mode_names[] = { "16", "32", "64" };

static struct bytes hex(const char *s)
{
	struct bytes out = { .n = 0 };
	unsigned v;
	int used;

	while (sscanf(s, " %2x%n", &v, &used) == 1 && out.n < sizeof(out.b)) {
		out.b[out.n++] = (uint8_t)v;
		s += used;
	}
	return out;
}

/* Decode from a heap block of exactly `avail` bytes. */
static int decode(const uint8_t *bytes, size_t avail, enum x86_cpu_mode mode,
		  struct x86_insn *insn)
{
	uint8_t *copy = malloc(avail);
	int ret;

	if (avail)
		memcpy(copy, bytes, avail);
	ret = x86_decode(copy, avail, mode, insn);
	free(copy);
	return ret;
}

static const char *error_name(int ret)
{
	switch (ret) {
	case X86_DECODE_TRUNCATED:
		return "!truncated";
	case X86_DECODE_UNSUPPORTED:
		return "!unsupported";
	case X86_DECODE_TOO_LONG:
		return "!too_long";
	case X86_DECODE_BAD_PREFIX:
		return "!bad_prefix";
	case X86_DECODE_NOT_MEMORY:
		return "!not_memory";
	default:
		return "!unknown";
	}
}

static void append(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + len, cap - len, fmt, ap);
	va_end(ap);
}

static void describe_memory(const struct x86_insn *in, char *buf, size_t cap)
{
	const char *sep = "";

	append(buf, cap, " mod=%u rm=%u [", in->mod, in->rm);
	if (in->rip_relative) {
		append(buf, cap, "rip");
		sep = "+";
	}
	if (in->base >= 0) {
		append(buf, cap, "r%d", in->base);
		sep = "+";
	}
	if (in->index >= 0) {
		append(buf, cap, "%sr%d*%u", sep, in->index, in->scale);
		sep = "+";
	} else if (in->scale != 1) {
		append(buf, cap, "%sscale%u", sep, in->scale);
	}
	if (in->disp < 0)
		append(buf, cap, "-0x%" PRIx64, -(uint64_t)in->disp);
	else if (in->disp > 0 || !*sep)
		append(buf, cap, "%s0x%" PRIx64, sep, (uint64_t)in->disp);
	append(buf, cap, "]");
}

/* The decode as a string: defaults are left out, everything else is in. */
static void describe(int ret, const struct x86_insn *in, char *buf,
		     size_t cap)
{
	static const char *const segs[] = {
		"es", "cs", "ss", "ds", "fs", "gs"
	};

	buf[0] = 0;
	if (ret) {
		append(buf, cap, "%s", error_name(ret));
		return;
	}
	append(buf, cap, "%s len=%u op=%u", x86_insn_kind_name(in->kind),
	       in->length, in->opsize);
	if (in->dest_size != in->opsize)
		append(buf, cap, " dst=%u", in->dest_size);
	append(buf, cap, " as=%u", in->addrsize);
	if (in->reg || in->reg_high_byte)
		append(buf, cap, " reg=%u%s", in->reg,
		       in->reg_high_byte ? "h" : "");
	if (in->rep)
		append(buf, cap, " rep");
	if (in->repne)
		append(buf, cap, " repne");
	if (in->segment >= 0 && in->segment < 6)
		append(buf, cap, " seg=%s", segs[in->segment]);
	else if (in->segment != -1)
		append(buf, cap, " seg=%d", in->segment);
	if (in->has_modrm)
		describe_memory(in, buf, cap);
	else if (in->mod || in->rm || in->base != -1 || in->index != -1 ||
		 in->scale != 1 || in->disp || in->rip_relative)
		append(buf, cap, " stray-memory-fields");
	if (in->imm)
		append(buf, cap, " imm=0x%" PRIx64, in->imm);
	if (in->moffs)
		append(buf, cap, " moffs=0x%" PRIx64, in->moffs);
	if (in->port)
		append(buf, cap, " port=0x%x", in->port);
	if (in->port_in_dx)
		append(buf, cap, " dx");
}

/*
 * One check: decode exactly the given bytes, and again with junk after
 * them, which may change only a TRUNCATED result.
 */
static void expect_bytes(enum x86_cpu_mode mode, const uint8_t *b, size_t n,
			 const char *label, const char *want)
{
	uint8_t padded[64];
	struct x86_insn insn;
	char got[320], again[256];
	int ret;

	ret = decode(b, n, mode, &insn);
	describe(ret, &insn, got, sizeof(got));
	memcpy(padded, b, n);
	memset(padded + n, 0x8b, sizeof(padded) - n);
	ret = decode(padded, sizeof(padded), mode, &insn);
	describe(ret, &insn, again, sizeof(again));
	if (strcmp(want, "!truncated") && strcmp(got, again))
		snprintf(got, sizeof(got), "differs with more bytes: %s", again);
	if (!CHECK(!strcmp(got, want), "%s: %s -> %s", mode_names[mode],
		   label, want))
		printf("#   got: %s\n", got);
}

static void expect(enum x86_cpu_mode mode, const char *bytes, const char *want)
{
	struct bytes b = hex(bytes);

	expect_bytes(mode, b.b, b.n, bytes, want);
}

static void test_mov_64(void)
{
	expect(M64, "89 18", "mov_store len=2 op=4 as=8 reg=3 mod=0 rm=0 [r0]");
	expect(M64, "48 89 18", "mov_store len=3 op=8 as=8 reg=3 mod=0 rm=0 [r0]");
	expect(M64, "66 89 18", "mov_store len=3 op=2 as=8 reg=3 mod=0 rm=0 [r0]");
	/* REX.W beats 66. */
	expect(M64, "66 48 89 18", "mov_store len=4 op=8 as=8 reg=3 mod=0 rm=0 [r0]");
	/* A REX followed by anything but the opcode is ignored. */
	expect(M64, "48 66 89 18", "mov_store len=4 op=2 as=8 reg=3 mod=0 rm=0 [r0]");
	expect(M64, "48 40 89 18", "mov_store len=4 op=4 as=8 reg=3 mod=0 rm=0 [r0]");
	expect(M64, "40 48 89 18", "mov_store len=4 op=8 as=8 reg=3 mod=0 rm=0 [r0]");
	expect(M64, "4c 89 18", "mov_store len=3 op=8 as=8 reg=11 mod=0 rm=0 [r0]");
	expect(M64, "41 89 18", "mov_store len=3 op=4 as=8 reg=3 mod=0 rm=8 [r8]");
	expect(M64, "45 89 08", "mov_store len=3 op=4 as=8 reg=9 mod=0 rm=8 [r8]");
	expect(M64, "8b 18", "mov_load len=2 op=4 as=8 reg=3 mod=0 rm=0 [r0]");
	expect(M64, "66 8b 18", "mov_load len=3 op=2 as=8 reg=3 mod=0 rm=0 [r0]");
	/* F2/F3 on a mov are ignored (XRELEASE is only a hint). */
	expect(M64, "f3 89 18", "mov_store len=3 op=4 as=8 reg=3 mod=0 rm=0 [r0]");
	expect(M64, "f2 8b 18", "mov_load len=3 op=4 as=8 reg=3 mod=0 rm=0 [r0]");
}

static void test_byte_registers(void)
{
	expect(M64, "88 20", "mov_store len=2 op=1 as=8 reg=0h mod=0 rm=0 [r0]");
	expect(M64, "88 38", "mov_store len=2 op=1 as=8 reg=3h mod=0 rm=0 [r0]");
	expect(M64, "88 18", "mov_store len=2 op=1 as=8 reg=3 mod=0 rm=0 [r0]");
	expect(M64, "40 88 20", "mov_store len=3 op=1 as=8 reg=4 mod=0 rm=0 [r0]");
	expect(M64, "41 88 20", "mov_store len=3 op=1 as=8 reg=4 mod=0 rm=8 [r8]");
	expect(M64, "40 66 88 20", "mov_store len=4 op=1 as=8 reg=0h mod=0 rm=0 [r0]");
	expect(M64, "66 40 88 20", "mov_store len=4 op=1 as=8 reg=4 mod=0 rm=0 [r0]");
	expect(M64, "44 88 38", "mov_store len=3 op=1 as=8 reg=15 mod=0 rm=0 [r0]");
	expect(M64, "48 88 38", "mov_store len=3 op=1 as=8 reg=7 mod=0 rm=0 [r0]");
	expect(M64, "8a 38", "mov_load len=2 op=1 as=8 reg=3h mod=0 rm=0 [r0]");
	expect(M64, "40 8a 38", "mov_load len=3 op=1 as=8 reg=7 mod=0 rm=0 [r0]");
	expect(M32, "88 20", "mov_store len=2 op=1 as=4 reg=0h mod=0 rm=0 [r0]");
	expect(M16, "8a 2f", "mov_load len=2 op=1 as=2 reg=1h mod=0 rm=7 [r3]");
	/* movzx's register is the wide destination: 4 is ESP, not AH. */
	expect(M64, "0f b6 20", "movzx len=3 op=1 dst=4 as=8 reg=4 mod=0 rm=0 [r0]");
}

static void test_addressing_64(void)
{
	expect(M64, "48 8b 04 25 78 56 34 12",
	       "mov_load len=8 op=8 as=8 mod=0 rm=4 [0x12345678]");
	expect(M64, "8b 05 10 00 00 00",
	       "mov_load len=6 op=4 as=8 mod=0 rm=5 [rip+0x10]");
	expect(M64, "8b 0d f0 ff ff ff",
	       "mov_load len=6 op=4 as=8 reg=1 mod=0 rm=5 [rip-0x10]");
	/* REX.B does not escape the RIP-relative or SIB encodings. */
	expect(M64, "41 8b 05 10 00 00 00",
	       "mov_load len=7 op=4 as=8 mod=0 rm=13 [rip+0x10]");
	expect(M64, "67 8b 05 10 00 00 00",
	       "mov_load len=7 op=4 as=4 mod=0 rm=5 [rip+0x10]");
	expect(M64, "8b 44 24 08", "mov_load len=4 op=4 as=8 mod=1 rm=4 [r4+0x8]");
	expect(M64, "8b 44 8d f8",
	       "mov_load len=4 op=4 as=8 mod=1 rm=4 [r5+r1*4-0x8]");
	expect(M64, "8b 84 c8 00 01 00 00",
	       "mov_load len=7 op=4 as=8 mod=2 rm=4 [r0+r1*8+0x100]");
	expect(M64, "42 8b 04 25 78 56 34 12",
	       "mov_load len=8 op=4 as=8 mod=0 rm=4 [r12*1+0x12345678]");
	expect(M64, "41 8b 04 24", "mov_load len=4 op=4 as=8 mod=0 rm=12 [r12]");
	expect(M64, "41 8b 45 00", "mov_load len=4 op=4 as=8 mod=1 rm=13 [r13]");
	expect(M64, "41 8b 04 25 78 56 34 12",
	       "mov_load len=8 op=4 as=8 mod=0 rm=12 [0x12345678]");
	expect(M64, "4a 8b 04 e5 00 00 00 00",
	       "mov_load len=8 op=8 as=8 mod=0 rm=4 [r12*8]");
	expect(M64, "43 8b 44 25 00",
	       "mov_load len=5 op=4 as=8 mod=1 rm=12 [r13+r12*1]");
	/* Index 100 is "none" whatever the scale bits say. */
	expect(M64, "8b 04 60", "mov_load len=3 op=4 as=8 mod=0 rm=4 [r0]");
	expect(M64, "8b 40 80", "mov_load len=3 op=4 as=8 mod=1 rm=0 [r0-0x80]");
	expect(M64, "8b 40 7f", "mov_load len=3 op=4 as=8 mod=1 rm=0 [r0+0x7f]");
	expect(M64, "8b 80 00 00 00 80",
	       "mov_load len=6 op=4 as=8 mod=2 rm=0 [r0-0x80000000]");
	expect(M64, "67 8b 44 24 08", "mov_load len=5 op=4 as=4 mod=1 rm=4 [r4+0x8]");
}

static void test_addressing_32(void)
{
	expect(M32, "89 18", "mov_store len=2 op=4 as=4 reg=3 mod=0 rm=0 [r0]");
	expect(M32, "66 89 18", "mov_store len=3 op=2 as=4 reg=3 mod=0 rm=0 [r0]");
	/* Without 64-bit mode, mod 00 rm 101 is an absolute disp32. */
	expect(M32, "8b 05 78 56 34 12",
	       "mov_load len=6 op=4 as=4 mod=0 rm=5 [0x12345678]");
	expect(M32, "8b 04 25 78 56 34 12",
	       "mov_load len=7 op=4 as=4 mod=0 rm=4 [0x12345678]");
	expect(M32, "8b 44 24 fc", "mov_load len=4 op=4 as=4 mod=1 rm=4 [r4-0x4]");
	expect(M32, "8b 04 8d 00 10 00 00",
	       "mov_load len=7 op=4 as=4 mod=0 rm=4 [r1*4+0x1000]");
	/* 67 in 32-bit mode switches to the 16-bit forms. */
	expect(M32, "67 89 18", "mov_store len=3 op=4 as=2 reg=3 mod=0 rm=0 [r3+r6*1]");
	expect(M32, "67 8b 06 34 12", "mov_load len=5 op=4 as=2 mod=0 rm=6 [0x1234]");
	expect(M32, "67 8b 46 fe", "mov_load len=4 op=4 as=2 mod=1 rm=6 [r5-0x2]");
	expect(M32, "67 8b 87 00 80", "mov_load len=5 op=4 as=2 mod=2 rm=7 [r3-0x8000]");
	/* 40-4F are INC/DEC outside 64-bit mode, not REX. */
	expect(M32, "40", "!unsupported");
	expect(M32, "48 89 18", "!unsupported");
	expect(M16, "41 89 18", "!unsupported");
}

static void test_addressing_16(void)
{
	expect(M16, "89 18", "mov_store len=2 op=2 as=2 reg=3 mod=0 rm=0 [r3+r6*1]");
	expect(M16, "66 89 18", "mov_store len=3 op=4 as=2 reg=3 mod=0 rm=0 [r3+r6*1]");
	expect(M16, "89 01", "mov_store len=2 op=2 as=2 mod=0 rm=1 [r3+r7*1]");
	expect(M16, "89 02", "mov_store len=2 op=2 as=2 mod=0 rm=2 [r5+r6*1]");
	expect(M16, "89 03", "mov_store len=2 op=2 as=2 mod=0 rm=3 [r5+r7*1]");
	expect(M16, "89 04", "mov_store len=2 op=2 as=2 mod=0 rm=4 [r6]");
	expect(M16, "89 05", "mov_store len=2 op=2 as=2 mod=0 rm=5 [r7]");
	expect(M16, "89 06 34 12", "mov_store len=4 op=2 as=2 mod=0 rm=6 [0x1234]");
	expect(M16, "89 07", "mov_store len=2 op=2 as=2 mod=0 rm=7 [r3]");
	expect(M16, "89 46 02", "mov_store len=3 op=2 as=2 mod=1 rm=6 [r5+0x2]");
	expect(M16, "89 40 ff", "mov_store len=3 op=2 as=2 mod=1 rm=0 [r3+r6*1-0x1]");
	expect(M16, "89 86 34 12", "mov_store len=4 op=2 as=2 mod=2 rm=6 [r5+0x1234]");
	/* disp16 is sign-extended like the others; the sum wraps at 64K. */
	expect(M16, "8b 1e 00 80", "mov_load len=4 op=2 as=2 reg=3 mod=0 rm=6 [-0x8000]");
	/* 67 in 16-bit mode: 32-bit forms with SIB, and still no RIP. */
	expect(M16, "67 89 18", "mov_store len=3 op=2 as=4 reg=3 mod=0 rm=0 [r0]");
	expect(M16, "67 89 04 24", "mov_store len=4 op=2 as=4 mod=0 rm=4 [r4]");
	expect(M16, "67 89 05 78 56 34 12",
	       "mov_store len=7 op=2 as=4 mod=0 rm=5 [0x12345678]");
	expect(M16, "67 66 8b 44 8d f8",
	       "mov_load len=6 op=4 as=4 mod=1 rm=4 [r5+r1*4-0x8]");
}

static void test_mov_imm(void)
{
	expect(M64, "c6 00 7f", "mov_store_imm len=3 op=1 as=8 mod=0 rm=0 [r0] imm=0x7f");
	expect(M64, "c6 00 80", "mov_store_imm len=3 op=1 as=8 mod=0 rm=0 [r0] imm=0x80");
	expect(M64, "c7 00 78 56 34 12",
	       "mov_store_imm len=6 op=4 as=8 mod=0 rm=0 [r0] imm=0x12345678");
	expect(M64, "c7 00 00 00 00 80",
	       "mov_store_imm len=6 op=4 as=8 mod=0 rm=0 [r0] imm=0x80000000");
	expect(M64, "48 c7 00 ff ff ff ff",
	       "mov_store_imm len=7 op=8 as=8 mod=0 rm=0 [r0] imm=0xffffffffffffffff");
	expect(M64, "48 c7 00 00 00 00 80",
	       "mov_store_imm len=7 op=8 as=8 mod=0 rm=0 [r0] imm=0xffffffff80000000");
	expect(M64, "48 c7 00 ff ff ff 7f",
	       "mov_store_imm len=7 op=8 as=8 mod=0 rm=0 [r0] imm=0x7fffffff");
	expect(M64, "66 c7 00 34 12",
	       "mov_store_imm len=5 op=2 as=8 mod=0 rm=0 [r0] imm=0x1234");
	expect(M64, "66 c7 00 00 80",
	       "mov_store_imm len=5 op=2 as=8 mod=0 rm=0 [r0] imm=0x8000");
	expect(M64, "c7 05 d4 c3 b2 a1 78 56 34 12",
	       "mov_store_imm len=10 op=4 as=8 mod=0 rm=5 [rip-0x5e4d3c2c] imm=0x12345678");
	expect(M64, "c7 84 88 00 01 00 00 ef be ad de",
	       "mov_store_imm len=11 op=4 as=8 mod=2 rm=4 [r0+r1*4+0x100] imm=0xdeadbeef");
	expect(M64, "49 c7 44 24 08 01 00 00 00",
	       "mov_store_imm len=9 op=8 as=8 mod=1 rm=12 [r12+0x8] imm=0x1");
	/* /0 is an opcode extension: REX.R is ignored, not reg 8. */
	expect(M64, "44 c6 00 01", "mov_store_imm len=4 op=1 as=8 mod=0 rm=0 [r0] imm=0x1");
	expect(M32, "66 c7 00 34 12",
	       "mov_store_imm len=5 op=2 as=4 mod=0 rm=0 [r0] imm=0x1234");
	expect(M16, "c7 06 34 12 78 56",
	       "mov_store_imm len=6 op=2 as=2 mod=0 rm=6 [0x1234] imm=0x5678");
	expect(M16, "66 c7 06 34 12 78 56 34 12",
	       "mov_store_imm len=9 op=4 as=2 mod=0 rm=6 [0x1234] imm=0x12345678");
	expect(M16, "c6 47 01 ff",
	       "mov_store_imm len=4 op=1 as=2 mod=1 rm=7 [r3+0x1] imm=0xff");
	expect(M64, "c6 08 00", "!unsupported");
	expect(M64, "c7 48 08 00 00 00 00", "!unsupported");
	expect(M64, "c6 f8 01", "!unsupported");                /* XABORT */
	expect(M64, "c7 f8 00 00 00 00", "!unsupported");       /* XBEGIN */
}

static void test_moffs(void)
{
	expect(M64, "a0 88 77 66 55 44 33 22 11",
	       "mov_load_moffs len=9 op=1 as=8 moffs=0x1122334455667788");
	expect(M64, "48 a1 08 07 06 05 04 03 02 81",
	       "mov_load_moffs len=10 op=8 as=8 moffs=0x8102030405060708");
	expect(M64, "67 a1 78 56 34 12", "mov_load_moffs len=6 op=4 as=4 moffs=0x12345678");
	expect(M64, "a2 00 10 00 00 00 00 00 00",
	       "mov_store_moffs len=9 op=1 as=8 moffs=0x1000");
	expect(M64, "66 a3 00 10 00 00 00 00 00 00",
	       "mov_store_moffs len=10 op=2 as=8 moffs=0x1000");
	expect(M64, "65 a3 00 10 00 00 00 00 00 00",
	       "mov_store_moffs len=10 op=4 as=8 seg=gs moffs=0x1000");
	expect(M32, "a1 78 56 34 12", "mov_load_moffs len=5 op=4 as=4 moffs=0x12345678");
	expect(M32, "67 a1 34 12", "mov_load_moffs len=4 op=4 as=2 moffs=0x1234");
	expect(M16, "a1 34 12", "mov_load_moffs len=3 op=2 as=2 moffs=0x1234");
	expect(M16, "67 a3 78 56 34 12", "mov_store_moffs len=6 op=2 as=4 moffs=0x12345678");
}

static void test_movx(void)
{
	expect(M64, "0f b6 00", "movzx len=3 op=1 dst=4 as=8 mod=0 rm=0 [r0]");
	expect(M64, "48 0f b7 00", "movzx len=4 op=2 dst=8 as=8 mod=0 rm=0 [r0]");
	expect(M64, "66 0f b6 00", "movzx len=4 op=1 dst=2 as=8 mod=0 rm=0 [r0]");
	expect(M64, "44 0f b6 00", "movzx len=4 op=1 dst=4 as=8 reg=8 mod=0 rm=0 [r0]");
	expect(M64, "0f be 00", "movsx len=3 op=1 dst=4 as=8 mod=0 rm=0 [r0]");
	expect(M64, "48 0f bf 00", "movsx len=4 op=2 dst=8 as=8 mod=0 rm=0 [r0]");
	expect(M64, "66 0f bf 00", "movsx len=4 op=2 as=8 mod=0 rm=0 [r0]");
	expect(M64, "0f b7 05 00 01 00 00",
	       "movzx len=7 op=2 dst=4 as=8 mod=0 rm=5 [rip+0x100]");
	expect(M32, "0f b7 00", "movzx len=3 op=2 dst=4 as=4 mod=0 rm=0 [r0]");
	expect(M16, "0f b6 07", "movzx len=3 op=1 dst=2 as=2 mod=0 rm=7 [r3]");
	expect(M16, "66 0f bf 07", "movsx len=4 op=2 dst=4 as=2 mod=0 rm=7 [r3]");
}

static void test_string(void)
{
	expect(M64, "aa", "stos len=1 op=1 as=8");
	expect(M64, "ab", "stos len=1 op=4 as=8");
	expect(M64, "f3 48 ab", "stos len=3 op=8 as=8 rep");
	expect(M64, "f2 ab", "stos len=2 op=4 as=8 rep repne");
	expect(M64, "67 f3 aa", "stos len=3 op=1 as=4 rep");
	expect(M64, "a4", "movs len=1 op=1 as=8");
	expect(M64, "66 a5", "movs len=2 op=2 as=8");
	expect(M64, "f3 a5", "movs len=2 op=4 as=8 rep");
	/* The last of F2/F3 decides. */
	expect(M64, "f2 f3 a4", "movs len=3 op=1 as=8 rep");
	expect(M64, "f3 f2 a4", "movs len=3 op=1 as=8 rep repne");
	expect(M64, "64 a4", "movs len=2 op=1 as=8 seg=fs");
	expect(M64, "ac", "lods len=1 op=1 as=8");
	expect(M64, "48 ad", "lods len=2 op=8 as=8");
	expect(M64, "f3 ac", "lods len=2 op=1 as=8 rep");
	expect(M32, "ab", "stos len=1 op=4 as=4");
	expect(M32, "67 66 ab", "stos len=3 op=2 as=2");
	expect(M16, "ab", "stos len=1 op=2 as=2");
	expect(M16, "66 f3 a5", "movs len=3 op=4 as=2 rep");
}

static void test_segments(void)
{
	/* 64-bit mode drops ES/CS/SS/DS overrides, even after FS/GS. */
	expect(M64, "26 89 18", "mov_store len=3 op=4 as=8 reg=3 mod=0 rm=0 [r0]");
	expect(M64, "2e 89 18", "mov_store len=3 op=4 as=8 reg=3 mod=0 rm=0 [r0]");
	expect(M64, "36 89 18", "mov_store len=3 op=4 as=8 reg=3 mod=0 rm=0 [r0]");
	expect(M64, "3e 89 18", "mov_store len=3 op=4 as=8 reg=3 mod=0 rm=0 [r0]");
	expect(M64, "64 89 18", "mov_store len=3 op=4 as=8 reg=3 seg=fs mod=0 rm=0 [r0]");
	expect(M64, "65 89 18", "mov_store len=3 op=4 as=8 reg=3 seg=gs mod=0 rm=0 [r0]");
	expect(M64, "64 2e 89 18", "mov_store len=4 op=4 as=8 reg=3 seg=fs mod=0 rm=0 [r0]");
	expect(M64, "2e 65 89 18", "mov_store len=4 op=4 as=8 reg=3 seg=gs mod=0 rm=0 [r0]");
	expect(M64, "65 64 89 18", "mov_store len=4 op=4 as=8 reg=3 seg=fs mod=0 rm=0 [r0]");
	/* Elsewhere all six count and the last one wins. */
	expect(M32, "26 89 18", "mov_store len=3 op=4 as=4 reg=3 seg=es mod=0 rm=0 [r0]");
	expect(M32, "2e 89 18", "mov_store len=3 op=4 as=4 reg=3 seg=cs mod=0 rm=0 [r0]");
	expect(M32, "36 89 18", "mov_store len=3 op=4 as=4 reg=3 seg=ss mod=0 rm=0 [r0]");
	expect(M32, "3e 89 18", "mov_store len=3 op=4 as=4 reg=3 seg=ds mod=0 rm=0 [r0]");
	expect(M32, "64 89 18", "mov_store len=3 op=4 as=4 reg=3 seg=fs mod=0 rm=0 [r0]");
	expect(M32, "26 2e 89 18", "mov_store len=4 op=4 as=4 reg=3 seg=cs mod=0 rm=0 [r0]");
	expect(M32, "64 3e 89 18", "mov_store len=4 op=4 as=4 reg=3 seg=ds mod=0 rm=0 [r0]");
	expect(M16, "26 89 07", "mov_store len=3 op=2 as=2 seg=es mod=0 rm=7 [r3]");
}

static void test_system(void)
{
	expect(M64, "0f a2", "cpuid len=2 op=4 as=8");
	expect(M64, "66 0f a2", "cpuid len=3 op=2 as=8");
	expect(M64, "0f 32", "rdmsr len=2 op=4 as=8");
	expect(M64, "0f 30", "wrmsr len=2 op=4 as=8");
	expect(M64, "48 0f 30", "wrmsr len=3 op=8 as=8");
	expect(M64, "0f 01 d9", "vmmcall len=3 op=4 as=8");
	expect(M64, "0f 01 c1", "vmcall len=3 op=4 as=8");
	expect(M64, "f4", "hlt len=1 op=4 as=8");
	expect(M64, "2e f4", "hlt len=2 op=4 as=8");
	expect(M32, "0f 01 d9", "vmmcall len=3 op=4 as=4");
	expect(M16, "0f a2", "cpuid len=2 op=2 as=2");
	expect(M16, "f4", "hlt len=1 op=2 as=2");
	/* F2/F3 pick other instructions in the 0F map: VMGEXIT, POPCNT. */
	expect(M64, "f3 0f 01 d9", "!unsupported");
	expect(M64, "f2 0f 01 d9", "!unsupported");
	expect(M64, "66 0f 01 d9", "!unsupported");
	expect(M64, "f2 0f a2", "!unsupported");
	expect(M64, "f3 0f b6 00", "!unsupported");
	expect(M64, "0f 01 d8", "!unsupported");                /* VMRUN */
	expect(M64, "0f 01 c2", "!unsupported");                /* VMLAUNCH */
	expect(M64, "0f 01 19", "!unsupported");                /* LIDT */
}

static void test_port_io(void)
{
	expect(M64, "e4 60", "in len=2 op=1 as=8 port=0x60");
	expect(M64, "e5 60", "in len=2 op=4 as=8 port=0x60");
	expect(M64, "66 e5 60", "in len=3 op=2 as=8 port=0x60");
	/* Port I/O has no 64-bit form: REX.W is ignored, even over 66. */
	expect(M64, "48 e5 60", "in len=3 op=4 as=8 port=0x60");
	expect(M64, "66 48 ed", "in len=3 op=4 as=8 dx");
	expect(M64, "ec", "in len=1 op=1 as=8 dx");
	expect(M64, "ed", "in len=1 op=4 as=8 dx");
	expect(M64, "e6 80", "out len=2 op=1 as=8 port=0x80");
	expect(M64, "e7 ff", "out len=2 op=4 as=8 port=0xff");
	expect(M64, "ee", "out len=1 op=1 as=8 dx");
	expect(M64, "66 ef", "out len=2 op=2 as=8 dx");
	expect(M64, "6c", "ins len=1 op=1 as=8 dx");
	expect(M64, "6d", "ins len=1 op=4 as=8 dx");
	expect(M64, "f3 6d", "ins len=2 op=4 as=8 rep dx");
	expect(M64, "48 6d", "ins len=2 op=4 as=8 dx");
	expect(M64, "66 6f", "outs len=2 op=2 as=8 dx");
	expect(M64, "f3 6e", "outs len=2 op=1 as=8 rep dx");
	expect(M64, "64 67 6e", "outs len=3 op=1 as=4 seg=fs dx");
	expect(M16, "e5 60", "in len=2 op=2 as=2 port=0x60");
	expect(M16, "66 e5 60", "in len=3 op=4 as=2 port=0x60");
	expect(M32, "66 ed", "in len=2 op=2 as=4 dx");
}

static void test_rejected(void)
{
	/* LOCK is #UD on every instruction here. */
	expect(M64, "f0 89 18", "!bad_prefix");
	expect(M64, "66 f0 89 18", "!bad_prefix");
	expect(M64, "f0 c7 00 01 00 00 00", "!bad_prefix");
	expect(M64, "f0 0f b6 00", "!bad_prefix");
	expect(M64, "f0 a4", "!bad_prefix");
	expect(M64, "f0 f4", "!bad_prefix");
	expect(M32, "f0 0f a2", "!bad_prefix");
	/* A register-to-register move cannot fault on memory. */
	expect(M64, "89 d8", "!not_memory");
	expect(M64, "88 c4", "!not_memory");
	expect(M64, "8a c4", "!not_memory");
	expect(M64, "48 8b c3", "!not_memory");
	expect(M64, "c6 c0 01", "!not_memory");
	expect(M64, "c7 c0 01 00 00 00", "!not_memory");
	expect(M64, "0f b6 c0", "!not_memory");
	expect(M32, "0f bf c0", "!not_memory");
	expect(M16, "89 d8", "!not_memory");
	/* Opcodes not on the list. */
	expect(M64, "90", "!unsupported");
	expect(M64, "8c 18", "!unsupported");
	expect(M64, "8e 18", "!unsupported");
	expect(M64, "0f 0b", "!unsupported");
	expect(M64, "0f 20 c0", "!unsupported");
	expect(M64, "c4 e2 79 18 00", "!unsupported");
	expect(M64, "62", "!unsupported");
	expect(M64, "ff 30", "!unsupported");
	expect(M64, "a6", "!unsupported");
	expect(M64, "48 63 00", "!unsupported");
	/* Running out of bytes. */
	expect(M64, "", "!truncated");
	expect(M64, "66 2e 67 f3", "!truncated");
	expect(M64, "40", "!truncated");
	expect(M64, "0f", "!truncated");
	expect(M64, "0f 01", "!truncated");
	expect(M64, "8b 44 24", "!truncated");
}

/* Every shorter prefix of a valid encoding is TRUNCATED, nothing else. */
static void expect_truncation(enum x86_cpu_mode mode, const char *bytes)
{
	struct bytes b = hex(bytes);
	struct x86_insn insn;
	size_t bad = SIZE_MAX, avail;
	int ret;

	for (avail = 0; avail < b.n; avail++) {
		ret = decode(b.b, avail, mode, &insn);
		if (ret != X86_DECODE_TRUNCATED && bad == SIZE_MAX)
			bad = avail;
	}
	ret = decode(b.b, b.n, mode, &insn);
	if (!CHECK(bad == SIZE_MAX && !ret && insn.length == b.n,
		   "%s: %s truncated at every length", mode_names[mode], bytes))
		printf("#   avail %zu gave %d, full gave %d\n", bad,
		       bad == SIZE_MAX ? 0 : decode(b.b, bad, mode, &insn), ret);
}

static void test_truncation(void)
{
	expect_truncation(M64, "64 48 c7 84 88 00 01 00 00 ef be ad de");
	expect_truncation(M64, "48 a1 08 07 06 05 04 03 02 01");
	expect_truncation(M64, "66 67 a1 78 56 34 12");
	expect_truncation(M64, "0f 01 d9");
	expect_truncation(M64, "f3 48 ab");
	expect_truncation(M64, "e4 60");
	expect_truncation(M64, "43 8b 44 25 00");
	expect_truncation(M32, "67 8b 87 00 80");
	expect_truncation(M16, "66 c7 06 34 12 78 56 34 12");
}

static void expect_padded(enum x86_cpu_mode mode, uint8_t prefix,
			  unsigned count, const char *rest, const char *want)
{
	struct bytes r = hex(rest);
	uint8_t b[32];
	char label[64];

	memset(b, prefix, count);
	memcpy(b + count, r.b, r.n);
	snprintf(label, sizeof(label), "%u x %02x + %s", count, prefix, rest);
	expect_bytes(mode, b, count + r.n, label, want);
}

static void test_length_limit(void)
{
	struct x86_insn insn;
	uint8_t b[16];

	expect_padded(M64, 0x66, 13, "89 18",
		      "mov_store len=15 op=2 as=8 reg=3 mod=0 rm=0 [r0]");
	expect_padded(M64, 0x66, 14, "89 18", "!too_long");
	expect_padded(M64, 0x2e, 14, "f4", "hlt len=15 op=4 as=8");
	expect_padded(M64, 0x2e, 15, "f4", "!too_long");
	expect_padded(M64, 0x40, 14, "f4", "hlt len=15 op=4 as=8");
	expect_padded(M64, 0x48, 15, "f4", "!too_long");
	expect_padded(M32, 0x3e, 9, "c7 00 78 56 34 12",
		      "mov_store_imm len=15 op=4 as=4 seg=ds mod=0 rm=0 [r0] imm=0x12345678");
	expect_padded(M32, 0x3e, 10, "c7 00 78 56 34 12", "!too_long");
	expect_padded(M16, 0x66, 7, "c7 86 34 12 78 56 34 12",
		      "mov_store_imm len=15 op=4 as=2 mod=2 rm=6 [r5+0x1234] imm=0x12345678");
	expect_padded(M16, 0x66, 8, "c7 86 34 12 78 56 34 12", "!too_long");

	/* The limit is known before the bytes run out. */
	memset(b, 0x66, sizeof(b));
	b[14] = 0x89;
	CHECK(decode(b, 15, M64, &insn) == X86_DECODE_TOO_LONG,
	      "64: 14 x 66 + 89 with 15 bytes available is too long");
	CHECK(decode(b, 14, M64, &insn) == X86_DECODE_TRUNCATED,
	      "64: the same with 14 bytes available is truncated");
	CHECK(decode(b, 15, M32, &insn) == X86_DECODE_TOO_LONG &&
	      decode(b, 16, M16, &insn) == X86_DECODE_TOO_LONG,
	      "32/16: 14 x 66 + 89 is too long there too");
}

static void test_api(void)
{
	static const int codes[] = {
		0, X86_DECODE_TRUNCATED, X86_DECODE_UNSUPPORTED,
		X86_DECODE_TOO_LONG, X86_DECODE_BAD_PREFIX,
		X86_DECODE_NOT_MEMORY,
	};
	const uint8_t f4 = 0xf4, lock_mov[] = { 0x64, 0xf0, 0x89, 0x18 };
	struct x86_insn insn;
	bool distinct = true;
	unsigned i, j;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		for (j = 0; j < i; j++)
			if (!strcmp(x86_decode_strerror(codes[i]),
				    x86_decode_strerror(codes[j])))
				distinct = false;
	CHECK(distinct && !strcmp(x86_decode_strerror(-99),
				  "unknown decode error"),
	      "strerror: every code has its own text, unknown codes one too");

	for (i = 0; i < X86_INSN_KIND_COUNT; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(x86_insn_kind_name(i), x86_insn_kind_name(j)) ||
			    !strcmp(x86_insn_kind_name(i), "?"))
				distinct = false;
	CHECK(distinct && !strcmp(x86_insn_kind_name(X86_INSN_KIND_COUNT), "?"),
	      "kind names are distinct and out-of-range kinds are \"?\"");

	CHECK(decode(&f4, 1, (enum x86_cpu_mode)3, &insn) == X86_DECODE_UNSUPPORTED,
	      "an unknown mode is rejected");

	/* A failed decode leaves nothing behind that looks decoded. */
	memset(&insn, 0xa5, sizeof(insn));
	CHECK(decode(lock_mov, sizeof(lock_mov), M64, &insn) ==
		      X86_DECODE_BAD_PREFIX &&
	      insn.length == 0 && insn.segment == -1 && !insn.has_modrm &&
	      insn.base == -1,
	      "a failed decode resets the result");
}

int main(void)
{
	test_mov_64();
	test_byte_registers();
	test_addressing_64();
	test_addressing_32();
	test_addressing_16();
	test_mov_imm();
	test_moffs();
	test_movx();
	test_string();
	test_segments();
	test_system();
	test_port_io();
	test_rejected();
	test_truncation();
	test_length_limit();
	test_api();
	return done_testing();
}
