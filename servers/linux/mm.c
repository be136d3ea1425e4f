/*
 * Memory: the server's own pages, and each process's logical page table.
 *
 * The server takes RAM from sigma0, which maps it one-to-one, so a page's
 * address here is its physical address.  A process's page table maps its
 * virtual pages to pages here (a four-level radix tree like the hardware's,
 * made of our pages); the kernel's page tables of the process hold only
 * what we mapped to it on its page faults, and Unmap of our page takes it
 * back from the process.
 */
#include "linux.h"

/* ---- our pages ------------------------------------------------------------- */

static u64 free_list, chunk_next, chunk_end, in_use;

/* 2 MiB at a time from sigma0 where it has them: one request per 512 pages. */
static bool refill(void)
{
	u64 big = sigma0_get_superpage();
	if (big) {
		chunk_next = big;
		chunk_end = big + (2ull << 20);
		return true;
	}
	u64 page = sigma0_get_any_page();
	if (!page)
		return false;
	chunk_next = page;
	chunk_end = page + LX_PAGE;
	return true;
}

u64 page_alloc(void)
{
	u64 page = 0;
	if (free_list) {
		page = free_list;
		free_list = *(u64 *)page;
	} else if (chunk_next < chunk_end || refill()) {
		page = chunk_next;
		chunk_next += LX_PAGE;
	}
	if (page) {
		memset((void *)page, 0, LX_PAGE);
		in_use++;
	}
	return page;
}

void page_free(u64 page)
{
	*(u64 *)page = free_list;
	free_list = page;
	in_use--;
}

u64 pages_in_use(void) { return in_use; }

u64 ram_bytes(void)
{
	const struct l4_kip *k = l4_kip();
	u64 total = 0;
	for (u32 n = 0; n < k->n_mem; n++)
		if (k->mem[n].type == L4_MEM_FREE)
			total += k->mem[n].size;
	return total;
}

/* ---- the logical page table --------------------------------------------------- */

#define PT_INDEX(va, level) (((va) >> (12 + 9 * (level))) & 511)

/* The slot for va's page (holding our page's address, or 0), creating the
 * tables on the way if asked; NULL if absent or out of memory. */
static u64 *pt_slot(struct proc *p, u64 va, bool create)
{
	if (!p->pt && (!create || !(p->pt = (u64 *)page_alloc())))
		return NULL;
	u64 *t = p->pt;
	for (int level = 3; level > 0; level--) {
		u64 *e = &t[PT_INDEX(va, level)];
		if (!*e && (!create || !(*e = page_alloc())))
			return NULL;
		t = (u64 *)*e;
	}
	return &t[PT_INDEX(va, 0)];
}

/* Take the page from the process (the kernel revokes what we mapped from
 * it) and give it back to our pool. */
static void page_release(u64 *slot)
{
	if (!*slot)
		return;
	l4_unmap(L4_FPAGE(*slot, 12, L4_RWX), 0);
	page_free(*slot);
	*slot = 0;
}

/* Frees a table and what is below it; unmap: take the pages back from
 * the process first (not needed when its task is gone). */
/* Take the page back from the process; it faults in again. */
static void page_revoke(u64 *slot) { l4_unmap(L4_FPAGE(*slot, 12, L4_RWX), 0); }

static void free_table(u64 *t, int level, bool unmap)
{
	for (int i = 0; i < 512; i++) {
		if (!t[i])
			continue;
		if (level > 0)
			free_table((u64 *)t[i], level - 1, unmap);
		else if (unmap)
			page_release(&t[i]);
		else
			page_free(t[i]);
	}
	page_free((u64)t);
}

void mm_release(struct proc *p, bool task_gone)
{
	if (p->shares_vm) /* the memory is the parent's: only let go of it */
		p->pt = NULL;
	p->shares_vm = false;
	if (p->pt)
		free_table(p->pt, 3, !task_gone);
	p->pt = NULL;
	p->nvma = 0;
}

/* fn for each page in [start, end) of table t (at level, covering from
 * base): only the tables that are there are visited, so a call over a huge
 * range costs what is mapped in it, not its size. */
static void pt_range(u64 *t, int level, u64 base, u64 start, u64 end, void (*fn)(u64 *slot))
{
	u64 span = 1ull << (12 + 9 * level);
	unsigned first = start > base ? (unsigned)((start - base) / span) : 0;
	for (unsigned i = first; i < 512 && base + i * span < end; i++) {
		if (!t[i])
			continue;
		if (level)
			pt_range((u64 *)t[i], level - 1, base + i * span, start, end, fn);
		else
			fn(&t[i]);
	}
}

static void pages_in(struct proc *p, u64 start, u64 end, void (*fn)(u64 *slot))
{
	if (p->pt && start < end)
		pt_range(p->pt, 3, 0, start, end, fn);
}

/* A copy of table t (at level) and of the pages below it; 0 when out of memory. */
static u64 copy_table(const u64 *t, int level)
{
	u64 *n = (u64 *)page_alloc();
	if (!n)
		return 0;
	for (int i = 0; i < 512; i++) {
		if (!t[i])
			continue;
		n[i] = level ? copy_table((const u64 *)t[i], level - 1) : page_alloc();
		if (!n[i]) {
			free_table(n, level, false);
			return 0;
		}
		if (!level)
			memcpy((void *)n[i], (const void *)t[i], LX_PAGE);
	}
	return (u64)n;
}

/* Every page the parent has is copied now, rather than shared until
 * written: simple, and for a fork that is followed by execve, the usual
 * case, the copies are few (docs/linux-server.md).  A vfork child shares
 * the parent's table instead: its faults map the parent's pages. */
bool mm_fork(struct proc *parent, struct proc *child, bool share)
{
	memcpy(child->vma, parent->vma, sizeof(child->vma));
	child->nvma = parent->nvma;
	if (share) {
		child->pt = parent->pt;
		child->shares_vm = true;
		return true;
	}
	if (parent->pt && !(child->pt = (u64 *)copy_table(parent->pt, 3)))
		return false;
	return true;
}

/* ---- areas ----------------------------------------------------------------------- */

struct vma *vma_find(struct proc *p, u64 va)
{
	for (unsigned i = 0; i < p->nvma; i++)
		if (va >= p->vma[i].start && va < p->vma[i].end)
			return &p->vma[i];
	return NULL;
}

struct vma *vma_add(struct proc *p, u64 start, u64 end, unsigned prot, enum vma_kind kind, const u8 *file,
		    u64 file_size)
{
	if (p->nvma == MAX_VMAS)
		return NULL;
	p->vma[p->nvma] = (struct vma){ start, end, prot, kind, file, file_size };
	return &p->vma[p->nvma++];
}

/* Drop [start, end) from the areas, cutting those that overlap it, and
 * release the pages there. */
bool vma_remove(struct proc *p, u64 start, u64 end)
{
	for (unsigned i = 0; i < p->nvma; i++) /* a hole in an area needs a new one: room first */
		if (p->vma[i].start < start && p->vma[i].end > end && p->nvma == MAX_VMAS)
			return false;
	for (unsigned i = 0; i < p->nvma;) {
		struct vma *v = &p->vma[i];
		if (v->end <= start || v->start >= end) {
			i++;
			continue;
		}
		struct vma old = *v;
		if (old.start < start && old.end > end) {
			/* a hole in the middle: the upper part becomes an area of its own */
			u64 skip = end - old.start;
			vma_add(p, end, old.end, old.prot, old.kind, old.file + skip,
				old.file_size > skip ? old.file_size - skip : 0);
			v = &p->vma[i];
		}
		if (old.start < start) {
			v->end = start;
			i++;
		} else if (old.end > end) {
			u64 skip = end - old.start;
			v->start = end;
			v->file = old.file ? old.file + skip : NULL;
			v->file_size = old.file_size > skip ? old.file_size - skip : 0;
			i++;
		} else {
			p->vma[i] = p->vma[--p->nvma];
		}
	}
	pages_in(p, start, end, page_release);
	return true;
}

/* ---- faults and copies ---------------------------------------------------------- */

/* A new page for va in area v: zeros, and the file's bytes where it has some. */
static u64 fill_page(struct vma *v, u64 va)
{
	u64 page = page_alloc();
	if (!page || v->kind != VMA_FILE)
		return page;
	u64 off = va - v->start;
	if (off < v->file_size) {
		u64 n = v->file_size - off < LX_PAGE ? v->file_size - off : LX_PAGE;
		memcpy((void *)page, v->file + off, n);
	}
	return page;
}

u64 mm_page(struct proc *p, u64 va, bool write)
{
	struct vma *v = vma_find(p, va);
	if (!v || (write && !(v->prot & LX_PROT_WRITE)) || (!write && !(v->prot & (LX_PROT_READ | LX_PROT_EXEC))))
		return 0;
	u64 *slot = pt_slot(p, va, true);
	if (!slot)
		return 0;
	if (!*slot)
		*slot = fill_page(v, va & ~(LX_PAGE - 1));
	return *slot;
}

static unsigned l4_rights(unsigned prot)
{
	return (prot & LX_PROT_READ ? L4_R : 0) | (prot & LX_PROT_WRITE ? L4_W | L4_R : 0) |
	       (prot & LX_PROT_EXEC ? L4_X | L4_R : 0);
}

bool mm_fault(struct proc *p, u64 va, unsigned access, struct l4_msg *m)
{
	struct vma *v = vma_find(p, va);
	if (!v || (l4_rights(v->prot) & access) != access)
		return false;
	u64 page = mm_page(p, va, false);
	if (!page)
		return false;
	l4_map_msg(m, va & ~(LX_PAGE - 1), L4_FPAGE(page, 12, l4_rights(v->prot)), false);
	return true;
}

static bool copy(struct proc *p, u64 uva, u8 *buf, u64 len, bool out)
{
	while (len) {
		u64 page = mm_page(p, uva, out);
		if (!page)
			return false;
		u64 off = uva & (LX_PAGE - 1), n = LX_PAGE - off < len ? LX_PAGE - off : len;
		if (out)
			memcpy((void *)(page + off), buf, n);
		else
			memcpy(buf, (void *)(page + off), n);
		uva += n;
		buf += n;
		len -= n;
	}
	return true;
}

bool copy_in(struct proc *p, void *dst, u64 src, u64 len)
{
	return src + len >= src && copy(p, src, dst, len, false);
}

bool copy_out(struct proc *p, u64 dst, const void *src, u64 len)
{
	return dst + len >= dst && copy(p, dst, (u8 *)src, len, true);
}

s64 strncpy_in(struct proc *p, char *dst, u64 src, u64 max)
{
	for (u64 i = 0; i < max; i++) {
		if (!copy_in(p, &dst[i], src + i, 1))
			return -EFAULT;
		if (!dst[i])
			return (s64)i;
	}
	return -ENAMETOOLONG;
}

/* ---- brk, mmap, munmap, mprotect ---------------------------------------------- */

#define PAGE_UP(x) (((x) + LX_PAGE - 1) & ~(LX_PAGE - 1))
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MMAP_BOTTOM 0x10000000000ull /* mappings are placed below mmap_top, above this */

static bool range_free(struct proc *p, u64 start, u64 end)
{
	for (unsigned i = 0; i < p->nvma; i++)
		if (p->vma[i].start < end && start < p->vma[i].end)
			return false;
	return true;
}

/* The bytes of all areas, for RLIMIT_AS. */
static u64 vm_bytes(struct proc *p)
{
	u64 n = 0;
	for (unsigned i = 0; i < p->nvma; i++)
		n += p->vma[i].end - p->vma[i].start;
	return n;
}

static bool as_allows(struct proc *p, u64 more)
{
	return more <= p->as_limit[0] && vm_bytes(p) <= p->as_limit[0] - more;
}

/* The highest place for len bytes below top and above MMAP_BOTTOM, or 0:
 * an area in the way moves the search below it at once. */
static u64 free_below(struct proc *p, u64 top, u64 len)
{
	u64 addr = top - len;
	while (addr >= MMAP_BOTTOM && addr < top) {
		struct vma *in_way = NULL;
		for (unsigned i = 0; i < p->nvma; i++)
			if (p->vma[i].start < addr + len && addr < p->vma[i].end)
				in_way = &p->vma[i];
		if (!in_way)
			return addr;
		if (in_way->start < len)
			return 0;
		addr = in_way->start - len;
	}
	return 0;
}

s64 sys_brk(struct proc *p, u64 addr)
{
	if (addr < p->brk_start || addr >= MMAP_BOTTOM)
		return (s64)p->brk;
	u64 old_end = PAGE_UP(p->brk), new_end = PAGE_UP(addr);
	if (new_end > old_end) {
		if (!range_free(p, old_end, new_end) || !as_allows(p, new_end - old_end))
			return (s64)p->brk; /* something else is there, or the limit */
		struct vma *v = vma_find(p, p->brk_start);
		if (v && v->end == old_end)
			v->end = new_end;
		else if (!vma_add(p, old_end, new_end, LX_PROT_READ | LX_PROT_WRITE, VMA_ANON, NULL, 0))
			return (s64)p->brk;
	} else if (new_end < old_end) {
		if (!vma_remove(p, new_end, old_end))
			return (s64)p->brk;
	}
	p->brk = addr;
	return (s64)addr;
}

s64 sys_mmap(struct proc *p, u64 addr, u64 len, u64 prot, u64 flags, u64 fd, u64 off)
{
	(void)fd;
	(void)off;
	if (!len || (addr & (LX_PAGE - 1)) || prot & ~7ull)
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS))
		return -ENOSYS; /* file mappings: not yet */
	if (!(flags & MAP_PRIVATE))
		return -EINVAL;
	if (len > MMAP_BOTTOM) /* before rounding: a length near 2^64 would wrap */
		return -ENOMEM;
	len = PAGE_UP(len);
	if (!as_allows(p, len))
		return -ENOMEM;
	if (flags & MAP_FIXED) {
		if (addr < LX_PAGE || addr + len > L4_USER_MAP_END || addr + len < addr)
			return -EINVAL;
		if (!vma_remove(p, addr, addr + len))
			return -ENOMEM;
	} else if (!(addr = free_below(p, p->mmap_top, len))) {
		return -ENOMEM;
	}
	if (!vma_add(p, addr, addr + len, (unsigned)prot, VMA_ANON, NULL, 0))
		return -ENOMEM;
	return (s64)addr;
}

s64 sys_munmap(struct proc *p, u64 addr, u64 len)
{
	if ((addr & (LX_PAGE - 1)) || !len || addr + len < addr)
		return -EINVAL;
	return vma_remove(p, addr, addr + PAGE_UP(len)) ? 0 : -ENOMEM;
}

/* Cut the area around `at` in two there; false if no room for another. */
static bool vma_split(struct proc *p, u64 at)
{
	struct vma *v = vma_find(p, at);
	if (!v || v->start == at)
		return true;
	u64 skip = at - v->start;
	struct vma upper = { at, v->end, v->prot, v->kind, v->file ? v->file + skip : NULL,
			     v->file_size > skip ? v->file_size - skip : 0 };
	if (!vma_add(p, upper.start, upper.end, upper.prot, upper.kind, upper.file, upper.file_size))
		return false;
	v = vma_find(p, at - 1);
	v->end = at;
	v->file_size = v->file_size < skip ? v->file_size : skip;
	return true;
}

/* Areas that straddle the range are cut first, so that each area has one
 * protection; pages already mapped are taken back and fault in again with
 * the new rights. */
s64 sys_mprotect(struct proc *p, u64 addr, u64 len, u64 prot)
{
	if ((addr & (LX_PAGE - 1)) || prot & ~7ull || addr + len < addr)
		return -EINVAL;
	u64 end = PAGE_UP(addr + len);
	for (u64 a = addr; a < end;) { /* all of it must be in areas: area by area */
		struct vma *v = vma_find(p, a);
		if (!v)
			return -ENOMEM;
		a = v->end;
	}
	if (!vma_split(p, addr) || !vma_split(p, end))
		return -ENOMEM;
	for (unsigned i = 0; i < p->nvma; i++)
		if (p->vma[i].start >= addr && p->vma[i].end <= end)
			p->vma[i].prot = (unsigned)prot;
	pages_in(p, addr, end, page_revoke);
	return 0;
}
