#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent_actor.h"
#include "agent_deploys.h"
#include "lib/control.h"
#include "lib/deploy_validate.h"
#include "guard/exec_rules.h"
#include "ctl_handlers.h"
#include "store/deploys.h"
#include "store/store.h"
#include "lib/task_identity.h"
#include "lib/util.h"

bool ct_peer_may_change(const struct ct_agent *a, const struct ct_peer *peer)
{
	char path[64], buf[4096];
	const char *g;
	ssize_t n;

	if (peer->uid == 0)
		return true;
	if (!a->has_group)
		return false;
	if (peer->gid == a->group_gid)
		return true;
	/* supplementary groups of the peer, from /proc (pid from SO_PEERCRED) */
	snprintf(path, sizeof(path), "/proc/%d/status", peer->pid);
	n = ct_read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	g = strstr(buf, "\nGroups:");
	if (!g)
		return false;
	for (g += 8; *g && *g != '\n';) {
		char *end;
		unsigned long v = strtoul(g, &end, 10);

		if (end == g) {
			g++;
			continue;
		}
		if (v == a->group_gid)
			return true;
		g = end;
	}
	return false;
}

static void reply(int fd, PbResponse *r)
{
	ct_ctl_send(fd, &r->base);
}

static void reply_err(int fd, const char *msg)
{
	PbResponse r = CHANGETRACE__V1__RESPONSE__INIT;

	r.error = (char *)msg;
	reply(fd, &r);
}

/* The wrapper (`changetrace run`) asks to be attributed before it execs.
 * The pid comes from SO_PEERCRED, never from the message: a client can
 * only tag itself. */
static void tag_self(struct ct_agent *a, const struct ct_peer *peer, int fd,
		     const PbTagSelfRequest *t)
{
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT, *src = t->deploy ? t->deploy : &d;
	PbRegistrant reg = CHANGETRACE__V1__REGISTRANT__INIT;
	PbResponse r = CHANGETRACE__V1__RESPONSE__INIT;
	struct ct_task_attr attr = {};
	struct ct_deploy *dep;
	const char *why;
	char exe[256] = "", path[64];
	uint32_t pid = peer->pid;
	PbDeploy copy;

	if (!ct_peer_may_change(a, peer)) {
		a->ctl_refused++;
		reply_err(fd, "permission denied: only root or members of the agent's group may tag processes");
		return;
	}
	copy = *src;
	copy.id = t->deploy_id;
	if ((why = ct_validate_deploy(&copy)) || (why = ct_exec_scope_check(&copy))) {
		reply_err(fd, why);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", peer->pid);
	ssize_t n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	reg.uid = peer->uid;
	reg.pid = peer->pid;
	reg.exe = exe;
	copy.registered_by = &reg;
	copy.status = 0;
	dep = ct_deploys_find(copy.id);
	if (dep && dep->pb->status != CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_RUNNING) {
		char msg[160];

		snprintf(msg, sizeof(msg), "deploy %s has ended; start a new deploy", copy.id);
		reply_err(fd, msg);
		return;
	}
	if ((!dep || !dep->registered) && t->deploy) {
		/* Provenance given: start (register) the deploy implicitly. */
		char msg[256];

		dep = ct_agent_deploy_start(a, &copy, &reg, msg, sizeof(msg));
		if (!dep) {
			reply_err(fd, msg);
			return;
		}
	} else if (!dep && t->allow_unregistered) {
		char msg[256];

		dep = ct_agent_deploy_seen(a, copy.id, msg, sizeof(msg));
		if (!dep) {
			reply_err(fd, msg);
			return;
		}
	} else if (!dep) {
		char msg[400];

		snprintf(msg, sizeof(msg), "deploy %s is not registered: start it with "
			 "`changetrace deploy start --id %s`, give provenance flags (e.g. "
			 "--author) to start it now, or pass --unregistered", copy.id, copy.id);
		reply_err(fd, msg);
		return;
	} else if (t->deploy) {
		/* Known deploy: provenance given to the wrapper is merged in. */
		copy.registered_by = NULL;
		copy.start_time_unix_nano = 0;
		if (ct_deploys_upsert(&copy, dep->registered))
			ct_agent_deploys_save(a);
	}
	attr.deploy_slot = dep->slot;
	attr.method = CT_ATTR_WRAPPER;
	attr.origin_pid = pid;
	/* the entry names the peer by its start time too; the pidfd says the
	 * /proc read was of the peer, not of a process that got its pid since */
	{
		uint64_t ticks;

		if (ct_task_start_ticks(pid, &ticks) < 0 ||
		    (peer->pidfd >= 0 && !ct_pidfd_alive(peer->pidfd))) {
			reply_err(fd, "cannot tag process: it has exited");
			return;
		}
		attr.start_ticks = ticks;
	}
	if (bpf_map_update_elem(a->tasks_fd, &pid, &attr, BPF_ANY) < 0) {
		char msg[128];

		snprintf(msg, sizeof(msg), "cannot tag process: %s", strerror(errno));
		reply_err(fd, msg);
		return;
	}
	r.ok = 1;
	reply(fd, &r);
}

static bool may_change(struct ct_agent *a, const struct ct_peer *peer, int fd)
{
	if (ct_peer_may_change(a, peer))
		return true;
	a->ctl_refused++;
	reply_err(fd, "permission denied: only root or members of the agent's group "
		      "may register or end deploys");
	return false;
}

static void registrant(const struct ct_peer *peer, PbRegistrant *reg, char *exe, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", peer->pid);
	n = readlink(path, exe, len - 1);
	exe[n > 0 ? n : 0] = '\0';
	reg->uid = peer->uid;
	reg->pid = peer->pid;
	reg->exe = exe;
}

static void reply_deploy(int fd, const struct ct_deploy *e)
{
	PbResponse r = CHANGETRACE__V1__RESPONSE__INIT;

	r.ok = 1;
	r.body_case = CHANGETRACE__V1__RESPONSE__BODY_DEPLOY;
	r.deploy = e->pb;
	reply(fd, &r);
}

static void deploy_start(struct ct_agent *a, const struct ct_peer *peer, int fd,
			 const PbDeployStartRequest *q)
{
	PbRegistrant reg = CHANGETRACE__V1__REGISTRANT__INIT;
	char exe[256], msg[512];
	struct ct_deploy *e;
	const char *why;

	if (!may_change(a, peer, fd))
		return;
	if (!q->deploy) {
		reply_err(fd, "deploy start: no deploy given");
		return;
	}
	if ((why = ct_validate_deploy(q->deploy)) || (why = ct_exec_scope_check(q->deploy))) {
		reply_err(fd, why);
		return;
	}
	registrant(peer, &reg, exe, sizeof(exe));
	e = ct_agent_deploy_start(a, q->deploy, &reg, msg, sizeof(msg));
	if (!e) {
		reply_err(fd, msg);
		return;
	}
	reply_deploy(fd, e);
}

static void deploy_end(struct ct_agent *a, const struct ct_peer *peer, int fd,
		       const PbDeployEndRequest *q)
{
	char msg[256];
	struct ct_deploy *e;
	const char *why;

	if (!may_change(a, peer, fd))
		return;
	if (!ct_valid_deploy_id(q->id, &why)) {
		reply_err(fd, why);
		return;
	}
	if (q->status != CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_SUCCEEDED &&
	    q->status != CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_FAILED &&
	    q->status != CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_ROLLED_BACK) {
		reply_err(fd, "deploy end: status must be succeeded, failed or rolled_back");
		return;
	}
	e = ct_agent_deploy_end(a, q->id, q->status, msg, sizeof(msg));
	if (!e) {
		reply_err(fd, msg);
		return;
	}
	reply_deploy(fd, e);
}

/* Anyone who may connect may list and show (like status). */
static void deploy_list(int fd)
{
	static struct ct_deploy *all[CT_DEPLOY_SLOTS];
	static PbDeploy *recs[CT_DEPLOY_SLOTS];
	PbResponse r = CHANGETRACE__V1__RESPONSE__INIT;
	PbDeployListResponse l = CHANGETRACE__V1__DEPLOY_LIST_RESPONSE__INIT;
	size_t n = ct_deploys_list(all, CT_DEPLOY_SLOTS), size = 0;

	/* Newest last; keep the reply inside one frame. */
	for (size_t i = 0; i < n; i++) {
		size_t sz = changetrace__v1__deploy__get_packed_size(all[i]->pb) + 8;

		if (size + sz > CT_CTL_MAX_FRAME - 64)
			break;
		size += sz;
		recs[l.n_deploys++] = all[i]->pb;
	}
	l.deploys = recs;
	r.ok = 1;
	r.body_case = CHANGETRACE__V1__RESPONSE__BODY_DEPLOYS;
	r.deploys = &l;
	if (l.n_deploys < n)
		r.error = "list truncated to fit one reply";
	reply(fd, &r);
}

/* deploy show: the deploy, and the budgets of the policy in force, so the
 * CLI can set the deploy's footprint against them. */
static void deploy_show(struct ct_agent *a, const struct ct_peer *peer, int fd,
			const PbDeployShowRequest *q)
{
	struct ct_deploy *e = ct_deploys_find(q->id);
	PbResponse r = CHANGETRACE__V1__RESPONSE__INIT;
	Changetrace__V1__PolicyBudget b[CT_POLICY_MAX_RULES], *bp[CT_POLICY_MAX_RULES];
	char msg[128];
	const char *why;

	if (!ct_valid_deploy_id(q->id, &why)) {
		reply_err(fd, why);
		return;
	}
	if (!e) {
		snprintf(msg, sizeof(msg), "no deploy %s", q->id);
		reply_err(fd, msg);
		return;
	}
	/* the CLI reads the footprint from the store: make it current. Only
	 * for root or the group (who can read the store): sealing a block per
	 * request would let anyone who can connect bloat the store. */
	if (a->store && ct_peer_may_change(a, peer))
		ct_store_flush(a->store);
	r.ok = 1;
	r.body_case = CHANGETRACE__V1__RESPONSE__BODY_DEPLOY;
	r.deploy = e->pb;
	for (int i = 0; i < a->guard.policy.n_rules; i++) {
		const struct ct_policy_rule *pr = &a->guard.policy.rules[i];
		Changetrace__V1__PolicyBudget *x = &b[r.n_budgets];

		if (pr->budget == CT_BUDGET_NONE)
			continue;
		changetrace__v1__policy_budget__init(x);
		x->rule = (char *)pr->name;
		x->counts = pr->budget == CT_BUDGET_FILES ? "files" : "net";
		x->max = pr->budget_max;
		x->action = pr->action;
		bp[r.n_budgets++] = x;
	}
	r.budgets = bp;
	reply(fd, &r);
}

static void status(struct ct_agent *a, int fd)
{
	static struct ct_status_buf buf;
	PbResponse r = CHANGETRACE__V1__RESPONSE__INIT;
	PbStatusResponse s;

	/* counters must agree: take in what the kernel already produced */
	ct_agent_drain_for(a, 20ull * 1000000);	/* current counters, but answer under a burst */
	ct_agent_status(a, &buf, &s);
	r.ok = 1;
	r.body_case = CHANGETRACE__V1__RESPONSE__BODY_STATUS;
	r.status = &s;
	reply(fd, &r);
}

static void guard_decision(struct ct_agent *a, const struct ct_peer *peer, int fd,
			   const Changetrace__V1__GuardDecisionRequest *g)
{
	PbResponse r = CHANGETRACE__V1__RESPONSE__INIT;
	Changetrace__V1__GuardDecisionResponse gr = CHANGETRACE__V1__GUARD_DECISION_RESPONSE__INIT;
	uint32_t pids[256];
	char err[160];
	const char *why;
	int n;

	if (!ct_peer_may_change(a, peer)) {
		a->ctl_refused++;
		reply_err(fd, "permission denied: only root or members of the agent's group may resume or abort deploys");
		return;
	}
	if (!ct_valid_deploy_id(g->deploy_id, &why)) {
		reply_err(fd, why);
		return;
	}
	/* the DEPLOY event names who decided; filled before its envelope */
	static struct ct_event_buf who;
	bool have_actor = ct_agent_fill_actor(a, &who);

	n = ct_guard_decide(&a->guard, g->deploy_id, g->action, have_actor ? &who.proc : NULL,
			    pids, ARRAY_SIZE(pids), err, sizeof(err));
	if (n < 0) {
		reply_err(fd, err);
		return;
	}
	gr.n_pids = n;
	gr.pids = pids;
	r.ok = 1;
	r.body_case = CHANGETRACE__V1__RESPONSE__BODY_GUARD_DECISION;
	r.guard_decision = &gr;
	reply(fd, &r);
}

void ct_ctl_handle(struct ct_agent *a, const struct ct_peer *peer, int fd,
		   const PbRequest *req)
{
	ct_agent_set_actor(a, peer->pid, peer->uid);	/* DEPLOY events name the peer */
	switch (req->body_case) {
	case CHANGETRACE__V1__REQUEST__BODY_TAG_SELF:
		tag_self(a, peer, fd, req->tag_self);
		break;
	case CHANGETRACE__V1__REQUEST__BODY_STATUS:
		status(a, fd);
		break;
	case CHANGETRACE__V1__REQUEST__BODY_GUARD_DECISION:
		guard_decision(a, peer, fd, req->guard_decision);
		break;
	case CHANGETRACE__V1__REQUEST__BODY_DEPLOY_START:
		deploy_start(a, peer, fd, req->deploy_start);
		break;
	case CHANGETRACE__V1__REQUEST__BODY_DEPLOY_END:
		deploy_end(a, peer, fd, req->deploy_end);
		break;
	case CHANGETRACE__V1__REQUEST__BODY_DEPLOY_LIST:
		deploy_list(fd);
		break;
	case CHANGETRACE__V1__REQUEST__BODY_DEPLOY_SHOW:
		deploy_show(a, peer, fd, req->deploy_show);
		break;
	default:
		reply_err(fd, "unknown request");
		break;
	}
	ct_agent_set_actor(a, 0, 0);
}
