/*
 * Regression: ExchangeRegisters CANCEL that arrives while a thread's IPC is
 * between two steps of a string-copy retry ends the IPC with CANCELLED.
 */
#include "util.h"

static u8 t_buf[4096] __attribute__((aligned(4096)));
static u8 x_src[4096] __attribute__((aligned(4096)));
static test_stack_t stacks[10];
static volatile l4_tid_t main_tid, p_tid, t_tid, x_tid;
static volatile u64 t_result = 1;
static volatile int armed;

static void touch(u64 addr, bool write)
{
	if (write)
		__asm__ volatile("lock orb $0, (%0)" ::"r"(addr) : "memory");
	else
		(void)*(volatile u8 *)addr;
}

static void sleep_ms(u64 ms)
{
	struct l4_msg m;
	l4_ipc(L4_NILTHREAD, main_tid, L4_TIMEOUTS(0, ms * 1000), &m, NULL);
}

/* A receiver takes a queued string, faults its own buffer in through a pager
 * that holds the fault; the sender goes away; then, while the receiver is
 * ready to retry (or already retrying), it is cancelled: the cancel must
 * not be lost. */
static void hold_pager(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t from;
	u64 tag = l4_wait(&m, &from);
	for (;;) {
		u64 label = L4_TAG_LABEL(tag);
		if (l4_ipc_failed(tag) || (label & ~0xfull) != L4_LABEL_PAGEFAULT) {
			tag = l4_wait(&m, &from);
			continue;
		}
		u64 addr = m.mr[1] & ~0xfffull;
		if (armed && addr == (u64)t_buf) {
			armed = 0;
			struct l4_msg n = { { L4_TAG_MAKE(1, 0, 0) } };
			l4_send(main_tid, &n);
			l4_receive(main_tid, &n);
		}
		touch(addr, label & L4_W);
		m.mr[0] = L4_TAG_MAKE(0, 0, 2);
		m.mr[1] = addr | L4_ITEM_MAP;
		m.mr[2] = L4_FPAGE(addr, 12, L4_RWX);
		tag = l4_reply_wait(from, &m, &from);
	}
}

static void receiver_t(u64 arg)
{
	(void)arg;
	struct l4_utcb *u = l4_utcb();
	struct l4_msg m;
	u->buf_count = 1;
	u->buf[0].addr = (u64)t_buf;
	u->buf[0].len = 4096;
	l4_receive(main_tid, &m); /* go */
	t_result = l4_wait(&m, NULL);
	for (;;)
		l4_receive(main_tid, &m);
}

static void sender_x(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	touch((u64)x_src, false);
	m.mr[0] = L4_TAG_MAKE(3, 0, 2);
	m.mr[1] = L4_STRING_ITEM(64);
	m.mr[2] = (u64)x_src;
	l4_send(t_tid, &m);
	for (;;)
		l4_receive(main_tid, &m);
}

static bool wait_state(l4_tid_t t, u64 bit)
{
	for (int i = 0; i < 1000; i++) {
		if (thread_state(t) & bit)
			return true;
		l4_yield();
	}
	return false;
}

static void test_lost_cancel(bool let_pager_reply)
{
	armed = 0;
	t_result = 1;
	p_tid = l4_spawn_thread(hold_pager, 0, stacks[5], STACK_SIZE);
	t_tid = l4_spawn_task(p_tid, receiver_t, 0, stacks[6], STACK_SIZE);
	x_tid = l4_spawn_task(p_tid, sender_x, 0, stacks[7], STACK_SIZE);
	wait_state(x_tid, L4_EXREG_STATE_SENDING);
	wait_state(t_tid, L4_EXREG_STATE_RECEIVING);
	l4_schedule(t_tid, my_prio() - 10, L4_SCHED_KEEP, NULL, NULL); /* the receiver runs below us */
	armed = 1;
	struct l4_msg m = { { L4_TAG_MAKE(4, 0, 0) } };
	l4_send(t_tid, &m);
	yield_n(3);
	u64 tag = l4_receive(p_tid, &m); /* T is now faulting its buffer in */
	CHECK(!l4_ipc_failed(tag), "the receiver faults its buffer in (an open receive found a string)");
	struct l4_exreg x = { L4_EXREG_CANCEL, 0, 0, 0, 0, 0 };
	l4_exchange_registers(x_tid, &x); /* X goes away */
	l4_send(p_tid, &m);               /* the pager maps the page: T is ready, below us */
	if (let_pager_reply)
		yield_n(2);
	l4_exchange_registers(t_tid, &x); /* cancel T's receive */
	sleep_ms(20);
	CHECK(ipc_error(t_result, L4_IPC_CANCELLED, true),
	      "%s: a cancel ends the receive with CANCELLED (%llx, state %llx)", let_pager_reply ? "retrying" : "ready to retry",
	      t_result, thread_state(t_tid));
	l4_delete_task(t_tid);
	l4_delete_task(x_tid);
	l4_delete_thread(p_tid);
}

int main(void)
{
	main_tid = l4_myself();
	test_lost_cancel(false);
	test_lost_cancel(true);
	return t_done("t_cancel");
}
