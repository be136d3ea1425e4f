/*
 * The console as a terminal: input from the console driver through a
 * thread of the server's own (the console reader), a line discipline as
 * Linux's n_tty does the common part of it, output to the driver.
 *
 * The reader waits in the driver's READ and hands what arrives to the main
 * thread in a call (the bytes stay in reader_buf, which the main thread
 * takes while the reader waits for the answer).  The main thread runs them
 * through the line discipline into the input queue, from which processes
 * read; so a console read is a call that waits, like a pipe read, and the
 * server serves the others meanwhile.  While the queue is full the reader
 * is not answered: it stops reading, and input waits in the driver.
 *
 * The line discipline follows the termios flags: ICRNL, INLCR, IGNCR;
 * ISIG (VINTR sends SIGINT, VQUIT SIGQUIT to the foreground process group;
 * VSUSP is dropped: nothing can be stopped); ICANON (lines: VERASE and
 * backspace, VKILL, VWERASE, VEOF; a read returns at most one line, and
 * VEOF on an empty line is an end of file); ECHO, ECHOE, ECHOK, ECHONL,
 * ECHOCTL.  It starts "cooked", as a Linux console does; busybox sh turns
 * it raw while it edits its own lines.  Output: the driver writes "\n" as
 * "\r\n" whatever OPOST says.
 */
#include "linux.h"

/* termios (the kernel's struct: 4 flag words, c_line, c_cc[19]) */
#define IGNCR 0000200
#define ICRNL 0000400
#define INLCR 0000100
#define ISIG 0000001
#define ICANON 0000002
#define ECHO 0000010
#define ECHOE 0000020
#define ECHOK 0000040
#define ECHONL 0000100
#define ECHOCTL 0001000
#define VINTR 0
#define VQUIT 1
#define VERASE 2
#define VKILL 3
#define VEOF 4
#define VSUSP 10
#define VWERASE 14
#define SIGINT 2
#define SIGQUIT 3

struct termios_k {
	u32 iflag, oflag, cflag, lflag;
	u8 line, cc[19];
} __attribute__((packed));

static struct termios_k tio = {
	.iflag = ICRNL | 02000 /* IXON */,
	.oflag = 05 /* OPOST | ONLCR */,
	.cflag = 02277 /* B38400 | CS8 | CREAD | HUPCL */,
	.lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | 04000 /* ECHOKE */ | 0100000 /* IEXTEN */,
	.cc = { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0 },
};
static int fg_pgrp = 1; /* the foreground process group (TIOCSPGRP) */

/* The input queue: bytes [rd, wr) of a ring (counted from the start);
 * in canonical mode only whole lines enter it, and an end of file (VEOF
 * on an empty line) is a mark at its position. */
#define QUEUE 4096
#define MAX_EOFS 16
static u8 queue[QUEUE];
static u64 rd, wr;
static u64 eofs[MAX_EOFS];
static unsigned neofs;
/* the line being edited (canonical mode) */
static u8 line[QUEUE];
static u32 line_len;

static l4_tid_t reader_tid;
static u8 reader_buf[256];
static u32 reader_off, reader_left; /* bytes of reader_buf not yet taken */
static u8 reader_stack[8192] __attribute__((aligned(16)));

s64 tty_write(const void *buf, u64 len)
{
	if (l4_console) {
		s64 r = l4_con_write(l4_console, buf, len);
		return r < 0 ? -EIO : r;
	}
	l4_kdebug(L4_KD_PUTS, (u64)buf, len);
	return (s64)len;
}

static void echo(const char *s, u64 n)
{
	if (tio.lflag & ECHO)
		tty_write(s, n);
}

/* A control character as ECHOCTL shows it: ^C. */
static void echo_char(u8 c)
{
	if (c < 32 && c != '\n' && c != '\t' && (tio.lflag & ECHOCTL)) {
		char s[2] = { '^', (char)(c + 64) };
		echo(s, 2);
	} else {
		echo((const char *)&c, 1);
	}
}

static u64 room(void) { return QUEUE - (wr - rd); }

static void queue_put(const u8 *s, u32 n)
{
	for (u32 i = 0; i < n; i++)
		queue[wr++ % QUEUE] = s[i];
}

static void erase_one(void)
{
	if (!line_len)
		return;
	line_len--;
	if (tio.lflag & ECHOE)
		echo("\b \b", 3);
}

/* One byte of canonical input; false if it cannot be taken now (full). */
static bool canonical(u8 c)
{
	if (c == tio.cc[VERASE] || c == '\b') {
		erase_one();
		return true;
	}
	if (c == tio.cc[VWERASE]) {
		while (line_len && line[line_len - 1] == ' ')
			erase_one();
		while (line_len && line[line_len - 1] != ' ')
			erase_one();
		return true;
	}
	if (c == tio.cc[VKILL]) {
		while (line_len)
			erase_one();
		if (tio.lflag & ECHOK)
			echo("\n", 1);
		return true;
	}
	bool eof = c == tio.cc[VEOF], end = eof || c == '\n';
	if (end && (room() < line_len + !eof || (eof && !line_len && neofs == MAX_EOFS)))
		return false;
	if (!end) {
		if (line_len < sizeof(line) - 1)
			line[line_len++] = c;
		echo_char(c);
		return true;
	}
	if (!eof) {
		line[line_len++] = '\n';
		if (tio.lflag & (ECHO | ECHONL))
			tty_write("\n", 1);
	} else if (!line_len) {
		eofs[neofs++] = wr;
	}
	queue_put(line, line_len);
	line_len = 0;
	return true;
}

/* One byte of input through the line discipline; false if it cannot be
 * taken now (the queue is full). */
static bool input(u8 c)
{
	if (c == '\r' && (tio.iflag & IGNCR))
		return true;
	if (c == '\r' && (tio.iflag & ICRNL))
		c = '\n';
	else if (c == '\n' && (tio.iflag & INLCR))
		c = '\r';
	if ((tio.lflag & ISIG) && (c == tio.cc[VINTR] || c == tio.cc[VQUIT] || c == tio.cc[VSUSP])) {
		echo_char(c);
		line_len = 0;
		if (c != tio.cc[VSUSP])
			signal_group(fg_pgrp, c == tio.cc[VINTR] ? SIGINT : SIGQUIT);
		echo("\n", 1);
		return true;
	}
	if (tio.lflag & ICANON)
		return canonical(c);
	if (!room())
		return false;
	queue_put(&c, 1);
	echo_char(c);
	return true;
}

static void console_reader(u64 main_thread)
{
	for (;;) {
		s64 n = l4_con_read(l4_console, reader_buf, sizeof(reader_buf));
		if (n < 0)
			return; /* no driver any more: the thread stops */
		struct l4_msg m = { { L4_TAG_MAKE(LX_LABEL_CONSOLE_INPUT, 1, 0), (u64)n } };
		l4_call(main_thread, &m);
	}
}

void console_start(void)
{
	if (l4_console)
		reader_tid = l4_spawn_thread(console_reader, l4_myself(), reader_stack, sizeof(reader_stack));
}

/* What the reader holds goes through the line discipline as far as the
 * queue takes it; true when all of it is taken (the reader may then be
 * answered). */
static bool console_fill(void)
{
	while (reader_left && input(reader_buf[reader_off])) {
		reader_off++;
		reader_left--;
	}
	return !reader_left;
}

bool console_input(l4_tid_t from, u64 tag, struct l4_msg *m)
{
	if (from != reader_tid || l4_ipc_failed(tag) || L4_TAG_LABEL(tag) != LX_LABEL_CONSOLE_INPUT)
		return false;
	reader_off = 0;
	reader_left = m->mr[1] < sizeof(reader_buf) ? (u32)m->mr[1] : sizeof(reader_buf);
	lx_wake = true; /* readers may go on */
	m->mr[0] = L4_TAG_MAKE(0, 0, 0);
	return console_fill();
}

void console_refill(void)
{
	if (!reader_left || !console_fill())
		return;
	struct l4_msg m = { { L4_TAG_MAKE(0, 0, 0) } };
	l4_ipc(reader_tid, L4_NILTHREAD, L4_POLL, &m, NULL); /* it waits for this */
}

bool tty_readable(void) { return wr != rd || neofs || !reader_tid; }

u64 tty_pending(void) { return wr - rd; }

/* A read: what the queue has (in canonical mode at most one line); 0 at an
 * end-of-file mark or without a console driver; LX_BLOCK (-EAGAIN with
 * nonblock) when there is nothing. */
s64 tty_read(bool nonblock, void *buf, u64 len)
{
	if (!len)
		return 0;
	if (neofs && eofs[0] == rd) { /* an end of file, taken by this read */
		neofs--;
		for (unsigned i = 0; i < neofs; i++)
			eofs[i] = eofs[i + 1];
		return 0;
	}
	if (rd == wr)
		return !reader_tid ? 0 : nonblock ? -EAGAIN : LX_BLOCK;
	u64 n = 0, stop = neofs ? eofs[0] : wr;
	while (n < len && rd < stop) {
		u8 c = queue[rd++ % QUEUE];
		((u8 *)buf)[n++] = c;
		if (c == '\n' && (tio.lflag & ICANON))
			break;
	}
	if (reader_left)
		lx_wake = true; /* console_refill, when the server next wakes its waiting calls */
	return (s64)n;
}

#define TCGETS 0x5401
#define TCSETS 0x5402
#define TCSETSW 0x5403
#define TCSETSF 0x5404
#define TIOCSCTTY 0x540e
#define TIOCGPGRP 0x540f
#define TIOCSPGRP 0x5410
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414
#define TIOCGSID 0x5429

s64 tty_ioctl(struct proc *p, u32 req, u64 arg)
{
	int v;
	switch (req) {
	case TCGETS: return copy_out(p, arg, &tio, sizeof(tio)) ? 0 : -EFAULT;
	case TCSETS: case TCSETSW: case TCSETSF: {
		struct termios_k t;
		if (!copy_in(p, &t, arg, sizeof(t)))
			return -EFAULT;
		if ((tio.lflag & ICANON) && !(t.lflag & ICANON) && line_len) {
			queue_put(line, line_len < room() ? line_len : (u32)room()); /* the line so far becomes input */
			line_len = 0;
		}
		if (req == TCSETSF)
			rd = wr, neofs = 0, line_len = 0; /* input flushed */
		tio = t;
		lx_wake = true;
		return 0;
	}
	case TIOCGWINSZ: {
		u16 ws[4] = { 24, 80, 0, 0 };
		return copy_out(p, arg, ws, sizeof(ws)) ? 0 : -EFAULT;
	}
	case TIOCSWINSZ: return 0;
	case TIOCGPGRP: return copy_out(p, arg, &fg_pgrp, 4) ? 0 : -EFAULT;
	case TIOCGSID: v = 1; return copy_out(p, arg, &v, 4) ? 0 : -EFAULT; /* the session of process 1 */
	case TIOCSPGRP:
		if (!copy_in(p, &v, arg, 4))
			return -EFAULT;
		if (v < 0)
			return -EINVAL;
		fg_pgrp = v;
		return 0;
	case TIOCSCTTY: return 0;
	}
	return -ENOTTY;
}
