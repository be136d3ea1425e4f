/*
 * A minimal /proc, synthesized: /proc/self (a link to /proc/PID),
 * /proc/PID/exe (the executable's path), /proc/PID/cwd, /proc/PID/fd/
 * (one link per open fd, which leads to the open file itself as Linux's
 * do), and the read-only files meminfo, cpuinfo, uptime and mounts, whose
 * contents are made when they are opened.
 *
 * Only the root directory is a lasting inode; every other node is made by
 * a lookup (transient_new) and freed after the system call unless an open
 * file or a working directory holds it (vfs_gc).  Inode numbers are
 * derived from what a node is, so they are the same at every lookup.
 */
#include "vfs.h"

static struct inode *root;

static const struct {
	const char *name;
	u8 pn;
	u32 mode;
} root_entries[] = {
	{ "self", PN_SELF, S_IFLNK | 0777 },     { "meminfo", PN_MEMINFO, S_IFREG | 0444 },
	{ "cpuinfo", PN_CPUINFO, S_IFREG | 0444 }, { "uptime", PN_UPTIME, S_IFREG | 0444 },
	{ "mounts", PN_MOUNTS, S_IFREG | 0444 },
};

static const struct {
	const char *name;
	u8 pn;
	u32 mode;
} pid_entries[] = {
	{ "exe", PN_EXE, S_IFLNK | 0777 },
	{ "cwd", PN_CWD, S_IFLNK | 0777 },
	{ "fd", PN_FDDIR, S_IFDIR | 0500 },
	{ "stat", PN_STAT, S_IFREG | 0444 },
	{ "cmdline", PN_CMDLINE, S_IFREG | 0444 },
	{ "comm", PN_COMM, S_IFREG | 0444 },
};

static u64 proc_ino(u8 pn, int pid, int fdn) { return (u64)pid << 32 | (u64)pn << 24 | (u64)(u32)fdn; }

struct inode *procfs_root(void)
{
	if (!root && (root = inode_new(S_IFDIR | 0555))) {
		root->pn = PN_ROOT;
		root->ino = 1;
	}
	return root;
}

static struct inode *node(struct inode *dir, u32 mode, u8 pn, int pid, int fdn)
{
	struct inode *i = transient_new(mode, dir, pn, pid, fdn);
	if (i)
		i->ino = proc_ino(pn, pid, fdn);
	return i;
}

/* A decimal number without sign or leading zeros, or -1. */
static int number(const char *s, usize len)
{
	if (!len || len > 9 || (s[0] == '0' && len > 1))
		return -1;
	int v = 0;
	for (usize k = 0; k < len; k++) {
		if (s[k] < '0' || s[k] > '9')
			return -1;
		v = v * 10 + (s[k] - '0');
	}
	return v;
}

static bool is(const char *name, usize len, const char *what)
{
	return strlen(what) == len && !memcmp(name, what, len);
}

struct inode *proc_lookup(struct inode *dir, const char *name, usize len)
{
	struct proc *p = dir->pn == PN_ROOT ? NULL : proc_by_pid(dir->pid);
	switch (dir->pn) {
	case PN_ROOT: {
		for (usize k = 0; k < ARRAY_SIZE(root_entries); k++)
			if (is(name, len, root_entries[k].name))
				return node(dir, root_entries[k].mode, root_entries[k].pn, 0, 0);
		int pid = number(name, len);
		return pid > 0 && proc_by_pid(pid) ? node(dir, S_IFDIR | 0555, PN_PID, pid, 0) : NULL;
	}
	case PN_PID:
		if (!p)
			return NULL;
		for (usize k = 0; k < ARRAY_SIZE(pid_entries); k++)
			if (is(name, len, pid_entries[k].name))
				return node(dir, pid_entries[k].mode, pid_entries[k].pn, dir->pid, 0);
		return NULL;
	case PN_FDDIR: {
		int fd = number(name, len);
		if (!p || fd < 0 || fd >= MAX_FDS || !p->fd[fd])
			return NULL;
		return node(dir, S_IFLNK | 0700, PN_FD, dir->pid, fd);
	}
	}
	return NULL;
}

static int utoa(char *buf, u64 v) { return snprintf(buf, 24, "%llu", (unsigned long long)v); }

bool proc_readdir(struct inode *dir, u64 *n, char *name, u64 *ino, u8 *type)
{
	struct proc *p = dir->pn == PN_ROOT ? NULL : proc_by_pid(dir->pid);
	switch (dir->pn) {
	case PN_ROOT:
		if (*n < ARRAY_SIZE(root_entries)) {
			memcpy(name, root_entries[*n].name, strlen(root_entries[*n].name) + 1);
			*ino = proc_ino(root_entries[*n].pn, 0, 0);
			*type = S_ISLNK(root_entries[*n].mode) ? DT_LNK : DT_REG;
			return true;
		}
		for (u64 k = *n - ARRAY_SIZE(root_entries); k < MAX_PROCS; k++) {
			if (procs[k].used) {
				*n = k + ARRAY_SIZE(root_entries);
				utoa(name, (u64)procs[k].pid);
				*ino = proc_ino(PN_PID, procs[k].pid, 0);
				*type = DT_DIR;
				return true;
			}
		}
		return false;
	case PN_PID:
		if (!p || *n >= ARRAY_SIZE(pid_entries))
			return false;
		memcpy(name, pid_entries[*n].name, strlen(pid_entries[*n].name) + 1);
		*ino = proc_ino(pid_entries[*n].pn, dir->pid, 0);
		*type = S_ISDIR(pid_entries[*n].mode) ? DT_DIR : DT_LNK;
		return true;
	case PN_FDDIR:
		for (u64 fd = *n; p && fd < MAX_FDS; fd++) {
			if (p->fd[fd]) {
				*n = fd;
				utoa(name, fd);
				*ino = proc_ino(PN_FD, dir->pid, (int)fd);
				*type = DT_LNK;
				return true;
			}
		}
		return false;
	}
	return false;
}

static int copy_text(char *buf, const char *s)
{
	usize n = strlen(s);
	if (n >= PATH_MAX)
		n = PATH_MAX - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	return (int)n;
}

int proc_readlink(struct inode *i, char *buf)
{
	if (i->pn == PN_SELF)
		return fs_current ? utoa(buf, (u64)fs_current->pid) : -ENOENT;
	struct proc *p = proc_by_pid(i->pid);
	if (!p)
		return -ENOENT;
	if (i->pn == PN_EXE) { /* always absolute (glibc checks): a boot module's name is taken as /NAME */
		if (p->exe[0] == '/')
			return copy_text(buf, p->exe);
		buf[0] = '/';
		return copy_text(buf + 1, p->exe) + 1;
	}
	if (i->pn == PN_CWD)
		return dir_path(p->cwd, buf);
	if (i->pn == PN_FD) {
		struct file *f = p->fd[i->fdn];
		if (!f)
			return -ENOENT;
		int n = copy_text(buf, f->path ? f->path : "");
		if (f->ino->nlink == 0 && !f->ino->pn && n + 10 < PATH_MAX) {
			memcpy(buf + n, " (deleted)", 11);
			n += 10;
		}
		return n;
	}
	return -EINVAL;
}

struct inode *proc_follow(struct inode *i)
{
	struct proc *p = i->pn == PN_FD || i->pn == PN_CWD ? proc_by_pid(i->pid) : NULL;
	if (!p)
		return NULL;
	if (i->pn == PN_CWD)
		return p->cwd;
	return p->fd[i->fdn] ? p->fd[i->fdn]->ino : NULL;
}

/* ---- the files ----------------------------------------------------------------------- */

static void cpuid(u32 leaf, u32 sub, u32 r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

struct out {
	char *buf;
	int len;
};

#define PUT(o, ...) ((o)->len += snprintf((o)->buf + (o)->len, (usize)(LX_PAGE - (u64)(o)->len), __VA_ARGS__), \
		     (o)->len = (o)->len < (int)LX_PAGE ? (o)->len : (int)LX_PAGE - 1)

static void meminfo(struct out *o)
{
	u64 total = ram_bytes() / 1024;
	u64 used = pages_in_use() * (LX_PAGE / 1024), avail = total > used ? total - used : 0;
	static const char *const names[] = { "MemTotal:", "MemFree:", "MemAvailable:", "Buffers:", "Cached:",
					      "SwapCached:", "SwapTotal:", "SwapFree:", "Shmem:" };
	u64 values[] = { total, avail, avail, 0, 0, 0, 0, 0, 0 };
	for (usize n = 0; n < ARRAY_SIZE(names); n++)
		PUT(o, "%-16s%8llu kB\n", names[n], (unsigned long long)values[n]);
}

static void cpuinfo(struct out *o)
{
	u32 r[4], brand[13] = { 0 }, vendor[4] = { 0 };
	cpuid(0, 0, r);
	u32 maxleaf = r[0];
	vendor[0] = r[1];
	vendor[1] = r[3];
	vendor[2] = r[2];
	cpuid(1, 0, r);
	u32 eax1 = r[0], ecx1 = r[2], edx1 = r[3];
	u32 family = (eax1 >> 8) & 15, model = (eax1 >> 4) & 15;
	if (family == 15)
		family += (eax1 >> 20) & 0xff;
	if (family >= 6)
		model |= ((eax1 >> 16) & 15) << 4;
	cpuid(0x80000000, 0, r);
	u32 maxext = r[0], ext_edx = 0, ebx7 = 0;
	if (maxext >= 0x80000004)
		for (u32 n = 0; n < 3; n++)
			cpuid(0x80000002 + n, 0, &brand[4 * n]);
	if (maxext >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		ext_edx = r[3];
	}
	if (maxleaf >= 7) {
		cpuid(7, 0, r);
		ebx7 = r[1];
	}
	const char *name = (const char *)brand;
	while (*name == ' ')
		name++;
	u64 hz = l4_kip()->tsc_hz;
	PUT(o, "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\nmodel name\t: %s\nstepping\t: %u\n",
	    (const char *)vendor, family, model, *name ? name : "unknown", eax1 & 15);
	PUT(o, "cpu MHz\t\t: %llu.%03llu\nphysical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\n",
	    (unsigned long long)(hz / 1000000), (unsigned long long)(hz / 1000 % 1000));
	PUT(o, "fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %u\nwp\t\t: yes\nflags\t\t:", maxleaf);
	static const struct {
		u8 reg, bit;
		const char *name;
	} flags[] = {
		{ 0, 0, "fpu" },     { 0, 4, "tsc" },      { 0, 5, "msr" },     { 0, 6, "pae" },     { 0, 8, "cx8" },
		{ 0, 9, "apic" },    { 0, 11, "sep" },     { 0, 15, "cmov" },   { 0, 16, "pat" },    { 0, 19, "clflush" },
		{ 0, 23, "mmx" },    { 0, 24, "fxsr" },    { 0, 25, "sse" },    { 0, 26, "sse2" },   { 2, 11, "syscall" },
		{ 2, 20, "nx" },     { 2, 29, "lm" },      { 1, 0, "pni" },     { 1, 1, "pclmulqdq" }, { 1, 9, "ssse3" },
		{ 1, 12, "fma" },    { 1, 13, "cx16" },    { 1, 19, "sse4_1" }, { 1, 20, "sse4_2" }, { 1, 22, "movbe" },
		{ 1, 23, "popcnt" }, { 1, 25, "aes" },     { 1, 26, "xsave" },  { 1, 28, "avx" },    { 1, 30, "rdrand" },
		{ 3, 3, "bmi1" },    { 3, 5, "avx2" },     { 3, 8, "bmi2" },    { 3, 9, "erms" },
	};
	u32 regs[4] = { edx1, ecx1, ext_edx, ebx7 };
	for (usize n = 0; n < ARRAY_SIZE(flags); n++)
		if (regs[flags[n].reg] & (1u << flags[n].bit))
			PUT(o, " %s", flags[n].name);
	PUT(o, "\nbogomips\t: %llu.00\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 48 bits physical, 48 bits virtual\n\n",
	    (unsigned long long)(hz / 500000));
}

/* /proc/PID/stat: the fields ps reads (state, parents, group, session,
 * the terminal's foreground group); times and counters are 0, and the
 * state is R, S (in a call that waits) or Z. */
static void stat_line(struct out *o, const struct proc *p)
{
	char state = p->zombie ? 'Z' : p->blocked ? 'S' : 'R';
	u64 vsize = 0;
	for (unsigned k = 0; k < p->nvma; k++)
		vsize += p->vma[k].end - p->vma[k].start;
	PUT(o, "%d (%s) %c %d %d %d 1025 %d 0 0 0 0 0 0 0 0 0 20 0 1 0 0 %llu 0", p->pid, p->comm, state, p->ppid,
	    p->pgid, p->sid, p->pgid, (unsigned long long)vsize);
	for (int k = 0; k < 28; k++)
		PUT(o, " 0");
	PUT(o, "\n");
}

int proc_generate(struct inode *i, char *page)
{
	struct out o = { page, 0 };
	struct proc *p = i->pid ? proc_by_pid(i->pid) : NULL;
	switch (i->pn) {
	case PN_STAT:
		if (p)
			stat_line(&o, p);
		break;
	case PN_CMDLINE: /* empty for a zombie, as on Linux */
		if (p && !p->zombie) {
			memcpy(o.buf, p->cmdline, p->cmdline_len);
			o.len = (int)p->cmdline_len;
		}
		break;
	case PN_COMM:
		if (p)
			PUT(&o, "%s\n", p->comm);
		break;
	case PN_MEMINFO:
		meminfo(&o);
		break;
	case PN_CPUINFO:
		cpuinfo(&o);
		break;
	case PN_UPTIME: {
		u64 cs = now_ns() / 10000000ull; /* hundredths */
		PUT(&o, "%llu.%02llu 0.00\n", (unsigned long long)(cs / 100), (unsigned long long)(cs % 100));
		break;
	}
	case PN_MOUNTS:
		PUT(&o, "rootfs / rootfs rw 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n");
		break;
	}
	return o.len;
}
