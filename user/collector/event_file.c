/* Config-change records -> FILE events, with coalescing. See event_file.h. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "event_file.h"
#include "event_net.h"
#include "file_content.h"
#include "proc_fds.h"
#include "sysctl_values.h"
#include "lib/util.h"

/* Changes followed at once: a deploy rewriting a few thousand files keeps
 * each in one change; past PENDING_SOFT one is reported early to make room
 * (see make_room). Up to PENDING_MAX (ct_wfiles' size) are kept rather than
 * report a change whose close record, with its writes, is still in the
 * ring. The arrays are calloc'd: slots never used cost no memory. */
#define PENDING_SOFT 4096
#define PENDING_MAX  16384
#define TOMBSTONES   4096          /* power of 2 */
#define OPEN_IDS     8
#define PATH_BUCKETS 8192          /* power of 2 */
#define OPEN_BUCKETS 8192          /* power of 2 */

/*
 * An open for write whose close(2) the collector waits for. The kernel's
 * entry (ct_wfiles) is keyed by the struct file's address, which is reused
 * as soon as the file is closed: an open is its address and its open
 * record's time, and an entry of another open at the same address is not
 * this one's. The collector never writes or deletes entries of live
 * processes (a delete could hit a newer open at the same address and lose
 * its close): it only reads them, and remembers how many writes it took.
 */
struct open_file {
	uint64_t id;               /* struct file address */
	uint64_t open_ns;          /* ct_wfile.open_ns */
	uint32_t taken;            /* of its ct_wfile.writes, already counted */
	uint64_t missing_at;       /* entry not found: change_ring_emptied + 1
				    * then (0 while found) */
};

/* A change being coalesced: one path, one deploy (or drift). */
struct pending {
	bool used;
	char *path;                /* heap: most slots stay untouched */
	char *ns_path;             /* "" when the same as path */
	struct ct_task task;       /* the first writer */
	uint64_t first_ns, last_ns;/* monotonic: first record, last activity */
	struct open_file files[OPEN_IDS];
	int n_open;
	uint32_t writes, opens;
	uint16_t flags;            /* CT_FF_CREAT / CT_FF_TRUNC seen */
	bool truncate_op, sysctl;
	uint64_t ino;
	uint32_t dev;
	struct ct_file_state before, after;
	bool have_before;
	bool have_after;           /* taken when the last writer closed */
	uint64_t close_ns;         /* kernel time of the last close seen */
	uint64_t path_hash;        /* of path: most lookups end on it */
	bool burst;                /* owns an entry in ct_wbursts */
	uint32_t burst_opens, burst_writes; /* of that entry, already counted */
	int32_t next;              /* slot + 1 of the next in its path bucket (or
				    * in the free list); 0 = none */
	char *sc_before, *sc_after;/* a sysctl's content, read in the writer's
				    * namespace (heap; NULL: not known) */
	uint32_t sc_before_len, sc_after_len;
};

/*
 * Where an open file's close record finds its change: keyed by the open's
 * address and time, holding the change's slot. One per open_file of a used
 * pending, added and removed with it.
 */
struct open_ref {
	uint64_t id, open_ns;
	int32_t slot;              /* of the pending */
	int32_t next;              /* ref + 1 in the bucket (or free list); 0 = none */
};

/* Closes of one file closer together than this are a burst (a tool
 * rewriting it in a loop): the intermediate contents are not kept, the
 * change's "after" is read when it settles. Reading the file at every
 * close was most of the collector's work under such a loop. */
#define BURST_NS (5ull * 1000000)

static struct ct_file_cfg cfg;
static struct ct_file_stats stats;

/*
 * The pending changes, with two indexes so a record costs O(1) however
 * many files are in flight: by path (chains of slots per bucket of the
 * path's hash) and by open file (refs per bucket of address and time).
 * Both arrays are calloc'd: pages of slots never used stay untouched.
 */
static struct pending *pend;
static int32_t n_used, high_water, free_slots;   /* free_slots: slot + 1 */
static int32_t path_head[PATH_BUCKETS];          /* slot + 1 */
static struct open_ref *refs;
static int32_t refs_high_water, free_refs;       /* ref + 1 */
static int32_t open_head[OPEN_BUCKETS];          /* ref + 1 */

/*
 * Opens forgotten while their file may still be open (the change reported
 * early, or harvested): what was taken of their writes, so a close record
 * that comes later counts the writes no event carries
 * (writes_unreported). Direct-mapped; an entry overwritten by another is
 * simply not counted.
 */
static struct open_file tombstones[TOMBSTONES];

static struct {
	struct ct_event_buf eb;
	PbFileChange fc;
	char path[PATH_MAX], old[PATH_MAX], ns[PATH_MAX];
	char sha_b[CT_SHA256_HEX], sha_a[CT_SHA256_HEX], xattr[65];
	char sc_name[PATH_MAX], sc_before[CT_SYSCTL_VALUE_MAX + 1];
	char sc_after[CT_SYSCTL_VALUE_MAX + 1], sc_netns[64];
} out;

void ct_file_init(const struct ct_file_cfg *c)
{
	cfg = *c;
	if (!cfg.proc_root)
		cfg.proc_root = "/proc";
	memset(&stats, 0, sizeof(stats));
	for (int i = 0; pend && i < high_water; i++) {
		free(pend[i].path);
		free(pend[i].ns_path);
		free(pend[i].sc_before);
		free(pend[i].sc_after);
	}
	free(pend);
	free(refs);
	pend = calloc(PENDING_MAX, sizeof(*pend));
	refs = calloc((size_t)PENDING_MAX * OPEN_IDS, sizeof(*refs));
	if (!pend || !refs) {
		ct_err("collector: out of memory for %d pending changes", PENDING_MAX);
		abort();
	}
	memset(tombstones, 0, sizeof(tombstones));
	n_used = high_water = free_slots = 0;
	refs_high_water = free_refs = 0;
	memset(path_head, 0, sizeof(path_head));
	memset(open_head, 0, sizeof(open_head));
}

void ct_file_get_stats(struct ct_file_stats *st)
{
	stats.pending = n_used;
	*st = stats;
}

static bool is_sysctl(const char *p)
{
	return ct_sysctl_is(p);
}

/* Whose value a sysctl is: the writer's network namespace for net.*,
 * else global (0). */
static uint32_t sysctl_ns(const char *path, const struct ct_task *t)
{
	return ct_sysctl_per_netns(path) ? t->net_ns : 0;
}

/* Is that value the one the agent itself reads (no namespace to enter)? */
static bool sysctl_ns_is_ours(const char *path, const struct ct_task *t)
{
	return !ct_sysctl_per_netns(path) || t->net_ns == cfg.host_net_ns;
}

/* ------------------------------------------------------------ paths */

/* path0 (which=0) or path1 of a record, NUL-terminated into buf. */
static bool record_path(const struct ct_file_event *e, int which, char *buf, size_t len)
{
	size_t off = which ? e->path0_len : 0;
	size_t n = which ? e->path1_len : e->path0_len;

	if (!n || off + n > sizeof(e->paths) || n >= len)
		return false;
	memcpy(buf, e->paths + off, n);
	buf[n] = '\0';
	/* a name with a NUL inside cannot come from the kernel's walk */
	return strlen(buf) == n;
}

/* path0/path1 as given, made absolute with the process's cwd. */
static bool raw_path(const struct ct_file_event *e, int which, char *buf, size_t len)
{
	char raw[PATH_MAX], link[64], cwd[PATH_MAX];
	ssize_t n;

	if (!record_path(e, which, raw, sizeof(raw)))
		return false;
	if (raw[0] == '/') {
		ct_strlcpy(buf, raw, len);
	} else {
		snprintf(link, sizeof(link), "%s/%u/cwd", cfg.proc_root, e->task.pid);
		n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n <= 0)
			return false;
		cwd[n] = '\0';
		if (snprintf(buf, len, "%s/%s", cwd, raw) >= (int)len)
			return false;
	}
	ct_path_normalize(buf);
	return true;
}

/* realpath(dir) + "/" + base, through the process's root when given. */
static bool resolve_parent(const char *root, const char *p, char *outp, size_t len)
{
	char dir[PATH_MAX], basebuf[PATH_MAX], joined[PATH_MAX + 32], real[PATH_MAX];

	ct_strlcpy(dir, p, sizeof(dir));
	ct_strlcpy(basebuf, p, sizeof(basebuf));
	if (snprintf(joined, sizeof(joined), "%s%s", root ? root : "", dirname(dir)) >=
	    (int)sizeof(joined))
		return false;
	if (!realpath(joined, real))
		return false;
	const char *b = basename(basebuf);

	if (!strcmp(b, "/"))
		return snprintf(outp, len, "%s", real) < (int)len;
	return snprintf(outp, len, "%s%s%s", real, strcmp(real, "/") ? "/" : "", b) < (int)len;
}

/*
 * The host path of path0/path1, and the path as the process sees it when
 * that differs. False when it is not watched after all (a prefix match
 * the kernel could not rule out) or cannot be resolved.
 */
static bool resolve_host_path(const struct ct_file_event *e, int which, char *host, char *ns)
{
	uint32_t wid = which ? e->watch_id1 : e->watch_id;
	uint32_t soff = which ? e->suffix_off1 : e->suffix_off;
	char raw[PATH_MAX], tmp[PATH_MAX * 2];

	ns[0] = '\0';
	if (!record_path(e, which, raw, sizeof(raw)))
		return false;
	if (raw[0] != '/') {
		/* relative with "..", the kernel could not place it: the cwd now */
		char link[64], cwd[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof(link), "%s/%u/cwd", cfg.proc_root, e->task.pid);
		n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n <= 0) {
			stats.unresolved++;
			return false;
		}
		cwd[n] = '\0';
		if (snprintf(tmp, sizeof(tmp), "%s/%s", cwd, raw) >= PATH_MAX) {
			stats.unresolved++;
			return false;
		}
		ct_strlcpy(raw, tmp, sizeof(raw));
		wid = 0;
	}
	if (wid && wid <= (uint32_t)cfg.watches->n && soff <= strlen(raw)) {
		/* the kernel matched a watched inode: watch path + what is below */
		if (snprintf(tmp, sizeof(tmp), "%s%s", cfg.watches->w[wid - 1].path, raw + soff) >=
		    PATH_MAX) {
			stats.unresolved++;
			return false;
		}
		ct_strlcpy(host, tmp, PATH_MAX);
		ct_path_normalize(host);
		ct_path_normalize(raw);
		if (strcmp(raw, host))
			ct_strlcpy(ns, raw, PATH_MAX);
		return true;
	}
	/* a path string: normalise, resolve symlinked parents where they exist */
	ct_path_normalize(raw);
	if (e->task.mnt_ns != cfg.host_mnt_ns) {
		char root[64];

		snprintf(root, sizeof(root), "%s/%u/root", cfg.proc_root, e->task.pid);
		if (!resolve_parent(root, raw, host, PATH_MAX))
			ct_strlcpy(host, raw, PATH_MAX);
		if (strcmp(raw, host))
			ct_strlcpy(ns, raw, PATH_MAX);
	} else if (!resolve_parent(NULL, raw, host, PATH_MAX)) {
		ct_strlcpy(host, raw, PATH_MAX);
	}
	if (!ct_watches_find(cfg.watches, host) && !ct_watches_find(cfg.watches, raw)) {
		stats.not_watched++;
		return false;
	}
	return true;
}

static bool host_path(const struct ct_file_event *e, int which, char *host, char *ns)
{
	if (!resolve_host_path(e, which, host, ns))
		return false;
	if (cfg.path_seen)
		cfg.path_seen(host);
	return true;
}

/* ------------------------------------------------------------ emit */

static void emit(struct ct_collector *c, const struct ct_task *task, uint64_t ts, int op,
		 const char *path, const char *old, const char *ns, uint64_t ino, uint32_t dev,
		 const struct ct_file_state *before, const struct ct_file_state *after,
		 uint32_t writes, const char *xattr, const struct pending *sysctl)
{
	struct ct_event_buf *b = &out.eb;
	PbFileChange *f = &out.fc;
	struct stat st;

	ct_event_envelope(c, b, &b->ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE, ts);
	ct_event_fill_task(c, b, task);
	*f = (PbFileChange)CHANGETRACE__V1__FILE_CHANGE__INIT;
	f->op = op;
	ct_strlcpy(out.path, path, sizeof(out.path));
	f->path = out.path;
	if (old) {
		ct_strlcpy(out.old, old, sizeof(out.old));
		f->old_path = out.old;
	}
	if (ns && *ns) {
		ct_strlcpy(out.ns, ns, sizeof(out.ns));
		f->ns_path = out.ns;
	}
	/* mode, owner and mtime as found: the last known state follows
	 * the events (store/last_state.c), a kill loses none of it */
	if (lstat(path, &st) == 0) {
		f->inode = st.st_ino;
		f->dev = st.st_dev;
		f->mode = st.st_mode;
		f->uid = st.st_uid;
		f->gid = st.st_gid;
		f->mtime_unix_nano = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + st.st_mtim.tv_nsec;
	} else {
		f->inode = ino;
		f->dev = dev;
	}
	if (before && before->exists) {
		ct_strlcpy(out.sha_b, before->sha256, sizeof(out.sha_b));
		f->sha256_before = out.sha_b;
		f->size_before = before->size;
	}
	if (after && after->exists) {
		ct_strlcpy(out.sha_a, after->sha256, sizeof(out.sha_a));
		f->sha256_after = out.sha_a;
		f->size_after = after->size;
	}
	/* diff works when every version that exists was kept */
	f->content_kept = (after && after->kept) && (!before || !before->exists || before->kept);
	f->writes = writes;
	if (xattr && *xattr) {
		ct_strlcpy(out.xattr, xattr, sizeof(out.xattr));
		f->xattr_name = out.xattr;
	}
	if (sysctl) {
		/* the values themselves: a sysctl is a few bytes */
		ct_sysctl_name(path, out.sc_name, sizeof(out.sc_name));
		f->sysctl_name = out.sc_name;
		out.sc_before[0] = out.sc_after[0] = out.sc_netns[0] = '\0';
		if (sysctl->sc_before && before && before->exists)
			ct_sysctl_value(sysctl->sc_before, sysctl->sc_before_len, out.sc_before,
					sizeof(out.sc_before));
		if (sysctl->sc_after)
			ct_sysctl_value(sysctl->sc_after, sysctl->sc_after_len, out.sc_after,
					sizeof(out.sc_after));
		f->sysctl_before = out.sc_before;
		f->sysctl_after = out.sc_after;
		if (ct_sysctl_per_netns(path)) {
			ct_net_netns_name(task->net_ns, task->pid, out.sc_netns, sizeof(out.sc_netns));
			f->sysctl_netns = out.sc_netns;
		}
	}
	b->ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_FILE;
	b->ev.file = f;
	stats.changes++;
	ct_sink_emit(&c->sink, &b->ev);
}

/* The file's content now, unless the path names another file by now (ino
 * given: the written inode was replaced, e.g. renamed over, before the
 * collector read it): then the digest is unknown rather than wrong.
 * Sysctls are read by sysctl_take, in the writer's namespace. */
#define RACE_SLACK_NS (10ull * 1000000)	/* ctime is kept at a coarse clock */

static void snapshot(const char *path, const struct ct_task *t, uint64_t ino,
		     uint64_t not_after_wall, struct ct_file_state *st)
{
	ct_content_snapshot(path, st);
	/* replaced (another inode), or changed again after the writer we
	 * report closed it (the collector lagged): unknown, not wrong */
	if (!is_sysctl(path) && ((ino && st->ino && st->ino != ino) ||
	    (not_after_wall && st->ctime_ns > not_after_wall + RACE_SLACK_NS))) {
		memset(st, 0, sizeof(*st));
		st->exists = true;
		stats.raced++;
	}
}

/* ------------------------------------------------------------ sysctls */

static void sysctl_set(char **dst, uint32_t *dlen, const char *raw, size_t n)
{
	char *copy = raw ? malloc(n + 1) : NULL;

	if (copy) {
		memcpy(copy, raw, n);
		copy[n] = '\0';
	}
	free(*dst);
	*dst = copy;
	*dlen = copy ? (uint32_t)n : 0;
}

/*
 * A sysctl's value now, as the writer's namespace has it (the agent's
 * own read would give its namespace's for net.*): the content's state
 * (digest, blob) into st and the text into p->sc_after. Unknown (no
 * digest) when it cannot be read there.
 */
static void sysctl_take(struct pending *p, struct ct_file_state *st)
{
	char *buf = malloc(CT_SYSCTL_READ_MAX), name[64];
	ssize_t n = -1;

	memset(st, 0, sizeof(*st));
	st->exists = true;
	if (buf) {
		if (sysctl_ns_is_ours(p->path, &p->task))
			n = ct_sysctl_read(p->path, buf, CT_SYSCTL_READ_MAX);
		else
			n = ct_net_read_in_ns(p->task.net_ns, p->task.pid, p->path, buf,
					      CT_SYSCTL_READ_MAX, name, sizeof(name));
	}
	if (n >= 0) {
		ct_content_from_bytes(buf, (size_t)n, st);
		sysctl_set(&p->sc_after, &p->sc_after_len, buf, (size_t)n);
	} else {
		sysctl_set(&p->sc_after, &p->sc_after_len, NULL, 0);
		stats.sysctl_unread++;
	}
	free(buf);
}

/* The last known value in the writer's namespace: the change's "before". */
static void sysctl_before(struct pending *p)
{
	char *buf = malloc(CT_SYSCTL_READ_MAX);
	size_t n;

	if (buf && ct_sysctl_known(sysctl_ns(p->path, &p->task), p->path, buf,
				   CT_SYSCTL_READ_MAX, &n)) {
		ct_content_from_bytes(buf, n, &p->before);
		sysctl_set(&p->sc_before, &p->sc_before_len, buf, n);
		p->have_before = true;
	} else if (sysctl_ns_is_ours(p->path, &p->task)) {
		/* the baseline's digest, at least */
		p->have_before = ct_content_lookup(p->path, &p->before);
	}
	free(buf);
}

/* ------------------------------------------------------------ bursts */

static void burst_key(const struct pending *p, struct ct_wburst_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ino = p->ino;
	k->dev = p->dev;
	k->tgid = p->task.pid;
	k->deploy_slot = p->task.attr.deploy_slot;
}

/*
 * The change follows its file's burst from now on: the kernel folds the
 * process's quick reopens into ct_wbursts instead of recording them (see
 * struct ct_wburst). close_ns: the writer's last close known, 0 if none
 * yet (nothing folds before the kernel has seen a close).
 */
static void burst_follow(struct pending *p, uint64_t close_ns)
{
	struct ct_wburst_key k;
	struct ct_wburst b = { .last_close_ns = close_ns, .last_ns = close_ns };

	if (p->burst || !p->ino || cfg.wbursts_fd <= 0)
		return;
	burst_key(p, &k);
	/* EEXIST: another change owns it (a hard link to the same file) */
	if (!bpf_map_update_elem(cfg.wbursts_fd, &k, &b, BPF_NOEXIST)) {
		p->burst = true;
		p->burst_opens = p->burst_writes = 0;
	}
}

/*
 * Add what the kernel folded into the burst since the last look. done:
 * the change is being reported for good; the entry goes in the same step
 * as the read, so a later reopen is recorded and starts a new change.
 * Returns the entry's view (zeroed if none).
 */
static struct ct_wburst burst_take(struct pending *p, bool done)
{
	struct ct_wburst_key k;
	struct ct_wburst b;
	int err;

	memset(&b, 0, sizeof(b));
	if (!p->burst)
		return b;
	burst_key(p, &k);
	err = done ? bpf_map_lookup_and_delete_elem(cfg.wbursts_fd, &k, &b)
		   : bpf_map_lookup_elem(cfg.wbursts_fd, &k, &b);
	if (done)
		p->burst = false;
	if (err) {
		memset(&b, 0, sizeof(b));
		return b;
	}
	if (b.opens != p->burst_opens) {
		/* rewritten after the close the collector read it at */
		p->opens += b.opens - p->burst_opens;
		p->have_after = false;
	}
	p->writes += b.writes - p->burst_writes;
	p->burst_opens = b.opens;
	p->burst_writes = b.writes;
	/* folded opens and closes are the change's activity too */
	if (b.last_ns > p->last_ns)
		p->last_ns = b.last_ns;
	return b;
}

/* The kernel's entry for this open, if the address still holds it. */
static bool open_entry(const struct open_file *o, struct ct_wfile *wf)
{
	return !bpf_map_lookup_elem(cfg.wfiles_fd, &o->id, wf) && wf->open_ns == o->open_ns;
}

/* Writes of an open file counted by the kernel since the last take. */
static uint32_t take_writes(struct open_file *o)
{
	struct ct_wfile wf;
	uint32_t n = 0;

	if (open_entry(o, &wf) && wf.writes > o->taken) {
		n = wf.writes - o->taken;
		o->taken = wf.writes;
	}
	return n;
}

/* ------------------------------------------------------------ indexes */

static int32_t slot_of(const struct pending *p)
{
	return (int32_t)(p - pend);
}

/* FNV-1a: pending slots are matched by path on every record; comparing
 * a number first keeps that a scan of integers. */
static uint64_t path_hash(const char *p)
{
	uint64_t h = 1469598103934665603ull;

	while (*p)
		h = (h ^ (unsigned char)*p++) * 1099511628211ull;
	return h;
}

static uint32_t path_bucket(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32)) & (PATH_BUCKETS - 1);
}

static bool same_path(const struct pending *p, uint64_t h, const char *path)
{
	return p->used && p->path_hash == h && !strcmp(p->path, path);
}

static uint32_t open_bucket(uint64_t id, uint64_t open_ns)
{
	uint64_t h = id ^ (open_ns * 0x9e3779b97f4a7c15ull);

	return (uint32_t)(h ^ (h >> 29)) & (OPEN_BUCKETS - 1);
}

static struct open_file *tombstone_of(uint64_t id, uint64_t open_ns)
{
	return &tombstones[open_bucket(id, open_ns) & (TOMBSTONES - 1)];
}

/* Open o is forgotten, its file perhaps still open: remember what was taken. */
static void tombstone_add(const struct open_file *o)
{
	*tombstone_of(o->id, o->open_ns) = *o;
}

/* Index open file o as its pending's (slot). Live refs never outnumber
 * the open_file slots of used pendings, so the pool cannot run out. */
static void ref_add(int32_t slot, const struct open_file *o)
{
	uint32_t b = open_bucket(o->id, o->open_ns);
	int32_t r;

	if (free_refs) {
		r = free_refs - 1;
		free_refs = refs[r].next;
	} else if (refs_high_water < PENDING_MAX * OPEN_IDS) {
		r = refs_high_water++;
	} else {
		return;	/* unreachable; its close would be ignored, not misfiled */
	}
	refs[r] = (struct open_ref){ .id = o->id, .open_ns = o->open_ns, .slot = slot,
				     .next = open_head[b] };
	open_head[b] = r + 1;
}

static void ref_del(const struct open_file *o)
{
	int32_t *link = &open_head[open_bucket(o->id, o->open_ns)];

	while (*link) {
		struct open_ref *r = &refs[*link - 1];

		if (r->id == o->id && r->open_ns == o->open_ns) {
			int32_t dead = *link;

			*link = r->next;
			r->next = free_refs;
			free_refs = dead;
			return;
		}
		link = &r->next;
	}
}

/* A slot leaves its path bucket, its open files' refs and its strings. */
static void pending_release(struct pending *p)
{
	int32_t slot = slot_of(p);
	int32_t *link = &path_head[path_bucket(p->path_hash)];

	for (int j = 0; j < p->n_open; j++) {
		ref_del(&p->files[j]);
		tombstone_add(&p->files[j]);
	}
	while (*link && *link != slot + 1)
		link = &pend[*link - 1].next;
	if (*link)
		*link = p->next;
	free(p->path);
	free(p->ns_path);
	free(p->sc_before);
	free(p->sc_after);
	p->path = p->ns_path = p->sc_before = p->sc_after = NULL;
	p->used = false;
	p->n_open = 0;
	n_used--;
	p->next = free_slots;
	free_slots = slot + 1;
}

static void finalize(struct ct_collector *c, struct pending *p, bool keep_open)
{
	struct ct_file_state after;
	const struct ct_file_state *before = p->have_before ? &p->before : NULL;
	int op;

	burst_take(p, !keep_open);
	/* writes counted in the kernel for files still open */
	for (int i = 0; i < p->n_open; i++)
		p->writes += take_writes(&p->files[i]);
	if (p->have_after && !p->n_open)
		after = p->after;
	else if (p->sysctl)
		sysctl_take(p, &after);
	else
		snapshot(p->path, &p->task, p->ino, 0, &after);
	if (p->sysctl)
		op = CT_FOP_SYSCTL;
	else if ((!before || !before->exists) && after.exists)
		op = CT_FOP_CREATE;
	else if (p->truncate_op)
		op = CT_FOP_TRUNCATE;
	else
		op = CT_FOP_WRITE;
	if (p->opens + (p->truncate_op ? 1 : 0) > 1)
		stats.coalesced += p->opens - 1;
	emit(c, &p->task, p->first_ns, op, p->path, NULL, p->ns_path, p->ino, p->dev, before, &after,
	     p->writes, NULL, p->sysctl ? p : NULL);
	/* the next change's "before"; an unknown digest is not a state to
	 * compare against. A sysctl's is its namespace's value. */
	if (p->sysctl && p->sc_after)
		ct_sysctl_remember(sysctl_ns(p->path, &p->task), p->path, p->sc_after,
				   p->sc_after_len, false);
	if (p->sysctl && !sysctl_ns_is_ours(p->path, &p->task))
		;	/* the path's table is the agent's own namespace's */
	else if (after.exists && after.sha256[0])
		ct_content_put(p->path, &after);
	else
		ct_content_forget(p->path);
	if (keep_open) {
		p->before = after;
		p->have_before = true;
		sysctl_set(&p->sc_before, &p->sc_before_len, p->sc_after, p->sc_after_len);
		p->writes = 0;
		p->opens = 0;
		p->flags = 0;
		p->truncate_op = false;
		p->have_after = false;
		p->first_ns = p->last_ns;
		return;
	}
	pending_release(p);
}

/* Forget open file j (the last one takes its place). */
static void drop_file(struct pending *p, int j)
{
	ref_del(&p->files[j]);
	p->n_open--;
	p->files[j] = p->files[p->n_open];
}

/*
 * Delete the kernel's entry for an open whose process is gone (the file was
 * closed at exit, never by close(2)). Read again just before the delete:
 * the address may have gone to a live process's new open since (deleting
 * that would lose its close); what is left is the microsecond between
 * this read and the delete.
 */
static bool delete_if_dead(uint64_t key, uint64_t open_ns)
{
	struct ct_wfile wf;

	if (bpf_map_lookup_elem(cfg.wfiles_fd, &key, &wf) || wf.open_ns != open_ns)
		return false;
	if (kill((pid_t)wf.tgid, 0) == 0 || errno != ESRCH)
		return false;
	return bpf_map_delete_elem(cfg.wfiles_fd, &key) == 0;
}

/* Keep the kernel's write count of open file j and forget the file. Its
 * entry goes now if its process exited; else (closed under a dup2) the
 * address's next open replaces it, or the sweep takes it at exit. */
static void harvest(struct pending *p, int j)
{
	p->writes += take_writes(&p->files[j]);
	stats.closed_unseen++;
	if (!delete_if_dead(p->files[j].id, p->files[j].open_ns))
		tombstone_add(&p->files[j]);
	drop_file(p, j);
}

/* Does the process still hold the file open? A file whose last fd was
 * replaced by dup2 or closed at exit never passes close(2). */
static bool still_open(const struct pending *p)
{
	return ct_proc_fds_holds(cfg.proc_root, (pid_t)p->task.pid, p->path, p->ns_path);
}

/*
 * Take the kernel's write counts of its open files now. False if one's
 * entry is gone: closed by close(2) since the tick looked, its close
 * record (carrying the file's writes) not yet drained; the change waits
 * for it. (Checking first and taking later lost the writes of a file
 * closed in between.) What is taken stays the change's either way.
 */
static bool take_open_writes(struct pending *p)
{
	bool all = true;

	for (int j = 0; j < p->n_open; j++) {
		struct open_file *o = &p->files[j];
		struct ct_wfile wf;

		if (!open_entry(o, &wf)) {
			all = false;
			continue;
		}
		if (wf.writes > o->taken) {
			p->writes += wf.writes - o->taken;
			o->taken = wf.writes;
		}
	}
	return all;
}

/* Coalescing is per path and per process (same deploy by construction):
 * two deploys, or two tools, writing one file are two changes. */
static struct pending *pending_find(const char *path, const struct ct_task *t)
{
	uint64_t h = path_hash(path);

	for (int32_t s = path_head[path_bucket(h)]; s; s = pend[s - 1].next) {
		struct pending *p = &pend[s - 1];

		if (same_path(p, h, path) && p->task.pid == t->pid &&
		    p->task.start_ns == t->start_ns &&
		    p->task.attr.deploy_slot == t->attr.deploy_slot)
			return p;
	}
	return NULL;
}

static struct pending *pending_find_file(uint64_t file_id, uint64_t open_ns, int *idx)
{
	for (int32_t r = open_head[open_bucket(file_id, open_ns)]; r; r = refs[r - 1].next) {
		struct pending *p;

		if (refs[r - 1].id != file_id || refs[r - 1].open_ns != open_ns)
			continue;
		p = &pend[refs[r - 1].slot];
		for (int j = 0; j < p->n_open; j++)
			if (p->files[j].id == file_id && p->files[j].open_ns == open_ns) {
				*idx = j;
				return p;
			}
	}
	return NULL;
}

/* Any pending change to this path (whatever deploy) is emitted now:
 * a rename/unlink must follow the writes it ends, never precede them.
 * (The next slot is read first: finalize releases the current one.) */
static void flush_path(struct ct_collector *c, const char *path)
{
	uint64_t h = path_hash(path);

	for (int32_t s = path_head[path_bucket(h)]; s;) {
		struct pending *p = &pend[s - 1];

		s = p->next;
		if (same_path(p, h, path))
			finalize(c, p, false);
	}
}

/*
 * More files in flight than PENDING_SOFT: report one change now. The
 * oldest with no file open (and no reopen folded in the kernel) has all
 * its writes in (only a later reopen is no longer coalesced with it).
 * Else the oldest whose open files the kernel still follows: its writes
 * so far go in its event, later ones are counted (writes_unreported). A
 * change whose close record is still in the ring would lose that record's
 * writes: it is passed over while there is room up to PENDING_MAX (the
 * records come in the same drain). O(changes) per call, as before.
 */
#define ROOM_TRIES 8

static void make_room(struct ct_collector *c)
{
	struct pending *idle = NULL, *oldest[ROOM_TRIES], *out = NULL;
	int n = 0;

	/* one pass: the oldest idle change, and the oldest few others */
	for (int i = 0; i < high_water; i++) {
		struct pending *p = &pend[i];
		int k;

		if (!p->used)
			continue;
		if (!p->n_open && !p->burst) {
			if (!idle || p->first_ns < idle->first_ns)
				idle = p;
			continue;
		}
		if (n == ROOM_TRIES && p->first_ns >= oldest[n - 1]->first_ns)
			continue;
		k = n < ROOM_TRIES ? n++ : n - 1;
		for (; k > 0 && oldest[k - 1]->first_ns > p->first_ns; k--)
			oldest[k] = oldest[k - 1];
		oldest[k] = p;
	}
	out = idle;
	for (int k = 0; !out && k < n; k++)
		if (take_open_writes(oldest[k]))
			out = oldest[k];
	if (!out && n_used < PENDING_MAX)
		return;	/* they all close soon: kept, past the soft limit */
	if (!out)
		out = oldest[0];	/* full: its close record's writes are counted */
	stats.pending_evicted++;
	finalize(c, out, false);
}

static struct pending *pending_new(struct ct_collector *c, const struct ct_file_event *e,
				   const char *path, const char *ns)
{
	struct pending *p;
	int32_t slot;
	uint32_t b;

	if (n_used >= PENDING_SOFT)
		make_room(c);
	if (free_slots) {
		slot = free_slots - 1;
		free_slots = pend[slot].next;
	} else {
		slot = high_water++;
	}
	p = &pend[slot];
	memset(p, 0, sizeof(*p));
	p->path = strdup(path);
	p->ns_path = strdup(ns);
	if (!p->path || !p->ns_path) {
		ct_err("collector: out of memory");
		abort();
	}
	p->used = true;
	if ((uint64_t)++n_used > stats.pending_peak)
		stats.pending_peak = (uint64_t)n_used;
	p->path_hash = path_hash(path);
	b = path_bucket(p->path_hash);
	p->next = path_head[b];
	path_head[b] = slot + 1;
	p->task = e->task;
	p->first_ns = p->last_ns = e->hdr.ts_ns;
	p->sysctl = is_sysctl(path);
	if (p->sysctl)
		sysctl_before(p);
	else
		p->have_before = ct_content_lookup(path, &p->before);
	return p;
}

/* ------------------------------------------------------------ records */

static void on_write_open(struct ct_collector *c, const struct ct_file_event *e)
{
	char host[PATH_MAX], ns[PATH_MAX];
	struct pending *p;

	if (!host_path(e, 0, host, ns))
		return;
	p = pending_find(host, &e->task);
	/* coalescing goes by the kernel's clock, not by when the collector
	 * got to the record: a change that had settled is its own event.
	 * Opens folded in the kernel only move last_ns later, so they are
	 * read (a syscall) only when the change looks settled without them. */
	if (p && !p->n_open && e->hdr.ts_ns > p->last_ns + cfg.settle_ns) {
		burst_take(p, false);
		if (e->hdr.ts_ns > p->last_ns + cfg.settle_ns) {
			finalize(c, p, false);
			p = NULL;
		}
	}
	if (!p) {
		/* another process's change to this file ends here */
		flush_path(c, host);
		p = pending_new(c, e, host, ns);
	}
	p->have_after = false;
	p->opens += e->op == CT_FOP_WRITE;
	p->flags |= e->flags & (CT_FF_CREAT | CT_FF_TRUNC);
	if (e->op == CT_FOP_TRUNCATE)
		p->truncate_op = true;
	p->last_ns = e->hdr.ts_ns;
	if (e->ino) {
		p->ino = e->ino;
		p->dev = e->dev;
	}
	if (e->op == CT_FOP_WRITE && e->file_id) {
		/* from the first open: the writer's reopens fold once it
		 * has closed the file (the kernel needs a close to time a
		 * burst by), not only after the collector saw that close */
		burst_follow(p, 0);
		if (p->n_open == OPEN_IDS) {
			/* many opens without close(2) (dup2 over the fd, as
			 * shells do for >>): the oldest is likely gone; keep
			 * its count and follow the new one */
			harvest(p, 0);
		}
		p->files[p->n_open] = (struct open_file){ .id = e->file_id,
							 .open_ns = e->file_open_ns };
		ref_add(slot_of(p), &p->files[p->n_open++]);
	}
}

static void on_close(struct ct_collector *c, const struct ct_file_event *e)
{
	int j;
	struct pending *p = pending_find_file(e->file_id, e->file_open_ns, &j);

	if (!p) {
		/* reported already (quiet too long, or early to make room) and
		 * forgotten: writes since then are in no event; counted */
		struct open_file *t = tombstone_of(e->file_id, e->file_open_ns);

		if (t->id == e->file_id && t->open_ns == e->file_open_ns) {
			if (e->writes > t->taken)
				stats.writes_unreported += e->writes - t->taken;
			t->id = 0;
		}
		return;
	}
	if (e->writes > p->files[j].taken)
		p->writes += e->writes - p->files[j].taken;
	drop_file(p, j);
	p->last_ns = e->hdr.ts_ns;
	/* the content as this writer left it: the next step (a rename over
	 * it, another tool) may replace it before the change settles */
	if (!p->n_open) {
		uint32_t folded = p->burst_opens;

		burst_follow(p, e->hdr.ts_ns);
		burst_take(p, false);
		/* reopened since (folded in the kernel): a burst too */
		if (p->burst_opens != folded ||
		    (p->close_ns && e->hdr.ts_ns - p->close_ns < BURST_NS)) {
			p->have_after = false;
		} else {
			if (p->sysctl)
				sysctl_take(p, &p->after);
			else
				snapshot(p->path, &p->task, p->ino, e->hdr.ts_ns + c->wall_offset,
					 &p->after);
			p->have_after = true;
		}
	}
	p->close_ns = e->hdr.ts_ns;
}

static void on_rename(struct ct_collector *c, const struct ct_file_event *e)
{
	char to[PATH_MAX], to_ns[PATH_MAX], from[PATH_MAX], from_ns[PATH_MAX];
	bool have_to = host_path(e, 0, to, to_ns);
	bool have_from = host_path(e, 1, from, from_ns);
	struct ct_file_state after, other;
	const struct ct_file_state *b;
	struct ct_file_state before = {};
	uint32_t writes = 0;
	struct stat st;

	if (!have_to && !have_from)
		return;
	if (!have_to) {
		/* moved out of the watched tree: the path we know goes away */
		if (!raw_path(e, 0, to, sizeof(to)))
			ct_strlcpy(to, "?", sizeof(to));
		to_ns[0] = '\0';
	}
	if (!have_from && !raw_path(e, 1, from, sizeof(from)))
		ct_strlcpy(from, "?", sizeof(from));
	/* the temp file's writes belong to this change */
	uint64_t from_hash = have_from ? path_hash(from) : 0;

	for (int32_t s = have_from ? path_head[path_bucket(from_hash)] : 0; s;) {
		struct pending *p = &pend[s - 1];

		s = p->next;	/* before p is released */
		if (!same_path(p, from_hash, from))
			continue;
		if (e->hdr.ts_ns > p->last_ns + cfg.settle_ns) {
			finalize(c, p, false);	/* settled before: not a temp file */
			continue;
		}
		burst_take(p, true);
		writes += p->writes;
		for (int k = 0; k < p->n_open; k++)
			writes += take_writes(&p->files[k]);
		stats.coalesced += p->opens;
		pending_release(p);
	}
	if (have_to)
		flush_path(c, to);
	b = ct_content_lookup(to, &before) ? &before : NULL;
	if (lstat(to, &st) == 0 && S_ISDIR(st.st_mode)) {
		memset(&after, 0, sizeof(after));
		after.exists = true;
		ct_content_rename(from, to);
		emit(c, &e->task, e->hdr.ts_ns, CT_FOP_RENAME, to, from, to_ns, 0, 0, NULL, NULL,
		     writes, NULL, NULL);
		return;
	}
	/* rename sets the moved file's ctime: a later one means it changed again */
	snapshot(to, &e->task, 0, e->hdr.ts_ns + c->wall_offset, &after);
	emit(c, &e->task, e->hdr.ts_ns, CT_FOP_RENAME, to, from, to_ns, 0, 0,
	     b ? &before : NULL, &after, writes, NULL, NULL);
	if (e->flags & CT_FF_EXCHANGE) {
		snapshot(from, &e->task, 0, 0, &other);
		ct_content_put(from, &other);
	} else {
		ct_content_forget(from);
	}
	if (have_to && after.exists)
		ct_content_put(to, &after);
	else
		ct_content_forget(to);
}

static void on_path_op(struct ct_collector *c, const struct ct_file_event *e)
{
	char path[PATH_MAX], ns[PATH_MAX], other[PATH_MAX], other_ns[PATH_MAX];
	const struct ct_file_state *b;
	struct ct_file_state before, after;
	const char *old = NULL;

	if (e->op == CT_FOP_LINK) {
		bool to = host_path(e, 0, path, ns);
		bool from = host_path(e, 1, other, other_ns);

		if (!to && !from)
			return;
		if (!to && !raw_path(e, 0, path, sizeof(path)))
			return;
		if (!from && !raw_path(e, 1, other, sizeof(other)))
			ct_strlcpy(other, "?", sizeof(other));
		emit(c, &e->task, e->hdr.ts_ns, e->op, path, other, to ? ns : NULL, 0, 0, NULL,
		     NULL, 0, NULL, NULL);
		return;
	}
	if (!host_path(e, 0, path, ns))
		return;
	switch (e->op) {
	case CT_FOP_UNLINK:
	case CT_FOP_RMDIR:
		flush_path(c, path);
		b = ct_content_lookup(path, &before) ? &before : NULL;
		emit(c, &e->task, e->hdr.ts_ns, e->op, path, NULL, ns, 0, 0, b,
		     NULL, 0, NULL, NULL);
		if (e->op == CT_FOP_UNLINK)
			ct_content_forget(path);
		return;
	case CT_FOP_SYMLINK:
		/* path1 is the link's target, as given */
		if (record_path(e, 1, other, sizeof(other)))
			old = other;
		emit(c, &e->task, e->hdr.ts_ns, e->op, path, old, ns, 0, 0, NULL, NULL, 0, NULL, NULL);
		return;
	case CT_FOP_TRUNCATE:
		on_write_open(c, e);
		return;
	default: { /* chmod, chown, setxattr, mkdir: metadata; content unchanged */
		/* on a file being written (sed -i, install, cp -p set the
		 * owner and mode of their temp file): part of that change */
		uint64_t h = path_hash(path);

		for (int32_t s = e->op != CT_FOP_MKDIR ? path_head[path_bucket(h)] : 0; s;) {
			struct pending *p = &pend[s - 1];

			s = p->next;	/* before p is released */
			if (!same_path(p, h, path))
				continue;
			if (e->hdr.ts_ns <= p->last_ns + cfg.settle_ns) {
				p->last_ns = e->hdr.ts_ns;
				stats.coalesced++;
				return;
			}
			finalize(c, p, false);	/* its own, earlier change */
		}
		b = ct_content_lookup(path, &before) ? &before : NULL;
		after = before;
		emit(c, &e->task, e->hdr.ts_ns, e->op, path, NULL, ns, e->ino, e->dev,
		     b ? &before : NULL, b ? &after : NULL, 0, e->xattr, NULL);
		return;
	}
	}
}

int ct_file_from_record(struct ct_collector *c, const void *data, size_t len)
{
	const struct ct_file_event *e = data;
	size_t need = offsetof(struct ct_file_event, paths);

	if (len < need || e->path0_len > CT_FILE_PATH_MAX || e->path1_len > CT_FILE_PATH_MAX ||
	    need + e->path0_len + e->path1_len > len) {
		stats.malformed++;
		return -1;
	}
	stats.records++;
	switch (e->op) {
	case CT_FOP_WRITE:
		on_write_open(c, e);
		break;
	case CT_FOP_CLOSE:
		on_close(c, e);
		break;
	case CT_FOP_RENAME:
		on_rename(c, e);
		break;
	case CT_FOP_TRUNCATE:
	case CT_FOP_UNLINK: case CT_FOP_RMDIR: case CT_FOP_LINK: case CT_FOP_SYMLINK:
	case CT_FOP_CHMOD: case CT_FOP_CHOWN: case CT_FOP_SETXATTR: case CT_FOP_MKDIR:
		on_path_op(c, e);
		break;
	default:
		stats.malformed++;
		return -1;
	}
	return 1;
}

#define SWEEP_NS   (30ull * 1000000000)
#define SWEEP_KEYS 16384

/*
 * ct_wfds entries whose process is gone (an fd closed at exit never passes
 * close(2)). A live process's entry left by a dup2 over its fd is replaced
 * by the fd's next watched open. Each is read again before its delete: the
 * pid may have been reused by a process that opened a watched file since.
 */
static void sweep_wfds(void)
{
	static struct { struct ct_wfd_key key; uint64_t open_ns; } dead[SWEEP_KEYS];
	struct ct_wfd_key key, next;
	struct ct_wfd fd;
	size_t n = 0, seen = 0;
	bool first = true;

	if (cfg.wfds_fd <= 0)
		return;
	while (seen++ < SWEEP_KEYS && n < SWEEP_KEYS &&
	       !bpf_map_get_next_key(cfg.wfds_fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(cfg.wfds_fd, &key, &fd))
			continue;
		if (kill((pid_t)key.tgid, 0) < 0 && errno == ESRCH) {
			dead[n].key = key;
			dead[n++].open_ns = fd.open_ns;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!bpf_map_lookup_elem(cfg.wfds_fd, &dead[i].key, &fd) &&
		    fd.open_ns == dead[i].open_ns &&
		    kill((pid_t)dead[i].key.tgid, 0) < 0 && errno == ESRCH &&
		    bpf_map_delete_elem(cfg.wfds_fd, &dead[i].key) == 0)
			stats.fds_swept++;
}

/*
 * ct_wfiles entries whose process is gone: a file closed at exit (or under
 * a dup2) never passes close(2), and the map is a plain hash. Every
 * SWEEP_NS, a pass over at most the map's size; keys first, deletes
 * after, since a deleted key restarts the kernel's iteration (and each is
 * read again before its delete, see delete_if_dead).
 */
static void sweep_wfiles(uint64_t now)
{
	static uint64_t last_sweep;
	static struct { uint64_t key, open_ns; } dead[SWEEP_KEYS];
	uint64_t key, next;
	size_t n = 0, seen = 0;
	struct ct_wfile wf;
	bool first = true;

	if (cfg.wfiles_fd <= 0 || now - last_sweep < SWEEP_NS)
		return;
	last_sweep = now;
	sweep_wfds();
	while (seen++ < SWEEP_KEYS && n < SWEEP_KEYS &&
	       !bpf_map_get_next_key(cfg.wfiles_fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(cfg.wfiles_fd, &key, &wf))
			continue;
		if (kill((pid_t)wf.tgid, 0) < 0 && errno == ESRCH) {
			dead[n].key = key;
			dead[n++].open_ns = wf.open_ns;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (delete_if_dead(dead[i].key, dead[i].open_ns))
			stats.swept++;
}

size_t ct_file_tick(struct ct_collector *c, uint64_t now, int all)
{
	size_t left = 0;

	if (!all)
		sweep_wfiles(now);
	ct_proc_fds_forget();

	for (int i = 0; i < high_water; i++) {
		struct pending *p = &pend[i];
		bool burst_open = false, close_coming = false;
		uint64_t last;

		if (!p->used)
			continue;
		/* a record within the settle time: nothing can end the change
		 * yet, and the kernel's view (a syscall per file and burst)
		 * matters only once its records went quiet */
		if (!all && now <= p->last_ns + cfg.settle_ns && now <= p->first_ns + cfg.max_age_ns) {
			left++;
			continue;
		}
		if (p->burst)
			burst_open = burst_take(p, false).open_now > 0;
		last = p->last_ns;
		/* files still open: their last write, from the kernel */
		for (int j = 0; j < p->n_open; j++) {
			struct open_file *o = &p->files[j];
			struct ct_wfile wf;

			if (!open_entry(o, &wf)) {
				/*
				 * The probe deletes the entry right after it
				 * submits the close record, which the next drain
				 * to the ring's end brings (a drain can stop on
				 * its deadline under load): a file still here
				 * after such a drain went without one (closed at
				 * exit, or never tracked): it is closed.
				 */
				if (!o->missing_at)
					o->missing_at = c->change_ring_emptied + 1;
				if (c->change_ring_emptied < o->missing_at) {
					close_coming = true;
					continue;
				}
				drop_file(p, j--);
				continue;
			}
			o->missing_at = 0;
			if (wf.last_write_ns > last)
				last = wf.last_write_ns;
		}
		if ((p->n_open || burst_open) && now > last + cfg.settle_ns &&
		    !still_open(p) && take_open_writes(p)) {
			/* closed at exit or through another fd: done */
			while (p->n_open)
				harvest(p, p->n_open - 1);
			if (burst_open)
				stats.closed_unseen++;	/* a folded open with no close(2) seen */
			burst_take(p, true);
			burst_open = false;
			if (p->sysctl)
				sysctl_take(p, &p->after);
			else
				snapshot(p->path, &p->task, p->ino, 0, &p->after);
			p->have_after = true;
		}
		/* quiet too long, unless a close record with its writes is
		 * still in the ring (the collector is behind, not the file) */
		if (all || (!p->n_open && !burst_open && now > last + cfg.settle_ns) ||
		    (now > last + cfg.max_quiet_ns && !close_coming)) {
			finalize(c, p, false);
		} else if (now > p->first_ns + cfg.max_age_ns) {
			p->last_ns = last;
			finalize(c, p, true);	/* a long writer: report, keep following */
			left++;
		} else {
			left++;
		}
	}
	return left;
}

static const struct ct_counter_def ct_file_counters_defs[] = {
	CT_COUNTER("file_records", struct ct_file_stats, records),
	CT_COUNTER("file_changes", struct ct_file_stats, changes),
	CT_COUNTER("file_coalesced", struct ct_file_stats, coalesced),
	CT_COUNTER("file_pending", struct ct_file_stats, pending),
	CT_COUNTER("file_pending_evicted", struct ct_file_stats, pending_evicted),
	CT_COUNTER("file_pending_peak", struct ct_file_stats, pending_peak),
	CT_COUNTER("file_writes_unreported", struct ct_file_stats, writes_unreported),
	CT_COUNTER("file_not_watched", struct ct_file_stats, not_watched),
	CT_COUNTER("file_unresolved", struct ct_file_stats, unresolved),
	CT_COUNTER("file_malformed", struct ct_file_stats, malformed),
	CT_COUNTER("file_digest_raced", struct ct_file_stats, raced),
	CT_COUNTER("file_track_swept", struct ct_file_stats, swept),
	CT_COUNTER("file_fds_swept", struct ct_file_stats, fds_swept),
	CT_COUNTER("file_closed_unseen", struct ct_file_stats, closed_unseen),
	CT_COUNTER("file_sysctl_unread", struct ct_file_stats, sysctl_unread),
};
const struct ct_counter_table ct_file_counters = CT_COUNTER_TABLE(ct_file_counters_defs);
