/*
 * ct_fileops DIR [PAUSE_MS]: every config-changing syscall once, on DIR,
 * through plain syscalls: dirfd-relative and cwd-relative paths, "..",
 * and the fd-based variants. With a pause between steps (longer than the
 * collector's coalescing window) the test sees one event per step.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

static int pause_ms;

static void check(int ok, const char *what)
{
	if (pause_ms)
		usleep(pause_ms * 1000);
	if (!ok) {
		fprintf(stderr, "ct_fileops: %s: %s\n", what, strerror(errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	int dfd, fd;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: ct_fileops DIR [PAUSE_MS]\n");
		return 2;
	}
	if (argc == 3)
		pause_ms = atoi(argv[2]);
	dfd = open(argv[1], O_DIRECTORY | O_RDONLY);
	check(dfd >= 0, "open dir");
	check(chdir(argv[1]) == 0, "chdir");

	/* 1 create through a dirfd, written twice */
	fd = openat(dfd, "created.conf", O_WRONLY | O_CREAT | O_EXCL, 0644);
	check(fd >= 0, "openat create");
	check(write(fd, "one\n", 4) == 4 && write(fd, "two\n", 4) == 4, "write");
	check(close(fd) == 0, "close");
	/* 2 truncate-rewrite, cwd-relative */
	fd = open("created.conf", O_WRONLY | O_TRUNC);
	check(fd >= 0, "open trunc");
	check(write(fd, "three\n", 6) == 6, "write");
	check(close(fd) == 0, "close");
	/* 3 rename (renameat2 with dirfds) */
	check(syscall(SYS_renameat2, dfd, "created.conf", dfd, "renamed.conf", 0) == 0, "renameat2");
	/* 4 chmod via fchmodat */
	check(fchmodat(dfd, "renamed.conf", 0600, 0) == 0, "fchmodat");
	/* 5 chown via fchownat (to the same owner: still a change request) */
	check(fchownat(dfd, "renamed.conf", getuid(), getgid(), 0) == 0, "fchownat");
	/* 6 setxattr */
	check(setxattr("renamed.conf", "user.ct", "1", 1, 0) == 0 || errno == ENOTSUP, "setxattr");
	/* 7 truncate by path */
	check(truncate("renamed.conf", 2) == 0, "truncate");
	/* 8 ftruncate */
	fd = open("renamed.conf", O_RDWR);
	check(fd >= 0 && ftruncate(fd, 1) == 0, "ftruncate");
	check(close(fd) == 0, "close");
	/* 9 mkdir via mkdirat */
	check(mkdirat(dfd, "sub", 0755) == 0, "mkdirat");
	/* 10 hard link */
	check(linkat(dfd, "renamed.conf", dfd, "sub/hard.conf", 0) == 0, "linkat");
	/* 11 symlink */
	check(symlinkat("../renamed.conf", dfd, "sub/sym.conf") == 0, "symlinkat");
	/* 12 unlink with ".." from inside sub */
	check(chdir("sub") == 0, "chdir sub");
	check(unlink("../renamed.conf") == 0, "unlink ..");
	/* 13 unlinkat */
	check(unlinkat(dfd, "sub/sym.conf", 0) == 0, "unlinkat");
	check(unlinkat(dfd, "sub/hard.conf", 0) == 0, "unlinkat");
	/* 14 rmdir */
	check(chdir("..") == 0, "chdir ..");
	check(unlinkat(dfd, "sub", AT_REMOVEDIR) == 0, "rmdir");
	/* a failing operation is not a change */
	if (unlink("does-not-exist.conf") == 0)
		return 1;
	close(dfd);
	return 0;
}
