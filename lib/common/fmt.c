/* A small printf engine shared by the kernel and the user runtime. */
#include "fmt.h"

struct sink {
	fmt_out_fn out;
	void *ctx;
	int count;
};

static void put(struct sink *s, char c)
{
	s->out(c, s->ctx);
	s->count++;
}

static void put_padded(struct sink *s, const char *str, int len, int width, bool left, char pad)
{
	if (!left)
		for (int i = len; i < width; i++)
			put(s, pad);
	for (int i = 0; i < len; i++)
		put(s, str[i]);
	if (left)
		for (int i = len; i < width; i++)
			put(s, ' ');
}

/* Digits of v in the given base, written backwards into buf; returns length. */
static int utoa_rev(unsigned long long v, unsigned base, bool upper, char *buf)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;
	do {
		buf[n++] = digits[v % base];
		v /= base;
	} while (v);
	return n;
}

static void put_number(struct sink *s, unsigned long long v, bool neg, unsigned base, bool upper,
		       int width, bool left, char pad)
{
	char rev[24], buf[24];
	int n = utoa_rev(v, base, upper, rev), len = 0;
	if (neg && pad == '0') {
		put(s, '-');
		width--;
	} else if (neg) {
		buf[len++] = '-';
	}
	while (n)
		buf[len++] = rev[--n];
	put_padded(s, buf, len, width, left, pad);
}

int fmt_vformat(fmt_out_fn out, void *ctx, const char *fmt, va_list ap)
{
	struct sink s = { out, ctx, 0 };
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&s, *fmt);
			continue;
		}
		fmt++;
		bool left = false;
		char pad = ' ';
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		int width = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		int lng = 0;
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		unsigned long long u;
		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
			put_number(&s, v < 0 ? -(unsigned long long)v : (unsigned long long)v, v < 0, 10,
				   false, width, left, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
			put_number(&s, u, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, left, pad);
			break;
		case 'p':
			put(&s, '0');
			put(&s, 'x');
			put_number(&s, (uptr)va_arg(ap, void *), false, 16, false, 0, false, ' ');
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int len = 0;
			while (str[len])
				len++;
			put_padded(&s, str, len, width, left, ' ');
			break;
		}
		case 'c':
			put(&s, (char)va_arg(ap, int));
			break;
		case '%':
			put(&s, '%');
			break;
		case 0:
			return s.count;
		default:
			put(&s, '%');
			put(&s, *fmt);
		}
	}
	return s.count;
}

struct buf_ctx {
	char *buf;
	usize size, pos;
};

static void buf_out(char c, void *ctx)
{
	struct buf_ctx *b = ctx;
	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int fmt_vsnprintf(char *buf, usize size, const char *fmt, va_list ap)
{
	struct buf_ctx b = { buf, size, 0 };
	int n = fmt_vformat(buf_out, &b, fmt, ap);
	if (size)
		buf[b.pos < size ? b.pos : size - 1] = 0;
	return n;
}
