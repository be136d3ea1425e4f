/* The 64-page kmem pool the kmem and slab tests run on (pool.c). */
#ifndef HOST_POOL_H
#define HOST_POOL_H

#include "../../kernel/kernel.h"

#define NPAGES 64

extern u8 *pool;
/* A fresh pool of NPAGES pages filled with 0x5a, handed to kmem_init. */
void pool_setup(void);
void pool_teardown(void);

#endif
