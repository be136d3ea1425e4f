/* Threads and tasks: creation in the own task and in new tasks, start and
 * control through exchange-registers, deletion, authority, and 1000 tasks
 * created and deleted without losing kernel memory. */
#include "util.h"
#include "../../lib/common/string.h"

static test_stack_t stacks[6];
static volatile u64 counter, flag;
static l4_tid_t main_tid;

static void set_flag(u64 v) { flag = v; }

static void count_forever(u64 arg)
{
	(void)arg;
	for (;;)
		counter++;
}

static void test_create_in_own_task(void)
{
	l4_tid_t t = L4_NILTHREAD;
	u64 task;
	s64 r = l4_thread_control(L4_NILTHREAD, main_tid, l4_parent, L4_TC_CREATE, &t, &task);
	CHECK(r == 0 && t != L4_NILTHREAD, "create a thread in the own task (%llx)", t);
	u64 st = thread_state(t);
	CHECK(st != ~0ull && (st & L4_EXREG_STATE_HALTED), "a new thread starts halted (state %llx)", st);
	l4_delete_thread(t);

	flag = 0;
	t = l4_spawn_thread(set_flag, 5, stacks[0], STACK_SIZE);
	yield_n(2);
	CHECK(flag == 5, "exchange-registers started it at its IP and SP (flag %llu)", flag);
	l4_delete_thread(t);

	l4_tid_t taken = L4_TID_MAKE(3000, 9), got;
	CHECK(l4_thread_control(taken, main_tid, l4_parent, L4_TC_CREATE, &got, NULL) == 0 && got == taken,
	      "create with a chosen thread ID");
	CHECK(l4_thread_control(taken, main_tid, l4_parent, L4_TC_CREATE, &got, NULL) == -L4_EEXIST,
	      "the same ID twice: EEXIST");
	l4_delete_thread(taken);
	CHECK(thread_state(taken) == ~0ull, "a deleted thread's ID is stale");
	CHECK(l4_thread_control(taken, main_tid, l4_parent, L4_TC_CREATE, &got, NULL) == -L4_EINVAL_TID,
	      "and cannot be created again: EINVAL_TID");
	l4_tid_t newer = L4_TID_MAKE(3000, 10);
	CHECK(l4_thread_control(newer, main_tid, l4_parent, L4_TC_CREATE, &got, NULL) == 0,
	      "a later version of the number can");
	l4_delete_thread(newer);
	struct l4_exreg x = { 0, 0, 0, 0, 0, 0 };
	CHECK(l4_exchange_registers(taken, &x) == -L4_EINVAL_TID, "exchange-registers on it: EINVAL_TID");
	CHECK(l4_delete_thread(main_tid) == -L4_EBUSY, "a thread cannot delete itself");
}

static void test_halt_resume(void)
{
	counter = 0;
	l4_tid_t t = l4_spawn_thread(count_forever, 0, stacks[1], STACK_SIZE);
	/* same priority: it runs when we yield */
	yield_n(3);
	u64 c1 = counter;
	CHECK(c1 > 0, "a started thread runs (%llu)", c1);
	struct l4_exreg x = { L4_EXREG_HALT, 0, 0, 0, 0, 0 };
	CHECK(l4_exchange_registers(t, &x) == 0, "halt it");
	u64 c2 = counter;
	yield_n(5);
	CHECK(counter == c2, "a halted thread does not run");
	CHECK(thread_in_state(t, L4_EXREG_STATE_HALTED), "its state says halted");
	x = (struct l4_exreg){ L4_EXREG_RESUME, 0, 0, 0, 0, 0 };
	l4_exchange_registers(t, &x);
	yield_n(3);
	CHECK(counter > c2, "resumed, it runs again");
	x = (struct l4_exreg){ 0, 0, 0, 0, 0, 0 };
	l4_exchange_registers(t, &x);
	CHECK(x.ip >= (u64)count_forever && x.ip < (u64)count_forever + 64,
	      "exchange-registers reads its IP (%llx)", x.ip);
	CHECK(x.sp > (u64)stacks[1] && x.sp <= (u64)stacks[1] + STACK_SIZE, "and its SP");
	CHECK(x.pager == l4_parent, "and its pager");
	l4_delete_thread(t);
}

/* ---- a child task ------------------------------------------------------ */

static volatile s64 child_results[6];
static volatile bool child_done;

static void child_task(u64 parent_thread)
{
	struct l4_exreg x = { L4_EXREG_HALT, 0, 0, 0, 0, 0 };
	child_results[0] = l4_exchange_registers(parent_thread, &x);
	child_results[1] = l4_delete_thread(parent_thread);
	child_results[2] = l4_schedule(parent_thread, 1, L4_SCHED_KEEP, NULL, NULL);
	child_results[3] = l4_thread_control(L4_NILTHREAD, parent_thread, L4_NILTHREAD, L4_TC_CREATE, NULL, NULL);
	child_results[4] = l4_kdebug(L4_KD_POWEROFF, 0, 0);
	child_results[5] = l4_delete_task(l4_kip()->sigma0);
	child_done = true;
	struct l4_msg m = { { L4_TAG_MAKE(1, 0, 0) } };
	l4_send(parent_thread, &m);
}

static void test_new_task(void)
{
	child_done = false;
	l4_tid_t t = l4_spawn_task(l4_mirror_pager_start(), child_task, main_tid, stacks[2], STACK_SIZE);
	CHECK(t != L4_NILTHREAD, "create a thread in a new task (%llx)", t);
	struct l4_msg m;
	u64 tag = l4_receive(t, &m);
	CHECK(!l4_ipc_failed(tag) && child_done, "it runs in its own address space and reports back");
	CHECK(child_results[0] == -L4_ENOPERM, "a child cannot exchange-registers its parent's thread");
	CHECK(child_results[1] == -L4_ENOPERM, "nor delete it");
	CHECK(child_results[2] == -L4_ENOPERM, "nor change its priority");
	CHECK(child_results[3] == -L4_ENOPERM, "nor create threads in its task");
	CHECK(child_results[4] == -L4_ENOPERM, "nor power off (privileged)");
	CHECK(child_results[5] == -L4_ENOPERM, "nor delete sigma0");
	CHECK(thread_state(main_tid) == 0, "the parent is unharmed");
	yield_n(3); /* its exit message reaches the mirror pager, which deletes it */
	CHECK(thread_state(t) == ~0ull, "a task whose last thread is deleted is gone");
}

/* ---- 1000 tasks ------------------------------------------------------------ */

static void tiny_task(u64 parent)
{
	struct l4_msg m = { { L4_TAG_MAKE(5, 0, 0) } };
	l4_send(parent, &m);
}

static volatile int grandchildren;

static void make_grandchildren(u64 parent)
{
	for (int i = 0; i < 5; i++) {
		l4_tid_t t;
		grandchildren += l4_create_task(L4_NILTHREAD, &t, NULL) == 0;
	}
	struct l4_msg m = { { L4_TAG_MAKE(1, 0, 0) } };
	l4_send(parent, &m);
	struct l4_msg none;
	l4_receive(l4_myself(), &none);
}

static void test_orphans(void)
{
	memset(stacks[4], 0, STACK_SIZE); /* our own pages (and their kernel tables) first */
	s64 before = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
	grandchildren = 0;
	l4_tid_t t = l4_spawn_task(l4_mirror_pager_start(), make_grandchildren, main_tid, stacks[4], STACK_SIZE);
	struct l4_msg m;
	l4_receive(t, &m);
	CHECK(grandchildren == 5, "a child task creates 5 tasks of its own");
	l4_delete_task(t);
	s64 after = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
	CHECK(after == before, "deleting the child deletes them too: memory back (%lld -> %lld)", before, after);
}

static void test_thousand_tasks(void)
{
	s64 before = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
	int created = 0, deleted = 0;
	for (int i = 0; i < 1000; i++) {
		l4_tid_t t = L4_NILTHREAD;
		if (l4_create_task(l4_parent, &t, NULL) == 0)
			created++;
		if (l4_delete_task(t) == 0)
			deleted++;
	}
	s64 after = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
	CHECK(created == 1000 && deleted == 1000, "create and delete 1000 tasks (%d, %d)", created, deleted);
	CHECK(after == before, "kernel memory back where it was (%lld -> %lld pages)", before, after);

	/* and 200 that run: fault in their memory, send us a message */
	l4_tid_t pager = l4_mirror_pager_start();
	before = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
	int ran = 0;
	for (int i = 0; i < 200; i++) {
		l4_tid_t t = l4_spawn_task(pager, tiny_task, main_tid, stacks[3], STACK_SIZE);
		struct l4_msg m;
		u64 tag = l4_receive(t, &m);
		ran += !l4_ipc_failed(tag) && L4_TAG_LABEL(tag) == 5;
		l4_delete_task(t);
	}
	after = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
	CHECK(ran == 200, "200 running tasks each reported (%d)", ran);
	CHECK(after == before, "their page tables were all freed (%lld -> %lld pages)", before, after);
}

static l4_tid_t many[L4_MAX_THREADS];

/* Create threads until the kernel says no; returns how many. */
static int create_until_refused(s64 *err)
{
	int n = 0;
	while (n < L4_MAX_THREADS && (*err = l4_create_thread(main_tid, l4_parent, &many[n])) == 0)
		n++;
	return n;
}

/* The kernel memory our task is charged with, in pages. */
static u64 kmem_used(void)
{
	u64 used = 0;
	l4_kmem_limit(main_tid, L4_KMEM_QUERY, &used);
	return used;
}

static void test_many_threads(void)
{
	s64 before = l4_kdebug(L4_KD_FREE_PAGES, 0, 0), err = 0;
	u64 used_before = kmem_used();
	int n = create_until_refused(&err);
	CHECK(err == -L4_ENOMEM, "creating threads until our task reaches its kernel-memory limit: ENOMEM after %d", n);
	u64 used_full = kmem_used();
	CHECK(used_full - used_before >= 2 * (u64)n, "each thread is charged its TCB and UTCB pages (%llu for %d)",
	      used_full - used_before, n);
	for (int i = 0; i < n; i++)
		l4_delete_thread(many[i]);
	s64 after = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
	/* The page tables behind the UTCB area stay with the task for reuse. */
	CHECK(before - after <= n / 512 + 3, "deleting them returns all but the UTCB-area page tables (%lld)",
	      before - after);
	CHECK(kmem_used() - used_before <= (u64)n / 512 + 3, "and our task is charged for no more than those (%llu)",
	      kmem_used() - used_before);
	u64 used_after = kmem_used();
	int n2 = create_until_refused(&err);
	for (int i = 0; i < n2; i++)
		l4_delete_thread(many[i]);
	/* The thread that was refused may have got page tables for its UTCB
	 * before the last one failed: they stay with the task (and take its
	 * quota: one thread fewer may fit), nothing else does. */
	s64 kept = after - l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
	CHECK((n2 == n || n2 == n - 1) && kept >= 0 && kept <= 3 && kmem_used() - used_after <= 3,
	      "a second round fits as many, and all that is not returned is page tables (%d; %lld pages)", n2, kept);
}

static void test_kip_and_utcb(void)
{
	const struct l4_kip *k = l4_kip();
	CHECK(k->magic == L4_KIP_MAGIC && k->abi_version == L4_ABI_VERSION,
	      "the kernel interface page is mapped and names ABI %u", k->abi_version);
	CHECK(k->user_end == L4_USER_END && k->utcb_area == L4_UTCB_AREA && k->kip_addr == L4_KIP_ADDR,
	      "it gives the memory layout");
	CHECK(k->tsc_hz > 1000000, "it gives the TSC frequency (%llu Hz)", k->tsc_hz);
	CHECK(k->sigma0 != L4_NILTHREAD && k->root == l4_parent, "it names sigma0 and the root task");
	struct l4_utcb *u = l4_utcb();
	CHECK((u64)u == L4_UTCB_AREA + L4_TID_NUMBER(main_tid) * L4_UTCB_SIZE && u->my_tid == main_tid,
	      "the UTCB sits in the UTCB area and names its thread");
}

/* A task's kernel memory is bounded by its limit, which its creator sets,
 * and includes what the tasks it creates use. */
static void test_kmem_limits(void)
{
	u64 ours_before = kmem_used(), used = 0, limit_used = 0;
	l4_tid_t child, t;
	if (!CHECK(l4_create_task(l4_parent, &child, NULL) == 0, "a task to limit"))
		return;
	l4_kmem_limit(child, L4_KMEM_QUERY, &used);
	CHECK(used >= 4, "a task with one thread is charged at least 4 pages: space, PML4, TCB, UTCB (%llu)", used);
	CHECK(kmem_used() - ours_before == used, "and its creator is charged the same (%llu)", kmem_used() - ours_before);
	CHECK(l4_kmem_limit(child, used + 4, &limit_used) == 0 && limit_used == used, "its creator sets its limit");
	int made = 0;
	while (made < 10 && l4_create_thread(child, l4_parent, &t) == 0)
		made++;
	CHECK(made == 2, "within 4 more pages it gets 2 more threads, then ENOMEM (%d)", made);
	CHECK(l4_thread_control(L4_NILTHREAD, L4_NEWTASK, l4_parent, L4_TC_CREATE, &t, NULL) == 0,
	      "while its creator still has room");
	l4_delete_task(t);
	CHECK(l4_kmem_limit(main_tid, 1ull << 20, NULL) == -L4_ENOPERM, "no task sets its own limit");
	CHECK(l4_kmem_limit(child, 1ull << 40, NULL) == -L4_ENOPERM, "nor a limit above its own");
	CHECK(l4_kmem_limit(l4_kip()->root, L4_KMEM_QUERY, NULL) == -L4_ENOPERM, "the root task's is not ours to see");
	CHECK(l4_kmem_limit(child, used + 6, NULL) == 0 && l4_create_thread(child, l4_parent, &t) == 0,
	      "a higher limit makes room again");
	l4_delete_task(child);
	CHECK(kmem_used() == ours_before, "deleting the task gives its creator back all of it (%llu -> %llu)", ours_before,
	      kmem_used());
}

int main(void)
{
	main_tid = l4_myself();
	test_kip_and_utcb();
	test_create_in_own_task();
	test_halt_resume();
	test_new_task();
	test_orphans();
	test_thousand_tasks();
	test_many_threads();
	test_kmem_limits();
	return t_done("t_thread");
}
