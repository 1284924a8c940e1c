/*
 * x86 instruction decoder; what it covers and promises is in x86_decode.h.
 *
 * The bytes are read strictly in order through next_byte(), which checks
 * the 15-byte limit before `avail`: a byte at offset 15 can never belong
 * to an instruction, so that is TOO_LONG however many bytes the caller
 * has, and every decision depends only on bytes already read, so a result
 * other than TRUNCATED is final. The encoding rules are those of the
 * Intel SDM vol. 2 ch. 2 and AMD APM vol. 3 ch. 1; the cases where CPUs
 * and manuals leave room are noted where they are decided.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "x86_decode.h"

#define REX_W 0x08
#define REX_R 0x04
#define REX_X 0x02
#define REX_B 0x01

/* Register numbers used by 16-bit addressing. */
#define REG_BX 3
#define REG_BP 5
#define REG_SI 6
#define REG_DI 7

struct decoder {
	const uint8_t *bytes;
	size_t avail;
	unsigned pos;           /* next byte; never above X86_INSN_MAX_LEN */
	enum x86_cpu_mode mode;
	bool opsize_prefix;     /* 66 */
	bool addrsize_prefix;   /* 67 */
	bool lock;              /* F0 */
	uint8_t rep;            /* the last of F2/F3, or 0 */
	uint8_t rex;            /* the REX byte in effect (0x40-0x4F), or 0 */
};

static int next_byte(struct decoder *d, uint8_t *b)
{
	if (d->pos >= X86_INSN_MAX_LEN)
		return X86_DECODE_TOO_LONG;
	if (d->pos >= d->avail)
		return X86_DECODE_TRUNCATED;
	*b = d->bytes[d->pos++];
	return 0;
}

/* A little-endian field of n (1, 2, 4 or 8) bytes, zero-extended. */
static int next_le(struct decoder *d, unsigned n, uint64_t *v)
{
	uint8_t b;
	unsigned i;
	int ret;

	*v = 0;
	for (i = 0; i < n; i++) {
		ret = next_byte(d, &b);
		if (ret)
			return ret;
		*v |= (uint64_t)b << (8 * i);
	}
	return 0;
}

/* Sign-extend the low n (1, 2 or 4) bytes of v to 64 bits. */
static uint64_t sign_extend(uint64_t v, unsigned n)
{
	uint64_t sign = 1ull << (8 * n - 1);

	v &= (sign << 1) - 1;
	return (v ^ sign) - sign;
}

/*
 * Legacy prefixes come in any order and may repeat; REX counts only when
 * it is the last byte before the opcode (a legacy prefix or another REX
 * after it makes the CPU ignore it, though its byte still counts toward
 * the length). In 16/32-bit modes 40-4F are INC/DEC and end the prefixes.
 */
static int decode_prefixes(struct decoder *d, struct x86_insn *out,
			   uint8_t *opcode)
{
	uint8_t b;
	int ret;

	for (;;) {
		ret = next_byte(d, &b);
		if (ret)
			return ret;
		switch (b) {
		case 0x66:
			d->opsize_prefix = true;
			break;
		case 0x67:
			d->addrsize_prefix = true;
			break;
		case 0xf0:
			d->lock = true;
			break;
		case 0xf2:
		case 0xf3:
			d->rep = b;
			break;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
			/*
			 * Null prefixes in 64-bit mode: they do not even
			 * replace an earlier FS/GS override, which is what
			 * CPUs do as modelled by XED, Zydis and libopcodes.
			 */
			if (d->mode != X86_MODE_64)
				out->segment = (b >> 3) & 3;
			break;
		case 0x64:
		case 0x65:
			out->segment = X86_SEG_FS + (b & 1);
			break;
		default:
			if (d->mode == X86_MODE_64 && (b & 0xf0) == 0x40) {
				d->rex = b;
				continue;
			}
			*opcode = b;
			return 0;
		}
		d->rex = 0;
	}
}

static uint8_t operand_size(const struct decoder *d)
{
	if (d->rex & REX_W)
		return 8;
	if (d->mode == X86_MODE_16)
		return d->opsize_prefix ? 4 : 2;
	return d->opsize_prefix ? 2 : 4;
}

static uint8_t address_size(const struct decoder *d)
{
	switch (d->mode) {
	case X86_MODE_16:
		return d->addrsize_prefix ? 4 : 2;
	case X86_MODE_32:
		return d->addrsize_prefix ? 2 : 4;
	default:
		return d->addrsize_prefix ? 4 : 8;
	}
}

/* Port I/O moves at most 32 bits: REX.W is ignored on IN/OUT/INS/OUTS. */
static uint8_t io_size(const struct decoder *d, bool wide)
{
	if (!wide)
		return 1;
	return operand_size(d) == 2 ? 2 : 4;
}

static int fetch_modrm(struct decoder *d, struct x86_insn *out,
		       uint8_t *modrm)
{
	int ret = next_byte(d, modrm);

	if (ret)
		return ret;
	out->has_modrm = true;
	out->mod = *modrm >> 6;
	out->rm = (*modrm & 7) | (d->rex & REX_B ? 8 : 0);
	return 0;
}

static int displacement(struct decoder *d, struct x86_insn *out,
			unsigned n)
{
	uint64_t v;
	int ret;

	if (!n)
		return 0;
	ret = next_le(d, n, &v);
	if (ret)
		return ret;
	out->disp = (int64_t)sign_extend(v, n);
	return 0;
}

/* 16-bit addressing: fixed register pairs, no SIB, disp16 at most. */
static int memory16(struct decoder *d, struct x86_insn *out)
{
	static const int8_t base16[8] = {
		REG_BX, REG_BX, REG_BP, REG_BP, REG_SI, REG_DI, REG_BP, REG_BX,
	};
	static const int8_t index16[8] = {
		REG_SI, REG_DI, REG_SI, REG_DI, -1, -1, -1, -1,
	};
	unsigned rm = out->rm & 7;
	unsigned n = out->mod == 1 ? 1 : out->mod == 2 ? 2 : 0;

	out->base = base16[rm];
	out->index = index16[rm];
	if (out->mod == 0 && rm == 6) {
		out->base = -1;
		n = 2;
	}
	return displacement(d, out, n);
}

/*
 * 32/64-bit addressing. The special encodings look at the three ModRM/SIB
 * bits only, so REX.B does not escape them: rm 100 is a SIB even for r12,
 * and rm 101 with mod 00 is disp32 (RIP-relative in 64-bit mode, whatever
 * the address size) even for r13, as is SIB base 101 with mod 00.
 */
static int memory32(struct decoder *d, struct x86_insn *out)
{
	unsigned n = out->mod == 1 ? 1 : out->mod == 2 ? 4 : 0;
	uint8_t sib;
	unsigned index;
	int ret;

	out->base = out->rm;
	if ((out->rm & 7) == 4) {
		ret = next_byte(d, &sib);
		if (ret)
			return ret;
		index = ((sib >> 3) & 7) | (d->rex & REX_X ? 8 : 0);
		/* 100 without REX.X is "no index"; with it, r12. */
		if (index != 4) {
			out->index = index;
			out->scale = 1 << (sib >> 6);
		}
		out->base = (sib & 7) | (d->rex & REX_B ? 8 : 0);
		if ((sib & 7) == 5 && out->mod == 0) {
			out->base = -1;
			n = 4;
		}
	} else if ((out->rm & 7) == 5 && out->mod == 0) {
		out->base = -1;
		out->rip_relative = d->mode == X86_MODE_64;
		n = 4;
	}
	return displacement(d, out, n);
}

/* The rest of a memory operand after its ModRM byte. */
static int memory_operand(struct decoder *d, struct x86_insn *out)
{
	/* A register operand cannot be what faulted on memory. */
	if (out->mod == 3)
		return X86_DECODE_NOT_MEMORY;
	if (out->addrsize == 2)
		return memory16(d, out);
	return memory32(d, out);
}

/*
 * ModRM.reg as a register. For byte operands without any REX in effect,
 * 4-7 are AH, CH, DH, BH; a REX (even 40) makes them SPL, BPL, SIL, DIL.
 */
static void modrm_reg(const struct decoder *d, struct x86_insn *out,
		      uint8_t modrm, bool byte_reg)
{
	unsigned reg = ((modrm >> 3) & 7) | (d->rex & REX_R ? 8 : 0);

	if (byte_reg && !d->rex && reg >= 4) {
		out->reg_high_byte = true;
		reg -= 4;
	}
	out->reg = reg;
}

/* 88/89/8A/8B, and 0F B6/B7/BE/BF whose size is the source's. */
static int decode_mov_modrm(struct decoder *d, struct x86_insn *out,
			    enum x86_insn_kind kind, uint8_t size)
{
	bool extend = kind == X86_INSN_MOVZX || kind == X86_INSN_MOVSX;
	uint8_t modrm;
	int ret;

	out->kind = kind;
	out->opsize = size;
	if (extend)
		out->dest_size = operand_size(d);
	ret = fetch_modrm(d, out, &modrm);
	if (ret)
		return ret;
	ret = memory_operand(d, out);
	if (ret)
		return ret;
	modrm_reg(d, out, modrm, !extend && size == 1);
	return 0;
}

/* C6 /0 ib, C7 /0 iw/id. */
static int decode_mov_imm(struct decoder *d, struct x86_insn *out, bool wide)
{
	uint8_t modrm;
	unsigned n;
	int ret;

	out->kind = X86_INSN_MOV_STORE_IMM;
	out->opsize = wide ? operand_size(d) : 1;
	ret = fetch_modrm(d, out, &modrm);
	if (ret)
		return ret;
	/* An opcode extension: REX.R does not apply, and /7 is
	 * XABORT/XBEGIN, the rest undefined. */
	if ((modrm >> 3) & 7)
		return X86_DECODE_UNSUPPORTED;
	ret = memory_operand(d, out);
	if (ret)
		return ret;
	/* The immediate is at most 32 bits; a qword store sign-extends it. */
	n = out->opsize > 4 ? 4 : out->opsize;
	ret = next_le(d, n, &out->imm);
	if (ret)
		return ret;
	if (out->opsize == 8)
		out->imm = sign_extend(out->imm, 4);
	return 0;
}

/* A0-A3: the offset is address-size wide, 8 bytes in 64-bit mode. */
static int decode_mov_moffs(struct decoder *d, struct x86_insn *out,
			    uint8_t op)
{
	out->kind = op & 2 ? X86_INSN_MOV_STORE_MOFFS : X86_INSN_MOV_LOAD_MOFFS;
	out->opsize = op & 1 ? operand_size(d) : 1;
	return next_le(d, out->addrsize, &out->moffs);
}

static int decode_string(struct decoder *d, struct x86_insn *out,
			 enum x86_insn_kind kind, uint8_t size)
{
	out->kind = kind;
	out->opsize = size;
	/* F2 repeats a non-comparing string instruction just as F3 does. */
	out->rep = d->rep != 0;
	out->repne = d->rep == 0xf2;
	out->port_in_dx = kind == X86_INSN_INS || kind == X86_INSN_OUTS;
	return 0;
}

/* E4-E7 (port imm8) and EC-EF (port DX). */
static int decode_port_io(struct decoder *d, struct x86_insn *out,
			  uint8_t op)
{
	uint8_t port;
	int ret;

	out->kind = op & 2 ? X86_INSN_OUT : X86_INSN_IN;
	out->opsize = io_size(d, op & 1);
	if (op & 8) {
		out->port_in_dx = true;
		return 0;
	}
	ret = next_byte(d, &port);
	if (ret)
		return ret;
	out->port = port;
	return 0;
}

/*
 * 0F 01 with a register-form ModRM is a group of system instructions that
 * 66/F2/F3 select among (F3 0F 01 D9 is VMGEXIT, not VMMCALL), so only the
 * bare forms are taken.
 */
static int decode_0f01(struct decoder *d, struct x86_insn *out)
{
	uint8_t b;
	int ret;

	ret = next_byte(d, &b);
	if (ret)
		return ret;
	if (d->opsize_prefix)
		return X86_DECODE_UNSUPPORTED;
	switch (b) {
	case 0xd9:
		out->kind = X86_INSN_VMMCALL;
		return 0;
	case 0xc1:
		out->kind = X86_INSN_VMCALL;
		return 0;
	default:
		return X86_DECODE_UNSUPPORTED;
	}
}

static int decode_0f(struct decoder *d, struct x86_insn *out)
{
	uint8_t op;
	int ret;

	ret = next_byte(d, &op);
	if (ret)
		return ret;
	/*
	 * F2/F3 are mandatory prefixes in the 0F map: they pick another
	 * instruction (F3 0F B8 is POPCNT where 0F B8 is JMPE), so an
	 * instruction with one is not one of ours.
	 */
	if (d->rep)
		return X86_DECODE_UNSUPPORTED;
	switch (op) {
	case 0x01:
		return decode_0f01(d, out);
	case 0x30:
		out->kind = X86_INSN_WRMSR;
		return 0;
	case 0x32:
		out->kind = X86_INSN_RDMSR;
		return 0;
	case 0xa2:
		out->kind = X86_INSN_CPUID;
		return 0;
	case 0xb6:
	case 0xb7:
		return decode_mov_modrm(d, out, X86_INSN_MOVZX, op & 1 ? 2 : 1);
	case 0xbe:
	case 0xbf:
		return decode_mov_modrm(d, out, X86_INSN_MOVSX, op & 1 ? 2 : 1);
	default:
		return X86_DECODE_UNSUPPORTED;
	}
}

static int decode_opcode(struct decoder *d, struct x86_insn *out, uint8_t op)
{
	uint8_t size = op & 1 ? operand_size(d) : 1;

	switch (op) {
	case 0x88:
	case 0x89:
		return decode_mov_modrm(d, out, X86_INSN_MOV_STORE, size);
	case 0x8a:
	case 0x8b:
		return decode_mov_modrm(d, out, X86_INSN_MOV_LOAD, size);
	case 0xc6:
	case 0xc7:
		return decode_mov_imm(d, out, op & 1);
	case 0xa0:
	case 0xa1:
	case 0xa2:
	case 0xa3:
		return decode_mov_moffs(d, out, op);
	case 0xa4:
	case 0xa5:
		return decode_string(d, out, X86_INSN_MOVS, size);
	case 0xaa:
	case 0xab:
		return decode_string(d, out, X86_INSN_STOS, size);
	case 0xac:
	case 0xad:
		return decode_string(d, out, X86_INSN_LODS, size);
	case 0x6c:
	case 0x6d:
		return decode_string(d, out, X86_INSN_INS, io_size(d, op & 1));
	case 0x6e:
	case 0x6f:
		return decode_string(d, out, X86_INSN_OUTS, io_size(d, op & 1));
	case 0xe4:
	case 0xe5:
	case 0xe6:
	case 0xe7:
	case 0xec:
	case 0xed:
	case 0xee:
	case 0xef:
		return decode_port_io(d, out, op);
	case 0xf4:
		out->kind = X86_INSN_HLT;
		return 0;
	case 0x0f:
		return decode_0f(d, out);
	default:
		return X86_DECODE_UNSUPPORTED;
	}
}

static void reset(struct x86_insn *out)
{
	memset(out, 0, sizeof(*out));
	out->segment = X86_SEG_NONE;
	out->base = -1;
	out->index = -1;
	out->scale = 1;
}

int x86_decode(const uint8_t *bytes, size_t avail, enum x86_cpu_mode mode,
	       struct x86_insn *out)
{
	struct decoder d = { .bytes = bytes, .avail = avail, .mode = mode };
	uint8_t op;
	int ret;

	reset(out);
	if ((unsigned)mode > X86_MODE_64)
		return X86_DECODE_UNSUPPORTED;
	ret = decode_prefixes(&d, out, &op);
	if (!ret) {
		out->addrsize = address_size(&d);
		out->opsize = operand_size(&d);
		ret = decode_opcode(&d, out, op);
	}
	/* Checked last: LOCK makes every instruction here #UD, and that is
	 * the answer only for an otherwise valid instruction. */
	if (!ret && d.lock)
		ret = X86_DECODE_BAD_PREFIX;
	if (ret) {
		reset(out);
		return ret;
	}
	if (!out->dest_size)
		out->dest_size = out->opsize;
	out->length = (uint8_t)d.pos;
	return 0;
}

const char *x86_decode_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case X86_DECODE_TRUNCATED:
		return "instruction truncated";
	case X86_DECODE_UNSUPPORTED:
		return "unsupported instruction";
	case X86_DECODE_TOO_LONG:
		return "instruction longer than 15 bytes";
	case X86_DECODE_BAD_PREFIX:
		return "invalid prefix (LOCK)";
	case X86_DECODE_NOT_MEMORY:
		return "register operand where memory was expected";
	default:
		return "unknown decode error";
	}
}

const char *x86_insn_kind_name(enum x86_insn_kind kind)
{
	static const char *const names[X86_INSN_KIND_COUNT] = {
		[X86_INSN_MOV_STORE] = "mov_store",
		[X86_INSN_MOV_STORE_IMM] = "mov_store_imm",
		[X86_INSN_MOV_LOAD] = "mov_load",
		[X86_INSN_MOV_LOAD_MOFFS] = "mov_load_moffs",
		[X86_INSN_MOV_STORE_MOFFS] = "mov_store_moffs",
		[X86_INSN_MOVZX] = "movzx",
		[X86_INSN_MOVSX] = "movsx",
		[X86_INSN_STOS] = "stos",
		[X86_INSN_MOVS] = "movs",
		[X86_INSN_LODS] = "lods",
		[X86_INSN_CPUID] = "cpuid",
		[X86_INSN_RDMSR] = "rdmsr",
		[X86_INSN_WRMSR] = "wrmsr",
		[X86_INSN_VMMCALL] = "vmmcall",
		[X86_INSN_VMCALL] = "vmcall",
		[X86_INSN_HLT] = "hlt",
		[X86_INSN_IN] = "in",
		[X86_INSN_OUT] = "out",
		[X86_INSN_INS] = "ins",
		[X86_INSN_OUTS] = "outs",
	};

	if ((unsigned)kind >= X86_INSN_KIND_COUNT || !names[kind])
		return "?";
	return names[kind];
}
