/*
 * Multiboot entry.  The loader leaves us in 32-bit protected mode with paging
 * off.  We build boot page tables that map the first GiB three times
 * (identity, direct map at 0xffff800000000000, kernel image at -2 GiB),
 * enter long mode and jump to kmain() at the high address.
 */
#include "asm.h"

#define MB_MAGIC 0x1badb002
#define MB_FLAGS ((1 << 0) | (1 << 1) | (1 << 16)) /* align, mem map, a.out kludge */

	.section .boot.header, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long mb_header            /* header_addr */
	.long mb_header            /* load_addr: the image starts with this header */
	.long 0                    /* load_end_addr: the whole file */
	.long _kernel_end - KERNEL_VMA
	.long _start32             /* entry_addr */

	.section .boot.text, "ax"
	.code32
	.globl _start32
_start32:
	cli
	movl %eax, %edi            /* multiboot magic */
	movl %ebx, %esi            /* multiboot info (physical) */
	movl $(boot_stack_top - KERNEL_VMA), %esp

	/* PML4[0] and PML4[256] -> pdpt_low; PML4[511] -> pdpt_high */
	movl $(boot_pdpt_low - KERNEL_VMA + 3), %eax
	movl %eax, (boot_pml4 - KERNEL_VMA)
	movl %eax, (boot_pml4 - KERNEL_VMA + 256 * 8)
	movl $(boot_pdpt_high - KERNEL_VMA + 3), %eax
	movl %eax, (boot_pml4 - KERNEL_VMA + 511 * 8)
	/* pdpt_low[0] and pdpt_high[510] -> boot_pd (first GiB in 2 MiB pages) */
	movl $(boot_pd - KERNEL_VMA + 3), %eax
	movl %eax, (boot_pdpt_low - KERNEL_VMA)
	movl %eax, (boot_pdpt_high - KERNEL_VMA + 510 * 8)
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax            /* present, writable, 2 MiB */
	movl %eax, (boot_pd - KERNEL_VMA)(,%ecx,8)
	incl %ecx
	cmpl $512, %ecx
	jne 1b

	movl %cr4, %eax
	orl $(1 << 5), %eax        /* PAE */
	movl %eax, %cr4
	movl $(boot_pml4 - KERNEL_VMA), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx     /* EFER */
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax /* LME, NXE */
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16) | 1), %eax /* PG, WP, PE */
	movl %eax, %cr0
	lgdt boot_gdtr
	ljmp $8, $long_mode

	.code64
long_mode:
	movabs $high_entry, %rax
	jmp *%rax

	.section .boot.data, "aw"
	.align 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff   /* 64-bit code */
	.quad 0x00cf92000000ffff   /* data */
boot_gdtr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt
boot_gdt_end:

	.text
high_entry:
	movabs $boot_stack_top, %rsp
	movw $16, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %ebp, %ebp
	/* edi = magic, esi = info: already the first two C arguments */
	call kmain
1:	cli
	hlt
	jmp 1b

	.bss
	.align 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt_low:	.skip 4096
boot_pdpt_high:	.skip 4096
boot_pd:	.skip 4096
	.globl boot_stack_top
boot_stack:	.skip 16384
boot_stack_top:
