/* kernel/tidtab.c: the thread-ID table with versions. */
#include <stdlib.h>

#include "check.h"
#include "../../kernel/tidtab.h"

#define USABLE (L4_MAX_THREADS - 1) /* number 0 is never used */

static struct tidtab *tab;
static int objs[L4_MAX_THREADS]; /* distinct addresses to store */

static void tab_setup(void)
{
	free(tab); /* left over when a test panicked */
	tab = malloc(sizeof(*tab));
	tidtab_init(tab);
}

static void tab_teardown(void)
{
	free(tab);
	tab = NULL;
}

static l4_tid_t alloc_any(void *obj, int *err)
{
	*err = -1;
	return tidtab_alloc(tab, L4_NILTHREAD, obj, err);
}

static void tidtab_test_basic(void)
{
	int err;
	tab_setup();
	l4_tid_t t = alloc_any(&objs[1], &err);
	CHECK(t != L4_NILTHREAD);
	CHECK(L4_TID_NUMBER(t) != 0);
	CHECK(L4_TID_VERSION(t) != 0);
	CHECK_EQ(t >> 32, 0);
	CHECK_PTR(tidtab_lookup(tab, t), &objs[1]);
	l4_tid_t u = alloc_any(&objs[2], &err);
	CHECK(u != t && L4_TID_NUMBER(u) != L4_TID_NUMBER(t));
	tidtab_free(tab, t);
	CHECK(tidtab_lookup(tab, t) == NULL);
	CHECK_PTR(tidtab_lookup(tab, u), &objs[2]);
	tidtab_free(tab, t); /* double free: harmless */
	CHECK_PTR(tidtab_lookup(tab, u), &objs[2]);
	tab_teardown();
}

/* Fills the table; returns how many distinct, well-formed IDs came back. */
static int fill(l4_tid_t *ids)
{
	static bool seen[L4_MAX_THREADS];
	int good = 0, err;
	for (int i = 0; i < L4_MAX_THREADS; i++)
		seen[i] = false;
	for (int i = 0; i < USABLE; i++) {
		l4_tid_t t = ids[i] = alloc_any(&objs[i], &err);
		u64 num = L4_TID_NUMBER(t);
		if (t == L4_NILTHREAD || num == 0 || num >= L4_MAX_THREADS || seen[num] ||
		    L4_TID_VERSION(t) == 0 || t >> 32 || tidtab_lookup(tab, t) != &objs[i])
			continue;
		seen[num] = true;
		good++;
	}
	return good;
}

static void tidtab_test_exhaustion(void)
{
	static l4_tid_t ids[USABLE];
	int err;
	tab_setup();
	CHECK_EQ(fill(ids), USABLE);
	CHECK_EQ(alloc_any(&objs[0], &err), L4_NILTHREAD);
	CHECK_EQ(err, L4_ENOMEM);
	CHECK_EQ(alloc_any(&objs[0], &err), L4_NILTHREAD);
	CHECK_EQ(err, L4_ENOMEM);
	tab_teardown();
}

/* In a full table, the one freed number is found wherever it lies
 * relative to the search hint, and comes back with the next version. */
static void tidtab_test_last_free(void)
{
	static l4_tid_t ids[USABLE];
	int err, wrong = 0, stale = 0;
	tab_setup();
	fill(ids);
	for (int i = USABLE - 1; i >= 0; i--) { /* every distance from the hint */
		tidtab_free(tab, ids[i]);
		l4_tid_t t = alloc_any(&objs[i], &err);
		wrong += t != L4_TID_MAKE(L4_TID_NUMBER(ids[i]), L4_TID_VERSION(ids[i]) + 1);
		stale += tidtab_lookup(tab, ids[i]) != NULL;
		wrong += tidtab_lookup(tab, t) != &objs[i];
	}
	CHECK_EQ(wrong, 0);
	CHECK_EQ(stale, 0);
	CHECK_EQ(alloc_any(&objs[0], &err), L4_NILTHREAD);
	CHECK_EQ(err, L4_ENOMEM);
	tab_teardown();
}

/* Every reuse of a number bumps its version; stale IDs are rejected. */
static void tidtab_test_versions(void)
{
	static l4_tid_t a[USABLE], b[USABLE];
	static u16 old_version[L4_MAX_THREADS];
	int bumped = 0, stale_ok = 0;
	tab_setup();
	fill(a);
	for (int i = 0; i < USABLE; i++) {
		old_version[L4_TID_NUMBER(a[i]) % L4_MAX_THREADS] = (u16)L4_TID_VERSION(a[i]);
		tidtab_free(tab, a[i]);
	}
	CHECK_EQ(fill(b), USABLE);
	for (int i = 0; i < USABLE; i++) {
		bumped += L4_TID_VERSION(b[i]) == old_version[L4_TID_NUMBER(b[i]) % L4_MAX_THREADS] + 1u;
		stale_ok += tidtab_lookup(tab, a[i]) != NULL;
	}
	CHECK_EQ(bumped, USABLE);
	CHECK_EQ(stale_ok, 0);
	tab_teardown();
}

/* Freeing a stale ID must not free the number's new owner. */
static void tidtab_test_stale_free(void)
{
	int err;
	tab_setup();
	l4_tid_t old = tidtab_alloc(tab, L4_TID_MAKE(9, 1), &objs[1], &err);
	tidtab_free(tab, old);
	l4_tid_t cur = tidtab_alloc(tab, L4_TID_MAKE(9, 2), &objs[2], &err);
	CHECK_EQ(cur, L4_TID_MAKE(9, 2));
	tidtab_free(tab, old);
	CHECK_PTR(tidtab_lookup(tab, cur), &objs[2]);
	CHECK(tidtab_lookup(tab, old) == NULL);
	tidtab_free(tab, L4_TID_MAKE(9, 2) | 1ull << 40); /* garbage high bits */
	tidtab_free(tab, L4_ANYTHREAD);
	tidtab_free(tab, L4_TID_MAKE(L4_MAX_THREADS, 2));
	CHECK_PTR(tidtab_lookup(tab, cur), &objs[2]);
	tab_teardown();
}

static l4_tid_t alloc_want(l4_tid_t want, int *err)
{
	*err = -1;
	return tidtab_alloc(tab, want, &objs[7], err);
}

static void tidtab_test_explicit(void)
{
	int err;
	tab_setup();
	CHECK_EQ(alloc_want(L4_TID_MAKE(7, 3), &err), L4_TID_MAKE(7, 3));
	CHECK_PTR(tidtab_lookup(tab, L4_TID_MAKE(7, 3)), &objs[7]);
	CHECK(tidtab_lookup(tab, L4_TID_MAKE(7, 2)) == NULL);
	CHECK(tidtab_lookup(tab, L4_TID_MAKE(7, 4)) == NULL);
	CHECK_EQ(alloc_want(L4_TID_MAKE(7, 3), &err), L4_NILTHREAD);
	CHECK_EQ(err, L4_EEXIST);
	CHECK_EQ(alloc_want(L4_TID_MAKE(7, 9), &err), L4_NILTHREAD);
	CHECK_EQ(err, L4_EEXIST);
	CHECK_EQ(alloc_want(L4_TID_MAKE(L4_MAX_THREADS - 1, 0xffff), &err),
		 L4_TID_MAKE(L4_MAX_THREADS - 1, 0xffff));
	CHECK_PTR(tidtab_lookup(tab, L4_TID_MAKE(7, 3)), &objs[7]);
	tab_teardown();
}

static void check_einval(l4_tid_t want, int line)
{
	int err;
	l4_tid_t t = alloc_want(want, &err);
	check_at(t == L4_NILTHREAD && err == L4_EINVAL_TID, __FILE__, line,
		 "alloc of 0x%llx: got 0x%llx err %d, want nil err L4_EINVAL_TID", want, t, err);
}

static void tidtab_test_explicit_invalid(void)
{
	tab_setup();
	check_einval(L4_TID_MAKE(5, 0), __LINE__);             /* version 0 */
	check_einval(L4_TID_MAKE(0, 1), __LINE__);             /* number 0 */
	check_einval(L4_TID_MAKE(5, 1) | 1ull << 32, __LINE__); /* bits above 32 */
	check_einval(L4_TID_MAKE(5, 1) | 1ull << 63, __LINE__);
	check_einval(L4_ANYTHREAD, __LINE__);
	CHECK(tidtab_lookup(tab, L4_TID_MAKE(5, 1)) == NULL);
	/* A number beyond the table (bits 16..31 allow up to 0xffff). */
	check_einval(L4_TID_MAKE(L4_MAX_THREADS, 1), __LINE__);
	tab_teardown();
}

/* Auto allocation skips numbers taken explicitly. */
static void tidtab_test_mixed(void)
{
	int err, clash = 0;
	tab_setup();
	for (int n = 1; n < 20; n += 2)
		alloc_want(L4_TID_MAKE(n, 5), &err);
	for (int i = 0; i < USABLE - 10; i++) {
		l4_tid_t t = alloc_any(&objs[0], &err);
		clash += t == L4_NILTHREAD || (L4_TID_NUMBER(t) < 20 && L4_TID_NUMBER(t) % 2);
	}
	CHECK_EQ(clash, 0);
	CHECK_EQ(alloc_any(&objs[0], &err), L4_NILTHREAD);
	CHECK_EQ(err, L4_ENOMEM);
	CHECK_PTR(tidtab_lookup(tab, L4_TID_MAKE(13, 5)), &objs[7]);
	tab_teardown();
}

static void tidtab_test_lookup_garbage(void)
{
	int err;
	tab_setup();
	l4_tid_t t = alloc_any(&objs[3], &err);
	CHECK(tidtab_lookup(tab, L4_NILTHREAD) == NULL);
	CHECK(tidtab_lookup(tab, L4_ANYTHREAD) == NULL);
	CHECK(tidtab_lookup(tab, t | 1ull << 32) == NULL);
	CHECK(tidtab_lookup(tab, t | 0xffffffff00000000ull) == NULL);
	CHECK(tidtab_lookup(tab, 0x123456789abcdef0ull) == NULL);
	CHECK(tidtab_lookup(tab, L4_TID_VERSION(t)) == NULL); /* number 0 */
	CHECK(tidtab_lookup(tab, L4_TID_MAKE(L4_TID_NUMBER(t), 0)) == NULL);
	CHECK(tidtab_lookup(tab, L4_TID_MAKE(L4_MAX_THREADS, 1)) == NULL);
	CHECK(tidtab_lookup(tab, L4_TID_MAKE(0xffff, 0xffff)) == NULL);
	CHECK(tidtab_lookup(tab, L4_TID_MAKE(L4_TID_NUMBER(t) + 1, 1)) == NULL);
	CHECK_PTR(tidtab_lookup(tab, t), &objs[3]);
	tab_teardown();
}

/* Version 0xffff wraps to 1, never to 0. */
static void tidtab_test_version_wrap(void)
{
	static l4_tid_t ids[USABLE];
	int err, wrapped = 0;
	tab_setup();
	for (int n = 1; n < L4_MAX_THREADS; n++) {
		alloc_want(L4_TID_MAKE(n, 0xffff), &err);
		tidtab_free(tab, L4_TID_MAKE(n, 0xffff));
	}
	CHECK_EQ(fill(ids), USABLE);
	for (int i = 0; i < USABLE; i++)
		wrapped += L4_TID_VERSION(ids[i]) == 1;
	CHECK_EQ(wrapped, USABLE);
	CHECK(tidtab_lookup(tab, L4_TID_MAKE(L4_TID_NUMBER(ids[0]), 0xffff)) == NULL);
	tab_teardown();
}

void tidtab_suite(void)
{
	run_test("tidtab_basic", tidtab_test_basic);
	run_test("tidtab_exhaustion", tidtab_test_exhaustion);
	run_test("tidtab_last_free_number", tidtab_test_last_free);
	run_test("tidtab_version_bump", tidtab_test_versions);
	run_test("tidtab_stale_free", tidtab_test_stale_free);
	run_test("tidtab_explicit", tidtab_test_explicit);
	run_test("tidtab_explicit_invalid", tidtab_test_explicit_invalid);
	run_test("tidtab_explicit_and_auto", tidtab_test_mixed);
	run_test("tidtab_lookup_garbage", tidtab_test_lookup_garbage);
	run_test("tidtab_version_wrap", tidtab_test_version_wrap);
}
