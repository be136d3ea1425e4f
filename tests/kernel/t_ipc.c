/* IPC: send, receive, call, reply-and-wait within and across tasks,
 * register and UTCB words, open and closed receive, every error path. */
#include "util.h"

static test_stack_t stacks[8];
static volatile u64 seen_label, seen_word, seen_sender;
static l4_tid_t main_tid;

/* Receives one message from anybody, records it, and replies doubled. */
static void echo_once(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t from;
	u64 tag = l4_wait(&m, &from);
	seen_label = L4_TAG_LABEL(tag);
	seen_word = m.mr[1];
	seen_sender = from;
	m.mr[0] = L4_TAG_MAKE(7, 1, 0);
	m.mr[1] *= 2;
	l4_send(from, &m); /* blocks until the sender receives */
}

/* Serves calls forever: returns the sum of all untyped words, using the
 * UTCB for MR8 and up. */
static void summing_server(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t from;
	u64 tag = l4_wait(&m, &from);
	for (;;) {
		u64 sum = 0;
		unsigned u = L4_TAG_U(tag);
		for (unsigned i = 1; i <= u; i++)
			sum += i < L4_MR_REGS ? m.mr[i] : l4_utcb()->mr[i];
		m.mr[0] = L4_TAG_MAKE(L4_TAG_LABEL(tag) + 1, 1, 0);
		m.mr[1] = sum;
		tag = l4_reply_wait(from, &m, &from);
	}
}

static void test_send_receive_same_task(void)
{
	l4_tid_t t = l4_spawn_thread(echo_once, 0, stacks[0], STACK_SIZE);
	CHECK(t != L4_NILTHREAD, "thread created in own task");
	struct l4_msg m = { { L4_TAG_MAKE(42, 1, 0), 1234 } };
	u64 tag = l4_send(t, &m);
	CHECK(!l4_ipc_failed(tag), "send to a thread in the same task");
	tag = l4_receive(t, &m);
	CHECK(!l4_ipc_failed(tag) && L4_TAG_LABEL(tag) == 7 && m.mr[1] == 2468,
	      "closed receive gets the reply (label %llu, word %llu)", L4_TAG_LABEL(tag), m.mr[1]);
	CHECK(seen_label == 42 && seen_word == 1234, "receiver got label and word");
	CHECK(seen_sender == main_tid, "open receive names the sender (%llx)", (u64)seen_sender);
	l4_delete_thread(t);
}

static void test_call(l4_tid_t server, const char *where)
{
	struct l4_msg m = { { L4_TAG_MAKE(10, 3, 0), 1, 2, 3 } };
	u64 tag = l4_call(server, &m);
	CHECK(!l4_ipc_failed(tag) && L4_TAG_LABEL(tag) == 11 && m.mr[1] == 6,
	      "call/reply-and-wait %s with register words", where);
	/* 40 words: MR1..MR7 in registers, MR8..MR40 in the UTCB */
	u64 expect = 0;
	for (unsigned i = 1; i <= 40; i++) {
		if (i < L4_MR_REGS)
			m.mr[i] = i * 1000;
		else
			l4_utcb()->mr[i] = i * 1000;
		expect += i * 1000;
	}
	m.mr[0] = L4_TAG_MAKE(20, 40, 0);
	tag = l4_call(server, &m);
	CHECK(!l4_ipc_failed(tag) && m.mr[1] == expect, "call %s with 40 words through the UTCB", where);
	int ok = 0;
	for (int i = 0; i < 1000; i++) {
		m.mr[0] = L4_TAG_MAKE(1, 1, 0);
		m.mr[1] = (u64)i;
		tag = l4_call(server, &m);
		ok += !l4_ipc_failed(tag) && m.mr[1] == (u64)i;
	}
	CHECK(ok == 1000, "1000 calls %s all answered (%d)", where, ok);
}

static void test_zero_timeouts(void)
{
	l4_tid_t t;
	CHECK(l4_create_thread(l4_myself(), l4_parent, &t) == 0, "create a thread that never runs");
	struct l4_msg m = { { L4_TAG_MAKE(1, 0, 0) } };
	u64 tag = l4_ipc(t, L4_NILTHREAD, L4_POLL, &m, NULL);
	CHECK(ipc_error(tag, L4_IPC_TIMEOUT, false), "zero-timeout send without receiver: timeout, send phase");
	tag = l4_ipc(L4_NILTHREAD, t, L4_POLL, &m, NULL);
	CHECK(ipc_error(tag, L4_IPC_TIMEOUT, true), "zero-timeout receive without sender: timeout, receive phase");
	tag = l4_ipc(L4_NILTHREAD, L4_ANYTHREAD, L4_POLL, &m, NULL);
	CHECK(ipc_error(tag, L4_IPC_TIMEOUT, true), "zero-timeout open receive: timeout");
	l4_delete_thread(t);
}

static void test_no_partner(void)
{
	struct l4_msg m = { { L4_TAG_MAKE(1, 0, 0) } };
	u64 tag = l4_send(L4_TID_MAKE(4000, 77), &m);
	CHECK(ipc_error(tag, L4_IPC_NOPARTNER, false), "send to a never-created thread: no partner");
	tag = l4_receive(L4_TID_MAKE(4001, 3), &m);
	CHECK(ipc_error(tag, L4_IPC_NOPARTNER, true), "receive from a never-created thread: no partner");
	l4_tid_t t = l4_spawn_thread(echo_once, 0, stacks[1], STACK_SIZE);
	yield_n(2);
	CHECK(l4_delete_thread(t) == 0, "delete a thread");
	tag = l4_send(t, &m);
	CHECK(ipc_error(tag, L4_IPC_NOPARTNER, false), "send to a deleted thread: no partner");
	tag = l4_send(L4_ANYTHREAD, &m);
	CHECK(ipc_error(tag, L4_IPC_NOPARTNER, false), "send to the wildcard ID: no partner");
	tag = l4_ipc(main_tid, L4_NILTHREAD, L4_NEVER, &m, NULL);
	CHECK(ipc_error(tag, L4_IPC_NOPARTNER, false), "send to oneself: error, not a deadlock");
}

static volatile u64 blocked_result;

static void receive_from_arg(u64 arg)
{
	struct l4_msg m;
	blocked_result = l4_receive(arg, &m);
}

static volatile u64 poll_result;

static void send_blocking(u64 to)
{
	struct l4_msg m = { { L4_TAG_MAKE(9, 0, 0) } };
	poll_result = l4_send(to, &m);
}

static void sleeper(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_receive(l4_myself(), &m); /* never satisfied */
}

static void test_partner_deleted_and_cancel(void)
{
	l4_tid_t target = l4_spawn_thread(sleeper, 0, stacks[2], STACK_SIZE);
	blocked_result = 0;
	l4_tid_t waiter = l4_spawn_thread(receive_from_arg, target, stacks[3], STACK_SIZE);
	yield_n(3);
	CHECK(thread_in_state(waiter, L4_EXREG_STATE_RECEIVING), "waiter blocks in receive");
	l4_delete_thread(target);
	yield_n(3);
	CHECK(ipc_error(blocked_result, L4_IPC_NOPARTNER, true),
	      "partner deleted while waited for: no partner, receive phase (%llx)", (u64)blocked_result);
	l4_delete_thread(waiter);

	/* the other way round: a sender whose receiver is deleted mid-IPC */
	l4_tid_t never_receives;
	l4_create_thread(main_tid, l4_parent, &never_receives);
	poll_result = 0;
	l4_tid_t sender = l4_spawn_thread(send_blocking, never_receives, stacks[5], STACK_SIZE);
	yield_n(3);
	CHECK(thread_in_state(sender, L4_EXREG_STATE_SENDING), "a sender blocks on a receiver that never receives");
	l4_delete_thread(never_receives);
	yield_n(3);
	CHECK(ipc_error(poll_result, L4_IPC_NOPARTNER, false), "receiver deleted mid-IPC: no partner, send phase (%llx)",
	      (u64)poll_result);
	l4_delete_thread(sender);

	blocked_result = 0;
	waiter = l4_spawn_thread(receive_from_arg, L4_ANYTHREAD, stacks[4], STACK_SIZE);
	yield_n(3);
	struct l4_exreg x = { L4_EXREG_CANCEL, 0, 0, 0, 0, 0 };
	CHECK(l4_exchange_registers(waiter, &x) == 0, "exchange-registers cancel");
	yield_n(3);
	CHECK(ipc_error(blocked_result, L4_IPC_CANCELLED, true), "cancelled receive reports cancelled");
	l4_delete_thread(waiter);
}

static void send_poll(u64 to)
{
	struct l4_msg m = { { L4_TAG_MAKE(9, 0, 0) } };
	poll_result = l4_ipc(to, L4_NILTHREAD, L4_POLL, &m, NULL);
}

static void test_closed_receive(void)
{
	/* waiter accepts only main: another thread's zero-timeout send fails */
	blocked_result = 0;
	l4_tid_t waiter = l4_spawn_thread(receive_from_arg, main_tid, stacks[5], STACK_SIZE);
	yield_n(3);
	poll_result = 0;
	l4_tid_t other = l4_spawn_thread(send_poll, waiter, stacks[1], STACK_SIZE);
	yield_n(3);
	CHECK(ipc_error(poll_result, L4_IPC_TIMEOUT, false),
	      "closed receive refuses a third thread (its zero-timeout send times out)");
	CHECK(thread_in_state(waiter, L4_EXREG_STATE_RECEIVING), "waiter still waits for its partner");
	struct l4_msg m = { { L4_TAG_MAKE(3, 0, 0) } };
	u64 tag = l4_ipc(waiter, L4_NILTHREAD, L4_POLL, &m, NULL);
	CHECK(!l4_ipc_failed(tag), "closed receive accepts its partner");
	yield_n(2);
	CHECK(!l4_ipc_failed(blocked_result) && L4_TAG_LABEL(blocked_result) == 3, "waiter got the message");
	l4_delete_thread(other);
	l4_delete_thread(waiter);
}

/* A call whose send blocks, with a zero receive timeout: once the server
 * has taken the message the reply cannot be there yet. */
static void test_call_zero_receive_timeout(void)
{
	l4_tid_t t = l4_spawn_thread(echo_once, 0, stacks[6], STACK_SIZE);
	struct l4_msg m = { { L4_TAG_MAKE(1, 1, 0), 5 } };
	u64 tag = l4_ipc(t, t, L4_TIMEOUTS(L4_TIMEOUT_NEVER, L4_TIMEOUT_ZERO), &m, NULL);
	CHECK(ipc_error(tag, L4_IPC_TIMEOUT, true), "call with a zero receive timeout: timeout, receive phase");
	CHECK(seen_word == 5, "the message itself was delivered");
	l4_delete_thread(t);
}

/* A send that blocks, followed by a closed receive from a third thread
 * that is already waiting to send to us. */
static volatile u64 third_tag, third_word;

static void send_to(u64 dest)
{
	struct l4_msg m = { { L4_TAG_MAKE(77, 1, 0), 770 } };
	l4_send(dest, &m);
}

static void send_then_receive_from(u64 third)
{
	struct l4_msg m = { { L4_TAG_MAKE(1, 0, 0) } };
	third_tag = l4_ipc(main_tid, third, L4_NEVER, &m, NULL);
	third_word = m.mr[1];
}

static void test_receive_from_third_after_send(void)
{
	l4_tid_t a;
	l4_create_thread(main_tid, l4_parent, &a);
	l4_tid_t c = l4_spawn_thread(send_to, a, stacks[2], STACK_SIZE);
	yield_n(2);
	CHECK(thread_in_state(c, L4_EXREG_STATE_SENDING), "a third thread waits to send to A");
	third_tag = 0;
	l4_start_fn(a, send_then_receive_from, c, stacks[3], STACK_SIZE);
	struct l4_msg m;
	u64 tag = l4_receive(a, &m);
	CHECK(!l4_ipc_failed(tag), "A's send (then receive from the third) reaches us");
	yield_n(3);
	CHECK(!l4_ipc_failed(third_tag) && L4_TAG_LABEL(third_tag) == 77 && third_word == 770,
	      "A's closed receive then takes the third thread's queued message");
	l4_delete_thread(a);
	l4_delete_thread(c);
}

/* ---- finite timeouts ---------------------------------------------------------- */

static u64 us_since(u64 t0) { return (l4_rdtsc() - t0) * 1000000 / l4_kip()->tsc_hz; }

static void silent_server(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t from;
	l4_wait(&m, &from);          /* takes one message, never answers */
	l4_receive(l4_myself(), &m);
}

static void send_after_yield(u64 to)
{
	l4_yield();
	struct l4_msg m = { { L4_TAG_MAKE(55, 0, 0) } };
	l4_send(to, &m);
}

static void test_finite_timeouts(void)
{
	l4_tid_t idle;
	l4_create_thread(main_tid, l4_parent, &idle); /* never runs */
	struct l4_msg m = { { L4_TAG_MAKE(1, 0, 0) } };
	u64 t0 = l4_rdtsc();
	u64 tag = l4_ipc(idle, L4_NILTHREAD, L4_TIMEOUTS(20000, L4_TIMEOUT_NEVER), &m, NULL);
	u64 us = us_since(t0);
	CHECK(ipc_error(tag, L4_IPC_TIMEOUT, false) && us >= 20000 && us < 2000000,
	      "a 20 ms send timeout expires in the send phase after %llu us", us);
	t0 = l4_rdtsc();
	tag = l4_ipc(L4_NILTHREAD, idle, L4_TIMEOUTS(L4_TIMEOUT_NEVER, 5000), &m, NULL);
	us = us_since(t0);
	CHECK(ipc_error(tag, L4_IPC_TIMEOUT, true) && us >= 5000 && us < 2000000,
	      "a 5 ms receive timeout expires in the receive phase after %llu us", us);
	t0 = l4_rdtsc();
	tag = l4_ipc(L4_NILTHREAD, main_tid, L4_TIMEOUTS(0, 10000), &m, NULL);
	us = us_since(t0);
	CHECK(ipc_error(tag, L4_IPC_TIMEOUT, true) && us >= 10000 && us < 2000000,
	      "sleeping: receiving from oneself with a 10 ms timeout (%llu us)", us);
	l4_delete_thread(idle);

	l4_tid_t srv = l4_spawn_thread(silent_server, 0, stacks[6], STACK_SIZE);
	t0 = l4_rdtsc();
	m.mr[0] = L4_TAG_MAKE(1, 0, 0);
	tag = l4_ipc(srv, srv, L4_TIMEOUTS(L4_TIMEOUT_NEVER, 20000), &m, NULL);
	us = us_since(t0);
	CHECK(ipc_error(tag, L4_IPC_TIMEOUT, true) && us >= 20000,
	      "a call whose reply does not come: the receive timeout expires (%llu us)", us);
	l4_delete_thread(srv);

	l4_tid_t s = l4_spawn_thread(send_after_yield, main_tid, stacks[7], STACK_SIZE);
	tag = l4_ipc(L4_NILTHREAD, s, L4_TIMEOUTS(0, 20000), &m, NULL);
	CHECK(!l4_ipc_failed(tag) && L4_TAG_LABEL(tag) == 55, "a message within the timeout arrives");
	/* a longer wait next: a stale 20 ms deadline left behind would end it early */
	l4_tid_t idle2;
	l4_create_thread(main_tid, l4_parent, &idle2);
	t0 = l4_rdtsc();
	tag = l4_ipc(L4_NILTHREAD, idle2, L4_TIMEOUTS(0, 100000), &m, NULL);
	us = us_since(t0);
	CHECK(ipc_error(tag, L4_IPC_TIMEOUT, true) && us >= 100000, "and the old timeout does not fire later (%llu us)", us);
	l4_delete_thread(idle2);
	l4_delete_thread(s);
}

static void test_bad_messages(void)
{
	l4_tid_t t = l4_spawn_thread(sleeper, 0, stacks[6], STACK_SIZE);
	struct l4_msg m = { { L4_TAG_MAKE(1, 63, 2) } };
	u64 tag = l4_ipc(t, L4_NILTHREAD, L4_POLL, &m, NULL);
	CHECK(ipc_error(tag, L4_IPC_BADMSG, false), "more than 63 words: bad message");
	m.mr[0] = L4_TAG_MAKE(1, 0, 1);
	tag = l4_ipc(t, L4_NILTHREAD, L4_POLL, &m, NULL);
	CHECK(ipc_error(tag, L4_IPC_BADMSG, false), "odd typed-word count: bad message");
	m.mr[0] = L4_TAG_MAKE(L4_LABEL_PAGEFAULT | L4_W, 3, 0);
	tag = l4_ipc(t, L4_NILTHREAD, L4_POLL, &m, NULL);
	CHECK(ipc_error(tag, L4_IPC_BADMSG, false), "a forged page-fault label: bad message");
	m.mr[0] = L4_TAG_MAKE(1, 0, 0) | L4_TAG_PROPAGATE;
	tag = l4_ipc(t, L4_NILTHREAD, L4_POLL, &m, NULL);
	CHECK(ipc_error(tag, L4_IPC_BADMSG, false), "the reserved propagate bit: bad message");
	l4_delete_thread(t);
}

int main(void)
{
	main_tid = l4_myself();
	test_send_receive_same_task();
	l4_tid_t local = l4_spawn_thread(summing_server, 0, stacks[7], STACK_SIZE);
	test_call(local, "within a task");
	static test_stack_t remote_stack;
	l4_tid_t remote = l4_spawn_task(l4_mirror_pager_start(), summing_server, 0, remote_stack, STACK_SIZE);
	CHECK(remote != L4_NILTHREAD, "server task created");
	test_call(remote, "across tasks");
	test_zero_timeouts();
	test_no_partner();
	test_partner_deleted_and_cancel();
	test_closed_receive();
	test_call_zero_receive_timeout();
	test_receive_from_third_after_send();
	test_finite_timeouts();
	test_bad_messages();
	l4_delete_task(remote);
	l4_delete_thread(local);
	return t_done("t_ipc");
}
