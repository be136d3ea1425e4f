/* kernel/kmem.c: the page allocator, on a 64-page pool from aligned_alloc. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pool.h"
#include "../../kernel/kernel.h"



static bool in_pool(const void *p)
{
	uintptr_t a = (uintptr_t)p, s = (uintptr_t)pool;
	return a >= s && a < s + NPAGES * PAGE_SIZE;
}

/* p + delta computed on integers: may lie outside any object. */
static void *addr(const void *p, long long delta)
{
	return (void *)((uintptr_t)p + (uintptr_t)delta);
}

static void kmem_test_init(void)
{
	pool_setup();
	CHECK_EQ(kmem_total_pages(), NPAGES);
	CHECK_EQ(kmem_free_pages(), NPAGES);
	/* The free list is built so that allocation starts at the low end. */
	void *p = kmem_alloc();
	CHECK_PTR(p, pool);
	kmem_free(p);
	pool_teardown();
}

/* Allocates the whole pool into pages[]; returns how many were non-NULL. */
static int alloc_all(void **pages)
{
	int n = 0;
	for (int i = 0; i < NPAGES; i++)
		if ((pages[i] = kmem_alloc()) != NULL)
			n++;
	return n;
}

static void free_all(void **pages)
{
	for (int i = 0; i < NPAGES; i++)
		if (pages[i])
			kmem_free(pages[i]);
}

static void kmem_test_exhaustion(void)
{
	void *pages[NPAGES];
	pool_setup();
	CHECK_EQ(alloc_all(pages), NPAGES);
	CHECK_EQ(kmem_free_pages(), 0);
	CHECK(kmem_alloc() == NULL);
	CHECK(kmem_alloc() == NULL);
	CHECK_EQ(kmem_free_pages(), 0);
	free_all(pages);
	CHECK_EQ(kmem_free_pages(), NPAGES);
	CHECK(kmem_alloc() != NULL);
	pool_teardown();
}

static void kmem_test_distinct(void)
{
	void *pages[NPAGES];
	int bad_place = 0, dups = 0;
	pool_setup();
	alloc_all(pages);
	for (int i = 0; i < NPAGES; i++) {
		if (!pages[i] || !in_pool(pages[i]) || (uintptr_t)pages[i] % PAGE_SIZE ||
		    !kmem_owns(pages[i]))
			bad_place++;
		for (int j = 0; j < i; j++)
			dups += pages[i] == pages[j];
	}
	CHECK_EQ(bad_place, 0);
	CHECK_EQ(dups, 0);
	free_all(pages);
	pool_teardown();
}

/* Counts pages (of all NPAGES) that are not entirely zero. */
static int dirty_pages(void **pages)
{
	int dirty = 0;
	for (int i = 0; i < NPAGES; i++) {
		const u8 *p = pages[i];
		for (u64 k = 0; p && k < PAGE_SIZE; k++)
			if (p[k]) {
				dirty++;
				break;
			}
	}
	return dirty;
}

static void kmem_test_zeroed(void)
{
	void *pages[NPAGES];
	pool_setup(); /* the pool starts as 0x5a garbage */
	CHECK_EQ(alloc_all(pages), NPAGES);
	CHECK_EQ(dirty_pages(pages), 0);
	for (int i = 0; i < NPAGES; i++)
		memset(pages[i], 0xa5, PAGE_SIZE);
	free_all(pages);
	CHECK_EQ(alloc_all(pages), NPAGES);
	CHECK_EQ(dirty_pages(pages), 0);
	free_all(pages);
	pool_teardown();
}

static void kmem_test_accounting(void)
{
	void *pages[NPAGES];
	int wrong = 0;
	pool_setup();
	for (int i = 0; i < NPAGES; i++) {
		pages[i] = kmem_alloc();
		wrong += kmem_free_pages() != (u64)(NPAGES - i - 1);
	}
	for (int i = 0; i < NPAGES; i++) {
		kmem_free(pages[i]);
		wrong += kmem_free_pages() != (u64)(i + 1);
	}
	CHECK_EQ(wrong, 0);
	CHECK_EQ(kmem_total_pages(), NPAGES);
	pool_teardown();
}

/* Random alloc/free cycles: the count follows, and ends where it began. */
static void kmem_test_cycles(void)
{
	void *held[NPAGES];
	int n = 0, wrong = 0;
	pool_setup();
	srand(1);
	for (int i = 0; i < 5000; i++) {
		if (n < NPAGES && (n == 0 || rand() % 2)) {
			held[n] = kmem_alloc();
			wrong += held[n] == NULL || *(u64 *)held[n] != 0;
			*(u64 *)held[n++] = 0xdeadbeef; /* dirty the link word */
		} else {
			int k = rand() % n;
			kmem_free(held[k]);
			held[k] = held[--n];
		}
		wrong += kmem_free_pages() != (u64)(NPAGES - n);
	}
	while (n)
		kmem_free(held[--n]);
	CHECK_EQ(wrong, 0);
	CHECK_EQ(kmem_free_pages(), NPAGES);
	pool_teardown();
}

static void kmem_test_owns(void)
{
	int local;
	pool_setup();
	CHECK(kmem_owns(pool));
	CHECK(kmem_owns(pool + PAGE_SIZE));
	CHECK(kmem_owns(pool + (NPAGES - 1) * PAGE_SIZE));
	CHECK(!kmem_owns(pool + NPAGES * PAGE_SIZE));
	CHECK(!kmem_owns(addr(pool, (NPAGES + 1) * PAGE_SIZE)));
	CHECK(!kmem_owns(addr(pool, -PAGE_SIZE)));
	CHECK(!kmem_owns(addr(pool, -1)));
	CHECK(!kmem_owns(pool + 1));
	CHECK(!kmem_owns(pool + PAGE_SIZE / 2));
	CHECK(!kmem_owns(pool + NPAGES * PAGE_SIZE - 1));
	CHECK(!kmem_owns(NULL));
	CHECK(!kmem_owns(&local));
	pool_teardown();
}

/* Freeing a page the pool does not own trips the assert; the pool is unharmed. */
static void kmem_test_free_foreign(void)
{
	static u8 other[2 * 4096] __attribute__((aligned(4096)));
	pool_setup();
	CHECK_PANICS(kmem_free(other));
	CHECK_PANICS(kmem_free(pool + 8));
	CHECK_PANICS(kmem_free(pool + NPAGES * PAGE_SIZE));
	CHECK_PANICS(kmem_free(addr(pool, -PAGE_SIZE)));
	CHECK_PANICS(kmem_free(NULL));
	CHECK_EQ(kmem_free_pages(), NPAGES);
	void *pages[NPAGES];
	CHECK_EQ(alloc_all(pages), NPAGES);
	CHECK(kmem_alloc() == NULL);
	free_all(pages);
	pool_teardown();
}

static void kmem_test_empty_pool(void)
{
	pool_setup();
	kmem_init(pool, 0);
	CHECK_EQ(kmem_total_pages(), 0);
	CHECK_EQ(kmem_free_pages(), 0);
	CHECK(kmem_alloc() == NULL);
	CHECK(!kmem_owns(pool));
	pool_teardown();
}

void kmem_suite(void)
{
	run_test("kmem_init", kmem_test_init);
	run_test("kmem_exhaustion", kmem_test_exhaustion);
	run_test("kmem_distinct_aligned_inside", kmem_test_distinct);
	run_test("kmem_zeroed", kmem_test_zeroed);
	run_test("kmem_accounting", kmem_test_accounting);
	run_test("kmem_alloc_free_cycles", kmem_test_cycles);
	run_test("kmem_owns", kmem_test_owns);
	run_test("kmem_free_foreign_asserts", kmem_test_free_foreign);
	run_test("kmem_empty_pool", kmem_test_empty_pool);
}
