/* The Linux server's process, memory, time and identity calls, with their
 * error cases, as an ordinary static program (glibc and musl).  Prints
 * "ok N - what" or "not ok N - what" per check and exits with the number
 * of failures. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

#include "check.h"

/* The raw system call's result: -errno on failure, as the kernel gives it. */
#define RAW(...) syscall(__VA_ARGS__) == -1 ? -errno : 0

static void test_memory(void)
{
	char *a = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(a != MAP_FAILED, "mmap of 3 anonymous pages");
	check(a[0] == 0 && a[3 * 4096 - 1] == 0, "they read as zeros");
	memset(a, 7, 3 * 4096);
	check(a[4096] == 7, "and keep what is written");
	check(mprotect(a + 4096, 4096, PROT_READ) == 0, "mprotect of the middle page to read-only");
	check(a[4096] == 7, "which still reads its data");
	check(munmap(a, 3 * 4096) == 0, "munmap of all three");
	char *b = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(b != MAP_FAILED && b[0] == 0, "a new mapping is zeroed again");
	munmap(b, 4096);
	errno = 0;
	check(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL,
	      "mmap of 0 bytes: EINVAL");
	errno = 0;
	check(munmap((void *)0x1001, 4096) == -1 && errno == EINVAL, "munmap of an unaligned address: EINVAL");
	char *fixed = mmap((void *)0x200000000000ull, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			   -1, 0);
	check(fixed == (void *)0x200000000000ull, "MAP_FIXED lands where asked");
	fixed[100] = 1;
	munmap(fixed, 4096);
	/* the raw call: musl's sbrk only reports the break */
	char *cur = (char *)syscall(SYS_brk, 0);
	check(cur != NULL && (char *)syscall(SYS_brk, cur + 8192) == cur + 8192, "brk grows by 8 KiB");
	memset(cur, 1, 8192);
	check((char *)syscall(SYS_brk, cur) == cur, "and shrinks back");
	check((char *)syscall(SYS_brk, (void *)4096) == cur, "a break below the start is refused: the old one");
	char *big = malloc(4 << 20);
	check(big != NULL, "malloc of 4 MiB");
	if (big) {
		memset(big, 0x5a, 4 << 20);
		check(big[(4 << 20) - 1] == 0x5a, "all of it usable");
		free(big);
	}
}

static __thread int tls_var = 42;

static void test_tls_and_identity(void)
{
	unsigned long fs = 0;
	check(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs) == 0 && fs != 0, "ARCH_GET_FS: the libc set a TLS base");
	check(tls_var == 42, "thread-local storage works");
	check(RAW(SYS_arch_prctl, 0x9999, 0) == -EINVAL, "arch_prctl with an unknown code: EINVAL");
	check(RAW(SYS_arch_prctl, ARCH_GET_FS, (void *)8) == -EFAULT, "ARCH_GET_FS to a wild pointer: EFAULT");
	struct utsname u;
	check(uname(&u) == 0 && !strcmp(u.sysname, "Linux") && !strcmp(u.machine, "x86_64"), "uname: Linux, x86_64");
	check(RAW(SYS_uname, (void *)16) == -EFAULT, "uname to a wild pointer: EFAULT");
	check(getpid() == 1 && syscall(SYS_gettid) == 1, "the first process is pid 1 and its thread tid 1");
	check(getppid() == 0, "its parent is 0");
	check(getuid() == 0 && geteuid() == 0 && getgid() == 0 && getegid() == 0, "it runs as root");
	struct rlimit r;
	check(getrlimit(RLIMIT_STACK, &r) == 0 && r.rlim_cur == 8u << 20, "RLIMIT_STACK is 8 MiB");
	check(RAW(SYS_prlimit64, 0, 99, NULL, &r) == -EINVAL, "an unknown resource: EINVAL");
	check(RAW(SYS_prlimit64, 0, RLIMIT_STACK, NULL, (void *)16) == -EFAULT, "prlimit64 to a wild pointer: EFAULT");
}

static void test_time_and_random(void)
{
	struct timespec t0, t1;
	check(clock_gettime(CLOCK_MONOTONIC, &t0) == 0, "clock_gettime");
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	check(nanosleep(&nap, NULL) == 0, "nanosleep of 20 ms");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	check(ms >= 20 && ms < 2000, "took at least 20 ms (%ld)", ms);
	nap.tv_nsec = 1000000000;
	errno = 0;
	check(nanosleep(&nap, NULL) == -1 && errno == EINVAL, "nanosleep with 10^9 ns: EINVAL");
	check(RAW(SYS_clock_gettime, 99, &t0) == -EINVAL, "an unknown clock: EINVAL");
	check(RAW(SYS_clock_gettime, CLOCK_REALTIME, (void *)16) == -EFAULT, "clock_gettime to a wild pointer: EFAULT");
	struct timeval tv;
	check(gettimeofday(&tv, NULL) == 0 && tv.tv_usec < 1000000, "gettimeofday");
	check(time(NULL) >= 0, "time");
	unsigned char r1[32], r2[32];
	check(syscall(SYS_getrandom, r1, sizeof(r1), 0) == 32 && syscall(SYS_getrandom, r2, sizeof(r2), 0) == 32,
	      "getrandom fills 32 bytes");
	check(memcmp(r1, r2, sizeof(r1)) != 0, "and differs from call to call");
	check(RAW(SYS_getrandom, (void *)16, 8, 0) == -EFAULT, "getrandom to a wild pointer: EFAULT");
	check(sched_yield() == 0, "sched_yield");
	struct sysinfo si;
	int r = sysinfo(&si); /* before the check: its arguments read si in no set order */
	check(r == 0 && si.mem_unit >= 1 && si.totalram > (16ul << 20) / si.mem_unit && si.freeram <= si.totalram &&
		      si.procs >= 1,
	      "sysinfo: RAM, free RAM, processes (%lu MiB, %u)", si.totalram * si.mem_unit >> 20, si.procs);
	check(RAW(SYS_sysinfo, (void *)16) == -EFAULT, "sysinfo to a wild pointer: EFAULT");
	check(RAW(999) == -ENOSYS, "an unknown system call: ENOSYS");
}

int main(void)
{
	test_memory();
	test_tls_and_identity();
	test_time_and_random();
	printf("# sys_test: %d checks, %d failed\n", checks, failures);
	return failures;
}
