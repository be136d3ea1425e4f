/* Threads, tasks (address spaces) and the scheduler interface. */
#ifndef THREAD_H
#define THREAD_H

#include "kernel.h"
#include "runq.h"
#include "arch/x86_64/arch.h"

struct tcb;

/* A task: an address space and the threads in it. */
struct space {
	u64 *pml4;            /* kernel address of the top-level table */
	u64 cr3;              /* physical PML4 | PCID */
	u64 cr3_noflush;      /* what to load when no flush is due */
	bool flush_pending;   /* mappings changed while not loaded */
	bool privileged;      /* sigma0 and the root task */
	struct io_perm *io;   /* its I/O ports (io.c); NULL: none */
	u64 id;               /* unique for the kernel's lifetime */
	u64 owner_id;         /* id of the task that created this one */
	struct space *owner;  /* that task while it lives, for accounting */
	u64 kmem_own;         /* bytes of kernel memory for this task's objects */
	u64 kmem_total;       /* ... and for those of the tasks it created */
	u64 kmem_limit;       /* bound on kmem_total (unprivileged tasks) */
	struct tcb *threads;  /* list through tcb->space_next */
	u16 pcid;
	struct space *next_space, *prev_space; /* all tasks */
};

enum thread_state {
	TS_INACTIVE,   /* halted or never started */
	TS_RUNNING,    /* the current thread */
	TS_READY,      /* in the ready queue */
	TS_SEND,       /* blocked: in partner->sendq */
	TS_RECV,       /* blocked: waiting for a message */
	TS_DEAD,       /* stopped by an unhandled fault */
};

#define TF_HALTED 0x1        /* ExchangeRegisters halt; also "not yet started" */
#define TF_CONTINUE_RECV 0x2 /* send done by partner; run the open receive */
#define TF_KERNEL_MSG 0x4    /* current IPC carries a kernel message (fault) */
#define TF_XFER_FAULT 0x8    /* ready to fault in xfer_addr for a string copy */
#define TF_XFER_RECV 0x10    /* ... for its receive phase (else its send phase) */
#define TF_XFER_FAIL 0x20    /* ... and then fail its IPC (the partner could not wait) */
#define TF_IPC_ACTIVE 0x40   /* inside a user IPC on the general path */
#define TF_CANCEL_PENDING 0x80 /* cancelled while ready between two IPC steps */
#define TF_ALIEN 0x100       /* syscall / int 0x80 go to the exception handler */
#define TF_FPU_OWNER 0x200   /* its FPU state is in the registers (fpu_owner) */
#define TF_IO 0x400          /* its task has I/O ports: unload them when it stops */
#define TF_IRQ_PENDING 0x800 /* an interrupt waits for it to receive (irq.c) */
#define TF_EXC_WAIT 0x1000   /* blocked by fastpath_exception: the reply comes to kmsg */

#define KMSG_WORDS 32 /* an exception message and its reply fit */

/*
 * One page per thread: the TCB at the bottom, the kernel stack above it,
 * the user frame at the very top.
 */
struct tcb {
	u64 ksp;                 /* saved kernel stack pointer */
	struct space *space;
	l4_tid_t tid;
	u8 state;
	u8 mcp;                  /* maximum controlled priority (the priority is rq.prio) */
	u32 flags;
	u64 *msg;                /* MR0..MR7: user frame or kmsg */
	struct l4_utcb *utcb;    /* kernel address of the UTCB */
	u64 utcb_uva;            /* its user address (the GS base) */

	/* IPC */
	struct tcb *sendq_head;  /* threads blocked sending to this one */
	struct tcb *sendq_next, *sendq_prev;
	struct tcb *partner;     /* TS_SEND: the receiver */
	l4_tid_t wait_from;      /* TS_RECV: ANY or a thread */
	l4_tid_t recv_after;     /* TS_SEND: receive phase to enter after sending */
	u32 recv_timeout;        /* TS_SEND: that phase's timeout */
	u64 timeout_at;          /* TSC deadline of the blocked phase, 0: none */
	u64 xfer_addr;           /* TF_XFER_FAULT: the page to fault in */
	l4_tid_t xfer_partner;   /* ... for the IPC with this thread */
	u32 xfer_partner_seq;    /* ... that IPC: its send_seq then */
	u32 send_seq;            /* counts this thread's IPCs with a send phase */
	unsigned xfer_access;
	struct tcb *tq_next, *tq_prev; /* the list of threads with a deadline */

	/* scheduling */
	struct rq_node rq;
	u64 timeslice_us, remaining_us;

	l4_tid_t pager;
	struct tcb *space_next;
	u64 kmsg[KMSG_WORDS];    /* kernel-generated messages: faults, exceptions */
	l4_tid_t exc_handler;    /* nil: an exception stops the thread */
	u64 fs_base;             /* alien threads: the FS base (TLS) */
	void *fpu;               /* FPU/SSE/AVX save area, from its first use on */
	/* A stack for switch_stack that ends in resume_frame: six ignored
	 * registers, the return address, the frame to return through. */
	u64 resume[8];
};

#define TCB_FRAME(t) ((struct frame *)((u8 *)(t) + PAGE_SIZE) - 1)
#define TCB_STACK_TOP(t) ((u64)(t) + PAGE_SIZE)
#define RQ_TCB(n) ((struct tcb *)((u8 *)(n)-__builtin_offsetof(struct tcb, rq)))

extern struct tcb *current;

/* thread.c */
void threads_init(void);
#include "tidtab.h"
extern struct tidtab tids;
static inline struct tcb *tcb_lookup(l4_tid_t tid) { return tidtab_lookup(&tids, tid); }
struct tcb *tcb_by_number(u32 n);
struct tcb *thread_create(struct space *s, l4_tid_t want, l4_tid_t pager, u8 prio, u8 mcp, int *err);
void thread_delete(struct tcb *t);
bool may_control(struct tcb *caller, struct tcb *target);
void thread_set_user_entry(struct tcb *t, u64 ip, u64 sp);
void thread_kill(struct tcb *t, const char *why);
void thread_resume(struct tcb *t);
void thread_halt(struct tcb *t);

/* space.c */
extern struct space *loaded_space;
extern struct space *all_spaces;
struct space *space_create(u64 owner_id, bool privileged, int *err);
void space_destroy(struct space *s);
void space_reap_orphans(void);
void space_delete(struct space *s);
#define CR3_NOFLUSH (1ull << 63)
void space_load(struct space *s); /* with a TLB flush */
/* Switch to s; with PCIDs the TLB keeps its entries unless a flush is due. */
static inline void space_activate(struct space *s)
{
	if (s == loaded_space)
		return;
	if (unlikely(s->flush_pending)) {
		space_load(s);
		return;
	}
	write_cr3(s->cr3_noflush);
	loaded_space = s;
}
void space_mapping_changed(struct space *s, u64 va);
/* Kernel memory accounting: false if s, or a task above it, would exceed
 * its limit (then nothing is charged). */
bool kmem_charge(struct space *s, u64 bytes);
void kmem_uncharge(struct space *s, u64 bytes);
int space_set_kmem_limit(struct space *caller, struct space *s, u64 pages, u64 *used_pages);
bool space_map(struct space *s, u64 va, u64 pa, unsigned rights);
bool copy_from_user(struct tcb *t, u64 uva, void *dst, usize len);

/* sched.c */
void sched_init(void);
void sched_make_ready(struct tcb *t);
void sched_remove(struct tcb *t);
void sched_block(struct tcb *hint);
void sched_preempt_check(void);
extern struct runq rq;
/* May t (just unblocked, not queued) run now instead of a ready thread? */
static inline bool sched_may_run_directly(struct tcb *t) { return (int)t->rq.prio >= runq_highest(&rq); }
void sched_tick(void);
void sched_yield(void);
void sched_donate(struct tcb *to);
void sched_set_prio(struct tcb *t, u8 prio);
void switch_to(struct tcb *next);
_Noreturn void sched_start(void);

/* ipc.c */
void ipc(struct tcb *cur, l4_tid_t to, l4_tid_t from, u64 timeouts);
void ipc_timeout_cancel(struct tcb *t);
void ipc_timeouts_expire(u64 now);
void ipc_abort(struct tcb *t, enum l4_ipc_error err);
void ipc_partner_gone(struct tcb *t);
void ipc_pagefault(struct tcb *t, u64 addr, u64 ip, unsigned access);
/* An exception IPC for t (the running thread): false if t was stopped. */
bool ipc_exception(struct tcb *t, struct frame *f, u64 vector, u64 err, u64 addr);
void ipc_resume_hook(void);

/* syscall.c */
struct frame *syscall_dispatch(struct frame *f);

/* fastpath.c: call and reply-and-wait to a waiting partner; NULL if the
 * general path must handle the IPC. */
struct frame *fastpath_ipc(struct frame *f);
/* An alien thread's system call to its handler waiting for it; NULL if
 * the general path (ipc_exception) must do it. */
struct frame *fastpath_exception(struct frame *f);
/* A kernel message (fault, exception) of t is over: its message registers
 * are its frame's again. */
static inline void kernel_msg_done(struct tcb *t)
{
	t->flags &= ~(TF_KERNEL_MSG | TF_EXC_WAIT);
	t->msg = TCB_FRAME(t)->mr;
}

/* Make a thread that blocks now return straight to user mode through its
 * frame when it runs again, whatever its kernel stack held (the kernel
 * stack itself may still be in use until the switch). */
static inline void resume_via_frame(struct tcb *t)
{
	t->ksp = (u64)t->resume;
}

/* arch/x86_64/fpu.c: lazy FPU state */
extern struct tcb *fpu_owner;
extern bool fpu_ts_set;
static inline void fpu_write_ts(bool on)
{
	u64 cr0 = read_cr0();
	write_cr0(on ? cr0 | CR0_TS : cr0 & ~CR0_TS);
	fpu_ts_set = on;
}
/* Set CR0.TS: the next FPU instruction of whoever runs traps first. */
static inline void fpu_trap_next(void)
{
	if (!fpu_ts_set)
		fpu_write_ts(true);
}
void fpu_init(void);
bool fpu_trap(struct tcb *t);
void fpu_switch(struct tcb *next);
void fpu_release(struct tcb *t);

/* irq.c: interrupts as IPC */
void irq_init(void);
void irq_raise(unsigned line);
bool irq_receive(struct tcb *cur, l4_tid_t from);
bool irq_is_handler(l4_tid_t id, struct tcb *t);
enum l4_ipc_error irq_ack(struct tcb *cur, l4_tid_t id);
int irq_attach(l4_tid_t id, struct tcb *handler);
void irq_thread_deleted(struct tcb *t);

/* io.c: I/O ports */
bool io_give_all(struct space *s);
extern struct space *io_loaded; /* whose ports the TSS holds, if any */
/* Inline: the fast path calls it, and a call there costs callee-saved
 * registers in its prologue. */
static inline void io_unload(void)
{
	tss.iomap_base = TSS_IOMAP_NONE;
	io_loaded = NULL;
}
bool io_fault(struct tcb *t);
enum l4_ipc_error io_map(struct space *src, struct space *dst, l4_fpage_t fp, l4_fpage_t win, bool grant);
int io_unmap(struct space *s, l4_fpage_t fp, bool self);
void io_space_destroyed(struct space *s);

/* trap.c */
void leave_kernel_check(void);
bool sigma0_map_device(struct space *s, u64 addr, u64 size);

#endif
