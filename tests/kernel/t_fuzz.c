/*
 * System-call fuzzer ([K5]).  FUZZ_TASKS tasks with two fuzzer threads
 * each, children of this task, make random system calls with random and
 * edge-case arguments: IPC among themselves, with an echo thread each and
 * with threads they create (map and grant items of random fpages, I/O
 * fpages, string items with random addresses and lengths, random receive
 * windows and buffers, zero or short timeouts), every ThreadControl
 * operation, ExchangeRegisters with random control bits, Schedule,
 * ThreadSwitch, KDebug (never POWEROFF), Unmap, and unknown system-call
 * numbers.  The threads they create wait for messages, echo them, or fault
 * on purpose (ud2, int3, int 0x80, #DE, #GP, wild stores), so page faults
 * and exceptions go to this task's pager and exception handler, which
 * answer some with mappings or new state and refuse, halt, delete or
 * ignore others.  The pager also maps a 2 MiB page from sigma0 on as one
 * mapping, which the fuzzers' map, grant and Unmap calls then take apart.
 *
 * Checks: every result is a documented value (docs/api.md), and exactly the
 * expected one where the arguments decide it (a malformed tag is BADMSG,
 * ATTACH_IRQ from an unprivileged task ENOPERM, control of another fuzz
 * task's thread ENOPERM, ...), registers a call does not return are
 * unchanged; the kernel stays up; all the kernel memory the fuzz tasks
 * used comes back when they are deleted; at least the requested number of
 * calls is made.
 *
 * Keeping control.  This task supervises: it restarts a fuzz task whose
 * fuzzer was deleted, stopped or is stuck (anything goes within the fuzz
 * tasks, including deleting each other's threads), resumes a halted one,
 * and stops at a deadline.  The fuzzers never name a thread outside the
 * fuzz tasks in a call that could change or block it (sigma0, the root
 * task, the console driver, this task's threads), never attach interrupts
 * successfully (they try: ENOPERM) and never power off; their MCP keeps
 * them below this task's threads.  Memory: the fuzz tasks get this
 * program's image read-only from the pager, and writable only `zone`
 * (their stacks, state and receive buffers) and the 2 MiB page, which they
 * only read.  Only fuzzer code and strings
 * received into those buffers write there, so nothing can take the fuzzers
 * or this task over: map and grant items land only in receive windows
 * inside LAND, which nothing writes or runs (an I/O fpage used as window
 * takes no memory); receive buffers are a fuzzer's own
 * buffers or where nothing is ever mapped writable; pagers and exception
 * handlers are this task's threads, nil or no thread (a fuzzer as pager
 * could answer a fault with a mapping anywhere); the created threads run
 * only stackless routines (v_*) and are started only there or where
 * nothing can run.
 *
 * Determinism.  Call n of fuzzer i in generation g (restarts count) draws
 * its arguments from a generator seeded with (seed, i, g, n), so the calls
 * follow from the seed.  Their results do not: the tasks run interleaved
 * under preemption and with timeouts, and what a call finds (is the
 * partner waiting, does the thread still exist) depends on that timing, as
 * do later choices that use it.  A failure prints the seed, the fuzzer and
 * the call.
 *
 * Usage: t_fuzz [calls [seed]] [verbose] [solo] [bench]
 *   defaults 200000 calls, seed 1; verbose prints every call before it is
 *   made; solo runs one fuzz task with one fuzzer thread; bench prints
 *   "BENCH fuzz_calls_per_s N".
 */
#include "util.h"
#include <l4/pager.h>
#include "../../lib/common/string.h"

#define FUZZ_TASKS 4
#define PER_TASK 2
#define FUZZERS (FUZZ_TASKS * PER_TASK)
#define OWN_MAX 4          /* threads one fuzzer has created and keeps track of */
#define FSTACK 16384
#define RBUF 8192
#define FUZZ_PRIO 100
#define FUZZ_MCP 120       /* the fuzz tasks' threads stay below */
#define SERVICE_PRIO 130   /* the pager and the exception handler, and */
#define SUPERVISOR_PRIO 140
#define LAND 0x200000000000ull /* every receive window for memory lies in here */
#define LAND_LOG2 28
#define WILD 0x1000000000ull   /* [WILD, + 4 GiB): never mapped in a fuzz task */
#define KERNEL_VA 0xffffffff80100000ull
#define TASK_GEN_CALLS 25000 /* a fuzz task is replaced after so many calls */
#define STALL_MS 300         /* no progress for so long: a fuzzer needs help */
#define TC_OPS (L4_TC_KMEM_LIMIT + 1) /* ThreadControl operations */

/* ---- the raw system call -------------------------------------------------- */

/* Every register a system call reads: RAX and the arguments, and MR3..MR7
 * (RBX, R12..R15) for IPC. */
struct fregs {
	u64 rax, rdi, rsi, rdx, r10, r8, r9, rbx, r12, r13, r14, r15;
};

void fuzz_syscall(struct fregs *r);
extern char fuzz_syscall_ret[]; /* the user IP of a fuzzer in a system call */
__asm__(".pushsection .text\n"
	".globl fuzz_syscall\n"
	"fuzz_syscall:\n"
	"	push %rbx\n	push %r12\n	push %r13\n	push %r14\n	push %r15\n"
	"	push %rdi\n"
	"	mov 0(%rdi), %rax\n	mov 16(%rdi), %rsi\n	mov 24(%rdi), %rdx\n"
	"	mov 32(%rdi), %r10\n	mov 40(%rdi), %r8\n	mov 48(%rdi), %r9\n"
	"	mov 56(%rdi), %rbx\n	mov 64(%rdi), %r12\n	mov 72(%rdi), %r13\n"
	"	mov 80(%rdi), %r14\n	mov 88(%rdi), %r15\n	mov 8(%rdi), %rdi\n"
	"	syscall\n"
	".globl fuzz_syscall_ret\n"
	"fuzz_syscall_ret:\n"
	"	xchg %rdi, (%rsp)\n"
	"	mov %rax, 0(%rdi)\n	pop %rax\n	mov %rax, 8(%rdi)\n"
	"	mov %rsi, 16(%rdi)\n	mov %rdx, 24(%rdi)\n	mov %r10, 32(%rdi)\n"
	"	mov %r8, 40(%rdi)\n	mov %r9, 48(%rdi)\n	mov %rbx, 56(%rdi)\n"
	"	mov %r12, 64(%rdi)\n	mov %r13, 72(%rdi)\n	mov %r14, 80(%rdi)\n"
	"	mov %r15, 88(%rdi)\n"
	"	pop %r15\n	pop %r14\n	pop %r13\n	pop %r12\n	pop %rbx\n"
	"	ret\n"
	".popsection\n");

/* ---- what the created threads run ---------------------------------------------
 * Stackless and writing no memory (except vf_store and vf_kstore, where
 * nothing is mapped), so whatever a fuzzer does to them cannot reach the
 * fuzzers' memory.  v_recv waits for messages (2 ms at a time); v_echo
 * waits for a message, with no timeout, and sends it back to its sender,
 * without waiting for it; v_fault raises one exception after the other and then
 * halts itself (an alien thread's syscall goes to its handler instead). */
extern char v_recv[], v_echo[], v_fault[], vf_int3[], vf_int80[], vf_div[], vf_hlt[], vf_out[], vf_store[],
	vf_store2[], vf_kstore_pre[], vf_kstore[], vf_halt[];
__asm__(".pushsection .text\n"
	".globl v_recv, v_echo, v_fault, vf_int3, vf_int80, vf_div, vf_hlt, vf_out\n"
	".globl vf_store, vf_store2, vf_kstore_pre, vf_kstore, vf_halt\n"
	"v_recv:\n"
	"	xor %eax, %eax\n	xor %edi, %edi\n	mov $-1, %rsi\n	mov $2000, %edx\n"
	"	syscall\n"
	"	jmp v_recv\n"
	"v_echo:\n"
	"	xor %edi, %edi\n"
	"1:	xor %eax, %eax\n	mov $-1, %rsi\n	mov $0xffffffff, %edx\n"
	"	syscall\n"
	"	mov %rsi, %rdi\n" /* the sender (nil if nothing came): reply to it */
	"	jmp 1b\n"
	"v_fault:\n"
	"	ud2\n"
	"vf_int3:\n	int3\n"
	"vf_int80:\n	int $0x80\n"
	"	xor %ecx, %ecx\n"
	"vf_div:\n	div %rcx\n"
	"vf_hlt:\n	hlt\n"
	"vf_out:\n	outb %al, $0x80\n"
	"vf_store:\n	movabs $0x1000000000, %rax\n" /* WILD */
	"vf_store2:\n	movq $1, (%rax)\n"
	"vf_kstore_pre:\n	movabs $0xffffffff80100000, %rax\n" /* KERNEL_VA */
	"vf_kstore:\n	movq $1, (%rax)\n"
	"vf_halt:\n	mov %gs:8, %rdi\n	mov $0x10, %esi\n	mov $2, %eax\n	syscall\n"
	"	jmp v_fault\n"
	".popsection\n");

/* Where the faults of v_fault are, what they raise, where it goes on. */
struct site {
	const char *at, *next;
	u64 vector;
};
static const struct site fault_sites[] = {
	{ v_fault, vf_int3, 6 },       { vf_div, vf_hlt, 0 },         { vf_hlt, vf_out, 13 },
	{ vf_out, vf_store, 13 },      { vf_store2, vf_kstore_pre, 14 }, { vf_kstore, vf_halt, 14 },
};

/* ---- the fuzz tasks' memory ------------------------------------------------ */

/* What the calls did, for the report (all u64: harvest() adds them up). */
struct stats {
	u64 per_call[8];     /* by system call; [7]: unknown numbers */
	u64 ipc_err[2][8];   /* IPC error codes, send and receive phase */
	u64 sent, sent_items, received, received_items;
	u64 created, deleted, exreg_ok, unmapped, probed_2m, attach_irq, attach_bad;
};

struct bad_call {
	u64 n, gen;
	const char *why;
	struct fregs in, out;
};

/* One fuzzer thread's memory: all it writes, with its UTCB and those of
 * the threads it creates in its task. */
struct fuzzer {
	u8 stack[FSTACK];
	u8 rbuf[2][RBUF];    /* the only receive buffers the kernel may write */
	unsigned idx, task;  /* which fuzzer, which fuzz task */
	u64 seed, gen;
	volatile u64 calls, bad;
	struct bad_call first_bad;
	struct fregs last;   /* the call in progress */
	volatile l4_tid_t own[OWN_MAX]; /* threads it created, and their tasks */
	volatile u64 own_task[OWN_MAX];
	volatile l4_tid_t echo; /* a thread of its task running v_echo, only sent to */
	struct stats st;
} __attribute__((aligned(4096)));

static struct fuzzer zone[FUZZERS] __attribute__((aligned(4096)));

/* ---- this task's own state: read-only for the fuzz tasks -------------------------- */

static u64 target_calls = 200000, base_seed = 1;
static bool verbose, solo, bench;
static unsigned n_tasks = FUZZ_TASKS, per_task = PER_TASK;
static l4_tid_t main_tid, pager_tid, exc_tid;
static volatile l4_tid_t fuzzer_tid[FUZZERS], anchor[FUZZ_TASKS];
static volatile u64 task_id[FUZZ_TASKS], task_gen[FUZZ_TASKS];
static u64 superpage; /* 2 MiB from sigma0 (VA = PA), mapped on as one page; 0: none */
static test_stack_t service_stacks[2];
extern char _end[];

/* ---- random numbers ----------------------------------------------------------- */

static u64 mix(u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

struct rng {
	u64 s;
};

static u64 rnd(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ull;
	return mix(r->s);
}

static u64 below(struct rng *r, u64 n) { return n ? rnd(r) % n : 0; }
static bool chance(struct rng *r, unsigned percent) { return below(r, 100) < percent; }

static u64 edge(struct rng *r)
{
	static const u64 edges[] = { 0, 1, 2, 0xfff, 0x1000, 0xffffffff, 0x100000000ull, 0x7fffffffffffull,
				     L4_USER_END, L4_USER_MAP_END, L4_USER_MAP_END - 1, L4_KIP_ADDR, L4_UTCB_AREA,
				     L4_STRING_MAX, L4_STRING_MAX + 1, 1ull << 63, ~0ull, ~0ull - 1,
				     0xffffffff80000000ull, 0xffff800000000000ull };
	return chance(r, 60) ? edges[below(r, ARRAY_SIZE(edges))] : rnd(r) >> below(r, 64);
}

static u64 fuzzer_seed(unsigned idx, u64 gen) { return mix(base_seed ^ mix(idx * 0x10001ull + (gen << 20) + 1)); }

/* ---- threads to name ----------------------------------------------------------- */

enum tclass {
	C_SELF,    /* the caller */
	C_SAME,    /* a thread of the caller's task or of a task it created: controllable */
	C_OTHER,   /* of another fuzz task or a task it created: not controllable */
	C_INVALID, /* names no thread, by its form */
	C_GARBAGE, /* random, but never a thread outside the fuzz tasks */
	C_VITAL,   /* outside the fuzz tasks: only for ThreadSwitch */
};

struct target {
	l4_tid_t tid;
	enum tclass cls;
	bool fuzzer; /* a fuzzer thread: only harmless changes */
	bool own;    /* created by the caller itself */
	bool sub;    /* ... in a task of its own (own only) */
};

static bool vital_number(u64 n)
{
	const struct l4_kip *k = l4_kip();
	l4_tid_t v[] = { k->sigma0, k->root, l4_console, main_tid, pager_tid, exc_tid };
	for (unsigned i = 0; i < ARRAY_SIZE(v); i++)
		if (L4_TID_NUMBER(v[i]) == n)
			return true;
	for (unsigned i = 0; i < FUZZ_TASKS; i++)
		if (L4_TID_NUMBER(anchor[i]) == n)
			return true;
	return false;
}

/* A thread the fuzzers know: they never reach one by chance. */
static bool known_number(u64 n)
{
	if (vital_number(n))
		return true;
	for (unsigned i = 0; i < FUZZERS; i++) {
		if (L4_TID_NUMBER(fuzzer_tid[i]) == n)
			return true;
		for (unsigned k = 0; k < OWN_MAX; k++)
			if (L4_TID_NUMBER(zone[i].own[k]) == n)
				return true;
		if (L4_TID_NUMBER(zone[i].echo) == n)
			return true;
	}
	return false;
}

/* A thread ID that names no thread by its form (never nil or any). */
static l4_tid_t invalid_tid(struct rng *r)
{
	switch (below(r, 5)) {
	case 0:
		return L4_TID_MAKE(1 + below(r, 0xffff), 0);              /* version 0 */
	case 1:
		return L4_TID_MAKE(0, 1 + below(r, 0xffff));              /* number 0 */
	case 2:
		return ((1 + below(r, 0xfffffffe)) << 32) | (u32)rnd(r);  /* bits 63..32 (never any) */
	case 3:
		return L4_IRQ_TID(below(r, 32));
	default:
		return L4_TID_MAKE(L4_MAX_THREADS + below(r, 0x10000 - L4_MAX_THREADS), 1 + below(r, 0xffff));
	}
}

/* Random, or some thread the fuzzers do not know (gone by now, as a rule). */
static l4_tid_t garbage_tid(struct rng *r)
{
	l4_tid_t t = chance(r, 50) ? L4_TID_MAKE(1 + below(r, L4_MAX_THREADS - 1), 1 + below(r, 3)) : edge(r);
	if (t != L4_ANYTHREAD && (t >> 32) == 0 && known_number(L4_TID_NUMBER(t)))
		t = L4_TID_MAKE(L4_TID_NUMBER(t), 0); /* version 0: no thread */
	return t == L4_NILTHREAD ? L4_TID_MAKE(1, 0) : t;
}

static struct target fuzzer_target(struct fuzzer *f, unsigned j)
{
	enum tclass c = j == f->idx ? C_SELF : zone[j].task == f->task ? C_SAME : C_OTHER;
	return (struct target){ fuzzer_tid[j], c, true, false, false };
}

static unsigned n_fuzzers(void) { return n_tasks * per_task; }

/* A thread some fuzzer created; nil target if the slot is empty. */
static struct target child_target(struct fuzzer *f, unsigned j, unsigned k)
{
	l4_tid_t t = zone[j].own[k];
	u64 task = zone[j].own_task[k];
	bool same = zone[j].task == f->task, own = j == f->idx;
	return (struct target){ t, same ? C_SAME : C_OTHER, false, own, own && task != task_id[f->task] };
}

/* A thread to act on (ThreadControl, ExchangeRegisters, Schedule). */
static struct target pick_target(struct fuzzer *f, struct rng *r)
{
	unsigned k = (unsigned)below(r, 100), n = n_fuzzers();
	unsigned sib = f->task * per_task + (f->idx - f->task * per_task + 1) % per_task;
	unsigned other = (f->idx + per_task + (unsigned)below(r, n)) % n;
	struct target t = { 0, C_GARBAGE, false, false, false };
	if (k < 8)
		t = fuzzer_target(f, f->idx);
	else if (k < 14)
		t = fuzzer_target(f, sib);
	else if (k < 52)
		t = child_target(f, f->idx, (unsigned)below(r, OWN_MAX));
	else if (k < 60)
		t = child_target(f, sib, (unsigned)below(r, OWN_MAX));
	else if (k < 67 && zone[other].task != f->task)
		t = fuzzer_target(f, other);
	else if (k < 74 && zone[other].task != f->task)
		t = child_target(f, other, (unsigned)below(r, OWN_MAX));
	else if (k < 88)
		t = (struct target){ invalid_tid(r), C_INVALID, false, false, false };
	if (t.tid == L4_NILTHREAD || t.cls == C_GARBAGE)
		t = (struct target){ garbage_tid(r), C_GARBAGE, false, false, false };
	return t;
}

/* A partner for IPC (send to it or receive from it). */
static struct target pick_partner(struct fuzzer *f, struct rng *r)
{
	unsigned k = (unsigned)below(r, 100), n = n_fuzzers(), j = (unsigned)below(r, n);
	struct target t = { 0, C_GARBAGE, false, false, false };
	if (k < 35) /* an echo thread: always waiting */
		t = (struct target){ zone[j].echo, zone[j].task == f->task ? C_SAME : C_OTHER, false, false, false };
	else if (k < 60) /* a created thread, most of which wait for messages */
		for (unsigned i = 0; i < 3 && t.tid == L4_NILTHREAD; i++)
			t = child_target(f, (unsigned)below(r, n), (unsigned)below(r, OWN_MAX));
	else if (k < 90)
		t = fuzzer_target(f, (unsigned)below(r, n));
	else if (k < 97)
		t = (struct target){ invalid_tid(r), C_INVALID, false, false, false };
	else
		t = (struct target){ garbage_tid(r), C_GARBAGE, false, false, false };
	if (t.tid == L4_NILTHREAD)
		t = fuzzer_target(f, (unsigned)below(r, n));
	return t;
}

/* A pager or exception handler for a thread that is not a fuzzer: this
 * task's thread, nil, or no thread.  Never a fuzzer: its IPC could then
 * answer a fault with mappings anywhere, or with a state to run. */
static l4_tid_t pick_pager(struct rng *r, l4_tid_t ours)
{
	unsigned k = (unsigned)below(r, 100);
	return k < 90 ? ours : k < 95 ? L4_NILTHREAD : invalid_tid(r);
}

/* ---- addresses --------------------------------------------------------------------- */

static u64 image_addr(struct rng *r) { return L4_IMAGE_BASE + below(r, (u64)_end - L4_IMAGE_BASE); }

/* In the image but not in zone: mapped read-only to the fuzz tasks, so a
 * receive buffer here never takes a byte (a range that starts here is
 * never all writable). */
static u64 ro_image_addr(struct rng *r)
{
	u64 a = L4_IMAGE_BASE + below(r, (u64)_end - L4_IMAGE_BASE - sizeof(zone));
	return a >= (u64)zone ? a + sizeof(zone) : a;
}
static u64 land_addr(struct rng *r) { return LAND + below(r, 1ull << LAND_LOG2); }

static u64 kernel_addr(struct rng *r)
{
	return chance(r, 50) ? KERNEL_VA + below(r, 1ull << 30) : (1ull << 63) | rnd(r);
}

/* Anything at all: for the kernel to read, probe or unmap. */
static u64 any_addr(struct fuzzer *f, struct rng *r)
{
	switch (below(r, 10)) {
	case 0: return (u64)f + below(r, sizeof(*f));
	case 1: return (u64)zone + below(r, sizeof(zone));
	case 2: return image_addr(r);
	case 3: case 4: return land_addr(r);
	case 5: return chance(r, 50) && superpage ? superpage + below(r, 1ull << 21) : below(r, 1ull << 32);
	case 6: return WILD + below(r, 1ull << 32);
	case 7: return L4_KIP_ADDR + below(r, 8192);
	case 8: return L4_UTCB_AREA + below(r, L4_MAX_THREADS * L4_UTCB_SIZE);
	default: return chance(r, 50) ? kernel_addr(r) : edge(r);
	}
}

static l4_fpage_t io_fpage(struct rng *r)
{
	u64 log2 = below(r, 20), port = below(r, L4_IO_PORTS); /* log2 > 16: invalid */
	if (log2 <= 16 && chance(r, 80))
		port &= ~((1ull << log2) - 1);
	return (port << 16) | (log2 << 4) | L4_FPAGE_IO | below(r, 8);
}

/* An fpage to send, grant or unmap. */
static l4_fpage_t pick_fpage(struct fuzzer *f, struct rng *r)
{
	u64 rights = below(r, 8);
	switch (below(r, 10)) {
	case 0: case 1:
		return L4_FPAGE((u64)f + below(r, sizeof(*f)), 12 + below(r, 4), rights);
	case 2:
		return L4_FPAGE(image_addr(r), 12 + below(r, 10), rights);
	case 3: case 4: case 5:
		return L4_FPAGE(land_addr(r), 12 + below(r, LAND_LOG2 - 11), rights);
	case 6:
		if (superpage && chance(r, 60)) /* all of it, or a part */
			return L4_FPAGE(superpage + below(r, 1ull << 21), 12 + below(r, 11), rights);
		return L4_FPAGE(rnd(r), 30 + below(r, 34), rights);
	case 7:
		return io_fpage(r);
	default:
		return chance(r, 50) ? edge(r) : rnd(r);
	}
}

/* A receive window: nil, inside LAND, an I/O fpage or too small. */
static l4_fpage_t pick_window(struct rng *r)
{
	unsigned k = (unsigned)below(r, 100);
	if (k < 15)
		return 0;
	if (k < 90) {
		u64 log2 = 12 + below(r, LAND_LOG2 - 11);
		return L4_FPAGE(land_addr(r) & ~((1ull << log2) - 1), log2, below(r, 8));
	}
	return k < 97 ? io_fpage(r) : L4_FPAGE(LAND, below(r, 12), 0);
}

/* A receive buffer: part of one of the fuzzer's own, or where nothing is
 * ever mapped writable (the image is read-only). */
static struct l4_buffer pick_buffer(struct fuzzer *f, struct rng *r)
{
	if (chance(r, 75)) {
		u64 off = chance(r, 50) ? 0 : below(r, RBUF);
		return (struct l4_buffer){ (u64)f->rbuf[below(r, 2)] + off, below(r, RBUF - off + 1) };
	}
	u64 len = chance(r, 70) ? below(r, 2 * RBUF) : edge(r);
	switch (below(r, 4)) {
	case 0: return (struct l4_buffer){ ro_image_addr(r), len };
	case 1: return (struct l4_buffer){ WILD + below(r, 1ull << 32), len };
	case 2: return (struct l4_buffer){ kernel_addr(r), len };
	default: return (struct l4_buffer){ L4_USER_MAP_END - below(r, 2 * RBUF), len };
	}
}

static u64 pick_len(struct rng *r)
{
	switch (below(r, 10)) {
	case 0: return 0;
	case 1: case 2: case 3: return 1 + below(r, 64);
	case 4: case 5: case 6: return 1 + below(r, RBUF);
	case 7: return RBUF + below(r, RBUF);
	case 8: return L4_STRING_MAX + 1 + below(r, 4096);
	default: return edge(r) >> 4;
	}
}

static u32 pick_timeout(struct rng *r, unsigned finite_percent)
{
	return chance(r, finite_percent) ? (u32)(1 + below(r, 1000)) : L4_TIMEOUT_ZERO;
}

/* Where a created thread may be started: a v_* routine, or where nothing
 * is mapped that could run (a fault), or beyond user space (EINVAL). */
static u64 pick_child_ip(struct rng *r)
{
	static const char *const entries[] = { v_recv, v_recv, v_recv, v_echo, v_echo, v_echo, v_echo, v_fault,
					       vf_int3, vf_int80, vf_div, vf_out, vf_store, vf_kstore_pre, vf_halt };
	switch (below(r, 10)) {
	case 0: return WILD + below(r, 1ull << 32);
	case 1: return chance(r, 50) ? L4_KIP_ADDR : L4_UTCB_AREA + below(r, 1ull << 24);
	case 2: return chance(r, 70) ? (u64)entries[below(r, ARRAY_SIZE(entries))] : kernel_addr(r);
	default: return (u64)entries[below(r, ARRAY_SIZE(entries))];
	}
}

static volatile u64 pg_served, pg_refused, pg_halted, pg_parked, pg_other;
static u64 last_refused[L4_MAX_THREADS];

/* ---- making and checking a call ------------------------------------------------------ */

#define OK 1u
#define E(e) (1u << (e))
#define ANY_ERR                                                                                           \
	(E(L4_ENOPERM) | E(L4_EINVAL_TID) | E(L4_EINVAL) | E(L4_ENOMEM) | E(L4_EEXIST) | E(L4_EFAULT) | E(L4_EBUSY))

static const char *const call_names[8] = { "ipc", "thread_control", "exchange_registers", "schedule",
					   "thread_switch", "kdebug", "unmap", "unknown" };

static void print_regs(const char *what, const struct fregs *x)
{
	printf("%s rax %llx rdi %llx rsi %llx rdx %llx r10 %llx r8 %llx r9 %llx | mr3-7 %llx %llx %llx %llx %llx\n",
	       what, x->rax, x->rdi, x->rsi, x->rdx, x->r10, x->r8, x->r9, x->rbx, x->r12, x->r13, x->r14, x->r15);
}

static void fail(struct fuzzer *f, const struct fregs *in, const struct fregs *out, const char *why)
{
	if (f->bad++ == 0)
		f->first_bad = (struct bad_call){ f->calls, f->gen, why, *in, *out };
	if (f->bad > 3)
		return;
	printf("\n# fuzz: BAD fuzzer %u generation %llu call %llu (seed %llu): %s\n", f->idx, f->gen, f->calls,
	       base_seed, why);
	print_regs("#   in ", in);
	print_regs("#   out", out);
}

static void make_call(struct fuzzer *f, struct fregs *x)
{
	unsigned n = x->rax < 7 ? (unsigned)x->rax : 7;
	f->last = *x;
	if (verbose) {
		printf("# fz%u.%llu #%llu %s: ", f->idx, f->gen, f->calls, call_names[n]);
		print_regs("", x);
	}
	fuzz_syscall(x);
	f->st.per_call[n]++;
	f->calls++;
}

/* The error code in RAX, 0 for success, -1 if it is none of ours. */
static int result_code(u64 rax)
{
	s64 v = (s64)rax;
	return v == 0 ? 0 : v < 0 && v >= -L4_EBUSY ? (int)-v : -1;
}

/* Checks that the result is one in mask and that no register outside
 * `outputs` (bits: 1 rdi, 2 rsi, 4 rdx, 8 r10, 16 r8, 32 r9) changed; after
 * an error none may.  Returns the result code. */
enum { O_RDI = 1, O_RSI = 2, O_RDX = 4, O_R10 = 8, O_R8 = 16, O_R9 = 32 };
static int check(struct fuzzer *f, const struct fregs *in, const struct fregs *out, u32 mask, unsigned outputs,
		 const char *why)
{
	int c = result_code(out->rax);
	if (c < 0 || !(mask & (1u << c))) {
		fail(f, in, out, why);
		return c;
	}
	if (c)
		outputs = 0;
	const u64 *a = &in->rdi, *b = &out->rdi;
	for (unsigned i = 0; i < 11; i++) {
		if (a[i] != b[i] && !(i < 6 && (outputs & (1u << i)))) {
			fail(f, in, out, c ? "a register changed although the call failed" : "a register that is no output changed");
			break;
		}
	}
	return c;
}

/* ---- IPC ---------------------------------------------------------------------------------- */

/* The UTCB of a thread of our own task. */
static struct l4_utcb *utcb_of(l4_tid_t t)
{
	return (struct l4_utcb *)(L4_UTCB_AREA + L4_TID_NUMBER(t) * L4_UTCB_SIZE);
}

static u64 mr_get(const struct fregs *x, unsigned i)
{
	const u64 regs[8] = { x->r10, x->r8, x->r9, x->rbx, x->r12, x->r13, x->r14, x->r15 };
	return i < L4_MR_REGS ? regs[i] : l4_utcb()->mr[i];
}

static void mr_set(struct fregs *x, unsigned i, u64 v)
{
	u64 *regs[8] = { &x->r10, &x->r8, &x->r9, &x->rbx, &x->r12, &x->r13, &x->r14, &x->r15 };
	if (i < L4_MR_REGS)
		*regs[i] = v;
	else
		l4_utcb()->mr[i] = v;
}

struct items {
	bool any, strings;
};

/* Two typed words: a map, grant or string item, or one of no known kind. */
static void make_item(struct fuzzer *f, struct rng *r, u64 *w0, u64 *w1, struct items *it)
{
	static const u64 bad_kinds[] = { 0, 1, 2, 3, 5, 6, 7, 9, 0xb, 0xc, 0xd, 0xe, 0xf };
	unsigned k = (unsigned)below(r, 100);
	bool good = chance(r, 50); /* one that can go through */
	it->any = true;
	if (k < 45) {
		*w0 = (rnd(r) & ~0xfull) | (k < 30 ? L4_ITEM_MAP : L4_ITEM_GRANT);
		*w1 = good ? L4_FPAGE((u64)f + below(r, sizeof(*f)), 12 + below(r, 3), L4_R | below(r, 8)) : pick_fpage(f, r);
	} else if (k < 92) {
		*w0 = L4_STRING_ITEM(good ? below(r, 256) : pick_len(r));
		*w1 = good ? (u64)f + below(r, sizeof(*f) - 256) : any_addr(f, r);
		it->strings = true;
	} else {
		*w0 = (rnd(r) & ~0xfull) | bad_kinds[below(r, ARRAY_SIZE(bad_kinds))];
		*w1 = rnd(r);
	}
}

static u64 make_tag(struct rng *r, bool *valid)
{
	u64 label = chance(r, 80) ? below(r, 16) : chance(r, 25) ? L4_LABEL_KERNEL_FIRST + below(r, 32) : rnd(r);
	u64 u = chance(r, 70) ? below(r, 8) : below(r, 64);
	u64 t = chance(r, 40) ? 0 : chance(r, 92) ? 2 * (1 + below(r, 4)) : below(r, 64);
	u64 tag = L4_TAG_MAKE(label, u, t);
	if (chance(r, 2))
		tag |= L4_TAG_PROPAGATE;
	if (chance(r, 10))
		tag |= rnd(r) & (0x7ull << 13); /* bit 13, R and E: ignored */
	label = L4_TAG_LABEL(tag);
	*valid = u + t <= 63 && !(t & 1) && !(tag & L4_TAG_PROPAGATE) && !L4_LABEL_IS_KERNEL(label);
	return tag;
}

/* The receive side: window, buffers and transfer timeout, all random. */
static void set_receive_side(struct fuzzer *f, struct rng *r, struct l4_utcb *u)
{
	u->rcv_window = pick_window(r);
	u->buf_count = (u32)(chance(r, 70) ? 1 + below(r, 4) : below(r, 7));
	for (unsigned k = 0; k < L4_MAX_BUFFERS; k++)
		u->buf[k] = pick_buffer(f, r);
	u->xfer_timeout = chance(r, 40) ? L4_TIMEOUT_NEVER : pick_timeout(r, 50);
}

#define IPC_ERRS (E(L4_IPC_TIMEOUT) | E(L4_IPC_NOPARTNER) | E(L4_IPC_CANCELLED))

/* The IPC error codes the send phase may end with. */
static u32 send_errors(const struct items *it)
{
	u32 m = IPC_ERRS;
	if (it->any)
		m |= E(L4_IPC_OVERFLOW) | E(L4_IPC_BADMSG) | E(L4_IPC_MAPFAIL);
	if (it->strings)
		m |= E(L4_IPC_XFER);
	return m;
}

/* A received message: a sane tag, from whom we asked, strings in our buffers. */
static void check_received(struct fuzzer *f, const struct fregs *in, const struct fregs *x, l4_tid_t from)
{
	u64 tag = x->r10;
	unsigned u = L4_TAG_U(tag), t = L4_TAG_T(tag);
	if (x->rsi == L4_NILTHREAD || (from != L4_ANYTHREAD && x->rsi != from))
		fail(f, in, x, "a message came from another thread than asked for");
	if (u + t > 63 || (t & 1) || (tag & (L4_TAG_PROPAGATE | L4_TAG_ERROR | L4_TAG_RECV_PHASE)) ||
	    L4_LABEL_IS_KERNEL(L4_TAG_LABEL(tag)))
		fail(f, in, x, "a received tag that no thread can send");
	f->st.received++;
	if (!t)
		return;
	f->st.received_items++;
	struct l4_utcb *ut = l4_utcb();
	for (unsigned i = u + 1, k = 0; i + 1 <= u + t; i += 2) {
		if ((mr_get(x, i) & 0xf) != L4_ITEM_STRING)
			continue;
		if (k >= L4_MAX_BUFFERS || mr_get(x, i + 1) != ut->buf[k].addr)
			fail(f, in, x, "a received string item does not name our buffer");
		k++;
	}
}

static void op_ipc(struct fuzzer *f, struct rng *r)
{
	struct fregs x = { .rax = L4_SYS_IPC };
	struct target to = { 0, C_GARBAGE, false, false, false }, from = to;
	if (chance(r, 65))
		to = pick_partner(f, r);
	unsigned k = (unsigned)below(r, 100);
	if (k < 40)
		from.tid = L4_ANYTHREAD;
	else if (k < 60)
		from = to.tid ? to : pick_partner(f, r); /* a call */
	else if (k < 70)
		from = pick_partner(f, r);
	else if (k < 74)
		from = fuzzer_target(f, f->idx); /* sleep */
	if (from.tid == L4_ANYTHREAD && chance(r, 5))
		from = (struct target){ invalid_tid(r), C_INVALID, false, false, false };
	x.rdi = to.tid;
	x.rsi = from.tid;
	x.rdx = L4_TIMEOUTS(pick_timeout(r, 35), pick_timeout(r, 60));
	bool valid;
	u64 tag = make_tag(r, &valid);
	unsigned u = L4_TAG_U(tag), t = L4_TAG_T(tag);
	struct items it = { false, false };
	for (unsigned i = 1; i <= u && i < L4_MR_COUNT; i++)
		mr_set(&x, i, chance(r, 80) ? rnd(r) : edge(r));
	for (unsigned i = u + 1; i < u + t && i + 1 < L4_MR_COUNT; i += 2) {
		u64 w0, w1;
		make_item(f, r, &w0, &w1, &it);
		mr_set(&x, i, w0);
		mr_set(&x, i + 1, w1);
	}
	mr_set(&x, 0, tag);
	set_receive_side(f, r, l4_utcb());
	if (to.tid == f->echo && f->echo && chance(r, 20))
		set_receive_side(f, r, utcb_of(f->echo)); /* it takes what we send */
	struct fregs in = x;
	make_call(f, &x);

	bool send = to.tid != L4_NILTHREAD, recv = from.tid != L4_NILTHREAD;
	if (x.rax != 0 || x.rdi != in.rdi || x.rdx != in.rdx) {
		fail(f, &in, &x, "IPC changed RAX, RDI or RDX");
		return;
	}
	u64 res = x.r10;
	if (send && (!(res & L4_TAG_ERROR) || (res & L4_TAG_RECV_PHASE))) {
		f->st.sent++;
		f->st.sent_items += it.any;
	}
	if (!(res & L4_TAG_ERROR)) {
		if (send && (!valid || to.cls == C_SELF || to.cls == C_INVALID))
			fail(f, &in, &x, "a send that must fail (bad tag, to itself or to no thread) succeeded");
		else if (recv)
			check_received(f, &in, &x, from.tid);
		else if (res != (tag & ~(L4_TAG_ERROR | L4_TAG_RECV_PHASE)) || x.rsi != L4_NILTHREAD)
			fail(f, &in, &x, "a send-only IPC does not return the sent tag");
		return;
	}
	u64 code = L4_IPC_ERRCODE(res);
	bool rphase = res & L4_TAG_RECV_PHASE;
	f->st.ipc_err[rphase][code & 7]++;
	if (code < L4_IPC_TIMEOUT || code > L4_IPC_XFER || (res & 0x3fff) || x.rsi != L4_NILTHREAD) {
		fail(f, &in, &x, "an IPC error tag that is not documented");
	} else if (send && !valid) {
		if (code != L4_IPC_BADMSG || rphase)
			fail(f, &in, &x, "a malformed tag must fail with BADMSG in the send phase");
	} else if (!rphase && !send) {
		fail(f, &in, &x, "a send-phase error without a send phase");
	} else if (!rphase && (to.cls == C_SELF || to.cls == C_INVALID) && code != L4_IPC_NOPARTNER) {
		fail(f, &in, &x, "a send to itself or to no thread must fail with NOPARTNER");
	} else if (!rphase && !(send_errors(&it) & E(code))) {
		fail(f, &in, &x, "a send-phase error the message cannot cause");
	} else if (rphase && !recv) {
		fail(f, &in, &x, "a receive-phase error without a receive phase");
	} else if (rphase && from.cls == C_INVALID && code != L4_IPC_NOPARTNER &&
		   !(send && code == L4_IPC_CANCELLED)) { /* cancelled after a send that blocked */
		fail(f, &in, &x, "a receive from no thread must fail with NOPARTNER");
	} else if (rphase && from.cls == C_SELF && code != L4_IPC_TIMEOUT && code != L4_IPC_CANCELLED) {
		fail(f, &in, &x, "a receive from itself can only time out (or be cancelled)");
	}
}

/* ---- ThreadControl ------------------------------------------------------------------------ */

/* The threads a fuzzer creates: set up the receive side of one in its own
 * task (its UTCB is ours to write) and start it somewhere harmless. */
static void start_child(struct fuzzer *f, struct rng *r, l4_tid_t t, bool in_my_task)
{
	if (in_my_task)
		set_receive_side(f, r, utcb_of(t));
	if (chance(r, 20))
		return; /* leave it halted */
	struct fregs x = { .rax = L4_SYS_EXCHANGE_REGISTERS, .rdi = t, .rdx = rnd(r) & (L4_USER_END - 1),
			   .r10 = pick_child_ip(r), .r8 = rnd(r) };
	x.rsi = L4_EXREG_SET_IP | L4_EXREG_SET_SP | L4_EXREG_RESUME | (chance(r, 20) ? L4_EXREG_SET_FLAGS : 0);
	struct fregs in = x;
	make_call(f, &x);
	u32 mask = x.r10 >= L4_USER_END ? E(L4_EINVAL) : OK;
	check(f, &in, &x, mask | E(L4_EINVAL_TID), O_RSI | O_RDX | O_R10 | O_R8 | O_R9, "starting a created thread");
}

static void tc_create(struct fuzzer *f, struct rng *r, struct fregs *x)
{
	unsigned slot = (unsigned)below(r, OWN_MAX);
	for (unsigned i = 0; i < OWN_MAX && f->own[slot] != L4_NILTHREAD; i++)
		slot = (slot + 1) % OWN_MAX;
	if (f->own[slot] != L4_NILTHREAD) {
		/* all taken: free one first, deleting whatever is left of it */
		struct target t = child_target(f, f->idx, slot);
		x->rdi = t.tid;
		x->r10 = t.sub && chance(r, 50) ? L4_TC_DELETE_TASK : L4_TC_DELETE;
		struct fregs in = *x;
		make_call(f, x);
		if (check(f, &in, x, OK | E(L4_EINVAL_TID), 0, "deleting a thread we created") == 0)
			f->st.deleted++;
		f->own[slot] = L4_NILTHREAD;
		return;
	}
	struct target space = { L4_NEWTASK, C_SAME, false, false, false };
	if (chance(r, 60))
		space = pick_target(f, r);
	bool bad_flags = chance(r, 5), bad_want = false;
	x->r8 = bad_flags ? rnd(r) | 2 : chance(r, 25) ? L4_TC_ALIEN : 0;
	if (chance(r, 15)) { /* a wanted ID; versions stay low, so no count wraps */
		bad_want = chance(r, 40);
		x->rdi = bad_want ? invalid_tid(r) : L4_TID_MAKE(1 + below(r, L4_MAX_THREADS - 1), 1 + below(r, 0x8000));
		if (!bad_want && vital_number(L4_TID_NUMBER(x->rdi)))
			x->rdi = L4_NILTHREAD;
	}
	x->rsi = space.tid;
	x->rdx = pick_pager(r, pager_tid);
	x->r9 = pick_pager(r, exc_tid);
	u32 mask;
	if (bad_flags)
		mask = E(L4_EINVAL);
	else if (space.cls == C_OTHER)
		mask = E(L4_ENOPERM) | E(L4_EINVAL_TID);
	else if (space.cls == C_INVALID)
		mask = E(L4_EINVAL_TID);
	else if (space.cls == C_GARBAGE)
		mask = ANY_ERR & ~E(L4_EFAULT) & ~E(L4_EBUSY);
	else if (bad_want)
		mask = E(L4_EINVAL_TID) | E(L4_ENOMEM);
	else
		mask = OK | E(L4_EINVAL_TID) | E(L4_EEXIST) | E(L4_ENOMEM);
	if (space.cls == C_GARBAGE && !bad_flags)
		mask |= OK;
	struct fregs in = *x;
	make_call(f, x);
	if (check(f, &in, x, mask, O_RDI | O_RSI, "ThreadControl CREATE") != 0)
		return;
	l4_tid_t t = x->rdi;
	u64 task = x->rsi;
	f->st.created++;
	start_child(f, r, t, task == task_id[f->task]);
	f->own_task[slot] = task; /* others may name it now, not while we write its UTCB */
	f->own[slot] = t;
}

static void op_thread_control(struct fuzzer *f, struct rng *r)
{
	struct fregs x = { .rax = L4_SYS_THREAD_CONTROL, .rdx = rnd(r), .r8 = rnd(r), .r9 = rnd(r), .rbx = rnd(r) };
	unsigned k = (unsigned)below(r, 100);
	if (k < 35) {
		x.r10 = L4_TC_CREATE;
		tc_create(f, r, &x);
		return;
	}
	struct target t = pick_target(f, r);
	x.rdi = t.tid;
	x.rsi = rnd(r);
	u32 allowed = 0, mask;
	unsigned outputs = 0;
	if (k < 45) { /* deleting a fuzzer takes it out: rarely */
		x.r10 = L4_TC_DELETE;
		if (t.fuzzer && t.cls != C_SELF && t.cls != C_OTHER && !chance(r, 3))
			x.r10 = L4_TC_SET_PAGER;
		allowed = t.cls == C_SELF ? E(L4_EBUSY) : OK;
	} else if (k < 52) {
		x.r10 = L4_TC_DELETE_TASK;
		allowed = t.cls == C_SELF || (t.fuzzer && t.cls == C_SAME) || (t.own && !t.sub) ? E(L4_EBUSY)
			: t.own ? OK : OK | E(L4_EBUSY);
	} else if (k < 68) {
		x.r10 = L4_TC_SET_PAGER;
		allowed = OK;
	} else if (k < 80) {
		x.r10 = L4_TC_SET_EXC_HANDLER;
		allowed = OK;
	} else if (k < 88) {
		x.r10 = L4_TC_ATTACH_IRQ; /* privileged tasks only: ENOPERM, checked first */
		x.rdi = chance(r, 80) ? L4_IRQ_TID(below(r, 40)) : t.tid;
		x.rdx = pick_partner(f, r).tid;
		f->st.attach_irq++;
	} else if (k < 94) {
		x.r10 = L4_TC_KMEM_LIMIT;
		x.rdx = chance(r, 50) ? L4_KMEM_QUERY : below(r, 20000);
		allowed = x.rdx == L4_KMEM_QUERY ? OK : OK | E(L4_ENOPERM) | E(L4_EINVAL);
		if (x.rdx != L4_KMEM_QUERY && (t.cls == C_SELF || (t.fuzzer && t.cls == C_SAME) || (t.own && !t.sub)))
			allowed = E(L4_ENOPERM); /* our own task */
		outputs = O_RDX;
	} else {
		x.r10 = chance(r, 50) ? TC_OPS + below(r, 10) : rnd(r);
		allowed = E(L4_EINVAL);
	}
	if (x.r10 == L4_TC_SET_PAGER || x.r10 == L4_TC_SET_EXC_HANDLER) {
		l4_tid_t ours = x.r10 == L4_TC_SET_PAGER ? pager_tid : exc_tid;
		x.rdx = t.fuzzer ? ours : pick_pager(r, ours);
	}
	if (x.r10 == L4_TC_ATTACH_IRQ)
		mask = E(L4_ENOPERM);
	else if (t.cls == C_SELF)
		mask = allowed;
	else if (t.cls == C_SAME)
		mask = allowed | E(L4_EINVAL_TID);
	else if (t.cls == C_OTHER)
		mask = E(L4_ENOPERM) | E(L4_EINVAL_TID);
	else if (t.cls == C_INVALID)
		mask = E(L4_EINVAL_TID);
	else
		mask = allowed | E(L4_EINVAL_TID) | E(L4_ENOPERM);
	struct fregs in = x;
	make_call(f, &x);
	int c = check(f, &in, &x, mask, outputs, "ThreadControl");
	if (in.r10 == L4_TC_ATTACH_IRQ && c != L4_ENOPERM)
		f->st.attach_bad++;
	if (in.r10 == L4_TC_KMEM_LIMIT && c == 0 && x.rdx > l4_kip()->kernel_pages)
		fail(f, &in, &x, "KMEM_LIMIT: more pages in use than the pool has");
	if (c == 0 && (x.r10 == L4_TC_DELETE || x.r10 == L4_TC_DELETE_TASK))
		f->st.deleted++;
}

/* ---- ExchangeRegisters, Schedule, ThreadSwitch -------------------------------------- */

/* Control bits that leave a fuzzer running as it was: its own pager, no
 * new IP or SP; flags only for itself, and only those no compiled code
 * keeps across a system call (a sibling may be between a compare and its
 * jump); a halt only with a resume, but for a sibling now and then. */
static u64 harmless_control(struct rng *r, bool self)
{
	u64 c = below(r, 0x80) & (L4_EXREG_SET_FLAGS | L4_EXREG_SET_PAGER | L4_EXREG_RESUME | L4_EXREG_CANCEL);
	if (!self)
		c &= ~(u64)L4_EXREG_SET_FLAGS;
	if (chance(r, 10))
		c |= L4_EXREG_HALT | L4_EXREG_RESUME;
	if (!self && chance(r, 3))
		c = L4_EXREG_HALT; /* until it resumes us, or the supervisor does */
	return c;
}

static void op_exchange_registers(struct fuzzer *f, struct rng *r)
{
	struct target t = pick_target(f, r);
	struct fregs x = { .rax = L4_SYS_EXCHANGE_REGISTERS, .rdi = t.tid, .rbx = rnd(r), .r12 = rnd(r) };
	if (t.fuzzer && t.cls != C_OTHER) {
		x.rsi = harmless_control(r, t.cls == C_SELF);
		x.r8 = rnd(r) & 0x8d5; /* CF PF AF ZF SF OF */
		x.r9 = pager_tid;
		x.rdx = rnd(r);
		x.r10 = rnd(r);
		if (chance(r, 4)) { /* refused, so harmless too */
			x.rsi |= chance(r, 50) ? 1ull << (7 + below(r, 57)) : 0;
			if (!(x.rsi >> 7)) {
				x.rsi |= chance(r, 50) ? L4_EXREG_SET_SP : L4_EXREG_SET_IP;
				x.rdx = x.r10 = L4_USER_END + below(r, 1ull << 40);
			}
		}
	} else {
		x.rsi = chance(r, 95) ? below(r, 0x80) : rnd(r);
		if ((x.rsi & L4_EXREG_HALT) && chance(r, 60))
			x.rsi &= ~(u64)L4_EXREG_HALT; /* keep most of them running */
		x.rdx = chance(r, 90) ? rnd(r) & (L4_USER_END - 1) : edge(r);
		x.r10 = pick_child_ip(r);
		x.r8 = rnd(r);
		x.r9 = pick_pager(r, pager_tid);
	}
	bool invalid = (x.rsi & ~0x7full) || ((x.rsi & L4_EXREG_SET_SP) && x.rdx >= L4_USER_END) ||
		       ((x.rsi & L4_EXREG_SET_IP) && x.r10 >= L4_USER_END);
	u32 ok = invalid ? E(L4_EINVAL) : OK;
	u32 mask = t.cls == C_SELF ? ok : t.cls == C_SAME ? ok | E(L4_EINVAL_TID)
		: t.cls == C_OTHER ? E(L4_ENOPERM) | E(L4_EINVAL_TID) : t.cls == C_INVALID ? E(L4_EINVAL_TID)
		: ok | E(L4_EINVAL_TID) | E(L4_ENOPERM);
	struct fregs in = x;
	make_call(f, &x);
	if (check(f, &in, &x, mask, O_RSI | O_RDX | O_R10 | O_R8 | O_R9, "ExchangeRegisters") != 0)
		return;
	f->st.exreg_ok++;
	if ((x.rsi & ~0x1full) || (x.rsi & L4_EXREG_STATE_PRIVILEGED) || (x.r8 & 0x202) != 0x202)
		fail(f, &in, &x, "ExchangeRegisters: state bits or old RFLAGS not as documented");
	else if (t.cls == C_SELF && (x.rsi != 0 || x.r10 != (u64)fuzz_syscall_ret || x.r9 != pager_tid))
		fail(f, &in, &x, "ExchangeRegisters on itself: not running, or old IP or pager wrong");
}

static void op_schedule(struct fuzzer *f, struct rng *r)
{
	struct target t = pick_target(f, r);
	struct fregs x = { .rax = L4_SYS_SCHEDULE, .rdi = t.tid, .r8 = rnd(r), .r9 = rnd(r), .r13 = rnd(r) };
	u64 keep = L4_SCHED_KEEP;
	if (t.fuzzer && t.cls != C_OTHER) { /* fuzzers stay at 100..120, with their MCP */
		u64 prio = FUZZ_PRIO + below(r, FUZZ_MCP - FUZZ_PRIO + 1);
		x.rsi = chance(r, 30) ? keep : chance(r, 90) ? prio : FUZZ_MCP + 1 + below(r, 200);
		x.r10 = chance(r, 70) ? keep : chance(r, 50) ? FUZZ_MCP : FUZZ_MCP + 1 + below(r, 200);
	} else {
		x.rsi = chance(r, 20) ? keep : chance(r, 50) ? 90 + below(r, 31) : chance(r, 80) ? below(r, 256) : edge(r);
		x.r10 = chance(r, 50) ? keep : chance(r, 90) ? below(r, 256) : edge(r);
	}
	x.rdx = chance(r, 40) ? keep : chance(r, 80) ? 100 + below(r, 10000000) : edge(r);
	u64 p = x.rsi, s = x.rdx, m = x.r10;
	u32 ok;
	if ((p != keep && p >= L4_PRIO_LEVELS) || (m != keep && m >= L4_PRIO_LEVELS))
		ok = E(L4_EINVAL);
	else if ((p != keep && p > FUZZ_MCP) || (m != keep && m > FUZZ_MCP))
		ok = E(L4_ENOPERM);
	else if (s != keep && (s < 100 || s > 10000000))
		ok = E(L4_EINVAL);
	else
		ok = OK;
	u32 mask = t.cls == C_SELF ? ok : t.cls == C_SAME ? ok | E(L4_EINVAL_TID)
		: t.cls == C_OTHER ? E(L4_ENOPERM) | E(L4_EINVAL_TID) : t.cls == C_INVALID ? E(L4_EINVAL_TID)
		: ok | E(L4_EINVAL_TID) | E(L4_ENOPERM);
	struct fregs in = x;
	make_call(f, &x);
	if (check(f, &in, &x, mask, O_RSI | O_RDX | O_R10, "Schedule") != 0)
		return;
	if (x.rsi >= L4_PRIO_LEVELS || x.r10 >= L4_PRIO_LEVELS || x.rdx < 100 || x.rdx > 10000000)
		fail(f, &in, &x, "Schedule: old values out of range");
	else if (t.cls == C_SELF && x.r10 != FUZZ_MCP)
		fail(f, &in, &x, "Schedule: a fuzzer's MCP changed");
}

static void op_thread_switch(struct fuzzer *f, struct rng *r)
{
	struct target t = pick_partner(f, r);
	if (chance(r, 20))
		t = (struct target){ L4_NILTHREAD, C_SELF, false, false, false };
	if (chance(r, 5)) { /* donating time to anybody is harmless */
		const struct l4_kip *k = l4_kip();
		l4_tid_t v[] = { k->sigma0, k->root, l4_console, main_tid, pager_tid, exc_tid };
		t = (struct target){ v[below(r, ARRAY_SIZE(v))], C_VITAL, false, false, false };
	}
	struct fregs x = { .rax = L4_SYS_THREAD_SWITCH, .rdi = t.tid, .rsi = rnd(r), .r14 = rnd(r) };
	u32 mask = t.cls == C_SELF || t.cls == C_VITAL ? OK : t.cls == C_INVALID ? E(L4_EINVAL_TID)
		: OK | E(L4_EINVAL_TID);
	struct fregs in = x;
	make_call(f, &x);
	check(f, &in, &x, mask, 0, "ThreadSwitch");
}

/* ---- KDebug, Unmap, unknown calls --------------------------------------------------- */

static const char dots[] = "................................................................";

static void op_kdebug(struct fuzzer *f, struct rng *r)
{
	struct fregs x = { .rax = L4_SYS_KDEBUG, .rsi = rnd(r), .rdx = rnd(r), .r10 = rnd(r), .r15 = rnd(r) };
	unsigned k = (unsigned)below(r, 100);
	u32 mask;
	if (k < 25) { /* output only from a buffer of dots, else where nothing is mapped */
		x.rdi = L4_KD_PUTS;
		if (chance(r, 30)) {
			x.rsi = (u64)dots + below(r, 8);
			x.rdx = below(r, 5);
			mask = OK;
		} else {
			x.rsi = chance(r, 50) ? WILD + below(r, 1ull << 32) : kernel_addr(r);
			x.rdx = chance(r, 80) ? below(r, 70000) : edge(r);
			mask = x.rdx > 65536 ? E(L4_EINVAL) : x.rdx ? E(L4_EFAULT) : OK;
		}
	} else if (k < 40) {
		x.rdi = L4_KD_FREE_PAGES;
		mask = 0;
	} else if (k < 55) {
		x.rdi = L4_KD_NOP;
		mask = OK;
	} else if (k < 90) {
		x.rdi = L4_KD_PROBE;
		x.rsi = any_addr(f, r);
		mask = 0;
	} else {
		x.rdi = chance(r, 50) ? 5 + below(r, 100) : 5 + (rnd(r) >> 1);
		mask = E(L4_EINVAL);
	}
	struct fregs in = x;
	make_call(f, &x);
	if (mask) {
		check(f, &in, &x, mask, 0, "KDebug");
		return;
	}
	struct fregs zero = x; /* RAX is a count: check the other registers alone */
	zero.rax = 0;
	check(f, &in, &zero, OK, 0, "KDebug");
	if (x.rdi == L4_KD_FREE_PAGES && x.rax > l4_kip()->kernel_pages)
		fail(f, &in, &x, "more free kernel pages than the pool has");
	if (x.rdi == L4_KD_PROBE) {
		u64 v = x.rax, a = x.rsi;
		f->st.probed_2m += !!(v & L4_KD_PROBE_2M);
		if ((v & ~(u64)(L4_RWX | L4_KD_PROBE_2M)) || ((v & L4_RWX) && !(v & L4_R)) || (!(v & L4_RWX) && v) ||
		    (a >= L4_USER_END && v) || ((a & ~0xfffull) == L4_KIP_ADDR && (v & ~(u64)L4_X) != L4_R))
			fail(f, &in, &x, "KDebug PROBE: rights not as documented");
	}
}

/* Unmap's documented EINVAL cases. */
static bool unmap_invalid(u64 fp, u64 flags)
{
	u64 log2 = L4_FPAGE_LOG2(fp);
	if (flags & ~(u64)L4_UNMAP_SELF)
		return true;
	if (L4_IS_IO_FPAGE(fp))
		return log2 > 16 || (L4_IO_FPAGE_PORT(fp) & ((1ull << log2) - 1));
	if (log2 < 12 || log2 > 47)
		return true;
	return (L4_FPAGE_BASE(fp) & ~((1ull << log2) - 1)) >= L4_USER_MAP_END;
}

static void op_unmap(struct fuzzer *f, struct rng *r)
{
	struct fregs x = { .rax = L4_SYS_UNMAP, .rdi = pick_fpage(f, r), .rdx = rnd(r), .r9 = rnd(r), .rbx = rnd(r) };
	x.rsi = chance(r, 92) ? below(r, 2) : rnd(r);
	struct fregs in = x;
	make_call(f, &x);
	bool invalid = unmap_invalid(in.rdi, in.rsi);
	if (check(f, &in, &x, invalid ? E(L4_EINVAL) : OK, O_RDI, "Unmap") != 0)
		return;
	f->st.unmapped++;
	if ((x.rdi & ~(u64)(L4_UNMAP_REFERENCED | L4_UNMAP_DIRTY)) || (L4_IS_IO_FPAGE(in.rdi) && x.rdi))
		fail(f, &in, &x, "Unmap: an access state that is not documented");
}

static void op_unknown(struct fuzzer *f, struct rng *r)
{
	struct fregs x = { .rax = L4_SYS_COUNT + below(r, 100), .rdi = rnd(r), .rsi = rnd(r), .rdx = rnd(r),
			   .r10 = rnd(r), .r8 = rnd(r), .r9 = rnd(r) };
	if (chance(r, 50))
		x.rax = edge(r) | 8;
	struct fregs in = x;
	make_call(f, &x);
	check(f, &in, &x, E(L4_ENOSYS), 0, "an unknown system call");
}

/* ---- the fuzzer ---------------------------------------------------------------------- */

static void one_call(struct fuzzer *f)
{
	struct rng r = { mix(f->seed + f->calls * 0xd1b54a32d192ed03ull) };
	if (superpage && chance(&r, 2))
		l4_touch(superpage + below(&r, 1ull << 21), false); /* a user fault: 2 MiB arrive */
	unsigned k = (unsigned)below(&r, 100);
	if (k < 36)
		op_ipc(f, &r);
	else if (k < 52)
		op_thread_control(f, &r);
	else if (k < 64)
		op_exchange_registers(f, &r);
	else if (k < 71)
		op_schedule(f, &r);
	else if (k < 76)
		op_thread_switch(f, &r);
	else if (k < 85)
		op_kdebug(f, &r);
	else if (k < 97)
		op_unmap(f, &r);
	else
		op_unknown(f, &r);
}

/* The echo thread: in our task, at the highest priority we may give, so
 * that it is always there to take and answer a message. */
static void start_echo(struct fuzzer *f)
{
	struct rng r = { mix(f->seed - 1) };
	struct fregs x = { .rax = L4_SYS_THREAD_CONTROL, .rsi = fuzzer_tid[f->idx], .rdx = pager_tid,
			   .r10 = L4_TC_CREATE, .r9 = exc_tid };
	struct fregs in = x;
	make_call(f, &x);
	if (check(f, &in, &x, OK | E(L4_ENOMEM), O_RDI | O_RSI, "creating the echo thread") != 0)
		return;
	l4_tid_t t = x.rdi;
	set_receive_side(f, &r, utcb_of(t));
	x = (struct fregs){ .rax = L4_SYS_SCHEDULE, .rdi = t, .rsi = FUZZ_MCP, .rdx = L4_SCHED_KEEP, .r10 = L4_SCHED_KEEP };
	in = x;
	make_call(f, &x);
	check(f, &in, &x, OK, O_RSI | O_RDX | O_R10, "raising the echo thread");
	x = (struct fregs){ .rax = L4_SYS_EXCHANGE_REGISTERS, .rdi = t, .rsi = L4_EXREG_SET_IP | L4_EXREG_RESUME,
			    .r10 = (u64)v_echo };
	in = x;
	make_call(f, &x);
	check(f, &in, &x, OK, O_RSI | O_RDX | O_R10 | O_R8 | O_R9, "starting the echo thread");
	f->echo = t;
}

static void fuzzer_main(u64 idx)
{
	struct fuzzer *f = &zone[idx];
	start_echo(f);
	for (;;)
		one_call(f);
}

/* ---- the pager ----------------------------------------------------------------------------
 * Maps this program's image read-only (and executable) to any task, `zone`
 * and the superpage writable to the fuzz tasks (read-only to tasks they
 * created; the superpage as one 2 MiB mapping, which the fuzzers' map,
 * grant and Unmap calls then take apart), and
 * refuses everything else with an empty reply: a kernel access then fails
 * (EFAULT, XFER), a user access faults again.  The same refused fault twice
 * in a row from a created thread stops it: halted if this task controls it,
 * else left waiting for the answer until it is deleted. */

static bool in_zone(u64 a) { return a >= (u64)zone && a < (u64)zone + sizeof(zone); }

static bool is_fuzz_task(u64 task)
{
	for (unsigned i = 0; i < n_tasks; i++)
		if (task_id[i] == task)
			return true;
	return false;
}

static bool is_fuzzer(l4_tid_t t)
{
	for (unsigned i = 0; i < n_fuzzers(); i++)
		if (fuzzer_tid[i] == t)
			return true;
	return false;
}

static unsigned page_rights(u64 task, u64 addr, unsigned access)
{
	if (superpage && addr - superpage < (1ull << 21))
		return access == L4_X ? 0 : is_fuzz_task(task) ? L4_R | L4_W : access == L4_W ? 0 : L4_R;
	if (in_zone(addr))
		return access == L4_X ? 0 : is_fuzz_task(task) ? L4_R | L4_W : access == L4_W ? 0 : L4_R;
	if (addr >= L4_IMAGE_BASE && addr < (u64)_end)
		return access == L4_W ? 0 : L4_R | L4_X;
	return 0;
}

static bool in_image(u64 a) { return a >= L4_IMAGE_BASE + 2 && a < (u64)_end; }

/* Is ip that of a thread in a system call (the kernel faults for it)? */
static bool after_syscall(u64 ip)
{
	return in_image(ip) && ((const u8 *)ip)[-2] == 0x0f && ((const u8 *)ip)[-1] == 0x05;
}

/* The answer to a fault in m; false: none. */
static bool answer_fault(l4_tid_t from, struct l4_msg *m, u64 label)
{
	u64 addr = m->mr[1], page = addr & ~0xfffull, *last = &last_refused[L4_TID_NUMBER(from)];
	unsigned rights = page_rights(m->mr[3], addr, (unsigned)(label & 7));
	if (rights) {
		*last = 1; /* never a fault address: not page-aligned-down */
		pg_served++;
		if (superpage && addr - superpage < (1ull << 21)) {
			l4_map_msg(m, superpage, L4_FPAGE(superpage, 21, rights), false);
			return true;
		}
		l4_touch(page, false);
		l4_map_msg(m, page, L4_FPAGE(page, 12, rights), false);
		return true;
	}
	pg_refused++;
	m->mr[0] = L4_TAG_MAKE(0, 0, 0);
	if (is_fuzzer(from) || after_syscall(m->mr[2]) || *last != addr) {
		*last = addr;
		return true;
	}
	struct l4_exreg x = { L4_EXREG_HALT, 0, 0, 0, 0, 0 };
	if (l4_exchange_registers(from, &x) == 0) {
		pg_halted++;
		return true;
	}
	pg_parked++;
	return false;
}

static bool on_fault(void *ctx, l4_tid_t from, u64 tag, struct l4_msg *m)
{
	(void)ctx;
	return answer_fault(from, m, L4_TAG_LABEL(tag));
}

static bool on_other(void *ctx, l4_tid_t from, u64 tag, struct l4_msg *m)
{
	(void)ctx, (void)from, (void)tag, (void)m;
	pg_other++;
	return false;
}

static void pager_thread(u64 arg)
{
	(void)arg;
	pager_loop(on_fault, on_other, NULL);
}

/* ---- the exception handler ---------------------------------------------------------------
 * For the threads the fuzzers create (and the fuzzers, which should never
 * need it).  Checks each message against the routine that raised it, then
 * answers a system call or int 0x80 with a result, lets a trap go on, moves
 * a fault on to the next instruction (or a stray thread back to v_recv),
 * and sometimes deletes the thread, answers nothing (it waits until it is
 * deleted or cancelled), resumes it unchanged (it faults again) or gives
 * it an IP beyond user space (the kernel stops it). */
static volatile u64 ex_handled, ex_deleted, ex_parked, ex_bad, ex_bad_vector, ex_bad_rip;
static volatile u64 fuzzer_exceptions, fuzzer_exc_vector, fuzzer_exc_rip;
static struct rng exc_rng;

static const struct site *site_at(u64 rip)
{
	for (unsigned i = 0; i < ARRAY_SIZE(fault_sites); i++)
		if ((u64)fault_sites[i].at == rip)
			return &fault_sites[i];
	return NULL;
}

/* Does the message say what the thread did? */
static bool exc_as_documented(l4_tid_t from, u64 tag, const u64 *w)
{
	u64 v = w[L4_EXC_VECTOR], rip = w[L4_EXC_RIP];
	const u8 *b = (const u8 *)rip;
	const struct site *s = site_at(rip);
	if (L4_TAG_U(tag) != L4_EXC_WORDS || L4_TAG_T(tag) != 0 || w[L4_EXC_FS_BASE] != 0 ||
	    w[L4_EXC_GS_BASE] != L4_UTCB_AREA + L4_TID_NUMBER(from) * L4_UTCB_SIZE || !(w[L4_EXC_RFLAGS] & 0x200))
		return false;
	if (v == 1) /* single steps, after a fuzzer set TF: anywhere */
		return true;
	if (v == L4_EXC_SYSCALL)
		return after_syscall(rip) && w[L4_EXC_RCX] == rip &&
		       w[L4_EXC_R11] == w[L4_EXC_RFLAGS];
	if (v == 0x80)
		return in_image(rip) && b[-2] == 0xcd && b[-1] == 0x80;
	if (v == 3)
		return in_image(rip) && b[-1] == 0xcc;
	if (v == 14 && (w[L4_EXC_ADDR] >> 12 == rip >> 12 || w[L4_EXC_ADDR] >> 12 == (rip + 15) >> 12))
		return true; /* fetching the instruction: no pager, or where nothing runs */
	if (s)
		return v == s->vector && (v != 14 || w[L4_EXC_ADDR] == (s->at == vf_store2 ? WILD : KERNEL_VA));
	return false;
}

/* The answer in m; false: none. */
static bool answer_exception(l4_tid_t from, struct l4_msg *m, u64 *w)
{
	u64 v = w[L4_EXC_VECTOR], k = below(&exc_rng, 100);
	if (k < 4 && l4_delete_thread(from) == 0) {
		ex_deleted++;
		return false;
	}
	if (k < 8) {
		ex_parked++;
		return false;
	}
	ex_handled++;
	if (v == L4_EXC_SYSCALL || v == 0x80) {
		m->mr[0] = L4_TAG_MAKE(0, 1, 0);
		m->mr[1] = rnd(&exc_rng);
		return true;
	}
	if (v == 3 || (k < 12 && v != 1)) {
		m->mr[0] = L4_TAG_MAKE(0, 0, 0); /* go on as it was */
		return true;
	}
	const struct site *s = site_at(w[L4_EXC_RIP]);
	if (v == 1)
		w[L4_EXC_RFLAGS] &= ~0x100ull; /* no more single steps */
	else
		w[L4_EXC_RIP] = s ? (u64)s->next : (u64)v_recv;
	if (k < 14)
		w[L4_EXC_RIP] = L4_USER_END + below(&exc_rng, 1ull << 40);
	m->mr[0] = L4_TAG_MAKE(0, L4_EXC_WORDS, 0);
	for (unsigned i = 1; i <= L4_EXC_WORDS; i++) {
		if (i < L4_MR_REGS)
			m->mr[i] = w[i];
		else
			l4_utcb()->mr[i] = w[i];
	}
	return true;
}

static void exc_loop(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t from = L4_NILTHREAD;
	bool reply = false;
	u64 w[L4_EXC_WORDS + 1];
	for (;;) {
		u64 tag = reply ? l4_reply_wait(from, &m, &from) : l4_wait(&m, &from);
		reply = false;
		if (l4_ipc_failed(tag) || L4_TAG_LABEL(tag) != L4_LABEL_EXCEPTION)
			continue;
		for (unsigned i = 1; i <= L4_EXC_WORDS; i++)
			w[i] = i < L4_MR_REGS ? m.mr[i] : l4_utcb()->mr[i];
		if (is_fuzzer(from)) { /* a fuzzer's own bug, or the kernel's: it waits */
			if (!fuzzer_exceptions++) {
				fuzzer_exc_vector = w[L4_EXC_VECTOR];
				fuzzer_exc_rip = w[L4_EXC_RIP];
			}
			continue;
		}
		if (!exc_as_documented(from, tag, w) && !ex_bad++) {
			ex_bad_vector = w[L4_EXC_VECTOR];
			ex_bad_rip = w[L4_EXC_RIP];
		}
		reply = answer_exception(from, &m, w);
	}
}

/* ---- the supervisor ---------------------------------------------------------------------- */

static struct {
	u64 calls, bad, first_fuzzer;
	struct bad_call first;
	struct stats st;
} total;
static u64 planned, gone, starved, resumed, stuck, dead, start_failures;
static bool live[FUZZ_TASKS];

static void sleep_ms(u64 ms)
{
	struct l4_msg m = { { 0 } };
	l4_ipc(L4_NILTHREAD, l4_myself(), L4_TIMEOUTS(L4_TIMEOUT_ZERO, ms * 1000), &m, NULL);
}

static u64 now_ms(void) { return l4_rdtsc() / (l4_kip()->tsc_hz / 1000); }

/* Adds what fuzzer j did to the totals. */
static void harvest(unsigned j)
{
	struct fuzzer *f = &zone[j];
	total.calls += f->calls;
	if (f->bad && !total.bad) {
		total.first = f->first_bad;
		total.first_fuzzer = j;
	}
	total.bad += f->bad;
	u64 *a = (u64 *)&total.st, *b = (u64 *)&f->st;
	for (unsigned i = 0; i < sizeof(struct stats) / 8; i++)
		a[i] += b[i];
	f->calls = f->bad = 0;
	memset(&f->st, 0, sizeof(f->st));
}

/* A new generation of fuzz task s: a first thread that never runs (the
 * supervisor deletes the task through it, whatever the fuzzers did to each
 * other), then the fuzzers, each with a seed of its own. */
static bool start_task(unsigned s)
{
	l4_tid_t a;
	u64 id;
	if (l4_thread_control(L4_NILTHREAD, L4_NEWTASK, pager_tid, L4_TC_CREATE, &a, &id) < 0)
		return false;
	u64 gen = task_gen[s]++;
	anchor[s] = a;
	task_id[s] = id;
	for (unsigned k = 0; k < per_task; k++) {
		unsigned j = s * per_task + k;
		struct fuzzer *f = &zone[j];
		memset(&f->idx, 0, sizeof(*f) - __builtin_offsetof(struct fuzzer, idx));
		f->idx = j;
		f->task = s;
		f->gen = gen;
		f->seed = fuzzer_seed(j, gen);
		l4_tid_t t;
		if (l4_create_thread_ex(a, pager_tid, 0, exc_tid, &t) < 0 ||
		    l4_schedule_mcp(t, FUZZ_PRIO, L4_SCHED_KEEP, FUZZ_MCP, NULL, NULL, NULL) < 0) {
			l4_delete_task(a);
			return false;
		}
		fuzzer_tid[j] = t;
	}
	for (unsigned k = 0; k < per_task; k++) {
		unsigned j = s * per_task + k;
		l4_start_fn(fuzzer_tid[j], fuzzer_main, j, zone[j].stack, FSTACK);
	}
	return true;
}

static void stop_task(unsigned s)
{
	l4_delete_task(anchor[s]);
	for (unsigned k = 0; k < per_task; k++)
		harvest(s * per_task + k);
	live[s] = false;
}

static u64 calls_so_far(void)
{
	u64 n = total.calls;
	for (unsigned j = 0; j < n_fuzzers(); j++)
		n += zone[j].calls;
	return n;
}

static void print_last_call(unsigned j, const char *what, u64 state)
{
	struct l4_exreg x = { 0, 0, 0, 0, 0, 0 };
	l4_exchange_registers(fuzzer_tid[j], &x);
	printf("\n# fuzz: fuzzer %u (%llx) %s (state %llx, ip %llx, sp %llx); its last call (generation %llu, call %llu, "
	       "seed %llu):\n", j, fuzzer_tid[j], what, state, x.ip, x.sp, zone[j].gen, zone[j].calls, base_seed);
	print_regs("#  ", &zone[j].last);
}

/* A fuzzer without progress: deleted by its sibling, halted, stuck. */
static void stalled(unsigned s, unsigned j)
{
	u64 st = thread_state(fuzzer_tid[j]);
	if (st == ~0ull) {
		gone++;
	} else if (st & L4_EXREG_STATE_DEAD) {
		dead++;
		print_last_call(j, "was stopped", st);
	} else if ((st & L4_EXREG_STATE_HALTED) && !(st & (L4_EXREG_STATE_SENDING | L4_EXREG_STATE_RECEIVING))) {
		struct l4_exreg x = { L4_EXREG_RESUME, 0, 0, 0, 0, 0 };
		if (l4_exchange_registers(fuzzer_tid[j], &x) == 0) {
			resumed++;
			return;
		}
	} else if (st & (L4_EXREG_STATE_SENDING | L4_EXREG_STATE_RECEIVING)) {
		stuck++; /* its timeouts are a few ms, its pager always answers it */
		if (stuck <= 3)
			print_last_call(j, "is stuck in IPC", st);
	} else {
		starved++; /* ready, but threads it made of a higher priority keep it off the CPU */
	}
	stop_task(s);
}

/* One round of supervision; the tsc-ms of the last progress per fuzzer. */
static void supervise(u64 now, u64 *seen, u64 *since)
{
	for (unsigned s = 0; s < n_tasks; s++) {
		if (!live[s]) {
			if (start_task(s)) {
				live[s] = true;
				for (unsigned k = 0; k < per_task; k++)
					seen[s * per_task + k] = 0, since[s * per_task + k] = now;
			} else {
				start_failures++;
			}
			continue;
		}
		u64 task_calls = 0;
		for (unsigned k = 0; k < per_task; k++)
			task_calls += zone[s * per_task + k].calls;
		if (task_calls >= TASK_GEN_CALLS) {
			planned++;
			stop_task(s);
			continue;
		}
		for (unsigned k = 0; k < per_task && live[s]; k++) {
			unsigned j = s * per_task + k;
			if (zone[j].calls != seen[j]) {
				seen[j] = zone[j].calls;
				since[j] = now;
			} else if (now - since[j] > STALL_MS) {
				since[j] = now;
				stalled(s, j);
			}
		}
	}
}

static void prefault(void)
{
	for (u64 a = L4_IMAGE_BASE; a < (u64)_end; a += 4096)
		l4_touch(a, false);
	volatile u8 deep[32768];
	for (unsigned i = 0; i < sizeof(deep); i += 4096)
		deep[i] = 0;
}

static u64 parse(const char *s)
{
	u64 v = 0;
	if (s[0] == '0' && s[1] == 'x') {
		for (s += 2; *s; s++)
			v = v * 16 + (u64)(*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
		return v;
	}
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (u64)(*s++ - '0');
	return v;
}

static void parse_args(int argc, char **argv)
{
	int numbers = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] >= '0' && argv[i][0] <= '9')
			*(numbers++ ? &base_seed : &target_calls) = parse(argv[i]);
		else if (!strcmp(argv[i], "verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "solo"))
			solo = true;
		else if (!strcmp(argv[i], "bench"))
			bench = true;
	}
	if (solo)
		n_tasks = per_task = 1;
}

static void print_reproduce(void)
{
	printf("# reproduce: 'run t_fuzz.elf %llu %llu' in a boot configuration, e.g. printf 'run t_fuzz.elf %llu %llu "
	       "verbose\\npoweroff\\n' > build/x.cfg; BENCH_CFG=x.cfg tools/qemu.sh bench ('verbose' prints every call, "
	       "'solo' runs one fuzzer thread); the interleaving of the tasks is not deterministic\n",
	       target_calls, base_seed, target_calls, base_seed);
}

static void report(void)
{
	struct stats *s = &total.st;
	printf("# fuzz: ipc %llu, thread_control %llu, exchange_registers %llu, schedule %llu, thread_switch %llu, "
	       "kdebug %llu, unmap %llu, unknown %llu\n",
	       s->per_call[0], s->per_call[1], s->per_call[2], s->per_call[3], s->per_call[4], s->per_call[5],
	       s->per_call[6], s->per_call[7]);
	printf("# fuzz: %llu messages sent (%llu with items), %llu received (%llu with items); %llu threads created, "
	       "%llu deleted; %llu exchange_registers and %llu unmaps done; %llu probes found a 2 MiB page\n",
	       s->sent, s->sent_items, s->received, s->received_items, s->created, s->deleted, s->exreg_ok, s->unmapped,
	       s->probed_2m);
	printf("# fuzz: pager: %llu faults served, %llu refused (%llu threads halted, %llu left waiting), %llu other "
	       "messages; exceptions: %llu answered, %llu threads deleted, %llu left waiting\n",
	       pg_served, pg_refused, pg_halted, pg_parked, pg_other, ex_handled, ex_deleted, ex_parked);
	printf("# fuzz: fuzz tasks replaced: %llu after %d calls, %llu after a fuzzer was deleted, %llu starved, %llu "
	       "stopped, %llu stuck; %llu fuzzers resumed after a halt; %llu failed starts\n",
	       planned, TASK_GEN_CALLS, gone, starved, dead, stuck, resumed, start_failures);
	for (int p = 0; p < 2; p++) {
		u64 *e = s->ipc_err[p];
		printf("# fuzz: IPC errors in the %s phase: timeout %llu, nopartner %llu, cancelled %llu, overflow %llu, "
		       "badmsg %llu, mapfail %llu, xfer %llu\n",
		       p ? "receive" : "send", e[1], e[2], e[3], e[4], e[5], e[6], e[7]);
	}
	if (total.bad) {
		printf("# fuzz: first failure: fuzzer %llu generation %llu call %llu: %s\n", total.first_fuzzer,
		       total.first.gen, total.first.n, total.first.why);
		print_regs("#   in ", &total.first.in);
		print_regs("#   out", &total.first.out);
	}
	if (ex_bad)
		printf("# fuzz: first exception message not as documented: vector %llx at %llx\n", ex_bad_vector,
		       ex_bad_rip);
	if (fuzzer_exceptions)
		printf("# fuzz: first exception of a fuzzer: vector %llx at %llx\n", fuzzer_exc_vector, fuzzer_exc_rip);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	main_tid = l4_myself();
	exc_rng.s = mix(base_seed + 77);
	printf("# t_fuzz: %llu calls, seed %llu, %u fuzz tasks with %u fuzzer threads each\n", target_calls, base_seed,
	       n_tasks, per_task);
	print_reproduce();
	/* Kernel memory is counted from here on.  What the kernel allocates
	 * for the fuzz tasks (threads, UTCBs, tasks, page tables, mapping
	 * nodes) goes back when they are deleted: the slab returns a page as
	 * soon as its last node is freed, page tables go with their task.  What
	 * stays is this task's own: its two service threads, and page tables
	 * and mapping nodes for its own memory, which the pager passes on and
	 * so must have had before -- prefault() touches all of it first. */
	superpage = sigma0_get_superpage();
	printf("# t_fuzz: a superpage from sigma0 at %llx (2 MiB mapped: %s)\n", superpage,
	       l4_kdebug(L4_KD_PROBE, superpage, 0) & L4_KD_PROBE_2M ? "yes" : "no");
	prefault();
	l4_schedule(main_tid, SUPERVISOR_PRIO, L4_SCHED_KEEP, NULL, NULL);
	pager_tid = l4_spawn_thread(pager_thread, 0, service_stacks[0], STACK_SIZE);
	exc_tid = l4_spawn_thread(exc_loop, 0, service_stacks[1], STACK_SIZE);
	l4_schedule(pager_tid, SERVICE_PRIO, L4_SCHED_KEEP, NULL, NULL);
	l4_schedule(exc_tid, SERVICE_PRIO, L4_SCHED_KEEP, NULL, NULL);
	sleep_ms(2);
	s64 before = l4_kdebug(L4_KD_FREE_PAGES, 0, 0), lowest = before;

	u64 seen[FUZZERS], since[FUZZERS], t0 = l4_rdtsc(), start = now_ms();
	u64 limit_ms = 60000 + target_calls / 10;
	bool timed_out = false;
	while (calls_so_far() < target_calls) {
		u64 now = now_ms();
		if (now - start > limit_ms) {
			timed_out = true;
			break;
		}
		supervise(now, seen, since);
		sleep_ms(10);
		s64 free = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);
		lowest = free < lowest ? free : lowest;
	}
	u64 t1 = l4_rdtsc();
	for (unsigned s = 0; s < n_tasks; s++)
		if (live[s])
			stop_task(s);
	l4_kdebug(L4_KD_PUTS, (u64)"\n", 1); /* end the dots of the fuzzers' KD_PUTS */
	s64 after = l4_kdebug(L4_KD_FREE_PAGES, 0, 0);

	u64 ms = (t1 - t0) / (l4_kip()->tsc_hz / 1000);
	printf("# fuzz: %llu calls in %llu ms\n", total.calls, ms);
	report();
	if (total.bad || stuck || dead || fuzzer_exceptions || ex_bad)
		print_reproduce();
	CHECK(total.calls >= target_calls && !timed_out,
	      "%llu fuzzed system calls from %u threads in %u tasks, seed %llu (asked for %llu)", total.calls,
	      n_fuzzers(), n_tasks, base_seed, target_calls);
	CHECK(total.bad == 0, "every result documented, and the expected one where the arguments decide it (%llu bad)",
	      total.bad);
	CHECK(total.st.attach_irq > 0 && total.st.attach_bad == 0,
	      "%llu ATTACH_IRQ from unprivileged tasks: all ENOPERM", total.st.attach_irq);
	CHECK(ex_bad == 0, "%llu exception messages from the created threads, %llu not as documented",
	      ex_handled + ex_deleted + ex_parked, ex_bad);
	CHECK(!fuzzer_exceptions && !stuck && !dead,
	      "no fuzzer raised an exception (%llu), was stopped (%llu) or got stuck in IPC (%llu)", fuzzer_exceptions,
	      dead, stuck);
	CHECK(total.st.received_items && total.st.sent_items && total.st.created && pg_served && pg_refused &&
		      ex_handled,
	      "the calls went through: messages with items, threads created, faults served and refused, exceptions");
	CHECK(after == before, "all kernel memory the fuzz tasks used (up to %lld pages) came back: %lld pages free "
	      "before, %lld after", before - lowest, before, after);
	if (bench) {
		u64 hz = l4_kip()->tsc_hz, cycles = t1 - t0 ? t1 - t0 : 1;
		printf("# fuzz_calls_per_s: fuzzed system calls per second of guest time (TSC / KIP tsc_hz; under "
		       "-icount one tick per instruction), %u threads, seed %llu, blocked time included\n",
		       n_fuzzers(), base_seed);
		printf("BENCH fuzz_calls_per_s %llu\n", total.calls * hz / cycles);
	}
	return t_done("t_fuzz");
}
