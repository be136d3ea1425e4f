/* The few string functions a freestanding kernel needs.  GCC may also
 * emit calls to memset/memcpy itself. */
#include "string.h"

/* Word at a time where both ends allow it: the kernel clears whole pages. */
void *memset(void *d, int c, usize n)
{
	u8 *p = d;
	if (((uptr)p & 7) == 0) {
		u64 w = 0x0101010101010101ull * (u8)c;
		for (; n >= 8; n -= 8, p += 8)
			*(u64 *)p = w;
	}
	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, usize n)
{
	u8 *dp = d;
	const u8 *sp = s;
	if ((((uptr)dp | (uptr)sp) & 7) == 0)
		for (; n >= 8; n -= 8, dp += 8, sp += 8)
			*(u64 *)dp = *(const u64 *)sp;
	while (n--)
		*dp++ = *sp++;
	return d;
}

int memcmp(const void *a, const void *b, usize n)
{
	const u8 *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

usize strlen(const char *s)
{
	usize n = 0;
	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, usize n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (u8)*a - (u8)*b;
}
