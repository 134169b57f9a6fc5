/*
 * `changetrace status`: probes, events seen and dropped per kind, the two
 * ring paths, and every module's counters, walked from their tables.
 */
#include <unistd.h>

#include "agent.h"
#include "changetrace.skel.h"
#include "collector/container_ctx.h"
#include "collector/event_file.h"
#include "collector/event_net.h"
#include "collector/file_content.h"
#include "collector/proc_cache.h"
#include "collector/unobserved.h"
#include "collector/sysctl_values.h"
#include "export/feed.h"
#include "export/feed_file.h"
#include "export/otlp.h"
#include "lib/counters.h"
#include "lib/util.h"
#include "store/deploys.h"
#include "store/store.h"

/* The kernel's per-CPU counters, by index. */
struct kcounter_def {
	const char *name;
	unsigned idx;
};

static const struct kcounter_def kernel_seen[] = {
	{ "exec", CT_CNT_SEEN_EXEC }, { "exit", CT_CNT_SEEN_EXIT },
	{ "file", CT_CNT_SEEN_FILE }, { "net", CT_CNT_SEEN_NET },
};

static const struct kcounter_def kernel_dropped[] = {
	{ "exec", CT_CNT_DROP_EXEC }, { "exit", CT_CNT_DROP_EXIT },
	{ "file", CT_CNT_DROP_FILE }, { "net", CT_CNT_DROP_NET },
	{ "guard", CT_CNT_EXEC_VERDICT_DROP },
};

static const struct kcounter_def kernel_other[] = {
	{ "task_map_full", CT_CNT_TASK_MAP_FULL },
	{ "argv_unreadable", CT_CNT_ARGV_FAULT },
	{ "attributed_by_environment", CT_CNT_ATTR_ENV },
	{ "attributed_by_cgroup", CT_CNT_ATTR_CGROUP },
	{ "environment_unreadable", CT_CNT_ENV_FAULT },
	{ "env_id_slots_full", CT_CNT_ENV_SLOTS_FULL },
	{ "env_id_untrusted", CT_CNT_ENV_UNTRUSTED },
	{ "env_id_claims_unnamed", CT_CNT_ENV_CLAIM_MARKED },
	{ "task_identity_mismatch", CT_CNT_TASK_STALE },
	{ "file_failed_ops", CT_CNT_FILE_FAILED },
	{ "file_path_truncated", CT_CNT_FILE_PATH_TRUNC },
	{ "file_burst_opens", CT_CNT_FILE_BURST_OPENS },
	{ "file_burst_late", CT_CNT_FILE_BURST_LATE },
	{ "file_track_full", CT_CNT_FILE_TRACK_FULL },
	{ "file_close_shared", CT_CNT_FILE_CLOSE_SHARED },
	{ "guard_exec_matches", CT_CNT_EXEC_VERDICT },
	{ "guard_exec_signal_failures", CT_CNT_EXEC_SIGNAL_FAIL },
};

/* The agent's own counters (struct ct_agent). */
static const struct ct_counter_def agent_defs[] = {
	CT_COUNTER("events_emitted_exec", struct ct_agent, emitted[CT_KIND_EXEC]),
	CT_COUNTER("events_emitted_exit", struct ct_agent, emitted[CT_KIND_EXIT]),
	CT_COUNTER("events_emitted_deploy", struct ct_agent,
		   emitted[CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_DEPLOY]),
	CT_COUNTER("malformed_records", struct ct_agent, malformed_records),
	CT_COUNTER("deploy_adopt_failures", struct ct_agent, deploy_adopt_failures),
	CT_COUNTER("deploys_evicted", struct ct_agent, deploys_evicted),
	CT_COUNTER("registry_save_failures", struct ct_agent, registry_save_failures),
	CT_COUNTER("registry_load_failures", struct ct_agent, registry_load_failures),
	CT_COUNTER("control_requests", struct ct_agent, ctl_requests),
	CT_COUNTER("control_refused", struct ct_agent, ctl_refused),
	CT_COUNTER("control_bad_frames", struct ct_agent, ctl_bad_frames),
	CT_COUNTER("control_busy_refused", struct ct_agent, ctl_busy_refused),
	CT_COUNTER("control_evicted", struct ct_agent, ctl_evicted),
	CT_COUNTER("control_deadline_dropped", struct ct_agent, ctl_deadline_dropped),
	CT_COUNTER("task_entries_exited_at_start", struct ct_agent, tasks_pruned_exited),
	CT_COUNTER("task_entries_reused_at_start", struct ct_agent, tasks_pruned_reused),
	CT_COUNTER("task_entries_unverifiable", struct ct_agent, tasks_unverifiable),
	CT_COUNTER("task_entries_upgraded", struct ct_agent, tasks_upgraded),
	CT_COUNTER("seq_reserve_failures", struct ct_agent, seq_reserve_failures),
	CT_COUNTER("deploy_events_recovered", struct ct_agent, deploy_events_recovered),
	CT_COUNTER("gap_events", struct ct_agent, paths.gap_events),
	CT_COUNTER("events_utf8_repaired", struct ct_agent, utf8_repaired),
	CT_COUNTER("events_utf8_repair_failures", struct ct_agent, utf8_repair_failures),
	CT_COUNTER("image_catch_ups", struct ct_agent, catch_ups),
	CT_COUNTER("image_from_proc", struct ct_agent, col.image_from_proc),
	CT_COUNTER("image_from_parent", struct ct_agent, col.image_from_parent),
	CT_COUNTER("image_unknown", struct ct_agent, col.image_unknown),
	CT_COUNTER("reloads", struct ct_agent, reloads),
	CT_COUNTER("reload_failures", struct ct_agent, reload_failures),
	CT_COUNTER("service_watchdog_pings", struct ct_agent, service.pings),
	CT_COUNTER("service_notify_failures", struct ct_agent, service.notify_failures),
};
static const struct ct_counter_table agent_counters = CT_COUNTER_TABLE(agent_defs);

static void add_kernel(struct ct_agent *a, struct ct_counter_list *l,
		       const struct kcounter_def *defs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ct_counters_add(l, defs[i].name, ct_agent_counter(a, defs[i].idx));
}

static void add_module_counters(struct ct_agent *a, struct ct_counter_list *l)
{
	struct ct_proc_stats pst;
	struct ct_file_stats fst;
	struct ct_content_stats cst;
	struct ct_net_stats nst;
	struct ct_unobserved_stats ust;
	struct ct_sysctl_stats sysst;

	add_kernel(a, l, kernel_other, ARRAY_SIZE(kernel_other));
	ct_counters_add_table(l, &agent_counters, a);
	ct_counters_add(l, "deploys", ct_deploys_count());
	{
		unsigned priv, pub;

		ct_ctl_count(&priv, &pub);
		ct_counters_add(l, "control_clients_privileged", priv);
		ct_counters_add(l, "control_clients_public", pub);
	}
	ct_counters_add(l, "probe_recursion_misses", ct_agent_probe_misses(a));
	ct_counters_add(l, "service_watchdog_usec", a->service.watchdog_ns / 1000);
	ct_proc_get_stats(&pst);
	ct_counters_add_table(l, &ct_proc_counters, &pst);

	ct_counters_add(l, "file_watch_paths", a->watches.n);
	/* 1: unwatched directories are remembered in the kernel (see file.bpf.c) */
	ct_counters_add(l, "file_walk_cache", a->skel->bss->ct_walk_cache_on);
	ct_counters_add(l, "file_walk_generation", a->skel->bss->ct_walk_gen);
	ct_file_get_stats(a->files, &fst);
	ct_counters_add_table(l, &ct_file_counters, &fst);
	ct_content_get_stats(&cst);
	ct_counters_add_table(l, &ct_content_counters, &cst);

	ct_net_get_stats(&nst);
	ct_counters_add_table(l, &ct_net_counters, &nst);
	ct_unobserved_get_stats(&ust);
	ct_counters_add_table(l, &ct_unobserved_counters, &ust);
	ct_sysctl_get_stats(&sysst);
	ct_counters_add_table(l, &ct_sysctl_counters, &sysst);
	{
		struct ct_containers_stats cst2;

		ct_containers_get_stats(&cst2);
		ct_counters_add_table(l, &ct_containers_counters, &cst2);
	}
	ct_counters_add_table(l, &ct_guard_counters, &a->guard);

	if (a->store) {
		struct ct_store_stats sst;

		ct_store_get_stats(a->store, &sst);
		ct_counters_add_table(l, &ct_store_counters, &sst);
		ct_counters_add(l, "store_last_errno", sst.last_errno);
		ct_counters_add(l, "seq_reserved", a->state.cur.seq_reserved);
	}
	if (a->feed_file) {
		struct ct_feed_file_stats ffs;

		ct_feed_file_get_stats(a->feed_file, &ffs);
		ct_counters_add_table(l, &ct_feed_file_counters, &ffs);
	}
	if (a->feed) {
		struct ct_feed_stats fs;

		ct_feed_get_stats(a->feed, &fs);
		ct_counters_add_table(l, &ct_feed_counters, &fs);
	}
	if (a->otlp) {
		struct ct_otlp_stats os;

		ct_otlp_get_stats(a->otlp, &os);
		ct_counters_add_table(l, &ct_otlp_counters, &os);
	}
}

static void fill_path(PbPathStatus *p, const char *name, const struct ct_ring_watch *w, uint64_t lost)
{
	*p = (PbPathStatus)CHANGETRACE__V1__PATH_STATUS__INIT;
	p->name = (char *)name;
	p->capacity_bytes = w->capacity;
	p->high_water_bytes = w->high_water;
	p->lost = lost;
}

void ct_agent_status(struct ct_agent *a, struct ct_status_buf *b, PbStatusResponse *s)
{
	struct ct_counter_list seen = { b->seen, b->seenp, 0, CT_STATUS_COUNTERS_MAX };
	struct ct_counter_list dropped = { b->dropped, b->droppedp, 0, CT_STATUS_COUNTERS_MAX };
	struct ct_counter_list other = { b->other, b->otherp, 0, CT_STATUS_COUNTERS_MAX };

	*s = (PbStatusResponse)CHANGETRACE__V1__STATUS_RESPONSE__INIT;
	s->agent_pid = getpid();
	s->uptime_ns = ct_now_mono_ns() - a->start_mono_ns;
	s->version = CT_VERSION;
	/* what this start compared against, said plainly (a wiped store too) */
	s->last_state = (char *)ct_unobserved_mode_name(ct_unobserved_mode());
	s->last_state_detail = (char *)ct_unobserved_detail();
	{
		struct ct_unobserved_stats us;

		ct_unobserved_get_stats(&us);
		s->unobserved_changes = us.changes;
	}
	for (int i = 0; i < a->n_probes; i++) {
		b->probes[i] = (PbProbeStatus)CHANGETRACE__V1__PROBE_STATUS__INIT;
		b->probes[i].name = (char *)a->probes[i].name;
		b->probes[i].attach_type = (char *)a->probes[i].attach_type;
		b->probes[i].attached = a->probes[i].attached;
		b->probes[i].error = a->probes[i].error;
		b->probep[i] = &b->probes[i];
	}
	s->n_probes = a->n_probes;
	s->probes = b->probep;

	add_kernel(a, &seen, kernel_seen, ARRAY_SIZE(kernel_seen));
	add_kernel(a, &dropped, kernel_dropped, ARRAY_SIZE(kernel_dropped));
	add_module_counters(a, &other);
	s->n_seen = seen.n;
	s->seen = b->seenp;
	s->n_dropped = dropped.n;
	s->dropped = b->droppedp;
	s->n_counters = other.n;
	s->counters = b->otherp;

	fill_path(&b->paths[CT_PATH_BULK], "bulk", &a->paths.ring[CT_PATH_BULK],
		  ct_agent_counter(a, CT_CNT_DROP_EXEC) + ct_agent_counter(a, CT_CNT_DROP_EXIT));
	fill_path(&b->paths[CT_PATH_CHANGE], "change", &a->paths.ring[CT_PATH_CHANGE],
		  ct_agent_counter(a, CT_CNT_DROP_FILE) + ct_agent_counter(a, CT_CNT_DROP_NET) +
		  ct_agent_counter(a, CT_CNT_EXEC_VERDICT_DROP));
	for (int i = 0; i < CT_PATH_MAX; i++)
		b->pathp[i] = &b->paths[i];
	s->n_paths = CT_PATH_MAX;
	s->paths = b->pathp;
}
