/* kernel/slab.c: fixed-size object caches carved from kmem pages, on a
 * 64-page pool from aligned_alloc (as in test_kmem.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pool.h"
#include "../../kernel/kernel.h"
#include "../../kernel/slab.h"

/* The page header (struct slab_page: two pointers, a pointer, two u32s,
 * 32 bytes) rounded up to 64: where the first object of a page starts. */
#define SLAB_HDR 64u


static uptr page_of(const void *p) { return (uptr)p & ~(uptr)(PAGE_SIZE - 1); }
static uptr offset_in_page(const void *p) { return (uptr)p & (PAGE_SIZE - 1); }
static long page_index(const void *p) { return (long)((page_of(p) - (uptr)pool) / PAGE_SIZE); }

static u64 capacity(usize size) { return (PAGE_SIZE - SLAB_HDR) / size; }

/* An object is well placed: 8-byte aligned, in a pool page, after the
 * header and not past the end of its page. */
static bool well_placed(const void *o, usize size)
{
	uptr a = (uptr)o, s = (uptr)pool;
	return o && a % 8 == 0 && a >= s && a + size <= s + NPAGES * PAGE_SIZE &&
	       kmem_owns((void *)page_of(o)) && offset_in_page(o) >= SLAB_HDR &&
	       offset_in_page(o) + size <= PAGE_SIZE;
}

static bool all_bytes(const void *o, usize size, u8 v)
{
	const u8 *b = o;
	for (usize i = 0; i < size; i++)
		if (b[i] != v)
			return false;
	return true;
}

/* Fills o with a pattern derived from tag; checks it back. */
static void fill(void *o, usize size, u32 tag)
{
	u8 *b = o;
	for (usize i = 0; i < size; i++)
		b[i] = (u8)(tag * 31 + i * 7 + 1);
}

static bool intact(const void *o, usize size, u32 tag)
{
	const u8 *b = o;
	for (usize i = 0; i < size; i++)
		if (b[i] != (u8)(tag * 31 + i * 7 + 1))
			return false;
	return true;
}

static int cmp_ptr(const void *a, const void *b)
{
	uptr x = (uptr) * (void *const *)a, y = (uptr) * (void *const *)b;
	return x < y ? -1 : x > y;
}

/* Sorted copies of objs[0..n): counts overlapping neighbours (distinct,
 * non-overlapping objects of `size` bytes give 0). */
static int overlaps(void **objs, int n, usize size)
{
	void **s = malloc(sizeof(void *) * (size_t)(n ? n : 1));
	int bad = 0;
	memcpy(s, objs, sizeof(void *) * (size_t)n);
	qsort(s, (size_t)n, sizeof(void *), cmp_ptr);
	for (int i = 1; i < n; i++)
		bad += (uptr)s[i - 1] + size > (uptr)s[i];
	free(s);
	return bad;
}

static void slab_test_cache_macro(void)
{
	struct slab_cache a = SLAB_CACHE(1), b = SLAB_CACHE(8), c = SLAB_CACHE(9), d = SLAB_CACHE(100);
	CHECK_EQ(a.size, 8);
	CHECK_EQ(b.size, 8);
	CHECK_EQ(c.size, 16);
	CHECK_EQ(d.size, 104);
	CHECK(a.partial == NULL);
	CHECK_EQ(a.in_use, 0);
}

/* One page's worth, and one more: distinct, non-overlapping, aligned,
 * inside the pool, zeroed; the (cap+1)-th object takes a second page. */
static void check_one_size(usize objsize)
{
	struct slab_cache c = SLAB_CACHE(objsize);
	usize size = c.size;
	u64 cap = capacity(size);
	int n = (int)cap + 1;
	void **objs = calloc((size_t)n, sizeof(void *));
	int bad_place = 0, not_zero = 0, wrong_count = 0, wrong_page = 0;
	pool_setup();
	for (int i = 0; i < n; i++) {
		objs[i] = slab_alloc(&c);
		bad_place += !well_placed(objs[i], size);
		if (!objs[i])
			continue;
		not_zero += !all_bytes(objs[i], size, 0);
		fill(objs[i], size, (u32)i);
		/* The first cap objects share the first page; then a second page. */
		wrong_count += kmem_free_pages() != (u64)(i < (int)cap ? NPAGES - 1 : NPAGES - 2);
		wrong_page += i < (int)cap ? page_of(objs[i]) != page_of(objs[0])
					   : page_of(objs[i]) == page_of(objs[0]);
	}
	CHECK_MSG(bad_place == 0, "size %lu: %d objects misplaced", size, bad_place);
	CHECK_MSG(not_zero == 0, "size %lu: %d objects not zeroed", size, not_zero);
	CHECK_MSG(wrong_count == 0, "size %lu (capacity %llu): kmem_free_pages wrong after %d allocations",
		  size, (unsigned long long)cap, wrong_count);
	CHECK_MSG(wrong_page == 0, "size %lu: %d objects on the wrong page", size, wrong_page);
	CHECK_MSG(overlaps(objs, n, size) == 0, "size %lu: objects overlap", size);
	CHECK_EQ(c.in_use, (u64)n);
	/* The first object of a fresh page sits right after the 64-byte header. */
	CHECK_EQ(offset_in_page(objs[0]), SLAB_HDR);
	int corrupt = 0;
	for (int i = 0; i < n; i++)
		corrupt += objs[i] && !intact(objs[i], size, (u32)i);
	CHECK_MSG(corrupt == 0, "size %lu: %d objects overwritten", size, corrupt);
	/* The lone object on the second page: freeing it returns that page. */
	slab_free(&c, objs[n - 1]);
	CHECK_EQ(kmem_free_pages(), NPAGES - 1);
	for (int i = 0; i < n - 1; i++)
		slab_free(&c, objs[i]);
	CHECK_EQ(c.in_use, 0);
	CHECK_EQ(kmem_free_pages(), NPAGES);
	CHECK(c.partial == NULL);
	free(objs);
	pool_teardown();
}

static void slab_test_sizes(void)
{
	/* 72 is a mapping-database node; 2016 and 2048 give 2 and 1 per page;
	 * 4032 is the largest size that fits a page. */
	static const usize sizes[] = {1, 8, 16, 24, 40, 64, 72, 100, 128, 1000, 2016, 2048, 4032};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_one_size(sizes[i]);
}

/* The capacity, measured: allocations served before a second page is taken. */
static void slab_test_capacity(void)
{
	static const usize sizes[] = {8, 24, 48, 72, 200, 1344, 2016, 2048, 4032};
	pool_setup();
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct slab_cache c = SLAB_CACHE(sizes[k]);
		void *objs[PAGE_SIZE / 8], *o;
		u64 served = 0;
		objs[served++] = slab_alloc(&c);
		while (served < PAGE_SIZE / 8 && (o = slab_alloc(&c)) != NULL) {
			if (kmem_free_pages() != NPAGES - 1) { /* took a second page */
				slab_free(&c, o);
				break;
			}
			objs[served++] = o;
		}
		CHECK_MSG(served == capacity(c.size), "size %lu: %llu objects per page, want %llu",
			  c.size, (unsigned long long)served, (unsigned long long)capacity(c.size));
		for (u64 i = 0; i < served; i++)
			slab_free(&c, objs[i]);
		CHECK_EQ(c.in_use, 0);
		CHECK_EQ(kmem_free_pages(), NPAGES);
	}
	pool_teardown();
}

/* A freed object comes back zeroed: the page stays live (an anchor object),
 * so the zeroing is the slab's own and not kmem's. */
static void slab_test_zeroed_on_reuse(void)
{
	static const usize sizes[] = {8, 16, 72, 2016};
	pool_setup();
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct slab_cache c = SLAB_CACHE(sizes[k]);
		u64 cap = capacity(c.size);
		void *objs[512];
		int n = (int)(cap < 512 ? cap : 512), dirty = 0;
		for (int i = 0; i < n; i++) {
			objs[i] = slab_alloc(&c);
			memset(objs[i], 0xa5, c.size);
		}
		CHECK_EQ(kmem_free_pages(), NPAGES - 1);
		/* Keep objs[0]; free the rest, and dirty what stays of them. */
		for (int i = 1; i < n; i++)
			slab_free(&c, objs[i]);
		CHECK_EQ(kmem_free_pages(), NPAGES - 1);
		for (int round = 0; round < 3; round++) {
			for (int i = 1; i < n; i++) {
				objs[i] = slab_alloc(&c);
				dirty += !all_bytes(objs[i], c.size, 0);
				memset(objs[i], 0xa5 + round, c.size);
			}
			for (int i = 1; i < n; i++)
				slab_free(&c, objs[i]);
		}
		CHECK_MSG(dirty == 0, "size %lu: %d reused objects not zeroed", c.size, dirty);
		CHECK(all_bytes(objs[0], c.size, 0xa5));
		CHECK_EQ(kmem_free_pages(), NPAGES - 1);
		slab_free(&c, objs[0]);
		CHECK_EQ(kmem_free_pages(), NPAGES);
		CHECK_EQ(c.in_use, 0);
	}
	pool_teardown();
}

/* A page goes back to kmem as soon as its last object is freed, whatever
 * the order of the frees. */
static void slab_test_pages_returned(void)
{
	enum { SIZE = 72, PAGES = 5 };
	struct slab_cache c = SLAB_CACHE(SIZE);
	int cap = (int)capacity(SIZE), n = PAGES * cap;
	void **objs = calloc((size_t)n, sizeof(void *));
	pool_setup();
	for (int order = 0; order < 3; order++) {
		int wrong = 0;
		for (int i = 0; i < n; i++)
			objs[i] = slab_alloc(&c);
		CHECK_EQ(kmem_free_pages(), NPAGES - PAGES);
		CHECK_EQ(c.in_use, (u64)n);
		CHECK(c.partial == NULL); /* every page is full */
		if (order == 0) { /* forwards: a page empties every cap frees */
			for (int i = 0; i < n; i++) {
				slab_free(&c, objs[i]);
				wrong += kmem_free_pages() != (u64)(NPAGES - PAGES + (i + 1) / cap);
			}
		} else if (order == 1) { /* backwards */
			for (int i = n; i-- > 0;) {
				slab_free(&c, objs[i]);
				wrong += kmem_free_pages() != (u64)(NPAGES - PAGES + (n - i) / cap);
			}
		} else { /* interleaved: one object of each page in turn */
			for (int j = 0; j < cap; j++)
				for (int p = 0; p < PAGES; p++) {
					slab_free(&c, objs[p * cap + j]);
					wrong += kmem_free_pages() !=
						 (u64)(NPAGES - PAGES + (j == cap - 1 ? p + 1 : 0));
				}
		}
		CHECK_MSG(wrong == 0, "free order %d: %d wrong kmem_free_pages counts", order, wrong);
		CHECK_EQ(c.in_use, 0);
		CHECK_EQ(kmem_free_pages(), NPAGES);
		CHECK(c.partial == NULL);
	}
	free(objs);
	pool_teardown();
}

/* 10,000 random allocations and frees against a model: the objects keep
 * their contents, in_use follows, and the pages in use are exactly those
 * holding a live object (so kmem_free_pages is NPAGES minus those). */
#define RANDOM_MAX 3000
static void random_run(usize size, int max)
{
	enum { OPS = 10000 };
	struct slab_cache c = SLAB_CACHE(size);
	static void *held[RANDOM_MAX];
	static u32 tags[RANDOM_MAX];
	static int per_page[NPAGES];
	int n = 0, pages = 0, wrong_in_use = 0, wrong_pages = 0, bad = 0, corrupt = 0, nulls = 0;
	int max_pages = 0, returned = 0;
	u32 next_tag = 0;
	pool_setup();
	memset(per_page, 0, sizeof(per_page));
	srand(1);
	for (int op = 0; op < OPS; op++) {
		/* Drift up, down, up, down, up, so pages fill and empty. */
		int bias = (op / 2000) % 2 ? 40 : 65;
		if (n == 0 || (n < max && rand() % 100 < bias)) {
			void *o = slab_alloc(&c);
			if (!o) {
				nulls++;
				continue;
			}
			if (!well_placed(o, size) || !all_bytes(o, size, 0)) {
				bad++;
				continue;
			}
			if (per_page[page_index(o)]++ == 0)
				pages++;
			if (pages > max_pages)
				max_pages = pages;
			tags[n] = next_tag++;
			fill(o, size, tags[n]);
			held[n++] = o;
		} else {
			int k = rand() % n;
			corrupt += !intact(held[k], size, tags[k]);
			if (--per_page[page_index(held[k])] == 0) {
				pages--;
				returned++;
			}
			slab_free(&c, held[k]);
			held[k] = held[n - 1];
			tags[k] = tags[n - 1];
			n--;
		}
		wrong_in_use += c.in_use != (u64)n;
		wrong_pages += kmem_free_pages() != (u64)(NPAGES - pages);
	}
	CHECK_EQ(nulls, 0);
	CHECK_EQ(bad, 0);
	CHECK_EQ(corrupt, 0);
	CHECK_EQ(wrong_in_use, 0);
	CHECK_EQ(wrong_pages, 0);
	CHECK_EQ(overlaps(held, n, size), 0);
	CHECK(n > 0 && returned > 0); /* the run did what it is meant to */
	check_note("size %lu: %d objects on %d pages live at the end, at most %d pages, "
		   "%d pages emptied", size, n, pages, max_pages, returned);
	/* Free the rest in random order too. */
	while (n) {
		int k = rand() % n;
		corrupt += !intact(held[k], size, tags[k]);
		slab_free(&c, held[k]);
		held[k] = held[n - 1];
		tags[k] = tags[n - 1];
		n--;
	}
	CHECK_EQ(corrupt, 0);
	CHECK_EQ(c.in_use, 0);
	CHECK_EQ(kmem_free_pages(), NPAGES);
	CHECK(c.partial == NULL);
	pool_teardown();
}

static void slab_test_random(void)
{
	random_run(48, RANDOM_MAX); /* 84 per page: up to 36 pages */
	random_run(264, 700);       /* 15 per page: up to 47 pages, pages empty often */
}

/* Out of kmem pages: slab_alloc returns NULL, and works again after frees. */
static void slab_test_exhaustion(void)
{
	enum { SIZE = 512 };
	struct slab_cache c = SLAB_CACHE(SIZE);
	int cap = (int)capacity(SIZE), total = NPAGES * cap, got = 0;
	void **objs = calloc((size_t)total + 1, sizeof(void *));
	pool_setup();
	for (int i = 0; i <= total; i++)
		if ((objs[got] = slab_alloc(&c)) != NULL)
			got++;
	CHECK_EQ(got, total);
	CHECK_EQ(kmem_free_pages(), 0);
	CHECK(slab_alloc(&c) == NULL);
	CHECK(slab_alloc(&c) == NULL);
	CHECK_EQ(c.in_use, (u64)total);
	CHECK_EQ(overlaps(objs, got, SIZE), 0);
	/* One free object on a full page: served without kmem. */
	void *o = objs[got / 2];
	slab_free(&c, o);
	CHECK_EQ(kmem_free_pages(), 0);
	void *again = slab_alloc(&c);
	CHECK(again != NULL && well_placed(again, SIZE) && all_bytes(again, SIZE, 0));
	objs[got / 2] = again;
	CHECK(slab_alloc(&c) == NULL);
	/* A whole page back to kmem: the next allocation takes it again. */
	for (int i = 0; i < cap; i++)
		slab_free(&c, objs[i]);
	CHECK_EQ(kmem_free_pages(), 1);
	int refill = 0;
	for (int i = 0; i < cap; i++)
		if ((objs[i] = slab_alloc(&c)) != NULL)
			refill++;
	CHECK_EQ(refill, cap);
	CHECK_EQ(kmem_free_pages(), 0);
	CHECK(slab_alloc(&c) == NULL);
	for (int i = 0; i < total; i++)
		slab_free(&c, objs[i]);
	CHECK_EQ(c.in_use, 0);
	CHECK_EQ(kmem_free_pages(), NPAGES);
	free(objs);
	pool_teardown();
}

/* kmem drained by someone else: a partial page still serves, then NULL;
 * a page given back to kmem makes the slab work again. */
static void slab_test_exhaustion_foreign(void)
{
	enum { SIZE = 1000 };
	struct slab_cache c = SLAB_CACHE(SIZE);
	int cap = (int)capacity(SIZE);
	void *pages[NPAGES], *objs[8];
	int np = 0;
	pool_setup();
	objs[0] = slab_alloc(&c);
	while ((pages[np] = kmem_alloc()) != NULL)
		np++;
	CHECK_EQ(np, NPAGES - 1);
	int served = 1;
	while (served < 8 && (objs[served] = slab_alloc(&c)) != NULL)
		served++;
	CHECK_EQ(served, cap);
	CHECK(slab_alloc(&c) == NULL);
	CHECK_EQ(c.in_use, (u64)cap);
	kmem_free(pages[--np]);
	void *o = slab_alloc(&c);
	CHECK(o != NULL && well_placed(o, SIZE) && page_of(o) == (uptr)pages[np]);
	CHECK_EQ(kmem_free_pages(), 0);
	if (o)
		slab_free(&c, o);
	CHECK_EQ(kmem_free_pages(), 1);
	for (int i = 0; i < served; i++)
		slab_free(&c, objs[i]);
	CHECK_EQ(kmem_free_pages(), 2);
	while (np)
		kmem_free(pages[--np]);
	CHECK_EQ(kmem_free_pages(), NPAGES);
	CHECK_EQ(c.in_use, 0);
	pool_teardown();
}

/* Two caches of different sizes: separate pages, separate counts, and
 * emptying one leaves the other intact. */
static void slab_test_two_caches(void)
{
	enum { N = 300 };
	struct slab_cache a = SLAB_CACHE(24), b = SLAB_CACHE(200);
	void *oa[N], *ob[N];
	int shared = 0, corrupt = 0;
	pool_setup();
	for (int i = 0; i < N; i++) {
		oa[i] = slab_alloc(&a);
		ob[i] = slab_alloc(&b);
		fill(oa[i], 24, (u32)i);
		fill(ob[i], 200, (u32)i + 1000);
	}
	CHECK_EQ(a.in_use, N);
	CHECK_EQ(b.in_use, N);
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++)
			shared += page_of(oa[i]) == page_of(ob[j]);
	CHECK_EQ(shared, 0);
	u64 pa = (N + capacity(24) - 1) / capacity(24), pb = (N + capacity(200) - 1) / capacity(200);
	CHECK_EQ(kmem_free_pages(), NPAGES - pa - pb);
	/* Free every other object of both, then allocate again. */
	for (int i = 0; i < N; i += 2) {
		slab_free(&a, oa[i]);
		slab_free(&b, ob[i]);
	}
	CHECK_EQ(a.in_use, N / 2);
	CHECK_EQ(b.in_use, N / 2);
	for (int i = 0; i < N; i += 2) {
		oa[i] = slab_alloc(&a);
		ob[i] = slab_alloc(&b);
		fill(oa[i], 24, (u32)i);
		fill(ob[i], 200, (u32)i + 1000);
	}
	CHECK_EQ(kmem_free_pages(), NPAGES - pa - pb);
	/* Empty a: its pages go back, b's stay and keep their contents. */
	for (int i = 0; i < N; i++) {
		corrupt += !intact(oa[i], 24, (u32)i);
		slab_free(&a, oa[i]);
	}
	CHECK_EQ(a.in_use, 0);
	CHECK(a.partial == NULL);
	CHECK_EQ(kmem_free_pages(), NPAGES - pb);
	for (int i = 0; i < N; i++)
		corrupt += !intact(ob[i], 200, (u32)i + 1000);
	CHECK_EQ(corrupt, 0);
	CHECK_EQ(b.in_use, N);
	for (int i = 0; i < N; i++)
		slab_free(&b, ob[i]);
	CHECK_EQ(b.in_use, 0);
	CHECK_EQ(kmem_free_pages(), NPAGES);
	pool_teardown();
}

/* Freeing a pointer that is not an object of a live slab page trips the
 * assert in slab_free, before anything changes. */
static void slab_test_free_foreign(void)
{
	static u8 other[2 * 4096] __attribute__((aligned(4096))); /* zeroed, not from kmem */
	struct slab_cache c = SLAB_CACHE(72);
	pool_setup();
	void *o = slab_alloc(&c), *o2 = slab_alloc(&c);
	u8 *page = (u8 *)page_of(o);
	u64 free_before = kmem_free_pages();
	/* Inside the header of a live slab page. */
	CHECK_PANICS(slab_free(&c, page));
	CHECK_PANICS(slab_free(&c, page + 8));
	CHECK_PANICS(slab_free(&c, page + SLAB_HDR - 8));
	/* A page from kmem that is no slab page (its header is zero). */
	u8 *raw = kmem_alloc();
	CHECK_PANICS(slab_free(&c, raw + SLAB_HDR));
	CHECK_PANICS(slab_free(&c, raw + PAGE_SIZE - 72));
	/* Memory outside the pool altogether. */
	CHECK_PANICS(slab_free(&c, other + SLAB_HDR));
	CHECK_PANICS(slab_free(&c, other + PAGE_SIZE + 128));
	kmem_free(raw);
	/* Nothing changed: the cache still works and returns its page. */
	CHECK_EQ(c.in_use, 2);
	CHECK_EQ(kmem_free_pages(), free_before);
	void *o3 = slab_alloc(&c);
	CHECK(o3 != NULL && page_of(o3) == (uptr)page && o3 != o && o3 != o2);
	slab_free(&c, o3);
	slab_free(&c, o2);
	slab_free(&c, o);
	CHECK_EQ(c.in_use, 0);
	CHECK_EQ(kmem_free_pages(), NPAGES);
	/* A double free is caught only when the page's used count is 0, i.e.
	 * after the page went back to kmem, and then its memory belongs to kmem:
	 * undefined, like a double free on a page with other live objects
	 * (used > 0, not detected).  Not tested. */
	check_note("double free not tested: slab_free's assert does not catch it deterministically");
	pool_teardown();
}

void slab_suite(void)
{
	run_test("slab_cache_macro", slab_test_cache_macro);
	run_test("slab_sizes_distinct_aligned_zeroed", slab_test_sizes);
	run_test("slab_capacity_per_page", slab_test_capacity);
	run_test("slab_zeroed_on_reuse", slab_test_zeroed_on_reuse);
	run_test("slab_pages_returned", slab_test_pages_returned);
	run_test("slab_random_ops", slab_test_random);
	run_test("slab_exhaustion", slab_test_exhaustion);
	run_test("slab_exhaustion_foreign", slab_test_exhaustion_foreign);
	run_test("slab_two_caches", slab_test_two_caches);
	run_test("slab_free_foreign_asserts", slab_test_free_foreign);
}
