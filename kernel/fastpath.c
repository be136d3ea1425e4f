/*
 * The IPC fast path: call and reply-and-wait that carry only register words
 * (MR0..MR7) to a partner already waiting for us, when nothing of higher
 * priority is ready.  It moves the words from frame to frame, blocks the
 * caller in its receive phase and returns to user mode as the partner,
 * without the scheduler or the run queue.  Every case it declines goes to
 * the general path (ipc.c), which handles it completely: build with
 * CONFIG_FASTPATH=0 and only timing changes.
 *
 * A blocked thread needs nothing from its kernel stack: the partner writes
 * its results into its frame, so both paths can resume a thread that the
 * other one blocked (resume_via_frame).
 */
#include "thread.h"

/* Tag bits the fast path refuses: eight or more untyped words, typed
 * words, the propagate bit. */
#define REFUSED_TAG_BITS 0x1ff8ull
STATIC_ASSERT(L4_MR_REGS == 8, "REFUSED_TAG_BITS assumes 8 register words");

/* cur blocks in its receive phase (from: the partner for a call, anybody
 * after a reply) and dst, whose IPC is done, runs: it returns to user mode
 * through its frame, and so does cur when it is woken. */
static inline __attribute__((always_inline)) struct frame *switch_to_partner(struct tcb *cur, struct tcb *dst,
									     l4_tid_t from)
{
	cur->state = TS_RECV;
	cur->wait_from = from;
	resume_via_frame(cur);
	dst->state = TS_RUNNING;
	current = dst;
	cpu_set_kernel_stack(TCB_STACK_TOP(dst));
	space_activate(dst->space);
	set_user_gs_base(dst->utcb_uva);
	return TCB_FRAME(dst);
}

/* A reply to an alien thread that fastpath_exception blocked: with one
 * word, its RAX (a system call's result).  Anything else, and a receiver
 * that is halted or in a page fault, goes to the general path. */
static __attribute__((noinline)) struct frame *exception_reply(struct frame *f, struct tcb *cur, struct tcb *dst,
								l4_tid_t from, u64 tag)
{
	if ((dst->flags & (TF_HALTED | TF_EXC_WAIT)) != TF_EXC_WAIT || L4_TAG_U(tag) != 1)
		return NULL;
	if (dst->wait_from != cur->tid || !sched_may_run_directly(dst))
		return NULL; /* only its handler answers; a higher priority runs first */
	struct frame *df = TCB_FRAME(dst);
	df->rax = f->mr[1]; /* its registers are its own: only RAX changes */
	kernel_msg_done(dst);
	set_user_fs_base(dst->fs_base);
	return switch_to_partner(cur, dst, from);
}

/* No frame pointer: a few instructions fewer on the path that matters. */
__attribute__((optimize("omit-frame-pointer"))) struct frame *fastpath_ipc(struct frame *f)
{
	struct tcb *cur = current;
	l4_tid_t to = f->rdi, from = f->rsi;
	u64 tag = f->r10, label = L4_TAG_LABEL(tag), timeouts = f->rdx;

	/* Only call (from == to) and reply-and-wait (from == any) of at most
	 * seven untyped words, sending with a zero or no timeout and receiving
	 * without one. */
	if (unlikely(from != to && from != L4_ANYTHREAD))
		return NULL;
	if (unlikely(cur->flags & (TF_ALIEN | TF_FPU_OWNER | TF_IO | TF_IRQ_PENDING))) {
		/* An alien's system calls are not L4's; an interrupt waiting for
		 * us is received on the general path. */
		if (cur->flags & (TF_ALIEN | TF_IRQ_PENDING))
			return NULL;
		/* The registers hold our FPU state, the TSS our ports: whoever
		 * runs next must trap first.  Harmless if we end up not
		 * switching: our own next FPU or port instruction reloads. */
		if (cur->flags & TF_FPU_OWNER)
			fpu_trap_next();
		if (cur->flags & TF_IO)
			io_unload();
	}
	if (unlikely(tag & REFUSED_TAG_BITS))
		return NULL;
	if (unlikely(L4_LABEL_IS_KERNEL(label)))
		return NULL;
	if (unlikely(timeouts != L4_TIMEOUTS(L4_TIMEOUT_NEVER, L4_TIMEOUT_NEVER) && timeouts != L4_TIMEOUTS(L4_TIMEOUT_ZERO, L4_TIMEOUT_NEVER)))
		return NULL;
	if (unlikely(from == L4_ANYTHREAD && cur->sendq_head))
		return NULL; /* a sender is waiting: the receive would not block */

	/* The partner exists (number 0 is never used: nil fails here too) and
	 * waits for us, not halted, not in a page fault. */
	if (unlikely(to >= (u64)L4_MAX_THREADS << L4_TID_VERSION_BITS))
		return NULL;
	struct tcb *dst = tids.obj[to >> L4_TID_VERSION_BITS];
	if (unlikely(!dst || dst->tid != to || dst->state != TS_RECV))
		return NULL;
	if (unlikely(dst->flags & (TF_HALTED | TF_KERNEL_MSG)))
		return exception_reply(f, cur, dst, from, tag);
	if (unlikely(dst->timeout_at))
		return NULL; /* its timeout must be cancelled: the general path does that */
	if (unlikely(dst->wait_from != cur->tid && dst->wait_from != L4_ANYTHREAD))
		return NULL;
	if (unlikely(!sched_may_run_directly(dst)))
		return NULL; /* a thread of higher priority is ready */

	/* ---- nothing has changed so far; from here on the IPC happens ---- */
	struct frame *df = TCB_FRAME(dst);
	unsigned n = L4_TAG_U(tag);
	df->mr[0] = tag & ~(L4_TAG_ERROR | L4_TAG_RECV_PHASE);
	for (unsigned i = 1; i <= n; i++)
		df->mr[i] = f->mr[i];
	df->rsi = cur->tid; /* RAX is 0 already: the IPC system call's number */
	return switch_to_partner(cur, dst, from);
}

/*
 * An alien thread's system call, when its exception handler waits for it:
 * the exception message (as exc_state_out in ipc.c writes it) goes
 * straight into the handler's frame and UTCB, the alien thread blocks for
 * the reply with TF_EXC_WAIT, and the handler runs.  The reply comes back
 * through the fast path above (a short one: RAX) or through the general
 * path into kmsg, which ipc_resume_hook applies when the thread runs.
 */
__attribute__((optimize("omit-frame-pointer"))) struct frame *fastpath_exception(struct frame *f)
{
	struct tcb *cur = current;
	l4_tid_t hid = cur->exc_handler;
	if (unlikely(hid >= (u64)L4_MAX_THREADS << L4_TID_VERSION_BITS))
		return NULL;
	struct tcb *h = tids.obj[hid >> L4_TID_VERSION_BITS];
	if (unlikely(!h || h == cur || h->tid != hid || h->state != TS_RECV || (h->flags & (TF_HALTED | TF_KERNEL_MSG))))
		return NULL;
	if (unlikely(h->timeout_at || (h->wait_from != cur->tid && h->wait_from != L4_ANYTHREAD)))
		return NULL;
	if (unlikely(!sched_may_run_directly(h)))
		return NULL;

	/* ---- from here on the exception IPC happens ---- */
	if (cur->flags & TF_FPU_OWNER)
		fpu_trap_next();
	if (cur->flags & TF_IO)
		io_unload(); /* the TSS holds only the running task's ports */
	struct frame *hf = TCB_FRAME(h);
	u64 *mr = h->utcb->mr;
	hf->mr[0] = L4_TAG_MAKE(L4_LABEL_EXCEPTION, L4_EXC_WORDS, 0);
	hf->mr[L4_EXC_RIP] = f->rip;
	hf->mr[L4_EXC_RSP] = f->rsp;
	hf->mr[L4_EXC_RFLAGS] = f->rflags;
	hf->mr[L4_EXC_VECTOR] = L4_EXC_SYSCALL;
	hf->mr[L4_EXC_ERROR] = 0;
	hf->mr[L4_EXC_ADDR] = 0;
	hf->mr[L4_EXC_RAX] = f->rax;
	mr[L4_EXC_RBX] = f->rbx;
	mr[L4_EXC_RCX] = f->rip;    /* what the SYSCALL instruction left there */
	mr[L4_EXC_RDX] = f->rdx;
	mr[L4_EXC_RSI] = f->rsi;
	mr[L4_EXC_RDI] = f->rdi;
	mr[L4_EXC_RBP] = f->rbp;
	mr[L4_EXC_R8] = f->r8;
	mr[L4_EXC_R9] = f->r9;
	mr[L4_EXC_R10] = f->r10;
	mr[L4_EXC_R11] = f->rflags;
	mr[L4_EXC_R12] = f->r12;
	mr[L4_EXC_R13] = f->r13;
	mr[L4_EXC_R14] = f->r14;
	mr[L4_EXC_R15] = f->r15;
	mr[L4_EXC_FS_BASE] = cur->fs_base;
	mr[L4_EXC_GS_BASE] = cur->utcb_uva;
	hf->rsi = cur->tid;

	cur->msg = cur->kmsg; /* the reply, if it takes the general path */
	cur->flags |= TF_KERNEL_MSG | TF_EXC_WAIT;
	set_user_fs_base(h->fs_base);
	return switch_to_partner(cur, h, hid);
}
