/*
 * Interrupts as IPC.  Interrupt line n (IOAPIC input n; on the PC the ISA
 * IRQs 1..15 are inputs 1..15) sends an empty message with the label
 * L4_LABEL_INTERRUPT from the ID L4_IRQ_TID(n) to the one thread attached
 * to it.  The line then delivers nothing more until that thread
 * acknowledges by sending to the ID.
 *
 * "Masked until acknowledged" is done in hardware for level-triggered lines
 * (the IOAPIC mask bit); an edge-triggered line stays open in the IOAPIC and
 * the kernel keeps an edge that arrives in service pending, because an
 * IOAPIC drops edges on a masked input: a device that raised its line while
 * masked would never interrupt again.
 */
#include "thread.h"

#define IOAPIC_PHYS 0xfec00000ull
#define IOAPIC_VERSION 1
#define IOAPIC_RTE(n) (0x10 + 2 * (n))
#define RTE_ACTIVE_LOW (1u << 13)
#define RTE_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)
#define ISA_LINES 16 /* edge-triggered, active high; the rest are PCI lines */

struct irq_line {
	struct tcb *handler;
	bool pending;    /* arrived, not yet delivered */
	bool in_service; /* delivered, not yet acknowledged */
};

static struct irq_line lines[L4_IRQ_LINES];
static unsigned nlines;
static volatile u32 *ioapic;

static u32 ioapic_read(u32 reg)
{
	ioapic[0] = reg;
	return ioapic[4];
}

static void ioapic_write(u32 reg, u32 v)
{
	ioapic[0] = reg;
	ioapic[4] = v;
}

static bool level_triggered(unsigned n) { return n >= ISA_LINES; }

static void line_set_masked(unsigned n, bool masked)
{
	u32 rte = (VEC_IRQ_BASE + n) | (level_triggered(n) ? RTE_LEVEL | RTE_ACTIVE_LOW : 0);
	ioapic_write(IOAPIC_RTE(n), rte | (masked ? RTE_MASKED : 0));
}

void irq_init(void)
{
	if (!kmap_mmio(IOAPIC_PHYS))
		panic("cannot map the IOAPIC");
	ioapic = (volatile u32 *)P2V(IOAPIC_PHYS);
	u32 version = ioapic_read(IOAPIC_VERSION);
	nlines = version == 0xffffffff ? 0 : ((version >> 16) & 0xff) + 1;
	if (nlines > L4_IRQ_LINES)
		nlines = L4_IRQ_LINES;
	for (unsigned n = 0; n < nlines; n++) {
		ioapic_write(IOAPIC_RTE(n) + 1, lapic_id() << 24);
		line_set_masked(n, true);
	}
	printk("irq: IOAPIC with %u lines\n", nlines);
}

static struct irq_line *line_of(l4_tid_t id)
{
	if (!L4_IS_IRQ_TID(id) || L4_IRQ_NUMBER(id) >= nlines)
		return NULL;
	return &lines[L4_IRQ_NUMBER(id)];
}

static unsigned line_number(struct irq_line *l) { return (unsigned)(l - lines); }

static bool deliverable(struct irq_line *l) { return l->pending && !l->in_service; }

/* TF_IRQ_PENDING: some line of t has an interrupt t has not yet received.
 * The fast path declines such a thread's receive, so only the general path
 * needs to look at the lines. */
static void update_pending_flag(struct tcb *t)
{
	t->flags &= ~TF_IRQ_PENDING;
	for (unsigned n = 0; n < nlines; n++)
		if (lines[n].handler == t && deliverable(&lines[n]))
			t->flags |= TF_IRQ_PENDING;
}

/* The interrupt message, written where t's IPC result goes. */
static void deliver(struct tcb *t, struct irq_line *l)
{
	l->pending = false;
	l->in_service = true;
	t->msg[0] = L4_TAG_MAKE(L4_LABEL_INTERRUPT, 0, 0);
	TCB_FRAME(t)->rsi = L4_IRQ_TID(line_number(l));
}

/* As for a message from a thread, a halted receiver gets it too (and
 * stays halted); one inside a page fault's IPC is not receiving for us. */
static bool waits_for(struct tcb *t, struct irq_line *l)
{
	return t->state == TS_RECV && !(t->flags & TF_KERNEL_MSG) &&
	       (t->wait_from == L4_ANYTHREAD || t->wait_from == L4_IRQ_TID(line_number(l)));
}

/* The interrupt vector of line n fired. */
void irq_raise(unsigned n)
{
	struct irq_line *l = &lines[n];
	struct tcb *h = l->handler;
	/* a level line until acknowledged (the device holds it); any line
	 * detached while its interrupt was in flight */
	if (level_triggered(n) || !h)
		line_set_masked(n, true);
	lapic_eoi();
	if (!h)
		return;
	l->pending = true;
	if (!deliverable(l))
		return;
	if (waits_for(h, l)) {
		deliver(h, l);
		sched_make_ready(h);
		sched_preempt_check();
	} else {
		h->flags |= TF_IRQ_PENDING;
	}
}

/* cur's receive phase from `from` (a thread, an interrupt ID or any), with
 * TF_IRQ_PENDING set: takes an interrupt that waits for cur.  Interrupts
 * come before senders. */
bool irq_receive(struct tcb *cur, l4_tid_t from)
{
	for (unsigned n = 0; n < nlines; n++) {
		struct irq_line *l = &lines[n];
		if (l->handler == cur && deliverable(l) && (from == L4_ANYTHREAD || from == L4_IRQ_TID(n))) {
			deliver(cur, l);
			update_pending_flag(cur);
			return true;
		}
	}
	return false;
}

/* May t receive from the interrupt ID? */
bool irq_is_handler(l4_tid_t id, struct tcb *t)
{
	struct irq_line *l = line_of(id);
	return l && l->handler == t;
}

/* cur sends to an interrupt ID: the acknowledgment. */
enum l4_ipc_error irq_ack(struct tcb *cur, l4_tid_t id)
{
	struct irq_line *l = line_of(id);
	if (!l || l->handler != cur)
		return L4_IPC_NOPARTNER;
	if (l->in_service) {
		l->in_service = false;
		if (level_triggered(line_number(l)))
			line_set_masked(line_number(l), false);
		update_pending_flag(cur);
	}
	return L4_IPC_OK;
}

static void detach(struct irq_line *l)
{
	struct tcb *h = l->handler;
	l4_tid_t id = L4_IRQ_TID(line_number(l));
	line_set_masked(line_number(l), true);
	*l = (struct irq_line){ NULL, false, false };
	update_pending_flag(h);
	if (h->state == TS_RECV && h->wait_from == id)
		ipc_abort(h, L4_IPC_NOPARTNER);
}

/* Attach line id to h (NULL: detach it).  A new handler starts with the
 * line unmasked and nothing pending. */
int irq_attach(l4_tid_t id, struct tcb *h)
{
	struct irq_line *l = line_of(id);
	if (!l)
		return L4_EINVAL;
	if (l->handler)
		detach(l);
	if (h) {
		l->handler = h;
		line_set_masked(line_number(l), false);
	}
	return L4_OK;
}

/* t is being deleted: its lines are masked and free again. */
void irq_thread_deleted(struct tcb *t)
{
	for (unsigned n = 0; n < nlines; n++)
		if (lines[n].handler == t)
			detach(&lines[n]);
}
