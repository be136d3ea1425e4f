/* The thread-ID table (see tidtab.h).  Number 0 is never used, so that the
 * nil ID can never name a thread. */
#include "tidtab.h"

void tidtab_init(struct tidtab *t)
{
	for (u32 i = 0; i < L4_MAX_THREADS; i++) {
		t->obj[i] = NULL;
		t->version[i] = 0;
	}
	t->hint = 1;
}

static u16 next_version(u16 v) { return v == 0xffff ? 1 : v + 1; }

l4_tid_t tidtab_alloc(struct tidtab *t, l4_tid_t want, void *obj, int *err)
{
	if (want != L4_NILTHREAD) {
		u64 num = L4_TID_NUMBER(want), ver = L4_TID_VERSION(want);
		if (want >> 32 || num == 0 || num >= L4_MAX_THREADS || ver == 0) {
			*err = L4_EINVAL_TID;
			return L4_NILTHREAD;
		}
		if (t->obj[num]) {
			*err = L4_EEXIST;
			return L4_NILTHREAD;
		}
		if (ver <= t->version[num]) { /* would bring a stale ID back to life */
			*err = L4_EINVAL_TID;
			return L4_NILTHREAD;
		}
		t->obj[num] = obj;
		t->version[num] = (u16)ver;
		return want;
	}
	for (u32 k = 0; k < L4_MAX_THREADS - 1; k++) {
		u32 num = 1 + (t->hint - 1 + k) % (L4_MAX_THREADS - 1);
		if (!t->obj[num]) {
			t->obj[num] = obj;
			t->version[num] = next_version(t->version[num]);
			t->hint = num % (L4_MAX_THREADS - 1) + 1;
			return L4_TID_MAKE(num, t->version[num]);
		}
	}
	*err = L4_ENOMEM;
	return L4_NILTHREAD;
}

void tidtab_free(struct tidtab *t, l4_tid_t tid)
{
	u64 num = L4_TID_NUMBER(tid);
	if (tidtab_lookup(t, tid)) /* also checks the number */
		t->obj[num] = NULL;
}
