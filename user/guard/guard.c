#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>


#include "collector/event.h"
#include "lib/cgroup_path.h"
#include "store/deploys.h"
#include "guard.h"
#include "lib/net_object.h"
#include "lib/task_identity.h"
#include "lib/util.h"

#define FOOTPRINT_MAX 65536   /* distinct objects remembered per deploy */
#define MAX_AFFECTED 256

/* Distinct files / network objects each deploy has changed (for budgets). */
struct footprint_entry {
	struct footprint_entry *next;
	uint32_t slot;
	bool net;
	char key[];
};

#define FP_BUCKETS 4096
static struct footprint_entry *fp_table[FP_BUCKETS];
static uint32_t fp_count[CT_DEPLOY_SLOTS][2];

static uint32_t hash_str(const char *s, uint32_t slot, bool net)
{
	uint32_t h = 2166136261u ^ slot ^ (net ? 0x9e3779b9u : 0);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Record key for the deploy; returns the deploy's distinct count. */
static uint32_t footprint_add(uint32_t slot, bool net, const char *key)
{
	uint32_t h = hash_str(key, slot, net) % FP_BUCKETS;
	struct footprint_entry *e;

	if (slot >= CT_DEPLOY_SLOTS)
		return 0;
	for (e = fp_table[h]; e; e = e->next)
		if (e->slot == slot && e->net == net && !strcmp(e->key, key))
			return fp_count[slot][net];
	if (fp_count[slot][net] >= FOOTPRINT_MAX)
		return ++fp_count[slot][net];   /* saturated: still counts up */
	e = malloc(sizeof(*e) + strlen(key) + 1);
	if (!e)
		return fp_count[slot][net];
	e->slot = slot;
	e->net = net;
	strcpy(e->key, key);
	e->next = fp_table[h];
	fp_table[h] = e;
	return ++fp_count[slot][net];
}

int ct_guard_init(struct ct_guard *g, const char *policy_path,
		  char *const *protect, int n_protect, char *err, size_t errlen)
{
	memset(&g->policy, 0, sizeof(g->policy));
	g->policy_path = policy_path;
	if (policy_path && ct_policy_load(&g->policy, policy_path, err, errlen) < 0)
		return -1;
	for (int i = 0; i < n_protect; i++)
		if (ct_policy_add_protect_shorthand(&g->policy, protect[i], err, errlen) < 0)
			return -1;
	g->enabled = g->policy.n_rules > 0;
	return 0;
}

int ct_guard_reload(struct ct_guard *g, char *const *protect, int n_protect,
		    char *err, size_t errlen)
{
	struct ct_guard fresh = { 0 };

	if (ct_guard_init(&fresh, g->policy_path, protect, n_protect, err, errlen) < 0) {
		ct_policy_free(&fresh.policy);
		return -1;
	}
	ct_policy_free(&g->policy);
	g->policy = fresh.policy;
	g->enabled = fresh.enabled;
	return 0;
}

void ct_guard_free(struct ct_guard *g)
{
	ct_policy_free(&g->policy);
	g->enabled = false;
	free(g->xsets);
	g->xsets = NULL;
}

static void freeze_cgroups(const PbDeploy *d, bool freeze)
{
	const char *root = ct_cgroup2_root();
	char path[4096];

	if (!d || !root)
		return;
	for (size_t i = 0; i < d->n_cgroups; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s/cgroup.freeze", root, d->cgroups[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (write(fd, freeze ? "1" : "0", 1) < 0) {
			/* counted by the caller via enforce_failures when nothing was stopped */
		}
		close(fd);
	}
}

static void set_deploy_flags(struct ct_guard *g, uint32_t slot, uint32_t flags)
{
	int fd = g->deploy_flags_fd;

	if (bpf_map_update_elem(fd, &slot, &flags, BPF_ANY) < 0)
		g->enforce_failures++;
}

int ct_guard_signal_deploy(struct ct_guard *g, uint32_t slot, int sig,
			   uint32_t *pids, size_t max_pids)
{
	struct ct_deploy *d = ct_deploys_by_slot(slot);
	size_t n = 0;

	/* first the kernel flag, so processes forked during the sweep are
	 * caught by the probes; then the sweep over live processes */
	set_deploy_flags(g, slot, sig == SIGKILL ? CT_DEPLOY_ABORTED
				  : sig == SIGSTOP ? CT_DEPLOY_HALTED : 0);
	if (d && (sig == SIGSTOP || sig == SIGCONT))
		freeze_cgroups(d->pb, sig == SIGSTOP);
	/* Processes fork while we walk: repeat until a pass finds nobody new. */
	for (int pass = 0; pass < 4; pass++) {
		uint32_t key, next, *prev = NULL;
		size_t found = 0;

		while (bpf_map_get_next_key(g->tasks_fd, prev, &next) == 0) {
			struct ct_task_attr attr;
			bool seen = false;

			key = next;
			prev = &key;
			if (bpf_map_lookup_elem(g->tasks_fd, &key, &attr) || attr.deploy_slot != slot)
				continue;
			for (size_t i = 0; i < n; i++)
				if (pids[i] == key)
					seen = true;
			if (seen && sig != SIGCONT)
				continue;
			/* only the process the entry is about, never one that got
			 * its pid since (the probes drop such entries when they
			 * see them; this sweep may come first) */
			if (ct_task_signal_if(key, attr.start_ticks, sig) < 0)
				continue;
			if (!seen && n < max_pids)
				pids[n++] = key;
			found++;
		}
		if (!found || sig == SIGCONT)
			break;
	}
	return n;
}

int ct_guard_stop_deploy(struct ct_guard *g, struct ct_deploy *d, int sig,
			 uint32_t *pids, size_t max_pids)
{
	int n = ct_guard_signal_deploy(g, d->slot, sig, pids, max_pids);

	d->pb->status = sig == SIGKILL ? CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_ABORTED
				       : CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_HALTED;
	return n;
}

bool ct_guard_enforced(struct ct_guard *g, int sig, bool done)
{
	if (!done)
		g->enforce_failures++;
	else if (sig == SIGKILL)
		g->kills++;
	else
		g->halts++;
	return done;
}

struct eval_ctx {
	struct ct_guard *g;
	const PbEvent *change;
	struct ct_deploy *dep;
};

static void on_violation(const struct ct_policy_rule *r, const char *reason, void *vctx)
{
	static struct ct_event_buf gb;
	struct eval_ctx *c = vctx;
	struct ct_guard *g = c->g;
	Changetrace__V1__GuardVerdict v = CHANGETRACE__V1__GUARD_VERDICT__INIT;
	uint32_t pids[MAX_AFFECTED];
	int n = 0;

	g->verdicts++;
	v.rule = (char *)r->name;
	v.action = r->action;
	v.reason = (char *)reason;
	v.change_event_id = c->change->event_id;
	v.deploy_id = c->dep ? c->dep->pb->id : "";
	if (r->action != CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_ALERT) {
		int sig = r->action == CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_KILL ? SIGKILL : SIGSTOP;

		if (c->dep) {
			n = ct_guard_stop_deploy(g, c->dep, sig, pids, MAX_AFFECTED);
		} else if (c->change->unobserved) {
			/* made while nobody watched: nothing is running to stop */
			n = -1;
		} else if (c->change->process && c->change->process->pid) {
			/* drift has no deploy tree: act on the acting process */
			pids[0] = c->change->process->pid;
			n = kill(pids[0], sig) == 0;
		}
		if (n < 0)
			n = 0;
		else
			v.enforced = ct_guard_enforced(g, sig, n > 0);
		v.n_affected_pids = n;
		v.affected_pids = pids;
	}
	ct_event_envelope(g->col, &gb, &gb.ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GUARD,
			  ct_now_mono_ns());
	gb.ev.process = c->change->process;
	gb.ev.attribution = c->change->attribution;
	gb.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_GUARD;
	gb.ev.guard = &v;
	ct_sink_emit(&g->sink, &gb.ev);
}

void ct_guard_on_event(struct ct_guard *g, const PbEvent *ev)
{
	struct ct_change_facts f = { 0 };
	struct eval_ctx ctx = { .g = g, .change = ev };
	char netobj[512];
	const char *id;

	f.unobserved = ev->unobserved;
	if (ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_FILE && ev->file) {
		f.is_file = true;
		f.path = ev->file->path;
		f.old_path = ev->file->old_path && *ev->file->old_path ? ev->file->old_path : NULL;
	} else if (ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_NET && ev->net) {
		f.is_net = true;
		ct_net_object_name(ev->net, netobj, sizeof(netobj));
		f.net_object = netobj;
	} else {
		return;
	}
	id = ev->attribution ? ev->attribution->deploy_id : NULL;
	if (id && *id)
		ctx.dep = ct_deploys_find(id);
	if (ctx.dep) {
		f.deploy = ctx.dep->pb;
		if (f.is_file) {
			f.deploy_files = footprint_add(ctx.dep->slot, false, f.path);
			if (f.old_path)
				f.deploy_files = footprint_add(ctx.dep->slot, false, f.old_path);
		} else {
			f.deploy_net = footprint_add(ctx.dep->slot, true, netobj);
		}
	} else if (id && *id) {
		/* attributed to an id the registry lost: treat as drift, not as clean */
		f.deploy = NULL;
	}
	if (!g->enabled)
		return;
	ct_policy_eval(&g->policy, &f, on_violation, &ctx);
}

int ct_guard_decide(struct ct_guard *g, const char *deploy_id,
		    Changetrace__V1__DeployAction action, const PbProcess *actor,
		    uint32_t *pids, size_t max_pids, char *err, size_t errlen)
{
	static struct ct_event_buf db;
	Changetrace__V1__DeployRecord rec = CHANGETRACE__V1__DEPLOY_RECORD__INIT;
	struct ct_deploy *d = ct_deploys_find(deploy_id);
	int n;

	if (!d) {
		snprintf(err, errlen, "unknown deploy '%s'", deploy_id);
		return -1;
	}
	if (action == CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_RESUME) {
		if (d->pb->status != CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_HALTED) {
			snprintf(err, errlen, "deploy '%s' is not halted", deploy_id);
			return -1;
		}
		n = ct_guard_signal_deploy(g, d->slot, SIGCONT, pids, max_pids);
		d->pb->status = CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_RUNNING;
	} else if (action == CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_ABORT) {
		n = ct_guard_signal_deploy(g, d->slot, SIGKILL, pids, max_pids);
		/* unfreeze so the kill is delivered to frozen cgroup members */
		freeze_cgroups(d->pb, false);
		d->pb->status = CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_ABORTED;
		d->pb->end_time_unix_nano = ct_now_wall_ns();
	} else {
		snprintf(err, errlen, "decision must be resume or abort");
		return -1;
	}
	ct_event_envelope(g->col, &db, &db.ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_DEPLOY,
			  ct_now_mono_ns());
	if (actor) {	/* who decided */
		db.proc = *actor;
		db.ev.process = &db.proc;
	}
	rec.action = action;
	rec.deploy = d->pb;
	db.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_DEPLOY;
	db.ev.deploy = &rec;
	ct_sink_emit(&g->sink, &db.ev);
	return n;
}

static const struct ct_counter_def ct_guard_counters_defs[] = {
	CT_COUNTER("guard_verdicts", struct ct_guard, verdicts),
	CT_COUNTER("guard_halts", struct ct_guard, halts),
	CT_COUNTER("guard_kills", struct ct_guard, kills),
	CT_COUNTER("guard_enforce_failures", struct ct_guard, enforce_failures),
	CT_COUNTER("guard_exec_rules", struct ct_guard, exec_rules),
	CT_COUNTER("guard_policy_generation", struct ct_guard, policy_generation),
};
const struct ct_counter_table ct_guard_counters = CT_COUNTER_TABLE(ct_guard_counters_defs);
