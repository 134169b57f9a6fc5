// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Process lineage: exec, fork and exit on the scheduler tracepoints.
 *
 * Attribution lives in ct_tasks, keyed by tgid. Fork copies an attributed
 * parent's entry to the child, so every descendant is attributed however
 * deep (fork, vfork, double fork, re-parenting to init does not matter:
 * we follow the forking task, not real_parent). Threads share their
 * process's entry. Exit of the last thread removes the entry.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"
#include "task.bpf.h"
#include "exec_guard.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the agent before load: its own tgid, so it never traces itself. */
const volatile __u32 ct_agent_tgid = 0;

/* Exec ids are unique per boot: a counter, starting above 0. */
__u64 ct_exec_seq = 0;

/* Set by the agent before load: the gid of its --group ((u32)-1: none).
 * The environment is only believed for processes whose real uid is root
 * or whose real or supplementary groups include this gid, the same rule
 * the control socket applies to tagging, so an unprivileged user cannot
 * pass a change off as part of a deploy by setting a variable. */
const volatile __u32 ct_trusted_gid = (__u32)-1;

/* Set by the agent: number of cgroup claims (0: skip the cgroup walk, the
 * common case), and the next free kernel slot for unregistered env ids. */
__u32 ct_cgroup_claims = 0;
__u64 ct_next_kslot = CT_KSLOT_FIRST;

/* Scratch for the environment scan (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[CT_ENV_SCAN_BYTES]);
} ct_env_scratch SEC(".maps");

struct env_scan {
	__u32 len;               /* valid bytes in the scratch buffer */
	__s32 pos;               /* where the variable starts, -1 if absent */
	__u32 found;
	__u32 claim;             /* enum ct_env_claim */
	struct ct_deploy_key key;
};

#define ENV_MASK (CT_ENV_SCAN_BYTES - 1)
#define EB(i) ((__u64)(unsigned char)CT_ENV_VAR[i])
/* The 8 bytes of the variable name starting at offset o, as a LE word. */
#define ENV_PAT(o) (EB(o) | EB(o + 1) << 8 | EB(o + 2) << 16 | EB(o + 3) << 24 | \
		    EB(o + 4) << 32 | EB(o + 5) << 40 | EB(o + 6) << 48 | EB(o + 7) << 56)

static __always_inline bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '/' || c == '@' || c == '+' || c == '-';
}

/* bpf_loop callback over the scratch buffer, one aligned word at a time:
 * any occurrence of the 22-byte name fully covers one aligned word, which
 * equals one of 8 patterns (one per alignment). Only a hit costs more
 * than 8 compares. */
static long env_word(__u32 idx, void *ctx)
{
	struct env_scan *s = ctx;
	__u32 zero = 0, k;
	const char *b = bpf_map_lookup_elem(&ct_env_scratch, &zero);
	__s64 p = -1;
	__u64 w;

	if (!b || idx >= CT_ENV_SCAN_BYTES / 8 || idx * 8 >= s->len)
		return 1;
	w = *(const __u64 *)(b + ((idx * 8) & ENV_MASK & ~7u));
#pragma unroll
	for (int o = 0; o < 8; o++)
		if (w == ENV_PAT(o))
			p = (__s64)idx * 8 - o;
	if (p < 0 || p + CT_ENV_VAR_LEN + 1 > s->len)
		return 0;
	if (p > 0 && b[(p - 1) & ENV_MASK] != 0)
		return 0;	/* inside another variable's value */
	for (k = 0; k < CT_ENV_VAR_LEN; k++)
		if (b[(p + k) & ENV_MASK] != CT_ENV_VAR[k])
			return 0;
	s->pos = p;
	return 1;
}

/* CHANGETRACE_DEPLOY_ID in the environment of the new image. The kernel
 * just copied the environment onto the new stack, so it is paged in. */
static __always_inline bool env_deploy_id(struct task_struct *t, struct env_scan *s)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	unsigned long start = BPF_CORE_READ(mm, env_start);
	unsigned long end = BPF_CORE_READ(mm, env_end);
	__u32 zero = 0, len, v, k;
	char *b;

	if (end <= start)
		return false;
	len = end - start > CT_ENV_SCAN_BYTES ? CT_ENV_SCAN_BYTES : end - start;
	b = bpf_map_lookup_elem(&ct_env_scratch, &zero);
	if (!b || len < CT_ENV_VAR_LEN + 2)
		return false;
	if (bpf_probe_read_user(b, len & (CT_ENV_SCAN_BYTES * 2 - 1), (void *)start)) {
		ct_count(CT_CNT_ENV_FAULT);
		return false;
	}
	s->len = len;
	s->pos = -1;
	bpf_loop(CT_ENV_SCAN_BYTES / 8, env_word, s, 0);
	if (s->pos < 0)
		return false;
	v = s->pos + CT_ENV_VAR_LEN;
	for (k = 0; k < CT_DEPLOY_ID_LEN; k++) {
		char c;

		if (v + k >= len)
			return false;	/* cut off by the scan bound */
		c = b[(v + k) & ENV_MASK];
		if (c == 0)
			break;
		/* too long, or not a valid deploy id: ignored */
		if (k == CT_DEPLOY_ID_LEN - 1 || !id_char(c))
			return false;
		s->key.id[k & (CT_DEPLOY_ID_LEN - 1)] = c;
	}
	if (k == 0)
		return false;		/* empty */
	s->found = 1;
	return true;
}

static __always_inline bool env_trusted(struct task_struct *t)
{
	const struct cred *c = BPF_CORE_READ(t, real_cred);
	struct group_info *gi;
	int n;

	if (BPF_CORE_READ(c, uid.val) == 0)
		return true;
	if (ct_trusted_gid == (__u32)-1)
		return false;
	if (BPF_CORE_READ(c, gid.val) == ct_trusted_gid)
		return true;
	gi = BPF_CORE_READ(c, group_info);
	n = BPF_CORE_READ(gi, ngroups);
	for (int i = 0; i < 32 && i < n; i++) {
		kgid_t g;

		if (bpf_core_read(&g, sizeof(g), &gi->gid[i]))
			break;
		if (g.val == ct_trusted_gid)
			return true;
	}
	return false;
}

/* Slot for an environment id; ids nobody registered get a kernel slot so
 * descendants inherit it at once (the collector names it "unregistered"). */
static __always_inline __u32 env_slot(struct env_scan *s)
{
	__u32 *v = bpf_map_lookup_elem(&ct_deploy_ids, &s->key), slot;
	__u64 next;

	if (v)
		return *v;
	next = __sync_fetch_and_add(&ct_next_kslot, 1);
	if (next >= CT_DEPLOY_SLOTS) {
		ct_count(CT_CNT_ENV_SLOTS_FULL);
		return 0;
	}
	slot = next;
	if (bpf_map_update_elem(&ct_deploy_ids, &s->key, &slot, BPF_NOEXIST) == 0)
		return slot;
	v = bpf_map_lookup_elem(&ct_deploy_ids, &s->key);	/* lost a race */
	return v ? *v : 0;
}

/* Deepest claimed cgroup among the current task's cgroup and ancestors. */
static __always_inline __u32 cgroup_slot(void)
{
	__u32 slot = 0;

	if (!ct_cgroup_claims)
		return 0;
	for (int i = 0; i < CT_CGROUP_DEPTH; i++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(i);
		__u32 *v;

		if (!id)
			break;
		v = bpf_map_lookup_elem(&ct_cgroups, &id);
		if (v)
			slot = *v;
	}
	return slot;
}

static __always_inline void read_args(struct ct_exec_event *e,
				      struct task_struct *t)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	unsigned long start = BPF_CORE_READ(mm, arg_start);
	unsigned long end = BPF_CORE_READ(mm, arg_end);
	unsigned long len = end - start;

	e->args_truncated = 0;
	if (end <= start) {
		e->args_len = 0;
		return;
	}
	if (len > CT_ARGS_LEN) {
		len = CT_ARGS_LEN;
		e->args_truncated = 1;
	}
	/* The kernel just copied argv onto the new stack, so it is paged in. */
	if (bpf_probe_read_user(e->args, len, (void *)start)) {
		ct_count(CT_CNT_ARGV_FAULT);
		e->args_len = 0;
		return;
	}
	e->args_len = len;
}

static __always_inline void walk_lineage(struct ct_exec_event *e,
					 struct task_struct *t)
{
	struct task_struct *p = BPF_CORE_READ(t, real_parent);
	__u8 n = 0;

	for (int i = 0; i < CT_LINEAGE_MAX; i++) {
		__u32 pid;

		if (!p)
			break;
		pid = BPF_CORE_READ(p, tgid);
		if (pid == 0)
			break;
		e->lineage[i].pid = pid;
		e->lineage[i].start_ns = BPF_CORE_READ(p, group_leader, start_time);
		BPF_CORE_READ_STR_INTO(&e->lineage[i].comm, p, group_leader, comm);
		n++;
		if (pid == 1)
			break;
		p = BPF_CORE_READ(p, real_parent);
	}
	e->lineage_len = n;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ct_exec, struct task_struct *t, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	struct ct_task_attr *attr, nattr = {};
	struct env_scan env = {};
	struct ct_xverdict verdict = {};
	struct ct_exec_event *e;
	int signalled = 0;
	__u64 exec_id;

	if (tgid == ct_agent_tgid)
		return 0;
	exec_id = __sync_fetch_and_add(&ct_exec_seq, 1) + 1;
	attr = ct_task_attr_of(t, tgid);
	if (attr) {
		/* An existing attribution is never shed nor replaced here. */
		attr->exec_id = exec_id;
		signalled = ct_enforce_deploy_flags(attr);
	} else {
		/* Not attributed yet: the environment first, then a cgroup claim. */
		if (env_deploy_id(t, &env) && !env_trusted(t)) {
			ct_count(CT_CNT_ENV_UNTRUSTED);
			env.found = 0;
			env.claim = CT_ENV_CLAIM_UNTRUSTED;
		}
		if (env.found && (nattr.deploy_slot = env_slot(&env))) {
			nattr.method = CT_ATTR_ENVIRONMENT;
			ct_count(CT_CNT_ATTR_ENV);
		} else if ((nattr.deploy_slot = cgroup_slot())) {
			nattr.method = CT_ATTR_CGROUP;
			ct_count(CT_CNT_ATTR_CGROUP);
		} else if (env.found) {
			/* a trusted claim the kernel had no slot for: drift, but
			 * marked, so its events (and its descendants') say so */
			nattr.deploy_slot = CT_SLOT_CLAIM_UNNAMED;
			nattr.method = CT_ATTR_ENVIRONMENT;
			env.claim = CT_ENV_CLAIM_SLOTS_FULL;
			ct_count(CT_CNT_ENV_CLAIM_MARKED);
		}
		if (nattr.deploy_slot) {
			nattr.origin_pid = tgid;
			nattr.exec_id = exec_id;
			nattr.start_ticks = ct_start_ticks(t);
			if (bpf_map_update_elem(&ct_tasks, &tgid, &nattr, BPF_ANY))
				ct_count(CT_CNT_TASK_MAP_FULL);
			attr = &nattr;
		}
	}

	/* exec rules: a match is stopped or killed here, before its first
	 * instruction, whether or not its exec record finds ring space (a
	 * claim the kernel had no slot for is drift to them too) */
	ct_exec_guard(t, bprm, attr && attr->deploy_slot != CT_SLOT_CLAIM_UNNAMED ? attr : NULL,
		      signalled, &verdict);

	ct_count(CT_CNT_SEEN_EXEC);
	e = bpf_ringbuf_reserve(&ct_bulk_rb, sizeof(*e), 0);
	if (!e) {
		ct_count(CT_CNT_DROP_EXEC);
		return 0;
	}
	e->hdr.kind = CT_KIND_EXEC;
	e->hdr.size = sizeof(*e);
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts_ns = bpf_ktime_get_ns();
	ct_fill_task(&e->task, t, attr);
	e->task.attr.exec_id = exec_id;
	e->old_pid = old_pid;
	e->guard_gen = verdict.gen;
	e->guard_rule = verdict.rule;
	e->guard_action = verdict.action;
	e->_pad = 0;
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename),
				  BPF_CORE_READ(bprm, filename));
	read_args(e, t);
	walk_lineage(e, t);
	/* the id is reported when it attributed, or when a claim was not honoured */
	__builtin_memcpy(e->env_deploy_id, env.found || env.claim ? env.key.id
				 : (char[CT_DEPLOY_ID_LEN]){}, CT_DEPLOY_ID_LEN);
	e->env_claim = env.claim;
	bpf_ringbuf_submit(e, ct_bulk_submit_flags(sizeof(*e)));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(ct_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct ct_task_attr *pattr, cattr;

	if (ctgid == ptgid)	/* a new thread shares its process's entry */
		return 0;
	pattr = ct_task_attr_of(parent, ptgid);
	if (pattr) {
		/* a halted deploy's process that forks is stopped; the child is
		 * in ct_tasks and is stopped by the collector's sweep or at exec */
		ct_enforce_deploy_flags(pattr);
		cattr = *pattr;
		cattr.inherited = 1;
		cattr.depth = pattr->depth + 1;
	} else {
		/* The child lives in the forking task's cgroup (current). */
		__builtin_memset(&cattr, 0, sizeof(cattr));
		cattr.deploy_slot = cgroup_slot();
		if (!cattr.deploy_slot)
			return 0;
		cattr.method = CT_ATTR_CGROUP;
		cattr.origin_pid = ctgid;
		ct_count(CT_CNT_ATTR_CGROUP);
	}
	cattr.start_ticks = ct_start_ticks(child);
	if (bpf_map_update_elem(&ct_tasks, &ctgid, &cattr, BPF_ANY))
		ct_count(CT_CNT_TASK_MAP_FULL);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ct_exit, struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	struct ct_task_attr *attr;
	struct ct_exit_event *e;
	int code;

	/* Only the last thread of a group ends the process. */
	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return 0;
	if (tgid == ct_agent_tgid)
		return 0;
	attr = ct_task_attr_of(t, tgid);

	ct_count(CT_CNT_SEEN_EXIT);
	e = bpf_ringbuf_reserve(&ct_bulk_rb, sizeof(*e), 0);
	if (!e) {
		ct_count(CT_CNT_DROP_EXIT);
	} else {
		e->hdr.kind = CT_KIND_EXIT;
		e->hdr.size = sizeof(*e);
		e->hdr.cpu = bpf_get_smp_processor_id();
		e->hdr.ts_ns = bpf_ktime_get_ns();
		ct_fill_task(&e->task, t, attr);
		code = BPF_CORE_READ(t, signal, group_exit_code);
		if (!code)
			code = BPF_CORE_READ(t, exit_code);
		e->exit_code = (code >> 8) & 0xff;
		e->signal = code & 0x7f;
		bpf_ringbuf_submit(e, ct_bulk_submit_flags(sizeof(*e)));
	}
	if (attr)
		bpf_map_delete_elem(&ct_tasks, &tgid);
	return 0;
}
