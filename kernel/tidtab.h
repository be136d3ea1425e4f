/* The thread-ID table: thread numbers index a table of objects; each slot
 * keeps a version that is bumped on reuse so stale IDs are rejected. */
#ifndef TIDTAB_H
#define TIDTAB_H

#include <l4/abi.h>

struct tidtab {
	void *obj[L4_MAX_THREADS];
	u16 version[L4_MAX_THREADS];
	u32 hint;
};

void tidtab_init(struct tidtab *t);
/* Reserve an ID.  want == nil: any free number with the next version;
 * otherwise exactly that number and version (version must be non-zero).
 * A chosen version must exceed every earlier one of that number, so that a
 * stale ID never names a thread again.
 * Returns the ID, or nil with *err set (L4_EEXIST, L4_EINVAL_TID, L4_ENOMEM). */
l4_tid_t tidtab_alloc(struct tidtab *t, l4_tid_t want, void *obj, int *err);
void tidtab_free(struct tidtab *t, l4_tid_t tid);
/* The object named by tid, or NULL for an unknown or stale ID. */
static inline void *tidtab_lookup(const struct tidtab *t, l4_tid_t tid)
{
	u64 num = L4_TID_NUMBER(tid);
	if (tid >> 32 || num == 0 || num >= L4_MAX_THREADS)
		return NULL;
	if (!t->obj[num] || t->version[num] != L4_TID_VERSION(tid))
		return NULL;
	return t->obj[num];
}

#endif
