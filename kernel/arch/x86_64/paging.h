/* Four-level x86-64 page tables. */
#ifndef PAGING_H
#define PAGING_H

#include <l4/types.h>

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

/* Build the kernel's own tables (direct map of all RAM below max_phys,
 * kernel image at -2 GiB) and switch to them. */
void paging_init(u64 max_phys);
/* Charge (pages > 0) or credit the task whose top-level table is pml4 for
 * page tables below it (space.c); false: over its limit. */
bool pt_charge(u64 *pml4, s64 pages);
/* A new top-level table sharing the kernel half; NULL if out of memory. */
u64 *pt_create(void);
/* Free every user-half table (not the frames they map), then the PML4. */
void pt_destroy(u64 *pml4);
/* Map one 4 KiB page; false if a table could not be allocated. */
bool pt_map(u64 *pml4, u64 va, u64 pa, unsigned rights);
/* Remove the leaf that maps va (4 KiB or 2 MiB); whether one was there. */
bool pt_unmap(u64 *pml4, u64 va);
/* Translate va; rights as L4_R/W/X. */
bool pt_lookup(u64 *pml4, u64 va, u64 *pa, unsigned *rights);

/* A present user leaf: a 4 KiB PTE (order 0) or a 2 MiB PDE (order 9). */
struct pt_leaf {
	u64 *entry;
	u64 base; /* virtual address of the leaf's start */
	u64 pa;   /* physical address of the leaf's start */
	unsigned order;
};
bool pt_find(u64 *pml4, u64 va, struct pt_leaf *leaf);
u64 *pt_slot(u64 *pml4, u64 va, unsigned order);
u64 pt_make_entry(u64 pa, unsigned rights, u64 attr, unsigned order);
unsigned pt_entry_rights(u64 entry);
/* Replace a 2 MiB leaf at va by 512 equal 4 KiB leaves (false: no memory). */
bool pt_split_2m(u64 *pml4, u64 va);
/* Free the page table under va's 2 MiB slot if nothing in it is mapped. */
void pt_free_empty_table(u64 *pml4, u64 va);
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
extern u64 kernel_cr3;



/* The first mapped page at or above va and below end, or end: skips whole
 * absent tables, so walking a sparse range is cheap. */
u64 pt_next_mapped(u64 *pml4, u64 va, u64 end);
#endif
