/* Memory and string helpers shared by the kernel and user level. */
#ifndef L4_STRING_H
#define L4_STRING_H

#include <l4/types.h>

void *memset(void *d, int c, usize n);
void *memcpy(void *d, const void *s, usize n);
int memcmp(const void *a, const void *b, usize n);
usize strlen(const char *s);
int strncmp(const char *a, const char *b, usize n);
int strcmp(const char *a, const char *b);

#endif
