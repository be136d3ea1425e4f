/* Descriptor tables, the TSS, SYSCALL set-up and CPU feature detection. */
#include "arch.h"
#include "../../kernel.h"

struct cpu_features cpu;
u8 smap_enabled; /* read by trap_common: clear AC on entry */

struct tss tss;
static u64 gdt[7];
static struct idt_entry {
	u16 off_lo, sel;
	u8 ist, type;
	u16 off_mid;
	u32 off_hi, zero;
} idt[256];

struct desc_ptr {
	u16 limit;
	u64 base;
} __attribute__((packed));

static void gdt_init(void)
{
	u64 base = (u64)&tss, limit = sizeof(tss) - 1;
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffull; /* kernel code, long mode */
	gdt[2] = 0x00cf92000000ffffull; /* kernel data */
	gdt[3] = 0x00cff2000000ffffull; /* user data, DPL 3 */
	gdt[4] = 0x00affa000000ffffull; /* user code, DPL 3, long mode */
	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt[6] = base >> 32;
	tss.iomap_base = TSS_IOMAP_NONE; /* io.c loads a task's bitmap when it needs it */
	for (usize i = 0; i < sizeof(tss.iomap); i++)
		tss.iomap[i] = 0xff;
	struct desc_ptr p = { sizeof(gdt) - 1, (u64)gdt };
	__asm__ volatile("lgdt %0\n"
			 "pushq %1\n"
			 "leaq 1f(%%rip), %%rax\n"
			 "pushq %%rax\n"
			 "lretq\n"
			 "1: movw %w2, %%ds\n"
			 "movw %w2, %%es\n"
			 "movw %w2, %%ss\n"
			 "xorl %%eax, %%eax\n"
			 "movw %%ax, %%fs\n"
			 "movw %%ax, %%gs\n"
			 "ltr %w3\n"
			 :
			 : "m"(p), "i"((u64)SEL_KCODE), "r"(SEL_KDATA), "r"(SEL_TSS)
			 : "rax", "memory");
}

static void idt_set(int vec, u64 handler, int dpl)
{
	idt[vec].off_lo = handler & 0xffff;
	idt[vec].sel = SEL_KCODE;
	idt[vec].ist = 0;
	idt[vec].type = 0x8e | (dpl << 5); /* present, 64-bit interrupt gate */
	idt[vec].off_mid = (handler >> 16) & 0xffff;
	idt[vec].off_hi = handler >> 32;
	idt[vec].zero = 0;
}

static void idt_init(void)
{
	for (int v = 0; v < 256; v++)
		idt_set(v, (u64)trap_stubs + 16 * v, 0);
	/* int3 and into may be used from user mode; they arrive as traps. */
	idt_set(3, (u64)trap_stubs + 16 * 3, 3);
	idt_set(4, (u64)trap_stubs + 16 * 4, 3);
	idt_set(0x80, (u64)trap_stubs + 16 * 0x80, 3); /* int 0x80: exception IPC */
	struct desc_ptr p = { sizeof(idt) - 1, (u64)idt };
	__asm__ volatile("lidt %0" ::"m"(p));
}

static void detect_features(void)
{
	u32 a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	cpu.pcid = c & (1u << 17);
	cpu.pge = d & (1u << 13);
	cpuid(7, 0, &a, &b, &c, &d);
	cpu.smep = b & (1u << 7);
	cpu.smap = b & (1u << 20);
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	cpu.nx = d & (1u << 20);
}

static void cr4_init(void)
{
	u64 cr4 = read_cr4();
	cr4 |= (1 << 9) | (1 << 10); /* OSFXSR, OSXMMEXCPT */
	if (cpu.pge)
		cr4 |= 1 << 7;
	/* CR4.FSGSBASE stays off: it would let user code change its FS and GS
	 * bases behind the kernel's back, and the kernel does not save them
	 * per thread yet ([K4]).  The kernel writes the GS base with WRMSR. */
	if (cpu.smep)
		cr4 |= 1 << 20;
	/* The kernel reaches user memory only through the direct map, so SMAP
	 * costs nothing and catches stray user-pointer dereferences. */
	if (cpu.smap) {
		cr4 |= 1 << 21;
		smap_enabled = 1;
	}
	/* PCIDE may only be set while CR3[11:0] == 0, which holds at boot. */
	if (cpu.pcid)
		cr4 |= 1 << 17;
	write_cr4(cr4);
}

/* CR0.AM: user code that sets RFLAGS.AC gets alignment-check exceptions;
 * CR0.NE: x87 errors are exceptions (#MF), not the PC's IRQ 13. */
static void cr0_init(void)
{
	write_cr0(read_cr0() | CR0_AM | CR0_NE);
}

static void syscall_init(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1); /* SCE */
	/* SYSRET: CS = STAR[63:48] + 16, SS = STAR[63:48] + 8 */
	wrmsr(MSR_STAR, ((u64)(SEL_UDATA - 8 - 3) << 48) | ((u64)SEL_KCODE << 32));
	wrmsr(MSR_LSTAR, (u64)syscall_entry);
	/* clear IF, TF, DF, AC, NT on entry */
	wrmsr(MSR_FMASK, (1u << 9) | (1u << 8) | (1u << 10) | (1u << 18) | (1u << 14));
}

void cpu_init(void)
{
	detect_features();
	gdt_init();
	idt_init();
	cr4_init();
	cr0_init();
	syscall_init();
}

u64 cur_gs_base, cur_fs_base;
