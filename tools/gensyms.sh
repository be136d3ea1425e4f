#!/bin/sh
# Writes the kernel symbol table (assembly) for panic backtraces from the
# text symbols of a linked kernel.  Without an ELF argument: an empty table.
set -e
echo '	.section .note.GNU-stack, "", @progbits'
echo '	.section .ksyms, "a"'
echo '	.balign 8'
echo '	.globl ksyms_count, ksyms_table, ksyms_names'
if [ -z "$1" ]; then
	printf 'ksyms_count: .quad 0\nksyms_table:\nksyms_names: .byte 0\n'
	exit 0
fi
nm -n "$1" | awk '$2 ~ /^[tT]$/ { addr[n] = $1; name[n] = $3; n++ }
END {
	printf "ksyms_count: .quad %d\nksyms_table:\n", n
	off = 0
	for (i = 0; i < n; i++) { printf "\t.quad 0x%s, %d\n", addr[i], off; off += length(name[i]) + 1 }
	printf "ksyms_names:\n"
	for (i = 0; i < n; i++) printf "\t.asciz \"%s\"\n", name[i]
}'
