/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maps shared by every probe file. Each .bpf.c includes this header; the
 * definitions are __weak so `bpftool gen object` links them into one map
 * each (identical weak definitions are merged by libbpf's static linker).
 */
#ifndef CT_MAPS_BPF_H
#define CT_MAPS_BPF_H

#include "changetrace.h"

/* Live attributed processes, keyed by tgid. Only attributed processes are
 * here, so the common (unattributed) case costs one failed lookup. The
 * map is pinned by the agent so attribution survives an agent restart. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_TASK_MAP_MAX);
	__type(key, __u32);
	__type(value, struct ct_task_attr);
} ct_tasks SEC(".maps") __weak;

/* Guardrail state per deploy slot (CT_DEPLOY_* flags). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CT_DEPLOY_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} ct_deploy_flags SEC(".maps") __weak;

/* Stop or kill the current task if its deploy was halted or aborted.
 * Returns the signal sent (0: none). */
static __always_inline int ct_enforce_deploy_flags(const struct ct_task_attr *attr)
{
	__u32 slot = attr->deploy_slot;
	__u32 *flags = bpf_map_lookup_elem(&ct_deploy_flags, &slot);

	if (!flags || !*flags)
		return 0;
	if (*flags & CT_DEPLOY_ABORTED)
		return bpf_send_signal(9 /* SIGKILL */) ? 0 : 9;
	if (*flags & CT_DEPLOY_HALTED)
		return bpf_send_signal(19 /* SIGSTOP */) ? 0 : 19;
	return 0;
}

/* CHANGETRACE_DEPLOY_ID value (NUL-padded) -> deploy slot. Filled by the
 * agent from its registry; the exec probe adds ids nobody registered
 * (slots >= CT_KSLOT_FIRST). Pinned. */
struct ct_deploy_key {
	char id[CT_DEPLOY_ID_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_DEPLOY_SLOTS);
	__type(key, struct ct_deploy_key);
	__type(value, __u32);
} ct_deploy_ids SEC(".maps") __weak;

/* cgroup v2 id -> deploy slot: `deploy start --cgroup/--unit` claims.
 * Checked for the task's cgroup and its ancestors. Pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_CGROUP_CLAIMS);
	__type(key, __u64);
	__type(value, __u32);
} ct_cgroups SEC(".maps") __weak;

/* Bulk path: process events (exec, exit). May be shed under overload. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CT_BULK_RB_BYTES);
} ct_bulk_rb SEC(".maps") __weak;

/* Change path: config and network-policy changes, reserved capacity. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CT_CHANGE_RB_BYTES);
} ct_change_rb SEC(".maps") __weak;

/* Per-CPU counters, indexed by enum ct_counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ct_counters SEC(".maps") __weak;

/* Bulk records wake the collector only once a batch has accumulated; the
 * collector also drains on a short timer, so a lone event waits at most
 * CT_DRAIN_INTERVAL_MS. This keeps one wakeup per batch, not per exec.
 * Change records wake it at once (but see ct_change_submit_flags). */
const volatile __u64 ct_bulk_wakeup_bytes __weak = CT_BULK_WAKEUP_BYTES;

/* A file's close record does not wake the collector (it polls every 20 ms
 * while a change is pending); a change record forces a wakeup once this
 * much waits, since a consumer left behind is never woken by default. */
const volatile __u64 ct_change_wakeup_bytes __weak = CT_CHANGE_RB_BYTES / 4;

/*
 * Set by the collector while it polls the change ring on a short timer (a
 * file change is settling): a record then needs no wakeup. A wakeup is an
 * irq_work, a self-IPI, which on a VM is an exit to the hypervisor, and
 * was the larger part of a watched open's cost. The collector keeps
 * polling one more period after clearing it, for records submitted as it
 * changed.
 */
__u32 ct_collector_polling __weak;

/* Ring space a record of `size` bytes takes (the ring's 8-byte header). */
#define CT_RB_LEN(size) (((size) + 8 + 7) & ~7ull)

/*
 * Does the record that brings the ring's unread bytes to `after` cross
 * `threshold`? Only that record forces a wakeup: forcing one for every
 * record while the backlog stays above the threshold cost a self-IPI per
 * record for as long as the collector took to catch up (a watched loop
 * spent ~0.3 us of 4 in them). The woken collector drains until the ring
 * is empty (its epoll is level-triggered), so one wakeup per crossing is
 * enough.
 */
static __always_inline bool ct_rb_crosses(__u64 after, __u64 len, __u64 threshold)
{
	return after >= threshold && after - len < threshold;
}

static __always_inline __u64 ct_change_submit_flags(__u64 size, __u64 otherwise)
{
	__u64 len = CT_RB_LEN(size);

	if (ct_rb_crosses(bpf_ringbuf_query(&ct_change_rb, BPF_RB_AVAIL_DATA) + len, len,
			  ct_change_wakeup_bytes))
		return BPF_RB_FORCE_WAKEUP;
	return *(volatile __u32 *)&ct_collector_polling ? BPF_RB_NO_WAKEUP : otherwise;
}

/* For a record already reserved: the ring's unread bytes include it. */
static __always_inline __u64 ct_bulk_submit_flags(__u64 size)
{
	return ct_rb_crosses(bpf_ringbuf_query(&ct_bulk_rb, BPF_RB_AVAIL_DATA), CT_RB_LEN(size),
			     ct_bulk_wakeup_bytes)
		       ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void ct_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&ct_counters, &idx);

	if (v)
		(*v)++;
}

/* Nanoseconds per clock tick (NSEC_PER_SEC / USER_HZ), set by the agent. */
const volatile __u64 ct_ns_per_tick __weak = 10000000;

/* A process's start time as /proc/PID/stat shows it: the leader's boot
 * time in clock ticks (exec keeps it; see struct ct_task_attr). t must be
 * a BTF pointer. */
static __always_inline __u64 ct_start_ticks(struct task_struct *t)
{
	return t->group_leader->start_boottime / ct_ns_per_tick;
}

/*
 * The attribution of process tgid (t is one of its tasks), only if the
 * entry is about this very process. An entry is left behind when its
 * process exits while no agent runs (no exit probe): once the pid is
 * reused, the entry would lend the dead process's deploy to whoever got
 * it. Such an entry is dropped at first sight. One division, and only for
 * processes that have an entry.
 */
static __always_inline struct ct_task_attr *ct_task_attr_of(struct task_struct *t, __u32 tgid)
{
	struct ct_task_attr *a = bpf_map_lookup_elem(&ct_tasks, &tgid);

	if (a && a->start_ticks != ct_start_ticks(t)) {
		bpf_map_delete_elem(&ct_tasks, &tgid);
		ct_count(CT_CNT_TASK_STALE);
		return NULL;
	}
	return a;
}

static __always_inline struct ct_task_attr *ct_current_attr(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return ct_task_attr_of(t, t->tgid);
}

#endif /* CT_MAPS_BPF_H */
