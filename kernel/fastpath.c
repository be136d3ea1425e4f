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

struct frame *fastpath_ipc(struct frame *f)
{
	struct tcb *cur = current;
	l4_tid_t to = f->rdi, from = f->rsi;
	u64 tag = f->r10, label = L4_TAG_LABEL(tag);

	/* Only call (from == to) and reply-and-wait (from == any) of at most
	 * seven untyped words, receiving without a timeout. */
	if (unlikely(to == L4_NILTHREAD || (from != to && from != L4_ANYTHREAD)))
		return NULL;
	if (unlikely((tag & (0xfc0 | L4_TAG_PROPAGATE)) || L4_TAG_U(tag) >= L4_MR_REGS))
		return NULL;
	if (unlikely(label >= L4_LABEL_KERNEL_FIRST && label <= L4_LABEL_KERNEL_LAST))
		return NULL;
	u32 send_timeout = f->rdx >> 32;
	if (unlikely((u32)f->rdx != L4_TIMEOUT_NEVER || (send_timeout && send_timeout != L4_TIMEOUT_NEVER)))
		return NULL;
	if (unlikely(from == L4_ANYTHREAD && cur->sendq_head))
		return NULL;
	struct tcb *dst = tcb_lookup(to);
	if (unlikely(!dst || dst->state != TS_RECV || (dst->flags & (TF_HALTED | TF_KERNEL_MSG))))
		return NULL;
	if (unlikely(dst->wait_from != cur->tid && dst->wait_from != L4_ANYTHREAD))
		return NULL;
	if (unlikely(!sched_may_run_directly(dst)))
		return NULL;

	/* ---- nothing has changed so far; from here on the IPC happens ---- */
	struct frame *df = TCB_FRAME(dst);
	unsigned n = L4_TAG_U(tag);
	df->mr[0] = tag & ~(L4_TAG_ERROR | L4_TAG_RECV_PHASE);
	for (unsigned i = 1; i <= n; i++)
		df->mr[i] = f->mr[i];
	df->rsi = cur->tid;
	df->rax = 0;

	f->rsi = L4_NILTHREAD;
	f->rax = 0;
	cur->state = TS_RECV;
	cur->wait_from = from == L4_ANYTHREAD ? L4_ANYTHREAD : to;
	resume_via_frame(cur);

	dst->state = TS_RUNNING;
	current = dst;
	cpu_set_kernel_stack(TCB_STACK_TOP(dst));
	space_activate(dst->space);
	set_user_gs_base(dst->utcb_uva);
	return df;
}
