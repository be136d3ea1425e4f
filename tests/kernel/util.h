/* Helpers shared by the kernel tests. */
#ifndef TESTS_UTIL_H
#define TESTS_UTIL_H

#include <l4/test.h>

#define STACK_SIZE 8192
typedef u8 test_stack_t[STACK_SIZE] __attribute__((aligned(16)));

static inline bool ipc_error(u64 tag, enum l4_ipc_error e, bool recv_phase)
{
	return (tag & L4_TAG_ERROR) && L4_IPC_ERRCODE(tag) == (u64)e &&
	       !!(tag & L4_TAG_RECV_PHASE) == recv_phase;
}

/* Let every thread of our priority or above run a while. */
static inline void yield_n(int n)
{
	for (int i = 0; i < n; i++)
		l4_yield();
}

static inline u64 thread_state(l4_tid_t t)
{
	struct l4_exreg x = { 0, 0, 0, 0, 0, 0 };
	return l4_exchange_registers(t, &x) == 0 ? x.state : ~0ull;
}

/* Does thread t exist and have the given state bit? */
static inline bool thread_in_state(l4_tid_t t, u64 bit)
{
	u64 st = thread_state(t);
	return st != ~0ull && (st & bit);
}

static inline u64 my_prio(void)
{
	u64 prio = 0;
	l4_schedule(l4_myself(), L4_SCHED_KEEP, L4_SCHED_KEEP, &prio, NULL);
	return prio;
}

#endif
