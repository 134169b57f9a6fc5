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

/*
 * t must be a BTF pointer (a tp_btf argument or bpf_get_current_task_btf()):
 * plain loads through it are single instructions the verifier guards,
 * where BPF_CORE_READ costs a helper call per step (~20 of them here, a
 * third of a watched open). The pid namespace needs a variable index, so
 * it keeps the helper.
 */
static __always_inline void ct_fill_task(struct ct_task *out,
					 struct task_struct *t,
					 const struct ct_task_attr *attr)
{
	const struct cred *cred = t->real_cred;
	struct nsproxy *nsp = t->nsproxy;

	out->pid = t->tgid;
	out->tid = t->pid;
	out->ppid = t->real_parent->tgid;
	out->uid = cred->uid.val;
	out->gid = cred->gid.val;
	out->euid = cred->euid.val;
	if (bpf_core_field_exists(t->loginuid))
		out->auid = t->loginuid.val;
	else
		out->auid = (__u32)-1;
	out->pid_ns = ct_pid_ns_inum(t);
	out->mnt_ns = nsp ? nsp->mnt_ns->ns.inum : 0;	/* NULL once the task exits */
	out->net_ns = nsp ? nsp->net_ns->ns.inum : 0;
	out->cgroup_id = bpf_get_current_cgroup_id();
	out->start_ns = t->group_leader->start_time;
	out->image_seq = t->self_exec_id;
	__builtin_memcpy(out->comm, t->comm, sizeof(out->comm));
	if (attr)
		out->attr = *attr;
	else
		__builtin_memset(&out->attr, 0, sizeof(out->attr));
}

#endif /* CT_TASK_BPF_H */
