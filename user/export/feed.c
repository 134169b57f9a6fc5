/*
 * The live feed, agent side (see feed.h). Everything here runs on the
 * agent's epoll loop and never blocks it: subscriber sockets are
 * non-blocking, a full kernel socket buffer parks the subscriber on
 * EPOLLOUT, and a full queue drops events for that subscriber only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/control.h"
#include "feed.h"
#include "store/store_block.h"
#include "lib/util.h"

/* One packed event, shared by every queue holding it. */
struct frame {
	uint32_t refs;
	uint32_t len;
	uint8_t data[];
};

struct sub {
	int fd;
	bool want_out;            /* socket buffer full: waiting for EPOLLOUT */
	struct frame **q;         /* ring of cap entries */
	unsigned head, count, cap;
	size_t bytes, off;        /* queued bytes; bytes of q[head] already written */
	uint64_t missed, miss_first, miss_last;  /* hole not yet reported */
};

struct ct_feed {
	struct ct_feed_opts o;
	char path[108];
	int lfd;
	struct sub subs[CT_FEED_MAX_SUBS];  /* fd < 0: free */
	struct ct_feed_stats st;
};

void ct_feed_default_path(const char *ctl_path, char *out, size_t len)
{
	const char *slash = strrchr(ctl_path, '/');
	const char *base = slash ? slash + 1 : ctl_path;
	size_t n = strlen(ctl_path);

	/* the default control socket's feed is DIR/feed.sock; another control
	 * socket X.sock gets X.feed.sock, so agents sharing a directory do not
	 * collide */
	if (!strcmp(base, "changetrace.sock"))
		snprintf(out, len, "%.*s%s", (int)(base - ctl_path), ctl_path, CT_FEED_SOCKET_NAME);
	else if (n > 5 && !strcmp(ctl_path + n - 5, ".sock"))
		snprintf(out, len, "%.*s.%s", (int)(n - 5), ctl_path, CT_FEED_SOCKET_NAME);
	else
		snprintf(out, len, "%s.%s", ctl_path, CT_FEED_SOCKET_NAME);
}

int ct_feed_open(struct ct_feed **out, const struct ct_feed_opts *o, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ct_feed *f;
	*out = NULL;
	if (strlen(o->path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "feed socket path too long: %s", o->path);
		return -1;
	}
	if (ct_ctl_wait_listener_gone(o->path, "agent's feed", err, errlen) < 0)
		return -1;
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	f->o = *o;
	if (!f->o.queue_events)
		f->o.queue_events = CT_FEED_QUEUE_EVENTS;
	if (!f->o.queue_bytes)
		f->o.queue_bytes = CT_FEED_QUEUE_BYTES;
	strcpy(f->path, o->path);
	f->o.path = f->path;
	for (int i = 0; i < CT_FEED_MAX_SUBS; i++)
		f->subs[i].fd = -1;
	strcpy(sa.sun_path, o->path);
	unlink(o->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->lfd, 16) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", o->path, strerror(errno));
		if (f->lfd >= 0)
			close(f->lfd);
		free(f);
		return -1;
	}
	/* Events carry command lines: only root and the agent's group may
	 * read them. Connecting needs write permission on the socket file. */
	if (o->has_group && chown(o->path, 0, o->gid) < 0) {
		snprintf(err, errlen, "cannot chown %s: %s", o->path, strerror(errno));
		ct_feed_close(f, -1);
		return -1;
	}
	chmod(o->path, o->has_group ? 0660 : 0600);
	*out = f;
	return 0;
}

int ct_feed_listen_fd(const struct ct_feed *f)
{
	return f->lfd;
}

static struct sub *find(struct ct_feed *f, int fd)
{
	for (int i = 0; i < CT_FEED_MAX_SUBS; i++)
		if (f->subs[i].fd == fd)
			return &f->subs[i];
	return NULL;
}

bool ct_feed_owns(const struct ct_feed *f, int fd)
{
	return fd >= 0 && find((struct ct_feed *)f, fd) != NULL;
}

static void frame_put(struct frame *fr)
{
	if (--fr->refs == 0)
		free(fr);
}

static struct frame *pack(const PbEvent *ev)
{
	size_t n = changetrace__v1__event__get_packed_size(ev);
	struct frame *fr = malloc(sizeof(*fr) + 10 + n);
	size_t k;

	if (!fr)
		return NULL;
	k = ct_varint_write(fr->data, n);
	changetrace__v1__event__pack(ev, fr->data + k);
	fr->len = k + n;
	fr->refs = 0;
	return fr;
}

static bool has_room(const struct ct_feed *f, const struct sub *s, unsigned n, size_t bytes)
{
	return s->count + n <= s->cap && s->bytes + bytes <= f->o.queue_bytes;
}

static void push(struct sub *s, struct frame *fr)
{
	s->q[(s->head + s->count) % s->cap] = fr;
	s->count++;
	s->bytes += fr->len;
	fr->refs++;
}

/* The feed's own events (hello, GAP) carry seq 0: they are not in the store. */
static void local_envelope(struct ct_feed *f, PbEvent *ev, Changetrace__V1__EventKind kind)
{
	*ev = (PbEvent)CHANGETRACE__V1__EVENT__INIT;
	ev->time_unix_nano = ct_now_wall_ns();
	ev->monotonic_ns = ct_now_mono_ns();
	ev->host = (char *)(f->o.host ? f->o.host : "");
	ev->kind = kind;
}

/* Report the hole where it is: after what was queued, before what comes. */
static bool push_gap(struct ct_feed *f, struct sub *s)
{
	PbEvent ev;
	PbGapDetail g = CHANGETRACE__V1__GAP_DETAIL__INIT;
	char reason[128];
	struct frame *fr;

	local_envelope(f, &ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GAP);
	g.path = CHANGETRACE__V1__GAP_PATH__GAP_PATH_FEED;
	g.count = s->missed;
	g.first_seq = s->miss_first;
	g.last_seq = s->miss_last;
	snprintf(reason, sizeof(reason), "feed subscriber too slow: queue full (%u events); "
		 "the missed events are in the store", s->cap - 1);
	g.reason = reason;
	ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_GAP;
	ev.gap = &g;
	fr = pack(&ev);
	if (!fr)
		return false;
	push(s, fr);
	f->st.gap_notices++;
	s->missed = 0;
	return true;
}

static void sub_drop(struct ct_feed *f, struct sub *s, int epfd)
{
	if (epfd >= 0)
		epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	while (s->count) {
		frame_put(s->q[s->head]);
		s->head = (s->head + 1) % s->cap;
		s->count--;
	}
	free(s->q);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	f->st.subscribers--;
	f->st.disconnected++;
}

void ct_feed_accept(struct ct_feed *f, int epfd, uint64_t stored_seq)
{
	for (;;) {
		int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ee = { .events = EPOLLIN, .data.fd = fd };
		PbAgentDetail d = CHANGETRACE__V1__AGENT_DETAIL__INIT;
		struct sub *s;
		struct frame *fr;
		PbEvent ev;

		if (fd < 0)
			return;
		s = find(f, -1);
		if (!s || epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
			f->st.refused++;
			close(fd);
			continue;
		}
		/* one slot more than the limit, so the GAP notice always fits */
		s->cap = f->o.queue_events + 1;
		s->q = calloc(s->cap, sizeof(*s->q));
		local_envelope(f, &ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_AGENT);
		d.state = "feed";
		d.version = CT_VERSION;
		d.feed_after_seq = stored_seq;
		ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_AGENT;
		ev.agent = &d;
		fr = s->q ? pack(&ev) : NULL;
		if (!fr) {
			epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
			free(s->q);
			s->q = NULL;
			close(fd);
			f->st.refused++;
			continue;
		}
		s->fd = fd;
		push(s, fr);
		f->st.subscribers++;
		f->st.accepted++;
	}
}

void ct_feed_publish(struct ct_feed *f, const PbEvent *ev)
{
	struct frame *fr = NULL;

	if (!f || !f->st.subscribers)
		return;
	for (int i = 0; i < CT_FEED_MAX_SUBS; i++) {
		struct sub *s = &f->subs[i];

		if (s->fd < 0)
			continue;
		if (!fr)
			fr = pack(ev);  /* NULL (no memory): every subscriber misses it, and is told */
		/* events fill cap - 1 slots; the last is kept for a GAP notice */
		if (fr && s->missed && has_room(f, s, 3, fr->len))
			push_gap(f, s);
		if (fr && !s->missed && has_room(f, s, 2, fr->len)) {
			push(s, fr);
			continue;
		}
		if (!s->missed++)
			s->miss_first = ev->seq;
		s->miss_last = ev->seq;
		f->st.events_missed++;
	}
	if (fr && !fr->refs)
		free(fr);
}

static void want_out(struct sub *s, int epfd, bool on)
{
	struct epoll_event ee = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.fd = s->fd };

	s->want_out = on;
	epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ee);
}

/* Write queued frames; false when the subscriber was dropped. */
static bool sub_flush(struct ct_feed *f, struct sub *s, int epfd)
{
	while (s->count) {
		struct iovec iov[64];
		int n = 0;
		ssize_t w;

		for (unsigned k = 0; k < s->count && n < 64; k++) {
			struct frame *fr = s->q[(s->head + k) % s->cap];

			iov[n].iov_base = fr->data + (k ? 0 : s->off);
			iov[n].iov_len = fr->len - (k ? 0 : s->off);
			n++;
		}
		w = writev(s->fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			want_out(s, epfd, true);
			return true;
		}
		if (w <= 0) {
			sub_drop(f, s, epfd);
			return false;
		}
		f->st.bytes_sent += w;
		while (w > 0) {
			struct frame *fr = s->q[s->head];
			size_t left = fr->len - s->off;

			if ((size_t)w < left) {
				s->off += w;
				break;
			}
			w -= left;
			s->off = 0;
			s->bytes -= fr->len;
			frame_put(fr);
			s->head = (s->head + 1) % s->cap;
			s->count--;
			f->st.events_sent++;
		}
		/* room again: the hole goes in now, even if no event follows */
		if (!s->count && s->missed)
			push_gap(f, s);
	}
	return true;
}

void ct_feed_flush(struct ct_feed *f, int epfd)
{
	if (!f || !f->st.subscribers)
		return;
	for (int i = 0; i < CT_FEED_MAX_SUBS; i++) {
		struct sub *s = &f->subs[i];

		if (s->fd >= 0 && !s->want_out && (s->count || s->missed)) {
			if (!s->count)
				push_gap(f, s);
			sub_flush(f, s, epfd);
		}
	}
}

void ct_feed_on_fd(struct ct_feed *f, int fd, uint32_t events, int epfd)
{
	struct sub *s = find(f, fd);
	char buf[512];

	if (!s)
		return;
	if (events & EPOLLIN) {
		/* subscribers send nothing; EOF means they left */
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			sub_drop(f, s, epfd);
			return;
		}
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		sub_drop(f, s, epfd);
		return;
	}
	if (events & EPOLLOUT) {
		want_out(s, epfd, false);
		sub_flush(f, s, epfd);
	}
}

void ct_feed_get_stats(const struct ct_feed *f, struct ct_feed_stats *st)
{
	*st = f->st;
}

void ct_feed_stop_listening(struct ct_feed *f, int epfd)
{
	if (!f || f->lfd < 0)
		return;
	if (epfd >= 0)
		epoll_ctl(epfd, EPOLL_CTL_DEL, f->lfd, NULL);
	unlink(f->path);	/* before the close: never a successor's */
	close(f->lfd);
	f->lfd = -1;
}

void ct_feed_close(struct ct_feed *f, int epfd)
{
	if (!f)
		return;
	for (int i = 0; i < CT_FEED_MAX_SUBS; i++)
		if (f->subs[i].fd >= 0) {
			/* a last non-blocking attempt, so a reader sees the "stopped" event */
			sub_flush(f, &f->subs[i], -1);
			if (f->subs[i].fd >= 0)
				sub_drop(f, &f->subs[i], epfd);
		}
	if (f->lfd >= 0) {
		unlink(f->path);	/* before the close: never a successor's */
		close(f->lfd);
	}
	free(f);
}

static const struct ct_counter_def ct_feed_counters_defs[] = {
	CT_COUNTER("feed_subscribers", struct ct_feed_stats, subscribers),
	CT_COUNTER("feed_accepted", struct ct_feed_stats, accepted),
	CT_COUNTER("feed_refused", struct ct_feed_stats, refused),
	CT_COUNTER("feed_events_sent", struct ct_feed_stats, events_sent),
	CT_COUNTER("feed_events_missed", struct ct_feed_stats, events_missed),
	CT_COUNTER("feed_gap_notices", struct ct_feed_stats, gap_notices),
};
const struct ct_counter_table ct_feed_counters = CT_COUNTER_TABLE(ct_feed_counters_defs);
