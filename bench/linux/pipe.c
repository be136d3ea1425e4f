/* BENCH linux_pipe_rtt: a 1-byte round trip between two processes over
 * two pipes (the parent writes a byte, the child reads it and writes it
 * back), counted in instructions as linux_getpid is.  Linux 6.1 takes
 * 12,954 (shared/MISSION.md). */
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>
#include <x86intrin.h>

#define N 1000

int main(void)
{
	int there[2], back[2];
	if (pipe(there) || pipe(back))
		return 1;
	pid_t child = fork();
	if (child < 0)
		return 1;
	char c = 'x';
	if (child == 0) {
		close(there[1]); /* else the child's own copy keeps it from seeing the end */
		close(back[0]);
		while (read(there[0], &c, 1) == 1 && write(back[1], &c, 1) == 1)
			;
		_exit(0);
	}
	close(there[0]);
	close(back[1]);
	/* one round trip first, so that both have faulted in what they use */
	if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1)
		return 1;
	unsigned long long t0 = __rdtsc();
	for (int i = 0; i < N; i++)
		if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1)
			return 1;
	unsigned long long t1 = __rdtsc();
	close(there[1]);
	int status;
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	printf("BENCH linux_pipe_rtt %llu insns\n", (t1 - t0) / N);
	return 0;
}
