/* The console client (see l4/console.h). */
#include <l4/console.h>

u64 l4_con_write_once(l4_tid_t con, const void *buf, usize len, s64 *written)
{
	struct l4_msg m = { { L4_TAG_MAKE(L4_LABEL_CON_WRITE, 0, 2), L4_STRING_ITEM(len), (u64)buf } };
	u64 tag = l4_call(con, &m);
	if (!l4_ipc_failed(tag))
		*written = L4_TAG_U(tag) >= 1 ? (s64)m.mr[1] : -L4_EINVAL;
	return tag;
}

s64 l4_con_write(l4_tid_t con, const void *buf, usize len)
{
	const u8 *p = buf;
	usize done = 0;
	do {
		usize n = len - done < L4_CON_MAX ? len - done : L4_CON_MAX;
		s64 w = 0;
		u64 tag = l4_con_write_once(con, p + done, n, &w);
		if (l4_ipc_failed(tag))
			return done ? (s64)done : L4_CON_EIPC(L4_IPC_ERRCODE(tag));
		if (w < 0)
			return done ? (s64)done : w;
		done += (usize)w;
		if ((usize)w < n)
			break;
	} while (done < len);
	return (s64)done;
}

/* The reply comes with a zero send timeout, so the buffer's pages must be
 * there (writable) before we wait: a missing one fails the reply. */
static void touch_buffer(u8 *buf, usize n)
{
	for (u64 a = (u64)buf & ~0xfffull; a < (u64)buf + n; a += 4096)
		l4_touch(a < (u64)buf ? (u64)buf : a, true);
}

s64 l4_con_read(l4_tid_t con, void *buf, usize max)
{
	if (max > L4_CON_MAX)
		max = L4_CON_MAX;
	struct l4_utcb *u = l4_utcb();
	u32 old_count = u->buf_count;
	struct l4_buffer old_buf = u->buf[0];
	u64 tag;
	struct l4_msg m;
	do { /* again after XFER: a page was taken away while we waited */
		touch_buffer(buf, max);
		u->buf_count = 1;
		u->buf[0] = (struct l4_buffer){ (u64)buf, max };
		m = (struct l4_msg){ { L4_TAG_MAKE(L4_LABEL_CON_READ, 1, 0), max } };
		tag = l4_call(con, &m);
	} while (l4_ipc_failed(tag) && L4_IPC_ERRCODE(tag) == L4_IPC_XFER && (tag & L4_TAG_RECV_PHASE));
	u->buf_count = old_count;
	u->buf[0] = old_buf;
	if (l4_ipc_failed(tag))
		return L4_CON_EIPC(L4_IPC_ERRCODE(tag));
	if (L4_TAG_U(tag) < 1)
		return -L4_EINVAL;
	return (s64)m.mr[1];
}
