/*
 * IPC: synchronous, unbuffered, copied straight from sender to receiver.
 *
 * A blocked thread never finishes its own IPC: the partner that unblocks
 * it performs the transfer, sets its result and, for a call, moves it on to
 * its receive phase.  So when a blocked thread runs again its IPC is done
 * (or failed), except in two cases it handles itself: an open receive that
 * follows a send (TF_CONTINUE_RECV), and a page it must fault in before a
 * string copy can happen (TF_XFER_FAULT), after which it retries.
 */
#include "thread.h"
#include "arch/x86_64/paging.h"
#include "mdb.h"

#define USER_SPACE_LOG2 47

static u64 errtag(enum l4_ipc_error e, bool recv_phase)
{
	return L4_TAG_ERROR | (recv_phase ? L4_TAG_RECV_PHASE : 0) | ((u64)e << 16);
}

static bool accepts(struct tcb *rcv, struct tcb *snd)
{
	return rcv->state == TS_RECV &&
	       (rcv->wait_from == L4_ANYTHREAD || rcv->wait_from == snd->tid);
}

/* ---- finite timeouts ---------------------------------------------------------
 * A thread blocked with a finite timeout sits in an unsorted list with its
 * TSC deadline; the timer interrupt (every 1 ms) expires what is due, so a
 * timeout ends within one tick after its deadline. */
static struct tcb *timeout_list;

static void timeout_start(struct tcb *t, u32 us)
{
	if (us == L4_TIMEOUT_NEVER)
		return;
	t->timeout_at = rdtsc() + (u64)us * (tsc_hz / 1000000) + 1;
	t->tq_prev = NULL;
	t->tq_next = timeout_list;
	if (timeout_list)
		timeout_list->tq_prev = t;
	timeout_list = t;
}

void ipc_timeout_cancel(struct tcb *t)
{
	if (!t->timeout_at)
		return;
	if (t->tq_prev)
		t->tq_prev->tq_next = t->tq_next;
	else
		timeout_list = t->tq_next;
	if (t->tq_next)
		t->tq_next->tq_prev = t->tq_prev;
	t->timeout_at = 0;
}

void ipc_timeouts_expire(u64 now)
{
	for (struct tcb *t = timeout_list, *next; t; t = next) {
		next = t->tq_next;
		if (t->timeout_at <= now)
			ipc_abort(t, L4_IPC_TIMEOUT); /* makes it ready: off the list */
	}
}

static bool msg_valid(u64 tag)
{
	u64 label = L4_TAG_LABEL(tag);
	return L4_TAG_U(tag) + L4_TAG_T(tag) < L4_MR_COUNT && (L4_TAG_T(tag) & 1) == 0 &&
	       !(tag & L4_TAG_PROPAGATE) && !L4_LABEL_IS_KERNEL(label);
}

/* Word i of t's message: kernel messages keep all their words in kmsg. */
static u64 msg_word(struct tcb *t, unsigned i)
{
	if (t->flags & TF_KERNEL_MSG)
		return i < KMSG_WORDS ? t->kmsg[i] : 0;
	return i < L4_MR_REGS ? t->msg[i] : t->utcb->mr[i];
}

/* ---- map items -------------------------------------------------------- */

/* Map (or grant) the part of the sender's fpage that the receive window
 * selects.  Pages the sender does not have are skipped; rights never grow.
 * Where the sender has a 2 MiB leaf wholly inside the range and the
 * destination is 2 MiB aligned, the receiver gets a 2 MiB leaf too. */
static enum l4_ipc_error map_item(struct tcb *src, struct tcb *dst, u64 w0, l4_fpage_t fp)
{
	l4_fpage_t win = (dst->flags & TF_KERNEL_MSG) ? L4_FPAGE_COMPLETE : dst->utcb->rcv_window;
	if (win == 0)
		return L4_IPC_OVERFLOW;
	if (L4_IS_IO_FPAGE(fp))
		return io_map(src->space, dst->space, fp, win, (w0 & 0xf) == L4_ITEM_GRANT);
	if (L4_IS_IO_FPAGE(win))
		return L4_IPC_MAPFAIL; /* a window of ports takes no memory */
	unsigned slog = L4_FPAGE_LOG2(fp), wlog = L4_FPAGE_LOG2(win);
	if (wlog > USER_SPACE_LOG2)
		wlog = USER_SPACE_LOG2;
	if (slog < 12 || slog > USER_SPACE_LOG2 || wlog < 12)
		return L4_IPC_BADMSG;
	u64 sendbase = w0 & ~0xfffull;
	u64 sbase = L4_FPAGE_BASE(fp) & ~((1ull << slog) - 1);
	u64 wbase = L4_FPAGE_BASE(win) & ~((1ull << wlog) - 1);
	unsigned log2 = slog < wlog ? slog : wlog;
	u64 size = 1ull << log2, dbase;
	if (slog <= wlog) {
		dbase = wbase + ((sendbase & ((1ull << wlog) - 1)) & ~(size - 1));
	} else {
		dbase = wbase;
		sbase += (sendbase & ((1ull << slog) - 1)) & ~(size - 1);
	}
	/* written so that nothing can wrap around 2^64 */
	if (sbase >= L4_USER_MAP_END || size > L4_USER_MAP_END - sbase || dbase >= L4_USER_MAP_END ||
	    size > L4_USER_MAP_END - dbase)
		return L4_IPC_MAPFAIL;
	bool grant = (w0 & 0xf) == L4_ITEM_GRANT;
	sigma0_map_device(src->space, sbase, size);
	u64 *spml4 = src->space->pml4, send = sbase + size;
	for (u64 s = pt_next_mapped(spml4, sbase, send); s < send; s = pt_next_mapped(spml4, s, send)) {
		struct pt_leaf l;
		pt_find(spml4, s, &l);
		u64 d = dbase + (s - sbase);
		bool whole = l.order && s == l.base && l.base + (PAGE_SIZE << l.order) <= send;
		unsigned order = whole && (d & ((PAGE_SIZE << l.order) - 1)) == 0 ? l.order : 0;
		enum l4_ipc_error e = mdb_map(src->space, s, dst->space, d, order, L4_FPAGE_RIGHTS(fp), grant);
		if (e)
			return e;
		s += PAGE_SIZE << order;
	}
	return L4_IPC_OK;
}

/* ---- string items ----------------------------------------------------------
 * Before anything of a message is delivered, every page its string items
 * touch is checked: the sender's source pages readable, the receiver's
 * buffer pages writable.  A missing page is faulted in by the thread that
 * owns it, in its own context, and the IPC is then retried; so a string
 * copy itself never faults and never leaves an IPC half done. */

/* A page one side must fault in before the transfer can happen. */
struct xfer_miss {
	struct tcb *owner;
	u64 addr;
	unsigned access;
};

#define XFER_PENDING ((enum l4_ipc_error)100) /* internal: see struct xfer_miss */

enum range_state { RANGE_OK, RANGE_MISSING, RANGE_DEVICE };

/* Is [addr, addr + len) mapped in s with the given access?  If a page is
 * missing, *first is the first one.  Device memory (mapped uncached) is
 * not RAM that the kernel's direct map may touch: strings cannot use it. */
static enum range_state range_check(struct space *s, u64 addr, u64 len, unsigned access, u64 *first)
{
	for (u64 a = addr & PAGE_MASK; len && a < addr + len; a += PAGE_SIZE) {
		struct pt_leaf l;
		if (!pt_find(s->pml4, a, &l) || (pt_entry_rights(*l.entry) & access) != access) {
			*first = a < addr ? addr : a;
			return RANGE_MISSING;
		}
		if (*l.entry & PTE_PCD)
			return RANGE_DEVICE;
	}
	return RANGE_OK;
}

static bool user_range(u64 addr, u64 len) { return addr < L4_USER_MAP_END && len <= L4_USER_MAP_END - addr; }

/* Checks src's string items against dst's receive buffers and finds the
 * first missing page (miss->owner NULL if there is none). */
static enum l4_ipc_error strings_probe(struct tcb *src, struct tcb *dst, struct xfer_miss *miss)
{
	u64 tag = src->msg[0];
	unsigned u = L4_TAG_U(tag), n = u + L4_TAG_T(tag), k = 0;
	miss->owner = NULL;
	for (unsigned i = u + 1; i < n; i += 2) {
		u64 w0 = msg_word(src, i);
		if ((w0 & 0xf) != L4_ITEM_STRING)
			continue;
		u64 len = L4_STRING_LEN(w0), addr = msg_word(src, i + 1);
		if (len > L4_STRING_MAX || !user_range(addr, len))
			return L4_IPC_BADMSG;
		if ((dst->flags & TF_KERNEL_MSG) || k >= dst->utcb->buf_count || k >= L4_MAX_BUFFERS ||
		    len > dst->utcb->buf[k].len || !user_range(dst->utcb->buf[k].addr, len))
			return L4_IPC_OVERFLOW;
		enum range_state rs = range_check(src->space, addr, len, L4_R, &miss->addr);
		if (rs == RANGE_MISSING) {
			*miss = (struct xfer_miss){ src, miss->addr, L4_R };
			return L4_IPC_OK;
		}
		enum range_state rd = range_check(dst->space, dst->utcb->buf[k].addr, len, L4_W, &miss->addr);
		if (rd == RANGE_MISSING) {
			*miss = (struct xfer_miss){ dst, miss->addr, L4_W };
			return L4_IPC_OK;
		}
		if (rs == RANGE_DEVICE || rd == RANGE_DEVICE)
			return L4_IPC_XFER;
		k++;
	}
	return L4_IPC_OK;
}

/* Copy [sa, sa + len) of src into [da, da + len) of dst, page piece by page
 * piece through the direct map.  The pages were checked just before; a map
 * item of the same message may have replaced one since: then XFER. */
static enum l4_ipc_error copy_between(struct space *src, u64 sa, struct space *dst, u64 da, u64 len)
{
	while (len) {
		struct pt_leaf sl, dl;
		if (!pt_find(src->pml4, sa, &sl) || !pt_find(dst->pml4, da, &dl) ||
		    !(pt_entry_rights(*dl.entry) & L4_W) || ((*sl.entry | *dl.entry) & PTE_PCD))
			return L4_IPC_XFER;
		u64 spa = sl.pa + (sa - sl.base), dpa = dl.pa + (da - dl.base);
		u64 chunk = PAGE_SIZE - (sa & 0xfff);
		if (PAGE_SIZE - (da & 0xfff) < chunk)
			chunk = PAGE_SIZE - (da & 0xfff);
		if (chunk > len)
			chunk = len;
		memcpy(P2V(dpa), P2V(spa), chunk);
		sa += chunk;
		da += chunk;
		len -= chunk;
	}
	return L4_IPC_OK;
}

static void set_msg_word(struct tcb *t, unsigned i, u64 v)
{
	if (t->flags & TF_KERNEL_MSG) {
		if (i < KMSG_WORDS)
			t->kmsg[i] = v;
	} else if (i < L4_MR_REGS) {
		t->msg[i] = v;
	} else {
		t->utcb->mr[i] = v;
	}
}

/* ---- transfer ------------------------------------------------------------ */

static enum l4_ipc_error transfer(struct tcb *src, struct tcb *dst, struct xfer_miss *miss)
{
	u64 tag = src->msg[0];
	unsigned u = L4_TAG_U(tag), n = u + L4_TAG_T(tag), k = 0;
	enum l4_ipc_error e = strings_probe(src, dst, miss);
	if (e || miss->owner)
		return e ? e : XFER_PENDING; /* nothing delivered yet */
	if (!((src->flags | dst->flags) & TF_KERNEL_MSG)) {
		/* user to user: registers frame to frame, the rest UTCB to UTCB */
		unsigned nregs = n < L4_MR_REGS ? n + 1 : L4_MR_REGS;
		for (unsigned i = 1; i < nregs; i++)
			dst->msg[i] = src->msg[i];
		for (unsigned i = L4_MR_REGS; i <= n; i++)
			dst->utcb->mr[i] = src->utcb->mr[i];
	} else {
		for (unsigned i = 1; i <= n; i++)
			set_msg_word(dst, i, msg_word(src, i));
	}
	for (unsigned i = u + 1; i < n; i += 2) {
		u64 w0 = msg_word(src, i);
		if ((w0 & 0xf) == L4_ITEM_STRING) {
			/* the receiver learns where the bytes went */
			u64 len = L4_STRING_LEN(w0), buf = dst->utcb->buf[k++].addr;
			e = copy_between(src->space, msg_word(src, i + 1), dst->space, buf, len);
			set_msg_word(dst, i + 1, buf);
		} else if ((w0 & 0xd) == L4_ITEM_MAP) {
			e = map_item(src, dst, w0, msg_word(src, i + 1));
		} else {
			e = L4_IPC_BADMSG;
		}
		if (e)
			return e;
	}
	dst->msg[0] = tag & ~(L4_TAG_ERROR | L4_TAG_RECV_PHASE);
	if (!(dst->flags & TF_KERNEL_MSG))
		TCB_FRAME(dst)->rsi = src->tid; /* written here: dst may return without its own C code */
	return L4_IPC_OK;
}

/* ---- send queues ----------------------------------------------------------- */

static void sendq_append(struct tcb *rcv, struct tcb *snd)
{
	struct tcb *h = rcv->sendq_head;
	snd->partner = rcv;
	if (!h) {
		snd->sendq_next = snd->sendq_prev = snd;
		rcv->sendq_head = snd;
	} else {
		snd->sendq_next = h;
		snd->sendq_prev = h->sendq_prev;
		h->sendq_prev->sendq_next = snd;
		h->sendq_prev = snd;
	}
}

static void sendq_prepend(struct tcb *rcv, struct tcb *snd)
{
	sendq_append(rcv, snd);
	rcv->sendq_head = snd;
}

static void sendq_remove(struct tcb *rcv, struct tcb *snd)
{
	if (snd->sendq_next == snd) {
		rcv->sendq_head = NULL;
	} else {
		snd->sendq_prev->sendq_next = snd->sendq_next;
		snd->sendq_next->sendq_prev = snd->sendq_prev;
		if (rcv->sendq_head == snd)
			rcv->sendq_head = snd->sendq_next;
	}
	snd->sendq_next = snd->sendq_prev = NULL;
	snd->partner = NULL;
}

static void fail(struct tcb *t, enum l4_ipc_error e, bool recv_phase)
{
	t->msg[0] = errtag(e, recv_phase);
	if (!(t->flags & TF_KERNEL_MSG))
		TCB_FRAME(t)->rsi = L4_NILTHREAD; /* no sender */
}

/* A blocked sender's message was taken by rcv: move it on to its receive
 * phase.  A call waits for rcv, which is running and so cannot have replied
 * yet: the sender blocks at once (or fails, with a zero timeout).  Any other
 * receive phase the sender runs itself when it is next scheduled. */
static void finish_send(struct tcb *snd, struct tcb *rcv)
{
	l4_tid_t from = snd->recv_after;
	ipc_timeout_cancel(snd); /* the send phase is over */
	if (from == rcv->tid && snd->recv_timeout != L4_TIMEOUT_ZERO) {
		snd->state = TS_RECV;
		snd->wait_from = from;
		timeout_start(snd, snd->recv_timeout); /* the receive phase begins now */
		return;
	}
	if (from == rcv->tid)
		fail(snd, L4_IPC_TIMEOUT, true);
	else if (from != L4_NILTHREAD)
		snd->flags |= TF_CONTINUE_RECV;
	sched_make_ready(snd);
}

/* ---- faults for string copies ----------------------------------------------- */

static u64 pager_ipc(struct tcb *t, u64 addr, u64 ip, unsigned access, u32 timeout);

/* Fault addr in for t (the running thread) through its pager, with its
 * transfer timeout.  Returns L4_IPC_OK if the page is now there with that
 * access, CANCELLED if the fault was cancelled, else XFER.  A pager that is
 * the partner blocked on us could never answer: XFER at once. */
static enum l4_ipc_error fault_in(struct tcb *t, u64 addr, unsigned access, struct tcb *partner)
{
	u64 pa;
	unsigned rights;
	if (t->pager == L4_NILTHREAD || (partner && t->pager == partner->tid))
		return L4_IPC_XFER;
	u64 r = pager_ipc(t, addr, TCB_FRAME(t)->rip, access, t->utcb->xfer_timeout);
	if ((r & L4_TAG_ERROR) && L4_IPC_ERRCODE(r) == L4_IPC_CANCELLED)
		return L4_IPC_CANCELLED;
	bool ok = !(r & L4_TAG_ERROR) && pt_lookup(t->space->pml4, addr, &pa, &rights) && (rights & access) == access;
	return ok ? L4_IPC_OK : L4_IPC_XFER;
}

/* The partner t must fault a page in before the transfer can happen: it
 * runs again, does that in its own context and retries its IPC phase (or,
 * with fail_after, then fails: its partner could not wait).  cur is the
 * thread that found the page missing. */
static void fault_later(struct tcb *t, const struct xfer_miss *miss, bool recv_phase, struct tcb *cur,
			bool fail_after)
{
	t->xfer_addr = miss->addr;
	t->xfer_access = miss->access;
	t->xfer_partner = cur->tid;
	t->xfer_partner_seq = cur->send_seq;
	t->flags |= TF_XFER_FAULT | (recv_phase ? TF_XFER_RECV : 0) | (fail_after ? TF_XFER_FAIL : 0);
	sched_make_ready(t);
}

/* Run by a thread woken by fault_later: false if its IPC ends here (the
 * fault failed: then the partner waiting for it fails too). */
static bool xfer_fault_pending(struct tcb *t)
{
	bool recv_phase = t->flags & TF_XFER_RECV, fail_after = t->flags & TF_XFER_FAIL;
	t->flags &= ~(TF_XFER_FAULT | TF_XFER_RECV | TF_XFER_FAIL);
	enum l4_ipc_error e = fault_in(t, t->xfer_addr, t->xfer_access, tcb_lookup(t->xfer_partner));
	if (e == L4_IPC_OK && !fail_after)
		return true;
	fail(t, e == L4_IPC_OK ? L4_IPC_XFER : e, recv_phase);
	struct tcb *p = tcb_lookup(t->xfer_partner);
	if (recv_phase && p && p->state == TS_SEND && p->partner == t && p->send_seq == t->xfer_partner_seq) {
		/* the sender that waits for us to take its message (that same
		 * message: not one it sent after that one timed out): it fails too */
		sendq_remove(t, p);
		fail(p, L4_IPC_XFER, false);
		sched_make_ready(p);
	}
	return false;
}

/* A cancel that came while this IPC was ready between two of its steps
 * (after a fault it took itself, before its retry). */
static bool cancel_pending(struct tcb *cur, bool recv_phase)
{
	if (!(cur->flags & TF_CANCEL_PENDING))
		return false;
	cur->flags &= ~TF_CANCEL_PENDING;
	fail(cur, L4_IPC_CANCELLED, recv_phase);
	return true;
}

/* Send phase.  Returns false if the IPC ends here (error or send-only done
 * by the partner); *woken is the receiver made ready, if any. */
static bool send_phase(struct tcb *cur, l4_tid_t to, l4_tid_t from, u64 timeouts, struct tcb **woken)
{
	struct xfer_miss miss;
	if (L4_IS_IRQ_TID(to)) { /* the acknowledgment of an interrupt */
		enum l4_ipc_error e = irq_ack(cur, to);
		if (e)
			fail(cur, e, false);
		return !e;
	}
again:;
	struct tcb *dst = tcb_lookup(to);
	if (!dst || dst == cur) {
		fail(cur, L4_IPC_NOPARTNER, false);
		return false;
	}
	if (accepts(dst, cur)) {
		enum l4_ipc_error e = transfer(cur, dst, &miss);
		if (e == XFER_PENDING && miss.owner == cur) {
			e = fault_in(cur, miss.addr, miss.access, dst);
			if (e) {
				fail(cur, e, false);
				return false;
			}
			if (cancel_pending(cur, false))
				return false;
			goto again;
		}
		if (e == XFER_PENDING && (u32)(timeouts >> 32) == L4_TIMEOUT_ZERO) {
			/* we cannot wait: both fail, but the receiver still faults the
			 * buffer in, so that a retry can succeed */
			fault_later(dst, &miss, true, cur, true);
			fail(cur, L4_IPC_XFER, false);
			return false;
		}
		if (e == XFER_PENDING && dst->pager == cur->tid)
			e = L4_IPC_XFER; /* it would ask us, and we wait for it */
		if (e == XFER_PENDING) {
			fault_later(dst, &miss, true, cur, false); /* then we block below until it receives */
		} else {
			if (e)
				fail(dst, e, true);
			sched_make_ready(dst);
			if (e) {
				fail(cur, e, false);
				return false;
			}
			*woken = dst;
			return true;
		}
	}
	if ((u32)(timeouts >> 32) == L4_TIMEOUT_ZERO) {
		fail(cur, L4_IPC_TIMEOUT, false);
		return false;
	}
	cur->state = TS_SEND;
	cur->recv_after = from;
	cur->recv_timeout = (u32)timeouts;
	sendq_append(dst, cur);
	timeout_start(cur, (u32)(timeouts >> 32));
	sched_block(NULL);
	if (cur->flags & TF_XFER_FAULT) {
		/* woken to fault: for this send, or for the receive phase the
		 * partner moved us on to after taking the message */
		bool for_receive = cur->flags & TF_XFER_RECV;
		if (!xfer_fault_pending(cur))
			return false;
		if (cancel_pending(cur, for_receive))
			return false;
		if (for_receive)
			return true;
		goto again;
	}
	if (!(cur->flags & TF_CONTINUE_RECV))
		return false;
	cur->flags &= ~TF_CONTINUE_RECV;
	return true;
}

static void receive_phase(struct tcb *cur, l4_tid_t from, u32 timeout, struct tcb *woken)
{
	struct xfer_miss miss;
again:;
	struct tcb *src = NULL;
	if (unlikely(cur->flags & TF_IRQ_PENDING) && irq_receive(cur, from))
		return;
	if (from == L4_ANYTHREAD) {
		src = cur->sendq_head;
	} else if (L4_IS_IRQ_TID(from)) {
		if (!irq_is_handler(from, cur)) {
			fail(cur, L4_IPC_NOPARTNER, true);
			return;
		}
	} else {
		struct tcb *p = tcb_lookup(from);
		if (!p) {
			fail(cur, L4_IPC_NOPARTNER, true);
			return;
		}
		if (p->state == TS_SEND && p->partner == cur)
			src = p;
	}
	if (src) {
		sendq_remove(cur, src);
		enum l4_ipc_error e = transfer(src, cur, &miss);
		if (e == XFER_PENDING && miss.owner == cur) {
			sendq_prepend(cur, src); /* it stays first in line */
			e = fault_in(cur, miss.addr, miss.access, src);
			if (e) {
				fail(cur, e, true);
				return;
			}
			woken = NULL; /* we blocked: that thread may be gone */
			if (cancel_pending(cur, true))
				return;
			goto again;
		}
		if (e == XFER_PENDING && src->pager == cur->tid)
			e = L4_IPC_XFER; /* it would ask us, and we wait for it */
		if (e == XFER_PENDING) {
			fault_later(src, &miss, false, cur, false); /* it sends again once it has the page */
			goto again;
		}
		if (e) {
			fail(src, e, false);
			fail(cur, e, true);
			sched_make_ready(src);
		} else {
			finish_send(src, cur);
		}
		return;
	}
	if (timeout == L4_TIMEOUT_ZERO) {
		fail(cur, L4_IPC_TIMEOUT, true);
		return;
	}
	cur->state = TS_RECV;
	cur->wait_from = from;
	timeout_start(cur, timeout);
	sched_block(woken);
	if ((cur->flags & TF_XFER_FAULT) && xfer_fault_pending(cur)) {
		woken = NULL; /* we blocked: that thread may be gone */
		if (cancel_pending(cur, true))
			return;
		goto again;
	}
}

static bool exc_reply_in(struct tcb *t, struct frame *f);

/* A thread blocked by the fast path resumes through its frame
 * (resume_frame); one woken to fault in a receive buffer does that here and
 * receives again; an alien thread whose system call fastpath_exception sent
 * takes the reply that came through the general path. */
void ipc_resume_hook(void)
{
	struct tcb *t = current;
	if (likely(!(t->flags & (TF_XFER_FAULT | TF_EXC_WAIT))))
		return;
	if (t->flags & TF_EXC_WAIT) {
		kernel_msg_done(t);
		if (!exc_reply_in(t, TCB_FRAME(t)))
			thread_kill(t, "system call of an alien thread, and no handler took it");
		leave_kernel_check();
		return;
	}
	l4_tid_t from = t->wait_from; /* the fault's own IPC changes it */
	t->flags = (t->flags & ~TF_CANCEL_PENDING) | TF_IPC_ACTIVE;
	if (xfer_fault_pending(t) && !cancel_pending(t, true))
		ipc(t, L4_NILTHREAD, from, L4_TIMEOUTS(L4_TIMEOUT_ZERO, L4_TIMEOUT_NEVER));
	t->flags &= ~(TF_IPC_ACTIVE | TF_CANCEL_PENDING);
}

void ipc(struct tcb *cur, l4_tid_t to, l4_tid_t from, u64 timeouts)
{
	u32 rcv_timeout = (u32)timeouts;
	struct tcb *woken = NULL;
	if (to != L4_NILTHREAD && !(cur->flags & TF_KERNEL_MSG) && !msg_valid(cur->msg[0])) {
		fail(cur, L4_IPC_BADMSG, false);
		return;
	}
	cur->msg[0] &= ~(L4_TAG_ERROR | L4_TAG_RECV_PHASE);
	u32 own = cur->flags & TF_KERNEL_MSG ? 0 : TF_IPC_ACTIVE; /* a fault's IPC is inside another */
	if (to != L4_NILTHREAD)
		cur->send_seq++;
	cur->flags = (cur->flags & ~(own ? TF_CANCEL_PENDING : 0)) | own;
	bool go_on = to == L4_NILTHREAD || send_phase(cur, to, from, timeouts, &woken);
	if (go_on && from != L4_NILTHREAD)
		receive_phase(cur, from, rcv_timeout, woken);
	cur->flags &= ~(own ? TF_IPC_ACTIVE | TF_CANCEL_PENDING : 0);
	/* A thread woken by our send, or a sender we released, may outrank us. */
	if (cur->state == TS_RUNNING)
		sched_preempt_check();
}

/* Abort t's IPC in whichever phase it is blocked. */
void ipc_abort(struct tcb *t, enum l4_ipc_error err)
{
	if (t->flags & TF_XFER_FAULT) { /* ready, to fault for a string copy */
		bool recv = t->flags & TF_XFER_RECV;
		t->flags &= ~(TF_XFER_FAULT | TF_XFER_RECV | TF_XFER_FAIL);
		fail(t, err, recv);
	} else if (t->flags & TF_CONTINUE_RECV) { /* ready, its open receive not yet begun */
		t->flags &= ~TF_CONTINUE_RECV;
		fail(t, err, true);
	} else if (t->state == TS_SEND) {
		sendq_remove(t->partner, t);
		fail(t, err, false);
		sched_make_ready(t);
	} else if (t->state == TS_RECV) {
		fail(t, err, true);
		sched_make_ready(t);
	} else if (t->state == TS_READY && (t->flags & TF_IPC_ACTIVE)) {
		t->flags |= TF_CANCEL_PENDING; /* between two steps: it checks before the next */
	}
}

/* t is being deleted: nobody may stay blocked on it. */
void ipc_partner_gone(struct tcb *t)
{
	if (t->state == TS_SEND)
		sendq_remove(t->partner, t);
	while (t->sendq_head)
		ipc_abort(t->sendq_head, L4_IPC_NOPARTNER);
	/* the live threads, task by task: fewer than the thread numbers */
	for (struct space *s = all_spaces; s; s = s->next_space)
		for (struct tcb *w = s->threads; w; w = w->space_next)
			if (w->state == TS_RECV && w->wait_from == t->tid)
				ipc_abort(w, L4_IPC_NOPARTNER);
}

/* A call on t's behalf with the kernel message in t->kmsg (the thread's
 * own message registers stay untouched); returns the reply's tag. */
static u64 kernel_ipc(struct tcb *t, l4_tid_t to, u32 timeout)
{
	t->msg = t->kmsg;
	t->flags |= TF_KERNEL_MSG;
	ipc(t, to, to, L4_TIMEOUTS(timeout, timeout));
	kernel_msg_done(t);
	return t->kmsg[0];
}

/* A page-fault message to t's pager on t's behalf; returns the reply tag. */
static u64 pager_ipc(struct tcb *t, u64 addr, u64 ip, unsigned access, u32 timeout)
{
	t->kmsg[0] = L4_TAG_MAKE(L4_LABEL_PAGEFAULT | access, 3, 0);
	t->kmsg[1] = addr;
	t->kmsg[2] = ip;
	t->kmsg[3] = t->space->id;
	return kernel_ipc(t, t->pager, timeout);
}

/* The kernel turns a user page fault into a call to the thread's pager. */
void ipc_pagefault(struct tcb *t, u64 addr, u64 ip, unsigned access)
{
	u64 result = pager_ipc(t, addr, ip, access, L4_TIMEOUT_NEVER);
	if ((result & L4_TAG_ERROR) && L4_IPC_ERRCODE(result) != L4_IPC_CANCELLED && t->state != TS_DEAD) {
		char why[96];
		ksnprintf(why, sizeof(why), "page fault at %llx (ip %llx), pager IPC error %llu",
			  addr, ip, L4_IPC_ERRCODE(result));
		thread_kill(t, why);
	}
}

/* ---- exceptions ------------------------------------------------------------- */

/* The state a handler sees and may change, in the order of enum l4_exc_word
 * (from L4_EXC_RAX on). */
static u64 *exc_gpr(struct frame *f, unsigned w)
{
	switch (w) {
	case L4_EXC_RAX: return &f->rax;
	case L4_EXC_RBX: return &f->rbx;
	case L4_EXC_RCX: return &f->rcx;
	case L4_EXC_RDX: return &f->rdx;
	case L4_EXC_RSI: return &f->rsi;
	case L4_EXC_RDI: return &f->rdi;
	case L4_EXC_RBP: return &f->rbp;
	case L4_EXC_R8: return &f->r8;
	case L4_EXC_R9: return &f->r9;
	case L4_EXC_R10: return &f->r10;
	case L4_EXC_R11: return &f->r11;
	case L4_EXC_R12: return &f->r12;
	case L4_EXC_R13: return &f->r13;
	case L4_EXC_R14: return &f->r14;
	default: return &f->r15;
	}
}

static void exc_state_out(struct tcb *t, struct frame *f, u64 vector, u64 err, u64 addr)
{
	u64 *k = t->kmsg;
	k[0] = L4_TAG_MAKE(L4_LABEL_EXCEPTION, L4_EXC_WORDS, 0);
	k[L4_EXC_RIP] = f->rip;
	k[L4_EXC_RSP] = f->rsp;
	k[L4_EXC_RFLAGS] = f->rflags;
	k[L4_EXC_VECTOR] = vector;
	k[L4_EXC_ERROR] = err;
	k[L4_EXC_ADDR] = addr;
	for (unsigned w = L4_EXC_RAX; w <= L4_EXC_R15; w++)
		k[w] = *exc_gpr(f, w);
	if (f->vector == VEC_SYSCALL) { /* what the SYSCALL instruction left there */
		k[L4_EXC_RCX] = f->rip;
		k[L4_EXC_R11] = f->rflags;
	}
	k[L4_EXC_FS_BASE] = t->fs_base;
	k[L4_EXC_GS_BASE] = t->utcb_uva;
}

/* Take the handler's state; false if it is not a state to return to. */
static bool exc_state_in(struct tcb *t, struct frame *f)
{
	u64 *k = t->kmsg;
	if (k[L4_EXC_RIP] >= L4_USER_END || k[L4_EXC_RSP] >= L4_USER_END || k[L4_EXC_FS_BASE] >= L4_USER_END)
		return false;
	f->rip = k[L4_EXC_RIP];
	f->rsp = k[L4_EXC_RSP];
	f->rflags = (k[L4_EXC_RFLAGS] & RFLAGS_USER_MASK) | RFLAGS_IF | 2;
	for (unsigned w = L4_EXC_RAX; w <= L4_EXC_R15; w++)
		*exc_gpr(f, w) = k[w];
	if (t->flags & TF_ALIEN)
		t->fs_base = k[L4_EXC_FS_BASE]; /* L4 threads keep FS at 0, GS at their UTCB */
	return true;
}

/* The handler's reply, in t->kmsg, to the thread's state in f: false if
 * there was none to take or it is not a state to return to. */
static bool exc_reply_in(struct tcb *t, struct frame *f)
{
	u64 tag = t->kmsg[0];
	if (tag & L4_TAG_ERROR)
		return L4_IPC_ERRCODE(tag) == L4_IPC_CANCELLED || t->state == TS_DEAD;
	if (L4_TAG_U(tag) == 1)
		f->rax = t->kmsg[1]; /* the short answer to a system call */
	else if (L4_TAG_U(tag) >= L4_EXC_WORDS && !exc_state_in(t, f))
		return false;
	if (t == current)
		set_user_fs_base(t->fs_base);
	return true;
}

bool ipc_exception(struct tcb *t, struct frame *f, u64 vector, u64 err, u64 addr)
{
	l4_tid_t handler = t->exc_handler;
	if (handler == L4_NILTHREAD)
		return false;
	exc_state_out(t, f, vector, err, addr);
	kernel_ipc(t, handler, L4_TIMEOUT_NEVER);
	return exc_reply_in(t, f);
}
