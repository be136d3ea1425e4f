/* Program entry.  The creator passes a System V style stack (argc, argv,
 * envp, auxv); boot tasks started by the kernel get RSP = 0 and use their
 * own, with empty ones. */
	.section .text.start, "ax"
	.globl _start
_start:
	testq %rsp, %rsp
	jnz 1f
	leaq boot_stack_top(%rip), %rsp
	pushq $0                   /* auxv = { AT_NULL, 0 } */
	pushq $0
	pushq $0                   /* envp = { NULL } */
	pushq $0                   /* argv = { NULL } */
	pushq $0                   /* argc = 0 */
1:	movq %rsp, %rdi
	andq $-16, %rsp
	xorl %ebp, %ebp
	call l4_runtime_start
	ud2

	.bss
	.balign 16
boot_stack:	.skip 32768
boot_stack_top:

/* First instruction of threads made by l4_spawn_thread/l4_spawn_task:
 * the stack holds fn, arg and the routine that ends the thread. */
	.text
	.globl l4_thread_trampoline
l4_thread_trampoline:
	popq %rax                  /* fn */
	popq %rdi                  /* arg */
	popq %rbx                  /* what to do when fn returns */
	andq $-16, %rsp
	xorl %ebp, %ebp
	call *%rax
	call *%rbx
	ud2
