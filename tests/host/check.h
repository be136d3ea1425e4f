/* A tiny check framework for the host unit tests.  Every CHECK counts as one
 * passed or failed check; a failure prints one line "FAIL test file:line: ...".
 * The program ends with "host: N passed, N failed" (parsed by tools/summary.sh). */
#ifndef HOST_CHECK_H
#define HOST_CHECK_H

#include <setjmp.h>
#include <stdbool.h>

extern int check_passed, check_failed;

/* Records one check; prints the message (printf-style) when !ok. */
bool check_at(bool ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prints an informational line (e.g. a skipped part) for the current test. */
void check_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(c) check_at(!!(c), __FILE__, __LINE__, "%s", #c)
#define CHECK_MSG(c, ...) check_at(!!(c), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_EQ(a, b)                                                                           \
	do {                                                                                     \
		unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);   \
		check_at(a_ == b_, __FILE__, __LINE__, "%s == %s: got %lld (0x%llx), want %lld (0x%llx)", \
			 #a, #b, (long long)a_, a_, (long long)b_, b_);                           \
	} while (0)
#define CHECK_PTR(a, b)                                                                          \
	do {                                                                                     \
		const void *a_ = (a), *b_ = (b);                                                 \
		check_at(a_ == b_, __FILE__, __LINE__, "%s == %s: got %p, want %p", #a, #b, a_, b_); \
	} while (0)
#define CHECK_STR(a, b) check_str_at((a), (b), #a " == " #b, __FILE__, __LINE__)
bool check_str_at(const char *a, const char *b, const char *expr, const char *file, int line);
/* s with control characters escaped (\r, \t, \xNN), in one of a few
 * rotating static buffers: enough for the arguments of one message. */
const char *check_esc(const char *s);

/* panic() longjmps to *panic_target when it is set; CHECK_PANICS(stmt)
 * checks that stmt panics (e.g. trips an assert).  Without a target a
 * panic fails the running test and goes on with the next one. */
extern jmp_buf *volatile panic_target;
extern char panic_message[256];
#define CHECK_PANICS(stmt)                                                                       \
	do {                                                                                     \
		jmp_buf jb_;                                                                     \
		jmp_buf *volatile saved_ = panic_target;                                         \
		volatile bool panicked_ = false;                                                 \
		panic_target = &jb_;                                                             \
		if (!setjmp(jb_)) {                                                              \
			stmt;                                                                    \
		} else {                                                                         \
			panicked_ = true;                                                        \
		}                                                                                \
		panic_target = saved_;                                                           \
		check_at(panicked_, __FILE__, __LINE__, "expected a panic from: %s", #stmt);     \
	} while (0)

void run_test(const char *name, void (*fn)(void));

/* The suites, one per unit under test. */
void kmem_suite(void);
void runq_suite(void);
void tidtab_suite(void);
void elf_suite(void);
void bootcfg_suite(void);
void fmt_suite(void);

#endif
