/* Config-change records -> FILE events, with coalescing. See event_file.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event_file.h"
#include "event_net.h"
#include "file_collector.h"
#include "file_content.h"
#include "file_paths.h"
#include "file_pending.h"
#include "file_sweep.h"
#include "file_sysctl.h"
#include "proc_fds.h"
#include "sysctl_values.h"
#include "lib/util.h"

/* The event being built: the strings it points to live here. */
struct file_out {
	struct ct_event_buf eb;
	PbFileChange fc;
	char path[PATH_MAX], old[PATH_MAX], ns[PATH_MAX];
	char sha_b[CT_SHA256_HEX], sha_a[CT_SHA256_HEX], xattr[65];
	char sc_name[PATH_MAX], sc_before[CT_SYSCTL_VALUE_MAX + 1];
	char sc_after[CT_SYSCTL_VALUE_MAX + 1], sc_netns[64];
};

struct ct_file_collector *ct_file_new(const struct ct_file_cfg *cfg)
{
	struct ct_file_collector *f = calloc(1, sizeof(*f));

	if (f)
		f->out = calloc(1, sizeof(*f->out));
	if (!f || !f->out) {
		ct_err("collector: out of memory for the file collector");
		abort();
	}
	f->cfg = *cfg;
	if (!f->cfg.proc_root)
		f->cfg.proc_root = "/proc";
	f->paths = (struct file_paths){ .watches = f->cfg.watches, .proc_root = f->cfg.proc_root,
					.host_mnt_ns = f->cfg.host_mnt_ns };
	if (cfg->maps) {
		f->maps = *cfg->maps;
	} else {
		f->map_fds = (struct ct_file_map_fds){ .wfiles = cfg->wfiles_fd, .wfds = cfg->wfds_fd,
						       .wbursts = cfg->wbursts_fd };
		ct_file_kmaps_bpf(&f->maps, &f->map_fds);
	}
	f->cfg.maps = NULL;
	pending_table_init(&f->table);
	file_sweep_init(&f->sweep);
	return f;
}

void ct_file_free(struct ct_file_collector *f)
{
	if (!f)
		return;
	pending_table_free(&f->table);
	file_sweep_free(&f->sweep);
	free(f->out);
	free(f);
}

void ct_file_get_stats(const struct ct_file_collector *f, struct ct_file_stats *st)
{
	*st = f->stats;
	st->pending = f->table.n_used;
}

static bool is_sysctl(const char *p)
{
	return ct_sysctl_is(p);
}

/* ------------------------------------------------------------ paths */

bool file_event_path(struct ct_file_collector *f, const struct ct_file_event *e, int which,
		     char *host, char *ns, struct file_path_note *note)
{
	switch (file_host_path(&f->paths, e, which, host, ns, note)) {
	case FILE_PATH_OK:
		if (f->cfg.path_seen)
			f->cfg.path_seen(host);
		return true;
	case FILE_PATH_NOT_WATCHED:
		f->stats.not_watched++;
		return false;
	case FILE_PATH_UNRESOLVED:
		f->stats.unresolved++;
		return false;
	default:
		return false;
	}
}

/* ------------------------------------------------------------ emit */

void file_emit(struct ct_file_collector *fc, struct ct_collector *c, const struct file_emit *x)
{
	struct file_out *out = fc->out;
	struct ct_event_buf *b = &out->eb;
	PbFileChange *f = &out->fc;
	struct stat st;

	ct_event_envelope(c, b, &b->ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE, x->ts);
	ct_event_fill_task(c, b, x->task);
	*f = (PbFileChange)CHANGETRACE__V1__FILE_CHANGE__INIT;
	f->op = x->op;
	ct_strlcpy(out->path, x->path, sizeof(out->path));
	f->path = out->path;
	if (x->old) {
		ct_strlcpy(out->old, x->old, sizeof(out->old));
		f->old_path = out->old;
	}
	if (x->ns && *x->ns) {
		ct_strlcpy(out->ns, x->ns, sizeof(out->ns));
		f->ns_path = out->ns;
	}
	/* mode, owner and mtime as found: the last known state follows
	 * the events (store/last_state.c), a kill loses none of it */
	if (lstat(x->path, &st) == 0) {
		f->inode = st.st_ino;
		f->dev = st.st_dev;
		f->mode = st.st_mode;
		f->uid = st.st_uid;
		f->gid = st.st_gid;
		f->mtime_unix_nano = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + st.st_mtim.tv_nsec;
	} else {
		f->inode = x->ino;
		f->dev = x->dev;
	}
	if (x->before && x->before->exists) {
		ct_strlcpy(out->sha_b, x->before->sha256, sizeof(out->sha_b));
		f->sha256_before = out->sha_b;
		f->size_before = x->before->size;
	}
	if (x->after && x->after->exists) {
		ct_strlcpy(out->sha_a, x->after->sha256, sizeof(out->sha_a));
		f->sha256_after = out->sha_a;
		f->size_after = x->after->size;
	}
	/* diff works when every version that exists was kept */
	f->content_kept = (x->after && x->after->kept) &&
			  (!x->before || !x->before->exists || x->before->kept);
	f->writes = x->writes;
	f->path_truncated = x->path_truncated;
	f->old_path_truncated = x->old && x->old_path_truncated;
	f->path_source = (Changetrace__V1__FilePathSource)x->path_source;
	if (f->path_truncated || f->old_path_truncated)
		fc->stats.paths_truncated++;
	if (x->path_source == FILE_PATH_PROC_FD)
		fc->stats.paths_completed++;
	if (x->xattr && *x->xattr) {
		ct_strlcpy(out->xattr, x->xattr, sizeof(out->xattr));
		f->xattr_name = out->xattr;
	}
	if (x->sysctl) {
		const struct file_sysctl_values *sc = x->sysctl;

		/* the values themselves: a sysctl is a few bytes */
		ct_sysctl_name(x->path, out->sc_name, sizeof(out->sc_name));
		f->sysctl_name = out->sc_name;
		out->sc_before[0] = out->sc_after[0] = out->sc_netns[0] = '\0';
		if (sc->before && x->before && x->before->exists)
			ct_sysctl_value(sc->before, sc->before_len, out->sc_before,
					sizeof(out->sc_before));
		if (sc->after)
			ct_sysctl_value(sc->after, sc->after_len, out->sc_after,
					sizeof(out->sc_after));
		f->sysctl_before = out->sc_before;
		f->sysctl_after = out->sc_after;
		f->sysctl_after_source = sc->after ? sc->source : 0;
		if (ct_sysctl_per_netns(x->path)) {
			ct_net_netns_name(sc->netns, sc->pid, out->sc_netns, sizeof(out->sc_netns));
			f->sysctl_netns = out->sc_netns;
		}
	}
	b->ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_FILE;
	b->ev.file = f;
	fc->stats.changes++;
	ct_sink_emit(&c->sink, &b->ev);
}

/* The file's content now, unless the path names another file by now (ino
 * given: the written inode was replaced, e.g. renamed over, before the
 * collector read it): then the digest is unknown rather than wrong.
 * Sysctls are not read here (file_sysctl.c: in their namespace). */
#define RACE_SLACK_NS (10ull * 1000000)	/* ctime is kept at a coarse clock */

static void snapshot(struct ct_file_collector *f, const char *path, const struct ct_task *t,
		     uint64_t ino, uint64_t not_after_wall, struct ct_file_state *st)
{
	ct_content_snapshot(path, st);
	/* replaced (another inode), or changed again after the writer we
	 * report closed it (the collector lagged): unknown, not wrong */
	if (!is_sysctl(path) && ((ino && st->ino && st->ino != ino) ||
	    (not_after_wall && st->ctime_ns > not_after_wall + RACE_SLACK_NS))) {
		memset(st, 0, sizeof(*st));
		st->exists = true;
		f->stats.raced++;
	}
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
static void burst_follow(struct ct_file_collector *f, struct pending *p, uint64_t close_ns)
{
	struct ct_wburst_key k;
	struct ct_wburst b = { .last_close_ns = close_ns, .last_ns = close_ns };

	/* a sysctl's writes are events of their own: none is folded */
	if (p->burst || !p->ino || p->sysctl)
		return;
	burst_key(p, &k);
	/* taken: another change owns it (a hard link to the same file) */
	if (!f->maps.burst_create(f->maps.ctx, &k, &b)) {
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
static struct ct_wburst burst_take(struct ct_file_collector *f, struct pending *p, bool done)
{
	struct ct_wburst_key k;
	struct ct_wburst b;
	int err;

	memset(&b, 0, sizeof(b));
	if (!p->burst)
		return b;
	burst_key(p, &k);
	err = done ? f->maps.burst_take(f->maps.ctx, &k, &b)
		   : f->maps.burst_get(f->maps.ctx, &k, &b);
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
static bool open_entry(struct ct_file_collector *f, const struct open_file *o, struct ct_wfile *wf)
{
	return !f->maps.wfile_get(f->maps.ctx, o->id, wf) && wf->open_ns == o->open_ns;
}

/* Writes of an open file counted by the kernel since the last take. */
static uint32_t take_writes(struct ct_file_collector *f, struct open_file *o)
{
	struct ct_wfile wf;
	uint32_t n = 0;

	if (open_entry(f, o, &wf) && wf.writes > o->taken) {
		n = wf.writes - o->taken;
		o->taken = wf.writes;
	}
	return n;
}

/* ------------------------------------------------------------ changes */

static void finalize(struct ct_file_collector *f, struct ct_collector *c, struct pending *p,
		     bool keep_open)
{
	struct ct_file_state after;
	const struct ct_file_state *before = p->have_before ? &p->before : NULL;
	int op;

	burst_take(f, p, !keep_open);
	/* writes counted in the kernel for files still open */
	for (int i = 0; i < p->n_open; i++)
		p->writes += take_writes(f, &p->files[i]);
	if (p->sysctl) {
		/* its writes were events of their own; what they left out */
		file_sysctl_settle(f, c, p);
		goto done;
	}
	if (p->have_after && !p->n_open)
		after = p->after;
	else
		snapshot(f, p->path, &p->task, p->ino, 0, &after);
	if ((!before || !before->exists) && after.exists)
		op = CT_FOP_CREATE;
	else if (p->truncate_op)
		op = CT_FOP_TRUNCATE;
	else
		op = CT_FOP_WRITE;
	if (p->opens + (p->truncate_op ? 1 : 0) > 1)
		f->stats.coalesced += p->opens - 1;
	file_emit(f, c, &(struct file_emit){
		.task = &p->task, .ts = p->first_ns, .op = op, .path = p->path, .ns = p->ns_path,
		.ino = p->ino, .dev = p->dev, .before = before, .after = &after,
		.writes = p->writes,
		.path_truncated = p->path_truncated, .path_source = p->path_source,
	});
	/* the next change's "before"; an unknown digest is not a state to
	 * compare against */
	if (after.exists && after.sha256[0])
		ct_content_put(p->path, &after);
	else
		ct_content_forget(p->path);
	if (keep_open) {
		p->before = after;
		p->have_before = true;
	}
done:
	if (keep_open) {
		p->writes = 0;
		p->opens = 0;
		p->flags = 0;
		p->truncate_op = false;
		p->have_after = false;
		p->first_ns = p->last_ns;
		return;
	}
	pending_release(&f->table, p);
}

/* Keep the kernel's write count of open file j and forget the file. Its
 * entry goes now if its process exited; else (closed under a dup2) the
 * address's next open replaces it, or the sweep takes it at exit. */
static void harvest(struct ct_file_collector *f, struct pending *p, int j)
{
	p->writes += take_writes(f, &p->files[j]);
	f->stats.closed_unseen++;
	if (!file_delete_if_dead(&f->maps, p->files[j].id, p->files[j].open_ns))
		pending_tombstone_add(&f->table, &p->files[j]);
	pending_drop_file(&f->table, p, j);
}

/* Does the process still hold the file open? A file whose last fd was
 * replaced by dup2 or closed at exit never passes close(2). */
static bool still_open(struct ct_file_collector *f, const struct pending *p)
{
	return ct_proc_fds_holds(f->cfg.proc_root, (pid_t)p->task.pid, p->path, p->ns_path);
}

/*
 * Take the kernel's write counts of its open files now. False if one's
 * entry is gone: closed by close(2) since the tick looked, its close
 * record (carrying the file's writes) not yet drained; the change waits
 * for it. (Checking first and taking later lost the writes of a file
 * closed in between.) What is taken stays the change's either way.
 */
static bool take_open_writes(struct ct_file_collector *f, struct pending *p)
{
	bool all = true;

	for (int j = 0; j < p->n_open; j++) {
		struct open_file *o = &p->files[j];
		struct ct_wfile wf;

		if (!open_entry(f, o, &wf)) {
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

/* Any pending change to this path (whatever deploy) is emitted now:
 * a rename/unlink must follow the writes it ends, never precede them.
 * (The next one is read first: finalize releases the current one.) */
static void flush_path(struct ct_file_collector *f, struct ct_collector *c, const char *path)
{
	uint64_t h = pending_path_hash(path);

	for (struct pending *p = pending_path_next(&f->table, NULL, h, path), *next; p; p = next) {
		next = pending_path_next(&f->table, p, h, path);
		finalize(f, c, p, false);
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

static void make_room(struct ct_file_collector *f, struct ct_collector *c)
{
	struct pending *idle = NULL, *oldest[ROOM_TRIES], *out = NULL;
	int n = 0;

	/* one pass: the oldest idle change, and the oldest few others */
	for (int i = 0; i < f->table.high_water; i++) {
		struct pending *p = &f->table.pend[i];
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
		if (take_open_writes(f, oldest[k]))
			out = oldest[k];
	if (!out && f->table.n_used < PENDING_MAX)
		return;	/* they all close soon: kept, past the soft limit */
	if (!out)
		out = oldest[0];	/* full: its close record's writes are counted */
	f->stats.pending_evicted++;
	finalize(f, c, out, false);
}

static struct pending *pending_new(struct ct_file_collector *f, struct ct_collector *c,
				   const struct ct_file_event *e, const char *path, const char *ns)
{
	struct pending *p;

	if (f->table.n_used >= PENDING_SOFT)
		make_room(f, c);
	p = pending_add(&f->table, path, ns);
	if ((uint64_t)f->table.n_used > f->stats.pending_peak)
		f->stats.pending_peak = (uint64_t)f->table.n_used;
	p->task = e->task;
	p->first_ns = p->last_ns = e->hdr.ts_ns;
	p->sysctl = is_sysctl(path);
	if (!p->sysctl)	/* a sysctl's is its namespace's value at each write */
		p->have_before = ct_content_lookup(path, &p->before);
	return p;
}

/* ------------------------------------------------------------ records */

static void on_write_open(struct ct_file_collector *f, struct ct_collector *c,
			  const struct ct_file_event *e)
{
	char host[PATH_MAX], ns[PATH_MAX];
	struct file_path_note note;
	struct pending *p;

	if (!file_event_path(f, e, 0, host, ns, &note))
		return;
	p = pending_find(&f->table, host, &e->task);
	/* coalescing goes by the kernel's clock, not by when the collector
	 * got to the record: a change that had settled is its own event.
	 * Opens folded in the kernel only move last_ns later, so they are
	 * read (a syscall) only when the change looks settled without them. */
	if (p && !p->n_open && e->hdr.ts_ns > p->last_ns + f->cfg.settle_ns) {
		burst_take(f, p, false);
		if (e->hdr.ts_ns > p->last_ns + f->cfg.settle_ns) {
			finalize(f, c, p, false);
			p = NULL;
		}
	}
	if (!p) {
		/* another process's change to this file ends here */
		flush_path(f, c, host);
		p = pending_new(f, c, e, host, ns);
		p->path_truncated = note.truncated;
		p->path_source = note.source;
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
	if (e->value_netns) {
		p->sc_netns = e->value_netns;
		p->sc_cookie = e->value_netns_cookie;
	}
	if (e->op == CT_FOP_WRITE && e->file_id) {
		/* from the first open: the writer's reopens fold once it
		 * has closed the file (the kernel needs a close to time a
		 * burst by), not only after the collector saw that close */
		burst_follow(f, p, 0);
		if (p->n_open == OPEN_IDS) {
			/* many opens without close(2) (dup2 over the fd, as
			 * shells do for >>): the oldest is likely gone; keep
			 * its count and follow the new one */
			harvest(f, p, 0);
		}
		pending_add_file(&f->table, p, &(struct open_file){ .id = e->file_id,
								    .open_ns = e->file_open_ns });
	}
}

static void on_close(struct ct_file_collector *f, struct ct_collector *c,
		     const struct ct_file_event *e)
{
	int j;
	struct pending *p = pending_find_file(&f->table, e->file_id, e->file_open_ns, &j);

	if (!p) {
		/* reported already (quiet too long, or early to make room) and
		 * forgotten: writes since then are in no event; counted */
		struct open_file *t = pending_tombstone_of(&f->table, e->file_id, e->file_open_ns);

		if (t->id == e->file_id && t->open_ns == e->file_open_ns) {
			if (e->writes > t->taken)
				f->stats.writes_unreported += e->writes - t->taken;
			t->id = 0;
		}
		return;
	}
	if (e->writes > p->files[j].taken)
		p->writes += e->writes - p->files[j].taken;
	pending_drop_file(&f->table, p, j);
	p->last_ns = e->hdr.ts_ns;
	/* the content as this writer left it: the next step (a rename over
	 * it, another tool) may replace it before the change settles */
	if (!p->n_open) {
		uint32_t folded = p->burst_opens;

		burst_follow(f, p, e->hdr.ts_ns);
		burst_take(f, p, false);
		/* reopened since (folded in the kernel), or closed again
		 * within a burst's window: the intermediate content of a
		 * rewrite loop is not kept, it is read when it settles */
		if (p->sysctl) {
			;	/* its values came with its writes (file_sysctl.c) */
		} else if (p->burst_opens != folded ||
			   (p->close_ns && e->hdr.ts_ns - p->close_ns < CT_BURST_NS)) {
			p->have_after = false;
		} else {
			snapshot(f, p->path, &p->task, p->ino, e->hdr.ts_ns + c->wall_offset,
				 &p->after);
			p->have_after = true;
		}
	}
	p->close_ns = e->hdr.ts_ns;
}

static void on_rename(struct ct_file_collector *f, struct ct_collector *c,
		      const struct ct_file_event *e)
{
	char to[PATH_MAX], to_ns[PATH_MAX], from[PATH_MAX], from_ns[PATH_MAX];
	struct file_path_note to_note = {}, from_note = {};
	bool have_to = file_event_path(f, e, 0, to, to_ns, &to_note);
	bool have_from = file_event_path(f, e, 1, from, from_ns, &from_note);
	struct ct_file_state after, other;
	const struct ct_file_state *b;
	struct ct_file_state before = {};
	uint32_t writes = 0;
	struct stat st;

	if (!have_to && !have_from)
		return;
	if (!have_to) {
		/* moved out of the watched tree: the path we know goes away */
		if (!file_raw_path(&f->paths, e, 0, to, sizeof(to)))
			ct_strlcpy(to, "?", sizeof(to));
		to_ns[0] = '\0';
	}
	if (!have_from && !file_raw_path(&f->paths, e, 1, from, sizeof(from)))
		ct_strlcpy(from, "?", sizeof(from));
	/* the temp file's writes belong to this change */
	uint64_t from_hash = have_from ? pending_path_hash(from) : 0;

	for (struct pending *p = have_from ? pending_path_next(&f->table, NULL, from_hash, from) : NULL,
			    *next; p; p = next) {
		next = pending_path_next(&f->table, p, from_hash, from);	/* before p is released */
		if (e->hdr.ts_ns > p->last_ns + f->cfg.settle_ns) {
			finalize(f, c, p, false);	/* settled before: not a temp file */
			continue;
		}
		burst_take(f, p, true);
		writes += p->writes;
		for (int k = 0; k < p->n_open; k++)
			writes += take_writes(f, &p->files[k]);
		f->stats.coalesced += p->opens;
		pending_release(&f->table, p);
	}
	if (have_to)
		flush_path(f, c, to);
	b = ct_content_lookup(to, &before) ? &before : NULL;
	if (lstat(to, &st) == 0 && S_ISDIR(st.st_mode)) {
		memset(&after, 0, sizeof(after));
		after.exists = true;
		ct_content_rename(from, to);
		file_emit(f, c, &(struct file_emit){
			.task = &e->task, .ts = e->hdr.ts_ns, .op = CT_FOP_RENAME, .path = to,
			.old = from, .ns = to_ns, .writes = writes,
			.path_truncated = to_note.truncated, .old_path_truncated = from_note.truncated,
			.path_source = to_note.source,
		});
		return;
	}
	/* rename sets the moved file's ctime: a later one means it changed again */
	snapshot(f, to, &e->task, 0, e->hdr.ts_ns + c->wall_offset, &after);
	file_emit(f, c, &(struct file_emit){
		.task = &e->task, .ts = e->hdr.ts_ns, .op = CT_FOP_RENAME, .path = to, .old = from,
		.ns = to_ns, .before = b ? &before : NULL, .after = &after, .writes = writes,
		.path_truncated = to_note.truncated, .old_path_truncated = from_note.truncated,
		.path_source = to_note.source,
	});
	if (e->flags & CT_FF_EXCHANGE) {
		snapshot(f, from, &e->task, 0, 0, &other);
		ct_content_put(from, &other);
	} else {
		ct_content_forget(from);
	}
	if (have_to && after.exists)
		ct_content_put(to, &after);
	else
		ct_content_forget(to);
}

static void on_path_op(struct ct_file_collector *f, struct ct_collector *c,
		       const struct ct_file_event *e)
{
	char path[PATH_MAX], ns[PATH_MAX], other[PATH_MAX], other_ns[PATH_MAX];
	struct file_path_note note = {}, other_note = {};
	const struct ct_file_state *b;
	struct ct_file_state before, after;
	const char *old = NULL;

	if (e->op == CT_FOP_LINK) {
		bool to = file_event_path(f, e, 0, path, ns, &note);
		bool from = file_event_path(f, e, 1, other, other_ns, &other_note);

		if (!to && !from)
			return;
		if (!to && !file_raw_path(&f->paths, e, 0, path, sizeof(path)))
			return;
		if (!from && !file_raw_path(&f->paths, e, 1, other, sizeof(other)))
			ct_strlcpy(other, "?", sizeof(other));
		file_emit(f, c, &(struct file_emit){
			.task = &e->task, .ts = e->hdr.ts_ns, .op = e->op, .path = path, .old = other,
			.ns = to ? ns : NULL, .path_truncated = note.truncated,
			.old_path_truncated = other_note.truncated, .path_source = note.source,
		});
		return;
	}
	if (!file_event_path(f, e, 0, path, ns, &note))
		return;
	switch (e->op) {
	case CT_FOP_UNLINK:
	case CT_FOP_RMDIR:
		flush_path(f, c, path);
		b = ct_content_lookup(path, &before) ? &before : NULL;
		file_emit(f, c, &(struct file_emit){
			.task = &e->task, .ts = e->hdr.ts_ns, .op = e->op, .path = path, .ns = ns,
			.before = b, .path_truncated = note.truncated, .path_source = note.source,
		});
		if (e->op == CT_FOP_UNLINK)
			ct_content_forget(path);
		return;
	case CT_FOP_SYMLINK:
		/* path1 is the link's target, as given */
		if (file_record_path(e, 1, other, sizeof(other)))
			old = other;
		file_emit(f, c, &(struct file_emit){
			.task = &e->task, .ts = e->hdr.ts_ns, .op = e->op, .path = path, .old = old,
			.ns = ns, .path_truncated = note.truncated,
			.path_source = note.source,
		});
		return;
	case CT_FOP_TRUNCATE:
		on_write_open(f, c, e);
		return;
	default: { /* chmod, chown, setxattr, mkdir: metadata; content unchanged */
		/* on a file being written (sed -i, install, cp -p set the
		 * owner and mode of their temp file): part of that change */
		uint64_t h = pending_path_hash(path);

		for (struct pending *p = e->op != CT_FOP_MKDIR
						 ? pending_path_next(&f->table, NULL, h, path) : NULL,
				    *next; p; p = next) {
			next = pending_path_next(&f->table, p, h, path);	/* before p is released */
			if (e->hdr.ts_ns <= p->last_ns + f->cfg.settle_ns) {
				p->last_ns = e->hdr.ts_ns;
				f->stats.coalesced++;
				return;
			}
			finalize(f, c, p, false);	/* its own, earlier change */
		}
		b = ct_content_lookup(path, &before) ? &before : NULL;
		after = before;
		file_emit(f, c, &(struct file_emit){
			.task = &e->task, .ts = e->hdr.ts_ns, .op = e->op, .path = path, .ns = ns,
			.ino = e->ino, .dev = e->dev, .before = b ? &before : NULL,
			.after = b ? &after : NULL, .xattr = e->xattr,
			.path_truncated = note.truncated, .path_source = note.source,
		});
		return;
	}
	}
}

int ct_file_from_record(struct ct_file_collector *f, struct ct_collector *c, const void *data,
			size_t len)
{
	const struct ct_file_event *e = data;
	size_t need = offsetof(struct ct_file_event, paths);

	if (len < need || e->path0_len > CT_FILE_PATH_MAX || e->path1_len > CT_FILE_PATH_MAX ||
	    e->value_len > CT_SYSCTL_WRITE_MAX ||
	    need + e->path0_len + e->path1_len + e->value_len > len) {
		f->stats.malformed++;
		return -1;
	}
	f->stats.records++;
	switch (e->op) {
	case CT_FOP_WRITE:
		on_write_open(f, c, e);
		break;
	case CT_FOP_CLOSE:
		on_close(f, c, e);
		break;
	case CT_FOP_SYSCTL:
		file_sysctl_write(f, c, e);
		break;
	case CT_FOP_RENAME:
		on_rename(f, c, e);
		break;
	case CT_FOP_TRUNCATE:
	case CT_FOP_UNLINK: case CT_FOP_RMDIR: case CT_FOP_LINK: case CT_FOP_SYMLINK:
	case CT_FOP_CHMOD: case CT_FOP_CHOWN: case CT_FOP_SETXATTR: case CT_FOP_MKDIR:
		on_path_op(f, c, e);
		break;
	default:
		f->stats.malformed++;
		return -1;
	}
	return 1;
}

size_t ct_file_tick(struct ct_file_collector *f, struct ct_collector *c, uint64_t now, int all)
{
	size_t left = 0;

	if (!all)
		file_sweep_tick(&f->sweep, &f->maps, now, &f->stats.swept, &f->stats.fds_swept);
	ct_proc_fds_forget();

	for (int i = 0; i < f->table.high_water; i++) {
		struct pending *p = &f->table.pend[i];
		bool burst_open = false, close_coming = false;
		uint64_t last;

		if (!p->used)
			continue;
		/* a record within the settle time: nothing can end the change
		 * yet, and the kernel's view (a syscall per file and burst)
		 * matters only once its records went quiet */
		if (!all && now <= p->last_ns + f->cfg.settle_ns &&
		    now <= p->first_ns + f->cfg.max_age_ns) {
			left++;
			continue;
		}
		if (p->burst)
			burst_open = burst_take(f, p, false).open_now > 0;
		last = p->last_ns;
		/* files still open: their last write, from the kernel */
		for (int j = 0; j < p->n_open; j++) {
			struct open_file *o = &p->files[j];
			struct ct_wfile wf;

			if (!open_entry(f, o, &wf)) {
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
				pending_drop_file(&f->table, p, j--);
				continue;
			}
			o->missing_at = 0;
			if (wf.last_write_ns > last)
				last = wf.last_write_ns;
		}
		if ((p->n_open || burst_open) && now > last + f->cfg.settle_ns &&
		    !still_open(f, p) && take_open_writes(f, p)) {
			/* closed at exit or through another fd: done */
			while (p->n_open)
				harvest(f, p, p->n_open - 1);
			if (burst_open)
				f->stats.closed_unseen++;	/* a folded open with no close(2) seen */
			burst_take(f, p, true);
			burst_open = false;
			if (!p->sysctl) {
				snapshot(f, p->path, &p->task, p->ino, 0, &p->after);
				p->have_after = true;
			}
		}
		/* quiet too long, unless a close record with its writes is
		 * still in the ring (the collector is behind, not the file) */
		if (all || (!p->n_open && !burst_open && now > last + f->cfg.settle_ns) ||
		    (now > last + f->cfg.max_quiet_ns && !close_coming)) {
			finalize(f, c, p, false);
		} else if (now > p->first_ns + f->cfg.max_age_ns) {
			p->last_ns = last;
			finalize(f, c, p, true);	/* a long writer: report, keep following */
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
	CT_COUNTER("file_sysctl_written", struct ct_file_stats, sysctl_written),
	CT_COUNTER("file_sysctl_read_back", struct ct_file_stats, sysctl_read_back),
	CT_COUNTER("file_sysctl_refused", struct ct_file_stats, sysctl_refused),
	CT_COUNTER("file_paths_truncated", struct ct_file_stats, paths_truncated),
	CT_COUNTER("file_paths_completed", struct ct_file_stats, paths_completed),
};
const struct ct_counter_table ct_file_counters = CT_COUNTER_TABLE(ct_file_counters_defs);
