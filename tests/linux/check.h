/* The check of the Linux test programs: one "ok N - what" or "not ok N -
 * what" line per check, flushed at once (a crash loses nothing), and the
 * count of failures for the exit status. */
#ifndef LINUX_TEST_CHECK_H
#define LINUX_TEST_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int checks, failures;

static void __attribute__((format(printf, 2, 3))) check(int ok, const char *fmt, ...)
{
	va_list ap;
	printf("%s %d - ", ok ? "ok" : "not ok", ++checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

/* A call that must fail with errno e. */
#define FAILS(call, e, what)                                                                      \
	do {                                                                                      \
		errno = 0;                                                                        \
		long r_ = (long)(call);                                                           \
		int e_ = errno;                                                                   \
		check(r_ == -1 && e_ == (e), "%s: %s (got %ld, %s)", what, #e, r_, strerror(e_)); \
	} while (0)

#endif
