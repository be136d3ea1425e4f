/* BENCH linux_fork_wait: fork, the child's _exit and the parent's waitpid,
 * counted in instructions as linux_getpid is, for a small static program
 * (a few dozen pages of its own). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include <x86intrin.h>

#define N 200

static int once(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	int status;
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7;
}

int main(void)
{
	if (!once()) /* the first one faults in what the others use */
		return 1;
	unsigned long long t0 = __rdtsc();
	for (int i = 0; i < N; i++)
		if (!once())
			return 1;
	unsigned long long t1 = __rdtsc();
	printf("BENCH linux_fork_wait %llu insns\n", (t1 - t0) / N);
	return 0;
}
