/*
 * The boot configuration read by the root task: one command per line,
 * '#' starts a comment.
 *   run NAME [ARGS...]    start boot module NAME and wait until it exits
 *   start NAME [ARGS...]  start it and go on
 *   console NAME [ARGS...] start it as the console driver (at most once):
 *                         it runs above all other programs, and every
 *                         program started after it gets its thread ID
 *                         (L4_AT_CONSOLE)
 *   devices [irq=N] [io=PORT/LOG2]
 *                         the next run, start or console command's program
 *                         is a driver: interrupt line N is attached to its
 *                         first thread, and it may ask for the 2^LOG2 I/O
 *                         ports from PORT (numbers decimal or 0x hex)
 *   module PATH           boot with the file PATH (below the build
 *                         directory) as a module that a program reads; the
 *                         root task does nothing with it
 *   poweroff              switch off once every "run" before has finished
 *                         (programs from "start" and "console" are not
 *                         waited for)
 *   devcheck              check that sigma0 gives this privileged task
 *                         device memory (prints a test line)
 */
#ifndef BOOTCFG_H
#define BOOTCFG_H

#include <l4/types.h>

enum bootcmd_kind { BOOT_RUN, BOOT_START, BOOT_CONSOLE, BOOT_POWEROFF, BOOT_DEVCHECK, BOOT_DEVICES, BOOT_MODULE };

#define BOOTCFG_MAX 64
#define BOOTCFG_NAME 48
#define BOOTCFG_ARGS 128

/* Devices given to a program; -1: none. */
struct bootdev {
	int irq;
	int io_port, io_log2;
};

struct bootcmd {
	enum bootcmd_kind kind;
	struct bootdev dev;
	char name[BOOTCFG_NAME];
	char args[BOOTCFG_ARGS];
	int line;
};

/* Parses text (len bytes, need not be terminated).  Returns the number of
 * commands, or -(line number) of the first bad line (a second console
 * line is bad too). */
int bootcfg_parse(const char *text, usize len, struct bootcmd *cmds, int max);

#endif
