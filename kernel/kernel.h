/* Common kernel declarations: memory translation, output, assertions and
 * the kernel memory allocator. */
#ifndef KERNEL_H
#define KERNEL_H

#include <l4/types.h>
#include <l4/abi.h>

#define PAGE_SIZE 4096ull
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define KERNEL_HZ 1000 /* scheduler ticks per second */

#ifndef HOST_TEST
#include "arch/x86_64/asm.h"
#define P2V(pa) ((void *)((u64)(pa) + DIRECT_MAP))
#define V2P(va) ((u64)(va) >= KERNEL_VMA ? (u64)(va)-KERNEL_VMA : (u64)(va)-DIRECT_MAP)
#endif

/* printk.c */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ksnprintf(char *buf, usize size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* panic.c */
struct frame;
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void panic_frame(struct frame *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern bool panic_exits_qemu;
void qemu_exit(u32 code);
/* QEMU's isa-debug-exit exits with (value << 1) | 1; the base keeps our
 * codes (0..63, 63 = panic) apart from QEMU's own exit status 1. */
#define QEMU_EXIT_BASE 0x40

#ifdef NDEBUG
#define assert(c) ((void)0)
#else
#define assert(c) ((c) ? (void)0 : panic("assertion failed: %s (%s:%d)", #c, __FILE__, __LINE__))
#endif

#include "../lib/common/string.h"

/* kmem.c: the kernel memory pool, in pages.  Exhaustion is an error the
 * caller must handle, never a panic. */
void kmem_init(void *base, u64 npages);
void *kmem_alloc(void);          /* a zeroed page, or NULL */
void kmem_free(void *page);
u64 kmem_free_pages(void);
u64 kmem_total_pages(void);
bool kmem_owns(const void *page);

/* arch/x86_64/paging.c: kernel-half mappings */
bool kmap_mmio(u64 pa);

#endif
