/* Start-up, exit and console output for L4 programs.  Output goes through
 * the kernel debug call until a console driver exists ([K4]). */
#include <l4/runtime.h>
#include "common/fmt.h"
#include "common/string.h"

l4_tid_t l4_parent;

void l4_puts(const char *s) { l4_kdebug(L4_KD_PUTS, (u64)s, strlen(s)); }

struct line_buf {
	char buf[256];
	usize n;
};

static void flush(struct line_buf *b)
{
	if (b->n)
		l4_kdebug(L4_KD_PUTS, (u64)b->buf, b->n);
	b->n = 0;
}

static void buffered_out(char c, void *ctx)
{
	struct line_buf *b = ctx;
	if (b->n == sizeof(b->buf))
		flush(b);
	b->buf[b->n++] = c;
}

/* One kernel call per printf keeps lines from different threads whole. */
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

_Noreturn void l4_runtime_start(u64 *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	l4_parent = own_pager();
	l4_exit(main(argc, argv));
}
