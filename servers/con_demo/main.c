/* The interactive part of `make run`: reads the console line by line and
 * answers each line.  The driver passes input raw, so the echo and the
 * line editing (backspace) are done here; Enter arrives as "\r" from a
 * terminal, "\n" from a pipe.  Ctrl-D ends it. */
#include <l4/console.h>

#define CTRL_D 0x04
#define LINE_MAX 128

static char line[LINE_MAX + 1];
static usize len;
static bool after_cr; /* a "\n" right after "\r" is the same Enter */

static void echo(const char *s, usize n) { l4_con_write(l4_console, s, n); }

/* One input byte; false at Ctrl-D. */
static bool take(char c)
{
	bool cr = after_cr;
	after_cr = c == '\r';
	if (c == CTRL_D)
		return false;
	if (c == '\r' || c == '\n') {
		if (c == '\n' && cr)
			return true;
		echo("\n", 1);
		line[len] = 0;
		printf("con_demo: you typed \"%s\" (%u characters)\n", line, (unsigned)len);
		len = 0;
	} else if (c == '\b' || c == 0x7f) {
		if (len) {
			len--;
			echo("\b \b", 3);
		}
	} else if (c >= ' ' && c < 0x7f && len < LINE_MAX) {
		line[len++] = c;
		echo(&c, 1);
	}
	return true;
}

int main(void)
{
	if (l4_console == L4_NILTHREAD) {
		printf("con_demo: no console driver\n");
		return 1;
	}
	printf("con_demo: type lines (backspace edits), Ctrl-D ends\n");
	char buf[64];
	for (;;) {
		s64 n = l4_con_read(l4_console, buf, sizeof(buf));
		if (n < 0) {
			printf("con_demo: read failed (%lld)\n", n);
			return 1;
		}
		for (s64 i = 0; i < n; i++) {
			if (!take(buf[i])) {
				printf("\ncon_demo: bye\n");
				return 0;
			}
		}
	}
}
