/* lib/common/fmt.c: fmt_vsnprintf, compared with the host's snprintf where
 * the two agree, and with fixed expectations where they do not. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "check.h"
#include "../../lib/common/fmt.h"

static char got[256], want[256];

static int fmt_buf(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = fmt_vsnprintf(buf, size, f, ap);
	va_end(ap);
	return n;
}

/* Formats into got (fmt) and want (host); true when text and length agree. */
static bool same_as_host(size_t size, const char *f, ...) __attribute__((format(printf, 2, 3)));
static bool same_as_host(size_t size, const char *f, ...)
{
	va_list ap, ap2;
	va_start(ap, f);
	va_copy(ap2, ap);
	memset(got, 'G', sizeof(got) - 1);
	memset(want, 'G', sizeof(want) - 1);
	got[sizeof(got) - 1] = want[sizeof(want) - 1] = 0; /* printable even if unterminated */
	int n = fmt_vsnprintf(got, size, f, ap);
	int m = vsnprintf(want, size, f, ap2);
	va_end(ap2);
	va_end(ap);
	return n == m && memcmp(got, want, sizeof(got)) == 0;
}

#define CHECK_HOST(...) CHECK_HOST_N(sizeof(got), __VA_ARGS__)
#define CHECK_HOST_N(size, ...)                                                                  \
	do {                                                                                     \
		bool ok_ = same_as_host(size, __VA_ARGS__);                                      \
		check_at(ok_, __FILE__, __LINE__, "size %d, %s: got \"%s\", host gives \"%s\"",   \
			 (int)(size), #__VA_ARGS__, check_esc(got), check_esc(want));            \
	} while (0)

/* For formats the host does not share (or that -Wformat rejects). */
#define CHECK_FMT(expect, ...)                                                                   \
	do {                                                                                     \
		int n_ = fmt_buf(got, sizeof(got), __VA_ARGS__);                                  \
		CHECK_STR(got, expect);                                                          \
		CHECK_EQ(n_, strlen(expect));                                                    \
	} while (0)

static void fmt_test_integers(void)
{
	CHECK_HOST("%d %d %d %d %d", 0, 42, -42, INT_MAX, INT_MIN);
	CHECK_HOST("%i %i", 7, -7);
	CHECK_HOST("%u %u %u", 0u, 42u, UINT_MAX);
	CHECK_HOST("%x %X %x %X", 0xdeadbeefu, 0xdeadbeefu, 0u, UINT_MAX);
	CHECK_HOST("%x", -1); /* an int read as unsigned */
	CHECK_HOST("%ld %ld %ld", 0l, LONG_MIN, LONG_MAX);
	CHECK_HOST("%lld %lld %lld", 0ll, LLONG_MIN, LLONG_MAX);
	CHECK_HOST("%lli %llu %llx %llX", -1ll, ULLONG_MAX, ULLONG_MAX, 0xabcdef0123456789ull);
	CHECK_HOST("%lu %lx", ULONG_MAX, 0x8000000000000000ul);
	CHECK_HOST("%zu %zx %zd %zd", SIZE_MAX, (size_t)4096, (ssize_t)-5, (ssize_t)SSIZE_MAX);
	CHECK_HOST("%d%d%u", 1, -2, 3u);
}

static void fmt_test_width(void)
{
	CHECK_HOST("[%5d] [%-5d] [%05d]", 42, 42, 42);
	CHECK_HOST("[%5d] [%-5d] [%05d]", -42, -42, -42);
	CHECK_HOST("[%1d] [%2d] [%03d]", 12345, -12345, -12345);
	CHECK_HOST("[%08x] [%-8X] [%8x]", 0xbeefu, 0xbeefu, 0u);
	CHECK_HOST("[%020lld] [%-22lld] [%21lld]", LLONG_MIN, LLONG_MIN, LLONG_MIN);
	CHECK_HOST("[%016llx] [%030llu]", 0x1ull, ULLONG_MAX);
	CHECK_HOST("[%0d] [%01d]", 3, -3);
	CHECK_HOST("[%100d]", 1);
	CHECK_HOST("[%05zu] [%-3zx]", (size_t)9, (size_t)255);
}

/* '-' wins over '0': padding goes right, with spaces (-Wformat dislikes
 * the combination, so the host cannot be asked directly). */
static void fmt_test_left_zero(void)
{
	CHECK_FMT("[42   ]", "[%-05d]", 42);
	CHECK_FMT("[-42  ]", "[%-05d]", -42);
	CHECK_FMT("[ff    ]", "[%0-6x]", 0xffu);
	CHECK_FMT("[00003]", "[%00005d]", 3); /* a repeated flag */
}

static void fmt_test_strings(void)
{
	CHECK_HOST("[%s] [%s]", "hello", "");
	CHECK_HOST("[%10s] [%-10s] [%3s]", "abc", "abc", "abcdef");
	CHECK_HOST("[%c%c%c] [%%] [100%%]", 'a', 'b', 'c');
	CHECK_HOST("%s=%d, %x%c%s", "key", -1, 255u, '!', "end");
	CHECK_HOST("plain text, no conversions");
	CHECK_HOST("%s", "");
	const char *volatile nul = NULL;
	CHECK_FMT("[(null)]", "[%s]", nul);
	CHECK_FMT("[  (null)] [(null)  ]", "[%8s] [%-8s]", nul, nul);
	CHECK_FMT("abc", "abc%"); /* a lone '%' at the end stops there */
}

static void fmt_test_pointer(void)
{
	int local;
	void *p = &local;
	CHECK_HOST("%p", p);
	CHECK_HOST("[%p] [%p]", (void *)0x1000, (void *)UINTPTR_MAX);
	CHECK_FMT("0x0", "%p", (void *)NULL); /* glibc prints "(nil)" */
	CHECK_FMT("0xdeadbeef", "%p", (void *)0xdeadbeef);
}

static void fmt_test_truncation(void)
{
	for (size_t size = 1; size <= 13; size++)
		CHECK_HOST_N(size, "hello world");
	CHECK_HOST_N(4, "%d", 123456);
	CHECK_HOST_N(5, "%-10s|", "ab");
	CHECK_HOST_N(3, "%05d", -7);
	CHECK_HOST_N(6, "%lld", LLONG_MIN);
	/* Nothing is written past size, and the length is the full length. */
	memset(got, 'X', sizeof(got) - 1);
	CHECK_EQ(fmt_buf(got, 5, "%s-%d", "abcdef", 12), 9);
	CHECK_STR(got, "abcd");
	CHECK_EQ(got[5], 'X');
	memset(got, 'X', sizeof(got) - 1);
	CHECK_EQ(fmt_buf(got, 1, "abc"), 3);
	CHECK_EQ(got[0], 0);
	CHECK_EQ(got[1], 'X');
	CHECK_EQ(fmt_buf(NULL, 0, "%d", 12345), 5); /* size 0: buf untouched */
	CHECK_EQ(fmt_buf(got, 4, "abc"), 3);             /* exact fit */
	CHECK_STR(got, "abc");
	CHECK_EQ(fmt_buf(got, 3, "abc"), 3);             /* one short */
	CHECK_STR(got, "ab");
}

/* Random conversions, flags and widths against the host. */
static bool random_case(char *f)
{
	static const char *const flags[] = { "", "-", "0", "-0", "0-" };
	static const char *const convs[] = { "d", "i", "u", "x", "X", "lld", "llu", "llx", "s" };
	const char *c = convs[rand() % 9];
	int w = rand() % 4 ? rand() % 25 : 0;
	char wbuf[8] = "";
	if (w)
		snprintf(wbuf, sizeof(wbuf), "%d", w);
	snprintf(f, 32, "<%%%s%s%s>", *c == 's' ? flags[rand() % 2] : flags[rand() % 5], wbuf, c);
	long long v = (long long)((unsigned long long)rand() << 33 ^ (unsigned long long)rand() << 10 ^
				  (unsigned long long)rand());
	v >>= rand() % 64;
	if (rand() % 2)
		v = -v;
	if (*c == 's')
		return same_as_host(sizeof(got), f, rand() % 2 ? "str" : "");
	if (c[0] == 'l')
		return same_as_host(sizeof(got), f, v);
	return same_as_host(sizeof(got), f, (int)v);
}

static void fmt_test_random(void)
{
	char f[32];
	int bad = 0;
	srand(1);
	for (int i = 0; i < 5000; i++)
		if (!random_case(f) && bad++ < 5)
			printf("  mismatch: format \"%s\": got \"%s\", host gives \"%s\"\n", f,
			       check_esc(got), check_esc(want));
	CHECK_MSG(bad == 0, "%d of 5000 random formats differ from the host", bad);
}

void fmt_suite(void)
{
	run_test("fmt_integers", fmt_test_integers);
	run_test("fmt_width_flags", fmt_test_width);
	run_test("fmt_left_and_zero", fmt_test_left_zero);
	run_test("fmt_strings_chars_percent", fmt_test_strings);
	run_test("fmt_pointer", fmt_test_pointer);
	run_test("fmt_truncation", fmt_test_truncation);
	run_test("fmt_random_vs_host", fmt_test_random);
}
