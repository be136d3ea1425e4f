/* Threads and tasks for L4 programs, and the mirror pager that lets a
 * child task share its creator's memory one-to-one. */
#include <l4/runtime.h>

void l4_thread_trampoline(void);

/* A thread whose function returned stops itself. */
static void thread_done(void)
{
	struct l4_exreg x = { L4_EXREG_HALT, 0, 0, 0, 0, 0 };
	l4_exchange_registers(l4_myself(), &x);
}

/* A task made by l4_spawn_task exits through its own pager, not through
 * l4_parent: it shares that variable with its creator. */
static void task_done(void)
{
	struct l4_exreg x = { 0, 0, 0, 0, 0, 0 };
	l4_exchange_registers(l4_myself(), &x);
	struct l4_msg m = { { L4_TAG_MAKE(L4_LABEL_EXIT, 1, 0), 0 } };
	l4_send(x.pager, &m);
	thread_done();
}

static u64 prepare_stack(void *stack, usize size, l4_thread_fn fn, u64 arg, void (*done)(void))
{
	u64 *sp = (u64 *)(((u64)stack + size) & ~15ull);
	*--sp = 0;
	*--sp = (u64)done;
	*--sp = arg;
	*--sp = (u64)fn;
	return (u64)sp;
}

s64 l4_start_fn(l4_tid_t t, l4_thread_fn fn, u64 arg, void *stack, usize stack_size)
{
	u64 sp = prepare_stack(stack, stack_size, fn, arg, thread_done);
	return l4_start_thread(t, (u64)l4_thread_trampoline, sp);
}

l4_tid_t l4_spawn_thread(l4_thread_fn fn, u64 arg, void *stack, usize stack_size)
{
	l4_tid_t t;
	if (l4_create_thread(l4_myself(), l4_parent, &t) < 0)
		return L4_NILTHREAD;
	if (l4_start_fn(t, fn, arg, stack, stack_size) < 0) {
		l4_delete_thread(t);
		return L4_NILTHREAD;
	}
	return t;
}

l4_tid_t l4_spawn_task(l4_tid_t pager, l4_thread_fn fn, u64 arg, void *stack, usize stack_size)
{
	l4_tid_t t;
	if (l4_create_task(pager, &t, NULL) < 0)
		return L4_NILTHREAD;
	u64 sp = prepare_stack(stack, stack_size, fn, arg, task_done);
	if (l4_start_thread(t, (u64)l4_thread_trampoline, sp) < 0) {
		l4_delete_task(t);
		return L4_NILTHREAD;
	}
	return t;
}

/* Make sure this task has the page itself before mapping it on: an atomic
 * no-op write faults it in writable without disturbing other threads. */
static void touch(u64 addr, bool write)
{
	volatile u8 *p = (volatile u8 *)addr;
	if (write)
		__asm__ volatile("lock orb $0, %0" : "+m"(*p));
	else
		(void)*p;
}

static void mirror_pager(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t from;
	u64 tag = l4_wait(&m, &from);
	for (;;) {
		if (l4_ipc_failed(tag)) {
			tag = l4_wait(&m, &from);
			continue;
		}
		u64 label = L4_TAG_LABEL(tag);
		if ((label & ~0xfull) == L4_LABEL_PAGEFAULT) {
			u64 page = m.mr[1] & ~0xfffull;
			touch(page, label & L4_W);
			m.mr[0] = L4_TAG_MAKE(0, 0, 2);
			m.mr[1] = page | L4_ITEM_MAP;
			m.mr[2] = L4_FPAGE(page, 12, L4_RWX);
			tag = l4_reply_wait(from, &m, &from);
		} else if (label == L4_LABEL_EXIT) {
			l4_delete_task(from);
			tag = l4_wait(&m, &from);
		} else {
			tag = l4_wait(&m, &from);
		}
	}
}

static u8 mirror_stack[16384] __attribute__((aligned(16)));

l4_tid_t l4_mirror_pager_start(void)
{
	static l4_tid_t pager;
	if (pager == L4_NILTHREAD)
		pager = l4_spawn_thread(mirror_pager, 0, mirror_stack, sizeof(mirror_stack));
	return pager;
}

/* The whole address space is open to sigma0's reply only for the length of
 * the call: a task that accepts mappings from anybody can be overwritten. */
static u64 sigma0_request(l4_fpage_t fp)
{
	struct l4_utcb *u = l4_utcb();
	l4_fpage_t old = u->rcv_window;
	u->rcv_window = L4_FPAGE_COMPLETE;
	struct l4_msg m = { { L4_TAG_MAKE(L4_LABEL_SIGMA0, 2, 0), fp, 0 } };
	u64 tag = l4_call(l4_kip()->sigma0, &m);
	u->rcv_window = old;
	if (l4_ipc_failed(tag) || L4_TAG_T(tag) != 2)
		return 0;
	return m.mr[1] & ~0xfffull;
}

u64 sigma0_get_page(u64 pa) { return sigma0_request(L4_FPAGE(pa, 12, L4_RWX)); }

u64 sigma0_get_any_page(void) { return sigma0_request(L4_FPAGE(~0ull, 12, L4_RWX)); }

u64 sigma0_get_region(u64 pa, unsigned log2) { return sigma0_request(L4_FPAGE(pa, log2, L4_RWX)); }
