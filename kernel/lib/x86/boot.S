/*
 * Multiboot2 header and the boot CPU's 32-bit entry, shared by every
 * isovisor kernel image (the hypervisor, the root OS, the guests). GRUB
 * (BIOS or UEFI, after ExitBootServices), or the hypervisor starting a
 * partition, jumps here in flat 32-bit protected mode with paging off,
 * EAX = 0x36d76289 and EBX = the boot information. We check the magic and
 * long mode, identity-map the first 4 GiB with 2 MiB pages, enter long mode
 * and call boot_main(magic, info), which builds real page tables once it
 * knows the memory map. Each image supplies the two early panic messages
 * (boot_msg_no_multiboot, boot_msg_no_long_mode) with its console prefix.
 */
#include <isovisor/multiboot2.h>

#define BOOT_STACK_SIZE 16384

	.section .multiboot, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	/* What UEFI boots need, all optional so BIOS boots load too. */
	.balign 8
1:	.short MB2_HTAG_INFO_REQUEST
	.short MB2_HTAG_OPTIONAL
	.long 2f - 1b
	.long MB2_TAG_CMDLINE
	.long MB2_TAG_MODULE
	.long MB2_TAG_MMAP
	.long MB2_TAG_ACPI_OLD
	.long MB2_TAG_ACPI_NEW
	.long MB2_TAG_EFI_MMAP
	.long MB2_TAG_EFI64
2:
	/* Modules page-aligned: they are handed to partitions by the page. */
	.balign 8
	.short MB2_HTAG_MODULE_ALIGN
	.short 0
	.long 8

	.balign 8
	.short MB2_HTAG_END
	.short 0
	.long 8
mb2_header_end:

	.section .boot32, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl $boot_stack_top, %esp
	movl %eax, %edi
	movl %ebx, %esi

	cmpl $MB2_BOOTLOADER_MAGIC, %edi
	jne no_multiboot

	/* Long mode needs CPUID leaf 0x80000001 EDX bit 29. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 29), %edx
	jz no_long_mode

	/* Boot page tables (in .bss, cleared here rather than trusted). */
	movl %edi, %ebp
	movl $boot_pml4, %edi
	movl $(6 * 4096 / 4), %ecx
	xorl %eax, %eax
	rep stosl
	movl %ebp, %edi

	movl $boot_pdpt, %eax
	orl $3, %eax
	movl %eax, boot_pml4

	/* pdpt[i] -> pd[i], pd[i][j] -> (i GiB + j * 2 MiB), present|rw|ps */
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd, %eax
	orl $3, %eax
	movl %eax, boot_pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jne 1b

	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, boot_pd(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jne 1b

	movl %cr4, %eax
	orl $(1 << 5), %eax             /* PAE */
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx          /* EFER.LME */
	rdmsr
	orl $(1 << 8), %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010021, %eax           /* PG | WP | NE | PE */
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_mode_entry

no_multiboot:
	movl $boot_msg_no_multiboot, %ebx
	jmp early_panic
no_long_mode:
	movl $boot_msg_no_long_mode, %ebx

/* Print the string at EBX on COM1 (GRUB left it set up), then stop. */
early_panic:
	movw $0x3fd, %dx
1:	inb %dx, %al
	testb $0x20, %al
	jz 1b
	movb (%ebx), %al
	testb %al, %al
	jz 2f
	movw $0x3f8, %dx
	outb %al, %dx
	incl %ebx
	jmp early_panic
2:	cli
	hlt
	jmp 2b

	.code64
long_mode_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl %edi, %edi                 /* magic, zero-extended */
	movl %esi, %esi                 /* info address */
	call boot_main
1:	cli
	hlt
	jmp 1b

	.section .rodata
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff        /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .bss
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.balign 16
	.globl boot_stack_top
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:
