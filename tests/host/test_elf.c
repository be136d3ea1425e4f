/* lib/common/elf.c: ELF64 parsing of hand-built images and of a real
 * program from build/.  Images are parsed from a heap copy of exactly
 * the given size, so that AddressSanitizer catches any read past the end. */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../lib/common/elf.h"
#include <l4/abi.h>

#define IMG_SIZE 0x400
#define LIMIT 0x800000ull
#define ENTRY 0x400010ull
#define MAXSEG 8

static u8 img[IMG_SIZE];
static u64 entry;
static struct elf_segment segs[MAXSEG];

static void put(u8 *p, u64 v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void set_phdr(int i, u32 type, u32 flags, u64 off, u64 vaddr, u64 filesz, u64 memsz)
{
	u8 *p = img + 64 + 56 * i;
	put(p, type, 4), put(p + 4, flags, 4), put(p + 8, off, 8), put(p + 16, vaddr, 8);
	put(p + 24, vaddr, 8), put(p + 32, filesz, 8), put(p + 40, memsz, 8), put(p + 48, 0x1000, 8);
}

static void set_phnum(int n) { put(img + 56, (u64)n, 2); }

/* A valid image: text R-X and data RW- with a bss tail. */
static void build(void)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = 2, img[5] = 1, img[6] = 1;
	put(img + 16, 2, 2), put(img + 18, 62, 2), put(img + 20, 1, 4);
	put(img + 24, ENTRY, 8), put(img + 32, 64, 8);
	put(img + 52, 64, 2), put(img + 54, 56, 2), put(img + 58, 64, 2);
	set_phnum(2);
	set_phdr(0, PT_LOAD, PF_R | PF_X, 0x200, 0x400000, 0x100, 0x100);
	set_phdr(1, PT_LOAD, PF_R | PF_W, 0x300, 0x401000, 0x80, 0x1000);
}

/* Parses a copy at an odd address that ends exactly at the heap block's end. */
static int parse_n(const u8 *image, u64 size, u64 limit, int max)
{
	u8 *copy = malloc(size + 1);
	memcpy(copy + 1, image, size);
	entry = 0xbad;
	memset(segs, 0xee, sizeof(segs));
	int r = elf_parse(copy + 1, size, limit, &entry, segs, max);
	free(copy);
	return r;
}

static int parse(void) { return parse_n(img, IMG_SIZE, LIMIT, MAXSEG); }

static void elf_test_valid(void)
{
	build();
	CHECK_EQ(parse(), 2);
	CHECK_EQ(entry, ENTRY);
	CHECK_EQ(segs[0].vaddr, 0x400000);
	CHECK_EQ(segs[0].memsz, 0x100);
	CHECK_EQ(segs[0].offset, 0x200);
	CHECK_EQ(segs[0].filesz, 0x100);
	CHECK_EQ(segs[0].rights, L4_R | L4_X);
	CHECK_EQ(segs[1].vaddr, 0x401000);
	CHECK_EQ(segs[1].memsz, 0x1000);
	CHECK_EQ(segs[1].offset, 0x300);
	CHECK_EQ(segs[1].filesz, 0x80);
	CHECK_EQ(segs[1].rights, L4_R | L4_W);
	put(img + 16, 3, 2); /* ET_DYN is accepted too */
	CHECK_EQ(parse(), 2);
	build();
	set_phnum(0);
	CHECK_EQ(parse_n(img, 64, LIMIT, MAXSEG), 0);
	CHECK_EQ(entry, ENTRY);
}

static void elf_test_truncated(void)
{
	build();
	CHECK_EQ(parse_n(img, 0, LIMIT, MAXSEG), ELF_ETRUNC);
	CHECK_EQ(parse_n(img, 63, LIMIT, MAXSEG), ELF_ETRUNC);
	CHECK_EQ(parse_n(img, 64, LIMIT, MAXSEG), ELF_ETRUNC);            /* phdrs beyond */
	CHECK_EQ(parse_n(img, 64 + 2 * 56 - 1, LIMIT, MAXSEG), ELF_ETRUNC); /* one byte short */
	CHECK_EQ(parse_n(img, 0x37f, LIMIT, MAXSEG), ELF_ETRUNC);         /* data one byte short */
	CHECK_EQ(parse_n(img, 0x380, LIMIT, MAXSEG), 2);                  /* exactly enough */
	put(img + 32, IMG_SIZE - 56, 8); /* phdrs run past the end */
	CHECK_EQ(parse(), ELF_ETRUNC);
	put(img + 32, ~0ull - 8, 8);      /* phoff near 2^64 */
	CHECK_EQ(parse(), ELF_ETRUNC);
	build();
	set_phdr(1, PT_LOAD, PF_R, IMG_SIZE + 1, 0x401000, 0, 0x1000); /* offset beyond */
	CHECK_EQ(parse(), ELF_ETRUNC);
	set_phdr(1, PT_LOAD, PF_R, IMG_SIZE, 0x401000, 0, 0x1000); /* empty at the end: fine */
	CHECK_EQ(parse(), 2);
	set_phdr(1, PT_LOAD, PF_R, 0x10, 0x401000, ~0ull - 8, ~0ull - 8); /* offset+filesz wraps */
	CHECK_EQ(parse_n(img, IMG_SIZE, ~0ull, MAXSEG), ELF_ETRUNC);
}

static void elf_test_magic(void)
{
	for (int i = 0; i < 4; i++) {
		build();
		img[i] ^= 0x20;
		CHECK_EQ(parse(), ELF_EMAGIC);
	}
	memset(img, 0, sizeof(img));
	CHECK_EQ(parse(), ELF_EMAGIC);
}

static void check_format(int off, u64 val, int n, int line)
{
	build();
	put(img + off, val, n);
	int r = parse();
	check_at(r == ELF_EFORMAT, __FILE__, line, "field at %d = 0x%llx: got %d, want ELF_EFORMAT",
		 off, val, r);
}

static void elf_test_format(void)
{
	check_format(4, 1, 1, __LINE__);    /* ELFCLASS32 */
	check_format(4, 0, 1, __LINE__);
	check_format(5, 2, 1, __LINE__);    /* big-endian */
	check_format(5, 0, 1, __LINE__);
	check_format(18, 3, 2, __LINE__);   /* EM_386 */
	check_format(18, 183, 2, __LINE__); /* EM_AARCH64 */
	check_format(16, 0, 2, __LINE__);   /* ET_NONE */
	check_format(16, 1, 2, __LINE__);   /* ET_REL */
	check_format(16, 4, 2, __LINE__);   /* ET_CORE */
	check_format(54, 0, 2, __LINE__);   /* phentsize */
	check_format(54, 32, 2, __LINE__);
	check_format(54, 55, 2, __LINE__);
	check_format(54, 64, 2, __LINE__);
}

static void elf_test_range(void)
{
	build();
	set_phdr(1, PT_LOAD, PF_R, 0x300, 0x401000, 0x81, 0x80); /* filesz > memsz */
	CHECK_EQ(parse(), ELF_ERANGE);
	set_phdr(1, PT_LOAD, PF_R, 0x300, LIMIT - 0x1000, 0x80, 0x1000); /* ends at limit */
	CHECK_EQ(parse(), 2);
	set_phdr(1, PT_LOAD, PF_R, 0x300, LIMIT - 0x1000, 0x80, 0x1001);
	CHECK_EQ(parse(), ELF_ERANGE);
	set_phdr(1, PT_LOAD, PF_R, 0x300, LIMIT + 0x1000, 0x80, 0x1000);
	CHECK_EQ(parse(), ELF_ERANGE);
	set_phdr(1, PT_LOAD, PF_R, 0x300, ~0ull - 0xfff, 0x80, 0x2000); /* wraps past 2^64 */
	CHECK_EQ(parse_n(img, IMG_SIZE, ~0ull, MAXSEG), ELF_ERANGE);
	CHECK_EQ(parse(), ELF_ERANGE);
	set_phdr(1, PT_LOAD, PF_R, 0x300, 0x1000, 0x80, ~0ull - 0x800); /* huge memsz */
	CHECK_EQ(parse_n(img, IMG_SIZE, ~0ull, MAXSEG), ELF_ERANGE);
	build();
	put(img + 24, LIMIT, 8); /* entry == limit */
	CHECK_EQ(parse(), ELF_ERANGE);
	put(img + 24, ~0ull, 8);
	CHECK_EQ(parse(), ELF_ERANGE);
	put(img + 24, LIMIT - 1, 8);
	CHECK_EQ(parse(), 2);
	CHECK_EQ(entry, LIMIT - 1);
}

static void elf_test_toomany(void)
{
	build();
	set_phnum(3);
	set_phdr(2, PT_LOAD, PF_R, 0x380, 0x500000, 0x10, 0x10);
	CHECK_EQ(parse_n(img, IMG_SIZE, LIMIT, 2), ELF_ETOOMANY);
	CHECK_EQ(parse_n(img, IMG_SIZE, LIMIT, 3), 3);
	CHECK_EQ(parse_n(img, IMG_SIZE, LIMIT, 1), ELF_ETOOMANY);
	CHECK_EQ(parse_n(img, IMG_SIZE, LIMIT, 0), ELF_ETOOMANY);
	CHECK(segs[0].vaddr == 0xeeeeeeeeeeeeeeeeull); /* nothing written with max 0 */
	set_phnum(0);
	CHECK_EQ(parse_n(img, IMG_SIZE, LIMIT, 0), 0);
}

/* Non-LOAD and empty segments are skipped, however bad their fields. */
static void elf_test_ignored(void)
{
	build();
	set_phnum(6);
	set_phdr(0, PT_NULL, 0, ~0ull, ~0ull, ~0ull, 1);
	set_phdr(1, PT_LOAD, PF_R | PF_X, 0x200, 0x400000, 0x100, 0x100);
	set_phdr(2, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
	set_phdr(3, PT_NOTE, PF_R, IMG_SIZE * 2, ~0ull, 0x100, 0x10); /* bad in every way */
	set_phdr(4, PT_LOAD, PF_R, ~0ull, ~0ull, 0, 0);               /* memsz == 0 */
	set_phdr(5, PT_LOAD, PF_R | PF_W, 0x300, 0x401000, 0x80, 0x1000);
	CHECK_EQ(parse_n(img, IMG_SIZE, LIMIT, 2), 2);
	CHECK_EQ(segs[0].vaddr, 0x400000);
	CHECK_EQ(segs[1].vaddr, 0x401000);
	CHECK_EQ(segs[1].rights, L4_R | L4_W);
}

static void elf_test_rights(void)
{
	static const unsigned want[8] = { 0, L4_X, L4_W, L4_W | L4_X, L4_R, L4_R | L4_X, L4_R | L4_W, L4_RWX };
	for (u32 f = 0; f < 8; f++) {
		build();
		set_phdr(0, PT_LOAD, f, 0x200, 0x400000, 0x100, 0x100);
		CHECK_EQ(parse(), 2);
		CHECK_EQ(segs[0].rights, want[f]);
		set_phdr(0, PT_LOAD, f | 0xf0f00000u, 0x200, 0x400000, 0x100, 0x100); /* other bits */
		CHECK_EQ(parse(), 2);
		CHECK_EQ(segs[0].rights, want[f]);
	}
}

/* ---- a real program ------------------------------------------------------ */
static u8 *read_file(const char *path, long *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*size = ftell(f);
	fseek(f, 0, SEEK_SET);
	u8 *b = *size > 0 ? malloc((size_t)*size) : NULL;
	if (b && fread(b, 1, (size_t)*size, f) != (size_t)*size) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

/* How many of the entry and the n parsed segments differ from the host's
 * <elf.h> view of the file (a different segment count is one more).  Only
 * after elf_parse accepted the file, so the headers lie inside it. */
static int host_mismatches(const u8 *b, u64 entry, const struct elf_segment *s, int n)
{
	Elf64_Ehdr eh;
	int k = 0, bad = 0;
	memcpy(&eh, b, sizeof(eh));
	bad += eh.e_entry != entry;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, b + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		unsigned r = (ph.p_flags & PF_R ? L4_R : 0) | (ph.p_flags & PF_W ? L4_W : 0) |
			     (ph.p_flags & PF_X ? L4_X : 0);
		bad += k >= n || s[k].vaddr != ph.p_vaddr || s[k].memsz != ph.p_memsz ||
		       s[k].offset != ph.p_offset || s[k].filesz != ph.p_filesz || s[k].rights != r;
		k++;
	}
	return bad + (k != n);
}

/* A real program: as the host sees it; then cut short, under a limit
 * below it, and with too small a segment array. */
static void check_real(const u8 *b, u64 size)
{
	struct elf_segment s[16];
	u64 e = 0, end = 0;
	int n = elf_parse(b, size, L4_USER_MAP_END, &e, s, 16);
	if (!CHECK_MSG(n > 0, "elf_parse gives %d", n))
		return;
	CHECK_EQ(host_mismatches(b, e, s, n), 0);
	for (int i = 0; i < n; i++) /* end of the last segment's file data */
		if (s[i].filesz && s[i].offset + s[i].filesz > end)
			end = s[i].offset + s[i].filesz;
	CHECK_EQ(elf_parse(b, end, L4_USER_MAP_END, &e, s, 16), n);
	CHECK_EQ(elf_parse(b, end - 1, L4_USER_MAP_END, &e, s, 16), ELF_ETRUNC);
	CHECK_EQ(elf_parse(b, size, e, &e, s, 16), ELF_ERANGE); /* limit = entry */
	CHECK_EQ(elf_parse(b, size, L4_USER_MAP_END, &e, s, n - 1), ELF_ETOOMANY);
}

static void elf_test_real(void)
{
	static const char *const paths[] = { "build/t_ipc.elf", "build/sigma0.elf" };
	int found = 0;
	for (int i = 0; i < 2; i++) {
		long size;
		u8 *b = read_file(paths[i], &size);
		if (!b) {
			check_note("skipped: cannot read %s", paths[i]);
			continue;
		}
		found++;
		check_real(b, (u64)size);
		free(b);
	}
	if (!found)
		check_note("skipped: no ELF file in build/ (run make first)");
}

void elf_suite(void)
{
	run_test("elf_valid", elf_test_valid);
	run_test("elf_truncated", elf_test_truncated);
	run_test("elf_bad_magic", elf_test_magic);
	run_test("elf_bad_format", elf_test_format);
	run_test("elf_range", elf_test_range);
	run_test("elf_too_many_segments", elf_test_toomany);
	run_test("elf_ignored_segments", elf_test_ignored);
	run_test("elf_rights", elf_test_rights);
	run_test("elf_real_program", elf_test_real);
}
