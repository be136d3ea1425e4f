/*
 * The console protocol, served by the UART driver (servers/drivers/uart/).
 * Programs learn the driver's thread from the root task (L4_AT_CONSOLE in
 * the auxiliary vector, the runtime's l4_console).
 *
 * WRITE: a call, label L4_LABEL_CON_WRITE, with one string item of at most
 *   L4_CON_MAX bytes (u = 0 or any untyped words before it).  The driver
 *   writes all the bytes ("\n" as "\r\n") and then replies u = 1, MR1 = the
 *   bytes written.  Requests are served one at a time, in the order they
 *   arrive (the driver's send queue), and each one's bytes appear together:
 *   the driver runs above every program and writes a request out before it
 *   receives the next.  A request without a string item gets MR1 =
 *   -L4_EINVAL; one whose string fails the kernel's checks (a bad address,
 *   more than L4_CON_MAX bytes) fails in the IPC (BADMSG, OVERFLOW, XFER)
 *   and the driver just goes on.
 *
 * READ: a call, label L4_LABEL_CON_READ, MR1 = the most bytes wanted (at
 *   most L4_CON_MAX; more counts as L4_CON_MAX), with the caller's UTCB
 *   buf_count >= 1 and buf[0] its buffer.  The driver replies once at least
 *   one byte has arrived: u = 1, MR1 = n (1..max), and one string item with
 *   the n bytes.  Raw input: no echo, no line editing, "\r" as typed.
 *   Readers waiting together are served in the order they asked; a reader
 *   that asks again while it waits just updates its request.  MR1 = 0 is
 *   answered at once with n = 0 and no item; more than L4_CON_READERS
 *   waiting readers, with MR1 = -L4_EBUSY.  The driver replies with a zero
 *   send timeout: a reader that has stopped waiting (or is gone) gets
 *   nothing and its bytes go to the next one; a missing page of the buffer
 *   makes the reply fail with XFER (so touch the buffer first; the library
 *   does, and tries again).
 *
 * Input arriving while nobody reads waits in the driver (4 KiB; what does
 * not fit is dropped).  The kernel still writes its own messages (boot,
 * panics) to the same UART directly.
 */
#ifndef L4_CONSOLE_H
#define L4_CONSOLE_H

#include <l4/runtime.h>

#define L4_LABEL_CON_WRITE 0xc0001ull
#define L4_LABEL_CON_READ 0xc0002ull
#define L4_CON_MAX 4096   /* bytes per request */
#define L4_CON_READERS 16 /* readers that may wait at once */

/* What the library returns for a failed IPC with error code e. */
#define L4_CON_EIPC(e) (-(s64)(0x100 + (e)))

/* Writes all len bytes, in requests of at most L4_CON_MAX bytes.  Returns
 * len, the bytes written before a request failed, or (nothing written) a
 * negative value: L4_CON_EIPC(error) or the driver's -enum l4_error. */
s64 l4_con_write(l4_tid_t con, const void *buf, usize len);
/* One WRITE request (len <= L4_CON_MAX): the reply's tag, and MR1 (the
 * bytes written or -enum l4_error) in *written if the IPC succeeded.  An
 * error in the send phase means the driver never got the request. */
u64 l4_con_write_once(l4_tid_t con, const void *buf, usize len, s64 *written);
/* Blocks until input is there; returns 1..max bytes read into buf, 0 for
 * max = 0, or a negative value as for l4_con_write. */
s64 l4_con_read(l4_tid_t con, void *buf, usize max);

#endif
