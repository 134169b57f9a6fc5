/*
 * The agent side of the control socket. Clients are untrusted: frames are
 * size-limited, protobuf decoding is bounds-checked by protobuf-c, every
 * string is validated before use, and a client that sends garbage or
 * stalls mid-frame is disconnected without touching agent state.
 *
 * Anyone may connect (status, deploy list/show), so nobody may be able to
 * keep others out:
 *  - connections are always accepted (the backlog never fills behind a
 *    client that holds slots), then placed or refused at once;
 *  - root and members of --group have slots of their own and may take
 *    anyone else's, so registration and `run` always get through;
 *  - every other uid holds at most PUBLIC_PER_UID connections, and when
 *    the public slots are full a newcomer takes one from the uid holding
 *    the most;
 *  - a connection must deliver each whole request within a deadline
 *    (from accept, then from its previous reply), however slowly it
 *    trickles bytes;
 *  - one client's pipelined requests are served a few at a time, in turn
 *    with the others.
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

#define PRIV_SLOTS 32
#define PUBLIC_SLOTS 64
#define MAX_CLIENTS (PRIV_SLOTS + PUBLIC_SLOTS)
#define PUBLIC_PER_UID 4
#define PUBLIC_DEADLINE_NS (2ull * 1000000000ull)
#define PRIV_DEADLINE_NS (10ull * 1000000000ull)
#define FRAMES_PER_TURN 8
#define ACCEPTS_PER_TURN 512

struct client {
	int fd;
	int pidfd;
	struct ucred cred;
	bool privileged;         /* root or --group: may change, has reserved slots */
	bool backlog;            /* whole frames buffered, not served yet */
	uint64_t since_ns;       /* accepted */
	uint64_t deadline_ns;    /* the next whole request must be in by then */
	size_t have;
	uint8_t buf[4 + CT_CTL_MAX_FRAME];
};

static struct client *clients[MAX_CLIENTS];
static size_t n_backlog;

int ct_ctl_listen(const char *path, const char *group, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int fd;

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
	/* A live listener means another agent; a dying one (killed just
	 * before) is waited for; a dead one is a stale file. */
	if (ct_ctl_wait_listener_gone(path, "agent", err, errlen) < 0)
		return -1;
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
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
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->backlog)
		n_backlog--;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] == c)
			clients[i] = NULL;
	free(c);
}

static void reply_error(int fd, const char *msg)
{
	PbResponse r = CHANGETRACE__V1__RESPONSE__INIT;

	r.ok = 0;
	r.error = (char *)msg;
	ct_ctl_send(fd, &r.base);
}

static int free_slot(int from, int to)
{
	for (int i = from; i < to; i++)
		if (!clients[i])
			return i;
	return -1;
}

static unsigned public_of(uid_t uid)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] && !clients[i]->privileged && clients[i]->cred.uid == uid)
			n++;
	return n;
}

/*
 * A slot for a newcomer, made if needed; -1: refused. The privileged take
 * a reserved slot, else a public one, else the oldest connection of the
 * uid holding the most public ones (else the oldest of all). Anyone else
 * takes a free public slot, or the oldest connection of a uid holding
 * more than the newcomer's uid does, and never more than PUBLIC_PER_UID.
 */
static int place(struct ct_agent *a, uid_t uid, bool privileged, int epfd)
{
	struct client *victim = NULL;
	unsigned mine = privileged ? 0 : public_of(uid), most = 0;
	int slot;

	if (!privileged && mine >= PUBLIC_PER_UID)
		return -1;
	if ((privileged && (slot = free_slot(0, PRIV_SLOTS)) >= 0) ||
	    (slot = free_slot(PRIV_SLOTS, MAX_CLIENTS)) >= 0)
		return slot;
	for (int i = PRIV_SLOTS; i < MAX_CLIENTS; i++) {
		struct client *c = clients[i];
		unsigned n;

		if (c->privileged)
			continue;
		n = public_of(c->cred.uid);
		if (n > most || (n == most && c->since_ns < victim->since_ns)) {
			most = n;
			victim = c;
		}
	}
	if (!privileged && most <= mine)
		victim = NULL;
	if (!victim && privileged)
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (!victim || clients[i]->since_ns < victim->since_ns)
				victim = clients[i];
	if (!victim)
		return -1;
	for (slot = 0; clients[slot] != victim; slot++)
		;
	reply_error(victim->fd, "control socket busy: connection closed for another client");
	drop(victim, epfd);
	a->ctl_evicted++;
	return slot;
}

void ct_ctl_on_listen(struct ct_agent *a, int lfd, int epfd)
{
	for (int n = 0; n < ACCEPTS_PER_TURN; n++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		socklen_t len = sizeof(struct ucred);
		struct epoll_event ev = { .events = EPOLLIN };
		struct ucred cr;
		struct ct_peer peer;
		struct client *c;
		bool privileged;
		int slot;

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
			close(fd);
			continue;
		}
		peer = (struct ct_peer){ .pid = cr.pid, .uid = cr.uid, .gid = cr.gid, .pidfd = -1 };
		privileged = ct_peer_may_change(a, &peer);
		slot = place(a, cr.uid, privileged, epfd);
		c = slot >= 0 ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			char msg[128];

			a->ctl_busy_refused++;
			snprintf(msg, sizeof(msg), "control socket busy: uid %u already has %d "
				 "connections open", (unsigned)cr.uid, PUBLIC_PER_UID);
			reply_error(fd, msg);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->cred = cr;
		c->privileged = privileged;
		c->pidfd = ct_ctl_peer_pidfd(fd, cr.pid);
		c->since_ns = ct_now_mono_ns();
		c->deadline_ns = c->since_ns + (privileged ? PRIV_DEADLINE_NS : PUBLIC_DEADLINE_NS);
		ev.data.fd = fd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			if (c->pidfd >= 0)
				close(c->pidfd);
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

static bool whole_frame(const struct client *c)
{
	return c->have >= 4 && c->have >= 4 + (size_t)ct_ctl_frame_len(c->buf);
}

static void set_backlog(struct client *c, bool on)
{
	if (c->backlog != on)
		n_backlog += on ? 1 : -1;
	c->backlog = on;
}

/* Serve up to FRAMES_PER_TURN whole frames. false: drop the client. */
static bool serve_frames(struct ct_agent *a, struct client *c)
{
	for (int served = 0; c->have >= 4; served++) {
		uint32_t n = ct_ctl_frame_len(c->buf);
		PbRequest *req;
		struct ct_peer peer = { .pid = c->cred.pid, .uid = c->cred.uid,
					.gid = c->cred.gid, .pidfd = c->pidfd };

		if (n > CT_CTL_MAX_FRAME) {
			a->ctl_bad_frames++;
			reply_error(c->fd, "request frame too large");
			return false;
		}
		if (c->have < 4 + (size_t)n)
			break;
		if (served == FRAMES_PER_TURN) {
			set_backlog(c, true);	/* the others' turn first */
			return true;
		}
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
		c->deadline_ns = ct_now_mono_ns() +
				 (c->privileged ? PRIV_DEADLINE_NS : PUBLIC_DEADLINE_NS);
	}
	set_backlog(c, false);
	return true;
}

bool ct_ctl_on_client(struct ct_agent *a, int fd, uint32_t events, int epfd)
{
	struct client *c = find(fd);
	ssize_t r;

	if (!c) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
		return false;
	}
	/* a client gone for good needs no answers to what it left buffered */
	if (events & EPOLLHUP) {
		drop(c, epfd);
		return false;
	}
	/* whole frames still buffered are served by ct_ctl_tick first; the
	 * buffer has room whenever none is (a frame fits in it) */
	if (!c->backlog) {
		do
			r = recv(fd, c->buf + c->have, sizeof(c->buf) - c->have, 0);
		while (r < 0 && errno == EINTR);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (r <= 0) {
			drop(c, epfd);
			return false;
		}
		c->have += r;
	}
	if (!serve_frames(a, c)) {
		drop(c, epfd);
		return false;
	}
	return true;
}

void ct_ctl_tick(struct ct_agent *a, int epfd)
{
	uint64_t now = ct_now_mono_ns();

	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = clients[i];

		if (!c)
			continue;
		if (c->backlog && !serve_frames(a, c)) {
			drop(c, epfd);
			continue;
		}
		/* a whole request is due by the deadline, however it trickles */
		if (!whole_frame(c) && now > c->deadline_ns) {
			a->ctl_deadline_dropped++;
			drop(c, epfd);
		}
	}
}

bool ct_ctl_pending(void)
{
	return n_backlog > 0;
}

void ct_ctl_count(unsigned *privileged, unsigned *public)
{
	*privileged = *public = 0;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i])
			(*(clients[i]->privileged ? privileged : public))++;
}

void ct_ctl_close_all(int epfd)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i])
			drop(clients[i], epfd);
}
