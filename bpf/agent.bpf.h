/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's own process. Its writes (store, registry, blobs) and its
 * netlink requests (ruleset snapshots) are how it records changes, not
 * changes to record, and tracing them would feed on itself.
 */
#ifndef CT_AGENT_BPF_H
#define CT_AGENT_BPF_H

/* Set by the agent before load; defined in process.bpf.c. */
extern const volatile __u32 ct_agent_tgid __weak;

static __always_inline bool is_agent(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == ct_agent_tgid;
}

#endif /* CT_AGENT_BPF_H */
