/*
 * System-call bindings for L4 programs.  Register use is in docs/api.md:
 * RAX = number; RCX and R11 are clobbered by SYSCALL itself.
 */
#ifndef L4_SYSCALLS_H
#define L4_SYSCALLS_H

#include <l4/abi.h>
#include <l4/kip.h>

/* The eight register message words MR0 (tag) .. MR7. */
struct l4_msg {
	u64 mr[L4_MR_REGS];
};

static inline struct l4_utcb *l4_utcb(void)
{
	struct l4_utcb *u;
	__asm__("mov %%gs:0, %0" : "=r"(u));
	return u;
}

static inline l4_tid_t l4_myself(void)
{
	l4_tid_t t;
	__asm__("mov %%gs:8, %0" : "=r"(t));
	return t;
}

static inline const struct l4_kip *l4_kip(void) { return (const struct l4_kip *)L4_KIP_ADDR; }

/* IPC: send m to `to` (nil: no send phase), then receive from `from` (nil:
 * none, L4_ANYTHREAD: anybody) into m.  Returns the resulting tag (MR0);
 * *sender learns who sent what was received. */
/* A receive-only IPC passes whatever m holds: that is fine. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
static inline u64 l4_ipc(l4_tid_t to, l4_tid_t from, u64 timeouts, struct l4_msg *m, l4_tid_t *sender)
{
	register u64 r10 __asm__("r10") = m->mr[0];
	register u64 r8 __asm__("r8") = m->mr[1];
	register u64 r9 __asm__("r9") = m->mr[2];
	register u64 r12 __asm__("r12") = m->mr[4];
	register u64 r13 __asm__("r13") = m->mr[5];
	register u64 r14 __asm__("r14") = m->mr[6];
	register u64 r15 __asm__("r15") = m->mr[7];
	u64 rbx = m->mr[3], rax = L4_SYS_IPC;
	__asm__ volatile("syscall"
			 : "+r"(r10), "+r"(r8), "+r"(r9), "+b"(rbx), "+r"(r12), "+r"(r13), "+r"(r14),
			   "+r"(r15), "+a"(rax), "+D"(to), "+S"(from), "+d"(timeouts)
			 :
			 : "rcx", "r11", "memory");
	m->mr[0] = r10;
	m->mr[1] = r8;
	m->mr[2] = r9;
	m->mr[3] = rbx;
	m->mr[4] = r12;
	m->mr[5] = r13;
	m->mr[6] = r14;
	m->mr[7] = r15;
	if (sender)
		*sender = from;
	return r10;
}
#pragma GCC diagnostic pop

#define L4_NEVER L4_TIMEOUTS(L4_TIMEOUT_NEVER, L4_TIMEOUT_NEVER)
#define L4_POLL L4_TIMEOUTS(L4_TIMEOUT_ZERO, L4_TIMEOUT_ZERO)

static inline u64 l4_call(l4_tid_t to, struct l4_msg *m)
{
	return l4_ipc(to, to, L4_NEVER, m, NULL);
}
static inline u64 l4_send(l4_tid_t to, struct l4_msg *m)
{
	return l4_ipc(to, L4_NILTHREAD, L4_NEVER, m, NULL);
}
static inline u64 l4_receive(l4_tid_t from, struct l4_msg *m)
{
	return l4_ipc(L4_NILTHREAD, from, L4_NEVER, m, NULL);
}
static inline u64 l4_wait(struct l4_msg *m, l4_tid_t *sender)
{
	return l4_ipc(L4_NILTHREAD, L4_ANYTHREAD, L4_NEVER, m, sender);
}
/* Reply without blocking if the caller is not waiting, then wait for anybody. */
static inline u64 l4_reply_wait(l4_tid_t to, struct l4_msg *m, l4_tid_t *sender)
{
	return l4_ipc(to, L4_ANYTHREAD, L4_TIMEOUTS(L4_TIMEOUT_ZERO, L4_TIMEOUT_NEVER), m, sender);
}
static inline bool l4_ipc_failed(u64 tag) { return tag & L4_TAG_ERROR; }

/* m becomes a message of one map (or grant) item: the sender's fpage fp,
 * placed at sendbase within the receiver's window. */
static inline void l4_map_msg(struct l4_msg *m, u64 sendbase, l4_fpage_t fp, bool grant)
{
	m->mr[0] = L4_TAG_MAKE(0, 0, 2);
	m->mr[1] = (sendbase & ~0xfffull) | (grant ? L4_ITEM_GRANT : L4_ITEM_MAP);
	m->mr[2] = fp;
}

/* A raw system call: all argument registers in, RAX and RDI..R9 out. */
struct l4_regs {
	u64 rax, rdi, rsi, rdx, r10, r8, r9;
};
static inline void l4_syscall(struct l4_regs *r)
{
	register u64 r10 __asm__("r10") = r->r10;
	register u64 r8 __asm__("r8") = r->r8;
	register u64 r9 __asm__("r9") = r->r9;
	__asm__ volatile("syscall"
			 : "+a"(r->rax), "+D"(r->rdi), "+S"(r->rsi), "+d"(r->rdx), "+r"(r10), "+r"(r8),
			   "+r"(r9)
			 :
			 : "rcx", "r11", "memory");
	r->r10 = r10;
	r->r8 = r8;
	r->r9 = r9;
}

/* ThreadControl.  Returns 0 or a negative enum l4_error; *tid gets the new
 * thread, *task its task's ID (as in page-fault messages). */
static inline s64 l4_thread_control(l4_tid_t dest, l4_tid_t space, l4_tid_t pager, enum l4_tc_op op,
				    l4_tid_t *tid, u64 *task)
{
	struct l4_regs r = { L4_SYS_THREAD_CONTROL, dest, space, pager, op, 0, 0 };
	l4_syscall(&r);
	if (tid)
		*tid = r.rdi;
	if (task)
		*task = r.rsi;
	return (s64)r.rax;
}

/* CREATE with flags (L4_TC_ALIEN) and an exception handler. */
static inline s64 l4_create_thread_ex(l4_tid_t space, l4_tid_t pager, u64 flags, l4_tid_t exc_handler, l4_tid_t *tid)
{
	struct l4_regs r = { L4_SYS_THREAD_CONTROL, L4_NILTHREAD, space, pager, L4_TC_CREATE, flags, exc_handler };
	l4_syscall(&r);
	if (tid)
		*tid = r.rdi;
	return (s64)r.rax;
}

static inline s64 l4_create_thread(l4_tid_t same_task_as, l4_tid_t pager, l4_tid_t *tid)
{
	return l4_thread_control(L4_NILTHREAD, same_task_as, pager, L4_TC_CREATE, tid, NULL);
}
static inline s64 l4_create_task(l4_tid_t pager, l4_tid_t *tid, u64 *task)
{
	return l4_thread_control(L4_NILTHREAD, L4_NEWTASK, pager, L4_TC_CREATE, tid, task);
}
static inline s64 l4_delete_thread(l4_tid_t t)
{
	return l4_thread_control(t, 0, 0, L4_TC_DELETE, NULL, NULL);
}
/* Set the kernel-memory limit (pages) of t's task, or with L4_KMEM_QUERY
 * leave it; *used gets the pages that task and those it created use. */
static inline s64 l4_kmem_limit(l4_tid_t t, u64 pages, u64 *used)
{
	struct l4_regs r = { L4_SYS_THREAD_CONTROL, t, 0, pages, L4_TC_KMEM_LIMIT, 0, 0 };
	l4_syscall(&r);
	if (used)
		*used = r.rdx;
	return (s64)r.rax;
}

/* Privileged: attach interrupt line irq (L4_IRQ_TID(n)) to thread handler
 * (nil: detach). */
static inline s64 l4_attach_irq(l4_tid_t irq, l4_tid_t handler)
{
	return l4_thread_control(irq, 0, handler, L4_TC_ATTACH_IRQ, NULL, NULL);
}
static inline s64 l4_delete_task(l4_tid_t any_thread_of_it)
{
	return l4_thread_control(any_thread_of_it, 0, 0, L4_TC_DELETE_TASK, NULL, NULL);
}

struct l4_exreg {
	u64 control, sp, ip, flags;
	l4_tid_t pager;
	u64 state; /* out */
};
/* ExchangeRegisters: applies what control selects, returns the old values
 * in *x (and the state bits in x->state). */
static inline s64 l4_exchange_registers(l4_tid_t dest, struct l4_exreg *x)
{
	struct l4_regs r = { L4_SYS_EXCHANGE_REGISTERS, dest, x->control, x->sp, x->ip, x->flags, x->pager };
	l4_syscall(&r);
	if ((s64)r.rax == 0) {
		x->state = r.rsi;
		x->sp = r.rdx;
		x->ip = r.r10;
		x->flags = r.r8;
		x->pager = r.r9;
	}
	return (s64)r.rax;
}

/* Start a halted thread at ip with stack sp. */
static inline s64 l4_start_thread(l4_tid_t t, u64 ip, u64 sp)
{
	struct l4_exreg x = { L4_EXREG_SET_IP | L4_EXREG_SET_SP | L4_EXREG_RESUME, sp, ip, 0, 0, 0 };
	return l4_exchange_registers(t, &x);
}

static inline s64 l4_schedule_mcp(l4_tid_t dest, u64 prio, u64 timeslice_us, u64 mcp, u64 *old_prio,
				  u64 *old_slice, u64 *old_mcp)
{
	struct l4_regs r = { L4_SYS_SCHEDULE, dest, prio, timeslice_us, mcp, 0, 0 };
	l4_syscall(&r);
	if (old_prio)
		*old_prio = r.rsi;
	if (old_slice)
		*old_slice = r.rdx;
	if (old_mcp)
		*old_mcp = r.r10;
	return (s64)r.rax;
}

static inline s64 l4_schedule(l4_tid_t dest, u64 prio, u64 timeslice_us, u64 *old_prio, u64 *old_slice)
{
	struct l4_regs r = { L4_SYS_SCHEDULE, dest, prio, timeslice_us, L4_SCHED_KEEP, 0, 0 };
	l4_syscall(&r);
	if (old_prio)
		*old_prio = r.rsi;
	if (old_slice)
		*old_slice = r.rdx;
	return (s64)r.rax;
}

static inline s64 l4_thread_switch(l4_tid_t dest)
{
	struct l4_regs r = { L4_SYS_THREAD_SWITCH, dest, 0, 0, 0, 0, 0 };
	l4_syscall(&r);
	return (s64)r.rax;
}
static inline s64 l4_yield(void) { return l4_thread_switch(L4_NILTHREAD); }

/* Unmap: returns the access state (L4_UNMAP_REFERENCED/DIRTY) or a
 * negative enum l4_error. */
static inline s64 l4_unmap(l4_fpage_t fp, unsigned flags)
{
	struct l4_regs r = { L4_SYS_UNMAP, fp, flags, 0, 0, 0, 0 };
	l4_syscall(&r);
	return (s64)r.rax < 0 ? (s64)r.rax : (s64)r.rdi;
}

static inline s64 l4_kdebug(enum l4_kdebug_op op, u64 a, u64 b)
{
	struct l4_regs r = { L4_SYS_KDEBUG, op, a, b, 0, 0, 0 };
	l4_syscall(&r);
	return (s64)r.rax;
}

#endif
