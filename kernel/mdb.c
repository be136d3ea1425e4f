/*
 * The mapping database: for every mapping made by IPC, a node that records
 * from which mapping it was derived, so that unmap can revoke recursively.
 *
 * Mappings that no map item made -- sigma0's one-to-one memory and the boot
 * tasks' images -- have no node: they are the roots.  Each frame has one root
 * holder, so a node without a parent derives from that frame's root.
 *
 * Nodes are found through their frame: a radix table indexed by physical
 * frame number holds, per frame, a list of the nodes that map it (a 2 MiB
 * node is listed under its first frame).  Walks of a subtree are iterative:
 * derivation chains may be long and the kernel stack is small.
 *
 * A 2 MiB mapping stays whole: its children may be 2 MiB or 4 KiB, but an
 * operation on part of a derived 2 MiB mapping (unmap of a smaller fpage,
 * a 4 KiB map into the middle of it) applies to the whole of it.  Root
 * mappings are split into 4 KiB leaves instead, since they have no nodes.
 */
#include "mdb.h"
#include "slab.h"
#include "thread.h"
#include "arch/x86_64/paging.h"

struct mnode {
	struct space *space;
	u64 va;          /* start of the mapping */
	u64 pfn;         /* first frame */
	struct mnode *parent, *child, *next, *prev; /* derivation tree */
	struct mnode *fnext;                        /* the frame's list */
	u32 order;       /* 0: 4 KiB, 9: 2 MiB */
};

static struct slab_cache node_cache = SLAB_CACHE(sizeof(struct mnode));

/* ---- frame table: pfn -> list of nodes (3 levels, 2^28 frames) ---------- */

#define FT_L1_SIZE 1024
static struct mnode ***frame_table[FT_L1_SIZE];

static struct mnode **frame_head(u64 pfn, bool alloc)
{
	u64 i1 = pfn >> 18, i2 = (pfn >> 9) & 511, i3 = pfn & 511;
	if (i1 >= FT_L1_SIZE)
		return NULL;
	if (!frame_table[i1]) {
		if (!alloc || !(frame_table[i1] = kmem_alloc()))
			return NULL;
	}
	struct mnode ***l2 = frame_table[i1];
	if (!l2[i2]) {
		if (!alloc || !(l2[i2] = kmem_alloc()))
			return NULL;
	}
	return &l2[i2][i3];
}

void mdb_init(u64 max_phys)
{
	for (u64 pfn = 0; pfn < max_phys >> 12; pfn += 512)
		if (!frame_head(pfn, true))
			panic("no memory for the mapping database");
}

/* ---- nodes ---------------------------------------------------------------- */

static struct mnode *find_node(struct space *s, u64 va, u64 pa, unsigned order)
{
	struct mnode **h = frame_head(pa >> 12, false);
	for (struct mnode *n = h ? *h : NULL; n; n = n->fnext)
		if (n->space == s && n->va == va && n->order == order)
			return n;
	return NULL;
}

static struct mnode *node_of(struct space *s, const struct pt_leaf *l)
{
	return find_node(s, l->base, l->pa, l->order);
}

static struct mnode *node_create(struct mnode *parent, struct space *s, u64 va, u64 pa, unsigned order)
{
	struct mnode **h = frame_head(pa >> 12, true);
	if (!h || !kmem_charge(s, sizeof(struct mnode)))
		return NULL;
	struct mnode *n = slab_alloc(&node_cache);
	if (!n) {
		kmem_uncharge(s, sizeof(struct mnode));
		return NULL;
	}
	n->space = s;
	n->va = va;
	n->pfn = pa >> 12;
	n->order = order;
	n->fnext = *h;
	*h = n;
	n->parent = parent;
	if (parent) {
		n->next = parent->child;
		if (parent->child)
			parent->child->prev = n;
		parent->child = n;
	}
	return n;
}

static void unlink_sibling(struct mnode *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else if (n->parent)
		n->parent->child = n->next;
	if (n->next)
		n->next->prev = n->prev;
	n->next = n->prev = NULL;
}

/* Free a node that has no children left. */
static void node_destroy(struct mnode *n)
{
	assert(!n->child);
	unlink_sibling(n);
	struct mnode **pp = frame_head(n->pfn, false);
	while (*pp != n)
		pp = &(*pp)->fnext;
	*pp = n->fnext;
	kmem_uncharge(n->space, sizeof(struct mnode));
	slab_free(&node_cache, n);
}

/* ---- acting on the hardware mapping of a node ------------------------------ */

static u64 *node_entry(struct mnode *n)
{
	struct pt_leaf l;
	bool found = pt_find(n->space->pml4, n->va, &l);
	assert(found && l.order == n->order);
	(void)found;
	return l.entry;
}

static unsigned status_bits(u64 e)
{
	return ((e & PTE_A) ? L4_UNMAP_REFERENCED : 0) | ((e & PTE_D) ? L4_UNMAP_DIRTY : 0);
}

/* Take rights (L4_W, L4_X) away from one mapping, or remove it when mask
 * holds L4_R.  A node being removed must have no children left. */
static unsigned apply(struct mnode *n, struct space *s, u64 *entry, u64 va, unsigned mask)
{
	u64 e = *entry;
	unsigned status = status_bits(e);
	if (mask & L4_R) {
		*entry = 0;
		if (n)
			node_destroy(n);
	} else {
		if (mask & L4_W)
			e &= ~PTE_W;
		if ((mask & L4_X) && cpu.nx)
			e |= PTE_NX;
		*entry = e;
	}
	space_mapping_changed(s, va);
	return status;
}

static unsigned apply_node(struct mnode *n, unsigned mask)
{
	return apply(n, n->space, node_entry(n), n->va, mask);
}

static struct mnode *deepest_first(struct mnode *n)
{
	while (n->child)
		n = n->child;
	return n;
}

/* Apply mask to every mapping derived from n (not n itself), children
 * before parents so that removal always meets leaves. */
static unsigned revoke_below(struct mnode *n, unsigned mask)
{
	unsigned status = 0;
	struct mnode *cur = n->child ? deepest_first(n->child) : NULL;
	while (cur) {
		struct mnode *next = cur->next ? deepest_first(cur->next) : cur->parent == n ? NULL : cur->parent;
		status |= apply_node(cur, mask);
		cur = next;
	}
	return status;
}

static unsigned revoke_tree(struct mnode *n, unsigned mask)
{
	unsigned status = revoke_below(n, mask);
	return status | apply_node(n, mask);
}

/* Apply mask to the top-level nodes in one frame's list (only 2 MiB ones
 * if big_only), each with its subtree. */
static unsigned revoke_top_level(struct mnode **h, unsigned mask, bool big_only)
{
	unsigned status = 0;
	struct mnode *n = h ? *h : NULL;
	while (n) {
		if (!n->parent && (!big_only || n->order == 9)) {
			status |= revoke_tree(n, mask);
			if (mask & L4_R) { /* the list changed under us: start over */
				n = *h;
				continue;
			}
		}
		n = n->fnext;
	}
	return status;
}

/* The mappings derived directly from the root mapping of [pa, pa + size):
 * top-level nodes listed under those frames, and a top-level 2 MiB node
 * listed under the start of the 2 MiB frame around them. */
static unsigned revoke_root_children(u64 pa, u64 size, unsigned mask)
{
	unsigned status = 0;
	for (u64 pfn = pa >> 12; pfn < (pa + size) >> 12; pfn++)
		status |= revoke_top_level(frame_head(pfn, false), mask, false);
	u64 big = (pa & ~0x1fffffull) >> 12;
	if (big != pa >> 12)
		status |= revoke_top_level(frame_head(big, false), mask, true);
	return status;
}

/* Everything derived from the leaf l of space s, and with self l itself. */
static unsigned revoke_leaf(struct space *s, struct pt_leaf *l, unsigned mask, bool self)
{
	struct mnode *n = node_of(s, l);
	if (n)
		return self ? revoke_tree(n, mask) : revoke_below(n, mask);
	unsigned status = revoke_root_children(l->pa, PAGE_SIZE << l->order, mask);
	if (self)
		status |= apply(NULL, s, l->entry, l->base, mask);
	return status;
}

/* ---- map and grant ----------------------------------------------------------- */

/* Make room for a leaf of the given order at dst:va.  An existing mapping
 * of the same frame derived from the same source is kept (returned in
 * *keep) and only gains rights -- except for a grant, which replaces it. */
static bool clear_destination(struct space *dst, u64 va, unsigned order, u64 pa, struct mnode *src, bool grant,
			      u64 **keep)
{
	u64 end = va + (PAGE_SIZE << order);
	*keep = NULL;
	for (u64 a = pt_next_mapped(dst->pml4, va, end); a < end; a = pt_next_mapped(dst->pml4, a, end)) {
		struct pt_leaf l;
		pt_find(dst->pml4, a, &l);
		struct mnode *n = node_of(dst, &l);
		if (!grant && l.order == order && l.pa == pa && n && n->parent == src) {
			*keep = l.entry;
			return true;
		}
		if (!n && l.order > order) { /* a root mapping: split it */
			if (!pt_split_2m(dst->pml4, a))
				return false;
			continue;
		}
		revoke_leaf(dst, &l, L4_RWX, true);
		a = l.base + (PAGE_SIZE << l.order);
	}
	if (order) {
		pt_free_empty_table(dst->pml4, va);
		space_mapping_changed(dst, va);
	}
	return true;
}

/* Hand the source's place in the tree to the new node (grant). */
static void take_over(struct mnode *from, struct mnode *to)
{
	while (from->child) {
		struct mnode *c = from->child;
		unlink_sibling(c);
		c->parent = to;
		c->next = to->child;
		if (to->child)
			to->child->prev = c;
		to->child = c;
	}
}

enum l4_ipc_error mdb_map(struct space *src, u64 sva, struct space *dst, u64 dva, unsigned order, unsigned rights,
			  bool grant)
{
	struct pt_leaf sl;
	if (!pt_find(src->pml4, sva, &sl))
		return L4_IPC_OK;
	u64 pa = sl.pa + (sva - sl.base);
	rights &= pt_entry_rights(*sl.entry);
	if (!rights || (src == dst && sva == dva))
		return L4_IPC_OK; /* nothing to give, or onto itself */
	if (grant && (order != sl.order || sva != sl.base))
		return L4_IPC_MAPFAIL; /* grant moves whole mappings only */
	struct mnode *sn = node_of(src, &sl);
	u64 attr = *sl.entry & (PTE_PCD | PTE_PWT);
	u64 *keep;
	if (!clear_destination(dst, dva, order, pa, sn, grant, &keep))
		return L4_IPC_MAPFAIL;
	/* Clearing the destination may have revoked the source itself (the
	 * destination was the source, or an ancestor of it): look again. */
	if (!pt_find(src->pml4, sva, &sl) || sl.pa + (sva - sl.base) != pa || node_of(src, &sl) != sn)
		return L4_IPC_MAPFAIL;
	if (keep) {
		*keep |= pt_make_entry(pa, rights | pt_entry_rights(*keep), attr, order) & PTE_W;
		if ((rights & L4_X) && cpu.nx)
			*keep &= ~PTE_NX;
		return L4_IPC_OK;
	}
	u64 *slot = pt_slot(dst->pml4, dva, order);
	struct mnode *n = slot ? node_create(grant ? (sn ? sn->parent : NULL) : sn, dst, dva, pa, order) : NULL;
	if (!n)
		return L4_IPC_MAPFAIL;
	*slot = pt_make_entry(pa, rights, attr, order);
	if (grant) {
		if (sn) {
			take_over(sn, n);
			node_destroy(sn);
		}
		*sl.entry = 0;
		space_mapping_changed(src, sl.base);
	}
	return L4_IPC_OK;
}

/* ---- unmap and task deletion ------------------------------------------------- */

/* Apply mask to the children of n that map frames in [pa, end), with their
 * subtrees: the part of a 2 MiB mapping that an unmap names. */
static unsigned revoke_children_in(struct mnode *n, u64 pa, u64 end, unsigned mask)
{
	unsigned status = 0;
	for (struct mnode *c = n->child, *next; c; c = next) {
		next = c->next;
		u64 cpa = c->pfn << 12;
		if (cpa < end && pa < cpa + (PAGE_SIZE << c->order))
			status |= revoke_tree(c, mask);
	}
	return status;
}

/* Turn a 2 MiB mapping that nothing derives from into 512 4 KiB ones. */
static bool demote(struct mnode *n, const struct pt_leaf *l)
{
	int i;
	for (i = 0; i < 512; i++)
		if (!node_create(n->parent, n->space, l->base + i * PAGE_SIZE, l->pa + i * PAGE_SIZE, 0))
			break;
	if (i < 512 || !pt_split_2m(n->space->pml4, l->base)) {
		while (i-- > 0)
			node_destroy(find_node(n->space, l->base + i * PAGE_SIZE, l->pa + i * PAGE_SIZE, 0));
		return false;
	}
	space_mapping_changed(n->space, l->base);
	node_destroy(n);
	return true;
}

unsigned mdb_unmap(struct space *s, u64 base, u64 size, unsigned mask, bool self)
{
	unsigned status = 0;
	u64 end = base + size;
	for (u64 a = pt_next_mapped(s->pml4, base, end); a < end; a = pt_next_mapped(s->pml4, a, end)) {
		struct pt_leaf l;
		pt_find(s->pml4, a, &l);
		u64 lend = l.base + (PAGE_SIZE << l.order);
		u64 from = l.base > base ? l.base : base, to = lend < end ? lend : end;
		bool partial = from != l.base || to != lend;
		struct mnode *n = node_of(s, &l);
		status |= status_bits(*l.entry);
		if (partial && self && (!n || (!n->child && demote(n, &l)))) {
			if (!n && !pt_split_2m(s->pml4, a))
				break; /* out of memory: leave the rest as it is */
			space_mapping_changed(s, a);
			continue; /* now in 4 KiB leaves */
		}
		if (n && partial && !self)
			status |= revoke_children_in(n, l.pa + (from - l.base), l.pa + (to - l.base), mask);
		else if (n) /* a derived 2 MiB mapping with children is revoked whole */
			status |= self ? revoke_tree(n, mask) : revoke_below(n, mask);
		else
			status |= revoke_root_children(l.pa + (from - l.base), to - from, mask);
		if (!n && self)
			status |= apply(NULL, s, l.entry, l.base, mask);
		a = lend;
	}
	return status;
}

void mdb_space_destroyed(struct space *s)
{
	for (u64 a = pt_next_mapped(s->pml4, 0, L4_USER_MAP_END); a < L4_USER_MAP_END;
	     a = pt_next_mapped(s->pml4, a, L4_USER_MAP_END)) {
		struct pt_leaf l;
		pt_find(s->pml4, a, &l);
		struct mnode *n = node_of(s, &l);
		if (n)
			revoke_tree(n, L4_RWX);
		a = l.base + (PAGE_SIZE << l.order);
	}
}

