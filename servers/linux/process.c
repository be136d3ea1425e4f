/*
 * Processes: each an L4 task with one alien thread, whose pager and
 * exception handler is the server's thread.  Loading a static ELF program
 * (ET_EXEC or static PIE) and building its initial stack as Linux does.
 */
#include "linux.h"
#include "vfs.h"
#include "../../lib/common/elf.h"

struct proc procs[MAX_PROCS];
int init_status;
bool init_ended;
bool lx_wake;
static int next_pid = 1;

#define STACK_TOP 0x7ffe00000000ull   /* below the UTCB area */
#define STACK_SIZE (8ull << 20)
#define MMAP_TOP (STACK_TOP - STACK_SIZE - (1ull << 30))
#define PIE_BASE 0x555555554000ull    /* where a static PIE is loaded, as Linux does without ASLR */
#define MAX_SEGMENTS 8
#define ET_DYN 3

/* Linux auxiliary-vector types */
#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_EXECFN 31

/* Processes by the number of their thread (the ID's number field). */
static struct proc *by_thread[L4_MAX_THREADS];

struct proc *proc_by_thread(l4_tid_t t)
{
	struct proc *p = L4_TID_NUMBER(t) < L4_MAX_THREADS ? by_thread[L4_TID_NUMBER(t)] : NULL;
	return p && p->used && !p->zombie && p->tid == t ? p : NULL;
}

static struct proc *proc_new(void)
{
	for (int i = 0; i < MAX_PROCS; i++) {
		if (!procs[i].used) {
			memset(&procs[i], 0, sizeof(procs[i]));
			procs[i].used = true;
			procs[i].pid = next_pid++;
			procs[i].as_limit[0] = procs[i].as_limit[1] = ~0ull;
			return &procs[i];
		}
	}
	return NULL;
}

/* The ELF header fields elf_parse does not return. */
struct elf_info {
	u16 type, phentsize, phnum;
	u64 phoff;
};

static void elf_info(const u8 *image, struct elf_info *e)
{
	memcpy(&e->type, image + 16, 2);
	memcpy(&e->phoff, image + 32, 8);
	memcpy(&e->phentsize, image + 54, 2);
	memcpy(&e->phnum, image + 56, 2);
}

static bool elf_ok(const u8 *image, u64 size)
{
	struct elf_segment seg[MAX_SEGMENTS];
	u64 entry;
	return elf_parse(image, size, MMAP_TOP - PIE_BASE, &entry, seg, MAX_SEGMENTS) > 0;
}

/* Areas for the segments; returns the entry point (with the load bias) and
 * the address of the program headers in the process, or 0 on error. */
static u64 load_segments(struct proc *p, const u8 *image, u64 size, u64 *phdr)
{
	struct elf_segment seg[MAX_SEGMENTS];
	u64 entry;
	int n = elf_parse(image, size, MMAP_TOP - PIE_BASE, &entry, seg, MAX_SEGMENTS);
	if (n <= 0)
		return 0;
	struct elf_info e;
	elf_info(image, &e);
	u64 bias = e.type == ET_DYN ? PIE_BASE : 0, end = 0;
	*phdr = 0;
	for (int i = 0; i < n; i++) {
		u64 start = (seg[i].vaddr + bias) & ~(LX_PAGE - 1), lead = seg[i].vaddr + bias - start;
		u64 stop = (seg[i].vaddr + bias + seg[i].memsz + LX_PAGE - 1) & ~(LX_PAGE - 1);
		unsigned prot = (seg[i].rights & L4_R ? LX_PROT_READ : 0) | (seg[i].rights & L4_W ? LX_PROT_WRITE : 0) |
				(seg[i].rights & L4_X ? LX_PROT_EXEC : 0);
		/* the area starts at a page boundary: its file bytes start `lead` earlier */
		if (seg[i].offset < lead || !vma_add(p, start, stop, prot, VMA_FILE, image + seg[i].offset - lead,
						     seg[i].filesz + lead))
			return 0;
		if (e.phoff >= seg[i].offset && e.phoff < seg[i].offset + seg[i].filesz)
			*phdr = seg[i].vaddr + bias + (e.phoff - seg[i].offset);
		if (stop > end)
			end = stop;
	}
	p->brk_start = p->brk = end;
	return entry + bias;
}

/* The initial stack: argc, argv[], NULL, envp[], NULL, auxv, then the
 * strings and the 16 random bytes.  Returns the stack pointer, or 0. */
static u64 build_stack(struct proc *p, const u8 *image, u64 entry, u64 phdr, const struct lx_args *a)
{
	static u64 str[LX_MAX_ARGS];
	struct elf_info e;
	elf_info(image, &e);
	u64 sp = STACK_TOP;
	int n = a->argc + a->envc;
	for (int i = 0; i < n; i++) {
		const char *s = a->str[i];
		u64 len = strlen(s) + 1;
		sp -= len;
		if (!copy_out(p, sp, s, len))
			return 0;
		str[i] = sp;
	}
	sp -= sizeof("x86_64");
	u64 platform = sp;
	copy_out(p, platform, "x86_64", sizeof("x86_64"));
	sp -= 16;
	u64 random = sp;
	u64 rnd[2] = { l4_rdtsc() * 0x9e3779b97f4a7c15ull, l4_rdtsc() ^ 0xdeadbeefcafef00dull };
	copy_out(p, random, rnd, 16);
	u64 aux[][2] = {
		{ AT_PHDR, phdr }, { AT_PHENT, e.phentsize }, { AT_PHNUM, e.phnum }, { AT_PAGESZ, LX_PAGE },
		{ AT_ENTRY, entry }, { AT_UID, 0 }, { AT_EUID, 0 }, { AT_GID, 0 }, { AT_EGID, 0 },
		{ AT_HWCAP, 0x178bfbff }, { AT_CLKTCK, 100 }, { AT_PLATFORM, platform }, { AT_SECURE, 0 },
		{ AT_RANDOM, random }, { AT_EXECFN, a->argc ? str[0] : 0 }, { AT_NULL, 0 },
	};
	u64 words = 1 + (u64)a->argc + 1 + (u64)a->envc + 1 + 2 * ARRAY_SIZE(aux);
	sp = (sp - words * 8) & ~15ull;
	u64 w = sp, v = (u64)a->argc;
	bool ok = copy_out(p, w, &v, 8);
	w += 8;
	for (int i = 0; i < n + 2; i++, w += 8) {
		int k = i < a->argc ? i : i - 1; /* argv, NULL, envp, NULL */
		v = i == a->argc || i == n + 1 ? 0 : str[k];
		ok = ok && copy_out(p, w, &v, 8);
	}
	ok = ok && copy_out(p, w, aux, sizeof(aux));
	return ok ? sp : 0;
}

/* Linux's comm: the last component of the name a program was run by. */
static void set_comm(struct proc *p, const char *name)
{
	const char *c = name;
	for (const char *s = name; *s; s++)
		if (*s == '/' && s[1])
			c = s + 1;
	usize n = strlen(c) < sizeof(p->comm) - 1 ? strlen(c) : sizeof(p->comm) - 1;
	memcpy(p->comm, c, n);
	p->comm[n] = 0;
}

/* The program image in p's (empty) address space: its segments, the
 * stack with a's strings; the entry point and stack pointer, false if
 * the image is bad or memory runs out. */
static bool image_load(struct proc *p, const u8 *image, u64 size, const char *name, const struct lx_args *a,
		       u64 *entry, u64 *sp)
{
	u64 phdr;
	*entry = load_segments(p, image, size, &phdr);
	bool ok = *entry && vma_add(p, STACK_TOP - STACK_SIZE, STACK_TOP, LX_PROT_READ | LX_PROT_WRITE, VMA_ANON, NULL, 0);
	*sp = ok ? build_stack(p, image, *entry, phdr, a) : 0;
	p->mmap_top = MMAP_TOP;
	p->fs_base = 0;
	set_comm(p, name);
	p->cmdline_len = 0;
	for (int k = 0; k < a->argc && p->cmdline_len < sizeof(p->cmdline); k++) {
		u32 n = (u32)strlen(a->str[k]) + 1, room = (u32)sizeof(p->cmdline) - p->cmdline_len;
		memcpy(p->cmdline + p->cmdline_len, a->str[k], n < room ? n : room);
		p->cmdline_len += n < room ? n : room;
	}
	usize n = strlen(name) < sizeof(p->exe) - 1 ? strlen(name) : sizeof(p->exe) - 1;
	memcpy(p->exe, name, n);
	p->exe[n] = 0;
	return *sp != 0;
}

/* The L4 side of a new process: a task whose alien thread has us as pager
 * and exception handler, started at ip with sp. */
static bool task_start(struct proc *p, u64 ip, u64 sp)
{
	l4_tid_t t;
	if (l4_create_thread_ex(L4_NEWTASK, l4_myself(), L4_TC_ALIEN, l4_myself(), &t) < 0)
		return false;
	p->tid = t;
	by_thread[L4_TID_NUMBER(p->tid)] = p;
	l4_start_thread(p->tid, ip, sp);
	return true;
}

/* A process that could not be made goes (it has no task, and no pages
 * mapped anywhere). */
static void proc_discard(struct proc *p)
{
	fs_proc_exit(p);
	mm_release(p, true);
	p->used = false;
}

struct proc *proc_start(const u8 *image, u64 size, const char *name, const struct lx_args *a)
{
	struct proc *p = proc_new();
	if (!p)
		return NULL;
	u64 entry, sp;
	p->pgid = p->sid = p->pid;
	fs_proc_start(p);
	if (!image_load(p, image, size, name, a, &entry, &sp) || !task_start(p, entry, sp)) {
		proc_discard(p);
		return NULL;
	}
	return p;
}

struct proc *proc_by_pid(int pid)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i].used && procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

/* Deletes a process's task (with its thread t). */
static void task_end(l4_tid_t t)
{
	l4_delete_task(t);
	if (by_thread[L4_TID_NUMBER(t)] && by_thread[L4_TID_NUMBER(t)]->tid == t)
		by_thread[L4_TID_NUMBER(t)] = NULL;
}

/* The process is gone: its task, memory and files.  It stays a zombie
 * (holding its status) until its parent waits for it; a process without a
 * parent that could wait is freed at once, and its children go to pid 1. */
void proc_exit(struct proc *p, int wstatus)
{
	task_end(p->tid);
	fs_proc_exit(p);
	struct proc *vc = p->vfork_child ? proc_by_pid(p->vfork_child) : NULL;
	if (vc && vc->shares_vm && vc->pt == p->pt) { /* its vfork child maps these pages: they become its own */
		vc->shares_vm = false;
		p->pt = NULL;
	}
	mm_release(p, true);
	p->zombie = true;
	p->blocked = false;
	if (p->wake_at)
		sleepers--;
	p->wake_at = 0;
	p->in_vfork = false;
	p->wstatus = wstatus;
	init_ended |= p->pid == 1;
	if (p->pid == 1)
		init_status = (wstatus & 0x7f) ? 128 + (wstatus & 0x7f) : (wstatus >> 8) & 0xff;
	for (int i = 0; i < MAX_PROCS; i++) {
		struct proc *c = &procs[i];
		if (!c->used || c->ppid != p->pid)
			continue;
		c->ppid = 1;
		if (c->zombie && (p->pid == 1 || !proc_by_pid(1) || proc_by_pid(1)->zombie))
			c->used = false;
	}
	struct proc *parent = proc_by_pid(p->ppid);
	if (!parent || parent->zombie || signal_no_zombies(parent))
		p->used = false; /* nobody to wait for it (or SIGCHLD ignored: reaped at once, as on Linux) */
	else
		signal_child_ended(parent, p);
	lx_wake = true;
}


/* ---- fork, exec, wait -------------------------------------------------------------------- */

#define CLONE_VM 0x100
#define CLONE_FS 0x200
#define CLONE_FILES 0x400
#define CLONE_SIGHAND 0x800
#define CLONE_VFORK 0x4000
#define CLONE_THREAD 0x10000
#define CLONE_SYSVSEM 0x40000
#define CLONE_SETTLS 0x80000
#define CLONE_PARENT_SETTID 0x100000
#define CLONE_CHILD_CLEARTID 0x200000
#define CLONE_DETACHED 0x400000
#define CLONE_CHILD_SETTID 0x1000000
#define CLONE_KNOWN (0xff | CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_VFORK | CLONE_SYSVSEM | \
		     CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED | CLONE_CHILD_SETTID)

/* fork, vfork and clone of a process (not of a thread).  The child is a
 * copy: its own task with a copy of the memory (mm_fork), sharing the open
 * files; with CLONE_VM (only with CLONE_VFORK) its task shows the
 * parent's memory instead, the parent waiting meanwhile.  It starts at the parent's system-call instruction (RIP - 2: the
 * two bytes of `syscall` or `int 0x80`, which its copied memory holds)
 * and so raises an exception at once; the server answers that with the
 * parent's registers and RAX = 0 (p->fork_start), the only way to give a
 * new thread a whole register state.  The vfork parent waits
 * until its child calls execve or exits. */
s64 sys_clone(struct proc *p, const u64 *regs, u64 flags, u64 newsp, u64 parent_tid, u64 child_tid, u64 tls)
{
	if (flags & CLONE_THREAD)
		return -ENOSYS; /* threads: not yet */
	if ((flags & ~(u64)CLONE_KNOWN) || ((flags & CLONE_VM) && !(flags & CLONE_VFORK)) ||
	    ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM)))
		return -EINVAL;
	if (newsp >= L4_USER_END || ((flags & CLONE_SETTLS) && tls >= L4_USER_END))
		return -EINVAL;
	struct proc *c = proc_new();
	if (!c)
		return -EAGAIN;
	c->ppid = p->pid;
	c->pgid = p->pgid;
	c->sid = p->sid;
	c->brk_start = p->brk_start;
	c->brk = p->brk;
	c->mmap_top = p->mmap_top;
	c->fs_base = flags & CLONE_SETTLS ? tls : p->fs_base;
	memcpy(c->sigact, p->sigact, sizeof(c->sigact));
	c->sigmask = p->sigmask;
	memcpy(c->as_limit, p->as_limit, sizeof(c->as_limit));
	memcpy(c->exe, p->exe, sizeof(c->exe));
	memcpy(c->comm, p->comm, sizeof(c->comm));
	memcpy(c->cmdline, p->cmdline, sizeof(c->cmdline));
	c->cmdline_len = p->cmdline_len;
	memcpy(c->saved, regs, sizeof(c->saved));
	c->saved[0] = 1; /* the whole state */
	c->saved[L4_EXC_RAX] = 0;
	c->saved[L4_EXC_FS_BASE] = c->fs_base;
	if (newsp)
		c->saved[L4_EXC_RSP] = newsp;
	if (!mm_fork(p, c, flags & CLONE_VM)) {
		proc_discard(c);
		return -ENOMEM;
	}
	fs_fork(p, c);
	u32 pid = (u32)c->pid;
	if (flags & CLONE_CHILD_SETTID)
		copy_out(c, child_tid, &pid, 4);
	if (flags & CLONE_PARENT_SETTID)
		copy_out(p, parent_tid, &pid, 4);
	c->fork_start = true;
	if (!task_start(c, regs[L4_EXC_RIP] - 2, regs[L4_EXC_RSP])) {
		proc_discard(c);
		return -EAGAIN;
	}
	if (!(flags & CLONE_VFORK))
		return c->pid;
	c->in_vfork = true;
	p->vfork_child = c->pid;
	return LX_BLOCK;
}

/* The vfork parent goes on when its child has called execve or exited. */
s64 vfork_done(struct proc *p)
{
	struct proc *c = proc_by_pid(p->vfork_child);
	if (c && c->in_vfork)
		return LX_BLOCK;
	s64 pid = p->vfork_child;
	p->vfork_child = 0;
	return pid;
}

#define WNOHANG 1
#define WUNTRACED 2
#define WCONTINUED 8
#define WNOTHREAD 0x20000000
#define WALL 0x40000000
#define WCLONE 0x80000000
#define RUSAGE_SIZE 144

static bool wait_match(const struct proc *p, const struct proc *c, s64 pid)
{
	if (pid > 0)
		return c->pid == pid;
	if (pid == -1)
		return true;
	return c->pgid == (pid ? -pid : p->pgid);
}

/* wait4: a zombie child that pid selects is reaped at once; otherwise the
 * caller blocks (and the call is tried again when a process exits). */
s64 sys_wait4(struct proc *p, s64 pid, u64 ustatus, u64 options, u64 rusage)
{
	if (options & ~(u64)(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE))
		return -EINVAL;
	bool any = false;
	for (int i = 0; i < MAX_PROCS; i++) {
		struct proc *c = &procs[i];
		if (!c->used || c->ppid != p->pid || !wait_match(p, c, pid))
			continue;
		any = true;
		if (!c->zombie)
			continue;
		u8 ru[RUSAGE_SIZE];
		memset(ru, 0, sizeof(ru));
		u32 st = (u32)c->wstatus;
		if ((ustatus && !copy_out(p, ustatus, &st, 4)) || (rusage && !copy_out(p, rusage, ru, sizeof(ru))))
			return -EFAULT;
		c->used = false;
		return c->pid;
	}
	if (!any)
		return -ECHILD;
	return options & WNOHANG ? 0 : LX_BLOCK;
}

/* ---- execve ------------------------------------------------------------------------------- */

#define LX_ARG_BYTES (128u << 10) /* all argument and environment strings of an execve */
static char arg_bytes[LX_ARG_BYTES];
static struct lx_args exec_args;

/* Copies the NULL-terminated string array at uv onto the end of a (argv,
 * then envp); false with *err set if it is bad or too big. */
static bool args_in(struct proc *p, u64 uv, struct lx_args *a, bool env, usize *used, s64 *err)
{
	for (u64 i = 0; uv; i++) {
		u64 s;
		if (!copy_in(p, &s, uv + 8 * i, 8)) {
			*err = -EFAULT;
			return false;
		}
		if (!s)
			return true;
		if (a->argc + a->envc >= LX_MAX_ARGS) {
			*err = -E2BIG;
			return false;
		}
		s64 n = strncpy_in(p, arg_bytes + *used, s, LX_ARG_BYTES - *used);
		if (n < 0) {
			*err = n == -ENAMETOOLONG ? -E2BIG : n;
			return false;
		}
		a->str[a->argc + a->envc] = arg_bytes + *used;
		*used += (usize)n + 1;
		if (env)
			a->envc++;
		else
			a->argc++;
	}
	return true;
}

/* "#!interpreter [arg]" at the start of a script: the interpreter's path
 * and its argument (or NULL) into line, which is changed in place. */
static bool script_interpreter(char *line, usize n, char **interp, char **arg)
{
	if (n < 3 || line[0] != '#' || line[1] != '!')
		return false;
	usize i = 2, end = 0;
	while (end < n && line[end] != '\n')
		end++;
	if (end == n)
		return false; /* no end of the line in the first bytes */
	line[end] = 0;
	while (line[i] == ' ' || line[i] == '\t')
		i++;
	*interp = line + i;
	while (line[i] && line[i] != ' ' && line[i] != '\t')
		i++;
	*arg = NULL;
	if (line[i]) {
		line[i++] = 0;
		while (line[i] == ' ' || line[i] == '\t')
			i++;
		usize k = strlen(line + i);
		while (k && (line[i + k - 1] == ' ' || line[i + k - 1] == '\t'))
			line[i + --k] = 0;
		*arg = k ? line + i : NULL;
	}
	return **interp != 0;
}

/* Room for k more strings at index at of a's array. */
static void args_open(struct lx_args *a, int at, int k)
{
	for (int i = a->argc + a->envc - 1; i >= at; i--)
		a->str[i + k] = a->str[i];
}

/* The interpreter (and its argument) go before argv, and the script's
 * path replaces argv[0]. */
static s64 args_for_script(struct lx_args *a, char *interp, char *arg, char *script, usize *used)
{
	int extra = arg ? 2 : 1;
	usize n = strlen(script) + 1;
	if (a->argc + a->envc + extra + 1 > LX_MAX_ARGS || *used + n > LX_ARG_BYTES)
		return -E2BIG;
	if (!a->argc) { /* no argv[0]: a place for the script's path */
		args_open(a, 0, 1);
		a->argc = 1;
	}
	args_open(a, 0, extra);
	a->argc += extra;
	memcpy(arg_bytes + *used, script, n);
	a->str[0] = interp;
	if (arg)
		a->str[1] = arg;
	a->str[extra] = arg_bytes + *used;
	*used += n;
	return 0;
}

/* execve: the new program replaces the old in the same process; a script
 * starting with "#!" runs its interpreter (one level).  Everything that
 * can fail is checked before the old image goes; after that, running out
 * of memory kills the process.  Returns -errno, or LX_GONE: the process
 * goes on in a new task (or was killed). */
s64 sys_execve(struct proc *p, u64 upath, u64 uargv, u64 uenvp)
{
	static char path[PATH_MAX], line[256], interp_path[PATH_MAX], script[PATH_MAX];
	struct inode *ino;
	char given[64];
	strncpy_in(p, given, upath, sizeof(given)); /* for comm; errors come from fs_exec_open */
	given[sizeof(given) - 1] = 0;
	s64 r = fs_exec_open(p, upath, path, &ino);
	if (r < 0)
		return r;
	memset(&exec_args, 0, sizeof(exec_args));
	usize used = 0;
	if (!args_in(p, uargv, &exec_args, false, &used, &r) || !args_in(p, uenvp, &exec_args, true, &used, &r))
		return r;
	usize n = file_read(ino, 0, line, sizeof(line) - 1);
	line[n] = 0;
	char *interp, *arg;
	if (script_interpreter(line, n, &interp, &arg)) {
		memcpy(script, path, sizeof(script));
		memcpy(interp_path, interp, strlen(interp) + 1);
		if ((r = args_for_script(&exec_args, interp_path, arg, script, &used)) < 0)
			return r;
		memcpy(path, interp_path, sizeof(path));
		if ((r = fs_exec_open(p, 0, path, &ino)) < 0)
			return r;
	}
	const u8 *image = file_bytes(ino);
	u64 size = ino->size;
	if (!image || !elf_ok(image, size))
		return -ENOEXEC;
	/* The point of no return.  The new program gets a new task: deleting
	 * the old one takes back all it maps at once (one Unmap per page
	 * would cost more), and a vfork child's task maps its parent's pages. */
	task_end(p->tid);
	mm_release(p, true);
	fs_exec(p);
	signal_exec(p);
	u64 entry, sp;
	if (!image_load(p, image, size, path, &exec_args, &entry, &sp) || !task_start(p, entry, sp)) {
		printf("linux: pid %d: execve of %s: out of memory, killed\n", p->pid, path);
		proc_exit(p, 9 /* SIGKILL */);
		return LX_GONE;
	}
	p->execed = true;
	set_comm(p, given); /* the name as given, not as resolved (/bin/sleep, not /bin/busybox) */
	if (p->in_vfork) {
		p->in_vfork = false;
		lx_wake = true;
	}
	return LX_GONE; /* no reply: the thread that called is gone, the new one starts at the entry point */
}
