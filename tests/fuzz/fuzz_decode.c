/*
 * Fuzz target: the input is instruction bytes, decoded as 16-, 32- and
 * 64-bit code. Whatever x86_decode() accepts must keep the promises of
 * x86_decode.h: a length within 15 and within the input, fields in range
 * and consistent with the kind, and the same answer from exactly `length`
 * bytes. A broken promise is an abort(), which the driver reports.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "x86_decode.h"

static void require(bool ok)
{
	if (!ok)
		abort();
}

static bool same(const struct x86_insn *a, const struct x86_insn *b)
{
	return a->kind == b->kind && a->length == b->length &&
	       a->opsize == b->opsize && a->dest_size == b->dest_size &&
	       a->addrsize == b->addrsize && a->reg == b->reg &&
	       a->reg_high_byte == b->reg_high_byte && a->rep == b->rep &&
	       a->repne == b->repne && a->segment == b->segment &&
	       a->imm == b->imm && a->has_modrm == b->has_modrm &&
	       a->mod == b->mod && a->rm == b->rm && a->base == b->base &&
	       a->index == b->index && a->scale == b->scale &&
	       a->disp == b->disp && a->rip_relative == b->rip_relative &&
	       a->moffs == b->moffs && a->port == b->port &&
	       a->port_in_dx == b->port_in_dx;
}

static bool is_size(unsigned n)
{
	return n == 1 || n == 2 || n == 4 || n == 8;
}

static bool fits_signed(int64_t v, unsigned bytes)
{
	int64_t lim = (int64_t)1 << (8 * bytes - 1);

	return v >= -lim && v < lim;
}

static void check_memory(const struct x86_insn *in, enum x86_cpu_mode mode)
{
	bool modrm_kind = in->kind == X86_INSN_MOV_STORE ||
			  in->kind == X86_INSN_MOV_STORE_IMM ||
			  in->kind == X86_INSN_MOV_LOAD ||
			  in->kind == X86_INSN_MOVZX ||
			  in->kind == X86_INSN_MOVSX;

	require(in->has_modrm == modrm_kind);
	if (!in->has_modrm) {
		require(!in->mod && !in->rm && in->base == -1 &&
			in->index == -1 && in->scale == 1 && !in->disp &&
			!in->rip_relative);
		return;
	}
	require(in->mod <= 2 && in->rm <= 15);
	require(is_size(in->scale) && (in->index >= 0 || in->scale == 1));
	require(in->base >= -1 && in->base <= 15);
	/* Index 100 without REX.X means none, so 4 (rSP) never appears. */
	require(in->index >= -1 && in->index <= 15 && in->index != 4);
	if (in->rip_relative)
		require(mode == X86_MODE_64 && in->mod == 0 &&
			in->base == -1 && in->index == -1);
	if (in->addrsize == 2) {
		require(in->base == -1 || in->base == 3 || in->base == 5 ||
			in->base == 6 || in->base == 7);
		require(in->index == -1 || in->index == 6 || in->index == 7);
		require(in->rm <= 7 && fits_signed(in->disp, 2));
		require(in->scale == 1);
	} else {
		require(fits_signed(in->disp, 4));
	}
	if (in->mod == 0 && in->disp)
		require(in->base == -1);
	if (in->mod == 1)
		require(fits_signed(in->disp, 1));
}

static void check_fields(const struct x86_insn *in, enum x86_cpu_mode mode)
{
	bool string = in->kind == X86_INSN_STOS || in->kind == X86_INSN_MOVS ||
		      in->kind == X86_INSN_LODS || in->kind == X86_INSN_INS ||
		      in->kind == X86_INSN_OUTS;
	bool port_kind = in->kind == X86_INSN_IN || in->kind == X86_INSN_OUT;
	bool moffs_kind = in->kind == X86_INSN_MOV_LOAD_MOFFS ||
			  in->kind == X86_INSN_MOV_STORE_MOFFS;
	bool extend = in->kind == X86_INSN_MOVZX || in->kind == X86_INSN_MOVSX;

	require((unsigned)in->kind < X86_INSN_KIND_COUNT);
	require(strcmp(x86_insn_kind_name(in->kind), "?") != 0);
	require(is_size(in->opsize) && is_size(in->dest_size));
	if (extend)
		require(in->opsize <= 2 && in->dest_size >= 2 &&
			in->dest_size >= in->opsize);
	else
		require(in->dest_size == in->opsize);
	switch (mode) {
	case X86_MODE_64:
		require(in->addrsize == 4 || in->addrsize == 8);
		require(in->segment == -1 || in->segment == X86_SEG_FS ||
			in->segment == X86_SEG_GS);
		break;
	default:
		require(in->addrsize == 2 || in->addrsize == 4);
		require(in->opsize != 8 && in->dest_size != 8);
		require(in->segment >= -1 && in->segment <= 5);
	}
	require(in->reg <= 15);
	if (in->reg_high_byte)
		require(in->reg <= 3 && in->opsize == 1 &&
			(in->kind == X86_INSN_MOV_STORE ||
			 in->kind == X86_INSN_MOV_LOAD));
	require(string || (!in->rep && !in->repne));
	require(in->rep || !in->repne);
	if (in->kind == X86_INSN_IN || in->kind == X86_INSN_OUT ||
	    in->kind == X86_INSN_INS || in->kind == X86_INSN_OUTS)
		require(in->opsize <= 4);
	if (in->kind == X86_INSN_INS || in->kind == X86_INSN_OUTS)
		require(in->port_in_dx);
	else if (!port_kind)
		require(!in->port_in_dx);
	require(port_kind || !in->port);
	require(in->port <= 0xff && (!in->port_in_dx || !in->port));
	require(moffs_kind || !in->moffs);
	if (in->addrsize < 8)
		require(in->moffs >> (8 * in->addrsize) == 0);
	if (in->kind != X86_INSN_MOV_STORE_IMM)
		require(!in->imm);
	else if (in->opsize < 8)
		require(in->imm >> (8 * in->opsize) == 0);
	else
		require(fits_signed((int64_t)in->imm, 4));
	check_memory(in, mode);
}

static void check_mode(const uint8_t *data, size_t size,
		       enum x86_cpu_mode mode)
{
	size_t capped = size < X86_INSN_MAX_LEN ? size : X86_INSN_MAX_LEN;
	struct x86_insn in, again;
	int ret, ret2;

	ret = x86_decode(data, size, mode, &in);
	require(x86_decode_strerror(ret) != NULL);
	/* Nothing past byte 15 may matter. */
	ret2 = x86_decode(data, capped, mode, &again);
	require(ret2 == ret && same(&in, &again));
	switch (ret) {
	case 0:
		break;
	case X86_DECODE_TRUNCATED:
		require(size < X86_INSN_MAX_LEN);
		return;
	case X86_DECODE_UNSUPPORTED:
	case X86_DECODE_TOO_LONG:
	case X86_DECODE_BAD_PREFIX:
	case X86_DECODE_NOT_MEMORY:
		require(in.length == 0 && !in.has_modrm);
		return;
	default:
		abort();
	}
	require(in.length >= 1 && in.length <= X86_INSN_MAX_LEN &&
		in.length <= size);
	check_fields(&in, mode);
	/* Exactly `length` bytes decode the same; one fewer is short. */
	require(x86_decode(data, in.length, mode, &again) == 0 &&
		same(&in, &again));
	require(x86_decode(data, in.length - 1, mode, &again) ==
		X86_DECODE_TRUNCATED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_mode(data, size, X86_MODE_16);
	check_mode(data, size, X86_MODE_32);
	check_mode(data, size, X86_MODE_64);
	return 0;
}

/* ---- seeds: valid encodings of each kind the mutations start from ---- */

static const struct {
	uint8_t len;
	uint8_t bytes[15];
} seeds[] = {
	/* mov [rax], rbx; mov eax, fs:[rbp+rcx*4-8] */
	{ 3, { 0x48, 0x89, 0x18 } },
	{ 5, { 0x64, 0x8b, 0x44, 0x8d, 0xf8 } },
	/* mov dword [rax+rcx*4+0x100], imm32; the same RIP-relative */
	{ 11, { 0xc7, 0x84, 0x88, 0x00, 0x01, 0x00, 0x00,
		0xef, 0xbe, 0xad, 0xde } },
	{ 10, { 0xc7, 0x05, 0x10, 0x00, 0x00, 0x00,
		0x78, 0x56, 0x34, 0x12 } },
	/* mov eax, [r12*1+disp32]; 16-bit mov dword [0x1234], imm32 */
	{ 8, { 0x42, 0x8b, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12 } },
	{ 9, { 0x66, 0xc7, 0x06, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12 } },
	/* mov rax, moffs64; mov moffs32, eax */
	{ 10, { 0x48, 0xa1, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02,
		0x01 } },
	{ 6, { 0x67, 0xa3, 0x78, 0x56, 0x34, 0x12 } },
	/* mov [rax], ah behind an ignored REX; movsx; movzx */
	{ 4, { 0x40, 0x66, 0x88, 0x20 } },
	{ 4, { 0x48, 0x0f, 0xbf, 0x00 } },
	{ 3, { 0x0f, 0xb6, 0x07 } },
	/* rep stosq, gs movsb, lodsd, rep insd, outsw */
	{ 3, { 0xf3, 0x48, 0xab } },
	{ 2, { 0x65, 0xa4 } },
	{ 1, { 0xad } },
	{ 2, { 0xf3, 0x6d } },
	{ 2, { 0x66, 0x6f } },
	/* in al, 0x60; out dx, ax */
	{ 2, { 0xe4, 0x60 } },
	{ 2, { 0x66, 0xef } },
	/* cpuid, rdmsr, wrmsr, vmmcall, vmcall, hlt */
	{ 2, { 0x0f, 0xa2 } },
	{ 2, { 0x0f, 0x32 } },
	{ 2, { 0x0f, 0x30 } },
	{ 3, { 0x0f, 0x01, 0xd9 } },
	{ 3, { 0x0f, 0x01, 0xc1 } },
	{ 1, { 0xf4 } },
};

size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	if (i >= sizeof(seeds) / sizeof(seeds[0]) || cap < seeds[i].len)
		return 0;
	memcpy(buf, seeds[i].bytes, seeds[i].len);
	return seeds[i].len;
}
