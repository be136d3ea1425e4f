/*
 * FPU, SSE and AVX state: each thread's own, switched lazily.  CR0.TS is
 * set whenever the running thread is not the one whose state is in the
 * registers (fpu_owner); its first FPU instruction then traps (#NM), and
 * the kernel saves the owner's state and loads the thread's.  Threads that
 * never touch the FPU cost nothing, and IPC between them never saves it.
 */
#include "arch.h"
#include "../../thread.h"

struct tcb *fpu_owner;
bool fpu_ts_set;
static bool use_xsave;
static u64 xsave_mask;

void fpu_init(void)
{
	u32 a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (c & (1u << 26)) { /* XSAVE: x87, SSE and AVX where the CPU has it */
		write_cr4(read_cr4() | CR4_OSXSAVE);
		cpuid(0xd, 0, &a, &b, &c, &d);
		xsave_mask = a & 0x7;
		__asm__ volatile("xsetbv" ::"c"(0), "a"((u32)xsave_mask), "d"(0));
		cpuid(0xd, 0, &a, &b, &c, &d);
		use_xsave = b <= PAGE_SIZE;
	}
	fpu_write_ts(true);
	printk("fpu: %s, state components %llx\n", use_xsave ? "xsave" : "fxsave", xsave_mask);
}

static void save(struct tcb *t)
{
	if (use_xsave)
		__asm__ volatile("xsave64 (%0)" ::"r"(t->fpu), "a"((u32)xsave_mask), "d"(0) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" ::"r"(t->fpu) : "memory");
}

static void restore(struct tcb *t)
{
	if (use_xsave)
		__asm__ volatile("xrstor64 (%0)" ::"r"(t->fpu), "a"((u32)xsave_mask), "d"(0) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" ::"r"(t->fpu) : "memory");
}

static void set_owner(struct tcb *t)
{
	if (fpu_owner)
		fpu_owner->flags &= ~TF_FPU_OWNER;
	fpu_owner = t;
	if (t)
		t->flags |= TF_FPU_OWNER;
}

/* #NM: the running thread wants the FPU.  False if it has no memory for
 * its state (it is then stopped). */
bool fpu_trap(struct tcb *t)
{
	fpu_write_ts(false);
	if (fpu_owner == t)
		return true;
	if (!t->fpu) {
		if (!kmem_charge(t->space, PAGE_SIZE))
			return false;
		u8 *area = kmem_alloc(); /* zeroed: the initial state, XSTATE_BV 0 */
		if (!area) {
			kmem_uncharge(t->space, PAGE_SIZE);
			return false;
		}
		*(u16 *)area = 0x37f;        /* FCW: all exceptions masked */
		*(u32 *)(area + 24) = 0x1f80; /* MXCSR: likewise */
		t->fpu = area;
	}
	if (fpu_owner)
		save(fpu_owner);
	restore(t);
	set_owner(t);
	return true;
}

/* On every switch: the registers hold next's state only if it owns them. */
void fpu_switch(struct tcb *next)
{
	bool want_ts = next != fpu_owner;
	if (want_ts != fpu_ts_set)
		fpu_write_ts(want_ts);
}

void fpu_release(struct tcb *t)
{
	if (fpu_owner == t)
		set_owner(NULL);
	if (t->fpu) {
		kmem_free(t->fpu);
		kmem_uncharge(t->space, PAGE_SIZE);
	}
	t->fpu = NULL;
}
