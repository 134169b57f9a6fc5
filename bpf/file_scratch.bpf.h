/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every part of the file probes shares: the watch maps, the per-CPU
 * record being built, and read-only views of kernel objects.
 */
#ifndef CT_FILE_SCRATCH_BPF_H
#define CT_FILE_SCRATCH_BPF_H

#include "changetrace.h"

#define AT_FDCWD        (-100)
#define PATHS_MASK      (2 * CT_FILE_PATH_MAX - 1)
#define NAME_READ       256     /* NAME_MAX + NUL */
#define STR_MAX         CT_FILE_PATH_MAX
#define PATH_ROOM       (CT_FILE_PATH_MAX - 1)  /* longest path in a record (no NUL) */
#define NAMES_SLOTS     CT_FILE_DEPTH

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_WATCH_MAX);
	__type(key, struct ct_watch_key);
	__type(value, __u32);    /* watch index + 1 */
} ct_watch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CT_WATCH_PREFIX_MAX);
	__type(key, __u32);
	__type(value, struct ct_watch_prefix);
} ct_watch_prefix SEC(".maps");

struct resolved {
	__u32 len;               /* bytes written at start */
	__u32 watch_id;          /* +1; 0 = none */
	__u32 suffix_off;        /* CT_SUFFIX_UNKNOWN: the watch is above what was written */
	bool watched;
	bool truncated;          /* only the lower part of the path was written */
	bool unknown;            /* too deep to tell whether it is watched */
};

/*
 * State of the path walk's loops (path_walk.bpf.h). It lives in the
 * scratch map, not on the stack: the verifier follows stack values one
 * by one, and counters that run to CT_FILE_DEPTH would make it verify
 * every iteration apart; map memory it takes as any value.
 */
struct walk_ctx {
	struct dentry *dentry;
	struct mount *mnt;
	struct dentry *mnt_root;
	__u32 n;                 /* names recorded in names[] */
	__u32 depth;             /* names passed (recorded or not) */
	__s32 match_n;           /* depth when the watch matched, -1 = none */
	__u32 watch_id;
	__u8 truncated;          /* more names than names[] holds */
	__u8 done;               /* reached the root of the mount namespace */
};

struct build_ctx {
	__u32 n;                 /* names to write: names[n-1] first */
	__s32 match_n;
	__u32 start, off;
	__u32 cap;               /* bytes the path may take at start */
	__u32 suffix_off;
	__u8 truncated;          /* a name did not fit */
};

struct fit_ctx {
	__u32 n;                 /* names recorded */
	__u32 cap;
	__u32 len;               /* of the lowest `fit` names as a path */
	__u32 fit;
};

struct ct_file_scratch {
	struct ct_file_event ev;
	char spill[CT_FILE_PATH_MAX + 8]; /* masked writes near the end land here */
	struct dentry *names[NAMES_SLOTS];  /* power of 2, for masking */
	char str[STR_MAX];               /* a user path string */
	struct resolved res[2];          /* results of resolve_string_global */
	struct walk_ctx walk;
	struct build_ctx build;
	struct fit_ctx fit;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_file_scratch);
} ct_file_scratch_map SEC(".maps");

/* off & mask that the compiler cannot drop (the verifier needs to see it) */
static __always_inline __u32 masked(__u32 off, __u32 mask)
{
	asm volatile("" : "+r"(off));
	return off & mask;
}

static __always_inline struct ct_file_scratch *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ct_file_scratch_map, &zero);
}

/* Read-only view of a kernel object whose address was read as a number:
 * plain loads through it are single guarded instructions, where
 * BPF_CORE_READ costs a helper call per step. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* The struct file behind fd, as such a view (or NULL). One helper call:
 * the fd array is an array of pointers, which BTF loads cannot index. */
static __always_inline struct file *file_of_fd(int fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt;
	struct file *f = NULL;

	if (fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]) || !f)
		return NULL;
	return bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
}

#endif /* CT_FILE_SCRATCH_BPF_H */
