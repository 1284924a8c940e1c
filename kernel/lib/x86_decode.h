/*
 * A small x86 instruction decoder for the few instructions the hypervisor
 * emulates or skips: memory moves that trap on a nested page fault (MMIO,
 * or memory the guest does not own) and the intercepted instructions whose
 * length is needed to advance RIP. Both are needed on CPUs without decode
 * assists or next-RIP saving, such as QEMU TCG's SVM.
 *
 * The decoder is portable (freestanding or hosted, no state) and strict:
 * it reads at most `avail` bytes and never more than 15, and anything it
 * does not fully understand is an error, never a guess.
 */
#ifndef ISOVISOR_X86_DECODE_H
#define ISOVISOR_X86_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The architectural limit; a longer instruction raises #GP. */
#define X86_INSN_MAX_LEN 15

/* The code segment's default: real mode or 16-bit protected mode,
 * 32-bit protected or compatibility mode, 64-bit long mode. */
enum x86_cpu_mode { X86_MODE_16, X86_MODE_32, X86_MODE_64 };

enum x86_insn_kind {
	X86_INSN_MOV_STORE,       /* 88, 89: mov r/m, reg          */
	X86_INSN_MOV_STORE_IMM,   /* C6 /0, C7 /0: mov r/m, imm    */
	X86_INSN_MOV_LOAD,        /* 8A, 8B: mov reg, r/m          */
	X86_INSN_MOV_LOAD_MOFFS,  /* A0, A1: mov rAX, moffs        */
	X86_INSN_MOV_STORE_MOFFS, /* A2, A3: mov moffs, rAX        */
	X86_INSN_MOVZX,           /* 0F B6, 0F B7                  */
	X86_INSN_MOVSX,           /* 0F BE, 0F BF                  */
	X86_INSN_STOS,            /* AA, AB                        */
	X86_INSN_MOVS,            /* A4, A5                        */
	X86_INSN_LODS,            /* AC, AD                        */
	X86_INSN_CPUID,           /* 0F A2                         */
	X86_INSN_RDMSR,           /* 0F 32                         */
	X86_INSN_WRMSR,           /* 0F 30                         */
	X86_INSN_VMMCALL,         /* 0F 01 D9                      */
	X86_INSN_VMCALL,          /* 0F 01 C1                      */
	X86_INSN_HLT,             /* F4                            */
	X86_INSN_IN,              /* E4, E5, EC, ED                */
	X86_INSN_OUT,             /* E6, E7, EE, EF                */
	X86_INSN_INS,             /* 6C, 6D                        */
	X86_INSN_OUTS,            /* 6E, 6F                        */
	X86_INSN_KIND_COUNT
};

/* Segment override numbers, as in the ModRM sreg field. */
enum x86_segment {
	X86_SEG_NONE = -1,
	X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS,
};

struct x86_insn {
	enum x86_insn_kind kind;
	uint8_t length;         /* total bytes, prefixes included, 1..15 */
	/* Data size in bytes, 1, 2, 4 or 8; for movzx/movsx the memory
	 * (source) size. For instructions without data it is the operand
	 * size the prefixes select, which nothing should depend on. */
	uint8_t opsize;
	uint8_t dest_size;      /* movzx/movsx: the register's; else opsize */
	uint8_t addrsize;       /* 2, 4 or 8 */
	/* The register operand, 0..15 with REX.R applied; 0 (rAX) for
	 * A0-A3, string and port instructions and C6/C7. */
	uint8_t reg;
	bool reg_high_byte;     /* reg 0..3 means AH, CH, DH, BH */
	/* String instructions (MOVS, STOS, LODS, INS, OUTS) only: rep for
	 * F3 or F2, repne when the last of them was F2. Elsewhere F2/F3 are
	 * ignored (XRELEASE on a mov store is only a hint) and both false. */
	bool rep;
	bool repne;
	/* Override, enum x86_segment; X86_SEG_NONE means the instruction's
	 * default, which the caller picks (DS, SS for rBP/rSP bases, ES for
	 * the string destination). Never ES/CS/SS/DS in 64-bit mode. */
	int8_t segment;
	/* C6/C7: the immediate, zero-extended, except that an 8-byte C7
	 * store sign-extends its imm32 as the CPU does; else 0. */
	uint64_t imm;

	/* The memory operand, for the kinds with a ModRM byte (the mov,
	 * movzx and movsx kinds); mod is never 3 in a decoded instruction. */
	bool has_modrm;
	uint8_t mod;
	uint8_t rm;             /* ModRM.rm, REX.B applied (4/12: SIB) */
	/* base + index * scale + disp, each register 0..15 or -1 for none.
	 * 16-bit addressing uses BX=3, BP=5, SI=6, DI=7. scale is 1, 2, 4
	 * or 8, and 1 when there is no index. disp is sign-extended; the
	 * sum wraps at addrsize, which the caller must apply. */
	int8_t base;
	int8_t index;
	uint8_t scale;
	int64_t disp;
	bool rip_relative;      /* 64-bit mode: disp is from the next RIP */

	uint64_t moffs;         /* A0-A3: the absolute offset, addrsize bytes */
	uint16_t port;          /* E4-E7: the imm8 port */
	bool port_in_dx;        /* EC-EF, INS, OUTS: the port is DX */
};

/* Error returns of x86_decode(), all negative. */
#define X86_DECODE_TRUNCATED   (-1) /* needs more than `avail` bytes */
#define X86_DECODE_UNSUPPORTED (-2) /* an opcode or form not listed above */
#define X86_DECODE_TOO_LONG    (-3) /* over 15 bytes: #GP on hardware */
#define X86_DECODE_BAD_PREFIX  (-4) /* LOCK on these: #UD on hardware */
#define X86_DECODE_NOT_MEMORY  (-5) /* a mov kind with a register operand */

/*
 * Decode the instruction at bytes[0..avail) as a CPU in `mode` would.
 * Returns 0 and fills *out, or a negative X86_DECODE_* code with *out
 * reset (no field of a failed decode is meaningful). A result other than
 * X86_DECODE_TRUNCATED does not change when more bytes are supplied, and
 * X86_DECODE_TRUNCATED never comes back once avail >= 15.
 */
int x86_decode(const uint8_t *bytes, size_t avail, enum x86_cpu_mode mode,
	       struct x86_insn *out);

/* A short constant description of an x86_decode() return value. */
const char *x86_decode_strerror(int err);

/* The kind's mnemonic-like name, e.g. "mov_store"; "?" if out of range. */
const char *x86_insn_kind_name(enum x86_insn_kind kind);

#endif
