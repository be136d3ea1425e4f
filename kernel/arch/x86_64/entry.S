/*
 * Kernel entry and exit: the 256 interrupt stubs, the SYSCALL entry, the
 * common return to user mode and the kernel-stack switch.  Every entry
 * builds a struct frame (arch.h) at the top of the thread's kernel stack.
 * The kernel runs with interrupts disabled throughout.
 */
#include "asm.h"

.macro PUSH_GPRS
	pushq %rbp
	pushq %r11
	pushq %rcx
	PUSH_ARGS_AND_MRS
.endm

.macro PUSH_ARGS_AND_MRS
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rax
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %rbx
	pushq %r9
	pushq %r8
	pushq %r10
.endm

.macro POP_MRS_AND_ARGS
	popq %r10
	popq %r8
	popq %r9
	popq %rbx
	popq %r12
	popq %r13
	popq %r14
	popq %r15
	popq %rax
	popq %rdi
	popq %rsi
	popq %rdx
.endm

/* Interrupt and exception stubs: push a dummy error code where the CPU
 * does not, then the vector number. */
.macro STUB n
	.align 16
stub_\n:
	.if !((\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30))
	pushq $0
	.endif
	pushq $\n
	jmp trap_common
.endm

	.text
	.globl trap_stubs
	.align 16
trap_stubs:
.altmacro
.set i, 0
.rept 256
	STUB %i
	.set i, i + 1
.endr

trap_common:
	cld
	PUSH_GPRS
	testb $1, smap_enabled(%rip)
	jz 1f
	clac                       /* user code may have set AC: keep SMAP on */
1:
	movq %rsp, %rdi
	call trap
	/* fall through: return through the frame on this stack */

	.globl ret_to_user
ret_to_user:
	cmpq $VEC_SYSCALL, FR_VEC(%rsp)
	je sysret_path
	POP_MRS_AND_ARGS
	popq %rcx
	popq %r11
	popq %rbp
	addq $16, %rsp             /* vector, error code */
	iretq

sysret_path:
	POP_MRS_AND_ARGS
	addq $16, %rsp             /* user rcx/r11 are clobbered by SYSCALL */
	popq %rbp
	addq $16, %rsp
	popq %rcx                  /* rip */
	addq $8, %rsp              /* cs */
	popq %r11                  /* rflags */
	popq %rsp                  /* user rsp; interrupts stay off until sysret */
	sysretq

/*
 * SYSCALL: RCX = user RIP, R11 = user RFLAGS, IF already cleared by FMASK.
 * One CPU, so a global scratch word holds the user RSP while we switch to
 * the current thread's kernel stack.
 */
	.globl syscall_entry
	.align 16
syscall_entry:
	movq %rsp, syscall_user_rsp(%rip)
	movq kstack_top(%rip), %rsp
	pushq $SEL_UDATA
	pushq syscall_user_rsp(%rip)
	pushq %r11
	pushq $SEL_UCODE
	pushq %rcx
	pushq $0
	pushq $VEC_SYSCALL
	pushq %rbp
	subq $16, %rsp             /* R11 and RCX: SYSCALL destroyed them */
	PUSH_ARGS_AND_MRS
	movq %rsp, %rdi
#if CONFIG_FASTPATH
	testq %rax, %rax           /* L4_SYS_IPC */
	jnz 1f
	call fastpath_ipc
	testq %rax, %rax
	jz 2f
	movq %rax, %rsp            /* the partner's frame, from a system call: */
	jmp sysret_path            /* return as the partner */
2:	movq %rsp, %rdi
1:
#endif
	call syscall_dispatch
	movq %rax, %rsp
	jmp ret_to_user

/* Where switch_stack lands for a thread blocked by the IPC fast path: the
 * word on the stack is its frame (struct tcb resume[]). */
	.globl resume_frame
resume_frame:
	popq %rsp
	call ipc_resume_hook       /* work left for it: a string-copy fault */
	jmp ret_to_user

/* void switch_stack(u64 *save_sp, u64 new_sp): save the callee-saved
 * registers on this stack, store RSP, load the other stack, return there. */
	.globl switch_stack
switch_stack:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.data
	.globl kstack_top
kstack_top:	.quad 0
syscall_user_rsp:	.quad 0
