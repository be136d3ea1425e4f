/* Threads and tasks for L4 programs, and the mirror pager that lets a
 * child task share its creator's memory one-to-one. */
#include <l4/pager.h>
#include "common/string.h"

void l4_thread_trampoline(void);

/* A thread whose function returned stops itself. */
static void thread_done(void)
{
	struct l4_exreg x = { L4_EXREG_HALT, 0, 0, 0, 0, 0 };
	l4_exchange_registers(l4_myself(), &x);
}

/* A task made by l4_spawn_task exits through its own pager, not through
 * l4_parent: it shares that variable with its creator. */
static l4_tid_t own_pager(void);

static void task_done(void)
{
	struct l4_msg m = { { L4_TAG_MAKE(L4_LABEL_EXIT, 1, 0), 0 } };
	l4_send(own_pager(), &m);
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

/* The pager of the calling thread (in a task made by l4_spawn_task this is
 * not l4_parent, which that task shares with its creator). */
static l4_tid_t own_pager(void)
{
	struct l4_exreg x = { 0, 0, 0, 0, 0, 0 };
	return l4_exchange_registers(l4_myself(), &x) == 0 ? x.pager : L4_NILTHREAD;
}

l4_tid_t l4_spawn_thread(l4_thread_fn fn, u64 arg, void *stack, usize stack_size)
{
	l4_tid_t t;
	if (l4_create_thread(l4_myself(), own_pager(), &t) < 0)
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

/* The mirror pager: this task's own memory, one-to-one, for any address. */
static struct pager mirror;
static u8 mirror_stack[16384] __attribute__((aligned(16)));

l4_tid_t l4_mirror_pager_start(void)
{
	static l4_tid_t pager;
	if (pager == L4_NILTHREAD) {
		pager_init(&mirror, NULL, 0, false);
		pager_add_region(&mirror, 0, L4_USER_MAP_END, PAGER_MIRROR, 0, L4_RWX);
		pager = pager_start(&mirror, mirror_stack, sizeof(mirror_stack));
	}
	return pager;
}

/* Ask `to` for fpage fp with a request of the given label.  The receive
 * window is open to the reply only for the length of the call: a task that
 * accepts mappings from anybody can be overwritten.  True if the answer
 * was a map item (m->mr[1], m->mr[2]). */
static bool map_request(l4_tid_t to, u64 label, l4_fpage_t fp, l4_fpage_t window, struct l4_msg *m)
{
	struct l4_utcb *u = l4_utcb();
	l4_fpage_t old = u->rcv_window;
	u->rcv_window = window;
	*m = (struct l4_msg){ { L4_TAG_MAKE(label, 2, 0), fp, 0 } };
	u64 tag = l4_call(to, m);
	u->rcv_window = old;
	return !l4_ipc_failed(tag) && L4_TAG_T(tag) == 2;
}

static bool sigma0_call(l4_fpage_t fp, l4_fpage_t window, struct l4_msg *m)
{
	return map_request(l4_kip()->sigma0, L4_LABEL_SIGMA0, fp, window, m);
}

const u8 *l4_module(const char *name, u64 *size)
{
	const struct l4_kip *k = l4_kip();
	for (u32 i = 0; i < k->n_modules; i++) {
		const struct l4_kip_module *mod = &k->modules[i];
		if (strcmp(mod->name, name))
			continue;
		u64 base = mod->base & ~0xfffull, end = mod->base + mod->size;
		for (u64 off = 0; base + off < end;) {
			struct l4_msg m;
			struct l4_utcb *u = l4_utcb();
			l4_fpage_t old = u->rcv_window;
			u->rcv_window = L4_FPAGE_COMPLETE;
			m = (struct l4_msg){ { L4_TAG_MAKE(L4_LABEL_GET_MODULE, 2, 0), i, off } };
			u64 tag = l4_call(l4_parent, &m);
			u->rcv_window = old;
			if (l4_ipc_failed(tag) || L4_TAG_T(tag) != 2)
				return NULL;
			off += 1ull << L4_FPAGE_LOG2(m.mr[2]);
		}
		*size = mod->size;
		return (const u8 *)mod->base;
	}
	return NULL;
}

bool l4_parent_get_io(u16 port, unsigned log2)
{
	struct l4_msg m;
	l4_fpage_t fp = L4_IO_FPAGE(port, log2);
	return map_request(l4_parent, L4_LABEL_GET_IO, fp, fp, &m) && L4_IS_IO_FPAGE(m.mr[2]);
}

static u64 sigma0_request(l4_fpage_t fp)
{
	struct l4_msg m;
	return sigma0_call(fp, L4_FPAGE_COMPLETE, &m) ? m.mr[1] & ~0xfffull : 0;
}

/* The window covers just the ports asked for: no memory can land. */
u64 sigma0_get_io(u16 port, unsigned log2)
{
	struct l4_msg m;
	l4_fpage_t fp = L4_IO_FPAGE(port, log2);
	return sigma0_call(fp, fp, &m) && L4_IS_IO_FPAGE(m.mr[2]) ? m.mr[2] : 0;
}

u64 sigma0_get_page(u64 pa) { return sigma0_request(L4_FPAGE(pa, 12, L4_RWX)); }

u64 sigma0_get_any_page(void) { return sigma0_request(L4_FPAGE(~0ull, 12, L4_RWX)); }

u64 sigma0_get_region(u64 pa, unsigned log2) { return sigma0_request(L4_FPAGE(pa, log2, L4_RWX)); }

u64 sigma0_get_superpage(void)
{
	const struct l4_kip *k = l4_kip();
	for (u32 i = 0; i < k->n_mem; i++) {
		if (k->mem[i].type != L4_MEM_FREE)
			continue;
		u64 end = k->mem[i].base + k->mem[i].size;
		for (u64 a = (k->mem[i].base + 0x1fffff) & ~0x1fffffull; a + 0x200000 <= end; a += 0x200000)
			if (sigma0_get_region(a, 21) == a)
				return a;
	}
	return 0;
}
