/*
 * A multiboot (1) guest: the partition manager must load multiboot 1
 * images as GRUB would. Built three ways (Makefile): as ELF32 (the usual
 * format) expecting one module, the legacy guest's ELF, with the string
 * "legacy mb1-module"; as ELF64; and as a flat binary whose header's
 * address fields (the a.out kludge, flag 16) say where it goes. It checks
 * what a multiboot 1 loader promises (EAX = 0x2badb002, EBX = the
 * information with a memory map; the modules, page-aligned as its flag 0
 * asks), reports it as TAP on COM1 and ends through the test-exit port.
 */
#define MB1_MAGIC 0x1badb002
#ifdef MB1_AOUT
#define MB1_FLAGS 0x00010003            /* + the address fields */
#else
#define MB1_FLAGS 0x00000003            /* page-align modules, memory info */
#endif

	.section .multiboot, "a"
	.balign 4
mb1_header:
	.long MB1_MAGIC, MB1_FLAGS, -(MB1_MAGIC + MB1_FLAGS)
#ifdef MB1_AOUT
	.long mb1_header                /* header_addr */
	.long __load_start              /* load_addr */
	.long __load_end                /* load_end_addr */
	.long __bss_end                 /* bss_end_addr */
	.long _start                    /* entry_addr */
#endif

	.text
	.code32
	.globl _start
_start:
	cli
	movl $0x90000, %esp
	movl %ebx, %ebp
	movl %eax, %edi                 /* puts clobbers EAX */
	movl $tap_head, %esi
	call puts
	/* 1: the magic and a memory map. */
	movl $fail1, %esi
	cmpl $0x2badb002, %edi
	jne 1f
	testl $(1 << 6), (%ebp)         /* a memory map is present */
	jz 1f
	cmpl $0, 44(%ebp)               /* mmap_length */
	je 1f
	movl $pass1, %esi
1:	call result
	/* 2: the modules. */
	movl $fail2, %esi
#ifdef MB1_MODULES
	testl $(1 << 3), (%ebp)         /* mods_count/mods_addr valid */
	jz 2f
	cmpl $1, 20(%ebp)               /* mods_count */
	jne 2f
	movl 24(%ebp), %ecx             /* mods_addr */
	movl (%ecx), %eax               /* mod_start */
	testl $0xfff, %eax              /* page-aligned, as flag 0 asks */
	jnz 2f
	cmpl %eax, 4(%ecx)              /* mod_end above mod_start */
	jbe 2f
	cmpl $0x464c457f, (%eax)        /* "\177ELF": the legacy guest's image */
	jne 2f
	movl 8(%ecx), %edi              /* its string */
	movl $want_string, %ebx
3:	movb (%ebx), %al
	cmpb %al, (%edi)
	jne 2f
	incl %ebx
	incl %edi
	testb %al, %al
	jnz 3b
	movl $pass2, %esi
#else
	testl $(1 << 3), (%ebp)
	jz 4f
	cmpl $0, 20(%ebp)
	jne 2f
4:	movl $pass2, %esi
#endif
2:	call result
	movl $tap_tail, %esi
	call puts
	movb failed, %al
	outb %al, $0xf4
5:	hlt
	jmp 5b

/* Print the result line at %esi; a "not ok" one marks the run failed. */
result:
	cmpb $'n', (%esi)
	jne puts
	movb $1, failed

puts:
	movw $0x3f8, %dx
6:	lodsb
	testb %al, %al
	jz 7f
	outb %al, %dx
	jmp 6b
7:	ret

	.data
failed:
	.byte 0

	.section .rodata
tap_head:
	.asciz "TAP version 13\n"
pass1:
	.asciz "ok 1 - mb1 boot (" MB1_KIND "): EAX holds the multiboot magic, EBX a memory map\n"
fail1:
	.asciz "not ok 1 - mb1 boot (" MB1_KIND "): EAX holds the multiboot magic, EBX a memory map\n"
#ifdef MB1_MODULES
want_string:
	.asciz "legacy mb1-module"
pass2:
	.asciz "ok 2 - mb1 modules: one, page-aligned, the legacy guest's ELF, string \"legacy mb1-module\"\n"
fail2:
	.asciz "not ok 2 - mb1 modules: one, page-aligned, the legacy guest's ELF, string \"legacy mb1-module\"\n"
#else
pass2:
	.asciz "ok 2 - mb1 modules: none, as configured\n"
fail2:
	.asciz "not ok 2 - mb1 modules: none, as configured\n"
#endif
tap_tail:
	.asciz "1..2\n"
