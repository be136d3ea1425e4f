/* The kmem pool shared by test_kmem.c and test_slab.c (see pool.h). */
#include <stdlib.h>
#include <string.h>

#include "pool.h"

u8 *pool;

void pool_setup(void)
{
	free(pool); /* left over when a test panicked */
	pool = aligned_alloc(PAGE_SIZE, NPAGES * PAGE_SIZE);
	memset(pool, 0x5a, NPAGES * PAGE_SIZE);
	kmem_init(pool, NPAGES);
}

void pool_teardown(void)
{
	free(pool);
	pool = NULL;
}
