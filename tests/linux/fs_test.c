/* The Linux server's file system calls, each with its error cases, as an
 * ordinary static program (glibc and musl).  Run with the initramfs
 * build/lx/fs_root.cpio (tests/linux/fs_root and the Makefile's
 * additions); it works in /tmp.  Prints "ok N - what" or "not ok N -
 * what" per check and exits with the number of failures. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#include "check.h"

/* A call that must succeed (not -1). */
#define WORKS(call, what)                                                                    \
	do {                                                                                 \
		errno = 0;                                                                   \
		long r_ = (long)(call);                                                      \
		check(r_ != -1, "%s (got %ld, %s)", what, r_, r_ == -1 ? strerror(errno) : "ok"); \
	} while (0)

static void *volatile wild = (void *)8; /* an address nobody maps */

/* The kernel's struct statx and linux_dirent64 (musl 1.2.3 has no statx()). */
struct kstatx_ts {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};
struct kstatx {
	uint32_t stx_mask, stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink, stx_uid, stx_gid;
	uint16_t stx_mode, spare0;
	uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct kstatx_ts stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	uint64_t spare[14];
};
struct kdirent {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

static int file_is(const char *path, const char *want)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = 0;
	return !strcmp(buf, want);
}

static int make_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, strlen(data));
	close(fd);
	return n == (ssize_t)strlen(data) ? 0 : -1;
}

/* Names in a directory, through getdents64, as "a b c" (sorted) into out. */
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int list_dir(const char *path, char *out, size_t size, int *types_ok)
{
	char buf[512], names[64][64];
	char *sorted[64];
	int n = 0, fd = open(path, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	*types_ok = 1;
	for (;;) {
		long r = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		for (long off = 0; off < r;) {
			struct kdirent *d = (struct kdirent *)(buf + off);
			if (n < 64)
				snprintf(names[n++], 64, "%s", d->d_name);
			char full[512];
			struct stat st;
			snprintf(full, sizeof(full), "%s/%s", path, d->d_name);
			if (lstat(full, &st) == 0 && ((S_ISDIR(st.st_mode) && d->d_type != DT_DIR) ||
						      (S_ISREG(st.st_mode) && d->d_type != DT_REG) ||
						      (S_ISLNK(st.st_mode) && d->d_type != DT_LNK) || st.st_ino != d->d_ino))
				*types_ok = 0;
			off += d->d_reclen;
		}
	}
	close(fd);
	for (int k = 0; k < n; k++)
		sorted[k] = names[k];
	qsort(sorted, (size_t)n, sizeof(sorted[0]), cmp);
	out[0] = 0;
	for (int k = 0; k < n; k++) {
		strncat(out, sorted[k], size - strlen(out) - 2);
		if (k + 1 < n)
			strcat(out, " ");
	}
	return n;
}

static long mem_available(void)
{
	char buf[1024];
	long kb = -1;
	int fd = open("/proc/meminfo", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	char *p = strstr(buf, "MemAvailable:");
	if (p)
		sscanf(p, "MemAvailable: %ld kB", &kb);
	return kb;
}

/* Pages of a file are given back when it goes. */
static void test_memory(void)
{
	static char chunk[65536];
	memset(chunk, 'm', sizeof(chunk));
	long before = mem_available();
	int fd = open("/tmp/mem", O_RDWR | O_CREAT | O_TRUNC, 0644);
	for (int k = 0; k < 64; k++)
		if (write(fd, chunk, sizeof(chunk)) != sizeof(chunk))
			break;
	long during = mem_available();
	check(before > 0 && before - during >= 4096, "a 4 MiB file takes 4 MiB (%ld kB)", before - during);
	check(ftruncate(fd, 4096) == 0 && mem_available() - during >= 4000, "truncation gives it back");
	close(fd);
	unlink("/tmp/mem");
	long after = mem_available();
	check(before - after < 64 && after - before < 64, "and unlink the rest (%ld kB before, %ld after)", before,
	      after);
}

static void test_stdio(void)
{
	struct stat st;
	struct winsize ws;
	struct termios t;
	char buf[8];
	WORKS(fstat(1, &st), "fstat(1)");
	check(S_ISCHR(st.st_mode) && st.st_rdev == makedev(5, 1), "stdout is /dev/console (mode %o, rdev %lx)",
	      st.st_mode, (unsigned long)st.st_rdev);
	check(isatty(0) && isatty(1) && isatty(2), "isatty(0, 1, 2)");
	WORKS(ioctl(1, TIOCGWINSZ, &ws), "ioctl(1, TIOCGWINSZ)");
	check(ws.ws_row > 0 && ws.ws_col > 0, "window size %dx%d", ws.ws_col, ws.ws_row);
	WORKS(tcgetattr(1, &t), "tcgetattr(1) (TCGETS)");
	WORKS(tcsetattr(1, TCSANOW, &t), "tcsetattr(1) (TCSETS)");
	FAILS(ioctl(1, 0x7fff, 0), ENOTTY, "unknown ioctl on the console");
	FAILS(lseek(1, 0, SEEK_CUR), ESPIPE, "lseek on the console");
	FAILS(pread(0, buf, 1, 0), ESPIPE, "pread on the console");
	check(write(1, "", 0) == 0, "write of 0 bytes to stdout");
	char *tty = ttyname(1);
	check(tty && !strcmp(tty, "/dev/console"), "ttyname(1) is /dev/console (%s)", tty ? tty : "NULL");
}

static void test_initramfs(void)
{
	struct stat st, st2;
	char buf[64];
	check(file_is("/etc/hello.txt", "hello from the initramfs\n"), "initramfs file /etc/hello.txt");
	WORKS(stat("/etc/hello.txt", &st), "stat /etc/hello.txt");
	check(st.st_size == 25 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644 && st.st_nlink == 2,
	      "its size 25, mode 0644, 2 links (%ld, %o, %ld)", (long)st.st_size, st.st_mode, (long)st.st_nlink);
	WORKS(stat("/etc/hard.txt", &st2), "stat /etc/hard.txt");
	check(st2.st_ino == st.st_ino && st2.st_size == 25, "hard link in the archive: same inode and data");
	check(file_is("/etc/link", "hello from the initramfs\n"), "symlink in the archive leads to the file");
	WORKS(lstat("/etc/link", &st), "lstat /etc/link");
	check(S_ISLNK(st.st_mode) && st.st_size == 9, "it is a link of 9 bytes");
	check(readlink("/etc/link", buf, sizeof(buf)) == 9 && !memcmp(buf, "hello.txt", 9), "readlink /etc/link");
	WORKS(stat("/etc/secret", &st), "stat /etc/secret");
	check((st.st_mode & 07777) == 0600, "mode 0600 from the archive (%o)", st.st_mode & 07777);
	WORKS(stat("/bin/script.sh", &st), "stat /bin/script.sh");
	check((st.st_mode & 07777) == 0755 && st.st_size == 18, "an executable of 18 bytes");
	check(stat("/etc", &st) == 0 && st.st_mtime > 1000000000 && stat("/etc/secret", &st2) == 0 &&
		      st2.st_mtime > 1000000000,
	      "mtimes of files and directories are the archive's (%ld, %ld)", (long)st.st_mtime, (long)st2.st_mtime);
	WORKS(stat("/tmp", &st), "stat /tmp");
	check(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777, "/tmp is 1777 (%o)", st.st_mode & 07777);
	check(file_is("/bin/etc-dir/secret", "top secret\n"), "a path through a relative symlink to a directory");
	char names[512];
	int types_ok, n = list_dir("/etc", names, sizeof(names), &types_ok);
	check(n == 7 && !strcmp(names, ". .. hard.txt hello.txt link numbers secret") && types_ok,
	      "getdents64 of /etc: \"%s\", types %s", names, types_ok ? "right" : "wrong");
	n = list_dir("/", names, sizeof(names), &types_ok);
	check(!strcmp(names, ". .. bin dev empty etc proc tmp") && types_ok, "getdents64 of /: \"%s\"", names);

	/* a longer file: pages of the archive's bytes, copied when written */
	static char big[16384];
	int fd = open("/etc/numbers", O_RDWR);
	check(fd >= 0 && read(fd, big, sizeof(big)) == 13893 && !memcmp(big, "1\n2\n3\n", 6) &&
		      !memcmp(big + 13893 - 5, "3000\n", 5),
	      "read /etc/numbers (13893 bytes)");
	check(pwrite(fd, "XY", 2, 5000) == 2, "pwrite into the middle of it");
	char around[8];
	check(pread(fd, around, 6, 4998) == 6 && around[2] == 'X' && around[3] == 'Y' && around[0] == big[4998] &&
		      around[5] == big[5003],
	      "the bytes around the write are kept");
	check(pread(fd, around, 4, 12000) == 4 && !memcmp(around, big + 12000, 4), "the other pages too");
	check(ftruncate(fd, 6000) == 0 && ftruncate(fd, 13893) == 0 && pread(fd, around, 4, 8000) == 4 &&
		      !memcmp(around, "\0\0\0\0", 4),
	      "truncated and grown again: zeros, not the archive's bytes");
	close(fd);
}

static void test_files(void)
{
	char buf[256];
	struct stat st;
	int fd = open("/tmp/f", O_RDWR | O_CREAT | O_EXCL, 0666);
	check(fd >= 3, "open O_CREAT|O_EXCL /tmp/f (fd %d)", fd);
	WORKS(fstat(fd, &st), "fstat");
	check(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0644 && st.st_size == 0 && st.st_nlink == 1,
	      "new file: regular, 0666 & ~umask 022 = 0644, empty, 1 link");
	check(write(fd, "hello world", 11) == 11, "write 11 bytes");
	check(lseek(fd, 0, SEEK_CUR) == 11, "the offset moved to 11");
	check(lseek(fd, 0, SEEK_SET) == 0 && read(fd, buf, sizeof(buf)) == 11 && !memcmp(buf, "hello world", 11),
	      "read it back");
	check(read(fd, buf, sizeof(buf)) == 0, "read at the end: 0");
	check(pread(fd, buf, 5, 6) == 5 && !memcmp(buf, "world", 5), "pread at 6");
	check(pwrite(fd, "HELLO", 5, 0) == 5 && lseek(fd, 0, SEEK_CUR) == 11, "pwrite leaves the offset");
	check(pread(fd, buf, 11, 0) == 11 && !memcmp(buf, "HELLO world", 11), "pwrite wrote");
	FAILS(pread(fd, buf, 1, -1), EINVAL, "pread at a negative offset");
	FAILS(open("/tmp/f", O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST, "O_CREAT|O_EXCL of an existing file");
	FAILS(open("/tmp/nonexistent", O_RDONLY), ENOENT, "open of a missing file");
	FAILS(open("/tmp/nodir/x", O_RDWR | O_CREAT, 0644), ENOENT, "O_CREAT in a missing directory");
	FAILS(open("/tmp/f/x", O_RDONLY), ENOTDIR, "a path through a file");
	FAILS(open("/tmp/f/", O_RDONLY), ENOTDIR, "a file with a trailing slash");
	FAILS(open("/tmp/new/", O_RDWR | O_CREAT, 0644), EISDIR, "O_CREAT of a name with a trailing slash");
	FAILS(open("/tmp/f", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file");
	FAILS(open("/tmp", O_WRONLY), EISDIR, "a directory opened for writing");
	FAILS(open("/tmp", O_RDONLY | O_CREAT, 0644), EISDIR, "O_CREAT on a directory");
	FAILS(open("", O_RDONLY), ENOENT, "open of an empty path");
	int dfd = open("/tmp", O_RDONLY);
	check(dfd >= 0, "a directory opened for reading");
	FAILS(read(dfd, buf, 1), EISDIR, "read from a directory");
	close(dfd);

	/* access modes */
	int ro = open("/tmp/f", O_RDONLY), wo = open("/tmp/f", O_WRONLY);
	FAILS(write(ro, "x", 1), EBADF, "write to an O_RDONLY fd");
	FAILS(read(wo, buf, 1), EBADF, "read from an O_WRONLY fd");
	FAILS(ftruncate(ro, 0), EINVAL, "ftruncate of an O_RDONLY fd");
	close(ro);
	close(wo);

	/* O_APPEND, O_TRUNC */
	int ap = open("/tmp/f", O_WRONLY | O_APPEND);
	check(ap >= 0 && write(ap, "!", 1) == 1 && lseek(ap, 0, SEEK_CUR) == 12, "O_APPEND writes at the end");
	check(lseek(ap, 0, SEEK_SET) == 0 && write(ap, "?", 1) == 1 && pread(fd, buf, 13, 0) == 13 &&
		      !memcmp(buf, "HELLO world!?", 13),
	      "... even after a seek");
	close(ap);
	int tr = open("/tmp/f", O_RDWR | O_TRUNC);
	check(tr >= 0 && fstat(tr, &st) == 0 && st.st_size == 0, "O_TRUNC empties it");
	close(tr);

	/* readv, writev */
	struct iovec iov[3] = { { "abc", 3 }, { "", 0 }, { "defgh", 5 } };
	check(lseek(fd, 0, SEEK_SET) == 0 && writev(fd, iov, 3) == 8, "writev of 3 vectors");
	char a[2], b[10];
	struct iovec riov[2] = { { a, 2 }, { b, 10 } };
	check(lseek(fd, 0, SEEK_SET) == 0 && readv(fd, riov, 2) == 8 && !memcmp(a, "ab", 2) && !memcmp(b, "cdefgh", 6),
	      "readv into 2 vectors");
	FAILS(syscall(SYS_writev, fd, iov, -1), EINVAL, "writev with a negative count");
	FAILS(readv(fd, wild, 1), EFAULT, "readv with a wild iovec array");
	check(pwritev(fd, iov, 1, 100) == 3 && preadv(fd, riov, 1, 100) == 2 && !memcmp(a, "ab", 2),
	      "pwritev and preadv at 100");

	/* lseek and holes */
	check(lseek(fd, 0, SEEK_END) == 103, "SEEK_END: 103");
	check(lseek(fd, -3, SEEK_CUR) == 100, "SEEK_CUR -3");
	FAILS(lseek(fd, -200, SEEK_CUR), EINVAL, "a seek before the start");
	FAILS(lseek(fd, 0, 7), EINVAL, "a bad whence");
	check(lseek(fd, 10, SEEK_DATA) == 10 && lseek(fd, 10, SEEK_HOLE) == 103, "SEEK_DATA, SEEK_HOLE");
	FAILS(lseek(fd, 500, SEEK_DATA), ENXIO, "SEEK_DATA past the end");
	check(lseek(fd, 1 << 20, SEEK_SET) == 1 << 20 && write(fd, "end", 3) == 3, "a write 1 MiB in");
	check(fstat(fd, &st) == 0 && st.st_size == (1 << 20) + 3, "size 1 MiB + 3");
	memset(buf, 'x', sizeof(buf));
	check(pread(fd, buf, 100, 500000) == 100 && !memcmp(buf, (char[100]){ 0 }, 100), "the hole reads as zeros");
	check(st.st_blocks > 0 && st.st_blocks < 64, "only the written pages count in st_blocks (%ld)",
	      (long)st.st_blocks);

	/* a big file */
	size_t size = 3 * 1024 * 1024 + 123;
	unsigned char *data = malloc(size), *back = malloc(size);
	for (size_t k = 0; k < size; k++)
		data[k] = (unsigned char)(k * 7 + k / 4099);
	check(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size, "pwrite 3 MiB + 123");
	check(pread(fd, back, size, 0) == (ssize_t)size && !memcmp(data, back, size), "pread it back whole");
	check(pread(fd, back, 5000, 4096 * 300 - 17) == 5000 && !memcmp(back, data + 4096 * 300 - 17, 5000),
	      "a read across pages");
	free(data);
	free(back);

	/* truncation */
	check(ftruncate(fd, 10) == 0 && fstat(fd, &st) == 0 && st.st_size == 10, "ftruncate to 10");
	check(ftruncate(fd, 8192) == 0 && pread(fd, buf, 20, 5) == 20 && !memcmp(buf + 5, (char[15]){ 0 }, 15),
	      "grown to 8192: zeros past 10");
	FAILS(ftruncate(fd, -1), EINVAL, "ftruncate to a negative size");
	check(truncate("/tmp/f", 100) == 0 && stat("/tmp/f", &st) == 0 && st.st_size == 100, "truncate by path");
	FAILS(truncate("/tmp", 0), EISDIR, "truncate of a directory");
	FAILS(truncate("/tmp/nonexistent", 0), ENOENT, "truncate of a missing file");
	FAILS(truncate("/tmp/f", -5), EINVAL, "truncate to a negative size");

	WORKS(fsync(fd), "fsync");
	WORKS(fdatasync(fd), "fdatasync");
	FAILS(fsync(1000), EBADF, "fsync of a bad fd");
	FAILS(fsync(1), EINVAL, "fsync of the console");

	/* wild pointers */
	FAILS(write(fd, wild, 10), EFAULT, "write from a wild pointer");
	FAILS(pread(fd, wild, 10, 0), EFAULT, "read into a wild pointer");
	FAILS(syscall(SYS_open, wild, O_RDONLY), EFAULT, "open of a wild path");
	FAILS(syscall(SYS_open, 0xffff800000000000ul, O_RDONLY), EFAULT, "open of a path in the kernel's half");
	FAILS(syscall(SYS_write, fd, 0xfffffffffffff000ul, 4096), EFAULT, "write from the top of the address space");

	/* an open file outlives its name */
	WORKS(unlink("/tmp/f"), "unlink of an open file");
	check(fstat(fd, &st) == 0 && st.st_nlink == 0, "it has no links now");
	check(pwrite(fd, "still", 5, 0) == 5 && pread(fd, buf, 5, 0) == 5 && !memcmp(buf, "still", 5),
	      "it can still be written and read");
	FAILS(stat("/tmp/f", &st), ENOENT, "its name is gone");
	check(close(fd) == 0, "close");
	FAILS(close(fd), EBADF, "close again");
	FAILS(read(fd, buf, 1), EBADF, "read of a closed fd");
	FAILS(close(-1), EBADF, "close(-1)");

	/* stdio through the file system calls */
	FILE *f = fopen("/tmp/stdio.txt", "w");
	check(f && fprintf(f, "line %d\n", 42) > 0 && fclose(f) == 0, "fopen, fprintf, fclose");
	f = fopen("/tmp/stdio.txt", "r");
	check(f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "line 42\n") && fclose(f) == 0, "fgets it back");

	/* O_TMPFILE */
	int t = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	check(t >= 0 && write(t, "tmp", 3) == 3 && fstat(t, &st) == 0 && st.st_nlink == 0, "O_TMPFILE: unnamed");
	char proc_path[64];
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", t);
	check(linkat(t, "", AT_FDCWD, "/tmp/was-tmp", AT_EMPTY_PATH) == 0 && file_is("/tmp/was-tmp", "tmp"),
	      "linkat AT_EMPTY_PATH gives it a name");
	close(t);
	FAILS(open("/tmp", O_TMPFILE | O_RDONLY), EINVAL, "O_TMPFILE read-only");

	/* sendfile */
	int in = open("/etc/hello.txt", O_RDONLY), out = open("/tmp/copy", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	off_t off = 6;
	check(syscall(SYS_sendfile, out, in, &off, 100) == 19 && off == 25 && lseek(in, 0, SEEK_CUR) == 0 &&
		      file_is("/tmp/copy", "from the initramfs\n"),
	      "sendfile from an offset");
	close(in);
	close(out);
}

static void test_stat(void)
{
	struct stat st, st2;
	struct kstatx sx;
	check(sizeof(struct stat) == 144, "struct stat is 144 bytes");
	make_file("/tmp/s", "12345");
	WORKS(stat("/tmp/s", &st), "stat");
	check(st.st_size == 5 && st.st_blksize == 4096 && st.st_nlink == 1 && st.st_uid == 0 && st.st_ino != 0,
	      "stat fields: size 5, blksize 4096, 1 link, uid 0");
	int fd = open("/tmp/s", O_RDONLY);
	check(fstat(fd, &st2) == 0 && st2.st_ino == st.st_ino && st2.st_dev == st.st_dev, "fstat: the same inode");
	check(fstatat(AT_FDCWD, "/tmp/s", &st2, 0) == 0 && st2.st_ino == st.st_ino, "fstatat AT_FDCWD");
	int tmp = open("/tmp", O_RDONLY | O_DIRECTORY);
	check(fstatat(tmp, "s", &st2, 0) == 0 && st2.st_ino == st.st_ino, "fstatat relative to a directory fd");
	check(fstatat(fd, "", &st2, AT_EMPTY_PATH) == 0 && st2.st_ino == st.st_ino, "fstatat AT_EMPTY_PATH");
	FAILS(fstatat(fd, "", &st2, 0), ENOENT, "fstatat of an empty path without AT_EMPTY_PATH");
	FAILS(fstatat(fd, "x", &st2, 0), ENOTDIR, "fstatat relative to a file fd");
	FAILS(fstatat(999, "x", &st2, 0), EBADF, "fstatat relative to a bad fd");
	check(fstatat(999, "/tmp/s", &st2, 0) == 0, "... but an absolute path ignores the fd");
	FAILS(syscall(SYS_newfstatat, AT_FDCWD, "/tmp/s", &st2, 0x8000000), EINVAL, "newfstatat with a bad flag");
	symlink("s", "/tmp/s-link");
	check(lstat("/tmp/s-link", &st2) == 0 && S_ISLNK(st2.st_mode) && st2.st_size == 1, "lstat of a symlink");
	check(stat("/tmp/s-link", &st2) == 0 && st2.st_ino == st.st_ino, "stat follows it");
	check(fstatat(AT_FDCWD, "/tmp/s-link", &st2, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st2.st_mode),
	      "fstatat AT_SYMLINK_NOFOLLOW");
	FAILS(stat("/tmp/none", &st), ENOENT, "stat of a missing file");
	FAILS(stat("/tmp/s/", &st), ENOTDIR, "stat of a file with a trailing slash");
	FAILS(syscall(SYS_stat, "/tmp/s", wild), EFAULT, "stat into a wild pointer");
	FAILS(syscall(SYS_stat, wild, &st), EFAULT, "stat of a wild path");
	FAILS(syscall(SYS_fstat, fd, wild), EFAULT, "fstat into a wild pointer");
	FAILS(syscall(SYS_lstat, "/tmp/s", wild), EFAULT, "lstat into a wild pointer");
	FAILS(fstat(999, &st), EBADF, "fstat of a bad fd");

	/* statx */
	check(syscall(SYS_statx, AT_FDCWD, "/tmp/s", 0, 0x7ff, &sx) == 0, "statx");
	check((sx.stx_mask & 0x7ff) == 0x7ff && sx.stx_ino == st.st_ino && sx.stx_size == 5 && sx.stx_nlink == 1 &&
		      sx.stx_mode == st.st_mode && sx.stx_blksize == 4096,
	      "statx fields agree with stat");
	check(sx.stx_dev_major == major(st.st_dev) && sx.stx_dev_minor == minor(st.st_dev) &&
		      sx.stx_mtime.tv_sec == st.st_mtim.tv_sec && sx.stx_mtime.tv_nsec == st.st_mtim.tv_nsec,
	      "statx device and mtime agree with stat");
	check(syscall(SYS_statx, fd, "", AT_EMPTY_PATH, 0x7ff, &sx) == 0 && sx.stx_ino == st.st_ino,
	      "statx AT_EMPTY_PATH");
	check(syscall(SYS_statx, AT_FDCWD, "/tmp/s-link", AT_SYMLINK_NOFOLLOW, 0x7ff, &sx) == 0 &&
		      (sx.stx_mode & S_IFMT) == S_IFLNK,
	      "statx AT_SYMLINK_NOFOLLOW");
	check(syscall(SYS_statx, AT_FDCWD, "/dev/null", 0, 0x7ff, &sx) == 0 && sx.stx_rdev_major == 1 &&
		      sx.stx_rdev_minor == 3,
	      "statx of /dev/null: rdev 1:3");
	FAILS(syscall(SYS_statx, AT_FDCWD, "/tmp/s", 0x6000, 0x7ff, &sx), EINVAL, "statx with both sync types");
	FAILS(syscall(SYS_statx, AT_FDCWD, "/tmp/s", 0, 0x80000000u, &sx), EINVAL, "statx with the reserved mask bit");
	FAILS(syscall(SYS_statx, AT_FDCWD, "/tmp/none", 0, 0x7ff, &sx), ENOENT, "statx of a missing file");
	FAILS(syscall(SYS_statx, AT_FDCWD, "/tmp/s", 0, 0x7ff, wild), EFAULT, "statx into a wild pointer");

	/* statfs */
	struct statfs sf;
	check(statfs("/tmp", &sf) == 0 && sf.f_type == 0x01021994 && sf.f_bsize == 4096, "statfs: tmpfs");
	check(fstatfs(fd, &sf) == 0 && sf.f_type == 0x01021994, "fstatfs");
	check(statfs("/proc", &sf) == 0 && sf.f_type == 0x9fa0, "statfs /proc: proc");
	close(fd);
	close(tmp);
}

static void test_dirs(void)
{
	struct stat st;
	char buf[PATH_MAX];
	WORKS(mkdir("/tmp/d", 0777), "mkdir");
	check(stat("/tmp/d", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0755 && st.st_nlink == 2,
	      "a directory 0777 & ~022, 2 links");
	FAILS(mkdir("/tmp/d", 0777), EEXIST, "mkdir of an existing directory");
	FAILS(mkdir("/etc/hello.txt", 0777), EEXIST, "mkdir over a file");
	FAILS(mkdir("/tmp/no/d", 0777), ENOENT, "mkdir in a missing directory");
	FAILS(mkdir("/etc/hello.txt/d", 0777), ENOTDIR, "mkdir below a file");
	FAILS(syscall(SYS_mkdir, wild, 0777), EFAULT, "mkdir of a wild path");
	WORKS(mkdir("/tmp/d/sub/", 0700), "mkdir with a trailing slash");
	check(stat("/tmp/d", &st) == 0 && st.st_nlink == 3, "the parent gains a link");
	int d = open("/tmp/d", O_RDONLY | O_DIRECTORY);
	check(d >= 0, "open O_DIRECTORY");
	WORKS(mkdirat(d, "at", 0755), "mkdirat relative to a directory fd");
	check(stat("/tmp/d/at", &st) == 0 && S_ISDIR(st.st_mode), "it is there");
	int f = openat(d, "file", O_RDWR | O_CREAT, 0600);
	check(f >= 0, "openat relative to a directory fd");
	FAILS(openat(f, "x", O_RDONLY), ENOTDIR, "openat relative to a file fd");
	FAILS(openat(1234, "x", O_RDONLY), EBADF, "openat relative to a bad fd");
	FAILS(mkdirat(1234, "x", 0755), EBADF, "mkdirat relative to a bad fd");
	FAILS(rmdir("/tmp/d"), ENOTEMPTY, "rmdir of a non-empty directory");
	FAILS(rmdir("/tmp/d/file"), ENOTDIR, "rmdir of a file");
	FAILS(rmdir("/tmp/d/none"), ENOENT, "rmdir of a missing name");
	FAILS(rmdir("/tmp/d/."), EINVAL, "rmdir of \".\"");
	FAILS(rmdir("/tmp/d/sub/.."), ENOTEMPTY, "rmdir of \"..\"");
	FAILS(rmdir("/"), EBUSY, "rmdir of /");
	FAILS(unlink("/tmp/d/sub"), EISDIR, "unlink of a directory");
	FAILS(unlink("/tmp/d/file/"), ENOTDIR, "unlink of a file with a trailing slash");
	FAILS(unlinkat(d, "sub", 0x4), EINVAL, "unlinkat with a bad flag");
	WORKS(unlinkat(d, "at", AT_REMOVEDIR), "unlinkat AT_REMOVEDIR");
	WORKS(rmdir("/tmp/d/sub"), "rmdir");
	check(stat("/tmp/d", &st) == 0 && st.st_nlink == 2, "links back to 2");
	WORKS(unlinkat(d, "file", 0), "unlinkat of a file");
	FAILS(unlink("/tmp/d/file"), ENOENT, "unlink of a missing file");

	/* getdents64 */
	for (int k = 0; k < 5; k++) {
		snprintf(buf, sizeof(buf), "/tmp/d/f%d", k);
		make_file(buf, "x");
	}
	mkdir("/tmp/d/dir", 0755);
	symlink("f0", "/tmp/d/lnk");
	char names[512];
	int types_ok, n = list_dir("/tmp/d", names, sizeof(names), &types_ok);
	check(n == 9 && !strcmp(names, ". .. dir f0 f1 f2 f3 f4 lnk"), "getdents64: \"%s\"", names);
	check(types_ok, "d_type and d_ino agree with lstat");
	char small[24];
	lseek(f, 0, SEEK_SET);
	FAILS(syscall(SYS_getdents64, d, small, 10), EINVAL, "getdents64 into a too small buffer");
	FAILS(syscall(SYS_getdents64, f, small, sizeof(small)), ENOTDIR, "getdents64 of a file");
	FAILS(syscall(SYS_getdents64, 999, small, sizeof(small)), EBADF, "getdents64 of a bad fd");
	FAILS(syscall(SYS_getdents64, d, wild, 4096), EFAULT, "getdents64 into a wild pointer");
	close(f);
	/* records one at a time, with the names removed while reading */
	lseek(d, 0, SEEK_SET);
	int seen = 0, again = 0;
	char prev[64] = "";
	for (;;) {
		char one[40];
		long r = syscall(SYS_getdents64, d, one, sizeof(one));
		if (r <= 0)
			break;
		struct kdirent *e = (struct kdirent *)one;
		if (!strcmp(prev, e->d_name))
			again++;
		snprintf(prev, sizeof(prev), "%s", e->d_name);
		seen++;
		if (e->d_name[0] == 'f') {
			snprintf(buf, sizeof(buf), "/tmp/d/%s", e->d_name);
			unlink(buf);
		}
	}
	check(seen == 9 && !again, "removing entries while reading skips none (%d seen)", seen);
	check(lseek(d, 0, SEEK_SET) == 0 && list_dir("/tmp/d", names, sizeof(names), &types_ok) == 4,
	      "4 entries left: \"%s\"", names);
	DIR *dir = opendir("/tmp/d");
	int m = 0;
	struct dirent *de;
	while (dir && (de = readdir(dir)))
		m++;
	check(dir && m == 4 && closedir(dir) == 0, "opendir/readdir/closedir (%d)", m);
	close(d);

	/* working directory */
	char cwd[PATH_MAX];
	check(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/"), "getcwd at start: /");
	WORKS(chdir("/tmp/d/dir"), "chdir");
	check(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/tmp/d/dir"), "getcwd: %s", cwd);
	check(make_file("rel", "relative") == 0 && file_is("/tmp/d/dir/rel", "relative"), "a relative path");
	WORKS(chdir(".."), "chdir ..");
	check(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/tmp/d"), "getcwd: %s", cwd);
	check(file_is("dir/../dir/./rel", "relative"), "a path with . and ..");
	check(file_is("/../../tmp/d/dir/rel", "relative"), "/.. is /");
	FAILS(chdir("/etc/hello.txt"), ENOTDIR, "chdir to a file");
	FAILS(chdir("/nonexistent"), ENOENT, "chdir to a missing directory");
	int e = open("/etc", O_RDONLY);
	WORKS(fchdir(e), "fchdir");
	check(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/etc"), "getcwd: %s", cwd);
	close(e);
	e = open("/etc/hello.txt", O_RDONLY);
	FAILS(fchdir(e), ENOTDIR, "fchdir to a file");
	close(e);
	FAILS(fchdir(999), EBADF, "fchdir of a bad fd");
	FAILS(syscall(SYS_getcwd, cwd, 3), ERANGE, "getcwd into a too small buffer");
	FAILS(syscall(SYS_getcwd, wild, 100), EFAULT, "getcwd into a wild pointer");
	check(syscall(SYS_getcwd, cwd, 5) == 5, "getcwd returns the length with the NUL");
	chdir("/tmp/d/dir");
	WORKS(rename("/tmp/d/dir", "/tmp/d/moved"), "rename of the working directory");
	check(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/tmp/d/moved"), "getcwd follows: %s", cwd);
	unlink("/tmp/d/moved/rel");
	WORKS(rmdir("/tmp/d/moved"), "rmdir of the working directory");
	FAILS(syscall(SYS_getcwd, cwd, sizeof(cwd)), ENOENT, "getcwd in a removed directory");
	FAILS(open("new", O_RDWR | O_CREAT, 0644), ENOENT, "creating in a removed directory");
	WORKS(chdir("/"), "chdir /");

	/* long names */
	char longname[300];
	memset(longname, 'a', 256);
	longname[256] = 0;
	FAILS(open(longname, O_RDONLY | O_CREAT, 0644), ENAMETOOLONG, "a 256-byte name");
	longname[255] = 0;
	snprintf(buf, sizeof(buf), "/tmp/%s", longname);
	check(make_file(buf, "long") == 0 && file_is(buf, "long"), "a 255-byte name");
	char *huge = malloc(5000);
	memset(huge, '/', 4999);
	huge[4999] = 0;
	FAILS(open(huge, O_RDONLY), ENAMETOOLONG, "a path of 4999 bytes");
	free(huge);
}

static void test_names(void)
{
	struct stat st, st2;
	char buf[64];
	mkdir("/tmp/n", 0755);
	chdir("/tmp/n");

	/* rename */
	make_file("a", "A");
	make_file("b", "B");
	WORKS(rename("a", "c"), "rename");
	check(file_is("c", "A") && access("a", F_OK) == -1, "the new name has it, the old is gone");
	int keep = open("b", O_RDONLY);
	WORKS(rename("c", "b"), "rename over an existing file");
	check(file_is("b", "A") && read(keep, buf, 1) == 1 && buf[0] == 'B', "replaced; an open fd keeps the old data");
	close(keep);
	FAILS(rename("none", "x"), ENOENT, "rename of a missing name");
	FAILS(rename("b", "/tmp/none/x"), ENOENT, "rename into a missing directory");
	mkdir("d1", 0755);
	mkdir("d2", 0755);
	make_file("d2/x", "x");
	FAILS(rename("d1", "b"), ENOTDIR, "rename of a directory over a file");
	FAILS(rename("b", "d1"), EISDIR, "rename of a file over a directory");
	FAILS(rename("d1", "d2"), ENOTEMPTY, "rename over a non-empty directory");
	FAILS(rename("d2", "d2/x/y"), ENOTDIR, "rename below a file");
	mkdir("d2/in", 0755);
	FAILS(rename("d2", "d2/in/d2"), EINVAL, "rename of a directory into itself");
	FAILS(rename("d1", "."), EBUSY, "rename over \".\"");
	WORKS(rename("d1", "d2/in"), "rename of a directory over an empty one");
	check(stat("d2/in", &st) == 0 && S_ISDIR(st.st_mode) && access("d1", F_OK) == -1, "it moved");
	check(stat("d2", &st) == 0 && st.st_nlink == 3, "d2 has 3 links");
	WORKS(rename("d2/in", "d3"), "rename of a directory to another parent");
	check(stat("d2", &st) == 0 && st.st_nlink == 2 && stat(".", &st2) == 0 && st2.st_nlink == 4,
	      "link counts of both parents (%ld, %ld)", (long)st.st_nlink, (long)st2.st_nlink);
	check(stat("d3/..", &st) == 0 && st.st_ino == st2.st_ino, "its .. is the new parent");
	check(rename("b", "b") == 0 && file_is("b", "A"), "rename to itself");
	int n = open("/tmp/n", O_RDONLY);
	WORKS(renameat(n, "b", n, "b2"), "renameat");
	make_file("c", "C");
	FAILS(syscall(SYS_renameat2, n, "b2", n, "c", 1), EEXIST, "renameat2 RENAME_NOREPLACE");
	check(syscall(SYS_renameat2, n, "b2", n, "c", 2) == 0 && file_is("b2", "C") && file_is("c", "A"),
	      "renameat2 RENAME_EXCHANGE");
	FAILS(syscall(SYS_renameat2, n, "b2", n, "nothing", 2), ENOENT, "RENAME_EXCHANGE with a missing name");
	FAILS(syscall(SYS_renameat2, n, "b2", n, "x", 3), EINVAL, "renameat2 with both flags");
	FAILS(syscall(SYS_rename, wild, "x"), EFAULT, "rename of a wild path");
	close(n);

	/* link */
	WORKS(link("c", "c2"), "link");
	check(stat("c", &st) == 0 && stat("c2", &st2) == 0 && st.st_ino == st2.st_ino && st.st_nlink == 2,
	      "the same inode, 2 links");
	FAILS(link("c", "c2"), EEXIST, "link to an existing name");
	FAILS(link("d2", "d2-link"), EPERM, "link of a directory");
	FAILS(link("none", "x"), ENOENT, "link of a missing file");
	FAILS(link("c", "none/x"), ENOENT, "link into a missing directory");
	WORKS(unlink("c"), "unlink one name");
	check(stat("c2", &st) == 0 && st.st_nlink == 1 && file_is("c2", "A"), "the other keeps the data");
	symlink("c2", "c2-sym");
	check(linkat(AT_FDCWD, "c2-sym", AT_FDCWD, "c3", AT_SYMLINK_FOLLOW) == 0 && lstat("c3", &st) == 0 &&
		      S_ISREG(st.st_mode),
	      "linkat AT_SYMLINK_FOLLOW links the target");
	check(linkat(AT_FDCWD, "c2-sym", AT_FDCWD, "c4", 0) == 0 && lstat("c4", &st) == 0 && S_ISLNK(st.st_mode),
	      "linkat without it links the symlink");
	FAILS(linkat(AT_FDCWD, "c2", AT_FDCWD, "c5", 0x8), EINVAL, "linkat with a bad flag");

	/* symlink, readlink */
	WORKS(symlink("/etc/hello.txt", "abs"), "symlink to an absolute path");
	check(file_is("abs", "hello from the initramfs\n"), "followed");
	check(readlink("abs", buf, sizeof(buf)) == 14 && !memcmp(buf, "/etc/hello.txt", 14), "readlink");
	check(readlink("abs", buf, 4) == 4 && !memcmp(buf, "/etc", 4), "readlink into a short buffer truncates");
	FAILS(readlink("c2", buf, sizeof(buf)), EINVAL, "readlink of a file");
	FAILS(readlink("none", buf, sizeof(buf)), ENOENT, "readlink of a missing name");
	FAILS(syscall(SYS_readlink, "abs", buf, 0), EINVAL, "readlink with size 0");
	FAILS(syscall(SYS_readlink, "abs", wild, 64), EFAULT, "readlink into a wild pointer");
	int here = open(".", O_RDONLY);
	check(readlinkat(here, "abs", buf, sizeof(buf)) == 14, "readlinkat");
	close(here);
	FAILS(symlink("x", "abs"), EEXIST, "symlink over an existing name");
	FAILS(symlink("", "empty-target"), ENOENT, "symlink to an empty target");
	WORKS(symlink("dangling-target", "dangling"), "a dangling symlink");
	FAILS(stat("dangling", &st), ENOENT, "stat of a dangling symlink");
	check(lstat("dangling", &st) == 0 && S_ISLNK(st.st_mode), "lstat of it");
	int t = open("dangling", O_WRONLY | O_CREAT, 0644);
	check(t >= 0 && access("dangling-target", F_OK) == 0, "O_CREAT through it makes the target");
	close(t);
	FAILS(open("dangling", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST, "O_EXCL on a symlink");
	FAILS(open("abs", O_RDONLY | O_NOFOLLOW), ELOOP, "O_NOFOLLOW on a symlink");
	int pfd = open("abs", O_PATH | O_NOFOLLOW);
	check(pfd >= 0 && fstat(pfd, &st) == 0 && S_ISLNK(st.st_mode), "O_PATH|O_NOFOLLOW opens the link itself");
	FAILS(read(pfd, buf, 1), EBADF, "read of an O_PATH fd");
	close(pfd);
	symlink("loop2", "loop1");
	symlink("loop1", "loop2");
	FAILS(open("loop1", O_RDONLY), ELOOP, "a symlink loop");
	FAILS(stat("loop1/x", &st), ELOOP, "a loop in the middle of a path");
	make_file("l0-target", "deep");
	symlink("l0-target", "l0");
	for (int k = 1; k <= 40; k++) {
		char from[16], to[16];
		snprintf(from, sizeof(from), "l%d", k - 1);
		snprintf(to, sizeof(to), "l%d", k);
		symlink(from, to);
	}
	check(file_is("l39", "deep"), "40 links in a row are followed");
	FAILS(open("l40", O_RDONLY), ELOOP, "41 are too many");
	mkdir("realdir", 0755);
	symlink("realdir", "dirlink");
	check(lstat("dirlink/", &st) == 0 && S_ISDIR(st.st_mode), "a trailing slash follows a symlink");
	FAILS(rmdir("dirlink"), ENOTDIR, "rmdir of a symlink to a directory");
	FAILS(unlink("dirlink/"), ENOTDIR, "unlink of a symlink with a trailing slash");

	/* access */
	WORKS(access("c2", F_OK), "access F_OK");
	WORKS(access("c2", R_OK | W_OK), "access R_OK|W_OK (root)");
	FAILS(access("c2", X_OK), EACCES, "access X_OK without an x bit");
	WORKS(access("/bin/script.sh", X_OK), "access X_OK of an executable");
	WORKS(access("/tmp", X_OK), "access X_OK of a directory");
	FAILS(access("none", F_OK), ENOENT, "access of a missing name");
	FAILS(access("c2", 8), EINVAL, "access with a bad mode");
	FAILS(syscall(SYS_access, wild, F_OK), EFAULT, "access of a wild path");
	check(faccessat(AT_FDCWD, "c2", R_OK, 0) == 0, "faccessat");
	check(syscall(SYS_faccessat2, AT_FDCWD, "dangling", F_OK, AT_SYMLINK_NOFOLLOW) == 0, "faccessat2 NOFOLLOW");
	FAILS(syscall(SYS_faccessat2, AT_FDCWD, "c2", F_OK, 0x4), EINVAL, "faccessat2 with a bad flag");

	/* chmod, umask */
	WORKS(chmod("c2", 0751), "chmod");
	check(stat("c2", &st) == 0 && (st.st_mode & 07777) == 0751 && S_ISREG(st.st_mode), "the mode is 0751");
	WORKS(access("c2", X_OK), "now executable");
	int fd = open("c2", O_RDONLY);
	WORKS(fchmod(fd, 04600), "fchmod");
	check(fstat(fd, &st) == 0 && (st.st_mode & 07777) == 04600, "mode 04600");
	close(fd);
	FAILS(chmod("none", 0644), ENOENT, "chmod of a missing file");
	FAILS(fchmod(999, 0644), EBADF, "fchmod of a bad fd");
	WORKS(fchmodat(AT_FDCWD, "c2", 0644, 0), "fchmodat");
	check(umask(077) == 022, "umask returns the old mask 022");
	fd = open("masked", O_RDWR | O_CREAT, 0666);
	check(fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600, "a file made under umask 077 is 0600");
	close(fd);
	mkdir("maskdir", 0777);
	check(stat("maskdir", &st) == 0 && (st.st_mode & 0777) == 0700, "a directory 0700");
	check(umask(022) == 077, "umask back to 022");
	WORKS(chown("c2", 12, 34), "chown");
	check(stat("c2", &st) == 0 && st.st_uid == 12 && st.st_gid == 34, "owner 12:34");

	/* times */
	struct timespec ts[2] = { { 1000, 0 }, { 2000, 500 } };
	WORKS(utimensat(AT_FDCWD, "c2", ts, 0), "utimensat");
	check(stat("c2", &st) == 0 && st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 2000 &&
		      st.st_mtim.tv_nsec == 500,
	      "atime 1000, mtime 2000.000000500");
	struct timespec bad[2] = { { 0, 2000000000 }, { 0, 0 } };
	FAILS(utimensat(AT_FDCWD, "c2", bad, 0), EINVAL, "utimensat with a bad nsec");
	chdir("/");
}

static void test_fds(void)
{
	char buf[32];
	make_file("/tmp/fds", "0123456789");
	int fd = open("/tmp/fds", O_RDWR);
	int d = dup(fd);
	check(d > fd, "dup: a new fd (%d)", d);
	check(read(fd, buf, 3) == 3 && lseek(d, 0, SEEK_CUR) == 3, "dup'd fds share the offset");
	FAILS(dup(999), EBADF, "dup of a bad fd");
	check(dup2(fd, 20) == 20 && lseek(20, 0, SEEK_CUR) == 3, "dup2 to 20");
	check(dup2(fd, fd) == fd, "dup2 to itself");
	FAILS(dup2(999, 21), EBADF, "dup2 of a bad fd");
	FAILS(dup2(fd, 100000), EBADF, "dup2 to a too large fd");
	FAILS(dup3(fd, fd, 0), EINVAL, "dup3 to itself");
	FAILS(syscall(SYS_dup3, fd, 22, 1), EINVAL, "dup3 with a bad flag");
	check(dup3(fd, 22, O_CLOEXEC) == 22 && fcntl(22, F_GETFD) == FD_CLOEXEC, "dup3 O_CLOEXEC");
	check(fcntl(20, F_GETFD) == 0, "dup2 leaves FD_CLOEXEC clear");
	check(dup2(d, 20) == 20, "dup2 over an open fd closes it");
	int d30 = fcntl(fd, F_DUPFD, 30);
	check(d30 >= 30, "F_DUPFD from 30");
	int c = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	check(c >= 0 && fcntl(c, F_GETFD) == FD_CLOEXEC, "F_DUPFD_CLOEXEC");
	check(fcntl(c, F_SETFD, 0) == 0 && fcntl(c, F_GETFD) == 0, "F_SETFD");
	check((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "F_GETFL: O_RDWR");
	check(fcntl(fd, F_SETFL, O_APPEND) == 0 && (fcntl(d, F_GETFL) & O_APPEND), "F_SETFL O_APPEND, seen by the dup");
	check(write(d, "X", 1) == 1 && lseek(fd, 0, SEEK_CUR) == 11, "the write appended");
	FAILS(fcntl(999, F_GETFD), EBADF, "fcntl of a bad fd");
	FAILS(fcntl(fd, 12345), EINVAL, "fcntl with a bad command");
	FAILS(fcntl(fd, F_DUPFD, 1 << 20), EINVAL, "F_DUPFD past the limit");
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	check(fcntl(fd, F_SETLK, &fl) == 0 && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type == F_UNLCK, "F_SETLK, F_GETLK");

	check(dup2(fd, 40) == 40 && dup2(fd, 41) == 41 && dup2(fd, 42) == 42, "dup2 to 40, 41, 42");
	check(syscall(SYS_close_range, 41, 42, 4) == 0 && fcntl(41, F_GETFD) == FD_CLOEXEC &&
		      fcntl(42, F_GETFD) == FD_CLOEXEC && fcntl(40, F_GETFD) == 0,
	      "close_range CLOSE_RANGE_CLOEXEC");
	check(syscall(SYS_close_range, 40, ~0u, 0) == 0 && fcntl(40, F_GETFD) == -1 && fcntl(42, F_GETFD) == -1,
	      "close_range closes them");
	FAILS(syscall(SYS_close_range, 5, 4, 0), EINVAL, "close_range with first > last");

	/* the table fills up */
	int opened[100], n = 0, last = 0;
	for (; n < 100; n++) {
		errno = 0;
		if ((opened[n] = dup(fd)) < 0) {
			last = errno;
			break;
		}
	}
	check(n < 100 && last == EMFILE, "dup until EMFILE (%d more fds)", n);
	FAILS(open("/tmp/fds", O_RDONLY), EMFILE, "open with a full table");
	int valid = 0;
	for (int k = 0; k < 1024; k++)
		valid += fcntl(k, F_GETFD) != -1;
	struct {
		unsigned long cur, max;
	} rl;
	check(syscall(SYS_prlimit64, 0, 7, NULL, &rl) == 0 && rl.cur == (unsigned long)valid,
	      "RLIMIT_NOFILE is the table's size (%lu, %d open)", rl.cur, valid);
	for (int k = 0; k < n; k++)
		close(opened[k]);

	/* ioctl */
	FAILS(ioctl(fd, TCGETS, buf), ENOTTY, "TCGETS on a file");
	FAILS(ioctl(999, TCGETS, buf), EBADF, "ioctl of a bad fd");
	int avail = -1;
	check(lseek(fd, 4, SEEK_SET) == 4 && ioctl(fd, FIONREAD, &avail) == 0 && avail == 7, "FIONREAD: 7 (%d)", avail);
	check(ioctl(fd, FIOCLEX) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "FIOCLEX");
	FAILS(ioctl(1, TIOCGWINSZ, wild), EFAULT, "TIOCGWINSZ into a wild pointer");
	close(fd);
	close(d);
	close(20);
	close(22);
	close(c);
	close(d30);
}

static void test_devices(void)
{
	char buf[64];
	struct stat st;
	int n = open("/dev/null", O_RDWR);
	check(n >= 0 && write(n, "gone", 4) == 4 && read(n, buf, sizeof(buf)) == 0, "/dev/null: writes vanish, reads end");
	check(fstat(n, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3), "/dev/null is char 1:3");
	check(lseek(n, 100, SEEK_SET) == 0, "lseek on /dev/null: 0");
	FAILS(ioctl(n, TCGETS, buf), ENOTTY, "TCGETS on /dev/null");
	check(isatty(n) == 0, "isatty(/dev/null) is false");
	close(n);
	int z = open("/dev/zero", O_RDONLY);
	memset(buf, 'x', sizeof(buf));
	check(z >= 0 && read(z, buf, sizeof(buf)) == sizeof(buf) && !memcmp(buf, (char[64]){ 0 }, 64),
	      "/dev/zero reads zeros");
	close(z);
	int u = open("/dev/urandom", O_RDONLY);
	memset(buf, 0, sizeof(buf));
	check(u >= 0 && read(u, buf, sizeof(buf)) == sizeof(buf) && memcmp(buf, (char[64]){ 0 }, 64),
	      "/dev/urandom reads random bytes");
	close(u);
	int f = open("/dev/full", O_WRONLY);
	FAILS(write(f, "x", 1), ENOSPC, "/dev/full: ENOSPC");
	close(f);
	int c = open("/dev/console", O_WRONLY);
	check(c >= 0 && write(c, "# through /dev/console\n", 23) == 23, "/dev/console opened and written");
	close(c);
	int t = open("/dev/tty", O_RDWR);
	check(t >= 0 && isatty(t), "/dev/tty is a tty");
	close(t);
	check(stat("/dev/console", &st) == 0 && st.st_rdev == makedev(5, 1), "/dev/console is char 5:1");
}

static void test_proc(void)
{
	char buf[4096], want[64];
	struct stat st, st2;
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf));
	check(n > 1 && buf[0] == '/', "readlink /proc/self/exe: \"%.*s\"", (int)(n > 0 ? n : 0), buf);
	snprintf(want, sizeof(want), "%d", getpid());
	n = readlink("/proc/self", buf, sizeof(buf));
	check(n == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)n), "/proc/self -> %s", want);
	int fd = open("/etc/hello.txt", O_RDONLY);
	snprintf(want, sizeof(want), "/proc/self/fd/%d", fd);
	n = readlink(want, buf, sizeof(buf));
	check(n == 14 && !memcmp(buf, "/etc/hello.txt", 14), "readlink %s: the file's path", want);
	check(stat(want, &st) == 0 && fstat(fd, &st2) == 0 && st.st_ino == st2.st_ino, "stat through it: the open file");
	check(file_is(want, "hello from the initramfs\n"), "open through it");
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	char names[512];
	int types_ok;
	int count = list_dir("/proc/self/fd", names, sizeof(names), &types_ok);
	char padded[520], fdname[16], dirname[16];
	snprintf(padded, sizeof(padded), " %s ", names);
	snprintf(fdname, sizeof(fdname), " %d ", fd);
	snprintf(dirname, sizeof(dirname), " %d ", dir);
	check(count >= 7 && !strncmp(names, ". .. 0 1 2 ", 11) && strstr(padded, fdname) && strstr(padded, dirname) &&
		      types_ok,
	      "/proc/self/fd lists the open fds: \"%s\"", names);
	close(dir);
	close(fd);
	chdir("/etc");
	n = readlink("/proc/self/cwd", buf, sizeof(buf));
	check(n == 4 && !memcmp(buf, "/etc", 4), "/proc/self/cwd");
	chdir("/");
	check(file_is("/proc/self/cwd/etc/hello.txt", "hello from the initramfs\n"), "a path through it");
	fd = open("/proc/meminfo", O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = 0;
	unsigned long total = 0;
	check(n > 0 && sscanf(buf, "MemTotal: %lu kB", &total) == 1 && total > 1000, "/proc/meminfo: MemTotal %lu kB",
	      total);
	check(strstr(buf, "\nMemFree:") && strstr(buf, "\nMemAvailable:"), "... MemFree, MemAvailable");
	close(fd);
	fd = open("/proc/cpuinfo", O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = 0;
	check(n > 0 && !strncmp(buf, "processor\t: 0\n", 14) && strstr(buf, "model name\t:") && strstr(buf, "flags\t\t:"),
	      "/proc/cpuinfo");
	close(fd);
	double up = -1, idle = -1;
	FILE *f = fopen("/proc/uptime", "r");
	check(f && fscanf(f, "%lf %lf", &up, &idle) == 2 && up > 0 && fclose(f) == 0, "/proc/uptime: %.2f s", up);
	FAILS(open("/proc/meminfo", O_WRONLY), EACCES, "/proc files are read-only");
	count = list_dir("/proc", names, sizeof(names), &types_ok);
	snprintf(want, sizeof(want), " %d ", getpid());
	snprintf(padded, sizeof(padded), " %s ", names);
	check(strstr(padded, " self ") && strstr(padded, " meminfo ") && strstr(padded, want),
	      "/proc lists self, meminfo and our pid: \"%s\"", names);
	FAILS(stat("/proc/self/fd/63", &st), ENOENT, "/proc/self/fd/63: no such fd");
	FAILS(mkdir("/proc/x", 0755), EACCES, "mkdir in /proc");
	check(realpath("/bin/etc-dir/../etc/link", buf) && !strcmp(buf, "/etc/hello.txt"), "realpath: %s", buf);
}

int main(void)
{
	printf("# fs_test: the file system calls\n");
	test_stdio();
	test_initramfs();
	test_files();
	test_stat();
	test_dirs();
	test_names();
	test_fds();
	test_devices();
	test_proc();
	test_memory();
	printf("# fs_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
