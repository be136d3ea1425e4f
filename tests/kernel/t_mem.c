/*
 * Memory: map and grant items, recursive unmap, rights reduction, the
 * mapping database across task deletion, 2 MiB mappings, sigma0's rules,
 * and the pager library's lazy allocation and copy-on-write.
 *
 * Child tasks run a small command server from this program's image, which
 * a pager thread here maps into them one-to-one; the pages under test are
 * mapped into a window at WIN, away from everything else.
 */
#include "util.h"
#include <l4/pager.h>
#include "../../lib/common/string.h"

#define WIN 0x1000000000ull     /* 64 GiB: where children receive test pages */
#define WIN2M 0x1200000000ull   /* a 2 MiB aligned window */
#define COW_WIN 0x1400000000ull
#define ANON_WIN 0x1600000000ull
#define RW (L4_R | L4_W) /* our data pages: the root task maps them without X */

enum cmd { CMD_PROBE = 1, CMD_READ, CMD_WRITE, CMD_RECV_MAP, CMD_SEND_MAP, CMD_UNMAP, CMD_WINDOW };

static test_stack_t stacks[8];
static u8 pages[8][4096] __attribute__((aligned(4096)));
static u8 cow_template[4096] __attribute__((aligned(4096)));
static u8 pool[16][4096] __attribute__((aligned(4096)));
static struct pager pgr;
static l4_tid_t pager_tid, main_tid;

/* ---- the child's command server -------------------------------------------- */

static u64 do_command(u64 cmd, u64 a, u64 b, u64 c, u64 d)
{
	struct l4_msg m;
	switch (cmd) {
	case CMD_PROBE:
		return (u64)l4_kdebug(L4_KD_PROBE, a, 0);
	case CMD_READ:
		return *(volatile u64 *)a;
	case CMD_WRITE:
		*(volatile u64 *)a = b;
		return 0;
	case CMD_WINDOW:
		l4_utcb()->rcv_window = a;
		return 0;
	case CMD_RECV_MAP: /* a: window, b: from whom */
		l4_utcb()->rcv_window = a;
		return l4_receive(b, &m);
	case CMD_SEND_MAP: /* a: to, b: fpage, c: sendbase, d: grant */
		l4_map_msg(&m, c, b, d);
		return l4_send(a, &m);
	case CMD_UNMAP:
		return (u64)l4_unmap(a, (unsigned)b);
	}
	return ~0ull;
}

static void command_server(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t from;
	u64 tag = l4_wait(&m, &from);
	for (;;) {
		if (l4_ipc_failed(tag)) {
			tag = l4_wait(&m, &from);
			continue;
		}
		u64 r = do_command(L4_TAG_LABEL(tag), m.mr[1], m.mr[2], m.mr[3], m.mr[4]);
		m.mr[0] = L4_TAG_MAKE(0, 1, 0);
		m.mr[1] = r;
		/* the answer waits until its asker receives: commands may be posted */
		tag = l4_ipc(from, L4_ANYTHREAD, L4_NEVER, &m, &from);
	}
}

static l4_tid_t child(int n)
{
	memset(stacks[n], 0, STACK_SIZE);
	return l4_spawn_task(pager_tid, command_server, 0, stacks[n], STACK_SIZE);
}

static u64 call(l4_tid_t t, enum cmd cmd, u64 a, u64 b, u64 c, u64 d)
{
	struct l4_msg m = { { L4_TAG_MAKE(cmd, 4, 0), a, b, c, d } };
	u64 tag = l4_call(t, &m);
	return l4_ipc_failed(tag) ? ~0ull : m.mr[1];
}

/* Send a command without waiting for the answer. */
static void post(l4_tid_t t, enum cmd cmd, u64 a, u64 b)
{
	struct l4_msg m = { { L4_TAG_MAKE(cmd, 4, 0), a, b, 0, 0 } };
	l4_send(t, &m);
}

/* Map our page (fpage) to child t at its window; the child is told first. */
static u64 map_to(l4_tid_t t, u64 page, unsigned log2, unsigned rights, u64 win, bool grant)
{
	post(t, CMD_RECV_MAP, L4_FPAGE(win, log2, 0), main_tid);
	struct l4_msg m = { { L4_TAG_MAKE(0, 0, 2), win | (grant ? L4_ITEM_GRANT : L4_ITEM_MAP),
			      L4_FPAGE(page, log2, rights) } };
	u64 tag = l4_send(t, &m);
	struct l4_msg reply;
	l4_receive(t, &reply); /* CMD_RECV_MAP's answer */
	return tag;
}

/* Child `from` maps (or grants) its window page to child `to`'s window. */
static void child_maps_on(l4_tid_t from, l4_tid_t to, bool grant)
{
	post(to, CMD_RECV_MAP, L4_FPAGE(WIN, 12, 0), from);
	call(from, CMD_SEND_MAP, to, L4_FPAGE(WIN, 12, L4_RWX), WIN, grant);
	struct l4_msg reply;
	l4_receive(to, &reply);
}

static u64 probe(l4_tid_t t, u64 va) { return call(t, CMD_PROBE, va, 0, 0, 0); }

/* ---- tests -------------------------------------------------------------------- */

static void test_read_only_map(void)
{
	l4_tid_t c = child(0);
	pages[0][0] = 0x5a;
	u64 tag = map_to(c, (u64)pages[0], 12, L4_R, WIN, false);
	CHECK(!l4_ipc_failed(tag) && probe(c, WIN) == L4_R, "a read-only map item arrives read-only");
	CHECK(call(c, CMD_READ, WIN, 0, 0, 0) == *(u64 *)pages[0], "the child reads the page's contents");
	u64 unknown = pgr.unknown;
	post(c, CMD_WRITE, WIN, 1); /* faults: the pager ends the task */
	for (int i = 0; i < 20 && pgr.unknown == unknown; i++)
		l4_yield();
	CHECK(pgr.last_label == (L4_LABEL_PAGEFAULT | L4_W) && pgr.last_addr == WIN,
	      "a write to it faults to the pager as a write fault (label %llx)", pgr.last_label);
	CHECK(pages[0][0] == 0x5a, "and the page is unchanged");
}

static void test_grant(void)
{
	l4_tid_t b = child(0), c = child(1);
	map_to(b, (u64)pages[1], 12, L4_RWX, WIN, false);
	CHECK(probe(b, WIN) == RW, "B has the page");
	child_maps_on(b, c, true);
	CHECK(probe(b, WIN) == 0, "B granted it to C: B no longer has it");
	CHECK(probe(c, WIN) == RW, "C has it");
	call(c, CMD_WRITE, WIN, 4242, 0, 0);
	CHECK(*(volatile u64 *)pages[1] == 4242, "the same frame: C's write shows in our page");
	l4_unmap(L4_FPAGE((u64)pages[1], 12, L4_RWX), 0);
	CHECK(probe(c, WIN) == 0, "a grant keeps the derivation: our unmap reaches C");
	l4_delete_task(b);
	l4_delete_task(c);
}

static void test_recursive_unmap(void)
{
	l4_tid_t b = child(0), c = child(1);
	map_to(b, (u64)pages[2], 12, L4_RWX, WIN, false);
	child_maps_on(b, c, false);
	CHECK(probe(b, WIN) == RW && probe(c, WIN) == RW, "we map to B, B maps on to C");
	s64 st = l4_unmap(L4_FPAGE((u64)pages[2], 12, L4_W), 0);
	CHECK(st >= 0 && probe(b, WIN) == L4_R && probe(c, WIN) == L4_R,
	      "unmapping write rights makes both read-only");
	CHECK(l4_kdebug(L4_KD_PROBE, (u64)pages[2], 0) == RW, "our own mapping keeps its rights");
	st = l4_unmap(L4_FPAGE((u64)pages[2], 12, L4_RWX), 0);
	CHECK(st >= 0 && probe(b, WIN) == 0 && probe(c, WIN) == 0, "a full unmap revokes B's and C's copies");
	CHECK(l4_kdebug(L4_KD_PROBE, (u64)pages[2], 0) == RW, "and leaves ours");
	map_to(b, (u64)pages[2], 12, L4_RWX, WIN, false);
	call(b, CMD_WRITE, WIN, 7, 0, 0);
	st = l4_unmap(L4_FPAGE((u64)pages[2], 12, 0), 0);
	CHECK(st == (L4_UNMAP_REFERENCED | L4_UNMAP_DIRTY), "unmap reports referenced and dirty (%lld)", st);
	l4_delete_task(b);
	l4_delete_task(c);
}

static void test_delete_middle(void)
{
	l4_tid_t b = child(0), c = child(1);
	map_to(b, (u64)pages[3], 12, L4_RWX, WIN, false);
	child_maps_on(b, c, false);
	CHECK(probe(c, WIN) == RW, "a chain: us -> B -> C");
	l4_delete_task(b);
	CHECK(probe(c, WIN) == 0, "deleting B, the middle task, revokes C's mapping");
	CHECK(l4_kdebug(L4_KD_PROBE, (u64)pages[3], 0) == RW, "our page stays");
	l4_delete_task(c);
}

static void test_harmless_and_missing(void)
{
	s64 before = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
	s64 st = l4_unmap(L4_FPAGE(0x2000000000ull, 30, L4_RWX), L4_UNMAP_SELF);
	CHECK(st == 0 && l4_kdebug(L4_KD_FREE_PAGES, 0, 0) == before, "unmap of a never-mapped GiB is harmless");
	CHECK(l4_unmap(L4_FPAGE(0, 11, L4_RWX), 0) == -L4_EINVAL, "unmap of a 2 KiB fpage: EINVAL");
	CHECK(l4_unmap(L4_FPAGE(L4_USER_MAP_END, 12, L4_RWX), 0) == -L4_EINVAL,
	      "unmap of the UTCB area: EINVAL");
	l4_tid_t c = child(0);
	u64 tag = map_to(c, 0x2000000000ull, 12, L4_RWX, WIN, false);
	CHECK(!l4_ipc_failed(tag) && probe(c, WIN) == 0, "mapping memory we do not have gives nothing");
	tag = map_to(c, L4_KIP_ADDR, 12, L4_R, WIN, false);
	CHECK(ipc_error(tag, L4_IPC_MAPFAIL, false) && probe(c, WIN) == 0, "the KIP cannot be mapped on");
	tag = map_to(c, (u64)l4_utcb(), 12, L4_RWX, WIN, false);
	CHECK(ipc_error(tag, L4_IPC_MAPFAIL, false) && probe(c, WIN) == 0, "nor a UTCB");
	call(c, CMD_WINDOW, 0, 0, 0, 0);
	struct l4_msg m = { { L4_TAG_MAKE(CMD_PROBE, 0, 2), WIN | L4_ITEM_MAP, L4_FPAGE((u64)pages[4], 12, 7) } };
	tag = l4_call(c, &m);
	CHECK(ipc_error(tag, L4_IPC_OVERFLOW, false), "a receiver without a window refuses map items");
	l4_delete_task(c);
}

static void test_hostile_windows(void)
{
	l4_tid_t c = child(0);
	u64 tag = map_to(c, (u64)pages[4], 12, L4_RWX, 0xffffffff80000000ull, false);
	CHECK(ipc_error(tag, L4_IPC_MAPFAIL, false), "a receive window in the kernel half: map fails");
	post(c, CMD_RECV_MAP, L4_FPAGE(0x7fffc0000000ull, 30, 0), main_tid);
	struct l4_msg m = { { L4_TAG_MAKE(0, 0, 2), L4_ITEM_MAP, L4_FPAGE(L4_IMAGE_BASE, 32, L4_RWX) } };
	tag = l4_send(c, &m);
	l4_receive(c, &m);
	CHECK(ipc_error(tag, L4_IPC_MAPFAIL, false), "a window reaching past the user area: map fails");
	/* grant onto a mapping derived from the granted one */
	map_to(c, (u64)pages[4], 12, L4_RWX, WIN, false);
	tag = map_to(c, (u64)pages[4], 12, L4_RWX, WIN, true);
	CHECK(!l4_ipc_failed(tag) && probe(c, WIN) == RW && l4_kdebug(L4_KD_PROBE, (u64)pages[4], 0) == 0,
	      "granting onto its own copy still takes the page from the granter");
	l4_delete_task(c);
}

/* Mapping into the middle of the very mapping being sent, within one task. */
static volatile u64 self_map_result;

static void receive_into(u64 window)
{
	struct l4_msg m;
	l4_utcb()->rcv_window = window;
	self_map_result = l4_receive(main_tid, &m);
}

static void test_map_onto_source(u64 big)
{
	l4_tid_t t = l4_spawn_thread(receive_into, L4_FPAGE(big + 0x4000, 12, 0), stacks[4], STACK_SIZE);
	yield_n(2);
	struct l4_msg m = { { L4_TAG_MAKE(0, 0, 2), L4_ITEM_MAP, L4_FPAGE(big + 0x1000, 12, L4_RWX) } };
	u64 tag = l4_send(t, &m);
	/* our 2 MiB page was split above: this maps one 4 KiB piece over another */
	*(volatile u64 *)(big + 0x1000) = 0x1234;
	CHECK(!l4_ipc_failed(tag) && *(volatile u64 *)(big + 0x4000) == 0x1234,
	      "mapping a page of a region onto another page of it: both name one frame, no hang (%llx)", tag);
	s64 st = l4_unmap(L4_FPAGE(big, 21, L4_RWX), L4_UNMAP_SELF);
	CHECK(st >= 0 && l4_kdebug(L4_KD_PROBE, big + 0x4000, 0) == 0, "and the region unmaps cleanly");
	l4_delete_thread(t);

	/* a whole 2 MiB page: the map would revoke its own source first */
	u64 whole = sigma0_get_superpage();
	t = l4_spawn_thread(receive_into, L4_FPAGE(whole + 0x4000, 12, 0), stacks[4], STACK_SIZE);
	yield_n(2);
	m = (struct l4_msg){ { L4_TAG_MAKE(0, 0, 2), L4_ITEM_MAP, L4_FPAGE(whole + 0x1000, 12, L4_RWX) } };
	tag = l4_send(t, &m);
	CHECK(whole && ipc_error(tag, L4_IPC_MAPFAIL, false),
	      "mapping a piece of a 2 MiB page into itself: MAPFAIL, no hang (%llx)", tag);
	l4_delete_thread(t);
}

static void test_sigma0(void)
{
	u64 p = sigma0_get_any_page();
	CHECK(p != 0 && l4_kdebug(L4_KD_PROBE, p, 0) == L4_RWX, "sigma0 gives a page, one-to-one (%llx)", p);
	CHECK(sigma0_get_page(p) == 0, "and refuses it the second time");
	const struct l4_kip *k = l4_kip();
	u64 kernel_page = 0;
	for (u32 i = 0; i < k->n_mem; i++)
		if (k->mem[i].type == L4_MEM_KERNEL)
			kernel_page = k->mem[i].base;
	CHECK(kernel_page && sigma0_get_page(kernel_page) == 0, "it refuses kernel memory (%llx)", kernel_page);
	CHECK(sigma0_get_page(0xfebf0000ull) == 0, "and device memory to an unprivileged task");
}


static void test_superpages(void)
{
	u64 big = sigma0_get_superpage();
	CHECK(big && l4_kdebug(L4_KD_PROBE, big, 0) == (L4_RWX | L4_KD_PROBE_2M),
	      "sigma0 maps a 2 MiB region as one 2 MiB page (%llx)", big);
	l4_tid_t c = child(0);
	map_to(c, big, 21, L4_RWX, WIN2M, false);
	CHECK(probe(c, WIN2M + 4096) == (L4_RWX | L4_KD_PROBE_2M), "mapped on whole, it stays a 2 MiB page");
	map_to(c, big + 8192, 12, L4_R, WIN, false);
	CHECK(probe(c, WIN) == L4_R, "a 4 KiB part of it maps as 4 KiB");
	l4_unmap(L4_FPAGE(big, 21, L4_RWX), 0);
	CHECK(probe(c, WIN2M) == 0 && probe(c, WIN) == 0, "unmapping the 2 MiB revokes both");
	l4_unmap(L4_FPAGE(big + 0x100000, 20, L4_RWX), L4_UNMAP_SELF);
	CHECK(l4_kdebug(L4_KD_PROBE, big + 0x100000, 0) == 0 && l4_kdebug(L4_KD_PROBE, big, 0) == L4_RWX,
	      "unmapping our own upper half splits our 2 MiB page");
	l4_delete_task(c);
	test_map_onto_source(big);
}

static void test_cow_and_lazy(void)
{
	struct pager cow;
	static test_stack_t cow_stack;
	memcpy(cow_template, "template", 9);
	pager_init(&cow, pool, sizeof(pool), false);
	pager_add_image(&cow);
	pager_add_region(&cow, COW_WIN, COW_WIN + 4096, PAGER_COW, (u64)cow_template, L4_R | L4_W);
	pager_add_region(&cow, ANON_WIN, ANON_WIN + 16 * 4096, PAGER_ANON, 0, L4_R | L4_W);
	l4_tid_t cp = pager_start(&cow, cow_stack, STACK_SIZE);
	memset(stacks[2], 0, STACK_SIZE);
	memset(stacks[3], 0, STACK_SIZE);
	l4_tid_t d1 = l4_spawn_task(cp, command_server, 0, stacks[2], STACK_SIZE);
	l4_tid_t d2 = l4_spawn_task(cp, command_server, 0, stacks[3], STACK_SIZE);
	u64 t8 = 0;
	memcpy(&t8, "template", 8);
	CHECK(call(d1, CMD_READ, COW_WIN, 0, 0, 0) == t8 && call(d2, CMD_READ, COW_WIN, 0, 0, 0) == t8,
	      "two tasks read the copy-on-write template");
	CHECK(probe(d1, COW_WIN) == L4_R, "mapped read-only while shared");
	call(d1, CMD_WRITE, COW_WIN, 1, 0, 0);
	call(d2, CMD_WRITE, COW_WIN, 2, 0, 0);
	CHECK(call(d1, CMD_READ, COW_WIN, 0, 0, 0) == 1 && call(d2, CMD_READ, COW_WIN, 0, 0, 0) == 2,
	      "after writing, each task has its own copy");
	CHECK(!memcmp(cow_template, "template", 9), "and the template is unchanged");
	CHECK(probe(d1, ANON_WIN + 8192) == 0, "lazy allocation: nothing until touched");
	CHECK(call(d1, CMD_READ, ANON_WIN + 8192, 0, 0, 0) == 0 && probe(d1, ANON_WIN + 8192) == (L4_R | L4_W),
	      "a touch gives a zero-filled page");
	call(d1, CMD_WRITE, ANON_WIN + 8192, 99, 0, 0);
	CHECK(call(d2, CMD_READ, ANON_WIN + 8192, 0, 0, 0) == 0, "another task's page there is its own");
	l4_delete_task(d1);
	l4_delete_task(d2);
	l4_delete_thread(cp);
}

static void test_map_unmap_cycles(void)
{
	l4_tid_t c = child(0);
	call(c, CMD_WINDOW, L4_FPAGE(WIN, 12, 0), 0, 0, 0);
	struct l4_msg m = { { L4_TAG_MAKE(CMD_PROBE, 1, 2), WIN, WIN | L4_ITEM_MAP, L4_FPAGE((u64)pages[5], 12, 7) } };
	l4_call(c, &m); /* warm up: page tables in the child exist from now on */
	l4_unmap(L4_FPAGE((u64)pages[5], 12, L4_RWX), 0);
	s64 before = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
	int ok = 0;
	for (int i = 0; i < 10000; i++) {
		m.mr[0] = L4_TAG_MAKE(CMD_PROBE, 1, 2);
		m.mr[1] = WIN;
		m.mr[2] = WIN | L4_ITEM_MAP;
		m.mr[3] = L4_FPAGE((u64)pages[5], 12, L4_RWX);
		u64 tag = l4_call(c, &m);
		ok += !l4_ipc_failed(tag) && m.mr[1] == RW;
		l4_unmap(L4_FPAGE((u64)pages[5], 12, L4_RWX), 0);
	}
	CHECK(ok == 10000, "10,000 map/unmap cycles all mapped (%d)", ok);
	CHECK(l4_kdebug(L4_KD_FREE_PAGES, 0, 0) == before, "and kernel free memory is where it started");
	l4_delete_task(c);
}

int main(void)
{
	main_tid = l4_myself();
	memset(pages, 1, sizeof(pages)); /* have our pages before mapping them on */
	pager_init(&pgr, NULL, 0, false);
	pager_add_image(&pgr);
	pager_tid = pager_start(&pgr, stacks[7], STACK_SIZE);
	test_read_only_map();
	test_grant();
	test_recursive_unmap();
	test_delete_middle();
	test_harmless_and_missing();
	test_hostile_windows();
	test_sigma0();
	test_superpages();
	test_cow_and_lazy();
	test_map_unmap_cycles();
	return t_done("t_mem");
}
