/*
 * Hostile guests for failure-isolation tests: 32-bit multiboot2 kernels
 * that misbehave at once. HOSTILE_TRIPLE loads an empty IDT and raises
 * an exception: a triple fault. HOSTILE_SPIN clears IF and spins forever:
 * it must never starve the root or another partition.
 */
#include <isovisor/multiboot2.h>

	.section .multiboot, "a"
	.balign 8
hdr:	.long MB2_HEADER_MAGIC, MB2_ARCH_I386, hdr_end - hdr
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (hdr_end - hdr))
	.short MB2_HTAG_END, 0
	.long 8
hdr_end:

	.text
	.code32
	.globl _start
_start:
	cli
	/* Say something first, so a test sees it ran. */
	movl $msg, %esi
	movw $0x3f8, %dx
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:
#ifdef HOSTILE_TRIPLE
	lidt null_idt
	int3
#endif
3:	jmp 3b

	.section .rodata
	.balign 8
null_idt:
	.short 0
	.long 0
msg:
#ifdef HOSTILE_TRIPLE
	.asciz "hostile: about to triple fault\n"
#else
	.asciz "hostile: spinning with interrupts off\n"
#endif
