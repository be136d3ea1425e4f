/*
 * Processes: each an L4 task with one alien thread, whose pager and
 * exception handler is the server's thread.  Loading a static ELF program
 * (ET_EXEC or static PIE) and building its initial stack as Linux does.
 */
#include "linux.h"
#include "../../lib/common/elf.h"

struct proc procs[MAX_PROCS];
int last_exit_status;
static int next_pid = 1;

#define STACK_TOP 0x7ffe00000000ull   /* below the UTCB area */
#define STACK_SIZE (8ull << 20)
#define MMAP_TOP (STACK_TOP - STACK_SIZE - (1ull << 30))
#define PIE_BASE 0x555555554000ull    /* where a static PIE is loaded, as Linux does without ASLR */
#define MAX_SEGMENTS 8
#define ET_DYN 3

/* Linux auxiliary-vector types */
#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_EXECFN 31

/* Processes by the number of their thread (the ID's number field). */
static struct proc *by_thread[L4_MAX_THREADS];

struct proc *proc_by_thread(l4_tid_t t)
{
	struct proc *p = L4_TID_NUMBER(t) < L4_MAX_THREADS ? by_thread[L4_TID_NUMBER(t)] : NULL;
	return p && p->used && p->tid == t ? p : NULL;
}

static struct proc *proc_new(void)
{
	for (int i = 0; i < MAX_PROCS; i++) {
		if (!procs[i].used) {
			memset(&procs[i], 0, sizeof(procs[i]));
			procs[i].used = true;
			procs[i].pid = next_pid++;
			return &procs[i];
		}
	}
	return NULL;
}

/* The ELF header fields elf_parse does not return. */
struct elf_info {
	u16 type, phentsize, phnum;
	u64 phoff;
};

static void elf_info(const u8 *image, struct elf_info *e)
{
	memcpy(&e->type, image + 16, 2);
	memcpy(&e->phoff, image + 32, 8);
	memcpy(&e->phentsize, image + 54, 2);
	memcpy(&e->phnum, image + 56, 2);
}

/* Areas for the segments; returns the entry point (with the load bias) and
 * the address of the program headers in the process, or 0 on error. */
static u64 load_segments(struct proc *p, const u8 *image, u64 size, u64 *phdr)
{
	struct elf_segment seg[MAX_SEGMENTS];
	u64 entry;
	int n = elf_parse(image, size, MMAP_TOP - PIE_BASE, &entry, seg, MAX_SEGMENTS);
	if (n <= 0)
		return 0;
	struct elf_info e;
	elf_info(image, &e);
	u64 bias = e.type == ET_DYN ? PIE_BASE : 0, end = 0;
	*phdr = 0;
	for (int i = 0; i < n; i++) {
		u64 start = (seg[i].vaddr + bias) & ~(LX_PAGE - 1), lead = seg[i].vaddr + bias - start;
		u64 stop = (seg[i].vaddr + bias + seg[i].memsz + LX_PAGE - 1) & ~(LX_PAGE - 1);
		unsigned prot = (seg[i].rights & L4_R ? LX_PROT_READ : 0) | (seg[i].rights & L4_W ? LX_PROT_WRITE : 0) |
				(seg[i].rights & L4_X ? LX_PROT_EXEC : 0);
		/* the area starts at a page boundary: its file bytes start `lead` earlier */
		if (seg[i].offset < lead || !vma_add(p, start, stop, prot, VMA_FILE, image + seg[i].offset - lead,
						     seg[i].filesz + lead))
			return 0;
		if (e.phoff >= seg[i].offset && e.phoff < seg[i].offset + seg[i].filesz)
			*phdr = seg[i].vaddr + bias + (e.phoff - seg[i].offset);
		if (stop > end)
			end = stop;
	}
	p->brk_start = p->brk = end;
	return entry + bias;
}

/* The initial stack: argc, argv[], NULL, envp[], NULL, auxv, then the
 * strings and the 16 random bytes.  Returns the stack pointer, or 0. */
static u64 build_stack(struct proc *p, const u8 *image, u64 entry, u64 phdr, int argc, const char *const *argv)
{
	static const char *const envp[] = { "HOME=/", "PATH=/bin:/sbin:/usr/bin:/usr/sbin", "TERM=vt100" };
	const int envc = (int)ARRAY_SIZE(envp);
	struct elf_info e;
	elf_info(image, &e);
	u64 sp = STACK_TOP;
	u64 str[64];
	if (argc + envc > (int)ARRAY_SIZE(str))
		return 0;
	for (int i = 0; i < argc + envc; i++) {
		const char *s = i < argc ? argv[i] : envp[i - argc];
		u64 n = strlen(s) + 1;
		sp -= n;
		if (!copy_out(p, sp, s, n))
			return 0;
		str[i] = sp;
	}
	sp -= sizeof("x86_64");
	u64 platform = sp;
	copy_out(p, platform, "x86_64", sizeof("x86_64"));
	sp -= 16;
	u64 random = sp;
	u64 rnd[2] = { l4_rdtsc() * 0x9e3779b97f4a7c15ull, l4_rdtsc() ^ 0xdeadbeefcafef00dull };
	copy_out(p, random, rnd, 16);
	u64 aux[][2] = {
		{ AT_PHDR, phdr }, { AT_PHENT, e.phentsize }, { AT_PHNUM, e.phnum }, { AT_PAGESZ, LX_PAGE },
		{ AT_ENTRY, entry }, { AT_UID, 0 }, { AT_EUID, 0 }, { AT_GID, 0 }, { AT_EGID, 0 },
		{ AT_HWCAP, 0x178bfbff }, { AT_CLKTCK, 100 }, { AT_PLATFORM, platform }, { AT_SECURE, 0 },
		{ AT_RANDOM, random }, { AT_EXECFN, str[0] }, { AT_NULL, 0 },
	};
	u64 words = 1 + (u64)argc + 1 + (u64)envc + 1 + 2 * ARRAY_SIZE(aux);
	sp = (sp - words * 8) & ~15ull;
	u64 w = sp, v = (u64)argc;
	bool ok = copy_out(p, w, &v, 8);
	w += 8;
	for (int i = 0; i < argc + envc + 2; i++, w += 8) {
		int k = i < argc ? i : i - 1; /* argv, NULL, envp, NULL */
		v = i == argc || i == argc + envc + 1 ? 0 : str[k];
		ok = ok && copy_out(p, w, &v, 8);
	}
	ok = ok && copy_out(p, w, aux, sizeof(aux));
	return ok ? sp : 0;
}

struct proc *proc_start(const u8 *image, u64 size, const char *name, int argc, const char *const *argv)
{
	struct proc *p = proc_new();
	if (!p)
		return NULL;
	u64 phdr, entry = load_segments(p, image, size, &phdr);
	bool ok = entry && vma_add(p, STACK_TOP - STACK_SIZE, STACK_TOP, LX_PROT_READ | LX_PROT_WRITE, VMA_ANON, NULL, 0);
	u64 sp = ok ? build_stack(p, image, entry, phdr, argc, argv) : 0;
	p->mmap_top = MMAP_TOP;
	usize n = strlen(name) < sizeof(p->exe) - 1 ? strlen(name) : sizeof(p->exe) - 1;
	memcpy(p->exe, name, n);
	fs_proc_start(p);
	if (!sp || l4_create_thread_ex(L4_NEWTASK, l4_myself(), L4_TC_ALIEN, l4_myself(), &p->tid) < 0) {
		fs_proc_exit(p);
		mm_release(p);
		p->used = false;
		return NULL;
	}
	by_thread[L4_TID_NUMBER(p->tid)] = p;
	l4_start_thread(p->tid, entry, sp);
	return p;
}

void proc_exit(struct proc *p, int status)
{
	l4_delete_task(p->tid);
	fs_proc_exit(p);
	mm_release(p);
	last_exit_status = status;
	p->used = false;
}
