/*
 * I/O ports and interrupts without authority: an ordinary task cannot
 * attach an interrupt, receive from or acknowledge one, and an in/out
 * without the ports reaches its exception handler as a general-protection
 * exception.  (The console driver's test, t_console, shows the working
 * side: ports and an interrupt given to an unprivileged driver.)
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

int main(void)
{
	test_ports_denied();
	test_interrupts_denied();
	test_io_fpages();
	return t_done("t_io");
}
