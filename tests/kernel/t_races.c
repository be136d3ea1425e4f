/*
 * Regressions for races around string-copy faults, each made deterministic
 * by a pager that holds one fault until the test says go:
 *  - a reply-and-wait whose receive phase faults its own buffer in must not
 *    keep using the thread its send phase woke (it may be deleted meanwhile;
 *    the kernel built without the fast path poisons freed pages, so a use
 *    after free crashes it there);
 *  - a cancel that arrives while a thread is between two steps of a retry
 *    ends its IPC with CANCELLED;
 *  - a receiver whose buffer fault for a sender's string fails makes only
 *    that send fail, not a later one of the same sender (found by t_fuzz).
 */
#include "util.h"

static u8 srv_buf[4096] __attribute__((aligned(4096)));
static u8 t_buf[4096] __attribute__((aligned(4096)));
static u8 x_src[4096] __attribute__((aligned(4096)));
static test_stack_t stacks[10];
static volatile l4_tid_t main_tid, pager_tid, srv_tid, d_tid, x_tid, p_tid, t_tid;
static volatile u64 x_result = 0x1234, t_result = 1, hold_addr;
static volatile int armed, refuse_held;

static void sleep_ms(u64 ms)
{
	struct l4_msg m;
	l4_ipc(L4_NILTHREAD, main_tid, L4_TIMEOUTS(0, ms * 1000), &m, NULL);
}

static bool wait_state(l4_tid_t t, u64 bit)
{
	for (int i = 0; i < 1000; i++) {
		if (thread_in_state(t, bit))
			return true;
		l4_yield();
	}
	return false;
}

/* One receive buffer: the page at buf. */
static void one_buffer(u8 *buf)
{
	struct l4_utcb *u = l4_utcb();
	u->buf_count = 1;
	u->buf[0].addr = (u64)buf;
	u->buf[0].len = 4096;
}

/* A message with one string item of len bytes from x_src (faulted in). */
static void string_msg(struct l4_msg *m, u64 label, u64 len)
{
	l4_touch((u64)x_src, false);
	m->mr[0] = L4_TAG_MAKE(label, 0, 2);
	m->mr[1] = L4_STRING_ITEM(len);
	m->mr[2] = (u64)x_src;
}

/* A mirror pager that, once armed, holds the fault on hold_addr until main
 * has been told and says go. */
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
		if (armed && addr == hold_addr) {
			armed = 0;
			struct l4_msg n = { { L4_TAG_MAKE(1, 0, 0) } };
			l4_send(main_tid, &n);
			l4_receive(main_tid, &n);
		}
		bool refuse = refuse_held && addr == hold_addr;
		if (refuse) {
			m.mr[0] = L4_TAG_MAKE(0, 0, 0); /* no mapping: the fault fails */
		} else {
			l4_touch(addr, label & L4_W);
			l4_map_msg(&m, addr, L4_FPAGE(addr, 12, L4_RWX), false);
		}
		tag = l4_reply_wait(from, &m, &from);
	}
}

/* ---- the woken thread deleted while its waker faults ------------------------ */

static void srv_fn(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	one_buffer(srv_buf);
	l4_receive(main_tid, &m); /* go */
	/* reply to D (waiting) and wait for anybody: X is queued with a string */
	m.mr[0] = L4_TAG_MAKE(2, 0, 0);
	l4_ipc(d_tid, L4_ANYTHREAD, L4_NEVER, &m, NULL);
	for (;;)
		l4_receive(main_tid, &m);
}

static void d_fn(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	for (;;)
		l4_receive(srv_tid, &m);
}

static void x_fn(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	string_msg(&m, 3, 64);
	x_result = l4_send(srv_tid, &m);
	for (;;)
		l4_receive(main_tid, &m);
}

static void test_woken_thread_deleted(void)
{
	hold_addr = (u64)srv_buf;
	pager_tid = l4_spawn_thread(hold_pager, 0, stacks[0], STACK_SIZE);
	d_tid = l4_spawn_task(pager_tid, d_fn, 0, stacks[2], STACK_SIZE);
	srv_tid = l4_spawn_task(pager_tid, srv_fn, 0, stacks[1], STACK_SIZE);
	x_tid = l4_spawn_task(pager_tid, x_fn, 0, stacks[3], STACK_SIZE);
	CHECK(wait_state(d_tid, L4_EXREG_STATE_RECEIVING), "D waits for srv");
	CHECK(wait_state(x_tid, L4_EXREG_STATE_SENDING), "X is queued at srv with a string");
	CHECK(wait_state(srv_tid, L4_EXREG_STATE_RECEIVING), "srv waits for go");
	armed = 1;
	struct l4_msg m = { { L4_TAG_MAKE(4, 0, 0) } };
	l4_send(srv_tid, &m);
	u64 tag = l4_receive(pager_tid, &m);
	CHECK(!l4_ipc_failed(tag), "srv is faulting its receive buffer in; D was made ready by its send phase");
	/* X goes away (cancel), D is deleted: its TCB page is freed */
	struct l4_exreg x = { L4_EXREG_CANCEL, 0, 0, 0, 0, 0 };
	l4_exchange_registers(x_tid, &x);
	CHECK(l4_delete_task(d_tid) == 0, "D deleted while srv holds it as `woken`");
	printf("# releasing the pager: srv now blocks with sched_block(freed D)\n");
	m.mr[0] = L4_TAG_MAKE(5, 0, 0);
	l4_send(pager_tid, &m);
	yield_n(5);
	CHECK(thread_in_state(srv_tid, L4_EXREG_STATE_RECEIVING), "srv blocked again (kernel survived)");
	l4_delete_task(x_tid);
	l4_delete_task(srv_tid);
	}

/* ---- a cancel between two steps of a retry -------------------------------------
 * A receiver takes a queued string, faults its own buffer in through the
 * holding pager; the sender goes away; then, while the receiver is ready to
 * retry (or already retrying), it is cancelled. */

static void receiver_t(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	one_buffer(t_buf);
	l4_receive(main_tid, &m); /* go */
	t_result = l4_wait(&m, NULL);
	for (;;)
		l4_receive(main_tid, &m);
}

static void sender_x(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	string_msg(&m, 3, 64);
	l4_send(t_tid, &m);
	for (;;)
		l4_receive(main_tid, &m);
}

static void test_lost_cancel(bool let_pager_reply)
{
	armed = 0;
	t_result = 1;
	hold_addr = (u64)t_buf;
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

/* ---- a failed buffer fault fails only the send it was for ---------------------
 * R waits with its buffer at a page the pager holds and then refuses; S
 * sends it a string with a 1 ms timeout (R must fault first: S waits, and
 * times out), then a plain word with a longer one.  When R's fault fails,
 * R's receive fails with XFER; S's second send must not. */

static u8 refused_buf[4096] __attribute__((aligned(4096)));
static volatile u64 r_first = 1, r_second = 1, s_first = 1, s_second = 1;
static volatile int s_first_done;

static void receiver_r(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	one_buffer(refused_buf);
	l4_receive(main_tid, &m); /* go */
	r_first = l4_wait(&m, NULL);
	r_second = l4_ipc(L4_NILTHREAD, L4_ANYTHREAD, L4_TIMEOUTS(0, 1000000), &m, NULL);
	for (;;)
		l4_receive(main_tid, &m);
}

static void sender_s(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	/* the pager will be busy holding R's fault: fault in what we write now */
	l4_touch((u64)&s_first, true);
	l4_touch((u64)&s_second, true);
	l4_touch((u64)&s_first_done, true);
	string_msg(&m, 3, 16);
	s_first = l4_ipc(t_tid, L4_NILTHREAD, L4_TIMEOUTS(1000, 0), &m, NULL);
	s_first_done = 1;
	m.mr[0] = L4_TAG_MAKE(7, 1, 0);
	m.mr[1] = 77;
	s_second = l4_ipc(t_tid, L4_NILTHREAD, L4_TIMEOUTS(200000, 0), &m, NULL);
	for (;;)
		l4_receive(main_tid, &m);
}

static void test_failed_fault_fails_only_its_send(void)
{
	armed = 0;
	refuse_held = 1;
	hold_addr = (u64)refused_buf;
	p_tid = l4_spawn_thread(hold_pager, 0, stacks[8], STACK_SIZE);
	t_tid = l4_spawn_task(p_tid, receiver_r, 0, stacks[9], STACK_SIZE);
	wait_state(t_tid, L4_EXREG_STATE_RECEIVING);
	armed = 1;
	struct l4_msg m = { { L4_TAG_MAKE(4, 0, 0) } };
	l4_send(t_tid, &m);
	yield_n(3);
	x_tid = l4_spawn_task(p_tid, sender_s, 0, stacks[7], STACK_SIZE);
	u64 tag = l4_receive(p_tid, &m); /* R is faulting its buffer in, held */
	CHECK(!l4_ipc_failed(tag), "R faults its buffer in for S's string");
	for (int i = 0; i < 100 && !s_first_done; i++)
		sleep_ms(1);
	CHECK(s_first_done && ipc_error(s_first, L4_IPC_TIMEOUT, false), "S's string send times out meanwhile (%llx)",
	      s_first);
	CHECK(wait_state(x_tid, L4_EXREG_STATE_SENDING), "S waits to send a plain word");
	l4_send(p_tid, &m); /* the pager refuses: R's fault fails */
	sleep_ms(20);
	CHECK(ipc_error(r_first, L4_IPC_XFER, true), "R's receive fails with XFER (%llx)", r_first);
	CHECK(!l4_ipc_failed(s_second) && !l4_ipc_failed(r_second) && L4_TAG_LABEL(r_second) == 7,
	      "S's later send is not failed with it: R gets the word (S %llx, R %llx)", s_second, r_second);
	refuse_held = 0;
	l4_delete_task(t_tid);
	l4_delete_task(x_tid);
	l4_delete_thread(p_tid);
}

int main(void)
{
	main_tid = l4_myself();
	test_woken_thread_deleted();
	test_lost_cancel(false);
	test_lost_cancel(true);
	test_failed_fault_fails_only_its_send();
	return t_done("t_races");
}
