/* ELF64 parsing (see elf.h).  Every field read from the file is checked
 * before it is used: the image may be anything. */
#include "elf.h"
#include <l4/abi.h>

struct ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
};

#define PT_LOAD 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_X86_64 62

static u64 rd(const u8 *p, int n)
{
	u64 v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void read_ehdr(const u8 *b, struct ehdr *h)
{
	for (int i = 0; i < 16; i++)
		h->ident[i] = b[i];
	h->type = (u16)rd(b + 16, 2);
	h->machine = (u16)rd(b + 18, 2);
	h->entry = rd(b + 24, 8);
	h->phoff = rd(b + 32, 8);
	h->phentsize = (u16)rd(b + 54, 2);
	h->phnum = (u16)rd(b + 56, 2);
}

static void read_phdr(const u8 *b, struct phdr *p)
{
	p->type = (u32)rd(b, 4);
	p->flags = (u32)rd(b + 4, 4);
	p->offset = rd(b + 8, 8);
	p->vaddr = rd(b + 16, 8);
	p->filesz = rd(b + 32, 8);
	p->memsz = rd(b + 40, 8);
}

static int check_segment(const struct phdr *p, u64 size, u64 limit)
{
	if (p->filesz > p->memsz)
		return ELF_ERANGE;
	if (p->offset > size || p->filesz > size - p->offset)
		return ELF_ETRUNC;
	if (p->vaddr > limit || p->memsz > limit - p->vaddr)
		return ELF_ERANGE;
	return ELF_OK;
}

int elf_parse(const void *image, u64 size, u64 limit, u64 *entry, struct elf_segment *segs, int max)
{
	const u8 *b = image;
	struct ehdr h;
	if (size < 64)
		return ELF_ETRUNC;
	read_ehdr(b, &h);
	if (h.ident[0] != 0x7f || h.ident[1] != 'E' || h.ident[2] != 'L' || h.ident[3] != 'F')
		return ELF_EMAGIC;
	if (h.ident[4] != 2 || h.ident[5] != 1 || h.machine != EM_X86_64 ||
	    (h.type != ET_EXEC && h.type != ET_DYN) || h.phentsize != 56)
		return ELF_EFORMAT;
	if (h.phoff > size || (u64)h.phnum * 56 > size - h.phoff)
		return ELF_ETRUNC;
	int n = 0;
	for (u32 i = 0; i < h.phnum; i++) {
		struct phdr p;
		read_phdr(b + h.phoff + (u64)i * 56, &p);
		if (p.type != PT_LOAD || p.memsz == 0)
			continue;
		int e = check_segment(&p, size, limit);
		if (e)
			return e;
		if (n == max)
			return ELF_ETOOMANY;
		segs[n].vaddr = p.vaddr;
		segs[n].memsz = p.memsz;
		segs[n].offset = p.offset;
		segs[n].filesz = p.filesz;
		segs[n].rights = ((p.flags & 4) ? L4_R : 0) | ((p.flags & 2) ? L4_W : 0) |
				 ((p.flags & 1) ? L4_X : 0);
		n++;
	}
	if (h.entry >= limit)
		return ELF_ERANGE;
	*entry = h.entry;
	return n;
}
