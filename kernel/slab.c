/* Fixed-size object caches (see slab.h).  Each page starts with a header;
 * its free objects form a list threaded through themselves. */
#include "slab.h"
#include "kernel.h"

struct slab_page {
	struct slab_page *next, *prev; /* in cache->partial */
	void *free;
	u32 used, capacity;
};

struct free_obj {
	struct free_obj *next;
};

static usize first_offset(void) { return (sizeof(struct slab_page) + 63) & ~63ul; }

static void partial_add(struct slab_cache *c, struct slab_page *p)
{
	p->prev = NULL;
	p->next = c->partial;
	if (c->partial)
		c->partial->prev = p;
	c->partial = p;
}

static void partial_remove(struct slab_cache *c, struct slab_page *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		c->partial = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->next = p->prev = NULL;
}

static struct slab_page *new_page(struct slab_cache *c)
{
	struct slab_page *p = kmem_alloc();
	if (!p)
		return NULL;
	p->capacity = (u32)((PAGE_SIZE - first_offset()) / c->size);
	for (u32 i = p->capacity; i-- > 0;) {
		struct free_obj *o = (struct free_obj *)((u8 *)p + first_offset() + i * c->size);
		o->next = p->free;
		p->free = o;
	}
	partial_add(c, p);
	return p;
}

void *slab_alloc(struct slab_cache *c)
{
	struct slab_page *p = c->partial ? c->partial : new_page(c);
	if (!p)
		return NULL;
	struct free_obj *o = p->free;
	p->free = o->next;
	if (++p->used == p->capacity)
		partial_remove(c, p);
	c->in_use++;
	memset(o, 0, c->size);
	return o;
}

void slab_free(struct slab_cache *c, void *obj)
{
	struct slab_page *p = (struct slab_page *)((uptr)obj & ~(uptr)(PAGE_SIZE - 1));
	assert(p->used > 0 && (uptr)obj - (uptr)p >= first_offset());
	if (p->used == p->capacity)
		partial_add(c, p);
	struct free_obj *o = obj;
	o->next = p->free;
	p->free = o;
	c->in_use--;
	if (--p->used == 0) {
		partial_remove(c, p);
		kmem_free(p);
	}
}
