/* The demo `make run` shows: two tasks exchanging IPC.  The client calls
 * the server, which runs in a second address space sharing this program's
 * memory through the mirror pager. */
#include <l4/runtime.h>

#define ROUNDS 5

static u8 server_stack[8192] __attribute__((aligned(16)));

static void server(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t client;
	u64 tag = l4_wait(&m, &client);
	for (int i = 0; i < ROUNDS && !l4_ipc_failed(tag); i++) {
		printf("pingpong: server %llx got ping %llu from %llx\n", l4_myself(), m.mr[1], client);
		m.mr[0] = L4_TAG_MAKE(0, 1, 0);
		m.mr[1] = m.mr[1] * 10;
		tag = i + 1 < ROUNDS ? l4_reply_wait(client, &m, &client)
				     : l4_ipc(client, L4_NILTHREAD, L4_POLL, &m, NULL);
	}
}

int main(void)
{
	l4_tid_t pager = l4_mirror_pager_start();
	l4_tid_t srv = l4_spawn_task(pager, server, 0, server_stack, sizeof(server_stack));
	printf("pingpong: client %llx, server %llx in another task\n", l4_myself(), srv);
	for (u64 i = 1; i <= ROUNDS; i++) {
		struct l4_msg m = { { L4_TAG_MAKE(1, 1, 0), i } };
		u64 tag = l4_call(srv, &m);
		if (l4_ipc_failed(tag)) {
			printf("pingpong: IPC error %llu\n", L4_IPC_ERRCODE(tag));
			return 1;
		}
		printf("pingpong: client got pong %llu\n", m.mr[1]);
	}
	return 0;
}
