/*
 * The file system tree: a tmpfs in the server's pages.
 *
 * Inodes, directory entries, symbolic-link targets and open files come
 * from a small allocator of power-of-two pieces cut from pages.  A
 * directory is a list of entries; a regular file's data is a radix tree of
 * pages keyed by the page's offset (512 slots a level, grown upwards as the
 * file grows), over the initramfs bytes it may have started with: those
 * are read in place and copied into a page of the file's own only when
 * that page is first written (initramfs.c).  Path lookup handles ".",
 * "..", symbolic links (at most MAXSYMLINKS in one lookup: ELOOP) and the
 * /proc directories, whose nodes procfs.c makes on demand.
 */
#include "vfs.h"

struct inode *vfs_root;

/* ---- the allocator: 16 .. 2048 bytes in power-of-two classes, pages above ---- */

#define CLASSES 8 /* 16 << 0 .. 16 << 7 */
static void *free_piece[CLASSES];

static int size_class(usize n)
{
	int c = 0;
	while ((16ul << c) < n)
		c++;
	return c;
}

void *kalloc(usize n)
{
	if (!n || n > LX_PAGE)
		return NULL;
	int c = size_class(n);
	if (c >= CLASSES)
		return (void *)page_alloc();
	if (!free_piece[c]) {
		u8 *page = (u8 *)page_alloc();
		if (!page)
			return NULL;
		usize sz = 16ul << c;
		for (usize off = 0; off + sz <= LX_PAGE; off += sz) {
			*(void **)(page + off) = free_piece[c];
			free_piece[c] = page + off;
		}
	}
	void *p = free_piece[c];
	free_piece[c] = *(void **)p;
	memset(p, 0, 16ul << c);
	return p;
}

void kfree(void *p, usize n)
{
	if (!p)
		return;
	int c = size_class(n);
	if (c >= CLASSES) {
		page_free((u64)p);
		return;
	}
	*(void **)p = free_piece[c];
	free_piece[c] = p;
}

/* ---- inodes ---------------------------------------------------------------------- */

static u64 next_ino = 1;
static struct inode *transients;

s64 vfs_now(void) { return (s64)now_ns(); }

bool vfs_keep_times;

void inode_touch(struct inode *i, bool modify)
{
	if (vfs_keep_times)
		return;
	i->ctime = vfs_now();
	if (modify)
		i->mtime = i->ctime;
}

struct inode *inode_new(u32 mode)
{
	struct inode *i = kalloc(sizeof(*i));
	if (!i)
		return NULL;
	i->ino = next_ino++;
	i->mode = mode;
	i->atime = i->mtime = i->ctime = vfs_now();
	i->next_seq = 2;
	return i;
}

static void radix_prune(struct inode *i, u64 *t, u32 level, u64 base, u64 first);

static void inode_free(struct inode *i)
{
	if (S_ISREG(i->mode) && i->radix) {
		radix_prune(i, i->radix, i->height - 1, 0, 0);
		page_free((u64)i->radix);
	}
	if (S_ISLNK(i->mode) && i->target)
		kfree(i->target, i->size + 1);
	while (i->first) { /* only a directory removed with entries (never by a system call) */
		struct dentry *d = i->first;
		i->first = d->next;
		kfree(d, sizeof(*d) + d->len + 1);
	}
	struct inode *parent = i->parent;
	kfree(i, sizeof(*i));
	if (parent)
		iput(parent);
}

void iget(struct inode *i) { i->refs++; }

void iput(struct inode *i)
{
	if (--i->refs == 0 && i->nlink == 0 && !i->transient)
		inode_free(i);
}

struct inode *transient_new(u32 mode, struct inode *parent, u8 pn, int pid, int fdn)
{
	struct inode *i = inode_new(mode);
	if (!i)
		return NULL;
	next_ino--; /* /proc nodes have numbers of their own (procfs.c) */
	i->transient = true;
	i->nlink = S_ISDIR(mode) ? 2 : 1;
	i->pn = pn;
	i->pid = pid;
	i->fdn = fdn;
	i->parent = parent;
	if (parent)
		iget(parent);
	i->tnext = transients;
	transients = i;
	return i;
}

/* After each system call: the /proc nodes that lookups made and nothing
 * holds (an open file, a working directory, a node below) are freed. */
void vfs_gc(void)
{
	bool again = true;
	while (again) {
		again = false;
		for (struct inode **pp = &transients; *pp;) {
			struct inode *i = *pp;
			if (i->refs) {
				pp = &i->tnext;
				continue;
			}
			*pp = i->tnext;
			i->transient = false;
			i->nlink = 0;
			inode_free(i);
			again = true;
		}
	}
}

/* ---- directories ------------------------------------------------------------------- */

struct inode *dir_lookup(struct inode *dir, const char *name, usize len)
{
	if (dir->pn)
		return proc_lookup(dir, name, len);
	for (struct dentry *d = dir->first; d; d = d->next)
		if (d->len == len && !memcmp(d->name, name, len))
			return d->ino;
	return NULL;
}

static void append_entry(struct inode *dir, struct dentry *d)
{
	d->seq = dir->next_seq++;
	d->next = NULL;
	if (dir->last)
		dir->last->next = d;
	else
		dir->first = d;
	dir->last = d;
}

/* Takes the entry out of the directory's list (no link counts change). */
static struct dentry *unlink_entry(struct inode *dir, const char *name, usize len)
{
	struct dentry *prev = NULL, *d = dir->first;
	while (d && !(d->len == len && !memcmp(d->name, name, len))) {
		prev = d;
		d = d->next;
	}
	if (!d)
		return NULL;
	if (prev)
		prev->next = d->next;
	else
		dir->first = d->next;
	if (dir->last == d)
		dir->last = prev;
	return d;
}

static struct dentry *find_entry(struct inode *dir, const char *name, usize len)
{
	for (struct dentry *d = dir->first; d; d = d->next)
		if (d->len == len && !memcmp(d->name, name, len))
			return d;
	return NULL;
}

static struct dentry *dentry_new(const char *name, usize len, struct inode *i)
{
	struct dentry *d = kalloc(sizeof(*d) + len + 1);
	if (d) {
		d->ino = i;
		d->len = (u16)len;
		memcpy(d->name, name, len);
	}
	return d;
}

/* A directory moves from one parent to another: its ".." goes along. */
static void reparent(struct inode *i, struct inode *from, struct inode *to)
{
	if (!S_ISDIR(i->mode) || from == to)
		return;
	from->nlink--;
	to->nlink++;
	iget(to);
	i->parent = to;
	iput(from);
}

int dir_add(struct inode *dir, const char *name, usize len, struct inode *i)
{
	struct dentry *d = dentry_new(name, len, i);
	if (!d)
		return -ENOMEM;
	append_entry(dir, d);
	if (S_ISDIR(i->mode)) {
		struct inode *old = i->parent;
		i->parent = dir;
		iget(dir);
		if (old)
			iput(old);
		i->nlink = 2; /* its name and its "." */
		dir->nlink++; /* its ".." */
	} else {
		i->nlink++;
	}
	inode_touch(dir, true);
	if (!vfs_keep_times)
		i->ctime = dir->mtime;
	return 0;
}

void dir_remove(struct inode *dir, const char *name, usize len)
{
	struct dentry *d = unlink_entry(dir, name, len);
	if (!d)
		return;
	struct inode *i = d->ino;
	kfree(d, sizeof(*d) + d->len + 1);
	if (S_ISDIR(i->mode)) {
		i->nlink = 0; /* it keeps its parent (for "..") until it is freed */
		dir->nlink--;
	} else {
		i->nlink--;
	}
	inode_touch(dir, true);
	if (!vfs_keep_times)
		i->ctime = dir->mtime;
	if (!i->nlink && !i->refs)
		inode_free(i);
}

int dir_rename(struct inode *odir, const char *oname, usize olen, struct inode *ndir, const char *nname, usize nlen)
{
	struct dentry *d = dentry_new(nname, nlen, NULL);
	if (!d)
		return -ENOMEM;
	struct dentry *old = unlink_entry(odir, oname, olen);
	if (!old) {
		kfree(d, sizeof(*d) + nlen + 1);
		return -ENOENT;
	}
	d->ino = old->ino;
	kfree(old, sizeof(*old) + old->len + 1);
	append_entry(ndir, d);
	reparent(d->ino, odir, ndir);
	inode_touch(odir, true);
	inode_touch(ndir, true);
	d->ino->ctime = ndir->mtime;
	return 0;
}

void dir_exchange(struct inode *adir, const char *aname, usize alen, struct inode *bdir, const char *bname, usize blen)
{
	struct dentry *a = find_entry(adir, aname, alen), *b = find_entry(bdir, bname, blen);
	if (!a || !b)
		return;
	struct inode *ai = a->ino, *bi = b->ino;
	a->ino = bi;
	b->ino = ai;
	iget(adir); /* neither directory may go while the other moves */
	iget(bdir);
	reparent(ai, adir, bdir);
	reparent(bi, bdir, adir);
	inode_touch(adir, true);
	inode_touch(bdir, true);
	ai->ctime = bi->ctime = adir->mtime;
	iput(adir);
	iput(bdir);
}

u64 dir_count(struct inode *dir)
{
	u64 n = 0;
	for (struct dentry *d = dir->first; d; d = d->next)
		n++;
	return n;
}

bool dir_empty(struct inode *dir) { return !dir->first; }

static int utoa(char *buf, u64 v)
{
	char rev[24];
	int n = 0, k = 0;
	do
		rev[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		buf[k++] = rev[--n];
	buf[k] = 0;
	return k;
}

int dir_name(struct inode *d, char *buf, usize size)
{
	if (d->pn == PN_PID)
		return utoa(buf, (u64)d->pid);
	if (d->pn == PN_FDDIR) {
		memcpy(buf, "fd", 3);
		return 2;
	}
	if (!d->parent || d->nlink == 0)
		return -ENOENT;
	for (struct dentry *e = d->parent->first; e; e = e->next) {
		if (e->ino == d) {
			if (e->len >= size)
				return -ENAMETOOLONG;
			memcpy(buf, e->name, e->len + 1u);
			return e->len;
		}
	}
	return -ENOENT;
}

int dir_path(struct inode *d, char *buf)
{
	static char name[NAME_MAX + 1];
	usize pos = PATH_MAX - 1;
	buf[pos] = 0;
	if (d != vfs_root && d->nlink == 0)
		return -ENOENT;
	while (d != vfs_root) {
		int n = dir_name(d, name, sizeof(name));
		if (n < 0)
			return n;
		if ((usize)n + 1 > pos)
			return -ENAMETOOLONG;
		pos -= (usize)n;
		memcpy(buf + pos, name, (usize)n);
		buf[--pos] = '/';
		d = d->parent;
	}
	if (pos == PATH_MAX - 1)
		buf[--pos] = '/';
	usize len = PATH_MAX - 1 - pos;
	for (usize k = 0; k <= len; k++) /* forward copy: the areas may overlap */
		buf[k] = buf[pos + k];
	return (int)len;
}

/* ---- regular files: the radix tree ------------------------------------------------ */

#define MAX_HEIGHT 6 /* 2^54 pages: beyond any s64 offset */
#define MAX_FILE_SIZE 0x7fffffffffffffffull

static u64 radix_cap(u32 h) { return h ? 1ull << (9 * h) : 0; }

/* The slot for page idx (holding the page's address or 0); the tree grows
 * and gets its tables if create; NULL if absent or out of memory. */
static u64 *radix_slot(struct inode *i, u64 idx, bool create)
{
	if (idx >= radix_cap(i->height)) {
		if (!create)
			return NULL;
		while (idx >= radix_cap(i->height)) {
			u64 *t = i->height < MAX_HEIGHT ? (u64 *)page_alloc() : NULL;
			if (!t)
				return NULL;
			t[0] = (u64)i->radix; /* the old tree covers slot 0 of the new root */
			i->radix = t;
			i->height++;
		}
	}
	u64 *t = i->radix;
	for (u32 level = i->height - 1; level > 0; level--) {
		u64 *e = &t[(idx >> (9 * level)) & 511];
		if (!*e && (!create || !(*e = page_alloc())))
			return NULL;
		t = (u64 *)*e;
	}
	return &t[idx & 511];
}

/* Frees the data pages from index `first` on, and the tables entirely
 * past it, in table t of the given level that starts at index base. */
static void radix_prune(struct inode *i, u64 *t, u32 level, u64 base, u64 first)
{
	u64 span = 1ull << (9 * level);
	for (u64 k = 0; k < 512; k++) {
		if (!t[k])
			continue;
		u64 lo = base + k * span;
		if (lo + span <= first)
			continue;
		if (level == 0) {
			page_free(t[k]);
			i->npages--;
			t[k] = 0;
			continue;
		}
		radix_prune(i, (u64 *)t[k], level - 1, lo, first);
		if (lo >= first) {
			page_free(t[k]);
			t[k] = 0;
		}
	}
}

u64 file_read(struct inode *i, u64 off, void *buf, u64 len)
{
	if (off >= i->size)
		return 0;
	if (len > i->size - off)
		len = i->size - off;
	u8 *out = buf;
	for (u64 done = 0; done < len;) {
		u64 at = off + done, po = at & (LX_PAGE - 1), n = LX_PAGE - po;
		if (n > len - done)
			n = len - done;
		u64 *slot = radix_slot(i, at / LX_PAGE, false);
		if (slot && *slot) {
			memcpy(out + done, (u8 *)*slot + po, n);
		} else {
			u64 m = at < i->backing_size ? i->backing_size - at : 0;
			if (m > n)
				m = n;
			if (m)
				memcpy(out + done, i->backing + at, m);
			memset(out + done + m, 0, n - m);
		}
		done += n;
	}
	return len;
}

s64 file_write(struct inode *i, u64 off, const void *buf, u64 len)
{
	if (off > MAX_FILE_SIZE || len > MAX_FILE_SIZE - off)
		return -EFBIG;
	const u8 *in = buf;
	u64 done = 0;
	while (done < len) {
		u64 at = off + done, idx = at / LX_PAGE, po = at & (LX_PAGE - 1), n = LX_PAGE - po;
		if (n > len - done)
			n = len - done;
		u64 *slot = radix_slot(i, idx, true);
		if (slot && !*slot) {
			u64 page = page_alloc();
			if (page) {
				u64 start = idx * LX_PAGE; /* the page's initramfs bytes come along */
				if (start < i->backing_size)
					memcpy((void *)page, i->backing + start,
					       i->backing_size - start < LX_PAGE ? i->backing_size - start : LX_PAGE);
				*slot = page;
				i->npages++;
			}
		}
		if (!slot || !*slot)
			break; /* out of memory */
		memcpy((u8 *)*slot + po, in + done, n);
		done += n;
	}
	if (done && off + done > i->size)
		i->size = off + done;
	if (done)
		inode_touch(i, true);
	return done || !len ? (s64)done : -ENOSPC;
}

int file_truncate(struct inode *i, u64 size)
{
	if (size > MAX_FILE_SIZE)
		return -EFBIG;
	if (size < i->size) {
		u64 first = (size + LX_PAGE - 1) / LX_PAGE;
		if (i->radix) {
			radix_prune(i, i->radix, i->height - 1, 0, first);
			u64 *slot = radix_slot(i, size / LX_PAGE, false);
			if (size & (LX_PAGE - 1) && slot && *slot)
				memset((u8 *)*slot + (size & (LX_PAGE - 1)), 0, LX_PAGE - (size & (LX_PAGE - 1)));
			if (!first) {
				page_free((u64)i->radix);
				i->radix = NULL;
				i->height = 0;
			}
		}
		if (i->backing_size > size)
			i->backing_size = size;
	}
	i->size = size;
	inode_touch(i, true);
	return 0;
}

const u8 *file_bytes(struct inode *i)
{
	return S_ISREG(i->mode) && !i->npages && i->backing && i->backing_size == i->size ? i->backing : NULL;
}

int symlink_set(struct inode *i, const char *target, usize len)
{
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	i->target = kalloc(len + 1);
	if (!i->target)
		return -ENOMEM;
	memcpy(i->target, target, len);
	i->size = len;
	return 0;
}

/* ---- path lookup ------------------------------------------------------------------ */

static struct inode *step(struct inode *cur, const char *s, usize len)
{
	if (len == 1 && s[0] == '.')
		return cur;
	if (len == 2 && s[0] == '.' && s[1] == '.')
		return cur == vfs_root || !cur->parent ? cur : cur->parent;
	return dir_lookup(cur, s, len);
}

/* Where symbolic link `link` (in directory dir) leads: into *w as a walk
 * of its target; 0 or -errno. */
static int follow_link(struct inode *dir, struct inode *link, int flags, struct walk *w)
{
	if (++w->links > MAXSYMLINKS)
		return -ELOOP;
	if (link->pn) {
		struct inode *to = proc_follow(link);
		if (to) { /* a "magic" link: straight to the open file's inode */
			*w = (struct walk){ to->parent ? to->parent : to, to, ".", 1, false, w->links };
			return 0;
		}
		char *text = kalloc(PATH_MAX);
		if (!text)
			return -ENOMEM;
		int r = proc_readlink(link, text);
		if (r >= 0)
			r = vfs_walk(dir, text, flags, w);
		kfree(text, PATH_MAX);
		return r;
	}
	return vfs_walk(dir, link->target, flags, w);
}

int vfs_walk(struct inode *cur, const char *path, int flags, struct walk *w)
{
	if (!*path)
		return -ENOENT;
	if (*path == '/')
		cur = vfs_root;
	const char *s = path;
	for (;;) {
		while (*s == '/')
			s++;
		if (!*s) { /* "/" or a path of slashes: the directory itself */
			w->dir = w->ino = cur;
			w->name = ".";
			w->len = 1;
			w->slash = true;
			return 0;
		}
		const char *e = s;
		while (*e && *e != '/')
			e++;
		const char *t = e;
		while (*t == '/')
			t++;
		usize len = (usize)(e - s);
		bool last = !*t, slash = t != e;
		if (!S_ISDIR(cur->mode))
			return -ENOTDIR;
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		struct inode *next = step(cur, s, len);
		if (next && S_ISLNK(next->mode) && (!last || (slash && !(flags & W_NOSLASH)) || (flags & W_FOLLOW))) {
			struct walk sub = { .links = w->links };
			int r = follow_link(cur, next, last ? (flags | W_FOLLOW) & ~W_NOSLASH : W_FOLLOW, &sub);
			w->links = sub.links;
			if (r)
				return r;
			if (last) {
				*w = sub;
				w->slash = w->slash || slash;
				if (w->slash && w->ino && !S_ISDIR(w->ino->mode))
					return -ENOTDIR;
				return 0;
			}
			if (!sub.ino)
				return -ENOENT;
			next = sub.ino;
		}
		if (last) {
			w->dir = cur;
			w->ino = next;
			w->name = s;
			w->len = len;
			w->slash = slash;
			if (slash && next && !S_ISDIR(next->mode) && !S_ISLNK(next->mode))
				return -ENOTDIR;
			return 0;
		}
		if (!next)
			return -ENOENT;
		cur = next;
		s = t;
	}
}
