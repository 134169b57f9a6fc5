/*
 * `changetrace agent`: load the probes, drain both ring buffers, enrich and
 * print events, and serve the control socket. One thread, one epoll loop:
 * ring buffers, control clients, signals and a 1 s housekeeping timer.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "agent_config.h"
#include "agent_deploys.h"
#include "changetrace.skel.h"
#include "control.h"
#include "event_net.h"
#include "event_file.h"
#include "file_content.h"
#include "feed.h"
#include "feed_file.h"
#include "otlp.h"
#include "format.h"
#include "pb_json.h"
#include "proc_cache.h"
#include "store.h"
#include "unobserved.h"
#include "util.h"

#define FD_RING  (-2)
#define FD_SIG   (-3)
#define FD_TIMER (-4)
#define FD_FEED  (-5)

static const char agent_usage[] =
"usage: changetrace agent [--config FILE] [options]\n"
"  --config FILE       options from FILE, one per line without \"--\" (\"watch /srv/app\");\n"
"                      flags on the command line come after them and win\n"
"  --json              print events as JSON, one object per line\n"
"  --quiet             do not print events\n"
"  --socket PATH       control socket (default " CT_DEFAULT_SOCKET ")\n"
"  --group NAME        members of NAME may tag processes and register deploys\n"
"  --store DIR         event store and agent state (default " CT_DEFAULT_STORE ")\n"
"  --no-store          do not persist events (print only)\n"
"  --fsync POLICY      block (default: every sealed block), interval (1 s), never\n"
"  --retention-days N  remove stored segments older than N days\n"
"  --retention-mb N    keep the store under N MiB (oldest segments go first)\n"
"  --pin-dir DIR       bpffs directory for pinned maps (default " CT_DEFAULT_PIN_DIR ")\n"
"  --policy FILE       guardrail policy (see `changetrace policy`), reloaded on SIGHUP\n"
"  --protect PATH      halt AI-assisted unapproved changes and drift under PATH (repeatable)\n"
"  --watch PATH        watch PATH for config changes too (repeatable)\n"
"  --watch-only        watch only the --watch/--watch-list paths, not the default list\n"
"  --watch-list FILE   more paths to watch, one per line ('#' comments)\n"
"  --content-max KIB   keep copies (for `changetrace diff`) of files up to KIB (default 256)\n"
"  --hash-max MIB      digest files up to MIB (default 64); larger: size only\n"
"  --bulk-buffer KIB   ring buffer for process events (default 4096)\n"
"  --change-buffer KIB ring buffer reserved for change events (default 1024)\n"
"  --feed-socket PATH  live event feed (default: feed.sock next to the control socket;\n"
"                      X.feed.sock for --socket X.sock)\n"
"  --feed-queue N      events queued per feed subscriber before it misses some (default 8192)\n"
"  --no-feed           do not serve the live feed\n"
"  --feed-file DIR     also write every event to rotating files in DIR (for log shippers)\n"
"  --feed-file-format json|proto   one JSON object per line (default) or length-delimited protobuf\n"
"  --feed-file-mb N    rotate at N MiB (default 64); --feed-file-keep N files (default 8)\n"
"  --otlp-endpoint URL export events as OTLP logs over HTTP (POST URL/v1/logs)\n"
"  -v, --verbose       more libbpf output (twice for debug)\n";

static struct ct_event_buf evbuf;

void ct_agent_emit(struct ct_agent *a, const PbEvent *ev)
{
	if ((unsigned)ev->kind < ARRAY_SIZE(a->emitted))
		a->emitted[ev->kind]++;
	if (a->store)
		ct_store_append(a->store, ev);
	ct_unobserved_on_emit(ev);
	ct_feed_publish(a->feed, ev);
	ct_feed_file_write(a->feed_file, ev);
	if (!a->opts.quiet) {
		if (a->opts.json) {
			ct_pb_json_write(a->out, &ev->base);
			fputc('\n', a->out);
		} else {
			ct_format_text(a->out, ev);
		}
	}
	/* after the change itself, so its verdict follows it in every sink */
	if (ev->kind == CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE ||
	    ev->kind == CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET)
		ct_guard_on_event(a, ev);
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct ct_agent *a = ctx;
	int rc = ct_event_from_record(&a->col, data, len, &evbuf);

	if (rc < 0) {
		a->malformed_records++;
		return 0;
	}
	if (rc > 0)	/* consumed; its events went through col.emit */
		return 0;
	ct_agent_emit(a, &evbuf.ev);
	ct_agent_deploys_flush(a);
	return 0;
}

#define BULK_SLICE 256
#define DRAIN_SLICE_NS (50ull * 1000000)	/* then the loop serves its other fds */
#define BULK_SLICE_DONE (-EINPROGRESS)

/* Bulk records are taken in slices; between slices the change ring is
 * drained again, so a change never waits behind an exec storm. Returning
 * a negative value makes libbpf stop after this record (it is consumed). */
static int on_bulk_record(void *ctx, void *data, size_t len)
{
	struct ct_agent *a = ctx;

	on_record(ctx, data, len);
	return --a->bulk_budget > 0 ? 0 : BULK_SLICE_DONE;
}

/* Change records: all of them, unless the drain has a deadline (checked
 * every 256 records). */
static int on_change_record(void *ctx, void *data, size_t len)
{
	struct ct_agent *a = ctx;

	on_record(ctx, data, len);
	if (a->drain_deadline && !(++a->change_taken & 255) &&
	    ct_now_mono_ns() > a->drain_deadline)
		return BULK_SLICE_DONE;
	return 0;
}

void ct_agent_drain_for(struct ct_agent *a, uint64_t max_ns)
{
	ct_paths_sample(&a->paths);
	a->drain_deadline = max_ns ? ct_now_mono_ns() + max_ns : 0;
	for (;;) {
		if (ring_buffer__consume(a->rb_change) == BULK_SLICE_DONE)
			break;	/* out of time; the ring fd stays readable */
		a->col.change_ring_emptied++;
		a->bulk_budget = BULK_SLICE;
		if (ring_buffer__consume(a->rb_bulk) != BULK_SLICE_DONE)
			break;
		if (a->drain_deadline && ct_now_mono_ns() > a->drain_deadline)
			break;
	}
	a->drain_deadline = 0;
}

void ct_agent_drain(struct ct_agent *a)
{
	ct_agent_drain_for(a, 0);
}

static void emit_cb(void *ctx, const PbEvent *ev)
{
	ct_agent_emit(ctx, ev);
}

static void emit_agent_event(struct ct_agent *a, const char *state)
{
	PbAgentDetail d = CHANGETRACE__V1__AGENT_DETAIL__INIT;
	char *names[CT_MAX_PROBES], bufs[CT_MAX_PROBES][64];
	int n = 0;

	for (int i = 0; i < a->n_probes; i++) {
		if (!a->probes[i].attached)
			continue;
		snprintf(bufs[n], sizeof(bufs[n]), "%s:%s", a->probes[i].name,
			 a->probes[i].attach_type);
		names[n] = bufs[n];
		n++;
	}
	ct_event_envelope(&a->col, &evbuf, &evbuf.ev,
			  CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_AGENT, ct_now_mono_ns());
	d.state = (char *)state;
	d.version = CT_VERSION;
	if (!strcmp(state, "started")) {
		d.last_state = (char *)ct_unobserved_mode_name(ct_unobserved_mode());
		d.last_state_detail = (char *)ct_unobserved_detail();
	}
	d.n_probes = n;
	d.probes = names;
	evbuf.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_AGENT;
	evbuf.ev.agent = &d;
	ct_agent_emit(a, &evbuf.ev);
	fflush(a->out);
}

static const struct option agent_lopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "socket", required_argument, NULL, 's' },
	{ "group", required_argument, NULL, 'g' },
	{ "store", required_argument, NULL, 'S' },
	{ "pin-dir", required_argument, NULL, 'P' },
	{ "no-store", no_argument, NULL, 'N' },
	{ "fsync", required_argument, NULL, 'F' },
	{ "retention-days", required_argument, NULL, 'D' },
	{ "retention-mb", required_argument, NULL, 'M' },
	{ "policy", required_argument, NULL, 'y' },
	{ "protect", required_argument, NULL, 'p' },
	{ "bulk-buffer", required_argument, NULL, 'B' },
	{ "change-buffer", required_argument, NULL, 'C' },
	{ "watch", required_argument, NULL, 'w' },
	{ "watch-only", no_argument, NULL, 'W' },
	{ "watch-list", required_argument, NULL, 'L' },
	{ "content-max", required_argument, NULL, 'K' },
	{ "hash-max", required_argument, NULL, 'H' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "feed-socket", required_argument, NULL, 'f' },
	{ "feed-queue", required_argument, NULL, 'Q' },
	{ "no-feed", no_argument, NULL, 'n' },
	{ "otlp-endpoint", required_argument, NULL, 'o' },
	{ "feed-file", required_argument, NULL, 'R' },
	{ "feed-file-format", required_argument, NULL, 'X' },
	{ "feed-file-mb", required_argument, NULL, 'Y' },
	{ "feed-file-keep", required_argument, NULL, 'Z' },
	{ "help", no_argument, NULL, 'h' },
	{ "config", required_argument, NULL, 'c' },   /* expanded before parsing */
	{ 0 }
};

static int parse_opts(struct ct_agent_opts *o, int argc, char **argv)
{
	int c;
	long kib;

	o->bulk_rb_bytes = CT_BULK_RB_BYTES;
	o->change_rb_bytes = CT_CHANGE_RB_BYTES;
	o->store_dir = CT_DEFAULT_STORE;
	o->pin_dir = CT_DEFAULT_PIN_DIR;
	o->content_max = 256 << 10;
	o->hash_max = 64 << 20;
	o->feed_file_mb = 64;
	o->feed_file_keep = 8;
	optind = 1;
	while ((c = getopt_long(argc, argv, "v", agent_lopts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = true; break;
		case 'q': o->quiet = true; break;
		case 's': o->socket_path = optarg; break;
		case 'g': o->group = optarg; break;
		case 'S': o->store_dir = optarg; break;
		case 'P': o->pin_dir = optarg; break;
		case 'N': o->no_store = true; break;
		case 'F':
			if (!strcmp(optarg, "block"))
				o->fsync_policy = CT_FSYNC_BLOCK;
			else if (!strcmp(optarg, "interval"))
				o->fsync_policy = CT_FSYNC_INTERVAL;
			else if (!strcmp(optarg, "never"))
				o->fsync_policy = CT_FSYNC_NEVER;
			else {
				ct_err("agent: --fsync must be block, interval or never");
				return -1;
			}
			break;
		case 'D':
		case 'M': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (*end || !v || v > 100000000ull || optarg[0] == '-') {
				ct_err("agent: --retention-%s must be a positive number", c == 'D' ? "days" : "mb");
				return -1;
			}
			if (c == 'D')
				o->retention_ns = v * 86400ull * 1000000000ull;
			else
				o->retention_bytes = v << 20;
			break;
		}
		case 'B':
		case 'C': {
			char *end;

			kib = strtol(optarg, &end, 10);
			/* a ring is a power of two pages: 4 KiB .. 1 GiB */
			if (*end || kib < 4 || kib > (1 << 20) || (kib & (kib - 1))) {
				ct_err("agent: --%s-buffer must be a power of two KiB between 4 and 1048576",
				       c == 'B' ? "bulk" : "change");
				return -1;
			}
			if (c == 'B')
				o->bulk_rb_bytes = kib * 1024;
			else
				o->change_rb_bytes = kib * 1024;
			break;
		}
		case 'y': o->policy_path = optarg; break;
		case 'p':
			if (o->n_protect >= (int)ARRAY_SIZE(o->protect)) {
				ct_err("agent: at most %zu --protect", ARRAY_SIZE(o->protect));
				return -1;
			}
			o->protect[o->n_protect++] = optarg;
			break;
		case 'w':
			if (o->n_watch >= CT_WATCH_MAX) {
				ct_err("agent: at most %d --watch", CT_WATCH_MAX);
				return -1;
			}
			o->watch[o->n_watch++] = optarg;
			break;
		case 'W': o->watch_only = true; break;
		case 'L': o->watch_list = optarg; break;
		case 'K':
		case 'H': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (*end || optarg[0] == '-' || !*optarg || v > (c == 'K' ? 1048576ull : 65536ull)) {
				ct_err("agent: --%s must be a number from 0 to %s",
				       c == 'K' ? "content-max" : "hash-max", c == 'K' ? "1048576" : "65536");
				return -1;
			}
			if (c == 'K')
				o->content_max = v << 10;
			else
				o->hash_max = v << 20;
			break;
		}
		case 'v': o->verbose++; break;
		case 'f': o->feed_socket = optarg; break;
		case 'n': o->no_feed = true; break;
		case 'R': o->feed_file_dir = optarg; break;
		case 'X':
			if (strcmp(optarg, "json") && strcmp(optarg, "proto")) {
				ct_err("agent: --feed-file-format must be json or proto");
				return -1;
			}
			o->feed_file_proto = !strcmp(optarg, "proto");
			break;
		case 'Y':
		case 'Z': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !*optarg || optarg[0] == '-' || !v || v > 100000) {
				ct_err("agent: --feed-file-%s must be a number from 1 to 100000",
				       c == 'Y' ? "mb" : "keep");
				return -1;
			}
			if (c == 'Y')
				o->feed_file_mb = v;
			else
				o->feed_file_keep = v;
			break;
		}
		case 'Q': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || optarg[0] == '-' || v < 1 || v > 1000000) {
				ct_err("agent: --feed-queue must be a number of events between 1 and 1000000");
				return -1;
			}
			o->feed_queue = v;
			break;
		}
		case 'o':
			if (ct_otlp_check_endpoint(optarg) < 0)
				return -1;
			o->otlp_endpoint = optarg;
			break;
		case 'h': fputs(agent_usage, stdout); exit(0);
		default: fputs(agent_usage, stderr); return -1;
		}
	}
	if (optind < argc) {
		ct_err("agent: unexpected argument '%s'", argv[optind]);
		fputs(agent_usage, stderr);
		return -1;
	}
	if (o->otlp_endpoint && o->no_store) {
		ct_err("agent: --otlp-endpoint exports from the store; it cannot be used with --no-store");
		return -1;
	}
	return 0;
}

/* Once a second: seal the open block, sync, apply retention, and turn
 * events the store could not keep into one GAP event once the disk has
 * room again, so the hole is recorded in the store itself. */
static void store_tick(struct ct_agent *a)
{
	static struct ct_event_buf gb;
	uint64_t lost, first, last;

	if (!a->store)
		return;
	ct_store_flush(a->store);
	ct_store_sync(a->store);
	if (!ct_store_can_write(a->store))
		lost = 0;       /* keep counting; report when there is room */
	else
		ct_store_take_failure_report(a->store, &lost, &first, &last);
	if (lost) {
		PbGapDetail gap = CHANGETRACE__V1__GAP_DETAIL__INIT;
		struct ct_store_stats st;
		char reason[96];

		ct_store_get_stats(a->store, &st);
		snprintf(reason, sizeof(reason), "store write failed: %s",
			 strerror(st.failed_errno ? st.failed_errno : EIO));
		/* GAP spans are on the monotonic clock, like the ring's */
		first -= a->col.wall_offset;
		last -= a->col.wall_offset;
		ct_event_envelope(&a->col, &gb, &gb.ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GAP,
				  ct_now_mono_ns());
		gap.path = CHANGETRACE__V1__GAP_PATH__GAP_PATH_STORE;
		gap.count = lost;
		gap.first_ns = first;
		gap.last_ns = last;
		gap.reason = reason;
		gb.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_GAP;
		gb.ev.gap = &gap;
		ct_agent_emit(a, &gb.ev);
		if (ct_store_flush(a->store) < 0)   /* no room after all: retry later */
			ct_store_restore_failure_report(a->store, lost, first + a->col.wall_offset,
							last + a->col.wall_offset);
	}
	ct_store_retain(a->store, ct_now_wall_ns());
	ct_otlp_notify(a->otlp, a->col.seq);   /* new blocks are on disk */
}

/* SIGHUP: re-read the policy. Events keep flowing: the rings are drained
 * before and after, and a bad policy leaves the old one in force. */
/*
 * The watch list: --watch, --watch-list, the default list, and every
 * protected path of the policy (a protected path nobody watches would
 * never be judged). For a glob, the directory before its first wildcard.
 */
static int build_watches(struct ct_agent *a, struct ct_watches *w, char *err, size_t errlen)
{
	static char derived[CT_POLICY_MAX_PROTECT][CT_WATCH_PREFIX_LEN];
	char *extra[CT_WATCH_MAX + CT_POLICY_MAX_PROTECT];
	int n = 0;

	for (int i = 0; i < a->opts.n_watch; i++)
		extra[n++] = a->opts.watch[i];
	for (int i = 0; i < a->guard.policy.n_protect && i < CT_POLICY_MAX_PROTECT; i++) {
		const char *p = a->guard.policy.protect[i];
		size_t lit = strcspn(p, "*?[");
		char *d = derived[i];
		struct stat st;

		if (p[0] != '/' || lit >= sizeof(derived[i]))
			continue;
		memcpy(d, p, lit);
		d[lit] = '\0';
		if (p[lit]) {	/* a glob: watch its directory */
			char *slash = strrchr(d, '/');

			if (slash)
				slash[slash == d] = '\0';
		}
		/* never the whole filesystem: every write on the host would count */
		if (strcmp(d, "/") && stat(d, &st) == 0)
			extra[n++] = d;
	}
	return ct_watches_build(w, a->opts.watch_only, extra, n, a->opts.watch_list, err, errlen);
}

static void reload_policy(struct ct_agent *a)
{
	static struct ct_watches w;
	char err[512];

	ct_agent_drain(a);
	if (ct_guard_reload(&a->guard, a->opts.protect, a->opts.n_protect, err, sizeof(err)) < 0) {
		ct_err("agent: policy reload failed, keeping the previous policy: %s", err);
	} else {
		fprintf(stderr, "changetrace: policy reloaded: %d rules\n", a->guard.policy.n_rules);
		/* newly protected paths are watched from now on */
		if (build_watches(a, &w, err, sizeof(err)) < 0 ||
		    ct_watches_install(&w, bpf_map__fd(a->skel->maps.ct_watch),
				       bpf_map__fd(a->skel->maps.ct_watch_prefix),
				       &a->skel->bss->ct_walk_gen, &a->skel->bss->ct_watch_files) < 0)
			ct_err("agent: watch list not updated: %s", err);
		else
			a->watches = w;
	}
	ct_agent_drain(a);
}

/* Watch list into the kernel, then the baseline: the last known content
 * of every watched file, the "before" of its first change. */
static int setup_file_watch(struct ct_agent *a)
{
	struct ct_content_cfg cc = { .keep_max = a->opts.content_max, .hash_max = a->opts.hash_max };
	struct ct_file_cfg fc = {
		.watches = &a->watches,
		.wfiles_fd = bpf_map__fd(a->skel->maps.ct_wfiles),
		.wfds_fd = bpf_map__fd(a->skel->maps.ct_wfds),
		.wbursts_fd = bpf_map__fd(a->skel->maps.ct_wbursts),
		.settle_ns = 50ull * 1000000,
		.max_quiet_ns = 2000ull * 1000000,
		.max_age_ns = 5000ull * 1000000,
		.path_seen = ct_unobserved_touched,
	};
	struct stat st;

	if (ct_watches_install(&a->watches, bpf_map__fd(a->skel->maps.ct_watch),
			       bpf_map__fd(a->skel->maps.ct_watch_prefix),
			       &a->skel->bss->ct_walk_gen, &a->skel->bss->ct_watch_files) < 0) {
		ct_err("agent: cannot install the watch list: %s", strerror(errno));
		return -1;
	}
	if (!a->opts.no_store) {
		snprintf(a->blob_dir, sizeof(a->blob_dir), "%s/blobs", a->opts.store_dir);
		cc.blob_dir = a->blob_dir;
	}
	ct_content_init(&cc);
	{
		char *roots[CT_WATCH_MAX];

		/* explicitly configured paths (listed last) first */
		for (int i = 0; i < a->watches.n; i++)
			roots[i] = a->watches.w[a->watches.n - 1 - i].path;
		if (ct_content_baseline_start(roots, a->watches.n, 200000,
					      ct_unobserved_baseline_hook()) < 0)
			ct_err("agent: baseline thread did not start: first changes have no \"before\"");
	}
	if (stat("/proc/self/ns/mnt", &st) == 0)
		fc.host_mnt_ns = st.st_ino;
	if (stat("/proc/self/ns/net", &st) == 0)
		fc.host_net_ns = st.st_ino;
	ct_file_init(&fc);
	fprintf(stderr, "changetrace: watching %d paths (%d configured paths absent)\n",
		a->watches.n, a->watches.missing);
	return 0;
}

static void sync_store_cb(void *ctx)
{
	struct ct_agent *a = ctx;

	if (a->store) {
		ct_store_flush(a->store);
		ct_store_sync(a->store);
	}
}

static void drain_cb(void *ctx)
{
	ct_agent_drain(ctx);
}

/* What this start compares with (unobserved.h): the watched paths as they
 * are now (a path a SIGHUP adds later is not walked, so not part of it). */
static void open_last_state(struct ct_agent *a)
{
	static char *roots[CT_WATCH_MAX];
	static char blobs[4096];
	struct ct_unobserved_cfg cfg = {
		.hash_max = a->opts.hash_max,
		.col = &a->col,
		.roots = roots,
		.n_roots = a->watches.n,
		.store_sync = sync_store_cb,
		.drain = drain_cb,
		.ctx = a,
	};

	for (int i = 0; i < a->watches.n; i++)
		roots[i] = a->watches.w[i].path;
	if (a->store) {
		snprintf(blobs, sizeof(blobs), "%s/blobs", a->opts.store_dir);
		cfg.store_dir = a->opts.store_dir;
		cfg.blob_dir = blobs;
		cfg.store_id = ct_store_id(a->store);
		cfg.store_last_seq = ct_store_last_seq(a->store);
	}
	ct_unobserved_open(&cfg);
}

static int add_fd(int epfd, int fd, int tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* The options after --config files are expanded: the parsed options point
 * into its strings for the agent's lifetime (held here, not leaked). */
static char **volatile config_argv;

int ct_cmd_agent(int argc, char **argv)
{
	static struct ct_agent agent;
	struct ct_agent *a = &agent;
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	char err[256], feed_path[108];
	int epfd = -1, sfd = -1, tfd = -1, lfd = -1, rc = 1;
	sigset_t mask;
	bool running = true;
	size_t file_pending = 0;
	bool was_polling = false;

	if (ct_agent_config_expand(argc, argv, agent_lopts, &argc, &argv, err, sizeof(err)) < 0) {
		ct_err("agent: config: %s", err);
		return 2;
	}
	config_argv = argv;
	if (parse_opts(&a->opts, argc, argv) < 0)
		return 2;
	a->opts.socket_path = ct_socket_path(a->opts.socket_path);
	if (geteuid() != 0) {
		ct_err("agent must run as root (it loads BPF programs: CAP_BPF, CAP_PERFMON)");
		return 1;
	}
	if (a->opts.group) {
		struct group *g = getgrnam(a->opts.group);

		if (!g) {
			ct_err("agent: unknown group '%s'", a->opts.group);
			return 2;
		}
		a->group_gid = g->gr_gid;
		a->has_group = true;
	}
	if (ct_guard_init(&a->guard, a->opts.policy_path, a->opts.protect, a->opts.n_protect,
			  err, sizeof(err)) < 0) {
		ct_err("agent: policy: %s", err);
		return 2;
	}
	if (build_watches(a, &a->watches, err, sizeof(err)) < 0) {
		ct_err("agent: watch list: %s", err);
		return 2;
	}
	a->out = stdout;
	a->start_mono_ns = ct_now_mono_ns();
	ct_collector_init(&a->col);
	a->col.emit = emit_cb;
	a->col.emit_ctx = a;
	ct_proc_cache_init(1 << 18);

	/* Block the signals first so none is lost between load and the loop. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* after the mask: the worker inherits it, so signals reach signalfd */
	if (ct_net_worker_start() < 0)
		ct_err("agent: network ruleset worker did not start; net events carry no ruleset");

	lfd = ct_ctl_listen(a->opts.socket_path, a->opts.group, err, sizeof(err));
	if (lfd < 0) {
		ct_err("agent: %s", err);
		goto out;
	}
	if (!a->opts.no_store) {
		if (ct_store_open(&a->store, a->opts.store_dir, err, sizeof(err)) < 0) {
			ct_err("agent: store: %s", err);
			goto out;
		}
		ct_store_set_policy(a->store, a->opts.fsync_policy, a->opts.retention_ns,
				    a->opts.retention_bytes);
		/* event ids are "<store id>-<seq>", seq continuing across restarts */
		snprintf(a->col.id_prefix, sizeof(a->col.id_prefix), "%s", ct_store_id(a->store));
		a->col.seq = ct_store_last_seq(a->store);
	}
	open_last_state(a);
	if (a->opts.feed_file_dir) {
		a->feed_file = ct_feed_file_open(a->opts.feed_file_dir, a->opts.feed_file_proto,
						 (uint64_t)a->opts.feed_file_mb << 20,
						 a->opts.feed_file_keep, err, sizeof(err));
		if (!a->feed_file) {
			ct_err("agent: --feed-file: %s", err);
			goto out;
		}
	}
	if (!a->opts.no_feed) {
		struct ct_feed_opts fo = {
			.path = feed_path, .gid = a->group_gid, .has_group = a->has_group,
			.queue_events = a->opts.feed_queue, .host = a->col.host,
		};

		if (a->opts.feed_socket)
			ct_strlcpy(feed_path, a->opts.feed_socket, sizeof(feed_path));
		else
			ct_feed_default_path(a->opts.socket_path, feed_path, sizeof(feed_path));
		if (ct_feed_open(&a->feed, &fo, err, sizeof(err)) < 0) {
			ct_err("agent: feed: %s", err);
			goto out;
		}
	}
	if (a->opts.otlp_endpoint &&
	    ct_otlp_start(&a->otlp, a->opts.otlp_endpoint, a->opts.store_dir, a->col.host,
			  a->col.seq, err, sizeof(err)) < 0) {
		ct_err("agent: otlp: %s", err);
		goto out;
	}
	if (ct_agent_bpf_open(a) < 0)
		goto out;
	if (setup_file_watch(a) < 0)
		goto out;
	/* rulesets once the probes are live: a change after this is seen */
	ct_net_prime();
	ct_unobserved_compare_net();
	/* Seed after the probes are live: a process that execs in between is
	 * seen by both, and the exec event simply refreshes its entry. */
	size_t seeded = ct_proc_seed(a->col.proc_root);

	a->rb_change = ring_buffer__new(bpf_map__fd(a->skel->maps.ct_change_rb), on_change_record,
					a, NULL);
	a->rb_bulk = ring_buffer__new(bpf_map__fd(a->skel->maps.ct_bulk_rb), on_bulk_record, a, NULL);
	if (!a->rb_change || !a->rb_bulk ||
	    ct_paths_init(&a->paths, bpf_map__fd(a->skel->maps.ct_bulk_rb), a->opts.bulk_rb_bytes,
			  bpf_map__fd(a->skel->maps.ct_change_rb), a->opts.change_rb_bytes) < 0) {
		ct_err("agent: cannot set up ring buffers: %s", strerror(errno));
		goto out;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (epfd < 0 || sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0 ||
	    add_fd(epfd, ring_buffer__epoll_fd(a->rb_change), FD_RING) < 0 ||
	    add_fd(epfd, ring_buffer__epoll_fd(a->rb_bulk), FD_RING) < 0 ||
	    add_fd(epfd, sfd, FD_SIG) < 0 || add_fd(epfd, tfd, FD_TIMER) < 0 ||
	    add_fd(epfd, lfd, lfd) < 0 ||
	    (a->feed && add_fd(epfd, ct_feed_listen_fd(a->feed), FD_FEED) < 0)) {
		ct_err("agent: event loop setup failed: %s", strerror(errno));
		goto out;
	}

	fprintf(stderr, "changetrace %s: agent pid %d, %zu processes known from /proc, "
		"control socket %s\n", CT_VERSION, getpid(), seeded, a->opts.socket_path);
	for (int i = 0; i < a->n_probes; i++)
		fprintf(stderr, "  probe %-12s %-10s %s%s\n", a->probes[i].name,
			a->probes[i].attach_type, a->probes[i].attached ? "attached" : "FAILED: ",
			a->probes[i].error);
	emit_agent_event(a, "started");

	while (running) {
		struct epoll_event evs[16];
		/* changes being coalesced settle within ~50 ms: look more often
		 * (and once more after, see ct_collector_polling) */
		int n = epoll_wait(epfd, evs, 16,
				   ct_unobserved_busy() ? 0 :
				   file_pending || was_polling ? CT_POLL_INTERVAL_MS
							       : CT_DRAIN_INTERVAL_MS);

		/* n == 0: bulk records below the wakeup batch size; polling:
		 * change records submitted without a wakeup */
		if (n == 0 || file_pending || was_polling)
			ct_agent_drain_for(a, DRAIN_SLICE_NS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ct_err("agent: epoll: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int tag = evs[i].data.fd;

			if (tag == FD_RING) {
				ct_agent_drain_for(a, DRAIN_SLICE_NS);
			} else if (tag == FD_SIG) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
						running = false;
					if (si.ssi_signo == SIGHUP)
						reload_policy(a);
				}
			} else if (tag == FD_TIMER) {
				uint64_t ticks;

				if (read(tfd, &ticks, sizeof(ticks)) < 0)
					continue;
				a->col.wall_offset = ct_mono_to_wall_offset();
				ct_paths_check_drops(&a->paths, a);
				store_tick(a);
				ct_unobserved_tick(true);
				ct_ctl_reap_idle(epfd);
			} else if (tag == lfd) {
				ct_ctl_on_listen(a, lfd, epfd);
			} else if (tag == FD_FEED) {
				/* a subscriber replays the store up to here, then
				 * follows live: everything so far must be on disk */
				if (a->store)
					ct_store_flush(a->store);
				ct_feed_accept(a->feed, epfd, a->col.seq);
			} else if (a->feed && ct_feed_owns(a->feed, tag)) {
				ct_feed_on_fd(a->feed, tag, evs[i].events, epfd);
			} else {
				ct_ctl_on_client(a, tag, epfd);
			}
		}
		file_pending = ct_file_tick(&a->col, ct_now_mono_ns(), 0);
		ct_unobserved_tick(false);
		was_polling = a->skel->bss->ct_collector_polling;
		a->skel->bss->ct_collector_polling = file_pending > 0;
		ct_feed_flush(a->feed, epfd);
		ct_feed_file_flush(a->feed_file);
		fflush(a->out);
	}
	/* Drain what the kernel already produced before we go. */
	ct_agent_drain(a);
	ct_file_tick(&a->col, ct_now_mono_ns(), 1);
	ct_paths_check_drops(&a->paths, a);
	emit_agent_event(a, "stopped");
	ct_unobserved_close();
	rc = 0;
out:
	ct_feed_close(a->feed, epfd);
	ct_feed_file_close(a->feed_file);
	a->feed_file = NULL;
	a->feed = NULL;
	if (epfd >= 0)
		ct_ctl_close_all(epfd);
	if (lfd >= 0) {
		close(lfd);
		unlink(a->opts.socket_path);
	}
	ring_buffer__free(a->rb_change);
	ring_buffer__free(a->rb_bulk);
	ct_paths_close(&a->paths);
	ct_agent_bpf_close(a);
	ct_net_worker_stop();
	/* after the store's last block is on disk: a last export attempt */
	if (a->store)
		ct_store_flush(a->store);
	ct_otlp_stop(a->otlp, a->col.seq);
	a->otlp = NULL;
	ct_store_close(a->store);
	a->store = NULL;
	ct_proc_cache_free();
	ct_guard_free(&a->guard);
	ct_content_free();
	fflush(a->out);
	return rc;
}
