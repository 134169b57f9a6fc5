/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Files open for write on a watched path: the kernel's side of following
 * one from its open to its close, through its writes.
 */
#ifndef CT_OPEN_FILES_BPF_H
#define CT_OPEN_FILES_BPF_H

#include "file_scratch.bpf.h"

/*
 * Files open for write on a watched path (struct file address). A plain
 * hash: an LRU update cost twice as much (its free-list pop was the
 * largest single cost of a watched open), and LRU eviction took live
 * entries, writes counted nowhere. Entries go at close(2); those closed
 * another way (exit, dup2 over the fd) are reused with the address or
 * swept by the collector (user/collector/file_sweep.c); a full map is
 * counted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_WFILES_MAX);
	__type(key, __u64);
	__type(value, struct ct_wfile);
} ct_wfiles SEC(".maps");

/* (process, fd) -> the ct_wfiles file it holds (struct ct_wfd). As large
 * as ct_wfiles: one entry per tracked open. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_WFILES_MAX);
	__type(key, struct ct_wfd_key);
	__type(value, struct ct_wfd);
} ct_wfds SEC(".maps");

/*
 * Processes that opened a watched file for write: the only ones whose
 * write() and close() are looked at. Task storage on the thread-group
 * leader: every write and close on the host asks, and for a process that
 * never wrote a watched file the answer is a pointer test (a hash lookup
 * by tgid cost ~40 ns there); the mark goes with the process, never
 * evicted while it lives (an LRU of tgids lost writers past its size).
 */
struct ct_writer {
	/*
	 * A reopen folded into a burst (a tool rewriting a file in a loop)
	 * is followed here, not in ct_wfiles: its write() and close() find
	 * it without a hash lookup, and it costs no map update and delete
	 * per loop. One per process at a time (claimed by compare-and-swap;
	 * a second one goes to ct_wfiles). An address left here by a file
	 * closed without close(2) is taken back by the next open there.
	 */
	__u64 burst_file;        /* struct file address, 0 = free */
	__u32 burst_writes;
	__u32 burst_slot;        /* deploy slot at open: names its burst */
	__s32 burst_fd;          /* its fd: close(2) is seen after the fd is gone */
	__u32 burst_dev;         /* its inode, for the burst at close (the */
	__u64 burst_ino;         /*   struct file may be freed by then) */
	__u32 sysctl;            /* has opened a /proc/sys file for write: its
				  * refused writes are looked at too */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ct_writer);
} ct_writers SEC(".maps");

static __always_inline struct ct_writer *writer_of_current(__u64 flags)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return bpf_task_storage_get(&ct_writers, t->group_leader, 0, flags);
}

/* Follow an open file's writes and close; its process joins the writers
 * whose write() and close() are looked at. */
static __always_inline void track_wfile(__u64 key, const struct ct_wfile *wf,
					const struct ct_wfd_key *fk, const struct ct_wfd *fd)
{
	struct ct_writer *w = writer_of_current(BPF_LOCAL_STORAGE_GET_F_CREATE);
	__u64 was;

	if (!w) {
		ct_count(CT_CNT_FILE_TRACK_FULL);	/* no memory: its writes go uncounted */
		return;
	}
	/* a folded open left behind (closed at exit or by dup2) at this
	 * address, or at this fd: a close of the fd now is this file's */
	was = w->burst_file;
	if (was && (was == key || w->burst_fd == fk->fd))
		__sync_val_compare_and_swap(&w->burst_file, was, 0);
	if (wf->sysctl)
		w->sysctl = 1;
	if (bpf_map_update_elem(&ct_wfiles, &key, wf, BPF_ANY) ||
	    bpf_map_update_elem(&ct_wfds, fk, fd, BPF_ANY))
		ct_count(CT_CNT_FILE_TRACK_FULL);
}

/* Older kernels count struct file references in f_count. */
struct file___old {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/*
 * After close(2): did it drop the file's last reference (no dup'd fd, no
 * fork sharing it)? close(2) frees the file before it returns (older
 * kernels drop the count and free it on the way back to user space, after
 * this tracepoint), so the count reads as released. The memory stays a
 * struct file (its cache is type-safe by RCU): a file reallocated there
 * meanwhile reads as referenced, and the collector finds it closed later
 * from /proc, a late report, never a wrong one.
 */
static __always_inline bool released(__u64 key)
{
	struct file *f = bpf_rdonly_cast((void *)key, bpf_core_type_id_kernel(struct file));

	if (bpf_core_field_exists(f->f_ref))
		/* file_ref_t: 0 is one reference; negative once released */
		return f->f_ref.refcnt.counter < 0;
	return BPF_CORE_READ((struct file___old *)f, f_count.counter) <= 0;
}

/* ---- a close(2) that left the file open through another fd */

#define FD_SCAN_MAX 1024

struct fd_scan {
	__u64 fds;               /* the fd table's array of struct file pointers */
	__u64 file;
	__u32 max;
	__s32 found;
};

static long fd_scan_step(__u32 i, struct fd_scan *sc)
{
	__u64 f = 0;

	if (i >= sc->max)
		return 1;
	bpf_probe_read_kernel(&f, sizeof(f), (void *)(sc->fds + i * sizeof(f)));
	if (f == sc->file) {
		sc->found = i;
		return 1;
	}
	return 0;
}

/*
 * The lowest other fd of this process that holds the file (a dup: shell
 * redirections, daemons that move their config fd), or -1. Its close is
 * then this file's: the fd it was opened at is gone from the table. Only on
 * a close(2) that was not the last reference, so the scan is rare; an fd
 * held by another process (fork) is not followed, and that file is found
 * closed by the collector.
 */
static __always_inline int other_fd_of(__u64 file)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt;
	struct fd_scan sc = {
		.fds = (__u64)fdt->fd, .file = file, .max = fdt->max_fds, .found = -1,
	};

	bpf_loop(FD_SCAN_MAX, fd_scan_step, &sc, 0);
	return sc.found;
}


#endif /* CT_OPEN_FILES_BPF_H */
