/*
 * Signals, as far as they go before [L2] delivers them: each process's
 * actions (rt_sigaction) and mask (rt_sigprocmask) are kept, inherited by
 * fork and reset by execve as on Linux, and kill carries out what needs no
 * handler: SIGKILL, and every signal whose action is the default one,
 * which ends the process for most signals and ignores the rest.  A signal
 * for which the process has a handler cannot be delivered yet: kill then
 * returns -ENOSYS.  Process 1, as on Linux, ends only by a handler.
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

s64 sys_rt_sigaction(struct proc *p, u64 sig, u64 act, u64 oact, u64 size)
{
	if (size != SIGSET_SIZE || !sig_valid(sig) || (act && (sig == SIGKILL || sig == SIGSTOP)))
		return -EINVAL;
	u64 new[4];
	if (act && !copy_in(p, new, act, sizeof(new)))
		return -EFAULT;
	if (oact && !copy_out(p, oact, p->sigact[sig - 1], sizeof(new)))
		return -EFAULT;
	if (act)
		memcpy(p->sigact[sig - 1], new, sizeof(new));
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

/* Sends sig to t: 0 if done (or ignored), -ENOSYS if t has a handler for it. */
static s64 signal_send(struct proc *t, int sig)
{
	u64 h = t->sigact[sig - 1][0];
	if (t->zombie || (sig != SIGKILL && (h == SIG_IGN || (h == SIG_DFL && !ends_by_default(sig)))))
		return 0;
	if (sig != SIGKILL && h != SIG_DFL)
		return -ENOSYS; /* a handler: [L2] delivers signals */
	if (t->pid == 1)
		return 0; /* init is not ended by a default action, as on Linux */
	proc_exit(t, sig);
	return 0;
}

void signal_group(int pgrp, int sig)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i].used && !procs[i].zombie && procs[i].pgid == pgrp)
			signal_send(&procs[i], sig);
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
		s64 e = sig ? signal_send(t, (int)sig) : 0;
		r = r == -ESRCH || e < 0 ? e : r;
	}
	if (self) {
		s64 e = signal_send(p, (int)sig);
		if (!p->used || p->zombie)
			return LX_GONE;
		r = e < 0 ? e : r;
	}
	return r;
}
