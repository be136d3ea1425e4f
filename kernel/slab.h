/* Caches of small fixed-size kernel objects (mapping-database nodes),
 * carved from kernel pool pages.  A page whose objects are all free goes
 * back to the pool at once, so the free-page count stays exact. */
#ifndef SLAB_H
#define SLAB_H

#include <l4/types.h>

struct slab_page;

struct slab_cache {
	usize size;               /* object size, a multiple of 8 */
	struct slab_page *partial;/* pages with at least one free object */
	u64 in_use;               /* objects handed out */
};

#define SLAB_CACHE(objsize) { ((objsize) + 7) & ~7ul, NULL, 0 }

void *slab_alloc(struct slab_cache *c); /* zeroed, or NULL when out of memory */
void slab_free(struct slab_cache *c, void *obj);

#endif
