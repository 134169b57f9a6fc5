/* ct_threads MARKER: two threads each fork+exec `/bin/true MARKER-forked`;
 * then a non-leader thread execs `/bin/true MARKER-thread-exec`, which
 * replaces the whole process (the kernel makes that thread the leader). */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *marker;

static void *forker(void *arg)
{
	char tag[128];
	pid_t pid;

	snprintf(tag, sizeof(tag), "%s-forked", marker);
	pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", tag, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	return NULL;
}

static void *sleeper(void *arg)
{
	sleep(10);
	return NULL;
}

static void *execer(void *arg)
{
	char tag[128];

	snprintf(tag, sizeof(tag), "%s-thread-exec", marker);
	execl("/bin/true", "true", tag, (char *)NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[4];

	if (argc != 2)
		return 2;
	marker = argv[1];
	pthread_create(&t[0], NULL, forker, NULL);
	pthread_create(&t[1], NULL, forker, NULL);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	pthread_create(&t[2], NULL, sleeper, NULL);
	pthread_create(&t[3], NULL, execer, NULL);
	pthread_join(t[3], NULL);
	return 127;
}
