/*
 * Signals.  Each process's actions (rt_sigaction) and mask
 * (rt_sigprocmask) are kept, inherited by fork and reset by execve as on
 * Linux.  A signal that ends a process by default ends it at once (unless
 * it is the caller, which ends when its call does); one with a handler
 * waits in the process's pending set until the process comes back from a
 * system call, or interrupts the call it waits in, and the server then
 * answers with the state that runs the handler on a Linux signal frame
 * (rt_sigreturn undoes it).  A process running in user mode meanwhile
 * gets it at its next system call.  Process 1, as on Linux, is not ended
 * by a default action.
 */
#include "linux.h"

#define SIG_DFL 0
#define SIG_IGN 1
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SIGSTOP 19
#define SIGCHLD 17
#define SIGCONT 18
#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22
#define SIGURG 23
#define SIGWINCH 28
#define SIGSET_SIZE 8
#define UNBLOCKABLE ((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)))

static bool sig_valid(u64 sig) { return sig >= 1 && sig <= LX_NSIG; }

/* The default action: false for the signals it ignores (and the stop
 * signals, which cannot stop anything here). */
static bool ends_by_default(int sig)
{
	switch (sig) {
	case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH:
	case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
		return false;
	}
	return true;
}

static u64 bit(int sig) { return 1ull << (sig - 1); }

/* Whether sig, sent to t, does nothing at all (ignored, by action or by default). */
static bool ignored(struct proc *t, int sig)
{
	u64 h = t->sigact[sig - 1][0];
	return sig != SIGKILL && (h == SIG_IGN || (h == SIG_DFL && !ends_by_default(sig)));
}

s64 sys_rt_sigaction(struct proc *p, u64 sig, u64 act, u64 oact, u64 size)
{
	if (size != SIGSET_SIZE || !sig_valid(sig) || (act && (sig == SIGKILL || sig == SIGSTOP)))
		return -EINVAL;
	u64 new[4];
	if (act && !copy_in(p, new, act, sizeof(new)))
		return -EFAULT;
	if (oact && !copy_out(p, oact, p->sigact[sig - 1], sizeof(new)))
		return -EFAULT;
	if (act) {
		memcpy(p->sigact[sig - 1], new, sizeof(new));
		if (ignored(p, (int)sig))
			p->sigpending &= ~bit((int)sig); /* POSIX: a pending signal now ignored goes */
	}
	return 0;
}

s64 sys_rt_sigprocmask(struct proc *p, u64 how, u64 set, u64 oset, u64 size)
{
	if (size != SIGSET_SIZE || (set && how > SIG_SETMASK))
		return -EINVAL;
	u64 mask = 0, old = p->sigmask;
	if (set && !copy_in(p, &mask, set, 8))
		return -EFAULT;
	if (oset && !copy_out(p, oset, &old, 8))
		return -EFAULT;
	if (set)
		p->sigmask = (how == SIG_BLOCK ? old | mask : how == SIG_UNBLOCK ? old & ~mask : mask) & ~UNBLOCKABLE;
	return 0;
}

/* execve: handlers go back to the default (their code is gone); ignored
 * signals and the mask stay. */
void signal_exec(struct proc *p)
{
	for (int s = 0; s < LX_NSIG; s++)
		if (p->sigact[s][0] != SIG_IGN)
			memset(p->sigact[s], 0, sizeof(p->sigact[s]));
}

#define SA_SIGINFO 0x4
#define SA_RESTORER 0x04000000
#define SA_RESTART 0x10000000
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000
#define SI_USER 0
#define CLD_EXITED 1
#define CLD_KILLED 2


/* The default action that ends a process, now: not for process 1. */
static void end_by(struct proc *t, int sig)
{
	if (t->pid != 1)
		proc_exit(t, sig);
}

/* Sends sig to t (from pid `from`, with code and status for siginfo).
 * Ignored signals go; SIGKILL and a default action that ends ends another
 * process at once; otherwise the signal waits in t->sigpending until t
 * next comes back from a system call (signal_deliver), or at once if t
 * waits in one (wake_blocked interrupts it).  `self`: t is the caller,
 * which the end of its own call ends. */
static void signal_post(struct proc *t, int sig, int from, int code, int status, bool self)
{
	if (t->zombie || ignored(t, sig))
		return;
	if (!self && (sig == SIGKILL || t->sigact[sig - 1][0] == SIG_DFL)) {
		end_by(t, sig);
		return;
	}
	t->sigpending |= bit(sig);
	t->siginfo[sig - 1][0] = (u32)from;
	t->siginfo[sig - 1][1] = (u32)code;
	t->siginfo[sig - 1][2] = (u32)status;
	lx_wake = true;
}

static void signal_send(struct proc *t, int sig, bool self) { signal_post(t, sig, 0, SI_USER, 0, self); }

void signal_child_ended(struct proc *parent, struct proc *child)
{
	int sig = child->wstatus & 0x7f;
	signal_post(parent, SIGCHLD, child->pid, sig ? CLD_KILLED : CLD_EXITED, sig ? sig : (child->wstatus >> 8) & 0xff,
		    false);
}

void signal_self(struct proc *p, int sig) { signal_send(p, sig, true); }

#define SA_NOCLDWAIT 0x2

bool signal_no_zombies(const struct proc *parent)
{
	return parent->sigact[SIGCHLD - 1][0] == SIG_IGN || (parent->sigact[SIGCHLD - 1][1] & SA_NOCLDWAIT);
}

/* ---- delivery ------------------------------------------------------------------------------ */

/* The kernel's signal frame on x86-64: the return address (the
 * restorer), struct ucontext (flags, link, stack, the 256-byte sigcontext,
 * the mask), struct siginfo (128 bytes).  No FPU state: a handler runs only
 * when its process comes back from a system call, where the ABI keeps no
 * vector register alive. */
#define UC_SIZE 304
#define MC_OFF 40 /* uc_mcontext in struct ucontext */
#define MASK_OFF 296
#define INFO_SIZE 128
/* sigcontext order: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags */
static const u8 mc_word[18] = {
	L4_EXC_R8, L4_EXC_R9, L4_EXC_R10, L4_EXC_R11, L4_EXC_R12, L4_EXC_R13, L4_EXC_R14, L4_EXC_R15,
	L4_EXC_RDI, L4_EXC_RSI, L4_EXC_RBP, L4_EXC_RBX, L4_EXC_RDX, L4_EXC_RAX, L4_EXC_RCX, L4_EXC_RSP,
	L4_EXC_RIP, L4_EXC_RFLAGS,
};

/* The frame for sig on p's stack and regs set to run its handler; false
 * if the stack cannot take it. */
static bool build_frame(struct proc *p, int sig, u64 *regs, u64 old_mask)
{
	u64 *act = p->sigact[sig - 1];
	u8 uc[UC_SIZE], info[INFO_SIZE];
	memset(uc, 0, sizeof(uc));
	memset(info, 0, sizeof(info));
	for (unsigned k = 0; k < ARRAY_SIZE(mc_word); k++)
		memcpy(uc + MC_OFF + 8 * k, &regs[mc_word[k]], 8);
	u16 cs = 0x33;
	memcpy(uc + MC_OFF + 144, &cs, 2);
	memcpy(uc + MASK_OFF, &old_mask, 8);
	s32 w[6] = { sig, 0, (s32)p->siginfo[sig - 1][1], 0, (s32)p->siginfo[sig - 1][0], 0 };
	memcpy(info, w, sizeof(w));
	memcpy(info + 24, &p->siginfo[sig - 1][2], 4); /* SIGCHLD: si_status */
	u64 sp = regs[L4_EXC_RSP] - 128; /* below the red zone */
	u64 uc_at = ((sp - INFO_SIZE - UC_SIZE) & ~15ull), frame = uc_at - 8, info_at = uc_at + UC_SIZE;
	u64 restorer = act[1] & SA_RESTORER ? act[2] : 0;
	if (!copy_out(p, info_at, info, sizeof(info)) || !copy_out(p, uc_at, uc, sizeof(uc)) ||
	    !copy_out(p, frame, &restorer, 8))
		return false;
	p->sigmask |= act[3] | (act[1] & SA_NODEFER ? 0 : bit(sig));
	p->sigmask &= ~UNBLOCKABLE;
	regs[L4_EXC_RIP] = act[0];
	regs[L4_EXC_RSP] = frame;
	regs[L4_EXC_RDI] = (u64)sig;
	regs[L4_EXC_RSI] = info_at;
	regs[L4_EXC_RDX] = uc_at;
	regs[L4_EXC_RAX] = 0;
	regs[L4_EXC_RFLAGS] &= ~0x400ull; /* DF clear, as the ABI wants at a call */
	if (act[1] & SA_RESETHAND)
		memset(act, 0, 4 * sizeof(u64));
	regs[0] = 1; /* the whole state */
	return true;
}

bool signal_deliverable(const struct proc *p) { return p->sigpending & ~p->sigmask; }

/* The first pending signal p does not block (there must be one). */
static int first_deliverable(const struct proc *p) { return __builtin_ctzll(p->sigpending & ~p->sigmask) + 1; }

/* The first pending signal p does not block, carried out on the state in
 * regs (p is coming back from a system call): its handler's frame, or its
 * default action.  False if that ended p. */
bool signal_deliver(struct proc *p, u64 *regs)
{
	int sig = first_deliverable(p);
	p->sigpending &= ~bit(sig);
	u64 old_mask = p->in_suspend ? p->suspend_mask : p->sigmask;
	p->in_suspend = false;
	if (ignored(p, sig)) {
		p->sigmask = old_mask; /* no handler to restore it */
		return true;
	}
	if (sig == SIGKILL || p->sigact[sig - 1][0] == SIG_DFL) {
		end_by(p, sig);
		return !p->zombie;
	}
	if (!build_frame(p, sig, regs, old_mask)) {
		proc_exit(p, SIGSEGV); /* as Linux does when the frame cannot be written */
		return false;
	}
	return true;
}

/* A call that waits, interrupted by a signal: -EINTR, or (SA_RESTART, for
 * the calls that may restart) made again after the handler. */
void signal_interrupt(struct proc *p, u64 *regs, bool restartable)
{
	int sig = first_deliverable(p);
	bool restart = restartable && !p->io_done && (p->sigact[sig - 1][1] & SA_RESTART) && p->sigact[sig - 1][0] > SIG_IGN;
	if (restart)
		regs[L4_EXC_RIP] -= 2; /* the syscall instruction again, RAX still its number */
	else
		regs[L4_EXC_RAX] = p->io_done ? p->io_done : (u64)-EINTR;
	p->io_done = 0;
	deadline_clear(p);
}

/* rt_sigreturn: the state the frame at RSP (its ucontext) holds, in
 * regs; 0, or LX_GONE if the frame was bad (the process is ended). */
s64 sys_rt_sigreturn(struct proc *p, u64 *regs)
{
	u8 uc[UC_SIZE];
	if (!copy_in(p, uc, regs[L4_EXC_RSP], sizeof(uc))) {
		proc_exit(p, SIGSEGV);
		return LX_GONE;
	}
	u64 fs = regs[L4_EXC_FS_BASE];
	for (unsigned k = 0; k < ARRAY_SIZE(mc_word); k++)
		memcpy(&regs[mc_word[k]], uc + MC_OFF + 8 * k, 8);
	regs[L4_EXC_FS_BASE] = fs;
	if (regs[L4_EXC_RIP] >= L4_USER_END || regs[L4_EXC_RSP] >= L4_USER_END) {
		proc_exit(p, SIGSEGV);
		return LX_GONE;
	}
	memcpy(&p->sigmask, uc + MASK_OFF, 8);
	p->sigmask &= ~UNBLOCKABLE;
	regs[0] = 1;
	return 0; /* the state (RAX too) is in regs; not RAX here, which a frame could set to LX_GONE */
}

/* rt_sigsuspend (and pause: mask == NULL): the mask replaced until a
 * signal comes; its handler's frame holds the mask from before. */
s64 sys_rt_sigsuspend(struct proc *p, u64 umask, u64 size)
{
	if (!p->in_suspend) {
		u64 mask = p->sigmask;
		if (umask && size != SIGSET_SIZE)
			return -EINVAL;
		if (umask && !copy_in(p, &mask, umask, 8))
			return -EFAULT;
		p->suspend_mask = p->sigmask;
		p->sigmask = mask & ~UNBLOCKABLE;
		p->in_suspend = true;
	}
	return LX_BLOCK; /* ends only by a signal (wake_blocked: -EINTR) */
}

void signal_group(int pgrp, int sig)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i].used && !procs[i].zombie && procs[i].pgid == pgrp)
			signal_send(&procs[i], sig, false);
}

s64 sys_kill(struct proc *p, s64 pid, u64 sig)
{
	if (sig && !sig_valid(sig))
		return -EINVAL;
	s64 r = -ESRCH;
	bool self = false;
	for (int i = 0; i < MAX_PROCS; i++) {
		struct proc *t = &procs[i];
		bool hit = pid > 0 ? t->pid == pid : pid == 0 ? t->pgid == p->pgid : pid == -1 ? t->pid != 1 && t != p : t->pgid == -pid;
		if (!t->used || !hit)
			continue;
		if (t == p && sig) {
			self = true; /* last: the answer goes to a process that may be ended */
			r = r == -ESRCH ? 0 : r;
			continue;
		}
		if (sig)
			signal_post(t, (int)sig, p->pid, SI_USER, 0, false);
		r = 0;
	}
	if (self) /* carried out when this call returns */
		signal_post(p, (int)sig, p->pid, SI_USER, 0, true);
	return r;
}
