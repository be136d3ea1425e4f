/* A small printf engine shared by the kernel and the user runtime. */
#ifndef L4_FMT_H
#define L4_FMT_H

#include <stdarg.h>
#include <l4/types.h>

typedef void (*fmt_out_fn)(char c, void *ctx);
/* Supports %d %i %u %x %X %p %s %c %% with flags '-', '0', a width and
 * the length modifiers l, ll, z.  Returns the number of characters. */
int fmt_vformat(fmt_out_fn out, void *ctx, const char *fmt, va_list ap);
int fmt_vsnprintf(char *buf, usize size, const char *fmt, va_list ap);

#endif
