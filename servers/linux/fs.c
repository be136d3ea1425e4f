/*
 * The file system calls: open file descriptions (offset, flags, reference
 * count, shared by dup and fork), each process's fd table, working
 * directory and umask, the devices (/dev/console, /dev/tty, /dev/null,
 * /dev/zero, /dev/full, /dev/random, /dev/urandom), and every call on
 * files, directories and paths (docs/linux-server.md, "Files").  The tree
 * itself is vfs.c; /proc is procfs.c.
 *
 * Data moves between a process and a file a page at a time through a
 * buffer here (copy_in/copy_out, then the file's pages).  Errors are
 * Linux's, in Linux's order where several apply.
 */
#include "vfs.h"

/* ---- Linux ABI -------------------------------------------------------------------- */
#define SYS_read 0
#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_stat 4
#define SYS_fstat 5
#define SYS_lstat 6
#define SYS_lseek 8
#define SYS_ioctl 16
#define SYS_pread64 17
#define SYS_pwrite64 18
#define SYS_readv 19
#define SYS_writev 20
#define SYS_access 21
#define SYS_dup 32
#define SYS_dup2 33
#define SYS_sendfile 40
#define SYS_fcntl 72
#define SYS_fsync 74
#define SYS_fdatasync 75
#define SYS_truncate 76
#define SYS_ftruncate 77
#define SYS_getcwd 79
#define SYS_chdir 80
#define SYS_fchdir 81
#define SYS_rename 82
#define SYS_mkdir 83
#define SYS_rmdir 84
#define SYS_creat 85
#define SYS_link 86
#define SYS_unlink 87
#define SYS_symlink 88
#define SYS_readlink 89
#define SYS_chmod 90
#define SYS_fchmod 91
#define SYS_chown 92
#define SYS_fchown 93
#define SYS_lchown 94
#define SYS_umask 95
#define SYS_statfs 137
#define SYS_fstatfs 138
#define SYS_sync 162
#define SYS_getdents64 217
#define SYS_fadvise64 221
#define SYS_openat 257
#define SYS_mkdirat 258
#define SYS_fchownat 260
#define SYS_newfstatat 262
#define SYS_unlinkat 263
#define SYS_renameat 264
#define SYS_linkat 265
#define SYS_symlinkat 266
#define SYS_readlinkat 267
#define SYS_fchmodat 268
#define SYS_faccessat 269
#define SYS_utimensat 280
#define SYS_dup3 292
#define SYS_preadv 295
#define SYS_pwritev 296
#define SYS_syncfs 306
#define SYS_renameat2 316
#define SYS_statx 332
#define SYS_poll 7
#define SYS_pipe 22
#define SYS_select 23
#define SYS_pselect6 270
#define SYS_ppoll 271
#define SYS_pipe2 293
#define SYS_close_range 436
#define SYS_faccessat2 439

#define O_ACCMODE 03
#define O_RDONLY 0
#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_EXCL 0200
#define O_NOCTTY 0400
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_NONBLOCK 04000
#define O_DSYNC 010000
#define O_ASYNC 020000
#define O_DIRECT 040000
#define O_LARGEFILE 0100000
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#define O_NOATIME 01000000
#define O_CLOEXEC 02000000
#define O_SYNC_ 04000000
#define O_PATH 010000000
#define O_TMPFILE_ 020000000 /* with O_DIRECTORY: O_TMPFILE */
/* what an open file description keeps (F_GETFL) */
#define O_KEPT (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | O_LARGEFILE | O_NOATIME | \
		O_SYNC_ | O_PATH)
#define O_SETFL (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR 0x200
#define AT_EACCESS 0x200
#define AT_SYMLINK_FOLLOW 0x400
#define AT_NO_AUTOMOUNT 0x800
#define AT_EMPTY_PATH 0x1000
#define AT_STATX_SYNC_TYPE 0x6000

#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#define RENAME_WHITEOUT 4

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define SEEK_DATA 3
#define SEEK_HOLE 4

#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC 1
#define F_UNLCK 2

#define FIONREAD 0x541b
#define FIONBIO 0x5421
#define FIONCLEX 0x5450
#define FIOCLEX 0x5451

#define R_OK 4
#define W_OK 2
#define X_OK 1

#define STATX_BASIC_STATS 0x7ffu
#define STATX_MNT_ID 0x1000u
#define STATX__RESERVED 0x80000000u
#define UTIME_NOW ((1l << 30) - 1)
#define UTIME_OMIT ((1l << 30) - 2)
#define CLOSE_RANGE_UNSHARE 2
#define CLOSE_RANGE_CLOEXEC 4
#define TMPFS_MAGIC 0x01021994
#define PROC_SUPER_MAGIC 0x9fa0

#define IOV_MAX 1024
#define MAX_RW_COUNT 0x7ffff000ull /* Linux's cap on one read or write */

struct proc *fs_current;
static struct inode *console_ino; /* the stdio of the first process */
static u8 bounce[LX_PAGE];        /* data on its way between a process and a file */
static char path1[PATH_MAX], path2[PATH_MAX], text[PATH_MAX];

/* ---- open files and fds ------------------------------------------------------------ */

static char *str_dup(const char *s, u32 *size)
{
	*size = (u32)strlen(s) + 1;
	char *d = kalloc(*size);
	if (d)
		memcpy(d, s, *size);
	return d;
}

static struct file *file_new(struct inode *i, u32 flags, const char *path)
{
	struct file *f = kalloc(sizeof(*f));
	if (!f)
		return NULL;
	f->refs = 1;
	f->flags = flags;
	f->ino = i;
	iget(i);
	f->path = str_dup(path, &f->path_size);
	return f;
}

static void pipe_close(struct file *f);

static void file_put(struct file *f)
{
	if (--f->refs)
		return;
	if (f->ino->pipe)
		pipe_close(f);
	iput(f->ino);
	kfree(f->path, f->path_size);
	if (f->data)
		kfree(f->data, LX_PAGE);
	kfree(f, sizeof(*f));
}

static struct file *fget(struct proc *p, u64 fd)
{
	return (u32)fd < MAX_FDS ? p->fd[(u32)fd] : NULL;
}

/* An fd usable for I/O (not an O_PATH one). */
static struct file *fget_io(struct proc *p, u64 fd)
{
	struct file *f = fget(p, fd);
	return f && !(f->flags & O_PATH) ? f : NULL;
}

static bool readable(struct file *f)
{
	return !(f->flags & O_PATH) && ((f->flags & O_ACCMODE) == O_RDONLY || (f->flags & O_ACCMODE) == O_RDWR);
}

static bool writable(struct file *f)
{
	return !(f->flags & O_PATH) && ((f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_ACCMODE) == O_RDWR);
}

static int fd_free_slot(struct proc *p, u32 from)
{
	for (u32 fd = from; fd < MAX_FDS; fd++)
		if (!p->fd[fd])
			return (int)fd;
	return -EMFILE;
}

static void fd_set(struct proc *p, int fd, struct file *f, bool cloexec)
{
	struct file *old = p->fd[fd];
	p->fd[fd] = f;
	p->fd_cloexec[fd] = cloexec;
	if (old)
		file_put(old);
}

static bool is_console(struct inode *i)
{
	return S_ISCHR(i->mode) && (i->rdev == DEV_CONSOLE || i->rdev == DEV_TTY);
}

static bool is_device(struct inode *i)
{
	if (!S_ISCHR(i->mode))
		return false;
	switch (i->rdev) {
	case DEV_CONSOLE: case DEV_TTY: case DEV_NULL: case DEV_ZERO: case DEV_FULL: case DEV_RANDOM: case DEV_URANDOM:
		return true;
	}
	return false;
}

/* ---- paths -------------------------------------------------------------------------- */

/* The directory a relative path starts from: dirfd's, or the working one. */
static int start_dir(struct proc *p, s64 dirfd, const char *path, struct inode **dir)
{
	if (path[0] == '/') {
		*dir = vfs_root;
		return 0;
	}
	if ((int)dirfd == AT_FDCWD) {
		*dir = p->cwd;
		return 0;
	}
	struct file *f = fget(p, dirfd);
	if (!f)
		return -EBADF;
	if (!S_ISDIR(f->ino->mode))
		return -ENOTDIR;
	*dir = f->ino;
	return 0;
}

static s64 path_in(struct proc *p, char *buf, u64 upath)
{
	return strncpy_in(p, buf, upath, PATH_MAX);
}

/* Copies in a path and resolves it from dirfd; with empty_ok, an empty
 * path names dirfd's file itself (AT_EMPTY_PATH). */
static int lookup(struct proc *p, s64 dirfd, u64 upath, char *buf, int flags, bool empty_ok, struct walk *w)
{
	s64 n = path_in(p, buf, upath);
	if (n < 0)
		return (int)n;
	*w = (struct walk){ 0 };
	if (!n && empty_ok) {
		struct inode *i;
		if ((int)dirfd == AT_FDCWD) {
			i = p->cwd;
		} else {
			struct file *f = fget(p, dirfd);
			if (!f)
				return -EBADF;
			i = f->ino;
		}
		w->dir = i->parent ? i->parent : i;
		w->ino = i;
		w->name = ".";
		w->len = 1;
		return 0;
	}
	if (!n)
		return -ENOENT;
	struct inode *start;
	int r = start_dir(p, dirfd, buf, &start);
	return r ? r : vfs_walk(start, buf, flags, w);
}

/* The inode a path (or, empty_ok, an fd) names: -ENOENT if none. */
static int target(struct proc *p, s64 dirfd, u64 upath, bool follow, bool empty_ok, struct inode **out)
{
	struct walk w;
	int r = lookup(p, dirfd, upath, path1, follow ? W_FOLLOW : 0, empty_ok, &w);
	if (r < 0)
		return r;
	if (!w.ino)
		return -ENOENT;
	*out = w.ino;
	return 0;
}

static bool is_dot(const struct walk *w) { return w->len == 1 && w->name[0] == '.'; }
static bool is_dotdot(const struct walk *w) { return w->len == 2 && w->name[0] == '.' && w->name[1] == '.'; }

/* The absolute path of what w names, for /proc/PID/fd (fallback: as given). */
static void walk_path(const struct walk *w, const char *given, char *out)
{
	int n;
	if (w->ino && S_ISDIR(w->ino->mode)) {
		n = dir_path(w->ino, out);
	} else {
		n = dir_path(w->dir, out);
		if (n >= 0 && (usize)n + w->len + 2 < PATH_MAX && S_ISDIR(w->dir->mode)) {
			if (n > 1)
				out[n++] = '/';
			memcpy(out + n, w->name, w->len);
			out[n + w->len] = 0;
		} else {
			n = -1;
		}
	}
	if (n < 0) {
		usize k = strlen(given);
		memcpy(out, given, k + 1);
	}
}

/* ---- devices -------------------------------------------------------------------------- */

/* ---- pipes ------------------------------------------------------------------------------- */

/* A pipe: a ring of PIPE_PAGES pages (made as they are first needed) in
 * an inode of no directory, and how many open files read and write it.
 * A read of an empty pipe and a write to a full one wait (LX_BLOCK) while
 * the other side is open; writes of at most PIPE_BUF bytes are whole. */
#define PIPE_PAGES 16
#define PIPE_SIZE (PIPE_PAGES * LX_PAGE)
#define PIPE_BUF 4096

struct pipe {
	u8 *page[PIPE_PAGES];
	u64 head, len; /* the bytes [head, head + len) of the ring */
	u32 readers, writers;
};

static bool is_pipe(struct inode *i) { return i->pipe != NULL; }

/* Copies between buf and the ring at ring offset at (wrapping); false if
 * a page could not be made. */
static bool pipe_copy(struct pipe *pp, u64 at, u8 *buf, u64 len, bool in)
{
	while (len) {
		u64 k = at % PIPE_SIZE / LX_PAGE, off = at % LX_PAGE, n = LX_PAGE - off < len ? LX_PAGE - off : len;
		if (!pp->page[k] && !(pp->page[k] = kalloc(LX_PAGE)))
			return false;
		if (in)
			memcpy(pp->page[k] + off, buf, n);
		else
			memcpy(buf, pp->page[k] + off, n);
		at += n;
		buf += n;
		len -= n;
	}
	return true;
}

static s64 pipe_read(struct file *f, void *buf, u64 len)
{
	struct pipe *pp = f->ino->pipe;
	if (!pp->len)
		return !pp->writers ? 0 : f->flags & O_NONBLOCK ? -EAGAIN : LX_BLOCK;
	u64 n = len < pp->len ? len : pp->len;
	pipe_copy(pp, pp->head, buf, n, false);
	pp->head = (pp->head + n) % PIPE_SIZE;
	pp->len -= n;
	lx_wake = true;
	return (s64)n;
}

static s64 pipe_write(struct file *f, const void *buf, u64 len)
{
	struct pipe *pp = f->ino->pipe;
	if (!pp->readers) {
		signal_self(fs_current, 13 /* SIGPIPE */);
		return -EPIPE;
	}
	u64 room = PIPE_SIZE - pp->len;
	if (room < len && (len <= PIPE_BUF || !room))
		return f->flags & O_NONBLOCK ? -EAGAIN : LX_BLOCK;
	u64 n = len < room ? len : room;
	if (!pipe_copy(pp, pp->head + pp->len, (u8 *)buf, n, true))
		return -ENOMEM;
	pp->len += n;
	lx_wake = true;
	return (s64)n;
}

/* The last fd of one end is closed: the other side may go on (end of
 * file, EPIPE); with both ends closed the pipe goes. */
static void pipe_close(struct file *f)
{
	struct pipe *pp = f->ino->pipe;
	if (readable(f))
		pp->readers--;
	if (writable(f))
		pp->writers--;
	lx_wake = true;
	if (pp->readers || pp->writers)
		return;
	for (int k = 0; k < PIPE_PAGES; k++)
		if (pp->page[k])
			kfree(pp->page[k], LX_PAGE);
	kfree(pp, sizeof(*pp));
	f->ino->pipe = NULL;
}

static s64 sys_pipe2(struct proc *p, u64 ufds, u64 flags)
{
	if (flags & ~(u64)(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	int fds[2];
	if ((fds[0] = fd_free_slot(p, 0)) < 0 || (fds[1] = fd_free_slot(p, (u32)fds[0] + 1)) < 0)
		return -EMFILE;
	struct pipe *pp = kalloc(sizeof(*pp));
	struct inode *i = pp ? inode_new(S_IFIFO | 0600) : NULL;
	if (!i) {
		if (pp)
			kfree(pp, sizeof(*pp));
		return -ENFILE;
	}
	i->pipe = pp;
	char name[32];
	snprintf(name, sizeof(name), "pipe:[%llu]", (unsigned long long)i->ino);
	u32 status = (u32)flags & (O_NONBLOCK | O_DIRECT);
	struct file *r = file_new(i, O_RDONLY | status, name), *w = r ? file_new(i, O_WRONLY | status, name) : NULL;
	pp->readers = r != NULL;
	pp->writers = w != NULL;
	if (!w || !copy_out(p, ufds, fds, sizeof(fds))) {
		if (r)
			file_put(r);
		if (w)
			file_put(w);
		if (!r) { /* no file holds the inode: it goes with nobody to close the pipe */
			kfree(pp, sizeof(*pp));
			i->pipe = NULL;
			iget(i);
			iput(i);
		}
		return w ? -EFAULT : -ENFILE;
	}
	fd_set(p, fds[0], r, flags & O_CLOEXEC);
	fd_set(p, fds[1], w, flags & O_CLOEXEC);
	return 0;
}

/* ---- poll and select -------------------------------------------------------------------- */

#define POLLIN 0x1
#define POLLOUT 0x4
#define POLLERR 0x8
#define POLLHUP 0x10
#define POLLNVAL 0x20
#define POLLRDNORM 0x40
#define POLLWRNORM 0x100
#define POLL_ALWAYS (POLLERR | POLLHUP | POLLNVAL)
#define MAX_POLL 4096
#define FD_SETSIZE 1024

/* What could be done with f now without waiting (POLL* bits). */
static unsigned file_ready(struct file *f)
{
	struct inode *i = f->ino;
	const unsigned in = POLLIN | POLLRDNORM, out = POLLOUT | POLLWRNORM;
	if (is_pipe(i)) {
		struct pipe *pp = i->pipe;
		unsigned r = 0;
		if (readable(f))
			r |= (pp->len ? in : 0) | (pp->writers ? 0 : POLLHUP);
		if (writable(f))
			r |= !pp->readers ? POLLERR : PIPE_SIZE - pp->len >= PIPE_BUF ? out : 0;
		return r;
	}
	if (is_console(i))
		return (tty_readable() ? in : 0) | out;
	return in | out; /* files and the other devices never wait */
}

/* poll and ppoll: timeout in nanoseconds (LX_NO_TIMEOUT: none).  A call that
 * finds nothing ready waits (LX_BLOCK) and looks again whenever something
 * changes, until its deadline. */
static s64 sys_poll(struct proc *p, u64 ufds, u64 nfds, u64 timeout)
{
	if (nfds > MAX_POLL)
		return -EINVAL;
	s64 ready = 0;
	for (u64 k = 0; k < nfds; k++) {
		s32 fd;
		u16 ev[2];
		if (!copy_in(p, &fd, ufds + 8 * k, 4) || !copy_in(p, ev, ufds + 8 * k + 4, 4))
			return -EFAULT;
		struct file *f = fd < 0 ? NULL : fget(p, (u64)fd);
		ev[1] = fd < 0 ? 0 : !f ? POLLNVAL : (u16)(file_ready(f) & (ev[0] | POLL_ALWAYS));
		if (!copy_out(p, ufds + 8 * k + 6, &ev[1], 2))
			return -EFAULT;
		ready += ev[1] != 0;
	}
	if (ready || !timeout || deadline_passed(p, timeout)) {
		deadline_clear(p);
		return ready;
	}
	return LX_BLOCK;
}

/* The timeout of poll (ms, negative: none) or ppoll (a timespec, NULL:
 * none) in nanoseconds; -errno if bad. */
static s64 poll_timeout(struct proc *p, u64 arg, bool ppoll)
{
	if (!ppoll)
		return (s32)arg < 0 ? LX_NO_TIMEOUT : (s64)(s32)arg * 1000000;
	u64 v[2];
	if (!arg)
		return LX_NO_TIMEOUT;
	return copy_in(p, v, arg, sizeof(v)) ? timespec_ns(v) : -EFAULT;
}

/* select and pselect6: three fd_sets of nfds bits (any may be NULL); the
 * ready fds stay set.  An fd in a set that is not open: EBADF. */
static s64 sys_select(struct proc *p, u64 nfds, const u64 sets[3], s64 timeout)
{
	if ((s32)nfds < 0)
		return -EINVAL;
	if (nfds > FD_SETSIZE)
		nfds = FD_SETSIZE;
	static const unsigned want[3] = { POLLIN | POLLRDNORM | POLLHUP | POLLERR, POLLOUT | POLLWRNORM | POLLERR, 0 };
	u64 in[3][FD_SETSIZE / 64], out[3][FD_SETSIZE / 64];
	u64 words = (nfds + 63) / 64;
	s64 ready = 0;
	for (int s = 0; s < 3; s++) {
		memset(in[s], 0, sizeof(in[s]));
		memset(out[s], 0, sizeof(out[s]));
		if (sets[s] && !copy_in(p, in[s], sets[s], words * 8))
			return -EFAULT;
	}
	for (u64 fd = 0; fd < nfds; fd++) {
		for (int s = 0; s < 3; s++) {
			if (!(in[s][fd / 64] >> (fd % 64) & 1))
				continue;
			struct file *f = fget(p, fd);
			if (!f)
				return -EBADF;
			if (file_ready(f) & want[s]) {
				out[s][fd / 64] |= 1ull << (fd % 64);
				ready++;
			}
		}
	}
	if (!ready && timeout && !deadline_passed(p, (u64)timeout))
		return LX_BLOCK;
	deadline_clear(p);
	for (int s = 0; s < 3; s++)
		if (sets[s] && !copy_out(p, sets[s], out[s], words * 8))
			return -EFAULT;
	return ready;
}

/* select's struct timeval or pselect6's struct timespec (NULL: none) in
 * nanoseconds; -errno if bad. */
static s64 select_timeout(struct proc *p, u64 arg, bool pselect)
{
	u64 v[2];
	if (!arg)
		return LX_NO_TIMEOUT;
	if (!copy_in(p, v, arg, sizeof(v)))
		return -EFAULT;
	if (!pselect) {
		if (v[1] >= 1000000ull)
			return -EINVAL;
		v[1] *= 1000;
	}
	return timespec_ns(v);
}

/* ---- reading and writing: a chunk of at most a page, in the server ---------------------- */

/* Reads into buf from *pos (advanced); bytes read or -errno. */
static s64 read_chunk(struct file *f, void *buf, u64 len, u64 *pos)
{
	struct inode *i = f->ino;
	if (S_ISDIR(i->mode))
		return -EISDIR;
	if (is_pipe(i))
		return pipe_read(f, buf, len);
	if (f->data) { /* a /proc file */
		u64 n = *pos < f->data_len ? f->data_len - *pos : 0;
		n = n < len ? n : len;
		memcpy(buf, f->data + *pos, n);
		*pos += n;
		return (s64)n;
	}
	if (S_ISREG(i->mode)) {
		u64 n = file_read(i, *pos, buf, len);
		*pos += n;
		return (s64)n;
	}
	switch (i->rdev) {
	case DEV_CONSOLE: case DEV_TTY: return tty_read(f->flags & O_NONBLOCK, buf, len);
	case DEV_NULL: return 0;
	case DEV_ZERO: case DEV_FULL: memset(buf, 0, len); return (s64)len;
	case DEV_RANDOM: case DEV_URANDOM: lx_random(buf, len); return (s64)len;
	}
	return -EINVAL;
}

static s64 write_chunk(struct file *f, const void *buf, u64 len, u64 *pos)
{
	struct inode *i = f->ino;
	if (is_pipe(i))
		return pipe_write(f, buf, len);
	if (S_ISREG(i->mode) && !i->pn) {
		if (f->flags & O_APPEND)
			*pos = i->size;
		s64 n = file_write(i, *pos, buf, len);
		if (n > 0)
			*pos += (u64)n;
		return n;
	}
	switch (S_ISCHR(i->mode) ? i->rdev : 0) {
	case DEV_CONSOLE: case DEV_TTY: return tty_write(buf, len);
	case DEV_NULL: case DEV_ZERO: case DEV_RANDOM: case DEV_URANDOM: return (s64)len;
	case DEV_FULL: return -ENOSPC;
	}
	return -EINVAL;
}

/* Whether the file has positions (pread, lseek): not the console, not a pipe. */
static bool seekable(struct file *f) { return !is_console(f->ino) && !is_pipe(f->ino); }

/* A read into (or a write from) the process's buffer at *pos, a page at a
 * time through the bounce buffer; bytes or -errno.  A write to a pipe
 * that must wait after writing some of its bytes keeps their number in
 * p->io_done and waits (LX_BLOCK); tried again, it goes on after them, so
 * that a blocking write writes all, as on Linux. */
static s64 io_user(struct proc *p, struct file *f, u64 buf, u64 len, u64 *pos, bool write)
{
	if (len > MAX_RW_COUNT)
		len = MAX_RW_COUNT;
	u64 done = write ? p->io_done : 0;
	p->io_done = 0;
	while (done < len) {
		u64 n = len - done < LX_PAGE ? len - done : LX_PAGE;
		if (write && !copy_in(p, bounce, buf + done, n))
			return done ? (s64)done : -EFAULT;
		s64 r = write ? write_chunk(f, bounce, n, pos) : read_chunk(f, bounce, n, pos);
		if (r == LX_BLOCK && done && write) {
			p->io_done = done;
			return LX_BLOCK;
		}
		if (r < 0)
			return done ? (s64)done : r;
		if (write && is_pipe(f->ino) && (u64)r < n) {
			done += (u64)r;
			continue; /* the rest waits for room */
		}
		if (!write && r && !copy_out(p, buf + done, bounce, (u64)r))
			return done ? (s64)done : -EFAULT;
		done += (u64)r;
		if ((u64)r < n || (!write && is_console(f->ino)))
			break; /* the end, or what the console had */
	}
	return (s64)done;
}

static s64 sys_read(struct proc *p, u64 fd, u64 buf, u64 len)
{
	struct file *f = fget_io(p, fd);
	if (!f || !readable(f))
		return -EBADF;
	return io_user(p, f, buf, len, &f->pos, false);
}

static s64 sys_write(struct proc *p, u64 fd, u64 buf, u64 len)
{
	struct file *f = fget_io(p, fd);
	if (!f || !writable(f))
		return -EBADF;
	return io_user(p, f, buf, len, &f->pos, true);
}

static s64 sys_pread(struct proc *p, u64 fd, u64 buf, u64 len, u64 off, bool write)
{
	struct file *f = fget_io(p, fd);
	if (!f || !(write ? writable(f) : readable(f)))
		return -EBADF;
	if ((s64)off < 0)
		return -EINVAL;
	if (!seekable(f))
		return -ESPIPE;
	u64 pos = off;
	return io_user(p, f, buf, len, &pos, write);
}

/* readv, writev, preadv, pwritev: off < 0 for the file's position. */
static s64 sys_iov(struct proc *p, u64 fd, u64 iov, u64 cnt, s64 off, bool write)
{
	struct file *f = fget_io(p, fd);
	if (!f || !(write ? writable(f) : readable(f)))
		return -EBADF;
	if (cnt > IOV_MAX)
		return -EINVAL;
	u64 total = 0;
	for (u64 k = 0; k < cnt; k++) { /* all vectors are checked first */
		u64 v[2];
		if (!copy_in(p, v, iov + 16 * k, 16))
			return -EFAULT;
		if ((s64)v[1] < 0 || total + v[1] > 0x7fffffffffffffffull)
			return -EINVAL;
		total += v[1];
	}
	u64 pos = (u64)off, *at = &f->pos;
	if (off >= 0) {
		if (!seekable(f))
			return -ESPIPE;
		at = &pos;
	}
	s64 done = 0;
	for (u64 k = 0; k < cnt; k++) {
		u64 v[2];
		copy_in(p, v, iov + 16 * k, 16);
		if (!v[1])
			continue;
		s64 r = io_user(p, f, v[0], v[1], at, write);
		if (r < 0 && done) { /* a later vector waited: what is written so far is the answer */
			done += (s64)p->io_done;
			p->io_done = 0;
			return done;
		}
		if (r < 0)
			return r;
		done += r;
		if ((u64)r < v[1] || (!write && is_console(f->ino)))
			break;
	}
	return done;
}

static s64 sys_sendfile(struct proc *p, u64 out_fd, u64 in_fd, u64 uoff, u64 count)
{
	struct file *in = fget_io(p, in_fd), *out = fget_io(p, out_fd);
	if (!in || !readable(in) || !out || !writable(out))
		return -EBADF;
	if ((out->flags & O_APPEND) || S_ISDIR(in->ino->mode) || is_pipe(in->ino) || is_console(in->ino))
		return -EINVAL; /* from a pipe or the console: what was read could not be put back if the write waits */
	u64 pos, *at = &in->pos;
	if (uoff) {
		if (!copy_in(p, &pos, uoff, 8))
			return -EFAULT;
		if ((s64)pos < 0)
			return -EINVAL;
		if (!seekable(in))
			return -ESPIPE;
		at = &pos;
	}
	if (count > MAX_RW_COUNT)
		count = MAX_RW_COUNT;
	u64 done = 0;
	while (done < count) {
		u64 n = count - done < LX_PAGE ? count - done : LX_PAGE;
		u64 before = *at;
		s64 r = read_chunk(in, bounce, n, at);
		if (r <= 0) {
			if (r < 0 && !done)
				return r;
			break;
		}
		s64 w = write_chunk(out, bounce, (u64)r, &out->pos);
		if (w < 0) {
			*at = before;
			if (!done)
				return w;
			break;
		}
		*at = before + (u64)w;
		done += (u64)w;
		if (w < r || (u64)r < n)
			break;
	}
	if (uoff && !copy_out(p, uoff, &pos, 8))
		return -EFAULT;
	return (s64)done;
}

static s64 sys_lseek(struct proc *p, u64 fd, s64 off, u64 whence)
{
	struct file *f = fget_io(p, fd);
	if (!f)
		return -EBADF;
	struct inode *i = f->ino;
	if (!seekable(f))
		return -ESPIPE;
	if (whence > SEEK_HOLE)
		return -EINVAL;
	if (is_device(i))
		return f->pos = 0; /* Linux's null and zero: always 0 */
	s64 size = f->data ? (s64)f->data_len : (s64)i->size, base;
	if (S_ISDIR(i->mode) && whence > SEEK_CUR)
		return -EINVAL;
	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (s64)f->pos; break;
	case SEEK_END: base = size; break;
	default: /* SEEK_DATA, SEEK_HOLE: one piece of data up to the end */
		if (off < 0 || off >= size)
			return -ENXIO;
		f->pos = (u64)(whence == SEEK_DATA ? off : size);
		return (s64)f->pos;
	}
	if ((off > 0 && base > 0x7fffffffffffffffll - off) || base + off < 0)
		return -EINVAL;
	f->pos = (u64)(base + off);
	return (s64)f->pos;
}

/* ---- open, close, dup -------------------------------------------------------------------- */

/* A new inode named w's last component in w's directory; NULL when out of
 * memory (then nothing is left behind). */
static struct inode *create_named(const struct walk *w, u32 mode)
{
	struct inode *i = inode_new(mode);
	if (i && dir_add(w->dir, w->name, w->len, i) < 0) {
		iget(i);
		iput(i); /* never linked: this frees it */
		return NULL;
	}
	return i;
}

static s64 open_at(struct proc *p, s64 dirfd, u64 upath, u64 flags, u64 mode)
{
	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	bool tmpfile = flags & O_TMPFILE_;
	if (tmpfile && (!(flags & O_DIRECTORY) || (flags & O_CREAT) || (flags & O_ACCMODE) == O_RDONLY))
		return -EINVAL;
	int fd = fd_free_slot(p, 0);
	if (fd < 0)
		return fd;
	bool excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
	struct walk w;
	int r = lookup(p, dirfd, upath, path1, (flags & O_NOFOLLOW) || excl ? 0 : W_FOLLOW, false, &w);
	if (r < 0)
		return r;
	struct inode *i = w.ino;
	bool created = false;
	if (tmpfile) {
		if (!i)
			return -ENOENT;
		if (!S_ISDIR(i->mode))
			return -ENOTDIR;
		if (i->pn)
			return -EOPNOTSUPP;
		struct inode *t = inode_new(S_IFREG | ((u32)mode & 07777 & ~p->umask));
		if (!t)
			return -ENOMEM;
		walk_path(&w, path1, text);
		struct file *f = file_new(t, (u32)(flags & O_KEPT) | O_LARGEFILE, text);
		if (!f) {
			iget(t);
			iput(t);
			return -ENOMEM;
		}
		fd_set(p, fd, f, flags & O_CLOEXEC);
		return fd;
	}
	if (!i) {
		if (!(flags & O_CREAT))
			return -ENOENT;
		if (w.slash)
			return -EISDIR;
		if (w.dir->pn)
			return -EACCES;
		if (!w.dir->nlink)
			return -ENOENT;
		if (!(i = create_named(&w, S_IFREG | ((u32)mode & 07777 & ~p->umask))))
			return -ENOMEM;
		w.ino = i;
		created = true;
	} else {
		if (excl)
			return -EEXIST;
		if (S_ISLNK(i->mode) && !(flags & O_PATH))
			return -ELOOP;
		if (S_ISDIR(i->mode) && (flags & O_CREAT))
			return -EISDIR;
	}
	if ((flags & O_DIRECTORY) && !S_ISDIR(i->mode))
		return -ENOTDIR;
	u32 acc = flags & O_ACCMODE;
	if (!(flags & O_PATH)) {
		bool wr = acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC);
		if (S_ISDIR(i->mode) && wr)
			return -EISDIR;
		if (!S_ISDIR(i->mode) && !S_ISREG(i->mode) && !is_device(i))
			return -ENXIO; /* FIFOs, sockets, block and unknown devices */
		if (i->pn && wr)
			return -EACCES;
		if ((flags & O_TRUNC) && S_ISREG(i->mode) && !created)
			file_truncate(i, 0);
	}
	walk_path(&w, path1, text);
	struct file *f = file_new(i, (u32)(flags & O_KEPT) | O_LARGEFILE, text);
	if (!f)
		return -ENOMEM;
	if (i->pn && S_ISREG(i->mode) && !(flags & O_PATH)) {
		f->data = kalloc(LX_PAGE);
		if (!f->data) {
			file_put(f);
			return -ENOMEM;
		}
		f->data_len = (u64)proc_generate(i, f->data);
	}
	fd_set(p, fd, f, flags & O_CLOEXEC);
	return fd;
}

static s64 sys_close(struct proc *p, u64 fd)
{
	if (!fget(p, fd))
		return -EBADF;
	fd_set(p, (int)(u32)fd, NULL, false);
	return 0;
}

static s64 sys_close_range(struct proc *p, u64 first, u64 last, u64 flags)
{
	if (flags & ~(u64)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) || (u32)first > (u32)last)
		return -EINVAL;
	for (u64 fd = (u32)first; fd <= (u32)last && fd < MAX_FDS; fd++) {
		if (!p->fd[fd])
			continue;
		if (flags & CLOSE_RANGE_CLOEXEC)
			p->fd_cloexec[fd] = 1;
		else
			fd_set(p, (int)fd, NULL, false);
	}
	return 0;
}

static s64 dup_to(struct proc *p, struct file *f, int fd, bool cloexec)
{
	f->refs++;
	fd_set(p, fd, f, cloexec);
	return fd;
}

static s64 sys_dup(struct proc *p, u64 old)
{
	struct file *f = fget(p, old);
	if (!f)
		return -EBADF;
	int fd = fd_free_slot(p, 0);
	return fd < 0 ? fd : dup_to(p, f, fd, false);
}

static s64 sys_dup3(struct proc *p, u64 old, u64 new, u64 flags, bool dup2)
{
	if (!dup2 && (flags & ~(u64)O_CLOEXEC))
		return -EINVAL;
	struct file *f = fget(p, old);
	if (!dup2 && (u32)old == (u32)new)
		return -EINVAL;
	if ((u32)new >= MAX_FDS)
		return -EBADF;
	if (!f)
		return -EBADF;
	if ((u32)old == (u32)new)
		return (u32)new;
	return dup_to(p, f, (int)(u32)new, flags & O_CLOEXEC);
}

static s64 sys_fcntl(struct proc *p, u64 fd, u64 cmd, u64 arg)
{
	struct file *f = fget(p, fd);
	if (!f)
		return -EBADF;
	switch ((u32)cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC: {
		if ((u32)arg >= MAX_FDS)
			return -EINVAL;
		int nfd = fd_free_slot(p, (u32)arg);
		return nfd < 0 ? nfd : dup_to(p, f, nfd, (u32)cmd == F_DUPFD_CLOEXEC);
	}
	case F_GETFD: return p->fd_cloexec[(u32)fd] ? FD_CLOEXEC : 0;
	case F_SETFD: p->fd_cloexec[(u32)fd] = arg & FD_CLOEXEC; return 0;
	case F_GETFL: return f->flags;
	case F_SETFL:
		if (f->flags & O_PATH)
			return -EBADF;
		f->flags = (f->flags & ~(u32)O_SETFL) | ((u32)arg & O_SETFL);
		return 0;
	case F_GETLK: { /* no locks are held: nobody else's lock is in the way */
		if (f->flags & O_PATH)
			return -EBADF;
		u16 type = F_UNLCK;
		return copy_out(p, arg, &type, 2) ? 0 : -EFAULT;
	}
	case F_SETLK:
	case F_SETLKW: return f->flags & O_PATH ? -EBADF : 0;
	}
	return -EINVAL;
}

static s64 sys_ioctl(struct proc *p, u64 fd, u64 req, u64 arg)
{
	struct file *f = fget_io(p, fd);
	if (!f)
		return -EBADF;
	switch ((u32)req) {
	case FIOCLEX: p->fd_cloexec[(u32)fd] = 1; return 0;
	case FIONCLEX: p->fd_cloexec[(u32)fd] = 0; return 0;
	case FIONBIO: {
		int on;
		if (!copy_in(p, &on, arg, 4))
			return -EFAULT;
		f->flags = on ? f->flags | O_NONBLOCK : f->flags & ~(u32)O_NONBLOCK;
		return 0;
	}
	case FIONREAD:
		if (S_ISREG(f->ino->mode) || is_console(f->ino) || is_pipe(f->ino)) {
			int n = is_pipe(f->ino) ? (int)f->ino->pipe->len : is_console(f->ino) ? (int)tty_pending() : 0;
			if (S_ISREG(f->ino->mode)) {
				u64 size = f->data ? f->data_len : f->ino->size;
				n = f->pos < size ? (int)(size - f->pos < 0x7fffffff ? size - f->pos : 0x7fffffff) : 0;
			}
			return copy_out(p, arg, &n, 4) ? 0 : -EFAULT;
		}
		return -ENOTTY;
	}
	return is_console(f->ino) ? tty_ioctl(p, (u32)req, arg) : -ENOTTY;
}

/* ---- status: stat, statx, statfs ----------------------------------------------------------- */

static u64 inode_dev(struct inode *i) { return i->pn ? PROCFS_DEV : TMPFS_DEV; }

static u64 inode_size(struct inode *i)
{
	if (i->pn)
		return 0;
	if (S_ISDIR(i->mode))
		return 40 + 20 * dir_count(i); /* tmpfs: 20 bytes an entry */
	return S_ISREG(i->mode) || S_ISLNK(i->mode) ? i->size : 0;
}

static u64 inode_blocks(struct inode *i)
{
	if (!S_ISREG(i->mode) || i->pn)
		return 0;
	u64 pages = i->npages + (i->backing_size + LX_PAGE - 1) / LX_PAGE, most = (i->size + LX_PAGE - 1) / LX_PAGE;
	return (pages < most ? pages : most) * (LX_PAGE / 512);
}

static s64 do_stat(struct proc *p, struct inode *i, u64 buf)
{
	u64 st[18] = { 0 };
	st[0] = inode_dev(i);
	st[1] = i->ino;
	st[2] = i->nlink;
	st[3] = (u64)i->mode | (u64)i->uid << 32;
	st[4] = i->gid;
	st[5] = i->rdev;
	st[6] = inode_size(i);
	st[7] = LX_PAGE;
	st[8] = inode_blocks(i);
	s64 t[3] = { i->atime, i->mtime, i->ctime };
	for (int k = 0; k < 3; k++) {
		st[9 + 2 * k] = (u64)(t[k] / 1000000000);
		st[10 + 2 * k] = (u64)(t[k] % 1000000000);
	}
	return copy_out(p, buf, st, sizeof(st)) ? 0 : -EFAULT;
}

static s64 sys_fstat(struct proc *p, u64 fd, u64 buf)
{
	struct file *f = fget(p, fd);
	return f ? do_stat(p, f->ino, buf) : -EBADF;
}

static s64 sys_fstatat(struct proc *p, s64 dirfd, u64 upath, u64 buf, u64 flags)
{
	if (flags & ~(u64)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	struct inode *i;
	int r = target(p, dirfd, upath, !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH, &i);
	return r < 0 ? r : do_stat(p, i, buf);
}

struct statx_ts {
	s64 sec;
	u32 nsec;
	s32 reserved;
};

struct statx {
	u32 mask, blksize;
	u64 attributes;
	u32 nlink, uid, gid;
	u16 mode, spare0;
	u64 ino, size, blocks, attributes_mask;
	struct statx_ts atime, btime, ctime, mtime;
	u32 rdev_major, rdev_minor, dev_major, dev_minor;
	u64 mnt_id;
	u32 dio_mem_align, dio_offset_align;
	u64 spare3[12];
};
_Static_assert(sizeof(struct statx) == 256, "struct statx is 256 bytes");

static struct statx_ts ts(s64 ns) { return (struct statx_ts){ ns / 1000000000, (u32)(ns % 1000000000), 0 }; }

static s64 sys_statx(struct proc *p, s64 dirfd, u64 upath, u64 flags, u64 mask, u64 buf)
{
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE ||
	    (flags & ~(u64)(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)) ||
	    (mask & STATX__RESERVED))
		return -EINVAL;
	struct inode *i;
	int r = target(p, dirfd, upath, !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH, &i);
	if (r < 0)
		return r;
	struct statx x;
	memset(&x, 0, sizeof(x));
	x.mask = STATX_BASIC_STATS | STATX_MNT_ID;
	x.blksize = LX_PAGE;
	x.nlink = i->nlink;
	x.uid = i->uid;
	x.gid = i->gid;
	x.mode = (u16)i->mode;
	x.ino = i->ino;
	x.size = inode_size(i);
	x.blocks = inode_blocks(i);
	x.atime = ts(i->atime);
	x.ctime = ts(i->ctime);
	x.mtime = ts(i->mtime);
	x.rdev_major = i->rdev >> 8;
	x.rdev_minor = i->rdev & 0xff;
	x.dev_major = (u32)(inode_dev(i) >> 8);
	x.dev_minor = (u32)(inode_dev(i) & 0xff);
	x.mnt_id = i->pn ? 2 : 1;
	return copy_out(p, buf, &x, sizeof(x)) ? 0 : -EFAULT;
}

static s64 do_statfs(struct proc *p, struct inode *i, u64 buf)
{
	u64 s[15] = { 0 };
	const struct l4_kip *k = l4_kip();
	u64 total = 0;
	for (u32 n = 0; n < k->n_mem; n++)
		if (k->mem[n].type == L4_MEM_FREE)
			total += k->mem[n].size / LX_PAGE;
	u64 used = pages_in_use() < total ? pages_in_use() : total;
	s[0] = i->pn ? PROC_SUPER_MAGIC : TMPFS_MAGIC;
	s[1] = LX_PAGE;
	if (!i->pn) {
		s[2] = total / 2; /* tmpfs's default size: half the memory */
		s[3] = s[4] = total / 2 > used ? total / 2 - used : 0;
		s[5] = total;
		s[6] = total;
	}
	s[8] = NAME_MAX;
	s[9] = LX_PAGE;
	s[10] = 0x20; /* ST_RELATIME */
	return copy_out(p, buf, s, sizeof(s)) ? 0 : -EFAULT;
}

/* ---- directories ----------------------------------------------------------------------------- */

static u8 dtype(struct inode *i)
{
	switch (i->mode & S_IFMT) {
	case S_IFDIR: return DT_DIR;
	case S_IFREG: return DT_REG;
	case S_IFLNK: return DT_LNK;
	case S_IFCHR: return DT_CHR;
	case S_IFBLK: return DT_BLK;
	case S_IFIFO: return DT_FIFO;
	case S_IFSOCK: return DT_SOCK;
	}
	return 0;
}

/* One linux_dirent64 record (d_ino, d_off, d_reclen, d_type, d_name); its
 * length, 0 if it does not fit, or -EFAULT. */
static s64 put_dirent(struct proc *p, u64 buf, u64 room, u64 ino, u64 next, u8 type, const char *name)
{
	usize n = strlen(name);
	u64 reclen = (19 + n + 1 + 7) & ~7ull;
	if (reclen > room)
		return 0;
	u8 rec[19 + NAME_MAX + 1 + 8];
	memset(rec, 0, reclen);
	memcpy(rec, &ino, 8);
	memcpy(rec + 8, &next, 8);
	u16 rl = (u16)reclen;
	memcpy(rec + 16, &rl, 2);
	rec[18] = type;
	memcpy(rec + 19, name, n);
	return copy_out(p, buf, rec, reclen) ? (s64)reclen : -EFAULT;
}

static s64 sys_getdents64(struct proc *p, u64 fd, u64 buf, u64 count)
{
	struct file *f = fget_io(p, fd);
	if (!f)
		return -EBADF;
	struct inode *dir = f->ino;
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (!dir->nlink)
		return -ENOENT;
	count = (u32)count;
	u64 done = 0, pos = f->pos;
	struct dentry *d = dir->first;
	for (;;) {
		u64 ino, at;
		u8 type;
		const char *name;
		static char pname[NAME_MAX + 1];
		if (pos < 2) {
			at = pos;
			name = pos ? ".." : ".";
			ino = pos && dir->parent && dir != vfs_root ? dir->parent->ino : dir->ino;
			type = DT_DIR;
		} else if (dir->pn) {
			at = pos - 2;
			if (!proc_readdir(dir, &at, pname, &ino, &type))
				break;
			at += 2;
			name = pname;
		} else {
			while (d && d->seq < pos)
				d = d->next;
			if (!d)
				break;
			at = d->seq;
			name = d->name;
			ino = d->ino->ino;
			type = dtype(d->ino);
		}
		s64 r = put_dirent(p, buf + done, count - done, ino, at + 1, type, name);
		if (r < 0)
			return r;
		if (!r) {
			if (!done)
				return -EINVAL;
			break;
		}
		done += (u64)r;
		pos = at + 1;
	}
	f->pos = pos;
	return (s64)done;
}

static s64 sys_getcwd(struct proc *p, u64 buf, u64 size)
{
	int n = dir_path(p->cwd, text);
	if (n < 0)
		return n;
	if ((u64)n + 1 > size)
		return -ERANGE;
	return copy_out(p, buf, text, (u64)n + 1) ? n + 1 : -EFAULT;
}

static void set_cwd(struct proc *p, struct inode *i)
{
	iget(i);
	if (p->cwd)
		iput(p->cwd);
	p->cwd = i;
}

static s64 sys_chdir(struct proc *p, u64 upath)
{
	struct walk w;
	int r = lookup(p, AT_FDCWD, upath, path1, W_FOLLOW, false, &w);
	if (r < 0)
		return r;
	if (!w.ino)
		return -ENOENT;
	if (!S_ISDIR(w.ino->mode))
		return -ENOTDIR;
	set_cwd(p, w.ino);
	return 0;
}

static s64 sys_fchdir(struct proc *p, u64 fd)
{
	struct file *f = fget(p, fd);
	if (!f)
		return -EBADF;
	if (!S_ISDIR(f->ino->mode))
		return -ENOTDIR;
	set_cwd(p, f->ino);
	return 0;
}

/* A new name: its directory must exist and be ours (not /proc's). */
static int new_name(struct proc *p, s64 dirfd, u64 upath, char *buf, struct walk *w)
{
	int r = lookup(p, dirfd, upath, buf, W_NOSLASH, false, w);
	if (r < 0)
		return r;
	if (w->ino)
		return -EEXIST;
	if (w->dir->pn)
		return -EACCES;
	return w->dir->nlink ? 0 : -ENOENT;
}

static s64 sys_mkdirat(struct proc *p, s64 dirfd, u64 upath, u64 mode)
{
	struct walk w;
	int r = new_name(p, dirfd, upath, path1, &w);
	if (r < 0)
		return r;
	return create_named(&w, S_IFDIR | ((u32)mode & 01777 & ~p->umask)) ? 0 : -ENOMEM;
}

static s64 do_rmdir(struct walk *w)
{
	if (w->ino == vfs_root)
		return -EBUSY;
	if (is_dot(w))
		return -EINVAL;
	if (is_dotdot(w))
		return -ENOTEMPTY;
	if (!w->ino)
		return -ENOENT;
	if (!S_ISDIR(w->ino->mode))
		return -ENOTDIR;
	if (w->dir->pn || w->ino->pn)
		return w->ino->pn == PN_ROOT ? -EBUSY : -EACCES;
	if (!dir_empty(w->ino))
		return -ENOTEMPTY;
	dir_remove(w->dir, w->name, w->len);
	return 0;
}

static s64 sys_unlinkat(struct proc *p, s64 dirfd, u64 upath, u64 flags)
{
	if (flags & ~(u64)AT_REMOVEDIR)
		return -EINVAL;
	struct walk w;
	int r = lookup(p, dirfd, upath, path1, W_NOSLASH, false, &w);
	if (r < 0)
		return r;
	if (flags & AT_REMOVEDIR)
		return do_rmdir(&w);
	if (!w.ino)
		return -ENOENT;
	if (S_ISDIR(w.ino->mode))
		return -EISDIR;
	if (w.slash)
		return -ENOTDIR;
	if (w.dir->pn)
		return -EACCES;
	dir_remove(w.dir, w.name, w.len);
	return 0;
}

/* Whether directory d is a or below it. */
static bool below(struct inode *d, struct inode *a)
{
	for (; d; d = d == vfs_root ? NULL : d->parent)
		if (d == a)
			return true;
	return false;
}

static s64 sys_renameat2(struct proc *p, s64 odirfd, u64 uold, s64 ndirfd, u64 unew, u64 flags)
{
	if (flags & ~(u64)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) ||
	    ((flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT))) || (flags & RENAME_WHITEOUT))
		return -EINVAL;
	struct walk o, n;
	int r = lookup(p, odirfd, uold, path1, W_NOSLASH, false, &o);
	if (r < 0)
		return r;
	r = lookup(p, ndirfd, unew, path2, W_NOSLASH, false, &n);
	if (r < 0)
		return r;
	if (is_dot(&o) || is_dotdot(&o) || is_dot(&n) || is_dotdot(&n) || o.ino == vfs_root)
		return -EBUSY;
	if (!o.ino)
		return -ENOENT;
	if ((flags & RENAME_EXCHANGE) && !n.ino)
		return -ENOENT;
	if (o.ino->pn == PN_ROOT || (n.ino && n.ino->pn == PN_ROOT))
		return -EBUSY;
	if (o.dir->pn || n.dir->pn)
		return -EXDEV;
	if (!S_ISDIR(o.ino->mode) && (o.slash || n.slash))
		return -ENOTDIR;
	if (n.ino && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (o.ino == n.ino)
		return 0;
	if (flags & RENAME_EXCHANGE) {
		if ((S_ISDIR(o.ino->mode) && below(n.dir, o.ino)) || (S_ISDIR(n.ino->mode) && below(o.dir, n.ino)))
			return -EINVAL;
		dir_exchange(o.dir, o.name, o.len, n.dir, n.name, n.len);
		return 0;
	}
	if (S_ISDIR(o.ino->mode)) {
		if (n.ino && !S_ISDIR(n.ino->mode))
			return -ENOTDIR;
		if (below(n.dir, o.ino))
			return -EINVAL;
		if (n.ino && !dir_empty(n.ino))
			return -ENOTEMPTY;
	} else if (n.ino && S_ISDIR(n.ino->mode)) {
		return -EISDIR;
	}
	if (!n.dir->nlink)
		return -ENOENT;
	if (n.ino)
		dir_remove(n.dir, n.name, n.len);
	return dir_rename(o.dir, o.name, o.len, n.dir, n.name, n.len);
}

static s64 sys_linkat(struct proc *p, s64 odirfd, u64 uold, s64 ndirfd, u64 unew, u64 flags)
{
	if (flags & ~(u64)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct walk o, n;
	int r = lookup(p, odirfd, uold, path1, flags & AT_SYMLINK_FOLLOW ? W_FOLLOW : 0, flags & AT_EMPTY_PATH, &o);
	if (r < 0)
		return r;
	if (!o.ino)
		return -ENOENT;
	r = lookup(p, ndirfd, unew, path2, W_NOSLASH, false, &n);
	if (r < 0)
		return r;
	if (n.ino)
		return -EEXIST;
	if (n.slash)
		return -ENOENT;
	if (S_ISDIR(o.ino->mode))
		return -EPERM;
	if (o.ino->pn || n.dir->pn)
		return -EXDEV;
	if (!n.dir->nlink)
		return -ENOENT;
	return dir_add(n.dir, n.name, n.len, o.ino);
}

static s64 sys_symlinkat(struct proc *p, u64 utarget, s64 ndirfd, u64 unew)
{
	s64 len = path_in(p, path2, utarget);
	if (len < 0)
		return len;
	if (!len)
		return -ENOENT;
	struct walk w;
	int r = new_name(p, ndirfd, unew, path1, &w);
	if (r < 0)
		return r;
	if (w.slash)
		return -ENOENT;
	struct inode *i = inode_new(S_IFLNK | 0777);
	if (!i)
		return -ENOMEM;
	if ((r = symlink_set(i, path2, (usize)len)) < 0 || (r = dir_add(w.dir, w.name, w.len, i)) < 0) {
		iget(i);
		iput(i);
		return r;
	}
	return 0;
}

static s64 sys_readlinkat(struct proc *p, s64 dirfd, u64 upath, u64 buf, u64 size)
{
	if ((s32)size <= 0)
		return -EINVAL;
	struct walk w;
	int r = lookup(p, dirfd, upath, path1, 0, true, &w);
	if (r < 0)
		return r;
	struct inode *i = w.ino;
	if (!i)
		return -ENOENT;
	if (!S_ISLNK(i->mode))
		return path1[0] ? -EINVAL : -ENOENT;
	int n;
	if (i->pn) {
		n = proc_readlink(i, text);
		if (n < 0)
			return n;
	} else {
		n = (int)i->size;
		memcpy(text, i->target, (usize)n);
	}
	u64 k = (u64)n < (u32)size ? (u64)n : (u32)size;
	return copy_out(p, buf, text, k) ? (s64)k : -EFAULT;
}

/* ---- attributes ------------------------------------------------------------------------------ */

static s64 sys_faccessat(struct proc *p, s64 dirfd, u64 upath, u64 mode, u64 flags)
{
	if (mode & ~7ull)
		return -EINVAL;
	if (flags & ~(u64)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct inode *i;
	int r = target(p, dirfd, upath, !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH, &i);
	if (r < 0)
		return r;
	/* everything runs as root: only execution needs an x bit (or a directory) */
	if ((mode & X_OK) && !S_ISDIR(i->mode) && !(i->mode & 0111))
		return -EACCES;
	return 0;
}


static s64 do_chmod(struct inode *i, u64 mode)
{
	if (i->pn)
		return -EPERM;
	i->mode = (i->mode & S_IFMT) | ((u32)mode & 07777);
	inode_touch(i, false);
	return 0;
}

static s64 sys_fchmodat(struct proc *p, s64 dirfd, u64 upath, u64 mode)
{
	struct inode *i;
	int r = target(p, dirfd, upath, true, false, &i);
	return r < 0 ? r : do_chmod(i, mode);
}

static s64 do_chown(struct inode *i, u64 uid, u64 gid)
{
	if (i->pn)
		return -EPERM;
	if ((u32)uid != 0xffffffffu)
		i->uid = (u32)uid;
	if ((u32)gid != 0xffffffffu)
		i->gid = (u32)gid;
	inode_touch(i, false);
	return 0;
}

static s64 sys_fchownat(struct proc *p, s64 dirfd, u64 upath, u64 uid, u64 gid, u64 flags)
{
	if (flags & ~(u64)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct inode *i;
	int r = target(p, dirfd, upath, !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH, &i);
	return r < 0 ? r : do_chown(i, uid, gid);
}

static s64 sys_utimensat(struct proc *p, s64 dirfd, u64 upath, u64 utimes, u64 flags)
{
	if (flags & ~(u64)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	s64 t[4] = { 0, UTIME_NOW, 0, UTIME_NOW };
	if (utimes && !copy_in(p, t, utimes, sizeof(t)))
		return -EFAULT;
	for (int k = 0; k < 2; k++)
		if (t[2 * k + 1] != UTIME_NOW && t[2 * k + 1] != UTIME_OMIT && (u64)t[2 * k + 1] >= 1000000000ull)
			return -EINVAL;
	struct inode *i;
	if (!upath) { /* utimensat(fd, NULL, ...): the fd's file (futimens) */
		if ((int)dirfd == AT_FDCWD)
			return -EFAULT;
		struct file *f = fget(p, dirfd);
		if (!f)
			return -EBADF;
		i = f->ino;
	} else {
		int r = target(p, dirfd, upath, !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH, &i);
		if (r < 0)
			return r;
	}
	if (i->pn)
		return -EPERM;
	s64 now = vfs_now();
	s64 *slot[2] = { &i->atime, &i->mtime };
	for (int k = 0; k < 2; k++) {
		if (t[2 * k + 1] == UTIME_OMIT)
			continue;
		*slot[k] = t[2 * k + 1] == UTIME_NOW ? now : t[2 * k] * 1000000000ll + t[2 * k + 1];
	}
	i->ctime = now;
	return 0;
}

static s64 do_truncate(struct inode *i, s64 len)
{
	if (S_ISDIR(i->mode))
		return -EISDIR;
	if (!S_ISREG(i->mode) || i->pn)
		return -EINVAL;
	return file_truncate(i, (u64)len);
}

static s64 sys_truncate(struct proc *p, u64 upath, s64 len)
{
	struct inode *i;
	int r = target(p, AT_FDCWD, upath, true, false, &i);
	if (r < 0)
		return r;
	if (len < 0)
		return -EINVAL;
	return do_truncate(i, len);
}

static s64 sys_ftruncate(struct proc *p, u64 fd, s64 len)
{
	if (len < 0)
		return -EINVAL;
	struct file *f = fget_io(p, fd);
	if (!f)
		return -EBADF;
	if (!S_ISREG(f->ino->mode) || !writable(f))
		return -EINVAL;
	return do_truncate(f->ino, len);
}

static s64 sys_fsync(struct proc *p, u64 fd)
{
	struct file *f = fget_io(p, fd);
	if (!f)
		return -EBADF;
	return S_ISREG(f->ino->mode) || S_ISDIR(f->ino->mode) ? 0 : -EINVAL; /* tmpfs: nothing to write back */
}

/* ---- processes ----------------------------------------------------------------------------------- */

void fs_proc_start(struct proc *p)
{
	struct file *f = file_new(console_ino, O_RDWR | O_LARGEFILE, "/dev/console");
	for (int fd = 0; fd < 3 && f; fd++) {
		p->fd[fd] = f;
		p->fd_cloexec[fd] = 0;
	}
	if (f)
		f->refs = 3;
	set_cwd(p, vfs_root);
	p->umask = 022;
}

void fs_fork(struct proc *parent, struct proc *child)
{
	for (int fd = 0; fd < MAX_FDS; fd++) {
		child->fd[fd] = parent->fd[fd];
		child->fd_cloexec[fd] = parent->fd_cloexec[fd];
		if (child->fd[fd])
			child->fd[fd]->refs++;
	}
	child->cwd = NULL;
	set_cwd(child, parent->cwd);
	child->umask = parent->umask;
}

void fs_exec(struct proc *p)
{
	for (int fd = 0; fd < MAX_FDS; fd++)
		if (p->fd[fd] && p->fd_cloexec[fd])
			fd_set(p, fd, NULL, false);
	vfs_gc();
}

void fs_proc_exit(struct proc *p)
{
	for (int fd = 0; fd < MAX_FDS; fd++)
		if (p->fd[fd])
			fd_set(p, fd, NULL, false);
	if (p->cwd)
		iput(p->cwd);
	p->cwd = NULL;
	vfs_gc();
}

s64 fs_exec_open(struct proc *p, u64 upath, char *path, struct inode **ino)
{
	fs_current = p;
	s64 n = upath ? path_in(p, path1, upath) : (s64)strlen(path);
	if (n < 0)
		return n;
	if (!upath)
		memcpy(path1, path, (usize)n + 1);
	if (!n)
		return -ENOENT;
	struct inode *start;
	struct walk w = { 0 };
	int r = start_dir(p, AT_FDCWD, path1, &start);
	if (!r)
		r = vfs_walk(start, path1, W_FOLLOW, &w);
	if (r)
		return r;
	if (!w.ino)
		return -ENOENT;
	if (!S_ISREG(w.ino->mode) || !(w.ino->mode & 0111))
		return -EACCES;
	walk_path(&w, path1, path);
	*ino = w.ino;
	return 0;
}

/* ---- the tree at start ------------------------------------------------------------------------------ */

static struct inode *ensure(struct inode *dir, const char *name, u32 mode, u32 rdev)
{
	struct inode *i = dir_lookup(dir, name, strlen(name));
	if (i)
		return i;
	i = inode_new(mode);
	if (!i)
		return NULL;
	i->rdev = rdev;
	if (dir_add(dir, name, strlen(name), i) < 0)
		return NULL;
	return i;
}

bool fs_init(const u8 *initramfs, u64 size)
{
	vfs_root = inode_new(S_IFDIR | 0755);
	if (!vfs_root)
		return false;
	vfs_root->nlink = 2;
	vfs_root->refs = 1; /* for ever */
	if (initramfs) {
		int n = initramfs_unpack(initramfs, size);
		if (n < 0)
			return false;
		printf("linux: initramfs: %d entries, %llu KiB\n", n, (unsigned long long)(size / 1024));
	}
	struct inode *dev = ensure(vfs_root, "dev", S_IFDIR | 0755, 0);
	if (!dev || !S_ISDIR(dev->mode))
		return false;
	static const struct {
		const char *name;
		u32 mode, rdev;
	} nodes[] = {
		{ "console", S_IFCHR | 0600, DEV_CONSOLE }, { "tty", S_IFCHR | 0666, DEV_TTY },
		{ "null", S_IFCHR | 0666, DEV_NULL },       { "zero", S_IFCHR | 0666, DEV_ZERO },
		{ "full", S_IFCHR | 0666, DEV_FULL },       { "random", S_IFCHR | 0666, DEV_RANDOM },
		{ "urandom", S_IFCHR | 0666, DEV_URANDOM },
	};
	for (usize k = 0; k < ARRAY_SIZE(nodes); k++)
		ensure(dev, nodes[k].name, nodes[k].mode, nodes[k].rdev);
	struct inode *con = dir_lookup(dev, "console", 7);
	if (con && S_ISCHR(con->mode) && con->rdev == DEV_CONSOLE) {
		console_ino = con;
	} else if ((console_ino = inode_new(S_IFCHR | 0600))) {
		console_ino->rdev = DEV_CONSOLE;
	}
	if (!console_ino)
		return false;
	iget(console_ino);
	/* /proc: over an empty directory of that name, as a mount would be */
	struct inode *proc = dir_lookup(vfs_root, "proc", 4), *pr = procfs_root();
	if (proc && S_ISDIR(proc->mode) && dir_empty(proc) && !proc->pn)
		dir_remove(vfs_root, "proc", 4);
	if (!pr || (!dir_lookup(vfs_root, "proc", 4) && dir_add(vfs_root, "proc", 4, pr) < 0))
		return false;
	iget(pr);
	ensure(vfs_root, "tmp", S_IFDIR | 01777, 0);
	vfs_gc();
	return true;
}

/* ---- the table ---------------------------------------------------------------------------------------- */

bool fs_syscall(struct proc *p, u64 nr, const u64 *a, s64 *ret)
{
	s64 r;
	fs_current = p;
	switch (nr) {
	case SYS_read: r = sys_read(p, a[0], a[1], a[2]); break;
	case SYS_write: r = sys_write(p, a[0], a[1], a[2]); break;
	case SYS_pread64: r = sys_pread(p, a[0], a[1], a[2], a[3], false); break;
	case SYS_pwrite64: r = sys_pread(p, a[0], a[1], a[2], a[3], true); break;
	case SYS_readv: r = sys_iov(p, a[0], a[1], a[2], -1, false); break;
	case SYS_writev: r = sys_iov(p, a[0], a[1], a[2], -1, true); break;
	case SYS_preadv:
	case SYS_pwritev:
		r = (s64)a[3] < 0 ? -EINVAL : sys_iov(p, a[0], a[1], a[2], (s64)a[3], nr == SYS_pwritev);
		break;
	case SYS_sendfile: r = sys_sendfile(p, a[0], a[1], a[2], a[3]); break;
	case SYS_lseek: r = sys_lseek(p, a[0], (s64)a[1], a[2]); break;
	case SYS_open: r = open_at(p, AT_FDCWD, a[0], a[1], a[2]); break;
	case SYS_openat: r = open_at(p, (s64)a[0], a[1], a[2], a[3]); break;
	case SYS_creat: r = open_at(p, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1]); break;
	case SYS_close: r = sys_close(p, a[0]); break;
	case SYS_pipe: r = sys_pipe2(p, a[0], 0); break;
	case SYS_poll:
	case SYS_ppoll:
		r = poll_timeout(p, a[2], nr == SYS_ppoll);
		r = r < 0 ? r : sys_poll(p, a[0], a[1], (u64)r);
		break;
	case SYS_select:
	case SYS_pselect6: {
		const u64 sets[3] = { a[1], a[2], a[3] };
		r = select_timeout(p, a[4], nr == SYS_pselect6);
		r = r < 0 ? r : sys_select(p, a[0], sets, r);
		break;
	}
	case SYS_pipe2: r = sys_pipe2(p, a[0], a[1]); break;
	case SYS_close_range: r = sys_close_range(p, a[0], a[1], a[2]); break;
	case SYS_dup: r = sys_dup(p, a[0]); break;
	case SYS_dup2: r = sys_dup3(p, a[0], a[1], 0, true); break;
	case SYS_dup3: r = sys_dup3(p, a[0], a[1], a[2], false); break;
	case SYS_fcntl: r = sys_fcntl(p, a[0], a[1], a[2]); break;
	case SYS_ioctl: r = sys_ioctl(p, a[0], a[1], a[2]); break;
	case SYS_stat: r = sys_fstatat(p, AT_FDCWD, a[0], a[1], 0); break;
	case SYS_lstat: r = sys_fstatat(p, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW); break;
	case SYS_fstat: r = sys_fstat(p, a[0], a[1]); break;
	case SYS_newfstatat: r = sys_fstatat(p, (s64)a[0], a[1], a[2], a[3]); break;
	case SYS_statx: r = sys_statx(p, (s64)a[0], a[1], a[2], a[3], a[4]); break;
	case SYS_statfs: {
		struct inode *i;
		r = target(p, AT_FDCWD, a[0], true, false, &i);
		r = r < 0 ? r : do_statfs(p, i, a[1]);
		break;
	}
	case SYS_fstatfs: {
		struct file *f = fget(p, a[0]);
		r = f ? do_statfs(p, f->ino, a[1]) : -EBADF;
		break;
	}
	case SYS_getdents64: r = sys_getdents64(p, a[0], a[1], a[2]); break;
	case SYS_getcwd: r = sys_getcwd(p, a[0], a[1]); break;
	case SYS_chdir: r = sys_chdir(p, a[0]); break;
	case SYS_fchdir: r = sys_fchdir(p, a[0]); break;
	case SYS_mkdir: r = sys_mkdirat(p, AT_FDCWD, a[0], a[1]); break;
	case SYS_mkdirat: r = sys_mkdirat(p, (s64)a[0], a[1], a[2]); break;
	case SYS_rmdir: r = sys_unlinkat(p, AT_FDCWD, a[0], AT_REMOVEDIR); break;
	case SYS_unlink: r = sys_unlinkat(p, AT_FDCWD, a[0], 0); break;
	case SYS_unlinkat: r = sys_unlinkat(p, (s64)a[0], a[1], a[2]); break;
	case SYS_rename: r = sys_renameat2(p, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); break;
	case SYS_renameat: r = sys_renameat2(p, (s64)a[0], a[1], (s64)a[2], a[3], 0); break;
	case SYS_renameat2: r = sys_renameat2(p, (s64)a[0], a[1], (s64)a[2], a[3], a[4]); break;
	case SYS_link: r = sys_linkat(p, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); break;
	case SYS_linkat: r = sys_linkat(p, (s64)a[0], a[1], (s64)a[2], a[3], a[4]); break;
	case SYS_symlink: r = sys_symlinkat(p, a[0], AT_FDCWD, a[1]); break;
	case SYS_symlinkat: r = sys_symlinkat(p, a[0], (s64)a[1], a[2]); break;
	case SYS_readlink: r = sys_readlinkat(p, AT_FDCWD, a[0], a[1], a[2]); break;
	case SYS_readlinkat: r = sys_readlinkat(p, (s64)a[0], a[1], a[2], a[3]); break;
	case SYS_access: r = sys_faccessat(p, AT_FDCWD, a[0], a[1], 0); break;
	case SYS_faccessat: r = sys_faccessat(p, (s64)a[0], a[1], a[2], 0); break;
	case SYS_faccessat2: r = sys_faccessat(p, (s64)a[0], a[1], a[2], a[3]); break;
	case SYS_chmod: r = sys_fchmodat(p, AT_FDCWD, a[0], a[1]); break;
	case SYS_fchmodat: r = sys_fchmodat(p, (s64)a[0], a[1], a[2]); break;
	case SYS_fchmod: {
		struct file *f = fget_io(p, a[0]);
		r = f ? do_chmod(f->ino, a[1]) : -EBADF;
		break;
	}
	case SYS_chown: r = sys_fchownat(p, AT_FDCWD, a[0], a[1], a[2], 0); break;
	case SYS_lchown: r = sys_fchownat(p, AT_FDCWD, a[0], a[1], a[2], AT_SYMLINK_NOFOLLOW); break;
	case SYS_fchownat: r = sys_fchownat(p, (s64)a[0], a[1], a[2], a[3], a[4]); break;
	case SYS_fchown: {
		struct file *f = fget_io(p, a[0]);
		r = f ? do_chown(f->ino, a[1], a[2]) : -EBADF;
		break;
	}
	case SYS_utimensat: r = sys_utimensat(p, (s64)a[0], a[1], a[2], a[3]); break;
	case SYS_umask:
		r = p->umask;
		p->umask = (u32)a[0] & 0777;
		break;
	case SYS_truncate: r = sys_truncate(p, a[0], (s64)a[1]); break;
	case SYS_ftruncate: r = sys_ftruncate(p, a[0], (s64)a[1]); break;
	case SYS_fsync:
	case SYS_fdatasync: r = sys_fsync(p, a[0]); break;
	case SYS_sync: r = 0; break;
	case SYS_syncfs: r = fget(p, a[0]) ? 0 : -EBADF; break;
	case SYS_fadvise64: r = fget(p, a[0]) ? 0 : -EBADF; break;
	default: return false;
	}
	vfs_gc();
	*ret = r;
	return true;
}
