/*
 * FPU state is each thread's own: three threads (two in this task, one in
 * another) keep different values in all sixteen XMM registers (and the YMM
 * upper halves where the CPU has AVX) while they are switched around by
 * yields and by time-slice preemption; none may ever see another's.
 */
#include "util.h"
#include "../../lib/common/string.h"

#define ROUNDS 300
static test_stack_t stacks[4];
static u8 pattern[3][512] __attribute__((aligned(64)));
static volatile u64 rounds[3], mismatches[3], first_turn[3], last_turn[3], turn;
static bool avx;
static l4_tid_t main_tid;

static void load(const u8 *p)
{
	__asm__ volatile("movdqu 0(%0), %%xmm0; movdqu 16(%0), %%xmm1; movdqu 32(%0), %%xmm2; movdqu 48(%0), %%xmm3;"
			 "movdqu 64(%0), %%xmm4; movdqu 80(%0), %%xmm5; movdqu 96(%0), %%xmm6; movdqu 112(%0), %%xmm7;"
			 "movdqu 128(%0), %%xmm8; movdqu 144(%0), %%xmm9; movdqu 160(%0), %%xmm10; movdqu 176(%0), %%xmm11;"
			 "movdqu 192(%0), %%xmm12; movdqu 208(%0), %%xmm13; movdqu 224(%0), %%xmm14; movdqu 240(%0), %%xmm15"
			 ::"r"(p) : "memory");
	if (avx)
		__asm__ volatile("vinserti128 $1, 256(%0), %%ymm0, %%ymm0; vinserti128 $1, 272(%0), %%ymm1, %%ymm1;"
				 "vinserti128 $1, 288(%0), %%ymm15, %%ymm15" ::"r"(p) : "memory");
}

static void store(u8 *p)
{
	__asm__ volatile("movdqu %%xmm0, 0(%0); movdqu %%xmm1, 16(%0); movdqu %%xmm2, 32(%0); movdqu %%xmm3, 48(%0);"
			 "movdqu %%xmm4, 64(%0); movdqu %%xmm5, 80(%0); movdqu %%xmm6, 96(%0); movdqu %%xmm7, 112(%0);"
			 "movdqu %%xmm8, 128(%0); movdqu %%xmm9, 144(%0); movdqu %%xmm10, 160(%0); movdqu %%xmm11, 176(%0);"
			 "movdqu %%xmm12, 192(%0); movdqu %%xmm13, 208(%0); movdqu %%xmm14, 224(%0); movdqu %%xmm15, 240(%0)"
			 ::"r"(p) : "memory");
	if (avx)
		__asm__ volatile("vextracti128 $1, %%ymm0, 256(%0); vextracti128 $1, %%ymm1, 272(%0);"
				 "vextracti128 $1, %%ymm15, 288(%0)" ::"r"(p) : "memory");
}

static void worker(u64 me)
{
	u8 seen[512] __attribute__((aligned(16)));
	u64 span = avx ? 304 : 256;
	load(pattern[me]);
	for (int r = 0; r < ROUNDS; r++) {
		for (volatile int spin = 0; spin < 2000; spin++)
			;
		store(seen);
		if (memcmp(seen, pattern[me], span))
			mismatches[me]++;
		rounds[me]++;
		u64 now = __atomic_add_fetch(&turn, 1, __ATOMIC_RELAXED);
		if (r == 0)
			first_turn[me] = now;
		last_turn[me] = now;
		if (r % 3 == 0)
			l4_yield();
	}
	struct l4_msg m = { { L4_TAG_MAKE(1, 0, 0) } };
	l4_send(main_tid, &m);
	struct l4_msg none;
	l4_receive(l4_myself(), &none);
}

int main(void)
{
	main_tid = l4_myself();
	u32 a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	bool osxsave_avx = (c & (1u << 28)) && (c & (1u << 27));
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
	avx = osxsave_avx && (b & (1u << 5)); /* vinserti128/vextracti128 are AVX2 */
	for (int t = 0; t < 3; t++)
		for (int i = 0; i < 512; i++)
			pattern[t][i] = (u8)(t * 77 + i * 13 + 1);
	l4_tid_t w[3];
	w[0] = l4_spawn_thread(worker, 0, stacks[0], STACK_SIZE);
	w[1] = l4_spawn_thread(worker, 1, stacks[1], STACK_SIZE);
	memset(stacks[2], 0, STACK_SIZE);
	w[2] = l4_spawn_task(l4_mirror_pager_start(), worker, 2, stacks[2], STACK_SIZE);
	for (int i = 0; i < 3; i++) {
		struct l4_msg m;
		l4_receive(w[i], &m);
	}
	u64 latest_start = 0, earliest_end = ~0ull;
	for (int i = 0; i < 3; i++) {
		latest_start = first_turn[i] > latest_start ? first_turn[i] : latest_start;
		earliest_end = last_turn[i] < earliest_end ? last_turn[i] : earliest_end;
	}
	CHECK(rounds[0] == ROUNDS && rounds[1] == ROUNDS && rounds[2] == ROUNDS && latest_start < earliest_end,
	      "three threads in two tasks used the FPU %d rounds each, all at the same time", ROUNDS);
	CHECK(mismatches[0] + mismatches[1] + mismatches[2] == 0,
	      "none saw another's XMM0-15%s (%llu, %llu, %llu mismatches)", avx ? " or YMM0/1/15 upper halves" : "", mismatches[0],
	      mismatches[1], mismatches[2]);
	printf("# AVX %s\n", avx ? "used" : "not offered by this CPU");
	l4_delete_thread(w[0]);
	l4_delete_thread(w[1]);
	l4_delete_task(w[2]);
	return t_done("t_fpu");
}
