/* The pager library (see l4/pager.h). */
#include <l4/pager.h>
#include "common/string.h"

void pager_init(struct pager *p, void *pool, u64 pool_bytes, bool refuse)
{
	memset(p, 0, sizeof(*p));
	p->pool = pool;
	p->pool_pages = pool_bytes / 4096;
	p->refuse = refuse;
}

bool pager_add_region(struct pager *p, u64 start, u64 end, enum pager_kind kind, u64 source, unsigned rights)
{
	if (p->nregions == PAGER_MAX_REGIONS)
		return false;
	p->region[p->nregions++] = (struct pager_region){ start, end, kind, source, rights };
	return true;
}

bool pager_add_image(struct pager *p)
{
	extern char _end[];
	return pager_add_region(p, L4_IMAGE_BASE, (u64)_end, PAGER_MIRROR, 0, L4_RWX);
}

static struct pager_region *region_of(struct pager *p, u64 addr)
{
	for (unsigned i = 0; i < p->nregions; i++)
		if (addr >= p->region[i].start && addr < p->region[i].end)
			return &p->region[i];
	return NULL;
}

static struct pager_private *private_of(struct pager *p, u64 task, u64 va)
{
	for (unsigned i = 0; i < PAGER_MAX_PRIVATE; i++)
		if (p->priv[i].page && p->priv[i].task == task && p->priv[i].va == va)
			return &p->priv[i];
	return NULL;
}

static u64 page_alloc(struct pager *p)
{
	if (p->free_list) {
		u64 page = p->free_list;
		p->free_list = *(u64 *)page;
		return page;
	}
	return p->pool_next < p->pool_pages ? (u64)p->pool + 4096 * p->pool_next++ : 0;
}

/* A private page for (task, va), filled from `from` or with zeros. */
static struct pager_private *private_new(struct pager *p, u64 task, u64 va, const void *from)
{
	for (unsigned i = 0; i < PAGER_MAX_PRIVATE; i++) {
		if (p->priv[i].page)
			continue;
		u64 page = page_alloc(p);
		if (!page)
			return NULL;
		if (from)
			memcpy((void *)page, from, 4096);
		else
			memset((void *)page, 0, 4096);
		p->priv[i] = (struct pager_private){ task, va, page };
		return &p->priv[i];
	}
	return NULL;
}

static void release_task(struct pager *p, u64 task)
{
	for (unsigned i = 0; i < PAGER_MAX_PRIVATE; i++) {
		if (p->priv[i].page && p->priv[i].task == task) {
			*(u64 *)p->priv[i].page = p->free_list;
			p->free_list = p->priv[i].page;
			p->priv[i].page = 0;
		}
	}
}

/* The page to map for a fault, with its rights; 0 if none. */
static u64 resolve(struct pager *p, struct pager_region *r, u64 task, u64 va, unsigned access, unsigned *rights)
{
	struct pager_private *pp = r->kind == PAGER_MIRROR ? NULL : private_of(p, task, va);
	*rights = r->rights;
	switch (r->kind) {
	case PAGER_MIRROR:
		l4_touch(va, access & L4_W);
		return va;
	case PAGER_ANON:
		if (!pp)
			pp = private_new(p, task, va, NULL);
		return pp ? pp->page : 0;
	case PAGER_COW:
		if (pp)
			return pp->page;
		if (access & L4_W) {
			pp = private_new(p, task, va, (const void *)(r->source + (va - r->start)));
			return pp ? pp->page : 0;
		}
		*rights &= ~L4_W;
		return r->source + (va - r->start);
	}
	return 0;
}

/* Build the reply to a fault in m; false: no reply (the task was ended). */
static bool handle_fault(struct pager *p, l4_tid_t from, u64 label, struct l4_msg *m)
{
	u64 addr = m->mr[1], va = addr & ~0xfffull, task = m->mr[3];
	unsigned access = label & 7, rights;
	p->faults++;
	struct pager_region *r = region_of(p, addr);
	u64 page = r ? resolve(p, r, task, va, access, &rights) : 0;
	if (!page || (access & ~rights)) {
		p->unknown++;
		p->last_addr = addr;
		p->last_ip = m->mr[2];
		p->last_label = label;
		if (!p->refuse) {
			l4_delete_task(from);
			release_task(p, task);
			return false;
		}
		m->mr[0] = L4_TAG_MAKE(0, 0, 0);
		return true;
	}
	l4_map_msg(m, va, L4_FPAGE(page, 12, rights), false);
	return true;
}

static bool lib_fault(void *p, l4_tid_t from, u64 tag, struct l4_msg *m)
{
	return handle_fault(p, from, L4_TAG_LABEL(tag), m);
}

/* A client that exits by message: its task goes. */
static bool lib_other(void *p, l4_tid_t from, u64 tag, struct l4_msg *m)
{
	(void)p;
	(void)m;
	if (L4_TAG_LABEL(tag) == L4_LABEL_EXIT)
		l4_delete_task(from);
	return false;
}

_Noreturn void pager_serve(struct pager *p)
{
	pager_loop(lib_fault, lib_other, p);
}

static void pager_thread(u64 p) { pager_serve((struct pager *)p); }

l4_tid_t pager_start(struct pager *p, void *stack, usize stack_size)
{
	return l4_spawn_thread(pager_thread, (u64)p, stack, stack_size);
}
