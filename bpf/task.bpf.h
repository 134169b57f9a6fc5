/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Filling struct ct_task from a task_struct, shared by every probe. */
#ifndef CT_TASK_BPF_H
#define CT_TASK_BPF_H

#include "changetrace.h"

static __always_inline __u32 ct_pid_ns_inum(struct task_struct *t)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);

	return BPF_CORE_READ(pid, numbers[level].ns, ns.inum);
}

static __always_inline void ct_fill_task(struct ct_task *out,
					 struct task_struct *t,
					 const struct ct_task_attr *attr)
{
	const struct cred *cred = BPF_CORE_READ(t, real_cred);

	out->pid = BPF_CORE_READ(t, tgid);
	out->tid = BPF_CORE_READ(t, pid);
	out->ppid = BPF_CORE_READ(t, real_parent, tgid);
	out->uid = BPF_CORE_READ(cred, uid.val);
	out->gid = BPF_CORE_READ(cred, gid.val);
	out->euid = BPF_CORE_READ(cred, euid.val);
	if (bpf_core_field_exists(t->loginuid))
		out->auid = BPF_CORE_READ(t, loginuid.val);
	else
		out->auid = (__u32)-1;
	out->pid_ns = ct_pid_ns_inum(t);
	out->mnt_ns = BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum);
	out->net_ns = BPF_CORE_READ(t, nsproxy, net_ns, ns.inum);
	out->cgroup_id = bpf_get_current_cgroup_id();
	out->start_ns = BPF_CORE_READ(t, group_leader, start_time);
	BPF_CORE_READ_STR_INTO(&out->comm, t, comm);
	if (attr)
		out->attr = *attr;
	else
		__builtin_memset(&out->attr, 0, sizeof(out->attr));
}

#endif /* CT_TASK_BPF_H */
