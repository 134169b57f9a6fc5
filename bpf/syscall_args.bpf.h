/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Syscall arguments at sys_exit, from the registers the entry saved.
 *
 * Every probe runs at exit only: with no program on any sys_enter_*
 * tracepoint the kernel's sys_enter tracepoint stays off, so no syscall on
 * the host pays for that direction (measured: ~3-4% of a syscall that no
 * program watches, see docs/performance.md). The saved registers are the
 * caller's and a syscall does not change them (only the return register).
 */
#ifndef CT_SYSCALL_ARGS_BPF_H
#define CT_SYSCALL_ARGS_BPF_H

#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* Syscall argument n (0-based). */
static __always_inline unsigned long ct_sc_arg(int n)
{
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	switch (n) {
	case 0: return PT_REGS_PARM1_CORE_SYSCALL(r);
	case 1: return PT_REGS_PARM2_CORE_SYSCALL(r);
	case 2: return PT_REGS_PARM3_CORE_SYSCALL(r);
	case 3: return PT_REGS_PARM4_CORE_SYSCALL(r);
	default: return PT_REGS_PARM5_CORE_SYSCALL(r);
	}
}

#endif /* CT_SYSCALL_ARGS_BPF_H */
