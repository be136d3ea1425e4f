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
			if (!alloc)
				return NULL;
			void *page = kmem_alloc();
			if (!page)
				return NULL;
			*e = V2P(page) | table_flags;
		} else if (*e & PTE_PS) {
			return NULL; /* large pages only in the kernel half */
		}
		t = table_of(*e);
	}
	return &t[IDX(va, level)];
}

static u64 pte_rights(unsigned rights)
{
	u64 f = PTE_P | PTE_U;
	if (rights & L4_W)
		f |= PTE_W;
	if (!(rights & L4_X) && cpu.nx)
		f |= PTE_NX;
	return f;
}

bool pt_map(u64 *pml4, u64 va, u64 pa, unsigned rights)
{
	u64 *pte = walk(pml4, va, 0, true, PTE_P | PTE_W | PTE_U);
	if (!pte)
		return false;
	*pte = (pa & PTE_ADDR) | pte_rights(rights);
	return true;
}

bool pt_unmap(u64 *pml4, u64 va)
{
	u64 *pte = walk(pml4, va, 0, false, 0);
	if (!pte || !(*pte & PTE_P))
		return false;
	*pte = 0;
	return true;
}

bool pt_lookup(u64 *pml4, u64 va, u64 *pa, unsigned *rights)
{
	if (va >= L4_USER_END)
		return false;
	u64 *pte = walk(pml4, va, 0, false, 0);
	if (!pte || !(*pte & PTE_P))
		return false;
	*pa = (*pte & PTE_ADDR) | (va & 0xfff);
	*rights = L4_R | ((*pte & PTE_W) ? L4_W : 0) | ((*pte & PTE_NX) ? 0 : L4_X);
	return true;
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

static void free_level(u64 *table, int level)
{
	for (int i = 0; i < 512; i++) {
		if (!(table[i] & PTE_P))
			continue;
		if (level > 1)
			free_level(table_of(table[i]), level - 1);
		kmem_free(table_of(table[i]));
	}
}

void pt_destroy(u64 *pml4)
{
	for (int i = 0; i < 256; i++) {
		if (!(pml4[i] & PTE_P))
			continue;
		free_level(table_of(pml4[i]), 2);
		kmem_free(table_of(pml4[i]));
	}
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
	while (va < end) {
		u64 *t = pml4;
		int l;
		for (l = 3; l > 0; l--) {
			u64 e = t[IDX(va, l)];
			if (!(e & PTE_P) || (e & PTE_PS))
				break;
			t = table_of(e);
		}
		if (l == 0 && (t[IDX(va, 0)] & PTE_P))
			return va;
		/* skip to the start of the next entry at level l */
		u64 span = 1ull << (12 + 9 * l);
		u64 next = (va & ~(span - 1)) + span;
		if (next <= va)
			return end;
		va = next;
	}
	return end;
}
