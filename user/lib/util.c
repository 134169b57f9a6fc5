#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "changetrace.h"
#include "util.h"

size_t ct_strlcpy(char *dst, const char *src, size_t dst_len)
{
	size_t n = strlen(src);

	if (dst_len) {
		size_t c = n < dst_len - 1 ? n : dst_len - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

void ct_err(const char *fmt, ...)
{
	va_list ap;

	fputs("changetrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

ssize_t ct_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -1;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		got += n;
	}
	close(fd);
	return got;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t ct_now_mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
uint64_t ct_now_wall_ns(void) { return clock_ns(CLOCK_REALTIME); }

int64_t ct_mono_to_wall_offset(void)
{
	/* Take the tightest of a few samples to keep the skew small. */
	int64_t best = 0;
	uint64_t best_gap = UINT64_MAX;

	for (int i = 0; i < 3; i++) {
		uint64_t m1 = clock_ns(CLOCK_MONOTONIC);
		uint64_t w = clock_ns(CLOCK_REALTIME);
		uint64_t m2 = clock_ns(CLOCK_MONOTONIC);

		if (m2 - m1 < best_gap) {
			best_gap = m2 - m1;
			best = (int64_t)w - (int64_t)(m1 + (m2 - m1) / 2);
		}
	}
	return best;
}

const char *ct_fmt_time(uint64_t wall_ns, char *buf, size_t len)
{
	time_t s = wall_ns / 1000000000ull;
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03uZ", (unsigned)(wall_ns / 1000000 % 1000));
	return buf;
}

bool ct_valid_deploy_id(const char *id, const char **why)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0) {
		*why = "deploy id is empty";
		return false;
	}
	if (n >= CT_DEPLOY_ID_LEN) {
		*why = "deploy id is longer than 63 characters";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("._:/@+-", c))) {
			*why = "deploy id may only contain letters, digits and ._:/@+-";
			return false;
		}
	}
	return true;
}

const char *ct_socket_path(const char *flag)
{
	const char *env;

	if (flag && *flag)
		return flag;
	env = getenv("CHANGETRACE_SOCKET");
	if (env && *env)
		return env;
	return CT_DEFAULT_SOCKET;
}
