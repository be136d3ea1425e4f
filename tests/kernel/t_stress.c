/*
 * IPC stress: 8 threads in 4 tasks -- in each task a server and a client --
 * make random calls to random servers (their own task's or another's) with
 * payloads of random kinds: register words, untyped words through the
 * UTCB, strings and mapped pages.  Every payload carries a checksum that the
 * server verifies and answers with a reply the client verifies; nothing may
 * be lost or corrupted.  Usage: t_stress [calls] (default 1,000,000).
 */
#include "util.h"
#include "../../lib/common/string.h"

#define TASKS 4
#define STRING_MAX 8192
#define MAP_WIN 0x1000000000ull /* server i's window: MAP_WIN + i * 4096 */

enum kind { K_REGS, K_UNTYPED, K_STRING, K_MAP, K_KINDS };

static test_stack_t stacks[2 * TASKS];
static u8 client_str[TASKS][STRING_MAX] __attribute__((aligned(4096)));
static u8 server_buf[TASKS][STRING_MAX] __attribute__((aligned(4096)));
static u8 client_page[TASKS][4096] __attribute__((aligned(4096)));
static l4_tid_t servers[TASKS];
static volatile u64 calls_done[TASKS], bad[TASKS], first_bad_seed[TASKS];
static u64 calls_per_client;
static l4_tid_t main_tid;

static u64 mix(u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static u64 sum_bytes(const u8 *p, u64 n)
{
	u64 s = n;
	for (u64 i = 0; i < n; i++)
		s = s * 131 + p[i];
	return s;
}

/* ---- server --------------------------------------------------------------- */

/* Checks one request; returns the value the reply carries (0 if corrupt). */
static u64 check_request(u64 tag, struct l4_msg *m, int me)
{
	u64 label = L4_TAG_LABEL(tag), seed = m->mr[1];
	unsigned u = L4_TAG_U(tag);
	switch (label) {
	case K_REGS:
	case K_UNTYPED: {
		u64 s = 0;
		for (unsigned i = 2; i <= u; i++)
			s += i < L4_MR_REGS ? m->mr[i] : l4_utcb()->mr[i];
		for (unsigned i = 2; i <= u; i++)
			if ((i < L4_MR_REGS ? m->mr[i] : l4_utcb()->mr[i]) != mix(seed + i))
				return 0;
		return mix(s) | 1;
	}
	case K_STRING: {
		u64 len = L4_STRING_LEN(m->mr[3]);
		if (m->mr[4] != (u64)server_buf[me])
			return 0;
		return sum_bytes(server_buf[me], len) == m->mr[2] ? mix(m->mr[2]) | 1 : 0;
	}
	case K_MAP: {
		const u64 *w = (const u64 *)(MAP_WIN + (u64)me * 4096);
		for (int i = 0; i < 512; i += 37)
			if (w[i] != mix(seed + (u64)i))
				return 0;
		return mix(seed) | 1;
	}
	}
	return 0;
}

static void server(u64 me)
{
	struct l4_utcb *u = l4_utcb();
	u->buf_count = 1;
	u->buf[0].addr = (u64)server_buf[me];
	u->buf[0].len = STRING_MAX;
	u->rcv_window = L4_FPAGE(MAP_WIN + me * 4096, 12, 0);
	struct l4_msg m;
	l4_tid_t client;
	u64 tag = l4_wait(&m, &client);
	for (;;) {
		if (l4_ipc_failed(tag)) {
			tag = l4_wait(&m, &client);
			continue;
		}
		u64 answer = check_request(tag, &m, (int)me);
		m.mr[0] = L4_TAG_MAKE(1, 1, 0);
		m.mr[1] = answer;
		tag = l4_reply_wait(client, &m, &client);
	}
}

/* ---- client --------------------------------------------------------------- */

/* Builds a random request in m; returns the answer a correct server gives. */
static u64 make_request(int me, u64 seed, struct l4_msg *m, int target)
{
	enum kind k = (enum kind)(seed % K_KINDS);
	m->mr[1] = seed;
	switch (k) {
	case K_REGS:
	case K_UNTYPED: {
		unsigned u = k == K_REGS ? 1 + (unsigned)(seed >> 8) % 7 : 8 + (unsigned)(seed >> 8) % 56;
		u64 s = 0;
		for (unsigned i = 2; i <= u; i++) {
			u64 w = mix(seed + i);
			if (i < L4_MR_REGS)
				m->mr[i] = w;
			else
				l4_utcb()->mr[i] = w;
			s += w;
		}
		m->mr[0] = L4_TAG_MAKE(k, u, 0);
		return mix(s) | 1;
	}
	case K_STRING: {
		u64 len = 1 + (seed >> 8) % STRING_MAX, off = (seed >> 24) % 64;
		if (len + off > STRING_MAX)
			len = STRING_MAX - off;
		u8 *p = client_str[me] + off;
		for (u64 i = 0; i < len; i += 61)
			p[i] = (u8)mix(seed + i);
		u64 s = sum_bytes(p, len);
		m->mr[0] = L4_TAG_MAKE(k, 2, 2); /* seed, checksum, then the item */
		m->mr[2] = s;
		m->mr[3] = L4_STRING_ITEM(len);
		m->mr[4] = (u64)p;
		return mix(s) | 1; /* never 0: 0 is the server's "corrupt" */
	}
	case K_MAP: {
		u64 *w = (u64 *)client_page[me];
		for (int i = 0; i < 512; i += 37)
			w[i] = mix(seed + (u64)i);
		m->mr[0] = L4_TAG_MAKE(k, 1, 2);
		m->mr[2] = (MAP_WIN + (u64)target * 4096) | L4_ITEM_MAP;
		m->mr[3] = L4_FPAGE((u64)client_page[me], 12, L4_R);
		return mix(seed) | 1;
	}
	default:
		return 0;
	}
}

static void client(u64 me)
{
	u64 rng = mix(me + 12345);
	for (u64 n = 0; n < calls_per_client; n++) {
		rng = mix(rng + n);
		int target = (int)(rng >> 40) % TASKS;
		struct l4_msg m;
		u64 expect = make_request((int)me, rng, &m, target);
		u64 tag = l4_call(servers[target], &m);
		if (L4_TAG_LABEL(m.mr[0]) == 1 && !l4_ipc_failed(tag) && m.mr[1] == expect && expect) {
			calls_done[me]++;
		} else if (!bad[me]++) {
			first_bad_seed[me] = rng;
			printf("# client %llu: kind %llu target %d tag %llx got %llx expected %llx\n", me, rng % K_KINDS,
			       target, tag, m.mr[1], expect);
		}
		if (rng % K_KINDS == K_MAP)
			l4_unmap(L4_FPAGE((u64)client_page[me], 12, L4_RWX), 0);
	}
	struct l4_msg done = { { L4_TAG_MAKE(2, 0, 0) } };
	l4_send(main_tid, &done);
	struct l4_msg never;
	l4_receive(l4_myself(), &never);
}

static u64 parse(const char *s)
{
	u64 v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (u64)(*s++ - '0');
	return v;
}

int main(int argc, char **argv)
{
	main_tid = l4_myself();
	u64 total = argc > 1 ? parse(argv[1]) : 1000000;
	calls_per_client = total / TASKS;
	memset(client_str, 0, sizeof(client_str));
	memset(server_buf, 0, sizeof(server_buf));
	memset(client_page, 0, sizeof(client_page));
	l4_tid_t pager = l4_mirror_pager_start();
	l4_tid_t task[TASKS], clients[TASKS];
	task[0] = main_tid;
	servers[0] = l4_spawn_thread(server, 0, stacks[0], STACK_SIZE);
	for (int i = 1; i < TASKS; i++) {
		memset(stacks[2 * i], 0, STACK_SIZE);
		servers[i] = l4_spawn_task(pager, server, (u64)i, stacks[2 * i], STACK_SIZE);
		task[i] = servers[i];
	}
	u64 t0 = l4_rdtsc();
	clients[0] = l4_spawn_thread(client, 0, stacks[1], STACK_SIZE);
	for (int i = 1; i < TASKS; i++) {
		memset(stacks[2 * i + 1], 0, STACK_SIZE);
		l4_thread_control(L4_NILTHREAD, task[i], pager, L4_TC_CREATE, &clients[i], NULL);
		l4_start_fn(clients[i], client, (u64)i, stacks[2 * i + 1], STACK_SIZE);
	}
	for (int i = 0; i < TASKS; i++) {
		struct l4_msg m;
		l4_receive(clients[i], &m);
	}
	u64 ok = 0, failed = 0;
	for (int i = 0; i < TASKS; i++) {
		ok += calls_done[i];
		failed += bad[i];
		if (bad[i])
			printf("# client %d: %llu bad, first with seed %llx\n", i, bad[i], first_bad_seed[i]);
	}
	printf("# %llu calls in %llu ms\n", ok + failed, (l4_rdtsc() - t0) * 1000 / l4_kip()->tsc_hz);
	CHECK(ok == calls_per_client * TASKS && failed == 0,
	      "%llu random calls between 8 threads in 4 tasks: %llu verified, %llu lost or corrupt", total, ok,
	      failed);
	for (int i = 1; i < TASKS; i++)
		l4_delete_task(task[i]);
	return t_done("t_stress");
}
