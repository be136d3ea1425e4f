/*
 * sigma0: the root pager.  The kernel gives it every page of RAM and boot
 * modules, mapped one-to-one.  It hands each page out once, to whoever asks
 * first, mapped at the same address in the receiver; it refuses kernel and
 * reserved memory and pages already given.
 *
 * It also owns all I/O ports and hands each port range out once, to
 * privileged tasks only, like device memory.
 *
 * Protocol: label L4_LABEL_SIGMA0, MR1 = fpage (base all ones = any free
 * page) or I/O fpage, MR2 = 0.  Reply: one map item, or label 1 (refused)
 * with no items.
 */
#include <l4/runtime.h>
#include "../../lib/common/string.h"

#define ANY_PAGE (~0ull & ~0xfffull)
#define MAX_REQUEST_LOG2 22 /* at most 4 MiB per request */

static u8 *given;      /* one bit per physical page */
static u64 npages;     /* pages covered by the bitmap */
static u64 any_cursor; /* where the next "any page" search starts (downwards) */

static bool is_given(u64 pfn) { return given[pfn / 8] & (1u << (pfn % 8)); }
static void set_given(u64 pfn) { given[pfn / 8] |= (u8)(1u << (pfn % 8)); }
static void clear_given(u64 pfn) { given[pfn / 8] &= (u8)~(1u << (pfn % 8)); }

static bool may_give(u64 pa, bool modules_too)
{
	u64 pfn = pa >> 12;
	if (pfn >= npages || is_given(pfn))
		return false;
	u32 type = l4_kip_mem_type(l4_kip(), pa);
	return type == L4_MEM_FREE || (modules_too && type == L4_MEM_MODULE);
}

/* Device memory: physical addresses the KIP does not describe, below
 * 1 TiB, for privileged tasks only, each region once. */
#define MAX_DEVICE_GRANTS 64
static struct { u64 base, end; } devices_given[MAX_DEVICE_GRANTS];
static u32 ndevices_given;

static bool is_privileged(l4_tid_t t)
{
	struct l4_exreg x = { 0, 0, 0, 0, 0, 0 };
	return l4_exchange_registers(t, &x) == 0 && (x.state & L4_EXREG_STATE_PRIVILEGED);
}

static bool may_give_device(u64 base, u64 size, l4_tid_t client)
{
	if (base >= (1ull << 40) || size > (1ull << 40) - base || ndevices_given == MAX_DEVICE_GRANTS)
		return false;
	for (u64 off = 0; off < size; off += 4096)
		if (l4_kip_mem_type(l4_kip(), base + off) != 0)
			return false;
	for (u32 i = 0; i < ndevices_given; i++)
		if (base < devices_given[i].end && devices_given[i].base < base + size)
			return false;
	return is_privileged(client);
}

/* I/O ports: port ranges, for privileged tasks only, each port once. */
#define MAX_IO_GRANTS 64
static struct { u32 base, end; } io_given[MAX_IO_GRANTS];
static u32 nio_given;

static bool may_give_io(u32 port, unsigned log2, l4_tid_t client)
{
	if (log2 > 16 || (port & ((1u << log2) - 1)) || nio_given == MAX_IO_GRANTS)
		return false;
	for (u32 i = 0; i < nio_given; i++)
		if (port < io_given[i].end && io_given[i].base < port + (1u << log2))
			return false;
	return is_privileged(client);
}

static void serve_io(struct l4_msg *m, l4_tid_t client)
{
	u32 port = (u32)L4_IO_FPAGE_PORT(m->mr[1]);
	unsigned log2 = L4_FPAGE_LOG2(m->mr[1]);
	if (!may_give_io(port, log2, client)) {
		m->mr[0] = L4_TAG_MAKE(1, 0, 0);
		return;
	}
	io_given[nio_given].base = port;
	io_given[nio_given++].end = port + (1u << log2);
	l4_map_msg(m, 0, L4_IO_FPAGE(port, log2), false);
}

/* The bitmap lives in the first free pages we find. */
static void init_bitmap(void)
{
	const struct l4_kip *k = l4_kip();
	u64 top = 0;
	for (u32 i = 0; i < k->n_mem; i++)
		if (k->mem[i].type == L4_MEM_FREE && k->mem[i].base + k->mem[i].size > top)
			top = k->mem[i].base + k->mem[i].size;
	npages = top >> 12;
	u64 bytes = (npages / 8 + 4095) & ~4095ull;
	for (u64 pa = 0x100000; pa + bytes <= top; pa += 4096) {
		u64 n = 0;
		while (n < bytes && l4_kip_mem_type(k, pa + n) == L4_MEM_FREE)
			n += 4096;
		if (n == bytes) {
			given = (u8 *)pa;
			memset(given, 0, bytes);
			for (u64 p = pa; p < pa + bytes; p += 4096)
				set_given(p >> 12);
			any_cursor = npages;
			printf("sigma0: %llu pages of RAM, bitmap at %llx\n", npages, pa);
			return;
		}
		pa += n;
	}
	printf("sigma0: no room for the page bitmap\n");
	l4_exit(1);
}

static u64 find_any_page(void)
{
	for (u64 n = 0; n < npages; n++) {
		any_cursor = any_cursor == 0 ? npages - 1 : any_cursor - 1;
		if (may_give(any_cursor << 12, false))
			return any_cursor << 12;
	}
	return ~0ull;
}

/* Fill m with the reply to one request. */
static void serve(struct l4_msg *m, l4_tid_t client)
{
	l4_fpage_t fp = m->mr[1];
	if (L4_IS_IO_FPAGE(fp)) {
		serve_io(m, client);
		return;
	}
	unsigned log2 = L4_FPAGE_LOG2(fp);
	u64 base = L4_FPAGE_BASE(fp);
	if (base == ANY_PAGE) {
		base = find_any_page();
		log2 = 12;
	}
	bool ok = log2 >= 12 && log2 <= MAX_REQUEST_LOG2 && base != ~0ull &&
		  (base & ((1ull << log2) - 1)) == 0;
	if (ok && l4_kip_mem_type(l4_kip(), base) == 0) {
		if (!may_give_device(base, 1ull << log2, client)) {
			m->mr[0] = L4_TAG_MAKE(1, 0, 0);
			return;
		}
		devices_given[ndevices_given].base = base;
		devices_given[ndevices_given++].end = base + (1ull << log2);
	} else {
		bool module = false;
		for (u64 off = 0; ok && off < (1ull << log2); off += 4096) {
			ok = may_give(base + off, true);
			module |= l4_kip_mem_type(l4_kip(), base + off) == L4_MEM_MODULE;
		}
		/* boot modules only to the root task (which serves them read-only):
		 * a task asking for RAM at an address must not take them away */
		if (!ok || (module && !is_privileged(client))) {
			m->mr[0] = L4_TAG_MAKE(1, 0, 0);
			return;
		}
		for (u64 off = 0; off < (1ull << log2); off += 4096)
			set_given((base + off) >> 12);
	}
	l4_map_msg(m, base, L4_FPAGE(base, log2, L4_FPAGE_RIGHTS(fp) ? L4_FPAGE_RIGHTS(fp) : L4_RWX), false);
}

int main(void)
{
	init_bitmap();
	struct l4_msg m;
	l4_tid_t client;
	u64 tag = l4_wait(&m, &client);
	for (;;) {
		if (l4_ipc_failed(tag) || L4_TAG_LABEL(tag) != L4_LABEL_SIGMA0 || L4_TAG_U(tag) < 1) {
			tag = l4_wait(&m, &client);
			continue;
		}
		serve(&m, client);
		l4_fpage_t sent = L4_TAG_T(m.mr[0]) ? m.mr[2] : 0;
		tag = l4_reply_wait(client, &m, &client);
		if (sent && !L4_IS_IO_FPAGE(sent) && l4_ipc_failed(tag) && !(tag & L4_TAG_RECV_PHASE) &&
		    L4_IPC_ERRCODE(tag) != L4_IPC_MAPFAIL && l4_kip_mem_type(l4_kip(), L4_FPAGE_BASE(sent))) {
			/* the client did not take the page: it is still free (after a
			 * failed mapping part of it may be mapped: it stays given;
			 * ports, like device memory, stay given whatever happened) */
			for (u64 off = 0; off < (1ull << L4_FPAGE_LOG2(sent)); off += 4096)
				clear_given((L4_FPAGE_BASE(sent) + off) >> 12);
		}
	}
}
