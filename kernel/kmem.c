/*
 * The kernel memory pool.  At boot the kernel sets aside a contiguous range
 * of RAM for its own objects (thread control blocks, page tables, UTCBs);
 * everything else belongs to sigma0.  Free pages form a singly linked list
 * threaded through the pages themselves.
 */
#include "kernel.h"

struct free_page {
	struct free_page *next;
};

static struct free_page *free_list;
static u64 nfree, ntotal;
static u8 *pool_start, *pool_end;

void kmem_init(void *base, u64 npages)
{
	pool_start = base;
	pool_end = (u8 *)base + npages * PAGE_SIZE;
	free_list = NULL;
	nfree = 0;
	ntotal = npages;
	/* Push in reverse so allocation starts at the low end. */
	for (u64 i = npages; i-- > 0;)
		kmem_free(pool_start + i * PAGE_SIZE);
}

bool kmem_owns(const void *page)
{
	const u8 *p = page;
	return p >= pool_start && p < pool_end && ((uptr)(p - pool_start) % PAGE_SIZE) == 0;
}

void *kmem_alloc(void)
{
	struct free_page *p = free_list;
	if (!p)
		return NULL;
	free_list = p->next;
	nfree--;
	memset(p, 0, PAGE_SIZE);
	return p;
}

void kmem_free(void *page)
{
	assert(kmem_owns(page));
	struct free_page *p = page;
#ifdef KMEM_POISON
	memset(p, 0xcc, PAGE_SIZE); /* a use after free reads garbage, loudly */
#endif
	p->next = free_list;
	free_list = p;
	nfree++;
}

u64 kmem_free_pages(void) { return nfree; }
u64 kmem_total_pages(void) { return ntotal; }
