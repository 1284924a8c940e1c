/*
 * The isolate guest's vector-register access. Guests are built
 * -mgeneral-regs-only, so the compiler never touches these registers and
 * what vec_load_* put there stays until the next vec_load_*, across any
 * C code: only another partition's state leaking in could change it.
 * SysV calling convention: the first argument in %rdi, the second in %rsi.
 */
	.text

/* void vec_load_xmm(const uint8_t src[16][16]) */
	.globl vec_load_xmm
vec_load_xmm:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu 16*\n(%rdi), %xmm\n
	.endr
	ret

/* void vec_store_xmm(uint8_t dst[16][16]) */
	.globl vec_store_xmm
vec_store_xmm:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu %xmm\n, 16*\n(%rdi)
	.endr
	ret

/* void vec_load_ymm(const uint8_t src[16][32]): both halves. */
	.globl vec_load_ymm
vec_load_ymm:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu 32*\n(%rdi), %ymm\n
	.endr
	ret

/* void vec_store_ymm(uint8_t dst[16][32]) */
	.globl vec_store_ymm
vec_store_ymm:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu %ymm\n, 32*\n(%rdi)
	.endr
	ret

/* void vec_set_control(uint32_t mxcsr, uint16_t fcw) */
	.globl vec_set_control
vec_set_control:
	subq $16, %rsp
	movl %edi, 0(%rsp)
	movw %si, 8(%rsp)
	ldmxcsr 0(%rsp)
	fldcw 8(%rsp)
	addq $16, %rsp
	ret

/* uint64_t vec_get_control(void): MXCSR in bits 31:0, FCW in 47:32. */
	.globl vec_get_control
vec_get_control:
	subq $16, %rsp
	stmxcsr 0(%rsp)
	fnstcw 8(%rsp)
	movzwl 8(%rsp), %eax
	shlq $32, %rax
	movl 0(%rsp), %edx
	orq %rdx, %rax
	addq $16, %rsp
	ret

/* SAFE_TAIL insn: run `insn` (its operands already in registers) and
 * return 0, or -1 when it faulted: the extable entry resumes at the -1
 * path and extable_last_vector says which exception. */
.macro SAFE_TAIL insn:vararg
1:	\insn
	xorl %eax, %eax
	ret
2:	movl $-1, %eax
	ret
	.pushsection .extable, "a"
	.balign 8
	.quad 1b, 2b
	.popsection
.endm

/* int xsetbv_safe(uint32_t index, uint64_t value) */
	.globl xsetbv_safe
xsetbv_safe:
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
	SAFE_TAIL xsetbv

/* int monitor_safe(const void *addr), int mwait_safe(void). A child
 * must get #UD from both: CPUID hides them and the hypervisor intercepts
 * them, so neither can park the physical CPU. */
	.globl monitor_safe
monitor_safe:
	movq %rdi, %rax
	xorl %ecx, %ecx
	xorl %edx, %edx
	SAFE_TAIL monitor

	.globl mwait_safe
mwait_safe:
	xorl %eax, %eax
	xorl %ecx, %ecx
	SAFE_TAIL mwait
