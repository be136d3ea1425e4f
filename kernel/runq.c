/* Ready queues (see runq.h).  Each level is a circular doubly linked list
 * whose head is the next node to run. */
#include "runq.h"

void runq_init(struct runq *q)
{
	q->summary = 0;
	for (int i = 0; i < RUNQ_LEVELS / 64; i++)
		q->bitmap[i] = 0;
	for (int i = 0; i < RUNQ_LEVELS; i++)
		q->head[i] = NULL;
}

static void mark(struct runq *q, int prio)
{
	q->bitmap[prio / 64] |= 1ull << (prio % 64);
	q->summary |= 1ull << (prio / 64);
}

static void unmark(struct runq *q, int prio)
{
	q->bitmap[prio / 64] &= ~(1ull << (prio % 64));
	if (!q->bitmap[prio / 64])
		q->summary &= ~(1ull << (prio / 64));
}

static void insert_before_head(struct runq *q, struct rq_node *n)
{
	struct rq_node *h = q->head[n->prio];
	if (!h) {
		n->next = n->prev = n;
		q->head[n->prio] = n;
		mark(q, n->prio);
	} else {
		n->next = h;
		n->prev = h->prev;
		h->prev->next = n;
		h->prev = n;
	}
	n->queued = true;
}

void runq_push_tail(struct runq *q, struct rq_node *n)
{
	insert_before_head(q, n);
}

void runq_push_head(struct runq *q, struct rq_node *n)
{
	insert_before_head(q, n);
	q->head[n->prio] = n;
}

void runq_remove(struct runq *q, struct rq_node *n)
{
	if (!n->queued)
		return;
	if (n->next == n) {
		q->head[n->prio] = NULL;
		unmark(q, n->prio);
	} else {
		n->prev->next = n->next;
		n->next->prev = n->prev;
		if (q->head[n->prio] == n)
			q->head[n->prio] = n->next;
	}
	n->next = n->prev = NULL;
	n->queued = false;
}


struct rq_node *runq_pop(struct runq *q)
{
	int prio = runq_highest(q);
	if (prio < 0)
		return NULL;
	struct rq_node *n = q->head[prio];
	runq_remove(q, n);
	return n;
}
