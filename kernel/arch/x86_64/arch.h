/* x86-64 specifics the rest of the kernel needs: the trap frame, port and
 * MSR access, control registers. */
#ifndef ARCH_H
#define ARCH_H

#include <l4/types.h>
#include "asm.h"

/*
 * Saved user state at the top of every thread's kernel stack.  The first
 * eight words are the IPC message registers MR0..MR7 (R10, R8, R9, RBX,
 * R12..R15), so that IPC copies them as one array.
 */
struct frame {
	union {
		u64 mr[8];
		struct {
			u64 r10, r8, r9, rbx, r12, r13, r14, r15;
		};
	};
	u64 rax, rdi, rsi, rdx, rcx, r11, rbp;
	u64 vector, err;
	u64 rip, cs, rflags, rsp, ss; /* hardware interrupt frame */
};
STATIC_ASSERT(sizeof(struct frame) == FR_SIZE, "frame layout");
STATIC_ASSERT(__builtin_offsetof(struct frame, vector) == FR_VEC, "frame layout");

#define RFLAGS_IF (1ull << 9)
/* Flags a user thread may set: CF PF AF ZF SF TF DF OF AC ID */
#define RFLAGS_USER_MASK 0x00240dd5ull

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}
static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}
static inline u64 read_cr2(void)
{
	u64 v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}
static inline u64 read_cr3(void)
{
	u64 v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}
static inline void write_cr3(u64 v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
static inline u64 read_cr0(void)
{
	u64 v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}
static inline void write_cr0(u64 v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v)); }
static inline u64 read_cr4(void)
{
	u64 v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}
static inline void write_cr4(u64 v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v)); }
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define CR0_AM (1ull << 18)
#define CR4_OSXSAVE (1ull << 18)
static inline void invlpg(u64 va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline _Noreturn void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_APIC_BASE 0x1b

extern u64 kstack_top; /* entry.S: the running thread's kernel stack top */

/* cpu.c */
struct cpu_features {
	bool pcid, smep, smap, pge, nx;
};
extern struct cpu_features cpu;
void cpu_init(void);
struct tss {
	u32 reserved0;
	u64 rsp0, rsp1, rsp2;
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3, iomap_base;
	u8 iomap[65536 / 8 + 1]; /* I/O permission bitmap, and the 0xff byte after it */
} __attribute__((packed));
#define TSS_IOMAP_BASE __builtin_offsetof(struct tss, iomap)
#define TSS_IOMAP_NONE sizeof(struct tss) /* past the limit: every port faults */
extern struct tss tss;
extern u64 cur_gs_base, cur_fs_base;

/* Alien threads' TLS base; 0 for L4 threads. */
static inline void set_user_fs_base(u64 base)
{
	if (base == cur_fs_base)
		return;
	cur_fs_base = base;
	wrmsr(MSR_FS_BASE, base);
}

static inline void cpu_set_kernel_stack(u64 top)
{
	tss.rsp0 = top;
	kstack_top = top;
}

/* Write the user GS base only when it changes: MSR writes are slow. */
static inline void set_user_gs_base(u64 base)
{
	if (base == cur_gs_base)
		return;
	cur_gs_base = base;
	wrmsr(MSR_GS_BASE, base);
}

/* apic.c */
#define LAPIC_PHYS 0xfee00000ull
void timer_init(void);
void lapic_eoi(void);
u32 lapic_id(void);
extern u64 tsc_hz, timer_hz;

/* serial.c */
void serial_init(void);
void serial_putc(char c);

/* entry.S */
void switch_stack(u64 *save_sp, u64 new_sp);
void ret_to_user(void);
void resume_frame(void);
void syscall_entry(void);
extern char trap_stubs[];

void trap(struct frame *f);

#define VEC_TIMER 0x20
#define VEC_IRQ_BASE 0x40 /* IOAPIC line n: VEC_IRQ_BASE + n */
#define VEC_SPURIOUS 0xff

#endif
