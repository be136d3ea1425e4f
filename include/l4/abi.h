/*
 * The kernel ABI: system-call numbers, thread IDs, message tags, error codes,
 * the user memory layout and the UTCB.  Shared by the kernel and user level;
 * docs/api.md is the prose version of this file.
 */
#ifndef L4_ABI_H
#define L4_ABI_H

#include <l4/types.h>

/* 2: UTCB with transfer timeout and receive buffers; 3: interrupts, I/O
 * fpages, kernel-memory limits, a KIP with room for 24 boot modules */
#define L4_ABI_VERSION 3

/* ---- system-call numbers (RAX on SYSCALL) ---------------------------- */
enum l4_syscall {
	L4_SYS_IPC = 0,
	L4_SYS_THREAD_CONTROL = 1,
	L4_SYS_EXCHANGE_REGISTERS = 2,
	L4_SYS_SCHEDULE = 3,
	L4_SYS_THREAD_SWITCH = 4,
	L4_SYS_KDEBUG = 5,
	L4_SYS_UNMAP = 6,
	L4_SYS_COUNT
};

/* ---- thread IDs --------------------------------------------------------
 * bits 16..31: thread number (index in the kernel's thread table)
 * bits  0..15: version, never 0 for a live thread, bumped on every reuse
 * so that an ID of a deleted thread is rejected.  Bits 32..63 are zero.
 */
typedef u64 l4_tid_t;
#define L4_NILTHREAD ((l4_tid_t)0)
#define L4_ANYTHREAD ((l4_tid_t)~0ull)
#define L4_TID_VERSION_BITS 16
#define L4_TID_NUMBER(t) (((t) >> L4_TID_VERSION_BITS) & 0xffff)
#define L4_TID_VERSION(t) ((t)&0xffff)
#define L4_TID_MAKE(num, ver) (((u64)(num) << L4_TID_VERSION_BITS) | ((ver)&0xffff))
#define L4_MAX_THREADS 4096

/* Interrupt IDs: interrupt line n (an IOAPIC input; ISA IRQ n for n < 16)
 * sends its messages from the ID L4_IRQ_TID(n), which is no thread's. */
#define L4_IRQ_LINES 24
#define L4_IRQ_TID(n) ((1ull << 32) | (u64)(n))
#define L4_IS_IRQ_TID(t) (((t) >> 32) == 1)
#define L4_IRQ_NUMBER(t) ((u32)(t))

/* ---- negative results of the non-IPC system calls (RAX) -------------- */
enum l4_error {
	L4_OK = 0,
	L4_ENOPERM = 1,    /* the caller lacks the authority */
	L4_EINVAL_TID = 2, /* no such thread, or a stale version */
	L4_EINVAL = 3,     /* a malformed argument */
	L4_ENOMEM = 4,     /* kernel memory exhausted */
	L4_EEXIST = 5,     /* the requested thread ID is in use */
	L4_EFAULT = 6,     /* a user pointer is not mapped or not accessible */
	L4_ENOSYS = 7,     /* no such system call */
	L4_EBUSY = 8,      /* resource in use (e.g. deleting yourself) */
};

/* ---- IPC ---------------------------------------------------------------
 * Message tag (MR0):
 *   bits  0..5   u: untyped words that follow (MR1..MRu), u <= 63
 *   bits  6..11  t: typed words after them (2 per map, grant or string item)
 *   bit  12      P: propagate (reserved, must be 0)
 *   bit  14      R: error occurred in the receive phase (with E)
 *   bit  15      E: error; the label then holds an enum l4_ipc_error
 *   bits 16..63  label
 */
#define L4_TAG_U(tag) ((tag)&0x3f)
#define L4_TAG_T(tag) (((tag) >> 6) & 0x3f)
#define L4_TAG_LABEL(tag) ((tag) >> 16)
#define L4_TAG_ERROR (1ull << 15)
#define L4_TAG_PROPAGATE (1ull << 12)
#define L4_TAG_RECV_PHASE (1ull << 14)
#define L4_TAG_MAKE(label, u, t) (((u64)(label) << 16) | (((u64)(t)&0x3f) << 6) | ((u64)(u)&0x3f))

enum l4_ipc_error {
	L4_IPC_OK = 0,
	L4_IPC_TIMEOUT = 1,     /* the timeout expired (zero timeout: partner not ready) */
	L4_IPC_NOPARTNER = 2,   /* partner does not exist or was deleted */
	L4_IPC_CANCELLED = 3,   /* aborted by ExchangeRegisters */
	L4_IPC_OVERFLOW = 4,    /* message does not fit the receiver */
	L4_IPC_BADMSG = 5,      /* malformed message (word counts, typed items) */
	L4_IPC_MAPFAIL = 6,     /* a map item could not be installed */
	L4_IPC_XFER = 7,        /* a string copy met memory its pager did not map */
};
#define L4_IPC_ERRCODE(tag) (L4_TAG_LABEL(tag))

/* Timeouts (RDX): bits 32..63 send timeout, bits 0..31 receive timeout.
 * 0 = zero (do not block); 0xffffffff = infinite; anything else is a
 * relative timeout in microseconds for that phase (a receive phase that
 * follows a send starts its timeout when the send is done).  Expiry is
 * checked at every scheduler tick (1 ms). */
#define L4_TIMEOUT_ZERO 0u
#define L4_TIMEOUT_NEVER 0xffffffffu
#define L4_TIMEOUTS(snd, rcv) (((u64)(snd) << 32) | (u32)(rcv))

/* Number of message registers: MR0 (the tag) and MR1..MR7 travel in CPU
 * registers, MR8..MR63 in the UTCB. */
#define L4_MR_REGS 8
#define L4_MR_COUNT 64

/* Well-known labels of kernel-generated and protocol messages.  Labels
 * L4_LABEL_KERNEL_FIRST..L4_LABEL_KERNEL_LAST are the kernel's own: a
 * thread that sends one gets L4_IPC_BADMSG, so a receiver can trust them. */
#define L4_LABEL_KERNEL_FIRST 0xfffe0ull
#define L4_LABEL_KERNEL_LAST 0xfffffull
#define L4_LABEL_IS_KERNEL(label) ((label) >= L4_LABEL_KERNEL_FIRST && (label) <= L4_LABEL_KERNEL_LAST)
#define L4_LABEL_PAGEFAULT 0xfffe0ull /* low 4 bits: access r=4 w=2 x=1 */
#define L4_LABEL_EXCEPTION 0xffff0ull /* an exception or an alien system call */
#define L4_LABEL_INTERRUPT 0xffff8ull /* from an interrupt ID, no words */

/* The exception message: MR1..MR23 hold the thread's user state; the reply
 * with the same layout (u >= L4_EXC_WORDS) sets it; a reply with u == 1
 * sets only RAX to MR1 (a system call's result); any other reply resumes
 * the thread unchanged.  Vector: the CPU exception, 0x80 for int 0x80,
 * L4_EXC_SYSCALL for an alien thread's syscall instruction (then RCX and
 * R11 hold the return RIP and RFLAGS, as the SYSCALL instruction left them,
 * and on return they become RIP and RFLAGS again, as on Linux). */
enum l4_exc_word {
	L4_EXC_RIP = 1, L4_EXC_RSP, L4_EXC_RFLAGS, L4_EXC_VECTOR, L4_EXC_ERROR, L4_EXC_ADDR,
	L4_EXC_RAX, L4_EXC_RBX, L4_EXC_RCX, L4_EXC_RDX, L4_EXC_RSI, L4_EXC_RDI, L4_EXC_RBP,
	L4_EXC_R8, L4_EXC_R9, L4_EXC_R10, L4_EXC_R11, L4_EXC_R12, L4_EXC_R13, L4_EXC_R14, L4_EXC_R15,
	L4_EXC_FS_BASE, L4_EXC_GS_BASE,
	L4_EXC_WORDS = L4_EXC_GS_BASE
};
#define L4_EXC_SYSCALL 0x100
#define L4_LABEL_SIGMA0 0xfffa0ull    /* sigma0 page request */

/* ---- flexpages and map items ------------------------------------------
 * fpage:  bits 12..63 base (size-aligned), bits 4..9 log2 size (>=12),
 *         bits 0..2 rights (r=4, w=2, x=1).
 * A map item is two typed words: [sendbase | L4_ITEM_MAP] [fpage].
 */
typedef u64 l4_fpage_t;
#define L4_FPAGE(base, log2, rights) (((u64)(base) & ~0xfffull) | ((u64)(log2) << 4) | ((rights)&7))
/* An I/O fpage names the 2^log2 I/O ports from port (size-aligned, log2 <=
 * 16): bits 16..31 port, bits 4..9 log2, bit 3 set.  In map and grant
 * items and in Unmap like memory fpages; the rights bits are ignored.  It
 * is received only with a receive window that is the complete fpage or an
 * I/O fpage covering it. */
#define L4_FPAGE_IO 0x8ull
#define L4_IO_FPAGE(port, log2) (((u64)((port)&0xffff) << 16) | ((u64)(log2) << 4) | L4_FPAGE_IO | L4_RWX)
#define L4_IS_IO_FPAGE(f) (((f) & L4_FPAGE_IO) != 0)
#define L4_IO_FPAGE_PORT(f) (((f) >> 16) & 0xffff)
#define L4_IO_PORTS 65536
#define L4_FPAGE_BASE(f) ((f) & ~0xfffull)
#define L4_FPAGE_LOG2(f) (((f) >> 4) & 0x3f)
#define L4_FPAGE_RIGHTS(f) ((f)&7)
#define L4_FPAGE_COMPLETE L4_FPAGE(0, 63, 7) /* whole address space */
#define L4_R 4
#define L4_W 2
#define L4_X 1
#define L4_RWX 7
#define L4_ITEM_MAP 0x8ull
#define L4_ITEM_GRANT 0xaull
#define L4_SUPERPAGE_LOG2 21 /* map items use 2 MiB leaves where they can */

/* ---- Unmap (RDI fpage, RSI flags) ------------------------------------------
 * The fpage's rights field names the rights to take away from every mapping
 * derived from the caller's mappings in the fpage; L4_R removes them.  With
 * L4_UNMAP_SELF, from the caller's own mappings as well.  RDI returns the
 * access state of all these mappings: */
#define L4_UNMAP_SELF 1u
#define L4_UNMAP_REFERENCED 4u /* some mapping was read or written */
#define L4_UNMAP_DIRTY 2u      /* some mapping was written */

/* ---- ThreadControl (RDI dest, RSI space, RDX pager, R10 op, and for
 * CREATE: R8 flags, R9 exception handler (nil: an exception stops the thread)) */
#define L4_TC_ALIEN 1u /* syscall and int 0x80 become exception IPC */
enum l4_tc_op {
	L4_TC_CREATE = 0,      /* create dest (nil: kernel picks) in space's task */
	L4_TC_DELETE = 1,      /* delete thread dest */
	L4_TC_DELETE_TASK = 2, /* delete dest's whole task */
	L4_TC_SET_PAGER = 3,   /* change dest's pager */
	L4_TC_SET_EXC_HANDLER = 4, /* change dest's exception handler (RDX) */
	L4_TC_ATTACH_IRQ = 5,  /* privileged: dest = L4_IRQ_TID(n), RDX = the
				* thread that handles it (nil: detach) */
	L4_TC_KMEM_LIMIT = 6,  /* dest's task: RDX = its kernel-memory limit in
				* pages (L4_KMEM_QUERY: unchanged); RDX returns
				* the pages it and the tasks it created use */
};
#define L4_KMEM_QUERY (~0ull)
/* RSI for CREATE: a thread whose task gets the new thread, or
 * L4_NEWTASK to create a new task. */
#define L4_NEWTASK L4_NILTHREAD

/* ---- ExchangeRegisters (RDI dest, RSI control, RDX sp, R10 ip, R8 flags, R9 pager)
 * Returns in RSI the state bits below, the old values in RDX/R10/R8/R9. */
#define L4_EXREG_SET_SP (1u << 0)
#define L4_EXREG_SET_IP (1u << 1)
#define L4_EXREG_SET_FLAGS (1u << 2)
#define L4_EXREG_SET_PAGER (1u << 3)
#define L4_EXREG_HALT (1u << 4)   /* stop the thread */
#define L4_EXREG_RESUME (1u << 5) /* start or continue it */
#define L4_EXREG_CANCEL (1u << 6) /* abort its IPC with L4_IPC_CANCELLED */
/* state bits returned in RSI */
#define L4_EXREG_STATE_HALTED (1u << 0)
#define L4_EXREG_STATE_SENDING (1u << 1)
#define L4_EXREG_STATE_RECEIVING (1u << 2)
#define L4_EXREG_STATE_DEAD (1u << 3) /* stopped by an unhandled fault */
#define L4_EXREG_STATE_PRIVILEGED (1u << 4) /* its task is sigma0 or the root task */

/* ---- Schedule (RDI dest, RSI priority, RDX timeslice us, R10 maximum
 * controlled priority); L4_SCHED_KEEP = leave as is.  Old values return in
 * RSI, RDX, R10. */
#define L4_PRIO_LEVELS 256
#define L4_SCHED_KEEP (~0ull)

/* ---- KDebug (RDI op) ---------------------------------------------------- */
enum l4_kdebug_op {
	L4_KD_PUTS = 0,      /* RSI ptr, RDX len: write to the kernel console */
	L4_KD_FREE_PAGES = 1,/* returns the number of free kernel pages */
	L4_KD_POWEROFF = 2,  /* RSI exit code; privileged */
	L4_KD_NOP = 3,       /* does nothing: a null system call */
	L4_KD_PROBE = 4,     /* RSI va: the caller's rights there (0: unmapped),
			      * | L4_KD_PROBE_2M if a 2 MiB leaf maps it */
};

#define L4_KD_PROBE_2M 0x100

/* ---- user memory layout --------------------------------------------------- */
#define L4_USER_END 0x0000800000000000ull   /* first non-user address */
#define L4_KIP_ADDR 0x00007ffffff00000ull   /* kernel interface page, read-only */
#define L4_UTCB_AREA 0x00007fff00000000ull  /* UTCB of thread n at AREA + n * 4096 */
#define L4_UTCB_SIZE 4096
#define L4_USER_MAP_END L4_UTCB_AREA        /* tasks may map below this */
#define L4_IMAGE_BASE 0x0000004000000000ull /* where L4 programs are linked (256 GiB) */

/* ---- string items --------------------------------------------------------
 * Two typed words: [length << 4 | L4_ITEM_STRING] [address].  The kernel
 * copies the bytes from the sender's address space straight into the
 * receiver's next receive buffer (UTCB buf[]); the receiver's copy of the
 * item then names that buffer and the length.  A missing page on either
 * side is faulted in through that side's pager and the IPC retried. */
#define L4_ITEM_STRING 0x4ull
#define L4_STRING_MAX (4ull << 20) /* bytes per item */
#define L4_MAX_BUFFERS 4
#define L4_STRING_ITEM(len) (((u64)(len) << 4) | L4_ITEM_STRING)
#define L4_STRING_LEN(w0) ((w0) >> 4)

/* ---- UTCB: one page per thread, GS base points at it ------------------- */
struct l4_utcb {
	u64 self;             /* address of this UTCB (read via %gs:0) */
	l4_tid_t my_tid;      /* this thread's ID */
	l4_fpage_t rcv_window;/* where map items may land (nil fpage: refuse) */
	u64 user_handle;      /* free for the runtime */
	u32 xfer_timeout;     /* for page faults in string copies (like IPC
			       * timeouts; the kernel starts it at never) */
	u32 buf_count;        /* receive buffers for string items, in order */
	struct l4_buffer {
		u64 addr, len;
	} buf[L4_MAX_BUFFERS];
	u64 reserved[2];
	u64 mr[L4_MR_COUNT];  /* message registers; MR8..MR63 are used */
};

#endif
