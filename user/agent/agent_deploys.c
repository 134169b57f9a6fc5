#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent_actor.h"
#include "agent_deploys.h"
#include "collector/container_ctx.h"
#include "lib/cgroup_path.h"
#include "changetrace.skel.h"
#include "lib/task_identity.h"
#include "lib/util.h"

struct deploy_key {
	char id[CT_DEPLOY_ID_LEN];
};

static struct ct_event_buf dbuf;

static bool running(const struct ct_deploy *e)
{
	return e->pb->status == CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_RUNNING ||
	       e->pb->status == CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_UNSPECIFIED;
}

/* recovered_at: 0, or the wall time of an event re-emitted after it was
 * lost (ct_agent_deploy_reemit) */
static void emit_deploy_at(struct ct_agent *a, Changetrace__V1__DeployAction action,
			   const struct ct_deploy *e, uint64_t recovered_at)
{
	PbDeployRecord rec = CHANGETRACE__V1__DEPLOY_RECORD__INIT;
	const PbRegistrant *r = e->pb->registered_by;
	/* the process that asked for this action, not the deploy's registrant */
	bool actor = ct_agent_fill_actor(a, &dbuf);

	ct_event_envelope(&a->col, &dbuf, &dbuf.ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_DEPLOY,
			  ct_now_mono_ns());
	if (recovered_at) {
		dbuf.ev.recovered = 1;
		dbuf.ev.time_unix_nano = recovered_at;
		dbuf.ev.monotonic_ns = 0;	/* possibly another boot's */
	}
	if (!actor) {
		dbuf.proc = (PbProcess)CHANGETRACE__V1__PROCESS__INIT;
		if (r && action == CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_START) {
			dbuf.proc.pid = r->pid;
			dbuf.proc.uid = r->uid;
			dbuf.proc.exe = r->exe;
		}
	}
	dbuf.ev.process = &dbuf.proc;
	dbuf.attr = (PbAttribution)CHANGETRACE__V1__ATTRIBUTION__INIT;
	ct_strlcpy(dbuf.deploy_id, e->pb->id, sizeof(dbuf.deploy_id));
	dbuf.attr.deploy_id = dbuf.deploy_id;
	dbuf.attr.unregistered = !e->registered;
	dbuf.attr.ai_assisted = e->pb->ai && e->pb->ai->ai_assisted;
	dbuf.ev.attribution = &dbuf.attr;
	rec.action = action;
	rec.deploy = e->pb;
	dbuf.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_DEPLOY;
	dbuf.ev.deploy = &rec;
	ct_agent_emit(a, &dbuf.ev);
}

static void emit_deploy(struct ct_agent *a, Changetrace__V1__DeployAction action,
			const struct ct_deploy *e)
{
	emit_deploy_at(a, action, e, 0);
}

void ct_agent_deploy_reemit(struct ct_agent *a, const struct ct_deploy *e,
			    Changetrace__V1__DeployAction action, uint64_t wall_ns)
{
	emit_deploy_at(a, action, e, wall_ns);
}

static int mkdir_p(const char *dir)
{
	char p[4096];

	ct_strlcpy(p, dir, sizeof(p));
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

void ct_agent_deploys_save(struct ct_agent *a)
{
	char err[512];

	if (mkdir_p(a->opts.store_dir) < 0)
		snprintf(err, sizeof(err), "cannot create %s: %s", a->opts.store_dir,
			 strerror(errno));
	else if (ct_deploys_save(a->registry_path, err, sizeof(err)) == 0)
		return;
	a->registry_save_failures++;
	ct_err("agent: deploy registry not saved: %s", err);
}

static void map_id(struct ct_agent *a, const struct ct_deploy *e)
{
	struct deploy_key k = {};

	ct_strlcpy(k.id, e->pb->id, sizeof(k.id));
	bpf_map_update_elem(a->deploy_ids_fd, &k, &e->slot, BPF_ANY);
}

int ct_cgroup_resolve(const char *path, uint64_t *id, char *rel, size_t rel_len,
		      char *err, size_t errlen)
{
	const char *root = ct_cgroup2_root();
	char abs[PATH_MAX], real[PATH_MAX];
	size_t rl;

	if (!root) {
		snprintf(err, errlen, "no cgroup v2 hierarchy is mounted");
		return -1;
	}
	rl = strlen(root);
	if (!path || !*path || strstr(path, "/../") || !strncmp(path, "../", 3) ||
	    (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")) || !strcmp(path, "..")) {
		snprintf(err, errlen, "invalid cgroup path '%s'", path ? path : "");
		return -1;
	}
	if (!strncmp(path, root, rl) && (path[rl] == '/' || !path[rl]))
		snprintf(abs, sizeof(abs), "%s", path);
	else
		snprintf(abs, sizeof(abs), "%s%s%s", root, path[0] == '/' ? "" : "/", path);
	if (!realpath(abs, real) || strncmp(real, root, rl) || (real[rl] && real[rl] != '/') ||
	    !(*id = ct_cgroup_id_of(real))) {
		snprintf(err, errlen, "%s is not a cgroup under the cgroup2 mount %s", abs, root);
		return -1;
	}
	if (!real[rl]) {
		snprintf(err, errlen, "refusing to claim the root cgroup (every process on the host)");
		return -1;
	}
	snprintf(rel, rel_len, "%s", real + rl);
	return 0;
}

static void set_claims_count(struct ct_agent *a)
{
	uint64_t k, next;
	uint32_t n = 0;
	int rc;

	for (rc = bpf_map_get_next_key(a->cgroups_fd, NULL, &k); rc == 0;
	     rc = bpf_map_get_next_key(a->cgroups_fd, &k, &next), k = next)
		n++;
	a->skel->bss->ct_cgroup_claims = n;
}

/* Attribute the processes already living in a claimed cgroup subtree
 * (they may never fork or exec again). */
static uint32_t tag_slot;
static int tag_fd;

static int tag_procs(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char file[PATH_MAX], line[32];
	FILE *f;

	if (type != FTW_D)
		return 0;
	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	f = fopen(file, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		struct ct_task_attr attr = { .deploy_slot = tag_slot, .method = CT_ATTR_CGROUP };
		uint32_t pid = strtoul(line, NULL, 10);
		uint64_t ticks;

		if (!pid || ct_task_start_ticks(pid, &ticks) < 0)
			continue;	/* gone already */
		attr.start_ticks = ticks;
		attr.origin_pid = pid;
		bpf_map_update_elem(tag_fd, &pid, &attr, BPF_NOEXIST);
	}
	fclose(f);
	return 0;
}

static int claim_cgroups(struct ct_agent *a, struct ct_deploy *e, char *err, size_t errlen)
{
	uint64_t ids[64];
	size_t n = e->pb->n_cgroups;

	if (n > ARRAY_SIZE(ids)) {
		snprintf(err, errlen, "at most %zu cgroups per deploy", ARRAY_SIZE(ids));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char rel[PATH_MAX];
		uint32_t other;

		if (ct_cgroup_resolve(e->pb->cgroups[i], &ids[i], rel, sizeof(rel), err, errlen) < 0)
			return -1;
		if (bpf_map_lookup_elem(a->cgroups_fd, &ids[i], &other) == 0 && other != e->slot) {
			struct ct_deploy *o = ct_deploys_by_slot(other);

			snprintf(err, errlen, "cgroup %s is already claimed by deploy %s", rel,
				 o ? o->pb->id : "?");
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		char abs[PATH_MAX];

		if (bpf_map_update_elem(a->cgroups_fd, &ids[i], &e->slot, BPF_ANY) < 0) {
			snprintf(err, errlen, "cannot claim cgroup: %s", strerror(errno));
			return -1;
		}
		snprintf(abs, sizeof(abs), "%s%s", ct_cgroup2_root(),
			 strcmp(e->pb->cgroups[i], "/") ? e->pb->cgroups[i] : "");
		tag_slot = e->slot;
		tag_fd = a->tasks_fd;
		nftw(abs, tag_procs, 16, FTW_PHYS | FTW_MOUNT);
	}
	set_claims_count(a);
	return 0;
}

static void release_cgroups(struct ct_agent *a, uint32_t slot)
{
	uint64_t k, next, del[256];
	size_t nd = 0;
	uint32_t v;
	int rc;

	for (rc = bpf_map_get_next_key(a->cgroups_fd, NULL, &k); rc == 0 && nd < ARRAY_SIZE(del);
	     rc = bpf_map_get_next_key(a->cgroups_fd, &k, &next), k = next)
		if (bpf_map_lookup_elem(a->cgroups_fd, &k, &v) == 0 && v == slot)
			del[nd++] = k;
	for (size_t i = 0; i < nd; i++)
		bpf_map_delete_elem(a->cgroups_fd, &del[i]);
	set_claims_count(a);
}

/* Claimed paths are stored relative to the cgroup2 mount. Checked before
 * the deploy is registered, so a refused claim registers nothing. */
static int canonical_cgroups(struct ct_agent *a, PbDeploy *d, char (*rel)[PATH_MAX],
			     char **ptrs, char *err, size_t errlen)
{
	uint64_t id;
	uint32_t other;

	if (d->n_cgroups > 64) {
		snprintf(err, errlen, "at most 64 cgroups per deploy");
		return -1;
	}
	for (size_t i = 0; i < d->n_cgroups; i++) {
		if (ct_cgroup_resolve(d->cgroups[i], &id, rel[i], PATH_MAX, err, errlen) < 0)
			return -1;
		if (bpf_map_lookup_elem(a->cgroups_fd, &id, &other) == 0) {
			struct ct_deploy *o = ct_deploys_by_slot(other);

			snprintf(err, errlen, "cgroup %s is already claimed by deploy %s", rel[i],
				 o ? o->pb->id : "?");
			return -1;
		}
		ptrs[i] = rel[i];
	}
	d->cgroups = ptrs;
	return 0;
}

/* Every agent slot is used: forget the deploy that ended longest ago and
 * that no live process or cgroup claim still names (its start and end
 * remain in the event stream and the store). */
static bool evict_one(struct ct_agent *a)
{
	static uint8_t used[CT_DEPLOY_SLOTS];
	struct ct_deploy *best = NULL;
	struct deploy_key dk;
	uint32_t k, next;
	uint64_t ck, cnext;
	struct ct_task_attr attr;
	uint32_t v;
	int rc;

	memset(used, 0, sizeof(used));
	for (rc = bpf_map_get_next_key(a->tasks_fd, NULL, &k); rc == 0;
	     rc = bpf_map_get_next_key(a->tasks_fd, &k, &next), k = next)
		if (bpf_map_lookup_elem(a->tasks_fd, &k, &attr) == 0 &&
		    attr.deploy_slot < CT_DEPLOY_SLOTS)
			used[attr.deploy_slot] = 1;
	for (rc = bpf_map_get_next_key(a->cgroups_fd, NULL, &ck); rc == 0;
	     rc = bpf_map_get_next_key(a->cgroups_fd, &ck, &cnext), ck = cnext)
		if (bpf_map_lookup_elem(a->cgroups_fd, &ck, &v) == 0 && v < CT_DEPLOY_SLOTS)
			used[v] = 1;
	for (uint32_t s = 1; s < CT_KSLOT_FIRST; s++) {
		struct ct_deploy *e = ct_deploys_by_slot(s);

		if (!e || running(e) || used[s])
			continue;
		if (!best || e->pb->end_time_unix_nano < best->pb->end_time_unix_nano)
			best = e;
	}
	if (!best)
		return false;
	memset(&dk, 0, sizeof(dk));
	ct_strlcpy(dk.id, best->pb->id, sizeof(dk.id));
	bpf_map_delete_elem(a->deploy_ids_fd, &dk);
	ct_deploys_remove(best);
	a->deploys_evicted++;
	return true;
}

/*
 * --container and --pod claim their cgroups: a container's own, a pod's
 * whole subtree (so containers it starts later are claimed too). They
 * join the deploy's cgroups, and the references become the full
 * container ids and pod UIDs.
 */
static int container_claims(PbDeploy *d, char **cgroups, char (*paths)[PATH_MAX],
			    char **ids, char (*id_buf)[CT_CTR_ID_LEN],
			    char **uids, char (*uid_buf)[CT_POD_UID_LEN], char *err, size_t errlen)
{
	size_t n = 0;

	if (d->n_cgroups + d->n_containers + d->n_pods > 64) {
		snprintf(err, errlen, "at most 64 cgroups, containers and pods together");
		return -1;
	}
	for (size_t i = 0; i < d->n_cgroups; i++)
		cgroups[n++] = d->cgroups[i];
	for (size_t i = 0; i < d->n_containers; i++, n++) {
		char why[256];

		if (ct_container_cgroup(d->containers[i], paths[n], PATH_MAX, id_buf[i],
					CT_CTR_ID_LEN, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--container %s: %s", d->containers[i], why);
			return -1;
		}
		cgroups[n] = paths[n];
		ids[i] = id_buf[i];
	}
	for (size_t i = 0; i < d->n_pods; i++, n++) {
		char why[256];

		if (ct_pod_cgroup(d->pods[i], paths[n], PATH_MAX, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--pod %s: %s", d->pods[i], why);
			return -1;
		}
		ct_parse_pod_uid(d->pods[i], strlen(d->pods[i]), uid_buf[i]);
		cgroups[n] = paths[n];
		uids[i] = uid_buf[i];
	}
	d->cgroups = cgroups;
	d->n_cgroups = n;
	d->containers = ids;
	d->pods = uids;
	return 0;
}

struct ct_deploy *ct_agent_deploy_start(struct ct_agent *a, const PbDeploy *src,
					const PbRegistrant *reg, char *err, size_t errlen)
{
	static char rel[64][PATH_MAX], claim_paths[64][PATH_MAX];
	static char id_buf[64][CT_CTR_ID_LEN], uid_buf[64][CT_POD_UID_LEN];
	char *ptrs[64], *claim_ptrs[64], *ids[64], *uids[64];
	struct ct_deploy *e = ct_deploys_find(src->id);
	PbDeploy d = *src;

	if (e && e->registered) {
		snprintf(err, errlen, "deploy %s was already started (%s)", src->id,
			 running(e) ? "it is running" : "it has ended");
		return NULL;
	}
	if (container_claims(&d, claim_ptrs, claim_paths, ids, id_buf, uids, uid_buf,
			     err, errlen) < 0)
		return NULL;
	if (canonical_cgroups(a, &d, rel, ptrs, err, errlen) < 0)
		return NULL;
	d.registered_by = (PbRegistrant *)reg;
	d.start_time_unix_nano = ct_now_wall_ns();
	d.end_time_unix_nano = 0;
	d.status = CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_RUNNING;
	d.slot = 0;
	d.unregistered = 0;
	if (!e && ct_deploys_user_full())
		evict_one(a);
	e = ct_deploys_upsert(&d, true);
	if (!e) {
		snprintf(err, errlen, "deploy table is full: %d deploys and none can be forgotten "
			 "(running, or processes still carry them)", CT_KSLOT_FIRST - 1);
		return NULL;
	}
	map_id(a, e);
	if (claim_cgroups(a, e, err, errlen) < 0) {
		/* Registered, but the claim failed: say so, keep the deploy. */
		release_cgroups(a, e->slot);
		e->pb->n_cgroups = 0;
		ct_agent_deploys_save(a);
		emit_deploy(a, CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_START, e);
		return NULL;
	}
	ct_agent_deploys_save(a);
	emit_deploy(a, CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_START, e);
	return e;
}

struct ct_deploy *ct_agent_deploy_end(struct ct_agent *a, const char *id,
				      Changetrace__V1__DeployStatus status,
				      char *err, size_t errlen)
{
	struct ct_deploy *e = ct_deploys_find(id);
	PbDeploy d;

	if (!e) {
		snprintf(err, errlen, "no deploy %s", id);
		return NULL;
	}
	if (!running(e)) {
		snprintf(err, errlen, "deploy %s has already ended", id);
		return NULL;
	}
	d = *e->pb;
	d.status = status;
	d.end_time_unix_nano = ct_now_wall_ns();
	if (ct_deploys_replace(e, &d) < 0) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* New processes in its cgroups are no longer claimed; processes
	 * already attributed keep their attribution until they exit. */
	release_cgroups(a, e->slot);
	ct_agent_deploys_save(a);
	emit_deploy(a, CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_END, e);
	return e;
}

struct ct_deploy *ct_agent_deploy_seen(struct ct_agent *a, const char *id,
				       char *err, size_t errlen)
{
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT;
	struct ct_deploy *e = ct_deploys_find(id);

	if (e)
		return e;
	d.id = (char *)id;
	d.status = CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_RUNNING;
	d.start_time_unix_nano = ct_now_wall_ns();
	if (ct_deploys_user_full())
		evict_one(a);
	e = ct_deploys_upsert(&d, false);
	if (!e) {
		snprintf(err, errlen, "deploy table is full");
		return NULL;
	}
	map_id(a, e);
	ct_agent_deploys_save(a);
	emit_deploy(a, CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_START, e);
	return e;
}

/* An exec carried a CHANGETRACE_DEPLOY_ID nobody registered: the probe
 * assigned it a kernel slot; name that slot. */
static void env_deploy_seen(void *owner, const char *id, uint32_t slot)
{
	struct ct_agent *a = owner;
	const char *why;
	struct ct_deploy *e;

	if (!ct_valid_deploy_id(id, &why) || !(e = ct_deploys_adopt(id, slot))) {
		a->deploy_adopt_failures++;
		return;
	}
	ct_agent_deploys_save(a);
	emit_deploy(a, CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_START, e);
}

/* A record named a kernel slot before its exec reached us (the change
 * path can overtake the bulk path): name it from the id map now, announce
 * it after the current event (ct_agent_deploys_flush), so seqs stay in
 * order. */
static uint32_t pending[64];
static size_t npending;

static void slot_unknown(void *owner, uint32_t slot)
{
	struct ct_agent *a = owner;
	struct deploy_key k, next;
	uint32_t v;
	int rc;

	if (slot < CT_KSLOT_FIRST || slot >= CT_DEPLOY_SLOTS)
		return;
	for (rc = bpf_map_get_next_key(a->deploy_ids_fd, NULL, &k); rc == 0;
	     rc = bpf_map_get_next_key(a->deploy_ids_fd, &k, &next), k = next) {
		char id[CT_DEPLOY_ID_LEN];
		const char *why;

		if (bpf_map_lookup_elem(a->deploy_ids_fd, &k, &v) < 0 || v != slot)
			continue;
		ct_strlcpy(id, k.id, sizeof(id));
		if (!ct_valid_deploy_id(id, &why) || !ct_deploys_adopt(id, slot)) {
			a->deploy_adopt_failures++;
			return;
		}
		ct_agent_deploys_save(a);
		if (npending < ARRAY_SIZE(pending))
			pending[npending++] = slot;
		return;
	}
}

void ct_agent_deploys_flush(struct ct_agent *a)
{
	for (size_t i = 0; i < npending; i++) {
		struct ct_deploy *e = ct_deploys_by_slot(pending[i]);

		if (e)
			emit_deploy(a, CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_START, e);
	}
	npending = 0;
}

/* Bring the pinned id map in line with the registry: ids the probe named
 * while no agent saw them are adopted; stale entries go. */
static void sync_ids(struct ct_agent *a)
{
	struct deploy_key k, next, del[64];
	size_t nd = 0;
	uint32_t slot;
	int rc;

	for (rc = bpf_map_get_next_key(a->deploy_ids_fd, NULL, &k); rc == 0;
	     rc = bpf_map_get_next_key(a->deploy_ids_fd, &k, &next), k = next) {
		struct ct_deploy *e;
		char id[CT_DEPLOY_ID_LEN];
		const char *why;

		if (bpf_map_lookup_elem(a->deploy_ids_fd, &k, &slot) < 0)
			continue;
		ct_strlcpy(id, k.id, sizeof(id));
		e = ct_deploys_find(id);
		if (!e && ct_valid_deploy_id(id, &why) && slot >= CT_KSLOT_FIRST)
			e = ct_deploys_adopt(id, slot);
		if ((!e || e->slot != slot) && nd < ARRAY_SIZE(del))
			del[nd++] = k;
	}
	for (size_t i = 0; i < nd; i++)
		bpf_map_delete_elem(a->deploy_ids_fd, &del[i]);
	for (uint32_t s = 1; s < CT_DEPLOY_SLOTS; s++) {
		struct ct_deploy *e = ct_deploys_by_slot(s);

		if (e)
			map_id(a, e);
	}
	a->skel->data->ct_next_kslot = ct_deploys_max_kslot() + 1;
}

static void sync_cgroups(struct ct_agent *a)
{
	uint64_t k, next;
	char err[256];

	while (bpf_map_get_next_key(a->cgroups_fd, NULL, &k) == 0 &&
	       bpf_map_delete_elem(a->cgroups_fd, &k) == 0)
		;
	(void)next;
	for (uint32_t s = 1; s < CT_DEPLOY_SLOTS; s++) {
		struct ct_deploy *e = ct_deploys_by_slot(s);

		if (!e || !running(e) || !e->pb->n_cgroups)
			continue;
		if (claim_cgroups(a, e, err, sizeof(err)) < 0)
			ct_err("agent: deploy %s: %s", e->pb->id, err);
	}
	set_claims_count(a);
}

/*
 * Entries of processes that exited while no agent was running: the pid is
 * gone, or now names another process (its start time differs), which
 * would otherwise inherit the dead process's deploy. Runs once the probes
 * are attached, so an exit after the walk is the exit probe's to clean
 * (and the probes check every entry they use, ct_task_attr_of).
 */
void ct_agent_tasks_prune(struct ct_agent *a)
{
	uint32_t k, next, *keys = NULL;
	size_t n = 0, cap = 0;
	int rc;

	for (rc = bpf_map_get_next_key(a->tasks_fd, NULL, &k); rc == 0;
	     rc = bpf_map_get_next_key(a->tasks_fd, &k, &next), k = next) {
		if (n == cap) {
			uint32_t *nk = realloc(keys, (cap = cap ? cap * 2 : 1024) * sizeof(*keys));

			if (!nk)
				break;
			keys = nk;
		}
		keys[n++] = k;
	}
	for (size_t i = 0; i < n; i++) {
		struct ct_task_attr attr;
		uint64_t ticks;

		if (bpf_map_lookup_elem(a->tasks_fd, &keys[i], &attr) < 0)
			continue;
		if (ct_task_start_ticks(keys[i], &ticks) < 0) {
			bpf_map_delete_elem(a->tasks_fd, &keys[i]);
			a->tasks_pruned_exited++;
		} else if (ticks != attr.start_ticks) {
			bpf_map_delete_elem(a->tasks_fd, &keys[i]);
			a->tasks_pruned_reused++;
		}
	}
	free(keys);
	if (a->tasks_pruned_reused)
		ct_err("agent: %llu attributed pids now name other processes (reused while no "
		       "agent ran): their attribution was dropped",
		       (unsigned long long)a->tasks_pruned_reused);
}

int ct_agent_deploys_init(struct ct_agent *a)
{
	char err[512];
	int rc;

	a->deploy_ids_fd = bpf_map__fd(a->skel->maps.ct_deploy_ids);
	a->cgroups_fd = bpf_map__fd(a->skel->maps.ct_cgroups);
	a->tasks_fd = bpf_map__fd(a->skel->maps.ct_tasks);
	a->col.env_deploy_seen = env_deploy_seen;
	a->col.slot_unknown = slot_unknown;
	a->col.owner = a;
	snprintf(a->registry_path, sizeof(a->registry_path), "%s/deploys.pb", a->opts.store_dir);
	rc = ct_deploys_load(a->registry_path, err, sizeof(err));
	if (rc < 0) {
		char bad[4200];

		/* Keep the bad file for inspection; never overwrite it. */
		a->registry_load_failures++;
		snprintf(bad, sizeof(bad), "%s.corrupt-%llu", a->registry_path,
			 (unsigned long long)(ct_now_wall_ns() / 1000000000ull));
		if (rename(a->registry_path, bad) == 0)
			ct_err("agent: deploy registry unusable: %s; moved aside to %s, "
			       "starting with an empty registry", err, bad);
		else
			ct_err("agent: deploy registry unusable: %s; starting with an empty "
			       "registry", err);
	}
	sync_ids(a);
	sync_cgroups(a);
	if (ct_deploys_count())
		ct_agent_deploys_save(a);
	return 0;
}
