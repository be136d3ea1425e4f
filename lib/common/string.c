/* The few string functions a freestanding kernel needs.  GCC may also
 * emit calls to memset/memcpy itself. */
#include "string.h"

/* Whole words with REP STOSQ/MOVSQ where the start is aligned: the kernel
 * clears whole pages and copies string items with these. */
void *memset(void *d, int c, usize n)
{
	u8 *p = d;
	if (((uptr)p & 7) == 0 && n >= 8) {
		u64 w = 0x0101010101010101ull * (u8)c, words = n / 8;
		__asm__ volatile("rep stosq" : "+D"(p), "+c"(words) : "a"(w) : "memory");
		n &= 7;
	}
	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, usize n)
{
	u8 *dp = d;
	const u8 *sp = s;
	if ((((uptr)dp | (uptr)sp) & 7) == 0 && n >= 8) {
		usize words = n / 8;
		__asm__ volatile("rep movsq" : "+D"(dp), "+S"(sp), "+c"(words) : : "memory");
		n &= 7;
	}
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
