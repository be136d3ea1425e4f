/*
 * Tasks (address spaces).  Each has its own PML4 and, where the CPU has
 * them, its own PCID, so that switching spaces does not flush the TLB: a
 * space is flushed only when a mapping it holds was changed while it was
 * not loaded, or when it inherits a PCID from a deleted space.
 */
#include "thread.h"
#include "kip.h"
#include "arch/x86_64/paging.h"
#include "mdb.h"

#define PCID_COUNT 4096

struct space *loaded_space;
struct space *all_spaces;
static u64 pcid_bitmap[PCID_COUNT / 64] = { 1 }; /* PCID 0: the kernel's own tables */
static u64 next_space_id = 1;

static u16 pcid_alloc(void)
{
	if (!cpu.pcid)
		return 0;
	for (int w = 0; w < PCID_COUNT / 64; w++) {
		if (~pcid_bitmap[w]) {
			int b = __builtin_ctzll(~pcid_bitmap[w]);
			pcid_bitmap[w] |= 1ull << b;
			return (u16)(w * 64 + b);
		}
	}
	return 0; /* shared PCID 0: flushed on every load */
}

static void pcid_free(u16 pcid)
{
	if (pcid)
		pcid_bitmap[pcid / 64] &= ~(1ull << (pcid % 64));
}

/* ---- kernel memory accounting ----------------------------------------------
 * Every kernel object made for a task is charged to it: its threads (TCB
 * and UTCB page, FPU area), its space (struct and PML4 page), its page
 * tables, the mapping-database nodes of mappings in it, its I/O bitmap.
 * A task's total includes the totals of the tasks it created, so a limit
 * bounds a task with everything below it.  Privileged tasks have no limit;
 * the others together may use all but KMEM_RESERVE_DIV-th of the pool,
 * which stays for sigma0 and the root task. */
#define KMEM_RESERVE_DIV 8
#define KMEM_DEFAULT_DIV 4 /* a task created by a privileged task: 1/4 of the pool */
static u64 unprivileged_bytes;

static u64 unprivileged_cap; /* bytes; set when the first task is made */

bool kmem_charge(struct space *s, u64 bytes)
{
	if (!s || s->privileged)
		return true;
	if (unprivileged_bytes + bytes > unprivileged_cap)
		return false;
	for (struct space *a = s; a && !a->privileged; a = a->owner)
		if (a->kmem_total + bytes > a->kmem_limit)
			return false;
	unprivileged_bytes += bytes;
	s->kmem_own += bytes;
	for (struct space *a = s; a && !a->privileged; a = a->owner)
		a->kmem_total += bytes;
	return true;
}

void kmem_uncharge(struct space *s, u64 bytes)
{
	if (!s || s->privileged)
		return;
	assert(s->kmem_own >= bytes && unprivileged_bytes >= bytes);
	unprivileged_bytes -= bytes;
	s->kmem_own -= bytes;
	for (struct space *a = s; a && !a->privileged; a = a->owner)
		a->kmem_total -= bytes;
}

static struct space *pt_charged; /* the last task pt_charge found */

static struct space *space_of_pml4(u64 *pml4)
{
	if (pt_charged && pt_charged->pml4 == pml4)
		return pt_charged;
	for (struct space *s = all_spaces; s; s = s->next_space)
		if (s->pml4 == pml4)
			return pt_charged = s;
	return NULL; /* the kernel's own tables */
}

/* paging.c's hook for the page tables of a task's address space. */
bool pt_charge(u64 *pml4, s64 pages)
{
	struct space *s = space_of_pml4(pml4);
	if (pages < 0) {
		kmem_uncharge(s, (u64)-pages * PAGE_SIZE);
		return true;
	}
	return kmem_charge(s, (u64)pages * PAGE_SIZE);
}

/* s's limit (pages; ~0: unchanged); *used_pages gets its total.  An
 * unprivileged caller may set it for a task it controls other than its
 * own, and not above its own limit. */
int space_set_kmem_limit(struct space *caller, struct space *s, u64 pages, u64 *used_pages)
{
	*used_pages = (s->kmem_total + PAGE_SIZE - 1) / PAGE_SIZE;
	if (pages == ~0ull)
		return L4_OK;
	if (s->privileged)
		return L4_EINVAL;
	if (!caller->privileged && (caller == s || pages > caller->kmem_limit / PAGE_SIZE))
		return L4_ENOPERM;
	if (pages > kmem_total_pages())
		return L4_EINVAL;
	s->kmem_limit = pages * PAGE_SIZE;
	return L4_OK;
}

/* What a task still holds when it goes: its own two pages (tables were
 * uncharged as they were freed).  Its total also holds the tasks it
 * created: those leave the totals above it now and are accounted for
 * themselves until they are reaped. */
static void space_account_destroyed(struct space *s)
{
	kmem_uncharge(s, 2 * PAGE_SIZE);
	assert(s->privileged || s->kmem_own == 0);
	for (struct space *a = s->owner; a && !a->privileged; a = a->owner)
		a->kmem_total -= s->kmem_total;
	for (struct space *c = all_spaces; c; c = c->next_space)
		if (c->owner == s)
			c->owner = NULL;
}

struct space *space_create(u64 owner_id, bool privileged, int *err)
{
	struct space *owner = current ? current->space : NULL;
	*err = L4_ENOMEM;
	if (!unprivileged_cap) /* the pool's size is known by now */
		unprivileged_cap = (kmem_total_pages() - kmem_total_pages() / KMEM_RESERVE_DIV) * PAGE_SIZE;
	struct space *s = kmem_alloc();
	u64 *pml4 = s ? pt_create() : NULL;
	if (!pml4) {
		if (s)
			kmem_free(s);
		return NULL;
	}
	s->pml4 = pml4;
	s->pcid = pcid_alloc();
	s->cr3 = V2P(pml4) | s->pcid;
	s->cr3_noflush = s->pcid ? s->cr3 | CR3_NOFLUSH : s->cr3;
	s->flush_pending = true; /* the PCID may hold a dead space's entries */
	s->privileged = privileged;
	s->id = next_space_id++;
	s->owner_id = owner_id;
	if (!privileged) {
		s->owner = owner && !owner->privileged ? owner : NULL;
		s->kmem_limit = s->owner ? s->owner->kmem_limit : kmem_total_pages() / KMEM_DEFAULT_DIV * PAGE_SIZE;
	}
	s->next_space = all_spaces;
	if (all_spaces)
		all_spaces->prev_space = s;
	all_spaces = s;
	if (!kmem_charge(s, 2 * PAGE_SIZE)) {
		s->privileged = true; /* nothing charged: nothing to uncharge */
		space_destroy(s);
		return NULL;
	}
	if (!pt_map(pml4, L4_KIP_ADDR, V2P(kip_page), L4_R)) {
		space_destroy(s);
		return NULL;
	}
	return s;
}

void space_destroy(struct space *s)
{
	assert(!s->threads);
	mdb_space_destroyed(s);
	io_space_destroyed(s);
	if (loaded_space == s) {
		write_cr3(kernel_cr3);
		loaded_space = NULL;
	}
	pt_destroy(s->pml4);
	space_account_destroyed(s);
	if (pt_charged == s)
		pt_charged = NULL;
	pcid_free(s->pcid);
	if (s->prev_space)
		s->prev_space->next_space = s->next_space;
	else
		all_spaces = s->next_space;
	if (s->next_space)
		s->next_space->prev_space = s->prev_space;
	kmem_free(s);
}

static bool space_exists(u64 id)
{
	for (struct space *s = all_spaces; s; s = s->next_space)
		if (s->id == id)
			return true;
	return false;
}

/* Delete every thread of s; the last one takes the task along, so s is
 * gone afterwards. */
void space_delete(struct space *s)
{
	while (s->threads->space_next)
		thread_delete(s->threads);
	thread_delete(s->threads);
}

/* Tasks whose creator is gone go with it: nobody else could ever delete
 * them.  Iterative, so that a long chain of tasks needs no deep stack. */
void space_reap_orphans(void)
{
	for (struct space *s = all_spaces; s;) {
		if (s->owner_id && !s->privileged && s != current->space && !space_exists(s->owner_id)) {
			space_delete(s);
			s = all_spaces; /* the list changed: start over */
			continue;
		}
		s = s->next_space;
	}
}

void space_load(struct space *s)
{
	s->flush_pending = false;
	write_cr3(s->cr3);
	loaded_space = s;
}

/* A mapping at va changed or went away: make the TLB forget it. */
void space_mapping_changed(struct space *s, u64 va)
{
	if (s == loaded_space)
		invlpg(va);
	else
		s->flush_pending = true;
}

bool space_map(struct space *s, u64 va, u64 pa, unsigned rights)
{
	u64 old_pa;
	unsigned old_rights;
	bool had = pt_lookup(s->pml4, va, &old_pa, &old_rights);
	if (!pt_map(s->pml4, va, pa, rights))
		return false;
	if (had)
		space_mapping_changed(s, va);
	return true;
}

/* Find the page at uva for thread t, asking t's pager as a page fault would
 * if it is not mapped (once: a pager that maps nothing gets no retry). */
/* The RAM page behind uva in t's space: false if it is absent, or device
 * memory (mapped uncached), which the direct map does not cover. */
static bool ram_page(struct tcb *t, u64 uva, u64 *pa)
{
	struct pt_leaf l;
	if (!pt_find(t->space->pml4, uva, &l) || (*l.entry & PTE_PCD))
		return false;
	*pa = l.pa + (uva - l.base);
	return true;
}

static bool user_page(struct tcb *t, u64 uva, u64 *pa)
{
	if (uva >= L4_USER_END)
		return false;
	if (ram_page(t, uva, pa))
		return true;
	struct pt_leaf l;
	if (pt_find(t->space->pml4, uva, &l) || uva >= L4_USER_MAP_END || t->pager == L4_NILTHREAD)
		return false; /* device memory, or nothing a pager could map */
	ipc_pagefault(t, uva, TCB_FRAME(t)->rip, L4_R);
	return t->state != TS_DEAD && ram_page(t, uva, pa);
}

/* Copy from thread t's memory by walking its task's page tables: the kernel
 * never dereferences a user pointer directly. */
bool copy_from_user(struct tcb *t, u64 uva, void *dst, usize len)
{
	u8 *d = dst;
	while (len) {
		u64 pa;
		if (!user_page(t, uva, &pa))
			return false;
		usize chunk = PAGE_SIZE - (uva & 0xfff);
		if (chunk > len)
			chunk = len;
		memcpy(d, P2V(pa), chunk);
		d += chunk;
		uva += chunk;
		len -= chunk;
	}
	return true;
}
