/*
 * Thread creation and deletion, and the rules for who may control whom.
 *
 * Authority: a thread may control (ThreadControl, ExchangeRegisters,
 * Schedule) the threads of its own task and of the tasks its task created;
 * privileged tasks (sigma0, the root task) may control every thread.
 */
#include "thread.h"
#include "tidtab.h"
#include "arch/x86_64/paging.h"

struct tidtab tids;

#define DEFAULT_TIMESLICE_US 10000

void threads_init(void) { tidtab_init(&tids); }


struct tcb *tcb_by_number(u32 n) { return n < L4_MAX_THREADS ? tids.obj[n] : NULL; }

bool may_control(struct tcb *caller, struct tcb *target)
{
	struct space *cs = caller->space, *ts = target->space;
	return cs == ts || cs->privileged || ts->owner_id == cs->id;
}

static bool utcb_setup(struct tcb *t)
{
	struct l4_utcb *u = kmem_alloc();
	if (!u)
		return false;
	t->utcb_uva = L4_UTCB_AREA + L4_TID_NUMBER(t->tid) * L4_UTCB_SIZE;
	if (!space_map(t->space, t->utcb_uva, V2P(u), L4_R | L4_W)) {
		kmem_free(u);
		return false;
	}
	u->self = t->utcb_uva;
	u->my_tid = t->tid;
	u->xfer_timeout = L4_TIMEOUT_NEVER;
	t->utcb = u;
	return true;
}

/* A fresh thread's kernel stack: switch_stack() pops six callee-saved
 * registers and returns into ret_to_user with the frame on top. */
static void stack_setup(struct tcb *t)
{
	struct frame *f = TCB_FRAME(t);
	f->cs = SEL_UCODE;
	f->ss = SEL_UDATA;
	f->rflags = RFLAGS_IF | 2;
	f->vector = 0; /* returns with iretq: all registers as set */
	u64 *sp = (u64 *)f;
	*--sp = (u64)ret_to_user;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	t->ksp = (u64)sp;
}

#define THREAD_PAGES 2 /* TCB with kernel stack, UTCB */

struct tcb *thread_create(struct space *s, l4_tid_t want, l4_tid_t pager, u8 prio, u8 mcp, int *err)
{
	*err = L4_ENOMEM;
	if (!kmem_charge(s, THREAD_PAGES * PAGE_SIZE))
		return NULL;
	struct tcb *t = kmem_alloc();
	if (!t) {
		kmem_uncharge(s, THREAD_PAGES * PAGE_SIZE);
		return NULL;
	}
	t->tid = tidtab_alloc(&tids, want, t, err);
	if (t->tid == L4_NILTHREAD) {
		kmem_free(t);
		kmem_uncharge(s, THREAD_PAGES * PAGE_SIZE);
		return NULL;
	}
	t->space = s;
	if (!utcb_setup(t)) {
		tidtab_free(&tids, t->tid);
		kmem_free(t);
		kmem_uncharge(s, THREAD_PAGES * PAGE_SIZE);
		*err = L4_ENOMEM;
		return NULL;
	}
	t->state = TS_INACTIVE;
	t->flags = TF_HALTED | (s->io ? TF_IO : 0);
	t->rq.prio = prio;
	t->mcp = mcp;
	t->pager = pager;
	t->timeslice_us = t->remaining_us = DEFAULT_TIMESLICE_US;
	t->msg = TCB_FRAME(t)->mr;
	t->resume[6] = (u64)resume_frame;
	t->resume[7] = (u64)TCB_FRAME(t);
	stack_setup(t);
	t->space_next = s->threads;
	s->threads = t;
	return t;
}

static void unlink_from_space(struct tcb *t)
{
	struct tcb **pp = &t->space->threads;
	while (*pp != t)
		pp = &(*pp)->space_next;
	*pp = t->space_next;
}

/* Delete t (never the current thread); the task goes with its last thread. */
void thread_delete(struct tcb *t)
{
	assert(t != current);
	struct space *s = t->space;
	irq_thread_deleted(t);
	ipc_partner_gone(t);
	ipc_timeout_cancel(t);
	fpu_release(t);
	sched_remove(t);
	tidtab_free(&tids, t->tid);
	pt_unmap(s->pml4, t->utcb_uva);
	space_mapping_changed(s, t->utcb_uva);
	kmem_free(t->utcb);
	unlink_from_space(t);
	kmem_free(t);
	kmem_uncharge(s, THREAD_PAGES * PAGE_SIZE);
	if (!s->threads)
		space_destroy(s);
}

void thread_set_user_entry(struct tcb *t, u64 ip, u64 sp)
{
	struct frame *f = TCB_FRAME(t);
	f->rip = ip;
	f->rsp = sp;
}

void thread_resume(struct tcb *t)
{
	t->flags &= ~TF_HALTED;
	if (t->state == TS_INACTIVE)
		sched_make_ready(t);
}

void thread_halt(struct tcb *t)
{
	t->flags |= TF_HALTED;
	if (t->state == TS_READY) {
		sched_remove(t);
		t->state = TS_INACTIVE;
	}
	/* A running thread stops at its next kernel exit (syscall.c); a
	 * blocked one when its IPC completes (sched_make_ready). */
}

/* Stop a thread for good after a fault nobody handles. */
void thread_kill(struct tcb *t, const char *why)
{
	printk("kernel: thread %llx stopped: %s\n", t->tid, why);
	ipc_abort(t, L4_IPC_CANCELLED);
	sched_remove(t);
	t->state = TS_DEAD;
	t->flags |= TF_HALTED;
}
