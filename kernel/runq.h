/* Ready queues: one FIFO per priority level and a bitmap of the non-empty
 * levels, so that finding the highest ready priority is two bit scans. */
#ifndef RUNQ_H
#define RUNQ_H

#include <l4/types.h>

#define RUNQ_LEVELS 256

struct rq_node {
	struct rq_node *next, *prev;
	u8 prio;
	bool queued;
};

struct runq {
	u64 summary;          /* bit i: word i of bitmap is non-zero */
	u64 bitmap[RUNQ_LEVELS / 64];
	struct rq_node *head[RUNQ_LEVELS];
};

void runq_init(struct runq *q);
void runq_push_tail(struct runq *q, struct rq_node *n);
void runq_push_head(struct runq *q, struct rq_node *n);
void runq_remove(struct runq *q, struct rq_node *n);
/* Highest priority with a ready node, or -1 when empty. */
static inline int runq_highest(const struct runq *q)
{
	if (!q->summary)
		return -1;
	int word = 63 - __builtin_clzll(q->summary);
	return word * 64 + 63 - __builtin_clzll(q->bitmap[word]);
}
/* Remove and return the first node of the highest non-empty level. */
struct rq_node *runq_pop(struct runq *q);

#endif
