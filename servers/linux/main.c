/*
 * The Linux server's main loop: one thread that is the pager and the
 * exception handler of every Linux process.  Started by the root task as
 *   run linux.elf [--initramfs CPIO] PROGRAM [ARGS...]
 * it unpacks the boot module CPIO (a newc cpio archive) as the root file
 * system (without it the root is an empty tmpfs with /dev, /proc and
 * /tmp), runs the boot module PROGRAM as the first process and exits with
 * its exit status when no process is left.
 */
#include "linux.h"
#include "vfs.h"


/* Boot modules come from the root task, read-only at their physical
 * addresses, so that every Linux server of a boot can read them. */
static const u8 *module(const char *name, u64 *size) { return l4_module(name, size); }

/* PROGRAM in the root file system: a path, or a name looked up in the
 * PATH the first process gets; its absolute path goes to *path.  Only a
 * file still as the initramfs had it can be run (its bytes are in one
 * piece). */
static const u8 *program_file(const char *name, char *path, u64 *size)
{
	static const char *const dirs[] = { "", "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/" };
	bool has_slash = false;
	for (const char *c = name; *c; c++)
		has_slash |= *c == '/';
	for (unsigned i = 0; i < ARRAY_SIZE(dirs); i++) {
		if ((i == 0) != has_slash || strlen(dirs[i]) + strlen(name) >= 64)
			continue;
		usize d = strlen(dirs[i]);
		memcpy(path, dirs[i], d);
		memcpy(path + d, name, strlen(name) + 1);
		struct walk w;
		if (vfs_walk(vfs_root, path, W_FOLLOW, &w) || !w.ino || (w.ino->mode & S_IFMT) != S_IFREG)
			continue;
		*size = w.ino->size;
		return file_bytes(w.ino);
	}
	return NULL;
}

/* The exception message's words, in place: MR8..MR23 are in the UTCB
 * already, MR1..MR7 came in registers and join them there. */
static u64 *exc_words(const struct l4_msg *m)
{
	u64 *w = l4_utcb()->mr;
	/* written out: on every system call's way, and a loop here is what
	 * the compiler may or may not unroll (28 instructions apart) */
	_Static_assert(L4_MR_REGS == 8, "MR1..MR7 come in registers");
	w[1] = m->mr[1];
	w[2] = m->mr[2];
	w[3] = m->mr[3];
	w[4] = m->mr[4];
	w[5] = m->mr[5];
	w[6] = m->mr[6];
	w[7] = m->mr[7];
	return w;
}

/* The reply that sets the whole state w: its words from MR8 on must be
 * in the UTCB already. */
static void reply_state(struct l4_msg *m, const u64 *w)
{
	m->mr[0] = L4_TAG_MAKE(0, L4_EXC_WORDS, 0);
	for (unsigned i = 1; i < L4_MR_REGS; i++)
		m->mr[i] = w[i];
}

/* The reply to a system call: the whole state w (w[0] set), or RAX alone. */
static void syscall_reply(struct l4_msg *m, const u64 *w)
{
	if (w[0]) {
		reply_state(m, w);
	} else {
		m->mr[0] = L4_TAG_MAKE(0, 1, 0);
		m->mr[1] = w[L4_EXC_RAX];
	}
}

/* The words p->saved, from MR8 on, into the UTCB for a whole-state reply. */
static void saved_to_utcb(const struct proc *p)
{
	u64 *w = l4_utcb()->mr;
	for (unsigned i = L4_MR_REGS; i <= L4_EXC_WORDS; i++)
		w[i] = p->saved[i];
}

/* Calls that waited are tried again; those that complete are answered
 * (a send that does not wait: the process waits for it). */
static void wake_blocked(void)
{
	while (lx_wake) {
		lx_wake = false;
		console_refill();
		for (int i = 0; i < MAX_PROCS; i++) {
			struct proc *p = &procs[i];
			if (!p->used || p->zombie || !p->blocked)
				continue;
			p->blocked = false;
			u64 nr = p->saved[L4_EXC_RAX];
			enum lx_result r = linux_syscall(p, p->saved);
			if (r == LX_ENDED || (r == LX_WAITS && (!signal_deliverable(p) || p->vfork_child)))
				continue;
			if (r == LX_WAITS) { /* still waiting, and a signal came: the call is interrupted */
				p->blocked = false;
				signal_interrupt(p, p->saved, syscall_restartable(nr));
				p->saved[0] = p->saved[L4_EXC_RAX] == nr; /* restarted: RIP moved back */
				if (!signal_deliver(p, p->saved))
					continue;
			}
			struct l4_msg m;
			if (p->saved[0]) /* the whole state: its words from MR8 on go through the UTCB */
				saved_to_utcb(p);
			syscall_reply(&m, p->saved);
			l4_ipc(p->tid, L4_NILTHREAD, L4_POLL, &m, NULL);
		}
	}
}

static int signal_of(u64 vector)
{
	switch (vector) {
	case 0: return SIGFPE;   /* divide error */
	case 6: return SIGILL;   /* invalid opcode */
	case 16: case 19: return SIGFPE;
	default: return SIGSEGV;
	}
}

static void killed(struct proc *p, int sig, const char *what, u64 addr, u64 ip)
{
	printf("linux: pid %d (%s): %s at %llx (ip %llx): killed by signal %d\n", p->pid, p->exe, what, addr, ip, sig);
	proc_exit(p, sig);
}

/* Handles one message; true if a reply is in *m. */
static bool serve(struct l4_msg *m, u64 tag, l4_tid_t from)
{
	struct proc *p = proc_by_thread(from);
	if (!p || l4_ipc_failed(tag))
		return !p && console_input(from, tag, m);
	u64 label = L4_TAG_LABEL(tag);
	if ((label & ~0xfull) == L4_LABEL_PAGEFAULT) {
		if (mm_fault(p, m->mr[1], label & 7, m))
			return true;
		killed(p, SIGSEGV, "segmentation fault", m->mr[1], m->mr[2]);
		return false;
	}
	if (label != L4_LABEL_EXCEPTION || L4_TAG_U(tag) < L4_EXC_WORDS)
		return false;
	if (p->fork_start) { /* a forked child's first exception: it takes its registers */
		p->fork_start = false;
		saved_to_utcb(p);
		reply_state(m, p->saved);
		return true;
	}
	u64 *w = exc_words(m);
	if (w[L4_EXC_VECTOR] != L4_EXC_SYSCALL) {
		killed(p, signal_of(w[L4_EXC_VECTOR]), "exception", w[L4_EXC_ADDR], w[L4_EXC_RIP]);
		return false;
	}
	if (linux_syscall(p, w) != LX_REPLY)
		return false;
	syscall_reply(m, w);
	return true;
}

/* When pid 1 has ended, so does the server, and every process with it. */
static void end_all(void)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i].used && !procs[i].zombie)
			proc_exit(&procs[i], 9 /* SIGKILL */);
}

int main(int argc, char **argv)
{
	const u8 *cpio = NULL;
	u64 cpio_size = 0;
	if (argc >= 3 && !strcmp(argv[1], "--initramfs")) {
		if (!(cpio = l4_module(argv[2], &cpio_size))) { /* read-only, from the root task */
			printf("linux: no boot module %s\n", argv[2]);
			return 2;
		}
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		printf("linux: usage: linux.elf [--initramfs CPIO] PROGRAM [ARGS...]\n");
		return 2;
	}
	if (!fs_init(cpio, cpio_size)) {
		printf("linux: cannot make the root file system\n");
		return 2;
	}
	console_start();
	u64 size;
	char path[64];
	const u8 *image = cpio ? program_file(argv[1], path, &size) : NULL;
	if (!image && (image = module(argv[1], &size)) != NULL) {
		path[0] = '/'; /* a boot module: named as if it were in / */
		memcpy(path + 1, argv[1], strlen(argv[1]) < 62 ? strlen(argv[1]) + 1 : 63);
		path[63] = 0;
	}
	if (!image) {
		printf("linux: no program %s (in the root file system or as a boot module)\n", argv[1]);
		return 2;
	}
	static const char *const envp[] = { "HOME=/", "PATH=/bin:/sbin:/usr/bin:/usr/sbin", "TERM=vt100" };
	static struct lx_args args;
	args.argc = argc - 1 < LX_MAX_ARGS - (int)ARRAY_SIZE(envp) ? argc - 1 : LX_MAX_ARGS - (int)ARRAY_SIZE(envp);
	args.envc = (int)ARRAY_SIZE(envp);
	for (int i = 0; i < args.argc + args.envc; i++)
		args.str[i] = i < args.argc ? argv[1 + i] : envp[i - args.argc];
	if (!proc_start(image, size, path, &args)) {
		printf("linux: cannot start %s\n", argv[1]);
		return 2;
	}
	struct l4_msg m;
	l4_tid_t from;
	u64 tag = l4_wait(&m, &from);
	for (;;) {
		bool reply = serve(&m, tag, from); /* false for a failed IPC (a timeout) */
		if (sleepers && deadline_due())
			lx_wake = true; /* the receive timeout does not fire while calls keep coming */
		if (lx_wake) { /* answer this one first: waking others uses the UTCB */
			if (reply)
				l4_ipc(from, L4_NILTHREAD, L4_POLL, &m, NULL);
			reply = false;
			wake_blocked();
		}
		if (init_ended)
			break;
		if (sleepers) { /* wait no longer than until the first sleeper wakes */
			tag = l4_ipc(reply ? from : L4_NILTHREAD, L4_ANYTHREAD, sleep_timeouts(), &m, &from);
			if (l4_ipc_failed(tag) && L4_IPC_ERRCODE(tag) == L4_IPC_TIMEOUT && (tag & L4_TAG_RECV_PHASE))
				lx_wake = true;
		} else {
			tag = reply ? l4_reply_wait(from, &m, &from) : l4_wait(&m, &from);
		}
	}
	end_all();
	return init_status;
}
