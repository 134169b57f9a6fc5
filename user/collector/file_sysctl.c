/* Sysctl writes, one event each: see file_sysctl.h. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pb.h"
#include "event_net.h"
#include "file_sysctl.h"
#include "sysctl_values.h"
#include "lib/util.h"

#define WRITTEN   CHANGETRACE__V1__SYSCTL_VALUE_SOURCE__SYSCTL_VALUE_SOURCE_WRITTEN
#define READ_BACK CHANGETRACE__V1__SYSCTL_VALUE_SOURCE__SYSCTL_VALUE_SOURCE_READ_BACK

/* A value remembered with this time is known to be unknown: it is no
 * write's "before" (see ct_sysctl_remember). */
#define NOT_KNOWN UINT64_MAX

/* Whose value a sysctl is: for net.*, a network namespace's (the one the
 * kernel says the file belongs to, else the writer's); else global. */
static struct ct_sysctl_ns value_ns(const char *path, uint32_t file_ns, uint64_t cookie,
				    const struct ct_task *t)
{
	if (!ct_sysctl_per_netns(path))
		return (struct ct_sysctl_ns){ 0, 0 };
	if (!file_ns)
		return (struct ct_sysctl_ns){ t->net_ns, 0 };
	return (struct ct_sysctl_ns){ file_ns, cookie };
}

/* Is it the value the agent itself reads (no namespace to enter)? */
static bool ns_is_ours(const struct ct_file_collector *f, const char *path,
		       struct ct_sysctl_ns ns)
{
	return !ct_sysctl_per_netns(path) || ns.inode == f->cfg.host_net_ns;
}

/* The value now, as namespace ns has it (entered through pid, see
 * ct_net_read_in_ns), into buf (CT_SYSCTL_READ_MAX): its length, or -1
 * (counted). *read_ns: when it was read. */
static ssize_t read_now(struct ct_file_collector *f, const char *path, struct ct_sysctl_ns ns,
			uint32_t pid, char *buf, uint64_t *read_ns)
{
	char name[64];
	ssize_t n;

	if (ns_is_ours(f, path, ns))
		n = ct_sysctl_read(path, buf, CT_SYSCTL_READ_MAX);
	else
		n = ct_net_read_in_ns(ns.inode, ns.cookie, pid, path, buf, CT_SYSCTL_READ_MAX, name,
				      sizeof(name));
	*read_ns = ct_now_mono_ns();
	if (n < 0)
		f->stats.sysctl_unread++;
	return n;
}

/* The last value known in ns, if it is the value before a file opened at
 * `opened` wrote: a value read after that open may already be its write. */
static bool known_before(struct ct_sysctl_ns ns, const char *path, uint64_t opened, char *buf,
			 size_t *n)
{
	uint64_t read_ns;

	return ct_sysctl_known(ns, path, buf, CT_SYSCTL_READ_MAX, n, &read_ns) &&
	       read_ns != NOT_KNOWN && (!read_ns || read_ns <= opened);
}

/* One sysctl event, with what it needs beyond the value after. */
struct sysctl_report {
	const struct ct_task *task;
	uint64_t ts;                 /* the write (or the first open) */
	uint64_t opened;             /* its file's open: bounds the "before" */
	const char *path, *ns_path;
	struct file_path_note note;
	uint64_t ino;
	uint32_t dev;
	struct ct_sysctl_ns ns;      /* whose value */
	uint32_t writes;
	const char *after;           /* the file's content now; NULL: not known */
	size_t after_len;
	int source;                  /* of after */
	uint64_t after_read_ns;      /* 0: the write's own bytes */
};

/* Emit it, from the last value known before it; after becomes the last
 * known value (an unknown one too: no wrong "before" follows). */
static void report(struct ct_file_collector *f, struct ct_collector *c,
		   const struct sysctl_report *r)
{
	char *buf = malloc(CT_SYSCTL_READ_MAX);
	struct ct_file_state before, after;
	struct file_sysctl_values sv = {
		.netns = r->ns.inode, .pid = r->task->pid, .source = r->source,
	};
	bool have_before = false;
	size_t n;

	if (buf && known_before(r->ns, r->path, r->opened, buf, &n)) {
		ct_content_from_bytes(buf, n, &before);
		sv.before = buf;
		sv.before_len = (uint32_t)n;
		have_before = true;
	}
	memset(&after, 0, sizeof(after));
	after.exists = true;
	if (r->after) {
		ct_content_from_bytes(r->after, r->after_len, &after);
		sv.after = r->after;
		sv.after_len = (uint32_t)r->after_len;
	}
	file_emit(f, c, &(struct file_emit){
		.task = r->task, .ts = r->ts, .op = CT_FOP_SYSCTL, .path = r->path,
		.ns = r->ns_path, .ino = r->ino, .dev = r->dev,
		.before = have_before ? &before : NULL, .after = &after, .writes = r->writes,
		.path_truncated = r->note.truncated, .path_source = r->note.source, .sysctl = &sv,
	});
	if (r->after)
		ct_sysctl_remember(r->ns, r->path, r->after, r->after_len, false, r->after_read_ns);
	else
		ct_sysctl_remember(r->ns, r->path, "", 0, false, NOT_KNOWN);
	/* the content table is the agent's own namespace's */
	if (ns_is_ours(f, r->path, r->ns)) {
		if (r->after && after.sha256[0])
			ct_content_put(r->path, &after);
		else
			ct_content_forget(r->path);
	}
	free(buf);
}

/* A namespace first seen at this write: its other values, as the "before"
 * of their first write (ct_net_read_in_ns remembers them). */
static void prime_ns(struct ct_file_collector *f, const char *path, struct ct_sysctl_ns ns,
		     uint32_t pid)
{
	if (ns_is_ours(f, path, ns) || ct_sysctl_primed(ns))
		return;
	ct_net_read_in_ns(ns.inode, ns.cookie, pid, NULL, NULL, 0, NULL, 0);
}

/* The record's bytes are the value: all the kernel accepted, from the
 * start of the file. */
static bool exact(const struct ct_file_event *e)
{
	return !(e->flags & (CT_FF_VALUE_CUT | CT_FF_VALUE_UNREAD | CT_FF_VALUE_OFFSET)) &&
	       e->ret > 0 && e->value_len == (uint32_t)e->ret;
}

void file_sysctl_write(struct ct_file_collector *f, struct ct_collector *c,
		       const struct ct_file_event *e)
{
	char host[PATH_MAX], ns_path[PATH_MAX], value[CT_SYSCTL_WRITE_MAX + 2], *buf = NULL;
	struct sysctl_report r = { 0 };
	struct pending *p;
	ssize_t n;
	int j;

	/* its open's change: reported here, write by write */
	p = pending_find_file(&f->table, e->file_id, e->file_open_ns, &j);
	if (p) {
		p->sysctl = true;
		p->sc_written = true;
		if (e->hdr.ts_ns > p->last_ns)
			p->last_ns = e->hdr.ts_ns;
	}
	if (e->ret <= 0) {
		f->stats.sysctl_refused++;
		return;
	}
	if (!file_event_path(f, e, 0, host, ns_path, &r.note))
		return;
	r.task = &e->task;
	r.ts = e->hdr.ts_ns;
	r.opened = e->file_open_ns;
	r.path = host;
	r.ns_path = ns_path;
	r.ino = e->ino;
	r.dev = e->dev;
	r.ns = value_ns(host, e->value_netns, e->value_netns_cookie, &e->task);
	r.writes = 1;
	if (exact(e)) {
		r.after_len = ct_sysctl_written(e->paths + e->path0_len, e->value_len, value,
						sizeof(value));
		r.after = value;
		r.source = WRITTEN;
		f->stats.sysctl_written++;
	} else {
		buf = malloc(CT_SYSCTL_READ_MAX);
		n = buf ? read_now(f, host, r.ns, e->task.pid, buf, &r.after_read_ns) : -1;
		if (n >= 0) {
			r.after = buf;
			r.after_len = (size_t)n;
		}
		r.source = READ_BACK;
		f->stats.sysctl_read_back++;
	}
	report(f, c, &r);
	prime_ns(f, host, r.ns, e->task.pid);
	free(buf);
}

void file_sysctl_settle(struct ct_file_collector *f, struct ct_collector *c, struct pending *p)
{
	struct ct_sysctl_ns ns = value_ns(p->path, p->sc_netns, p->sc_cookie, &p->task);
	char *buf, *known = NULL;
	uint64_t read_ns;
	size_t known_len;
	ssize_t n;

	/* each write was reported (or refused) on its own */
	if (!p->writes && p->sc_written)
		return;
	buf = malloc(CT_SYSCTL_READ_MAX);
	known = malloc(CT_SYSCTL_READ_MAX);
	if (!buf || !known)
		goto out;
	n = read_now(f, p->path, ns, p->task.pid, buf, &read_ns);
	if (!p->writes) {
		/* no write seen (one through sendfile, splice, io_uring): a
		 * change only if the value is not the one known before */
		bool was = known_before(ns, p->path, p->first_ns, known, &known_len);

		if (n < 0 || (was && known_len == (size_t)n && !memcmp(known, buf, known_len)))
			goto out;
		if (!was) {
			/* nothing to tell it from: known from now on */
			ct_sysctl_remember(ns, p->path, buf, (size_t)n, false, read_ns);
			goto out;
		}
	}
	f->stats.sysctl_read_back++;
	report(f, c, &(struct sysctl_report){
		.task = &p->task, .ts = p->first_ns, .opened = p->first_ns, .path = p->path,
		.ns_path = p->ns_path,
		.note = { .truncated = p->path_truncated, .source = p->path_source },
		.ino = p->ino, .dev = p->dev, .ns = ns, .writes = p->writes,
		.after = n >= 0 ? buf : NULL, .after_len = n >= 0 ? (size_t)n : 0,
		.source = READ_BACK, .after_read_ns = read_ns,
	});
	prime_ns(f, p->path, ns, p->task.pid);
out:
	free(known);
	free(buf);
}
