/*
 * Exceptions as IPC: each exception kind reaches the thread's exception
 * handler with the right vector, registers and fault address, and the
 * thread resumes as the handler's reply says; an alien thread's syscall and
 * int 0x80 reach the handler with the Linux argument registers and get the
 * reply's RAX back.
 */
#include "util.h"
#include "../../lib/common/string.h"

static test_stack_t stacks[4];
static l4_tid_t main_tid, handler_tid;

/* What the handler saw last, and what it does about it. */
static volatile u64 seen[L4_EXC_WORDS + 1];
static volatile u64 skip;       /* bytes to advance RIP by */
static volatile u64 answer_rax; /* RAX to return */
static volatile u64 new_rip, new_rsp, new_fs; /* if set: where to go on */
static volatile bool short_reply, stop_it;

static void exc_handler(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t from;
	for (;;) {
		u64 tag = l4_wait(&m, &from);
		if (l4_ipc_failed(tag) || L4_TAG_LABEL(tag) != L4_LABEL_EXCEPTION || L4_TAG_U(tag) < L4_EXC_WORDS)
			continue;
		struct l4_utcb *u = l4_utcb();
		if (seen[L4_EXC_VECTOR] != ~0ull) {
			/* a victim's later exceptions (an alien thread cannot even halt
			 * itself with an L4 call when it is done): it is finished */
			l4_delete_thread(from);
			continue;
		}
		for (unsigned i = 1; i <= L4_EXC_WORDS; i++)
			seen[i] = i < L4_MR_REGS ? m.mr[i] : u->mr[i];
		if (stop_it) {
			l4_delete_thread(from);
			continue;
		}
		if (short_reply) {
			m.mr[0] = L4_TAG_MAKE(0, 1, 0);
			m.mr[1] = answer_rax;
		} else {
			u64 w[L4_EXC_WORDS + 1];
			for (unsigned i = 1; i <= L4_EXC_WORDS; i++)
				w[i] = seen[i];
			w[L4_EXC_RIP] = new_rip ? new_rip : w[L4_EXC_RIP] + skip;
			if (new_rsp)
				w[L4_EXC_RSP] = new_rsp;
			if (new_fs)
				w[L4_EXC_FS_BASE] = new_fs;
			w[L4_EXC_RAX] = answer_rax;
			w[L4_EXC_RFLAGS] &= ~(1ull << 18); /* clear AC after an alignment check */
			m.mr[0] = L4_TAG_MAKE(0, L4_EXC_WORDS, 0);
			for (unsigned i = 1; i <= L4_EXC_WORDS; i++) {
				if (i < L4_MR_REGS)
					m.mr[i] = w[i];
				else
					u->mr[i] = w[i];
			}
		}
		l4_ipc(from, L4_NILTHREAD, L4_POLL, &m, NULL);
	}
}

/* Each victim records where its faulting instruction is and what RAX it
 * ends up with. */
static volatile u64 at_rip, after_rax, resumed;

static void do_ud2(u64 a)
{
	(void)a;
	u64 rax;
	__asm__ volatile("lea 1f(%%rip), %%rcx; mov %%rcx, %1; xor %%eax, %%eax; 1: ud2"
			 : "=a"(rax), "=m"(at_rip)::"rcx", "memory");
	after_rax = rax;
	resumed = 1;
}

static void do_div0(u64 a)
{
	(void)a;
	u64 rax;
	__asm__ volatile("lea 1f(%%rip), %%rcx; mov %%rcx, %1; xor %%ecx, %%ecx; xor %%edx, %%edx; mov $5, %%eax;"
			 "1: divq %%rcx"
			 : "=a"(rax), "=m"(at_rip)::"rcx", "rdx", "memory");
	after_rax = rax;
	resumed = 1;
}

static void do_int3(u64 a)
{
	(void)a;
	u64 rax;
	__asm__ volatile("lea 1f(%%rip), %%rcx; mov %%rcx, %1; int3; 1:" : "=a"(rax), "=m"(at_rip)::"rcx", "memory");
	after_rax = rax;
	resumed = 1;
}

static void do_hlt(u64 a)
{
	(void)a;
	u64 rax;
	__asm__ volatile("lea 1f(%%rip), %%rcx; mov %%rcx, %1; 1: hlt" : "=a"(rax), "=m"(at_rip)::"rcx", "memory");
	after_rax = rax;
	resumed = 1;
}

static void do_int80(u64 a)
{
	(void)a;
	u64 rax = 11;
	__asm__ volatile("lea 1f(%%rip), %%rcx; mov %%rcx, %1; int $0x80; 1:" : "+a"(rax), "=m"(at_rip)::"rcx", "memory");
	after_rax = rax;
	resumed = 1;
}

static void do_wild_load(u64 a)
{
	(void)a;
	u64 rax = 0x10;
	__asm__ volatile("lea 1f(%%rip), %%rcx; mov %%rcx, %1; 1: movq (%%rax), %%rax" : "+a"(rax), "=m"(at_rip)::"rcx", "memory");
	after_rax = rax;
	resumed = 1;
}

/* An x87 division by zero with the exception unmasked: the error is
 * raised at the next waiting instruction, the fwait (#MF).  Skipping it
 * lands on fnclex, which clears the error. */
static void do_x87_error(u64 a)
{
	(void)a;
	static const u16 cw = 0x37b; /* default, zero divide unmasked */
	u64 rax;
	__asm__ volatile("fninit; fldcw %2; fldz; fld1; fdivp;"
			 "lea 1f(%%rip), %%rcx; mov %%rcx, %1; 1: fwait; fnclex; fninit"
			 : "=a"(rax), "=m"(at_rip)
			 : "m"(cw)
			 : "rcx", "memory"); /* no x87 or SSE clobbers: this code uses general registers only */
	after_rax = rax;
	resumed = 1;
}

/* An SSE division by zero with the exception unmasked in MXCSR (#XM);
 * the handler skips the 4-byte divss. */
static void do_simd_error(u64 a)
{
	(void)a;
	static const u32 mxcsr = 0x1f80 & ~(1u << 9); /* zero divide unmasked */
	static const u32 mxcsr_default = 0x1f80;
	u64 rax;
	__asm__ volatile("ldmxcsr %2; mov $0x3f800000, %%eax; movd %%eax, %%xmm0; xorps %%xmm1, %%xmm1; /* 1.0 / 0.0 */"
			 "lea 1f(%%rip), %%rcx; mov %%rcx, %1; 1: divss %%xmm1, %%xmm0; ldmxcsr %3"
			 : "=a"(rax), "=m"(at_rip)
			 : "m"(mxcsr), "m"(mxcsr_default)
			 : "rcx", "memory");
	after_rax = rax;
	resumed = 1;
}

static u64 misaligned_word[2];

static void do_alignment(u64 a)
{
	(void)a;
	u64 rax = 0;
	__asm__ volatile("pushfq; orq $0x40000, (%%rsp); popfq;"
			 "lea 1f(%%rip), %%rcx; mov %%rcx, %1; lea 1+%2, %%rdx; 1: movq (%%rdx), %%rax"
			 : "+a"(rax), "=m"(at_rip)
			 : "m"(misaligned_word)
			 : "rcx", "rdx", "memory");
	after_rax = rax;
	resumed = 1;
}

struct exc_case {
	l4_thread_fn fn;
	const char *what;
	u64 vector, skip, err_expected; /* traps: at_rip is after the instruction */
};

/* A thread with our exception handler (and no pager if nopager). */
static l4_tid_t victim(l4_thread_fn fn, u64 flags, bool nopager)
{
	l4_tid_t t;
	memset(stacks[1], 0, STACK_SIZE);
	if (l4_create_thread_ex(main_tid, nopager ? L4_NILTHREAD : l4_parent, flags, handler_tid, &t) < 0)
		return L4_NILTHREAD;
	l4_start_fn(t, fn, 0, stacks[1], STACK_SIZE);
	return t;
}

static void test_exception_kinds(void)
{
	struct exc_case cases[] = {
		{ do_ud2, "invalid opcode", 6, 2, 0 },
		{ do_div0, "divide error", 0, 3, 0 },
		{ do_int3, "breakpoint", 3, 0, 0 },
		{ do_hlt, "general protection (hlt)", 13, 1, 0 },
		{ do_int80, "int 0x80 of an L4 thread", 0x80, 0, 0 },
		{ do_x87_error, "x87 FPU error (#MF at the fwait)", 16, 1, 0 },
	};
	/* QEMU's TCG raises no alignment-check and no SIMD floating-point
	 * exceptions (it sets the MXCSR flags only): on a real CPU these two
	 * would join the list as { do_alignment, 17, 0, 0 } and
	 * { do_simd_error, 19, 4, 0 }. */
	(void)do_alignment;
	(void)do_simd_error;
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct exc_case *c = &cases[i];
		resumed = 0;
		skip = c->skip;
		answer_rax = 0x7700 + i;
		short_reply = stop_it = false;
		new_rip = new_rsp = new_fs = 0;
		seen[L4_EXC_VECTOR] = ~0ull;
		l4_tid_t t = victim(c->fn, 0, false);
		yield_n(4);
		CHECK(seen[L4_EXC_VECTOR] == c->vector && seen[L4_EXC_RIP] == at_rip &&
			      seen[L4_EXC_ERROR] == c->err_expected,
		      "%s reaches the handler: vector %llu, rip %llx, error %llu (expected %llu at %llx)", c->what,
		      seen[L4_EXC_VECTOR], seen[L4_EXC_RIP], seen[L4_EXC_ERROR], c->vector, (u64)at_rip);
		CHECK(resumed && after_rax == 0x7700 + i, "after the handler's reply the thread goes on (rax %llx)",
		      after_rax);
		l4_delete_thread(t);
	}
}

static void test_page_fault_without_pager(void)
{
	resumed = 0;
	skip = 3;
	answer_rax = 0x5151;
	seen[L4_EXC_VECTOR] = ~0ull;
	short_reply = stop_it = false;
	new_rip = new_rsp = new_fs = 0;
	l4_tid_t t = victim(do_wild_load, 0, true);
	yield_n(4);
	CHECK(seen[L4_EXC_VECTOR] == 14 && seen[L4_EXC_ADDR] == 0x10 && (seen[L4_EXC_ERROR] & 4) &&
		      seen[L4_EXC_RIP] == at_rip,
	      "a page fault no pager serves reaches the exception handler (addr %llx, err %llx)", seen[L4_EXC_ADDR],
	      seen[L4_EXC_ERROR]);
	CHECK(resumed && after_rax == 0x5151, "and the thread resumes past it");
	l4_delete_thread(t);
}

/* ---- alien threads ---------------------------------------------------------------- */

static volatile u64 sys_rcx, sys_r11, sys_after, fs_read;

static void alien_syscall(u64 a)
{
	(void)a;
	register u64 r10 __asm__("r10") = 4;
	register u64 r8 __asm__("r8") = 5;
	register u64 r9 __asm__("r9") = 6;
	register u64 r11 __asm__("r11");
	u64 rax = 39, rcx;
	__asm__ volatile("lea 1f(%%rip), %%rcx; mov %%rcx, %[at]; syscall; 1:"
			 : "+a"(rax), "=c"(rcx), "=r"(r11), [at] "=m"(sys_after), "+r"(r10), "+r"(r8), "+r"(r9)
			 : "D"(1), "S"(2), "d"(3)
			 : "memory");
	after_rax = rax;
	sys_rcx = rcx;
	sys_r11 = r11;
	resumed = 1;
}

static void alien_int80(u64 a)
{
	(void)a;
	u64 rax = 20;
	__asm__ volatile("lea 1f(%%rip), %%rcx; mov %%rcx, %1; int $0x80; 1:" : "+a"(rax), "=m"(at_rip)::"rcx", "memory");
	after_rax = rax;
	resumed = 1;
}

static u64 tls_word = 0xabcdef;

static void alien_fs(u64 a)
{
	(void)a;
	u64 rax = 158; /* arch_prctl: the handler sets the FS base */
	__asm__ volatile("syscall" : "+a"(rax)::"rcx", "r11", "memory");
	u64 v;
	__asm__ volatile("movq %%fs:0, %0" : "=r"(v));
	fs_read = v;
	resumed = 1;
}

static void test_alien(void)
{
	resumed = 0;
	short_reply = true;
	stop_it = false;
	answer_rax = 1234;
	seen[L4_EXC_VECTOR] = ~0ull;
	l4_tid_t t = victim(alien_syscall, L4_TC_ALIEN, false);
	yield_n(4);
	CHECK(seen[L4_EXC_VECTOR] == L4_EXC_SYSCALL && seen[L4_EXC_RAX] == 39 && seen[L4_EXC_RDI] == 1 &&
		      seen[L4_EXC_RSI] == 2 && seen[L4_EXC_RDX] == 3 && seen[L4_EXC_R10] == 4 && seen[L4_EXC_R8] == 5 &&
		      seen[L4_EXC_R9] == 6,
	      "an alien syscall reaches the handler with RAX, RDI, RSI, RDX, R10, R8, R9 intact");
	CHECK(seen[L4_EXC_RCX] == sys_after && seen[L4_EXC_RIP] == sys_after && seen[L4_EXC_R11] == seen[L4_EXC_RFLAGS],
	      "RCX and R11 hold the return RIP and RFLAGS, as SYSCALL left them");
	CHECK(resumed && after_rax == 1234, "the reply's RAX comes back (%llu)", after_rax);
	CHECK(sys_rcx == sys_after && sys_r11 == seen[L4_EXC_RFLAGS],
	      "and RCX/R11 are the return RIP and RFLAGS, as on Linux");
	l4_delete_thread(t);

	resumed = 0;
	answer_rax = 4321;
	seen[L4_EXC_VECTOR] = ~0ull;
	t = victim(alien_int80, L4_TC_ALIEN, false);
	yield_n(4);
	CHECK(seen[L4_EXC_VECTOR] == 0x80 && seen[L4_EXC_RAX] == 20 && seen[L4_EXC_RIP] == at_rip,
	      "an alien int 0x80 likewise (vector %llx)", seen[L4_EXC_VECTOR]);
	CHECK(resumed && after_rax == 4321, "and gets its RAX");
	l4_delete_thread(t);

	resumed = 0;
	short_reply = false;
	skip = 0;
	answer_rax = 0;
	new_rip = new_rsp = 0;
	new_fs = (u64)&tls_word;
	seen[L4_EXC_VECTOR] = ~0ull;
	t = victim(alien_fs, L4_TC_ALIEN, false);
	yield_n(4);
	CHECK(resumed && fs_read == 0xabcdef, "the handler sets an alien thread's FS base (TLS) (%llx)", fs_read);
	l4_delete_thread(t);
	new_fs = 0;

	/* a handler may also end the thread */
	resumed = 0;
	stop_it = true;
	seen[L4_EXC_VECTOR] = ~0ull;
	t = victim(alien_syscall, L4_TC_ALIEN, false);
	yield_n(4);
	CHECK(t != L4_NILTHREAD && seen[L4_EXC_VECTOR] == L4_EXC_SYSCALL && !resumed && thread_state(t) == ~0ull,
	      "the handler may delete the thread instead of answering");
	stop_it = false;
}

/* Only its handler answers an alien thread's system call: a one-word
 * "reply" from another thread, the form the exception fast path takes
 * back, must not reach it. */
static volatile l4_tid_t held_from;

static void holding_handler(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t from;
	l4_wait(&m, &from);
	held_from = from;
	l4_receive(main_tid, &m); /* go */
	m.mr[0] = L4_TAG_MAKE(0, 1, 0);
	m.mr[1] = 4321;
	l4_ipc(from, L4_NILTHREAD, L4_POLL, &m, NULL);
	for (;;)
		l4_receive(main_tid, &m);
}

static volatile u64 forge_tag;

/* Calls the alien thread as if it were its handler: a one-word message
 * with a zero send timeout and the receive a reply would need. */
static void forger(u64 t)
{
	struct l4_msg m = { { L4_TAG_MAKE(0, 1, 0), 666 } };
	forge_tag = l4_ipc(t, t, L4_TIMEOUTS(0, L4_TIMEOUT_NEVER), &m, NULL);
	for (;;)
		l4_receive(main_tid, &m);
}

static void test_only_the_handler_answers(void)
{
	resumed = 0;
	after_rax = 0;
	held_from = L4_NILTHREAD;
	l4_tid_t h = l4_spawn_thread(holding_handler, 0, stacks[2], STACK_SIZE);
	yield_n(2);
	l4_tid_t t;
	memset(stacks[1], 0, STACK_SIZE);
	l4_create_thread_ex(main_tid, l4_parent, L4_TC_ALIEN, h, &t);
	l4_start_fn(t, alien_syscall, 0, stacks[1], STACK_SIZE);
	yield_n(4);
	CHECK(held_from == t && thread_in_state(t, L4_EXREG_STATE_RECEIVING), "the alien thread waits for its handler");
	forge_tag = 1;
	l4_tid_t x = l4_spawn_thread(forger, t, stacks[3], STACK_SIZE);
	yield_n(4);
	CHECK(ipc_error(forge_tag, L4_IPC_TIMEOUT, false) && !resumed,
	      "another thread's one-word reply does not reach it (%llx, rax %llu)", forge_tag, after_rax);
	l4_delete_thread(x);
	struct l4_msg m = { { L4_TAG_MAKE(0, 0, 0) } };
	l4_send(h, &m);
	yield_n(4);
	CHECK(resumed && after_rax == 4321, "its handler's does (rax %llu)", after_rax);
	l4_delete_thread(t);
	l4_delete_thread(h);
}

static volatile u64 landed;
static u8 landing_stack[4096] __attribute__((aligned(16)));

static void landing(void)
{
	landed = 1;
	struct l4_exreg x = { L4_EXREG_HALT, 0, 0, 0, 0, 0 };
	l4_exchange_registers(l4_myself(), &x);
}

static void test_redirect(void)
{
	landed = 0;
	short_reply = stop_it = false;
	answer_rax = 0;
	new_rip = (u64)landing;
	new_rsp = (u64)landing_stack + sizeof(landing_stack) - 8;
	seen[L4_EXC_VECTOR] = ~0ull;
	l4_tid_t t = victim(do_ud2, 0, false);
	yield_n(4);
	CHECK(landed, "the handler's RIP and RSP take the thread elsewhere");
	new_rip = new_rsp = 0;
	l4_delete_thread(t);
}

int main(void)
{
	main_tid = l4_myself();
	memset(landing_stack, 0, sizeof(landing_stack));
	handler_tid = l4_spawn_thread(exc_handler, 0, stacks[0], STACK_SIZE);
	test_exception_kinds();
	test_page_fault_without_pager();
	test_alien();
	test_only_the_handler_answers();
	test_redirect();
	l4_delete_thread(handler_tid);
	return t_done("t_exc");
}
