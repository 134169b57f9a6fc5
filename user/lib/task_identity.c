/* A process's identity across pid reuse. See task_identity.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "task_identity.h"
#include "lib/util.h"

#define PF_EXITING_FLAG 0x00000004u   /* include/linux/sched.h PF_EXITING */

uint64_t ct_ns_per_tick(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? 1000000000ull / hz : 10000000ull;
}

/* Fields of /proc/PID/stat after the command name (which may hold spaces
 * and parentheses): index 0 is field 3 (state). */
static int stat_fields(pid_t pid, char *buf, size_t len, char **f, int nf)
{
	char path[64], *p;
	ssize_t n;
	int i = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = ct_read_file(path, buf, len - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	for (p++; i < nf;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		f[i++] = p;
		while (*p && *p != ' ')
			p++;
	}
	return i;
}

int ct_task_start_ticks(pid_t pid, uint64_t *ticks)
{
	char buf[1024], *f[20];

	if (pid <= 0 || stat_fields(pid, buf, sizeof(buf), f, 20) < 20)
		return -1;
	*ticks = strtoull(f[19], NULL, 10);	/* field 22: starttime */
	return 0;
}

bool ct_task_exiting(pid_t pid)
{
	char buf[1024], *f[7];

	if (stat_fields(pid, buf, sizeof(buf), f, 7) < 7)
		return false;
	if (*f[0] == 'Z' || *f[0] == 'X')
		return true;
	return strtoul(f[6], NULL, 10) & PF_EXITING_FLAG;	/* field 9: flags */
}

bool ct_task_dying(pid_t pid)
{
	char path[64], buf[4096], *l;
	ssize_t n;

	if (ct_task_exiting(pid))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	n = ct_read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return true;	/* gone */
	buf[n] = '\0';
	/* SigPnd, ShdPnd: a SIGKILL not yet acted on */
	for (l = buf; (l = strstr(l, "Pnd:")); l += 4)
		if (strtoull(l + 4, NULL, 16) & (1ull << (SIGKILL - 1)))
			return true;
	return false;
}

int ct_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

int ct_pidfd_signal(int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

bool ct_pidfd_alive(int pidfd)
{
	return pidfd >= 0 && ct_pidfd_signal(pidfd, 0) == 0;
}

int ct_task_wait_gone(pid_t pid, int timeout_ms)
{
	int fd = ct_pidfd_open(pid), rc;
	struct pollfd p;

	if (fd < 0)
		return errno == ESRCH ? 0 : -1;
	/* a pidfd polls readable once the process has exited */
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	close(fd);
	return rc > 0 ? 0 : -1;
}

int ct_task_signal_if(pid_t pid, uint64_t ticks, int sig)
{
	int fd = ct_pidfd_open(pid), rc;
	uint64_t now;

	if (fd < 0)
		return -1;
	/* the pidfd pins the process first: the /proc read after it is of
	 * that process or of none (its pid cannot be reused while it lives) */
	if (ct_task_start_ticks(pid, &now) < 0 || now != ticks) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	rc = ct_pidfd_signal(fd, sig);
	close(fd);
	return rc;
}
