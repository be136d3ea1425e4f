/* Host unit tests: the runner, the check bookkeeping and the kernel's
 * panic() for the code under test.  See check.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../kernel/kernel.h"

int check_passed, check_failed;
jmp_buf *volatile panic_target;
char panic_message[256];

static const char *current_test = "-";
static int test_failed_checks, test_checks;

const char *check_esc(const char *s)
{
	static char bufs[4][512];
	static int next;
	char *b = bufs[next++ % 4], *o = b;
	if (!s)
		return "(null)";
	for (; *s && o < b + sizeof(bufs[0]) - 5; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\r' || c == '\n' || c == '\t')
			o += sprintf(o, "\\%c", c == '\r' ? 'r' : c == '\n' ? 'n' : 't');
		else if (c < 32 || c >= 127)
			o += sprintf(o, "\\x%02x", c);
		else
			*o++ = (char)c;
	}
	*o = 0;
	return b;
}

bool check_str_at(const char *a, const char *b, const char *expr, const char *file, int line)
{
	bool ok = a && b ? strcmp(a, b) == 0 : a == b;
	return check_at(ok, file, line, "%s: got \"%s\", want \"%s\"", expr, check_esc(a), check_esc(b));
}

bool check_at(bool ok, const char *file, int line, const char *fmt, ...)
{
	test_checks++;
	if (ok) {
		check_passed++;
		return true;
	}
	check_failed++;
	test_failed_checks++;
	printf("FAIL %s %s:%d: ", current_test, file, line);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return false;
}

void check_note(const char *fmt, ...)
{
	printf("note %s: ", current_test);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

_Noreturn void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(panic_message, sizeof(panic_message), fmt, ap);
	va_end(ap);
	if (panic_target)
		longjmp(*panic_target, 1);
	fprintf(stderr, "unexpected panic outside a test: %s\n", panic_message);
	abort();
}

/* Runs one test; an unexpected panic fails it and the run goes on. */
void run_test(const char *name, void (*fn)(void))
{
	jmp_buf jb;
	current_test = name;
	test_failed_checks = test_checks = 0;
	panic_target = &jb;
	if (!setjmp(jb))
		fn();
	else
		check_at(false, __FILE__, __LINE__, "unexpected panic: %s", panic_message);
	panic_target = NULL;
	if (test_failed_checks)
		printf("test %s: FAILED (%d failed checks)\n", name, test_failed_checks);
	else if (!test_checks)
		printf("test %s: skipped\n", name);
	else
		printf("test %s: ok (%d checks)\n", name, test_checks);
	fflush(stdout);
	current_test = "-";
}

void slab_suite(void); /* test_slab.c */

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	kmem_suite();
	slab_suite();
	runq_suite();
	tidtab_suite();
	elf_suite();
	bootcfg_suite();
	fmt_suite();
	printf("host: %d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}
