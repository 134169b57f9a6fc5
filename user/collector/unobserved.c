/* The start-up comparison with the last known state. See unobserved.h. */
#include <errno.h>
#include <libgen.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unobserved.h"
#include "event_net.h"
#include "sysctl_values.h"
#include "unobserved_net.h"
#include "lib/counters.h"
#include "lib/util.h"
#include "store/blobs.h"

#define EMIT_PER_TICK 256             /* events per loop turn: the loop stays responsive */
#define GRACE_NS (100ull * 1000000)    /* a syscall's effect to its exit probe's record */
#define SAVE_EVERY_NS (60ull * 1000000000)  /* the state, when it changed: this often */
#define SAVE_AFTER_EVENTS 10000        /* ... or sooner after this many changes, */
#define SAVE_MIN_NS (10ull * 1000000000) /* but not more often than this */
#define PATHSET_BUCKETS 4096

/* A set of paths (the main thread's, during the comparison). */
struct pathset {
	char **v[PATHSET_BUCKETS];
	size_t n[PATHSET_BUCKETS];
};

/* A difference found by the walk. */
struct difference {
	int op;                    /* FileOp */
	bool has_before, has_after;
	struct ct_known_file before, after;   /* path, link owned */
};

enum phase { IDLE, WALKING, EMITTING, DONE };

static struct {
	struct ct_unobserved_cfg cfg;
	enum ct_last_state_mode mode;
	char detail[768];
	char path[PATH_MAX];           /* STORE/last_state.pb */
	char crumb[PATH_MAX];          /* beside the store: which store this directory held */
	struct ct_last_state prev;     /* loaded; the walk's, read-only but for seen */
	struct ct_last_state cur;      /* the agent's: live events, then the walk's readings */
	struct ct_baseline_hook hook;
	uint64_t start_mono, start_wall, walk_start_mono;
	struct ct_store_last_event last;
	/* from the walk (its thread), under lock */
	pthread_mutex_t lock;
	struct difference *diffs;
	size_t n_diffs, cap_diffs;
	struct ct_known_file *readings;
	size_t n_readings, cap_readings;
	atomic_bool walk_done;
	uint64_t walk_done_mono;
	/* the main thread's */
	enum phase phase;
	struct ct_net_difference *net;
	size_t n_net, emitted_files, emitted_net;
	bool summary_sent;
	bool drain_marked;
	uint64_t drain_mark;           /* change_ring_emptied when the walk was over */
	struct pathset touched;        /* named by a live record */
	struct pathset gone;           /* removed from the state by a live event */
	uint64_t last_save_mono;
	uint64_t state_time;           /* of the snapshot compared with */
	uint32_t own_net_ns;           /* the namespace whose /proc/sys/net the walk reads */
	char tsbuf[40];
	struct ct_unobserved_stats st;
} u = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const char *const mode_names[] = {
	[CT_LAST_STATE_OFF] = "off",
	[CT_LAST_STATE_FIRST] = "first-start",
	[CT_LAST_STATE_COMPARED] = "compared",
	[CT_LAST_STATE_WIPED] = "store-wiped",
	[CT_LAST_STATE_LOST] = "state-lost",
	[CT_LAST_STATE_UNREADABLE] = "state-unreadable",
};

const char *ct_unobserved_mode_name(enum ct_last_state_mode m)
{
	return (unsigned)m < ARRAY_SIZE(mode_names) ? mode_names[m] : "?";
}

enum ct_last_state_mode ct_unobserved_mode(void) { return u.mode; }
const char *ct_unobserved_detail(void) { return u.detail; }

static const struct ct_counter_def counter_defs[] = {
	CT_COUNTER("unobserved_changes", struct ct_unobserved_stats, changes),
	CT_COUNTER("unobserved_files_compared", struct ct_unobserved_stats, files_compared),
	CT_COUNTER("unobserved_superseded", struct ct_unobserved_stats, superseded),
	CT_COUNTER("unobserved_dropped", struct ct_unobserved_stats, dropped),
	CT_COUNTER("unobserved_compare_ms", struct ct_unobserved_stats, compare_ms),
	CT_COUNTER("unobserved_compare_done", struct ct_unobserved_stats, compare_done),
	CT_COUNTER("state_replayed_events", struct ct_unobserved_stats, replayed),
	CT_COUNTER("state_files", struct ct_unobserved_stats, state_files),
	CT_COUNTER("state_rulesets", struct ct_unobserved_stats, state_rulesets),
	CT_COUNTER("state_snapshots", struct ct_unobserved_stats, snapshots),
	CT_COUNTER("state_snapshot_failures", struct ct_unobserved_stats, snapshot_failures),
	CT_COUNTER("state_snapshot_ms", struct ct_unobserved_stats, snapshot_ms),
};
const struct ct_counter_table ct_unobserved_counters = CT_COUNTER_TABLE(counter_defs);

void ct_unobserved_get_stats(struct ct_unobserved_stats *st)
{
	*st = u.st;
	st->files_compared = __atomic_load_n(&u.st.files_compared, __ATOMIC_RELAXED);
	st->state_files = u.cur.n_files;
	st->state_rulesets = u.cur.n_rulesets;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u.detail, sizeof(u.detail), fmt, ap);
	va_end(ap);
	fprintf(stderr, "changetrace: %s%s\n",
		u.mode == CT_LAST_STATE_WIPED ? "STORE WIPED: " : "last known state: ", u.detail);
}

/* A file state from a reading. */
static void known_from_reading(struct ct_known_file *f, const struct ct_file_state *st)
{
	f->ino = st->ino;
	f->dev = st->dev;
	f->size = st->size;
	f->mode = st->mode;
	f->uid = st->uid;
	f->gid = st->gid;
	f->mtime_ns = st->mtime_ns;
	f->ctime_ns = st->ctime_ns;
	ct_strlcpy(f->sha256, st->sha256, sizeof(f->sha256));
	f->kept = st->kept;
	ct_last_state_set_link(f, NULL);
}

/* ------------------------------------------------------------ comparing */

static bool is_sysctl(const char *p)
{
	return !strncmp(p, "/proc/sys/", 10);
}

bool ct_unobserved_sysctl_volatile(const char *p)
{
	static const char *const counters[] = {
		"/proc/sys/kernel/ns_last_pid",               /* the last pid handed out */
		"/proc/sys/kernel/perf_event_max_sample_rate", /* lowered by the kernel under load */
	};

	for (size_t i = 0; i < ARRAY_SIZE(counters); i++)
		if (!strcmp(p, counters[i]))
			return true;
	return false;
}

int ct_unobserved_file_op(const struct ct_known_file *b, const struct ct_known_file *a,
			  uint64_t hash_max)
{
	bool content;

	if (!b && !a)
		return 0;
	if (!b)
		return S_ISLNK(a->mode) ? CHANGETRACE__V1__FILE_OP__FILE_OP_SYMLINK
					: CHANGETRACE__V1__FILE_OP__FILE_OP_CREATE;
	if (!a)
		return CHANGETRACE__V1__FILE_OP__FILE_OP_UNLINK;
	if (is_sysctl(a->path))
		return b->sha256[0] && a->sha256[0] && strcmp(b->sha256, a->sha256)
			       ? CHANGETRACE__V1__FILE_OP__FILE_OP_SYSCTL : 0;
	/* a regular file replaced by a symlink, or back */
	if (b->mode && S_ISLNK(a->mode) != S_ISLNK(b->mode))
		return S_ISLNK(a->mode) ? CHANGETRACE__V1__FILE_OP__FILE_OP_SYMLINK
					: CHANGETRACE__V1__FILE_OP__FILE_OP_CREATE;
	if (S_ISLNK(a->mode)) {
		if (strcmp(b->link ? b->link : "", a->link ? a->link : ""))
			return CHANGETRACE__V1__FILE_OP__FILE_OP_SYMLINK;
		content = false;
	} else if (b->sha256[0] && a->sha256[0]) {
		content = strcmp(b->sha256, a->sha256) != 0;
	} else if (!b->sha256[0] && !a->sha256[0]) {
		/* both larger than --hash-max: what the file says about itself */
		content = b->size != a->size || b->mtime_ns != a->mtime_ns || b->ino != a->ino;
	} else if (b->sha256[0]) {
		/* known before, not digested now: grown past --hash-max (or unreadable) */
		content = a->size > hash_max && a->size != b->size;
	} else {
		content = false;	/* nothing known to compare with (a digest that raced) */
	}
	if (content)
		return CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE;
	if (!b->mode || !a->mode)
		return 0;
	if ((b->mode & 07777) != (a->mode & 07777) && !S_ISLNK(a->mode))
		return CHANGETRACE__V1__FILE_OP__FILE_OP_CHMOD;
	if (b->uid != a->uid || b->gid != a->gid)
		return CHANGETRACE__V1__FILE_OP__FILE_OP_CHOWN;
	return 0;
}

static void copy_known(struct ct_known_file *dst, const struct ct_known_file *src)
{
	*dst = *src;
	dst->path = strdup(src->path);
	dst->link = src->link ? strdup(src->link) : NULL;
	dst->next = NULL;
}

static void free_known(struct ct_known_file *f)
{
	free(f->path);
	free(f->link);
	f->path = f->link = NULL;
}

static void *grow_vec(void *v, size_t *cap, size_t n, size_t size)
{
	void *nv;

	if (n < *cap)
		return v;
	nv = realloc(v, (*cap ? *cap * 2 : 256) * size);
	if (nv)
		*cap = *cap ? *cap * 2 : 256;
	return nv;
}

/* In the walk's thread. */
static void add_difference(int op, const struct ct_known_file *b, const struct ct_known_file *a)
{
	struct difference *d, *v;

	pthread_mutex_lock(&u.lock);
	v = grow_vec(u.diffs, &u.cap_diffs, u.n_diffs, sizeof(*u.diffs));
	if (!v)
		u.st.dropped++;
	if (v) {
		u.diffs = v;
		d = &u.diffs[u.n_diffs++];
		memset(d, 0, sizeof(*d));
		d->op = op;
		if ((d->has_before = b != NULL))
			copy_known(&d->before, b);
		if ((d->has_after = a != NULL))
			copy_known(&d->after, a);
	}
	pthread_mutex_unlock(&u.lock);
}

static void add_reading(const struct ct_known_file *k)
{
	struct ct_known_file *v;

	pthread_mutex_lock(&u.lock);
	v = grow_vec(u.readings, &u.cap_readings, u.n_readings, sizeof(*u.readings));
	if (!v)
		u.st.dropped++;
	if (v) {
		u.readings = v;
		copy_known(&u.readings[u.n_readings++], k);
	}
	pthread_mutex_unlock(&u.lock);
}

/* What is at path now; false when nothing (or not a file or symlink). */
static bool read_now(const char *path, const struct stat *sb, struct ct_known_file *k)
{
	char target[PATH_MAX];
	struct ct_file_state st;
	struct stat lst;
	ssize_t n;

	memset(k, 0, sizeof(*k));
	k->path = (char *)path;
	if (!sb) {
		if (lstat(path, &lst) < 0)
			return false;
		sb = &lst;
	}
	if (S_ISLNK(sb->st_mode)) {
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			return false;
		target[n] = '\0';
		k->ino = sb->st_ino;
		k->dev = sb->st_dev;
		k->size = n;
		k->mode = sb->st_mode;
		k->uid = sb->st_uid;
		k->gid = sb->st_gid;
		k->mtime_ns = (uint64_t)sb->st_mtim.tv_sec * 1000000000ull + sb->st_mtim.tv_nsec;
		k->ctime_ns = (uint64_t)sb->st_ctim.tv_sec * 1000000000ull + sb->st_ctim.tv_nsec;
		k->link = strdup(target);
		return k->link != NULL;
	}
	if (!S_ISREG(sb->st_mode) || ct_content_snapshot(path, &st) < 0)
		return false;
	known_from_reading(k, &st);
	k->path = (char *)path;
	return true;
}

/* A sysctl is state when it is a setting: writable, and not a counter. */
static bool sysctl_is_state(const char *path, const struct stat *sb)
{
	return (sb->st_mode & 0222) && !ct_unobserved_sysctl_volatile(path);
}

static void compare(const char *path, const struct ct_known_file *now)
{
	struct ct_known_file *was = ct_last_state_file(&u.prev, path);
	int op;

	__atomic_fetch_add(&u.st.files_compared, 1, __ATOMIC_RELAXED);
	if (was) {
		was->seen = true;
		if ((op = ct_unobserved_file_op(was, now, u.cfg.hash_max)))
			add_difference(op, was, now);
	} else if (!is_sysctl(path) && ct_last_state_under_roots(&u.prev, path)) {
		/* watched before, not there then: created (a new watch is a baseline) */
		add_difference(ct_unobserved_file_op(NULL, now, u.cfg.hash_max), NULL, now);
	}
}

static void on_found(void *ctx, const char *path, const struct stat *sb,
		     const struct ct_file_state *st)
{
	struct ct_known_file k;

	if (is_sysctl(path) && !sysctl_is_state(path, sb))
		return;
	if (st) {
		memset(&k, 0, sizeof(k));
		known_from_reading(&k, st);
		k.path = (char *)path;
	} else if (!read_now(path, sb, &k)) {
		return;
	}
	add_reading(&k);
	if (u.mode == CT_LAST_STATE_COMPARED)
		compare(path, &k);
	free(k.link);
}

/* After the walk: what was known and the walk did not meet (deleted, or
 * out of its reach: another mount, past its file limit, unreadable). */
static void on_walk_done(void *ctx)
{
	struct ct_known_file *f = NULL, k;
	size_t b = 0;
	struct ct_last_state now_roots;

	if (u.mode == CT_LAST_STATE_COMPARED) {
		ct_last_state_init(&now_roots);
		ct_last_state_set_roots(&now_roots, u.cfg.roots, u.cfg.n_roots);
		while ((f = ct_last_state_next(&u.prev, &b, &f))) {
			struct stat sb;

			/* not watched any more, or a sysctl that went (an
			 * interface, a module): no event */
			if (f->seen || !ct_last_state_under_roots(&now_roots, f->path) ||
			    is_sysctl(f->path))
				continue;
			int lrc = lstat(f->path, &sb);

			if (lrc < 0 && errno != ENOENT && errno != ENOTDIR)
				continue;	/* cannot tell */
			/* gone, or no longer a file (a directory, a fifo) */
			if (lrc < 0 || (!S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode))) {
				__atomic_fetch_add(&u.st.files_compared, 1, __ATOMIC_RELAXED);
				add_difference(CHANGETRACE__V1__FILE_OP__FILE_OP_UNLINK, f, NULL);
				continue;
			}
			if (read_now(f->path, &sb, &k)) {
				add_reading(&k);
				compare(f->path, &k);
				free(k.link);
			} else {
				add_reading(f);	/* unreadable now: keep what was known */
			}
		}
		ct_last_state_free(&now_roots);
	}
	u.walk_done_mono = ct_now_mono_ns();
	u.st.compare_ms = (u.walk_done_mono - u.walk_start_mono) / 1000000;
	atomic_store_explicit(&u.walk_done, true, memory_order_release);
}

const struct ct_baseline_hook *ct_unobserved_baseline_hook(void)
{
	if (u.mode == CT_LAST_STATE_OFF)
		return NULL;
	u.hook.found = on_found;
	u.hook.done = on_walk_done;
	u.walk_start_mono = ct_now_mono_ns();
	u.phase = WALKING;
	return &u.hook;
}

/* ------------------------------------------------------------ live paths */

static uint64_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static bool pathset_has(const struct pathset *ps, const char *path)
{
	uint64_t k = hash_path(path) & (PATHSET_BUCKETS - 1);

	for (size_t i = 0; i < ps->n[k]; i++)
		if (!strcmp(ps->v[k][i], path))
			return true;
	return false;
}

static void pathset_add(struct pathset *ps, const char *path)
{
	uint64_t k = hash_path(path) & (PATHSET_BUCKETS - 1);
	char **v, *p;

	if (pathset_has(ps, path))
		return;
	v = realloc(ps->v[k], (ps->n[k] + 1) * sizeof(*v));
	if (v)
		ps->v[k] = v;
	if (!v || !(p = strdup(path))) {
		u.st.dropped++;
		return;
	}
	v[ps->n[k]++] = p;
}

static void pathset_free(struct pathset *ps)
{
	for (size_t k = 0; k < PATHSET_BUCKETS; k++) {
		for (size_t i = 0; i < ps->n[k]; i++)
			free(ps->v[k][i]);
		free(ps->v[k]);
		ps->v[k] = NULL;
		ps->n[k] = 0;
	}
}

static bool was_touched(const char *path)
{
	return pathset_has(&u.touched, path);
}

void ct_unobserved_touched(const char *path)
{
	if (u.phase == WALKING || u.phase == EMITTING)
		pathset_add(&u.touched, path);
}

/* A live event removed path from the state (unlink, rename away): the
 * walk's reading of it is older. */
static void on_removed(void *ctx, const char *path)
{
	pathset_add(&u.gone, path);
}

/* ------------------------------------------------------------ events */

static Changetrace__V1__UnobservedWindow window;
static PbAttribution no_deploy;

static void decorate(PbEvent *ev)
{
	window = (Changetrace__V1__UnobservedWindow)CHANGETRACE__V1__UNOBSERVED_WINDOW__INIT;
	window.from_unix_nano = u.last.time_ns;
	window.to_unix_nano = u.start_wall;
	window.from_seq = u.last.seq;
	window.clean_stop = u.last.clean_stop;
	ev->unobserved = 1;
	ev->unobserved_window = &window;
	/* nobody's: no deploy, and not drift (nobody was there to see) */
	no_deploy = (PbAttribution)CHANGETRACE__V1__ATTRIBUTION__INIT;
	ev->attribution = &no_deploy;
	ev->time_unix_nano = u.start_wall;
}

static bool blob_kept(const char *sha)
{
	char path[PATH_MAX];

	return sha && *sha && u.cfg.blob_dir &&
	       ct_blob_path(u.cfg.blob_dir, sha, path, sizeof(path)) == 0 && access(path, F_OK) == 0;
}

/* A sysctl's value as events show it (sysctl_values.h), from the blob store. */
static char *sysctl_value(const char *sha, char *buf, size_t len)
{
	char *v = NULL;
	size_t n = 0;

	buf[0] = '\0';
	if (!sha || !*sha || !u.cfg.blob_dir || ct_blob_read(u.cfg.blob_dir, sha, &v, &n) < 0)
		return NULL;
	ct_sysctl_value(v, n, buf, len);
	free(v);
	return buf;
}

static void emit_file(const struct difference *d)
{
	static struct ct_event_buf eb;
	static char vb[CT_SYSCTL_VALUE_MAX + 8], va[CT_SYSCTL_VALUE_MAX + 8], name[256], netns[64];
	PbFileChange f = CHANGETRACE__V1__FILE_CHANGE__INIT;
	const struct ct_known_file *b = d->has_before ? &d->before : NULL;
	const struct ct_known_file *a = d->has_after ? &d->after : NULL;
	struct ct_collector *c = u.cfg.col;

	ct_event_envelope(c, &eb, &eb.ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE, u.start_mono);
	f.op = d->op;
	f.path = a ? a->path : b->path;
	if (a) {
		f.inode = a->ino;
		f.dev = a->dev;
		f.mode = a->mode;
		f.uid = a->uid;
		f.gid = a->gid;
		f.mtime_unix_nano = a->mtime_ns;
		f.size_after = a->size;
		f.sha256_after = (char *)a->sha256;
		if (a->link)
			f.old_path = a->link;	/* a symlink's target, as live SYMLINK events */
	}
	if (b) {
		f.mode_before = b->mode;
		f.uid_before = b->uid;
		f.gid_before = b->gid;
		f.size_before = b->size;
		f.sha256_before = (char *)b->sha256;
		if (!a)
			f.inode = b->ino;
	}
	/* diff works when every version there is (of a file, not a
	 * symlink) was kept */
	{
		bool any = false, kept = true;

		if (a && !S_ISLNK(a->mode)) {
			any = true;
			kept = kept && blob_kept(a->sha256);
		}
		if (b && !S_ISLNK(b->mode)) {
			any = true;
			kept = kept && blob_kept(b->sha256);
		}
		f.content_kept = any && kept;
	}
	if (d->op == CHANGETRACE__V1__FILE_OP__FILE_OP_SYSCTL) {
		/* as live sysctl events say it; a net.* value is the agent's namespace's */
		ct_sysctl_name(f.path, name, sizeof(name));
		f.sysctl_name = name;
		f.sysctl_before = sysctl_value(b->sha256, vb, sizeof(vb)) ? vb : "";
		f.sysctl_after = sysctl_value(a->sha256, va, sizeof(va)) ? va : "";
		if (ct_sysctl_per_netns(f.path)) {
			ct_net_netns_name(u.own_net_ns, getpid(), netns, sizeof(netns));
			f.sysctl_netns = netns;
		}
	}
	eb.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_FILE;
	eb.ev.file = &f;
	decorate(&eb.ev);
	u.st.changes++;
	ct_sink_emit(&c->sink, &eb.ev);
}

static void net_decorate(PbEvent *ev)
{
	decorate(ev);
	u.st.changes++;
}

/* What the comparison found, heading it: an AGENT event (state
 * "compared") with the window and the count, so a timeline shows the time
 * nobody watched and what changed in it. (After an unclean stop the agent
 * has already said the window in a GAP event; this adds what changed.) */
static void emit_summary(void)
{
	static struct ct_event_buf eb;
	PbAgentDetail d = CHANGETRACE__V1__AGENT_DETAIL__INIT;
	char text[768], a[40], b[40];
	struct ct_collector *c = u.cfg.col;

	if (!u.last.seq)
		return;	/* nothing ran here before */
	if (u.mode == CT_LAST_STATE_COMPARED)
		snprintf(text, sizeof(text), "%llu changes made while no agent watched, from %s "
			 "(the previous run's last stored event; %s) to %s",
			 (unsigned long long)u.st.changes, ct_fmt_time(u.last.time_ns, a, sizeof(a)),
			 u.last.clean_stop ? "it stopped" : "no stop recorded: killed, crashed or power lost",
			 ct_fmt_time(u.start_wall, b, sizeof(b)));
	else
		snprintf(text, sizeof(text), "no last known state: what changed from %s to %s is "
			 "not known", ct_fmt_time(u.last.time_ns, a, sizeof(a)),
			 ct_fmt_time(u.start_wall, b, sizeof(b)));
	ct_event_envelope(c, &eb, &eb.ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_AGENT, u.start_mono);
	d.state = "compared";
	d.version = CT_VERSION;
	d.last_state = (char *)ct_unobserved_mode_name(u.mode);
	d.last_state_detail = text;
	eb.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_AGENT;
	eb.ev.agent = &d;
	eb.ev.time_unix_nano = u.start_wall;
	ct_sink_emit(&c->sink, &eb.ev);
}

/* ------------------------------------------------------------ state */

static void write_crumb(uint64_t seq, uint64_t time_ns)
{
	char tmp[PATH_MAX + 8], line[96];
	FILE *f;

	if (!u.crumb[0])
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", u.crumb);
	snprintf(line, sizeof(line), "%s %llu %llu\n", u.cfg.store_id, (unsigned long long)seq,
		 (unsigned long long)time_ns);
	f = fopen(tmp, "we");
	if (!f)
		return;
	if (fputs(line, f) < 0 || fflush(f) || fsync(fileno(f)) < 0) {
		fclose(f);
		unlink(tmp);
		return;
	}
	fclose(f);
	if (rename(tmp, u.crumb) < 0)
		unlink(tmp);
}

/* The snapshot's write and fsyncs, off the agent's loop (a slow disk must
 * not hold up events); one at a time. */
static struct {
	pthread_t thread;
	bool running;
	atomic_bool done;
	uint8_t *buf;
	size_t len;
	uint64_t seq, time_ns, t0;
	int rc;
	char err[512];
} w;

static void *writer_main(void *arg)
{
	w.rc = ct_last_state_write(u.path, w.buf, w.len, w.err, sizeof(w.err));
	if (w.rc == 0) {
		write_crumb(w.seq, w.time_ns);
		if (u.cfg.remember)
			u.cfg.remember(u.cfg.ctx, u.cfg.store_id, w.seq, w.time_ns);
	}
	atomic_store_explicit(&w.done, true, memory_order_release);
	return NULL;
}

static void written(void)
{
	free(w.buf);
	w.buf = NULL;
	/* the snapshot, and after a start the comparison's readings, were
	 * megabytes now free: give them back rather than keep them resident */
	malloc_trim(0);
	if (w.rc < 0) {
		u.st.snapshot_failures++;
		u.cur.dirty = true;	/* again at the next chance */
		ct_err("agent: last known state not saved (the store's events still hold it): %s", w.err);
	} else {
		u.st.snapshots++;
	}
	u.st.snapshot_ms = (ct_now_mono_ns() - w.t0) / 1000000;
}

/* A finished write taken in; with wait, an unfinished one waited for. */
static void writer_reap(bool wait)
{
	if (!w.running ||
	    (!wait && !atomic_load_explicit(&w.done, memory_order_acquire)))
		return;
	pthread_join(w.thread, NULL);
	w.running = false;
	written();
}

/* The state as of the newest event, once every event up to it is on
 * disk; written in the background unless wait. */
static void save(bool wait)
{
	writer_reap(wait);
	if (w.running)
		return;	/* the previous one is still being written: next tick */
	if (u.cfg.store_sync)
		u.cfg.store_sync(u.cfg.ctx);
	w.t0 = ct_now_mono_ns();
	u.last_save_mono = w.t0;
	u.cur.seq = u.cfg.col->seq;
	ct_strlcpy(u.cur.store_id, u.cfg.store_id, sizeof(u.cur.store_id));
	w.buf = ct_last_state_pack(&u.cur, &w.len);
	if (!w.buf) {
		u.st.snapshot_failures++;
		ct_err("agent: last known state not saved: out of memory");
		return;
	}
	u.cur.dirty = false;
	u.cur.applied = 0;
	w.seq = u.cur.seq;
	w.time_ns = u.cur.time_ns;
	atomic_store(&w.done, false);
	if (!wait && pthread_create(&w.thread, NULL, writer_main, NULL) == 0) {
		w.running = true;
		return;
	}
	writer_main(NULL);
	written();
}

static void set_known(struct ct_last_state *s, const struct ct_known_file *r)
{
	struct ct_known_file *k = ct_last_state_file_put(s, r->path);

	if (!k)
		return;
	k->ino = r->ino;
	k->dev = r->dev;
	k->size = r->size;
	k->mode = r->mode;
	k->uid = r->uid;
	k->gid = r->gid;
	k->mtime_ns = r->mtime_ns;
	k->ctime_ns = r->ctime_ns;
	memcpy(k->sha256, r->sha256, sizeof(k->sha256));
	k->kept = r->kept;
	ct_last_state_set_link(k, r->link);
}

/* The new state: what live events said (set or removed), and what the
 * walk read for every other path. A path whose live event is still to
 * come gets the reading now and the event's state when it comes; nothing
 * is read again here (the loop must not wait for files). */
static void merge(void)
{
	for (size_t i = 0; i < u.n_readings; i++) {
		const struct ct_known_file *r = &u.readings[i];

		if (!ct_last_state_file(&u.cur, r->path) && !pathset_has(&u.gone, r->path))
			set_known(&u.cur, r);
	}
	ct_last_state_set_roots(&u.cur, u.cfg.roots, u.cfg.n_roots);
	u.cur.dirty = true;
}

static void finish(void)
{
	merge();
	for (size_t i = 0; i < u.n_diffs; i++) {
		free_known(&u.diffs[i].before);
		free_known(&u.diffs[i].after);
	}
	free(u.diffs);
	u.diffs = NULL;
	u.n_diffs = 0;
	for (size_t i = 0; i < u.n_readings; i++)
		free_known(&u.readings[i]);
	free(u.readings);
	u.readings = NULL;
	u.n_readings = 0;
	ct_net_differences_free(u.net, u.n_net);
	u.net = NULL;
	u.n_net = 0;
	ct_last_state_free(&u.prev);
	pathset_free(&u.touched);
	pathset_free(&u.gone);
	u.cur.removed = NULL;
	u.phase = DONE;
	save(false);
	u.st.compare_done = 1;
	if (u.mode == CT_LAST_STATE_COMPARED) {
		char ts[40], ts2[40];

		say("compared with the state as of %s in %llu ms: %llu changes made while no agent "
		    "watched (%s to %s)", ct_fmt_time(u.state_time, ts, sizeof(ts)),
		    (unsigned long long)u.st.compare_ms, (unsigned long long)u.st.changes,
		    ct_fmt_time(u.last.time_ns, ts2, sizeof(ts2)),
		    ct_fmt_time(u.start_wall, u.tsbuf, sizeof(u.tsbuf)));
	}
}

void ct_unobserved_tick(bool timer)
{
	uint64_t now = ct_now_mono_ns();

	switch (u.phase) {
	case WALKING:
		if (!atomic_load_explicit(&u.walk_done, memory_order_acquire) ||
		    now < u.walk_done_mono + GRACE_NS)
			return;
		/* every record of a change the walk could have read is in the
		 * change ring by now: once the loop has taken that ring to its
		 * end (it does, between deadlines), a path they name is the
		 * live event's. Waiting for it, not draining here, keeps the
		 * loop's own pace under a storm. */
		if (!u.drain_marked) {
			u.drain_mark = u.cfg.col->change_ring_emptied;
			u.drain_marked = true;
		}
		if (u.cfg.col->change_ring_emptied <= u.drain_mark)
			return;
		for (size_t i = 0; i < u.n_diffs; i++) {
			struct difference *d = &u.diffs[i];

			if (was_touched(d->has_after ? d->after.path : d->before.path)) {
				d->op = 0;
				u.st.superseded++;
			}
		}
		u.phase = EMITTING;
		/* fall through */
	case EMITTING: {
		int budget = EMIT_PER_TICK;

		if (!u.summary_sent) {
			/* the count first: the summary heads what it found */
			u.st.changes = u.n_net;
			for (size_t i = 0; i < u.n_diffs; i++)
				u.st.changes += u.diffs[i].op != 0;
			emit_summary();
			u.summary_sent = true;
			u.st.changes = 0;
		}
		for (; u.emitted_net < u.n_net && budget > 0; budget--)
			ct_unobserved_net_emit(u.cfg.col, &u.net[u.emitted_net++], net_decorate,
					       u.start_mono);
		for (; u.emitted_files < u.n_diffs && budget > 0; u.emitted_files++)
			if (u.diffs[u.emitted_files].op) {
				emit_file(&u.diffs[u.emitted_files]);
				budget--;
			}
		if (u.emitted_files == u.n_diffs && u.emitted_net == u.n_net)
			finish();
		return;
	}
	case DONE:
		writer_reap(false);
		if (timer && u.cur.dirty &&
		    (now - u.last_save_mono >= SAVE_EVERY_NS ||
		     (u.cur.applied >= SAVE_AFTER_EVENTS && now - u.last_save_mono >= SAVE_MIN_NS)))
			save(false);
		return;
	default:
		return;
	}
}

void ct_unobserved_on_emit(const PbEvent *ev)
{
	if (u.mode == CT_LAST_STATE_OFF)
		return;
	if (ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_FILE ||
	    ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_NET)
		ct_last_state_apply(&u.cur, ev);
}

bool ct_unobserved_busy(void)
{
	return u.phase == EMITTING;
}

void ct_unobserved_close(void)
{
	if (u.mode != CT_LAST_STATE_OFF && u.phase == DONE)
		save(true);
	u.mode = CT_LAST_STATE_OFF;
	/* the walk may still run (stopped mid-comparison): prev is its */
	ct_last_state_free(&u.cur);
}

void ct_unobserved_compare_net(void)
{
	if (u.mode == CT_LAST_STATE_OFF)
		return;
	ct_unobserved_net_compare(&u.prev, u.mode == CT_LAST_STATE_COMPARED, &u.cur, &u.net, &u.n_net);
}

/* ------------------------------------------------------------ open */

/* "<store id> <seq> <time>" of the store this directory held. */
static bool read_crumb(char *id, uint64_t *seq, uint64_t *time_ns)
{
	char buf[128];
	unsigned long long s, t;
	ssize_t n = ct_read_file(u.crumb, buf, sizeof(buf) - 1);

	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (sscanf(buf, "%16[0-9a-f] %llu %llu", id, &s, &t) != 3 || strlen(id) != 16) {
		id[0] = '\0';
		return false;
	}
	*seq = s;
	*time_ns = t;
	return true;
}

void ct_unobserved_open(const struct ct_unobserved_cfg *cfg)
{
	char err[512], ts[40], ts2[40], dir[PATH_MAX], base[PATH_MAX];
	char crumb_id[17] = "";
	uint64_t crumb_seq = 0, crumb_time = 0;
	int rc;

	u.cfg = *cfg;
	/* the watch list as it is now: a reload may change the caller's */
	u.cfg.roots = calloc(cfg->n_roots ? cfg->n_roots : 1, sizeof(char *));
	u.cfg.n_roots = 0;
	for (int i = 0; u.cfg.roots && i < cfg->n_roots; i++)
		if ((((char **)u.cfg.roots)[u.cfg.n_roots] = strdup(cfg->roots[i])))
			u.cfg.n_roots++;
	u.start_mono = ct_now_mono_ns();
	u.start_wall = ct_now_wall_ns();
	ct_last_state_init(&u.prev);
	ct_last_state_init(&u.cur);
	u.cur.removed = on_removed;	/* until the walk's readings are merged */
	{
		struct stat st;

		if (stat("/proc/self/ns/net", &st) == 0)
			u.own_net_ns = st.st_ino;
		u.prev.own_net_ns = u.cur.own_net_ns = u.own_net_ns;
	}
	if (!cfg->store_dir) {
		u.mode = CT_LAST_STATE_OFF;
		snprintf(u.detail, sizeof(u.detail), "no store (--no-store): nothing is compared at start");
		return;
	}
	snprintf(u.path, sizeof(u.path), "%s/%s", cfg->store_dir, CT_LAST_STATE_FILE);
	ct_strlcpy(dir, cfg->store_dir, sizeof(dir));
	ct_strlcpy(base, cfg->store_dir, sizeof(base));
	if (snprintf(u.crumb, sizeof(u.crumb), "%s/.%s.last-state", dirname(dir), basename(base)) >=
	    (int)sizeof(u.crumb))
		u.crumb[0] = '\0';

	rc = ct_last_state_load(&u.prev, u.path, err, sizeof(err));
	if (rc == 0 && strcmp(u.prev.store_id, cfg->store_id)) {
		snprintf(err, sizeof(err), "it follows store %s, not this one (%s)", u.prev.store_id,
			 cfg->store_id);
		ct_last_state_free(&u.prev);
		rc = -1;
	}
	if (rc < 0) {
		char aside[PATH_MAX + 64];

		snprintf(aside, sizeof(aside), "%s.corrupt-%llu", u.path,
			 (unsigned long long)(u.start_wall / 1000000000ull));
		u.mode = CT_LAST_STATE_UNREADABLE;
		if (rename(u.path, aside) == 0)
			say("%s is unusable (%s), moved aside to %s: this start takes a new baseline; "
			    "changes made while the agent was down cannot be reported", u.path, err, aside);
		else
			say("%s is unusable (%s): this start takes a new baseline; changes made while "
			    "the agent was down cannot be reported", u.path, err);
	} else if (rc == 1) {
		if (!read_crumb(crumb_id, &crumb_seq, &crumb_time) && cfg->remembered_id[0]) {
			ct_strlcpy(crumb_id, cfg->remembered_id, sizeof(crumb_id));
			crumb_seq = cfg->remembered_seq;
			crumb_time = cfg->remembered_time;
		}
		if (crumb_id[0] && strcmp(crumb_id, cfg->store_id)) {
			u.mode = CT_LAST_STATE_WIPED;
			say("the store at %s was wiped or replaced: it held store %s (last state at event %llu, "
			    "%s), now it is store %s. This start takes a new baseline; changes made while "
			    "the agent was down cannot be reported", cfg->store_dir, crumb_id,
			    (unsigned long long)crumb_seq, ct_fmt_time(crumb_time, ts, sizeof(ts)),
			    cfg->store_id);
		} else if (!cfg->store_last_seq && !crumb_id[0]) {
			u.mode = CT_LAST_STATE_FIRST;
			say("first start with the store at %s: taking the baseline (no events)", cfg->store_dir);
		} else {
			u.mode = CT_LAST_STATE_LOST;
			say("the store at %s has no %s (removed, or kept by an older agent): this start "
			    "takes a new baseline; changes made while the agent was down cannot be reported",
			    cfg->store_dir, CT_LAST_STATE_FILE);
		}
	} else {
		u.mode = CT_LAST_STATE_COMPARED;
		u.state_time = u.prev.time_ns;
	}
	/* the window: from the last event stored (and the journal since the snapshot) */
	rc = ct_last_state_replay(&u.prev, cfg->store_dir, cfg->store_last_seq,
				  u.mode == CT_LAST_STATE_COMPARED, &u.last);
	if (rc > 0)
		u.st.replayed = rc;
	if (u.mode == CT_LAST_STATE_COMPARED) {
		if (u.prev.seq > cfg->store_last_seq) {
			/* the store lost events the state had seen (the agent
			 * never hands their seqs out again, agent_restart.h, so
			 * the journal skips nothing new) */
			ct_err("agent: the store ends at event %llu but the last known state includes "
			       "event %llu: the store lost its tail", (unsigned long long)cfg->store_last_seq,
			       (unsigned long long)u.prev.seq);
			if (u.prev.time_ns > u.last.time_ns) {
				u.last.time_ns = u.prev.time_ns;
				u.last.seq = u.prev.seq;
			}
		}
		say("comparing with the state as of event %llu (%s; %lld later events replayed from "
		    "the store); down since %s (%s)", (unsigned long long)u.prev.seq,
		    ct_fmt_time(u.prev.time_ns, ts, sizeof(ts)), (long long)u.st.replayed,
		    ct_fmt_time(u.last.time_ns, ts2, sizeof(ts2)),
		    u.last.clean_stop ? "stopped" : "no stop recorded: killed, crashed or power lost");
	}
	u.st.window_from_ns = u.last.time_ns;
	u.st.window_to_ns = u.start_wall;
}
