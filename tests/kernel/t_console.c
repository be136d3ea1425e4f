/*
 * The console driver (servers/drivers/uart/): an unprivileged task with
 * COM1's ports and IRQ 4 that the root task names to every program.
 *
 * Input: tools/qemu.sh feeds one line into COM1 (INPUT below); we must be
 * its only reader and get exactly it, through several small reads.
 * Output: lines written alternately by two tasks with a handshake, lines
 * written by two tasks at once, a line longer than one request.  Which
 * order and wholeness they have on the serial line only the log shows:
 * tools/summary.sh checks the "con-" lines against "# con-expect".
 * Bad requests fail in the IPC, and the driver goes on.
 */
#include "util.h"
#include <l4/console.h>
#include "../../lib/common/string.h"

#define INPUT "uart-input-test-0123456789\n" /* what tools/qemu.sh feeds */
#define ORDER_LINES 16
#define MIX_LINES 10 /* per task */
#define MIX_LEN 300
#define LONG_LEN 10000

static test_stack_t stacks[3];
static u8 big[LONG_LEN + 64];

/* ---- input ------------------------------------------------------------------ */

static char got[128];
static usize got_len;
static int nreads;

static bool has_newline(const char *p, usize n)
{
	for (usize i = 0; i < n; i++)
		if (p[i] == '\n')
			return true;
	return false;
}

/* Reads until the newline, a few bytes at a time, then tells main. */
static void reader(u64 main_tid)
{
	static const usize sizes[] = { 1, 2, 3, 5, 7, 64 };
	for (int i = 0; got_len < sizeof(got) - 1; i++) {
		usize max = sizes[i % ARRAY_SIZE(sizes)];
		if (max > sizeof(got) - 1 - got_len)
			max = sizeof(got) - 1 - got_len;
		s64 n = l4_con_read(l4_console, got + got_len, max);
		if (n <= 0 || (usize)n > max)
			break;
		nreads++;
		got_len += (usize)n;
		if (has_newline(got + got_len - n, (usize)n))
			break;
	}
	struct l4_msg m = { { 0 } };
	l4_send(main_tid, &m);
}

static void test_input(void)
{
	l4_tid_t r = l4_spawn_thread(reader, l4_myself(), stacks[0], sizeof(stacks[0]));
	struct l4_msg m;
	u64 tag = l4_ipc(L4_NILTHREAD, r, L4_TIMEOUTS(0, 60000000), &m, NULL);
	if (!t_check(!l4_ipc_failed(tag), "the reader finished (a line came within 60 s)"))
		l4_delete_thread(r);
	got[got_len] = 0;
	t_check(got_len == strlen(INPUT) && !memcmp(got, INPUT, got_len),
		"read exactly the line the harness fed (%llu bytes)", (u64)got_len);
	t_check(nreads >= 6, "in %d reads of at most 1, 2, 3, 5, 7 and 64 bytes", nreads);
	t_check(l4_con_read(l4_console, got, 0) == 0, "a read of 0 bytes returns 0 at once");
}

/* ---- output ------------------------------------------------------------------ */

/* The other side of the handshake: prints line k when asked, then answers. */
static void order_partner(u64 arg)
{
	(void)arg;
	struct l4_msg m;
	l4_tid_t from;
	for (;;) {
		if (l4_ipc_failed(l4_wait(&m, &from)))
			continue;
		printf("con-order %02llu/%02d from B end\n", m.mr[1], ORDER_LINES);
		m.mr[0] = L4_TAG_MAKE(0, 0, 0);
		l4_ipc(from, L4_NILTHREAD, L4_POLL, &m, NULL);
	}
}

static void test_order(l4_tid_t pager)
{
	l4_tid_t b = l4_spawn_task(pager, order_partner, 0, stacks[1], sizeof(stacks[1]));
	bool ok = b != L4_NILTHREAD;
	for (u64 k = 0; ok && k < ORDER_LINES; k++) {
		if (k % 2 == 0) {
			printf("con-order %02llu/%02d from A end\n", k, ORDER_LINES);
			continue;
		}
		struct l4_msg m = { { L4_TAG_MAKE(1, 1, 0), k } };
		ok = !l4_ipc_failed(l4_call(b, &m));
	}
	t_check(ok, "two tasks wrote %d lines in turn (order: see summary)", ORDER_LINES);
	if (b)
		l4_delete_task(b);
}

static volatile bool mix_done;

/* MIX_LINES lines of MIX_LEN letters, each in one request. */
static bool write_mix(char who)
{
	static char lines[2][MIX_LEN + 32];
	char *s = lines[who - 'A'];
	bool ok = true;
	for (int k = 0; k < MIX_LINES; k++) {
		int n = snprintf(s, 32, "con-mix %c %02d ", who, k);
		memset(s + n, who - 'A' + 'a', MIX_LEN);
		memcpy(s + n + MIX_LEN, " end\n", 5);
		usize len = (usize)n + MIX_LEN + 5;
		ok &= l4_con_write(l4_console, s, len) == (s64)len;
		l4_yield();
	}
	return ok;
}

static void mix_partner(u64 arg)
{
	(void)arg;
	mix_done = write_mix('B');
	for (;;)
		l4_yield(); /* until deleted */
}

static void test_mix(l4_tid_t pager)
{
	l4_tid_t b = l4_spawn_task(pager, mix_partner, 0, stacks[2], sizeof(stacks[2]));
	bool ok = b != L4_NILTHREAD && write_mix('A');
	for (int i = 0; i < 1000 && !mix_done; i++)
		l4_yield();
	t_check(ok && mix_done, "two tasks wrote %d lines of %d bytes at once, each in one request", 2 * MIX_LINES,
		MIX_LEN);
	if (b)
		l4_delete_task(b);
}

static void test_long(void)
{
	memcpy(big, "con-long ", 9);
	memset(big + 9, 'L', LONG_LEN);
	memcpy(big + 9 + LONG_LEN, " end\n", 5);
	usize len = 9 + LONG_LEN + 5;
	s64 n = l4_con_write(l4_console, big, len);
	t_check(n == (s64)len, "a %llu-byte line in requests of %d: all written (%lld)", (u64)len, L4_CON_MAX, n);
}

/* ---- bad requests --------------------------------------------------------------- */

static void test_bad_requests(void)
{
	s64 w = 0;
	u64 tag = l4_con_write_once(l4_console, (void *)0xffff800000000000ull, 16, &w);
	t_check(ipc_error(tag, L4_IPC_BADMSG, false), "a WRITE from a kernel address fails: BADMSG");
	tag = l4_con_write_once(l4_console, big, L4_CON_MAX + 1, &w);
	t_check(ipc_error(tag, L4_IPC_OVERFLOW, false), "a WRITE of %d bytes: OVERFLOW", L4_CON_MAX + 1);
	t_check(l4_con_write(l4_console, (void *)L4_UTCB_AREA, 8) == L4_CON_EIPC(L4_IPC_BADMSG),
		"l4_con_write from the UTCB area: the IPC error");
	struct l4_msg m = { { L4_TAG_MAKE(L4_LABEL_CON_WRITE, 1, 0), 5 } };
	tag = l4_call(l4_console, &m);
	t_check(!l4_ipc_failed(tag) && L4_TAG_U(tag) == 1 && (s64)m.mr[1] == -L4_EINVAL,
		"a WRITE without a string: -EINVAL");
	m = (struct l4_msg){ { L4_TAG_MAKE(0x1234, 0, 0) } };
	tag = l4_call(l4_console, &m);
	t_check(!l4_ipc_failed(tag) && (s64)m.mr[1] == -L4_EINVAL, "an unknown request: -EINVAL");
	static const char msg[] = "# the console still writes\n";
	t_check(l4_con_write(l4_console, msg, sizeof(msg) - 1) == sizeof(msg) - 1, "and then the driver still writes");
}

/* Nobody but the driver gets COM1's ports or interrupt. */
static void test_no_authority(void)
{
	t_check(sigma0_get_io(0x2f8, 3) == 0, "sigma0 gives an unprivileged task no ports (COM2)");
	struct l4_utcb *u = l4_utcb();
	u->rcv_window = L4_IO_FPAGE(0x3f8, 3);
	struct l4_msg m = { { L4_TAG_MAKE(L4_LABEL_GET_IO, 1, 0), L4_IO_FPAGE(0x3f8, 3) } };
	u64 tag = l4_call(l4_parent, &m);
	u->rcv_window = 0;
	t_check(!l4_ipc_failed(tag) && L4_TAG_LABEL(tag) == 1 && L4_TAG_T(tag) == 0,
		"the root task gives COM1's ports to its console driver only");
	t_check(l4_attach_irq(L4_IRQ_TID(4), l4_myself()) == -L4_ENOPERM, "we cannot take IRQ 4 from the driver");
}

int main(void)
{
	if (!t_check(l4_console != L4_NILTHREAD, "the root task named a console driver (%llx)", l4_console))
		return t_done("t_console");
	test_input();
	l4_tid_t pager = l4_mirror_pager_start();
	test_order(pager);
	test_mix(pager);
	test_long();
	test_bad_requests();
	test_no_authority();
	printf("# con-expect order %d mix %d %d long %d\n", ORDER_LINES, 2 * MIX_LINES, MIX_LEN, LONG_LEN);
	return t_done("t_console");
}
