/*
 * Page tables.  Every task's PML4 shares entries 256..511 (the kernel half:
 * direct map of physical memory and the kernel image) with the kernel's
 * master table; those entries are filled at boot and never change, so a
 * copy at task creation stays valid.
 */
#include "arch.h"
#include "paging.h"
#include "../../kernel.h"

u64 kernel_cr3;
static u64 *kernel_pml4;

#define IDX(va, level) (((va) >> (12 + 9 * (level))) & 0x1ff)

static u64 *table_of(u64 entry) { return P2V(entry & PTE_ADDR); }

/* The entry for va at the given level (0 = PTE), allocating tables on the
 * way if asked.  NULL if absent, or on allocation failure. */
static u64 *walk(u64 *pml4, u64 va, int level, bool alloc, u64 table_flags)
{
	u64 *t = pml4;
	for (int l = 3; l > level; l--) {
		u64 *e = &t[IDX(va, l)];
		if (!(*e & PTE_P)) {
			if (!alloc || !pt_charge(pml4, 1))
				return NULL;
			void *page = kmem_alloc();
			if (!page) {
				pt_charge(pml4, -1);
				return NULL;
			}
			*e = V2P(page) | table_flags;
		} else if (*e & PTE_PS) {
			return NULL; /* large pages only in the kernel half */
		}
		t = table_of(*e);
	}
	return &t[IDX(va, level)];
}

u64 pt_make_entry(u64 pa, unsigned rights, u64 attr, unsigned order)
{
	u64 f = PTE_P | PTE_U | (attr & (PTE_PWT | PTE_PCD));
	if (rights & L4_W)
		f |= PTE_W;
	if (!(rights & L4_X) && cpu.nx)
		f |= PTE_NX;
	if (order)
		f |= PTE_PS;
	return (pa & PTE_ADDR & ~((PAGE_SIZE << order) - 1)) | f;
}

unsigned pt_entry_rights(u64 e)
{
	return L4_R | ((e & PTE_W) ? L4_W : 0) | ((e & PTE_NX) ? 0 : L4_X);
}

/* The present leaf (4 KiB PTE or 2 MiB PDE) that maps user address va. */
bool pt_find(u64 *pml4, u64 va, struct pt_leaf *leaf)
{
	if (va >= L4_USER_END)
		return false;
	u64 *t = pml4;
	for (int l = 3; l >= 0; l--) {
		u64 *e = &t[IDX(va, l)];
		if (!(*e & PTE_P))
			return false;
		if (l == 0 || (l == 1 && (*e & PTE_PS))) {
			leaf->entry = e;
			leaf->order = l ? 9 : 0;
			leaf->base = va & ~((PAGE_SIZE << leaf->order) - 1);
			leaf->pa = *e & PTE_ADDR & ~((PAGE_SIZE << leaf->order) - 1);
			return true;
		}
		t = table_of(*e);
	}
	return false;
}

/* The slot for a leaf of the given order (0 or 9) at va, allocating the
 * tables above it.  NULL on allocation failure or when a larger leaf or a
 * page table is in the way (the caller removes it first). */
u64 *pt_slot(u64 *pml4, u64 va, unsigned order)
{
	if (va >= L4_USER_END)
		return NULL; /* never a user mapping in the kernel half */
	u64 *e = walk(pml4, va, order ? 1 : 0, true, PTE_P | PTE_W | PTE_U);
	if (!e || (order && (*e & PTE_P) && !(*e & PTE_PS)))
		return NULL;
	return e;
}

bool pt_map(u64 *pml4, u64 va, u64 pa, unsigned rights)
{
	u64 *pte = pt_slot(pml4, va, 0);
	if (!pte)
		return false;
	*pte = pt_make_entry(pa, rights, 0, 0);
	return true;
}

bool pt_unmap(u64 *pml4, u64 va)
{
	struct pt_leaf l;
	if (!pt_find(pml4, va, &l))
		return false;
	*l.entry = 0;
	return true;
}

bool pt_lookup(u64 *pml4, u64 va, u64 *pa, unsigned *rights)
{
	struct pt_leaf l;
	if (!pt_find(pml4, va, &l))
		return false;
	*pa = l.pa + (va - l.base);
	*rights = pt_entry_rights(*l.entry);
	return true;
}

bool pt_split_2m(u64 *pml4, u64 va)
{
	struct pt_leaf l;
	if (!pt_find(pml4, va, &l) || l.order == 0)
		return true;
	if (!pt_charge(pml4, 1))
		return false;
	u64 *pt = kmem_alloc();
	if (!pt) {
		pt_charge(pml4, -1);
		return false;
	}
	u64 e = *l.entry;
	for (int i = 0; i < 512; i++)
		pt[i] = (e & ~(PTE_PS | PTE_ADDR)) | (l.pa + i * PAGE_SIZE);
	*l.entry = V2P(pt) | PTE_P | PTE_W | PTE_U;
	return true;
}

void pt_free_empty_table(u64 *pml4, u64 va)
{
	u64 *pde = walk(pml4, va, 1, false, 0);
	if (!pde || !(*pde & PTE_P) || (*pde & PTE_PS))
		return;
	u64 *pt = table_of(*pde);
	for (int i = 0; i < 512; i++)
		if (pt[i] & PTE_P)
			return;
	*pde = 0;
	kmem_free(pt);
	pt_charge(pml4, -1);
}

u64 *pt_create(void)
{
	u64 *pml4 = kmem_alloc();
	if (!pml4)
		return NULL;
	for (int i = 256; i < 512; i++)
		pml4[i] = kernel_pml4[i];
	return pml4;
}

/* Frees the tables below table; returns how many. */
static s64 free_level(u64 *table, int level)
{
	s64 n = 0;
	for (int i = 0; i < 512; i++) {
		if (!(table[i] & PTE_P))
			continue;
		if (table[i] & PTE_PS)
			continue; /* a 2 MiB leaf: no table below */
		if (level > 1)
			n += free_level(table_of(table[i]), level - 1);
		kmem_free(table_of(table[i]));
		n++;
	}
	return n;
}

void pt_destroy(u64 *pml4)
{
	s64 n = 0;
	for (int i = 0; i < 256; i++) {
		if (!(pml4[i] & PTE_P))
			continue;
		n += free_level(table_of(pml4[i]), 2) + 1;
		kmem_free(table_of(pml4[i]));
	}
	pt_charge(pml4, -n);
	kmem_free(pml4);
}

/* Kernel-half mapping of one 2 MiB page. */
static bool kmap_2m(u64 va, u64 pa, u64 flags)
{
	u64 *pde = walk(kernel_pml4, va, 1, true, PTE_P | PTE_W);
	if (!pde)
		return false;
	*pde = pa | flags | PTE_PS;
	return true;
}

/* The kernel image in 4 KiB pages: code read-only and executable, read-only
 * data read-only, everything else writable and not executable. */
static void map_kernel_image(u64 g_nx)
{
	extern char _text_start[], _text_end[], _rodata_start[], _data_start[], _kernel_end[];
	u64 g = g_nx & PTE_G, nx = g_nx & PTE_NX;
	for (u64 va = (u64)_text_start; va < (u64)_kernel_end; va += PAGE_SIZE) {
		u64 flags = PTE_P | g;
		if (va >= (u64)_text_end)
			flags |= nx;
		if (va >= (u64)_data_start || (va >= (u64)_text_end && va < (u64)_rodata_start))
			flags |= PTE_W;
		u64 *pte = walk(kernel_pml4, va, 0, true, PTE_P | PTE_W);
		if (!pte)
			panic("no memory for the kernel image map");
		*pte = V2P(va) | flags;
	}
}

void paging_init(u64 max_phys)
{
	u64 g = cpu.pge ? PTE_G : 0;
	kernel_pml4 = kmem_alloc();
	if (!kernel_pml4)
		panic("no memory for the kernel page table");
	/* Pre-create every kernel-half PDPT so that the PML4 entries copied
	 * into task tables never change later. */
	for (int i = 256; i < 512; i++) {
		u64 *pdpt = kmem_alloc();
		if (!pdpt)
			panic("no memory for kernel page tables");
		kernel_pml4[i] = V2P(pdpt) | PTE_P | PTE_W;
	}
	u64 nx = cpu.nx ? PTE_NX : 0;
	for (u64 pa = 0; pa < max_phys; pa += 0x200000)
		if (!kmap_2m(DIRECT_MAP + pa, pa, PTE_P | PTE_W | g | nx))
			panic("no memory for the direct map");
	map_kernel_image(g | nx);
	kernel_cr3 = V2P(kernel_pml4);
	write_cr3(kernel_cr3);
}

bool kmap_mmio(u64 pa)
{
	u64 *pte = walk(kernel_pml4, (u64)P2V(pa), 0, true, PTE_P | PTE_W);
	if (!pte)
		return false;
	*pte = (pa & PTE_ADDR) | PTE_P | PTE_W | PTE_PCD | PTE_PWT | (cpu.nx ? PTE_NX : 0);
	invlpg((u64)P2V(pa));
	return true;
}

u64 pt_next_mapped(u64 *pml4, u64 va, u64 end)
{
	u64 limit = end < L4_USER_END ? end : L4_USER_END;
	while (va < limit) {
		u64 *t = pml4;
		int l;
		for (l = 3; l > 0; l--) {
			u64 e = t[IDX(va, l)];
			if (!(e & PTE_P) || (e & PTE_PS))
				break;
			t = table_of(e);
		}
		if (l <= 1 && (t[IDX(va, l)] & PTE_P))
			return va; /* a 4 KiB leaf, or inside a 2 MiB one */
		/* skip the absent entries that follow in this table at level l:
		 * a sparse table costs a load per slot, not a walk from the top */
		u64 span = 1ull << (12 + 9 * l);
		do
			va = (va & ~(span - 1)) + span;
		while (va < limit && IDX(va, l) != 0 && !(t[IDX(va, l)] & PTE_P));
	}
	return end;
}
