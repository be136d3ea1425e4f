/* Boot-configuration parsing (see bootcfg.h). */
#include "bootcfg.h"
#include <l4/abi.h>
#include "../../lib/common/string.h"

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Copy the next word of [p, end) into out (size n); false if too long. */
static bool next_word(const char **p, const char *end, char *out, usize n)
{
	while (*p < end && is_space(**p))
		(*p)++;
	usize k = 0;
	while (*p < end && !is_space(**p)) {
		if (k + 1 >= n)
			return false;
		out[k++] = *(*p)++;
	}
	out[k] = 0;
	return true;
}

static bool copy_rest(const char *p, const char *end, char *out, usize n)
{
	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if ((usize)(end - p) >= n)
		return false;
	memcpy(out, p, (usize)(end - p));
	out[end - p] = 0;
	return true;
}

/* A decimal or 0x-prefixed hexadecimal number up to max; -1 if it is not one. */
static long parse_number(const char *s, long max)
{
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	long v = 0;
	for (; *s; s++) {
		int d = *s >= '0' && *s <= '9' ? *s - '0' : (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f' ? (*s | 0x20) - 'a' + 10 : 99;
		if (d >= base || (v = v * base + d) > max)
			return -1;
	}
	return v;
}

/* "irq=N" and "io=PORT/LOG2" words (the port aligned to the size), each
 * at most once. */
static bool parse_devices(const char *p, const char *end, struct bootdev *d)
{
	char w[32];
	bool any = false;
	while (next_word(&p, end, w, sizeof(w)) && w[0]) {
		if (!strncmp(w, "irq=", 4) && d->irq < 0) {
			d->irq = (int)parse_number(w + 4, L4_IRQ_LINES - 1);
			if (d->irq < 0)
				return false;
		} else if (!strncmp(w, "io=", 3) && d->io_port < 0) {
			char *slash = w + 3;
			while (*slash && *slash != '/')
				slash++;
			if (!*slash)
				return false;
			*slash = 0;
			d->io_port = (int)parse_number(w + 3, 0xffff);
			d->io_log2 = (int)parse_number(slash + 1, 16);
			if (d->io_port < 0 || d->io_log2 < 0 || (d->io_port & ((1 << d->io_log2) - 1)))
				return false;
		} else {
			return false;
		}
		any = true;
	}
	return any && p == end;
}

/* Parse one line; 1 = a command, 0 = blank or comment, -1 = error. */
static int parse_line(const char *p, const char *end, struct bootcmd *c)
{
	for (const char *q = p; q < end; q++)
		if (*q == '#') {
			end = q;
			break;
		}
	char verb[16];
	if (!next_word(&p, end, verb, sizeof(verb)))
		return -1;
	if (!verb[0])
		return 0;
	c->name[0] = c->args[0] = 0;
	c->dev = (struct bootdev){ -1, -1, -1 };
	if (!strcmp(verb, "devices")) {
		c->kind = BOOT_DEVICES;
		return parse_devices(p, end, &c->dev) ? 1 : -1;
	}
	if (!strcmp(verb, "poweroff") || !strcmp(verb, "devcheck")) {
		c->kind = verb[0] == 'p' ? BOOT_POWEROFF : BOOT_DEVCHECK;
		char extra[2];
		return next_word(&p, end, extra, sizeof(extra)) && !extra[0] ? 1 : -1;
	}
	if (!strcmp(verb, "run"))
		c->kind = BOOT_RUN;
	else if (!strcmp(verb, "start"))
		c->kind = BOOT_START;
	else if (!strcmp(verb, "console"))
		c->kind = BOOT_CONSOLE;
	else if (!strcmp(verb, "module"))
		c->kind = BOOT_MODULE;
	else
		return -1;
	if (!next_word(&p, end, c->name, sizeof(c->name)) || !c->name[0])
		return -1;
	return copy_rest(p, end, c->args, sizeof(c->args)) ? 1 : -1;
}

int bootcfg_parse(const char *text, usize len, struct bootcmd *cmds, int max)
{
	const char *p = text, *end = text + len;
	int n = 0, line = 0;
	bool console = false;
	struct bootdev dev = { -1, -1, -1 };
	int dev_line = 0; /* a devices line that waits for its program */
	while (p < end) {
		const char *eol = p;
		while (eol < end && *eol != '\n' && *eol != 0)
			eol++;
		line++;
		struct bootcmd c;
		int r = parse_line(p, eol, &c);
		if (r < 0 || (r > 0 && n == max) || (r > 0 && c.kind == BOOT_CONSOLE && console))
			return -line;
		console |= r > 0 && c.kind == BOOT_CONSOLE;
		if (r > 0 && c.kind == BOOT_DEVICES) {
			if (dev_line)
				return -line; /* two for one program */
			dev = c.dev;
			dev_line = line;
			r = 0;
		}
		if (r > 0 && dev_line) {
			if (c.kind != BOOT_RUN && c.kind != BOOT_START && c.kind != BOOT_CONSOLE)
				return -dev_line; /* devices for no program */
			c.dev = dev;
			dev_line = 0;
		}
		if (r > 0) {
			c.line = line;
			cmds[n++] = c;
		}
		if (eol < end && *eol == 0)
			break;
		p = eol + 1;
	}
	return dev_line ? -dev_line : n;
}
