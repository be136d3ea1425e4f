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
	if (unlikely(!dst || dst->tid != to || dst->state != TS_RECV || (dst->flags & (TF_HALTED | TF_KERNEL_MSG))))
		return NULL;
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

	cur->state = TS_RECV;
	cur->wait_from = from; /* the partner for a call, anybody after a reply */
	resume_via_frame(cur);

	dst->state = TS_RUNNING;
	current = dst;
	cpu_set_kernel_stack(TCB_STACK_TOP(dst));
	space_activate(dst->space);
	set_user_gs_base(dst->utcb_uva);
	return df;
}
