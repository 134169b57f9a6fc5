/*
 * The live feed: every event, as a length-delimited
 * changetrace.v1.Event (varint length, then the message), to every
 * subscriber of a Unix socket. The agent packs each event once; each
 * subscriber holds references to packed frames in its own bounded queue,
 * written from the agent's epoll loop with non-blocking writes. A
 * subscriber that falls behind loses events (never the agent's time):
 * they are counted and, at the point of the hole, it gets a GAP event
 * (path FEED, seq 0) saying how many and which seqs (all in the store).
 *
 * Frames with seq 0 are the feed's own: the hello (AGENT, state "feed",
 * feed_after_seq = every event up to it is in the store, live follows)
 * and feed GAPs. Every other frame is an event of the store, in seq order.
 */
#ifndef CT_FEED_H
#define CT_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/pb.h"
#include "lib/counters.h"

#define CT_FEED_SOCKET_NAME "feed.sock"
#define CT_FEED_QUEUE_EVENTS 8192        /* per subscriber */
#define CT_FEED_QUEUE_BYTES (32u << 20)  /* per subscriber */
#define CT_FEED_MAX_SUBS 32

struct ct_feed;

struct ct_feed_opts {
	const char *path;         /* socket */
	gid_t gid;                /* with has_group: members may subscribe */
	bool has_group;
	unsigned queue_events;    /* 0 = default */
	size_t queue_bytes;       /* 0 = default */
	const char *host;         /* for the feed's own events */
};

struct ct_feed_stats {
	uint64_t subscribers;     /* connected now */
	uint64_t accepted, refused, disconnected;
	uint64_t events_sent;     /* frames fully written to a subscriber */
	uint64_t events_missed;   /* dropped from a full subscriber queue */
	uint64_t gap_notices;     /* GAP events sent to subscribers */
	uint64_t bytes_sent;
};

/* The feed socket next to the control socket: DIR/feed.sock for the
 * default DIR/changetrace.sock, else X.feed.sock for X.sock. */
void ct_feed_default_path(const char *ctl_path, char *out, size_t len);

int ct_feed_open(struct ct_feed **out, const struct ct_feed_opts *o, char *err, size_t errlen);
int ct_feed_listen_fd(const struct ct_feed *f);
bool ct_feed_owns(const struct ct_feed *f, int fd);
/* Accept waiting subscribers. stored_seq: every event up to it is in the
 * store (the caller flushed it); the subscriber's live stream starts after. */
void ct_feed_accept(struct ct_feed *f, int epfd, uint64_t stored_seq);
/* A subscriber fd is readable / writable / hung up. */
void ct_feed_on_fd(struct ct_feed *f, int fd, uint32_t events, int epfd);
/* Queue one event for every subscriber: packed once, O(subscribers). */
void ct_feed_publish(struct ct_feed *f, const PbEvent *ev);
/* Write what is queued (once per loop iteration, not per event). */
void ct_feed_flush(struct ct_feed *f, int epfd);
void ct_feed_get_stats(const struct ct_feed *f, struct ct_feed_stats *st);
/* Leaving: no new subscribers (a successor may bind the path); the ones
 * connected still get what follows, up to ct_feed_close. */
void ct_feed_stop_listening(struct ct_feed *f, int epfd);
void ct_feed_close(struct ct_feed *f, int epfd);

/* Its status counters, read from a struct ct_feed_stats. */
extern const struct ct_counter_table ct_feed_counters;

#endif
