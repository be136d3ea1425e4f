/* Interrupts and exceptions.  User page faults become pager IPC, other user
 * exceptions exception IPC (or stop the thread without a handler); the FPU
 * trap switches FPU state.  Any exception in the kernel is a bug and panics. */
#include "thread.h"
#include "kip.h"
#include "arch/x86_64/paging.h"

static const char *const exception_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coprocessor overrun",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 FPU error", "alignment check", "machine check",
	"SIMD FP error", "virtualization", "control protection",
};

static const char *exception_name(u64 vector)
{
	return vector < 32 && exception_names[vector] ? exception_names[vector] : "exception";
}

/* sigma0 has no pager: the kernel gives it device memory (any physical
 * address below 1 TiB that the KIP does not describe) one-to-one and
 * uncached, when it touches it or maps it on.  Returns whether [addr,
 * addr + size) is now all mapped in s. */
bool sigma0_map_device(struct space *s, u64 addr, u64 size)
{
	extern struct space *sigma0_space;
	if (s != sigma0_space)
		return false;
	for (u64 pa = addr & PAGE_MASK; pa < addr + size; pa += PAGE_SIZE) {
		struct pt_leaf l;
		if (pt_find(s->pml4, pa, &l))
			continue;
		if (pa >= (1ull << 40) || l4_kip_mem_type(kip_page, pa) != 0)
			return false;
		u64 *slot = pt_slot(s->pml4, pa, 0);
		if (!slot)
			return false;
		*slot = pt_make_entry(pa, L4_R | L4_W, PTE_PCD | PTE_PWT, 0);
	}
	return true;
}

/* Page faults go to the pager; other exceptions, and page faults of a
 * thread without a pager, to the exception handler.  Without one the
 * thread is stopped. */
static void user_exception(struct frame *f)
{
	u64 addr = 0;
	if (f->vector == 14) {
		addr = read_cr2();
		unsigned access = (f->err & 2) ? L4_W : (f->err & 16) ? L4_X : L4_R;
		if (!(f->err & 1) && sigma0_map_device(current->space, addr, 1))
			return;
		if (current->pager != L4_NILTHREAD) {
			ipc_pagefault(current, addr, f->rip, access);
			return;
		}
	}
	if (ipc_exception(current, f, f->vector, f->err, addr))
		return;
	char why[96];
	ksnprintf(why, sizeof(why), "%s (vector %llu) at ip %llx, addr %llx, no handler took it", exception_name(f->vector), f->vector,
		  f->rip, addr);
	thread_kill(current, why);
}

/* On the way back to user mode: a halted or dead thread does not return. */
void leave_kernel_check(void)
{
	if (current->state == TS_DEAD) {
		sched_block(NULL);
		panic("dead thread %llx was resumed", current->tid);
	}
	if (current->flags & TF_HALTED) {
		current->state = TS_INACTIVE;
		sched_block(NULL);
	}
}

void trap(struct frame *f)
{
	bool from_user = (f->cs & 3) == 3;
	if (f->vector == VEC_TIMER) {
		lapic_eoi();
		ipc_timeouts_expire(rdtsc());
		sched_tick();
	} else if (f->vector == VEC_SPURIOUS) {
		return;
	} else if (f->vector >= VEC_IRQ_BASE && f->vector < VEC_IRQ_BASE + L4_IRQ_LINES) {
		irq_raise((unsigned)(f->vector - VEC_IRQ_BASE));
	} else if (f->vector == 7 && from_user) {
		if (!fpu_trap(current)) /* device not available: the thread's FPU state */
			thread_kill(current, "no kernel memory for its FPU state");
	} else if (f->vector == 13 && from_user && io_fault(current)) {
		/* the task's ports were not in the TSS: the in/out runs again */
	} else if (f->vector == 0x80 && from_user) {
		user_exception(f); /* a software interrupt: int 0x80 */
	} else if (f->vector >= 32) {
		lapic_eoi();
	} else if (f->vector == 2) {
		printk("kernel: NMI\n"); /* not the interrupted thread's doing */
	} else if (f->vector == 18) {
		panic_frame(f, "machine check");
	} else if (!from_user) {
		panic_frame(f, "%s (vector %llu) in the kernel", exception_name(f->vector), f->vector);
	} else {
		user_exception(f);
	}
	if (from_user)
		leave_kernel_check();
}
