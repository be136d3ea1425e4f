/*
 * The initramfs: a newc cpio archive ("070701" or "070702" headers, as
 * `cpio -o -H newc` and Linux's gen_init_cpio write), uncompressed, given
 * as a boot module.  Directories, regular files, symbolic links, device
 * nodes, FIFOs and sockets are made with their modes, owners and mtimes;
 * hard links (entries with the same inode number and nlink > 1, the data
 * with the last of them) become links to one inode.  Several archives one
 * after the other, with zero padding between them, are unpacked in turn.
 *
 * File data is not copied: a regular file refers to its bytes in the
 * module (which stays mapped, read-only, for the server's lifetime) and a
 * page of it is copied into a tmpfs page of its own only when first written
 * (vfs.c, file_write).
 */
#include "vfs.h"

#define HEADER 110

struct hardlink {
	u64 ino;
	struct inode *i;
};
static struct hardlink *links; /* a page of them, while an archive is unpacked */
#define MAX_HARDLINKS (LX_PAGE / sizeof(struct hardlink))

static bool hex8(const u8 *s, u64 *v)
{
	*v = 0;
	for (int k = 0; k < 8; k++) {
		u8 c = s[k];
		int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
		if (d < 0)
			return false;
		*v = *v << 4 | (u64)d;
	}
	return true;
}

/* The directory for a path's last component; missing directories on the
 * way are made (0755). */
static struct inode *parent_of(const char *path, usize plen)
{
	static char prefix[PATH_MAX];
	struct inode *cur = vfs_root;
	usize start = 0;
	for (usize k = 0; k < plen; k++) {
		if (path[k] != '/')
			continue;
		if (k > start) {
			memcpy(prefix, path, k);
			prefix[k] = 0;
			struct walk w = { 0 };
			int r = vfs_walk(vfs_root, prefix, W_FOLLOW, &w);
			if (r == 0 && w.ino) {
				cur = w.ino;
			} else if (r == 0) {
				struct inode *d = inode_new(S_IFDIR | 0755);
				if (!d || dir_add(w.dir, w.name, w.len, d) < 0)
					return NULL;
				cur = d;
			} else {
				return NULL;
			}
			if (!S_ISDIR(cur->mode))
				return NULL;
		}
		start = k + 1;
	}
	return cur;
}

static struct inode *hardlink_find(u64 ino)
{
	for (usize k = 0; links && k < MAX_HARDLINKS && links[k].i; k++)
		if (links[k].ino == ino)
			return links[k].i;
	return NULL;
}

static void hardlink_add(u64 ino, struct inode *i)
{
	if (!links && !(links = kalloc(LX_PAGE)))
		return;
	for (usize k = 0; k < MAX_HARDLINKS; k++) {
		if (!links[k].i) {
			links[k] = (struct hardlink){ ino, i };
			iget(i); /* held while the archive is unpacked */
			return;
		}
	}
}

static void hardlinks_done(void)
{
	if (!links)
		return;
	for (usize k = 0; k < MAX_HARDLINKS && links[k].i; k++)
		iput(links[k].i);
	kfree(links, LX_PAGE);
	links = NULL;
}

/* One archive entry; false if it could not be made. */
static bool entry(const char *name, u64 f[13], const u8 *data)
{
	u64 ino = f[0], mode = f[1], nlink = f[4], size = f[6];
	while (name[0] == '/' || (name[0] == '.' && name[1] == '/'))
		name += name[0] == '/' ? 1 : 2;
	usize len = strlen(name);
	while (len && name[len - 1] == '/')
		len--;
	s64 mtime = (s64)f[5] * 1000000000ll;
	if (!len || (len == 1 && name[0] == '.')) { /* the root itself */
		if ((mode & S_IFMT) == S_IFDIR) {
			vfs_root->mode = S_IFDIR | (mode & 07777);
			vfs_root->mtime = vfs_root->ctime = mtime;
		}
		return true;
	}
	usize base = len;
	while (base && name[base - 1] != '/')
		base--;
	if (len - base > NAME_MAX)
		return false;
	struct inode *dir = parent_of(name, base);
	if (!dir)
		return false;
	struct inode *old = dir_lookup(dir, name + base, len - base);
	if (old && S_ISDIR(old->mode) && (mode & S_IFMT) == S_IFDIR) {
		old->mode = (u32)mode;
		old->uid = (u32)f[2];
		old->gid = (u32)f[3];
		old->mtime = old->ctime = mtime;
		return true;
	}
	if (old) {
		if (S_ISDIR(old->mode) && !dir_empty(old))
			return false;
		dir_remove(dir, name + base, len - base);
	}
	struct inode *i = (mode & S_IFMT) == S_IFREG && nlink > 1 ? hardlink_find(ino) : NULL;
	if (i) {
		if (dir_add(dir, name + base, len - base, i) < 0)
			return false;
		if (size) { /* the data comes with the last name */
			i->backing = data;
			i->backing_size = i->size = size;
		}
		return true;
	}
	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		break;
	default:
		return false;
	}
	i = inode_new((u32)mode);
	if (!i)
		return false;
	i->uid = (u32)f[2];
	i->gid = (u32)f[3];
	if (S_ISREG(mode)) {
		i->backing = data;
		i->backing_size = i->size = size;
	} else if (S_ISLNK(mode)) {
		if (!size || symlink_set(i, (const char *)data, size) < 0) {
			kfree(i, sizeof(*i));
			return false;
		}
	} else if ((mode & S_IFMT) == S_IFCHR || (mode & S_IFMT) == S_IFBLK) {
		i->rdev = DEV_MKDEV((u32)f[9], (u32)f[10]);
	}
	if (dir_add(dir, name + base, len - base, i) < 0) {
		iget(i);
		iput(i);
		return false;
	}
	i->atime = i->mtime = i->ctime = mtime;
	if (S_ISREG(mode) && nlink > 1)
		hardlink_add(ino, i);
	return true;
}

int initramfs_unpack(const u8 *data, u64 size)
{
	int count = 0;
	u64 off = 0;
	vfs_keep_times = true;
	for (;;) {
		while (off < size && !data[off])
			off++; /* padding between archives */
		if (off >= size)
			break;
		const u8 *h = data + off;
		u64 f[13];
		if (size - off < HEADER || memcmp(h, "07070", 5) || (h[5] != '1' && h[5] != '2'))
			goto bad;
		for (int k = 0; k < 13; k++)
			if (!hex8(h + 6 + 8 * k, &f[k]))
				goto bad;
		u64 namesize = f[11], filesize = f[6];
		const char *name = (const char *)h + HEADER;
		u64 data_off = (off + HEADER + namesize + 3) & ~3ull;
		if (!namesize || namesize > PATH_MAX || namesize > size - off - HEADER || name[namesize - 1] ||
		    data_off > size || filesize > size - data_off)
			goto bad;
		if (!strcmp(name, "TRAILER!!!")) {
			hardlinks_done();
		} else {
			if (!entry(name, f, data + data_off))
				printf("linux: initramfs: cannot make %s\n", name);
			count++;
		}
		off = (data_off + filesize + 3) & ~3ull;
	}
	hardlinks_done();
	vfs_keep_times = false;
	return count;
bad:
	hardlinks_done();
	vfs_keep_times = false;
	printf("linux: initramfs: not a newc cpio archive at byte %llu\n", (unsigned long long)off);
	return -EINVAL;
}
