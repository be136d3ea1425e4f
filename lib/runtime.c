/* Start-up, exit and console output for L4 programs.  Output goes to the
 * console driver the root task names (L4_AT_CONSOLE), else through the
 * kernel debug call. */
#include <l4/console.h>
#include "common/fmt.h"
#include "common/string.h"

l4_tid_t l4_parent;
l4_tid_t l4_console;

/* Falls back to the kernel only if the driver never got the request (an
 * error in the send phase), so that nothing is printed twice. */
static void out(const char *s, usize n)
{
	if (l4_console != L4_NILTHREAD) {
		s64 written;
		for (usize done = 0; done < n; done += L4_CON_MAX) {
			usize k = n - done < L4_CON_MAX ? n - done : L4_CON_MAX;
			u64 tag = l4_con_write_once(l4_console, s + done, k, &written);
			if (l4_ipc_failed(tag) && !(tag & L4_TAG_RECV_PHASE))
				l4_kdebug(L4_KD_PUTS, (u64)s + done, k);
		}
		return;
	}
	l4_kdebug(L4_KD_PUTS, (u64)s, n);
}

void l4_puts(const char *s) { out(s, strlen(s)); }

struct line_buf {
	char buf[256];
	usize n;
};

static void flush(struct line_buf *b)
{
	if (b->n)
		out(b->buf, b->n);
	b->n = 0;
}

static void buffered_out(char c, void *ctx)
{
	struct line_buf *b = ctx;
	if (b->n == sizeof(b->buf))
		flush(b);
	b->buf[b->n++] = c;
}

/* One request per printf (up to 256 bytes) keeps lines from different
 * threads whole. */
int vprintf(const char *fmt, va_list ap)
{
	struct line_buf b;
	b.n = 0;
	int n = fmt_vformat(buffered_out, &b, fmt, ap);
	flush(&b);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int snprintf(char *buf, usize size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

_Noreturn void l4_exit(int status)
{
	struct l4_msg m = { { L4_TAG_MAKE(L4_LABEL_EXIT, 1, 0), (u64)(s64)status } };
	for (;;) {
		l4_send(l4_parent, &m);
		/* Nobody deletes us (no parent): stay out of the way. */
		struct l4_msg never;
		l4_receive(l4_myself(), &never);
	}
}

static l4_tid_t own_pager(void)
{
	struct l4_exreg x = { 0, 0, 0, 0, 0, 0 };
	return l4_exchange_registers(l4_myself(), &x) == 0 ? x.pager : L4_NILTHREAD;
}

int main(int argc, char **argv);

/* sp: argc, argv[], NULL, envp[], NULL, then (type, value) pairs up to
 * L4_AT_NULL. */
static void read_auxv(u64 *sp)
{
	u64 *p = sp + 1 + sp[0] + 1;
	while (*p)
		p++;
	for (p++; p[0] != L4_AT_NULL; p += 2)
		if (p[0] == L4_AT_CONSOLE)
			l4_console = p[1];
}

_Noreturn void l4_runtime_start(u64 *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	l4_parent = own_pager();
	read_auxv(sp);
	l4_exit(main(argc, argv));
}
