// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Empty programs for tools/bench/ct_hooks.c: attached at every hook the
 * agent's object uses, they measure what any tracer on those hooks pays
 * on this kernel before doing any work (the bench's "hooks" row).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tracepoint")
int empty_tp(void *ctx)
{
	return 0;
}

SEC("raw_tp")
int empty_raw_tp(void *ctx)
{
	return 0;
}

/* the attach target is set at run time, one object per target */
SEC("tp_btf/sched_process_exit")
int empty_tp_btf(void *ctx)
{
	return 0;
}
