/*
 * Trap entry: one 16-byte stub per vector (all 256, so an interrupt the
 * root never asked for is reported instead of taking a #GP on a missing
 * gate). Each pushes a uniform frame (error code or 0, then the vector)
 * and jumps to one common path that saves the general registers as a
 * struct regs and calls trap_dispatch(). Also the APs' 64-bit entry.
 */

	.text

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
		    (v) == 21 || (v) == 29 || (v) == 30)

	.balign 16
	.globl trap_stubs
trap_stubs:
	vec = 0
	.rept 256
	.balign 16
	.if HAS_ERR(vec)
	pushq $vec
	.else
	pushq $0
	pushq $vec
	.endif
	jmp trap_common
	vec = vec + 1
	.endr
	.balign 16
	.globl trap_stubs_end
trap_stubs_end:

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

/*
 * Where every AP starts in 64-bit mode, natively (from the trampoline) or
 * under isovisor (HvCallStartVirtualProcessor's context). The hypervisor
 * zeroes every general register but RSP, so the VP's struct vp_cpu is
 * passed on the stack: RSP = its stack top - 16, holding the pointer.
 */
	.globl ap_entry64
ap_entry64:
	movq (%rsp), %rdi
	xorl %ebp, %ebp
	call ap_main
1:	cli
	hlt
	jmp 1b
