/*
 * The boot configuration read by the root task: one command per line,
 * '#' starts a comment.
 *   run NAME [ARGS...]    start boot module NAME and wait until it exits
 *   start NAME [ARGS...]  start it and go on
 *   console NAME [ARGS...] start it as the console driver (at most once):
 *                         it gets COM1's ports and IRQ 4, and every program
 *                         started after it its thread ID (L4_AT_CONSOLE)
 *   poweroff              switch off once everything before has finished
 *   devcheck              check that sigma0 gives this privileged task
 *                         device memory (prints a test line)
 */
#ifndef BOOTCFG_H
#define BOOTCFG_H

#include <l4/types.h>

enum bootcmd_kind { BOOT_RUN, BOOT_START, BOOT_CONSOLE, BOOT_POWEROFF, BOOT_DEVCHECK };

#define BOOTCFG_MAX 64
#define BOOTCFG_NAME 48
#define BOOTCFG_ARGS 128

struct bootcmd {
	enum bootcmd_kind kind;
	char name[BOOTCFG_NAME];
	char args[BOOTCFG_ARGS];
	int line;
};

/* Parses text (len bytes, need not be terminated).  Returns the number of
 * commands, or -(line number) of the first bad line (a second console
 * line is bad too). */
int bootcfg_parse(const char *text, usize len, struct bootcmd *cmds, int max);

#endif
