/*
 * The Linux server: a Linux-compatible kernel as one L4 task.  Every Linux
 * process is an L4 task of its own whose thread is an alien thread: its
 * system calls arrive here as exception messages, its page faults as
 * page-fault messages, and this server answers both (docs/linux-server.md).
 */
#ifndef LINUX_H
#define LINUX_H

#include <l4/runtime.h>
#include <l4/console.h>
#include "../../lib/common/string.h"

/* ---- Linux ABI: errno values and limits ------------------------------- */
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define ECHILD 10
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EXDEV 18
#define ENODEV 19
#define ENOTDIR 20
#define EISDIR 21
#define EINVAL 22
#define EMFILE 24
#define ENFILE 23
#define ENOTTY 25
#define EFBIG 27
#define ENOSPC 28
#define ESPIPE 29
#define EPIPE 32
#define ERANGE 34
#define ENAMETOOLONG 36
#define ENOSYS 38
#define ENOTEMPTY 39
#define ELOOP 40
#define EOPNOTSUPP 95

#define SIGILL 4
#define SIGFPE 8
#define SIGKILL 9
#define SIGSEGV 11
#define LX_NSIG 64

#define LX_PAGE 4096ull
#define LX_PROT_READ 1
#define LX_PROT_WRITE 2
#define LX_PROT_EXEC 4

/* ---- the server's own memory: pages from sigma0, one-to-one -------------- */
u64 page_alloc(void); /* a zeroed page (its address is its physical one), or 0 */
void page_free(u64 page);
u64 pages_in_use(void);
u64 ram_bytes(void); /* all RAM the KIP describes as free at boot */

/* ---- processes -------------------------------------------------------------- */
#define MAX_PROCS 64
#define MAX_VMAS 32
#define MAX_FDS 64

enum vma_kind { VMA_ANON, VMA_FILE };

/* A region of a process's address space: anonymous memory, or the part of
 * a loaded file (an ELF segment) that lies over it, zero beyond. */
struct vma {
	u64 start, end;
	unsigned prot;      /* LX_PROT_* */
	enum vma_kind kind;
	const u8 *file;     /* VMA_FILE: the bytes that start at `start` */
	u64 file_size;      /* ... how many of them there are */
};

struct file;  /* an open file description (vfs.h) */
struct inode; /* a file (vfs.h) */

struct proc {
	bool used;
	bool zombie;         /* exited, its status not yet taken by wait4 */
	int wstatus;         /* a zombie's status, as wait4 gives it */
	int pid, ppid, pgid, sid;
	/* A call that must wait (LX_BLOCK) keeps its registers here and is
	 * tried again when something changes (lx_wake); the first exception
	 * of a forked child (fork_start) is answered with them. */
	bool blocked, fork_start;
	u64 saved[L4_EXC_WORDS + 1]; /* [0]: whether the reply sets the whole state */
	int vfork_child;     /* the child a vfork parent waits for */
	u64 io_done;         /* bytes a waiting pipe write has written already */
	bool execed;         /* has called execve (setpgid by the parent: EACCES) */
	bool shares_vm;      /* a vfork child: pt is its parent's (which waits meanwhile) */
	u64 wake_at;         /* the deadline of a waiting call (now_ns), 0 for none */
	bool deadline_set;   /* ... which it has got (deadline_passed) */
	u64 sigact[LX_NSIG][4]; /* signal actions (handler, flags, restorer, mask) (signal.c) */
	u64 sigmask;         /* blocked signals */
	u64 sigpending;      /* signals waiting for delivery to a handler */
	u32 siginfo[LX_NSIG][3]; /* ... their sender, si_code and status */
	u64 suspend_mask;    /* the mask before rt_sigsuspend */
	bool in_suspend;
	u64 as_limit[2];     /* RLIMIT_AS, soft and hard (bytes of areas; ~0: none) */
	bool in_vfork;       /* a vfork child that has not yet called execve or exited */
	l4_tid_t tid;        /* its (alien) thread: faults and system calls come from it */
	u64 *pt;             /* logical page table: va -> page here (mm.c) */
	struct vma vma[MAX_VMAS];
	unsigned nvma;
	u64 brk_start, brk, mmap_top;
	u64 fs_base;
	u64 tid_address;
	struct file *fd[MAX_FDS]; /* open files (fs.c) */
	u8 fd_cloexec[MAX_FDS];   /* FD_CLOEXEC of each fd */
	struct inode *cwd;        /* working directory (holds a reference) */
	u32 umask;
	char exe[64];
	char comm[16];       /* the name execve was given, its last component (cut at 15) */
	char cmdline[256];   /* argv, NUL after each (cut at 256 bytes): /proc/PID/cmdline */
	u32 cmdline_len;
};

/* Arguments and environment of a new program: argv's argc strings, then envp's envc. */
#define LX_MAX_ARGS 1024
struct lx_args {
	int argc, envc;
	const char *str[LX_MAX_ARGS];
};

extern struct proc procs[MAX_PROCS];
struct proc *proc_by_thread(l4_tid_t t);
struct proc *proc_by_pid(int pid); /* live or zombie */
struct proc *proc_start(const u8 *image, u64 size, const char *name, const struct lx_args *a);
/* The end of a process, with wait4's status: exit code << 8, or the signal. */
void proc_exit(struct proc *p, int wstatus);
extern bool init_ended; /* pid 1 has exited: so does the server */
extern int init_status; /* pid 1's exit code, or 128 + the signal that ended it */

/* System-call results that are no errno: the call waits (it is tried again
 * when lx_wake is set), or the calling thread is gone (no reply: the
 * process ended, or execve gave it a new task). */
#define LX_BLOCK (-100000)
#define LX_GONE (-100001)
extern bool lx_wake;
s64 sys_clone(struct proc *p, const u64 *regs, u64 flags, u64 newsp, u64 parent_tid, u64 child_tid, u64 tls);
s64 vfork_done(struct proc *p);
s64 sys_wait4(struct proc *p, s64 pid, u64 ustatus, u64 options, u64 rusage);
s64 sys_execve(struct proc *p, u64 upath, u64 uargv, u64 uenvp);

/* ---- memory of a process (mm.c) ---------------------------------------------- */
struct vma *vma_find(struct proc *p, u64 va);
struct vma *vma_add(struct proc *p, u64 start, u64 end, unsigned prot, enum vma_kind kind, const u8 *file,
		    u64 file_size);
bool vma_remove(struct proc *p, u64 start, u64 end); /* false (nothing done): no room to cut a hole */
/* The page here behind va (faulted in if the area allows), or 0. */
u64 mm_page(struct proc *p, u64 va, bool write);
/* A page fault: fills *m with the reply; false if the access is not allowed. */
bool mm_fault(struct proc *p, u64 va, unsigned access, struct l4_msg *m);
/* All of a process's memory goes back to the server.  task_gone: its task
 * has been deleted, so no page needs to be unmapped from it (each Unmap is
 * a system call). */
void mm_release(struct proc *p, bool task_gone);
/* fork: the child's areas and a copy of the parent's pages, or (share)
 * the parent's page table itself; false when out of memory. */
bool mm_fork(struct proc *parent, struct proc *child, bool share);
/* Copy between the process's memory and ours; false on a bad address. */
bool copy_in(struct proc *p, void *dst, u64 src, u64 len);
bool copy_out(struct proc *p, u64 dst, const void *src, u64 len);
/* A NUL-terminated string of at most max bytes; its length, or -EFAULT / -ENAMETOOLONG. */
s64 strncpy_in(struct proc *p, char *dst, u64 src, u64 max);

/* ---- signals (signal.c) ----------------------------------------------------------- */
s64 sys_rt_sigaction(struct proc *p, u64 sig, u64 act, u64 oact, u64 size);
s64 sys_rt_sigprocmask(struct proc *p, u64 how, u64 set, u64 oset, u64 size);
s64 sys_kill(struct proc *p, s64 pid, u64 sig); /* LX_GONE if it ended the caller */
void signal_exec(struct proc *p);
void signal_group(int pgrp, int sig); /* the terminal's VINTR, VQUIT */
void signal_self(struct proc *p, int sig); /* SIGPIPE: carried out when the call returns */
void signal_child_ended(struct proc *parent, struct proc *child); /* SIGCHLD */
bool signal_no_zombies(const struct proc *parent); /* SIGCHLD ignored or SA_NOCLDWAIT */
bool deadline_due(void); /* a waiting call's deadline has passed */
bool signal_deliverable(const struct proc *p);
bool signal_deliver(struct proc *p, u64 *regs); /* false if it ended p */
void signal_interrupt(struct proc *p, u64 *regs, bool restartable);
s64 sys_rt_sigreturn(struct proc *p, u64 *regs);
s64 sys_rt_sigsuspend(struct proc *p, u64 umask, u64 size);
bool syscall_restartable(u64 nr);

/* ---- system calls (syscall.c) ------------------------------------------------- */
/* regs: the exception message's words (enum l4_exc_word).  LX_REPLY: regs
 * hold the process's new state (regs[0]: all of it, else RAX); LX_WAITS:
 * the call waits, its words kept in p->saved; LX_ENDED: the process is gone. */
enum lx_result { LX_REPLY, LX_WAITS, LX_ENDED };
enum lx_result linux_syscall(struct proc *p, u64 *regs);
s64 sys_brk(struct proc *p, u64 addr);
s64 sys_mmap(struct proc *p, u64 addr, u64 len, u64 prot, u64 flags, u64 fd, u64 off);
s64 sys_munmap(struct proc *p, u64 addr, u64 len);
s64 sys_mprotect(struct proc *p, u64 addr, u64 len, u64 prot);
u64 now_ns(void);                    /* the clock: nanoseconds since boot */
extern unsigned sleepers;            /* waiting calls with a deadline */
u64 sleep_timeouts(void);            /* the server's IPC timeouts until the first deadline */
#define LX_NO_TIMEOUT ((s64)(~0ull >> 2)) /* ns: no deadline (more than 30 years) */
bool deadline_passed(struct proc *p, u64 ns);
void deadline_clear(struct proc *p);
s64 timespec_ns(const u64 v[2]);
void lx_random(void *buf, u64 len);  /* getrandom's and /dev/urandom's bytes */

/* ---- files (vfs.c, initramfs.c, procfs.c, fs.c; docs/linux-server.md) -------- */
/* The tree: empty, or unpacked from a newc cpio archive (may be NULL);
 * then /dev, /proc and /tmp.  False if the archive is bad. */
bool fs_init(const u8 *initramfs, u64 size);
/* A new process: fds 0, 1, 2 on /dev/console, working directory /, umask 022. */
void fs_proc_start(struct proc *p);
/* fork: the child shares the parent's open files, working directory and umask. */
void fs_fork(struct proc *parent, struct proc *child);
/* execve: the fds marked close-on-exec are closed. */
void fs_exec(struct proc *p);
/* exit: all fds closed, the working directory let go. */
void fs_proc_exit(struct proc *p);
/* execve's file: upath (copied into path; 0: path holds it already),
 * a regular file we may execute; its absolute path goes to path
 * (PATH_MAX bytes).  0 or -errno. */
s64 fs_exec_open(struct proc *p, u64 upath, char *path, struct inode **ino);
/* The console as a terminal (tty.c).  The console reader thread: started
 * once; its messages (label LX_LABEL_CONSOLE_INPUT) go to console_input,
 * which is true if the answer in *m is due now; console_refill answers it
 * later.  tty_read: what input there is (LX_BLOCK, or -EAGAIN, if none). */
s64 tty_read(bool nonblock, void *buf, u64 len);
s64 tty_write(const void *buf, u64 len);
bool tty_readable(void);
u64 tty_pending(void);
s64 tty_ioctl(struct proc *p, u32 req, u64 arg);
#define LX_LABEL_CONSOLE_INPUT 0x1c0
void console_start(void);
bool console_input(l4_tid_t from, u64 tag, struct l4_msg *m);
void console_refill(void);
/* The file system calls: true if nr is one (the result in *ret). */
bool fs_syscall(struct proc *p, u64 nr, const u64 *args, s64 *ret);

#endif
