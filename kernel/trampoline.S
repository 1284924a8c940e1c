/*
 * Native AP start-up trampoline (not used under isovisor, which starts
 * VPs straight in long mode from HvCallStartVirtualProcessor's context).
 * smp.c copies this blob to a page below 1 MiB, fills in the parameter
 * block at its end and points the SIPI vector at the page. Real mode ->
 * 32-bit protected mode -> long mode on the root's page tables ->
 * ap_entry64 on the AP's stack. Everything is addressed relative to the
 * page, whose address is only known at run time.
 */

#define REL(x) ((x) - trampoline_start)

	.section .trampoline, "a"
	.code16
	.globl trampoline_start
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	xorl %ebx, %ebx
	movw %ax, %bx
	shll $4, %ebx                   /* EBX = linear base of this page */

	lgdtl REL(tramp_gdt_ptr)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl *REL(tramp_pm32_ptr)

	.code32
tramp_pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss

	movl %cr4, %eax
	orl $(1 << 5), %eax             /* PAE */
	movl %eax, %cr4
	movl REL(tramp_cr3)(%ebx), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx          /* EFER: LME (and NXE) as on the BSP */
	rdmsr
	orl REL(tramp_efer)(%ebx), %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010023, %eax           /* PG | WP | NE | MP | PE */
	movl %eax, %cr0
	ljmpl *REL(tramp_lm64_ptr)(%ebx)

	.code64
tramp_lm64:
	movl %ebx, %ebx                 /* upper half undefined after the switch */
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movq REL(tramp_stack)(%rbx), %rsp
	movq REL(tramp_entry)(%rbx), %rax
	xorl %ebp, %ebp
	jmp *%rax

	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff        /* 0x10: data */
	.quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
tramp_gdt_end:

	/* Parameter block, filled in by smp.c (struct trampoline_params). */
	.balign 8
	.globl trampoline_params
trampoline_params:
tramp_gdt_ptr:
	.short tramp_gdt_end - tramp_gdt - 1
	.long 0                         /* linear address of tramp_gdt */
	.short 0
tramp_pm32_ptr:
	.long 0                         /* linear address of tramp_pm32 */
	.short 0x08
	.short 0
tramp_lm64_ptr:
	.long 0                         /* linear address of tramp_lm64 */
	.short 0x18
	.short 0
tramp_cr3:
	.long 0
tramp_efer:
	.long 0
tramp_stack:
	.quad 0
tramp_entry:
	.quad 0
	.globl trampoline_end
trampoline_end:

	.globl trampoline_gdt_offset, trampoline_pm32_offset, trampoline_lm64_offset
	.set trampoline_gdt_offset, REL(tramp_gdt)
	.set trampoline_pm32_offset, REL(tramp_pm32)
	.set trampoline_lm64_offset, REL(tramp_lm64)
