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
#define ENOEXEC 8
#define EBADF 9
#define ECHILD 10
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EEXIST 17
#define ENOTDIR 20
#define EISDIR 21
#define EINVAL 22
#define EMFILE 24
#define ENOTTY 25
#define ESPIPE 29
#define ERANGE 34
#define ENAMETOOLONG 36
#define ENOSYS 38

#define LX_PAGE 4096ull
#define LX_PROT_READ 1
#define LX_PROT_WRITE 2
#define LX_PROT_EXEC 4

/* ---- the server's own memory: pages from sigma0, one-to-one -------------- */
u64 page_alloc(void); /* a zeroed page (its address is its physical one), or 0 */
void page_free(u64 page);
u64 pages_in_use(void);

/* ---- processes -------------------------------------------------------------- */
#define MAX_PROCS 64
#define MAX_VMAS 32
#define MAX_FDS 32

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

enum fd_kind { FD_NONE, FD_CONSOLE };

struct proc {
	bool used;
	int pid, ppid;
	l4_tid_t tid;        /* its (alien) thread: faults and system calls come from it */
	u64 *pt;             /* logical page table: va -> page here (mm.c) */
	struct vma vma[MAX_VMAS];
	unsigned nvma;
	u64 brk_start, brk, mmap_top;
	u64 fs_base;
	u64 tid_address;
	enum fd_kind fd[MAX_FDS];
	char exe[64];
};

extern struct proc procs[MAX_PROCS];
struct proc *proc_by_thread(l4_tid_t t);
struct proc *proc_start(const u8 *image, u64 size, const char *name, int argc, const char *const *argv);
void proc_exit(struct proc *p, int status);
extern int last_exit_status;

/* ---- memory of a process (mm.c) ---------------------------------------------- */
struct vma *vma_find(struct proc *p, u64 va);
struct vma *vma_add(struct proc *p, u64 start, u64 end, unsigned prot, enum vma_kind kind, const u8 *file,
		    u64 file_size);
void vma_remove(struct proc *p, u64 start, u64 end);
/* The page here behind va (faulted in if the area allows), or 0. */
u64 mm_page(struct proc *p, u64 va, bool write);
/* A page fault: fills *m with the reply; false if the access is not allowed. */
bool mm_fault(struct proc *p, u64 va, unsigned access, struct l4_msg *m);
void mm_release(struct proc *p);
/* Copy between the process's memory and ours; false on a bad address. */
bool copy_in(struct proc *p, void *dst, u64 src, u64 len);
bool copy_out(struct proc *p, u64 dst, const void *src, u64 len);
/* A NUL-terminated string of at most max bytes; its length, or -EFAULT / -ENAMETOOLONG. */
s64 strncpy_in(struct proc *p, char *dst, u64 src, u64 max);

/* ---- system calls (syscall.c) ------------------------------------------------- */
/* regs: the exception message's words (enum l4_exc_word); returns true if
 * the process goes on (regs then hold its new state), false if it ended. */
bool linux_syscall(struct proc *p, u64 *regs);
s64 sys_brk(struct proc *p, u64 addr);
s64 sys_mmap(struct proc *p, u64 addr, u64 len, u64 prot, u64 flags, u64 fd, u64 off);
s64 sys_munmap(struct proc *p, u64 addr, u64 len);
s64 sys_mprotect(struct proc *p, u64 addr, u64 len, u64 prot);

#endif
