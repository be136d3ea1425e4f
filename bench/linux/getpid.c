/* BENCH linux_getpid: the round trip of syscall(SYS_getpid) from an
 * unmodified static binary, counted in instructions (under QEMU's
 * -icount shift=0 the TSC advances once per instruction).  The same
 * program measures native Linux the same way. */
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <x86intrin.h>

#define N 10000

int main(void)
{
	long pid = syscall(SYS_getpid);
	unsigned long long t0 = __rdtsc();
	for (int i = 0; i < N; i++)
		pid ^= syscall(SYS_getpid);
	unsigned long long t1 = __rdtsc();
	/* the loop without the system call, to subtract */
	unsigned long long e0 = __rdtsc();
	for (int i = 0; i < N; i++)
		__asm__ volatile("" ::: "memory");
	unsigned long long e1 = __rdtsc();
	unsigned long long per = ((t1 - t0) - (e1 - e0)) / N;
	printf("BENCH linux_getpid %llu insns\n", per);
	return pid == syscall(SYS_getpid) ? 0 : 1; /* an even number of xors: the pid again */
}
