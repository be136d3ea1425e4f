/*
 * System-call dispatch.  RAX holds the number; see docs/api.md for each
 * call's registers.  Every argument is checked before anything changes;
 * errors come back as negative enum l4_error values in RAX.
 */
#include "thread.h"
#include "mdb.h"
#include "arch/x86_64/paging.h"

#define ERR(e) ((u64)-(s64)(e))
#define MIN_TIMESLICE_US 100
#define MAX_TIMESLICE_US 10000000

static void sys_ipc(struct frame *f)
{
	l4_tid_t to = f->rdi, from = f->rsi;
	f->rsi = L4_NILTHREAD; /* the sender, once a message arrives */
	STATIC_ASSERT(L4_SYS_IPC == 0, "RAX holds the IPC result 0 already");
	ipc(current, to, from, f->rdx);
}

/* The thread named by tid, if the caller may control it; else sets *err. */
static struct tcb *controlled(l4_tid_t tid, u64 *err)
{
	struct tcb *t = tcb_lookup(tid);
	if (!t)
		*err = ERR(L4_EINVAL_TID);
	else if (!may_control(current, t))
		*err = ERR(L4_ENOPERM);
	else
		return t;
	return NULL;
}

static u64 tc_create(struct frame *f)
{
	struct space *s;
	int err = 0;
	bool new_task = f->rsi == L4_NEWTASK;
	if (f->r8 & ~(u64)L4_TC_ALIEN)
		return ERR(L4_EINVAL);
	if (new_task) {
		s = space_create(current->space->id, false, &err);
		if (!s)
			return ERR(err);
	} else {
		u64 e;
		struct tcb *host = controlled(f->rsi, &e);
		if (!host)
			return e;
		s = host->space;
	}
	struct tcb *t = thread_create(s, f->rdi, f->rdx, current->rq.prio, current->mcp, &err);
	if (!t) {
		if (new_task)
			space_destroy(s);
		return ERR(err);
	}
	if (f->r8 & L4_TC_ALIEN)
		t->flags |= TF_ALIEN;
	t->exc_handler = f->r9;
	f->rdi = t->tid;
	f->rsi = s->id;
	return 0;
}

/* Privileged tasks attach interrupt lines to threads of any task. */
static u64 tc_attach_irq(struct frame *f)
{
	if (!current->space->privileged)
		return ERR(L4_ENOPERM);
	struct tcb *h = NULL;
	if (f->rdx != L4_NILTHREAD && !(h = tcb_lookup(f->rdx)))
		return ERR(L4_EINVAL_TID);
	int e = irq_attach(f->rdi, h);
	return e ? ERR(e) : 0;
}

static u64 sys_thread_control(struct frame *f)
{
	if (f->r10 == L4_TC_CREATE)
		return tc_create(f);
	if (f->r10 == L4_TC_ATTACH_IRQ)
		return tc_attach_irq(f);
	u64 err;
	struct tcb *t = controlled(f->rdi, &err);
	if (!t)
		return err;
	/* sigma0 and the root task are there for good; only they change themselves */
	if (t->space->privileged && t->space != current->space && f->r10 != L4_TC_SET_PAGER)
		return ERR(L4_ENOPERM);
	switch (f->r10) {
	case L4_TC_DELETE:
		if (t == current)
			return ERR(L4_EBUSY);
		thread_delete(t);
		return 0;
	case L4_TC_DELETE_TASK: {
		struct space *s = t->space;
		if (s == current->space)
			return ERR(L4_EBUSY);
		space_delete(s);
		return 0;
	}
	case L4_TC_SET_PAGER:
		t->pager = f->rdx;
		return 0;
	case L4_TC_SET_EXC_HANDLER:
		t->exc_handler = f->rdx;
		return 0;
	case L4_TC_KMEM_LIMIT: {
		u64 used;
		int e = space_set_kmem_limit(current->space, t->space, f->rdx, &used);
		if (e)
			return ERR(e);
		f->rdx = used;
		return 0;
	}
	}
	return ERR(L4_EINVAL);
}

static u32 exreg_state(struct tcb *t)
{
	u32 s = 0;
	if (t->flags & TF_HALTED)
		s |= L4_EXREG_STATE_HALTED;
	if (t->state == TS_SEND)
		s |= L4_EXREG_STATE_SENDING;
	if (t->state == TS_RECV)
		s |= L4_EXREG_STATE_RECEIVING;
	if (t->state == TS_DEAD)
		s |= L4_EXREG_STATE_DEAD;
	if (t->space->privileged)
		s |= L4_EXREG_STATE_PRIVILEGED;
	return s;
}

static u64 sys_exchange_registers(struct frame *f)
{
	u64 err;
	struct tcb *t = controlled(f->rdi, &err);
	if (!t)
		return err;
	u64 ctl = f->rsi;
	if (ctl & ~0x7full)
		return ERR(L4_EINVAL);
	if (((ctl & L4_EXREG_SET_SP) && f->rdx >= L4_USER_END) ||
	    ((ctl & L4_EXREG_SET_IP) && f->r10 >= L4_USER_END))
		return ERR(L4_EINVAL);
	struct frame *tf = TCB_FRAME(t);
	u64 sp = f->rdx, ip = f->r10, flags = f->r8, pager = f->r9;
	f->rsi = exreg_state(t);
	f->rdx = tf->rsp;
	f->r10 = tf->rip;
	f->r8 = tf->rflags;
	f->r9 = t->pager;
	if (ctl & L4_EXREG_SET_SP)
		tf->rsp = sp;
	if (ctl & L4_EXREG_SET_IP)
		tf->rip = ip;
	if (ctl & L4_EXREG_SET_FLAGS)
		tf->rflags = (flags & RFLAGS_USER_MASK) | RFLAGS_IF | 2;
	if (ctl & L4_EXREG_SET_PAGER)
		t->pager = pager;
	if ((ctl & L4_EXREG_CANCEL) && t != current)
		ipc_abort(t, L4_IPC_CANCELLED);
	if (ctl & L4_EXREG_HALT)
		thread_halt(t);
	f->rdi = t->tid;
	if ((ctl & L4_EXREG_RESUME) && t->state != TS_DEAD)
		thread_resume(t);
	return 0;
}

static u64 sys_schedule(struct frame *f)
{
	u64 err;
	struct tcb *t = controlled(f->rdi, &err);
	if (!t)
		return err;
	u64 prio = f->rsi, slice = f->rdx, mcp = f->r10;
	if ((prio != L4_SCHED_KEEP && prio >= L4_PRIO_LEVELS) || (mcp != L4_SCHED_KEEP && mcp >= L4_PRIO_LEVELS))
		return ERR(L4_EINVAL);
	if ((prio != L4_SCHED_KEEP && prio > current->mcp) || (mcp != L4_SCHED_KEEP && mcp > current->mcp))
		return ERR(L4_ENOPERM);
	if (slice != L4_SCHED_KEEP && (slice < MIN_TIMESLICE_US || slice > MAX_TIMESLICE_US))
		return ERR(L4_EINVAL);
	f->rsi = t->rq.prio;
	f->rdx = t->timeslice_us;
	f->r10 = t->mcp;
	if (mcp != L4_SCHED_KEEP)
		t->mcp = (u8)mcp;
	if (slice != L4_SCHED_KEEP)
		t->timeslice_us = t->remaining_us = slice;
	if (prio != L4_SCHED_KEEP)
		sched_set_prio(t, (u8)prio);
	sched_preempt_check();
	return 0;
}

static u64 sys_thread_switch(struct frame *f)
{
	if (f->rdi == L4_NILTHREAD) {
		sched_yield();
		return 0;
	}
	struct tcb *t = tcb_lookup(f->rdi);
	if (!t)
		return ERR(L4_EINVAL_TID);
	if (t->state == TS_READY)
		sched_donate(t);
	else
		sched_yield();
	return 0;
}

static u64 kd_puts(u64 uptr, u64 len)
{
	char buf[128];
	if (len > 65536)
		return ERR(L4_EINVAL);
	while (len) {
		usize n = len < sizeof(buf) ? len : sizeof(buf);
		if (!copy_from_user(current, uptr, buf, n))
			return ERR(L4_EFAULT);
		for (usize i = 0; i < n; i++)
			serial_putc(buf[i]);
		uptr += n;
		len -= n;
	}
	return 0;
}

static u64 sys_unmap(struct frame *f)
{
	l4_fpage_t fp = f->rdi;
	unsigned log2 = L4_FPAGE_LOG2(fp);
	if (L4_IS_IO_FPAGE(fp)) {
		if (f->rsi & ~(u64)L4_UNMAP_SELF)
			return ERR(L4_EINVAL);
		int e = io_unmap(current->space, fp, f->rsi & L4_UNMAP_SELF);
		if (e)
			return ERR(e);
		f->rdi = 0; /* ports have no access bits */
		return 0;
	}
	if (log2 < 12 || log2 > 47 || (f->rsi & ~(u64)L4_UNMAP_SELF))
		return ERR(L4_EINVAL);
	u64 base = L4_FPAGE_BASE(fp) & ~((1ull << log2) - 1);
	if (base >= L4_USER_MAP_END)
		return ERR(L4_EINVAL);
	u64 size = 1ull << log2;
	if (size > L4_USER_MAP_END - base)
		size = L4_USER_MAP_END - base;
	f->rdi = mdb_unmap(current->space, base, size, L4_FPAGE_RIGHTS(fp), f->rsi & L4_UNMAP_SELF);
	return 0;
}

static u64 kd_probe(u64 va)
{
	struct pt_leaf l;
	if (!pt_find(current->space->pml4, va, &l))
		return 0;
	return pt_entry_rights(*l.entry) | (l.order ? L4_KD_PROBE_2M : 0);
}

static u64 sys_kdebug(struct frame *f)
{
	switch (f->rdi) {
	case L4_KD_PUTS:
		return kd_puts(f->rsi, f->rdx);
	case L4_KD_FREE_PAGES:
		return kmem_free_pages();
	case L4_KD_POWEROFF:
		if (!current->space->privileged)
			return ERR(L4_ENOPERM);
		printk("kernel: power off (%llu)\n", f->rsi);
		qemu_exit(QEMU_EXIT_BASE | (f->rsi & 0x3f));
		outw(0x604, 0x2000); /* QEMU PIIX4 ACPI, in case there is no exit device */
		halt_forever();
	case L4_KD_NOP:
		return 0;
	case L4_KD_PROBE:
		return kd_probe(f->rsi);
	}
	return ERR(L4_EINVAL);
}

/* Returns the frame to return to user mode with: f, or after a fast-path
 * IPC the frame of the thread that now runs. */
/* Not an L4 system call: the exception handler's. */
static __attribute__((noinline)) struct frame *alien_syscall(struct frame *f)
{
#if CONFIG_FASTPATH
	struct frame *hf = fastpath_exception(f);
	if (hf)
		return hf;
#endif
	if (!ipc_exception(current, f, L4_EXC_SYSCALL, 0, 0))
		thread_kill(current, "system call of an alien thread, and no handler took it");
	leave_kernel_check();
	return f;
}

struct frame *syscall_dispatch(struct frame *f)
{
	if (unlikely(current->flags & TF_ALIEN))
		return alien_syscall(f);
	switch (f->rax) {
	case L4_SYS_IPC:
		sys_ipc(f);
		break;
	case L4_SYS_THREAD_CONTROL:
		f->rax = sys_thread_control(f);
		space_reap_orphans();
		sched_preempt_check(); /* a deletion may have woken a partner */
		break;
	case L4_SYS_EXCHANGE_REGISTERS:
		f->rax = sys_exchange_registers(f);
		sched_preempt_check(); /* resume or cancel may have readied a thread */
		break;
	case L4_SYS_SCHEDULE:
		f->rax = sys_schedule(f);
		break;
	case L4_SYS_THREAD_SWITCH:
		f->rax = sys_thread_switch(f);
		break;
	case L4_SYS_KDEBUG:
		f->rax = sys_kdebug(f);
		break;
	case L4_SYS_UNMAP:
		f->rax = sys_unmap(f);
		break;
	default:
		f->rax = ERR(L4_ENOSYS);
	}
	leave_kernel_check();
	return f;
}
