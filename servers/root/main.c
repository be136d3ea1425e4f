/*
 * The root task: starts the boot modules named in the boot configuration
 * (the first module whose name ends in ".cfg") as new tasks, and is their
 * pager: their program images are loaded from the modules into pages from
 * sigma0, their stacks are filled lazily with zeroed pages, and a fault
 * anywhere else stops the task.  A task exits by sending L4_LABEL_EXIT.
 *
 * Drivers: a "devices" line gives the next program an interrupt line
 * (attached to its first thread before it starts) and I/O ports (taken
 * from sigma0, which gives them only to us, and mapped to it when it asks
 * with L4_LABEL_GET_IO).  One program may be the console driver: it runs
 * above all other programs, and every program started after it learns its
 * thread ID.  We ourselves keep writing through the kernel: as the
 * driver's pager we must never wait for it.
 */
#include <l4/runtime.h>
#include "bootcfg.h"
#include "../../lib/common/elf.h"
#include "../../lib/common/string.h"

#define MAX_CHILDREN 32
#define MAX_CHILD_PAGES 8192 /* all children together */
#define MAX_KNOWN_TIDS 8
#define STACK_TOP 0x00007ff000000000ull
#define STACK_SIZE (256ull << 10)
#define CHILD_MCP 199 /* programs may not outrank sigma0 (200) */
/* The console driver outranks every program, so none can preempt it in
 * the middle of a line; at sigma0's priority it still cannot starve
 * sigma0 (which it never calls once it runs). */
#define CONSOLE_PRIO 200
#define MAX_HELD_IO 16

struct child {
	bool used;
	u64 task;                       /* task ID from ThreadControl */
	l4_tid_t tids[MAX_KNOWN_TIDS];  /* threads seen: [0] is the first */
	char name[BOOTCFG_NAME];
	bool awaited;                   /* a "run" command waits for it */
	struct bootdev dev;             /* its interrupt line and ports */
};

struct cpage {
	u64 va;   /* page address in the child */
	u64 page; /* page in root (VA == PA) */
	u8 child; /* index + 1; 0 = free entry */
	u8 rights;
};

static struct child children[MAX_CHILDREN];
static struct cpage cpages[MAX_CHILD_PAGES];
static u64 free_pages[4096];
static u32 nfree_pages;
static int failures;
static int console_ci = -1;  /* the console driver's child, if any */
static l4_tid_t console_tid; /* its thread, once it is ready */

/* ---- memory ---------------------------------------------------------- */

static u8 *page_alloc(void)
{
	u64 pa = nfree_pages ? free_pages[--nfree_pages] : sigma0_get_any_page();
	if (pa)
		memset((void *)pa, 0, 4096);
	return (u8 *)pa;
}

static void page_free(u64 pa)
{
	if (nfree_pages < ARRAY_SIZE(free_pages))
		free_pages[nfree_pages++] = pa;
}

static struct cpage *cpage_find(int ci, u64 va)
{
	for (u32 i = 0; i < MAX_CHILD_PAGES; i++)
		if (cpages[i].child == ci + 1 && cpages[i].va == va)
			return &cpages[i];
	return NULL;
}

static struct cpage *cpage_add(int ci, u64 va, unsigned rights)
{
	u8 *page = page_alloc();
	if (!page)
		return NULL;
	for (u32 i = 0; i < MAX_CHILD_PAGES; i++) {
		if (!cpages[i].child) {
			cpages[i] = (struct cpage){ va, (u64)page, (u8)(ci + 1), (u8)rights };
			return &cpages[i];
		}
	}
	page_free((u64)page);
	return NULL;
}

static void release_child(int ci)
{
	for (u32 i = 0; i < MAX_CHILD_PAGES; i++) {
		if (cpages[i].child == ci + 1) {
			page_free(cpages[i].page);
			cpages[i].child = 0;
		}
	}
	children[ci].used = false;
}

/* ---- boot modules ------------------------------------------------------ */

static const struct l4_kip_module *find_module(const char *name)
{
	const struct l4_kip *k = l4_kip();
	for (u32 i = 0; i < k->n_modules; i++)
		if (!strcmp(k->modules[i].name, name))
			return &k->modules[i];
	return NULL;
}

/* Modules are mapped one-to-one from sigma0 on first use. */
static const u8 *module_data(const struct l4_kip_module *m)
{
	static bool mapped[L4_KIP_MAX_MODULES];
	u32 i = (u32)(m - l4_kip()->modules);
	if (!mapped[i]) {
		for (u64 pa = m->base & ~0xfffull; pa < m->base + m->size; pa += 4096)
			if (sigma0_get_page(pa) != pa)
				return NULL;
		mapped[i] = true;
	}
	return (const u8 *)m->base;
}

/* ---- starting tasks ------------------------------------------------------ */

static bool load_image(int ci, const u8 *image, u64 size, u64 *entry)
{
	struct elf_segment segs[8];
	int n = elf_parse(image, size, STACK_TOP - STACK_SIZE, entry, segs, 8);
	if (n <= 0) {
		printf("root: %s: not a loadable ELF image (%d)\n", children[ci].name, n);
		return false;
	}
	for (int s = 0; s < n; s++) {
		u64 end = segs[s].vaddr + segs[s].memsz;
		for (u64 va = segs[s].vaddr & ~0xfffull; va < end; va += 4096) {
			struct cpage *cp = cpage_find(ci, va);
			if (!cp && !(cp = cpage_add(ci, va, 0)))
				return false;
			cp->rights |= segs[s].rights;
			for (u64 a = va < segs[s].vaddr ? segs[s].vaddr : va; a < va + 4096 && a < end; a++)
				if (a - segs[s].vaddr < segs[s].filesz)
					((u8 *)cp->page)[a - va] = image[segs[s].offset + a - segs[s].vaddr];
		}
	}
	return true;
}

/* argc, argv[], NULL, envp NULL, auxv (L4_AT_CONSOLE if there is a
 * console) and AT_NULL, then the strings. */
static bool build_stack(int ci, const char *name, const char *args, u64 *sp_out)
{
	struct cpage *cp = cpage_add(ci, STACK_TOP - 4096, L4_R | L4_W);
	if (!cp)
		return false;
	u8 *page = (u8 *)cp->page;
	u64 base = STACK_TOP - 4096;
	char strings[BOOTCFG_NAME + BOOTCFG_ARGS + 2];
	usize len = (usize)snprintf(strings, sizeof(strings), "%s %s", name, args);
	u64 str_off = 4096 - ((len + 1 + 15) & ~15ull);
	memcpy(page + str_off, strings, len + 1);
	u64 argv[40];
	int argc = 0;
	char *s = (char *)page + str_off;
	for (usize i = 0; i <= len && argc < 39; i++) {
		if (s[i] == ' ' || s[i] == 0) {
			s[i] = 0;
			continue;
		}
		if (i == 0 || s[i - 1] == 0)
			argv[argc++] = base + str_off + i;
	}
	u64 *sp = (u64 *)(page + str_off) - (argc + 8);
	sp = (u64 *)((u64)sp & ~15ull);
	sp[0] = (u64)argc;
	for (int i = 0; i < argc; i++)
		sp[1 + i] = argv[i];
	u64 *p = sp + 1 + argc;
	*p++ = 0; /* argv end */
	*p++ = 0; /* envp end */
	if (console_tid) {
		*p++ = L4_AT_CONSOLE;
		*p++ = console_tid;
	}
	*p++ = L4_AT_NULL;
	*p = 0;
	*sp_out = base + ((u8 *)sp - page);
	return true;
}

/* Port ranges sigma0 gave us: it gives each only once, and a later
 * program may be a driver for the same device. */
static struct { int port, log2; } held_io[MAX_HELD_IO];
static u32 nheld_io;

static bool io_covers(int port, int log2, int want_port, int want_log2)
{
	return port >= 0 && want_port >= port && want_port + (1 << want_log2) <= port + (1 << log2);
}

static bool take_io(const struct bootdev *d)
{
	if (d->io_port < 0)
		return true;
	for (u32 i = 0; i < nheld_io; i++)
		if (io_covers(held_io[i].port, held_io[i].log2, d->io_port, d->io_log2))
			return true;
	if (nheld_io == MAX_HELD_IO || !sigma0_get_io((u16)d->io_port, (unsigned)d->io_log2))
		return false;
	held_io[nheld_io].port = d->io_port;
	held_io[nheld_io++].log2 = d->io_log2;
	return true;
}

/* Programs run at our priority with MCP 199, the console driver above
 * them; a driver's interrupt is attached before it runs. */
static bool set_up_thread(l4_tid_t t, bool console, const struct bootdev *d)
{
	u64 prio = console ? CONSOLE_PRIO : L4_SCHED_KEEP, mcp = console ? CONSOLE_PRIO : CHILD_MCP;
	return l4_schedule_mcp(t, prio, L4_SCHED_KEEP, mcp, NULL, NULL, NULL) == 0 &&
	       (d->irq < 0 || l4_attach_irq(L4_IRQ_TID(d->irq), t) == 0);
}

static int start_task(const struct bootcmd *c)
{
	int ci = 0;
	while (ci < MAX_CHILDREN && children[ci].used)
		ci++;
	const struct l4_kip_module *m = find_module(c->name);
	if (ci == MAX_CHILDREN || !m) {
		printf("root: cannot start %s: %s\n", c->name, m ? "too many tasks" : "no such module");
		return -1;
	}
	struct child *ch = &children[ci];
	memset(ch, 0, sizeof(*ch));
	ch->used = true;
	memcpy(ch->name, c->name, sizeof(ch->name));
	ch->dev = c->dev;
	u64 entry, sp;
	const u8 *image = module_data(m);
	if (!image || !take_io(&c->dev) || !load_image(ci, image, m->size, &entry) ||
	    !build_stack(ci, c->name, c->args, &sp) || l4_create_task(l4_myself(), &ch->tids[0], &ch->task) < 0 ||
	    !set_up_thread(ch->tids[0], c->kind == BOOT_CONSOLE, &c->dev) || l4_start_thread(ch->tids[0], entry, sp) < 0) {
		printf("root: cannot start %s\n", c->name);
		if (ch->tids[0])
			l4_delete_task(ch->tids[0]);
		release_child(ci);
		return -1;
	}
	ch->awaited = c->kind == BOOT_RUN;
	return ci;
}

/* ---- serving children ------------------------------------------------------ */

static int child_by_task(u64 task)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].used && children[i].task == task)
			return i;
	return -1;
}

static int child_by_tid(l4_tid_t t)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		for (int k = 0; children[i].used && k < MAX_KNOWN_TIDS; k++)
			if (children[i].tids[k] == t)
				return i;
	return -1;
}

static void learn_tid(int ci, l4_tid_t t)
{
	for (int k = 0; k < MAX_KNOWN_TIDS; k++) {
		if (children[ci].tids[k] == t)
			return;
		if (!children[ci].tids[k]) {
			children[ci].tids[k] = t;
			return;
		}
	}
}

static bool waiting_for_run;

static void finish_child(int ci, l4_tid_t any_thread, bool ok, const char *how)
{
	printf("%sok - %s %s\n", ok ? "" : "not ", children[ci].name, how);
	if (!ok)
		failures++;
	l4_delete_task(any_thread);
	if (children[ci].awaited)
		waiting_for_run = false;
	if (ci == console_ci) { /* programs started from now on use the kernel */
		console_ci = -1;
		console_tid = L4_NILTHREAD;
	}
	release_child(ci);
}

/* Returns whether to reply (with the map item in m). */
static bool handle_fault(l4_tid_t from, struct l4_msg *m)
{
	u64 addr = m->mr[1], ip = m->mr[2], task = m->mr[3];
	unsigned access = L4_TAG_LABEL(m->mr[0]) & 7;
	int ci = child_by_task(task);
	if (ci < 0) {
		printf("root: page fault from unknown thread %llx at %llx\n", from, addr);
		return false;
	}
	learn_tid(ci, from);
	u64 va = addr & ~0xfffull;
	struct cpage *cp = cpage_find(ci, va);
	if (!cp && va >= STACK_TOP - STACK_SIZE && va < STACK_TOP)
		cp = cpage_add(ci, va, L4_R | L4_W);
	if (!cp || (access & ~cp->rights & ~L4_R)) {
		char how[96];
		snprintf(how, sizeof(how), "killed: page fault at %llx (ip %llx, access %u)", addr, ip, access);
		finish_child(ci, from, false, how);
		return false;
	}
	l4_map_msg(m, va, L4_FPAGE(cp->page, 12, cp->rights), false);
	return true;
}

static void handle_exit(l4_tid_t from, struct l4_msg *m)
{
	int ci = child_by_tid(from);
	if (ci < 0) {
		printf("root: exit from unknown thread %llx\n", from);
		return;
	}
	s64 status = (s64)m->mr[1];
	char how[48];
	snprintf(how, sizeof(how), "exited with status %lld", status);
	finish_child(ci, from, status == 0, how);
}

/* A driver's ports: only those its "devices" line names.  Always replies. */
static bool handle_get_io(l4_tid_t from, struct l4_msg *m)
{
	l4_fpage_t fp = m->mr[1];
	int ci = child_by_tid(from);
	int port = (int)L4_IO_FPAGE_PORT(fp), log2 = (int)L4_FPAGE_LOG2(fp);
	bool ok = ci >= 0 && L4_TAG_U(m->mr[0]) >= 1 && L4_IS_IO_FPAGE(fp) && log2 <= 16 && !(port & ((1 << log2) - 1)) &&
		  io_covers(children[ci].dev.io_port, children[ci].dev.io_log2, port, log2);
	if (ok)
		l4_map_msg(m, 0, L4_IO_FPAGE(port, log2), false);
	else
		m->mr[0] = L4_TAG_MAKE(1, 0, 0);
	return true;
}

/* A piece of a boot module, read-only, at its own address: the largest
 * size-aligned fpage from base + off that stays within the module's pages
 * (at most 4 MiB). */
static bool handle_get_module(struct l4_msg *m)
{
	const struct l4_kip *k = l4_kip();
	u64 i = m->mr[1], off = m->mr[2];
	const struct l4_kip_module *mod = i < k->n_modules ? &k->modules[i] : NULL;
	u64 base = mod ? mod->base & ~0xfffull : 0, end = mod ? (mod->base + mod->size + 0xfff) & ~0xfffull : 0;
	if (!mod || (off & 0xfff) || off >= end - base || !module_data(mod)) {
		m->mr[0] = L4_TAG_MAKE(1, 0, 0);
		return true;
	}
	u64 a = base + off;
	unsigned log2 = 12;
	while (log2 < 22 && !(a & ((2ull << log2) - 1)) && a + (2ull << log2) <= end)
		log2++;
	l4_map_msg(m, a, L4_FPAGE(a, log2, L4_R | L4_X), false);
	return true;
}

/* The console driver serves now; anybody else is told no (label 1). */
static bool handle_ready(l4_tid_t from, struct l4_msg *m)
{
	bool ok = console_ci >= 0 && child_by_tid(from) == console_ci;
	if (ok)
		console_tid = from;
	m->mr[0] = L4_TAG_MAKE(ok ? 0 : 1, 0, 0);
	return true;
}

/* A reply still due when done() turns true is sent on the way out. */
static void serve_until(bool (*done)(void))
{
	struct l4_msg m;
	l4_tid_t from;
	bool reply = false;
	while (!done()) {
		u64 tag = reply ? l4_reply_wait(from, &m, &from) : l4_wait(&m, &from);
		reply = false;
		if (l4_ipc_failed(tag))
			continue;
		u64 label = L4_TAG_LABEL(tag);
		if ((label & ~0xfull) == L4_LABEL_PAGEFAULT)
			reply = handle_fault(from, &m);
		else if (label == L4_LABEL_EXIT)
			handle_exit(from, &m);
		else if (label == L4_LABEL_GET_IO)
			reply = handle_get_io(from, &m);
		else if (label == L4_LABEL_READY)
			reply = handle_ready(from, &m);
		else if (label == L4_LABEL_GET_MODULE)
			reply = handle_get_module(&m);
	}
	if (reply)
		l4_ipc(from, L4_NILTHREAD, L4_POLL, &m, NULL);
}

static bool run_finished(void) { return !waiting_for_run; }
static bool console_started(void) { return console_tid || console_ci < 0; }
static bool never(void) { return false; }

static const struct l4_kip_module *find_config(void)
{
	const struct l4_kip *k = l4_kip();
	for (u32 i = 0; i < k->n_modules; i++) {
		usize n = strlen(k->modules[i].name);
		if (n > 4 && !strcmp(k->modules[i].name + n - 4, ".cfg"))
			return &k->modules[i];
	}
	return NULL;
}

/* The HPET's registers: device memory on every QEMU PC, described by no
 * KIP memory descriptor. */
#define HPET_PHYS 0xfed00000ull

static void check_device_memory(void)
{
	u64 got = sigma0_get_region(HPET_PHYS, 12);
	s64 rights = l4_kdebug(L4_KD_PROBE, HPET_PHYS, 0);
	bool ok = got == HPET_PHYS && rights == (L4_R | L4_W);
	printf("%sok - sigma0 maps device memory (HPET) to the privileged root task\n", ok ? "" : "not ");
	bool again = sigma0_get_region(HPET_PHYS, 12) == 0;
	printf("%sok - and only once\n", again ? "" : "not ");
	failures += !ok + !again;
}

/* We go on once the console driver is ready (or dead), so that its
 * start-up is over before any program writes. */
static void start_console(const struct bootcmd *c)
{
	console_ci = start_task(c);
	if (console_ci < 0) {
		printf("not ok - console: %s could not be started\n", c->name);
		failures++;
		return;
	}
	serve_until(console_started);
	struct l4_exreg x = { 0, 0, 0, 0, 0, 0 };
	bool ok = console_tid && l4_exchange_registers(console_tid, &x) == 0 &&
		  !(x.state & L4_EXREG_STATE_PRIVILEGED);
	printf("%sok - console: %s serves, from an unprivileged task\n", ok ? "" : "not ", c->name);
	failures += !ok;
}

static struct bootcmd cmds[BOOTCFG_MAX];
static const char *const verbs[] = { [BOOT_RUN] = "run", [BOOT_START] = "start", [BOOT_CONSOLE] = "console" };

int main(void)
{
	printf("root: started, sigma0 is %llx\n", l4_kip()->sigma0);
	const struct l4_kip_module *cfg = find_config();
	if (!cfg) {
		printf("root: no boot configuration (*.cfg module)\n");
		serve_until(never);
	}
	const char *text = (const char *)module_data(cfg);
	int n = text ? bootcfg_parse(text, cfg->size, cmds, BOOTCFG_MAX) : -1;
	if (n < 0) {
		printf("not ok - root: %s: error in line %d\n", cfg->name, -n);
		l4_kdebug(L4_KD_POWEROFF, 2, 0);
		serve_until(never);
	}
	for (int i = 0; i < n; i++) {
		if (cmds[i].kind == BOOT_DEVCHECK) {
			check_device_memory();
			continue;
		}
		if (cmds[i].kind == BOOT_MODULE)
			continue; /* for a program to read */
		if (cmds[i].kind == BOOT_POWEROFF) {
			printf("root: all done, %d failures\n", failures);
			l4_kdebug(L4_KD_POWEROFF, failures ? 1 : 0, 0);
		}
		printf("root: %s %s %s\n", verbs[cmds[i].kind], cmds[i].name, cmds[i].args);
		if (cmds[i].kind == BOOT_CONSOLE) {
			start_console(&cmds[i]);
			continue;
		}
		if (start_task(&cmds[i]) < 0) {
			printf("not ok - %s could not be started\n", cmds[i].name);
			failures++;
			continue;
		}
		if (cmds[i].kind == BOOT_RUN) {
			waiting_for_run = true;
			serve_until(run_finished);
		}
	}
	serve_until(never);
	return 0;
}
