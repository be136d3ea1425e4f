/*
 * The Linux server's file system: one tmpfs tree in the server's memory
 * (vfs.c), filled from an initramfs (initramfs.c), with device nodes and
 * a synthesized /proc (procfs.c); the file system calls are in fs.c
 * (docs/linux-server.md, "Files").
 *
 * The server is single-threaded and every system call runs to its end
 * before the next, so nothing here needs locks, and pointers found by a
 * lookup stay valid until the call returns.
 */
#ifndef LINUX_VFS_H
#define LINUX_VFS_H

#include "linux.h"

/* ---- Linux ABI: file types, modes, limits ----------------------------------- */
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#define S_ISCHR(m) (((m) & S_IFMT) == S_IFCHR)

#define DT_CHR 2
#define DT_DIR 4
#define DT_BLK 6
#define DT_REG 8
#define DT_LNK 10
#define DT_FIFO 1
#define DT_SOCK 12

#define NAME_MAX 255
#define PATH_MAX 4096
#define MAXSYMLINKS 40

/* device numbers (major << 8 | minor, Linux's encoding for small ones) */
#define DEV_MKDEV(ma, mi) ((u32)(((ma) << 8) | (mi)))
#define DEV_NULL DEV_MKDEV(1, 3)
#define DEV_ZERO DEV_MKDEV(1, 5)
#define DEV_FULL DEV_MKDEV(1, 7)
#define DEV_RANDOM DEV_MKDEV(1, 8)
#define DEV_URANDOM DEV_MKDEV(1, 9)
#define DEV_TTY DEV_MKDEV(5, 0)
#define DEV_CONSOLE DEV_MKDEV(5, 1)
/* st_dev of the two file systems (anonymous devices, as tmpfs and proc have) */
#define TMPFS_DEV DEV_MKDEV(0, 16)
#define PROCFS_DEV DEV_MKDEV(0, 21)

/* ---- small allocations from pages (vfs.c) ------------------------------------- */
/* n bytes (at most a page), zeroed; NULL when out of memory.  Freed with
 * the same n. */
void *kalloc(usize n);
void kfree(void *p, usize n);

/* ---- inodes ------------------------------------------------------------------ */

/* An entry of a tmpfs directory.  Entries keep the order they were made
 * in; seq is the entry's getdents offset (2, 3, ...: 0 and 1 are "." and
 * ".."), so that removals while a directory is read skip nothing. */
struct dentry {
	struct dentry *next;
	struct inode *ino;
	u64 seq;
	u16 len;
	char name[]; /* NUL-terminated */
};

/* /proc nodes (procfs.c); PN_NONE: an ordinary tmpfs inode */
enum proc_node {
	PN_NONE, PN_ROOT, PN_SELF, PN_MEMINFO, PN_CPUINFO, PN_UPTIME, PN_MOUNTS,
	PN_PID, PN_EXE, PN_CWD, PN_FDDIR, PN_FD, PN_STAT, PN_CMDLINE, PN_COMM,
};

struct inode {
	u64 ino;
	u32 mode;           /* S_IF* | permission bits */
	u32 nlink;          /* names (a directory: 2 + its subdirectories) */
	u32 refs;           /* open files, working directories, subdirectories */
	u32 uid, gid;
	u32 rdev;           /* device nodes: DEV_* */
	u64 size;
	s64 atime, mtime, ctime; /* nanoseconds */
	struct inode *parent;    /* directories: the one they are in (holds a ref) */
	/* regular files: pages in a radix tree of 512-slot pages (height 0:
	 * none), over the initramfs bytes they started with (backing; a page
	 * is copied from there when first written) */
	u64 *radix;
	u32 height;
	u64 npages;
	const u8 *backing;
	u64 backing_size;
	/* directories */
	struct dentry *first, *last;
	u64 next_seq;
	/* symbolic links: the target, size bytes + NUL */
	char *target;
	/* pipes (fs.c) */
	struct pipe *pipe;
	/* /proc: what the node is, for which process and fd; transient nodes
	 * are made by lookups and freed when nothing holds them (vfs_gc) */
	u8 pn;
	bool transient;
	int pid, fdn;
	struct inode *tnext;
};

extern struct inode *vfs_root;

struct inode *inode_new(u32 mode);  /* refs 0, nlink 0; NULL when out of memory */
void iget(struct inode *i);
void iput(struct inode *i);         /* freed when neither referenced nor linked */
void vfs_gc(void);                  /* frees transient /proc nodes nobody holds */
struct inode *transient_new(u32 mode, struct inode *parent, u8 pn, int pid, int fdn);

/* ---- directories ------------------------------------------------------------ */
/* The entry name[0..len) (not "." or ".."), or NULL. */
struct inode *dir_lookup(struct inode *dir, const char *name, usize len);
/* Adds an entry (the name must be new); the inode gains a link.  -ENOMEM. */
int dir_add(struct inode *dir, const char *name, usize len, struct inode *i);
/* Removes an entry; the inode loses a link (and may be freed). */
void dir_remove(struct inode *dir, const char *name, usize len);
/* Moves entry oname of odir to nname in ndir (which must not exist there). */
int dir_rename(struct inode *odir, const char *oname, usize olen, struct inode *ndir, const char *nname, usize nlen);
/* Swaps what two existing entries name. */
void dir_exchange(struct inode *adir, const char *aname, usize alen, struct inode *bdir, const char *bname, usize blen);
/* Entries in dir (for its size). */
u64 dir_count(struct inode *dir);
bool dir_empty(struct inode *dir);
/* The name of directory d in its parent into buf (NUL-terminated); length or -ENOENT. */
int dir_name(struct inode *d, char *buf, usize size);
/* The absolute path of directory d into buf (size PATH_MAX); length or an error. */
int dir_path(struct inode *d, char *buf);

/* ---- regular files ---------------------------------------------------------- */
/* Bytes [off, off + len) into buf (a hole reads as zeros; nothing past the end). */
u64 file_read(struct inode *i, u64 off, void *buf, u64 len);
/* Writes; returns len or -ENOSPC / -EFBIG. */
s64 file_write(struct inode *i, u64 off, const void *buf, u64 len);
int file_truncate(struct inode *i, u64 size);
/* The file's bytes in one piece, if it is still only its initramfs bytes; else NULL. */
const u8 *file_bytes(struct inode *i);

/* ---- symbolic links --------------------------------------------------------- */
int symlink_set(struct inode *i, const char *target, usize len);

/* ---- path lookup -------------------------------------------------------------- */
#define W_FOLLOW 1  /* follow a symbolic link in the last component */
#define W_NOSLASH 2 /* ... not even when a '/' follows it (unlink, rmdir, rename) */

/* What a path names: the last component's directory and name, and its
 * inode (NULL if it does not exist but its directory does). */
struct walk {
	struct inode *dir, *ino;
	const char *name;
	usize len;
	bool slash; /* the path ended in '/' */
	int links;  /* symbolic links followed so far */
};
/* Resolves path (NUL-terminated) from directory start; 0 or -errno. */
int vfs_walk(struct inode *start, const char *path, int flags, struct walk *w);

s64 vfs_now(void); /* nanoseconds */
void inode_touch(struct inode *i, bool modify); /* mtime/ctime (modify) or ctime := now */
extern bool vfs_keep_times; /* while the initramfs is unpacked: times are the archive's */

/* ---- /proc (procfs.c) ---------------------------------------------------------- */
struct inode *procfs_root(void);
struct inode *proc_lookup(struct inode *dir, const char *name, usize len);
/* The first directory entry at position *n or after (positions from 0,
 * after "." and ".."): its position in *n, its name in name
 * (NUL-terminated, NAME_MAX + 1), inode number and type (DT_*); false past
 * the end. */
bool proc_readdir(struct inode *dir, u64 *n, char *name, u64 *ino, u8 *type);
/* A /proc symbolic link's target text into buf (PATH_MAX); length or -errno. */
int proc_readlink(struct inode *i, char *buf);
/* For the "magic" links (/proc/PID/fd/N, cwd): what they lead to, else NULL. */
struct inode *proc_follow(struct inode *i);
/* The contents of a /proc file at open, in a page (kalloc'd LX_PAGE); length. */
int proc_generate(struct inode *i, char *page);
extern struct proc *fs_current; /* the process whose system call is served (for /proc/self) */

/* ---- open files (fs.c) ----------------------------------------------------------- */
struct file {
	u32 refs;         /* fds (in all processes) that share it */
	u32 flags;        /* O_ACCMODE, status flags, O_PATH */
	u64 pos;
	struct inode *ino;
	char *path;       /* for /proc/PID/fd/N (kalloc'd path_size bytes) */
	u32 path_size;
	char *data;       /* /proc files: the contents made at open (a page) */
	u64 data_len;
};

/* ---- initramfs (initramfs.c) --------------------------------------------------- */
/* Unpacks a newc cpio archive into the tree; entries made, or -errno. */
int initramfs_unpack(const u8 *data, u64 size);

#endif
