/* ct_daemon MARKER: the classic double fork. The first child forks the
 * grandchild and exits at once, so the grandchild is re-parented (to init
 * or a subreaper) before it execs /bin/sleep with argv[0] =
 * MARKER-daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char tag[128];
	pid_t pid;

	if (argc != 2)
		return 2;
	snprintf(tag, sizeof(tag), "%s-daemon", argv[1]);
	pid = fork();
	if (pid == 0) {
		setsid();
		if (fork() == 0) {
			pid_t orig = getppid();

			/* wait until our parent is gone: we are re-parented */
			for (int i = 0; i < 5000 && getppid() == orig; i++)
				usleep(1000);
			execl("/bin/sleep", tag, "0.2", (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	return 0;
}
