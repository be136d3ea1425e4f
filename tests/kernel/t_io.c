/*
 * I/O ports and interrupts.  Without authority an ordinary task cannot
 * attach an interrupt, receive from or acknowledge one, and an in/out
 * without the ports reaches its exception handler as a general-protection
 * exception.  With them (test.cfg: "devices irq=8 io=0x70/1", the CMOS
 * RTC): the ports work in all our threads, pass to another task with a map
 * item and are revoked by Unmap; the RTC's periodic interrupt arrives as
 * messages, and one that comes while the last is unacknowledged waits for
 * the acknowledgment.
 */
#include "util.h"

static test_stack_t stack;
static volatile u64 at_rip;

static void do_in(u64 port)
{
	u32 v;
	__asm__ volatile("lea 1f(%%rip), %%rcx; mov %%rcx, %1; 1: inb %w2, %%al"
			 : "=a"(v), "=m"(at_rip)
			 : "d"(port)
			 : "rcx", "memory");
	(void)v;
	for (;;)
		l4_yield(); /* not reached: the handler deletes us */
}

static void do_out(u64 port)
{
	__asm__ volatile("lea 1f(%%rip), %%rcx; mov %%rcx, %0; 1: outb %%al, %w1" : "=m"(at_rip) : "d"(port), "a"(0) : "rcx", "memory");
	for (;;)
		l4_yield();
}

/* Run fn(port) in a thread whose exception handler is us; returns the
 * exception message's vector, or ~0 if none came. */
static u64 port_access_faults(l4_thread_fn fn, u64 port, u64 *rip)
{
	l4_tid_t t;
	if (l4_create_thread_ex(l4_myself(), l4_parent, 0, l4_myself(), &t) < 0)
		return ~0ull;
	at_rip = 0;
	l4_start_fn(t, fn, port, stack, sizeof(stack));
	struct l4_msg m;
	u64 tag = l4_ipc(L4_NILTHREAD, t, L4_TIMEOUTS(0, 1000000), &m, NULL);
	l4_delete_thread(t);
	if (l4_ipc_failed(tag) || L4_TAG_LABEL(tag) != L4_LABEL_EXCEPTION)
		return ~0ull;
	*rip = m.mr[L4_EXC_RIP];
	return m.mr[L4_EXC_VECTOR];
}

static void test_ports_denied(void)
{
	static const u16 ports[] = { 0x3f8, 0x80, 0x70, 0xcf8, 0xffff };
	for (unsigned i = 0; i < ARRAY_SIZE(ports); i++) {
		u64 rip = 0, v = port_access_faults(do_in, ports[i], &rip);
		t_check(v == 13 && rip == at_rip, "inb from port 0x%x without it: #GP to the handler at the instruction (vector %llu)", ports[i], v);
		v = port_access_faults(do_out, ports[i], &rip);
		t_check(v == 13 && rip == at_rip, "outb to port 0x%x without it: #GP to the handler (vector %llu)", ports[i], v);
	}
}

static void test_interrupts_denied(void)
{
	t_check(l4_attach_irq(L4_IRQ_TID(4), l4_myself()) == -L4_ENOPERM, "an unprivileged task cannot attach IRQ 4");
	t_check(l4_attach_irq(L4_IRQ_TID(1), L4_NILTHREAD) == -L4_ENOPERM, "nor detach IRQ 1");
	struct l4_msg m = { { 0 } };
	u64 tag = l4_ipc(L4_NILTHREAD, L4_IRQ_TID(4), L4_TIMEOUTS(0, 0), &m, NULL);
	t_check(ipc_error(tag, L4_IPC_NOPARTNER, true), "receiving from IRQ 4 that is not ours: no partner");
	m.mr[0] = 0;
	tag = l4_ipc(L4_IRQ_TID(4), L4_NILTHREAD, L4_TIMEOUTS(0, 0), &m, NULL);
	t_check(ipc_error(tag, L4_IPC_NOPARTNER, false), "acknowledging IRQ 4 that is not ours: no partner");
	m.mr[0] = 0;
	tag = l4_ipc(L4_IRQ_TID(L4_IRQ_LINES), L4_NILTHREAD, L4_TIMEOUTS(0, 0), &m, NULL);
	t_check(ipc_error(tag, L4_IPC_NOPARTNER, false), "an interrupt line that does not exist: no partner");
	m.mr[0] = L4_TAG_MAKE(L4_LABEL_INTERRUPT, 0, 0);
	tag = l4_ipc(l4_parent, L4_NILTHREAD, L4_TIMEOUTS(0, 0), &m, NULL);
	t_check(ipc_error(tag, L4_IPC_BADMSG, false), "a forged interrupt message is refused");
}

static void test_io_fpages(void)
{
	t_check(l4_unmap(L4_IO_FPAGE(0x3f9, 3), 0) == -L4_EINVAL, "Unmap of a misaligned I/O fpage: EINVAL");
	t_check(l4_unmap(L4_IO_FPAGE(0, 17), L4_UNMAP_SELF) == -L4_EINVAL, "Unmap of an I/O fpage over 64 Ki ports: EINVAL");
	t_check(l4_unmap(L4_IO_FPAGE(0x3f8, 3), L4_UNMAP_SELF) == 0, "Unmap of ports we do not have: nothing to do");
	/* sigma0 gives ports to privileged tasks only */
	struct l4_utcb *u = l4_utcb();
	u->rcv_window = L4_FPAGE_COMPLETE;
	struct l4_msg m = { { L4_TAG_MAKE(L4_LABEL_SIGMA0, 2, 0), L4_IO_FPAGE(0x3f8, 3), 0 } };
	u64 tag = l4_call(l4_kip()->sigma0, &m);
	u->rcv_window = 0;
	t_check(!l4_ipc_failed(tag) && L4_TAG_T(tag) == 0, "sigma0 refuses COM1's ports to an unprivileged task");
	u64 rip, v = port_access_faults(do_in, 0x3f8, &rip);
	t_check(v == 13, "and the port still faults afterwards");
}

/* ---- with the CMOS ports and IRQ 8 ---------------------------------------- */

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_IRQ 8
#define NO_FAULT 0x1000

static u8 cmos_read(u8 reg)
{
	l4_outb(CMOS_INDEX, reg);
	return l4_inb(CMOS_DATA);
}

static void cmos_write(u8 reg, u8 v)
{
	l4_outb(CMOS_INDEX, reg);
	l4_outb(CMOS_DATA, v);
}

/* Reads a CMOS register, then tells the parent it did. */
static void read_then_report(u64 parent)
{
	(void)cmos_read(0x0a);
	struct l4_msg m = { { L4_TAG_MAKE(0, 0, 0) } };
	l4_send(parent, &m);
	for (;;)
		l4_receive(l4_myself(), &m);
}

/* NO_FAULT if thread t reports, else the vector of its exception. */
static u64 outcome(l4_tid_t t)
{
	struct l4_msg m;
	u64 tag = l4_ipc(L4_NILTHREAD, t, L4_TIMEOUTS(0, 1000000), &m, NULL);
	if (l4_ipc_failed(tag))
		return ~0ull;
	return L4_TAG_LABEL(tag) == L4_LABEL_EXCEPTION ? m.mr[L4_EXC_VECTOR] : NO_FAULT;
}

static u64 in_other_thread(void)
{
	l4_tid_t t;
	if (l4_create_thread_ex(l4_myself(), l4_parent, 0, l4_myself(), &t) < 0)
		return ~0ull;
	l4_start_fn(t, read_then_report, l4_myself(), stack, sizeof(stack));
	u64 r = outcome(t);
	l4_delete_thread(t);
	return r;
}

/* In another task: take the ports we map, read, report; read again when
 * told to. */
static void port_child(u64 parent)
{
	struct l4_utcb *u = l4_utcb();
	u->rcv_window = L4_IO_FPAGE(CMOS_INDEX, 1);
	struct l4_msg m;
	l4_receive(parent, &m);
	u->rcv_window = 0;
	(void)cmos_read(0x0a);
	m.mr[0] = 0;
	l4_call(parent, &m); /* we could read; the answer comes after the Unmap */
	(void)cmos_read(0x0a);
	m.mr[0] = 0;
	l4_send(parent, &m); /* not reached: the ports are gone */
	for (;;)
		l4_receive(l4_myself(), &m);
}

static void test_ports_given(void)
{
	t_check(!l4_parent_get_io(0x3f8, 3), "the root task refuses ports our devices line does not name");
	t_check(l4_parent_get_io(CMOS_INDEX, 1), "and gives the CMOS ports it names");
	u8 a = cmos_read(0x0a);
	cmos_write(0x0a, (u8)((a & 0xf0) | 0x06));
	t_check((cmos_read(0x0a) & 0x0f) == 0x06, "our first thread writes and reads the RTC's register A");
	t_check(in_other_thread() == NO_FAULT, "another thread of our task uses the ports too");

	/* to a thread in another task, and back */
	static test_stack_t child_stack;
	l4_tid_t t, me = l4_myself();
	if (!t_check(l4_create_thread_ex(L4_NEWTASK, l4_mirror_pager_start(), 0, me, &t) == 0, "a task for the ports"))
		return;
	l4_start_fn(t, port_child, me, child_stack, sizeof(child_stack));
	struct l4_msg m;
	l4_map_msg(&m, 0, L4_IO_FPAGE(CMOS_INDEX, 1), false);
	u64 tag = l4_ipc(t, L4_NILTHREAD, L4_TIMEOUTS(1000000, 0), &m, NULL);
	t_check(!l4_ipc_failed(tag), "the ports go to the other task in a map item");
	t_check(outcome(t) == NO_FAULT, "which reads the RTC with them");
	t_check(l4_unmap(L4_IO_FPAGE(CMOS_INDEX, 1), 0) == 0, "Unmap of the I/O fpage");
	m.mr[0] = 0;
	l4_ipc(t, L4_NILTHREAD, L4_TIMEOUTS(1000000, 0), &m, NULL);
	t_check(outcome(t) == 13, "takes them from the other task: its next in/out is a #GP");
	l4_delete_task(t);
	t_check(in_other_thread() == NO_FAULT, "and leaves ours");
	(void)cmos_read(0x0a); /* this thread: still there (else we would stop here) */
}

/* The next message from the RTC's interrupt within ms milliseconds. */
static bool rtc_interrupt(u32 ms)
{
	struct l4_msg m;
	l4_tid_t from;
	u64 tag = l4_ipc(L4_NILTHREAD, L4_IRQ_TID(RTC_IRQ), L4_TIMEOUTS(0, ms * 1000), &m, &from);
	return !l4_ipc_failed(tag) && L4_TAG_LABEL(tag) == L4_LABEL_INTERRUPT && L4_TAG_U(tag) == 0 &&
	       from == L4_IRQ_TID(RTC_IRQ);
}

static void rtc_ack(void)
{
	struct l4_msg m = { { 0 } };
	l4_ipc(L4_IRQ_TID(RTC_IRQ), L4_NILTHREAD, L4_POLL, &m, NULL);
}

static void sleep_ms(u32 ms)
{
	struct l4_msg m;
	l4_ipc(L4_NILTHREAD, l4_myself(), L4_TIMEOUTS(0, ms * 1000), &m, NULL);
}

static void test_rtc_interrupts(void)
{
	u8 b = cmos_read(0x0b);
	cmos_write(0x0a, (u8)((cmos_read(0x0a) & 0xf0) | 0x06)); /* 1024 Hz */
	(void)cmos_read(0x0c);                                     /* no old flags */
	cmos_write(0x0b, b | 0x40);                                /* periodic interrupt on */
	int got = 0;
	for (int i = 0; i < 5; i++) {
		if (!rtc_interrupt(1000))
			break;
		got++;
		(void)cmos_read(0x0c); /* the RTC lowers its line and can raise it again */
		rtc_ack();
	}
	t_check(got == 5, "five periodic RTC interrupts arrive as messages from IRQ 8 (%d)", got);

	t_check(rtc_interrupt(1000), "one more");
	for (int i = 0; i < 5; i++) {
		(void)cmos_read(0x0c); /* the RTC fires again: we have not acknowledged */
		sleep_ms(3);
	}
	struct l4_msg m;
	u64 tag = l4_ipc(L4_NILTHREAD, L4_IRQ_TID(RTC_IRQ), L4_POLL, &m, NULL);
	t_check(ipc_error(tag, L4_IPC_TIMEOUT, true), "nothing is delivered before the acknowledgment");
	rtc_ack();
	t_check(rtc_interrupt(0), "after it, the interrupt that came meanwhile is there at once");
	tag = l4_ipc(L4_NILTHREAD, L4_IRQ_TID(RTC_IRQ), L4_POLL, &m, NULL);
	t_check(ipc_error(tag, L4_IPC_TIMEOUT, true), "and only one, however often the line fired");
	cmos_write(0x0b, b & (u8)~0x40);
	(void)cmos_read(0x0c);
	rtc_ack();
	t_check(l4_attach_irq(L4_IRQ_TID(RTC_IRQ), L4_NILTHREAD) == -L4_ENOPERM, "the handler itself cannot detach its line");
}

int main(void)
{
	test_ports_denied();
	test_interrupts_denied();
	test_io_fpages();
	test_ports_given();
	test_rtc_interrupts();
	return t_done("t_io");
}
