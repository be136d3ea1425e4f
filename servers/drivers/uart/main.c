/*
 * The console driver: COM1, a 16550 UART, for an ordinary unprivileged
 * task.  It gets the UART's eight ports from its parent (the root task,
 * which attached IRQ 4 to our thread before starting us), and then serves
 * the console protocol (l4/console.h) and the interrupt from one loop:
 * output polled byte by byte, input taken by the receive interrupt into a
 * ring buffer and handed to waiting readers.
 */
#include <l4/console.h>

#define COM1 0x3f8
#define COM1_IRQ 4
#define RBR 0 /* receive buffer (read) / transmit holding (write) */
#define IER 1
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define LSR_DR 0x01   /* a received byte is there */
#define LSR_THRE 0x20 /* the transmitter takes a byte */

#define RING 4096

static u8 ring[RING]; /* input nobody has read yet */
static u32 ring_head, ring_count;
static u8 in_buf[L4_CON_MAX] __attribute__((aligned(4096)));  /* WRITE strings land here */
static u8 out_buf[L4_CON_MAX] __attribute__((aligned(4096))); /* READ replies go from here */

static struct reader {
	l4_tid_t tid;
	u64 max;
} readers[L4_CON_READERS]; /* waiting, oldest first */
static u32 nreaders;

/* ---- the UART ------------------------------------------------------------ */

/* Take whatever the UART has received (what does not fit is dropped). */
static void drain_input(void)
{
	while (l4_inb(COM1 + LSR) & LSR_DR) {
		u8 c = l4_inb(COM1 + RBR);
		if (ring_count < RING)
			ring[(ring_head + ring_count++) % RING] = c;
	}
}

/* Waiting for the transmitter we also take input, so that a long write
 * does not overrun the receive FIFO. */
static void put_byte(u8 c)
{
	u8 lsr;
	while (!((lsr = l4_inb(COM1 + LSR)) & LSR_THRE))
		if (lsr & LSR_DR)
			drain_input();
	l4_outb(COM1 + RBR, c);
}

static void write_bytes(const u8 *p, u64 n)
{
	for (u64 i = 0; i < n; i++) {
		if (p[i] == '\n')
			put_byte('\r');
		put_byte(p[i]);
	}
}

/* 115200 baud 8N1 as the kernel left it; FIFO on without clearing it (the
 * bytes in it are input nobody has read yet), interrupt at every byte;
 * only the receive interrupt; OUT2, which connects the UART's interrupt to
 * the PC's IRQ line. */
static void uart_init(void)
{
	l4_outb(COM1 + IER, 0);
	l4_outb(COM1 + LCR, 0x80);
	l4_outb(COM1 + 0, 1);
	l4_outb(COM1 + 1, 0);
	l4_outb(COM1 + LCR, 0x03);
	l4_outb(COM1 + FCR, 0x01);
	l4_outb(COM1 + MCR, 0x0b); /* DTR, RTS, OUT2 */
	l4_outb(COM1 + IER, 0x01);
	drain_input(); /* what came before: its interrupt edge may be gone */
}

/* ---- start-up -------------------------------------------------------------- */

/* Fault in our image and some stack now: a page fault later would wait
 * for the root task, which a busy program that raised its priority
 * outranks.  (The root task maps a page with all its rights at the first
 * touch, a read.) */
static void prefault(void)
{
	volatile u8 stack[16384];
	for (u64 i = 0; i < sizeof(stack); i += 4096)
		stack[i] = 0;
	extern char _end[];
	for (u64 a = L4_IMAGE_BASE; a < (u64)_end; a += 4096)
		l4_touch(a, false);
}

/* ---- requests ---------------------------------------------------------------- */

/* A WRITE: u words, then the string item (its length, our buffer). */
static void serve_write(struct l4_msg *m, u64 tag)
{
	u64 u = L4_TAG_U(tag);
	s64 written = -L4_EINVAL;
	if (L4_TAG_T(tag) == 2 && u + 2 < L4_MR_REGS && (m->mr[u + 1] & 0xf) == L4_ITEM_STRING) {
		u64 n = L4_STRING_LEN(m->mr[u + 1]);
		write_bytes(in_buf, n);
		written = (s64)n;
	}
	*m = (struct l4_msg){ { L4_TAG_MAKE(0, 1, 0), (u64)written } };
}

/* Hands up to r->max buffered bytes to r; they stay buffered if r does
 * not take them. */
static void answer_reader(const struct reader *r)
{
	u64 n = ring_count < r->max ? ring_count : r->max;
	for (u64 i = 0; i < n; i++)
		out_buf[i] = ring[(ring_head + i) % RING];
	struct l4_msg m = { { L4_TAG_MAKE(0, 1, 2), n, L4_STRING_ITEM(n), (u64)out_buf } };
	if (l4_ipc_failed(l4_ipc(r->tid, L4_NILTHREAD, L4_POLL, &m, NULL)))
		return;
	ring_head = (ring_head + (u32)n) % RING;
	ring_count -= (u32)n;
}

/* The oldest readers get the input there is; one that does not take it
 * (not waiting any more, gone) is dropped. */
static void serve_readers(void)
{
	while (nreaders && ring_count) {
		answer_reader(&readers[0]);
		nreaders--;
		for (u32 i = 0; i < nreaders; i++)
			readers[i] = readers[i + 1];
	}
}

/* A READ: queued (or its earlier request updated); returns whether to
 * reply at once with m. */
static bool serve_read(struct l4_msg *m, u64 tag, l4_tid_t from)
{
	u64 max = L4_TAG_U(tag) >= 1 ? m->mr[1] : 0;
	if (max == 0) {
		*m = (struct l4_msg){ { L4_TAG_MAKE(0, 1, 0), 0 } };
		return true;
	}
	u32 i = 0;
	while (i < nreaders && readers[i].tid != from)
		i++;
	if (i == L4_CON_READERS) {
		*m = (struct l4_msg){ { L4_TAG_MAKE(0, 1, 0), (u64)-L4_EBUSY } };
		return true;
	}
	readers[i] = (struct reader){ from, max < L4_CON_MAX ? max : L4_CON_MAX };
	if (i == nreaders)
		nreaders++;
	serve_readers();
	return false;
}

/* ---- the loop ------------------------------------------------------------------ */

int main(void)
{
	prefault();
	if (!l4_parent_get_io(COM1, 3)) {
		printf("uart: the parent gave us no ports\n");
		return 1;
	}
	uart_init();
	struct l4_msg m = { { L4_TAG_MAKE(L4_LABEL_READY, 0, 0) } };
	l4_call(l4_parent, &m);
	struct l4_utcb *u = l4_utcb();
	u->buf_count = 1;
	u->buf[0] = (struct l4_buffer){ (u64)in_buf, sizeof(in_buf) };
	l4_tid_t from;
	u64 tag = l4_wait(&m, &from);
	for (;;) {
		bool reply = false;
		u64 label = L4_TAG_LABEL(tag);
		if (l4_ipc_failed(tag)) {
			/* a request that failed in the transfer, or our reply did */
		} else if (from == L4_IRQ_TID(COM1_IRQ) && label == L4_LABEL_INTERRUPT) {
			drain_input();
			serve_readers();
			reply = true; /* the acknowledgment */
			m.mr[0] = 0;
		} else if (label == L4_LABEL_CON_WRITE) {
			serve_write(&m, tag);
			serve_readers(); /* input may have come in meanwhile */
			reply = true;
		} else if (label == L4_LABEL_CON_READ) {
			reply = serve_read(&m, tag, from);
		} else if (!L4_IS_IRQ_TID(from)) {
			m = (struct l4_msg){ { L4_TAG_MAKE(0, 1, 0), (u64)-L4_EINVAL } };
			reply = true;
		}
		tag = reply ? l4_reply_wait(from, &m, &from) : l4_wait(&m, &from);
	}
}
