/*
 * The scheduler: fixed priorities 0..255, round robin within a level.
 * The running thread is never in the ready queue (it is queued again only
 * when it is preempted or yields), so a direct IPC switch from a client to
 * a waiting server touches the queue at most once.
 */
#include "thread.h"

struct tcb *current;
struct runq rq;
static struct tcb *idle;

#define TICK_US (1000000 / KERNEL_HZ)

void switch_to(struct tcb *next)
{
	struct tcb *prev = current;
	next->state = TS_RUNNING;
	if (next == prev)
		return;
	current = next;
	if (prev->flags & TF_IO)
		io_unload(); /* the TSS holds only the running task's ports */
	if (next != idle) {
		cpu_set_kernel_stack(TCB_STACK_TOP(next));
		space_activate(next->space);
		set_user_gs_base(next->utcb_uva);
		set_user_fs_base(next->fs_base); /* the fast path never runs alien threads */
		fpu_switch(next);
	}
	switch_stack(&prev->ksp, next->ksp);
}

void sched_make_ready(struct tcb *t)
{
	ipc_timeout_cancel(t);
	if (t->flags & TF_HALTED) {
		t->state = TS_INACTIVE;
		return;
	}
	t->state = TS_READY;
	runq_push_tail(&rq, &t->rq);
}

void sched_remove(struct tcb *t) { runq_remove(&rq, &t->rq); }

static struct tcb *pick_next(void)
{
	struct rq_node *n = runq_pop(&rq);
	return n ? RQ_TCB(n) : idle;
}

/* The current thread has blocked.  Run hint (a partner just made ready)
 * directly if no other ready thread has a higher priority. */
void sched_block(struct tcb *hint)
{
	if (hint && hint->rq.queued && sched_may_run_directly(hint)) {
		runq_remove(&rq, &hint->rq);
		switch_to(hint);
	} else {
		switch_to(pick_next());
	}
}

/* Give the CPU away if a thread of higher priority is ready. */
void sched_preempt_check(void)
{
	if (current == idle || runq_highest(&rq) <= (int)current->rq.prio)
		return;
	current->state = TS_READY;
	runq_push_head(&rq, &current->rq);
	switch_to(pick_next());
}

static void rotate(void)
{
	current->state = TS_READY;
	runq_push_tail(&rq, &current->rq);
	switch_to(pick_next());
}

void sched_tick(void)
{
	if (current == idle)
		return;
	if (current->remaining_us > TICK_US) {
		current->remaining_us -= TICK_US;
		sched_preempt_check();
		return;
	}
	sched_yield(); /* the slice is used up: as if it yielded */
}

void sched_yield(void)
{
	current->remaining_us = current->timeslice_us;
	if (runq_highest(&rq) >= (int)current->rq.prio)
		rotate();
}

void sched_donate(struct tcb *to)
{
	if (to->state != TS_READY || to == current)
		return;
	runq_remove(&rq, &to->rq);
	current->state = TS_READY;
	runq_push_tail(&rq, &current->rq);
	switch_to(to);
}

void sched_set_prio(struct tcb *t, u8 prio)
{
	if (t->rq.queued) {
		runq_remove(&rq, &t->rq);
		t->rq.prio = prio;
		runq_push_tail(&rq, &t->rq);
	} else {
		t->rq.prio = prio;
	}
}

static _Noreturn void idle_loop(void)
{
	for (;;) {
		struct rq_node *n = runq_pop(&rq);
		if (n)
			switch_to(RQ_TCB(n));
		else
			__asm__ volatile("sti; hlt; cli");
	}
}

void sched_init(void)
{
	runq_init(&rq);
	idle = kmem_alloc();
	if (!idle)
		panic("no memory for the idle thread");
	u64 *sp = (u64 *)TCB_STACK_TOP(idle);
	*--sp = 0; /* keeps the stack 16-byte aligned at idle_loop's entry */
	*--sp = (u64)idle_loop;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	idle->ksp = (u64)sp;
	idle->state = TS_RUNNING;
}

_Noreturn void sched_start(void)
{
	static u64 boot_ksp;
	current = idle;
	switch_stack(&boot_ksp, idle->ksp);
	panic("returned to the boot stack");
}
