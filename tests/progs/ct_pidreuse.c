/*
 * ct_pidreuse PID UID CMD [ARGS...]: run CMD as uid and gid UID (no
 * supplementary groups) in a new process whose pid in the host pid
 * namespace is PID: a pid reused once the process that had it died, as an
 * unprivileged user gets it by cycling through the pid space, but at once.
 * clone3(set_tid) needs CAP_CHECKPOINT_RESTORE (root). Prints the child's
 * pid, waits for it and exits with its status; 75 when PID is taken.
 */
#include <errno.h>
#include <grp.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct clone_args args;
	pid_t want, child;
	uid_t uid;
	int status;

	if (argc < 4) {
		fprintf(stderr, "usage: ct_pidreuse PID UID CMD [ARGS...]\n");
		return 2;
	}
	want = atoi(argv[1]);
	uid = atoi(argv[2]);
	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	args.set_tid = (uintptr_t)&want;
	args.set_tid_size = 1;
	fflush(stdout);
	child = syscall(SYS_clone3, &args, sizeof(args));
	if (child < 0) {
		fprintf(stderr, "ct_pidreuse: clone3 with pid %d: %s\n", (int)want, strerror(errno));
		return errno == EEXIST ? 75 : 1;
	}
	if (child == 0) {
		if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0) {
			perror("ct_pidreuse: drop privileges");
			_exit(1);
		}
		execvp(argv[3], argv + 3);
		perror("ct_pidreuse: exec");
		_exit(127);
	}
	printf("%d\n", (int)child);
	fflush(stdout);
	if (waitpid(child, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
