#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/cgroup_path.h"
#include "store/deploys.h"
#include "env_claims.h"
#include "event.h"
#include "proc_cache.h"
#include "lib/util.h"

void ct_collector_init(struct ct_collector *c)
{
	char boot[64] = "";

	memset(c, 0, sizeof(*c));
	if (gethostname(c->host, sizeof(c->host) - 1) < 0)
		strcpy(c->host, "unknown");
	if (ct_read_file("/proc/sys/kernel/random/boot_id", boot, sizeof(boot) - 1) < 8)
		strcpy(boot, "00000000");
	boot[8] = '\0';
	snprintf(c->id_prefix, sizeof(c->id_prefix), "%s-%llx", boot,
		 (unsigned long long)(ct_now_wall_ns() / 1000000000ull));
	c->wall_offset = ct_mono_to_wall_offset();
	c->proc_root = "/proc";
}

void ct_event_envelope(struct ct_collector *c, struct ct_event_buf *b,
		       PbEvent *ev, Changetrace__V1__EventKind kind, uint64_t mono_ns)
{
	*ev = (PbEvent)CHANGETRACE__V1__EVENT__INIT;
	b->col = c;
	if (c->seq_exhausted && c->seq >= c->seq_limit)
		c->seq_exhausted(c);
	ev->seq = ++c->seq;
	snprintf(b->event_id, sizeof(b->event_id), "%s-%llu", c->id_prefix,
		 (unsigned long long)ev->seq);
	ev->event_id = b->event_id;
	ev->monotonic_ns = mono_ns;
	ev->time_unix_nano = mono_ns + c->wall_offset;
	ev->host = c->host;
	ev->kind = kind;
}

size_t ct_split_args(const char *args, size_t len, char *buf, size_t buf_len,
		     char **argv, size_t argv_max)
{
	size_t n = 0, i = 0;

	if (len >= buf_len)
		len = buf_len - 1;
	memcpy(buf, args, len);
	buf[len] = '\0';
	/* A trailing partial argument (truncated) is still an argument. */
	while (i < len && n < argv_max) {
		argv[n++] = buf + i;
		i += strnlen(buf + i, len - i) + 1;
	}
	return n;
}

/* Copy a fixed-size kernel char array, which may lack a NUL. */
static char *kstr(char *dst, size_t dst_len, const char *src, size_t src_len)
{
	size_t n = strnlen(src, src_len);

	if (n >= dst_len)
		n = dst_len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return dst;
}

static void fill_attribution(struct ct_event_buf *b, const struct ct_task_attr *a)
{
	struct ct_deploy *d;

	b->attr = (PbAttribution)CHANGETRACE__V1__ATTRIBUTION__INIT;
	b->ev.attribution = &b->attr;
	if (a->deploy_slot == CT_SLOT_CLAIM_UNNAMED) {
		const char *id = ct_env_claim_id(a->origin_pid);

		b->attr.drift = 1;
		b->attr.origin_pid = a->origin_pid;
		b->attr.depth = a->depth;
		b->attr.claim_refused = (char *)ct_env_claim_reason(CT_ENV_CLAIM_SLOTS_FULL);
		ct_strlcpy(b->claimed_id, id ? id : "", sizeof(b->claimed_id));
		b->attr.claimed_deploy_id = b->claimed_id;
		return;
	}
	d = ct_deploys_by_slot(a->deploy_slot);
	if (!d && a->deploy_slot && b->col && b->col->slot_unknown) {
		b->col->slot_unknown(b->col->owner, a->deploy_slot);
		d = ct_deploys_by_slot(a->deploy_slot);
	}
	if (!a->deploy_slot || !d) {
		b->attr.drift = 1;
		b->attr.method = CHANGETRACE__V1__ATTRIBUTION_METHOD__ATTRIBUTION_NONE;
		return;
	}
	ct_strlcpy(b->deploy_id, d->pb->id, sizeof(b->deploy_id));
	b->attr.deploy_id = b->deploy_id;
	b->attr.method = a->inherited ? CHANGETRACE__V1__ATTRIBUTION_METHOD__ATTRIBUTION_INHERITED
				      : (Changetrace__V1__AttributionMethod)a->method;
	b->attr.depth = a->depth;
	b->attr.origin_pid = a->origin_pid;
	b->attr.unregistered = !d->registered;
	b->attr.ai_assisted = d->pb->ai && d->pb->ai->ai_assisted;
}

static void fill_process(struct ct_event_buf *b, const struct ct_task *t)
{
	PbProcess *p = &b->proc;
	const char *cg;

	*p = (PbProcess)CHANGETRACE__V1__PROCESS__INIT;
	b->ev.process = p;
	p->pid = t->pid;
	p->tid = t->tid;
	p->ppid = t->ppid;
	p->uid = t->uid;
	p->gid = t->gid;
	p->euid = t->euid;
	p->auid = t->auid;
	p->comm = kstr(b->comm, sizeof(b->comm), t->comm, sizeof(t->comm));
	p->cgroup_id = t->cgroup_id;
	cg = ct_cgroup_path(t->cgroup_id);
	ct_strlcpy(b->cgroup, cg ? cg : "", sizeof(b->cgroup));
	p->cgroup_path = b->cgroup;
	p->container = (PbContainer *)ct_container_of_task(&b->ctr, t->cgroup_id, t->pid, t->net_ns,
							   b->ev.kind == CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC,
							   b->ev.monotonic_ns);
	p->pid_ns = t->pid_ns;
	p->mnt_ns = t->mnt_ns;
	p->net_ns = t->net_ns;
	p->start_time_ns = t->start_ns;
	p->exec_id = t->attr.exec_id;
	p->exe = "";
	p->cwd = "";
	fill_attribution(b, &t->attr);
}

static void fill_lineage(struct ct_collector *c, struct ct_event_buf *b, const struct ct_ancestor *a, unsigned n)
{
	if (n > CT_LINEAGE_MAX)
		n = CT_LINEAGE_MAX;
	for (unsigned i = 0; i < n; i++) {
		PbAncestor *x = &b->anc[i];
		struct ct_proc *cp = ct_proc_lookup(a[i].pid);

		/* An ancestor that forked after the seed and never exec'd is
		 * not cached yet; it is usually alive, so read it once. */
		if (!cp || !ct_proc_same_start(cp->start_ns, a[i].start_ns))
			cp = ct_proc_load(c->proc_root, a[i].pid);

		*x = (PbAncestor)CHANGETRACE__V1__ANCESTOR__INIT;
		x->pid = a[i].pid;
		x->start_time_ns = a[i].start_ns;
		x->comm = kstr(b->anc_comm[i], sizeof(b->anc_comm[i]), a[i].comm, sizeof(a[i].comm));
		x->exe = (cp && cp->exe && ct_proc_same_start(cp->start_ns, a[i].start_ns)) ? cp->exe : "";
		b->anc_ptrs[i] = x;
	}
	b->proc.n_lineage = n;
	b->proc.lineage = b->anc_ptrs;
}

static void read_link(const char *root, uint32_t pid, const char *what, char *out, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/%s", root, pid, what);
	n = readlink(path, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

int ct_event_from_exec(struct ct_collector *c, const struct ct_exec_event *e,
		     struct ct_event_buf *b)
{
	struct ct_proc *prev = ct_proc_lookup(e->task.pid);
	size_t args_len = e->args_len < CT_ARGS_LEN ? e->args_len : CT_ARGS_LEN;

	if (e->env_deploy_id[0] && e->task.attr.deploy_slot &&
	    !ct_deploys_by_slot(e->task.attr.deploy_slot) && c->env_deploy_seen) {
		char id[CT_DEPLOY_ID_LEN];

		c->env_deploy_seen(c->owner, kstr(id, sizeof(id), e->env_deploy_id,
						  sizeof(e->env_deploy_id)),
				   e->task.attr.deploy_slot);
	}

	ct_event_envelope(c, b, &b->ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC, e->hdr.ts_ns);
	fill_process(b, &e->task);
	fill_lineage(c, b, e->lineage, e->lineage_len);
	b->proc.n_argv = ct_split_args(e->args, args_len, b->args, sizeof(b->args),
				       b->argv, CT_ARGV_MAX);
	b->proc.argv = b->argv;
	kstr(b->filename, sizeof(b->filename), e->filename, sizeof(e->filename));

	/* exe and cwd: from /proc while the process lives; otherwise what
	 * execve was given (absolute in the common case) and the cwd it had
	 * before the exec, which exec does not change. */
	read_link(c->proc_root, e->task.pid, "exe", b->exe, sizeof(b->exe));
	read_link(c->proc_root, e->task.pid, "cwd", b->cwd, sizeof(b->cwd));
	if (!b->cwd[0]) {
		struct ct_proc *pp = prev ? prev : ct_proc_lookup(e->task.ppid);

		if (pp && pp->cwd)
			ct_strlcpy(b->cwd, pp->cwd, sizeof(b->cwd));
	}
	if (!b->exe[0]) {
		size_t n = 0;

		if (b->filename[0] != '/' && b->cwd[0]) {
			n = ct_strlcpy(b->exe, b->cwd, sizeof(b->exe) - 1);
			if (n > sizeof(b->exe) - 2)
				n = sizeof(b->exe) - 2;
			b->exe[n++] = '/';
		}
		ct_strlcpy(b->exe + n, b->filename, sizeof(b->exe) - n);
	}
	b->proc.exe = b->exe;
	b->proc.cwd = b->cwd;

	b->exec = (PbExecDetail)CHANGETRACE__V1__EXEC_DETAIL__INIT;
	b->exec.filename = b->filename;
	b->exec.old_pid = e->old_pid;
	b->exec.argv_truncated = e->args_truncated;
	if (e->env_claim && e->env_deploy_id[0]) {
		/* this exec's claim was not honoured: say which and why */
		kstr(b->claimed_id, sizeof(b->claimed_id), e->env_deploy_id, sizeof(e->env_deploy_id));
		if (e->env_claim == CT_ENV_CLAIM_SLOTS_FULL)
			ct_env_claim_note(e->task.pid, b->claimed_id);
		b->attr.claimed_deploy_id = b->claimed_id;
		b->attr.claim_refused = (char *)ct_env_claim_reason(e->env_claim);
	}
	if (e->guard_rule && c->exec_rule_name) {
		b->exec.guard_rule = (char *)c->exec_rule_name(c->exec_ctx, e->guard_gen, e->guard_rule - 1);
		b->exec.guard_action = e->guard_action == CT_XACT_HALT
			? CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_HALT
			: e->guard_action == CT_XACT_KILL ? CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_KILL
			: CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_ALERT;
	}
	b->ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_EXEC;
	b->ev.exec = &b->exec;

	ct_proc_exec(e->task.pid, e->task.ppid, e->task.start_ns, e->task.image_seq,
		     e->task.attr.exec_id, b->comm, b->exe, b->cwd, e->args, args_len);
	return 0;
}

/* What the cache knows of an image (exe, cwd, argv, exec id) into the
 * event; the copies live in b. */
static void fill_image(struct ct_event_buf *b, const struct ct_proc *cp)
{
	if (cp->exec_id)
		b->proc.exec_id = cp->exec_id;
	if (cp->exe) {
		ct_strlcpy(b->exe, cp->exe, sizeof(b->exe));
		b->proc.exe = b->exe;
	}
	if (cp->cwd) {
		ct_strlcpy(b->cwd, cp->cwd, sizeof(b->cwd));
		b->proc.cwd = b->cwd;
	}
	b->proc.n_argv = ct_split_args(cp->args ? cp->args : "", cp->args_len,
				       b->args, sizeof(b->args), b->argv, CT_ARGV_MAX);
	b->proc.argv = b->argv;
}

int ct_event_from_exit(struct ct_collector *c, const struct ct_exit_event *e,
		     struct ct_event_buf *b)
{
	struct ct_proc *cp = ct_proc_image(e->task.pid, e->task.start_ns, e->task.image_seq);

	if (!cp)
		cp = ct_proc_lookup(e->task.pid);
	ct_event_envelope(c, b, &b->ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXIT, e->hdr.ts_ns);
	fill_process(b, &e->task);
	if (cp && ct_proc_same_start(cp->start_ns, e->task.start_ns))
		fill_image(b, cp);
	b->exit = (PbExitDetail)CHANGETRACE__V1__EXIT_DETAIL__INIT;
	b->exit.exit_code = e->exit_code;
	b->exit.signal = e->signal;
	if (e->hdr.ts_ns > e->task.start_ns)
		b->exit.duration_ns = e->hdr.ts_ns - e->task.start_ns;
	b->ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_EXIT;
	b->ev.exit = &b->exit;
	ct_proc_remove(e->task.pid);
	return 0;
}

/*
 * The image that made a change: the one its exec record gave (exe and argv
 * from exec time), found by (pid, start, image_seq) even after the process
 * exec'd again or exited. Otherwise, in order: a process known only from
 * /proc (seeded before its first change), /proc now if the process lives
 * and nothing says it runs another image since, and for a child that
 * forked without exec'ing, its parent's image (it runs that image).
 */
struct ct_proc *ct_event_image(struct ct_collector *c, const struct ct_task *t)
{
	struct ct_proc *cp = ct_proc_image(t->pid, t->start_ns, t->image_seq), *cur;
	char comm[CT_COMM_LEN + 1];

	if (cp)
		return cp;
	kstr(comm, sizeof(comm), t->comm, sizeof(t->comm));
	cur = ct_proc_lookup(t->pid);
	if (cur && !ct_proc_same_start(cur->start_ns, t->start_ns))
		cur = NULL;
	if (cur && !cur->image_known) {
		ct_proc_adopt(cur, t->image_seq);
		c->image_from_proc++;
		return cur;
	}
	/* a later image of the process is known: /proc would show that one;
	 * an earlier one: the exec record of t's image was lost (bulk ring
	 * full), that image is over */
	if (cur && cur->image_seq < t->image_seq) {
		ct_proc_remove(t->pid);
		cur = NULL;
	}
	if (!cur) {
		cp = ct_proc_load(c->proc_root, t->pid);
		if (cp && ct_proc_same_start(cp->start_ns, t->start_ns) && !cp->image_known &&
		    !strcmp(cp->comm, comm)) {
			ct_proc_adopt(cp, t->image_seq);
			c->image_from_proc++;
			return cp;
		}
	}
	cp = ct_proc_image_of_pid(t->ppid, t->image_seq);
	if (cp && !strcmp(cp->comm, comm)) {
		struct ct_proc *child = ct_proc_update(t->pid, t->ppid, t->start_ns, comm, cp->exe,
							cp->cwd, cp->args, cp->args_len);

		if (child && !child->image_known) {
			ct_proc_adopt(child, t->image_seq);
			child->exec_id = cp->exec_id;
			c->image_from_parent++;
			return child;
		}
		return cp;
	}
	c->image_unknown++;
	return NULL;
}

void ct_event_fill_task(struct ct_collector *c, struct ct_event_buf *b,
			const struct ct_task *t)
{
	struct ct_ancestor anc[CT_LINEAGE_MAX];
	struct ct_proc *cp = ct_event_image(c, t);
	uint32_t ppid = t->ppid;
	unsigned n = 0;

	fill_process(b, t);
	if (cp)
		fill_image(b, cp);
	/* lineage from the cache: parent, grandparent, ... */
	while (ppid > 0 && n < CT_LINEAGE_MAX) {
		struct ct_proc *pp = ct_proc_lookup(ppid);

		if (!pp)
			pp = ct_proc_load(c->proc_root, ppid);
		if (!pp)
			break;
		memset(&anc[n], 0, sizeof(anc[n]));
		anc[n].pid = pp->pid;
		anc[n].start_ns = pp->start_ns;
		memcpy(anc[n].comm, pp->comm, sizeof(anc[n].comm));
		n++;
		if (pp->pid == 1 || pp->ppid == pp->pid)
			break;
		ppid = pp->ppid;
	}
	fill_lineage(c, b, anc, n);
}
