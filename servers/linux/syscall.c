/*
 * System calls.  An alien thread's `syscall` reaches the server as an
 * exception message with the registers as the instruction left them:
 * number in RAX, arguments in RDI, RSI, RDX, R10, R8, R9.  The answer is
 * RAX (a short reply) or, where the call changes more (the FS base), the
 * whole state.  The calls not in this table go to fs.c's (fs_syscall).
 * Unknown calls return -ENOSYS and are logged once each.
 */
#include "linux.h"

#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_munmap 11
#define SYS_brk 12
#define SYS_rt_sigaction 13
#define SYS_rt_sigprocmask 14
#define SYS_rt_sigreturn 15
#define SYS_select 23
#define SYS_pause 34
#define SYS_rt_sigpending 127
#define SYS_rt_sigsuspend 130
#define SYS_pselect6 270
#define SYS_ppoll 271
#define SYS_poll 7
#define SYS_sched_yield 24
#define SYS_madvise 28
#define SYS_nanosleep 35
#define SYS_getpid 39
#define SYS_clone 56
#define SYS_fork 57
#define SYS_vfork 58
#define SYS_execve 59
#define SYS_exit 60
#define SYS_wait4 61
#define SYS_kill 62
#define SYS_tkill 200
#define SYS_tgkill 234
#define SYS_getrlimit 97
#define SYS_setrlimit 160
#define SYS_uname 63
#define SYS_gettimeofday 96
#define SYS_sysinfo 99
#define SYS_getuid 102
#define SYS_getgid 104
#define SYS_geteuid 107
#define SYS_getegid 108
#define SYS_setpgid 109
#define SYS_getppid 110
#define SYS_getpgrp 111
#define SYS_setsid 112
#define SYS_getpgid 121
#define SYS_getsid 124
#define SYS_prctl 157
#define SYS_arch_prctl 158
#define SYS_gettid 186
#define SYS_time 201
#define SYS_futex 202
#define SYS_set_tid_address 218
#define SYS_clock_gettime 228
#define SYS_clock_nanosleep 230
#define SYS_exit_group 231
#define SYS_set_robust_list 273
#define SYS_prlimit64 302
#define SYS_getrandom 318
#define SYS_rseq 334

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

/* ---- identity, time, randomness ------------------------------------------------ */

static s64 sys_uname(struct proc *p, u64 buf)
{
	static const char *const fields[6] = { "Linux", "l4linux", "6.1.0-l4", "#1 L4 personality", "x86_64", "(none)" };
	char u[6 * 65];
	memset(u, 0, sizeof(u));
	for (int i = 0; i < 6; i++)
		memcpy(u + 65 * i, fields[i], strlen(fields[i]));
	return copy_out(p, buf, u, sizeof(u)) ? 0 : -EFAULT;
}

u64 now_ns(void)
{
	u64 hz = l4_kip()->tsc_hz, t = l4_rdtsc();
	return t / hz * 1000000000ull + t % hz * 1000000000ull / hz;
}

static s64 sys_clock_gettime(struct proc *p, u64 clock, u64 ts)
{
	if (clock > 11)
		return -EINVAL;
	u64 ns = now_ns(), v[2] = { ns / 1000000000ull, ns % 1000000000ull };
	return copy_out(p, ts, v, sizeof(v)) ? 0 : -EFAULT;
}

static s64 sys_gettimeofday(struct proc *p, u64 tv)
{
	u64 ns = now_ns(), v[2] = { ns / 1000000000ull, ns % 1000000000ull / 1000 };
	return !tv || copy_out(p, tv, v, sizeof(v)) ? 0 : -EFAULT;
}

#define TIMER_ABSTIME 1

unsigned sleepers;

/* The deadline of a call that waits (sleeping, poll, select): set from the
 * relative timeout ns (LX_NO_TIMEOUT or more: none) on its first try, kept
 * while it is tried again; the server's loop wakes it with a receive
 * timeout (sleep_timeouts).  True once it has passed. */
bool deadline_passed(struct proc *p, u64 ns)
{
	if (!p->deadline_set) {
		p->deadline_set = true;
		if (ns < (u64)LX_NO_TIMEOUT) {
			p->wake_at = now_ns() + (ns ? ns : 1);
			sleepers++;
		}
	}
	return p->wake_at && now_ns() >= p->wake_at;
}

/* The call is done: no deadline any more. */
void deadline_clear(struct proc *p)
{
	if (p->wake_at)
		sleepers--;
	p->wake_at = 0;
	p->deadline_set = false;
}

/* A struct timespec's nanoseconds (a very long time: LX_NO_TIMEOUT); -EINVAL if bad. */
s64 timespec_ns(const u64 v[2])
{
	if (v[1] >= 1000000000ull || (s64)v[0] < 0)
		return -EINVAL;
	return v[0] >= 1000000000ull ? LX_NO_TIMEOUT : (s64)(v[0] * 1000000000ull + v[1]);
}

static s64 sys_nanosleep(struct proc *p, u64 clock, u64 flags, u64 req)
{
	u64 v[2];
	if (clock > 11 || flags & ~(u64)TIMER_ABSTIME)
		return -EINVAL;
	if (!copy_in(p, v, req, sizeof(v)))
		return -EFAULT;
	s64 ns = timespec_ns(v);
	if (ns < 0)
		return ns;
	if (flags & TIMER_ABSTIME) { /* every clock counts from boot */
		u64 now = now_ns();
		ns = (u64)ns > now ? ns - (s64)now : 0;
	}
	if (!ns || deadline_passed(p, (u64)ns)) {
		deadline_clear(p);
		return 0;
	}
	return LX_BLOCK;
}

/* The earliest deadline of a waiting call (~0: none; proc_exit clears a
 * zombie's). */
static u64 first_deadline(void)
{
	u64 first = ~0ull;
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i].used && procs[i].wake_at && procs[i].wake_at < first)
			first = procs[i].wake_at;
	return first;
}

bool deadline_due(void) { return first_deadline() <= now_ns(); }

u64 sleep_timeouts(void)
{
	u64 first = first_deadline(), now = now_ns();
	u64 us = first > now ? (first - now) / 1000 + 1 : 1;
	return L4_TIMEOUTS(L4_TIMEOUT_ZERO, us < 0xfffffffeull ? (u32)us : 0xfffffffeu);
}

static u64 rnd_state = 0x853c49e6748fea9bull;

void lx_random(void *buf, u64 len)
{
	u8 *b = buf;
	rnd_state ^= l4_rdtsc();
	for (u64 i = 0; i < len; i++) {
		rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
		b[i] = (u8)(rnd_state >> 33);
	}
}

static s64 sys_getrandom(struct proc *p, u64 buf, u64 len)
{
	u8 chunk[256];
	u64 done = 0;
	while (done < len) {
		u64 n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		lx_random(chunk, n);
		if (!copy_out(p, buf + done, chunk, n))
			return done ? (s64)done : -EFAULT;
		done += n;
	}
	return (s64)done;
}

#define RLIMIT_STACK 3
#define RLIMIT_NOFILE 7
#define RLIMIT_AS 9

/* RLIMIT_AS is kept and enforced (mmap, brk); the others are reported
 * (stack 8 MiB, 64 files, the rest unlimited) and new values accepted
 * without effect. */
static s64 sys_prlimit64(struct proc *p, u64 pid, u64 resource, u64 new_limit, u64 old_limit)
{
	struct proc *t = pid ? proc_by_pid((int)pid) : p;
	if (!t || t->zombie)
		return -ESRCH;
	if (resource > 15)
		return -EINVAL;
	u64 v[2] = { ~0ull, ~0ull }, n[2];
	if (resource == RLIMIT_STACK)
		v[0] = v[1] = 8ull << 20;
	if (resource == RLIMIT_NOFILE)
		v[0] = v[1] = MAX_FDS;
	if (resource == RLIMIT_AS)
		memcpy(v, t->as_limit, sizeof(v));
	if (new_limit && !copy_in(p, n, new_limit, sizeof(n)))
		return -EFAULT;
	if (new_limit && n[0] > n[1])
		return -EINVAL;
	if (old_limit && !copy_out(p, old_limit, v, sizeof(v)))
		return -EFAULT;
	if (new_limit && resource == RLIMIT_AS)
		memcpy(t->as_limit, n, sizeof(n));
	return 0;
}

/* struct sysinfo (112 bytes on x86-64): uptime, loads, then RAM and swap
 * in bytes (mem_unit 1), the number of processes. */
static s64 sys_sysinfo(struct proc *p, u64 buf)
{
	u8 si[112];
	memset(si, 0, sizeof(si));
	u64 uptime = now_ns() / 1000000000ull, total = ram_bytes(), used = pages_in_use() * LX_PAGE;
	u64 free = total > used ? total - used : 0;
	u16 nprocs = 0;
	for (int i = 0; i < MAX_PROCS; i++)
		nprocs += procs[i].used;
	u32 unit = 1;
	memcpy(si + 0, &uptime, 8);
	memcpy(si + 32, &total, 8);
	memcpy(si + 40, &free, 8);
	memcpy(si + 80, &nprocs, 2);
	memcpy(si + 104, &unit, 4);
	return copy_out(p, buf, si, sizeof(si)) ? 0 : -EFAULT;
}

/* ---- process groups and sessions ---------------------------------------------------------- */

static s64 sys_setpgid(struct proc *p, s64 pid, s64 pgid)
{
	struct proc *t = pid ? proc_by_pid((int)pid) : p;
	if (pgid < 0)
		return -EINVAL;
	if (!t || t->zombie || (t != p && t->ppid != p->pid))
		return -ESRCH;
	if (t != p && t->execed)
		return -EACCES;
	if (t->pid == t->sid || t->sid != p->sid)
		return -EPERM; /* a session leader, or a child in another session */
	pgid = pgid ? pgid : t->pid;
	bool group = pgid == t->pid;
	for (int i = 0; i < MAX_PROCS && !group; i++)
		group = procs[i].used && !procs[i].zombie && procs[i].pgid == pgid && procs[i].sid == p->sid;
	if (!group)
		return -EPERM; /* no such group in the session */
	t->pgid = (int)pgid;
	return 0;
}

static s64 sys_setsid(struct proc *p)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i].used && procs[i].pgid == p->pid)
			return -EPERM; /* already a group leader */
	p->pgid = p->sid = p->pid;
	return p->pid;
}

/* getpgid (sid: getsid) of pid, 0 for the caller. */
static s64 sys_getpgid(struct proc *p, s64 pid, bool sid)
{
	struct proc *t = pid ? proc_by_pid((int)pid) : p;
	if (!t || pid < 0)
		return -ESRCH;
	return sid ? t->sid : t->pgid;
}


/* ---- the table ----------------------------------------------------------------------- */

static void log_unknown(struct proc *p, u64 nr)
{
	static u8 logged[512];
	if (nr < sizeof(logged) && logged[nr])
		return;
	if (nr < sizeof(logged))
		logged[nr] = 1;
	printf("linux: pid %d (%s): system call %llu not implemented: ENOSYS\n", p->pid, p->exe, nr);
}

/* Returns the result; *full if the whole state in regs is to be set. */
static s64 dispatch(struct proc *p, u64 *regs, bool *full)
{
	u64 nr = regs[L4_EXC_RAX], a0 = regs[L4_EXC_RDI], a1 = regs[L4_EXC_RSI], a2 = regs[L4_EXC_RDX];
	u64 a3 = regs[L4_EXC_R10], a4 = regs[L4_EXC_R8], a5 = regs[L4_EXC_R9];
	switch (nr) {
	case SYS_brk: return p->shares_vm ? (s64)p->brk : sys_brk(p, a0);
	case SYS_mmap: return p->shares_vm ? -ENOMEM : sys_mmap(p, a0, a1, a2, a3, a4, a5);
	case SYS_munmap: return p->shares_vm ? -ENOMEM : sys_munmap(p, a0, a1);
	case SYS_mprotect: return p->shares_vm ? -ENOMEM : sys_mprotect(p, a0, a1, a2);
	case SYS_madvise: return 0;
	case SYS_arch_prctl:
		if (a0 == ARCH_SET_FS) {
			if (a1 >= L4_USER_END)
				return -EPERM;
			p->fs_base = regs[L4_EXC_FS_BASE] = a1;
			*full = true;
			return 0;
		}
		if (a0 == ARCH_GET_FS)
			return copy_out(p, a1, &p->fs_base, 8) ? 0 : -EFAULT;
		return -EINVAL;
	case SYS_set_tid_address:
		p->tid_address = a0;
		return p->pid;
	case SYS_set_robust_list: return 0;
	case SYS_prctl: return a0 == 15 /* PR_SET_NAME */ ? 0 : -EINVAL;
	case SYS_rseq: return -ENOSYS;
	case SYS_rt_sigaction: return sys_rt_sigaction(p, a0, a1, a2, a3);
	case SYS_rt_sigprocmask: return sys_rt_sigprocmask(p, a0, a1, a2, a3);
	case SYS_rt_sigsuspend: return sys_rt_sigsuspend(p, a0, a1);
	case SYS_rt_sigpending:
		if (a1 > 8)
			return -EINVAL;
		return copy_out(p, a0, &p->sigpending, a1) ? 0 : -EFAULT;
	case SYS_pause: return sys_rt_sigsuspend(p, 0, 0);
	case SYS_uname: return sys_uname(p, a0);
	case SYS_getpid:
	case SYS_gettid: return p->pid;
	case SYS_getppid: return p->ppid;
	case SYS_clone: return sys_clone(p, regs, a0, a1, a2, a3, a4);
	case SYS_fork: return sys_clone(p, regs, 17 /* SIGCHLD */, 0, 0, 0, 0);
	case SYS_vfork: return sys_clone(p, regs, 0x4000 | 0x100 | 17 /* CLONE_VFORK | CLONE_VM | SIGCHLD */, 0, 0, 0, 0);
	case SYS_execve: return sys_execve(p, a0, a1, a2);
	case SYS_wait4: return sys_wait4(p, (int)a0, a1, a2, a3);
	case SYS_kill: return sys_kill(p, (int)a0, a1);
	case SYS_tkill: return (int)a0 <= 0 ? -EINVAL : sys_kill(p, (int)a0, a1); /* a thread is a process here */
	case SYS_tgkill: return (int)a0 <= 0 || (int)a1 <= 0 ? -EINVAL : a0 != a1 ? -ESRCH : sys_kill(p, (int)a1, a2);
	case SYS_setpgid: return sys_setpgid(p, (int)a0, (int)a1);
	case SYS_getpgrp: return p->pgid;
	case SYS_getpgid: return sys_getpgid(p, (int)a0, false);
	case SYS_getsid: return sys_getpgid(p, (int)a0, true);
	case SYS_setsid: return sys_setsid(p);
	case SYS_getuid:
	case SYS_getgid:
	case SYS_geteuid:
	case SYS_getegid: return 0;
	case SYS_clock_gettime: return sys_clock_gettime(p, a0, a1);
	case SYS_gettimeofday: return sys_gettimeofday(p, a0);
	case SYS_time: {
		s64 t = (s64)(now_ns() / 1000000000ull);
		return !a0 || copy_out(p, a0, &t, 8) ? t : -EFAULT;
	}
	case SYS_nanosleep: return sys_nanosleep(p, 0, 0, a0);
	case SYS_clock_nanosleep: return sys_nanosleep(p, a0, a1, a2);
	case SYS_sched_yield: return 0;
	case SYS_getrandom: return sys_getrandom(p, a0, a1);
	case SYS_prlimit64: return sys_prlimit64(p, a0, a1, a2, a3);
	case SYS_getrlimit: return sys_prlimit64(p, 0, a0, 0, a1);
	case SYS_setrlimit: return sys_prlimit64(p, 0, a0, a1, 0);
	case SYS_sysinfo: return sys_sysinfo(p, a0);
	case SYS_futex: return -ENOSYS;
	}
	const u64 args[6] = { a0, a1, a2, a3, a4, a5 };
	s64 r;
	if (fs_syscall(p, nr, args, &r))
		return r; /* files: fs.c */
	log_unknown(p, nr);
	return -ENOSYS;
}

enum lx_result linux_syscall(struct proc *p, u64 *regs)
{
	u64 nr = regs[L4_EXC_RAX];
	if (nr == SYS_exit || nr == SYS_exit_group) {
		proc_exit(p, (int)(regs[L4_EXC_RDI] & 0xff) << 8);
		return LX_ENDED;
	}
	if (nr == SYS_rt_sigreturn) {
		if (sys_rt_sigreturn(p, regs) == LX_GONE)
			return LX_ENDED;
	} else {
		bool full = false;
		/* a vfork parent's call is done when its child is (it is tried again then) */
		s64 r = p->vfork_child ? vfork_done(p) : dispatch(p, regs, &full);
		if (r <= LX_BLOCK) { /* LX_BLOCK or LX_GONE: one test on the way of every call */
			if (r == LX_GONE)
				return LX_ENDED;
			if (regs != p->saved)
				memcpy(p->saved, regs, sizeof(p->saved));
			p->blocked = true;
			if (signal_deliverable(p) && !p->vfork_child)
				lx_wake = true; /* interrupted at once (rt_sigsuspend with one pending) */
			return LX_WAITS;
		}
		regs[L4_EXC_RAX] = (u64)r;
		regs[0] = full;
	}
	if (p->sigpending & ~p->sigmask && !signal_deliver(p, regs))
		return LX_ENDED; /* a signal on the way back: its handler, or its default action */
	return LX_REPLY;
}

/* After a handler with SA_RESTART, the call is made again: not for the
 * calls that wait for time or for a signal, as on Linux. */
bool syscall_restartable(u64 nr)
{
	switch (nr) {
	case SYS_nanosleep: case SYS_clock_nanosleep: case SYS_poll: case SYS_ppoll: case SYS_select:
	case SYS_pselect6: case SYS_rt_sigsuspend: case SYS_pause:
		return false;
	}
	return true;
}
