/*
 * A small pager library.  A pager serves page faults of the tasks that name
 * one of its threads as their pager, from a table of regions:
 *   PAGER_MIRROR  the pager's own page at the same address (shared memory)
 *   PAGER_ANON    a private zero-filled page per task, allocated on first touch
 *   PAGER_COW     the source page mapped read-only until a task writes; then
 *                 a private copy for that task (copy-on-write)
 * A fault outside every region is recorded and either answered with no
 * mapping (refuse) or ends the faulting task.  L4_LABEL_EXIT from a client
 * deletes its task.
 */
#ifndef L4_PAGER_H
#define L4_PAGER_H

#include <l4/runtime.h>

enum pager_kind { PAGER_MIRROR, PAGER_ANON, PAGER_COW };

struct pager_region {
	u64 start, end;
	enum pager_kind kind;
	u64 source;      /* PAGER_COW: where the original pages are in the pager */
	unsigned rights; /* the most a client gets */
};

#define PAGER_MAX_REGIONS 8
#define PAGER_MAX_PRIVATE 512

struct pager_private {
	u64 task, va, page;
};

struct pager {
	struct pager_region region[PAGER_MAX_REGIONS];
	unsigned nregions;
	u8 *pool;              /* page-aligned memory for private pages */
	u64 pool_pages;
	u64 free_list;         /* private pages given back */
	u64 pool_next;
	struct pager_private priv[PAGER_MAX_PRIVATE];
	bool refuse;           /* unknown faults: no mapping (true) or end the task */
	volatile u64 faults, unknown, last_addr, last_ip, last_label;
};

void pager_init(struct pager *p, void *pool, u64 pool_bytes, bool refuse);
bool pager_add_region(struct pager *p, u64 start, u64 end, enum pager_kind kind, u64 source, unsigned rights);
/* The program's own image (code, data, bss), mirrored with all rights. */
bool pager_add_image(struct pager *p);
/* Serve faults forever in the calling thread. */
_Noreturn void pager_serve(struct pager *p);

/* The loop of any pager: a page-fault message (label L4_LABEL_PAGEFAULT |
 * access, MR1 address, MR2 IP, MR3 task) goes to fault, any other message
 * to other (if not NULL); each fills the reply into m and returns whether
 * to send it (then the loop replies and waits in one call). */
typedef bool (*pager_msg_fn)(void *ctx, l4_tid_t from, u64 tag, struct l4_msg *m);
/* Inline, so that the handlers are inlined too: a page fault costs no
 * indirect calls. */
static inline __attribute__((always_inline, noreturn)) void pager_loop(pager_msg_fn fault, pager_msg_fn other,
								       void *ctx)
{
	struct l4_msg m;
	l4_tid_t from = L4_NILTHREAD;
	bool reply = false;
	for (;;) {
		u64 tag = reply ? l4_reply_wait(from, &m, &from) : l4_wait(&m, &from);
		reply = false;
		if (l4_ipc_failed(tag))
			continue;
		if ((L4_TAG_LABEL(tag) & ~0xfull) == L4_LABEL_PAGEFAULT && L4_TAG_U(tag) >= 3)
			reply = fault(ctx, from, tag, &m);
		else if (other)
			reply = other(ctx, from, tag, &m);
	}
}
/* A new thread of this task that serves p. */
l4_tid_t pager_start(struct pager *p, void *stack, usize stack_size);

#endif
