/* Scheduling: priorities preempt, equal priorities share the CPU in time
 * slices, yield and donate, and the limits of Schedule. */
#include "util.h"

static test_stack_t stacks[4];
static volatile u64 ran_order[4];
static volatile int ran_count;
static volatile u64 busy[2];

static void record(u64 id)
{
	ran_order[ran_count++] = id;
}

static void spin(u64 idx)
{
	for (;;)
		busy[idx]++;
}

/* A thread created halted, given a priority, then started. */
static l4_tid_t start_at(u64 prio, l4_thread_fn fn, u64 arg, int stack)
{
	l4_tid_t t;
	if (l4_create_thread(l4_myself(), l4_parent, &t) < 0)
		return L4_NILTHREAD;
	l4_schedule(t, prio, L4_SCHED_KEEP, NULL, NULL);
	l4_start_fn(t, fn, arg, stacks[stack], STACK_SIZE);
	return t;
}

static void park(u64 id)
{
	record(id);
	struct l4_msg m;
	l4_receive(l4_myself(), &m);
}

static void test_priorities(void)
{
	u64 p = my_prio();
	ran_count = 0;
	l4_tid_t hi = start_at(p + 10, park, 1, 0);
	CHECK(ran_count == 1 && ran_order[0] == 1, "a higher-priority thread runs at once when started");
	l4_tid_t lo = start_at(p - 10, park, 2, 1);
	yield_n(3);
	CHECK(ran_count == 1, "a lower-priority thread does not run while we are ready, even when we yield");
	/* block: now the low one gets the CPU */
	struct l4_msg m;
	l4_ipc(L4_NILTHREAD, hi, L4_POLL, &m, NULL);
	u64 t0 = l4_rdtsc();
	while (ran_count < 2 && l4_rdtsc() - t0 < 5000000000ull)
		l4_thread_switch(lo); /* donate: runs it although it has lower priority */
	CHECK(ran_count == 2 && ran_order[1] == 2, "donating the time slice runs the low thread");
	l4_delete_thread(hi);
	l4_delete_thread(lo);
}

static volatile u64 woke;

static void wait_for(u64 partner)
{
	struct l4_msg m;
	l4_receive(partner, &m);
	woke = 1;
	l4_receive(l4_myself(), &m);
}

static void test_wakeup_preempts(void)
{
	u64 p = my_prio();
	l4_tid_t partner;
	l4_create_thread(l4_myself(), l4_parent, &partner);
	woke = 0;
	l4_tid_t hi = start_at(p + 5, wait_for, partner, 0);
	l4_delete_thread(partner);
	CHECK(woke == 1, "deleting its partner lets a higher-priority waiter run at once");
	CHECK(thread_in_state(hi, L4_EXREG_STATE_RECEIVING), "(it has already gone on to wait again, on itself)");
	l4_delete_thread(hi);
	woke = 0;
	l4_create_thread(l4_myself(), l4_parent, &partner);
	hi = start_at(p + 5, wait_for, partner, 0);
	struct l4_exreg x = { L4_EXREG_CANCEL, 0, 0, 0, 0, 0 };
	l4_exchange_registers(hi, &x);
	CHECK(woke == 1, "cancelling its IPC lets it run at once too");
	l4_delete_thread(hi);
	l4_delete_thread(partner);
}

static void test_round_robin(void)
{
	u64 p = my_prio();
	busy[0] = busy[1] = 0;
	/* Two busy threads at our priority: we spin too and they must progress. */
	l4_tid_t a = start_at(p, spin, 0, 2), b = start_at(p, spin, 1, 3);
	u64 t0 = l4_rdtsc(), hz = l4_kip()->tsc_hz;
	u64 a1 = 0, b1 = 0;
	while (l4_rdtsc() - t0 < hz / 2 && !(busy[0] && busy[1]))
		;
	a1 = busy[0];
	b1 = busy[1];
	CHECK(a1 > 0 && b1 > 0, "two busy threads at one priority both run (%llu, %llu)", a1, b1);
	t0 = l4_rdtsc();
	while (l4_rdtsc() - t0 < hz / 5 && !(busy[0] > a1 && busy[1] > b1))
		;
	CHECK(busy[0] > a1 && busy[1] > b1, "and both keep progressing under time slices");
	/* shorter time slices are accepted */
	CHECK(l4_schedule(a, L4_SCHED_KEEP, 1000, NULL, NULL) == 0, "set a 1 ms time slice");
	l4_delete_thread(a);
	l4_delete_thread(b);
}

static void test_yield(void)
{
	u64 p = my_prio();
	ran_count = 0;
	l4_tid_t t = start_at(p, park, 3, 0);
	CHECK(ran_count == 0, "an equal-priority thread waits for its turn");
	l4_yield();
	CHECK(ran_count == 1, "yield lets it run");
	l4_delete_thread(t);
}

static void test_schedule_limits(void)
{
	u64 old_prio = 0, old_slice = 0;
	s64 r = l4_schedule(l4_myself(), L4_SCHED_KEEP, L4_SCHED_KEEP, &old_prio, &old_slice);
	CHECK(r == 0 && old_prio == 100 && old_slice == 10000, "Schedule reads priority %llu and time slice %llu us", old_prio, old_slice);
	CHECK(l4_schedule(l4_myself(), 256, L4_SCHED_KEEP, NULL, NULL) == -L4_EINVAL, "priority 256: EINVAL");
	CHECK(l4_schedule(l4_myself(), L4_SCHED_KEEP, 10, NULL, NULL) == -L4_EINVAL, "a 10 us slice: EINVAL");
	CHECK(l4_schedule(L4_TID_MAKE(4000, 1), 1, L4_SCHED_KEEP, NULL, NULL) == -L4_EINVAL_TID,
	      "no such thread: EINVAL_TID");
	CHECK(l4_schedule(l4_kip()->sigma0, 1, L4_SCHED_KEEP, NULL, NULL) == -L4_ENOPERM,
	      "sigma0's priority is not ours to change: ENOPERM");
	CHECK(l4_thread_switch(L4_TID_MAKE(4000, 1)) == -L4_EINVAL_TID, "donate to no thread: EINVAL_TID");
	u64 mcp = 0;
	l4_schedule_mcp(l4_myself(), L4_SCHED_KEEP, L4_SCHED_KEEP, L4_SCHED_KEEP, NULL, NULL, &mcp);
	CHECK(mcp == 199, "the root task gave us a maximum controlled priority of %llu", mcp);
	CHECK(l4_schedule(l4_myself(), mcp + 1, L4_SCHED_KEEP, NULL, NULL) == -L4_ENOPERM,
	      "a priority above our MCP: ENOPERM");
	l4_tid_t t;
	l4_create_thread(l4_myself(), l4_parent, &t);
	CHECK(l4_schedule_mcp(t, L4_SCHED_KEEP, L4_SCHED_KEEP, 250, NULL, NULL, NULL) == -L4_ENOPERM,
	      "an MCP above ours: ENOPERM");
	CHECK(l4_schedule_mcp(t, 50, L4_SCHED_KEEP, 50, NULL, NULL, NULL) == 0, "lower another thread's MCP");
	l4_delete_thread(t);
}

int main(void)
{
	test_priorities();
	test_wakeup_preempts();
	test_round_robin();
	test_yield();
	test_schedule_limits();
	return t_done("t_sched");
}
