/* The Linux server's process calls: fork, clone, vfork, wait4, execve,
 * pipe and pipe2, process groups and sessions, each with its error cases,
 * as an ordinary static program (glibc and musl).  Run as the first
 * process of a root file system with busybox at /bin/busybox (and its
 * applet links), a writable /tmp and /dev/null; it never runs itself
 * again, it runs busybox.  No signals are needed: SIGPIPE is ignored, so
 * a write without readers gives EPIPE.  Prints "ok N - what" or "not ok N
 * - what" per check and exits with the number of failures. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void *volatile wild = (void *)8; /* an address nobody maps */
static char *env[] = { "PATH=/bin", NULL };
static char *busybox_true[] = { "busybox", "true", NULL };
static char *busybox_false[] = { "busybox", "false", NULL };

#define MIB (1 << 20)

static void nap_ms(long ms)
{
	struct timespec t = { 0, ms * 1000000 };
	nanosleep(&t, NULL);
}

/* The child's exit code as its parent collects it: -1 if waitpid fails
 * or the child did not exit. */
static int reap(pid_t pid)
{
	int st;
	if (pid <= 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* waitpid(which) with WNOHANG until it gives something or some seconds
 * have gone: where a bug would otherwise leave the test waiting for ever.
 * 0 if nothing came. */
static pid_t wait_within(pid_t which, int *st, int seconds)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t w = waitpid(which, st, WNOHANG);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (w != 0 || t.tv_sec - t0.tv_sec > seconds)
			return w;
		nap_ms(1);
	}
}

static pid_t child_exiting(int code)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(code);
	return pid;
}

/* Reads fd to its end, or until size bytes: the count. */
static size_t read_all(int fd, void *buf, size_t size)
{
	size_t n = 0;
	while (n < size) {
		ssize_t r = read(fd, (char *)buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}

/* Starts path in a child, its stdout into out (if >= 0): the pid. */
static pid_t start(const char *path, char *argv[], char *envp[], int out)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (out >= 0 && dup2(out, 1) != 1)
			_exit(126);
		if (out > 1)
			close(out);
		execve(path, argv, envp);
		_exit(127);
	}
	return pid;
}

/* Runs path to its end, its output (NUL-ended) into out if out: its exit
 * code. */
static int run(const char *path, char *argv[], char *envp[], char *out, size_t size)
{
	int p[2] = { -1, -1 };
	if (out && pipe(p) != 0)
		return -1;
	pid_t pid = start(path, argv, envp, p[1]);
	if (out) {
		close(p[1]);
		size_t n = read_all(p[0], out, size - 1);
		out[n] = 0;
		close(p[0]);
	}
	return reap(pid);
}

/* s with each newline shown as \n: one line per check. */
static const char *flat(const char *s)
{
	static char buf[128];
	size_t n = 0;
	for (; *s && n + 3 < sizeof(buf); s++)
		if (*s == '\n')
			buf[n++] = '\\', buf[n++] = 'n';
		else
			buf[n++] = *s;
	buf[n] = 0;
	return buf;
}

static int nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl != -1 && (fl & O_NONBLOCK);
}

static int make_file(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, strlen(data));
	close(fd);
	return n == (ssize_t)strlen(data) && chmod(path, mode) == 0 ? 0 : -1;
}

static int global = 1;

struct report {
	pid_t pid, ppid;
	int saw_old;
};

static void test_fork_memory(void)
{
	int rep[2], go[2];
	int *heap = malloc(sizeof(*heap));
	volatile int stack = 1;
	global = *heap = 1;
	if (pipe(rep) != 0 || pipe(go) != 0) {
		check(0, "pipes for the fork test");
		return;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(rep[0]);
		close(go[1]);
		/* the parent writes its copies first */
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		struct report r = { getpid(), getppid(), global == 1 && *heap == 1 && stack == 1 };
		global = *heap = stack = 2;
		_exit(write(rep[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(rep[1]);
	close(go[0]);
	global = *heap = stack = 3;
	if (write(go[1], "g", 1) != 1)
		check(0, "write to the child");
	close(go[1]);
	struct report r = { -1, -1, 0 };
	size_t n = read_all(rep[0], &r, sizeof(r));
	close(rep[0]);
	int st = reap(pid);
	check(pid > 0, "fork gives the parent the child's pid (%d)", pid);
	check(n == sizeof(r) && r.pid == pid, "the child, given 0, has that pid as getpid (%d)", r.pid);
	check(r.ppid == parent, "and the parent's as getppid (%d, %d)", r.ppid, parent);
	check(r.saw_old, "the child does not see the parent's writes after fork (global, heap, stack)");
	check(global == 3 && *heap == 3 && stack == 3, "nor the parent the child's");
	check(st == 0, "the child's exit status 0 reaches the parent");
	free(heap);
}

static void test_fork_status_and_fds(void)
{
	/* 0x107: only the low 8 bits of the code are kept */
	static const int codes[] = { 3, 255, 0x107 };
	for (size_t k = 0; k < sizeof(codes) / sizeof(codes[0]); k++) {
		int st = reap(child_exiting(codes[k]));
		check(st == (codes[k] & 0xff), "_exit(%#x) reaches the parent as %d (%d)", codes[k], codes[k] & 0xff,
		      st);
	}
	int fd = open("/tmp/proc_test.off", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		check(0, "open /tmp/proc_test.off");
		return;
	}
	pid_t pid = fork();
	if (pid == 0)
		_exit(write(fd, "child", 5) == 5 && close(fd) == 0 ? 0 : 1);
	int st = reap(pid);
	off_t off = lseek(fd, 0, SEEK_CUR);
	check(st == 0 && off == 5, "a child's write through an inherited fd moves the parent's offset (%lld)",
	      (long long)off);
	ssize_t w = write(fd, "parent", 6);
	char buf[16] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	check(w == 6 && n == 11 && !memcmp(buf, "childparent", 11),
	      "the child's close leaves the parent's fd open, and its write follows (%s)", buf);
	close(fd);
	unlink("/tmp/proc_test.off");
}

/* The raw calls: the child only makes system calls. */
static void test_clone(void)
{
	long pid = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	if (pid == 0)
		syscall(SYS_exit_group, 5);
	int st = reap((pid_t)pid);
	check(pid > 0 && st == 5, "clone(SIGCHLD), a plain fork: the child exits with 5 (%d)", st);
#ifdef SYS_fork
	pid = syscall(SYS_fork);
	if (pid == 0)
		syscall(SYS_exit_group, 6);
	st = reap((pid_t)pid);
	check(pid > 0 && st == 6, "the fork system call: the child exits with 6 (%d)", st);
#endif
	volatile pid_t ctid = 0;
	pid = syscall(SYS_clone, CLONE_CHILD_SETTID | SIGCHLD, 0, NULL, &ctid, 0);
	if (pid == 0)
		syscall(SYS_exit_group, ctid == syscall(SYS_getpid) ? 0 : 1);
	st = reap((pid_t)pid);
	check(pid > 0 && st == 0, "CLONE_CHILD_SETTID: the child finds its pid in its memory (%d)", st);
	check(ctid == 0, "and the parent's memory is left alone (%d)", ctid);
	volatile pid_t ptid = 0;
	pid = syscall(SYS_clone, CLONE_PARENT_SETTID | SIGCHLD, 0, &ptid, NULL, 0);
	if (pid == 0)
		syscall(SYS_exit_group, 0);
	st = reap((pid_t)pid);
	check(pid > 0 && ptid == pid && st == 0, "CLONE_PARENT_SETTID: the parent finds the child's pid in its memory");
	/* a child by mistake must not run on through the tests */
	errno = 0;
	pid = syscall(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, NULL, NULL, 0);
	int e = errno;
	if (pid == 0)
		syscall(SYS_exit_group, 0);
	if (pid > 0)
		reap((pid_t)pid);
	check(pid == -1 && e == EINVAL, "clone with CLONE_SIGHAND but not CLONE_VM: EINVAL (%s)", strerror(e));
}

static void test_vfork(void)
{
	int p[2];
	if (pipe2(p, O_NONBLOCK) != 0) {
		check(0, "pipe2 for the vfork test");
		return;
	}
	pid_t pid = vfork();
	if (pid == 0) {
		/* slow, so that a parent running on would find the pipe empty */
		nap_ms(20);
		if (write(p[1], "v", 1) != 1)
			_exit(1);
		_exit(4);
	}
	char c = 0;
	ssize_t n = read(p[0], &c, 1);
	int st = reap(pid);
	close(p[0]);
	close(p[1]);
	check(pid > 0 && n == 1 && c == 'v', "vfork: the parent runs on only after the child's _exit (%zd)", n);
	check(st == 4, "and collects its status 4 (%d)", st);
	pid = vfork();
	if (pid == 0) {
		execve("/bin/busybox", busybox_true, env);
		_exit(127);
	}
	st = reap(pid);
	check(st == 0, "vfork and execve of busybox true: status 0 (%d)", st);
	/* both libcs spawn with clone(CLONE_VM | CLONE_VFORK) on a stack of their own */
	pid_t sp = -1;
	int r = posix_spawn(&sp, "/bin/busybox", NULL, NULL, busybox_false, env);
	st = r == 0 ? reap(sp) : -1;
	check(r == 0 && st == 1, "posix_spawn of busybox false: status 1 (%s, %d)", strerror(r), st);
	sp = -1;
	r = posix_spawn(&sp, "/tmp/proc_test.none", NULL, NULL, busybox_true, env);
	if (r == 0)
		reap(sp);
	check(r == ENOENT, "posix_spawn of a missing file: ENOENT (%s)", strerror(r));
	r = system("exit 3");
	check(r != -1 && WIFEXITED(r) && WEXITSTATUS(r) == 3, "system(\"exit 3\"): status 3 (%#x)", r);
}

static void test_wait_any_and_one(void)
{
	int st = 0, s1 = 0, s2 = 0;
	FAILS(waitpid(-1, &st, 0), ECHILD, "waitpid(-1) without children");
	FAILS(waitpid(-1, &st, WNOHANG), ECHILD, "waitpid(-1, WNOHANG) without children");
	FAILS(waitpid(getpid(), &st, 0), ECHILD, "waitpid of oneself");
	FAILS(waitpid(-1, &st, 0x4000), EINVAL, "waitpid with an unknown option");
	pid_t a = child_exiting(11), b = child_exiting(12);
	pid_t w1 = waitpid(-1, &s1, 0), w2 = waitpid(-1, &s2, 0);
	check(a > 0 && b > 0 && ((w1 == a && w2 == b) || (w1 == b && w2 == a)),
	      "waitpid(-1) reaps one child a call (%d, %d of %d, %d)", w1, w2, a, b);
	check(WIFEXITED(s1) && WIFEXITED(s2) && WEXITSTATUS(s1) == (w1 == a ? 11 : 12) &&
		      WEXITSTATUS(s2) == (w2 == a ? 11 : 12),
	      "each with its own status");
	/* the later child exits last, so the first is a zombie when asked for the second */
	a = child_exiting(21);
	b = fork();
	if (b == 0) {
		nap_ms(10);
		_exit(22);
	}
	int sb = reap(b), sa = reap(a);
	check(sb == 22 && sa == 21, "waitpid(pid) waits for that child, not the one that exited first (%d, %d)", sb,
	      sa);
	FAILS(waitpid(a, &st, 0), ECHILD, "waitpid again for a reaped child");
}

static void test_wait_nohang(void)
{
	int go[2], st = 0;
	if (pipe(go) != 0) {
		check(0, "pipe for the WNOHANG test");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char c = 0;
		close(go[1]);
		_exit(read(go[0], &c, 1) == 1 && c == 'x' ? 30 : 31);
	}
	close(go[0]);
	pid_t w = waitpid(pid, &st, WNOHANG);
	check(w == 0, "waitpid(pid, WNOHANG) while the child still runs: 0 (%d)", w);
	w = waitpid(-1, &st, WNOHANG);
	check(w == 0, "waitpid(-1, WNOHANG) too (%d)", w);
	if (write(go[1], "x", 1) != 1)
		check(0, "write to the child");
	close(go[1]);
	st = reap(pid);
	check(st == 30, "the child gets the byte and exits (%d)", st);
	pid = child_exiting(33);
	w = wait_within(pid, &st, 5);
	if (w == 0)
		reap(pid);
	check(w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 33, "WNOHANG gives the child once it has exited (%d)", w);
}

static void test_wait_faults(void)
{
	int st = 0;
	struct rusage ru;
	pid_t pid = child_exiting(0);
	pid_t w = wait4(pid, &st, 0, &ru);
	check(pid > 0 && w == pid, "wait4 with a struct rusage (%d)", w);
	/* Linux reaps the child before it finds the pointer bad */
	pid = child_exiting(0);
	FAILS(syscall(SYS_wait4, pid, wild, 0, NULL), EFAULT, "wait4 to a wild status pointer");
	waitpid(pid, &st, 0);
	pid = child_exiting(0);
	FAILS(syscall(SYS_wait4, pid, &st, 0, wild), EFAULT, "wait4 to a wild rusage pointer");
	waitpid(pid, &st, 0);
}

static void test_exec(void)
{
	char out[64];
	int st = run("/bin/busybox", busybox_true, env, NULL, 0);
	check(st == 0, "execve of busybox true: status 0 (%d)", st);
	st = run("/bin/busybox", busybox_false, env, NULL, 0);
	check(st == 1, "execve of busybox false: status 1 (%d)", st);
	char *x42[] = { "X=42", NULL };
	st = run("/bin/sh", (char *[]){ "sh", "-c", "exit $X", NULL }, x42, NULL, 0);
	check(st == 42, "the environment reaches the program: sh -c 'exit $X' with X=42 (%d)", st);
	char *test_two[] = { "sh", "-c", "test \"$1\" = two", "sh", "two", NULL };
	st = run("/bin/sh", test_two, env, NULL, 0);
	check(st == 0, "so do the arguments: test \"$1\" = two with two (%d)", st);
	test_two[4] = "three";
	st = run("/bin/sh", test_two, env, NULL, 0);
	check(st == 1, "and with three: 1 (%d)", st);
	int p[2];
	if (pipe(p) != 0) {
		check(0, "pipe for the exec test");
		return;
	}
	pid_t pid = start("/bin/sh", (char *[]){ "sh", "-c", "echo $$ $PPID", NULL }, env, p[1]);
	close(p[1]);
	size_t n = read_all(p[0], out, sizeof(out) - 1);
	out[n] = 0;
	close(p[0]);
	st = reap(pid);
	int spid = -1, sppid = -1;
	int got = sscanf(out, "%d %d", &spid, &sppid);
	check(st == 0 && got == 2 && spid == pid && sppid == getpid(), "the program keeps the pid and parent (%s)",
	      flat(out));
	if (make_file("/tmp/proc_test.sh", "#!/bin/sh\nexit 7\n", 0755) != 0)
		check(0, "write /tmp/proc_test.sh");
	st = run("/tmp/proc_test.sh", (char *[]){ "proc_test.sh", NULL }, env, NULL, 0);
	check(st == 7, "a \"#!/bin/sh\" script: status 7 (%d)", st);
	/* the interpreter gets its argument, the script's path, then the script's arguments */
	if (make_file("/tmp/proc_test.sh", "#!/bin/busybox sh\nexit $(($1 + 1))\n", 0755) != 0)
		check(0, "write /tmp/proc_test.sh");
	st = run("/tmp/proc_test.sh", (char *[]){ "proc_test.sh", "4", NULL }, env, NULL, 0);
	check(st == 5, "a \"#!/bin/busybox sh\" script with an argument: status 5 (%d)", st);
	unlink("/tmp/proc_test.sh");
}

/* One child tries them all, each errno through a pipe; a failed execve
 * leaves the process as it was, so the child can still exit with 9. */
static void test_exec_errors(void)
{
	struct {
		const char *what;
		const char *path;
		char **argv, **envp;
		int want;
		const char *name;
	} cases[] = {
		{ "a missing file", "/tmp/proc_test.none", busybox_true, env, ENOENT, "ENOENT" },
		{ "an empty path", "", busybox_true, env, ENOENT, "ENOENT" },
		{ "a file without execute permission", "/tmp/proc_test.noexec", busybox_true, env, EACCES, "EACCES" },
		{ "a directory", "/tmp", busybox_true, env, EACCES, "EACCES" },
		{ "a path through a file", "/bin/busybox/x", busybox_true, env, ENOTDIR, "ENOTDIR" },
		{ "a script with a missing interpreter", "/tmp/proc_test.badsh", busybox_true, env, ENOENT, "ENOENT" },
		{ "a wild path", wild, busybox_true, env, EFAULT, "EFAULT" },
		{ "a wild argv", "/bin/busybox", wild, env, EFAULT, "EFAULT" },
		{ "a wild envp", "/bin/busybox", busybox_true, wild, EFAULT, "EFAULT" },
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	int p[2], errs[N];
	if (make_file("/tmp/proc_test.noexec", "#!/bin/sh\nexit 0\n", 0644) != 0 ||
	    make_file("/tmp/proc_test.badsh", "#!/tmp/proc_test.none\nexit 0\n", 0755) != 0 ||
	    pipe2(p, O_CLOEXEC) != 0) {
		check(0, "files and pipe for the execve errors");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		for (int k = 0; k < N; k++) {
			execve(cases[k].path, cases[k].argv, cases[k].envp);
			int e = errno;
			if (write(p[1], &e, sizeof(e)) != sizeof(e))
				_exit(1);
		}
		_exit(9);
	}
	close(p[1]);
	size_t n = read_all(p[0], errs, sizeof(errs));
	close(p[0]);
	int st = reap(pid);
	for (int k = 0; k < N; k++)
		check(n >= (k + 1) * sizeof(int) && errs[k] == cases[k].want, "execve of %s: %s (%s)", cases[k].what,
		      cases[k].name, n >= (k + 1) * sizeof(int) ? strerror(errs[k]) : "nothing");
	check(st == 9, "after them the process is intact: it exits with 9 (%d)", st);
	unlink("/tmp/proc_test.noexec");
	unlink("/tmp/proc_test.badsh");
}

/* sh -c 'echo x >&5' with fd 5 the write end of a pipe, marked
 * FD_CLOEXEC or not: its status, its output into out. */
static int echo_to_fd5(int cloexec, char *out, size_t size)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		/* sh complains about the closed fd */
		int null = open("/dev/null", O_WRONLY);
		if (null < 0 || dup2(null, 2) != 2 || close(null) != 0 || dup2(p[1], 5) != 5)
			_exit(126);
		if (cloexec && fcntl(5, F_SETFD, FD_CLOEXEC) != 0)
			_exit(126);
		if (p[0] != 5)
			close(p[0]);
		if (p[1] != 5)
			close(p[1]);
		execve("/bin/sh", (char *[]){ "sh", "-c", "echo x >&5", NULL }, env);
		_exit(127);
	}
	close(p[1]);
	size_t n = read_all(p[0], out, size - 1);
	out[n] = 0;
	close(p[0]);
	return reap(pid);
}

static void test_exec_cloexec(void)
{
	char out[16];
	int st = echo_to_fd5(0, out, sizeof(out));
	check(st == 0 && !strcmp(out, "x\n"), "an fd without FD_CLOEXEC stays open across execve (%d, \"%s\")", st,
	      flat(out));
	st = echo_to_fd5(1, out, sizeof(out));
	check(st > 0 && !strcmp(out, ""), "one with FD_CLOEXEC is closed (%d, \"%s\")", st, flat(out));
}

static void test_pipe_basics(void)
{
	int p[2] = { -1, -1 };
	char buf[16] = "";
	int r = pipe(p);
	check(r == 0 && p[0] >= 0 && p[1] >= 0 && p[0] != p[1], "pipe gives two fds (%d, %d)", p[0], p[1]);
	int fl0 = fcntl(p[0], F_GETFL), fl1 = fcntl(p[1], F_GETFL), fd0 = fcntl(p[0], F_GETFD),
	    fd1 = fcntl(p[1], F_GETFD);
	check((fl0 & O_ACCMODE) == O_RDONLY && (fl1 & O_ACCMODE) == O_WRONLY, "a read end and a write end");
	check(!(fl0 & O_NONBLOCK) && !(fl1 & O_NONBLOCK) && fd0 == 0 && fd1 == 0, "blocking, no FD_CLOEXEC");
	ssize_t w1 = write(p[1], "abc", 3), w2 = write(p[1], "def", 3), r1 = -1, r2 = -1;
	/* with data there, so that reading the wrong end cannot wait */
	FAILS(read(p[1], buf, 1), EBADF, "read from the write end");
	FAILS(write(p[0], "x", 1), EBADF, "write to the read end");
	/* no more than is there: a bug must not leave the read waiting */
	if (w1 == 3 && w2 == 3) {
		r1 = read(p[0], buf, 2);
		r2 = read(p[0], buf + 2, 4);
	}
	check(w1 == 3 && w2 == 3 && r1 == 2 && r2 == 4 && !memcmp(buf, "abcdef", 6),
	      "data comes out in order, whatever the sizes written and read (%zd, %zd)", r1, r2);
	struct stat s0, s1;
	int f0 = fstat(p[0], &s0), f1 = fstat(p[1], &s1);
	check(f0 == 0 && f1 == 0 && S_ISFIFO(s0.st_mode) && S_ISFIFO(s1.st_mode), "fstat: both ends are FIFOs");
	FAILS(lseek(p[0], 0, SEEK_CUR), ESPIPE, "lseek on a pipe");
	FAILS(pread(p[0], buf, 1, 0), ESPIPE, "pread on a pipe");
	close(p[1]);
	ssize_t n = read(p[0], buf, sizeof(buf));
	check(n == 0, "read after the only writer closed: 0, end of file (%zd)", n);
	close(p[0]);
	if (pipe(p) != 0) {
		check(0, "pipe");
		return;
	}
	close(p[0]);
	FAILS(write(p[1], "x", 1), EPIPE, "write without readers");
	close(p[1]);
	int lowest = dup(1);
	close(lowest);
	FAILS(syscall(SYS_pipe, wild), EFAULT, "pipe to a wild pointer");
	FAILS(syscall(SYS_pipe2, wild, 0), EFAULT, "pipe2 to a wild pointer");
	int next = dup(1);
	close(next);
	check(next == lowest, "which leave no fds behind (%d, %d)", lowest, next);
	FAILS(syscall(SYS_pipe2, p, O_APPEND), EINVAL, "pipe2 with O_APPEND");
	FAILS(syscall(SYS_pipe2, p, ~0), EINVAL, "pipe2 with all flags");
}

/* The reader is a child, which exits with the count it got, so that a read
 * waiting for the full count cannot stop the test. */
static void test_pipe_short_read(void)
{
	int p[2], st = 0;
	if (pipe(p) != 0) {
		check(0, "pipe for the short read");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char buf[100];
		close(p[1]);
		ssize_t n = read(p[0], buf, sizeof(buf));
		_exit(n >= 0 && n < 100 ? (int)n : 255);
	}
	close(p[0]);
	ssize_t w = write(p[1], "abcdef", 6);
	pid_t r = wait_within(pid, &st, 5);
	close(p[1]);
	if (r == 0)
		reap(pid);
	check(w == 6 && r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 6,
	      "a read of 100 bytes gives the 6 there are, without waiting for more (%d, %d)", r, WEXITSTATUS(st));
}

static void test_pipe2_flags(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		check(0, "pipe2(O_CLOEXEC)");
		return;
	}
	int fd0 = fcntl(p[0], F_GETFD), fd1 = fcntl(p[1], F_GETFD);
	check(fd0 == FD_CLOEXEC && fd1 == FD_CLOEXEC, "pipe2(O_CLOEXEC) marks both ends FD_CLOEXEC (%d, %d)", fd0, fd1);
	close(p[0]);
	close(p[1]);
	if (pipe2(p, O_NONBLOCK) != 0) {
		check(0, "pipe2(O_NONBLOCK)");
		return;
	}
	int nb = nonblocking(p[0]) && nonblocking(p[1]);
	check(nb, "pipe2(O_NONBLOCK) makes both ends non-blocking");
	if (!nb) {
		/* the rest would wait for ever */
		close(p[0]);
		close(p[1]);
		return;
	}
	char chunk[4096];
	FAILS(read(p[0], chunk, sizeof(chunk)), EAGAIN, "read of an empty non-blocking pipe");
	/* fill it a page at a time, each page its own byte */
	size_t total = 0;
	ssize_t w = 0;
	errno = 0;
	while (total < 2 * MIB) {
		memset(chunk, (int)(total / sizeof(chunk)) & 0xff, sizeof(chunk));
		w = write(p[1], chunk, sizeof(chunk));
		if (w <= 0)
			break;
		total += (size_t)w;
	}
	int e = errno;
	check(w == -1 && e == EAGAIN, "writing on into a full non-blocking pipe: EAGAIN (%s)", strerror(e));
	check(total >= 4096 && total <= MIB, "after %zu bytes, at least 4 KiB and at most 1 MiB", total);
	FAILS(write(p[1], "x", 1), EAGAIN, "even a single byte");
	size_t got = 0;
	int in_order = 1;
	for (ssize_t r; (r = read(p[0], chunk, sizeof(chunk))) > 0; got += (size_t)r)
		for (ssize_t k = 0; k < r; k++)
			in_order &= chunk[k] == (char)(((got + (size_t)k) / sizeof(chunk)) & 0xff);
	check(got == total && in_order, "reading it all gives every byte in order (%zu)", got);
	FAILS(read(p[0], chunk, sizeof(chunk)), EAGAIN, "then the pipe is empty again");
	close(p[0]);
	close(p[1]);
}

/* The writers a child holds keep the pipe open after the parent closes
 * its own. */
static void test_pipe_eof(void)
{
	int d[2], go[2];
	char buf[16];
	if (pipe(d) != 0 || pipe(go) != 0) {
		check(0, "pipes for the EOF test");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(d[0]);
		close(go[1]);
		if (read(go[0], &c, 1) != 0)
			_exit(1);
		_exit(write(d[1], "late", 4) == 4 ? 0 : 1);
	}
	close(d[1]);
	close(go[0]);
	int fl = fcntl(d[0], F_GETFL);
	fcntl(d[0], F_SETFL, fl | O_NONBLOCK);
	if (nonblocking(d[0]))
		FAILS(read(d[0], buf, sizeof(buf)), EAGAIN,
		      "the parent closed its writer but the child has one: no EOF");
	else
		check(0, "F_SETFL makes a pipe end non-blocking");
	fcntl(d[0], F_SETFL, fl);
	close(go[1]);
	ssize_t n1 = read(d[0], buf, sizeof(buf));
	ssize_t n2 = read(d[0], buf + 4, sizeof(buf) - 4);
	check(n1 == 4 && !memcmp(buf, "late", 4), "a blocking read waits for the child's write (%zd)", n1);
	check(n2 == 0, "then EOF once the child has gone (%zd)", n2);
	close(d[0]);
	int st = reap(pid);
	check(st == 0, "the child saw EOF on its own pipe (%d)", st);
}

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + (i >> 12)); }

static void test_pipe_big(void)
{
	int p[2];
	if (pipe(p) != 0) {
		check(0, "pipe for the big transfer");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		static unsigned char out[10000];
		close(p[0]);
		for (size_t at = 0; at < MIB;) {
			size_t len = MIB - at < sizeof(out) ? MIB - at : sizeof(out);
			for (size_t k = 0; k < len; k++)
				out[k] = pattern(at + k);
			/* a blocking write gives all or fails */
			if (write(p[1], out, len) != (ssize_t)len)
				_exit(1);
			at += len;
		}
		_exit(0);
	}
	close(p[1]);
	static unsigned char in[3001];
	size_t got = 0;
	int in_order = 1;
	for (ssize_t r; (r = read(p[0], in, sizeof(in))) > 0; got += (size_t)r)
		for (ssize_t k = 0; k < r; k++)
			in_order &= in[k] == pattern(got + (size_t)k);
	close(p[0]);
	int st = reap(pid);
	check(got == MIB && in_order, "1 MiB from a child through a pipe arrives whole and in order (%zu)", got);
	check(st == 0, "each of the child's blocking writes wrote all (%d)", st);
}

static void test_pipe_exec(void)
{
	char out[32];
	int st = run("/bin/busybox", (char *[]){ "busybox", "echo", "hello", NULL }, env, out, sizeof(out));
	check(st == 0 && !strcmp(out, "hello\n"), "a pipe on a child's stdout: echo hello gives \"%s\" (%d)", flat(out),
	      st);
	int p[2], q[2];
	if (pipe(p) != 0 || pipe(q) != 0) {
		check(0, "pipes for the pipeline");
		return;
	}
	pid_t a = fork();
	if (a == 0) {
		dup2(p[1], 1);
		close(p[0]), close(p[1]), close(q[0]), close(q[1]);
		execve("/bin/busybox", (char *[]){ "busybox", "echo", "hello world", NULL }, env);
		_exit(127);
	}
	pid_t b = fork();
	if (b == 0) {
		dup2(p[0], 0);
		dup2(q[1], 1);
		close(p[0]), close(p[1]), close(q[0]), close(q[1]);
		execve("/bin/busybox", (char *[]){ "busybox", "tr", "a-z", "A-Z", NULL }, env);
		_exit(127);
	}
	close(p[0]), close(p[1]), close(q[1]);
	size_t n = read_all(q[0], out, sizeof(out) - 1);
	out[n] = 0;
	close(q[0]);
	int sa = reap(a), sb = reap(b);
	check(sa == 0 && sb == 0 && !strcmp(out, "HELLO WORLD\n"), "echo hello world | tr a-z A-Z: \"%s\" (%d, %d)",
	      flat(out), sa, sb);
}

/* Children report failures as bits of their exit code. */
static void test_groups_child(pid_t pg, pid_t sid, pid_t *gone)
{
	pid_t pid = fork();
	if (pid == 0) {
		int bad = 0;
		if (getpgrp() != pg)
			bad |= 1;
		if (setpgid(0, 0) != 0 || getpgrp() != getpid() || getpgid(0) != getpid())
			bad |= 2;
		if (setsid() != -1 || errno != EPERM)
			bad |= 4;
		if (getsid(0) != sid)
			bad |= 8;
		_exit(bad);
	}
	int st = reap(pid);
	check(st >= 0 && !(st & 1), "a child starts in its parent's group (%d)", st);
	check(st >= 0 && !(st & 2), "setpgid(0, 0) in it makes its pgid its pid");
	check(st >= 0 && !(st & 4), "setsid in a group leader: EPERM");
	check(st >= 0 && !(st & 8), "it stays in its parent's session");
	*gone = pid;
	pid = fork();
	if (pid == 0) {
		int bad = 0;
		pid_t me = getpid();
		if (setsid() != me)
			bad |= 1;
		if (getsid(0) != me || getpgrp() != me)
			bad |= 2;
		if (setpgid(0, 0) != -1 || errno != EPERM)
			bad |= 4;
		_exit(bad);
	}
	st = reap(pid);
	check(st >= 0 && !(st & 1), "setsid in a child gives its pid (%d)", st);
	check(st >= 0 && !(st & 2), "which is its session and group now");
	check(st >= 0 && !(st & 4), "setpgid in a session leader: EPERM");
}

/* The parent moves a child, as a shell does for a job, and another joins. */
static void test_groups_parent(pid_t gone)
{
	int go[2], st = 0;
	if (pipe(go) != 0) {
		check(0, "pipe for the group test");
		return;
	}
	pid_t a = fork();
	if (a == 0) {
		char c;
		close(go[1]);
		_exit(read(go[0], &c, 1) == 0 ? 0 : 1);
	}
	close(go[0]);
	int r = setpgid(a, a);
	pid_t ga = getpgid(a);
	check(a > 0 && r == 0 && ga == a, "setpgid(child, child) by the parent (%d)", ga);
	errno = 0;
	pid_t w = waitpid(0, &st, WNOHANG);
	int e = errno;
	check(w == -1 && e == ECHILD, "waitpid(0) finds no child in the parent's group: ECHILD (%d, %s)", w,
	      strerror(e));
	pid_t b = fork();
	if (b == 0) {
		int bad = 0;
		close(go[1]);
		if (setpgid(0, gone) != -1 || errno != EPERM)
			bad |= 1;
		if (setpgid(0, a) != 0 || getpgrp() != a)
			bad |= 2;
		_exit(bad);
	}
	/* a still waits, so the first of its group to end is b (if b is
	 * not in it, nothing ends: hence the bound) */
	w = wait_within(-a, &st, 5);
	check(w == b && WIFEXITED(st) && !(WEXITSTATUS(st) & 1), "setpgid to a group that is not there: EPERM");
	check(w == b && WIFEXITED(st) && !(WEXITSTATUS(st) & 2), "setpgid to join the child's group");
	check(w == b, "waitpid(-pgid) reaps from that group (%d, %d)", w, b);
	close(go[1]);
	if (w != b)
		reap(b);
	w = waitpid(-a, &st, 0);
	check(w == a && WIFEXITED(st) && WEXITSTATUS(st) == 0, "and then the other (%d, %d)", w, a);
	if (w != a)
		reap(a);
}

/* A child that has run execve can no longer be moved.  Its program is cat:
 * once cat has echoed a byte, the execve is done. */
static void test_groups_exec(void)
{
	int ex[2], in[2], out[2];
	char c = 0;
	if (pipe2(ex, O_CLOEXEC) != 0 || pipe(in) != 0 || pipe(out) != 0) {
		check(0, "pipes for the setpgid after execve");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		execve("/bin/busybox", (char *[]){ "busybox", "cat", NULL }, env);
		_exit(127);
	}
	close(ex[1]), close(in[0]), close(out[1]);
	ssize_t w = write(in[1], "c", 1), n = -1;
	if (w == 1)
		n = read(out[0], &c, 1);
	check(w == 1 && n == 1 && c == 'c', "cat in a child echoes a byte (%zd)", n);
	/* non-blocking, else an end left open would wait for cat's exit */
	fcntl(ex[0], F_SETFL, O_NONBLOCK);
	n = nonblocking(ex[0]) ? read(ex[0], &c, 1) : -2;
	check(n == 0, "its end of a pipe2(O_CLOEXEC) pipe closed at execve: EOF (%zd)", n);
	FAILS(setpgid(pid, pid), EACCES, "setpgid of a child after its execve");
	close(in[1]);
	n = read(out[0], &c, 1);
	close(out[0]);
	close(ex[0]);
	int st = reap(pid);
	check(n == 0 && st == 0, "cat ends at the end of its input (%zd, %d)", n, st);
}

static void test_groups(void)
{
	pid_t pg = getpgrp(), pg0 = getpgid(0), pgs = getpgid(getpid());
	pid_t sid = getsid(0), sids = getsid(getpid());
	check(pg >= 0 && pg0 == pg && pgs == pg, "getpgrp, getpgid(0) and getpgid(getpid()) agree (%d)", pg);
	check(sid >= 0 && sids == sid, "getsid(0) and getsid(getpid()) agree (%d)", sid);
	FAILS(setpgid(0, -1), EINVAL, "setpgid to a negative group");
	pid_t gone = -1;
	test_groups_child(pg, sid, &gone);
	FAILS(getpgid(gone), ESRCH, "getpgid of a reaped child");
	FAILS(getsid(gone), ESRCH, "getsid of a reaped child");
	FAILS(setpgid(gone, gone), ESRCH, "setpgid of a reaped child");
	test_groups_parent(gone);
	test_groups_exec();
}

/* A child leaves a grandchild behind; the orphan must still run, and the
 * first process (pid 1) inherits it. */
static void test_orphan(void)
{
	int go[2], out[2];
	if (pipe(go) != 0 || pipe(out) != 0) {
		check(0, "pipes for the orphan test");
		return;
	}
	pid_t child = fork();
	if (child == 0) {
		pid_t g = fork();
		if (g == 0) {
			char c;
			close(go[1]);
			close(out[0]);
			if (read(go[0], &c, 1) != 1)
				_exit(1);
			pid_t ids[2] = { getpid(), getppid() };
			_exit(write(out[1], ids, sizeof(ids)) == sizeof(ids) ? 0 : 1);
		}
		_exit(g > 0 ? 0 : 1);
	}
	close(go[0]);
	close(out[1]);
	int st = reap(child);
	check(st == 0, "a child forks a grandchild and exits; the parent reaps it (%d)", st);
	if (write(go[1], "g", 1) != 1)
		check(0, "write to the grandchild");
	close(go[1]);
	pid_t ids[2] = { -1, -1 };
	size_t n = read_all(out[0], ids, sizeof(ids));
	close(out[0]);
	check(n == sizeof(ids) && ids[1] != child, "the orphan runs on, its parent no longer the dead child (%d)",
	      ids[1]);
	errno = 0;
	pid_t w = wait_within(-1, &st, 5);
	int e = errno;
	if (getpid() == 1)
		check(w == ids[0] && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "pid 1 inherits the orphan and reaps it (%d)", w);
	else
		check(w == -1 && e == ECHILD, "the orphan went to another reaper: ECHILD (%d)", w);
}

static void on_usr1(int sig) { (void)sig; }

/* A child that waits in a read of an empty pipe (after setting SIGTERM's
 * action to act and telling the parent so): its pid, and the pipe's write
 * end in *wr. */
static pid_t waiting_child(void (*act)(int), int *wr)
{
	int p[2], ready[2];
	if (pipe(p) || pipe(ready))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGTERM, act);
		close(p[1]);
		close(ready[0]);
		char c = 'r';
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	close(ready[1]);
	char c;
	if (pid < 0 || read(ready[0], &c, 1) != 1)
		pid = -1;
	close(ready[0]);
	*wr = p[1];
	return pid;
}

/* Actions and masks are kept; kill carries out SIGKILL and default
 * actions and leaves ignored signals alone; RLIMIT_AS is enforced. */
static void test_signals_and_limits(void)
{
	struct sigaction sa = { 0 }, old = { 0 };
	sa.sa_handler = on_usr1;
	int r1 = sigaction(SIGUSR1, &sa, NULL), r2 = sigaction(SIGUSR1, NULL, &old);
	check(r1 == 0 && r2 == 0 && old.sa_handler == on_usr1, "sigaction gives back the handler it was given");
	FAILS(sigaction(SIGKILL, &sa, NULL), EINVAL, "sigaction of SIGKILL");
	FAILS(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 4), EINVAL, "rt_sigaction with a sigset size of 4");
	signal(SIGUSR1, SIG_DFL);
	sigset_t set, got;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGKILL);
	int m1 = sigprocmask(SIG_BLOCK, &set, NULL), m2 = sigprocmask(SIG_SETMASK, NULL, &got);
	check(m1 == 0 && m2 == 0 && sigismember(&got, SIGUSR2) && !sigismember(&got, SIGKILL),
	      "sigprocmask blocks SIGUSR2 but not SIGKILL");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	int wr, status = 0;
	pid_t pid = waiting_child(SIG_DFL, &wr);
	int k = kill(pid, SIGKILL);
	pid_t w = waitpid(pid, &status, 0);
	check(pid > 0 && k == 0 && w == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "SIGKILL ends a child that waits in a read (status %#x)", status);
	close(wr);
	pid = waiting_child(SIG_DFL, &wr);
	k = kill(pid, SIGTERM);
	w = waitpid(pid, &status, 0);
	check(pid > 0 && k == 0 && w == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
	      "SIGTERM's default action ends it (status %#x)", status);
	close(wr);
	pid = waiting_child(SIG_IGN, &wr);
	k = kill(pid, SIGTERM);
	w = waitpid(pid, &status, WNOHANG);
	char c = 'g';
	int wrote = (int)write(wr, &c, 1);
	pid_t w2 = waitpid(pid, &status, 0);
	check(pid > 0 && k == 0 && w == 0 && wrote == 1 && w2 == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "an ignored SIGTERM leaves it running (status %#x)", status);
	close(wr);
	FAILS(kill(pid, SIGTERM), ESRCH, "kill of a reaped child");
	FAILS(kill(getpid(), 999), EINVAL, "kill with signal 999");
	pid = fork();
	if (pid == 0) {
		struct rlimit lim = { 32 << 20, 32 << 20 }, back;
		int ok = setrlimit(RLIMIT_AS, &lim) == 0 && getrlimit(RLIMIT_AS, &back) == 0 && back.rlim_cur == lim.rlim_cur;
		void *big = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		_exit(ok && big == MAP_FAILED && errno == ENOMEM ? 0 : 1);
	}
	check(reap(pid) == 0, "RLIMIT_AS: a 64 MiB mmap fails with ENOMEM under a 32 MiB limit");
}

static volatile sig_atomic_t got_sig, got_code, got_pid, blocked_inside;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	blocked_inside = sigismember(&now, sig);
	got_sig = sig;
	got_code = si->si_code;
	got_pid = si->si_pid;
}

static void on_plain(int sig) { got_sig = sig; }

static int handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	return sigaction(sig, &sa, NULL);
}

/* A child whose read of an empty pipe is interrupted by SIGUSR1 (with or
 * without SA_RESTART): 0 if it behaved as Linux does. */
static int interrupted_read(int restart)
{
	int p[2], ready[2];
	if (pipe(p) || pipe(ready))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		handle(SIGUSR1, on_plain, restart ? SA_RESTART : 0);
		close(p[1]);
		close(ready[0]);
		char c = 'r';
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		errno = 0;
		ssize_t n = read(p[0], &c, 1);
		if (restart)
			_exit(n == 1 && c == 'd' && got_sig == SIGUSR1 ? 0 : 3);
		_exit(n == -1 && errno == EINTR && got_sig == SIGUSR1 ? 0 : 4);
	}
	close(p[0]);
	close(ready[1]);
	char c;
	int ok = read(ready[0], &c, 1) == 1;
	usleep(100000); /* the child is in its read by now */
	ok = ok && kill(pid, SIGUSR1) == 0;
	usleep(100000);
	c = 'd';
	if (restart)
		ok = ok && write(p[1], &c, 1) == 1;
	int st = reap(pid);
	close(p[1]);
	close(ready[0]);
	return ok ? st : -1;
}

/* Delivery to handlers: to the caller itself before kill returns, held
 * while blocked, interrupting a read (or restarting it), SIGCHLD into
 * sigsuspend, SIGPIPE's default action, SA_RESETHAND. */
static void test_signal_delivery(void)
{
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	got_sig = 0;
	int k = kill(getpid(), SIGUSR1);
	check(k == 0 && got_sig == SIGUSR1, "a handler runs for a signal to ourselves before kill returns");
	check(got_code == SI_USER && got_pid == getpid(), "siginfo: SI_USER from our pid (code %d, pid %d)", (int)got_code,
	      (int)got_pid);
	check(blocked_inside, "the signal is blocked while its handler runs");
	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	got_sig = 0;
	kill(getpid(), SIGUSR1);
	sigpending(&pend);
	check(got_sig == 0 && sigismember(&pend, SIGUSR1), "blocked, it waits, and sigpending shows it");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	check(got_sig == SIGUSR1, "unblocked, it is delivered");
	signal(SIGUSR1, SIG_DFL);
	check(interrupted_read(0) == 0, "a read waiting in a pipe is interrupted: EINTR after the handler");
	check(interrupted_read(1) == 0, "with SA_RESTART the read goes on and gets its byte");
	sigprocmask(SIG_BLOCK, &set, NULL); /* no SIGUSR1 here: only SIGCHLD is awaited */
	handle(SIGCHLD, on_plain, 0);
	sigset_t chld, empty;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	got_sig = 0;
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	sigemptyset(&empty);
	int r = sigsuspend(&empty);
	int e = errno;
	check(r == -1 && e == EINTR && got_sig == SIGCHLD, "sigsuspend returns EINTR after the SIGCHLD handler");
	reap(pid);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGCHLD, SIG_DFL);
	int p[2];
	pipe(p);
	pid = fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		close(p[0]);
		char c = 'x';
		write(p[1], &c, 1);
		_exit(0);
	}
	close(p[0]);
	close(p[1]);
	int st = 0;
	waitpid(pid, &st, 0);
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE, "a write to a pipe without readers: SIGPIPE ends the writer (%#x)", st);
	handle(SIGUSR2, on_plain, SA_RESETHAND);
	got_sig = 0;
	kill(getpid(), SIGUSR2);
	struct sigaction now;
	sigaction(SIGUSR2, NULL, &now);
	check(got_sig == SIGUSR2 && now.sa_handler == SIG_DFL, "SA_RESETHAND: the action is the default again after one");
}

static long long ms_since(const struct timespec *t0);

/* /proc/PID/stat as ps reads it: pid, name, state, ppid, group, session. */
static int read_stat(pid_t pid, char *state, int v[4])
{
	char path[64], buf[512], name[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int n = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	return n && sscanf(buf, "%d (%63[^)]) %c %d %d %d", &v[0], name, state, &v[1], &v[2], &v[3]) == 6;
}

static void test_proc_stat(void)
{
	char st;
	int v[4];
	int ok = read_stat(getpid(), &st, v);
	check(ok && v[0] == getpid() && v[1] == getppid() && v[2] == getpgrp() && v[3] == getsid(0) && st == 'R',
	      "/proc/self/stat: our pid, parent, group, session; running");
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	usleep(100000);
	ok = read_stat(pid, &st, v);
	check(ok && st == 'Z' && v[1] == getpid(), "a child that has ended is a zombie there until reaped (%c)", ok ? st : '?');
	reap(pid);
	char cmd[64] = { 0 };
	FILE *f = fopen("/proc/self/cmdline", "r");
	size_t n = f ? fread(cmd, 1, sizeof(cmd) - 1, f) : 0;
	if (f)
		fclose(f);
	check(n > 0 && strstr(cmd, "proc_test") != NULL, "/proc/self/cmdline starts with our argv[0] (%s)", cmd);
}

/* Cases a review of the server found (each once a hang, a loss or a
 * server crash there). */
static void test_review_cases(void)
{
	/* a read of more than a page from a pipe that holds less */
	int p[2];
	static char big[65536];
	pipe(p);
	memset(big, 'q', 8192);
	ssize_t w = write(p[1], big, 8192), r = read(p[0], big, sizeof(big));
	check(w == 8192 && r == 8192, "a 64 KiB read of a pipe holding 8 KiB returns the 8 KiB (%zd)", r);
	close(p[0]);
	close(p[1]);
	/* a vfork child that signals its parent, which has a handler */
	handle(SIGUSR1, on_plain, 0);
	got_sig = 0;
	pid_t pid = vfork();
	if (pid == 0) {
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	check(pid > 0 && reap(pid) == 0 && got_sig == SIGUSR1, "a vfork parent gets its child's signal once the child is gone");
	signal(SIGUSR1, SIG_DFL);
	/* a sleep while another process makes system calls without pause */
	pid = fork();
	if (pid == 0)
		for (;;)
			getppid();
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	usleep(200000);
	long long ms = ms_since(&t0);
	kill(pid, SIGKILL);
	int st = 0;
	waitpid(pid, &st, 0);
	check(ms >= 190 && ms < 10000, "a 200 ms sleep ends while a sibling loops on system calls (%lld ms)", ms);
	/* a vfork child that kills its parent: the memory it shares stays its own */
	pid = fork();
	if (pid == 0) {
		static volatile int shared = 1;
		if (vfork() == 0) {
			kill(getppid(), SIGKILL);
			shared = 2; /* the parent's memory, in use after the parent is gone */
			char stack[8192];
			memset(stack, 1, sizeof(stack));
			_exit(stack[100] + shared == 3 ? 0 : 1);
		}
		_exit(5); /* not reached: SIGKILL */
	}
	waitpid(pid, &st, 0);
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "a vfork child kills its parent: the parent ends by SIGKILL (%#x)", st);
	/* placing a mapping past many huge ones */
	void *huge[20];
	int made = 0;
	for (int i = 0; i < 20; i++)
		made += (huge[i] = mmap(NULL, 1ull << 40, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)) != MAP_FAILED;
	void *small = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(made == 20 && small != MAP_FAILED, "after 20 mappings of 1 TiB, a page is placed at once");
	for (int i = 0; i < 20; i++)
		if (huge[i] != MAP_FAILED)
			munmap(huge[i], 1ull << 40);
	munmap(small, 4096);
	/* SIGCHLD ignored: children leave no zombie */
	signal(SIGCHLD, SIG_IGN);
	pid = fork();
	if (pid == 0)
		_exit(0);
	usleep(100000);
	errno = 0;
	pid_t got = waitpid(pid, &st, WNOHANG);
	int e = errno;
	signal(SIGCHLD, SIG_DFL);
	check(got == -1 && e == ECHILD, "with SIGCHLD ignored, an ended child is reaped at once (ECHILD)");
}

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* poll and select on a pipe: nothing to read, then data, then the end;
 * a timeout that passes; a child that writes while the parent waits. */
static void test_poll_select(void)
{
	int p[2];
	if (pipe(p) != 0) {
		check(0, "pipe for poll");
		return;
	}
	struct pollfd fds[2] = { { p[0], POLLIN, 0 }, { p[1], POLLOUT, 0 } };
	int n = poll(fds, 2, 0);
	check(n == 1 && fds[0].revents == 0 && (fds[1].revents & POLLOUT), "poll: an empty pipe can be written, not read (%d)", n);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = poll(fds, 1, 100);
	long long ms = ms_since(&t0);
	check(n == 0 && ms >= 90, "poll of the empty read end times out after 100 ms (%d, %lld ms)", n, ms);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(50000);
		_exit(write(p[1], "x", 1) == 1 ? 0 : 1);
	}
	n = poll(fds, 1, 5000);
	check(n == 1 && (fds[0].revents & POLLIN), "poll waits until a child writes (%d, revents %#x)", n, fds[0].revents);
	reap(pid);
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	struct timeval tv = { 0, 0 };
	n = select(p[1] + 1, &r, &w, NULL, &tv);
	check(n == 2 && FD_ISSET(p[0], &r) && FD_ISSET(p[1], &w), "select: both ends ready (%d)", n);
	char c;
	n = (int)read(p[0], &c, 1);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv.tv_usec = 50000;
	int m = select(p[0] + 1, &r, NULL, NULL, &tv);
	check(n == 1 && m == 0 && !FD_ISSET(p[0], &r), "select of a drained pipe times out, its bit cleared (%d)", m);
	close(p[1]);
	fds[0].revents = 0;
	n = poll(fds, 1, 1000);
	check(n == 1 && (fds[0].revents & POLLHUP), "poll: POLLHUP once the writer is closed (revents %#x)", fds[0].revents);
	close(p[0]);
	fds[0].revents = 0;
	n = poll(fds, 1, 0);
	check(n == 1 && fds[0].revents == POLLNVAL, "poll of a closed fd: POLLNVAL (revents %#x)", fds[0].revents);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv.tv_usec = 0;
	FAILS(select(p[0] + 1, &r, NULL, NULL, &tv), EBADF, "select of a closed fd");
	FAILS(poll((struct pollfd *)wild, 1, 0), EFAULT, "poll of a wild pointer");
}

int main(void)
{
	printf("# proc_test: fork, clone, vfork, wait4, execve, pipes, process groups\n");
	signal(SIGPIPE, SIG_IGN);
	test_fork_memory();
	test_fork_status_and_fds();
	test_clone();
	test_vfork();
	test_wait_any_and_one();
	test_wait_nohang();
	test_wait_faults();
	test_exec();
	test_exec_errors();
	test_exec_cloexec();
	test_pipe_basics();
	test_pipe_short_read();
	test_pipe2_flags();
	test_pipe_eof();
	test_pipe_big();
	test_pipe_exec();
	test_poll_select();
	test_signals_and_limits();
	test_signal_delivery();
	test_groups();
	test_orphan();
	test_proc_stat();
	test_review_cases(); /* last: as process 1 we inherit the orphan one of them leaves */
	printf("# proc_test: %d checks, %d failed\n", checks, failures);
	return failures;
}
