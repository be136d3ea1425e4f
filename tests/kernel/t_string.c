/*
 * String items: bytes copied by the kernel straight from the sender's
 * address space into the receiver's buffer, with page faults on either side
 * resolved through the pagers; overflow and bad pointers give errors.
 *
 * The server runs in a second task that shares this program's memory
 * through the mirror pager: its buffers are frames we can read too.
 */
#include "util.h"
#include <l4/pager.h>
#include "../../lib/common/string.h"

#define BIG (64 * 1024)

static u8 src_a[BIG] __attribute__((aligned(4096)));
static u8 srv_buf[BIG] __attribute__((aligned(4096)));
static u8 reply_buf[BIG] __attribute__((aligned(4096)));
static u8 small_buf[128];
static test_stack_t stacks[4];
static l4_tid_t main_tid;

enum { OP_SUM = 1, OP_ECHO_STRING, OP_ECHO_BUFFER, OP_ECHO_ZERO_TIMEOUT };

static u64 checksum(const u8 *p, u64 n)
{
	u64 s = 0;
	for (u64 i = 0; i < n; i++)
		s = s * 31 + p[i];
	return s;
}

static volatile u64 srv_last_error;

/* Receives into srv_buf; answers with the checksum of what arrived, the
 * item words it saw, or echoes the bytes back as a string item. */
static void string_server(u64 arg)
{
	(void)arg;
	struct l4_utcb *u = l4_utcb();
	struct l4_msg m;
	l4_tid_t from;
	for (;;) {
		u->buf_count = 1;
		u->buf[0].addr = (u64)srv_buf;
		u->buf[0].len = BIG;
		u64 tag = l4_wait(&m, &from);
		if (l4_ipc_failed(tag)) {
			srv_last_error = tag;
			continue;
		}
		u64 op = L4_TAG_LABEL(tag), len = L4_STRING_LEN(m.mr[1]);
		if (op == OP_ECHO_BUFFER) /* a plain request: MR1 is the length */
			len = m.mr[1];
		if (op == OP_ECHO_STRING || op == OP_ECHO_BUFFER || op == OP_ECHO_ZERO_TIMEOUT) {
			m.mr[0] = L4_TAG_MAKE(0, 0, 2);
			m.mr[1] = L4_STRING_ITEM(len);
			m.mr[2] = (u64)srv_buf;
			u64 timeouts = op == OP_ECHO_ZERO_TIMEOUT ? L4_TIMEOUTS(0, 0) : L4_TIMEOUTS(L4_TIMEOUT_NEVER, 0);
			srv_last_error = l4_ipc(from, L4_NILTHREAD, timeouts, &m, NULL);
			continue;
		}
		u64 words1 = m.mr[1], words2 = m.mr[2];
		m.mr[0] = L4_TAG_MAKE(0, 3, 0);
		m.mr[1] = checksum(srv_buf, len);
		m.mr[2] = words1;
		m.mr[3] = words2;
		l4_ipc(from, L4_NILTHREAD, L4_TIMEOUTS(L4_TIMEOUT_NEVER, 0), &m, NULL);
	}
}

static u64 send_string(l4_tid_t srv, u64 op, const void *p, u64 len, struct l4_msg *m)
{
	m->mr[0] = L4_TAG_MAKE(op, 0, 2);
	m->mr[1] = L4_STRING_ITEM(len);
	m->mr[2] = (u64)p;
	return l4_call(srv, m);
}

static void fill(u8 *p, u64 n, u8 seed)
{
	for (u64 i = 0; i < n; i++)
		p[i] = (u8)(seed + i * 7 + (i >> 9));
}

static void test_basic(l4_tid_t srv)
{
	struct l4_msg m;
	fill(src_a, 4096, 1);
	u64 tag = send_string(srv, OP_SUM, src_a, 4096, &m);
	CHECK(!l4_ipc_failed(tag) && m.mr[1] == checksum(src_a, 4096), "a 4 KiB string arrives intact");
	CHECK(m.mr[2] == L4_STRING_ITEM(4096) && m.mr[3] == (u64)srv_buf,
	      "the receiver's item names its buffer and the length");
	CHECK(!memcmp(srv_buf, src_a, 4096), "the bytes are in the receiver's buffer");
	tag = send_string(srv, OP_SUM, src_a + 100, 3000, &m);
	CHECK(!l4_ipc_failed(tag) && m.mr[1] == checksum(src_a + 100, 3000), "an unaligned 3000-byte string");
}

static void test_faults_both_sides(l4_tid_t srv)
{
	struct l4_msg m;
	fill(src_a, BIG, 3);
	u64 expect = checksum(src_a, BIG);
	/* take the pages away on both sides: the source from us (the root task
	 * still has them), the buffer from the server (we still have it) */
	l4_unmap(L4_FPAGE((u64)src_a, 16, L4_RWX), L4_UNMAP_SELF);
	l4_unmap(L4_FPAGE((u64)srv_buf, 16, L4_RWX), 0);
	CHECK(l4_kdebug(L4_KD_PROBE, (u64)src_a, 0) == 0, "the source pages are unmapped here");
	u64 tag = send_string(srv, OP_SUM, src_a, BIG, &m);
	CHECK(!l4_ipc_failed(tag) && m.mr[1] == expect,
	      "a 64 KiB string with faults on both sides arrives intact (tag %llx)", tag);
	CHECK(!memcmp(srv_buf, src_a, BIG), "every page of it");
}

static void test_reply_strings(l4_tid_t srv)
{
	struct l4_utcb *u = l4_utcb();
	struct l4_msg m;
	fill(src_a, 8192, 9);
	memset(reply_buf, 0, sizeof(reply_buf));
	l4_unmap(L4_FPAGE((u64)reply_buf, 16, L4_RWX), L4_UNMAP_SELF); /* our buffer: faults */
	u->buf_count = 1;
	u->buf[0].addr = (u64)reply_buf;
	u->buf[0].len = BIG;
	u64 tag = send_string(srv, OP_ECHO_STRING, src_a, 8192, &m);
	CHECK(!l4_ipc_failed(tag) && m.mr[1] == L4_STRING_ITEM(8192) && m.mr[2] == (u64)reply_buf &&
		      !memcmp(reply_buf, src_a, 8192),
	      "a reply string lands in our buffer, faulted in while we waited (tag %llx)", tag);
	/* a register-only request (the fast path blocks us), a string reply */
	l4_unmap(L4_FPAGE((u64)reply_buf, 16, L4_RWX), L4_UNMAP_SELF);
	m.mr[0] = L4_TAG_MAKE(OP_ECHO_BUFFER, 1, 0);
	m.mr[1] = 4096;
	yield_n(3); /* the server waits again: the fast path takes our call */
	tag = l4_call(srv, &m);
	CHECK(!l4_ipc_failed(tag) && m.mr[2] == (u64)reply_buf && !memcmp(reply_buf, srv_buf, 4096),
	      "also after a register-only call: the fault is taken on our resumption (tag %llx)", tag);
	l4_unmap(L4_FPAGE((u64)reply_buf, 16, L4_RWX), L4_UNMAP_SELF);
	tag = send_string(srv, OP_ECHO_ZERO_TIMEOUT, src_a, 8192, &m);
	CHECK(ipc_error(tag, L4_IPC_XFER, true), "a zero-timeout reply into an unmapped buffer fails: XFER (%llx)", tag);
	yield_n(2);
	CHECK(ipc_error(srv_last_error, L4_IPC_XFER, false), "for the replier too");
	CHECK(l4_kdebug(L4_KD_PROBE, (u64)reply_buf, 0) & L4_W, "but our buffer was faulted in all the same");
	tag = send_string(srv, OP_ECHO_ZERO_TIMEOUT, src_a, 4096, &m);
	CHECK(!l4_ipc_failed(tag) && !memcmp(reply_buf, src_a, 4096), "so that the retry succeeds");
	u->buf_count = 0;
}

static void test_errors(l4_tid_t srv)
{
	struct l4_msg m;
	u64 tag = send_string(srv, OP_SUM, src_a, BIG + 1, &m);
	CHECK(ipc_error(tag, L4_IPC_OVERFLOW, false), "a string longer than the buffer: overflow");
	m.mr[0] = L4_TAG_MAKE(OP_SUM, 0, 4);
	m.mr[1] = L4_STRING_ITEM(16);
	m.mr[2] = (u64)src_a;
	m.mr[3] = L4_STRING_ITEM(16);
	m.mr[4] = (u64)src_a;
	tag = l4_call(srv, &m);
	CHECK(ipc_error(tag, L4_IPC_OVERFLOW, false), "more strings than buffers: overflow");
	u64 bad[] = { 0xffffffff80100000ull, 0x8000000000000000ull, L4_KIP_ADDR, L4_USER_MAP_END - 8 };
	int ok = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		tag = send_string(srv, OP_SUM, (void *)bad[i], 64, &m);
		ok += ipc_error(tag, L4_IPC_BADMSG, false);
	}
	CHECK(ok == (int)ARRAY_SIZE(bad), "strings from kernel, non-canonical, KIP or UTCB addresses: bad message");
	tag = send_string(srv, OP_SUM, src_a, L4_STRING_MAX + 1, &m);
	CHECK(ipc_error(tag, L4_IPC_BADMSG, false), "a string over the per-item limit: bad message");
	tag = send_string(srv, OP_SUM, src_a, 0, &m);
	CHECK(!l4_ipc_failed(tag) && m.mr[1] == 0, "an empty string is fine");
	tag = send_string(srv, OP_SUM, (void *)0x3000000123ull, 0, &m);
	CHECK(!l4_ipc_failed(tag), "even at an unmapped, unaligned address (nothing to touch)");
}

/* A sender whose pager maps nothing for its wild source address. */
static volatile u64 wild_result;

static void wild_sender(u64 srv)
{
	struct l4_msg m;
	wild_result = send_string(srv, OP_SUM, (void *)0x3000000000ull, 64, &m);
	struct l4_msg done = { { L4_TAG_MAKE(1, 0, 0) } };
	l4_send(main_tid, &done);
}

static void test_unmappable_source(l4_tid_t srv)
{
	static struct pager refusing;
	pager_init(&refusing, NULL, 0, true);
	pager_add_image(&refusing);
	l4_tid_t p = pager_start(&refusing, stacks[2], STACK_SIZE);
	memset(stacks[3], 0, STACK_SIZE);
	l4_tid_t t = l4_spawn_task(p, wild_sender, srv, stacks[3], STACK_SIZE);
	struct l4_msg m;
	l4_receive(t, &m);
	CHECK(ipc_error(wild_result, L4_IPC_XFER, false), "a source its pager will not map: XFER (%llx)", wild_result);
	CHECK(refusing.last_addr == 0x3000000000ull && (refusing.last_label & L4_R),
	      "after asking the sender's pager for a read of it");
	l4_delete_task(t);
	l4_delete_thread(p);
}

/* A client whose pager is the very thread that replies with a string into
 * its unmapped buffer: the pager could never serve the fault while it
 * waits to deliver, so both get XFER at once instead of a deadlock. */
static volatile u64 pager_server_result;
static u8 client_buf[4096] __attribute__((aligned(4096)));

static void pager_and_server(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t from;
	for (;;) {
		u64 tag = l4_wait(&m, &from);
		if (l4_ipc_failed(tag))
			continue;
		if ((L4_TAG_LABEL(tag) & ~0xfull) == L4_LABEL_PAGEFAULT) { /* its code and stack */
			u64 page = m.mr[1] & ~0xfffull;
			if (page == (u64)client_buf) {
				m.mr[0] = L4_TAG_MAKE(0, 0, 0); /* never serve the buffer */
				l4_ipc(from, L4_NILTHREAD, L4_POLL, &m, NULL);
				continue;
			}
			l4_touch(page, false);
			l4_map_msg(&m, page, L4_FPAGE(page, 12, L4_RWX), false);
			l4_ipc(from, L4_NILTHREAD, L4_POLL, &m, NULL);
			continue;
		}
		m.mr[0] = L4_TAG_MAKE(0, 0, 2);
		m.mr[1] = L4_STRING_ITEM(64);
		m.mr[2] = (u64)src_a;
		pager_server_result = l4_ipc(from, L4_NILTHREAD, L4_TIMEOUTS(L4_TIMEOUT_NEVER, 0), &m, NULL);
	}
}

static volatile u64 client_result;

static void buffered_client(u64 server)
{
	struct l4_utcb *u = l4_utcb();
	u->buf_count = 1;
	u->buf[0].addr = (u64)client_buf;
	u->buf[0].len = sizeof(client_buf);
	struct l4_msg m = { { L4_TAG_MAKE(1, 0, 0) } };
	client_result = l4_call(server, &m);
	struct l4_msg done = { { L4_TAG_MAKE(1, 0, 0) } };
	l4_send(main_tid, &done);
}

static void test_partner_is_pager(void)
{
	l4_tid_t ps = l4_spawn_thread(pager_and_server, 0, stacks[1], STACK_SIZE);
	memset(stacks[3], 0, STACK_SIZE);
	l4_tid_t c = l4_spawn_task(ps, buffered_client, ps, stacks[3], STACK_SIZE);
	struct l4_msg m;
	l4_receive(c, &m);
	CHECK(ipc_error(client_result, L4_IPC_XFER, true) && ipc_error(pager_server_result, L4_IPC_XFER, false),
	      "a string into a buffer only the replier itself could page: XFER for both, no deadlock");
	l4_delete_task(c);
	l4_delete_thread(ps);
}

int main(void)
{
	main_tid = l4_myself();
	memset(srv_buf, 0, sizeof(srv_buf));
	l4_tid_t srv = l4_spawn_task(l4_mirror_pager_start(), string_server, 0, stacks[0], STACK_SIZE);
	test_basic(srv);
	test_faults_both_sides(srv);
	test_reply_strings(srv);
	test_errors(srv);
	test_unmappable_source(srv);
	test_partner_is_pager();
	(void)small_buf;
	l4_delete_task(srv);
	return t_done("t_string");
}
