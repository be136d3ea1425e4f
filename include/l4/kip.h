/*
 * The kernel interface page (KIP): one read-only page mapped at L4_KIP_ADDR
 * in every task.  It tells user level the ABI version, the memory layout,
 * the TSC frequency, the physical memory map and the boot modules.
 */
#ifndef L4_KIP_H
#define L4_KIP_H

#include <l4/types.h>

#define L4_KIP_MAGIC 0x4b495034u /* "4PIK" */

enum l4_mem_type {
	L4_MEM_FREE = 1,     /* conventional RAM owned by sigma0 */
	L4_MEM_KERNEL = 2,   /* kernel image and kernel memory pool */
	L4_MEM_MODULE = 3,   /* a boot module (sigma0 hands it out like RAM) */
	L4_MEM_RESERVED = 4, /* firmware, boot info: never handed out */
};

struct l4_kip_mem {
	u64 base, size;
	u32 type;
	u32 pad;
};

struct l4_kip_module {
	u64 base, size;   /* physical location */
	char name[40];    /* file name (last path component) */
	char args[40];    /* remaining command line */
};

#define L4_KIP_MAX_MEM 64
#define L4_KIP_MAX_MODULES 24

struct l4_kip {
	u32 magic;
	u32 abi_version;
	u64 tsc_hz;          /* TSC ticks per second */
	u64 user_end;        /* L4_USER_END */
	u64 utcb_area;       /* L4_UTCB_AREA */
	u64 utcb_size;
	u64 kip_addr;
	u64 kernel_pages;    /* size of the kernel memory pool */
	u32 max_threads;
	u32 prio_levels;
	l4_tid_t sigma0;     /* thread ID of sigma0 */
	l4_tid_t root;       /* thread ID of the root task's first thread */
	u32 n_mem;
	u32 n_modules;
	u64 lapic_timer_hz;  /* scheduler tick rate */
	struct l4_kip_mem mem[L4_KIP_MAX_MEM];
	struct l4_kip_module modules[L4_KIP_MAX_MODULES];
};


/* The type of physical address pa: the last descriptor that covers it wins,
 * so the general RAM ranges come first and the exceptions after them. */
static inline u32 l4_kip_mem_type(const struct l4_kip *k, u64 pa)
{
	u32 type = 0;
	for (u32 i = 0; i < k->n_mem && i < L4_KIP_MAX_MEM; i++)
		if (pa >= k->mem[i].base && pa - k->mem[i].base < k->mem[i].size)
			type = k->mem[i].type;
	return type;
}

#endif
