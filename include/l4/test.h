/* A TAP-like test framework for kernel tests running as L4 tasks:
 * each check prints "ok N - what" or "not ok N - what"; the harness
 * counts them. */
#ifndef L4_TEST_H
#define L4_TEST_H

#include <l4/runtime.h>

bool t_check(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints this program's totals as a comment; returns the failure count. */
int t_done(const char *program);

#define CHECK(cond, ...) t_check((cond), __VA_ARGS__)

#endif
