/*
 * ct_sysctlw FILE MODE VALUE...: write each VALUE (and a newline) to FILE,
 * a sysctl, through one open, the way MODE says, and print what each
 * write returned ("VALUE N" or "VALUE -ERRNO"):
 *
 *   seek     lseek(2) to 0, then write(2)
 *   pwrite   pwrite64(2) at 0
 *   writev   writev(2), the value in one iovec
 *   split    writev(2), the value spread over two iovecs
 *   append   write(2) where the last one ended (no seek)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *mode;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: ct_sysctlw FILE seek|pwrite|writev|split|append VALUE...\n");
		return 2;
	}
	mode = argv[2];
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		fprintf(stderr, "ct_sysctlw: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (int i = 3; i < argc; i++) {
		char buf[4096];
		int n = snprintf(buf, sizeof(buf), "%s\n", argv[i]);
		struct iovec iov[2] = { { buf, n }, { NULL, 0 } };
		ssize_t r;

		if (n < 0 || n >= (int)sizeof(buf))
			return 2;
		if (!strcmp(mode, "seek")) {
			lseek(fd, 0, SEEK_SET);
			r = write(fd, buf, n);
		} else if (!strcmp(mode, "pwrite")) {
			r = pwrite(fd, buf, n, 0);
		} else if (!strcmp(mode, "writev")) {
			lseek(fd, 0, SEEK_SET);
			r = writev(fd, iov, 1);
		} else if (!strcmp(mode, "split")) {
			lseek(fd, 0, SEEK_SET);
			iov[0].iov_len = 1;
			iov[1].iov_base = buf + 1;
			iov[1].iov_len = n - 1;
			r = writev(fd, iov, 2);
		} else if (!strcmp(mode, "append")) {
			r = write(fd, buf, n);
		} else {
			fprintf(stderr, "ct_sysctlw: unknown mode %s\n", mode);
			return 2;
		}
		printf("%s %zd\n", argv[i], r < 0 ? (ssize_t)-errno : r);
	}
	close(fd);
	return 0;
}
