/* Parsing of static ELF64 x86-64 executables: shared by the kernel (which
 * loads sigma0 and the root task) and the root task (which loads the rest). */
#ifndef L4_ELF_H
#define L4_ELF_H

#include <l4/types.h>

struct elf_segment {
	u64 vaddr, memsz;   /* where it lives in the task */
	u64 offset, filesz; /* what the file provides; the rest is zero */
	unsigned rights;    /* L4_R | L4_W | L4_X */
};

enum elf_error {
	ELF_OK = 0,
	ELF_ETRUNC = -1,   /* headers or segments outside the file */
	ELF_EMAGIC = -2,   /* not ELF */
	ELF_EFORMAT = -3,  /* not 64-bit little-endian x86-64 EXEC/DYN */
	ELF_ERANGE = -4,   /* a segment outside [0, limit) or overflowing */
	ELF_ETOOMANY = -5, /* more loadable segments than the caller allows */
};

/* Checks the image and fills up to max segments; returns their number or
 * an enum elf_error.  limit bounds every segment's end address. */
int elf_parse(const void *image, u64 size, u64 limit, u64 *entry, struct elf_segment *segs, int max);

#endif
