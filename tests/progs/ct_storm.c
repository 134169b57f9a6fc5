/* ct_storm N [PAR]: fork+exec /bin/true N times, PAR at a time (default 4),
 * as fast as the machine allows: an exec storm for overload tests. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	int par = argc > 2 ? atoi(argv[2]) : 4, running = 0;

	for (int i = 0; i < n; i++) {
		if (running >= par) {
			wait(NULL);
			running--;
		}
		pid_t pid = fork();

		if (pid == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			running++;
	}
	while (running-- > 0)
		wait(NULL);
	return 0;
}
