/* The kernel-test framework (see l4/test.h). */
#include <l4/test.h>
#include "common/fmt.h"

static int count, failed;

bool t_check(bool cond, const char *fmt, ...)
{
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	count++;
	if (!cond)
		failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", count, what);
	return cond;
}

int t_done(const char *program)
{
	printf("# %s: %d checks, %d failed\n", program, count, failed);
	return failed;
}
