/* The user-level runtime: start-up, exit, formatted output, memory from
 * sigma0, helpers to run threads and tasks. */
#ifndef L4_RUNTIME_H
#define L4_RUNTIME_H

#include <l4/syscalls.h>
#include <stdarg.h>

/* Label of the message a task sends its parent (the root task) to exit:
 * MR1 = status.  The parent deletes the task; there is no reply. */
#define L4_LABEL_EXIT 0xe0001ull
/* A driver asks its parent for I/O ports: a call with MR1 = an I/O fpage,
 * the caller's rcv_window open for it.  Reply: a map item of the ports, or
 * label 1 with no items (refused).  The root task gives a program the
 * ports its boot-configuration "devices" line names, and no others. */
#define L4_LABEL_GET_IO 0xe0002ull
/* A driver tells its parent that it serves requests now: a call with no
 * words, answered with an empty message. */
#define L4_LABEL_READY 0xe0003ull
/* A program asks its parent for part of a boot module: MR1 = the module's
 * index in the KIP, MR2 = an offset in it (page-aligned).  Reply: a map
 * item that maps, read-only and at the module's own (physical) address,
 * the largest size-aligned piece that starts there and lies within the
 * module's pages; or label 1 with no items.  Every child of the root task
 * may read every module. */
#define L4_LABEL_GET_MODULE 0xe0004ull

/* Auxiliary-vector entries the root task puts on a program's start stack
 * (after argv and envp, pairs of words up to the type 0, AT_NULL). */
#define L4_AT_NULL 0
#define L4_AT_CONSOLE 0x4c34 /* the console driver's thread (l4/console.h) */

_Noreturn void l4_exit(int status);
extern l4_tid_t l4_parent; /* the pager of the first thread: our creator */
/* The console driver from L4_AT_CONSOLE, or nil.  printf and l4_puts write
 * through it when it is known, else (or when it cannot be reached) through
 * the kernel debug call. */
extern l4_tid_t l4_console;

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, usize size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void l4_puts(const char *s);

/* sigma0 protocol: one page (VA == PA, as sigma0 maps one-to-one) or a
 * specific physical page; 0 on refusal. */
u64 sigma0_get_any_page(void);
u64 sigma0_get_page(u64 pa);
/* A size-aligned region of 2^log2 bytes at physical pa (RAM, or device
 * memory for privileged tasks); pa on success, 0 on refusal. */
u64 sigma0_get_region(u64 pa, unsigned log2);
/* A 2 MiB-aligned 2 MiB of RAM that sigma0 still has (one 2 MiB page), or 0. */
u64 sigma0_get_superpage(void);
/* The 2^log2 I/O ports from port (size-aligned), for privileged tasks, each
 * port once; nonzero (the I/O fpage received) on success, 0 on refusal. */
u64 sigma0_get_io(u16 port, unsigned log2);
/* The 2^log2 ports from port, from the parent (L4_LABEL_GET_IO). */
bool l4_parent_get_io(u16 port, unsigned log2);
/* Boot module `name`, mapped read-only from the parent at its physical
 * address (L4_LABEL_GET_MODULE); NULL if there is none.  *size gets its size. */
const u8 *l4_module(const char *name, u64 *size);

/* Threads in this task with a stack from a static area; entry gets arg. */
typedef void (*l4_thread_fn)(u64 arg);
l4_tid_t l4_spawn_thread(l4_thread_fn fn, u64 arg, void *stack, usize stack_size);
/* Start an existing (halted) thread of this task running fn(arg). */
s64 l4_start_fn(l4_tid_t t, l4_thread_fn fn, u64 arg, void *stack, usize stack_size);

/* A new task that shares this task's memory one-to-one, served by the
 * calling task's mirror pager thread (l4_mirror_pager_start). */
l4_tid_t l4_mirror_pager_start(void);
l4_tid_t l4_spawn_task(l4_tid_t pager, l4_thread_fn fn, u64 arg, void *stack, usize stack_size);

/* Fault a page of our own in before mapping it on: a read, or for write
 * access an atomic no-op write, which disturbs no other thread. */
static inline void l4_touch(u64 addr, bool write)
{
	volatile u8 *b = (volatile u8 *)addr;
	if (write)
		__asm__ volatile("lock orb $0, %0" : "+m"(*b));
	else
		(void)*b;
}

/* Port I/O, for tasks that hold the ports (else a #GP exception). */
static inline u8 l4_inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void l4_outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

static inline u64 l4_rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

#endif
