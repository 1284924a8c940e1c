/*
 * Where every AP starts in 64-bit mode, natively (from the library's
 * trampoline) or under isovisor (HvCallStartVirtualProcessor's context).
 * The hypervisor zeroes every general register but RSP, so the VP's
 * struct vp_cpu is passed on the stack: RSP = its stack top - 16, holding
 * the pointer. Trap entry is the library's (kernel/lib/x86/trap_entry.S).
 */

	.text
	.globl ap_entry64
ap_entry64:
	movq (%rsp), %rdi
	xorl %ebp, %ebp
	call ap_main
1:	cli
	hlt
	jmp 1b
