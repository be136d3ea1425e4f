/*
 * Isolation ([K5]): tasks try to break out of their address space and
 * authority, and every attempt must fail.
 *
 * Two sibling tasks A and B, both created by this task, run an "agent": a
 * command server that makes, in its own task, whatever system call or
 * memory access we ask of it and reports the result, so that every check
 * is about a call a foreign task really made.  Their code and stacks are
 * this program's image, mirrored one-to-one by a pager thread of ours; the
 * data under test is not: each has a private page from sigma0 holding a
 * secret, which our pager maps to A at A_SECRET and to B at B_SECRET and
 * to nobody else, at no other address (in our own task those frames sit
 * at VA = PA, outside the mirrored image).  The pager refuses every other
 * fault: a thread other than a task's first thread loses its pager, so
 * that its next fault goes to its exception handler (the agent's first
 * thread, which makes its memory accesses in such helper threads); a
 * kernel access on an agent's behalf (a string copy) gets no mapping and
 * fails.  (The mirrored image is shared by design: it is not what is
 * tested here.)
 *
 * Checked here:
 *  - memory: A cannot read or write B's secret (no mapping, the pager
 *    refuses, the fault reaches A's handler), nor B's frame where we hold
 *    it, nor B's UTCB; string items from addresses A does not own fail;
 *    map and grant items of what A does not hold give nothing and do not
 *    disturb B's mapping; A's Unmap never reaches B's mappings, not even
 *    B's mapping of a frame that A maps too;
 *  - control: A, on B's thread and on sigma0's and the root task's, gets
 *    ENOPERM for every ThreadControl operation, ExchangeRegisters (read
 *    or write) and Schedule, with no register changed (nothing leaks out
 *    of a refused call), and B runs on unchanged;
 *    (the kernel-memory limit included);
 *  - authority is one generation: A's child G can control neither B, nor
 *    us, nor A; we control A but not G; A cannot raise its own or its
 *    child's kernel-memory limit above its own;
 *  - forged kernel messages (page fault, exception, interrupt labels) are
 *    BADMSG, also a forged page fault to our pager naming B's task;
 *  - privileged operations: interrupt lines, device memory, I/O ports
 *    and power-off are refused to A and G (by the kernel, sigma0 and the
 *    root task), and A's Unmap of the console's ports takes nothing from
 *    the console driver.  Related checks elsewhere:
 *    t_io (our own task: attaching and acknowledging interrupt lines, the
 *    forged interrupt label, sigma0's refusal of COM1's ports, port
 *    accesses without the ports), t_mem (sigma0's refusal of device
 *    memory, the KIP and UTCBs cannot be mapped on), t_thread (a child
 *    cannot control its parent, power off or delete sigma0), t_sched
 *    (priorities above the caller's MCP), t_garbage (deleting the root
 *    task's thread);
 *  - IPC: L4 does not restrict who may send to whom — any thread may send
 *    to any thread of any task, and the receiver learns the true sender —
 *    but a closed receive takes only the thread it names.
 * At the end all tasks are deleted: A's child goes with A.
 */
#include "util.h"
#include <l4/pager.h>
#include <l4/console.h>
#include "../../lib/common/string.h"

#define A_SECRET 0x1000000000ull /* A's private page */
#define B_SECRET 0x2000000000ull /* B's private page */
#define B_REGION L4_FPAGE(B_SECRET, 30, L4_RWX) /* 1 GiB around it: A holds nothing there */
#define WIN 0x3000000000ull      /* where B receives map items */
#define BUF_OFF 2048             /* the second half of a private page: string buffers */
#define SECRET_WORDS (BUF_OFF / 8)
#define RW (L4_R | L4_W)
#define HPET 0xfed00000ull
#define PING_MAGIC 0x150150150ull
#define CMD_TIMEOUT 5000000 /* us: an agent that does not answer fails the check */

enum cmd { CMD_PING = 1, CMD_PROBE, CMD_TOUCH, CMD_SYSCALL, CMD_SEND, CMD_RECV, CMD_CALL, CMD_STATS, CMD_SPAWN, CMD_LAST = CMD_SPAWN };
enum touch_op { TOUCH_READ, TOUCH_WRITE, TOUCH_INB };
enum touch_kind { TOUCH_OK, TOUCH_EXC, TOUCH_NONE };
enum slot { SLOT_A, SLOT_B, SLOT_G, SLOTS };

static test_stack_t agent_stacks[SLOTS], helper_stacks[SLOTS], pager_stack;
static u8 shared_page[4096] __attribute__((aligned(4096))); /* mirrored to A and B */

static l4_tid_t me, pager, a_main, b_main, g_main;
static u64 task_a, task_b, frame_a, frame_b;
static volatile u64 pg_faults, pg_refused, pg_last_addr, pg_last_label, pg_last_task;
static volatile l4_tid_t pg_last_from;
extern char _end[];

/* ---- our pager -------------------------------------------------------------- */

/* The reply to a fault in m (an empty one if refused). */
static void pager_fault(l4_tid_t from, u64 label, struct l4_msg *m)
{
	u64 addr = m->mr[1], va = addr & ~0xfffull, task = m->mr[3];
	unsigned access = label & 7;
	pg_faults++;
	if (va >= L4_IMAGE_BASE && va < (u64)_end) { /* code and stacks: ours, shared */
		l4_touch(va, access & L4_W);
		l4_map_msg(m, va, L4_FPAGE(va, 12, L4_RWX), false);
		return;
	}
	if (va == A_SECRET && task == task_a) {
		l4_map_msg(m, va, L4_FPAGE(frame_a, 12, RW), false);
		return;
	}
	if (va == B_SECRET && task == task_b) {
		l4_map_msg(m, va, L4_FPAGE(frame_b, 12, RW), false);
		return;
	}
	pg_last_from = from;
	pg_last_addr = addr;
	pg_last_label = label;
	pg_last_task = task;
	pg_refused++;
	if (from != a_main && from != b_main && from != g_main) {
		/* a helper: its next fault goes to its exception handler */
		struct l4_exreg x = { L4_EXREG_SET_PAGER, 0, 0, 0, L4_NILTHREAD, 0 };
		l4_exchange_registers(from, &x);
	}
	m->mr[0] = L4_TAG_MAKE(0, 0, 0);
}

static bool on_fault(void *ctx, l4_tid_t from, u64 tag, struct l4_msg *m)
{
	(void)ctx;
	pager_fault(from, L4_TAG_LABEL(tag), m);
	return true;
}

static void pager_thread(u64 arg)
{
	(void)arg;
	pager_loop(on_fault, NULL, NULL);
}

/* ---- the agent: runs in A, B and G ------------------------------------------- */

struct touch_req {
	u64 op, addr, value;
	l4_tid_t parent;
};

/* A helper thread: one access, then the value to its creator. */
static void touch_fn(u64 arg)
{
	struct touch_req *r = (struct touch_req *)arg;
	u64 v = 0;
	if (r->op == TOUCH_READ)
		v = *(volatile u64 *)r->addr;
	else if (r->op == TOUCH_WRITE)
		*(volatile u64 *)r->addr = r->value;
	else
		v = l4_inb((u16)r->addr);
	struct l4_msg m = { { L4_TAG_MAKE(1, 1, 0), v } };
	l4_send(r->parent, &m);
	for (;;)
		l4_receive(l4_myself(), &m);
}

static l4_tid_t own_pager(void)
{
	struct l4_exreg x = { 0, 0, 0, 0, 0, 0 };
	return l4_exchange_registers(l4_myself(), &x) == 0 ? x.pager : L4_NILTHREAD;
}

/* The access in a helper whose exception handler is this thread:
 * r[1] = kind, r[2] = value or vector, r[3] = fault address, r[4] = error. */
static void do_touch(u64 slot, u64 op, u64 addr, u64 value, struct l4_msg *r)
{
	struct touch_req req = { op, addr, value, l4_myself() };
	l4_tid_t h;
	r->mr[1] = TOUCH_NONE;
	if (l4_create_thread_ex(l4_myself(), own_pager(), 0, l4_myself(), &h) < 0)
		return;
	l4_start_fn(h, touch_fn, (u64)&req, helper_stacks[slot], STACK_SIZE);
	struct l4_msg m;
	u64 tag = l4_ipc(L4_NILTHREAD, h, L4_TIMEOUTS(0, 2000000), &m, NULL);
	if (!l4_ipc_failed(tag) && L4_TAG_LABEL(tag) == L4_LABEL_EXCEPTION) {
		r->mr[1] = TOUCH_EXC;
		r->mr[2] = m.mr[L4_EXC_VECTOR];
		r->mr[3] = m.mr[L4_EXC_ADDR];
		r->mr[4] = m.mr[L4_EXC_ERROR];
	} else if (!l4_ipc_failed(tag) && L4_TAG_LABEL(tag) == 1) {
		r->mr[1] = TOUCH_OK;
		r->mr[2] = m.mr[1];
	}
	l4_delete_thread(h);
}

struct stats {
	u64 count, label, mr1;
	l4_tid_t from;
};

static void agent(u64 slot);

/* Every command has 7 argument words and gets 7 answer words. */
static void agent_command(u64 slot, u64 c, struct l4_msg *m, struct stats *st)
{
	u64 a[8];
	for (int i = 1; i < 8; i++)
		a[i] = m->mr[i];
	struct l4_msg r = { { L4_TAG_MAKE(0, 7, 0) } };
	struct l4_utcb *u = l4_utcb();
	struct l4_msg s = { { 0 } };
	l4_tid_t from = L4_NILTHREAD;
	switch (c) {
	case CMD_PING:
		r.mr[1] = PING_MAGIC;
		r.mr[2] = l4_myself();
		break;
	case CMD_PROBE:
		r.mr[1] = (u64)l4_kdebug(L4_KD_PROBE, a[1], 0);
		break;
	case CMD_TOUCH: /* op, addr, value */
		do_touch(slot, a[1], a[2], a[3], &r);
		break;
	case CMD_SYSCALL: { /* rax, rdi, rsi, rdx, r10, r8, r9: all come back */
		struct l4_regs x = { a[1], a[2], a[3], a[4], a[5], a[6], a[7] };
		l4_syscall(&x);
		u64 out[7] = { x.rax, x.rdi, x.rsi, x.rdx, x.r10, x.r8, x.r9 };
		for (int i = 0; i < 7; i++)
			r.mr[i + 1] = out[i];
		break;
	}
	case CMD_SEND: /* to, timeouts, tag, w1, w2, w3 */
		s = (struct l4_msg){ { a[3], a[4], a[5], a[6] } };
		r.mr[1] = l4_ipc(a[1], L4_NILTHREAD, a[2], &s, NULL);
		break;
	case CMD_RECV: /* from, timeouts, window, buffer, length */
		u->rcv_window = a[3];
		u->buf[0].addr = a[4];
		u->buf[0].len = a[5];
		u->buf_count = a[5] ? 1 : 0;
		r.mr[1] = l4_ipc(L4_NILTHREAD, a[1], a[2], &s, &from);
		u->rcv_window = 0;
		u->buf_count = 0;
		r.mr[2] = from;
		r.mr[3] = s.mr[1];
		r.mr[4] = s.mr[2];
		r.mr[5] = s.mr[3];
		break;
	case CMD_CALL: /* to, tag, w1, w2, w3, window */
		u->rcv_window = a[6];
		s = (struct l4_msg){ { a[2], a[3], a[4], a[5] } };
		r.mr[1] = l4_ipc(a[1], a[1], L4_TIMEOUTS(1000000, 1000000), &s, NULL);
		u->rcv_window = 0;
		r.mr[2] = s.mr[1];
		r.mr[3] = s.mr[2];
		break;
	case CMD_STATS: /* and reset them */
		r.mr[1] = st->count;
		r.mr[2] = st->from;
		r.mr[3] = st->label;
		r.mr[4] = st->mr1;
		*st = (struct stats){ 0, 0, 0, 0 };
		break;
	case CMD_SPAWN: { /* pager, slot: a task of our own running an agent */
		l4_tid_t t = L4_NILTHREAD;
		s64 e = l4_create_task(a[1], &t, NULL);
		if (e == 0)
			e = l4_start_fn(t, agent, a[2], agent_stacks[a[2]], STACK_SIZE);
		r.mr[1] = (u64)e;
		r.mr[2] = t;
		break;
	}
	}
	*m = r;
}

/* Messages with any other label are counted: nobody should be able to
 * reach us unseen. */
static void agent(u64 slot)
{
	struct stats st = { 0, 0, 0, 0 };
	struct l4_msg m;
	l4_tid_t from;
	u64 tag = l4_wait(&m, &from);
	for (;;) {
		u64 label = L4_TAG_LABEL(tag);
		if (l4_ipc_failed(tag)) {
			tag = l4_wait(&m, &from);
			continue;
		}
		if (label < CMD_PING || label > CMD_LAST) {
			st.count++;
			st.from = from;
			st.label = label;
			st.mr1 = m.mr[1];
			tag = l4_wait(&m, &from);
			continue;
		}
		agent_command(slot, label, &m, &st);
		/* the answer waits until the asker receives: commands may be posted */
		tag = l4_ipc(from, L4_ANYTHREAD, L4_NEVER, &m, &from);
	}
}

/* ---- asking agents ------------------------------------------------------------ */

static void cmd_msg(struct l4_msg *m, u64 c, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6, u64 a7)
{
	*m = (struct l4_msg){ { L4_TAG_MAKE(c, 7, 0), a1, a2, a3, a4, a5, a6, a7 } };
}

static bool answered(u64 tag) { return !l4_ipc_failed(tag) && L4_TAG_LABEL(tag) == 0 && L4_TAG_U(tag) == 7; }

static bool cmd(l4_tid_t ag, struct l4_msg *m, u64 c, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6, u64 a7)
{
	cmd_msg(m, c, a1, a2, a3, a4, a5, a6, a7);
	return answered(l4_ipc(ag, ag, L4_TIMEOUTS(CMD_TIMEOUT, CMD_TIMEOUT), m, NULL));
}

/* Send a command without waiting for its answer; collect it later. */
static bool post(l4_tid_t ag, u64 c, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	struct l4_msg m;
	cmd_msg(&m, c, a1, a2, a3, a4, a5, 0, 0);
	return !l4_ipc_failed(l4_ipc(ag, L4_NILTHREAD, L4_TIMEOUTS(CMD_TIMEOUT, 0), &m, NULL));
}

static bool collect(l4_tid_t ag, struct l4_msg *m)
{
	return answered(l4_ipc(L4_NILTHREAD, ag, L4_TIMEOUTS(0, CMD_TIMEOUT), m, NULL));
}

static bool ping(l4_tid_t ag)
{
	struct l4_msg m;
	return cmd(ag, &m, CMD_PING, 0, 0, 0, 0, 0, 0, 0) && m.mr[1] == PING_MAGIC && m.mr[2] == ag;
}

static u64 probe(l4_tid_t ag, u64 va)
{
	struct l4_msg m;
	return cmd(ag, &m, CMD_PROBE, va, 0, 0, 0, 0, 0, 0) ? m.mr[1] : ~0ull;
}

struct touch {
	u64 kind, value, addr, error; /* value: the vector for TOUCH_EXC */
};

static struct touch touch(l4_tid_t ag, u64 op, u64 addr, u64 value)
{
	struct l4_msg m;
	if (!cmd(ag, &m, CMD_TOUCH, op, addr, value, 0, 0, 0, 0))
		return (struct touch){ ~0ull, 0, 0, 0 };
	return (struct touch){ m.mr[1], m.mr[2], m.mr[3], m.mr[4] };
}

/* A read (or write) of addr that found no mapping: a page fault at that
 * address, sent to the helper's exception handler. */
static bool faults_at(struct touch t, u64 addr, bool write)
{
	return t.kind == TOUCH_EXC && t.value == 14 && t.addr == addr && !!(t.error & 2) == write;
}

static u64 read_in(l4_tid_t ag, u64 addr)
{
	struct touch t = touch(ag, TOUCH_READ, addr, 0);
	return t.kind == TOUCH_OK ? t.value : ~0ull;
}

/* A raw system call made by agent ag (or by us, for ag = nil). */
static void syscall_by(l4_tid_t ag, struct l4_regs *r)
{
	if (ag == L4_NILTHREAD) {
		l4_syscall(r);
		return;
	}
	struct l4_msg m;
	if (!cmd(ag, &m, CMD_SYSCALL, r->rax, r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9)) {
		r->rax = ~0ull - 1000; /* no answer: no documented result */
		return;
	}
	*r = (struct l4_regs){ m.mr[1], m.mr[2], m.mr[3], m.mr[4], m.mr[5], m.mr[6], m.mr[7] };
}

static u64 send_by(l4_tid_t ag, l4_tid_t to, u64 timeouts, u64 tag, u64 w1, u64 w2, u64 w3)
{
	struct l4_msg m;
	return cmd(ag, &m, CMD_SEND, to, timeouts, tag, w1, w2, w3, 0) ? m.mr[1] : ~0ull;
}

/* A call from ag to `to` with ag's receive window open as given; the
 * reply's tag, and its first two words in w[]. */
static u64 call_by(l4_tid_t ag, l4_tid_t to, u64 tag, u64 w1, u64 w2, u64 w3, l4_fpage_t window, u64 *w)
{
	struct l4_msg m;
	if (!cmd(ag, &m, CMD_CALL, to, tag, w1, w2, w3, window, 0))
		return ~0ull;
	w[0] = m.mr[2];
	w[1] = m.mr[3];
	return m.mr[1];
}

static bool stats(l4_tid_t ag, struct stats *st)
{
	struct l4_msg m;
	if (!cmd(ag, &m, CMD_STATS, 0, 0, 0, 0, 0, 0, 0))
		return false;
	*st = (struct stats){ m.mr[1], m.mr[3], m.mr[4], m.mr[2] };
	return true;
}

static bool no_stray_messages(l4_tid_t ag)
{
	struct stats st;
	return stats(ag, &st) && st.count == 0;
}

/* Our own view of a page: the first half of a secret page holds its
 * secret, word i = base + i. */
static void fill_secret(u64 frame, u64 base)
{
	u64 *w = (u64 *)frame;
	for (int i = 0; i < SECRET_WORDS; i++)
		w[i] = base + i;
	memset((u8 *)frame + BUF_OFF, 0, 4096 - BUF_OFF);
}

static bool secret_intact(u64 frame, u64 base)
{
	const volatile u64 *w = (const u64 *)frame;
	for (int i = 0; i < SECRET_WORDS; i++)
		if (w[i] != base + i)
			return false;
	return true;
}

static bool buffer_clean(u64 frame)
{
	const volatile u64 *w = (const u64 *)(frame + BUF_OFF);
	for (int i = 0; i < (4096 - BUF_OFF) / 8; i++)
		if (w[i])
			return false;
	return true;
}

#define SECRET_A 0xa5a5a5a500000000ull
#define SECRET_B 0xb0b0b0b000000000ull

static bool b_secret_intact(void) { return secret_intact(frame_b, SECRET_B) && read_in(b_main, B_SECRET) == SECRET_B; }

static l4_tid_t start_agent(enum slot slot, u64 *task)
{
	l4_tid_t t = L4_NILTHREAD;
	if (l4_create_task(pager, &t, task) < 0)
		return L4_NILTHREAD;
	if (slot == SLOT_A)
		a_main = t;
	else
		b_main = t;
	l4_start_fn(t, agent, slot, agent_stacks[slot], STACK_SIZE);
	return t;
}

/* ---- memory --------------------------------------------------------------------- */

static u64 utcb_of(l4_tid_t t) { return L4_UTCB_AREA + L4_TID_NUMBER(t) * L4_UTCB_SIZE; }

static void test_private_pages(void)
{
	CHECK(read_in(a_main, A_SECRET) == SECRET_A && read_in(b_main, B_SECRET) == SECRET_B,
	      "A and B each read their own secret through our pager");
	CHECK(probe(a_main, B_SECRET) == 0 && probe(b_main, A_SECRET) == 0,
	      "A has no mapping at B's secret's address, nor B at A's");

	u64 refused = pg_refused;
	struct touch t = touch(a_main, TOUCH_READ, B_SECRET, 0);
	CHECK(faults_at(t, B_SECRET, false), "A reads at B's secret: a page fault at %llx reaches A's exception handler (kind %llu, vector %llu)",
	      t.addr, t.kind, t.value);
	CHECK(pg_refused == refused + 1 && pg_last_addr == B_SECRET && pg_last_task == task_a &&
		      pg_last_label == (L4_LABEL_PAGEFAULT | L4_R),
	      "the pager saw a read fault of A's task there and refused it");
	t = touch(a_main, TOUCH_WRITE, B_SECRET, 0xbad);
	CHECK(faults_at(t, B_SECRET, true), "A writes at B's secret: a write fault to A's handler (vector %llu, error %llx)",
	      t.value, t.error);
	t = touch(a_main, TOUCH_READ, frame_b, 0);
	CHECK(faults_at(t, frame_b, false), "A reads at the address where we hold B's frame (%llx): a fault, no mapping", frame_b);
	t = touch(a_main, TOUCH_WRITE, utcb_of(b_main) + 120, 1);
	CHECK(faults_at(t, utcb_of(b_main) + 120, true) && probe(a_main, utcb_of(b_main)) == 0,
	      "A writes B's UTCB's message registers at their address: a fault, nothing mapped there");
	t = touch(b_main, TOUCH_READ, A_SECRET, 0);
	CHECK(faults_at(t, A_SECRET, false), "B reads at A's secret: a fault to B's handler");
	CHECK(probe(a_main, B_SECRET) == 0, "A still has nothing at B's secret");
	CHECK(b_secret_intact(), "B's secret is unchanged");
}

/* B waits for a string from A into the buffer half of its private page;
 * A sends one of 64 bytes from addr.  Returns A's tag; *btag gets B's. */
static u64 string_a_to_b(u64 addr, u64 *btag)
{
	*btag = ~0ull;
	if (!post(b_main, CMD_RECV, a_main, L4_TIMEOUTS(0, 300000), 0, B_SECRET + BUF_OFF, 64))
		return ~0ull;
	u64 tag = send_by(a_main, b_main, L4_TIMEOUTS(1000000, 0), L4_TAG_MAKE(0x51, 0, 2), L4_STRING_ITEM(64), addr, 0);
	struct l4_msg m;
	if (collect(b_main, &m))
		*btag = m.mr[1];
	return tag;
}

static void test_string_items(void)
{
	u64 btag, refused = pg_refused;
	u64 tag = string_a_to_b(B_SECRET, &btag);
	CHECK(ipc_error(tag, L4_IPC_XFER, false), "A sends a string from B's secret's address: XFER (%llx)", tag);
	CHECK(pg_refused == refused + 1 && pg_last_from == a_main && pg_last_addr == B_SECRET &&
		      pg_last_label == (L4_LABEL_PAGEFAULT | L4_R),
	      "the kernel asked A's pager for that page on A's behalf, and it refused");
	CHECK(l4_ipc_failed(btag) && buffer_clean(frame_b), "B received nothing, its buffer is untouched (%llx)", btag);
	tag = string_a_to_b(frame_b, &btag);
	CHECK(ipc_error(tag, L4_IPC_XFER, false) && l4_ipc_failed(btag) && buffer_clean(frame_b),
	      "a string from where we hold B's frame: XFER, nothing delivered (%llx, %llx)", tag, btag);
	tag = string_a_to_b(utcb_of(b_main), &btag);
	CHECK(ipc_error(tag, L4_IPC_BADMSG, false) && l4_ipc_failed(btag) && buffer_clean(frame_b),
	      "a string from B's UTCB's address: BADMSG, nothing delivered (%llx, %llx)", tag, btag);
	tag = string_a_to_b(0xffff800000000000ull, &btag);
	CHECK(ipc_error(tag, L4_IPC_BADMSG, false) && l4_ipc_failed(btag) && buffer_clean(frame_b),
	      "a string from the kernel's memory: BADMSG, nothing delivered (%llx, %llx)", tag, btag);
	/* the same transfer works from what A does own */
	tag = string_a_to_b(A_SECRET, &btag);
	CHECK(!l4_ipc_failed(tag) && !l4_ipc_failed(btag) && *(volatile u64 *)(frame_b + BUF_OFF) == SECRET_A,
	      "control: a string from A's own secret arrives in B's buffer");
	memset((u8 *)frame_b + BUF_OFF, 0, 4096 - BUF_OFF);
	CHECK(b_secret_intact(), "B's secret is unchanged");
}

/* B opens window for one message from A; A sends one item (fp at
 * sendbase).  Returns A's tag; *btag gets B's. */
static u64 item_a_to_b(l4_fpage_t window, u64 sendbase, l4_fpage_t fp, bool grant, u64 *btag)
{
	*btag = ~0ull;
	if (!post(b_main, CMD_RECV, a_main, L4_TIMEOUTS(0, 1000000), window, 0, 0))
		return ~0ull;
	u64 tag = send_by(a_main, b_main, L4_TIMEOUTS(1000000, 0), L4_TAG_MAKE(0x52, 0, 2),
			  (sendbase & ~0xfffull) | (grant ? L4_ITEM_GRANT : L4_ITEM_MAP), fp, 0);
	struct l4_msg m;
	if (collect(b_main, &m))
		*btag = m.mr[1];
	return tag;
}

static void test_map_items(void)
{
	u64 btag;
	u64 tag = item_a_to_b(L4_FPAGE(WIN, 12, 0), WIN, L4_FPAGE(B_SECRET, 12, L4_RWX), false, &btag);
	CHECK(!l4_ipc_failed(tag) && !l4_ipc_failed(btag) && probe(b_main, WIN) == 0,
	      "A maps B's secret's address, which it does not hold, to B: B gets nothing");
	tag = item_a_to_b(L4_FPAGE(WIN, 12, 0), WIN, L4_FPAGE(frame_b, 12, L4_RWX), false, &btag);
	CHECK(!l4_ipc_failed(tag) && !l4_ipc_failed(btag) && probe(b_main, WIN) == 0,
	      "nor from where we hold B's frame");
	tag = item_a_to_b(L4_FPAGE(B_SECRET, 12, 0), B_SECRET, L4_FPAGE(B_SECRET, 12, L4_RWX), true, &btag);
	CHECK(!l4_ipc_failed(tag) && probe(b_main, B_SECRET) == RW && probe(a_main, B_SECRET) == 0 && b_secret_intact(),
	      "A grants 'B's page' into B's window over its secret: nothing moves, B keeps its mapping");
	tag = item_a_to_b(B_REGION, B_SECRET, B_REGION, false, &btag);
	CHECK(!l4_ipc_failed(tag) && probe(b_main, B_SECRET) == RW && b_secret_intact(),
	      "A maps 1 GiB it holds nothing of over B's secret: B's mapping stays");

	/* control: what A does hold arrives, and A can take it back */
	tag = item_a_to_b(L4_FPAGE(WIN, 12, 0), WIN, L4_FPAGE(A_SECRET, 12, L4_RWX), false, &btag);
	CHECK(!l4_ipc_failed(tag) && probe(b_main, WIN) == RW && read_in(b_main, WIN) == SECRET_A,
	      "control: A's own secret, mapped to B, arrives");
	struct l4_regs r = { L4_SYS_UNMAP, L4_FPAGE(A_SECRET, 12, L4_RWX), 0, 0, 0, 0, 0 };
	syscall_by(a_main, &r);
	CHECK(r.rax == 0 && probe(b_main, WIN) == 0 && probe(a_main, A_SECRET) == RW,
	      "and A's Unmap revokes what was derived from A's mapping, A keeps its own");
}

/* Unmap made by A: returns RAX, *state the access state (RDI). */
static s64 unmap_by(l4_tid_t ag, l4_fpage_t fp, unsigned flags, u64 *state)
{
	struct l4_regs r = { L4_SYS_UNMAP, fp, flags, 0, 0, 0, 0 };
	syscall_by(ag, &r);
	*state = r.rdi;
	return (s64)r.rax;
}

static void test_unmap(void)
{
	u64 st;
	(void)touch(b_main, TOUCH_WRITE, B_SECRET + BUF_OFF, 0); /* B's page is dirty now */
	s64 e = unmap_by(a_main, L4_FPAGE(B_SECRET, 12, L4_RWX), 0, &st);
	CHECK(e == 0 && st == 0 && probe(b_main, B_SECRET) == RW,
	      "A's Unmap of B's secret's page: nothing of B's reached, no access bits reported (%llx)", st);
	e = unmap_by(a_main, L4_FPAGE(B_SECRET, 12, L4_RWX), L4_UNMAP_SELF, &st);
	CHECK(e == 0 && st == 0 && probe(b_main, B_SECRET) == RW, "with L4_UNMAP_SELF as well");
	e = unmap_by(a_main, B_REGION, L4_UNMAP_SELF, &st);
	CHECK(e == 0 && st == 0 && probe(b_main, B_SECRET) == RW, "and of the GiB around it");
	e = unmap_by(a_main, L4_FPAGE(frame_b, 12, L4_RWX), L4_UNMAP_SELF, &st);
	CHECK(e == 0 && st == 0 && probe(b_main, B_SECRET) == RW && l4_kdebug(L4_KD_PROBE, frame_b, 0) == L4_RWX,
	      "A's Unmap where we hold B's frame touches neither our mapping nor B's");

	/* A and B both map one frame of ours: sibling mappings */
	*(volatile u64 *)shared_page = 0x5ade;
	u64 sp = (u64)shared_page;
	CHECK(read_in(a_main, sp) == 0x5ade && read_in(b_main, sp) == 0x5ade, "A and B both map one page of ours");
	u64 before = probe(b_main, sp);
	e = unmap_by(a_main, L4_FPAGE(sp, 12, L4_RWX), 0, &st);
	CHECK(e == 0 && probe(b_main, sp) == before && probe(a_main, sp) == before,
	      "A's Unmap of it reaches nothing: B's mapping is not derived from A's");
	e = unmap_by(a_main, L4_FPAGE(sp, 12, L4_RWX), L4_UNMAP_SELF, &st);
	CHECK(e == 0 && probe(a_main, sp) == 0 && probe(b_main, sp) == before && read_in(b_main, sp) == 0x5ade,
	      "with L4_UNMAP_SELF A loses its own mapping, B keeps its mapping of the same frame");
	CHECK(b_secret_intact() && probe(b_main, B_SECRET) == RW, "B's secret and mapping are unchanged");
}

/* ---- control -------------------------------------------------------------------- */

#define S1 0x1111000011110000ull
#define S2 0x2222000022220000ull
#define S3 0x3333000033330000ull
#define S4 0x4444000044440000ull

/* Who tries what on whose thread; every attempt must fail with ENOPERM
 * and leave every register as it was (a refused call leaks nothing). */
static void control_attempts(l4_tid_t by, const char *who, l4_tid_t target, const char *whom)
{
	l4_tid_t self = by == L4_NILTHREAD ? me : by;
	u64 sp = (u64)helper_stacks[SLOT_A] + 512, ip = (u64)touch_fn;
	struct {
		const char *what;
		struct l4_regs r;
	} tries[] = {
		{ "ExchangeRegisters read", { L4_SYS_EXCHANGE_REGISTERS, target, 0, S1, S2, S3, S4 } },
		{ "Schedule read", { L4_SYS_SCHEDULE, target, L4_SCHED_KEEP, L4_SCHED_KEEP, L4_SCHED_KEEP, S3, S4 } },
		{ "ThreadControl of an unknown op (ENOPERM first)", { L4_SYS_THREAD_CONTROL, target, S1, S2, 77, S3, S4 } },
		{ "ThreadControl SET_EXC_HANDLER", { L4_SYS_THREAD_CONTROL, target, S1, self, L4_TC_SET_EXC_HANDLER, S3, S4 } },
		{ "ThreadControl KMEM_LIMIT query", { L4_SYS_THREAD_CONTROL, target, S1, L4_KMEM_QUERY, L4_TC_KMEM_LIMIT, S3, S4 } },
		{ "ThreadControl SET_PAGER", { L4_SYS_THREAD_CONTROL, target, S1, self, L4_TC_SET_PAGER, S3, S4 } },
		{ "ThreadControl CREATE in its task", { L4_SYS_THREAD_CONTROL, L4_NILTHREAD, target, self, L4_TC_CREATE, 0, 0 } },
		{ "ExchangeRegisters SET_FLAGS", { L4_SYS_EXCHANGE_REGISTERS, target, L4_EXREG_SET_FLAGS, S1, S2, 0x1, S4 } },
		{ "ExchangeRegisters SET_SP", { L4_SYS_EXCHANGE_REGISTERS, target, L4_EXREG_SET_SP, sp, S2, S3, S4 } },
		{ "ExchangeRegisters SET_IP", { L4_SYS_EXCHANGE_REGISTERS, target, L4_EXREG_SET_IP, S1, ip, S3, S4 } },
		{ "ExchangeRegisters SET_PAGER", { L4_SYS_EXCHANGE_REGISTERS, target, L4_EXREG_SET_PAGER, S1, S2, S3, self } },
		{ "ExchangeRegisters CANCEL", { L4_SYS_EXCHANGE_REGISTERS, target, L4_EXREG_CANCEL, S1, S2, S3, S4 } },
		{ "ExchangeRegisters HALT", { L4_SYS_EXCHANGE_REGISTERS, target, L4_EXREG_HALT, S1, S2, S3, S4 } },
		{ "ExchangeRegisters RESUME", { L4_SYS_EXCHANGE_REGISTERS, target, L4_EXREG_RESUME, S1, S2, S3, S4 } },
		{ "Schedule of a lower priority", { L4_SYS_SCHEDULE, target, 1, L4_SCHED_KEEP, L4_SCHED_KEEP, S3, S4 } },
		{ "Schedule of a time slice and MCP", { L4_SYS_SCHEDULE, target, L4_SCHED_KEEP, 1000, 0, S3, S4 } },
		{ "ThreadControl KMEM_LIMIT of 1 page", { L4_SYS_THREAD_CONTROL, target, S1, 1, L4_TC_KMEM_LIMIT, S3, S4 } },
		{ "ThreadControl DELETE", { L4_SYS_THREAD_CONTROL, target, S1, S2, L4_TC_DELETE, S3, S4 } },
		{ "ThreadControl DELETE_TASK", { L4_SYS_THREAD_CONTROL, target, S1, S2, L4_TC_DELETE_TASK, S3, S4 } },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(tries); i++) {
		struct l4_regs r = tries[i].r;
		syscall_by(by, &r);
		const struct l4_regs *w = &tries[i].r;
		bool same = r.rdi == w->rdi && r.rsi == w->rsi && r.rdx == w->rdx && r.r10 == w->r10 && r.r8 == w->r8 &&
			    r.r9 == w->r9;
		CHECK((s64)r.rax == -L4_ENOPERM && same, "%s: %s on %s's thread: ENOPERM, no register changed (%lld%s)", who,
		      tries[i].what, whom, (s64)r.rax, same ? "" : ", registers changed");
	}
}

static bool refused_by_sigma0(l4_tid_t ag, l4_fpage_t fp);

struct view {
	s64 e1, e2;
	struct l4_exreg x;
	u64 prio, slice, mcp;
};

/* What we, B's creator, see of B's thread. */
static struct view view_of(l4_tid_t t)
{
	struct view v;
	v.x = (struct l4_exreg){ 0, 0, 0, 0, 0, 0 };
	v.e1 = l4_exchange_registers(t, &v.x);
	v.e2 = l4_schedule_mcp(t, L4_SCHED_KEEP, L4_SCHED_KEEP, L4_SCHED_KEEP, &v.prio, &v.slice, &v.mcp);
	return v;
}

static bool same_view(const struct view *a, const struct view *b)
{
	return a->e1 == 0 && b->e1 == 0 && a->e2 == 0 && b->e2 == 0 && a->x.sp == b->x.sp && a->x.ip == b->x.ip &&
	       a->x.flags == b->x.flags && a->x.pager == b->x.pager && a->x.state == b->x.state && a->prio == b->prio &&
	       a->slice == b->slice && a->mcp == b->mcp;
}

static void test_control(void)
{
	ping(b_main);
	struct view before = view_of(b_main);
	CHECK(before.e1 == 0 && before.x.state == L4_EXREG_STATE_RECEIVING && before.x.pager == pager,
	      "B waits for commands (state %llx)", before.x.state);
	control_attempts(a_main, "A", b_main, "B");
	struct view after = view_of(b_main);
	CHECK(same_view(&before, &after) && after.x.state == L4_EXREG_STATE_RECEIVING,
	      "B's IP, SP, flags, pager, state, priority, time slice and MCP are unchanged");
	CHECK(ping(b_main) && b_secret_intact(), "and B still answers and reads its secret");

	const struct l4_kip *k = l4_kip();
	control_attempts(a_main, "A", k->sigma0, "sigma0");
	control_attempts(a_main, "A", k->root, "the root task");
	CHECK(refused_by_sigma0(a_main, L4_FPAGE(frame_b, 12, L4_RWX)),
	      "sigma0 still serves (and refuses A B's frame asked for by its physical address)");
	struct l4_regs r = { L4_SYS_THREAD_SWITCH, b_main, 0, 0, 0, 0, 0 };
	syscall_by(a_main, &r);
	CHECK(r.rax == 0, "A may donate its time to B (ThreadSwitch needs no authority)");
}

/* ---- one generation --------------------------------------------------------------- */

static void test_grandchild(void)
{
	struct l4_msg m;
	bool ok = cmd(a_main, &m, CMD_SPAWN, pager, SLOT_G, 0, 0, 0, 0, 0) && m.mr[1] == 0;
	g_main = m.mr[2];
	if (!CHECK(ok && ping(g_main), "A creates a task G, which runs an agent too"))
		return;

	/* we control A, our child ... */
	struct view va = view_of(a_main);
	CHECK(va.e1 == 0 && va.e2 == 0 && va.x.pager == pager, "we, A's creator, may read A's registers and priority");
	/* ... and A its own child */
	struct l4_regs r = { L4_SYS_EXCHANGE_REGISTERS, g_main, 0, 0, 0, 0, 0 };
	syscall_by(a_main, &r);
	CHECK(r.rax == 0 && r.r9 == pager, "A, G's creator, may read G's registers");
	r = (struct l4_regs){ L4_SYS_EXCHANGE_REGISTERS, me, 0, 0, 0, 0, 0 };
	syscall_by(a_main, &r);
	CHECK((s64)r.rax == -L4_ENOPERM, "but A may not read ours: its creator's");
	/* kernel memory: A may look after its child, but not raise its own
	 * share, nor give its child more than it has itself */
	u64 pool = l4_kip()->kernel_pages;
	r = (struct l4_regs){ L4_SYS_THREAD_CONTROL, g_main, S1, L4_KMEM_QUERY, L4_TC_KMEM_LIMIT, S3, S4 };
	syscall_by(a_main, &r);
	CHECK(r.rax == 0 && r.rdx > 0 && r.rdx < pool, "A may query the kernel memory its child G uses (%llu pages)", r.rdx);
	struct {
		l4_tid_t t;
		u64 pages;
		const char *what;
	} limits[] = {
		{ a_main, pool, "A raises its own task's kernel-memory limit to the whole pool" },
		{ g_main, pool / 2, "A gives its child G a kernel-memory limit above its own (a quarter of the pool)" },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(limits); i++) {
		r = (struct l4_regs){ L4_SYS_THREAD_CONTROL, limits[i].t, S1, limits[i].pages, L4_TC_KMEM_LIMIT, S3, S4 };
		syscall_by(a_main, &r);
		CHECK((s64)r.rax == -L4_ENOPERM, "%s: ENOPERM (%lld)", limits[i].what, (s64)r.rax);
		CHECK(r.rdi == limits[i].t && r.rsi == S1 && r.rdx == limits[i].pages && r.r10 == L4_TC_KMEM_LIMIT &&
			      r.r8 == S3 && r.r9 == S4,
		      "and that refused call changes no register (api.md §1: on error no other register changes; RDX %llx)",
		      r.rdx);
	}

	/* but not our grandchild: authority is one generation only */
	control_attempts(L4_NILTHREAD, "we", g_main, "our grandchild G");

	struct view before = view_of(b_main);
	control_attempts(g_main, "G", b_main, "B");
	control_attempts(g_main, "G", me, "us (its creator's creator)");
	control_attempts(g_main, "G", a_main, "A (its own creator)");
	struct view after = view_of(b_main);
	CHECK(same_view(&before, &after) && ping(b_main), "B is unchanged and answers");
	CHECK(ping(a_main) && ping(g_main), "A and G still answer");
}

/* ---- forged kernel messages, IPC across tasks ----------------------------------------- */

static void sleep_ms(u32 ms)
{
	struct l4_msg m;
	l4_ipc(L4_NILTHREAD, l4_myself(), L4_TIMEOUTS(0, ms * 1000), &m, NULL);
}

static void test_ipc(void)
{
	/* L4 has no IPC restrictions: any thread may send to any thread of
	 * any task; the receiver learns the true sender and decides. */
	u64 tag = send_by(a_main, b_main, L4_TIMEOUTS(1000000, 0), L4_TAG_MAKE(0x4242, 1, 0), 0xabc, 0, 0);
	struct stats st;
	CHECK(!l4_ipc_failed(tag) && stats(b_main, &st) && st.count == 1 && st.from == a_main && st.label == 0x4242 &&
		      st.mr1 == 0xabc,
	      "A may send to B in another task, and B sees A as the sender");

	/* but a closed receive takes only the thread it names: whether B
	 * already waits when A sends, or A is queued before B waits */
	for (int a_first = 0; a_first < 2; a_first++) {
		const char *how = a_first ? "A sends before B waits" : "B waits before A sends";
		bool ok;
		if (!a_first) {
			ok = post(b_main, CMD_RECV, me, L4_TIMEOUTS(0, 3000000), 0, 0, 0);
			sleep_ms(20);
			tag = send_by(a_main, b_main, L4_TIMEOUTS(50000, 0), L4_TAG_MAKE(0x4343, 1, 0), 0xdef, 0, 0);
		} else {
			struct l4_msg ma;
			ok = post(a_main, CMD_SEND, b_main, L4_TIMEOUTS(100000, 0), L4_TAG_MAKE(0x4343, 1, 0), 0xdef, 0) &&
			     post(b_main, CMD_RECV, me, L4_TIMEOUTS(0, 3000000), 0, 0, 0) && collect(a_main, &ma);
			tag = ma.mr[1];
		}
		CHECK(ok && ipc_error(tag, L4_IPC_TIMEOUT, false), "%s: B receives from us only, A's send times out (%llx)",
		      how, tag);
		struct l4_msg m = { { L4_TAG_MAKE(0x777, 1, 0), 0x1234 } };
		l4_ipc(b_main, L4_NILTHREAD, L4_TIMEOUTS(1000000, 0), &m, NULL);
		bool got = collect(b_main, &m);
		CHECK(got && !l4_ipc_failed(m.mr[1]) && L4_TAG_LABEL(m.mr[1]) == 0x777 && m.mr[2] == me && m.mr[3] == 0x1234,
		      "%s: B's closed receive gets our message, from us", how);
	}
	CHECK(no_stray_messages(b_main), "and A's messages never reached B");

	/* kernel labels cannot be sent */
	static const struct {
		u64 label, u;
		const char *what;
	} forged[] = {
		{ L4_LABEL_PAGEFAULT | L4_R, 3, "page-fault (read)" },
		{ L4_LABEL_PAGEFAULT | L4_W, 3, "page-fault (write)" },
		{ L4_LABEL_PAGEFAULT | L4_X, 3, "page-fault (execute)" },
		{ L4_LABEL_EXCEPTION, L4_EXC_WORDS, "exception" },
		{ L4_LABEL_INTERRUPT, 0, "interrupt" },
		{ L4_LABEL_KERNEL_FIRST, 0, "first kernel" },
		{ L4_LABEL_KERNEL_LAST, 0, "last kernel" },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(forged); i++) {
		tag = send_by(a_main, b_main, L4_TIMEOUTS(100000, 0), L4_TAG_MAKE(forged[i].label, forged[i].u, 0),
			      B_SECRET, 0, task_b);
		CHECK(ipc_error(tag, L4_IPC_BADMSG, false), "A sends B a message with the %s label %llx: BADMSG",
		      forged[i].what, forged[i].label);
	}
	CHECK(no_stray_messages(b_main), "none of them reached B");

	/* the attack the labels guard against: a forged fault naming B's task */
	u64 faults = pg_faults, w[2];
	tag = call_by(a_main, pager, L4_TAG_MAKE(L4_LABEL_PAGEFAULT | L4_R, 3, 0), B_SECRET, 0, task_b,
		      L4_FPAGE_COMPLETE, w);
	CHECK(ipc_error(tag, L4_IPC_BADMSG, false) && pg_faults == faults && probe(a_main, B_SECRET) == 0,
	      "A's forged page fault to our pager naming B's task: BADMSG, the pager saw nothing, A got nothing");
}

/* ---- privileged operations ------------------------------------------------------------ */

static bool refused_by_sigma0(l4_tid_t ag, l4_fpage_t fp)
{
	u64 w[2];
	u64 tag = call_by(ag, l4_kip()->sigma0, L4_TAG_MAKE(L4_LABEL_SIGMA0, 2, 0), fp, 0, 0, L4_FPAGE_COMPLETE, w);
	return !l4_ipc_failed(tag) && L4_TAG_LABEL(tag) == 1 && L4_TAG_T(tag) == 0;
}

static s64 syscall_rax(l4_tid_t ag, u64 nr, u64 rdi, u64 rsi, u64 rdx, u64 r10)
{
	struct l4_regs r = { nr, rdi, rsi, rdx, r10, 0, 0 };
	syscall_by(ag, &r);
	return (s64)r.rax;
}

static void test_privileged(void)
{
	l4_tid_t agents[] = { a_main, g_main };
	const char *names[] = { "A", "G" };
	for (unsigned i = 0; i < ARRAY_SIZE(agents); i++) {
		l4_tid_t ag = agents[i];
		const char *n = names[i];
		CHECK(syscall_rax(ag, L4_SYS_THREAD_CONTROL, L4_IRQ_TID(4), 0, ag, L4_TC_ATTACH_IRQ) == -L4_ENOPERM,
		      "%s cannot take IRQ 4 from the console driver: ENOPERM", n);
		CHECK(syscall_rax(ag, L4_SYS_THREAD_CONTROL, L4_IRQ_TID(9), 0, b_main, L4_TC_ATTACH_IRQ) == -L4_ENOPERM,
		      "%s cannot attach a free line (9) to B: ENOPERM", n);
		CHECK(syscall_rax(ag, L4_SYS_THREAD_CONTROL, L4_IRQ_TID(99), 0, 0, L4_TC_ATTACH_IRQ) == -L4_ENOPERM,
		      "%s: ATTACH_IRQ of no line at all is ENOPERM too (checked first)", n);
		CHECK(syscall_rax(ag, L4_SYS_KDEBUG, L4_KD_POWEROFF, 1, 0, 0) == -L4_ENOPERM, "%s cannot power off: ENOPERM", n);
		CHECK(refused_by_sigma0(ag, L4_FPAGE(HPET, 12, L4_RWX)) && probe(ag, HPET) == 0,
		      "sigma0 refuses %s the HPET's device memory", n);
		CHECK(refused_by_sigma0(ag, L4_IO_FPAGE(0x2f8, 3)), "sigma0 refuses %s COM2's ports", n);
		/* modules the root task has not mapped yet (fs_root.cpio in
		 * test.cfg) are among them: asking for RAM at an address must not
		 * take one away */
		const struct l4_kip *k = l4_kip();
		bool refused = true;
		for (u32 mi = 0; mi < k->n_modules; mi++)
			refused &= refused_by_sigma0(ag, L4_FPAGE(k->modules[mi].base & ~0xfffull, 12, L4_RWX));
		CHECK(refused, "sigma0 refuses %s the first page of each of the %u boot modules", n, k->n_modules);
	}
	/* interrupts and ports, as t_io checks for our own task */
	struct l4_msg m;
	cmd(a_main, &m, CMD_RECV, L4_IRQ_TID(4), L4_POLL, 0, 0, 0, 0, 0);
	u64 tag = send_by(a_main, L4_IRQ_TID(4), L4_POLL, 0, 0, 0, 0);
	CHECK(ipc_error(m.mr[1], L4_IPC_NOPARTNER, true) && ipc_error(tag, L4_IPC_NOPARTNER, false),
	      "A can neither receive nor acknowledge the console's IRQ 4: NOPARTNER");
	CHECK(refused_by_sigma0(a_main, L4_IO_FPAGE(0, 16)), "sigma0 refuses A all 65536 ports");
	struct touch t = touch(a_main, TOUCH_INB, 0x2f8, 0);
	CHECK(t.kind == TOUCH_EXC && t.value == 13, "and A's inb from COM2 is a #GP to its handler (kind %llu, vector %llu)",
	      t.kind, t.value);
	u64 w[2];
	tag = call_by(a_main, l4_parent, L4_TAG_MAKE(L4_LABEL_GET_IO, 1, 0), L4_IO_FPAGE(0x70, 1), 0, 0,
		      L4_IO_FPAGE(0x70, 1), w);
	CHECK(!l4_ipc_failed(tag) && L4_TAG_LABEL(tag) == 1 && L4_TAG_T(tag) == 0,
	      "the root task refuses A (not a program it started) the CMOS ports");
	CHECK(sigma0_get_region(HPET, 12) == 0 && l4_kdebug(L4_KD_PROBE, HPET, 0) == 0,
	      "and refuses us the HPET too (devcheck later shows it still has it for the root task)");
	u64 st;
	s64 e = unmap_by(a_main, L4_IO_FPAGE(0x3f8, 3), L4_UNMAP_SELF, &st);
	static const char line[] = "# t_iso: A tried to Unmap COM1's ports\n";
	CHECK(e == 0 && l4_con_write(l4_console, line, sizeof(line) - 1) == (s64)sizeof(line) - 1,
	      "A's Unmap of COM1's ports takes nothing from the console driver: it still writes");
}

/* ---- clean-up ---------------------------------------------------------------------- */

static void test_cleanup(void)
{
	CHECK(l4_delete_task(b_main) == 0 && l4_delete_task(a_main) == 0, "we delete B's and A's tasks");
	CHECK(thread_state(a_main) == ~0ull && thread_state(b_main) == ~0ull, "their threads are gone");
	struct l4_exreg x = { 0, 0, 0, 0, 0, 0 };
	struct l4_msg m = { { L4_TAG_MAKE(CMD_PING, 0, 0) } };
	CHECK(l4_exchange_registers(g_main, &x) == -L4_EINVAL_TID &&
		      ipc_error(l4_ipc(g_main, L4_NILTHREAD, L4_POLL, &m, NULL), L4_IPC_NOPARTNER, false),
	      "A's child G went with A (EINVAL_TID now, no longer ENOPERM)");
	CHECK(l4_delete_thread(pager) == 0, "and our pager thread");
}

/* Have every page of our image and 32 KiB of our stack mapped before
 * counting kernel pages: the mappings our own pager (the root task) adds
 * later would stay (mapping nodes, page tables) and spoil the count. */
static void __attribute__((noinline)) touch_own_pages(void)
{
	volatile u8 deep[32768];
	for (usize i = 0; i < sizeof(deep); i += 4096)
		deep[i] = 0;
	for (u64 a = L4_IMAGE_BASE; a < (u64)_end; a += 4096)
		l4_touch(a, false);
}

int main(void)
{
	me = l4_myself();
	memset(agent_stacks, 0, sizeof(agent_stacks)); /* our own pages before they are mirrored */
	memset(helper_stacks, 0, sizeof(helper_stacks));
	memset(shared_page, 0, sizeof(shared_page));
	memset(pager_stack, 0, sizeof(pager_stack));
	frame_a = sigma0_get_any_page();
	frame_b = sigma0_get_any_page();
	if (!CHECK(frame_a && frame_b, "two private pages from sigma0 (%llx, %llx)", frame_a, frame_b))
		return t_done("t_iso");
	fill_secret(frame_a, SECRET_A);
	fill_secret(frame_b, SECRET_B);
	touch_own_pages();
	s64 free_before = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
	pager = l4_spawn_thread(pager_thread, 0, pager_stack, STACK_SIZE);
	start_agent(SLOT_A, &task_a);
	start_agent(SLOT_B, &task_b);
	if (!CHECK(ping(a_main) && ping(b_main) && task_a != task_b, "sibling tasks A and B run"))
		return t_done("t_iso");
	test_private_pages();
	test_string_items();
	test_map_items();
	test_unmap();
	test_control();
	test_ipc();
	test_grandchild();
	test_privileged();
	test_cleanup();
	CHECK(l4_kdebug(L4_KD_FREE_PAGES, 0, 0) == free_before, "no kernel memory left behind (%lld, %lld)",
	      l4_kdebug(L4_KD_FREE_PAGES, 0, 0), free_before);
	return t_done("t_iso");
}
