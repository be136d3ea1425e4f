/*
 * make bench: system-call and IPC path lengths.  Booted under QEMU with
 * -icount shift=0, where the TSC advances once per guest instruction, so
 * every figure is a deterministic instruction count per operation, with
 * the cost of the measuring loop itself subtracted.
 */
#include <l4/pager.h>
#include "../lib/common/string.h"

#define ITERATIONS 100000
#define WARMUP 1000

static u8 stack_a[8192] __attribute__((aligned(16)));
static u8 stack_b[8192] __attribute__((aligned(16)));
static u8 stack_c[8192] __attribute__((aligned(16)));
static u8 stack_p[8192] __attribute__((aligned(16)));

/* What the measuring itself costs: one iteration of a loop timed as a
 * whole, and one rdtsc pair around an operation timed by itself. */
static u64 loop_overhead, timer_overhead;

static u64 sub0(u64 a, u64 b) { return a > b ? a - b : 0; }

/* The average of total over n operations, less the measuring overhead. */
static u64 per_op(u64 total, u64 n, u64 overhead) { return sub0((total + n / 2) / n, overhead); }

static void print_bench(const char *name, u64 insns) { printf("BENCH %s %llu insns\n", name, insns); }

static void report(const char *name, u64 total, u64 n) { print_bench(name, per_op(total, n, loop_overhead)); }

static u64 measure_empty_loop(void)
{
	u64 t0 = l4_rdtsc();
	for (int i = 0; i < ITERATIONS; i++)
		__asm__ volatile("" ::: "memory");
	u64 t1 = l4_rdtsc();
	return (t1 - t0 + ITERATIONS / 2) / ITERATIONS;
}

static u64 measure_timer(void)
{
	u64 total = 0;
	for (int i = 0; i < ITERATIONS; i++) {
		u64 t0 = l4_rdtsc();
		__asm__ volatile("" ::: "memory");
		total += l4_rdtsc() - t0;
	}
	return (total + ITERATIONS / 2) / ITERATIONS;
}

static u64 null_syscall(void)
{
	u64 t0 = l4_rdtsc();
	for (int i = 0; i < ITERATIONS; i++)
		l4_kdebug(L4_KD_NOP, 0, 0);
	u64 per = per_op(l4_rdtsc() - t0, ITERATIONS, loop_overhead);
	print_bench("null_syscall", per);
	return per;
}

/* Echo server: waits for a call, replies and waits again, forever. */
static void echo_server(u64 arg)
{
	(void)arg;
	struct l4_msg first, m;
	l4_tid_t client;
	l4_wait(&first, &client);
	m = first; /* a message the compiler may keep in registers */
	for (;;)
		l4_reply_wait(client, &m, &client);
}

/* Call + reply-and-wait round trips with `words` untyped words each way;
 * prints the round trip as <name>_rtt (if rtt_name) and half of it as
 * <name>_oneway; returns the one-way cost. */
static u64 rtt(const char *rtt_name, const char *oneway_name, l4_tid_t server, unsigned words)
{
	struct l4_msg m = { { L4_TAG_MAKE(1, words, 0) } };
	for (int i = 0; i < WARMUP; i++)
		l4_call(server, &m);
	u64 t0 = l4_rdtsc();
	for (int i = 0; i < ITERATIONS; i++) {
		m.mr[0] = L4_TAG_MAKE(1, words, 0);
		l4_call(server, &m);
	}
	u64 round_trip = per_op(l4_rdtsc() - t0, ITERATIONS, loop_overhead), oneway = (round_trip + 1) / 2;
	if (rtt_name)
		print_bench(rtt_name, round_trip);
	print_bench(oneway_name, oneway);
	return oneway;
}


/* ---- page faults served by a user-level pager -------------------------------- */

#define FAULT_PAGES 256
#define FAULT_ROUNDS 400
static u8 fault_area[FAULT_PAGES * 4096] __attribute__((aligned(1 << 20)));
static volatile u64 fault_total;
static struct pager pgr;

/* Runs in its own task: touch every page (each touch faults to the pager),
 * then unmap them all, FAULT_ROUNDS times; only the touches are timed. */
static void faulter(u64 parent)
{
	u64 total = 0;
	for (int r = 0; r < FAULT_ROUNDS; r++) {
		u64 t0 = l4_rdtsc();
		for (int i = 0; i < FAULT_PAGES; i++)
			(void)*(volatile u8 *)(fault_area + i * 4096);
		total += l4_rdtsc() - t0;
		l4_unmap(L4_FPAGE((u64)fault_area, 20, L4_RWX), L4_UNMAP_SELF);
	}
	fault_total = total;
	struct l4_msg m = { { L4_TAG_MAKE(1, 0, 0) } };
	l4_send(parent, &m);
}

static void pagefault_bench(void)
{
	for (int i = 0; i < FAULT_PAGES; i++)
		fault_area[i * 4096] = 1; /* the pager has the pages itself */
	pager_init(&pgr, NULL, 0, false);
	pager_add_image(&pgr);
	l4_tid_t p = pager_start(&pgr, stack_p, sizeof(stack_p));
	l4_tid_t t = l4_spawn_task(p, faulter, l4_myself(), stack_c, sizeof(stack_c));
	struct l4_msg m;
	l4_receive(t, &m);
	report("pagefault_user_pager", fault_total, (u64)FAULT_PAGES * FAULT_ROUNDS);
	l4_delete_task(t);
}

/* ---- mapping ------------------------------------------------------------- */

#define WIN 0x1000000000ull
#define WIN2M 0x1200000000ull
#define MAP_ITERATIONS 100000

static u8 map_page[4096] __attribute__((aligned(4096)));

/* Takes one map item per call into its window, replies at once. */
static void window_server(u64 window)
{
	struct l4_msg m;
	l4_tid_t client;
	l4_utcb()->rcv_window = window;
	l4_wait(&m, &client);
	for (;;) {
		m.mr[0] = L4_TAG_MAKE(0, 0, 0);
		l4_reply_wait(client, &m, &client);
	}
}

/* One map item to the server and one unmap, per iteration. */
static void map_unmap(const char *name, l4_tid_t server, u64 page, unsigned log2, u64 window)
{
	struct l4_msg m;
	u64 total = 0;
	for (int i = 0; i < MAP_ITERATIONS + 100; i++) {
		l4_map_msg(&m, window, L4_FPAGE(page, log2, L4_R | L4_W), false);
		u64 t0 = l4_rdtsc();
		l4_call(server, &m);
		l4_unmap(L4_FPAGE(page, log2, L4_RWX), 0);
		if (i >= 100) /* the first ones build the server's page tables */
			total += l4_rdtsc() - t0;
	}
	print_bench(name, per_op(total, MAP_ITERATIONS, timer_overhead));
}

/* ---- strings ------------------------------------------------------------------ */

#define STRING_ITERATIONS 100000
static u8 string_src[64 * 1024] __attribute__((aligned(4096)));
static u8 string_dst[64 * 1024] __attribute__((aligned(4096)));

/* Receives strings into string_dst, replies with nothing. */
static void string_server(u64 arg)
{
	(void)arg;
	struct l4_utcb *u = l4_utcb();
	struct l4_msg m;
	l4_tid_t client;
	u->buf_count = 1;
	u->buf[0].addr = (u64)string_dst;
	u->buf[0].len = sizeof(string_dst);
	l4_wait(&m, &client);
	for (;;) {
		m.mr[0] = L4_TAG_MAKE(0, 0, 0);
		l4_reply_wait(client, &m, &client);
	}
}

/* One-way cost of an IPC carrying a string of len bytes: a call with the
 * string and an empty reply, less one plain one-way IPC. */
static void string_ipc(const char *name, l4_tid_t server, u64 len, u64 oneway)
{
	struct l4_msg m;
	u64 total = 0;
	for (int i = 0; i < STRING_ITERATIONS + 100; i++) {
		m.mr[0] = L4_TAG_MAKE(0, 0, 2);
		m.mr[1] = L4_STRING_ITEM(len);
		m.mr[2] = (u64)string_src;
		u64 t0 = l4_rdtsc();
		l4_call(server, &m);
		if (i >= 100) /* the first ones fault the buffers in */
			total += l4_rdtsc() - t0;
	}
	print_bench(name, sub0(per_op(total, STRING_ITERATIONS, timer_overhead), oneway));
}

/* The one-way cost of an IPC carrying a map item for one page: a call with
 * the item (the page is unmapped again outside the timed part) and an empty
 * reply, less one plain one-way IPC. */
static void map_page_ipc(l4_tid_t server, u64 oneway)
{
	struct l4_msg m;
	u64 total = 0;
	for (int i = 0; i < MAP_ITERATIONS + 100; i++) {
		l4_map_msg(&m, WIN, L4_FPAGE((u64)map_page, 12, L4_R | L4_W), false);
		u64 t0 = l4_rdtsc();
		l4_call(server, &m);
		if (i >= 100)
			total += l4_rdtsc() - t0;
		l4_unmap(L4_FPAGE((u64)map_page, 12, L4_RWX), 0);
	}
	print_bench("ipc_map_page", sub0(per_op(total, MAP_ITERATIONS, timer_overhead), oneway));
}

/* ---- exception IPC: the floor of a Linux system call ------------------------- */

#define EXC_ITERATIONS 100000
static volatile u64 exc_total;

/* An alien thread: each syscall becomes an exception IPC to the handler. */
static void alien_loop(u64 arg)
{
	(void)arg;
	u64 t0 = l4_rdtsc();
	for (int i = 0; i < EXC_ITERATIONS; i++) {
		u64 rax = 39; /* getpid */
		__asm__ volatile("syscall" : "+a"(rax)::"rcx", "r11", "memory");
	}
	exc_total = l4_rdtsc() - t0;
	for (;;)
		__asm__ volatile("ud2"); /* done: the handler sees this and reports */
}

/* Answers every system call with a short reply (RAX only). */
static void syscall_handler(u64 arg)
{
	l4_tid_t parent = arg;
	struct l4_msg m;
	l4_tid_t from;
	u64 tag = l4_wait(&m, &from);
	for (;;) {
		if (m.mr[L4_EXC_VECTOR] != L4_EXC_SYSCALL || l4_ipc_failed(tag)) {
			struct l4_msg done = { { L4_TAG_MAKE(1, 0, 0) } };
			l4_send(parent, &done);
			tag = l4_wait(&m, &from);
			continue;
		}
		m.mr[0] = L4_TAG_MAKE(0, 1, 0);
		m.mr[1] = 42;
		tag = l4_reply_wait(from, &m, &from);
	}
}

static void exception_ipc_bench(l4_tid_t pager)
{
	l4_tid_t handler = l4_spawn_thread(syscall_handler, l4_myself(), stack_c, sizeof(stack_c));
	l4_tid_t t;
	l4_create_thread_ex(L4_NEWTASK, pager, L4_TC_ALIEN, handler, &t);
	l4_start_fn(t, alien_loop, 0, stack_b, sizeof(stack_b));
	struct l4_msg m;
	l4_receive(handler, &m);
	report("exc_ipc_rtt", exc_total, EXC_ITERATIONS);
	l4_delete_task(t);
	l4_delete_thread(handler);
}

/* ---- interrupt to user ----------------------------------------------------------
 * COM1 in loopback mode: a byte written to the transmitter arrives at the
 * receiver at once and raises IRQ 4, whose handler is our first thread
 * (bench.cfg has the root task attach it and give us the ports).  A thread
 * of lower priority writes the byte; the time runs from its rdtsc before
 * the write to the handler's rdtsc right after its receive returns: the
 * interrupt entry, the message, the switch to the handler (same task, so
 * no address-space switch), its return from the IPC system call. */
#define COM1 0x3f8
#define COM1_IRQ 4
#define IRQ_ITERATIONS 1000
static volatile u64 irq_t0, irq_seq;
static volatile bool irq_done;

static void irq_trigger(u64 handler)
{
	struct l4_msg m;
	l4_receive(handler, &m); /* go, once our priority is below the handler's */
	for (int i = 0; i < IRQ_ITERATIONS; i++) {
		(void)l4_inb(COM1 + 5); /* the ports are back in the TSS: no #GP below */
		irq_seq = (u64)i;
		irq_t0 = l4_rdtsc();
		l4_outb(COM1, 'x'); /* the handler runs before the next instruction */
	}
	irq_done = true;
	m.mr[0] = 0;
	l4_send(handler, &m);
	for (;;)
		l4_receive(l4_myself(), &m);
}

static void irq_bench(void)
{
	if (!l4_parent_get_io(COM1, 3)) {
		printf("bench: no COM1 ports and IRQ 4 (see tools/bench.cfg): no irq_to_user\n");
		return;
	}
	l4_tid_t irq = L4_IRQ_TID(COM1_IRQ), me = l4_myself();
	l4_outb(COM1 + 4, 0x1b); /* loopback, OUT2, DTR, RTS */
	l4_outb(COM1 + 2, 0x07); /* FIFO on and cleared, interrupt at every byte */
	while (l4_inb(COM1 + 5) & 1)
		(void)l4_inb(COM1);
	l4_outb(COM1 + 1, 0x01); /* interrupt: received data */
	u64 prio = 0;
	l4_schedule(me, L4_SCHED_KEEP, L4_SCHED_KEEP, &prio, NULL);
	l4_tid_t t = l4_spawn_thread(irq_trigger, me, stack_a, sizeof(stack_a));
	l4_schedule(t, prio - 1, L4_SCHED_KEEP, NULL, NULL);
	u64 total = 0, n = 0, late = 0;
	struct l4_msg m = { { 0 } };
	l4_tid_t from;
	u64 tag = l4_ipc(t, L4_ANYTHREAD, L4_TIMEOUTS(L4_TIMEOUT_NEVER, L4_TIMEOUT_NEVER), &m, &from);
	while (!irq_done) {
		u64 t1 = l4_rdtsc();
		if (!l4_ipc_failed(tag) && from == irq) {
			late += irq_seq != n; /* taken after the trigger went on: t0 is wrong */
			total += t1 - irq_t0;
			n++;
			(void)l4_inb(COM1); /* the byte: the UART lowers its line */
		}
		m.mr[0] = 0;
		tag = l4_ipc(irq, L4_ANYTHREAD, L4_TIMEOUTS(0, L4_TIMEOUT_NEVER), &m, &from);
	}
	l4_outb(COM1 + 1, 0);
	l4_outb(COM1 + 4, 0x03); /* loopback off: the kernel's output goes out again */
	l4_delete_thread(t);
	if (n != IRQ_ITERATIONS || late)
		printf("bench: irq_to_user: %llu of %d interrupts arrived, %llu late\n", n, IRQ_ITERATIONS, late);
	else
		print_bench("irq_to_user", per_op(total, n, timer_overhead));
}

int main(int argc, char **argv)
{
	const struct l4_kip *k = l4_kip();
	loop_overhead = measure_empty_loop();
	timer_overhead = measure_timer();
	l4_tid_t pager = l4_mirror_pager_start();
	if (argc > 1 && !strcmp(argv[1], "slowpath")) {
		/* this kernel has no fast path */
		l4_tid_t inter = l4_spawn_task(pager, echo_server, 0, stack_b, sizeof(stack_b));
		rtt(NULL, "ipc_inter_oneway_slowpath", inter, 0);
		l4_delete_task(inter);
		return 0;
	}
	printf("bench: TSC %llu kHz, %d iterations, loop overhead %llu and timer overhead %llu insns (subtracted)\n",
	       k->tsc_hz / 1000, ITERATIONS, loop_overhead, timer_overhead);
	u64 null = null_syscall();
	l4_tid_t intra = l4_spawn_thread(echo_server, 0, stack_a, sizeof(stack_a));
	rtt("ipc_intra_rtt", "ipc_intra_oneway", intra, 0);
	l4_tid_t inter = l4_spawn_task(pager, echo_server, 0, stack_b, sizeof(stack_b));
	u64 oneway = rtt("ipc_inter_rtt", "ipc_inter_oneway", inter, 0);
	if (null)
		printf("bench: ipc_inter_oneway / null_syscall = %llu.%02llu\n", oneway / null, oneway * 100 / null % 100);
	rtt(NULL, "ipc_inter_oneway_7w", inter, 7);
	rtt(NULL, "ipc_inter_oneway_8w", inter, 8);
	rtt(NULL, "ipc_inter_oneway_64w", inter, 63); /* 63 untyped words + the tag: all 64 registers */
	l4_delete_task(inter);
	memset(string_src, 1, sizeof(string_src));
	memset(string_dst, 0, sizeof(string_dst));
	l4_tid_t strings = l4_spawn_task(pager, string_server, 0, stack_b, sizeof(stack_b));
	string_ipc("ipc_string_4k", strings, 4096, oneway);
	string_ipc("ipc_string_64k", strings, 65536, oneway);
	l4_delete_task(strings);

	map_page[0] = 1;
	l4_tid_t srv = l4_spawn_task(pager, window_server, L4_FPAGE(WIN, 12, 0), stack_b, sizeof(stack_b));
	map_page_ipc(srv, oneway);
	map_unmap("map_unmap_4k", srv, (u64)map_page, 12, WIN);
	l4_delete_task(srv);
	u64 big = sigma0_get_superpage();
	srv = l4_spawn_task(pager, window_server, L4_FPAGE(WIN2M, 21, 0), stack_b, sizeof(stack_b));
	if (big && l4_kdebug(L4_KD_PROBE, big, 0) & L4_KD_PROBE_2M)
		map_unmap("map_unmap_2m", srv, big, 21, WIN2M);
	else
		printf("bench: no 2 MiB page from sigma0\n");
	l4_delete_task(srv);
	pagefault_bench();
	exception_ipc_bench(pager);
	irq_bench();
	l4_delete_thread(intra);
	return 0;
}
