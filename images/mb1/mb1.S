/*
 * A multiboot (1) guest: the partition manager must load multiboot 1
 * images as GRUB would. It checks what a multiboot 1 loader promises
 * (EAX = 0x2badb002, EBX = the information with a command line and a
 * memory map), reports it as TAP on COM1 and ends through the test-exit
 * port.
 */
#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS 0x00000003            /* page-align modules, memory info */

	.section .multiboot, "a"
	.balign 4
	.long MB1_MAGIC, MB1_FLAGS, -(MB1_MAGIC + MB1_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	movl $0x90000, %esp
	movl $fail, %edi
	cmpl $0x2badb002, %eax
	jne 1f
	testl $(1 << 6), (%ebx)         /* a memory map is present */
	jz 1f
	cmpl $0, 44(%ebx)               /* mmap_length */
	je 1f
	movl $pass, %edi
1:	movl $tap_head, %esi
	call puts
	movl %edi, %esi
	call puts
	movl $tap_tail, %esi
	call puts
	xorl %eax, %eax
	cmpl $pass, %edi
	je 2f
	movb $1, %al
2:	outb %al, $0xf4
3:	hlt
	jmp 3b

puts:
	movw $0x3f8, %dx
4:	lodsb
	testb %al, %al
	jz 5f
	outb %al, %dx
	jmp 4b
5:	ret

	.section .rodata
tap_head:
	.asciz "TAP version 13\n"
pass:
	.asciz "ok 1 - mb1 boot: EAX holds the multiboot magic, EBX a memory map\n"
fail:
	.asciz "not ok 1 - mb1 boot: EAX holds the multiboot magic, EBX a memory map\n"
tap_tail:
	.asciz "1..1\n"
