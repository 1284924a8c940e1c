/*
 * Application processor start-up trampoline. smp_start.c copies this blob
 * to a page below 1 MiB and fills in the parameter block at its end; the
 * SIPI vector points the AP at the page. Real mode -> 32-bit protected
 * mode -> long mode with the boot CPU's CR0, CR3 and EFER -> entry(arg)
 * on the AP's stack. Everything here is addressed relative to the page,
 * since the blob runs at an address only known at run time.
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
	/* The BSP's CR0 (PG | PE and the rest) replaces INIT's, which also
	 * clears the CD and NW that INIT sets: caches on. */
	movl REL(tramp_cr0)(%ebx), %eax
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
	movq REL(tramp_arg)(%rbx), %rdi
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

	/* Parameter block, filled in by smp_start.c (struct trampoline_params). */
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
tramp_cr0:
	.long 0
tramp_cr3:
	.long 0
tramp_efer:
	.long 0
	.long 0
tramp_stack:
	.quad 0
tramp_arg:
	.quad 0
tramp_entry:
	.quad 0
	.globl trampoline_end
trampoline_end:

	.globl trampoline_gdt_offset, trampoline_pm32_offset, trampoline_lm64_offset
	.set trampoline_gdt_offset, REL(tramp_gdt)
	.set trampoline_pm32_offset, REL(tramp_pm32)
	.set trampoline_lm64_offset, REL(tramp_lm64)
