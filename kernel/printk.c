/* Kernel console output on COM1. */
#include "kernel.h"
#include "arch/x86_64/arch.h"
#include "../lib/common/fmt.h"

static void serial_out(char c, void *ctx)
{
	(void)ctx;
	serial_putc(c);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vformat(serial_out, NULL, fmt, ap);
	va_end(ap);
}

int ksnprintf(char *buf, usize size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
