/*
 * The agent side of the control socket. Clients are untrusted: frames are
 * size-limited, protobuf decoding is bounds-checked by protobuf-c, every
 * string is validated before use, and a client that sends garbage or
 * stalls mid-frame is disconnected without touching agent state.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent.h"
#include "lib/control.h"
#include "ctl_handlers.h"
#include "lib/util.h"

#define MAX_CLIENTS 64
#define CLIENT_IDLE_NS (30ull * 1000000000ull)

struct client {
	int fd;
	struct ucred cred;
	uint64_t last_ns;
	size_t have;
	uint8_t buf[4 + CT_CTL_MAX_FRAME];
};

static struct client *clients[MAX_CLIENTS];

int ct_ctl_listen(const char *path, const char *group, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], probe_err[64];
	int fd, probe;
	char *slash;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	ct_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	/* A live listener means another agent; a dead one is a stale file. */
	probe = ct_ctl_connect(path, probe_err, sizeof(probe_err));
	if (probe >= 0) {
		close(probe);
		snprintf(err, errlen, "another agent is already listening on %s", path);
		return -1;
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Anyone may connect (and ask for status); changes are authorized
	 * per request from SO_PEERCRED, so refusals are explicit. */
	chmod(path, 0666);
	(void)group;
	return fd;
}

static void drop(struct client *c, int epfd)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] == c)
			clients[i] = NULL;
	free(c);
}

void ct_ctl_on_listen(struct ct_agent *a, int lfd, int epfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		socklen_t len = sizeof(struct ucred);
		struct epoll_event ev = { .events = EPOLLIN };
		struct client *c = NULL;
		int slot = -1;

		if (fd < 0)
			return;
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (!clients[i]) {
				slot = i;
				break;
			}
		if (slot >= 0)
			c = calloc(1, sizeof(*c));
		if (!c) {
			a->ctl_refused++;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->last_ns = ct_now_mono_ns();
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
			close(fd);
			free(c);
			continue;
		}
		ev.data.fd = fd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		clients[slot] = c;
	}
}

static struct client *find(int fd)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] && clients[i]->fd == fd)
			return clients[i];
	return NULL;
}

static void reply_error(int fd, const char *msg)
{
	PbResponse r = CHANGETRACE__V1__RESPONSE__INIT;

	r.ok = 0;
	r.error = (char *)msg;
	ct_ctl_send(fd, &r.base);
}

/* Returns false when the client must be dropped. */
static bool serve_frames(struct ct_agent *a, struct client *c)
{
	while (c->have >= 4) {
		uint32_t n = ct_ctl_frame_len(c->buf);
		PbRequest *req;
		struct ct_peer peer = { .pid = c->cred.pid, .uid = c->cred.uid, .gid = c->cred.gid };

		if (n > CT_CTL_MAX_FRAME) {
			a->ctl_bad_frames++;
			reply_error(c->fd, "request frame too large");
			return false;
		}
		if (c->have < 4 + (size_t)n)
			return true;
		req = changetrace__v1__request__unpack(NULL, n, c->buf + 4);
		a->ctl_requests++;
		if (!req) {
			a->ctl_bad_frames++;
			reply_error(c->fd, "malformed request");
			return false;
		}
		ct_ctl_handle(a, &peer, c->fd, req);
		changetrace__v1__request__free_unpacked(req, NULL);
		memmove(c->buf, c->buf + 4 + n, c->have - 4 - n);
		c->have -= 4 + n;
	}
	return true;
}

bool ct_ctl_on_client(struct ct_agent *a, int fd, int epfd)
{
	struct client *c = find(fd);

	if (!c) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
		return false;
	}
	for (;;) {
		ssize_t r = recv(fd, c->buf + c->have, sizeof(c->buf) - c->have, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (r <= 0) {
			drop(c, epfd);
			return false;
		}
		c->have += r;
		c->last_ns = ct_now_mono_ns();
		if (!serve_frames(a, c)) {
			drop(c, epfd);
			return false;
		}
	}
}

/* Called periodically: clients that stall mid-frame are dropped. */
void ct_ctl_reap_idle(int epfd)
{
	uint64_t now = ct_now_mono_ns();

	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] && now - clients[i]->last_ns > CLIENT_IDLE_NS)
			drop(clients[i], epfd);
}

void ct_ctl_close_all(int epfd)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i])
			drop(clients[i], epfd);
}
