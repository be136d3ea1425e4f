/* Bad input from user level gets an error, never a kernel crash: garbage
 * system-call numbers and arguments, wild pointers, faulting threads, and a
 * short burst of random system calls. */
#include "util.h"
#include "../../lib/common/string.h"

static test_stack_t stacks[4];

static void test_bad_numbers(void)
{
	u64 nums[] = { L4_SYS_COUNT, L4_SYS_COUNT + 1, 100, 0x7fffffff, ~0ull, 1ull << 63 };
	int ok = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(nums); i++) {
		struct l4_regs r = { nums[i], 1, 2, 3, 4, 5, 6 };
		l4_syscall(&r);
		ok += (s64)r.rax == -L4_ENOSYS;
	}
	CHECK(ok == (int)ARRAY_SIZE(nums), "unknown system-call numbers return ENOSYS (%d)", ok);
}

static void test_wild_pointers(void)
{
	CHECK(l4_kdebug(L4_KD_PUTS, 0xffffffff80100000ull, 16) == -L4_EFAULT,
	      "kdebug puts from the kernel image: EFAULT");
	CHECK(l4_kdebug(L4_KD_PUTS, 0xffff800000000000ull, 16) == -L4_EFAULT,
	      "kdebug puts from the kernel's direct map: EFAULT");
	CHECK(l4_kdebug(L4_KD_PUTS, 0x8000000000000000ull, 16) == -L4_EFAULT,
	      "kdebug puts from a non-canonical address: EFAULT");
	CHECK(l4_kdebug(L4_KD_PUTS, L4_USER_END - 4, 16) == -L4_EFAULT,
	      "kdebug puts running off the end of user space: EFAULT");
	CHECK(l4_kdebug(L4_KD_PUTS, (u64)"x", 1ull << 40) == -L4_EINVAL, "kdebug puts of 2^40 bytes: EINVAL");
	CHECK(l4_kdebug(99, 0, 0) == -L4_EINVAL, "unknown kdebug operation: EINVAL");
	struct l4_exreg x = { L4_EXREG_SET_IP, 0, 0xffffffff80100000ull, 0, 0, 0 };
	CHECK(l4_exchange_registers(l4_myself(), &x) == -L4_EINVAL, "setting an IP in the kernel: EINVAL");
	x = (struct l4_exreg){ L4_EXREG_SET_SP, 1ull << 63, 0, 0, 0, 0 };
	CHECK(l4_exchange_registers(l4_myself(), &x) == -L4_EINVAL, "setting a non-canonical SP: EINVAL");
	x = (struct l4_exreg){ 1ull << 40, 0, 0, 0, 0, 0 };
	CHECK(l4_exchange_registers(l4_myself(), &x) == -L4_EINVAL, "unknown control bits: EINVAL");
	CHECK(l4_thread_control(l4_myself(), 0, 0, 77, NULL, NULL) == -L4_EINVAL,
	      "unknown ThreadControl operation: EINVAL");
	CHECK(l4_thread_control(L4_TID_MAKE(5, 0), l4_myself(), 0, L4_TC_CREATE, NULL, NULL) == -L4_EINVAL_TID,
	      "creating a thread with version 0: EINVAL_TID");
	CHECK(l4_thread_control(L4_TID_MAKE(L4_MAX_THREADS, 1), l4_myself(), 0, L4_TC_CREATE, NULL, NULL) ==
		      -L4_EINVAL_TID,
	      "creating a thread with a number beyond the table: EINVAL_TID");
	CHECK(l4_thread_control(L4_TID_MAKE(0xffff, 1), l4_myself(), 0, L4_TC_CREATE, NULL, NULL) == -L4_EINVAL_TID,
	      "creating thread number 0xffff: EINVAL_TID");
	CHECK(l4_delete_thread(l4_kip()->root) == -L4_ENOPERM, "deleting the root task's thread: ENOPERM");
}

/* ---- faulting threads --------------------------------------------------- */

static void do_ud2(u64 a) { (void)a; __asm__ volatile("ud2"); }
static void do_div0(u64 a)
{
	volatile u64 z = 0;
	__asm__ volatile("divq %1" ::"a"(a), "r"(z) : "rdx");
}
static void do_hlt(u64 a) { (void)a; __asm__ volatile("hlt"); }
static void do_port(u64 a) { (void)a; __asm__ volatile("outb %%al, $0x80" ::"a"(0)); }
static void do_int80(u64 a) { (void)a; __asm__ volatile("int $0x80"); }
static void do_bad_stack(u64 a)
{
	(void)a;
	__asm__ volatile("movabs $0x8000000000000000, %%rsp; pushq $0" ::: "memory");
}

static void test_faulting_threads(void)
{
	struct { l4_thread_fn fn; const char *what; } cases[] = {
		{ do_ud2, "invalid opcode" },   { do_div0, "divide by zero" },
		{ do_hlt, "privileged instruction" }, { do_port, "I/O port without permission" },
		{ do_int80, "int 0x80" },       { do_bad_stack, "non-canonical stack" },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		l4_tid_t t = l4_spawn_thread(cases[i].fn, 0, stacks[0], STACK_SIZE);
		yield_n(2);
		u64 st = thread_state(t);
		CHECK(st != ~0ull && (st & L4_EXREG_STATE_DEAD), "a thread doing %s is stopped, the kernel stays up (state %llx)",
		      cases[i].what, st);
		l4_delete_thread(t);
	}
}

/* A sub-task that dereferences a wild pointer.  Its pager, a thread here,
 * maps it our image and stack, records the one fault outside them and
 * deletes the task. */
static volatile u64 fault_addr, fault_ip, fault_label;
extern char _end[];

static void wild_task(u64 addr)
{
	*(volatile u64 *)addr = 1;
}

static bool ours(u64 a) { return a >= L4_IMAGE_BASE && a < (u64)_end; }

/* arg 0: delete the task at a fault outside our image; arg 1: answer it with
 * no mapping instead. */
static void recording_pager(u64 refuse)
{
	for (;;) {
		struct l4_msg m;
		l4_tid_t from;
		u64 tag = l4_wait(&m, &from);
		if (l4_ipc_failed(tag) || (L4_TAG_LABEL(tag) & ~0xfull) != L4_LABEL_PAGEFAULT)
			continue;
		if (ours(m.mr[1])) {
			u64 page = m.mr[1] & ~0xfffull;
			l4_touch(page, false); /* make sure we have it ourselves */
			l4_map_msg(&m, page, L4_FPAGE(page, 12, L4_RWX), false);
			l4_ipc(from, L4_NILTHREAD, L4_POLL, &m, NULL);
			continue;
		}
		fault_label = L4_TAG_LABEL(tag);
		fault_addr = m.mr[1];
		fault_ip = m.mr[2];
		if (refuse) {
			m.mr[0] = L4_TAG_MAKE(0, 0, 0);
			l4_ipc(from, L4_NILTHREAD, L4_POLL, &m, NULL);
		} else {
			l4_delete_task(from);
		}
	}
}

/* A kernel access on a thread's behalf faults to its pager like the thread's
 * own access; a pager that maps nothing makes the system call fail. */
static volatile s64 puts_result;

static void puts_from_zero(u64 parent)
{
	puts_result = l4_kdebug(L4_KD_PUTS, 0, 10);
	struct l4_msg m = { { L4_TAG_MAKE(1, 0, 0) } };
	l4_send(parent, &m);
}

static void test_kernel_access_faults(void)
{
	l4_tid_t pager = l4_spawn_thread(recording_pager, 1, stacks[1], STACK_SIZE);
	fault_addr = fault_label = 1;
	memset(stacks[2], 0, STACK_SIZE);
	l4_tid_t t = l4_spawn_task(pager, puts_from_zero, l4_myself(), stacks[2], STACK_SIZE);
	struct l4_msg m;
	l4_receive(t, &m);
	CHECK(fault_addr == 0 && fault_label == (L4_LABEL_PAGEFAULT | L4_R),
	      "the kernel reading user address 0 for kdebug asks the pager (read fault at %llx)", fault_addr);
	CHECK(puts_result == -L4_EFAULT, "the pager maps nothing: EFAULT (%lld)", puts_result);
	l4_delete_task(t);
	l4_delete_thread(pager);
}

static void test_wild_tasks(void)
{
	l4_tid_t pager = l4_spawn_thread(recording_pager, 0, stacks[1], STACK_SIZE);
	u64 addrs[] = { 0, 0x10, 0xffffffff80100000ull, 0xffff800000001000ull, L4_KIP_ADDR, L4_UTCB_AREA };
	for (unsigned i = 0; i < ARRAY_SIZE(addrs); i++) {
		fault_addr = fault_label = fault_ip = 1;
		memset(stacks[2], 0, STACK_SIZE); /* have the stack before mapping it on */
		l4_tid_t t = l4_spawn_task(pager, wild_task, addrs[i], stacks[2], STACK_SIZE);
		for (int k = 0; k < 20 && thread_state(t) != ~0ull; k++)
			l4_yield();
		CHECK(fault_label == (L4_LABEL_PAGEFAULT | L4_W) && fault_addr == addrs[i] &&
			      fault_ip >= (u64)wild_task && fault_ip < (u64)wild_task + 32,
		      "a write to %llx reaches the pager as a write fault with address and IP", addrs[i]);
		CHECK(thread_state(t) == ~0ull, "the pager deleted the faulting task");
	}
	l4_delete_thread(pager);
}

/* ---- random system calls -------------------------------------------------- */

static u64 rng_state = 0x9e3779b97f4a7c15ull;
static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static u64 edge_value(void)
{
	static const u64 edges[] = { 0, 1, ~0ull, 1ull << 63, 0x7fffffffffffull, 0x800000000000ull,
				     0xffffffff80000000ull, 0xffff800000000000ull, L4_KIP_ADDR, L4_UTCB_AREA,
				     L4_TID_MAKE(1, 1), L4_TID_MAKE(2, 1), 4096, 0xfff };
	u64 r = rnd();
	return (r & 3) ? edges[(r >> 8) % ARRAY_SIZE(edges)] : rnd();
}

/* 0 or one of the documented negative errors; free-page counts are positive */
static bool documented_result(const struct l4_regs *call, u64 rax)
{
	if (call->rax == L4_SYS_KDEBUG && call->rdi == L4_KD_FREE_PAGES)
		return (s64)rax > 0;
	return rax == 0 || (-(s64)rax >= L4_ENOPERM && -(s64)rax <= L4_EBUSY);
}

static l4_tid_t vital[5];

static bool off_limits(const struct l4_regs *r)
{
	for (unsigned i = 0; i < ARRAY_SIZE(vital); i++)
		if (r->rdi == vital[i] || (r->rax == L4_SYS_IPC && r->rsi == vital[i]))
			return true;
	return r->rax == L4_SYS_THREAD_CONTROL && r->r10 == L4_TC_CREATE;
}

static volatile int random_done, random_documented;

/* Runs in a task of its own whose pager answers wild addresses with no
 * mapping, so that user pointers the kernel follows fail with EFAULT. */
static void random_calls(u64 parent)
{
	int n = 20000;
	for (int i = 0; i < n; i++) {
		struct l4_regs r = { rnd() % (L4_SYS_COUNT + 2), edge_value(), edge_value(), edge_value(),
				     edge_value(), edge_value(), edge_value() };
		if (r.rax == L4_SYS_IPC)
			r.rdx = L4_POLL; /* never block forever */
		if (r.rax == L4_SYS_KDEBUG && r.rdi == L4_KD_PUTS)
			r.rdx &= 0x7;
		if (off_limits(&r)) /* never hit ourselves, the parent, sigma0 or the root task */
			continue;
		struct l4_regs call = r;
		l4_syscall(&r);
		random_done++;
		random_documented += documented_result(&call, r.rax);
	}
	/* End whatever bytes the random KD_PUTS calls printed, so that they do
	 * not run into the next test line. */
	l4_kdebug(L4_KD_PUTS, (u64)"\n", 1);
	struct l4_msg m = { { L4_TAG_MAKE(1, 0, 0) } };
	l4_send(parent, &m);
}

static void test_random_calls(void)
{
	s64 before = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
	l4_tid_t pager = l4_spawn_thread(recording_pager, 1, stacks[1], STACK_SIZE);
	memset(stacks[2], 0, STACK_SIZE);
	l4_tid_t t;
	l4_create_task(pager, &t, NULL);
	l4_tid_t v[] = { l4_myself(), pager, t, l4_kip()->sigma0, l4_kip()->root };
	memcpy(vital, v, sizeof(v));
	l4_start_fn(t, random_calls, l4_myself(), stacks[2], STACK_SIZE);
	struct l4_msg m;
	l4_receive(t, &m);
	CHECK(random_done > 10000 && random_documented == random_done,
	      "%d random system calls with edge-case arguments: %d documented results", random_done,
	      random_documented);
	l4_delete_task(t);
	l4_delete_thread(pager);
	CHECK(l4_kdebug(L4_KD_FREE_PAGES, 0, 0) == before, "and no kernel memory leaked");
}

int main(void)
{
	test_bad_numbers();
	test_wild_pointers();
	test_faulting_threads();
	test_wild_tasks();
	test_kernel_access_faults();
	test_random_calls();
	return t_done("t_garbage");
}
