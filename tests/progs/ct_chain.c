/* ct_chain MARKER N: fork, and in the child exec ourselves with N-1, until
 * N is 0; each parent waits. Produces an exec chain of depth N+1 whose
 * every process carries MARKER in argv. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char n_str[16], self[4096];
	ssize_t len;
	int n;
	pid_t pid;

	if (argc != 3)
		return 2;
	n = atoi(argv[2]);
	if (n <= 0)
		return 0;
	snprintf(n_str, sizeof(n_str), "%d", n - 1);
	pid = fork();
	if (pid == 0) {
		/* exec by real path, so comm stays "ct_chain" */
		len = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (len <= 0)
			_exit(126);
		self[len] = '\0';
		execl(self, argv[0], argv[1], n_str, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return 1;
	waitpid(pid, NULL, 0);
	return 0;
}
