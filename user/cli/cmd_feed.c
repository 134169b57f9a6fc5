/*
 * `changetrace feed`: follow the agent's live feed (feed.h), optionally
 * replaying the store first (--since), with the filters of `query`.
 *
 * The seam: the agent flushes its store when it accepts us and says, in
 * the hello, the last seq on disk (S). Replay prints stored events up to
 * S, live prints what follows S; a live event with seq <= the last one
 * printed is dropped. While replaying, the socket is drained into memory
 * so the agent's queue for us does not fill up.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli.h"
#include "lib/control.h"
#include "export/feed.h"
#include "export/event_utf8.h"
#include "export/format.h"
#include "export/pb_json.h"
#include "query_filter.h"
#include "store/store.h"
#include "store/store_block.h"
#include "lib/util.h"

#define FRAME_MAX (16u << 20)

enum out_mode { OUT_TEXT, OUT_JSON, OUT_PROTO };

struct feed_rd {
	int fd;
	uint8_t *buf;
	size_t have, cap;
	bool eof;
};

struct feed_ctx {
	enum out_mode mode;
	struct ct_store_filter f;
	struct feed_rd rd;
	uint64_t last_seq;        /* last store event printed or skipped */
	uint64_t stop_seq;        /* replay: stop after this seq */
	uint64_t limit, printed;
	uint64_t replayed;
	bool stopped_cleanly;
};

static const char feed_usage[] =
"usage: changetrace feed [--json|--proto] [--since TIME] [filters] [--store DIR]\n"
"                        [--feed-socket PATH] [--limit N]\n"
"\n"
"Follow events live. With --since, first replay them from the store, then\n"
"continue live with no gap and no duplicate. A subscriber too slow for the\n"
"agent misses events and gets a GAP event (path FEED) saying which.\n"
"\n"
CT_FILTER_USAGE
"  --store DIR         store to replay from (default " CT_DEFAULT_STORE ")\n"
"  --feed-socket PATH  default: the agent's, from $CHANGETRACE_SOCKET or the default socket\n"
"  --limit N           exit after N events\n";

static void print(struct feed_ctx *c, const PbEvent *ev, const uint8_t *frame, size_t len)
{
	if (c->mode == OUT_JSON) {
		ct_pb_json_write(stdout, &ev->base);
		fputc('\n', stdout);
	} else if (c->mode == OUT_PROTO) {
		/* a store written before events were repaired may hold bytes a
		 * strict decoder refuses: those frames are repaired here */
		PbEvent *fixed = ct_event_utf8(ev);

		if (fixed && fixed != ev) {
			size_t n = changetrace__v1__event__get_packed_size(fixed);
			uint8_t *b = malloc(n + 10);

			if (b) {
				size_t k = ct_varint_write(b, n);

				changetrace__v1__event__pack(fixed, b + k);
				fwrite(b, 1, k + n, stdout);
				free(b);
			}
		} else {
			fwrite(frame, 1, len, stdout);
		}
		ct_event_utf8_release(ev, fixed);
	} else {
		fprintf(stdout, "%s ", ev->event_id && *ev->event_id ? ev->event_id : "-");
		ct_format_text(stdout, ev);
	}
	c->printed++;
}

/* Read what the socket has (without waiting unless block). -1 on error. */
static int fill(struct feed_rd *r, bool block)
{
	for (;;) {
		ssize_t n;

		if (r->cap - r->have < 65536) {
			size_t cap = r->cap ? r->cap * 2 : 1 << 20;
			uint8_t *b = realloc(r->buf, cap);

			if (!b)
				return -1;
			r->buf = b;
			r->cap = cap;
		}
		n = recv(r->fd, r->buf + r->have, r->cap - r->have, block ? 0 : MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -1;
		if (n == 0) {
			r->eof = true;
			return 0;
		}
		r->have += n;
		if (block)
			return 0;
	}
}

/* Next frame from the buffer: 1 with *ev (caller frees), 0 need more, -1 bad. */
static int next_frame(struct feed_rd *r, PbEvent **ev, size_t *flen)
{
	uint64_t len;
	size_t k = ct_varint_read(r->buf, r->have, &len);

	if (!k)
		return r->have >= 10 ? -1 : 0;
	if (len > FRAME_MAX)
		return -1;
	if (r->have - k < len)
		return 0;
	*ev = changetrace__v1__event__unpack(NULL, len, r->buf + k);
	*flen = k + len;
	return *ev ? 1 : -1;
}

static void consume(struct feed_rd *r, size_t n)
{
	memmove(r->buf, r->buf + n, r->have - n);
	r->have -= n;
}

/* Blocking: the next frame, or NULL at EOF / error (message printed). */
static PbEvent *read_frame(struct feed_rd *r, size_t *flen)
{
	for (;;) {
		PbEvent *ev;
		int rc = next_frame(r, &ev, flen);

		if (rc > 0)
			return ev;
		if (rc < 0) {
			ct_err("feed: malformed frame from the agent");
			return NULL;
		}
		if (r->eof)
			return NULL;
		fflush(stdout);   /* everything so far is out before we wait */
		if (fill(r, true) < 0) {
			ct_err("feed: %s", strerror(errno));
			return NULL;
		}
	}
}

static int replay_cb(const PbEvent *ev, void *vctx)
{
	struct feed_ctx *c = vctx;

	if (ev->seq > c->stop_seq)
		return 1;
	/* keep the agent's queue for us short while we read the disk */
	if (++c->replayed % 256 == 0)
		fill(&c->rd, false);
	c->last_seq = ev->seq;
	if (c->mode == OUT_PROTO) {
		size_t n = changetrace__v1__event__get_packed_size(ev);
		uint8_t *b = malloc(n + 10);

		if (b) {
			size_t k = ct_varint_write(b, n);

			changetrace__v1__event__pack(ev, b + k);
			print(c, ev, b, k + n);
			free(b);
		}
	} else {
		print(c, ev, NULL, 0);
	}
	return c->limit && c->printed >= c->limit;
}

static int replay(struct feed_ctx *c, const char *dir)
{
	struct ct_store_reader *r;
	char err[512];
	uint64_t bad;

	if (ct_store_reader_open(&r, dir, err, sizeof(err)) < 0) {
		ct_err("feed: --since needs the store: %s", err);
		return -1;
	}
	ct_store_scan(r, &c->f, replay_cb, c);
	bad = ct_store_reader_corrupt_blocks(r);
	if (bad)
		ct_err("feed: warning: %llu corrupt block(s) skipped in the replay", (unsigned long long)bad);
	ct_store_reader_close(r);
	/* events up to the seam that did not match still count as seen */
	if (c->last_seq < c->stop_seq)
		c->last_seq = c->stop_seq;
	return 0;
}

static void note_gap(const PbEvent *ev)
{
	ct_err("feed: missed %llu events (seq %llu-%llu): %s",
	       (unsigned long long)ev->gap->count, (unsigned long long)ev->gap->first_seq,
	       (unsigned long long)ev->gap->last_seq, ev->gap->reason);
}

static int follow(struct feed_ctx *c)
{
	for (;;) {
		size_t flen;
		PbEvent *ev = read_frame(&c->rd, &flen);

		if (!ev)
			return c->stopped_cleanly ? 0 : 1;
		if (ev->seq == 0) {
			/* the feed's own: a GAP notice is always shown */
			if (ev->kind == CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GAP && ev->gap) {
				note_gap(ev);
				print(c, ev, c->rd.buf, flen);
			}
		} else if (ev->seq > c->last_seq) {
			c->last_seq = ev->seq;
			if (ct_store_filter_match(&c->f, ev))
				print(c, ev, c->rd.buf, flen);
			if (ev->kind == CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_AGENT && ev->agent &&
			    ev->agent->state && !strcmp(ev->agent->state, "stopped"))
				c->stopped_cleanly = true;
		}
		consume(&c->rd, flen);
		changetrace__v1__event__free_unpacked(ev, NULL);
		if (c->limit && c->printed >= c->limit)
			return 0;
	}
}

int ct_cmd_feed(int argc, char **argv)
{
	static const struct option lopts[] = {
		CT_FILTER_OPTIONS,
		{ "store", required_argument, NULL, 'S' },
		{ "feed-socket", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "proto", no_argument, NULL, 'p' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct feed_ctx c = { .f = CT_STORE_FILTER_INIT, .mode = OUT_TEXT };
	const char *dir = CT_DEFAULT_STORE, *sock = NULL;
	char path[108], err[256];
	struct timeval tv = { 0 };
	PbEvent *hello;
	size_t flen;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		rc = ct_filter_apply(&c.f, ch, optarg);
		if (rc < 0)
			return 2;
		if (rc == 0)
			continue;
		switch (ch) {
		case 'S': dir = optarg; break;
		case 'f': sock = optarg; break;
		case 'j': c.mode = OUT_JSON; break;
		case 'p': c.mode = OUT_PROTO; break;
		case 'l': {
			char *end;

			c.limit = strtoull(optarg, &end, 10);
			if (*end || !c.limit || optarg[0] == '-') {
				ct_err("feed: --limit must be a positive number");
				return 2;
			}
			break;
		}
		case 'h':
			fputs(feed_usage, stdout);
			return 0;
		default:
			fputs(feed_usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		ct_err("feed: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (c.f.until_ns) {
		ct_err("feed: --until ends a replay, not a live feed; use `changetrace query`");
		return 2;
	}
	if (sock)
		ct_strlcpy(path, sock, sizeof(path));
	else
		ct_feed_default_path(ct_socket_path(NULL), path, sizeof(path));
	c.rd.fd = ct_ctl_connect(path, err, sizeof(err));
	if (c.rd.fd < 0) {
		ct_err("feed: %s", err);
		return 1;
	}
	/* live: wait as long as it takes */
	setsockopt(c.rd.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	hello = read_frame(&c.rd, &flen);
	if (!hello || hello->seq != 0 || hello->kind != CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_AGENT ||
	    !hello->agent || strcmp(hello->agent->state, "feed")) {
		ct_err("feed: %s did not answer with a feed hello", path);
		if (hello)
			changetrace__v1__event__free_unpacked(hello, NULL);
		close(c.rd.fd);
		return 1;
	}
	c.stop_seq = c.last_seq = hello->agent->feed_after_seq;
	consume(&c.rd, flen);
	changetrace__v1__event__free_unpacked(hello, NULL);
	if (c.f.since_ns) {
		c.last_seq = 0;
		if (replay(&c, dir) < 0) {
			close(c.rd.fd);
			return 1;
		}
	}
	/* live events have no lower seq bound; time bounds were for the replay */
	c.f.from_seq = 0;
	rc = c.limit && c.printed >= c.limit ? 0 : follow(&c);
	fflush(stdout);
	close(c.rd.fd);
	free(c.rd.buf);
	return rc;
}
