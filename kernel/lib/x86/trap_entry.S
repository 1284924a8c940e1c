/*
 * Trap entry: one 16-byte stub per vector (all 256, so an interrupt an
 * image never asked for is reported instead of taking a #GP on a missing
 * gate). Each pushes a uniform frame (error code or 0, then the vector)
 * and jumps to one common path that saves the general registers as a
 * struct cpu_regs (traps.h) and calls the image's trap_dispatch().
 */

	.text

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
		    (v) == 21 || (v) == 29 || (v) == 30)

/* traps.c finds vector v's stub at trap_stubs + 16 * v; a stub that
 * outgrew its 16 bytes makes .org move backwards, an assembler error. */
	.balign 16
	.globl trap_stubs
trap_stubs:
	vec = 0
	.rept 256
	.org trap_stubs + 16 * vec, 0xcc
	.if HAS_ERR(vec)
	pushq $vec
	.else
	pushq $0
	pushq $vec
	.endif
	jmp trap_common
	vec = vec + 1
	.endr
	.org trap_stubs + 16 * 256, 0xcc

trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call trap_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp                  /* vector, error code */
	iretq
