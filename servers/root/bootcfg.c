/* Boot-configuration parsing (see bootcfg.h). */
#include "bootcfg.h"
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
		if (r > 0) {
			c.line = line;
			cmds[n++] = c;
		}
		if (eol < end && *eol == 0)
			break;
		p = eol + 1;
	}
	return n;
}
