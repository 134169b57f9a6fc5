#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent_deploys.h"
#include "changetrace.skel.h"
#include "control.h"
#include "ctl_handlers.h"
#include "event_file.h"
#include "file_content.h"
#include "feed_file.h"
#include "event_net.h"
#include "feed.h"
#include "otlp.h"
#include "deploys.h"
#include "proc_cache.h"
#include "store.h"
#include "unobserved.h"
#include "util.h"

#define MAX_APPROVERS 16

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

static const char *check_str(const char *s, const char *what)
{
	static char why[96];

	if (!s)
		return NULL;
	if (strlen(s) > CT_MAX_VALUE_LEN) {
		snprintf(why, sizeof(why), "%s is longer than %d characters", what, CT_MAX_VALUE_LEN);
		return why;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(why, sizeof(why), "%s contains control characters", what);
			return why;
		}
	return NULL;
}

const char *ct_validate_deploy(const PbDeploy *d)
{
	const char *why;

	if (!ct_valid_deploy_id(d->id, &why))
		return why;
#define CHECK(s, n) do { if ((why = check_str(s, n))) return why; } while (0)
	CHECK(d->author, "author");
	CHECK(d->ticket, "ticket");
	CHECK(d->repository, "repository");
	CHECK(d->commit, "commit");
	CHECK(d->pipeline_run, "pipeline run");
	CHECK(d->rollback_plan, "rollback plan");
	CHECK(d->environment, "environment");
	if (d->ai) {
		CHECK(d->ai->tool, "AI tool");
		CHECK(d->ai->model, "AI model");
		CHECK(d->ai->session_id, "AI session");
		CHECK(d->ai->prompt_digest, "prompt digest");
	}
	if (d->n_approved_by > MAX_APPROVERS)
		return "too many approvers";
	for (size_t i = 0; i < d->n_approved_by; i++)
		CHECK(d->approved_by[i], "approver");
	if (d->n_scope > 256)
		return "too many scope entries";
	for (size_t i = 0; i < d->n_scope; i++)
		CHECK(d->scope[i], "scope");
	if (d->n_cgroups > 64)
		return "too many cgroups";
	for (size_t i = 0; i < d->n_cgroups; i++)
		CHECK(d->cgroups[i], "cgroup");
#undef CHECK
	if (d->ai && d->ai->prompt_digest && *d->ai->prompt_digest &&
	    !ct_valid_sha256_hex(d->ai->prompt_digest))
		return "prompt digest must be a sha256 in hex (64 characters 0-9a-f)";
	if ((unsigned)d->risk > CHANGETRACE__V1__RISK__RISK_HIGH)
		return "unknown risk level";
	if ((unsigned)d->status > CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_ABORTED)
		return "unknown deploy status";
	return NULL;
}

bool ct_valid_sha256_hex(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
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
	if ((why = ct_validate_deploy(&copy))) {
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
	if ((why = ct_validate_deploy(q->deploy))) {
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

#define COUNTERS_MAX 160

/* Every counter array below holds COUNTERS_MAX. */
static void add_counter(PbCounter *c, PbCounter **ptrs, size_t *n, const char *name, uint64_t v)
{
	if (*n >= COUNTERS_MAX)
		return;
	c[*n] = (PbCounter)CHANGETRACE__V1__COUNTER__INIT;
	c[*n].name = (char *)name;
	c[*n].value = v;
	ptrs[*n] = &c[*n];
	(*n)++;
}

static void status(struct ct_agent *a, int fd)
{
	PbResponse r = CHANGETRACE__V1__RESPONSE__INIT;
	PbStatusResponse s = CHANGETRACE__V1__STATUS_RESPONSE__INIT;
	PbProbeStatus ps[CT_MAX_PROBES], *pp[CT_MAX_PROBES];
	PbCounter seen[COUNTERS_MAX], *seenp[COUNTERS_MAX], drop[COUNTERS_MAX], *dropp[COUNTERS_MAX];
	PbCounter other[COUNTERS_MAX], *otherp[COUNTERS_MAX];
	PbPathStatus paths[CT_PATH_MAX], *pathp[CT_PATH_MAX];
	struct ct_proc_stats pst;
	struct ct_net_stats nst;
	size_t ns = 0, nd = 0, no = 0;

	/* counters must agree: take in what the kernel already produced */
	ct_agent_drain_for(a, 20ull * 1000000);	/* current counters, but answer under a burst */
	s.agent_pid = getpid();
	s.uptime_ns = ct_now_mono_ns() - a->start_mono_ns;
	s.version = CT_VERSION;
	for (int i = 0; i < a->n_probes; i++) {
		ps[i] = (PbProbeStatus)CHANGETRACE__V1__PROBE_STATUS__INIT;
		ps[i].name = (char *)a->probes[i].name;
		ps[i].attach_type = (char *)a->probes[i].attach_type;
		ps[i].attached = a->probes[i].attached;
		ps[i].error = a->probes[i].error;
		pp[i] = &ps[i];
	}
	s.n_probes = a->n_probes;
	s.probes = pp;
	add_counter(seen, seenp, &ns, "exec", ct_agent_counter(a, CT_CNT_SEEN_EXEC));
	add_counter(seen, seenp, &ns, "exit", ct_agent_counter(a, CT_CNT_SEEN_EXIT));
	add_counter(seen, seenp, &ns, "file", ct_agent_counter(a, CT_CNT_SEEN_FILE));
	add_counter(seen, seenp, &ns, "net", ct_agent_counter(a, CT_CNT_SEEN_NET));
	add_counter(drop, dropp, &nd, "exec", ct_agent_counter(a, CT_CNT_DROP_EXEC));
	add_counter(drop, dropp, &nd, "exit", ct_agent_counter(a, CT_CNT_DROP_EXIT));
	add_counter(drop, dropp, &nd, "file", ct_agent_counter(a, CT_CNT_DROP_FILE));
	add_counter(drop, dropp, &nd, "net", ct_agent_counter(a, CT_CNT_DROP_NET));
	ct_proc_get_stats(&pst);
	add_counter(other, otherp, &no, "events_emitted_exec", a->emitted[CT_KIND_EXEC]);
	add_counter(other, otherp, &no, "events_emitted_exit", a->emitted[CT_KIND_EXIT]);
	add_counter(other, otherp, &no, "malformed_records", a->malformed_records);
	add_counter(other, otherp, &no, "task_map_full", ct_agent_counter(a, CT_CNT_TASK_MAP_FULL));
	add_counter(other, otherp, &no, "argv_unreadable", ct_agent_counter(a, CT_CNT_ARGV_FAULT));
	add_counter(other, otherp, &no, "proc_cache_entries", pst.entries);
	add_counter(other, otherp, &no, "proc_cache_seeded", pst.seeded);
	add_counter(other, otherp, &no, "proc_cache_overflow", pst.overflow);
	add_counter(other, otherp, &no, "deploys", ct_deploys_count());
	add_counter(other, otherp, &no, "attributed_by_environment", ct_agent_counter(a, CT_CNT_ATTR_ENV));
	add_counter(other, otherp, &no, "attributed_by_cgroup", ct_agent_counter(a, CT_CNT_ATTR_CGROUP));
	add_counter(other, otherp, &no, "environment_unreadable", ct_agent_counter(a, CT_CNT_ENV_FAULT));
	add_counter(other, otherp, &no, "env_id_slots_full", ct_agent_counter(a, CT_CNT_ENV_SLOTS_FULL));
	add_counter(other, otherp, &no, "env_id_untrusted", ct_agent_counter(a, CT_CNT_ENV_UNTRUSTED));
	add_counter(other, otherp, &no, "deploy_adopt_failures", a->deploy_adopt_failures);
	add_counter(other, otherp, &no, "deploys_evicted", a->deploys_evicted);
	add_counter(other, otherp, &no, "registry_save_failures", a->registry_save_failures);
	add_counter(other, otherp, &no, "registry_load_failures", a->registry_load_failures);
	add_counter(other, otherp, &no, "events_emitted_deploy", a->emitted[CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_DEPLOY]);
	add_counter(other, otherp, &no, "control_requests", a->ctl_requests);
	add_counter(other, otherp, &no, "control_refused", a->ctl_refused);
	add_counter(other, otherp, &no, "control_bad_frames", a->ctl_bad_frames);
	add_counter(other, otherp, &no, "gap_events", a->paths.gap_events);
	add_counter(other, otherp, &no, "probe_recursion_misses", ct_agent_probe_misses(a));
	{
		struct ct_file_stats fs;
		struct ct_content_stats cs;

		ct_file_get_stats(&fs);
		ct_content_get_stats(&cs);
		add_counter(other, otherp, &no, "file_watch_paths", a->watches.n);
		/* 1: unwatched directories are remembered in the kernel (see file.bpf.c) */
		add_counter(other, otherp, &no, "file_walk_cache", a->skel->bss->ct_walk_cache_on);
		add_counter(other, otherp, &no, "file_walk_generation", a->skel->bss->ct_walk_gen);
		if (a->feed_file) {
			struct ct_feed_file_stats ffs;

			ct_feed_file_get_stats(a->feed_file, &ffs);
			add_counter(other, otherp, &no, "feed_file_events", ffs.events);
			add_counter(other, otherp, &no, "feed_file_bytes", ffs.bytes);
			add_counter(other, otherp, &no, "feed_file_rotated", ffs.files_rotated);
			add_counter(other, otherp, &no, "feed_file_removed", ffs.files_removed);
			add_counter(other, otherp, &no, "feed_file_write_failures", ffs.write_failures);
		}
		add_counter(other, otherp, &no, "file_records", fs.records);
		add_counter(other, otherp, &no, "file_changes", fs.changes);
		add_counter(other, otherp, &no, "file_coalesced", fs.coalesced);
		add_counter(other, otherp, &no, "file_pending", fs.pending);
		add_counter(other, otherp, &no, "file_pending_evicted", fs.pending_evicted);
		add_counter(other, otherp, &no, "file_pending_peak", fs.pending_peak);
		add_counter(other, otherp, &no, "file_writes_unreported", fs.writes_unreported);
		add_counter(other, otherp, &no, "file_not_watched", fs.not_watched);
		add_counter(other, otherp, &no, "file_unresolved", fs.unresolved);
		add_counter(other, otherp, &no, "file_malformed", fs.malformed);
		add_counter(other, otherp, &no, "file_digest_raced", fs.raced);
		add_counter(other, otherp, &no, "file_failed_ops", ct_agent_counter(a, CT_CNT_FILE_FAILED));
		add_counter(other, otherp, &no, "file_path_truncated", ct_agent_counter(a, CT_CNT_FILE_PATH_TRUNC));
		add_counter(other, otherp, &no, "file_burst_opens", ct_agent_counter(a, CT_CNT_FILE_BURST_OPENS));
		add_counter(other, otherp, &no, "file_burst_late", ct_agent_counter(a, CT_CNT_FILE_BURST_LATE));
		add_counter(other, otherp, &no, "file_track_full", ct_agent_counter(a, CT_CNT_FILE_TRACK_FULL));
		add_counter(other, otherp, &no, "file_close_shared", ct_agent_counter(a, CT_CNT_FILE_CLOSE_SHARED));
		add_counter(other, otherp, &no, "file_track_swept", fs.swept);
		add_counter(other, otherp, &no, "file_fds_swept", fs.fds_swept);
		add_counter(other, otherp, &no, "file_closed_unseen", fs.closed_unseen);
		add_counter(other, otherp, &no, "file_baseline_done", cs.baseline_done);
		add_counter(other, otherp, &no, "file_baseline_files", cs.baseline_files);
		add_counter(other, otherp, &no, "file_baseline_skipped", cs.baseline_skipped);
		add_counter(other, otherp, &no, "file_baseline_ms", cs.baseline_ms);
		add_counter(other, otherp, &no, "file_tracked", cs.tracked);
		add_counter(other, otherp, &no, "file_blobs_written", cs.blobs_written);
		add_counter(other, otherp, &no, "file_blob_failures", cs.blob_failures);
		add_counter(other, otherp, &no, "file_read_failures", cs.read_failures);
	}
	if (a->store) {
		struct ct_store_stats sst;

		ct_store_get_stats(a->store, &sst);
		add_counter(other, otherp, &no, "store_events_written", sst.events_written);
		add_counter(other, otherp, &no, "store_events_failed", sst.events_failed);
		add_counter(other, otherp, &no, "store_events_pending", sst.pending_events);
		add_counter(other, otherp, &no, "store_bytes_written", sst.bytes_written);
		add_counter(other, otherp, &no, "store_blocks_written", sst.blocks_written);
		add_counter(other, otherp, &no, "store_segments", sst.segments);
		add_counter(other, otherp, &no, "store_segments_retired", sst.segments_retired);
		add_counter(other, otherp, &no, "store_torn_bytes_truncated", sst.torn_bytes_truncated);
		add_counter(other, otherp, &no, "store_last_errno", sst.last_errno);
	}
	{
		struct ct_unobserved_stats us;

		ct_unobserved_get_stats(&us);
		s.last_state = (char *)ct_unobserved_mode_name(ct_unobserved_mode());
		s.last_state_detail = (char *)ct_unobserved_detail();
		s.unobserved_changes = us.changes;
		add_counter(other, otherp, &no, "unobserved_changes", us.changes);
		add_counter(other, otherp, &no, "unobserved_files_compared", us.files_compared);
		add_counter(other, otherp, &no, "unobserved_superseded", us.superseded);
		add_counter(other, otherp, &no, "unobserved_dropped", us.dropped);
		add_counter(other, otherp, &no, "unobserved_compare_ms", us.compare_ms);
		add_counter(other, otherp, &no, "unobserved_compare_done", us.compare_done);
		add_counter(other, otherp, &no, "state_replayed_events", us.replayed);
		add_counter(other, otherp, &no, "state_files", us.state_files);
		add_counter(other, otherp, &no, "state_rulesets", us.state_rulesets);
		add_counter(other, otherp, &no, "state_snapshots", us.snapshots);
		add_counter(other, otherp, &no, "state_snapshot_failures", us.snapshot_failures);
		add_counter(other, otherp, &no, "state_snapshot_ms", us.snapshot_ms);
	}
	add_counter(other, otherp, &no, "guard_verdicts", a->guard.verdicts);
	add_counter(other, otherp, &no, "guard_halts", a->guard.halts);
	add_counter(other, otherp, &no, "guard_kills", a->guard.kills);
	add_counter(other, otherp, &no, "guard_enforce_failures", a->guard.enforce_failures);
	ct_net_get_stats(&nst);
	add_counter(other, otherp, &no, "net_changes", nst.changes);
	add_counter(other, otherp, &no, "net_rejected", nst.rejected);
	add_counter(other, otherp, &no, "net_unconfirmed", nst.unconfirmed);
	add_counter(other, otherp, &no, "net_malformed", nst.malformed);
	add_counter(other, otherp, &no, "net_ruleset_snapshots", nst.snapshots);
	add_counter(other, otherp, &no, "net_ruleset_failures", nst.snapshot_failures);
	if (a->feed) {
		struct ct_feed_stats fs;

		ct_feed_get_stats(a->feed, &fs);
		add_counter(other, otherp, &no, "feed_subscribers", fs.subscribers);
		add_counter(other, otherp, &no, "feed_accepted", fs.accepted);
		add_counter(other, otherp, &no, "feed_refused", fs.refused);
		add_counter(other, otherp, &no, "feed_events_sent", fs.events_sent);
		add_counter(other, otherp, &no, "feed_events_missed", fs.events_missed);
		add_counter(other, otherp, &no, "feed_gap_notices", fs.gap_notices);
	}
	if (a->otlp) {
		struct ct_otlp_stats os;

		ct_otlp_get_stats(a->otlp, &os);
		add_counter(other, otherp, &no, "otlp_exported", os.exported);
		add_counter(other, otherp, &no, "otlp_failed", os.failed);
		add_counter(other, otherp, &no, "otlp_rejected", os.rejected);
		add_counter(other, otherp, &no, "otlp_retries", os.retries);
		add_counter(other, otherp, &no, "otlp_requests", os.requests);
		add_counter(other, otherp, &no, "otlp_position", os.position);
		add_counter(other, otherp, &no, "otlp_lag_events", os.lag_events);
		add_counter(other, otherp, &no, "otlp_lag_ms", os.lag_ms);
		add_counter(other, otherp, &no, "otlp_last_http_status", os.last_http_status);
		add_counter(other, otherp, &no, "otlp_seq_skipped", os.seq_skipped);
		add_counter(other, otherp, &no, "otlp_position_errors", os.position_errors);
	}
	s.n_seen = ns;
	s.seen = seenp;
	s.n_dropped = nd;
	s.dropped = dropp;
	s.n_counters = no;
	s.counters = otherp;
	for (int i = 0; i < CT_PATH_MAX; i++) {
		paths[i] = (PbPathStatus)CHANGETRACE__V1__PATH_STATUS__INIT;
		pathp[i] = &paths[i];
	}
	paths[CT_PATH_BULK].name = "bulk";
	paths[CT_PATH_BULK].capacity_bytes = a->paths.ring[CT_PATH_BULK].capacity;
	paths[CT_PATH_BULK].high_water_bytes = a->paths.ring[CT_PATH_BULK].high_water;
	paths[CT_PATH_BULK].lost = ct_agent_counter(a, CT_CNT_DROP_EXEC) +
				   ct_agent_counter(a, CT_CNT_DROP_EXIT);
	paths[CT_PATH_CHANGE].name = "change";
	paths[CT_PATH_CHANGE].capacity_bytes = a->paths.ring[CT_PATH_CHANGE].capacity;
	paths[CT_PATH_CHANGE].high_water_bytes = a->paths.ring[CT_PATH_CHANGE].high_water;
	paths[CT_PATH_CHANGE].lost = ct_agent_counter(a, CT_CNT_DROP_FILE) +
				     ct_agent_counter(a, CT_CNT_DROP_NET);
	s.n_paths = CT_PATH_MAX;
	s.paths = pathp;
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
	n = ct_guard_decide(a, g->deploy_id, g->action, pids, ARRAY_SIZE(pids), err, sizeof(err));
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
}
