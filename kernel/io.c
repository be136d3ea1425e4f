/*
 * I/O ports.  A task's ports are a bitmap in the format of the TSS I/O
 * permission bitmap (a set bit denies the port).  The TSS holds the bitmap
 * of at most one task at a time, and only while a thread of that task runs:
 * a thread of a task with ports (TF_IO) unloads it whenever it stops
 * running, and the first in/out afterwards faults (#GP) and loads it again.
 * So tasks without ports pay nothing, and the IPC fast path only tests a
 * flag it tests anyway.
 *
 * Ports move like pages, through map and grant items with I/O fpages.  Each
 * task records up to IO_MAX_MAPS ranges with the task it got them from;
 * Unmap of an I/O fpage takes the range from every task that got ports in
 * it from the caller, and from the tasks those passed them on to.
 */
#include "thread.h"

#define IO_BITMAP_BYTES (L4_IO_PORTS / 8)
#define IO_BITMAP_PAGES (IO_BITMAP_BYTES / PAGE_SIZE)
#define IO_MAX_MAPS 16
#define IO_PAGES (1 + IO_BITMAP_PAGES) /* struct io_perm and the bitmap */

struct io_map {
	u32 port, count;     /* count 0: free slot */
	struct space *from;  /* who mapped them (NULL: given at boot) */
	u64 round;           /* the last revocation round that took ports from it */
};

struct io_perm {
	u8 *bits[IO_BITMAP_PAGES];
	u32 max;             /* bitmap bytes [0, max) may hold clear bits */
	u64 mark;            /* revocation round that reached this task */
	struct io_map maps[IO_MAX_MAPS];
};
STATIC_ASSERT(sizeof(struct io_perm) <= PAGE_SIZE, "io_perm fits a page");

struct space *io_loaded;
static u32 tss_dirty;           /* TSS bitmap bytes [0, dirty) may hold clear bits */
static u64 revoke_round;

static u8 *bitmap_byte(struct io_perm *io, u32 i) { return &io->bits[i / PAGE_SIZE][i % PAGE_SIZE]; }

static bool port_allowed(struct io_perm *io, u32 p) { return !(*bitmap_byte(io, p / 8) & (1u << (p % 8))); }

static void set_ports(struct io_perm *io, u32 port, u32 count, bool allow)
{
	for (u32 p = port; p < port + count; p++) {
		u8 *b = bitmap_byte(io, p / 8);
		*b = allow ? *b & ~(1u << (p % 8)) : *b | (1u << (p % 8));
	}
	if (allow && (port + count + 7) / 8 > io->max)
		io->max = (port + count + 7) / 8;
}

void io_free(struct space *s)
{
	if (!s->io)
		return;
	if (io_loaded == s)
		io_unload();
	for (unsigned i = 0; i < IO_BITMAP_PAGES; i++)
		if (s->io->bits[i])
			kmem_free(s->io->bits[i]);
	kmem_free(s->io);
	s->io = NULL;
	kmem_uncharge(s, IO_PAGES * PAGE_SIZE);
}

/* Give s a bitmap that denies everything; its threads get TF_IO. */
static bool io_create(struct space *s)
{
	if (!kmem_charge(s, IO_PAGES * PAGE_SIZE))
		return false;
	struct io_perm *io = kmem_alloc();
	if (!io) {
		kmem_uncharge(s, IO_PAGES * PAGE_SIZE);
		return false;
	}
	s->io = io;
	for (unsigned i = 0; i < IO_BITMAP_PAGES; i++) {
		io->bits[i] = kmem_alloc();
		if (!io->bits[i]) {
			io_free(s);
			return false;
		}
		memset(io->bits[i], 0xff, PAGE_SIZE);
	}
	for (struct tcb *t = s->threads; t; t = t->space_next)
		t->flags |= TF_IO;
	return true;
}

/* sigma0 starts out with every port. */
bool io_give_all(struct space *s)
{
	if (!io_create(s))
		return false;
	set_ports(s->io, 0, L4_IO_PORTS, true);
	return true;
}

/* A #GP in user mode: if it may be an in/out of a task with ports whose
 * bitmap is not in the TSS, load it; the instruction then runs again. */
bool io_fault(struct tcb *t)
{
	struct io_perm *io = t->space->io;
	if (!io || io_loaded == t->space)
		return false;
	u32 n = io->max > tss_dirty ? io->max : tss_dirty;
	for (u32 i = 0; i < n; i++)
		tss.iomap[i] = i < io->max ? *bitmap_byte(io, i) : 0xff;
	tss_dirty = io->max;
	tss.iomap_base = TSS_IOMAP_BASE;
	io_loaded = t->space;
	return true;
}

static bool io_fpage_valid(l4_fpage_t fp)
{
	unsigned log2 = L4_FPAGE_LOG2(fp);
	return log2 <= 16 && (L4_IO_FPAGE_PORT(fp) & ((1u << log2) - 1)) == 0;
}

static bool record_map(struct io_perm *io, u32 port, u32 count, struct space *from)
{
	struct io_map *free = NULL;
	for (unsigned i = 0; i < IO_MAX_MAPS; i++) {
		struct io_map *m = &io->maps[i];
		if (m->count && m->port == port && m->count == count && m->from == from)
			return true;
		if (!m->count && !free)
			free = m;
	}
	if (!free)
		return false;
	*free = (struct io_map){ port, count, from, 0 };
	return true;
}

/* A map or grant item with an I/O fpage from src to dst through the
 * receive window win: the ports of the fpage that src has. */
enum l4_ipc_error io_map(struct space *src, struct space *dst, l4_fpage_t fp, l4_fpage_t win, bool grant)
{
	if (!io_fpage_valid(fp))
		return L4_IPC_BADMSG;
	u32 port = L4_IO_FPAGE_PORT(fp), count = 1u << L4_FPAGE_LOG2(fp);
	if (win != L4_FPAGE_COMPLETE) {
		u32 wport = L4_IO_FPAGE_PORT(win), wcount = 1u << L4_FPAGE_LOG2(win);
		if (!L4_IS_IO_FPAGE(win) || !io_fpage_valid(win) || port < wport || port + count > wport + wcount)
			return L4_IPC_MAPFAIL;
	}
	if (!src->io || src == dst)
		return L4_IPC_OK;
	if (!dst->io && !io_create(dst))
		return L4_IPC_MAPFAIL;
	if (!record_map(dst->io, port, count, src))
		return L4_IPC_MAPFAIL;
	for (u32 p = port; p < port + count; p++) {
		if (port_allowed(src->io, p)) {
			set_ports(dst->io, p, 1, true);
			if (grant)
				set_ports(src->io, p, 1, false);
		}
	}
	if (io_loaded == src || io_loaded == dst)
		io_unload(); /* reloaded with the new bits at the next in/out */
	return L4_IPC_OK;
}

/* Take [port, port + count) from every task that got ports in it from a
 * task this revocation has reached, starting with s.  Passes over all
 * records repeat until one takes nothing new (each record is taken from
 * at most once), so no recursion and no deep stack; a task reached late
 * still has all its records looked at. */
static void revoke(struct space *s, u32 port, u32 count)
{
	u64 round = ++revoke_round;
	s->io->mark = round;
	for (bool more = true; more;) {
		more = false;
		for (struct space *t = all_spaces; t; t = t->next_space) {
			if (!t->io || t == s)
				continue;
			for (unsigned i = 0; i < IO_MAX_MAPS; i++) {
				struct io_map *m = &t->io->maps[i];
				if (!m->count || m->round == round || !m->from || !m->from->io ||
				    m->from->io->mark != round || m->port >= port + count || port >= m->port + m->count)
					continue;
				m->round = round;
				u32 lo = m->port > port ? m->port : port;
				u32 hi = m->port + m->count < port + count ? m->port + m->count : port + count;
				set_ports(t->io, lo, hi - lo, false);
				if (lo == m->port && hi == m->port + m->count)
					m->count = 0; /* wholly revoked */
				t->io->mark = round;
				more = true;
			}
		}
	}
	io_unload();
}

/* Unmap with an I/O fpage. */
int io_unmap(struct space *s, l4_fpage_t fp, bool self)
{
	if (!io_fpage_valid(fp))
		return L4_EINVAL;
	if (!s->io)
		return L4_OK;
	u32 port = L4_IO_FPAGE_PORT(fp), count = 1u << L4_FPAGE_LOG2(fp);
	revoke(s, port, count);
	if (self)
		set_ports(s->io, port, count, false);
	return L4_OK;
}

/* s is being destroyed: what it gave goes with it. */
void io_space_destroyed(struct space *s)
{
	if (!s->io)
		return;
	revoke(s, 0, L4_IO_PORTS);
	io_free(s);
}
