/* servers/root/bootcfg.c: boot-configuration parsing.  Text is parsed from
 * a heap copy of exactly len bytes, without a terminator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../servers/root/bootcfg.h"

#define MAXC 8
static struct bootcmd cmds[MAXC + 1]; /* one guard entry past max */

static int parse_len(const char *text, size_t len, int max)
{
	char *copy = malloc(len ? len : 1);
	memcpy(copy, text, len);
	memset(cmds, 0x7e, sizeof(cmds)); /* garbage, but terminated strings */
	for (int i = 0; i <= MAXC; i++)
		cmds[i].name[BOOTCFG_NAME - 1] = cmds[i].args[BOOTCFG_ARGS - 1] = 0;
	int r = bootcfg_parse(copy, len, cmds, max);
	free(copy);
	return r;
}

static int parse(const char *text) { return parse_len(text, strlen(text), MAXC); }
/* A literal with embedded NULs, all of it. */
#define PARSE_LIT(lit, max) parse_len(lit, sizeof(lit) - 1, max)

#define CHECK_CMD(i, k, n, a, l)                                                                 \
	do {                                                                                     \
		CHECK_EQ(cmds[i].kind, k);                                                       \
		CHECK_STR(cmds[i].name, n);                                                      \
		CHECK_STR(cmds[i].args, a);                                                      \
		CHECK_EQ(cmds[i].line, l);                                                       \
	} while (0)

static void bootcfg_test_basic(void)
{
	CHECK_EQ(parse("run t_ipc\nstart sigma1 -v fast\npoweroff\n"), 3);
	CHECK_CMD(0, BOOT_RUN, "t_ipc", "", 1);
	CHECK_CMD(1, BOOT_START, "sigma1", "-v fast", 2);
	CHECK_CMD(2, BOOT_POWEROFF, "", "", 3);
	CHECK_EQ(parse(""), 0);
	CHECK_EQ(parse("\n\n\n"), 0);
}

static void bootcfg_test_comments(void)
{
	CHECK_EQ(parse("# header\n\n   \n\t\nrun a # trailing\n  # indented\nstart b#x\n#run c\n"), 2);
	CHECK_CMD(0, BOOT_RUN, "a", "", 5);
	CHECK_CMD(1, BOOT_START, "b", "", 7);
	CHECK_EQ(parse("run a x y # z\n"), 1);
	CHECK_STR(cmds[0].args, "x y");
	CHECK_EQ(parse("poweroff # bye\n"), 1);
	CHECK_EQ(cmds[0].kind, BOOT_POWEROFF);
}

static void bootcfg_test_whitespace(void)
{
	CHECK_EQ(parse("run a x\r\nstart b\r\n\r\npoweroff\r\n"), 3);
	CHECK_CMD(0, BOOT_RUN, "a", "x", 1);
	CHECK_CMD(1, BOOT_START, "b", "", 2);
	CHECK_CMD(2, BOOT_POWEROFF, "", "", 4);
	CHECK_EQ(parse("\trun\tname\t x \t y \t\r\n"), 1);
	CHECK_CMD(0, BOOT_RUN, "name", "x \t y", 1);
	CHECK_EQ(parse("   start    b     one   two   \n"), 1);
	CHECK_CMD(0, BOOT_START, "b", "one   two", 1);
}

static void bootcfg_test_missing_name(void)
{
	CHECK_EQ(parse("run\n"), -1);
	CHECK_EQ(parse("run a\n\nrun\n"), -3);
	CHECK_EQ(parse("run a\n# c\nstart   # name\n"), -3);
	CHECK_EQ(parse("run a\r\n\r\nstart \t\r\n"), -3);
	CHECK_EQ(parse("\n\n\n\nrun"), -5);
}

static void bootcfg_test_bad_verb(void)
{
	CHECK_EQ(parse("# ok\nfoo bar\n"), -2);
	CHECK_EQ(parse("Run a\n"), -1);
	CHECK_EQ(parse("runx a\n"), -1);
	CHECK_EQ(parse("run a\nstar b\n"), -2);
	CHECK_EQ(parse("averyveryverylongverb a\n"), -1);
	CHECK_EQ(parse("run a\npoweroff extra\n"), -2);
	CHECK_EQ(parse("poweroff x\n"), -1);
	CHECK_EQ(parse("poweroff\trun\n"), -1);
	CHECK_EQ(parse("poweroff \t\r\n"), 1);
}

/* Names up to 47 and args up to 127 characters fit (with the NUL). */
static void bootcfg_test_lengths(void)
{
	char text[400], name[60], args[200];
	memset(name, 'n', sizeof(name));
	memset(args, 'a', sizeof(args));
	snprintf(text, sizeof(text), "run %.*s %.*s\n", BOOTCFG_NAME - 1, name, BOOTCFG_ARGS - 1, args);
	CHECK_EQ(parse(text), 1);
	CHECK_EQ(strlen(cmds[0].name), BOOTCFG_NAME - 1);
	CHECK_EQ(strlen(cmds[0].args), BOOTCFG_ARGS - 1);
	snprintf(text, sizeof(text), "# x\nrun %.*s\n", BOOTCFG_NAME, name);
	CHECK_EQ(parse(text), -2);
	snprintf(text, sizeof(text), "start n %.*s\n", BOOTCFG_ARGS, args);
	CHECK_EQ(parse(text), -1);
	snprintf(text, sizeof(text), "start n %.*s     \t\n", BOOTCFG_ARGS - 1, args); /* trimmed */
	CHECK_EQ(parse(text), 1);
	CHECK_EQ(strlen(cmds[0].args), BOOTCFG_ARGS - 1);
}

static void bootcfg_test_max(void)
{
	CHECK_EQ(PARSE_LIT("run a\nrun b\nrun c\n", 2), -3);
	CHECK_EQ(cmds[2].name[0], 0x7e); /* nothing written past max */
	CHECK_EQ(PARSE_LIT("run a\nrun b\n# c\n\n", 2), 2);
	CHECK_EQ(PARSE_LIT("run a\n", 0), -1);
	CHECK_EQ(PARSE_LIT("# only\n", 0), 0);
	char text[16 * (MAXC + 1) + 1] = "";
	for (int i = 0; i <= MAXC; i++)
		strcat(text, "start x\n");
	CHECK_EQ(parse(text), -(MAXC + 1));
	text[8 * MAXC] = 0;
	CHECK_EQ(parse(text), MAXC);
	CHECK_EQ(cmds[MAXC].name[0], 0x7e);
}

static void bootcfg_test_termination(void)
{
	CHECK_EQ(parse("run a\nstart b x"), 2); /* no trailing newline */
	CHECK_CMD(1, BOOT_START, "b", "x", 2);
	CHECK_EQ(parse("poweroff"), 1);
	CHECK_EQ(PARSE_LIT("run a\n\0run b\n", MAXC), 1); /* ends at a NUL */
	CHECK_EQ(PARSE_LIT("run a x\0garbage\nrun b\n", MAXC), 1);
	CHECK_CMD(0, BOOT_RUN, "a", "x", 1);
	CHECK_EQ(PARSE_LIT("\0run a\n", MAXC), 0);
	CHECK_EQ(parse_len("run a\nbad\n", 5, MAXC), 1); /* len cuts the text */
	CHECK_CMD(0, BOOT_RUN, "a", "", 1);
	CHECK_EQ(parse_len("run a\nbad\n", 0, MAXC), 0);
}

static void bootcfg_test_console(void)
{
	CHECK_EQ(parse("console uart.elf\nrun t_a x\n"), 2);
	CHECK_CMD(0, BOOT_CONSOLE, "uart.elf", "", 1);
	CHECK_CMD(1, BOOT_RUN, "t_a", "x", 2);
	CHECK_EQ(parse("# c\n\tconsole  drv  -v fast \r\n"), 1);
	CHECK_CMD(0, BOOT_CONSOLE, "drv", "-v fast", 2);
	CHECK_EQ(parse("console\n"), -1);
	CHECK_EQ(parse("console   # no name\n"), -1);
	CHECK_EQ(parse("consoles a\n"), -1);
	CHECK_EQ(parse("Console a\n"), -1);
	CHECK_EQ(parse("console a\nrun b\nconsole c\n"), -3); /* at most one */
	CHECK_EQ(parse("console a\n# console c\nstart a\n"), 2);
}

#define CHECK_DEV(i, q, port, log2)                                                              \
	do {                                                                                     \
		CHECK_EQ(cmds[i].dev.irq, q);                                                    \
		CHECK_EQ(cmds[i].dev.io_port, port);                                             \
		CHECK_EQ(cmds[i].dev.io_log2, log2);                                             \
	} while (0)

static void bootcfg_test_devices(void)
{
	CHECK_EQ(parse("devices irq=4 io=0x3f8/3\nconsole uart.elf\nrun t_a\n"), 2);
	CHECK_CMD(0, BOOT_CONSOLE, "uart.elf", "", 2);
	CHECK_DEV(0, 4, 0x3f8, 3);
	CHECK_DEV(1, -1, -1, -1); /* only the next program */
	CHECK_EQ(parse("devices io=112/1 # CMOS\n\n# x\nrun b 1\n"), 1);
	CHECK_CMD(0, BOOT_RUN, "b", "1", 4);
	CHECK_DEV(0, -1, 112, 1);
	CHECK_EQ(parse("devices irq=23\nstart d\n"), 1);
	CHECK_DEV(0, 23, -1, -1);
	CHECK_EQ(parse("devices\nrun a\n"), -1);              /* nothing */
	CHECK_EQ(parse("devices irq=24\nrun a\n"), -1);       /* no such line */
	CHECK_EQ(parse("devices irq=4 irq=5\nrun a\n"), -1);  /* twice */
	CHECK_EQ(parse("devices io=0x3f9/3\nrun a\n"), -1);   /* misaligned */
	CHECK_EQ(parse("devices io=0x3f8\nrun a\n"), -1);     /* no size */
	CHECK_EQ(parse("devices io=0x10000/0\nrun a\n"), -1); /* no such port */
	CHECK_EQ(parse("devices io=0/17\nrun a\n"), -1);
	CHECK_EQ(parse("devices irq=0x\nrun a\n"), -1);
	CHECK_EQ(parse("devices irq=4 dma=1\nrun a\n"), -1);
	CHECK_EQ(parse("run a\ndevices irq=4\n"), -2);        /* for no program */
	CHECK_EQ(parse("devices irq=4\npoweroff\n"), -1);
	CHECK_EQ(parse("devices irq=4\ndevices irq=5\nrun a\n"), -2);
	CHECK_EQ(parse("devices irq=4\nmodule lx/a\n"), -1); /* a module is no program */
}

static void bootcfg_test_module(void)
{
	CHECK_EQ(parse("module lx/hello-musl\nrun linux.elf hello-musl 1\n"), 2);
	CHECK_CMD(0, BOOT_MODULE, "lx/hello-musl", "", 1);
	CHECK_CMD(1, BOOT_RUN, "linux.elf", "hello-musl 1", 2);
	CHECK_EQ(parse("module\n"), -1);
}

void bootcfg_suite(void)
{
	run_test("bootcfg_basic", bootcfg_test_basic);
	run_test("bootcfg_comments_blank", bootcfg_test_comments);
	run_test("bootcfg_crlf_tabs_trim", bootcfg_test_whitespace);
	run_test("bootcfg_missing_name", bootcfg_test_missing_name);
	run_test("bootcfg_bad_verb_poweroff_extra", bootcfg_test_bad_verb);
	run_test("bootcfg_lengths", bootcfg_test_lengths);
	run_test("bootcfg_max_commands", bootcfg_test_max);
	run_test("bootcfg_termination", bootcfg_test_termination);
	run_test("bootcfg_console", bootcfg_test_console);
	run_test("bootcfg_devices", bootcfg_test_devices);
	run_test("bootcfg_module", bootcfg_test_module);
}
