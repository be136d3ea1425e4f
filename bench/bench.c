/*
 * make bench: system-call and IPC path lengths.  Booted under QEMU with
 * -icount shift=0, where the TSC advances once per guest instruction, so
 * every figure is a deterministic instruction count per operation, with
 * the cost of the measuring loop itself subtracted.
 */
#include <l4/runtime.h>

#define ITERATIONS 100000
#define WARMUP 1000

static u8 stack_a[8192] __attribute__((aligned(16)));
static u8 stack_b[8192] __attribute__((aligned(16)));

static u64 loop_overhead;

static void report(const char *name, u64 total, u64 n)
{
	u64 per = (total + n / 2) / n;
	per = per > loop_overhead ? per - loop_overhead : 0;
	printf("BENCH %s %llu insns\n", name, per);
}

static u64 measure_empty_loop(void)
{
	u64 t0 = l4_rdtsc();
	for (int i = 0; i < ITERATIONS; i++)
		__asm__ volatile("" ::: "memory");
	u64 t1 = l4_rdtsc();
	return (t1 - t0 + ITERATIONS / 2) / ITERATIONS;
}

static void null_syscall(void)
{
	u64 t0 = l4_rdtsc();
	for (int i = 0; i < ITERATIONS; i++)
		l4_kdebug(L4_KD_NOP, 0, 0);
	report("null_syscall", l4_rdtsc() - t0, ITERATIONS);
}

/* Echo server: waits for a call, replies and waits again, forever. */
static void echo_server(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t client;
	l4_wait(&m, &client);
	for (;;)
		l4_reply_wait(client, &m, &client);
}

static void rtt(const char *name, l4_tid_t server, unsigned words)
{
	struct l4_msg m = { { L4_TAG_MAKE(1, words, 0) } };
	for (int i = 0; i < WARMUP; i++)
		l4_call(server, &m);
	u64 t0 = l4_rdtsc();
	for (int i = 0; i < ITERATIONS; i++) {
		m.mr[0] = L4_TAG_MAKE(1, words, 0);
		l4_call(server, &m);
	}
	u64 total = l4_rdtsc() - t0;
	report(name, total, ITERATIONS);
}

int main(void)
{
	const struct l4_kip *k = l4_kip();
	loop_overhead = measure_empty_loop();
	printf("bench: TSC %llu kHz, %d iterations, loop overhead %llu insns (subtracted)\n",
	       k->tsc_hz / 1000, ITERATIONS, loop_overhead);
	null_syscall();
	l4_tid_t intra = l4_spawn_thread(echo_server, 0, stack_a, sizeof(stack_a));
	rtt("ipc_intra_rtt", intra, 0);
	l4_tid_t pager = l4_mirror_pager_start();
	l4_tid_t inter = l4_spawn_task(pager, echo_server, 0, stack_b, sizeof(stack_b));
	rtt("ipc_inter_rtt", inter, 0);
	rtt("ipc_inter_rtt_7w", inter, 7);
	l4_delete_task(inter);
	l4_delete_thread(intra);
	return 0;
}
