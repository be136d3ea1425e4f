/* The first Linux program on the Linux server: start-up (TLS, auxv),
 * stdio through write/writev, malloc through brk or mmap, exit status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	printf("hello from %s, pid %d, %d args:", argv[0], getpid(), argc);
	for (int i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	char *big = malloc(1 << 20);
	if (!big)
		return 3;
	memset(big, 'x', 1 << 20);
	char *small = malloc(100);
	strcpy(small, "heap ok");
	printf("%s, %c\n", small, big[12345]);
	free(big);
	fflush(stdout);
	return argc > 1 ? atoi(argv[argc - 1]) : 0;
}
