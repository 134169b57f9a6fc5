#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "task_identity.h"
#include "lib/util.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

int ct_ctl_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		if (e == ENOENT || e == ECONNREFUSED)
			snprintf(err, errlen, "agent is not running (no listener on %s)", path);
		else
			snprintf(err, errlen, "cannot connect to %s: %s", path, strerror(e));
		close(fd);
		return -1;
	}
	return fd;
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= w;
	}
	return 0;
}

static int read_full(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		p += r;
		n -= r;
	}
	return 0;
}

int ct_ctl_send(int fd, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf;
	int rc;

	if (n > CT_CTL_MAX_FRAME) {
		errno = EMSGSIZE;
		return -1;
	}
	buf = malloc(n + 4);
	if (!buf)
		return -1;
	buf[0] = n >> 24;
	buf[1] = n >> 16;
	buf[2] = n >> 8;
	buf[3] = n;
	protobuf_c_message_pack(msg, buf + 4);
	rc = write_full(fd, buf, n + 4);
	free(buf);
	return rc;
}

PbResponse *ct_ctl_call(int fd, const PbRequest *req, char *err, size_t errlen)
{
	uint8_t hdr[4], *buf;
	PbResponse *resp;
	uint32_t n;

	if (ct_ctl_send(fd, &req->base) < 0) {
		int e = errno;

		/* an agent that refused the connection said why before closing */
		if ((e != EPIPE && e != ECONNRESET) || read_full(fd, hdr, 4) < 0) {
			snprintf(err, errlen, "sending request: %s", strerror(e));
			return NULL;
		}
	} else if (read_full(fd, hdr, 4) < 0) {
		snprintf(err, errlen, "reading reply: %s",
			 errno == EAGAIN ? "agent did not answer in 10s" : strerror(errno));
		return NULL;
	}
	n = ct_ctl_frame_len(hdr);
	if (n > CT_CTL_MAX_FRAME) {
		snprintf(err, errlen, "reply frame too large (%u bytes)", n);
		return NULL;
	}
	buf = malloc(n ? n : 1);
	if (!buf || read_full(fd, buf, n) < 0) {
		snprintf(err, errlen, "reading reply: %s", strerror(errno));
		free(buf);
		return NULL;
	}
	resp = changetrace__v1__response__unpack(NULL, n, buf);
	free(buf);
	if (!resp)
		snprintf(err, errlen, "malformed reply from agent");
	return resp;
}

/*
 * A killed agent's sockets are closed late in its exit, after its BPF
 * links and maps, so for a second or two it still accepts connections it
 * will never serve: such a listener is waited for, a live one is not.
 */
int ct_ctl_wait_listener_gone(const char *path, const char *what, char *err, size_t errlen)
{
	/* a live listener is asked a few times: a SIGKILL sent just before
	 * may not have reached the process yet */
	for (int tries = 0;; tries++) {
		struct ucred cr = {};
		socklen_t len = sizeof(cr);
		char perr[64];
		int probe = ct_ctl_connect(path, perr, sizeof(perr));

		if (probe < 0)
			return 0;
		if (getsockopt(probe, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
			cr.pid = 0;
		close(probe);
		if (cr.pid > 0 && ct_task_dying(cr.pid)) {
			fprintf(stderr, "changetrace: the previous %s (pid %d) on %s is exiting; "
				"waiting for it\n", what, (int)cr.pid, path);
			if (ct_task_wait_gone(cr.pid, 30000) < 0) {
				snprintf(err, errlen, "the previous %s (pid %d) on %s did not exit "
					 "within 30 s", what, (int)cr.pid, path);
				return -1;
			}
			continue;
		}
		if (tries < 5) {
			usleep(50000);
			continue;
		}
		snprintf(err, errlen, "another %s (pid %d) is already listening on %s", what,
			 (int)cr.pid, path);
		return -1;
	}
}

int ct_ctl_peer_pidfd(int fd, pid_t pid)
{
	int pidfd = -1;
	socklen_t len = sizeof(pidfd);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 && pidfd >= 0)
		return pidfd;
	return ct_pidfd_open(pid);	/* older kernels: the pid, as of now */
}
