/* The Linux server under garbage: child processes make random system
 * calls (numbers 0..460, arguments drawn from edge values, small numbers,
 * wild and valid pointers), with a seeded generator.  A child may crash,
 * exit, block for ever or fill its memory: the server must go on serving.
 * The parent checks after each child that it still answers ordinary calls
 * correctly, and prints one "ok" line per round and a summary.  Exits 0 if
 * every round's checks held. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 24
#define CALLS 3000

static unsigned long long rng;

static unsigned long long next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static char scratch[8192];

/* An argument: edge values, small numbers (fds, flags, lengths), wild
 * pointers and pointers into the child's own memory. */
static long arg(void)
{
	switch (next() % 10) {
	case 0: return 0;
	case 1: return -1;
	case 2: return (long)(next() % 64);
	case 3: return (long)(next() % 4096);
	case 4: return (long)next();
	case 5: return (long)(scratch + next() % sizeof(scratch));
	case 6: return (long)0x7ffe00000000ull - (long)(next() % 0x10000);
	case 7: return (long)0xffff800000000000ull + (long)(next() % 4096);
	case 8: return 1L << (next() % 63);
	default: return (long)(next() & 0xffffffff);
	}
}

/* Calls that would only end the round early or harm the harness, not the
 * server: exit (the child ends anyway), the signals and process-group
 * calls that could reach the parent, new processes (each of which would
 * fuzz too: a fork bomb fills the process table, which is a limit, not a
 * fault) and raising the memory limit the parent set. */
static int skipped(long nr)
{
	return nr == SYS_exit || nr == SYS_exit_group || nr == SYS_kill || nr == SYS_tgkill || nr == SYS_tkill ||
	       nr == SYS_setsid || nr == SYS_setpgid || nr == SYS_reboot || nr == SYS_vhangup || nr == SYS_fork ||
	       nr == SYS_vfork || nr == SYS_clone || nr == SYS_clone3 || nr == SYS_prlimit64 || nr == SYS_setrlimit;
}

static int verbose;

static void child(unsigned long long seed, int round)
{
	/* relative garbage paths land in a directory of its own (which the
	 * child may still leave: it is root, and the tree is all writable) */
	char dir[32];
	snprintf(dir, sizeof(dir), "/tmp/fuzz%d", round);
	mkdir(dir, 0700);
	chdir(dir);
	int null = open("/dev/null", O_RDWR);
	if (!verbose) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	rng = seed;
	for (int i = 0; i < CALLS; i++) {
		long nr = (long)(next() % 461), a[6];
		if (skipped(nr))
			continue;
		for (int k = 0; k < 6; k++)
			a[k] = arg();
		if (verbose) {
			char line[160];
			int n = snprintf(line, sizeof(line), "# %d: %ld(%lx, %lx, %lx, %lx, %lx, %lx)\n", i, nr, a[0], a[1],
					 a[2], a[3], a[4], a[5]);
			syscall(SYS_write, 2, line, n);
		}
		syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	_exit(0);
}

/* Ordinary calls still work: a file written and read back, a pipe, a
 * stat.  (The file is in /, which a child cannot take away as it could
 * /tmp.) */
static int server_sane(int round)
{
	char path[32], buf[16];
	snprintf(path, sizeof(path), "/sane%d", round);
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	int ok = fd >= 0 && write(fd, "sane", 4) == 4 && lseek(fd, 0, SEEK_SET) == 0 && read(fd, buf, 4) == 4 &&
		 !memcmp(buf, "sane", 4);
	close(fd);
	unlink(path);
	int p[2];
	ok = ok && pipe(p) == 0 && write(p[1], "x", 1) == 1 && read(p[0], buf, 1) == 1 && buf[0] == 'x';
	close(p[0]);
	close(p[1]);
	struct stat st;
	return ok && stat("/", &st) == 0 && S_ISDIR(st.st_mode) && getpid() == syscall(SYS_getpid);
}

int main(int argc, char **argv)
{
	unsigned long long seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x5eedull;
	int first = argc > 2 ? atoi(argv[2]) : 0; /* sysfuzz SEED ROUND: that round alone, again */
	int rounds = argc > 2 ? first + 1 : ROUNDS;
	verbose = argc > 3;
	printf("# sysfuzz: %d rounds of %d random system calls, seed %#llx\n", ROUNDS, CALLS, seed);
	signal(SIGPIPE, SIG_IGN);
	/* each child may take 64 MiB of address space (the server's RAM is
	 * shared by all, and a blocked child keeps what it has) */
	struct rlimit as = { 64 << 20, 64 << 20 };
	check(setrlimit(RLIMIT_AS, &as) == 0, "RLIMIT_AS of 64 MiB for the children");
	int blocked = 0, crashed = 0;
	for (int round = first; round < rounds; round++) {
		pid_t pid = fork();
		if (pid == 0)
			child(seed + (unsigned long long)round * 0x9e3779b97f4a7c15ull, round);
		int status = 0, waited = 0;
		/* a child that blocks for ever (a read of the console, a wait) is ended after a second */
		for (int t = 0; t < 100 && waited == 0; t++) {
			waited = waitpid(pid, &status, WNOHANG);
			if (waited == 0)
				usleep(10000);
		}
		int k = 0, was_blocked = waited == 0;
		if (was_blocked) { /* ended by SIGKILL, which needs no handler */
			blocked++;
			k = kill(pid, SIGKILL);
			waited = waitpid(pid, &status, 0);
		}
		check(waited == pid && k == 0 && (!was_blocked || (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)),
		      "round %d: the child ended%s", round, was_blocked ? " (blocked: by SIGKILL)" : "");
		crashed += !was_blocked && waited == pid && WIFSIGNALED(status);
		int sane = pid > 0 && server_sane(round);
		check(sane, "round %d: the server still serves (child %d %s)", round, pid,
		      WIFSIGNALED(status) ? "killed" : "exited");
	}
	printf("# sysfuzz: %d children blocked, %d crashed, %d failures\n", blocked, crashed, failures);
	return failures;
}
