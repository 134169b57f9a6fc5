/*
 * The file collector (collector/event_file.c) driven with synthetic
 * records and kernel maps of its own: no kernel, no ring, and each race
 * put where the test wants it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "collector/event.h"
#include "collector/event_file.h"
#include "collector/file_content.h"
#include "collector/file_pending.h"
#include "collector/proc_cache.h"
#include "collector/sysctl_values.h"
#include "lib/util.h"

#define MS (1000000ull)
#define SETTLE (50 * MS)

/* ---------------------------------------------------------- fake maps */

#define FAKE_FILES 64
#define FAKE_BURSTS 64

struct fake_maps {
	struct { bool used; uint64_t key; struct ct_wfile v; } files[FAKE_FILES];
	struct { bool used; struct ct_wburst_key key; struct ct_wburst v; } bursts[FAKE_BURSTS];
	/* a close(2) racing the collector: after this many reads of
	 * ct_wfiles, the entry of vanish_key goes (0: never) */
	int vanish_after;
	uint64_t vanish_key;
	int gets;
};

static int fake_wfile_get(void *ctx, uint64_t key, struct ct_wfile *out)
{
	struct fake_maps *m = ctx;

	m->gets++;
	if (m->vanish_after && m->gets > m->vanish_after) {
		for (int i = 0; i < FAKE_FILES; i++)
			if (m->files[i].used && m->files[i].key == m->vanish_key)
				m->files[i].used = false;
		m->vanish_after = 0;
	}
	for (int i = 0; i < FAKE_FILES; i++)
		if (m->files[i].used && m->files[i].key == key) {
			*out = m->files[i].v;
			return 0;
		}
	return -1;
}

static int fake_wfile_delete(void *ctx, uint64_t key)
{
	struct fake_maps *m = ctx;

	for (int i = 0; i < FAKE_FILES; i++)
		if (m->files[i].used && m->files[i].key == key) {
			m->files[i].used = false;
			return 0;
		}
	return -1;
}

static int fake_next_none(void *ctx, const void *prev, void *next)
{
	return -1;
}

static int fake_wfd_get(void *ctx, const struct ct_wfd_key *k, struct ct_wfd *out)
{
	return -1;
}

static int fake_wfd_delete(void *ctx, const struct ct_wfd_key *k)
{
	return -1;
}

static int burst_slot(struct fake_maps *m, const struct ct_wburst_key *k)
{
	for (int i = 0; i < FAKE_BURSTS; i++)
		if (m->bursts[i].used && !memcmp(&m->bursts[i].key, k, sizeof(*k)))
			return i;
	return -1;
}

static int fake_burst_create(void *ctx, const struct ct_wburst_key *k, const struct ct_wburst *b)
{
	struct fake_maps *m = ctx;

	if (burst_slot(m, k) >= 0)
		return -1;
	for (int i = 0; i < FAKE_BURSTS; i++)
		if (!m->bursts[i].used) {
			m->bursts[i].used = true;
			m->bursts[i].key = *k;
			m->bursts[i].v = *b;
			return 0;
		}
	return -1;
}

static int fake_burst_get(void *ctx, const struct ct_wburst_key *k, struct ct_wburst *out)
{
	struct fake_maps *m = ctx;
	int i = burst_slot(m, k);

	if (i < 0)
		return -1;
	*out = m->bursts[i].v;
	return 0;
}

static int fake_burst_take(void *ctx, const struct ct_wburst_key *k, struct ct_wburst *out)
{
	struct fake_maps *m = ctx;
	int i = burst_slot(m, k);

	if (i < 0)
		return -1;
	*out = m->bursts[i].v;
	m->bursts[i].used = false;
	return 0;
}

static void fake_wfile_put(struct fake_maps *m, uint64_t key, uint64_t open_ns, uint32_t writes)
{
	for (int i = 0; i < FAKE_FILES; i++)
		if (!m->files[i].used || m->files[i].key == key) {
			m->files[i].used = true;
			m->files[i].key = key;
			m->files[i].v = (struct ct_wfile){ .open_ns = open_ns, .writes = writes,
							   .tgid = (uint32_t)getpid() };
			return;
		}
}

/* ------------------------------------------------------------ harness */

struct seen {
	int op;
	char path[PATH_MAX], old[PATH_MAX], sha_after[CT_SHA256_HEX];
	uint32_t writes;
	/* a sysctl: "" before when not known (no digest) */
	char sc_before[64], sc_after[64];
	int sc_source;
};

#define SEEN_MAX 8

struct rig {
	char dir[64];              /* the watched directory */
	char proc[64];             /* an empty /proc: every process has closed everything */
	struct fake_maps maps;
	struct ct_file_kmaps kmaps;
	struct ct_collector col;
	struct ct_file_collector *files;
	struct seen seen[SEEN_MAX];
	int n_seen;
	uint64_t now;              /* the kernel's clock of the next record: the
				    * collector compares file times with it */
};

static struct ct_watches watches;	/* large: not on the stack */

static void capture(void *ctx, const PbEvent *ev)
{
	struct rig *r = ctx;
	struct seen *s;

	if (ev->detail_case != CHANGETRACE__V1__EVENT__DETAIL_FILE || r->n_seen == SEEN_MAX)
		return;
	s = &r->seen[r->n_seen++];
	s->op = ev->file->op;
	snprintf(s->path, sizeof(s->path), "%s", ev->file->path ? ev->file->path : "");
	snprintf(s->old, sizeof(s->old), "%s", ev->file->old_path ? ev->file->old_path : "");
	snprintf(s->sha_after, sizeof(s->sha_after), "%s",
		 ev->file->sha256_after ? ev->file->sha256_after : "");
	s->writes = ev->file->writes;
	snprintf(s->sc_before, sizeof(s->sc_before), "%s",
		 ev->file->sha256_before && *ev->file->sha256_before ? ev->file->sysctl_before : "");
	snprintf(s->sc_after, sizeof(s->sc_after), "%s",
		 ev->file->sysctl_after ? ev->file->sysctl_after : "");
	s->sc_source = ev->file->sysctl_after_source;
}

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct ct_content_cfg cc = { .keep_max = 0, .hash_max = 1 << 20 };
	struct ct_file_cfg fc = {
		.watches = &watches, .maps = &r->kmaps, .settle_ns = SETTLE,
		.max_quiet_ns = 2000 * MS, .max_age_ns = 5000 * MS,
	};

	snprintf(r->dir, sizeof(r->dir), "/tmp/ct-unit-coalesce.XXXXXX");
	snprintf(r->proc, sizeof(r->proc), "/tmp/ct-unit-proc.XXXXXX");
	if (!mkdtemp(r->dir) || !mkdtemp(r->proc))
		abort();
	memset(&watches, 0, sizeof(watches));
	snprintf(watches.w[0].path, sizeof(watches.w[0].path), "%s", r->dir);
	watches.w[0].is_dir = true;
	watches.n = 1;
	r->kmaps = (struct ct_file_kmaps){
		.wfile_get = fake_wfile_get, .wfile_delete = fake_wfile_delete,
		.wfile_next = (int (*)(void *, const uint64_t *, uint64_t *))fake_next_none,
		.wfd_get = fake_wfd_get, .wfd_delete = fake_wfd_delete,
		.wfd_next = (int (*)(void *, const struct ct_wfd_key *, struct ct_wfd_key *))
			fake_next_none,
		.burst_create = fake_burst_create, .burst_get = fake_burst_get,
		.burst_take = fake_burst_take, .ctx = &r->maps,
	};
	fc.proc_root = r->proc;
	ct_content_init(&cc);
	ct_proc_cache_init(16);
	ct_collector_init(&r->col);
	r->col.proc_root = r->proc;
	r->col.sink = (struct ct_sink){ .emit = capture, .ctx = r };
	r->files = ct_file_new(&fc);
	r->col.files = r->files;
	r->now = ct_now_mono_ns();
	return r;
}

static void rig_free(struct rig *r)
{
	char cmd[160];

	ct_file_free(r->files);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", r->dir, r->proc);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", r->dir);
	free(r);
}

/* A record of op on dir/name (and dir/name1 for a rename), at r->now. */
static struct ct_file_event *record(struct rig *r, int op, const char *name, const char *name1)
{
	static struct ct_file_event e;
	int n;

	memset(&e, 0, offsetof(struct ct_file_event, paths));
	e.hdr.kind = CT_KIND_FILE;
	e.hdr.ts_ns = r->now;
	e.task.pid = (uint32_t)getpid();
	e.task.start_ns = 42;
	memcpy(e.task.comm, "unit", 5);
	e.op = op;
	e.uid = e.gid = (uint32_t)-1;
	if (name) {
		n = snprintf(e.paths, CT_FILE_PATH_MAX, "%s/%s", r->dir, name);
		e.path0_len = n;
		e.watch_id = 1;
		e.suffix_off = strlen(r->dir);
	}
	if (name1) {
		n = snprintf(e.paths + e.path0_len, CT_FILE_PATH_MAX, "%s/%s", r->dir, name1);
		e.path1_len = n;
		e.watch_id1 = 1;
		e.suffix_off1 = strlen(r->dir);
	}
	e.hdr.size = offsetof(struct ct_file_event, paths) + e.path0_len + e.path1_len;
	return &e;
}

static int feed(struct rig *r, struct ct_file_event *e)
{
	return ct_event_from_record(&r->col, e, e->hdr.size, NULL);
}

/* An open for write of dir/name as the open probe records it. */
static int feed_open(struct rig *r, const char *name, uint64_t file, uint64_t ino)
{
	struct ct_file_event *e = record(r, CT_FOP_WRITE, name, NULL);

	e->flags = CT_FF_FD | CT_FF_CREAT | CT_FF_TRUNC;
	e->file_id = file;
	e->file_open_ns = r->now;
	e->ino = ino;
	e->dev = 7;
	return feed(r, e);
}

/* close(2) of an open: the probe deletes the kernel's entry, then the
 * record carries the writes it counted. Not before what the test wrote. */
static int feed_close(struct rig *r, uint64_t file, uint64_t open_ns, uint32_t writes)
{
	struct ct_file_event *e;

	if (ct_now_mono_ns() > r->now)
		r->now = ct_now_mono_ns();
	e = record(r, CT_FOP_CLOSE, NULL, NULL);

	e->file_id = file;
	e->file_open_ns = open_ns;
	e->writes = writes;
	return feed(r, e);
}

static size_t tick(struct rig *r, uint64_t now)
{
	return ct_file_tick(r->files, &r->col, now, 0);
}

static void put_file(struct rig *r, const char *name, const char *content)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", r->dir, name);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs(content, f);
	fclose(f);
}

static void sha_of(const char *text, char *out)
{
	struct ct_file_state st;
	char p[] = "/tmp/ct-unit-sha.XXXXXX";
	int fd = mkstemp(p);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	ct_content_snapshot(p, &st);
	unlink(p);
	memcpy(out, st.sha256, CT_SHA256_HEX);
}

/* dir/name (one at a time: the buffer is reused) */
static const char *at(struct rig *r, const char *name)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", r->dir, name);
	return p;
}

/* -------------------------------------------------------------- tests */

/* open, three writes, close: one CREATE once quiet for the settle time,
 * with the writes the close record carried and the content left. */
TEST(file_open_write_close_is_one_change)
{
	struct rig *r = rig_new();
	struct ct_file_stats st;
	uint64_t open_ns = r->now;
	char sha[CT_SHA256_HEX];

	CHECK(feed_open(r, "a.conf", 0x1000, 0) == 1);
	fake_wfile_put(&r->maps, 0x1000, open_ns, 0);
	put_file(r, "a.conf", "port=80\n");
	r->maps.files[0].v.writes = 3;
	r->now += 1 * MS;
	fake_wfile_delete(&r->maps, 0x1000);
	CHECK(feed_close(r, 0x1000, open_ns, 3) == 1);
	/* within the settle time: still coalescing */
	CHECK(tick(r, r->now + 10 * MS) == 1);
	CHECK(r->n_seen == 0);
	CHECK(tick(r, r->now + SETTLE + 1) == 0);
	CHECK(r->n_seen == 1);
	CHECK(r->seen[0].op == CT_FOP_CREATE);
	CHECK_STR(r->seen[0].path, at(r, "a.conf"));
	CHECK(r->seen[0].writes == 3);
	sha_of("port=80\n", sha);
	CHECK_STR(r->seen[0].sha_after, sha);
	ct_file_get_stats(r->files, &st);
	CHECK(st.records == 2 && st.changes == 1 && st.pending == 0);
	rig_free(r);
}

/* sed -i: a temp file written and renamed over the target at once is one
 * RENAME on the target, carrying the temp file's writes; the temp file
 * has no event of its own. */
TEST(file_rename_over_is_one_change_on_the_target)
{
	struct rig *r = rig_new();
	uint64_t open_ns = r->now;
	char sha[CT_SHA256_HEX];

	put_file(r, "app.conf", "port=80\n");
	CHECK(feed_open(r, "sedAb12", 0x2000, 0) == 1);
	fake_wfile_put(&r->maps, 0x2000, open_ns, 0);
	put_file(r, "sedAb12", "port=8080\n");
	r->now += 1 * MS;
	fake_wfile_delete(&r->maps, 0x2000);
	CHECK(feed_close(r, 0x2000, open_ns, 2) == 1);
	{
		char from[PATH_MAX];

		snprintf(from, sizeof(from), "%s", at(r, "sedAb12"));
		CHECK(rename(from, at(r, "app.conf")) == 0);
	}
	r->now += 1 * MS;
	CHECK(feed(r, record(r, CT_FOP_RENAME, "app.conf", "sedAb12")) == 1);
	CHECK(r->n_seen == 1);
	CHECK(tick(r, r->now + 10 * SETTLE) == 0);
	CHECK(r->n_seen == 1);
	CHECK(r->seen[0].op == CT_FOP_RENAME);
	CHECK_STR(r->seen[0].path, at(r, "app.conf"));
	CHECK_STR(r->seen[0].old, at(r, "sedAb12"));
	CHECK(r->seen[0].writes == 2);
	sha_of("port=8080\n", sha);
	CHECK_STR(r->seen[0].sha_after, sha);
	rig_free(r);
}

/*
 * More changes in flight than PENDING_SOFT: the oldest with no file open
 * is reported early to make room. With every file still open, the oldest
 * is reported with the writes the kernel counted so far, and writes that
 * come with its close afterwards are counted as unreported, never lost
 * silently.
 */
TEST(file_eviction_past_the_limit_reports_the_oldest)
{
	struct rig *r = rig_new();
	struct ct_file_stats st;
	char name[32];
	uint64_t first_open;

	/* idle changes (opened and closed), then one more */
	for (int i = 0; i < PENDING_SOFT; i++) {
		uint64_t open_ns = r->now;

		snprintf(name, sizeof(name), "f%d.conf", i);
		CHECK(feed_open(r, name, 0x10000 + i, 0) == 1);
		CHECK(feed_close(r, 0x10000 + i, open_ns, 1) == 1);
		r->now += 1000;
	}
	CHECK(r->n_seen == 0);
	CHECK(feed_open(r, "one-more.conf", 0x9000, 0) == 1);
	CHECK(r->n_seen == 1);
	CHECK_STR(r->seen[0].path, at(r, "f0.conf"));
	ct_file_get_stats(r->files, &st);
	CHECK(st.pending_evicted == 1 && st.pending == PENDING_SOFT);
	rig_free(r);

	/* every change has its file open; the kernel follows them */
	r = rig_new();
	first_open = r->now;
	for (int i = 0; i < PENDING_SOFT; i++) {
		snprintf(name, sizeof(name), "g%d.conf", i);
		CHECK(feed_open(r, name, 0x20000 + i, 0) == 1);
		r->now += 1000;
	}
	fake_wfile_put(&r->maps, 0x20000, first_open, 4);
	fake_wfile_put(&r->maps, 0x20001, first_open + 1000, 1);
	CHECK(feed_open(r, "one-more.conf", 0x9000, 0) == 1);
	CHECK(r->n_seen == 1);
	CHECK_STR(r->seen[0].path, at(r, "g0.conf"));
	CHECK(r->seen[0].writes == 4);
	/* its close comes later, with 6 writes in all: 2 in no event */
	fake_wfile_delete(&r->maps, 0x20000);
	CHECK(feed_close(r, 0x20000, first_open, 6) == 1);
	ct_file_get_stats(r->files, &st);
	CHECK(st.writes_unreported == 2);
	CHECK(st.pending_evicted == 1);
	rig_free(r);
}

/*
 * The process closes the file while a tick looks at it: its kernel entry
 * is there when the tick checks for activity and gone when it would take
 * the writes, the close record (with them) still in the ring. The change
 * waits for that record instead of being reported without its writes.
 */
TEST(file_close_record_after_a_tick_keeps_its_writes)
{
	struct rig *r = rig_new();
	struct ct_file_stats st;
	uint64_t open_ns = r->now;

	CHECK(feed_open(r, "held.conf", 0x3000, 0) == 1);
	fake_wfile_put(&r->maps, 0x3000, open_ns, 2);
	put_file(r, "held.conf", "x=1\n");
	/* the tick's first read of ct_wfiles finds it; the close lands
	 * right after */
	r->maps.gets = 0;
	r->maps.vanish_after = 1;
	r->maps.vanish_key = 0x3000;
	r->now += SETTLE + 10 * MS;
	CHECK(tick(r, r->now) == 1);
	CHECK(r->n_seen == 0);
	/* the close record, drained after the tick */
	CHECK(feed_close(r, 0x3000, open_ns, 5) == 1);
	CHECK(tick(r, r->now + SETTLE + 1) == 0);
	CHECK(r->n_seen == 1);
	CHECK(r->seen[0].writes == 5);
	ct_file_get_stats(r->files, &st);
	CHECK(st.closed_unseen == 0 && st.writes_unreported == 0);
	rig_free(r);

	/* past the quiet limit too: a record known to be in the ring (the
	 * agent has not emptied it since the entry went) is waited for */
	r = rig_new();
	open_ns = r->now;
	CHECK(feed_open(r, "slow.conf", 0x4000, 0) == 1);
	r->col.change_ring_emptied = 7;
	CHECK(tick(r, r->now + 3000 * MS) == 1);
	CHECK(tick(r, r->now + 4000 * MS) == 1);
	CHECK(r->n_seen == 0);
	CHECK(feed_close(r, 0x4000, open_ns, 9) == 1);
	CHECK(tick(r, r->now + 4000 * MS + SETTLE + 1) == 0);
	CHECK(r->n_seen == 1);
	CHECK(r->seen[0].writes == 9);
	rig_free(r);
}

/* ------------------------------------------------------------ sysctls */

#define WRITTEN   CHANGETRACE__V1__SYSCTL_VALUE_SOURCE__SYSCTL_VALUE_SOURCE_WRITTEN
#define READ_BACK CHANGETRACE__V1__SYSCTL_VALUE_SOURCE__SYSCTL_VALUE_SOURCE_READ_BACK
#define OSTYPE    "/proc/sys/kernel/ostype"   /* read back from the host: "Linux" */

/* The rig with /proc/sys watched too (watch 2), nothing known of it. */
static struct rig *sysctl_rig(void)
{
	struct rig *r = rig_new();

	snprintf(watches.w[1].path, sizeof(watches.w[1].path), "/proc/sys");
	watches.w[1].is_dir = true;
	watches.n = 2;
	ct_sysctl_forget_all();
	return r;
}

/* A record of op on /proc/sys/kernel/ostype through open file `file`. */
static struct ct_file_event *sysctl_record(struct rig *r, int op, uint64_t file, uint64_t open_ns)
{
	struct ct_file_event *e = record(r, op, NULL, NULL);

	e->path0_len = snprintf(e->paths, CT_FILE_PATH_MAX, "%s", OSTYPE);
	e->watch_id = 2;
	e->suffix_off = strlen("/proc/sys");
	e->flags = CT_FF_FD;
	e->file_id = file;
	e->file_open_ns = open_ns;
	e->ino = 77;
	e->dev = 7;
	e->hdr.size = offsetof(struct ct_file_event, paths) + e->path0_len;
	return e;
}

/* One write of it, as the write probe records it: ret, and the bytes
 * (NULL: flags say why none). */
static int feed_sysctl_write(struct rig *r, uint64_t file, uint64_t open_ns, int ret,
			     const char *bytes, uint16_t flags)
{
	struct ct_file_event *e = sysctl_record(r, CT_FOP_SYSCTL, file, open_ns);

	e->ret = ret;
	e->flags |= flags;
	if (bytes) {
		e->value_len = strlen(bytes);
		memcpy(e->paths + e->path0_len, bytes, e->value_len);
	}
	e->hdr.size += e->value_len;
	return feed(r, e);
}

/* The open and close of it (the close's writes: those whose record was lost). */
static void sysctl_open(struct rig *r, uint64_t file, uint64_t open_ns)
{
	struct ct_file_event *e = sysctl_record(r, CT_FOP_WRITE, file, open_ns);

	feed(r, e);
	fake_wfile_put(&r->maps, file, open_ns, 0);
}

static int sysctl_close(struct rig *r, uint64_t file, uint64_t open_ns, uint32_t lost)
{
	fake_wfile_delete(&r->maps, file);
	return feed_close(r, file, open_ns, lost);
}

/* Each write is its own event, its bytes the "after" and the next one's
 * "before"; the open's change adds nothing once all its writes were
 * recorded. */
TEST(file_sysctl_each_write_is_an_event_with_its_bytes)
{
	struct rig *r = sysctl_rig();
	struct ct_file_stats st;
	uint64_t open_ns = r->now;

	sysctl_open(r, 0x5000, open_ns);
	r->now += MS;
	CHECK(feed_sysctl_write(r, 0x5000, open_ns, 3, "71\n", 0) == 1);
	r->now += MS;
	CHECK(feed_sysctl_write(r, 0x5000, open_ns, 2, "72", 0) == 1);  /* no newline: same value */
	CHECK(r->n_seen == 2);
	CHECK(r->seen[0].op == CT_FOP_SYSCTL && r->seen[0].writes == 1);
	CHECK_STR(r->seen[0].sc_before, "");      /* nothing known before it */
	CHECK_STR(r->seen[0].sc_after, "71");
	CHECK(r->seen[0].sc_source == WRITTEN);
	CHECK_STR(r->seen[1].sc_before, "71");
	CHECK_STR(r->seen[1].sc_after, "72");
	r->now += MS;
	CHECK(sysctl_close(r, 0x5000, open_ns, 0) == 1);
	CHECK(tick(r, r->now + 10 * SETTLE) == 0);
	CHECK(r->n_seen == 2);
	ct_file_get_stats(r->files, &st);
	CHECK(st.sysctl_written == 2 && st.sysctl_read_back == 0 && st.pending == 0);
	rig_free(r);
}

/* A refused write is no change of value: counted, no event, and the next
 * write's "before" is still the value from before it. */
TEST(file_sysctl_refused_write_is_no_event)
{
	struct rig *r = sysctl_rig();
	struct ct_file_stats st;
	uint64_t open_ns = r->now;

	sysctl_open(r, 0x5100, open_ns);
	CHECK(feed_sysctl_write(r, 0x5100, open_ns, 2, "5\n", 0) == 1);
	CHECK(feed_sysctl_write(r, 0x5100, open_ns, -22, NULL, 0) == 1);
	CHECK(feed_sysctl_write(r, 0x5100, open_ns, 0, NULL, 0) == 1);   /* took nothing */
	CHECK(sysctl_close(r, 0x5100, open_ns, 0) == 1);
	CHECK(tick(r, r->now + 10 * SETTLE) == 0);
	CHECK(r->n_seen == 1);
	r->now += MS;
	sysctl_open(r, 0x5200, r->now);
	CHECK(feed_sysctl_write(r, 0x5200, r->now, -22, NULL, 0) == 1);
	CHECK(sysctl_close(r, 0x5200, r->now, 0) == 1);
	CHECK(tick(r, r->now + 10 * SETTLE) == 0);
	CHECK(r->n_seen == 1);                    /* an open that wrote nothing it took */
	r->now += MS;
	CHECK(feed_sysctl_write(r, 0x5300, r->now, 2, "6\n", 0) == 1);
	CHECK_STR(r->seen[1].sc_before, "5");
	ct_file_get_stats(r->files, &st);
	CHECK(st.sysctl_refused == 3);
	rig_free(r);
}

/* Bytes that are not the whole value (cut, spread over iovecs, at an
 * offset) or a write whose record was lost: the value is read back, and
 * the event says so. */
TEST(file_sysctl_value_read_back_where_the_bytes_are_not_whole)
{
	struct rig *r = sysctl_rig();
	struct ct_file_stats st;
	uint64_t open_ns = r->now;

	sysctl_open(r, 0x5400, open_ns);
	CHECK(feed_sysctl_write(r, 0x5400, open_ns, 300, NULL, CT_FF_VALUE_CUT) == 1);
	CHECK(feed_sysctl_write(r, 0x5400, open_ns, 3, NULL, CT_FF_VALUE_UNREAD) == 1);
	CHECK(feed_sysctl_write(r, 0x5400, open_ns, 3, "abc", CT_FF_VALUE_OFFSET) == 1);
	CHECK(r->n_seen == 3);
	for (int i = 0; i < 3; i++) {
		CHECK_STR(r->seen[i].sc_after, "Linux");
		CHECK(r->seen[i].sc_source == READ_BACK);
	}
	/* a value read after the file was opened is no "before" of its writes */
	CHECK_STR(r->seen[1].sc_before, "");
	CHECK(sysctl_close(r, 0x5400, open_ns, 0) == 1);
	CHECK(tick(r, r->now + 10 * SETTLE) == 0);
	CHECK(r->n_seen == 3);
	/* two writes whose records were lost: one event, read back */
	r->now += MS;
	open_ns = r->now;
	sysctl_open(r, 0x5500, open_ns);
	CHECK(sysctl_close(r, 0x5500, open_ns, 2) == 1);
	CHECK(tick(r, r->now + 10 * SETTLE) == 0);
	CHECK(r->n_seen == 4);
	CHECK(r->seen[3].op == CT_FOP_SYSCTL && r->seen[3].writes == 2);
	CHECK_STR(r->seen[3].sc_before, "Linux");  /* read before that open */
	CHECK_STR(r->seen[3].sc_after, "Linux");
	CHECK(r->seen[3].sc_source == READ_BACK);
	/* opened and closed, no write seen, the value as known: nothing */
	r->now += MS;
	sysctl_open(r, 0x5600, r->now);
	CHECK(sysctl_close(r, 0x5600, r->now, 0) == 1);
	CHECK(tick(r, r->now + 10 * SETTLE) == 0);
	CHECK(r->n_seen == 4);
	ct_file_get_stats(r->files, &st);
	CHECK(st.sysctl_read_back == 4 && st.sysctl_written == 0);
	rig_free(r);
}

/* The "before" is the last value known, unless it was read after the
 * writing file was opened (it may be that write's own value). */
TEST(file_sysctl_before_read_after_the_open_is_unknown)
{
	struct rig *r = sysctl_rig();
	uint64_t open_ns = r->now;

	ct_sysctl_remember((struct ct_sysctl_ns){ 0, 0 }, OSTYPE, "1\n", 2, false, open_ns - 1);
	CHECK(feed_sysctl_write(r, 0x5700, open_ns, 2, "2\n", 0) == 1);
	CHECK_STR(r->seen[0].sc_before, "1");
	ct_sysctl_remember((struct ct_sysctl_ns){ 0, 0 }, OSTYPE, "3\n", 2, false, open_ns + 1);
	CHECK(feed_sysctl_write(r, 0x5800, open_ns, 2, "4\n", 0) == 1);
	CHECK_STR(r->seen[1].sc_before, "");
	CHECK_STR(r->seen[1].sc_after, "4");
	/* the written value is every later write's "before" */
	CHECK(feed_sysctl_write(r, 0x5900, open_ns, 2, "5\n", 0) == 1);
	CHECK_STR(r->seen[2].sc_before, "4");
	rig_free(r);
}

/* A record's value is bounded and within the record, or it is malformed. */
TEST(file_sysctl_record_bounds)
{
	struct rig *r = sysctl_rig();
	struct ct_file_event *e;

	e = sysctl_record(r, CT_FOP_SYSCTL, 0x5a00, r->now);
	e->ret = 3;
	e->value_len = CT_SYSCTL_WRITE_MAX + 1;
	e->hdr.size += e->value_len;
	CHECK(ct_file_from_record(r->files, &r->col, e, e->hdr.size) == -1);
	e = sysctl_record(r, CT_FOP_SYSCTL, 0x5a00, r->now);
	e->ret = 3;
	e->value_len = 3;	/* the record ends before them */
	CHECK(ct_file_from_record(r->files, &r->col, e, e->hdr.size) == -1);
	CHECK(r->n_seen == 0);
	rig_free(r);
}
