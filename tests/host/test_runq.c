/* kernel/runq.c: the 256-level ready queues. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../kernel/runq.h"

static struct runq q;

static void node_init(struct rq_node *n, int prio)
{
	memset(n, 0, sizeof(*n));
	n->prio = (u8)prio;
}

/* The nodes of one level from head, following next; checks prev links and
 * the queued flags.  Returns the count, or -1 when the list is inconsistent. */
static int level_nodes(const struct runq *rq, int prio, struct rq_node **out, int max)
{
	struct rq_node *h = rq->head[prio], *n = h;
	int k = 0;
	if (!h)
		return 0;
	do {
		if (k == max || !n->queued || n->prio != prio || n->next->prev != n)
			return -1;
		out[k++] = n;
		n = n->next;
	} while (n != h);
	return k;
}

static void runq_test_empty(void)
{
	struct rq_node n;
	runq_init(&q);
	CHECK_EQ(runq_highest(&q), -1);
	CHECK(runq_pop(&q) == NULL);
	CHECK_EQ(runq_highest(&q), -1);
	node_init(&n, 5);
	runq_push_tail(&q, &n);
	CHECK_PTR(runq_pop(&q), &n);
	CHECK(runq_pop(&q) == NULL);
	CHECK_EQ(runq_highest(&q), -1);
	CHECK(!n.queued);
}

static void runq_test_fifo(void)
{
	struct rq_node n[5];
	runq_init(&q);
	for (int i = 0; i < 5; i++) {
		node_init(&n[i], 10);
		runq_push_tail(&q, &n[i]);
		CHECK(n[i].queued);
	}
	CHECK_EQ(runq_highest(&q), 10);
	for (int i = 0; i < 5; i++)
		CHECK_PTR(runq_pop(&q), &n[i]);
	CHECK(runq_pop(&q) == NULL);
}

static void runq_test_push_head(void)
{
	struct rq_node a, b, c, d;
	struct rq_node *want[] = { &d, &c, &a, &b };
	runq_init(&q);
	node_init(&a, 7), node_init(&b, 7), node_init(&c, 7), node_init(&d, 7);
	runq_push_head(&q, &a); /* head insertion into an empty level */
	runq_push_tail(&q, &b);
	runq_push_head(&q, &c);
	runq_push_head(&q, &d);
	for (int i = 0; i < 4; i++)
		CHECK_PTR(runq_pop(&q), want[i]);
	CHECK_EQ(runq_highest(&q), -1);
}

/* Levels at the edges of the bitmap words; highest follows as they go. */
static void runq_test_levels(void)
{
	static const int prios[] = { 0, 63, 64, 127, 128, 191, 192, 255 };
	const int np = (int)(sizeof(prios) / sizeof(prios[0]));
	struct rq_node n[8];
	runq_init(&q);
	for (int i = 0; i < np; i++) {
		node_init(&n[i], prios[i]);
		runq_push_tail(&q, &n[i]);
		CHECK_EQ(runq_highest(&q), prios[i]);
	}
	for (int i = np - 1; i >= 0; i--) {
		CHECK_EQ(runq_highest(&q), prios[i]);
		CHECK_PTR(runq_pop(&q), &n[i]);
	}
	CHECK_EQ(runq_highest(&q), -1);
	CHECK_EQ(q.summary, 0);
	/* Only a low level of a word whose neighbours are empty. */
	for (int i = 0; i < np; i++) {
		runq_push_tail(&q, &n[i]);
		CHECK_EQ(runq_highest(&q), prios[i]);
		runq_remove(&q, &n[i]);
		CHECK_EQ(runq_highest(&q), -1);
	}
}

static void runq_test_remove(void)
{
	struct rq_node n[4], *got[4];
	runq_init(&q);
	for (int i = 0; i < 4; i++) {
		node_init(&n[i], 100);
		runq_push_tail(&q, &n[i]);
	}
	runq_remove(&q, &n[0]); /* head */
	CHECK(!n[0].queued);
	CHECK_PTR(q.head[100], &n[1]);
	runq_remove(&q, &n[2]); /* middle */
	CHECK_EQ(level_nodes(&q, 100, got, 4), 2);
	CHECK_PTR(got[0], &n[1]);
	CHECK_PTR(got[1], &n[3]);
	runq_remove(&q, &n[3]); /* tail */
	CHECK_EQ(level_nodes(&q, 100, got, 4), 1);
	runq_remove(&q, &n[1]); /* the only node */
	CHECK(q.head[100] == NULL);
	CHECK_EQ(runq_highest(&q), -1);
	CHECK_EQ(q.summary, 0);
	CHECK_EQ(q.bitmap[1], 0);
}

/* Removing a node that is not queued (never, or no longer) changes nothing. */
static void runq_test_remove_unqueued(void)
{
	struct rq_node a, b, stranger;
	runq_init(&q);
	node_init(&a, 3), node_init(&b, 3), node_init(&stranger, 3);
	runq_push_tail(&q, &a);
	runq_push_tail(&q, &b);
	runq_remove(&q, &stranger);
	runq_remove(&q, &a);
	runq_remove(&q, &a); /* twice */
	CHECK_EQ(runq_highest(&q), 3);
	CHECK_PTR(q.head[3], &b);
	CHECK_PTR(runq_pop(&q), &b);
	runq_remove(&q, &b); /* after pop */
	runq_remove(&q, &stranger);
	CHECK_EQ(runq_highest(&q), -1);
	CHECK(runq_pop(&q) == NULL);
}

static void runq_test_other_levels_untouched(void)
{
	struct rq_node a, b;
	runq_init(&q);
	node_init(&a, 64), node_init(&b, 65);
	runq_push_tail(&q, &a);
	runq_push_tail(&q, &b);
	runq_remove(&q, &b);
	CHECK_EQ(runq_highest(&q), 64);
	CHECK_EQ(q.summary, 2);
	CHECK_PTR(runq_pop(&q), &a);
	CHECK_EQ(q.summary, 0);
}

/* ---- randomized test against a reference model ------------------------ */
#define RN 48
static struct rq_node rn[RN];
static int model[RUNQ_LEVELS][RN], mlen[RUNQ_LEVELS];
static bool inq[RN];

static void model_push(int i, bool at_head)
{
	int p = rn[i].prio;
	if (at_head) {
		memmove(&model[p][1], &model[p][0], (size_t)mlen[p] * sizeof(int));
		model[p][0] = i;
	} else {
		model[p][mlen[p]] = i;
	}
	mlen[p]++;
	inq[i] = true;
}

static void model_remove(int i)
{
	int p = rn[i].prio;
	for (int k = 0; inq[i] && k < mlen[p]; k++)
		if (model[p][k] == i) {
			memmove(&model[p][k], &model[p][k + 1], (size_t)(mlen[p] - k - 1) * sizeof(int));
			mlen[p]--;
			break;
		}
	inq[i] = false;
}

static int model_highest(void)
{
	for (int p = RUNQ_LEVELS - 1; p >= 0; p--)
		if (mlen[p])
			return p;
	return -1;
}

/* Does the real queue hold exactly the model's nodes, in order? */
static bool model_matches(void)
{
	struct rq_node *got[RN];
	for (int p = 0; p < RUNQ_LEVELS; p++) {
		if (level_nodes(&q, p, got, RN) != mlen[p])
			return false;
		for (int k = 0; k < mlen[p]; k++)
			if (got[k] != &rn[model[p][k]])
				return false;
	}
	for (int i = 0; i < RN; i++)
		if (rn[i].queued != inq[i])
			return false;
	return runq_highest(&q) == model_highest();
}

static int pick_prio(void)
{
	static const int edge[] = { 0, 1, 62, 63, 64, 65, 127, 128, 129, 191, 192, 254, 255 };
	return rand() % 2 ? edge[rand() % (int)(sizeof(edge) / sizeof(edge[0]))] : rand() % 256;
}

/* One random operation on both; false when they disagree. */
static bool random_step(void)
{
	int i = rand() % RN, op = rand() % 5;
	if (op <= 1 && !inq[i]) {
		rn[i].prio = (u8)pick_prio();
		op ? runq_push_head(&q, &rn[i]) : runq_push_tail(&q, &rn[i]);
		model_push(i, op);
	} else if (op == 2) {
		runq_remove(&q, &rn[i]);
		model_remove(i);
	} else if (op == 3) {
		int p = model_highest();
		struct rq_node *want = p < 0 ? NULL : &rn[model[p][0]];
		if (runq_pop(&q) != want)
			return false;
		if (want)
			model_remove((int)(want - rn));
	} else if (op == 4) {
		return runq_highest(&q) == model_highest();
	}
	return model_matches();
}

static void runq_random_test(void)
{
	int bad_step = -1;
	runq_init(&q);
	memset(mlen, 0, sizeof(mlen));
	for (int i = 0; i < RN; i++) {
		node_init(&rn[i], 0);
		inq[i] = false;
	}
	srand(1);
	for (int step = 0; step < 10000 && bad_step < 0; step++)
		if (!random_step())
			bad_step = step;
	CHECK_MSG(bad_step < 0, "queue and model disagree after step %d", bad_step);
}

void runq_suite(void)
{
	run_test("runq_empty", runq_test_empty);
	run_test("runq_fifo", runq_test_fifo);
	run_test("runq_push_head", runq_test_push_head);
	run_test("runq_bitmap_levels", runq_test_levels);
	run_test("runq_remove", runq_test_remove);
	run_test("runq_remove_unqueued", runq_test_remove_unqueued);
	run_test("runq_other_levels_untouched", runq_test_other_levels_untouched);
	run_test("runq_random_vs_model", runq_random_test);
}
