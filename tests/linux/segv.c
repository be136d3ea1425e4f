/* A Linux program that dereferences NULL: the Linux server must stop it,
 * report it and exit with 128 + SIGSEGV, like a shell reports a killed
 * child (tools/lxtest.sh checks the status). */
#include <stdio.h>

int main(void)
{
	printf("about to dereference NULL\n");
	fflush(stdout);
	volatile int *p = 0;
	return *p;
}
