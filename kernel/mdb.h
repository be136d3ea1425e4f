/* The mapping database (mdb.c): the derivation tree of every mapping made
 * by IPC, for recursive unmap. */
#ifndef MDB_H
#define MDB_H

#include <l4/abi.h>

struct space;
struct pt_leaf;

/* Frame lists for all RAM below max_phys, allocated at boot. */
void mdb_init(u64 max_phys);
/* Map (or grant) the source's mapping at sva, as a leaf of the given order
 * (0: 4 KiB, 9: 2 MiB), to dst at dva, with at most `rights`. */
enum l4_ipc_error mdb_map(struct space *src, u64 sva, struct space *dst, u64 dva, unsigned order, unsigned rights,
			  bool grant);
/* Take the rights in mask from everything derived from s's mappings in
 * [base, base + size); L4_R in mask removes the mappings.  With self,
 * s's own mappings too.  Returns L4_UNMAP_REFERENCED/DIRTY. */
unsigned mdb_unmap(struct space *s, u64 base, u64 size, unsigned mask, bool self);
/* s is going away: revoke what it holds and all derived from it. */
void mdb_space_destroyed(struct space *s);

#endif
