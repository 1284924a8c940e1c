/*
 * The hypervisor's one stack switch. Trap entry is the kernel library's
 * (kernel/lib/x86/trap_entry.S).
 */

	.text
	.globl call_on_stack
call_on_stack:                          /* (uint64_t top, void (*fn)(void)) */
	movq %rdi, %rsp
	xorl %ebp, %ebp
	call *%rsi
1:	cli
	hlt
	jmp 1b
