/*
 * Boot: take over from the Multiboot loader, find physical memory, set
 * aside the kernel memory pool, fill the kernel interface page, and start
 * sigma0 (first boot module) and the root task (second boot module).
 */
#include "thread.h"
#include "kip.h"
#include "arch/x86_64/paging.h"
#include "../lib/common/elf.h"
#include "mdb.h"

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_module {
	u32 start, end, string, reserved;
};

struct mb_mmap {
	u32 size;
	u64 base, length;
	u32 type;
} __attribute__((packed));

#define MB_BOOT_MAGIC 0x2badb002
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)
#define BOOT_DIRECT_LIMIT (1ull << 30) /* what boot.S maps */
#define SIGMA0_PRIO 200
#define ROOT_PRIO 100

struct l4_kip *kip_page;
STATIC_ASSERT(sizeof(struct l4_kip) <= PAGE_SIZE, "the KIP is one page");
static struct l4_kip kip_draft; /* built before the pool exists */

static void add_mem(u64 base, u64 end, u32 type)
{
	if (end <= base)
		return;
	if (kip_draft.n_mem == L4_KIP_MAX_MEM) {
		/* dropping an exception would hand its memory to sigma0 */
		if (type != L4_MEM_FREE)
			panic("too many memory descriptors for the KIP");
		printk("boot: too many memory regions, %llx-%llx ignored\n", base, end);
		return;
	}
	struct l4_kip_mem *m = &kip_draft.mem[kip_draft.n_mem++];
	m->base = base;
	m->size = end - base;
	m->type = type;
}

static u64 align_up(u64 v) { return (v + PAGE_SIZE - 1) & PAGE_MASK; }

static void reserve_string(u32 pa)
{
	if (pa)
		add_mem(pa & PAGE_MASK, align_up(pa + strlen(P2V(pa)) + 1), L4_MEM_RESERVED);
}

static bool panic_selftest;

/* panic=exit: leave QEMU on a panic.  selftest=panic: panic on purpose
 * once the kernel is up, so that the harness can check what a panic prints
 * (only the boot command line can ask for it, never user code). */
static void parse_cmdline(const char *cmd)
{
	for (const char *p = cmd; *p; p++) {
		if (!strncmp(p, "panic=exit", 10))
			panic_exits_qemu = true;
		if (!strncmp(p, "selftest=panic", 14))
			panic_selftest = true;
	}
}

static void copy_module_name(struct l4_kip_module *m, const char *s)
{
	const char *word_end = s;
	while (*word_end && *word_end != ' ')
		word_end++;
	const char *name = s;
	for (const char *p = s; p < word_end; p++)
		if (*p == '/')
			name = p + 1;
	usize n = 0;
	while (name + n < word_end && n < sizeof(m->name) - 1) {
		m->name[n] = name[n];
		n++;
	}
	m->name[n] = 0;
	while (*word_end == ' ')
		word_end++;
	for (n = 0; word_end[n] && n < sizeof(m->args) - 1; n++)
		m->args[n] = word_end[n];
	m->args[n] = 0;
}

/* RAM ranges first, then everything carved out of them (later wins). */
static u64 collect_memory(struct mb_info *mbi)
{
	extern char _kernel_end[];
	u64 max_phys = 0;
	if (!(mbi->flags & MB_INFO_MMAP))
		panic("the boot loader gave no memory map");
	for (u64 off = 0; off < mbi->mmap_length;) {
		struct mb_mmap *e = P2V(mbi->mmap_addr + off);
		if (e->type == 1) {
			u64 base = align_up(e->base), end = (e->base + e->length) & PAGE_MASK;
			add_mem(base, end, L4_MEM_FREE);
			if (end > max_phys)
				max_phys = end;
		}
		off += e->size + 4;
	}
	add_mem(0, 0x100000, L4_MEM_RESERVED);
	add_mem(LAPIC_PHYS, LAPIC_PHYS + PAGE_SIZE, L4_MEM_KERNEL);
	add_mem(0x100000, align_up(V2P(_kernel_end)), L4_MEM_KERNEL);
	add_mem((u64)V2P(mbi) & PAGE_MASK, align_up(V2P(mbi) + sizeof(*mbi)), L4_MEM_RESERVED);
	add_mem(mbi->mmap_addr & PAGE_MASK, align_up(mbi->mmap_addr + mbi->mmap_length), L4_MEM_RESERVED);
	if (mbi->flags & MB_INFO_CMDLINE)
		reserve_string(mbi->cmdline);
	if (mbi->flags & MB_INFO_MODS) {
		struct mb_module *mods = P2V(mbi->mods_addr);
		add_mem(mbi->mods_addr & PAGE_MASK,
			align_up(mbi->mods_addr + mbi->mods_count * sizeof(*mods)), L4_MEM_RESERVED);
		for (u32 i = 0; i < mbi->mods_count; i++) {
			reserve_string(mods[i].string);
			add_mem(mods[i].start & PAGE_MASK, align_up(mods[i].end), L4_MEM_MODULE);
		}
	}
	return max_phys;
}

static bool range_free(u64 base, u64 end)
{
	for (u64 pa = base; pa < end; pa += PAGE_SIZE)
		if (l4_kip_mem_type(&kip_draft, pa) != L4_MEM_FREE)
			return false;
	return true;
}

/* The kernel pool: 1/16 of RAM within [8, 128] MiB, in the first GiB (the
 * boot page tables map only that much), at the lowest place it fits. */
static void place_kernel_pool(u64 total_free)
{
	u64 size = total_free / 16;
	size = size < (8ull << 20) ? (8ull << 20) : size > (128ull << 20) ? (128ull << 20) : size;
	size &= PAGE_MASK;
	for (u64 base = 0x100000; base + size <= BOOT_DIRECT_LIMIT; base += 0x100000) {
		if (range_free(base, base + size)) {
			add_mem(base, base + size, L4_MEM_KERNEL);
			kmem_init(P2V(base), size / PAGE_SIZE);
			printk("boot: kernel pool %llu KiB at %llx\n", size >> 10, base);
			return;
		}
	}
	panic("no room for a kernel memory pool of %llu KiB", size >> 10);
}

static u64 count_free(void)
{
	u64 n = 0;
	for (u32 i = 0; i < kip_draft.n_mem; i++)
		if (kip_draft.mem[i].type == L4_MEM_FREE)
			n += kip_draft.mem[i].size;
	return n;
}

static void collect_modules(struct mb_info *mbi)
{
	if (!(mbi->flags & MB_INFO_MODS))
		return;
	struct mb_module *mods = P2V(mbi->mods_addr);
	for (u32 i = 0; i < mbi->mods_count && i < L4_KIP_MAX_MODULES; i++) {
		struct l4_kip_module *m = &kip_draft.modules[kip_draft.n_modules++];
		m->base = mods[i].start;
		m->size = mods[i].end - mods[i].start;
		copy_module_name(m, mods[i].string ? (const char *)P2V(mods[i].string) : "");
	}
	if (mbi->mods_count > L4_KIP_MAX_MODULES)
		printk("boot: %u boot modules, the KIP holds %u: the rest are ignored\n", mbi->mods_count,
		       L4_KIP_MAX_MODULES);
}

static void fill_kip(void)
{
	kip_page = kmem_alloc();
	if (!kip_page)
		panic("no memory for the kernel interface page");
	kip_draft.magic = L4_KIP_MAGIC;
	kip_draft.abi_version = L4_ABI_VERSION;
	kip_draft.tsc_hz = tsc_hz;
	kip_draft.lapic_timer_hz = timer_hz;
	kip_draft.user_end = L4_USER_END;
	kip_draft.utcb_area = L4_UTCB_AREA;
	kip_draft.utcb_size = L4_UTCB_SIZE;
	kip_draft.kip_addr = L4_KIP_ADDR;
	kip_draft.kernel_pages = kmem_total_pages();
	kip_draft.max_threads = L4_MAX_THREADS;
	kip_draft.prio_levels = L4_PRIO_LEVELS;
	*kip_page = kip_draft;
}

/* Copy one ELF segment into fresh kernel pages mapped into s. */
static void load_segment(struct space *s, const u8 *image, const struct elf_segment *seg)
{
	u64 end = seg->vaddr + seg->memsz;
	for (u64 va = seg->vaddr & PAGE_MASK; va < end; va += PAGE_SIZE) {
		u64 pa;
		unsigned rights;
		u8 *page;
		if (pt_lookup(s->pml4, va, &pa, &rights)) {
			page = P2V(pa & PAGE_MASK); /* page shared with the previous segment */
		} else {
			page = kmem_alloc();
			rights = 0;
		}
		if (!page || !pt_map(s->pml4, va, V2P(page), rights | seg->rights))
			panic("out of memory loading a boot task");
		for (u64 off = 0; off < PAGE_SIZE; off++) {
			u64 a = va + off;
			if (a >= seg->vaddr && a - seg->vaddr < seg->filesz)
				page[off] = image[seg->offset + (a - seg->vaddr)];
		}
	}
}

static struct tcb *start_boot_task(u32 index, l4_tid_t pager, u8 prio)
{
	if (index >= kip_draft.n_modules)
		panic("boot module %u missing (need sigma0 and the root task)", index);
	struct l4_kip_module *m = &kip_draft.modules[index];
	struct elf_segment segs[16];
	u64 entry;
	int n = elf_parse(P2V(m->base), m->size, L4_USER_MAP_END, &entry, segs, 16);
	if (n <= 0)
		panic("boot module %s is not a loadable ELF image (%d)", m->name, n);
	int err;
	struct space *s = space_create(0, true, &err);
	if (!s)
		panic("cannot create boot task %s (error %d)", m->name, err);
	for (int i = 0; i < n; i++)
		load_segment(s, P2V(m->base), &segs[i]);
	struct tcb *t = thread_create(s, L4_NILTHREAD, pager, prio, L4_PRIO_LEVELS - 1, &err);
	if (!t)
		panic("cannot create boot task %s (error %d)", m->name, err);
	thread_set_user_entry(t, entry, 0);
	printk("boot: %s is thread %llx\n", m->name, t->tid);
	return t;
}

struct space *sigma0_space;

static bool sigma0_owns(u64 pa)
{
	u32 t = l4_kip_mem_type(&kip_draft, pa);
	return t == L4_MEM_FREE || t == L4_MEM_MODULE;
}

static bool sigma0_owns_2m(u64 pa)
{
	for (u64 off = 0; off < 0x200000; off += PAGE_SIZE)
		if (!sigma0_owns(pa + off))
			return false;
	return true;
}

/* sigma0 holds all memory it may hand out, mapped one-to-one, in 2 MiB
 * leaves wherever a whole aligned 2 MiB is its own. */
static void map_sigma0_memory(struct space *s)
{
	u64 pages = 0, big = 0;
	for (u32 i = 0; i < kip_draft.n_mem; i++) {
		struct l4_kip_mem *m = &kip_draft.mem[i];
		if (m->type != L4_MEM_FREE && m->type != L4_MEM_MODULE)
			continue;
		for (u64 pa = m->base; pa < m->base + m->size;) {
			struct pt_leaf l;
			if (pt_find(s->pml4, pa, &l) || !sigma0_owns(pa)) {
				pa += PAGE_SIZE;
				continue;
			}
			unsigned order = (pa & 0x1fffff) == 0 && sigma0_owns_2m(pa) ? 9 : 0;
			u64 *slot = pt_slot(s->pml4, pa, order);
			if (!slot)
				panic("no kernel memory for sigma0's page tables");
			*slot = pt_make_entry(pa, L4_RWX, 0, order);
			pages += 1ull << order;
			big += order != 0;
			pa += PAGE_SIZE << order;
		}
	}
	printk("boot: sigma0 holds %llu KiB (%llu 2 MiB pages)\n", pages * 4, big);
}

void kmain(u32 magic, u32 mbi_phys)
{
	serial_init();
	printk("\nL4/x86-64 microkernel, ABI %d\n", L4_ABI_VERSION);
	if (magic != MB_BOOT_MAGIC)
		panic("not booted by a Multiboot loader (magic %x)", magic);
	struct mb_info *mbi = P2V(mbi_phys);
	if (mbi->flags & MB_INFO_CMDLINE)
		parse_cmdline(P2V(mbi->cmdline));
	cpu_init();
	u64 max_phys = collect_memory(mbi);
	collect_modules(mbi);
	place_kernel_pool(count_free());
	paging_init(max_phys);
	mdb_init(max_phys);
	timer_init();
	irq_init();
	fpu_init();
	threads_init();
	sched_init();
	fill_kip();
	if (panic_selftest)
		panic("self-test: panic requested on the command line");
	struct tcb *sigma0 = start_boot_task(0, L4_NILTHREAD, SIGMA0_PRIO);
	sigma0_space = sigma0->space;
	map_sigma0_memory(sigma0->space);
	if (!io_give_all(sigma0->space))
		panic("no kernel memory for sigma0's I/O ports");
	struct tcb *root = start_boot_task(1, sigma0->tid, ROOT_PRIO);
	kip_page->sigma0 = sigma0->tid;
	kip_page->root = root->tid;
	thread_resume(sigma0);
	thread_resume(root);
	printk("boot: %llu of %llu kernel pages free\n", kmem_free_pages(), kmem_total_pages());
	sched_start();
}
